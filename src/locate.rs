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
use crate::model::{clip, rule_ids, Finding, LabelPath, Level, Place, Spot};
use crate::normalise;
use crate::read::{RawSheet, RawValue, RawWorkbook};

/// How the workbook's unit, year and format were established.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum IdentifiedBy {
    /// The hidden identity sheet of our template.
    HiddenSheet,
    /// The xlsx document properties of our template.
    Properties,
    /// The visible cover sheet.
    Cover,
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
    };
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
    locate_text(wb, format, &mut found);
    found.strays = strays(wb, format, &found);
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
    let columns_at = |row: u32| -> HashMap<String, Vec<u16>> {
        let Some(key_row) = col_rows.iter().rev().find(|r| **r < row) else {
            return HashMap::new();
        };
        let mut map: HashMap<String, Vec<u16>> = HashMap::new();
        let from = CellRef::new(*key_row, 0);
        let to = CellRef::new(*key_row + 1, 0);
        for (at, v) in sheet.cells.range(from..to) {
            if let RawValue::Text(code) = v {
                map.entry(code.trim().to_string()).or_default().push(at.col);
            }
        }
        map
    };
    for block in &table.blocks {
        for row in &block.rows {
            let at_rows = rows.get(row.code.as_str()).cloned().unwrap_or_default();
            let what = if row.label.is_empty() {
                format!("表{}", table.number)
            } else {
                format!("表{}「{}」行", table.number, row.label)
            };
            let r = match at_rows.as_slice() {
                [r] => *r,
                [] => {
                    locate_error(
                        found,
                        &sheet.name,
                        Spot::None,
                        row_path(table, block, row),
                        format!("找不到{what}（模板中的这一行被删除了）"),
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
                            "{what}出现了多次（{}），无法确定以哪一行为准",
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
                match cols.get(&col.code).map(Vec::as_slice) {
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
                            "找不到{what}的「{}」列（模板中的列被删除或复制了）",
                            col.label
                        ),
                        "请使用下发的模板重新填写，不要增删表格中的列",
                    ),
                }
            }
        }
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
            let what = if row.label.is_empty() {
                format!("表{}", table.number)
            } else {
                format!("表{}「{}」行", table.number, row.label)
            };
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
                        format!("找不到{what}（按标签也无法确定位置）"),
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
                        format!("找不到{what}的「{}」列（按标签也无法确定位置）", col.label),
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
}
