//! The two lists for the coordinator: `汇总明细.xlsx` (every unit, one row, its values as
//! columns) and `催报名单.xlsx` / `.csv` (who is still to be chased, with the roster's
//! contact columns). They say what units.csv and values.csv say, the same bytes on every
//! run and from `report`, and open in LibreOffice with codes as text and numbers as
//! numbers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use calamine::{open_workbook_auto, Data, Range, Reader};
use nianbao::batch::Status;
use nianbao::roster::Roster;
use nianbao::template::{DETAILS_FIXED, DETAILS_HEADER_ROWS, DETAILS_SHEET};

use crate::common::*;

const DETAILS: &str = "汇总明细.xlsx";
const CHASE: &str = "催报名单.xlsx";
const CHASE_CSV: &str = "催报名单.csv";

/// The rows of a CSV as maps from header to value, and the header.
fn csv_file(path: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

fn records(path: &Path) -> Vec<BTreeMap<String, String>> {
    csv_file(path).1
}

/// `ingest` of the samples' 2024 returns with their roster into `out`.
fn ingest_2024(out: &Path) {
    ingest_samples(2024, out).arg("--quiet").assert().code(1); // one unit missing, one rejected
}

fn sheet(path: &Path, name: &str) -> Range<Data> {
    let mut wb = open_workbook_auto(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    wb.worksheet_range(name).unwrap()
}

/// A cell by absolute (row, column), `Empty` outside the used range.
fn at(range: &Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

fn number(d: &Data) -> Option<f64> {
    match d {
        Data::Float(x) => Some(*x),
        Data::Int(n) => Some(*n as f64),
        _ => None,
    }
}

/// Checks 汇总明细.xlsx against units.csv and values.csv: one row per unit in the same
/// order, codes as text, status labels, counts, every value of every accepted unit and
/// none of any other.
fn details_agree(details: &Path, out: &Path) {
    let range = sheet(details, DETAILS_SHEET);
    let header = DETAILS_HEADER_ROWS - 1;
    for (col, name) in DETAILS_FIXED.iter().enumerate() {
        assert_eq!(
            at(&range, header, col as u32),
            Data::String(name.to_string())
        );
    }
    let units = records(&out.join("units.csv"));
    let values = records(&out.join("values.csv"));
    let fixed = DETAILS_FIXED.len() as u32;
    // The columns are the keys in values.csv's order (one unit's rows).
    let first = &values[0]["unit_code"];
    let columns: Vec<&BTreeMap<String, String>> =
        values.iter().filter(|v| &v["unit_code"] == first).collect();
    for (j, v) in columns.iter().enumerate() {
        let Data::String(label) = at(&range, header, fixed + j as u32) else {
            panic!("no label over column {j}");
        };
        // A field's label is its row's in values.csv (its column is 数值).
        let official = if v["table"] == "fields" {
            &v["row_label"]
        } else {
            &v["col_label"]
        };
        assert!(
            *official == label || official.ends_with(&format!("/{label}")),
            "column {j}: {label} for {v:?}"
        );
    }
    let last_col = fixed + columns.len() as u32 - 1;
    assert_eq!(range.end().unwrap().1, last_col, "one column per value");
    let mut by_unit: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for v in &values {
        by_unit
            .entry(&v["unit_code"])
            .or_default()
            .push(&v["value"]);
    }
    assert_eq!(
        range.end().unwrap().0 + 1 - DETAILS_HEADER_ROWS,
        units.len() as u32,
        "one row per unit of units.csv"
    );
    for (i, u) in units.iter().enumerate() {
        let row = DETAILS_HEADER_ROWS + i as u32;
        assert_eq!(
            at(&range, row, 0),
            Data::String(u["unit_code"].clone()),
            "the code as text, row {row}"
        );
        assert_eq!(at(&range, row, 1), Data::String(u["unit_name"].clone()));
        let status = Status::from_code(&u["status"]).unwrap();
        assert_eq!(at(&range, row, 4), Data::String(status.label().to_string()));
        for (col, name) in [(5, "errors"), (6, "warnings")] {
            let expected = u[name].parse::<f64>().ok();
            assert_eq!(number(&at(&range, row, col)), expected, "{name} of {u:?}");
        }
        let got: Vec<Data> = (fixed..=last_col).map(|c| at(&range, row, c)).collect();
        match by_unit.get(u["unit_code"].as_str()) {
            Some(expected) if status.is_accepted() => {
                for (j, (g, e)) in got.iter().zip(expected).enumerate() {
                    assert_eq!(
                        number(g),
                        e.parse::<f64>().ok(),
                        "{} column {j}",
                        u["unit_code"]
                    );
                }
            }
            _ => assert!(
                got.iter().all(|d| *d == Data::Empty),
                "{} is not accepted: no values",
                u["unit_code"]
            ),
        }
    }
}

#[test]
fn the_details_workbook_is_units_csv_with_the_values_as_columns() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_2024(&out);
    details_agree(&out.join(DETAILS), &out);
    // The roster's levels as people say them, the parent by name.
    let range = sheet(&out.join(DETAILS), DETAILS_SHEET);
    let row = DETAILS_HEADER_ROWS + 1; // 山市镇人民政府, under the city
    assert_eq!(at(&range, row, 1), Data::String("山市镇人民政府".into()));
    assert_eq!(at(&range, row, 2), Data::String("海林市人民政府".into()));
    assert_eq!(at(&range, row, 3), Data::String("乡镇".into()));
    // The samples' county reports 45 new requests (t3.new.total) and 1236.45 万元 of fees.
    let values = records(&out.join("values.csv"));
    let county = &values[0]["unit_code"];
    let county_row = DETAILS_HEADER_ROWS;
    assert_eq!(at(&range, county_row, 0), Data::String(county.clone()));
    for (table, row_code, col_code) in [
        ("t3", "new", "total"),
        ("t2", "fees", "fee_amount"),
        ("t4", "all", "review_total"),
        ("fields", "fee_cases", "value"),
    ] {
        let j = values
            .iter()
            .filter(|v| &v["unit_code"] == county)
            .position(|v| {
                v["table"] == table && v["row_code"] == row_code && v["col_code"] == col_code
            })
            .unwrap();
        let expected: f64 = values
            .iter()
            .find(|v| {
                &v["unit_code"] == county
                    && v["table"] == table
                    && v["row_code"] == row_code
                    && v["col_code"] == col_code
            })
            .unwrap()["value"]
            .parse()
            .unwrap();
        let got = at(&range, county_row, DETAILS_FIXED.len() as u32 + j as u32);
        assert_eq!(
            number(&got),
            Some(expected),
            "{table}.{row_code}.{col_code}"
        );
    }
}

/// The units units.csv says are to be chased (not reported, sent back, another year).
fn to_chase(out: &Path) -> Vec<(String, String)> {
    records(&out.join("units.csv"))
        .into_iter()
        .filter(|u| ["missing", "rejected", "wrong_year"].contains(&u["status"].as_str()))
        .map(|u| (u["unit_code"].clone(), u["status"].clone()))
        .collect()
}

#[test]
fn the_chase_list_names_every_unit_missing_or_rejected_with_its_contacts() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_2024(&out);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let roster = Roster::load(&root.join("samples/units.csv")).unwrap();
    let expected = to_chase(&out);
    assert!(
        expected.iter().any(|(_, s)| s == "missing")
            && expected.iter().any(|(_, s)| s == "rejected"),
        "the samples have both: {expected:?}"
    );

    let (header, rows) = csv_file(&out.join(CHASE_CSV));
    // Chinese headers, the roster's own extra columns in its order.
    assert_eq!(
        header,
        [
            "上级单位代码",
            "上级单位",
            "单位代码",
            "单位",
            "层级",
            "状态",
            "contact",
            "phone",
            "问题",
            "修改意见工作簿"
        ]
    );
    let listed: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let status = Status::ALL
                .into_iter()
                .find(|s| s.label() == r["状态"])
                .unwrap_or_else(|| panic!("{r:?}"));
            (r["单位代码"].clone(), status.code().to_string())
        })
        .collect();
    assert_eq!(
        listed, expected,
        "exactly the units to chase, in roster order"
    );
    let units = records(&out.join("units.csv"));
    for r in &rows {
        let unit = roster
            .get(&nianbao::model::UnitCode::new(&r["单位代码"]).unwrap())
            .unwrap();
        for (column, value) in &unit.extra {
            assert_eq!(&r[&**column], value, "{column} of {}", unit.name);
        }
        let parent = roster.get(unit.parent.as_ref().unwrap()).unwrap();
        assert_eq!(r["上级单位"], parent.name);
        assert_eq!(r["上级单位代码"], parent.code.to_string());
        let u = units
            .iter()
            .find(|u| u["unit_code"] == r["单位代码"])
            .unwrap();
        if u["status"] == "rejected" {
            // The first error, as the run's reason gives it, and the correction workbook.
            let first = u["reason"].split("首个：").nth(1).unwrap();
            assert!(r["问题"].contains(first), "{r:?}");
            assert!(r["问题"].starts_with(&format!("共 {} 个错误", u["errors"])));
            let link = &r["修改意见工作簿"];
            assert_eq!(
                *link,
                format!(
                    "corrections/{}_{}_2024_修改意见.xlsx",
                    u["unit_code"], u["unit_name"]
                )
            );
            assert!(out.join(link).is_file(), "{link}");
        } else {
            assert_eq!(r["问题"], "");
            assert_eq!(r["修改意见工作簿"], "");
        }
    }

    // The workbook: the same header without the parent columns, each parent's row, then
    // its units, codes as text.
    let range = sheet(&out.join(CHASE), "催报名单");
    let sheet_header: Vec<String> = (0..header.len() as u32 - 2)
        .map(|c| at(&range, 2, c).to_string())
        .collect();
    assert_eq!(sheet_header, header[2..]);
    let codes: Vec<String> = (3..=range.end().unwrap().0)
        .filter_map(|r| match at(&range, r, 0) {
            Data::String(s) if s.chars().all(|c| c.is_ascii_digit()) => Some(s),
            _ => None,
        })
        .collect();
    let expected_codes: Vec<String> = expected.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(codes, expected_codes);
    assert!(
        (3..=range.end().unwrap().0).any(|r| at(&range, r, 0)
            .to_string()
            .starts_with("山市镇人民政府（231083102000）：")),
        "the parent's row"
    );
}

