//! Word `.docx` (as Word, WPS or LibreOffice save it) → a [`Document`]: the body's
//! paragraphs and tables in reading order, streamed from `word/document.xml` with
//! quick-xml. The zip's declared sizes were held to the limits before this runs
//! ([`super::zip_checks`]), and the part is read through the zip reader, which stops at
//! the declared size.
//!
//! Table cells: `w:gridSpan` gives a cell's width in grid columns, `w:gridBefore` the
//! grid columns a row skips; a cell continuing a vertical merge (`w:vMerge` without
//! `restart`) is an empty cell, so the merged value stays in the top-left cell only, as
//! in a workbook. A table holding another table is a layout table: its text is running
//! text, the tables inside it are read as tables. Deleted revisions (`w:delText`) and
//! the fallback copy of alternate content are not read.

use quick_xml::events::{BytesStart, Event};

use super::document::{to_workbook, DocCell, Document};
use super::{corrupt, FileKind, RawWorkbook, ReadError};

/// Reads the document at `bytes` (a zip holding `word/document.xml`).
pub(super) fn read_docx(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| corrupt(format!("压缩包无法打开：{e}")))?;
    let part = archive
        .by_name("word/document.xml")
        .map_err(|_| corrupt("文档中缺少正文（word/document.xml）"))?;
    let reader = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let doc = parse(reader)?;
    to_workbook(doc, FileKind::Docx)
}

/// A table being read: its finished rows, the row and cell being read, and whether a
/// table was found inside it (then it is a layout table).
#[derive(Default)]
struct TableState {
    rows: Vec<Vec<DocCell>>,
    row: Vec<DocCell>,
    /// The cell being read: its paragraphs, grid span and whether it continues a
    /// vertical merge.
    cell: Vec<String>,
    span: u32,
    continues: bool,
    nested: bool,
}

/// The value of a `w:val` attribute.
fn val(e: &BytesStart<'_>) -> Option<String> {
    e.try_get_attribute("w:val")
        .ok()
        .flatten()
        .map(|a| a.value.into_owned())
}

/// Streams the body into paragraphs and tables.
fn parse<R: std::io::BufRead>(mut reader: quick_xml::Reader<R>) -> Result<Document, ReadError> {
    let mut doc = Document::default();
    let mut tables: Vec<TableState> = Vec::new();
    let mut para = String::new();
    let mut in_text = false;
    // Depth inside elements whose content is not read (mc:Fallback, w:delText).
    let mut skip = 0u32;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(format!("文档正文不是有效的 XML：{e}")))?;
        match event {
            Event::Eof => break,
            Event::Start(_) if skip > 0 => skip += 1,
            Event::End(_) if skip > 0 => skip -= 1,
            _ if skip > 0 => {}
            Event::Start(e) => match e.name().as_ref() {
                "mc:Fallback" | "w:delText" | "w:instrText" => skip = 1,
                "w:t" => in_text = true,
                "w:tbl" => {
                    if let Some(outer) = tables.last_mut() {
                        outer.nested = true;
                    }
                    flush(&mut para, &mut doc, &mut tables);
                    tables.push(TableState::default());
                }
                "w:tc" => {
                    if let Some(t) = tables.last_mut() {
                        (t.cell, t.span, t.continues) = (Vec::new(), 1, false);
                    }
                }
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                "w:gridSpan" => {
                    if let Some(t) = tables.last_mut() {
                        t.span = val(&e).and_then(|v| v.parse().ok()).unwrap_or(1);
                    }
                }
                "w:vMerge" => {
                    if let Some(t) = tables.last_mut() {
                        t.continues = val(&e).is_none_or(|v| v == "continue");
                    }
                }
                "w:gridBefore" => {
                    if let Some(t) = tables.last_mut() {
                        let n = val(&e).and_then(|v| v.parse().ok()).unwrap_or(0);
                        if n > 0 {
                            t.row.push(DocCell::new(String::new(), n, 1));
                        }
                    }
                }
                "w:tab" => para.push(' '),
                "w:br" | "w:cr" => para.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => para.push_str(t.as_ref()),
            Event::GeneralRef(r) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    para.push(c);
                } else {
                    let entity: &str = r.as_ref();
                    para.push_str(match entity {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "w:t" => in_text = false,
                "w:p" => flush(&mut para, &mut doc, &mut tables),
                "w:tc" => {
                    flush(&mut para, &mut doc, &mut tables);
                    if let Some(t) = tables.last_mut() {
                        let text = if t.continues {
                            String::new()
                        } else {
                            t.cell.join("\n")
                        };
                        let cell = DocCell::new(text, t.span, 1);
                        t.row.push(cell);
                        t.cell.clear();
                    }
                }
                "w:tr" => {
                    if let Some(t) = tables.last_mut() {
                        let row = std::mem::take(&mut t.row);
                        t.rows.push(row);
                    }
                }
                "w:tbl" => {
                    if let Some(t) = tables.pop() {
                        finish(t, &mut doc, &mut tables);
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    flush(&mut para, &mut doc, &mut tables);
    Ok(doc)
}

/// Ends a paragraph: into the cell being read, or the running text.
fn flush(para: &mut String, doc: &mut Document, tables: &mut [TableState]) {
    let text = std::mem::take(para);
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    match tables.last_mut() {
        Some(t) => t.cell.push(text.to_string()),
        None => doc.paragraphs.push(text.to_string()),
    }
}

/// A finished table: a data table goes to the document's tables; a layout table's
/// cells are running text (of the table around it, or of the document).
fn finish(t: TableState, doc: &mut Document, outer: &mut [TableState]) {
    if !t.nested {
        doc.tables.push(t.rows);
        return;
    }
    for cell in t.rows.into_iter().flatten() {
        for p in cell.text.split('\n').filter(|p| !p.trim().is_empty()) {
            match outer.last_mut() {
                Some(o) => o.cell.push(p.to_string()),
                None => doc.paragraphs.push(p.to_string()),
            }
        }
    }
}
