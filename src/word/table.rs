//! A table of the report as WordprocessingML draws it, from the table's grid
//! ([`crate::grid`], the same grid the HTML report and the xlsx writer draw): column
//! widths in twips, and every row of the table with one cell per run of grid columns.
//!
//! Word has no `rowspan`: a cell merged down several rows appears in each of them, the
//! first marked `vMerge restart`, the others `vMerge` (continue) and empty. So where HTML
//! lists a cell only in the row it starts on, this lists it in every row it covers; the
//! spans themselves come from the grid unchanged. Merges across columns are `gridSpan`.
//!
//! The table is written as XML here rather than by a template: a report's tables have
//! some 400 cells, and drawing each through template logic cost more CPU than reading
//! the unit's workbook (about 0.6 ms a unit, measured); written here it is a few
//! microseconds. What a user may want to restyle stays in the templates: fonts, sizes,
//! bold and alignment of table text are the paragraph styles `TableHead`, `TableLabel`
//! and `TableText`, borders and cell margins the table style `ReportTable`
//! (`styles.docx.xml.j2`). Only the shading of header cells is fixed here.
//!
//! The numbers are the report's, through the same number → text rule ([`number_text`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use super::xml::escape_into;

use crate::format::{Block, Format, Key, Table};
use crate::grid::{BlockGrid, GridCell, TableGrid};
use crate::model::number_text;
use crate::render::{slot_marker, slot_numbers, Skeleton};

/// Twips (1/20 point) in a millimetre, rounded down where widths are summed.
const TWIPS_PER_MM: f64 = 56.692_913;

/// The size of table text in half-points (9 pt, 小五号), and the left and right margin
/// inside a table cell in twips: the styles template uses both (through
/// [`super::Sizes`]), and the widths and heights below are computed from them.
pub(super) const TABLE_FONT_HALF_POINTS: u32 = 18;
pub(super) const CELL_MARGIN: u32 = 40;
/// One character of table text, in twips (an em: 20 twips a point).
const EM: u32 = TABLE_FONT_HALF_POINTS * 10;

/// The width of a label column holding vertical group labels: one character and air.
const GROUP_COL: u32 = EM + 2 * CELL_MARGIN + 40;
/// The width a data column would like: four characters a line (and a little slack, or
/// LibreOffice wraps the fourth), so that the applicant headers of 表三 read 商业企业,
/// 科研机构, 社会公益/组织 rather than 商业企/业.
const DATA_COL: u32 = 4 * EM + 2 * CELL_MARGIN + 20;
/// The bounds of the row-label column: wide enough for most labels on two lines, never
/// so wide that the numbers are squeezed.
const LABEL_COL_MIN: u32 = (40.0 * TWIPS_PER_MM) as u32;
const LABEL_COL_MAX: u32 = (60.0 * TWIPS_PER_MM) as u32;

/// The least height of a body row, in twips (5.5 mm).
const ROW_MIN: u32 = 312;

/// The fill of header cells (light grey, as the HTML report) and of a block's title row.
const HEADER_FILL: &str = "F2F2F2";
const TITLE_FILL: &str = "E7E6E6";

/// One table as Word draws it: every block of the report's table in one Word table
/// sharing one grid, as the official table does.
#[derive(Debug)]
pub(super) struct WordTable {
    /// The width of each grid column in twips (`w:gridCol`); they add up to `width`.
    grid: Vec<u32>,
    width: u32,
    /// The left and right margin inside each cell, in twips ([`CELL_MARGIN`]).
    margin: u32,
    rows: Vec<WordRow>,
}

#[derive(Debug)]
struct WordRow {
    /// A header row repeated at the top of every page the table runs onto
    /// (`w:tblHeader`): the header rows of a first block without a title.
    repeat: bool,
    /// The least height in twips (`w:trHeight` at least), 0 for none.
    height: u32,
    /// Kept on the page of the next row (`w:keepNext`): every row of a block but its
    /// last, so that a block never breaks across pages but a table of several blocks
    /// (表二) may break between them, each block starting with its own title and header.
    keep: bool,
    cells: Vec<WordCell>,
}

