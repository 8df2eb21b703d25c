//! One CSV output written safely: to a temporary file renamed into place, with a BOM if
//! asked, and every text cell guarded so that Excel does not run it as a formula.

use std::borrow::Cow;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{ConsolidateError, CsvOptions};
use crate::output::{FileRecord, Hashing};

/// The guard every CSV nianbao writes shares (also `template`'s distribution list).
pub use crate::output::neutralise;

/// One CSV file being written to a temporary file beside its final name: its header,
/// and which columns are numeric (written as they are; every other column goes through
/// [`neutralise`]).
pub(super) struct Sheet {
    /// Hashed as it is written: the run record and a package's manifest list each file
    /// with its SHA-256, and values.csv is most of what a run writes.
    writer: csv::Writer<Hashing<std::io::BufWriter<tempfile::NamedTempFile>>>,
    numeric: Vec<bool>,
    name: String,
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
        let mut file = Hashing::new(std::io::BufWriter::new(
            crate::output::temp_beside(&path).map_err(io)?,
        ));
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
            name: name.to_string(),
            path,
        })
    }

    pub(super) fn row(&mut self, fields: &[&str]) -> Result<(), csv::Error> {
        debug_assert_eq!(
            fields.len(),
            self.numeric.len(),
            "a row must match its header"
        );
        for (field, numeric) in fields.iter().zip(&self.numeric) {
            let text = if *numeric {
                Cow::Borrowed(*field)
            } else {
                neutralise(field)
            };
            self.writer.write_field(text.as_bytes())?;
        }
        // Ends the record.
        self.writer.write_record(None::<&[u8]>)
    }

    /// Puts the file in place of the previous one; its name (relative to the directory
    /// it was created in), size and SHA-256.
    pub(super) fn persist(self) -> Result<FileRecord, ConsolidateError> {
        let io = |source| ConsolidateError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let hashing = self.writer.into_inner().map_err(|e| io(e.into_error()))?;
        let (file, size, sha256) = hashing.finish();
        let tmp = file.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        crate::output::persist(tmp, &self.path).map_err(io)?;
        Ok(FileRecord {
            path: self.name,
            size,
            sha256,
        })
    }
}
