//! The commands, one file each, and the two streams they share.
//!
//! Every command follows one convention so its output can be piped: **stdout carries
//! data** (the findings of `check`, the list of `formats`) and nothing else; **stderr
//! carries progress and summaries** (what was written where, notes, the progress bar).
//! A script can then redirect or parse stdout without filtering out chatter, and a
//! person still sees the chatter on the terminal.
//!
//! Data goes through [`Stdout`], whose writes return `io::Result`: `println!` panics when
//! the reader has gone (`nianbao check … | head`), a returned error can end the run
//! quietly instead ([`reader_gone`]). Progress goes through [`status`], which never fails:
//! a lost status line is no reason to stop a command whose real output is files.

pub mod check;
pub mod fill;
pub mod formats;
pub mod ingest;
pub mod report;
pub mod template;

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use nianbao::format::{Format, Formats};
use nianbao::render::Templates;
use nianbao::roster::Roster;

/// How a command that ran to the end found the data; `main` turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to fix.
    Clean,
    /// The command ran, but the data has problems: a workbook with errors, a unit that
    /// did not report or was sent back.
    Problems,
}

/// A roster's bytes as CSV: a `.csv` as it is, a workbook (`.xlsx`, `.xlsm`, `.xls`,
/// `.ods` — what Excel users keep their roster in) as the CSV of its first sheet, so that
/// long numeric codes keep every digit and line numbers in messages are its row numbers.
pub fn roster_bytes(path: &Path) -> Result<Vec<u8>> {
    let workbook = path.extension().is_some_and(|e| {
        let e = e.to_string_lossy().to_lowercase();
        nianbao::read::SPREADSHEET_EXTENSIONS.contains(&e.as_str())
    });
    if workbook {
        let wb = nianbao::read::read(path)
            .with_context(|| format!("无法读取名册 {}", path.display()))?;
        Ok(wb.first_sheet_csv())
    } else {
        std::fs::read(path).with_context(|| format!("无法读取名册 {}", path.display()))
    }
}

/// The roster at `path` ([`roster_bytes`]), checked.
pub fn load_roster(path: &Path) -> Result<Roster> {
    let bytes = roster_bytes(path)?;
    Ok(Roster::parse(&bytes, &path.display().to_string())?)
}

/// The built-in formats, with the user's `--format-file` replacing or adding one.
pub fn load_formats(format_file: Option<&Path>) -> Result<Formats> {
    let formats = Formats::builtin();
    Ok(match format_file {
        Some(path) => formats.with(Format::load_file(path)?),
        None => formats,
    })
}

/// Standard output for data, locked once for the whole command.
pub struct Stdout(io::StdoutLock<'static>);

impl Stdout {
    pub fn lock() -> Stdout {
        Stdout(io::stdout().lock())
    }

    /// Writes `text` as is and flushes it, so a reader that has gone is noticed at the
    /// write that missed it rather than at exit, where the error would be lost.
    pub fn write(&mut self, text: &str) -> io::Result<()> {
        self.0.write_all(text.as_bytes())?;
        self.0.flush()
    }
}

/// Whether `err` is a write to a pipe whose reader has gone (`| head`). The reader has
/// what it wanted: not a failure of the tool, so `main` ends quietly with 0. Only
/// [`Stdout`] can produce it: the commands write their files through temporary files,
/// never to pipes, and reading never reports a broken pipe.
pub fn reader_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes one line of progress or summary to stderr. Errors are ignored: `eprintln!`
/// would panic on a closed stderr, and the command's work is done or still worth doing.
pub fn status(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// At most this many threads per core: more only costs the time to start them (a
/// hundred thousand threads take a minute) and their stacks.
const JOBS_PER_CORE: usize = 4;

/// The stack of each of rayon's threads: what a program's main thread usually has, since
/// [`in_pool`] moves the work that ran there onto one of them.
const WORKER_STACK: usize = 8 << 20;

/// Sets up rayon's global pool once: its size from `--jobs` (absent or 0: all cores),
/// at most [`JOBS_PER_CORE`] per core (with a note on stderr when more were asked), and
/// [`WORKER_STACK`] for each thread.
pub fn set_jobs(jobs: Option<usize>) -> Result<()> {
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK);
    if let Some(asked) = jobs.filter(|n| *n > 0) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let most = cores.saturating_mul(JOBS_PER_CORE);
        let n = asked.min(most);
        if n < asked {
            status(format_args!(
                "注意：--jobs {asked} 超过 CPU 核心数（{cores}）的 {JOBS_PER_CORE} 倍，按 {n} 个线程运行。"
            ));
        }
        pool = pool.num_threads(n);
    }
    pool.build_global().context("无法设置线程数")
}

/// Runs `work` on one of rayon's threads (after [`set_jobs`]), its parallel parts on
/// all of them. Why: memory is kept per thread by the allocator, and what the threads
/// free after a parallel pass (every unit's reports) stays with them; the parts of a
/// run that are not parallel (汇总表, the overview, the run record) reuse it when they
/// run on one of those threads, rather than taking more on the main thread. 10,000
/// files, one thread: peak 39.4–41.9 → 34.5–35.0 MB; two: 40.9–43.8 → 38.2–38.4 MB
/// (BENCHMARKS.md). It also lets `rayon::join` put the run's own steps side by side.
pub fn in_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

/// The report templates: the user's `--report-templates` directory, or the built-in ones.
pub fn report_templates(dir: Option<&Path>) -> Result<Templates> {
    Ok(match dir {
        Some(dir) => Templates::from_dir(dir)?,
        None => Templates::builtin(),
    })
}

/// The format a template or filled workbook is made in: `--format` if given, else the
/// one for the year.
pub fn format_for<'a>(formats: &'a Formats, id: Option<&str>, year: i32) -> Result<&'a Format> {
    Ok(match id {
        Some(id) => formats.by_id(id)?,
        None => formats.for_year(year)?,
    })
}
