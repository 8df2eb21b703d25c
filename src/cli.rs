//! The command line, declared with clap's derive API: the doc comments are the `--help`.

use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, Parser, Subcommand};

/// Every help screen in Chinese: clap's own headings ("Usage", "Options", "Commands",
/// "Arguments") are replaced here and by the `help_heading`s below, and `-h`/`-V` are
/// declared with Chinese help instead of clap's "Print help".
const HELP: &str = "{before-help}{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}";

/// `ingest --help`'s closing part: every output it writes, and the exit codes.
const INGEST_AFTER: &str =
    "示例：nianbao ingest 回收/ --units 名册.csv --out 汇总/2024 --previous 汇总/2023

输出（都在 --out 目录中，原子写入）：
  values.csv        受理单位的每个数值
  units.csv         名册每个单位的状态、问题数和关键数字
  rollup.csv        每个上级单位及全部单位的汇总数值和单位数
  diagnostics.csv   每个问题：单位、文件、工作表、单元格、规则、实际、应为、提示
  sections.csv      受理单位的文字部分
  files.csv         每个输入文件的状态和原因
  roster.csv        本次使用的名册副本
  <代码>_<名称>_<年度>_上报包.zip
                    名册每个顶层单位（乡镇的名册即本乡镇）一个上报包：清单、各单位数值、
                    文字、关键数字、问题和 files.csv，不含工作簿；上级把它和工作簿放在一起汇总
  index.html        概览：各单位状态、各上级单位完成情况、图表
  汇总明细.xlsx     每个单位一行、每个单元格一列，供筛选和数据透视
  催报名单.xlsx     未报送、退回、年度不符的单位，按上级单位分组，附联系人和首要错误
  催报名单.csv      同上（CSV）
  运行记录.json     本次运行写出的每个文件及其 SHA-256（再次运行时只删除其中列出的文件）
  nianbao.lock      运行锁（运行中锁定输出目录）
  reports/          每个受理单位的年度报告（.html、.docx；--markdown 另写 .md，--pdf 另写 .pdf）
  rollups/          每个上级单位的汇总报告（同上）和 汇总表.xlsx；
                    每个有下级的单位的 <代码>_<名称>_年报汇编.docx/.html（汇总表和本单位及下级
                    各单位的报告，带目录）和 _文字汇编.docx（各单位的总体情况、存在的主要问题）
  corrections/      每个退回单位的修改意见工作簿

