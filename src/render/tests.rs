//! Tests of rendering: the official structure of both formats in HTML and Markdown
//! (two Markdown snapshots in `snapshots/`), escaping, user template directories and their
//! errors, the overview page and its charts.

use super::charts::outcome_categories;
use super::*;
use crate::format::Formats;

fn format(id: &str) -> Format {
    Formats::builtin().by_id(id).unwrap().clone()
}

fn overview_html(d: OverviewData) -> String {
    let mut html = Vec::new();
    overview(&Templates::builtin(), d, &mut html).unwrap();
    String::from_utf8(html).unwrap()
}

fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values(pairs: &[(&str, f64)]) -> BTreeMap<Key, f64> {
    pairs
        .iter()
        .map(|(k, v)| (Key::from_string(k), *v))
        .collect()
}

fn unit(
    f: &Format,
    year: i32,
    name: &str,
    v: &BTreeMap<Key, f64>,
    t: &BTreeMap<String, String>,
) -> Rendered {
    let d = UnitData {
        format: f,
        year,
        code: "110",
        name,
        values: v,
        texts: t,
    };
    unit_report(&Templates::builtin(), &d).unwrap()
}

/// The positions of `needles` in `haystack`, asserting each is found after the previous.
fn assert_in_order(haystack: &str, needles: &[&str]) {
    let mut from = 0;
    for n in needles {
        match haystack[from..].find(n) {
            Some(i) => from += i + n.len(),
            None => panic!("“{n}” not found (in order) in:\n{haystack}"),
        }
    }
}

/// The text of every data cell of the HTML, in order.
fn data_cells(html: &str) -> Vec<&str> {
    html.split("<td class=\"num")
        .skip(1)
        .map(|s| {
            let start = s.find('>').unwrap() + 1;
            let end = s.find("</td>").unwrap();
            &s[start..end]
        })
        .collect()
}

const SAMPLE_2019: &[(&str, f64)] = &[
    ("t2.rules.made", 2.0),
    ("t2.rules.published", 2.0),
    ("t2.rules.total_public", 15.0),
    ("t2.license.prev_items", 40.0),
    ("t2.license.change", -2.0),
    ("t2.procurement.items", 3.0),
    ("t2.procurement.amount", 251000.5),
    ("t3.new.natural", 5.0),
    ("t3.new.business", 1.0),
    ("t3.open.natural", 3.0),
    ("t3.none_nohold.natural", 1.0),
    ("t3.carry_next.natural", 1.0),
    ("t3.carry_next.business", 1.0),
    ("t4.all.review_upheld", 1.0),
];

fn sample_texts() -> BTreeMap<String, String> {
    texts(&[
        (
            "opening",
            "本报告依据《中华人民共和国政府信息公开条例》编制。",
        ),
        (
            "overview",
            "一是加强组织领导。\n二是规范主动公开。\r\n\n三是做好依申请公开。",
        ),
        ("problems", "公开内容不够全面。\n下一步将加强培训。"),
        ("other", "无。"),
    ])
}

#[test]
fn markdown_of_a_2019_unit() {
    let f = format("2019");
    let r = unit(
        &f,
        2020,
        "山市镇人民政府",
        &values(SAMPLE_2019),
        &sample_texts(),
    );
    insta::assert_snapshot!("unit_2019_markdown", r.markdown);
}

fn sample_rollup(f: &Format) -> Rendered {
    let v = values(&[
        ("t2.rules.made", 1.0),
        ("t2.fees.fee_amount", 7730.28),
        ("t3.new.natural", 12.0),
        ("t3.new.legal", 2.0),
        ("t3.open.natural", 9.0),
        ("t3.partial.legal", 1.0),
        ("t3.other_unpaid.natural", 1.0),
        ("t3.carry_next.natural", 2.0),
        ("t3.carry_next.legal", 1.0),
        ("t4.all.direct_pending", 1.0),
        ("fee_cases", 3.0),
        ("fee_amount", 45.5),
    ]);
    let included = vec![
        ("111".to_string(), "山市村村民委员会".to_string()),
        ("110".to_string(), "山市镇人民政府".to_string()),
    ];
    let missing = vec![("112".to_string(), "东兴村|村民委员会".to_string())];
    let rejected = vec![];
    let d = RollupData {
        format: f,
        year: 2021,
        code: "110",
        name: "山市镇",
        level: "township",
        values: &v,
        tally: crate::batch::Tally {
            expected: included.len() + missing.len() + rejected.len(),
            received: included.len() + rejected.len(),
            accepted: included.len(),
            rejected: rejected.len(),
            missing: missing.len(),
            ..Default::default()
        },
        included: &included,
        missing: &missing,
        rejected: &rejected,
        other: &[],
    };
    rollup_report(&Templates::builtin(), &d).unwrap()
}

#[test]
fn markdown_of_a_2021_rollup() {
    let f = format("2021");
    let r = sample_rollup(&f);
    insta::assert_snapshot!("rollup_2021_markdown", r.markdown);
}

