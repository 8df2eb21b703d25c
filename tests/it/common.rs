//! Helpers shared by the integration tests: a scratch directory, the binary, reading
//! workbooks back with calamine, and where a key's cell is in a template.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use calamine::{open_workbook_auto, Data, Reader};
use nianbao::cell::CellRef;
use nianbao::format::{Format, Formats, Key};

/// The layout module (where everything goes on a sheet). Tests name it through this
/// re-export only, so that moving the module changes this line and nothing else.
pub use nianbao::layout;

/// The LibreOffice binary, if one runs here (`soffice`, else `libreoffice`): the tests
/// that need it print `SKIPPED` without it.
pub fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|bin| {
        std::process::Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

pub fn nianbao() -> Command {
    Command::cargo_bin("nianbao").expect("binary built")
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// A roster of a small county: a township with two villages and a department.
pub const ROSTER: &str = "\u{feff}code,name,parent_code,level,contact
100,示例县人民政府,,county,政务公开办
110,山市镇人民政府,100,township,党政办
111,山市村村民委员会,110,village,
112,东兴村村民委员会,110,village,
120,示例县教育局,100,department,办公室
";

/// Every non-empty cell of a sheet as `(A1, text)`, formulas as `=…`, in reading order.
pub fn dump_sheet(path: &Path, sheet: &str) -> Vec<(String, String)> {
    let mut wb = open_workbook_auto(path).expect("open workbook");
    let values = wb.worksheet_range(sheet).expect("sheet");
    let formulas = wb.worksheet_formula(sheet).expect("formulas");
    let mut out = Vec::new();
    for (r, c, v) in values.used_cells() {
        let (row, col) = (
            r as u32 + values.start().unwrap().0,
            c as u32 + values.start().unwrap().1,
        );
        let formula = formulas.get_value((row, col)).filter(|f| !f.is_empty());
        let text = match (formula, v) {
            (Some(f), _) => format!("={f}"),
            (None, Data::Empty) => continue,
            (None, Data::Float(x)) => format!("{x}"),
            (None, other) => other.to_string(),
        };
        out.push((a1_at(row, col as u16), text));
    }
    out
}

/// The value of one cell (absolute position), as text.
pub fn cell_text(path: &Path, sheet: &str, a1: &str) -> String {
    let mut wb = open_workbook_auto(path).expect("open workbook");
    let range = wb.worksheet_range(sheet).expect("sheet");
    let at = CellRef::parse(a1).unwrap();
    range
        .get_value((at.row, u32::from(at.col)))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// The XML of one part of an xlsx package (to check what calamine does not expose).
pub fn xlsx_part(path: &Path, part: &str) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut entry = zip.by_name(part).unwrap();
    let mut s = String::new();
    std::io::Read::read_to_string(&mut entry, &mut s).unwrap();
    s
}

/// 山市镇人民政府 of [`ROSTER`], as a template and a correction workbook name it.
pub fn township() -> nianbao::template::UnitInfo {
    nianbao::template::UnitInfo {
        code: "110".into(),
        name: "山市镇人民政府".into(),
        parent_code: "100".into(),
        parent_name: "示例县人民政府".into(),
        level: "township".into(),
    }
}

/// A filled workbook described in code: the township of [`ROSTER`] for `year`, with
/// `values` by key (`t3.new.natural`), `raw` text typed into numeric cells and the
/// text sections. Keys left out stay at the template's 0.
pub struct Filled<'a> {
    pub year: i32,
    pub format: Option<&'a str>,
    pub values: &'a [(&'a str, f64)],
    pub raw: &'a [(&'a str, &'a str)],
    pub texts: &'a [(&'a str, &'a str)],
}

/// Section texts that satisfy every text rule.
pub const TEXTS: &[(&str, &str)] = &[
    ("opening", "现将有关情况总结如下："),
    ("overview", "我镇对政务村务公开工作十分重视。\n第二段。"),
    ("problems", "公开资料建档工作还不够细致。"),
    ("other", "无。"),
];

/// The cover's contact fields every [`Filled`] workbook carries.
pub const CONTACT: &[(&str, &str)] = &[("filler", "李明"), ("phone", "0453-7221234")];

