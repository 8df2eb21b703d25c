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

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use calamine::{
    Data, DataRef, ExcelDateTime, Ods, OdsError, Range, Reader, Xls, XlsError, Xlsx, XlsxError,
};

use crate::cell::CellRef;

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
/// Largest `DIMENSIONS` record accepted in an .xls sheet: calamine reserves that many cells
/// up front. Looser than [`MAX_SHEET_AREA`] because formatted blank cells count too.
const MAX_XLS_DIMENSIONS_AREA: u64 = 4 * MAX_SHEET_AREA;

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
}

/// A workbook, read.
#[derive(Debug, Clone)]
pub struct RawWorkbook {
    pub kind: FileKind,
    /// Sheets in workbook order (hidden ones included).
    pub sheets: Vec<RawSheet>,
    /// Custom document properties (xlsx only), e.g. `nianbao_unit_code`.
    pub properties: BTreeMap<String, String>,
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
        matches!(self, ReadError::NotAWorkbook { .. } | ReadError::WpsEt)
    }
}

/// Reads the workbook at `path`, whatever its extension says.
///
/// # Errors
/// A [`ReadError`] naming why the file is not a readable workbook. Never panics on bad
/// input.
pub fn read(path: &Path) -> Result<RawWorkbook, ReadError> {
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
// Zip-based files: .xlsx / .xlsm and .ods

fn read_zip(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let entries = zip_entries(bytes)?;
    let kind = zip_kind(&entries)?;
    let unzipped = entries
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.size));
    if unzipped > MAX_UNZIPPED_BYTES {
        return Err(ReadError::TooLarge {
            detail: format!(
                "解压后约 {} MB，超过 {} MB 的上限；请删除无关的工作表和多余内容后重新保存",
                unzipped / 1_048_576,
                MAX_UNZIPPED_BYTES / 1_048_576
            ),
        });
    }
    if kind == FileKind::Ods {
        // ODF puts the media type first, uncompressed: a text document or a presentation
        // is recognised without parsing.
        if let Some(mime) = stored_mimetype(bytes) {
            if !mime.starts_with(b"application/vnd.oasis.opendocument.spreadsheet") {
                return Err(ReadError::NotAWorkbook {
                    detail: format!(
                        "这是一个 OpenDocument 文件，但不是表格（可能是文字文档或演示文稿）；{SEND_XLSX}"
                    ),
                });
            }
        }
    }
    match kind {
        FileKind::Ods => {
            ods_area_precheck(bytes)?;
            guarded(|| read_ods(bytes))
        }
        _ => {
            shared_strings_precheck(bytes)?;
            guarded(|| read_xlsx(bytes))
        }
    }
}

