//! Nothing lost, whatever arrives: file names that are not UTF-8, overlapping inputs,
//! outputs among the inputs, paths the walk cannot follow, and the small ways a run
//! could answer wrongly (exit codes, `--jobs`, a renamed `.xlsb`). Every fixture is
//! generated here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::*;

const YEAR: i32 = 2020;

/// Values that satisfy every rule.
const OK: &[(&str, f64)] = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];

/// A filled workbook of a unit of [`ROSTER`] for `year`.
fn return_of(code: &str, name: &str, year: i32, values: &[(&str, f64)]) -> Vec<u8> {
    unit_return(code, name, year, values)
}

/// Every unit of [`ROSTER`]: (code, name).
const UNITS: [(&str, &str); 5] = [
    ("100", "示例县人民政府"),
    ("110", "山市镇人民政府"),
    ("111", "山市村村民委员会"),
    ("112", "东兴村村民委员会"),
    ("120", "示例县教育局"),
];

fn good(code: &str) -> Vec<u8> {
    let name = UNITS.iter().find(|(c, _)| *c == code).unwrap().1;
    return_of(code, name, YEAR, OK)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `nianbao ingest` run in the scratch directory.
fn ingest(scratch: &Scratch, args: &[&str]) -> Output {
    nianbao()
        .current_dir(scratch.dir.path())
        .arg("ingest")
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

/// files.csv by file: (status, reason).
fn files_csv(out: &Path) -> BTreeMap<String, (String, String)> {
    let rows = records(&out.join("files.csv"));
    let by_file: BTreeMap<String, (String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["file"].clone(),
                (r["status"].clone(), r["reason"].clone()),
            )
        })
        .collect();
    assert_eq!(by_file.len(), rows.len(), "a file name twice: {rows:#?}");
    by_file
}

/// units.csv by unit code: status.
fn unit_statuses(out: &Path) -> BTreeMap<String, String> {
    records(&out.join("units.csv"))
        .into_iter()
        .map(|r| (r["unit_code"].clone(), r["status"].clone()))
        .collect()
}