#[derive(Debug)]
struct WordCell {
    /// Empty in the continuation of a vertical merge.
    text: String,
    /// How many grid columns it spans (`w:gridSpan`).
    span: usize,
    /// Its width in twips (`w:tcW`): the sum of the grid columns it spans.
    width: u32,
    /// `restart` on the first row of a vertical merge, `continue` on the others, empty
    /// for a cell of one row.
    merge: &'static str,
    /// Set in vertical writing (`w:textDirection`): the row groups of table 三.
    vertical: bool,
    /// What it is, for its look: `title` (a block's title row), `corner`, `group`, `col`,
    /// `vgroup`, `label`, `num`, `total`, `pad`.
    class: &'static str,
}

/// A cell placed on the block's grid, before it is cut into Word rows.
struct Placed {
    row: usize,
    col: usize,
    rows: usize,
    cols: usize,
    text: String,
    vertical: bool,
    class: &'static str,
}

impl Placed {
    fn of(cell: GridCell) -> Placed {
        let class = cell.role.class();
        Placed {
            row: cell.row,
            col: cell.col,
            rows: cell.rows,
            cols: cell.cols,
            text: cell.text,
            vertical: cell.vertical,
            class,
        }
    }
}

/// Every table of the format as Word draws it, by table code, `width` twips wide, as
/// the XML of a `w:tbl` element: from each table's skeleton in `skeletons` (drawn on
/// first use), the unit's numbers filled in.
pub(super) fn word_tables(
    format: &Format,
    values: &BTreeMap<Key, f64>,
    width: u32,
    skeletons: &Skeletons,
) -> BTreeMap<String, String> {
    format
        .tables
        .iter()
        .map(|t| {
            let drawn = skeletons.get(format, t, width);
            let numbers = slot_numbers(&drawn.slots, values);
            let xml = drawn
                .xml
                .as_ref()
                .and_then(|s| s.fill_text(&numbers))
                .unwrap_or_else(|| {
                    let mut number =
                        |key: Key| number_text(values.get(&key).copied().unwrap_or(0.0));
                    word_table(format, t, &mut number, width).xml()
                });
            (t.code.clone(), xml)
        })
        .collect()
}

/// Each table's XML drawn once per format, table and width with slot markers for the
/// numbers and cut at them ([`Skeleton`]): the table's structure is the same for every
/// unit of a format. Keyed by the addresses of format and table (they live as long as
/// the run), with the format id and table code checked, as the HTML's layouts are.
#[derive(Debug, Default)]
pub(super) struct Skeletons(Mutex<SkeletonMap>);

type SkeletonMap = HashMap<(usize, usize, u32), (String, String, Arc<Drawn>)>;

/// A table's XML cut at its numbers, and the value each slot shows.
#[derive(Debug)]
pub(super) struct Drawn {
    slots: Vec<Key>,
    /// None if the cut failed (then every unit's table is drawn whole).
    xml: Option<Skeleton>,
}

impl Skeletons {
    fn get(&self, format: &Format, table: &Table, width: u32) -> Arc<Drawn> {
        let key = (
            std::ptr::from_ref(format) as usize,
            std::ptr::from_ref(table) as usize,
            width,
        );
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((id, code, drawn)) = map.get(&key) {
            if *id == format.id && *code == table.code {
                return drawn.clone();
            }
        }
        let mut slots = Vec::new();
        let mut marker = |key: Key| {
            slots.push(key);
            slot_marker(slots.len() - 1)
        };
        let xml = word_table(format, table, &mut marker, width).xml();
        let xml = Skeleton::cut(&xml, slots.len());
        let drawn = Arc::new(Drawn { slots, xml });
        map.insert(key, (format.id.clone(), table.code.clone(), drawn.clone()));
        drawn
    }
}

