//! `nianbao check`: filled workbooks are generated from readable descriptions, with the
//! expected findings written beside them as `(level, rule, cell)`.
//!
//! Cells are named by key (`t3.new.natural`); their addresses come from the template
//! layout (`a1`, `a1_sum` in common.rs). In a clerk's own edited copy they are the
//! template's, moved as far as the edit moved them (`a1_moved`).

use crate::common::*;

fn s(level: &str, rule: &str, cell: &str) -> (String, String, String) {
    (level.to_string(), rule.to_string(), cell.to_string())
}

/// The columns of 表三 that its 总计 column adds up.
const T3_COLUMNS: [&str; 6] = [
    "natural", "business", "research", "charity", "legal", "other",
];

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
    let lhs = a1_sum(2020, &["t3.new.natural", "t3.carried.natural"]);
    let rhs = a1_sum(2020, &["t3.total.natural", "t3.carry_next.natural"]);
    assert_eq!(
        problems(&path),
        [s("error", "T3-1", &format!("{lhs} ≠ {rhs}"))]
    );
    let f = &findings(&path)[0];
    assert_eq!(f["sheet"], "表三 依申请公开");
    assert_eq!(f["found"], format!("5（{lhs}）"));
    assert_eq!(f["expected"], format!("等于 3（{rhs}）"));
    assert!(f["message"].as_str().unwrap().ends_with("（相差 2）"));
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
    let t3 = sheet_mut(&mut sheets, "表三 依申请公开");
    t3.cells
        .insert(pos(2020, "t3.new.total"), calamine::Data::Float(9.0)); // 一 row total
    let t4 = sheet_mut(&mut sheets, "表四 复议诉讼");
    t4.cells
        .insert(pos(2020, "t4.all.review_total"), calamine::Data::Float(4.0)); // 行政复议 总计
    let out = scratch.path("overwritten.xlsx");
    write_plain(&sheets, &out);
    // Each overwritten total is named once, by its own rule; T3-1 over the 总计 column
    // would only repeat it.
    let new_parts = T3_COLUMNS.map(|c| format!("t3.new.{c}"));
    let review_parts =
        ["upheld", "corrected", "other", "pending"].map(|c| format!("t4.all.review_{c}"));
    assert_eq!(
        problems(&out),
        [
            s(
                "error",
                "T3-3",
                &format!(
                    "{} ≠ {}",
                    a1(2020, "t3.new.total"),
                    a1_sum(2020, &new_parts)
                )
            ),
            s(
                "error",
                "T4-1",
                &format!(
                    "{} ≠ {}",
                    a1(2020, "t4.all.review_total"),
                    a1_sum(2020, &review_parts)
                )
            )
        ]
    );
}

#[test]
fn totals_saved_without_results_are_recomputed() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 4.0), ("t3.open.natural", 4.0)];
    let path = filled.write(&scratch, "in.xlsx");
    // A program that does not store formula results: every total cell is empty (the 总计
    // column from 一 down, the （七）总计 row).
    let mut sheets = plain_sheets(&path);
    let t3 = sheet_mut(&mut sheets, "表三 依申请公开");
    let (first_row, total_col) = pos(2020, "t3.new.total");
    let (total_row, first_col) = pos(2020, "t3.total.natural");
    t3.cells.retain(|(r, c), _| {
        !((*r >= first_row && *c == total_col) || (*r == total_row && *c >= first_col))
    });
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
    for key in [
        "t2.rules.made",
        "t2.rules.published",
        "t2.rules.total_public",
    ] {
        assert!(
            got.contains(&s("error", "V-1", &a1(2020, key))),
            "{key}: {got:?}"
        );
    }
    // 本年增/减 may be negative: typed as text, it is fixed, not rejected.
    let change = a1(2020, "t2.license.change");
    assert!(got.contains(&s("fixed", "N-1", &change)), "{got:?}");
    assert!(
        !got.iter().any(|f| f.2 == change && f.0 == "error"),
        "{got:?}"
    );
    let made = all
        .iter()
        .find(|f| f["cell"] == a1(2020, "t2.rules.made"))
        .unwrap();
    assert_eq!(made["found"], "十二");
    assert_eq!(made["expected"], "不小于 0 的整数");
    assert!(made["message"].as_str().unwrap().contains("规章"), "{made}");
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
    for (level, rule, key) in [
        ("error", "V-1", "t3.open.natural"),
        ("fixed", "N-1", "t3.new.natural"),
        ("fixed", "N-1", "t3.open.business"),
        ("fixed", "V-2", "t3.carried.natural"),
        ("fixed", "N-1", "t2.rules.made"),
    ] {
        assert!(
            got.contains(&s(level, rule, &a1(2020, key))),
            "{key}: {got:?}"
        );
    }
    let amount = all
        .iter()
        .find(|f| {
            f["cell"] == a1(2020, "t2.procurement.amount")
                || f["message"].as_str().unwrap().contains("采购总金额")
        })
        .unwrap();
    assert_eq!(amount["expected"], "251000");
    assert!(!got.iter().any(|f| f.1 == "T3-1"), "{got:?}");
}

