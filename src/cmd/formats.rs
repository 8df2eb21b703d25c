//! `nianbao formats`: the report formats available, one per line, tab-separated
//! (id, years, name and document) so a script can cut the id. The list is the data.

use anyhow::{Context, Result};
use nianbao::format::Formats;

use super::{Outcome, Stdout};

pub fn run(formats: &Formats) -> Result<Outcome> {
    let mut out = Stdout::lock();
    for f in formats.all() {
        let line = format!(
            "{}\t{}\t{}（{}）\n",
            f.id,
            f.years_label(),
            f.name,
            f.document
        );
        out.write(&line).context("无法写出格式列表")?;
    }
    Ok(Outcome::Clean)
}
