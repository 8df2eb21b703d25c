//! Hostile inputs: one batch holding every kind of file a coordinator can be sent by a
//! broken program, a careless clerk or an attacker, run through `nianbao ingest` once.
//! Each file must get its own status and reason in `files.csv`, and every other file of
//! the batch must still be processed. Every fixture is generated here.
//!
//! Also a mutation fuzzer over `check::check_file` (proptest; the `cargo fuzz` targets
//! live in `fuzz/`): `NIANBAO_FUZZ_CASES=20000 cargo test --release --test it hostile`.

use std::collections::BTreeSet;
use std::io::{Cursor, Read as _};
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use calamine::Data;

use crate::common::*;

/// The batch's report year: the 2019 format (2019–2020) has the signed 本年增/减 column.
const YEAR: i32 = 2020;

const EVIL_FORMULA: &str = r#"=HYPERLINK("http://x","y")"#;
const SCRIPT: &str = "<script>alert(1)</script>";

/// The roster: two good units and one unit per identifiable hostile workbook (two
/// workbooks of one unit would make one a duplicate), plus a unit whose code is a path.
fn roster() -> String {
    [
        "code,name,parent_code,level".to_string(),
        "100,示例县人民政府,,county".into(),
        "201,良好一号单位,100,department".into(),
        "202,良好二号单位,100,department".into(),
        "203,公式错误单位,100,department".into(),
        "204,旧模板单位,100,department".into(),
        "205,别的格式单位,100,department".into(),
        "206,../../x,100,department".into(),
        format!("207,{SCRIPT},100,department"),
        format!(
            "208,\"{}\",100,department",
            EVIL_FORMULA.replace('"', "\"\"")
        ),
        "209,实体扩展单位,100,department".into(),
        "210,注入文字单位,100,department".into(),
        "211,实体声明单位,100,department".into(),
        "../../z,<img src=x onerror=alert(2)>,100,department".into(),
    ]
    .join("\n")
        + "\n"
}

/// Values that satisfy every rule of both formats.
const OK: &[(&str, f64)] = &[("t3.new.natural", 2.0), ("t3.open.natural", 2.0)];

/// A filled workbook for a unit of [`roster`].
fn workbook(
    code: &str,
    name: &str,
    format: Option<&str>,
    values: &[(&str, f64)],
    raw: &[(&str, &str)],
    texts: &[(&str, &str)],
) -> Vec<u8> {
    use nianbao::format::{Formats, Key};
    use nianbao::template::{workbook_bytes, Prefill, UnitInfo};
    let formats = Formats::builtin();
    let format = match format {
        Some(id) => formats.by_id(id).unwrap(),
        None => formats.for_year(YEAR).unwrap(),
    };
    let unit = UnitInfo {
        code: code.into(),
        name: name.into(),
        parent_code: "100".into(),
        parent_name: "示例县人民政府".into(),
        level: "department".into(),
    };
    let mut prefill = Prefill::default();
    for (k, v) in values {
        prefill.values.insert(Key::from_string(k), *v);
    }
    for (k, v) in raw {
        prefill.raw.insert(Key::from_string(k), v.to_string());
    }
    for (k, v) in TEXTS.iter().chain(texts) {
        prefill.texts.insert(k.to_string(), v.to_string());
    }
    for (k, v) in CONTACT {
        prefill.cover.insert(k.to_string(), v.to_string());
    }
    workbook_bytes(format, YEAR, &unit, &prefill).unwrap()
}

fn good(code: &str, name: &str) -> Vec<u8> {
    workbook(code, name, None, OK, &[], &[])
}

// ---------------------------------------------------------------------------------------
// Zip: CRC-32, a hand-written deflate stream and a minimal zip writer, so that a bomb of
// gigabytes can be made in milliseconds (deflating them in a debug build takes minutes).

fn crc32(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// a(x)·b(x) modulo the CRC-32 polynomial (zlib's `multmodp`).
fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                return p;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 {
            (b >> 1) ^ 0xEDB8_8320
        } else {
            b >> 1
        };
    }
}

/// The CRC of `A ++ B` from the CRCs of `A` and `B` (zlib's `crc32_combine`).
fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    // x^(8·len_b) mod p, by squaring.
    let mut power = 1u32 << 30; // x^1
    for _ in 0..3 {
        power = multmodp(power, power);
    } // x^8
    let mut x = 1u32 << 31; // x^0
    let mut n = len_b;
    while n != 0 {
        if n & 1 != 0 {
            x = multmodp(power, x);
        }
        power = multmodp(power, power);
        n >>= 1;
    }
    multmodp(x, crc_a) ^ crc_b
}

/// The CRC of `unit` repeated `count` times.
fn crc32_repeat(unit: &[u8], count: u64) -> u32 {
    let (mut c, mut len) = (crc32(0, unit), unit.len() as u64);
    let mut acc: Option<(u32, u64)> = None;
    let mut n = count;
    while n != 0 {
        if n & 1 != 0 {
            acc = Some(match acc {
                None => (c, len),
                Some((a, a_len)) => (crc32_combine(a, c, len), a_len + len),
            });
        }
        n >>= 1;
        if n != 0 {
            c = crc32_combine(c, c, len);
            len *= 2;
        }
    }
    acc.map_or(0, |(c, _)| c)
}

/// Bits of a deflate stream, least significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, sent most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let reversed = (0..len).fold(0, |r, i| r | (((code >> i) & 1) << (len - 1 - i)));
        self.put(reversed, len);
    }

    fn stored(&mut self, data: &[u8], last: bool) {
        assert!(data.len() <= 0xFFFF);
        self.put(u32::from(last), 1);
        self.put(0, 2);
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
        self.put(data.len() as u32, 16);
        self.put(!(data.len() as u32) & 0xFFFF, 16);
        self.out.extend_from_slice(data);
    }

    /// A dynamic-Huffman block of `count` back-references of length 258 at `distance`:
    /// one bit for the length, one for the distance code, then its extra bits.
    fn copies(&mut self, count: u64, distance: u32) {
        let (mut dcode, mut base) = (0u32, 1u32);
        let extra = |c: u32| if c < 4 { 0 } else { c / 2 - 1 };
        while distance >= base + (1 << extra(dcode)) {
            base += 1 << extra(dcode);
            dcode += 1;
        }
        assert!((3..=10).contains(&dcode), "distance {distance}");
        self.put(0, 1); // not the last block
        self.put(2, 2); // dynamic Huffman
        self.put(29, 5); // 286 literal/length codes
        self.put(dcode, 5); // dcode + 1 distance codes
        self.put(14, 4); // 18 code-length codes
                         // Code-length code: 18 → "0", 1 → "10", 17 → "11" (a complete code).
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
        for sym in order {
            self.put(
                match sym {
                    18 => 1,
                    1 | 17 => 2,
                    _ => 0,
                },
                3,
            );
        }
        let zeros_18 = |b: &mut Bits, n: u32| {
            b.code(0, 1);
            b.put(n - 11, 7);
        };
        // Literal/length code lengths: 256 (end of block) and 285 (length 258) have 1.
        zeros_18(self, 138);
        zeros_18(self, 118);
        self.code(0b10, 2);
        zeros_18(self, 28);
        self.code(0b10, 2);
        // Distance code lengths: only `dcode`.
        self.code(0b11, 2);
        self.put(dcode - 3, 3);
        self.code(0b10, 2);
        for _ in 0..count {
            self.code(1, 1); // 285
            self.code(0, 1); // dcode
            self.put(distance - base, extra(dcode));
        }
        self.code(0, 1); // end of block
    }
}

