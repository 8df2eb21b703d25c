//! The batch: many files → one outcome per file, in parallel, nothing lost.
//!
//! [`discover`] lists every file under the inputs (skipped and unsupported ones too);
//! [`process`] checks the workbooks in parallel (a panic in one file becomes that file's
//! `unreadable` status), then attributes each to a roster unit and picks one file per
//! unit; the outcomes come back sorted by file so outputs do not depend on thread count
//! or on the order the file system lists files in. [`Attribution`] then says, once for
//! every output, which file speaks for each unit.

mod attribute;
mod discover;
mod status;
mod store;
mod summary;

pub use attribute::Attribution;
pub use discover::{discover, refuse_overwriting, Input};
pub use status::{Counts, FileOutcome, Status, Tally};
pub use store::{Store, StoreError, Stored};
pub use summary::{summary, Summary};

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rayon::prelude::*;

use crate::check::{self, PreviousYear};
use crate::format::Formats;
use crate::model::rule_ids;
use crate::roster::Roster;
use crate::validate::Submission;
use attribute::{attribute, pick_one_per_unit};

/// Settings of one ingest run.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub formats: &'a Formats,
    pub roster: Option<&'a Roster>,
    /// The report year; when `None`, the year most workbooks carry.
    pub year: Option<i32>,
    pub previous: Option<&'a PreviousYear>,
}

/// The result of a run: the year it was for, one outcome per input (in input order,
/// which [`discover`] sorts), and the store holding what was read from each file.
#[derive(Debug)]
pub struct Run {
    pub year: Option<i32>,
    pub outcomes: Vec<FileOutcome>,
    pub store: Store,
}

/// Checks every input in parallel, keeping each submission in `store` and only a small
/// header in memory, then decides the year, the wrong-year files and one file per unit.
/// `tick` is called once per file processed (for a progress bar).
pub fn process(
    inputs: &[Input],
    settings: Settings<'_>,
    store: Store,
    tick: &(dyn Fn() + Sync),
) -> Result<Run, StoreError> {
    let check = |input: &Input, options: check::Options<'_>| {
        check::check_file(&input.path, &input.display, settings.formats, options)
    };
    process_with(inputs, settings, store, tick, &check)
}

/// The one file checker of a run; a parameter so that a test can make one file panic.
type Checker<'a> = dyn Fn(&Input, check::Options<'_>) -> Submission + Sync + 'a;

fn process_with(
    inputs: &[Input],
    settings: Settings<'_>,
    store: Store,
    tick: &(dyn Fn() + Sync),
    check: &Checker<'_>,
) -> Result<Run, StoreError> {
    let mut outcomes: Vec<FileOutcome> = inputs
        .par_iter()
        .map(|input| {
            let outcome = match &input.not_read {
                Some((status, reason)) => Ok(not_read(input, *status, reason)),
                None => read_one(input, settings, &store, check),
            };
            tick();
            outcome
        })
        .collect::<Result<_, _>>()?;
    let year = settings.year.or_else(|| majority_year(&outcomes));
    for o in &mut outcomes {
        mark_wrong_year(o, year);
    }
    pick_one_per_unit(&mut outcomes);
    // What outputs show of a name decoded or numbered, once every reason is final.
    for (outcome, input) in outcomes.iter_mut().zip(inputs) {
        if let Some(note) = &input.name_note {
            outcome.reason = if outcome.reason.is_empty() {
                note.clone()
            } else {
                format!("{}；{note}", outcome.reason)
            };
        }
    }
    Ok(Run {
        year,
        outcomes,
        store,
    })
}

fn not_read(input: &Input, status: Status, reason: &str) -> FileOutcome {
    FileOutcome {
        file: input.display.clone(),
        status,
        reason: reason.to_string(),
        unit_code: String::new(),
        chosen: None,
        workbook_code: String::new(),
        unit_name: String::new(),
        year: None,
        counts: None,
        stored: None,
        modified: None,
        identity_conflict: false,
    }
}

