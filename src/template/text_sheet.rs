//! The text sheet: each section's heading and input box, and the numeric fields.

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::sheets::*;
use super::table_sheet::*;
use super::Prefill;
use crate::cell::CellRef;
use crate::identity::Marker;
use crate::layout::*;

pub(super) fn text_sheet(
    ws: &mut Worksheet,
    prepared: &Prepared<'_>,
    prefill: &Prefill,
) -> Result<(), XlsxError> {
    let (format, plan, s) = (prepared.format, &prepared.text, &prepared.styles);
    ws.set_name(TEXT_SHEET)?;
    ws.write_string(0, KEY_COL, Marker::Text.text())?;
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
        ws.write_string(*input_row, KEY_COL, Marker::Section(code.clone()).text())?;
        let text = prefill.texts.get(code).map(String::as_str).unwrap_or("");
        let cut = super::fit_cell(text);
        ws.merge_range(
            *input_row,
            FIRST_COL,
            *input_row,
            TEXT_LAST_COL,
            cut.as_deref().unwrap_or(text),
            &s.text_input,
        )?;
        if cut.is_some() {
            let said = format!(
                "这一节原文共 {} 字，超过 Excel 单元格 {} 字的上限，本单元格只保留了前面部分。",
                text.chars().count(),
                super::CELL_TEXT_LIMIT
            );
            let mark = super::CellNote {
                level: crate::model::Level::Warning,
                text: said,
            };
            ws.insert_note(*input_row, FIRST_COL, &note(&mark))?;
        }
        // Tall enough for about a thousand characters at this width.
        let height = if code == "opening" { 90 } else { 300 };
        ws.set_row_height(*input_row, height)?;
    }
    let fields = plan
        .fields
        .iter()
        .filter_map(|(key, row)| Some((key, row, format.field(key)?)));
    for ((key, row, field), dv) in fields.zip(&prepared.field_validations) {
        ws.write_string(*row, KEY_COL, Marker::Field(field.code.clone()).text())?;
        ws.write_string_with_format(*row, FIRST_COL, &field.label, &s.header)?;
        let at = CellRef::new(*row, TEXT_FIELD_COL);
        input_cell(ws, at, key, field.kind, prefill, s)?;
        ws.add_data_validation(at.row, at.col, at.row, at.col, dv)?;
        ws.set_row_height(*row, 22)?;
    }
    let last_row = plan
        .sections
        .iter()
        .map(|(_, _, input)| *input)
        .chain(plan.fields.iter().map(|(_, row)| *row))
        .max()
        .unwrap_or(1);
    finish(ws, last_row, TEXT_LAST_COL)
}
