//! Tests of reading files: fixtures written by the tests themselves (an xlsx, a minimal
//! OLE2 container around BIFF8 records, zip and .ods packages), files that are not
//! workbooks, damaged, protected and too large ones, and properties that no input panics.

use super::convert::excel_datetime_text;
use super::ole2::biff_precheck;
use super::*;
use calamine::ExcelDateTime;
use proptest::prelude::*;
use rust_xlsxwriter::{DocProperties, Format, Formula, Workbook};
use std::io::{Cursor, Write};

// ---- fixtures, all written by the tests ----

/// The report-like workbook: data from C5, a very hidden key sheet, a hidden sheet,
/// a custom property, a formula with its cached result, an error, a date.
fn xlsx_fixture() -> Vec<u8> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_custom_property("nianbao_unit_code", "110"));
    let ws = wb.add_worksheet().set_name("表二").unwrap();
    ws.write_number(4, 2, 12).unwrap(); // C5
    ws.write_string(4, 3, "  规章 ").unwrap(); // D5, spaces kept
    ws.write_formula(6, 2, Formula::new("=1+1").set_result("2"))
        .unwrap(); // C7
    ws.write_formula(6, 3, Formula::new("=1/0").set_result("#DIV/0!"))
        .unwrap(); // D7
    ws.write_boolean(7, 2, true).unwrap(); // C8
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 1).unwrap();
    ws.write_datetime_with_format(8, 2, &date, &Format::new().set_num_format("yyyy-mm-dd"))
        .unwrap(); // C9
    let keys = wb
        .add_worksheet()
        .set_name("_nianbao")
        .unwrap()
        .set_very_hidden(true);
    keys.write_string(0, 0, "110").unwrap();
    let hidden = wb
        .add_worksheet()
        .set_name("隐藏")
        .unwrap()
        .set_hidden(true);
    hidden.write_string(2, 1, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

fn write_temp(bytes: &[u8], name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    (dir, path)
}

fn read_as(bytes: &[u8], name: &str) -> Result<RawWorkbook, ReadError> {
    let (_dir, path) = write_temp(bytes, name);
    read(&path)
}

fn at(a1: &str) -> CellRef {
    CellRef::parse(a1).unwrap()
}

fn detail(e: &ReadError) -> String {
    e.to_string()
}

/// A BIFF record.
fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend((data.len() as u16).to_le_bytes());
    r.extend(data);
    r
}

fn cell_head(row: u16, col: u16) -> Vec<u8> {
    [row.to_le_bytes(), col.to_le_bytes(), 0u16.to_le_bytes()].concat()
}

fn number(row: u16, col: u16, x: f64) -> Vec<u8> {
    rec(
        0x0203,
        &[cell_head(row, col), x.to_le_bytes().to_vec()].concat(),
    )
}

fn label(row: u16, col: u16, s: &str) -> Vec<u8> {
    let units: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let len = (s.encode_utf16().count() as u16).to_le_bytes();
    rec(
        0x0204,
        &[cell_head(row, col), len.to_vec(), vec![1], units].concat(),
    )
}

fn error(row: u16, col: u16, code: u8) -> Vec<u8> {
    rec(0x0205, &[cell_head(row, col), vec![code, 1]].concat())
}

fn dimensions(first_row: u32, last_row: u32, first_col: u16, last_col: u16) -> Vec<u8> {
    let d = [
        &first_row.to_le_bytes()[..],
        &last_row.to_le_bytes(),
        &first_col.to_le_bytes(),
        &last_col.to_le_bytes(),
        &[0, 0],
    ]
    .concat();
    rec(0x0200, &d)
}

fn bof(kind: u16) -> Vec<u8> {
    let mut d = vec![0x00, 0x06];
    d.extend(kind.to_le_bytes());
    d.resize(16, 0);
    rec(0x0809, &d)
}

