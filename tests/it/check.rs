//! `nianbao check`: filled workbooks are generated from readable descriptions, with the
//! expected findings written beside them as `(level, rule, cell)`.
//!
//! Cell addresses are those of the 2019 template layout (see the layout snapshots):
//! 表三 rows 8 一、本年新收 · 9 二、上年结转 · 10 （一）予以公开 · 29 （七）总计 ·
//! 30 四、结转; column E 自然人 … K 总计. 表二 row 7 规章 (C/D/E), row 13 行政许可.
//! 表四 row 8: B–F 行政复议, G–K 直接起诉, L–P 复议后起诉.

use crate::common::*;

fn s(level: &str, rule: &str, cell: &str) -> (String, String, String) {
    (level.to_string(), rule.to_string(), cell.to_string())
}

/// Findings other than `fixed`, for cases that are about errors and warnings.
fn problems(path: &std::path::Path) -> Vec<(String, String, String)> {
    summary(&findings(path))
        .into_iter()
        .filter(|f| f.0 != "fixed")
        .collect()
}

#[test]
fn the_seed_unit_checks_clean() {
    let scratch = Scratch::new();
    let path = Filled::new(2020).write(&scratch, "山市镇.xlsx");
    let (code, out) = check(&[&path], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("山市镇人民政府（110），2020 年度，2019 格式（按模板隐藏标识识别）"),
        "{out}"
    );
    assert!(
        out.contains("结果：通过。0 个错误，0 个警告，0 处已自动修正。"),
        "{out}"
    );
}

#[test]
fn a_balanced_report_in_both_formats_is_accepted() {
    let scratch = Scratch::new();
    // 5 new + 1 carried = 4 handled + 2 carried on, in the 自然人 column.
    let values: &[(&str, f64)] = &[
        ("t3.new.natural", 5.0),
        ("t3.carried.natural", 1.0),
        ("t3.open.natural", 3.0),
        ("t3.deny_secret.natural", 1.0),
        ("t3.carry_next.natural", 2.0),
        ("t2.rules.made", 2.0),
        ("t4.all.review_upheld", 1.0),
    ];
    for year in [2020, 2024] {
        let mut filled = Filled::new(year);
        filled.values = values;
        let path = filled.write(&scratch, &format!("ok_{year}.xlsx"));
        assert_eq!(problems(&path), [], "{year}");
    }
}

#[test]
fn t3_1_unbalanced_column_names_all_four_cells() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 5.0), ("t3.open.natural", 3.0)];
    let path = filled.write(&scratch, "t31.xlsx");
    assert_eq!(problems(&path), [s("error", "T3-1", "E8+E9 ≠ E29+E30")]);
    let f = &findings(&path)[0];
    assert_eq!(f["sheet"], "表三 依申请公开");
    assert_eq!(f["found"], "5（E8+E9）");
    assert_eq!(f["expected"], "= 3（E29+E30）");
    assert!(f["message"].as_str().unwrap().starts_with("「自然人」列："));
    assert_eq!(f["unit_code"], "110");
    let (code, _) = check(&[&path], &[]);
    assert_eq!(code, 1);
}

#[test]
fn an_overwritten_total_disagrees_with_its_parts() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[
        ("t3.new.natural", 2.0),
        ("t3.open.natural", 2.0),
        ("t4.all.review_upheld", 1.0),
    ];
    let path = filled.write(&scratch, "in.xlsx");
    // The clerk unprotected the sheet and typed over three totals.
    let mut sheets = plain_sheets(&path);
    let t3 = sheets
        .iter_mut()
        .find(|s| s.name == "表三 依申请公开")
        .unwrap();
    t3.cells.insert((7, 10), calamine::Data::Float(9.0)); // K8: 一 row total
    let t4 = sheets
        .iter_mut()
        .find(|s| s.name == "表四 复议诉讼")
        .unwrap();
    t4.cells.insert((7, 5), calamine::Data::Float(4.0)); // F8: 行政复议 总计
    let out = scratch.path("overwritten.xlsx");
    write_plain(&sheets, &out);
    // Each overwritten total is named once, by its own rule; T3-1 over the 总计 column
    // would only repeat it.
    assert_eq!(
        problems(&out),
        [
            s("error", "T3-3", "K8 ≠ E8+F8+G8+H8+I8+J8"),
            s("error", "T4-1", "F8 ≠ B8+C8+D8+E8")
        ]
    );
}

