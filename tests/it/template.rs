//! `nianbao template`: the workbooks are read back with calamine (and their XML where
//! calamine does not look) and checked against the format definitions.

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Reader, Xlsx};
use nianbao::cell::CellRef;
use nianbao::format::{Format, Formats, Key};
use nianbao::identity::Marker;

use crate::common::layout::FIRST_COL;
use crate::common::*;

/// Runs `template` for the test roster and returns the path of the township's workbook.
fn emit(scratch: &Scratch, year: i32) -> PathBuf {
    let roster = scratch.write("units.csv", ROSTER);
    let out = scratch.path("out");
    nianbao()
        .args(["template", "--year", &year.to_string(), "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out.join(format!("110_山市镇人民政府_{year}.xlsx"))
}

fn format_for(year: i32) -> Format {
    Formats::builtin().for_year(year).unwrap().clone()
}

#[test]
fn one_workbook_per_unit_plus_a_blank_and_a_distribution_list() {
    let scratch = Scratch::new();
    emit(&scratch, 2024);
    let out = scratch.path("out");
    let list = std::fs::read(out.join("分发清单.csv")).unwrap();
    assert!(
        list.starts_with(b"\xEF\xBB\xBF"),
        "list has a BOM for Excel"
    );
    let text = String::from_utf8(list[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // The roster's own columns (here `contact`) follow the list's.
    assert_eq!(
        lines[0],
        "unit_code,unit_name,parent_code,level,file,contact"
    );
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(
        lines[2],
        "110,山市镇人民政府,100,township,110_山市镇人民政府_2024.xlsx,党政办"
    );
    for line in &lines[1..] {
        let file = line.split(',').nth(4).unwrap();
        assert!(out.join(file).is_file(), "{file} listed but missing");
    }
    assert!(out.join("空白模板_2024.xlsx").is_file());
    let xlsx = std::fs::read_dir(&out).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "xlsx")
    });
    // 5 units, the blank template and the distribution list's workbook.
    assert_eq!(xlsx.count(), 7);
    assert!(out.join("分发清单.xlsx").is_file());
}

fn sheet_names(path: &Path) -> Vec<String> {
    open_workbook_auto(path).unwrap().sheet_names().to_vec()
}

/// Every table sheet: the marker, the hidden keys, the labels where the layout puts them,
/// zeros in every input cell and a formula over exactly its parts in every total.
fn assert_tables_match_definition(path: &Path, format: &Format) {
    let names = sheet_names(path);
    let totals = format.totals();
    for (i, table) in format.tables.iter().enumerate() {
        let sheet = &names[i + 1];
        assert_eq!(sheet, &table.sheet);
        let plan = layout::plan_table(format, table);
        let cells: std::collections::BTreeMap<String, String> =
            dump_sheet(path, sheet).into_iter().collect();
        let at = |row: u32, col: u16| cells.get(&a1_at(row, col)).cloned().unwrap_or_default();
        assert_eq!(at(0, 0), Marker::Table(table.code.clone()).text());
        assert_eq!(at(plan.title_row, FIRST_COL), table.heading());
        for bp in &plan.blocks {
            let block = &table.blocks[bp.index];
            assert_eq!(at(bp.key_row, 0), Marker::Cols.text());
            if let Some(title) = &block.title {
                assert_eq!(at(bp.title_row.unwrap(), FIRST_COL), *title);
            }
            if let Some(corner) = &block.corner {
                assert_eq!(at(bp.header_row, FIRST_COL), *corner);
            }
            for (c, col) in block.columns.iter().enumerate() {
                let x = bp.first_data_col + c as u16;
                assert_eq!(at(bp.key_row, x), col.code);
                let label_row = bp.header_row + col.groups.len() as u32;
                assert_eq!(at(label_row, x), col.label, "column label of {}", col.code);
            }
            for (r, row) in block.rows.iter().enumerate() {
                let y = bp.first_data_row + r as u32;
                assert_eq!(at(y, 0), Marker::Row(row.code.clone()).text());
                if !row.label.is_empty() {
                    assert_eq!(at(y, FIRST_COL + row.groups.len() as u16), row.label);
                }
                for col in &block.columns {
                    let key = Key::cell(&table.code, &row.code, &col.code);
                    let cell = plan.cells[&key];
                    let found = at(cell.row, cell.col);
                    match totals.get(&key) {
                        Some(parts) => {
                            let cells: Vec<_> = parts.iter().map(|p| plan.cells[p]).collect();
                            assert_eq!(found, format!("={}", sum_of(&cells)), "total {key}");
                        }
                        None => assert_eq!(found, "0", "input {key} starts at 0"),
                    }
                }
            }
        }
    }
}

#[test]
fn tables_2019_match_the_definition() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2020);
    assert_eq!(
        sheet_names(&path),
        [
            "封面",
            "表二 主动公开",
            "表三 依申请公开",
            "表四 复议诉讼",
            "文字部分",
            "_nianbao"
        ]
    );
    assert_tables_match_definition(&path, &format_for(2020));
}

