//! `nianbao fill`: a values CSV becomes filled workbooks that check back to exactly the
//! values given; a bad CSV is refused line by line; the committed samples stay readable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nianbao::check::{check_file, Options};
use nianbao::fill::{FillError, LineError};
use nianbao::format::{Formats, Key};
use nianbao::model::Level;
use nianbao::roster::Roster;
use nianbao::template::file_name;
use nianbao::validate::Submission;

use crate::common::*;

/// Runs `nianbao fill` on a CSV against [`ROSTER`]; returns (exit code, stdout, stderr).
fn fill(scratch: &Scratch, year: i32, csv: impl AsRef<[u8]>) -> (i32, String, String) {
    let roster = scratch.write("units.csv", ROSTER);
    let values = scratch.write("values.csv", csv);
    let out = nianbao()
        .args(["fill", "--year", &year.to_string(), "--units"])
        .arg(&roster)
        .arg("--values")
        .arg(&values)
        .arg("--out")
        .arg(scratch.path("out"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn checked(path: &Path) -> Submission {
    check_file(path, "x.xlsx", &Formats::builtin(), Options::default())
}

/// Every numeric key of the year's format: the values given, totals from them, else 0.
fn expected(year: i32, given: &[(&str, f64)]) -> BTreeMap<Key, f64> {
    let formats = Formats::builtin();
    let format = formats.for_year(year).unwrap();
    let totals = format.totals();
    let mut values: BTreeMap<Key, f64> = format
        .keys()
        .into_iter()
        .filter(|k| !totals.contains_key(k))
        .map(|k| (k, 0.0))
        .collect();
    for (k, v) in given {
        values.insert(Key::from_string(k), *v);
    }
    format.fill_totals(&mut values, None);
    values
}

fn problems(sub: &Submission) -> Vec<(Level, String, String)> {
    sub.findings
        .iter()
        .map(|f| (f.level, f.rule.clone(), f.message.clone()))
        .collect()
}

const OVERVIEW: &str =
    "一是主动公开，全年公开文件 12 件。\n二是依申请公开，按期答复。\n\n三是监督保障。";

#[test]
fn filled_workbooks_check_to_exactly_the_values_given() {
    let scratch = Scratch::new();
    let township: &[(&str, f64)] = &[
        ("t2.norms.made", 2.0),
        ("t2.norms.current", 7.0),
        ("t2.license.decisions", 48.0),
        ("t2.fees.fee_amount", 12.35),
        ("t3.new.natural", 5.0),
        ("t3.new.business", 1.0),
        ("t3.carried.natural", 1.0),
        ("t3.open.natural", 3.0),
        ("t3.none_nohold.natural", 1.0),
        ("t3.carry_next.natural", 2.0),
        ("t3.open.business", 1.0),
        ("t4.all.review_upheld", 1.0),
        ("fee_cases", 0.0),
    ];
    let department: &[(&str, f64)] = &[("t3.new.legal", 1.0), ("t3.deny_third.legal", 1.0)];
    let mut csv = String::from("\u{feff}unit_code,field,value\n");
    for (k, v) in township {
        csv.push_str(&format!("110,{k},{v}\n"));
    }
    // A total may be given when it agrees with its parts.
    csv.push_str("110,t3.new.total,6\n");
    // Windows line ends inside the quoted text become Excel's in-cell breaks.
    csv.push_str(&format!(
        "110,section:overview,\"{}\"\n",
        OVERVIEW.replace('\n', "\r\n")
    ));
    csv.push_str(
        "110,section:problems,\"公开资料建档工作还不够细致，\"\"一村一档\"\"尚未落实。\"\n",
    );
    csv.push_str("110,section:opening,现将有关情况总结如下：\n");
    csv.push_str("110,section:other,无。\n110,cover:filler,王丽\n110,cover:phone,0453-7350001\n");
    for (k, v) in department {
        csv.push_str(&format!("120,{k},{v}\n"));
    }
    csv.push_str("120,section:problems,政策解读不够。\n");
    // A report's required sections and contact (TX-0, TX-1, CV-1).
    csv.push_str("120,section:opening,现将有关情况总结如下：\n120,section:overview,概述。\n");
    csv.push_str("120,cover:filler,赵强\n120,cover:phone,0453-7350002\n");

    let (code, out, err) = fill(&scratch, 2024, &csv);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("已生成 2 个"), "{err}");
    // Only the units with lines get a workbook, named like the templates.
    let mut written: Vec<String> = std::fs::read_dir(scratch.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            file_name("110", "山市镇人民政府", 2024),
            file_name("120", "示例县教育局", 2024)
        ]
    );

    let sub = checked(
        &scratch
            .path("out")
            .join(file_name("110", "山市镇人民政府", 2024)),
    );
    assert_eq!(sub.unit_code, "110");
    assert_eq!(sub.year, Some(2024));
    assert_eq!(problems(&sub), []);
    assert_eq!(sub.values, expected(2024, township));
    assert_eq!(sub.texts["overview"], OVERVIEW);
    assert_eq!(
        sub.texts["problems"],
        "公开资料建档工作还不够细致，\"一村一档\"尚未落实。"
    );
    assert_eq!(sub.texts["other"], "无。");
    assert_eq!(sub.cover["filler"], "王丽");
    assert_eq!(sub.cover["phone"], "0453-7350001");

    let sub = checked(
        &scratch
            .path("out")
            .join(file_name("120", "示例县教育局", 2024)),
    );
    assert_eq!(sub.unit_code, "120");
    assert_eq!(sub.values, expected(2024, department));
    assert_eq!(problems(&sub), []);
}

#[test]
fn raw_text_is_written_as_typed_and_normalised_on_check() {
    let scratch = Scratch::new();
    let csv = "unit_code,field,value\n\
               110,raw:t3.new.natural,１２\n\
               110,t3.open.natural,12\n\
               110,raw:t4.all.review_upheld,\n\
               110,section:problems,有。\n\
               110,section:opening,现将有关情况总结如下：\n\
               110,section:overview,概述。\n\
               110,cover:filler,王丽\n\
               110,cover:phone,0453-7350001\n";
    let (code, out, err) = fill(&scratch, 2020, csv);
    assert_eq!(code, 0, "{out}{err}");
    let path = scratch
        .path("out")
        .join(file_name("110", "山市镇人民政府", 2020));
    let new = a1(2020, "t3.new.natural");
    assert_eq!(cell_text(&path, "表三 依申请公开", &new), "１２");
    let sub = checked(&path);
    assert_eq!(sub.values[&Key::from_string("t3.new.natural")], 12.0);
    assert_eq!(sub.values[&Key::from_string("t4.all.review_upheld")], 0.0);
    let mut fixed: Vec<(String, String, String)> = sub
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.cell_text(), f.found_text()))
        .collect();
    fixed.sort();
    let mut expected = [
        ("N-1".to_string(), new, "１２".to_string()),
        // The row total the spreadsheet computed with the text as 0, recomputed.
        ("N-1".to_string(), a1(2020, "t3.new.total"), "0".to_string()),
        (
            "V-2".to_string(),
            a1(2020, "t4.all.review_upheld"),
            String::new(),
        ),
    ];
    expected.sort();
    assert_eq!(fixed, expected);
    assert!(sub.findings.iter().all(|f| f.level == Level::Fixed));
}

