//! Reading a run's CSV outputs back: last year's values for `ingest --previous`, and
//! everything `nianbao report` re-renders from. The inverse of the writers beside it
//! (same headers, same neutralising of text cells undone).
//!
//! Files are streamed, a record at a time, and read strictly: a field that is not what
//! the writer writes (text or a non-finite number where a value goes, a record cut
//! short, a year other than the run's) is refused, naming the file and the line.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::labels::FIELDS_TABLE;
use super::rollup::Sums;
use super::Rollup;
use crate::batch::{Attribution, Counts, FileOutcome, Status};
use crate::format::Key;
use crate::output::{self, RunState};
use crate::roster::Roster;

pub use crate::output::CSV_FILES;

/// One CSV of a run's outputs, read a record at a time.
pub struct Csv {
    path: PathBuf,
    reader: csv::Reader<BufReader<std::fs::File>>,
    header: Vec<String>,
    record: csv::StringRecord,
}

impl Csv {
    pub fn open(dir: &Path, name: &str) -> Result<Csv> {
        let path = dir.join(name);
        let file =
            std::fs::File::open(&path).with_context(|| format!("无法读取 {}", path.display()))?;
        let mut buffered = BufReader::new(file);
        let bom = buffered
            .fill_buf()
            .with_context(|| format!("无法读取 {}", path.display()))?
            .starts_with(b"\xEF\xBB\xBF");
        if bom {
            buffered.consume(3);
        }
        let mut reader = csv::Reader::from_reader(buffered);
        let header = match reader.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(e) => return Err(csv_error(&path, &e)),
        };
        Ok(Csv {
            path,
            reader,
            header,
            record: csv::StringRecord::new(),
        })
    }

    pub fn col(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            anyhow!(
                "{} 缺少列 {name}，请用本版本的 nianbao ingest 重新生成",
                self.path.display()
            )
        })
    }

    /// Reads the next record; false at the end of the file.
    pub fn read_next(&mut self) -> Result<bool> {
        self.reader
            .read_record(&mut self.record)
            .map_err(|e| csv_error(&self.path, &e))
    }

    /// A field of the current record as written.
    pub fn raw(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("")
    }

    /// A text field of the current record, its formula neutralising undone.
    pub fn text(&self, col: usize) -> String {
        text(self.raw(col))
    }

    /// Where the current record is, for messages: `…/values.csv 第 12 行`.
    pub fn at(&self) -> String {
        let line = self.record.position().map_or(0, |p| p.line());
        format!("{} 第 {line} 行", self.path.display())
    }

    /// A value field: absent when empty; a finite number, or an error naming the line.
    pub fn number(&self, col: usize) -> Result<Option<f64>> {
        let field = self.raw(col);
        if field.is_empty() {
            return Ok(None);
        }
        let name = &self.header[col];
        match field.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            Ok(_) => bail!("{}：{name} 列的「{field}」不是有限的数字", self.at()),
            Err(_) => bail!("{}：{name} 列的「{field}」不是数字", self.at()),
        }
    }

    /// A count field (errors, warnings…): 0 when empty.
    pub fn count(&self, col: usize) -> Result<usize> {
        let field = self.raw(col);
        if field.is_empty() {
            return Ok(0);
        }
        field.parse().map_err(|_| {
            anyhow!(
                "{}：{} 列的「{field}」不是整数",
                self.at(),
                self.header[col]
            )
        })
    }

    /// The year field, which must be `expected` once that is known (the first record
    /// sets it otherwise).
    fn year(&self, col: usize, expected: &mut Option<i32>) -> Result<i32> {
        let field = self.raw(col);
        let year: i32 = field
            .parse()
            .map_err(|_| anyhow!("{}：year 列的「{field}」不是年度", self.at()))?;
        match *expected {
            Some(y) if y != year => bail!(
                "{}：年度为 {year}，与这次运行的 {y} 年度不符（文件被改动过？）",
                self.at()
            ),
            Some(_) => {}
            None => *expected = Some(year),
        }
        Ok(year)
    }
}

