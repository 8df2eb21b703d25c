//! File → raw cells. The only user of calamine.
//!
//! Reads whatever the units' software saved (.xlsx, .xlsm, .xls, .ods) into a
//! [`RawWorkbook`]: every sheet with its non-empty cells at their absolute positions, as
//! plain values. Nothing here interprets the report; a file that is not a workbook gives a
//! [`ReadError`] with a reason a clerk understands, never a panic.
//!
//! The format is decided by the file's first bytes, not its name: chat apps and clerks
//! rename files, and some systems export web pages or text named `.xls`. Before calamine
//! sees a file, cheap checks bound the work it can cause:
//!
//! - the file itself: at most [`MAX_FILE_BYTES`];
//! - zip-based files (.xlsx, .ods): the central directory is walked here and the declared
//!   sizes summed ([`MAX_UNZIPPED_BYTES`], [`MAX_ZIP_ENTRIES`]); the zip reader calamine uses
//!   refuses to inflate an entry past its declared size, so the sum bounds decompression;
//! - OLE2 files (.xls): the container is walked here (no sector-chain loops, nothing past
//!   the end of the file) and the BIFF records scanned, because calamine allocates every
//!   sheet's bounding box densely while parsing, before anything can be checked;
//! - after reading, every sheet's bounding box of non-empty cells: at most
//!   [`MAX_SHEET_AREA`] cells, and at most [`MAX_SHEETS`] sheets;
//! - before calamine opens them: an xlsx's declared shared-string count (at most
//!   [`MAX_SHARED_STRINGS`]) and an .ods's repeated non-empty cells (at most
//!   [`MAX_SHEET_AREA`] per sheet), both of which calamine would otherwise allocate for.
//!
//! Any panic inside calamine is caught and reported as a damaged file.

mod convert;
mod document;
mod docx;
mod foreign;
mod html;
mod ole2;
mod zip_checks;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::cell::CellRef;

pub use document::PARAGRAPHS_SHEET;
use foreign::describe_foreign;
use ole2::read_cfb;
use zip_checks::read_zip;

/// The extensions of spreadsheet files: what `ingest` gives this module to read (any
/// other file is reported as not a workbook without being opened), and what a zip of
/// workbooks is recognised by. What a file *is* is still decided by its content: an
/// `.xlsb` inside says it cannot be read, a `.xlsx` renamed `.xlsb` is read, so `check`
/// and `ingest` give one answer for the same file.
pub const SPREADSHEET_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods", "et"];

/// The extensions of reports written as documents: Word (`.docx` is read; `.doc` and
/// WPS's `.wps` are answered with what to save them as) and web pages saved from a
/// portal. A web page is read as one only under these names: a page named `.xls` (as
/// some systems export tables) is still told to be re-saved as a workbook.
pub const DOCUMENT_EXTENSIONS: &[&str] = &["docx", "doc", "wps", "html", "htm"];

/// Why a file is not read, from its extension alone, for the documents known to be
/// unreadable here (Word 97-2003, WPS text): what a batch says without opening them.
/// `check` opens them all the same, and says the same from their content.
pub fn unsupported_by_extension(ext: &str) -> Option<String> {
    let what = match ext.to_ascii_lowercase().as_str() {
        "doc" => WORD_97,
        "wps" => WPS_TEXT,
        _ => return None,
    };
    Some(ReadError::SaveAsDocx { what }.to_string())
}

const WORD_97: &str = "Word 97-2003 文档（.doc）";
const WPS_TEXT: &str = "WPS 文字文档（.wps）";

/// The extensions of web pages among [`DOCUMENT_EXTENSIONS`].
const WEB_PAGE_EXTENSIONS: &[&str] = &["html", "htm"];

/// Largest file accepted, in bytes on disk.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Most sheets accepted in one workbook.
pub const MAX_SHEETS: usize = 255;
/// Largest bounding box of one sheet's non-empty cells (rows × columns).
pub const MAX_SHEET_AREA: u64 = 1_000_000;
/// Largest sum of the declared uncompressed sizes of a zip-based file's parts.
pub const MAX_UNZIPPED_BYTES: u64 = 256 * 1024 * 1024;
/// Most parts in a zip-based file.
pub const MAX_ZIP_ENTRIES: u64 = 10_000;
/// The most shared strings an xlsx may declare. calamine reserves memory for the count
/// the file declares before reading a single string: a forged `uniqueCount` of ten
/// digits makes the allocation fail and aborts the whole process, which no
/// `catch_unwind` can stop. A report workbook has a few hundred.
pub const MAX_SHARED_STRINGS: u64 = 1_000_000;