#[test]
fn table_two_and_text_rules_warn() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t2.rules.published", 5.0), ("t2.rules.total_public", 3.0)];
    let path = filled.write(&scratch, "warn.xlsx");
    let got = problems(&path);
    let t2_2 = format!(
        "{} > {}",
        a1(2020, "t2.rules.published"),
        a1(2020, "t2.rules.total_public")
    );
    assert_eq!(got, [s("warning", "T2-2", &t2_2)]);
    let (code, out) = check(&[&path], &[]);
    assert_eq!(code, 0, "warnings alone do not reject: {out}");
    assert!(out.contains("通过（有警告）"), "{out}");
    // Without 五 and the opening paragraph: 五 is required (the template says “不能为空”),
    // the opening only recommended.
    filled.texts = &[("overview", "总体情况。")];
    let path = filled.write(&scratch, "no_problems.xlsx");
    let got = problems(&path);
    assert!(
        got.contains(&s("error", "TX-5", &a1(2020, "section:problems"))),
        "{got:?}"
    );
    assert!(
        got.contains(&s("warning", "TX-0", &a1(2020, "section:opening"))),
        "{got:?}"
    );
    let (code, out) = check(&[&path], &[]);
    assert_eq!(code, 1, "{out}");
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
    assert!(
        got.contains(&s("warning", "V-3", &a1(2020, "t3.new.natural"))),
        "{got:?}"
    );
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
    let t3 = sheet_mut(&mut sheets, "表三 依申请公开");
    // Two rows inserted above （一）予以公开: from there down, every cell is two rows lower.
    let (open_row, natural_col) = pos(2020, "t3.open.natural");
    let inserted = 2;
    insert_rows(t3, open_row, inserted);
    t3.cells.insert(
        (open_row, layout::FIRST_COL),
        calamine::Data::String("备注：本行为手工插入".into()),
    );
    t3.cells
        .insert((open_row, natural_col), calamine::Data::Float(99.0));
    // Type over one part (the totals keep their old results) to see the addresses named:
    // （一）予以公开 × 法律服务机构, two rows lower than in the template.
    let (legal_row, legal_col) = pos(2020, "t3.open.legal");
    t3.cells.insert(
        (legal_row + inserted, legal_col),
        calamine::Data::Float(3.0),
    );
    let out = scratch.path("inserted.xlsx");
    write_plain(&sheets, &out);
    let all = findings(&out);
    let got: Vec<_> = summary(&all)
        .into_iter()
        .filter(|f| f.0 != "fixed")
        .collect();
    // The 法律服务机构 column's 办理结果: every row from （一） to （六）.
    let results: Vec<String> = format_of(2020).table("t3").unwrap().blocks[0]
        .rows
        .iter()
        .map(|r| r.code.as_str())
        .skip_while(|r| *r != "open")
        .take_while(|r| *r != "total")
        .map(|r| format!("t3.{r}.legal"))
        .collect();
    let moved = (inserted as i32, 0);
    let open_parts = T3_COLUMNS.map(|c| format!("t3.open.{c}"));
    assert_eq!(
        got,
        [
            s(
                "error",
                "T3-2",
                &format!(
                    "{} ≠ {}",
                    a1_moved(2020, "t3.total.legal", moved),
                    a1_sum_moved(2020, &results, moved)
                )
            ),
            s(
                "error",
                "T3-3",
                &format!(
                    "{} ≠ {}",
                    a1_moved(2020, "t3.open.total", moved),
                    a1_sum_moved(2020, &open_parts, moved)
                )
            ),
            // The 99 typed in the inserted row counts nowhere: a warning where it is.
            s("warning", "V-4", &a1_at(open_row, natural_col)),
        ],
        "the 99 typed in the inserted row counts nowhere"
    );
    // Named in words too: the table, the label typed beside it and the column.
    let stray = all.iter().find(|f| f["rule"] == "V-4").unwrap();
    let message = stray["message"].as_str().unwrap();
    assert!(
        message.starts_with("表三「备注：本行为手工插入」行「申请人情况/自然人」列：")
            && message.contains("不计入统计"),
        "{message}"
    );
    assert_eq!(stray["found"], "99");
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
    // Columns moved one to the left (自然人 is one letter earlier than in the template).
    let moved = (0, -1);
    let t3_1 = format!(
        "{} ≠ {}",
        a1_sum_moved(2020, &["t3.new.natural", "t3.carried.natural"], moved),
        a1_sum_moved(2020, &["t3.total.natural", "t3.carry_next.natural"], moved)
    );
    assert_eq!(
        got.iter()
            .filter(|f| f.0 != "fixed")
            .cloned()
            .collect::<Vec<_>>(),
        [s("error", "T3-1", &t3_1)]
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
    let t3 = sheet_mut(&mut sheets, "表三 依申请公开");
    let (partial_row, _) = pos(2020, "t3.partial.natural");
    t3.cells.retain(|(r, _), _| *r != partial_row); // the （二）部分公开 row deleted
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
    assert_eq!(
        code, 2,
        "a missing file: the tool could not run on what was asked"
    );
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
    for total in ["t3.total.natural", "t3.open.total", "t3.total.total"] {
        assert!(
            got.contains(&s("fixed", "N-1", &a1(2020, total))),
            "{total} recomputed: {got:?}"
        );
    }
}

