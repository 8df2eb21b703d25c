//! "Nothing lost, whatever arrives": a workbook whose identities disagree, formulas
//! without results, text past Excel's cell limit, roster codes the reader would refuse,
//! numbers no report can hold, control characters and formula text on their way to a
//! terminal or a spreadsheet, and the small ones (the year range, CRLF line numbers,
//! long quoted values).

use std::path::Path;
use std::time::{Duration, SystemTime};

use nianbao::check::{check_file, Options};
use nianbao::format::{Formats, Key};
use nianbao::model::Level;
use nianbao::template::{workbook_bytes, Prefill, UnitInfo};
use nianbao::validate::Submission;

use crate::common::*;

// ── Helpers ──────────────────────────────────────────────────────────────────────────

/// A filled 2020 workbook for a unit of [`ROSTER`] (values by key, texts satisfying
/// every rule).
fn unit_workbook(code: &str, name: &str, values: &[(&str, f64)]) -> Vec<u8> {
    unit_workbook_with(code, name, values, &[], TEXTS)
}

fn unit_workbook_with(
    code: &str,
    name: &str,
    values: &[(&str, f64)],
    raw: &[(&str, &str)],
    texts: &[(&str, &str)],
) -> Vec<u8> {
    let formats = Formats::builtin();
    let format = formats.for_year(2020).unwrap();
    let unit = UnitInfo {
        code: code.into(),
        name: name.into(),
        parent_code: "110".into(),
        parent_name: "山市镇人民政府".into(),
        level: "village".into(),
    };
    let mut prefill = Prefill::default();
    for (k, v) in values {
        prefill.values.insert(Key::from_string(k), *v);
    }
    for (k, v) in raw {
        prefill.raw.insert(Key::from_string(k), v.to_string());
    }
    for (k, v) in texts {
        prefill.texts.insert(k.to_string(), v.to_string());
    }
    for (k, v) in CONTACT {
        prefill.cover.insert(k.to_string(), v.to_string());
    }
    workbook_bytes(format, 2020, &unit, &prefill).unwrap()
}

const OK: &[(&str, f64)] = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];

/// Rewrites the parts of an xlsx whose name `edit` is given, as text.
fn patch_xlsx(bytes: &[u8], mut edit: impl FnMut(&str, String) -> String) -> Vec<u8> {
    let parts: Vec<(String, Vec<u8>)> = unzip(bytes)
        .into_iter()
        .map(|(name, data)| match String::from_utf8(data) {
            Ok(text) => {
                let text = edit(&name, text);
                (name, text.into_bytes())
            }
            Err(e) => (name, e.into_bytes()),
        })
        .collect();
    rezip(&parts)
}

/// The worksheet part of the sheet called `sheet` (rust_xlsxwriter numbers them in
/// workbook order).
fn sheet_part(bytes: &[u8], sheet: &str) -> String {
    let parts = unzip(bytes);
    let workbook = parts
        .iter()
        .find(|(n, _)| n == "xl/workbook.xml")
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .unwrap();
    let names: Vec<&str> = workbook
        .split("<sheet ")
        .skip(1)
        .map(|s| {
            s.split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    let i = names.iter().position(|n| *n == sheet).unwrap();
    format!("xl/worksheets/sheet{}.xml", i + 1)
}

/// Replaces the cell `a1` of a worksheet's XML by an inline string.
fn set_cell(xml: &str, a1: &str, text: &str) -> String {
    let start = xml
        .find(&format!("<c r=\"{a1}\""))
        .unwrap_or_else(|| panic!("no cell {a1}"));
    let rest = &xml[start..];
    let end = if let Some(i) = rest.find("/>").filter(|i| !rest[..*i].contains('>')) {
        i + 2
    } else {
        rest.find("</c>").unwrap() + 4
    };
    format!(
        "{}<c r=\"{a1}\" t=\"inlineStr\"><is><t>{text}</t></is></c>{}",
        &xml[..start],
        &xml[start + end..]
    )
}

/// The A1 address of an identity field's value on the hidden sheet (column B, in the
/// order of `IdField::ALL`, after the mark row).
fn hidden_a1(field: nianbao::identity::IdField) -> String {
    let i = nianbao::identity::IdField::ALL
        .iter()
        .position(|f| *f == field)
        .unwrap();
    format!("B{}", i + 2)
}

fn row<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    col: &str,
    value: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    rows.iter()
        .find(|r| r[col] == value || (col == "file" && r[col].ends_with(&format!("/{value}"))))
        .unwrap_or_else(|| panic!("no row with {col}={value}: {rows:?}"))
}

fn set_mtime(path: &Path, secs_ago: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs_ago))
        .unwrap();
}

