//! Raw workbook → where each value of the report is, and whose report it is.
//!
//! Two ways to find a cell, in order of certainty:
//! 1. the hidden keys our templates carry (see [`crate::layout`]): a marker per
//!    sheet, a key per row and per column, so inserted rows, renamed or reordered sheets
//!    and extra sheets change nothing;
//! 2. the official labels, when the keys are gone (values pasted into an older copy or a
//!    hand-made table): rows by their label, columns by their header above, after
//!    normalising width, spaces and punctuation.
//!
//! What cannot be located with certainty is reported as a finding naming it; nothing is
//! guessed. This stage does not interpret values (`validate`, the next stage, does), with
//! one exception that needs the sheet: a number's cell holding a formula saved without
//! its result is computed here, against the cells of its sheet, by
//! [`normalise::formula`] ([`Located::formula`]).

use std::collections::{BTreeMap, HashMap};

use crate::cell::CellRef;
use crate::format::{Block, Column, Format, Formats, Key, Row, Table};
use crate::identity::{self, IdField, IdFields, Marker, COVER_FIELDS, MARKER_PREFIX};
use crate::layout::{COVER_VALUE_COL, KEY_COL, TEXT_FIELD_COL, TEXT_SHEET};
use crate::model::{clip, number_text, rule_ids, Finding, LabelPath, Level, Place, Spot};
use crate::normalise;
use crate::read::{RawSheet, RawValue, RawWorkbook, PARAGRAPHS_SHEET};
use crate::roster::{normalize_name, Roster, Unit};

/// How the workbook's unit, year and format were established.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IdentifiedBy {
    /// The hidden identity sheet of our template.
    HiddenSheet,
    /// The xlsx document properties of our template.
    Properties,
    /// The visible cover sheet.
    Cover,
    /// The report's title (`<单位名称><年度>年政府信息公开工作年度报告`): a Word report, a
    /// web page or a workbook made by hand.
    Title,
    /// The file's name, matched against the roster (nothing inside says whose it is).
    FileName,
    /// Nothing identifies it.
    #[default]
    Nothing,
}

impl IdentifiedBy {
    pub fn chinese(self) -> &'static str {
        match self {
            IdentifiedBy::HiddenSheet => "模板隐藏标识",
            IdentifiedBy::Properties => "文档属性",
            IdentifiedBy::Cover => "封面填写的单位信息",
            IdentifiedBy::Title => "报告标题",
            IdentifiedBy::FileName => "文件名",
            IdentifiedBy::Nothing => "无法识别",
        }
    }
}

/// Whose report a workbook is, as far as the workbook says.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub unit_code: String,
    pub unit_name: String,
    pub year: Option<i32>,
    /// The format the workbook was made for (its layout), if it says.
    pub format_id: Option<String>,
    pub template_version: Option<u32>,
    /// When and to whom the template said to hand it back (none in older templates).
    pub handback: identity::Handback,
    /// When the workbook says it was last saved ([`RawWorkbook::saved`]).
    pub saved: Option<String>,
    pub by: IdentifiedBy,
    /// How the cells were found: by hidden keys, or by labels for some table.
    pub by_labels: bool,
    /// Every place in the workbook that says whose report it is: identity sheets,
    /// document properties, covers. When they disagree ([`Identity::conflicting`]), the
    /// unit above is the one most of them name, and the file is not to be taken for it
    /// silently (ID-3).
    pub claims: Vec<Claim>,
    /// The report's title as written, when one was found (see [`report_title`]).
    pub title: Option<String>,
}

/// A located value: where it is and what was there (`None`: the cell is empty).
#[derive(Debug, Clone)]
pub struct Located {
    pub place: Place,
    pub raw: Option<RawValue>,
    /// For a number's cell holding a formula saved without its result (read as a value
    /// without a result holding its text, `RawValue::Error("=…")`): what
    /// [`normalise::formula`] computed from it against its sheet, or why it could not.
    /// `None` for any other cell.
    pub formula: Option<Result<f64, normalise::FormulaProblem>>,
}

impl Located {
    /// A number's cell: what it holds, and a formula without a result computed against
    /// the sheet it is on (the cells a formula names are on its own sheet).
    fn value(sheet: &RawSheet, at: CellRef) -> Located {
        let raw = sheet.get(at).cloned();
        let formula = match &raw {
            Some(RawValue::Error(t)) if normalise::is_formula(t) => {
                Some(normalise::formula(t, &|from, to| sum_of(sheet, from, to)))
            }
            _ => None,
        };
        Located {
            place: Place {
                sheet: sheet.name.clone(),
                at,
            },
            raw,
            formula,
        }
    }

    /// A text's cell: what it holds.
    fn text(sheet: &RawSheet, at: CellRef) -> Located {
        Located {
            place: Place {
                sheet: sheet.name.clone(),
                at,
            },
            raw: sheet.get(at).cloned(),
            formula: None,
        }
    }
}

/// The sum of the plain numbers from one cell to another of a sheet (empty cells count
/// 0), or the first cell that holds anything else: what a formula reads of its sheet.
fn sum_of(sheet: &RawSheet, from: CellRef, to: CellRef) -> Result<f64, CellRef> {
    let rows = CellRef::new(from.row, 0)..=CellRef::new(to.row, u16::MAX);
    let mut sum = 0.0;
    for (at, v) in sheet.cells.range(rows) {
        if !(from.col..=to.col).contains(&at.col) {
            continue;
        }
        match v {
            RawValue::Number(x) => sum += x,
            _ => return Err(*at),
        }
    }
    Ok(sum)
}

/// Everything found in one workbook, before interpretation.
#[derive(Debug, Clone)]
pub struct Found {
    pub identity: Identity,
    /// The format used to read the layout (the workbook's own, else the year's).
    pub format_id: Option<String>,
    pub cells: BTreeMap<Key, Located>,
    pub texts: BTreeMap<String, Located>,
    pub cover: BTreeMap<String, String>,
    /// Where each field of that cover is to be filled in (its value's cell).
    pub cover_places: BTreeMap<String, Place>,
    /// The sheet each table was found on.
    pub table_sheets: BTreeMap<String, String>,
    /// Numbers typed inside a table's rows but in no cell of the report (a row inserted
    /// as 其中：当场答复): they count nowhere, so `validate` warns where they are.
    pub strays: Vec<Stray>,
    /// The text sheet is gone (no keyed text sheet, no heading of a section, no field):
    /// reported once as a missing sheet, and its sections are not reported empty.
    pub missing_text_sheet: bool,
    pub findings: Vec<Finding>,
    /// Read from a document (Word, web page), which has no cover and no cells a clerk
    /// could find: see [`crate::read::FileKind::is_document`].
    pub document: bool,
}

/// How many stray rows a workbook lists, and how many numbers of one row.
pub const STRAYS_LISTED: usize = 10;

/// The cells of stray numbers and what was typed in each.
type StrayCells = Vec<(CellRef, String)>;

/// Numbers typed in one row of a table sheet outside every cell of the report.
#[derive(Debug, Clone)]
pub struct Stray {
    pub sheet: String,
    /// Each number's cell and what was typed there, as the clerk sees it (at most
    /// [`STRAYS_LISTED`] of them).
    pub cells: StrayCells,
    /// How many more numbers the row holds than are listed.
    pub more_cells: usize,
    /// On the last stray of a workbook listed: how many more rows hold numbers (at most
    /// [`STRAYS_LISTED`] rows are listed, so the findings stay few whatever the input).
    pub more_rows: usize,
    /// The table, the row label beside the numbers and (for one number) the column it
    /// is under, in words.
    pub about: LabelPath,
}

fn text_of(v: Option<&RawValue>) -> String {
    match v {
        Some(RawValue::Text(s)) => s.trim().to_string(),
        Some(v) => v.display(),
        None => String::new(),
    }
}

/// The markers in a sheet's key column, by row; the key column is the one holding a
/// `nianbao:` marker in its topmost occurrence.
fn key_column(sheet: &RawSheet) -> Option<(u16, BTreeMap<u32, Marker>)> {
    let col = sheet.cells.iter().find_map(|(at, v)| match v {
        RawValue::Text(s) if s.starts_with(MARKER_PREFIX) => Some(at.col),
        _ => None,
    })?;
    let keys = sheet
        .cells
        .iter()
        .filter(|(at, _)| at.col == col)
        .filter_map(|(at, v)| match v {
            RawValue::Text(s) => Some((at.row, Marker::parse(s)?)),
            _ => None,
        })
        .collect();
    Some((col, keys))
}