/// A cell's value as read, before any interpretation.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Text(String),
    Number(f64),
    Bool(bool),
    /// A formula error such as `#VALUE!` (in .ods, the displayed text).
    Error(String),
    /// A date or time cell, as the ISO text calamine gives.
    Date(String),
}

impl RawValue {
    /// The value as a clerk would see it in a message.
    pub fn display(&self) -> String {
        match self {
            RawValue::Text(s) | RawValue::Error(s) | RawValue::Date(s) => s.clone(),
            RawValue::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
            RawValue::Number(x) => format!("{x}"),
            RawValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        }
    }
}

impl RawWorkbook {
    /// The first sheet as CSV text (UTF-8, one record per row from the first to the
    /// last used row, empty rows kept so that line numbers are the sheet's row numbers):
    /// how a roster kept in Excel is read. Numbers are written as a person reads them
    /// (`231083102000`, not `2.31083E+11`), text as it is.
    pub fn first_sheet_csv(&self) -> Vec<u8> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .from_writer(Vec::new());
        if let Some(sheet) = self.sheets.first() {
            let last_row = sheet.cells.keys().map(|at| at.row).max();
            let last_col = sheet.cells.keys().map(|at| at.col).max().unwrap_or(0);
            for row in 0..=last_row.unwrap_or(0) {
                if last_row.is_none() {
                    break;
                }
                let record: Vec<String> = (0..=last_col)
                    .map(|col| {
                        sheet
                            .get(crate::cell::CellRef::new(row, col))
                            .map(RawValue::display)
                            .unwrap_or_default()
                    })
                    .collect();
                // Writing to a Vec cannot fail.
                let _ = out.write_record(&record);
            }
        }
        out.into_inner().unwrap_or_default()
    }
}

/// One worksheet: its name and its non-empty cells by absolute position.
#[derive(Debug, Clone, Default)]
pub struct RawSheet {
    pub name: String,
    pub cells: BTreeMap<CellRef, RawValue>,
}

impl RawSheet {
    pub fn get(&self, at: CellRef) -> Option<&RawValue> {
        self.cells.get(&at)
    }

    /// The text of a cell, trimmed; empty for a missing or non-text cell.
    pub fn text(&self, at: CellRef) -> String {
        match self.cells.get(&at) {
            Some(RawValue::Text(s)) => s.trim().to_string(),
            Some(v) => v.display(),
            None => String::new(),
        }
    }
}

/// Which program family wrote the file, from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Xlsx,
    Xls,
    Ods,
    /// A Word document (.docx): paragraphs and tables, no cells of its own.
    Docx,
    /// A saved web page.
    Html,
}

impl FileKind {
    /// Whether the file is a document (Word, web page) rather than a workbook: its
    /// sheets are made by this module ([`PARAGRAPHS_SHEET`] and one per table), so
    /// nothing in it has an address a clerk could find.
    pub fn is_document(self) -> bool {
        matches!(self, FileKind::Docx | FileKind::Html)
    }
}

/// A workbook, read.
#[derive(Debug, Clone)]
pub struct RawWorkbook {
    pub kind: FileKind,
    /// Sheets in workbook order (hidden ones included).
    pub sheets: Vec<RawSheet>,
    /// Custom document properties (xlsx only), e.g. `nianbao_unit_code`.
    pub properties: BTreeMap<String, String>,
    /// When the workbook says it was last saved, as written (xlsx `dcterms:modified`,
    /// ods `dc:date`: `2025-01-21T02:00:00Z`); `None` for .xls or when absent.
    pub saved: Option<String>,
}

impl RawWorkbook {
    /// The sheet with this exact name, if any.
    pub fn sheet(&self, name: &str) -> Option<&RawSheet> {
        self.sheets.iter().find(|s| s.name == name)
    }
}

