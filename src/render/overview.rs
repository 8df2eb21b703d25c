//! The rows of the overview page's unit table, worked out one at a time as the template
//! reaches them, and the small helpers of the overview: percentages with one decimal and
//! links percent-encoded for an `href`.
//!
//! The page itself is put together by [`super::overview()`]; nothing here renders.

use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::{OverviewUnit, RowView};
use crate::model::number_text;
use crate::roster::level_label;

/// The overview's unit table: the display fields are worked out per row, on demand.
impl RowView for OverviewUnit {
    fn view(&self) -> Value {
        Value::from(Serde(unit_row(self)))
    }
}

#[derive(Serialize)]
pub(super) struct UnitRow {
    code: String,
    name: String,
    parent_code: String,
    parent_name: String,
    level: String,
    status: String,
    status_label: String,
    color: String,
    fg: String,
    errors: usize,
    warnings: usize,
    /// The path as found (shown on hover) and its last part (shown).
    file: String,
    file_name: String,
    reason: String,
    new_requests: Option<String>,
    /// Last year's 新收申请 (`ingest --previous`).
    last_year_new_requests: Option<String>,
    report: Option<String>,
    correction: Option<String>,
}

pub(super) fn unit_row(u: &OverviewUnit) -> UnitRow {
    let (color, fg) = u.status.colours();
    UnitRow {
        code: u.code.clone(),
        name: u.name.clone(),
        parent_code: u.parent_code.clone(),
        parent_name: u.parent_name.clone(),
        level: level_label(&u.level),
        status: u.status.code().to_string(),
        status_label: u.status.label().to_string(),
        color: color.to_string(),
        fg: fg.to_string(),
        errors: u.errors,
        warnings: u.warnings,
        file: u.file.clone(),
        file_name: u.file.rsplit('/').next().unwrap_or(&u.file).to_string(),
        reason: u.reason.clone(),
        new_requests: u.new_requests.map(number_text),
        last_year_new_requests: u.last_year_new_requests.map(number_text),
        report: u.report.as_deref().map(href),
        correction: u.correction.as_deref().map(href),
    }
}

pub(super) fn percent(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 {
        0.0
    } else {
        round1(part / whole * 100.0)
    }
}

pub(super) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A link as given (relative, to a file we wrote), with the characters that would end or
/// change a URL path percent-encoded. Non-ASCII (Chinese names) is left as is.
pub(super) fn href(link: &str) -> String {
    let mut out = String::with_capacity(link.len());
    for c in link.chars() {
        let keep = !c.is_ascii() || c.is_ascii_alphanumeric() || "-._~/".contains(c);
        if keep {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}
