//! The consolidated roll-up as a workbook in the official layout: one sheet per parent
//! unit, its tables 二, 三 and 四 one after another, drawn by the same code as the
//! templates (headers, row labels, live checks) with plain numbers in the cells. No hidden
//! keys and no protection: it is a report for the level above, not a form to fill in.
//! It is marked as nianbao's roll-up ([`crate::output::ROLLUP_MARK`]) so that `ingest`
//! does not take it for a unit's return when it turns up among the inputs.

use std::collections::BTreeMap;

use rust_xlsxwriter::{DocProperties, Workbook, Worksheet, XlsxError};

use super::sheets::{self, Cells, Styles};
use super::TemplateError;
use crate::format::{Format, Key};
use crate::layout::{self, Placement, FIRST_COL, KEY_COL};
use crate::output::{GENERATED_PROPERTY, ROLLUP_MARK};

/// One parent unit's totals: its own values and all its descendants'.
#[derive(Debug, Clone, Copy)]
pub struct RollupSheet<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub values: &'a BTreeMap<Key, f64>,
    /// How the units stand, in the one sentence every output uses (only accepted
    /// reports are in the totals).
    pub summary: &'a str,
    /// The names of the units in the totals, of those that sent nothing and of those
    /// sent back, in roster order: listed under the tables.
    pub included: &'a [&'a str],
    pub missing: &'a [&'a str],
    pub rejected: &'a [&'a str],
}

