//! `nianbao template`: one workbook per unit of the roster, a blank one and the
//! distribution list. Its output is files; what it says goes to stderr.

use anyhow::Result;
use nianbao::format::Formats;
use nianbao::template;

use super::{format_for, set_jobs, status, Outcome};
use crate::cli::TemplateArgs;

pub fn run(formats: &Formats, args: &TemplateArgs) -> Result<Outcome> {
    set_jobs(args.jobs)?;
    let format = format_for(formats, args.format.as_deref(), args.year)?;
    if !format.applies_to(args.year) {
        // Allowed (a province may keep the old format a year longer), but worth a word.
        status(format_args!(
            "注意：{} 格式适用于 {} 年度，与报告年度 {} 不符（按 --format 要求生成）。",
            format.id,
            format.years_label(),
            args.year
        ));
    }
    let roster = super::load_roster(&args.units)?;
    let how = template::Distribution {
        handback: args.handback.handback(),
        by_parent: args.by_parent.then_some(template::ByParent {
            descendants: args.depth == "all",
            zip: args.zip,
        }),
    };
    let emitted = template::emit(format, args.year, &roster, &args.out, &how)?;
    status(format_args!(
        "已为 {} 个单位生成 {} 年度填报模板（{}），另有空白模板 {}。",
        emitted.files.len(),
        args.year,
        format.name,
        emitted.blank
    ));
    status(format_args!("输出目录：{}", args.out.display()));
    if !emitted.packages.is_empty() {
        let what = if args.zip { "压缩包" } else { "文件夹" };
        status(format_args!(
            "按上级单位分为 {} 个{what}（每个含下级单位的模板和分发清单），顶层单位的模板在输出目录中。",
            emitted.packages.len()
        ));
    }
    status(format_args!("分发清单：{}", emitted.list.display()));
    let left = template::left_over(&args.out, args.year, &emitted);
    if !left.is_empty() {
        let shown: Vec<&str> = left.iter().take(5).map(String::as_str).collect();
        status(format_args!(
            "注意：输出目录中另有 {} 个不是本次生成的模板或分发文件夹（{}{}），可能是按以前的名册生成的；请核对后删除，不要分发。",
            left.len(),
            shown.join("、"),
            if left.len() > shown.len() { " 等" } else { "" }
        ));
    }
    Ok(Outcome::Clean)
}
