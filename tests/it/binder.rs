//! The volumes of a parent (年报汇编, 文字汇编) and `--pdf`, from the 2024 samples:
//!
//! - the 年报汇编 of 山市镇 holds the roll-up and then every accepted unit's report of
//!   its subtree (its villages) in roster order (a county's binds its townships' and
//!   departments' reports, not their villages'), each title starting a new page and listed in the table
//!   of contents (the `.docx` and the `.html`); LibreOffice converts it to pages;
//! - the 文字汇编 holds each of those units' 一、总体情况 text (from sections.csv);
//! - no `.md` without `--markdown`; `--pdf` puts a PDF beside every `.docx`;
//! - the volumes come out byte for byte the same on a second run, and from `report`.
//!
//! The LibreOffice parts print `SKIPPED` where `soffice` is not installed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{ingest_samples, nianbao, soffice, Scratch};

const TOWNSHIP: &str = "231083102000_山市镇人民政府";

fn ingest(out: &Path, extra: &[&str]) {
    ingest_samples(2024, out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .code(1); // 治山村 is sent back, 红旗村 has not reported
}

/// The township and its accepted units, in roster order, with the names the reports
/// carry: from the run's units.csv (written in roster order).
fn accepted_of_township(out: &Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(out.join("units.csv")).unwrap();
    let code = TOWNSHIP.split('_').next().unwrap();
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[0] == code || &r[2] == code)
        .filter(|r| r[4].starts_with("accepted"))
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect()
}

fn part(docx: &Path, name: &str) -> String {
    let bytes = std::fs::read(docx).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = zip.by_name(name).unwrap();
    let mut s = String::new();
    part.read_to_string(&mut s).unwrap();
    s
}

/// Where each of `needles` occurs in `hay`, in order; panics when one is missing.
fn positions(hay: &str, needles: &[String]) -> Vec<usize> {
    let mut from = 0;
    needles
        .iter()
        .map(|n| match hay[from..].find(n.as_str()) {
            Some(at) => {
                from += at + n.len();
                from - n.len()
            }
            None => panic!("{n:?} missing or out of order"),
        })
        .collect()
}

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

#[test]
fn the_county_volume_binds_its_townships_and_departments_not_their_villages() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest(&out, &[]);
    let county = "231083000000_海林市人民政府";
    let title = |name: &str| format!("{name}2024年政府信息公开工作年度报告");
    for ext in ["html", "docx"] {
        let path = out.join(format!("rollups/{county}_年报汇编.{ext}"));
        let text = if ext == "html" {
            std::fs::read_to_string(&path).unwrap()
        } else {
            part(&path, "word/document.xml").replace(
                "</w:t></w:r><w:r><w:br/></w:r><w:r><w:t xml:space=\"preserve\">",
                "",
            )
        };
        for direct in [
            "海林市人民政府",
            "山市镇人民政府",
            "柴河镇人民政府",
            "海林市教育局",
        ] {
            assert!(text.contains(&title(direct)), "{ext}: {direct} missing");
        }
        // Villages are bound into their township's volume only.
        for village in ["山市村村民委员会", "柴河村村民委员会"] {
            assert!(!text.contains(&title(village)), "{ext}: {village} bound");
        }
    }
    // The county's cover says where the other accepted reports are (18 in all).
    let html =
        std::fs::read_to_string(out.join(format!("rollups/{county}_年报汇编.html"))).unwrap();
    assert!(html.contains("收入汇总表和 6 个单位的年度报告；所属单位的下级另有 12 份报告"));
    let township =
        std::fs::read_to_string(out.join(format!("rollups/{TOWNSHIP}_年报汇编.html"))).unwrap();
    assert!(township.contains(&title("山市村村民委员会")));
}