/// The problems of a CSV that must be refused, via the library (exact lines) and the CLI
/// (the message the clerk reads, and nothing written).
fn refused(year: i32, csv: &str) -> (Vec<LineError>, String) {
    let scratch = Scratch::new();
    let roster = Roster::parse(ROSTER.as_bytes(), "units.csv").unwrap();
    let values = scratch.write("values.csv", csv);
    let formats = Formats::builtin();
    let format = formats.for_year(year).unwrap();
    let err = nianbao::fill::run(
        format,
        year,
        &roster,
        &values,
        &scratch.path("lib"),
        &Default::default(),
    )
    .expect_err("refused");
    let (code, out, stderr) = fill(&scratch, year, csv);
    assert_eq!(code, 2, "{out}{stderr}");
    assert!(!scratch.path("lib").exists() && !scratch.path("out").exists());
    let problems = match &err {
        FillError::Lines { .. } => err.problems().to_vec(),
        other => panic!("{other}"),
    };
    (problems, stderr)
}

#[test]
fn every_bad_line_is_reported_with_its_number() {
    let csv = "unit_code,field,value\n\
               110,t3.new.natural,3\n\
               999,t3.new.natural,1\n\
               110,t3.new.nature,1\n\
               110,t3.new.natural,4\n\
               110,t3.open.natural,三\n\
               110,t3.open.business,-1\n\
               110,t3.new.total,5\n\
               110,overview,text\n\
               110,section:summary,text\n\
               110,cover:unit_name,x\n\
               ,t3.new.natural,1\n\
               110,raw:t3.new.natural,３\n\
               110,raw:t3.total.total,x\n\
               110,t2.fees.fee_amount,\n";
    let (problems, stderr) = refused(2024, csv);
    let lines: Vec<(u64, &str)> = problems
        .iter()
        .map(|p| {
            let kind = match p {
                LineError::UnknownUnit { .. } => "unit",
                LineError::UnknownField { .. } => "field",
                LineError::Duplicate { .. } => "duplicate",
                LineError::NotANumber { .. } => "number",
                LineError::WrongKind { .. } => "kind",
                LineError::Total { .. } => "total",
                LineError::NoUnit { .. } => "no unit",
                LineError::NoField { .. } => "no field",
                LineError::RawTotal { .. } => "raw total",
            };
            (p.line(), kind)
        })
        .collect();
    assert_eq!(
        lines,
        [
            (3, "unit"),
            (4, "field"),
            (5, "duplicate"),
            (6, "number"),
            (7, "kind"),
            (8, "total"),
            (9, "field"),
            (10, "field"),
            (11, "field"),
            (12, "no unit"),
            (13, "duplicate"),
            (14, "raw total"),
            (15, "number"),
        ]
    );
    for needle in [
        "有 13 处错误，未生成任何工作簿",
        "第 3 行：单位代码 999 不在名册中",
        "第 4 行：未知的字段“t3.new.nature”（2021 格式）",
        "第 5 行：单位 110 的“t3.new.natural”与第 2 行重复",
        "第 6 行：“t3.open.natural”的值“三”不是数字",
        "第 7 行：表三「（一）予以公开」行「法人或其他组织/商业企业」列",
        "第 8 行：合计“t3.new.total”在工作簿中由公式计算，按各项应为 3，与填写的 5 不符",
        "第 9 行：未知的字段“overview”（2021 格式）。文字请写作 section:overview",
        "第 13 行：单位 110 的“raw:t3.new.natural”与第 2 行重复",
    ] {
        assert!(stderr.contains(needle), "{needle}\n{stderr}");
    }
}

