//! Through the hierarchy, downwards: `template --by-parent` (a folder or zip per parent
//! unit with its own distribution list), `--deadline`/`--contact` (cover, identity, and
//! the information D-1 at ingest for a return saved late); and for the coordinator
//! without a terminal habit: `ingest DIR` finding its roster and writing beside DIR, and
//! `nianbao DIR`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use nianbao::format::Formats;
use nianbao::identity::{Deadline, Handback};
use nianbao::template::{workbook_bytes_handed, Prefill};

use crate::common::*;

/// A county roster with contact columns: the county, a township with two villages, a
/// department.
const COUNTY: &str = "code,name,parent_code,level,联系人,电话
100,示例县人民政府,,county,政务公开办,0453-1000000
110,山市镇人民政府,100,township,党政办,0453-1100000
111,山市村村民委员会,110,village,王会计,0453-1110000
112,东兴村村民委员会,110,village,,
120,示例县教育局,100,department,办公室,0453-1200000
";

fn template(scratch: &Scratch, out: &str, extra: &[&str]) -> PathBuf {
    let roster = scratch.write("county.csv", COUNTY);
    let out = scratch.path(out);
    nianbao()
        .args(["template", "--year", "2024", "--units"])
        .arg(&roster)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn by_parent_gives_each_parent_a_folder_of_its_childrens_templates_and_list() {
    let scratch = Scratch::new();
    let out = template(&scratch, "out", &["--by-parent"]);
    // The county has no parent: its own template stays at the top, beside the list of
    // every unit and the blank template.
    assert_eq!(
        names(&out),
        [
            "100_示例县人民政府",
            "100_示例县人民政府_2024.xlsx",
            "110_山市镇人民政府",
            "分发清单.csv",
            "分发清单.xlsx",
            "空白模板_2024.xlsx"
        ]
    );
    assert_eq!(
        names(&out.join("110_山市镇人民政府")),
        [
            "111_山市村村民委员会_2024.xlsx",
            "112_东兴村村民委员会_2024.xlsx",
            "分发清单.csv",
            "分发清单.xlsx"
        ]
    );
    // Direct children only: the villages are not in the county's folder.
    assert_eq!(
        names(&out.join("100_示例县人民政府")),
        [
            "110_山市镇人民政府_2024.xlsx",
            "120_示例县教育局_2024.xlsx",
            "分发清单.csv",
            "分发清单.xlsx"
        ]
    );
    let list = records(&out.join("110_山市镇人民政府/分发清单.csv"));
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["unit_code"], "111");
    assert_eq!(list[0]["联系人"], "王会计");
    assert_eq!(list[0]["电话"], "0453-1110000");
    assert_eq!(list[1]["联系人"], "");
    // The list at the top says where each template went.
    let top = records(&out.join("分发清单.csv"));
    let package: Vec<(&str, &str)> = top
        .iter()
        .map(|r| (r["unit_code"].as_str(), r["package"].as_str()))
        .collect();
    assert_eq!(
        package,
        [
            ("100", ""),
            ("110", "100_示例县人民政府/"),
            ("111", "110_山市镇人民政府/"),
            ("112", "110_山市镇人民政府/"),
            ("120", "100_示例县人民政府/")
        ]
    );
    // The workbook list says the same as the CSV, codes as text.
    let xlsx = dump_sheet(&out.join("110_山市镇人民政府/分发清单.xlsx"), "分发清单");
    assert!(
        xlsx.contains(&("A2".to_string(), "111".to_string())),
        "{xlsx:?}"
    );
    assert!(
        xlsx.contains(&("F2".to_string(), "王会计".to_string())),
        "{xlsx:?}"
    );

    let all = template(&scratch, "all", &["--by-parent", "--depth", "all"]);
    assert_eq!(
        names(&all.join("100_示例县人民政府")),
        [
            "110_山市镇人民政府_2024.xlsx",
            "111_山市村村民委员会_2024.xlsx",
            "112_东兴村村民委员会_2024.xlsx",
            "120_示例县教育局_2024.xlsx",
            "分发清单.csv",
            "分发清单.xlsx"
        ]
    );
    // Each unit is listed once at the top, in its own parent's folder.
    let top = records(&all.join("分发清单.csv"));
    let package: Vec<(&str, &str)> = top
        .iter()
        .map(|r| (r["unit_code"].as_str(), r["package"].as_str()))
        .collect();
    assert_eq!(package[2], ("111", "110_山市镇人民政府/"));
    assert_eq!(package.len(), 5);
    assert_eq!(
        records(&all.join("100_示例县人民政府/分发清单.csv")).len(),
        4
    );
}

