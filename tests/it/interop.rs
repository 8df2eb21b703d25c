//! Workbooks opened and saved by a real spreadsheet program (LibreOffice, headless):
//!
//! - the template filled, saved as .xls and .ods (and re-saved as .xlsx), must check exactly
//!   like the original;
//! - the template's formulas, recalculated by LibreOffice, must show every total as the sum
//!   of its parts and the live check row of 表三 as 通过/不通过 where the numbers say so,
//!   even when the results cached in the file are wrong (so LibreOffice is seen to
//!   recalculate rather than echo what we wrote);
//! - a correction workbook must check the same after LibreOffice saves it as .xlsx, .xls and
//!   .ods, its notes kept.
//!
//! Each test skips, saying so, where LibreOffice is not installed (`.ci/run` installs it),
//! and runs LibreOffice with a private profile so that the tests can run in parallel.
//!
//! LibreOffice does not recalculate formulas of a loaded .xlsx or .ods by default
//! (“Recalculation on File Load”: Never, `OOXMLRecalcMode` = `ODFRecalcMode` = 1 in
//! 7.4), whatever the file's `fullCalcOnLoad` says: it shows the results cached in the
//! file. The recalculation tests set both to 0 (Always) in their private profile.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{open_workbook_auto, Data, Reader};
use nianbao::check::{check_file, Options};
use nianbao::format::{Format, Formats, Key};
use nianbao::layout;
use nianbao::template::correction_workbook;

use crate::common::*;