/// A BIFF8 workbook stream: globals (with `globals` records added), then each sheet
/// `(name, hsState, cell records)`.
fn biff(globals: &[u8], sheets: &[(&str, u8, Vec<u8>)]) -> Vec<u8> {
    let bound = |name: &str, state: u8, pos: u32| {
        let units: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let head = [
            &pos.to_le_bytes()[..],
            &[state, 0, name.encode_utf16().count() as u8, 1],
        ]
        .concat();
        rec(0x0085, &[head, units].concat())
    };
    let globals_len = bof(5).len()
        + globals.len()
        + sheets
            .iter()
            .map(|(n, s, _)| bound(n, *s, 0).len())
            .sum::<usize>()
        + rec(0x000A, &[]).len();
    let mut bodies = Vec::new();
    let mut out = [bof(5), globals.to_vec()].concat();
    let mut pos = globals_len;
    for (name, state, cells) in sheets {
        out.extend(bound(name, *state, pos as u32));
        let body = [bof(0x10), cells.clone(), rec(0x000A, &[])].concat();
        pos += body.len();
        bodies.extend(body);
    }
    out.extend(rec(0x000A, &[]));
    out.extend(bodies);
    out
}

const END: u32 = 0xFFFF_FFFE;
const FREE: u32 = 0xFFFF_FFFF;

