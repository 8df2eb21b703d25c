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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, Output, State};
use serde::Serialize;

use crate::format::{Block, Format, Key, Kind, Section, Table};
use crate::validate::fmt_num;

/// The templates shipped with the binary. A user's directory may override any of them by
/// name (and add partials of its own).
const BUILTIN: &[(&str, &str)] = &[
    (
        "style.css.j2",
        include_str!("../templates/report/style.css.j2"),
    ),
    (
        "macros.html.j2",
        include_str!("../templates/report/macros.html.j2"),
    ),
    (
        "macros.md.j2",
        include_str!("../templates/report/macros.md.j2"),
    ),
    (
        "unit.html.j2",
        include_str!("../templates/report/unit.html.j2"),
    ),
    ("unit.md.j2", include_str!("../templates/report/unit.md.j2")),
    (
        "rollup.html.j2",
        include_str!("../templates/report/rollup.html.j2"),
    ),
    (
        "rollup.md.j2",
        include_str!("../templates/report/rollup.md.j2"),
    ),
    (
        "overview.html.j2",
        include_str!("../templates/report/overview.html.j2"),
    ),
];

/// The auto-escape mode of Markdown templates (see [`md_escape`]).
const MARKDOWN: AutoEscape = AutoEscape::Custom(Cow::Borrowed("markdown"));

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
}

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
            if let Err(e) = env.add_template_owned(name.clone(), text) {
                return Err(RenderError::Syntax {
                    file: origin,
                    line: LineNo(e.line()),
                    message: describe(&e),
                });
            }
            origins.insert(name, origin);
        }
        Ok(Templates { env, origins })
    }

    /// Renders `<base>.html.j2` and `<base>.md.j2` from one context, converted to
    /// template values once (the conversion is a good part of a report's cost).
    fn render_pair<S: Serialize>(&self, base: &str, ctx: &S) -> Result<Rendered, RenderError> {
        let ctx = Value::from(Serde(ctx));
        Ok(Rendered {
            html: self.render_value(&format!("{base}.html.j2"), &ctx)?,
            markdown: one_newline(self.render_value(&format!("{base}.md.j2"), &ctx)?),
        })
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

/// `*.html.j2` escapes HTML (also for SVG inside it), `*.md.j2` escapes Markdown.
fn auto_escape(name: &str) -> AutoEscape {
    if name.contains(".html") || name.contains(".htm") || name.contains(".svg") {
        AutoEscape::Html
    } else if name.contains(".md") {
        MARKDOWN
    } else {
        AutoEscape::None
    }
}

/// Prints a value: none as nothing; HTML escaped (`& < > " '`, leaving `/` readable in
/// links), Markdown escaped by [`md_escape`]. Values marked safe (macro output) as they are.
fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), minijinja::Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    // Most values are strings already: no copy for those.
    let text = match value.as_str() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(value.to_string()),
    };
    if value.is_safe() {
        out.write_str(&text)?;
    } else if state.auto_escape() == &AutoEscape::Html {
        html_escape_into(out, &text)?;
    } else if state.auto_escape() == &MARKDOWN {
        out.write_str(&md_escape(&text))?;
    } else {
        out.write_str(&text)?;
    }
    Ok(())
}