/// Runs LibreOffice headless with the profile `profile`: `--convert-to convert_to` of
/// `files` into `outdir`. Returns what it printed.
fn run_soffice(
    bin: &str,
    profile: &Path,
    convert_to: &str,
    outdir: &Path,
    files: &[&Path],
) -> String {
    std::fs::create_dir_all(outdir).unwrap();
    let out = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", convert_to, "--outdir"])
        .arg(outdir)
        .args(files)
        .output()
        .expect("run soffice");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Converts `file` with LibreOffice to `ext` in `dir`, with a private profile so tests can
/// run in parallel.
fn convert(bin: &str, file: &Path, ext: &str, dir: &Path) -> PathBuf {
    let profile = dir.join(format!("profile_{ext}"));
    run_soffice(bin, &profile, ext, dir, &[file]);
    let out = dir.join(file.with_extension(ext).file_name().unwrap());
    assert!(out.is_file(), "LibreOffice wrote no {ext}");
    out
}

#[test]
fn xls_ods_and_resaved_xlsx_check_like_the_original() {
    let Some(bin) = soffice() else {
        eprintln!("SKIPPED: LibreOffice (soffice) is not installed; .xls/.ods interop not tested");
        return;
    };
    let scratch = Scratch::new();
    let mut filled = Filled::new(2024);
    filled.values = &[
        ("t3.new.natural", 5.0),
        ("t3.open.natural", 3.0),
        ("t2.fees.fee_amount", 7730.28),
        ("t4.all.review_upheld", 2.0),
    ];
    filled.raw = &[("t3.new.business", "１２"), ("t2.rules.made", "十二")];
    let original = filled.write(&scratch, "orig.xlsx");
    let expected = summary(&findings(&original));
    assert!(
        expected.iter().any(|f| f.1 == "T3-1"),
        "the fixture has errors to compare: {expected:?}"
    );
    for (ext, dir) in [("xls", "xls"), ("ods", "ods")] {
        let out = scratch.path(dir);
        std::fs::create_dir_all(&out).unwrap();
        let converted = convert(bin, &original, ext, &out);
        let got = summary(&findings(&converted));
        assert_eq!(got, expected, "{ext}");
        // And back to .xlsx, as a clerk re-saving in LibreOffice would.
        let back_dir = scratch.path(&format!("{dir}_back"));
        std::fs::create_dir_all(&back_dir).unwrap();
        let back = convert(bin, &converted, "xlsx", &back_dir);
        assert_eq!(summary(&findings(&back)), expected, "{ext} → xlsx");
    }
}

// ── Recalculation ───────────────────────────────────────────────────────────────────

/// “Recalculation on File Load: Always” for Excel 2007+ and ODF files.
const RECALC_ALWAYS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"#;

/// A private LibreOffice profile in `dir` that recalculates every formula on load.
fn recalculating_profile(dir: &Path) -> PathBuf {
    let profile = dir.join("profile_recalc");
    let user = profile.join("user");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(user.join("registrymodifications.xcu"), RECALC_ALWAYS).unwrap();
    profile
}

/// What a sheet shows, by zero-based (row, column), as text.
type Grid = BTreeMap<(u32, u16), String>;

/// Every sheet of every file as LibreOffice shows it, via its CSV export of all sheets
/// (`<stem>-<sheet>.csv`, LibreOffice 7.2 and later). `None` where LibreOffice wrote no
/// such files (older versions export the first sheet only).
fn csv_grids(
    bin: &str,
    profile: &Path,
    files: &[&Path],
    outdir: &Path,
    sheets: &[&str],
) -> Option<Vec<BTreeMap<String, Grid>>> {
    // Comma, double quote, UTF-8, from line 1, …, formulas not exported, every sheet (-1).
    const CSV: &str =
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
    run_soffice(bin, profile, CSV, outdir, files);
    let mut out = Vec::new();
    for file in files {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let mut grids = BTreeMap::new();
        for sheet in sheets {
            let path = outdir.join(format!("{stem}-{sheet}.csv"));
            if !path.is_file() {
                return None;
            }
            let mut grid = Grid::new();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(&path)
                .unwrap();
            for (r, record) in reader.records().enumerate() {
                for (c, field) in record.unwrap().iter().enumerate() {
                    if !field.is_empty() {
                        grid.insert((r as u32, c as u16), field.to_string());
                    }
                }
            }
            grids.insert(sheet.to_string(), grid);
        }
        out.push(grids);
    }
    Some(out)
}

/// Every sheet named of a workbook as the results cached in it (what LibreOffice stored
/// when it saved the file).
fn cached_grids(path: &Path, sheets: &[&str]) -> BTreeMap<String, Grid> {
    let mut wb = open_workbook_auto(path).unwrap();
    sheets
        .iter()
        .map(|sheet| {
            let range = wb.worksheet_range(sheet).unwrap();
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let grid = range
                .used_cells()
                .filter_map(|(r, c, v)| {
                    let text = match v {
                        Data::Empty => return None,
                        Data::Float(x) => format!("{x}"),
                        other => other.to_string(),
                    };
                    Some(((r as u32 + r0, (c as u32 + c0) as u16), text))
                })
                .collect();
            (sheet.to_string(), grid)
        })
        .collect()
}

/// Every value of `inputs` with the totals computed from their parts.
fn with_totals(format: &Format, inputs: &BTreeMap<Key, f64>) -> BTreeMap<Key, f64> {
    let mut values = inputs.clone();
    format.fill_totals(&mut values, None);
    values
}

/// A different value in every input cell of `format`'s tables (totals left to the
/// formulas), with 表三's “一、本年新收” set so that every column passes the live check.
fn balanced(format: &Format) -> BTreeMap<Key, f64> {
    let totals = format.totals();
    let mut inputs: BTreeMap<Key, f64> = format
        .cells()
        .map(|c| c.key)
        .filter(|k| !totals.contains_key(k))
        .enumerate()
        .map(|(i, k)| (k, (i + 1) as f64))
        .collect();
    for table in &format.tables {
        for live in &layout::plan_table(format, table).live_checks {
            for (_, check) in &live.checks {
                // A column of totals balances when the columns it adds up do.
                let first = &check.lhs[0].key;
                if totals.contains_key(first) {
                    continue;
                }
                let values = with_totals(format, &inputs);
                let sum = |terms: &[nianbao::format::Term]| -> f64 {
                    terms.iter().map(|t| values[&t.key]).sum()
                };
                let new = inputs[first] + sum(&check.rhs) - sum(&check.lhs);
                assert!(new >= 0.0, "{first} would be {new}");
                inputs.insert(first.clone(), new);
            }
        }
    }
    inputs
}

/// The value the results cached in a wrong-caches workbook show for every total.
const WRONG_TOTAL: &str = "-7777";

/// Rewrites the xlsx `src` as `dst` with every formula's cached result wrong: numbers
/// become [`WRONG_TOTAL`], 通过 and 不通过 swap. Returns how many results it rewrote.
fn with_wrong_caches(src: &Path, dst: &Path) -> usize {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut rewritten = 0;
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name.starts_with("xl/worksheets/sheet") && name.ends_with(".xml") {
            let xml = String::from_utf8(bytes).unwrap();
            const AT: &str = "</f><v>";
            let mut out = String::with_capacity(xml.len());
            let mut rest = xml.as_str();
            while let Some(at) = rest.find(AT) {
                let (head, tail) = rest.split_at(at + AT.len());
                out.push_str(head);
                let end = tail.find("</v>").unwrap();
                out.push_str(match &tail[..end] {
                    "通过" => "不通过",
                    "不通过" => "通过",
                    _ => WRONG_TOTAL,
                });
                rewritten += 1;
                rest = &tail[end..];
            }
            out.push_str(rest);
            bytes = out.into_bytes();
        }
        zout.start_file(name, options).unwrap();
        zout.write_all(&bytes).unwrap();
    }
    zout.finish().unwrap();
    rewritten
}

