//! Values CSV → one filled workbook per unit (`nianbao fill`).
//!
//! For departments whose report data lives in another system (a case-handling system can
//! export table 三 as rows of numbers), and for producing the bundled samples: instead of
//! typing into a template, the data is written as a CSV and each unit gets the very
//! workbook `template` would have sent it, already filled. The workbook is then checked
//! and ingested like any other returned workbook.
//!
//! The CSV (UTF-8 with or without a byte-order mark, or GBK as Excel on Chinese Windows
//! saves it) has a header `unit_code,field,value` (also `单位代码,字段,值`; other columns
//! are ignored) and one line per value:
//!
//! | `field` | `value` |
//! |---|---|
//! | a numeric key of the format: `t3.new.natural`, `t2.procurement.amount`, `fee_cases` | a number of the cell's kind (`12`, `-2`, `7730.28`) |
//! | `section:<code>` (`opening`, `overview`, `problems`, `other`) | text; a quoted field may span lines, each line a paragraph |
//! | `cover:<code>` (`filler`, `phone`, `date`, `head`) | text for the cover |
//! | `raw:<key>` | text typed into a numeric cell exactly as a clerk would (`１２`, `无`; empty = a blank cell) |
//!
//! Keys not given stay at the template's 0. Totals (`t3.total.natural`, `t3.new.total`…)
//! are formulas in the workbook; a total may be given, and then must equal the sum of
//! its parts. Loading is strict and reports every problem with its line (`第 N 行`): an
//! unknown unit code (not on the roster) or field, a number that does not parse or is not
//! of the cell's kind, the same unit and cell twice. Nothing is written unless the whole
//! file is valid. Workbooks are written atomically, one per unit that has a line, in
//! roster order, named like the templates ([`template::file_name`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::format::{Format, Key, Kind};
use crate::identity::COVER_FIELDS;
use crate::model::{number_text, terminal_text, CodeProblem, UnitCode, MAX_VALUE};
use crate::roster::Roster;
use crate::template::{self, Prefill, TemplateError, UnitInfo};

/// How many line problems an error message lists before summarising the rest.
const SHOWN_PROBLEMS: usize = 20;

/// Why a values CSV could not be turned into workbooks. Messages are for the clerk:
/// plain Chinese, naming the file and the 1-based line of the CSV.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error("无法读取数值文件 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },

    #[error(
        "数值文件 {path} 既不是 UTF-8 编码也不是 GBK 编码，无法读取。\
         请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”格式再试。"
    )]
    Encoding { path: String },

    #[error("数值文件 {path} 第 {line} 行无法按 CSV 格式读取：{message}")]
    Csv {
        path: String,
        line: u64,
        message: String,
    },

    #[error(
        "数值文件 {path} 第 1 行（表头）应包含 unit_code、field、value 三列\
         （或 单位代码、字段、值），找到的是：{found}"
    )]
    Header { path: String, found: String },

    #[error("数值文件 {path} 只有表头，没有任何数值。")]
    Empty { path: String },

    #[error("数值文件 {path} 有 {} 处错误，未生成任何工作簿：\n{}", .problems.len(), list(.problems))]
    Lines {
        path: String,
        problems: Vec<LineError>,
    },

    #[error("无法创建输出目录 {path}：{source}")]
    OutDir {
        path: String,
        source: std::io::Error,
    },

    #[error(transparent)]
    Template(#[from] TemplateError),
}

