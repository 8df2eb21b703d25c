//! Correction workbooks (a rejected unit's report sent back with its problems marked) and
//! the roll-up workbook in the official layout. Fixtures are generated here; workbooks are
//! read back with calamine, and their XML where calamine does not look (notes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use nianbao::cell::CellRef;
use nianbao::check::{check_file, Options};
use nianbao::format::{Format, Formats, Key};
use nianbao::model::Level;
use nianbao::template::{
    correction_workbook, rollup_workbook, RollupSheet, ERROR_FILL, FINDINGS_SHEET, WARNING_FILL,
};
use nianbao::validate::Submission;

use crate::common::layout::FIRST_COL;
use crate::common::*;

const T2: &str = "表二 主动公开";
const T3: &str = "表三 依申请公开";

fn format_2020() -> Format {
    Formats::builtin().for_year(2020).unwrap().clone()
}

fn submission(path: &Path) -> Submission {
    check_file(
        path,
        "山市镇年报.xlsx",
        &Formats::builtin(),
        Options::default(),
    )
}

/// `(rule, cell)` of each error and warning.
fn problems(sub: &Submission) -> Vec<(String, String)> {
    sub.findings
        .iter()
        .filter(|f| f.level != Level::Fixed)
        .map(|f| (f.rule.clone(), f.cell_text()))
        .collect()
}

/// The keys T3-1 names for the 自然人 column: first plus second, third plus fourth.
const T3_1_LHS: [&str; 2] = ["t3.new.natural", "t3.carried.natural"];
const T3_1_RHS: [&str; 2] = ["t3.total.natural", "t3.carry_next.natural"];

/// The columns of 表三 that its 总计 column adds up.
const T3_COLUMNS: [&str; 6] = [
    "natural", "business", "research", "charity", "legal", "other",
];

/// How many rows [`rejected`] inserted at the top of 表三.
const INSERTED: u32 = 2;

/// A township that broke T3-1 in the 自然人 column (5 new + 0 carried ≠ 3 handled + 0
/// carried on) and typed “十二” into 表二 规章/本年新制作数量; it also inserted
/// [`INSERTED`] rows at the top of 表三, so its own addresses there are that many rows lower
/// than the template's.
fn rejected(scratch: &Scratch) -> PathBuf {
    let mut filled = Filled::new(2020);
    filled.values = &[
        ("t3.new.natural", 5.0),
        ("t3.open.natural", 3.0),
        ("t4.all.review_upheld", 1.0),
    ];
    filled.raw = &[("t2.rules.made", "十二")];
    let path = filled.write(scratch, "template.xlsx");
    let mut sheets = plain_sheets(&path);
    let t3 = sheet_mut(&mut sheets, T3);
    insert_rows(t3, 2, INSERTED);
    let out = scratch.path("山市镇年报.xlsx");
    write_plain(&sheets, &out);
    out
}

/// The correction workbook of [`rejected`], written to disk.
fn corrected(scratch: &Scratch) -> (Submission, PathBuf) {
    let sub = submission(&rejected(scratch));
    let bytes = correction_workbook(
        &format_2020(),
        2020,
        &township(),
        &sub.returned(),
        "山市镇年报.xlsx",
    )
    .unwrap();
    (sub, scratch.write("退回_山市镇.xlsx", bytes))
}

/// The list sheet's findings as `(级别, 规则, 位置, 问题, 实际, 应为, 提示)` rows.
fn listed(path: &Path) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(FINDINGS_SHEET).unwrap();
    let text = |r: u32, c: u32| {
        range
            .get_value((r, c))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let end = range.end().unwrap().0;
    let header = (0..=end)
        .find(|r| text(*r, 0) == "序号")
        .expect("header row");
    (header + 1..=end)
        .map(|r| (1..8).map(|c| text(r, c)).collect())
        .collect()
}

