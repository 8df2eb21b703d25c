//! `nianbao check`: the findings of each file, for a person (text) or a program
//! (`--json`, one object per line). The findings are the data: they go to stdout.

use std::path::Path;

use anyhow::{Context, Result};
use nianbao::check;
use nianbao::format::Formats;
use nianbao::read::ReadError;

use super::{Outcome, Stdout};
use crate::cli::CheckArgs;

/// Checks the files in the order given and prints each one's findings as soon as it is
/// checked, so a long list shows progress and `| head` stops the work early.
///
/// A path that is not a file to check (missing, a folder, a pipe or a device, which are
/// never opened) still gets its `F-1` in the findings, so every path asked is answered
/// for, and does not stop the others; the command then fails naming each on stderr
/// (exit 2): it could not do what was asked.
pub fn run(formats: &Formats, args: &CheckArgs) -> Result<Outcome> {
    let roster = args.units.as_deref().map(super::load_roster).transpose()?;
    let options = check::Options {
        year: args.year,
        previous: None,
        roster: roster.as_ref(),
    };
    let mut out = Stdout::lock();
    let mut errors = 0;
    let mut not_checked = Vec::new();
    for path in &args.files {
        let display = path.display().to_string();
        let sub = match checkable(path) {
            Ok(()) => check::check_file(path, &display, formats, options),
            Err(why) => {
                let mut sub = check::unreadable(&ReadError::Io(std::io::Error::other(why)));
                for f in &mut sub.findings {
                    f.file = display.clone();
                }
                not_checked.push(format!("{display}：{why}"));
                sub
            }
        };
        errors += sub.errors();
        let text = if args.json {
            check::render_json(&sub)
        } else {
            // A blank line between files.
            check::render_text(&display, &sub) + "\n"
        };
        out.write(&text).context("无法写出检查结果")?;
    }
    if !not_checked.is_empty() {
        anyhow::bail!("无法检查 {}", not_checked.join("；"));
    }
    Ok(if errors > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// Whether `path` is a file `check` can open: its type is looked at first, so a named
/// pipe or a device is never opened (opening a pipe waits for a writer).
fn checkable(path: &Path) -> Result<(), &'static str> {
    use std::io::ErrorKind;
    match std::fs::metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Err("找不到文件"),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => Err("没有读取权限"),
        Err(_) => Err("无法访问此路径"),
        Ok(m) if m.is_dir() => Err("这是文件夹；检查文件夹中的全部工作簿请用 nianbao ingest"),
        Ok(m) if !m.is_file() => Err("不是普通文件（管道、设备等），未打开"),
        Ok(_) => Ok(()),
    }
}
