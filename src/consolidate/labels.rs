//! How each value is labelled in the long-form CSVs (values.csv, rollup.csv): table,
//! row and column codes with their official labels.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::sheet::Sheet;
use crate::format::{Format, Key};
use crate::model::number_text;

/// The `table` column of the long CSVs for the format's numeric fields (信息处理费),
/// which are not cells of a table: their row is the field's code.
pub(super) const FIELDS_TABLE: &str = "fields";

/// How one numeric key is labelled in the long-form files.
pub(super) struct KeyLabel {
    key: Key,
    table: String,
    row_code: String,
    row_label: String,
    col_code: String,
    col_label: String,
}

/// Every numeric key of the format, table cells in reading order then fields. A column
/// label that occurs more than once in its table (表四's 结果维持, 表二's 上一年项目数量)
/// is given its heading path: block title, groups, label, joined with `/`.
pub(super) fn key_labels(format: &Format) -> Vec<KeyLabel> {
    let mut seen: HashMap<(&str, &str), BTreeSet<(usize, &str)>> = HashMap::new();
    for table in &format.tables {
        for (b, block) in table.blocks.iter().enumerate() {
            for col in &block.columns {
                let columns = seen.entry((&table.code, &col.label)).or_default();
                columns.insert((b, &col.code));
            }
        }
    }
    let mut out: Vec<KeyLabel> = format
        .cells()
        .map(|cell| {
            let ambiguous = seen[&(cell.table.code.as_str(), cell.col.label.as_str())].len() > 1;
            let col_label = if ambiguous {
                let path: Vec<&str> = cell
                    .block
                    .title
                    .iter()
                    .chain(&cell.col.groups)
                    .chain(std::iter::once(&cell.col.label))
                    .map(String::as_str)
                    .collect();
                path.join("/")
            } else {
                cell.col.label.clone()
            };
            KeyLabel {
                key: cell.key.clone(),
                table: cell.table.code.clone(),
                row_code: cell.row.code.clone(),
                row_label: cell.row.label.clone(),
                col_code: cell.col.code.clone(),
                col_label,
            }
        })
        .collect();
    out.extend(format.fields.iter().map(|field| KeyLabel {
        key: Key::field(&field.code),
        table: FIELDS_TABLE.to_string(),
        row_code: field.code.clone(),
        row_label: field.label.clone(),
        col_code: "value".to_string(),
        col_label: "数值".to_string(),
    }));
    out
}

/// The rows of one unit or roll-up: `prefix` then the key's labels and value.
pub(super) fn long_rows(
    sheet: &mut Sheet,
    prefix: &[&str],
    cells: &[KeyLabel],
    values: &BTreeMap<Key, f64>,
) -> Result<(), csv::Error> {
    for cell in cells {
        let value = values
            .get(&cell.key)
            .map(|v| number_text(*v))
            .unwrap_or_default();
        let mut row: Vec<&str> = prefix.to_vec();
        row.extend([
            cell.table.as_str(),
            &cell.row_code,
            &cell.row_label,
            &cell.col_code,
            &cell.col_label,
            &value,
        ]);
        sheet.row(&row)?;
    }
    Ok(())
}