#[test]
fn rollup_html_lists_who_is_counted() {
    let f = format("2021");
    let r = sample_rollup(&f);
    assert_in_order(
        &r.html,
        &[
            "<h1>山市镇2021年政府信息公开工作年度报告汇总表</h1>",
            "只计已受理的单位",
            "二、主动公开政府信息情况",
            "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况",
            "收取信息处理费件数",
            "已计入的单位（2 个）",
            "山市村村民委员会",
            "未报送的单位（1 个）",
            "东兴村|村民委员会",
            "被退回的单位（0 个，未计入）",
            "无。",
        ],
    );
    assert!(
        !r.html.contains("一、总体情况"),
        "no text sections in a roll-up"
    );
    assert!(r.html.contains(">7730.28<"));
    // Totals missing from the values are computed from their parts.
    assert!(
        r.html.contains("<td class=\"num total\">14</td>"),
        "new.total = 12 + 2"
    );
    assert!(r.markdown.contains("东兴村\\|村民委员会"));
}

#[test]
fn html_has_the_official_structure_of_both_formats() {
    for (id, year) in [("2019", 2020), ("2021", 2021)] {
        let f = format(id);
        let r = unit(
            &f,
            year,
            "山市镇人民政府",
            &values(SAMPLE_2019),
            &sample_texts(),
        );
        let html = &r.html;
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("@page { size: A4; margin: 18mm; }"));
        assert!(html.contains("page-break-inside: avoid"));
        assert!(html.contains("\"SimSun\", \"宋体\", \"Songti SC\", \"Noto Serif CJK SC\", \"Source Han Serif SC\", serif"));
        assert!(html.contains("writing-mode: vertical-rl"));
        assert!(
            !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
            "standalone"
        );
        assert_in_order(
            html,
            &[
                &format!("<h1>山市镇人民政府{year}年政府信息公开工作年度报告</h1>"),
                "<p>本报告依据《中华人民共和国政府信息公开条例》编制。</p>",
                "<h2>一、总体情况</h2>",
                "<p>一是加强组织领导。</p>",
                "<p>二是规范主动公开。</p>",
                "<p>三是做好依申请公开。</p>",
                "<h2>二、主动公开政府信息情况</h2>",
                "第二十条第（一）项",
                "<th class=\"corner\">信息内容</th>",
                "<h2>三、收到和处理政府信息公开申请情况</h2>",
                "<h2>四、政府信息公开行政复议、行政诉讼情况</h2>",
                "<h2>五、存在的主要问题及改进情况</h2>",
                "<p>公开内容不够全面。</p>",
                "<p>下一步将加强培训。</p>",
                "<h2>六、其他需要报告的事项</h2>",
                "<p>无。</p>",
            ],
        );
        let t3 = f.table("t3").unwrap();
        for row in &t3.blocks[0].rows {
            assert!(
                html.contains(&format!(">{}</td>", row.label)),
                "{id}: {}",
                row.label
            );
            for g in &row.groups {
                assert!(
                    html.contains(&format!("<span class=\"v\">{g}</span>")),
                    "{id}: {g}"
                );
            }
        }
        // The 勾稽 note spans the label columns and the header rows.
        assert!(html.contains(
            "<th class=\"corner\" colspan=\"3\" rowspan=\"3\">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</th>"
        ));
        assert!(html.contains("<th class=\"group\" colspan=\"7\">申请人情况</th>"));
        assert!(html.contains("<th class=\"group\" colspan=\"5\">法人或其他组织</th>"));
        assert!(html.contains("<th class=\"col\" rowspan=\"2\">自然人</th>"));
        assert!(html.contains("<th class=\"col\">商业企业</th>"));
        let results = if id == "2019" { 20 } else { 22 };
        assert!(html.contains(&format!(
            "<td class=\"vgroup\" rowspan=\"{results}\"><span class=\"v\">三、本年度办理结果</span></td>"
        )));
        assert!(html.contains(
            "<td class=\"vgroup\" rowspan=\"8\"><span class=\"v\">（三）不予公开</span></td>"
        ));
        assert!(html.contains(
            "<td class=\"vgroup\" rowspan=\"5\"><span class=\"v\">（五）不予处理</span></td>"
        ));
        assert!(html
            .contains("<td class=\"label\" colspan=\"3\">一、本年新收政府信息公开申请数量</td>"));
        assert!(html.contains("<td class=\"label\" colspan=\"2\">（一）予以公开</td>"));
        assert!(html.contains("<td class=\"label\">1.属于国家秘密</td>"));
        // Table 四: two- and three-level header, no row labels.
        assert!(html.contains("<th class=\"group\" colspan=\"5\">行政复议</th>"));
        assert!(html.contains("<th class=\"group\" colspan=\"10\">行政诉讼</th>"));
        assert!(html.contains("<th class=\"group\" colspan=\"5\">未经复议直接起诉</th>"));
        assert!(
            html.contains("<th class=\"col\" rowspan=\"2\"><span class=\"h\">结果维持</span></th>")
        );
        // The numbers put in, totals computed where missing.
        let cells = data_cells(html);
        let expected = f.cells().count();
        assert_eq!(cells.len(), expected, "{id}: one data cell per format cell");
        assert!(html.contains("<td class=\"num\">5</td><td class=\"num\">1</td>"));
        assert!(html.contains("<td class=\"num total\">6</td>"), "new.total");
        assert!(
            html.contains("<td class=\"num total\">1</td>"),
            "t4 review_total"
        );
    }
}

