//! A table sheet and the drawing of one table wherever a plan puts it (templates and the
//! roll-up): the grid's headers, input and total cells, validations, live checks.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_xlsxwriter::{
    Color, ConditionalFormatFormula, DataValidation, DataValidationRule, Format as Style, Formula,
    Note, Worksheet, XlsxError,
};

use super::sheets::*;
use super::{CellNote, Prefill, UnitInfo, ERROR_FILL, WARNING_FILL};
use crate::cell::CellRef;
use crate::format::{Format, Key, Kind, Table};
use crate::grid::{BlockGrid, Role};
use crate::identity::Marker;
use crate::layout::*;
use crate::model::Level;

pub(super) fn table_sheet(
    ws: &mut Worksheet,
    format: &Format,
    table: &Table,
    prepared: &PreparedTable,
    unit: &UnitInfo,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    let plan = &prepared.plan;
    let last_col = plan.width - 1;
    ws.set_name(&table.sheet)?;
    ws.write_string(0, KEY_COL, Marker::Table(table.code.clone()).text())?;
    let mut note = match unit.name.as_str() {
        "" => "请在浅黄色单元格填写；灰色单元格自动计算。".to_string(),
        name => format!("填报单位：{name}　　请在浅黄色单元格填写；灰色单元格自动计算。"),
    };
    note.push_str(&prepared.unit_note);
    let label_width = prepared.label_width;
    set_column_widths(ws, label_width, last_col, prepared.data_width)?;
    draw_table(
        ws,
        format,
        table,
        plan,
        &prepared.draw,
        &note,
        Cells::Template(prefill),
        prepared.data_width,
        s,
    )?;
    if table.blocks.len() == 1 {
        ws.set_freeze_panes(plan.blocks[0].first_data_row, FIRST_COL + label_width)?;
    }
    finish(ws, plan.last_row, last_col)?;
    // A table prints on one page, as the official table does.
    ws.set_print_fit_to_pages(1, 1);
    Ok(())
}

/// An official amount label that does not state its unit gets it in the table's note.
pub(super) fn unit_note(table: &Table) -> String {
    let mut note = String::new();
    for col in table.blocks.iter().flat_map(|b| &b.columns) {
        if let (Some(unit), false) = (&col.unit, col.label.contains("单位")) {
            note.push_str(&format!("{}单位：{unit}。", col.label));
        }
    }
    note
}

/// Data columns are narrow when some table has many of them (表四's fifteen).
pub(super) fn data_width(tables: &[Table]) -> f64 {
    if tables
        .iter()
        .flat_map(|t| &t.blocks)
        .any(|b| b.columns.len() > 7)
    {
        9.0
    } else {
        14.0
    }
}

/// Label columns, then data columns up to `last_col`.
pub(super) fn set_column_widths(
    ws: &mut Worksheet,
    label_width: u16,
    last_col: u16,
    data_width: f64,
) -> Result<(), XlsxError> {
    set_label_widths(ws, label_width)?;
    let first_data_col = FIRST_COL + label_width;
    ws.set_column_range_width(first_data_col, last_col.max(first_data_col), data_width)?;
    Ok(())
}

/// The width of label and data columns as [`set_column_widths`] sets them, in characters.
pub(super) fn columns_width(label_width: u16, last_col: u16, data_width: f64) -> f64 {
    let labels: f64 = (0..label_width)
        .map(|i| label_col_width(i, label_width))
        .sum();
    let data_cols = (last_col + 1).saturating_sub(FIRST_COL + label_width);
    labels + f64::from(data_cols) * data_width
}

/// About how many lines `text` wraps to in a column `width` characters wide (a Chinese
/// character is two wide).
pub(super) fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width - 1.0).max(1.0);
    text.split('\n')
        .map(|line| {
            let w: f64 = line
                .chars()
                .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
                .sum();
            ((w / per_line).ceil() as usize).max(1)
        })
        .sum()
}

/// The height in points of a row whose 11-point text wraps in a cell `width` characters
/// wide: not every program grows a row to its wrapped text (LibreOffice does not).
pub(super) fn text_height(text: &str, width: f64) -> f64 {
    wrapped_lines(text, width) as f64 * LINE_HEIGHT + 6.0
}

