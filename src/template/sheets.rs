//! The sheets of a template, written with rust_xlsxwriter. Positions come from
//! [`super::layout`]; this file only decides how things look and behave in Excel.
//! [`draw_table`] draws a table wherever a plan puts it, for templates and for the
//! roll-up ([`super::rollup`]); the list sheet of a correction workbook is in
//! [`super::corrections`].

use std::collections::BTreeMap;

use rust_xlsxwriter::{
    Color, ConditionalFormatFormula, DataValidation, DataValidationRule, DocProperties,
    Format as Style, FormatAlign, FormatBorder, Formula, Note, ProtectionOptions, Workbook,
    Worksheet, XlsxError,
};

use super::layout::{self, *};
use super::{
    CellNote, Prefill, UnitInfo, ERROR_FILL, IDENTITY_SHEET, TEMPLATE_VERSION, WARNING_FILL,
};
use crate::cell::CellRef;
use crate::format::{Block, Format, Key, Kind, Table};
use crate::model::Level;

pub(super) const FONT: &str = "宋体";
const INPUT_FILL: u32 = 0xFFF2CC;
const TOTAL_FILL: u32 = 0xE7E6E6;
const HEADER_FILL: u32 = 0xDDEBF7;

/// The cell styles of our workbooks, made once per workbook.
pub(super) struct Styles {
    pub(super) title: Style,
    pub(super) note: Style,
    pub(super) header: Style,
    pub(super) label: Style,
    group: Style,
    count_input: Style,
    amount_input: Style,
    total: Style,
    check: Style,
    text_input: Style,
    locked_value: Style,
    field_input: Style,
    count_value: Style,
    amount_value: Style,
}

impl Styles {
    pub(super) fn new() -> Styles {
        let base = Style::new().set_font_name(FONT).set_font_size(11);
        let boxed = base
            .clone()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let input = boxed
            .clone()
            .set_unlocked()
            .set_background_color(Color::RGB(INPUT_FILL));
        Styles {
            title: base
                .clone()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center),
            note: base
                .clone()
                .set_font_color(Color::RGB(0x595959))
                .set_text_wrap(),
            header: boxed
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(HEADER_FILL)),
            label: boxed.clone().set_text_wrap(),
            group: boxed.clone().set_text_wrap().set_align(FormatAlign::Center),
            count_input: input.clone().set_num_format("0"),
            amount_input: input.clone().set_num_format("0.00"),
            total: boxed
                .clone()
                .set_num_format("0")
                .set_background_color(Color::RGB(TOTAL_FILL)),
            check: boxed.clone().set_bold().set_align(FormatAlign::Center),
            text_input: input
                .clone()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_align(FormatAlign::Left),
            locked_value: boxed.clone().set_background_color(Color::RGB(TOTAL_FILL)),
            field_input: input,
            count_value: boxed.clone().set_num_format("0"),
            amount_value: boxed.clone().set_num_format("0.00"),
        }
    }
}

/// Builds the whole workbook.
pub(super) fn build(
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
) -> Result<Vec<u8>, XlsxError> {
    let styles = Styles::new();
    let mut wb = Workbook::new();
    // Deflate was a quarter of `template`'s time (perf); the fastest level costs a few
    // KB per workbook and saves about 15% of it.
    wb.set_zip_compression_level(1);
    let title = format!("{}{}年政府信息公开工作年度报告", unit.name, year);
    let props = DocProperties::new()
        .set_title(&title)
        .set_comment("由 nianbao 生成；请勿删除隐藏的标识列和工作表")
        .set_custom_property("nianbao_format", format.id.as_str())
        .set_custom_property("nianbao_format_version", format.version as i32)
        .set_custom_property("nianbao_template_version", TEMPLATE_VERSION as i32)
        .set_custom_property("nianbao_unit_code", unit.code.as_str())
        .set_custom_property("nianbao_year", year);
    wb.set_properties(&props);

    if !prefill.findings.is_empty() {
        super::corrections::findings_sheet(wb.add_worksheet(), year, unit, prefill, &styles)?;
    }
    cover(wb.add_worksheet(), format, year, unit, prefill, &styles)?;
    for table in &format.tables {
        table_sheet(wb.add_worksheet(), format, table, unit, prefill, &styles)?;
    }
    text_sheet(wb.add_worksheet(), format, prefill, &styles)?;
    identity(wb.add_worksheet(), format, year, unit)?;
    wb.save_to_buffer()
}

