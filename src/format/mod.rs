//! The official report formats as data.
//!
//! A [`Format`] is loaded from a TOML definition (`templates/formats/2019.toml`,
//! `2021.toml`, embedded in the binary; a province can load its own variant from a file).
//! It is the single source of truth for the tables, their rows and columns, the value kind
//! of every cell, the text sections and the consistency rules (勾稽关系). Loading checks
//! the definition for consistency and expands every rule into concrete [`Check`]s over
//! cell [`Key`]s, so the validator runs one engine over data, not code per rule.
//!
//! This module does no I/O beyond reading a definition file the user names.

mod raw;

use std::collections::{BTreeMap, BTreeSet};

use std::path::Path;

use serde::Serialize;

pub use crate::model::Key;
use crate::model::Level;
use crate::quotes::Pattern;

/// What a numeric cell may hold (rule V-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A whole number ≥ 0.
    Count,
    /// A whole number of either sign (本年增/减 in the 2019 format).
    Signed,
    /// A decimal ≥ 0 in the column's unit (元 or 万元).
    Amount,
}

impl Kind {
    /// How a clerk is told what to type.
    pub fn describe(self, unit: Option<&str>) -> String {
        match self {
            Kind::Count => "不小于 0 的整数".to_string(),
            Kind::Signed => "整数（减少填负数，如 -2）".to_string(),
            Kind::Amount => format!("不小于 0 的数，单位：{}", unit.unwrap_or("元")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub code: String,
    pub label: String,
    pub kind: Kind,
    pub unit: Option<String>,
    /// Merged header labels above this column's own label, outermost first.
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub code: String,
    /// Empty for a table whose single row has no label (table 四).
    pub label: String,
    /// Merged labels to the left of this row's own label, outermost first.
    pub groups: Vec<String>,
}

/// A block of a table: its own header and rows (table 二 has one per article of the
/// Regulations; tables 三 and 四 have one).
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    pub title: Option<String>,
    /// The top-left header cell (信息内容, or table 三's 勾稽 note).
    pub corner: Option<String>,
    pub rows: Vec<Row>,
    pub columns: Vec<Column>,
}

impl Block {
    /// How many header rows the column labels need (groups + the label itself).
    pub fn header_depth(&self) -> usize {
        self.columns
            .iter()
            .map(|c| c.groups.len() + 1)
            .max()
            .unwrap_or(1)
    }

    /// How many label columns the row labels need; 0 for a table without row labels.
    pub fn label_width(&self) -> usize {
        if self
            .rows
            .iter()
            .all(|r| r.label.is_empty() && r.groups.is_empty())
        {
            0
        } else {
            self.rows
                .iter()
                .map(|r| r.groups.len() + 1)
                .max()
                .unwrap_or(1)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub code: String,
    /// The section number in the report: 二, 三, 四.
    pub number: String,
    pub title: String,
    /// The worksheet name used in templates (the reader never relies on it).
    pub sheet: String,
    pub blocks: Vec<Block>,
}

impl Table {
    /// `二、主动公开政府信息情况`
    pub fn heading(&self) -> String {
        format!("{}、{}", self.number, self.title)
    }

    pub fn rows(&self) -> impl Iterator<Item = (&Block, &Row)> {
        self.blocks
            .iter()
            .flat_map(|b| b.rows.iter().map(move |r| (b, r)))
    }

    /// Every cell of the table in reading order: block by block, row by row.
    pub fn cells(&self) -> impl Iterator<Item = CellDef<'_>> {
        self.blocks.iter().flat_map(move |block| {
            block.rows.iter().flat_map(move |row| {
                block.columns.iter().map(move |col| CellDef {
                    table: self,
                    block,
                    row,
                    col,
                    key: Key::cell(&self.code, &row.code, &col.code),
                })
            })
        })
    }
}

/// One cell of a table with everything known about it.
#[derive(Debug, Clone)]
pub struct CellDef<'a> {
    pub table: &'a Table,
    pub block: &'a Block,
    pub row: &'a Row,
    pub col: &'a Column,
    pub key: Key,
}

impl CellDef<'_> {
    /// A label a clerk recognises: `表三「一、本年新收政府信息公开申请数量」行「自然人」列`.
    pub fn describe(&self) -> String {
        let mut s = format!("表{}", self.table.number);
        if let Some(title) = &self.block.title {
            s.push_str(title);
        }
        if !self.row.label.is_empty() {
            s.push_str(&format!("「{}」行", self.row.label));
        }
        let col = self
            .col
            .groups
            .iter()
            .chain(std::iter::once(&self.col.label));
        let col: Vec<&str> = col.map(String::as_str).collect();
        // The outermost group of table 三 (申请人情况) adds nothing a clerk needs.
        let shown = if col.len() > 2 { &col[1..] } else { &col[..] };
        s.push_str(&format!("「{}」列", shown.join("/")));
        s
    }
}

/// A text section of the report (一 总体情况, 五, 六, and the opening paragraph).
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub code: String,
    /// 一, 五, 六; `None` for the unnumbered opening paragraph.
    pub number: Option<String>,
    pub title: String,
    pub prompt: String,
    /// How a report states this section's numeric fields, `{code}` standing for a
    /// field's value (the 2021 format's 信息处理费 sentence); `None` when it has none.
    pub fields_sentence: Option<String>,
    /// What the report says instead when every one of those fields is 0.
    pub fields_sentence_if_none: Option<String>,
}

