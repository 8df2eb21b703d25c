//! The overview's charts as inline SVG geometry: bars of 新收申请 per unit and of units
//! per status, and the stacked bar of table 三's outcome mix. Positions and sizes are
//! computed here, rounded to one decimal; the drawing is in the template
//! (`overview.html.j2`).
//!
//! Geometry only: draws nothing, and a value is only read (a negative or non-finite one
//! shows as 0 in its chart).

use std::collections::BTreeMap;

use serde::Serialize;

use super::overview::{percent, round1};
use super::{OverviewUnit, StatusCount};
use crate::format::{Format, Key};
use crate::model::number_text;

const CHART_WIDTH: f64 = 640.0;
const BAR_HEIGHT: f64 = 16.0;
const BAR_GAP: f64 = 6.0;
const LABEL_WIDTH: f64 = 190.0;
const VALUE_ROOM: f64 = 60.0;
const TOP_N: usize = 30;

#[derive(Serialize)]
pub(super) struct BarChart {
    title: String,
    width: f64,
    height: f64,
    /// Where the bars start; labels end just before.
    bar_x: f64,
    label_x: f64,
    bars: Vec<Bar>,
    /// Shown instead of the chart when there is nothing to draw.
    empty: Option<String>,
}

#[derive(Serialize)]
struct Bar {
    label: String,
    /// The full label, for a tooltip when the shown one is shortened.
    full: String,
    value: String,
    y: f64,
    /// Baseline of the label and value text.
    text_y: f64,
    w: f64,
    h: f64,
    value_x: f64,
    color: String,
}

fn bar_chart(title: String, items: Vec<(String, f64, String)>, empty: &str) -> BarChart {
    // A bar is never negative or infinite, whatever the data says.
    let items: Vec<(String, f64, String)> = items
        .into_iter()
        .map(|(l, v, c)| (l, if v.is_finite() { v.max(0.0) } else { 0.0 }, c))
        .collect();
    let max = items.iter().map(|(_, v, _)| *v).fold(0.0, f64::max);
    let room = CHART_WIDTH - LABEL_WIDTH - VALUE_ROOM;
    let bars: Vec<Bar> = items
        .into_iter()
        .enumerate()
        .map(|(i, (full, v, color))| {
            let y = round1(BAR_GAP + i as f64 * (BAR_HEIGHT + BAR_GAP));
            let w = if max > 0.0 {
                round1(v / max * room)
            } else {
                0.0
            };
            Bar {
                label: shorten(&full, 14),
                full,
                value: number_text(v),
                y,
                text_y: round1(y + BAR_HEIGHT * 0.78),
                w,
                h: BAR_HEIGHT,
                value_x: round1(LABEL_WIDTH + w + 4.0),
                color,
            }
        })
        .collect();
    let height = round1(BAR_GAP + bars.len() as f64 * (BAR_HEIGHT + BAR_GAP));
    BarChart {
        title,
        width: CHART_WIDTH,
        height,
        bar_x: LABEL_WIDTH,
        label_x: LABEL_WIDTH - 6.0,
        empty: bars.is_empty().then(|| empty.to_string()),
        bars,
    }
}

/// At most `n` characters, with “…” when cut.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

/// 新收申请 per unit, largest first (ties by code), the top 30 when there are more.
pub(super) fn requests_chart(units: &[OverviewUnit]) -> BarChart {
    let mut with: Vec<&OverviewUnit> = units.iter().filter(|u| u.new_requests.is_some()).collect();
    with.sort_by(|a, b| {
        let (va, vb) = (a.new_requests.unwrap_or(0.0), b.new_requests.unwrap_or(0.0));
        vb.total_cmp(&va).then_with(|| a.code.cmp(&b.code))
    });
    let total = with.len();
    let title = if total > TOP_N {
        format!("本年新收政府信息公开申请数量（前 {TOP_N} 个单位，共 {total} 个单位有数据）")
    } else {
        format!("本年新收政府信息公开申请数量（{total} 个单位）")
    };
    let items = with
        .into_iter()
        .take(TOP_N)
        .map(|u| {
            (
                u.name.clone(),
                u.new_requests.unwrap_or(0.0),
                "#1565c0".to_string(),
            )
        })
        .collect();
    bar_chart(title, items, "没有单位的数据可以显示。")
}

pub(super) fn status_chart(counts: &[StatusCount]) -> BarChart {
    let items = counts
        .iter()
        .map(|s| (s.label.clone(), s.count as f64, s.color.clone()))
        .collect();
    bar_chart("各状态单位数".to_string(), items, "名册中没有单位。")
}

#[derive(Serialize)]
pub(super) struct StackChart {
    title: String,
    width: f64,
    height: f64,
    bar_y: f64,
    bar_h: f64,
    segments: Vec<Segment>,
    total: String,
    empty: Option<String>,
}