impl FillError {
    /// The problems of an invalid file, each with its line; empty for other failures.
    pub fn problems(&self) -> &[LineError] {
        match self {
            FillError::Lines { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// One bad line of the values CSV.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    #[error("第 {line} 行：单位代码为空")]
    NoUnit { line: u64 },

    #[error("第 {line} 行：单位代码 {code} 不在名册中")]
    UnknownUnit { line: u64, code: String },

    #[error("第 {line} 行：字段为空")]
    NoField { line: u64 },

    #[error("第 {line} 行：未知的字段“{field}”（{format_id} 格式）{hint}")]
    UnknownField {
        line: u64,
        field: String,
        format_id: String,
        hint: String,
    },

    #[error("第 {line} 行：单位 {code} 的“{field}”与第 {first_line} 行重复")]
    Duplicate {
        line: u64,
        code: String,
        field: String,
        first_line: u64,
    },

    #[error("第 {line} 行：“{field}”的值“{value}”不是数字{hint}")]
    NotANumber {
        line: u64,
        field: String,
        value: String,
        hint: String,
    },

    #[error("第 {line} 行：{label}（{field}）应为{expected}，实际为 {value}")]
    WrongKind {
        line: u64,
        field: String,
        label: String,
        value: String,
        expected: String,
    },

    #[error(
        "第 {line} 行：合计“{field}”在工作簿中由公式计算，按各项应为 {sum}，\
         与填写的 {value} 不符"
    )]
    Total {
        line: u64,
        field: String,
        value: String,
        sum: String,
    },

    #[error("第 {line} 行：“{field}”是公式计算的合计，不能用 raw: 写入文字")]
    RawTotal { line: u64, field: String },
}

impl LineError {
    /// The 1-based CSV line the problem is on.
    pub fn line(&self) -> u64 {
        match self {
            LineError::NoUnit { line }
            | LineError::UnknownUnit { line, .. }
            | LineError::NoField { line }
            | LineError::UnknownField { line, .. }
            | LineError::Duplicate { line, .. }
            | LineError::NotANumber { line, .. }
            | LineError::WrongKind { line, .. }
            | LineError::Total { line, .. }
            | LineError::RawTotal { line, .. } => *line,
        }
    }
}

fn list(problems: &[LineError]) -> String {
    // What a line quotes of the file is printed to a terminal: no control characters.
    let mut lines: Vec<String> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|p| format!("  {}", terminal_text(&p.to_string())))
        .collect();
    if problems.len() > SHOWN_PROBLEMS {
        lines.push(format!("  ……另有 {} 处", problems.len() - SHOWN_PROBLEMS));
    }
    lines.join("\n")
}

/// What one CSV line writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    Number(Key),
    Raw(Key),
    Section(String),
    Cover(String),
}