/// Reads the hidden identity sheet, the document properties or the cover, in that order;
/// and every place that says whose report it is ([`Identity::claims`]). When those
/// places disagree, the unit most of them name is taken (the cover's on a tie), and
/// `validate` reports the disagreement (ID-3): a file is never silently taken for one
/// unit when it also says it is another's.
fn identify(wb: &RawWorkbook, formats: &Formats) -> (Identity, Cover) {
    let mut id = Identity::default();
    // Every identity sheet: ours is very hidden, but a copy may have been made visible,
    // renamed, or brought in from another unit's workbook.
    let id_sheets: Vec<(&RawSheet, IdFields)> = wb
        .sheets
        .iter()
        .filter(|s| is_identity_sheet(s))
        .map(|s| (s, identity_fields(s)))
        .collect();
    let mut fields = IdFields::default();
    if let Some((_, first)) = id_sheets.first() {
        fields = first.clone();
        id.by = IdentifiedBy::HiddenSheet;
    }
    let from_props = IdFields::from_properties(&wb.properties);
    if id.by == IdentifiedBy::Nothing {
        if let Some(props) = &from_props {
            fields = props.clone();
            id.by = IdentifiedBy::Properties;
        }
    }
    let covers = read_covers(wb);
    let the_cover = covers
        .iter()
        .find(|c| c.keyed)
        .or_else(|| covers.iter().find(|c| c.fields.contains_key("unit_name")))
        .map(|c| Cover {
            sheet: c.sheet.clone(),
            fields: c.fields.clone(),
            places: c.places.clone(),
            keyed: c.keyed,
        })
        .unwrap_or_default();
    let cover = &the_cover.fields;
    if id.by == IdentifiedBy::Nothing || fields.get(IdField::UnitCode).is_none() {
        // A blank template filled in by hand, or a copy that lost its hidden sheet.
        let from_cover = |k: &str| cover.get(k).cloned().unwrap_or_default();
        if !from_cover("unit_code").is_empty() || !from_cover("unit_name").is_empty() {
            fields.set(IdField::UnitCode, from_cover("unit_code"));
            fields.set(IdField::UnitName, from_cover("unit_name"));
            if id.by == IdentifiedBy::Nothing {
                fields.set(IdField::Year, from_cover("year"));
                let known = formats
                    .all()
                    .iter()
                    .map(|f| (f.id.as_str(), f.document.as_str()));
                let format = identity::format_from_cover_text(&from_cover("format"), known);
                fields.set(IdField::FormatId, format.unwrap_or_default());
            }
            id.by = IdentifiedBy::Cover;
        }
    }
    // Every claim, in the order of trust: identity sheets, properties, covers.
    let claim = |source: ClaimSource, code: Option<&str>, name: Option<&str>| Claim {
        source,
        unit_code: code.unwrap_or("").trim().to_string(),
        unit_name: name.unwrap_or("").trim().to_string(),
    };
    let mut claims: Vec<Claim> = id_sheets
        .iter()
        .map(|(s, f)| {
            claim(
                ClaimSource::Sheet(s.name.clone()),
                f.get(IdField::UnitCode),
                f.get(IdField::UnitName),
            )
        })
        .collect();
    if let Some(props) = &from_props {
        claims.push(claim(
            ClaimSource::Properties,
            props.get(IdField::UnitCode),
            None,
        ));
    }
    for c in &covers {
        let get = |k: &str| c.fields.get(k).map(String::as_str);
        claims.push(claim(
            ClaimSource::Cover(c.sheet.clone()),
            get("unit_code"),
            get("unit_name"),
        ));
    }
    claims.retain(|c| !c.unit_code.is_empty() || !c.unit_name.is_empty());
    id.claims = claims;
    let get = |f: IdField| fields.get(f).map(str::to_string);
    id.unit_code = get(IdField::UnitCode).unwrap_or_default();
    id.unit_name = get(IdField::UnitName).unwrap_or_default();
    if let Some(winner) = id.majority() {
        id.unit_code = winner.unit_code;
        id.unit_name = winner.unit_name;
        id.by = winner.source.identified_by();
    }
    id.year = get(IdField::Year).and_then(|y| parse_year(&y));
    id.format_id = get(IdField::FormatId);
    id.template_version = get(IdField::TemplateVersion).and_then(|v| v.parse().ok());
    id.handback = identity::Handback::from_fields(&fields);
    id.saved = wb.saved.clone();
    (id, the_cover)
}

/// Whether a sheet is an identity sheet: ours by name, or a copy by its first cell.
fn is_identity_sheet(sheet: &RawSheet) -> bool {
    sheet.name == identity::SHEET || text_of(sheet.get(CellRef::new(0, 0))) == identity::SHEET_MARK
}

/// The fields of an identity sheet: column A the keys, column B the values.
fn identity_fields(sheet: &RawSheet) -> IdFields {
    let rows: Vec<(String, String)> = sheet
        .cells
        .iter()
        .filter(|(at, _)| at.col == 0)
        .map(|(at, v)| {
            (
                text_of(Some(v)),
                text_of(sheet.get(CellRef::new(at.row, 1))),
            )
        })
        .collect();
    IdFields::from_sheet_rows(rows.iter().map(|(k, v)| (k.as_str(), v.clone())))
}

/// Where a workbook says whose report it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimSource {
    /// An identity sheet (our very hidden `_nianbao`, or a copy of one), by its name.
    Sheet(String),
    /// The xlsx document properties (the unit code only).
    Properties,
    /// A cover sheet, found by its hidden keys or by its labels, by its name.
    Cover(String),
}

impl ClaimSource {
    /// `模板标识（工作表「_nianbao」）`, `文档属性`, `封面（工作表「封面」）`.
    pub fn chinese(&self) -> String {
        match self {
            ClaimSource::Sheet(name) => format!("模板标识（工作表「{}」）", clip(name)),
            ClaimSource::Properties => "文档属性".to_string(),
            ClaimSource::Cover(name) => format!("封面（工作表「{}」）", clip(name)),
        }
    }

    fn identified_by(&self) -> IdentifiedBy {
        match self {
            ClaimSource::Sheet(_) => IdentifiedBy::HiddenSheet,
            ClaimSource::Properties => IdentifiedBy::Properties,
            ClaimSource::Cover(_) => IdentifiedBy::Cover,
        }
    }
}

/// What one place of a workbook says about whose report it is (code and name as
/// written; either may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub source: ClaimSource,
    pub unit_code: String,
    pub unit_name: String,
}

impl Claim {
    /// Two claims name different units: their codes differ, or their names do (after
    /// width and spaces are folded), where both give one.
    pub fn disagrees(&self, other: &Claim) -> bool {
        let differ = |a: &str, b: &str| !a.is_empty() && !b.is_empty() && a != b;
        differ(&self.unit_code, &other.unit_code)
            || differ(
                &crate::roster::normalize_name(&self.unit_name),
                &crate::roster::normalize_name(&other.unit_name),
            )
    }

    /// The unit as this claim names it: `东兴村村民委员会（112）`, or the code or name alone.
    pub fn unit_text(&self) -> String {
        let (name, code) = (clip(&self.unit_name), clip(&self.unit_code));
        match (name.as_ref(), code.as_ref()) {
            ("", code) => code.to_string(),
            (name, "") => name.to_string(),
            (name, code) => format!("{name}（{code}）"),
        }
    }

    /// Which unit the claim counts for when claims are tallied: its code, else its name.
    fn unit_key(&self) -> String {
        if self.unit_code.is_empty() {
            format!("name:{}", crate::roster::normalize_name(&self.unit_name))
        } else {
            self.unit_code.clone()
        }
    }
}

impl Identity {
    /// Whether the places that say whose report this is disagree.
    pub fn conflicting(&self) -> bool {
        self.claims
            .iter()
            .enumerate()
            .any(|(i, a)| self.claims[i + 1..].iter().any(|b| a.disagrees(b)))
    }