#[test]
fn a_multi_line_text_counts_from_its_first_line() {
    let csv = "unit_code,field,value\n\
               110,section:overview,\"第一段。\n第二段。\n第三段。\"\n\
               110,t3.new.natural,x\n";
    let (problems, stderr) = refused(2020, csv);
    assert_eq!(
        problems.iter().map(LineError::line).collect::<Vec<_>>(),
        [5]
    );
    assert!(stderr.contains("第 5 行"), "{stderr}");
}

#[test]
fn format_specific_keys_follow_the_year() {
    // fee_cases exists since 2021; total_public only in the 2019 format.
    let (problems, _) = refused(2020, "unit_code,field,value\n110,fee_cases,1\n");
    assert!(matches!(
        problems[..],
        [LineError::UnknownField { line: 2, .. }]
    ));
    let (problems, _) = refused(2024, "unit_code,field,value\n110,t2.rules.total_public,1\n");
    assert!(matches!(
        problems[..],
        [LineError::UnknownField { line: 2, .. }]
    ));
}

#[test]
fn header_and_empty_files_are_refused() {
    let scratch = Scratch::new();
    let (code, _, err) = fill(&scratch, 2024, "code,name,value\n110,x,1\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("第 1 行（表头）应包含 unit_code、field、value"),
        "{err}"
    );
    let (code, _, err) = fill(&scratch, 2024, "unit_code,field,value\n\n");
    assert_eq!(code, 2);
    assert!(err.contains("只有表头"), "{err}");
}

#[test]
fn a_gbk_csv_from_chinese_excel_is_read() {
    let scratch = Scratch::new();
    let text = "单位代码,字段,值\r\n\
                110,t3.new.natural,2\r\n\
                110,t3.open.natural,2\r\n\
                110,section:problems,公开栏更新不及时。\r\n\
                110,cover:filler,张伟\r\n";
    let (gbk, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the fixture must not be UTF-8"
    );
    let (code, out, err) = fill(&scratch, 2024, &gbk);
    assert_eq!(code, 0, "{out}{err}");
    let sub = checked(
        &scratch
            .path("out")
            .join(file_name("110", "山市镇人民政府", 2024)),
    );
    assert_eq!(
        sub.values,
        expected(2024, &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)])
    );
    assert_eq!(sub.texts["problems"], "公开栏更新不及时。");
    assert_eq!(sub.cover["filler"], "张伟");
}

fn sample_files(year: i32) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("samples/returns/{year}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run samples/generate.sh)", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_committed_sample_workbooks_are_readable() {
    let formats = Formats::builtin();
    let roster =
        Roster::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/units.csv")).unwrap();
    for year in [2020, 2024] {
        let files = sample_files(year);
        assert!(files.len() >= 15, "{year}: {files:?}");
        for file in files {
            let sub = check_file(&file, "sample", &formats, Options::default());
            let f1: Vec<_> = sub.findings.iter().filter(|f| f.rule == "F-1").collect();
            assert!(f1.is_empty(), "{}: {f1:?}", file.display());
            assert_eq!(sub.year, Some(year), "{}", file.display());
            let code = nianbao::model::UnitCode::new(&sub.unit_code).unwrap();
            assert!(roster.get(&code).is_some(), "{}", file.display());
        }
    }
}

#[test]
fn the_seed_township_sample_carries_the_seed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/returns/2020");
    let sub = checked(&dir.join(file_name("231083102000", "山市镇人民政府", 2020)));
    assert!(sub.values.values().all(|v| *v == 0.0));
    assert!(sub.texts["opening"].starts_with("山市镇自 2020 年初以来"));
    assert_eq!(sub.texts["overview"].lines().count(), 2);
    assert_eq!(sub.texts["other"], "无。");
    assert_eq!(problems(&sub), []);
}