#[test]
fn tables_2021_match_the_definition() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2021);
    assert_tables_match_definition(&path, &format_for(2021));
}

#[test]
fn identity_is_hidden_in_cells_and_properties() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2024);
    let id: Vec<(String, String)> = dump_sheet(&path, "_nianbao")
        .chunks(2)
        .map(|kv| (kv[0].1.clone(), kv[1].1.clone()))
        .collect();
    let get = |k: &str| {
        id.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("format_id"), "2021");
    assert_eq!(get("unit_code"), "110");
    assert_eq!(get("unit_name"), "山市镇人民政府");
    assert_eq!(get("parent_code"), "100");
    assert_eq!(get("year"), "2024");
    assert_eq!(
        get("template_version"),
        nianbao::identity::TEMPLATE_VERSION.to_string()
    );
    let workbook = xlsx_part(&path, "xl/workbook.xml");
    assert!(
        workbook.contains(r#"name="_nianbao" sheetId="6" state="veryHidden""#),
        "{workbook}"
    );
    let custom = xlsx_part(&path, "docProps/custom.xml");
    assert!(
        custom.contains("nianbao_unit_code") && custom.contains(">110<"),
        "{custom}"
    );
}

#[test]
fn cover_is_prefilled_and_locked_contact_fields_are_open() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2020);
    let cover = |field: &str| a1(2020, &format!("cover:{field}"));
    assert_eq!(
        cell_text(&path, "封面", &cover("unit_name")),
        "山市镇人民政府"
    );
    assert_eq!(cell_text(&path, "封面", &cover("unit_code")), "110");
    assert_eq!(
        cell_text(&path, "封面", &cover("parent")),
        "示例县人民政府（100）"
    );
    assert_eq!(cell_text(&path, "封面", &cover("year")), "2020");
    // The level in Chinese, not the roster's code.
    assert_eq!(cell_text(&path, "封面", &cover("level")), "乡镇");
    // Each field's label is in the first column of its row.
    let (filler_row, _) = pos(2020, "cover:filler");
    assert_eq!(
        cell_text(&path, "封面", &a1_at(filler_row, FIRST_COL)),
        "填报人"
    );
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let styles = wb.worksheet_style("封面").unwrap();
    let locked = |a: &str| {
        let at = nianbao::cell::CellRef::parse(a).unwrap();
        styles
            .get((at.row, u32::from(at.col)))
            .and_then(|s| s.protection.as_ref())
            .is_none_or(|p| p.locked)
    };
    assert!(locked(&cover("unit_name")), "unit name is locked");
    assert!(locked(&cover("year")), "year is locked");
    assert!(!locked(&cover("filler")), "填报人 is for the clerk");
    assert!(!locked(&cover("head")), "单位负责人 is for the clerk");
    let cover = dump_sheet(&path, "封面");
    assert!(cover
        .iter()
        .any(|(_, t)| t.contains("只在浅黄色单元格中填写")));
    assert!(cover
        .iter()
        .any(|(_, t)| t.contains("第一项加第二项之和，等于第三项加第四项之和")));
    // Every visible sheet is protected, without a password.
    for n in 1..=5 {
        let xml = xlsx_part(&path, &format!("xl/worksheets/sheet{n}.xml"));
        assert!(
            xml.contains("<sheetProtection") && !xml.contains("password="),
            "sheet{n}"
        );
        assert!(
            xml.contains(r#"orientation="landscape""#) && xml.contains(r#"paperSize="9""#),
            "sheet{n}"
        );
        // Fit to one page wide (fitToWidth="1" is the default and so omitted); tables are
        // also one page tall, the cover and the text sheet may run on.
        assert!(
            xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#) && !xml.contains("fitToWidth"),
            "sheet{n}"
        );
        assert_eq!(
            xml.contains(r#"fitToHeight="0""#),
            n == 1 || n == 5,
            "sheet{n}"
        );
    }
}

#[test]
fn blank_workbook_lets_the_clerk_fill_in_the_unit() {
    let scratch = Scratch::new();
    emit(&scratch, 2020);
    let path = scratch.path("out/空白模板_2020.xlsx");
    assert_eq!(cell_text(&path, "封面", &a1(2020, "cover:unit_name")), "");
    assert_eq!(cell_text(&path, "封面", &a1(2020, "cover:year")), "2020");
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let styles = wb.worksheet_style("封面").unwrap();
    let (row, col) = pos(2020, "cover:unit_name");
    let unit_name = styles
        .get((row, u32::from(col)))
        .and_then(|s| s.protection.as_ref())
        .map(|p| p.locked);
    assert_eq!(unit_name, Some(false));
}

#[test]
fn every_input_cell_is_unlocked_and_validated_and_totals_are_locked() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2020);
    let format = format_for(2020);
    let totals = format.totals();
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    for (i, table) in format.tables.iter().enumerate() {
        let plan = layout::plan_table(&format, table);
        let styles = wb.worksheet_style(&table.sheet).unwrap();
        let xml = xlsx_part(&path, &format!("xl/worksheets/sheet{}.xml", i + 2));
        // The cells the validations cover (`sqref="E8:J8"` or `"C7"`) are exactly the
        // input cells.
        let mut covered = std::collections::BTreeSet::new();
        let validations = xml.split("<dataValidation ").skip(1);
        let sqrefs = validations.filter_map(|v| v.split("sqref=\"").nth(1)?.split('"').next());
        for sqref in sqrefs {
            let (a, b) = sqref.split_once(':').unwrap_or((sqref, sqref));
            let (a, b) = (CellRef::parse(a).unwrap(), CellRef::parse(b).unwrap());
            for row in a.row..=b.row {
                for col in a.col..=b.col {
                    assert!(covered.insert(CellRef::new(row, col)), "{sqref} overlaps");
                }
            }
        }
        let inputs: std::collections::BTreeSet<CellRef> = plan
            .cells
            .iter()
            .filter(|(k, _)| !totals.contains_key(*k))
            .map(|(_, c)| *c)
            .collect();
        assert_eq!(covered, inputs, "table {}", table.code);
        for (key, cell) in &plan.cells {
            let locked = styles
                .get((cell.row, u32::from(cell.col)))
                .and_then(|s| s.protection.as_ref())
                .is_none_or(|p| p.locked);
            assert_eq!(locked, totals.contains_key(key), "{key} at {cell}");
        }
    }
    let t2 = xlsx_part(&path, "xl/worksheets/sheet2.xml");
    // `between` is the default operator, so the signed 本年增/减 validation omits it.
    assert!(
        t2.contains(r#"type="whole" allowBlank"#) && t2.contains("<formula1>-999999999</formula1>"),
        "本年增/减 is a signed whole number"
    );
    assert!(
        t2.contains(r#"type="decimal" operator="greaterThanOrEqual""#),
        "采购总金额 is an amount"
    );
    assert!(t2.contains("单位：元"));
    let t3 = xlsx_part(&path, "xl/worksheets/sheet3.xml");
    assert!(t3.contains(r#"type="whole" operator="greaterThanOrEqual""#));
    assert!(t3.contains("请填写不小于 0 的整数") && t3.contains("输入有误"));
}

#[test]
fn table_three_checks_itself_live() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2021);
    let format = format_for(2021);
    let plan = layout::plan_table(&format, format.table("t3").unwrap());
    assert_eq!(plan.live_checks.len(), 1);
    let live = &plan.live_checks[0];
    let cells: std::collections::BTreeMap<String, String> =
        dump_sheet(&path, "表三 依申请公开").into_iter().collect();
    assert_eq!(
        cells[&a1_at(live.row, FIRST_COL)],
        "校验：第一项+第二项=第三项+第四项"
    );
    assert_eq!(live.checks.len(), 7);
    for (col, _) in &live.checks {
        let (new, carried, total, next) = ["new", "carried", "total", "carry_next"]
            .map(|r| plan.cells[&Key::cell("t3", r, "natural")].row + 1)
            .into();
        let c = nianbao::cell::CellRef::col_name(*col);
        // Rows next to each other: ranges.
        assert_eq!((carried, next), (new + 1, total + 1));
        let expected = format!(
            "=IF(SUM({c}{new}:{c}{carried})=SUM({c}{total}:{c}{next}),\"通过\",\"不通过\")"
        );
        assert_eq!(cells[&a1_at(live.row, *col)], expected);
        // The cached result a non-recalculating reader sees.
        assert_eq!(
            cell_text(&path, "表三 依申请公开", &a1_at(live.row, *col)),
            "通过"
        );
    }
    let xml = xlsx_part(&path, "xl/worksheets/sheet3.xml");
    assert!(xml.contains("conditionalFormatting") && xml.contains("不通过"));
}

#[test]
fn text_sheet_has_every_section_and_the_2021_fee_fields() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2021);
    let cells = dump_sheet(&path, "文字部分");
    let texts: Vec<&str> = cells.iter().map(|(_, t)| t.as_str()).collect();
    for marker in [
        "nianbao:section:opening",
        "nianbao:section:overview",
        "nianbao:section:problems",
        "nianbao:section:other",
        "nianbao:field:fee_cases",
        "nianbao:field:fee_amount",
    ] {
        assert!(texts.contains(&marker), "{marker} missing");
    }
    assert!(texts
        .iter()
        .any(|t| t.starts_with("五、存在的主要问题及改进情况")));
    assert!(texts.contains(&"收取信息处理费金额（元）"));
    let scratch19 = Scratch::new();
    let path19 = emit(&scratch19, 2020);
    let texts19 = dump_sheet(&path19, "文字部分");
    assert!(
        !texts19.iter().any(|(_, t)| t.contains("fee_")),
        "no fee fields in 2019"
    );
}

