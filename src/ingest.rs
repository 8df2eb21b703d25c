//! The batch: many files → one outcome per file, in parallel, nothing lost.
//!
//! [`discover`] lists every file under the inputs (skipped and unsupported ones too);
//! [`process`] checks the workbooks in parallel (a panic in one file becomes that file's
//! `unreadable` status), then attributes each to a roster unit and picks one file per
//! unit; the outcomes come back sorted by file so outputs do not depend on thread count
//! or on the order the file system lists files in.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rayon::prelude::*;
use serde::Serialize;

use crate::check::{self, PreviousYear};
use crate::format::Formats;
use crate::model::{rule_ids, UnitCode};
use crate::roster::Roster;
use crate::validate::Submission;

/// What became of one input file. Stable codes, documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Identified, matched to a roster unit, no errors and no warnings.
    Accepted,
    /// Accepted; warnings reported.
    AcceptedWithWarnings,
    /// Errors: the unit must correct and resend.
    Rejected,
    /// Another file for the same unit was chosen (see `FileOutcome::chosen`).
    Duplicate,
    /// The workbook does not say which unit it is for.
    Unidentified,
    /// The unit code is not on the roster.
    UnknownUnit,
    /// The workbook is for another report year.
    WrongYear,
    /// Not a readable workbook (empty, truncated, HTML renamed .xls, password…).
    Unreadable,
    /// Not a spreadsheet file at all (by extension).
    Unsupported,
    /// Deliberately not processed (Office lock files `~$…`, hidden files).
    Skipped,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::AcceptedWithWarnings => "accepted_with_warnings",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::Unidentified => "unidentified",
            Status::UnknownUnit => "unknown_unit",
            Status::WrongYear => "wrong_year",
            Status::Unreadable => "unreadable",
            Status::Unsupported => "unsupported",
            Status::Skipped => "skipped",
        }
    }

    /// The status a stable code names (`missing` is a unit's, not a file's: `None`).
    pub fn from_code(code: &str) -> Option<Status> {
        [
            Status::Accepted,
            Status::AcceptedWithWarnings,
            Status::Rejected,
            Status::Duplicate,
            Status::Unidentified,
            Status::UnknownUnit,
            Status::WrongYear,
            Status::Unreadable,
            Status::Unsupported,
            Status::Skipped,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// Counted in totals and roll-ups.
    pub fn is_accepted(self) -> bool {
        matches!(self, Status::Accepted | Status::AcceptedWithWarnings)
    }
}

/// One input file and what became of it.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// The path as shown in outputs: relative to the input it was found under, `/`-separated.
    pub file: String,
    pub status: Status,
    /// Why, in Chinese (empty when accepted without remarks).
    pub reason: String,
    /// The roster unit it was matched to (empty when none).
    pub unit_code: String,
    /// For a duplicate: the file chosen instead.
    pub chosen: Option<String>,
    /// The unit code and name the workbook itself gives (empty when none).
    pub workbook_code: String,
    pub unit_name: String,
    /// The report year the workbook gives.
    pub year: Option<i32>,
    /// Counts of its findings (None for files not read).
    pub counts: Option<Counts>,
    /// Where its submission is kept in the run's [`Store`] (None for files not read).
    pub stored: Option<Stored>,
    /// The file's modification time, to pick the newest of several files for a unit.
    pub modified: Option<SystemTime>,
}

/// How many findings of each level a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub fixes: usize,
}

/// The submissions of a run, kept on disk so that memory does not grow with the number of
/// files: only [`FileOutcome`] headers stay in memory. All submissions go, as JSON, into
/// one unnamed temporary file inside the output directory (same disk, never mixed with the
/// inputs, gone when the run ends even if it is killed). One file rather than one per
/// submission: creating and deleting thousands of small files costs more than the rest
/// of the store on some file systems (see BENCHMARKS.md).
#[derive(Debug)]
pub struct Store {
    file: std::sync::Mutex<StoreFile>,
    /// The output directory, to name it in errors.
    parent: PathBuf,
}

#[derive(Debug)]
struct StoreFile {
    file: std::fs::File,
    /// Where the next submission goes.
    end: u64,
}

/// Where one submission is in the [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    offset: u64,
    len: usize,
}

/// A stored submission could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("无法在 {path} 中保存中间结果：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("中间结果（{path} 中的临时文件）无法读回：{source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

impl Store {
    /// A new store in an unnamed temporary file inside `parent` (the output directory).
    pub fn new_in(parent: &Path) -> Result<Store, StoreError> {
        let file = tempfile::tempfile_in(parent).map_err(|source| StoreError::Io {
            path: parent.display().to_string(),
            source,
        })?;
        Ok(Store {
            file: std::sync::Mutex::new(StoreFile { file, end: 0 }),
            parent: parent.to_path_buf(),
        })
    }

