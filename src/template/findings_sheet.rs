//! The first sheet of a correction workbook, 问题清单: every finding with the cell of
//! this workbook it is about, what was found, what is expected and what to do.

use rust_xlsxwriter::{Color, Format as Style, FormatAlign, FormatBorder, Worksheet, XlsxError};

use super::sheets::{wrapped_lines, Styles, FONT};
use super::{Prefill, UnitInfo, ERROR_FILL, WARNING_FILL};
use crate::model::{Finding, Level};

/// The name of the list sheet of a correction workbook.
pub const FINDINGS_SHEET: &str = "问题清单";

/// The list sheet: what was wrong, where in this workbook, what to do. Plain cells, no
/// hidden keys (anything that looks like one is defused), so the reader passes over it.
pub(super) fn findings_sheet(
    ws: &mut Worksheet,
    year: i32,
    unit: &UnitInfo,
    prefill: &Prefill,
    s: &Styles,
) -> Result<(), XlsxError> {
    const HEADERS: [(&str, f64); 8] = [
        ("序号", 5.0),
        ("级别", 6.0),
        ("规则", 7.0),
        ("位置", 30.0),
        ("问题", 40.0),
        ("实际", 18.0),
        ("应为", 20.0),
        ("提示", 36.0),
    ];
    let last = HEADERS.len() as u16 - 1;
    ws.set_name(FINDINGS_SHEET)?;
    let shown: Vec<&Finding> = prefill
        .findings
        .iter()
        .filter(|f| matches!(f.level, Level::Error | Level::Warning))
        .collect();
    let count = |level| shown.iter().filter(|f| f.level == level).count();
    let (errors, warnings) = (count(Level::Error), count(Level::Warning));
    let fixes = prefill
        .findings
        .iter()
        .filter(|f| f.level == Level::Fixed)
        .count();

    let title = format!("{}{year}年政府信息公开工作年度报告 修改意见", unit.name);
    ws.merge_range(0, 0, 0, last, &defuse(&title), &s.title)?;
    ws.set_row_height(0, 28)?;
    let mut intro = prefill.notice.clone();
    if !prefill.findings_file.is_empty() {
        intro.push_str(&format!("报送的文件：{}。", prefill.findings_file));
    }
    if errors > 0 {
        intro.push_str(&format!(
            "审核结果：不通过，有 {errors} 个错误、{warnings} 个警告，需要修改后重新报送。"
        ));
    } else {
        intro.push_str(&format!("审核结果：有 {warnings} 个警告，请核实。"));
    }
    intro.push_str(
        "有问题的单元格已标为红色（错误）或橙色（警告），鼠标移到单元格上可以看到说明。\
         请直接在本工作簿中修改（表三下方“校验”行应全部为“通过”），保存为 .xlsx 格式后按原方式报送；本页不用删除。",
    );
    if fixes > 0 {
        intro.push_str(&format!(
            "另有 {fixes} 处写法已自动修正（如全角数字、空白按 0 计），本工作簿中已按修正后的数字填写。"
        ));
    }
    ws.merge_range(1, 0, 1, last, &defuse(&intro), &s.note)?;
    ws.set_row_height(1, 48)?;

    let header_row = 3;
    for (c, (label, width)) in HEADERS.iter().enumerate() {
        ws.set_column_width(c as u16, *width)?;
        ws.write_string_with_format(header_row, c as u16, *label, &s.header)?;
    }
    ws.set_row_height(header_row, 22)?;
    let cell = Style::new()
        .set_font_name(FONT)
        .set_font_size(10)
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let level_style = |level| {
        let fill = if level == Level::Error {
            ERROR_FILL
        } else {
            WARNING_FILL
        };
        cell.clone()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_background_color(Color::RGB(fill))
    };
    for (i, f) in shown.iter().enumerate() {
        let row = header_row + 1 + i as u32;
        // The cell of this workbook, then the same place in words.
        let place = match (f.place_text(), f.about_text()) {
            (cell, about) if about.is_empty() => cell,
            (cell, about) if cell.is_empty() => about,
            (cell, about) => format!("{cell}\n{about}"),
        };
        let (found, expected) = (f.found_text(), f.expected_text());
        ws.write_number_with_format(row, 0, (i + 1) as f64, &cell)?;
        ws.write_string_with_format(row, 1, f.level.chinese(), &level_style(f.level))?;
        let texts = [&f.rule, &place, &f.message, &found, &expected, &f.hint];
        let mut lines = 1;
        for (c, text) in texts.into_iter().enumerate() {
            ws.write_string_with_format(row, 2 + c as u16, defuse(text), &cell)?;
            lines = lines.max(wrapped_lines(text, HEADERS[2 + c].1));
        }
        // Not every program grows a row to its wrapped text (LibreOffice does not).
        ws.set_row_height(row, lines as f64 * 13.5 + 4.0)?;
    }
    if shown.is_empty() {
        ws.merge_range(
            header_row + 1,
            0,
            header_row + 1,
            last,
            "没有需要修改的问题。",
            &cell,
        )?;
    }
    ws.set_freeze_panes(header_row + 1, 0)?;
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_tab_color(Color::RGB(0xC00000));
    ws.set_active(true);
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    let last_row = header_row + shown.len().max(1) as u32;
    ws.set_print_area(0, 0, last_row, last)?;
    Ok(())
}

/// Text shown on the list sheet never reads as one of our hidden keys, and fits a cell.
fn defuse(text: &str) -> String {
    let text = text.replace(crate::identity::MARKER_PREFIX, "nianbao：");
    super::fit_cell(&text).unwrap_or(text)
}