#[test]
fn layout_snapshots() {
    let scratch = Scratch::new();
    for year in [2020, 2021] {
        let path = emit(&scratch, year);
        for sheet in ["表二 主动公开", "表三 依申请公开", "表四 复议诉讼"] {
            let dump: Vec<String> = dump_sheet(&path, sheet)
                .into_iter()
                .map(|(a, t)| format!("{a}\t{t}"))
                .collect();
            insta::assert_snapshot!(format!("template_{year}_{sheet}"), dump.join("\n"));
        }
    }
}

#[test]
fn format_override_and_unknown_format() {
    let scratch = Scratch::new();
    let roster = scratch.write("units.csv", ROSTER);
    nianbao()
        .args(["template", "--year", "2022", "--format", "2019", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(scratch.path("o"))
        .assert()
        .success()
        .stderr(predicates::str::contains("与报告年度 2022 不符"));
    let id = dump_sheet(&scratch.path("o/110_山市镇人民政府_2022.xlsx"), "_nianbao");
    // The identity sheet holds a key then its value, row by row.
    assert!(id
        .windows(2)
        .any(|kv| kv[0].1 == "format_id" && kv[1].1 == "2019"));
    nianbao()
        .args(["template", "--year", "2018", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(scratch.path("o2"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("没有适用于 2018 年度的报告格式"));
}

#[test]
fn roster_errors_name_the_line() {
    let cases = [
        (
            "code,name,parent_code,level\n1,县,,county\n1,镇,,township\n",
            "第 3 行",
        ),
        (
            "code,name,parent_code,level\n1,县,,county\n2,镇,9,township\n",
            "9",
        ),
        (
            "code,name,parent_code,level\n1,县,2,county\n2,镇,1,township\n",
            "第 2 行",
        ),
        ("code,name,level\n1,县,county\n", "parent_code"),
    ];
    for (csv, needle) in cases {
        let scratch = Scratch::new();
        let roster = scratch.write("units.csv", csv);
        nianbao()
            .args(["template", "--year", "2024", "--units"])
            .arg(&roster)
            .arg("--out")
            .arg(scratch.path("o"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(needle));
        assert!(
            !scratch.path("o").exists(),
            "nothing written for a bad roster"
        );
    }
}

#[test]
fn hostile_unit_names_give_safe_file_names() {
    let scratch = Scratch::new();
    let roster = scratch.write(
        "units.csv",
        "code,name,parent_code,level\n1,../../x,,county\n2,<script>alert(1)</script>,1,township\n3,CON,1,village\n",
    );
    let out = scratch.path("out");
    nianbao()
        .args(["template", "--year", "2024", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // 3 units, the blank template, the distribution list (CSV and workbook).
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(!scratch.dir.path().join("x_2024.xlsx").exists());
    for n in &names {
        assert!(
            !n.contains(['/', '\\', '<', '>']) && !n.contains(".."),
            "{n}"
        );
    }
    // The name inside the workbook is kept as written.
    let id = dump_sheet(
        &out.join(names.iter().find(|n| n.starts_with("2_")).unwrap()),
        "_nianbao",
    );
    assert!(id.iter().any(|(_, t)| t == "<script>alert(1)</script>"));
}

#[test]
fn workbooks_do_not_depend_on_the_clock() {
    // The same roster gives the same bytes on every run: the creation time written into
    // a workbook is 1 January after the report year, not the time it was made.
    let scratch = Scratch::new();
    let path = emit(&scratch, 2024);
    let core = xlsx_part(&path, "docProps/core.xml");
    assert!(
        core.contains(
            "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2025-01-01T00:00:00Z</dcterms:created>"
        ),
        "{core}"
    );
    let first = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(scratch.path("out")).unwrap();
    let again = std::fs::read(emit(&scratch, 2024)).unwrap();
    assert!(first == again, "a second run wrote different bytes");
}

#[test]
fn a_killed_runs_temporary_files_are_cleared() {
    let scratch = Scratch::new();
    let left = scratch.write("out/.nianbao-tmp-half", b"half a workbook");
    let note = scratch.write("out/说明.txt", "下发说明".as_bytes());
    emit(&scratch, 2024);
    assert!(!left.exists(), "temporary file of a killed run left behind");
    assert!(note.is_file(), "other files are left alone");
}

/// `SUM(E10:E15,E17)`: the formula a template writes over cells, runs of consecutive
/// cells in one column or row as ranges (a deleted row shrinks a range, never `#REF!`).
pub fn sum_of(cells: &[nianbao::cell::CellRef]) -> String {
    let mut runs: Vec<(nianbao::cell::CellRef, nianbao::cell::CellRef)> = Vec::new();
    for &c in cells {
        match runs.last_mut() {
            Some((first, last))
                if (first.col == c.col && last.col == c.col && last.row + 1 == c.row)
                    || (first.row == c.row && last.row == c.row && last.col + 1 == c.col) =>
            {
                *last = c
            }
            _ => runs.push((c, c)),
        }
    }
    let refs: Vec<String> = runs
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}:{b}")
            }
        })
        .collect();
    format!("SUM({})", refs.join(","))
}

/// Every sheet with a print area (every visible sheet of ours) prints on A4, one page
/// wide, and its print area ends at its last row with text — or the row after it — not
/// a thousand rows further down. Returns how many print areas there are.
pub fn assert_pages_end_at_the_content(path: &Path) -> usize {
    let workbook = xlsx_part(path, "xl/workbook.xml");
    let mut areas = 0;
    for piece in workbook.split("<definedName ").skip(1) {
        let (attrs, rest) = piece.split_once('>').unwrap();
        if !attrs.contains("_xlnm.Print_Area") {
            continue;
        }
        let text = rest.split('<').next().unwrap();
        let (sheet, range) = text.rsplit_once('!').unwrap();
        let sheet = sheet.trim_matches('\'').replace("''", "'");
        let end = range.rsplit(':').next().unwrap().replace('$', "");
        let end = CellRef::parse(&end).unwrap().row;
        let last_text = dump_sheet(path, &sheet)
            .iter()
            .map(|(a1, _)| CellRef::parse(a1).unwrap().row)
            .max()
            .unwrap();
        assert!(
            last_text <= end && end <= last_text + 1,
            "{sheet}: print area ends at row {} but the text at row {}",
            end + 1,
            last_text + 1
        );
        areas += 1;
    }
    assert!(areas > 0, "no print areas in {}", path.display());
    let file = std::fs::File::open(path).unwrap();
    let zip = zip::ZipArchive::new(file).unwrap();
    let set_up = (1..)
        .map(|n| format!("xl/worksheets/sheet{n}.xml"))
        .take_while(|n| zip.index_for_name(n).is_some())
        .map(|n| xlsx_part(path, &n))
        .filter(|xml| {
            xml.contains(r#"paperSize="9""#)
                && xml.contains(r#"<pageSetUpPr fitToPage="1"/>"#)
                && !xml.contains("fitToWidth")
        })
        .count();
    assert_eq!(set_up, areas, "every printed sheet A4, one page wide");
    areas
}

#[test]
fn printed_pages_end_at_the_tables() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2021);
    // 封面, 表二–表四, 文字部分.
    assert_eq!(assert_pages_end_at_the_content(&path), 5);
    let blank = scratch.path("out").join("空白模板_2021.xlsx");
    assert_eq!(assert_pages_end_at_the_content(&blank), 5);
}

/// The attribute `name` of an XML start tag's text (`r="8" ht="20"` → `20`).
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || tag[..*i].ends_with(' '))?
        .0
        + key.len();
    tag[start..].split('"').next()
}

/// The start tags `<name …>` of an XML text.
pub fn tags<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    xml.split(&format!("<{name} "))
        .skip(1)
        .filter_map(|t| t.split('>').next())
        .collect()
}

/// Checks that every text on `sheet` fits its cell at the widths and heights the file
/// sets: a wrapped label's lines (a Chinese character two columns wide, at least 13.5 pt
/// a line for 11-point text) fit the height of the rows it spans; a label written
/// vertically (stacked, `textRotation="255"`) has a line per character. Returns how
/// many vertical labels there are.
pub fn assert_labels_fit(path: &Path, sheet: &str) -> usize {
    let names = sheet_names(path);
    let n = names.iter().position(|s| s == sheet).unwrap() + 1;
    let xml = xlsx_part(path, &format!("xl/worksheets/sheet{n}.xml"));
    let styles = xlsx_part(path, "xl/styles.xml");
    let cell_xfs = styles.split("<cellXfs").nth(1).unwrap();
    let cell_xfs = cell_xfs.split("</cellXfs>").next().unwrap();
    let stacked: Vec<bool> = cell_xfs
        .split("<xf ")
        .skip(1)
        .map(|xf| {
            xf.split("</xf>")
                .next()
                .unwrap()
                .contains(r#"textRotation="255""#)
        })
        .collect();
    let default_height = 15.0;
    let mut heights = std::collections::BTreeMap::new();
    let mut hidden = std::collections::BTreeSet::new();
    for row in tags(&xml, "row") {
        let r: u32 = attr(row, "r").unwrap().parse::<u32>().unwrap() - 1;
        if let Some(ht) = attr(row, "ht") {
            heights.insert(r, ht.parse::<f64>().unwrap());
        }
        if attr(row, "hidden") == Some("1") {
            hidden.insert(r);
        }
    }
    let mut widths = std::collections::BTreeMap::new();
    for col in tags(&xml, "col") {
        let (min, max): (u16, u16) = (
            attr(col, "min").unwrap().parse().unwrap(),
            attr(col, "max").unwrap().parse().unwrap(),
        );
        let width: f64 = attr(col, "width").unwrap().parse().unwrap();
        for c in min - 1..max {
            widths.insert(c, width);
        }
    }
    let style_of: std::collections::BTreeMap<CellRef, usize> = tags(&xml, "c")
        .into_iter()
        .filter_map(|c| {
            let at = CellRef::parse(attr(c, "r")?)?;
            Some((at, attr(c, "s")?.parse().ok()?))
        })
        .collect();
    let merges: Vec<(CellRef, CellRef)> = tags(&xml, "mergeCell")
        .into_iter()
        .map(|m| {
            let (a, b) = attr(m, "ref").unwrap().split_once(':').unwrap();
            (CellRef::parse(a).unwrap(), CellRef::parse(b).unwrap())
        })
        .collect();
    let mut vertical = 0;
    for (a1, text) in dump_sheet(path, sheet) {
        let at = CellRef::parse(&a1).unwrap();
        if at.col == 0 || hidden.contains(&at.row) || text.starts_with('=') {
            continue;
        }
        let end = merges
            .iter()
            .find(|(from, _)| *from == at)
            .map_or(at, |(_, to)| *to);
        let width: f64 = (at.col..=end.col)
            .map(|c| widths.get(&c).copied().unwrap_or(8.43))
            .sum();
        let height: f64 = (at.row..=end.row)
            .map(|r| heights.get(&r).copied().unwrap_or(default_height))
            .sum();
        let is_stacked = style_of.get(&at).is_some_and(|s| stacked[*s]);
        let lines = if is_stacked {
            vertical += 1;
            text.chars().count()
        } else {
            text.split('\n')
                .map(|line| {
                    let w: usize = line.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
                    (w as f64 / (width - 1.0)).ceil().max(1.0) as usize
                })
                .sum()
        };
        assert!(
            lines as f64 * 13.5 <= height,
            "{sheet}!{a1} “{text}”: {lines} lines in {height} pt (width {width})"
        );
    }
    vertical
}

#[test]
fn labels_fit_their_rows_and_group_labels_are_vertical() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2024);
    // 表三's six groups are written vertically, as in the official table: （一）–（七）'s
    // outer group and （三）–（六）.
    assert_eq!(assert_labels_fit(&path, "表三 依申请公开"), 5);
    for sheet in ["表二 主动公开", "表四 复议诉讼"] {
        assert_labels_fit(&path, sheet);
    }
    // The roll-up sheets of 汇总表.xlsx share the drawing.
    let out = scratch.path("ingest");
    ingest_samples(2024, &out).assert().code(1);
    let rollup = std::fs::read_dir(out.join("rollups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("汇总表.xlsx"))
        .unwrap();
    let first = sheet_names(&rollup)[0].clone();
    assert_eq!(assert_labels_fit(&rollup, &first), 5);
}

#[test]
fn table_two_bands_are_as_wide_as_their_blocks() {
    let scratch = Scratch::new();
    let path = emit(&scratch, 2024);
    let format = format_for(2024);
    let t2 = format.table("t2").unwrap();
    let plan = nianbao::layout::plan_table(&format, t2);
    let n = sheet_names(&path)
        .iter()
        .position(|s| *s == t2.sheet)
        .unwrap();
    let xml = xlsx_part(&path, &format!("xl/worksheets/sheet{}.xml", n + 1));
    let merges: Vec<&str> = tags(&xml, "mergeCell")
        .into_iter()
        .filter_map(|m| attr(m, "ref"))
        .collect();
    for (bp, block) in plan.blocks.iter().zip(&t2.blocks) {
        let row = bp.title_row.expect("a 第二十条 band");
        let last = bp.first_data_col + block.columns.len() as u16 - 1;
        let band = format!(
            "{}:{}",
            CellRef::new(row, FIRST_COL),
            CellRef::new(row, last)
        );
        assert!(merges.contains(&band.as_str()), "{band} in {merges:?}");
    }
}
