//! Tests of the CSV outputs and roll-ups.
use proptest::prelude::*;

use super::*;
use crate::cell::CellRef;
use crate::format::Formats;
use crate::locate::IdentifiedBy;
use crate::model::Spot;
use crate::validate::Submission;

const EVIL: &str = "=cmd|' /C calc'!A0";

fn roster() -> Roster {
    let text = format!(
        "code,name,parent_code,level\n\
         C,某县,,county\n\
         T1,甲镇,C,township\n\
         V1,一村,T1,village\n\
         V2,二村,T1,village\n\
         T2,乙镇,C,township\n\
         V3,三村,T2,village\n\
         D1,{EVIL},C,department\n"
    );
    Roster::parse(text.as_bytes(), "t").unwrap()
}

fn format() -> Format {
    Formats::builtin().by_id("2019").unwrap().clone()
}

fn key(s: &str) -> Key {
    Key::from_string(s)
}

/// Every key 0, then 表三 balanced in every column (new + carried = total +
/// carry_next) and some litigation.
fn balanced(format: &Format, new: f64) -> BTreeMap<Key, f64> {
    let mut values: BTreeMap<Key, f64> = format.keys().into_iter().map(|k| (k, 0.0)).collect();
    for col in &format.table("t3").unwrap().blocks[0].columns {
        set_column(&mut values, &col.code, new, 1.0, 1.0);
    }
    values.insert(key("t4.all.review_total"), 4.0);
    values.insert(key("t4.all.direct_total"), 2.0);
    values.insert(key("t4.all.after_total"), 3.0);
    values
}

fn set_column(values: &mut BTreeMap<Key, f64>, col: &str, new: f64, carried: f64, carry_next: f64) {
    values.insert(Key::cell("t3", "new", col), new);
    values.insert(Key::cell("t3", "carried", col), carried);
    values.insert(Key::cell("t3", "total", col), new + carried - carry_next);
    values.insert(Key::cell("t3", "carry_next", col), carry_next);
}

fn finding(level: Level, code: &str, rule: &str, message: &str) -> Finding {
    Finding {
        unit_code: code.to_string(),
        sheet: "表三 依申请公开".into(),
        spot: Spot::cell(None, CellRef::new(7, 2)),
        ..Finding::file_level(level, rule, message, "请核对")
    }
}

fn sub(code: &str, name: &str, values: BTreeMap<Key, f64>, findings: Vec<Finding>) -> Submission {
    Submission {
        unit_code: code.to_string(),
        unit_name: name.to_string(),
        year: Some(2020),
        format_id: Some("2019".into()),
        identified_by: IdentifiedBy::HiddenSheet,
        by_labels: false,
        values,
        texts: BTreeMap::new(),
        cover: BTreeMap::new(),
        places: BTreeMap::new(),
        findings,
    }
}

thread_local! {
    /// Each test's submissions, as ingest keeps them: in a store on disk.
    static STORE: (Store, tempfile::TempDir) = {
        let dir = tempfile::tempdir().unwrap();
        (Store::new_in(dir.path()).unwrap(), dir)
    };
}

fn outcome(file: &str, status: Status, code: &str, sub: Option<Submission>) -> FileOutcome {
    let stored = sub
        .as_ref()
        .map(|sub| STORE.with(|(store, _)| store.put(sub).unwrap()));
    FileOutcome {
        file: file.to_string(),
        status,
        reason: String::new(),
        unit_code: code.to_string(),
        chosen: None,
        workbook_code: sub
            .as_ref()
            .map(|s| s.unit_code.clone())
            .unwrap_or_default(),
        unit_name: sub
            .as_ref()
            .map(|s| s.unit_name.clone())
            .unwrap_or_default(),
        year: sub.as_ref().and_then(|s| s.year),
        counts: sub.as_ref().map(|s| Counts {
            errors: s.errors(),
            warnings: s.warnings(),
            fixes: s.fixes(),
        }),
        stored,
        modified: None,
        identity_conflict: false,
        package: None,
        name_note: None,
    }
}

/// The five files' bytes, as a test reads them.
#[derive(Debug, PartialEq, Eq)]
struct Outputs {
    values: Vec<u8>,
    units: Vec<u8>,
    rollup: Vec<u8>,
    diagnostics: Vec<u8>,
    files: Vec<u8>,
}

