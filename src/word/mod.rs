//! Word documents (`.docx`) of the reports: a unit's annual report ready to publish and a
//! parent's roll-up, in the official structure, from the same views as the HTML reports.
//!
//! A document is drawn from two things, so that Word and HTML never disagree:
//! - the report's view from [`render`] (title, 开篇, the parts 一 to 六 in order, the
//!   unit's paragraphs, the 信息处理费 sentence, the unit notes under a table, the roll-up's
//!   lists), exactly as the HTML templates see it;
//! - each table's grid from [`crate::grid`] (merged headers, vertical group labels), cut
//!   into Word's rows and written as a `w:tbl` by `table.rs` (in code: drawn cell by cell
//!   through a template it cost more CPU than reading the workbook).
//!
//! The templates `templates/report/*.docx.xml.j2` turn them into WordprocessingML: the
//! document's order, paragraphs and headings, the section, and the styles every table
//! cell refers to (fonts, sizes, alignment, borders). A user's `--report-templates`
//! directory overrides them by name like the HTML ones; they render in an environment of
//! their own that escapes for XML (`xml.rs`). The parts every document shares (styles,
//! settings, fonts, footer) are made and compressed once per run ([`Word::new`]); per
//! document only `document.xml` and the properties are rendered and compressed, and
//! `package.rs` zips them deterministically.
//!
//! Pure: no clock, no I/O except what [`Templates`] read, the same input gives the same
//! bytes.
//!
//! Written with the `zip` crate the reader already uses rather than `docx-rs` (0.4.17 on
//! docs.rs): that builds documents in code only, so `--report-templates` could not
//! restyle them; it brings `image`, `xml-rs` and a second, older `zip` (0.6) into the
//! build; and the parts it writes (core properties, order, timestamps) are not ours to
//! fix for byte-identical output. The parts here are a dozen short, fixed strings.
//!
//! The page is A4 portrait with the margins of official documents (GB/T 9704: 37, 35, 28
//! and 26 mm), body text 仿宋 16 pt, headings 黑体, the title 方正小标宋简体 (宋体 where it
//! is not installed), tables 宋体 9 pt. Every table, 表三 included, stays on the portrait
//! page: rendered through LibreOffice, 表三's 25 rows × 10 columns fit one page at 9 pt
//! with its longest row labels on two lines and the group labels upright, so a landscape
//! section (which makes a printed report awkward to read and to bind) is not needed.

mod binder;
mod package;
mod table;
mod xml;

pub use binder::{UnitDocument, UnitTexts, Volume, NARRATIVE_SECTIONS};

use std::collections::BTreeMap;

use minijinja::value::{Serde, Value};
use minijinja::Environment;
use serde::Serialize;

use crate::render::{self, Comparison, LineNo, RenderError, RollupData, Templates, UnitData};

use package::Shared;
use table::{word_tables, Skeletons, CELL_MARGIN, TABLE_FONT_HALF_POINTS};

/// The templates shipped with the binary; a user's directory may override any of them by
/// name (and add partials whose names contain `.docx`).
const BUILTIN: &[(&str, &str)] = &[
    (
        "macros.docx.xml.j2",
        include_str!("../../templates/report/macros.docx.xml.j2"),
    ),
    (
        "styles.docx.xml.j2",
        include_str!("../../templates/report/styles.docx.xml.j2"),
    ),
    (
        "unit.docx.xml.j2",
        include_str!("../../templates/report/unit.docx.xml.j2"),
    ),
    (
        "rollup.docx.xml.j2",
        include_str!("../../templates/report/rollup.docx.xml.j2"),
    ),
    (
        "compare.docx.xml.j2",
        include_str!("../../templates/report/compare.docx.xml.j2"),
    ),
    (
        "units.docx.xml.j2",
        include_str!("../../templates/report/units.docx.xml.j2"),
    ),
];

