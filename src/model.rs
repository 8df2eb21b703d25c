//! Small types shared by every stage: unit codes, value keys, findings, number text.
//!
//! A finding is a value, never an early return: stages collect them and the batch always
//! finishes. Everything a clerk reads (message, hint) is Chinese; the codes are stable.
//! Where a finding is ([`Spot`]) and what it is about ([`LabelPath`]) are data; the texts
//! every output shows are rendered from them here, by [`Finding::cell_text`],
//! [`Finding::found_text`], [`Finding::expected_text`] and [`Finding::place_text`].

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cell::CellRef;

/// A unit's code as written on the roster (e.g. `231083101`). Compared exactly, after
/// trimming, because codes are identifiers, not numbers (leading zeros matter).
///
/// **The one definition of a valid code**, applied when the roster is read and when a
/// workbook is read: after trimming, 1 to [`UnitCode::MAX_LEN`] printable ASCII
/// characters (letters, digits and punctuation such as `-`, `_`, `.`; no spaces, no
/// Chinese or full-width characters, no control characters). A roster can hold no code
/// that a returned workbook would be refused for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitCode(String);

/// Why a text is not a unit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeProblem {
    /// Nothing but blanks.
    Empty,
    /// Characters outside the definition, or too long.
    Malformed,
    /// A number in scientific notation (`2.31083E+11`): what Excel shows, and saves to
    /// CSV, for a long numeric code in a cell formatted as a number. The real code is
    /// lost; no valid code looks like this.
    Scientific,
}

impl UnitCode {
    /// The longest code accepted, in characters.
    pub const MAX_LEN: usize = 64;

    /// What a valid code is, in the words a clerk reads.
    pub const RULE: &'static str =
        "由字母、数字和 - _ . 等半角符号组成（不含空格、汉字、全角字符），不超过 64 个字符";

    /// Checks a code against the definition (after trimming surrounding whitespace).
    pub fn parse(code: &str) -> Result<UnitCode, CodeProblem> {
        let code = code.trim();
        if code.is_empty() {
            return Err(CodeProblem::Empty);
        }
        if is_scientific(code) {
            return Err(CodeProblem::Scientific);
        }
        let valid =
            code.chars().count() <= UnitCode::MAX_LEN && code.chars().all(|c| c.is_ascii_graphic());
        if !valid {
            return Err(CodeProblem::Malformed);
        }
        Ok(UnitCode(code.to_string()))
    }

