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
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, Serde, Value};

use serde::Serialize;

use super::{PartView, Templates};
use crate::format::{Block, Format, Key, Kind, Table};
use crate::grid::{BlockGrid, GridCell, TableGrid};
use crate::model::number_text;

/// A table as the official layout draws it. All blocks share one grid `width` columns
/// wide; in a narrower block the last column stretches over the rest (as the official
/// table 二 does for its single-column blocks).
#[derive(Serialize)]
struct TableView {
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

#[derive(Serialize, Clone)]
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

#[derive(Serialize, Clone)]
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

/// A table part for a unit's values: the table's [`Shape`] (from `shapes` when given, so
/// that it is laid out once per format) filled with the unit's numbers, and the table
/// already drawn as HTML when the shape has an HTML skeleton.
pub(super) fn table_part(
    format: &Format,
    table: &Table,
    values: &BTreeMap<Key, f64>,
    shapes: Option<&Templates>,
) -> PartView {
    let shape = match shapes {
        Some(t) => t.shape(format, table),
        None => Shape::of(format, table, None),
    };
    let numbers = slot_numbers(&shape.slots, values);
    let table_html = shape
        .html
        .get()
        .and_then(Option::as_ref)
        .and_then(|h| h.fill(&numbers));
    PartView {
        heading: table.heading(),
        paragraphs: Vec::new(),
        empty: false,
        table: Some(Value::from_object(TableObject {
            shape,
            numbers,
            blocks: OnceLock::new(),
        })),
        table_html,
    }
}

/// The numbers a skeleton's slots take, in slot order, as every report prints them (an
/// empty cell is 0): shared by the HTML and the Word tables.
pub(crate) fn slot_numbers(slots: &[Key], values: &BTreeMap<Key, f64>) -> Vec<String> {
    slots
        .iter()
        .map(|key| number_text(values.get(key).copied().unwrap_or(0.0)))
        .collect()
}

/// The marker drawn in place of number cell `slot` when a table's skeleton is drawn:
/// private-use characters that no label or escaping produces.
pub(crate) fn slot_marker(slot: usize) -> String {
    format!("{SLOT_OPEN}{slot}{SLOT_CLOSE}")
}

const SLOT_OPEN: char = '\u{E000}';
const SLOT_CLOSE: char = '\u{E001}';

/// A table's layout for one format, the same for every unit: the view with a slot marker
/// in each number cell, the key each slot shows, and (when drawn by the built-in macro)
/// the HTML around the numbers.
pub(super) struct Shape {
    /// The table's view; number cells hold [`slot_marker`]s.
    view: TableView,
    /// The value each slot shows, in slot order.
    slots: Vec<Key>,
    /// The HTML the table macro draws, cut at the numbers (set once drawn).
    html: OnceLock<Option<Skeleton>>,
}

impl Shape {
    /// The table's layout, and its HTML skeleton drawn by `draw` (given the table as a
    /// template value with markers for numbers) when given.
    pub(super) fn of(
        format: &Format,
        table: &Table,
        draw: Option<&dyn Fn(Value) -> Option<String>>,
    ) -> Arc<Shape> {
        let mut slots = Vec::new();
        let view = table_view(format, table, &mut slots);
        let shape = Arc::new(Shape {
            view,
            slots,
            html: OnceLock::new(),
        });
        let skeleton = draw.and_then(|draw| {
            let markers = (0..shape.slots.len()).map(slot_marker).collect();
            let object = Value::from_object(TableObject {
                shape: shape.clone(),
                numbers: markers,
                blocks: OnceLock::new(),
            });
            Skeleton::cut(&draw(object)?, shape.slots.len())
        });
        let _ = shape.html.set(skeleton);
        shape
    }