/// Refuses an .ods whose sheets would expand past [`MAX_SHEET_AREA`] cells. ODF writes a
/// row or cell repeated N times as one element with a count, and calamine expands the
/// repeats into a dense range when it opens the file (a 1 KB file can ask for gigabytes),
/// so the counts of non-empty cells are added up here first, streaming `content.xml`.
/// Empty repeated rows and cells (LibreOffice writes a million of them after the data)
/// cost nothing and are not counted.
fn ods_area_precheck(bytes: &[u8]) -> Result<(), ReadError> {
    use quick_xml::events::{BytesStart, Event};
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(()); // calamine reports the broken archive in its own words
    };
    let Ok(part) = archive.by_name("content.xml") else {
        return Ok(());
    };
    let repeat = |e: &BytesStart, attr: &str| -> u64 {
        e.try_get_attribute(attr)
            .ok()
            .flatten()
            .and_then(|a| a.value.parse().ok())
            .unwrap_or(1)
    };
    let has_value = |e: &BytesStart| {
        e.try_get_attribute("office:value-type")
            .ok()
            .flatten()
            .is_some()
    };
    let is_cell = |e: &BytesStart| {
        matches!(
            e.name().as_ref(),
            "table:table-cell" | "table:covered-table-cell"
        )
    };
    let too_large = |sheet: &str, area: u64| {
        ReadError::TooLarge {
        detail: format!(
            "工作表“{sheet}”展开后约有 {area} 个单元格，超过 {MAX_SHEET_AREA} 个的上限；请删除多余的行列后重新保存"
        ),
    }
    };
    let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    let (mut sheet, mut area, mut row_repeat, mut row_cells) = (String::new(), 0u64, 1u64, 0u64);
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(_) => return Ok(()), // broken XML: calamine says so
        };
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "table:table" => {
                sheet = e
                    .try_get_attribute("table:name")
                    .ok()
                    .flatten()
                    .map(|a| a.value.into_owned())
                    .unwrap_or_default();
                area = 0;
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                (row_repeat, row_cells) = (repeat(&e, "table:number-rows-repeated"), 0);
            }
            // A cell with content (a start tag: text inside) or a value is filled.
            Event::Start(e) if is_cell(&e) => {
                row_cells = row_cells.saturating_add(repeat(&e, "table:number-columns-repeated"));
            }
            Event::Empty(e) if is_cell(&e) && has_value(&e) => {
                row_cells = row_cells.saturating_add(repeat(&e, "table:number-columns-repeated"));
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                area = area.saturating_add(row_repeat.saturating_mul(row_cells));
                if area > MAX_SHEET_AREA {
                    return Err(too_large(&sheet, area));
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// Refuses an xlsx whose shared-string table declares more strings than
/// [`MAX_SHARED_STRINGS`], reading only the start of that part.
fn shared_strings_precheck(bytes: &[u8]) -> Result<(), ReadError> {
    use std::io::Read as _;
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(()); // calamine reports the broken archive in its own words
    };
    let Ok(part) = archive.by_name("xl/sharedStrings.xml") else {
        return Ok(());
    };
    let mut head = Vec::with_capacity(4096);
    if part.take(4096).read_to_end(&mut head).is_err() {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&head);
    let Some(tag) = head.find("<sst").map(|i| &head[i..]) else {
        return Ok(());
    };
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    for attr in [" count=\"", " uniqueCount=\""] {
        let Some(value) = tag.split(attr).nth(1).and_then(|v| v.split('"').next()) else {
            continue;
        };
        let too_many =
            value.len() > 18 || value.parse::<u64>().is_ok_and(|n| n > MAX_SHARED_STRINGS);
        if too_many {
            return Err(ReadError::TooLarge {
                detail: format!(
                    "工作簿声明有 {value} 个文字条目，超过 {MAX_SHARED_STRINGS} 个的上限（文件可能已损坏）；{SEND_XLSX}"
                ),
            });
        }
    }
    Ok(())
}

/// What a zip file holds, from the names of its parts.
fn zip_kind(entries: &[ZipEntry]) -> Result<FileKind, ReadError> {
    let has = |name: &str| entries.iter().any(|e| e.name == name);
    let has_prefix = |prefix: &str| entries.iter().any(|e| e.name.starts_with(prefix));
    let not = |detail: String| Err(ReadError::NotAWorkbook { detail });
    if has("xl/workbook.bin") {
        not("这是 Excel 二进制工作簿（.xlsb），本工具无法读取；请在 Excel 中另存为 .xlsx".into())
    } else if has_prefix("word/") {
        not(format!(
            "这是一个 Word 文档，不是 Excel 工作簿；{SEND_XLSX}"
        ))
    } else if has_prefix("ppt/") {
        not(format!(
            "这是一个 PowerPoint 演示文稿，不是 Excel 工作簿；{SEND_XLSX}"
        ))
    } else if has("mimetype") && !has("[content_types].xml") {
        Ok(FileKind::Ods)
    } else if has("[content_types].xml") || has("xl/workbook.xml") {
        Ok(FileKind::Xlsx)
    } else if entries.iter().any(|e| {
        [".xlsx", ".xlsm", ".xls", ".ods", ".et"]
            .iter()
            .any(|x| e.name.ends_with(x))
    }) {
        not("这是一个压缩包（zip），里面装着表格文件；请解压后发送其中的表格文件".into())
    } else {
        not(format!(
            "这是一个压缩包（zip），不是 Excel 工作簿；{SEND_XLSX}"
        ))
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let names = wb.sheet_names();
    check_sheet_count(names.len())?;
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let mut sheet = SheetBuilder::new(name);
        match wb.worksheet_cells_reader(&sheet.name) {
            Ok(mut cells) => {
                // Streaming the cells keeps memory proportional to the cells present;
                // `worksheet_range` would allocate the whole bounding box first.
                while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
                    let (row, col) = cell.get_position();
                    if let Some(value) = from_data_ref(cell.get_value()) {
                        sheet.push(row, col, value)?;
                    }
                }
            }
            // A chart sheet or dialog sheet: listed, no cells.
            Err(XlsxError::NotAWorksheet(_)) => {}
            Err(e) => return Err(xlsx_error(e)),
        }
        sheets.push(sheet.finish());
    }
    // Properties are a convenience (the keys also live in cells): a broken docProps part
    // must not make the workbook unreadable.
    let properties = catch_unwind(AssertUnwindSafe(|| wb.workbook_properties()))
        .ok()
        .and_then(Result::ok)
        .map(|p| p.custom_properties.into_iter().collect())
        .unwrap_or_default();
    Ok(RawWorkbook {
        kind: FileKind::Xlsx,
        sheets,
        properties,
    })
}

fn xlsx_error(e: XlsxError) -> ReadError {
    match e {
        XlsxError::Password => ReadError::Password,
        e => corrupt(e.to_string()),
    }
}