#[test]
fn amounts_and_signed_values_are_printed_as_typed() {
    let f = format("2019");
    let r = unit(&f, 2020, "某局", &values(SAMPLE_2019), &sample_texts());
    // The last column of a narrower block of table 二 stretches over the grid.
    assert!(r
        .html
        .contains("<td class=\"num\" colspan=\"2\">251000.5</td>"));
    assert!(r.html.contains("<td class=\"num\">-2</td>"));
    assert!(
        r.html
            .contains("<th class=\"col\" colspan=\"2\">采购总金额</th>"),
        "official label kept"
    );
    assert!(r
        .html
        .contains("<p class=\"note\">注：“采购总金额”的单位为元。</p>"));
    let f = format("2021");
    let v = values(&[("t2.fees.fee_amount", 7730.28)]);
    let r = unit(&f, 2021, "某局", &v, &sample_texts());
    assert!(r
        .html
        .contains("<td class=\"num\" colspan=\"3\">7730.28</td>"));
    assert!(r
        .html
        .contains("<th class=\"col\" colspan=\"3\">本年处理决定数量</th>"));
    assert!(
        !r.html.contains("class=\"note\">注："),
        "the 2021 label states 万元"
    );
}

#[test]
fn the_2021_fee_sentence_follows_the_units_own_text() {
    let f = format("2021");
    let t = texts(&[("other", "本单位无其他需要报告的事项。")]);
    let v = values(&[("fee_cases", 2.0), ("fee_amount", 30.5)]);
    let r = unit(&f, 2021, "某局", &v, &t);
    assert_in_order(
        &r.html,
        &[
            "<h2>六、其他需要报告的事项</h2>",
            "<p>本单位无其他需要报告的事项。</p>",
            "<p>本年度收取信息处理费 2 件，金额 30.5 元。</p>",
        ],
    );
    assert!(r
        .markdown
        .contains("本年度收取信息处理费 2 件，金额 30.5 元。\n"));
    let r = unit(&f, 2021, "某局", &BTreeMap::new(), &BTreeMap::new());
    assert_in_order(
        &r.html,
        &[
            "<h2>六、其他需要报告的事项</h2>",
            "（未填写）",
            "<p>本年度未收取信息处理费。</p>",
        ],
    );
    let r = unit(
        &format("2019"),
        2020,
        "某局",
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    assert!(!r.html.contains("信息处理费"));
}

#[test]
fn everything_from_a_workbook_is_escaped() {
    let f = format("2019");
    let evil = "<script>alert(1)</script>";
    let t = texts(&[
        (
            "overview",
            "# 不是标题\n<img src=x onerror=alert(1)> & \"引号\" | 竖线 *星号*\n- 不是列表",
        ),
        ("other", "1. 不是编号"),
    ]);
    let r = unit(&f, 2020, evil, &BTreeMap::new(), &t);
    assert!(
        !r.html.contains("<script>") && !r.html.contains("<img"),
        "{}",
        r.html
    );
    assert!(r
        .html
        .contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;2020年政府信息公开工作年度报告</h1>"));
    assert!(r
        .html
        .contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;引号&quot; | 竖线"));
    let md = &r.markdown;
    let raw_angle = md
        .char_indices()
        .any(|(i, c)| c == '<' && !md[..i].ends_with('\\'));
    assert!(!raw_angle, "every < escaped: {md}");
    assert!(
        md.starts_with("# \\<script\\>alert(1)\\</script\\>2020年"),
        "{md}"
    );
    assert!(md.contains("\n\\# 不是标题\n"));
    assert!(md.contains("\\<img src=x onerror=alert(1)\\> & \"引号\" \\| 竖线 \\*星号\\*"));
    assert!(md.contains("\n\\- 不是列表\n"));
    assert!(md.contains("\n1\\. 不是编号\n"));
}

#[test]
fn markdown_escaping() {
    assert_eq!(md_escape("a|b"), "a\\|b");
    assert_eq!(md_escape("#1"), "\\#1");
    assert_eq!(md_escape("第#1"), "第#1");
    assert_eq!(md_escape("-2"), "-2");
    assert_eq!(md_escape("- x"), "\\- x");
    assert_eq!(md_escape("12) x"), "12\\) x");
    assert_eq!(md_escape("1.属于国家秘密"), "1.属于国家秘密");
    assert_eq!(md_escape("a\nb"), "a b");
    assert_eq!(md_escape("    code"), "code");
    assert_eq!(md_escape("[x](javascript:1)"), "\\[x\\](javascript:1)");
}

/// The seed report's text (seeds/000_9a59cdaddd27bb55.txt), as a clerk would type it
/// into the template: paragraphs as lines, without the bold marks of the published copy.
const SEED_OPENING: &str = "山市镇自 2020 年初以来，认真贯彻落实上级有关政务公开文件要求，镇党委、政府高度重视，按照文件精神扎实开展政务公开工作，政府和 12 个行政村严格按照政务公开要求进行了政务、村务公开，促进了政务公开工作的制度化、规范化、常态化。现将有关情况总结如下：";
const SEED_OVERVIEW: &str = "我镇对政务村务公开工作十分重视，召开工作会议进行逐级思想动员，机关干部充分认识到落实《中华人民共和国政府信息公开条例》的重要性。以思想认识为基，着力推行政务公开制度，不断扩大基层民主，进一步加强社会主义民主政治建设和改进政府机关作风建设。通过政务公开，山市镇增强了镇村两级工作的透明度，强化了对镇政府机关及工作人员行使权力的监督，进一步转变了政府职能，推进了廉洁、勤政、务实、高效的政府建设；极大的消除了群众误解，赢得群众支持，减少因政务村务管理不规范而引发的上访，对维护农村社会稳定起到积极作用。
为保证政务公开工作的经常化、制度化、规范化，确保政务公开工作高质量、高标准、严要求地进行，做到全面公开、
及时公开，我镇建立健全相关的工作制度。一是建立健全领导责任制。建立起主要领导负总责、分管领导主抓、各有关部门配合的工作机制。二是建立定期检查考核制度。镇政务公开监督小组及各村委单位的政务(村务)公开监督小组，做到每季度检查村务公开一次，发现问题及时纠正。同时，把政务村务公开工作列入考核各村委会、站所部门的内容之一。三是建立整改制度。结合牡丹江、海林两级巡察巡视提出的整改意见，我镇针对部分村村务公开存在时间不及时、内容不全面、形式不规范等问题，进行了一次全面整改，制定了相关文件，统一规范了各村村务公开的格式，调整充实公开内容，完善了政务村务公开资料的收集，建立政务村务公开档案。";
const SEED_PROBLEMS: &str = "2020年我镇在政务村务公开工作领导和监督力度还不够大，对公开内容的把关还不够严，对公开资料建档工作还不够细致，接下来会着重整改以下三个方面：
一是进一步加强对政务村务公开工作的领导和监督，健全有关检查制度、责任追究制度，反馈制度，确保把政务村务公开工作落到实处。二是进一步规范和完善政务村务公开的内容、形式，要按照省有关文件精神，对涉及人民群众关心的重大问题，重大决策应及时公开，同时有区别地抓好对内与对外公开，
提高公开针对性。三是进一步做好政务村务公开资料建档工作，使到政务村务公开有史可查。";
const SEED_OTHER: &str = "无。";

#[test]
fn the_seed_unit_reproduces_the_seed_report() {
    let f = format("2019");
    let t = texts(&[
        ("opening", SEED_OPENING),
        ("overview", SEED_OVERVIEW),
        ("problems", SEED_PROBLEMS),
        ("other", SEED_OTHER),
    ]);
    let r = unit(&f, 2020, "山市镇人民政府", &BTreeMap::new(), &t);
    let para = |s: &str| format!("<p>{s}</p>");
    let overview: Vec<String> = SEED_OVERVIEW.lines().map(para).collect();
    let problems: Vec<String> = SEED_PROBLEMS.lines().map(para).collect();
    let mut order: Vec<String> = vec![
        "<h1>山市镇人民政府2020年政府信息公开工作年度报告</h1>".into(),
        para(SEED_OPENING),
        "<h2>一、总体情况</h2>".into(),
    ];
    order.extend(overview);
    order.push("<h2>二、主动公开政府信息情况</h2>".into());
    for title in ["（一）", "（五）", "（六）", "（八）", "（九）"] {
        order.push(format!("<th colspan=\"4\">第二十条第{title}项</th>"));
        order.push("<th class=\"corner\">信息内容</th>".into());
    }
    order.extend(
        [
            "<h2>三、收到和处理政府信息公开申请情况</h2>",
            "勾稽关系",
            "申请人情况",
            "一、本年新收政府信息公开申请数量",
            "（七）总计",
            "四、结转下年度继续办理",
            "<h2>四、政府信息公开行政复议、行政诉讼情况</h2>",
            "行政复议",
            "行政诉讼",
            "<h2>五、存在的主要问题及改进情况</h2>",
        ]
        .map(String::from),
    );
    order.extend(problems);
    order.push("<h2>六、其他需要报告的事项</h2>".into());
    order.push(para("无。"));
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    assert_in_order(&r.html, &order);
    // The table 二 row labels and columns of the seed.
    for label in [
        "规章",
        "规范性文件",
        "行政许可",
        "其他对外管理服务事项",
        "行政处罚",
        "行政强制",
        "行政事业性收费",
        "政府集中采购",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "本年增/减",
        "处理决定数量",
        "采购项目数量",
        "采购总金额",
    ] {
        assert!(r.html.contains(&format!(">{label}</")), "{label}");
    }
    // All zeros, and every cell of the format present.
    let cells = data_cells(&r.html);
    assert_eq!(cells.len(), 22 + 23 * 7 + 15);
    assert!(cells.iter().all(|c| *c == "0"), "{cells:?}");
    // The Markdown has the same parts in the same order.
    let md_order: Vec<String> = [
        "# 山市镇人民政府2020年政府信息公开工作年度报告",
        SEED_OPENING,
        "## 一、总体情况",
        "## 二、主动公开政府信息情况",
        "**第二十条第（一）项**",
        "| 信息内容 | 本年新制作数量 | 本年新公开数量 | 对外公开总数量 |",
        "| 规章 | 0 | 0 | 0 |",
        "**第二十条第（九）项**",
        "| 政府集中采购 | 0 | 0 |",
        "## 三、收到和处理政府信息公开申请情况",
        "| 三、本年度办理结果/（三）不予公开/1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "## 四、政府信息公开行政复议、行政诉讼情况",
        "| 行政复议/结果维持 |",
        "行政诉讼/复议后起诉/结果维持",
        "| 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |",
        "## 五、存在的主要问题及改进情况",
        "## 六、其他需要报告的事项",
        "无。",
    ]
    .map(String::from)
    .to_vec();
    let md_order: Vec<&str> = md_order.iter().map(String::as_str).collect();
    assert_in_order(&r.markdown, &md_order);
}

#[test]
fn a_users_template_dir_overrides_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("unit.md.j2"),
        "自定义：{{ title }}\n{% for p in parts %}- {{ p.heading }}\n{% endfor %}",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "{% broken").unwrap();
    let t = Templates::from_dir(dir.path()).unwrap();
    let f = format("2019");
    let d = UnitData {
        format: &f,
        year: 2020,
        code: "110",
        name: "山市镇<人民政府>",
        values: &BTreeMap::new(),
        texts: &BTreeMap::new(),
    };
    let r = unit_report(&t, &d).unwrap();
    assert!(
        r.markdown.starts_with(
            "自定义：山市镇\\<人民政府\\>2020年政府信息公开工作年度报告\n- 一、总体情况\n- 二、"
        ),
        "{}",
        r.markdown
    );
    assert!(
        r.html
            .contains("<h2>三、收到和处理政府信息公开申请情况</h2>"),
        "html falls back to the built-in"
    );
}

#[test]
fn template_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unit.html.j2");
    std::fs::write(&path, "<h1>{{ title }}</h1>\n{% for p in %}\n").unwrap();
    let err = Templates::from_dir(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RenderError::Syntax { .. }), "{msg}");
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("第 2 行"),
        "{msg}"
    );
    assert!(msg.contains("语法错误"), "{msg}");

    std::fs::write(&path, "<h1>{{ title }}</h1>\n\n{{ nothing.here }}\n").unwrap();
    let t = Templates::from_dir(dir.path()).unwrap();
    let f = format("2019");
    let d = UnitData {
        format: &f,
        year: 2020,
        code: "110",
        name: "某镇",
        values: &BTreeMap::new(),
        texts: &BTreeMap::new(),
    };
    let err = unit_report(&t, &d).expect_err("an undefined variable is an error");
    let msg = err.to_string();
    assert!(matches!(err, RenderError::Render { .. }), "{msg}");
    assert!(
        msg.contains("unit.html.j2") && msg.contains("第 3 行"),
        "{msg}"
    );

    let err = Templates::from_dir(&dir.path().join("nope")).unwrap_err();
    assert!(err.to_string().contains("无法读取报告模板"), "{err}");
}

