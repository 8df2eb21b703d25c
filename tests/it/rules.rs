//! Rules that make a returned file a report a coordinator can trust: the sections and
//! cover fields a report cannot do without, numbers typed where no report cell is, one
//! finding per mistake, and files that are not what they claim.

use crate::common::*;

/// `(level, rule)` of every finding but the fixes.
fn rules_of(path: &std::path::Path) -> Vec<(String, String)> {
    summary(&findings(path))
        .into_iter()
        .filter(|f| f.0 != "fixed")
        .map(|f| (f.0, f.1))
        .collect()
}

fn r(level: &str, rule: &str) -> (String, String) {
    (level.to_string(), rule.to_string())
}

/// The township's template as `template` writes it, nothing typed in.
fn untouched(scratch: &Scratch, year: i32, name: &str) -> std::path::PathBuf {
    use nianbao::template::{workbook_bytes, Prefill};
    let bytes = workbook_bytes(format_of(year), year, &township(), &Prefill::default()).unwrap();
    scratch.write(name, bytes)
}

#[test]
fn an_untouched_template_is_not_a_report() {
    let scratch = Scratch::new();
    for year in [2020, 2024] {
        let path = untouched(&scratch, year, &format!("blank_{year}.xlsx"));
        let all = findings(&path);
        let mut got = rules_of(&path);
        got.sort();
        assert_eq!(
            got,
            [
                r("error", "TX-1"),
                r("error", "TX-5"),
                r("warning", "CV-1"),
                r("warning", "CV-1"),
                r("warning", "TX-0"),
            ],
            "{year}: {all:?}"
        );
        // Each names where to type: the section's cell, the cover's field.
        let overview = all.iter().find(|f| f["rule"] == "TX-1").unwrap();
        assert_eq!(overview["cell"], a1(year, "section:overview"), "{overview}");
        assert!(overview["message"]
            .as_str()
            .unwrap()
            .contains("一、总体情况"));
        let cover: Vec<&serde_json::Value> = all.iter().filter(|f| f["rule"] == "CV-1").collect();
        assert_eq!(cover[0]["cell"], a1(year, "cover:filler"), "{:?}", cover[0]);
        assert!(cover[0]["message"].as_str().unwrap().contains("填报人"));
        assert_eq!(cover[1]["cell"], a1(year, "cover:phone"), "{:?}", cover[1]);
        assert!(cover[1]["message"].as_str().unwrap().contains("联系电话"));
        let (code, out) = check(&[&path], &[]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("不通过"), "{out}");
    }
}