fn read_ods(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let mut wb: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(ods_error)?;
    let names = wb.sheet_names();
    check_sheet_count(names.len())?;
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let sheet = match wb.worksheet_range(&name) {
            Ok(range) => {
                let mut sheet = sheet_from_range(name, &range)?;
                for value in sheet.cells.values_mut() {
                    if let RawValue::Text(t) = value {
                        if is_error_text(t) {
                            *value = RawValue::Error(std::mem::take(t));
                        }
                    }
                }
                sheet
            }
            Err(OdsError::WorksheetNotFound(_)) => RawSheet {
                name,
                cells: BTreeMap::new(),
            },
            Err(e) => return Err(ods_error(e)),
        };
        sheets.push(sheet);
    }
    Ok(RawWorkbook {
        kind: FileKind::Ods,
        sheets,
        properties: BTreeMap::new(),
    })
}

/// Whether a text is a formula error as a spreadsheet displays it: calamine gives an .ods
/// error cell as its displayed text (`#DIV/0!`, or LibreOffice's own `Err:502`). Excel
/// itself turns such a typed text into the error value.
fn is_error_text(t: &str) -> bool {
    const ERRORS: [&str; 7] = [
        "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!",
    ];
    ERRORS.contains(&t)
        || t.strip_prefix("Err:")
            .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn ods_error(e: OdsError) -> ReadError {
    match e {
        OdsError::Password => ReadError::Password,
        OdsError::InvalidMime(_) => ReadError::NotAWorkbook {
            detail: format!(
                "这是一个 OpenDocument 文件，但不是表格（可能是文字文档）；{SEND_XLSX}"
            ),
        },
        OdsError::CellLimitExceeded { requested, max } => ReadError::TooLarge {
            detail: format!(
                "表格有 {requested} 个单元格，超过 {max} 个的上限；请删除多余内容后重新保存"
            ),
        },
        e => corrupt(e.to_string()),
    }
}

/// One entry of a zip central directory: its name (lower case, `/` separators) and
/// declared uncompressed size.
struct ZipEntry {
    name: String,
    size: u64,
}

/// Walks a zip file's central directory without inflating anything.
///
/// A missing end-of-directory record means the end of the file is missing: `Truncated`.
/// This follows the common layout (the directory just before its end record, possibly
/// shifted by prepended bytes); the `zip` crate's reader searches harder, so a crafted
/// archive can show it a different directory than this walk sees. With `zip` as a direct
/// dependency this should become a walk over `ZipArchive`'s own entries.
fn zip_entries(bytes: &[u8]) -> Result<Vec<ZipEntry>, ReadError> {
    let len = bytes.len();
    if len < 22 {
        return Err(ReadError::Truncated);
    }
    // The end record is within the last 64 KiB (its comment); the signature can also occur
    // inside a comment, so try each candidate from the end, as the zip reader does.
    let lowest = len.saturating_sub(22 + 0xFFFF);
    let mut first_error = None;
    for eocd in (lowest..=len - 22).rev() {
        if bytes[eocd..].starts_with(EMPTY_ZIP_MAGIC) {
            match zip_directory(bytes, eocd) {
                Err(e @ ReadError::Corrupt { .. }) => {
                    first_error.get_or_insert(e);
                }
                done => return done,
            }
        }
    }
    Err(first_error.unwrap_or(ReadError::Truncated))
}

/// The entries of the central directory whose end record is at `eocd`.
fn zip_directory(bytes: &[u8], eocd: usize) -> Result<Vec<ZipEntry>, ReadError> {
    let broken = || corrupt("压缩包目录损坏");
    let mut count = u64::from(le_u16(bytes, eocd + 10).ok_or_else(broken)?);
    let mut cd_size = u64::from(le_u32(bytes, eocd + 12).ok_or_else(broken)?);
    let mut cd_offset = u64::from(le_u32(bytes, eocd + 16).ok_or_else(broken)?);
    let mut end = eocd as u64;
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        let locator = eocd.checked_sub(20).ok_or_else(broken)?;
        if !bytes[locator..].starts_with(b"PK\x06\x07") {
            return Err(broken());
        }
        let at = usize::try_from(le_u64(bytes, locator + 8).ok_or_else(broken)?)
            .map_err(|_| broken())?;
        if !bytes
            .get(at..)
            .is_some_and(|b| b.starts_with(b"PK\x06\x06"))
        {
            return Err(broken());
        }
        count = le_u64(bytes, at + 32).ok_or_else(broken)?;
        cd_size = le_u64(bytes, at + 40).ok_or_else(broken)?;
        cd_offset = le_u64(bytes, at + 48).ok_or_else(broken)?;
        end = at as u64;
    }
    if count > MAX_ZIP_ENTRIES {
        return Err(ReadError::TooLarge {
            detail: format!(
                "文件由 {count} 个部件组成，超过 {MAX_ZIP_ENTRIES} 个的上限；请另存为新的 .xlsx 后重新发送"
            ),
        });
    }
    let start = if cd_offset.checked_add(cd_size) == Some(end) {
        cd_offset
    } else {
        end.checked_sub(cd_size).ok_or_else(broken)?
    };
    let mut pos = usize::try_from(start).map_err(|_| broken())?;
    let mut entries = Vec::with_capacity(count as usize);
    for _ in 0..count {
        if !bytes
            .get(pos..)
            .is_some_and(|b| b.starts_with(b"PK\x01\x02"))
        {
            return Err(broken());
        }
        let size32 = le_u32(bytes, pos + 24).ok_or_else(broken)?;
        let name_len = usize::from(le_u16(bytes, pos + 28).ok_or_else(broken)?);
        let extra_len = usize::from(le_u16(bytes, pos + 30).ok_or_else(broken)?);
        let comment_len = usize::from(le_u16(bytes, pos + 32).ok_or_else(broken)?);
        let name_at = pos + 46;
        let name = bytes.get(name_at..name_at + name_len).ok_or_else(broken)?;
        let extra = bytes
            .get(name_at + name_len..name_at + name_len + extra_len)
            .ok_or_else(broken)?;
        let size = if size32 == 0xFFFF_FFFF {
            zip64_uncompressed_size(extra).unwrap_or(u64::MAX)
        } else {
            u64::from(size32)
        };
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(name)
                .replace('\\', "/")
                .to_ascii_lowercase(),
            size,
        });
        pos = name_at + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// The content of an ODF package's `mimetype` entry when it is the first entry and stored
