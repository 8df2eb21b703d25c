//! The roster of administrative units (单位名册) and their hierarchy.
//!
//! This module owns reading the roster CSV (`code,name,parent_code,level`, plus any other
//! columns such as a contact person) and everything derived from it: looking a unit up by
//! code or by name, and walking the hierarchy (village 行政村 → township 镇/乡 → county, and
//! county departments under the county).
//!
//! Loading is strict: a roster that is malformed in any way (wrong encoding, missing
//! column, ragged row, empty or duplicate code, unknown parent, a cycle, no units at all)
//! is rejected with one [`RosterError`] whose message is in Chinese and names the file and
//! the 1-based line of the CSV, because the clerk who maintains the roster must fix it
//! before any workbook is generated. A loaded [`Roster`] is therefore always a forest:
//! every parent exists and every chain of parents ends at a root.
//!
//! Accepted input:
//!
//! - UTF-8 with or without a byte-order mark; otherwise GBK (what Excel on Chinese Windows
//!   writes when saving "CSV (逗号分隔)").
//! - A header row; column names are matched case-insensitively after trimming, with the
//!   Chinese aliases 代码/单位代码, 名称/单位名称, 上级代码/上级单位代码, 层级/级别.
//! - Blank lines, and rows whose fields are all blank (Excel writes `,,,` for rows that
//!   were merely formatted), are skipped.
//! - Every field is trimmed. An empty `parent_code` makes the unit a root. `level` is free
//!   text (`county`, `township`, `县`, `镇`, `村`, `部门`, …) kept as written.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::model::{is_terminal_control, terminal_text, CodeProblem, UnitCode};

/// One row of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    /// `None` for a root (empty `parent_code`).
    pub parent: Option<UnitCode>,
    /// Free text, trimmed, kept as written (`county`, `镇`, `村`, …). May be empty.
    pub level: String,
    /// The other columns (header name, value), both trimmed, in file order. Each header
    /// name is one string shared by every unit.
    pub extra: Vec<(Arc<str>, String)>,
    /// The 1-based line of the CSV where this row starts.
    pub line: u64,
}

/// The loaded roster: units in file order plus the indexes used to walk the hierarchy.
///
/// Every method returns units in file order, so results are deterministic.
#[derive(Debug, Clone)]
pub struct Roster {
    units: Vec<Unit>,
    /// The units' positions, sorted by code: looked up by binary search. A fifth of the
    /// memory of a hash map holding a copy of every code (a province's roster is
    /// 100,000 units, kept for the whole run).
    by_code: Vec<u32>,
    parent_of: Vec<Option<usize>>,
    children_of: Vec<Vec<usize>>,
    roots: Vec<usize>,
    /// Each unit's name after [`normalize_name`], where that differs from its name.
    normalized_names: Vec<Option<Box<str>>>,
}

/// Why a roster could not be loaded. Every message is for the clerk: plain Chinese, naming
/// the file and, where there is one, the 1-based line of the CSV.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("无法读取名册文件 {origin}：{}", io_reason(.source))]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "名册文件 {origin} 既不是 UTF-8 编码也不是 GBK 编码，无法读取。\
         请用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”格式再试。"
    )]
    Encoding { origin: String },

    #[error("名册文件 {origin} 第 {line} 行无法按 CSV 格式读取：{message}")]
    Csv {
        origin: String,
        line: u64,
        message: String,
    },

    #[error(
        "名册文件 {origin} 是空的：第 1 行应当是表头，\
         至少包含 code（代码）、name（名称）、parent_code（上级代码）、level（层级）四列。"
    )]
    NoHeader { origin: String },

    #[error(
        "名册文件 {origin} 第 {line} 行（表头）缺少必需的列：{}。找到的表头是：{}。",
        join_list(.missing), quote_list(.found)
    )]
    MissingColumns {
        origin: String,
        line: u64,
        /// The canonical names of the missing columns, e.g. `parent_code（上级代码）`.
        missing: Vec<String>,
        /// The header cells as written.
        found: Vec<String>,
    },

    #[error(
        "名册文件 {origin} 第 {line} 行（表头）中“{first}”和“{second}”都表示 {column} 列，\
         请只保留其中一列。"
    )]
    DuplicateColumn {
        origin: String,
        line: u64,
        column: String,
        first: String,
        second: String,
    },

    #[error(
        "名册文件 {origin} 第 {line} 行有 {found} 个字段，但表头（第 {header_line} 行）有 \
         {expected} 列。请检查这一行是否多了或少了逗号；名称中含有逗号时要用英文双引号括起来。"
    )]
    RaggedRow {
        origin: String,
        line: u64,
        header_line: u64,
        expected: usize,
        found: usize,
    },

    #[error("名册文件 {origin} 第 {line} 行：单位代码为空。")]
    EmptyCode { origin: String, line: u64 },

    #[error(
        "名册文件 {origin} 第 {line} 行：{column}“{code}”是科学记数法：Excel 把长数字代码当成了数字，\
         原来的代码已经丢失。请在 Excel 中把代码列设为“文本”格式后重新输入代码（或在代码前加英文单引号 '），\
         再另存为 CSV；也可以直接使用 .xlsx 名册。"
    )]
    ScientificCode {
        origin: String,
        line: u64,
        /// Which column: 单位代码 or 上级代码.
        column: &'static str,
        code: String,
    },

    #[error(
        "名册文件 {origin} 第 {line} 行：{column}“{code}”格式不对：单位代码应{}。",
        UnitCode::RULE
    )]
    BadCode {
        origin: String,
        line: u64,
        /// Which column: 单位代码 or 上级代码.
        column: &'static str,
        code: String,
    },

    #[error(
        "名册文件 {origin} 第 {line} 行：{column}中有控制字符（换行、制表符、ESC 等），\
         请删除后再试。"
    )]
    ControlChars {
        origin: String,
        line: u64,
        /// Which column: 单位名称 or 层级.
        column: &'static str,
    },

    #[error("名册文件 {origin} 第 {line} 行：单位 {code} 的名称为空。")]
    EmptyName {
        origin: String,
        line: u64,
        code: UnitCode,
    },

    #[error(
        "名册文件 {origin} 第 {line} 行：单位代码 {code} 与第 {first_line} 行重复，\
         每个单位的代码必须唯一。"
    )]
    DuplicateCode {
        origin: String,
        code: UnitCode,
        first_line: u64,
        line: u64,
    },

    #[error("名册文件 {origin} 第 {line} 行：单位 {code} 的上级代码 {parent} 在名册中不存在。")]
    UnknownParent {
        origin: String,
        line: u64,
        code: UnitCode,
        parent: UnitCode,
    },

    #[error(
        "名册文件 {origin} 第 {line} 行：单位 {} 的上级关系形成了循环（{}）。\
         沿着上级代码往上找，最终必须到达一个上级代码为空的单位。",
        cycle_head(.codes), cycle_text(.codes)
    )]
    Cycle {
        origin: String,
        /// The line of `codes[0]`, the member of the cycle that comes first in the file.
        line: u64,
        /// The units in the cycle, each followed by its parent; the last one's parent is
        /// `codes[0]`. A unit that is its own parent gives a single code.
        codes: Vec<UnitCode>,
    },

    #[error("名册文件 {origin} 只有表头（第 {header_line} 行），没有任何单位。")]
    Empty { origin: String, header_line: u64 },
}

