use super::*;

fn formats() -> Formats {
    Formats::builtin()
}

fn labels(format: &Format, table: &str) -> Vec<String> {
    let t = format.table(table).expect("table");
    t.rows().map(|(_, r)| r.label.clone()).collect()
}

#[test]
fn both_builtin_definitions_load() {
    // `Format::builtin` drops a definition that fails to load; make the failure visible.
    for (name, text) in BUILTIN {
        if let Err(e) = Format::from_toml(text, name) {
            panic!("{name}: {e}");
        }
    }
    let all = formats();
    let ids: Vec<&str> = all.all().iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["2019", "2021"]);
}

#[test]
fn year_picks_the_format() {
    let f = formats();
    for (year, id) in [
        (2019, "2019"),
        (2020, "2019"),
        (2021, "2021"),
        (2025, "2021"),
    ] {
        assert_eq!(f.for_year(year).unwrap().id, id, "year {year}");
    }
    let err = f.for_year(2018).unwrap_err().to_string();
    assert!(
        err.contains("2018") && err.contains("2019（2019–2020）"),
        "{err}"
    );
    assert!(f.by_id("2030").is_err());
}

#[test]
fn table_two_has_22_and_10_cells_with_exact_labels() {
    let f = formats();
    let (f19, f21) = (f.by_id("2019").unwrap(), f.by_id("2021").unwrap());
    assert_eq!(f19.table("t2").unwrap().cells().count(), 22);
    assert_eq!(f21.table("t2").unwrap().cells().count(), 10);
    let titles: Vec<_> = f19
        .table("t2")
        .unwrap()
        .blocks
        .iter()
        .map(|b| b.title.clone().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "第二十条第（一）项",
            "第二十条第（五）项",
            "第二十条第（六）项",
            "第二十条第（八）项",
            "第二十条第（九）项"
        ]
    );
    assert_eq!(
        labels(f19, "t2"),
        [
            "规章",
            "规范性文件",
            "行政许可",
            "其他对外管理服务事项",
            "行政处罚",
            "行政强制",
            "行政事业性收费",
            "政府集中采购"
        ]
    );
    assert_eq!(
        labels(f21, "t2"),
        [
            "规章",
            "行政规范性文件",
            "行政许可",
            "行政处罚",
            "行政强制",
            "行政事业性收费"
        ]
    );
    let cols = |f: &Format| -> Vec<String> {
        f.table("t2")
            .unwrap()
            .blocks
            .iter()
            .flat_map(|b| b.columns.iter().map(|c| c.label.clone()))
            .collect()
    };
    assert_eq!(
        cols(f19),
        [
            "本年新制作数量",
            "本年新公开数量",
            "对外公开总数量",
            "上一年项目数量",
            "本年增/减",
            "处理决定数量",
            "上一年项目数量",
            "本年增/减",
            "处理决定数量",
            "上一年项目数量",
            "本年增/减",
            "采购项目数量",
            "采购总金额"
        ]
    );
    assert_eq!(
        cols(f21),
        [
            "本年制发件数",
            "本年废止件数",
            "现行有效件数",
            "本年处理决定数量",
            "本年处理决定数量",
            "本年收费金额（单位：万元）"
        ]
    );
    for b in &f19.table("t2").unwrap().blocks {
        assert_eq!(b.corner.as_deref(), Some("信息内容"));
    }
}

#[test]
fn value_kinds_and_units() {
    let f = formats();
    let f19 = f.by_id("2019").unwrap();
    assert_eq!(
        f19.kind_of(&Key::cell("t2", "license", "change")),
        Some((Kind::Signed, None))
    );
    assert_eq!(
        f19.kind_of(&Key::cell("t2", "procurement", "amount")),
        Some((Kind::Amount, Some("元")))
    );
    assert_eq!(
        f19.kind_of(&Key::cell("t3", "new", "natural")),
        Some((Kind::Count, None))
    );
    let f21 = f.by_id("2021").unwrap();
    assert_eq!(
        f21.kind_of(&Key::cell("t2", "fees", "fee_amount")),
        Some((Kind::Amount, Some("万元")))
    );
    assert_eq!(
        f21.kind_of(&Key::field("fee_amount")),
        Some((Kind::Amount, Some("元")))
    );
    assert_eq!(
        f21.kind_of(&Key::field("fee_cases")),
        Some((Kind::Count, None))
    );
    // No signed column survives in 2021.
    assert!(f21.cells().all(|c| c.col.kind != Kind::Signed));
}