fn every_unit(status: &str) -> BTreeMap<String, String> {
    UNITS
        .iter()
        .map(|(c, _)| (c.to_string(), status.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. File names that are not UTF-8

/// A zip made on Chinese Windows and unpacked on Linux: the names are GBK bytes. Two
/// names that differ only in characters a lossy decoding replaces were one file, and so
/// were `b\c.xlsx` (a backslash in a Linux name) and `b/c.xlsx`.
#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_stay_apart_and_are_shown_decoded() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let dir = scratch.path("回收");
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let gbk = |name: &str| dir.join(OsStr::from_bytes(&encoding_rs::GBK.encode(name).0));
    std::fs::write(gbk("治山村年报.xlsx"), good("111")).unwrap();
    std::fs::write(gbk("长山村年报.xlsx"), good("112")).unwrap();
    std::fs::write(dir.join("b\\c.xlsx"), good("120")).unwrap();
    std::fs::write(dir.join("b/c.xlsx"), good("110")).unwrap();
    std::fs::write(dir.join("县.xlsx"), good("100")).unwrap();
    // Two names no encoding decodes, equal once their bytes are replaced.
    std::fs::write(dir.join(OsStr::from_bytes(b"\xff1.xlsx")), b"").unwrap();
    std::fs::write(dir.join(OsStr::from_bytes(b"\xfe1.xlsx")), b"").unwrap();

    let run = ingest(&scratch, &["回收", "--units", "units.csv", "--out", "out"]);
    let stderr = text(&run.stderr);
    assert!(stderr.contains("共找到 7 个文件"), "{stderr}");
    assert_eq!(run.status.code(), Some(0), "every unit accepted: {stderr}");
    let files = files_csv(&scratch.path("out"));
    assert_eq!(files.len(), 7, "{files:#?}");
    for (name, unit) in [
        ("回收/治山村年报.xlsx", "111"),
        ("回收/长山村年报.xlsx", "112"),
    ] {
        let (status, reason) = &files[name];
        assert_eq!(status, "accepted", "{name} ({unit}): {files:#?}");
        assert_eq!(reason, "文件名按 GBK 解码", "{name}");
    }
    assert_eq!(files["回收/b\\c.xlsx"].0, "accepted");
    assert_eq!(files["回收/b/c.xlsx"], ("accepted".into(), String::new()));
    let unreadable: Vec<(&String, &String)> = files
        .iter()
        .filter(|(_, (s, _))| s == "unreadable")
        .map(|(f, (_, r))| (f, r))
        .collect();
    assert_eq!(unreadable.len(), 2, "{files:#?}");
    assert_eq!(unreadable[0].0, "回收/\u{FFFD}1.xlsx");
    assert_eq!(unreadable[1].0, "回收/\u{FFFD}1（2）.xlsx");
    assert!(
        unreadable[1].1.contains("不是 UTF-8 也不是 GBK") && unreadable[1].1.contains("以区分"),
        "{}",
        unreadable[1].1
    );
    assert_eq!(unit_statuses(&scratch.path("out")), every_unit("accepted"));
    // The decoded names are the ones in the other outputs too.
    let diagnostics = std::fs::read_to_string(scratch.path("out/diagnostics.csv")).unwrap();
    assert!(!diagnostics.contains("\u{FFFD}\u{FFFD}"), "{diagnostics}");
    // The level above, reading this run's package, says the same of the names.
    let package = std::fs::read_dir(scratch.path("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_上报包.zip"))
        .expect("a package");
    let name = package.file_name().unwrap().to_string_lossy().to_string();
    std::fs::create_dir_all(scratch.path("up")).unwrap();
    std::fs::copy(&package, scratch.path(&format!("up/{name}"))).unwrap();
    let above = ingest(&scratch, &["up", "--units", "units.csv", "--out", "out2"]);
    assert_eq!(above.status.code(), Some(0), "{}", text(&above.stderr));
    let carried = files_csv(&scratch.path("out2"));
    for file in ["回收/治山村年报.xlsx", "回收/长山村年报.xlsx"] {
        let (status, reason) = &carried[&format!("up/{name}/{file}")];
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("accepted", "文件名按 GBK 解码"),
            "{carried:#?}"
        );
    }
    let (_, reason) = &carried[&format!("up/{name}/回收/\u{FFFD}1（2）.xlsx")];
    assert_eq!(reason.matches("以区分").count(), 1, "said once: {reason}");
}

// ---------------------------------------------------------------------------------------
// 5. Overlapping inputs

#[test]
fn overlapping_inputs_count_each_file_once() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    scratch.write("回收/县.xlsx", good("100"));
    scratch.write("回收/镇/镇.xlsx", good("110"));
    scratch.write("回收/镇/山市村.xlsx", good("111"));
    scratch.write("回收/东兴村.xlsx", good("112"));
    scratch.write("回收/教育局.xlsx", good("120"));
    let run = ingest(
        &scratch,
        &[
            "回收",
            "./回收",
            "回收/镇",
            "回收/镇/镇.xlsx",
            "--units",
            "units.csv",
            "--out",
            "out",
        ],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("共找到 5 个文件"), "{stderr}");
    let files = files_csv(&scratch.path("out"));
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "回收/东兴村.xlsx",
            "回收/县.xlsx",
            "回收/教育局.xlsx",
            "回收/镇/山市村.xlsx",
            "回收/镇/镇.xlsx"
        ],
        "each file once, as the first input given names it"
    );
    assert!(files.values().all(|(s, _)| s == "accepted"), "{files:#?}");
    assert_eq!(unit_statuses(&scratch.path("out")), every_unit("accepted"));
}

// ---------------------------------------------------------------------------------------
// 3. Outputs among the inputs