/// What goes into a table's data cells.
#[derive(Clone, Copy)]
pub(super) enum Cells<'a> {
    /// A template: hidden row and column keys, input cells (prefilled, validated, marked
    /// with notes where asked), totals as formulas, live checks.
    Template(&'a Prefill),
    /// A roll-up: plain numbers, no keys (a key left out is blank); live checks show
    /// whether the numbers agree.
    Plain(&'a BTreeMap<Key, f64>),
}

/// Everything about drawing one table at one place that does not depend on the values:
/// keys, addresses, formulas, validations, live checks. Made once per format for
/// templates ([`Prepared`]) and reused for every unit's workbook.
pub(super) struct TableDraw {
    /// The table's title (`一、…`).
    heading: String,
    /// Each block's header and row labels, with the plan's label columns; indexed like
    /// the plan's blocks.
    grids: Vec<BlockGrid>,
    /// The data rows, block by block, in the order they are drawn.
    rows: Vec<RowDraw>,
    /// The data validations of the table's input cells, one per (kind, unit).
    validations: Vec<DataValidation>,
    live_checks: Vec<LiveDraw>,
    /// The values of a template nobody has filled in: inputs 0, totals from them.
    zeros: BTreeMap<Key, f64>,
}

struct RowDraw {
    /// Index into the plan's blocks.
    block: usize,
    row: u32,
    /// What the hidden key column says (`nianbao:row:…`).
    mark: String,
    cells: Vec<CellDraw>,
}

struct CellDraw {
    key: Key,
    at: CellRef,
    kind: Kind,
    /// Index into [`TableDraw::validations`]: equal for cells of the same kind and unit.
    input: usize,
    /// `Some` for a total: the keys it adds up and its formula.
    total: Option<TotalDraw>,
}

struct TotalDraw {
    /// `None` when a part is not on the sheet (then no formula is written).
    formula: Option<Formula>,
    /// The formula with the result of a template nobody has filled in.
    zero: Option<Formula>,
}

struct LiveDraw {
    row: u32,
    /// `校验：…`
    caption: String,
    checks: Vec<CheckDraw>,
    /// The 不通过 and 通过 highlights over the checks' columns (first, last).
    highlight: Option<(u16, u16, ConditionalFormatFormula, ConditionalFormatFormula)>,
}

struct CheckDraw {
    col: u16,
    lhs: Vec<Key>,
    rhs: Vec<Key>,
    op: crate::format::Op,
    /// The formula with its result 通过, then with 不通过.
    pass: Formula,
    fail: Formula,
}

/// A table's values as a template shows them: every input cell of `plan` at 0 unless
/// `given` has it, and the totals computed from those (a given total is ignored: the
/// workbook's formula decides it).
fn table_values(
    format: &Format,
    plan: &TablePlan,
    given: &BTreeMap<Key, f64>,
) -> BTreeMap<Key, f64> {
    let totals = format.totals();
    let mut values: BTreeMap<Key, f64> = plan
        .cells
        .keys()
        .filter(|k| !totals.contains_key(*k))
        .map(|k| (k.clone(), 0.0))
        .collect();
    values.extend(
        given
            .iter()
            .filter(|(k, _)| !totals.contains_key(*k))
            .map(|(k, v)| (k.clone(), *v)),
    );
    format.fill_totals(&mut values, None);
    values
}

impl TableDraw {
    pub(super) fn new(
        format: &Format,
        table: &Table,
        plan: &TablePlan,
    ) -> Result<TableDraw, XlsxError> {
        let totals = format.totals();
        let mut validations = Vec::new();
        let mut inputs: Vec<(Kind, Option<&str>)> = Vec::new();
        let zeros = table_values(format, plan, &BTreeMap::new());
        let mut rows = Vec::new();
        for bp in &plan.blocks {
            let block = &table.blocks[bp.index];
            for (r, row) in block.rows.iter().enumerate() {
                let at = bp.first_data_row + r as u32;
                let cells = block
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let key = Key::cell(&table.code, &row.code, &col.code);
                        let input = (col.kind, col.unit.as_deref());
                        let input = match inputs.iter().position(|i| *i == input) {
                            Some(i) => i,
                            None => {
                                inputs.push(input);
                                validations.push(validation(input.0, input.1));
                                inputs.len() - 1
                            }
                        };
                        let total = totals.get(&key).map(|parts| {
                            let formula = sum_formula(parts, &plan.cells)
                                .map(|f| Formula::new(format!("={f}")));
                            // Like `values[&key]` for a template: a total must be known.
                            let zero = formula.as_ref().and_then(|f| {
                                let v = zeros.get(&key)?;
                                Some(f.clone().set_result(crate::model::number_text(*v)))
                            });
                            TotalDraw { formula, zero }
                        });
                        CellDraw {
                            key,
                            at: CellRef::new(at, bp.first_data_col + c as u16 * bp.stretch),
                            kind: col.kind,
                            input,
                            total,
                        }
                    })
                    .collect();
                rows.push(RowDraw {
                    block: bp.index,
                    row: at,
                    mark: Marker::Row(row.code.clone()).text(),
                    cells,
                });
            }
        }
        let live_checks = plan
            .live_checks
            .iter()
            .map(|live| LiveDraw::new(live, &plan.cells))
            .collect();
        // The plan's label columns: a roll-up sheet gives every table the same number.
        let grids = plan
            .blocks
            .iter()
            .map(|bp| {
                let label_cols = bp.first_data_col - FIRST_COL;
                BlockGrid::with_label_cols(&table.blocks[bp.index], label_cols.into())
            })
            .collect();
        Ok(TableDraw {
            heading: table.heading(),
            grids,
            rows,
            validations: validations.into_iter().collect::<Result<_, _>>()?,
            live_checks,
            zeros,
        })
    }
}