#[test]
fn table_three_has_23_and_25_rows_of_7() {
    let f = formats();
    let (f19, f21) = (f.by_id("2019").unwrap(), f.by_id("2021").unwrap());
    let t19 = f19.table("t3").unwrap();
    let t21 = f21.table("t3").unwrap();
    assert_eq!(t19.rows().count(), 23);
    assert_eq!(t21.rows().count(), 25);
    assert_eq!(t19.cells().count(), 23 * 7);
    assert_eq!(t21.cells().count(), 25 * 7);
    let cols: Vec<_> = t19.blocks[0]
        .columns
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(
        cols,
        [
            "自然人",
            "商业企业",
            "科研机构",
            "社会公益组织",
            "法律服务机构",
            "其他",
            "总计"
        ]
    );
    assert_eq!(
        t19.blocks[0].columns[1].groups,
        ["申请人情况", "法人或其他组织"]
    );
    assert_eq!(
        t19.blocks[0].corner.as_deref(),
        Some("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）")
    );
    let l19 = labels(f19, "t3");
    assert_eq!(l19[0], "一、本年新收政府信息公开申请数量");
    assert_eq!(l19[1], "二、上年结转政府信息公开申请数量");
    assert_eq!(
        l19[3],
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"
    );
    assert_eq!(l19[6], "3.危及“三安全一稳定”");
    assert_eq!(l19[19], "5.要求行政机关确认或重新出具已获取信息");
    assert_eq!(l19[20], "（六）其他处理");
    assert_eq!(&l19[21..], ["（七）总计", "四、结转下年度继续办理"]);
    let l21 = labels(f21, "t3");
    assert_eq!(
        &l21[20..23],
        [
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            "3.其他"
        ]
    );
    let (_, r) = t21.rows().nth(21).unwrap();
    assert_eq!(r.groups, ["三、本年度办理结果", "（六）其他处理"]);
    // Rows shared by both formats keep their codes, so cross-year rules work across 2020→2021.
    for code in ["new", "carried", "total", "carry_next"] {
        assert!(t19.rows().any(|(_, r)| r.code == code) && t21.rows().any(|(_, r)| r.code == code));
    }
}

#[test]
fn table_four_has_15_cells_in_three_blocks() {
    for f in formats().all() {
        let t4 = f.table("t4").unwrap();
        assert_eq!(t4.cells().count(), 15, "{}", f.id);
        let heads: Vec<String> = t4.blocks[0]
            .columns
            .iter()
            .map(|c| format!("{}/{}", c.groups.join("/"), c.label))
            .collect();
        assert_eq!(heads[0], "行政复议/结果维持");
        assert_eq!(heads[4], "行政复议/总计");
        assert_eq!(heads[5], "行政诉讼/未经复议直接起诉/结果维持");
        assert_eq!(heads[14], "行政诉讼/复议后起诉/总计");
        assert_eq!(t4.blocks[0].label_width(), 0);
        assert_eq!(t4.blocks[0].header_depth(), 3);
    }
}

