//! Writing output files safely: to a temporary file beside the final name, then renamed
//! into place, so a reader never sees half a file and an interrupted run leaves the
//! previous file as it was. The one place that does this for every stage.
//!
//! A run into an output directory (`ingest`, `report`) is a [`Run`]: it holds a lock
//! on the directory for as long as it runs, records what it writes, and leaves a run
//! record ([`RUN_RECORD`]) listing every file it wrote with its size and SHA-256. The
//! record is what a later run may delete and what `report` trusts; a run that did not
//! finish is recognised by the next one ([`Run::unfinished`]).
//!
//! It is also the one guard of every CSV text cell against formula injection
//! ([`neutralise`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

/// A text cell of a CSV as Excel must not execute it: a value beginning with `=`, `+`,
/// `-`, `@`, tab or carriage return is prefixed with a single quote. Every CSV nianbao
/// writes puts its text through this (`ingest`'s outputs and `template`'s 分发清单.csv);
/// numeric columns are written as they are.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    persist(tmp, path)
}

/// The files `ingest` writes directly in its output directory. Inputs are never among
/// them: a run refuses to start when one of these would replace the roster, a
/// `--previous` file or a returned workbook.
/// The CSV files of a run's data that `ingest` writes into `OUT` (its run record lists
/// them; `report` reads them back; a package carries them).
pub const CSV_FILES: [&str; 6] = [
    "values.csv",
    "units.csv",
    "sections.csv",
    "rollup.csv",
    "diagnostics.csv",
    "files.csv",
];

pub const OUTPUT_FILES: &[&str] = &[
    "values.csv",
    "units.csv",
    "rollup.csv",
    "diagnostics.csv",
    "sections.csv",
    "files.csv",
    "roster.csv",
    "index.html",
    "汇总明细.xlsx",
    "催报名单.xlsx",
    "催报名单.csv",
    RUN_RECORD,
    LOCK_FILE,
];

/// How the packages `ingest` writes directly in its output directory end: one
/// `<代码>_<名称>_<年度>_上报包.zip` per top unit of the roster (see `package`).
pub const PACKAGE_SUFFIX: &str = "_上报包.zip";

/// The files `ingest` writes directly in its output directory by pattern rather than by
/// one fixed name, as `ingest --help` shows them.
pub const OUTPUT_PATTERNS: &[&str] = &["<代码>_<名称>_<年度>_上报包.zip"];

/// Whether `name`, directly in the output directory, is one `ingest` writes there
/// ([`OUTPUT_FILES`], or a package: [`OUTPUT_PATTERNS`]).
pub fn is_output_name(name: &str) -> bool {
    OUTPUT_FILES.contains(&name) || name.ends_with(PACKAGE_SUFFIX)
}

/// The subdirectories of the output directory whose published files
/// ([`PUBLISHED_EXTENSIONS`]) a run writes, and removes when stale (see `publish`).
pub const OUTPUT_DIRS: &[&str] = &OWNED_DIRS;

/// Marks a workbook nianbao made that is not a return (the roll-up `汇总表.xlsx`), so
/// that it is recognised by its content wherever it is moved: the custom document
/// property [`GENERATED_PROPERTY`] with this value, and this text in the first cell of
/// each sheet's hidden key column (cells survive a re-save as .xls or .ods; properties
/// may not).
pub const ROLLUP_MARK: &str = "nianbao-rollup";

/// The custom document property that says which of nianbao's own outputs a workbook is.
pub const GENERATED_PROPERTY: &str = "nianbao_generated";

/// How temporary output files start, so that those a killed run left behind can be
/// recognised and removed by the next run ([`remove_stale_temps`]).
pub const TEMP_PREFIX: &str = ".nianbao-tmp-";

/// A temporary file in `path`'s directory, to be [`persist`]ed as `path`.
pub fn temp_beside(path: &Path) -> std::io::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
}

