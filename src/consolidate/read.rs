//! Reading a run's CSV outputs back: last year's values for `ingest --previous`, and
//! everything `nianbao report` re-renders from. The inverse of the writers beside it
//! (same headers, same neutralising of text cells undone).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context, Result};

use super::rollup::Sums;
use super::Rollup;
use crate::batch::{Attribution, Counts, FileOutcome, Status};
use crate::format::Key;
use crate::roster::Roster;

/// The CSV files `ingest` writes into `OUT` (its run record lists them).
pub const CSV_FILES: [&str; 6] = [
    "values.csv",
    "units.csv",
    "sections.csv",
    "rollup.csv",
    "diagnostics.csv",
    "files.csv",
];

/// One CSV of a run's outputs as header-indexed records.
pub struct Table {
    header: Vec<String>,
    pub rows: Vec<csv::StringRecord>,
}

impl Table {
    pub fn read(out: &Path, name: &str) -> Result<Table> {
        let path = out.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("无法读取 {}", path.display()))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let mut reader = csv::Reader::from_reader(bytes);
        let header = reader.headers()?.iter().map(str::to_string).collect();
        let rows = reader.records().collect::<Result<_, _>>()?;
        Ok(Table { header, rows })
    }

    pub fn col(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("输出文件缺少列 {name}，请用本版本的 nianbao ingest 重新生成"))
    }
}

/// Undoes the CSV's formula neutralising of a text cell (`'=…` → `=…`).
pub fn text(field: &str) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => field.to_string(),
    }
}

fn key_of(table: &str, row: &str, col: &str) -> Key {
    if table == "fields" {
        Key::field(row)
    } else {
        Key::cell(table, row, col)
    }
}

/// A run's `values.csv`: every accepted unit's values by unit code (last year's
/// figures for `ingest --previous`).
pub fn values_by_unit(out: &Path) -> Result<BTreeMap<String, BTreeMap<Key, f64>>> {
    long_values(&Table::read(out, "values.csv")?, "unit_code")
}

/// Values in long form, by the given code column.
pub fn long_values(t: &Table, by: &str) -> Result<BTreeMap<String, BTreeMap<Key, f64>>> {
    let (c, tb, r, k, v) = (
        t.col(by)?,
        t.col("table")?,
        t.col("row_code")?,
        t.col("col_code")?,
        t.col("value")?,
    );
    let mut out: BTreeMap<String, BTreeMap<Key, f64>> = BTreeMap::new();
    for row in &t.rows {
        if let Ok(value) = row[v].parse::<f64>() {
            out.entry(text(&row[c]))
                .or_default()
                .insert(key_of(&row[tb], &row[r], &row[k]), value);
        }
    }
    Ok(out)
}

/// One outcome per unit row that names a file.
pub fn outcomes(units: &Table) -> Result<Vec<FileOutcome>> {
    let col = |n: &str| units.col(n);
    let (code, name, status, file) = (
        col("unit_code")?,
        col("unit_name")?,
        col("status")?,
        col("file")?,
    );
    let (e, w, x) = (col("errors")?, col("warnings")?, col("fixes")?);
    let mut out = Vec::new();
    for r in &units.rows {
        let Some(st) = Status::from_code(&r[status]) else {
            continue; // missing
        };
        let n = |i: usize| r[i].parse().unwrap_or(0);
        out.push(FileOutcome {
            file: text(&r[file]),
            status: st,
            reason: String::new(),
            unit_code: text(&r[code]),
            chosen: None,
            workbook_code: text(&r[code]),
            unit_name: text(&r[name]),
            year: None,
            counts: Some(Counts {
                errors: n(e),
                warnings: n(w),
                fixes: n(x),
            }),
            stored: None,
            modified: None,
        });
    }
    Ok(out)
}

/// The roll-ups of rollup.csv: their values as written, their unit lists worked out
/// again from the roster and the units' statuses by the same rule `ingest` used
/// ([`Attribution`] and the roll-up membership of `consolidate::rollup`).
pub fn rollups(
    t: &Table,
    outcomes: &[FileOutcome],
    roster: Option<&Roster>,
) -> Result<Vec<Rollup>> {
    let mut values = long_values(t, "parent_code")?;
    let who = Attribution::new(roster, outcomes);
    let mut out = Sums::new(&who).finish();
    for r in &mut out {
        r.values = values.remove(&r.code).unwrap_or_default();
    }
    Ok(out)
}
