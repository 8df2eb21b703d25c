//! Last year's key figures beside this year's (`ingest --previous`): the numbers the
//! reports' 与上年度比较 and the overview's 上年新收 show, worked out here and handed to
//! `render` and `word` as plain numbers.
//!
//! A unit's figures are the format's `[[key_figures]]` summed over its values with every
//! total computed (as its tables show them, a missing value 0); last year's come from the
//! `--previous` run's `values.csv`, by unit code. A roll-up compares with the sum of
//! last year's figures of **the units it counts this year** (its 已计入 list) that have
//! last year's values; a unit counted this year without last year's values adds nothing,
//! and the note under the table says how many of them were summed.

use std::collections::BTreeMap;

use crate::check::PreviousYear;
use crate::format::{Format, Key, KeyFigure};
use crate::render::{self, ComparedFigure, Comparison, OverviewPrevious};

/// Last year's values by unit code and the year they are for.
#[derive(Clone, Copy)]
pub struct LastYear<'a> {
    pub year: i32,
    pub values: &'a PreviousYear,
}

/// A key figure of `values` as the report's tables show it.
fn figure(format: &Format, k: &KeyFigure, values: &BTreeMap<Key, f64>) -> f64 {
    let values = render::values_with_totals(format, values);
    k.keys
        .iter()
        .map(|key| values.get(key).copied().unwrap_or(0.0))
        .sum()
}

impl LastYear<'_> {
    fn figure_of(&self, format: &Format, k: &KeyFigure, code: &str) -> Option<f64> {
        self.values.get(code).map(|v| figure(format, k, v))
    }

    /// A unit's comparison: its figures and its own last year's (`—` without).
    pub fn unit(&self, format: &Format, code: &str, values: &BTreeMap<Key, f64>) -> Comparison {
        Comparison {
            previous_year: self.year,
            figures: format
                .key_figures
                .iter()
                .map(|k| ComparedFigure {
                    label: k.label.clone(),
                    current: figure(format, k, values),
                    previous: self.figure_of(format, k, code),
                })
                .collect(),
            note: None,
        }
    }

    /// A roll-up's comparison: last year's figures summed over the units of `included`
    /// that have last year's values (`—` when none has).
    pub fn rollup(
        &self,
        format: &Format,
        values: &BTreeMap<Key, f64>,
        included: &[(String, String)],
    ) -> Comparison {
        let found: Vec<&BTreeMap<Key, f64>> = included
            .iter()
            .filter_map(|(code, _)| self.values.get(code))
            .collect();
        let figures = format
            .key_figures
            .iter()
            .map(|k| ComparedFigure {
                label: k.label.clone(),
                current: figure(format, k, values),
                previous: (!found.is_empty())
                    .then(|| found.iter().map(|v| figure(format, k, v)).sum()),
            })
            .collect();
        let (counted, with) = (included.len(), found.len());
        let note = if counted == with {
            format!(
                "上年数为本年已计入的 {counted} 个单位{}年度的数字之和。",
                self.year
            )
        } else {
            format!(
                "上年数为本年已计入的 {counted} 个单位中有{}年度数据的 {with} 个单位的数字之和；其余 {} 个单位没有上年数据，不计入上年数。",
                self.year,
                counted - with
            )
        };
        Comparison {
            previous_year: self.year,
            figures,
            note: Some(note),
        }
    }

    /// Last year's 新收申请 of every unit, for the overview.
    pub fn overview(&self, format: &Format) -> OverviewPrevious {
        let new_requests = format
            .key_figure("new_requests")
            .map(|k| {
                self.values
                    .iter()
                    .map(|(code, v)| (code.clone(), figure(format, k, v)))
                    .collect()
            })
            .unwrap_or_default();
        OverviewPrevious {
            year: self.year,
            new_requests,
        }
    }
}
