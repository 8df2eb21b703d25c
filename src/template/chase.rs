//! `催报名单`: who still owes a report, to phone or write to — as a workbook to print
//! (`催报名单.xlsx`) and as a CSV for people (`催报名单.csv`), with the same columns.
//!
//! Every unit that has not reported (未报送), was sent back (退回) or sent another year's
//! report (年度不符), grouped under its parent: the roster's contact columns (联系人,
//! 电话, … whatever the roster has, in its order), what is wrong (the first errors, or
//! the reason) and where its correction workbook is. When nobody is left to chase the
//! files still exist, with their header and one line that says so, so that an old list
//! never outlives the run that made it.
//!
//! The writer takes plain data ([`ChaseList`]); `publish` converts and writes the CSV
//! (formula-guarded like every CSV) from [`ChaseList::csv_header`] and
//! [`ChaseList::csv_rows`], so both files always say the same.

use rust_xlsxwriter::{
    Color, DocProperties, Format as Style, FormatAlign, FormatBorder, Url, Workbook, Worksheet,
    XlsxError,
};

use super::sheets::FONT;
use super::TemplateError;
use crate::output::{GENERATED_PROPERTY, ROLLUP_MARK};

/// One unit to chase.
#[derive(Debug, Clone, Default)]
pub struct ChaseUnit {
    pub code: String,
    pub name: String,
    /// The level as people read it (`乡镇`, `行政村`).
    pub level: String,
    /// The status as people read it (`未报送`, `退回`, `年度不符`).
    pub status: String,
    /// The roster's extra columns for this unit, in [`ChaseList::contact_columns`]' order.
    pub contacts: Vec<String>,
    /// How many errors its file has (a rejected unit), shown with the first of them.
    pub errors: Option<usize>,
    /// The first errors (`表三 依申请公开 E8：…`), or the reason it is listed.
    pub problems: Vec<String>,
    /// Its correction workbook, relative to the output directory (empty when none).
    pub correction: String,
}

/// The units to chase under one parent.
#[derive(Debug, Clone, Default)]
pub struct ChaseGroup {
    /// Empty for the roster's top-level units and for units not on the roster.
    pub parent_code: String,
    /// The parent's name, or what the group is (`无上级单位`).
    pub parent_name: String,
    pub units: Vec<ChaseUnit>,
}

/// The whole list.
#[derive(Debug, Clone, Default)]
pub struct ChaseList {
    pub year: i32,
    /// How the units stand, in the one sentence every output uses.
    pub summary: String,
    /// The roster's extra columns (联系人, 电话, …), in the roster's order.
    pub contact_columns: Vec<String>,
    /// Parents in roster order; units in roster order under each.
    pub groups: Vec<ChaseGroup>,
    /// The line shown when there is nobody to chase.
    pub nobody: String,
}

/// The columns of the CSV before the unit's own (the workbook has group rows instead).
const CSV_PARENT: [&str; 2] = ["上级单位代码", "上级单位"];
/// The unit's columns before the roster's contact columns (单位 is the name: not
/// 单位名称, the label a return's cover is read by — see `details.rs`).
const UNIT: [&str; 4] = ["单位代码", "单位", "层级", "状态"];
/// The columns after them.
const TAIL: [&str; 2] = ["问题", "修改意见工作簿"];

const CIRCLED: [&str; 10] = ["①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩"];

impl ChaseUnit {
    /// What is wrong, the items joined by `sep`: `共 2 个错误：①…；②…`, or the reason.
    fn problem_text(&self, sep: &str) -> String {
        let items: Vec<String> = if self.problems.len() > 1 || self.errors.is_some() {
            self.problems
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}{p}", CIRCLED.get(i).copied().unwrap_or("·")))
                .collect()
        } else {
            self.problems.clone()
        };
        // On lines of their own, the items start on the next line.
        let lead = if sep == "\n" { sep } else { "" };
        match self.errors {
            Some(n) if n > items.len() && !items.is_empty() => {
                format!(
                    "共 {n} 个错误，前 {} 个：{lead}{}",
                    items.len(),
                    items.join(sep)
                )
            }
            Some(n) if !items.is_empty() => format!("共 {n} 个错误：{lead}{}", items.join(sep)),
            _ => items.join(sep),
        }
    }

    fn cells(&self, sep: &str) -> Vec<String> {
        let mut row = vec![
            self.code.clone(),
            self.name.clone(),
            self.level.clone(),
            self.status.clone(),
        ];
        row.extend(self.contacts.iter().cloned());
        row.push(self.problem_text(sep));
        row.push(self.correction.clone());
        row
    }
}

impl ChaseGroup {
    /// `山市镇人民政府（231083102000）：未报送 1 个，退回 1 个`
    fn title(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for u in &self.units {
            match counts.iter_mut().find(|(s, _)| *s == u.status) {
                Some((_, n)) => *n += 1,
                None => counts.push((&u.status, 1)),
            }
        }
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n} 个")).collect();
        let parent = if self.parent_code.is_empty() {
            self.parent_name.clone()
        } else {
            format!("{}（{}）", self.parent_name, self.parent_code)
        };
        format!("{parent}：{}", counts.join("，"))
    }
}