impl RosterError {
    /// The 1-based CSV line the error points at, if it points at one.
    pub fn line(&self) -> Option<u64> {
        match self {
            RosterError::Io { .. } | RosterError::Encoding { .. } => None,
            RosterError::NoHeader { .. } => Some(1),
            RosterError::Csv { line, .. }
            | RosterError::MissingColumns { line, .. }
            | RosterError::DuplicateColumn { line, .. }
            | RosterError::RaggedRow { line, .. }
            | RosterError::EmptyCode { line, .. }
            | RosterError::BadCode { line, .. }
            | RosterError::ScientificCode { line, .. }
            | RosterError::ControlChars { line, .. }
            | RosterError::EmptyName { line, .. }
            | RosterError::DuplicateCode { line, .. }
            | RosterError::UnknownParent { line, .. }
            | RosterError::Cycle { line, .. } => Some(*line),
            RosterError::Empty { header_line, .. } => Some(*header_line),
        }
    }
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "文件不存在".to_string(),
        std::io::ErrorKind::PermissionDenied => "没有读取权限".to_string(),
        _ => err.to_string(),
    }
}

fn join_list(items: &[String]) -> String {
    items.join("、")
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("“{s}”"))
        .collect::<Vec<_>>()
        .join("、")
}

fn cycle_head(codes: &[UnitCode]) -> String {
    codes.first().map(UnitCode::to_string).unwrap_or_default()
}

fn cycle_text(codes: &[UnitCode]) -> String {
    let mut parts: Vec<String> = codes.iter().map(UnitCode::to_string).collect();
    if let Some(first) = codes.first() {
        parts.push(first.to_string());
    }
    parts.join(" → ")
}

/// The four required columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Code,
    Name,
    ParentCode,
    Level,
}

impl Column {
    const ALL: [Column; 4] = [
        Column::Code,
        Column::Name,
        Column::ParentCode,
        Column::Level,
    ];

    fn slot(self) -> usize {
        match self {
            Column::Code => 0,
            Column::Name => 1,
            Column::ParentCode => 2,
            Column::Level => 3,
        }
    }

    /// The name shown to the clerk: canonical name plus the main Chinese alias.
    fn label(self) -> &'static str {
        match self {
            Column::Code => "code（代码）",
            Column::Name => "name（名称）",
            Column::ParentCode => "parent_code（上级代码）",
            Column::Level => "level（层级）",
        }
    }

    /// Recognises a header cell: trimmed, case-insensitive, Chinese aliases accepted.
    fn from_header(cell: &str) -> Option<Column> {
        let key = cell.trim_start_matches('\u{feff}').trim().to_lowercase();
        match key.as_str() {
            "code" | "代码" | "单位代码" => Some(Column::Code),
            "name" | "名称" | "单位名称" => Some(Column::Name),
            "parent_code" | "上级代码" | "上级单位代码" => Some(Column::ParentCode),
            "level" | "层级" | "级别" => Some(Column::Level),
            _ => None,
        }
    }
}

/// Normalises a unit name for [`Roster::find_by_name`]: full-width ASCII (U+FF01..U+FF5E)
/// becomes half-width, the ideographic space U+3000 becomes a space, and then all
/// whitespace (leading, trailing and inner) is removed.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// How a roster level reads in outputs people read (reports, the overview, the
/// workbooks for the coordinator): the English codes rosters often use (`township`) in
/// Chinese, anything else as written (`镇`, `县直部门`).
pub fn level_label(level: &str) -> String {
    let chinese = match level.trim().to_ascii_lowercase().as_str() {
        "province" => "省级",
        "city" | "prefecture" => "市级",
        "county" => "县级",
        "district" => "区级",
        "township" | "town" => "乡镇",
        "subdistrict" | "street" => "街道",
        "village" => "行政村",
        "community" => "社区",
        "department" | "dept" => "部门",
        _ => return level.to_string(),
    };
    chinese.to_string()
}

/// Strips a UTF-8 BOM; decodes as UTF-8, or failing that as GBK.
fn decode<'a>(bytes: &'a [u8], origin: &str) -> Result<Cow<'a, str>, RosterError> {
    decode_csv_text(bytes).ok_or_else(|| RosterError::Encoding {
        origin: origin.to_string(),
    })
}

/// The text of a CSV a clerk made: a UTF-8 byte-order mark stripped; UTF-8, or failing
/// that GBK (what Excel on Chinese Windows writes). `None` if it is neither. Used for
/// every CSV people give the tool (rosters, values tables).
pub fn decode_csv_text(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(text));
    }
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(bytes);
    (!had_errors).then_some(text)
}