#[test]
fn templates_can_be_shared_across_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Templates>();
}

#[test]
fn rendering_is_deterministic() {
    let f = format("2021");
    let a = sample_rollup(&f);
    let b = sample_rollup(&f);
    assert_eq!(a.html, b.html);
    assert_eq!(a.markdown, b.markdown);
}

#[test]
fn file_stems_are_safe() {
    assert_eq!(file_stem("110", "山市镇人民政府"), "110_山市镇人民政府");
    let s = file_stem("1", "a/b:c*?\"<>| 镇");
    assert!(
        !s.contains(['/', ':', '*', '?', '"', '<', '>', '|', ' ']),
        "{s}"
    );
    assert!(s.starts_with("1_"), "{s}");
    assert!(!file_stem("2", "..").contains(".."));
}

/// 山市镇人民政府 (code 110) reporting `values` and `texts` for `year`.
fn shanshi<'a>(
    format: &'a Format,
    year: i32,
    values: &'a BTreeMap<Key, f64>,
    texts: &'a BTreeMap<String, String>,
) -> UnitData<'a> {
    UnitData {
        format,
        year,
        code: "110",
        name: "山市镇人民政府",
        values,
        texts,
    }
}

fn overview_unit(code: &str, name: &str, status: &str, new: Option<f64>) -> OverviewUnit {
    let status = crate::batch::Status::from_code(status).expect("a status code");
    OverviewUnit {
        code: code.to_string(),
        name: name.to_string(),
        parent_code: "100".to_string(),
        parent_name: "示例县人民政府".to_string(),
        level: "village".to_string(),
        status,
        errors: usize::from(status == crate::batch::Status::Rejected),
        warnings: 0,
        file: format!("回收/{name}.xlsx"),
        reason: if status == crate::batch::Status::Rejected {
            "1 个错误，首个：「自然人」列不平".to_string()
        } else {
            String::new()
        },
        new_requests: new,
        last_year_new_requests: None,
        report: new.map(|_| format!("reports/{}.html", file_stem(code, name))),
        correction: (status == crate::batch::Status::Rejected)
            .then(|| format!("corrections/{code}#1.xlsx")),
    }
}