/// uncompressed, as the OpenDocument standard asks.
fn stored_mimetype(bytes: &[u8]) -> Option<&[u8]> {
    let method = le_u16(bytes, 8)?;
    let size = le_u32(bytes, 18)? as usize;
    let name_len = usize::from(le_u16(bytes, 26)?);
    let extra_len = usize::from(le_u16(bytes, 28)?);
    if method != 0 || bytes.get(30..30 + name_len)? != b"mimetype" {
        return None;
    }
    let at = 30 + name_len + extra_len;
    bytes.get(at..at + size)
}

/// The uncompressed size from a zip64 extended-information extra field (tag 1), whose
/// first value is the uncompressed size when the 32-bit field is saturated.
fn zip64_uncompressed_size(mut extra: &[u8]) -> Option<u64> {
    while extra.len() >= 4 {
        let tag = le_u16(extra, 0)?;
        let len = usize::from(le_u16(extra, 2)?);
        let data = extra.get(4..4 + len)?;
        if tag == 1 {
            return le_u64(data, 0);
        }
        extra = &extra[4 + len..];
    }
    None
}

// ---------------------------------------------------------------------------------------
// OLE2 (compound file) based files: .xls, and the encrypted-xlsx and .doc look-alikes

fn read_cfb(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    if let Some(info) = guarded(|| cfb_precheck(bytes))? {
        let has = |name: &str| info.names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if has("EncryptedPackage") {
            // An encrypted .xlsx/.docx is an OLE2 container around the encrypted zip.
            return Err(ReadError::Password);
        }
        match &info.workbook {
            Some(stream) => biff_precheck(stream)?,
            None => {
                let what = if has("WordDocument") {
                    "这是一个 Word 文档（.doc），不是 Excel 工作簿"
                } else if has("PowerPoint Document") {
                    "这是一个 PowerPoint 演示文稿（.ppt），不是 Excel 工作簿"
                } else {
                    "这是一个 Office 文件，但不是 Excel 工作簿"
                };
                return Err(ReadError::NotAWorkbook {
                    detail: format!("{what}；{SEND_XLSX}"),
                });
            }
        }
    }
    guarded(|| read_xls(bytes))
}

fn read_xls(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let mut wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(xls_error)?;
    let names = wb.sheet_names();
    check_sheet_count(names.len())?;
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let sheet = match wb.worksheet_range(&name) {
            Ok(range) => sheet_from_range(name, &range)?,
            Err(XlsError::WorksheetNotFound(_)) => RawSheet {
                name,
                cells: BTreeMap::new(),
            },
            Err(e) => return Err(xls_error(e)),
        };
        sheets.push(sheet);
    }
    Ok(RawWorkbook {
        kind: FileKind::Xls,
        sheets,
        properties: BTreeMap::new(),
    })
}

fn xls_error(e: XlsError) -> ReadError {
    match e {
        XlsError::Password => ReadError::Password,
        XlsError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ReadError::Truncated,
        // calamine's CfbError is not exported: only its text can be told apart.
        XlsError::Cfb(c) if c.to_string().contains("past end of file") => ReadError::Truncated,
        XlsError::Cfb(c) if c.to_string().contains("Cannot find") => ReadError::NotAWorkbook {
            detail: format!("这是一个 Office 文件，但不是 Excel 工作簿；{SEND_XLSX}"),
        },
        e => corrupt(e.to_string()),
    }
}

/// What the container check learned: every directory entry's name, and the workbook
/// stream (`Workbook`, or `Book` in BIFF5 files) if there is one.
struct CfbInfo {
    names: Vec<String>,
    workbook: Option<Vec<u8>>,
}

const CFB_RESERVED: u32 = 0xFFFF_FFFA;
const CFB_DIFSECT: u32 = 0xFFFF_FFFC;
const CFB_END_OF_CHAIN: u32 = 0xFFFF_FFFE;