/// Removes the temporary files ([`TEMP_PREFIX`]) that a run killed half-way left in
/// `dir` (a normal run removes its own). A missing `dir` has none.
pub fn remove_stale_temps(dir: &Path) -> std::io::Result<()> {
    remove_files_where(dir, |name| name.starts_with(TEMP_PREFIX))
}

/// Removes the regular files directly in `dir` whose name `stale` picks; a missing `dir`
/// has none. Directories and everything else are left alone.
pub fn remove_files_where(dir: &Path, stale: impl Fn(&str) -> bool) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if stale(&entry.file_name().to_string_lossy()) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Renames a finished temporary file into place. Temporary files are created readable
/// by their owner only; outputs are shared (a coordinator's colleagues, a file server),
/// so they get the usual `rw-r--r--` first.
pub fn persist(tmp: NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

// ── Hashes ─────────────────────────────────────────────────────────────────────────

/// The SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The size and SHA-256 of a file, read in pieces.
pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut reader = Sha256Reader::new(File::open(path)?);
    std::io::copy(&mut reader, &mut std::io::sink())?;
    Ok(reader.finish())
}

/// A reader that hashes what passes through it: the size and SHA-256 of a stream read
/// once for another purpose (a package member checked while it is parsed).
pub struct Sha256Reader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Sha256Reader<R> {
    pub fn new(inner: R) -> Sha256Reader<R> {
        Sha256Reader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// How many bytes were read, and their SHA-256 in lower-case hex.
    pub fn finish(self) -> (u64, String) {
        (self.size, hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// A writer that counts and hashes what goes through it (a file written piece by piece
/// is recorded without reading it back).
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The writer back, with the size and SHA-256 of what was written.
    pub fn finish(self) -> (W, u64, String) {
        (self.inner, self.size, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

// ── The run record ───────────────────────────────────────────────────────────────────

/// The run record in `OUT`: what the last run wrote there. Visible (a coordinator may
/// open it) and deterministic: it holds no clock time and no option that does not change
/// the outputs, so that the same inputs leave the same bytes in every file.
pub const RUN_RECORD: &str = "运行记录.json";

/// The lock file in `OUT`, locked by the run that is writing there (an advisory lock
/// through `fs4`: the operating system releases it when the process ends, however it
/// ends, so a lock file left behind blocks nothing). While a run is under way it also
/// holds that run's journal: a first line saying which command started when, then each
/// file the run is about to write. A run that finishes empties it; one that is killed
/// leaves it for the next run to read. It is never removed (removing a lock file while
/// another process waits on it would let two runs in at once).
pub const LOCK_FILE: &str = "nianbao.lock";

/// The directories of `OUT` whose published files ([`PUBLISHED_EXTENSIONS`]) a run owns.
pub const OWNED_DIRS: [&str; 3] = ["reports", "rollups", "corrections"];
/// What a run publishes in [`OWNED_DIRS`]; only such files are ever removed there.
pub const PUBLISHED_EXTENSIONS: [&str; 5] = ["html", "md", "docx", "xlsx", "pdf"];

/// Whether the run record says the run finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Written first, when a run begins to write: until the record says `complete`,
    /// the directory may hold files of two runs.
    Running,
    /// Written last, when every file of the run is in place.
    Complete,
}

/// One file a run wrote, relative to `OUT` (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The contents of [`RUN_RECORD`]: read with its files as a list; written with whatever
/// lists them (`F`), so that a run of 100,000 units streams its 200,000 files into the
/// record rather than copying them into a list first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord<F = Vec<FileRecord>> {
    /// `nianbao`.
    pub tool: String,
    /// The version of the tool that wrote the record.
    pub version: String,
    pub state: RunState,
    /// The command that last wrote into `OUT`, as given, without the options that do not
    /// change what is written (`--out`, `--jobs`, `--quiet`).
    pub command: Vec<String>,
    /// The `ingest` whose CSV files these are (the same as `command` after an ingest;
    /// kept by `report`).
    pub ingest: Vec<String>,
    /// The report year.
    pub year: i32,
    /// Every file the run wrote (or, for `report`, kept from the ingest), by path. While
    /// [`RunState::Running`]: the files earlier runs wrote that the run may replace.
    pub files: F,
}

impl RunRecord {
    /// The entry of `path` (`values.csv`, `reports/…`), if the run wrote it.
    pub fn file(&self, path: &str) -> Option<&FileRecord> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Reads the run record of `dir`; `None` when there is none.
pub fn read_record(dir: &Path) -> Result<Option<RunRecord>, RunError> {
    let path = dir.join(RUN_RECORD);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(RunError::io(&path, source)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| RunError::BadRecord {
            path: path.display().to_string(),
            reason: format!("不是有效的运行记录（{e}）"),
        })
}

/// Checks that the file a record lists is in `dir` as the run wrote it.
pub fn check_file(dir: &Path, file: &FileRecord) -> Result<(), RunError> {
    let path = dir.join(&file.path);
    let changed = |what: String| RunError::Changed {
        path: path.display().to_string(),
        what,
    };
    let (size, sha256) = match sha256_file(&path) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(changed("文件不存在".into()))
        }
        Err(source) => return Err(RunError::io(&path, source)),
    };
    if size != file.size {
        return Err(changed(format!(
            "现有 {size} 字节，记录为 {} 字节",
            file.size
        )));
    }
    if sha256 != file.sha256 {
        return Err(changed("内容已被改动（SHA-256 与记录不同）".into()));
    }
    Ok(())
}

/// Whether `path` (relative, `/`-separated) names a file a run may have published: a
/// `.csv`, `.html` or package ([`PACKAGE_SUFFIX`]) directly in `OUT`, or a published file directly in one of
/// [`OWNED_DIRS`]. Nothing else named by a record or a journal is ever removed.
fn is_published_path(path: &str) -> bool {
    let plain = |name: &str| {
        !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['\\', ':', '\0'])
            && name != RUN_RECORD
            && name != LOCK_FILE
    };
    let extension = |name: &str| {
        Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_owned)
    };
    match path.split('/').collect::<Vec<_>>()[..] {
        [name] => {
            plain(name)
                && (matches!(extension(name).as_deref(), Some("csv" | "html"))
                    || name.ends_with(PACKAGE_SUFFIX))
        }
        [dir, name] => {
            OWNED_DIRS.contains(&dir)
                && plain(name)
                && extension(name).is_some_and(|e| PUBLISHED_EXTENSIONS.contains(&e.as_str()))
        }
        _ => false,
    }
}

/// A failure to take, record or finish a run in an output directory.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "输出目录 {out} 正被另一个 nianbao 使用（{lock} 已被锁定）：同时写入同一目录会使结果混杂。请等那次运行结束后再试，或换一个输出目录"
    )]
    InUse { out: String, lock: String },
    #[error(
        "{path} 是符号链接（或目录联接）：nianbao 不会写到输出目录以外，也不会删除链接所指的文件。请把它换成普通文件夹（或删除它）后再运行"
    )]
    Linked { path: String },
    #[error("无法锁定 {path}（需要锁定才能确保没有另一个 nianbao 同时写入）：{source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error("运行记录 {path} 无法读取：{reason}")]
    BadRecord { path: String, reason: String },
    #[error(
        "{path} 与运行记录不符（{what}），已不是那次运行写出的文件；请重新运行 nianbao ingest"
    )]
    Changed { path: String, what: String },
    #[error("{path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl RunError {
    fn io(path: &Path, source: std::io::Error) -> RunError {
        RunError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

// ── The run ──────────────────────────────────────────────────────────────────────────

/// What the journal of a run that did not finish says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unfinished {
    /// The command, when its journal says.
    pub command: Vec<String>,
    /// When it started (Beijing time), when its journal says.
    pub started: Option<String>,
}