/// The general-purpose flags of every local file header of a zip.
fn local_flags(bytes: &[u8]) -> Vec<u16> {
    let mut flags = Vec::new();
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(4).position(|w| w == b"PK\x03\x04") {
        let start = at + i;
        flags.push(u16::from_le_bytes([bytes[start + 6], bytes[start + 7]]));
        at = start + 4;
    }
    flags
}

#[test]
fn by_parent_zips_flag_utf8_names_and_are_the_same_on_rerun() {
    let scratch = Scratch::new();
    let out = template(&scratch, "out", &["--by-parent", "--zip"]);
    assert_eq!(
        names(&out),
        [
            "100_示例县人民政府.zip",
            "100_示例县人民政府_2024.xlsx",
            "110_山市镇人民政府.zip",
            "分发清单.csv",
            "分发清单.xlsx",
            "空白模板_2024.xlsx"
        ]
    );
    let zip = out.join("110_山市镇人民政府.zip");
    let bytes = std::fs::read(&zip).unwrap();
    let parts: Vec<String> = unzip(&bytes).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        parts,
        [
            "111_山市村村民委员会_2024.xlsx",
            "112_东兴村村民委员会_2024.xlsx",
            "分发清单.csv",
            "分发清单.xlsx"
        ]
    );
    let flags = local_flags(&bytes);
    assert_eq!(flags.len(), 4);
    assert!(flags.iter().all(|f| f & 0x0800 != 0), "{flags:?}");
    // Another program reads the names as UTF-8 by the flag.
    match std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys,zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, i.flag_bits & 0x800)")
        .arg(&zip)
        .output()
    {
        Ok(py) if py.status.success() => {
            let listed = String::from_utf8(py.stdout).unwrap();
            assert!(listed.contains("111_山市村村民委员会_2024.xlsx 2048"), "{listed}");
            assert!(listed.contains("分发清单.csv 2048"), "{listed}");
        }
        _ => eprintln!("python3 not available: zip names checked with the zip crate only"),
    }
    let again = template(&scratch, "again", &["--by-parent", "--zip"]);
    for name in names(&out) {
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            std::fs::read(again.join(&name)).unwrap(),
            "{name} differs between two runs"
        );
    }
}