#[test]
fn the_outcome_mix_sums_rows_by_their_groups() {
    for id in ["2019", "2021"] {
        let f = format(id);
        let mut v = BTreeMap::new();
        for cell in f.table("t3").unwrap().cells() {
            if cell.col.code == "total" {
                v.insert(cell.key.clone(), 1.0);
            }
        }
        let cats = outcome_categories(&f, &v);
        let labels: Vec<&str> = cats.iter().map(|(_, l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "予以公开",
                "部分公开",
                "不予公开",
                "无法提供",
                "不予处理",
                "其他处理"
            ],
            "{id}"
        );
        let counts: Vec<f64> = cats.iter().map(|(_, _, n)| *n).collect();
        let other = if id == "2019" { 1.0 } else { 3.0 };
        assert_eq!(counts, [1.0, 1.0, 8.0, 3.0, 5.0, other], "{id}");
    }
}

#[test]
fn overview_lists_units_and_draws_charts() {
    let f = format("2019");
    let mut units: Vec<OverviewUnit> = (0..35)
        .map(|i| {
            overview_unit(
                &format!("{}", 200 + i),
                &format!("第{i}村"),
                "accepted",
                Some(i as f64),
            )
        })
        .collect();
    units.push(overview_unit(
        "110",
        "<b>山市镇</b>",
        "rejected",
        Some(100.0),
    ));
    units.push(overview_unit("120", "教育局", "missing", None));
    units.push(overview_unit("130", "某所", "wrong_year", None));
    let parents = vec![OverviewParent {
        code: "100".to_string(),
        name: "示例县人民政府".to_string(),
        level: "county".to_string(),
        tally: crate::batch::Tally {
            expected: 38,
            received: 36,
            accepted: 35,
            rejected: 1,
            missing: 2,
            ..Default::default()
        },
        rollup: Some("rollups/100_示例县人民政府.html".to_string()),
    }];
    let totals = values(&[
        ("t3.open.total", 30.0),
        ("t3.deny_secret.total", 2.0),
        ("t3.deny_law.total", 3.0),
    ]);
    let d = OverviewData {
        format: &f,
        year: 2020,
        units,
        parents,
        totals: &totals,
    };
    let html = overview_html(d.clone());
    assert!(
        !html.contains("<b>") && !html.contains("<script"),
        "escaped, no JavaScript"
    );
    assert!(html.contains("&lt;b&gt;山市镇&lt;/b&gt;"));
    assert!(
        html.contains("<a href=\"reports/110__b_山市镇__b_.html\">")
            || html.contains("href=\"reports/110_"),
        "{html}"
    );
    assert!(
        html.contains("href=\"corrections/110%231.xlsx\""),
        "a # in a link is encoded"
    );
    assert!(html.contains(
        "<a href=\"rollups/100_示例县人民政府.html\">汇总报告</a> · <a href=\"rollups/汇总表.xlsx\">汇总表.xlsx</a>"
    ));
    // The rejected unit is listed first with its first error; parents by name; files
    // by their name, the path on hover.
    let attention = html.find("退回的单位（1 个").expect("attention list");
    let first_error = html.find("「自然人」列不平").unwrap();
    assert!(attention < first_error && first_error < html.find("各上级单位完成情况").unwrap());
    assert!(html.contains("<td>示例县人民政府</td>"));
    assert!(
        html.contains("title=\"回收/第3村.xlsx\">第3村.xlsx</td>"),
        "{html}"
    );
    assert!(
        html.contains(">受理 35</span>")
            && html.contains(">退回 1</span>")
            && html.contains(">未报送 1</span>")
    );
    assert!(
        html.contains(">年度不符 1</span>"),
        "every status shows its own label"
    );
    assert!(html.contains("前 30 个单位，共 36 个单位有数据"));
    let request_bars = html.split("fill=\"#1565c0\"").count() - 1;
    assert_eq!(request_bars, 30);
    // The largest first, ties impossible here; the 新收 of the rejected unit is shown.
    assert_in_order(
        &html,
        &[
            "&lt;b&gt;山市镇&lt;/b&gt;</text>",
            "第34村</text>",
            "第33村</text>",
        ],
    );
    assert!(html.contains(">予以公开：30（85.7%）</text>"), "{html}");
    assert!(html.contains(">不予公开：5（14.3%）</text>"));
    assert!(html.contains("<td class=\"n\">38</td>"));
    assert!(html.contains("width:92.1%"));
    let again = overview_html(d);
    assert_eq!(html, again);
}