impl WordTable {
    /// The table as a `w:tbl` element: fixed layout on its grid, every row kept from
    /// splitting across pages, header rows repeated, merged cells as `gridSpan` and
    /// `vMerge`, vertical labels as `textDirection tbRlV`: top to bottom with Chinese
    /// characters upright, as Word writes its own vertical cells in Chinese and Japanese
    /// forms (the standard's `rlV`); plain `tbRl` is a rotation, which Word applies to
    /// Chinese characters too. LibreOffice draws both upright.
    fn xml(&self) -> String {
        let mut out = String::with_capacity(self.rows.len() * 1200);
        // Writing to a String cannot fail.
        let _ = self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        write!(
            out,
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="ReportTable"/><w:tblW w:w="{}" w:type="dxa"/><w:jc w:val="center"/><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="{m}" w:type="dxa"/><w:right w:w="{m}" w:type="dxa"/></w:tblCellMar><w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr><w:tblGrid>"#,
            self.width,
            m = self.margin
        )?;
        for w in &self.grid {
            write!(out, r#"<w:gridCol w:w="{w}"/>"#)?;
        }
        out.push_str("</w:tblGrid>\n");
        for row in &self.rows {
            out.push_str("<w:tr><w:trPr><w:cantSplit/>");
            if row.height > 0 {
                write!(
                    out,
                    r#"<w:trHeight w:val="{}" w:hRule="atLeast"/>"#,
                    row.height
                )?;
            }
            if row.repeat {
                out.push_str("<w:tblHeader/>");
            }
            out.push_str(r#"<w:jc w:val="center"/></w:trPr>"#);
            for cell in &row.cells {
                cell.write(out, row.keep)?;
            }
            out.push_str("</w:tr>\n");
        }
        out.push_str("</w:tbl>");
        Ok(())
    }
}

impl WordCell {
    /// The cell's paragraph style: header text, a row's label, or a number (centred).
    fn style(&self) -> &'static str {
        match self.class {
            "title" | "group" | "col" => "TableHead",
            "corner" | "label" => "TableLabel",
            _ => "TableText",
        }
    }

    fn fill(&self) -> Option<&'static str> {
        match self.class {
            "title" => Some(TITLE_FILL),
            "corner" | "group" | "col" => Some(HEADER_FILL),
            _ => None,
        }
    }

