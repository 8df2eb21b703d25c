//! The command line's conventions, the same for every command: stdout carries data (the
//! findings of `check`, the list of `formats`), stderr carries progress and summaries;
//! `--format` is a report format id and `check --json` selects JSON lines; a reader that
//! stops reading (`| head`) ends the run quietly with 0.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command as StdCommand, Output, Stdio};

use crate::common::*;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary with `args` and returns what it did, whatever the exit code.
fn run(scratch: &Scratch, args: &[&str]) -> Output {
    nianbao()
        .current_dir(scratch.dir.path())
        .args(args)
        .output()
        .unwrap()
}

/// Three workbooks of the township: one clean, one with an unbalanced 自然人 column,
/// one that is not a workbook at all.
fn three_files(scratch: &Scratch) -> Vec<PathBuf> {
    let clean = Filled::new(2020).write(scratch, "clean.xlsx");
    let mut filled = Filled::new(2020);
    filled.values = &[("t3.new.natural", 5.0), ("t3.open.natural", 3.0)];
    let unbalanced = filled.write(scratch, "unbalanced.xlsx");
    let broken = scratch.write("broken.xlsx", b"not a workbook");
    vec![clean, unbalanced, broken]
}

#[test]
fn check_json_gives_one_object_per_line_on_stdout() {
    let scratch = Scratch::new();
    let files = three_files(&scratch);
    let out = nianbao()
        .arg("check")
        .arg("--json")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.iter().all(|l| l.is_object()), "{stdout}");
    let rules: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["file"].as_str().unwrap(), l["rule"].as_str().unwrap()))
        .map(|(f, r)| (f.rsplit('/').next().unwrap(), r))
        .collect();
    assert_eq!(
        rules,
        [("unbalanced.xlsx", "T3-1"), ("broken.xlsx", "F-1")],
        "the clean file has no line"
    );
}

