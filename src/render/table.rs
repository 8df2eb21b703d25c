//! A table of the report as the official layout draws it: the table's grid
//! ([`crate::grid`]: one grid shared by all blocks, group labels merged across header
//! columns and down body rows, narrower blocks stretched) as HTML cells with rowspan and
//! colspan, unit notes for amount columns; and the same blocks flattened for Markdown
//! pipe tables. Missing totals are computed from their parts first ([`with_totals`]).
//!
//! Only lays out: the templates draw the cells, and no value is changed other than a
//! missing total filled in.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::PartView;
use crate::format::{Block, Format, Key, Kind, Table};
use crate::grid::{BlockGrid, GridCell, TableGrid};
use crate::model::number_text;

/// A table as the official layout draws it. All blocks share one grid `width` columns
/// wide; in a narrower block the last column stretches over the rest (as the official
/// table 二 does for its single-column blocks).
#[derive(Serialize)]
pub(super) struct TableView {
    code: String,
    heading: String,
    width: usize,
    /// One class per grid column: `lg` (vertical group labels), `ll` (row labels), `d`.
    cols: Vec<&'static str>,
    blocks: Vec<BlockView>,
    /// Units of amount columns whose official label does not state them.
    notes: Vec<String>,
    /// Many narrow data columns (table 四): header labels wrap two characters a line,
    /// as in the official table.
    dense: bool,
}

#[derive(Serialize)]
struct BlockView {
    title: Option<String>,
    /// Header rows of merged cells (HTML).
    header: Vec<Vec<CellView>>,
    /// Body rows: label cells (where a row starts them) and the data cells.
    rows: Vec<Vec<CellView>>,
    /// The same block flattened for a pipe table: group paths joined with `/`.
    md_header: Vec<String>,
    /// `---` for label columns, `---:` for numbers.
    md_align: Vec<&'static str>,
    md_rows: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct CellView {
    text: String,
    colspan: usize,
    rowspan: usize,
    /// `corner`, `group`, `col`, `vgroup`, `label`, `num`, `num total`, `pad`.
    class: &'static str,
    /// Set in vertical writing (the row group labels of table 三).
    vertical: bool,
}

impl CellView {
    fn new(text: impl Into<String>, class: &'static str) -> CellView {
        CellView {
            text: text.into(),
            colspan: 1,
            rowspan: 1,
            class,
            vertical: false,
        }
    }

    fn span(mut self, rows: usize, cols: usize) -> CellView {
        self.rowspan = rows;
        self.colspan = cols;
        self
    }
}

/// The values with every total that is missing computed from its parts (a missing
/// value otherwise renders as 0).
pub(super) fn with_totals<'a>(
    format: &Format,
    values: &'a BTreeMap<Key, f64>,
) -> Cow<'a, BTreeMap<Key, f64>> {
    let missing_total = format.totals().keys().any(|k| !values.contains_key(k));
    if !missing_total {
        return Cow::Borrowed(values);
    }
    let mut filled = values.clone();
    // Parts nobody reported count as 0, so that every total can be computed.
    for parts in format.totals().values() {
        for p in parts {
            if !format.totals().contains_key(p) {
                filled.entry(p.clone()).or_insert(0.0);
            }
        }
    }
    format.fill_totals(&mut filled, None);
    Cow::Owned(filled)
}

pub(super) fn table_part(format: &Format, table: &Table, values: &BTreeMap<Key, f64>) -> PartView {
    PartView {
        heading: table.heading(),
        paragraphs: Vec::new(),
        empty: false,
        table: Some(table_view(format, table, values)),
    }
}

fn table_view(format: &Format, table: &Table, values: &BTreeMap<Key, f64>) -> TableView {
    let grid = TableGrid::of(table);
    let (width, lw) = (grid.width, grid.label_cols);
    let mut cols = Vec::with_capacity(width);
    cols.extend((0..lw).map(|i| if i + 1 == lw { "ll" } else { "lg" }));
    cols.resize(width, "d");
    let mut notes = Vec::new();
    for col in table.blocks.iter().flat_map(|b| &b.columns) {
        if let (Kind::Amount, Some(unit)) = (col.kind, &col.unit) {
            let stated = col.label.contains("单位")
                || col.label.contains(&format!("（{unit}）"))
                || col.label.contains(&format!("({unit})"));
            let note = format!("注：“{}”的单位为{unit}。", col.label);
            if !stated && !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    TableView {
        code: table.code.clone(),
        heading: table.heading(),
        width,
        cols,
        blocks: table
            .blocks
            .iter()
            .zip(grid.blocks)
            .map(|(b, g)| block_view(format, table, b, g, values))
            .collect(),
        notes,
        dense: table.blocks.iter().any(|b| b.columns.len() > 10),
    }
}

/// A grid cell as HTML draws it.
fn cell_view(cell: GridCell) -> CellView {
    let class = cell.role.class();
    CellView {
        text: cell.text,
        colspan: cell.cols,
        rowspan: cell.rows,
        class,
        vertical: cell.vertical,
    }
}

/// One block: its grid ([`crate::grid`], stretched to the table's width) as header rows
/// and body rows of cells, each cell in the row it starts on; and the block flattened for
/// a pipe table.
fn block_view(
    format: &Format,
    table: &Table,
    block: &Block,
    grid: BlockGrid,
    values: &BTreeMap<Key, f64>,
) -> BlockView {
    let totals = format.totals();
    let mut header: Vec<Vec<CellView>> = (0..grid.header_rows).map(|_| Vec::new()).collect();
    for cell in grid.header {
        header[cell.row].push(cell_view(cell));
    }
    if grid.pad > 0 {
        header[0].push(CellView::new("", "pad").span(grid.header_rows, grid.pad));
    }

    let lw = grid.label_cols;
    let mut rows = Vec::with_capacity(block.rows.len());
    let mut md_rows = Vec::with_capacity(block.rows.len());
    for (row, row_grid) in block.rows.iter().zip(grid.rows) {
        let mut cells: Vec<CellView> = row_grid.labels.into_iter().map(cell_view).collect();
        let mut md = Vec::with_capacity(block.columns.len() + 1);
        if lw > 0 {
            let path: Vec<&str> = row
                .groups
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(row.label.as_str()))
                .collect();
            md.push(path.join("/"));
        }
        for (col, span) in block.columns.iter().zip(&grid.columns) {
            let key = Key::cell(&table.code, &row.code, &col.code);
            let text = number_text(values.get(&key).copied().unwrap_or(0.0));
            let class = if totals.contains_key(&key) {
                "num total"
            } else {
                "num"
            };
            md.push(text.clone());
            cells.push(CellView::new(text, class).span(1, span.cols));
        }
        if grid.pad > 0 {
            cells.push(CellView::new("", "pad").span(1, grid.pad));
        }
        rows.push(cells);
        md_rows.push(md);
    }

    let mut md_header = Vec::new();
    let mut md_align = Vec::new();
    if lw > 0 {
        md_header.push(block.corner.clone().unwrap_or_default());
        md_align.push("---");
    }
    for col in &block.columns {
        let path: Vec<&str> = col
            .groups
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(col.label.as_str()))
            .collect();
        md_header.push(path.join("/"));
        md_align.push("---:");
    }
    BlockView {
        title: block.title.clone(),
        header,
        rows,
        md_header,
        md_align,
        md_rows,
    }
}
