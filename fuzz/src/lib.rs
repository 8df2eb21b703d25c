//! Shared by the fuzz targets and the seed writer: the per-file pipeline on bytes, and a
//! filled workbook to start from.

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};
use std::sync::{Mutex, Once, OnceLock};

use nianbao::format::{Formats, Key};
use nianbao::template::{workbook_bytes, Prefill, UnitInfo};

/// The extensions a file can carry; the first byte of a `check_file` input picks one.
pub const EXTENSIONS: [&str; 4] = ["xlsx", "xls", "ods", "et"];

pub fn formats() -> &'static Formats {
    static FORMATS: OnceLock<Formats> = OnceLock::new();
    FORMATS.get_or_init(Formats::builtin)
}

/// libfuzzer-sys aborts on any panic, even one the reader catches (it turns a panic
/// inside calamine into "damaged file"). Panics that escape `check_bytes` still abort
/// (libfuzzer-sys catches them and aborts); caught ones are only reported, once per place.
pub fn report_caught_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if SEEN
                .lock()
                .map(|mut s| s.insert(at.clone()))
                .unwrap_or(false)
            {
                eprintln!("PANIC (caught or not) at {at}: {info}");
            }
        }));
    });
}

/// Read, locate, normalise and validate one file's bytes, as `check::check_file` does,
/// and render the findings.
pub fn check_bytes(bytes: &[u8], ext: &str) {
    let formats = formats();
    let sub = match nianbao::read::read_bytes(bytes, ext) {
        Ok(wb) => {
            let found = nianbao::locate::locate(&wb, formats, Some(2020));
            nianbao::validate::validate(found, formats, nianbao::validate::Context::default())
        }
        Err(e) => nianbao::check::unreadable(&e),
    };
    let _ = nianbao::check::render_text("fuzz.xlsx", &sub);
    let _ = nianbao::check::render_json(&sub);
}

/// A filled workbook of the township 110 for `year`, in the year's format.
pub fn filled(year: i32, format: Option<&str>) -> Vec<u8> {
    let formats = formats();
    let format = match format {
        Some(id) => formats.by_id(id).unwrap(),
        None => formats.for_year(year).unwrap(),
    };
    let unit = UnitInfo {
        code: "110".into(),
        name: "山市镇人民政府".into(),
        parent_code: "100".into(),
        parent_name: "示例县人民政府".into(),
        level: "township".into(),
    };
    let mut prefill = Prefill::default();
    for (k, v) in [
        ("t3.new.natural", 3.0),
        ("t3.open.natural", 2.0),
        ("t3.carry_next.natural", 1.0),
        ("t2.license.change", -2.0),
        ("t4.all.review_upheld", 1.0),
        ("t4.all.review_total", 1.0),
    ] {
        prefill.values.insert(Key::from_string(k), v);
    }
    prefill
        .raw
        .insert(Key::from_string("t3.new.legal"), "１２件".into());
    prefill
        .raw
        .insert(Key::from_string("t3.open.legal"), "".into());
    for (k, v) in [
        ("opening", "现将有关情况总结如下："),
        ("overview", "总体情况。\n第二段。"),
        ("problems", "问题。"),
        ("other", "无。"),
    ] {
        prefill.texts.insert(k.into(), v.into());
    }
    workbook_bytes(format, year, &unit, &prefill).unwrap()
}

/// The parts of a zip file, inflated, in order.
pub fn unzip(bytes: &[u8]) -> Parts {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let name = entry.name().unwrap().to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

/// Parts written as a zip file without compression.
pub fn stored_zip(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in parts {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The parts of a zip file: name and content.
pub type Parts = Vec<(String, Vec<u8>)>;

/// The parts of the filled 2020 workbook, and which of them (its XML parts) the
/// `xlsx_xml` target rewrites.
pub fn base() -> &'static (Parts, Vec<usize>) {
    static BASE: OnceLock<(Parts, Vec<usize>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let parts = unzip(&filled(2020, None));
        let xml = parts
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| n.ends_with(".xml") || n.ends_with(".rels"))
            .map(|(i, _)| i)
            .collect();
        (parts, xml)
    })
}

/// The `xlsx_xml` input: the first byte picks an XML part, the rest replaces it.
pub fn xlsx_with_part(data: &[u8]) -> Option<Vec<u8>> {
    let (&pick, content) = data.split_first()?;
    let (parts, xml) = base();
    let which = xml[usize::from(pick) % xml.len()];
    let mut parts = parts.clone();
    parts[which].1 = content.to_vec();
    Some(stored_zip(&parts))
}