impl LiveDraw {
    fn new(live: &LiveCheckPlan, cells: &BTreeMap<Key, CellRef>) -> LiveDraw {
        let mut checks = Vec::new();
        for (col, check) in &live.checks {
            let keys = |terms: &[crate::format::Term]| {
                terms.iter().map(|t| t.key.clone()).collect::<Vec<_>>()
            };
            let (lhs, rhs) = (keys(&check.lhs), keys(&check.rhs));
            let (Some(l), Some(r)) = (sum_formula(&lhs, cells), sum_formula(&rhs, cells)) else {
                continue;
            };
            let op = match check.op {
                crate::format::Op::Eq => "=",
                crate::format::Op::Le => "<=",
            };
            let formula = Formula::new(format!("=IF({l}{op}{r},\"通过\",\"不通过\")"));
            checks.push(CheckDraw {
                col: *col,
                lhs,
                rhs,
                op: check.op,
                pass: formula.clone().set_result("通过"),
                fail: formula.set_result("不通过"),
            });
        }
        let first = checks.iter().map(|c| c.col).min();
        let last = checks.iter().map(|c| c.col).max();
        let highlight = first.zip(last).map(|(first, last)| {
            let top_left = CellRef::new(live.row, first);
            let bad = ConditionalFormatFormula::new()
                .set_rule(format!("={top_left}=\"不通过\"").as_str())
                .set_format(
                    Style::new()
                        .set_font_color(Color::RGB(0x9C0006))
                        .set_background_color(Color::RGB(0xFFC7CE)),
                );
            let good = ConditionalFormatFormula::new()
                .set_rule(format!("={top_left}=\"通过\"").as_str())
                .set_format(
                    Style::new()
                        .set_font_color(Color::RGB(0x006100))
                        .set_background_color(Color::RGB(0xC6EFCE)),
                );
            (first, last, bad, good)
        });
        LiveDraw {
            row: live.row,
            caption: format!("校验：{}", live.caption),
            checks,
            highlight,
        }
    }
}

