//! Rendered reports: a unit's annual report, a parent's roll-up (汇总表) and the overview
//! page of a batch (`index.html`), as HTML and Markdown.
//!
//! Pure: no clock, no I/O except reading a user's template directory, and the same input
//! always gives the same bytes. The layout knowledge (merged headers, vertical group
//! labels, the order of the report's parts, the 信息处理费 sentence, chart geometry) is
//! computed here from the [`Format`]; the templates in `templates/report/*.j2` only loop
//! over cells, so one template set renders every format and a user can restyle a report
//! without touching the data.
//!
//! Everything that comes from a workbook is escaped: HTML templates (`*.html.j2`)
//! auto-escape, Markdown templates (`*.md.j2`) escape everything that would make markup.

mod charts;
mod compare;
mod escape;
mod overview;
mod sections;
mod status;
mod table;

pub use compare::{change_text, ComparedFigure, Comparison};
pub use escape::md_escape;
pub(crate) use escape::printed;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::value::{Serde, Value};
use minijinja::Environment;
use serde::Serialize;

use crate::roster::level_label;

use crate::format::{Format, Key, Table};
use crate::model::number_text;

use charts::{outcome_chart, requests_chart, status_chart, BarChart, StackChart};
use compare::ComparisonView;
use escape::{auto_escape, formatter};
use overview::{href, percent};
use sections::{field_sentences, numeral, paragraphs};
use status::status_counts;
pub(crate) use table::{slot_marker, slot_numbers, Skeleton};
use table::{table_part, with_totals, Shape};

/// The templates shipped with the binary. A user's directory may override any of them by
/// name (and add partials of its own).
const BUILTIN: &[(&str, &str)] = &[
    (
        "style.css.j2",
        include_str!("../../templates/report/style.css.j2"),
    ),
    (
        "macros.html.j2",
        include_str!("../../templates/report/macros.html.j2"),
    ),
    (
        "macros.md.j2",
        include_str!("../../templates/report/macros.md.j2"),
    ),
    (
        "unit.html.j2",
        include_str!("../../templates/report/unit.html.j2"),
    ),
    (
        "unit.md.j2",
        include_str!("../../templates/report/unit.md.j2"),
    ),
    (
        "units.html.j2",
        include_str!("../../templates/report/units.html.j2"),
    ),
    (
        "units.md.j2",
        include_str!("../../templates/report/units.md.j2"),
    ),
    (
        "rollup.html.j2",
        include_str!("../../templates/report/rollup.html.j2"),
    ),
    (
        "rollup.md.j2",
        include_str!("../../templates/report/rollup.md.j2"),
    ),
    (
        "compare.html.j2",
        include_str!("../../templates/report/compare.html.j2"),
    ),
    (
        "compare.md.j2",
        include_str!("../../templates/report/compare.md.j2"),
    ),
    (
        "overview.html.j2",
        include_str!("../../templates/report/overview.html.j2"),
    ),
];

/// A report could not be rendered. Names the template file and line.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("无法读取报告模板 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("报告模板 {file}{line} 有语法错误：{message}")]
    Syntax {
        file: String,
        line: LineNo,
        message: String,
    },
    #[error("按报告模板 {file}{line} 生成报告时出错：{message}")]
    Render {
        file: String,
        line: LineNo,
        message: String,
    },
}

/// A line number in a template, printed as ` 第 N 行` (nothing when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineNo(pub Option<usize>);

impl std::fmt::Display for LineNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) if n > 0 => write!(f, " 第 {n} 行"),
            _ => Ok(()),
        }
    }
}

/// A loaded template set: the built-in one, or a user's directory over it.
#[derive(Clone)]
pub struct Templates {
    env: Environment<'static>,
    /// Template name → how a user recognises it (a path, or `内置模板 unit.html.j2`).
    origins: BTreeMap<String, String>,
    /// Each table's layout and HTML skeleton, drawn once per format and table.
    shapes: Arc<Mutex<ShapeCache>>,
}