/// The notes of the sheet at 1-based `index`, by cell, as plain text.
fn notes(path: &Path, index: usize) -> BTreeMap<String, String> {
    let rels_part = format!("xl/worksheets/_rels/sheet{index}.xml.rels");
    let file = std::fs::File::open(path).unwrap();
    let zip = zip::ZipArchive::new(file).unwrap();
    if zip.index_for_name(&rels_part).is_none() {
        return BTreeMap::new();
    }
    let rels = xlsx_part(path, &rels_part);
    let Some(at) = rels.find("../comments") else {
        return BTreeMap::new();
    };
    let target = &rels[at + 3..];
    let target = &target[..target.find('"').unwrap()];
    let xml = xlsx_part(path, &format!("xl/{target}"));
    let mut out = BTreeMap::new();
    for comment in xml.split("<comment ref=\"").skip(1) {
        let cell = comment[..comment.find('"').unwrap()].to_string();
        let mut text = String::new();
        for run in comment.split("<t").skip(1) {
            let Some(open) = run.find('>') else { continue };
            let body = &run[open + 1..];
            if let Some(close) = body.find("</t>") {
                text.push_str(&body[..close]);
            }
        }
        out.insert(cell, text);
    }
    out
}

fn rgb(fill: u32) -> (u8, u8, u8) {
    ((fill >> 16) as u8, (fill >> 8) as u8, fill as u8)
}

/// The fill colour of a cell, `None` when it has none.
fn fill(
    wb: &mut Xlsx<std::io::BufReader<std::fs::File>>,
    sheet: &str,
    a1: &str,
) -> Option<(u8, u8, u8)> {
    let styles = wb.worksheet_style(sheet).unwrap();
    let at = CellRef::parse(a1).unwrap();
    let style = styles.get((at.row, u32::from(at.col)))?;
    let fill = style.fill.as_ref().filter(|f| f.is_visible())?;
    let c = fill.get_color()?;
    Some((c.red, c.green, c.blue))
}

#[test]
fn a_correction_workbook_prints_like_a_template() {
    let scratch = Scratch::new();
    let (_, path) = corrected(&scratch);
    // 问题清单, 封面, 表二–表四, 文字部分: each ends at its content, A4, one page wide.
    assert_eq!(crate::template::assert_pages_end_at_the_content(&path), 6);
}

#[test]
fn the_rejected_unit_as_checked() {
    // The fixture's own addresses: 表三 is two rows lower than in the template.
    let scratch = Scratch::new();
    let sub = submission(&rejected(&scratch));
    let moved = (INSERTED as i32, 0);
    let t3_1 = format!(
        "{} ≠ {}",
        a1_sum_moved(2020, &T3_1_LHS, moved),
        a1_sum_moved(2020, &T3_1_RHS, moved)
    );
    assert_eq!(
        problems(&sub),
        [
            ("T3-1".to_string(), t3_1),
            ("V-1".to_string(), a1(2020, "t2.rules.made")),
        ]
    );
}