    /// When claims disagree: the unit most of them name (on a tie, the one the first
    /// cover names, what the clerk saw; else the most trusted), as a claim with the code
    /// and name its claims give. `None` when they agree.
    fn majority(&self) -> Option<Claim> {
        if !self.conflicting() {
            return None;
        }
        let mut tally: Vec<(String, Vec<&Claim>)> = Vec::new();
        for c in &self.claims {
            match tally.iter_mut().find(|(k, _)| *k == c.unit_key()) {
                Some((_, v)) => v.push(c),
                None => tally.push((c.unit_key(), vec![c])),
            }
        }
        let first_cover = self
            .claims
            .iter()
            .find(|c| matches!(c.source, ClaimSource::Cover(_)))
            .map(Claim::unit_key);
        let rank = |(i, (key, v)): &(usize, &(String, Vec<&Claim>))| {
            (
                v.len(),
                Some(key) == first_cover.as_ref(),
                std::cmp::Reverse(*i),
            )
        };
        let (_, (_, group)) = tally.iter().enumerate().max_by_key(|e| rank(e))?;
        let pick = |f: fn(&Claim) -> &str| {
            group
                .iter()
                .map(|c| f(c))
                .find(|t| !t.is_empty())
                .unwrap_or("")
                .to_string()
        };
        Some(Claim {
            source: group[0].source.clone(),
            unit_code: pick(|c| &c.unit_code),
            unit_name: pick(|c| &c.unit_name),
        })
    }
}

/// `2024`, `2024年`, `2024.0`, `２０２４` → 2024.
fn parse_year(s: &str) -> Option<i32> {
    let folded = normalise::label(s);
    let digits: String = folded
        .trim_end_matches('年')
        .trim_end_matches(".0")
        .to_string();
    digits.parse().ok()
}

/// One cover of a workbook: its sheet, its fields by code, and whether it was found by
/// our hidden keys (else by its labels).
#[derive(Default)]
struct Cover {
    sheet: String,
    fields: BTreeMap<String, String>,
    /// Where each field's value is (or is to be typed).
    places: BTreeMap<String, Place>,
    keyed: bool,
}

/// Every cover of a workbook: each sheet marked as a cover by its hidden keys, then each
/// other sheet carrying a cover's labels (单位名称 or 单位代码 with a value beside it: a
/// pasted copy of a cover, a hand-made one). Identity sheets are not covers.
fn read_covers(wb: &RawWorkbook) -> Vec<Cover> {
    let mut out = Vec::new();
    let mut keyed_sheets = Vec::new();
    for sheet in &wb.sheets {
        if let Some((col, keys)) = key_column(sheet) {
            if keys.values().any(|k| *k == Marker::Cover) {
                let mut fields = BTreeMap::new();
                let mut places = BTreeMap::new();
                for (row, key) in &keys {
                    if let Marker::Field(code) = key {
                        let at = CellRef::new(*row, col + (COVER_VALUE_COL - KEY_COL));
                        fields.insert(code.to_string(), text_of(sheet.get(at)));
                        let place = Place {
                            sheet: sheet.name.clone(),
                            at,
                        };
                        places.insert(code.to_string(), place);
                    }
                }
                keyed_sheets.push(sheet.name.as_str());
                out.push(Cover {
                    sheet: sheet.name.clone(),
                    fields,
                    places,
                    keyed: true,
                });
            }
        }
    }
    // By labels: each value is the next non-empty cell to the right of its label.
    let labels: HashMap<String, &str> = COVER_FIELDS
        .iter()
        .map(|f| (normalise::label(f.label), f.code))
        .collect();
    let longest = COVER_FIELDS
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    for sheet in &wb.sheets {
        if keyed_sheets.contains(&sheet.name.as_str()) || is_identity_sheet(sheet) {
            continue;
        }
        let mut found = BTreeMap::new();
        let mut places = BTreeMap::new();
        for (at, v) in &sheet.cells {
            let RawValue::Text(t) = v else {
                continue;
            };
            // Only a short text can be a label (a long one is not worth folding).
            if t.chars().count() > longest * 3 {
                continue;
            }
            let Some(code) = labels.get(&normalise::label(t)) else {
                continue;
            };
            let value = sheet
                .cells
                .range(CellRef::new(at.row, at.col + 1)..CellRef::new(at.row, at.col + 6))
                .map(|(c, v)| (*c, text_of(Some(v))))
                .find(|(_, t)| !t.is_empty());
            let value_at = value
                .as_ref()
                .map_or(CellRef::new(at.row, at.col + 1), |v| v.0);
            if !found.contains_key(*code) {
                let place = Place {
                    sheet: sheet.name.clone(),
                    at: value_at,
                };
                places.insert(code.to_string(), place);
            }
            found
                .entry(code.to_string())
                .or_insert(value.map(|v| v.1).unwrap_or_default());
        }
        let names_a_unit = ["unit_name", "unit_code"]
            .iter()
            .any(|k| found.get(*k).is_some_and(|v| !v.is_empty()));
        if found.contains_key("unit_name") || names_a_unit {
            out.push(Cover {
                sheet: sheet.name.clone(),
                fields: found,
                places,
                keyed: false,
            });
        }
    }
    out
}

/// Locates every value of the report in a workbook.
pub fn locate(wb: &RawWorkbook, formats: &Formats, fallback_year: Option<i32>) -> Found {
    let (identity, cover) = identify(wb, formats);
    let mut found = Found {
        identity,
        format_id: None,
        cells: BTreeMap::new(),
        texts: BTreeMap::new(),
        cover: cover.fields,
        cover_places: cover.places,
        table_sheets: BTreeMap::new(),
        strays: Vec::new(),
        missing_text_sheet: false,
        findings: Vec::new(),
        document: wb.kind.is_document(),
    };
    // Without a template's identity (a Word report, a web page, a workbook made by
    // hand), the title says whose report it is and for which year.
    let title = report_title(wb);
    if let Some(t) = &title {
        if found.identity.by == IdentifiedBy::Nothing && !t.unit.is_empty() {
            found.identity.unit_name = t.unit.clone();
            found.identity.by = IdentifiedBy::Title;
        }
        if found.identity.year.is_none() {
            found.identity.year = t.year;
        }
        found.identity.title = Some(t.text.clone());
    }
    // A workbook that states no year is taken for the year the user gave (`--year`).
    if found.identity.year.is_none() {
        found.identity.year = fallback_year;
    }
    let year = found.identity.year;
    // The layout to read is the workbook's own format when it says, else the year's.
    let format = match (&found.identity.format_id, year) {
        (Some(id), _) if formats.by_id(id).is_ok() => formats.by_id(id).ok(),
        (_, Some(y)) => formats.for_year(y).ok(),
        _ => detect_format(wb, formats),
    };
    let Some(format) = format else {
        found.findings.push(Finding::file_level(
            Level::Error,
            rule_ids::NOT_A_REPORT,
            "无法确定报告年度和格式：工作簿中没有模板标识，封面也没有填写报告年度",
            "请使用下发的模板填写，或在封面填写报告年度",
        ));
        return found;
    };
    found.format_id = Some(format.id.clone());
    for table in &format.tables {
        locate_table(wb, table, &mut found);
    }
    if wb.kind.is_document() {
        let title_row = title.map(|t| t.row);
        texts_by_paragraphs(wb, format, title_row, &mut found);
    } else {
        locate_text(wb, format, &mut found);
        // A document's sheets are made up from its tables: no numbers outside them.
        found.strays = strays(wb, format, &found);
    }
    found
}

/// The numbers typed in a table's rows (from its first located row to its last, rows
/// inserted between them included; right of its labels) that are in no cell of the
/// report, one [`Stray`] per row: an inserted row is one mistake. Above the table is
/// its title and header, below it the clerk's own notes, and the hidden key column
/// holds only markers: none of these is looked at.
fn strays(wb: &RawWorkbook, format: &Format, found: &Found) -> Vec<Stray> {
    let mut out = Vec::new();
    for sheet in &wb.sheets {
        let located: BTreeMap<CellRef, &Key> = found
            .cells
            .iter()
            .filter(|(_, l)| l.place.sheet == sheet.name)
            .map(|(k, l)| (l.place.at, k))
            .collect();
        let key_col = key_column(sheet).map(|(col, _)| col);
        let mut rows: BTreeMap<u32, (&Table, StrayCells, usize)> = BTreeMap::new();
        for table in &format.tables {
            if found.table_sheets.get(&table.code) != Some(&sheet.name) {
                continue;
            }
            let prefix = format!("{}.", table.code);
            let mine = located
                .iter()
                .filter(|(_, k)| k.as_str().starts_with(&prefix))
                .map(|(at, _)| *at);
            let Some((top, bottom, left)) = mine.fold(None, |acc: Option<(u32, u32, u16)>, at| {
                Some(acc.map_or((at.row, at.row, at.col), |(t, b, l)| {
                    (t.min(at.row), b.max(at.row), l.min(at.col))
                }))
            }) else {
                continue;
            };
            let area = CellRef::new(top, 0)..=CellRef::new(bottom, u16::MAX);
            for (at, v) in sheet.cells.range(area) {
                if at.col >= left
                    && Some(at.col) != key_col
                    && !located.contains_key(at)
                    && typed_number(v)
                {
                    let (_, cells, more) = rows.entry(at.row).or_insert((table, Vec::new(), 0));
                    if cells.iter().any(|(c, _)| c == at) {
                        continue;
                    }
                    if cells.len() < STRAYS_LISTED {
                        cells.push((*at, clip(&v.display()).into_owned()));
                    } else {
                        *more += 1;
                    }
                }
            }
        }
        for (_, (table, cells, more_cells)) in rows {
            let about = stray_path(format, table, sheet, &cells, key_col, &located);
            out.push(Stray {
                sheet: sheet.name.clone(),
                cells,
                more_cells,
                more_rows: 0,
                about,
            });
        }
    }
    if out.len() > STRAYS_LISTED {
        let more_rows = out.len() - STRAYS_LISTED;
        out.truncate(STRAYS_LISTED);
        if let Some(last) = out.last_mut() {
            last.more_rows = more_rows;
        }
    }
    out
}