/// Where each required column sits in the header, and the names of the other columns.
struct Header {
    line: u64,
    width: usize,
    /// Position of code, name, parent_code, level.
    required: [usize; 4],
    /// (position, trimmed header name) of every other column.
    extra: Vec<(usize, Arc<str>)>,
}

impl Header {
    fn parse(record: &csv::StringRecord, line: u64, origin: &str) -> Result<Header, RosterError> {
        let mut found: [Option<usize>; 4] = [None; 4];
        let mut extra = Vec::new();
        for (pos, cell) in record.iter().enumerate() {
            match Column::from_header(cell) {
                Some(column) => {
                    let slot = column.slot();
                    if let Some(prev) = found[slot] {
                        return Err(RosterError::DuplicateColumn {
                            origin: origin.to_string(),
                            line,
                            column: column.label().to_string(),
                            first: record.get(prev).unwrap_or_default().trim().to_string(),
                            second: cell.trim().to_string(),
                        });
                    }
                    found[slot] = Some(pos);
                }
                None => extra.push((pos, Arc::from(cell.trim()))),
            }
        }
        let missing: Vec<String> = Column::ALL
            .iter()
            .filter(|column| found[column.slot()].is_none())
            .map(|column| column.label().to_string())
            .collect();
        match found {
            [Some(code), Some(name), Some(parent), Some(level)] => Ok(Header {
                line,
                width: record.len(),
                required: [code, name, parent, level],
                extra,
            }),
            _ => Err(RosterError::MissingColumns {
                origin: origin.to_string(),
                line,
                missing,
                found: record
                    .iter()
                    .map(|c| terminal_text(c.trim()).into_owned())
                    .collect(),
            }),
        }
    }
}

impl Roster {
    /// Reads the file and parses it; messages name the path as given.
    pub fn load(path: &Path) -> Result<Roster, RosterError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| RosterError::Io {
            origin: origin.clone(),
            source,
        })?;
        Roster::parse(&bytes, &origin)
    }

    /// Parses roster CSV bytes. `origin` is the file name used in error messages.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Roster, RosterError> {
        let text = decode(bytes, origin)?;
        let units = read_units(&text, origin)?;
        Roster::build(units, origin)
    }

    /// All units, in file order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn get(&self, code: &UnitCode) -> Option<&Unit> {
        self.position(code).map(|i| &self.units[i])
    }

    /// Where the unit `code` is in [`Roster::units`].
    pub fn position(&self, code: &UnitCode) -> Option<usize> {
        position_in(&self.units, &self.by_code, code)
    }

    /// The names of the roster's other columns (联系人, 电话 …), in file order: every
    /// unit has each of them.
    pub fn extra_columns(&self) -> Vec<String> {
        self.units
            .first()
            .map(|u| u.extra.iter().map(|(h, _)| h.to_string()).collect())
            .unwrap_or_default()
    }

    /// The direct children of `code`, in file order. Empty for an unknown code.
    pub fn children(&self, code: &UnitCode) -> Vec<&Unit> {
        match self.position(code) {
            Some(i) => self.children_of[i]
                .iter()
                .map(|&c| &self.units[c])
                .collect(),
            None => Vec::new(),
        }
    }

    /// The parent of `code`, its parent, and so on up to the root. Empty for a root or an
    /// unknown code.
    pub fn ancestors(&self, code: &UnitCode) -> Vec<&Unit> {
        let mut out = Vec::new();
        let Some(start) = self.position(code) else {
            return out;
        };
        let mut cur = self.parent_of[start];
        // The roster has no cycles (checked on load); the bound is only a safeguard.
        while let Some(i) = cur {
            if out.len() >= self.units.len() {
                break;
            }
            out.push(&self.units[i]);
            cur = self.parent_of[i];
        }
        out
    }

    /// Every unit below `code`, at any depth, depth-first (pre-order) with siblings in
    /// file order. Does not include `code` itself. Empty for an unknown code.
    pub fn descendants(&self, code: &UnitCode) -> Vec<&Unit> {
        let mut out = Vec::new();
        let Some(start) = self.position(code) else {
            return out;
        };
        // Iterative, so that a very deep roster cannot overflow the stack.
        let mut stack: Vec<usize> = self.children_of[start].iter().rev().copied().collect();
        while let Some(i) = stack.pop() {
            if out.len() >= self.units.len() {
                break;
            }
            out.push(&self.units[i]);
            stack.extend(self.children_of[i].iter().rev().copied());
        }
        out
    }

    /// Every unit once, depth-first (pre-order): each root in file order, then its
    /// descendants as [`Roster::descendants`] lists them; with each unit its depth (a root
    /// is 0). The one order every output lists units in.
    pub fn walk(&self) -> Vec<(&Unit, usize)> {
        let mut out = Vec::with_capacity(self.units.len());
        let mut stack: Vec<(usize, usize)> = self.roots.iter().rev().map(|&i| (i, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            if out.len() >= self.units.len() {
                break;
            }
            out.push((&self.units[i], depth));
            stack.extend(self.children_of[i].iter().rev().map(|&c| (c, depth + 1)));
        }
        out
    }

    /// The units without a parent, in file order.
    pub fn roots(&self) -> Vec<&Unit> {
        self.roots.iter().map(|&i| &self.units[i]).collect()
    }

    /// Units whose name equals `name` after [`normalize_name`] on both sides, in file
    /// order. Several units may share a name (two villages called 新村 in different
    /// townships), hence a list.
    pub fn find_by_name(&self, name: &str) -> Vec<&Unit> {
        let wanted = normalize_name(name);
        if wanted.is_empty() {
            return Vec::new();
        }
        self.units
            .iter()
            .zip(&self.normalized_names)
            .filter(|(u, n)| n.as_deref().unwrap_or(&u.name) == wanted)
            .map(|(u, _)| u)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Indexes the units and checks the hierarchy: duplicate codes, unknown parents,
    /// cycles, each reported at the first offending row in file order.
    fn build(units: Vec<Unit>, origin: &str) -> Result<Roster, RosterError> {
        // A roster of more than 4 billion rows would not have been read into memory.
        let mut by_code: Vec<u32> = (0..units.len() as u32).collect();
        // Stable: a code's rows stay in file order, so each pair of neighbours with the
        // same code is a row and the next row repeating it.
        by_code.sort_by(|&a, &b| units[a as usize].code.cmp(&units[b as usize].code));
        let repeated = by_code
            .windows(2)
            .map(|w| (w[0] as usize, w[1] as usize))
            .filter(|&(a, b)| units[a].code == units[b].code)
            .min_by_key(|&(_, b)| b);
        if let Some((first, again)) = repeated {
            return Err(RosterError::DuplicateCode {
                origin: origin.to_string(),
                code: units[again].code.clone(),
                first_line: units[first].line,
                line: units[again].line,
            });
        }

        let mut parent_of = Vec::with_capacity(units.len());
        for unit in &units {
            let parent = match &unit.parent {
                None => None,
                Some(parent) => match position_in(&units, &by_code, parent) {
                    Some(p) => Some(p),
                    None => {
                        return Err(RosterError::UnknownParent {
                            origin: origin.to_string(),
                            line: unit.line,
                            code: unit.code.clone(),
                            parent: parent.clone(),
                        })
                    }
                },
            };
            parent_of.push(parent);
        }

        check_cycles(&units, &parent_of, origin)?;

        let mut children_of = vec![Vec::new(); units.len()];
        let mut roots = Vec::new();
        for (i, parent) in parent_of.iter().enumerate() {
            match parent {
                Some(p) => children_of[*p].push(i),
                None => roots.push(i),
            }
        }
        let normalized_names = units
            .iter()
            .map(|u| Some(normalize_name(&u.name)).filter(|n| *n != u.name))
            .map(|n| n.map(String::into_boxed_str))
            .collect();

        Ok(Roster {
            units,
            by_code,
            parent_of,
            children_of,
            roots,
            normalized_names,
        })
    }
}

/// Turns csv byte offsets into 1-based line numbers: for every CSV a clerk gives the
/// tool (the roster, `fill`'s values), so that `第 N 行` is the line their editor shows.
///
/// `csv::Position::line()` is not usable for messages: it does not count the blank lines
/// the reader skips, and it lags by one line on CRLF files. The byte offset of a record is
/// where the reader stood after the previous record, i.e. before any line terminators and
/// blank lines it skipped; so the record starts at the first byte after those.
pub struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Byte offset up to which line breaks have been counted.
    pos: usize,
    /// 1-based line at `pos`.
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// The line on which the record reported at byte offset `byte` starts. Offsets must be
    /// non-decreasing (they are, as the reader only moves forward).
    pub fn line_at(&mut self, byte: u64) -> u64 {
        let byte = usize::try_from(byte).unwrap_or(usize::MAX);
        let mut start = byte.min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.pos {
            for i in self.pos..start {
                let is_break = match self.bytes[i] {
                    b'\n' => true,
                    // A lone CR is a line terminator too; CR LF counts once, at the LF.
                    b'\r' => self.bytes.get(i + 1) != Some(&b'\n'),
                    _ => false,
                };
                if is_break {
                    self.line += 1;
                }
            }
            self.pos = start;
        }
        self.line
    }
}