#[test]
fn check_text_findings_are_on_stdout_and_nothing_of_them_on_stderr() {
    let scratch = Scratch::new();
    let files = three_files(&scratch);
    let out = nianbao().arg("check").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    for needle in [
        "clean.xlsx — 山市镇人民政府（110）",
        "结果：通过。",
        "错误 T3-1",
        "结果：不通过，需要修改。",
        "错误 F-1",
    ] {
        assert!(stdout.contains(needle), "{needle}\n{stdout}");
    }
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn check_format_is_not_an_output_switch_any_more() {
    // `--format` names a report format elsewhere; check's output is chosen by --json.
    let scratch = Scratch::new();
    Filled::new(2020).write(&scratch, "a.xlsx");
    let out = run(&scratch, &["check", "--format", "json", "a.xlsx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("--format"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn formats_lists_on_stdout_only() {
    let scratch = Scratch::new();
    let out = run(&scratch, &["formats"]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let ids: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["2019", "2021"]);
}

#[test]
fn template_and_fill_report_on_stderr_with_stdout_empty() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let out = run(
        &scratch,
        &[
            "template",
            "--year",
            "2022",
            "--format",
            "2019",
            "--units",
            "units.csv",
            "--out",
            "t",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    for needle in ["注意：2019 格式适用于", "已为 5 个单位生成", "分发清单："] {
        assert!(stderr.contains(needle), "{needle}\n{stderr}");
    }

    scratch.write(
        "values.csv",
        "unit_code,field,value\n110,t3.new.natural,1\n110,t3.open.natural,1\n",
    );
    let out = run(
        &scratch,
        &[
            "fill",
            "--year",
            "2024",
            "--units",
            "units.csv",
            "--values",
            "values.csv",
            "--out",
            "f",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("已生成 1 个已填写的工作簿"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ingest_and_report_report_on_stderr_with_stdout_empty() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    Filled::new(2020).write(&scratch, "回收/山市镇.xlsx");
    let out = run(
        &scratch,
        &["ingest", "回收", "--units", "units.csv", "--out", "汇总"],
    );
    assert_eq!(out.status.code(), Some(1), "four units have not reported");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("未报送"), "{stderr}");
    assert!(stderr.contains("输出目录：汇总"), "{stderr}");

    let out = run(&scratch, &["report", "汇总"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("已重新生成报告"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_error_goes_to_stderr_with_exit_2() {
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let out = run(
        &scratch,
        &[
            "template",
            "--year",
            "2018",
            "--units",
            "units.csv",
            "--out",
            "t",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).starts_with("错误："),
        "{}",
        text(&out.stderr)
    );
}

/// The binary with stdout and stderr set up by the caller (assert_cmd collects both).
fn binary(scratch: &Scratch) -> StdCommand {
    let mut cmd = StdCommand::new(env!("CARGO_BIN_EXE_nianbao"));
    cmd.current_dir(scratch.dir.path()).stdin(Stdio::null());
    cmd
}

/// Runs `args` with stdout a pipe whose read end is closed before the program starts,
/// so its first write of data fails. Returns (exit code, stderr).
fn with_stdout_closed(scratch: &Scratch, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = binary(scratch)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (out.status.code(), text(&out.stderr))
}

#[test]
fn a_closed_stdout_ends_formats_and_check_quietly_with_0() {
    let scratch = Scratch::new();
    let files = three_files(&scratch);
    let names: Vec<&str> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap())
        .collect();
    let check: Vec<&str> = ["check"].into_iter().chain(names.clone()).collect();
    let json: Vec<&str> = ["check", "--json"].into_iter().chain(names).collect();
    for args in [&["formats"][..], &check, &json] {
        let (code, stderr) = with_stdout_closed(&scratch, args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} quietly: {stderr}");
    }
}

#[test]
fn a_reader_that_stops_after_one_line_ends_check_quietly_with_0() {
    // `nianbao check *.xlsx | head -1`: the reader goes while files are still checked.
    let scratch = Scratch::new();
    let mut files = three_files(&scratch);
    for i in 0..5 {
        files.push(Filled::new(2020).write(&scratch, &format!("more_{i}.xlsx")));
    }
    let mut child = binary(&scratch)
        .arg("check")
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("clean.xlsx"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_closed_stderr_does_not_stop_a_command() {
    // Status lines are not worth failing for: the templates are written all the same.
    let scratch = Scratch::new();
    scratch.write("units.csv", ROSTER);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = binary(&scratch)
        .args([
            "template",
            "--year",
            "2024",
            "--units",
            "units.csv",
            "--out",
            "t",
        ])
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(scratch.path("t/分发清单.csv").is_file());
}

#[test]
fn help_is_the_chinese_doc_comment_and_states_the_conventions() {
    let scratch = Scratch::new();
    let short = text(&run(&scratch, &["-h"]).stdout);
    assert!(short.starts_with("nianbao（年报）："), "{short}");
    let long = text(&run(&scratch, &["--help"]).stdout);
    assert!(long.contains("标准输出只写数据"), "{long}");
}

#[test]
fn every_help_screen_is_in_chinese_with_an_example_and_the_exit_codes() {
    let scratch = Scratch::new();
    let screens = [
        vec!["--help"],
        vec!["template", "--help"],
        vec!["check", "--help"],
        vec!["ingest", "--help"],
        vec!["fill", "--help"],
        vec!["report", "--help"],
        vec!["formats", "--help"],
    ];
    for args in screens {
        let out = run(&scratch, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = text(&out.stdout);
        for english in [
            "Usage",
            "Options",
            "Commands",
            "Arguments",
            "Print help",
            "[OPTIONS]",
        ] {
            assert!(!help.contains(english), "{args:?}: {english} in\n{help}");
        }
        for chinese in ["用法：", "选项", "示例：", "退出码："] {
            assert!(help.contains(chinese), "{args:?}: no {chinese} in\n{help}");
        }
    }
    // ingest --help lists every output it writes at the top of OUT and every folder.
    let ingest = text(&run(&scratch, &["ingest", "--help"]).stdout);
    let outputs = nianbao::output::OUTPUT_FILES.iter().map(|f| f.to_string());
    let folders = nianbao::output::OUTPUT_DIRS.iter().map(|d| format!("{d}/"));
    let patterns = nianbao::output::OUTPUT_PATTERNS
        .iter()
        .map(|p| p.to_string());
    for output in outputs.chain(folders).chain(patterns) {
        assert!(ingest.contains(&output), "{output} in\n{ingest}");
    }
}

#[test]
fn command_line_mistakes_are_explained_in_chinese() {
    let scratch = Scratch::new();
    // (arguments, what the first line says, the suggestion, whose help to read)
    let cases: [(&[&str], &str, Option<&str>, &str); 5] = [
        (
            &["check", "--format", "json", "a.xlsx"],
            "错误：没有参数“--format”。",
            Some("是不是要用：--format-file"),
            "nianbao check --help",
        ),
        (
            &["chek", "a.xlsx"],
            "错误：没有命令“chek”。",
            Some("是不是要用：check"),
            "nianbao --help",
        ),
        (
            &["template", "--year", "abc"],
            "错误：参数 --year <YEAR> 的值“abc”无效，应为整数。",
            None,
            "nianbao template --help",
        ),
        (
            &[
                "template",
                "--year",
                "2024",
                "--units",
                "名册.csv",
                "--out",
                "o",
                "--zip",
            ],
            "错误：缺少必须给出的参数：--by-parent。",
            None,
            "nianbao template --help",
        ),
        (
            &["ingest"],
            "错误：缺少必须给出的参数：<DIR_OR_FILE>...。",
            None,
            "nianbao ingest --help",
        ),
    ];
    for (args, first, suggested, help) in cases {
        let out = run(&scratch, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(err.lines().next(), Some(first), "{args:?}: {err}");
        if let Some(suggested) = suggested {
            assert!(err.contains(suggested), "{args:?}: {err}");
        }
        assert!(
            err.trim_end().ends_with(&format!("详细说明请运行：{help}")),
            "{args:?}: {err}"
        );
        // None of clap's own English is left.
        for english in [
            "error:",
            "Usage:",
            "For more information",
            "tip:",
            "unexpected",
        ] {
            assert!(!err.contains(english), "{args:?}: {english} in {err}");
        }
    }
    // Help is not a mistake: exit 0, on stdout.
    let out = run(&scratch, &["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("用法："));
}
