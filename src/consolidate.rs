//! The outcomes of an ingest run → the bytes of the five consolidated CSV files.
//!
//! This module owns the consolidated outputs a coordinator opens in Excel:
//!
//! - `values.csv`: every value of every accepted unit, one row per unit × key (long form);
//! - `units.csv`: one row per roster unit (and per file that could not be matched to
//!   one) with its status, file, finding counts and key figures;
//! - `rollup.csv`: the sum of the accepted units under every parent of the roster, and
//!   of the whole roster (`ALL`), in the same long form as `values.csv`;
//! - `diagnostics.csv`: every finding of every file that was read;
//! - `sections.csv`: the text sections of every accepted unit;
//! - `files.csv`: one row per input file and what became of it.
//!
//! The files are streamed: each file's submission is read back from the ingest
//! [`Store`] when its rows are written, so memory does not grow with the number of files
//! (only the roll-up sums, one map per parent, stay in memory). The header rows are
//! stable English snake_case; the values people read (labels, messages, reasons) are
//! Chinese. Output is deterministic: the same outcomes give the same bytes.
//!
//! "Roster order" is the roster's hierarchy depth-first (pre-order), roots and siblings
//! in file order, so that every unit follows its parent.
//!
//! Every text cell goes through one helper, [`neutralise`], so that a value a clerk
//! typed (`=cmd|…`, `-2`, `@SUM(…)`) is never executed by Excel as a formula; numeric
//! columns are written as they are (a negative 本年增/减 stays `-2`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::format::{Format, Key, KeyFigure};
use crate::ingest::{Counts, FileOutcome, Status, Store, StoreError};
use crate::model::{Finding, Level, UnitCode};
use crate::roster::{Roster, Unit};
use crate::validate::{fmt_num, Submission};

/// How the CSV files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Start each file with a UTF-8 byte-order mark (EF BB BF), so that Excel on Chinese
    /// Windows opens it as UTF-8 rather than GBK.
    pub bom: bool,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions { bom: true }
    }
}

/// Roll-up of one parent: accepted units in its subtree (itself included) summed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    /// The parent's roster code, or [`ALL_CODE`] for the whole roster.
    pub code: String,
    pub name: String,
    /// The parent's roster level as written ([`ALL_LEVEL`] for the whole roster).
    pub level: String,
    /// 0 for the whole roster, 1 for a root of the roster, 2 for its children, …
    pub depth: usize,
    /// Codes of the units of the subtree with an accepted file, in roster order.
    pub included: Vec<String>,
    /// Codes of the units of the subtree without an accepted file (rejected ones
    /// included), in roster order.
    pub missing: Vec<String>,
    /// Codes of the missing units whose file was rejected, in roster order.
    pub rejected: Vec<String>,
    /// The sum of each key over the included units; a key none of them has is absent.
    pub values: BTreeMap<Key, f64>,
}

/// The code of the roll-up of the whole roster.
pub const ALL_CODE: &str = "ALL";
/// The name of the roll-up of the whole roster.
pub const ALL_NAME: &str = "全部单位合计";
/// The level shown for the roll-up of the whole roster.
pub const ALL_LEVEL: &str = "全部";

/// `values.csv` header.
pub const VALUES_HEADER: &[&str] = &[
    "year",
    "unit_code",
    "unit_name",
    "parent_code",
    "table",
    "row_code",
    "row_label",
    "col_code",
    "col_label",
    "value",
];
const VALUES_NUMERIC: &[&str] = &["year", "value"];

/// `units.csv` header, before the format's key figures ([`units_header`]).
const UNITS_BASE_HEADER: &[&str] = &[
    "unit_code",
    "unit_name",
    "parent_code",
    "level",
    "status",
    "file",
    "errors",
    "warnings",
    "fixes",
];
const UNITS_BASE_NUMERIC: &[&str] = &["errors", "warnings", "fixes"];

/// `units.csv` header: who, status and counts, then one column per key figure of the
/// format (`new_requests`, `handled_total`, … for both official formats).
pub fn units_header(format: &Format) -> Vec<&str> {
    let figures = format.key_figures.iter().map(|k| k.column.as_str());
    UNITS_BASE_HEADER.iter().copied().chain(figures).collect()
}

/// `rollup.csv` header.
pub const ROLLUP_HEADER: &[&str] = &[
    "year",
    "parent_code",
    "parent_name",
    "level",
    "depth",
    "units_included",
    "units_missing",
    "units_rejected",
    "table",
    "row_code",
    "row_label",
    "col_code",
    "col_label",
    "value",
];
const ROLLUP_NUMERIC: &[&str] = &[
    "year",
    "depth",
    "units_included",
    "units_missing",
    "units_rejected",
    "value",
];

/// `diagnostics.csv` header.
pub const DIAGNOSTICS_HEADER: &[&str] = &[
    "unit_code",
    "unit_name",
    "file",
    "sheet",
    "cell",
    "level",
    "rule",
    "message",
    "found",
    "expected",
    "hint",
];

/// `sections.csv` header: the text sections of every accepted unit, so that reports
/// can be rendered again from a run's outputs (`nianbao report`).
pub const SECTIONS_HEADER: &[&str] = &[
    "unit_code",
    "unit_name",
    "section_code",
    "section_title",
    "text",
];

/// `files.csv` header.
pub const FILES_HEADER: &[&str] = &["file", "status", "reason", "unit_code", "chosen"];

/// The `status` of a roster unit no file is attributed to.
pub const MISSING: &str = "missing";

