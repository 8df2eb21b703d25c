//! Format + roster → one Excel workbook per unit. The only user of rust_xlsxwriter.
//!
//! Each workbook has a cover sheet (the unit, locked; contact fields; instructions), one
//! sheet per table laid out like the official table, a sheet for the text sections, and a
//! hidden identity sheet. Input cells start at 0, are unlocked and validated; totals are
//! formulas; table 三 has a live 通过/不通过 check. Every sheet of ours carries hidden keys
//! in column A (see [`crate::layout`] and README.md, "隐藏标识") so that a returned workbook can be
//! read back with certainty even after rows are inserted or sheets reordered.
//!
//! `template` makes a roster's workbooks by stamping: one master workbook per kind of
//! unit, with placeholders for the unit's values, copied for each unit with only the
//! parts that name it rewritten (`stamp.rs`); the same workbook as building it whole,
//! part for part, at a tenth of the cost.
//!
//! The same writer makes correction workbooks ([`correction_workbook`]: a rejected unit's
//! report with its problems marked and listed, read back like any template), the
//! roll-up in the official layout ([`rollup_workbook`]), and the coordinator's two lists:
//! every unit as one row with its values ([`DetailsWorkbook`]) and who is still to be
//! chased ([`chase_workbook`]).

mod chase;
mod corrections;
mod cover_sheet;
mod details;
mod distribute;
mod findings_sheet;

mod rollup;
mod sheets;
mod stamp;
mod table_sheet;
mod text_sheet;

pub use chase::{chase_workbook, ChaseGroup, ChaseList, ChaseUnit};
pub use corrections::{correction_workbook, Returned};
pub use details::{
    DetailRow, DetailsWorkbook, DETAILS_FIXED, DETAILS_HEADER_ROWS, DETAILS_NAME, DETAILS_SHEET,
};
pub use distribute::{
    blank_file_name, emit, left_over, ByParent, Distributed, Distribution, Emitted, LIST_CSV,
    LIST_XLSX,
};
pub use findings_sheet::FINDINGS_SHEET;
pub use rollup::{rollup_sheet_names, rollup_workbook, RollupSheet};

use std::collections::BTreeMap;
use std::path::Path;

use crate::format::{Format, Key};
use crate::identity::Handback;
use crate::model::{Finding, Level};
use crate::roster::{Roster, Unit};

/// Who a workbook is for. Empty fields make a blank workbook the clerk completes.
#[derive(Debug, Clone, Default)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub parent_code: String,
    pub parent_name: String,
    pub level: String,
}

impl UnitInfo {
    pub fn from_roster(roster: &Roster, unit: &Unit) -> UnitInfo {
        let parent = unit.parent.as_ref().and_then(|p| roster.get(p));
        UnitInfo {
            code: unit.code.to_string(),
            name: unit.name.clone(),
            parent_code: unit
                .parent
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            parent_name: parent.map(|p| p.name.clone()).unwrap_or_default(),
            level: unit.level.clone(),
        }
    }

    pub fn is_blank(&self) -> bool {
        self.code.is_empty()
    }
}

/// Values to write into a workbook instead of the template's zeros: used to produce
/// filled workbooks (samples, `fill`) and correction workbooks.
#[derive(Debug, Clone, Default)]
pub struct Prefill {
    /// Numeric values by key; a key left out starts at 0.
    pub values: BTreeMap<Key, f64>,
    /// Text sections by section code.
    pub texts: BTreeMap<String, String>,
    /// Cover fields by code (`filler`, `phone`, `date`, `head`).
    pub cover: BTreeMap<String, String>,
    /// Text typed into a numeric cell, kept as the clerk wrote it (`"１２"`, `"无"`; an
    /// empty string leaves the cell blank). Wins over `values`.
    pub raw: BTreeMap<Key, String>,
    /// Cells to draw the clerk's attention to (correction workbooks): filled in the
    /// colour of the level ([`ERROR_FILL`], [`WARNING_FILL`]) and carrying the text as a
    /// note.
    pub notes: BTreeMap<Key, CellNote>,
    /// When not empty, a first sheet [`FINDINGS_SHEET`] lists these, and the workbook
    /// opens on it. Their `sheet` and `cell` are shown as they are: they should name
    /// cells of this workbook (see [`correction_workbook`]).
    pub findings: Vec<Finding>,
    /// The file the findings were found in, named on the list sheet.
    pub findings_file: String,
    /// A sentence the list sheet shows before everything else (empty: none): what of
    /// the unit's report could not be put back into this workbook.
    pub notice: String,
}

/// The most a cell of a workbook can hold, in UTF-16 units (Excel's limit; the writer
/// refuses more).
pub const CELL_TEXT_LIMIT: usize = 32_767;

/// A text as a cell can hold it: unchanged when it fits [`CELL_TEXT_LIMIT`], else cut
/// and ending with a note that says so and how long the original was. Every text that
/// goes back into a workbook passes through this (a section pasted in full from a long
/// document, which LibreOffice keeps in an .ods, would otherwise stop the batch while its
/// correction workbook is written). `None` when nothing was cut.
pub fn fit_cell(text: &str) -> Option<String> {
    if utf16_len(text) <= CELL_TEXT_LIMIT {
        return None;
    }
    let note = format!(
        "……（原文共 {} 字，超过 Excel 单元格 {CELL_TEXT_LIMIT} 字的上限，以下已删去，完整内容见报送的原文件）",
        text.chars().count()
    );
    let room = CELL_TEXT_LIMIT - utf16_len(&note);
    let mut used = 0;
    let cut = text
        .char_indices()
        .find(|(_, c)| {
            used += c.len_utf16();
            used > room
        })
        .map_or(text.len(), |(i, _)| i);
    Some(format!("{}{note}", &text[..cut]))
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// A note on a cell and how serious it is (the cell's fill).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellNote {
    pub level: Level,
    pub text: String,
}