    /// [`UnitCode::parse`], for a lookup: `None` for an empty or malformed code.
    pub fn new(code: &str) -> Option<UnitCode> {
        UnitCode::parse(code).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `2.31083E+11`, `1E+15`: digits, an optional fraction, `E+` and an exponent.
fn is_scientific(code: &str) -> bool {
    let Some((mantissa, exponent)) = code.split_once(['E', 'e']) else {
        return false;
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(frac) && exponent.strip_prefix('+').is_some_and(digits)
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
    pub at: CellRef,
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
    /// Worth knowing, nothing to correct: counts neither as an error nor as a warning
    /// and never changes a file's status (a return saved after the deadline).
    Info,
}

impl Level {
    /// The stable code used in CSV and JSON outputs.
    pub fn code(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Fixed => "fixed",
            Level::Info => "info",
        }
    }

    /// The word a clerk reads.
    pub fn chinese(self) -> &'static str {
        match self {
            Level::Error => "错误",
            Level::Warning => "警告",
            Level::Fixed => "已修正",
            Level::Info => "信息",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "fixed" => Some(Level::Fixed),
            "info" => Some(Level::Info),
            _ => None,
        }
    }
}

/// One problem (or fix) in one unit's workbook, located so a clerk can act on it.
///
/// Where it is ([`Finding::spot`]) and what it is about ([`Finding::about`]) are kept as
/// data, and rendered to text only at the edges (terminal, JSON lines, diagnostics.csv,
/// correction workbooks) by [`Finding::cell_text`], [`Finding::found_text`] and
/// [`Finding::expected_text`]: a correction workbook moves a finding to the cells of a
/// fresh template by its keys, without reading addresses back out of text, and a
/// document without cells can name the same finding in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    pub rule: String,
    pub unit_code: String,
    pub unit_name: String,
    pub file: String,
    /// The sheet it is on (empty: the file as a whole, or no sheet could be found).
    pub sheet: String,
    /// Where on `sheet`: its cells, or the equation it breaks.
    #[serde(default)]
    pub spot: Spot,
    /// What it is about in the format's words (表三「（七）总计」行「自然人」列), where
    /// known: how a report without cells (Word, HTML) names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<LabelPath>,
    pub message: String,
    /// The value found, as text (`5`, or what the clerk typed). A comparison's cells are
    /// not part of it: [`Finding::found_text`] adds them.
    pub found: String,
    /// The value expected (`= 3`, `不超过 100000`). As with `found`, without cells.
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
            spot: Spot::None,
            about: None,
            message: message.into(),
            found: String::new(),
            expected: String::new(),
            hint: hint.into(),
            keys: Vec::new(),
        }
    }

    /// The cells as a clerk reads them on [`Finding::sheet`]: `C12`, `E8+E9 ≠ E29+E30`,
    /// `第 12 行`, or in a report without cells its labels (`表三「（七）总计」行「自然人」列`,
    /// `「一、总体情况」`); empty for a finding about the file or a whole sheet. The `cell`
    /// column of diagnostics.csv and of `check`'s output.
    pub fn cell_text(&self) -> String {
        match (&self.spot, &self.about) {
            (Spot::Labels, Some(about)) => about.text(),
            (spot, _) => spot.text(),
        }
    }

    /// What was found, with the cells it was added up from for a comparison:
    /// `5（E8+E9）`.
    pub fn found_text(&self) -> String {
        match &self.spot {
            Spot::Compare {
                lhs, total: false, ..
            } => format!("{}（{}）", self.found, operands_text(lhs)),
            _ => self.found.clone(),
        }
    }

    /// What was expected, with the cells it was added up from for a comparison:
    /// `= 3（E29+E30）`; for a total, `3（E8+E9）`.
    pub fn expected_text(&self) -> String {
        match &self.spot {
            Spot::Compare { rhs, .. } => format!("{}（{}）", self.expected, operands_text(rhs)),
            _ => self.expected.clone(),
        }
    }

    /// Sheet and cells together: `表三 依申请公开!E8+E9 ≠ E29+E30`, or whichever of the
    /// two there is; empty for a finding about the file.
    pub fn place_text(&self) -> String {
        match (self.sheet.as_str(), self.cell_text()) {
            (sheet, cell) if cell.is_empty() => sheet.to_string(),
            ("", cell) => cell,
            (sheet, cell) => format!("{sheet}!{cell}"),
        }
    }

    /// Where it is in words, with the row number of the clerk's workbook where the
    /// finding is on one row: `表三 第 8 行「一、本年新收政府信息…」「自然人」列`;
    /// `表三「自然人」列` for a column; empty when the format's words are not known.
    /// Shown beside the A1 address wherever people read findings.
    pub fn about_text(&self) -> String {
        let Some(about) = &self.about else {
            return String::new();
        };
        let row = self.spot.single_row();
        if about.table.is_empty() || row.is_none() || about.row.is_empty() {
            return about.text();
        }
        let mut s = about.table.clone();
        if let Some(row) = row {
            s.push_str(&format!(" 第 {} 行", u64::from(row) + 1));
        }
        s.push_str(&format!("「{}」", short_label(&about.row)));
        if !about.column.is_empty() {
            s.push_str(&format!("「{}」列", about.column));
        }
        s
    }

    /// The order findings are listed in: most serious first, then by place.
    pub fn sort_key(&self) -> (Level, &str, String, &str, &str) {
        (
            self.level,
            self.sheet.as_str(),
            self.cell_text(),
            &self.rule,
            &self.message,
        )
    }
}

/// Where on its sheet a finding is. Kept as data (cells with the keys of the values they
/// hold) rather than as the text a clerk reads, so that the finding can be moved to the
/// cells of another workbook by its keys, and rendered in words where there are no cells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Spot {
    /// Nowhere in particular: the file, or a whole sheet.
    #[default]
    None,
    /// A row (zero-based), where only the row is known (a column of it is missing).
    Row { row: u32 },
    /// One or more cells: a value that is wrong, or where something is missing. Several
    /// cells are listed with `、`.
    Cells { cells: Vec<SpotCell> },
    /// An equation or inequality that does not hold: `lhs op rhs`, each side a sum.
    Compare {
        lhs: Vec<Operand>,
        /// The relation that holds instead, as a clerk reads it: `≠` (an equation) or
        /// `>` (a `<=` inequality).
        op: String,
        rhs: Vec<Operand>,
        /// A total and its parts (`lhs` is the total alone): what was found is the total
        /// as typed, so only the parts are named beside what was expected.
        total: bool,
    },
    /// In a report without cells (a Word document, a web page): named by the finding's
    /// [`Finding::about`], the table, row and column labels or the text section.
    Labels,
}

