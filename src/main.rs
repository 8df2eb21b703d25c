//! The `nianbao` binary: parse the command line, run one command, print, exit.
//!
//! Exit codes: 0 success; 1 the command ran and found problems in the data; 2 the tool
//! itself could not run (bad arguments, unreadable roster or format definition).

mod cli;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use cli::{Cli, Command, TemplateArgs};
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
