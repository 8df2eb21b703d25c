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

use super::{workbook_bytes, CellNote, Prefill, TemplateError, UnitInfo};
use crate::cell::CellRef;
use crate::format::{Format, Key, RuleKind};
use crate::layout::{self, TEXT_FIELD_COL, TEXT_SHEET};
use crate::model::{Finding, Level, Place};

/// What a rejected unit sent, as its correction workbook needs it. The template writer
/// does not know the reader's types; the caller lends these from what was read.
#[derive(Debug, Clone, Copy)]
pub struct Returned<'a> {
    pub values: &'a BTreeMap<Key, f64>,
    pub texts: &'a BTreeMap<String, String>,
    /// The cover's fields by code.
    pub cover: &'a BTreeMap<String, String>,
    pub findings: &'a [Finding],
    /// Where each value was in the unit's own workbook.
    pub places: &'a BTreeMap<Key, Place>,
}

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
    sub: &Returned<'_>,
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
    for f in sub.findings {
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
            let mut f = relocate(f, sub.places, &places);
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