/// Table layouts by the address of their format and table (both live as long as the run
/// that renders with them), each with the format id and table code it was drawn for: an
/// address reused by another format is drawn again.
type ShapeCache = HashMap<(usize, usize), (String, String, Arc<Shape>)>;

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// The templates compiled into the binary.
    pub fn builtin() -> Templates {
        let sources = BUILTIN
            .iter()
            .map(|(name, text)| {
                (
                    name.to_string(),
                    (Cow::Borrowed(*text), format!("内置模板 {name}")),
                )
            })
            .collect();
        // The built-in templates are tested; failing to compile them is a bug.
        Templates::build(sources).expect("built-in report templates compile")
    }

    /// The templates of `dir` (`*.j2`): files named like a built-in template replace it,
    /// others are added (partials to include); missing ones fall back to the built-in.
    pub fn from_dir(dir: &Path) -> Result<Templates, RenderError> {
        let io = |path: &Path, source| RenderError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut sources: BTreeMap<String, (Cow<'static, str>, String)> = BUILTIN
            .iter()
            .map(|(name, text)| {
                (
                    name.to_string(),
                    (Cow::Borrowed(*text), format!("内置模板 {name}")),
                )
            })
            .collect();
        let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io(dir, e))?.path();
            let is_template = path.extension().is_some_and(|e| e == "j2");
            if is_template && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            sources.insert(
                name.to_string(),
                (Cow::Owned(text), path.display().to_string()),
            );
        }
        Templates::build(sources)
    }

    fn build(
        sources: BTreeMap<String, (Cow<'static, str>, String)>,
    ) -> Result<Templates, RenderError> {
        let (env, origins) = compile(sources, auto_escape, formatter)?;
        Ok(Templates {
            env,
            origins,
            shapes: Arc::default(),
        })
    }

    /// `table`'s layout for `format`, drawn on first use; with its HTML skeleton when the
    /// table macro is the built-in one (a user's macro may do more with a number than
    /// print it, so it draws every table itself).
    fn shape(&self, format: &Format, table: &Table) -> Arc<Shape> {
        let key = (
            std::ptr::from_ref(format) as usize,
            std::ptr::from_ref(table) as usize,
        );
        let mut shapes = self.shapes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((id, code, shape)) = shapes.get(&key) {
            if *id == format.id && *code == table.code {
                return shape.clone();
            }
        }
        let builtin_macro = self
            .origins
            .get("macros.html.j2")
            .is_some_and(|o| o.starts_with("内置模板"));
        let draw = |t: Value| {
            self.env
                .render_named_str(
                    "nianbao-table.html",
                    "{% import \"macros.html.j2\" as m %}{{ m.table(t) }}",
                    minijinja::context! { t },
                )
                .ok()
        };
        let shape = Shape::of(
            format,
            table,
            builtin_macro.then_some(&draw as &dyn Fn(Value) -> Option<String>),
        );
        shapes.insert(key, (format.id.clone(), table.code.clone(), shape.clone()));
        shape
    }

    /// Every template of the set whose name contains `part` (`.docx`), with its source and
    /// where it came from, in name order: for a later module that renders them in an
    /// environment of its own (Word output escapes for XML), so that a user's directory
    /// overrides those as it overrides the HTML ones.
    pub(crate) fn sources_named(&self, part: &str) -> Vec<(&str, String, &str)> {
        self.origins
            .iter()
            .filter(|(name, _)| name.contains(part))
            .filter_map(|(name, origin)| {
                let source = self.env.get_template(name).ok()?.source().to_string();
                Some((name.as_str(), source, origin.as_str()))
            })
            .collect()
    }

    /// Renders `<base>.html.j2` and `<base>.md.j2` from one context, converted to
    /// template values once (the conversion is a good part of a report's cost).
    /// Only the HTML when `markdown` is not set (a run without `--markdown` has no use
    /// for it).
    fn render_pair<S: Serialize>(
        &self,
        base: &str,
        ctx: &S,
        markdown: bool,
    ) -> Result<(String, Option<String>), RenderError> {
        let ctx = Value::from(Serde(ctx));
        let html = self.render_value(&format!("{base}.html.j2"), &ctx)?;
        let markdown = markdown
            .then(|| self.render_value(&format!("{base}.md.j2"), &ctx))
            .transpose()?
            .map(one_newline);
        Ok((html, markdown))
    }

    /// Renders `<base>.html.j2` into `html` and, when asked, `<base>.md.j2` into
    /// `markdown` (ending with one line break, as [`Templates::render_pair`] ends it), from
    /// one context converted to template values once: for a report too large to hold as
    /// strings (the whole roster's roll-up lists every unit).
    fn render_pair_to<S: Serialize>(
        &self,
        base: &str,
        ctx: &S,
        html: &mut dyn std::io::Write,
        markdown: Option<&mut dyn std::io::Write>,
    ) -> Result<(), RenderError> {
        let ctx = Value::from(Serde(ctx));
        self.render_value_to(&format!("{base}.html.j2"), &ctx, html)?;
        if let Some(out) = markdown {
            let name = format!("{base}.md.j2");
            let mut trimmed = OneNewline::new(out);
            self.render_value_to(&name, &ctx, &mut trimmed)?;
            trimmed.finish().map_err(|e| RenderError::Render {
                file: self.origin(&name),
                line: LineNo(None),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// `name` rendered into `out` from a context already converted.
    fn render_value_to(
        &self,
        name: &str,
        ctx: &Value,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        self.template(name)?
            .render_captured_to(ctx, out)
            .map(|_| ())
            .map_err(|e| self.error(name, &e))
    }

    /// Renders `name` straight into `out`, for pages too large to hold as one string.
    fn render_to<S: Serialize>(
        &self,
        name: &str,
        ctx: &S,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        let template = self.template(name)?;
        template
            .render_captured_to(Value::from(Serde(ctx)), out)
            .map(|_| ())
            .map_err(|e| self.error(name, &e))
    }

    fn template(&self, name: &str) -> Result<minijinja::Template<'_, '_>, RenderError> {
        self.env
            .get_template(name)
            .map_err(|e| RenderError::Render {
                file: self.origin(name),
                line: LineNo(None),
                message: describe(&e),
            })
    }

    /// Where a template came from, for error messages.
    fn origin(&self, name: &str) -> String {
        self.origins
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    fn error(&self, name: &str, e: &minijinja::Error) -> RenderError {
        RenderError::Render {
            file: self.origin(e.name().unwrap_or(name)),
            line: LineNo(e.line()),
            message: describe(e),
        }
    }

    fn render_value(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        self.template(name)?
            .render(ctx)
            .map_err(|e| self.error(name, &e))
    }
}

/// The message of a template error, without the location (given separately).
pub(crate) fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// `<code>_<name>`, safe as a file name on Windows (the sanitising of template file names).
pub fn file_stem(code: &str, name: &str) -> String {
    let file = crate::template::file_name(code, name, 0);
    let stem = file
        .strip_suffix("_0.xlsx")
        .or_else(|| file.strip_suffix(".xlsx"))
        .unwrap_or(&file);
    stem.trim_end_matches('_').to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub markdown: String,
}

// ── Data in ─────────────────────────────────────────────────────────────────────────

pub struct UnitData<'a> {
    pub format: &'a Format,
    pub year: i32,
    pub code: &'a str,
    pub name: &'a str,
    /// A missing key renders as 0.
    pub values: &'a BTreeMap<Key, f64>,
    /// Section code → text (opening, overview, problems, other).
    pub texts: &'a BTreeMap<String, String>,
}

pub struct RollupData<'a> {
    pub format: &'a Format,
    pub year: i32,
    pub code: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub values: &'a BTreeMap<Key, f64>,
    /// How the parent's units stand.
    pub tally: crate::batch::Tally,
    /// (code, name) of the units counted, with no file, rejected, and for another year.
    pub included: &'a [(String, String)],
    pub missing: &'a [(String, String)],
    pub rejected: &'a [(String, String)],
    pub other: &'a [(String, String)],
}

#[derive(Debug, Clone)]
pub struct OverviewUnit {
    pub code: String,
    pub name: String,
    pub parent_code: String,
    /// The parent's name, shown instead of its code.
    pub parent_name: String,
    pub level: String,
    /// The unit's status (that of the file that speaks for it, or missing).
    pub status: crate::batch::Status,
    pub errors: usize,
    pub warnings: usize,
    pub file: String,
    /// Why the file has its status (for a rejected unit: its first error).
    pub reason: String,
    pub new_requests: Option<f64>,
    /// Last year's 新收申请 (`ingest --previous`), filled in by [`overview_compared`].
    pub last_year_new_requests: Option<f64>,
    /// Relative link to the unit's report, e.g. `reports/110_山市镇.html`.
    pub report: Option<String>,
    /// Relative link to the correction workbook.
    pub correction: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OverviewParent {
    pub code: String,
    pub name: String,
    pub level: String,
    /// How the parent's units stand (the same counts as its roll-up).
    pub tally: crate::batch::Tally,
    /// Relative link to the parent's roll-up report.
    pub rollup: Option<String>,
}

#[derive(Clone)]
pub struct OverviewData<'a> {
    pub format: &'a Format,
    pub year: i32,
    pub units: Vec<OverviewUnit>,
    pub parents: Vec<OverviewParent>,
    /// The whole roster's roll-up (for the outcome mix).
    pub totals: &'a BTreeMap<Key, f64>,
}

/// The 落款 under a unit's report: its name and the date, right-aligned. One definition
/// for the HTML and Markdown reports here and the Word report, which re-exports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    pub unit: String,
    /// As the report prints it: `2021年1月12日`.
    pub date: String,
}

impl Signature {
    /// The 落款 of `unit`, when `date` (the cover's 填报日期) reads as a date:
    /// any way [`crate::quotes::date`] reads (`2021-01-12`, `2021年1月12日` …), or one of
    /// them with a time after it (a date cell read from Excel). Anything else gives none:
    /// a report without a date line is better than one with a wrong one.
    ///
    /// `nianbao report` re-renders from the CSVs, where units.csv's `signed_on` carries
    /// the cover's date, so its reports end as `ingest`'s do.
    pub fn from_cover(unit: &str, date: Option<&str>) -> Option<Signature> {
        let date = date?.trim();
        // `2021-01-12T00:00:00`, `2021-01-12 08:30`: the day is before the time.
        let day = match date.split_once(['T', ' ']) {
            Some((day, time)) if time.contains(':') => day,
            _ => date,
        };
        let (y, m, d) = crate::quotes::date(day)?;
        Some(Signature {
            unit: unit.to_string(),
            date: format!("{y}年{m}月{d}日"),
        })
    }
}

// ── Entry points ────────────────────────────────────────────────────────────────────

/// A unit's annual report in the official structure.
pub fn unit_report(t: &Templates, d: &UnitData) -> Result<Rendered, RenderError> {
    unit_report_compared(t, d, None, None)
}

/// [`unit_report`] with last year's key figures after the tables (`ingest --previous`)
/// and the 落款 at the end; with `None` for both, the same bytes as [`unit_report`].
pub fn unit_report_compared(
    t: &Templates,
    d: &UnitData,
    comparison: Option<&Comparison>,
    signature: Option<&Signature>,
) -> Result<Rendered, RenderError> {
    let (html, markdown) = unit_pages(t, d, comparison, signature, true)?;
    Ok(Rendered {
        html,
        markdown: markdown.unwrap_or_default(),
    })
}

/// [`unit_report_compared`]'s HTML, and its Markdown only when `markdown` is set
/// (`--markdown`): half the rendering of a unit otherwise thrown away.
pub fn unit_pages(
    t: &Templates,
    d: &UnitData,
    comparison: Option<&Comparison>,
    signature: Option<&Signature>,
    markdown: bool,
) -> Result<(String, Option<String>), RenderError> {
    let mut view = unit_view(d, comparison, Some(t));
    view.signature = signature.cloned();
    t.render_pair("unit", &view, markdown)
}

/// What the unit templates see, as a template value: for a report drawn by a later
/// module from the same view (the Word document), so that both show the same parts in
/// the same order with the same words.
/// `t` lends its table layouts (laid out once per format).
pub(crate) fn unit_context(t: &Templates, d: &UnitData, comparison: Option<&Comparison>) -> Value {
    Value::from(Serde(&unit_view(d, comparison, Some(t))))
}

/// What the roll-up templates see, as a template value (see [`unit_context`]).
pub(crate) fn rollup_context(
    t: &Templates,
    d: &RollupData,
    comparison: Option<&Comparison>,
) -> Value {
    Value::from(Serde(&rollup_view(d, comparison, Some(t))))
}

/// The values with every missing total computed from its parts, as the report's tables
/// show them.
pub(crate) fn values_with_totals<'a>(
    format: &Format,
    values: &'a BTreeMap<Key, f64>,
) -> Cow<'a, BTreeMap<Key, f64>> {
    with_totals(format, values)
}