/// The fill of a cell with an error in a correction workbook (light red).
pub const ERROR_FILL: u32 = 0xFF9F9F;
/// The fill of a cell with a warning in a correction workbook (light orange).
pub const WARNING_FILL: u32 = 0xFFCC80;

/// A failure to produce a template; names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("生成工作簿 {file} 失败：{source}")]
    Xlsx {
        file: String,
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("写入 {path} 失败：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "报告年度 {year} 不在 {}–{} 之间：这样的工作簿交回时会被退回（ID-2）",
        crate::model::REPORT_YEARS.start(),
        crate::model::REPORT_YEARS.end()
    )]
    Year { year: i32 },
}

/// Refuses a year the reader would refuse ([`crate::model::REPORT_YEARS`]): no workbook
/// is made that could only come back rejected.
pub fn check_year(year: i32) -> Result<(), TemplateError> {
    if crate::model::REPORT_YEARS.contains(&year) {
        Ok(())
    } else {
        Err(TemplateError::Year { year })
    }
}

/// Builds one workbook in memory.
pub fn workbook_bytes(
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
) -> Result<Vec<u8>, TemplateError> {
    workbook_bytes_handed(format, year, unit, prefill, &Handback::default())
}

/// [`workbook_bytes`] for a template that says when and to whom it goes back (what
/// `template --deadline --contact` writes).
pub fn workbook_bytes_handed(
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
    handback: &Handback,
) -> Result<Vec<u8>, TemplateError> {
    let prepared = prepare(format, handback, unit)?;
    build(&prepared, year, unit, prefill)
}

/// What every workbook of `format` shares, handed back as `handback` says; `unit`
/// names the file in an error.
fn prepare<'f>(
    format: &'f Format,
    handback: &Handback,
    unit: &UnitInfo,
) -> Result<sheets::Prepared<'f>, TemplateError> {
    sheets::Prepared::new(format, handback).map_err(|source| TemplateError::Xlsx {
        file: unit.name.clone(),
        source,
    })
}

/// [`workbook_bytes`] from what the workbooks of a format share, made once.
fn build(
    prepared: &sheets::Prepared<'_>,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
) -> Result<Vec<u8>, TemplateError> {
    sheets::build(prepared, year, unit, prefill).map_err(|source| TemplateError::Xlsx {
        file: unit.name.clone(),
        source,
    })
}

/// `<code>_<name>_<year>.xlsx`, safe on Windows whatever the unit's name: no path
/// separators, reserved characters or reserved device names, and not too long.
pub fn file_name(code: &str, name: &str, year: i32) -> String {
    format!("{}.xlsx", safe_stem(code, name, Some(year)))
}

/// `<code>_<name>`, the folder (or `.zip`) of a parent unit's templates
/// (`template --by-parent`), safe on Windows as [`file_name`] is.
pub fn folder_name(code: &str, name: &str) -> String {
    safe_stem(code, name, None)
}

/// `<code>_<name>[_<year>]` with the name's blanks dropped, at most 60 of its
/// characters kept, and whatever Windows refuses in a name replaced.
fn safe_stem(code: &str, name: &str, year: Option<i32>) -> String {
    let name: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(60)
        .collect();
    let stem = match year {
        Some(year) => format!("{code}_{name}_{year}"),
        None => format!("{code}_{name}"),
    };
    let options = sanitize_filename::Options {
        windows: true,
        truncate: true,
        replacement: "_",
    };
    let safe = sanitize_filename::sanitize_with_options(stem, options);
    // `..` survives sanitising; a name made only of dots is no name.
    safe.replace("..", "_")
}

/// [`crate::output::write_atomic`], with the path in the error a clerk reads.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TemplateError> {
    crate::output::write_atomic(path, bytes).map_err(|source| TemplateError::Io {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_to_what_a_cell_holds_and_say_so() {
        assert_eq!(fit_cell("短文字"), None);
        assert_eq!(fit_cell(&"字".repeat(CELL_TEXT_LIMIT)), None);
        for unit in ["字", "a", "😀"] {
            let long = unit.repeat(40_000);
            let cut = fit_cell(&long).unwrap();
            assert!(utf16_len(&cut) <= CELL_TEXT_LIMIT, "{unit}");
            assert!(utf16_len(&cut) > CELL_TEXT_LIMIT - 200, "{unit}");
            assert!(cut.starts_with(unit) && cut.contains("原文共 40000 字"));
        }
    }

    #[test]
    fn file_names_are_safe_and_readable() {
        assert_eq!(
            file_name("231083101", "山市镇人民政府", 2020),
            "231083101_山市镇人民政府_2020.xlsx"
        );
        for name in [
            "../../x",
            "a/b\\c",
            "<script>",
            "CON",
            "a:b*c?d\"e|f",
            "  空 格  ",
            "....",
        ] {
            let f = file_name("001", name, 2024);
            assert!(
                !f.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']),
                "{f}"
            );
            assert!(!f.contains(".."), "{f}");
            assert!(f.starts_with("001_") && f.ends_with("_2024.xlsx"), "{f}");
        }
        let long = "很".repeat(300);
        assert!(file_name("1", &long, 2024).chars().count() < 80);
    }
}