/// Walks an OLE2 container the way calamine's reader does, but with every step bounded:
/// calamine follows sector chains without detecting loops (a looping directory chain
/// grows memory without end) and trusts sector numbers.
///
/// `Ok(None)` when the header is one calamine will reject anyway (so it can say why).
fn cfb_precheck(bytes: &[u8]) -> Result<Option<CfbInfo>, ReadError> {
    if bytes.len() < 512 {
        return Err(ReadError::Truncated);
    }
    let sector_size: usize = match le_u16(bytes, 30) {
        Some(9) => 512,
        Some(12) => 4096,
        _ => return Ok(None),
    };
    if le_u16(bytes, 32) != Some(6) {
        return Ok(None);
    }
    if bytes.len() < sector_size {
        return Err(ReadError::Truncated);
    }
    let header_u32 = |at: usize| le_u32(bytes, at).unwrap_or(CFB_END_OF_CHAIN);
    let max_id = bytes.len() / sector_size;
    let sector = |id: u32| -> Result<&[u8], ReadError> {
        if id >= CFB_RESERVED {
            return Err(corrupt("扇区链损坏"));
        }
        let start = (id as usize + 1) * sector_size;
        if id as usize > max_id || start >= bytes.len() {
            return Err(ReadError::Truncated);
        }
        Ok(&bytes[start..(start + sector_size).min(bytes.len())])
    };

    // The sector allocation table: listed by the header's 109 slots, then a chain of
    // DIFAT sectors whose last slot points to the next one.
    let mut difat: Vec<u32> = le_u32s(&bytes[76..512]).collect();
    let mut id = header_u32(68);
    let mut steps = 0;
    while id < CFB_RESERVED {
        steps += 1;
        if steps > max_id + 1 {
            return Err(corrupt("扇区表循环"));
        }
        difat.extend(le_u32s(sector(id)?));
        id = difat.pop().unwrap_or(CFB_END_OF_CHAIN);
    }
    let fat_sectors: Vec<u32> = difat.into_iter().filter(|&id| id < CFB_DIFSECT).collect();
    if fat_sectors.len() > max_id + 1 {
        return Err(corrupt("扇区表过长"));
    }
    let mut fat = Vec::with_capacity(fat_sectors.len() * sector_size / 4);
    for id in fat_sectors {
        fat.extend(le_u32s(sector(id)?));
    }

    let chain = |start: u32, len: usize| -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0;
        while id != CFB_END_OF_CHAIN {
            let s = sector(id)?;
            let take = s.len().min(len - out.len());
            out.extend_from_slice(&s[..take]);
            if out.len() >= len {
                break;
            }
            steps += 1;
            if steps > max_id + 1 {
                return Err(corrupt("扇区链循环"));
            }
            id = *fat.get(id as usize).ok_or_else(|| corrupt("扇区链损坏"))?;
        }
        Ok(out)
    };

    struct Entry {
        name: String,
        start: u32,
        len: usize,
    }
    let directory = chain(header_u32(48), usize::MAX)?;
    let entries: Vec<Entry> = directory
        .chunks_exact(128)
        .map(|d| {
            let mut name = encoding_rs::UTF_16LE
                .decode_without_bom_handling(&d[..64])
                .0
                .into_owned();
            if let Some(nul) = name.find('\0') {
                name.truncate(nul);
            }
            let len = if sector_size == 512 {
                u64::from(le_u32(d, 120).unwrap_or(0))
            } else {
                le_u64(d, 120).unwrap_or(0)
            };
            Entry {
                name,
                start: le_u32(d, 116).unwrap_or(CFB_END_OF_CHAIN),
                len: usize::try_from(len).unwrap_or(usize::MAX),
            }
        })
        .collect();
    let Some(root) = entries.first() else {
        return Ok(None);
    };

    // Streams under 4096 bytes live in the mini stream, in 64-byte sectors.
    let mini_fat_sectors = header_u32(64) as usize;
    let (mini_stream, mini_fat) = if mini_fat_sectors > 0 {
        let stream = chain(root.start, root.len)?;
        let table = chain(header_u32(60), mini_fat_sectors.saturating_mul(sector_size))?;
        (stream, le_u32s(&table).collect::<Vec<u32>>())
    } else {
        (Vec::new(), Vec::new())
    };
    let mini_chain = |start: u32, len: usize| -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0;
        while id != CFB_END_OF_CHAIN {
            let at = id as usize * 64;
            if at >= mini_stream.len() {
                return Err(corrupt("小扇区超出范围"));
            }
            let s = &mini_stream[at..(at + 64).min(mini_stream.len())];
            let take = s.len().min(len - out.len());
            out.extend_from_slice(&s[..take]);
            if out.len() >= len {
                break;
            }
            steps += 1;
            if steps > mini_stream.len() / 64 + 1 {
                return Err(corrupt("小扇区链循环"));
            }
            id = *mini_fat
                .get(id as usize)
                .ok_or_else(|| corrupt("小扇区链损坏"))?;
        }
        Ok(out)
    };

    let find = |name: &str| entries.iter().find(|e| e.name.eq_ignore_ascii_case(name));
    let workbook = match find("Workbook").or_else(|| find("Book")) {
        Some(e) if e.len < 4096 => Some(mini_chain(e.start, e.len)?),
        Some(e) => Some(chain(e.start, e.len)?),
        None => None,
    };
    Ok(Some(CfbInfo {
        names: entries.into_iter().map(|e| e.name).collect(),
        workbook,
    }))
}

