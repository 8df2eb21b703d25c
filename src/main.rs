//! The `nianbao` binary: parse the command line, run one command, print, exit.
//!
//! Exit codes: 0 success; 1 the command ran and found problems in the data; 2 the tool
//! itself could not run (bad arguments, unreadable roster or format definition).

mod cli;

/// glibc's allocator kept freed memory of the reading threads (RSS grew ~33 KB per file
/// with 5 MB live, see BENCHMARKS.md); mimalloc returns it and is faster here. Built with
/// `no_thp`: with transparent huge pages mimalloc's memory is counted in 2 MB pages,
/// which doubled peak RSS (41 MB instead of 19 MB for 1,000 files).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use cli::{CheckArgs, Cli, Command, FillArgs, IngestArgs, Output, ReportArgs, TemplateArgs};
use nianbao::check;
use nianbao::format::{Format, Formats};
use nianbao::roster::Roster;
use nianbao::template;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("错误：{err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut formats = Formats::builtin();
    if let Some(path) = &cli.format_file {
        formats = formats.with(Format::load_file(path)?);
    }
    match cli.command {
        Command::Template(args) => run_template(&formats, &args),
        Command::Check(args) => Ok(run_check(&formats, &args)),
        Command::Ingest(args) => run_ingest(&formats, &args),
        Command::Fill(args) => run_fill(&formats, &args),
        Command::Report(args) => run_report(&formats, &args),
        Command::Formats => {
            for f in formats.all() {
                println!(
                    "{}\t{}\t{}（{}）",
                    f.id,
                    f.years_label(),
                    f.name,
                    f.document
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Sets the size of rayon's global pool once, from `--jobs`.
fn set_jobs(jobs: Option<usize>) -> Result<()> {
    if let Some(n) = jobs.filter(|n| *n > 0) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("无法设置线程数")?;
    }
    Ok(())
}

fn run_template(formats: &Formats, args: &TemplateArgs) -> Result<ExitCode> {
    set_jobs(args.jobs)?;
    let format = match &args.format {
        Some(id) => formats.by_id(id)?,
        None => formats.for_year(args.year)?,
    };
    if !format.applies_to(args.year) {
        eprintln!(
            "注意：{} 格式适用于 {} 年度，与报告年度 {} 不符（按 --format 要求生成）。",
            format.id,
            format.years_label(),
            args.year
        );
    }
    let roster = Roster::load(&args.units)?;
    let emitted = template::emit(format, args.year, &roster, &args.out)?;
    println!(
        "已为 {} 个单位生成 {} 年度填报模板（{}），另有空白模板 {}。",
        emitted.files.len(),
        args.year,
        format.name,
        emitted.blank
    );
    println!("输出目录：{}", args.out.display());
    println!("分发清单：{}", emitted.list.display());
    Ok(ExitCode::SUCCESS)
}

/// Checks each file in turn; exit 1 if any has an error.
fn run_check(formats: &Formats, args: &CheckArgs) -> ExitCode {
    let options = check::Options {
        year: args.year,
        previous: None,
    };
    let mut errors = 0;
    for path in &args.files {
        let display = path.display().to_string();
        let sub = check::check_file(path, &display, formats, options);
        errors += sub.errors();
        match args.format {
            Output::Text => println!("{}", check::render_text(&display, &sub)),
            Output::Json => print!("{}", check::render_json(&sub)),
        }
    }
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_ingest(formats: &Formats, args: &IngestArgs) -> Result<ExitCode> {
    use std::io::IsTerminal;

    use nianbao::batch::{self as ingest, Settings};
    use nianbao::consolidate::{self, CsvOptions};

    set_jobs(args.jobs)?;
    let roster = args.units.as_deref().map(Roster::load).transpose()?;
    let previous = args
        .previous
        .as_deref()
        .map(nianbao::consolidate::read::values_by_unit)
        .transpose()?;
    let inputs = ingest::discover(&args.inputs)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("无法创建输出目录 {}", args.out.display()))?;
    let store = ingest::Store::new_in(&args.out)?;
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(inputs.len() as u64)
    };
    let settings = Settings {
        formats,
        roster: roster.as_ref(),
        year: args.year,
        previous: previous.as_ref(),
    };
    let run = ingest::process(&inputs, settings, store, &|| bar.inc(1))?;
    // Every file is in `run.outcomes` now; the list is not needed (10,000 paths).
    drop(inputs);
    bar.finish_and_clear();
    let year = run
        .year
        .context("没有找到可以确定年度的工作簿；请用 --year 指定报告年度")?;
    let format = formats.for_year(year)?;
    let templates = report_templates(args.report_templates.as_deref())?;
    if let Some(roster) = &args.units {
        // A copy of the roster as used, so `nianbao report` can redo the roll-ups.
        let bytes =
            std::fs::read(roster).with_context(|| format!("无法读取 {}", roster.display()))?;
        template::write_atomic(&args.out.join("roster.csv"), &bytes)?;
    }
    let mut publisher =
        nianbao::publish::Publisher::new(&args.out, format, year, roster.as_ref(), &templates)?;
    let rollups = consolidate::write(
        &args.out,
        format,
        year,
        roster.as_ref(),
        &run.outcomes,
        &run.store,
        CsvOptions { bom: !args.no_bom },
    )?;
    publisher.units(&run.outcomes, &run.store)?;
    publisher.finish(&rollups, &run.outcomes)?;
    let summary = ingest::summary(&run, roster.as_ref(), previous.as_ref());
    if !args.quiet {
        eprint!("{}", summary.text);
        eprintln!("输出目录：{}", args.out.display());
    }
    Ok(if summary.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_fill(formats: &Formats, args: &FillArgs) -> Result<ExitCode> {
    let format = match &args.format {
        Some(id) => formats.by_id(id)?,
        None => formats.for_year(args.year)?,
    };
    let roster = Roster::load(&args.units)?;
    let written = nianbao::fill::run(format, args.year, &roster, &args.values, &args.out)?;
    println!(
        "已生成 {} 个已填写的工作簿：{}",
        written.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn report_templates(dir: Option<&std::path::Path>) -> Result<nianbao::render::Templates> {
    Ok(match dir {
        Some(dir) => nianbao::render::Templates::from_dir(dir)?,
        None => nianbao::render::Templates::builtin(),
    })
}

fn run_report(formats: &Formats, args: &ReportArgs) -> Result<ExitCode> {
    let templates = report_templates(args.report_templates.as_deref())?;
    nianbao::publish::rerender(&args.out, formats, &templates)?;
    println!("已重新生成报告：{}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