/// A CSV error in Chinese, with the file and line.
fn csv_error(path: &Path, e: &csv::Error) -> anyhow::Error {
    let line = e.position().map_or(0, |p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("有 {len} 列，应为 {expected_len} 列（文件被截断或改动过？）"),
        csv::ErrorKind::Utf8 { .. } => "不是 UTF-8 文本".to_string(),
        csv::ErrorKind::Io(err) => format!("读取失败：{err}"),
        _ => e.to_string(),
    };
    anyhow!("{} 第 {line} 行：{reason}", path.display())
}

/// Undoes the CSV's formula neutralising of a text cell (`'=…` → `=…`).
pub fn text(field: &str) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => field.to_string(),
    }
}

fn key_of(table: &str, row: &str, col: &str) -> Key {
    if table == FIELDS_TABLE {
        Key::field(row)
    } else {
        Key::cell(table, row, col)
    }
}

/// A CSV whose records come in runs of one code (values.csv and sections.csv by unit in
/// roster order, rollup.csv by parent), taken a run at a time.
struct Grouped {
    csv: Csv,
    by: usize,
    /// Whether the current record is read and not yet taken.
    pending: bool,
    seen: HashSet<String>,
}

impl Grouped {
    fn open(dir: &Path, name: &str, by: &str) -> Result<Grouped> {
        let csv = Csv::open(dir, name)?;
        let by = csv.col(by)?;
        Ok(Grouped {
            csv,
            by,
            pending: false,
            seen: HashSet::new(),
        })
    }

    /// The code of the next run of records, without taking it.
    fn peek(&mut self) -> Result<Option<String>> {
        if !self.pending {
            if !self.csv.read_next()? {
                return Ok(None);
            }
            self.pending = true;
        }
        Ok(Some(self.csv.text(self.by)))
    }

    /// The next run of records, each handed to `row`; its code.
    fn next_group(&mut self, mut row: impl FnMut(&Csv) -> Result<()>) -> Result<Option<String>> {
        let Some(code) = self.peek()? else {
            return Ok(None);
        };
        if !self.seen.insert(code.clone()) {
            bail!("{}：{code} 的行不连续（文件被改动过？）", self.csv.at());
        }
        let raw = self.csv.raw(self.by).to_string();
        loop {
            row(&self.csv)?;
            if !self.csv.read_next()? {
                self.pending = false;
                break;
            }
            if self.csv.raw(self.by) != raw {
                break;
            }
        }
        Ok(Some(code))
    }
}

/// A long-form file (values.csv, rollup.csv) one code's values at a time, every value
/// and year checked.
pub struct LongValues {
    groups: Grouped,
    cols: [usize; 5],
    year: Option<i32>,
}

impl LongValues {
    /// `by` is the code column (`unit_code`, `parent_code`); `year` the run's, when known
    /// (otherwise the first record's, which every other must have).
    pub fn open(dir: &Path, name: &str, by: &str, year: Option<i32>) -> Result<LongValues> {
        let groups = Grouped::open(dir, name, by)?;
        let c = &groups.csv;
        let cols = [
            c.col("year")?,
            c.col("table")?,
            c.col("row_code")?,
            c.col("col_code")?,
            c.col("value")?,
        ];
        Ok(LongValues { groups, cols, year })
    }

    /// The next code and its values (keys with an empty value are absent).
    pub fn next_values(&mut self) -> Result<Option<(String, BTreeMap<Key, f64>)>> {
        let [y, t, r, c, v] = self.cols;
        let year = &mut self.year;
        let mut values = BTreeMap::new();
        let code = self.groups.next_group(|csv| {
            csv.year(y, year)?;
            if let Some(value) = csv.number(v)? {
                values.insert(key_of(csv.raw(t), csv.raw(r), csv.raw(c)), value);
            }
            Ok(())
        })?;
        Ok(code.map(|code| (code, values)))
    }

