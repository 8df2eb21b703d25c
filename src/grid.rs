//! The grid of a table block as the official table draws it: which header cells are
//! merged over which columns, which row-group labels run down which rows (set in vertical
//! writing), where each row's own label and each data column go. A pure function of the
//! format, computed once here so that every drawing of a table — the xlsx writer, the
//! HTML report, and any later one (Word) — shows the same merged cells; each of them only
//! turns this grid into its own notation.
//!
//! Offsets are zero-based and relative to the block: row 0 is the block's first header
//! row, column 0 its first label column. The block's header fills rows
//! `0..header_rows`, its data rows follow from `header_rows`; its label columns are
//! `0..label_cols`, its data columns follow from `label_cols`. A sheet writer adds the
//! sheet position of the block's header (from `layout`); an HTML or Word table uses the
//! spans as `rowspan`/`colspan`. The block's title row, if any, is above the grid and
//! not part of it.

use crate::format::{Block, Table};

/// What a cell of the grid is: it decides the cell's look, never its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The top-left cell over the label columns, across every header row (信息内容, or
    /// table 三's 勾稽 note); empty text when the block has none.
    Corner,
    /// A column group: one header row, across the columns under the same group path.
    ColumnGroup,
    /// A column's own label: from its level down to the last header row.
    Column,
    /// A row group: one label column, down the rows under the same group path; set in
    /// vertical writing.
    RowGroup,
    /// A row's own label: one row, across to the first data column.
    RowLabel,
}

impl Role {
    /// The class a drawing of the cell gives it (HTML's `class`, Word's paragraph style
    /// choice): the same word for the same role in every output.
    pub fn class(self) -> &'static str {
        match self {
            Role::Corner => "corner",
            Role::ColumnGroup => "group",
            Role::Column => "col",
            Role::RowGroup => "vgroup",
            Role::RowLabel => "label",
        }
    }
}

/// One merged (or single) cell of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridCell {
    /// First row, relative to the block's first header row.
    pub row: usize,
    /// First column, relative to the block's first label column.
    pub col: usize,
    /// How many rows it spans (≥ 1).
    pub rows: usize,
    /// How many columns it spans (≥ 1).
    pub cols: usize,
    pub text: String,
    /// Set in vertical writing, one character a line (the row groups of table 三).
    pub vertical: bool,
    pub role: Role,
}

impl GridCell {
    fn new(role: Role, row: usize, col: usize, rows: usize, cols: usize, text: &str) -> Self {
        GridCell {
            row,
            col,
            rows,
            cols,
            text: text.to_string(),
            vertical: role == Role::RowGroup,
            role,
        }
    }

    /// The last row it covers.
    pub fn last_row(&self) -> usize {
        self.row + self.rows - 1
    }

    /// The last column it covers.
    pub fn last_col(&self) -> usize {
        self.col + self.cols - 1
    }
}

/// One data row of a block: where it is and the label cells that start on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridRow {
    /// Its row in the grid (`header_rows` + its index in the block).
    pub row: usize,
    /// The label cells that start on this row, left to right: the row groups that begin
    /// here (outermost first), then the row's own label. A row inside a group's run has
    /// only its own label; a block without label columns has none.
    pub labels: Vec<GridCell>,
}

/// Where one data column is: its first grid column and how many it spans (1, unless the
/// block is stretched to a wider table, see [`TableGrid`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpan {
    pub col: usize,
    pub cols: usize,
}

/// The grid of one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockGrid {
    /// How many header rows (the deepest column group path plus the label).
    pub header_rows: usize,
    /// How many label columns; 0 for a block without row labels (table 四), unless a
    /// wider drawing asks for more.
    pub label_cols: usize,
    /// The header cells row by row, left to right: the corner (when there are label
    /// columns), column groups and column labels. They cover the header rows over every
    /// column of the grid exactly once.
    pub header: Vec<GridCell>,
    /// The data rows, in order, with their label cells.
    pub rows: Vec<GridRow>,
    /// The data columns, in order.
    pub columns: Vec<ColumnSpan>,
    /// Grid columns right of the data that no header or data cell covers: only a block
    /// without data columns (which the loader refuses) stretched to a wider table.
    pub pad: usize,
}

impl BlockGrid {
    /// The grid of a block with as many label columns as it needs.
    pub fn of(block: &Block) -> BlockGrid {
        BlockGrid::with_label_cols(block, 0)
    }

