//! The `nianbao` binary: parse the command line, run one command, print the error if
//! any, exit. The commands live in `cmd/`, one file each.
//!
//! Exit codes: 0 success; 1 the command ran and found problems in the data; 2 the tool
//! itself could not run (bad arguments, unreadable roster or format definition). A
//! reader that stops reading stdout early (`| head`) is not a failure: exit 0, quietly.

mod cli;
mod cmd;

/// glibc's allocator kept freed memory of the reading threads (RSS grew ~33 KB per file
/// with 5 MB live, see BENCHMARKS.md); mimalloc returns it and is faster here. Built with
/// `no_thp`: with transparent huge pages mimalloc's memory is counted in 2 MB pages,
/// which doubled peak RSS (41 MB instead of 19 MB for 1,000 files). The `v2` line:
/// mimalloc 3 keeps freed pages for a second before returning them (1,000 ms in its
/// `purge_delay`, 10 ms in v2), which held 10 MB more at the peak of 10,000 files
/// (64.4 MB against 56.6 MB) for no gain in time. Its purge delay is then set to 1 ms
/// ([`return_freed_memory_promptly`]).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in v2's `mimalloc.h`, which
/// libmimalloc-sys does not name).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets mimalloc to return freed pages to the system after 1 ms instead of 10 ms. A run
/// frees the memory of each phase (a unit's report, a roll-up, a workbook) just before
/// the next phase allocates its own; with 10 ms the two overlapped, and the peak grew
/// with the number of units faster than what the run holds: 10,000 files peaked at
/// 44.7 MB, with 1 ms at 41.5 MB, for the same CPU time (0 ms: 36.0 MB, but 4 s more
/// system time). See BENCHMARKS.md.
#[allow(unsafe_code)]
fn return_freed_memory_promptly() {
    // SAFETY: `mi_option_set` takes an option number and a value and has no other
    // preconditions; mimalloc reads its options atomically, at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1) };
}

use std::process::ExitCode;

use clap::CommandFactory;

use cli::{Cli, Command};
use cmd::Outcome;

fn main() -> ExitCode {
    return_freed_memory_promptly();
    // `nianbao DIR` (a folder dropped on the binary) is `nianbao ingest DIR`.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let commands = Cli::command();
    let names: Vec<&str> = commands.get_subcommands().map(|c| c.get_name()).collect();
    let dropped = cmd::ingest::dropped_dir(&args, &names);
    if let Some(dir) = &dropped {
        args = vec![args[0].clone(), "ingest".into(), dir.into()];
    }
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let code = run(&cli);
    if dropped.is_some() {
        cmd::ingest::wait_if_console();
    }
    code
}

/// Runs the command and turns its result into the exit code.
fn run(cli: &Cli) -> ExitCode {
    let ran =
        cmd::load_formats(cli.format_file.as_deref()).and_then(|formats| match &cli.command {
            Command::Template(args) => cmd::template::run(&formats, args),
            Command::Check(args) => cmd::check::run(&formats, args),
            Command::Ingest(args) => cmd::ingest::run(&formats, args),
            Command::Fill(args) => cmd::fill::run(&formats, args),
            Command::Report(args) => cmd::report::run(&formats, args),
            Command::Formats => cmd::formats::run(&formats),
        });
    match ran {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(err) if cmd::reader_gone(&err) => ExitCode::SUCCESS,
        Err(err) => {
            cmd::status(format_args!("错误：{err:#}"));
            ExitCode::from(2)
        }
    }
}