#[test]
fn the_lists_are_the_same_bytes_on_a_rerun_and_from_report() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_2024(&out);
    let read = |out: &Path| -> Vec<Vec<u8>> {
        [DETAILS, CHASE, CHASE_CSV]
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .to_vec()
    };
    let first = read(&out);
    ingest_2024(&out);
    assert!(first == read(&out), "ingest again");
    let elsewhere = scratch.path("elsewhere");
    ingest_2024(&elsewhere);
    assert!(first == read(&elsewhere), "ingest into another folder");
    // `report` makes them again from the CSVs, the same.
    for f in [DETAILS, CHASE, CHASE_CSV] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    nianbao().arg("report").arg(&out).assert().code(0);
    assert!(first == read(&out), "report");
    let record = std::fs::read_to_string(out.join("运行记录.json")).unwrap();
    for f in [DETAILS, CHASE, CHASE_CSV] {
        assert_eq!(
            record.matches(&format!("\"{f}\"")).count(),
            1,
            "{f}: {record}"
        );
    }
}

// ── A roster of our own: contacts, a missing top-level unit, an empty list ─────────────

const YEAR: i32 = 2024;

const ROSTER_WITH_PHONES: &str = "\u{feff}code,name,parent_code,level,联系人,电话
100,示例县人民政府,,county,政务公开办,0453-7222000
110,山市镇人民政府,100,township,党政办,0453-7350001
111,山市村村民委员会,110,village,=HYPERLINK(\"http://x\"),13900000000
112,东兴村村民委员会,110,village,李四,
120,示例县教育局,100,department,办公室,0453-7222101
";

const UNITS: [(&str, &str); 5] = [
    ("100", "示例县人民政府"),
    ("110", "山市镇人民政府"),
    ("111", "山市村村民委员会"),
    ("112", "东兴村村民委员会"),
    ("120", "示例县教育局"),
];

/// A filled workbook of a unit of the roster; `values` satisfy every rule unless they
/// are meant not to.
fn return_of(code: &str, values: &[(&str, f64)]) -> Vec<u8> {
    return_for(code, YEAR, values)
}

fn return_for(code: &str, year: i32, values: &[(&str, f64)]) -> Vec<u8> {
    let name = UNITS.iter().find(|(c, _)| *c == code).unwrap().1;
    unit_return(code, name, year, values)
}

const OK: &[(&str, f64)] = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];

