//! The bound volumes of a parent (what a township files with the county):
//!
//! - the 年报汇编: a cover title, a table of contents, the parent's roll-up tables, then
//!   the report of every accepted unit of its subtree, each starting on a new page;
//! - the 文字汇编: the 一、总体情况 and 五、存在的主要问题及改进情况 of each of those
//!   units under the unit's name, for the coordinator drafting the combined narrative.
//!
//! A volume is written piece by piece: the caller hands over one unit's body at a time
//! (kept from the per-unit pass), so that a county of thousands of units is never held
//! whole, and the package goes to a writer that may be a file ([`Word::binder`]).
//!
//! The table of contents is a real `TOC` field collecting the `Title` paragraphs, written
//! with its entries filled in (hyperlinks to a bookmark on each title), so that it reads
//! without updating; page numbers appear when Word updates the field (F9), since only a
//! layout engine knows them.

use std::io::{Read, Seek, SeekFrom, Write};

use zip::result::ZipError;

use super::xml::escape;
use super::{Word, WordError, PAGE};
use crate::format::Format;
use crate::render::{Comparison, UnitData};

/// The section codes whose texts the 文字汇编 gathers: 一、总体情况 and 五、存在的主要问题及
/// 改进情况 in the format definitions (their headings are taken from the format).
pub const NARRATIVE_SECTIONS: [&str; 2] = ["overview", "problems"];

/// A unit's report as a `.docx`, and the body of its `document.xml` (without the section
/// properties) for the volumes it is bound into.
#[derive(Debug)]
pub struct UnitDocument {
    pub docx: Vec<u8>,
    pub body: String,
}

/// A volume's front matter.
#[derive(Debug)]
pub struct Volume<'a> {
    /// The cover title (`山市镇人民政府2024年政府信息公开工作年度报告汇编`).
    pub title: &'a str,
    /// Who made it (the parent's name), for the document's properties.
    pub creator: &'a str,
    /// A line under the title (how many reports it holds).
    pub note: &'a str,
    /// The entries of the table of contents, in order (none: no table of contents).
    pub contents: &'a [String],
}

/// The body of a rendered `document.xml`, and its closing section properties.
fn split_body(document: &str) -> (&str, &str) {
    let start = document
        .find("<w:body>")
        .map_or(0, |i| i + "<w:body>".len());
    let end = document.rfind("</w:body>").unwrap_or(document.len());
    let body = &document[start..end];
    match body.rfind("<w:sectPr") {
        Some(s) => (body[..s].trim(), body[s..].trim()),
        None => (body.trim(), ""),
    }
}

/// The section properties of a volume: A4 portrait, page numbers in the footer.
fn section() -> String {
    let p = PAGE;
    format!(
        r#"<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter"/><w:pgSz w:w="{}" w:h="{}"/><w:pgMar w:top="{}" w:right="{}" w:bottom="{}" w:left="{}" w:header="851" w:footer="{}" w:gutter="0"/><w:cols w:space="425"/><w:docGrid w:linePitch="312"/></w:sectPr>"#,
        p.width, p.height, p.top, p.right, p.bottom, p.left, p.footer
    )
}

const DOCUMENT_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>"#;

const DOCUMENT_END: &str = "</w:body></w:document>";

/// The bookmark the table of contents' entry `n` links to.
fn bookmark(n: usize) -> String {
    format!("_Toc{}", n + 1)
}

fn paragraph(style: &str, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        escape(text)
    )
}

/// The cover title: the parent's name on a line of its own, as the reports set theirs.
fn title(text: &str, name: &str) -> String {
    let lines: Vec<&str> = match text.strip_prefix(name) {
        Some(rest) if !name.is_empty() && !rest.is_empty() => vec![name, rest],
        _ => vec![text],
    };
    let runs: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                r#"<w:r><w:t xml:space="preserve">{}</w:t></w:r>"#,
                escape(l)
            )
        })
        .collect();
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="BinderTitle"/></w:pPr>{}</w:p>"#,
        runs.join("<w:r><w:br/></w:r>")
    )
}

