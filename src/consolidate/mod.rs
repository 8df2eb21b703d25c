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

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::batch::{Attribution, Counts, FileOutcome, Status, Store, StoreError, Tally};
use crate::format::{Format, Key, KeyFigure};
use crate::model::number_text;
use crate::model::{Finding, Level};
use crate::output::FileRecord;
use crate::roster::Roster;

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
    /// How the units of the subtree stand (the counts every output shows).
    pub tally: Tally,
    /// Codes of the units of the subtree with an accepted file, in roster order. Each
    /// unit's code is one string shared by the lists of every roll-up it counts in.
    pub included: Vec<Arc<str>>,
    /// Codes of the units of the subtree with no file at all (未报送), in roster order.
    pub missing: Vec<Arc<str>>,
    /// Codes of the units whose file was rejected (退回, not counted), in roster order.
    pub rejected: Vec<Arc<str>>,
    /// Codes of the units whose only file is for another year, in roster order.
    pub other: Vec<Arc<str>>,
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
    "reason",
    "errors",
    "warnings",
    "fixes",
];
const UNITS_BASE_NUMERIC: &[&str] = &["errors", "warnings", "fixes"];

/// The last column of `units.csv`: the date on an accepted unit's cover (填报日期), as
/// typed, which its report's 落款 shows; `nianbao report` reads it back so that the
/// reports it renders again end the same way.
pub const UNITS_SIGNED: &str = "signed_on";

/// `units.csv` header: who, status and counts, then one column per key figure of the
/// format (`new_requests`, `handled_total`, … for both official formats), then
/// [`UNITS_SIGNED`].
pub fn units_header(format: &Format) -> Vec<&str> {
    let figures = format.key_figures.iter().map(|k| k.column.as_str());
    UNITS_BASE_HEADER
        .iter()
        .copied()
        .chain(figures)
        .chain([UNITS_SIGNED])
        .collect()
}

/// `rollup.csv` header.
pub const ROLLUP_HEADER: &[&str] = &[
    "year",
    "parent_code",
    "parent_name",
    "level",
    "depth",
    "units_expected",
    "units_received",
    "units_included",
    "units_with_warnings",
    "units_rejected",
    "units_wrong_year",
    "units_missing",
    "table",
    "row_code",
    "row_label",
    "col_code",
    "col_label",
    "value",
];
/// The numeric columns of `rollup.csv` (written as they are, not guarded): the year,
/// the depth, every unit count and the value — read off the header, so that a count
/// added there is numeric without a second list.
fn rollup_numeric() -> Vec<&'static str> {
    ROLLUP_HEADER
        .iter()
        .copied()
        .filter(|h| matches!(*h, "year" | "depth" | "value") || h.starts_with("units_"))
        .collect()
}

/// `diagnostics.csv` header.
pub const DIAGNOSTICS_HEADER: &[&str] = &[
    "unit_code",
    "unit_name",
    "file",
    "file_status",
    "sheet",
    "cell",
    "about",
    "level",
    "rule",
    "message",
    "found",
    "expected",
    "hint",
    "source",
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
) -> Result<Consolidated, ConsolidateError> {
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
    for (unit, _) in who.walk() {
        let parent = unit.parent.as_ref().map_or("", |p| p.as_str());
        let file = who.file(unit.code.as_str());
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
        let code = outcome.unit();
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
        &rollup_numeric(),
        options,
    )?;
    for r in &rollups {
        let t = &r.tally;
        let counts = [
            t.expected,
            t.received,
            t.accepted,
            t.with_warnings,
            t.rejected,
            t.other,
            t.missing,
        ]
        .map(|n| n.to_string());
        let depth = r.depth.to_string();
        let mut prefix = vec![year_text.as_str(), &r.code, &r.name, &r.level, &depth];
        prefix.extend(counts.iter().map(String::as_str));
        long_rows(&mut rollup, &prefix, &cells, &r.values)?;
    }
    let diagnostics = diagnostics_csv(out_dir, &who, outcomes, store, options)?;
    let files = files_csv(out_dir, outcomes, options)?;
    // All six are complete: only now do they replace the previous run's files.
    let files = [values, units, sections, rollup, diagnostics, files]
        .into_iter()
        .map(Sheet::persist)
        .collect::<Result<_, _>>()?;
    Ok(Consolidated { rollups, files })
}

