//! The status table of the overview: every status code a unit can have, in the order
//! the overview lists them, with its Chinese label and colours, and how many units have
//! each.
//!
//! The codes come from the batch (`ingest`); a code not listed here is still shown, by
//! its code, in a neutral colour.

use std::collections::BTreeMap;

use super::{OverviewUnit, StatusCount};

#[derive(Clone, Copy)]
pub(super) struct StatusStyle {
    pub(super) label: &'static str,
    pub(super) color: &'static str,
    pub(super) fg: &'static str,
}

/// Every status code in the order the overview lists them, with its label and colour.
const STATUSES: &[(&str, StatusStyle)] = &[
    (
        "accepted",
        StatusStyle {
            label: "受理",
            color: "#2e7d32",
            fg: "#ffffff",
        },
    ),
    (
        "accepted_with_warnings",
        StatusStyle {
            label: "受理（有警告）",
            color: "#f9a825",
            fg: "#000000",
        },
    ),
    (
        "rejected",
        StatusStyle {
            label: "退回",
            color: "#c62828",
            fg: "#ffffff",
        },
    ),
    (
        "missing",
        StatusStyle {
            label: "未报送",
            color: "#9e9e9e",
            fg: "#000000",
        },
    ),
    (
        "duplicate",
        StatusStyle {
            label: "重复",
            color: "#78909c",
            fg: "#ffffff",
        },
    ),
    (
        "unidentified",
        StatusStyle {
            label: "无法识别",
            color: "#8e24aa",
            fg: "#ffffff",
        },
    ),
    (
        "unknown_unit",
        StatusStyle {
            label: "名册外单位",
            color: "#6d4c41",
            fg: "#ffffff",
        },
    ),
    (
        "wrong_year",
        StatusStyle {
            label: "年度不符",
            color: "#ef6c00",
            fg: "#ffffff",
        },
    ),
    (
        "unreadable",
        StatusStyle {
            label: "无法读取",
            color: "#ad1457",
            fg: "#ffffff",
        },
    ),
    (
        "unsupported",
        StatusStyle {
            label: "非工作簿文件",
            color: "#5d4037",
            fg: "#ffffff",
        },
    ),
    (
        "skipped",
        StatusStyle {
            label: "已跳过",
            color: "#cfd8dc",
            fg: "#000000",
        },
    ),
];

const OTHER_STATUS: StatusStyle = StatusStyle {
    label: "",
    color: "#607d8b",
    fg: "#ffffff",
};

pub(super) fn status_style(code: &str) -> StatusStyle {
    match STATUSES.iter().find(|(c, _)| *c == code) {
        Some((_, s)) => *s,
        None => OTHER_STATUS,
    }
}

/// How many units have each status, known statuses in their order, then unknown ones.
pub(super) fn status_counts(units: &[OverviewUnit]) -> Vec<StatusCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for u in units {
        *counts.entry(u.status.as_str()).or_default() += 1;
    }
    let known = STATUSES.iter().map(|(c, _)| *c);
    let unknown: Vec<&str> = counts
        .keys()
        .copied()
        .filter(|c| !STATUSES.iter().any(|(k, _)| k == c))
        .collect();
    known
        .chain(unknown)
        .filter_map(|code| {
            let count = *counts.get(code)?;
            let s = status_style(code);
            let label = if s.label.is_empty() { code } else { s.label };
            Some(StatusCount {
                status: code.to_string(),
                label: label.to_string(),
                color: s.color.to_string(),
                fg: s.fg.to_string(),
                count,
            })
        })
        .collect()
}
