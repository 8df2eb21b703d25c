//! calamine's workbooks → [`RawWorkbook`]: the only file that calls calamine. Opens a
//! file the checks in [`super::zip_checks`] and [`super::ole2`] let through, turns
//! calamine's values into [`RawValue`]s at absolute positions and its errors into
//! [`ReadError`]s, and refuses a sheet or workbook past [`MAX_SHEET_AREA`] or
//! [`MAX_SHEETS`] while reading.
//!
//! Interprets nothing of the report: a cell is kept as the spreadsheet holds it (a date as
//! ISO text, an .ods error as the error it displays, a formula saved without its result
//! as a value without a result holding its text, `RawValue::Error("=1+4")`, never as an
//! empty cell). [`Bounds`] and the sheet count check
//! also serve the .xls pre-check in `ole2`.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{
    Data, DataRef, ExcelDateTime, Ods, OdsError, Range, Reader, Xls, XlsError, Xlsx, XlsxError,
    XlsxFormulaMetadata,
};

use super::{
    corrupt, FileKind, RawSheet, RawValue, RawWorkbook, ReadError, MAX_SHEETS, MAX_SHEET_AREA,
    SEND_XLSX,
};
use crate::cell::CellRef;

pub(super) fn read_xlsx(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let names = wb.sheet_names();
    check_sheet_count(names.len())?;
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let sheet = match xlsx_sheet(&mut wb, &name, true) {
            // A formula record calamine cannot follow (a shared formula without its
            // index…): the sheet's values as before, formulas left aside.
            Err(ReadError::Corrupt { .. }) => xlsx_sheet(&mut wb, &name, false)?,
            other => other?,
        };
        sheets.push(sheet);
    }
    // Properties are a convenience (the keys also live in cells): a broken docProps part
    // must not make the workbook unreadable.
    let props = catch_unwind(AssertUnwindSafe(|| wb.workbook_properties()))
        .ok()
        .and_then(Result::ok);
    let saved = props.as_ref().and_then(|p| p.modified.clone());
    let properties = props
        .map(|p| p.custom_properties.into_iter().collect())
        .unwrap_or_default();
    Ok(RawWorkbook {
        kind: FileKind::Xlsx,
        sheets,
        properties,
        saved,
    })
}

/// One sheet of an xlsx, streamed: memory stays proportional to the cells present
/// (`worksheet_range` would allocate the whole bounding box first). With `formulas`, a
/// cell holding a formula but no saved result (what openpyxl and other generators write)
/// is kept, rather than read as empty, as a value without a result: [`RawValue::Error`]
/// holding the formula's text, `=` first (a real error value is `#…` or `Err:…`, a
/// typed text stays [`RawValue::Text`]). The reader computes it or says why it cannot,
/// never takes it as 0.
fn xlsx_sheet<R: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    name: &str,
    formulas: bool,
) -> Result<RawSheet, ReadError> {
    let mut sheet = SheetBuilder::new(name.to_string());
    let mut cells = match wb.worksheet_cells_reader(name) {
        Ok(cells) => cells,
        // A chart sheet or dialog sheet: listed, no cells.
        Err(XlsxError::NotAWorksheet(_)) => return Ok(sheet.finish()),
        Err(e) => return Err(xlsx_error(e)),
    };
    if !formulas {
        while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
            let (row, col) = cell.get_position();
            if let Some(value) = from_data_ref(cell.get_value()) {
                sheet.push(row, col, value)?;
            }
        }
        return Ok(sheet.finish());
    }
    // Formula metadata without expanding shared formulas: an expansion allocates for the
    // index a file declares.
    while let Some(cell) = cells
        .next_cell_with_formula_metadata()
        .map_err(xlsx_error)?
    {
        let (row, col) = cell.pos;
        let value = match (&cell.value, cell.formula) {
            (DataRef::Empty, Some(formula)) => Some(RawValue::Error(formula_text(formula))),
            (value, _) => from_data_ref(value),
        };
        if let Some(value) = value {
            sheet.push(row, col, value)?;
        }
    }
    Ok(sheet.finish())
}

/// A formula saved without its result, as the reader keeps it: `=` and its text. A cell
/// of a shared formula carries no text of its own (Excel always saves results with
/// those): named so, it cannot be computed and is reported.
fn formula_text(formula: XlsxFormulaMetadata) -> String {
    match formula {
        XlsxFormulaMetadata::Normal { formula } | XlsxFormulaMetadata::Shared { formula, .. } => {
            format!("={}", formula.trim_start_matches('='))
        }
        _ => "=（共享公式）".to_string(),
    }
}