impl Outputs {
    fn named(&self) -> [(&'static str, &[u8]); 5] {
        [
            ("values.csv", &self.values),
            ("units.csv", &self.units),
            ("rollup.csv", &self.rollup),
            ("diagnostics.csv", &self.diagnostics),
            ("files.csv", &self.files),
        ]
    }
}

fn write_all(
    f: &Format,
    roster: Option<&Roster>,
    outcomes: &[FileOutcome],
    bom: bool,
) -> (Outputs, Vec<Rollup>) {
    let out = tempfile::tempdir().unwrap();
    let rollups = STORE.with(|(store, _)| {
        write(
            out.path(),
            f,
            2020,
            roster,
            outcomes,
            store,
            CsvOptions { bom },
        )
        .unwrap()
    });
    // Each file as written is the file on disk.
    for f in &rollups.files {
        let on_disk = crate::output::sha256_file(&out.path().join(&f.path)).unwrap();
        assert_eq!((f.size, f.sha256.clone()), on_disk, "{}", f.path);
    }
    assert_eq!(rollups.files.len(), crate::output::CSV_FILES.len());
    let rollups = rollups.rollups;
    let read = |name: &str| std::fs::read(out.path().join(name)).unwrap();
    let outputs = Outputs {
        values: read("values.csv"),
        units: read("units.csv"),
        rollup: read("rollup.csv"),
        diagnostics: read("diagnostics.csv"),
        files: read("files.csv"),
    };
    (outputs, rollups)
}

fn rollups(f: &Format, roster: &Roster, outcomes: &[FileOutcome]) -> Vec<Rollup> {
    write_all(f, Some(roster), outcomes, true).1
}

fn submission_of(o: &FileOutcome) -> Option<Submission> {
    o.stored
        .map(|at| STORE.with(|(store, _)| store.get(at).unwrap()))
}

fn fixture() -> (Format, Roster, Vec<FileOutcome>) {
    let f = format();
    let mut v2 = balanced(&f, 7.0);
    v2.insert(key("t2.license.change"), -2.0);
    let mut dup = outcome(
        "甲镇/一村(1).xlsx",
        Status::Duplicate,
        "V1",
        Some(sub(
            "V1",
            "一村",
            balanced(&f, 99.0),
            vec![finding(Level::Fixed, "V1", "N-1", "全角数字已转换")],
        )),
    );
    dup.chosen = Some("甲镇/一村.xlsx".into());
    let mut rejected = outcome(
        "乙镇.xlsx",
        Status::Rejected,
        "T2",
        Some(sub(
            "T2",
            "乙镇",
            balanced(&f, 3.0),
            vec![finding(
                Level::Error,
                "T2",
                "T3-1",
                "第一项加第二项之和，不等于第三项加第四项之和",
            )],
        )),
    );
    rejected.reason = "有 1 个错误".into();
    let outcomes = vec![
        outcome(
            "甲镇/一村.xlsx",
            Status::Accepted,
            "V1",
            Some(sub("V1", "一村", balanced(&f, 5.0), vec![])),
        ),
        outcome(
            "甲镇/二村.xlsx",
            Status::AcceptedWithWarnings,
            "V2",
            Some(sub(
                "V2",
                "二村",
                v2,
                vec![
                    finding(Level::Warning, "", "V-3", "-2 以外的数值异常偏大"),
                    finding(
                        Level::Warning,
                        "V2",
                        "T2-2",
                        "本年新公开数量大于对外公开总数量",
                    ),
                ],
            )),
        ),
        outcome(
            "甲镇.xlsx",
            Status::Accepted,
            "T1",
            Some(sub("T1", "甲镇", balanced(&f, 11.0), vec![])),
        ),
        rejected,
        dup,
        outcome(
            "教育局.xlsx",
            Status::Accepted,
            "D1",
            Some(sub("D1", EVIL, balanced(&f, 2.0), vec![])),
        ),
        outcome(
            "无名.xlsx",
            Status::Unidentified,
            "",
            Some(sub(
                "",
                "",
                BTreeMap::new(),
                vec![finding(Level::Error, "", "ID-1", "无法确定填报单位代码")],
            )),
        ),
        outcome(
            "外单位.xlsx",
            Status::UnknownUnit,
            "",
            Some(sub("X9", EVIL, balanced(&f, 1.0), vec![])),
        ),
        outcome("说明.docx", Status::Unsupported, "", None),
    ];
    (f, roster(), outcomes)
}

fn run(f: &Format, roster: Option<&Roster>, outcomes: &[FileOutcome], bom: bool) -> Outputs {
    write_all(f, roster, outcomes, bom).0
}

/// Header and rows, BOM stripped.
fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let header = rows.remove(0);
    (header, rows)
}