/// One filled template of a recalculation test.
struct Case {
    name: &'static str,
    inputs: BTreeMap<Key, f64>,
    /// The 表三 columns whose live check must read 不通过, by key of their first term.
    failing: BTreeSet<Key>,
    wrong_caches: bool,
}

/// Checks that `grids` (one workbook, as LibreOffice shows or saved it) show the values of
/// `case`: every cell of every table, each total the sum of its parts as shown, and each
/// live check 通过 or 不通过 as the numbers say, 不通过 exactly in `case.failing`.
fn assert_recalculated(format: &Format, case: &Case, grids: &BTreeMap<String, Grid>, what: &str) {
    let values = with_totals(format, &case.inputs);
    let mut failing = BTreeSet::new();
    for table in &format.tables {
        let grid = &grids[&table.sheet];
        let plan = layout::plan_table(format, table);
        let shown = |key: &Key| -> f64 {
            let at = plan.cells[key];
            let text = grid
                .get(&(at.row, at.col))
                .unwrap_or_else(|| panic!("{what}: {key} ({at}) is empty"));
            text.parse()
                .unwrap_or_else(|_| panic!("{what}: {key} ({at}) shows {text:?}"))
        };
        for (key, at) in &plan.cells {
            let got = shown(key);
            assert!(
                (got - values[key]).abs() < 1e-6,
                "{what}: {key} ({at}) shows {got}, should be {}",
                values[key]
            );
            if let Some(parts) = format.totals().get(key) {
                let sum: f64 = parts.iter().map(&shown).sum();
                assert!(
                    (got - sum).abs() < 1e-6,
                    "{what}: total {key} ({at}) shows {got}, its parts add up to {sum}"
                );
            }
        }
        for live in &plan.live_checks {
            for (col, check) in &live.checks {
                let sum = |terms: &[nianbao::format::Term]| -> f64 {
                    terms.iter().map(|t| values[&t.key]).sum()
                };
                let passes = check.op.holds(sum(&check.lhs), sum(&check.rhs));
                if !passes {
                    failing.insert(check.lhs[0].key.clone());
                }
                let want = if passes { "通过" } else { "不通过" };
                let at = nianbao::cell::CellRef::new(live.row, *col);
                let got = grid.get(&(live.row, *col)).map(String::as_str);
                assert_eq!(got, Some(want), "{what}: live check {at} ({})", check.scope);
            }
        }
    }
    assert_eq!(failing, case.failing, "{what}: the columns that fail");
}