/// Runs `ingest` on `回收/` with [`ROSTER`]; returns the exit code and the output dir.
fn ingest(scratch: &Scratch) -> (i32, std::path::PathBuf) {
    scratch.write("units.csv", ROSTER);
    let out = scratch.path("out");
    let run = nianbao()
        .current_dir(scratch.dir.path())
        .args([
            "ingest",
            "--quiet",
            "--year",
            "2020",
            "--units",
            "units.csv",
        ])
        .args(["--out", "out", "回收"])
        .output()
        .unwrap();
    (run.status.code().unwrap_or(-1), out)
}

fn copy(sheet: &PlainSheet) -> PlainSheet {
    PlainSheet {
        name: sheet.name.clone(),
        cells: sheet.cells.clone(),
    }
}

fn submission(path: &Path) -> Submission {
    check_file(path, "x.xlsx", &Formats::builtin(), Options::default())
}

// ── 2. Identities that disagree ──────────────────────────────────────────────────────

/// 东兴村's workbook with only the hidden sheet's unit code changed to 山市村's.
fn dongxing_claiming_shanshi() -> Vec<u8> {
    let bytes = unit_workbook("112", "东兴村村民委员会", OK);
    let part = sheet_part(&bytes, "_nianbao");
    let a1 = hidden_a1(nianbao::identity::IdField::UnitCode);
    patch_xlsx(&bytes, |name, xml| {
        if name == part {
            set_cell(&xml, &a1, "111")
        } else {
            xml
        }
    })
}

#[test]
fn a_hidden_identity_that_disagrees_is_an_error_and_displaces_no_one() {
    let scratch = Scratch::new();
    let real = scratch.write(
        "回收/111_山市村村民委员会_2020.xlsx",
        unit_workbook("111", "山市村村民委员会", OK),
    );
    let odd = scratch.write(
        "回收/112_东兴村村民委员会_2020.xlsx",
        dongxing_claiming_shanshi(),
    );
    set_mtime(&real, 3600);
    set_mtime(&odd, 60);

    // On its own, `check` says so and names both units and where each claim is.
    let found = findings(&odd);
    let id3: Vec<&serde_json::Value> = found.iter().filter(|f| f["rule"] == "ID-3").collect();
    assert_eq!(id3.len(), 1, "{found:#?}");
    assert_eq!(id3[0]["level"], "error");
    let text = format!("{}{}", id3[0]["message"], id3[0]["found"]);
    for part in ["111", "112", "_nianbao", "封面", "文档属性"] {
        assert!(text.contains(part), "{part} in {text}");
    }

    let (code, out) = ingest(&scratch);
    assert_eq!(code, 1);
    let files = records(&out.join("files.csv"));
    let real_row = row(&files, "file", "111_山市村村民委员会_2020.xlsx");
    assert_eq!(real_row["status"], "accepted", "{files:?}");
    let odd_row = row(&files, "file", "112_东兴村村民委员会_2020.xlsx");
    assert_eq!(odd_row["status"], "rejected", "{files:?}");
    assert_eq!(odd_row["unit_code"], "112", "{files:?}");
    let units = records(&out.join("units.csv"));
    assert_eq!(row(&units, "unit_code", "111")["status"], "accepted");
    assert_eq!(row(&units, "unit_code", "112")["status"], "rejected");
    let diagnostics = records(&out.join("diagnostics.csv"));
    assert!(diagnostics
        .iter()
        .any(|d| d["rule"] == "ID-3" && d["file"].ends_with("/112_东兴村村民委员会_2020.xlsx")));
}

