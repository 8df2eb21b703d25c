//! The `.docx` package: the parts every document has (content types, relationships,
//! styles, settings, font table, page-number footer, application properties), compressed
//! once per run and copied into each document's zip as they are, and a document's own
//! parts (`document.xml`, the properties naming it) compressed per document.
//!
//! Deterministic: the parts go in a fixed order, every entry has the same timestamp
//! (1980-01-01, the earliest a zip can hold) and permissions, and nothing reads the
//! clock, so the same document gives the same bytes on any machine and thread count.
//! The part list is the minimum Word, WPS and LibreOffice open without offering repair.

use std::io::{BufWriter, Cursor, Seek, Write};

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::xml::escape;

/// The namespace of WordprocessingML's main part.
const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

/// The document's relationships; `rIdFooter` is what the section's footer reference
/// (in the document templates) names.
const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rIdFonts" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/><Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"#;

const APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>nianbao</Application><DocSecurity>0</DocSecurity></Properties>"#;

/// Compatibility mode 15 (Word 2013 and later): Word opens the file without the
/// “compatibility mode” banner. Punctuation compression and Chinese line-breaking rules
/// as Chinese Word documents have them.
fn settings() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="{W_NS}"><w:zoom w:percent="100"/><w:defaultTabStop w:val="420"/><w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:spaceForUL/><w:balanceSingleByteDoubleByteWidth/><w:doNotLeaveBackslashAlone/><w:ulTrailSpace/><w:doNotExpandShiftReturn/><w:adjustLineHeightInTable/><w:useFELayout/><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat><w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"/><w:decimalSymbol w:val="."/><w:listSeparator w:val=","/></w:settings>"#
    )
}

/// The fonts the styles name, with the names Word and WPS know them by in English
/// (`altName`) and their kind, so that a machine without one substitutes a like font
/// (a serif 宋体-like font for 仿宋, a sans one for 黑体) rather than anything.
fn font_table() -> String {
    // (name, English name, panose, family)
    const FONTS: &[(&str, &str, &str, &str)] = &[
        ("Times New Roman", "", "02020603050405020304", "roman"),
        ("宋体", "SimSun", "02010600030101010101", "auto"),
        ("仿宋", "FangSong", "02010609060101010101", "modern"),
        ("黑体", "SimHei", "02010609060101010101", "modern"),
        ("楷体", "KaiTi", "02010609060101010101", "modern"),
        ("方正小标宋简体", "宋体", "02000000000000000000", "auto"),
    ];
    let mut out = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="{W_NS}">"#
    );
    for (name, alt, panose, family) in FONTS {
        out.push_str(&format!(r#"<w:font w:name="{name}">"#));
        if !alt.is_empty() {
            out.push_str(&format!(r#"<w:altName w:val="{alt}"/>"#));
        }
        let charset = if alt.is_empty() { "00" } else { "86" };
        out.push_str(&format!(
            r#"<w:panose1 w:val="{panose}"/><w:charset w:val="{charset}"/><w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>"#
        ));
    }
    out.push_str("</w:fonts>");
    out
}

/// The page number, centred at the foot of every page as “— 1 —”, the way official
/// documents number their pages.
fn footer() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="{W_NS}"><w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="center"/></w:pPr><w:r><w:t xml:space="preserve">— </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"#
    )
}

/// The document's title and author in its properties (what Explorer and Word's “Info”
/// show). No dates: they would make every run's bytes differ.
fn core(title: &str, creator: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dc:language>zh-CN</dc:language></cp:coreProperties>"#,
        escape(title),
        escape(creator)
    )
}

/// How every part is stored: deflated at a fast level (a document's XML is repetitive
/// and shrinks tenfold even so), with a fixed timestamp and permissions.
fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644)
}

/// `parts` compressed into a zip in memory, in this order.
fn zipped(parts: &[(&str, &str)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, text) in parts {
        zip.start_file(*name, options())?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The parts every document of a run shares, compressed once: those that go before a
/// document's own parts (the content types and package relationships, which tools that
/// sniff a file's type expect first) and those after.
#[derive(Debug, Clone)]
pub(super) struct Shared {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl Shared {
    /// `styles` is the rendered styles template.
    pub(super) fn new(styles: &str) -> zip::result::ZipResult<Shared> {
        let head = zipped(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("docProps/app.xml", APP),
        ])?;
        let tail = zipped(&[
            ("word/_rels/document.xml.rels", DOCUMENT_RELS),
            ("word/styles.xml", styles),
            ("word/settings.xml", &settings()),
            ("word/fontTable.xml", &font_table()),
            ("word/footer1.xml", &footer()),
        ])?;
        Ok(Shared { head, tail })
    }

    /// A whole `.docx`: the shared parts, the properties naming `title` and `creator`,
    /// and `word/document.xml` as `document` writes it — straight into the compressor, so
    /// that a large document (the whole roster's roll-up lists every unit) is never held
    /// whole in memory.
    pub(super) fn package<E: From<ZipError>>(
        &self,
        title: &str,
        creator: &str,
        document: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Vec<u8>, E> {
        let capacity = self.head.len() + self.tail.len() + 16 * 1024;
        let out = Cursor::new(Vec::with_capacity(capacity));
        Ok(self.package_to(out, title, creator, document)?.into_inner())
    }

    /// [`Shared::package`] into `out` (a file, for a document too large to hold: a
    /// 汇编 of every unit of a county).
    pub(super) fn package_to<W: Write + Seek, E: From<ZipError>>(
        &self,
        out: W,
        title: &str,
        creator: &str,
        document: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<W, E> {
        let mut zip = ZipWriter::new(out);
        zip.merge_archive(ZipArchive::new(Cursor::new(&self.head[..]))?)?;
        zip.start_file("docProps/core.xml", options())?;
        zip.write_all(core(title, creator).as_bytes())
            .map_err(ZipError::from)?;
        zip.start_file("word/document.xml", options())?;
        {
            // The template writes in many small pieces; the compressor likes fewer.
            let mut buffered = BufWriter::with_capacity(16 * 1024, &mut zip);
            document(&mut buffered)?;
            buffered.flush().map_err(ZipError::from)?;
        }
        zip.merge_archive(ZipArchive::new(Cursor::new(&self.tail[..]))?)?;
        Ok(zip.finish()?)
    }
}