impl Section {
    pub fn heading(&self) -> String {
        match &self.number {
            Some(n) => format!("{n}、{}", self.title),
            None => self.title.clone(),
        }
    }
}

/// A numeric field outside the tables (2021: 信息处理费 件数 and 金额).
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub code: String,
    pub label: String,
    pub kind: Kind,
    pub unit: Option<String>,
    /// The section it is reported in.
    pub section: String,
}

/// `<=` or `=` between the two sides of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    Eq,
    Le,
}

impl Op {
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            // Amounts are decimals: compare to a cent.
            Op::Eq => (lhs - rhs).abs() < 0.005,
            Op::Le => lhs <= rhs + 0.005,
        }
    }

    /// How a finding words what was expected: `等于 3`, `不大于 0` — words, not `=`, so
    /// that the text never reads as a formula in a spreadsheet or needs guarding in a CSV.
    pub fn expected_word(self) -> &'static str {
        match self {
            Op::Eq => "等于",
            Op::Le => "不大于",
        }
    }
}

/// A term of a comparison: a value of this year, or of last year (`prev:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    pub key: Key,
    pub previous: bool,
}

/// What a rule checks, after loading.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// V-1: every value matches its column's kind.
    ValueKind,
    /// V-2: a table with no number at all.
    EmptyTable,
    /// A value larger than `max` is implausible for one unit.
    Magnitude { max: f64 },
    /// Y-1: the format must be the one in force for the report year.
    FormatYear,
    /// A text section that must not be empty (its level is the rule's: a section can be
    /// required as an error or only recommended as a warning).
    TextRequired { section: String },
    /// Numbers typed on a table sheet outside every cell of the report (a row inserted
    /// as 其中：当场答复): they count nowhere, so the clerk is told where they are.
    StrayNumber,
    /// Fields of the cover that must be filled in, by their codes (`filler`, `phone`:
    /// the cover's fields are the template's, `identity::COVER_FIELDS`).
    CoverRequired { fields: Vec<String> },
    /// TX-2: numbers the text quotes for figures the tables hold must equal them
    /// (the phrasings and the words that make a clause about something else are data).
    TextQuotes {
        figures: Vec<QuotedFigure>,
        guards: Vec<String>,
    },
    /// If any of `when_nonzero` is non-zero, one of `require_any` must be too.
    RequiresAny {
        when_nonzero: Vec<Key>,
        require_any: Vec<Key>,
    },
    /// A total and its parts; the checks are in [`Format::checks`].
    Total,
    /// A comparison; the checks are in [`Format::checks`].
    Compare,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub level: Level,
    pub kind: RuleKind,
    pub message: String,
    pub hint: Option<String>,
    /// The hint for a finding in a Word report or web page, where `hint` points into
    /// the template's sheets or formulas, which a document has not; `None`: `hint` fits both.
    pub document_hint: Option<String>,
    /// For a comparison the template checks live: the caption of its 通过/不通过 row.
    pub live_check: Option<String>,
}

