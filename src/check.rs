//! One file → one [`Submission`]: read, locate, normalise, validate. This is the engine
//! `check` runs on the files it is given and `ingest` runs on every file of a batch.
//!
//! A file that cannot be read becomes a submission with one `F-1` error: the batch goes
//! on. The text and JSON renderings of findings for the terminal live here too, as pure
//! functions; the binary prints them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::format::{Format, Formats, Key};
use crate::locate::{self, Found, IdentifiedBy, NameMatch};
use crate::model::{
    clip, is_terminal_control, rule_ids, terminal_text, Finding, LabelPath, Level, Place, Spot,
};
use crate::read::{self, ReadError};
use crate::roster::{Roster, Unit};
use crate::validate::{self, Context, Submission};

/// Last year's values by unit code, for the cross-year rules (from `--previous`).
pub type PreviousYear = BTreeMap<String, BTreeMap<Key, f64>>;

/// Options shared by every file of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// The year to assume when a workbook does not say (a hand-made blank).
    pub year: Option<i32>,
    pub previous: Option<&'a PreviousYear>,
    /// The units, to tell whose a report without a template is by the name in its title
    /// or its file's name ([`locate::unit_by_name`]). Without it, such a report is the
    /// unit its title names.
    pub roster: Option<&'a Roster>,
}

/// Checks one file. `display` is how the file is named in findings (a path relative to
/// what the user gave, so messages stay short and stable).
pub fn check_file(
    path: &Path,
    display: &str,
    formats: &Formats,
    options: Options<'_>,
) -> Submission {
    let mut sub = match read::read(path) {
        Ok(wb) => {
            let mut found = locate::locate(&wb, formats, options.year);
            if let Some(roster) = options.roster {
                identify_by_name(&mut found, roster, display);
            }
            let document = found.document.then(|| section_places(&found, formats));
            let previous = options
                .previous
                .and_then(|p| p.get(&found.identity.unit_code));
            let mut sub = validate::validate(found, formats, Context { previous });
            if let Some(sections) = document {
                let format = sub
                    .format_id
                    .as_deref()
                    .and_then(|id| formats.by_id(id).ok());
                name_by_labels(&mut sub, &sections, format);
            }
            sub
        }
        Err(err) => unreadable(&err),
    };
    for f in &mut sub.findings {
        f.file = display.to_string();
        if f.unit_code.is_empty() {
            f.unit_code = sub.unit_code.clone();
            f.unit_name = sub.unit_name.clone();
        }
    }
    sub
}