/// What [`write()`] made: the roll-ups, and the CSV files it wrote with their sizes and
/// SHA-256 (taken as they were written, not read back).
#[derive(Debug)]
pub struct Consolidated {
    pub rollups: Vec<Rollup>,
    pub files: Vec<FileRecord>,
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

/// What the CSV files need of a unit's submission (its findings and places are not
/// read back here).
#[derive(Debug, serde::Deserialize)]
struct Figures {
    values: BTreeMap<Key, f64>,
    texts: BTreeMap<String, String>,
    cover: BTreeMap<String, String>,
}

/// The submission that gives a unit its figures: its accepted or rejected file.
fn load_for_figures(
    store: &Store,
    file: Option<&FileOutcome>,
) -> Result<Option<Figures>, StoreError> {
    match file {
        Some(o) if o.status.is_accepted() || o.status == Status::Rejected => {
            o.stored.map(|i| store.get_part(i)).transpose()
        }
        _ => Ok(None),
    }
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
    sub: Option<&Figures>,
) -> Result<(), csv::Error> {
    let status = file.map_or(Status::Missing, |o| o.status).code();
    let path = file.map_or("", |o| o.file.as_str());
    let reason = file.map_or("", |o| o.reason.as_str());
    let count = |n: fn(&Counts) -> usize| {
        file.and_then(|o| o.counts.as_ref())
            .map(|c| n(c).to_string())
            .unwrap_or_default()
    };
    let figures: Vec<String> = figures
        .iter()
        .map(|k| {
            sub.and_then(|sub| k.of(&sub.values))
                .map(number_text)
                .unwrap_or_default()
        })
        .collect();
    let (errors, warnings, fixes) = (
        count(|c| c.errors),
        count(|c| c.warnings),
        count(|c| c.fixes),
    );
    let signed = match (file, sub) {
        (Some(o), Some(sub)) if o.status.is_accepted() => {
            sub.cover.get("date").map_or("", |d| d.trim())
        }
        _ => "",
    };
    let mut row = vec![
        code, name, parent, level, status, path, reason, &errors, &warnings, &fixes,
    ];
    row.extend(figures.iter().map(String::as_str));
    row.push(signed);
    sheet.row(&row)
}

/// Every finding of every file read, sorted by unit, file, sheet, cell. Files are taken
/// in (unit, file) order and each one's findings sorted, which is the same order as
/// sorting everything, with one file in memory at a time.
fn diagnostics_csv(
    out_dir: &Path,
    who: &Attribution,
    outcomes: &[FileOutcome],
    store: &Store,
    options: CsvOptions,
) -> Result<Sheet, ConsolidateError> {
    let mut order: Vec<&FileOutcome> = outcomes.iter().filter(|o| o.stored.is_some()).collect();
    order.sort_by(|a, b| (a.unit(), &a.file).cmp(&(b.unit(), &b.file)));
    let mut sheet = Sheet::create(out_dir, "diagnostics.csv", DIAGNOSTICS_HEADER, &[], options)?;
    for outcome in order {
        let Some(at) = outcome.stored else {
            continue;
        };
        /// What the diagnostics need of a submission.
        #[derive(serde::Deserialize)]
        struct Diagnosed {
            findings: Vec<Finding>,
        }
        let sub: Diagnosed = store.get_part(at)?;
        let code = outcome.unit();
        let name = match who.unit(code) {
            Some(unit) => unit.name.as_str(),
            None => outcome.unit_name.as_str(),
        };
        // Each finding with its place and values rendered once, as the columns read.
        let mut findings: Vec<(&Finding, [String; 4])> = sub
            .findings
            .iter()
            .map(|f| {
                let texts = [
                    f.cell_text(),
                    f.about_text(),
                    f.found_text(),
                    f.expected_text(),
                ];
                (f, texts)
            })
            .collect();
        // Stable: findings equal on every sort column keep the order they were given in.
        findings.sort_by(|(a, at), (b, bt)| {
            diagnostic_order(a, &at[0]).cmp(&diagnostic_order(b, &bt[0]))
        });
        for (f, [cell, about, found, expected]) in &findings {
            sheet.row(&[
                code,
                name,
                &outcome.file,
                outcome.status.code(),
                &f.sheet,
                cell,
                about,
                f.level.code(),
                &f.rule,
                &f.message,
                found,
                expected,
                &f.hint,
                outcome.package.as_deref().unwrap_or(""),
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
    sub: &Figures,
) -> Result<(), csv::Error> {
    for section in &format.sections {
        let text = sub.texts.get(&section.code).map_or("", String::as_str);
        sheet.row(&[code, name, &section.code, &section.heading(), text])?;
    }
    Ok(())
}

/// (sheet, cell, level, rule, message)
type DiagnosticOrder<'r> = (&'r str, &'r str, Level, &'r str, &'r str);

fn diagnostic_order<'r>(f: &'r Finding, cell: &'r str) -> DiagnosticOrder<'r> {
    (&f.sheet, cell, f.level, &f.rule, &f.message)
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

mod labels;
pub mod read;
mod rollup;
mod sheet;

use labels::{key_labels, long_rows};
use rollup::Sums;
pub use sheet::neutralise;
use sheet::Sheet;
#[cfg(test)]
mod tests;