#[test]
fn a_published_report_carries_its_provenance_in_metadata_not_in_the_body() {
    let f = format("2021");
    let r = unit(&f, 2024, "山市镇", &values(&[]), &sample_texts());
    let body = &r.html[r.html.find("<body>").unwrap()..];
    assert!(!body.contains("生成"), "no generator line in the body");
    assert!(
        !body.contains(&f.document),
        "no format citation in the body"
    );
    let head = &r.html[..r.html.find("<body>").unwrap()];
    assert!(head.contains("<meta name=\"nianbao-format\""), "{head}");
    assert!(head.contains(&f.document));
}

#[test]
fn comparison_words_the_change_and_none_is_unchanged() {
    assert_eq!(change_text(3.0), "+3");
    assert_eq!(change_text(-2.0), "-2");
    assert_eq!(change_text(0.0), "0");
    assert_eq!(change_text(0.5), "+0.5");
    let f = format("2021");
    let (v, t) = (values(&[("t3.new.natural", 4.0)]), texts(&[]));
    let d = shanshi(&f, 2021, &v, &t);
    let templates = Templates::builtin();
    let plain = unit_report(&templates, &d).unwrap();
    assert_eq!(
        unit_report_compared(&templates, &d, None, None).unwrap(),
        plain
    );
    let c = Comparison {
        previous_year: 2020,
        figures: vec![
            ComparedFigure {
                label: "新收申请".into(),
                current: 4.0,
                previous: Some(1.0),
            },
            ComparedFigure {
                label: "行政复议".into(),
                current: 0.0,
                previous: None,
            },
        ],
        note: Some("说明<b>".into()),
    };
    let r = unit_report_compared(&templates, &d, Some(&c), None).unwrap();
    assert!(r.html.contains("<tr><th>新收申请</th><td class=\"n\">4</td><td class=\"n\">1</td><td class=\"n\">+3</td></tr>"), "{}", r.html);
    assert!(r.html.contains("<tr><th>行政复议</th><td class=\"n\">0</td><td class=\"n\">—</td><td class=\"n\">—</td></tr>"), "{}", r.html);
    assert!(r.html.contains("说明&lt;b&gt;"), "{}", r.html);
    assert!(
        r.markdown.contains("| 新收申请 | 4 | 1 | +3 |"),
        "{}",
        r.markdown
    );
    // After the tables.
    assert!(
        r.html.find("与2020年度比较").unwrap() > r.html.rfind("<table class=\"report").unwrap()
    );
}