/// A minimal OLE2 container (version 3, 512-byte sectors, at most three streams, no
/// mini stream: streams are padded to 4096 bytes). Sector 0 is the allocation table,
/// sector 1 the directory.
fn cfb(streams: &[(&str, &[u8])]) -> Vec<u8> {
    assert!(streams.len() <= 3);
    let entry = |name: &str, typ: u8, start: u32, size: u32, right: u32, child: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u16> = name.encode_utf16().collect();
        for (i, u) in units.iter().enumerate() {
            e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[64..66].copy_from_slice(&(((units.len() + 1) * 2) as u16).to_le_bytes());
        e[66] = typ;
        e[67] = 1;
        e[68..72].copy_from_slice(&FREE.to_le_bytes());
        e[72..76].copy_from_slice(&right.to_le_bytes());
        e[76..80].copy_from_slice(&child.to_le_bytes());
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
        e
    };
    let mut fat = vec![0xFFFF_FFFD, END];
    let mut data = Vec::new();
    let child = if streams.is_empty() { FREE } else { 1 };
    let mut dir = entry("Root Entry", 5, END, 0, FREE, child);
    for (i, (name, content)) in streams.iter().enumerate() {
        let mut content = content.to_vec();
        content.resize(content.len().max(4096).div_ceil(512) * 512, 0);
        let start = 2 + (data.len() / 512) as u32;
        let n = (content.len() / 512) as u32;
        fat.extend((0..n).map(|k| if k + 1 < n { start + k + 1 } else { END }));
        let right = if i + 1 < streams.len() {
            i as u32 + 2
        } else {
            FREE
        };
        dir.extend(entry(name, 2, start, content.len() as u32, right, FREE));
        data.extend(content);
    }
    assert!(fat.len() <= 128);
    fat.resize(128, FREE);
    dir.resize(512, 0);
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(CFB_MAGIC);
    header[24..26].copy_from_slice(&0x3Eu16.to_le_bytes());
    header[26..28].copy_from_slice(&3u16.to_le_bytes());
    header[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
    header[30..32].copy_from_slice(&9u16.to_le_bytes());
    header[32..34].copy_from_slice(&6u16.to_le_bytes());
    header[44..48].copy_from_slice(&1u32.to_le_bytes());
    header[48..52].copy_from_slice(&1u32.to_le_bytes());
    header[56..60].copy_from_slice(&4096u32.to_le_bytes());
    header[60..64].copy_from_slice(&END.to_le_bytes());
    header[68..72].copy_from_slice(&END.to_le_bytes());
    header[76..80].copy_from_slice(&0u32.to_le_bytes());
    for slot in header[80..512].chunks_exact_mut(4) {
        slot.copy_from_slice(&FREE.to_le_bytes());
    }
    let fat: Vec<u8> = fat.iter().flat_map(|x| x.to_le_bytes()).collect();
    [header, fat, dir, data].concat()
}

/// A report-like .xls: data from C5, a very hidden key sheet, an error value.
fn xls_fixture() -> Vec<u8> {
    let report = [number(4, 2, 12.0), label(4, 3, " 规章"), error(6, 3, 0x0F)].concat();
    let keys = label(0, 0, "110");
    cfb(&[(
        "Workbook",
        &biff(&[], &[("表二", 0, report), ("_nianbao", 2, keys)]),
    )])
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in files {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn ods_fixture(mime: &str) -> Vec<u8> {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.2"><office:body><office:spreadsheet>
<table:table table:name="表二">
<table:table-row table:number-rows-repeated="4"><table:table-cell/></table:table-row>
<table:table-row><table:table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type="float" office:value="12"><text:p>12</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>规章</text:p></table:table-cell><table:table-cell office:value-type="string" calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="_nianbao"><table:table-row><table:table-cell office:value-type="string"><text:p>110</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_of(&[
        ("mimetype", mime.as_bytes()),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

fn pseudo_random(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u8
        })
        .collect()
}

// ---- workbooks that read ----

#[test]
fn xlsx_cells_at_absolute_positions_with_hidden_sheets() {
    let wb = read_as(&xlsx_fixture(), "山市镇年报(1).xlsx").unwrap();
    assert_eq!(wb.kind, FileKind::Xlsx);
    let names: Vec<&str> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["表二", "_nianbao", "隐藏"]);
    let s = &wb.sheets[0];
    assert_eq!(s.get(at("C5")), Some(&RawValue::Number(12.0)));
    assert_eq!(s.get(at("D5")), Some(&RawValue::Text("  规章 ".into())));
    assert_eq!(s.text(at("D5")), "规章");
    assert_eq!(s.get(at("C7")), Some(&RawValue::Number(2.0)));
    assert_eq!(s.get(at("D7")), Some(&RawValue::Error("#DIV/0!".into())));
    assert_eq!(s.get(at("C8")), Some(&RawValue::Bool(true)));
    assert_eq!(s.get(at("C9")), Some(&RawValue::Date("2024-03-01".into())));
    assert_eq!(s.get(at("A1")), None);
    assert_eq!(s.cells.len(), 6);
    assert_eq!(wb.sheet("_nianbao").unwrap().text(at("A1")), "110");
    assert_eq!(wb.sheet("隐藏").unwrap().text(at("B3")), "x");
}

#[test]
fn xlsx_custom_property() {
    let wb = read_as(&xlsx_fixture(), "a.xlsx").unwrap();
    assert_eq!(
        wb.properties.get("nianbao_unit_code").map(String::as_str),
        Some("110")
    );
}

#[test]
fn content_decides_not_the_extension() {
    let wb = read_as(&xlsx_fixture(), "saved as.xls").unwrap();
    assert_eq!(wb.kind, FileKind::Xlsx);
    assert_eq!(wb.sheets[0].get(at("C5")), Some(&RawValue::Number(12.0)));
    let wb = read_as(&xls_fixture(), "really old.xlsx").unwrap();
    assert_eq!(wb.kind, FileKind::Xls);
    let wb = read_as(&xlsx_fixture(), "no extension").unwrap();
    assert_eq!(wb.kind, FileKind::Xlsx);
    // An .et that is in fact an xlsx reads too.
    assert_eq!(
        read_as(&xlsx_fixture(), "a.et").unwrap().kind,
        FileKind::Xlsx
    );
}

#[test]
fn xls_cells_at_absolute_positions_with_very_hidden_sheet() {
    let wb = read_as(&xls_fixture(), "a.xls").unwrap();
    assert_eq!(wb.kind, FileKind::Xls);
    let names: Vec<&str> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["表二", "_nianbao"]);
    let s = &wb.sheets[0];
    assert_eq!(s.get(at("C5")), Some(&RawValue::Number(12.0)));
    assert_eq!(s.get(at("D5")), Some(&RawValue::Text(" 规章".into())));
    assert_eq!(s.get(at("D7")), Some(&RawValue::Error("#VALUE!".into())));
    assert_eq!(s.cells.len(), 3);
    assert_eq!(wb.sheets[1].text(at("A1")), "110");
    assert!(wb.properties.is_empty());
}

#[test]
fn ods_cells_at_absolute_positions() {
    let wb = read_as(
        &ods_fixture("application/vnd.oasis.opendocument.spreadsheet"),
        "a.ods",
    )
    .unwrap();
    assert_eq!(wb.kind, FileKind::Ods);
    let s = wb.sheet("表二").unwrap();
    assert_eq!(s.get(at("C5")), Some(&RawValue::Number(12.0)));
    assert_eq!(s.get(at("D5")), Some(&RawValue::Text("规章".into())));
    assert_eq!(s.get(at("E5")), Some(&RawValue::Error("#DIV/0!".into())));
    assert_eq!(s.cells.len(), 3);
    assert_eq!(wb.sheet("_nianbao").unwrap().text(at("A1")), "110");
}

// ---- files that are not workbooks ----

#[test]
fn empty_file() {
    assert!(matches!(read_as(b"", "a.xlsx"), Err(ReadError::Empty)));
}

#[test]
fn missing_file_is_io() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        read(&dir.path().join("gone.xlsx")),
        Err(ReadError::Io(_))
    ));
}