/// A cell holding a number as typed: a number, or text of digits only (a cell
/// formatted as text). `—`, `无` and other words are not numbers a clerk meant to count.
fn typed_number(v: &RawValue) -> bool {
    match v {
        RawValue::Number(_) => true,
        RawValue::Text(s) => {
            let s = s.trim();
            !s.is_empty()
                && s.chars()
                    .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
                && s.chars()
                    .all(|c| c.is_ascii_digit() || ('０'..='９').contains(&c) || c == '.')
        }
        _ => false,
    }
}

/// Stray numbers of one row in words: their table, the nearest label left of the first
/// in its row and, for a single number, the column of the report cell nearest above or
/// below it (表二's blocks differ).
fn stray_path(
    format: &Format,
    table: &Table,
    sheet: &RawSheet,
    cells: &[(CellRef, String)],
    key_col: Option<u16>,
    located: &BTreeMap<CellRef, &Key>,
) -> LabelPath {
    let Some(&(at, _)) = cells.first() else {
        return table_path(table);
    };
    let row = sheet
        .cells
        .range(CellRef::new(at.row, 0)..at)
        .rev()
        .filter(|(c, _)| Some(c.col) != key_col)
        .find_map(|(_, v)| match v {
            RawValue::Text(s) if !s.trim().is_empty() && !typed_number(v) => {
                Some(clip(s.trim()).into_owned())
            }
            _ => None,
        })
        .unwrap_or_default();
    let column = located
        .iter()
        .filter(|(c, _)| cells.len() == 1 && c.col == at.col)
        .min_by_key(|(c, _)| c.row.abs_diff(at.row))
        .and_then(|(_, k)| format.cell(k))
        .map(|c| column_label(c.col))
        .unwrap_or_default();
    LabelPath {
        row,
        column,
        ..table_path(table)
    }
}

/// Without identity or year: the format whose table labels the workbook matches best.
fn detect_format<'f>(wb: &RawWorkbook, formats: &'f Formats) -> Option<&'f Format> {
    let labels: std::collections::HashSet<String> = wb
        .sheets
        .iter()
        .flat_map(|s| s.cells.values())
        .map(|v| normalise::label(&text_of(Some(v))))
        .collect();
    let score = |f: &Format| {
        let all: Vec<String> = f
            .tables
            .iter()
            .flat_map(|t| {
                t.rows().map(|(_, r)| r.label.clone()).chain(
                    t.blocks
                        .iter()
                        .flat_map(|b| b.columns.iter().map(|c| c.label.clone())),
                )
            })
            .filter(|l| !l.is_empty())
            .map(|l| normalise::label(&l))
            .collect();
        let hits = all.iter().filter(|l| labels.contains(*l)).count();
        (hits * 1000) / all.len().max(1)
    };
    formats
        .all()
        .iter()
        .filter(|f| score(f) >= 700)
        .max_by_key(|f| score(f))
}

fn locate_error(
    found: &mut Found,
    sheet: &str,
    spot: Spot,
    about: LabelPath,
    message: String,
    hint: &str,
) {
    found.findings.push(Finding {
        sheet: sheet.to_string(),
        spot,
        about: Some(about),
        ..Finding::file_level(Level::Error, rule_ids::LOCATE, message, hint)
    });
}

/// A value of the report by the labels of its format: its cell's table, row and column
/// (`表三「（七）总计」行「自然人」列`), or a field's label. `None` for a key the format
/// does not have. Reads as [`Format::describe`] does.
pub fn label_path(format: &Format, key: &Key) -> Option<LabelPath> {
    if let Some(c) = format.cell(key) {
        return Some(cell_path(c.table, c.block, c.row, c.col));
    }
    format.field(key).map(|f| LabelPath {
        row: f.label.clone(),
        ..LabelPath::default()
    })
}

/// A table cell by its labels (see [`label_path`]).
fn cell_path(table: &Table, block: &Block, row: &Row, col: &Column) -> LabelPath {
    let mut path = row_path(table, block, row);
    path.column = column_label(col);
    path
}

/// A row of a table by its labels, without a column.
fn row_path(table: &Table, block: &Block, row: &Row) -> LabelPath {
    LabelPath {
        table: format!("表{}{}", table.number, block.title.as_deref().unwrap_or("")),
        row: row.label.clone(),
        column: String::new(),
    }
}

/// A table as a whole.
fn table_path(table: &Table) -> LabelPath {
    LabelPath {
        table: format!("表{}", table.number),
        ..LabelPath::default()
    }
}

/// A column's label after the group labels a clerk needs: the outermost group of table
/// 三 (申请人情况) adds nothing, so of three levels the first is left out.
fn column_label(col: &Column) -> String {
    let all: Vec<&str> = col
        .groups
        .iter()
        .chain(std::iter::once(&col.label))
        .map(String::as_str)
        .collect();
    let shown = if all.len() > 2 { &all[1..] } else { &all[..] };
    shown.join("/")
}

fn locate_table(wb: &RawWorkbook, table: &Table, found: &mut Found) {
    let marker = Marker::Table(table.code.clone());
    let keyed: Vec<&RawSheet> = wb
        .sheets
        .iter()
        .filter(|s| key_column(s).is_some_and(|(_, keys)| keys.values().any(|k| *k == marker)))
        .collect();
    match keyed.as_slice() {
        [sheet] => by_keys(sheet, table, found),
        [] => by_labels(wb, table, found),
        several => {
            let names: Vec<&str> = several.iter().map(|s| s.name.as_str()).collect();
            locate_error(
                found,
                names[0],
                Spot::None,
                table_path(table),
                format!(
                    "表{}出现在多个工作表中（{}），无法确定以哪一个为准",
                    table.number,
                    clip(&names.join("、"))
                ),
                "请删除多余的工作表副本，只保留一张后重新报送",
            );
        }
    }
}