impl Spot {
    /// One cell holding a report value.
    pub fn cell(key: Option<Key>, at: CellRef) -> Spot {
        Spot::Cells {
            cells: vec![SpotCell {
                key,
                sheet: None,
                at,
            }],
        }
    }

    /// The one row of the sheet the spot is on, if it is on one (a cell, cells of one
    /// row, a comparison within one row).
    pub fn single_row(&self) -> Option<u32> {
        let rows: Vec<u32> = match self {
            Spot::None | Spot::Labels => return None,
            Spot::Row { row } => return Some(*row),
            Spot::Cells { cells } => cells
                .iter()
                .filter(|c| c.sheet.is_none())
                .map(|c| c.at.row)
                .collect(),
            Spot::Compare { lhs, rhs, .. } => lhs
                .iter()
                .chain(rhs)
                .map(|o| match o {
                    Operand::Cell {
                        sheet: None, at, ..
                    } => Some(at.row),
                    _ => None,
                })
                .collect::<Option<Vec<u32>>>()?,
        };
        let first = *rows.first()?;
        rows.iter().all(|r| *r == first).then_some(first)
    }

    /// The spot as a clerk reads it: `C12`, `C12、C13`, `E8+E9 ≠ E29+E30`, `第 12 行`.
    pub fn text(&self) -> String {
        match self {
            Spot::None | Spot::Labels => String::new(),
            Spot::Row { row } => format!("第 {} 行", u64::from(*row) + 1),
            Spot::Cells { cells } => cells
                .iter()
                .map(SpotCell::text)
                .collect::<Vec<_>>()
                .join("、"),
            Spot::Compare { lhs, op, rhs, .. } => {
                format!("{} {op} {}", operands_text(lhs), operands_text(rhs))
            }
        }
    }
}

/// A cell a finding names, on the finding's sheet unless `sheet` says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotCell {
    /// The report value the cell holds, if it holds one: how the same cell is found in
    /// another workbook. `None` for a cell that only marks a place (where a table starts,
    /// a text section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
    /// The cell's sheet when it is not the finding's own (then written `文字部分!C5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    pub at: CellRef,
}

impl SpotCell {
    /// `C5`, or `文字部分!C5` for a cell on another sheet than the finding's.
    pub fn text(&self) -> String {
        address(self.sheet.as_deref(), self.at)
    }
}

fn address(sheet: Option<&str>, at: CellRef) -> String {
    match sheet {
        Some(sheet) => format!("{sheet}!{at}"),
        None => at.to_string(),
    }
}

/// One term of a comparison's sum. This year's values are named by their cells where
/// they were found; last year's have no cell in this workbook and are named in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operand {
    /// This year's value, at a cell of the workbook (on the finding's sheet unless
    /// `sheet` says otherwise).
    Cell {
        key: Key,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sheet: Option<String>,
        at: CellRef,
    },
    /// This year's value whose cell is not known (not located, or not in the workbook
    /// the finding was moved to): named by its key.
    Key { key: Key },
    /// Last year's value, named by what a clerk recognises (`表三「…」行「自然人」列`);
    /// written `上年` + label.
    Previous { key: Key, label: String },
}

impl Operand {
    pub fn key(&self) -> &Key {
        match self {
            Operand::Cell { key, .. } | Operand::Key { key } | Operand::Previous { key, .. } => key,
        }
    }

    /// `E8`, `t3.new.natural`, `上年表三「四、结转下年度继续办理」行「自然人」列`.
    pub fn text(&self) -> String {
        match self {
            Operand::Cell { sheet, at, .. } => address(sheet.as_deref(), *at),
            Operand::Key { key } => key.to_string(),
            Operand::Previous { label, .. } => format!("上年{label}"),
        }
    }
}

/// A row label as a place names it: the row number says which row, so a long label is
/// cut after [`SHORT_LABEL`] characters (`一、本年新收政府信息…`).
fn short_label(label: &str) -> String {
    match label.char_indices().nth(SHORT_LABEL) {
        Some((cut, _)) => format!("{}…", &label[..cut]),
        None => label.to_string(),
    }
}