/// The unit's view; with `shapes`, its tables laid out once per format (and drawn as HTML
/// from their skeletons).
fn unit_view(
    d: &UnitData,
    comparison: Option<&Comparison>,
    shapes: Option<&Templates>,
) -> UnitView {
    let values = with_totals(d.format, d.values);
    let mut parts = Vec::new();
    let mut opening = Vec::new();
    for section in &d.format.sections {
        let text = d.texts.get(&section.code).map_or("", String::as_str);
        let mut paragraphs = paragraphs(text);
        let Some(number) = &section.number else {
            // The unnumbered opening paragraph(s) under the title.
            opening.append(&mut paragraphs);
            continue;
        };
        let own = paragraphs.len();
        let said = field_sentences(d.format, section, &values, &paragraphs);
        paragraphs.extend(said);
        parts.push((
            numeral(number),
            PartView {
                heading: section.heading(),
                paragraphs,
                empty: own == 0,
                table: None,
                table_html: None,
            },
        ));
    }
    for table in &d.format.tables {
        parts.push((
            numeral(&table.number),
            table_part(d.format, table, &values, shapes),
        ));
    }
    // Stable: a section and a table with the same number keep definition order.
    parts.sort_by_key(|(n, _)| *n);
    UnitView {
        title: format!("{}{}年政府信息公开工作年度报告", d.name, d.year),
        code: d.code.to_string(),
        name: d.name.to_string(),
        year: d.year,
        format: FormatView::of(d.format),
        opening,
        parts: parts.into_iter().map(|(_, p)| p).collect(),
        comparison: comparison.map(|c| ComparisonView::of(c, d.year)),
        signature: None,
    }
}