/// Checks one file (a panic becomes the file's own `unreadable` status), attributes it
/// to a unit, stores its submission and returns its header.
fn read_one(
    input: &Input,
    settings: Settings<'_>,
    store: &Store,
    check: &Checker<'_>,
) -> Result<FileOutcome, StoreError> {
    let options = check::Options {
        year: settings.year,
        previous: settings.previous,
        roster: settings.roster,
    };
    let mut sub = catch_unwind(AssertUnwindSafe(|| check(input, options)))
        .unwrap_or_else(|panic| panicked(&input.display, panic));
    let mut outcome = not_read(input, Status::Accepted, "");
    outcome.workbook_code = sub.unit_code.clone();
    outcome.year = sub.year;
    outcome.modified = std::fs::metadata(&input.path)
        .and_then(|m| m.modified())
        .ok();
    verdict(&mut outcome, &mut sub, settings.roster);
    outcome.identity_conflict = sub
        .findings
        .iter()
        .any(|f| f.level == crate::model::Level::Error && f.rule == rule_ids::IDENTITY);
    let rollup = || catch_unwind(|| is_our_rollup(&input.path)).unwrap_or(false);
    if outcome.status == Status::Unidentified && rollup() {
        let mut skipped = not_read(input, Status::Skipped, ROLLUP_REASON);
        skipped.modified = outcome.modified;
        return Ok(skipped);
    }
    // Every finding speaks of the unit the file was attributed to.
    for f in &mut sub.findings {
        f.unit_code = sub.unit_code.clone();
        f.unit_name = sub.unit_name.clone();
    }
    // Where each value was in the workbook was needed by validation only: findings carry
    // their own places. Not stored.
    sub.places.clear();
    outcome.unit_name = sub.unit_name.clone();
    outcome.counts = Some(Counts {
        errors: sub.errors(),
        warnings: sub.warnings(),
        fixes: sub.fixes(),
    });
    outcome.stored = Some(store.put(&sub)?);
    Ok(outcome)
}

const ROLLUP_REASON: &str = "nianbao 生成的汇总表，不是单位报送的文件";

/// Whether a workbook is the roll-up `汇总表.xlsx` nianbao made (by its mark, not its
/// name: it may have been moved or renamed). Only asked of workbooks that name no unit,
/// so the second read is rare.
fn is_our_rollup(path: &std::path::Path) -> bool {
    use crate::output::{GENERATED_PROPERTY, ROLLUP_MARK};
    let Ok(wb) = crate::read::read(path) else {
        return false;
    };
    let marked = |v: &crate::read::RawValue| matches!(v, crate::read::RawValue::Text(t) if t.trim() == ROLLUP_MARK);
    wb.properties
        .get(GENERATED_PROPERTY)
        .is_some_and(|v| v.trim() == ROLLUP_MARK)
        || wb.sheets.iter().any(|s| {
            s.cells
                .iter()
                .any(|(at, v)| at.col == crate::layout::KEY_COL && marked(v))
        })
}

/// A panic while reading one file: that file's problem, not the batch's.
fn panicked(display: &str, panic: Box<dyn std::any::Any + Send>) -> Submission {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    let mut sub = check::unreadable(&crate::read::ReadError::Io(std::io::Error::other(format!(
        "处理时出现内部错误：{what}"
    ))));
    for f in &mut sub.findings {
        f.file = display.to_string();
    }
    sub
}

fn majority_year(outcomes: &[FileOutcome]) -> Option<i32> {
    let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
    for y in outcomes
        .iter()
        .filter(|o| o.stored.is_some())
        .filter_map(|o| o.year)
    {
        *counts.entry(y).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(y, n)| (*n, *y))
        .map(|(y, _)| y)
}

