//! Reports written by something other than nianbao's templates: Word documents (`.docx`)
//! and web pages saved from a portal (`.html`), read through the same label engine as a
//! hand-made workbook, and the unit told by the name in the title or the file's name.
//!
//! The documents are made here by two generators of our own (WordprocessingML and HTML
//! written by hand from one description, with merges laid out differently from our
//! reports), and by LibreOffice from our own HTML reports (printing `SKIPPED` where
//! `soffice` is not installed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use nianbao::check::{check_file, Options};
use nianbao::format::{Formats, Key};
use nianbao::roster::Roster;

use crate::common::*;

// ── A report described once, written as .docx and as .html ───────────────────────────

/// A table cell: text, grid columns and rows it covers.
#[derive(Clone)]
struct C {
    text: String,
    colspan: u32,
    rowspan: u32,
}

fn c(text: impl Into<String>) -> C {
    C {
        text: text.into(),
        colspan: 1,
        rowspan: 1,
    }
}

fn span(text: impl Into<String>, colspan: u32, rowspan: u32) -> C {
    C {
        text: text.into(),
        colspan,
        rowspan,
    }
}

enum Block {
    P(String),
    Table(Vec<Vec<C>>),
}

fn p(text: &str) -> Block {
    Block::P(text.to_string())
}

/// The values every hand-made report of these tests holds (the others are 0): a clean
/// report of the 2021 format.
const VALUES: &[(&str, f64)] = &[
    ("t2.rules.made", 1.0),
    ("t2.rules.current", 3.0),
    ("t2.license.decisions", 12.0),
    ("t2.fees.fee_amount", 0.5),
    ("t3.new.natural", 3.0),
    ("t3.new.business", 1.0),
    ("t3.new.total", 4.0),
    ("t3.open.natural", 2.0),
    ("t3.open.total", 2.0),
    ("t3.other_overdue.natural", 1.0),
    ("t3.other_overdue.business", 1.0),
    ("t3.other_overdue.total", 2.0),
    ("t3.total.natural", 3.0),
    ("t3.total.business", 1.0),
    ("t3.total.total", 4.0),
    ("t4.all.review_upheld", 1.0),
    ("t4.all.review_total", 1.0),
];

fn value(key: &str) -> String {
    let v = VALUES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(0.0, |(_, v)| *v);
    format!("{v}")
}