#[test]
fn web_page_named_xls() {
    for page in [
        &b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>"[..],
        b"\xEF\xBB\xBF\r\n  <html xmlns:o=\"urn:schemas-microsoft-com:office:office\">",
        b"<table><tr><td>\xB9\xE6\xD5\xC2</td></tr></table>", // GBK
        b"MIME-Version: 1.0\r\nContent-Type: multipart/related",
    ] {
        let e = read_as(page, "年报.xls").unwrap_err();
        assert!(matches!(e, ReadError::NotAWorkbook { .. }), "{e:?}");
        assert!(
            detail(&e).contains("网页") && detail(&e).contains(".xls"),
            "{e}"
        );
        assert!(e.is_unsupported());
    }
}

#[test]
fn xml_spreadsheet_2003_named_xls() {
    let xml = br#"<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>"#;
    let e = read_as(xml, "a.xls").unwrap_err();
    assert!(detail(&e).contains("Excel 2003 XML"), "{e}");
    let fods = br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">"#;
    let e = read_as(fods, "a.xls").unwrap_err();
    assert!(detail(&e).contains(".fods"), "{e}");
}

#[test]
fn csv_named_xls() {
    let utf8 = "单位,数量\n规章,3\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(utf8);
    for text in [utf8.as_bytes(), &gbk, b"a\tb\r\n1\t2\r\n"] {
        let e = read_as(text, "a.xls").unwrap_err();
        assert!(matches!(e, ReadError::NotAWorkbook { .. }), "{e:?}");
        assert!(detail(&e).contains("CSV"), "{e}");
    }
}

#[test]
fn owner_file_left_by_excel() {
    let mut owner = vec![6u8];
    owner.extend(b"clerk ");
    owner.resize(165, 0x20);
    let e = read_as(&owner, "~$山市镇年报.xlsx").unwrap_err();
    assert!(detail(&e).contains("临时文件"), "{e}");
}

#[test]
fn random_bytes() {
    let bytes = pseudo_random(4096, 7);
    let e = read_as(&bytes, "a.xlsx").unwrap_err();
    assert!(matches!(e, ReadError::NotAWorkbook { .. }), "{e:?}");
    assert!(
        detail(&e).contains("不是 Excel / WPS / LibreOffice 工作簿"),
        "{e}"
    );
}

#[test]
fn pdf_and_pictures() {
    let e = read_as(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "a.xlsx").unwrap_err();
    assert!(detail(&e).contains("PDF"), "{e}");
    let e = read_as(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a.xlsx").unwrap_err();
    assert!(detail(&e).contains("图片"), "{e}");
}

#[test]
fn wps_et() {
    for name in ["a.et", "B.ET"] {
        assert!(matches!(
            read_as(&pseudo_random(2048, 3), name),
            Err(ReadError::WpsEt)
        ));
    }
    // An OLE2 .et whose workbook calamine cannot find.
    let et = cfb(&[("ETWorkbook", b"x")]);
    assert!(matches!(read_as(&et, "a.et"), Err(ReadError::WpsEt)));
    assert_eq!(
        ReadError::WpsEt.to_string(),
        "WPS 表格 .et 格式无法读取，请在 WPS 中另存为 .xlsx"
    );
}

#[test]
fn other_office_files() {
    // Word 97-2003, whatever its name: what to save it as.
    for name in ["a.xls", "a.doc"] {
        let e = read_as(&cfb(&[("WordDocument", b"x")]), name).unwrap_err();
        assert!(e.is_unsupported(), "{e:?}");
        assert!(e.to_string().contains("Word 97-2003"), "{e}");
        assert!(e.to_string().contains("请另存为 .docx"), "{e}");
    }
    // WPS text, by its name (its container says nothing a reader knows).
    let e = read_as(&pseudo_random(2048, 5), "年报.wps").unwrap_err();
    assert!(e.to_string().contains("请另存为 .docx"), "{e}");
    // A .docx is read as a document, whatever its name; a Word package without its
    // body is not.
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", b"<w/>"),
    ]);
    assert_eq!(read_as(&docx, "a.xlsx").unwrap().kind, FileKind::Docx);
    let bodiless = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/styles.xml", b"<w/>"),
    ]);
    let e = read_as(&bodiless, "a.docx").unwrap_err();
    assert!(detail(&e).contains("Word"), "{e}");
    let zipped = zip_of(&[("年报/山市镇.xlsx", &xlsx_fixture())]);
    let e = read_as(&zipped, "a.xlsx").unwrap_err();
    assert!(detail(&e).contains("解压"), "{e}");
    let odt = ods_fixture("application/vnd.oasis.opendocument.text");
    let e = read_as(&odt, "a.ods").unwrap_err();
    assert!(detail(&e).contains("不是表格"), "{e}");
}

