//! One CSV output written safely: to a temporary file renamed into place, with a BOM if
//! asked, and every text cell guarded so that Excel does not run it as a formula.

use std::borrow::Cow;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{ConsolidateError, CsvOptions};

/// The guard every CSV nianbao writes shares (also `template`'s distribution list).
pub use crate::output::neutralise;

/// One CSV file being written to a temporary file beside its final name: its header,
/// and which columns are numeric (written as they are; every other column goes through
/// [`neutralise`]).
pub(super) struct Sheet {
    writer: csv::Writer<std::io::BufWriter<tempfile::NamedTempFile>>,
    numeric: Vec<bool>,
    path: PathBuf,
}

impl Sheet {
    pub(super) fn create(
        dir: &Path,
        name: &str,
        header: &[&str],
        numeric: &[&str],
        options: CsvOptions,
    ) -> Result<Sheet, ConsolidateError> {
        let path = dir.join(name);
        let io = |source| ConsolidateError::Write {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::io::BufWriter::new(crate::output::temp_beside(&path).map_err(io)?);
        if options.bom {
            file.write_all(b"\xEF\xBB\xBF").map_err(io)?;
        }
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(file);
        writer.write_record(header)?;
        let numeric = header.iter().map(|h| numeric.contains(h)).collect();
        Ok(Sheet {
            writer,
            numeric,
            path,
        })
    }

    pub(super) fn row(&mut self, fields: &[&str]) -> Result<(), csv::Error> {
        debug_assert_eq!(
            fields.len(),
            self.numeric.len(),
            "a row must match its header"
        );
        let record = fields.iter().zip(&self.numeric).map(|(field, numeric)| {
            if *numeric {
                Cow::Borrowed(*field)
            } else {
                neutralise(field)
            }
        });
        self.writer.write_record(record.map(|c| c.into_owned()))
    }

    pub(super) fn persist(self) -> Result<(), ConsolidateError> {
        let io = |source| ConsolidateError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let file = self.writer.into_inner().map_err(|e| io(e.into_error()))?;
        let tmp = file.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        crate::output::persist(tmp, &self.path).map_err(io)
    }
}