/// Reads the header and the rows into units (no hierarchy checks yet).
fn read_units(text: &str, origin: &str) -> Result<Vec<Unit>, RosterError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());

    let mut header: Option<Header> = None;
    let mut units = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text.as_bytes());

    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                let line = match err.position() {
                    Some(pos) => lines.line_at(pos.byte()),
                    None => lines.line,
                };
                return Err(RosterError::Csv {
                    origin: origin.to_string(),
                    line,
                    message: err.to_string(),
                });
            }
        }
        let line = match record.position() {
            Some(pos) => lines.line_at(pos.byte()),
            None => lines.line,
        };

        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }

        let Some(header) = &header else {
            header = Some(Header::parse(&record, line, origin)?);
            continue;
        };

        if record.len() != header.width {
            return Err(RosterError::RaggedRow {
                origin: origin.to_string(),
                line,
                header_line: header.line,
                expected: header.width,
                found: record.len(),
            });
        }
        units.push(unit_from_record(&record, header, line, origin)?);
    }

    match header {
        None => Err(RosterError::NoHeader {
            origin: origin.to_string(),
        }),
        Some(header) if units.is_empty() => Err(RosterError::Empty {
            origin: origin.to_string(),
            header_line: header.line,
        }),
        Some(_) => {
            // Kept for the whole run: not the spare room of its growth.
            units.shrink_to_fit();
            Ok(units)
        }
    }
}

fn unit_from_record(
    record: &csv::StringRecord,
    header: &Header,
    line: u64,
    origin: &str,
) -> Result<Unit, RosterError> {
    let field = |pos: usize| record.get(pos).unwrap_or_default().trim();
    let [code_pos, name_pos, parent_pos, level_pos] = header.required;

    // The one definition of a code ([`UnitCode::parse`]), as the reader applies it.
    let bad_code = |column: &'static str, code: &str| RosterError::BadCode {
        origin: origin.to_string(),
        line,
        column,
        code: terminal_text(code).into_owned(),
    };
    let scientific = |column: &'static str, code: &str| RosterError::ScientificCode {
        origin: origin.to_string(),
        line,
        column,
        code: terminal_text(code).into_owned(),
    };
    let code = match UnitCode::parse(field(code_pos)) {
        Ok(code) => code,
        Err(CodeProblem::Empty) => {
            return Err(RosterError::EmptyCode {
                origin: origin.to_string(),
                line,
            })
        }
        Err(CodeProblem::Malformed) => return Err(bad_code("单位代码", field(code_pos))),
        Err(CodeProblem::Scientific) => return Err(scientific("单位代码", field(code_pos))),
    };
    let parent = match UnitCode::parse(field(parent_pos)) {
        Ok(parent) => Some(parent),
        Err(CodeProblem::Empty) => None,
        Err(CodeProblem::Malformed) => return Err(bad_code("上级代码", field(parent_pos))),
        Err(CodeProblem::Scientific) => return Err(scientific("上级代码", field(parent_pos))),
    };
    let name = field(name_pos);
    if name.is_empty() {
        return Err(RosterError::EmptyName {
            origin: origin.to_string(),
            line,
            code,
        });
    }
    // A name is printed (the terminal summary), written into workbooks and CSVs: no
    // control characters, which would drive a terminal or break a line.
    for (column, text) in [("单位名称", name), ("层级", field(level_pos))] {
        if text.chars().any(is_terminal_control) {
            return Err(RosterError::ControlChars {
                origin: origin.to_string(),
                line,
                column,
            });
        }
    }
    Ok(Unit {
        name: name.to_string(),
        parent,
        level: field(level_pos).to_string(),
        extra: header
            .extra
            .iter()
            .map(|(pos, key)| (key.clone(), field(*pos).to_string()))
            .collect(),
        code,
        line,
    })
}