/// A report of the 2021 format laid out as units lay theirs out, not as ours: 表二 with an
/// extra blank column on the right; 表三 with a blank first column, its header split over
/// three rows, its row groups as cells merged down, and （六）其他处理 as one merged row
/// above its three rows; 表四's header over three rows.
fn report(title: &str) -> Vec<Block> {
    let f = format_of(2024);
    let mut blocks = vec![
        p(title),
        p("现将本单位2024年度政府信息公开工作情况报告如下："),
        p("一、总体情况"),
        p("本年度，我镇认真贯彻《中华人民共和国政府信息公开条例》。"),
        p("（一）主动公开"),
        p("全年主动公开政府信息 120 条。"),
        p("二、主动公开政府信息情况"),
    ];
    // 表二: each block's title row, header and rows; one blank column at the right.
    let t2 = &f.tables[0];
    let mut rows = Vec::new();
    for block in &t2.blocks {
        rows.push(vec![
            span(block.title.clone().unwrap_or_default(), 4, 1),
            c(""),
        ]);
        let width = 3 / block.columns.len() as u32;
        let mut header = vec![c("信息内容")];
        header.extend(
            block
                .columns
                .iter()
                .map(|col| span(col.label.clone(), width, 1)),
        );
        header.push(c(""));
        rows.push(header);
        for row in &block.rows {
            let mut cells = vec![c(row.label.clone())];
            cells.extend(
                block
                    .columns
                    .iter()
                    .map(|col| span(value(&format!("t2.{}.{}", row.code, col.code)), width, 1)),
            );
            cells.push(c(""));
            rows.push(cells);
        }
    }
    blocks.push(Block::Table(rows));
    blocks.push(p("三、收到和处理政府信息公开申请情况"));
    // 表三.
    let t3 = &f.tables[1];
    let block = &t3.blocks[0];
    let mut rows = vec![
        vec![c(""), span("", 3, 3), span("申请人情况", 7, 1)],
        vec![
            c(""),
            span("自然人", 1, 2),
            span("法人或其他组织", 5, 1),
            span("总计", 1, 2),
        ],
        {
            let mut r = vec![c("")];
            r.extend(block.columns[1..6].iter().map(|col| c(col.label.clone())));
            r
        },
    ];
    let numbers = |row: &str| -> Vec<C> {
        block
            .columns
            .iter()
            .map(|col| c(value(&format!("t3.{row}.{}", col.code))))
            .collect()
    };
    // How many rows each group label covers, counted from the format.
    let covered = |group: &str, depth: usize| {
        block
            .rows
            .iter()
            .filter(|r| r.groups.get(depth).map(String::as_str) == Some(group))
            .count() as u32
            + u32::from(depth == 0) // the merged （六） row
    };
    let mut seen: Vec<String> = Vec::new();
    for row in &block.rows {
        let mut cells = vec![c("")];
        if row.code == "other_overdue" {
            // （六）其他处理 as one merged row across the whole table.
            rows.push(vec![c(""), span("（六）其他处理", 9, 1)]);
        }
        let groups: Vec<&String> = row.groups.iter().collect();
        let in_six = groups.get(1).is_some_and(|g| g.starts_with("（六）"));
        for (depth, g) in groups.iter().enumerate() {
            if depth == 1 && in_six {
                continue;
            }
            if !seen.contains(g) {
                seen.push((*g).clone());
                cells.push(span((*g).clone(), 1, covered(g, depth)));
            }
        }
        let label_width = if in_six { 2 } else { 3 - groups.len() as u32 };
        cells.push(span(row.label.clone(), label_width, 1));
        cells.extend(numbers(&row.code));
        rows.push(cells);
    }
    blocks.push(Block::Table(rows));
    blocks.push(p("四、政府信息公开行政复议、行政诉讼情况"));
    // 表四: three header rows and the data row.
    let t4 = &f.tables[2].blocks[0];
    let mut rows = vec![
        vec![span("行政复议", 5, 2), span("行政诉讼", 10, 1)],
        vec![span("未经复议直接起诉", 5, 1), span("复议后起诉", 5, 1)],
        t4.columns.iter().map(|col| c(col.label.clone())).collect(),
    ];
    rows.push(
        t4.columns
            .iter()
            .map(|col| c(value(&format!("t4.all.{}", col.code))))
            .collect(),
    );
    blocks.push(Block::Table(rows));
    blocks.extend([
        p("五、存在的主要问题及改进情况"),
        p("公开内容还不够细。"),
        p("六、其他需要报告的事项"),
        p("无。"),
        p("本年度未收取信息处理费。"),
    ]);
    blocks
}