fn by_keys(sheet: &RawSheet, table: &Table, found: &mut Found) {
    let Some((_, keys)) = key_column(sheet) else {
        return;
    };
    found
        .table_sheets
        .insert(table.code.clone(), sheet.name.clone());
    // Row keys and, for each, the column-key row above it.
    let mut rows: HashMap<&str, Vec<u32>> = HashMap::new();
    let mut col_rows: Vec<u32> = Vec::new();
    for (row, key) in &keys {
        if let Marker::Row(code) = key {
            rows.entry(code.as_str()).or_default().push(*row);
        } else if *key == Marker::Cols {
            col_rows.push(*row);
        }
    }
    // Each column-key row's columns by code, read once: every row under it uses them.
    let col_maps: Vec<(u32, HashMap<&str, Vec<u16>>)> = col_rows
        .iter()
        .map(|&key_row| {
            let mut map: HashMap<&str, Vec<u16>> = HashMap::new();
            let from = CellRef::new(key_row, 0);
            let to = CellRef::new(key_row + 1, 0);
            for (at, v) in sheet.cells.range(from..to) {
                if let RawValue::Text(code) = v {
                    map.entry(code.trim()).or_default().push(at.col);
                }
            }
            (key_row, map)
        })
        .collect();
    let no_columns = HashMap::new();
    // The columns of the nearest column-key row above `row`.
    let columns_at = |row: u32| -> &HashMap<&str, Vec<u16>> {
        col_maps
            .iter()
            .rev()
            .find(|(key_row, _)| *key_row < row)
            .map_or(&no_columns, |(_, map)| map)
    };
    for block in &table.blocks {
        for row in &block.rows {
            let at_rows = rows.get(row.code.as_str()).cloned().unwrap_or_default();
            // Named only in a finding: most rows have none.
            let what = || row_in_words(table, row);
            let r = match at_rows.as_slice() {
                [r] => *r,
                [] => {
                    locate_error(
                        found,
                        &sheet.name,
                        Spot::None,
                        row_path(table, block, row),
                        format!("找不到{}（模板中的这一行被删除了）", what()),
                        "请使用下发的模板重新填写，不要删除表格中的行",
                    );
                    continue;
                }
                several => {
                    let cells: Vec<String> =
                        several.iter().map(|r| format!("第 {} 行", r + 1)).collect();
                    locate_error(
                        found,
                        &sheet.name,
                        Spot::None,
                        row_path(table, block, row),
                        format!(
                            "{}出现了多次（{}），无法确定以哪一行为准",
                            what(),
                            clip(&cells.join("、"))
                        ),
                        "请删除复制出来的多余行，只保留一行",
                    );
                    continue;
                }
            };
            let cols = columns_at(r);
            for col in &block.columns {
                let key = Key::cell(&table.code, &row.code, &col.code);
                match cols.get(col.code.as_str()).map(Vec::as_slice) {
                    Some([c]) => {
                        let at = CellRef::new(r, *c);
                        found.cells.insert(key, Located::value(sheet, at));
                    }
                    _ => locate_error(
                        found,
                        &sheet.name,
                        Spot::Row { row: r },
                        cell_path(table, block, row, col),
                        format!(
                            "找不到{}的「{}」列（模板中的列被删除或复制了）",
                            what(),
                            col.label
                        ),
                        "请使用下发的模板重新填写，不要增删表格中的列",
                    ),
                }
            }
        }
    }
}

/// How a finding names a row of a table: 表三「（一）予以公开」行, or 表三 for a row
/// without a label.
fn row_in_words(table: &Table, row: &Row) -> String {
    if row.label.is_empty() {
        format!("表{}", table.number)
    } else {
        format!("表{}「{}」行", table.number, row.label)
    }
}

/// The best sheet for a table by its labels: the one holding most of its row labels.
fn sheet_by_labels<'w>(wb: &'w RawWorkbook, table: &Table) -> Option<(&'w RawSheet, usize)> {
    let wanted: Vec<String> = table
        .rows()
        .map(|(_, r)| normalise::label(&r.label))
        .filter(|l| !l.is_empty())
        .collect();
    let wanted_cols: Vec<String> = table
        .blocks
        .iter()
        .flat_map(|b| b.columns.iter().map(|c| normalise::label(&c.label)))
        .collect();
    // A sheet our template keyed as another table is that table's, whatever labels
    // the two share (表四's 总计 and 其他 are not 表三's).
    let others = |s: &RawSheet| {
        key_column(s).is_some_and(|(_, keys)| {
            keys.values()
                .any(|k| matches!(k, Marker::Table(code) if *code != table.code))
        })
    };
    wb.sheets
        .iter()
        .filter(|s| s.name != identity::SHEET && !others(s))
        .map(|s| {
            let labels: std::collections::HashSet<String> = s
                .cells
                .values()
                .map(|v| normalise::label(&text_of(Some(v))))
                .collect();
            let hits = wanted.iter().filter(|l| labels.contains(*l)).count()
                + wanted_cols.iter().filter(|l| labels.contains(*l)).count();
            (s, hits)
        })
        .filter(|(_, hits)| *hits > 0)
        .max_by_key(|(s, hits)| (*hits, std::cmp::Reverse(s.name.clone())))
}

fn by_labels(wb: &RawWorkbook, table: &Table, found: &mut Found) {
    found.identity.by_labels = true;
    let Some((sheet, _)) = sheet_by_labels(wb, table) else {
        locate_error(
            found,
            "",
            Spot::None,
            table_path(table),
            format!(
                "缺少工作表「{}」：找不到表{}“{}”",
                table.sheet, table.number, table.title
            ),
            "请使用下发的模板填写，不要删除或改动工作表",
        );
        return;
    };
    found
        .table_sheets
        .insert(table.code.clone(), sheet.name.clone());
    // Every cell's normalised label, for lookups by label.
    let mut by_label: HashMap<String, Vec<CellRef>> = HashMap::new();
    for (at, v) in &sheet.cells {
        if let RawValue::Text(s) = v {
            by_label.entry(normalise::label(s)).or_default().push(*at);
        }
    }
    for block in &table.blocks {
        let rows = block_rows_by_label(block, &by_label);
        // A table without row labels (表四): its data row is the one under the header.
        let header_anchor = rows.iter().flatten().map(|at| at.row).min();
        let cols = block_columns_by_label(block, &by_label, header_anchor.unwrap_or(u32::MAX));
        for (row, at_row) in block.rows.iter().zip(&rows) {
            // Named only in a finding: most rows have none.
            let what = || row_in_words(table, row);
            let r = match at_row {
                Some(at) => at.row,
                None if row.label.is_empty() => match cols.iter().flatten().map(|c| c.1).max() {
                    Some(header_row) => header_row + 1,
                    None => continue,
                },
                None => {
                    locate_error(
                        found,
                        &sheet.name,
                        Spot::None,
                        row_path(table, block, row),
                        format!("找不到{}（按标签也无法确定位置）", what()),
                        "请使用下发的模板填写，行标签不要改动",
                    );
                    continue;
                }
            };
            for (col, at_col) in block.columns.iter().zip(&cols) {
                let key = Key::cell(&table.code, &row.code, &col.code);
                match at_col {
                    Some((c, _)) => {
                        let at = CellRef::new(r, *c);
                        found.cells.insert(key, Located::value(sheet, at));
                    }
                    None => locate_error(
                        found,
                        &sheet.name,
                        Spot::None,
                        cell_path(table, block, row, col),
                        format!(
                            "找不到{}的「{}」列（按标签也无法确定位置）",
                            what(),
                            col.label
                        ),
                        "请使用下发的模板填写，表头不要改动",
                    ),
                }
            }
        }
    }
}

/// Each row's label cell, if exactly one cell carries it (else unknown).
fn block_rows_by_label(
    block: &Block,
    by_label: &HashMap<String, Vec<CellRef>>,
) -> Vec<Option<CellRef>> {
    block
        .rows
        .iter()
        .map(
            |r| match by_label.get(&normalise::label(&r.label)).map(Vec::as_slice) {
                Some([one]) if !r.label.is_empty() => Some(*one),
                _ => None,
            },
        )
        .collect()
}

/// Each column's (column, header row), found above `first_data_row`: the nearest header
/// cell with its label; labels repeated within the block (表四's 结果维持 ×3) are matched
/// left to right, and only when the counts agree.
fn block_columns_by_label(
    block: &Block,
    by_label: &HashMap<String, Vec<CellRef>>,
    first_data_row: u32,
) -> Vec<Option<(u16, u32)>> {
    let mut out = Vec::new();
    let mut used: HashMap<String, usize> = HashMap::new();
    for col in &block.columns {
        let label = normalise::label(&col.label);
        let same: usize = block
            .columns
            .iter()
            .filter(|c| normalise::label(&c.label) == label)
            .count();
        let candidates: Vec<CellRef> = by_label
            .get(&label)
            .map(|v| {
                // Only header cells within a few rows above the data (this block's header).
                let mut near: Vec<CellRef> = v
                    .iter()
                    .copied()
                    .filter(|at| {
                        first_data_row == u32::MAX
                            || (at.row < first_data_row && at.row + 6 >= first_data_row)
                    })
                    .collect();
                if let Some(lowest) = near.iter().map(|at| at.row).max() {
                    // The nearest header row wins (a label repeated in an earlier block).
                    if same == 1 {
                        near.retain(|at| at.row == lowest);
                    }
                }
                near.sort_by_key(|at| (at.col, at.row));
                near
            })
            .unwrap_or_default();
        let n = used.entry(label.clone()).or_insert(0);
        let pick = if candidates.len() == same {
            candidates.get(*n).map(|at| (at.col, at.row))
        } else {
            None
        };
        *n += 1;
        out.push(pick);
    }
    out
}