impl ChaseList {
    /// The units listed.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.units.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The CSV's header: the parent, the unit, the roster's contact columns, what is
    /// wrong, the correction workbook.
    pub fn csv_header(&self) -> Vec<String> {
        let mut header: Vec<String> = CSV_PARENT.iter().map(|s| s.to_string()).collect();
        header.extend(self.unit_header());
        header
    }

    fn unit_header(&self) -> Vec<String> {
        let mut header: Vec<String> = UNIT.iter().map(|s| s.to_string()).collect();
        header.extend(self.contact_columns.iter().cloned());
        header.extend(TAIL.iter().map(|s| s.to_string()));
        header
    }

    /// The CSV's rows, unguarded (the writer guards them): one per unit, or the one line
    /// saying nobody is left.
    pub fn csv_rows(&self) -> Vec<Vec<String>> {
        let width = self.csv_header().len();
        if self.is_empty() {
            let mut line = vec![String::new(); width];
            line[0] = self.nobody.clone();
            return vec![line];
        }
        let mut rows = Vec::new();
        for group in &self.groups {
            for unit in &group.units {
                let mut row = vec![group.parent_code.clone(), group.parent_name.clone()];
                row.extend(unit.cells("；"));
                rows.push(row);
            }
        }
        rows
    }
}

/// `催报名单.xlsx`: title, how the units stand, the header, then each parent's row and
/// its units. A4 landscape, one page wide, the header on every page.
pub fn chase_workbook(list: &ChaseList) -> Result<Vec<u8>, TemplateError> {
    build(list).map_err(|source| TemplateError::Xlsx {
        file: format!("{}年度催报名单", list.year),
        source,
    })
}

struct ChaseStyles {
    title: Style,
    note: Style,
    header: Style,
    group: Style,
    text: Style,
    wrap: Style,
    link: Style,
}

impl ChaseStyles {
    fn new() -> ChaseStyles {
        let base = Style::new().set_font_name(FONT).set_font_size(11);
        let boxed = base
            .clone()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        ChaseStyles {
            title: base
                .clone()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center),
            note: base
                .clone()
                .set_font_color(Color::RGB(0x595959))
                .set_text_wrap()
                .set_align(FormatAlign::VerticalCenter),
            header: boxed
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(super::sheets::HEADER_FILL)),
            group: boxed
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(super::sheets::TOTAL_FILL)),
            text: boxed.clone().set_num_format("@"),
            wrap: boxed.clone().set_text_wrap().set_num_format("@"),
            link: boxed
                .set_text_wrap()
                .set_font_color(Color::RGB(0x0563C1))
                .set_underline(rust_xlsxwriter::FormatUnderline::Single),
        }
    }
}

/// Column widths: code, name, level, status, each contact column, problems, correction.
fn widths(list: &ChaseList) -> Vec<f64> {
    let mut w = vec![15.0, 24.0, 8.0, 9.0];
    for (i, name) in list.contact_columns.iter().enumerate() {
        let longest = list
            .groups
            .iter()
            .flat_map(|g| &g.units)
            .filter_map(|u| u.contacts.get(i))
            .chain(std::iter::once(name))
            .map(|s| display_width(s))
            .max()
            .unwrap_or(8);
        w.push((longest as f64 + 2.0).clamp(8.0, 30.0));
    }
    let link = list
        .groups
        .iter()
        .flat_map(|g| &g.units)
        .map(|u| display_width(&u.correction))
        .max()
        .unwrap_or(0);
    w.extend([56.0, (link as f64 + 2.0).clamp(16.0, 60.0)]);
    w
}

