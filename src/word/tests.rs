//! Tests of the Word documents: well-formed XML whatever a clerk typed, the official
//! structure, merged cells from the grid, the 落款, user templates, same bytes every time.
//! (LibreOffice opening them is in `tests/it/word.rs`.)

use std::collections::BTreeMap;
use std::io::Read;

use super::*;
use crate::format::{Format, Formats, Key};

fn format(id: &str) -> Format {
    Formats::builtin().by_id(id).unwrap().clone()
}

fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The parts of a docx, by name, in zip order.
fn parts(docx: &[u8]) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (f.name().unwrap().to_string(), s)
        })
        .collect()
}

/// 山市镇人民政府's 2021 roll-up of `values`: the units `included` accepted, those
/// `missing` not sent, and nothing else.
fn shanshi_rollup<'a>(
    format: &'a Format,
    values: &'a BTreeMap<Key, f64>,
    included: &'a [(String, String)],
    missing: &'a [(String, String)],
) -> RollupData<'a> {
    RollupData {
        format,
        year: 2021,
        code: "110",
        name: "山市镇人民政府",
        level: "township",
        values,
        tally: crate::batch::Tally {
            expected: included.len() + missing.len(),
            received: included.len(),
            accepted: included.len(),
            missing: missing.len(),
            ..Default::default()
        },
        included,
        missing,
        rejected: &[],
        other: &[],
    }
}

fn part(docx: &[u8], name: &str) -> String {
    parts(docx)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no part {name}"))
        .1
}

/// Parses every part as XML, panicking on the first error; returns the text of
/// `word/document.xml` (the contents of its `w:t` elements, one string a paragraph).
fn well_formed(docx: &[u8]) -> Vec<String> {
    use quick_xml::events::Event;
    let mut paragraphs = Vec::new();
    for (name, xml) in parts(docx) {
        assert!(
            xml.chars().all(xml::allowed),
            "{name}: a character XML forbids"
        );
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut depth = 0i32;
        let mut current = String::new();
        let mut in_text = false;
        loop {
            match reader.read_event() {
                Ok(Event::Eof) => break,
                Ok(Event::Start(e)) => {
                    depth += 1;
                    in_text = e.name().as_ref() == "w:t";
                }
                Ok(Event::End(e)) => {
                    depth -= 1;
                    in_text = false;
                    if e.name().as_ref() == "w:p" && name == "word/document.xml" {
                        paragraphs.push(std::mem::take(&mut current));
                    }
                }
                Ok(Event::Text(t)) if in_text => {
                    current.push_str(t.as_ref());
                }
                Ok(Event::GeneralRef(r)) if in_text => {
                    let entity: &str = r.as_ref();
                    let c = match entity {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("unexpected entity {other}"),
                    };
                    current.push_str(c);
                }
                Ok(_) => {}
                Err(e) => panic!("{name} is not well-formed XML: {e}\n{xml}"),
            }
        }
        assert_eq!(depth, 0, "{name}: unbalanced");
    }
    paragraphs
}

fn unit_docx(
    f: &Format,
    name: &str,
    values: &BTreeMap<Key, f64>,
    t: &BTreeMap<String, String>,
) -> Vec<u8> {
    let word = Word::new(&Templates::builtin()).unwrap();
    let d = UnitData {
        format: f,
        year: 2021,
        code: "110",
        name,
        values,
        texts: t,
    };
    let sig = Signature::from_cover(name, Some("2022-01-12"));
    word.unit_report(&d, sig.as_ref()).unwrap()
}