impl std::fmt::Display for Unfinished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("上次运行没有完成")?;
        let what =
            (!self.command.is_empty()).then(|| format!("nianbao {}", self.command.join(" ")));
        let when = self.started.as_ref().map(|t| format!("开始于 {t}"));
        let said: Vec<String> = what.into_iter().chain(when).collect();
        if !said.is_empty() {
            write!(f, "（{}）", said.join("，"))?;
        }
        Ok(())
    }
}

/// The first line of a run's journal in [`LOCK_FILE`].
#[derive(Debug, Serialize, Deserialize)]
struct JournalHeader {
    command: Vec<String>,
    started: String,
    pid: u32,
}

/// What [`Run::finish`] did that the user should hear of.
#[derive(Debug, Default)]
pub struct Finished {
    /// Files an earlier run wrote that are stale now but were changed since (by hand):
    /// kept, not removed.
    pub kept: Vec<String>,
}

impl Finished {
    /// What to tell the user, if anything.
    pub fn note(&self) -> Option<String> {
        (!self.kept.is_empty()).then(|| {
            format!(
                "注意：以下文件是以前的运行生成的，本次不再生成，但此后被改动过，所以没有删除：{}",
                self.kept.join("、")
            )
        })
    }
}

/// One run writing into an output directory, from [`Run::begin`] (the directory locked,
/// what earlier runs left read) through [`Run::start`] (the record says a run is under
/// way) to [`Run::finish`] (stale files removed, the record complete, the lock released).
/// Dropped without `finish` (an error), it leaves the record saying the run did not
/// finish, which is true.
pub struct Run {
    out: PathBuf,
    /// The locked [`LOCK_FILE`], also the journal.
    journal: Mutex<File>,
    command: Vec<String>,
    found: Option<RunRecord>,
    found_error: Option<RunError>,
    unfinished: Option<Unfinished>,
    /// What the journal of a run that did not finish names: that run's files, whatever
    /// they hold now (it may have written them after the record was written).
    journaled: BTreeSet<String>,
    /// Files of the earlier run kept as they are (`report` keeps the CSV files).
    carried: Vec<FileRecord>,
    /// Each file this run wrote, with its size and SHA-256, as it was written: kept on
    /// disk until [`Run::finish`] lists them, since a run of 100,000 units writes over
    /// 200,000 files.
    written: Mutex<WrittenLog>,
    started: Option<(i32, Vec<String>)>,
}

