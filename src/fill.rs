//! Values CSV → filled workbooks (being written).

use std::path::{Path, PathBuf};

use crate::format::Format;
use crate::roster::Roster;

/// A failure to fill; names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    #[error("{0}")]
    Other(String),
}

/// Writes one filled workbook per unit found in `values` into `out`.
pub fn run(
    format: &Format,
    year: i32,
    roster: &Roster,
    values: &Path,
    out: &Path,
) -> Result<Vec<PathBuf>, FillError> {
    let _ = (format, year, roster, values, out);
    Err(FillError::Other("not yet".into()))
}