/// Writes the CSV files into `out_dir`, reading each file's submission from `store`
/// once per pass (one unit in memory at a time). The files are written to
/// temporary files and renamed into place together at the end, so an interrupted run
/// leaves the previous outputs as they were.
///
/// Without a roster, every accepted file is a unit of its own (listed by code) and the
/// roll-up has the single `ALL` row over them.
#[allow(clippy::too_many_arguments)]
pub fn write(
    out_dir: &Path,
    format: &Format,
    year: i32,
    roster: Option<&Roster>,
    outcomes: &[FileOutcome],
    store: &Store,
    options: CsvOptions,
) -> Result<Vec<Rollup>, ConsolidateError> {
    let who = Attribution::new(roster, outcomes);
    let cells = key_labels(format);
    let year_text = year.to_string();
    let mut values = Sheet::create(
        out_dir,
        "values.csv",
        VALUES_HEADER,
        VALUES_NUMERIC,
        options,
    )?;
    let units_numeric: Vec<&str> = UNITS_BASE_NUMERIC
        .iter()
        .copied()
        .chain(format.key_figures.iter().map(|k| k.column.as_str()))
        .collect();
    let mut units = Sheet::create(
        out_dir,
        "units.csv",
        &units_header(format),
        &units_numeric,
        options,
    )?;
    let mut sections = Sheet::create(out_dir, "sections.csv", SECTIONS_HEADER, &[], options)?;
    let mut sums = Sums::new(&who);

    // One pass in roster order: each unit's file is loaded once for its units.csv row,
    // its values, its share of every roll-up above it and its report.
    for (unit, _) in &who.order {
        let parent = unit.parent.as_ref().map_or("", |p| p.as_str());
        let file = who.file.get(unit.code.as_str()).copied();
        let sub = load_for_figures(store, file)?;
        unit_row(
            &mut units,
            &format.key_figures,
            unit.code.as_str(),
            &unit.name,
            parent,
            &unit.level,
            file,
            sub.as_ref(),
        )?;
        if let (Some(outcome), Some(sub)) = (file, &sub) {
            if outcome.status.is_accepted() {
                long_rows(
                    &mut values,
                    &[&year_text, unit.code.as_str(), &unit.name, parent],
                    &cells,
                    &sub.values,
                )?;
                section_rows(&mut sections, format, unit.code.as_str(), &unit.name, sub)?;
                sums.add(unit.code.as_str(), &sub.values);
            }
        }
    }
    for outcome in who.elsewhere() {
        let sub = load_for_figures(store, Some(outcome))?;
        let code = code_of(outcome);
        unit_row(
            &mut units,
            &format.key_figures,
            code,
            &outcome.unit_name,
            "",
            "",
            Some(outcome),
            sub.as_ref(),
        )?;
        if let Some(sub) = &sub {
            if outcome.status.is_accepted() {
                long_rows(
                    &mut values,
                    &[&year_text, code, &outcome.unit_name, ""],
                    &cells,
                    &sub.values,
                )?;
                section_rows(&mut sections, format, code, &outcome.unit_name, sub)?;
                sums.add_elsewhere(&sub.values);
            }
        }
    }
    let rollups = sums.finish();
    let mut rollup = Sheet::create(
        out_dir,
        "rollup.csv",
        ROLLUP_HEADER,
        ROLLUP_NUMERIC,
        options,
    )?;
    for r in &rollups {
        let depth = r.depth.to_string();
        let included = r.included.len().to_string();
        let missing = r.missing.len().to_string();
        let rejected = r.rejected.len().to_string();
        let prefix = [
            year_text.as_str(),
            &r.code,
            &r.name,
            &r.level,
            &depth,
            &included,
            &missing,
            &rejected,
        ];
        long_rows(&mut rollup, &prefix, &cells, &r.values)?;
    }
    let diagnostics = diagnostics_csv(out_dir, &who, store, options)?;
    let files = files_csv(out_dir, outcomes, options)?;
    // All five are complete: only now do they replace the previous run's files.
    for sheet in [values, units, sections, rollup, diagnostics, files] {
        sheet.persist()?;
    }
    Ok(rollups)
}

/// A failure to write the outputs or to read back a stored submission.
#[derive(Debug, thiserror::Error)]
pub enum ConsolidateError {
    #[error("写入 {path} 失败：{source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("写入 CSV 失败：{0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The submission that gives a unit its figures: its accepted or rejected file.
fn load_for_figures(
    store: &Store,
    file: Option<&FileOutcome>,
) -> Result<Option<Submission>, StoreError> {
    match file {
        Some(o) if o.status.is_accepted() || o.status == Status::Rejected => {
            o.stored.map(|i| store.get(i)).transpose()
        }
        _ => Ok(None),
    }
}

// ── Writing ──────────────────────────────────────────────────────────────────────────

/// A text cell as Excel must not execute it: a value beginning with `=`, `+`, `-`, `@`,
/// tab or carriage return is prefixed with a single quote.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One CSV file being written to a temporary file beside its final name: its header,
/// and which columns are numeric (written as they are; every other column goes through
/// [`neutralise`]).
struct Sheet {
    writer: csv::Writer<std::io::BufWriter<tempfile::NamedTempFile>>,
    numeric: Vec<bool>,
    path: PathBuf,
}

impl Sheet {
    fn create(
        dir: &Path,
        name: &str,
        header: &[&str],
        numeric: &[&str],
        options: CsvOptions,
    ) -> Result<Sheet, ConsolidateError> {
        let path = dir.join(name);
        let io = |source| ConsolidateError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::io::BufWriter::new(crate::output::temp_beside(&path).map_err(io)?);
        if options.bom {
            file.write_all(b"\xEF\xBB\xBF").map_err(io)?;
        }
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(file);
        writer.write_record(header)?;
        let numeric = header.iter().map(|h| numeric.contains(h)).collect();
        Ok(Sheet {
            writer,
            numeric,
            path,
        })
    }

    fn row(&mut self, fields: &[&str]) -> Result<(), csv::Error> {
        debug_assert_eq!(
            fields.len(),
            self.numeric.len(),
            "a row must match its header"
        );
        let record = fields.iter().zip(&self.numeric).map(|(field, numeric)| {
            if *numeric {
                Cow::Borrowed(*field)
            } else {
                neutralise(field)
            }
        });
        self.writer.write_record(record.map(|c| c.into_owned()))
    }

    fn persist(self) -> Result<(), ConsolidateError> {
        let io = |source| ConsolidateError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let file = self.writer.into_inner().map_err(|e| io(e.into_error()))?;
        let tmp = file.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        crate::output::persist(tmp, &self.path).map_err(io)
    }
}

// ── Who sent what ────────────────────────────────────────────────────────────────────

/// The unit an outcome is for: the roster unit it was matched to, or else what the
/// workbook says.
fn code_of(outcome: &FileOutcome) -> &str {
    if !outcome.unit_code.is_empty() {
        return &outcome.unit_code;
    }
    &outcome.workbook_code
}

/// Which file speaks for a unit when several are attributed to it: an accepted one,
/// else a rejected one, else one for the wrong year, else any; first in the given order
/// on a tie. Duplicates never do.
fn file_rank(status: Status) -> Option<u8> {
    match status {
        Status::Accepted | Status::AcceptedWithWarnings => Some(0),
        Status::Rejected => Some(1),
        Status::WrongYear => Some(2),
        Status::Duplicate => None,
        _ => Some(3),
    }
}

fn roster_unit<'a>(roster: Option<&'a Roster>, code: &str) -> Option<&'a Unit> {
    roster?.get(&UnitCode::new(code)?)
}

/// The outcomes attributed to each roster unit, and the roster in depth-first order.
struct Attribution<'a> {
    roster: Option<&'a Roster>,
    /// Roster units in depth-first order with their depth (a root is 0).
    order: Vec<(&'a Unit, usize)>,
    outcomes: &'a [FileOutcome],
    /// Roster code → the outcome that speaks for it (see [`file_rank`]).
    file: HashMap<&'a str, &'a FileOutcome>,
}