/// The text sections and numeric fields, by keys on the text sheet or by headings.
fn locate_text(wb: &RawWorkbook, format: &Format, found: &mut Found) {
    let keyed = wb.sheets.iter().find_map(|s| {
        let (col, keys) = key_column(s)?;
        keys.values()
            .any(|k| *k == Marker::Text)
            .then_some((s, col, keys))
    });
    if let Some((sheet, col, keys)) = keyed {
        for (row, key) in &keys {
            if let Marker::Section(code) = key {
                let at = CellRef::new(*row, col + 1);
                found
                    .texts
                    .insert(code.to_string(), Located::text(sheet, at));
            } else if let Marker::Field(code) = key {
                let at = CellRef::new(*row, col + (TEXT_FIELD_COL - KEY_COL));
                found
                    .cells
                    .insert(Key::field(code), Located::value(sheet, at));
            }
        }
    } else {
        texts_by_headings(wb, format, found);
    }
    let any_field = format
        .fields
        .iter()
        .any(|f| found.cells.contains_key(&Key::field(&f.code)));
    if found.texts.is_empty() && !any_field {
        found.missing_text_sheet = true;
        locate_error(
            found,
            "",
            Spot::None,
            LabelPath::default(),
            format!(
                "缺少工作表「{TEXT_SHEET}」：报告的文字（{}）和表格以外的数字都在这张表上",
                section_range(format)
            ),
            "请从下发的模板中把这张工作表复制回来填写，或用下发的模板重新填写",
        );
        return;
    }
    for f in &format.fields {
        if !found.cells.contains_key(&Key::field(&f.code)) {
            locate_error(
                found,
                "",
                Spot::None,
                LabelPath {
                    row: f.label.clone(),
                    ..LabelPath::default()
                },
                format!("找不到“{}”", f.label),
                "请使用下发的模板填写",
            );
        }
    }
}

/// The numbered sections a text sheet holds, as a clerk reads them: `一至六部分`.
fn section_range(format: &Format) -> String {
    let numbers: Vec<&str> = format
        .sections
        .iter()
        .filter_map(|s| s.number.as_deref())
        .collect();
    match (numbers.first(), numbers.last()) {
        (Some(first), Some(last)) if first != last => format!("{first}至{last}部分"),
        (Some(one), _) => format!("第{one}部分"),
        _ => "各部分".to_string(),
    }
}

