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
/// field is 0). Empty for a section without one, and when the unit's own paragraphs
/// (`own`) already say it: the report states it once, whether the clerk typed it or not.
pub(super) fn field_sentences(
    format: &Format,
    section: &Section,
    values: &BTreeMap<Key, f64>,
    own: &[String],
) -> Vec<String> {
    let sentence = field_sentence(format, section, values);
    sentence
        .filter(|s| !own.iter().any(|p| same_sentence(p, s)))
        .into_iter()
        .collect()
}

/// Whether two sentences say the same, but for spaces and the closing full stop.
fn same_sentence(a: &str, b: &str) -> bool {
    let bare = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .trim_end_matches(['。', '.'])
            .to_string()
    };
    bare(a) == bare(b)
}

fn field_sentence(
    format: &Format,
    section: &Section,
    values: &BTreeMap<Key, f64>,
) -> Option<String> {
    let sentence = section.fields_sentence.as_ref()?;
    let fields = format.fields.iter().filter(|f| f.section == section.code);
    let value = |code: &str| values.get(&Key::field(code)).copied().unwrap_or(0.0);
    if let Some(none) = &section.fields_sentence_if_none {
        if fields.clone().all(|f| value(&f.code) == 0.0) {
            return Some(none.clone());
        }
    }
    let text = fields.fold(sentence.clone(), |text, f| {
        text.replace(&format!("{{{}}}", f.code), &number_text(value(&f.code)))
    });
    Some(text)
}

/// The position of a Chinese section number (一 → 1 … 十 → 10); unknown ones go last.
pub(super) fn numeral(n: &str) -> usize {
    const DIGITS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    DIGITS
        .iter()
        .position(|d| *d == n)
        .map_or(usize::MAX, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Formats;

    #[test]
    fn the_fee_sentence_is_stated_once_when_the_clerk_typed_it() {
        let formats = Formats::builtin();
        let f = formats.by_id("2021").unwrap();
        let other = f.sections.iter().find(|s| s.code == "other").unwrap();
        let none = BTreeMap::new();
        let typed = |p: &str| vec![p.to_string()];
        let said = field_sentences(f, other, &none, &[]);
        assert_eq!(said, ["本年度未收取信息处理费。"]);
        for same in [
            "本年度未收取信息处理费。",
            " 本年度未收取信息处理费 ",
            "本年度未收取信息处理费",
        ] {
            assert!(
                field_sentences(f, other, &none, &typed(same)).is_empty(),
                "{same}"
            );
        }
        let other_text = typed("本单位无其他需要报告的事项。");
        assert_eq!(field_sentences(f, other, &none, &other_text), said);
        let fees = BTreeMap::from([
            (Key::field("fee_cases"), 2.0),
            (Key::field("fee_amount"), 30.5),
        ]);
        let typed_fees = typed("本年度收取信息处理费 2 件，金额 30.5 元。");
        assert!(field_sentences(f, other, &fees, &typed_fees).is_empty());
        // A sentence with other figures is not the same: the format's one is added.
        let stale = typed("本年度未收取信息处理费。");
        assert_eq!(field_sentences(f, other, &fees, &stale).len(), 1);
    }
}
