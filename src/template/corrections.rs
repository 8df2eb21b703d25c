//! Correction workbooks: a rejected unit's own report sent back to it in a fresh
//! template, its values filled in, every cell with a problem highlighted and carrying a
//! note that says what is wrong and what to do, and a first sheet listing the findings.
//!
//! The workbook is an ordinary template otherwise (same hidden keys and identity), so the
//! clerk corrects it in place and sends it back; it is read like any returned template.
//! The list sheet carries no `nianbao:` marker, so the reader ignores it.
//!
//! Findings name cells of the unit's own workbook, which may differ from the template's
//! (rows inserted, a hand-made table read by labels). Here they are moved to the cells of
//! the new workbook by their keys, through the same layout the writer uses.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Color, Format as Style, FormatAlign, FormatBorder, Worksheet, XlsxError};

use super::layout::{self, TEXT_FIELD_COL, TEXT_SHEET};
use super::sheets::{Styles, FONT};
use super::{workbook_bytes, CellNote, Prefill, TemplateError, UnitInfo, ERROR_FILL, WARNING_FILL};
use crate::cell::CellRef;
use crate::format::{Format, Key, RuleKind};
use crate::locate::Place;
use crate::model::{Finding, Level};
use crate::validate::Submission;

/// The name of the list sheet of a correction workbook.
pub const FINDINGS_SHEET: &str = "问题清单";

/// The cover fields a clerk fills in (the others come from the roster).
const CONTACT_FIELDS: &[&str] = &["filler", "phone", "date", "head"];

/// The unit's report `sub` re-emitted as its template for `year`, for the unit to correct:
/// its values, texts and contact fields filled in (an unreadable value as the clerk typed
/// it), the cells of each error (red) and warning (orange) marked with a note, and a first
/// sheet 问题清单 listing the findings with the cells of this workbook. `file` is the
/// unit's file as received, named on the list sheet.
pub fn correction_workbook(
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    sub: &Submission,
    file: &str,
) -> Result<Vec<u8>, TemplateError> {
    let mut prefill = Prefill {
        values: sub.values.clone(),
        texts: sub.texts.clone(),
        cover: sub
            .cover
            .iter()
            .filter(|(k, _)| CONTACT_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        findings_file: file.to_string(),
        ..Prefill::default()
    };
    // A value that could not be read goes back as typed, so the clerk sees their input.
    let value_kind = format
        .rules
        .iter()
        .find(|r| matches!(r.kind, RuleKind::ValueKind))
        .map(|r| r.id.as_str());
    for f in &sub.findings {
        let ([key], true) = (f.keys.as_slice(), Some(f.rule.as_str()) == value_kind) else {
            continue;
        };
        if f.level == Level::Fixed || format.kind_of(key).is_none() {
            continue;
        }
        match f.found.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => {
                prefill.values.insert(key.clone(), x);
            }
            _ => {
                prefill.raw.insert(key.clone(), f.found.clone());
            }
        }
    }
    let places = new_places(format);
    let total_rules: Vec<&str> = format
        .rules
        .iter()
        .filter(|r| matches!(r.kind, RuleKind::Total))
        .map(|r| r.id.as_str())
        .collect();
    prefill.findings = sub
        .findings
        .iter()
        .map(|f| {
            let mut f = relocate(f, &sub.places, &places);
            // A total typed over is a formula again here: say so, or the clerk looks for
            // a wrong number that is no longer there.
            if total_rules.contains(&f.rule.as_str()) && f.level != Level::Fixed {
                let sep = if f.hint.is_empty() { "" } else { "；" };
                f.hint = format!("{}{sep}本工作簿中的合计已恢复为公式，自动计算", f.hint);
            }
            f
        })
        .collect();
    prefill.notes = notes(&prefill.findings);
    workbook_bytes(format, year, unit, &prefill)
}

/// Where every value goes in a template of `format`: (sheet name, cell).
fn new_places(format: &Format) -> BTreeMap<Key, (String, CellRef)> {
    let mut out = BTreeMap::new();
    for table in &format.tables {
        let plan = layout::plan_table(format, table);
        for (key, at) in plan.cells {
            out.insert(key, (table.sheet.clone(), at));
        }
    }
    for (key, row) in layout::plan_text(format).fields {
        out.insert(
            key,
            (TEXT_SHEET.to_string(), CellRef::new(row, TEXT_FIELD_COL)),
        );
    }
    out
}

