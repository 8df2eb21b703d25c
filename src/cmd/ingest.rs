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

use super::{in_pool, report_templates, set_jobs, status, Outcome};
use crate::cli::IngestArgs;

/// Problems when a unit of the roster did not report or was sent back.
pub fn run(formats: &Formats, args: &IngestArgs) -> Result<Outcome> {
    set_jobs(args.jobs)?;
    in_pool(|| ingest(formats, args))
}

fn ingest(formats: &Formats, args: &IngestArgs) -> Result<Outcome> {
    let extras = extras(args.markdown, args.pdf)?;
    let (units, out_dir) = places(args)?;
    let args = &IngestArgs {
        units,
        out: Some(out_dir.clone()),
        ..args.clone()
    };
    let out_dir = out_dir.as_path();
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
    let mut inputs = batch::discover(&args.inputs, Some(out_dir))?;
    if let Some(units) = &args.units {
        skip_roster(&mut inputs, units);
    }
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
    batch::refuse_overwriting(out_dir, &read)?;
    drop(read);
    if !args.quiet {
        if let Some(root) = output_inside(&args.inputs, out_dir) {
            status(format_args!(
                "注意：输出目录 {} 在输入 {} 之中，其中的文件不作为交回的文件读取。",
                out_dir.display(),
                root.display()
            ));
        }
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("无法创建输出目录 {}", out_dir.display()))?;
    // The output directory is this run's until it ends: locked, its last run read.
    let mut out = Run::begin(out_dir, command(args))?;
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
    let store = batch::Store::new_in(out_dir)?;
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
            .with_context(|| format!("无法写入 {}", out_dir.join("roster.csv").display()))?;
    }
    let mut publisher = Publisher::new(out_dir, &out, format, year, roster.as_ref(), &templates)?
        .with_extras(extras)
        .with_last_year(previous.as_ref().map(|p| LastYear {
            year: p.year,
            values: &p.values,
        }));
    let csv_files = consolidate::read::CSV_FILES;
    csv_files.iter().try_for_each(|f| out.intend(f))?;
    // The CSVs are one pass in roster order, on one thread, and the package sent up,
    // which needs them and the store, follows on that thread. The units' reports, which
    // need only the store, are made on the other threads meanwhile, and on this one
    // once it is done (100,000 files, 2 threads: 91 s when the package came after the
    // reports, on one core; 82 s). The lists, which also need only the CSVs, stay in
    // `finish` beside the parents' volumes: made here, they left two volumes to be
    // bound side by side later, and the peak at 100,000 files grew by 18 MB.
    let (consolidated, published) = rayon::join(
        || -> Result<Vec<consolidate::Rollup>> {
            let consolidated = consolidate::write(
                out_dir,
                format,
                year,
                roster.as_ref(),
                &run.outcomes,
                &run.store,
                CsvOptions { bom: !args.no_bom },
            )?;
            for f in &consolidated.files {
                out.wrote(&f.path, f.size, f.sha256.clone());
            }
            // The checked result sent up: one package per top unit of the roster.
            let contents = package::Contents {
                format,
                year,
                roster: roster.as_ref(),
                outcomes: &run.outcomes,
                store: &run.store,
                rollups: &consolidated.rollups,
                csvs: &consolidated.files,
            };
            package::write(&out, out_dir, contents)?;
            Ok(consolidated.rollups)
        },
        || publisher.units(&run.outcomes, &run.store),
    );
    let rollups = consolidated?;
    published?;
    publisher.finish(&rollups, &run.outcomes)?;
    if let Some(note) = out.finish()?.note() {
        status(format_args!("{note}"));
    }
    let summary = batch::summary(&run, roster.as_ref(), previous.as_ref().map(|p| &p.values));
    if !args.quiet {
        let late = late_note(out_dir)?;
        status(format_args!(
            "{}{late}输出目录：{}",
            summary.text,
            out_dir.display()
        ));
    }
    Ok(if summary.complete {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// Where a coordinator leaves the roster in the folder of returns, in the order looked
/// for when `--units` is not given.
pub const ROSTER_NAMES: [&str; 3] = ["名册.csv", "units.csv", "名册.xlsx"];

/// What `--out` is when not given: `DIR-汇总`, beside the one input directory.
pub const DEFAULT_OUT_SUFFIX: &str = "-汇总";

/// The roster and the output directory of a run: as given, or (not given, and the input
/// one directory, as when a folder is dropped on the binary) the first of
/// [`ROSTER_NAMES`] in it and `DIR-汇总` beside it, each said on stderr so the
/// coordinator knows which roster counted and where to look.
fn places(args: &IngestArgs) -> Result<(Option<PathBuf>, PathBuf)> {
    let dir = match args.inputs.as_slice() {
        [one] if one.is_dir() => Some(one.as_path()),
        _ => None,
    };
    let units = match (&args.units, dir) {
        (Some(units), _) => Some(units.clone()),
        (None, Some(dir)) => {
            let found = ROSTER_NAMES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file());
            if !args.quiet {
                match &found {
                    Some(p) => status(format_args!("单位名册：{}（在输入目录中找到）", p.display())),
                    None => status(format_args!(
                        "注意：没有给出 --units，输入目录中也没有 {}：不核对名册，不列出未报送的单位。",
                        ROSTER_NAMES.join("、")
                    )),
                }
            }
            found
        }
        (None, None) => None,
    };
    let out = match (&args.out, dir) {
        (Some(out), _) => out.clone(),
        (None, Some(dir)) => {
            let out = beside(dir)?;
            if !args.quiet {
                status(format_args!("输出目录（未给出 --out）：{}", out.display()));
            }
            out
        }
        (None, None) => anyhow::bail!(
            "请用 --out 指定输出目录（只有输入是一个目录时才可以不给，输出写到它旁边的 <目录>{DEFAULT_OUT_SUFFIX}）"
        ),
    };
    Ok((units, out))
}

/// `DIR-汇总` next to `dir` (`回收/` → `回收-汇总`; `.` by its real name).
fn beside(dir: &Path) -> Result<PathBuf> {
    let named = match dir.file_name() {
        Some(name) => dir.with_file_name(name),
        None => std::fs::canonicalize(dir)
            .with_context(|| format!("无法确定目录 {} 的位置", dir.display()))?,
    };
    let name = named
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("根目录旁边没有地方写输出；请用 --out 指定输出目录")?;
    Ok(named.with_file_name(format!("{name}{DEFAULT_OUT_SUFFIX}")))
}

/// The roster is not a return even when it lies among them: listed as skipped with the
/// reason, never read as a workbook (a 名册.xlsx would otherwise be unreadable or
/// unidentified).
fn skip_roster(inputs: &mut [batch::Input], units: &Path) {
    let Ok(roster) = std::fs::canonicalize(units) else {
        return;
    };
    for input in inputs {
        if std::fs::canonicalize(&input.path).is_ok_and(|p| p == roster) {
            input.not_read = Some((
                batch::Status::Skipped,
                "单位名册，不是交回的文件".to_string(),
            ));
        }
    }
}

/// The directory of `nianbao DIR`: the one argument, when it is an existing directory
/// and not a command's name. What Windows passes when a folder is dropped on the binary.
pub fn dropped_dir(args: &[std::ffi::OsString], commands: &[&str]) -> Option<PathBuf> {
    let [_, one] = args else {
        return None;
    };
    let text = one.to_string_lossy();
    if text.starts_with('-') || commands.contains(&text.as_ref()) {
        return None;
    }
    let dir = PathBuf::from(one);
    dir.is_dir().then_some(dir)
}

/// After `nianbao DIR` in a console of its own (a folder dropped on the binary in
/// Windows Explorer), the window would close with the summary: it waits for Enter when
/// stdin is a terminal. Never under a script, a test or CI (stdin not a terminal), and
/// a closed stdin ends the wait at once.
pub fn wait_if_console() {
    if std::io::stdin().is_terminal() {
        wait_for_enter(std::io::stdin().lock());
    }
}

/// Says so and reads one line (or the end of input).
fn wait_for_enter(mut input: impl std::io::BufRead) {
    status(format_args!("按回车键关闭窗口……"));
    let mut line = String::new();
    let _ = input.read_line(&mut line);
}

/// How many units' chosen workbooks were saved after their template's deadline (rule
/// D-1, information: their status is unchanged), with the first few named; read from
/// the run's diagnostics.csv, where each is listed. Empty when none.
fn late_note(out_dir: &Path) -> Result<String> {
    const NAMED: usize = 5;
    let mut csv = consolidate::read::Csv::open(out_dir, "diagnostics.csv")?;
    let (rule, file_status, name) = (
        csv.col("rule")?,
        csv.col("file_status")?,
        csv.col("unit_name")?,
    );
    let mut units: Vec<String> = Vec::new();
    while csv.read_next()? {
        if csv.raw(rule) == nianbao::model::rule_ids::LATE && csv.raw(file_status) != "duplicate" {
            units.push(csv.text(name));
        }
    }
    if units.is_empty() {
        return Ok(String::new());
    }
    let more = if units.len() > NAMED { "等" } else { "" };
    let named: Vec<String> = units
        .iter()
        .take(NAMED)
        .map(|u| nianbao::model::terminal_text(u).into_owned())
        .collect();
    Ok(format!(
        "保存时间晚于交回期限的（信息 D-1，不影响受理，见 diagnostics.csv）：{} 个单位：{}{more}。\n",
        units.len(),
        named.join("、")
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_output_is_beside_the_input() {
        assert_eq!(
            beside(Path::new("回收/")).unwrap(),
            PathBuf::from("回收-汇总")
        );
        assert_eq!(
            beside(Path::new("a/回收")).unwrap(),
            PathBuf::from("a/回收-汇总")
        );
        let here = std::env::current_dir().unwrap();
        let name = here.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            beside(Path::new(".")).unwrap(),
            here.with_file_name(format!("{name}-汇总"))
        );
    }

    #[test]
    fn a_closed_input_ends_the_wait() {
        wait_for_enter(std::io::empty());
        wait_for_enter(&b"\n"[..]);
    }

    #[test]
    fn only_one_existing_directory_is_a_dropped_folder() {
        let dir = std::env::temp_dir();
        let args = |a: &[&std::ffi::OsStr]| a.iter().map(|s| s.to_os_string()).collect::<Vec<_>>();
        let bin = std::ffi::OsStr::new("nianbao");
        assert_eq!(
            dropped_dir(&args(&[bin, dir.as_os_str()]), &["ingest"]),
            Some(dir.clone())
        );
        assert_eq!(
            dropped_dir(&args(&[bin, "ingest".as_ref()]), &["ingest"]),
            None
        );
        assert_eq!(
            dropped_dir(&args(&[bin, "--help".as_ref()]), &["ingest"]),
            None
        );
        assert_eq!(
            dropped_dir(&args(&[bin, "无此目录".as_ref()]), &["ingest"]),
            None
        );
        assert_eq!(
            dropped_dir(&args(&[bin, dir.as_os_str(), dir.as_os_str()]), &[]),
            None
        );
    }
}