impl<'a> Attribution<'a> {
    fn new(roster: Option<&'a Roster>, outcomes: &'a [FileOutcome]) -> Attribution<'a> {
        let mut order = Vec::new();
        if let Some(roster) = roster {
            for root in roster.roots() {
                order.push((root, 0));
                for unit in roster.descendants(&root.code) {
                    order.push((unit, roster.ancestors(&unit.code).len()));
                }
            }
        }
        let mut file: HashMap<&str, &FileOutcome> = HashMap::new();
        for outcome in outcomes {
            let Some(rank) = file_rank(outcome.status) else {
                continue;
            };
            let Some(unit) = roster_unit(roster, &outcome.unit_code) else {
                continue;
            };
            let code = unit.code.as_str();
            let better = file
                .get(code)
                .is_none_or(|current| file_rank(current.status).is_none_or(|r| rank < r));
            if better {
                file.insert(code, outcome);
            }
        }
        Attribution {
            roster,
            order,
            outcomes,
            file,
        }
    }

    fn unit(&self, code: &str) -> Option<&'a Unit> {
        roster_unit(self.roster, code)
    }

    /// Outcomes that identify a unit not on the roster (every identified file when there
    /// is no roster), by code then file: each is a row of units.csv of its own.
    fn elsewhere(&self) -> Vec<&'a FileOutcome> {
        let mut out: Vec<&FileOutcome> = self
            .outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o.status,
                    Status::Unidentified
                        | Status::UnknownUnit
                        | Status::Accepted
                        | Status::AcceptedWithWarnings
                        | Status::Rejected
                        | Status::WrongYear
                ) && self.unit(&o.unit_code).is_none()
            })
            .collect();
        out.sort_by(|a, b| (code_of(a), &a.file).cmp(&(code_of(b), &b.file)));
        out
    }
}

/// The running sums of every roll-up: the whole roster first, then each roster unit
/// with children, in roster order. Memory is one map per parent, whatever the number of
/// files.
struct Sums {
    rollups: Vec<Rollup>,
    /// Roster code → the indices of the roll-ups it counts in.
    member_of: HashMap<String, Vec<usize>>,
}

impl Sums {
    fn new(who: &Attribution) -> Sums {
        let mut rollups = vec![Rollup {
            code: ALL_CODE.into(),
            name: ALL_NAME.into(),
            level: ALL_LEVEL.into(),
            depth: 0,
            included: Vec::new(),
            missing: Vec::new(),
            rejected: Vec::new(),
            values: BTreeMap::new(),
        }];
        let mut member_of: HashMap<String, Vec<usize>> = HashMap::new();
        if let Some(roster) = who.roster {
            for (unit, depth) in &who.order {
                if roster.children(&unit.code).is_empty() {
                    continue;
                }
                let index = rollups.len();
                rollups.push(Rollup {
                    code: unit.code.to_string(),
                    name: unit.name.clone(),
                    level: unit.level.clone(),
                    depth: depth + 1,
                    included: Vec::new(),
                    missing: Vec::new(),
                    rejected: Vec::new(),
                    values: BTreeMap::new(),
                });
                for member in std::iter::once(*unit).chain(roster.descendants(&unit.code)) {
                    member_of
                        .entry(member.code.to_string())
                        .or_default()
                        .push(index);
                }
            }
            // Membership lists in roster order, from the headers alone.
            for (unit, _) in &who.order {
                let code = unit.code.to_string();
                let file = who.file.get(unit.code.as_str());
                let accepted = file.is_some_and(|o| o.status.is_accepted());
                let rejected = file.is_some_and(|o| o.status == Status::Rejected);
                let mut indices = vec![0];
                indices.extend(member_of.get(&code).into_iter().flatten());
                for i in indices {
                    let r = &mut rollups[i];
                    if accepted {
                        r.included.push(code.clone());
                    } else {
                        r.missing.push(code.clone());
                        if rejected {
                            r.rejected.push(code.clone());
                        }
                    }
                }
            }
        } else {
            for o in who
                .elsewhere()
                .into_iter()
                .filter(|o| o.status.is_accepted())
            {
                rollups[0].included.push(code_of(o).to_string());
            }
        }
        Sums { rollups, member_of }
    }

    fn add_values(rollup: &mut Rollup, values: &BTreeMap<Key, f64>) {
        for (key, v) in values {
            *rollup.values.entry(key.clone()).or_insert(0.0) += v;
        }
    }

    /// An accepted roster unit's values, into the whole roster and every parent above.
    fn add(&mut self, code: &str, values: &BTreeMap<Key, f64>) {
        Sums::add_values(&mut self.rollups[0], values);
        for &i in self.member_of.get(code).into_iter().flatten() {
            Sums::add_values(&mut self.rollups[i], values);
        }
    }

    /// An accepted unit that is not on the roster: it counts in the whole only when
    /// there is no roster (the only time such a unit is accepted).
    fn add_elsewhere(&mut self, values: &BTreeMap<Key, f64>) {
        Sums::add_values(&mut self.rollups[0], values);
    }

    fn finish(self) -> Vec<Rollup> {
        self.rollups
    }
}

// ── Labels ───────────────────────────────────────────────────────────────────────────

/// How one numeric key is labelled in the long-form files.
struct KeyLabel {
    key: Key,
    table: String,
    row_code: String,
    row_label: String,
    col_code: String,
    col_label: String,
}

/// Every numeric key of the format, table cells in reading order then fields. A column
/// label that occurs more than once in its table (表四's 结果维持, 表二's 上一年项目数量)
/// is given its heading path: block title, groups, label, joined with `/`.
fn key_labels(format: &Format) -> Vec<KeyLabel> {
    let mut seen: HashMap<(&str, &str), BTreeSet<(usize, &str)>> = HashMap::new();
    for table in &format.tables {
        for (b, block) in table.blocks.iter().enumerate() {
            for col in &block.columns {
                let columns = seen.entry((&table.code, &col.label)).or_default();
                columns.insert((b, &col.code));
            }
        }
    }
    let mut out: Vec<KeyLabel> = format
        .cells()
        .map(|cell| {
            let ambiguous = seen[&(cell.table.code.as_str(), cell.col.label.as_str())].len() > 1;
            let col_label = if ambiguous {
                let path: Vec<&str> = cell
                    .block
                    .title
                    .iter()
                    .chain(&cell.col.groups)
                    .chain(std::iter::once(&cell.col.label))
                    .map(String::as_str)
                    .collect();
                path.join("/")
            } else {
                cell.col.label.clone()
            };
            KeyLabel {
                key: cell.key.clone(),
                table: cell.table.code.clone(),
                row_code: cell.row.code.clone(),
                row_label: cell.row.label.clone(),
                col_code: cell.col.code.clone(),
                col_label,
            }
        })
        .collect();
    out.extend(format.fields.iter().map(|field| KeyLabel {
        key: Key::field(&field.code),
        table: "fields".to_string(),
        row_code: field.code.clone(),
        row_label: field.label.clone(),
        col_code: "value".to_string(),
        col_label: "数值".to_string(),
    }));
    out
}

