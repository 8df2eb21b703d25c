//! Helpers shared by the integration tests: a scratch directory, the binary, and reading
//! workbooks back with calamine.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use calamine::{open_workbook_auto, Data, Reader};

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
        out.push((
            nianbao::cell::CellRef::new(row, col as u16).to_string(),
            text,
        ));
    }
    out
}

/// The value of one cell (absolute position), as text.
pub fn cell_text(path: &Path, sheet: &str, a1: &str) -> String {
    let mut wb = open_workbook_auto(path).expect("open workbook");
    let range = wb.worksheet_range(sheet).expect("sheet");
    let at = nianbao::cell::CellRef::parse(a1).unwrap();
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
