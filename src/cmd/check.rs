//! `nianbao check`: the findings of each file, for a person (text) or a program
//! (`--json`, one object per line). The findings are the data: they go to stdout.

use anyhow::{Context, Result};
use nianbao::check;
use nianbao::format::Formats;

use super::{Outcome, Stdout};
use crate::cli::CheckArgs;

/// Checks the files in the order given and prints each one's findings as soon as it is
/// checked, so a long list shows progress and `| head` stops the work early.
pub fn run(formats: &Formats, args: &CheckArgs) -> Result<Outcome> {
    let options = check::Options {
        year: args.year,
        previous: None,
    };
    let mut out = Stdout::lock();
    let mut errors = 0;
    for path in &args.files {
        let display = path.display().to_string();
        let sub = check::check_file(path, &display, formats, options);
        errors += sub.errors();
        let text = if args.json {
            check::render_json(&sub)
        } else {
            // A blank line between files.
            check::render_text(&display, &sub) + "\n"
        };
        out.write(&text).context("无法写出检查结果")?;
    }
    Ok(if errors > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