/// A finding as it reads in the new workbook: its sheet and cells those of its keys there,
/// and the cell addresses in what it found and expected rewritten the same way. A finding
/// without keys keeps the place it had in the unit's workbook.
fn relocate(
    f: &Finding,
    old: &BTreeMap<Key, Place>,
    new: &BTreeMap<Key, (String, CellRef)>,
) -> Finding {
    let mut out = f.clone();
    let targets: Vec<&(String, CellRef)> = f.keys.iter().filter_map(|k| new.get(k)).collect();
    let Some((sheet, _)) = targets.first() else {
        return out;
    };
    let address = |(s, at): &(String, CellRef)| {
        if s == sheet {
            at.to_string()
        } else {
            format!("{s}!{at}")
        }
    };
    // Old address → new, for the finding's cells on the sheet it names.
    let moves: BTreeMap<String, String> = f
        .keys
        .iter()
        .filter_map(|k| {
            let (o, n) = (old.get(k)?, new.get(k)?);
            (o.sheet == f.sheet).then(|| (o.at.to_string(), address(n)))
        })
        .collect();
    out.sheet = sheet.clone();
    out.cell = match move_cells(&f.cell, &moves) {
        (cell, true) if !f.cell.is_empty() => cell,
        _ => {
            let mut cells: Vec<String> = Vec::new();
            for t in &targets {
                let a = address(t);
                if !cells.contains(&a) {
                    cells.push(a);
                }
            }
            cells.join("、")
        }
    };
    out.found = move_cells(&f.found, &moves).0;
    out.expected = move_cells(&f.expected, &moves).0;
    out
}

/// Rewrites every A1 address of `text` found in `moves`; also says whether every address
/// in it was found.
fn move_cells(text: &str, moves: &BTreeMap<String, String>) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut complete = true;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i].is_ascii_uppercase() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts {
            let letters = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_uppercase())
                .count();
            let digits = chars[i + letters..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let end = i + letters + digits;
            // `T3-1` is a rule, not cell T3.
            let bounded = chars
                .get(end)
                .is_none_or(|c| !c.is_ascii_alphanumeric() && !matches!(c, '-' | '.' | '_'));
            if letters <= 3 && digits > 0 && bounded {
                let token: String = chars[i..end].iter().collect();
                match moves.get(&token) {
                    Some(new) => out.push_str(new),
                    None => {
                        complete = false;
                        out.push_str(&token);
                    }
                }
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, complete)
}

/// One note per cell: every error and warning about it, errors first, the most serious
/// level deciding the cell's colour.
fn notes(findings: &[Finding]) -> BTreeMap<Key, CellNote> {
    let mut notes: BTreeMap<Key, CellNote> = BTreeMap::new();
    let mut shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.level, Level::Error | Level::Warning))
        .collect();
    shown.sort_by_key(|f| f.level);
    for f in shown {
        let text = note_text(f);
        let mut keys: Vec<&Key> = f.keys.iter().collect();
        keys.dedup();
        for key in keys {
            notes
                .entry(key.clone())
                .and_modify(|n| {
                    if !n.text.contains(&text) {
                        n.text.push_str("\n\n");
                        n.text.push_str(&text);
                    }
                    n.level = n.level.min(f.level);
                })
                .or_insert_with(|| CellNote {
                    level: f.level,
                    text: text.clone(),
                });
        }
    }
    notes
}

/// `【规则 T3-1】<message> 实际：<found> 应为：<expected>。<hint>`; a warning says so first.
fn note_text(f: &Finding) -> String {
    let mut t = String::new();
    if f.level == Level::Warning {
        t.push_str("警告");
    }
    t.push_str(&format!("【规则 {}】{}", f.rule, f.message));
    if !f.found.is_empty() {
        t.push_str(&format!(" 实际：{}", f.found));
    }
    if !f.expected.is_empty() {
        t.push_str(&format!(" 应为：{}", f.expected));
    }
    let mut t = t.trim_end_matches('。').to_string();
    t.push('。');
    t.push_str(&f.hint);
    t
}