/// Scans a BIFF workbook stream the way calamine's parser walks it (globals up to the
/// first EOF, then each sheet from the offset its BoundSheet record gives) and refuses a
/// sheet whose cells would span more than [`MAX_SHEET_AREA`] cells: calamine allocates
/// that bounding box while parsing, before anything can be checked afterwards.
fn biff_precheck(stream: &[u8]) -> Result<(), ReadError> {
    let mut offsets = Vec::new();
    for (typ, data) in biff_records(stream) {
        match typ {
            // FilePass: the records are encrypted or obfuscated.
            0x002F => return Err(ReadError::Password),
            0x0085 => offsets.extend(le_u32(data, 0).map(|p| p as usize)),
            0x000A => break,
            _ => {}
        }
    }
    check_sheet_count(offsets.len())?;
    let mut seen = BTreeSet::new();
    for (index, &offset) in offsets.iter().enumerate() {
        if !seen.insert(offset) {
            continue;
        }
        // calamine slices the stream at this offset without checking it.
        let sheet = stream
            .get(offset..)
            .ok_or_else(|| corrupt("工作表位置超出文件范围"))?;
        let mut bounds = Bounds::default();
        let label = format!("第 {} 个工作表", index + 1);
        let mut depth = 0usize;
        let mut seen_bof = false;
        for (typ, data) in biff_records(sheet) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let pos = |data: &[u8]| Some((le_u16(data, 0)?, le_u16(data, 2)?));
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                // Dimensions: calamine reserves room for that many cells.
                0x0200 if biff_dimensions_area(data) > MAX_XLS_DIMENSIONS_AREA => {
                    return Err(ReadError::TooLarge {
                        detail: format!(
                            "{label}声明的范围超过 {} 万个单元格；请删除表格以外的多余内容后重新保存",
                            MAX_XLS_DIMENSIONS_AREA / 10_000
                        ),
                    });
                }
                // Number, Label, RString, BoolErr, RK, LabelSst, Formula.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                    if let Some((row, col)) = pos(data) {
                        bounds.add(u32::from(row), u32::from(col));
                    }
                }
                // MulRk: a run of cells from its first to its last column.
                0x00BD => {
                    if let (Some((row, first)), Some(last)) = (
                        pos(data),
                        data.len().checked_sub(2).and_then(|at| le_u16(data, at)),
                    ) {
                        bounds.add(u32::from(row), u32::from(first));
                        bounds.add(u32::from(row), u32::from(last));
                    }
                }
                0x000A => break,
                _ => {}
            }
            if bounds.area() > MAX_SHEET_AREA {
                return Err(bounds.too_large(&label));
            }
        }
    }
    Ok(())
}

/// The number of cells calamine reserves for a DIMENSIONS record, computed as calamine
/// does (including the wrap-around of an inverted row range in release builds).
fn biff_dimensions_area(d: &[u8]) -> u64 {
    let fields = match d.len() {
        10 => (|| {
            Some((
                u32::from(le_u16(d, 0)?),
                u32::from(le_u16(d, 2)?),
                le_u16(d, 4)?,
                le_u16(d, 6)?,
            ))
        })(),
        14 | 16 => (|| Some((le_u32(d, 0)?, le_u32(d, 4)?, le_u16(d, 8)?, le_u16(d, 10)?)))(),
        _ => None,
    };
    let Some((first_row, last_row, mut first_col, last_col)) = fields else {
        return 0;
    };
    if first_col > 0xFF || last_col < first_col {
        first_col = 0;
    }
    if last_row < 1 || last_col < 1 {
        return 1;
    }
    let rows = u64::from((last_row - 1).wrapping_sub(first_row).wrapping_add(1));
    let cols = u64::from(last_col - first_col);
    rows.saturating_mul(cols)
}

/// BIFF records `(type, data)` in order, as calamine splits them (a CONTINUE record comes
/// out as a record of its own here, which changes no boundary).
fn biff_records(stream: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = stream;
    std::iter::from_fn(move || {
        let typ = le_u16(rest, 0)?;
        let len = usize::from(le_u16(rest, 2)?);
        let data = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some((typ, data))
    })
}

// ---------------------------------------------------------------------------------------
// Files that are not workbooks