/// The report as WordprocessingML: a row span becomes `w:vMerge` (restart, then a
/// continuing cell in each row below), a column span `w:gridSpan`.
fn docx(blocks: &[Block]) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let para = |s: &str| {
        format!(
            "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            esc(s)
        )
    };
    let mut body = String::new();
    for b in blocks {
        match b {
            Block::P(text) => body.push_str(&para(text)),
            Block::Table(rows) => {
                // Continuing cells to insert: (row, grid column, colspan).
                let mut below: Vec<(usize, u32, u32)> = Vec::new();
                let mut xml_rows: Vec<Vec<(u32, String)>> = vec![Vec::new(); rows.len()];
                let mut taken: Vec<(usize, u32)> = Vec::new();
                for (r, row) in rows.iter().enumerate() {
                    let mut col = 0u32;
                    for cell in row {
                        while taken.contains(&(r, col)) {
                            col += 1;
                        }
                        let merge = if cell.rowspan > 1 {
                            for d in 1..cell.rowspan as usize {
                                below.push((r + d, col, cell.colspan));
                                for k in 0..cell.colspan {
                                    taken.push((r + d, col + k));
                                }
                            }
                            "<w:vMerge w:val=\"restart\"/>"
                        } else {
                            ""
                        };
                        xml_rows[r].push((
                            col,
                            format!(
                                "<w:tc><w:tcPr><w:gridSpan w:val=\"{}\"/>{merge}</w:tcPr>{}</w:tc>",
                                cell.colspan,
                                para(&cell.text)
                            ),
                        ));
                        col += cell.colspan;
                    }
                }
                for (r, col, colspan) in below {
                    xml_rows[r].push((
                        col,
                        format!(
                            "<w:tc><w:tcPr><w:gridSpan w:val=\"{colspan}\"/><w:vMerge/></w:tcPr><w:p/></w:tc>"
                        ),
                    ));
                }
                body.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"a\"/></w:tblPr>");
                for mut row in xml_rows {
                    row.sort_by_key(|(col, _)| *col);
                    body.push_str("<w:tr>");
                    for (_, cell) in row {
                        body.push_str(&cell);
                    }
                    body.push_str("</w:tr>");
                }
                body.push_str("</w:tbl>");
            }
        }
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}<w:sectPr/></w:body></w:document>"
    );
    let parts = vec![
        (
            "[Content_Types].xml".to_string(),
            b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>".to_vec(),
        ),
        ("word/document.xml".to_string(), document.into_bytes()),
    ];
    rezip(&parts)
}

/// The report as an HTML page's body: `colspan`/`rowspan`, paragraphs as `<p>`.
fn html_body(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::P(text) => out.push_str(&format!("<p>{text}</p>\n")),
            Block::Table(rows) => {
                out.push_str("<table border=\"1\">\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str(&format!(
                            "<td colspan=\"{}\" rowspan=\"{}\"><p><span>{}</span></p></td>",
                            cell.colspan, cell.rowspan, cell.text
                        ));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
        }
    }
    out
}

const TITLE: &str = "山市镇人民政府2024年政府信息公开工作年度报告";

/// The values and texts a file is read as, by the library, with `roster` if given.
fn read(path: &Path, roster: Option<&Roster>) -> nianbao::validate::Submission {
    let formats = Formats::builtin();
    let options = Options {
        roster,
        ..Options::default()
    };
    check_file(path, &path.display().to_string(), &formats, options)
}

fn roster() -> Roster {
    Roster::parse(ROSTER.as_bytes(), "units.csv").unwrap()
}

/// Every value of the 2021 format: those of [`VALUES`], 0 for the others.
fn expected_values() -> BTreeMap<Key, f64> {
    let f = format_of(2024);
    let mut out: BTreeMap<Key, f64> = f.keys().into_iter().map(|k| (k, 0.0)).collect();
    for (k, v) in VALUES {
        out.insert(Key::from_string(k), *v);
    }
    out
}

fn assert_reads_as_the_report(path: &Path) {
    let sub = read(path, Some(&roster()));
    let messages: Vec<String> = sub
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.rule, f.cell_text(), f.message))
        .collect();
    assert!(sub.findings.is_empty(), "{}: {messages:#?}", path.display());
    assert_eq!((sub.unit_code.as_str(), sub.year), ("110", Some(2024)));
    assert_eq!(sub.unit_name, "山市镇人民政府");
    assert_eq!(sub.values, expected_values(), "{}", path.display());
    assert_eq!(
        sub.texts.get("opening").map(String::as_str),
        Some("现将本单位2024年度政府信息公开工作情况报告如下：")
    );
    assert_eq!(
        sub.texts.get("overview").map(String::as_str),
        Some("本年度，我镇认真贯彻《中华人民共和国政府信息公开条例》。\n（一）主动公开\n全年主动公开政府信息 120 条。")
    );
    assert_eq!(
        sub.texts.get("problems").map(String::as_str),
        Some("公开内容还不够细。")
    );
    assert_eq!(sub.texts.get("other").map(String::as_str), Some("无。"));
}