    /// The next code and its values placed by the position of their key in `keys`
    /// (`None` where a key has no value). Each record is first compared with the key
    /// after the last one placed: values.csv is written in the order of the format's
    /// keys, so a unit costs no key built and no lookup. A record out of that order is
    /// looked up; one whose key is not in `keys` is left out. As strict as
    /// [`LongValues::next_values`].
    pub fn next_values_placed(
        &mut self,
        keys: &Placed,
    ) -> Result<Option<(String, Vec<Option<f64>>)>> {
        let [y, t, r, c, v] = self.cols;
        let year = &mut self.year;
        let mut values = vec![None; keys.keys.len()];
        let mut next = 0;
        let code = self.groups.next_group(|csv| {
            csv.year(y, year)?;
            if let Some(value) = csv.number(v)? {
                let (table, row, col) = (csv.raw(t), csv.raw(r), csv.raw(c));
                let at = match keys.keys.get(next) {
                    Some(key) if spells(key, table, row, col) => Some(next),
                    _ => keys.at.get(&key_of(table, row, col)).copied(),
                };
                if let Some(at) = at {
                    values[at] = Some(value);
                    next = at + 1;
                }
            }
            Ok(())
        })?;
        Ok(code.map(|code| (code, values)))
    }

    /// The year of the records read so far.
    pub fn year(&self) -> Option<i32> {
        self.year
    }
}

/// Keys in the order their values are wanted, for [`LongValues::next_values_placed`].
pub struct Placed {
    keys: Vec<Key>,
    at: BTreeMap<Key, usize>,
}

impl Placed {
    pub fn new(keys: Vec<Key>) -> Placed {
        let at = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        Placed { keys, at }
    }
}

/// Whether `key` is what [`key_of`] makes of these fields, without making it.
fn spells(key: &Key, table: &str, row: &str, col: &str) -> bool {
    let key = key.as_str();
    if table == FIELDS_TABLE {
        return key == row;
    }
    let rest = key.strip_prefix(table).and_then(|k| k.strip_prefix('.'));
    let rest = rest
        .and_then(|k| k.strip_prefix(row))
        .and_then(|k| k.strip_prefix('.'));
    rest == Some(col)
}

/// sections.csv one unit at a time, in step with values.csv (both are written for the
/// accepted units, in the same order).
pub struct UnitTexts {
    groups: Grouped,
    cols: [usize; 2],
}

impl UnitTexts {
    pub fn open(dir: &Path) -> Result<UnitTexts> {
        let groups = Grouped::open(dir, "sections.csv", "unit_code")?;
        let cols = [groups.csv.col("section_code")?, groups.csv.col("text")?];
        Ok(UnitTexts { groups, cols })
    }

    /// The texts of `code` if they come next (a format without text sections has none).
    pub fn take(&mut self, code: &str) -> Result<BTreeMap<String, String>> {
        let mut texts = BTreeMap::new();
        if self.groups.peek()?.as_deref() == Some(code) {
            let [s, t] = self.cols;
            self.groups.next_group(|csv| {
                texts.insert(csv.raw(s).to_string(), csv.text(t));
                Ok(())
            })?;
        }
        Ok(texts)
    }

    /// Fails if texts are left for a unit that had no values.
    pub fn finish(mut self) -> Result<()> {
        match self.groups.peek()? {
            Some(code) => bail!(
                "{}：单位 {code} 有文字部分，但 values.csv 中没有它的数值，或顺序不同（文件被改动过？）",
                self.groups.csv.at()
            ),
            None => Ok(()),
        }
    }
}

/// Last year's run for `ingest --previous`: its year and every accepted unit's values.
#[derive(Debug)]
pub struct Previous {
    pub dir: PathBuf,
    pub year: i32,
    pub values: BTreeMap<String, BTreeMap<Key, f64>>,
}