#[test]
fn correction_workbook_lists_marks_and_notes_the_findings_at_its_own_cells() {
    let scratch = Scratch::new();
    let (_, path) = corrected(&scratch);

    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let names = wb.sheet_names().to_vec();
    assert_eq!(names[0], FINDINGS_SHEET);
    assert_eq!(names[1..4], ["封面", T2, T3]);
    // It opens on the list: the first sheet is active (no activeTab) and the only one
    // selected, so nothing the clerk types goes to two sheets at once.
    let workbook = xlsx_part(&path, "xl/workbook.xml");
    assert!(!workbook.contains("activeTab"), "{workbook}");
    let selected: Vec<usize> = (1..=names.len())
        .filter(|n| {
            xlsx_part(&path, &format!("xl/worksheets/sheet{n}.xml")).contains("tabSelected=\"1\"")
        })
        .collect();
    assert_eq!(selected, [1]);
    let list_xml = xlsx_part(&path, "xl/worksheets/sheet1.xml");
    assert!(
        list_xml.contains(r#"orientation="landscape""#) && list_xml.contains(r#"paperSize="9""#),
        "{list_xml}"
    );

    // The list: both findings, at the cells of this workbook (the template's).
    let (lhs, rhs) = (a1_sum(2020, &T3_1_LHS), a1_sum(2020, &T3_1_RHS));
    let made = a1(2020, "t2.rules.made");
    let rows = listed(&path);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let t31 = &rows[0];
    assert_eq!(
        t31[..3],
        [
            "错误",
            "T3-1",
            // The cells of this workbook, then the same place in words.
            &format!("表三 依申请公开!{lhs} ≠ {rhs}\n表三「申请人情况/自然人」列")
        ]
    );
    assert!(t31[3].starts_with("「自然人」列："), "{t31:?}");
    assert_eq!(
        t31[4..6],
        [format!("5（{lhs}）"), format!("等于 3（{rhs}）")]
    );
    assert!(t31[6].contains("结转下年度继续办理"), "{t31:?}");
    let v1 = &rows[1];
    let (made_row, _) = pos(2020, "t2.rules.made");
    assert_eq!(v1[..2], ["错误", "V-1"]);
    assert!(
        v1[2].starts_with(&format!(
            "表二 主动公开!{made}\n表二第二十条第（一）项 第 {} 行「规章」",
            made_row + 1
        )),
        "{v1:?}"
    );
    assert_eq!(v1[4], "十二");
    let intro = cell_text(&path, FINDINGS_SHEET, "A2");
    assert!(
        intro.contains("山市镇年报.xlsx") && intro.contains("2 个错误"),
        "{intro}"
    );

    // Marked: the four cells of the broken column and the unreadable one, red; their
    // neighbours keep the input colour.
    let red = Some(rgb(ERROR_FILL));
    let marked: Vec<String> = T3_1_LHS
        .iter()
        .chain(&T3_1_RHS)
        .map(|k| a1(2020, k))
        .collect();
    for at in &marked {
        assert_eq!(fill(&mut wb, T3, at), red, "{at}");
    }
    assert_eq!(fill(&mut wb, T2, &made), red);
    let input = Some(rgb(0xFFF2CC));
    assert_eq!(fill(&mut wb, T3, &a1(2020, "t3.new.business")), input);
    assert_eq!(fill(&mut wb, T2, &a1(2020, "t2.rules.published")), input);

    // The clerk's own input is back in its cell, and their numbers in theirs.
    assert_eq!(cell_text(&path, T2, &made), "十二");
    assert_eq!(cell_text(&path, T3, &a1(2020, "t3.new.natural")), "5");
    assert_eq!(cell_text(&path, T3, &a1(2020, "t3.open.natural")), "3");
    let review = a1(2020, "t4.all.review_upheld");
    assert_eq!(cell_text(&path, "表四 复议诉讼", &review), "1");
    // Totals are still formulas, with the results a reader sees.
    let formulas = wb.worksheet_formula(T3).unwrap();
    let (row, col) = pos(2020, "t3.new.total");
    let new_parts = T3_COLUMNS.map(|c| a1(2020, &format!("t3.new.{c}")));
    assert_eq!(
        formulas
            .get_value((row, u32::from(col)))
            .map(String::as_str),
        Some(format!("SUM({}:{})", new_parts[0], new_parts[5]).as_str())
    );
    assert_eq!(cell_text(&path, T3, &a1(2020, "t3.total.natural")), "3");
    // Texts and contact fields come back too (the fixture filled the texts).
    assert_eq!(
        cell_text(&path, "文字部分", &a1(2020, "section:overview")),
        "我镇对政务村务公开工作十分重视。\n第二段。"
    );

    // Notes: one per marked cell, saying what is wrong and what to do.
    let t3_notes = notes(&path, 4);
    let mut sorted = marked.clone();
    sorted.sort();
    assert_eq!(t3_notes.keys().cloned().collect::<Vec<_>>(), sorted);
    let expected = format!(
        "【规则 T3-1】「自然人」列：第一项加第二项之和，不等于第三项加第四项之和（相差 2） \
         实际：5（{lhs}） 应为：等于 3（{rhs}）。请核对本列的“一、本年新收”“二、上年结转”“（七）总计”“四、结转下年度继续办理”"
    );
    for text in t3_notes.values() {
        assert_eq!(text, &expected);
    }
    let t2_notes = notes(&path, 3);
    assert_eq!(t2_notes.keys().collect::<Vec<_>>(), [&made]);
    assert!(
        t2_notes[&made]
            .starts_with("【规则 V-1】表二第二十条第（一）项「规章」行「本年新制作数量」列：")
            && t2_notes[&made].contains("实际：十二 应为：不小于 0 的整数。"),
        "{}",
        t2_notes[&made]
    );
    assert!(notes(&path, 2).is_empty() && notes(&path, 5).is_empty());
}

#[test]
fn correction_workbook_checks_like_a_returned_template() {
    let scratch = Scratch::new();
    let (before, path) = corrected(&scratch);

    // As sent back: the same problems, at the cells the list names.
    let again = submission(&path);
    assert_eq!(again.unit_code, "110");
    assert_eq!(again.year, Some(2020));
    assert!(!again.by_labels);
    let rules = |s: &Submission| {
        let mut r: Vec<String> = s
            .findings
            .iter()
            .filter(|f| f.level != Level::Fixed)
            .map(|f| f.rule.clone())
            .collect();
        r.sort();
        r
    };
    assert_eq!(rules(&again), rules(&before));
    let listed: Vec<(String, String)> = listed(&path)
        .into_iter()
        .map(|row| {
            // The cells (the first line; the second says the place in words).
            let cells = row[2].lines().next().unwrap();
            let cell = cells.split_once('!').unwrap().1.to_string();
            (row[1].clone(), cell)
        })
        .collect();
    assert_eq!(problems(&again), listed);
    assert_eq!(
        again.texts.get("problems").map(String::as_str),
        Some("公开资料建档工作还不够细致。")
    );

    // Corrected the way a clerk's program saves it (values only): 十二 → 12, and the two
    // requests carried on entered. The row total of that row is left without a result, as
    // a program that does not store results would; the reader recomputes it.
    let mut sheets = plain_sheets(&path);
    let t2 = sheet_mut(&mut sheets, T2);
    t2.cells
        .insert(pos(2020, "t2.rules.made"), Data::Float(12.0));
    let t3 = sheet_mut(&mut sheets, T3);
    t3.cells
        .insert(pos(2020, "t3.carry_next.natural"), Data::Float(2.0));
    t3.cells.remove(&pos(2020, "t3.carry_next.total"));
    assert!(sheets.iter().any(|s| s.name == FINDINGS_SHEET));
    let fixed = scratch.path("山市镇年报_修改后.xlsx");
    write_plain(&sheets, &fixed);
    let after = submission(&fixed);
    assert_eq!(problems(&after), [], "{:?}", after.findings);
    assert_eq!(after.values[&Key::from_string("t2.rules.made")], 12.0);
    assert_eq!(after.values[&Key::from_string("t3.carry_next.total")], 2.0);
    let (code, out) = check(&[&fixed], &[]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_clean_unit_gets_no_list_and_opens_on_the_cover() {
    let scratch = Scratch::new();
    let path = Filled::new(2020).write(&scratch, "ok.xlsx");
    let sub = submission(&path);
    let bytes = correction_workbook(
        &format_2020(),
        2020,
        &township(),
        &sub.returned(),
        "ok.xlsx",
    )
    .unwrap();
    let out = scratch.write("out.xlsx", bytes);
    let wb: Xlsx<_> = open_workbook(&out).unwrap();
    assert_eq!(wb.sheet_names()[0], "封面");
    assert!(notes(&out, 3).is_empty());
}

/// Every key of a format's tables with a distinct value.
fn distinct_values(format: &Format) -> BTreeMap<Key, f64> {
    format
        .cells()
        .enumerate()
        .map(|(i, c)| (c.key, (i + 1) as f64))
        .collect()
}

#[test]
fn rollup_has_a_sheet_per_parent_in_the_official_layout() {
    for year in [2020, 2024] {
        let format = Formats::builtin().for_year(year).unwrap().clone();
        let mut county = distinct_values(&format);
        for (i, field) in format.fields.iter().enumerate() {
            county.insert(Key::field(&field.code), 1000.5 + i as f64);
        }
        let town: BTreeMap<Key, f64> = county.iter().map(|(k, v)| (k.clone(), v * 2.0)).collect();
        let county_in = ["示例县人民政府", "山市镇人民政府", "示例县教育局"];
        let county_missing = ["东兴村村民委员会"];
        let town_in = ["山市镇人民政府", "山市村村民委员会"];
        let town_rejected = ["东兴村村民委员会"];
        let sheets = [
            RollupSheet {
                code: "100",
                name: "示例县人民政府",
                values: &county,
                summary: "应报 6 个，已报 5 个：受理 5 个；未报送 1 个。",
                included: &county_in,
                missing: &county_missing,
                rejected: &[],
            },
            RollupSheet {
                code: "110",
                name: "山市镇人民政府",
                values: &town,
                summary: "应报 3 个，已报 3 个：受理 3 个；未报送 0 个。",
                included: &town_in,
                missing: &[],
                rejected: &town_rejected,
            },
        ];
        let scratch = Scratch::new();
        let path = scratch.write(
            "汇总.xlsx",
            rollup_workbook(&format, year, &sheets).unwrap(),
        );
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(wb.sheet_names(), ["示例县人民政府", "山市镇人民政府"]);
        let label_width = format.tables.iter().map(layout::label_width).max().unwrap();
        for (n, sheet) in sheets.iter().enumerate() {
            let name = sheet.name;
            let range = wb.worksheet_range(name).unwrap();
            let text = |r: u32, c: u16| {
                range
                    .get_value((r, u32::from(c)))
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            };
            assert_eq!(
                text(0, FIRST_COL),
                format!("{name}{year}年政府信息公开工作年度报告汇总表")
            );
            let line = text(1, FIRST_COL);
            assert!(line.starts_with(sheet.summary), "{line}");
            // Each table where its title is, in order, its cells where the template has
            // them, shifted down to the title and right to the common label columns.
            let mut last_title = 1;
            for table in &format.tables {
                let title_row = (last_title + 1..range.height() as u32)
                    .find(|r| text(*r, FIRST_COL) == table.heading())
                    .unwrap_or_else(|| panic!("{} on {name}", table.heading()));
                last_title = title_row;
                // Narrow tables are stretched to the width of the widest.
                let at = layout::Placement {
                    first_row: 0,
                    label_width,
                    stretch: layout::stretch_to(table, layout::max_data_cols(&format)),
                };
                let plan = layout::plan_table_at(&format, table, at);
                for (key, at) in &plan.cells {
                    let (r, c) = (at.row + title_row, at.col);
                    let want = sheet.values[key];
                    assert_eq!(
                        range.get_value((r, u32::from(c))),
                        Some(&Data::Float(want)),
                        "{key} on {name} (year {year})"
                    );
                }
                // Row labels are drawn as in the template.
                if let Some(block) = table.blocks.first() {
                    if let Some(row) = block
                        .rows
                        .iter()
                        .find(|r| !r.label.is_empty() && r.groups.is_empty())
                    {
                        let r = plan.blocks[0].first_data_row + title_row;
                        let at = block.rows.iter().position(|x| x.code == row.code).unwrap() as u32;
                        assert_eq!(text(r + at, FIRST_COL), row.label, "{}", table.code);
                    }
                }
            }
            // Under the tables: the format's numeric fields, then who is in the totals,
            // who sent nothing and who was sent back, by name.
            let rows: Vec<String> = (0..range.height() as u32)
                .map(|r| (0..range.width() as u16).map(|c| text(r, c)).collect())
                .collect();
            let after_tables = last_title as usize;
            for field in &format.fields {
                let value = sheet.values[&Key::field(&field.code)];
                assert!(
                    rows[after_tables..]
                        .iter()
                        .any(|r| r.starts_with(&field.label) && r.contains(&value.to_string())),
                    "{} on {name} (year {year}): {rows:?}",
                    field.label
                );
            }
            let lists = [
                ("已计入汇总的单位", sheet.included),
                ("未报送的单位", sheet.missing),
                ("被退回的单位", sheet.rejected),
            ];
            for (heading, names) in lists {
                let at = rows
                    .iter()
                    .position(|r| r.starts_with(heading))
                    .unwrap_or_else(|| panic!("{heading} on {name}"));
                assert!(at > after_tables);
                assert!(rows[at].contains(&format!("（{} 个）", names.len())));
                let want = if names.is_empty() {
                    "无".to_string()
                } else {
                    names.join("、")
                };
                assert_eq!(rows[at + 1], want, "{heading} on {name}");
            }
            // No hidden keys: this is a report, not a form to read back.
            assert!(range
                .used_cells()
                .all(|(_, _, v)| !v.to_string().starts_with("nianbao:")));
            let xml = xlsx_part(&path, &format!("xl/worksheets/sheet{}.xml", n + 1));
            assert!(
                xml.contains(r#"orientation="landscape""#)
                    && xml.contains(r#"paperSize="9""#)
                    && xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#)
                    && xml.contains(r#"fitToHeight="0""#)
                    && !xml.contains("<sheetProtection"),
                "{xml}"
            );
        }
        assert_eq!(crate::template::assert_pages_end_at_the_content(&path), 2);
    }
}

#[test]
fn rollup_sheet_names_are_safe_and_unique() {
    let format = format_2020();
    let values = BTreeMap::new();
    let long = "示例省示例市示例县示例镇人民政府党政综合办公室所属政务公开与数据服务中心";
    assert!(long.chars().count() > 31);
    let names = [
        "a/b:c*?".to_string(),
        format!("{long}甲"),
        format!("{long}乙"),
        "A/B:C*?".to_string(),
    ];
    let sheets: Vec<RollupSheet> = names
        .iter()
        .enumerate()
        .map(|(i, name)| RollupSheet {
            code: ["1", "2", "3", "4"][i],
            name,
            values: &values,
            summary: "",
            included: &[],
            missing: &[],
            rejected: &[],
        })
        .collect();
    let scratch = Scratch::new();
    let path = scratch.write(
        "汇总.xlsx",
        rollup_workbook(&format, 2020, &sheets).unwrap(),
    );
    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    let got = wb.sheet_names().to_vec();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], "a_b_c__");
    assert_eq!(got[3], "A_B_C__(2)");
    for name in &got {
        assert!(name.encode_utf16().count() <= 31, "{name}");
        assert!(
            !name.contains(['[', ']', ':', '*', '?', '/', '\\']),
            "{name}"
        );
    }
    assert_eq!(got[1], long.chars().take(31).collect::<String>());
    assert_ne!(got[1], got[2]);
    assert!(got[2].ends_with("(2)"), "{}", got[2]);
    // The title keeps the full name.
    assert_eq!(
        cell_text(&path, &got[1], &a1_at(0, FIRST_COL)),
        format!("{long}甲2020年政府信息公开工作年度报告汇总表")
    );
}

#[test]
fn warnings_are_orange_and_findings_without_cells_are_only_listed() {
    // 3 published of 0 in total (T2-2, a warning) and no opening paragraph (TX-0, a
    // warning about a text, no cell of the tables).
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t2.rules.published", 3.0)];
    filled.texts = &[
        ("overview", "概述。"),
        ("problems", "公开资料建档工作还不够细致。"),
    ];
    let path = filled.write(&scratch, "warned.xlsx");
    let sub = submission(&path);
    assert_eq!(sub.errors(), 0);
    let bytes = correction_workbook(
        &format_2020(),
        2020,
        &township(),
        &sub.returned(),
        "warned.xlsx",
    )
    .unwrap();
    let out = scratch.write("退回.xlsx", bytes);

    let (published, total) = (
        a1(2020, "t2.rules.published"),
        a1(2020, "t2.rules.total_public"),
    );
    let rows = listed(&out);
    let rules: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].lines().next().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            (
                "警告",
                "TX-0",
                format!("文字部分!{}", a1(2020, "section:opening")).as_str()
            ),
            (
                "警告",
                "T2-2",
                format!("表二 主动公开!{published} > {total}").as_str()
            )
        ]
    );
    let intro = cell_text(&out, FINDINGS_SHEET, "A2");
    assert!(
        intro.contains("2 个警告") && !intro.contains("不通过"),
        "{intro}"
    );

    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let orange = Some(rgb(WARNING_FILL));
    assert_eq!(fill(&mut wb, T2, &published), orange);
    assert_eq!(fill(&mut wb, T2, &total), orange);
    let t2_notes = notes(&out, 3);
    let mut marked = [&published, &total];
    marked.sort();
    assert_eq!(t2_notes.keys().collect::<Vec<_>>(), marked);
    assert!(
        t2_notes[&published]
            .starts_with("警告【规则 T2-2】「规章」行：本年新公开数量大于对外公开总数量"),
        "{t2_notes:?}"
    );
    // The text sheet carries no note: TX-5 is about a text, not a cell.
    assert!(notes(&out, 6).is_empty());
    // Checked again: the same warnings.
    assert_eq!(problems(&submission(&out)), problems(&sub));
}

#[test]
fn fields_on_the_text_sheet_are_marked_too() {
    // 2024 (the 2021 format): an application charged a fee (其他处理/不按时缴费) but no
    // fee is reported (TX-4, about the two fee fields on the text sheet).
    let scratch = Scratch::new();
    let mut filled = Filled::new(2024);
    filled.values = &[("t3.new.natural", 1.0), ("t3.other_unpaid.natural", 1.0)];
    let path = filled.write(&scratch, "fee.xlsx");
    let sub = submission(&path);
    let format = Formats::builtin().for_year(2024).unwrap().clone();
    let bytes =
        correction_workbook(&format, 2024, &township(), &sub.returned(), "fee.xlsx").unwrap();
    let out = scratch.write("退回.xlsx", bytes);
    let tx4: Vec<Vec<String>> = listed(&out)
        .into_iter()
        .filter(|r| r[1] == "TX-4")
        .collect();
    assert_eq!(tx4.len(), 1, "{:?}", sub.findings);
    let mut cells: Vec<String> = format.fields.iter().map(|f| a1(2024, &f.code)).collect();
    cells.sort();
    let text_notes = notes(&out, 6);
    assert_eq!(text_notes.keys().cloned().collect::<Vec<_>>(), cells);
    assert!(text_notes
        .values()
        .all(|t| t.starts_with("警告【规则 TX-4】")));
    assert!(tx4[0][2].starts_with("文字部分!"), "{tx4:?}");
}

#[test]
fn a_total_typed_over_comes_back_as_a_formula_and_the_note_says_so() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];
    let path = filled.write(&scratch, "in.xlsx");
    let mut sheets = plain_sheets(&path);
    let t3 = sheet_mut(&mut sheets, T3);
    t3.cells.insert(pos(2020, "t3.new.total"), Data::Float(9.0)); // 一 row total, typed over
    let typed = scratch.path("typed.xlsx");
    write_plain(&sheets, &typed);
    let sub = submission(&typed);
    let total = a1(2020, "t3.new.total");
    let parts = T3_COLUMNS.map(|c| format!("t3.new.{c}"));
    assert_eq!(
        problems(&sub),
        [("T3-3".into(), format!("{total} ≠ {}", a1_sum(2020, &parts)))]
    );

    let bytes = correction_workbook(
        &format_2020(),
        2020,
        &township(),
        &sub.returned(),
        "typed.xlsx",
    )
    .unwrap();
    let out = scratch.write("退回.xlsx", bytes);
    let t3_notes = notes(&out, 4);
    assert!(
        t3_notes[&total].contains("合计已恢复为公式"),
        "{t3_notes:?}"
    );
    assert_eq!(cell_text(&out, T3, &total), "2");
    // Nothing left to correct once the total is a formula again.
    assert_eq!(problems(&submission(&out)), []);
}