impl Filled<'_> {
    pub fn new(year: i32) -> Filled<'static> {
        Filled {
            year,
            format: None,
            values: &[],
            raw: &[],
            texts: TEXTS,
        }
    }

    pub fn write(&self, scratch: &Scratch, name: &str) -> PathBuf {
        use nianbao::template::{workbook_bytes, Prefill};
        let formats = Formats::builtin();
        let format = match self.format {
            Some(id) => formats.by_id(id).unwrap(),
            None => formats.for_year(self.year).unwrap(),
        };
        let unit = township();
        let mut prefill = Prefill::default();
        for (k, v) in self.values {
            prefill.values.insert(Key::from_string(k), *v);
        }
        for (k, v) in self.raw {
            prefill.raw.insert(Key::from_string(k), v.to_string());
        }
        for (k, v) in self.texts {
            prefill.texts.insert(k.to_string(), v.to_string());
        }
        // A filled report names who filled it in (rule CV-1).
        for (k, v) in CONTACT {
            prefill.cover.insert(k.to_string(), v.to_string());
        }
        let bytes = workbook_bytes(format, self.year, &unit, &prefill).unwrap();
        scratch.write(name, bytes)
    }
}

/// A sheet as plain cells, to rewrite a workbook the way a clerk's program might
/// (insert rows, drop columns, rename and reorder sheets).
pub struct PlainSheet {
    pub name: String,
    pub cells: std::collections::BTreeMap<(u32, u16), Data>,
}

/// The sheet called `name` among `sheets`, to change; panics when there is none.
pub fn sheet_mut<'a>(sheets: &'a mut [PlainSheet], name: &str) -> &'a mut PlainSheet {
    sheets
        .iter_mut()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
}

/// Reads every sheet's values (formulas keep only their cached results).
pub fn plain_sheets(path: &Path) -> Vec<PlainSheet> {
    let mut wb = open_workbook_auto(path).unwrap();
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let cells = range
                .used_cells()
                .filter(|(_, _, v)| !matches!(v, Data::Empty))
                .map(|(r, c, v)| ((r as u32 + r0, (c as u32 + c0) as u16), v.clone()))
                .collect();
            PlainSheet { name, cells }
        })
        .collect()
}

/// Writes plain sheets as a new xlsx (values only, no keys unless the cells carry them).
pub fn write_plain(sheets: &[PlainSheet], path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).unwrap();
        for ((r, c), v) in &sheet.cells {
            match v {
                Data::Float(x) => ws.write_number(*r, *c, *x).map(|_| ()),
                Data::Int(x) => ws.write_number(*r, *c, *x as f64).map(|_| ()),
                Data::String(s) => ws.write_string(*r, *c, s).map(|_| ()),
                Data::Bool(b) => ws.write_boolean(*r, *c, *b).map(|_| ()),
                other => ws.write_string(*r, *c, other.to_string()).map(|_| ()),
            }
            .unwrap();
        }
    }
    wb.save(path).unwrap();
}

/// Inserts `n` empty rows before `row` (zero-based) in a sheet.
pub fn insert_rows(sheet: &mut PlainSheet, row: u32, n: u32) {
    sheet.cells = std::mem::take(&mut sheet.cells)
        .into_iter()
        .map(|((r, c), v)| (if r >= row { (r + n, c) } else { (r, c) }, v))
        .collect();
}

/// Deletes a column (zero-based), shifting the rest left.
pub fn delete_column(sheet: &mut PlainSheet, col: u16) {
    sheet.cells = std::mem::take(&mut sheet.cells)
        .into_iter()
        .filter(|((_, c), _)| *c != col)
        .map(|((r, c), v)| (if c > col { (r, c - 1) } else { (r, c) }, v))
        .collect();
}

/// Runs `check` on files and returns (exit code, stdout).
pub fn check(files: &[&Path], extra: &[&str]) -> (i32, String) {
    let out = nianbao()
        .arg("check")
        .args(files)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The findings of one file as JSON values, via `check --json`.
pub fn findings(file: &Path) -> Vec<serde_json::Value> {
    let (_, out) = check(&[file], &["--json"]);
    out.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `(level, rule, cell)` of each finding, for compact assertions.
pub fn summary(findings: &[serde_json::Value]) -> Vec<(String, String, String)> {
    findings
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("level"), s("rule"), s("cell"))
        })
        .collect()
}

// ── Where a key is ───────────────────────────────────────────────────────────────
//
// Tests address cells by key (`t3.new.natural`), not by A1 position, so that moving a row
// of the layout breaks only the tests about positions (the layout snapshots).

/// The built-in format in force for `year`.
pub fn format_of(year: i32) -> &'static Format {
    static FORMATS: OnceLock<Formats> = OnceLock::new();
    let formats = FORMATS.get_or_init(Formats::builtin);
    formats
        .for_year(year)
        .unwrap_or_else(|e| panic!("year {year}: {e}"))
}

