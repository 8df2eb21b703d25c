//! The TOML shape of a format definition, and its conversion into a checked [`Format`].
//!
//! Kept apart from the model so that the model's types say what was checked: a `Format`
//! always has unique codes, known kinds and rules whose every term names a real cell.

use std::collections::{BTreeSet, HashSet};

use serde::Deserialize;

use super::{
    Block, Check, Column, Field, Format, Key, KeyFigure, Kind, Op, QuotedFigure, Row, Rule,
    RuleKind, Section, Table, Term,
};
use crate::model::Level;
use crate::quotes::Pattern;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFormat {
    id: String,
    name: String,
    document: String,
    version: u32,
    years: Vec<i32>,
    #[serde(default)]
    sections: Vec<RawSection>,
    #[serde(default)]
    fields: Vec<RawField>,
    tables: Vec<RawTable>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    key_figures: Vec<RawKeyFigure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyFigure {
    column: String,
    #[serde(default)]
    label: Option<String>,
    keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    code: String,
    number: Option<String>,
    title: String,
    #[serde(default)]
    prompt: String,
    fields_sentence: Option<String>,
    fields_sentence_if_none: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    code: String,
    label: String,
    kind: String,
    unit: Option<String>,
    section: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    code: String,
    number: String,
    title: String,
    sheet: String,
    blocks: Vec<RawBlock>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlock {
    title: Option<String>,
    corner: Option<String>,
    rows: Vec<RawRow>,
    columns: Vec<RawColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    code: String,
    label: String,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    code: String,
    label: String,
    kind: String,
    unit: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    level: String,
    kind: String,
    message: String,
    hint: Option<String>,
    table: Option<String>,
    for_each: Option<String>,
    rows: Option<Vec<String>>,
    columns: Option<Vec<String>>,
    total: Option<String>,
    parts: Option<Vec<String>>,
    lhs: Option<Vec<String>>,
    op: Option<String>,
    rhs: Option<Vec<String>>,
    section: Option<String>,
    fields: Option<Vec<String>>,
    when_nonzero: Option<Vec<String>>,
    require_any: Option<Vec<String>>,
    max: Option<f64>,
    live_check: Option<String>,
    document_hint: Option<String>,
    guards: Option<Vec<String>>,
    quotes: Option<Vec<RawQuote>>,
}

/// A figure the text may quote (rule kind `text_quotes`): see [`crate::quotes`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuote {
    label: String,
    keys: Vec<String>,
    patterns: Vec<String>,
}

/// Collects every problem instead of stopping at the first, so a province editing a
/// definition sees them all at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, p: impl Into<String>) {
        self.0.push(p.into());
    }
}

fn parse_kind(kind: &str, unit: Option<&String>, what: &str, problems: &mut Problems) -> Kind {
    let k = match kind {
        "count" => Kind::Count,
        "signed" => Kind::Signed,
        "amount" => Kind::Amount,
        other => {
            problems.push(format!(
                "{what} 的 kind “{other}” 未知（应为 count、signed 或 amount）"
            ));
            Kind::Count
        }
    };
    match (k, unit.map(String::as_str)) {
        (Kind::Amount, None) => problems.push(format!("{what} 是金额，须写明 unit（元 或 万元）")),
        (Kind::Amount, Some(u)) if u != "元" && u != "万元" => {
            problems.push(format!("{what} 的单位 “{u}” 未知（应为 元 或 万元）"))
        }
        (Kind::Count | Kind::Signed, Some(_)) => {
            problems.push(format!("{what} 不是金额，不应有 unit"))
        }
        _ => {}
    }
    k
}

fn check_code(code: &str, what: &str, problems: &mut Problems) {
    let ok = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        problems.push(format!(
            "{what} 的代码 “{code}” 只能由小写字母、数字和下划线组成"
        ));
    }
}

