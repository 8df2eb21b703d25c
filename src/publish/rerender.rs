//! Re-rendering an earlier run's published outputs from its CSVs (`nianbao report`),
//! without reading the workbooks again — for instance with a province's own report
//! templates.
//!
//! It reads `values.csv`, `sections.csv`, `units.csv`, `rollup.csv` and the roster copy
//! `roster.csv` that `ingest` leaves in `OUT`, not from a directory whose last run did
//! not finish. Correction workbooks need the findings' cells, which only `ingest` has;
//! they are left as they are, and so are the CSV files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::{Publisher, UnitRef};
use crate::consolidate::read::{self as csv_out, long_values, text, Table};
use crate::format::Formats;
use crate::locate::IdentifiedBy;
use crate::output::{Finished, Run};
use crate::render::Templates;
use crate::roster::Roster;
use crate::validate::Submission;

/// What `report` renders again; everything else of the run is kept as it is.
fn rendered_again(path: &str) -> bool {
    path == "index.html" || path.starts_with("reports/") || path.starts_with("rollups/")
}

/// Renders everything again into `out` from the CSVs there, as `command` (for the run
/// record). Refuses when the last run into `out` did not finish.
pub fn rerender(
    out: &Path,
    formats: &Formats,
    templates: &Templates,
    command: Vec<String>,
) -> Result<Finished> {
    let shown = out.display();
    if !out.is_dir() {
        bail!("{shown} 不是目录：请给出 nianbao ingest 的输出目录");
    }
    let mut run = Run::begin(out, command)?;
    if let Some(unfinished) = run.unfinished() {
        bail!("{shown}：{unfinished}，目录中可能新旧文件混杂，不能据此重新生成报告；请重新运行 nianbao ingest");
    }
    let values = Table::read(out, "values.csv")?;
    let units = Table::read(out, "units.csv")?;
    let sections = Table::read(out, "sections.csv")?;
    let rollup = Table::read(out, "rollup.csv")?;
    let roster = match out.join("roster.csv") {
        p if p.is_file() => Some(Roster::load(&p)?),
        _ => None,
    };
    let ycol = rollup.col("year")?;
    let year: i32 = rollup
        .rows
        .first()
        .and_then(|r| r[ycol].parse().ok())
        .ok_or_else(|| anyhow!("rollup.csv 中没有年度"))?;
    let format = formats.for_year(year)?;

    // Per unit: its values and texts.
    let unit_values = long_values(&values, "unit_code")?;
    let mut texts: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let (sc, ss, st) = (
        sections.col("unit_code")?,
        sections.col("section_code")?,
        sections.col("text")?,
    );
    for r in &sections.rows {
        texts
            .entry(r[sc].to_string())
            .or_default()
            .insert(r[ss].to_string(), text(&r[st]));
    }
    let outcomes = csv_out::outcomes(&units)?;
    let ingest = run.found().map(|r| r.ingest.clone()).unwrap_or_default();
    run.carry(|path| !rendered_again(path));
    run.start(year, ingest)?;
    let mut publisher = Publisher::new(out, &run, format, year, roster.as_ref(), templates)?;
    for outcome in outcomes.iter().filter(|o| o.status.is_accepted()) {
        let sub = Submission {
            unit_code: outcome.unit_code.clone(),
            unit_name: outcome.unit_name.clone(),
            year: Some(year),
            format_id: Some(format.id.clone()),
            identified_by: IdentifiedBy::HiddenSheet,
            by_labels: false,
            values: unit_values
                .get(&outcome.unit_code)
                .cloned()
                .unwrap_or_default(),
            texts: texts.remove(&outcome.unit_code).unwrap_or_default(),
            cover: BTreeMap::new(),
            places: BTreeMap::new(),
            findings: Vec::new(),
        };
        let unit = UnitRef {
            code: &outcome.unit_code,
            name: &outcome.unit_name,
            outcome,
            submission: &sub,
        };
        let new_requests = publisher.unit(&unit)?;
        publisher.record(&outcome.unit_code, new_requests);
    }
    let rollups = csv_out::rollups(&rollup, &outcomes, roster.as_ref())?;
    publisher.finish(&rollups, &outcomes)?;
    Ok(run.finish()?)
}