/// Draws one table where `plan` puts it: title, note, each block's title, header, row
/// labels and data cells, then the live checks. Column widths and the sheet's own setup
/// are the caller's. `draw` is [`TableDraw::new`] of the same table and plan.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_table(
    ws: &mut Worksheet,
    format: &Format,
    table: &Table,
    plan: &TablePlan,
    draw: &TableDraw,
    note: &str,
    cells: Cells<'_>,
    data_width: f64,
    s: &Styles,
) -> Result<(), XlsxError> {
    let last_col = plan.width - 1;
    ws.merge_range(
        plan.title_row,
        FIRST_COL,
        plan.title_row,
        last_col,
        &draw.heading,
        &s.title,
    )?;
    ws.merge_range(
        plan.note_row,
        FIRST_COL,
        plan.note_row,
        last_col,
        note,
        &s.note,
    )?;
    ws.set_row_height(plan.title_row, 28)?;
    let label_width = plan
        .blocks
        .first()
        .map_or(0, |b| b.first_data_col - FIRST_COL);

    // Totals get the result a non-recalculating reader sees: computed from the inputs
    // (0 where a template leaves them); the live checks compare the same numbers.
    let values: Cow<'_, BTreeMap<Key, f64>> = match cells {
        Cells::Template(prefill) if prefill.values.is_empty() => Cow::Borrowed(&draw.zeros),
        Cells::Template(prefill) => Cow::Owned(table_values(format, plan, &prefill.values)),
        Cells::Plain(values) => Cow::Borrowed(values),
    };
    let zeros = matches!(values, Cow::Borrowed(v) if std::ptr::eq(v, &draw.zeros));
    let keys = matches!(cells, Cells::Template(_));
    let mut rows = draw.rows.iter().peekable();
    for (bp, grid) in plan.blocks.iter().zip(&draw.grids) {
        let block = &table.blocks[bp.index];
        if let (Some(row), Some(title)) = (bp.title_row, &block.title) {
            // As wide as the block under it (表二's 第二十条 bands), not the sheet.
            let block_last =
                bp.first_data_col + (block.columns.len() as u16).max(1) * bp.stretch - 1;
            merge(ws, row, FIRST_COL, row, block_last, title, &s.header)?;
        }
        if keys {
            ws.write_string(bp.key_row, KEY_COL, Marker::Cols.text())?;
            for (c, col) in block.columns.iter().enumerate() {
                let at = bp.first_data_col + c as u16 * bp.stretch;
                ws.write_string(bp.key_row, at, &col.code)?;
            }
        }
        ws.set_row_hidden(bp.key_row)?;
        grid_cells(ws, grid, bp, s)?;
        let label_cols = grid.label_cols as u16;
        let width = |c: usize| match u16::try_from(c) {
            Ok(c) if c < label_cols => label_col_width(c, label_cols),
            _ => data_width * f64::from(bp.stretch),
        };
        for (r, height) in grid_row_heights(grid, width).into_iter().enumerate() {
            ws.set_row_height(bp.header_row + r as u32, height)?;
        }
        while let Some(row) = rows.next_if(|r| r.block == bp.index) {
            let at = row.row;
            if keys {
                ws.write_string(at, KEY_COL, &row.mark)?;
            }
            // Input cells of one kind side by side share one validation (less XML to
            // write and compress than one per cell).
            let mut run: Option<(u16, u16, usize)> = None;
            for cell in &row.cells {
                match (cells, &cell.total) {
                    (Cells::Template(prefill), Some(total)) => {
                        let mark = prefill.notes.get(&cell.key);
                        let formula = if zeros {
                            total.zero.clone()
                        } else {
                            let result = values[&cell.key];
                            total
                                .formula
                                .clone()
                                .map(|f| f.set_result(crate::model::number_text(result)))
                        };
                        if let Some(formula) = formula {
                            total_cell(ws, cell.at, formula, mark, s)?;
                        }
                        validate_run(ws, at, run.take(), draw)?;
                    }
                    (Cells::Template(prefill), None) => {
                        input_cell(ws, cell.at, &cell.key, cell.kind, prefill, s)?;
                        run = match run {
                            Some((first, _, input)) if input == cell.input => {
                                Some((first, cell.at.col, input))
                            }
                            other => {
                                validate_run(ws, at, other, draw)?;
                                Some((cell.at.col, cell.at.col, cell.input))
                            }
                        };
                    }
                    (Cells::Plain(_), _) => {
                        plain_cell(ws, cell.at, bp.stretch, &cell.key, cell.kind, &values, s)?
                    }
                }
            }
            validate_run(ws, at, run, draw)?;
        }
    }
    let stretch = plan.blocks.first().map_or(1, |b| b.stretch);
    for live in &draw.live_checks {
        live_check(ws, live, label_width, stretch, &values, s)?;
    }
    Ok(())
}