impl Run {
    /// Locks `out` (which must exist) for a run of `command`, and reads what the runs
    /// before it left: the run record, and the journal of one that did not finish.
    /// Refuses when another run holds the lock, and when an owned directory (or the lock
    /// file) is a symbolic link or junction: nothing is written through a link.
    pub fn begin(out: &Path, command: Vec<String>) -> Result<Run, RunError> {
        let lock = out.join(LOCK_FILE);
        for path in OWNED_DIRS.iter().map(|d| out.join(d)).chain([lock.clone()]) {
            refuse_link(&path)?;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(|source| RunError::Lock {
                path: lock.display().to_string(),
                source,
            })?;
        // Named in full: `File` has an inherent `try_lock` since Rust 1.89.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(RunError::InUse {
                    out: out.display().to_string(),
                    lock: LOCK_FILE.to_string(),
                })
            }
            Err(fs4::TryLockError::Error(source)) => {
                return Err(RunError::Lock {
                    path: lock.display().to_string(),
                    source,
                })
            }
        }
        let mut text = Vec::new();
        (&file)
            .read_to_end(&mut text)
            .map_err(|source| RunError::io(&lock, source))?;
        let text = String::from_utf8_lossy(&text);
        let mut lines = text.lines();
        let header = lines.next().filter(|l| !l.trim().is_empty());
        let journaled: BTreeSet<String> = lines
            .filter(|l| is_published_path(l))
            .map(str::to_string)
            .collect();
        let written = WrittenLog::new_in(out).map_err(|source| RunError::io(out, source))?;
        let (found, found_error) = match read_record(out) {
            Ok(found) => (found, None),
            Err(e @ RunError::BadRecord { .. }) => (None, Some(e)),
            Err(e) => return Err(e),
        };
        let unfinished = match (header, &found) {
            (Some(line), _) => {
                let said: Option<JournalHeader> = serde_json::from_str(line).ok();
                Some(Unfinished {
                    command: said.as_ref().map(|h| h.command.clone()).unwrap_or_default(),
                    started: said.map(|h| h.started),
                })
            }
            (None, Some(r)) if r.state == RunState::Running => Some(Unfinished {
                command: r.command.clone(),
                started: None,
            }),
            _ => None,
        };
        Ok(Run {
            out: out.to_path_buf(),
            journal: Mutex::new(file),
            command,
            found,
            found_error,
            unfinished,
            journaled,
            carried: Vec::new(),
            written: Mutex::new(written),
            started: None,
        })
    }

    /// The run record the last run left, if there is one and it could be read.
    pub fn found(&self) -> Option<&RunRecord> {
        self.found.as_ref()
    }

    /// Why the run record that is there could not be read.
    pub fn found_error(&self) -> Option<&RunError> {
        self.found_error.as_ref()
    }

    /// Set when the last run into `out` began to write and did not finish (killed, or
    /// stopped by an error): the directory may hold files of two runs.
    pub fn unfinished(&self) -> Option<&Unfinished> {
        self.unfinished.as_ref()
    }

    /// Keeps the files of the last run that `keep` picks as they are (they stay in the
    /// record and are not removed), those still there with their recorded size.
    pub fn carry(&mut self, keep: impl Fn(&str) -> bool) {
        let Some(found) = &self.found else {
            return;
        };
        self.carried = found
            .files
            .iter()
            .filter(|f| keep(&f.path) && is_published_path(&f.path))
            .filter(|f| {
                std::fs::symlink_metadata(self.out.join(&f.path))
                    .is_ok_and(|m| m.is_file() && m.len() == f.size)
            })
            .cloned()
            .collect();
    }

    /// Records that the run begins to write: the record says so (listing what earlier
    /// runs wrote, so that a run killed from here on leaves enough to clean up after it),
    /// and the journal is started. `ingest` is the ingest whose CSV files the run's
    /// outputs are (for `ingest`, its own command).
    pub fn start(&mut self, year: i32, ingest: Vec<String>) -> Result<(), RunError> {
        let mut files = Vec::new();
        for (path, known) in self.owned() {
            match known {
                Some(f) => files.push(f.clone()),
                None => {
                    if let Ok((size, sha256)) = sha256_file(&self.out.join(path)) {
                        let path = path.to_string();
                        files.push(FileRecord { path, size, sha256 });
                    }
                }
            }
        }
        self.write_record(RunState::Running, year, &ingest, files)?;
        let header = JournalHeader {
            command: self.command.clone(),
            started: beijing_time(std::time::SystemTime::now()),
            pid: std::process::id(),
        };
        let line = serde_json::to_string(&header).unwrap_or_default();
        let lock = self.out.join(LOCK_FILE);
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        journal
            .set_len(0)
            .and_then(|_| journal.rewind())
            .and_then(|_| writeln!(journal, "{line}"))
            .map_err(|source| RunError::io(&lock, source))?;
        self.started = Some((year, ingest));
        Ok(())
    }

    /// Notes in the journal that the run is about to write `path` (relative to `OUT`,
    /// `/`-separated), so that a run killed while writing it leaves it known as its own.
    pub fn intend(&self, path: &str) -> std::io::Result<()> {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(journal, "{path}")
    }

    /// Records a file the run wrote.
    pub fn wrote(&self, path: &str, size: u64, sha256: String) {
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(path, size, &sha256);
    }

    /// Records a file the run wrote by other means, reading it back for its hash.
    pub fn wrote_file(&self, path: &str) -> std::io::Result<()> {
        let (size, sha256) = sha256_file(&self.out.join(path))?;
        self.wrote(path, size, sha256);
        Ok(())
    }

    /// Writes `path` (relative to `OUT`) atomically and records it.
    pub fn write(&self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.intend(path)?;
        write_atomic(&self.out.join(path), bytes)?;
        self.wrote(path, bytes.len() as u64, sha256_hex(bytes));
        Ok(())
    }

    /// Ends the run: removes what earlier runs wrote that this one neither wrote nor
    /// kept (each only if it is still as recorded: a file changed by hand since is
    /// kept, and listed in the result), writes the record as complete, empties the
    /// journal and releases the lock.
    pub fn finish(mut self) -> Result<Finished, RunError> {
        let (year, ingest) = self.started.take().unwrap_or_default();
        let written = self.written.get_mut().unwrap_or_else(|p| p.into_inner());
        let mut files = written
            .files()
            .map_err(|source| RunError::io(&self.out, source))?;
        for f in std::mem::take(&mut self.carried) {
            files
                .entry(f.path.into_boxed_str())
                .or_insert((f.size, f.sha256.into_boxed_str()));
        }
        let mut finished = Finished::default();
        for (path, known) in self.owned() {
            if files.contains_key(path) {
                continue;
            }
            if !remove_if_unchanged(&self.out, path, known)? {
                finished.kept.push(path.to_string());
            }
        }
        self.write_record(RunState::Complete, year, &ingest, Written(&files))?;
        let lock = self.out.join(LOCK_FILE);
        let journal = self.journal.get_mut().unwrap_or_else(|p| p.into_inner());
        journal
            .set_len(0)
            .map_err(|source| RunError::io(&lock, source))?;
        Ok(finished)
    }

    /// What earlier runs wrote, by path: with its record, or `None` when only the journal
    /// of a run that did not finish names it.
    fn owned(&self) -> impl Iterator<Item = (&str, Option<&FileRecord>)> {
        let recorded = self
            .found
            .iter()
            .flat_map(|r| &r.files)
            .filter(|f| is_published_path(&f.path) && !self.journaled.contains(&f.path))
            .map(|f| (f.path.as_str(), Some(f)));
        recorded.chain(self.journaled.iter().map(|p| (p.as_str(), None)))
    }

    fn write_record(
        &self,
        state: RunState,
        year: i32,
        ingest: &[String],
        files: impl Serialize,
    ) -> Result<(), RunError> {
        let record = RunRecord {
            tool: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            state,
            command: self.command.clone(),
            ingest: ingest.to_vec(),
            year,
            files,
        };
        // Streamed into its file: a run of 100,000 units lists over 200,000 files.
        let path = self.out.join(RUN_RECORD);
        let io = |source| RunError::io(&path, source);
        let tmp = temp_beside(&path).map_err(io)?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file());
            serde_json::to_writer_pretty(&mut out, &record).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
            out.flush().map_err(io)?;
        }
        persist(tmp, &path).map_err(io)
    }
}