退出码：0 名册单位全部受理；1 有单位未报送或被退回；2 工具无法运行。";

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
#[command(
    name = "nianbao",
    version,
    help_template = HELP,
    subcommand_help_heading = "命令",
    subcommand_value_name = "命令",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    next_help_heading = "选项",
    override_usage = "nianbao <命令> [选项]",
    after_help = "示例：nianbao template --year 2024 --units 名册.csv --out 模板/\n      nianbao ingest 回收/ --units 名册.csv --out 汇总/2024\n每个命令的说明：nianbao <命令> --help\n退出码：0 成功；1 命令已运行完毕，但数据有问题（有错误、未报送或被退回）；2 工具无法运行。"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// 使用自定义的报告格式定义文件（TOML），如省里增加了行。与内置格式同 id 时替换内置格式。
    #[arg(long, global = true, value_name = "FILE")]
    pub format_file: Option<PathBuf>,

    /// 显示帮助（-h 简要，--help 详细）。
    #[arg(short = 'h', long = "help", global = true, action = ArgAction::Help)]
    help: Option<bool>,

    /// 显示版本。
    #[arg(short = 'V', long = "version", action = ArgAction::Version)]
    version: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// 按单位名册为每个单位生成填报模板（.xlsx），另生成一份空白模板和分发清单。
    #[command(
        help_template = HELP,
        next_help_heading = "选项",
        override_usage = "nianbao template --year <年度> --units <CSV> --out <DIR> [选项]",
        after_help = "示例：nianbao template --year 2024 --units 名册.csv --out 模板/2024\n退出码：0 成功；2 工具无法运行。"
    )]
    Template(TemplateArgs),
    /// 检查交回的工作簿：逐个文件列出错误、警告和自动修正，指明工作表和单元格。
    #[command(
        help_template = HELP,
        next_help_heading = "选项",
        override_usage = "nianbao check <FILE>... [选项]",
        after_help = "示例：nianbao check 回收/山市镇年报.xlsx\n      nianbao check 回收/*.xlsx --json > 问题.jsonl\n退出码：0 没有错误；1 有错误；2 工具无法运行（如文件不存在）。"
    )]
    Check(CheckArgs),
    /// 批量汇总：读取目录中所有交回的工作簿，校验、去重、核对名册，写出汇总数据、报告和概览。
    #[command(
        help_template = HELP,
        next_help_heading = "选项",
        override_usage = "nianbao ingest <DIR_OR_FILE>... [--out <DIR>] [选项]\n      nianbao <DIR>（同 nianbao ingest <DIR>；把文件夹拖到 nianbao.exe 上就是这样运行）",
        after_help = INGEST_AFTER
    )]
    Ingest(IngestArgs),
    /// 按数值表（CSV）生成已填写的工作簿：数据在其他系统中的部门可直接导入，也用于生成示例。
    #[command(
        help_template = HELP,
        next_help_heading = "选项",
        override_usage = "nianbao fill --year <年度> --units <CSV> --values <CSV> --out <DIR> [选项]",
        after_help = "示例：nianbao fill --year 2024 --units 名册.csv --values 数值.csv --out 已填写/\n退出码：0 成功；2 数值表有误（逐行指出）或工具无法运行。"
    )]
    Fill(FillArgs),
    /// 按以前一次 ingest 的输出重新生成各单位报告、汇总报告和概览页（例如换用自己的报告模板后）。
    #[command(
        help_template = HELP,
        next_help_heading = "选项",
        override_usage = "nianbao report <OUT> [选项]",
        after_help = "示例：nianbao report 汇总/2024 --report-templates 我的模板/\n退出码：0 成功；2 工具无法运行。"
    )]
    Report(ReportArgs),
    /// 列出可用的报告格式及其适用年度。
    #[command(
        help_template = HELP,
        next_help_heading = "选项",
        override_usage = "nianbao formats",
        after_help = "示例：nianbao formats\n退出码：0。"
    )]
    Formats,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// ingest 的输出目录。
    #[arg(value_name = "OUT", help_heading = "参数")]
    pub out: PathBuf,

    /// 使用自己的报告模板目录（与内置 templates/report/ 同名的文件替换内置模板）。
    #[arg(long, value_name = "DIR")]
    pub report_templates: Option<PathBuf>,
    /// 另写出 Markdown 格式的报告（.md，默认只写 HTML 和 Word）。
    #[arg(long)]
    pub markdown: bool,

    /// 用 LibreOffice 把 Word 文档转换为 PDF（放在 .docx 旁边）；没有安装 LibreOffice 时不运行。
    #[arg(long)]
    pub pdf: bool,
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

    #[command(flatten)]
    pub handback: HandbackArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    /// 交回的工作簿所在的目录或文件（目录会递归查找），可以多个。
    #[arg(required = true, value_name = "DIR_OR_FILE", help_heading = "参数")]
    pub inputs: Vec<PathBuf>,

    /// 单位名册 CSV；给出时核对哪些单位未报送，并按层级汇总。不给时，只给了一个目录的，
    /// 依次找该目录中的 名册.csv、units.csv、名册.xlsx。
    #[arg(long, value_name = "CSV")]
    pub units: Option<PathBuf>,

    /// 输出目录（写出的文件见下方“输出”）。不给时，只给了一个目录 DIR 的，写到它旁边的 DIR-汇总/。
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// 报告年度；不给时取多数工作簿的年度。
    #[arg(long)]
    pub year: Option<i32>,

    /// 上一年度 ingest 的输出目录或上报包（…_上报包.zip），用于跨年度核对（上年结转等）。
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
    /// 另写出 Markdown 格式的报告（.md，默认只写 HTML 和 Word）。
    #[arg(long)]
    pub markdown: bool,

    /// 用 LibreOffice 把 Word 文档转换为 PDF（放在 .docx 旁边）；没有安装 LibreOffice 时不运行。
    #[arg(long)]
    pub pdf: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// 要检查的工作簿（.xlsx、.xlsm、.xls、.ods）或报告（Word .docx、网页 .html/.htm），可以多个。
    #[arg(required = true, value_name = "FILE", help_heading = "参数")]
    pub files: Vec<PathBuf>,

    /// 单位名册 CSV；给出时按报告标题或文件名中的单位名称对应名册中的单位和代码。
    #[arg(long, value_name = "CSV")]
    pub units: Option<PathBuf>,

    /// 每个问题输出一行 JSON 对象（给其他程序），代替给人看的文字。
    #[arg(long)]
    pub json: bool,

    /// 文件没有写明报告年度时（手工表格、标题中没有年度的报告）按此年度检查。
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

    /// 按上级单位分文件夹：每个有下级的单位一个 <代码>_<名称>/ 文件夹，放其直属下级的模板和分发清单；
    /// 顶层单位（没有上级）的模板留在输出目录中。
    #[arg(long)]
    pub by_parent: bool,

    /// 与 --by-parent 一起用：children 只放直属下级（默认），all 放全部下级（下级的下级也在内）。
    #[arg(long, value_name = "children|all", default_value = "children", value_parser = ["children", "all"], requires = "by_parent")]
    pub depth: String,

    /// 与 --by-parent 一起用：每个文件夹写成一个 .zip（文件名按 UTF-8 标记，Windows 自带的解压显示中文名）。
    #[arg(long, requires = "by_parent")]
    pub zip: bool,

    #[command(flatten)]
    pub handback: HandbackArgs,
}