/// Templates of `year` filled balanced and with one column of 表三 broken, each once with
/// the results we cache and once with every cached result wrong, shown by LibreOffice
/// (CSV) and saved by it (.xlsx) with recalculation on load: every total and live check
/// as the numbers say. The saved .xlsx checks like the template we wrote.
fn recalculates(year: i32) {
    let Some(bin) = soffice() else {
        eprintln!("SKIPPED: LibreOffice (soffice) is not installed; recalculation not tested");
        return;
    };
    let formats = Formats::builtin();
    let format = formats.for_year(year).unwrap();
    let scratch = Scratch::new();
    let t3 = format.table("t3").unwrap();
    let plan = layout::plan_table(format, t3);
    let live: Vec<&nianbao::format::Check> = plan
        .live_checks
        .iter()
        .flat_map(|l| l.checks.iter().map(|(_, c)| c))
        .collect();
    assert!(live.len() > 2, "{year}: 表三 has live checks");

    let ok = balanced(format);
    // One column broken (one more new request than handled): it and the total column fail.
    let broken = live[1].lhs[0].key.clone();
    let total_col = live
        .iter()
        .map(|c| c.lhs[0].key.clone())
        .find(|k| format.totals().contains_key(k))
        .expect("a total column");
    let mut bad = ok.clone();
    *bad.get_mut(&broken).unwrap() += 1.0;
    let cases = [
        (false, "balanced"),
        (false, "broken"),
        (true, "balanced_wrong_caches"),
        (true, "broken_wrong_caches"),
    ]
    .map(|(wrong_caches, name)| {
        let is_broken = name.starts_with("broken");
        Case {
            name,
            inputs: if is_broken { bad.clone() } else { ok.clone() },
            failing: if is_broken {
                BTreeSet::from([broken.clone(), total_col.clone()])
            } else {
                BTreeSet::new()
            },
            wrong_caches,
        }
    });

    let live_cells: usize = format
        .tables
        .iter()
        .flat_map(|t| layout::plan_table(format, t).live_checks)
        .map(|l| l.checks.len())
        .sum();
    let mut files = Vec::new();
    for case in &cases {
        let pairs: Vec<(&str, f64)> = case.inputs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let mut filled = Filled::new(year);
        filled.values = &pairs;
        let honest = filled.write(&scratch, &format!("ours/{}.xlsx", case.name));
        let path = if case.wrong_caches {
            let path = scratch.path(&format!("{}.xlsx", case.name));
            let rewritten = with_wrong_caches(&honest, &path);
            assert_eq!(
                rewritten,
                format.totals().len() + live_cells,
                "{}",
                case.name
            );
            // A reader that does not recalculate sees the wrong results.
            let (key, at) = plan
                .cells
                .iter()
                .find(|(k, _)| format.totals().contains_key(*k))
                .unwrap();
            assert_eq!(
                cell_text(&path, &t3.sheet, &at.to_string()),
                WRONG_TOTAL,
                "{key}"
            );
            path
        } else {
            honest.clone()
        };
        files.push((honest, path));
    }
    let inputs: Vec<&Path> = files.iter().map(|(_, p)| p.as_path()).collect();
    let sheets: Vec<&str> = format.tables.iter().map(|t| t.sheet.as_str()).collect();
    let profile = recalculating_profile(scratch.dir.path());

    // As LibreOffice shows them.
    match csv_grids(bin, &profile, &inputs, &scratch.path("csv"), &sheets) {
        Some(shown) => {
            for (case, grids) in cases.iter().zip(&shown) {
                assert_recalculated(format, case, grids, &format!("{year} {} (CSV)", case.name));
            }
        }
        None => eprintln!(
            "NOTE: this LibreOffice exports only the first sheet to CSV (7.2 and later export \
             every sheet); checked the saved .xlsx only"
        ),
    }

    // As LibreOffice saves them; and checked like the workbook we wrote.
    let saved_dir = scratch.path("saved");
    run_soffice(bin, &profile, "xlsx", &saved_dir, &inputs);
    for (case, (honest, path)) in cases.iter().zip(&files) {
        let saved = saved_dir.join(path.file_name().unwrap());
        let what = format!("{year} {} (saved .xlsx)", case.name);
        assert_recalculated(format, case, &cached_grids(&saved, &sheets), &what);
        let ours = summary(&findings(honest));
        assert_eq!(summary(&findings(&saved)), ours, "{what}");
        // T3-1 is reported for the broken column of applicants, not for their total.
        let t3_1: Vec<&str> = ours
            .iter()
            .filter(|f| f.1 == "T3-1")
            .map(|f| f.2.as_str())
            .collect();
        if case.failing.is_empty() {
            assert_eq!(t3_1, [] as [&str; 0], "{what}");
        } else {
            let first = format!("{}+", plan.cells[&broken]);
            assert!(
                t3_1.len() == 1 && t3_1[0].starts_with(&first),
                "{what}: {ours:?}"
            );
        }
        if case.wrong_caches {
            // Checked as we wrote it, the wrong results are totals typed over.
            let as_written = summary(&findings(path));
            assert_ne!(as_written, ours, "{what}");
        }
    }
}

