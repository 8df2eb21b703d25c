//! `汇总明细.xlsx`: the run as one wide table for people who filter and pivot — one row
//! per unit, one column per value of the format — where values.csv is long and its codes
//! turn into numbers in Excel.
//!
//! The first columns say who the unit is and how it stands (单位代码 as text, so Excel
//! keeps every digit; 单位, its name; 上级单位 and 层级 as people say them; 状态 as the run's label;
//! 错误/警告 counts); then every key of the format, tables in order, row by row, column by
//! column, then the numeric fields. Above them three header rows carry the official
//! labels: the table, the row (with the group it is under), the column; a label over
//! several columns is one merged cell. The third header row names every column (where
//! the filter buttons are), the header and the first two columns stay in place when
//! scrolling, and the data is the defined name [`DETAILS_NAME`] for a pivot table.
//!
//! Only accepted units have values: a rejected unit's figures are not yet right, and are
//! in no total. Its row is there, greyed, with its status and counts and empty value
//! cells, like a missing unit's. The writer takes plain data ([`DetailRow`]), one row at
//! a time; `publish` converts. Deterministic: the same rows give the same bytes.

use rust_xlsxwriter::{
    Color, DocProperties, Format as Style, FormatAlign, FormatBorder, Workbook, Worksheet,
    XlsxError,
};

use super::sheets::FONT;
use super::TemplateError;
use crate::format::{Format, Key, Kind};
use crate::output::{GENERATED_PROPERTY, ROLLUP_MARK};

/// The sheet's name.
pub const DETAILS_SHEET: &str = "汇总明细";

/// The defined name over the last header row and the data, for a pivot table's source.
pub const DETAILS_NAME: &str = "明细数据";

/// The columns before the values, as the last header row names them. The name's
/// column is 单位, not 单位名称: a cell 单位名称 is what a return's cover is read by,
/// and this workbook, moved among the returns, must not be taken for one.
pub const DETAILS_FIXED: [&str; 7] = [
    "单位代码",
    "单位",
    "上级单位",
    "层级",
    "状态",
    "错误",
    "警告",
];

/// How many header rows there are; data starts in the row after them.
pub const DETAILS_HEADER_ROWS: u32 = 3;

const FIXED_WIDTHS: [f64; 7] = [15.0, 24.0, 18.0, 8.0, 13.0, 6.0, 6.0];
const VALUE_WIDTH: f64 = 10.0;
const GREY_TEXT: u32 = 0x7F7F7F;
const HEADER_FILL: u32 = super::sheets::HEADER_FILL;

/// One unit's row: who it is, how it stands, and its values when they count.
#[derive(Debug, Clone, Copy)]
pub struct DetailRow<'a> {
    pub code: &'a str,
    pub name: &'a str,
    /// The parent unit's name (empty for a root or a unit not on the roster).
    pub parent: &'a str,
    /// The level as people read it (`乡镇`, `行政村`).
    pub level: &'a str,
    /// The status as people read it (`受理`, `退回`, `未报送`).
    pub status: &'a str,
    /// Whether the unit is counted (accepted): only then are its values shown, and its
    /// row is not greyed.
    pub counted: bool,
    /// Finding counts of its file (none when no file was read).
    pub errors: Option<usize>,
    pub warnings: Option<usize>,
    /// Its values, in the order of [`DetailsWorkbook::keys`] (`None`: no value).
    pub values: &'a [Option<f64>],
}

/// One value column: its key, how its numbers are shown, its three header labels.
struct ValueColumn {
    key: Key,
    kind: Kind,
    /// Table; row (with its group), or the column's groups when rows have no labels;
    /// column. An empty middle label lets the table's label take both rows.
    labels: [String; 3],
}

/// Every value of the format as a column, in the order of values.csv: tables in order,
/// block by block, row by row, column by column; then the numeric fields.
fn value_columns(format: &Format) -> Vec<ValueColumn> {
    let mut out: Vec<ValueColumn> = format
        .tables
        .iter()
        .flat_map(|table| table.cells())
        .map(|cell| {
            let mut row: Vec<&str> = Vec::new();
            row.extend(cell.block.title.as_deref());
            // The group right above a row says which 1., 2., … it is; the outer ones
            // (三、本年度办理结果) add nothing the label does not.
            row.extend(cell.row.groups.last().map(String::as_str));
            if !cell.row.label.is_empty() {
                row.push(&cell.row.label);
            }
            let middle = if cell.row.label.is_empty() && cell.row.groups.is_empty() {
                // A table without row labels (表四): its column groups go in the middle.
                let mut path: Vec<&str> = row;
                path.extend(cell.col.groups.iter().map(String::as_str));
                path.join("/")
            } else {
                row.join("/")
            };
            ValueColumn {
                key: cell.key.clone(),
                kind: cell.col.kind,
                labels: [cell.table.heading(), middle, cell.col.label.clone()],
            }
        })
        .collect();
    out.extend(format.fields.iter().map(|field| {
        let section = format
            .sections
            .iter()
            .find(|s| s.code == field.section)
            .map(|s| s.heading())
            .unwrap_or_default();
        ValueColumn {
            key: Key::field(&field.code),
            kind: field.kind,
            labels: [section, String::new(), field.label.clone()],
        }
    }));
    out
}