/// One part of a zip file written by [`zip_file`].
struct Part {
    name: String,
    /// 0 stored, 8 deflated.
    method: u16,
    crc: u32,
    /// The uncompressed size written in the headers (a lie in [`Bomb::Lying`]).
    size: u32,
    data: Vec<u8>,
}

impl Part {
    fn stored(name: &str, data: Vec<u8>) -> Part {
        Part {
            name: name.into(),
            method: 0,
            crc: crc32(0, &data),
            size: data.len() as u32,
            data,
        }
    }
}

fn zip_file(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for p in parts {
        let offset = out.len() as u32;
        for (v, central) in [(&mut out, false), (&mut directory, true)] {
            le32(v, if central { 0x0201_4b50 } else { 0x0403_4b50 });
            if central {
                le16(v, 20);
            }
            le16(v, 20); // version needed
            le16(v, 0x0800); // UTF-8 names
            le16(v, p.method);
            le16(v, 0); // time
            le16(v, 0x21); // 1980-01-01
            le32(v, p.crc);
            le32(v, p.data.len() as u32);
            le32(v, p.size);
            le16(v, p.name.len() as u16);
            le16(v, 0); // extra
            if central {
                le16(v, 0); // comment
                le16(v, 0); // disk
                le16(v, 0); // internal attributes
                le32(v, 0); // external attributes
                le32(v, offset);
            }
            v.extend_from_slice(p.name.as_bytes());
        }
        out.extend_from_slice(&p.data);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&directory);
    le32(&mut out, 0x0605_4b50);
    le32(&mut out, 0);
    le16(&mut out, parts.len() as u16);
    le16(&mut out, parts.len() as u16);
    le32(&mut out, directory.len() as u32);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    out
}

/// How the sheet of [`periodic_xlsx`] declares its size.
#[derive(Clone, Copy)]
enum Bomb {
    /// The true uncompressed size.
    Honest,
    /// 1 MB, whatever it inflates to.
    Lying,
}

const SHEET_HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#,
    r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
    "<sheetData>"
);
const SHEET_TAIL: &str = "</sheetData></worksheet>";
/// One row with one number; 26 bytes, so every back-reference is at distance 26.
const ROW: &str = "<row><c><v>1</v></c></row>";

/// A real xlsx package (from rust_xlsxwriter) whose first sheet is `rows` repetitions of
/// [`ROW`], deflated by hand: the repeated rows cost 5 bits per 258 bytes (about 1:400).
fn periodic_xlsx(rows: u64, bomb: Bomb) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet()
        .set_name("表二")
        .unwrap()
        .write_number(0, 0, 1)
        .unwrap();
    let skeleton = unzip(&wb.save_to_buffer().unwrap());
    // Enough literal rows that the back-referenced rest is a whole number of 258-byte
    // copies (258 = 2·3·43, ROW.len() = 2·13).
    let literal = match rows % 129 {
        0 => 129,
        k => k,
    };
    let copies = (rows - literal) * ROW.len() as u64 / 258;
    let head = [SHEET_HEAD, &ROW.repeat(literal as usize)].concat();
    let mut bits = Bits::default();
    bits.stored(head.as_bytes(), false);
    bits.copies(copies, ROW.len() as u32);
    bits.stored(SHEET_TAIL.as_bytes(), true);
    let repeated = rows - literal;
    let size = head.len() as u64 + repeated * ROW.len() as u64 + SHEET_TAIL.len() as u64;
    let crc = crc32_combine(
        crc32_combine(
            crc32(0, head.as_bytes()),
            crc32_repeat(ROW.as_bytes(), repeated),
            repeated * ROW.len() as u64,
        ),
        crc32(0, SHEET_TAIL.as_bytes()),
        SHEET_TAIL.len() as u64,
    );
    let sheet = Part {
        name: "xl/worksheets/sheet1.xml".into(),
        method: 8,
        crc,
        size: match bomb {
            Bomb::Honest => u32::try_from(size).expect("under 4 GiB"),
            Bomb::Lying => 1 << 20,
        },
        data: bits.out,
    };
    let mut sheet = Some(sheet);
    let parts: Vec<Part> = skeleton
        .into_iter()
        .map(|(name, data)| match sheet.take_if(|s| s.name == name) {
            Some(sheet) => sheet,
            None => Part::stored(&name, data),
        })
        .collect();
    assert!(sheet.is_none(), "the skeleton has a first sheet");
    zip_file(&parts)
}

/// Rows of the zip bomb: 2 GiB of `<row>` XML, about 5 MB deflated.
const BOMB_ROWS: u64 = (2u64 << 30) / 26;
/// Rows of the dense "million rows" sheet: every row of a sheet.
const MILLION_ROWS: u64 = 1_048_576;

#[test]
fn hand_made_deflate_inflates_to_what_it_says() {
    // The zip crate checks the CRC at the end of the entry.
    let bytes = periodic_xlsx(1000, Bomb::Honest);
    let parts = unzip(&bytes);
    let sheet = &parts
        .iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .unwrap()
        .1;
    let expected = [SHEET_HEAD, &ROW.repeat(1000), SHEET_TAIL].concat();
    assert!(*sheet == expected.as_bytes());
    assert_eq!(
        crc32_repeat(b"abc", 5),
        crc32(0, b"abcabcabcabcabc"),
        "CRC of a repetition"
    );
    // The bomb starts as it should (reading all of it takes minutes in a debug build:
    // `the_bomb_really_inflates_to_gigabytes`, ignored, does in release).
    let bomb = periodic_xlsx(BOMB_ROWS, Bomb::Honest);
    assert!(bomb.len() < 8 << 20, "{} bytes", bomb.len());
    let mut zip = zip::ZipArchive::new(Cursor::new(&bomb)).unwrap();
    let mut entry = zip.by_name("xl/worksheets/sheet1.xml").unwrap();
    assert!(entry.size() > 2_000_000_000);
    let mut head = vec![0; 4 << 20];
    entry.read_exact(&mut head).unwrap();
    assert!(head.starts_with(SHEET_HEAD.as_bytes()));
    let rows = &head[SHEET_HEAD.len()..];
    assert!(rows
        .chunks(ROW.len())
        .all(|r| ROW.as_bytes().starts_with(r)));
}

