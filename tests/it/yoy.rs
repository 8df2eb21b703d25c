//! `nianbao ingest --previous`: the reports compare the format's key figures with last
//! year's (与上年度比较), the overview gives last year's 新收申请; without `--previous`
//! nothing of this is shown.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A filled workbook of a unit of [`ROSTER`].
fn unit_file(
    scratch: &Scratch,
    name: &str,
    code: &str,
    unit: &str,
    year: i32,
    values: &[(&str, f64)],
) {
    scratch.write(name, unit_return(code, unit, year, values));
}

/// 2020: the township and one village; 2021: the township and the other village.
fn two_years() -> Scratch {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let town = ("110", "山市镇人民政府");
    unit_file(
        &scratch,
        "2020/镇.xlsx",
        town.0,
        town.1,
        2020,
        &[
            ("t3.new.natural", 5.0),
            ("t3.open.natural", 3.0),
            ("t3.carry_next.natural", 2.0),
        ],
    );
    unit_file(
        &scratch,
        "2020/山市村.xlsx",
        "111",
        "山市村村民委员会",
        2020,
        &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)],
    );
    unit_file(
        &scratch,
        "2021/镇.xlsx",
        town.0,
        town.1,
        2021,
        &[
            ("t3.new.natural", 8.0),
            ("t3.carried.natural", 2.0),
            ("t3.open.natural", 10.0),
        ],
    );
    unit_file(
        &scratch,
        "2021/东兴村.xlsx",
        "112",
        "东兴村村民委员会",
        2021,
        &[("t3.new.natural", 1.0), ("t3.open.natural", 1.0)],
    );
    scratch
}

fn ingest(scratch: &Scratch, input: &str, out: &str, extra: &[&str]) {
    let o = nianbao()
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
        .unwrap();
    // 1: some units of the roster did not report, as here.
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The one file of `dir` whose name starts with `stem` and ends with `ext`.
fn file(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.starts_with(stem) && name.ends_with(ext) && !name.contains("汇编")
        })
        .unwrap_or_else(|| panic!("no {stem}*{ext} in {}", dir.display()))
}

/// A comparison row as the HTML shows it.
fn html_row(label: &str, this: &str, last: &str, change: &str) -> String {
    format!(
        "<tr><th>{label}</th><td class=\"n\">{this}</td><td class=\"n\">{last}</td><td class=\"n\">{change}</td></tr>"
    )
}

/// The texts of a Word document's runs, in order.
fn word_texts(docx: &Path) -> Vec<String> {
    let xml = xlsx_part(docx, "word/document.xml");
    xml.split("<w:t xml:space=\"preserve\">")
        .skip(1)
        .map(|s| s.split("</w:t>").next().unwrap().to_string())
        .collect()
}

/// Whether `texts` has `row` as consecutive runs.
fn has_row(texts: &[String], row: &[&str]) -> bool {
    texts
        .windows(row.len())
        .any(|w| w.iter().zip(row).all(|(a, b)| a == b))
}

#[test]
fn reports_compare_key_figures_with_last_year() {
    let scratch = two_years();
    ingest(&scratch, "2020", "out2020", &[]);
    ingest(&scratch, "2021", "out2021", &["--previous", "out2020"]);
    let reports = scratch.path("out2021/reports");

    // The township: every key figure with last year's and the change.
    let html = std::fs::read_to_string(file(&reports, "110_", ".html")).unwrap();
    assert!(html.contains("<h2>与2020年度比较</h2>"), "{html}");
    for row in [
        html_row("新收申请", "8", "5", "+3"),
        html_row("办结申请", "10", "3", "+7"),
        html_row("结转下年度", "0", "2", "-2"),
        html_row("行政复议", "0", "0", "0"),
    ] {
        assert!(html.contains(&row), "{row} in {html}");
    }
    // After the tables.
    assert!(html.find("与2020年度比较").unwrap() > html.rfind("<table class=\"report").unwrap());
    let texts = word_texts(&file(&reports, "110_", ".docx"));
    assert!(texts.iter().any(|t| t == "与2020年度比较"), "{texts:?}");
    assert!(
        has_row(
            &texts,
            &["指标", "本年（2021年）", "上年（2020年）", "增减"]
        ),
        "{texts:?}"
    );
    assert!(has_row(&texts, &["新收申请", "8", "5", "+3"]), "{texts:?}");
    assert!(
        has_row(&texts, &["结转下年度", "0", "2", "-2"]),
        "{texts:?}"
    );

    // A unit without last year's report: —.
    let html = std::fs::read_to_string(file(&reports, "112_", ".html")).unwrap();
    assert!(
        html.contains(&html_row("新收申请", "1", "—", "—")),
        "{html}"
    );
    let texts = word_texts(&file(&reports, "112_", ".docx"));
    assert!(has_row(&texts, &["新收申请", "1", "—", "—"]), "{texts:?}");

    // The county's roll-up: last year's over the units counted this year (110 and 112;
    // the village 111 reported last year only and is not summed).
    let rollups = scratch.path("out2021/rollups");
    let html = std::fs::read_to_string(file(&rollups, "100_", ".html")).unwrap();
    assert!(
        html.contains(&html_row("新收申请", "9", "5", "+4")),
        "{html}"
    );
    let note = "上年数为本年已计入的 2 个单位中有2020年度数据的 1 个单位的数字之和；其余 1 个单位没有上年数据，不计入上年数。";
    assert!(html.contains(note), "{html}");
    let texts = word_texts(&file(&rollups, "100_", ".docx"));
    assert!(has_row(&texts, &["新收申请", "9", "5", "+4"]), "{texts:?}");
    assert!(texts.iter().any(|t| t == note), "{texts:?}");

    // The overview: 上年新收 beside 新收申请.
    let index = std::fs::read_to_string(scratch.path("out2021/index.html")).unwrap();
    assert!(
        index.contains("<th>新收申请</th><th>上年新收</th>"),
        "{index}"
    );
    assert!(
        index.contains("<td class=\"n\">8</td><td class=\"n\">5</td>"),
        "{index}"
    );
}

#[test]
fn without_previous_nothing_is_compared() {
    let scratch = two_years();
    ingest(&scratch, "2021", "out2021", &[]);
    let reports = scratch.path("out2021/reports");
    let html = std::fs::read_to_string(file(&reports, "110_", ".html")).unwrap();
    assert!(
        !html.contains("与2020年度比较") && !html.contains("增减"),
        "{html}"
    );
    let texts = word_texts(&file(&reports, "110_", ".docx"));
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("增减") || t.contains("上年（")),
        "{texts:?}"
    );
    let rollup =
        std::fs::read_to_string(file(&scratch.path("out2021/rollups"), "100_", ".html")).unwrap();
    assert!(!rollup.contains("增减"), "{rollup}");
    let index = std::fs::read_to_string(scratch.path("out2021/index.html")).unwrap();
    assert!(!index.contains("上年新收"), "{index}");
}