/// Without keys: a section's text is the first non-empty cell below its heading, in the
/// heading's column; a field's value is the first number to the right of its label.
fn texts_by_headings(wb: &RawWorkbook, format: &Format, found: &mut Found) {
    for sheet in &wb.sheets {
        for (at, v) in &sheet.cells {
            let label = normalise::label(&text_of(Some(v)));
            for s in &format.sections {
                let heading = normalise::label(&s.heading());
                if s.number.is_some()
                    && label.starts_with(&heading)
                    && !found.texts.contains_key(&s.code)
                {
                    let below = (1..=3)
                        .map(|d| CellRef::new(at.row + d, at.col))
                        .find(|c| sheet.get(*c).is_some());
                    if let Some(c) = below {
                        found.texts.insert(s.code.clone(), Located::text(sheet, c));
                    }
                }
            }
            for f in &format.fields {
                if label == normalise::label(&f.label) {
                    let c = CellRef::new(at.row, at.col + 1);
                    found
                        .cells
                        .entry(Key::field(&f.code))
                        .or_insert_with(|| Located::value(sheet, c));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reports without a template: the title, the text by its headings, the unit by its name

/// A report's title as found: its text, its row (on [`PARAGRAPHS_SHEET`] for a
/// document), and the unit and year it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    pub text: String,
    pub row: u32,
    /// The unit's name as the title writes it (may be empty).
    pub unit: String,
    pub year: Option<i32>,
}

/// What every report's title says after the unit and the year.
const TITLE_CORE: &str = "政府信息公开";

/// The report's title: the first short text (a document's paragraph, else a cell of a
/// workbook, sheet by sheet) reading `<单位名称><年度>年政府信息公开工作年度报告`.
/// A title whose own line has no unit (`2024年政府信息公开工作年度报告`) takes the short
/// line just above it (`海林市教育局`), as Word titles are often set on two lines.
pub fn report_title(wb: &RawWorkbook) -> Option<Title> {
    wb.sheets.iter().find_map(|sheet| {
        sheet.cells.iter().find_map(|(at, v)| {
            let RawValue::Text(text) = v else {
                return None;
            };
            let (mut unit, year) = parse_title(text)?;
            let mut text = text.trim().to_string();
            if unit.is_empty() && at.row > 0 {
                let above = sheet.text(CellRef::new(at.row - 1, at.col));
                if (2..=30).contains(&above.chars().count()) && !above.contains(TITLE_CORE) {
                    unit = normalize_name(&above);
                    text = format!("{above}{text}");
                }
            }
            Some(Title {
                text,
                row: at.row,
                unit,
                year,
            })
        })
    })
}

/// The unit and year a title names: `山市镇人民政府2024年政府信息公开工作年度报告` →
/// (`山市镇人民政府`, 2024). Also `2024年度`, `二〇二四年`, and the year after the
/// core words (`…政府信息公开工作2024年度报告`). `None` for any other text.
pub fn parse_title(text: &str) -> Option<(String, Option<i32>)> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.chars().count() > 80 || !compact.contains("年度报告") {
        return None;
    }
    let at = compact.find(TITLE_CORE)?;
    let (before, after) = compact.split_at(at);
    let before = before
        .trim_start_matches(['《', '“', '"'])
        .trim_start_matches("关于");
    // After the core words only `工作`, a year and `年度报告` (not a path of links such
    // as `首页>政府信息公开>年度报告`)…
    let rest = &after[TITLE_CORE.len()..];
    let rest = rest.strip_prefix("工作").unwrap_or(rest);
    let later = split_year_anywhere(rest);
    let digits = rest.trim_start_matches(|c| year_digit(c).is_some());
    let rest = match digits.len() < rest.len() {
        true => digits
            .strip_prefix("年度")
            .or_else(|| digits.strip_prefix('年'))
            .unwrap_or(digits),
        false => rest,
    };
    // …and nothing after 报告 but closing marks: a sentence quoting the title is not one.
    let rest = rest.trim_end_matches(['》', '”', '"', '）', ')', '。']);
    if rest != "年度报告" && !(later.is_some() && rest == "报告") {
        return None;
    }
    let (unit, year) = match split_year(before) {
        Some((unit, year)) => (unit, Some(year)),
        None => (before, later),
    };
    let unit = unit.trim_end_matches(['（', '(', '—', '-', '_', '：', ':']);
    Some((unit.to_string(), year))
}

/// `山市镇2024年度` → (`山市镇`, 2024): a year (four digits, or four Chinese digits)
/// followed by 年 or 年度 at the end of `s`.
fn split_year(s: &str) -> Option<(&str, i32)> {
    let s = s.strip_suffix('度').unwrap_or(s);
    let s = s.strip_suffix('年')?;
    let digits: Vec<(usize, char)> = s.char_indices().rev().take(4).collect();
    if digits.len() < 4 {
        return None;
    }
    let year: String = digits
        .iter()
        .rev()
        .map(|(_, c)| year_digit(*c))
        .collect::<Option<_>>()?;
    Some((&s[..digits[3].0], year.parse().ok()?))
}

/// The first year (`2024年`) anywhere in `s`.
fn split_year_anywhere(s: &str) -> Option<i32> {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(5).find_map(|w| {
        if w[4] != '年' {
            return None;
        }
        let year: String = w[..4]
            .iter()
            .map(|c| year_digit(*c))
            .collect::<Option<_>>()?;
        year.parse().ok()
    })
}

/// A digit of a year as written: `2`, `２`, `二`, `〇`, `○`, `零`.
fn year_digit(c: char) -> Option<char> {
    const CHINESE: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - 0xfee0),
        '○' | '零' | 'Ｏ' | 'O' => Some('0'),
        _ => CHINESE
            .iter()
            .position(|d| *d == c)
            .and_then(|i| char::from_digit(i as u32, 10)),
    }
}

/// Whether a paragraph is a top-level heading of a report (`一、总体情况`,
/// `二、主动公开政府信息情况`…): a Chinese numeral, `、` or `.`, and a short title.
fn is_top_heading(paragraph: &str) -> bool {
    let label = normalise::label(paragraph);
    let numerals = label
        .chars()
        .take_while(|c| "一二三四五六七八九十".contains(*c))
        .count();
    (1..=2).contains(&numerals)
        && label
            .chars()
            .nth(numerals)
            .is_some_and(|c| matches!(c, '、' | '.'))
        && label.chars().count() <= 40
}

/// How the lines a portal puts around an article begin (主办单位, 网站标识码, 打印本页…):
/// where a saved web page's report text ends.
const PAGE_FURNITURE: &[&str] = &[
    "主办",
    "承办",
    "版权所有",
    "网站标识码",
    "网站地图",
    "联系我们",
    "ICP",
    "京ICP",
    "公网安备",
    "【打印",
    "打印本页",
    "关闭窗口",
    "【关闭",
    "分享到",
    "扫一扫",
    "上一篇",
    "下一篇",
    "相关链接",
    "相关文章",
];

/// Whether a paragraph is a portal's line rather than the report's (see
/// [`PAGE_FURNITURE`]).
fn is_page_furniture(paragraph: &str) -> bool {
    let p = paragraph.trim_start();
    PAGE_FURNITURE.iter().any(|f| p.starts_with(f))
}

/// A document's text sections by their headings on [`PARAGRAPHS_SHEET`]: each headed
/// section is the paragraphs after its heading up to the next top-level heading; the
/// opening (开篇) is those after the title (or from the start) up to the first heading.
/// The numeric fields are read from the sentence the format says states them.
fn texts_by_paragraphs(
    wb: &RawWorkbook,
    format: &Format,
    title_row: Option<u32>,
    found: &mut Found,
) {
    let Some(sheet) = wb.sheet(PARAGRAPHS_SHEET) else {
        return;
    };
    let paragraphs: Vec<(u32, String)> = sheet
        .cells
        .iter()
        .map(|(at, v)| (at.row, text_of(Some(v))))
        .collect();
    // The paragraphs after `from` (an index) up to the next heading, or the portal's
    // own lines after the article.
    let body = |from: usize| -> Vec<&(u32, String)> {
        paragraphs[from..]
            .iter()
            .take_while(|(_, p)| !is_top_heading(p) && !is_page_furniture(p))
            .collect::<Vec<_>>()
    };
    for s in &format.sections {
        let (start, anchor) = match &s.number {
            Some(_) => {
                let heading = normalise::label(&s.heading());
                let Some(i) = paragraphs.iter().position(|(_, p)| {
                    is_top_heading(p) && normalise::label(p).starts_with(&heading)
                }) else {
                    continue;
                };
                (i + 1, paragraphs[i].0)
            }
            None => {
                let i = title_row
                    .and_then(|r| paragraphs.iter().position(|(row, _)| *row == r))
                    .map_or(0, |i| i + 1);
                (i, title_row.unwrap_or(0))
            }
        };
        let lines = body(start.min(paragraphs.len()));
        // Line by line: a paragraph may hold several (Word's line breaks), the 落款's
        // name and date among them.
        let mut text: Vec<&str> = lines.iter().flat_map(|(_, p)| p.split('\n')).collect();
        drop_signature(&mut text);
        let at = lines.first().map_or(anchor, |(row, _)| *row);
        let place = Place {
            sheet: sheet.name.clone(),
            at: CellRef::new(at, 0),
        };
        if let Some(sentence) = &s.fields_sentence {
            let if_none = s.fields_sentence_if_none.as_deref();
            let all = text.join("\n");
            let stated = fields_from_sentence(format, sentence, if_none, &all, &place, found);
            // The sentence stating the fields, where the section says more, is what
            // our reports add to the unit's text: kept once, as the fields. Alone, it
            // is the unit's own text.
            if let Some(stated) = stated {
                let bare = |s: &str| {
                    normalise::label(s)
                        .trim_end_matches(['。', '.'])
                        .to_string()
                };
                let other = |p: &&str| bare(p) != bare(&stated);
                if text.iter().any(other) {
                    text.retain(other);
                }
            }
        }
        let joined = text.join("\n");
        found.texts.insert(
            s.code.clone(),
            Located {
                place,
                raw: (!joined.is_empty()).then_some(RawValue::Text(joined)),
                formula: None,
            },
        );
    }
}

/// The 落款 that ends a report (the unit's name on a short line, then the date) is not
/// part of the last section's text.
fn drop_signature(lines: &mut Vec<&str>) {
    while lines.last().is_some_and(|p| p.trim().is_empty()) {
        lines.pop();
    }
    if lines.last().and_then(|p| crate::quotes::date(p)).is_none() {
        return;
    }
    lines.pop();
    let signed = |p: &str| {
        let p = p.trim();
        !p.is_empty() && p.chars().count() <= 40 && !p.contains(['。', '；', '：', '.', ';', ':'])
    };
    if lines.last().is_some_and(|p| signed(p)) {
        lines.pop();
    }
}

/// The numeric fields a section's text states in the format's sentence
/// (`本年度收取信息处理费 {fee_cases} 件，金额 {fee_amount} 元。`): each field's number is
/// the one right after the words before its placeholder; the sentence for none
/// (`本年度未收取信息处理费。`) gives them all 0. A text stating neither gives nothing:
/// a published report is not held to the template's sentence. Returns the sentence as
/// the text states it, when it states it whole.
fn fields_from_sentence(
    format: &Format,
    sentence: &str,
    if_none: Option<&str>,
    text: &str,
    place: &Place,
    found: &mut Found,
) -> Option<String> {
    let folded = normalise::label(text);
    let none = if_none.is_some_and(|n| {
        let n = normalise::label(n);
        let n = n.trim_end_matches(['。', '.']);
        !n.is_empty() && folded.contains(n)
    });
    let mut rest = sentence;
    let mut stated = sentence.to_string();
    let mut all = true;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let before = normalise::label(&rest[..open]);
        let code = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if format.field(&Key::field(code)).is_none() {
            continue;
        }
        let number = if none {
            Some(0.0)
        } else {
            folded.find(&before).and_then(|i| {
                let digits: String = folded[i + before.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ','))
                    .filter(|c| *c != ',')
                    .collect();
                digits.parse::<f64>().ok()
            })
        };
        match number {
            Some(x) => stated = stated.replace(&format!("{{{code}}}"), &number_text(x)),
            None => all = false,
        }
        if let Some(x) = number {
            found.cells.insert(
                Key::field(code),
                Located {
                    place: place.clone(),
                    raw: Some(RawValue::Number(x)),
                    formula: None,
                },
            );
        }
    }
    match (none, if_none) {
        (true, Some(n)) => Some(n.to_string()),
        _ => all.then_some(stated),
    }
}

/// Whether a character is a CJK ideograph (part of a name, unlike a digit or `、`).
fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{3134f}')
}