struct DetailStyles {
    header: Style,
    /// A table's title over its columns: at its left, where the table starts (centred,
    /// 表三's title would be 90 columns to the right of its first).
    table: Style,
    code: Style,
    text: Style,
    count: Style,
    amount: Style,
    grey_code: Style,
    grey_text: Style,
    grey_count: Style,
}

impl DetailStyles {
    fn new() -> DetailStyles {
        let base = Style::new()
            .set_font_name(FONT)
            .set_font_size(10)
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xBFBFBF))
            .set_align(FormatAlign::VerticalCenter);
        let grey = |s: &Style| s.clone().set_font_color(Color::RGB(GREY_TEXT));
        let code = base.clone().set_num_format("@");
        let count = base.clone().set_num_format("0");
        let header = base
            .clone()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_border_color(Color::RGB(0x808080))
            .set_background_color(Color::RGB(HEADER_FILL));
        DetailStyles {
            table: header.clone().set_align(FormatAlign::Left).set_indent(1),
            header,
            grey_code: grey(&code),
            grey_text: grey(&base),
            grey_count: grey(&count),
            code,
            text: base.clone(),
            count,
            amount: base.set_num_format("0.00"),
        }
    }
}

/// `汇总明细.xlsx`, written a row at a time ([`DetailsWorkbook::row`]) in the order the
/// rows are given. The sheet is in rust_xlsxwriter's constant-memory mode: each row goes
/// to a temporary file as soon as the next begins, so a province's 100,000 rows of ~170
/// values cost no more memory than one (held whole, a row cost ~31 KB).
pub struct DetailsWorkbook {
    year: i32,
    notes: Vec<String>,
    columns: Vec<ValueColumn>,
    styles: DetailStyles,
    workbook: Workbook,
    next_row: u32,
}

impl DetailsWorkbook {
    /// The sheet with its header; `notes` are the lines of the second sheet, 说明 (how
    /// the units stand, what the values are). The rows wait in an unnamed temporary
    /// file in `scratch` (the output directory: nothing is written outside it), which
    /// the system removes when it is closed, even if the run is killed.
    pub fn new(
        format: &Format,
        year: i32,
        notes: Vec<String>,
        scratch: &std::path::Path,
    ) -> Result<Self, TemplateError> {
        let columns = value_columns(format);
        let styles = DetailStyles::new();
        let mut workbook = Workbook::new();
        workbook.set_tempdir(scratch).map_err(|e| error(year, e))?;
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(|e| error(year, e))?;
        header(sheet, &columns, &styles).map_err(|e| error(year, e))?;
        Ok(DetailsWorkbook {
            year,
            notes,
            columns,
            styles,
            workbook,
            next_row: DETAILS_HEADER_ROWS,
        })
    }

    /// The keys of the value columns, in order: what [`DetailRow::values`] follows
    /// (the order of values.csv).
    pub fn keys(&self) -> Vec<Key> {
        self.columns.iter().map(|c| c.key.clone()).collect()
    }

    /// The next unit's row.
    pub fn row(&mut self, unit: &DetailRow<'_>) -> Result<(), TemplateError> {
        let at = self.next_row;
        self.write_row(at, unit).map_err(|e| error(self.year, e))?;
        self.next_row += 1;
        Ok(())
    }

