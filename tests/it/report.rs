//! Rendered reports in a real browser: a unit's report, a roll-up and the overview page
//! are written to files and opened with headless Chromium, which takes a screenshot and
//! prints a PDF. Skipped, saying so, where Chromium is not installed (`.ci/run` installs
//! it). Set `NIANBAO_SHOTS_DIR` to keep the screenshots and PDFs for a look.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nianbao::format::{Format, Formats, Key};
use nianbao::render::{
    self, OverviewData, OverviewParent, OverviewUnit, RollupData, Templates, UnitData,
};

use crate::common::Scratch;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs headless Chromium on `html` with one output flag (`--screenshot=…`,
/// `--print-to-pdf=…`), with a private profile and no network, killed after two minutes.
fn run_chromium(bin: &str, html: &Path, output: &str, profile: &Path) {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(output)
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            assert!(status.success(), "chromium failed on {}", html.display());
            return;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took more than two minutes on {}", html.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Pages of a PDF: its `/Type /Page` objects (not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut pages = 0;
    for pattern in [&b"/Type /Page"[..], &b"/Type/Page"[..]] {
        pages += pdf
            .windows(pattern.len() + 1)
            .filter(|w| w.starts_with(pattern) && w[pattern.len()] != b's')
            .count();
    }
    pages
}

fn format(id: &str) -> Format {
    Formats::builtin().by_id(id).unwrap().clone()
}

fn keyed(pairs: &[(&str, f64)]) -> BTreeMap<Key, f64> {
    pairs
        .iter()
        .map(|(k, v)| (Key::from_string(k), *v))
        .collect()
}

/// A 2020 unit (2019 format) with numbers in every table and several paragraphs.
fn unit_html(templates: &Templates) -> String {
    let f = format("2019");
    let values = keyed(&[
        ("t2.rules.made", 2.0),
        ("t2.rules.published", 2.0),
        ("t2.rules.total_public", 15.0),
        ("t2.license.prev_items", 40.0),
        ("t2.license.change", -2.0),
        ("t2.license.decisions", 1234.0),
        ("t2.procurement.items", 3.0),
        ("t2.procurement.amount", 251000.5),
        ("t3.new.natural", 25.0),
        ("t3.new.business", 3.0),
        ("t3.new.legal", 1.0),
        ("t3.carried.natural", 2.0),
        ("t3.open.natural", 15.0),
        ("t3.partial.business", 2.0),
        ("t3.deny_third.natural", 1.0),
        ("t3.none_nohold.natural", 6.0),
        ("t3.reject_repeat.natural", 2.0),
        ("t3.other.legal", 1.0),
        ("t3.carry_next.natural", 3.0),
        ("t3.carry_next.business", 1.0),
        ("t4.all.review_upheld", 1.0),
        ("t4.all.direct_pending", 1.0),
    ]);
    let texts: BTreeMap<String, String> = [
        ("opening", "本报告由山市镇人民政府根据《中华人民共和国政府信息公开条例》编制，现将有关情况总结如下："),
        (
            "overview",
            "我镇对政务村务公开工作十分重视，召开工作会议进行逐级思想动员。\n\n（一）主动公开。通过政府网站、公开栏等渠道及时公开政府信息。\n（二）依申请公开。全年新收申请 29 件，均按时答复。",
        ),
        ("problems", "对公开内容的把关还不够严。\n下一步将进一步规范公开内容和形式。"),
        ("other", "无。"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let d = UnitData {
        format: &f,
        year: 2020,
        code: "110",
        name: "山市镇人民政府",
        values: &values,
        texts: &texts,
    };
    render::unit_report(templates, &d).unwrap().html
}

fn rollup_html(templates: &Templates) -> String {
    let f = format("2021");
    let values = keyed(&[
        ("t2.rules.made", 4.0),
        ("t2.fees.fee_amount", 7730.28),
        ("t3.new.natural", 120.0),
        ("t3.new.business", 8.0),
        ("t3.open.natural", 90.0),
        ("t3.partial.business", 8.0),
        ("t3.other_overdue.natural", 20.0),
        ("t3.carry_next.natural", 10.0),
        ("fee_cases", 3.0),
        ("fee_amount", 45.5),
    ]);
    let included = vec![
        ("110".to_string(), "山市镇人民政府".to_string()),
        ("111".to_string(), "山市村村民委员会".to_string()),
    ];
    let missing = vec![("112".to_string(), "东兴村村民委员会".to_string())];
    let rejected = vec![("120".to_string(), "示例县教育局".to_string())];
    let d = RollupData {
        format: &f,
        year: 2021,
        code: "100",
        name: "示例县",
        level: "county",
        values: &values,
        tally: nianbao::batch::Tally {
            expected: 4,
            received: 3,
            accepted: 2,
            rejected: 1,
            missing: 1,
            ..Default::default()
        },
        included: &included,
        missing: &missing,
        rejected: &rejected,
        other: &[],
    };
    render::rollup_report(templates, &d).unwrap().html
}

fn overview_html(templates: &Templates) -> String {
    let f = format("2019");
    let statuses = [
        "accepted",
        "accepted",
        "accepted_with_warnings",
        "rejected",
        "missing",
    ];
    let mut units: Vec<OverviewUnit> = (0..40)
        .map(|i| {
            let status = statuses[i % statuses.len()].to_string();
            let code = format!("{}", 200 + i);
            let name = format!("第{i}村村民委员会");
            let received = status != "missing";
            OverviewUnit {
                report: received
                    .then(|| format!("reports/{}.html", render::file_stem(&code, &name))),
                correction: (status == "rejected").then(|| format!("corrections/{code}.xlsx")),
                errors: usize::from(status == "rejected") * 3,
                warnings: usize::from(status == "accepted_with_warnings"),
                file: if received {
                    format!("回收/{name}.xlsx")
                } else {
                    String::new()
                },
                new_requests: received.then_some(((i * 7) % 23) as f64),
                last_year_new_requests: None,
                parent_code: "110".to_string(),
                parent_name: "山市镇人民政府".to_string(),
                reason: String::new(),
                level: "village".to_string(),
                code,
                name,
                status: nianbao::batch::Status::from_code(&status).unwrap(),
            }
        })
        .collect();
    units.insert(
        0,
        OverviewUnit {
            code: "110".to_string(),
            name: "山市镇人民政府".to_string(),
            parent_code: "100".to_string(),
            parent_name: "示例县人民政府".to_string(),
            reason: String::new(),
            level: "township".to_string(),
            status: nianbao::batch::Status::Accepted,
            errors: 0,
            warnings: 0,
            file: "回收/山市镇年报(1).xlsx".to_string(),
            new_requests: Some(29.0),
            last_year_new_requests: None,
            report: Some("reports/110_山市镇人民政府.html".to_string()),
            correction: None,
        },
    );
    let parents = vec![
        OverviewParent {
            code: "100".to_string(),
            name: "示例县人民政府".to_string(),
            level: "county".to_string(),
            tally: nianbao::batch::Tally {
                expected: 41,
                received: 33,
                accepted: 25,
                rejected: 8,
                missing: 8,
                ..Default::default()
            },
            rollup: Some("rollups/100_示例县人民政府.html".to_string()),
        },
        OverviewParent {
            code: "110".to_string(),
            name: "山市镇人民政府".to_string(),
            level: "township".to_string(),
            tally: nianbao::batch::Tally {
                expected: 41,
                received: 33,
                accepted: 25,
                rejected: 8,
                missing: 8,
                ..Default::default()
            },
            rollup: Some("rollups/110_山市镇人民政府.html".to_string()),
        },
    ];
    let totals = keyed(&[
        ("t3.open.total", 150.0),
        ("t3.partial.total", 20.0),
        ("t3.deny_third.total", 6.0),
        ("t3.deny_process.total", 4.0),
        ("t3.none_nohold.total", 40.0),
        ("t3.reject_repeat.total", 9.0),
        ("t3.other.total", 3.0),
    ]);
    let d = OverviewData {
        format: &f,
        year: 2020,
        units,
        parents,
        totals: &totals,
    };
    let mut html = Vec::new();
    render::overview(templates, d, &mut html).unwrap();
    String::from_utf8(html).unwrap()
}

#[test]
fn reports_render_in_a_browser() {
    let templates = Templates::builtin();
    let scratch = Scratch::new();
    let pages = [
        ("unit", unit_html(&templates)),
        ("rollup", rollup_html(&templates)),
        ("index", overview_html(&templates)),
    ];
    let files: Vec<(&str, PathBuf)> = pages
        .iter()
        .map(|(name, html)| (*name, scratch.write(&format!("{name}.html"), html)))
        .collect();
    for (_, html) in &pages {
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(!html.contains("<script"), "no JavaScript");
    }

    let Some(bin) = chromium() else {
        println!("SKIPPED: chromium not installed");
        return;
    };
    let keep = std::env::var_os("NIANBAO_SHOTS_DIR").map(PathBuf::from);
    for (name, html) in &files {
        let png = scratch.path(&format!("{name}.png"));
        let pdf = scratch.path(&format!("{name}.pdf"));
        let profile = scratch.path(&format!("profile_{name}"));
        run_chromium(
            bin,
            html,
            &format!("--screenshot={}", png.display()),
            &profile,
        );
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{name}: screenshot of {size} bytes");

        run_chromium(
            bin,
            html,
            &format!("--print-to-pdf={}", pdf.display()),
            &profile,
        );
        let bytes = std::fs::read(&pdf).expect("pdf written");
        assert!(bytes.starts_with(b"%PDF"), "{name}: not a PDF");
        let n = pdf_pages(&bytes);
        assert!(n >= 1, "{name}: PDF has {n} pages");
        println!("{name}: screenshot {size} bytes, PDF {n} pages");
        if let Some(dir) = &keep {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::copy(&png, dir.join(format!("{name}.png"))).unwrap();
            std::fs::copy(&pdf, dir.join(format!("{name}.pdf"))).unwrap();
            std::fs::copy(html, dir.join(format!("{name}.html"))).unwrap();
        }
    }
}
