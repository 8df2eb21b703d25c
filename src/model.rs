//! Small types shared by every stage: unit codes and findings.
//!
//! A finding is a value, never an early return: stages collect them and the batch always
//! finishes. Everything a clerk reads (message, hint) is Chinese; the codes are stable.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A unit's code as written on the roster (e.g. `231083101`). Compared exactly, after
/// trimming, because codes are identifiers, not numbers (leading zeros matter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// One problem (or fix) in one unit's workbook, located so a clerk can act on it.
/// `cell` is an A1 address in the unit's own workbook; a rule spanning cells names them
/// all (`C8+C9 ≠ C29+C30`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    pub rule: String,
    pub unit_code: String,
    pub unit_name: String,
    pub file: String,
    pub sheet: String,
    pub cell: String,
    pub message: String,
    pub found: String,
    pub expected: String,
    pub hint: String,
    /// The report values the finding is about (`t3.new.natural`), so that a correction
    /// workbook can mark the same cells in a fresh template.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<crate::format::Key>,
}

impl Finding {
    /// A finding about the file as a whole (no sheet or cell).
    pub fn file_level(
        level: Level,
        rule: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Finding {
        Finding {
            level,
            rule: rule.to_string(),
            unit_code: String::new(),
            unit_name: String::new(),
            file: String::new(),
            sheet: String::new(),
            cell: String::new(),
            message: message.into(),
            found: String::new(),
            expected: String::new(),
            hint: hint.into(),
            keys: Vec::new(),
        }
    }

    /// The order findings are listed in: most serious first, then by place.
    pub fn sort_key(&self) -> (Level, &str, &str, &str, &str) {
        (
            self.level,
            self.sheet.as_str(),
            &self.cell,
            &self.rule,
            &self.message,
        )
    }
}

/// Rule ids of findings that are about the workbook, not about the report's numbers
/// (those come from the format definition).
pub mod rule_ids {
    /// The file cannot be read as a workbook.
    pub const UNREADABLE: &str = "F-1";
    /// The workbook is not one of ours and its tables cannot be found.
    pub const NOT_A_REPORT: &str = "F-2";
    /// A cell, row, column or sheet cannot be located with certainty.
    pub const LOCATE: &str = "L-1";
    /// The unit code is missing or malformed.
    pub const UNIT: &str = "ID-1";
    /// The report year is missing or implausible.
    pub const YEAR: &str = "ID-2";
    /// A value typed in the workbook was normalised (full-width digits, blanks…).
    pub const NORMALISED: &str = "N-1";
}