#[test]
fn the_html_and_markdown_reports_end_with_the_same_signature_as_word() {
    let f = format("2021");
    let (v, t) = (values(&[("t3.new.natural", 4.0)]), texts(&[]));
    let d = shanshi(&f, 2021, &v, &t);
    let templates = Templates::builtin();
    // The one definition of what the 落款 says (the Word report uses it too).
    let signature = Signature::from_cover("山市镇人民政府", Some("2022/1/12")).unwrap();
    let signed = unit_report_compared(&templates, &d, None, Some(&signature)).unwrap();
    let html = signed.html.replace('\n', "");
    assert!(
        html.ends_with("<p class=\"signature\">山市镇人民政府<br>2022年1月12日</p></body></html>"),
        "{}",
        &signed.html[signed.html.len().saturating_sub(300)..]
    );
    assert!(
        signed
            .markdown
            .trim_end()
            .ends_with("山市镇人民政府  \n2022年1月12日"),
        "{}",
        signed.markdown
    );
    // A cover without a date: no 落款, and the report as before.
    let plain = unit_report(&templates, &d).unwrap();
    assert_eq!(
        unit_report_compared(&templates, &d, None, None).unwrap(),
        plain
    );
    assert!(!plain.html.contains("class=\"signature\""));
}

#[test]
fn markdown_written_piece_by_piece_ends_as_the_whole_string_does() {
    let pieces = [
        "| 一 |",
        "  \n",
        "\n",
        "正文　",
        "\n\n",
        "末行",
        "\u{3000}\n",
        "  ",
        "\n\n",
    ];
    let mut out = Vec::new();
    let mut w = OneNewline::new(&mut out);
    for p in pieces {
        std::io::Write::write_all(&mut w, p.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        one_newline(pieces.concat())
    );
    // A character split between two writes is not cut.
    let mut out = Vec::new();
    let mut w = OneNewline::new(&mut out);
    let bytes = "文　".as_bytes();
    std::io::Write::write_all(&mut w, &bytes[..4]).unwrap();
    std::io::Write::write_all(&mut w, &bytes[4..]).unwrap();
    w.finish().unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "文\n");
}

#[test]
fn the_unit_lists_of_a_rollup_are_included_and_the_macro_still_draws_them() {
    let f = format("2021");
    let whole = sample_rollup(&f);
    assert!(whole.html.contains(
        "<tr><td>111</td><td>山市村村民委员会</td></tr>\n<tr><td>110</td><td>山市镇人民政府</td></tr>\n</table>\n\n<h3>未报送的单位（1 个）</h3>"
    ));
    assert!(whole
        .markdown
        .contains("| 112 | 东兴村\\|村民委员会 |\n\n### 被退回的单位"));
    // A user's roll-up template written for the macro gets the same list.
    let dir = tempfile::tempdir().unwrap();
    let builtin = include_str!("../../templates/report/rollup.html.j2");
    let old = builtin.replace(
        "{% with list = included %}{% include \"units.html.j2\" %}{% endwith %}\n\n",
        "{{ m.units(included) }}\n",
    );
    assert_ne!(old, builtin);
    std::fs::write(dir.path().join("rollup.html.j2"), old).unwrap();
    let t = Templates::from_dir(dir.path()).unwrap();
    let mut html = Vec::new();
    let v = BTreeMap::new();
    let included = vec![("111".to_string(), "山市村村民委员会".to_string())];
    let d = RollupData {
        format: &f,
        year: 2021,
        code: "110",
        name: "山市镇",
        level: "township",
        values: &v,
        tally: crate::batch::Tally::default(),
        included: &included,
        missing: &[],
        rejected: &[],
        other: &[],
    };
    rollup_report_to(&t, &d, None, &mut html, None).unwrap();
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<tr><td>111</td><td>山市村村民委员会</td></tr>\n</table>\n\n<h3>"));
    let mut builtin_html = Vec::new();
    rollup_report_to(&Templates::builtin(), &d, None, &mut builtin_html, None).unwrap();
    assert_eq!(html, String::from_utf8(builtin_html).unwrap());
}