/// How many characters of a row label [`Finding::about_text`] quotes.
const SHORT_LABEL: usize = 12;

/// A side of a comparison: `E8+E9`.
fn operands_text(terms: &[Operand]) -> String {
    terms
        .iter()
        .map(Operand::text)
        .collect::<Vec<_>>()
        .join("+")
}

/// What a finding is about, by the labels of the official format rather than by cells:
/// `表三「（七）总计」行「自然人」列`. Any part may be empty: a finding about a whole
/// column has no row, one about a table neither row nor column. A numeric field outside
/// the tables is a labelled line of its own: no table, its label as the row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelPath {
    /// `表三`, with the title of the block the value is in where a table has several
    /// (`表二第二十条第（一）项`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub table: String,
    /// The row's own label.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub row: String,
    /// The column's label, after the group labels a clerk needs to tell it from others
    /// (`法人或其他组织/商业企业`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub column: String,
}

impl LabelPath {
    /// `表三「（七）总计」行「自然人」列`; a field: `「政府信息公开工作机构数」`.
    pub fn text(&self) -> String {
        let mut s = self.table.clone();
        if !self.row.is_empty() {
            s.push_str(&format!("「{}」", self.row));
            if !self.table.is_empty() {
                s.push('行');
            }
        }
        if !self.column.is_empty() {
            s.push_str(&format!("「{}」列", self.column));
        }
        s
    }

    /// What several paths have in common: the table, and the row or column where all
    /// agree (the four cells of 表三's T3-1 in one column → 表三「自然人」列). `None` when
    /// they are in different tables or there are none.
    pub fn common<'a>(paths: impl IntoIterator<Item = &'a LabelPath>) -> Option<LabelPath> {
        let mut paths = paths.into_iter();
        let mut out = paths.next()?.clone();
        for p in paths {
            if p.table != out.table {
                return None;
            }
            if p.row != out.row {
                out.row.clear();
            }
            if p.column != out.column {
                out.column.clear();
            }
        }
        (out != LabelPath::default()).then_some(out)
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
    /// The places that say whose report a workbook is disagree (hidden identity sheet,
    /// document properties, cover, the file's name): the file is not silently taken for
    /// either unit.
    pub const IDENTITY: &str = "ID-3";
    /// A value typed in the workbook was normalised (full-width digits, blanks…).
    pub const NORMALISED: &str = "N-1";
    /// The workbook was saved after the deadline its template gave (information only).
    pub const LATE: &str = "D-1";
}

/// How every ID-3 message ([`rule_ids::IDENTITY`]) begins: the batch reads a file's
/// reason by it, so that a file whose identities disagree never wins "one file per unit"
/// over the unit's own consistent file.
pub const IDENTITY_CONFLICT: &str = "工作簿中的单位标识不一致";

/// The report years the tool works with, in one place: `template` and `fill` refuse to
/// make workbooks for a year outside it, and the reader refuses a workbook that says one
/// (ID-2).
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 2008..=2100;

/// How many characters of a value a message quotes ([`clip`]).
pub const QUOTE_LIMIT: usize = 200;

/// A value as a message quotes it: at most [`QUOTE_LIMIT`] characters, a longer one cut
/// and marked `…（共 N 字）` with its full length. For everything a message, a finding's
/// found value or a reason quotes from a workbook (a text pasted into a number cell, a
/// row copied thousands of times), so that no line of output grows with the input.
pub fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!(
            "{}…（共 {} 字）",
            &text[..cut],
            text.chars().count()
        )),
    }
}

