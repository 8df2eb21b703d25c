//! Word documents read by real programs:
//!
//! - LibreOffice Writer (headless) converts a unit's report and a roll-up of both formats,
//!   the seed unit as `ingest` publishes it and a unit whose name and text are full of
//!   markup and control characters to PDF; `pdftotext` finds the title, the six headings
//!   in order, every 表三 row label and every number of the tables in order;
//! - `word/document.xml` read back with quick-xml: every number in its table cell, found
//!   by key through the grid's column order, and every merged cell as the grid has it
//!   (`gridSpan`, `vMerge restart` and its continuations), and nothing merged besides;
//! - `ingest` writes the same `.docx` bytes on one thread and on two, a `.docx` beside
//!   every report, and removes a unit's `.docx` when the unit is no longer accepted.
//!
//! The LibreOffice test skips, saying so, where LibreOffice Writer or poppler's
//! `pdftotext` is not installed (`.ci/run` installs them). Set `NIANBAO_SHOTS_DIR` to
//! keep the PDFs for a look.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use nianbao::format::{Format, Formats, Key, Kind};
use nianbao::grid::TableGrid;
use nianbao::model::number_text;
use nianbao::render::{RollupData, Templates, UnitData};
use nianbao::word::{Signature, Word};

use crate::common::{ingest_samples, nianbao, Scratch};

/// LibreOffice, when it can open Word documents: `soffice` runs, and the Writer
/// component is installed beside it (the Calc-only packages leave it out, and then
/// `--convert-to pdf` of a `.docx` fails).
fn writer() -> Option<&'static str> {
    let bin = crate::common::soffice()?;
    let program = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(bin))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_path_buf));
    match program {
        // Debian and Ubuntu: /usr/lib/libreoffice/program/libswlo.so is Writer's core.
        Some(dir) if dir.join("libswlo.so").exists() || dir.join("swriter").exists() => Some(bin),
        Some(dir) if dir.join("libsclo.so").exists() => None,
        _ => Some(bin),
    }
}