/// The output directory inside the input directory: the second run reads neither the
/// correction workbooks (newer than the unit's own file, they displaced it) nor the
/// roll-up workbook.
#[test]
fn a_run_never_reads_its_own_outputs() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    for (code, _) in &UNITS[1..] {
        scratch.write(&format!("回收/{code}.xlsx"), good(code));
    }
    // Rejected: unbalanced, so that a correction workbook is written.
    scratch.write(
        "回收/县.xlsx",
        return_of("100", "示例县人民政府", YEAR, &[("t3.new.natural", 3.0)]),
    );
    let args = ["回收", "--units", "units.csv", "--out", "回收/汇总"];
    let first = ingest(&scratch, &args);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let out = scratch.path("回收/汇总");
    assert!(out.join("rollups/汇总表.xlsx").is_file());
    let corrections: Vec<_> = std::fs::read_dir(out.join("corrections"))
        .unwrap()
        .collect();
    assert_eq!(corrections.len(), 1, "{corrections:?}");
    let files_before = files_csv(&out);
    let units_before = unit_statuses(&out);
    assert_eq!(units_before["100"], "rejected");

    std::thread::sleep(Duration::from_millis(20));
    let second = ingest(&scratch, &args);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("共找到 5 个文件"), "{stderr}");
    assert_eq!(
        files_csv(&out),
        files_before,
        "the same files, nothing from 汇总/"
    );
    assert_eq!(unit_statuses(&out), units_before);
}