    /// The grid of a block with at least `label_cols` label columns: a sheet holding
    /// several tables (the roll-up) lines up their data columns by giving every table the
    /// same label width. Extra label columns go to the rows' own labels (and the corner).
    pub fn with_label_cols(block: &Block, label_cols: usize) -> BlockGrid {
        let depth = block.header_depth();
        let lw = block.label_width().max(label_cols);
        let n = block.columns.len();

        // Header: the corner over the label columns; groups merged across the columns
        // under the same path; each column's own label down to the last header row.
        let mut header = Vec::new();
        if lw > 0 {
            let corner = block.corner.as_deref().unwrap_or("");
            header.push(GridCell::new(Role::Corner, 0, 0, depth, lw, corner));
        }
        let col_groups: Vec<&[String]> = block.columns.iter().map(|c| &c.groups[..]).collect();
        for level in 0..depth {
            for (c, col) in block.columns.iter().enumerate() {
                let at = lw + c;
                if level < col.groups.len() {
                    if starts_run(&col_groups, c, level) {
                        let span = run(&col_groups[c..], level);
                        let text = &col.groups[level];
                        header.push(GridCell::new(Role::ColumnGroup, level, at, 1, span, text));
                    }
                } else if level == col.groups.len() {
                    let rows = depth - level;
                    header.push(GridCell::new(Role::Column, level, at, rows, 1, &col.label));
                }
            }
        }

        // Rows: groups merged down over the rows under the same path (vertical labels),
        // each row's own label across to the data.
        let row_groups: Vec<&[String]> = block.rows.iter().map(|r| &r.groups[..]).collect();
        let rows = block
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| {
                let at = depth + r;
                let mut labels = Vec::new();
                for level in 0..lw {
                    if level < row.groups.len() {
                        if starts_run(&row_groups, r, level) {
                            let span = run(&row_groups[r..], level);
                            let text = &row.groups[level];
                            labels.push(GridCell::new(Role::RowGroup, at, level, span, 1, text));
                        }
                    } else if level == row.groups.len() {
                        let cols = lw - level;
                        labels.push(GridCell::new(
                            Role::RowLabel,
                            at,
                            level,
                            1,
                            cols,
                            &row.label,
                        ));
                    }
                }
                GridRow { row: at, labels }
            })
            .collect();
        BlockGrid {
            header_rows: depth,
            label_cols: lw,
            header,
            rows,
            columns: (0..n)
                .map(|c| ColumnSpan {
                    col: lw + c,
                    cols: 1,
                })
                .collect(),
            pad: 0,
        }
    }

    /// How many grid columns it covers: label columns, data columns and any padding.
    pub fn width(&self) -> usize {
        self.label_cols + self.columns.iter().map(|c| c.cols).sum::<usize>() + self.pad
    }

    /// How many grid rows it covers: header and data rows.
    pub fn height(&self) -> usize {
        self.header_rows + self.rows.len()
    }

    /// Every label cell (row groups and row labels) in the order a sheet writer has
    /// always drawn them: label column by label column, top to bottom. The xlsx file
    /// lists merged ranges in the order they are made, so keeping this order keeps the
    /// bytes of every workbook the same.
    pub fn labels_by_column(&self) -> Vec<&GridCell> {
        let mut cells: Vec<&GridCell> = self.rows.iter().flat_map(|r| &r.labels).collect();
        cells.sort_by_key(|c| (c.col, c.row));
        cells
    }

    /// The row groups: vertical labels down the data rows they cover.
    pub fn row_groups(&self) -> impl Iterator<Item = &GridCell> {
        self.rows
            .iter()
            .flat_map(|r| &r.labels)
            .filter(|c| c.role == Role::RowGroup)
    }

    /// Widens the grid to `width` columns, as a table whose blocks share one grid draws a
    /// narrower block: the cells ending at the last data column (its header cells and
    /// the column itself) stretch over the rest, as the official table 二 does for its
    /// single-column blocks.
    fn stretch(&mut self, width: usize) {
        let extra = width.saturating_sub(self.width());
        if extra == 0 {
            return;
        }
        let Some(last) = self.columns.last_mut() else {
            self.pad = extra;
            return;
        };
        let edge = last.col + last.cols;
        last.cols += extra;
        for cell in &mut self.header {
            if cell.role != Role::Corner && cell.col + cell.cols == edge {
                cell.cols += extra;
            }
        }
    }
}