/// A parent's roll-up: the tables summed over the accepted units, and who is counted.
pub fn rollup_report(t: &Templates, d: &RollupData) -> Result<Rendered, RenderError> {
    rollup_report_compared(t, d, None)
}

/// [`rollup_report`] with last year's key figures after the tables (`ingest --previous`);
/// with `None`, the same bytes as [`rollup_report`].
pub fn rollup_report_compared(
    t: &Templates,
    d: &RollupData,
    comparison: Option<&Comparison>,
) -> Result<Rendered, RenderError> {
    let (mut html, mut markdown) = (Vec::new(), Vec::new());
    rollup_report_to(t, d, comparison, &mut html, Some(&mut markdown))?;
    Ok(Rendered {
        html: String::from_utf8_lossy(&html).into_owned(),
        markdown: String::from_utf8_lossy(&markdown).into_owned(),
    })
}

/// [`rollup_report_compared`] written as it renders: the HTML into `html` and, when
/// given, the Markdown into `markdown` (the same bytes). The whole roster's roll-up of
/// a province lists every unit: it is not held as a string.
pub fn rollup_report_to(
    t: &Templates,
    d: &RollupData,
    comparison: Option<&Comparison>,
    html: &mut dyn std::io::Write,
    markdown: Option<&mut dyn std::io::Write>,
) -> Result<(), RenderError> {
    t.render_pair_to(
        "rollup",
        &rollup_view(d, comparison, Some(t)),
        html,
        markdown,
    )
}