#[test]
fn rules_expand_to_concrete_checks() {
    let f = formats();
    let f19 = f.by_id("2019").unwrap();
    let ids: Vec<&str> = f19.rules.iter().map(|r| r.id.as_str()).collect();
    for id in [
        "V-1", "V-2", "Y-1", "T3-1", "T3-2", "T3-3", "T4-1", "T4-2", "T4-3", "T2-2", "TX-5", "X-1",
        "X-3",
    ] {
        assert!(ids.contains(&id), "2019 lacks {id}");
    }
    let f21 = f.by_id("2021").unwrap();
    let ids21: Vec<&str> = f21.rules.iter().map(|r| r.id.as_str()).collect();
    for id in ["TX-4", "X-2", "T2-2"] {
        assert!(ids21.contains(&id), "2021 lacks {id}");
    }
    let count = |f: &Format, id: &str| {
        let i = f.rules.iter().position(|r| r.id == id).unwrap();
        f.checks.iter().filter(|c| c.rule == i).count()
    };
    assert_eq!(count(f19, "T3-1"), 7);
    assert_eq!(count(f19, "T3-2"), 7);
    assert_eq!(count(f19, "T3-3"), 23);
    assert_eq!(count(f21, "T3-3"), 25);
    assert_eq!(count(f19, "T4-1"), 1);
    assert_eq!(count(f19, "X-3"), 5);
    let t31 = f19
        .checks
        .iter()
        .find(|c| f19.rules[c.rule].id == "T3-1")
        .unwrap();
    assert_eq!(t31.scope, "「自然人」列");
    assert_eq!(t31.lhs[0].key.as_str(), "t3.new.natural");
    assert_eq!(t31.rhs[1].key.as_str(), "t3.carry_next.natural");
    // The 2021 T3-2 sums the three （六） rows.
    let t32 = f21
        .checks
        .iter()
        .find(|c| f21.rules[c.rule].id == "T3-2")
        .unwrap();
    assert_eq!(t32.rhs.len(), 21);
    assert!(t32
        .rhs
        .iter()
        .any(|t| t.key.as_str() == "t3.other_unpaid.natural"));
    let x1 = f21
        .checks
        .iter()
        .find(|c| f21.rules[c.rule].id == "X-1")
        .unwrap();
    assert!(x1.needs_previous() && x1.rhs[0].previous);
}

#[test]
fn totals_cover_every_computed_cell() {
    let f = formats();
    let f19 = f.by_id("2019").unwrap();
    let totals = f19.totals();
    // 23 row totals + 6 more column totals in （七） + 3 in table 四.
    assert_eq!(totals.len(), 23 + 6 + 3);
    assert_eq!(totals[&Key::cell("t3", "new", "total")].len(), 6);
    assert_eq!(totals[&Key::cell("t3", "total", "natural")].len(), 19);
    assert_eq!(totals[&Key::cell("t4", "all", "after_total")].len(), 4);
}

