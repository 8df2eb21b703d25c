//! The year-on-year comparison of a report made with `ingest --previous`: the format's
//! key figures this year and last, and the change. The numbers come from the publisher;
//! this only words them.

use serde::Serialize;

use crate::model::number_text;

/// Last year's key figures beside this year's, shown after a report's tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The year compared with (that of the `--previous` run).
    pub previous_year: i32,
    /// One row per key figure, in the format's order.
    pub figures: Vec<ComparedFigure>,
    /// A sentence under the table (for a roll-up: which units last year's figures sum).
    pub note: Option<String>,
}

/// One key figure: this year's and last year's (`None`: last year has no value).
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedFigure {
    pub label: String,
    pub current: f64,
    pub previous: Option<f64>,
}

/// What the templates see (`comparison`): everything as text.
#[derive(Debug, Serialize)]
pub(super) struct ComparisonView {
    heading: String,
    current_year: String,
    previous_year: String,
    rows: Vec<ComparedRow>,
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct ComparedRow {
    label: String,
    current: String,
    previous: String,
    change: String,
}

impl ComparisonView {
    pub(super) fn of(c: &Comparison, year: i32) -> ComparisonView {
        ComparisonView {
            heading: format!("与{}年度比较", c.previous_year),
            current_year: format!("本年（{year}年）"),
            previous_year: format!("上年（{}年）", c.previous_year),
            rows: c
                .figures
                .iter()
                .map(|f| ComparedRow {
                    label: f.label.clone(),
                    current: number_text(f.current),
                    previous: f.previous.map_or_else(|| "—".to_string(), number_text),
                    change: f
                        .previous
                        .map_or_else(|| "—".to_string(), |p| change_text(f.current - p)),
                })
                .collect(),
            note: c.note.clone(),
        }
    }
}

/// `+3`, `-2`, `0`.
pub fn change_text(d: f64) -> String {
    if d > 0.0 {
        format!("+{}", number_text(d))
    } else if d < 0.0 {
        format!("-{}", number_text(-d))
    } else {
        "0".to_string()
    }
}