// ---- damaged, protected, too large ----

#[test]
fn truncated_xlsx() {
    let bytes = xlsx_fixture();
    let e = read_as(&bytes[..bytes.len() / 2], "a.xlsx").unwrap_err();
    assert!(matches!(e, ReadError::Truncated), "{e:?}");
}

#[test]
fn truncated_xls() {
    let bytes = xls_fixture();
    let e = read_as(&bytes[..bytes.len() / 2], "a.xls").unwrap_err();
    assert!(matches!(e, ReadError::Truncated), "{e:?}");
}

#[test]
fn password_protected() {
    // An encrypted .xlsx is an OLE2 container holding the encrypted package.
    let encrypted = cfb(&[
        ("EncryptionInfo", b"\x04\0\x04\0"),
        ("EncryptedPackage", b"x"),
    ]);
    assert!(matches!(
        read_as(&encrypted, "a.xlsx"),
        Err(ReadError::Password)
    ));
    // An encrypted .xls has a FilePass record in its globals.
    let file_pass = rec(0x002F, &[1, 0, 1, 0, 1, 0]);
    let xls = cfb(&[(
        "Workbook",
        &biff(&file_pass, &[("表二", 0, number(0, 0, 1.0))]),
    )]);
    assert!(matches!(read_as(&xls, "a.xls"), Err(ReadError::Password)));
}

#[test]
fn damaged_xlsx_part_is_corrupt() {
    let mut bytes = xlsx_fixture();
    // Break the deflate data of the workbook part, after its local header.
    let name = b"xl/workbook.xml";
    let header = (0..bytes.len() - 4)
        .find(|&i| bytes[i..].starts_with(ZIP_MAGIC) && bytes[i + 30..].starts_with(name))
        .unwrap();
    let start = header + 30 + name.len() + usize::from(le_u16(&bytes, header + 28).unwrap());
    for b in &mut bytes[start..start + 40] {
        *b = 0xFF;
    }
    let e = read_as(&bytes, "a.xlsx").unwrap_err();
    assert!(matches!(e, ReadError::Corrupt { .. }), "{e:?}");
}

#[test]
fn looping_sector_chain_is_corrupt_not_a_hang() {
    let mut bytes = xls_fixture();
    // Allocation table entry of the directory sector (1) points back to itself:
    // calamine would read that chain forever.
    bytes[512 + 4..512 + 8].copy_from_slice(&1u32.to_le_bytes());
    let e = read_as(&bytes, "a.xls").unwrap_err();
    assert!(matches!(e, ReadError::Corrupt { .. }), "{e:?}");
}

#[test]
fn xlsx_sheet_too_large() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("表二").unwrap();
    ws.write_number(0, 0, 1).unwrap();
    ws.write_number(999_999, 1, 2).unwrap();
    let e = read_as(&wb.save_to_buffer().unwrap(), "a.xlsx").unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { .. }), "{e:?}");
    let d = detail(&e);
    assert!(
        d.contains("表二") && d.contains("A1") && d.contains("B1000000"),
        "{d}"
    );
}

#[test]
fn xls_sheet_too_large_is_refused_before_parsing() {
    // Two cells at opposite corners: calamine would allocate the whole box.
    let corners = [number(0, 0, 1.0), number(0xFFFF, 0xFFFF, 2.0)].concat();
    let xls = cfb(&[("Workbook", &biff(&[], &[("表二", 0, corners)]))]);
    let e = read_as(&xls, "a.xls").unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { .. }), "{e:?}");
    // A DIMENSIONS record claiming four billion rows: calamine reserves that up front.
    let dims = [dimensions(0, u32::MAX, 0, 200), number(0, 0, 1.0)].concat();
    let xls = cfb(&[("Workbook", &biff(&[], &[("表二", 0, dims)]))]);
    let e = read_as(&xls, "a.xls").unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { .. }), "{e:?}");
}