/// A roster, a `--previous` file or a returned file where the run would write one of
/// its outputs: refused before anything is written, naming the file.
#[test]
fn outputs_never_overwrite_an_input() {
    let scratch = Scratch::new();
    scratch.write("回收/镇.xlsx", good("110"));
    // The roster is called units.csv and lives in the output directory.
    let roster = scratch.write("out/units.csv", ROSTER);
    let run = ingest(
        &scratch,
        &["回收", "--units", "out/units.csv", "--out", "out"],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("units.csv") && stderr.contains("会覆盖输入文件"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&roster).unwrap(), ROSTER);
    let written: Vec<_> = std::fs::read_dir(scratch.path("out")).unwrap().collect();
    assert_eq!(written.len(), 1, "nothing written: {written:?}");

    // Last year's run as `--previous` and as the output directory.
    scratch.write("units.csv", ROSTER);
    let last_year = ingest(&scratch, &["回收", "--units", "units.csv", "--out", "2019"]);
    assert_eq!(
        last_year.status.code(),
        Some(1),
        "{}",
        text(&last_year.stderr)
    );
    let values = std::fs::read(scratch.path("2019/values.csv")).unwrap();
    let run = ingest(
        &scratch,
        &[
            "回收",
            "--units",
            "units.csv",
            "--previous",
            "2019",
            "--out",
            "2019",
        ],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("values.csv") && stderr.contains("--previous"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(scratch.path("2019/values.csv")).unwrap(),
        values
    );

    // The input directory itself as the output directory: everything in it would be
    // output, nothing could be read.
    let run = ingest(&scratch, &["回收", "--units", "units.csv", "--out", "回收"]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("输出目录"), "{stderr}");
    assert!(!scratch.path("回收/files.csv").exists());
}

/// The roll-up workbook sent back among the returns, renamed: recognised by its content
/// and skipped. A correction workbook sent back is a return like any other.
#[test]
fn the_rollup_workbook_among_the_inputs_is_skipped_by_its_content() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    for (code, _) in &UNITS[1..] {
        scratch.write(&format!("回收/{code}.xlsx"), good(code));
    }
    scratch.write(
        "回收/县.xlsx",
        return_of("100", "示例县人民政府", YEAR, &[("t3.new.natural", 3.0)]),
    );
    let first = ingest(&scratch, &["回收", "--units", "units.csv", "--out", "out"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    std::fs::copy(
        scratch.path("out/rollups/汇总表.xlsx"),
        scratch.path("回收/县政府年报.xlsx"),
    )
    .unwrap();
    let correction = std::fs::read_dir(scratch.path("out/corrections"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(scratch.path("回收/县.xlsx")).unwrap();
    std::fs::copy(&correction, scratch.path("回收/县（修改意见）.xlsx")).unwrap();

    let second = ingest(&scratch, &["回收", "--units", "units.csv", "--out", "out2"]);
    let stderr = text(&second.stderr);
    let files = files_csv(&scratch.path("out2"));
    assert_eq!(
        files["回收/县政府年报.xlsx"],
        (
            "skipped".to_string(),
            "nianbao 生成的汇总表，不是单位报送的文件".to_string()
        ),
        "{stderr}"
    );
    // The correction workbook is the county's return, still with its error.
    assert_eq!(
        files["回收/县（修改意见）.xlsx"].0, "rejected",
        "{files:#?}"
    );
    assert_eq!(unit_statuses(&scratch.path("out2"))["100"], "rejected");
}

/// Every file `ingest` writes at the top of its output directory is one the overwrite
/// guard knows (`nianbao::output::OUTPUT_FILES` or a package,
/// `nianbao::output::is_output_name`), every directory one of its `OUTPUT_DIRS`.
#[test]
fn the_overwrite_guard_knows_every_output() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    scratch.write("回收/镇.xlsx", good("110"));
    scratch.write(
        "回收/县.xlsx",
        return_of("100", "示例县人民政府", YEAR, &[("t3.new.natural", 3.0)]),
    );
    let run = ingest(&scratch, &["回收", "--units", "units.csv", "--out", "out"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    for entry in std::fs::read_dir(scratch.path("out")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_dir() {
            let known = nianbao::output::OUTPUT_DIRS;
            assert!(known.contains(&name.as_str()), "{name} not in {known:?}");
        } else {
            assert!(
                nianbao::output::is_output_name(&name),
                "{name} not an output"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 7. Paths the walk cannot follow

/// Nests directories under `root` until the path passes `PATH_MAX` (4096 bytes), making
/// each through a short symlink so that making them never needs the long path. Returns
/// the deepest directory, as a short path through the last symlink.
#[cfg(unix)]
fn deeper_than_path_max(scratch: &Scratch, root: &Path) -> std::path::PathBuf {
    let name = "长".repeat(80); // 240 bytes
    let mut at = root.to_path_buf();
    let mut length = root.as_os_str().len();
    for level in 0..20 {
        let dir = at.join(&name);
        std::fs::create_dir(&dir).unwrap();
        length += name.len() + 1;
        let hop = scratch.path(&format!("hop{level}"));
        // The link's text is `dir` as reached here, through the previous link: short.
        std::os::unix::fs::symlink(&dir, &hop).unwrap();
        at = hop;
    }
    assert!(length > 4200, "{length}");
    at
}

#[cfg(unix)]
#[test]
fn the_walk_lists_what_it_cannot_follow_and_goes_on() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let scratch = Scratch::new();
    scratch.write("回收/良好.xlsx", good("110"));
    symlink("不存在.xlsx", scratch.path("回收/断链.xlsx")).unwrap();
    std::fs::create_dir_all(scratch.path("回收/子")).unwrap();
    symlink("..", scratch.path("回收/子/回环")).unwrap();
    symlink("/dev/null", scratch.path("回收/设备.xlsx")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(scratch.path("回收/管道.xlsx"))
        .status()
        .is_ok_and(|s| s.success());
    if !fifo {
        eprintln!("note: mkfifo not available; the named pipe is not part of this run");
    }
    let locked = scratch.path("回收/锁住");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("里面.xlsx"), good("111")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (or CAP_DAC_READ_SEARCH) reads a directory whatever its mode.
    let can_lock = std::fs::read_dir(&locked).is_err();
    if !can_lock {
        eprintln!("note: running as root, chmod 000 does not stop reading; that case is skipped");
    }
    let deep = deeper_than_path_max(&scratch, &scratch.path("回收"));
    std::fs::write(deep.join("深.xlsx"), good("112")).unwrap();

    let run = ingest(&scratch, &["回收", "--out", "out", "--year", "2020"]);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = text(&run.stderr);
    assert_ne!(run.status.code(), Some(2), "{stderr}");
    let files = files_csv(&scratch.path("out"));
    let row = |name: &str| {
        files
            .get(name)
            .unwrap_or_else(|| panic!("no row for {name}: {files:#?}"))
    };
    assert_eq!(row("回收/良好.xlsx").0, "accepted");
    let (status, reason) = row("回收/断链.xlsx");
    assert_eq!(status, "unreadable");
    assert!(
        reason.contains("指向的文件不存在") && reason.contains("不存在.xlsx"),
        "{reason}"
    );
    let (status, reason) = row("回收/子/回环");
    assert_eq!(status, "unreadable");
    assert!(reason.contains("循环"), "{reason}");
    assert_eq!(
        row("回收/设备.xlsx"),
        &(
            "skipped".to_string(),
            "不是普通文件（管道、设备等），未读取".to_string()
        )
    );
    if fifo {
        assert_eq!(row("回收/管道.xlsx").0, "skipped");
    }
    if can_lock {
        let (status, reason) = row("回收/锁住");
        assert_eq!(status, "unreadable");
        assert!(reason.contains("没有读取权限"), "{reason}");
    } else {
        assert_eq!(row("回收/锁住/里面.xlsx").0, "accepted");
    }
    let (long, (status, reason)) = files
        .iter()
        .find(|(f, _)| f.len() > 4096)
        .unwrap_or_else(|| panic!("no row for the long path: {files:#?}"));
    assert!(long.starts_with("回收/长长"), "{long}");
    assert_eq!(status, "unreadable");
    assert!(reason.contains("路径过长"), "{reason}");
}

/// `check` looks at what a path is before opening it: a named pipe would make it wait
/// for a writer for ever.
#[cfg(unix)]
#[test]
fn check_does_not_open_a_named_pipe() {
    let scratch = Scratch::new();
    let fifo = scratch.path("管道.xlsx");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("note: mkfifo not available; skipped");
        return;
    }
    let started = Instant::now();
    let run = nianbao()
        .arg("check")
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "check hung on a pipe"
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("不是普通文件"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Small ones

#[test]
fn check_on_a_missing_file_cannot_run() {
    let scratch = Scratch::new();
    let good = Filled::new(YEAR).write(&scratch, "good.xlsx");
    let run = nianbao()
        .arg("check")
        .arg(&good)
        .arg(scratch.path("没有这个文件.xlsx"))
        .output()
        .unwrap();
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("找不到文件") && stderr.contains("没有这个文件.xlsx"),
        "{stderr}"
    );
    // The file that exists is still checked.
    assert!(
        text(&run.stdout).contains("good.xlsx"),
        "{}",
        text(&run.stdout)
    );
}

#[test]
fn ingest_without_a_roster_that_accepts_nothing_is_a_problem() {
    let scratch = Scratch::new();
    scratch.write("回收/空.xlsx", b"");
    scratch.write(
        "回收/去年.xlsx",
        return_of("110", "山市镇人民政府", 2019, OK),
    );
    let run = ingest(&scratch, &["回收", "--out", "out", "--year", "2020"]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("没有受理任何文件"), "{stderr}");
    let statuses: BTreeSet<String> = files_csv(&scratch.path("out"))
        .into_values()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["unreadable".to_string(), "wrong_year".to_string()])
    );
}

#[test]
fn too_many_jobs_are_capped_with_a_note() {
    let scratch = Scratch::new();
    scratch.write("回收/镇.xlsx", good("110"));
    let started = Instant::now();
    let run = ingest(&scratch, &["回收", "--out", "out", "--jobs", "100000"]);
    let took = started.elapsed();
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("注意：--jobs 100000 超过"), "{stderr}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// A real `.xlsb` (binary parts, unreadable here) and a `.xlsx` renamed `.xlsb`: `check`
/// and `ingest` decide by content, and say the same.
#[test]
fn a_file_named_xlsb_gets_one_answer_from_check_and_ingest() {
    use std::io::Write as _;
    let scratch = Scratch::new();
    scratch.write("回收/改名.xlsb", good("110"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in [
        ("[Content_Types].xml", &b"<Types/>"[..]),
        ("xl/workbook.bin", b"\x83\x01\x00"),
    ] {
        zip.start_file(name, stored).unwrap();
        zip.write_all(bytes).unwrap();
    }
    let xlsb = zip.finish().unwrap().into_inner();
    scratch.write("回收/二进制.xlsb", xlsb);

    let (code, stdout) = check(&[scratch.path("回收/改名.xlsb").as_path()], &[]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout) = check(&[scratch.path("回收/二进制.xlsb").as_path()], &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("Excel 二进制工作簿（.xlsb）"), "{stdout}");

    let run = ingest(&scratch, &["回收", "--out", "out"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let files = files_csv(&scratch.path("out"));
    assert_eq!(files["回收/改名.xlsb"].0, "accepted", "{files:#?}");
    let (status, reason) = &files["回收/二进制.xlsb"];
    assert_eq!(status, "unreadable");
    assert!(reason.contains("Excel 二进制工作簿（.xlsb）"), "{reason}");
}
