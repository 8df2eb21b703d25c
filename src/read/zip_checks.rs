//! Zip-based files (.xlsx, .xlsm, .ods) before calamine opens them: the central
//! directory walked without inflating anything, the kind of file told from the names of
//! its parts (a Word document, an .xlsb, a zip of workbooks…), and the declared sizes,
//! part count, xlsx shared-string count and .ods repeated cells held to the limits in
//! [`super`]. Then the file goes to [`super::convert`].
//!
//! Inflates only to check (the head of an xlsx's shared strings, one streaming pass over
//! an .ods's `content.xml`) and holds no part in memory; calamine is reached only through
//! `convert`.

use super::convert::{read_ods, read_xlsx};
use super::{
    corrupt, guarded, le_u16, le_u32, le_u64, FileKind, RawWorkbook, ReadError, EMPTY_ZIP_MAGIC,
    MAX_SHARED_STRINGS, MAX_SHEET_AREA, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES, SEND_XLSX,
};

pub(super) fn read_zip(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
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
        FileKind::Docx => guarded(|| super::docx::read_docx(bytes)),
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
    } else if has("word/document.xml") {
        Ok(FileKind::Docx)
    } else if has_prefix("word/") {
        not(format!(
            "这是一个 Word 文档，但缺少正文，无法读取；{SEND_XLSX}"
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
        super::SPREADSHEET_EXTENSIONS
            .iter()
            .any(|x| e.name.ends_with(&format!(".{x}")))
    }) {
        not("这是一个压缩包（zip），里面装着表格文件；请解压后发送其中的表格文件".into())
    } else {
        not(format!(
            "这是一个压缩包（zip），不是 Excel 工作簿；{SEND_XLSX}"
        ))
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
