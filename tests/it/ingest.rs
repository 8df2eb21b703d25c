//! `nianbao ingest`: a batch with every kind of file a coordinator receives.

use std::path::Path;

use crate::common::*;

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").expect("BOM");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn row_of<'a>(rows: &'a [Vec<String>], col: &str, value: &str) -> &'a Vec<String> {
    let i = rows[0].iter().position(|h| h == col).unwrap();
    rows.iter()
        .find(|r| r[i] == value)
        .unwrap_or_else(|| panic!("no row with {col}={value}"))
}

fn get<'a>(rows: &'a [Vec<String>], row: &'a [String], col: &str) -> &'a str {
    let i = rows[0].iter().position(|h| h == col).unwrap();
    &row[i]
}

/// Writes a filled workbook for another unit of [`ROSTER`] by patching the unit.
fn unit_file(
    scratch: &Scratch,
    name: &str,
    code: &str,
    unit: &str,
    year: i32,
    values: &[(&str, f64)],
) -> std::path::PathBuf {
    scratch.write(name, unit_return(code, unit, year, values))
}

struct Batch {
    scratch: Scratch,
}

/// A township's returns: accepted, rejected, a duplicate, and every kind of bad file.
fn batch() -> Batch {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let ok = [("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];
    unit_file(
        &scratch,
        "回收/山市村 年报.xlsx",
        "111",
        "山市村村民委员会",
        2020,
        &ok,
    );
    unit_file(
        &scratch,
        "回收/县直/教育局.xlsx",
        "120",
        "示例县教育局",
        2020,
        &[("t3.new.legal", 1.0), ("t3.open.legal", 1.0)],
    );
    // Rejected: unbalanced.
    unit_file(
        &scratch,
        "回收/东兴村.xlsx",
        "112",
        "东兴村村民委员会",
        2020,
        &[("t3.new.natural", 3.0)],
    );
    // The township sent twice; the newer file counts.
    let old = unit_file(
        &scratch,
        "回收/山市镇(1).xlsx",
        "110",
        "山市镇人民政府",
        2020,
        &[("t3.new.natural", 9.0), ("t3.open.natural", 9.0)],
    );
    let new = unit_file(
        &scratch,
        "回收/山市镇.xlsx",
        "110",
        "山市镇人民政府",
        2020,
        &[("t3.new.natural", 4.0), ("t3.open.natural", 4.0)],
    );
    let t0 = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(t0)
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&new)
        .unwrap()
        .set_modified(t0 + std::time::Duration::from_secs(60))
        .unwrap();
    unit_file(&scratch, "回收/空白.xlsx", "", "", 2020, &[]);
    unit_file(
        &scratch,
        "回收/去年的.xlsx",
        "111",
        "山市村村民委员会",
        2019,
        &ok,
    );
    unit_file(&scratch, "回收/外县.xlsx", "999", "外县某局", 2020, &ok);
    scratch.write("回收/坏文件.xlsx", b"");
    scratch.write("回收/说明.pdf", b"%PDF-1.4");
    scratch.write("回收/~$山市镇.xlsx", b"lock");
    Batch { scratch }
}

fn ingest(b: &Batch, out: &str, extra: &[&str]) -> std::process::Output {
    nianbao()
        .current_dir(b.scratch.dir.path())
        .args(["ingest", "回收", "--units", "units.csv", "--out", out])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn every_file_is_accounted_for_with_a_status() {
    let b = batch();
    let out = ingest(&b, "out", &[]);
    assert_eq!(out.status.code(), Some(1), "some units missing or rejected");
    let files = read_csv(&b.scratch.path("out/files.csv"));
    assert_eq!(
        files[0],
        ["file", "status", "reason", "unit_code", "chosen"]
    );
    assert_eq!(files.len() - 1, 11, "one row per file found: {files:?}");
    let status = |f: &str| get(&files, row_of(&files, "file", f), "status").to_string();
    assert_eq!(status("回收/山市村 年报.xlsx"), "accepted");
    assert_eq!(status("回收/县直/教育局.xlsx"), "accepted");
    assert_eq!(status("回收/东兴村.xlsx"), "rejected");
    assert_eq!(status("回收/山市镇.xlsx"), "accepted");
    assert_eq!(status("回收/山市镇(1).xlsx"), "duplicate");
    assert_eq!(
        get(
            &files,
            row_of(&files, "file", "回收/山市镇(1).xlsx"),
            "chosen"
        ),
        "回收/山市镇.xlsx"
    );
    assert_eq!(status("回收/空白.xlsx"), "unidentified");
    assert_eq!(status("回收/去年的.xlsx"), "wrong_year");
    assert_eq!(status("回收/外县.xlsx"), "unknown_unit");
    assert_eq!(status("回收/坏文件.xlsx"), "unreadable");
    assert_eq!(status("回收/说明.pdf"), "unsupported");
    assert_eq!(status("回收/~$山市镇.xlsx"), "skipped");
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("共找到 11 个文件：受理 3"), "{summary}");
    assert!(summary.contains("未报送 1"), "{summary}");
    assert!(
        summary.contains("示例县人民政府（100）"),
        "the county itself has not reported: {summary}"
    );
}

#[test]
fn units_values_rollup_and_diagnostics() {
    let b = batch();
    ingest(&b, "out", &[]);
    let units = read_csv(&b.scratch.path("out/units.csv"));
    let status = |code: &str| get(&units, row_of(&units, "unit_code", code), "status").to_string();
    assert_eq!(status("100"), "missing");
    assert_eq!(status("110"), "accepted");
    assert_eq!(status("112"), "rejected");
    assert_eq!(
        get(&units, row_of(&units, "unit_code", "110"), "new_requests"),
        "4"
    );
    let values = read_csv(&b.scratch.path("out/values.csv"));
    // 3 accepted units × (22 + 161 + 15) cells of the 2019 format.
    assert_eq!(values.len() - 1, 3 * (22 + 23 * 7 + 15));
    let rollup = read_csv(&b.scratch.path("out/rollup.csv"));
    let township_new = rollup
        .iter()
        .find(|r| {
            r[1] == "110" && r.contains(&"new".to_string()) && r.contains(&"natural".to_string())
        })
        .unwrap();
    // The township (4) and its accepted village (2); the rejected village is not counted.
    assert_eq!(township_new.last().unwrap(), "6");
    let diagnostics = read_csv(&b.scratch.path("out/diagnostics.csv"));
    let t31 = diagnostics
        .iter()
        .find(|r| r.contains(&"T3-1".to_string()))
        .unwrap();
    assert!(
        t31.contains(&"回收/东兴村.xlsx".to_string()) && t31.contains(&"112".to_string()),
        "{t31:?}"
    );
    // Beside the cells, the place in words (its own column, `about`).
    let about = diagnostics[0].iter().position(|h| h == "about").unwrap();
    assert_eq!(t31[about], "表三「申请人情况/自然人」列", "{t31:?}");
}

#[test]
fn outputs_are_identical_whatever_the_thread_count_and_inputs_untouched() {
    let b = batch();
    let before: Vec<Vec<u8>> = walk(&b.scratch.path("回收"))
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    ingest(&b, "one", &["--jobs", "1"]);
    ingest(&b, "two", &["--jobs", "2"]);
    for name in [
        "values.csv",
        "units.csv",
        "rollup.csv",
        "diagnostics.csv",
        "files.csv",
    ] {
        let one = std::fs::read(b.scratch.path(&format!("one/{name}"))).unwrap();
        let two = std::fs::read(b.scratch.path(&format!("two/{name}"))).unwrap();
        assert!(one == two, "{name} differs between 1 and 2 threads");
    }
    let after: Vec<Vec<u8>> = walk(&b.scratch.path("回收"))
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(before == after, "inputs modified");
    // Every published file is identical too, and no temporary file is left behind.
    let one = walk(&b.scratch.path("one"));
    let two = walk(&b.scratch.path("two"));
    let names = |files: &[std::path::PathBuf], root: &str| -> Vec<String> {
        let root = b.scratch.path(root);
        files
            .iter()
            .map(|p| {
                p.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    assert_eq!(names(&one, "one"), names(&two, "two"));
    // Among them the volumes of both parents, which two threads bind at the same time.
    let volumes: Vec<String> = names(&one, "one")
        .into_iter()
        .filter(|n| n.ends_with("_年报汇编.docx"))
        .collect();
    assert_eq!(volumes.len(), 2, "{volumes:?}");
    // Workbooks included: their creation time is fixed, not the clock's (see template.rs).
    for (a, b) in one.iter().zip(&two) {
        let same = std::fs::read(a).unwrap() == std::fs::read(b).unwrap();
        assert!(same, "{} differs", a.display());
    }
    let stray: Vec<String> = names(&one, "one")
        .into_iter()
        .filter(|n| n.starts_with('.') || n.contains("/.") || n.contains(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

#[test]
fn a_rerun_replaces_what_the_last_run_published() {
    let b = batch();
    ingest(&b, "out", &[]);
    let out = b.scratch.path("out");
    let report = out.join("reports/111_山市村村民委员会.html");
    assert!(report.is_file(), "accepted the first time");
    // The village resends with a mistake; a run was killed half-way last time (its
    // temporary files are left); the coordinator keeps a note of their own in reports/.
    unit_file(
        &b.scratch,
        "回收/山市村 年报.xlsx",
        "111",
        "山市村村民委员会",
        2020,
        &[("t3.new.natural", 5.0)],
    );
    let left = [
        out.join(".nianbao-tmp-AbC123"),
        out.join("reports/.nianbao-tmp-XyZ789"),
    ];
    for f in &left {
        std::fs::write(f, b"half a file").unwrap();
    }
    let note = out.join("reports/说明.txt");
    std::fs::write(&note, "发布前请核对").unwrap();
    ingest(&b, "out", &[]);
    assert!(
        !report.exists(),
        "a rejected unit keeps no report from last time"
    );
    assert!(!out.join("reports/111_山市村村民委员会.md").exists());
    assert!(out
        .join("corrections/111_山市村村民委员会_2020_修改意见.xlsx")
        .is_file());
    assert!(out.join("reports/120_示例县教育局.html").is_file());
    for f in &left {
        assert!(!f.exists(), "{} left behind", f.display());
    }
    assert!(
        note.is_file(),
        "files nianbao does not publish are left alone"
    );
    // And what is left is exactly what a run into an empty directory publishes.
    ingest(&b, "fresh", &[]);
    let published = |root: &str| -> Vec<(String, Vec<u8>)> {
        let root = b.scratch.path(root);
        walk(&root)
            .into_iter()
            .filter(|p| !p.ends_with("说明.txt"))
            .map(|p| {
                let name = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect()
    };
    assert!(
        published("out") == published("fresh"),
        "rerun differs from a clean run"
    );
}

#[test]
fn reports_corrections_and_the_overview_are_published() {
    let b = batch();
    ingest(&b, "out", &[]);
    let out = b.scratch.path("out");
    // Accepted units get a report as HTML and Word; the rejected one a correction workbook.
    for stem in [
        "110_山市镇人民政府",
        "111_山市村村民委员会",
        "120_示例县教育局",
    ] {
        let html = std::fs::read_to_string(out.join(format!("reports/{stem}.html"))).unwrap();
        assert!(
            html.contains("三、收到和处理政府信息公开申请情况"),
            "{stem}"
        );
        assert!(out.join(format!("reports/{stem}.docx")).is_file());
        // Markdown only with --markdown.
        assert!(!out.join(format!("reports/{stem}.md")).exists());
    }
    assert!(
        !out.join("reports/112_东兴村村民委员会.html").exists(),
        "rejected: no report"
    );
    let correction = out.join("corrections/112_东兴村村民委员会_2020_修改意见.xlsx");
    let wb = calamine::open_workbook_auto(&correction).unwrap();
    assert_eq!(calamine::Reader::sheet_names(&wb)[0], "问题清单");
    // Roll-ups: the whole roster, the county and the township, plus the workbook.
    for stem in [
        "ALL_全部单位合计",
        "100_示例县人民政府",
        "110_山市镇人民政府",
    ] {
        assert!(out.join(format!("rollups/{stem}.html")).is_file(), "{stem}");
    }
    assert!(out.join("rollups/汇总表.xlsx").is_file());
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("reports/110_山市镇人民政府.html"),
        "links to reports"
    );
    assert!(
        index.contains("corrections/112_东兴村村民委员会_2020_修改意见.xlsx"),
        "links to corrections"
    );
    assert!(index.contains("<svg"), "charts");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn no_bom_and_no_roster() {
    let b = batch();
    let out = nianbao()
        .current_dir(b.scratch.dir.path())
        .args(["ingest", "回收", "--out", "nr", "--no-bom", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let units = std::fs::read(b.scratch.path("nr/units.csv")).unwrap();
    assert!(units.starts_with(b"unit_code,"), "no BOM");
    let text = String::from_utf8(units).unwrap();
    // Without a roster the units are those the workbooks name; the foreign one included.
    assert!(text.contains("999"), "{text}");
    assert!(!text.contains("missing"), "{text}");
}

#[test]
fn previous_year_carry_over_is_checked() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    unit_file(
        &scratch,
        "2020/镇.xlsx",
        "110",
        "山市镇人民政府",
        2020,
        &[
            ("t3.new.natural", 5.0),
            ("t3.open.natural", 3.0),
            ("t3.carry_next.natural", 2.0),
        ],
    );
    unit_file(
        &scratch,
        "2021/镇.xlsx",
        "110",
        "山市镇人民政府",
        2021,
        &[
            ("t3.new.natural", 1.0),
            ("t3.carried.natural", 1.0),
            ("t3.open.natural", 2.0),
        ],
    );
    let run = |input: &str, out: &str, extra: &[&str]| {
        nianbao()
            .current_dir(scratch.dir.path())
            .args([
                "ingest",
                input,
                "--units",
                "units.csv",
                "--out",
                out,
                "--quiet",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    run("2020", "out2020", &[]);
    run("2021", "out2021", &["--previous", "out2020"]);
    let diagnostics = read_csv(&scratch.path("out2021/diagnostics.csv"));
    let x1: Vec<_> = diagnostics
        .iter()
        .filter(|r| r.contains(&"X-1".to_string()))
        .collect();
    assert_eq!(x1.len(), 1, "{diagnostics:?}");
    assert!(x1[0].iter().any(|c| c.contains("上年")), "{:?}", x1[0]);
}

#[test]
fn report_renders_the_same_pages_again_from_the_outputs() {
    let b = batch();
    ingest(&b, "out", &["--markdown"]);
    let out = b.scratch.path("out");
    let pages = |out: &Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        walk(out)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "html" || e == "md"))
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect()
    };
    let before = pages(&out);
    assert!(before.len() > 10, "{}", before.len());
    std::fs::remove_dir_all(out.join("reports")).unwrap();
    std::fs::remove_dir_all(out.join("rollups")).unwrap();
    std::fs::remove_file(out.join("index.html")).unwrap();
    nianbao()
        .arg("report")
        .arg(&out)
        .arg("--markdown")
        .assert()
        .success();
    let after = pages(&out);
    assert_eq!(before.len(), after.len());
    for ((p, a), (_, b)) in before.iter().zip(&after) {
        assert!(a == b, "{} differs when rendered again", p.display());
    }
}

/// The samples' covers carry a date: the reports rendered again from the CSVs end with
/// the same 落款 as those `ingest` wrote (units.csv's `signed_on`).
#[test]
fn reports_rendered_again_keep_their_signature() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_samples(2024, &out).arg("--quiet").assert().code(1);
    let report = out.join("reports/231083102000_山市镇人民政府.html");
    let before = std::fs::read_to_string(&report).unwrap();
    assert!(before.contains("2025年1月13日"), "the sample's 落款");
    std::fs::remove_dir_all(out.join("reports")).unwrap();
    nianbao().arg("report").arg(&out).assert().code(0);
    assert_eq!(std::fs::read_to_string(&report).unwrap(), before);
}

#[test]
fn the_seed_unit_is_reported_from_its_sample_workbook() {
    // samples/returns/2020 holds 山市镇人民政府's 2020 report as the seed document has it.
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_samples(2020, &out)
        .args(["--quiet", "--markdown"])
        .assert()
        .code(1); // one village has not reported
    let seed = std::fs::read_to_string(out.join("reports/231083102000_山市镇人民政府.md")).unwrap();
    let headings: Vec<&str> = seed.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings,
        [
            "# 山市镇人民政府2020年政府信息公开工作年度报告",
            "## 一、总体情况",
            "## 二、主动公开政府信息情况",
            "## 三、收到和处理政府信息公开申请情况",
            "## 四、政府信息公开行政复议、行政诉讼情况",
            "## 五、存在的主要问题及改进情况",
            "## 六、其他需要报告的事项",
        ]
    );
    for sentence in [
        "现将有关情况总结如下：",
        "我镇对政务村务公开工作十分重视",
        "2020年我镇在政务村务公开工作领导和监督力度还不够大",
        "无。",
    ] {
        assert!(seed.contains(sentence), "{sentence}");
    }
    // Every number of the seed is 0, and the tables print them.
    let numbers: Vec<&str> = seed
        .lines()
        .filter(|l| l.starts_with('|'))
        .flat_map(|l| l.split('|').map(str::trim))
        .filter(|c| c.chars().all(|ch| ch.is_ascii_digit() || ch == '.') && !c.is_empty())
        .collect();
    assert!(numbers.len() >= 22 + 23 * 7 + 15, "{}", numbers.len());
    assert!(numbers.iter().all(|n| *n == "0"), "{numbers:?}");
}