/// A figure the text may quote: its name, the values it sums and how prose states it
/// (`收到…申请…{n}件`, see [`crate::quotes::Pattern`]).
#[derive(Debug, Clone, Serialize)]
pub struct QuotedFigure {
    pub label: String,
    pub keys: Vec<Key>,
    #[serde(serialize_with = "pattern_sources")]
    pub patterns: Vec<Pattern>,
}

fn pattern_sources<S: serde::Serializer>(p: &[Pattern], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(Pattern::source))
}

/// One concrete equation or inequality, expanded from a `total` or `compare` rule for one
/// row or column: `sum(lhs) op sum(rhs)`.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Index into [`Format::rules`].
    pub rule: usize,
    pub lhs: Vec<Term>,
    pub op: Op,
    pub rhs: Vec<Term>,
    /// Which row or column it was expanded for, as a clerk reads it (`「自然人」列`).
    pub scope: String,
    /// For a `total` rule: the total cell (`lhs[0]`), computed from `rhs`.
    pub is_total: bool,
}

impl Check {
    pub fn needs_previous(&self) -> bool {
        self.lhs.iter().chain(&self.rhs).any(|t| t.previous)
    }
}

/// A column of `units.csv`: one figure per unit, the sum of some of its values
/// (`litigation_total` = 未经复议直接起诉 + 复议后起诉). `new_requests` also feeds the
/// overview's chart.
#[derive(Debug, Clone, Serialize)]
pub struct KeyFigure {
    pub column: String,
    /// How reports name the figure (`新收申请`); the column code when the definition
    /// gives none.
    pub label: String,
    pub keys: Vec<Key>,
}

impl KeyFigure {
    /// The figure for one unit's values; `None` when one of its parts is missing.
    pub fn of(&self, values: &BTreeMap<Key, f64>) -> Option<f64> {
        self.keys.iter().map(|k| values.get(k).copied()).sum()
    }
}

/// One official format, loaded and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Format {
    pub id: String,
    pub name: String,
    pub document: String,
    /// Version of this definition; bump when a province edits it.
    pub version: u32,
    /// First and last report year the format applies to (`None`: still current).
    pub first_year: i32,
    pub last_year: Option<i32>,
    pub sections: Vec<Section>,
    pub fields: Vec<Field>,
    pub tables: Vec<Table>,
    pub rules: Vec<Rule>,
    pub checks: Vec<Check>,
    /// The figures `units.csv` gives for every unit, in column order.
    pub key_figures: Vec<KeyFigure>,
    /// Where each table cell is defined: (table, block, row, column) indices. Built once
    /// at load so lookups by key do not scan the tables (they run per cell per file).
    #[serde(skip)]
    index: BTreeMap<Key, (usize, usize, usize, usize)>,
    /// Every computed total and its parts, from the `total` rules.
    #[serde(skip)]
    totals: BTreeMap<Key, Vec<Key>>,
    /// The totals in dependency order ([`Format::totals_in_order`]).
    #[serde(skip)]
    totals_in_order: Vec<Key>,
}

/// A definition that cannot be used. Names the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("无法读取格式定义文件 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("格式定义 {origin} 不是有效的 TOML：{message}")]
    Syntax { origin: String, message: String },
    #[error("格式定义 {origin} 有误：{problems}", problems = .problems.join("；"))]
    Inconsistent {
        origin: String,
        problems: Vec<String>,
    },
    #[error("没有适用于 {year} 年度的报告格式（已知格式：{known}）")]
    NoFormatForYear { year: i32, known: String },
    #[error("未知的报告格式 “{id}”（已知格式：{known}）")]
    UnknownFormat { id: String, known: String },
}