/// Rows as maps from column name to value.
fn records(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = parse(bytes);
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

fn find<'r>(
    rows: &'r [BTreeMap<String, String>],
    pairs: &[(&str, &str)],
) -> &'r BTreeMap<String, String> {
    let hits: Vec<_> = rows
        .iter()
        .filter(|r| pairs.iter().all(|(k, v)| r[*k] == *v))
        .collect();
    assert_eq!(hits.len(), 1, "{pairs:?}");
    hits[0]
}

#[test]
fn headers_and_row_counts() {
    let (f, roster, outcomes) = fixture();
    let out = run(&f, Some(&roster), &outcomes, true);
    let keys = f.keys().len();
    let findings: usize = outcomes
        .iter()
        .filter_map(submission_of)
        .map(|s| s.findings.len())
        .sum();
    let expect: [(&[u8], &[&str], usize); 5] = [
        (&out.values, VALUES_HEADER, 4 * keys), // V1, V2, T1, D1
        (&out.units, &units_header(&f), 7 + 2), // roster + unidentified + unknown
        (&out.rollup, ROLLUP_HEADER, 4 * keys), // ALL, C, T1, T2
        (&out.diagnostics, DIAGNOSTICS_HEADER, findings),
        (&out.files, FILES_HEADER, outcomes.len()),
    ];
    for (bytes, header, rows) in expect {
        let (h, r) = parse(bytes);
        assert_eq!(h, header);
        assert_eq!(r.len(), rows, "{header:?}");
        assert!(bytes.ends_with(b"\n") && !bytes.windows(2).any(|w| w == b"\r\n"));
    }
    // The columns README documents, from both official formats' key figures.
    for f in Formats::builtin().all() {
        assert_eq!(
            units_header(f)[10..],
            [
                "new_requests",
                "handled_total",
                "carried_over",
                "review_total",
                "litigation_total",
                "signed_on"
            ],
            "{}",
            f.id
        );
    }
    assert_eq!(ROLLUP_HEADER.len(), 18);
    assert!(ROLLUP_HEADER
        .windows(2)
        .any(|w| w == ["units_with_warnings", "units_rejected"]));
}

#[test]
fn bom_on_and_off() {
    let (f, roster, outcomes) = fixture();
    let on = run(&f, Some(&roster), &outcomes, true);
    let off = run(&f, Some(&roster), &outcomes, false);
    for ((name, with), (_, without)) in on.named().into_iter().zip(off.named()) {
        assert!(with.starts_with(b"\xEF\xBB\xBF"), "{name}");
        assert!(!without.starts_with(b"\xEF\xBB\xBF"), "{name}");
        let header = [
            VALUES_HEADER,
            &units_header(&f),
            ROLLUP_HEADER,
            DIAGNOSTICS_HEADER,
            FILES_HEADER,
        ];
        assert!(
            header
                .iter()
                .any(|h| without.starts_with(format!("{}\n", h.join(",")).as_bytes())),
            "{name}"
        );
        assert_eq!(&with[3..], without, "{name}");
    }
    assert!(CsvOptions::default().bom);
}