/// Path → size and SHA-256 (hex) of each file a run wrote.
type WrittenFiles = BTreeMap<Box<str>, (u64, Box<str>)>;

/// The files a run wrote, in the order it wrote them, appended to an unnamed temporary
/// file in the output directory (gone when the run ends, even if it is killed): memory
/// stays flat however many files a run writes, and the list is read back once, at the
/// end. Each entry is the path, the size (u64, little-endian) and the SHA-256 in hex, each
/// text preceded by its length in bytes (u32, little-endian).
struct WrittenLog {
    file: std::io::BufWriter<File>,
    /// The first error writing the log, reported when the files are listed.
    error: Option<std::io::Error>,
}

impl WrittenLog {
    fn new_in(out: &Path) -> std::io::Result<WrittenLog> {
        Ok(WrittenLog {
            file: std::io::BufWriter::new(tempfile::tempfile_in(out)?),
            error: None,
        })
    }

    fn add(&mut self, path: &str, size: u64, sha256: &str) {
        if self.error.is_some() {
            return;
        }
        let out = &mut self.file;
        let written = put_text(out, path)
            .and_then(|_| out.write_all(&size.to_le_bytes()))
            .and_then(|_| put_text(out, sha256));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// Every file written, by path; a path written twice has its last size and hash.
    fn files(&mut self) -> std::io::Result<WrittenFiles> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.file.flush()?;
        let file = self.file.get_mut();
        file.rewind()?;
        let mut log = std::io::BufReader::new(&*file);
        let mut files = WrittenFiles::new();
        while let Some(path) = get_text(&mut log)? {
            let mut size = [0u8; 8];
            log.read_exact(&mut size)?;
            let sha256 = get_text(&mut log)?.ok_or(std::io::ErrorKind::UnexpectedEof)?;
            files.insert(path, (u64::from_le_bytes(size), sha256));
        }
        Ok(files)
    }
}