/// A sentence naming what a non-workbook file is, from its first bytes.
fn describe_foreign(bytes: &[u8], ext: &str) -> String {
    let named = if ext.is_empty() {
        String::new()
    } else {
        format!("，只是扩展名为 .{ext}")
    };
    let resave = "请用 Excel 或 WPS 打开后另存为 .xlsx";
    let binary = [
        (&b"%PDF-"[..], "这是一个 PDF 文件"),
        (b"\x89PNG", "这是一张图片"),
        (b"\xFF\xD8\xFF", "这是一张图片"),
        (b"GIF8", "这是一张图片"),
        (b"Rar!\x1A\x07", "这是一个压缩包（rar）"),
        (b"7z\xBC\xAF\x27\x1C", "这是一个压缩包（7z）"),
    ];
    if let Some((_, what)) = binary.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return format!("{what}，不是 Excel 工作簿；{SEND_XLSX}");
    }
    let Some(text) = sniff_text(bytes) else {
        return format!("不是 Excel / WPS / LibreOffice 工作簿，无法读取；{SEND_XLSX}");
    };
    let head: String = text
        .trim_start()
        .chars()
        .take(2048)
        .collect::<String>()
        .to_lowercase();
    if head.starts_with("<?xml") {
        if head.contains("urn:schemas-microsoft-com:office:spreadsheet")
            || head.contains("<workbook")
        {
            return format!("这是一个 XML 表格（Excel 2003 XML）文件{named}；{resave}");
        }
        if head.contains("urn:oasis:names:tc:opendocument:xmlns:office") {
            return format!("这是一个 OpenDocument XML 表格（.fods）文件{named}；{resave}");
        }
        if !head.contains("<html") {
            return format!("这是一个 XML 文件，不是 Excel 工作簿；{SEND_XLSX}");
        }
    }
    if head.starts_with('<') || head.starts_with("mime-version:") {
        return format!("这是一个网页（HTML）文件{named}；{resave}");
    }
    if head.contains(',') || head.contains('\t') {
        return format!("这是一个文本（CSV）文件，不是 Excel 工作簿；{resave}");
    }
    format!("这是一个文本文件，不是 Excel 工作簿；{SEND_XLSX}")
}

/// The start of the file as text, if it looks like text in UTF-8, UTF-16 (with a BOM) or
/// GBK: decodable, and without control characters other than white space.
fn sniff_text(bytes: &[u8]) -> Option<String> {
    let cut = bytes.len() > 8192;
    let head = &bytes[..bytes.len().min(8192)];
    let text = if let Some(rest) = head.strip_prefix(b"\xFF\xFE") {
        encoding_rs::UTF_16LE
            .decode_without_bom_handling(rest)
            .0
            .into_owned()
    } else if let Some(rest) = head.strip_prefix(b"\xFE\xFF") {
        encoding_rs::UTF_16BE
            .decode_without_bom_handling(rest)
            .0
            .into_owned()
    } else {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        match std::str::from_utf8(head) {
            Ok(s) => s.to_string(),
            // A character split by the 8 KiB cut.
            Err(e) if cut && e.error_len().is_none() => {
                String::from_utf8_lossy(&head[..e.valid_up_to()]).into_owned()
            }
            Err(_) => {
                let gbk = |b: &[u8]| {
                    encoding_rs::GBK
                        .decode_without_bom_handling_and_without_replacement(b)
                        .map(|s| s.into_owned())
                };
                gbk(head).or_else(|| {
                    if cut {
                        gbk(&head[..head.len() - 1])
                    } else {
                        None
                    }
                })?
            }
        }
    };
    let texty = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1a'));
    let replaced = text.chars().filter(|&c| c == '\u{FFFD}').count();
    (texty && replaced <= 1 && !text.trim().is_empty()).then_some(text)
}

// ---------------------------------------------------------------------------------------
// Cells

fn check_sheet_count(n: usize) -> Result<(), ReadError> {
    if n > MAX_SHEETS {
        return Err(ReadError::TooLarge {
            detail: format!(
                "工作簿有 {n} 个工作表，超过 {MAX_SHEETS} 个的上限；请只保留报表的工作表后重新保存"
            ),
        });
    }
    Ok(())
}

/// The bounding box of the cells seen so far (zero-based, inclusive).
#[derive(Default)]
struct Bounds {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Bounds {
    fn add(&mut self, row: u32, col: u32) {
        let grow = |b: Option<(u32, u32)>, x: u32| {
            Some(b.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
        };
        self.rows = grow(self.rows, row);
        self.cols = grow(self.cols, col);
    }

    fn area(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1),
            _ => 0,
        }
    }

    fn too_large(&self, sheet: &str) -> ReadError {
        let (r0, r1) = self.rows.unwrap_or_default();
        let (c0, c1) = self.cols.unwrap_or_default();
        let at = |r: u32, c: u32| CellRef::new(r, u16::try_from(c).unwrap_or(u16::MAX));
        ReadError::TooLarge {
            detail: format!(
                "{sheet}的内容从 {} 延伸到 {}（约 {} 万个单元格，上限 {} 万）；请删除表格以外的多余内容后重新保存",
                at(r0, c0),
                at(r1, c1),
                self.area().div_ceil(10_000),
                MAX_SHEET_AREA / 10_000
            ),
        }
    }
}