/// Reads a whole bomb through the zip crate (CRC checked at the end). Slow in debug.
#[test]
#[ignore = "inflates 2 GiB: run in release"]
fn the_bomb_really_inflates_to_gigabytes() {
    let bomb = periodic_xlsx(BOMB_ROWS, Bomb::Honest);
    let mut zip = zip::ZipArchive::new(Cursor::new(&bomb)).unwrap();
    let mut entry = zip.by_name("xl/worksheets/sheet1.xml").unwrap();
    let n = std::io::copy(&mut entry, &mut std::io::sink()).unwrap();
    assert_eq!(
        n,
        SHEET_HEAD.len() as u64 + BOMB_ROWS * 26 + SHEET_TAIL.len() as u64
    );
}

// ---------------------------------------------------------------------------------------
// An OLE2 compound file (what an encrypted .xlsx and a WPS .et are).

/// A version-3 compound file with these streams, each at least 4096 bytes so that they
/// live in ordinary sectors (no mini stream): header, one FAT sector, one directory
/// sector, then the streams.
fn compound_file(streams: &[(&str, &[u8])]) -> Vec<u8> {
    assert!(streams.len() <= 3);
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    const NONE: u32 = 0xFFFF_FFFF;
    let data: Vec<Vec<u8>> = streams
        .iter()
        .map(|(_, d)| {
            let mut d = d.to_vec();
            let padded = d.len().max(4096).div_ceil(512) * 512;
            d.resize(padded, 0);
            d
        })
        .collect();
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    let put16 = |b: &mut [u8], at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |b: &mut [u8], at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut header, 24, 0x3E);
    put16(&mut header, 26, 3);
    put16(&mut header, 28, 0xFFFE);
    put16(&mut header, 30, 9);
    put16(&mut header, 32, 6);
    put32(&mut header, 44, 1); // FAT sectors
    put32(&mut header, 48, 1); // first directory sector
    put32(&mut header, 56, 4096);
    put32(&mut header, 60, END); // no mini FAT
    put32(&mut header, 68, END); // no DIFAT sectors
    for i in 0..109 {
        put32(&mut header, 76 + 4 * i, if i == 0 { 0 } else { FREE });
    }
    let mut fat = vec![FREE; 128];
    fat[0] = 0xFFFF_FFFD; // the FAT itself
    fat[1] = END; // the directory
    let mut next = 2u32;
    let mut starts = Vec::new();
    for d in &data {
        let sectors = (d.len() / 512) as u32;
        starts.push(next);
        for s in next..next + sectors {
            fat[s as usize] = if s + 1 == next + sectors { END } else { s + 1 };
        }
        next += sectors;
    }
    assert!(next <= 128);
    let entry = |name: &str, kind: u8, right: u32, child: u32, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let utf16: Vec<u8> = name
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        e[..utf16.len()].copy_from_slice(&utf16);
        put16(
            &mut e,
            64,
            if name.is_empty() {
                0
            } else {
                utf16.len() as u16
            },
        );
        e[66] = kind;
        e[67] = 1; // black
        put32(&mut e, 68, NONE);
        put32(&mut e, 72, right);
        put32(&mut e, 76, child);
        put32(&mut e, 116, start);
        put32(&mut e, 120, size);
        e
    };
    // Siblings in a chain to the right, shortest name first (the compound-file order).
    let mut order: Vec<usize> = (0..streams.len()).collect();
    order.sort_by_key(|&i| {
        (
            streams[i].0.encode_utf16().count(),
            streams[i].0.to_uppercase(),
        )
    });
    let mut directory = entry("Root Entry", 5, NONE, order[0] as u32 + 1, END, 0);
    for i in 0..streams.len() {
        let pos = order.iter().position(|&o| o == i).unwrap();
        let right = order.get(pos + 1).map_or(NONE, |&o| o as u32 + 1);
        directory.extend(entry(
            streams[i].0,
            2,
            right,
            NONE,
            starts[i],
            streams[i].1.len().max(4096) as u32,
        ));
    }
    while directory.len() < 512 {
        directory.extend(entry("", 0, NONE, NONE, 0, 0));
    }
    let mut out = header;
    out.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
    out.extend(directory);
    for d in data {
        out.extend(d);
    }
    out
}

