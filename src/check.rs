//! One file → one [`Submission`]: read, locate, normalise, validate. This is the engine
//! `check` runs on the files it is given and `ingest` runs on every file of a batch.
//!
//! A file that cannot be read becomes a submission with one `F-1` error: the batch goes
//! on. The text and JSON renderings of findings for the terminal live here too, as pure
//! functions; the binary prints them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::format::{Formats, Key};
use crate::locate::{self, IdentifiedBy};
use crate::model::{clip, is_terminal_control, rule_ids, terminal_text, Finding, Level};
use crate::read::{self, ReadError};
use crate::validate::{self, Context, Submission};

/// Last year's values by unit code, for the cross-year rules (from `--previous`).
pub type PreviousYear = BTreeMap<String, BTreeMap<Key, f64>>;

/// Options shared by every file of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// The year to assume when a workbook does not say (a hand-made blank).
    pub year: Option<i32>,
    pub previous: Option<&'a PreviousYear>,
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
            let found = locate::locate(&wb, formats, options.year);
            let previous = options
                .previous
                .and_then(|p| p.get(&found.identity.unit_code));
            validate::validate(found, formats, Context { previous })
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