/// Writes `text` HTML-escaped, in runs between the characters that need escaping.
fn html_escape_into(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

/// The message of a template error, without the location (given separately).
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Escapes text for Markdown so that nothing a clerk typed becomes markup: inline markers
/// and HTML (`<`, `>`), table pipes, and block markers at the start (`#`, `- `, `1. `).
/// Line breaks become spaces (paragraphs are split before escaping).
pub fn md_escape(text: &str) -> String {
    let text = text.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let text = text.trim_start_matches([' ', '\t']);
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    // An ordered-list marker: digits then `.` or `)` then a space.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let list_number = digits > 0
        && matches!(chars.get(digits), Some('.' | ')'))
        && matches!(chars.get(digits + 1), None | Some(' ' | '\t'));
    for (i, &c) in chars.iter().enumerate() {
        let at_start = i == 0;
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => true,
            '#' | '=' if at_start => true,
            '-' | '+' if at_start => matches!(chars.get(1), None | Some(' ' | '\t' | '-')),
            '.' | ')' if list_number && i == digits => true,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
    /// (code, name) of the units counted, not reported, and rejected.
    pub included: &'a [(String, String)],
    pub missing: &'a [(String, String)],
    pub rejected: &'a [(String, String)],
}

#[derive(Debug, Clone)]
pub struct OverviewUnit {
    pub code: String,
    pub name: String,
    pub parent_code: String,
    pub level: String,
    /// The stable status code: accepted, accepted_with_warnings, rejected, missing, …
    pub status: String,
    pub errors: usize,
    pub warnings: usize,
    pub file: String,
    pub new_requests: Option<f64>,
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
    pub expected: usize,
    pub received: usize,
    pub accepted: usize,
    pub missing: usize,
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

// ── Entry points ────────────────────────────────────────────────────────────────────

/// A unit's annual report in the official structure.
pub fn unit_report(t: &Templates, d: &UnitData) -> Result<Rendered, RenderError> {
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
        paragraphs.extend(field_sentences(d.format, section, &values));
        parts.push((
            numeral(number),
            PartView {
                heading: section.heading(),
                paragraphs,
                empty: own == 0,
                table: None,
            },
        ));
    }
    for table in &d.format.tables {
        parts.push((numeral(&table.number), table_part(d.format, table, &values)));
    }
    // Stable: a section and a table with the same number keep definition order.
    parts.sort_by_key(|(n, _)| *n);
    let view = UnitView {
        title: format!("{}{}年政府信息公开工作年度报告", d.name, d.year),
        code: d.code.to_string(),
        name: d.name.to_string(),
        year: d.year,
        format: FormatView::of(d.format),
        opening,
        parts: parts.into_iter().map(|(_, p)| p).collect(),
    };
    t.render_pair("unit", &view)
}

/// A parent's roll-up: the tables summed over the accepted units, and who is counted.
pub fn rollup_report(t: &Templates, d: &RollupData) -> Result<Rendered, RenderError> {
    let values = with_totals(d.format, d.values);
    let mut tables: Vec<(usize, PartView)> = d
        .format
        .tables
        .iter()
        .map(|table| (numeral(&table.number), table_part(d.format, table, &values)))
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
                value: fmt_num(v),
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
    let view = RollupView {
        title: format!("{}{}年政府信息公开工作年度报告汇总表", d.name, d.year),
        code: d.code.to_string(),
        name: d.name.to_string(),
        level: level_label(d.level),
        year: d.year,
        format: FormatView::of(d.format),
        parts: tables.into_iter().map(|(_, p)| p).collect(),
        fields,
        included: units(d.included),
        missing: units(d.missing),
        rejected: units(d.rejected),
    };
    t.render_pair("rollup", &view)
}

/// The overview page of a batch (`index.html`), written to `out` as it renders. The unit
/// table becomes template values one row at a time ([`Rows`]), so that a batch of
/// 10,000 units holds neither the whole page nor all its rows as values in memory.
pub fn overview(
    t: &Templates,
    d: OverviewData,
    out: &mut dyn std::io::Write,
) -> Result<(), RenderError> {
    let parents = d
        .parents
        .iter()
        .map(|p| ParentRow {
            code: p.code.clone(),
            name: p.name.clone(),
            level: level_label(&p.level),
            expected: p.expected,
            received: p.received,
            accepted: p.accepted,
            missing: p.missing,
            percent: percent(p.accepted as f64, p.expected as f64),
            rollup: p.rollup.as_deref().map(href),
        })
        .collect();
    let statuses = status_counts(&d.units);
    let view = OverviewView {
        title: format!("{}年政府信息公开工作年度报告 汇总概览", d.year),
        year: d.year,
        format: FormatView::of(d.format),
        unit_count: d.units.len(),
        summary: statuses.clone(),
        requests_chart: requests_chart(&d.units),
        units: Value::from_object(Rows(d.units)),
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

/// The overview's unit table: the display fields are worked out per row, on demand.
impl RowView for OverviewUnit {
    fn view(&self) -> Value {
        Value::from(Serde(unit_row(self)))
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

fn unit_row(u: &OverviewUnit) -> UnitRow {
    let s = status_style(&u.status);
    UnitRow {
        code: u.code.clone(),
        name: u.name.clone(),
        parent_code: u.parent_code.clone(),
        level: level_label(&u.level),
        status: u.status.clone(),
        status_label: s.label.to_string(),
        color: s.color.to_string(),
        fg: s.fg.to_string(),
        errors: u.errors,
        warnings: u.warnings,
        file: u.file.clone(),
        new_requests: u.new_requests.map(fmt_num),
        report: u.report.as_deref().map(href),
        correction: u.correction.as_deref().map(href),
    }
}

/// How a roster level reads in a report: the English codes rosters often use
/// (`township`) in Chinese, anything else as written (`镇`, `县直部门`).
fn level_label(level: &str) -> String {
    let chinese = match level.trim().to_ascii_lowercase().as_str() {
        "province" => "省级",
        "city" | "prefecture" => "市级",
        "county" => "县级",
        "district" => "区级",
        "township" | "town" => "乡镇",
        "subdistrict" | "street" => "街道",
        "village" => "行政村",
        "community" => "社区",
        "department" | "dept" => "部门",
        _ => return level.to_string(),
    };
    chinese.to_string()
}

/// Markdown ends with exactly one line break, however the template ends.
fn one_newline(mut s: String) -> String {
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

// ── Views (what templates see) ──────────────────────────────────────────────────────

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
}

/// A numbered part of the report: a text section (paragraphs) or a table.
#[derive(Serialize)]
struct PartView {
    heading: String,
    paragraphs: Vec<String>,
    /// The unit wrote nothing for this section.
    empty: bool,
    table: Option<TableView>,
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
    /// [`Rows`] of [`UnitRef`]: the whole roster's list may have 10,000 units.
    included: Value,
    missing: Value,
    rejected: Value,
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

/// A table as the official layout draws it. All blocks share one grid `width` columns
/// wide; in a narrower block the last column stretches over the rest (as the official
/// table 二 does for its single-column blocks).
#[derive(Serialize)]
struct TableView {
    code: String,
    heading: String,
    width: usize,
    /// One class per grid column: `lg` (vertical group labels), `ll` (row labels), `d`.
    cols: Vec<&'static str>,
    blocks: Vec<BlockView>,
    /// Units of amount columns whose official label does not state them.
    notes: Vec<String>,
    /// Many narrow data columns (table 四): header labels wrap two characters a line,
    /// as in the official table.
    dense: bool,
}

#[derive(Serialize)]
struct BlockView {
    title: Option<String>,
    /// Header rows of merged cells (HTML).
    header: Vec<Vec<CellView>>,
    /// Body rows: label cells (where a row starts them) and the data cells.
    rows: Vec<Vec<CellView>>,
    /// The same block flattened for a pipe table: group paths joined with `/`.
    md_header: Vec<String>,
    /// `---` for label columns, `---:` for numbers.
    md_align: Vec<&'static str>,
    md_rows: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct CellView {
    text: String,
    colspan: usize,
    rowspan: usize,
    /// `corner`, `group`, `col`, `vgroup`, `label`, `num`, `num total`, `pad`.
    class: &'static str,
    /// Set in vertical writing (the row group labels of table 三).
    vertical: bool,
}

impl CellView {
    fn new(text: impl Into<String>, class: &'static str) -> CellView {
        CellView {
            text: text.into(),
            colspan: 1,
            rowspan: 1,
            class,
            vertical: false,
        }
    }

    fn span(mut self, rows: usize, cols: usize) -> CellView {
        self.rowspan = rows;
        self.colspan = cols;
        self
    }
}

#[derive(Serialize)]
struct OverviewView {
    title: String,
    year: i32,
    format: FormatView,
    unit_count: usize,
    summary: Vec<StatusCount>,
    /// [`Rows`] of [`OverviewUnit`].
    units: Value,
    parents: Vec<ParentRow>,
    requests_chart: BarChart,
    status_chart: BarChart,
    outcome_chart: StackChart,
}

#[derive(Serialize)]
struct UnitRow {
    code: String,
    name: String,
    parent_code: String,
    level: String,
    status: String,
    status_label: String,
    color: String,
    fg: String,
    errors: usize,
    warnings: usize,
    file: String,
    new_requests: Option<String>,
    report: Option<String>,
    correction: Option<String>,
}

#[derive(Serialize)]
struct ParentRow {
    code: String,
    name: String,
    level: String,
    expected: usize,
    received: usize,
    accepted: usize,
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

// ── Tables ──────────────────────────────────────────────────────────────────────────

/// The values with every total that is missing computed from its parts (a missing
/// value otherwise renders as 0).
fn with_totals<'a>(format: &Format, values: &'a BTreeMap<Key, f64>) -> Cow<'a, BTreeMap<Key, f64>> {
    let missing_total = format.totals().keys().any(|k| !values.contains_key(k));
    if !missing_total {
        return Cow::Borrowed(values);
    }
    let mut filled = values.clone();
    // Parts nobody reported count as 0, so that every total can be computed.
    for parts in format.totals().values() {
        for p in parts {
            if !format.totals().contains_key(p) {
                filled.entry(p.clone()).or_insert(0.0);
            }
        }
    }
    format.fill_totals(&mut filled, None);
    Cow::Owned(filled)
}

fn table_part(format: &Format, table: &Table, values: &BTreeMap<Key, f64>) -> PartView {
    PartView {
        heading: table.heading(),
        paragraphs: Vec::new(),
        empty: false,
        table: Some(table_view(format, table, values)),
    }
}

fn table_view(format: &Format, table: &Table, values: &BTreeMap<Key, f64>) -> TableView {
    let widest = table
        .blocks
        .iter()
        .max_by_key(|b| b.label_width() + b.columns.len());
    let width = widest.map_or(0, |b| b.label_width() + b.columns.len());
    let mut cols = Vec::with_capacity(width);
    if let Some(b) = widest {
        let lw = b.label_width();
        cols.extend((0..lw).map(|i| if i + 1 == lw { "ll" } else { "lg" }));
    }
    cols.resize(width, "d");
    let mut notes = Vec::new();
    for col in table.blocks.iter().flat_map(|b| &b.columns) {
        if let (Kind::Amount, Some(unit)) = (col.kind, &col.unit) {
            let stated = col.label.contains("单位")
                || col.label.contains(&format!("（{unit}）"))
                || col.label.contains(&format!("({unit})"));
            let note = format!("注：“{}”的单位为{unit}。", col.label);
            if !stated && !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    TableView {
        code: table.code.clone(),
        heading: table.heading(),
        width,
        cols,
        blocks: table
            .blocks
            .iter()
            .map(|b| block_view(format, table, b, width, values))
            .collect(),
        notes,
        dense: table.blocks.iter().any(|b| b.columns.len() > 10),
    }
}

/// How many consecutive items from `start` share the first `level + 1` groups.
fn run<'a>(groups: impl Iterator<Item = &'a Vec<String>>, start: &[String], level: usize) -> usize {
    let path = &start[..=level];
    groups
        .take_while(|g| g.len() > level && &g[..=level] == path)
        .count()
}

/// Whether item `i` starts a run at `level` (the previous item has another path).
fn starts_run(all: &[&Vec<String>], i: usize, level: usize) -> bool {
    let g = all[i];
    i == 0 || {
        let prev = all[i - 1];
        !(prev.len() > level && prev[..=level] == g[..=level])
    }
}

fn block_view(
    format: &Format,
    table: &Table,
    block: &Block,
    width: usize,
    values: &BTreeMap<Key, f64>,
) -> BlockView {
    let totals = format.totals();
    let depth = block.header_depth();
    let lw = block.label_width();
    let n = block.columns.len();
    // Grid columns this block lacks: the last column stretches over them.
    let pad = width.saturating_sub(lw + n);
    let stretch = |c: usize, span: usize| if c + span == n { span + pad } else { span };

    // Header: the corner over the label columns; groups merged across the columns under
    // the same path; each column's own label down to the last header row.
    let col_groups: Vec<&Vec<String>> = block.columns.iter().map(|c| &c.groups).collect();
    let mut header: Vec<Vec<CellView>> = (0..depth).map(|_| Vec::new()).collect();
    if lw > 0 {
        let corner = block.corner.clone().unwrap_or_default();
        header[0].push(CellView::new(corner, "corner").span(depth, lw));
    }
    for (level, cells) in header.iter_mut().enumerate() {
        for (c, col) in block.columns.iter().enumerate() {
            if level < col.groups.len() {
                if starts_run(&col_groups, c, level) {
                    let span = run(col_groups[c..].iter().copied(), &col.groups, level);
                    let cell = CellView::new(&col.groups[level], "group");
                    cells.push(cell.span(1, stretch(c, span)));
                }
            } else if level == col.groups.len() {
                let cell = CellView::new(&col.label, "col");
                cells.push(cell.span(depth - level, stretch(c, 1)));
            }
        }
    }
    if pad > 0 && n == 0 {
        header[0].push(CellView::new("", "pad").span(depth, pad));
    }

    // Rows: groups merged down over the rows under the same path (vertical labels), each
    // row's own label across to the data.
    let row_groups: Vec<&Vec<String>> = block.rows.iter().map(|r| &r.groups).collect();
    let mut rows = Vec::with_capacity(block.rows.len());
    let mut md_rows = Vec::with_capacity(block.rows.len());
    for (r, row) in block.rows.iter().enumerate() {
        let mut cells = Vec::new();
        for level in 0..lw {
            if level < row.groups.len() {
                if starts_run(&row_groups, r, level) {
                    let span = run(row_groups[r..].iter().copied(), &row.groups, level);
                    let mut cell = CellView::new(&row.groups[level], "vgroup").span(span, 1);
                    cell.vertical = true;
                    cells.push(cell);
                }
            } else if level == row.groups.len() {
                cells.push(CellView::new(&row.label, "label").span(1, lw - level));
            }
        }
        let mut md = Vec::with_capacity(block.columns.len() + 1);
        if lw > 0 {
            let path: Vec<&str> = row
                .groups
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(row.label.as_str()))
                .collect();
            md.push(path.join("/"));
        }
        for (c, col) in block.columns.iter().enumerate() {
            let key = Key::cell(&table.code, &row.code, &col.code);
            let text = fmt_num(values.get(&key).copied().unwrap_or(0.0));
            let class = if totals.contains_key(&key) {
                "num total"
            } else {
                "num"
            };
            md.push(text.clone());
            cells.push(CellView::new(text, class).span(1, stretch(c, 1)));
        }
        if pad > 0 && n == 0 {
            cells.push(CellView::new("", "pad").span(1, pad));
        }
        rows.push(cells);
        md_rows.push(md);
    }

    let mut md_header = Vec::new();
    let mut md_align = Vec::new();
    if lw > 0 {
        md_header.push(block.corner.clone().unwrap_or_default());
        md_align.push("---");
    }
    for col in &block.columns {
        let path: Vec<&str> = col
            .groups
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(col.label.as_str()))
            .collect();
        md_header.push(path.join("/"));
        md_align.push("---:");
    }
    BlockView {
        title: block.title.clone(),
        header,
        rows,
        md_header,
        md_align,
        md_rows,
    }
}

/// The paragraphs of a text: one per non-empty line.
fn paragraphs(text: &str) -> Vec<String> {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The sentence reporting a section's numeric fields, as the format words it (2021: the
/// 信息处理费, “本年度收取信息处理费 N 件，金额 X 元。”, or its “none” wording when every
/// field is 0). Empty for a section without one.
fn field_sentences(format: &Format, section: &Section, values: &BTreeMap<Key, f64>) -> Vec<String> {
    let Some(sentence) = &section.fields_sentence else {
        return Vec::new();
    };
    let fields = format.fields.iter().filter(|f| f.section == section.code);
    let value = |code: &str| values.get(&Key::field(code)).copied().unwrap_or(0.0);
    if let Some(none) = &section.fields_sentence_if_none {
        if fields.clone().all(|f| value(&f.code) == 0.0) {
            return vec![none.clone()];
        }
    }
    let text = fields.fold(sentence.clone(), |text, f| {
        text.replace(&format!("{{{}}}", f.code), &fmt_num(value(&f.code)))
    });
    vec![text]
}

/// The position of a Chinese section number (一 → 1 … 十 → 10); unknown ones go last.
fn numeral(n: &str) -> usize {
    const DIGITS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    DIGITS
        .iter()
        .position(|d| *d == n)
        .map_or(usize::MAX, |i| i + 1)
}

// ── Overview ────────────────────────────────────────────────────────────────────────

#[derive(Clone, Copy)]
struct StatusStyle {
    label: &'static str,
    color: &'static str,
    fg: &'static str,
}

/// Every status code in the order the overview lists them, with its label and colour.
const STATUSES: &[(&str, StatusStyle)] = &[
    (
        "accepted",
        StatusStyle {
            label: "受理",
            color: "#2e7d32",
            fg: "#ffffff",
        },
    ),
    (
        "accepted_with_warnings",
        StatusStyle {
            label: "受理（有警告）",
            color: "#f9a825",
            fg: "#000000",
        },
    ),
    (
        "rejected",
        StatusStyle {
            label: "退回",
            color: "#c62828",
            fg: "#ffffff",
        },
    ),
    (
        "missing",
        StatusStyle {
            label: "未报送",
            color: "#9e9e9e",
            fg: "#000000",
        },
    ),
    (
        "duplicate",
        StatusStyle {
            label: "重复",
            color: "#78909c",
            fg: "#ffffff",
        },
    ),
    (
        "unidentified",
        StatusStyle {
            label: "无法识别",
            color: "#8e24aa",
            fg: "#ffffff",
        },
    ),
    (
        "unknown_unit",
        StatusStyle {
            label: "名册外单位",
            color: "#6d4c41",
            fg: "#ffffff",
        },
    ),
    (
        "wrong_year",
        StatusStyle {
            label: "年度不符",
            color: "#ef6c00",
            fg: "#ffffff",
        },
    ),
    (
        "unreadable",
        StatusStyle {
            label: "无法读取",
            color: "#ad1457",
            fg: "#ffffff",
        },
    ),
    (
        "unsupported",
        StatusStyle {
            label: "非工作簿文件",
            color: "#5d4037",
            fg: "#ffffff",
        },
    ),
    (
        "skipped",
        StatusStyle {
            label: "已跳过",
            color: "#cfd8dc",
            fg: "#000000",
        },
    ),
];

const OTHER_STATUS: StatusStyle = StatusStyle {
    label: "",
    color: "#607d8b",
    fg: "#ffffff",
};

fn status_style(code: &str) -> StatusStyle {
    match STATUSES.iter().find(|(c, _)| *c == code) {
        Some((_, s)) => *s,
        None => OTHER_STATUS,
    }
}

/// How many units have each status, known statuses in their order, then unknown ones.
fn status_counts(units: &[OverviewUnit]) -> Vec<StatusCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in units {
        *counts.entry(u.status.as_str()).or_default() += 1;
    }
    let known = STATUSES.iter().map(|(c, _)| *c);
    let unknown: Vec<&str> = counts
        .keys()
        .copied()
        .filter(|c| !STATUSES.iter().any(|(k, _)| k == c))
        .collect();
    known
        .chain(unknown)
        .filter_map(|code| {
            let count = *counts.get(code)?;
            let s = status_style(code);
            let label = if s.label.is_empty() { code } else { s.label };
            Some(StatusCount {
                status: code.to_string(),
                label: label.to_string(),
                color: s.color.to_string(),
                fg: s.fg.to_string(),
                count,
            })
        })
        .collect()
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 {
        0.0
    } else {
        round1(part / whole * 100.0)
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A link as given (relative, to a file we wrote), with the characters that would end or
/// change a URL path percent-encoded. Non-ASCII (Chinese names) is left as is.
fn href(link: &str) -> String {
    let mut out = String::with_capacity(link.len());
    for c in link.chars() {
        let keep = !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~/".contains(c);
        if keep {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

// ── Charts (inline SVG; geometry here, drawing in the template) ─────────────────────

const CHART_WIDTH: f64 = 640.0;
const BAR_HEIGHT: f64 = 16.0;
const BAR_GAP: f64 = 6.0;
const LABEL_WIDTH: f64 = 190.0;
const VALUE_ROOM: f64 = 60.0;
const TOP_N: usize = 30;

#[derive(Serialize)]
struct BarChart {
    title: String,
    width: f64,
    height: f64,
    /// Where the bars start; labels end just before.
    bar_x: f64,
    label_x: f64,
    bars: Vec<Bar>,
    /// Shown instead of the chart when there is nothing to draw.
    empty: Option<String>,
}

#[derive(Serialize)]
struct Bar {
    label: String,
    /// The full label, for a tooltip when the shown one is shortened.
    full: String,
    value: String,
    y: f64,
    /// Baseline of the label and value text.
    text_y: f64,
    w: f64,
    h: f64,
    value_x: f64,
    color: String,
}

fn bar_chart(title: String, items: Vec<(String, f64, String)>, empty: &str) -> BarChart {
    // A bar is never negative or infinite, whatever the data says.
    let items: Vec<(String, f64, String)> = items
        .into_iter()
        .map(|(l, v, c)| (l, if v.is_finite() { v.max(0.0) } else { 0.0 }, c))
        .collect();
    let max = items.iter().map(|(_, v, _)| *v).fold(0.0, f64::max);
    let room = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM;
    let bars: Vec<Bar> = items
        .into_iter()
        .enumerate()
        .map(|(i, (full, v, color))| {
            let y = round1(BAR_GAP + i as f64 * (BAR_HEIGHT + BAR_GAP));
            let w = if max > 0.0 {
                round1(v / max * room)
            } else {
                0.0
            };
            Bar {
                label: shorten(&full, 14),
                full,
                value: fmt_num(v),
                y,
                text_y: round1(y + BAR_HEIGHT * 0.78),
                w,
                h: BAR_HEIGHT,
                value_x: round1(LABEL_WIDTH + w + 4.0),
                color,
            }
        })
        .collect();
    let height = round1(BAR_GAP + bars.len() as f64 * (BAR_HEIGHT + BAR_GAP));
    BarChart {
        title,
        width: CHART_WIDTH,
        height,
        bar_x: LABEL_WIDTH,
        label_x: LABEL_WIDTH - 6.0,
        empty: bars.is_empty().then(|| empty.to_string()),
        bars,
    }
}

/// At most `n` characters, with “…” when cut.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

/// 新收申请 per unit, largest first (ties by code), the top 30 when there are more.
fn requests_chart(units: &[OverviewUnit]) -> BarChart {
    let mut with: Vec<&OverviewUnit> = units.iter().filter(|u| u.new_requests.is_some()).collect();
    with.sort_by(|a, b| {
        let (va, vb) = (a.new_requests.unwrap_or(0.0), b.new_requests.unwrap_or(0.0));
        vb.total_cmp(&va).then_with(|| a.code.cmp(&b.code))
    });
    let total = with.len();
    let title = if total > TOP_N {
        format!("本年新收政府信息公开申请数量（前 {TOP_N} 个单位，共 {total} 个单位有数据）")
    } else {
        format!("本年新收政府信息公开申请数量（{total} 个单位）")
    };
    let items = with
        .into_iter()
        .take(TOP_N)
        .map(|u| {
            (
                u.name.clone(),
                u.new_requests.unwrap_or(0.0),
                "#1565c0".to_string(),
            )
        })
        .collect();
    bar_chart(title, items, "没有单位的数据可以显示。")
}

fn status_chart(counts: &[StatusCount]) -> BarChart {
    let items = counts
        .iter()
        .map(|s| (s.label.clone(), s.count as f64, s.color.clone()))
        .collect();
    bar_chart("各状态单位数".to_string(), items, "名册中没有单位。")
}

#[derive(Serialize)]
struct StackChart {
    title: String,
    width: f64,
    height: f64,
    bar_y: f64,
    bar_h: f64,
    segments: Vec<Segment>,
    total: String,
    empty: Option<String>,
}

#[derive(Serialize)]
struct Segment {
    label: String,
    full: String,
    value: String,
    percent: f64,
    x: f64,
    w: f64,
    color: String,
    /// The legend entry: swatch at (legend_x, legend_y), text after it.
    legend_x: f64,
    legend_y: f64,
    legend_text_y: f64,
}

const PALETTE: &[&str] = &[
    "#2e7d32", "#81c784", "#c62828", "#f9a825", "#6d4c41", "#78909c", "#5c6bc0", "#8e24aa",
];

/// The outcome mix of table 三: the rows under its result group (the rows that have row
/// groups, apart from the total row), summed by their second-level group (不予公开 …) or
/// taken alone (予以公开); each in the table's total column.
fn outcome_categories(format: &Format, values: &BTreeMap<Key, f64>) -> Vec<(String, String, f64)> {
    let Some(table) = format.table("t3") else {
        return Vec::new();
    };
    let totals = format.totals();
    let mut out: Vec<(String, String, f64)> = Vec::new();
    for block in &table.blocks {
        let Some(first_row) = block.rows.first() else {
            continue;
        };
        // The column that is the total of the others in its row.
        let total_col = block.columns.iter().find(|c| {
            let key = Key::cell(&table.code, &first_row.code, &c.code);
            totals.get(&key).is_some_and(|parts| {
                parts.iter().all(|p| {
                    p.as_str()
                        .starts_with(&format!("{}.{}.", table.code, first_row.code))
                })
            })
        });
        for row in block.rows.iter().filter(|r| !r.groups.is_empty()) {
            // A row whose cells are totals of other rows is the 总计 row.
            let probe = Key::cell(&table.code, &row.code, &block.columns[0].code);
            if totals.contains_key(&probe) {
                continue;
            }
            let value: f64 = match total_col {
                Some(c) => values
                    .get(&Key::cell(&table.code, &row.code, &c.code))
                    .copied()
                    .unwrap_or(0.0),
                None => block
                    .columns
                    .iter()
                    .map(|c| {
                        values
                            .get(&Key::cell(&table.code, &row.code, &c.code))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .sum(),
            };
            let full = row.groups.get(1).unwrap_or(&row.label).clone();
            match out.iter_mut().find(|(f, _, _)| *f == full) {
                Some(entry) => entry.2 += value,
                None => out.push((full.clone(), short_label(&full), value)),
            }
        }
    }
    out
}

/// `（二）部分公开（区分处理的，…）` → `部分公开`: without the leading number and a
/// trailing explanation.
fn short_label(label: &str) -> String {
    let mut s = label.trim();
    if let Some(rest) = s.strip_prefix('（') {
        if let Some(end) = rest.find('）') {
            s = &rest[end + '）'.len_utf8()..];
        }
    }
    if let Some(start) = s.find('（') {
        if start > 0 && s.ends_with('）') {
            s = &s[..start];
        }
    }
    s.trim().to_string()
}

fn outcome_chart(format: &Format, values: &BTreeMap<Key, f64>) -> StackChart {
    let mut cats = outcome_categories(format, values);
    for (_, _, v) in &mut cats {
        if !v.is_finite() || *v < 0.0 {
            *v = 0.0;
        }
    }
    let total: f64 = cats.iter().map(|(_, _, v)| *v).sum();
    let bar_y = 4.0;
    let bar_h = 28.0;
    let legend_top = bar_y + bar_h + 12.0;
    let per_col = cats.len().div_ceil(2).max(1);
    let col_w = CHART_WIDTH / 2.0;
    let mut x = 0.0;
    let segments: Vec<Segment> = cats
        .into_iter()
        .enumerate()
        .map(|(i, (full, label, v))| {
            let w = if total > 0.0 {
                round1(v / total * CHART_WIDTH)
            } else {
                0.0
            };
            let seg_x = round1(x);
            x += w;
            let legend_y = round1(legend_top + (i % per_col) as f64 * 20.0);
            Segment {
                value: fmt_num(v),
                percent: percent(v, total),
                x: seg_x,
                w,
                color: PALETTE[i % PALETTE.len()].to_string(),
                legend_x: (i / per_col) as f64 * col_w,
                legend_y,
                legend_text_y: round1(legend_y + 11.0),
                label,
                full,
            }
        })
        .collect();
    let height = round1(legend_top + per_col as f64 * 20.0 + 4.0);
    StackChart {
        title: "全部受理单位的办理结果构成（表三“三、本年度办理结果”，按总计列）".to_string(),
        width: CHART_WIDTH,
        height,
        bar_y,
        bar_h,
        total: fmt_num(total),
        empty: (total <= 0.0).then(|| "本年度没有办理结果可以显示（全部为 0）。".to_string()),
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Formats;

    fn format(id: &str) -> Format {
        Formats::builtin().by_id(id).unwrap().clone()
    }

    #[test]
    fn levels_read_in_chinese() {
        assert_eq!(level_label("township"), "乡镇");
        assert_eq!(level_label(" County "), "县级");
        assert_eq!(level_label("village"), "行政村");
        assert_eq!(level_label("department"), "部门");
        assert_eq!(level_label("县直部门"), "县直部门", "Chinese as written");
        assert_eq!(level_label("hamlet"), "hamlet", "unknown codes as written");
    }

    fn overview_html(d: OverviewData) -> String {
        let mut html = Vec::new();
        overview(&Templates::builtin(), d, &mut html).unwrap();
        String::from_utf8(html).unwrap()
    }

    fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn values(pairs: &[(&str, f64)]) -> BTreeMap<Key, f64> {
        pairs
            .iter()
            .map(|(k, v)| (Key::from_string(k), *v))
            .collect()
    }

    fn unit(
        f: &Format,
        year: i32,
        name: &str,
        v: &BTreeMap<Key, f64>,
        t: &BTreeMap<String, String>,
    ) -> Rendered {
        let d = UnitData {
            format: f,
            year,
            code: "110",
            name,
            values: v,
            texts: t,
        };
        unit_report(&Templates::builtin(), &d).unwrap()
    }

    /// The positions of `needles` in `haystack`, asserting each is found after the previous.
    fn assert_in_order(haystack: &str, needles: &[&str]) {
        let mut from = 0;
        for n in needles {
            match haystack[from..].find(n) {
                Some(i) => from += i + n.len(),
                None => panic!("“{n}” not found (in order) in:\n{haystack}"),
            }
        }
    }

    /// The text of every data cell of the HTML, in order.
    fn data_cells(html: &str) -> Vec<&str> {
        html.split("<td class=\"num")
            .skip(1)
            .map(|s| {
                let start = s.find('>').unwrap() + 1;
                let end = s.find("</td>").unwrap();
                &s[start..end]
            })
            .collect()
    }

    const SAMPLE_2019: &[(&str, f64)] = &[
        ("t2.rules.made", 2.0),
        ("t2.rules.published", 2.0),
        ("t2.rules.total_public", 15.0),
        ("t2.license.prev_items", 40.0),
        ("t2.license.change", -2.0),
        ("t2.procurement.items", 3.0),
        ("t2.procurement.amount", 251000.5),
        ("t3.new.natural", 5.0),
        ("t3.new.business", 1.0),
        ("t3.open.natural", 3.0),
        ("t3.none_nohold.natural", 1.0),
        ("t3.carry_next.natural", 1.0),
        ("t3.carry_next.business", 1.0),
        ("t4.all.review_upheld", 1.0),
    ];

    fn sample_texts() -> BTreeMap<String, String> {
        texts(&[
            (
                "opening",
                "本报告依据《中华人民共和国政府信息公开条例》编制。",
            ),
            (
                "overview",
                "一是加强组织领导。\n二是规范主动公开。\r\n\n三是做好依申请公开。",
            ),
            ("problems", "公开内容不够全面。\n下一步将加强培训。"),
            ("other", "无。"),
        ])
    }

    #[test]
    fn markdown_of_a_2019_unit() {
        let f = format("2019");
        let r = unit(
            &f,
            2020,
            "山市镇人民政府",
            &values(SAMPLE_2019),
            &sample_texts(),
        );
        insta::assert_snapshot!("unit_2019_markdown", r.markdown);
    }

    fn sample_rollup(f: &Format) -> Rendered {
        let v = values(&[
            ("t2.rules.made", 1.0),
            ("t2.fees.fee_amount", 7730.28),
            ("t3.new.natural", 12.0),
            ("t3.new.legal", 2.0),
            ("t3.open.natural", 9.0),
            ("t3.partial.legal", 1.0),
            ("t3.other_unpaid.natural", 1.0),
            ("t3.carry_next.natural", 2.0),
            ("t3.carry_next.legal", 1.0),
            ("t4.all.direct_pending", 1.0),
            ("fee_cases", 3.0),
            ("fee_amount", 45.5),
        ]);
        let included = vec![
            ("111".to_string(), "山市村村民委员会".to_string()),
            ("110".to_string(), "山市镇人民政府".to_string()),
        ];
        let missing = vec![("112".to_string(), "东兴村|村民委员会".to_string())];
        let rejected = vec![];
        let d = RollupData {
            format: f,
            year: 2021,
            code: "110",
            name: "山市镇",
            level: "township",
            values: &v,
            included: &included,
            missing: &missing,
            rejected: &rejected,
        };
        rollup_report(&Templates::builtin(), &d).unwrap()
    }

    #[test]
    fn markdown_of_a_2021_rollup() {
        let f = format("2021");
        let r = sample_rollup(&f);
        insta::assert_snapshot!("rollup_2021_markdown", r.markdown);
    }

    #[test]
    fn rollup_html_lists_who_is_counted() {
        let f = format("2021");
        let r = sample_rollup(&f);
        assert_in_order(
            &r.html,
            &[
                "<h1>山市镇2021年政府信息公开工作年度报告汇总表</h1>",
                "只计已受理的单位",
                "二、主动公开政府信息情况",
                "三、收到和处理政府信息公开申请情况",
                "四、政府信息公开行政复议、行政诉讼情况",
                "收取信息处理费件数",
                "已计入的单位（2 个）",
                "山市村村民委员会",
                "未报送的单位（1 个）",
                "东兴村|村民委员会",
                "被退回的单位（0 个，未计入）",
                "无。",
            ],
        );
        assert!(
            !r.html.contains("一、总体情况"),
            "no text sections in a roll-up"
        );
        assert!(r.html.contains(">7730.28<"));
        // Totals missing from the values are computed from their parts.
        assert!(
            r.html.contains("<td class=\"num total\">14</td>"),
            "new.total = 12 + 2"
        );
        assert!(r.markdown.contains("东兴村\\|村民委员会"));
    }

    #[test]
    fn html_has_the_official_structure_of_both_formats() {
        for (id, year) in [("2019", 2020), ("2021", 2021)] {
            let f = format(id);
            let r = unit(
                &f,
                year,
                "山市镇人民政府",
                &values(SAMPLE_2019),
                &sample_texts(),
            );
            let html = &r.html;
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains("<html lang=\"zh-CN\">"));
            assert!(html.contains("<meta charset=\"utf-8\">"));
            assert!(html.contains("@page { size: A4; margin: 18mm; }"));
            assert!(html.contains("page-break-inside: avoid"));
            assert!(html.contains("\"SimSun\", \"宋体\", \"Songti SC\", \"Noto Serif CJK SC\", \"Source Han Serif SC\", serif"));
            assert!(html.contains("writing-mode: vertical-rl"));
            assert!(
                !html.contains("<script")
                    && !html.contains("http://")
                    && !html.contains("https://"),
                "standalone"
            );
            assert_in_order(
                html,
                &[
                    &format!("<h1>山市镇人民政府{year}年政府信息公开工作年度报告</h1>"),
                    "<p>本报告依据《中华人民共和国政府信息公开条例》编制。</p>",
                    "<h2>一、总体情况</h2>",
                    "<p>一是加强组织领导。</p>",
                    "<p>二是规范主动公开。</p>",
                    "<p>三是做好依申请公开。</p>",
                    "<h2>二、主动公开政府信息情况</h2>",
                    "第二十条第（一）项",
                    "<th class=\"corner\">信息内容</th>",
                    "<h2>三、收到和处理政府信息公开申请情况</h2>",
                    "<h2>四、政府信息公开行政复议、行政诉讼情况</h2>",
                    "<h2>五、存在的主要问题及改进情况</h2>",
                    "<p>公开内容不够全面。</p>",
                    "<p>下一步将加强培训。</p>",
                    "<h2>六、其他需要报告的事项</h2>",
                    "<p>无。</p>",
                ],
            );
            let t3 = f.table("t3").unwrap();
            for row in &t3.blocks[0].rows {
                assert!(
                    html.contains(&format!(">{}</td>", row.label)),
                    "{id}: {}",
                    row.label
                );
                for g in &row.groups {
                    assert!(
                        html.contains(&format!("<span class=\"v\">{g}</span>")),
                        "{id}: {g}"
                    );
                }
            }
            // The 勾稽 note spans the label columns and the header rows.
            assert!(html.contains(
                "<th class=\"corner\" colspan=\"3\" rowspan=\"3\">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</th>"
            ));
            assert!(html.contains("<th class=\"group\" colspan=\"7\">申请人情况</th>"));
            assert!(html.contains("<th class=\"group\" colspan=\"5\">法人或其他组织</th>"));
            assert!(html.contains("<th class=\"col\" rowspan=\"2\">自然人</th>"));
            assert!(html.contains("<th class=\"col\">商业企业</th>"));
            let results = if id == "2019" { 20 } else { 22 };
            assert!(html.contains(&format!(
                "<td class=\"vgroup\" rowspan=\"{results}\"><span class=\"v\">三、本年度办理结果</span></td>"
            )));
            assert!(html.contains(
                "<td class=\"vgroup\" rowspan=\"8\"><span class=\"v\">（三）不予公开</span></td>"
            ));
            assert!(html.contains(
                "<td class=\"vgroup\" rowspan=\"5\"><span class=\"v\">（五）不予处理</span></td>"
            ));
            assert!(html.contains(
                "<td class=\"label\" colspan=\"3\">一、本年新收政府信息公开申请数量</td>"
            ));
            assert!(html.contains("<td class=\"label\" colspan=\"2\">（一）予以公开</td>"));
            assert!(html.contains("<td class=\"label\">1.属于国家秘密</td>"));
            // Table 四: two- and three-level header, no row labels.
            assert!(html.contains("<th class=\"group\" colspan=\"5\">行政复议</th>"));
            assert!(html.contains("<th class=\"group\" colspan=\"10\">行政诉讼</th>"));
            assert!(html.contains("<th class=\"group\" colspan=\"5\">未经复议直接起诉</th>"));
            assert!(html.contains(
                "<th class=\"col\" rowspan=\"2\"><span class=\"h\">结果维持</span></th>"
            ));
            // The numbers put in, totals computed where missing.
            let cells = data_cells(html);
            let expected = f.cells().count();
            assert_eq!(cells.len(), expected, "{id}: one data cell per format cell");
            assert!(html.contains("<td class=\"num\">5</td><td class=\"num\">1</td>"));
            assert!(html.contains("<td class=\"num total\">6</td>"), "new.total");
            assert!(
                html.contains("<td class=\"num total\">1</td>"),
                "t4 review_total"
            );
        }
    }

    #[test]
    fn amounts_and_signed_values_are_printed_as_typed() {
        let f = format("2019");
        let r = unit(&f, 2020, "某局", &values(SAMPLE_2019), &sample_texts());
        // The last column of a narrower block of table 二 stretches over the grid.
        assert!(r
            .html
            .contains("<td class=\"num\" colspan=\"2\">251000.5</td>"));
        assert!(r.html.contains("<td class=\"num\">-2</td>"));
        assert!(
            r.html
                .contains("<th class=\"col\" colspan=\"2\">采购总金额</th>"),
            "official label kept"
        );
        assert!(r
            .html
            .contains("<p class=\"note\">注：“采购总金额”的单位为元。</p>"));
        let f = format("2021");
        let v = values(&[("t2.fees.fee_amount", 7730.28)]);
        let r = unit(&f, 2021, "某局", &v, &sample_texts());
        assert!(r
            .html
            .contains("<td class=\"num\" colspan=\"3\">7730.28</td>"));
        assert!(r
            .html
            .contains("<th class=\"col\" colspan=\"3\">本年处理决定数量</th>"));
        assert!(
            !r.html.contains("class=\"note\">注："),
            "the 2021 label states 万元"
        );
    }

    #[test]
    fn the_2021_fee_sentence_follows_the_units_own_text() {
        let f = format("2021");
        let t = texts(&[("other", "本单位无其他需要报告的事项。")]);
        let v = values(&[("fee_cases", 2.0), ("fee_amount", 30.5)]);
        let r = unit(&f, 2021, "某局", &v, &t);
        assert_in_order(
            &r.html,
            &[
                "<h2>六、其他需要报告的事项</h2>",
                "<p>本单位无其他需要报告的事项。</p>",
                "<p>本年度收取信息处理费 2 件，金额 30.5 元。</p>",
            ],
        );
        assert!(r
            .markdown
            .contains("本年度收取信息处理费 2 件，金额 30.5 元。\n"));
        let r = unit(&f, 2021, "某局", &BTreeMap::new(), &BTreeMap::new());
        assert_in_order(
            &r.html,
            &[
                "<h2>六、其他需要报告的事项</h2>",
                "（未填写）",
                "<p>本年度未收取信息处理费。</p>",
            ],
        );
        let r = unit(
            &format("2019"),
            2020,
            "某局",
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert!(!r.html.contains("信息处理费"));
    }

    #[test]
    fn everything_from_a_workbook_is_escaped() {
        let f = format("2019");
        let evil = "<script>alert(1)</script>";
        let t = texts(&[
            (
                "overview",
                "# 不是标题\n<img src=x onerror=alert(1)> & \"引号\" | 竖线 *星号*\n- 不是列表",
            ),
            ("other", "1. 不是编号"),
        ]);
        let r = unit(&f, 2020, evil, &BTreeMap::new(), &t);
        assert!(
            !r.html.contains("<script>") && !r.html.contains("<img"),
            "{}",
            r.html
        );
        assert!(r.html.contains(
            "<h1>&lt;script&gt;alert(1)&lt;/script&gt;2020年政府信息公开工作年度报告</h1>"
        ));
        assert!(r
            .html
            .contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;引号&quot; | 竖线"));
        let md = &r.markdown;
        let raw_angle = md
            .char_indices()
            .any(|(i, c)| c == '<' && !md[..i].ends_with('\\'));
        assert!(!raw_angle, "every < escaped: {md}");
        assert!(
            md.starts_with("# \\<script\\>alert(1)\\</script\\>2020年"),
            "{md}"
        );
        assert!(md.contains("\n\\# 不是标题\n"));
        assert!(md.contains("\\<img src=x onerror=alert(1)\\> & \"引号\" \\| 竖线 \\*星号\\*"));
        assert!(md.contains("\n\\- 不是列表\n"));
        assert!(md.contains("\n1\\. 不是编号\n"));
    }

    #[test]
    fn markdown_escaping() {
        assert_eq!(md_escape("a|b"), "a\\|b");
        assert_eq!(md_escape("#1"), "\\#1");
        assert_eq!(md_escape("第#1"), "第#1");
        assert_eq!(md_escape("-2"), "-2");
        assert_eq!(md_escape("- x"), "\\- x");
        assert_eq!(md_escape("12) x"), "12\\) x");
        assert_eq!(md_escape("1.属于国家秘密"), "1.属于国家秘密");
        assert_eq!(md_escape("a\nb"), "a b");
        assert_eq!(md_escape("    code"), "code");
        assert_eq!(md_escape("[x](javascript:1)"), "\\[x\\](javascript:1)");
    }

    /// The seed report's text (seeds/000_9a59cdaddd27bb55.txt), as a clerk would type it
    /// into the template: paragraphs as lines, without the bold marks of the published copy.
    const SEED_OPENING: &str = "山市镇自 2020 年初以来，认真贯彻落实上级有关政务公开文件要求，镇党委、政府高度重视，按照文件精神扎实开展政务公开工作，政府和 12 个行政村严格按照政务公开要求进行了政务、村务公开，促进了政务公开工作的制度化、规范化、常态化。现将有关情况总结如下：";
    const SEED_OVERVIEW: &str = "我镇对政务村务公开工作十分重视，召开工作会议进行逐级思想动员，机关干部充分认识到落实《中华人民共和国政府信息公开条例》的重要性。以思想认识为基，着力推行政务公开制度，不断扩大基层民主，进一步加强社会主义民主政治建设和改进政府机关作风建设。通过政务公开，山市镇增强了镇村两级工作的透明度，强化了对镇政府机关及工作人员行使权力的监督，进一步转变了政府职能，推进了廉洁、勤政、务实、高效的政府建设；极大的消除了群众误解，赢得群众支持，减少因政务村务管理不规范而引发的上访，对维护农村社会稳定起到积极作用。
为保证政务公开工作的经常化、制度化、规范化，确保政务公开工作高质量、高标准、严要求地进行，做到全面公开、
及时公开，我镇建立健全相关的工作制度。一是建立健全领导责任制。建立起主要领导负总责、分管领导主抓、各有关部门配合的工作机制。二是建立定期检查考核制度。镇政务公开监督小组及各村委单位的政务(村务)公开监督小组，做到每季度检查村务公开一次，发现问题及时纠正。同时，把政务村务公开工作列入考核各村委会、站所部门的内容之一。三是建立整改制度。结合牡丹江、海林两级巡察巡视提出的整改意见，我镇针对部分村村务公开存在时间不及时、内容不全面、形式不规范等问题，进行了一次全面整改，制定了相关文件，统一规范了各村村务公开的格式，调整充实公开内容，完善了政务村务公开资料的收集，建立政务村务公开档案。";
    const SEED_PROBLEMS: &str = "2020年我镇在政务村务公开工作领导和监督力度还不够大，对公开内容的把关还不够严，对公开资料建档工作还不够细致，接下来会着重整改以下三个方面：
一是进一步加强对政务村务公开工作的领导和监督，健全有关检查制度、责任追究制度，反馈制度，确保把政务村务公开工作落到实处。二是进一步规范和完善政务村务公开的内容、形式，要按照省有关文件精神，对涉及人民群众关心的重大问题，重大决策应及时公开，同时有区别地抓好对内与对外公开，
提高公开针对性。三是进一步做好政务村务公开资料建档工作，使到政务村务公开有史可查。";
    const SEED_OTHER: &str = "无。";

    #[test]
    fn the_seed_unit_reproduces_the_seed_report() {
        let f = format("2019");
        let t = texts(&[
            ("opening", SEED_OPENING),
            ("overview", SEED_OVERVIEW),
            ("problems", SEED_PROBLEMS),
            ("other", SEED_OTHER),
        ]);
        let r = unit(&f, 2020, "山市镇人民政府", &BTreeMap::new(), &t);
        let para = |s: &str| format!("<p>{s}</p>");
        let overview: Vec<String> = SEED_OVERVIEW.lines().map(para).collect();
        let problems: Vec<String> = SEED_PROBLEMS.lines().map(para).collect();
        let mut order: Vec<String> = vec![
            "<h1>山市镇人民政府2020年政府信息公开工作年度报告</h1>".into(),
            para(SEED_OPENING),
            "<h2>一、总体情况</h2>".into(),
        ];
        order.extend(overview);
        order.push("<h2>二、主动公开政府信息情况</h2>".into());
        for title in ["（一）", "（五）", "（六）", "（八）", "（九）"] {
            order.push(format!("<th colspan=\"4\">第二十条第{title}项</th>"));
            order.push("<th class=\"corner\">信息内容</th>".into());
        }
        order.extend(
            [
                "<h2>三、收到和处理政府信息公开申请情况</h2>",
                "勾稽关系",
                "申请人情况",
                "一、本年新收政府信息公开申请数量",
                "（七）总计",
                "四、结转下年度继续办理",
                "<h2>四、政府信息公开行政复议、行政诉讼情况</h2>",
                "行政复议",
                "行政诉讼",
                "<h2>五、存在的主要问题及改进情况</h2>",
            ]
            .map(String::from),
        );
        order.extend(problems);
        order.push("<h2>六、其他需要报告的事项</h2>".into());
        order.push(para("无。"));
        let order: Vec<&str> = order.iter().map(String::as_str).collect();
        assert_in_order(&r.html, &order);
        // The table 二 row labels and columns of the seed.
        for label in [
            "规章",
            "规范性文件",
            "行政许可",
            "其他对外管理服务事项",
            "行政处罚",
            "行政强制",
            "行政事业性收费",
            "政府集中采购",
            "本年新公开数量",
            "对外公开总数量",
            "上一年项目数量",
            "本年增/减",
            "处理决定数量",
            "采购项目数量",
            "采购总金额",
        ] {
            assert!(r.html.contains(&format!(">{label}</")), "{label}");
        }
        // All zeros, and every cell of the format present.
        let cells = data_cells(&r.html);
        assert_eq!(cells.len(), 22 + 23 * 7 + 15);
        assert!(cells.iter().all(|c| *c == "0"), "{cells:?}");
        // The Markdown has the same parts in the same order.
        let md_order: Vec<String> = [
            "# 山市镇人民政府2020年政府信息公开工作年度报告",
            SEED_OPENING,
            "## 一、总体情况",
            "## 二、主动公开政府信息情况",
            "**第二十条第（一）项**",
            "| 信息内容 | 本年新制作数量 | 本年新公开数量 | 对外公开总数量 |",
            "| 规章 | 0 | 0 | 0 |",
            "**第二十条第（九）项**",
            "| 政府集中采购 | 0 | 0 |",
            "## 三、收到和处理政府信息公开申请情况",
            "| 三、本年度办理结果/（三）不予公开/1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
            "## 四、政府信息公开行政复议、行政诉讼情况",
            "| 行政复议/结果维持 |",
            "行政诉讼/复议后起诉/结果维持",
            "| 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
            "## 五、存在的主要问题及改进情况",
            "## 六、其他需要报告的事项",
            "无。",
        ]
        .map(String::from)
        .to_vec();
        let md_order: Vec<&str> = md_order.iter().map(String::as_str).collect();
        assert_in_order(&r.markdown, &md_order);
    }

    #[test]
    fn a_users_template_dir_overrides_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("unit.md.j2"),
            "自定义：{{ title }}\n{% for p in parts %}- {{ p.heading }}\n{% endfor %}",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "{% broken").unwrap();
        let t = Templates::from_dir(dir.path()).unwrap();
        let f = format("2019");
        let d = UnitData {
            format: &f,
            year: 2020,
            code: "110",
            name: "山市镇<人民政府>",
            values: &BTreeMap::new(),
            texts: &BTreeMap::new(),
        };
        let r = unit_report(&t, &d).unwrap();
        assert!(r.markdown.starts_with("自定义：山市镇\\<人民政府\\>2020年政府信息公开工作年度报告\n- 一、总体情况\n- 二、"), "{}", r.markdown);
        assert!(
            r.html
                .contains("<h2>三、收到和处理政府信息公开申请情况</h2>"),
            "html falls back to the built-in"
        );
    }

    #[test]
    fn template_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unit.html.j2");
        std::fs::write(&path, "<h1>{{ title }}</h1>\n{% for p in %}\n").unwrap();
        let err = Templates::from_dir(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, RenderError::Syntax { .. }), "{msg}");
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("第 2 行"),
            "{msg}"
        );
        assert!(msg.contains("语法错误"), "{msg}");

        std::fs::write(&path, "<h1>{{ title }}</h1>\n\n{{ nothing.here }}\n").unwrap();
        let t = Templates::from_dir(dir.path()).unwrap();
        let f = format("2019");
        let d = UnitData {
            format: &f,
            year: 2020,
            code: "110",
            name: "某镇",
            values: &BTreeMap::new(),
            texts: &BTreeMap::new(),
        };
        let err = unit_report(&t, &d).expect_err("an undefined variable is an error");
        let msg = err.to_string();
        assert!(matches!(err, RenderError::Render { .. }), "{msg}");
        assert!(
            msg.contains("unit.html.j2") && msg.contains("第 3 行"),
            "{msg}"
        );

        let err = Templates::from_dir(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("无法读取报告模板"), "{err}");
    }

    #[test]
    fn templates_can_be_shared_across_threads() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<Templates>();
    }

    #[test]
    fn rendering_is_deterministic() {
        let f = format("2021");
        let a = sample_rollup(&f);
        let b = sample_rollup(&f);
        assert_eq!(a.html, b.html);
        assert_eq!(a.markdown, b.markdown);
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("110", "山市镇人民政府"), "110_山市镇人民政府");
        let s = file_stem("1", "a/b:c*?\"<>| 镇");
        assert!(
            !s.contains(['/', ':', '*', '?', '"', '<', '>', '|', ' ']),
            "{s}"
        );
        assert!(s.starts_with("1_"), "{s}");
        assert!(!file_stem("2", "..").contains(".."));
    }

    fn overview_unit(code: &str, name: &str, status: &str, new: Option<f64>) -> OverviewUnit {
        OverviewUnit {
            code: code.to_string(),
            name: name.to_string(),
            parent_code: "100".to_string(),
            level: "village".to_string(),
            status: status.to_string(),
            errors: usize::from(status == "rejected"),
            warnings: 0,
            file: format!("回收/{name}.xlsx"),
            new_requests: new,
            report: new.map(|_| format!("reports/{}.html", file_stem(code, name))),
            correction: (status == "rejected").then(|| format!("corrections/{code}#1.xlsx")),
        }
    }

    #[test]
    fn the_outcome_mix_sums_rows_by_their_groups() {
        for id in ["2019", "2021"] {
            let f = format(id);
            let mut v = BTreeMap::new();
            for cell in f.table("t3").unwrap().cells() {
                if cell.col.code == "total" {
                    v.insert(cell.key.clone(), 1.0);
                }
            }
            let cats = outcome_categories(&f, &v);
            let labels: Vec<&str> = cats.iter().map(|(_, l, _)| l.as_str()).collect();
            assert_eq!(
                labels,
                [
                    "予以公开",
                    "部分公开",
                    "不予公开",
                    "无法提供",
                    "不予处理",
                    "其他处理"
                ],
                "{id}"
            );
            let counts: Vec<f64> = cats.iter().map(|(_, _, n)| *n).collect();
            let other = if id == "2019" { 1.0 } else { 3.0 };
            assert_eq!(counts, [1.0, 1.0, 8.0, 3.0, 5.0, other], "{id}");
        }
    }

    #[test]
    fn overview_lists_units_and_draws_charts() {
        let f = format("2019");
        let mut units: Vec<OverviewUnit> = (0..35)
            .map(|i| {
                overview_unit(
                    &format!("{}", 200 + i),
                    &format!("第{i}村"),
                    "accepted",
                    Some(i as f64),
                )
            })
            .collect();
        units.push(overview_unit(
            "110",
            "<b>山市镇</b>",
            "rejected",
            Some(100.0),
        ));
        units.push(overview_unit("120", "教育局", "missing", None));
        units.push(overview_unit("130", "某所", "some_new_status", None));
        let parents = vec![OverviewParent {
            code: "100".to_string(),
            name: "示例县人民政府".to_string(),
            level: "county".to_string(),
            expected: 38,
            received: 36,
            accepted: 35,
            missing: 2,
            rollup: Some("rollups/100_示例县人民政府.html".to_string()),
        }];
        let totals = values(&[
            ("t3.open.total", 30.0),
            ("t3.deny_secret.total", 2.0),
            ("t3.deny_law.total", 3.0),
        ]);
        let d = OverviewData {
            format: &f,
            year: 2020,
            units,
            parents,
            totals: &totals,
        };
        let html = overview_html(d.clone());
        assert!(
            !html.contains("<b>") && !html.contains("<script"),
            "escaped, no JavaScript"
        );
        assert!(html.contains("&lt;b&gt;山市镇&lt;/b&gt;"));
        assert!(
            html.contains("<a href=\"reports/110__b_山市镇__b_.html\">")
                || html.contains("href=\"reports/110_"),
            "{html}"
        );
        assert!(
            html.contains("href=\"corrections/110%231.xlsx\""),
            "a # in a link is encoded"
        );
        assert!(html.contains("<a href=\"rollups/100_示例县人民政府.html\">汇总表</a>"));
        assert!(
            html.contains(">受理 35</span>")
                && html.contains(">退回 1</span>")
                && html.contains(">未报送 1</span>")
        );
        assert!(
            html.contains(">some_new_status 1</span>"),
            "unknown statuses shown by code"
        );
        assert!(html.contains("前 30 个单位，共 36 个单位有数据"));
        let request_bars = html.split("fill=\"#1565c0\"").count() - 1;
        assert_eq!(request_bars, 30);
        // The largest first, ties impossible here; the 新收 of the rejected unit is shown.
        assert_in_order(
            &html,
            &[
                "&lt;b&gt;山市镇&lt;/b&gt;</text>",
                "第34村</text>",
                "第33村</text>",
            ],
        );
        assert!(html.contains(">予以公开：30（85.7%）</text>"), "{html}");
        assert!(html.contains(">不予公开：5（14.3%）</text>"));
        assert!(html.contains("<td class=\"n\">38</td>"));
        assert!(html.contains("width:92.1%"));
        let again = overview_html(d);
        assert_eq!(html, again);
    }
}