    /// `w:tc` with its properties in the order the schema requires (width, span, merge,
    /// shading, direction, alignment), and one paragraph.
    fn write(&self, out: &mut String, keep: bool) -> std::fmt::Result {
        write!(
            out,
            r#"<w:tc><w:tcPr><w:tcW w:w="{}" w:type="dxa"/>"#,
            self.width
        )?;
        if self.span > 1 {
            write!(out, r#"<w:gridSpan w:val="{}"/>"#, self.span)?;
        }
        match self.merge {
            "restart" => out.push_str(r#"<w:vMerge w:val="restart"/>"#),
            "continue" => out.push_str("<w:vMerge/>"),
            _ => {}
        }
        if let Some(fill) = self.fill() {
            write!(
                out,
                r#"<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>"#
            )?;
        }
        if self.vertical {
            out.push_str(r#"<w:textDirection w:val="tbRlV"/>"#);
        }
        write!(
            out,
            r#"<w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr><w:pStyle w:val="{}"/>"#,
            self.style()
        )?;
        if keep {
            out.push_str("<w:keepNext/>");
        }
        if self.class == "title" {
            out.push_str(r#"<w:jc w:val="left"/>"#);
        }
        out.push_str("</w:pPr>");
        if !self.text.is_empty() {
            out.push_str(r#"<w:r><w:t xml:space="preserve">"#);
            escape_into(out, &self.text)?;
            out.push_str("</w:t></w:r>");
        }
        out.push_str("</w:p></w:tc>");
        Ok(())
    }
}

/// The table, each number cell's text given by `number` (called in row order).
fn word_table(
    format: &Format,
    table: &Table,
    number: &mut dyn FnMut(Key) -> String,
    width: u32,
) -> WordTable {
    let grid = TableGrid::of(table);
    let widths = column_widths(grid.width, grid.label_cols, width);
    let mut rows = Vec::new();
    for (i, (block, block_grid)) in table.blocks.iter().zip(grid.blocks).enumerate() {
        if let Some(title) = &block.title {
            rows.push(title_row(title, &widths));
        }
        let repeat = i == 0 && block.title.is_none();
        rows.extend(block_rows(
            format, table, block, block_grid, number, &widths, repeat,
        ));
    }
    WordTable {
        width: widths.iter().sum(),
        grid: widths,
        margin: CELL_MARGIN,
        rows,
    }
}

/// The widths of the grid columns, adding up to `width`: narrow columns for vertical
/// group labels, a row-label column between [`LABEL_COL_MIN`] and [`LABEL_COL_MAX`], the
/// data columns sharing the rest (all of it when there are no labels, as in table 四).
fn column_widths(columns: usize, label_cols: usize, width: u32) -> Vec<u32> {
    let data = columns.saturating_sub(label_cols) as u32;
    if columns == 0 {
        return Vec::new();
    }
    let mut widths = Vec::with_capacity(columns);
    if label_cols == 0 || data == 0 {
        let each = width / columns as u32;
        widths.resize(columns, each);
    } else {
        let groups = (label_cols - 1) as u32 * GROUP_COL;
        let wanted = width.saturating_sub(groups + data * DATA_COL);
        let label = wanted.clamp(LABEL_COL_MIN, LABEL_COL_MAX);
        let each = width.saturating_sub(groups + label) / data;
        widths.resize(label_cols - 1, GROUP_COL);
        widths.push(label);
        widths.resize(columns, each);
    }
    // What integer division left over goes to the widest column (the row labels).
    let rest = width.saturating_sub(widths.iter().sum());
    if let Some(widest) = widths.iter_mut().max_by_key(|w| **w) {
        *widest += rest;
    }
    widths
}

/// A block's title (第二十条第（一）项) as a row across the whole table.
fn title_row(title: &str, widths: &[u32]) -> WordRow {
    WordRow {
        repeat: false,
        height: ROW_MIN,
        keep: true,
        cells: vec![WordCell {
            text: title.to_string(),
            span: widths.len(),
            width: widths.iter().sum(),
            merge: "",
            vertical: false,
            class: "title",
        }],
    }
}

/// The rows of one block: its header and its data rows, each with one Word cell per
/// run of grid columns — the grid's cells, repeated down the rows they are merged over.
fn block_rows(
    format: &Format,
    table: &Table,
    block: &Block,
    grid: BlockGrid,
    number: &mut dyn FnMut(Key) -> String,
    widths: &[u32],
    repeat: bool,
) -> Vec<WordRow> {
    let (height, width, header_rows) = (grid.height(), grid.width(), grid.header_rows);
    let mut cells: Vec<Placed> = Vec::new();
    if grid.pad > 0 {
        cells.push(pad(0, width - grid.pad, header_rows, grid.pad));
    }
    cells.extend(grid.header.into_iter().map(Placed::of));
    let totals = format.totals();
    for (row, row_grid) in block.rows.iter().zip(grid.rows) {
        let at = row_grid.row;
        cells.extend(row_grid.labels.into_iter().map(Placed::of));
        for (col, span) in block.columns.iter().zip(&grid.columns) {
            let key = Key::cell(&table.code, &row.code, &col.code);
            let class = if totals.contains_key(&key) {
                "total"
            } else {
                "num"
            };
            cells.push(Placed {
                row: at,
                col: span.col,
                rows: 1,
                cols: span.cols,
                text: number(key),
                vertical: false,
                class,
            });
        }
        if grid.pad > 0 {
            cells.push(pad(at, width - grid.pad, 1, grid.pad));
        }
    }

    // Which cell covers each position of the grid.
    let mut cover: Vec<Vec<Option<usize>>> = vec![vec![None; width]; height];
    for (i, c) in cells.iter().enumerate() {
        for line in &mut cover[c.row..c.row + c.rows] {
            for slot in &mut line[c.col..c.col + c.cols] {
                *slot = Some(i);
            }
        }
    }
    let heights = least_heights(&cells, height, header_rows);
    let span_width = |col: usize, cols: usize| widths[col..col + cols].iter().sum();
    (0..height)
        .map(|r| {
            let mut row = Vec::new();
            let mut col = 0;
            while col < width {
                let Some(i) = cover[r][col] else {
                    // Not reached: the grid covers every position. An empty cell keeps
                    // the row whole if it ever is.
                    row.push(empty(span_width(col, 1)));
                    col += 1;
                    continue;
                };
                let c = &cells[i];
                let first = r == c.row;
                row.push(WordCell {
                    text: if first { c.text.clone() } else { String::new() },
                    span: c.cols,
                    width: span_width(c.col, c.cols),
                    merge: match (c.rows > 1, first) {
                        (false, _) => "",
                        (true, true) => "restart",
                        (true, false) => "continue",
                    },
                    vertical: c.vertical,
                    class: c.class,
                });
                col = c.col + c.cols;
            }
            WordRow {
                repeat: repeat && r < header_rows,
                height: heights[r],
                keep: r + 1 < height,
                cells: row,
            }
        })
        .collect()
}

/// The least height of each row: [`ROW_MIN`] for body rows, and enough, shared over the
/// rows it covers, for each vertical label to stand in full (Word and LibreOffice do
/// not grow merged rows for vertical text the same way, so it is not left to them).
fn least_heights(cells: &[Placed], height: usize, header_rows: usize) -> Vec<u32> {
    let mut heights: Vec<u32> = (0..height)
        .map(|r| if r < header_rows { 0 } else { ROW_MIN })
        .collect();
    // A character of vertical text takes one em, plus some room.
    for c in cells.iter().filter(|c| c.vertical) {
        let needed = (c.text.chars().count() as u32 + 1) * EM;
        let each = needed.div_ceil(c.rows as u32);
        for h in &mut heights[c.row..c.row + c.rows] {
            *h = (*h).max(each);
        }
    }
    heights
}

fn pad(row: usize, col: usize, rows: usize, cols: usize) -> Placed {
    Placed {
        row,
        col,
        rows,
        cols,
        text: String::new(),
        vertical: false,
        class: "pad",
    }
}

fn empty(width: u32) -> WordCell {
    WordCell {
        text: String::new(),
        span: 1,
        width,
        merge: "",
        vertical: false,
        class: "pad",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Formats;

    const WIDTH: u32 = 8844;

    fn table(format: &str, code: &str) -> WordTable {
        let formats = Formats::builtin();
        let f = formats.by_id(format).unwrap();
        word_table(f, f.table(code).unwrap(), &mut |_| "0".to_string(), WIDTH)
    }

    #[test]
    fn tables_from_skeletons_are_the_tables_drawn_whole() {
        let formats = Formats::builtin();
        let skeletons = Skeletons::default();
        for id in ["2019", "2021"] {
            let f = formats.by_id(id).unwrap();
            // Two units through one set of skeletons: the second is filled from the
            // skeleton the first drew, and shows its own numbers.
            for values in [
                BTreeMap::from([(Key::from_string("t3.new.natural"), 4.0)]),
                BTreeMap::from([
                    (Key::from_string("t3.new.legal"), 12.5),
                    (Key::from_string("t2.fees.fee_amount"), 7730.28),
                ]),
            ] {
                let filled = word_tables(f, &values, WIDTH, &skeletons);
                for t in &f.tables {
                    let mut number =
                        |key: Key| number_text(values.get(&key).copied().unwrap_or(0.0));
                    let whole = word_table(f, t, &mut number, WIDTH).xml();
                    assert_eq!(filled[&t.code], whole, "{id} {}", t.code);
                }
            }
            for t in &f.tables {
                assert!(skeletons.get(f, t, WIDTH).xml.is_some(), "{id} {}", t.code);
            }
        }
    }

    /// Every row covers every grid column exactly once, through the cells' spans.
    fn assert_rows_are_whole(t: &WordTable) {
        for (i, row) in t.rows.iter().enumerate() {
            let spans: usize = row.cells.iter().map(|c| c.span).sum();
            assert_eq!(spans, t.grid.len(), "row {i}");
            let widths: u32 = row.cells.iter().map(|c| c.width).sum();
            assert_eq!(widths, t.width, "row {i}");
        }
        assert_eq!(t.grid.iter().sum::<u32>(), WIDTH);
    }

    #[test]
    fn every_table_of_both_formats_fills_the_text_width_row_by_row() {
        for id in ["2019", "2021"] {
            for code in ["t2", "t3", "t4"] {
                assert_rows_are_whole(&table(id, code));
            }
        }
    }

    #[test]
    fn table_three_merges_down_with_continuations_and_stands_its_groups_upright() {
        let t = table("2021", "t3");
        assert_eq!(t.grid.len(), 10);
        // The corner: three rows down, three columns across.
        let corner: Vec<&WordCell> = t.rows[..3].iter().map(|r| &r.cells[0]).collect();
        assert_eq!(corner[0].merge, "restart");
        assert!(corner[0].text.contains("勾稽"));
        assert!(corner[1..]
            .iter()
            .all(|c| c.merge == "continue" && c.text.is_empty() && c.span == 3));
        // 三、本年度办理结果 runs down from （一） to （七）, in vertical writing.
        let result: Vec<&WordCell> = t.rows[5..]
            .iter()
            .map(|r| &r.cells[0])
            .take_while(|c| c.class == "vgroup")
            .collect();
        assert_eq!(result[0].text, "三、本年度办理结果");
        assert_eq!(result[0].merge, "restart");
        assert!(result[0].vertical);
        assert_eq!(result.len(), t.rows.len() - 3 - 3);
        // The header rows repeat on a new page; the data rows do not.
        assert!(t.rows[..3].iter().all(|r| r.repeat));
        assert!(t.rows[3..].iter().all(|r| !r.repeat));
        // （四）无法提供 spans three rows: they are tall enough for its seven characters.
        let four = t
            .rows
            .iter()
            .position(|r| r.cells.iter().any(|c| c.text == "（四）无法提供"))
            .unwrap();
        let tall: u32 = t.rows[four..four + 3].iter().map(|r| r.height).sum();
        assert!(tall >= 7 * EM, "{tall}");
        // Four characters a line in the data columns.
        assert!(t.grid[3..].iter().all(|w| *w >= DATA_COL), "{:?}", t.grid);
    }

    #[test]
    fn blocks_of_table_two_keep_their_titles_and_stretch_the_last_column() {
        let t = table("2021", "t2");
        let titles: Vec<&str> = t
            .rows
            .iter()
            .filter(|r| r.cells[0].class == "title")
            .map(|r| r.cells[0].text.as_str())
            .collect();
        assert_eq!(titles.len(), 4, "{titles:?}");
        assert!(
            t.rows.iter().all(|r| !r.repeat),
            "a titled block does not repeat"
        );
        let licence = t
            .rows
            .iter()
            .find(|r| r.cells[0].text == "行政许可")
            .unwrap();
        assert_eq!(licence.cells.len(), 2);
        assert_eq!(licence.cells[1].span, 3);
    }

    #[test]
    fn table_four_shares_the_width_among_its_fifteen_columns() {
        let t = table("2019", "t4");
        assert_eq!(t.grid.len(), 15);
        let spread = t.grid.iter().max().unwrap() - t.grid.iter().min().unwrap();
        assert!(spread < 15, "{:?}", t.grid);
        assert_eq!(t.rows.len(), 4);
        assert!(t.rows[3]
            .cells
            .iter()
            .all(|c| c.class == "num" || c.class == "total"));
    }
}