/// A report without a template's identity (known by its title, or by nothing) matched
/// to the roster by the name its title gives, else by its file's name: one unit is
/// taken (its code and roster name); several are an error naming them, and the report
/// is no one's; none leaves the title's name, a unit the roster does not have.
fn identify_by_name(found: &mut Found, roster: &Roster, display: &str) {
    let id = &mut found.identity;
    if !matches!(id.by, IdentifiedBy::Title | IdentifiedBy::Nothing) || !id.unit_code.is_empty() {
        return;
    }
    let base = display.rsplit(['/', '\\']).next().unwrap_or(display);
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let mut tried: Vec<(String, NameMatch<'_>)> = Vec::new();
    if id.by == IdentifiedBy::Title {
        let title = id.title.clone().unwrap_or_default();
        tried.push((
            format!("报告标题“{}”", clip(&title)),
            locate::unit_by_name(roster, &id.unit_name),
        ));
    }
    if tried.iter().all(|(_, m)| *m == NameMatch::None) {
        tried.push((
            format!("文件名“{}”", clip(base)),
            locate::unit_by_name(roster, stem),
        ));
    }
    let Some((what, matched)) = tried.into_iter().find(|(_, m)| *m != NameMatch::None) else {
        return;
    };
    match matched {
        NameMatch::One(unit) => {
            if id.by == IdentifiedBy::Nothing {
                id.by = IdentifiedBy::FileName;
            }
            id.unit_code = unit.code.to_string();
            id.unit_name = unit.name.clone();
        }
        NameMatch::Several(units) => {
            let named: Vec<String> = units.iter().map(|u| unit_text(u)).collect();
            id.unit_name.clear();
            found.findings.push(Finding {
                found: clip(&named.join("、")).into_owned(),
                expected: "名册中的一个单位".into(),
                ..Finding::file_level(
                    Level::Error,
                    rule_ids::UNIT,
                    format!(
                        "无法确定是哪个单位的报告：{what}与名册中的 {} 个单位相符（{}）",
                        units.len(),
                        clip(&named.join("、"))
                    ),
                    "请在报告标题中写明本单位全称（与名册一致），或使用下发给本单位的模板",
                )
            });
        }
        NameMatch::None => {}
    }
}

/// `山市镇人民政府（231083102000）`.
fn unit_text(unit: &Unit) -> String {
    format!("{}（{}）", unit.name, unit.code)
}

/// Where each text section and field of a document was read, by the label a clerk
/// finds it under: `「一、总体情况」`, `「开篇」`.
fn section_places(found: &Found, formats: &Formats) -> Vec<(Place, LabelPath)> {
    let Some(format) = found
        .format_id
        .as_deref()
        .and_then(|id| formats.by_id(id).ok())
    else {
        return Vec::new();
    };
    format
        .sections
        .iter()
        .filter_map(|s| {
            let place = found.texts.get(&s.code)?.place.clone();
            let about = LabelPath {
                row: s.heading(),
                ..LabelPath::default()
            };
            Some((place, about))
        })
        .collect()
}

/// A document's findings named by labels instead of cells: a document has no cells a
/// clerk could find (`locate` made them up to read its tables), so each finding about a
/// place is named by its table, row and column, or by its text section; and a rule's
/// hint that points into the template is replaced by its `document_hint`.
fn name_by_labels(sub: &mut Submission, sections: &[(Place, LabelPath)], format: Option<&Format>) {
    for f in &mut sub.findings {
        if f.about.is_none() {
            if let Spot::Cells { cells } = &f.spot {
                f.about = cells.first().and_then(|c| {
                    let place = Place {
                        sheet: c.sheet.clone().unwrap_or_else(|| f.sheet.clone()),
                        at: c.at,
                    };
                    sections
                        .iter()
                        .find(|(p, _)| *p == place)
                        .map(|(_, about)| about.clone())
                });
            }
        }
        f.sheet.clear();
        f.spot = if f.about.is_some() {
            Spot::Labels
        } else {
            Spot::None
        };
        // A rule's hint that points into the template says where else to look.
        if let Some(hint) = format
            .and_then(|format| format.rules.iter().find(|r| r.id == f.rule))
            .and_then(|rule| rule.document_hint.as_ref())
        {
            f.hint = hint.clone();
        }
    }
}

/// The submission of a file that is not a readable workbook: one sentence, the read
/// error's own, which says what happened and what to do (a hint would only repeat it).
pub fn unreadable(err: &ReadError) -> Submission {
    let hint = match err {
        ReadError::Io(_) => "请确认文件还在、可以打开，再检查一次",
        _ => "",
    };
    Submission {
        unit_code: String::new(),
        unit_name: String::new(),
        year: None,
        format_id: None,
        identified_by: IdentifiedBy::Nothing,
        by_labels: false,
        values: Default::default(),
        texts: Default::default(),
        cover: Default::default(),
        places: Default::default(),
        findings: vec![Finding::file_level(
            Level::Error,
            rule_ids::UNREADABLE,
            err.to_string(),
            hint,
        )],
    }
}

/// A one-line description of whose report a submission is.
pub fn describe(sub: &Submission) -> String {
    let (name, code) = (clip(&sub.unit_name), clip(&sub.unit_code));
    let unit = match (name.as_ref(), code.as_ref()) {
        ("", "") => "单位不明".to_string(),
        (name, "") => name.to_string(),
        ("", code) => format!("单位代码 {code}"),
        (name, code) => format!("{name}（{code}）"),
    };
    let year = sub.year.map(|y| format!("，{y} 年度")).unwrap_or_default();
    let format = sub
        .format_id
        .as_ref()
        .map(|f| format!("，{f} 格式"))
        .unwrap_or_default();
    let how = match sub.identified_by {
        IdentifiedBy::Nothing => String::new(),
        by => format!(
            "（按{}识别{}）",
            by.chinese(),
            if sub.by_labels {
                "，部分表格按标签定位"
            } else {
                ""
            }
        ),
    };
    format!("{unit}{year}{format}{how}")
}

/// The findings of one file for a terminal, most serious first, readable without colour.
/// Every value in it passes through [`terminal_text`]: a unit name or a cell's text
/// cannot send escape sequences to the terminal or start a line of its own.
pub fn render_text(file: &str, sub: &Submission) -> String {
    let t = |s: &str| terminal_text(s).into_owned();
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", t(file), t(&describe(sub)));
    for f in &sub.findings {
        let place = match t(&f.place_text()) {
            place if place.is_empty() => place,
            place => format!(" {place}"),
        };
        let _ = writeln!(out, "  {} {}{place}", f.level.chinese(), t(&f.rule));
        let _ = writeln!(out, "      {}", t(&f.message));
        // The place in words, unless the message already begins with them.
        let said = f
            .about
            .as_ref()
            .is_some_and(|a| f.message.starts_with(&a.text()));
        let about = f.about_text();
        if !about.is_empty() && !said {
            let _ = writeln!(out, "      位置：{}", t(&about));
        }
        match (t(&f.found_text()).as_str(), t(&f.expected_text()).as_str()) {
            ("", "") => {}
            (found, "") => {
                let _ = writeln!(out, "      实际：{found}");
            }
            (found, expected) => {
                let _ = writeln!(out, "      实际：{found}　应为：{expected}");
            }
        }
        if !f.hint.is_empty() {
            let _ = writeln!(out, "      提示：{}", t(&f.hint));
        }
    }
    let (e, w, x) = (sub.errors(), sub.warnings(), sub.fixes());
    let verdict = if e > 0 {
        "不通过，需要修改"
    } else if w > 0 {
        "通过（有警告）"
    } else {
        "通过"
    };
    let _ = writeln!(
        out,
        "  结果：{verdict}。{e} 个错误，{w} 个警告，{x} 处已自动修正。"
    );
    out
}

/// One finding as a JSON line: the columns of diagnostics.csv (the place rendered as
/// text, as there) and the keys of the values it is about.
#[derive(Debug, serde::Serialize)]
struct FindingLine<'a> {
    level: Level,
    rule: &'a str,
    unit_code: &'a str,
    unit_name: &'a str,
    file: &'a str,
    sheet: &'a str,
    cell: String,
    /// The place in words (`表三 第 8 行「…」「自然人」列`), as in diagnostics.csv.
    about: String,
    message: &'a str,
    found: String,
    expected: String,
    hint: &'a str,
    #[serde(skip_serializing_if = "<[Key]>::is_empty")]
    keys: &'a [Key],
}

impl<'a> FindingLine<'a> {
    fn of(f: &'a Finding) -> FindingLine<'a> {
        FindingLine {
            level: f.level,
            rule: &f.rule,
            unit_code: &f.unit_code,
            unit_name: &f.unit_name,
            file: &f.file,
            sheet: &f.sheet,
            cell: f.cell_text(),
            about: f.about_text(),
            message: &f.message,
            found: f.found_text(),
            expected: f.expected_text(),
            hint: &f.hint,
            keys: &f.keys,
        }
    }
}

/// The findings as JSON lines, one object per finding, for other programs. The data
/// is complete, and still safe on a terminal: JSON escapes C0 controls itself, and the
/// other characters a terminal acts on (DEL, the C1 range, bidirectional formatting) are
/// written as `\uXXXX` escapes too, which read back as the same text.
pub fn render_json(sub: &Submission) -> String {
    let mut out = String::new();
    for f in &sub.findings {
        if let Ok(line) = serde_json::to_string(&FindingLine::of(f)) {
            for c in line.chars() {
                if is_terminal_control(c) {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                } else {
                    out.push(c);
                }
            }
            out.push('\n');
        }
    }
    out
}