fn pseudo_random(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Rewriting a filled workbook as plain cells (see common.rs) with some cells changed.

/// `(sheet index, row, column)` of a report cell, found by the template's hidden keys.
fn key_cell(sheets: &[PlainSheet], table: &str, row: &str, col: &str) -> (usize, u32, u16) {
    let text = |v: &Data| match v {
        Data::String(s) => s.trim().to_string(),
        _ => String::new(),
    };
    for (i, sheet) in sheets.iter().enumerate() {
        let Some((&(_, key_col), _)) = sheet
            .cells
            .iter()
            .find(|(_, v)| text(v) == format!("nianbao:table:{table}"))
        else {
            continue;
        };
        let row_of = |marker: &str| {
            sheet
                .cells
                .iter()
                .find(|(&(_, c), v)| c == key_col && text(v) == marker)
                .map(|(&(r, _), _)| r)
                .unwrap()
        };
        let (r, cols) = (
            row_of(&format!("nianbao:row:{row}")),
            row_of("nianbao:cols"),
        );
        let c = sheet
            .cells
            .iter()
            .find(|(&(r, _), v)| r == cols && text(v) == col)
            .map(|(&(_, c), _)| c)
            .unwrap();
        return (i, r, c);
    }
    panic!("no table {table}")
}

/// Like common.rs's `write_plain` (values only, to bytes), with some cells written as
/// formulas.
fn write_plain_with(
    sheets: &[PlainSheet],
    formulas: &[((usize, u32, u16), rust_xlsxwriter::Formula)],
) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (i, sheet) in sheets.iter().enumerate() {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        for (&(r, c), v) in &sheet.cells {
            if let Some((_, f)) = formulas.iter().find(|(at, _)| *at == (i, r, c)) {
                ws.write_formula(r, c, f.clone()).unwrap();
                continue;
            }
            match v {
                Data::Float(x) => ws.write_number(r, c, *x).map(|_| ()),
                Data::Int(x) => ws.write_number(r, c, *x as f64).map(|_| ()),
                Data::String(s) => ws.write_string(r, c, s).map(|_| ()),
                Data::Bool(b) => ws.write_boolean(r, c, *b).map(|_| ()),
                other => ws.write_string(r, c, other.to_string()).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn plain(bytes: &[u8]) -> Vec<PlainSheet> {
    let scratch = Scratch::new();
    plain_sheets(&scratch.write("in.xlsx", bytes))
}

/// A filled workbook with a formula that evaluates to `#DIV/0!` in 表三's first input
/// cell (`t3.new.legal`); returns it and that cell's A1 address.
fn formula_error_workbook() -> (Vec<u8>, String) {
    let sheets = plain(&good("203", "公式错误单位"));
    let at = key_cell(&sheets, "t3", "new", "legal");
    let formula = rust_xlsxwriter::Formula::new("=1/0").set_result("#DIV/0!");
    let a1 = nianbao::cell::CellRef::new(at.1, at.2).to_string();
    (write_plain_with(&sheets, &[(at, formula)]), a1)
}

/// A filled workbook whose hidden `_nianbao` sheet says `template_version` 0.
fn old_template_workbook() -> Vec<u8> {
    let mut sheets = plain(&good("204", "旧模板单位"));
    let id = sheet_mut(&mut sheets, "_nianbao");
    let row = id
        .cells
        .iter()
        .find(|(&(_, c), v)| c == 0 && matches!(v, Data::String(s) if s == "template_version"))
        .map(|(&(r, _), _)| r)
        .unwrap();
    id.cells.insert((row, 1), Data::Float(0.0));
    write_plain_with(&sheets, &[])
}

/// A filled workbook whose shared strings carry a "billion laughs" DTD and an external
/// entity naming /etc/passwd; when `used`, one text section is `&lol9;&xxe;`.
fn entity_expansion_workbook(code: &str, name: &str, used: bool) -> Vec<u8> {
    let marker = "实体测试文字";
    let bytes = workbook(code, name, None, OK, &[], &[("other", marker)]);
    let mut parts = unzip(&bytes);
    let (_, sst) = parts
        .iter_mut()
        .find(|(n, _)| n == "xl/sharedStrings.xml")
        .expect("shared strings");
    let xml = String::from_utf8(std::mem::take(sst)).unwrap();
    let mut dtd = String::from("<!DOCTYPE sst [\n<!ENTITY lol \"lol\">\n");
    dtd.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let prev = format!("&lol{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{i} \"{prev}\">\n"));
    }
    dtd.push_str("<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>");
    let decl_end = xml.find("?>").unwrap() + 2;
    assert!(xml.contains(marker));
    let xml = format!(
        "{}{dtd}{}",
        &xml[..decl_end],
        if used {
            xml[decl_end..].replace(marker, "&lol9;&xxe;")
        } else {
            xml[decl_end..].to_string()
        }
    );
    *sst = xml.into_bytes();
    rezip(&parts)
}

// ---------------------------------------------------------------------------------------
// The batch

const IN: &str = "回收 批次";
const SUB: &str = "子 目录 （二）";

/// One hostile file: where it goes under [`IN`], its bytes, and what files.csv must say.
struct Case {
    file: String,
    bytes: Vec<u8>,
    status: &'static str,
    /// A distinctive part of the reason (empty: the reason must be empty).
    reason: &'static str,
}

fn case(file: &str, bytes: Vec<u8>, status: &'static str, reason: &'static str) -> Case {
    Case {
        file: file.to_string(),
        bytes,
        status,
        reason,
    }
}

fn cases() -> (Vec<Case>, String) {
    let good1 = good("201", "良好一号单位");
    let half = good1[..good1.len() / 2].to_vec();
    let (formula_error, formula_cell) = formula_error_workbook();
    let mut random = pseudo_random(8192, 0x5EED);
    random[0] = b'R';
    let mut sparse = rust_xlsxwriter::Workbook::new();
    let ws = sparse.add_worksheet().set_name("表三").unwrap();
    ws.write_number(0, 0, 1).unwrap();
    ws.write_number(1_048_575, 0, 2).unwrap();
    let sparse = sparse.save_to_buffer().unwrap();
    let cases = vec![
        case("良好一号.xlsx", good1, "accepted", ""),
        case(
            &format!("{SUB}/良好 二号.xlsx"),
            good("202", "良好二号单位"),
            "accepted",
            "",
        ),
        case(
            "零字节.xlsx",
            Vec::new(),
            "unreadable",
            "文件为空（0 字节）",
        ),
        case(
            "随机字节.xlsx",
            random,
            "unreadable",
            "不是 Excel / WPS / LibreOffice 工作簿",
        ),
        case("截断.xlsx", half, "unreadable", "文件不完整"),
        case(
            "网页.xls",
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>年报</title></head>\
              <body><table><tr><td>=1+1</td><td>3</td></tr></table></body></html>"
                .as_bytes()
                .to_vec(),
            "unreadable",
            "网页（HTML）文件，只是扩展名为 .xls",
        ),
        case(
            "导出.xls",
            "单位,本年新收\n山市镇,3\n".as_bytes().to_vec(),
            "unreadable",
            "文本（CSV）文件",
        ),
        case(
            "加密.xlsx",
            compound_file(&[
                ("EncryptionInfo", &[4, 0, 4, 0, 0x40, 0, 0, 0]),
                ("EncryptedPackage", &pseudo_random(6000, 9)),
            ]),
            "unreadable",
            "设置了打开密码",
        ),
        case(
            "炸弹.xlsx",
            periodic_xlsx(BOMB_ROWS, Bomb::Honest),
            "unreadable",
            "解压后约 2048 MB，超过 256 MB 的上限",
        ),
        case(
            "炸弹（谎报大小）.xlsx",
            periodic_xlsx(BOMB_ROWS, Bomb::Lying),
            "unreadable",
            "文件已损坏",
        ),
        case(
            "实体扩展.xlsx",
            entity_expansion_workbook("209", "实体扩展单位", true),
            "unreadable",
            "unrecognized entity `&lol9;`",
        ),
        case(
            "实体声明.xlsx",
            entity_expansion_workbook("211", "实体声明单位", false),
            "accepted",
            "",
        ),
        case(
            "百万行（稀疏）.xlsx",
            sparse,
            "unreadable",
            "从 A1 延伸到 A1048576",
        ),
        case(
            "公式错误.xlsx",
            formula_error,
            "rejected",
            "单元格是公式错误值",
        ),
        case("旧模板.xlsx", old_template_workbook(), "accepted", ""),
        case(
            "2021格式.xlsx",
            workbook("205", "别的格式单位", Some("2021"), OK, &[], &[]),
            "rejected",
            "报告格式与报告年度不符",
        ),
        case("越界单位.xlsx", good("206", "../../x"), "accepted", ""),
        case("脚本.xlsx", good("207", SCRIPT), "accepted", ""),
        case(
            "公式名称.xlsx",
            workbook(
                "208",
                EVIL_FORMULA,
                None,
                &[
                    ("t3.new.natural", 2.0),
                    ("t3.open.natural", 2.0),
                    ("t2.license.prev_items", 5.0),
                    ("t2.license.change", -2.0),
                ],
                &[],
                &[("overview", EVIL_FORMULA), ("other", "-2+3")],
            ),
            "accepted",
            "",
        ),
        case(
            "注入文字.xlsx",
            workbook(
                "210",
                "注入文字单位",
                None,
                OK,
                &[
                    ("t3.new.legal", "-2+3"),
                    ("t3.open.legal", "=cmd|' /C calc'!A0"),
                    ("t3.partial.legal", "@SUM(A1)"),
                ],
                &[],
            ),
            "rejected",
            "应为数字，实际为文字",
        ),
        case(
            "~$良好一号.xlsx",
            b"\x06clerk                                    ".to_vec(),
            "skipped",
            "临时锁文件",
        ),
        case(
            ".隐藏.xlsx",
            good("201", "良好一号单位"),
            "skipped",
            "隐藏文件",
        ),
        case(
            "说明.pdf",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            "unsupported",
            ".pdf 文件",
        ),
        case(
            &format!("{SUB}/报表.et"),
            compound_file(&[("ETWorkbook", &pseudo_random(5000, 3))]),
            "unreadable",
            "WPS 表格 .et 格式无法读取",
        ),
    ];
    (cases, formula_cell)
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn tree(root: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .collect()
}

/// Where an escaping `../../x` could land from the output directory and its likely
/// subdirectories, resolved lexically (the directories may not exist yet), with whether
/// each existed before the run.
fn outside_candidates(out: &Path) -> Vec<(PathBuf, bool)> {
    let lexical = |p: PathBuf| {
        let mut r = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    r.pop();
                }
                c => r.push(c),
            }
        }
        r
    };
    let mut v = Vec::new();
    for base in [out.to_path_buf(), out.join("reports"), out.join("units")] {
        for name in ["x", "x.html", "x.xlsx", "x.csv", "x.md", "x.json"] {
            for up in ["../..", "../../.."] {
                let p = lexical(base.join(up).join(name));
                let existed = p.exists();
                v.push((p, existed));
            }
        }
    }
    v
}