/// The roll-up's view; `shapes` as for [`unit_view`].
fn rollup_view(
    d: &RollupData,
    comparison: Option<&Comparison>,
    shapes: Option<&Templates>,
) -> RollupView {
    let values = with_totals(d.format, d.values);
    let mut tables: Vec<(usize, PartView)> = d
        .format
        .tables
        .iter()
        .map(|table| {
            (
                numeral(&table.number),
                table_part(d.format, table, &values, shapes),
            )
        })
        .collect();
    tables.sort_by_key(|(n, _)| *n);
    let fields = d
        .format
        .fields
        .iter()
        .map(|f| {
            let v = values.get(&Key::field(&f.code)).copied().unwrap_or(0.0);
            FieldView {
                label: f.label.clone(),
                value: number_text(v),
            }
        })
        .collect();
    let units = |list: &[(String, String)]| -> Value {
        Value::from_object(Rows(
            list.iter()
                .map(|(code, name)| UnitRef {
                    code: code.clone(),
                    name: name.clone(),
                })
                .collect(),
        ))
    };
    RollupView {
        title: format!("{}{}年政府信息公开工作年度报告汇总表", d.name, d.year),
        code: d.code.to_string(),
        name: d.name.to_string(),
        level: level_label(d.level),
        year: d.year,
        format: FormatView::of(d.format),
        parts: tables.into_iter().map(|(_, p)| p).collect(),
        fields,
        comparison: comparison.map(|c| ComparisonView::of(c, d.year)),
        summary: d.tally.sentence(),
        included: units(d.included),
        missing: units(d.missing),
        rejected: units(d.rejected),
        other: units(d.other),
    }
}

