//! Packages up the hierarchy: a township's `ingest` writes `…_上报包.zip`, the county
//! ingests it beside its own workbooks, and every county output is what it would have
//! been had the county read the village workbooks itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{nianbao, records, rezip, unit_return, unzip, Scratch, ROSTER};

const SAMPLES_YEAR: i32 = 2024;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Copies `from` to `to` keeping its modification time (which of two copies of a unit is
/// newer is decided by it).
fn copy_keeping_time(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
    let modified = std::fs::metadata(from).unwrap().modified().unwrap();
    set_modified(to, modified);
}

fn set_modified(path: &Path, time: std::time::SystemTime) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(time).unwrap();
}

/// `nianbao ingest` run in `dir` (so that files show as given, relative), with `args`.
fn ingest_in(dir: &Path, args: &[&str]) -> std::process::Output {
    nianbao()
        .current_dir(dir)
        .arg("ingest")
        .args(args)
        .args(["--quiet"])
        .output()
        .unwrap()
}

/// The one package a run wrote in `out`.
/// The county reading every sample workbook itself ([`split_samples`]' folders), into
/// `direct`: what the package route must give too.
fn ingest_direct(dir: &Path, year: &str) -> std::process::Output {
    ingest_in(
        dir,
        &[
            "c",
            "t1",
            "t2",
            "--units",
            "units.csv",
            "--out",
            "direct",
            "--year",
            year,
        ],
    )
}