#[test]
fn totals_saved_without_results_are_recomputed() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 4.0), ("t3.open.natural", 4.0)];
    let path = filled.write(&scratch, "in.xlsx");
    // A program that does not store formula results: every total cell is empty.
    let mut sheets = plain_sheets(&path);
    let t3 = sheets
        .iter_mut()
        .find(|s| s.name == "表三 依申请公开")
        .unwrap();
    t3.cells
        .retain(|(r, c), _| !((*r >= 7 && *c == 10) || (*r == 28 && *c >= 4)));
    let out = scratch.path("no_results.xlsx");
    write_plain(&sheets, &out);
    assert_eq!(problems(&out), []);
}

#[test]
fn value_kinds_reject_what_is_not_a_number_of_its_kind() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.raw = &[
        ("t2.rules.made", "十二"),
        ("t2.rules.published", "3.5"),
        ("t2.rules.total_public", "-1"),
        ("t2.license.change", "-2"),
    ];
    let path = filled.write(&scratch, "kinds.xlsx");
    let all = findings(&path);
    let got = summary(&all);
    assert!(got.contains(&s("error", "V-1", "C7")), "{got:?}");
    assert!(got.contains(&s("error", "V-1", "D7")), "{got:?}");
    assert!(got.contains(&s("error", "V-1", "E7")), "{got:?}");
    // 本年增/减 may be negative: typed as text, it is fixed, not rejected.
    assert!(got.contains(&s("fixed", "N-1", "D13")), "{got:?}");
    assert!(
        !got.iter().any(|f| f.2 == "D13" && f.0 == "error"),
        "{got:?}"
    );
    let c7 = all.iter().find(|f| f["cell"] == "C7").unwrap();
    assert_eq!(c7["found"], "十二");
    assert_eq!(c7["expected"], "不小于 0 的整数");
    assert!(c7["message"].as_str().unwrap().contains("规章"), "{c7}");
}

#[test]
fn what_people_type_is_normalised_and_each_fix_recorded() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.raw = &[
        ("t3.new.natural", "１２"),
        ("t3.open.natural", "1,2"),
        ("t3.open.business", "—"),
        ("t3.carried.natural", ""),
        ("t2.procurement.amount", "25.1万元"),
        ("t2.rules.made", "3.0"),
    ];
    filled.values = &[("t3.open.natural", 12.0)];
    let path = filled.write(&scratch, "typed.xlsx");
    let all = findings(&path);
    let got = summary(&all);
    // "1,2" is not a thousands separator: rejected, so T3-1 for 自然人 is not evaluated.
    assert!(got.contains(&s("error", "V-1", "E10")), "{got:?}");
    assert!(got.contains(&s("fixed", "N-1", "E8")), "{got:?}");
    assert!(got.contains(&s("fixed", "N-1", "F10")), "{got:?}");
    assert!(got.contains(&s("fixed", "V-2", "E9")), "{got:?}");
    assert!(got.contains(&s("fixed", "N-1", "C7")), "{got:?}");
    let amount = all
        .iter()
        .find(|f| f["cell"] == "D31" || f["message"].as_str().unwrap().contains("采购总金额"))
        .unwrap();
    assert_eq!(amount["expected"], "251000");
    assert!(!got.iter().any(|f| f.1 == "T3-1"), "{got:?}");
}

#[test]
fn table_two_and_text_rules_warn() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t2.rules.published", 5.0), ("t2.rules.total_public", 3.0)];
    filled.texts = &[("overview", "总体情况。")];
    let path = filled.write(&scratch, "warn.xlsx");
    let got = problems(&path);
    assert!(got.contains(&s("warning", "T2-2", "D7 > E7")), "{got:?}");
    assert!(
        got.iter().any(|f| f.1 == "TX-5" && f.0 == "warning"),
        "{got:?}"
    );
    let (code, out) = check(&[&path], &[]);
    assert_eq!(code, 0, "warnings alone do not reject: {out}");
    assert!(out.contains("通过（有警告）"), "{out}");
}