#[test]
fn a_batch_of_hostile_files_is_processed_file_by_file() {
    let scratch = Scratch::new();
    scratch.write("units.csv", roster());
    let (cases, formula_cell) = cases();
    for c in &cases {
        scratch.write(&format!("{IN}/{}", c.file), &c.bytes);
    }
    std::fs::create_dir_all(scratch.path("run")).unwrap();
    let out = scratch.path("run/out");
    let before = tree(scratch.dir.path());
    let candidates = outside_candidates(&out);

    let started = Instant::now();
    let run = nianbao()
        .current_dir(scratch.dir.path())
        .args(["ingest", IN, "--units", "units.csv", "--out", "run/out"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&run.stderr);
    eprintln!(
        "ingest of {} hostile files: {took:?}\n{stderr}",
        cases.len()
    );
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "exit {:?} (never 2, never a crash): {stderr}",
        run.status
    );
    assert!(took < Duration::from_secs(60), "ingest took {took:?}");

    // files.csv: one row per file, each with its status and reason.
    let files = records(&out.join("files.csv"));
    let mut table = String::new();
    for c in &cases {
        let name = format!("{IN}/{}", c.file);
        let row = files
            .iter()
            .find(|r| r["file"] == name)
            .unwrap_or_else(|| panic!("no row for {name} in {files:#?}"));
        table.push_str(&format!(
            "{} | {} | {}\n",
            c.file, row["status"], row["reason"]
        ));
        assert_eq!(row["status"], c.status, "{name}: {row:?}");
        if c.reason.is_empty() {
            assert_eq!(row["reason"], "", "{name}");
        } else {
            assert!(row["reason"].contains(c.reason), "{name}: {row:?}");
        }
    }
    eprintln!("{table}");
    assert_eq!(files.len(), cases.len(), "one row per file: {files:#?}");

    // Nothing written outside the output directory.
    let after = tree(scratch.dir.path());
    let new: Vec<_> = after
        .difference(&before)
        .filter(|p| !p.starts_with(&out))
        .collect();
    assert!(new.is_empty(), "written outside {}: {new:?}", out.display());
    for (p, existed) in &candidates {
        assert!(*existed || !p.exists(), "{} appeared", p.display());
    }

    // The formula error is V-1 at its cell.
    let diagnostics = records(&out.join("diagnostics.csv"));
    let v1 = diagnostics
        .iter()
        .find(|d| d["unit_code"] == "203" && d["rule"] == "V-1")
        .unwrap_or_else(|| panic!("no V-1 for 203: {diagnostics:#?}"));
    assert_eq!(v1["cell"], formula_cell, "{v1:?}");
    assert_eq!(v1["found"], "#DIV/0!", "{v1:?}");
    let y1 = diagnostics
        .iter()
        .find(|d| d["unit_code"] == "205" && d["rule"] == "Y-1");
    assert!(y1.is_some(), "{diagnostics:#?}");

    // CSV stays inert: texts that start a formula are quoted, numbers are not.
    let injected: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d["unit_code"] == "210" && d["rule"] == "V-1")
        .map(|d| d["found"].as_str())
        .collect();
    for typed in ["'-2+3", "'=cmd|' /C calc'!A0", "'@SUM(A1)"] {
        assert!(injected.contains(&typed), "{typed} in {injected:?}");
    }
    let units = records(&out.join("units.csv"));
    let evil = units.iter().find(|u| u["unit_code"] == "208").unwrap();
    assert_eq!(evil["unit_name"], format!("'{EVIL_FORMULA}"));
    assert_eq!(evil["status"], "accepted");
    let values = records(&out.join("values.csv"));
    let change = values
        .iter()
        .find(|v| {
            v["unit_code"] == "208" && v["row_code"] == "license" && v["col_code"] == "change"
        })
        .unwrap();
    assert_eq!(change["value"], "-2");
    assert_eq!(change["unit_name"], format!("'{EVIL_FORMULA}"));
    let mut csv_files = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        // roster.csv is the coordinator's own roster copied byte for byte (for `nianbao
        // report` to read back), so a name like `=HYPERLINK(…)` stays as they wrote it.
        if path.extension().is_some_and(|e| e == "csv") && !path.ends_with("roster.csv") {
            csv_files += 1;
            assert_inert(&path);
        }
    }
    assert!(csv_files >= 5);

    // The section texts, if they are written.
    if out.join("sections.csv").is_file() {
        let sections = records(&out.join("sections.csv"));
        let texts: Vec<&String> = sections
            .iter()
            .filter(|r| r["unit_code"] == "208")
            .flat_map(|r| r.values())
            .collect();
        for typed in [format!("'{EVIL_FORMULA}"), "'-2+3".to_string()] {
            assert!(texts.contains(&&typed), "{typed} in {texts:?}");
        }
    }
    let all_csv: String = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(!all_csv.contains("root:x:0:0"), "/etc/passwd leaked");
    assert!(!all_csv.contains("lollollol"), "entities expanded");

    // HTML and Markdown reports escape the names; workbooks hold them as text.
    let outputs = tree(&out);
    let has_ext = |p: &Path, ext: &str| p.extension().is_some_and(|e| e == ext);
    let mut html_files = 0;
    for p in outputs
        .iter()
        .filter(|p| has_ext(p, "html") || has_ext(p, "md"))
    {
        html_files += 1;
        let text = std::fs::read_to_string(p).unwrap();
        for raw in ["<script>", "<img src"] {
            // Markdown escapes with a backslash (`\<script\>` is literal text).
            let unescaped = text
                .match_indices(raw)
                .any(|(at, _)| !text[..at].ends_with('\\'));
            assert!(!unescaped, "{}: {raw}", p.display());
        }
        let name = p.file_name().unwrap().to_string_lossy();
        if name.starts_with("207_") && has_ext(p, "html") {
            assert!(
                text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{}",
                p.display()
            );
        }
    }
    if html_files == 0 {
        eprintln!("NOTE: ingest wrote no HTML or Markdown; escaping not checked here");
    }
    for p in outputs.iter().filter(|p| has_ext(p, "xlsx")) {
        use calamine::Reader as _;
        let mut wb = calamine::open_workbook_auto(p).unwrap();
        for sheet in wb.sheet_names() {
            let formulas = wb.worksheet_formula(&sheet).unwrap();
            for (_, _, f) in formulas.used_cells() {
                assert!(
                    !f.contains("HYPERLINK") && !f.contains("cmd|") && !f.contains("SUM(A1)"),
                    "{}!{sheet}: formula {f}",
                    p.display()
                );
            }
        }
    }
}