/// `body` (a report's body, its title first) starting on a new page, its first paragraph
/// bookmarked as entry `n` of the contents. The page break is a property of the title
/// paragraph (`pageBreakBefore`), so that no empty line opens the page; a body that does
/// not begin with a paragraph gets an empty one before it.
pub(super) fn on_new_page(body: &str, n: usize) -> String {
    let mut body = body.trim_start().to_string();
    let mark = format!(
        r#"<w:bookmarkStart w:id="{}" w:name="{}"/><w:bookmarkEnd w:id="{}"/>"#,
        n + 1,
        bookmark(n),
        n + 1
    );
    const OPEN: &str = "<w:p><w:pPr>";
    if let Some(rest) = body.strip_prefix(OPEN) {
        // pageBreakBefore comes after pStyle in a paragraph's properties.
        let style_end = rest
            .strip_prefix("<w:pStyle")
            .and_then(|r| r.find("/>").map(|i| "<w:pStyle".len() + i + 2))
            .unwrap_or(0);
        if let Some(close) = rest.find("</w:pPr>") {
            if style_end <= close {
                // The later insertion first, so that the earlier position still holds.
                body.insert_str(OPEN.len() + close + "</w:pPr>".len(), &mark);
                body.insert_str(OPEN.len() + style_end, "<w:pageBreakBefore/>");
                return body;
            }
        }
    }
    body.insert_str(
        0,
        &format!(r#"<w:p><w:pPr><w:pageBreakBefore/></w:pPr>{mark}</w:p>"#),
    );
    body
}

/// The table of contents: a `TOC` field over the `Title` paragraphs, its entries filled
/// in as links to the bookmarks. Written entry by entry: a county's lists every unit.
fn contents_to(out: &mut dyn Write, entries: &[String]) -> std::io::Result<()> {
    out.write_all(paragraph("TOCHeading", "目　录").as_bytes())?;
    for (n, entry) in entries.iter().enumerate() {
        out.write_all(br#"<w:p><w:pPr><w:pStyle w:val="TOC1"/></w:pPr>"#)?;
        if n == 0 {
            out.write_all(concat!(
                r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r>"#,
                r#"<w:r><w:instrText xml:space="preserve"> TOC \h \z \n \t "Title,1" </w:instrText></w:r>"#,
                r#"<w:r><w:fldChar w:fldCharType="separate"/></w:r>"#
            ).as_bytes())?;
        }
        write!(
            out,
            r#"<w:hyperlink w:anchor="{}" w:history="1"><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:hyperlink></w:p>"#,
            bookmark(n),
            escape(entry)
        )?;
    }
    out.write_all(br#"<w:p><w:pPr><w:pStyle w:val="TOC1"/></w:pPr><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>"#)
}

/// How much of a kept document is read at a time to find where its body begins and
/// ends: the opening and the closing section properties are a few hundred bytes.
const WINDOW: u64 = 64 * 1024;

/// Where the body of the `document.xml` in `file` lies, as [`split_body`] cuts it
/// (trimmed, without the closing section properties), found from its first and last
/// [`WINDOW`] bytes.
fn body_span(file: &mut (impl Read + Seek)) -> std::io::Result<(u64, u64)> {
    let len = file.seek(SeekFrom::End(0))?;
    let head = read_at(file, 0, WINDOW.min(len))?;
    let start = find(&head, b"<w:body>").map_or(0, |i| (i + b"<w:body>".len()) as u64);
    let tail_at = len.saturating_sub(WINDOW).max(start);
    let tail = read_at(file, tail_at, len - tail_at)?;
    let end = rfind(&tail, b"</w:body>").unwrap_or(tail.len());
    let end = rfind(&tail[..end], b"<w:sectPr").unwrap_or(end);
    let trimmed = tail[..end].trim_ascii_end().len();
    Ok((start, (tail_at + trimmed as u64).max(start)))
}

fn read_at(file: &mut (impl Read + Seek), at: u64, len: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(at))?;
    let mut bytes = Vec::new();
    file.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

impl Word {
    /// A unit's annual report as a `.docx` ([`Word::unit_report`]) and its body, rendered
    /// once for both; with last year's key figures after the tables when `comparison` is
    /// given (`ingest --previous`).
    ///
    /// # Errors
    /// A template that does not render (named with its line).
    pub fn unit_document(
        &self,
        d: &UnitData,
        signature: Option<&super::Signature>,
        comparison: Option<&Comparison>,
    ) -> Result<UnitDocument, WordError> {
        let mut document = Vec::new();
        let docx = self.unit_report_with(d, signature, comparison, &mut document)?;
        // Our own WordprocessingML, always UTF-8: checked by the fast validation, the
        // lossy one (1.4 % of an ingest in the profile) kept for what cannot happen.
        let document = String::from_utf8(document)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let (body, _) = split_body(&document);
        Ok(UnitDocument {
            docx,
            body: body.to_string(),
        })
    }

    /// A parent's roll-up document (`document.xml` as [`Word::rollup_report_to`] kept
    /// it in `kept`) written into `out` as entry `n` of its 年报汇编 ([`Word::new_page`]
    /// of its body), streamed: a county's lists every unit.
    ///
    /// # Errors
    /// `kept` could not be read or `out` written.
    pub fn rollup_part_to(
        kept: &mut (impl Read + Seek),
        n: usize,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let (start, end) = body_span(kept)?;
        let opening = read_at(kept, start, WINDOW.min(end - start))?;
        // The opening up to a tag's start (ASCII: a character boundary) is put on the
        // new page; the title paragraph it needs is at the very beginning.
        let cut = if start + (opening.len() as u64) < end {
            opening
                .iter()
                .rposition(|&b| b == b'<')
                .unwrap_or(opening.len())
        } else {
            opening.len()
        };
        out.write_all(on_new_page(&String::from_utf8_lossy(&opening[..cut]), n).as_bytes())?;
        let rest = start + cut as u64;
        kept.seek(SeekFrom::Start(rest))?;
        std::io::copy(&mut kept.take(end - rest), out)?;
        Ok(())
    }

    /// A volume into `out`: the cover, the contents (when `volume.contents` has entries),
    /// then `part(n, out)` for each entry in turn, which writes entry `n`'s body (each
    /// made with [`Word::new_page`] so that it starts a page and is found by the
    /// contents); `part` is called until it returns `false`.
    ///
    /// # Errors
    /// What `part` returns, or the package could not be written.
    pub fn volume<W: Write + Seek, E: From<ZipError>>(
        &self,
        out: W,
        volume: &Volume,
        mut part: impl FnMut(&mut dyn Write) -> Result<bool, E>,
    ) -> Result<W, E> {
        self.shared
            .package_to(out, volume.title, volume.creator, |w| {
                let mut put = |text: &str| w.write_all(text.as_bytes()).map_err(ZipError::Io);
                put(DOCUMENT_START)?;
                put(&title(volume.title, volume.creator))?;
                put(&paragraph("Meta", volume.note))?;
                if !volume.contents.is_empty() {
                    contents_to(w, volume.contents).map_err(ZipError::Io)?;
                }
                while part(w)? {}
                let mut put = |text: &str| w.write_all(text.as_bytes()).map_err(ZipError::Io);
                put(&section())?;
                put(DOCUMENT_END)?;
                Ok(())
            })
    }

    /// `body` as entry `n` of a volume's contents: on a new page, bookmarked.
    pub fn new_page(body: &str, n: usize) -> String {
        on_new_page(body, n)
    }

    /// One unit's part of the 文字汇编: its name as a heading, then under their headings
    /// the texts of [`NARRATIVE_SECTIONS`] as the format names them, paragraph by
    /// paragraph (“（未填写）” for an empty one).
    pub fn narrative(format: &Format, name: &str, texts: &UnitTexts) -> String {
        let mut out = paragraph("BinderUnit", name);
        for section in format
            .sections
            .iter()
            .filter(|s| NARRATIVE_SECTIONS.contains(&s.code.as_str()))
        {
            out.push_str(&paragraph("Heading2", &section.heading()));
            let text = texts(&section.code);
            let paragraphs: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if paragraphs.is_empty() {
                out.push_str(&paragraph("Empty", "（未填写）"));
            }
            for p in paragraphs {
                out.push_str(&paragraph("BodyText", p));
            }
        }
        out
    }
}

/// A unit's text of a section, by the section's code.
pub type UnitTexts<'a> = dyn Fn(&str) -> String + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_paragraph_starts_the_page_and_carries_the_bookmark() {
        let body =
            r#"<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>标题</w:t></w:r></w:p>"#;
        let paged = on_new_page(body, 0);
        assert_eq!(
            paged,
            r#"<w:p><w:pPr><w:pStyle w:val="Title"/><w:pageBreakBefore/></w:pPr><w:bookmarkStart w:id="1" w:name="_Toc1"/><w:bookmarkEnd w:id="1"/><w:r><w:t>标题</w:t></w:r></w:p>"#
        );
        let other = on_new_page("<w:tbl/>", 2);
        assert!(other
            .starts_with("<w:p><w:pPr><w:pageBreakBefore/></w:pPr><w:bookmarkStart w:id=\"3\""));
    }

    #[test]
    fn a_kept_document_longer_than_the_window_streams_as_its_body_on_a_new_page() {
        let rows: String = (0..20_000)
            .map(|i| format!("<w:p><w:r><w:t>第{i}个单位</w:t></w:r></w:p>"))
            .collect();
        for body in [
            format!(
                r#"<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>汇总</w:t></w:r></w:p>{rows}"#
            ),
            "<w:tbl/>".to_string(),
        ] {
            let doc = format!(
                "<?xml?><w:document><w:body>\n {body} \n<w:sectPr><w:pgSz/></w:sectPr></w:body></w:document>"
            );
            let mut out = Vec::new();
            Word::rollup_part_to(&mut std::io::Cursor::new(doc.as_bytes()), 3, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                on_new_page(split_body(&doc).0, 3)
            );
        }
    }

    #[test]
    fn the_body_is_cut_from_its_section() {
        let doc = "<?xml?><w:document><w:body>\n<w:p/>\n<w:sectPr/>\n</w:body></w:document>";
        assert_eq!(split_body(doc), ("<w:p/>", "<w:sectPr/>"));
    }
}