#[test]
fn the_required_sections_and_cover_fields_are_rules_of_the_definitions() {
    use nianbao::format::RuleKind;
    for format in nianbao::format::Formats::builtin().all() {
        let level_of = |section: &str| {
            format
                .rules
                .iter()
                .find(|r| matches!(&r.kind, RuleKind::TextRequired { section: s } if s == section))
                .map(|r| r.level)
        };
        use nianbao::model::Level;
        assert_eq!(level_of("overview"), Some(Level::Error), "{}", format.id);
        assert_eq!(level_of("problems"), Some(Level::Error), "{}", format.id);
        assert_eq!(level_of("opening"), Some(Level::Warning), "{}", format.id);
        let cover = format
            .rules
            .iter()
            .find_map(|r| match &r.kind {
                RuleKind::CoverRequired { fields } => Some((r.level, fields.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            cover,
            (Level::Warning, vec!["filler".into(), "phone".into()])
        );
    }
    // Checked at load like every other rule.
    let bad = nianbao::format::Formats::builtin()
        .all()
        .iter()
        .find(|f| f.id == "2021")
        .map(|_| include_str!("../../templates/formats/2021.toml"))
        .unwrap()
        .replace("fields = [\"filler\", \"phone\"]", "fields = []");
    let err = nianbao::format::Format::from_toml(&bad, "bad.toml").unwrap_err();
    assert!(err.to_string().contains("CV-1 缺少 fields"), "{err}");
}

/// Rewrites a workbook as plain cells with `edit` applied, writing every `#REF!` given as
/// a formula error (what a spreadsheet shows in a total whose listed part was deleted).
fn rewrite(path: &std::path::Path, out: &std::path::Path, edit: impl Fn(&mut Vec<PlainSheet>)) {
    let mut sheets = plain_sheets(path);
    edit(&mut sheets);
    let mut wb = rust_xlsxwriter::Workbook::new();
    for sheet in &sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        for ((r, c), v) in &sheet.cells {
            match v {
                calamine::Data::Float(x) => ws.write_number(*r, *c, *x).map(|_| ()),
                calamine::Data::String(s) => ws.write_string(*r, *c, s).map(|_| ()),
                calamine::Data::Error(_) => ws
                    .write_formula(
                        *r,
                        *c,
                        rust_xlsxwriter::Formula::new("=SUM(#REF!)").set_result("#REF!"),
                    )
                    .map(|_| ()),
                other => ws.write_string(*r, *c, other.to_string()).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(out).unwrap();
}

#[test]
fn a_deleted_row_is_one_finding_naming_it() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];
    let path = filled.write(&scratch, "in.xlsx");
    let out = scratch.path("deleted.xlsx");
    rewrite(&path, &out, |sheets| {
        let t3 = sheet_mut(sheets, "表三 依申请公开");
        let (gone, _) = pos(2020, "t3.partial.natural");
        let (total_row, first_col) = pos(2020, "t3.total.natural");
        // The row deleted, the rows below moving up; the （七）总计 row shows #REF! as
        // a total listing its parts one by one does.
        t3.cells = std::mem::take(&mut t3.cells)
            .into_iter()
            .filter(|((r, _), _)| *r != gone)
            .map(|((r, c), v)| {
                let r = if r > gone { r - 1 } else { r };
                if r == total_row - 1 && c >= first_col {
                    ((r, c), calamine::Data::Error(calamine::CellErrorType::Ref))
                } else {
                    ((r, c), v)
                }
            })
            .collect();
    });
    let all = findings(&out);
    let got: Vec<(String, String, String)> = summary(&all)
        .into_iter()
        .filter(|f| f.0 != "fixed")
        .collect();
    assert_eq!(got.len(), 1, "{all:#?}");
    assert_eq!(got[0].1, "L-1");
    assert!(
        all.iter().any(
            |f| f["rule"] == "L-1" && f["message"].as_str().unwrap().contains("（二）部分公开")
        ),
        "{all:?}"
    );
}

#[test]
fn a_total_showing_the_error_of_a_part_is_not_reported_again() {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];
    let path = filled.write(&scratch, "in.xlsx");
    let out = scratch.path("error.xlsx");
    // A formula typed into （一）予以公开 × 自然人 that fails: its row total, its column
    // total and the grand total, all locked formulas, show the same error.
    let broken = [
        "t3.open.natural",
        "t3.open.total",
        "t3.total.natural",
        "t3.total.total",
    ];
    rewrite(&path, &out, |sheets| {
        let t3 = sheet_mut(sheets, "表三 依申请公开");
        for key in broken {
            t3.cells.insert(
                pos(2020, key),
                calamine::Data::Error(calamine::CellErrorType::Ref),
            );
        }
    });
    let all = findings(&out);
    let got: Vec<(String, String, String)> = summary(&all)
        .into_iter()
        .filter(|f| f.0 != "fixed")
        .collect();
    // One mistake, one finding: where it was typed.
    let want = (
        "error".to_string(),
        "V-1".to_string(),
        a1(2020, "t3.open.natural"),
    );
    assert_eq!(got, [want], "{all:#?}");
}

#[test]
fn totals_are_written_as_ranges_where_their_parts_are_contiguous() {
    let scratch = Scratch::new();
    let path = Filled::new(2024).write(&scratch, "t.xlsx");
    let cells = dump_sheet(&path, "表三 依申请公开");
    let formula = |key: &str| {
        let at = a1(2024, key);
        cells.iter().find(|(a, _)| *a == at).unwrap().1.clone()
    };
    // The （七）总计 of a column: one range from （一） to （六）3.
    let column = formula("t3.total.natural");
    assert_eq!(
        column,
        format!(
            "=SUM({}:{})",
            a1(2024, "t3.open.natural"),
            a1(2024, "t3.other_other.natural")
        )
    );
    // A row's 总计: from 自然人 to 其他.
    assert_eq!(
        formula("t3.new.total"),
        format!(
            "=SUM({}:{})",
            a1(2024, "t3.new.natural"),
            a1(2024, "t3.new.other")
        )
    );
}

#[test]
fn check_year_is_taken_when_the_workbook_states_none() {
    let scratch = Scratch::new();
    let path = Filled::new(2020).write(&scratch, "in.xlsx");
    // No hidden identity, no key column, and the cover's 报告年度 left blank.
    let mut sheets = plain_sheets(&path);
    sheets.retain(|s| s.name != "_nianbao");
    let year_at = pos(2020, "cover:year");
    for s in &mut sheets {
        s.cells.remove(&year_at);
        delete_column(s, 0);
    }
    let out = scratch.path("no_year.xlsx");
    write_plain(&sheets, &out);
    let (_, without) = check(&[&out], &["--json"]);
    assert!(without.contains("\"ID-2\""), "{without}");
    let (_, with) = check(&[&out], &["--json", "--year", "2020"]);
    assert!(!with.contains("\"ID-2\""), "{with}");
    let (_, text) = check(&[&out], &["--year", "2020"]);
    assert!(text.contains("2020 年度"), "{text}");
}
