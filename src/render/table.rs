//! A table of the report as the official layout draws it: one HTML grid shared by all
//! blocks of a table, group labels merged across header columns and down body rows
//! (vertical labels), narrower blocks stretched, unit notes for amount columns; and the
//! same blocks flattened for Markdown pipe tables. Missing totals are computed from their
//! parts first ([`with_totals`]).
//!
//! Only lays out: the templates draw the cells, and no value is changed other than a
//! missing total filled in.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::PartView;
use crate::format::{Block, Format, Key, Kind, Table};
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
    let widest = table
        .blocks
        .iter()
        .max_by_key(|b| b.label_width() + b.columns.len());
    let width = widest.map_or(0, |b| b.label_width() + b.columns.len());
    let mut cols = Vec::with_capacity(width);
    if let Some(b) = widest {
        let lw = b.label_width();
        cols.extend((0..lw).map(|i| if i + 1 == lw { "ll" } else { "lg" }));
    }
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
            .map(|b| block_view(format, table, b, width, values))
            .collect(),
        notes,
        dense: table.blocks.iter().any(|b| b.columns.len() > 10),
    }
}

/// How many consecutive items from `start` share the first `level + 1` groups.
fn run<'a>(groups: impl Iterator<Item = &'a Vec<String>>, start: &[String], level: usize) -> usize {
    let path = &start[..=level];
    groups
        .take_while(|g| g.len() > level && &g[..=level] == path)
        .count()
}

/// Whether item `i` starts a run at `level` (the previous item has another path).
fn starts_run(all: &[&Vec<String>], i: usize, level: usize) -> bool {
    let g = all[i];
    i == 0 || {
        let prev = all[i - 1];
        !(prev.len() > level && prev[..=level] == g[..=level])
    }
}

fn block_view(
    format: &Format,
    table: &Table,
    block: &Block,
    width: usize,
    values: &BTreeMap<Key, f64>,
) -> BlockView {
    let totals = format.totals();
    let depth = block.header_depth();
    let lw = block.label_width();
    let n = block.columns.len();
    // Grid columns this block lacks: the last column stretches over them.
    let pad = width.saturating_sub(lw + n);
    let stretch = |c: usize, span: usize| if c + span == n { span + pad } else { span };

    // Header: the corner over the label columns; groups merged across the columns under
    // the same path; each column's own label down to the last header row.
    let col_groups: Vec<&Vec<String>> = block.columns.iter().map(|c| &c.groups).collect();
    let mut header: Vec<Vec<CellView>> = (0..depth).map(|_| Vec::new()).collect();
    if lw > 0 {
        let corner = block.corner.clone().unwrap_or_default();
        header[0].push(CellView::new(corner, "corner").span(depth, lw));
    }
    for (level, cells) in header.iter_mut().enumerate() {
        for (c, col) in block.columns.iter().enumerate() {
            if level < col.groups.len() {
                if starts_run(&col_groups, c, level) {
                    let span = run(col_groups[c..].iter().copied(), &col.groups, level);
                    let cell = CellView::new(&col.groups[level], "group");
                    cells.push(cell.span(1, stretch(c, span)));
                }
            } else if level == col.groups.len() {
                let cell = CellView::new(&col.label, "col");
                cells.push(cell.span(depth - level, stretch(c, 1)));
            }
        }
    }
    if pad > 0 && n == 0 {
        header[0].push(CellView::new("", "pad").span(depth, pad));
    }

    // Rows: groups merged down over the rows under the same path (vertical labels), each
    // row's own label across to the data.
    let row_groups: Vec<&Vec<String>> = block.rows.iter().map(|r| &r.groups).collect();
    let mut rows = Vec::with_capacity(block.rows.len());
    let mut md_rows = Vec::with_capacity(block.rows.len());
    for (r, row) in block.rows.iter().enumerate() {
        let mut cells = Vec::new();
        for level in 0..lw {
            if level < row.groups.len() {
                if starts_run(&row_groups, r, level) {
                    let span = run(row_groups[r..].iter().copied(), &row.groups, level);
                    let mut cell = CellView::new(&row.groups[level], "vgroup").span(span, 1);
                    cell.vertical = true;
                    cells.push(cell);
                }
            } else if level == row.groups.len() {
                cells.push(CellView::new(&row.label, "label").span(1, lw - level));
            }
        }
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
        for (c, col) in block.columns.iter().enumerate() {
            let key = Key::cell(&table.code, &row.code, &col.code);
            let text = number_text(values.get(&key).copied().unwrap_or(0.0));
            let class = if totals.contains_key(&key) {
                "num total"
            } else {
                "num"
            };
            md.push(text.clone());
            cells.push(CellView::new(text, class).span(1, stretch(c, 1)));
        }
        if pad > 0 && n == 0 {
            cells.push(CellView::new("", "pad").span(1, pad));
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