/// Text as it may reach a terminal: control characters (ESC sequences that clear the
/// screen or set the window title, bells, carriage returns, the C1 range) and the
/// bidirectional formatting characters that reorder what is shown are removed, and a
/// line break or tab inside a value becomes a space, so that a value can neither drive
/// the terminal nor pass for a line of its own. Everything else is kept. For every
/// value a workbook, a roster or a values file puts into what is printed.
pub fn terminal_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_terminal_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' | '\t' => Some(' '),
                c if is_terminal_control(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// A control character (C0, DEL, C1) or a bidirectional formatting character.
pub fn is_terminal_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The largest magnitude any value of a report may have (counts, changes and amounts
/// alike): 10^12. A report holds nothing near it; past it a value is a typing mistake,
/// and sums of such values lose precision or overflow (`1e308` in two units made the
/// roll-up infinite). The one bound: the reader refuses a value above it as an error
/// (`normalise`), and `fill` refuses to write one.
pub const MAX_VALUE: f64 = 1e12;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(key: &str, a1: &str) -> Operand {
        Operand::Cell {
            key: Key::from_string(key),
            sheet: None,
            at: CellRef::parse(a1).unwrap(),
        }
    }

    fn compare(lhs: Vec<Operand>, op: &str, rhs: Vec<Operand>, total: bool) -> Finding {
        Finding {
            sheet: "表三 依申请公开".into(),
            spot: Spot::Compare {
                lhs,
                op: op.into(),
                rhs,
                total,
            },
            found: "5".into(),
            expected: if total { "3" } else { "等于 3" }.into(),
            ..Finding::file_level(Level::Error, "T3-1", "不对", "请核对")
        }
    }

    #[test]
    fn a_comparison_names_its_cells_in_each_text() {
        let f = compare(
            vec![
                cell("t3.new.natural", "E8"),
                cell("t3.carried.natural", "E9"),
            ],
            "≠",
            vec![
                cell("t3.total.natural", "E29"),
                cell("t3.carry_next.natural", "E30"),
            ],
            false,
        );
        assert_eq!(f.cell_text(), "E8+E9 ≠ E29+E30");
        assert_eq!(f.found_text(), "5（E8+E9）");
        assert_eq!(f.expected_text(), "等于 3（E29+E30）");
        assert_eq!(f.place_text(), "表三 依申请公开!E8+E9 ≠ E29+E30");
    }

    #[test]
    fn the_place_in_words_has_the_row_number_where_the_finding_is_on_one_row() {
        let about = |row: &str, column: &str| LabelPath {
            table: "表三".into(),
            row: row.into(),
            column: column.into(),
        };
        // One cell: its row number, its row label (cut), its column.
        let one = Finding {
            spot: Spot::cell(None, CellRef::parse("E8").unwrap()),
            about: Some(about("一、本年新收政府信息公开申请数量", "自然人")),
            ..Finding::file_level(Level::Error, "V-1", "", "")
        };
        assert_eq!(
            one.about_text(),
            "表三 第 8 行「一、本年新收政府信息公开…」「自然人」列"
        );
        // A comparison down a column: the column only, as the labels say.
        let column = Finding {
            about: Some(about("", "自然人")),
            ..compare(
                vec![cell("t3.new.natural", "E8")],
                "≠",
                vec![cell("t3.total.natural", "E29")],
                false,
            )
        };
        assert_eq!(column.about_text(), "表三「自然人」列");
        // A comparison along one row names the row.
        let row = Finding {
            about: Some(about("（一）予以公开", "")),
            ..compare(
                vec![cell("t3.open.total", "K10")],
                "≠",
                vec![cell("t3.open.natural", "E10")],
                true,
            )
        };
        assert_eq!(row.about_text(), "表三 第 10 行「（一）予以公开」");
        // Nothing known in words: nothing said.
        assert_eq!(compare(vec![], "≠", vec![], false).about_text(), "");
    }

    #[test]
    fn a_total_names_its_parts_beside_what_was_expected_only() {
        let f = compare(
            vec![cell("t3.total.natural", "E31")],
            "≠",
            vec![
                cell("t3.open.natural", "E8"),
                cell("t3.partial.natural", "E9"),
            ],
            true,
        );
        assert_eq!(f.cell_text(), "E31 ≠ E8+E9");
        assert_eq!(f.found_text(), "5");
        assert_eq!(f.expected_text(), "3（E8+E9）");
    }

    #[test]
    fn unlocated_and_last_years_values_are_named_without_cells() {
        let f = compare(
            vec![
                Operand::Key {
                    key: Key::from_string("t3.carried.natural"),
                },
                Operand::Cell {
                    key: Key::from_string("fee_cases"),
                    sheet: Some("文字部分".into()),
                    at: CellRef::new(4, 2),
                },
            ],
            ">",
            vec![Operand::Previous {
                key: Key::from_string("t3.carry_next.natural"),
                label: "表三「四、结转下年度继续办理」行「自然人」列".into(),
            }],
            false,
        );
        assert_eq!(
            f.cell_text(),
            "t3.carried.natural+文字部分!C5 > 上年表三「四、结转下年度继续办理」行「自然人」列"
        );
        assert_eq!(
            f.expected_text(),
            "等于 3（上年表三「四、结转下年度继续办理」行「自然人」列）"
        );
    }

    #[test]
    fn cells_rows_and_nothing() {
        let mut f = Finding {
            sheet: "表二".into(),
            spot: Spot::Cells {
                cells: vec![
                    SpotCell {
                        key: None,
                        sheet: None,
                        at: CellRef::new(11, 2),
                    },
                    SpotCell {
                        key: Some(Key::field("fee_cases")),
                        sheet: Some("文字部分".into()),
                        at: CellRef::new(4, 2),
                    },
                ],
            },
            found: "十二".into(),
            ..Finding::file_level(Level::Error, "V-1", "不对", "")
        };
        assert_eq!(f.cell_text(), "C12、文字部分!C5");
        assert_eq!(f.found_text(), "十二");
        assert_eq!(f.expected_text(), "");
        f.spot = Spot::Row { row: 11 };
        assert_eq!(f.place_text(), "表二!第 12 行");
        f.spot = Spot::None;
        assert_eq!(f.place_text(), "表二");
        f.sheet.clear();
        assert_eq!(f.place_text(), "");
        f.spot = Spot::cell(None, CellRef::new(0, 0));
        assert_eq!(f.place_text(), "A1");
    }

    #[test]
    fn long_quotes_are_clipped_with_their_length() {
        assert!(matches!(clip("短"), Cow::Borrowed("短")));
        let exact = "字".repeat(QUOTE_LIMIT);
        assert_eq!(clip(&exact), exact);
        let long = "字".repeat(QUOTE_LIMIT + 1);
        assert_eq!(
            clip(&long),
            format!("{}…（共 {} 字）", exact, QUOTE_LIMIT + 1)
        );
    }

    #[test]
    fn terminal_text_keeps_words_and_drops_controls() {
        assert!(matches!(terminal_text("山市村 12"), Cow::Borrowed(_)));
        assert_eq!(
            terminal_text("恶意\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m村\r\n第二行\t\u{202E}x"),
            "恶意]0;pwned[2J31m村 第二行 x"
        );
    }

    #[test]
    fn one_definition_of_a_unit_code() {
        for ok in ["231083102202", "A.1", "a-1_b", "../../z", " 110 "] {
            assert!(UnitCode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(UnitCode::parse("  "), Err(CodeProblem::Empty));
        let long = "1".repeat(UnitCode::MAX_LEN + 1);
        for bad in ["东兴01", "A 1", "２３１", "a\u{1b}b", long.as_str()] {
            assert_eq!(UnitCode::parse(bad), Err(CodeProblem::Malformed), "{bad}");
        }
        assert_eq!(UnitCode::new(" 110 ").unwrap().as_str(), "110");
    }

    #[test]
    fn label_paths_read_as_a_clerk_names_a_value() {
        let total = LabelPath {
            table: "表三".into(),
            row: "（七）总计".into(),
            column: "自然人".into(),
        };
        assert_eq!(total.text(), "表三「（七）总计」行「自然人」列");
        let field = LabelPath {
            row: "收取信息处理费件数".into(),
            ..LabelPath::default()
        };
        assert_eq!(field.text(), "「收取信息处理费件数」");
        let new = LabelPath {
            row: "一、本年新收".into(),
            ..total.clone()
        };
        let column = LabelPath::common([&total, &new]).unwrap();
        assert_eq!(column.text(), "表三「自然人」列");
        assert_eq!(LabelPath::common([&total, &field]), None);
        assert_eq!(LabelPath::common([&field, &LabelPath::default()]), None);
        assert_eq!(LabelPath::common([]), None);
    }

    #[test]
    fn findings_round_trip_through_json() {
        let f = Finding {
            about: Some(LabelPath {
                table: "表三".into(),
                column: "自然人".into(),
                ..LabelPath::default()
            }),
            keys: vec![Key::from_string("t3.total.natural")],
            ..compare(
                vec![cell("t3.total.natural", "E31")],
                "≠",
                vec![Operand::Previous {
                    key: Key::from_string("t3.open.natural"),
                    label: "表三".into(),
                }],
                true,
            )
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Finding>(&json).unwrap(), f);
        let g = Finding {
            spot: Spot::Row { row: 3 },
            ..Finding::file_level(Level::Warning, "L-1", "找不到", "")
        };
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(serde_json::from_str::<Finding>(&json).unwrap(), g);
    }
}