/// The list sheet: what was wrong, where in this workbook, what to do. Plain cells, no
/// hidden keys (anything that looks like one is defused), so the reader passes over it.
pub(super) fn findings_sheet(
    ws: &mut Worksheet,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    const HEADERS: [(&str, f64); 8] = [
        ("序号", 5.0),
        ("级别", 6.0),
        ("规则", 7.0),
        ("位置", 24.0),
        ("问题", 40.0),
        ("实际", 18.0),
        ("应为", 20.0),
        ("提示", 36.0),
    ];
    let last = HEADERS.len() as u16 - 1;
    ws.set_name(FINDINGS_SHEET)?;
    let shown: Vec<&Finding> = prefill
        .findings
        .iter()
        .filter(|f| matches!(f.level, Level::Error | Level::Warning))
        .collect();
    let count = |level| shown.iter().filter(|f| f.level == level).count();
    let (errors, warnings) = (count(Level::Error), count(Level::Warning));
    let fixes = prefill
        .findings
        .iter()
        .filter(|f| f.level == Level::Fixed)
        .count();

    let title = format!("{}{year}年政府信息公开工作年度报告 修改意见", unit.name);
    ws.merge_range(0, 0, 0, last, &defuse(&title), &s.title)?;
    ws.set_row_height(0, 28)?;
    let mut intro = String::new();
    if !prefill.findings_file.is_empty() {
        intro.push_str(&format!("报送的文件：{}。", prefill.findings_file));
    }
    if errors > 0 {
        intro.push_str(&format!(
            "审核结果：不通过，有 {errors} 个错误、{warnings} 个警告，需要修改后重新报送。"
        ));
    } else {
        intro.push_str(&format!("审核结果：有 {warnings} 个警告，请核实。"));
    }
    intro.push_str(
        "有问题的单元格已标为红色（错误）或橙色（警告），鼠标移到单元格上可以看到说明。\
         请直接在本工作簿中修改（表三下方“校验”行应全部为“通过”），保存为 .xlsx 格式后按原方式报送；本页不用删除。",
    );
    if fixes > 0 {
        intro.push_str(&format!(
            "另有 {fixes} 处写法已自动修正（如全角数字、空白按 0 计），本工作簿中已按修正后的数字填写。"
        ));
    }
    ws.merge_range(1, 0, 1, last, &defuse(&intro), &s.note)?;
    ws.set_row_height(1, 48)?;

    let header_row = 3;
    for (c, (label, width)) in HEADERS.iter().enumerate() {
        ws.set_column_width(c as u16, *width)?;
        ws.write_string_with_format(header_row, c as u16, *label, &s.header)?;
    }
    ws.set_row_height(header_row, 22)?;
    let cell = Style::new()
        .set_font_name(FONT)
        .set_font_size(10)
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let level_style = |level| {
        let fill = if level == Level::Error {
            ERROR_FILL
        } else {
            WARNING_FILL
        };
        cell.clone()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_background_color(Color::RGB(fill))
    };
    for (i, f) in shown.iter().enumerate() {
        let row = header_row + 1 + i as u32;
        let place = match (f.sheet.as_str(), f.cell.as_str()) {
            ("", "") => String::new(),
            (sheet, "") => sheet.to_string(),
            ("", cell) => cell.to_string(),
            (sheet, cell) => format!("{sheet}!{cell}"),
        };
        ws.write_number_with_format(row, 0, (i + 1) as f64, &cell)?;
        ws.write_string_with_format(row, 1, f.level.chinese(), &level_style(f.level))?;
        let texts = [&f.rule, &place, &f.message, &f.found, &f.expected, &f.hint];
        let mut lines = 1;
        for (c, text) in texts.into_iter().enumerate() {
            ws.write_string_with_format(row, 2 + c as u16, defuse(text), &cell)?;
            lines = lines.max(wrapped_lines(text, HEADERS[2 + c].1));
        }
        // Not every program grows a row to its wrapped text (LibreOffice does not).
        ws.set_row_height(row, lines as f64 * 13.5 + 4.0)?;
    }
    if shown.is_empty() {
        ws.merge_range(
            header_row + 1,
            0,
            header_row + 1,
            last,
            "没有需要修改的问题。",
            &cell,
        )?;
    }
    ws.set_freeze_panes(header_row + 1, 0)?;
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_tab_color(Color::RGB(0xC00000));
    ws.set_active(true);
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    Ok(())
}

/// About how many lines `text` wraps to in a column `width` characters wide (a Chinese
/// character is two wide).
fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width - 1.0).max(1.0);
    text.split('\n')
        .map(|line| {
            let w: f64 = line
                .chars()
                .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
                .sum();
            ((w / per_line).ceil() as usize).max(1)
        })
        .sum()
}

/// Text shown on the list sheet never reads as one of our hidden keys.
fn defuse(text: &str) -> String {
    text.replace("nianbao:", "nianbao：")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moves(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn addresses_move_and_nothing_else_does() {
        let m = moves(&[("E10", "E8"), ("E11", "E9"), ("E31", "E29")]);
        assert_eq!(
            move_cells("E10+E11 ≠ E31+E32", &m),
            ("E8+E9 ≠ E29+E32".to_string(), false)
        );
        assert_eq!(
            move_cells("5（E10+E11）", &m),
            ("5（E8+E9）".to_string(), true)
        );
        // Rule ids, words and numbers are not addresses; nor is E10 within another.
        assert_eq!(
            move_cells("T3-1 合计 12 E10A", &m),
            ("T3-1 合计 12 E10A".to_string(), true)
        );
        assert_eq!(move_cells("XE10", &m), ("XE10".to_string(), false));
    }

    #[test]
    fn notes_join_findings_per_cell_and_errors_win() {
        let key = Key::from_string("t3.new.natural");
        let f = |level, rule: &str| Finding {
            keys: vec![key.clone()],
            found: "5".into(),
            expected: "3".into(),
            ..Finding::file_level(level, rule, "不对", "请核对")
        };
        let notes = notes(&[f(Level::Warning, "V-3"), f(Level::Error, "T3-1")]);
        let n = &notes[&key];
        assert_eq!(n.level, Level::Error);
        assert_eq!(
            n.text,
            "【规则 T3-1】不对 实际：5 应为：3。请核对\n\n警告【规则 V-3】不对 实际：5 应为：3。请核对"
        );
    }
}
