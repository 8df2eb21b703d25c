//! `nianbao ingest`: a batch of returned workbooks becomes the CSV files, reports,
//! roll-ups and correction workbooks of one year. Its output is files; the progress bar
//! and the closing summary go to stderr (`--quiet` drops both).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nianbao::batch::{self, Settings};
use nianbao::consolidate::{self, CsvOptions};
use nianbao::format::Formats;
use nianbao::output::Run;
use nianbao::package;
use nianbao::publish::{Extras, LastYear, Publisher, Soffice};

use super::{report_templates, set_jobs, status, Outcome};
use crate::cli::IngestArgs;

/// Problems when a unit of the roster did not report or was sent back.
pub fn run(formats: &Formats, args: &IngestArgs) -> Result<Outcome> {
    let extras = extras(args.markdown, args.pdf)?;
    set_jobs(args.jobs)?;
    let roster = args.units.as_deref().map(super::load_roster).transpose()?;
    let previous = args
        .previous
        .as_deref()
        .map(consolidate::read::previous)
        .transpose()?;
    if let (Some(previous), Some(year)) = (&previous, args.year) {
        previous.check_before(year)?;
    }
    // Nothing under the output directory is read, and nothing read is overwritten.
    let inputs = batch::discover(&args.inputs, Some(&args.out))?;
    // A previous OUT directory is read for its values.csv; a previous package, itself.
    let previous_values = args.previous.as_ref().map(|p| {
        if p.is_dir() {
            p.join("values.csv")
        } else {
            p.clone()
        }
    });
    let read: Vec<(&Path, &str)> = args
        .units
        .iter()
        .map(|p| (p.as_path(), "单位名册 --units"))
        .chain(
            previous_values
                .iter()
                .map(|p| (p.as_path(), "上年汇总 --previous")),
        )
        .chain(inputs.iter().map(|i| (i.path.as_path(), "交回的文件")))
        .collect();
    batch::refuse_overwriting(&args.out, &read)?;
    drop(read);
    if !args.quiet {
        if let Some(root) = output_inside(&args.inputs, &args.out) {
            status(format_args!(
                "注意：输出目录 {} 在输入 {} 之中，其中的文件不作为交回的文件读取。",
                args.out.display(),
                root.display()
            ));
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("无法创建输出目录 {}", args.out.display()))?;
    // The output directory is this run's until it ends: locked, its last run read.
    let mut out = Run::begin(&args.out, command(args))?;
    if let Some(e) = out.found_error() {
        status(format_args!(
            "注意：{e}；按没有运行记录处理，以前的文件一律不删除。"
        ));
    }
    if let Some(unfinished) = out.unfinished() {
        status(format_args!(
            "注意：{unfinished}，输出目录中可能新旧文件混杂；本次运行将重新生成全部输出。"
        ));
    }
    let store = batch::Store::new_in(&args.out)?;
    // A bar redrawn into a file or a pipe would only fill it with control codes.
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(inputs.len() as u64)
    };
    let settings = Settings {
        formats,
        roster: roster.as_ref(),
        year: args.year,
        previous: previous.as_ref().map(|p| &p.values),
    };
    let run = batch::process(&inputs, settings, store, &|| bar.inc(1))?;
    // Every file is in `run.outcomes` now; the list is not needed (10,000 paths).
    drop(inputs);
    bar.finish_and_clear();
    let year = run
        .year
        .context("没有找到可以确定年度的工作簿；请用 --year 指定报告年度")?;
    if let Some(previous) = &previous {
        previous.check_before(year)?;
    }
    let format = formats.for_year(year)?;
    let templates = report_templates(args.report_templates.as_deref())?;
    out.start(year, command(args))?;
    if let Some(roster) = &args.units {
        // A copy of the roster as used, so `nianbao report` can redo the roll-ups.
        let bytes = super::roster_bytes(roster)?;
        out.write("roster.csv", &bytes)
            .with_context(|| format!("无法写入 {}", args.out.join("roster.csv").display()))?;
    }
    let mut publisher = Publisher::new(&args.out, &out, format, year, roster.as_ref(), &templates)?
        .with_extras(extras)
        .with_last_year(previous.as_ref().map(|p| LastYear {
            year: p.year,
            values: &p.values,
        }));
    let csv_files = consolidate::read::CSV_FILES;
    csv_files.iter().try_for_each(|f| out.intend(f))?;
    let rollups = consolidate::write(
        &args.out,
        format,
        year,
        roster.as_ref(),
        &run.outcomes,
        &run.store,
        CsvOptions { bom: !args.no_bom },
    )?;
    csv_files.iter().try_for_each(|f| out.wrote_file(f))?;
    // The checked result sent up: one package per top unit of the roster.
    let contents = package::Contents {
        format,
        year,
        roster: roster.as_ref(),
        outcomes: &run.outcomes,
        store: &run.store,
        rollups: &rollups,
    };
    package::write(&out, &args.out, contents)?;
    publisher.units(&run.outcomes, &run.store)?;
    publisher.finish(&rollups, &run.outcomes)?;
    if let Some(note) = out.finish()?.note() {
        status(format_args!("{note}"));
    }
    let summary = batch::summary(&run, roster.as_ref(), previous.as_ref().map(|p| &p.values));
    if !args.quiet {
        status(format_args!(
            "{}输出目录：{}",
            summary.text,
            args.out.display()
        ));
    }
    Ok(if summary.complete {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// The input directory the output directory lies in, if any (and it exists already:
/// only then is there something in it not to read).
fn output_inside<'a>(inputs: &'a [PathBuf], out: &Path) -> Option<&'a PathBuf> {
    let out = std::fs::canonicalize(out).ok()?;
    inputs.iter().find(|root| {
        std::fs::canonicalize(root).is_ok_and(|root| root.is_dir() && out.starts_with(&root))
    })
}

/// The command as the run record keeps it: what decides the outputs, not where they go
/// or how fast (`--out`, `--jobs`, `--quiet`), so that the same inputs leave the same
/// bytes.
fn command(args: &IngestArgs) -> Vec<String> {
    let mut command = vec!["ingest".to_string()];
    let path = |p: &std::path::Path| p.display().to_string();
    command.extend(args.inputs.iter().map(|p| path(p)));
    let options = [
        ("--units", args.units.as_deref().map(path)),
        ("--year", args.year.map(|y| y.to_string())),
        ("--previous", args.previous.as_deref().map(path)),
        (
            "--report-templates",
            args.report_templates.as_deref().map(path),
        ),
    ];
    for (name, value) in options {
        if let Some(value) = value {
            command.extend([name.to_string(), value]);
        }
    }
    if args.no_bom {
        command.push("--no-bom".into());
    }
    command.extend(extra_flags(args.markdown, args.pdf));
    command
}

/// The outputs asked for besides HTML and Word; `--pdf` without LibreOffice is refused
/// before any work is done.
pub fn extras(markdown: bool, pdf: bool) -> Result<Extras> {
    let pdf = if pdf {
        Some(Soffice::find().ok_or_else(|| {
            anyhow::anyhow!(
                "--pdf 需要 LibreOffice：没有找到 soffice 或 libreoffice 命令。请安装 LibreOffice（并确保 soffice 在 PATH 中），或去掉 --pdf"
            )
        })?)
    } else {
        None
    };
    Ok(Extras { markdown, pdf })
}

/// `--markdown` and `--pdf` as the run record keeps them (they decide the outputs).
pub fn extra_flags(markdown: bool, pdf: bool) -> Vec<String> {
    [("--markdown", markdown), ("--pdf", pdf)]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(flag, _)| flag.to_string())
        .collect()
}