#[test]
fn neutralise_text_not_numbers() {
    for s in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
        assert_eq!(neutralise(s), format!("'{s}"));
    }
    for s in ["", "一村", "C8+C9", "'=x", "1-2"] {
        assert_eq!(neutralise(s), s);
    }
    let (f, roster, outcomes) = fixture();
    let out = run(&f, Some(&roster), &outcomes, true);
    let evil = format!("'{EVIL}");

    let values = records(&out.values);
    let d1 = find(
        &values,
        &[
            ("unit_code", "D1"),
            ("row_code", "new"),
            ("col_code", "total"),
        ],
    );
    assert_eq!(d1["unit_name"], evil);
    let change = find(
        &values,
        &[
            ("unit_code", "V2"),
            ("row_code", "license"),
            ("col_code", "change"),
        ],
    );
    assert_eq!(change["value"], "-2");
    let rollup = records(&out.rollup);
    let change = find(
        &rollup,
        &[
            ("parent_code", "T1"),
            ("row_code", "license"),
            ("col_code", "change"),
        ],
    );
    assert_eq!(change["value"], "-2");

    let units = records(&out.units);
    assert_eq!(find(&units, &[("unit_code", "D1")])["unit_name"], evil);
    assert_eq!(find(&units, &[("unit_code", "X9")])["unit_name"], evil);

    let diagnostics = records(&out.diagnostics);
    let v3 = find(&diagnostics, &[("rule", "V-3")]);
    assert_eq!(v3["message"], "'-2 以外的数值异常偏大");
    // The raw bytes never hold a cell that starts a formula.
    for (name, bytes) in out.named() {
        let (_, rows) = parse(bytes);
        for cell in rows.iter().flatten() {
            assert!(!cell.starts_with(['=', '+', '@']), "{name}: {cell}");
        }
    }
}

#[test]
fn ambiguous_column_labels_get_their_path() {
    let (f, roster, outcomes) = fixture();
    let values = records(&run(&f, Some(&roster), &outcomes, true).values);
    let label = |row: &str, col: &str| {
        find(
            &values,
            &[("unit_code", "V1"), ("row_code", row), ("col_code", col)],
        )["col_label"]
            .clone()
    };
    assert_eq!(label("all", "review_upheld"), "行政复议/结果维持");
    assert_eq!(
        label("all", "direct_upheld"),
        "行政诉讼/未经复议直接起诉/结果维持"
    );
    assert_eq!(label("all", "after_upheld"), "行政诉讼/复议后起诉/结果维持");
    assert_eq!(label("all", "after_total"), "行政诉讼/复议后起诉/总计");
    assert_eq!(
        label("license", "prev_items"),
        "第二十条第（五）项/上一年项目数量"
    );
    assert_eq!(
        label("fees", "prev_items"),
        "第二十条第（八）项/上一年项目数量"
    );
    assert_eq!(label("penalty", "change"), "第二十条第（六）项/本年增/减");
    // Unique labels stay as they are.
    assert_eq!(label("rules", "made"), "本年新制作数量");
    assert_eq!(label("procurement", "amount"), "采购总金额");
    assert_eq!(label("new", "natural"), "自然人");
    assert_eq!(label("new", "total"), "总计");
    let row = find(
        &values,
        &[
            ("unit_code", "V1"),
            ("row_code", "new"),
            ("col_code", "natural"),
        ],
    );
    assert_eq!(row["row_label"], "一、本年新收政府信息公开申请数量");
    assert_eq!(row["table"], "t3");
    assert_eq!(row["parent_code"], "T1");
    assert_eq!(row["year"], "2020");
}

#[test]
fn fields_are_labelled_as_fields() {
    let f2021 = Formats::builtin().by_id("2021").unwrap().clone();
    let mut values = balanced(&f2021, 1.0);
    values.insert(key("fee_amount"), 12.5);
    values.remove(&key("fee_cases"));
    let outcomes = vec![outcome(
        "a.xlsx",
        Status::Accepted,
        "V1",
        Some(sub("V1", "一村", values, vec![])),
    )];
    let rows = records(&run(&f2021, Some(&roster()), &outcomes, true).values);
    let fee = find(&rows, &[("table", "fields"), ("row_code", "fee_amount")]);
    assert_eq!(
        (
            fee["col_code"].as_str(),
            fee["col_label"].as_str(),
            fee["value"].as_str()
        ),
        ("value", "数值", "12.5")
    );
    assert_eq!(fee["row_label"], "收取信息处理费金额（元）");
    assert_eq!(find(&rows, &[("row_code", "fee_cases")])["value"], "");
    assert_eq!(rows.last().unwrap()["table"], "fields");
}