#[test]
fn without_markdown_a_unit_gets_the_same_html_and_no_markdown() {
    let f = format("2021");
    let (v, t) = (BTreeMap::new(), sample_texts());
    let d = shanshi(&f, 2021, &v, &t);
    let whole = unit_report(&Templates::builtin(), &d).unwrap();
    let (html, markdown) = unit_pages(&Templates::builtin(), &d, None, None, false).unwrap();
    assert_eq!((html, markdown), (whole.html.clone(), None));
    let (_, markdown) = unit_pages(&Templates::builtin(), &d, None, None, true).unwrap();
    assert_eq!(markdown, Some(whole.markdown));
}

/// The built-in `unit.html.j2` as it was before the tables came from skeletons: every
/// table drawn by the macro from `part.table`.
fn unit_html_drawn_by_the_macro() -> String {
    let builtin = BUILTIN
        .iter()
        .find(|(name, _)| *name == "unit.html.j2")
        .unwrap()
        .1;
    let skeleton = "{% if part.table_html %}\n{{ part.table_html }}\n{% else %}\n{{ m.table(part.table) }}\n{% endif %}\n";
    assert!(builtin.contains(skeleton));
    builtin.replace(skeleton, "{{ m.table(part.table) }}\n")
}

#[test]
fn tables_from_skeletons_are_the_bytes_the_macro_draws() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("unit.html.j2"),
        unit_html_drawn_by_the_macro(),
    )
    .unwrap();
    let by_macro = Templates::from_dir(dir.path()).unwrap();
    // A user's own table macro (here a copy of the built-in one) draws every table.
    let own_macro = tempfile::tempdir().unwrap();
    let macros = BUILTIN
        .iter()
        .find(|(name, _)| *name == "macros.html.j2")
        .unwrap()
        .1;
    std::fs::write(own_macro.path().join("macros.html.j2"), macros).unwrap();
    let users = Templates::from_dir(own_macro.path()).unwrap();
    let builtin = Templates::builtin();
    for id in ["2019", "2021"] {
        let f = format(id);
        // Two units through one template set: the second is filled from the skeleton the
        // first drew, and shows its own numbers.
        for (v, t) in [
            (
                values(&[("t3.new.natural", 4.0), ("t2.fees.fee_amount", 7730.28)]),
                sample_texts(),
            ),
            (
                values(&[("t3.new.legal", 12.5), ("t4.all.direct_pending", 3.0)]),
                texts(&[]),
            ),
        ] {
            let d = UnitData {
                format: &f,
                year: 2021,
                code: "110",
                name: "山市镇<人民政府>",
                values: &v,
                texts: &t,
            };
            let from_skeleton = unit_report(&builtin, &d).unwrap();
            assert!(from_skeleton.html.contains("<table class=\"report"));
            assert_eq!(unit_report(&by_macro, &d).unwrap(), from_skeleton, "{id}");
            assert_eq!(unit_report(&users, &d).unwrap(), from_skeleton, "{id}");
        }
    }
}

#[test]
fn a_table_macro_that_does_not_print_each_number_once_gets_no_skeleton() {
    use super::table::Skeleton;
    let m = |i: usize| format!("\u{E000}{i}\u{E001}");
    assert!(Skeleton::cut(&format!("<td>{}</td><td>{}</td>", m(1), m(0)), 2).is_some());
    // A number left out, printed twice, unknown, or a broken marker.
    assert!(Skeleton::cut(&format!("<td>{}</td>", m(0)), 2).is_none());
    assert!(Skeleton::cut(&format!("{}{}", m(0), m(0)), 1).is_none());
    assert!(Skeleton::cut(&m(3), 1).is_none());
    assert!(Skeleton::cut("<td>\u{E000}0</td>", 1).is_none());
    assert!(Skeleton::cut("<td>0\u{E001}</td>", 1).is_none());
}

#[test]
fn a_template_still_reads_every_field_of_a_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("unit.html.j2"),
        "{% for part in parts %}{% if part.table %}{{ part.table.code }} {{ part.table.width }} {{ part.table.dense }} {{ part.table.notes | length }} {{ part.table | length }} {{ part.table.blocks[0].rows[0] | selectattr('class', 'equalto', 'num') | map(attribute='text') | join(',') }}\n{% endif %}{% endfor %}",
    )
    .unwrap();
    let t = Templates::from_dir(dir.path()).unwrap();
    let f = format("2021");
    let (v, x) = (values(&[("t3.new.natural", 4.0)]), texts(&[]));
    let d = shanshi(&f, 2021, &v, &x);
    let html = unit_report(&t, &d).unwrap().html;
    let t3 = html
        .lines()
        .find(|l| l.starts_with("t3 "))
        .unwrap_or_else(|| panic!("no line for 表三: {html}"));
    // Every field as the table gives it: code, width in columns, not dense, no notes,
    // seven fields in all, and the numbers of the first row (the unit's 4 first).
    assert_eq!(t3, "t3 10 False 0 7 4,0,0,0,0,0", "{html}");
}