/// Page setup and protection shared by every visible sheet of a template: A4 landscape,
/// one page wide, layout protected without a password (the instructions say so).
fn finish(ws: &mut Worksheet, last_col: u16) -> Result<(), XlsxError> {
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    ws.set_column_width(KEY_COL, 2)?;
    ws.set_column_hidden(KEY_COL)?;
    ws.set_print_area(0, FIRST_COL, 1_000, last_col)?;
    let options = ProtectionOptions {
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    };
    ws.protect_with_options(&options);
    Ok(())
}

fn cover(
    ws: &mut Worksheet,
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name("封面")?;
    ws.write_string(0, KEY_COL, MARK_COVER)?;
    let last = COVER_VALUE_COL + 3;
    ws.merge_range(
        0,
        FIRST_COL,
        0,
        last,
        "政府信息公开工作年度报告 填报表",
        &s.title,
    )?;
    ws.merge_range(
        1,
        FIRST_COL,
        1,
        last,
        &format!("{}（{}）", format.name, format.document),
        &s.note,
    )?;
    ws.set_column_width(FIRST_COL, 16)?;
    ws.set_column_width(COVER_VALUE_COL, 30)?;
    ws.set_column_range_width(COVER_VALUE_COL + 1, last, 16)?;
    let parent = match (unit.parent_name.as_str(), unit.parent_code.as_str()) {
        ("", "") => String::new(),
        ("", code) => code.to_string(),
        (name, code) => format!("{name}（{code}）"),
    };
    let format_label = format!("{}格式（{}）", format.id, format.document);
    for (i, (code, label, locked)) in COVER_FIELDS.iter().enumerate() {
        let row = COVER_FIRST_ROW + i as u32;
        ws.write_string(row, KEY_COL, format!("{MARK_FIELD}{code}"))?;
        ws.write_string_with_format(row, FIRST_COL, *label, &s.header)?;
        let known = match *code {
            "unit_name" => unit.name.clone(),
            "unit_code" => unit.code.clone(),
            "parent" => parent.clone(),
            "level" => unit.level.clone(),
            "year" => year.to_string(),
            "format" => format_label.clone(),
            other => prefill.cover.get(other).cloned().unwrap_or_default(),
        };
        // A blank workbook lets the clerk type the unit; year and format stay fixed.
        let editable = !locked || (unit.is_blank() && !matches!(*code, "year" | "format"));
        let style = if editable {
            &s.field_input
        } else {
            &s.locked_value
        };
        ws.merge_range(
            row,
            COVER_VALUE_COL,
            row,
            COVER_VALUE_COL + 1,
            &known,
            style,
        )?;
    }
    let first = COVER_FIRST_ROW + COVER_FIELDS.len() as u32 + 1;
    ws.merge_range(first, FIRST_COL, first, last, "填报说明", &s.header)?;
    for (i, line) in instructions(format).iter().enumerate() {
        let row = first + 1 + i as u32;
        ws.merge_range(row, FIRST_COL, row, last, line, &s.note)?;
        ws.set_row_height(row, 32)?;
    }
    // A correction workbook opens on its list of findings instead.
    ws.set_active(prefill.findings.is_empty());
    finish(ws, last)
}

/// The filling instructions on the cover, derived from the format so they never disagree
/// with the tables.
fn instructions(format: &Format) -> Vec<String> {
    let tables: Vec<String> = format
        .tables
        .iter()
        .map(|t| format!("表{}“{}”", t.number, t.title))
        .collect();
    vec![
        "1. 只在浅黄色单元格中填写；灰色单元格为自动计算的合计，其余单元格已锁定。工作表保护没有密码，但请不要插入、删除行列或改动表格结构。".to_string(),
        "2. 数字一律填写阿拉伯数字：件数、数量为整数，没有的填 0（模板已预填 0）；不要填写“无”“—”或单位。金额可带小数，单位见表头和提示。".to_string(),
        format!("3. 需填写：{}，以及“文字部分”各节。", tables.join("、")),
        "4. 表三每一列须满足：第一项加第二项之和，等于第三项加第四项之和；表格下方“校验”行显示“通过”或“不通过”，请确认全部为“通过”后再报送。".to_string(),
        "5. 请保存为 .xlsx 格式（Excel、WPS 默认格式即可，不要另存为 .et），文件名可以不改，按通知要求报送。".to_string(),
    ]
}

