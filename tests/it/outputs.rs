//! The output directory as a whole: what a run may delete, who may write it at a time,
//! what a killed run leaves, and what `report` and `--previous` accept from it.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::*;

/// The run record every run leaves in `OUT` (see README, “重复运行”).
const RECORD: &str = "运行记录.json";
/// The file a run locks for as long as it runs.
const LOCK: &str = "nianbao.lock";

/// A filled workbook of any unit (the fixtures of [`Filled`] are all the township).
fn unit_file(
    scratch: &Scratch,
    name: &str,
    (code, unit): (&str, &str),
    year: i32,
    values: &[(&str, f64)],
) -> PathBuf {
    scratch.write(name, unit_return(code, unit, year, values))
}

const BALANCED: &[(&str, f64)] = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];
/// T3-1 does not balance: rejected.
const UNBALANCED: &[(&str, f64)] = &[("t3.new.natural", 3.0)];
const VILLAGE: (&str, &str) = ("111", "山市村村民委员会");
const BUREAU: (&str, &str) = ("120", "示例县教育局");

/// [`ROSTER`] with the village and the bureau returned (accepted) for `year`.
fn two_returns(year: i32) -> Scratch {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    unit_file(&scratch, "回收/山市村.xlsx", VILLAGE, year, BALANCED);
    unit_file(&scratch, "回收/教育局.xlsx", BUREAU, year, BALANCED);
    scratch
}

fn run(scratch: &Scratch, args: &[&str]) -> Output {
    nianbao()
        .current_dir(scratch.dir.path())
        .args(args)
        .output()
        .unwrap()
}

fn ingest(scratch: &Scratch, out: &str) -> Output {
    let out = run(
        scratch,
        &["ingest", "回收", "--units", "units.csv", "--out", out],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "ingest failed: {}",
        stderr(&out)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The run record as JSON.
fn record(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join(RECORD)).expect("a run record");
    serde_json::from_str(&text).expect("the run record is JSON")
}

/// Changes one output file the way a person editing it would, and updates the run record
/// to match when there is one: what `report` and `--previous` then make of the content
/// is their own reading, not the record's check.
fn tamper(out: &Path, name: &str, change: impl FnOnce(String) -> String) {
    let path = out.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = change(text.clone());
    assert_ne!(text, changed, "the change changes {name}");
    std::fs::write(&path, &changed).unwrap();
    let Ok(json) = std::fs::read_to_string(out.join(RECORD)) else {
        return;
    };
    let mut rec: serde_json::Value = serde_json::from_str(&json).unwrap();
    for f in rec["files"].as_array_mut().unwrap() {
        if f["path"] == name {
            f["size"] = changed.len().into();
            f["sha256"] = sha256(changed.as_bytes()).into();
        }
    }
    std::fs::write(out.join(RECORD), serde_json::to_vec_pretty(&rec).unwrap()).unwrap();
}

/// The 1-based line of values.csv holding `unit`'s value of `key` (`t3.new.natural`), and
/// that line with the value (its last field) replaced by `value`.
fn value_line(text: &str, unit: &str, key: &str, value: &str) -> (usize, String) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (code, table, row, column) = (
        col("unit_code"),
        col("table"),
        col("row_code"),
        col("col_code"),
    );
    let record = reader
        .records()
        .map(Result::unwrap)
        .find(|r| r[code] == *unit && format!("{}.{}.{}", &r[table], &r[row], &r[column]) == key)
        .unwrap_or_else(|| panic!("no {unit} {key} in values.csv"));
    let n = record.position().unwrap().line() as usize;
    let line = text.lines().nth(n - 1).unwrap();
    let cut = line.rfind(',').unwrap();
    (n, format!("{},{value}", &line[..cut]))
}

