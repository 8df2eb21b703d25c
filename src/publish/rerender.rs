//! Re-rendering an earlier run's published outputs from its CSVs (`nianbao report`),
//! without reading the workbooks again — for instance with a province's own report
//! templates.
//!
//! It reads `values.csv`, `sections.csv`, `units.csv`, `rollup.csv`, `diagnostics.csv`
//! and, when the run used one, the roster copy `roster.csv`, and only from a directory
//! that holds one complete run: its run record ([`crate::output::RUN_RECORD`]) says the run finished,
//! and lists each of these files with the size and SHA-256 it still has. values.csv
//! (by far the largest) is streamed, one unit at a time, each unit's report rendered as
//! its rows end. Correction workbooks need the findings' cells, which only `ingest`
//! has; they are left as they are, and so are the CSV files.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::{Publisher, UnitRef};
use crate::batch::FileOutcome;
use crate::consolidate::read::{self as csv_out, LongValues, UnitTexts};
use crate::format::Formats;
use crate::locate::IdentifiedBy;
use crate::output::{self, Finished, Run, RUN_RECORD};
use crate::render::Templates;
use crate::roster::Roster;
use crate::validate::Submission;

/// What `report` renders again; everything else of the run is kept as it is.
fn rendered_again(path: &str) -> bool {
    path == "index.html"
        || [super::DETAILS_FILE, super::CHASE_FILE, super::CHASE_CSV].contains(&path)
        || path.starts_with("reports/")
        || path.starts_with("rollups/")
}

/// Renders everything again into `out` from the CSVs there, as `command` (for the run
/// record). Refuses, saying why, unless `out` holds one complete run as recorded.
pub fn rerender(
    out: &Path,
    formats: &Formats,
    templates: &Templates,
    extras: super::Extras,
    command: Vec<String>,
) -> Result<Finished> {
    let shown = out.display();
    if !out.is_dir() {
        bail!("{shown} 不是目录：请给出 nianbao ingest 的输出目录");
    }
    let mut run = Run::begin(out, command)?;
    let again = "请重新运行 nianbao ingest";
    if let Some(unfinished) = run.unfinished() {
        bail!("{shown}：{unfinished}，目录中可能新旧文件混杂，不能据此重新生成报告；{again}");
    }
    if let Some(e) = run.found_error() {
        bail!("{e}；{again}");
    }
    let record = run.found().ok_or_else(|| {
        anyhow!(
            "{shown} 中没有运行记录 {RUN_RECORD}：它不是 nianbao ingest 的输出目录，或由旧版本的 nianbao 生成；{again}"
        )
    })?;
    // diagnostics.csv gives the chase list the rejected units' first errors.
    let read = [
        "values.csv",
        "units.csv",
        "sections.csv",
        "rollup.csv",
        "diagnostics.csv",
    ];
    for name in read {
        let file = record
            .file(name)
            .ok_or_else(|| anyhow!("{shown} 的运行记录 {RUN_RECORD} 中没有 {name}；{again}"))?;
        output::check_file(out, file)?;
    }
    // The roster the run used, and only that: a roster.csv the record does not list is
    // not the run's.
    let roster = match record.file("roster.csv") {
        Some(file) => {
            output::check_file(out, file)?;
            Some(Roster::load(&out.join("roster.csv"))?)
        }
        None => None,
    };
    let (year, ingest) = (record.year, record.ingest.clone());
    let format = formats.for_year(year)?;
    let outcomes = csv_out::outcomes(out)?;
    let signed = csv_out::signed_on(out)?;
    let rollups = csv_out::rollups(out, year, &outcomes, roster.as_ref())?;

    run.carry(|path| !rendered_again(path));
    run.start(year, ingest)?;
    let mut publisher =
        Publisher::new(out, &run, format, year, roster.as_ref(), templates)?.with_extras(extras);
    let accepted: BTreeMap<&str, &FileOutcome> = outcomes
        .iter()
        .filter(|o| o.status.is_accepted())
        .map(|o| (o.unit_code.as_str(), o))
        .collect();
    let mut values = LongValues::open(out, "values.csv", "unit_code", Some(year))?;
    let mut sections = UnitTexts::open(out)?;
    let mut done: HashSet<String> = HashSet::new();
    while let Some((code, unit_values)) = values.next_values()? {
        let Some(outcome) = accepted.get(code.as_str()) else {
            bail!("{shown} 中的 values.csv 有单位 {code} 的数值，但 units.csv 中它不是受理的单位（文件被改动过？）");
        };
        let texts = sections.take(&code)?;
        let cover = cover_of(&signed, &code);
        render_unit(
            &mut publisher,
            outcome,
            (year, format),
            unit_values,
            texts,
            cover,
        )?;
        done.insert(code);
    }
    sections.finish()?;
    // An accepted unit without rows in values.csv (ingest writes every cell of the
    // format for each): reported without values, as `ingest` would have.
    for (code, outcome) in &accepted {
        if !done.contains(*code) {
            let none = BTreeMap::new();
            let cover = cover_of(&signed, code);
            render_unit(
                &mut publisher,
                outcome,
                (year, format),
                none,
                BTreeMap::new(),
                cover,
            )?;
        }
    }
    publisher.finish(&rollups, &outcomes)?;
    Ok(run.finish()?)
}

/// The cover fields a report needs again: the date its 落款 shows.
fn cover_of(signed: &BTreeMap<String, String>, code: &str) -> BTreeMap<String, String> {
    signed
        .get(code)
        .map(|d| BTreeMap::from([("date".to_string(), d.clone())]))
        .unwrap_or_default()
}

fn render_unit(
    publisher: &mut Publisher<'_>,
    outcome: &FileOutcome,
    (year, format): (i32, &crate::format::Format),
    values: BTreeMap<crate::format::Key, f64>,
    texts: BTreeMap<String, String>,
    cover: BTreeMap<String, String>,
) -> Result<()> {
    let sub = Submission {
        unit_code: outcome.unit_code.clone(),
        unit_name: outcome.unit_name.clone(),
        year: Some(year),
        format_id: Some(format.id.clone()),
        identified_by: IdentifiedBy::HiddenSheet,
        by_labels: false,
        values,
        texts,
        cover,
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
    Ok(())
}