/// The status of a file on its own: readable? whose? its findings' verdict.
fn verdict(outcome: &mut FileOutcome, sub: &mut Submission, roster: Option<&Roster>) {
    let first_error = |sub: &Submission| {
        sub.findings
            .iter()
            .find(|f| f.level == crate::model::Level::Error)
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    if let Some(f) = sub.findings.iter().find(|f| f.rule == rule_ids::UNREADABLE) {
        outcome.status = Status::Unreadable;
        outcome.reason = f.message.clone();
    } else if sub.unit_code.is_empty() && sub.unit_name.is_empty() {
        outcome.status = Status::Unidentified;
        // A report whose name fits several units says which.
        outcome.reason = sub
            .findings
            .iter()
            .find(|f| f.level == crate::model::Level::Error && f.rule == rule_ids::UNIT)
            .filter(|f| !f.found.is_empty())
            .map_or_else(
                || "工作簿中没有单位信息（模板标识和封面都没有）".into(),
                |f| f.message.clone(),
            );
    } else {
        let file = outcome.file.clone();
        match attribute(sub, roster, &file) {
            Ok(code) => {
                outcome.unit_code = code;
                let (e, w) = (sub.errors(), sub.warnings());
                (outcome.status, outcome.reason) = if e > 0 {
                    (
                        Status::Rejected,
                        format!("{e} 个错误，首个：{}", first_error(sub)),
                    )
                } else if w > 0 {
                    (Status::AcceptedWithWarnings, format!("{w} 个警告"))
                } else {
                    (Status::Accepted, String::new())
                };
            }
            Err(reason) => {
                outcome.status = Status::UnknownUnit;
                outcome.reason = reason;
                outcome.unit_code = sub.unit_code.clone();
            }
        }
    }
}

/// A report for another year is its own status, whoever it is from.
fn mark_wrong_year(outcome: &mut FileOutcome, run: Option<i32>) {
    let identified = matches!(
        outcome.status,
        Status::Accepted | Status::AcceptedWithWarnings | Status::Rejected | Status::UnknownUnit
    );
    if let (true, Some((y, run))) = (identified, wrong_year(outcome.year, run)) {
        outcome.status = Status::WrongYear;
        outcome.reason = format!("这是 {y} 年度的报告，本次汇总的是 {run} 年度");
    }
}

fn wrong_year(workbook: Option<i32>, run: Option<i32>) -> Option<(i32, i32)> {
    match (workbook, run) {
        (Some(y), Some(run)) if y != run => Some((y, run)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_one_file_is_that_files_status_and_the_batch_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.xlsx", "boom.xlsx", "c.xlsx"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let inputs = discover(&[dir.path().to_path_buf()], None).unwrap();
        let formats = Formats::builtin();
        let settings = Settings {
            formats: &formats,
            roster: None,
            year: Some(2024),
            previous: None,
        };
        let store = Store::new_in(dir.path()).unwrap();
        let check = |input: &Input, options: check::Options<'_>| {
            if input.display.ends_with("boom.xlsx") {
                panic!("index out of bounds: the len is 3 but the index is 7");
            }
            check::check_file(&input.path, &input.display, &formats, options)
        };
        let run = process_with(&inputs, settings, store, &|| {}, &check).unwrap();
        let statuses: Vec<(&str, Status)> = run
            .outcomes
            .iter()
            .map(|o| (o.file.rsplit('/').next().unwrap(), o.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("a.xlsx", Status::Unreadable),
                ("boom.xlsx", Status::Unreadable),
                ("c.xlsx", Status::Unreadable)
            ]
        );
        let boom = &run.outcomes[1];
        assert!(
            boom.reason.contains("内部错误") && boom.reason.contains("index out of bounds"),
            "{}",
            boom.reason
        );
        assert!(
            run.outcomes[0].reason.contains("0 字节"),
            "{}",
            run.outcomes[0].reason
        );
        // Its finding is stored like any other file's.
        let sub = run.store.get(boom.stored.unwrap()).unwrap();
        assert_eq!(sub.findings[0].rule, rule_ids::UNREADABLE);
    }
}