/// No text field of a CSV starts a formula; a field starting with `-` is a number.
fn assert_inert(path: &Path) {
    for (i, row) in read_csv(path).iter().enumerate() {
        for field in row {
            let dangerous = field.starts_with(['=', '+', '@', '\t', '\r'])
                || (field.starts_with('-') && field.parse::<f64>().is_err());
            assert!(
                !dangerous,
                "{} row {i}: {field:?} would be a formula in Excel",
                path.display()
            );
        }
    }
}

/// What one run of the binary did: exit code (None: killed by a signal, e.g. an abort),
/// stdout, wall time and the peak resident size in kB (VmHWM sampled from /proc every few
/// milliseconds while it runs; 0 where /proc is missing). Killed after `limit`.
struct Measured {
    code: Option<i32>,
    stdout: String,
    took: Duration,
    peak_kb: u64,
}

fn run_measured(args: &[&std::ffi::OsStr], limit: Duration) -> Measured {
    let started = Instant::now();
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_nianbao"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak_kb = peak_kb.max(hwm.unwrap_or(0));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running after {limit:?} (peak ≥ {peak_kb} kB)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    Measured {
        code: status.code(),
        stdout,
        took: started.elapsed(),
        peak_kb,
    }
}

/// `nianbao check --json FILE`, measured.
fn check_measured(path: &Path, limit: Duration) -> Measured {
    let args = ["check".as_ref(), "--json".as_ref(), path.as_os_str()];
    run_measured(&args, limit)
}

/// The zip bomb alone: refused fast, in flat memory. A debug build with its libraries
/// mapped peaks at about 20–40 MB; 2 GiB inflated would be far more.
#[test]
fn the_zip_bomb_is_refused_quickly_in_flat_memory() {
    let scratch = Scratch::new();
    for (name, bomb) in [("炸弹.xlsx", Bomb::Honest), ("谎报.xlsx", Bomb::Lying)] {
        let path = scratch.write(name, periodic_xlsx(BOMB_ROWS, bomb));
        let m = check_measured(&path, Duration::from_secs(20));
        eprintln!(
            "{name}: {:?}, peak RSS {} kB: {}",
            m.took, m.peak_kb, m.stdout
        );
        assert_eq!(m.code, Some(1), "{name}");
        match bomb {
            Bomb::Honest => assert!(m.stdout.contains("解压后约 2048 MB"), "{}", m.stdout),
            Bomb::Lying => assert!(
                m.stdout
                    .contains("File is larger than its declared uncompressed size"),
                "{}",
                m.stdout
            ),
        }
        assert!(m.peak_kb < 200_000, "{name}: peak {} kB", m.peak_kb);
    }
}

/// Every row of a sheet, each with a number: refused once the millionth cell is read
/// (1.2 s and 85 MB in release; about 20 s in a debug build, hence release only).
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "about 20 s in a debug build: run with --release"
)]
fn a_dense_million_row_sheet_is_refused() {
    let scratch = Scratch::new();
    let path = scratch.write("百万行.xlsx", periodic_xlsx(MILLION_ROWS, Bomb::Honest));
    assert!(std::fs::metadata(&path).unwrap().len() < 100_000);
    let m = check_measured(&path, Duration::from_secs(60));
    eprintln!(
        "dense million rows: {:?}, peak RSS {} kB",
        m.took, m.peak_kb
    );
    assert_eq!(m.code, Some(1));
    assert!(
        m.stdout.contains("从 A1 延伸到 A1000001") && m.stdout.contains("上限 100 万"),
        "{}",
        m.stdout
    );
    assert!(m.took < Duration::from_secs(10), "{:?}", m.took);
    assert!(m.peak_kb < 500_000, "peak {} kB", m.peak_kb);
}

#[test]
fn template_file_names_stay_in_the_output_directory() {
    let scratch = Scratch::new();
    scratch.write("units.csv", roster());
    std::fs::create_dir_all(scratch.path("tpl")).unwrap();
    let out = scratch.path("tpl/out");
    let before = tree(scratch.dir.path());
    let candidates = outside_candidates(&out);
    let run = nianbao()
        .current_dir(scratch.dir.path())
        .args([
            "template",
            "--year",
            "2020",
            "--units",
            "units.csv",
            "--out",
            "tpl/out",
        ])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let new: Vec<_> = tree(scratch.dir.path())
        .difference(&before)
        .filter(|p| !p.starts_with(&out))
        .cloned()
        .collect();
    assert!(new.is_empty(), "written outside: {new:?}");
    for (p, existed) in &candidates {
        assert!(*existed || !p.exists(), "{} appeared", p.display());
    }
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            assert!(
                e.file_type().unwrap().is_file(),
                "{:?} is not a file",
                e.path()
            );
            e.file_name().into_string().unwrap()
        })
        .collect();
    // 13 units, the blank template, the distribution list (CSV and workbook).
    assert_eq!(names.len(), 16, "{names:?}");
    for n in &names {
        assert!(
            !n.contains(['/', '\\', '<', '>', ':', '"', '|', '?', '*']) && !n.contains(".."),
            "{n}"
        );
    }
    assert!(names.iter().any(|n| n.starts_with("206_")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("207_")), "{names:?}");
    // The unit's own name is kept, as text, inside its workbook.
    let f = names.iter().find(|n| n.starts_with("207_")).unwrap();
    let wb = nianbao::read::read(&out.join(f)).unwrap();
    let id = wb.sheet("_nianbao").unwrap();
    assert!(id
        .cells
        .values()
        .any(|v| matches!(v, nianbao::read::RawValue::Text(t) if t == SCRIPT)));
}

// ---------------------------------------------------------------------------------------
// Mutation fuzzing of the whole per-file pipeline (read + locate + normalise + validate).