    fn write_row(&mut self, at: u32, unit: &DetailRow<'_>) -> Result<(), XlsxError> {
        let s = &self.styles;
        let ws = self.workbook.worksheet_from_index(0)?;
        let (code, text, count) = if unit.counted {
            (&s.code, &s.text, &s.count)
        } else {
            (&s.grey_code, &s.grey_text, &s.grey_count)
        };
        ws.write_string_with_format(at, 0, unit.code, code)?;
        for (col, value) in [
            (1, unit.name),
            (2, unit.parent),
            (3, unit.level),
            (4, unit.status),
        ] {
            ws.write_string_with_format(at, col, value, text)?;
        }
        for (col, n) in [(5, unit.errors), (6, unit.warnings)] {
            match n {
                Some(n) => ws.write_number_with_format(at, col, n as f64, count)?,
                None => ws.write_blank(at, col, text)?,
            };
        }
        let first = DETAILS_FIXED.len() as u16;
        for (i, column) in self.columns.iter().enumerate() {
            let col = first + i as u16;
            let value = unit.values.get(i).copied().flatten();
            match value.filter(|_| unit.counted) {
                Some(v) => {
                    let style = match column.kind {
                        Kind::Amount => &s.amount,
                        Kind::Count | Kind::Signed => &s.count,
                    };
                    ws.write_number_with_format(at, col, v, style)?
                }
                None => ws.write_blank(at, col, text)?,
            };
        }
        Ok(())
    }

    /// The workbook written into `out` (a file: at 100,000 units it is 56 MB, which
    /// a buffer would hold twice over while it grows).
    pub fn finish_to<W: std::io::Write + std::io::Seek + Send>(
        self,
        out: W,
    ) -> Result<(), TemplateError> {
        let year = self.year;
        self.build(out).map_err(|e| error(year, e))
    }

    fn build<W: std::io::Write + std::io::Seek + Send>(self, out: W) -> Result<(), XlsxError> {
        let last_col = (DETAILS_FIXED.len() + self.columns.len()) as u16 - 1;
        let last_row = self.next_row.max(DETAILS_HEADER_ROWS + 1) - 1;
        let mut wb = self.workbook;
        let ws = wb.worksheet_from_index(0)?;
        ws.set_name(DETAILS_SHEET)?;
        ws.autofilter(DETAILS_HEADER_ROWS - 1, 0, last_row, last_col)?;
        ws.set_freeze_panes(DETAILS_HEADER_ROWS, 2)?;
        // Printed, it runs over many pages: each repeats the header and the unit.
        ws.set_paper_size(9);
        ws.set_landscape();
        ws.set_margins(0.3, 0.3, 0.5, 0.5, 0.2, 0.2);
        ws.set_repeat_rows(0, DETAILS_HEADER_ROWS - 1)?;
        ws.set_repeat_columns(0, 1)?;
        ws.set_print_scale(70);
        // `&C` then the text: a font size code (`&10`) would swallow the year's digits.
        ws.set_header(format!(
            "&C{}年度政府信息公开工作年度报告汇总明细",
            self.year
        ));
        ws.set_footer("&C第 &P 页，共 &N 页");
        let props = DocProperties::new()
            .set_creation_datetime(&super::sheets::creation_stamp(self.year))
            .set_title(format!("{}年度政府信息公开工作年度报告汇总明细", self.year))
            .set_comment("由 nianbao 汇总生成")
            // Not a return: `ingest` skips it if it turns up among the inputs.
            .set_custom_property(GENERATED_PROPERTY, ROLLUP_MARK);
        wb.set_properties(&props);
        let range = format!(
            "='{DETAILS_SHEET}'!$A${}:${}${}",
            DETAILS_HEADER_ROWS,
            crate::cell::CellRef::col_name(last_col),
            last_row + 1
        );
        wb.define_name(DETAILS_NAME, &range)?;
        let notes = wb.add_worksheet();
        notes.set_name("说明")?;
        notes.set_column_width(0, 90)?;
        notes.set_paper_size(9);
        notes.set_print_fit_to_pages(1, 0);
        let wrap = Style::new()
            .set_font_name(FONT)
            .set_font_size(11)
            .set_text_wrap()
            .set_align(FormatAlign::Top);
        for (i, line) in self.notes.iter().enumerate() {
            notes.write_string_with_format(i as u32, 0, line, &wrap)?;
        }
        wb.save_to_writer(out)
    }
}

fn error(year: i32, source: XlsxError) -> TemplateError {
    TemplateError::Xlsx {
        file: format!("{year}年度汇总明细"),
        source,
    }
}

/// A header label: its rows (first, last), its value columns (first, last) and its text.
type HeaderCell<'a> = ((u32, u32), (u16, u16), &'a str);

