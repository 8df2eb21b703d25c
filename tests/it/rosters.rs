//! Rosters as people keep them: in an Excel workbook, with codes Excel may have mangled.

use crate::common::*;

/// A roster workbook as an Excel user types it: codes as numbers (Excel's default for
/// digits), Chinese headers, a contact column.
fn roster_workbook(path: &std::path::Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["单位代码", "单位名称", "上级代码", "层级", "联系人"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let units: [(f64, &str, Option<f64>, &str, &str); 2] = [
        (231083102000.0, "山市镇人民政府", None, "乡镇", "王芳"),
        (
            231083102201.0,
            "山市村村民委员会",
            Some(231083102000.0),
            "行政村",
            "李强",
        ),
    ];
    for (r, (code, name, parent, level, contact)) in units.into_iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_number(r, 0, code).unwrap();
        ws.write_string(r, 1, name).unwrap();
        if let Some(p) = parent {
            ws.write_number(r, 2, p).unwrap();
        }
        ws.write_string(r, 3, level).unwrap();
        ws.write_string(r, 4, contact).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn a_roster_kept_in_excel_is_read_with_every_digit_of_its_codes() {
    let scratch = Scratch::new();
    let roster = scratch.path("名册.xlsx");
    roster_workbook(&roster);
    let out = scratch.path("模板");
    nianbao()
        .args(["template", "--year", "2024", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let list = std::fs::read_to_string(out.join("分发清单.csv")).unwrap();
    assert!(list.contains("231083102000"), "{list}");
    assert!(list.contains("231083102201"), "{list}");
    assert!(!list.contains("E+"), "{list}");
    assert!(out
        .join("231083102201_山市村村民委员会_2024.xlsx")
        .is_file());
}

#[test]
fn codes_excel_turned_into_scientific_notation_are_refused_with_how_to_fix() {
    let scratch = Scratch::new();
    let roster = scratch.write(
        "名册.csv",
        "code,name,parent_code,level\n2.31083E+11,山市镇人民政府,,乡镇\n2.31083E+11,山市村村民委员会,2.31083E+11,行政村\n",
    );
    let out = nianbao()
        .args(["template", "--year", "2024", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(scratch.path("模板"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("第 2 行"), "{err}");
    assert!(err.contains("科学记数法") && err.contains("文本"), "{err}");
    assert!(
        !err.contains("重复"),
        "not reported as a duplicate code: {err}"
    );
}