/// Seeds: a filled .xlsx (as written, and re-zipped without compression so that byte
/// mutations reach the XML), a 2021-format one, and the .xls and .ods LibreOffice makes
/// of it when LibreOffice is installed.
fn fuzz_seeds(scratch: &Scratch, with_ods: bool) -> Vec<(String, Vec<u8>)> {
    let xlsx = workbook(
        "201",
        "良好一号单位",
        None,
        &[
            ("t3.new.natural", 2.0),
            ("t3.open.natural", 2.0),
            ("t2.license.change", -2.0),
        ],
        &[("t3.new.legal", "１２件")],
        &[],
    );
    let stored = {
        let parts = unzip(&xlsx);
        zip_file(
            &parts
                .into_iter()
                .map(|(n, d)| Part::stored(&n, d))
                .collect::<Vec<_>>(),
        )
    };
    let mut seeds = vec![
        ("xlsx".to_string(), xlsx.clone()),
        ("xlsx".to_string(), stored),
        (
            "xlsx".to_string(),
            workbook("202", "良好二号单位", Some("2021"), OK, &[], &[]),
        ),
        ("xlsx".to_string(), periodic_xlsx(300, Bomb::Honest)),
    ];
    let path = scratch.write("seed.xlsx", &xlsx);
    let Some(bin) = crate::common::soffice() else {
        eprintln!("SKIPPED: LibreOffice not installed; no .xls/.ods seeds");
        return seeds;
    };
    let exts: &[&str] = if with_ods { &["xls", "ods"] } else { &["xls"] };
    for ext in exts {
        let out = StdCommand::new(bin)
            .arg(format!(
                "-env:UserInstallation=file://{}",
                scratch.path("lo-profile").display()
            ))
            .args(["--headless", "--convert-to", ext, "--outdir"])
            .arg(scratch.path("converted"))
            .arg(&path)
            .output()
            .unwrap();
        let converted = scratch.path(&format!("converted/seed.{ext}"));
        match std::fs::read(&converted) {
            Ok(bytes) => seeds.push((ext.to_string(), bytes)),
            Err(e) => eprintln!(
                "SKIPPED: LibreOffice wrote no .{ext} ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    seeds
}

/// One edit of a seed's bytes. Positions are fractions of the current length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(proptest::sample::Index, u8),
    Set(proptest::sample::Index, u8),
    Truncate(proptest::sample::Index),
    Delete(proptest::sample::Index, usize),
    /// Copy `len` bytes from `from` (in seed `seed`) over `to`.
    Splice {
        seed: proptest::sample::Index,
        from: proptest::sample::Index,
        to: proptest::sample::Index,
        len: usize,
    },
    /// Repeat the `len` bytes at `at`, `times` times (grows length fields' targets).
    Repeat(proptest::sample::Index, usize, usize),
    /// Write a small integer (a likely length, count or offset) at `at`.
    Int(proptest::sample::Index, u32, u8),
}

fn mutation() -> impl proptest::strategy::Strategy<Value = Mutation> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (any::<proptest::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<proptest::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<proptest::sample::Index>().prop_map(Mutation::Truncate),
        1 => (any::<proptest::sample::Index>(), 1usize..512).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (
            any::<proptest::sample::Index>(),
            any::<proptest::sample::Index>(),
            any::<proptest::sample::Index>(),
            1usize..2048
        )
            .prop_map(|(seed, from, to, len)| Mutation::Splice { seed, from, to, len }),
        1 => (any::<proptest::sample::Index>(), 1usize..64, 1usize..64)
            .prop_map(|(i, n, t)| Mutation::Repeat(i, n, t)),
        2 => (
            any::<proptest::sample::Index>(),
            prop_oneof![Just(0u32), Just(1), Just(0xFF), Just(0xFFFF), Just(0x7FFF_FFFF), Just(u32::MAX), any::<u32>()],
            prop_oneof![Just(1u8), Just(2), Just(4)]
        )
            .prop_map(|(i, v, w)| Mutation::Int(i, v, w)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation, seeds: &[(String, Vec<u8>)]) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len();
    match m {
        Mutation::Flip(i, bit) => bytes[i.index(n)] ^= 1 << bit,
        Mutation::Set(i, b) => bytes[i.index(n)] = *b,
        Mutation::Truncate(i) => bytes.truncate(i.index(n)),
        Mutation::Delete(i, len) => {
            let at = i.index(n);
            bytes.drain(at..(at + len).min(n));
        }
        Mutation::Splice {
            seed,
            from,
            to,
            len,
        } => {
            let src = &seeds[seed.index(seeds.len())].1;
            let from = from.index(src.len());
            let chunk = &src[from..(from + len).min(src.len())];
            let to = to.index(n);
            let end = (to + chunk.len()).min(n);
            bytes[to..end].copy_from_slice(&chunk[..end - to]);
        }
        Mutation::Repeat(i, len, times) => {
            let at = i.index(n);
            let chunk = bytes[at..(at + len).min(n)].to_vec();
            let tail = bytes.split_off(at);
            for _ in 0..*times {
                bytes.extend_from_slice(&chunk);
            }
            bytes.extend(tail);
        }
        Mutation::Int(i, v, width) => {
            let at = i.index(n);
            let le = v.to_le_bytes();
            let w = usize::from(*width).min(n - at);
            bytes[at..at + w].copy_from_slice(&le[..w]);
        }
    }
}

/// How one mutated file fared.
enum Outcome {
    Done(String, Duration),
    Panicked(String),
    Hung,
}

/// Runs `check_file` on the bytes in a thread, with a time bound.
fn check_bytes(bytes: &[u8], ext: &str, bound: Duration) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("mutated.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let formats = nianbao::format::Formats::builtin();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            nianbao::check::check_file(&path, "mutated", &formats, Default::default())
        }));
        let _ = tx.send(result.map(|sub| {
            sub.findings
                .iter()
                .find(|f| f.rule == "F-1")
                .map(|f| {
                    // The kind of read error: the message up to its first punctuation;
                    // a panic inside calamine (caught by the reader) with its message.
                    let m = f.message.trim_start_matches("无法读取：");
                    match m.split_once("读取时出错：") {
                        Some((_, panic)) => {
                            let panic = panic.split('）').next().unwrap_or_default();
                            format!(
                                "caught panic: {}",
                                panic.chars().take(80).collect::<String>()
                            )
                        }
                        None => m
                            .chars()
                            .take_while(|c| !"，（；：(".contains(*c))
                            .collect(),
                    }
                })
                .unwrap_or_else(|| format!("read; {} errors", sub.errors().min(3)))
        }));
        drop(dir);
    });
    match rx.recv_timeout(bound) {
        Ok(Ok(kind)) => Outcome::Done(kind, started.elapsed()),
        Ok(Err(panic)) => Outcome::Panicked(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
        Err(_) => Outcome::Hung,
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// `NIANBAO_FUZZ_CASES` (default 64), `NIANBAO_FUZZ_SEED` (default fixed; `random`),
/// `NIANBAO_FUZZ_CASE_SECS` (the per-file bound, default 20 in debug, 5 in release).
#[test]
fn mutated_workbooks_never_panic_or_hang() {
    use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
    let cases = env_u64("NIANBAO_FUZZ_CASES").unwrap_or(64) as u32;
    let long = cases > 64;
    let bound = Duration::from_secs(
        env_u64("NIANBAO_FUZZ_CASE_SECS").unwrap_or(if cfg!(debug_assertions) { 20 } else { 5 }),
    );
    let scratch = Scratch::new();
    let seeds = fuzz_seeds(&scratch, long);
    let seed_names: Vec<String> = seeds
        .iter()
        .enumerate()
        .map(|(i, (ext, b))| format!("#{i} .{ext} ({} bytes)", b.len()))
        .collect();
    eprintln!("fuzz seeds: {seed_names:?}");
    let rng_seed = match std::env::var("NIANBAO_FUZZ_SEED").as_deref() {
        Ok("random") => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            eprintln!("NIANBAO_FUZZ_SEED={t}");
            t
        }
        Ok(s) => s.parse().expect("NIANBAO_FUZZ_SEED: a number or `random`"),
        Err(_) => 0x6E69_616E_6261_6F21,
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&rng_seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let stats = std::sync::Mutex::new((
        std::collections::BTreeMap::<String, usize>::new(),
        Duration::ZERO,
        0usize,
    ));
    let started = Instant::now();
    let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 1..6));
    let result = runner.run(&strategy, |(which, mutations)| {
        let (ext, seed) = &seeds[which];
        let mut bytes = seed.clone();
        for m in &mutations {
            mutate(&mut bytes, m, &seeds);
        }
        match check_bytes(&bytes, ext, bound) {
            Outcome::Done(kind, took) => {
                let mut s = stats.lock().unwrap();
                *s.0.entry(kind).or_default() += 1;
                s.1 = s.1.max(took);
                s.2 += 1;
                Ok(())
            }
            Outcome::Panicked(message) => Err(TestCaseError::fail(format!(
                "panic: {message}; bytes {}",
                hex_head(&bytes)
            ))),
            Outcome::Hung => Err(TestCaseError::fail(format!(
                "no answer within {bound:?}; bytes {}",
                hex_head(&bytes)
            ))),
        }
    });
    let (kinds, slowest, n) = stats.into_inner().unwrap();
    eprintln!(
        "fuzz: {n} files checked in {:?} (slowest {slowest:?}), outcomes: {kinds:#?}",
        started.elapsed()
    );
    if let Err(e) = result {
        panic!("{e}\n(seeds: {seed_names:?})");
    }
}