#[test]
fn rollups_sum_subtrees() {
    let (f, roster, outcomes) = fixture();
    let r = rollups(&f, &roster, &outcomes);
    let codes: Vec<(&str, usize)> = r.iter().map(|r| (r.code.as_str(), r.depth)).collect();
    assert_eq!(codes, [("ALL", 0), ("C", 1), ("T1", 2), ("T2", 2)]);
    assert_eq!(
        (r[0].name.as_str(), r[0].level.as_str()),
        (ALL_NAME, ALL_LEVEL)
    );
    assert_eq!(
        (r[2].name.as_str(), r[2].level.as_str()),
        ("甲镇", "township")
    );

    let new_total = key("t3.new.total");
    // 甲镇 = itself (11) + 一村 (5) + 二村 (7); the duplicate (99) is not counted.
    assert_eq!(r[2].values[&new_total], 23.0);
    assert_eq!(listed(&r[2].included), ["T1", "V1", "V2"]);
    assert!(r[2].missing.is_empty() && r[2].rejected.is_empty());
    // 乙镇 rejected, 三村 missing: nothing summed.
    assert!(r[3].values.is_empty());
    assert!(r[3].included.is_empty());
    // 未报送 is no file at all; a rejected unit is listed (and counted) as rejected only.
    assert_eq!(listed(&r[3].missing), ["V3"]);
    assert_eq!(listed(&r[3].rejected), ["T2"]);
    assert_eq!(
        (
            r[3].tally.expected,
            r[3].tally.received,
            r[3].tally.rejected,
            r[3].tally.missing
        ),
        (2, 1, 1, 1)
    );
    // Everything accepted: 11 + 5 + 7 + 2; the unknown unit's file is not in the roster.
    for all in [&r[0], &r[1]] {
        assert_eq!(all.values[&new_total], 25.0);
        assert_eq!(all.values[&key("t2.license.change")], -2.0);
        assert_eq!(listed(&all.included), ["T1", "V1", "V2", "D1"]);
        assert_eq!(listed(&all.missing), ["C", "V3"]);
        assert_eq!(listed(&all.rejected), ["T2"]);
        let t = all.tally;
        assert_eq!(t.expected, t.accepted + t.rejected + t.other + t.missing);
        assert_eq!((t.expected, t.accepted), (7, 4));
    }

    let rows = records(&run(&f, Some(&roster), &outcomes, true).rollup);
    let t1 = find(
        &rows,
        &[
            ("parent_code", "T1"),
            ("row_code", "new"),
            ("col_code", "total"),
        ],
    );
    assert_eq!(t1["value"], "23");
    assert_eq!(
        (
            t1["units_included"].as_str(),
            t1["units_missing"].as_str(),
            t1["units_rejected"].as_str()
        ),
        ("3", "0", "0")
    );
    let t2 = find(
        &rows,
        &[
            ("parent_code", "T2"),
            ("row_code", "new"),
            ("col_code", "total"),
        ],
    );
    assert_eq!(
        (
            t2["value"].as_str(),
            t2["units_included"].as_str(),
            t2["units_missing"].as_str(),
            t2["units_rejected"].as_str()
        ),
        ("", "0", "1", "1")
    );
    let all = find(
        &rows,
        &[
            ("parent_code", "ALL"),
            ("row_code", "new"),
            ("col_code", "total"),
        ],
    );
    assert_eq!(
        (
            all["parent_name"].as_str(),
            all["depth"].as_str(),
            all["value"].as_str()
        ),
        (ALL_NAME, "0", "25")
    );
}