fn set_label_widths(ws: &mut Worksheet, label_width: u16) -> Result<(), XlsxError> {
    // Outer label columns hold vertical group labels: narrow, so the text wraps one
    // character per line as in the official table. The innermost one holds row labels.
    for i in 0..label_width {
        ws.set_column_width(FIRST_COL + i, label_col_width(i, label_width))?;
    }
    Ok(())
}

/// The width of the `i`th of `label_width` label columns.
fn label_col_width(i: u16, label_width: u16) -> f64 {
    if i + 1 == label_width {
        44.0
    } else {
        4.0
    }
}

/// The block's header and row labels as its grid has them ([`crate::grid`]), placed at
/// the block's header row and first label column. Row labels go label column by label
/// column, the order the merged ranges have always had in the file.
fn grid_cells(
    ws: &mut Worksheet,
    grid: &BlockGrid,
    bp: &BlockPlan,
    s: &Styles,
) -> Result<(), XlsxError> {
    let labels = grid.labels_by_column();
    for cell in grid.header.iter().chain(labels) {
        let style = match cell.role {
            _ if cell.vertical => &s.vertical,
            Role::RowGroup => &s.group,
            Role::RowLabel => &s.label,
            Role::Corner | Role::ColumnGroup | Role::Column => &s.header,
        };
        // Grid columns right of the labels are data columns, each `stretch` wide.
        let labels = grid.label_cols as u16;
        let sheet_col = |c: usize| {
            let c = c as u16;
            match c.checked_sub(labels) {
                Some(data) => FIRST_COL + labels + data * bp.stretch,
                None => FIRST_COL + c,
            }
        };
        let (r1, c1) = (bp.header_row + cell.row as u32, sheet_col(cell.col));
        let (r2, c2) = (
            r1 + cell.rows as u32 - 1,
            sheet_col(cell.col + cell.cols) - 1,
        );
        merge(ws, r1, c1, r2, c2, &cell.text, style)?;
    }
    Ok(())
}

/// The height of each row of a block's grid in points, header rows then data rows: at
/// least the usual height, and tall enough for every label at the width of the columns
/// it spans (`width` of a grid column, in characters). A label over several rows (a
/// vertical group label, a corner) makes those rows taller together, evenly. Not every
/// program grows a row to its wrapped text (LibreOffice does not), so it is set here.
pub(super) fn grid_row_heights(grid: &BlockGrid, width: impl Fn(usize) -> f64) -> Vec<f64> {
    let depth = grid.header_rows;
    let header = if depth > 1 { 24.0 } else { 36.0 };
    let mut heights: Vec<f64> = (0..depth + grid.rows.len())
        .map(|r| if r < depth { header } else { DATA_ROW_HEIGHT })
        .collect();
    let cells: Vec<&crate::grid::GridCell> =
        grid.header.iter().chain(grid.labels_by_column()).collect();
    let needed = |cell: &crate::grid::GridCell| {
        if cell.vertical {
            // Stacked, one character a line.
            cell.text.chars().count() as f64 * LINE_HEIGHT + 6.0
        } else {
            let w: f64 = (cell.col..cell.col + cell.cols).map(&width).sum();
            text_height(&cell.text, w)
        }
    };
    // Single rows first, then what spans several is spread over them.
    for cell in cells.iter().filter(|c| c.rows == 1) {
        if let Some(h) = heights.get_mut(cell.row) {
            *h = h.max(needed(cell));
        }
    }
    for cell in cells.iter().filter(|c| c.rows > 1) {
        let Some(rows) = heights.get_mut(cell.row..cell.row + cell.rows) else {
            continue;
        };
        let short = needed(cell) - rows.iter().sum::<f64>();
        if short > 0.0 {
            let each = (short / rows.len() as f64).ceil();
            rows.iter_mut().for_each(|h| *h += each);
        }
    }
    heights
}