#[test]
fn a_file_whose_identities_disagree_never_wins_over_the_units_own_file() {
    let scratch = Scratch::new();
    let real = scratch.write(
        "回收/111_山市村村民委员会_2020.xlsx",
        unit_workbook("111", "山市村村民委员会", OK),
    );
    // 山市村's template whose cover was retyped as 东兴村's: hidden sheet and properties
    // still say 山市村, so it counts for 山市村, and it is the newer file.
    let bytes = unit_workbook("111", "山市村村民委员会", &[("t3.new.natural", 9.0)]);
    let cover = sheet_part(&bytes, "封面");
    let (code_at, name_at) = (a1(2020, "cover:unit_code"), a1(2020, "cover:unit_name"));
    let bytes = patch_xlsx(&bytes, |name, xml| {
        if name == cover {
            set_cell(
                &set_cell(&xml, &code_at, "112"),
                &name_at,
                "东兴村村民委员会",
            )
        } else {
            xml
        }
    });
    let odd = scratch.write("回收/新的一份.xlsx", bytes);
    set_mtime(&real, 3600);
    set_mtime(&odd, 60);
    let (_, out) = ingest(&scratch);
    let files = records(&out.join("files.csv"));
    let real_row = row(&files, "file", "111_山市村村民委员会_2020.xlsx");
    assert_eq!(real_row["status"], "accepted", "{files:?}");
    let odd_row = row(&files, "file", "新的一份.xlsx");
    assert_eq!(odd_row["status"], "duplicate", "{files:?}");
    assert!(odd_row["chosen"].ends_with("/111_山市村村民委员会_2020.xlsx"));
    let units = records(&out.join("units.csv"));
    assert!(row(&units, "unit_code", "111")["file"].ends_with("/111_山市村村民委员会_2020.xlsx"));
    let diagnostics = records(&out.join("diagnostics.csv"));
    assert!(diagnostics
        .iter()
        .any(|d| d["rule"] == "ID-3" && d["file"].ends_with("/新的一份.xlsx")));
}

#[test]
fn a_second_identity_sheet_or_cover_is_an_error() {
    let scratch = Scratch::new();
    let shanshi = scratch.write("a.xlsx", unit_workbook("111", "山市村村民委员会", OK));
    let dongxing = scratch.write("b.xlsx", unit_workbook("112", "东兴村村民委员会", OK));
    let other = plain_sheets(&dongxing);

    // 东兴村's identity sheet, visible and first.
    let mut sheets = plain_sheets(&shanshi);
    let mut id = other
        .iter()
        .find(|s| s.name == "_nianbao")
        .map(copy)
        .unwrap();
    id.name = "Sheet9".into();
    sheets.insert(0, id);
    let two_ids = scratch.path("two_ids.xlsx");
    write_plain(&sheets, &two_ids);

    // 东兴村's cover after 山市村's.
    let mut sheets = plain_sheets(&shanshi);
    let mut cover = other.iter().find(|s| s.name == "封面").map(copy).unwrap();
    cover.name = "封面 (2)".into();
    sheets.push(cover);
    let two_covers = scratch.path("two_covers.xlsx");
    write_plain(&sheets, &two_covers);

    for file in [&two_ids, &two_covers] {
        let (code, text) = check(&[file], &[]);
        assert_eq!(code, 1, "{text}");
        assert!(text.contains("ID-3"), "{text}");
        assert!(text.contains("111") && text.contains("112"), "{text}");
        let sub = submission(file);
        assert_eq!(sub.unit_code, "111", "the majority says 山市村");
    }
}

