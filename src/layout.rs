//! Where everything goes on a table sheet: a pure function of the format, shared by the
//! template writer and by anything that must address a template's cells (filled and
//! correction workbooks). Rows and columns are zero-based; column 0 is the hidden key
//! column.

use std::collections::BTreeMap;

use crate::cell::CellRef;
use crate::format::{Block, Check, Format, Key, Table};

/// The hidden column that carries the keys on every sheet of ours.
pub const KEY_COL: u16 = 0;
/// The first visible column.
pub const FIRST_COL: u16 = 1;

/// One block placed on its sheet.
#[derive(Debug, Clone)]
pub struct BlockPlan {
    pub index: usize,
    /// The row holding the block's title (table 二's 第二十条第（一）项), if any.
    pub title_row: Option<u32>,
    /// The hidden row holding the column codes.
    pub key_row: u32,
    /// The first header row; the header has `block.header_depth()` rows.
    pub header_row: u32,
    /// The first data row; one row per `block.rows`.
    pub first_data_row: u32,
    /// The first data column; label columns come before it.
    pub first_data_col: u16,
    /// How many sheet columns each data column spans (see [`Placement::stretch`]).
    pub stretch: u16,
}

/// A comparison the template checks live, on its own row under the table.
#[derive(Debug, Clone)]
pub struct LiveCheckPlan {
    pub row: u32,
    pub caption: String,
    /// The checks of one rule, one per column of the block, in column order.
    pub checks: Vec<(u16, Check)>,
}

/// A table sheet, planned.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub title_row: u32,
    pub note_row: u32,
    pub blocks: Vec<BlockPlan>,
    pub live_checks: Vec<LiveCheckPlan>,
    /// Number of columns used, the key column included.
    pub width: u16,
    /// The last row used.
    pub last_row: u32,
    /// Every cell of the table.
    pub cells: BTreeMap<Key, CellRef>,
}

/// Where a table goes on its sheet. The default is a template's: at the top, with as
/// many label columns as the table needs. A sheet holding several tables one after another
/// (the roll-up) gives each a first row and the same label width, so that their data
/// columns line up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement {
    /// The row of the table's title; the note is under it, the blocks start two rows lower.
    pub first_row: u32,
    /// At least this many label columns (more if the table needs them).
    pub label_width: u16,
    /// How many sheet columns each data column spans (0 or 1: one). A sheet holding
    /// several tables stretches the narrow ones ([`stretch_to`]) so that every table
    /// is about as wide as the widest and fills its printed page.
    pub stretch: u16,
}

/// How many sheet columns each data column of `table` spans for it to be as wide as
/// `data_cols` data columns, or a little less: at least one.
pub fn stretch_to(table: &Table, data_cols: u16) -> u16 {
    let own = table
        .blocks
        .iter()
        .map(|b| b.columns.len())
        .max()
        .unwrap_or(1)
        .max(1) as u16;
    (data_cols / own).max(1)
}

/// The most data columns of any table of a format.
pub fn max_data_cols(format: &Format) -> u16 {
    format
        .tables
        .iter()
        .flat_map(|t| &t.blocks)
        .map(|b| b.columns.len())
        .max()
        .unwrap_or(0) as u16
}

/// How many label columns a table needs (the widest of its blocks).
pub fn label_width(table: &Table) -> u16 {
    table
        .blocks
        .iter()
        .map(Block::label_width)
        .max()
        .unwrap_or(0) as u16
}

/// Places a table on its sheet: title, a note, then each block (title, hidden key row,
/// header, data rows), then the live checks, with a blank row between blocks.
pub fn plan_table(format: &Format, table: &Table) -> TablePlan {
    plan_table_at(format, table, Placement::default())
}

