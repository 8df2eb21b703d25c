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
pub mod package;
mod status;
mod store;
mod summary;

pub use attribute::Attribution;
pub use discover::{discover, refuse_overwriting, Input};
pub use status::{Counts, FileOutcome, Status, Tally};
pub use store::{Store, StoreError, Stored};
pub use summary::{summary, Summary};

use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use rayon::prelude::*;

use crate::check::{self, PreviousYear};
use crate::format::Formats;
use crate::model::rule_ids;
use crate::roster::Roster;
use crate::validate::Submission;
use attribute::{attribute, attribute_carried, pick_one_per_unit};
use package::{Carried, PackageRoster};

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
    let nested = inputs
        .par_iter()
        .map(|input| {
            let outcome = match &input.not_read {
                Some((status, reason)) => Ok(vec![not_read(input, *status, reason)]),
                None if input.package => read_package(input, settings, &store),
                None => read_one(input, settings, &store, check).map(|o| vec![o]),
            };
            tick();
            outcome
        })
        .collect::<Result<Vec<Vec<_>>, _>>()?;
    // One list of exactly the files' outcomes: it is kept to the end of the run, and a
    // list grown by doubling would hold up to twice that (a quarter KB per file).
    let mut outcomes: Vec<FileOutcome> = Vec::with_capacity(nested.iter().map(Vec::len).sum());
    for file in nested {
        outcomes.extend(file);
    }
    let year = settings.year.or_else(|| majority_year(&outcomes));
    drop_packages_of_other_years(&mut outcomes, year);
    for o in &mut outcomes {
        mark_wrong_year(o, year);
    }
    pick_one_per_unit(&mut outcomes);
    // What outputs show of a name decoded or numbered, once every reason is final (a
    // file carried in a package whose reason the township's run gave whole has it).
    for outcome in &mut outcomes {
        let Some(note) = &outcome.name_note else {
            continue;
        };
        if outcome.reason.contains(note.as_str()) {
            continue;
        }
        outcome.reason = if outcome.reason.is_empty() {
            note.clone()
        } else {
            format!("{}；{note}", outcome.reason)
        };
    }
    Ok(Run {
        year,
        outcomes,
        store,
    })
}

/// The format a submission's values are in, if the run knows it.
fn format_of<'f>(sub: &Submission, settings: Settings<'f>) -> Option<&'f crate::format::Format> {
    let id = sub.format_id.as_deref()?;
    settings.formats.by_id(id).ok()
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
        package: None,
        name_note: input.name_note.clone(),
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
    let file = outcome.file.clone();
    verdict(&mut outcome, &mut sub, |sub| {
        attribute(sub, settings.roster, &file)
    });
    crate::validate::keep_cross_year_places(format_of(&sub, settings), &mut sub);
    let rollup = || catch_unwind(|| is_our_rollup(&input.path)).unwrap_or(false);
    if outcome.status == Status::Unidentified && rollup() {
        let mut skipped = not_read(input, Status::Skipped, ROLLUP_REASON);
        skipped.modified = outcome.modified;
        return Ok(skipped);
    }
    keep(outcome, sub, store)
}

/// What is kept of a file judged: its header, with its submission in the store (every
/// finding speaking of the unit the file was attributed to).
fn keep(
    mut outcome: FileOutcome,
    mut sub: Submission,
    store: &Store,
) -> Result<FileOutcome, StoreError> {
    outcome.identity_conflict = sub
        .findings
        .iter()
        .any(|f| f.level == crate::model::Level::Error && f.rule == rule_ids::IDENTITY);
    for f in &mut sub.findings {
        f.unit_code = sub.unit_code.clone();
        f.unit_name = sub.unit_name.clone();
    }
    outcome.unit_name = sub.unit_name.clone();
    outcome.counts = Some(Counts {
        errors: sub.errors(),
        warnings: sub.warnings(),
        fixes: sub.fixes(),
    });
    outcome.stored = Some(store.put(&sub)?);
    Ok(outcome)
}