#[test]
fn zip_declaring_huge_parts_is_refused() {
    let mut bytes = xlsx_fixture();
    let cd = (0..bytes.len() - 4)
        .find(|&i| bytes[i..].starts_with(b"PK\x01\x02"))
        .unwrap();
    bytes[cd + 24..cd + 28].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let e = read_as(&bytes, "a.xlsx").unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { .. }), "{e:?}");
    assert!(detail(&e).contains("解压后"), "{e}");
}

#[test]
fn file_too_large_on_disk() {
    let (_dir, path) = write_temp(b"", "big.xlsx");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(MAX_FILE_BYTES + 1)
        .unwrap();
    assert!(matches!(read(&path), Err(ReadError::TooLarge { .. })));
}

#[test]
fn too_many_sheets() {
    let sheets: Vec<(String, u8, Vec<u8>)> = (0..=MAX_SHEETS)
        .map(|i| (format!("S{i}"), 0, Vec::new()))
        .collect();
    let sheets: Vec<(&str, u8, Vec<u8>)> = sheets
        .iter()
        .map(|(n, s, c)| (n.as_str(), *s, c.clone()))
        .collect();
    let stream = biff(&[], &sheets);
    assert!(matches!(
        biff_precheck(&stream),
        Err(ReadError::TooLarge { .. })
    ));
}

#[test]
fn a_panic_becomes_corrupt() {
    let e = guarded::<()>(|| panic!("index out of bounds")).unwrap_err();
    assert_eq!(
        detail(&e),
        "文件已损坏，无法读取（读取时出错：index out of bounds）；请用 Excel 或 WPS 打开检查后另存为 .xlsx 重新发送"
    );
}

#[test]
fn dates_as_iso_text() {
    use calamine::ExcelDateTimeType::{DateTime, TimeDelta};
    let text = |v: f64, t| excel_datetime_text(&ExcelDateTime::new(v, t, false));
    assert_eq!(text(45352.0, DateTime), "2024-03-01");
    assert_eq!(text(45352.5, DateTime), "2024-03-01T12:00:00");
    assert_eq!(text(0.75, DateTime), "18:00:00");
    assert_eq!(text(1.5, TimeDelta), "36:00:00");
    assert_eq!(text(-1.0, DateTime), "-1");
    assert_eq!(
        excel_datetime_text(&ExcelDateTime::new(0.0, DateTime, true)),
        "00:00:00"
    );
    assert_eq!(
        excel_datetime_text(&ExcelDateTime::new(1.0, DateTime, true)),
        "1904-01-02"
    );
}

// ---- never a panic ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        ext in prop::sample::select(vec!["xlsx", "xls", "ods", "et"]),
    ) {
        let _ = read_as(&bytes, &format!("a.{ext}"));
    }

    #[test]
    fn arbitrary_bytes_behind_a_magic_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        magic in prop::sample::select(vec![ZIP_MAGIC, CFB_MAGIC, EMPTY_ZIP_MAGIC]),
    ) {
        let _ = read_bytes(&[magic, &bytes].concat(), "xlsx");
    }

    #[test]
    fn damaged_workbooks_never_panic(
        which in 0..3usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = match which {
            0 => xlsx_fixture(),
            1 => xls_fixture(),
            _ => ods_fixture("application/vnd.oasis.opendocument.spreadsheet"),
        };
        for (i, b) in edits {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = read_bytes(&bytes, "xlsx");
    }
}

// ---- documents ----

/// A .docx holding `body` (WordprocessingML inside `w:body`).
fn docx_of(body: &str) -> Vec<u8> {
    let xml = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"w\"><w:body>{body}</w:body></w:document>"
    );
    zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", xml.as_bytes()),
    ])
}

fn p(text: &str) -> String {
    format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
}

fn tc(props: &str, text: &str) -> String {
    format!("<w:tc><w:tcPr>{props}</w:tcPr>{}</w:tc>", p(text))
}