fn package_in(out: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_上报包.zip"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

/// The roster of one township of `roster_csv`: the township as its root (no parent) and
/// every unit whose parent is it.
fn township_roster(roster_csv: &str, township: &str) -> String {
    let mut out = String::from("code,name,parent_code,level\n");
    let mut reader = csv::Reader::from_reader(roster_csv.trim_start_matches('\u{feff}').as_bytes());
    for r in reader.records() {
        let r = r.unwrap();
        let (code, name, parent, level) = (&r[0], &r[1], &r[2], &r[3]);
        if code == township {
            out.push_str(&format!("{code},{name},,{level}\n"));
        } else if parent == township {
            out.push_str(&format!("{code},{name},{parent},{level}\n"));
        }
    }
    out
}

/// A CSV's text with every package's prefix (`pk/…_上报包.zip/`) taken out of the file
/// names, so that a file carried in a package reads as the file itself.
fn without_package_prefix(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(end) = rest.find("_上报包.zip/") {
        let start = rest[..end].rfind("pk/").expect("packages are under pk/");
        out.push_str(&rest[..start]);
        rest = &rest[end + "_上报包.zip/".len()..];
    }
    out.push_str(rest);
    out
}

fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// The samples split as the hierarchy sends them: the villages and the township's own
/// return of 山市镇 (t1) and of 柴河镇 (t2), the county's and its departments' (c); and
/// the townships' rosters.
/// The county reading its own workbooks (`c`) and the packages sent up (`pk`), into
/// `out`: the package route of [`ingest_direct`].
fn ingest_via(dir: &Path, out: &str, year: &str) -> std::process::Output {
    ingest_in(
        dir,
        &[
            "c",
            "pk",
            "--units",
            "units.csv",
            "--out",
            out,
            "--year",
            year,
        ],
    )
}

/// Copies `package` into `pk/` under its own name, as a township sends it up; its new
/// path.
fn send_up(scratch: &Scratch, package: &Path) -> PathBuf {
    let to = scratch.path(&format!(
        "pk/{}",
        package.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(package, &to).unwrap();
    to
}

fn split_samples(scratch: &Scratch) {
    let returns = root().join(format!("samples/returns/{SAMPLES_YEAR}"));
    for entry in std::fs::read_dir(&returns).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let folder = if name.starts_with("231083102") || name.starts_with("山市镇") {
            "t1"
        } else if name.starts_with("231083103") {
            "t2"
        } else {
            "c"
        };
        copy_keeping_time(&path, &scratch.path(&format!("{folder}/{name}")));
    }
    let roster = read(&root().join("samples/units.csv"));
    scratch.write("units.csv", &roster);
    scratch.write("r1.csv", township_roster(&roster, "231083102000"));
    scratch.write("r2.csv", township_roster(&roster, "231083103000"));
}

/// THE KEY TEST: the samples ingested once directly, and once as two township packages
/// (each made by ingesting the township's files with its own roster) plus the county's
/// remaining workbooks. Every CSV is the same byte for byte once the package's name is
/// taken out of the file names (diagnostics.csv's `source` column, which names the
/// package, aside; files.csv has the packages' own rows besides), and so are the
/// counts, the reports, the roll-ups (汇总表, 汇编) and index.html.
#[test]
fn the_samples_through_two_township_packages_give_the_county_the_same_outputs() {
    let scratch = Scratch::new();
    split_samples(&scratch);
    let dir = scratch.dir.path();
    let y = SAMPLES_YEAR.to_string();
    let direct = ingest_direct(dir, &y);
    assert_eq!(direct.status.code(), Some(1), "{direct:?}");
    for (t, roster) in [("t1", "r1.csv"), ("t2", "r2.csv")] {
        let out = format!("o{t}");
        let run = ingest_in(dir, &[t, "--units", roster, "--out", &out, "--year", &y]);
        assert!(run.status.code().unwrap() <= 1, "{run:?}");
        let package = package_in(&scratch.path(&out));
        send_up(&scratch, &package);
        // No workbook travels.
        let bytes = std::fs::read(&package).unwrap();
        assert!(unzip(&bytes)
            .iter()
            .all(|(n, _)| !n.ends_with(".xlsx") && !n.ends_with(".xls")));
    }
    let via = ingest_via(dir, "via", &y);
    assert_eq!(via.status.code(), Some(1), "{via:?}");
    let (direct, via) = (scratch.path("direct"), scratch.path("via"));

    for csv in ["values.csv", "units.csv", "rollup.csv", "sections.csv"] {
        let a = read(&direct.join(csv));
        let b = without_package_prefix(&read(&via.join(csv)));
        assert_eq!(a, b, "{csv}");
    }
    // diagnostics.csv: the same, but for where each finding came from.
    let drop_source = |path: &Path| -> Vec<BTreeMap<String, String>> {
        records(path)
            .into_iter()
            .map(|mut r| {
                r.remove("source").unwrap();
                r.into_iter()
                    .map(|(k, v)| (k, without_package_prefix(&v)))
                    .collect()
            })
            .collect()
    };
    let diagnostics = drop_source(&direct.join("diagnostics.csv"));
    assert!(!diagnostics.is_empty());
    assert_eq!(diagnostics, drop_source(&via.join("diagnostics.csv")));
    let via_diagnostics = records(&via.join("diagnostics.csv"));
    let carried = via_diagnostics
        .iter()
        .find(|r| r["unit_code"] == "231083102205")
        .expect("the rejected village's finding is carried");
    assert!(
        carried["source"].starts_with("pk/231083102000_山市镇人民政府_2024_上报包.zip"),
        "{carried:?}"
    );
    assert!(records(&direct.join("diagnostics.csv"))
        .iter()
        .all(|r| r["source"].is_empty()));
    // files.csv: every file once, with the same status and reason; the packages' own
    // rows besides.
    let files = |path: &Path, packages: bool| {
        let mut rows: Vec<Vec<String>> = records(path)
            .into_iter()
            .filter(|r| (r["status"] == "package") == packages)
            .map(|r| r.values().map(|v| without_package_prefix(v)).collect())
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        files(&direct.join("files.csv"), false),
        files(&via.join("files.csv"), false)
    );
    assert_eq!(files(&via.join("files.csv"), true).len(), 2);
    // Reports, roll-ups (汇总表.xlsx, 汇编), corrections and the chase list: the same bytes.
    for sub in ["reports", "rollups", "corrections"] {
        assert_eq!(tree(&direct.join(sub)), tree(&via.join(sub)), "{sub}/");
    }
    for file in ["汇总明细.xlsx", "催报名单.csv", "催报名单.xlsx"] {
        assert_eq!(
            std::fs::read(direct.join(file)).unwrap(),
            std::fs::read(via.join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(
        read(&direct.join("index.html")),
        without_package_prefix(&read(&via.join("index.html")))
    );
}

/// A township's package: one per top unit, written atomically and listed in the run
/// record, the same bytes on a rerun and at any thread count; its manifest names the
/// format, the year, the township's roster, the tool, the counts and every member's
/// size and SHA-256.
#[test]
fn a_package_is_the_same_bytes_at_any_thread_count_and_its_manifest_says_what_it_holds() {
    let scratch = Scratch::new();
    split_samples(&scratch);
    let dir = scratch.dir.path();
    let y = SAMPLES_YEAR.to_string();
    let run = |out: &str, jobs: &str| {
        let args = [
            "t1", "--units", "r1.csv", "--out", out, "--year", &y, "--jobs", jobs,
        ];
        let run = ingest_in(dir, &args);
        assert!(run.status.code().unwrap() <= 1, "{run:?}");
        package_in(&scratch.path(out))
    };
    let one = std::fs::read(run("a", "1")).unwrap();
    let again = std::fs::read(run("a", "1")).unwrap();
    let two = std::fs::read(run("b", "2")).unwrap();
    assert_eq!(one, again);
    assert_eq!(one, two);
    let package = package_in(&scratch.path("a"));
    assert_eq!(
        package.file_name().unwrap().to_string_lossy(),
        "231083102000_山市镇人民政府_2024_上报包.zip"
    );
    let record = read(&scratch.path("a/运行记录.json"));
    assert!(
        record.contains("231083102000_山市镇人民政府_2024_上报包.zip"),
        "{record}"
    );

    let parts = unzip(&one);
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "members sorted");
    let manifest: serde_json::Value =
        serde_json::from_slice(&parts.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    assert_eq!(manifest["format"], "nianbao-上报包");
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["year"], SAMPLES_YEAR);
    assert_eq!(manifest["top_unit"], "231083102000");
    assert_eq!(manifest["tool_version"], env!("CARGO_PKG_VERSION"));
    let roster = manifest["roster"].as_array().unwrap();
    assert_eq!(roster.len(), 13);
    assert_eq!(roster[0]["parent"], "");
    assert_eq!(roster[1]["parent"], "231083102000");
    // The counts are the township's, as its units.csv has them.
    let units = records(&scratch.path("a/units.csv"));
    let count = |status: &str| units.iter().filter(|u| u["status"] == status).count();
    assert_eq!(manifest["counts"]["expected"], units.len());
    assert_eq!(manifest["counts"]["rejected"], count("rejected"));
    assert_eq!(manifest["counts"]["missing"], count("missing"));
    for member in manifest["members"].as_array().unwrap() {
        let name = member["name"].as_str().unwrap();
        let bytes = &parts.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(member["size"], bytes.len());
        assert_eq!(member["sha256"], nianbao::output::sha256_hex(bytes));
    }
    // Every member except the manifest is listed there.
    assert_eq!(
        manifest["members"].as_array().unwrap().len(),
        parts.len() - 1
    );
}

/// Writes the package of `t1` (the samples' 山市镇) into `pk/` and returns its path.
fn township_package(scratch: &Scratch) -> PathBuf {
    let y = SAMPLES_YEAR.to_string();
    let run = ingest_in(
        scratch.dir.path(),
        &["t1", "--units", "r1.csv", "--out", "o1", "--year", &y],
    );
    assert!(run.status.code().unwrap() <= 1, "{run:?}");
    send_up(scratch, &package_in(&scratch.path("o1")))
}

fn row<'a>(
    rows: &'a [BTreeMap<String, String>],
    col: &str,
    value: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r[col] == value)
        .unwrap_or_else(|| panic!("no {col} = {value} in {rows:#?}"))
}

/// A package changed after it was written (a value edited, a member swapped) is
/// `unreadable` with the reason, and nothing in it is used: its units are missing.
/// One inflating past what its manifest says is stopped there (a zip bomb).
#[test]
fn a_package_changed_after_it_was_written_is_unreadable_and_nothing_in_it_is_used() {
    let scratch = Scratch::new();
    split_samples(&scratch);
    let package = township_package(&scratch);
    let parts = unzip(&std::fs::read(&package).unwrap());
    let edited: Vec<(String, Vec<u8>)> = parts
        .iter()
        .map(|(n, b)| {
            let mut b = b.clone();
            if n == "submissions.jsonl" {
                // One digit changed: the same size, another SHA-256.
                let at = b.iter().position(|c| *c == b'1').unwrap();
                b[at] = b'2';
            }
            (n.clone(), b)
        })
        .collect();
    assert_ne!(edited, parts);
    let bomb: Vec<(String, Vec<u8>)> = parts
        .iter()
        .map(|(n, b)| {
            let b = if n == "values.csv" {
                vec![b'0'; 5_000_000]
            } else {
                b.clone()
            };
            (n.clone(), b)
        })
        .collect();
    std::fs::remove_file(&package).unwrap();
    scratch.write("pk/改过的上报包.zip", rezip(&edited));
    scratch.write("pk/bomb.zip", rezip(&bomb));
    // Not a package: a zip without the manifest stays what it was.
    scratch.write(
        "pk/照片.zip",
        rezip(&[("a.txt".to_string(), b"x".to_vec())]),
    );
    let y = SAMPLES_YEAR.to_string();
    let run = ingest_in(
        scratch.dir.path(),
        &["pk", "--units", "units.csv", "--out", "out", "--year", &y],
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let files = records(&scratch.path("out/files.csv"));
    assert_eq!(files.len(), 3, "{files:#?}");
    let edited = row(&files, "file", "pk/改过的上报包.zip");
    assert_eq!(edited["status"], "unreadable");
    assert!(
        edited["reason"].contains("submissions.jsonl 与清单不符"),
        "{edited:?}"
    );
    let bomb = row(&files, "file", "pk/bomb.zip");
    assert_eq!(bomb["status"], "unreadable");
    assert!(bomb["reason"].contains("values.csv 与清单不符"), "{bomb:?}");
    assert_eq!(row(&files, "file", "pk/照片.zip")["status"], "unsupported");
    let units = records(&scratch.path("out/units.csv"));
    assert_eq!(
        row(&units, "unit_code", "231083102201")["status"],
        "missing"
    );
    assert_eq!(records(&scratch.path("out/values.csv")).len(), 0);
}

/// A package is known by its manifest, not its name: renamed, it is still read. Its
/// units must sit under the same parent in the county's roster as in the package (the
/// township itself may sit anywhere); a unit that does not is `unknown_unit`, not counted.
#[test]
fn units_of_a_package_must_sit_under_the_same_parent_in_the_county_roster() {
    let scratch = Scratch::new();
    split_samples(&scratch);
    let package = township_package(&scratch);
    std::fs::rename(&package, scratch.path("pk/山市镇交来的.zip")).unwrap();
    // The county's roster: 山市镇 under 柴河镇 (allowed: the top unit sits anywhere), and
    // 东兴村 moved under 柴河镇 (not allowed).
    let roster = read(&scratch.path("units.csv"))
        .replace(
            "231083102000,山市镇人民政府,231083000000",
            "231083102000,山市镇人民政府,231083103000",
        )
        .replace(
            "231083102202,东兴村村民委员会,231083102000",
            "231083102202,东兴村村民委员会,231083103000",
        );
    scratch.write("county.csv", roster);
    let y = SAMPLES_YEAR.to_string();
    let run = ingest_in(
        scratch.dir.path(),
        &["pk", "--units", "county.csv", "--out", "out", "--year", &y],
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let files = records(&scratch.path("out/files.csv"));
    assert_eq!(
        row(&files, "file", "pk/山市镇交来的.zip")["status"],
        "package"
    );
    let moved = row(&files, "unit_code", "231083102202");
    assert_eq!(moved["status"], "unknown_unit", "{moved:?}");
    assert!(
        moved["reason"]
            .contains("上报包中 东兴村村民委员会（231083102202）的上级是 山市镇人民政府"),
        "{moved:?}"
    );
    let units = records(&scratch.path("out/units.csv"));
    assert_eq!(
        row(&units, "unit_code", "231083102202")["status"],
        "missing"
    );
    assert_eq!(
        row(&units, "unit_code", "231083102000")["status"],
        "accepted"
    );
    assert_eq!(
        row(&units, "unit_code", "231083102201")["status"],
        "accepted"
    );
    // The rejected village stays rejected at the county.
    assert_eq!(
        row(&units, "unit_code", "231083102205")["status"],
        "rejected"
    );
}

/// A unit that arrives both in a package and as its own workbook is counted once: the
/// newer by the unit's own save wins (the package records the original file's time),
/// a tie goes to the workbook, and the other is `duplicate` pointing to the chosen one.
#[test]
fn a_unit_in_a_package_and_as_a_workbook_is_counted_once_by_its_newest_save() {
    use std::time::{Duration, SystemTime};
    let scratch = Scratch::new();
    split_samples(&scratch);
    let village = "231083102201_山市村村民委员会_2024.xlsx";
    let saved = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    set_modified(&scratch.path(&format!("t1/{village}")), saved);
    township_package(&scratch);
    let in_package = format!("pk/231083102000_山市镇人民政府_2024_上报包.zip/t1/{village}");
    let workbook = format!("c/{village}");
    let y = SAMPLES_YEAR.to_string();
    for (offset, chosen) in [(60i64, &workbook), (-60, &in_package), (0, &workbook)] {
        let copy = scratch.path(&workbook);
        copy_keeping_time(&scratch.path(&format!("t1/{village}")), &copy);
        let time = if offset >= 0 {
            saved + Duration::from_secs(offset as u64)
        } else {
            saved - Duration::from_secs((-offset) as u64)
        };
        set_modified(&copy, time);
        let out = format!("out{offset}");
        let run = ingest_via(scratch.dir.path(), &out, &y);
        assert_eq!(run.status.code(), Some(1), "{run:?}");
        let files = records(&scratch.path(&format!("{out}/files.csv")));
        let other = if chosen == &workbook {
            &in_package
        } else {
            &workbook
        };
        assert_eq!(
            row(&files, "file", chosen)["status"],
            "accepted",
            "{offset}"
        );
        let dup = row(&files, "file", other);
        assert_eq!(dup["status"], "duplicate", "{offset}");
        assert_eq!(&dup["chosen"], chosen, "{offset}");
        let units = records(&scratch.path(&format!("{out}/units.csv")));
        assert_eq!(&row(&units, "unit_code", "231083102201")["file"], chosen);
        let rollup = records(&scratch.path(&format!("{out}/rollup.csv")));
        let all = row(&rollup, "parent_code", "ALL");
        assert_eq!(all["units_expected"], "21");
        assert_eq!(
            all["units_received"].parse::<usize>().unwrap(),
            units.iter().filter(|u| u["status"] != "missing").count()
        );
    }
}

/// A package for another report year is unreadable as a whole.
#[test]
fn a_package_for_another_year_is_unreadable() {
    let scratch = Scratch::new();
    split_samples(&scratch);
    township_package(&scratch);
    let run = ingest_in(
        scratch.dir.path(),
        &[
            "pk",
            "--units",
            "units.csv",
            "--out",
            "out",
            "--year",
            "2025",
        ],
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let files = records(&scratch.path("out/files.csv"));
    assert_eq!(files.len(), 1, "{files:#?}");
    assert_eq!(files[0]["status"], "unreadable");
    assert!(
        files[0]["reason"].contains("2024 年度的上报包"),
        "{:?}",
        files[0]
    );
}

/// `--previous` takes last year's package as it takes last year's output directory:
/// the same values, so the same year-on-year findings.
#[test]
fn previous_accepts_last_years_package() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    scratch.write("town.csv", township_roster(ROSTER, "110"));
    let carry = [
        ("t3.new.natural", 5.0),
        ("t3.open.natural", 3.0),
        ("t3.carry_next.natural", 2.0),
    ];
    for (code, name) in [
        ("111", "山市村村民委员会"),
        ("112", "东兴村村民委员会"),
        ("110", "山市镇人民政府"),
    ] {
        scratch.write(
            &format!("y2023/{code}.xlsx"),
            unit_return(code, name, 2023, &carry),
        );
        scratch.write(
            &format!("y2024/{code}.xlsx"),
            unit_return(
                code,
                name,
                2024,
                &[("t3.new.natural", 1.0), ("t3.open.natural", 1.0)],
            ),
        );
    }
    let dir = scratch.dir.path();
    let last = ingest_in(dir, &["y2023", "--units", "town.csv", "--out", "o2023"]);
    assert!(last.status.code().unwrap() <= 1, "{last:?}");
    let package = package_in(&scratch.path("o2023"));
    let package = package.to_string_lossy().to_string();
    let by_dir = ingest_in(
        dir,
        &[
            "y2024",
            "--units",
            "town.csv",
            "--out",
            "a",
            "--previous",
            "o2023",
        ],
    );
    let by_package = ingest_in(
        dir,
        &[
            "y2024",
            "--units",
            "town.csv",
            "--out",
            "b",
            "--previous",
            &package,
        ],
    );
    let without = ingest_in(dir, &["y2024", "--units", "town.csv", "--out", "c"]);
    assert_eq!(
        by_dir.status.code(),
        by_package.status.code(),
        "{by_package:?}"
    );
    assert!(by_package.status.code().unwrap() <= 1, "{by_package:?}");
    assert!(without.status.code().unwrap() <= 1, "{without:?}");
    for csv in ["diagnostics.csv", "units.csv", "values.csv"] {
        let a = read(&scratch.path(&format!("a/{csv}")));
        assert_eq!(a, read(&scratch.path(&format!("b/{csv}"))), "{csv}");
    }
    // Last year's figures were compared: the reports differ from a run without them.
    let reports = tree(&scratch.path("a/reports"));
    assert_eq!(reports, tree(&scratch.path("b/reports")));
    assert_ne!(reports, tree(&scratch.path("c/reports")));
}

/// The county's `--previous` applies to the units a township carries up as to its own
/// workbooks: a township that checked without last year sends no year-on-year finding,
/// and the county finds it (本年“二、上年结转”不等于上年“四、结转下年度继续办理”), once,
/// as reading the workbooks itself would. Fails if carried units skip the cross-year
/// rules.
#[test]
fn the_countys_previous_year_checks_the_units_carried_in_packages() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    scratch.write("town.csv", township_roster(ROSTER, "110"));
    for (code, name) in [("111", "山市村村民委员会"), ("110", "山市镇人民政府")] {
        let last = [
            ("t3.new.natural", 5.0),
            ("t3.open.natural", 3.0),
            ("t3.carry_next.natural", 2.0),
        ];
        scratch.write(
            &format!("y2023/{code}.xlsx"),
            unit_return(code, name, 2023, &last),
        );
        let this = [("t3.new.natural", 1.0), ("t3.open.natural", 1.0)];
        scratch.write(
            &format!("y2024/{code}.xlsx"),
            unit_return(code, name, 2024, &this),
        );
    }
    let dir = scratch.dir.path();
    let last = ingest_in(dir, &["y2023", "--units", "town.csv", "--out", "o2023"]);
    assert!(last.status.code().unwrap() <= 1, "{last:?}");
    // The township, without last year: no year-on-year finding in its package.
    let town = ingest_in(dir, &["y2024", "--units", "town.csv", "--out", "ot"]);
    assert!(town.status.code().unwrap() <= 1, "{town:?}");
    let cross = |out: &str| -> Vec<BTreeMap<String, String>> {
        records(&scratch.path(&format!("{out}/diagnostics.csv")))
            .into_iter()
            .filter(|r| r["message"].contains("上年"))
            .map(|mut r| {
                r.remove("source");
                r.into_iter()
                    .map(|(k, v)| (k, without_package_prefix(&v)))
                    .collect()
            })
            .collect()
    };
    assert!(cross("ot").is_empty(), "{:?}", cross("ot"));
    send_up(&scratch, &package_in(&scratch.path("ot")));
    let args = |input: &str, out: &'static str| {
        let previous = "o2023".to_string();
        [
            input.to_string(),
            "--units".into(),
            "units.csv".into(),
            "--out".into(),
            out.into(),
            "--previous".into(),
            previous,
        ]
    };
    let direct = ingest_in(dir, &args("y2024", "direct").each_ref().map(String::as_str));
    let via = ingest_in(dir, &args("pk", "via").each_ref().map(String::as_str));
    assert_eq!(direct.status.code(), via.status.code(), "{via:?}");
    let found = cross("direct");
    assert_eq!(found.len(), 2, "both units, one finding each: {found:?}");
    assert_eq!(found, cross("via"));
}

/// A roster with several top units writes one package for each, carrying only its own
/// subtree's files: the two townships ingested together send up what they would have
/// sent separately.
#[test]
fn a_roster_with_two_top_units_writes_a_package_for_each() {
    let scratch = Scratch::new();
    split_samples(&scratch);
    let both = format!(
        "{}{}",
        read(&scratch.path("r1.csv")),
        read(&scratch.path("r2.csv"))
            .lines()
            .skip(1)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    scratch.write("both.csv", both);
    let dir = scratch.dir.path();
    let y = SAMPLES_YEAR.to_string();
    let run = ingest_in(
        dir,
        &[
            "t1", "t2", "--units", "both.csv", "--out", "ob", "--year", &y,
        ],
    );
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let mut packages: Vec<String> = std::fs::read_dir(scratch.path("ob"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with("_上报包.zip"))
        .collect();
    packages.sort();
    assert_eq!(
        packages,
        [
            "231083102000_山市镇人民政府_2024_上报包.zip",
            "231083103000_柴河镇人民政府_2024_上报包.zip"
        ]
    );
    let chaihe = unzip(&std::fs::read(scratch.path(&format!("ob/{}", packages[1]))).unwrap());
    let carried = &chaihe
        .iter()
        .find(|(n, _)| n == "submissions.jsonl")
        .unwrap()
        .1;
    let lines: Vec<serde_json::Value> = carried
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines
        .iter()
        .all(|l| l["file"].as_str().unwrap().starts_with("t2/")));
    let units = records_in(&chaihe, "units.csv");
    assert_eq!(units.len(), 4, "{units:#?}");
    // The county takes both packages as it takes the two townships' own.
    for p in &packages {
        send_up(&scratch, &scratch.path(&format!("ob/{p}")));
    }
    let county = ingest_via(dir, "via", &y);
    assert_eq!(county.status.code(), Some(1), "{county:?}");
    let direct = ingest_direct(dir, &y);
    assert_eq!(direct.status.code(), Some(1), "{direct:?}");
    assert_eq!(
        read(&scratch.path("direct/units.csv")),
        without_package_prefix(&read(&scratch.path("via/units.csv")))
    );
}

/// The rows of a CSV member of a package.
fn records_in(parts: &[(String, Vec<u8>)], name: &str) -> Vec<BTreeMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, &parts.iter().find(|(n, _)| n == name).unwrap().1).unwrap();
    records(&path)
}