#[test]
fn a_file_named_for_another_roster_unit_is_not_silently_attributed() {
    let scratch = Scratch::new();
    scratch.write(
        "回收/112_东兴村村民委员会_2020.xlsx",
        unit_workbook("111", "山市村村民委员会", OK),
    );
    // Named after its own unit's parent (a township forwarding it): no conflict.
    scratch.write(
        "回收/山市镇人民政府转报.xlsx",
        unit_workbook("112", "东兴村村民委员会", OK),
    );
    let (_, out) = ingest(&scratch);
    let files = records(&out.join("files.csv"));
    let named = row(&files, "file", "112_东兴村村民委员会_2020.xlsx");
    assert_eq!(named["status"], "rejected", "{files:?}");
    assert_eq!(named["unit_code"], "111", "{files:?}");
    assert!(named["reason"].contains("东兴村村民委员会"), "{files:?}");
    let diagnostics = records(&out.join("diagnostics.csv"));
    let id3 = diagnostics
        .iter()
        .find(|d| d["rule"] == "ID-3")
        .expect("an ID-3 finding");
    assert!(id3["message"].contains("文件名"), "{id3:?}");
    assert_eq!(
        row(&files, "file", "山市镇人民政府转报.xlsx")["status"],
        "accepted",
        "{files:?}"
    );
}

// ── 4. Formulas without results ──────────────────────────────────────────────────────