#[test]
fn libreoffice_recalculates_2019_format_templates() {
    recalculates(2020);
}

#[test]
fn libreoffice_recalculates_2021_format_templates() {
    recalculates(2024);
}

// ── Correction workbooks ────────────────────────────────────────────────────────────

/// Text with markup and whitespace removed and the XML escapes undone, to compare a note
/// as two programs wrote it (runs, paragraphs and line breaks differ).
fn plain_text(xml: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in xml.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#10;", "")
        .replace("&amp;", "&")
}

/// Every note of an xlsx as `(cell, text)`, from all its comments parts.
fn xlsx_notes(path: &Path) -> BTreeSet<(String, String)> {
    let zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let parts: Vec<String> = zip
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .filter(|n| n.starts_with("xl/comments") && n.ends_with(".xml"))
        .collect();
    let mut out = BTreeSet::new();
    for part in parts {
        let xml = xlsx_part(path, &part);
        for comment in xml.split("<comment ref=\"").skip(1) {
            let cell = comment[..comment.find('"').unwrap()].to_string();
            // The note's text only: LibreOffice also writes the note's shape anchor
            // (column and row numbers) inside <comment>, outside <text>.
            let comment = &comment[..comment.find("</comment>").unwrap_or(comment.len())];
            let open = comment.find("<text>").map_or(0, |i| i + "<text>".len());
            let close = comment.find("</text>").unwrap_or(comment.len());
            let body = &comment[open..close];
            out.insert((cell, plain_text(body)));
        }
    }
    out
}

#[test]
fn correction_workbook_survives_libreoffice() {
    let Some(bin) = soffice() else {
        eprintln!(
            "SKIPPED: LibreOffice (soffice) is not installed; correction workbooks not tested"
        );
        return;
    };
    let scratch = Scratch::new();
    // A township that broke T3-1 in the 自然人 column, typed “十二” for a number, and
    // published more rules than it has (a warning).
    let mut filled = Filled::new(2020);
    filled.values = &[
        ("t3.new.natural", 5.0),
        ("t3.open.natural", 3.0),
        ("t4.all.review_upheld", 1.0),
        ("t2.rules.published", 3.0),
    ];
    filled.raw = &[("t2.rules.made", "十二")];
    let returned = filled.write(&scratch, "山市镇年报.xlsx");
    let formats = Formats::builtin();
    let sub = check_file(&returned, "山市镇年报.xlsx", &formats, Options::default());
    let format = formats.for_year(2020).unwrap();
    let bytes = correction_workbook(
        format,
        2020,
        &township(),
        &sub.returned(),
        "山市镇年报.xlsx",
    )
    .unwrap();
    let correction = scratch.write("退回_山市镇.xlsx", bytes);

    let expected = summary(&findings(&correction));
    let rules: BTreeSet<&str> = expected.iter().map(|f| f.1.as_str()).collect();
    for rule in ["T3-1", "V-1", "T2-2"] {
        assert!(rules.contains(rule), "{rule} in {expected:?}");
    }
    let notes = xlsx_notes(&correction);
    assert!(notes.len() >= 3, "{notes:?}");

    for ext in ["xlsx", "xls", "ods"] {
        let dir = scratch.path(&format!("lo_{ext}"));
        let saved = convert(bin, &correction, ext, &dir);
        assert_eq!(summary(&findings(&saved)), expected, "{ext}");
        let notes_kept = match ext {
            "xlsx" => xlsx_notes(&saved),
            // Back to .xlsx to read them: LibreOffice keeps them through both.
            "xls" => {
                let back = convert(bin, &saved, "xlsx", &scratch.path("lo_xls_back"));
                assert_eq!(summary(&findings(&back)), expected, "xls → xlsx");
                xlsx_notes(&back)
            }
            _ => {
                // Annotations in content.xml, not tied to cells here: by text.
                let content = plain_text(&xlsx_part(&saved, "content.xml"));
                for (cell, text) in &notes {
                    assert!(
                        content.contains(text.as_str()),
                        "ods: note on {cell}: {text}"
                    );
                }
                continue;
            }
        };
        assert_eq!(notes_kept, notes, "{ext}");
    }
}
