//! The status table of the overview: how many units have each status, in the order
//! [`Status::ALL`] lists them, with the label and colours each status owns.

use std::collections::BTreeMap;

use super::{OverviewUnit, StatusCount};
use crate::batch::Status;

/// How many units have each status, in [`Status::ALL`]'s order; statuses no unit has are
/// left out.
pub(super) fn status_counts(units: &[OverviewUnit]) -> Vec<StatusCount> {
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for u in units {
        *counts.entry(u.status).or_default() += 1;
    }
    Status::ALL
        .into_iter()
        .filter_map(|status| {
            let count = *counts.get(&status)?;
            let (color, fg) = status.colours();
            Some(StatusCount {
                status: status.code().to_string(),
                label: status.label().to_string(),
                color: color.to_string(),
                fg: fg.to_string(),
                count,
            })
        })
        .collect()
}