/// The roster units a report names, from its title or its file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch<'r> {
    /// One unit.
    One(&'r Unit),
    /// Several units, none more certain than the others: the report is not taken for any.
    Several(Vec<&'r Unit>),
    /// None.
    None,
}

/// Suffixes of roster names a report's title or file name often leaves out (山市镇人民政府
/// → 山市镇): the one definition of a unit's short name.
const NAME_SUFFIXES: &[&str] = &[
    "人民政府办公室",
    "人民政府",
    "村民委员会",
    "居民委员会",
    "村委会",
    "居委会",
    "街道办事处",
    "办事处",
];

/// A unit's name for matching: [`normalize_name`], then a common suffix dropped where
/// a name of at least two characters remains (`山市镇人民政府` → `山市镇`,
/// `东兴村村民委员会` → `东兴村`).
pub fn short_name(name: &str) -> String {
    let full = normalize_name(name);
    NAME_SUFFIXES
        .iter()
        .find_map(|suffix| {
            let rest = full.strip_suffix(suffix)?;
            (rest.chars().count() >= 2).then(|| rest.to_string())
        })
        .unwrap_or(full)
}

/// The roster unit a text names (a title's unit, or a file's name): first a unit whose
/// name, or short name ([`short_name`]), equals the text's after normalisation; else
/// the units whose name or short name the text contains where a name can end (before a
/// year, punctuation or the end: 示例县 does not name 示例县财政局), a match inside a
/// longer one not counting: one unit, or several, or none.
pub fn unit_by_name<'r>(roster: &'r Roster, text: &str) -> NameMatch<'r> {
    let wanted = normalize_name(text);
    if wanted.is_empty() {
        return NameMatch::None;
    }
    let exact: Vec<&Unit> = roster
        .units()
        .iter()
        .filter(|u| normalize_name(&u.name) == wanted || short_name(&u.name) == short_name(text))
        .collect();
    match exact.as_slice() {
        [one] => return NameMatch::One(one),
        [] => {}
        several => return NameMatch::Several(several.to_vec()),
    }
    // Each unit's longest name found in the text, with where: ending where a name ends
    // (a year, punctuation, the end), so that 示例县 does not name 示例县财政局's report.
    let ends_a_name = |at: usize| {
        wanted[at..]
            .chars()
            .next()
            .is_none_or(|c| !is_ideograph(c) || year_digit(c).is_some() || c == '年')
    };
    let mut hits: Vec<(&Unit, usize, usize)> = Vec::new();
    for u in roster.units() {
        let names = [normalize_name(&u.name), short_name(&u.name)];
        let best = names
            .iter()
            .filter(|n| n.chars().count() >= 2)
            .flat_map(|n| {
                wanted
                    .match_indices(n.as_str())
                    .map(|(at, n)| (at, at + n.len()))
                    .collect::<Vec<_>>()
            })
            .filter(|(_, end)| ends_a_name(*end))
            .max_by_key(|(a, b)| b - a);
        if let Some((a, b)) = best {
            hits.push((u, a, b));
        }
    }
    let inside = |(a, b): (usize, usize), (c, d): (usize, usize)| c <= a && b <= d && d - c > b - a;
    let kept: Vec<&Unit> = hits
        .iter()
        .filter(|(_, a, b)| !hits.iter().any(|(_, c, d)| inside((*a, *b), (*c, *d))))
        .map(|(u, _, _)| *u)
        .collect();
    match kept.as_slice() {
        [one] => NameMatch::One(one),
        [] => NameMatch::None,
        several => NameMatch::Several(several.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(source: ClaimSource, code: &str, name: &str) -> Claim {
        Claim {
            source,
            unit_code: code.into(),
            unit_name: name.into(),
        }
    }

    fn identity(claims: Vec<Claim>) -> Identity {
        Identity {
            claims,
            ..Identity::default()
        }
    }

    #[test]
    fn claims_disagree_on_code_or_name_and_the_majority_is_taken() {
        let sheet = || ClaimSource::Sheet("_nianbao".into());
        let cover = || ClaimSource::Cover("封面".into());
        // Agreeing: a code alone, a name in other widths and spaces.
        let agree = identity(vec![
            claim(sheet(), "112", "东兴村村民委员会"),
            claim(ClaimSource::Properties, "112", ""),
            claim(cover(), "112", "东兴村 村民委员会"),
        ]);
        assert!(!agree.conflicting());
        assert!(agree.majority().is_none());
        // The hidden code changed: two against one.
        let odd = identity(vec![
            claim(sheet(), "111", "东兴村村民委员会"),
            claim(ClaimSource::Properties, "112", ""),
            claim(cover(), "112", "东兴村村民委员会"),
        ]);
        assert!(odd.conflicting());
        let winner = odd.majority().unwrap();
        assert_eq!(
            (winner.unit_code.as_str(), winner.unit_name.as_str()),
            ("112", "东兴村村民委员会")
        );
        assert_eq!(winner.source.identified_by(), IdentifiedBy::Properties);
        // One against one: the cover, what the clerk saw.
        let tie = identity(vec![
            claim(sheet(), "111", "山市村村民委员会"),
            claim(cover(), "112", "东兴村村民委员会"),
        ]);
        assert_eq!(tie.majority().unwrap().unit_code, "112");
        // Same code, another name on the cover.
        let renamed = identity(vec![
            claim(sheet(), "112", "东兴村村民委员会"),
            claim(cover(), "112", "山市村村民委员会"),
        ]);
        assert!(renamed.conflicting());
        assert_eq!(claim(cover(), "112", "东兴村").unit_text(), "东兴村（112）");
    }

    #[test]
    fn label_paths_read_as_the_format_describes_its_values() {
        for format in Formats::builtin().all() {
            for key in format.keys() {
                let path = label_path(format, &key).unwrap();
                assert_eq!(path.text(), format.describe(&key), "{key}");
            }
            assert_eq!(label_path(format, &Key::from_string("t9.x.y")), None);
        }
        let f = Formats::builtin();
        let path = label_path(
            f.by_id("2019").unwrap(),
            &Key::cell("t3", "total", "natural"),
        );
        assert_eq!(
            path.unwrap(),
            LabelPath {
                table: "表三".into(),
                row: "（七）总计".into(),
                column: "申请人情况/自然人".into(),
            }
        );
    }

    #[test]
    fn a_signature_ends_the_text_and_is_not_part_of_it() {
        // Which lines are dates: `quotes::date`'s own tests.
        let rows = ["无。", "山市镇人民政府", "2025年1月13日", ""];
        let mut lines = rows.to_vec();
        drop_signature(&mut lines);
        assert_eq!(lines, ["无。"]);
        // Without a date at the end, a short last line is the text's own.
        let mut lines = rows[..2].to_vec();
        drop_signature(&mut lines);
        assert_eq!(lines, ["无。", "山市镇人民政府"]);
    }

    #[test]
    fn titles_give_the_unit_and_the_year() {
        let cases = [
            (
                "山市镇人民政府2024年政府信息公开工作年度报告",
                Some(("山市镇人民政府", Some(2024))),
            ),
            (
                "海林市教育局 2024 年度政府信息公开工作年度报告",
                Some(("海林市教育局", Some(2024))),
            ),
            (
                "《东兴村二〇二三年政府信息公开工作年度报告》",
                Some(("东兴村", Some(2023))),
            ),
            (
                "示例县财政局政府信息公开工作2022年度报告",
                Some(("示例县财政局", Some(2022))),
            ),
            ("政府信息公开工作年度报告", Some(("", None))),
            // Not titles: a path of links, a sentence, other reports.
            ("首页 > 政府信息公开 > 年度报告", None),
            (
                "现将本单位政府信息公开工作年度报告如下：本年度共收到申请 5 件。",
                None,
            ),
            ("山市镇2024年工作总结", None),
        ];
        for (text, want) in cases {
            let got = parse_title(text);
            let got = got.as_ref().map(|(u, y)| (u.as_str(), *y));
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn units_are_named_exactly_or_by_the_one_name_a_text_holds() {
        let csv = "code,name,parent_code,level\n\
                   100,海林市人民政府,,county\n\
                   101,海林市教育局,100,department\n\
                   110,山市镇人民政府,100,township\n\
                   111,山市村村民委员会,110,village\n\
                   112,东兴村村民委员会,110,village\n";
        let roster = Roster::parse(csv.as_bytes(), "u.csv").unwrap();
        let code = |text: &str| match unit_by_name(&roster, text) {
            NameMatch::One(u) => u.code.to_string(),
            NameMatch::Several(us) => {
                let codes: Vec<String> = us.iter().map(|u| u.code.to_string()).collect();
                format!("several {}", codes.join(","))
            }
            NameMatch::None => "none".into(),
        };
        assert_eq!(short_name("山市镇人民政府"), "山市镇");
        assert_eq!(short_name("东兴村村民委员会"), "东兴村");
        assert_eq!(
            short_name("县人民政府"),
            "县人民政府",
            "too short without the suffix"
        );
        assert_eq!(code("山市镇"), "110");
        assert_eq!(code("山市镇 人民政府"), "110");
        assert_eq!(code("山市镇2024年政府信息公开工作年度报告"), "110");
        // 海林市 inside 海林市教育局 does not count.
        assert_eq!(code("海林市教育局2024年年报"), "101");
        // A name is not the start of another: 海林市 does not name 海林市财政局.
        assert_eq!(code("海林市财政局2024年年报"), "none");
        assert_eq!(code("山市村、东兴村2024年报告"), "several 111,112");
        assert_eq!(code("年度报告"), "none");
    }

    #[test]
    fn a_title_on_two_lines_takes_the_unit_from_the_line_above() {
        let mut sheet = RawSheet {
            name: PARAGRAPHS_SHEET.into(),
            ..RawSheet::default()
        };
        for (row, text) in ["海林市教育局", "2024年政府信息公开工作年度报告", "正文"]
            .iter()
            .enumerate()
        {
            sheet.cells.insert(
                CellRef::new(row as u32, 0),
                RawValue::Text(text.to_string()),
            );
        }
        let wb = RawWorkbook {
            kind: crate::read::FileKind::Docx,
            sheets: vec![sheet],
            properties: BTreeMap::new(),
            saved: None,
        };
        let title = report_title(&wb).unwrap();
        assert_eq!(
            (title.unit.as_str(), title.year, title.row),
            ("海林市教育局", Some(2024), 1)
        );
    }
}