    fn io_error(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.parent.display().to_string(),
            source,
        }
    }

    /// The file, even if another thread panicked while holding it (every write is one
    /// `write_all` at the recorded end, so a poisoned store is still consistent).
    fn lock(&self) -> std::sync::MutexGuard<'_, StoreFile> {
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a submission; serialised before taking the lock, so threads only queue
    /// for the write itself.
    pub fn put(&self, sub: &Submission) -> Result<Stored, StoreError> {
        use std::io::{Seek, SeekFrom, Write};
        let bytes = serde_json::to_vec(sub).map_err(|source| StoreError::Json {
            path: self.parent.display().to_string(),
            source,
        })?;
        let mut store = self.lock();
        let offset = store.end;
        store
            .file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| store.file.write_all(&bytes))
            .map_err(|e| self.io_error(e))?;
        store.end += bytes.len() as u64;
        Ok(Stored {
            offset,
            len: bytes.len(),
        })
    }

    pub fn get(&self, at: Stored) -> Result<Submission, StoreError> {
        use std::io::{Read, Seek, SeekFrom};
        let mut bytes = vec![0; at.len];
        {
            let mut store = self.lock();
            store
                .file
                .seek(SeekFrom::Start(at.offset))
                .and_then(|_| store.file.read_exact(&mut bytes))
                .map_err(|e| self.io_error(e))?;
        }
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
            path: self.parent.display().to_string(),
            source,
        })
    }
}

/// Extensions of files read as workbooks (`.et` is read to say it cannot be).
const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods", "et"];

/// A file found under the inputs.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// As shown in outputs: the path as given on the command line, `/`-separated.
    pub display: String,
    /// Why it is not read (skipped or unsupported), if so.
    pub not_read: Option<(Status, String)>,
}

/// Lists every file under the inputs, recursively, sorted by display path. Office lock
/// files and hidden files are listed as skipped; hidden directories are not entered.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<Input>, std::io::Error> {
    let mut out = Vec::new();
    for root in inputs {
        if !root.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("找不到 {}", root.display()),
            ));
        }
        let walk = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        let entries = walk.into_iter().filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.'))
        });
        for entry in entries {
            let entry = entry.map_err(std::io::Error::other)?;
            if !entry.file_type().is_file() {
                continue;
            }
            out.push(classify(entry.path()));
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
}