fn broken(replace: &str, with: &str) -> String {
    let text = BUILTIN[0].1;
    assert!(text.contains(replace), "fixture text not found: {replace}");
    Format::from_toml(&text.replacen(replace, with, 1), "broken.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn inconsistent_definitions_are_refused_with_a_clear_message() {
    let e = broken(r#"lhs = ["new", "carried"]"#, r#"lhs = ["nwe", "carried"]"#);
    assert!(
        e.contains("broken.toml") && e.contains("T3-1") && e.contains("nwe"),
        "{e}"
    );
    let e = broken(
        r#"{ code = "norms", label = "规范性文件" }"#,
        r#"{ code = "rules", label = "规范性文件" }"#,
    );
    assert!(e.contains("行代码 rules 重复"), "{e}");
    let e = broken(r#"kind = "signed""#, r#"kind = "int""#);
    assert!(e.contains("“int” 未知"), "{e}");
    let e = broken(r#"id = "T3-2""#, r#"id = "T3-1""#);
    assert!(e.contains("规则编号 T3-1 重复"), "{e}");
    let e = broken(r#"section = "problems""#, r#"section = "nope""#);
    assert!(e.contains("TX-5"), "{e}");
    let e = broken("years = [2019, 2020]", "years = [2020, 2019]");
    assert!(e.contains("years"), "{e}");
    let e = broken(r#"id = "2019""#, "id = 2019");
    assert!(e.contains("TOML"), "{e}");
    let e = broken(r#"unit = "元""#, r#"unit = "美元""#);
    assert!(e.contains("美元"), "{e}");
    let e = broken(
        "label = \"新收申请\"\nkeys = [\"t3.new.total\"]",
        "label = \"新收申请\"\nkeys = [\"t3.new.totl\"]",
    );
    assert!(
        e.contains("new_requests") && e.contains("t3.new.totl"),
        "{e}"
    );
    let e = broken("\"新收…申请…{n}件\"", "\"新收…申请件\"");
    assert!(e.contains("TX-2") && e.contains("{n}"), "{e}");
}

#[test]
fn a_province_can_add_a_row_without_recompiling() {
    // Hubei's 2019-era extra row in table 二 (其他主动公开文件), with a rule over it.
    let text = BUILTIN[0].1.replacen(
        r#"  { code = "norms", label = "规范性文件" },"#,
        r#"  { code = "norms", label = "规范性文件" },
  { code = "other_docs", label = "其他主动公开文件" },"#,
        1,
    );
    let text = text.replacen(r#"id = "2019""#, r#"id = "hubei2019""#, 1);
    let text = text.replacen(
        r#"rows = ["rules", "norms"]"#,
        r#"rows = ["rules", "norms", "other_docs"]"#,
        1,
    );
    let f = Format::from_toml(&text, "hubei.toml").unwrap();
    assert_eq!(f.table("t2").unwrap().cells().count(), 25);
    let t22 = f.rules.iter().position(|r| r.id == "T2-2").unwrap();
    assert_eq!(f.checks.iter().filter(|c| c.rule == t22).count(), 3);
    let all = Formats::builtin().with(f);
    assert_eq!(all.all().len(), 3);
    assert_eq!(all.by_id("hubei2019").unwrap().id, "hubei2019");
}

#[test]
fn a_fields_sentence_may_only_name_its_sections_fields() {
    let text = BUILTIN
        .iter()
        .find(|(_, t)| t.contains("fields_sentence"))
        .expect("the 2021 format words its fee fields")
        .1;
    let f = Format::from_toml(text, "2021.toml").unwrap();
    let other = f.sections.iter().find(|s| s.code == "other").unwrap();
    assert_eq!(
        other.fields_sentence.as_deref(),
        Some("本年度收取信息处理费 {fee_cases} 件，金额 {fee_amount} 元。")
    );
    let e = Format::from_toml(
        &text.replacen("{fee_amount}", "{fee_total}", 1),
        "broken.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("fields_sentence") && e.contains("{fee_total}"),
        "{e}"
    );
}

#[test]
fn cover_required_rules_name_fields_of_the_template_cover() {
    for format in Format::builtin() {
        for rule in &format.rules {
            if let RuleKind::CoverRequired { fields } = &rule.kind {
                for f in fields {
                    assert!(
                        crate::identity::COVER_FIELDS.iter().any(|c| c.code == f),
                        "{} {}: {f}",
                        format.id,
                        rule.id
                    );
                }
            }
        }
    }
}

#[test]
fn key_figures_have_labels_and_fall_back_to_the_column() {
    for f in formats().all() {
        let labels: Vec<&str> = f.key_figures.iter().map(|k| k.label.as_str()).collect();
        assert_eq!(
            labels,
            ["新收申请", "办结申请", "结转下年度", "行政复议", "行政诉讼"],
            "{}",
            f.id
        );
    }
    let (name, text) = BUILTIN[1];
    let text = text.replacen("label = \"新收申请\"\n", "", 1);
    let f = Format::from_toml(&text, name).unwrap();
    assert_eq!(f.key_figure("new_requests").unwrap().label, "new_requests");
}

#[test]
fn totals_come_after_the_totals_among_their_parts() {
    for format in Format::builtin() {
        let order = format.totals_in_order();
        // Every total once (the built-in formats have no circle).
        let mut sorted: Vec<&Key> = order.iter().collect();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), order.len(), "{}", format.id);
        assert_eq!(order.len(), format.totals().len(), "{}", format.id);
        let position = |k: &Key| order.iter().position(|o| o == k);
        let mut nested = 0;
        for (i, key) in order.iter().enumerate() {
            for part in &format.totals()[key] {
                if let Some(p) = position(part) {
                    assert!(p < i, "{}: {part} comes after {key}", format.id);
                    nested += 1;
                }
            }
        }
        // 表三's grand total is a total of totals: the order matters.
        assert!(nested > 0, "{}", format.id);
    }
}