/// 山市镇's 2020 workbook rewritten as values, with the given cells as formulas saved
/// without a result (as openpyxl and other generators write them).
fn with_formulas(scratch: &Scratch, name: &str, formulas: &[(&str, String)]) -> std::path::PathBuf {
    let filled = Filled {
        values: &[("t3.new.legal", 2.0)],
        ..Filled::new(2020)
    }
    .write(scratch, &format!("src-{name}"));
    let sheets = plain_sheets(&filled);
    let mut source: calamine::Xlsx<_> = calamine::open_workbook(&filled).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let t3 = "表三 依申请公开";
    for sheet in &sheets {
        // The template's own formulas (totals, checks) are written without results too.
        let own = calamine::Reader::worksheet_formula(&mut source, &sheet.name).unwrap();
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        ws.set_formula_result_default("");
        for (&(r, c), v) in &sheet.cells {
            let formula = formulas
                .iter()
                .find(|(k, _)| sheet.name == t3 && pos(2020, k) == (r, c))
                .map(|(_, f)| f.clone())
                .or_else(|| {
                    own.get_value((r, u32::from(c)))
                        .filter(|f| !f.is_empty())
                        .map(|f| format!("={f}"))
                });
            if let Some(f) = formula {
                ws.write_formula(r, c, f.as_str()).unwrap();
                continue;
            }
            match v {
                calamine::Data::Float(x) => ws.write_number(r, c, *x).map(|_| ()),
                calamine::Data::String(s) => ws.write_string(r, c, s).map(|_| ()),
                other => ws.write_string(r, c, other.to_string()).map(|_| ()),
            }
            .unwrap();
        }
    }
    let path = scratch.path(name);
    wb.save(&path).unwrap();
    // No cached result at all, not even an empty one.
    let bytes = std::fs::read(&path).unwrap();
    let bytes = patch_xlsx(&bytes, |_, xml| xml.replace("<v></v>", ""));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn formulas_without_results_are_computed_and_said_so() {
    let scratch = Scratch::new();
    let (legal, carried) = (a1(2020, "t3.new.legal"), a1(2020, "t3.carried.legal"));
    let path = with_formulas(
        &scratch,
        "formulas.xlsx",
        &[
            ("t3.new.natural", "=1+4".into()),
            ("t3.open.natural", "=(4+6)/2".into()),
            ("t3.open.legal", format!("=SUM({legal}:{carried})")),
            ("t3.partial.legal", format!("=SUM({legal},{carried})-2")),
        ],
    );
    let sub = submission(&path);
    let value = |k: &str| sub.values.get(&Key::from_string(k)).copied();
    assert_eq!(value("t3.new.natural"), Some(5.0), "{:#?}", sub.findings);
    assert_eq!(value("t3.open.natural"), Some(5.0));
    assert_eq!(value("t3.open.legal"), Some(2.0));
    assert_eq!(value("t3.partial.legal"), Some(0.0));
    let at = a1(2020, "t3.new.natural");
    let note = sub
        .findings
        .iter()
        .find(|f| f.cell_text() == at)
        .expect("a finding at the formula's cell");
    assert_eq!(note.level, Level::Fixed);
    assert_eq!(note.rule, "N-1");
    assert!(note.message.contains("公式"), "{note:?}");
    assert_eq!((note.found.as_str(), note.expected.as_str()), ("=1+4", "5"));
    assert!(
        !sub.findings.iter().any(|f| f.message.contains("空白")),
        "{:#?}",
        sub.findings
    );
    assert_eq!(sub.errors(), 0, "{:#?}", sub.findings);
}

#[test]
fn a_formula_that_cannot_be_computed_is_an_error_with_its_formula() {
    let scratch = Scratch::new();
    let path = with_formulas(
        &scratch,
        "formulas.xlsx",
        &[("t3.new.natural", "=VLOOKUP(1,Sheet2!A1:B9,2)".into())],
    );
    let sub = submission(&path);
    let at = a1(2020, "t3.new.natural");
    let f = sub
        .findings
        .iter()
        .find(|f| f.cell_text() == at)
        .expect("a finding at the formula's cell");
    assert_eq!(f.level, Level::Error, "{f:?}");
    assert_eq!(f.found, "=VLOOKUP(1,Sheet2!A1:B9,2)");
    assert!(!sub.values.contains_key(&Key::from_string("t3.new.natural")));
    let (code, _) = check(&[&path], &[]);
    assert_eq!(code, 1);
}

// ── 6. Text past Excel's limit ───────────────────────────────────────────────────────

#[test]
fn a_huge_text_in_a_rejected_workbook_does_not_stop_the_batch() {
    let scratch = Scratch::new();
    const MARK: &str = "超长文字占位";
    let bytes = unit_workbook_with(
        "111",
        "山市村村民委员会",
        &[("t3.new.natural", 3.0)], // T3-1 does not balance: rejected
        &[],
        &[
            ("opening", "现将有关情况总结如下："),
            ("overview", MARK),
            ("problems", "无。"),
            ("other", "无。"),
        ],
    );
    let long = "很长".repeat(150_000);
    let bytes = patch_xlsx(&bytes, |name, xml| {
        if name == "xl/sharedStrings.xml" {
            xml.replace(MARK, &long)
        } else {
            xml
        }
    });
    scratch.write("回收/山市村.xlsx", bytes);
    scratch.write(
        "回收/东兴村.xlsx",
        unit_workbook("112", "东兴村村民委员会", OK),
    );
    let (code, out) = ingest(&scratch);
    assert_eq!(code, 1);
    assert!(out.join("index.html").is_file());
    assert!(out.join("rollups/汇总表.xlsx").is_file());
    let units = records(&out.join("units.csv"));
    assert_eq!(row(&units, "unit_code", "111")["status"], "rejected");
    let correction = out.join("corrections/111_山市村村民委员会_2020_修改意见.xlsx");
    let text = cell_text(&correction, "文字部分", &a1(2020, "section:overview"));
    let chars = text.chars().count();
    assert!(chars <= 32_767 && chars > 30_000, "{chars}");
    assert!(text.contains("300000"), "the cut is said");
}

#[test]
fn fill_names_the_line_of_a_text_too_long_for_a_cell() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let long = "字".repeat(40_000);
    scratch.write(
        "values.csv",
        format!("unit_code,field,value\n111,t3.new.natural,0\n111,section:overview,{long}\n"),
    );
    let run = nianbao()
        .args(["fill", "--year", "2020", "--units"])
        .arg(scratch.path("units.csv"))
        .arg("--values")
        .arg(scratch.path("values.csv"))
        .arg("--out")
        .arg(scratch.path("out"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("第 3 行") && err.contains("40000"), "{err}");
}

// ── 8. One definition of a unit code ─────────────────────────────────────────────────

#[test]
fn a_code_the_roster_accepts_is_one_the_reader_accepts() {
    let scratch = Scratch::new();
    scratch.write(
        "units.csv",
        "code,name,parent_code,level\nA.1,甲单位,,county\n",
    );
    let run = nianbao()
        .args(["template", "--year", "2020", "--units"])
        .arg(scratch.path("units.csv"))
        .arg("--out")
        .arg(scratch.path("tpl"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let file = scratch.path("tpl/A.1_甲单位_2020.xlsx");
    let found = findings(&file);
    assert!(!found.iter().any(|f| f["rule"] == "ID-1"), "{found:#?}");

    // A code the reader would refuse is refused by the roster, with its line.
    scratch.write(
        "bad.csv",
        "code,name,parent_code,level\n100,县,,county\n东兴 01,东兴村,100,village\n",
    );
    let run = nianbao()
        .args(["template", "--year", "2020", "--units"])
        .arg(scratch.path("bad.csv"))
        .arg("--out")
        .arg(scratch.path("tpl2"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("第 3 行") && err.contains("东兴 01"), "{err}");
    let roster = nianbao::roster::Roster::parse(
        "code,name,parent_code,level\n1,县,,county\n2,镇,1 1,township\n".as_bytes(),
        "t.csv",
    );
    assert!(roster.is_err(), "a malformed parent code is not a root");
    assert_eq!(
        nianbao::model::UnitCode::new("A.1").unwrap().as_str(),
        "A.1"
    );
    assert!(nianbao::model::UnitCode::new("东兴 01").is_none());
}

// ── 14. Numbers beyond what a report can hold ────────────────────────────────────────

#[test]
fn numbers_beyond_the_bound_are_errors_at_their_cell() {
    let scratch = Scratch::new();
    let huge = Filled {
        values: &[("t3.new.natural", 1e308), ("t3.open.natural", 1e308)],
        ..Filled::new(2020)
    }
    .write(&scratch, "huge.xlsx");
    let digits = Filled {
        raw: &[(
            "t3.new.business",
            "１２３４５６７８９０１２３４５６７８９０",
        )],
        ..Filled::new(2020)
    }
    .write(&scratch, "digits.xlsx");
    for (file, key) in [(&huge, "t3.new.natural"), (&digits, "t3.new.business")] {
        let sub = submission(file);
        let at = a1(2020, key);
        let f = sub
            .findings
            .iter()
            .find(|f| f.cell_text() == at && f.level == Level::Error)
            .unwrap_or_else(|| panic!("an error at {at}: {:#?}", sub.findings));
        assert_eq!(f.rule, "V-1");
        assert!(!sub.values.contains_key(&Key::from_string(key)));
    }

    // Two units at 1e308 do not make the roll-up infinite.
    scratch.write(
        "回收/a.xlsx",
        unit_workbook(
            "111",
            "山市村村民委员会",
            &[("t3.new.natural", 1e308), ("t3.open.natural", 1e308)],
        ),
    );
    scratch.write(
        "回收/b.xlsx",
        unit_workbook(
            "112",
            "东兴村村民委员会",
            &[("t3.new.natural", 1e308), ("t3.open.natural", 1e308)],
        ),
    );
    let (_, out) = ingest(&scratch);
    let rollup = std::fs::read_to_string(out.join("rollup.csv")).unwrap();
    assert!(!rollup.to_lowercase().contains("inf"), "{rollup}");
    let units = records(&out.join("units.csv"));
    assert_eq!(row(&units, "unit_code", "111")["status"], "rejected");

    // `fill` holds to the same bound, naming the line.
    scratch.write(
        "values.csv",
        "unit_code,field,value\n111,t3.new.natural,1e308\n",
    );
    let run = nianbao()
        .current_dir(scratch.dir.path())
        .args(["fill", "--year", "2020", "--units", "units.csv"])
        .args(["--values", "values.csv", "--out", "filled"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("第 2 行") && err.contains("1000000000000"),
        "{err}"
    );
}

// ── 15. Text that reaches a terminal or a spreadsheet ────────────────────────────────

#[test]
fn check_prints_no_control_characters() {
    let scratch = Scratch::new();
    let name = "恶意\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m村";
    let path = scratch.write(
        "esc.xlsx",
        unit_workbook_with("111", name, &[("t3.new.natural", 1.0)], &[], TEXTS),
    );
    let (_, text) = check(&[&path], &[]);
    assert!(text.contains("恶意"), "{text}");
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{text:?}"
    );
    let (_, json) = check(&[&path], &["--json"]);
    assert!(
        !json.chars().any(|c| c.is_control() && c != '\n'),
        "{json:?}"
    );
    // Still the same data for a program.
    let back: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(back["unit_name"], name);

    // A roster name with control characters never reaches the summary: refused, with
    // its line.
    let roster = nianbao::roster::Roster::parse(
        format!("code,name,parent_code,level\n1,县,,county\n2,{name},1,village\n").as_bytes(),
        "units.csv",
    )
    .unwrap_err();
    assert_eq!(roster.line(), Some(3));
    assert!(!roster.to_string().contains('\u{1b}'));
}

#[test]
fn the_distribution_list_is_guarded_like_every_csv() {
    let scratch = Scratch::new();
    scratch.write(
        "units.csv",
        "code,name,parent_code,level\n\
         100,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",,county\n\
         +cmd,@SUM(A1),100,-village\n",
    );
    let run = nianbao()
        .args(["template", "--year", "2020", "--units"])
        .arg(scratch.path("units.csv"))
        .arg("--out")
        .arg(scratch.path("tpl"))
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let list = records(&scratch.path("tpl/分发清单.csv"));
    let first = row(&list, "unit_code", "100");
    assert_eq!(first["unit_name"], "'=HYPERLINK(\"http://x\",\"y\")");
    let second = row(&list, "unit_code", "'+cmd");
    assert_eq!(second["unit_name"], "'@SUM(A1)");
    assert_eq!(second["parent_code"], "100");
    assert_eq!(second["level"], "'-village");
    assert_eq!(
        nianbao::output::neutralise("=1+1"),
        nianbao::consolidate::neutralise("=1+1")
    );
}

// ── Small ones ───────────────────────────────────────────────────────────────────────

#[test]
fn template_and_check_agree_on_the_years() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    for year in ["99999", "2101"] {
        let run = nianbao()
            .args(["template", "--year", year, "--units"])
            .arg(scratch.path("units.csv"))
            .arg("--out")
            .arg(scratch.path(&format!("tpl{year}")))
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(2), "{year}");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains("2008") && err.contains("2100"), "{err}");
    }
    scratch.write(
        "values.csv",
        "unit_code,field,value\n111,t3.new.natural,1\n",
    );
    let run = nianbao()
        .current_dir(scratch.dir.path())
        .args(["fill", "--year", "99999", "--units", "units.csv"])
        .args(["--values", "values.csv", "--out", "filled"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(!scratch.path("filled").exists());
    // The reader holds to the same range.
    let late = Filled::new(2101).write(&scratch, "late.xlsx");
    let found = findings(&late);
    let id2 = found.iter().find(|f| f["rule"] == "ID-2").expect("ID-2");
    assert!(
        id2["message"].as_str().unwrap().contains("2008–2100"),
        "{id2}"
    );
    assert!(nianbao::model::REPORT_YEARS.contains(&2024));
}

#[test]
fn fill_counts_lines_of_crlf_files() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    scratch.write(
        "values.csv",
        "unit_code,field,value\r\n111,t3.new.natural,1\r\n111,t3.nothing,2\r\n",
    );
    let run = nianbao()
        .args(["fill", "--year", "2020", "--units"])
        .arg(scratch.path("units.csv"))
        .arg("--values")
        .arg(scratch.path("values.csv"))
        .arg("--out")
        .arg(scratch.path("out"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("第 3 行") && !err.contains("第 2 行"), "{err}");
}

#[test]
fn a_row_copied_thousands_of_times_gives_a_short_message() {
    let scratch = Scratch::new();
    let path = Filled::new(2020).write(&scratch, "rows.xlsx");
    let mut sheets = plain_sheets(&path);
    let t3 = sheet_mut(&mut sheets, "表三 依申请公开");
    let (row0, _) = pos(2020, "t3.new.natural");
    let key = t3.cells[&(row0, layout::KEY_COL)].clone();
    for r in 0..5000 {
        t3.cells.insert((2000 + r, layout::KEY_COL), key.clone());
    }
    let copied = scratch.path("copied.xlsx");
    write_plain(&sheets, &copied);
    let sub = submission(&copied);
    let l1 = sub
        .findings
        .iter()
        .find(|f| f.rule == "L-1")
        .expect("an L-1 finding");
    assert!(l1.message.chars().count() < 400, "{}", l1.message.len());
    assert!(l1.message.contains("…（共"), "{}", l1.message);
}
