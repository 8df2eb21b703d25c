//! TX-2: numbers the text quotes for figures the tables hold (issue 16 item 5), read back
//! through the whole `check` route from a filled template.

use crate::common::*;

/// 表三 with 12 new requests of natural persons, all answered 予以公开, and one 行政复议
/// upheld: a report whose tables say 新收 12, 办结 12, 复议 1.
const VALUES: &[(&str, f64)] = &[
    ("t3.new.natural", 12.0),
    ("t3.open.natural", 12.0),
    ("t4.all.review_upheld", 1.0),
    ("fee_cases", 1.0),
    ("fee_amount", 120.0),
];

/// The TX-2 findings of a 2022 report whose 一、总体情况 is `overview`.
fn tx2(overview: &str) -> Vec<serde_json::Value> {
    let scratch = Scratch::new();
    let mut filled = Filled::new(2022);
    filled.values = VALUES;
    let texts = [
        ("opening", "现将有关情况总结如下："),
        ("overview", overview),
        ("problems", "公开资料建档工作还不够细致。"),
        ("other", "无。"),
    ];
    filled.texts = &texts;
    let path = filled.write(&scratch, "quotes.xlsx");
    findings(&path)
        .into_iter()
        .filter(|f| f["rule"] == "TX-2")
        .collect()
}

#[test]
fn a_number_the_text_misquotes_is_a_warning_quoting_sentence_number_and_cell() {
    let got =
        tx2("本年度共收到政府信息公开申请10件，已全部办结。因政府信息公开被申请行政复议1件。");
    assert_eq!(got.len(), 1, "{got:#?}");
    let f = &got[0];
    assert_eq!(f["level"], "warning");
    assert_eq!(f["found"], "10");
    assert_eq!(f["expected"], "等于表格中的 12");
    let message = f["message"].as_str().unwrap();
    assert_eq!(f["about"], "一、总体情况", "{f:#?}");
    for part in [
        "「本年度共收到政府信息公开申请10件，已全部办结。」",
        "新收申请 10",
        "表三「一、本年新收政府信息公开申请数量」行「申请人情况/总计」列为 12",
    ] {
        assert!(message.contains(part), "{part} not in {message}");
    }
    // At the section's cell on the 文字部分 sheet, so the clerk finds the sentence.
    assert_eq!(f["cell"], a1(2022, "section:overview"), "{f:#?}");
}

/// The real phrasings TX-2 reads, each agreeing with the tables: no warning.
#[test]
fn real_phrasings_that_agree_with_the_tables_are_silent() {
    let agreeing = [
        "本年度共收到政府信息公开申请12件。",
        "全年新收政府信息公开申请十二件，办结12件，无结转下年度办理的申请0件。",
        "本年度我单位收到依申请公开申请 １２ 件，均已按时答复。",
        "因政府信息公开被申请行政复议1件，被提起行政诉讼0件。",
        "本年度收取信息处理费1件，收取信息处理费120元。",
    ];
    for text in agreeing {
        assert_eq!(tx2(text), Vec::<serde_json::Value>::new(), "{text}");
    }
}

/// And the same phrasings disagreeing, one warning each, Chinese numerals and 万 read.
#[test]
fn chinese_numerals_and_wan_are_read() {
    for (text, found) in [
        ("全年共收到政府信息公开申请三十二件。", "三十二"),
        ("收取信息处理费0.5万元。", "0.5万"),
        ("被申请行政复议两件。", "两"),
    ] {
        let got = tx2(text);
        assert_eq!(got.len(), 1, "{text}: {got:#?}");
        assert_eq!(got[0]["found"], found, "{text}");
    }
}

/// Numbers about something else than the figure: another year, a sub-category, two
/// figures at once, a comparison. Silence rather than a false alarm.
#[test]
fn numbers_about_something_else_are_not_compared() {
    for text in [
        "2021年共收到政府信息公开申请30件。",
        "较上年收到申请减少3件。",
        "其中收到自然人申请5件。",
        "行政复议、行政诉讼共3件。",
        "行政复议结果维持1件，纠正2件。",
        "收到申请约20件。",
        "1至6月收到政府信息公开申请5件。",
    ] {
        assert_eq!(tx2(text), Vec::<serde_json::Value>::new(), "{text}");
    }
}