/// `text` with its 1-based line `n` replaced by `new`.
fn replace_line(text: &str, n: usize, new: &str) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == n {
                format!("{new}\n")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// `text` with its last line cut short after its third field, as a copy interrupted
/// part-way would leave it.
fn cut_last_line(text: &str) -> String {
    let body = text.trim_end_matches('\n');
    let start = body.rfind('\n').unwrap() + 1;
    let fields: Vec<&str> = body[start..].splitn(4, ',').collect();
    format!("{}{}", &body[..start], fields[..3].join(","))
}

// ── 9. Stale outputs: only what nianbao published is removed ─────────────────────────

#[test]
fn a_run_removes_only_what_an_earlier_run_published() {
    let scratch = two_returns(2020);
    // The coordinator's own files, in the folders nianbao publishes into, before any run.
    let own = [
        ("out/reports/2023年度报告（定稿）.xlsx", "定稿".as_bytes()),
        ("out/rollups/上报说明.md", "按时上报".as_bytes()),
        ("out/corrections/去年的修改意见.xlsx", b"xlsx".as_slice()),
    ];
    for (name, bytes) in &own {
        scratch.write(name, bytes);
    }
    ingest(&scratch, "out");
    let out = scratch.path("out");
    for (name, bytes) in &own {
        let kept = std::fs::read(scratch.path(name)).unwrap_or_default();
        assert_eq!(kept, *bytes, "{name} is the user's, not nianbao's");
    }
    // The record lists every file the run wrote, with its size and SHA-256, and none of
    // the user's.
    let rec = record(&out);
    assert_eq!(rec["state"], "complete", "{rec}");
    assert_eq!(rec["year"], 2020, "{rec}");
    let files = rec["files"].as_array().unwrap();
    let listed: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    for name in [
        "values.csv",
        "units.csv",
        "rollup.csv",
        "sections.csv",
        "diagnostics.csv",
        "files.csv",
        "roster.csv",
        "index.html",
        "reports/111_山市村村民委员会.html",
        "reports/111_山市村村民委员会.docx",
        "rollups/汇总表.xlsx",
    ] {
        assert!(listed.contains(&name), "{name} not listed: {listed:?}");
    }
    assert!(!listed
        .iter()
        .any(|p| p.contains("定稿") || p.contains("说明")));
    for f in files {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["size"], bytes.len(), "{f}");
        assert_eq!(f["sha256"], sha256(&bytes), "{f}");
    }

    // The village resends with a mistake: its report of last time is stale and goes; the
    // bureau's report, edited by hand since, is kept (and said so) when it goes stale.
    unit_file(&scratch, "回收/山市村.xlsx", VILLAGE, 2020, UNBALANCED);
    std::fs::remove_file(scratch.path("回收/教育局.xlsx")).unwrap();
    let edited = out.join("reports/120_示例县教育局.docx");
    std::fs::write(&edited, "# 已人工修改").unwrap();
    let second = ingest(&scratch, "out");
    assert!(!out.join("reports/111_山市村村民委员会.html").exists());
    assert!(!out.join("reports/111_山市村村民委员会.docx").exists());
    assert!(!out.join("reports/120_示例县教育局.html").exists());
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "# 已人工修改");
    assert!(
        stderr(&second).contains("reports/120_示例县教育局.docx"),
        "the kept file is named: {}",
        stderr(&second)
    );
    for (name, bytes) in &own {
        assert_eq!(std::fs::read(scratch.path(name)).unwrap(), *bytes, "{name}");
    }
}

#[cfg(unix)]
#[test]
fn a_linked_folder_is_refused_and_nothing_outside_is_touched() {
    let scratch = two_returns(2020);
    let elsewhere = scratch.path("别处");
    scratch.write("别处/重要.html", "<p>重要</p>");
    scratch.write("别处/笔记.md", "笔记");
    std::fs::create_dir_all(scratch.path("out")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, scratch.path("out/rollups")).unwrap();
    let out = run(
        &scratch,
        &["ingest", "回收", "--units", "units.csv", "--out", "out"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("rollups"), "{}", stderr(&out));
    assert!(stderr(&out).contains("链接"), "{}", stderr(&out));
    let mut left: Vec<String> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["笔记.md", "重要.html"],
        "nothing written or removed there"
    );
    assert!(
        !scratch.path("out/values.csv").exists(),
        "refused before writing"
    );
}

// ── 10. One run at a time ────────────────────────────────────────────────────────────

/// Holds the lock on `out` as a running nianbao would.
fn hold_lock(out: &Path) -> std::fs::File {
    std::fs::create_dir_all(out).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(out.join(LOCK))
        .unwrap();
    fs4::FileExt::try_lock(&file).expect("the lock is free");
    file
}