#[test]
fn the_township_volume_binds_every_accepted_report_in_roster_order() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest(&out, &[]);
    let units = accepted_of_township(&out);
    assert_eq!(units.len(), 11, "{units:?}");
    let titles: Vec<String> = units
        .iter()
        .map(|(_, name)| format!("{name}2024年政府信息公开工作年度报告"))
        .collect();

    let volume = out.join(format!("rollups/{TOWNSHIP}_年报汇编.docx"));
    let xml = part(&volume, "word/document.xml");
    let body = &xml[xml.find("<w:body>").unwrap()..];
    // The contents: a TOC field, an entry linking to each title's bookmark, in order.
    let toc_end = body.find(r#"w:fldCharType="end""#).unwrap();
    let (toc, rest) = body.split_at(toc_end);
    assert!(toc.contains(r#" TOC \h \z \n \t "Title,1" "#), "{toc}");
    positions(toc, &titles);
    // The roll-up first, then each report, its title paragraph starting a new page and
    // carrying the bookmark its entry links to.
    let rollup_at = rest.find("2024年政府信息公开工作年度报告汇总表").unwrap();
    // A title is printed as the unit's name on a line of its own, then the rest.
    let printed: Vec<String> = units
        .iter()
        .map(|(_, name)| format!(">{name}</w:t></w:r><w:r><w:br/></w:r><w:r><w:t xml:space=\"preserve\">2024年政府信息公开工作年度报告<"))
        .collect();
    let at = positions(rest, &printed);
    assert!(rollup_at < at[0]);
    let breaks: Vec<usize> = rest
        .match_indices("<w:pageBreakBefore/>")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        breaks.len(),
        titles.len() + 1,
        "one per report and the roll-up"
    );
    for (n, title_at) in at.iter().enumerate() {
        let page = breaks[n + 1];
        assert!(page < *title_at, "{} not after a page break", titles[n]);
        assert!(n + 2 == breaks.len() || breaks[n + 2] > *title_at);
        let mark = format!(r#"w:name="_Toc{}""#, n + 2);
        assert!(rest[page..*title_at].contains(&mark), "{mark}");
        assert!(toc.contains(&format!(r#"w:anchor="_Toc{}""#, n + 2)));
    }
    // Each report whole: its own last part is there before the next title.
    assert!(rest.matches("六、其他需要报告的事项").count() >= titles.len());

    // The HTML volume: a contents of anchors, then the parts in the same order.
    let html =
        std::fs::read_to_string(out.join(format!("rollups/{TOWNSHIP}_年报汇编.html"))).unwrap();
    let nav_end = html.find("</nav>").unwrap();
    positions(&html[..nav_end], &titles);
    for n in 1..=titles.len() + 1 {
        assert!(html.contains(&format!("href=\"#part-{n}\"")));
        assert!(html.contains(&format!("id=\"part-{n}\"")));
    }
    positions(&html[nav_end..], &titles);

    // The 文字汇编: each unit's name and its 一 text as sections.csv has it.
    let mut texts = csv::Reader::from_path(out.join("sections.csv")).unwrap();
    let overview: Vec<(String, String)> = texts
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[2] == "overview")
        .map(|r| (r[0].to_string(), r[4].to_string()))
        .collect();
    let narrative = part(
        &out.join(format!("rollups/{TOWNSHIP}_文字汇编.docx")),
        "word/document.xml",
    );
    let mut needles = Vec::new();
    for (code, name) in &units {
        needles.push(format!(">{name}<"));
        needles.push("一、总体情况".to_string());
        let text = &overview.iter().find(|(c, _)| c == code).unwrap().1;
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap();
        needles.push(first.replace('"', "&quot;").replace('<', "&lt;"));
        needles.push("五、存在的主要问题及改进情况".to_string());
    }
    positions(&narrative, &needles);
    assert!(!narrative.contains("红旗村"), "a missing unit has no text");
    assert!(!narrative.contains("治山村"), "a rejected unit has no text");

    // No Markdown unless asked for; no volume of the whole roster; no pieces left.
    assert!(files_with(&out, "md").is_empty());
    assert!(!out.join("rollups/ALL_全部单位_年报汇编.docx").exists());
    let hidden: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".nianbao"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");

    // The same bytes on a second run, and from `report`.
    let volumes = |out: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        files_with(&out.join("rollups"), "docx")
            .into_iter()
            .chain(files_with(&out.join("rollups"), "html"))
            .filter(|p| p.to_string_lossy().contains("汇编"))
            .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
            .collect()
    };
    let first = volumes(&out);
    assert_eq!(first.len(), 3 * 3, "three parents, three volumes each");
    ingest(&out, &[]);
    assert!(first == volumes(&out), "a second run changed a volume");
    let mut report = nianbao();
    report.arg("report").arg(&out).assert().code(0);
    let again = volumes(&out);
    for ((path, a), (_, b)) in first.iter().zip(&again) {
        if path.to_string_lossy().ends_with("文字汇编.docx") {
            assert!(a == b, "report changed {}", path.display());
        }
    }
    // report's volumes bind the same reports (without the 落款 the cover's date gave).
    let xml = part(&volume, "word/document.xml");
    positions(&xml, &printed);

    // With --markdown, the Markdown copies come back.
    ingest(&out, &["--markdown"]);
    assert!(out.join(format!("reports/{TOWNSHIP}.md")).is_file());
    assert!(out.join(format!("rollups/{TOWNSHIP}.md")).is_file());
}

#[test]
fn pdf_copies_of_every_word_document() {
    if soffice().is_none() {
        println!("SKIPPED: LibreOffice (soffice) is not installed");
        return;
    }
    let scratch = Scratch::new();
    let out = scratch.path("out");
    ingest(&out, &["--pdf"]);
    let docx = files_with(&out, "docx");
    assert!(docx.len() > 20, "{}", docx.len());
    for d in &docx {
        let pdf = d.with_extension("pdf");
        assert!(pdf.is_file(), "no PDF beside {}", d.display());
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF"), "{}", pdf.display());
    }
    // The township's volume has a page for the contents, the roll-up and each report.
    let volume = out.join(format!("rollups/{TOWNSHIP}_年报汇编.pdf"));
    let info = Command::new("pdfinfo").arg(&volume).output();
    if let Ok(info) = info {
        let pages: usize = String::from_utf8_lossy(&info.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        assert!(pages >= 13, "{pages} pages");
    }
    let record = std::fs::read_to_string(out.join("运行记录.json")).unwrap();
    assert!(record.contains(&format!("rollups/{TOWNSHIP}_年报汇编.pdf")));
    // A second run without --pdf removes them.
    ingest(&out, &[]);
    assert!(files_with(&out, "pdf").is_empty());
}

#[test]
fn pdf_without_libreoffice_is_refused_before_any_work() {
    let scratch = Scratch::new();
    let out = scratch.path("out");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let empty = scratch.path("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let output = nianbao()
        .env("PATH", &empty)
        .arg("ingest")
        .arg(root.join("samples/returns/2024"))
        .arg("--out")
        .arg(&out)
        .arg("--pdf")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LibreOffice"), "{stderr}");
    assert!(!out.exists(), "work was done");
}
