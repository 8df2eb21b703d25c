//! Small types shared by every stage: unit codes and findings.
//!
//! A finding is a value, never an early return: stages collect them and the batch always
//! finishes. Everything a clerk reads (message, hint) is Chinese; the codes are stable.

use std::fmt;

use serde::Serialize;

/// A unit's code as written on the roster (e.g. `231083101`). Compared exactly, after
/// trimming, because codes are identifiers, not numbers (leading zeros matter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnitCode(String);

impl UnitCode {
    /// Trims surrounding whitespace; returns `None` for an empty code.
    pub fn new(code: &str) -> Option<UnitCode> {
        let code = code.trim();
        (!code.is_empty()).then(|| UnitCode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How serious a finding is. Ordered from most to least serious so that sorting findings
/// puts errors first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The unit must correct it; the submission is rejected.
    Error,
    /// Accepted, but reported.
    Warning,
    /// The tool normalised what was typed (e.g. full-width digits) and recorded it.
    Fixed,
}

impl Level {
    /// The stable code used in CSV and JSON outputs.
    pub fn code(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Fixed => "fixed",
        }
    }

    /// The word a clerk reads.
    pub fn chinese(self) -> &'static str {
        match self {
            Level::Error => "错误",
            Level::Warning => "警告",
            Level::Fixed => "已修正",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "fixed" => Some(Level::Fixed),
            _ => None,
        }
    }
}