#[test]
fn a_folder_in_use_by_another_run_is_refused() {
    let scratch = two_returns(2020);
    let out = scratch.path("out");
    ingest(&scratch, "out");
    let index = std::fs::read(out.join("index.html")).unwrap();
    let held = hold_lock(&out);
    unit_file(&scratch, "回收/山市村.xlsx", VILLAGE, 2020, UNBALANCED);
    for args in [
        &["ingest", "回收", "--units", "units.csv", "--out", "out"][..],
        &["report", "out"][..],
    ] {
        let second = run(&scratch, args);
        assert_eq!(
            second.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&second)
        );
        let says = stderr(&second);
        assert!(says.contains("正被另一个 nianbao 使用"), "{args:?}: {says}");
        assert!(says.contains("out"), "names the folder: {says}");
    }
    assert_eq!(std::fs::read(out.join("index.html")).unwrap(), index);
    assert!(out.join("reports/111_山市村村民委员会.html").is_file());
    // A lock file left by a run that is gone blocks nothing: the lock went with it.
    drop(held);
    assert!(out.join(LOCK).exists());
    ingest(&scratch, "out");
    assert!(!out.join("reports/111_山市村村民委员会.html").exists());
    let rerendered = run(&scratch, &["report", "out"]);
    assert_eq!(rerendered.status.code(), Some(0), "{}", stderr(&rerendered));
}

// ── 11. A killed run is noticed ──────────────────────────────────────────────────────

/// A roster of a county and `n` villages, and `n` villages' returns for 2020.
fn many_villages(scratch: &Scratch, n: usize, values: &[(&str, f64)]) {
    let mut roster = String::from("code,name,parent_code,level\n100,示例县人民政府,,county\n");
    for i in 0..n {
        let code = format!("{}", 200 + i);
        let name = format!("第{i}村村民委员会");
        roster.push_str(&format!("{code},{name},100,village\n"));
        unit_file(
            scratch,
            &format!("回收/{code}.xlsx"),
            (&code, &name),
            2020,
            values,
        );
    }
    scratch.write("units.csv", roster);
}

#[test]
fn a_killed_run_is_noticed_by_report_and_by_the_next_ingest() {
    let scratch = Scratch::new();
    many_villages(&scratch, 40, BALANCED);
    ingest(&scratch, "out");
    let out = scratch.path("out");
    assert!(!out.join("corrections").read_dir().unwrap().any(|_| true));
    // Every village resends with a mistake; the run is killed once it has begun to write
    // their correction workbooks.
    many_villages(&scratch, 40, UNBALANCED);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .current_dir(scratch.dir.path())
        .args(["ingest", "回收", "--units", "units.csv", "--out", "out"])
        .args(["--jobs", "1", "--quiet"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if out.join("corrections").read_dir().unwrap().any(|_| true) {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be killed");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no output");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let written = out.join("corrections").read_dir().unwrap().count();
    assert!(written < 40, "killed half-way: {written} of 40 written");

    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(2), "{}", stderr(&report));
    let says = stderr(&report);
    assert!(says.contains("上次运行没有完成"), "{says}");
    assert!(says.contains("nianbao ingest"), "says what to do: {says}");

    let next = ingest(&scratch, "out");
    assert!(
        stderr(&next).contains("上次运行没有完成"),
        "{}",
        stderr(&next)
    );
    assert_eq!(out.join("corrections").read_dir().unwrap().count(), 40);
    assert_eq!(record(&out)["state"], "complete");
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
}

// ── 12. What `report` accepts ────────────────────────────────────────────────────────

#[test]
fn report_refuses_without_the_roster_the_run_used() {
    let scratch = two_returns(2020);
    ingest(&scratch, "out");
    let out = scratch.path("out");
    std::fs::remove_file(out.join("roster.csv")).unwrap();
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(2), "{}", stderr(&report));
    assert!(
        stderr(&report).contains("roster.csv"),
        "{}",
        stderr(&report)
    );
    assert!(
        out.join("rollups/100_示例县人民政府.html").is_file(),
        "the county's roll-up is left as it was"
    );
}