#[test]
fn a_deleted_sheet_is_one_finding_naming_it() {
    let scratch = Scratch::new();
    let path = Filled::new(2020).write(&scratch, "in.xlsx");
    for gone in ["文字部分", "表三 依申请公开"] {
        let mut sheets = plain_sheets(&path);
        sheets.retain(|s| s.name != gone);
        let out = scratch.path("deleted.xlsx");
        write_plain(&sheets, &out);
        let all = findings(&out);
        let got: Vec<_> = summary(&all)
            .into_iter()
            .filter(|f| f.0 != "fixed")
            .collect();
        // Not its sections reported empty, nor each of its fields or cells missing.
        assert_eq!(got, [s("error", "L-1", "")], "{gone}: {all:#?}");
        let message = all[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("缺少工作表「{gone}」")),
            "{message}"
        );
    }
}

#[test]
fn a_csv_named_xlsx_is_told_once() {
    let scratch = Scratch::new();
    let path = scratch.path("山市镇.xlsx");
    std::fs::write(&path, "单位,新收\n山市镇,5\n").unwrap();
    let all = findings(&path);
    assert_eq!(all.len(), 1, "{all:#?}");
    let f = &all[0];
    assert_eq!(f["rule"], "F-1");
    let message = f["message"].as_str().unwrap();
    // One sentence: what the file is and what to do, said once.
    assert!(
        message.contains("CSV") && message.contains("另存为 .xlsx"),
        "{message}"
    );
    assert_eq!(message.matches("另存为").count(), 1, "{message}");
    assert_eq!(f["hint"], "", "the message says what to do: {f}");
}

#[test]
fn numbers_typed_outside_the_report_cells_are_listed_a_few_at_a_time() {
    let scratch = Scratch::new();
    let path = balanced().write(&scratch, "in.xlsx");
    let mut sheets = plain_sheets(&path);
    let t3 = sheet_mut(&mut sheets, "表三 依申请公开");
    // Thirty rows inserted above （一）予以公开, each with twelve numbers, some right of
    // the table.
    let (open_row, first_col) = pos(2020, "t3.open.natural");
    insert_rows(t3, open_row, 30);
    for r in open_row..open_row + 30 {
        t3.cells.insert(
            (r, layout::FIRST_COL),
            calamine::Data::String("其中：当场答复".into()),
        );
        for c in 0..12 {
            t3.cells
                .insert((r, first_col + c), calamine::Data::Float(1.0));
        }
    }
    let out = scratch.path("many.xlsx");
    write_plain(&sheets, &out);
    let all = findings(&out);
    let strays: Vec<&serde_json::Value> = all.iter().filter(|f| f["rule"] == "V-4").collect();
    // Ten rows listed, ten numbers each; the rest counted, not listed.
    assert_eq!(strays.len(), 10, "{strays:#?}");
    for f in &strays {
        assert_eq!(f["cell"].as_str().unwrap().split('、').count(), 10, "{f}");
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("（这一行另有 2 个数字）"),
            "{f}"
        );
    }
    let last = strays.last().unwrap()["message"].as_str().unwrap();
    assert!(
        last.contains("（另有 20 行也有这样的数字，未逐一列出）"),
        "{last}"
    );
}

#[test]
fn untouched_templates_and_the_samples_have_no_stray_numbers() {
    let scratch = Scratch::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = ["2020", "2024"]
        .iter()
        .flat_map(|y| std::fs::read_dir(root.join("samples/returns").join(y)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // A template nobody has filled in (its zeros, totals, live checks and hidden keys).
    files.push(Filled::new(2024).write(&scratch, "filled.xlsx"));
    let roster = scratch.write("units.csv", ROSTER);
    nianbao()
        .args(["template", "--year", "2024", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(scratch.path("t"))
        .assert()
        .success();
    files.push(scratch.path("t").join("110_山市镇人民政府_2024.xlsx"));
    assert!(files.len() > 30, "{files:?}");
    for file in &files {
        let strays: Vec<_> = findings(file)
            .into_iter()
            .filter(|f| f["rule"] == "V-4")
            .collect();
        assert!(strays.is_empty(), "{}: {strays:#?}", file.display());
    }
}