#[test]
fn hand_written_wordprocessingml_reads_every_value_through_its_own_merges() {
    let scratch = Scratch::new();
    let path = scratch.write("报告.docx", docx(&report(TITLE)));
    assert_reads_as_the_report(&path);
    // And `check` without a roster: the unit is the title's, a clean report exits 0.
    let (code, out) = check(&[&path], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("山市镇人民政府，2024 年度，2021 格式（按报告标题识别"),
        "{out}"
    );
}

#[test]
fn web_pages_in_gbk_inside_layout_tables_and_with_scripts_read_as_the_document() {
    let scratch = Scratch::new();
    let body = html_body(&report(TITLE));
    // Saved as a portal shows it: GBK, the report inside a layout table beside the
    // navigation, scripts and styles that mention the labels.
    let page = format!(
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\">\n\
         <html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\n\
         <title>{TITLE}_示例县人民政府网</title>\n\
         <style>td {{ font: 12px 宋体 }} .t3::before {{ content: \"一、总体情况\" }}</style>\n\
         <script>document.write('<table><tr><td>自然人</td><td>99</td></tr></table>');\n\
         var s = \"<p>一、总体情况</p>\";</script></head>\n\
         <body><table width=\"100%\"><tr><td class=\"nav\">首页 &gt; 政府信息公开 &gt; 年度报告</td></tr>\n\
         <tr><td><div class=\"article\">{body}</div></td></tr>\n\
         <tr><td>主办：示例县人民政府办公室</td></tr></table>\n\
         <noscript><table><tr><td>自然人</td></tr></table></noscript></body></html>"
    );
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&page);
    assert!(!lossy);
    let path = scratch.write("年报.htm", &gbk);
    assert_reads_as_the_report(&path);
    // The same page in UTF-8 without a declared charset.
    let utf8 = page.replace(" charset=gb2312", "");
    let path = scratch.write("年报.html", utf8.as_bytes());
    assert_reads_as_the_report(&path);
}