/// The zero-based cell of `key` in a fresh template of `year`'s format, keys spelled as in
/// a values CSV of `nianbao fill`: a table cell (`t3.new.natural`) on its table's sheet; a
/// numeric field (`fee_cases`), a section's text (`section:overview`) on the text sheet; a
/// field of the cover (`cover:filler`).
pub fn cell(year: i32, key: &str) -> CellRef {
    let format = format_of(year);
    let missing = || -> ! { panic!("no {key} in the {} format", format.id) };
    if let Some(code) = key.strip_prefix("cover:") {
        let i = nianbao::identity::COVER_FIELDS
            .iter()
            .position(|f| f.code == code)
            .unwrap_or_else(|| missing());
        return CellRef::new(layout::COVER_FIRST_ROW + i as u32, layout::COVER_VALUE_COL);
    }
    let text = layout::plan_text(format);
    if let Some(code) = key.strip_prefix("section:") {
        let (_, _, row) = text
            .sections
            .iter()
            .find(|(c, _, _)| c == code)
            .unwrap_or_else(|| missing());
        return CellRef::new(*row, layout::FIRST_COL);
    }
    let key = Key::from_string(key);
    if let Some((_, row)) = text.fields.iter().find(|(k, _)| *k == key) {
        return CellRef::new(*row, layout::TEXT_FIELD_COL);
    }
    let table = format.cell(&key).unwrap_or_else(|| missing()).table;
    layout::plan_table(format, table).cells[&key]
}

/// The A1 address of `key` in a fresh template of `year`'s format (see [`cell`]).
pub fn a1(year: i32, key: &str) -> String {
    cell(year, key).to_string()
}

/// The zero-based `(row, column)` of `key` (see [`cell`]), as [`PlainSheet`] cells are
/// indexed.
pub fn pos(year: i32, key: &str) -> (u32, u16) {
    let at = cell(year, key);
    (at.row, at.col)
}

/// The A1 address of a zero-based position.
pub fn a1_at(row: u32, col: u16) -> String {
    CellRef::new(row, col).to_string()
}

/// Where `key` is in a clerk's copy of the template in which its cell moved `rows` rows
/// down and `cols` columns right (negative: up, left), as after inserting rows above it or
/// deleting a column left of it.
pub fn a1_moved(year: i32, key: &str, (rows, cols): (i32, i32)) -> String {
    let at = cell(year, key);
    let row = at.row.checked_add_signed(rows).expect("row on the sheet");
    let col = at
        .col
        .checked_add_signed(cols as i16)
        .expect("column on the sheet");
    a1_at(row, col)
}

/// The cells of `keys` as findings print a sum (`E8+E9`), in a fresh template.
pub fn a1_sum(year: i32, keys: &[impl AsRef<str>]) -> String {
    a1_sum_moved(year, keys, (0, 0))
}

/// [`a1_sum`] in a clerk's copy where the cells moved (see [`a1_moved`]).
pub fn a1_sum_moved(year: i32, keys: &[impl AsRef<str>], by: (i32, i32)) -> String {
    let cells: Vec<String> = keys
        .iter()
        .map(|k| a1_moved(year, k.as_ref(), by))
        .collect();
    cells.join("+")
}

/// The rows of a CSV output (BOM or not) as maps from header to value: how every test
/// reads units.csv, files.csv, diagnostics.csv and the others.
pub fn records(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .map(str::to_string)
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// A filled workbook of any unit `code`/`name` for `year` (the fixtures of [`Filled`] are
/// all the township): the given values, every section of [`TEXTS`] and the cover's
/// [`CONTACT`] filled in, as a clerk returns it.
pub fn unit_return(code: &str, name: &str, year: i32, values: &[(&str, f64)]) -> Vec<u8> {
    use nianbao::format::Key;
    use nianbao::template::{workbook_bytes, Prefill, UnitInfo};
    let info = UnitInfo {
        code: code.into(),
        name: name.into(),
        ..Default::default()
    };
    let mut prefill = Prefill::default();
    for (k, v) in values {
        prefill.values.insert(Key::from_string(k), *v);
    }
    for (k, v) in TEXTS {
        prefill.texts.insert(k.to_string(), v.to_string());
    }
    for (k, v) in CONTACT {
        prefill.cover.insert(k.to_string(), v.to_string());
    }
    workbook_bytes(format_of(year), year, &info, &prefill).unwrap()
}

/// Every part of a zip package (xlsx, docx), inflated, in order.
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
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

/// Writes parts again with the zip crate (deflated), as a clerk's program would.
pub fn rezip(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// `nianbao ingest` of the bundled samples' returns of `year` with their roster into
/// `out`; the caller adds options and says what it expects.
pub fn ingest_samples(year: i32, out: &Path) -> Command {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = nianbao();
    command
        .arg("ingest")
        .arg(root.join(format!("samples/returns/{year}")))
        .arg("--units")
        .arg(root.join("samples/units.csv"))
        .arg("--out")
        .arg(out);
    command
}
