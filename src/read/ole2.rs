//! OLE2 (compound file) based files: .xls, and the encrypted-xlsx, .doc and .ppt
//! look-alikes. The container is walked here with every step bounded (no sector-chain
//! loops, nothing past the end of the file) and the .xls BIFF records scanned for each
//! sheet's bounding box, because calamine allocates those densely while parsing. Then the
//! file goes to [`super::convert`].
//!
//! Trusts no sector number, chain or record length from the file: every walk is bounded
//! by the file's size. calamine is reached only through `convert`.

use std::collections::BTreeSet;

use super::convert::{check_sheet_count, read_xls, Bounds};
use super::{
    corrupt, guarded, le_u16, le_u32, le_u32s, le_u64, RawWorkbook, ReadError, MAX_SHEET_AREA,
    SEND_XLSX,
};

/// Largest `DIMENSIONS` record accepted in an .xls sheet: calamine reserves that many cells
/// up front. Looser than [`MAX_SHEET_AREA`] because formatted blank cells count too.
const MAX_XLS_DIMENSIONS_AREA: u64 = 4 * MAX_SHEET_AREA;

pub(super) fn read_cfb(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    if let Some(info) = guarded(|| cfb_precheck(bytes))? {
        let has = |name: &str| info.names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if has("EncryptedPackage") {
            // An encrypted .xlsx/.docx is an OLE2 container around the encrypted zip.
            return Err(ReadError::Password);
        }
        match &info.workbook {
            Some(stream) => biff_precheck(stream)?,
            None => {
                if has("WordDocument") {
                    return Err(ReadError::SaveAsDocx {
                        what: super::WORD_97,
                    });
                }
                let what = if has("PowerPoint Document") {
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
pub(super) fn biff_precheck(stream: &[u8]) -> Result<(), ReadError> {
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