#[test]
fn findings_in_documents_name_table_row_and_column_and_the_unit_gets_a_correction_workbook() {
    let scratch = Scratch::new();
    let mut blocks = report(TITLE);
    // 表三「（七）总计」「自然人」 typed as 5 (the rows say 3), 一、总体情况 left empty.
    for b in &mut blocks {
        if let Block::Table(rows) = b {
            for row in rows.iter_mut() {
                if row.iter().any(|c| c.text == "（七）总计") {
                    let at = row.iter().position(|c| c.text == "（七）总计").unwrap();
                    row[at + 1].text = "5".into();
                }
            }
        }
    }
    blocks.retain(|b| !matches!(b, Block::P(t) if t.starts_with("本年度，我镇") || t.starts_with("（一）") || t.starts_with("全年")));
    let docs = scratch.path("in");
    std::fs::create_dir_all(&docs).unwrap();
    let path = docs.join("山市镇年报.docx");
    std::fs::write(&path, docx(&blocks)).unwrap();
    let found = findings(&path);
    let cells: Vec<(String, String)> = found
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            assert_eq!(s("sheet"), "", "no sheet in a document: {f}");
            let hint = s("hint");
            assert!(
                !hint.contains("工作表") && !hint.contains("公式"),
                "a hint about the template's sheets or formulas: {f}"
            );
            (s("rule"), s("cell"))
        })
        .collect();
    assert!(
        cells
            .iter()
            .any(|(_, c)| c == "表三「（七）总计」行「申请人情况/自然人」列"),
        "{cells:?}"
    );
    assert!(
        cells.contains(&("TX-1".into(), "「一、总体情况」".into())),
        "{cells:?}"
    );
    assert!(
        cells
            .iter()
            .all(|(_, c)| !c.contains('!') && !c.contains("表格")),
        "no made-up cell addresses: {cells:?}"
    );
    // ingest with the roster: rejected, and a correction workbook comes back.
    let roster = scratch.write("units.csv", ROSTER);
    let out = scratch.path("out");
    let run = nianbao()
        .arg("ingest")
        .arg(&docs)
        .args(["--year", "2024", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let files = records(&out.join("files.csv"));
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["status"], "rejected", "{files:?}");
    let correction = std::fs::read_dir(out.join("corrections"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("110_山市镇人民政府"))
        .expect("a correction workbook for 110");
    // Filled with what was read, the wrong total marked on its cell of the template.
    let total = a1(2024, "t3.total.natural");
    let sheet = &format_of(2024).tables[1].sheet;
    let dumped = dump_sheet(&correction, sheet);
    let at = |a: &str| dumped.iter().find(|(c, _)| c == a).map(|(_, v)| v.clone());
    assert_eq!(at(&a1(2024, "t3.new.natural")).as_deref(), Some("3"));
    assert!(
        at(&total).is_some(),
        "the total's cell is there: {dumped:?}"
    );
    let notes: String = unzip(&std::fs::read(&correction).unwrap())
        .into_iter()
        .filter(|(name, _)| name.starts_with("xl/comments"))
        .map(|(_, xml)| String::from_utf8_lossy(&xml).into_owned())
        .collect();
    assert!(notes.contains("规则 T3"), "the wrong total carries a note");
}

#[test]
fn units_are_told_by_the_title_then_the_file_name_against_the_roster() {
    let scratch = Scratch::new();
    let roster = roster();
    let read_as = |name: &str, title: &str| {
        let path = scratch.write(name, docx(&report(title)));
        read(&path, Some(&roster))
    };
    // The title's name without its suffix: 山市镇 → 山市镇人民政府.
    let sub = read_as("a.docx", "山市镇2024年政府信息公开工作年度报告");
    assert_eq!(
        (sub.unit_code.as_str(), sub.unit_name.as_str()),
        ("110", "山市镇人民政府")
    );
    // A village under its township's name is the village's.
    let sub = read_as("v.docx", "山市镇山市村2024年政府信息公开工作年度报告");
    assert_eq!(sub.unit_code, "111");
    // A title naming two roster units: no one's, both named.
    let sub = read_as("b.docx", "山市村、东兴村2024年政府信息公开工作年度报告");
    assert_eq!(sub.unit_code, "");
    let unit = sub
        .findings
        .iter()
        .find(|f| f.rule == "ID-1")
        .expect("an identification error");
    assert!(
        unit.message.contains("东兴村村民委员会（112）")
            && unit.message.contains("山市村村民委员会（111）"),
        "{}",
        unit.message
    );
    assert_eq!(sub.findings.iter().filter(|f| f.rule == "ID-1").count(), 1);
    // No title: the file's name.
    let mut untitled = report(TITLE);
    untitled.remove(0);
    let path = scratch.write("东兴村2024年政府信息公开工作年度报告.docx", docx(&untitled));
    let sub = read(&path, Some(&roster));
    assert_eq!(sub.unit_code, "112");
    assert_eq!(sub.identified_by, nianbao::locate::IdentifiedBy::FileName);
    // A unit the roster does not have: its title's name, no code.
    let sub = read_as("c.docx", "示例县财政局2024年政府信息公开工作年度报告");
    assert_eq!(
        (sub.unit_code.as_str(), sub.unit_name.as_str()),
        ("", "示例县财政局")
    );
    // In a batch: unidentified (naming both) and not in the roster.
    let docs = scratch.path("batch");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("b.docx"),
        docx(&report("山市村、东兴村2024年政府信息公开工作年度报告")),
    )
    .unwrap();
    std::fs::write(
        docs.join("c.docx"),
        docx(&report("示例县财政局2024年政府信息公开工作年度报告")),
    )
    .unwrap();
    std::fs::write(docs.join("d.wps"), b"WPS text of some kind").unwrap();
    let units = scratch.write("units.csv", ROSTER);
    let out = scratch.path("out");
    nianbao()
        .arg("ingest")
        .arg(&docs)
        .arg("--units")
        .arg(&units)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let files = records(&out.join("files.csv"));
    let status = |name: &str| {
        files
            .iter()
            .find(|f| f["file"].ends_with(name))
            .map(|f| (f["status"].clone(), f["reason"].clone()))
            .unwrap_or_else(|| panic!("{name} in {files:?}"))
    };
    let (s, reason) = status("b.docx");
    assert_eq!(s, "unidentified");
    assert!(reason.contains("山市村村民委员会（111）"), "{reason}");
    assert_eq!(status("c.docx").0, "unknown_unit");
    let (s, reason) = status("d.wps");
    assert_eq!(s, "unsupported");
    assert!(reason.contains("请另存为 .docx"), "{reason}");
}