/// Where the unit `code` is in `units`, by binary search in `by_code` (their positions
/// sorted by code).
fn position_in(units: &[Unit], by_code: &[u32], code: &UnitCode) -> Option<usize> {
    by_code
        .binary_search_by(|&i| units[i as usize].code.cmp(code))
        .ok()
        .map(|found| by_code[found] as usize)
}

/// Rejects a unit that is its own ancestor. Walks each parent chain once (iteratively);
/// the first cycle met, in file order, is reported starting at its member that comes
/// first in the file.
fn check_cycles(
    units: &[Unit],
    parent_of: &[Option<usize>],
    origin: &str,
) -> Result<(), RosterError> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Unvisited,
        OnPath,
        Done,
    }
    let mut state = vec![State::Unvisited; units.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..units.len() {
        path.clear();
        let mut cur = Some(start);
        while let Some(i) = cur {
            match state[i] {
                State::Done => break,
                State::Unvisited => {
                    state[i] = State::OnPath;
                    path.push(i);
                    cur = parent_of[i];
                }
                State::OnPath => {
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    let mut members = path[from..].to_vec();
                    let first = members
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, &m)| m)
                        .map(|(k, _)| k)
                        .unwrap_or(0);
                    members.rotate_left(first);
                    let line = members.first().map(|&m| units[m].line).unwrap_or(0);
                    return Err(RosterError::Cycle {
                        origin: origin.to_string(),
                        line,
                        codes: members.iter().map(|&m| units[m].code.clone()).collect(),
                    });
                }
            }
        }
        for &i in &path {
            state[i] = State::Done;
        }
    }
    Ok(())
}