/// Why a file could not be read as a workbook. Messages are for a clerk: each says what
/// happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("文件为空（0 字节），请重新发送")]
    Empty,
    /// Not a spreadsheet at all (a web page, text, a Word document, an archive…). `detail`
    /// is a whole sentence naming what the file is and what to send instead.
    #[error("{detail}")]
    NotAWorkbook { detail: String },
    /// A zip or OLE2 file whose end is missing.
    #[error("文件不完整（可能下载或传输中断），请重新发送")]
    Truncated,
    /// The workbook is encrypted (an opening password).
    #[error("工作簿设置了打开密码，请取消密码后重新发送")]
    Password,
    /// A Word 97-2003 or WPS text document: `what` names which.
    #[error("这是 {what}，无法读取，请另存为 .docx")]
    SaveAsDocx { what: &'static str },
    /// WPS's own `.et` format, which calamine does not read.
    #[error("WPS 表格 .et 格式无法读取，请在 WPS 中另存为 .xlsx")]
    WpsEt,
    /// Over one of the limits above; `detail` says which and what to remove.
    #[error("文件过大，无法读取：{detail}")]
    TooLarge { detail: String },
    /// A workbook whose inside is broken; `detail` keeps the reader's own words.
    #[error("文件已损坏，无法读取（{detail}）；请用 Excel 或 WPS 打开检查后另存为 .xlsx 重新发送")]
    Corrupt { detail: String },
    #[error("无法读取文件：{0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// True when the file is not a workbook this tool reads at all (as opposed to a
    /// workbook that is damaged, protected or too large).
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            ReadError::NotAWorkbook { .. } | ReadError::WpsEt | ReadError::SaveAsDocx { .. }
        )
    }
}

/// Reads the workbook at `path`, whatever its extension says.
///
/// # Errors
/// A [`ReadError`] naming why the file is not a readable workbook. Never panics on bad
/// input.
pub fn read(path: &Path) -> Result<RawWorkbook, ReadError> {
    // Opening a named pipe waits for a writer, a device may never end: look first.
    let kind = std::fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(ReadError::Io(std::io::Error::other(if kind.is_dir() {
            "这是一个文件夹，不是文件"
        } else {
            "不是普通文件（管道、设备等），未打开"
        })));
    }
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_FILE_BYTES {
        return Err(file_too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut result = read_bytes(&bytes, extension);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Excel and WPS leave `~$名称.xlsx` owner files next to an open workbook.
    let owner_file = name.starts_with("~$") && bytes.len() < 4096;
    if owner_file
        && matches!(
            result,
            Err(ReadError::NotAWorkbook { .. } | ReadError::WpsEt)
        )
    {
        result = Err(ReadError::NotAWorkbook {
            detail: "这是 Excel/WPS 打开文件时留下的临时文件（~$ 开头），不是报表，可以删除".into(),
        });
    }
    result
}

/// Reads a workbook held in memory; `extension` (with or without the dot, any case) is
/// only used for messages and to recognise WPS `.et` files.
///
/// # Errors
/// As [`read`].
pub fn read_bytes(bytes: &[u8], extension: &str) -> Result<RawWorkbook, ReadError> {
    let ext = extension.trim_start_matches('.').to_ascii_lowercase();
    match read_sniffed(bytes, &ext) {
        Err(ReadError::NotAWorkbook { .. } | ReadError::Corrupt { .. }) if ext == "et" => {
            Err(ReadError::WpsEt)
        }
        // WPS text's own format, whatever container it is in.
        Err(ReadError::NotAWorkbook { .. } | ReadError::Corrupt { .. }) if ext == "wps" => {
            Err(ReadError::SaveAsDocx { what: WPS_TEXT })
        }
        other => other,
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const EMPTY_ZIP_MAGIC: &[u8] = b"PK\x05\x06";
const CFB_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

fn read_sniffed(bytes: &[u8], ext: &str) -> Result<RawWorkbook, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(file_too_large(bytes.len() as u64));
    }
    if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(EMPTY_ZIP_MAGIC) {
        read_zip(bytes)
    } else if bytes.starts_with(CFB_MAGIC) {
        read_cfb(bytes)
    } else if ext == "et" {
        Err(ReadError::WpsEt)
    } else if WEB_PAGE_EXTENSIONS.contains(&ext) {
        guarded(|| html::read_html(bytes))
    } else {
        Err(ReadError::NotAWorkbook {
            detail: describe_foreign(bytes, ext),
        })
    }
}

fn file_too_large(size: u64) -> ReadError {
    ReadError::TooLarge {
        detail: format!(
            "文件大小 {:.1} MB，超过 {} MB 的上限；请删除无关的工作表和图片后重新保存",
            size as f64 / 1_048_576.0,
            MAX_FILE_BYTES / 1_048_576
        ),
    }
}

fn corrupt(detail: impl Into<String>) -> ReadError {
    ReadError::Corrupt {
        detail: detail.into(),
    }
}

const SEND_XLSX: &str = "请发送填好的 Excel 报表（.xlsx）";

// ---------------------------------------------------------------------------------------
// Helpers

/// Runs `f`, turning a panic (inside calamine) into [`ReadError::Corrupt`].
fn guarded<T>(f: impl FnOnce() -> Result<T, ReadError>) -> Result<T, ReadError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "未知错误".to_string());
        Err(corrupt(format!("读取时出错：{message}")))
    })
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn le_u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

#[cfg(test)]
mod tests;