#[test]
fn every_rollup_table_is_about_as_wide_as_the_printed_page() {
    use crate::template::{attr, tags};
    for year in [2020, 2024] {
        let format = Formats::builtin().for_year(year).unwrap().clone();
        let values = distinct_values(&format);
        let names = ["山市镇人民政府"];
        let sheets = [RollupSheet {
            code: "110",
            name: "山市镇人民政府",
            values: &values,
            summary: "应报 1 个，已报 1 个：受理 1 个；未报送 0 个。",
            included: &names,
            missing: &[],
            rejected: &[],
        }];
        let scratch = Scratch::new();
        let path = scratch.write(
            "汇总.xlsx",
            rollup_workbook(&format, year, &sheets).unwrap(),
        );
        let xml = xlsx_part(&path, "xl/worksheets/sheet1.xml");
        // Column widths as the file sets them, and the printed columns' total.
        let mut width = vec![0.0; 64];
        for col in tags(&xml, "col") {
            let (min, max): (usize, usize) = (
                attr(col, "min").unwrap().parse().unwrap(),
                attr(col, "max").unwrap().parse().unwrap(),
            );
            for w in &mut width[min - 1..max] {
                *w = attr(col, "width").unwrap().parse::<f64>().unwrap();
            }
        }
        let right_edge =
            |last: u16| -> f64 { width[FIRST_COL as usize..=last as usize].iter().sum() };
        let workbook = xlsx_part(&path, "xl/workbook.xml");
        let area = workbook.split("_xlnm.Print_Area").nth(1).unwrap();
        let area = area.split('>').nth(1).unwrap().split('<').next().unwrap();
        let last = area.rsplit(':').next().unwrap().replace('$', "");
        let page = right_edge(CellRef::parse(&last).unwrap().col);
        // Each table's extent: the cells and merged ranges of its own rows (from its
        // header to the row before the next title), titles and notes left out.
        let range = {
            let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
            wb.worksheet_range("山市镇人民政府").unwrap()
        };
        let titles: Vec<u32> = format
            .tables
            .iter()
            .map(|t| {
                (0..range.height() as u32)
                    .find(|r| {
                        range
                            .get_value((*r, u32::from(FIRST_COL)))
                            .map(|d| d.to_string())
                            == Some(t.heading())
                    })
                    .unwrap()
            })
            .collect();
        let merges: Vec<(CellRef, CellRef)> = tags(&xml, "mergeCell")
            .into_iter()
            .map(|m| {
                let (a, b) = attr(m, "ref").unwrap().split_once(':').unwrap();
                (CellRef::parse(a).unwrap(), CellRef::parse(b).unwrap())
            })
            .collect();
        for (i, table) in format.tables.iter().enumerate() {
            let rows = titles[i] + 2..titles.get(i + 1).copied().unwrap_or(titles[i] + 60);
            let cells = range
                .used_cells()
                .map(|(r, c, _)| (r as u32, c as u16))
                .filter(|(r, _)| rows.contains(r))
                .map(|(_, c)| c);
            let merged = merges
                .iter()
                .filter(|(a, _)| rows.contains(&a.row))
                .map(|(_, b)| b.col);
            let extent = cells.chain(merged).max().unwrap();
            let share = right_edge(extent) / page;
            assert!(
                share >= 0.9,
                "{year} 表{}: {:.0}% of the printed width",
                table.number,
                share * 100.0
            );
        }
    }
}
