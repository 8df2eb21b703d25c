//! The numbered parts of a unit's report: a text section's paragraphs and its fields
//! sentence (the 信息处理费), and the Chinese part numbers (一 … 十) that put the
//! sections and tables in the official order.
//!
//! The wording comes from the [`Format`]; nothing here is hard-coded for a year.

use std::collections::BTreeMap;

use crate::format::{Format, Key, Section};
use crate::model::number_text;

/// The paragraphs of a text: one per non-empty line.
pub(super) fn paragraphs(text: &str) -> Vec<String> {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The sentence reporting a section's numeric fields, as the format words it (2021: the
/// 信息处理费, “本年度收取信息处理费 N 件，金额 X 元。”, or its “none” wording when every
/// field is 0). Empty for a section without one.
pub(super) fn field_sentences(
    format: &Format,
    section: &Section,
    values: &BTreeMap<Key, f64>,
) -> Vec<String> {
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
        text.replace(&format!("{{{}}}", f.code), &number_text(value(&f.code)))
    });
    vec![text]
}

/// The position of a Chinese section number (一 → 1 … 十 → 10); unknown ones go last.
pub(super) fn numeral(n: &str) -> usize {
    const DIGITS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    DIGITS
        .iter()
        .position(|d| *d == n)
        .map_or(usize::MAX, |i| i + 1)
}