/// The rows of one unit or roll-up: `prefix` then the key's labels and value.
fn long_rows(
    sheet: &mut Sheet,
    prefix: &[&str],
    cells: &[KeyLabel],
    values: &BTreeMap<Key, f64>,
) -> Result<(), csv::Error> {
    for cell in cells {
        let value = values
            .get(&cell.key)
            .map(|v| fmt_num(*v))
            .unwrap_or_default();
        let mut row: Vec<&str> = prefix.to_vec();
        row.extend([
            cell.table.as_str(),
            &cell.row_code,
            &cell.row_label,
            &cell.col_code,
            &cell.col_label,
            &value,
        ]);
        sheet.row(&row)?;
    }
    Ok(())
}

// ── The files ────────────────────────────────────────────────────────────────────────

#[allow(clippy::too_many_arguments)]
fn unit_row(
    sheet: &mut Sheet,
    figures: &[KeyFigure],
    code: &str,
    name: &str,
    parent: &str,
    level: &str,
    file: Option<&FileOutcome>,
    sub: Option<&Submission>,
) -> Result<(), csv::Error> {
    let status = file.map_or(MISSING, |o| o.status.code());
    let path = file.map_or("", |o| o.file.as_str());
    let count = |n: fn(&Counts) -> usize| {
        file.and_then(|o| o.counts.as_ref())
            .map(|c| n(c).to_string())
            .unwrap_or_default()
    };
    let figures: Vec<String> = figures
        .iter()
        .map(|k| {
            sub.and_then(|sub| k.of(&sub.values))
                .map(fmt_num)
                .unwrap_or_default()
        })
        .collect();
    let (errors, warnings, fixes) = (
        count(|c| c.errors),
        count(|c| c.warnings),
        count(|c| c.fixes),
    );
    let mut row = vec![
        code, name, parent, level, status, path, &errors, &warnings, &fixes,
    ];
    row.extend(figures.iter().map(String::as_str));
    sheet.row(&row)
}

/// Every finding of every file read, sorted by unit, file, sheet, cell. Files are taken
/// in (unit, file) order and each one's findings sorted, which is the same order as
/// sorting everything, with one file in memory at a time.
fn diagnostics_csv(
    out_dir: &Path,
    who: &Attribution,
    store: &Store,
    options: CsvOptions,
) -> Result<Sheet, ConsolidateError> {
    let mut order: Vec<&FileOutcome> = who.outcomes.iter().filter(|o| o.stored.is_some()).collect();
    order.sort_by(|a, b| (code_of(a), &a.file).cmp(&(code_of(b), &b.file)));
    let mut sheet = Sheet::create(out_dir, "diagnostics.csv", DIAGNOSTICS_HEADER, &[], options)?;
    for outcome in order {
        let Some(at) = outcome.stored else {
            continue;
        };
        let sub = store.get(at)?;
        let code = code_of(outcome);
        let name = match who.unit(code) {
            Some(unit) => unit.name.as_str(),
            None => outcome.unit_name.as_str(),
        };
        let mut findings: Vec<&Finding> = sub.findings.iter().collect();
        // Stable: findings equal on every sort column keep the order they were given in.
        findings.sort_by(|a, b| diagnostic_order(a).cmp(&diagnostic_order(b)));
        for f in findings {
            sheet.row(&[
                code,
                name,
                &outcome.file,
                &f.sheet,
                &f.cell,
                f.level.code(),
                &f.rule,
                &f.message,
                &f.found,
                &f.expected,
                &f.hint,
            ])?;
        }
    }
    Ok(sheet)
}

/// One row per text section of an accepted unit, in the format's section order.
fn section_rows(
    sheet: &mut Sheet,
    format: &Format,
    code: &str,
    name: &str,
    sub: &Submission,
) -> Result<(), csv::Error> {
    for section in &format.sections {
        let text = sub.texts.get(&section.code).map_or("", String::as_str);
        sheet.row(&[code, name, &section.code, &section.heading(), text])?;
    }
    Ok(())
}

/// (sheet, cell, level, rule, message)
type DiagnosticOrder<'r> = (&'r str, &'r str, Level, &'r str, &'r str);

fn diagnostic_order(f: &Finding) -> DiagnosticOrder<'_> {
    (&f.sheet, &f.cell, f.level, &f.rule, &f.message)
}