fn table_sheet(
    ws: &mut Worksheet,
    format: &Format,
    table: &Table,
    unit: &UnitInfo,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    let plan = layout::plan_table(format, table);
    let last_col = plan.width - 1;
    ws.set_name(&table.sheet)?;
    ws.write_string(0, KEY_COL, format!("{MARK_TABLE}{}", table.code))?;
    let mut note = match unit.name.as_str() {
        "" => "请在浅黄色单元格填写；灰色单元格自动计算。".to_string(),
        name => format!("填报单位：{name}　　请在浅黄色单元格填写；灰色单元格自动计算。"),
    };
    note.push_str(&unit_note(table));
    let label_width = plan
        .blocks
        .first()
        .map_or(0, |b| b.first_data_col - FIRST_COL);
    set_column_widths(
        ws,
        label_width,
        last_col,
        data_width(std::slice::from_ref(table)),
    )?;
    draw_table(ws, format, table, &plan, &note, Cells::Template(prefill), s)?;
    if table.blocks.len() == 1 {
        ws.set_freeze_panes(plan.blocks[0].first_data_row, FIRST_COL + label_width)?;
    }
    finish(ws, last_col)?;
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

/// Draws one table where `plan` puts it: title, note, each block's title, header, row
/// labels and data cells, then the live checks. Column widths and the sheet's own setup
/// are the caller's.
pub(super) fn draw_table(
    ws: &mut Worksheet,
    format: &Format,
    table: &Table,
    plan: &TablePlan,
    note: &str,
    cells: Cells<'_>,
    s: &Styles,
) -> Result<(), XlsxError> {
    let last_col = plan.width - 1;
    ws.merge_range(
        plan.title_row,
        FIRST_COL,
        plan.title_row,
        last_col,
        &table.heading(),
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

    let totals = format.totals();
    // Totals get the result a non-recalculating reader sees: computed from the inputs
    // (0 where a template leaves them); the live checks compare the same numbers.
    let values: BTreeMap<Key, f64> = match cells {
        Cells::Template(prefill) => {
            let mut values: BTreeMap<Key, f64> = plan
                .cells
                .keys()
                .filter(|k| !totals.contains_key(*k))
                .map(|k| (k.clone(), 0.0))
                .collect();
            values.extend(
                prefill
                    .values
                    .iter()
                    .filter(|(k, _)| !totals.contains_key(*k))
                    .map(|(k, v)| (k.clone(), *v)),
            );
            format.fill_totals(&mut values, None);
            values
        }
        Cells::Plain(values) => values.clone(),
    };
    let keys = matches!(cells, Cells::Template(_));
    for bp in &plan.blocks {
        let block = &table.blocks[bp.index];
        if let (Some(row), Some(title)) = (bp.title_row, &block.title) {
            ws.merge_range(row, FIRST_COL, row, last_col, title, &s.header)?;
        }
        if keys {
            ws.write_string(bp.key_row, KEY_COL, MARK_COLS)?;
            for (c, col) in block.columns.iter().enumerate() {
                ws.write_string(bp.key_row, bp.first_data_col + c as u16, &col.code)?;
            }
        }
        ws.set_row_hidden(bp.key_row)?;
        header(ws, block, bp, s)?;
        row_labels(ws, block, bp, s)?;
        for (r, row) in block.rows.iter().enumerate() {
            let at = bp.first_data_row + r as u32;
            if keys {
                ws.write_string(at, KEY_COL, format!("{MARK_ROW}{}", row.code))?;
            }
            ws.set_row_height(at, 20)?;
            // Input cells of one kind side by side share one validation (less XML to
            // write and compress than one per cell).
            let mut run: Option<(u16, u16, Kind, Option<&str>)> = None;
            for (c, col) in block.columns.iter().enumerate() {
                let key = Key::cell(&table.code, &row.code, &col.code);
                let cell = CellRef::new(at, bp.first_data_col + c as u16);
                let input = (col.kind, col.unit.as_deref());
                match (cells, totals.get(&key)) {
                    (Cells::Template(prefill), Some(parts)) => {
                        let mark = prefill.notes.get(&key);
                        total_cell(ws, cell, parts, &plan.cells, values[&key], mark, s)?;
                        validate_run(ws, at, run.take())?;
                    }
                    (Cells::Template(prefill), None) => {
                        input_cell(ws, cell, &key, col.kind, prefill, s)?;
                        run = match run {
                            Some((first, _, kind, unit)) if (kind, unit) == input => {
                                Some((first, cell.col, kind, unit))
                            }
                            other => {
                                validate_run(ws, at, other)?;
                                Some((cell.col, cell.col, input.0, input.1))
                            }
                        };
                    }
                    (Cells::Plain(_), _) => plain_cell(ws, cell, &key, col.kind, &values, s)?,
                }
            }
            validate_run(ws, at, run)?;
        }
    }
    for live in &plan.live_checks {
        live_check(ws, live, label_width, &plan.cells, &values, s)?;
    }
    Ok(())
}

fn set_label_widths(ws: &mut Worksheet, label_width: u16) -> Result<(), XlsxError> {
    // Outer label columns hold vertical group labels: narrow, so the text wraps one
    // character per line as in the official table. The innermost one holds row labels.
    for i in 0..label_width {
        let width = if i + 1 == label_width { 44 } else { 4 };
        ws.set_column_width(FIRST_COL + i, width)?;
    }
    Ok(())
}

/// The column header: groups merged across the columns they cover, each column's own
/// label merged down to the last header row; the corner cell over the label columns.
fn header(ws: &mut Worksheet, block: &Block, bp: &BlockPlan, s: &Styles) -> Result<(), XlsxError> {
    let depth = block.header_depth() as u32;
    let label_width = bp.first_data_col - FIRST_COL;
    if label_width > 0 {
        let corner = block.corner.as_deref().unwrap_or("");
        merge(
            ws,
            bp.header_row,
            FIRST_COL,
            bp.header_row + depth - 1,
            bp.first_data_col - 1,
            corner,
            &s.header,
        )?;
        for r in 0..depth {
            ws.set_row_height(bp.header_row + r, if depth > 1 { 24 } else { 36 })?;
        }
    }
    for level in 0..depth as usize {
        let mut c = 0;
        while c < block.columns.len() {
            let col = &block.columns[c];
            let row = bp.header_row + level as u32;
            let first = bp.first_data_col + c as u16;
            if level < col.groups.len() {
                // A group: extend over the following columns under the same path.
                let path = &col.groups[..=level];
                let span = block.columns[c..]
                    .iter()
                    .take_while(|o| o.groups.len() > level && &o.groups[..=level] == path)
                    .count();
                merge(
                    ws,
                    row,
                    first,
                    row,
                    first + span as u16 - 1,
                    &col.groups[level],
                    &s.header,
                )?;
                c += span;
            } else {
                if level == col.groups.len() {
                    merge(
                        ws,
                        row,
                        first,
                        bp.header_row + depth - 1,
                        first,
                        &col.label,
                        &s.header,
                    )?;
                }
                c += 1;
            }
        }
    }
    Ok(())
}

/// Row labels: groups merged down over the rows they cover (vertical labels), each row's
/// own label merged across to the data.
fn row_labels(
    ws: &mut Worksheet,
    block: &Block,
    bp: &BlockPlan,
    s: &Styles,
) -> Result<(), XlsxError> {
    let width = bp.first_data_col - FIRST_COL;
    if width == 0 {
        return Ok(());
    }
    for level in 0..width as usize {
        let mut r = 0;
        while r < block.rows.len() {
            let row = &block.rows[r];
            let at = bp.first_data_row + r as u32;
            let col = FIRST_COL + level as u16;
            if level < row.groups.len() {
                let path = &row.groups[..=level];
                let span = block.rows[r..]
                    .iter()
                    .take_while(|o| o.groups.len() > level && &o.groups[..=level] == path)
                    .count();
                merge(
                    ws,
                    at,
                    col,
                    at + span as u32 - 1,
                    col,
                    &row.groups[level],
                    &s.group,
                )?;
                r += span;
            } else {
                if level == row.groups.len() {
                    merge(ws, at, col, at, bp.first_data_col - 1, &row.label, &s.label)?;
                }
                r += 1;
            }
        }
    }
    Ok(())
}

/// `merge_range` refuses a single cell; write it plainly then.
fn merge(
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

/// The data validation of a run of input cells `first..=last` on one row.
fn validate_run(
    ws: &mut Worksheet,
    row: u32,
    run: Option<(u16, u16, Kind, Option<&str>)>,
) -> Result<(), XlsxError> {
    if let Some((first, last, kind, unit)) = run {
        ws.add_data_validation(row, first, row, last, &validation(kind, unit)?)?;
    }
    Ok(())
}

/// An input cell: its value (or what the clerk typed) and its look; the caller adds
/// the data validation.
fn input_cell(
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
        Some(text) => ws.write_string_with_format(at.row, at.col, text, style)?,
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
fn marked(style: &Style, mark: &CellNote) -> Style {
    let fill = match mark.level {
        Level::Error => ERROR_FILL,
        _ => WARNING_FILL,
    };
    style.clone().set_background_color(Color::RGB(fill))
}

/// The note on a marked cell: what is wrong and what to do, sized to its text.
fn note(mark: &CellNote) -> Note {
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
fn plain_cell(
    ws: &mut Worksheet,
    at: CellRef,
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
    match values.get(key) {
        Some(v) => ws.write_number_with_format(at.row, at.col, *v, style)?,
        None => ws.write_blank(at.row, at.col, style)?,
    };
    Ok(())
}

/// The data validation of an input cell, with a Chinese prompt and error message.
fn validation(kind: Kind, unit: Option<&str>) -> Result<DataValidation, XlsxError> {
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

fn sum_formula(parts: &[Key], cells: &BTreeMap<Key, CellRef>) -> Option<String> {
    let refs: Option<Vec<String>> = parts
        .iter()
        .map(|k| cells.get(k).map(|c| c.to_string()))
        .collect();
    Some(format!("SUM({})", refs?.join(",")))
}

fn sum_of(parts: &[Key], values: &BTreeMap<Key, f64>) -> f64 {
    parts
        .iter()
        .map(|k| values.get(k).copied().unwrap_or(0.0))
        .sum()
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn total_cell(
    ws: &mut Worksheet,
    at: CellRef,
    parts: &[Key],
    cells: &BTreeMap<Key, CellRef>,
    result: f64,
    mark: Option<&CellNote>,
    s: &Styles,
) -> Result<(), XlsxError> {
    let Some(formula) = sum_formula(parts, cells) else {
        return Ok(());
    };
    let marked = mark.map(|m| marked(&s.total, m));
    let style = marked.as_ref().unwrap_or(&s.total);
    // The cached result is what a reader that does not recalculate (calamine) sees.
    let formula = Formula::new(format!("={formula}")).set_result(number_text(result));
    ws.write_formula_with_format(at.row, at.col, formula, style)?;
    if let Some(mark) = mark {
        ws.insert_note(at.row, at.col, &note(mark))?;
    }
    Ok(())
}

fn live_check(
    ws: &mut Worksheet,
    live: &LiveCheckPlan,
    label_width: u16,
    cells: &BTreeMap<Key, CellRef>,
    values: &BTreeMap<Key, f64>,
    s: &Styles,
) -> Result<(), XlsxError> {
    let caption = format!("校验：{}", live.caption);
    if label_width > 0 {
        merge(
            ws,
            live.row,
            FIRST_COL,
            live.row,
            FIRST_COL + label_width - 1,
            &caption,
            &s.check,
        )?;
    }
    let mut first = u16::MAX;
    let mut last = 0;
    for (col, check) in &live.checks {
        let keys =
            |terms: &[crate::format::Term]| terms.iter().map(|t| t.key.clone()).collect::<Vec<_>>();
        let (lhs, rhs) = (keys(&check.lhs), keys(&check.rhs));
        let (Some(l), Some(r)) = (sum_formula(&lhs, cells), sum_formula(&rhs, cells)) else {
            continue;
        };
        let op = match check.op {
            crate::format::Op::Eq => "=",
            crate::format::Op::Le => "<=",
        };
        let passes = check.op.holds(sum_of(&lhs, values), sum_of(&rhs, values));
        let result = if passes { "通过" } else { "不通过" };
        let formula =
            Formula::new(format!("=IF({l}{op}{r},\"通过\",\"不通过\")")).set_result(result);
        ws.write_formula_with_format(live.row, *col, formula, &s.check)?;
        first = first.min(*col);
        last = last.max(*col);
    }
    if first <= last {
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
        ws.add_conditional_format(live.row, first, live.row, last, &bad)?;
        ws.add_conditional_format(live.row, first, live.row, last, &good)?;
    }
    ws.set_row_height(live.row, 24)?;
    Ok(())
}

fn text_sheet(
    ws: &mut Worksheet,
    format: &Format,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    let plan = layout::plan_text(format);
    ws.set_name(TEXT_SHEET)?;
    ws.write_string(0, KEY_COL, MARK_TEXT)?;
    ws.merge_range(0, FIRST_COL, 0, TEXT_LAST_COL, "报告文字部分", &s.title)?;
    ws.merge_range(
        1,
        FIRST_COL,
        1,
        TEXT_LAST_COL,
        "在浅黄色框内填写各节文字（可直接粘贴）；分段请在单元格内按 Alt+Enter（WPS、Excel 通用）。",
        &s.note,
    )?;
    ws.set_column_width(FIRST_COL, 24)?;
    ws.set_column_range_width(FIRST_COL + 1, TEXT_LAST_COL, 16)?;
    for (code, heading_row, input_row) in &plan.sections {
        let Some(section) = format.sections.iter().find(|x| &x.code == code) else {
            continue;
        };
        let heading = format!("{}　{}", section.heading(), section.prompt);
        ws.merge_range(
            *heading_row,
            FIRST_COL,
            *heading_row,
            TEXT_LAST_COL,
            &heading,
            &s.header,
        )?;
        ws.set_row_height(*heading_row, 30)?;
        ws.write_string(*input_row, KEY_COL, format!("{MARK_SECTION}{code}"))?;
        let text = prefill.texts.get(code).map(String::as_str).unwrap_or("");
        ws.merge_range(
            *input_row,
            FIRST_COL,
            *input_row,
            TEXT_LAST_COL,
            text,
            &s.text_input,
        )?;
        // Tall enough for about a thousand characters at this width.
        let height = if code == "opening" { 90 } else { 300 };
        ws.set_row_height(*input_row, height)?;
    }
    for (key, row) in &plan.fields {
        let Some(field) = format.field(key) else {
            continue;
        };
        ws.write_string(*row, KEY_COL, format!("{MARK_FIELD}{}", field.code))?;
        ws.write_string_with_format(*row, FIRST_COL, &field.label, &s.header)?;
        let at = CellRef::new(*row, TEXT_FIELD_COL);
        input_cell(ws, at, key, field.kind, prefill, s)?;
        validate_run(
            ws,
            at.row,
            Some((at.col, at.col, field.kind, field.unit.as_deref())),
        )?;
        ws.set_row_height(*row, 22)?;
    }
    finish(ws, TEXT_LAST_COL)
}

/// The hidden identity sheet: what ingest reads first to know whose workbook this is.
/// Kept in cells (not only document properties) because cells survive every program's
/// "save as", .xls and .ods included.
fn identity(
    ws: &mut Worksheet,
    format: &Format,
    year: i32,
    unit: &UnitInfo,
) -> Result<(), XlsxError> {
    ws.set_name(IDENTITY_SHEET)?;
    let rows: [(&str, String); 9] = [
        (
            "nianbao",
            "政府信息公开工作年度报告模板标识，请勿修改".to_string(),
        ),
        ("format_id", format.id.clone()),
        ("format_version", format.version.to_string()),
        ("template_version", TEMPLATE_VERSION.to_string()),
        ("unit_code", unit.code.clone()),
        ("unit_name", unit.name.clone()),
        ("parent_code", unit.parent_code.clone()),
        ("level", unit.level.clone()),
        ("year", year.to_string()),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        ws.write_string(i as u32, 0, *k)?;
        ws.write_string(i as u32, 1, v)?;
    }
    ws.set_very_hidden(true);
    ws.protect();
    Ok(())
}