/// When and to whom a workbook goes back: printed on the cover and in the 填报说明, kept
/// in the identity sheet (`template`, and `fill` for workbooks sent out prefilled).
#[derive(Debug, Clone, clap::Args)]
pub struct HandbackArgs {
    /// 交回期限，如 2025-01-20：印在每个模板的封面和填报说明中；汇总时，保存时间晚于期限的工作簿记一条“信息”（不影响受理）。
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_deadline)]
    pub deadline: Option<nianbao::identity::Deadline>,

    /// 联系人和电话，如 "县政务公开办 0453-0000000"：印在封面和填报说明中。
    #[arg(long, value_name = "TEXT")]
    pub contact: Option<String>,
}

impl HandbackArgs {
    pub fn handback(&self) -> nianbao::identity::Handback {
        nianbao::identity::Handback {
            deadline: self.deadline,
            contact: self.contact.clone().unwrap_or_default(),
        }
    }
}

/// `--deadline`: a day of the calendar, `2025-01-20`.
fn parse_deadline(text: &str) -> Result<nianbao::identity::Deadline, String> {
    nianbao::identity::Deadline::parse(text)
        .ok_or_else(|| format!("「{text}」不是日期，请写成 2025-01-20 这样的年-月-日"))
}

/// Parses the command line; a mistake in it is explained in Chinese ([`explain`]), as
/// clap has no translations of its own messages. Help and version are clap's (their
/// words are ours, above), printed where clap prints them.
///
/// # Errors
/// The exit code to end with: 0 after help or version, 2 after a mistake.
pub fn parse(args: &[std::ffi::OsString]) -> Result<Cli, std::process::ExitCode> {
    use clap::error::ErrorKind;
    let err = match Cli::try_parse_from(args) {
        Ok(cli) => return Ok(cli),
        Err(err) => err,
    };
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
        }
        _ => {
            let args: Vec<String> = args
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprint!("{}", explain(&err, &args));
        }
    }
    Err(std::process::ExitCode::from(
        u8::try_from(err.exit_code()).unwrap_or(2),
    ))
}

/// A command-line mistake as a Chinese sentence, then the usage and where to read
/// more: clap's `error: unexpected argument`, `Usage:` and `For more information,
/// try '--help'` in words a coordinator reads. `args` are the arguments given (after
/// the program's name), to name the command whose help to read.
pub fn explain(err: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("、"),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = text(ContextKind::InvalidArg);
    let value = text(ContextKind::InvalidValue);
    let mut out = match err.kind() {
        ErrorKind::UnknownArgument => format!("错误：没有参数“{arg}”。"),
        ErrorKind::InvalidSubcommand => {
            format!("错误：没有命令“{}”。", text(ContextKind::InvalidSubcommand))
        }
        ErrorKind::InvalidValue => {
            let valid = text(ContextKind::ValidValue);
            let mut s = if value.is_empty() {
                format!("错误：参数 {arg} 需要一个值。")
            } else {
                format!("错误：参数 {arg} 的值“{value}”无效。")
            };
            if !valid.is_empty() {
                s.push_str(&format!("可以是：{valid}。"));
            }
            s
        }
        ErrorKind::ValueValidation => {
            // The parser's reason (`invalid digit found in string`) is clap's English
            // too: what a number argument wants is said instead.
            format!("错误：参数 {arg} 的值“{value}”无效，应为整数。")
        }
        ErrorKind::MissingRequiredArgument => {
            format!("错误：缺少必须给出的参数：{arg}。")
        }
        ErrorKind::MissingSubcommand => "错误：没有给出命令。".to_string(),
        ErrorKind::ArgumentConflict => format!(
            "错误：参数 {arg} 不能与 {} 同时使用。",
            text(ContextKind::PriorArg)
        ),
        ErrorKind::NoEquals => format!("错误：参数 {arg} 的值要用等号给出（{arg}=值）。"),
        ErrorKind::TooManyValues => format!("错误：参数 {arg} 的值“{value}”多余。"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("错误：参数 {arg} 的值的个数不对。")
        }
        ErrorKind::InvalidUtf8 => "错误：参数中有不是 UTF-8 编码的文字。".to_string(),
        _ => "错误：命令行参数有误。".to_string(),
    };
    out.push('\n');
    let suggested = [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .map(text)
    .find(|s| !s.is_empty());
    if let Some(suggested) = suggested {
        out.push_str(&format!("  是不是要用：{suggested}\n"));
    } else if err.kind() == ErrorKind::UnknownArgument && arg.starts_with('-') {
        out.push_str(&format!(
            "  “{arg}”若是文件名而不是参数，请写在 -- 之后：-- {arg}\n"
        ));
    }
    // clap's usage line, without its English heading.
    let usage = text(ContextKind::Usage);
    let usage = usage.trim().trim_start_matches("Usage:").trim();
    if !usage.is_empty() {
        out.push_str(&format!("\n用法：{usage}\n"));
    }
    let command = args
        .iter()
        .find(|a| Cli::command().find_subcommand(a.as_str()).is_some());
    let help = match command {
        Some(c) => format!("nianbao {c} --help"),
        None => "nianbao --help".to_string(),
    };
    out.push_str(&format!("\n详细说明请运行：{help}\n"));
    out
}