/// The bytes, in hex, whole when short (else the first 256 bytes and the length).
fn hex_head(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().take(256).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 256 {
        format!("{hex}… ({} bytes)", bytes.len())
    } else {
        hex
    }
}

// ---------------------------------------------------------------------------------------
// Regressions found while writing these tests (both fixed in src/read.rs; the tests keep
// them fixed).

/// A filled workbook whose shared strings declare `uniqueCount="10000000000"`.
fn huge_unique_count_workbook() -> Vec<u8> {
    let mut parts = unzip(&good("203", "公式错误单位"));
    let (_, sst) = parts
        .iter_mut()
        .find(|(n, _)| n == "xl/sharedStrings.xml")
        .unwrap();
    let xml = String::from_utf8(std::mem::take(sst)).unwrap();
    let at = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
    let end = at + xml[at..].find('"').unwrap();
    *sst = format!("{}10000000000{}", &xml[..at], &xml[end..]).into_bytes();
    rezip(&parts)
}

/// Found here: calamine reserves `uniqueCount` strings up front (`Vec::reserve`, 24 bytes
/// each) when it opens an .xlsx. Ten digits in one attribute of `xl/sharedStrings.xml`
/// asked for 240 GB: the allocation failed and Rust **aborted the process** ("memory
/// allocation of 240000000000 bytes failed", SIGABRT; `catch_unwind` cannot catch that),
/// so `ingest` died with no output at all, whatever the other files. Now refused by
/// read.rs ([`nianbao::read::MAX_SHARED_STRINGS`]) before calamine opens the file.
#[test]
fn a_huge_shared_string_count_does_not_abort_the_batch() {
    let scratch = Scratch::new();
    scratch.write("units.csv", roster());
    scratch.write("in/良好.xlsx", good("201", "良好一号单位"));
    scratch.write("in/计数.xlsx", huge_unique_count_workbook());
    let run = nianbao()
        .current_dir(scratch.dir.path())
        .args(["ingest", "in", "--units", "units.csv", "--out", "out"])
        .output()
        .unwrap();
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{:?}: {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let files = records(&scratch.path("out/files.csv"));
    let status = |f: &str| files.iter().find(|r| r["file"] == f).unwrap()["status"].clone();
    assert_eq!(status("in/良好.xlsx"), "accepted");
    assert_eq!(status("in/计数.xlsx"), "unreadable");
}

/// An .ods of a few hundred bytes whose one row of `cols` numbers is repeated `rows`
/// times: calamine expands the repeats into a dense range (cells and formulas) before
/// anything can look at it.
fn ods_repeat_bomb(rows: u64, cols: u64) -> Vec<u8> {
    let content = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" "#,
            r#"xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" "#,
            r#"xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">"#,
            r#"<office:body><office:spreadsheet><table:table table:name="表二">"#,
            r#"<table:table-row table:number-rows-repeated="{rows}">"#,
            r#"<table:table-cell table:number-columns-repeated="{cols}" office:value-type="float" office:value="1">"#,
            r#"<text:p>1</text:p></table:table-cell></table:table-row>"#,
            r#"</table:table></office:spreadsheet></office:body></office:document-content>"#
        ),
        rows = rows,
        cols = cols
    );
    let manifest = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">"#,
        r#"<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>"#,
        r#"<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>"#,
        r#"</manifest:manifest>"#
    );
    zip_file(&[
        Part::stored(
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
        ),
        Part::stored("META-INF/manifest.xml", manifest.as_bytes().to_vec()),
        Part::stored("content.xml", content.into_bytes()),
    ])
}

/// Found here: an .ods of 1,360 bytes whose one row of 1,000 numbers is repeated 99,000
/// times. calamine expands the repeats into a dense range of 99 million cells (and a second
/// one for formulas) before the reader's area cap can look: it took 17 s and 6.0 GB peak
/// RSS in a release build before being refused (`ingest --jobs N` with N such files:
/// N × 6 GB). Now refused by read.rs before calamine expands anything.
#[test]
fn an_ods_with_repeated_rows_is_refused_before_expansion() {
    let scratch = Scratch::new();
    let path = scratch.write("重复.ods", ods_repeat_bomb(99_000, 1000));
    assert!(std::fs::metadata(&path).unwrap().len() < 2000);
    let m = check_measured(&path, Duration::from_secs(300));
    eprintln!(".ods repeat bomb: {:?}, peak RSS {} kB", m.took, m.peak_kb);
    assert_eq!(m.code, Some(1));
    assert!(m.stdout.contains("文件过大"), "{}", m.stdout);
    assert!(m.took < Duration::from_secs(5), "{:?}", m.took);
    assert!(m.peak_kb < 500_000, "peak {} kB", m.peak_kb);
}