/// A lower level's package: its own line (status `package`), then every file it carries
/// as if read here, each under the package's name (`包.zip/原文件`). A package that
/// cannot be verified, or is in another report format, is `unreadable` and nothing in
/// it is used; a panic while reading it is the package's problem, not the batch's.
fn read_package(
    input: &Input,
    settings: Settings<'_>,
    store: &Store,
) -> Result<Vec<FileOutcome>, StoreError> {
    let mut carried: Vec<FileOutcome> = Vec::new();
    let mut roster: Option<PackageRoster> = None;
    let opened = catch_unwind(AssertUnwindSafe(|| {
        package::open(&input.path, |manifest, c| {
            let roster = roster.get_or_insert_with(|| PackageRoster::new(manifest));
            carried.push(carried_outcome(c, &input.display, roster, settings, store)?);
            Ok(())
        })
    }))
    .unwrap_or_else(|panic| {
        let what = panicked(&input.display, panic);
        let reason = what.findings.first().map(|f| f.message.clone());
        Err(package::Failure::Bad(reason.unwrap_or_default()))
    });
    let manifest = match opened {
        Ok(manifest) => manifest,
        Err(package::Failure::Store(e)) => return Err(e),
        Err(package::Failure::Bad(reason)) => {
            let reason = format!("上报包无法使用，其中的文件均未采用：{reason}");
            return Ok(vec![not_read(input, Status::Unreadable, &reason)]);
        }
    };
    if let Some(reason) = format_mismatch(&manifest, settings.formats) {
        return Ok(vec![not_read(input, Status::Unreadable, &reason)]);
    }
    let top = manifest.roster.iter().find(|u| u.code == manifest.top_unit);
    let mut head = not_read(
        input,
        Status::Package,
        &format!(
            "{}（{}）{} 年度的上报包，含 {} 个文件，逐个列在下面",
            top.map_or("", |u| u.name.as_str()),
            manifest.top_unit,
            manifest.year,
            carried.len()
        ),
    );
    head.year = Some(manifest.year);
    head.workbook_code = manifest.top_unit.clone();
    head.unit_name = top.map(|u| u.name.clone()).unwrap_or_default();
    Ok(std::iter::once(head).chain(carried).collect())
}

/// Why a package's values cannot be taken for its year: they are in another report
/// format than nianbao uses for that year.
fn format_mismatch(manifest: &package::Manifest, formats: &Formats) -> Option<String> {
    match formats.for_year(manifest.year) {
        Ok(format) if format.id == manifest.report_format => None,
        Ok(format) => Some(format!(
            "上报包的报表格式为 {}，本版本 nianbao 的 {} 年度格式为 {}；其中的文件均未采用",
            manifest.report_format, manifest.year, format.id
        )),
        Err(e) => Some(format!("上报包的年度 {} 无法汇总：{e}", manifest.year)),
    }
}

/// One file a package carries, judged here from its submission as if its workbook had
/// been read here (its unit matched to this roster: see [`attribute_carried`]). A file
/// the lower level could not read keeps the status it had there.
fn carried_outcome(
    c: Carried,
    package: &str,
    roster: &PackageRoster,
    settings: Settings<'_>,
    store: &Store,
) -> Result<FileOutcome, StoreError> {
    let Carried {
        outcome: c,
        submission,
    } = c;
    let file = format!("{package}/{}", c.file);
    let code = c.unit_code.clone();
    let mut outcome = FileOutcome {
        file: file.clone(),
        unit_code: String::new(),
        chosen: c.chosen.map(|f| format!("{package}/{f}")),
        stored: None,
        package: Some(package.to_string()),
        ..c
    };
    let Some(mut sub) = submission else {
        outcome.unit_code = code;
        return Ok(outcome);
    };
    (outcome.status, outcome.reason, outcome.chosen) = (Status::Accepted, String::new(), None);
    // Last year as given here (`--previous`), not as the township had it.
    let previous = settings.previous.and_then(|p| p.get(&sub.unit_code));
    if let (Some(previous), Some(format)) = (previous, format_of(&sub, settings)) {
        crate::validate::cross_year(format, previous, &mut sub);
    }
    for f in &mut sub.findings {
        f.file = file.clone();
    }
    verdict(&mut outcome, &mut sub, |sub| {
        attribute_carried(sub, settings.roster, roster, &code)
    });
    keep(outcome, sub, store)
}

/// A package for another report year is unreadable as a whole, and the files it carries
/// are dropped: nothing from it is used.
fn drop_packages_of_other_years(outcomes: &mut Vec<FileOutcome>, run: Option<i32>) {
    let wrong: HashSet<String> = outcomes
        .iter()
        .filter(|o| o.status == Status::Package && wrong_year(o.year, run).is_some())
        .map(|o| o.file.clone())
        .collect();
    if wrong.is_empty() {
        return;
    }
    outcomes.retain(|o| o.package.as_ref().is_none_or(|p| !wrong.contains(p)));
    for o in outcomes.iter_mut().filter(|o| wrong.contains(&o.file)) {
        if let Some((y, run)) = wrong_year(o.year, run) {
            o.status = Status::Unreadable;
            o.reason =
                format!("这是 {y} 年度的上报包，本次汇总的是 {run} 年度；其中的文件均未采用");
        }
    }
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
fn verdict(
    outcome: &mut FileOutcome,
    sub: &mut Submission,
    attribute: impl FnOnce(&mut Submission) -> Result<String, String>,
) {
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
        match attribute(sub) {
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
