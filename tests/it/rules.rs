//! Rules that make a returned file a report a coordinator can trust: the sections and
//! cover fields a report cannot do without, numbers typed where no report cell is, one
//! finding per mistake, and files that are not what they claim.

use crate::common::*;

/// `(level, rule)` of every finding but the fixes.
fn rules_of(path: &std::path::Path) -> Vec<(String, String)> {
    summary(&findings(path))
        .into_iter()
        .filter(|f| f.0 != "fixed")
        .map(|f| (f.0, f.1))
        .collect()
}

fn r(level: &str, rule: &str) -> (String, String) {
    (level.to_string(), rule.to_string())
}

/// The township's template as `template` writes it, nothing typed in.
fn untouched(scratch: &Scratch, year: i32, name: &str) -> std::path::PathBuf {
    use nianbao::template::{workbook_bytes, Prefill};
    let bytes = workbook_bytes(format_of(year), year, &township(), &Prefill::default()).unwrap();
    scratch.write(name, bytes)
}

#[test]
fn an_untouched_template_is_not_a_report() {
    let scratch = Scratch::new();
    for year in [2020, 2024] {
        let path = untouched(&scratch, year, &format!("blank_{year}.xlsx"));
        let all = findings(&path);
        let mut got = rules_of(&path);
        got.sort();
        assert_eq!(
            got,
            [
                r("error", "TX-1"),
                r("error", "TX-5"),
                r("warning", "CV-1"),
                r("warning", "CV-1"),
                r("warning", "TX-0"),
            ],
            "{year}: {all:?}"
        );
        // Each names where to type: the section's cell, the cover's field.
        let overview = all.iter().find(|f| f["rule"] == "TX-1").unwrap();
        assert_eq!(overview["cell"], a1(year, "section:overview"), "{overview}");
        assert!(overview["message"]
            .as_str()
            .unwrap()
            .contains("一、总体情况"));
        let cover: Vec<&serde_json::Value> = all.iter().filter(|f| f["rule"] == "CV-1").collect();
        assert_eq!(cover[0]["cell"], a1(year, "cover:filler"), "{:?}", cover[0]);
        assert!(cover[0]["message"].as_str().unwrap().contains("填报人"));
        assert_eq!(cover[1]["cell"], a1(year, "cover:phone"), "{:?}", cover[1]);
        assert!(cover[1]["message"].as_str().unwrap().contains("联系电话"));
        let (code, out) = check(&[&path], &[]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("不通过"), "{out}");
    }
}

#[test]
fn the_required_sections_and_cover_fields_are_rules_of_the_definitions() {
    use nianbao::format::RuleKind;
    for format in nianbao::format::Formats::builtin().all() {
        let level_of = |section: &str| {
            format
                .rules
                .iter()
                .find(|r| matches!(&r.kind, RuleKind::TextRequired { section: s } if s == section))
                .map(|r| r.level)
        };
        use nianbao::model::Level;
        assert_eq!(level_of("overview"), Some(Level::Error), "{}", format.id);
        assert_eq!(level_of("problems"), Some(Level::Error), "{}", format.id);
        assert_eq!(level_of("opening"), Some(Level::Warning), "{}", format.id);
        let cover = format
            .rules
            .iter()
            .find_map(|r| match &r.kind {
                RuleKind::CoverRequired { fields } => Some((r.level, fields.clone())),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            cover,
            (Level::Warning, vec!["filler".into(), "phone".into()])
        );
    }
    // Checked at load like every other rule.
    let bad = nianbao::format::Formats::builtin()
        .all()
        .iter()
        .find(|f| f.id == "2021")
        .map(|_| include_str!("../../templates/formats/2021.toml"))
        .unwrap()
        .replace("fields = [\"filler\", \"phone\"]", "fields = []");
    let err = nianbao::format::Format::from_toml(&bad, "bad.toml").unwrap_err();
    assert!(err.to_string().contains("CV-1 缺少 fields"), "{err}");
}