/// The overview page of a batch (`index.html`), written to `out` as it renders. The unit
/// table becomes template values one row at a time (`Rows`), so that a batch of
/// 10,000 units holds neither the whole page nor all its rows as values in memory.
pub fn overview(
    t: &Templates,
    d: OverviewData,
    out: &mut dyn std::io::Write,
) -> Result<(), RenderError> {
    overview_compared(t, d, None, out)
}

/// Last year's 新收申请 by unit code, for the overview's 上年新收 column
/// (`ingest --previous`).
#[derive(Debug, Clone, Default)]
pub struct OverviewPrevious {
    pub year: i32,
    pub new_requests: BTreeMap<String, f64>,
}

/// [`overview`] with a 上年新收 column beside 新收申请 (`ingest --previous`); with `None`,
/// the same bytes as [`overview`].
pub fn overview_compared(
    t: &Templates,
    d: OverviewData,
    previous: Option<&OverviewPrevious>,
    out: &mut dyn std::io::Write,
) -> Result<(), RenderError> {
    let parents = d
        .parents
        .iter()
        .map(|p| ParentRow {
            code: p.code.clone(),
            name: p.name.clone(),
            level: level_label(&p.level),
            expected: p.tally.expected,
            received: p.tally.received,
            accepted: p.tally.accepted,
            rejected: p.tally.rejected,
            missing: p.tally.missing,
            percent: percent(p.tally.accepted as f64, p.tally.expected as f64),
            rollup: p.rollup.as_deref().map(href),
        })
        .collect();
    let statuses = status_counts(&d.units);
    // Last year's figures go into the rows in place: a county's are thousands.
    let mut units = d.units;
    if let Some(p) = previous {
        for unit in &mut units {
            unit.last_year_new_requests = p.new_requests.get(&unit.code).copied();
        }
    }
    let view = OverviewView {
        title: format!("{}年政府信息公开工作年度报告 汇总概览", d.year),
        year: d.year,
        format: FormatView::of(d.format),
        unit_count: units.len(),
        summary: statuses.clone(),
        requests_chart: requests_chart(&units),
        attention: units
            .iter()
            .filter(|u| u.status == crate::batch::Status::Rejected)
            .map(overview::unit_row)
            .collect(),
        units: Value::from_object(Rows(units)),
        previous_year: previous.map(|p| p.year),
        parents,
        status_chart: status_chart(&statuses),
        outcome_chart: outcome_chart(d.format, &with_totals(d.format, d.totals)),
    };
    t.render_to("overview.html.j2", &view, out)
}

