//! Small types shared by every stage: unit codes, value keys, findings, number text.
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

/// The identity of one numeric value in a report: `table.row.column` for a table cell
/// (`t3.new.total`), or a field code for a numeric field outside the tables (`fee_cases`).
/// Stable across years and formats wherever the official meaning is the same, so that
/// last year's values can be compared with this year's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(String);

impl Key {
    pub fn cell(table: &str, row: &str, col: &str) -> Key {
        Key(format!("{table}.{row}.{col}"))
    }

    pub fn field(code: &str) -> Key {
        Key(code.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses a key as written in templates' hidden cells and in CSV outputs.
    pub fn from_string(s: &str) -> Key {
        Key(s.trim().to_string())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a value was found: the sheet's name as the clerk sees it and the A1 cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub sheet: String,
    pub at: crate::cell::CellRef,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}!{}", self.sheet, self.at)
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
    pub keys: Vec<Key>,
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

/// A number as a clerk writes it and reads it back: `12`, `-3`, `7730.28` (at most four
/// decimals, no trailing zeros, no exponent). The one number → text rule of every output:
/// findings, CSVs, reports, workbooks.
pub fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