/// A Word document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WordError {
    #[error(transparent)]
    Template(#[from] RenderError),
    #[error("无法生成 Word 文档：{0}")]
    Package(#[from] zip::result::ZipError),
}

/// The page, in twips (1/20 pt): A4 portrait with the margins of official documents.
#[derive(Debug, Clone, Copy, Serialize)]
struct Page {
    width: u32,
    height: u32,
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
    /// From the page's edge to the footer's baseline (the page number).
    footer: u32,
}

const PAGE: Page = Page {
    width: 11906,
    height: 16838,
    top: 2098,
    bottom: 1984,
    left: 1588,
    right: 1474,
    footer: 1134,
};

impl Page {
    /// The width of the text between the margins: what a table may fill.
    const fn text_width(&self) -> u32 {
        self.width - self.left - self.right
    }
}

/// Font sizes in half-points and the table cells' side margin in twips, for the styles
/// template (the table layout in [`table`] is computed from the same numbers).
#[derive(Debug, Serialize)]
struct Sizes {
    title: u32,
    body: u32,
    table: u32,
    note: u32,
    cell_margin: u32,
}

const SIZES: Sizes = Sizes {
    title: 44,
    body: 32,
    table: TABLE_FONT_HALF_POINTS,
    note: 21,
    cell_margin: CELL_MARGIN,
};

/// The 落款 under a unit's report, as the HTML report has it (one definition).
pub use crate::render::Signature;

/// The Word templates of a run, compiled once, and the parts every document shares.
#[derive(Debug)]
pub struct Word {
    templates: Compiled,
    shared: Shared,
    /// The report templates of the run, for their table layouts (made once per format).
    layouts: Templates,
    /// Each table's XML drawn once per format, cut at its numbers.
    skeletons: Skeletons,
}

/// The Word templates compiled in their own environment (XML escaping).
#[derive(Debug)]
struct Compiled {
    env: Environment<'static>,
    /// Template name → how a user recognises it (a path, or `内置模板 unit.docx.xml.j2`).
    origins: BTreeMap<String, String>,
}

impl Word {
    /// The Word templates: the built-in ones, each replaced by the template of the same
    /// name in `templates` (a user's `--report-templates` directory), and the shared parts
    /// rendered from them.
    ///
    /// # Errors
    /// A template that does not compile or render, named with its line.
    pub fn new(templates: &Templates) -> Result<Word, WordError> {
        let mut sources: BTreeMap<String, (String, String)> = BUILTIN
            .iter()
            .map(|(name, text)| {
                let origin = format!("内置模板 {name}");
                (name.to_string(), (text.to_string(), origin))
            })
            .collect();
        for (name, source, origin) in templates.sources_named(".docx") {
            sources.insert(name.to_string(), (source, origin.to_string()));
        }
        let (env, origins) =
            render::compile(sources, |_| xml::XML, xml::formatter).map_err(WordError::Template)?;
        let layouts = templates.clone();
        let templates = Compiled { env, origins };
        let ctx = minijinja::context! { sizes => Value::from(Serde(&SIZES)) };
        let styles = templates.render("styles.docx.xml.j2", ctx)?;
        let shared = Shared::new(&styles)?;
        Ok(Word {
            templates,
            shared,
            layouts,
            skeletons: Skeletons::default(),
        })
    }

    /// A unit's annual report as a `.docx`, with its 落款 when it has one.
    ///
    /// # Errors
    /// A template that does not render (named with its line).
    pub fn unit_report(
        &self,
        d: &UnitData,
        signature: Option<&Signature>,
    ) -> Result<Vec<u8>, WordError> {
        self.unit_report_with(d, signature, None, &mut std::io::sink())
    }

    /// [`Word::unit_report`], with last year's key figures when `comparison` is given,
    /// writing the `document.xml` to `keep` too as it is written.
    fn unit_report_with(
        &self,
        d: &UnitData,
        signature: Option<&Signature>,
        comparison: Option<&Comparison>,
        keep: &mut dyn std::io::Write,
    ) -> Result<Vec<u8>, WordError> {
        let ctx = render::unit_context(&self.layouts, d, comparison);
        let values = render::values_with_totals(d.format, d.values);
        let view = DocxView::new(
            &ctx,
            d.name,
            d.format,
            &values,
            &self.skeletons,
            signature.cloned(),
        );
        let title = view.title.clone();
        let ctx = view.into_context(ctx);
        self.shared.package(&title, d.name, |out| {
            let mut tee = Tee { out, keep };
            Ok::<_, WordError>(
                self.templates
                    .render_to("unit.docx.xml.j2", ctx, &mut tee)?,
            )
        })
    }

    /// A parent's roll-up as a `.docx`: the summed tables and who is counted.
    ///
    /// # Errors
    /// A template that does not render (named with its line).
    pub fn rollup_report(&self, d: &RollupData) -> Result<Vec<u8>, WordError> {
        self.rollup_report_compared(d, None)
    }

    /// [`Word::rollup_report`] with last year's key figures after the tables
    /// (`ingest --previous`); with `None`, the same document.
    ///
    /// # Errors
    /// A template that does not render (named with its line).
    pub fn rollup_report_compared(
        &self,
        d: &RollupData,
        comparison: Option<&Comparison>,
    ) -> Result<Vec<u8>, WordError> {
        let out = std::io::Cursor::new(Vec::new());
        let out = self.rollup_report_to(out, d, comparison, None)?;
        Ok(out.into_inner())
    }

    /// [`Word::rollup_report_compared`] written into `out` as it renders (the whole
    /// roster's roll-up lists every unit), its `document.xml` also written to `keep`
    /// when given: for the parent's 年报汇编 ([`Word::rollup_part_to`]), so that it is
    /// rendered once and a county's, which lists every unit, is never held whole.
    ///
    /// # Errors
    /// A template that does not render (named with its line), or `out` or `keep` could
    /// not be written.
    pub fn rollup_report_to<W: std::io::Write + std::io::Seek>(
        &self,
        out: W,
        d: &RollupData,
        comparison: Option<&Comparison>,
        keep: Option<&mut dyn std::io::Write>,
    ) -> Result<W, WordError> {
        let ctx = render::rollup_context(&self.layouts, d, comparison);
        let values = render::values_with_totals(d.format, d.values);
        let view = DocxView::new(&ctx, d.name, d.format, &values, &self.skeletons, None);
        let title = view.title.clone();
        let ctx = view.into_context(ctx);
        self.shared.package_to(out, &title, d.name, |out| {
            let rendered = match keep {
                Some(keep) => {
                    let mut tee = Tee { out, keep };
                    self.templates
                        .render_to("rollup.docx.xml.j2", ctx, &mut tee)
                }
                None => self.templates.render_to("rollup.docx.xml.j2", ctx, out),
            };
            Ok::<_, WordError>(rendered?)
        })
    }
}

impl Compiled {
    /// `name` rendered whole (the styles, once a run).
    fn render(&self, name: &str, ctx: Value) -> Result<String, RenderError> {
        let template = self.template(name)?;
        template.render(ctx).map_err(|e| self.error(name, &e))
    }

    /// `name` rendered into `out` as it goes.
    fn render_to(
        &self,
        name: &str,
        ctx: Value,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        let template = self.template(name)?;
        template
            .render_captured_to(ctx, out)
            .map(|_| ())
            .map_err(|e| self.error(name, &e))
    }

    fn template(&self, name: &str) -> Result<minijinja::Template<'_, '_>, RenderError> {
        self.env
            .get_template(name)
            .map_err(|e| self.error(name, &e))
    }

    /// A template error, naming the file (the user's path or the built-in name) and line.
    fn error(&self, name: &str, e: &minijinja::Error) -> RenderError {
        let file = e.name().unwrap_or(name);
        RenderError::Render {
            file: self
                .origins
                .get(file)
                .cloned()
                .unwrap_or_else(|| file.to_string()),
            line: LineNo(e.line()),
            message: render::describe(e),
        }
    }
}

/// What a Word template sees besides the report's view: under `docx`.
#[derive(Debug)]
struct DocxView {
    /// The report's title, whole (for the document's properties).
    title: String,
    /// The title as printed: the unit's name on a line of its own, as published reports
    /// set it, then the rest.
    title_lines: Vec<String>,
    /// Table code → the table as Word draws it, a `w:tbl` element.
    tables: BTreeMap<String, String>,
    signature: Option<Signature>,
    page: Page,
}

impl DocxView {
    fn new(
        ctx: &Value,
        name: &str,
        format: &crate::format::Format,
        values: &BTreeMap<crate::format::Key, f64>,
        skeletons: &Skeletons,
        signature: Option<Signature>,
    ) -> DocxView {
        let title = ctx
            .get_attr("title")
            .ok()
            .and_then(|t| t.as_str().map(str::to_string))
            .unwrap_or_default();
        let title_lines = match title.strip_prefix(name) {
            Some(rest) if !name.is_empty() && !rest.is_empty() => {
                vec![name.to_string(), rest.to_string()]
            }
            _ => vec![title.clone()],
        };
        DocxView {
            title,
            title_lines,
            tables: word_tables(format, values, PAGE.text_width(), skeletons),
            signature,
            page: PAGE,
        }
    }
}

impl DocxView {
    /// The report's view with this added under `docx`; the tables' XML marked safe, so
    /// that the template prints it as it is.
    fn into_context(self, ctx: Value) -> Value {
        let tables: BTreeMap<String, Value> = self
            .tables
            .into_iter()
            .map(|(code, xml)| (code, Value::from_safe_string(xml)))
            .collect();
        let docx = minijinja::context! {
            title => self.title,
            title_lines => self.title_lines,
            tables => Value::from(tables),
            signature => Value::from(Serde(&self.signature)),
            page => Value::from(Serde(&self.page)),
        };
        minijinja::context! { docx => docx, ..ctx }
    }
}

/// A writer that also writes what it writes to `keep`.
struct Tee<'a, 'k> {
    out: &'a mut dyn std::io::Write,
    keep: &'k mut dyn std::io::Write,
}

impl std::io::Write for Tee<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.keep.write_all(&buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.keep.flush()
    }
}

#[cfg(test)]
mod tests;