/// [`plan_table`] at a placement: the same plan shifted down by `at.first_row` rows, with
/// the label columns widened to `at.label_width`.
pub fn plan_table_at(format: &Format, table: &Table, at: Placement) -> TablePlan {
    let label_width = label_width(table).max(at.label_width);
    let stretch = at.stretch.max(1);
    let max_cols = table
        .blocks
        .iter()
        .map(|b| b.columns.len())
        .max()
        .unwrap_or(0) as u16;
    let mut row = at.first_row + 3;
    let mut blocks = Vec::new();
    let mut cells = BTreeMap::new();
    for (index, block) in table.blocks.iter().enumerate() {
        let title_row = block.title.as_ref().map(|_| {
            row += 1;
            row - 1
        });
        let key_row = row;
        let header_row = key_row + 1;
        let first_data_row = header_row + block.header_depth() as u32;
        let first_data_col = FIRST_COL + label_width;
        for (r, brow) in block.rows.iter().enumerate() {
            for (c, col) in block.columns.iter().enumerate() {
                let sheet_col = first_data_col + c as u16 * stretch;
                let at = CellRef::new(first_data_row + r as u32, sheet_col);
                cells.insert(Key::cell(&table.code, &brow.code, &col.code), at);
            }
        }
        row = first_data_row + block.rows.len() as u32 + 1;
        blocks.push(BlockPlan {
            index,
            title_row,
            key_row,
            header_row,
            first_data_row,
            first_data_col,
            stretch,
        });
    }
    let mut live_checks = Vec::new();
    for (i, rule) in format.rules.iter().enumerate() {
        let Some(caption) = &rule.live_check else {
            continue;
        };
        let checks: Vec<(u16, Check)> = format
            .checks
            .iter()
            .filter(|c| c.rule == i && !c.needs_previous())
            .filter_map(|c| {
                let col = cells.get(&c.lhs[0].key)?.col;
                let in_table = c
                    .lhs
                    .iter()
                    .chain(&c.rhs)
                    .all(|t| cells.contains_key(&t.key));
                in_table.then(|| (col, c.clone()))
            })
            .collect();
        if !checks.is_empty() {
            live_checks.push(LiveCheckPlan {
                row: row - 1,
                caption: caption.clone(),
                checks,
            });
            row += 1;
        }
    }
    TablePlan {
        title_row: at.first_row,
        note_row: at.first_row + 1,
        blocks,
        live_checks,
        width: FIRST_COL + label_width + max_cols * stretch,
        last_row: row.saturating_sub(1),
        cells,
    }
}

/// Row of the first cover field; one row per field after it.
pub const COVER_FIRST_ROW: u32 = 3;
/// Column of the cover values (labels are one to the left).
pub const COVER_VALUE_COL: u16 = FIRST_COL + 1;

/// The text sheet: for each section a heading row then an input row; the numeric fields
/// of a section follow its input row, one per row.
#[derive(Debug, Clone)]
pub struct TextPlan {
    /// (section code, heading row, input row)
    pub sections: Vec<(String, u32, u32)>,
    /// (field key, row); the value is in [`TEXT_FIELD_COL`].
    pub fields: Vec<(Key, u32)>,
    pub last_row: u32,
}

/// The name of the text sheet in templates (the reader never relies on it).
pub const TEXT_SHEET: &str = "文字部分";

/// Column of a numeric field's value on the text sheet (its label is in `FIRST_COL`).
pub const TEXT_FIELD_COL: u16 = FIRST_COL + 1;
/// Text input cells are merged across these columns.
pub const TEXT_LAST_COL: u16 = FIRST_COL + 7;

pub fn plan_text(format: &Format) -> TextPlan {
    let mut row = 2;
    let mut sections = Vec::new();
    let mut fields = Vec::new();
    for s in &format.sections {
        sections.push((s.code.clone(), row, row + 1));
        row += 2;
        for f in format.fields.iter().filter(|f| f.section == s.code) {
            fields.push((Key::field(&f.code), row));
            row += 1;
        }
        row += 1;
    }
    TextPlan {
        sections,
        fields,
        last_row: row,
    }
}