/// The report typed into a workbook, as a clerk without the template would: the
/// paragraphs down column A of a first sheet, each table on a sheet of its own, a
/// merged cell's value in its top-left cell.
fn self_made_xlsx(blocks: &[Block], path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let text = wb.add_worksheet();
    text.set_name("报告").unwrap();
    let mut row = 0u32;
    for b in blocks {
        if let Block::P(t) = b {
            text.write_string(row, 0, t).unwrap();
            row += 1;
        }
    }
    for (n, b) in blocks.iter().enumerate() {
        let Block::Table(rows) = b else {
            continue;
        };
        let ws = wb.add_worksheet();
        ws.set_name(format!("表{n}")).unwrap();
        let mut taken: Vec<(u32, u16)> = Vec::new();
        for (r, cells) in rows.iter().enumerate() {
            let r = r as u32;
            let mut col = 0u16;
            for cell in cells {
                while taken.contains(&(r, col)) {
                    col += 1;
                }
                for dr in 0..cell.rowspan {
                    for dc in 0..cell.colspan as u16 {
                        taken.push((r + dr, col + dc));
                    }
                }
                match cell.text.parse::<f64>() {
                    Ok(x) => ws.write_number(r, col, x).map(|_| ()),
                    Err(_) if cell.text.is_empty() => Ok(()),
                    Err(_) => ws.write_string(r, col, &cell.text).map(|_| ()),
                }
                .unwrap();
                col += cell.colspan as u16;
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn a_self_made_workbook_without_the_template_is_told_by_its_title() {
    let scratch = Scratch::new();
    let path = scratch.path("年报.xlsx");
    self_made_xlsx(&report("山市镇2024年政府信息公开工作年度报告"), &path);
    let sub = read(&path, Some(&roster()));
    assert_eq!((sub.unit_code.as_str(), sub.year), ("110", Some(2024)));
    assert_eq!(sub.identified_by, nianbao::locate::IdentifiedBy::Title);
    let tables: BTreeMap<Key, f64> = expected_values()
        .into_iter()
        .filter(|(k, _)| k.as_str().starts_with('t'))
        .collect();
    let read_tables: BTreeMap<Key, f64> = sub
        .values
        .clone()
        .into_iter()
        .filter(|(k, _)| k.as_str().starts_with('t'))
        .collect();
    assert_eq!(read_tables, tables);
    assert!(
        sub.findings
            .iter()
            .all(|f| f.rule != "ID-1" && f.rule != "ID-2"),
        "{:?}",
        sub.findings
    );
}

#[test]
fn word_97_and_wps_documents_are_asked_to_be_saved_as_docx() {
    let scratch = Scratch::new();
    // Not an OLE2 container at all: still named for what to do.
    let wps = scratch.write("年报.wps", b"WPS text of some kind");
    let found = findings(&wps);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("请另存为 .docx"),
        "{found:?}"
    );
}

// ── Our own reports, through LibreOffice ────────────────────────────────────────────

/// values.csv as (unit, key) → value text.
fn values_of(out: &Path) -> BTreeMap<(String, String), String> {
    records(&out.join("values.csv"))
        .into_iter()
        .map(|r| {
            let key = format!("{}.{}.{}", r["table"], r["row_code"], r["col_code"]);
            ((r["unit_code"].clone(), key), r["value"].clone())
        })
        .collect()
}

/// sections.csv as a sorted list of rows.
fn sections_of(out: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rows = records(&out.join("sections.csv"));
    rows.sort();
    rows
}

/// The samples ingested, then their HTML reports (renamed to the unit's name alone, as
/// a portal would save them) ingested again as web pages, and — where LibreOffice is
/// installed — as Word documents LibreOffice made of them: every value and every text
/// section reads back as the workbooks gave them.
#[test]
fn our_reports_as_web_pages_and_libreoffice_docx_read_back_as_the_workbooks() {
    let scratch = Scratch::new();
    let first = scratch.path("first");
    ingest_samples(2024, &first).output().unwrap();
    let pages = scratch.path("pages");
    std::fs::create_dir_all(&pages).unwrap();
    let mut html: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(first.join("reports")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".html") {
            let unit = stem.split_once('_').map_or(stem, |(_, n)| n);
            let to = pages.join(format!("{unit}.html"));
            std::fs::copy(&path, &to).unwrap();
            html.push(to);
        }
    }
    assert!(html.len() > 10);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let again = |dir: &Path, out: &Path| {
        nianbao()
            .arg("ingest")
            .arg(dir)
            .arg("--units")
            .arg(root.join("samples/units.csv"))
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        let files = records(&out.join("files.csv"));
        assert!(
            files.iter().all(|f| f["status"] == "accepted"),
            "{files:#?}"
        );
    };
    let expected = values_of(&first);
    let units: std::collections::BTreeSet<String> = records(&first.join("files.csv"))
        .into_iter()
        .filter(|f| f["status"] == "accepted" || f["status"] == "accepted_with_warnings")
        .map(|f| f["unit_code"].clone())
        .collect();
    let same_units = |values: BTreeMap<(String, String), String>| {
        let want: BTreeMap<_, _> = expected
            .iter()
            .filter(|((u, _), _)| units.contains(u))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(values.len(), want.len());
        assert_eq!(values, want);
    };
    let want_sections: Vec<_> = sections_of(&first)
        .into_iter()
        .filter(|r| units.contains(&r["unit_code"]))
        .collect();
    let from_pages = scratch.path("from_pages");
    again(&pages, &from_pages);
    same_units(values_of(&from_pages));
    assert_eq!(sections_of(&from_pages), want_sections);
    let Some(bin) = soffice() else {
        println!(
            "SKIPPED: LibreOffice (soffice) is not installed; .docx from LibreOffice not tested"
        );
        return;
    };
    let docs = scratch.path("docs");
    let profile = scratch.path("profile");
    let run = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
        ])
        .arg(&docs)
        .args(&html)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let from_docs = scratch.path("from_docs");
    again(&docs, &from_docs);
    same_units(values_of(&from_docs));
    assert_eq!(sections_of(&from_docs), want_sections);
}

/// Broken documents end with a status, never a panic: cut short, not XML inside, a
/// table wider than any sheet, an empty page, bytes that are no text.
#[test]
fn broken_documents_are_reported_not_fatal() {
    let scratch = Scratch::new();
    let whole = docx(&report(TITLE));
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("cut.docx", whole[..whole.len() / 2].to_vec()),
        ("empty.html", Vec::new()),
        (
            "binary.htm",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        (
            "wide.html",
            format!(
                "<table>{}</table>",
                "<tr><td colspan=999 rowspan=999>x</td></tr>".repeat(50)
            )
            .into_bytes(),
        ),
    ];
    let mut parts = unzip(&whole);
    for (name, data) in &mut parts {
        if name == "word/document.xml" {
            *data = b"<w:document><w:body><w:p><w:t>unclosed".to_vec();
        }
    }
    cases.push(("notxml.docx", rezip(&parts)));
    for (name, bytes) in cases {
        let path = scratch.write(name, &bytes);
        let sub = read(&path, None);
        assert!(
            sub.findings
                .iter()
                .any(|f| f.level == nianbao::model::Level::Error),
            "{name}: {:?}",
            sub.findings
        );
    }
}
