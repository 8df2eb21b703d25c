//! The command line, declared with clap's derive API: the doc comments are the `--help`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// nianbao（年报）：政府信息公开工作年度报告的模板生成、汇总校验工具。
///
/// 典型流程：template 生成各单位填报模板 → 各单位填报后交回 → check / ingest 校验并汇总。
#[derive(Debug, Parser)]
#[command(name = "nianbao", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// 使用自定义的报告格式定义文件（TOML），如省里增加了行。与内置格式同 id 时替换内置格式。
    #[arg(long, global = true, value_name = "FILE")]
    pub format_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 按单位名册为每个单位生成填报模板（.xlsx），另生成一份空白模板和分发清单。
    Template(TemplateArgs),
    /// 列出可用的报告格式及其适用年度。
    Formats,
}

#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    /// 报告年度，如 2024。年度决定报告格式（2019–2020 用 2019 格式，2021 起用 2021 格式）。
    #[arg(long)]
    pub year: i32,

    /// 单位名册 CSV：code,name,parent_code,level[,联系人…]，UTF-8 或 GBK 编码。
    #[arg(long, value_name = "CSV")]
    pub units: PathBuf,

    /// 输出目录（不存在则创建）。
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// 指定报告格式 id（如 2019、2021），覆盖按年度的自动选择。
    #[arg(long, value_name = "ID")]
    pub format: Option<String>,

    /// 并行线程数，默认使用全部 CPU 核心。
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}
