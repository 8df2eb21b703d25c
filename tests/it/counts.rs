//! One truth: the terminal summary, units.csv, rollup.csv, index.html, the roll-up reports
//! (HTML and Word) and 汇总表.xlsx give the same counts for every parent of the samples' roster.

use std::collections::BTreeMap;
use std::path::Path;

use calamine::{open_workbook, Reader, Xlsx};
use nianbao::batch::{Status, Tally};
use nianbao::model::UnitCode;
use nianbao::roster::Roster;

use crate::common::*;

/// What rollup.csv says of each parent (its first row; every row repeats the counts).
fn rollup_csv(out: &Path) -> BTreeMap<String, Tally> {
    let mut by_parent = BTreeMap::new();
    for r in records(&out.join("rollup.csv")) {
        let n = |c: &str| r[c].parse::<usize>().unwrap();
        by_parent
            .entry(r["parent_code"].clone())
            .or_insert_with(|| Tally {
                expected: n("units_expected"),
                received: n("units_received"),
                accepted: n("units_included"),
                with_warnings: n("units_with_warnings"),
                rejected: n("units_rejected"),
                other: n("units_wrong_year"),
                missing: n("units_missing"),
            });
    }
    by_parent
}

/// What units.csv's statuses add up to, for each parent's subtree and for the whole.
fn units_csv(out: &Path, roster: &Roster) -> BTreeMap<String, Tally> {
    let status: BTreeMap<String, Status> = records(&out.join("units.csv"))
        .into_iter()
        .map(|r| {
            (
                r["unit_code"].clone(),
                Status::from_code(&r["status"]).unwrap(),
            )
        })
        .collect();
    let mut out = BTreeMap::new();
    let tally = |codes: &mut dyn Iterator<Item = String>| {
        let mut t = Tally::default();
        for c in codes {
            t.add(status[&c]);
        }
        t
    };
    out.insert(
        "ALL".to_string(),
        tally(&mut roster.units().iter().map(|u| u.code.to_string())),
    );
    for u in roster.units() {
        if roster.children(&u.code).is_empty() {
            continue;
        }
        let mut codes = std::iter::once(u)
            .chain(roster.descendants(&u.code))
            .map(|u| u.code.to_string());
        out.insert(u.code.to_string(), tally(&mut codes));
    }
    out
}

/// The numbers of index.html's parents table: 应报, 已报, 受理, 退回, 未报送.
fn overview_row(html: &str, code: &str) -> [usize; 5] {
    let row = html
        .split("<tr>")
        .find(|r| r.starts_with(&format!("<td>{code}</td>")) && r.contains("class=\"meter\""))
        .unwrap_or_else(|| panic!("no parents row for {code}"));
    let numbers: Vec<usize> = row
        .split("<td class=\"n\">")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

#[test]
fn every_output_gives_the_same_counts_for_every_parent() {
    let scratch = Scratch::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = scratch.path("out");
    let output = ingest_samples(2024, &out).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "units missing or rejected");
    let terminal = String::from_utf8(output.stderr).unwrap();
    let roster = Roster::load(&root.join("samples/units.csv")).unwrap();

    let from_rollup = rollup_csv(&out);
    let from_units = units_csv(&out, &roster);
    assert_eq!(from_rollup, from_units, "rollup.csv against units.csv");
    // The samples do have every kind of unit: otherwise the test proves little.
    let all = from_rollup["ALL"];
    assert!(
        all.accepted > 0 && all.rejected > 0 && all.missing > 0,
        "{all:?}"
    );
    assert_eq!(
        all.expected,
        all.accepted + all.rejected + all.other + all.missing
    );

    assert!(
        terminal.contains(&format!("名册：{}", all.sentence())),
        "terminal: {terminal}"
    );

    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let workbook = out.join("rollups/汇总表.xlsx");
    let mut xlsx: Xlsx<_> = open_workbook(&workbook).unwrap();
    let lines: Vec<String> = xlsx
        .worksheets()
        .into_iter()
        .map(|(_, range)| {
            range
                .rows()
                .nth(1)
                .map(|r| r.iter().map(|c| c.to_string()).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    let roots: Vec<&str> = roster
        .units()
        .iter()
        .filter(|u| u.parent.is_none())
        .map(|u| u.code.as_str())
        .collect();
    assert_eq!(roots.len(), 1, "the samples have one top unit");
    assert!(
        !xlsx.sheet_names().iter().any(|n| n == "全部单位合计"),
        "no copy of the top unit's sheet: {:?}",
        xlsx.sheet_names()
    );
    assert_eq!(lines.len(), from_rollup.len() - 1, "one sheet per parent");
    for (code, t) in &from_rollup {
        assert_eq!(
            overview_row(&index, code),
            [t.expected, t.received, t.accepted, t.rejected, t.missing],
            "index.html, {code}"
        );
        let name = if code == "ALL" {
            "全部单位合计".to_string()
        } else {
            roster
                .get(&UnitCode::new(code).unwrap())
                .unwrap()
                .name
                .clone()
        };
        let report =
            std::fs::read_to_string(out.join(format!("rollups/{code}_{name}.html"))).unwrap();
        assert!(report.contains(&t.sentence()), "roll-up report of {code}");
        let docx = out.join(format!("rollups/{code}_{name}.docx"));
        assert!(
            xlsx_part(&docx, "word/document.xml").contains(&t.sentence()),
            "roll-up .docx of {code}"
        );
        let list_len = |heading: &str| {
            let at = report.find(heading).unwrap_or_else(|| panic!("{heading}"));
            report[at + heading.len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        };
        assert_eq!(list_len("已计入的单位（"), t.accepted, "{code}");
        assert_eq!(list_len("未报送的单位（"), t.missing, "{code}");
        assert_eq!(list_len("被退回的单位（"), t.rejected, "{code}");
        // The roster has one top unit: the whole roster's sheet would be the same as its
        // sheet, so 汇总表.xlsx has only the latter.
        let shown = if code == "ALL" {
            roots[0]
        } else {
            code.as_str()
        };
        assert!(
            lines.iter().any(
                |l| l.starts_with(&t.sentence()) && l.contains(&format!("单位代码：{shown}；"))
            ),
            "汇总表.xlsx, {code}: {lines:?}"
        );
    }
}

#[test]
fn every_diagnostics_row_says_the_status_of_its_file() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest_samples(2024, &out).arg("--quiet").assert().code(1);
    let files: BTreeMap<String, String> = records(&out.join("files.csv"))
        .into_iter()
        .map(|r| (r["file"].clone(), r["status"].clone()))
        .collect();
    let rows = records(&out.join("diagnostics.csv"));
    for r in &rows {
        assert_eq!(r["file_status"], files[&r["file"]], "{r:?}");
    }
    // The samples' superseded file has findings of its own, and they say so.
    let superseded: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["file_status"] == "duplicate")
        .collect();
    assert!(
        !superseded.is_empty(),
        "the samples have a superseded faulty file"
    );
    assert!(superseded.iter().any(|r| r["level"] == "error"));
}
