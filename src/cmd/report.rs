//! `nianbao report`: the reports of an earlier `ingest` rendered again from its CSV
//! files. Its output is files; the line saying where goes to stderr.

use anyhow::Result;
use nianbao::format::Formats;

use super::{in_pool, report_templates, set_jobs, status, Outcome};
use crate::cli::ReportArgs;

pub fn run(formats: &Formats, args: &ReportArgs) -> Result<Outcome> {
    set_jobs(None)?;
    in_pool(|| report(formats, args))
}

fn report(formats: &Formats, args: &ReportArgs) -> Result<Outcome> {
    let extras = super::ingest::extras(args.markdown, args.pdf)?;
    let templates = report_templates(args.report_templates.as_deref())?;
    let mut command = vec!["report".to_string()];
    if let Some(dir) = &args.report_templates {
        command.extend(["--report-templates".into(), dir.display().to_string()]);
    }
    command.extend(super::ingest::extra_flags(args.markdown, args.pdf));
    let finished = nianbao::publish::rerender(&args.out, formats, &templates, extras, command)?;
    if let Some(note) = finished.note() {
        status(format_args!("{note}"));
    }
    status(format_args!("已重新生成报告：{}", args.out.display()));
    Ok(Outcome::Clean)
}
