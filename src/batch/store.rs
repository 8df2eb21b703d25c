//! The run's store: each file's submission kept on disk, so that memory does not grow
//! with the number of files.

use std::path::{Path, PathBuf};

use crate::validate::Submission;

/// The submissions of a run, kept on disk so that memory does not grow with the number of
/// files: only [`super::FileOutcome`] headers stay in memory. All submissions go, as JSON, into
/// one unnamed temporary file inside the output directory (same disk, never mixed with the
/// inputs, gone when the run ends even if it is killed). One file rather than one per
/// submission: creating and deleting thousands of small files costs more than the rest
/// of the store on some file systems (see BENCHMARKS.md).
#[derive(Debug)]
pub struct Store {
    file: std::sync::Mutex<StoreFile>,
    /// The output directory, to name it in errors.
    parent: PathBuf,
}

#[derive(Debug)]
struct StoreFile {
    file: std::fs::File,
    /// Where the next submission goes.
    end: u64,
}

/// Where one submission is in the [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    offset: u64,
    len: usize,
}

/// A stored submission could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("无法在 {path} 中保存中间结果：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("中间结果（{path} 中的临时文件）无法读回：{source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

impl Store {
    /// A new store in an unnamed temporary file inside `parent` (the output directory).
    pub fn new_in(parent: &Path) -> Result<Store, StoreError> {
        let file = tempfile::tempfile_in(parent).map_err(|source| StoreError::Io {
            path: parent.display().to_string(),
            source,
        })?;
        Ok(Store {
            file: std::sync::Mutex::new(StoreFile { file, end: 0 }),
            parent: parent.to_path_buf(),
        })
    }

    fn io_error(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.parent.display().to_string(),
            source,
        }
    }

    /// The file, even if another thread panicked while holding it (every write is one
    /// `write_all` at the recorded end, so a poisoned store is still consistent).
    fn lock(&self) -> std::sync::MutexGuard<'_, StoreFile> {
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a submission; serialised before taking the lock, so threads only queue
    /// for the write itself.
    pub fn put(&self, sub: &Submission) -> Result<Stored, StoreError> {
        use std::io::{Seek, SeekFrom, Write};
        let bytes = serde_json::to_vec(sub).map_err(|source| StoreError::Json {
            path: self.parent.display().to_string(),
            source,
        })?;
        let mut store = self.lock();
        let offset = store.end;
        store
            .file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| store.file.write_all(&bytes))
            .map_err(|e| self.io_error(e))?;
        store.end += bytes.len() as u64;
        Ok(Stored {
            offset,
            len: bytes.len(),
        })
    }

    pub fn get(&self, at: Stored) -> Result<Submission, StoreError> {
        self.get_part(at)
    }

    /// The parts of a stored submission that `T` names (a struct with some of
    /// [`Submission`]'s fields): the others are skipped, not built.
    pub fn get_part<T: serde::de::DeserializeOwned>(&self, at: Stored) -> Result<T, StoreError> {
        let bytes = self.read(at)?;
        serde_json::from_slice(&bytes).map_err(|source| self.json_error(source))
    }

    /// A submission as it is stored: its JSON, checked to be JSON but not parsed into a
    /// [`Submission`] (a package copies it as it is).
    pub fn get_raw(&self, at: Stored) -> Result<Box<serde_json::value::RawValue>, StoreError> {
        let bytes = self.read(at)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            self.json_error(serde::de::Error::custom(format_args!("不是 UTF-8：{e}")))
        })?;
        serde_json::value::RawValue::from_string(text).map_err(|source| self.json_error(source))
    }

    fn json_error(&self, source: serde_json::Error) -> StoreError {
        StoreError::Json {
            path: self.parent.display().to_string(),
            source,
        }
    }

    /// The bytes of one stored submission.
    fn read(&self, at: Stored) -> Result<Vec<u8>, StoreError> {
        use std::io::{Read, Seek, SeekFrom};
        let mut bytes = vec![0; at.len];
        let mut store = self.lock();
        store
            .file
            .seek(SeekFrom::Start(at.offset))
            .and_then(|_| store.file.read_exact(&mut bytes))
            .map_err(|e| self.io_error(e))?;
        Ok(bytes)
    }
}