#[test]
fn docx_paragraphs_tables_merges_and_layout_tables() {
    // A layout table holding a paragraph and a data table; the data table has a cell
    // two columns wide, a merge down, a row starting one column in; deleted text and
    // entities.
    let data = format!(
        "<w:tbl><w:tr>{}{}</w:tr><w:tr>{}{}{}</w:tr><w:tr><w:trPr><w:gridBefore w:val=\"1\"/></w:trPr>{}{}</w:tr></w:tbl>",
        tc("<w:vMerge w:val=\"restart\"/>", "自然人"),
        tc("<w:gridSpan w:val=\"2\"/>", "A&amp;B"),
        tc("<w:vMerge/>", "ignored"),
        tc("", "1"),
        tc("", "２"),
        tc("", "3"),
        tc("", "4"),
    );
    let layout = format!(
        "<w:tbl><w:tr><w:tc>{}{data}</w:tc></w:tr></w:tbl>",
        p("在表格里的段落")
    );
    let body = format!(
        "{}<w:p><w:r><w:t>删</w:t></w:r><w:del><w:r><w:delText>掉</w:delText></w:r></w:del></w:p>{layout}{}",
        p("标题"),
        p("最后")
    );
    let wb = read_as(&docx_of(&body), "a.docx").unwrap();
    assert_eq!(wb.kind, FileKind::Docx);
    let text = &wb.sheets[0];
    assert_eq!(text.name, crate::read::PARAGRAPHS_SHEET);
    let lines: Vec<String> = text.cells.values().map(RawValue::display).collect();
    assert_eq!(lines, ["标题", "删", "在表格里的段落", "最后"]);
    assert_eq!(wb.sheets.len(), 2, "the layout table is text, not a table");
    let t = &wb.sheets[1];
    let at = |r: u32, c: u16| t.get(CellRef::new(r, c)).map(RawValue::display);
    assert_eq!(at(0, 0).as_deref(), Some("自然人"));
    assert_eq!(at(0, 1).as_deref(), Some("A&B"));
    assert_eq!(
        at(1, 0),
        None,
        "merged down: the value is in the top cell only"
    );
    assert_eq!(t.get(CellRef::new(1, 1)), Some(&RawValue::Number(1.0)));
    assert_eq!(
        at(1, 2).as_deref(),
        Some("２"),
        "kept as typed, for normalise"
    );
    assert_eq!(at(2, 0), None);
    assert_eq!(at(2, 1).as_deref(), Some("3"));
}

#[test]
fn web_pages_declare_their_encoding_or_are_utf8_or_gbk() {
    let page = "<html><head><meta charset=\"gbk\"><title>t</title>\
                <script>var x = '<p>脚本</p>';</script></head><body>\
                <p>山市镇  人民政府\n报告</p><table><tr><td rowspan=2>甲</td><td>1</td></tr>\
                <tr><td>2</td></tr></table></body></html>";
    let (gbk, _, _) = encoding_rs::GBK.encode(page);
    for (bytes, name) in [
        (gbk.to_vec(), "a.htm"),
        (page.replace("gbk", "utf-8").into_bytes(), "a.html"),
        (
            page.replace("<meta charset=\"gbk\">", "").into_bytes(),
            "a.HTML",
        ),
    ] {
        let wb = read_as(&bytes, name).unwrap();
        assert_eq!(wb.kind, FileKind::Html, "{name}");
        let lines: Vec<String> = wb.sheets[0].cells.values().map(RawValue::display).collect();
        assert_eq!(lines, ["山市镇 人民政府 报告"], "{name}");
        let t = &wb.sheets[1];
        assert_eq!(t.text(CellRef::new(0, 0)), "甲");
        assert_eq!(
            t.get(CellRef::new(1, 1)),
            Some(&RawValue::Number(2.0)),
            "{name}"
        );
    }
    // Undeclared and not UTF-8: GBK.
    let (gbk, _, _) = encoding_rs::GBK.encode("<p>政府信息公开</p>");
    let wb = read_as(&gbk, "a.htm").unwrap();
    assert_eq!(wb.sheets[0].text(CellRef::new(0, 0)), "政府信息公开");
    // A web page named .xls is still told to be saved as a workbook.
    let e = read_as(page.as_bytes(), "a.xls").unwrap_err();
    assert!(detail(&e).contains("网页"), "{e}");
}
