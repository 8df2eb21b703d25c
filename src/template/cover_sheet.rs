//! The cover sheet (unit, year, format, contact fields, instructions) and the very hidden
//! identity sheet: what a clerk sees first and what the reader trusts first.

use rust_xlsxwriter::{Color, Worksheet, XlsxError};

use super::sheets::*;
use super::{Prefill, UnitInfo};
use crate::format::Format;
use crate::identity::{self, Handback, IdField, IdFields, Marker, COVER_FIELDS, TEMPLATE_VERSION};
use crate::layout::*;

pub(super) fn cover(
    ws: &mut Worksheet,
    prepared: &Prepared<'_>,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
) -> Result<(), XlsxError> {
    let s = &prepared.styles;
    ws.set_name("封面")?;
    ws.write_string(0, KEY_COL, Marker::Cover.text())?;
    let last = COVER_VALUE_COL + 3;
    ws.merge_range(
        0,
        FIRST_COL,
        0,
        last,
        "政府信息公开工作年度报告 填报表",
        &s.title,
    )?;
    ws.merge_range(1, FIRST_COL, 1, last, &prepared.subtitle, &s.note)?;
    // The row between the subtitle and the fields: when and to whom it goes back.
    if let Some(sentence) = prepared.handback.sentence() {
        let style = s
            .note
            .clone()
            .set_bold()
            .set_font_color(Color::RGB(HANDBACK_COLOUR));
        ws.merge_range(2, FIRST_COL, 2, last, &sentence, &style)?;
        ws.set_row_height(2, 20)?;
    }
    ws.set_column_width(FIRST_COL, 16)?;
    ws.set_column_width(COVER_VALUE_COL, 30)?;
    ws.set_column_range_width(COVER_VALUE_COL + 1, last, 16)?;
    let parent = match (unit.parent_name.as_str(), unit.parent_code.as_str()) {
        ("", "") => String::new(),
        ("", code) => code.to_string(),
        (name, code) => format!("{name}（{code}）"),
    };
    for (i, field) in COVER_FIELDS.iter().enumerate() {
        let (code, locked) = (field.code, field.locked);
        let row = COVER_FIRST_ROW + i as u32;
        ws.write_string(row, KEY_COL, Marker::Field(code.to_string()).text())?;
        ws.write_string_with_format(row, FIRST_COL, field.label, &s.header)?;
        let known = match code {
            "unit_name" => unit.name.clone(),
            "unit_code" => unit.code.clone(),
            "parent" => parent.clone(),
            // What a clerk reads: 乡镇, 行政村, not the roster's code.
            "level" => crate::roster::level_label(&unit.level),
            "year" => year.to_string(),
            "format" => prepared.format_label.clone(),
            other => prefill.cover.get(other).cloned().unwrap_or_default(),
        };
        // A blank workbook lets the clerk type the unit; year and format stay fixed.
        let editable = !locked || (unit.is_blank() && !matches!(code, "year" | "format"));
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
    for (i, line) in prepared.instructions.iter().enumerate() {
        let row = first + 1 + i as u32;
        ws.merge_range(row, FIRST_COL, row, last, line, &s.note)?;
        ws.set_row_height(row, 32)?;
    }
    // A correction workbook opens on its list of findings instead.
    ws.set_active(prefill.findings.is_empty());
    let last_row = first + prepared.instructions.len() as u32;
    finish(ws, last_row, last)
}

/// The colour of the cover's deadline line (dark red: read before anything else).
const HANDBACK_COLOUR: u32 = 0xC00000;

/// The filling instructions on the cover, derived from the format so they never disagree
/// with the tables; the last says when and to whom to hand it back, when given.
pub(super) fn instructions(format: &Format, handback: &Handback) -> Vec<String> {
    let tables: Vec<String> = format
        .tables
        .iter()
        .map(|t| format!("表{}“{}”", t.number, t.title))
        .collect();
    let mut lines = vec![
        "1. 只在浅黄色单元格中填写；灰色单元格为自动计算的合计，其余单元格已锁定。工作表保护没有密码，但请不要插入、删除行列或改动表格结构。".to_string(),
        "2. 数字一律填写阿拉伯数字：件数、数量为整数，没有的填 0（模板已预填 0）；不要填写“无”“—”或单位。金额可带小数，单位见表头和提示。".to_string(),
        format!("3. 需填写：{}，以及“文字部分”各节。", tables.join("、")),
        "4. 表三每一列须满足：第一项加第二项之和，等于第三项加第四项之和；表格下方“校验”行显示“通过”或“不通过”，请确认全部为“通过”后再报送。".to_string(),
        "5. 请保存为 .xlsx 格式（Excel、WPS 默认格式即可，不要另存为 .et），文件名可以不改，按通知要求报送。".to_string(),
    ];
    if let Some(sentence) = handback.sentence() {
        lines.push(format!("6. {sentence}"));
    }
    lines
}

/// The identity a unit's workbook carries (see [`crate::identity`]).
pub(super) fn id_fields(
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    handback: &Handback,
) -> IdFields {
    let mut id = IdFields::default();
    id.set(IdField::FormatId, format.id.as_str());
    id.set(IdField::FormatVersion, format.version.to_string());
    id.set(IdField::TemplateVersion, TEMPLATE_VERSION.to_string());
    id.set(IdField::UnitCode, unit.code.as_str());
    id.set(IdField::UnitName, unit.name.as_str());
    id.set(IdField::ParentCode, unit.parent_code.as_str());
    id.set(IdField::Level, unit.level.as_str());
    id.set(IdField::Year, year.to_string());
    if let Some(deadline) = &handback.deadline {
        id.set(IdField::Deadline, deadline.iso());
    }
    id.set(IdField::Contact, handback.contact.trim());
    id
}

/// The hidden identity sheet: what ingest reads first to know whose workbook this is.
/// Kept in cells (not only document properties) because cells survive every program's
/// "save as", .xls and .ods included.
pub(super) fn identity_sheet(
    ws: &mut Worksheet,
    format: &Format,
    year: i32,
    unit: &UnitInfo,
    handback: &Handback,
) -> Result<(), XlsxError> {
    ws.set_name(identity::SHEET)?;
    for (i, (k, v)) in id_fields(format, year, unit, handback)
        .sheet_rows()
        .iter()
        .enumerate()
    {
        ws.write_string(i as u32, 0, *k)?;
        ws.write_string(i as u32, 1, *v)?;
    }
    ws.set_very_hidden(true);
    ws.protect();
    Ok(())
}