/// The blocks of a table as a report draws them: one grid `width` columns wide shared by
/// all blocks, each block with its own label columns and stretched to the width of the
/// widest (HTML, and Word after it; a sheet leaves a narrower block narrow and uses
/// [`BlockGrid::with_label_cols`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableGrid {
    pub width: usize,
    /// The label columns of the widest block (the last of equally wide ones): the
    /// table's column widths follow it.
    pub label_cols: usize,
    pub blocks: Vec<BlockGrid>,
}

impl TableGrid {
    pub fn of(table: &Table) -> TableGrid {
        let mut blocks: Vec<BlockGrid> = table.blocks.iter().map(BlockGrid::of).collect();
        let widest = blocks.iter().max_by_key(|b| b.width());
        let width = widest.map_or(0, BlockGrid::width);
        let label_cols = widest.map_or(0, |b| b.label_cols);
        for block in &mut blocks {
            block.stretch(width);
        }
        TableGrid {
            width,
            label_cols,
            blocks,
        }
    }
}

/// Whether item `i` starts a run at `level`: the first item, or the previous one has
/// another path down to `level`.
fn starts_run(all: &[&[String]], i: usize, level: usize) -> bool {
    i == 0 || {
        let (prev, this) = (all[i - 1], all[i]);
        !(prev.len() > level && prev[..=level] == this[..=level])
    }
}