fn ingest_own(scratch: &Scratch, extra: &[&str]) -> std::process::Output {
    nianbao()
        .current_dir(scratch.dir.path())
        .args([
            "ingest",
            "回收",
            "--units",
            "units.csv",
            "--out",
            "out",
            "--quiet",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn the_chase_list_groups_by_parent_guards_formulas_and_ends_empty() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER_WITH_PHONES);
    // The county has not reported, a village sent last year's report, the bureau a
    // broken table 三.
    scratch.write("回收/镇.xlsx", return_of("110", OK));
    scratch.write("回收/东兴村.xlsx", return_of("112", OK));
    scratch.write("回收/山市村.xlsx", return_for("111", YEAR - 1, OK));
    scratch.write(
        "回收/教育局.xlsx",
        return_of("120", &[("t3.new.natural", 3.0)]),
    );
    let run = ingest_own(&scratch, &[]);
    assert_eq!(run.status.code(), Some(1));
    let out = scratch.path("out");
    let (header, rows) = csv_file(&out.join(CHASE_CSV));
    assert_eq!(header[6..8], ["联系人", "电话"]);
    let listed: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["上级单位"].as_str(),
                r["单位代码"].as_str(),
                r["状态"].as_str(),
            )
        })
        .collect();
    // Parents in roster order, the top-level unit under 无上级单位 first.
    assert_eq!(
        listed,
        [
            ("无上级单位", "100", "未报送"),
            ("示例县人民政府", "120", "退回"),
            ("山市镇人民政府", "111", "年度不符"),
        ]
    );
    assert_eq!(
        rows[2]["问题"],
        "这是 2023 年度的报告，本次汇总的是 2024 年度"
    );
    assert_eq!(rows[2]["修改意见工作簿"], "");
    assert_eq!(rows[0]["电话"], "0453-7222000");
    assert_eq!(rows[0]["层级"], "县级");
    // A roster cell that reads as a formula is written so that it stays text.
    let raw = std::fs::read_to_string(out.join(CHASE_CSV)).unwrap();
    assert!(raw.contains("'=HYPERLINK"), "{raw}");
    assert!(raw.starts_with('\u{feff}'), "a BOM like the other CSVs");
    let range = sheet(&out.join(CHASE), "催报名单");
    let texts: Vec<String> = range.cells().map(|(_, _, d)| d.to_string()).collect();
    assert!(texts.iter().any(|t| t == "0453-7222000"), "phones as text");
    assert!(texts
        .iter()
        .any(|t| t.starts_with("示例县人民政府（100）：退回 1 个")));
    assert!(texts
        .iter()
        .any(|t| t == "山市镇人民政府（110）：年度不符 1 个"));

    // Everyone reports: the list is still there, saying so (no old list survives), and
    // without a BOM when the run writes none.
    scratch.write("回收/县.xlsx", return_of("100", OK));
    scratch.write("回收/山市村.xlsx", return_of("111", OK));
    scratch.write("回收/教育局.xlsx", return_of("120", OK));
    let run = ingest_own(&scratch, &["--no-bom"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let raw = std::fs::read_to_string(out.join(CHASE_CSV)).unwrap();
    assert!(raw.starts_with("上级单位代码,"), "{raw}");
    let (_, rows) = csv_file(&out.join(CHASE_CSV));
    assert_eq!(rows.len(), 1, "{raw}");
    assert_eq!(
        rows[0]["上级单位代码"],
        "名册中的 5 个单位都已报送并受理，无需催报。"
    );
    let range = sheet(&out.join(CHASE), "催报名单");
    assert!(range
        .cells()
        .any(|(_, _, d)| matches!(d, Data::String(s) if s == "名册中的 5 个单位都已报送并受理，无需催报。")));
    details_agree(&out.join(DETAILS), &out);
}

#[test]
fn the_lists_moved_among_the_returns_are_not_taken_for_returns() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER_WITH_PHONES);
    scratch.write("回收/镇.xlsx", return_of("110", OK));
    ingest_own(&scratch, &[]);
    for f in [DETAILS, CHASE] {
        std::fs::copy(
            scratch.path(&format!("out/{f}")),
            scratch.path(&format!("回收/{f}")),
        )
        .unwrap();
    }
    std::fs::remove_dir_all(scratch.path("out")).unwrap();
    ingest_own(&scratch, &[]);
    let files = records(&scratch.path("out/files.csv"));
    for f in [DETAILS, CHASE] {
        let row = files
            .iter()
            .find(|r| r["file"] == format!("回收/{f}"))
            .unwrap();
        assert_eq!(row["status"], "skipped", "{row:?}");
    }
}