impl RawFormat {
    pub(super) fn build(self) -> Result<Format, Vec<String>> {
        let mut p = Problems::default();
        check_code(&self.id, "格式", &mut p);
        let (first_year, last_year) = match self.years.as_slice() {
            [first] => (*first, None),
            [first, last] if first <= last => (*first, Some(*last)),
            _ => {
                p.push("years 应为 [起始年度] 或 [起始年度, 截止年度]");
                (0, None)
            }
        };

        let sections = self.build_sections(&mut p);
        let tables = self.build_tables(&mut p);
        let fields = self.build_fields(&sections, &tables, &mut p);
        let mut format = Format {
            id: self.id,
            name: self.name,
            document: self.document,
            version: self.version,
            first_year,
            last_year,
            sections,
            fields,
            tables,
            rules: Vec::new(),
            checks: Vec::new(),
            key_figures: Vec::new(),
            index: Default::default(),
            totals: Default::default(),
            totals_in_order: Default::default(),
        };
        let mut ids = HashSet::new();
        for raw in self.rules {
            if !ids.insert(raw.id.clone()) {
                p.push(format!("规则编号 {} 重复", raw.id));
            }
            let index = format.rules.len();
            if let Some((rule, checks)) = raw.build(index, &format, &mut p) {
                format.rules.push(rule);
                format.checks.extend(checks);
            }
        }
        format.key_figures = build_key_figures(&self.key_figures, &format, &mut p);
        if p.0.is_empty() {
            Ok(format)
        } else {
            Err(p.0)
        }
    }

    fn build_sections(&self, p: &mut Problems) -> Vec<Section> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for s in &self.sections {
            check_code(&s.code, &format!("文字部分 {}", s.title), p);
            if !seen.insert(&s.code) {
                p.push(format!("文字部分代码 {} 重复", s.code));
            }
            out.push(Section {
                code: s.code.clone(),
                number: s.number.clone(),
                title: s.title.clone(),
                prompt: s.prompt.clone(),
                fields_sentence: s.fields_sentence.clone(),
                fields_sentence_if_none: s.fields_sentence_if_none.clone(),
            });
        }
        out
    }

    fn build_tables(&self, p: &mut Problems) -> Vec<Table> {
        let mut table_codes = HashSet::new();
        let mut out = Vec::new();
        for t in &self.tables {
            check_code(&t.code, &format!("表{}", t.number), p);
            if !table_codes.insert(&t.code) {
                p.push(format!("表代码 {} 重复", t.code));
            }
            if t.blocks.is_empty() {
                p.push(format!("表{}没有任何区块", t.number));
            }
            let mut row_codes = HashSet::new();
            let blocks = t
                .blocks
                .iter()
                .map(|b| {
                    let what = format!("表{}{}", t.number, b.title.as_deref().unwrap_or(""));
                    if b.rows.is_empty() || b.columns.is_empty() {
                        p.push(format!("{what} 没有行或没有列"));
                    }
                    let rows = b
                        .rows
                        .iter()
                        .map(|r| {
                            check_code(&r.code, &format!("{what}「{}」行", r.label), p);
                            if !row_codes.insert(&r.code) {
                                p.push(format!("表{}的行代码 {} 重复", t.number, r.code));
                            }
                            Row {
                                code: r.code.clone(),
                                label: r.label.clone(),
                                groups: r.groups.clone(),
                            }
                        })
                        .collect();
                    let mut col_codes = HashSet::new();
                    let columns = b
                        .columns
                        .iter()
                        .map(|c| {
                            let cwhat = format!("{what}「{}」列", c.label);
                            check_code(&c.code, &cwhat, p);
                            if !col_codes.insert(&c.code) {
                                p.push(format!("{what} 的列代码 {} 重复", c.code));
                            }
                            Column {
                                code: c.code.clone(),
                                label: c.label.clone(),
                                kind: parse_kind(&c.kind, c.unit.as_ref(), &cwhat, p),
                                unit: c.unit.clone(),
                                groups: c.groups.clone(),
                            }
                        })
                        .collect();
                    Block {
                        title: b.title.clone(),
                        corner: b.corner.clone(),
                        rows,
                        columns,
                    }
                })
                .collect();
            out.push(Table {
                code: t.code.clone(),
                number: t.number.clone(),
                title: t.title.clone(),
                sheet: t.sheet.clone(),
                blocks,
            });
        }
        out
    }

    fn build_fields(&self, sections: &[Section], tables: &[Table], p: &mut Problems) -> Vec<Field> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for f in &self.fields {
            let what = format!("字段「{}」", f.label);
            check_code(&f.code, &what, p);
            if !seen.insert(&f.code) || tables.iter().any(|t| t.code == f.code) {
                p.push(format!("字段代码 {} 重复", f.code));
            }
            if !sections.iter().any(|s| s.code == f.section) {
                p.push(format!("{what} 所属的文字部分 {} 不存在", f.section));
            }
            out.push(Field {
                code: f.code.clone(),
                label: f.label.clone(),
                kind: parse_kind(&f.kind, f.unit.as_ref(), &what, p),
                unit: f.unit.clone(),
                section: f.section.clone(),
            });
        }
        for s in sections {
            for name in s.fields_sentence.iter().flat_map(|t| placeholders(t)) {
                if !out.iter().any(|f| f.code == name && f.section == s.code) {
                    p.push(format!(
                        "文字部分 {} 的 fields_sentence 中的 {{{name}}} 不是该部分的字段",
                        s.code
                    ));
                }
            }
        }
        out
    }
}