/// A list handed to templates whose items become template values only when the template
/// reaches them (and are dropped after), so that a list of 10,000 units is never held
/// as values all at once.
#[derive(Debug)]
struct Rows<T>(Vec<T>);

/// What one item of [`Rows`] looks like to a template.
trait RowView: std::fmt::Debug + Send + Sync + 'static {
    fn view(&self) -> Value;
}

impl RowView for UnitRef {
    fn view(&self) -> Value {
        Value::from(Serde(self))
    }
}

impl<T: RowView> minijinja::value::Object for Rows<T> {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        Some(self.0.get(key.as_usize()?)?.view())
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Seq(self.0.len())
    }
}

/// Markdown ends with exactly one line break, however the template ends.
fn one_newline(mut s: String) -> String {
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

/// A writer that does to a stream what [`one_newline`] does to a string: it holds back
/// trailing white space until more text follows it, and [`OneNewline::finish`] ends the
/// text with one line break.
struct OneNewline<'a> {
    out: &'a mut dyn std::io::Write,
    /// White space not yet known to be followed by text (and a split character's start).
    pending: Vec<u8>,
}

impl<'a> OneNewline<'a> {
    fn new(out: &'a mut dyn std::io::Write) -> Self {
        OneNewline {
            out,
            pending: Vec::new(),
        }
    }

    /// Drops the white space held back and ends the text with one line break.
    fn finish(self) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending);
        self.out.write_all(text.trim_end().as_bytes())?;
        self.out.write_all(b"\n")
    }
}

impl std::io::Write for OneNewline<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        // Everything up to the last character that is not white space can go.
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.pending[..valid]).unwrap_or_default();
        let keep_from = text.trim_end().len();
        self.out.write_all(&self.pending[..keep_from])?;
        self.pending.drain(..keep_from);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

// ── Views (what templates see) ──────────────────────────────────────────────────────
//
// The table grid's views are in `table.rs`, the unit table's rows in `overview.rs`, the
// charts in `charts.rs`.

#[derive(Serialize)]
struct FormatView {
    id: String,
    name: String,
    document: String,
}

impl FormatView {
    fn of(f: &Format) -> FormatView {
        FormatView {
            id: f.id.clone(),
            name: f.name.clone(),
            document: f.document.clone(),
        }
    }
}

#[derive(Serialize)]
struct UnitView {
    title: String,
    code: String,
    name: String,
    year: i32,
    format: FormatView,
    opening: Vec<String>,
    parts: Vec<PartView>,
    /// Last year's key figures (`ingest --previous`), shown after the tables.
    comparison: Option<ComparisonView>,
    /// The 落款 (unit and date from the cover), at the end; the Word document gets the
    /// same [`Signature`] as its own `docx.signature`.
    signature: Option<Signature>,
}

