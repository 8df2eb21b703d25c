//! Files that are not workbooks: a web page, CSV or XML saved as `.xls`, a PDF, a
//! picture, a rar or 7z archive. Names what the file is, from its first bytes, in a
//! sentence that tells the clerk what to send instead.
//!
//! Decides nothing about workbooks: only called once the first bytes are neither zip nor
//! OLE2.

use super::SEND_XLSX;

/// A sentence naming what a non-workbook file is, from its first bytes.
pub(super) fn describe_foreign(bytes: &[u8], ext: &str) -> String {
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