impl Target {
    /// Two targets that would write the same cell are the same target: a number and a
    /// raw text for one key are a duplicate.
    fn slot(&self) -> Target {
        match self {
            Target::Raw(k) => Target::Number(k.clone()),
            other => other.clone(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Number(k) => write!(f, "{k}"),
            Target::Raw(k) => write!(f, "raw:{k}"),
            Target::Section(c) => write!(f, "section:{c}"),
            Target::Cover(c) => write!(f, "cover:{c}"),
        }
    }
}

/// One unit's lines, collected.
#[derive(Default)]
struct UnitValues {
    prefill: Prefill,
    /// Given totals: key → (line, value), checked against their parts at the end.
    totals: BTreeMap<Key, (u64, f64)>,
    /// Where each target was first given.
    seen: HashMap<Target, u64>,
}

/// Writes one filled workbook per unit found in `values` into `out`, in roster order, and
/// returns their paths; `handback` (deadline, contact) is printed on each as on a
/// template. Nothing is written if any line of `values` is wrong.
pub fn run(
    format: &Format,
    year: i32,
    roster: &Roster,
    values: &Path,
    out: &Path,
    handback: &crate::identity::Handback,
) -> Result<Vec<PathBuf>, FillError> {
    template::check_year(year)?;
    let path = values.display().to_string();
    let bytes = std::fs::read(values).map_err(|source| FillError::Io {
        path: path.clone(),
        source,
    })?;
    let units = parse(&bytes, &path, format, roster)?;

    std::fs::create_dir_all(out).map_err(|source| FillError::OutDir {
        path: out.display().to_string(),
        source,
    })?;
    let jobs: Vec<(UnitInfo, &Prefill)> = roster
        .units()
        .iter()
        .filter_map(|unit| {
            let prefill = &units.get(&unit.code)?.prefill;
            Some((UnitInfo::from_roster(roster, unit), prefill))
        })
        .collect();
    jobs.par_iter()
        .map(|(info, prefill)| {
            let file = out.join(template::file_name(&info.code, &info.name, year));
            let bytes = template::workbook_bytes_handed(format, year, info, prefill, handback)?;
            template::write_atomic(&file, &bytes)?;
            Ok(file)
        })
        .collect()
}

/// Parses the CSV into each unit's prefill, collecting every bad line.
fn parse(
    bytes: &[u8],
    path: &str,
    format: &Format,
    roster: &Roster,
) -> Result<BTreeMap<UnitCode, UnitValues>, FillError> {
    let text = crate::roster::decode_csv_text(bytes).ok_or_else(|| FillError::Encoding {
        path: path.to_string(),
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    // Lines as the clerk's editor counts them (csv's own count lags on CRLF files).
    let mut lines = crate::roster::LineCounter::new(text.as_bytes());
    let mut csv_error = |e: csv::Error| FillError::Csv {
        path: path.to_string(),
        line: e.position().map_or(0, |p| lines.line_at(p.byte())),
        message: terminal_text(&e.to_string()).into_owned(),
    };
    let header = match records.next() {
        Some(r) => r.map_err(&mut csv_error)?,
        None => {
            return Err(FillError::Header {
                path: path.to_string(),
                found: String::new(),
            })
        }
    };
    let columns = header_columns(&header).ok_or_else(|| FillError::Header {
        path: path.to_string(),
        found: header
            .iter()
            .map(|c| format!("“{}”", terminal_text(c.trim())))
            .collect::<Vec<_>>()
            .join("、"),
    })?;

    let keys: BTreeSet<Key> = format.keys().into_iter().collect();
    let mut units: BTreeMap<UnitCode, UnitValues> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut any = false;
    let mut lines = crate::roster::LineCounter::new(text.as_bytes());
    for record in records {
        let record = record.map_err(&mut csv_error)?;
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let get = |i: usize| record.get(i).unwrap_or("");
        let (code, field, value) = (get(columns[0]), get(columns[1]), get(columns[2]));
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        any = true;
        let code = match UnitCode::parse(code) {
            Err(CodeProblem::Empty) => {
                problems.push(LineError::NoUnit { line });
                continue;
            }
            Ok(c) if roster.get(&c).is_some() => c,
            // A malformed code is on no roster either.
            _ => {
                problems.push(LineError::UnknownUnit {
                    line,
                    code: code.trim().to_string(),
                });
                continue;
            }
        };
        let target = match target(field, line, format, &keys) {
            Ok(t) => t,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let unit = units.entry(code.clone()).or_default();
        if let Some(&first_line) = unit.seen.get(&target.slot()) {
            problems.push(LineError::Duplicate {
                line,
                code: code.to_string(),
                field: field.trim().to_string(),
                first_line,
            });
            continue;
        }
        unit.seen.insert(target.slot(), line);
        if let Some(p) = too_long(&target, field, value, line, format) {
            problems.push(p);
            continue;
        }
        match target {
            Target::Number(key) => match number(&key, value, line, format) {
                Ok(v) if format.totals().contains_key(&key) => {
                    unit.totals.insert(key, (line, v));
                }
                Ok(v) => {
                    unit.prefill.values.insert(key, v);
                }
                Err(p) => problems.push(p),
            },
            Target::Raw(key) => {
                unit.prefill.raw.insert(key, value.to_string());
            }
            Target::Section(c) => {
                unit.prefill.texts.insert(c, paragraphs(value));
            }
            Target::Cover(c) => {
                unit.prefill.cover.insert(c, value.trim().to_string());
            }
        }
    }
    if !any {
        return Err(FillError::Empty {
            path: path.to_string(),
        });
    }
    for unit in units.values() {
        check_totals(format, unit, &mut problems);
    }
    if problems.is_empty() {
        Ok(units)
    } else {
        problems.sort_by_key(LineError::line);
        Err(FillError::Lines {
            path: path.to_string(),
            problems,
        })
    }
}

/// A text longer than a cell holds ([`template::CELL_TEXT_LIMIT`]): the workbook would
/// have to cut it, so the line is refused instead, like any other problem.
fn too_long(
    target: &Target,
    field: &str,
    value: &str,
    line: u64,
    format: &Format,
) -> Option<LineError> {
    let label = match target {
        Target::Number(_) => return None,
        Target::Raw(key) => format.describe(key),
        Target::Section(code) => format
            .sections
            .iter()
            .find(|s| &s.code == code)
            .map_or_else(|| code.clone(), |s| s.heading()),
        Target::Cover(code) => COVER_FIELDS
            .iter()
            .find(|f| f.code == code)
            .map_or_else(|| code.clone(), |f| f.label.to_string()),
    };
    template::fit_cell(value)?;
    Some(LineError::WrongKind {
        line,
        field: field.trim().to_string(),
        label,
        value: format!("共 {} 字的文字", value.chars().count()),
        expected: format!(
            "不超过 {} 字的文字（Excel 单元格的上限）",
            template::CELL_TEXT_LIMIT
        ),
    })
}

/// Positions of unit_code, field and value in the header.
fn header_columns(header: &csv::StringRecord) -> Option<[usize; 3]> {
    let mut found = [None; 3];
    for (i, cell) in header.iter().enumerate() {
        let name = cell.trim_start_matches('\u{feff}').trim().to_lowercase();
        let slot = match name.as_str() {
            "unit_code" | "code" | "单位代码" | "代码" => 0,
            "field" | "key" | "字段" => 1,
            "value" | "值" | "数值" => 2,
            _ => continue,
        };
        found[slot].get_or_insert(i);
    }
    Some([found[0]?, found[1]?, found[2]?])
}

/// What a `field` cell names, checked against the format.
fn target(
    field: &str,
    line: u64,
    format: &Format,
    keys: &BTreeSet<Key>,
) -> Result<Target, LineError> {
    let field = field.trim();
    if field.is_empty() {
        return Err(LineError::NoField { line });
    }
    let unknown = |hint: String| LineError::UnknownField {
        line,
        field: field.to_string(),
        format_id: format.id.clone(),
        hint,
    };
    let numeric_hint = match format.fields.is_empty() {
        true => "。数值字段形如 t3.new.natural（表.行.列）".to_string(),
        false => format!(
            "。数值字段形如 t3.new.natural（表.行.列），或 {}",
            format
                .fields
                .iter()
                .map(|f| f.code.as_str())
                .collect::<Vec<_>>()
                .join("、")
        ),
    };
    if let Some(code) = field.strip_prefix("section:") {
        let code = code.trim();
        return match format.sections.iter().any(|s| s.code == code) {
            true => Ok(Target::Section(code.to_string())),
            false => Err(unknown(format!(
                "。文字部分可用：{}",
                format
                    .sections
                    .iter()
                    .map(|s| format!("section:{}", s.code))
                    .collect::<Vec<_>>()
                    .join("、")
            ))),
        };
    }
    if let Some(code) = field.strip_prefix("cover:") {
        let code = code.trim();
        let editable = || COVER_FIELDS.iter().filter(|f| !f.locked);
        return match editable().any(|f| f.code == code) {
            true => Ok(Target::Cover(code.to_string())),
            false => Err(unknown(format!(
                "。封面可填：{}（单位名称、代码等由名册生成）",
                editable()
                    .map(|f| format!("cover:{}（{}）", f.code, f.label))
                    .collect::<Vec<_>>()
                    .join("、")
            ))),
        };
    }
    if let Some(key) = field.strip_prefix("raw:") {
        let key = Key::from_string(key);
        if !keys.contains(&key) {
            return Err(unknown(numeric_hint));
        }
        if format.totals().contains_key(&key) {
            return Err(LineError::RawTotal {
                line,
                field: field.to_string(),
            });
        }
        return Ok(Target::Raw(key));
    }
    let key = Key::from_string(field);
    if keys.contains(&key) {
        return Ok(Target::Number(key));
    }
    let hint = if format.sections.iter().any(|s| s.code == field) {
        format!("。文字请写作 section:{field}")
    } else if COVER_FIELDS.iter().any(|f| f.code == field) {
        format!("。封面字段请写作 cover:{field}")
    } else {
        numeric_hint
    };
    Err(unknown(hint))
}

/// Parses a number and checks it is of the cell's kind.
fn number(key: &Key, value: &str, line: u64, format: &Format) -> Result<f64, LineError> {
    let text = value.trim();
    let parsed = text.parse::<f64>().ok().filter(|v| v.is_finite());
    let Some(v) = parsed else {
        let hint = if text.is_empty() {
            "（空白单元格请写作 raw:字段，值留空）"
        } else {
            "（原样写入文字请用 raw:字段）"
        };
        return Err(LineError::NotANumber {
            line,
            field: key.to_string(),
            value: value.to_string(),
            hint: hint.to_string(),
        });
    };
    // The reader's bound: a workbook `fill` writes is never refused for its size.
    if v.abs() > MAX_VALUE {
        return Err(LineError::WrongKind {
            line,
            field: key.to_string(),
            label: format.describe(key),
            value: text.to_string(),
            expected: format!("不超过 {} 的数", number_text(MAX_VALUE)),
        });
    }
    let Some((kind, unit)) = format.kind_of(key) else {
        return Ok(v);
    };
    let ok = match kind {
        Kind::Count => v >= 0.0 && v.fract() == 0.0,
        Kind::Signed => v.fract() == 0.0,
        Kind::Amount => v >= 0.0,
    };
    if ok {
        // `-0` would be written as "-0".
        Ok(v + 0.0)
    } else {
        Err(LineError::WrongKind {
            line,
            field: key.to_string(),
            label: format.describe(key),
            value: text.to_string(),
            expected: kind.describe(unit),
        })
    }
}

/// A text as the workbook should hold it: line breaks as Excel's Alt+Enter (`\n`), no
/// surrounding blank space (the reader trims it too).
fn paragraphs(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// A given total must equal what the workbook's formula will compute from the parts.
/// Skipped when a part is a raw text: what it counts as is the checker's business.
fn check_totals(format: &Format, unit: &UnitValues, problems: &mut Vec<LineError>) {
    if unit.totals.is_empty() {
        return;
    }
    let totals = format.totals();
    let mut values: BTreeMap<Key, f64> = format
        .keys()
        .into_iter()
        .filter(|k| !totals.contains_key(k))
        .map(|k| {
            let v = unit.prefill.values.get(&k).copied().unwrap_or(0.0);
            (k, v)
        })
        .collect();
    format.fill_totals(&mut values, None);
    for (key, &(line, given)) in &unit.totals {
        let mut parts = vec![key];
        let mut raw_part = false;
        while let Some(k) = parts.pop() {
            raw_part |= unit.prefill.raw.contains_key(k);
            parts.extend(totals.get(k).into_iter().flatten());
        }
        let sum = values.get(key).copied().unwrap_or(0.0);
        if !raw_part && (sum - given).abs() > 1e-9 {
            problems.push(LineError::Total {
                line,
                field: key.to_string(),
                value: number_text(given),
                sum: number_text(sum),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_accepts_aliases_and_any_order() {
        let h = csv::StringRecord::from(vec!["\u{feff}值", "备注", "单位代码", "字段"]);
        assert_eq!(header_columns(&h), Some([2, 3, 0]));
        let h = csv::StringRecord::from(vec!["unit_code", "field"]);
        assert_eq!(header_columns(&h), None);
    }

    #[test]
    fn paragraphs_keep_breaks_in_excel_form() {
        assert_eq!(paragraphs("  一段。\r\n\r\n二段。\r\n"), "一段。\n\n二段。");
    }

    #[test]
    fn gbk_is_decoded() {
        let (gbk, _, _) = encoding_rs::GBK.encode("单位代码,字段,值\n");
        assert_eq!(
            crate::roster::decode_csv_text(&gbk).unwrap(),
            "单位代码,字段,值\n"
        );
        assert_eq!(
            crate::roster::decode_csv_text(b"\xef\xbb\xbfa").unwrap(),
            "a"
        );
        assert!(crate::roster::decode_csv_text(b"\xff\xff\xff").is_none());
    }
}