fn files_csv(
    out_dir: &Path,
    outcomes: &[FileOutcome],
    options: CsvOptions,
) -> Result<Sheet, ConsolidateError> {
    let mut sheet = Sheet::create(out_dir, "files.csv", FILES_HEADER, &[], options)?;
    for o in outcomes {
        sheet.row(&[
            &o.file,
            o.status.code(),
            &o.reason,
            &o.unit_code,
            o.chosen.as_deref().unwrap_or(""),
        ])?;
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::format::Formats;
    use crate::locate::IdentifiedBy;

    const EVIL: &str = "=cmd|' /C calc'!A0";

    fn roster() -> Roster {
        let text = format!(
            "code,name,parent_code,level\n\
             C,某县,,county\n\
             T1,甲镇,C,township\n\
             V1,一村,T1,village\n\
             V2,二村,T1,village\n\
             T2,乙镇,C,township\n\
             V3,三村,T2,village\n\
             D1,{EVIL},C,department\n"
        );
        Roster::parse(text.as_bytes(), "t").unwrap()
    }

    fn format() -> Format {
        Formats::builtin().by_id("2019").unwrap().clone()
    }

    fn key(s: &str) -> Key {
        Key::from_string(s)
    }

    /// Every key 0, then 表三 balanced in every column (new + carried = total +
    /// carry_next) and some litigation.
    fn balanced(format: &Format, new: f64) -> BTreeMap<Key, f64> {
        let mut values: BTreeMap<Key, f64> = format.keys().into_iter().map(|k| (k, 0.0)).collect();
        for col in &format.table("t3").unwrap().blocks[0].columns {
            set_column(&mut values, &col.code, new, 1.0, 1.0);
        }
        values.insert(key("t4.all.review_total"), 4.0);
        values.insert(key("t4.all.direct_total"), 2.0);
        values.insert(key("t4.all.after_total"), 3.0);
        values
    }

    fn set_column(
        values: &mut BTreeMap<Key, f64>,
        col: &str,
        new: f64,
        carried: f64,
        carry_next: f64,
    ) {
        values.insert(Key::cell("t3", "new", col), new);
        values.insert(Key::cell("t3", "carried", col), carried);
        values.insert(Key::cell("t3", "total", col), new + carried - carry_next);
        values.insert(Key::cell("t3", "carry_next", col), carry_next);
    }

    fn finding(level: Level, code: &str, rule: &str, message: &str) -> Finding {
        Finding {
            unit_code: code.to_string(),
            sheet: "表三 依申请公开".into(),
            cell: "C8".into(),
            ..Finding::file_level(level, rule, message, "请核对")
        }
    }

    fn sub(
        code: &str,
        name: &str,
        values: BTreeMap<Key, f64>,
        findings: Vec<Finding>,
    ) -> Submission {
        Submission {
            unit_code: code.to_string(),
            unit_name: name.to_string(),
            year: Some(2020),
            format_id: Some("2019".into()),
            identified_by: IdentifiedBy::HiddenSheet,
            by_labels: false,
            values,
            texts: BTreeMap::new(),
            cover: BTreeMap::new(),
            places: BTreeMap::new(),
            findings,
        }
    }

    thread_local! {
        /// Each test's submissions, as ingest keeps them: in a store on disk.
        static STORE: (Store, tempfile::TempDir) = {
            let dir = tempfile::tempdir().unwrap();
            (Store::new_in(dir.path()).unwrap(), dir)
        };
    }

    fn outcome(file: &str, status: Status, code: &str, sub: Option<Submission>) -> FileOutcome {
        let stored = sub
            .as_ref()
            .map(|sub| STORE.with(|(store, _)| store.put(sub).unwrap()));
        FileOutcome {
            file: file.to_string(),
            status,
            reason: String::new(),
            unit_code: code.to_string(),
            chosen: None,
            workbook_code: sub
                .as_ref()
                .map(|s| s.unit_code.clone())
                .unwrap_or_default(),
            unit_name: sub
                .as_ref()
                .map(|s| s.unit_name.clone())
                .unwrap_or_default(),
            year: sub.as_ref().and_then(|s| s.year),
            counts: sub.as_ref().map(|s| Counts {
                errors: s.errors(),
                warnings: s.warnings(),
                fixes: s.fixes(),
            }),
            stored,
            modified: None,
        }
    }

    /// The five files' bytes, as a test reads them.
    #[derive(Debug, PartialEq, Eq)]
    struct Outputs {
        values: Vec<u8>,
        units: Vec<u8>,
        rollup: Vec<u8>,
        diagnostics: Vec<u8>,
        files: Vec<u8>,
    }

    impl Outputs {
        fn named(&self) -> [(&'static str, &[u8]); 5] {
            [
                ("values.csv", &self.values),
                ("units.csv", &self.units),
                ("rollup.csv", &self.rollup),
                ("diagnostics.csv", &self.diagnostics),
                ("files.csv", &self.files),
            ]
        }
    }

    fn write_all(
        f: &Format,
        roster: Option<&Roster>,
        outcomes: &[FileOutcome],
        bom: bool,
    ) -> (Outputs, Vec<Rollup>) {
        let out = tempfile::tempdir().unwrap();
        let rollups = STORE.with(|(store, _)| {
            write(
                out.path(),
                f,
                2020,
                roster,
                outcomes,
                store,
                CsvOptions { bom },
            )
            .unwrap()
        });
        let read = |name: &str| std::fs::read(out.path().join(name)).unwrap();
        let outputs = Outputs {
            values: read("values.csv"),
            units: read("units.csv"),
            rollup: read("rollup.csv"),
            diagnostics: read("diagnostics.csv"),
            files: read("files.csv"),
        };
        (outputs, rollups)
    }

    fn rollups(f: &Format, roster: &Roster, outcomes: &[FileOutcome]) -> Vec<Rollup> {
        write_all(f, Some(roster), outcomes, true).1
    }

    fn submission_of(o: &FileOutcome) -> Option<Submission> {
        o.stored
            .map(|at| STORE.with(|(store, _)| store.get(at).unwrap()))
    }

    fn fixture() -> (Format, Roster, Vec<FileOutcome>) {
        let f = format();
        let mut v2 = balanced(&f, 7.0);
        v2.insert(key("t2.license.change"), -2.0);
        let mut dup = outcome(
            "甲镇/一村(1).xlsx",
            Status::Duplicate,
            "V1",
            Some(sub(
                "V1",
                "一村",
                balanced(&f, 99.0),
                vec![finding(Level::Fixed, "V1", "N-1", "全角数字已转换")],
            )),
        );
        dup.chosen = Some("甲镇/一村.xlsx".into());
        let mut rejected = outcome(
            "乙镇.xlsx",
            Status::Rejected,
            "T2",
            Some(sub(
                "T2",
                "乙镇",
                balanced(&f, 3.0),
                vec![finding(
                    Level::Error,
                    "T2",
                    "T3-1",
                    "第一项加第二项之和，不等于第三项加第四项之和",
                )],
            )),
        );
        rejected.reason = "有 1 个错误".into();
        let outcomes = vec![
            outcome(
                "甲镇/一村.xlsx",
                Status::Accepted,
                "V1",
                Some(sub("V1", "一村", balanced(&f, 5.0), vec![])),
            ),
            outcome(
                "甲镇/二村.xlsx",
                Status::AcceptedWithWarnings,
                "V2",
                Some(sub(
                    "V2",
                    "二村",
                    v2,
                    vec![
                        finding(Level::Warning, "", "V-3", "-2 以外的数值异常偏大"),
                        finding(
                            Level::Warning,
                            "V2",
                            "T2-2",
                            "本年新公开数量大于对外公开总数量",
                        ),
                    ],
                )),
            ),
            outcome(
                "甲镇.xlsx",
                Status::Accepted,
                "T1",
                Some(sub("T1", "甲镇", balanced(&f, 11.0), vec![])),
            ),
            rejected,
            dup,
            outcome(
                "教育局.xlsx",
                Status::Accepted,
                "D1",
                Some(sub("D1", EVIL, balanced(&f, 2.0), vec![])),
            ),
            outcome(
                "无名.xlsx",
                Status::Unidentified,
                "",
                Some(sub(
                    "",
                    "",
                    BTreeMap::new(),
                    vec![finding(Level::Error, "", "ID-1", "无法确定填报单位代码")],
                )),
            ),
            outcome(
                "外单位.xlsx",
                Status::UnknownUnit,
                "",
                Some(sub("X9", EVIL, balanced(&f, 1.0), vec![])),
            ),
            outcome("说明.docx", Status::Unsupported, "", None),
        ];
        (f, roster(), outcomes)
    }

    fn run(f: &Format, roster: Option<&Roster>, outcomes: &[FileOutcome], bom: bool) -> Outputs {
        write_all(f, roster, outcomes, bom).0
    }

    /// Header and rows, BOM stripped.
    fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes);
        let mut rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        let header = rows.remove(0);
        (header, rows)
    }

    /// Rows as maps from column name to value.
    fn records(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
        let (header, rows) = parse(bytes);
        rows.into_iter()
            .map(|r| header.iter().cloned().zip(r).collect())
            .collect()
    }

    fn find<'r>(
        rows: &'r [BTreeMap<String, String>],
        pairs: &[(&str, &str)],
    ) -> &'r BTreeMap<String, String> {
        let hits: Vec<_> = rows
            .iter()
            .filter(|r| pairs.iter().all(|(k, v)| r[*k] == *v))
            .collect();
        assert_eq!(hits.len(), 1, "{pairs:?}");
        hits[0]
    }

    #[test]
    fn headers_and_row_counts() {
        let (f, roster, outcomes) = fixture();
        let out = run(&f, Some(&roster), &outcomes, true);
        let keys = f.keys().len();
        let findings: usize = outcomes
            .iter()
            .filter_map(submission_of)
            .map(|s| s.findings.len())
            .sum();
        let expect: [(&[u8], &[&str], usize); 5] = [
            (&out.values, VALUES_HEADER, 4 * keys), // V1, V2, T1, D1
            (&out.units, &units_header(&f), 7 + 2), // roster + unidentified + unknown
            (&out.rollup, ROLLUP_HEADER, 4 * keys), // ALL, C, T1, T2
            (&out.diagnostics, DIAGNOSTICS_HEADER, findings),
            (&out.files, FILES_HEADER, outcomes.len()),
        ];
        for (bytes, header, rows) in expect {
            let (h, r) = parse(bytes);
            assert_eq!(h, header);
            assert_eq!(r.len(), rows, "{header:?}");
            assert!(bytes.ends_with(b"\n") && !bytes.windows(2).any(|w| w == b"\r\n"));
        }
        // The columns README documents, from both official formats' key figures.
        for f in Formats::builtin().all() {
            assert_eq!(
                units_header(f)[9..],
                [
                    "new_requests",
                    "handled_total",
                    "carried_over",
                    "review_total",
                    "litigation_total"
                ],
                "{}",
                f.id
            );
        }
        assert_eq!(ROLLUP_HEADER.len(), 14);
        assert!(ROLLUP_HEADER
            .windows(2)
            .any(|w| w == ["units_missing", "units_rejected"]));
    }

    #[test]
    fn bom_on_and_off() {
        let (f, roster, outcomes) = fixture();
        let on = run(&f, Some(&roster), &outcomes, true);
        let off = run(&f, Some(&roster), &outcomes, false);
        for ((name, with), (_, without)) in on.named().into_iter().zip(off.named()) {
            assert!(with.starts_with(b"\xEF\xBB\xBF"), "{name}");
            assert!(!without.starts_with(b"\xEF\xBB\xBF"), "{name}");
            let header = [
                VALUES_HEADER,
                &units_header(&f),
                ROLLUP_HEADER,
                DIAGNOSTICS_HEADER,
                FILES_HEADER,
            ];
            assert!(
                header
                    .iter()
                    .any(|h| without.starts_with(format!("{}\n", h.join(",")).as_bytes())),
                "{name}"
            );
            assert_eq!(&with[3..], without, "{name}");
        }
        assert!(CsvOptions::default().bom);
    }

    #[test]
    fn neutralise_text_not_numbers() {
        for s in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(s), format!("'{s}"));
        }
        for s in ["", "一村", "C8+C9", "'=x", "1-2"] {
            assert_eq!(neutralise(s), s);
        }
        let (f, roster, outcomes) = fixture();
        let out = run(&f, Some(&roster), &outcomes, true);
        let evil = format!("'{EVIL}");

        let values = records(&out.values);
        let d1 = find(
            &values,
            &[
                ("unit_code", "D1"),
                ("row_code", "new"),
                ("col_code", "total"),
            ],
        );
        assert_eq!(d1["unit_name"], evil);
        let change = find(
            &values,
            &[
                ("unit_code", "V2"),
                ("row_code", "license"),
                ("col_code", "change"),
            ],
        );
        assert_eq!(change["value"], "-2");
        let rollup = records(&out.rollup);
        let change = find(
            &rollup,
            &[
                ("parent_code", "T1"),
                ("row_code", "license"),
                ("col_code", "change"),
            ],
        );
        assert_eq!(change["value"], "-2");

        let units = records(&out.units);
        assert_eq!(find(&units, &[("unit_code", "D1")])["unit_name"], evil);
        assert_eq!(find(&units, &[("unit_code", "X9")])["unit_name"], evil);

        let diagnostics = records(&out.diagnostics);
        let v3 = find(&diagnostics, &[("rule", "V-3")]);
        assert_eq!(v3["message"], "'-2 以外的数值异常偏大");
        // The raw bytes never hold a cell that starts a formula.
        for (name, bytes) in out.named() {
            let (_, rows) = parse(bytes);
            for cell in rows.iter().flatten() {
                assert!(!cell.starts_with(['=', '+', '@']), "{name}: {cell}");
            }
        }
    }

    #[test]
    fn ambiguous_column_labels_get_their_path() {
        let (f, roster, outcomes) = fixture();
        let values = records(&run(&f, Some(&roster), &outcomes, true).values);
        let label = |row: &str, col: &str| {
            find(
                &values,
                &[("unit_code", "V1"), ("row_code", row), ("col_code", col)],
            )["col_label"]
                .clone()
        };
        assert_eq!(label("all", "review_upheld"), "行政复议/结果维持");
        assert_eq!(
            label("all", "direct_upheld"),
            "行政诉讼/未经复议直接起诉/结果维持"
        );
        assert_eq!(label("all", "after_upheld"), "行政诉讼/复议后起诉/结果维持");
        assert_eq!(label("all", "after_total"), "行政诉讼/复议后起诉/总计");
        assert_eq!(
            label("license", "prev_items"),
            "第二十条第（五）项/上一年项目数量"
        );
        assert_eq!(
            label("fees", "prev_items"),
            "第二十条第（八）项/上一年项目数量"
        );
        assert_eq!(label("penalty", "change"), "第二十条第（六）项/本年增/减");
        // Unique labels stay as they are.
        assert_eq!(label("rules", "made"), "本年新制作数量");
        assert_eq!(label("procurement", "amount"), "采购总金额");
        assert_eq!(label("new", "natural"), "自然人");
        assert_eq!(label("new", "total"), "总计");
        let row = find(
            &values,
            &[
                ("unit_code", "V1"),
                ("row_code", "new"),
                ("col_code", "natural"),
            ],
        );
        assert_eq!(row["row_label"], "一、本年新收政府信息公开申请数量");
        assert_eq!(row["table"], "t3");
        assert_eq!(row["parent_code"], "T1");
        assert_eq!(row["year"], "2020");
    }

    #[test]
    fn fields_are_labelled_as_fields() {
        let f2021 = Formats::builtin().by_id("2021").unwrap().clone();
        let mut values = balanced(&f2021, 1.0);
        values.insert(key("fee_amount"), 12.5);
        values.remove(&key("fee_cases"));
        let outcomes = vec![outcome(
            "a.xlsx",
            Status::Accepted,
            "V1",
            Some(sub("V1", "一村", values, vec![])),
        )];
        let rows = records(&run(&f2021, Some(&roster()), &outcomes, true).values);
        let fee = find(&rows, &[("table", "fields"), ("row_code", "fee_amount")]);
        assert_eq!(
            (
                fee["col_code"].as_str(),
                fee["col_label"].as_str(),
                fee["value"].as_str()
            ),
            ("value", "数值", "12.5")
        );
        assert_eq!(fee["row_label"], "收取信息处理费金额（元）");
        assert_eq!(find(&rows, &[("row_code", "fee_cases")])["value"], "");
        assert_eq!(rows.last().unwrap()["table"], "fields");
    }

    #[test]
    fn rollups_sum_subtrees() {
        let (f, roster, outcomes) = fixture();
        let r = rollups(&f, &roster, &outcomes);
        let codes: Vec<(&str, usize)> = r.iter().map(|r| (r.code.as_str(), r.depth)).collect();
        assert_eq!(codes, [("ALL", 0), ("C", 1), ("T1", 2), ("T2", 2)]);
        assert_eq!(
            (r[0].name.as_str(), r[0].level.as_str()),
            (ALL_NAME, ALL_LEVEL)
        );
        assert_eq!(
            (r[2].name.as_str(), r[2].level.as_str()),
            ("甲镇", "township")
        );

        let new_total = key("t3.new.total");
        // 甲镇 = itself (11) + 一村 (5) + 二村 (7); the duplicate (99) is not counted.
        assert_eq!(r[2].values[&new_total], 23.0);
        assert_eq!(r[2].included, ["T1", "V1", "V2"]);
        assert!(r[2].missing.is_empty() && r[2].rejected.is_empty());
        // 乙镇 rejected, 三村 missing: nothing summed.
        assert!(r[3].values.is_empty());
        assert!(r[3].included.is_empty());
        assert_eq!(r[3].missing, ["T2", "V3"]);
        assert_eq!(r[3].rejected, ["T2"]);
        // Everything accepted: 11 + 5 + 7 + 2; the unknown unit's file is not in the roster.
        for all in [&r[0], &r[1]] {
            assert_eq!(all.values[&new_total], 25.0);
            assert_eq!(all.values[&key("t2.license.change")], -2.0);
            assert_eq!(all.included, ["T1", "V1", "V2", "D1"]);
            assert_eq!(all.missing, ["C", "T2", "V3"]);
            assert_eq!(all.rejected, ["T2"]);
        }

        let rows = records(&run(&f, Some(&roster), &outcomes, true).rollup);
        let t1 = find(
            &rows,
            &[
                ("parent_code", "T1"),
                ("row_code", "new"),
                ("col_code", "total"),
            ],
        );
        assert_eq!(t1["value"], "23");
        assert_eq!(
            (
                t1["units_included"].as_str(),
                t1["units_missing"].as_str(),
                t1["units_rejected"].as_str()
            ),
            ("3", "0", "0")
        );
        let t2 = find(
            &rows,
            &[
                ("parent_code", "T2"),
                ("row_code", "new"),
                ("col_code", "total"),
            ],
        );
        assert_eq!(
            (
                t2["value"].as_str(),
                t2["units_included"].as_str(),
                t2["units_missing"].as_str(),
                t2["units_rejected"].as_str()
            ),
            ("", "0", "2", "1")
        );
        let all = find(
            &rows,
            &[
                ("parent_code", "ALL"),
                ("row_code", "new"),
                ("col_code", "total"),
            ],
        );
        assert_eq!(
            (
                all["parent_name"].as_str(),
                all["depth"].as_str(),
                all["value"].as_str()
            ),
            (ALL_NAME, "0", "25")
        );
    }

    #[test]
    fn units_status_and_key_figures() {
        let (f, roster, outcomes) = fixture();
        let rows = records(&run(&f, Some(&roster), &outcomes, true).units);
        let order: Vec<&str> = rows.iter().map(|r| r["unit_code"].as_str()).collect();
        assert_eq!(order, ["C", "T1", "V1", "V2", "T2", "V3", "D1", "", "X9"]);
        let status = |code: &str| find(&rows, &[("unit_code", code)])["status"].clone();
        assert_eq!(status("C"), "missing");
        assert_eq!(status("V1"), "accepted");
        assert_eq!(status("V2"), "accepted_with_warnings");
        assert_eq!(status("T2"), "rejected");
        assert_eq!(status("X9"), "unknown_unit");
        assert_eq!(status(""), "unidentified");

        let v1 = find(&rows, &[("unit_code", "V1")]);
        assert_eq!(v1["file"], "甲镇/一村.xlsx");
        assert_eq!(v1["parent_code"], "T1");
        assert_eq!(v1["level"], "village");
        let figures = [
            "errors",
            "warnings",
            "fixes",
            "new_requests",
            "handled_total",
            "carried_over",
            "review_total",
            "litigation_total",
        ];
        let got: Vec<&str> = figures.iter().map(|c| v1[*c].as_str()).collect();
        assert_eq!(got, ["0", "0", "0", "5", "5", "1", "4", "5"]);
        let t2 = find(&rows, &[("unit_code", "T2")]);
        assert_eq!(
            (t2["errors"].as_str(), t2["new_requests"].as_str()),
            ("1", "3")
        );
        let v2 = find(&rows, &[("unit_code", "V2")]);
        assert_eq!(v2["warnings"], "2");
        let c = find(&rows, &[("unit_code", "C")]);
        assert!(figures.iter().all(|col| c[*col].is_empty()) && c["file"].is_empty());
        let unknown = find(&rows, &[("unit_code", "X9")]);
        assert_eq!(
            (
                unknown["file"].as_str(),
                unknown["parent_code"].as_str(),
                unknown["new_requests"].as_str()
            ),
            ("外单位.xlsx", "", "")
        );
    }

    #[test]
    fn only_a_rejected_file_means_rejected() {
        let f = format();
        let outcomes = vec![
            outcome(
                "b.xlsx",
                Status::WrongYear,
                "V1",
                Some(sub("V1", "一村", BTreeMap::new(), vec![])),
            ),
            outcome(
                "a.xlsx",
                Status::Rejected,
                "V1",
                Some(sub("V1", "一村", BTreeMap::new(), vec![])),
            ),
            outcome(
                "c.xlsx",
                Status::Duplicate,
                "V3",
                Some(sub("V3", "三村", BTreeMap::new(), vec![])),
            ),
        ];
        let rows = records(&run(&f, Some(&roster()), &outcomes, true).units);
        let v1 = find(&rows, &[("unit_code", "V1")]);
        assert_eq!(
            (v1["status"].as_str(), v1["file"].as_str()),
            ("rejected", "a.xlsx")
        );
        assert_eq!(find(&rows, &[("unit_code", "V3")])["status"], "missing");
    }

    #[test]
    fn diagnostics_sorted_with_unit_fallback() {
        let (f, roster, outcomes) = fixture();
        let rows = records(&run(&f, Some(&roster), &outcomes, true).diagnostics);
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r["unit_code"].as_str(),
                    r["file"].as_str(),
                    r["rule"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("", "无名.xlsx", "ID-1"),
                ("T2", "乙镇.xlsx", "T3-1"),
                ("V1", "甲镇/一村(1).xlsx", "N-1"),
                ("V2", "甲镇/二村.xlsx", "T2-2"),
                ("V2", "甲镇/二村.xlsx", "V-3"),
            ]
        );
        let v3 = find(&rows, &[("rule", "V-3")]);
        assert_eq!(
            (
                v3["unit_name"].as_str(),
                v3["level"].as_str(),
                v3["sheet"].as_str(),
                v3["cell"].as_str()
            ),
            ("二村", "warning", "表三 依申请公开", "C8")
        );
    }

    #[test]
    fn files_one_row_per_outcome() {
        let (f, roster, outcomes) = fixture();
        for n in 0..=outcomes.len() {
            let out = run(&f, Some(&roster), &outcomes[..n], true);
            assert_eq!(parse(&out.files).1.len(), n);
        }
        let rows = records(&run(&f, Some(&roster), &outcomes, true).files);
        let files: Vec<&str> = rows.iter().map(|r| r["file"].as_str()).collect();
        let given: Vec<&str> = outcomes.iter().map(|o| o.file.as_str()).collect();
        assert_eq!(files, given);
        let dup = find(&rows, &[("status", "duplicate")]);
        assert_eq!(
            (dup["chosen"].as_str(), dup["unit_code"].as_str()),
            ("甲镇/一村.xlsx", "V1")
        );
        assert_eq!(
            find(&rows, &[("status", "rejected")])["reason"],
            "有 1 个错误"
        );
        assert_eq!(find(&rows, &[("status", "unsupported")])["chosen"], "");
    }

    #[test]
    fn deterministic() {
        let (f, roster, outcomes) = fixture();
        assert_eq!(
            run(&f, Some(&roster), &outcomes, true),
            run(&f, Some(&roster), &outcomes, true)
        );
        assert_eq!(
            rollups(&f, &roster, &outcomes),
            rollups(&f, &roster, &outcomes)
        );
    }

    #[test]
    fn without_a_roster() {
        let f = format();
        let outcomes = vec![
            outcome(
                "b.xlsx",
                Status::Accepted,
                "B",
                Some(sub("B", "乙", balanced(&f, 2.0), vec![])),
            ),
            outcome(
                "a.xlsx",
                Status::Accepted,
                "",
                Some(sub("A", "甲", balanced(&f, 3.0), vec![])),
            ),
        ];
        let out = run(&f, None, &outcomes, true);
        let values = records(&out.values);
        // Units by code (the file order is b, a), the code from the workbook when the
        // outcome has none.
        assert_eq!(values[0]["unit_code"], "A");
        assert_eq!(values.last().unwrap()["unit_code"], "B");
        assert_eq!(values[0]["unit_name"], "甲");
        let rollup = records(&out.rollup);
        assert_eq!(rollup.len(), f.keys().len());
        let all = find(&rollup, &[("row_code", "new"), ("col_code", "total")]);
        assert_eq!(
            (
                all["parent_code"].as_str(),
                all["units_included"].as_str(),
                all["value"].as_str()
            ),
            ("ALL", "2", "5")
        );
        assert_eq!(records(&out.units).len(), 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// When every unit's 表三 balances (new + carried = total + carry_next in every
        /// column), so does every roll-up; and ALL is the sum of the accepted units.
        #[test]
        fn rollups_keep_the_balance(
            units in proptest::collection::vec((0u8..4, proptest::collection::vec((0u32..500, 0u32..500, 0u32..1000), 7)), 7)
        ) {
            let f = format();
            let roster = roster();
            let cols: Vec<String> = f.table("t3").unwrap().blocks[0].columns.iter().map(|c| c.code.clone()).collect();
            let mut outcomes = Vec::new();
            let mut expected: BTreeMap<Key, f64> = BTreeMap::new();
            for ((unit, _), (state, columns)) in Attribution::new(Some(&roster), &[]).order.iter().zip(&units) {
                let mut values = BTreeMap::new();
                for (col, (new, carried, next)) in cols.iter().zip(columns) {
                    let carry_next = (*next % (new + carried + 1)) as f64;
                    set_column(&mut values, col, *new as f64, *carried as f64, carry_next);
                }
                let status = match state {
                    0 => continue,
                    1 => Status::Rejected,
                    2 => Status::Accepted,
                    _ => Status::AcceptedWithWarnings,
                };
                if status.is_accepted() {
                    for (k, v) in &values {
                        *expected.entry(k.clone()).or_insert(0.0) += v;
                    }
                }
                let code = unit.code.as_str();
                outcomes.push(outcome(&format!("{code}.xlsx"), status, code, Some(sub(code, &unit.name, values, vec![]))));
            }
            let all = rollups(&f, &roster, &outcomes);
            prop_assert_eq!(&all[0].values, &expected);
            for r in &all {
                prop_assert_eq!(r.included.len() + r.missing.len(), if r.code == "ALL" { 7 } else { roster.descendants(&UnitCode::new(&r.code).unwrap()).len() + 1 });
                for col in &cols {
                    let v = |row: &str| r.values.get(&Key::cell("t3", row, col)).copied();
                    if r.included.is_empty() {
                        prop_assert!(v("new").is_none());
                        continue;
                    }
                    let (new, carried, total, next) = (v("new").unwrap(), v("carried").unwrap(), v("total").unwrap(), v("carry_next").unwrap());
                    prop_assert_eq!(new + carried, total + next);
                }
            }
        }
    }
}