/// An .ods formula (`of:=[.E8]+SUM([.E9:.E10];1)`) as Excel writes it (`=E8+SUM(E9:E10,1)`),
/// for a cell saved without its result. References to other sheets keep a form the
/// reader does not compute.
fn ods_formula_text(formula: &str) -> String {
    let body = formula
        .trim()
        .strip_prefix("of:")
        .unwrap_or(formula.trim())
        .trim_start_matches('=');
    let body = body
        .replace("[.", "")
        .replace(":.", ":")
        .replace(['[', ']'], "")
        .replace(';', ",");
    format!("={body}")
}

fn xlsx_error(e: XlsxError) -> ReadError {
    match e {
        XlsxError::Password => ReadError::Password,
        e => corrupt(e.to_string()),
    }
}

pub(super) fn read_ods(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
    let mut wb: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(ods_error)?;
    // When it was saved (meta.xml's dc:date), as for xlsx; a broken part is no reason
    // to refuse the workbook.
    let saved = catch_unwind(AssertUnwindSafe(|| wb.workbook_properties()))
        .ok()
        .and_then(Result::ok)
        .and_then(|p| p.modified);
    let names = wb.sheet_names();
    check_sheet_count(names.len())?;
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let sheet = match wb.worksheet_range(&name) {
            Ok(range) => {
                let mut sheet = sheet_from_range(name.clone(), &range)?;
                for value in sheet.cells.values_mut() {
                    if let RawValue::Text(t) = value {
                        if is_error_text(t) {
                            *value = RawValue::Error(std::mem::take(t));
                        }
                    }
                }
                // Formulas saved without their results, kept as their text (see
                // `xlsx_sheet`). calamine holds them beside the values, same shape.
                if let Ok(formulas) = wb.worksheet_formula(&name) {
                    if let Some((row0, col0)) = formulas.start() {
                        for (r, c, f) in formulas.used_cells() {
                            let at = (
                                row0.saturating_add(u32::try_from(r).unwrap_or(u32::MAX)),
                                col0.saturating_add(u32::try_from(c).unwrap_or(u32::MAX)),
                            );
                            let Ok(col) = u16::try_from(at.1) else {
                                continue;
                            };
                            let cell = CellRef::new(at.0, col);
                            if !f.trim().is_empty() && !sheet.cells.contains_key(&cell) {
                                let blank = range
                                    .get_value((at.0, at.1))
                                    .is_none_or(|v| matches!(v, Data::Empty));
                                if blank {
                                    sheet
                                        .cells
                                        .insert(cell, RawValue::Text(ods_formula_text(f)));
                                }
                            }
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
        saved,
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

pub(super) fn read_xls(bytes: &[u8]) -> Result<RawWorkbook, ReadError> {
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
        saved: None,
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

// ---------------------------------------------------------------------------------------
// Cells

pub(super) fn check_sheet_count(n: usize) -> Result<(), ReadError> {
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
pub(super) struct Bounds {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Bounds {
    pub(super) fn add(&mut self, row: u32, col: u32) {
        let grow = |b: Option<(u32, u32)>, x: u32| {
            Some(b.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
        };
        self.rows = grow(self.rows, row);
        self.cols = grow(self.cols, col);
    }

    pub(super) fn area(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1),
            _ => 0,
        }
    }

    pub(super) fn too_large(&self, sheet: &str) -> ReadError {
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
pub(super) fn excel_datetime_text(dt: &ExcelDateTime) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ods_formulas_read_as_excel_writes_them() {
        assert_eq!(ods_formula_text("of:=[.E8]+[.E9]"), "=E8+E9");
        assert_eq!(
            ods_formula_text("of:=SUM([.E8:.E9];[.F8])-1"),
            "=SUM(E8:E9,F8)-1"
        );
        assert_eq!(ods_formula_text("of:=1+4"), "=1+4");
        // Another sheet stays in a form that is not computed.
        assert_eq!(ods_formula_text("of:=[$Sheet2.A1]"), "=$Sheet2.A1");
    }

    #[test]
    fn formulas_without_text_are_named_not_emptied() {
        let normal = XlsxFormulaMetadata::Normal {
            formula: "1+4".into(),
        };
        assert_eq!(formula_text(normal), "=1+4");
        let derived = XlsxFormulaMetadata::SharedDerived { shared_index: 3 };
        assert!(formula_text(derived).starts_with('='));
    }
}