/// The three header rows: over the fixed columns one block, their names in the last
/// row; over the values the table, the row, the column, merged where they repeat.
fn header(ws: &mut Worksheet, columns: &[ValueColumn], s: &DetailStyles) -> Result<(), XlsxError> {
    let last = DETAILS_HEADER_ROWS - 1;
    let fixed = DETAILS_FIXED.len() as u16;
    ws.merge_range(0, 0, last - 1, fixed - 1, "单位及报送情况", &s.header)?;
    for (col, width) in FIXED_WIDTHS.into_iter().enumerate() {
        ws.set_column_width(col as u16, width)?;
    }
    ws.set_column_range_width(fixed, fixed + columns.len() as u16, VALUE_WIDTH)?;
    ws.set_row_height(0, 20)?;
    ws.set_row_height(1, 42)?;
    ws.set_row_height(2, 42)?;
    // A run of equal labels in one header row (and the same labels above it) is one cell.
    let runs = |level: usize| {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for i in 0..columns.len() {
            let same = |a: &ValueColumn, b: &ValueColumn| a.labels[..=level] == b.labels[..=level];
            match out.last_mut() {
                Some((_, end)) if same(&columns[*end as usize], &columns[i]) => *end = i as u16,
                _ => out.push((i as u16, i as u16)),
            }
        }
        out
    };
    let put = |ws: &mut Worksheet, rows: (u32, u32), cols: (u16, u16), text: &str| {
        let (c0, c1) = (fixed + cols.0, fixed + cols.1);
        let style = if rows.0 == 0 && c1 > c0 + 2 {
            &s.table
        } else {
            &s.header
        };
        if rows.0 == rows.1 && c0 == c1 {
            ws.write_string_with_format(rows.0, c0, text, style)
                .map(|_| ())
        } else {
            ws.merge_range(rows.0, c0, rows.1, c1, text, style)
                .map(|_| ())
        }
    };
    // Constant-memory mode writes rows in order: gather the cells, then write row by row.
    // Row 1: the table; down over row 2 too where the columns have no middle label.
    let mut cells: Vec<HeaderCell> = Vec::new();
    for (a, b) in runs(0) {
        let head = &columns[a as usize];
        if columns[a as usize..=b as usize]
            .iter()
            .all(|c| c.labels[1].is_empty())
        {
            cells.push(((0, 1), (a, b), &head.labels[0]));
        } else {
            cells.push(((0, 0), (a, b), &head.labels[0]));
            for (c, d) in runs(1).into_iter().filter(|(c, _)| (a..=b).contains(c)) {
                cells.push(((1, 1), (c, d), &columns[c as usize].labels[1]));
            }
        }
    }
    for (i, column) in columns.iter().enumerate() {
        cells.push(((last, last), (i as u16, i as u16), &column.labels[2]));
    }
    cells.sort_by_key(|(rows, cols, _)| (rows.0, cols.0));
    for (rows, cols, text) in cells {
        if rows.0 == last && cols.0 == 0 {
            for (col, name) in DETAILS_FIXED.iter().enumerate() {
                ws.write_string_with_format(last, col as u16, *name, &s.header)?;
            }
        }
        put(ws, rows, cols, text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_a_column_with_distinct_labels() {
        for format in Format::builtin() {
            let columns = value_columns(&format);
            let cells = format.tables.iter().flat_map(|t| t.cells()).count();
            assert_eq!(columns.len(), cells + format.fields.len(), "{}", format.id);
            let mut seen = std::collections::BTreeSet::new();
            for c in &columns {
                assert!(!c.labels[0].is_empty() && !c.labels[2].is_empty());
                assert!(seen.insert(c.labels.clone()), "{:?} twice", c.labels);
            }
        }
    }

    #[test]
    fn the_workbook_is_the_same_bytes_every_time() {
        let format = &Format::builtin()[1];
        let make = || {
            let scratch = std::env::temp_dir();
            let mut wb = DetailsWorkbook::new(format, 2024, vec!["说明".into()], &scratch).unwrap();
            let values: Vec<Option<f64>> = wb
                .keys()
                .iter()
                .map(|k| (k == &Key::cell("t3", "new", "natural")).then_some(3.0))
                .collect();
            for (code, counted) in [("001", true), ("002", false)] {
                wb.row(&DetailRow {
                    code,
                    name: "单位",
                    parent: "",
                    level: "乡镇",
                    status: if counted { "受理" } else { "退回" },
                    counted,
                    errors: Some(0),
                    warnings: None,
                    values: &values,
                })
                .unwrap();
            }
            let mut out = std::io::Cursor::new(Vec::new());
            wb.finish_to(&mut out).unwrap();
            out.into_inner()
        };
        assert_eq!(make(), make());
    }
}