#[test]
fn a_unit_report_has_the_official_structure_and_its_own_words() {
    let f = format("2021");
    let t = texts(&[
        ("opening", "现将有关情况总结如下："),
        ("overview", "第一段。\n\n第二段。"),
        ("problems", "问题。"),
    ]);
    let values = BTreeMap::from([
        (Key::field("fee_cases"), 2.0),
        (Key::field("fee_amount"), 35.5),
    ]);
    let docx = unit_docx(&f, "山市镇人民政府", &values, &t);
    let names: Vec<String> = parts(&docx).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/app.xml",
            "docProps/core.xml",
            "word/document.xml",
            "word/_rels/document.xml.rels",
            "word/styles.xml",
            "word/settings.xml",
            "word/fontTable.xml",
            "word/footer1.xml",
        ]
    );
    let paragraphs = well_formed(&docx);
    assert_eq!(
        paragraphs[0],
        "山市镇人民政府2021年政府信息公开工作年度报告"
    );
    assert_eq!(paragraphs[1], "现将有关情况总结如下：");
    let headings: Vec<&String> = paragraphs
        .iter()
        .filter(|p| {
            ["一、", "二、", "三、", "四、", "五、", "六、"]
                .iter()
                .any(|n| p.starts_with(n))
        })
        .filter(|p| p.ends_with("情况") || p.ends_with("事项"))
        .collect();
    assert_eq!(
        headings,
        [
            "一、总体情况",
            "二、主动公开政府信息情况",
            "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况",
            "五、存在的主要问题及改进情况",
            "六、其他需要报告的事项",
        ]
    );
    assert!(paragraphs.contains(&"第一段。".to_string()));
    assert!(paragraphs.contains(&"第二段。".to_string()));
    // The 信息处理费 sentence once, with the unit's figures; section 六 is empty.
    let fee: Vec<&String> = paragraphs
        .iter()
        .filter(|p| p.contains("信息处理费"))
        .collect();
    assert_eq!(fee.len(), 1, "{fee:?}");
    assert!(fee[0].contains('2') && fee[0].contains("35.5"), "{fee:?}");
    assert!(paragraphs.contains(&"（未填写）".to_string()));
    // The 落款 closes the report.
    let n = paragraphs.len();
    assert_eq!(paragraphs[n - 2..], ["山市镇人民政府", "2022年1月12日"]);
    let core = part(&docx, "docProps/core.xml");
    assert!(core.contains("<dc:title>山市镇人民政府2021年政府信息公开工作年度报告</dc:title>"));
}

#[test]
fn whatever_a_clerk_types_the_xml_stays_well_formed() {
    let f = format("2019");
    let hostile = "A<b>&c]]>\"'\u{0}\u{1}\u{b}\u{c}\u{1b}\u{FFFF}尾";
    let t = texts(&[("overview", hostile), ("problems", "<w:p>注入</w:p>")]);
    let docx = unit_docx(&f, "村<委>&会]]>\u{7}", &BTreeMap::new(), &t);
    let paragraphs = well_formed(&docx);
    assert!(
        paragraphs.contains(&"A<b>&c]]>\"'尾".to_string()),
        "{paragraphs:?}"
    );
    assert!(paragraphs.contains(&"<w:p>注入</w:p>".to_string()));
    assert_eq!(paragraphs[0], "村<委>&会]]>2021年政府信息公开工作年度报告");
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let f = format("2021");
    let t = texts(&[("overview", "文字。")]);
    let values = BTreeMap::from([(Key::from_string("t3.new.natural"), 3.0)]);
    let a = unit_docx(&f, "山市镇人民政府", &values, &t);
    let b = unit_docx(&f, "山市镇人民政府", &values, &t);
    assert!(a == b);
    let other = BTreeMap::from([(Key::from_string("t3.new.natural"), 4.0)]);
    assert!(a != unit_docx(&f, "山市镇人民政府", &other, &t));
}

#[test]
fn a_rollup_lists_who_is_counted() {
    let f = format("2021");
    let word = Word::new(&Templates::builtin()).unwrap();
    let unit = |c: &str, n: &str| (c.to_string(), n.to_string());
    let included = [
        unit("111", "山市村村民委员会"),
        unit("112", "东兴村<村>委会"),
    ];
    let missing = [unit("113", "西岗村村民委员会")];
    let values = BTreeMap::from([(Key::from_string("t3.new.natural"), 7.0)]);
    let d = shanshi_rollup(&f, &values, &included, &missing);
    let docx = word.rollup_report(&d).unwrap();
    let paragraphs = well_formed(&docx);
    assert_eq!(
        paragraphs[0],
        "山市镇人民政府2021年政府信息公开工作年度报告汇总表"
    );
    for expected in [
        "111",
        "山市村村民委员会",
        "东兴村<村>委会",
        "西岗村村民委员会",
        "无。",
        "汇总范围",
    ] {
        assert!(paragraphs.iter().any(|p| p == expected), "{expected}");
    }
    assert!(paragraphs
        .iter()
        .any(|p| p.contains("应报 3 个，已报 2 个：受理 2 个；未报送 1 个。")));
}