fn pdftotext() -> bool {
    Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Converts every file of `files` to PDF in `outdir` with one LibreOffice process and a
/// private profile; asserts it succeeded and that each PDF has pages.
fn to_pdf(bin: &str, outdir: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    std::fs::create_dir_all(outdir).unwrap();
    let out = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            outdir.join("profile").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(outdir)
        .args(files)
        .output()
        .expect("run soffice");
    assert!(
        out.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    files
        .iter()
        .map(|f| {
            let pdf = outdir.join(f.with_extension("pdf").file_name().unwrap());
            assert!(
                pdf.is_file(),
                "LibreOffice wrote no PDF for {}",
                f.display()
            );
            assert!(pages(&pdf) >= 2, "{} has too few pages", pdf.display());
            pdf
        })
        .collect()
}

fn pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output();
    let Ok(out) = out else {
        return usize::MAX; // no pdfinfo: pdftotext below still reads it
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The text of a PDF: `-layout` keeps table rows on one line, `-raw` keeps a wrapped
/// cell's lines together.
fn text(pdf: &Path, mode: &str) -> String {
    let out = Command::new("pdftotext")
        .arg(mode)
        .arg(pdf)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Asserts `needles` occur in `hay` in this order.
fn assert_in_order(hay: &str, needles: &[&str]) {
    let mut from = 0;
    for n in needles {
        match hay[from..].find(n) {
            Some(at) => from += at + n.len(),
            None => panic!("{n:?} missing or out of order in\n{hay}"),
        }
    }
}

/// Every number on the lines of `text` between the lines starting `from` and `to`
/// (trimmed), as tokens: the table rows' figures, in reading order.
fn numbers_between(text: &str, from: &str, to: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with(from) {
            inside = true;
        } else if t.starts_with(to) {
            break;
        }
        if !inside {
            continue;
        }
        for token in t.split_whitespace() {
            let number = token.strip_prefix('-').unwrap_or(token);
            let numeric = !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit() || c == '.')
                && number.chars().next().is_some_and(|c| c.is_ascii_digit());
            if numeric {
                out.push(token.to_string());
            }
        }
    }
    out
}

fn format(id: &str) -> Format {
    Formats::builtin().by_id(id).unwrap().clone()
}

/// Every cell of the format with its own number (all different, so that their order can
/// be checked): counts 101, 102, …; a signed change negative; amounts with decimals.
fn busy_values(f: &Format) -> BTreeMap<Key, f64> {
    let mut values = BTreeMap::new();
    for (i, cell) in f.cells().enumerate() {
        let n = 101.0 + i as f64;
        let v = match cell.col.kind {
            Kind::Count => n,
            Kind::Signed => -n,
            Kind::Amount => n * 10.0 + 0.25,
        };
        values.insert(cell.key, v);
    }
    for field in &f.fields {
        values.insert(Key::field(&field.code), 3.0);
    }
    values
}

/// The tables' numbers in the order a reader meets them: table by table in report order,
/// block by block, row by row, and across each row in the grid's column order.
fn numbers_in_order(f: &Format, values: &BTreeMap<Key, f64>) -> Vec<String> {
    let mut tables: Vec<_> = f.tables.iter().collect();
    tables.sort_by_key(|t| {
        ["一", "二", "三", "四", "五", "六"]
            .iter()
            .position(|n| *n == t.number)
    });
    let mut out = Vec::new();
    for table in tables {
        let grid = TableGrid::of(table);
        for (block, bg) in table.blocks.iter().zip(&grid.blocks) {
            let mut columns: Vec<(usize, &nianbao::format::Column)> = bg
                .columns
                .iter()
                .zip(&block.columns)
                .map(|(span, col)| (span.col, col))
                .collect();
            columns.sort_by_key(|(at, _)| *at);
            for row in &block.rows {
                for (_, col) in &columns {
                    let key = Key::cell(&table.code, &row.code, &col.code);
                    out.push(number_text(values.get(&key).copied().unwrap_or(0.0)));
                }
            }
        }
    }
    out
}

fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const HEADINGS: [&str; 6] = [
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
];

/// A report year of the format.
fn year_of(f: &Format) -> i32 {
    if f.id == "2019" {
        2020
    } else {
        2024
    }
}

/// A unit's report of `format` with every number set, as bytes.
fn unit_docx(word: &Word, f: &Format, name: &str, t: &BTreeMap<String, String>) -> Vec<u8> {
    let values = busy_values(f);
    let d = UnitData {
        format: f,
        year: year_of(f),
        code: "110",
        name,
        values: &values,
        texts: t,
    };
    let signature = Signature::from_cover(name, Some("2025-01-12"));
    word.unit_report(&d, signature.as_ref()).unwrap()
}

fn rollup_docx(word: &Word, f: &Format) -> Vec<u8> {
    let values = busy_values(f);
    let unit = |c: &str, n: &str| (c.to_string(), n.to_string());
    let d = RollupData {
        format: f,
        year: year_of(f),
        code: "100",
        name: "示例县人民政府",
        level: "county",
        values: &values,
        tally: nianbao::batch::Tally {
            expected: 4,
            received: 3,
            accepted: 2,
            rejected: 1,
            missing: 1,
            ..Default::default()
        },
        included: &[unit("110", "山市镇人民政府"), unit("120", "示例县教育局")],
        missing: &[unit("111", "山市村村民委员会")],
        rejected: &[unit("112", "东兴村村民委员会")],
        other: &[],
    };
    word.rollup_report(&d).unwrap()
}

fn unit_texts() -> BTreeMap<String, String> {
    texts(&[
        ("opening", "现将本单位年度政府信息公开工作情况报告如下："),
        (
            "overview",
            "（一）主动公开。全年主动公开政府信息。\n（二）依申请公开。均按时答复。",
        ),
        ("problems", "公开内容的把关还不够严。"),
        ("other", "无其他需要报告的事项。"),
    ])
}

/// The `word/document.xml` of a docx.
fn document_xml(docx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut part = zip.by_name("word/document.xml").unwrap();
    let mut s = String::new();
    part.read_to_string(&mut s).unwrap();
    s
}

// ── word/document.xml read back ─────────────────────────────────────────────────────

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merge {
    None,
    Restart,
    Continue,
}

#[derive(Debug, Clone)]
struct Tc {
    text: String,
    span: usize,
    merge: Merge,
}

/// The tables of a `document.xml`: rows of cells with their text, `gridSpan` and `vMerge`;
/// and the text of every paragraph outside tables. Panics on XML that is not well-formed.
fn read_document(xml: &str) -> (Vec<Vec<Vec<Tc>>>, Vec<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut tables: Vec<Vec<Vec<Tc>>> = Vec::new();
    let mut paragraphs = Vec::new();
    let (mut in_tc, mut in_t, mut depth) = (false, false, 0);
    let mut para = String::new();
    let val = |e: &quick_xml::events::BytesStart| -> Option<String> {
        e.attributes()
            .filter_map(Result::ok)
            .find(|a| a.key.as_ref() == "w:val")
            .map(|a| a.value.to_string())
    };
    loop {
        let event = reader.read_event().expect("well-formed document.xml");
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                depth += 1;
                match e.name().as_ref() {
                    "w:tbl" => tables.push(Vec::new()),
                    "w:tr" => tables.last_mut().unwrap().push(Vec::new()),
                    "w:tc" => {
                        in_tc = true;
                        let row = tables.last_mut().unwrap().last_mut().unwrap();
                        row.push(Tc {
                            text: String::new(),
                            span: 1,
                            merge: Merge::None,
                        });
                    }
                    "w:t" => in_t = true,
                    _ => {}
                }
            }
            Event::Empty(e) if in_tc => {
                let cell = tables
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap();
                match e.name().as_ref() {
                    "w:gridSpan" => cell.span = val(&e).unwrap().parse().unwrap(),
                    "w:vMerge" => {
                        cell.merge = match val(&e).as_deref() {
                            Some("restart") => Merge::Restart,
                            _ => Merge::Continue,
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                depth -= 1;
                match e.name().as_ref() {
                    "w:tc" => in_tc = false,
                    "w:t" => in_t = false,
                    "w:p" if !in_tc => paragraphs.push(std::mem::take(&mut para)),
                    _ => {}
                }
            }
            Event::Text(t) if in_t => {
                let s: &str = t.as_ref();
                if in_tc {
                    let cell = tables
                        .last_mut()
                        .unwrap()
                        .last_mut()
                        .unwrap()
                        .last_mut()
                        .unwrap();
                    cell.text.push_str(s);
                } else {
                    para.push_str(s);
                }
            }
            Event::GeneralRef(r) if in_t => {
                let name: &str = r.as_ref();
                let c = match name {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("entity {other}"),
                };
                if in_tc {
                    let cell = tables
                        .last_mut()
                        .unwrap()
                        .last_mut()
                        .unwrap()
                        .last_mut()
                        .unwrap();
                    cell.text.push_str(c);
                } else {
                    para.push_str(c);
                }
            }
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced document.xml");
    (tables, paragraphs)
}

/// Checks one Word table against the format's table: block titles, every header and
/// label cell where the grid puts it with its spans, merged down exactly as the grid
/// says (and nothing else merged), every number in its cell by key.
fn assert_table_matches_grid(
    doc: &[Vec<Tc>],
    table: &nianbao::format::Table,
    values: &BTreeMap<Key, f64>,
) {
    let grid = TableGrid::of(table);
    let mut at = 0;
    let (mut restarts, mut continues) = (0, 0);
    let (mut expected_restarts, mut expected_continues) = (0, 0);
    for (block, bg) in table.blocks.iter().zip(&grid.blocks) {
        if let Some(title) = &block.title {
            let row = &doc[at];
            assert_eq!(row.len(), 1, "{}: title row", table.code);
            assert_eq!(
                (row[0].text.as_str(), row[0].span),
                (title.as_str(), grid.width)
            );
            at += 1;
        }
        // Each Word cell at the grid column it starts in.
        let mut placed: BTreeMap<(usize, usize), &Tc> = BTreeMap::new();
        for r in 0..bg.height() {
            let mut col = 0;
            for tc in &doc[at + r] {
                placed.insert((r, col), tc);
                col += tc.span;
                match tc.merge {
                    Merge::Restart => restarts += 1,
                    Merge::Continue => continues += 1,
                    Merge::None => {}
                }
            }
            assert_eq!(col, grid.width, "{} row {r}: spans", table.code);
        }
        let labels = bg.rows.iter().flat_map(|r| &r.labels);
        for g in bg.header.iter().chain(labels) {
            let tc = placed
                .get(&(g.row, g.col))
                .unwrap_or_else(|| panic!("{}: no cell at {g:?}", table.code));
            assert_eq!(
                (tc.text.as_str(), tc.span),
                (g.text.as_str(), g.cols),
                "{g:?}"
            );
            if g.rows > 1 {
                expected_restarts += 1;
                expected_continues += g.rows - 1;
                assert_eq!(tc.merge, Merge::Restart, "{g:?}");
                for r in g.row + 1..=g.last_row() {
                    let below = placed[&(r, g.col)];
                    assert_eq!(
                        (below.merge, below.span),
                        (Merge::Continue, g.cols),
                        "{g:?}"
                    );
                    assert!(below.text.is_empty());
                }
            } else {
                assert_eq!(tc.merge, Merge::None, "{g:?}");
            }
        }
        for (row, row_grid) in block.rows.iter().zip(&bg.rows) {
            for (col, span) in block.columns.iter().zip(&bg.columns) {
                let key = Key::cell(&table.code, &row.code, &col.code);
                let tc = placed[&(row_grid.row, span.col)];
                let expected = number_text(values.get(&key).copied().unwrap_or(0.0));
                assert_eq!(
                    (tc.text.as_str(), tc.span),
                    (expected.as_str(), span.cols),
                    "{key}"
                );
            }
        }
        at += bg.height();
    }
    assert_eq!(at, doc.len(), "{}: rows", table.code);
    assert_eq!(
        (restarts, continues),
        (expected_restarts, expected_continues),
        "{}",
        table.code
    );
}

#[test]
fn document_xml_has_every_number_and_merge_of_the_grid() {
    let word = Word::new(&Templates::builtin()).unwrap();
    for id in ["2019", "2021"] {
        let f = format(id);
        let values = busy_values(&f);
        for docx in [
            unit_docx(&word, &f, "山市镇人民政府", &unit_texts()),
            rollup_docx(&word, &f),
        ] {
            let (tables, _) = read_document(&document_xml(&docx));
            // The report's tables first, in report order (a roll-up's unit lists follow).
            assert!(tables.len() >= 3);
            for (doc, table) in tables.iter().zip(["t2", "t3", "t4"]) {
                assert_table_matches_grid(doc, f.table(table).unwrap(), &values);
            }
        }
    }
}

#[test]
fn markup_and_control_characters_stay_text() {
    let word = Word::new(&Templates::builtin()).unwrap();
    let f = format("2021");
    let t = texts(&[
        (
            "overview",
            "甲<乙>&丙]]>丁\u{0}\u{8}\u{b}\u{c}\u{1f}\u{ffff}戊",
        ),
        ("problems", "<w:p><w:r><w:t>注入</w:t></w:r></w:p>"),
    ]);
    let docx = unit_docx(&word, &f, "村<委>&会]]>\u{7}", &t);
    let (_, paragraphs) = read_document(&document_xml(&docx));
    assert_eq!(paragraphs[0], "村<委>&会]]>2024年政府信息公开工作年度报告");
    assert!(
        paragraphs.iter().any(|p| p == "甲<乙>&丙]]>丁戊"),
        "{paragraphs:?}"
    );
    assert!(paragraphs
        .iter()
        .any(|p| p == "<w:p><w:r><w:t>注入</w:t></w:r></w:p>"));
}

/// The seed unit as `ingest` publishes it: 山市镇人民政府's 2020 report, every number 0.
fn seed_docx(scratch: &Scratch) -> PathBuf {
    let out = scratch.path("seed");
    ingest_samples(2020, &out).arg("--quiet").assert().code(1); // one village has not reported
    out.join("reports/231083102000_山市镇人民政府.docx")
}

#[test]
fn libreoffice_opens_every_document_with_its_words_and_numbers() {
    let Some(bin) = writer() else {
        println!("SKIPPED: LibreOffice Writer (soffice) is not installed");
        return;
    };
    if !pdftotext() {
        println!("SKIPPED: pdftotext (poppler-utils) is not installed");
        return;
    }
    let scratch = Scratch::new();
    let word = Word::new(&Templates::builtin()).unwrap();
    let mut files = Vec::new();
    for id in ["2019", "2021"] {
        let f = format(id);
        let unit = scratch.write(
            &format!("unit_{id}.docx"),
            unit_docx(&word, &f, "山市镇人民政府", &unit_texts()),
        );
        let rollup = scratch.write(&format!("rollup_{id}.docx"), rollup_docx(&word, &f));
        files.push((f, unit, rollup));
    }
    let hostile_text = texts(&[("overview", "甲<乙>&丙]]>丁\u{1}\u{1b}戊")]);
    let hostile = scratch.write(
        "hostile.docx",
        unit_docx(&word, &format("2021"), "村<委>&会]]>\u{7}", &hostile_text),
    );
    let seed = seed_docx(&scratch);

    let mut all: Vec<PathBuf> = files
        .iter()
        .flat_map(|(_, u, r)| [u.clone(), r.clone()])
        .collect();
    all.extend([hostile.clone(), seed.clone()]);
    let outdir = match std::env::var_os("NIANBAO_SHOTS_DIR") {
        Some(dir) => PathBuf::from(dir).join("word"),
        None => scratch.path("pdf"),
    };
    let pdfs = to_pdf(bin, &outdir, &all);
    let pdf_of = |docx: &Path| {
        pdfs.iter()
            .find(|p| p.file_stem() == docx.file_stem())
            .unwrap()
            .clone()
    };

    for (f, unit, rollup) in &files {
        let year = year_of(f);
        let values = busy_values(f);
        let expected = numbers_in_order(f, &values);

        let pdf = pdf_of(unit);
        let layout = text(&pdf, "-layout");
        let flat = squeeze(&layout);
        let title = format!("山市镇人民政府{year}年政府信息公开工作年度报告");
        let mut order = vec![title.as_str()];
        order.extend(HEADINGS);
        order.push("山市镇人民政府2025年1月12日");
        assert_in_order(&flat, &order);
        // Every label of 表三 (a wrapped label's lines stay together in reading order).
        let raw = squeeze(&text(&pdf, "-raw"));
        for (_, row) in f.table("t3").unwrap().rows() {
            assert!(
                raw.contains(&squeeze(&row.label)),
                "{}: {}",
                f.id,
                row.label
            );
        }
        let found = numbers_between(
            &layout,
            "二、主动公开政府信息情况",
            "五、存在的主要问题及改进情况",
        );
        assert_eq!(found, expected, "{}: the tables' numbers in order", f.id);

        let pdf = pdf_of(rollup);
        let layout = text(&pdf, "-layout");
        let flat = squeeze(&layout);
        let title = format!("示例县人民政府{year}年政府信息公开工作年度报告汇总表");
        assert_in_order(
            &flat,
            &[
                &title,
                HEADINGS[1],
                HEADINGS[2],
                HEADINGS[3],
                "汇总范围",
                "已计入的单位（2个）",
                "山市镇人民政府",
                "示例县教育局",
                "未报送的单位（1个）",
                "山市村村民委员会",
                "被退回的单位（1个，未计入）",
                "东兴村村民委员会",
            ],
        );
        let found = numbers_between(&layout, "二、主动公开政府信息情况", "汇总范围");
        assert_eq!(found, expected, "{}: the roll-up's numbers in order", f.id);
    }

    let flat = squeeze(&text(&pdf_of(&hostile), "-layout"));
    assert!(
        flat.contains("村<委>&会]]>2024年政府信息公开工作年度报告"),
        "{flat}"
    );
    assert!(flat.contains("甲<乙>&丙]]>丁戊"), "{flat}");

    // The seed: its own words, and a 0 in every cell of its tables.
    let layout = text(&pdf_of(&seed), "-layout");
    let flat = squeeze(&layout);
    let mut order = vec!["山市镇人民政府2020年政府信息公开工作年度报告"];
    order.extend(HEADINGS);
    assert_in_order(&flat, &order);
    assert!(flat.contains("我镇对政务村务公开工作十分重视"));
    let zeros = numbers_between(
        &layout,
        "二、主动公开政府信息情况",
        "五、存在的主要问题及改进情况",
    );
    let cells = format("2019").cells().count();
    assert_eq!(zeros, vec!["0".to_string(); cells]);
}

#[test]
fn ingest_writes_the_same_documents_on_any_thread_count_and_removes_stale_ones() {
    let scratch = Scratch::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let returns = scratch.path("returns");
    std::fs::create_dir_all(&returns).unwrap();
    for entry in std::fs::read_dir(root.join("samples/returns/2024")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, returns.join(path.file_name().unwrap())).unwrap();
    }
    let run = |out: &str, jobs: &str| {
        nianbao()
            .arg("ingest")
            .arg(&returns)
            .arg("--units")
            .arg(root.join("samples/units.csv"))
            .args([
                "--out",
                &scratch.path(out).display().to_string(),
                "--jobs",
                jobs,
                "--quiet",
            ])
            .output()
            .unwrap();
    };
    run("one", "1");
    run("two", "2");
    let docx = |dir: &str| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = walkdir::WalkDir::new(scratch.path(dir))
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "docx"))
            // The volumes (汇编) are tested in binder.rs.
            .filter(|p| !p.to_string_lossy().contains("汇编"))
            .map(|p| {
                let name = p
                    .strip_prefix(scratch.path(dir))
                    .unwrap()
                    .display()
                    .to_string();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let (one, two) = (docx("one"), docx("two"));
    let html = |dir: &str| {
        walkdir::WalkDir::new(scratch.path(dir))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
            .filter(|e| !e.path().ends_with("index.html"))
            .filter(|e| !e.path().to_string_lossy().contains("汇编"))
            .count()
    };
    assert_eq!(one.len(), html("one"), "a .docx beside every report");
    assert!(one.iter().any(|(n, _)| n.starts_with("rollups/")));
    assert_eq!(one.len(), two.len());
    for ((name, a), (_, b)) in one.iter().zip(&two) {
        assert!(a == b, "{name} differs between one and two threads");
    }

    // A unit that is no longer accepted loses its .docx with its .html.
    let report = scratch.path("one/reports/231083001002_海林市自然资源局.docx");
    assert!(report.is_file());
    let sent = std::fs::read_dir(&returns)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("231083001002"))
        .unwrap();
    std::fs::remove_file(sent).unwrap();
    run("one", "2");
    assert!(!report.exists(), "stale .docx left behind");
    assert!(!report.with_extension("html").exists());
}
