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
use crate::model::{Finding, Level, Operand, Spot, SpotCell};

/// What a rejected unit sent, as its correction workbook needs it. The template writer
/// does not know the reader's types; the caller lends these from what was read.
#[derive(Debug, Clone, Copy)]
pub struct Returned<'a> {
    pub values: &'a BTreeMap<Key, f64>,
    pub texts: &'a BTreeMap<String, String>,
    /// The cover's fields by code.
    pub cover: &'a BTreeMap<String, String>,
    /// Its findings, each naming the cells of the unit's own workbook with the keys of
    /// the values they hold, so that they can be moved to this workbook's.
    pub findings: &'a [Finding],
}

/// The cover fields a clerk fills in (the others come from the roster).
const CONTACT_FIELDS: &[&str] = &["filler", "phone", "date", "head"];

/// The unit's report `sub` re-emitted as its template for `year`, for the unit to correct:
/// its values, texts and contact fields filled in (an unreadable value as the clerk typed
/// it), the cells of each error (red) and warning (orange) marked with a note, and a first
/// sheet 问题清单 listing the findings with the cells of this workbook. `file` is the
/// unit's file as received, named on the list sheet.
///
/// What the unit sent always goes back, whatever it is: a text too long for a cell is cut
/// and says so ([`super::fit_cell`]), and should the workbook still not be writable with
/// the unit's data, it is written without it, its list sheet saying why, rather than
/// stopping the batch.
pub fn correction_workbook(
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    sub: &Returned<'_>,
    file: &str,
) -> Result<Vec<u8>, TemplateError> {
    // A unit known only from its workbook is named as the workbook names it.
    let cut = |t: &str| super::fit_cell(t).unwrap_or_else(|| t.to_string());
    let unit = &UnitInfo {
        code: cut(&unit.code),
        name: cut(&unit.name),
        parent_code: cut(&unit.parent_code),
        parent_name: cut(&unit.parent_name),
        level: cut(&unit.level),
    };
    let prefill = correction_prefill(format, sub, file);
    match workbook_bytes(format, year, unit, &prefill) {
        Err(TemplateError::Xlsx { source, .. }) => {
            let without = Prefill {
                values: BTreeMap::new(),
                texts: BTreeMap::new(),
                cover: BTreeMap::new(),
                raw: BTreeMap::new(),
                notice: format!(
                    "报送的数值和文字未能写回本工作簿（{source}），请对照报送的原文件按下列问题修改。"
                ),
                ..prefill
            };
            workbook_bytes(format, year, unit, &without)
        }
        other => other,
    }
}

/// What a correction workbook is filled with: the unit's values, texts and contact
/// fields, what it typed that could not be read, the findings moved to this workbook's
/// cells and the notes on them.
fn correction_prefill(format: &Format, sub: &Returned<'_>, file: &str) -> Prefill {
    let mut prefill = Prefill {
        values: sub.values.clone(),
        texts: sub.texts.clone(),
        cover: sub
            .cover
            .iter()
            .filter(|(k, _)| CONTACT_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), super::fit_cell(v).unwrap_or_else(|| v.clone())))
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
            let mut f = relocate(f, &places);
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
    prefill
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

