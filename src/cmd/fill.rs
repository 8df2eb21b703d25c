//! `nianbao fill`: a values CSV becomes filled workbooks. Its output is files; the
//! line saying how many goes to stderr.

use anyhow::Result;
use nianbao::format::Formats;

use super::{format_for, status, Outcome};
use crate::cli::FillArgs;

pub fn run(formats: &Formats, args: &FillArgs) -> Result<Outcome> {
    let format = format_for(formats, args.format.as_deref(), args.year)?;
    let roster = super::load_roster(&args.units)?;
    let written = nianbao::fill::run(
        format,
        args.year,
        &roster,
        &args.values,
        &args.out,
        &args.handback.handback(),
    )?;
    status(format_args!(
        "已生成 {} 个已填写的工作簿：{}",
        written.len(),
        args.out.display()
    ));
    Ok(Outcome::Clean)
}