/// Collects one sheet's cells, refusing it once its bounding box passes
/// [`MAX_SHEET_AREA`].
struct SheetBuilder {
    name: String,
    cells: BTreeMap<CellRef, RawValue>,
    bounds: Bounds,
}

impl SheetBuilder {
    fn new(name: String) -> SheetBuilder {
        SheetBuilder {
            name,
            cells: BTreeMap::new(),
            bounds: Bounds::default(),
        }
    }

    /// Adds a value at an absolute zero-based position.
    fn push(&mut self, row: u32, col: u32, value: RawValue) -> Result<(), ReadError> {
        self.bounds.add(row, col);
        if self.bounds.area() > MAX_SHEET_AREA {
            return Err(self.bounds.too_large(&format!("工作表「{}」", self.name)));
        }
        let col = u16::try_from(col).map_err(|_| corrupt("单元格位置超出范围"))?;
        self.cells.insert(CellRef::new(row, col), value);
        Ok(())
    }

    fn finish(self) -> RawSheet {
        RawSheet {
            name: self.name,
            cells: self.cells,
        }
    }
}

/// A sheet from a calamine range, whose positions are relative to its first cell.
fn sheet_from_range(name: String, range: &Range<Data>) -> Result<RawSheet, ReadError> {
    let mut sheet = SheetBuilder::new(name);
    if let Some((row0, col0)) = range.start() {
        for (row, col, value) in range.used_cells() {
            if let Some(value) = from_data(value) {
                let row = row0.saturating_add(u32::try_from(row).unwrap_or(u32::MAX));
                let col = col0.saturating_add(u32::try_from(col).unwrap_or(u32::MAX));
                sheet.push(row, col, value)?;
            }
        }
    }
    Ok(sheet.finish())
}

fn from_data(d: &Data) -> Option<RawValue> {
    Some(match d {
        Data::Empty => return None,
        Data::String(s) if s.is_empty() => return None,
        Data::String(s) => RawValue::Text(s.clone()),
        Data::Float(x) => RawValue::Number(*x),
        Data::Int(i) => RawValue::Number(*i as f64),
        Data::Bool(b) => RawValue::Bool(*b),
        Data::Error(e) => RawValue::Error(e.to_string()),
        Data::DateTime(dt) => RawValue::Date(excel_datetime_text(dt)),
        Data::DateTimeIso(s) | Data::DurationIso(s) if s.is_empty() => return None,
        Data::DateTimeIso(s) | Data::DurationIso(s) => RawValue::Date(s.clone()),
    })
}

fn from_data_ref(d: &DataRef<'_>) -> Option<RawValue> {
    match d {
        DataRef::SharedString("") => None,
        DataRef::SharedString(s) => Some(RawValue::Text((*s).to_string())),
        DataRef::Empty => None,
        DataRef::String(s) if s.is_empty() => None,
        DataRef::String(s) => Some(RawValue::Text(s.clone())),
        DataRef::Float(x) => Some(RawValue::Number(*x)),
        DataRef::Int(i) => Some(RawValue::Number(*i as f64)),
        DataRef::Bool(b) => Some(RawValue::Bool(*b)),
        DataRef::Error(e) => Some(RawValue::Error(e.to_string())),
        DataRef::DateTime(dt) => Some(RawValue::Date(excel_datetime_text(dt))),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) if s.is_empty() => None,
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(RawValue::Date(s.clone())),
    }
}

/// ISO text for a date-formatted cell: `2024-03-01`, `2024-03-01T08:30:00`, a time of day
/// alone (`08:30:00`) for serials under one day, `[h]:mm:ss` for durations, and the serial
/// number itself outside Excel's date range (before 1900 or after 9999).
///
/// Built from `to_ymd_hms_milli` because calamine's chrono feature is off.
fn excel_datetime_text(dt: &ExcelDateTime) -> String {
    let serial = dt.as_f64();
    if !serial.is_finite() || !(0.0..2_958_466.0).contains(&serial) {
        return format!("{serial}");
    }
    if dt.is_duration() {
        let seconds = (serial * 86_400.0).round() as u64;
        return format!(
            "{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let time = if ms > 0 {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    };
    if serial < 1.0 {
        return time;
    }
    let date = format!("{y:04}-{mo:02}-{d:02}");
    if (h, mi, s, ms) == (0, 0, 0, 0) {
        date
    } else {
        format!("{date}T{time}")
    }
}

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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_xlsxwriter::{DocProperties, Format, Formula, Workbook};
    use std::io::Write;

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
        let e = read_as(&cfb(&[("WordDocument", b"x")]), "a.xls").unwrap_err();
        assert!(detail(&e).contains("Word"), "{e}");
        let docx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w/>"),
        ]);
        let e = read_as(&docx, "a.xlsx").unwrap_err();
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
}