#[derive(Serialize)]
struct Segment {
    label: String,
    full: String,
    value: String,
    percent: f64,
    x: f64,
    w: f64,
    color: String,
    /// The legend entry: swatch at (legend_x, legend_y), text after it.
    legend_x: f64,
    legend_y: f64,
    legend_text_y: f64,
}

const PALETTE: &[&str] = &[
    "#2e7d32", "#81c784", "#c62828", "#f9a825", "#6d4c41", "#78909c", "#5c6bc0", "#8e24aa",
];

/// The outcome mix of table 三: the rows under its result group (the rows that have row
/// groups, apart from the total row), summed by their second-level group (不予公开 …) or
/// taken alone (予以公开); each in the table's total column.
pub(super) fn outcome_categories(
    format: &Format,
    values: &BTreeMap<Key, f64>,
) -> Vec<(String, String, f64)> {
    let Some(table) = format.table("t3") else {
        return Vec::new();
    };
    let totals = format.totals();
    let mut out: Vec<(String, String, f64)> = Vec::new();
    for block in &table.blocks {
        let Some(first_row) = block.rows.first() else {
            continue;
        };
        // The column that is the total of the others in its row.
        let total_col = block.columns.iter().find(|c| {
            let key = Key::cell(&table.code, &first_row.code, &c.code);
            totals.get(&key).is_some_and(|parts| {
                parts.iter().all(|p| {
                    p.as_str()
                        .starts_with(&format!("{}.{}.", table.code, first_row.code))
                })
            })
        });
        for row in block.rows.iter().filter(|r| !r.groups.is_empty()) {
            // A row whose cells are totals of other rows is the 总计 row.
            let probe = Key::cell(&table.code, &row.code, &block.columns[0].code);
            if totals.contains_key(&probe) {
                continue;
            }
            let value: f64 = match total_col {
                Some(c) => values
                    .get(&Key::cell(&table.code, &row.code, &c.code))
                    .copied()
                    .unwrap_or(0.0),
                None => block
                    .columns
                    .iter()
                    .map(|c| {
                        values
                            .get(&Key::cell(&table.code, &row.code, &c.code))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .sum(),
            };
            let full = row.groups.get(1).unwrap_or(&row.label).clone();
            match out.iter_mut().find(|(f, _, _)| *f == full) {
                Some(entry) => entry.2 += value,
                None => out.push((full.clone(), short_label(&full), value)),
            }
        }
    }
    out
}

/// `（二）部分公开（区分处理的，…）` → `部分公开`: without the leading number and a
/// trailing explanation.
fn short_label(label: &str) -> String {
    let mut s = label.trim();
    if let Some(rest) = s.strip_prefix('（') {
        if let Some(end) = rest.find('）') {
            s = &rest[end + '）'.len_utf8()..];
        }
    }
    if let Some(start) = s.find('（') {
        if start > 0 && s.ends_with('）') {
            s = &s[..start];
        }
    }
    s.trim().to_string()
}

pub(super) fn outcome_chart(format: &Format, values: &BTreeMap<Key, f64>) -> StackChart {
    let mut cats = outcome_categories(format, values);
    for (_, _, v) in &mut cats {
        if !v.is_finite() || *v < 0.0 {
            *v = 0.0;
        }
    }
    let total: f64 = cats.iter().map(|(_, _, v)| *v).sum();
    let bar_y = 4.0;
    let bar_h = 28.0;
    let legend_top = bar_y + bar_h + 12.0;
    let per_col = cats.len().div_ceil(2).max(1);
    let col_w = CHART_WIDTH / 2.0;
    let mut x = 0.0;
    let segments: Vec<Segment> = cats
        .into_iter()
        .enumerate()
        .map(|(i, (full, label, v))| {
            let w = if total > 0.0 {
                round1(v / total * CHART_WIDTH)
            } else {
                0.0
            };
            let seg_x = round1(x);
            x += w;
            let legend_y = round1(legend_top + (i % per_col) as f64 * 20.0);
            Segment {
                value: number_text(v),
                percent: percent(v, total),
                x: seg_x,
                w,
                color: PALETTE[i % PALETTE.len()].to_string(),
                legend_x: (i / per_col) as f64 * col_w,
                legend_y,
                legend_text_y: round1(legend_y + 11.0),
                label,
                full,
            }
        })
        .collect();
    let height = round1(legend_top + per_col as f64 * 20.0 + 4.0);
    StackChart {
        title: "全部受理单位的办理结果构成（表三“三、本年度办理结果”，按总计列）".to_string(),
        width: CHART_WIDTH,
        height,
        bar_y,
        bar_h,
        total: number_text(total),
        empty: (total <= 0.0).then(|| "本年度没有办理结果可以显示（全部为 0）。".to_string()),
        segments,
    }
}