/// A text of the [`WrittenLog`]: its length in bytes (u32, little-endian), then its bytes.
fn put_text(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    let len = u32::try_from(text.len()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(text.as_bytes())
}

/// The next text of the [`WrittenLog`], `None` at its end.
fn get_text(log: &mut impl Read) -> std::io::Result<Option<Box<str>>> {
    let mut len = [0u8; 4];
    match log.read_exact(&mut len) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut bytes = vec![0; u32::from_le_bytes(len) as usize];
    log.read_exact(&mut bytes)?;
    String::from_utf8(bytes)
        .map(|s| Some(s.into_boxed_str()))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// The files a run wrote, as [`Run`] holds them (path → size and SHA-256), listed as
/// [`FileRecord`]s.
struct Written<'a>(&'a WrittenFiles);

impl Serialize for Written<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            path: &'a str,
            size: u64,
            sha256: &'a str,
        }
        serializer.collect_seq(self.0.iter().map(|(path, (size, sha256))| Entry {
            path,
            size: *size,
            sha256,
        }))
    }
}

/// Refuses a path that is a symbolic link or junction (on Windows `is_symlink` is true
/// for both).
fn refuse_link(path: &Path) -> Result<(), RunError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(RunError::Linked {
            path: path.display().to_string(),
        }),
        _ => Ok(()),
    }
}