#[test]
fn merged_cells_follow_the_grid() {
    let f = format("2019");
    let docx = unit_docx(&f, "山市镇人民政府", &BTreeMap::new(), &BTreeMap::new());
    let doc = part(&docx, "word/document.xml");
    // Table 三's vertical group labels, and its corner merged three rows down.
    let upright = r#"<w:vMerge w:val="restart"/><w:textDirection w:val="tbRlV"/>"#;
    assert_eq!(doc.matches(upright).count(), 4);
    assert!(doc.contains(r#"<w:gridSpan w:val="3"/><w:vMerge w:val="restart"/>"#));
    // Three tables; table 四's header: 行政诉讼 over ten columns.
    assert_eq!(doc.matches("<w:tbl>").count(), 3);
    assert!(doc.contains(r#"<w:gridSpan w:val="10"/>"#));
}

#[test]
fn dates_on_the_cover_become_a_signature_line() {
    let date = |s: &str| Signature::from_cover("镇", Some(s)).map(|s| s.date);
    assert_eq!(date("2021-01-12").as_deref(), Some("2021年1月12日"));
    assert_eq!(date(" 2021/1/2 ").as_deref(), Some("2021年1月2日"));
    assert_eq!(date("2021.12.31").as_deref(), Some("2021年12月31日"));
    assert_eq!(date("2021年3月5日").as_deref(), Some("2021年3月5日"));
    assert_eq!(date("2024-03-01T12:00:00").as_deref(), Some("2024年3月1日"));
    for bad in [
        "",
        "见附件",
        "2021-13-01",
        "2021-1",
        "21-1-1",
        "2021-01-12号",
        "1月12日",
    ] {
        assert_eq!(date(bad), None, "{bad}");
    }
    assert_eq!(Signature::from_cover("镇", None), None);
}

#[test]
fn a_users_template_replaces_the_builtin_one_and_its_errors_name_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("unit.docx.xml.j2"),
        "<?xml version=\"1.0\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>{{ title }}·自定义</w:t></w:r></w:p></w:body></w:document>",
    )
    .unwrap();
    let word = Word::new(&Templates::from_dir(dir.path()).unwrap()).unwrap();
    let f = format("2021");
    let (values, t) = (BTreeMap::new(), BTreeMap::new());
    let d = UnitData {
        format: &f,
        year: 2021,
        code: "110",
        name: "镇",
        values: &values,
        texts: &t,
    };
    let docx = word.unit_report(&d, None).unwrap();
    assert_eq!(
        well_formed(&docx),
        ["镇2021年政府信息公开工作年度报告·自定义"]
    );

    std::fs::write(dir.path().join("unit.docx.xml.j2"), "{{ nothing.here }}").unwrap();
    let word = Word::new(&Templates::from_dir(dir.path()).unwrap()).unwrap();
    let err = word.unit_report(&d, None).unwrap_err().to_string();
    assert!(
        err.contains("unit.docx.xml.j2") && err.contains("第 1 行"),
        "{err}"
    );
}

#[test]
fn a_rollup_written_to_a_file_keeps_the_document_it_packed() {
    let f = format("2021");
    let word = Word::new(&crate::render::Templates::builtin()).unwrap();
    let values = BTreeMap::new();
    let included = vec![("111".to_string(), "山市村村民委员会".to_string())];
    let d = shanshi_rollup(&f, &values, &included, &[]);
    let mut kept = std::io::Cursor::new(Vec::new());
    let out = word
        .rollup_report_to(std::io::Cursor::new(Vec::new()), &d, None, Some(&mut kept))
        .unwrap();
    let docx = out.into_inner();
    assert_eq!(docx, word.rollup_report(&d).unwrap());
    let packed = parts(&docx)
        .into_iter()
        .find(|(name, _)| name == "word/document.xml")
        .unwrap()
        .1;
    assert_eq!(String::from_utf8(kept.get_ref().clone()).unwrap(), packed);
    // The volume's part: the body on a new page, the section properties left out.
    let mut part = Vec::new();
    Word::rollup_part_to(&mut kept, 0, &mut part).unwrap();
    let part = String::from_utf8(part).unwrap();
    assert!(part.starts_with("<w:p><w:pPr><w:pStyle w:val=\"Title\"/><w:pageBreakBefore/>"));
    assert!(
        part.ends_with("</w:p>") || part.ends_with("</w:tbl>"),
        "{}",
        &part[part.len() - 80..]
    );
    assert!(part.contains("山市村村民委员会") && !part.contains("<w:sectPr"));
}