/// Reads the run in `dir` for `--previous`: a run that finished (when it has a run
/// record: its values.csv as recorded), each value a finite number; or, when `dir` is a
/// file, a previous year's package (its values.csv, verified against its manifest).
pub fn previous(dir: &Path) -> Result<Previous> {
    if dir.is_file() {
        return previous_package(dir);
    }
    let shown = dir.display();
    let record = output::read_record(dir)?;
    if let Some(r) = &record {
        if r.state != RunState::Complete {
            bail!("上一年度的输出目录 {shown} 中，上次运行没有完成；请先在那里重新运行 nianbao ingest");
        }
        let file = r
            .file("values.csv")
            .ok_or_else(|| anyhow!("上一年度的输出目录 {shown} 的运行记录中没有 values.csv"))?;
        output::check_file(dir, file)?;
    }
    let mut year = record.as_ref().map(|r| r.year);
    let mut values = BTreeMap::new();
    let mut long = LongValues::open(dir, "values.csv", "unit_code", year)?;
    while let Some((code, v)) = long.next_values()? {
        values.insert(code, v);
    }
    year = year.or(long.year());
    if year.is_none() {
        // No accepted unit last year: the roll-up still names the year.
        let mut rollup = LongValues::open(dir, "rollup.csv", "parent_code", None)?;
        rollup.next_values()?;
        year = rollup.year();
    }
    let year = year.ok_or_else(|| anyhow!("无法确定 {shown} 是哪一年度的汇总结果"))?;
    Ok(Previous {
        dir: dir.to_path_buf(),
        year,
        values,
    })
}

/// `--previous` given a package: the values it carries, for the year its manifest says.
fn previous_package(path: &Path) -> Result<Previous> {
    let shown = path.display();
    let (manifest, bytes) = crate::batch::package::member_bytes(path, "values.csv")
        .map_err(|reason| anyhow!("--previous 给出的 {shown} 不是可用的上报包：{reason}"))?;
    let dir = tempfile::tempdir().context("无法创建临时目录")?;
    std::fs::write(dir.path().join("values.csv"), bytes).context("无法写入临时文件")?;
    let mut values = BTreeMap::new();
    let mut long = LongValues::open(dir.path(), "values.csv", "unit_code", Some(manifest.year))
        .map_err(|e| anyhow!("{shown} 中的 values.csv：{e}"))?;
    while let Some((code, v)) = long
        .next_values()
        .map_err(|e| anyhow!("{shown} 中的 values.csv：{e}"))?
    {
        values.insert(code, v);
    }
    Ok(Previous {
        dir: path.to_path_buf(),
        year: manifest.year,
        values,
    })
}

impl Previous {
    /// Fails unless the previous run's year is before `year`: a comparison with the same
    /// or a later year would reject units for figures that were never carried over.
    pub fn check_before(&self, year: i32) -> Result<()> {
        if self.year >= year {
            bail!(
                "--previous 给出的 {} 是 {} 年度的汇总结果，不是本次 {year} 年度的上一年度；请给出更早年度（通常是 {} 年度）的 nianbao ingest 输出目录或上报包",
                self.dir.display(),
                self.year,
                year - 1
            );
        }
        Ok(())
    }
}

/// The 落款 date of each accepted unit, by code (units.csv's [`super::UNITS_SIGNED`]);
/// empty for a run written before the column existed.
pub fn signed_on(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut units = Csv::open(dir, "units.csv")?;
    let (Ok(code), Ok(signed)) = (units.col("unit_code"), units.col(super::UNITS_SIGNED)) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    while units.read_next()? {
        let date = units.text(signed);
        if !date.is_empty() {
            out.insert(units.text(code), date);
        }
    }
    Ok(out)
}