#[test]
fn deadline_and_contact_are_on_the_cover_in_the_instructions_and_in_the_identity() {
    let scratch = Scratch::new();
    let out = template(
        &scratch,
        "out",
        &[
            "--deadline",
            "2025-01-20",
            "--contact",
            "县政务公开办 0453-0000000",
        ],
    );
    let file = out.join("110_山市镇人民政府_2024.xlsx");
    let sentence = "请于 2025 年 1 月 20 日前交回本表，联系：县政务公开办 0453-0000000。";
    let cover = dump_sheet(&file, "封面");
    assert!(cover.iter().any(|(_, t)| t == sentence), "{cover:?}");
    assert!(
        cover.iter().any(|(_, t)| t == &format!("6. {sentence}")),
        "{cover:?}"
    );
    let id = dump_sheet(&file, nianbao::identity::SHEET);
    let value = |key: &str| {
        let row = id.iter().find(|(a1, t)| a1.starts_with('A') && t == key);
        let row = row.unwrap_or_else(|| panic!("{key}: {id:?}")).0[1..].to_string();
        id.iter()
            .find(|(a1, _)| *a1 == format!("B{row}"))
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("deadline"), "2025-01-20");
    assert_eq!(value("contact"), "县政务公开办 0453-0000000");
    // A bad date is refused before anything is written.
    let roster = scratch.write("county.csv", COUNTY);
    let bad = nianbao()
        .args([
            "template",
            "--year",
            "2024",
            "--deadline",
            "2025-02-30",
            "--units",
        ])
        .arg(&roster)
        .arg("--out")
        .arg(scratch.path("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(!scratch.path("bad").exists());
}

/// The township's filled return from a template with a deadline, as if saved at `saved`
/// (docProps/core.xml's dcterms:modified, which Excel sets on every save).
fn return_saved_at(scratch: &Scratch, name: &str, saved: &str) -> PathBuf {
    let formats = Formats::builtin();
    let format = formats.for_year(2024).unwrap();
    let mut prefill = Prefill::default();
    for (k, v) in TEXTS {
        prefill.texts.insert(k.to_string(), v.to_string());
    }
    for (k, v) in CONTACT {
        prefill.cover.insert(k.to_string(), v.to_string());
    }
    let handback = Handback {
        deadline: Deadline::parse("2025-01-20"),
        contact: "县政务公开办 0453-0000000".into(),
    };
    let bytes = workbook_bytes_handed(format, 2024, &township(), &prefill, &handback).unwrap();
    let parts: Vec<(String, Vec<u8>)> = unzip(&bytes)
        .into_iter()
        .map(|(n, data)| {
            if n != "docProps/core.xml" {
                return (n, data);
            }
            let xml = String::from_utf8(data).unwrap();
            let start = xml.find("<dcterms:modified").unwrap();
            let end = xml.find("</dcterms:modified>").unwrap() + "</dcterms:modified>".len();
            let stamp =
                format!("<dcterms:modified xsi:type=\"dcterms:W3CDTF\">{saved}</dcterms:modified>");
            (
                n,
                format!("{}{stamp}{}", &xml[..start], &xml[end..]).into_bytes(),
            )
        })
        .collect();
    scratch.write(name, rezip(&parts))
}

#[test]
fn a_return_saved_after_the_deadline_is_information_and_keeps_its_status() {
    let scratch = Scratch::new();
    let roster = scratch.write("units.csv", ROSTER);
    let mut statuses = Vec::new();
    for (dir, saved, late) in [
        ("on_time", "2025-01-20T15:00:00Z", false),
        ("late", "2025-01-22T02:30:00Z", true),
    ] {
        return_saved_at(&scratch, &format!("{dir}/山市镇.xlsx"), saved);
        let out = scratch.path(&format!("{dir}-out"));
        let run = nianbao()
            .arg("ingest")
            .arg(scratch.path(dir))
            .arg("--units")
            .arg(&roster)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        let units = records(&out.join("units.csv"));
        let unit = units.iter().find(|u| u["unit_code"] == "110").unwrap();
        statuses.push((
            unit["status"].clone(),
            unit["errors"].clone(),
            unit["warnings"].clone(),
        ));
        let diagnostics = records(&out.join("diagnostics.csv"));
        let d1: Vec<_> = diagnostics.iter().filter(|d| d["rule"] == "D-1").collect();
        assert_eq!(d1.len(), usize::from(late), "{dir}: {diagnostics:?}");
        if late {
            assert_eq!(d1[0]["level"], "info");
            assert_eq!(d1[0]["file_status"], "accepted");
            assert!(d1[0]["message"].contains("2025-01-22 10:30"), "{:?}", d1[0]);
            assert!(
                d1[0]["message"].contains("2025 年 1 月 20 日"),
                "{:?}",
                d1[0]
            );
            assert!(stderr.contains("保存时间晚于交回期限"), "{stderr}");
            assert!(stderr.contains("山市镇人民政府"), "{stderr}");
            // `check` shows it too, as information, and still passes the file.
            let (code, text) = check(&[&scratch.path("late/山市镇.xlsx")], &[]);
            assert_eq!(code, 0, "{text}");
            assert!(text.contains("信息 D-1"), "{text}");
        } else {
            assert!(!stderr.contains("交回期限"), "{stderr}");
        }
    }
    assert_eq!(statuses[0], statuses[1]);
    assert_eq!(statuses[0].0, "accepted");
}

/// A folder of returns as a coordinator leaves it: the returns and the roster.
fn returns_with_roster(scratch: &Scratch, roster_name: &str) -> PathBuf {
    let dir = scratch.path("回收");
    std::fs::create_dir_all(&dir).unwrap();
    Filled::new(2024).write(scratch, "回收/山市镇.xlsx");
    match roster_name {
        "名册.xlsx" => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            for (r, line) in ROSTER.trim_start_matches('\u{feff}').lines().enumerate() {
                for (c, cell) in line.split(',').enumerate() {
                    ws.write_string(r as u32, c as u16, cell).unwrap();
                }
            }
            wb.save(dir.join(roster_name)).unwrap();
        }
        name => {
            scratch.write(&format!("回收/{name}"), ROSTER);
        }
    }
    dir
}

#[test]
fn ingest_dir_finds_its_roster_and_writes_beside_it() {
    for roster_name in ["名册.csv", "units.csv", "名册.xlsx"] {
        let scratch = Scratch::new();
        let dir = returns_with_roster(&scratch, roster_name);
        let run = nianbao()
            .current_dir(scratch.dir.path())
            .args(["ingest", "回收"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        // The roster was used: the other units of the roster are missing (exit 1).
        assert_eq!(run.status.code(), Some(1), "{roster_name}: {stderr}");
        assert!(
            stderr.contains(&format!("单位名册：回收/{roster_name}")),
            "{stderr}"
        );
        assert!(
            stderr.contains("输出目录（未给出 --out）：回收-汇总"),
            "{stderr}"
        );
        let out = scratch.path("回收-汇总");
        let files = records(&out.join("files.csv"));
        let roster = files
            .iter()
            .find(|f| f["file"].ends_with(roster_name))
            .unwrap_or_else(|| panic!("{files:?}"));
        assert_eq!(roster["status"], "skipped", "{roster:?}");
        assert!(roster["reason"].contains("单位名册"), "{roster:?}");
        let units = records(&out.join("units.csv"));
        assert_eq!(units.len(), 5, "{units:?}");
        assert!(units
            .iter()
            .any(|u| u["unit_code"] == "110" && u["status"] == "accepted"));
        assert!(out.join("roster.csv").is_file());
        drop(dir);
    }
}

#[test]
fn ingest_of_several_inputs_still_needs_out() {
    let scratch = Scratch::new();
    let a = Filled::new(2024).write(&scratch, "a/x.xlsx");
    let run = nianbao()
        .arg("ingest")
        .arg(&a)
        .arg(scratch.path("a"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--out"));
}

#[test]
fn a_dropped_folder_is_ingested_and_does_not_wait_without_a_terminal() {
    let scratch = Scratch::new();
    returns_with_roster(&scratch, "名册.csv");
    // As Explorer starts it: the folder as the only argument. Here stdin is not a
    // terminal, so it must end on its own.
    let run = std::process::Command::new(assert_cmd::cargo::cargo_bin("nianbao"))
        .current_dir(scratch.dir.path())
        .arg("回收")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(scratch.path("回收-汇总/units.csv").is_file(), "{stderr}");
    assert!(stderr.contains("单位名册：回收/名册.csv"), "{stderr}");
    // A command's name is still the command, and help still works.
    std::fs::create_dir_all(scratch.path("formats")).unwrap();
    let formats = nianbao()
        .current_dir(scratch.dir.path())
        .arg("formats")
        .output()
        .unwrap();
    assert_eq!(formats.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&formats.stdout).contains("2021"));
    let help = nianbao().arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("ingest"));
}

/// A second `template --by-parent` into the same folder after the roster lost a township:
/// the township's old folder (and a unit's old workbook at the top) is named on stderr
/// as not made by this run, and left in place; a rerun with the same roster says nothing.
#[test]
fn templates_left_by_an_earlier_roster_are_named_not_removed() {
    let scratch = Scratch::new();
    // `template --by-parent [extra]` of `roster` into `out`; its stderr.
    let run = |roster: &str, out: &Path, extra: &[&str]| {
        let roster = scratch.write("now.csv", roster);
        let run = nianbao()
            .args(["template", "--year", "2024", "--by-parent", "--units"])
            .arg(&roster)
            .arg("--out")
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        assert!(run.status.success(), "{run:?}");
        String::from_utf8_lossy(&run.stderr).into_owned()
    };
    let out = scratch.path("out");
    run(COUNTY, &out, &[]);
    assert!(!run(COUNTY, &out, &[]).contains("不是本次生成"));
    // The township and its villages gone; the department renamed.
    let smaller = "code,name,parent_code,level\n100,示例县人民政府,,county\n121,示例县财政局,100,department\n";
    let stderr = run(smaller, &out, &[]);
    assert!(
        stderr.contains("不是本次生成") && stderr.contains("110_山市镇人民政府/"),
        "{stderr}"
    );
    assert!(out.join("110_山市镇人民政府").is_dir(), "left in place");
    // Inside the county's folder, written again: the department's old workbook.
    assert!(
        stderr.contains("100_示例县人民政府/120_示例县教育局_2024.xlsx"),
        "{stderr}"
    );
    let zipped = scratch.path("zipped");
    run(COUNTY, &zipped, &["--zip"]);
    let stderr = run(smaller, &zipped, &["--zip"]);
    assert!(stderr.contains("110_山市镇人民政府.zip"), "{stderr}");
}

/// `fill` takes `--deadline`/`--contact` as `template` does (workbooks sent out
/// prefilled): the same sentence on the cover, the same identity fields.
#[test]
fn filled_workbooks_carry_the_deadline_and_contact_too() {
    let scratch = Scratch::new();
    let roster = scratch.write("county.csv", COUNTY);
    let values = scratch.write("v.csv", "unit_code,field,value\n111,t3.new.natural,3\n");
    let out = scratch.path("filled");
    nianbao()
        .args(["fill", "--year", "2024", "--units"])
        .arg(&roster)
        .arg("--values")
        .arg(&values)
        .arg("--out")
        .arg(&out)
        .args([
            "--deadline",
            "2025-01-20",
            "--contact",
            "镇党政办 0453-1100000",
        ])
        .assert()
        .success();
    let file = out.join("111_山市村村民委员会_2024.xlsx");
    let sentence = "请于 2025 年 1 月 20 日前交回本表，联系：镇党政办 0453-1100000。";
    let cover = dump_sheet(&file, "封面");
    assert!(cover.iter().any(|(_, t)| t == sentence), "{cover:?}");
    let id = dump_sheet(&file, nianbao::identity::SHEET);
    assert!(
        id.windows(2)
            .any(|w| w[0].1 == "deadline" && w[1].1 == "2025-01-20"),
        "{id:?}"
    );
}