impl fmt::Display for Unit {
    /// `名称（代码）`, the way a clerk refers to a unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}（{}）", self.name, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> UnitCode {
        UnitCode::new(s).expect("test code is non-empty")
    }

    fn codes(units: &[&Unit]) -> Vec<String> {
        units.iter().map(|u| u.code.to_string()).collect()
    }

    #[test]
    fn levels_read_in_chinese() {
        assert_eq!(level_label("township"), "乡镇");
        assert_eq!(level_label(" County "), "县级");
        assert_eq!(level_label("village"), "行政村");
        assert_eq!(level_label("department"), "部门");
        assert_eq!(level_label("县直部门"), "县直部门", "Chinese as written");
        assert_eq!(level_label("hamlet"), "hamlet", "unknown codes as written");
    }

    const TREE: &str = "\
code,name,parent_code,level,contact
100,示例县,,county,张三
110,东镇,100,township,李四
111,东一村,110,village,
112,东二村,110,village,
120,西乡,100,township,王五
121,西一村,120,village,
130,县教育局,100,department,赵六
";

    fn tree() -> Roster {
        Roster::parse(TREE.as_bytes(), "tree.csv").expect("tree parses")
    }

    #[test]
    fn walk_is_roots_then_descendants_with_depths() {
        let r = tree();
        let mut expected = Vec::new();
        for root in r.roots() {
            expected.push((root.code.to_string(), 0));
            for u in r.descendants(&root.code) {
                expected.push((u.code.to_string(), r.ancestors(&u.code).len()));
            }
        }
        let walked: Vec<(String, usize)> = r
            .walk()
            .into_iter()
            .map(|(u, d)| (u.code.to_string(), d))
            .collect();
        assert_eq!(walked, expected);
        assert_eq!(walked.len(), r.len());
        assert!(walked.iter().any(|(_, d)| *d >= 2), "{walked:?}");
    }

    #[test]
    fn normal_roster_with_bom() {
        let mut bytes = b"\xef\xbb\xbf".to_vec();
        bytes.extend_from_slice(
            "code,name,parent_code,level,contact,phone\n\
             231083,示例县,,县,张三,0453-1234567\n\
             \n\
             231083101, 东镇 ,231083, 镇 ,李四,\n\
             231083101001,\"东一村, 第一组\",231083101,村,,13800000000\n"
                .as_bytes(),
        );
        let roster = Roster::parse(&bytes, "名册.csv").expect("parses");
        assert_eq!(roster.len(), 3);
        assert!(!roster.is_empty());
        let units = roster.units();
        assert_eq!(units[0].code.as_str(), "231083");
        assert_eq!(units[0].name, "示例县");
        assert_eq!(units[0].parent, None);
        assert_eq!(units[0].level, "县");
        assert_eq!(units[0].line, 2);
        assert_eq!(
            units[0].extra,
            vec![
                ("contact".into(), "张三".to_string()),
                ("phone".into(), "0453-1234567".to_string()),
            ]
        );
        // The blank line 3 is skipped but still counted.
        assert_eq!(units[1].line, 4);
        assert_eq!(units[1].name, "东镇");
        assert_eq!(units[1].level, "镇");
        assert_eq!(units[1].parent, Some(code("231083")));
        assert_eq!(units[1].extra[1], ("phone".into(), String::new()));
        assert_eq!(units[2].name, "东一村, 第一组");
        assert_eq!(units[2].line, 5);
        assert_eq!(
            roster.get(&code("231083101")).map(|u| u.name.as_str()),
            Some("东镇")
        );
        assert!(roster.get(&code("999")).is_none());
    }

    #[test]
    fn gbk_encoded_bytes() {
        let text = "代码,名称,上级代码,层级,联系人\r\n\
                    100,示例县,,县,张三\r\n\
                    110,东镇,100,镇,李四\r\n";
        let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
        assert!(!had_errors);
        assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
        let roster = Roster::parse(&bytes, "gbk.csv").expect("GBK parses");
        assert_eq!(roster.len(), 2);
        assert_eq!(roster.units()[0].name, "示例县");
        assert_eq!(roster.units()[1].name, "东镇");
        assert_eq!(roster.units()[1].level, "镇");
        assert_eq!(
            roster.units()[1].extra,
            vec![("联系人".into(), "李四".to_string())]
        );
        assert_eq!(roster.units()[1].line, 3);
    }

    #[test]
    fn neither_utf8_nor_gbk() {
        let err = Roster::parse(b"code,name,parent_code,level\n1,\xff\xff,,x\n", "bad.csv")
            .expect_err("undecodable");
        assert!(matches!(err, RosterError::Encoding { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("bad.csv") && msg.contains("UTF-8") && msg.contains("GBK"));
    }

    #[test]
    fn chinese_header_aliases_and_case() {
        for header in [
            "单位代码,单位名称,上级单位代码,级别",
            "代码,名称,上级代码,层级",
            " CODE , Name ,Parent_Code,LEVEL",
        ] {
            let text = format!("{header}\n1,县,,县\n2,镇,1,镇\n");
            let roster =
                Roster::parse(text.as_bytes(), "a.csv").unwrap_or_else(|e| panic!("{header}: {e}"));
            assert_eq!(roster.len(), 2);
            assert_eq!(roster.units()[1].parent, Some(code("1")));
            assert_eq!(roster.units()[1].level, "镇");
            assert!(roster.units()[1].extra.is_empty());
        }
        // Columns in another order.
        let roster = Roster::parse(
            "层级,上级代码,名称,代码\n县,,示例县,1\n".as_bytes(),
            "b.csv",
        )
        .expect("parses");
        assert_eq!(roster.units()[0].code.as_str(), "1");
        assert_eq!(roster.units()[0].name, "示例县");
        assert_eq!(roster.units()[0].level, "县");
    }

    #[test]
    fn duplicate_code() {
        let text = "code,name,parent_code,level\n1,县,,县\n2,镇,1,镇\n\n2,乡,1,乡\n";
        let err = Roster::parse(text.as_bytes(), "dup.csv").expect_err("duplicate");
        match &err {
            RosterError::DuplicateCode {
                code,
                first_line,
                line,
                ..
            } => {
                assert_eq!(code.as_str(), "2");
                assert_eq!((*first_line, *line), (3, 5));
            }
            other => panic!("wrong variant: {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("dup.csv"), "{msg}");
        assert!(msg.contains("第 5 行") && msg.contains("第 3 行"), "{msg}");
        assert_eq!(err.line(), Some(5));
    }

    #[test]
    fn the_first_repeated_row_in_file_order_is_reported() {
        // Sorted by code, 2 comes before 9; in the file 9's repeat (line 4) comes before
        // 2's (line 5), and 9 is repeated twice: the report is 9's first repeat.
        let text =
            "code,name,parent_code,level\n9,县,,县\n2,镇,9,镇\n9,乡,,乡\n2,乡,9,乡\n9,村,,村\n";
        let err = Roster::parse(text.as_bytes(), "dup.csv").expect_err("duplicates");
        match &err {
            RosterError::DuplicateCode {
                code,
                first_line,
                line,
                ..
            } => assert_eq!((code.as_str(), *first_line, *line), ("9", 2, 4)),
            other => panic!("wrong variant: {other:?}"),
        }
        // Every unit is found by its code, whatever the order of the file.
        let text = "code,name,parent_code,level\nz,县,,县\na,镇,z,镇\nm,村,a,村\n";
        let roster = Roster::parse(text.as_bytes(), "r.csv").unwrap();
        for (c, name) in [("z", "县"), ("a", "镇"), ("m", "村")] {
            assert_eq!(roster.get(&code(c)).map(|u| u.name.as_str()), Some(name));
        }
        assert!(roster.get(&code("b")).is_none());
        assert_eq!(codes(&roster.descendants(&code("z"))), ["a", "m"]);
    }

    #[test]
    fn unknown_parent() {
        let text = "code,name,parent_code,level\n1,县,,县\n2,镇,9,镇\n";
        let err = Roster::parse(text.as_bytes(), "p.csv").expect_err("unknown parent");
        assert!(
            matches!(&err, RosterError::UnknownParent { line: 3, parent, .. } if parent.as_str() == "9"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("第 3 行") && msg.contains('9') && msg.contains("p.csv"),
            "{msg}"
        );
    }

    #[test]
    fn cycle() {
        let text = "code,name,parent_code,level\n\
                    1,县,,县\n\
                    5,甲,7,镇\n\
                    6,乙,5,镇\n\
                    7,丙,6,镇\n\
                    8,丁,7,村\n";
        let err = Roster::parse(text.as_bytes(), "c.csv").expect_err("cycle");
        match &err {
            RosterError::Cycle { line, codes, .. } => {
                assert_eq!(*line, 3);
                let codes: Vec<&str> = codes.iter().map(UnitCode::as_str).collect();
                assert_eq!(codes, ["5", "7", "6"]);
            }
            other => panic!("wrong variant: {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("第 3 行"), "{msg}");
        assert!(msg.contains("5 → 7 → 6 → 5"), "{msg}");
    }

    #[test]
    fn cycle_reached_from_outside_reports_a_member() {
        // 8 hangs below the cycle 6 → 7 → 6 and comes first in the file.
        let text = "code,name,parent_code,level\n8,丁,6,村\n6,乙,7,镇\n7,丙,6,镇\n";
        let err = Roster::parse(text.as_bytes(), "c.csv").expect_err("cycle");
        assert!(
            matches!(&err, RosterError::Cycle { line: 3, codes, .. }
                if codes.iter().map(UnitCode::as_str).collect::<Vec<_>>() == ["6", "7"]),
            "{err:?}"
        );
        assert!(err.to_string().contains("第 3 行"));
    }

    #[test]
    fn self_parent() {
        let text = "code,name,parent_code,level\n1,县,,县\n2,镇,2,镇\n";
        let err = Roster::parse(text.as_bytes(), "s.csv").expect_err("self-parent");
        assert!(
            matches!(&err, RosterError::Cycle { line: 3, codes, .. }
                if codes.len() == 1 && codes[0].as_str() == "2"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("第 3 行") && msg.contains("2 → 2"), "{msg}");
    }

    #[test]
    fn missing_column() {
        let text = "code,名称,level,contact\n1,县,县,张三\n";
        let err = Roster::parse(text.as_bytes(), "m.csv").expect_err("missing");
        match &err {
            RosterError::MissingColumns {
                line,
                missing,
                found,
                ..
            } => {
                assert_eq!(*line, 1);
                assert_eq!(missing, &["parent_code（上级代码）".to_string()]);
                assert_eq!(found, &["code", "名称", "level", "contact"]);
            }
            other => panic!("wrong variant: {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("第 1 行") && msg.contains("parent_code"),
            "{msg}"
        );
        assert!(msg.contains("“名称”") && msg.contains("“contact”"), "{msg}");
    }

    #[test]
    fn header_line_counts_leading_blank_lines() {
        let text = "\n\nname,level\n";
        let err = Roster::parse(text.as_bytes(), "m.csv").expect_err("missing");
        assert!(
            matches!(&err, RosterError::MissingColumns { line: 3, missing, .. } if missing.len() == 2),
            "{err:?}"
        );
        assert!(err.to_string().contains("第 3 行"));
    }

    #[test]
    fn duplicate_column() {
        let text = "code,代码,name,parent_code,level\n1,1,县,,县\n";
        let err = Roster::parse(text.as_bytes(), "d.csv").expect_err("ambiguous");
        assert!(
            matches!(&err, RosterError::DuplicateColumn { line: 1, first, second, .. }
                if first == "code" && second == "代码"),
            "{err:?}"
        );
        assert!(err.to_string().contains("第 1 行"));
    }

    #[test]
    fn ragged_row() {
        let text = "code,name,parent_code,level\n1,县,,县\n2,东镇,1,镇,多余\n";
        let err = Roster::parse(text.as_bytes(), "r.csv").expect_err("ragged");
        assert!(
            matches!(
                &err,
                RosterError::RaggedRow {
                    line: 3,
                    header_line: 1,
                    expected: 4,
                    found: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("第 3 行") && msg.contains("r.csv"), "{msg}");

        let short = "code,name,parent_code,level\n1,县,,县\n2,东镇\n";
        let err = Roster::parse(short.as_bytes(), "r.csv").expect_err("short row");
        assert!(
            matches!(
                &err,
                RosterError::RaggedRow {
                    line: 3,
                    found: 2,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn empty_code() {
        let text = "code,name,parent_code,level\n1,县,,县\n  ,东镇,1,镇\n";
        let err = Roster::parse(text.as_bytes(), "e.csv").expect_err("empty code");
        assert!(
            matches!(&err, RosterError::EmptyCode { line: 3, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("第 3 行") && msg.contains("e.csv"), "{msg}");
    }

    #[test]
    fn empty_name() {
        let text = "code,name,parent_code,level\n1,县,,县\n2,\u{3000},1,镇\n";
        let err = Roster::parse(text.as_bytes(), "e.csv").expect_err("empty name");
        assert!(
            matches!(&err, RosterError::EmptyName { line: 3, code, .. } if code.as_str() == "2"),
            "{err:?}"
        );
        assert!(err.to_string().contains("第 3 行"));
    }

    #[test]
    fn header_only_and_empty_file() {
        let err = Roster::parse(b"code,name,parent_code,level\r\n,,,\r\n\r\n", "h.csv")
            .expect_err("no units");
        assert!(
            matches!(&err, RosterError::Empty { header_line: 1, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("h.csv") && err.to_string().contains("第 1 行"));

        for bytes in [&b""[..], b"\xef\xbb\xbf", b"\n\n  \n"] {
            let err = Roster::parse(bytes, "z.csv").expect_err("empty file");
            assert!(matches!(&err, RosterError::NoHeader { .. }), "{err:?}");
            assert!(err.to_string().contains("z.csv") && err.to_string().contains("第 1 行"));
        }
    }

    #[test]
    fn blank_and_multiline_rows_keep_line_numbers() {
        let text = "code,name,parent_code,level,note\n\
                    \n\
                    1,县,,县,\"第一行\n第二行\"\n\
                    ,,,,\n\
                    2,镇,1,镇,\n";
        let roster = Roster::parse(text.as_bytes(), "l.csv").expect("parses");
        let lines: Vec<u64> = roster.units().iter().map(|u| u.line).collect();
        assert_eq!(lines, [3, 6]);
        assert_eq!(roster.units()[0].extra[0].1, "第一行\n第二行");
    }

    #[test]
    fn hierarchy_on_three_levels() {
        let roster = tree();
        assert_eq!(codes(&roster.roots()), ["100"]);
        assert_eq!(codes(&roster.children(&code("100"))), ["110", "120", "130"]);
        assert_eq!(codes(&roster.children(&code("110"))), ["111", "112"]);
        assert!(roster.children(&code("111")).is_empty());
        assert!(roster.children(&code("nope")).is_empty());

        assert_eq!(codes(&roster.ancestors(&code("121"))), ["120", "100"]);
        assert_eq!(codes(&roster.ancestors(&code("110"))), ["100"]);
        assert!(roster.ancestors(&code("100")).is_empty());
        assert!(roster.ancestors(&code("nope")).is_empty());

        assert_eq!(
            codes(&roster.descendants(&code("100"))),
            ["110", "111", "112", "120", "121", "130"]
        );
        assert_eq!(codes(&roster.descendants(&code("120"))), ["121"]);
        assert!(roster.descendants(&code("130")).is_empty());
        assert!(roster.descendants(&code("nope")).is_empty());

        assert_eq!(
            roster.get(&code("130")).map(|u| u.level.as_str()),
            Some("department")
        );
        assert_eq!(
            roster.get(&code("110")).map(|u| u.extra.clone()),
            Some(vec![("contact".into(), "李四".to_string())])
        );
        assert_eq!(
            roster.get(&code("110")).map(|u| u.to_string()),
            Some("东镇（110）".into())
        );
    }

    #[test]
    fn children_listed_before_parent_in_file() {
        // File order is not required to be top-down.
        let text = "code,name,parent_code,level\n3,村,2,村\n2,镇,1,镇\n1,县,,县\n4,村二,2,村\n";
        let roster = Roster::parse(text.as_bytes(), "o.csv").expect("parses");
        assert_eq!(codes(&roster.roots()), ["1"]);
        assert_eq!(codes(&roster.children(&code("2"))), ["3", "4"]);
        assert_eq!(codes(&roster.descendants(&code("1"))), ["2", "3", "4"]);
        assert_eq!(codes(&roster.ancestors(&code("4"))), ["2", "1"]);
    }

    #[test]
    fn deep_chain_does_not_overflow() {
        let mut text = String::from("code,name,parent_code,level\nc0,n0,,x\n");
        for i in 1..20_000 {
            text.push_str(&format!("c{i},n{i},c{},x\n", i - 1));
        }
        let roster = Roster::parse(text.as_bytes(), "deep.csv").expect("parses");
        assert_eq!(roster.descendants(&code("c0")).len(), 19_999);
        assert_eq!(roster.ancestors(&code("c19999")).len(), 19_999);
    }

    #[test]
    fn find_by_name_normalises() {
        let text = "code,name,parent_code,level\n\
                    1,示例县,,县\n\
                    2,东 镇,1,镇\n\
                    3,Ａ１村,2,村\n\
                    4,新村,2,村\n\
                    5,新　村,1,村\n";
        let roster = Roster::parse(text.as_bytes(), "f.csv").expect("parses");
        assert_eq!(codes(&roster.find_by_name("  东镇 ")), ["2"]);
        assert_eq!(codes(&roster.find_by_name("东\u{3000}镇")), ["2"]);
        assert_eq!(codes(&roster.find_by_name("A1村")), ["3"]);
        assert_eq!(codes(&roster.find_by_name(" Ａ 1 村")), ["3"]);
        assert_eq!(codes(&roster.find_by_name("新村")), ["4", "5"]);
        assert!(roster.find_by_name("西镇").is_empty());
        assert!(roster.find_by_name("a1村").is_empty(), "case is kept");
        assert!(roster.find_by_name("   ").is_empty());
        assert_eq!(normalize_name("（Ｘ）\u{3000}ｙ！"), "(X)y!");
    }

    #[test]
    fn load_from_file_and_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("roster.csv");
        std::fs::write(&path, TREE).expect("write");
        let roster = Roster::load(&path).expect("loads");
        assert_eq!(roster.len(), 7);

        let missing = dir.path().join("无此文件.csv");
        let err = Roster::load(&missing).expect_err("missing file");
        assert!(matches!(&err, RosterError::Io { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("无此文件.csv") && msg.contains("文件不存在"),
            "{msg}"
        );

        // Errors from a loaded file name the path.
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "code,name,parent_code,level\n1,县,,县\n1,县,,县\n").expect("write");
        let err = Roster::load(&bad).expect_err("duplicate");
        assert!(err.to_string().contains("bad.csv") && err.to_string().contains("第 3 行"));
    }

    #[test]
    fn parse_is_deterministic() {
        let a = tree();
        let b = tree();
        assert_eq!(a.units(), b.units());
        assert_eq!(
            codes(&a.descendants(&code("100"))),
            codes(&b.descendants(&code("100")))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Roster::parse(&bytes, "fuzz.csv");
        }

        #[test]
        fn arbitrary_header_prefixed_bytes_never_panic(
            tail in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut bytes = b"code,name,parent_code,level\n".to_vec();
            bytes.extend_from_slice(&tail);
            let _ = Roster::parse(&bytes, "fuzz.csv");
        }

        /// Random small rosters: parsing never panics, and whatever loads is a forest that
        /// every query walks consistently.
        #[test]
        fn random_rosters_are_consistent(
            rows in proptest::collection::vec((0u8..12, 0u8..14, "[a 镇村,\"]{0,3}"), 1..14),
        ) {
            let mut text = String::from("code,name,parent_code,level\n");
            for (c, p, name) in &rows {
                let parent = if *p >= 12 { String::new() } else { format!("u{p}") };
                let name = name.replace('"', "\"\"");
                text.push_str(&format!("u{c},\"{name}\",{parent},lvl\n"));
            }
            if let Ok(roster) = Roster::parse(text.as_bytes(), "gen.csv") {
                let total: usize = roster
                    .roots()
                    .iter()
                    .map(|r| 1 + roster.descendants(&r.code).len())
                    .sum();
                prop_assert_eq!(total, roster.len());
                for unit in roster.units() {
                    let ancestors = roster.ancestors(&unit.code);
                    prop_assert!(ancestors.len() < roster.len());
                    if let Some(top) = ancestors.last() {
                        prop_assert!(top.parent.is_none());
                    } else {
                        prop_assert!(unit.parent.is_none());
                    }
                    for child in roster.children(&unit.code) {
                        prop_assert_eq!(child.parent.as_ref(), Some(&unit.code));
                    }
                    prop_assert!(roster
                        .find_by_name(&unit.name)
                        .iter()
                        .any(|u| u.code == unit.code));
                }
            }
        }
    }
}