#[test]
fn units_status_and_key_figures() {
    let (f, roster, outcomes) = fixture();
    let rows = records(&run(&f, Some(&roster), &outcomes, true).units);
    let order: Vec<&str> = rows.iter().map(|r| r["unit_code"].as_str()).collect();
    assert_eq!(order, ["C", "T1", "V1", "V2", "T2", "V3", "D1", "", "X9"]);
    let status = |code: &str| find(&rows, &[("unit_code", code)])["status"].clone();
    assert_eq!(status("C"), "missing");
    assert_eq!(status("V1"), "accepted");
    assert_eq!(status("V2"), "accepted_with_warnings");
    assert_eq!(status("T2"), "rejected");
    assert_eq!(status("X9"), "unknown_unit");
    assert_eq!(status(""), "unidentified");

    let v1 = find(&rows, &[("unit_code", "V1")]);
    assert_eq!(v1["file"], "甲镇/一村.xlsx");
    assert_eq!(v1["parent_code"], "T1");
    assert_eq!(v1["level"], "village");
    let figures = [
        "errors",
        "warnings",
        "fixes",
        "new_requests",
        "handled_total",
        "carried_over",
        "review_total",
        "litigation_total",
    ];
    let got: Vec<&str> = figures.iter().map(|c| v1[*c].as_str()).collect();
    assert_eq!(got, ["0", "0", "0", "5", "5", "1", "4", "5"]);
    let t2 = find(&rows, &[("unit_code", "T2")]);
    assert_eq!(
        (t2["errors"].as_str(), t2["new_requests"].as_str()),
        ("1", "3")
    );
    let v2 = find(&rows, &[("unit_code", "V2")]);
    assert_eq!(v2["warnings"], "2");
    let c = find(&rows, &[("unit_code", "C")]);
    assert!(figures.iter().all(|col| c[*col].is_empty()) && c["file"].is_empty());
    let unknown = find(&rows, &[("unit_code", "X9")]);
    assert_eq!(
        (
            unknown["file"].as_str(),
            unknown["parent_code"].as_str(),
            unknown["new_requests"].as_str()
        ),
        ("外单位.xlsx", "", "")
    );
}

#[test]
fn only_a_rejected_file_means_rejected() {
    let f = format();
    let outcomes = vec![
        outcome(
            "b.xlsx",
            Status::WrongYear,
            "V1",
            Some(sub("V1", "一村", BTreeMap::new(), vec![])),
        ),
        outcome(
            "a.xlsx",
            Status::Rejected,
            "V1",
            Some(sub("V1", "一村", BTreeMap::new(), vec![])),
        ),
        outcome(
            "c.xlsx",
            Status::Duplicate,
            "V3",
            Some(sub("V3", "三村", BTreeMap::new(), vec![])),
        ),
    ];
    let rows = records(&run(&f, Some(&roster()), &outcomes, true).units);
    let v1 = find(&rows, &[("unit_code", "V1")]);
    assert_eq!(
        (v1["status"].as_str(), v1["file"].as_str()),
        ("rejected", "a.xlsx")
    );
    assert_eq!(find(&rows, &[("unit_code", "V3")])["status"], "missing");
}

#[test]
fn diagnostics_sorted_with_unit_fallback() {
    let (f, roster, outcomes) = fixture();
    let rows = records(&run(&f, Some(&roster), &outcomes, true).diagnostics);
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["unit_code"].as_str(),
                r["file"].as_str(),
                r["rule"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("", "无名.xlsx", "ID-1"),
            ("T2", "乙镇.xlsx", "T3-1"),
            ("V1", "甲镇/一村(1).xlsx", "N-1"),
            ("V2", "甲镇/二村.xlsx", "T2-2"),
            ("V2", "甲镇/二村.xlsx", "V-3"),
        ]
    );
    let v3 = find(&rows, &[("rule", "V-3")]);
    assert_eq!(
        (
            v3["unit_name"].as_str(),
            v3["level"].as_str(),
            v3["sheet"].as_str(),
            v3["cell"].as_str()
        ),
        ("二村", "warning", "表三 依申请公开", "C8")
    );
}

#[test]
fn files_one_row_per_outcome() {
    let (f, roster, outcomes) = fixture();
    for n in 0..=outcomes.len() {
        let out = run(&f, Some(&roster), &outcomes[..n], true);
        assert_eq!(parse(&out.files).1.len(), n);
    }
    let rows = records(&run(&f, Some(&roster), &outcomes, true).files);
    let files: Vec<&str> = rows.iter().map(|r| r["file"].as_str()).collect();
    let given: Vec<&str> = outcomes.iter().map(|o| o.file.as_str()).collect();
    assert_eq!(files, given);
    let dup = find(&rows, &[("status", "duplicate")]);
    assert_eq!(
        (dup["chosen"].as_str(), dup["unit_code"].as_str()),
        ("甲镇/一村.xlsx", "V1")
    );
    assert_eq!(
        find(&rows, &[("status", "rejected")])["reason"],
        "有 1 个错误"
    );
    assert_eq!(find(&rows, &[("status", "unsupported")])["chosen"], "");
}