#[test]
fn tx_4_fee_not_paid_but_no_fee_reported_2021() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2022);
    filled.values = &[("t3.new.natural", 1.0), ("t3.other_unpaid.natural", 1.0)];
    let path = filled.write(&scratch, "fee.xlsx");
    let got = problems(&path);
    assert_eq!(got.iter().filter(|f| f.1 == "TX-4").count(), 1, "{got:?}");
    filled.values = &[
        ("t3.new.natural", 1.0),
        ("t3.other_unpaid.natural", 1.0),
        ("fee_cases", 1.0),
        ("fee_amount", 120.0),
    ];
    let path = filled.write(&scratch, "fee_ok.xlsx");
    assert_eq!(problems(&path), []);
}

#[test]
fn y_1_format_must_match_the_year() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2022);
    filled.format = Some("2019");
    let path = filled.write(&scratch, "old_format.xlsx");
    let got = problems(&path);
    assert!(
        got.iter().any(|f| f.0 == "error" && f.1 == "Y-1"),
        "{got:?}"
    );
}

#[test]
fn absurd_magnitudes_warn() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[
        ("t3.new.natural", 10_000_000.0),
        ("t3.open.natural", 10_000_000.0),
    ];
    let path = filled.write(&scratch, "big.xlsx");
    let got = problems(&path);
    assert!(got.contains(&s("warning", "V-3", "E8")), "{got:?}");
}

fn balanced() -> Filled<'static> {
    let mut f = Filled::new(2020);
    f.values = &[
        ("t3.new.natural", 7.0),
        ("t3.open.natural", 6.0),
        ("t3.carry_next.natural", 1.0),
        ("t3.new.legal", 2.0),
        ("t3.open.legal", 1.0),
        ("t3.carry_next.legal", 1.0),
    ];
    f
}

#[test]
fn inserted_rows_shift_nothing_into_the_wrong_cell() {
    let scratch = Scratch::new();
    let path = balanced().write(&scratch, "in.xlsx");
    let mut sheets = plain_sheets(&path);
    let t3 = sheets
        .iter_mut()
        .find(|s| s.name == "表三 依申请公开")
        .unwrap();
    insert_rows(t3, 9, 2); // two rows inserted above （一）予以公开
    t3.cells.insert(
        (9, 1),
        calamine::Data::String("备注：本行为手工插入".into()),
    );
    t3.cells.insert((9, 4), calamine::Data::Float(99.0));
    // Type over one part (the totals keep their old results) to see the addresses named.
    t3.cells.insert((12, 8), calamine::Data::Float(3.0)); // I13: （一）予以公开 × 法律服务机构, was I10
    let out = scratch.path("inserted.xlsx");
    write_plain(&sheets, &out);
    let got = problems(&out);
    let parts: Vec<String> = (12..=30).map(|r| format!("I{r}")).collect();
    assert_eq!(
        got,
        [
            s("error", "T3-2", &format!("I31 ≠ {}", parts.join("+"))),
            s("error", "T3-3", "K13 ≠ E13+F13+G13+H13+I13+J13"),
        ],
        "the 99 typed in the inserted row counts nowhere"
    );
}

#[test]
fn renamed_reordered_and_extra_sheets_change_nothing() {
    let scratch = Scratch::new();
    let path = balanced().write(&scratch, "in.xlsx");
    let mut sheets = plain_sheets(&path);
    sheets.reverse();
    for (i, s) in sheets.iter_mut().enumerate() {
        if s.name != "_nianbao" {
            s.name = format!("Sheet{i}");
        }
    }
    sheets.insert(
        0,
        PlainSheet {
            name: "说明".into(),
            cells: [((0, 0), calamine::Data::String("自然人".into()))].into(),
        },
    );
    let out = scratch.path("renamed.xlsx");
    write_plain(&sheets, &out);
    assert_eq!(problems(&out), []);
}