/// The `units.csv` key figures: each column a code, once, over keys the format has.
fn build_key_figures(raw: &[RawKeyFigure], format: &Format, p: &mut Problems) -> Vec<KeyFigure> {
    let all_keys: BTreeSet<Key> = format.keys().into_iter().collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for k in raw {
        let what = format!("关键数字 {}", k.column);
        check_code(&k.column, &what, p);
        if !seen.insert(&k.column) {
            p.push(format!("{what} 重复"));
        }
        if k.keys.is_empty() {
            p.push(format!("{what} 没有 keys"));
        }
        let keys: Vec<Key> = k.keys.iter().map(|s| Key::from_string(s)).collect();
        for key in keys.iter().filter(|key| !all_keys.contains(*key)) {
            p.push(format!("{what} 的 {key} 不是本格式的单元格或字段"));
        }
        out.push(KeyFigure {
            column: k.column.clone(),
            label: k.label.clone().unwrap_or_else(|| k.column.clone()),
            keys,
        });
    }
    out
}

/// The `{code}` placeholders of a sentence, in order.
fn placeholders(text: &str) -> Vec<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

impl RawRule {
    fn build(self, index: usize, format: &Format, p: &mut Problems) -> Option<(Rule, Vec<Check>)> {
        let what = format!("规则 {}", self.id);
        let Some(level) = Level::parse(&self.level).filter(|l| *l != Level::Fixed) else {
            p.push(format!(
                "{what} 的 level “{}” 应为 error 或 warning",
                self.level
            ));
            return None;
        };
        let all_keys: BTreeSet<Key> = format.keys().into_iter().collect();
        let full_keys = |terms: &Option<Vec<String>>, name: &str, p: &mut Problems| -> Vec<Key> {
            let terms = terms.clone().unwrap_or_default();
            if terms.is_empty() {
                p.push(format!("{what} 缺少 {name}"));
            }
            terms
                .iter()
                .map(|t| {
                    let key = Key::from_string(t);
                    if !all_keys.contains(&key) {
                        p.push(format!("{what} 的 {name} 引用了不存在的单元格 {t}"));
                    }
                    key
                })
                .collect()
        };
        let mut checks = Vec::new();
        let kind = match self.kind.as_str() {
            "value_kind" => RuleKind::ValueKind,
            "empty_table" => RuleKind::EmptyTable,
            "format_year" => RuleKind::FormatYear,
            "stray_number" => RuleKind::StrayNumber,
            "magnitude" => match self.max {
                Some(max) if max > 0.0 => RuleKind::Magnitude { max },
                _ => {
                    p.push(format!("{what} 缺少正数 max"));
                    return None;
                }
            },
            "text_required" => match &self.section {
                Some(s) if format.sections.iter().any(|x| &x.code == s) => {
                    RuleKind::TextRequired { section: s.clone() }
                }
                _ => {
                    p.push(format!("{what} 的 section 不存在"));
                    return None;
                }
            },
            "cover_required" => {
                let fields = self.fields.clone().unwrap_or_default();
                if fields.is_empty() {
                    p.push(format!(
                        "{what} 缺少 fields（封面栏目代码，如 filler、phone）"
                    ));
                    return None;
                }
                let mut seen = BTreeSet::new();
                for f in &fields {
                    let plain =
                        !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                    if !plain {
                        p.push(format!("{what} 的 fields 中 “{f}” 不是封面栏目代码"));
                    } else if !seen.insert(f.as_str()) {
                        p.push(format!("{what} 的 fields 中 “{f}” 重复"));
                    }
                }
                RuleKind::CoverRequired { fields }
            }
            "text_quotes" => {
                let figures = self
                    .quotes
                    .iter()
                    .flatten()
                    .map(|q| QuotedFigure {
                        label: q.label.clone(),
                        keys: full_keys(&Some(q.keys.clone()), "quotes.keys", p),
                        patterns: q
                            .patterns
                            .iter()
                            .filter_map(|t| {
                                Pattern::parse(t)
                                    .map_err(|e| p.push(format!("{what} 的 patterns 中 {e}")))
                                    .ok()
                            })
                            .collect(),
                    })
                    .collect::<Vec<_>>();
                if figures.is_empty() {
                    p.push(format!("{what} 缺少 quotes"));
                }
                RuleKind::TextQuotes {
                    figures,
                    guards: self.guards.clone().unwrap_or_default(),
                }
            }
            "requires_any" => RuleKind::RequiresAny {
                when_nonzero: full_keys(&self.when_nonzero, "when_nonzero", p),
                require_any: full_keys(&self.require_any, "require_any", p),
            },
            "total" => {
                let total = self.total.clone().map(|t| vec![t]);
                checks = self.expand(index, format, &total, Op::Eq, &self.parts, true, p);
                RuleKind::Total
            }
            "compare" => {
                let op = match self.op.as_deref() {
                    Some("=") => Op::Eq,
                    Some("<=") => Op::Le,
                    other => {
                        p.push(format!("{what} 的 op {other:?} 应为 \"=\" 或 \"<=\""));
                        Op::Eq
                    }
                };
                checks = self.expand(index, format, &self.lhs, op, &self.rhs, false, p);
                RuleKind::Compare
            }
            other => {
                p.push(format!("{what} 的 kind “{other}” 未知"));
                return None;
            }
        };
        let rule = Rule {
            id: self.id,
            level,
            kind,
            message: self.message,
            hint: self.hint,
            document_hint: self.document_hint,
            live_check: self.live_check,
        };
        Some((rule, checks))
    }