/// Columns a text takes in a spreadsheet: two for a Chinese character, one otherwise.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn build(list: &ChaseList) -> Result<Vec<u8>, XlsxError> {
    let s = ChaseStyles::new();
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_creation_datetime(&super::sheets::creation_stamp(list.year))
        .set_title(format!("{}年度政府信息公开工作年度报告催报名单", list.year))
        .set_comment("由 nianbao 汇总生成")
        // Not a return: `ingest` skips it if it turns up among the inputs.
        .set_custom_property(GENERATED_PROPERTY, ROLLUP_MARK);
    wb.set_properties(&props);
    let ws = wb.add_worksheet();
    ws.set_name("催报名单")?;
    let header = list.unit_header();
    let last_col = header.len() as u16 - 1;
    let widths = widths(list);
    for (col, width) in widths.iter().enumerate() {
        ws.set_column_width(col as u16, *width)?;
    }
    let title = format!("{}年度政府信息公开工作年度报告催报名单", list.year);
    ws.merge_range(0, 0, 0, last_col, &title, &s.title)?;
    ws.set_row_height(0, 30)?;
    let listed = if list.is_empty() {
        list.nobody.clone()
    } else {
        format!("以下 {} 个单位需要催报，按上级单位分组。", list.len())
    };
    let note = format!("{}{listed}", list.summary);
    ws.merge_range(1, 0, 1, last_col, &note, &s.note)?;
    ws.set_row_height(1, 32)?;
    for (col, name) in header.iter().enumerate() {
        ws.write_string_with_format(2, col as u16, name, &s.header)?;
    }
    ws.set_row_height(2, 22)?;
    let mut row = 3;
    if list.is_empty() {
        ws.merge_range(row, 0, row, last_col, &list.nobody, &s.group)?;
        ws.set_row_height(row, 24)?;
    }
    for group in &list.groups {
        ws.merge_range(row, 0, row, last_col, &group.title(), &s.group)?;
        ws.set_row_height(row, 22)?;
        row += 1;
        for unit in &group.units {
            write_unit(ws, row, unit, &s, &widths)?;
            row += 1;
        }
    }
    ws.set_freeze_panes(3, 0)?;
    ws.set_paper_size(9);
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    ws.set_repeat_rows(2, 2)?;
    ws.set_footer("&C第 &P 页，共 &N 页");
    wb.save_to_buffer()
}

fn write_unit(
    ws: &mut Worksheet,
    row: u32,
    unit: &ChaseUnit,
    s: &ChaseStyles,
    widths: &[f64],
) -> Result<(), XlsxError> {
    let cells = unit.cells("\n");
    let last = cells.len() - 1;
    for (col, text) in cells.iter().enumerate() {
        let col16 = col as u16;
        if col == last && !text.is_empty() {
            let url = Url::new(format!("file:///{text}")).set_text(text);
            ws.write_url_with_format(row, col16, url, &s.link)?;
        } else if col >= last - 1 {
            ws.write_string_with_format(row, col16, text, &s.wrap)?;
        } else {
            ws.write_string_with_format(row, col16, text, &s.text)?;
        }
    }
    // Tall enough for the wrapped problems and link (about 15 points a line).
    let lines = cells
        .iter()
        .zip(widths)
        .map(|(text, width)| {
            text.split('\n')
                .map(|l| display_width(l).div_ceil((*width as usize).max(1)).max(1))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(1);
    ws.set_row_height(row, (lines.max(1) as f64) * 15.0 + 4.0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(status: &str) -> ChaseUnit {
        ChaseUnit {
            code: "001".into(),
            name: "村".into(),
            level: "行政村".into(),
            status: status.into(),
            contacts: vec!["张三".into(), "=1+1".into()],
            ..Default::default()
        }
    }

    fn list(groups: Vec<ChaseGroup>) -> ChaseList {
        ChaseList {
            year: 2024,
            summary: "应报 2 个。".into(),
            contact_columns: vec!["联系人".into(), "电话".into()],
            groups,
            nobody: "名册中的单位都已报送并受理，无需催报。".into(),
        }
    }

    #[test]
    fn problems_read_as_a_numbered_list() {
        let mut u = unit("退回");
        u.errors = Some(5);
        u.problems = vec!["甲".into(), "乙".into(), "丙".into()];
        assert_eq!(u.problem_text("；"), "共 5 个错误，前 3 个：①甲；②乙；③丙");
        u.errors = Some(1);
        u.problems = vec!["甲".into()];
        assert_eq!(u.problem_text("\n"), "共 1 个错误：\n①甲");
        let mut u = unit("年度不符");
        u.problems = vec!["这是 2023 年度的报告".into()];
        assert_eq!(u.problem_text("；"), "这是 2023 年度的报告");
        assert_eq!(unit("未报送").problem_text("；"), "");
    }

    #[test]
    fn rows_and_header_match_and_an_empty_list_says_so() {
        let mut rejected = unit("退回");
        rejected.correction = "corrections/001_村.xlsx".into();
        let full = list(vec![ChaseGroup {
            parent_code: "100".into(),
            parent_name: "镇".into(),
            units: vec![unit("未报送"), rejected],
        }]);
        assert_eq!(
            full.csv_header(),
            [
                "上级单位代码",
                "上级单位",
                "单位代码",
                "单位",
                "层级",
                "状态",
                "联系人",
                "电话",
                "问题",
                "修改意见工作簿"
            ]
        );
        let rows = full.csv_rows();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.len() == full.csv_header().len()));
        assert_eq!(rows[1][9], "corrections/001_村.xlsx");
        assert_eq!(full.groups[0].title(), "镇（100）：未报送 1 个，退回 1 个");
        chase_workbook(&full).unwrap();

        let empty = list(Vec::new());
        assert_eq!(empty.csv_rows().len(), 1);
        assert_eq!(empty.csv_rows()[0][0], empty.nobody);
        assert_eq!(
            chase_workbook(&empty).unwrap(),
            chase_workbook(&empty).unwrap()
        );
    }
}