/// The height of a data row holding a one-line label, in points.
const DATA_ROW_HEIGHT: f64 = 20.0;
/// The height of a line of 11-point text, Chinese characters included, in points.
const LINE_HEIGHT: f64 = 15.0;

/// `merge_range` refuses a single cell; write it plainly then.
pub(super) fn merge(
    ws: &mut Worksheet,
    r1: u32,
    c1: u16,
    r2: u32,
    c2: u16,
    text: &str,
    style: &Style,
) -> Result<(), XlsxError> {
    if r1 == r2 && c1 == c2 {
        ws.write_string_with_format(r1, c1, text, style)?;
    } else {
        ws.merge_range(r1, c1, r2, c2, text, style)?;
    }
    Ok(())
}

/// The data validation of a run of input cells `first..=last` on one row of a table.
fn validate_run(
    ws: &mut Worksheet,
    row: u32,
    run: Option<(u16, u16, usize)>,
    draw: &TableDraw,
) -> Result<(), XlsxError> {
    if let Some((first, last, input)) = run {
        ws.add_data_validation(row, first, row, last, &draw.validations[input])?;
    }
    Ok(())
}

/// An input cell: its value (or what the clerk typed) and its look; the caller adds
/// the data validation.
pub(super) fn input_cell(
    ws: &mut Worksheet,
    at: CellRef,
    key: &Key,
    kind: Kind,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    let style = if kind == Kind::Amount {
        &s.amount_input
    } else {
        &s.count_input
    };
    let mark = prefill.notes.get(key);
    let marked = mark.map(|m| marked(style, m));
    let style = marked.as_ref().unwrap_or(style);
    match prefill.raw.get(key).map(String::as_str) {
        Some("") => ws.write_blank(at.row, at.col, style)?,
        Some(text) => {
            let cut = super::fit_cell(text);
            ws.write_string_with_format(at.row, at.col, cut.as_deref().unwrap_or(text), style)?
        }
        None => {
            let value = prefill.values.get(key).copied().unwrap_or(0.0);
            ws.write_number_with_format(at.row, at.col, value, style)?
        }
    };
    if let Some(mark) = mark {
        ws.insert_note(at.row, at.col, &note(mark))?;
    }
    Ok(())
}

/// A cell's style with the fill of a finding's level: red for an error, orange for a
/// warning.
pub(super) fn marked(style: &Style, mark: &CellNote) -> Style {
    let fill = match mark.level {
        Level::Error => ERROR_FILL,
        _ => WARNING_FILL,
    };
    style.clone().set_background_color(Color::RGB(fill))
}

/// The note on a marked cell: what is wrong and what to do, sized to its text.
pub(super) fn note(mark: &CellNote) -> Note {
    // About 20 characters a line at this width; blank lines between findings count too.
    let lines: usize = mark
        .text
        .split('\n')
        .map(|l| l.chars().count().div_ceil(20).max(1))
        .sum();
    let height = (lines as u32 * 17 + 12).clamp(60, 600);
    Note::new(&mark.text)
        .add_author_prefix(false)
        .set_author("审核意见")
        .set_font_name(FONT)
        .set_font_size(10)
        .set_width(300)
        .set_height(height)
}

/// A roll-up's value: a plain number, blank when there is none.
pub(super) fn plain_cell(
    ws: &mut Worksheet,
    at: CellRef,
    span: u16,
    key: &Key,
    kind: Kind,
    values: &BTreeMap<Key, f64>,
    s: &Styles,
) -> Result<(), XlsxError> {
    let style = if kind == Kind::Amount {
        &s.amount_value
    } else {
        &s.count_value
    };
    // A stretched column: merged first, the number then written over its first cell.
    if span > 1 {
        ws.merge_range(at.row, at.col, at.row, at.col + span - 1, "", style)?;
    }
    match values.get(key) {
        Some(v) => {
            ws.write_number_with_format(at.row, at.col, *v, style)?;
        }
        None if span > 1 => {}
        None => {
            ws.write_blank(at.row, at.col, style)?;
        }
    }
    Ok(())
}

