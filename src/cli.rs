//! The command line, declared with clap's derive API: the doc comments are the `--help`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// nianbao（年报）：政府信息公开工作年度报告的模板生成、汇总校验工具。
///
/// 典型流程：template 生成各单位填报模板 → 各单位填报后交回 → check / ingest 校验并汇总。
///
/// 标准输出只写数据（check 的问题清单、formats 的格式列表），进度、汇总和错误写到标准错误。
///
/// 退出码：0 成功；1 命令已运行完毕，但数据有问题；2 工具无法运行。
// No `about` attribute: given without a value it would show Cargo's description instead
// of this doc comment (`-h` shows its first paragraph, `--help` all of it).
#[derive(Debug, Parser)]
#[command(name = "nianbao", version)]
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
    /// 检查交回的工作簿：逐个文件列出错误、警告和自动修正，指明工作表和单元格。
    Check(CheckArgs),
    /// 批量汇总：读取目录中所有交回的工作簿，校验、去重、核对名册，输出汇总 CSV。
    Ingest(IngestArgs),
    /// 按数值表（CSV）生成已填写的工作簿：数据在其他系统中的部门可直接导入，也用于生成示例。
    Fill(FillArgs),
    /// 按以前一次 ingest 的输出重新生成各单位报告、汇总报告和概览页（例如换用自己的报告模板后）。
    Report(ReportArgs),
    /// 列出可用的报告格式及其适用年度。
    Formats,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// ingest 的输出目录。
    #[arg(value_name = "OUT")]
    pub out: PathBuf,

    /// 使用自己的报告模板目录（与内置 templates/report/ 同名的文件替换内置模板）。
    #[arg(long, value_name = "DIR")]
    pub report_templates: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FillArgs {
    /// 报告年度。
    #[arg(long)]
    pub year: i32,

    /// 单位名册 CSV。
    #[arg(long, value_name = "CSV")]
    pub units: PathBuf,

    /// 数值表 CSV：unit_code,field,value（field 为单元格键如 t3.new.natural，或 section:overview 等）。
    #[arg(long, value_name = "CSV")]
    pub values: PathBuf,

    /// 输出目录。
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// 指定报告格式 id，覆盖按年度的自动选择。
    #[arg(long, value_name = "ID")]
    pub format: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// 交回的工作簿所在的目录或文件（目录会递归查找），可以多个。
    #[arg(required = true, value_name = "DIR_OR_FILE")]
    pub inputs: Vec<PathBuf>,

    /// 单位名册 CSV；给出时核对哪些单位未报送，并按层级汇总。
    #[arg(long, value_name = "CSV")]
    pub units: Option<PathBuf>,

    /// 输出目录：values.csv、units.csv、rollup.csv、diagnostics.csv、files.csv。
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// 报告年度；不给时取多数工作簿的年度。
    #[arg(long)]
    pub year: Option<i32>,

    /// 上一年度 ingest 的输出目录，用于跨年度核对（上年结转等）。
    #[arg(long, value_name = "PREV_OUT")]
    pub previous: Option<PathBuf>,

    /// 并行线程数，默认使用全部 CPU 核心。
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    /// CSV 不写 UTF-8 BOM（默认写，便于 Excel 直接打开）。
    #[arg(long)]
    pub no_bom: bool,

    /// 不显示进度条和汇总信息。
    #[arg(long, short)]
    pub quiet: bool,

    /// 使用自己的报告模板目录（与内置 templates/report/ 同名的文件替换内置模板）。
    #[arg(long, value_name = "DIR")]
    pub report_templates: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// 要检查的工作簿（.xlsx、.xlsm、.xls、.ods），可以多个。
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// 每个问题输出一行 JSON 对象（给其他程序），代替给人看的文字。
    #[arg(long)]
    pub json: bool,

    /// 工作簿没有写明报告年度时（手工表格）按此年度检查。
    #[arg(long)]
    pub year: Option<i32>,
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