/// The definitions shipped with the binary, in year order.
const BUILTIN: &[(&str, &str)] = &[
    (
        "2019.toml",
        include_str!("../../templates/formats/2019.toml"),
    ),
    (
        "2021.toml",
        include_str!("../../templates/formats/2021.toml"),
    ),
];

impl Format {
    /// Parses and checks a definition. `origin` names it in messages (a file name).
    pub fn from_toml(text: &str, origin: &str) -> Result<Format, FormatError> {
        let raw: raw::RawFormat = toml::from_str(text).map_err(|e| FormatError::Syntax {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut format = raw.build().map_err(|problems| FormatError::Inconsistent {
            origin: origin.to_string(),
            problems,
        })?;
        format.build_indexes();
        Ok(format)
    }

    pub fn load_file(path: &Path) -> Result<Format, FormatError> {
        let text = std::fs::read_to_string(path).map_err(|source| FormatError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Format::from_toml(&text, &path.display().to_string())
    }

    /// The two official formats. They are part of the binary, so failing to load them is
    /// a bug caught by the unit tests, never a user's problem.
    pub fn builtin() -> Vec<Format> {
        BUILTIN
            .iter()
            .filter_map(|(name, text)| Format::from_toml(text, name).ok())
            .collect()
    }

    pub fn applies_to(&self, year: i32) -> bool {
        year >= self.first_year && self.last_year.is_none_or(|last| year <= last)
    }

    /// `2019–2020` or `2021 起`.
    pub fn years_label(&self) -> String {
        match self.last_year {
            Some(last) if last == self.first_year => format!("{last}"),
            Some(last) => format!("{}–{last}", self.first_year),
            None => format!("{} 起", self.first_year),
        }
    }

    pub fn table(&self, code: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.code == code)
    }

    /// Every table cell, table by table in reading order.
    pub fn cells(&self) -> impl Iterator<Item = CellDef<'_>> {
        self.tables.iter().flat_map(Table::cells)
    }

    pub fn cell(&self, key: &Key) -> Option<CellDef<'_>> {
        let &(t, b, r, c) = self.index.get(key)?;
        let table = &self.tables[t];
        let block = &table.blocks[b];
        Some(CellDef {
            table,
            block,
            row: &block.rows[r],
            col: &block.columns[c],
            key: key.clone(),
        })
    }

    /// Builds the lookup tables; called once when a definition is loaded.
    fn build_indexes(&mut self) {
        let mut index = BTreeMap::new();
        for (t, table) in self.tables.iter().enumerate() {
            for (b, block) in table.blocks.iter().enumerate() {
                for (r, row) in block.rows.iter().enumerate() {
                    for (c, col) in block.columns.iter().enumerate() {
                        index.insert(Key::cell(&table.code, &row.code, &col.code), (t, b, r, c));
                    }
                }
            }
        }
        self.index = index;
        let mut totals = BTreeMap::new();
        for check in self.checks.iter().filter(|c| c.is_total) {
            let parts = check.rhs.iter().map(|t| t.key.clone()).collect();
            totals.entry(check.lhs[0].key.clone()).or_insert(parts);
        }
        self.totals_in_order = dependency_order(&totals);
        self.totals = totals;
    }

    pub fn field(&self, key: &Key) -> Option<&Field> {
        self.fields.iter().find(|f| f.code == key.as_str())
    }

    /// Every numeric key: table cells, then fields.
    pub fn keys(&self) -> Vec<Key> {
        let cells = self.cells().map(|c| c.key);
        cells
            .chain(self.fields.iter().map(|f| Key::field(&f.code)))
            .collect()
    }

    /// The kind and unit of a numeric key.
    pub fn kind_of(&self, key: &Key) -> Option<(Kind, Option<&str>)> {
        if let Some(f) = self.field(key) {
            return Some((f.kind, f.unit.as_deref()));
        }
        self.cell(key).map(|c| (c.col.kind, c.col.unit.as_deref()))
    }

