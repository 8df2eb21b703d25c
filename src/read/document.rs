//! Documents (a Word `.docx`, a saved web page) → the same raw cells as a workbook, so
//! that one label engine reads every kind of report.
//!
//! A document becomes a [`RawWorkbook`] of kind [`FileKind::Docx`] or [`FileKind::Html`]:
//! its first sheet, [`PARAGRAPHS_SHEET`], holds the running text one paragraph a row (in
//! column A, in reading order); every data table follows as a sheet of its own
//! (`表格1`, `表格2`…), its merged cells resolved to the grid the way a workbook's merge
//! is: the value in the top-left cell only, the cells it covers empty. The sheet names
//! and cell addresses are only how `locate` finds things; findings about a document
//! name the table, row and column by their labels instead.

use std::collections::{BTreeMap, HashSet};

use super::{FileKind, RawSheet, RawValue, RawWorkbook, ReadError, MAX_SHEETS, MAX_SHEET_AREA};
use crate::cell::CellRef;

/// The sheet holding a document's paragraphs, one a row in column A.
pub const PARAGRAPHS_SHEET: &str = "正文";

/// Widest span a cell may claim (HTML caps `colspan` at 1000 too); a larger one is
/// read as this.
const MAX_SPAN: u32 = 1000;

/// One cell of a document's table as written: its text (paragraphs joined by a line
/// break) and how many grid columns and rows it covers.
#[derive(Debug, Clone)]
pub(super) struct DocCell {
    pub text: String,
    pub colspan: u32,
    pub rowspan: u32,
}

impl DocCell {
    pub fn new(text: String, colspan: u32, rowspan: u32) -> DocCell {
        DocCell {
            text,
            colspan: colspan.clamp(1, MAX_SPAN),
            rowspan: rowspan.clamp(1, MAX_SPAN),
        }
    }
}

/// A document as read: its paragraphs in order and its data tables, each a list of rows.
#[derive(Debug, Default)]
pub(super) struct Document {
    pub paragraphs: Vec<String>,
    pub tables: Vec<Vec<Vec<DocCell>>>,
}

/// The document as a workbook (see the module doc), within the limits that bound a
/// workbook: at most [`MAX_SHEETS`] sheets and [`MAX_SHEET_AREA`] cells a sheet.
pub(super) fn to_workbook(doc: Document, kind: FileKind) -> Result<RawWorkbook, ReadError> {
    if doc.tables.len() + 1 > MAX_SHEETS {
        return Err(ReadError::TooLarge {
            detail: format!(
                "文档中有 {} 个表格，超过 {} 个的上限",
                doc.tables.len(),
                MAX_SHEETS - 1
            ),
        });
    }
    if doc.paragraphs.len() as u64 > MAX_SHEET_AREA {
        return Err(ReadError::TooLarge {
            detail: format!("文档中有 {} 个段落，超过上限", doc.paragraphs.len()),
        });
    }
    let mut text = RawSheet {
        name: PARAGRAPHS_SHEET.to_string(),
        cells: BTreeMap::new(),
    };
    for (row, p) in doc.paragraphs.into_iter().enumerate() {
        text.cells
            .insert(CellRef::new(row as u32, 0), RawValue::Text(p));
    }
    let mut sheets = vec![text];
    for (i, table) in doc.tables.iter().enumerate() {
        sheets.push(grid(table, format!("表格{}", i + 1))?);
    }
    Ok(RawWorkbook {
        kind,
        sheets,
        properties: BTreeMap::new(),
        // The deadline rule (D-1) is for templates, which documents are not.
        saved: None,
    })
}

/// A table's rows laid on a grid: each cell at the first column its row has free (cells
/// spanning rows from above take theirs), its text in its top-left grid cell. A row
/// span never reaches past the table's last row.
fn grid(rows: &[Vec<DocCell>], name: String) -> Result<RawSheet, ReadError> {
    let mut taken: HashSet<(u32, u32)> = HashSet::new();
    let mut cells = BTreeMap::new();
    let mut area: u64 = 0;
    let last_row = rows.len().saturating_sub(1) as u32;
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32;
        let mut c: u32 = 0;
        for cell in row {
            while taken.contains(&(r, c)) {
                c += 1;
            }
            let rows_down = cell.rowspan.min(last_row - r + 1);
            area += u64::from(rows_down) * u64::from(cell.colspan);
            if area > MAX_SHEET_AREA || c + cell.colspan > u32::from(u16::MAX) {
                return Err(ReadError::TooLarge {
                    detail: format!("{name}的合并单元格展开后超过 {MAX_SHEET_AREA} 个单元格"),
                });
            }
            if rows_down > 1 {
                for dr in 0..rows_down {
                    for dc in 0..cell.colspan {
                        taken.insert((r + dr, c + dc));
                    }
                }
            }
            let text = cell.text.trim();
            if !text.is_empty() {
                cells.insert(CellRef::new(r, c as u16), value(text));
            }
            c += cell.colspan;
        }
    }
    Ok(RawSheet { name, cells })
}

/// A cell's text as a workbook would hold it: a plain decimal number (`12`, `7730.28`)
/// as a number, anything else as text for `normalise` to read and record what it fixed
/// (`１２`, `十二`, `—`).
fn value(text: &str) -> RawValue {
    let plain = !text.is_empty()
        && text.len() <= 20
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        && text.chars().last().is_some_and(|c| c.is_ascii_digit());
    match text.parse::<f64>() {
        Ok(x) if plain && x.is_finite() => RawValue::Number(x),
        _ => RawValue::Text(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str, colspan: u32, rowspan: u32) -> DocCell {
        DocCell::new(text.to_string(), colspan, rowspan)
    }

    #[test]
    fn spans_are_resolved_to_the_grid_with_the_value_top_left() {
        // | A (2 rows) | B (2 cols)  |
        // |            | 1   | 2     |
        let rows = vec![
            vec![cell("A", 1, 2), cell("B", 2, 1)],
            vec![cell("1", 1, 1), cell("二", 1, 1)],
        ];
        let sheet = grid(&rows, "t".into()).unwrap();
        assert_eq!(sheet.text(CellRef::new(0, 0)), "A");
        assert_eq!(sheet.text(CellRef::new(0, 1)), "B");
        assert!(sheet.get(CellRef::new(0, 2)).is_none());
        assert!(sheet.get(CellRef::new(1, 0)).is_none());
        assert_eq!(sheet.get(CellRef::new(1, 1)), Some(&RawValue::Number(1.0)));
        assert_eq!(
            sheet.get(CellRef::new(1, 2)),
            Some(&RawValue::Text("二".into()))
        );
    }

    #[test]
    fn huge_spans_are_bounded() {
        let rows: Vec<Vec<DocCell>> = (0..2000).map(|_| vec![cell("x", 60000, 1)]).collect();
        assert!(matches!(
            grid(&rows, "t".into()),
            Err(ReadError::TooLarge { .. })
        ));
        // A row span past the end of the table is cut at its last row.
        let rows = vec![vec![cell("x", 1000, 1000)]];
        assert!(grid(&rows, "t".into()).is_ok());
    }
}