/// How many items from the first share its path down to `level`.
fn run(from: &[&[String]], level: usize) -> usize {
    let path = &from[0][..=level];
    from.iter()
        .take_while(|g| g.len() > level && &g[..=level] == path)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;

    fn format(id: &str) -> Format {
        Format::builtin()
            .into_iter()
            .find(|f| f.id == id)
            .expect("built-in format")
    }

    fn block<'f>(f: &'f Format, table: &str) -> &'f Block {
        &f.table(table).expect("table").blocks[0]
    }

    fn find<'g>(cells: &'g [GridCell], text: &str) -> &'g GridCell {
        cells
            .iter()
            .find(|c| c.text == text)
            .unwrap_or_else(|| panic!("no cell {text}"))
    }

    /// How many times each cell of a `rows` × `cols` rectangle at (`top`, `left`) is
    /// covered by `cells`; panics on a cell outside it.
    fn coverage<'a>(
        cells: impl IntoIterator<Item = &'a GridCell>,
        (top, left): (usize, usize),
        (rows, cols): (usize, usize),
    ) -> Vec<Vec<usize>> {
        let mut seen = vec![vec![0; cols]; rows];
        for c in cells {
            assert!(c.rows >= 1 && c.cols >= 1, "empty span {c:?}");
            assert!(c.row >= top && c.last_row() < top + rows, "outside: {c:?}");
            assert!(
                c.col >= left && c.last_col() < left + cols,
                "outside: {c:?}"
            );
            for row in &mut seen[c.row - top..=c.last_row() - top] {
                for n in &mut row[c.col - left..=c.last_col() - left] {
                    *n += 1;
                }
            }
        }
        seen
    }

    fn tiles_once(seen: &[Vec<usize>]) -> bool {
        seen.iter().flatten().all(|&n| n == 1)
    }

    /// The structure every grid must have, whatever the format: the header cells tile
    /// the header rectangle exactly once, the label cells tile the label columns of the
    /// data rows exactly once, the data columns follow each other, and reading the grid
    /// back gives each column's and each row's group path and label.
    fn assert_well_formed(block: &Block, grid: &BlockGrid) {
        let (depth, lw) = (grid.header_rows, grid.label_cols);
        assert_eq!(depth, block.header_depth());
        assert!(lw >= block.label_width());
        assert_eq!(grid.rows.len(), block.rows.len());
        assert_eq!(grid.columns.len(), block.columns.len());
        assert_eq!(grid.height(), depth + block.rows.len());
        let covered = grid.width() - grid.pad;

        let header = coverage(&grid.header, (0, 0), (depth, covered));
        assert!(tiles_once(&header), "header: {header:?}");
        let labels = coverage(
            grid.rows.iter().flat_map(|r| &r.labels),
            (depth, 0),
            (grid.rows.len(), lw),
        );
        assert!(tiles_once(&labels), "labels: {labels:?}");

        // Header cells are listed row by row, left to right; the corner alone spans the
        // label columns.
        let order: Vec<(usize, usize)> = grid.header.iter().map(|c| (c.row, c.col)).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        for cell in &grid.header {
            assert!(!cell.vertical);
            assert_eq!(cell.role == Role::Corner, cell.col < lw, "{cell:?}");
        }

        // The data columns: one after another from the label columns.
        let mut next = lw;
        for span in &grid.columns {
            assert_eq!(span.col, next);
            next += span.cols;
        }
        assert_eq!(next, covered);

        // Reading down each data column gives its groups then its label.
        for (c, col) in block.columns.iter().enumerate() {
            let at = grid.columns[c].col;
            let mut above: Vec<&GridCell> = grid
                .header
                .iter()
                .filter(|h| h.col <= at && at <= h.last_col())
                .collect();
            above.sort_by_key(|h| h.row);
            let texts: Vec<&str> = above.iter().map(|h| h.text.as_str()).collect();
            let mut path: Vec<&str> = col.groups.iter().map(String::as_str).collect();
            path.push(&col.label);
            assert_eq!(texts, path, "column {}", col.code);
            let label = above.last().unwrap();
            assert_eq!(label.role, Role::Column);
            assert_eq!(
                label.last_row(),
                depth - 1,
                "a label reaches the last header row"
            );
        }

        // Reading across each data row gives its groups then its label; each row lists
        // the label cells that start on it.
        for (r, row) in block.rows.iter().enumerate() {
            let at = depth + r;
            assert_eq!(grid.rows[r].row, at);
            assert!(grid.rows[r].labels.iter().all(|c| c.row == at));
            if lw == 0 {
                assert!(grid.rows[r].labels.is_empty());
                continue;
            }
            let mut left: Vec<&GridCell> = grid
                .rows
                .iter()
                .flat_map(|g| &g.labels)
                .filter(|l| l.row <= at && at <= l.last_row())
                .collect();
            left.sort_by_key(|l| l.col);
            let texts: Vec<&str> = left.iter().map(|l| l.text.as_str()).collect();
            let mut path: Vec<&str> = row.groups.iter().map(String::as_str).collect();
            path.push(&row.label);
            assert_eq!(texts, path, "row {}", row.code);
            let label = left.last().unwrap();
            assert_eq!(label.role, Role::RowLabel);
            assert_eq!(label.last_col(), lw - 1, "a label reaches the data");
        }

        // Row groups: vertical, one column wide, within the data rows.
        for g in grid.row_groups() {
            assert!(g.vertical && g.cols == 1 && g.col + 1 < lw, "{g:?}");
            assert!(g.row >= depth && g.last_row() < grid.height(), "{g:?}");
        }

        // A sheet draws the same cells, column by column.
        let by_column = grid.labels_by_column();
        assert_eq!(
            by_column.len(),
            grid.rows.iter().map(|r| r.labels.len()).sum::<usize>()
        );
        assert!(by_column
            .windows(2)
            .all(|w| (w[0].col, w[0].row) < (w[1].col, w[1].row)));
    }

    #[test]
    fn every_block_of_both_formats_is_well_formed() {
        let formats = Format::builtin();
        assert_eq!(formats.len(), 2);
        for f in &formats {
            let widest = f
                .tables
                .iter()
                .flat_map(|t| &t.blocks)
                .map(Block::label_width);
            let rollup = widest.max().unwrap();
            for table in &f.tables {
                let grid = TableGrid::of(table);
                for (block, stretched) in table.blocks.iter().zip(&grid.blocks) {
                    assert_well_formed(block, &BlockGrid::of(block));
                    assert_well_formed(block, &BlockGrid::with_label_cols(block, rollup));
                    assert_well_formed(block, stretched);
                    assert_eq!(stretched.width(), grid.width, "{} {}", f.id, table.code);
                }
            }
        }
    }

    #[test]
    fn table_three_has_the_applicant_header_and_vertical_groups() {
        for id in ["2019", "2021"] {
            let f = format(id);
            let grid = BlockGrid::of(block(&f, "t3"));
            assert_eq!((grid.header_rows, grid.label_cols), (3, 3));
            let corner = &grid.header[0];
            assert_eq!(corner.role, Role::Corner);
            assert!(corner.text.contains("勾稽"), "{corner:?}");
            assert_eq!(
                (corner.row, corner.col, corner.rows, corner.cols),
                (0, 0, 3, 3)
            );
            let span = |c: &GridCell| (c.row, c.col, c.rows, c.cols);
            assert_eq!(span(find(&grid.header, "申请人情况")), (0, 3, 1, 7));
            assert_eq!(span(find(&grid.header, "法人或其他组织")), (1, 4, 1, 5));
            assert_eq!(span(find(&grid.header, "自然人")), (1, 3, 2, 1));
            assert_eq!(span(find(&grid.header, "商业企业")), (2, 4, 1, 1));
            assert_eq!(span(find(&grid.header, "总计")), (1, 9, 2, 1));

            let groups: Vec<&GridCell> = grid.row_groups().collect();
            let result = groups
                .iter()
                .find(|g| g.text == "三、本年度办理结果")
                .unwrap();
            // From （一）予以公开 (the third row) to （七）总计 (the last but one).
            let rows = grid.rows.len();
            assert_eq!((result.row, result.col, result.rows), (5, 0, rows - 3));
            let denied = groups.iter().find(|g| g.text == "（三）不予公开").unwrap();
            assert_eq!(
                (denied.row, denied.col, denied.rows, denied.cols),
                (7, 1, 8, 1)
            );
            assert!(groups.iter().all(|g| g.vertical));
            // A row outside any group has its label across all three label columns.
            let first = &grid.rows[0].labels;
            assert_eq!(first.len(), 1);
            assert_eq!((first[0].col, first[0].cols), (0, 3));
            assert_eq!(first[0].text, "一、本年新收政府信息公开申请数量");
            // The first row of （三） starts that group and has its own label.
            let start = &grid.rows[4].labels;
            let roles: Vec<Role> = start.iter().map(|c| c.role).collect();
            assert_eq!(roles, [Role::RowGroup, Role::RowLabel]);
        }
    }

    #[test]
    fn table_four_has_three_header_rows_and_no_labels() {
        for id in ["2019", "2021"] {
            let f = format(id);
            let b = block(&f, "t4");
            let grid = BlockGrid::of(b);
            assert_eq!((grid.header_rows, grid.label_cols), (3, 0));
            assert!(grid.header.iter().all(|c| c.role != Role::Corner));
            let span = |c: &GridCell| (c.row, c.col, c.rows, c.cols);
            assert_eq!(span(find(&grid.header, "行政复议")), (0, 0, 1, 5));
            assert_eq!(span(find(&grid.header, "行政诉讼")), (0, 5, 1, 10));
            assert_eq!(span(find(&grid.header, "未经复议直接起诉")), (1, 5, 1, 5));
            assert_eq!(span(find(&grid.header, "复议后起诉")), (1, 10, 1, 5));
            // Under 行政复议 a label spans the two lower rows; under 行政诉讼, one.
            let labels: Vec<_> = grid
                .header
                .iter()
                .filter(|c| c.role == Role::Column)
                .collect();
            assert_eq!(labels.len(), 15);
            assert!(labels[..5].iter().all(|c| (c.row, c.rows) == (1, 2)));
            assert!(labels[5..].iter().all(|c| (c.row, c.rows) == (2, 1)));
            assert!(grid.rows[0].labels.is_empty());
            assert_eq!(grid.rows[0].row, 3);

            // On a roll-up sheet it gets label columns: an empty corner, an empty label.
            let wide = BlockGrid::with_label_cols(b, 3);
            assert_eq!(span(&wide.header[0]), (0, 0, 3, 3));
            assert_eq!(wide.header[0].text, "");
            let label = &wide.rows[0].labels;
            assert_eq!(label.len(), 1);
            assert_eq!(
                (label[0].role, label[0].col, label[0].cols),
                (Role::RowLabel, 0, 3)
            );
            assert_eq!(span(find(&wide.header, "行政复议")), (0, 3, 1, 5));
        }
    }

    #[test]
    fn narrower_blocks_of_table_two_stretch_their_last_column() {
        let f = format("2021");
        let grid = TableGrid::of(f.table("t2").unwrap());
        assert_eq!((grid.width, grid.label_cols), (4, 1));
        let single = &grid.blocks[1];
        assert_eq!(single.columns, [ColumnSpan { col: 1, cols: 3 }]);
        let label = find(&single.header, "本年处理决定数量");
        assert_eq!((label.col, label.cols), (1, 3));
        assert_eq!(single.header[0].cols, 1, "the corner does not stretch");
        assert_eq!(single.pad, 0);
        assert_eq!(
            grid.blocks[0],
            BlockGrid::of(&f.table("t2").unwrap().blocks[0])
        );
    }
}