#[test]
fn deterministic() {
    let (f, roster, outcomes) = fixture();
    assert_eq!(
        run(&f, Some(&roster), &outcomes, true),
        run(&f, Some(&roster), &outcomes, true)
    );
    assert_eq!(
        rollups(&f, &roster, &outcomes),
        rollups(&f, &roster, &outcomes)
    );
}

#[test]
fn without_a_roster() {
    let f = format();
    let outcomes = vec![
        outcome(
            "b.xlsx",
            Status::Accepted,
            "B",
            Some(sub("B", "乙", balanced(&f, 2.0), vec![])),
        ),
        outcome(
            "a.xlsx",
            Status::Accepted,
            "",
            Some(sub("A", "甲", balanced(&f, 3.0), vec![])),
        ),
    ];
    let out = run(&f, None, &outcomes, true);
    let values = records(&out.values);
    // Units by code (the file order is b, a), the code from the workbook when the
    // outcome has none.
    assert_eq!(values[0]["unit_code"], "A");
    assert_eq!(values.last().unwrap()["unit_code"], "B");
    assert_eq!(values[0]["unit_name"], "甲");
    let rollup = records(&out.rollup);
    assert_eq!(rollup.len(), f.keys().len());
    let all = find(&rollup, &[("row_code", "new"), ("col_code", "total")]);
    assert_eq!(
        (
            all["parent_code"].as_str(),
            all["units_included"].as_str(),
            all["value"].as_str()
        ),
        ("ALL", "2", "5")
    );
    assert_eq!(records(&out.units).len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// When every unit's 表三 balances (new + carried = total + carry_next in every
    /// column), so does every roll-up; and ALL is the sum of the accepted units.
    #[test]
    fn rollups_keep_the_balance(
        units in proptest::collection::vec((0u8..4, proptest::collection::vec((0u32..500, 0u32..500, 0u32..1000), 7)), 7)
    ) {
        let f = format();
        let roster = roster();
        let cols: Vec<String> = f.table("t3").unwrap().blocks[0].columns.iter().map(|c| c.code.clone()).collect();
        let mut outcomes = Vec::new();
        let mut expected: BTreeMap<Key, f64> = BTreeMap::new();
        for ((unit, _), (state, columns)) in roster.walk().iter().zip(&units) {
            let mut values = BTreeMap::new();
            for (col, (new, carried, next)) in cols.iter().zip(columns) {
                let carry_next = (*next % (new + carried + 1)) as f64;
                set_column(&mut values, col, *new as f64, *carried as f64, carry_next);
            }
            let status = match state {
                0 => continue,
                1 => Status::Rejected,
                2 => Status::Accepted,
                _ => Status::AcceptedWithWarnings,
            };
            if status.is_accepted() {
                for (k, v) in &values {
                    *expected.entry(k.clone()).or_insert(0.0) += v;
                }
            }
            let code = unit.code.as_str();
            outcomes.push(outcome(&format!("{code}.xlsx"), status, code, Some(sub(code, &unit.name, values, vec![]))));
        }
        let all = rollups(&f, &roster, &outcomes);
        prop_assert_eq!(&all[0].values, &expected);
        for r in &all {
            prop_assert_eq!(r.included.len() + r.missing.len() + r.rejected.len() + r.other.len(), if r.code == "ALL" { 7 } else { roster.descendants(&crate::model::UnitCode::new(&r.code).unwrap()).len() + 1 });
            for col in &cols {
                let v = |row: &str| r.values.get(&Key::cell("t3", row, col)).copied();
                if r.included.is_empty() {
                    prop_assert!(v("new").is_none());
                    continue;
                }
                let (new, carried, total, next) = (v("new").unwrap(), v("carried").unwrap(), v("total").unwrap(), v("carry_next").unwrap());
                prop_assert_eq!(new + carried, total + next);
            }
        }
    }
}

/// A roll-up's list of codes, to compare with literals.
fn listed(list: &[std::sync::Arc<str>]) -> Vec<&str> {
    list.iter().map(|c| &**c).collect()
}
