//! A template workbook as a whole: the styles and the parts every unit's workbook shares
//! ([`Prepared`], made once per format), and [`build`], which puts the sheets together.
//! Positions come from [`crate::layout`]; the sheets themselves are drawn in
//! `cover_sheet.rs` (cover and hidden identity), `table_sheet.rs` (tables, also for the
//! roll-up) and `text_sheet.rs`; a correction workbook's list sheet in
//! `findings_sheet.rs`.

use rust_xlsxwriter::{
    Color, DataValidation, DocProperties, Format as Style, FormatAlign, FormatBorder,
    ProtectionOptions, Workbook, Worksheet, XlsxError,
};

use super::{Prefill, UnitInfo};
use crate::format::Format;
use crate::identity::{self, Handback};
use crate::layout::{self, *};

use super::cover_sheet::{self, id_fields, identity_sheet, instructions};
pub(super) use super::table_sheet::{
    columns_width, data_width, draw_table, set_column_widths, text_height, unit_note,
    wrapped_lines, Cells, TableDraw,
};
use super::table_sheet::{table_sheet, validation};
use super::text_sheet::text_sheet;

pub(super) const FONT: &str = "宋体";
pub(super) const INPUT_FILL: u32 = 0xFFF2CC;
pub(super) const TOTAL_FILL: u32 = 0xE7E6E6;
pub(super) const HEADER_FILL: u32 = 0xDDEBF7;

/// The cell styles of our workbooks, made once per workbook.
pub(super) struct Styles {
    pub(super) title: Style,
    pub(super) note: Style,
    pub(super) header: Style,
    pub(super) label: Style,
    pub(super) group: Style,
    /// A group label written vertically, one character under the other (the official
    /// table's row groups), not wrapped into a narrow column.
    pub(super) vertical: Style,
    pub(super) count_input: Style,
    pub(super) amount_input: Style,
    pub(super) total: Style,
    pub(super) check: Style,
    pub(super) text_input: Style,
    pub(super) locked_value: Style,
    pub(super) field_input: Style,
    pub(super) count_value: Style,
    pub(super) amount_value: Style,
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
            vertical: boxed
                .clone()
                .set_rotation(270)
                .set_align(FormatAlign::Center),
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

/// What every template of a format has in common, whoever it is for: styles, layout,
/// keys, formulas, validations, the cover's instructions. [`super::emit`] makes it once
/// and builds each unit's workbook from it.
pub(super) struct Prepared<'f> {
    pub(super) format: &'f Format,
    pub(super) styles: Styles,
    /// `格式名（文件）`, under the cover's title.
    pub(super) subtitle: String,
    /// What the cover's `format` field says.
    pub(super) format_label: String,
    pub(super) instructions: Vec<String>,
    /// When and to whom the workbook goes back (`--deadline`, `--contact`): on the cover
    /// and in the identity.
    pub(super) handback: Handback,
    pub(super) tables: Vec<PreparedTable>,
    pub(super) text: TextPlan,
    /// The validations of the text sheet's fields, in the order of `text.fields`.
    pub(super) field_validations: Vec<DataValidation>,
}

pub(super) struct PreparedTable {
    pub(super) plan: TablePlan,
    pub(super) draw: TableDraw,
    /// What the note under the title says after the unit's name.
    pub(super) unit_note: String,
    pub(super) label_width: u16,
    pub(super) data_width: f64,
}

impl<'f> Prepared<'f> {
    pub(super) fn new(format: &'f Format, handback: &Handback) -> Result<Prepared<'f>, XlsxError> {
        let tables = format
            .tables
            .iter()
            .map(|table| {
                let plan = layout::plan_table(format, table);
                let draw = TableDraw::new(format, table, &plan)?;
                let label_width = plan
                    .blocks
                    .first()
                    .map_or(0, |b| b.first_data_col - FIRST_COL);
                Ok(PreparedTable {
                    unit_note: unit_note(table),
                    data_width: data_width(std::slice::from_ref(table)),
                    label_width,
                    plan,
                    draw,
                })
            })
            .collect::<Result<_, XlsxError>>()?;
        let text = layout::plan_text(format);
        let field_validations = text
            .fields
            .iter()
            .filter_map(|(key, _)| format.field(key))
            .map(|field| validation(field.kind, field.unit.as_deref()))
            .collect::<Result<_, _>>()?;
        Ok(Prepared {
            format,
            styles: Styles::new(),
            subtitle: format!("{}（{}）", format.name, format.document),
            format_label: identity::cover_format_text(&format.id, &format.document),
            instructions: instructions(format, handback),
            handback: handback.clone(),
            tables,
            text,
            field_validations,
        })
    }
}

/// The creation time written into every workbook: 1 January of the year after the report
/// year (when reports are made), not the clock, so that the same inputs give the same
/// bytes on every run.
pub(super) fn creation_stamp(year: i32) -> rust_xlsxwriter::ExcelDateTime {
    let next = u16::try_from(year.saturating_add(1)).unwrap_or(2000);
    rust_xlsxwriter::ExcelDateTime::from_ymd(next, 1, 1)
        .or_else(|_| rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1))
        .expect("2000-01-01 is a valid date")
}

/// How hard a template's members are deflated. Deflate was a quarter of `template`'s
/// time (perf); the fastest level costs a few KB per workbook and saves about 15% of it.
pub(super) const ZIP_LEVEL: u8 = 1;

/// Builds the whole workbook.
pub(super) fn build(
    prepared: &Prepared<'_>,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
) -> Result<Vec<u8>, XlsxError> {
    let format = prepared.format;
    let styles = &prepared.styles;
    let mut wb = Workbook::new();
    wb.set_zip_compression_level(ZIP_LEVEL);
    let title = format!("{}{}年政府信息公开工作年度报告", unit.name, year);
    let id = id_fields(format, year, unit, &prepared.handback);
    let mut props = DocProperties::new()
        .set_creation_datetime(&creation_stamp(year))
        .set_title(&title)
        .set_comment("由 nianbao 生成；请勿删除隐藏的标识列和工作表");
    for (field, name, value) in id.properties() {
        props = match value.parse::<i32>() {
            Ok(n) if field.is_number() => props.set_custom_property(name, n),
            _ => props.set_custom_property(name, value),
        };
    }
    wb.set_properties(&props);

    if !prefill.findings.is_empty() {
        super::findings_sheet::findings_sheet(wb.add_worksheet(), year, unit, prefill, styles)?;
    }
    cover_sheet::cover(wb.add_worksheet(), prepared, year, unit, prefill)?;
    for (table, prepared_table) in format.tables.iter().zip(&prepared.tables) {
        table_sheet(
            wb.add_worksheet(),
            format,
            table,
            prepared_table,
            unit,
            prefill,
            styles,
        )?;
    }
    text_sheet(wb.add_worksheet(), prepared, prefill)?;
    identity_sheet(wb.add_worksheet(), format, year, unit, &prepared.handback)?;
    wb.save_to_buffer()
}

/// Page setup and protection shared by every visible sheet of a template: A4 landscape,
/// one page wide, printed down to `last_row` (not a thousand rows of empty pages), layout
/// protected without a password (the instructions say so).
pub(super) fn finish(ws: &mut Worksheet, last_row: u32, last_col: u16) -> Result<(), XlsxError> {
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    ws.set_column_width(KEY_COL, 2)?;
    ws.set_column_hidden(KEY_COL)?;
    ws.set_print_area(0, FIRST_COL, last_row, last_col)?;
    let options = ProtectionOptions {
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    };
    ws.protect_with_options(&options);
    Ok(())
}