    /// The view with the unit's `numbers` in place of the slot markers.
    fn filled(&self, numbers: &[String]) -> Vec<BlockView> {
        let fill = |text: &mut String| {
            if let Some(slot) = marker_slot(text) {
                if let Some(n) = numbers.get(slot) {
                    text.clone_from(n);
                }
            }
        };
        let mut blocks = self.view.blocks.clone();
        for b in &mut blocks {
            for c in b.rows.iter_mut().flatten() {
                fill(&mut c.text);
            }
            for t in b.md_rows.iter_mut().flatten() {
                fill(t);
            }
        }
        blocks
    }
}

/// The slot of a text that is exactly one [`slot_marker`].
fn marker_slot(text: &str) -> Option<usize> {
    text.strip_prefix(SLOT_OPEN)?
        .strip_suffix(SLOT_CLOSE)?
        .parse()
        .ok()
}

/// A table's HTML (or Word's XML) cut at its numbers: `pieces[i]`, then the number of
/// slot `order[i]`, …, then the last piece.
#[derive(Debug)]
pub(crate) struct Skeleton {
    pieces: Vec<String>,
    order: Vec<usize>,
}

impl Skeleton {
    /// `html` cut at the slot markers; none when a marker is broken, names no slot of
    /// the `slots`, or a slot is drawn other than once (a macro that does not simply
    /// print each number).
    pub(crate) fn cut(html: &str, slots: usize) -> Option<Skeleton> {
        let mut pieces = Vec::new();
        let mut order = Vec::new();
        let mut rest = html;
        while let Some(at) = rest.find(SLOT_OPEN) {
            pieces.push(rest[..at].to_string());
            let after = &rest[at + SLOT_OPEN.len_utf8()..];
            let end = after.find(SLOT_CLOSE)?;
            let slot: usize = after[..end].parse().ok()?;
            order.push(slot);
            rest = &after[end + SLOT_CLOSE.len_utf8()..];
        }
        pieces.push(rest.to_string());
        let mut seen = vec![false; slots];
        for &s in &order {
            if s >= slots || std::mem::replace(&mut seen[s], true) {
                return None;
            }
        }
        let clean = !pieces.iter().any(|p| p.contains(SLOT_CLOSE));
        (clean && order.len() == slots).then_some(Skeleton { pieces, order })
    }

    /// The table's HTML with `numbers` in their slots, as a safe string; see
    /// [`Skeleton::fill_text`].
    fn fill(&self, numbers: &[String]) -> Option<Value> {
        self.fill_text(numbers).map(Value::from_safe_string)
    }

    /// The table's text with `numbers` in their slots. None when a number would need
    /// escaping in HTML or XML (number texts never do; then the table is drawn whole).
    pub(crate) fn fill_text(&self, numbers: &[String]) -> Option<String> {
        let needs_escaping = |n: &String| n.contains(['&', '<', '>', '"', '\'']);
        debug_assert!(!numbers.iter().any(needs_escaping), "{numbers:?}");
        if numbers.iter().any(needs_escaping) {
            return None;
        }
        let len = self.pieces.iter().map(String::len).sum::<usize>()
            + numbers.iter().map(String::len).sum::<usize>();
        let mut html = String::with_capacity(len);
        for (piece, &slot) in self.pieces.iter().zip(&self.order) {
            html.push_str(piece);
            html.push_str(numbers.get(slot)?);
        }
        html.push_str(self.pieces.last()?);
        Some(html)
    }
}

/// A table as templates see it (`part.table`): the layout shared by every unit of the
/// format and the unit's numbers, turned into template values only when a template
/// looks at the rows (the built-in HTML uses the skeleton instead).
#[derive(Debug)]
struct TableObject {
    shape: Arc<Shape>,
    numbers: Vec<String>,
    blocks: OnceLock<Value>,
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shape")
            .field("code", &self.view.code)
            .finish_non_exhaustive()
    }
}

impl TableObject {
    fn blocks(&self) -> Value {
        self.blocks
            .get_or_init(|| Value::from(Serde(self.shape.filled(&self.numbers))))
            .clone()
    }

    /// The whole table as a plain template value (to print or list it).
    fn whole(&self) -> Value {
        let v = &self.shape.view;
        Value::from(Serde(TableView {
            code: v.code.clone(),
            heading: v.heading.clone(),
            width: v.width,
            cols: v.cols.clone(),
            blocks: self.shape.filled(&self.numbers),
            notes: v.notes.clone(),
            dense: v.dense,
        }))
    }
}

impl Object for TableObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let v = &self.shape.view;
        Some(match key.as_str()? {
            "code" => Value::from(v.code.as_str()),
            "heading" => Value::from(v.heading.as_str()),
            "width" => Value::from(v.width),
            "cols" => Value::from(Serde(&v.cols)),
            "blocks" => self.blocks(),
            "notes" => Value::from(Serde(&v.notes)),
            "dense" => Value::from(v.dense),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.whole().try_iter() {
            Ok(keys) => Enumerator::Values(keys.collect()),
            Err(_) => Enumerator::Empty,
        }
    }

    fn is_true(self: &Arc<Self>) -> bool {
        true
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.whole(), f)
    }
}

fn table_view(format: &Format, table: &Table, slots: &mut Vec<Key>) -> TableView {
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
            .map(|(b, g)| block_view(format, table, b, g, slots))
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
    slots: &mut Vec<Key>,
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
            let text = slot_marker(slots.len());
            let class = if totals.contains_key(&key) {
                "num total"
            } else {
                "num"
            };
            slots.push(key);
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
