//! The floor for `nianbao ingest`: open every workbook with calamine and read every
//! sheet's cached values, and nothing else. Used by `scripts/bench.sh`.
//!
//! ```sh
//! cargo build --release --examples
//! target/release/examples/read_baseline [--jobs N] FILES_OR_DIRS...
//! ```
//!
//! Directories are walked recursively (hidden entries included, as files are; symlinks
//! followed, as `ingest` does). Every file found is tried, whatever its extension:
//! `open_workbook_auto` picks a reader by extension and falls back to sniffing. A file
//! that cannot be opened or read (empty, a PDF, corrupt, or one that makes calamine
//! panic) counts as an error and the run goes on. The files are processed in parallel
//! on rayon's global pool, sized by `--jobs` (default: all cores).
//!
//! Prints one line: `files=… ok=… errors=… sheets=… cells=… seconds=… files_per_s=…`.
//! The time covers the parallel read only (not walking the directories), so that it is
//! comparable with the wall time of a whole `ingest` run only as a lower bound.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use calamine::{open_workbook_auto, Reader};
use rayon::prelude::*;

const USAGE: &str = "usage: read_baseline [--jobs N] FILES_OR_DIRS...";

fn main() -> ExitCode {
    let mut jobs: Option<usize> = None;
    let mut inputs: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--jobs" || text == "-j" {
            match args.next().and_then(|v| v.to_str()?.parse().ok()) {
                Some(n) => jobs = Some(n),
                None => {
                    eprintln!("read_baseline: --jobs needs a number\n{USAGE}");
                    return ExitCode::from(2);
                }
            }
        } else if let Some(n) = text.strip_prefix("--jobs=") {
            match n.parse() {
                Ok(n) => jobs = Some(n),
                Err(_) => {
                    eprintln!("read_baseline: --jobs needs a number\n{USAGE}");
                    return ExitCode::from(2);
                }
            }
        } else if text == "--help" || text == "-h" {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        } else {
            inputs.push(PathBuf::from(arg));
        }
    }
    if inputs.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    if let Some(n) = jobs.filter(|n| *n > 0) {
        if let Err(err) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("read_baseline: cannot size the thread pool: {err}");
            return ExitCode::from(2);
        }
    }

    let mut files = Vec::new();
    for input in &inputs {
        if !input.exists() {
            eprintln!("read_baseline: not found: {}", input.display());
            return ExitCode::from(2);
        }
        for entry in walkdir::WalkDir::new(input).follow_links(true) {
            match entry {
                Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                Ok(_) => {}
                Err(err) => eprintln!("read_baseline: {err}"),
            }
        }
    }
    files.sort();

    // A panic in calamine on a hostile file is that file's error, not the run's end.
    std::panic::set_hook(Box::new(|_| {}));
    let sheets = AtomicU64::new(0);
    let cells = AtomicU64::new(0);
    let start = Instant::now();
    let errors: usize = files
        .par_iter()
        .map(
            |path| match catch_unwind(AssertUnwindSafe(|| read_all(path))) {
                Ok(Ok((s, c))) => {
                    sheets.fetch_add(s, Ordering::Relaxed);
                    cells.fetch_add(c, Ordering::Relaxed);
                    0
                }
                Ok(Err(_)) | Err(_) => 1,
            },
        )
        .sum();
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::panic::take_hook();

    let n = files.len();
    println!(
        "files={n} ok={} errors={errors} sheets={} cells={} threads={} seconds={seconds:.3} files_per_s={:.0}",
        n - errors,
        sheets.into_inner(),
        cells.into_inner(),
        rayon::current_num_threads(),
        if seconds > 0.0 { n as f64 / seconds } else { 0.0 }
    );
    ExitCode::SUCCESS
}

/// Opens one workbook and reads every sheet (hidden ones too); returns (sheets, cells).
fn read_all(path: &Path) -> Result<(u64, u64), calamine::Error> {
    let mut wb = open_workbook_auto(path)?;
    let names = wb.sheet_names().to_vec();
    let mut cells = 0u64;
    for name in &names {
        let range = wb.worksheet_range(name)?;
        cells += range.used_cells().count() as u64;
    }
    Ok((names.len() as u64, cells))
}