// ── LibreOffice ───────────────────────────────────────────────────────────────────────

/// `file` converted by LibreOffice to `to` (`xlsx`, `pdf`) in `dir`, with a private
/// profile.
fn convert(bin: &str, file: &Path, to: &str, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let out = Process::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("profile").display()
        ))
        .args(["--headless", "--convert-to", to, "--outdir"])
        .arg(dir)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let converted = dir.join(file.with_extension(to).file_name().unwrap());
    assert!(
        converted.is_file(),
        "LibreOffice wrote no {to} of {}",
        file.display()
    );
    converted
}

#[test]
fn both_workbooks_open_in_libreoffice_codes_as_text_numbers_as_numbers() {
    let Some(bin) = soffice() else {
        eprintln!(
            "SKIPPED: LibreOffice (soffice) is not installed; the lists are not opened in it"
        );
        return;
    };
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_2024(&out);
    // Re-saved by LibreOffice, read back: the same rows, codes and values.
    let resaved = convert(bin, &out.join(DETAILS), "xlsx", &scratch.path("resaved"));
    details_agree(&resaved, &out);
    let chase = convert(bin, &out.join(CHASE), "xlsx", &scratch.path("resaved"));
    let range = sheet(&chase, "催报名单");
    let codes: Vec<Data> = (3..=range.end().unwrap().0)
        .map(|r| at(&range, r, 0))
        .filter(|d| matches!(d, Data::String(s) if s.starts_with("2310")))
        .collect();
    assert_eq!(codes.len(), to_chase(&out).len(), "codes stay text");
    // And printed.
    for file in [CHASE, DETAILS] {
        let pdf = convert(bin, &out.join(file), "pdf", &scratch.path("pdf"));
        assert!(std::fs::read(pdf).unwrap().starts_with(b"%PDF"), "{file}");
    }
}