    /// How a clerk recognises a key: the cell's row and column labels, or the field label.
    pub fn describe(&self, key: &Key) -> String {
        if let Some(c) = self.cell(key) {
            return c.describe();
        }
        match self.field(key) {
            Some(f) => format!("「{}」", f.label),
            None => key.to_string(),
        }
    }

    /// The totals and their parts (from `total` rules), first definition wins when a cell
    /// is the total of both its row and its column (table 三's grand total).
    pub fn totals(&self) -> &BTreeMap<Key, Vec<Key>> {
        &self.totals
    }

    /// The totals in dependency order, worked out once per format (validation goes
    /// through it for every file): first those whose parts are all plain cells, then
    /// those whose totals among their parts are all earlier (表三's grand total is a
    /// total of totals), each round in key order. Totals that depend on one another in a
    /// circle are left out.
    pub fn totals_in_order(&self) -> &[Key] {
        &self.totals_in_order
    }
}

/// The order of [`Format::totals_in_order`].
fn dependency_order(totals: &BTreeMap<Key, Vec<Key>>) -> Vec<Key> {
    let mut done: BTreeSet<&Key> = BTreeSet::new();
    let mut order = Vec::new();
    loop {
        let ready: Vec<&Key> = totals
            .iter()
            .filter(|(key, parts)| {
                !done.contains(key)
                    && parts
                        .iter()
                        .all(|p| !totals.contains_key(p) || done.contains(p))
            })
            .map(|(key, _)| key)
            .collect();
        if ready.is_empty() {
            return order;
        }
        done.extend(ready.iter().copied());
        order.extend(ready.into_iter().cloned());
    }
}

impl Format {
    /// The key figure of `units.csv` column `column`, if the format has it.
    pub fn key_figure(&self, column: &str) -> Option<&KeyFigure> {
        self.key_figures.iter().find(|k| k.column == column)
    }

    /// Fills in every total of `values` that is missing, from its parts, in dependency
    /// order (table 三's grand total is a total of totals). Totals already present are
    /// left as they are: a total that disagrees with its parts is for the rules to report.
    pub fn fill_totals(&self, values: &mut BTreeMap<Key, f64>, only: Option<&BTreeSet<Key>>) {
        let totals = &self.totals;
        loop {
            let mut progressed = false;
            for (key, parts) in totals {
                if values.contains_key(key) || only.is_some_and(|o| !o.contains(key)) {
                    continue;
                }
                if parts.iter().all(|p| values.contains_key(p)) {
                    let sum = parts.iter().map(|p| values[p]).sum();
                    values.insert(key.clone(), sum);
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
    }
}

/// The set of formats a run can use: the built-in ones, or those plus a user's own.
#[derive(Debug, Clone)]
pub struct Formats {
    formats: Vec<Format>,
}

impl Formats {
    pub fn builtin() -> Formats {
        Formats {
            formats: Format::builtin(),
        }
    }

    /// Adds a user's definition; it replaces a built-in one with the same id.
    pub fn with(mut self, format: Format) -> Formats {
        self.formats.retain(|f| f.id != format.id);
        self.formats.push(format);
        self.formats.sort_by_key(|f| f.first_year);
        self
    }

    pub fn all(&self) -> &[Format] {
        &self.formats
    }

    pub fn by_id(&self, id: &str) -> Result<&Format, FormatError> {
        self.formats
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| FormatError::UnknownFormat {
                id: id.to_string(),
                known: self.known(),
            })
    }

    /// The format in force for a report year (2019–2020 → 2019, 2021 on → 2021).
    pub fn for_year(&self, year: i32) -> Result<&Format, FormatError> {
        self.formats
            .iter()
            .rev()
            .find(|f| f.applies_to(year))
            .ok_or_else(|| FormatError::NoFormatForYear {
                year,
                known: self.known(),
            })
    }

    fn known(&self) -> String {
        let ids: BTreeSet<String> = self
            .formats
            .iter()
            .map(|f| format!("{}（{}）", f.id, f.years_label()))
            .collect();
        ids.into_iter().collect::<Vec<_>>().join("、")
    }
}

#[cfg(test)]
mod tests;