/// A finding as it reads in the new workbook: its sheet that of its keys there, and each
/// cell it names moved to the cell of the same value there (by its key). A finding
/// without keys keeps the place it had in the unit's workbook; one whose cells cannot all
/// be moved (a cell that holds no value, or a value this format does not have) names
/// the cells of its keys instead, and a comparison names such a value by its key.
fn relocate(f: &Finding, new: &BTreeMap<Key, (String, CellRef)>) -> Finding {
    let mut out = f.clone();
    let targets: Vec<(&Key, &(String, CellRef))> = f
        .keys
        .iter()
        .filter_map(|k| Some((k, new.get(k)?)))
        .collect();
    let Some((_, (sheet, _))) = targets.first() else {
        return out;
    };
    // The sheet a cell is on here, when it is not the finding's.
    let other = |s: &String| (s != sheet).then(|| s.clone());
    // A cell of the unit's workbook (on the finding's sheet unless `on` says otherwise)
    // holding `key`: the same value's cell here.
    let moved = |key: &Key, on: Option<&String>| -> Option<(Option<String>, CellRef)> {
        if on.is_some_and(|s| *s != f.sheet) {
            return None;
        }
        new.get(key).map(|(s, at)| (other(s), *at))
    };
    let of_keys = || {
        let mut cells: Vec<SpotCell> = Vec::new();
        for (key, (s, at)) in &targets {
            let cell = SpotCell {
                key: Some((*key).clone()),
                sheet: other(s),
                at: *at,
            };
            if !cells
                .iter()
                .any(|c| c.sheet == cell.sheet && c.at == cell.at)
            {
                cells.push(cell);
            }
        }
        Spot::Cells { cells }
    };
    let operand = |o: &Operand| match o {
        Operand::Cell { key, sheet, .. } => match moved(key, sheet.as_ref()) {
            Some((sheet, at)) => Operand::Cell {
                key: key.clone(),
                sheet,
                at,
            },
            None => Operand::Key { key: key.clone() },
        },
        other => other.clone(),
    };
    out.sheet = sheet.clone();
    out.spot = match &f.spot {
        Spot::Cells { cells } if !cells.is_empty() => cells
            .iter()
            .map(|c| {
                let (sheet, at) = moved(c.key.as_ref()?, c.sheet.as_ref())?;
                Some(SpotCell {
                    key: c.key.clone(),
                    sheet,
                    at,
                })
            })
            .collect::<Option<Vec<SpotCell>>>()
            .map_or_else(of_keys, |cells| Spot::Cells { cells }),
        Spot::Compare {
            lhs,
            op,
            rhs,
            total,
        } => Spot::Compare {
            lhs: lhs.iter().map(operand).collect(),
            op: op.clone(),
            rhs: rhs.iter().map(operand).collect(),
            total: *total,
        },
        _ => of_keys(),
    };
    out
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
    let (found, expected) = (f.found_text(), f.expected_text());
    if !found.is_empty() {
        t.push_str(&format!(" 实际：{found}"));
    }
    if !expected.is_empty() {
        t.push_str(&format!(" 应为：{expected}"));
    }
    let mut t = t.trim_end_matches('。').to_string();
    t.push('。');
    t.push_str(&f.hint);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Key {
        Key::from_string(k)
    }

    fn at(a1: &str) -> CellRef {
        CellRef::parse(a1).unwrap()
    }

    /// The template's cells of a few values of 表三 (and one field on the text sheet).
    fn new_cells() -> BTreeMap<Key, (String, CellRef)> {
        let t3 = |a1: &str| ("表三".to_string(), at(a1));
        BTreeMap::from([
            (key("t3.new.natural"), t3("E8")),
            (key("t3.carried.natural"), t3("E9")),
            (key("t3.total.natural"), t3("E29")),
            (key("t3.carry_next.natural"), t3("E30")),
            (key("fee_cases"), ("文字部分".to_string(), at("C5"))),
        ])
    }

    fn operand(k: &str, a1: &str) -> Operand {
        Operand::Cell {
            key: key(k),
            sheet: None,
            at: at(a1),
        }
    }

    /// T3-1 as read from a copy with two rows inserted above 表三.
    fn t3_1(rhs: Vec<Operand>) -> Finding {
        let lhs = vec![
            operand("t3.new.natural", "E10"),
            operand("t3.carried.natural", "E11"),
        ];
        let keys = lhs.iter().chain(&rhs).map(|o| o.key().clone()).collect();
        Finding {
            sheet: "表三（改）".into(),
            spot: Spot::Compare {
                lhs,
                op: "≠".into(),
                rhs,
                total: false,
            },
            found: "5".into(),
            expected: "等于 3".into(),
            keys,
            ..Finding::file_level(Level::Error, "T3-1", "不对", "请核对")
        }
    }

    #[test]
    fn a_comparison_moves_to_the_cells_of_its_keys() {
        let f = t3_1(vec![
            operand("t3.total.natural", "E31"),
            operand("t3.carry_next.natural", "E32"),
        ]);
        assert_eq!(f.cell_text(), "E10+E11 ≠ E31+E32");
        let g = relocate(&f, &new_cells());
        assert_eq!(g.sheet, "表三");
        assert_eq!(g.cell_text(), "E8+E9 ≠ E29+E30");
        assert_eq!(g.found_text(), "5（E8+E9）");
        assert_eq!(g.expected_text(), "等于 3（E29+E30）");
        assert_eq!((g.found, g.keys, g.message), (f.found, f.keys, f.message));
    }

    #[test]
    fn values_without_a_cell_here_are_named_by_key_and_last_years_in_words() {
        let previous = Operand::Previous {
            key: key("t3.carry_next.natural"),
            label: "表三「四、结转下年度继续办理」行「自然人」列".into(),
        };
        let f = t3_1(vec![operand("t3.gone.natural", "E31"), previous]);
        let g = relocate(&f, &new_cells());
        assert_eq!(
            g.cell_text(),
            "E8+E9 ≠ t3.gone.natural+上年表三「四、结转下年度继续办理」行「自然人」列"
        );
    }

    #[test]
    fn cells_move_by_key_and_places_without_keys_stay() {
        let value = Finding {
            sheet: "表三（改）".into(),
            spot: Spot::cell(Some(key("t3.new.natural")), at("E10")),
            found: "E10".into(),
            keys: vec![key("t3.new.natural")],
            ..Finding::file_level(Level::Error, "V-1", "不对", "")
        };
        let g = relocate(&value, &new_cells());
        assert_eq!((g.sheet.as_str(), g.cell_text()), ("表三", "E8".into()));
        // What the clerk typed is a value, not an address.
        assert_eq!(g.found_text(), "E10");

        // A finding about no value (where an empty table starts) keeps its place.
        let table = Finding {
            sheet: "表三（改）".into(),
            spot: Spot::cell(None, at("B10")),
            ..Finding::file_level(Level::Warning, "V-2", "空白", "")
        };
        assert_eq!(relocate(&table, &new_cells()), table);

        // Cells that cannot all be moved: the cells of its keys instead, with their
        // sheets where they are not the first one's.
        let mixed = Finding {
            spot: Spot::cell(None, at("C3")),
            keys: vec![key("t3.new.natural"), key("fee_cases"), key("t3.gone.x")],
            ..value
        };
        let g = relocate(&mixed, &new_cells());
        assert_eq!(g.place_text(), "表三!E8、文字部分!C5");
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