/// One outcome per row of units.csv that names a file.
pub fn outcomes(dir: &Path) -> Result<Vec<FileOutcome>> {
    let mut units = Csv::open(dir, "units.csv")?;
    let col = |n: &str| units.col(n);
    let (code, name, status, file, reason) = (
        col("unit_code")?,
        col("unit_name")?,
        col("status")?,
        col("file")?,
        col("reason")?,
    );
    let (e, w, x) = (col("errors")?, col("warnings")?, col("fixes")?);
    let mut out = Vec::new();
    while units.read_next()? {
        let st = match Status::from_code(units.raw(status)) {
            Some(Status::Missing) => continue,
            Some(st) => st,
            None => bail!(
                "{}：status 列的「{}」不是状态代码",
                units.at(),
                units.raw(status)
            ),
        };
        out.push(FileOutcome {
            file: units.text(file),
            status: st,
            reason: units.text(reason),
            unit_code: units.text(code),
            chosen: None,
            workbook_code: units.text(code),
            unit_name: units.text(name),
            year: None,
            counts: Some(Counts {
                errors: units.count(e)?,
                warnings: units.count(w)?,
                fixes: units.count(x)?,
            }),
            stored: None,
            modified: None,
            identity_conflict: false,
            package: None,
            name_note: None,
        });
    }
    Ok(out)
}

/// The roll-ups of rollup.csv: their values as written, their unit lists worked out
/// again from the roster and the units' statuses by the same rule `ingest` used
/// ([`Attribution`] and the roll-up membership of `consolidate/rollup.rs`).
pub fn rollups(
    dir: &Path,
    year: i32,
    outcomes: &[FileOutcome],
    roster: Option<&Roster>,
) -> Result<Vec<Rollup>> {
    let mut long = LongValues::open(dir, "rollup.csv", "parent_code", Some(year))?;
    let mut values = BTreeMap::new();
    while let Some((code, v)) = long.next_values()? {
        values.insert(code, v);
    }
    let who = Attribution::new(roster, outcomes);
    let mut out = Sums::new(&who).finish();
    for r in &mut out {
        r.values = values.remove(&r.code).unwrap_or_default();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_placed_by_key_whether_or_not_they_come_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "unit_code,year,table,row_code,col_code,value\n\
                   A,2024,t3,new,natural,1\n\
                   A,2024,t3,new,legal,2\n\
                   A,2024,fields,fee,,5\n\
                   A,2024,t9,x,y,7\n\
                   B,2024,t3,new,legal,4\n\
                   B,2024,t3,new,natural,3\n\
                   B,2024,fields,fee,,\n\
                   C,2024,t3,new,natural,abc\n";
        std::fs::write(dir.path().join("values.csv"), csv).unwrap();
        let keys = Placed::new(vec![
            Key::cell("t3", "new", "natural"),
            Key::cell("t3", "new", "legal"),
            Key::field("fee"),
        ]);
        let mut long = LongValues::open(dir.path(), "values.csv", "unit_code", Some(2024)).unwrap();
        let a = long.next_values_placed(&keys).unwrap().unwrap();
        assert_eq!(
            a,
            ("A".to_string(), vec![Some(1.0), Some(2.0), Some(5.0)]),
            "t9.x.y is not a column"
        );
        let b = long.next_values_placed(&keys).unwrap().unwrap();
        assert_eq!(b, ("B".to_string(), vec![Some(3.0), Some(4.0), None]));
        let bad = long.next_values_placed(&keys).unwrap_err().to_string();
        assert!(
            bad.contains("「abc」不是数字") && bad.contains("第 9 行"),
            "{bad}"
        );
    }

    #[test]
    fn a_key_is_spelled_by_its_fields_only_when_every_part_matches() {
        let key = Key::cell("t3", "new", "natural");
        assert!(spells(&key, "t3", "new", "natural"));
        assert!(
            !spells(&key, "t3", "ne", "w.natural"),
            "parts, not the joined text"
        );
        assert!(!spells(&key, "t3", "new", "natura"));
        assert!(!spells(&key, "t", "3.new", "natural"));
        assert!(spells(&Key::field("fee"), "fields", "fee", ""));
        assert!(!spells(&Key::field("fee"), "t3", "fee", ""));
    }
}