/// The workbook: one sheet per entry of `sheets`, in order, named by
/// [`rollup_sheet_names`].
pub fn rollup_workbook(
    format: &Format,
    year: i32,
    sheets: &[RollupSheet<'_>],
) -> Result<Vec<u8>, TemplateError> {
    build(format, year, sheets).map_err(|source| TemplateError::Xlsx {
        file: format!("{year}年度汇总表"),
        source,
    })
}

/// The sheet names of a roll-up workbook: each parent's name (its code if it has none)
/// made safe for Excel — no `[]:*?/\`, no leading or trailing `'`, at most 31 characters —
/// and unique regardless of case, a numeric suffix telling apart names that collide.
pub fn rollup_sheet_names(sheets: &[RollupSheet<'_>]) -> Vec<String> {
    let mut used: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for sheet in sheets {
        let base: String = sheet
            .name
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        let mut base = base.trim().trim_matches('\'').trim().to_string();
        if base.is_empty() {
            base = sheet
                .code
                .trim()
                .trim_matches('\'')
                .replace(['[', ']', ':', '*', '?', '/', '\\'], "_");
        }
        if base.is_empty() || base.eq_ignore_ascii_case("history") {
            base = format!("汇总{base}");
        }
        let taken = |name: &str| used.iter().any(|u| u.to_lowercase() == name.to_lowercase());
        let mut name = truncate_utf16(&base, 31);
        let mut n = 2;
        while taken(&name) {
            let suffix = format!("({n})");
            name = format!(
                "{}{suffix}",
                truncate_utf16(&base, 31 - suffix.len()).trim_end_matches('\'')
            );
            n += 1;
        }
        used.push(name.clone());
        out.push(name);
    }
    out
}

/// At most `max` UTF-16 units (Excel's measure of a sheet name), whole characters.
fn truncate_utf16(s: &str, max: usize) -> String {
    let mut len = 0;
    s.chars()
        .take_while(|c| {
            len += c.len_utf16();
            len <= max
        })
        .collect::<String>()
        .trim_end_matches('\'')
        .to_string()
}

fn build(format: &Format, year: i32, sheets: &[RollupSheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let styles = Styles::new();
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_creation_datetime(&super::sheets::creation_stamp(year))
        .set_title(format!("{year}年政府信息公开工作年度报告汇总表"))
        .set_comment("由 nianbao 汇总生成")
        // Not a return: recognised as such wherever it is moved (see `output::ROLLUP_MARK`).
        .set_custom_property(GENERATED_PROPERTY, ROLLUP_MARK);
    wb.set_properties(&props);
    // Every table's data starts in the same column, so one set of widths suits them all.
    let label_width = format
        .tables
        .iter()
        .map(layout::label_width)
        .max()
        .unwrap_or(0);
    let data_cols = layout::max_data_cols(format);
    let names = rollup_sheet_names(sheets);
    for (sheet, name) in sheets.iter().zip(&names) {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        let plans: Vec<layout::TablePlan> = {
            let mut first_row = 3;
            format
                .tables
                .iter()
                .map(|table| {
                    // Every table about as wide as the widest (表四), so that each
                    // fills its printed page at the sheet's one scale.
                    let at = Placement {
                        first_row,
                        label_width,
                        stretch: layout::stretch_to(table, data_cols),
                    };
                    let plan = layout::plan_table_at(format, table, at);
                    first_row = plan.last_row + 2;
                    plan
                })
                .collect()
        };
        let last_col = plans.iter().map(|p| p.width).max().unwrap_or(FIRST_COL + 1) - 1;
        let title = format!("{}{year}年政府信息公开工作年度报告汇总表", sheet.name);
        ws.merge_range(0, FIRST_COL, 0, last_col, &title, &styles.title)?;
        ws.set_row_height(0, 30)?;
        let line = format!(
            "{}汇总仅计受理的单位。单位代码：{}；{}格式（{}）。",
            sheet.summary, sheet.code, format.id, format.document
        );
        ws.merge_range(1, FIRST_COL, 1, last_col, &line, &styles.note)?;
        ws.set_column_width(KEY_COL, 2)?;
        ws.set_column_hidden(KEY_COL)?;
        ws.write_string(0, KEY_COL, ROLLUP_MARK)?;
        // Wider than a template's 表四 columns so that 表三's headers fit; the page is
        // scaled to its width anyway.
        let data_width = sheets::data_width(&format.tables).max(12.0);
        sheets::set_column_widths(ws, label_width, last_col, data_width)?;
        let mut breaks = Vec::new();
        for (table, plan) in format.tables.iter().zip(&plans) {
            let note = sheets::unit_note(table);
            let draw = sheets::TableDraw::new(format, table, plan)?;
            sheets::draw_table(
                ws,
                format,
                table,
                plan,
                &draw,
                &note,
                Cells::Plain(sheet.values),
                data_width,
                &styles,
            )?;
            if plan.title_row > 3 {
                breaks.push(plan.title_row);
            }
        }
        let tables_end = plans.last().map_or(2, |p| p.last_row);
        // The printed width in characters: label columns, then data columns.
        let width = sheets::columns_width(label_width, last_col, data_width);
        let last_row = appendix(ws, format, sheet, tables_end + 2, last_col, width, &styles)?;
        breaks.push(tables_end + 2);
        ws.set_page_breaks(&breaks)?;
        ws.set_paper_size(9);
        ws.set_landscape();
        ws.set_print_fit_to_pages(1, 0);
        ws.set_print_center_horizontally(true);
        ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
        ws.set_print_area(0, FIRST_COL, last_row, last_col)?;
    }
    if sheets.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name("汇总")?;
        ws.write_string(0, FIRST_COL, "没有可汇总的单位。")?;
        ws.write_string(0, KEY_COL, ROLLUP_MARK)?;
        ws.set_column_hidden(KEY_COL)?;
    }
    wb.save_to_buffer()
}

/// What goes under the tables, from `first_row` on a page of its own: the format's
/// numeric fields (2021: 信息处理费) with their totals, then the units included, missing
/// and rejected by name, each list in one cell `width` characters wide. Returns the last
/// row written.
fn appendix(
    ws: &mut Worksheet,
    format: &Format,
    sheet: &RollupSheet<'_>,
    first_row: u32,
    last_col: u16,
    width: f64,
    styles: &Styles,
) -> Result<u32, XlsxError> {
    let mut row = first_row;
    let value_col = last_col.saturating_sub(1).max(FIRST_COL + 1);
    if !format.fields.is_empty() {
        ws.merge_range(row, FIRST_COL, row, last_col, "其他事项", &styles.title)?;
        ws.set_row_height(row, 28)?;
        row += 1;
        for field in &format.fields {
            let label = match &field.unit {
                Some(unit) if !field.label.contains(unit.as_str()) => {
                    format!("{}（{unit}）", field.label)
                }
                _ => field.label.clone(),
            };
            ws.merge_range(row, FIRST_COL, row, value_col - 1, &label, &styles.label)?;
            let style = match field.kind {
                crate::format::Kind::Amount => &styles.amount_value,
                _ => &styles.count_value,
            };
            ws.merge_range(row, value_col, row, last_col, "", style)?;
            if let Some(v) = sheet.values.get(&Key::field(&field.code)) {
                ws.write_number_with_format(row, value_col, *v, style)?;
            }
            ws.set_row_height(row, 20)?;
            row += 1;
        }
        row += 1;
    }
    ws.merge_range(row, FIRST_COL, row, last_col, "单位名单", &styles.title)?;
    ws.set_row_height(row, 28)?;
    row += 1;
    let lists = [
        ("已计入汇总的单位", sheet.included),
        ("未报送的单位", sheet.missing),
        ("被退回的单位（未计入）", sheet.rejected),
    ];
    for (heading, names) in lists {
        let heading = format!("{heading}（{} 个）", names.len());
        ws.merge_range(row, FIRST_COL, row, last_col, &heading, &styles.header)?;
        ws.set_row_height(row, 20)?;
        row += 1;
        for text in name_cells(names) {
            ws.merge_range(row, FIRST_COL, row, last_col, &text, &styles.label)?;
            ws.set_row_height(row, sheets::text_height(&text, width).min(409.0))?;
            row += 1;
        }
    }
    Ok(row - 1)
}

/// The most characters of names one cell of the list holds: well within Excel's limit on
/// a cell's text, and few enough that the wrapped cell stays within Excel's tallest row
/// (409 points) at the sheet's width.
const NAMES_PER_CELL: usize = 1_000;

/// A list of unit names as the cells that show it: `、`-separated, as many cells as it
/// takes (a province's 30,000 names do not fit in one: Excel refuses a cell of more than
/// 32,767 characters); `无` when there are none.
fn name_cells(names: &[&str]) -> Vec<String> {
    if names.is_empty() {
        return vec!["无".to_string()];
    }
    let mut cells = vec![String::new()];
    // The characters of the last cell.
    let mut length = 0;
    for name in names {
        let name: String = name.chars().take(NAMES_PER_CELL).collect();
        let n = name.chars().count();
        let cell = cells.last_mut().expect("never empty");
        if length > 0 && length + 1 + n > NAMES_PER_CELL {
            cells.push(name);
            length = n;
        } else {
            if length > 0 {
                cell.push('、');
                length += 1;
            }
            cell.push_str(&name);
            length += n;
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_names_takes_as_many_cells_as_it_needs() {
        assert_eq!(name_cells(&[]), ["无"]);
        let names: Vec<String> = (0..5000).map(|i| format!("第{i:04}村村民委员会")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let cells = name_cells(&names);
        assert!(cells.len() > 1);
        assert!(cells.iter().all(|c| c.chars().count() <= NAMES_PER_CELL));
        assert_eq!(cells.join("、"), names.join("、"));
    }

    #[test]
    fn sheet_names_are_safe_and_unique() {
        let values = BTreeMap::new();
        let sheet = |code, name| RollupSheet {
            code,
            name,
            values: &values,
            summary: "",
            included: &[],
            missing: &[],
            rejected: &[],
        };
        let long = "很长很长的单位名称".repeat(5);
        let sheets = [
            sheet("1", "a/b:c*?[x]\\"),
            sheet("2", &long),
            sheet("3", &long),
            sheet("4", ""),
            sheet("5", "'引号'"),
            sheet("6", "History"),
            sheet("7", "A"),
            sheet("8", "a"),
        ];
        let names = rollup_sheet_names(&sheets);
        assert_eq!(names[0], "a_b_c___x__");
        assert_eq!(names[1].chars().count(), 31);
        assert!(names[2].ends_with("(2)") && names[2].chars().count() == 31);
        assert_eq!(names[3], "4");
        assert_eq!(names[4], "引号");
        assert_eq!(names[5], "汇总History");
        assert_eq!(names[6..], ["A", "a(2)"]);
        // Excel would refuse any of them otherwise: the writer checks.
        let format = &Format::builtin()[0];
        rollup_workbook(format, 2020, &sheets).unwrap();
    }
}