    /// Expands a `total` or `compare` rule into one check per row or column it covers.
    #[allow(clippy::too_many_arguments)]
    fn expand(
        &self,
        index: usize,
        format: &Format,
        lhs: &Option<Vec<String>>,
        op: Op,
        rhs: &Option<Vec<String>>,
        is_total: bool,
        p: &mut Problems,
    ) -> Vec<Check> {
        let what = format!("规则 {}", self.id);
        let (lhs_src, rhs_src) = (
            lhs.clone().unwrap_or_default(),
            rhs.clone().unwrap_or_default(),
        );
        let (lhs, rhs) = (&lhs_src, &rhs_src);
        if lhs.is_empty() || rhs.is_empty() {
            p.push(format!("{what} 两边都须有单元格"));
            return Vec::new();
        }
        let all_keys: BTreeSet<Key> = format.keys().into_iter().collect();
        let scopes: Vec<(String, Scope)> = match self.for_each.as_deref() {
            None => vec![(String::new(), Scope::Full)],
            Some(axis @ ("row" | "column")) => {
                let Some(table) = self.table.as_ref().and_then(|t| format.table(t)) else {
                    p.push(format!("{what} 须用 table 指明存在的表"));
                    return Vec::new();
                };
                let code = table.code.clone();
                if axis == "column" {
                    let mut cols: Vec<(&str, &str)> = Vec::new();
                    for b in &table.blocks {
                        for c in &b.columns {
                            if !cols.iter().any(|(k, _)| *k == c.code) {
                                cols.push((&c.code, &c.label));
                            }
                        }
                    }
                    let wanted = self.columns.clone();
                    if let Some(w) = &wanted {
                        for c in w.iter().filter(|c| !cols.iter().any(|(k, _)| k == c)) {
                            p.push(format!("{what} 的 columns 中 {c} 不存在"));
                        }
                    }
                    cols.iter()
                        .filter(|(c, _)| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == c)))
                        .map(|(c, label)| {
                            let scope = Scope::Column(code.clone(), c.to_string());
                            (format!("「{label}」列"), scope)
                        })
                        .collect()
                } else {
                    let wanted = self.rows.clone();
                    if let Some(w) = &wanted {
                        for r in w
                            .iter()
                            .filter(|r| !table.rows().any(|(_, x)| &x.code == *r))
                        {
                            p.push(format!("{what} 的 rows 中 {r} 不存在"));
                        }
                    }
                    table
                        .rows()
                        .filter(|(_, r)| wanted.as_ref().is_none_or(|w| w.contains(&r.code)))
                        .map(|(_, r)| {
                            let f = Scope::Row(code.clone(), r.code.clone());
                            let scope = if r.label.is_empty() {
                                String::new()
                            } else {
                                format!("「{}」行", r.label)
                            };
                            (scope, f)
                        })
                        .collect()
                }
            }
            Some(other) => {
                p.push(format!("{what} 的 for_each “{other}” 应为 row 或 column"));
                return Vec::new();
            }
        };
        let mut checks = Vec::new();
        // Terms that named a real cell in at least one row or column.
        let mut resolved: HashSet<&String> = HashSet::new();
        let explicit = self.for_each.is_none() || self.rows.is_some() || self.columns.is_some();
        for (scope, at) in scopes {
            let term = |t: &String| match t.strip_prefix("prev:") {
                Some(t) => Term {
                    key: at.key(t),
                    previous: true,
                },
                None => Term {
                    key: at.key(t),
                    previous: false,
                },
            };
            let lhs: Vec<Term> = lhs.iter().map(term).collect();
            let rhs: Vec<Term> = rhs.iter().map(term).collect();
            let terms = lhs.iter().chain(&rhs).zip(lhs_src.iter().chain(&rhs_src));
            let mut complete = true;
            for (t, raw) in terms {
                if all_keys.contains(&t.key) {
                    resolved.insert(raw);
                } else {
                    complete = false;
                    // Named rows or columns must all exist; otherwise a rule over a
                    // table applies only where its cells exist (table 二's blocks).
                    if explicit {
                        p.push(format!("{what} 引用了不存在的单元格 {}", t.key));
                    }
                }
            }
            if complete {
                checks.push(Check {
                    rule: index,
                    lhs,
                    op,
                    rhs,
                    scope,
                    is_total,
                });
            }
        }
        if !explicit {
            for t in lhs_src
                .iter()
                .chain(&rhs_src)
                .filter(|t| !resolved.contains(t))
            {
                let table = self.table.as_deref().unwrap_or("");
                p.push(format!("{what} 引用了表 {table} 中不存在的 {t}"));
            }
        }
        if checks.is_empty() && p.0.is_empty() {
            p.push(format!("{what} 没有适用的单元格"));
        }
        checks
    }
}

/// Where the terms of a rule are expanded: full keys, or codes in one column or row.
enum Scope {
    Full,
    /// (table, column): terms are row codes.
    Column(String, String),
    /// (table, row): terms are column codes.
    Row(String, String),
}

impl Scope {
    fn key(&self, term: &str) -> Key {
        match self {
            Scope::Full => Key::from_string(term),
            Scope::Column(table, col) => Key::cell(table, term, col),
            Scope::Row(table, row) => Key::cell(table, row, term),
        }
    }
}