/// The data validation of an input cell, with a Chinese prompt and error message.
pub(super) fn validation(kind: Kind, unit: Option<&str>) -> Result<DataValidation, XlsxError> {
    let dv = match kind {
        Kind::Count => DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
            .set_input_message("请填写不小于 0 的整数；没有的填 0。")?
            .set_error_message("这里只能填写不小于 0 的整数（阿拉伯数字），例如 0、3、12。")?,
        Kind::Signed => DataValidation::new()
            .allow_whole_number(DataValidationRule::Between(-999_999_999, 999_999_999))
            .set_input_message("请填写整数；比上一年减少时填负数，例如 -2；没有变化填 0。")?
            .set_error_message("这里只能填写整数（阿拉伯数字），减少时填负数，例如 -2。")?,
        Kind::Amount => {
            let unit = unit.unwrap_or("元");
            DataValidation::new()
                .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
                .set_input_message(format!(
                    "请填写金额，单位：{unit}，可带小数；不要填写单位。"
                ))?
                .set_error_message(format!(
                    "这里只能填写不小于 0 的数（单位：{unit}），不要填写文字或单位。"
                ))?
        }
    };
    dv.set_input_title("填写说明")?.set_error_title("输入有误")
}

/// `SUM(E10:E15)`: parts in consecutive cells of one column (or one row) are written as
/// a range, so that a row deleted from it shrinks the range instead of turning the total
/// into `#REF!`; other parts are listed one by one.
fn sum_formula(parts: &[Key], cells: &BTreeMap<Key, CellRef>) -> Option<String> {
    let at: Option<Vec<CellRef>> = parts.iter().map(|k| cells.get(k).copied()).collect();
    let mut runs: Vec<(CellRef, CellRef)> = Vec::new();
    for c in at? {
        match runs.last_mut() {
            Some((first, last))
                if (last.col == c.col && first.col == c.col && last.row + 1 == c.row)
                    || (last.row == c.row && first.row == c.row && last.col + 1 == c.col) =>
            {
                *last = c;
            }
            _ => runs.push((c, c)),
        }
    }
    let refs: Vec<String> = runs
        .iter()
        .map(|(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}:{last}")
            }
        })
        .collect();
    Some(format!("SUM({})", refs.join(",")))
}

fn sum_of(parts: &[Key], values: &BTreeMap<Key, f64>) -> f64 {
    parts
        .iter()
        .map(|k| values.get(k).copied().unwrap_or(0.0))
        .sum()
}

fn total_cell(
    ws: &mut Worksheet,
    at: CellRef,
    formula: Formula,
    mark: Option<&CellNote>,
    s: &Styles,
) -> Result<(), XlsxError> {
    let marked = mark.map(|m| marked(&s.total, m));
    let style = marked.as_ref().unwrap_or(&s.total);
    // The cached result is what a reader that does not recalculate (calamine) sees.
    ws.write_formula_with_format(at.row, at.col, formula, style)?;
    if let Some(mark) = mark {
        ws.insert_note(at.row, at.col, &note(mark))?;
    }
    Ok(())
}

fn live_check(
    ws: &mut Worksheet,
    live: &LiveDraw,
    label_width: u16,
    stretch: u16,
    values: &BTreeMap<Key, f64>,
    s: &Styles,
) -> Result<(), XlsxError> {
    if label_width > 0 {
        merge(
            ws,
            live.row,
            FIRST_COL,
            live.row,
            FIRST_COL + label_width - 1,
            &live.caption,
            &s.check,
        )?;
    }
    for check in &live.checks {
        let passes = check
            .op
            .holds(sum_of(&check.lhs, values), sum_of(&check.rhs, values));
        let formula = if passes { &check.pass } else { &check.fail };
        if stretch > 1 {
            let last = check.col + stretch - 1;
            ws.merge_range(live.row, check.col, live.row, last, "", &s.check)?;
        }
        ws.write_formula_with_format(live.row, check.col, formula, &s.check)?;
    }
    if let Some((first, last, bad, good)) = &live.highlight {
        let last = *last + stretch - 1;
        ws.add_conditional_format(live.row, *first, live.row, last, bad)?;
        ws.add_conditional_format(live.row, *first, live.row, last, good)?;
    }
    ws.set_row_height(live.row, 24)?;
    Ok(())
}