#[test]
fn an_ingest_without_a_roster_leaves_no_old_roster_for_report() {
    let scratch = two_returns(2020);
    ingest(&scratch, "out");
    let out = scratch.path("out");
    assert!(out.join("roster.csv").is_file());
    let second = run(&scratch, &["ingest", "回收", "--out", "out"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(!out.join("roster.csv").exists(), "not part of this run");
    assert!(!out.join("rollups/100_示例县人民政府.html").exists());
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
    assert!(
        !out.join("rollups/100_示例县人民政府.html").exists(),
        "no roll-up from an old roster"
    );
    assert!(out.join("rollups/ALL_全部单位合计.html").is_file());
}

#[test]
fn report_refuses_values_that_are_not_finite_numbers() {
    for bad in ["abc", "1e999", "NaN"] {
        let scratch = two_returns(2020);
        ingest(&scratch, "out");
        let out = scratch.path("out");
        let mut line = 0;
        tamper(&out, "values.csv", |text| {
            let (n, new) = value_line(&text, "120", "t3.new.natural", bad);
            line = n;
            replace_line(&text, n, &new)
        });
        let report = run(&scratch, &["report", "out"]);
        assert_eq!(report.status.code(), Some(2), "{bad}: {}", stderr(&report));
        let says = stderr(&report);
        assert!(
            says.contains(&format!("values.csv 第 {line} 行")),
            "{bad}: {says}"
        );
        assert!(says.contains(bad), "{bad}: {says}");
    }
}

#[test]
fn report_refuses_files_changed_since_the_run_naming_them() {
    let scratch = two_returns(2020);
    ingest(&scratch, "out");
    let out = scratch.path("out");
    let rollup = out.join("rollup.csv");
    let bytes = std::fs::read(&rollup).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    // Cut off in the middle of its last line, the run record not knowing.
    std::fs::write(&rollup, cut_last_line(&text)).unwrap();
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(2), "{}", stderr(&report));
    assert!(
        stderr(&report).contains("rollup.csv"),
        "{}",
        stderr(&report)
    );
    // The same with a record that agrees: the file's own reading names file and line.
    std::fs::write(&rollup, &bytes).unwrap();
    let lines = text.lines().count();
    tamper(&out, "rollup.csv", |text| cut_last_line(&text));
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(2), "{}", stderr(&report));
    assert!(
        stderr(&report).contains(&format!("rollup.csv 第 {lines} 行")),
        "{}",
        stderr(&report)
    );
    // A values.csv edited by hand (a 2 made a 7: same size) is not the run's either.
    tamper(&out, "rollup.csv", |_| text.clone());
    let values = out.join("values.csv");
    let text = std::fs::read_to_string(&values).unwrap();
    let (n, new) = value_line(&text, "120", "t3.new.natural", "7");
    std::fs::write(&values, replace_line(&text, n, &new)).unwrap();
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(2), "{}", stderr(&report));
    assert!(
        stderr(&report).contains("values.csv"),
        "{}",
        stderr(&report)
    );
    // And a folder no run wrote is no run's output.
    std::fs::remove_file(out.join(RECORD)).unwrap();
    let report = run(&scratch, &["report", "out"]);
    assert_eq!(report.status.code(), Some(2), "{}", stderr(&report));
    assert!(stderr(&report).contains(RECORD), "{}", stderr(&report));
}

// ── 13. `--previous` ─────────────────────────────────────────────────────────────────

#[test]
fn previous_must_be_an_earlier_year() {
    let scratch = two_returns(2020);
    ingest(&scratch, "out2020");
    let again = run(
        &scratch,
        &[
            "ingest",
            "回收",
            "--units",
            "units.csv",
            "--out",
            "again",
            "--previous",
            "out2020",
        ],
    );
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    let says = stderr(&again);
    assert!(says.contains("上一年度"), "{says}");
    assert!(says.contains("2020"), "{says}");
    assert!(!scratch.path("again/values.csv").exists());
    // Given with --year, it is refused before any workbook is read.
    let later = run(
        &scratch,
        &[
            "ingest",
            "回收",
            "--out",
            "again",
            "--year",
            "2019",
            "--previous",
            "out2020",
        ],
    );
    assert_eq!(later.status.code(), Some(2), "{}", stderr(&later));
    assert!(stderr(&later).contains("上一年度"), "{}", stderr(&later));
}

#[test]
fn text_in_the_previous_values_is_an_error_with_file_and_line() {
    let scratch = two_returns(2020);
    ingest(&scratch, "out2020");
    let mut line = 0;
    tamper(&scratch.path("out2020"), "values.csv", |text| {
        let (n, new) = value_line(&text, "120", "t3.carry_next.natural", "两件");
        line = n;
        replace_line(&text, n, &new)
    });
    unit_file(&scratch, "回收2021/教育局.xlsx", BUREAU, 2021, BALANCED);
    let next = run(
        &scratch,
        &[
            "ingest",
            "回收2021",
            "--units",
            "units.csv",
            "--out",
            "out2021",
            "--previous",
            "out2020",
        ],
    );
    assert_eq!(next.status.code(), Some(2), "{}", stderr(&next));
    let says = stderr(&next);
    assert!(says.contains(&format!("values.csv 第 {line} 行")), "{says}");
    assert!(says.contains("两件"), "{says}");
}