/// Removes the earlier run's `path` if it is still a regular file as recorded (any file
/// the journal names: it is that run's). Returns false when it was kept.
fn remove_if_unchanged(
    out: &Path,
    path: &str,
    known: Option<&FileRecord>,
) -> Result<bool, RunError> {
    let mut full = out.to_path_buf();
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        full.push(part);
        if parts.peek().is_some() {
            // An owned directory replaced by a link since: nothing in it is ours.
            match std::fs::symlink_metadata(&full) {
                Ok(m) if m.is_dir() => {}
                _ => return Ok(true),
            }
        }
    }
    let meta = match std::fs::symlink_metadata(&full) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(source) => return Err(RunError::io(&full, source)),
    };
    if !meta.is_file() {
        return Ok(false);
    }
    if let Some(known) = known {
        if meta.len() != known.size {
            return Ok(false);
        }
        let (_, sha256) = sha256_file(&full).map_err(|source| RunError::io(&full, source))?;
        if sha256 != known.sha256 {
            return Ok(false);
        }
    }
    match std::fs::remove_file(&full) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(RunError::io(&full, source)),
    }
}

/// `t` as Beijing time (UTC+8, no daylight saving), `2025-01-12 14:03:05（北京时间）`.
fn beijing_time(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
        + 8 * 3600;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 → civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02}:{:02}（北京时间）",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("值.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // What a killed run leaves behind is recognised and removed; nothing else is.
        let left = temp_beside(&path).unwrap();
        let (_, left) = left.keep().unwrap();
        std::fs::write(dir.path().join("其他.txt"), b"x").unwrap();
        remove_stale_temps(dir.path()).unwrap();
        assert!(!left.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }
}