/// A numbered part of the report: a text section (paragraphs) or a table.
#[derive(Serialize)]
struct PartView {
    heading: String,
    paragraphs: Vec<String>,
    /// The unit wrote nothing for this section.
    empty: bool,
    /// The table ([`table`]'s lazily filled object, so that a template that only
    /// prints `table_html` pays nothing for its cells).
    table: Option<Value>,
    /// The table as the built-in macro draws it, from its skeleton: what
    /// `m.table(part.table)` prints, without walking the cells.
    table_html: Option<Value>,
}

#[derive(Serialize)]
struct RollupView {
    title: String,
    code: String,
    name: String,
    level: String,
    year: i32,
    format: FormatView,
    parts: Vec<PartView>,
    fields: Vec<FieldView>,
    /// Last year's key figures (`ingest --previous`), shown after the tables.
    comparison: Option<ComparisonView>,
    /// [`Rows`] of [`UnitRef`]: the whole roster's list may have 10,000 units.
    included: Value,
    missing: Value,
    rejected: Value,
    other: Value,
    /// The counts in words (the same sentence everywhere they are given).
    summary: String,
}

#[derive(Serialize)]
struct FieldView {
    label: String,
    value: String,
}

#[derive(Debug, Serialize)]
struct UnitRef {
    code: String,
    name: String,
}

#[derive(Serialize)]
struct OverviewView {
    title: String,
    year: i32,
    format: FormatView,
    unit_count: usize,
    summary: Vec<StatusCount>,
    /// The rejected units, listed first with their first error.
    attention: Vec<overview::UnitRow>,
    /// [`Rows`] of [`OverviewUnit`] (with last year's 新收申请).
    units: Value,
    /// The year of the 上年新收 column (`ingest --previous`); none: no such column.
    previous_year: Option<i32>,
    parents: Vec<ParentRow>,
    requests_chart: BarChart,
    status_chart: BarChart,
    outcome_chart: StackChart,
}

#[derive(Serialize)]
struct ParentRow {
    code: String,
    name: String,
    level: String,
    expected: usize,
    received: usize,
    accepted: usize,
    rejected: usize,
    missing: usize,
    /// accepted / expected, 0–100, one decimal.
    percent: f64,
    rollup: Option<String>,
}

#[derive(Serialize, Clone)]
struct StatusCount {
    status: String,
    label: String,
    color: String,
    fg: String,
    count: usize,
}

/// One set of templates compiled the way every output uses them: block tags trimmed,
/// an undefined variable an error where it matters, each template's syntax error named
/// with the file (`origin`) and line. The escaping is the caller's: HTML and Markdown
/// here, XML for the Word documents.
///
/// # Errors
/// The first template with a syntax error.
pub(crate) fn compile<S, A, F>(
    sources: BTreeMap<String, (S, String)>,
    auto_escape: A,
    formatter: F,
) -> Result<(Environment<'static>, BTreeMap<String, String>), RenderError>
where
    S: Into<Cow<'static, str>>,
    A: Fn(&str) -> minijinja::AutoEscape + Send + Sync + 'static,
    F: Fn(&mut minijinja::Output, &mut minijinja::State, &Value) -> Result<(), minijinja::Error>
        + Send
        + Sync
        + 'static,
{
    let mut env = Environment::new();
    env.set_auto_escape_callback(auto_escape);
    env.set_formatter(formatter);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .expect("default delimiters");
    env.set_syntax(syntax);
    let mut origins = BTreeMap::new();
    for (name, (text, origin)) in sources {
        if let Err(e) = env.add_template_owned(name.clone(), text.into()) {
            return Err(RenderError::Syntax {
                file: origin,
                line: LineNo(e.line()),
                message: describe(&e),
            });
        }
        origins.insert(name, origin);
    }
    Ok((env, origins))
}

#[cfg(test)]
mod tests;