fn classify(path: &Path) -> Input {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let display = path.to_string_lossy().replace('\\', "/");
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let not_read = if name.starts_with("~$") {
        Some((
            Status::Skipped,
            "Office/WPS 打开文件时留下的临时锁文件".to_string(),
        ))
    } else if name.starts_with('.') {
        Some((Status::Skipped, "隐藏文件".to_string()))
    } else if !WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
        let what = if ext.is_empty() {
            "没有扩展名".to_string()
        } else {
            format!(".{ext} 文件")
        };
        Some((Status::Unsupported, format!("不是工作簿（{what}），未读取")))
    } else {
        None
    };
    Input {
        path: path.to_path_buf(),
        display,
        not_read,
    }
}

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
    // Every finding speaks of the unit the file was attributed to.
    for f in &mut sub.findings {
        f.unit_code = sub.unit_code.clone();
        f.unit_name = sub.unit_name.clone();
    }
    // Where each value was in the workbook is only needed to point a correction
    // workbook's notes at the clerk's own cells: keep it for rejected files only.
    if outcome.status != Status::Rejected {
        sub.places.clear();
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
        outcome.reason = "工作簿中没有单位信息（模板标识和封面都没有）".into();
    } else {
        match attribute(sub, roster) {
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

/// Matches a submission to a roster unit: by code, else by name (reported as a warning).
/// Without a roster every identified unit stands for itself.
fn attribute(sub: &mut Submission, roster: Option<&Roster>) -> Result<String, String> {
    let Some(roster) = roster else {
        return if sub.unit_code.is_empty() {
            Err("工作簿中没有单位代码".into())
        } else {
            Ok(sub.unit_code.clone())
        };
    };
    if let Some(unit) = UnitCode::new(&sub.unit_code).and_then(|c| roster.get(&c)) {
        if sub.unit_name.is_empty() {
            sub.unit_name = unit.name.clone();
        }
        return Ok(unit.code.to_string());
    }
    match roster.find_by_name(&sub.unit_name).as_slice() {
        [unit] => {
            let mut note = crate::model::Finding::file_level(
                crate::model::Level::Warning,
                rule_ids::UNIT,
                format!(
                    "单位代码“{}”不在名册中，已按单位名称匹配到 {}（{}）",
                    sub.unit_code, unit.name, unit.code
                ),
                "请核对封面的单位代码",
            );
            note.file = sub
                .findings
                .first()
                .map(|f| f.file.clone())
                .unwrap_or_default();
            sub.findings.push(note);
            sub.unit_code = unit.code.to_string();
            Ok(unit.code.to_string())
        }
        [] => Err(format!(
            "单位“{}”（代码 {}）不在名册中",
            sub.unit_name, sub.unit_code
        )),
        several => Err(format!(
            "单位名称“{}”在名册中有 {} 个，且代码 {} 不在名册中",
            sub.unit_name,
            several.len(),
            sub.unit_code
        )),
    }
}

/// Two or more files for one unit are never both counted: the newest file (by its
/// modification time; ties broken by the later path) is the unit's, the others become
/// `duplicate` pointing at it.
fn pick_one_per_unit(outcomes: &mut [FileOutcome]) {
    let mut by_unit: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, o) in outcomes.iter().enumerate() {
        if matches!(
            o.status,
            Status::Accepted | Status::AcceptedWithWarnings | Status::Rejected
        ) {
            by_unit.entry(o.unit_code.clone()).or_default().push(i);
        }
    }
    for indices in by_unit.values().filter(|v| v.len() > 1) {
        let Some(&chosen) = indices
            .iter()
            .max_by_key(|&&i| (outcomes[i].modified, outcomes[i].file.clone()))
        else {
            continue;
        };
        let chosen_file = outcomes[chosen].file.clone();
        for &i in indices.iter().filter(|&&i| i != chosen) {
            let o = &mut outcomes[i];
            o.reason = format!(
                "同一单位有多个文件，采用较新的 {chosen_file}；本文件原状态：{}",
                o.status.code()
            );
            o.status = Status::Duplicate;
            o.chosen = Some(chosen_file.clone());
        }
    }
}

/// Reads last year's `values.csv` into values by unit, for `--previous`.
pub fn read_previous(out_dir: &Path) -> Result<PreviousYear, anyhow::Error> {
    crate::report::values_by_unit(out_dir)
}

/// The one-screen summary of a run, and whether every expected unit was accepted.
#[derive(Debug)]
pub struct Summary {
    pub text: String,
    pub complete: bool,
}

/// Counts by status, the roster's completeness and the units still missing, by parent.
pub fn summary(run: &Run, roster: Option<&Roster>, previous: Option<&PreviousYear>) -> Summary {
    use std::fmt::Write as _;
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for o in &run.outcomes {
        *counts.entry(o.status).or_default() += 1;
    }
    let n = |s: Status| counts.get(&s).copied().unwrap_or(0);
    let mut t = String::new();
    let year = run.year.map(|y| format!("{y} 年度")).unwrap_or_default();
    let _ = writeln!(
        t,
        "{year}共找到 {} 个文件：受理 {}（其中有警告 {}），退回 {}，重复 {}，无法识别单位 {}，名册外单位 {}，年度不符 {}，无法读取 {}，不支持 {}，跳过 {}。",
        run.outcomes.len(),
        n(Status::Accepted) + n(Status::AcceptedWithWarnings),
        n(Status::AcceptedWithWarnings),
        n(Status::Rejected),
        n(Status::Duplicate),
        n(Status::Unidentified),
        n(Status::UnknownUnit),
        n(Status::WrongYear),
        n(Status::Unreadable),
        n(Status::Unsupported),
        n(Status::Skipped),
    );
    let by_unit: BTreeMap<&str, Status> = run
        .outcomes
        .iter()
        .filter(|o| {
            matches!(
                o.status,
                Status::Accepted | Status::AcceptedWithWarnings | Status::Rejected
            )
        })
        .map(|o| (o.unit_code.as_str(), o.status))
        .collect();
    let mut complete = n(Status::Rejected) == 0;
    if let Some(roster) = roster {
        let accepted = roster
            .units()
            .iter()
            .filter(|u| {
                by_unit
                    .get(u.code.as_str())
                    .is_some_and(|s| s.is_accepted())
            })
            .count();
        let rejected = roster
            .units()
            .iter()
            .filter(|u| by_unit.get(u.code.as_str()) == Some(&Status::Rejected))
            .count();
        let missing: Vec<_> = roster
            .units()
            .iter()
            .filter(|u| !by_unit.contains_key(u.code.as_str()))
            .collect();
        complete = accepted == roster.len();
        let _ = writeln!(
            t,
            "名册 {} 个单位：已受理 {accepted}，退回待改 {rejected}，未报送 {}。",
            roster.len(),
            missing.len()
        );
        if !missing.is_empty() {
            let _ = writeln!(t, "未报送的单位（按上级单位）：");
            let mut by_parent: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for u in &missing {
                let parent = u
                    .parent
                    .as_ref()
                    .and_then(|p| roster.get(p))
                    .map(|p| format!("{}（{}）", p.name, p.code))
                    .unwrap_or_else(|| "（顶层）".to_string());
                by_parent
                    .entry(parent)
                    .or_default()
                    .push(format!("{}（{}）", u.name, u.code));
            }
            for (parent, units) in by_parent {
                let _ = writeln!(t, "  {parent}：{}", units.join("、"));
            }
        }
    }
    if let Some(previous) = previous {
        let absent = by_unit
            .keys()
            .filter(|c| !previous.contains_key(**c))
            .count();
        if absent > 0 {
            let _ = writeln!(t, "上年汇总中没有的单位 {absent} 个，未做跨年度核对。");
        }
    }
    if n(Status::Duplicate) > 0 {
        let _ = writeln!(
            t,
            "同一单位有多个文件的，采用修改时间最新的一个，其余标为 duplicate（见 files.csv）。"
        );
    }
    Summary { text: t, complete }
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
        let inputs = discover(&[dir.path().to_path_buf()]).unwrap();
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