#[cfg(test)]
mod run_tests {
    use super::*;

    #[test]
    fn hashes_and_times() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut w = Hashing::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (bytes, size, sha) = w.finish();
        assert_eq!((bytes.as_slice(), size), (&b"abc"[..], 3));
        assert_eq!(sha, sha256_hex(b"abc"));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_736_661_785);
        assert_eq!(beijing_time(t), "2025-01-12 14:03:05（北京时间）");
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_825_600);
        assert_eq!(beijing_time(t), "2000-02-29 20:00:00（北京时间）");
    }

    #[test]
    fn only_published_paths_are_ever_removed() {
        for ok in [
            "values.csv",
            "index.html",
            "reports/110_山市镇.html",
            "rollups/汇总表.xlsx",
            "corrections/a.xlsx",
        ] {
            assert!(is_published_path(ok), "{ok}");
        }
        for bad in [
            "",
            "../x.csv",
            "/etc/x.csv",
            "reports/../x.html",
            "reports/sub/x.html",
            "reports\\x.html",
            "C:x.csv",
            "notes.txt",
            "reports/说明.txt",
            "other/x.html",
            RUN_RECORD,
            LOCK_FILE,
            "reports/..",
        ] {
            assert!(!is_published_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_run_records_removes_its_own_and_notices_an_unfinished_one() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::create_dir_all(out.join("reports")).unwrap();
        std::fs::write(out.join("reports/mine.html"), "用户的").unwrap();
        let mut run = Run::begin(out, vec!["ingest".into()]).unwrap();
        assert!(run.unfinished().is_none() && run.found().is_none());
        // A second run cannot begin while the first holds the lock.
        assert!(matches!(
            Run::begin(out, vec!["report".into()]),
            Err(RunError::InUse { .. })
        ));
        run.start(2020, vec!["ingest".into()]).unwrap();
        run.write("reports/a.html", b"a").unwrap();
        run.write("reports/b.html", b"b").unwrap();
        assert!(run.finish().unwrap().kept.is_empty());
        let record = read_record(out).unwrap().unwrap();
        assert_eq!(record.state, RunState::Complete);
        assert_eq!(record.files.len(), 2);
        assert_eq!(std::fs::read(out.join(LOCK_FILE)).unwrap(), b"");

        // The next run writes only a; b goes, the user's file stays. It is killed
        // (dropped) after writing c.
        let mut run = Run::begin(out, vec!["ingest".into()]).unwrap();
        run.start(2020, vec!["ingest".into()]).unwrap();
        run.write("reports/c.html", b"c").unwrap();
        drop(run);
        let mut run = Run::begin(out, vec!["ingest".into()]).unwrap();
        let unfinished = run.unfinished().expect("noticed").to_string();
        assert!(unfinished.starts_with("上次运行没有完成（nianbao ingest，开始于 "));
        run.start(2020, vec!["ingest".into()]).unwrap();
        run.write("reports/a.html", b"a").unwrap();
        run.finish().unwrap();
        let mut left: Vec<String> = std::fs::read_dir(out.join("reports"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.html", "mine.html"]);
    }

    #[test]
    fn the_written_log_lists_each_path_once_with_its_last_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = WrittenLog::new_in(dir.path()).unwrap();
        log.add("reports/山市镇.html", 10, &"a".repeat(64));
        log.add("index.html", 3, &"b".repeat(64));
        log.add("reports/山市镇.html", 12, &"c".repeat(64));
        let files = log.files().unwrap();
        let listed: Vec<(&str, u64, &str)> = files
            .iter()
            .map(|(path, (size, sha256))| (&**path, *size, &**sha256))
            .collect();
        let (index, town) = ("b".repeat(64), "c".repeat(64));
        assert_eq!(
            listed,
            [
                ("index.html", 3, index.as_str()),
                ("reports/山市镇.html", 12, town.as_str())
            ]
        );
        // The log is in the directory only as an unnamed file: nothing is left there.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