#[test]
fn lost_keys_fall_back_to_cover_and_labels() {
    let scratch = Scratch::new();
    let mut filled = balanced();
    filled.values = &[
        ("t3.new.natural", 7.0),
        ("t3.open.natural", 5.0),
        ("t3.carry_next.natural", 1.0),
        ("t4.all.after_upheld", 2.0),
        ("t2.license.decisions", 4.0),
    ];
    let path = filled.write(&scratch, "in.xlsx");
    // Values pasted into a copy without the hidden column and the identity sheet.
    let mut sheets = plain_sheets(&path);
    sheets.retain(|s| s.name != "_nianbao");
    for s in &mut sheets {
        delete_column(s, 0);
    }
    let out = scratch.path("no_keys.xlsx");
    write_plain(&sheets, &out);
    let all = findings(&out);
    let got = summary(&all);
    // Columns moved one to the left: 自然人 is now D.
    assert_eq!(
        got.iter()
            .filter(|f| f.0 != "fixed")
            .cloned()
            .collect::<Vec<_>>(),
        [s("error", "T3-1", "D8+D9 ≠ D29+D30")]
    );
    let (_, text) = check(&[&out], &[]);
    assert!(
        text.contains("按封面填写的单位信息识别，部分表格按标签定位"),
        "{text}"
    );
    assert!(text.contains("山市镇人民政府（110），2020 年度"), "{text}");
}

#[test]
fn a_missing_row_is_an_error_not_a_guess() {
    let scratch = Scratch::new();
    let path = balanced().write(&scratch, "in.xlsx");
    let mut sheets = plain_sheets(&path);
    let t3 = sheets
        .iter_mut()
        .find(|s| s.name == "表三 依申请公开")
        .unwrap();
    t3.cells.retain(|(r, _), _| *r != 10); // the （二）部分公开 row deleted
    let out = scratch.path("row_deleted.xlsx");
    write_plain(&sheets, &out);
    let all = findings(&out);
    let located: Vec<&serde_json::Value> = all.iter().filter(|f| f["rule"] == "L-1").collect();
    assert_eq!(located.len(), 1, "{all:?}");
    assert!(
        located[0]["message"]
            .as_str()
            .unwrap()
            .contains("（二）部分公开"),
        "{:?}",
        located[0]
    );
}

#[test]
fn unreadable_files_get_a_reason_and_the_others_still_check() {
    let scratch = Scratch::new();
    let good = balanced().write(&scratch, "good.xlsx");
    let empty = scratch.write("empty.xlsx", b"");
    let html = scratch.write(
        "page.xls",
        "<html><body><table><tr><td>1</td></tr></table></body></html>",
    );
    let missing = scratch.path("missing.xlsx");
    let (code, out) = check(&[&empty, &html, &missing, &good], &[]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("F-1").count(), 3, "{out}");
    assert!(out.contains("0 字节"), "{out}");
    assert!(out.contains("网页"), "{out}");
    assert!(out.contains("good.xlsx — 山市镇人民政府（110）"), "{out}");
}

#[test]
fn json_lines_carry_every_field() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 1.0)];
    let path = filled.write(&scratch, "j.xlsx");
    let all = findings(&path);
    assert!(!all.is_empty());
    for f in &all {
        for key in [
            "level",
            "rule",
            "unit_code",
            "unit_name",
            "file",
            "sheet",
            "cell",
            "message",
            "found",
            "expected",
            "hint",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        assert!(f["file"].as_str().unwrap().ends_with("j.xlsx"));
    }
}

#[test]
fn what_a_clerk_sees_for_a_typical_mistake() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 5.0), ("t3.open.natural", 3.0)];
    filled.raw = &[("t3.new.business", "１"), ("t3.open.business", "一")];
    let path = filled.write(&scratch, "山市镇年报(1).xlsx");
    let out = nianbao()
        .current_dir(scratch.dir.path())
        .args(["check", "山市镇年报(1).xlsx"])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
    let _ = path;
}

#[test]
fn a_grand_total_over_recomputed_totals_is_recomputed_too() {
    // Text in a part: Excel's SUM skips it, so the row total, the column total and the
    // grand total all show one less; all three are recomputed, none is an error.
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 1.0)];
    filled.raw = &[("t3.open.natural", "１")];
    let path = filled.write(&scratch, "grand.xlsx");
    let got = summary(&findings(&path));
    assert_eq!(got.iter().filter(|f| f.0 == "error").count(), 0, "{got:?}");
    for total in ["E29", "K10", "K29"] {
        assert!(
            got.contains(&s("fixed", "N-1", total)),
            "{total} recomputed: {got:?}"
        );
    }
}
