//! Finding the input files: every file under the inputs, with those not to be read
//! (lock files, hidden files, non-workbooks, what is not a regular file) marked as such,
//! and every path the walk could not enter listed as unreadable. Nothing found is lost,
//! nothing is counted twice, nothing under the output directory is read.
//!
//! A file is its real path ([`std::fs::canonicalize`]): overlapping inputs (`DIR` and
//! `./DIR`, `DIR` and `DIR/sub`) and links to one file give one input. Display names are
//! only for people: a name that is not UTF-8 (a zip made on Chinese Windows, unpacked on
//! Linux) is shown decoded as GBK when it decodes cleanly, and two files never share a
//! display name ([`Input::name_note`] says when a name was decoded or told apart).

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use super::Status;
use crate::output::{is_output_name, OUTPUT_DIRS, PUBLISHED_EXTENSIONS, TEMP_PREFIX};
use crate::read::{unsupported_by_extension, DOCUMENT_EXTENSIONS, SPREADSHEET_EXTENSIONS};

/// A file found under the inputs.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it is (as found under the input given): what is opened.
    pub path: PathBuf,
    /// As shown in outputs: the path as given on the command line, `/`-separated, its
    /// name decoded for people. Unique among the inputs of a run; never used to find or
    /// tell apart files.
    pub display: String,
    /// What outputs say about the display name: decoded as GBK, undecodable bytes
    /// replaced, numbered to tell it from another file's (None: shown as it is).
    pub name_note: Option<String>,
    /// Why it is not read (skipped, unsupported, or unreadable for the walk), if so.
    pub not_read: Option<(Status, String)>,
    /// A lower level's package (recognised by its manifest, whatever its name), read
    /// by [`super::package`] rather than as a workbook.
    pub package: bool,
}

/// What files.csv says of a name decoded as GBK.
const GBK_NOTE: &str = "文件名按 GBK 解码";
const LOSSY_NOTE: &str = "文件名既不是 UTF-8 也不是 GBK 编码，无法显示的字节以 � 代替";

/// Lists every file under the inputs, recursively, sorted by display path. Office lock
/// files, hidden files and what is not a regular file (a pipe, a device) are listed as
/// skipped; hidden directories are not entered, nor is `out` (nianbao never reads its
/// own outputs). A path the walk cannot follow (a dangling link, a link loop, a
/// directory it may not open, a path too long for the system) is listed as unreadable.
///
/// # Errors
/// An input that does not exist, or that is `out` or inside it: the run cannot be what
/// was asked.
pub fn discover(inputs: &[PathBuf], out: Option<&Path>) -> Result<Vec<Input>, std::io::Error> {
    let out = out.and_then(|o| std::fs::canonicalize(o).ok());
    let mut found: Vec<(PathBuf, Option<(Status, String)>)> = Vec::new();
    // The real path of every file listed: the first path given for a file wins.
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for root in inputs {
        if std::fs::symlink_metadata(root).is_err() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("找不到 {}", display_path(root).0),
            ));
        }
        if let (Some(out), Ok(real)) = (&out, std::fs::canonicalize(root)) {
            if real.starts_with(out) {
                return Err(std::io::Error::other(format!(
                    "输入 {} 在输出目录之中（或就是输出目录）；nianbao 不读取自己的输出目录，请另选输出目录（--out），例如 {}",
                    display_path(root).0,
                    display_path(&root.join("汇总")).0
                )));
            }
        }
        let is_out = |p: &Path| {
            out.as_ref()
                .is_some_and(|o| std::fs::canonicalize(p).is_ok_and(|real| real == *o))
        };
        let walk = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        let entries = walk.into_iter().filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && (e.file_name().to_string_lossy().starts_with('.') || is_out(e.path())))
        });
        for entry in entries {
            match entry {
                Ok(entry) if entry.file_type().is_dir() => {}
                Ok(entry) => {
                    let regular = entry.file_type().is_file();
                    let path = entry.into_path();
                    let real = std::fs::canonicalize(&path).ok();
                    if real
                        .as_ref()
                        .zip(out.as_ref())
                        .is_some_and(|(real, out)| real.starts_with(out))
                    {
                        continue; // a link into the output directory
                    }
                    if !seen.insert(real.unwrap_or_else(|| path.clone())) {
                        continue;
                    }
                    let not_read = if regular {
                        classify(&path)
                    } else {
                        Some((
                            Status::Skipped,
                            "不是普通文件（管道、设备等），未读取".to_string(),
                        ))
                    };
                    found.push((path, not_read));
                }
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    // The entry itself, not what it points to (a loop points at a
                    // directory listed for its own sake).
                    if !seen.insert(real_entry(&path)) {
                        continue;
                    }
                    let reason = walk_error(&err, &path);
                    found.push((path, Some((Status::Unreadable, reason))));
                }
            }
        }
    }
    let mut listed = named(found);
    listed.sort_by(|a, b| a.display.cmp(&b.display));
    mark_packages(&mut listed);
    Ok(listed)
}

/// Marks the packages among the files that are not workbooks: a package is known by its
/// manifest, not its name or extension.
fn mark_packages(inputs: &mut [Input]) {
    for input in inputs {
        let unsupported = matches!(input.not_read, Some((Status::Unsupported, _)));
        // A malformed zip is not a package, whatever the zip reader makes of it.
        let is_package = || {
            std::panic::catch_unwind(|| super::package::is_package(&input.path)).unwrap_or(false)
        };
        if unsupported && is_package() {
            input.not_read = None;
            input.package = true;
        }
    }
}

/// The real path of a directory entry without following the entry itself.
fn real_entry(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })
        .map(|p| p.join(name))
        .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// Why the walk could not follow a path, for files.csv.
fn walk_error(err: &walkdir::Error, path: &Path) -> String {
    if let Some(ancestor) = err.loop_ancestor() {
        return format!(
            "符号链接指回上级目录 {}，形成循环，未进入",
            display_path(ancestor).0
        );
    }
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && std::fs::metadata(path).is_err() {
        let target = std::fs::read_link(path)
            .map(|t| display_path(&t).0)
            .unwrap_or_default();
        return format!("符号链接指向的文件不存在：{target}");
    }
    use std::io::ErrorKind;
    match err.io_error().map(std::io::Error::kind) {
        Some(ErrorKind::PermissionDenied) => {
            "没有读取权限，无法打开；其中的文件未读取，请检查文件夹权限".to_string()
        }
        Some(ErrorKind::InvalidFilename) => {
            "路径过长（超过系统允许的长度）或文件名无效，无法读取；请移到较短的路径下".to_string()
        }
        Some(ErrorKind::NotFound) => "查找过程中文件消失（可能被移动或删除）".to_string(),
        _ => format!("无法读取此路径（系统错误：{err}）"),
    }
}

fn classify(path: &Path) -> Option<(Status, String)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.starts_with("~$") {
        Some((
            Status::Skipped,
            "Office/WPS 打开文件时留下的临时锁文件".to_string(),
        ))
    } else if name.starts_with('.') {
        Some((Status::Skipped, "隐藏文件".to_string()))
    } else if let Some(why) = unsupported_by_extension(&ext) {
        Some((Status::Unsupported, why))
    } else if in_saved_page_folder(path) {
        Some((
            Status::Skipped,
            "保存网页时附带的资源文件（图片、样式等）".to_string(),
        ))
    } else if !SPREADSHEET_EXTENSIONS.contains(&ext.as_str())
        && !DOCUMENT_EXTENSIONS.contains(&ext.as_str())
    {
        let what = if ext.is_empty() {
            "没有扩展名".to_string()
        } else {
            format!(".{ext} 文件")
        };
        Some((Status::Unsupported, format!("不是工作簿（{what}），未读取")))
    } else {
        None
    }
}

/// Whether a file is inside the folder a browser saves beside a web page ("网页，全部":
/// `报告.htm` and `报告_files/` or `报告.files/`): the page's pictures and styles.
fn in_saved_page_folder(path: &Path) -> bool {
    path.ancestors().skip(1).any(|dir| {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        let Some(page) = name
            .strip_suffix("_files")
            .or_else(|| name.strip_suffix(".files"))
        else {
            return false;
        };
        ["htm", "html"]
            .iter()
            .any(|ext| dir.with_file_name(format!("{page}.{ext}")).is_file())
    })
}

/// How a name was made readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Decoding {
    /// UTF-8 (UTF-16 on Windows) as it is.
    Exact,
    /// Bytes that are not UTF-8, decoded as GBK (Unix only: Windows names are UTF-16).
    #[cfg_attr(not(unix), allow(dead_code))]
    Gbk,
    /// Neither: bytes replaced by U+FFFD.
    Lossy,
}

/// One component of a path for display.
fn decode(name: &OsStr) -> (String, Decoding) {
    if let Some(s) = name.to_str() {
        return (s.to_string(), Decoding::Exact);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = name.as_bytes();
        if let Some(s) = encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes)
        {
            if !s.chars().any(char::is_control) {
                return (s.into_owned(), Decoding::Gbk);
            }
        }
    }
    (name.to_string_lossy().into_owned(), Decoding::Lossy)
}

/// A path as shown in outputs: its components joined by `/` (a `\` in a Unix file name
/// stays a `\`, part of the name), each decoded by [`decode`]; and the least exact
/// decoding used.
fn display_path(path: &Path) -> (String, Decoding) {
    let mut s = String::new();
    let mut worst = Decoding::Exact;
    let push = |s: &mut String, part: &str| {
        if !s.is_empty() && !s.ends_with('/') {
            s.push('/');
        }
        s.push_str(part);
    };
    for c in path.components() {
        match c {
            Component::Prefix(p) => {
                let text = p.as_os_str().to_string_lossy();
                // On Windows `\` separates, and a prefix (`\\server\share`) holds some.
                s.push_str(&text.replace('\\', "/"));
            }
            Component::RootDir => {
                if !s.ends_with('/') {
                    s.push('/');
                }
            }
            Component::CurDir => push(&mut s, "."),
            Component::ParentDir => push(&mut s, ".."),
            Component::Normal(name) => {
                let (text, how) = decode(name);
                worst = worst.max(how);
                push(&mut s, &text);
            }
        }
    }
    (s, worst)
}

/// Gives each found path its display name, unique among them: where two files would
/// show the same name, the one shown exactly (else the first by path) keeps it and the
/// others are numbered, `名称（2）.xlsx`.
fn named(found: Vec<(PathBuf, Option<(Status, String)>)>) -> Vec<Input> {
    let mut inputs: Vec<(Input, Decoding)> = found
        .into_iter()
        .map(|(path, not_read)| {
            let (display, how) = display_path(&path);
            let name_note = match how {
                Decoding::Exact => None,
                Decoding::Gbk => Some(GBK_NOTE.to_string()),
                Decoding::Lossy => Some(LOSSY_NOTE.to_string()),
            };
            let input = Input {
                path,
                display,
                name_note,
                not_read,
                package: false,
            };
            (input, how)
        })
        .collect();
    let mut by_display: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (input, _)) in inputs.iter().enumerate() {
        by_display.entry(input.display.clone()).or_default().push(i);
    }
    let mut taken: HashSet<String> = by_display.keys().cloned().collect();
    for mut same in by_display.into_values().filter(|v| v.len() > 1) {
        same.sort_by(|&a, &b| {
            (inputs[a].1, inputs[a].0.path.as_os_str())
                .cmp(&(inputs[b].1, inputs[b].0.path.as_os_str()))
        });
        for &i in &same[1..] {
            let input = &mut inputs[i].0;
            let (mut n, mut name) = (2, String::new());
            while name.is_empty() || taken.contains(&name) {
                name = numbered(&input.display, n);
                n += 1;
            }
            taken.insert(name.clone());
            let note = format!("与另一文件显示的名称相同，显示为“{}”以区分", last(&name));
            input.name_note = Some(match input.name_note.take() {
                Some(first) => format!("{first}；{note}"),
                None => note,
            });
            input.display = name;
        }
    }
    inputs.into_iter().map(|(input, _)| input).collect()
}

fn last(display: &str) -> &str {
    display.rsplit('/').next().unwrap_or(display)
}

/// `a/名称.xlsx` numbered `n`: `a/名称（n）.xlsx`.
fn numbered(display: &str, n: usize) -> String {
    let name = last(display);
    let dir = &display[..display.len() - name.len()];
    match name.rfind('.').filter(|&i| i > 0) {
        Some(dot) => format!("{dir}{}（{n}）{}", &name[..dot], &name[dot..]),
        None => format!("{dir}{name}（{n}）"),
    }
}

/// Refuses a run whose outputs would replace one of its inputs: an input file at a path
/// `ingest` writes in `out` (the CSVs, `index.html`, what it owns in `reports/`,
/// `rollups/` and `corrections/`, its temporary files). `inputs` are the files read,
/// each with what it is for the message (单位名册、上年汇总…). Paths are compared by the
/// real directory they are in: writing replaces a link, never what it points to.
///
/// # Errors
/// A message in Chinese naming the first such file.
pub fn refuse_overwriting(out: &Path, inputs: &[(&Path, &str)]) -> Result<(), std::io::Error> {
    let Ok(out_real) = std::fs::canonicalize(out) else {
        return Ok(()); // not there yet: nothing in it to replace
    };
    for (file, what) in inputs {
        let real = real_entry(file);
        let Ok(inside) = real.strip_prefix(&out_real) else {
            continue;
        };
        let parts: Vec<&OsStr> = inside.iter().collect();
        let is = |name: &OsStr, list: &[&str]| list.iter().any(|x| name == *x);
        let temp = |name: &OsStr| name.to_string_lossy().starts_with(TEMP_PREFIX);
        let written = match parts.as_slice() {
            [name] => is_output_name(&name.to_string_lossy()) || temp(name),
            [dir, name] => {
                is(dir, OUTPUT_DIRS)
                    && (temp(name)
                        || Path::new(name)
                            .extension()
                            .is_some_and(|e| is(e, &PUBLISHED_EXTENSIONS)))
            }
            _ => false,
        };
        if written {
            return Err(std::io::Error::other(format!(
                "输出目录 {} 中的 {} 会覆盖输入文件 {}（{what}）；请另选输出目录（--out），或把该文件移到输出目录之外",
                display_path(out).0,
                display_path(inside).0,
                display_path(file).0,
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_keep_their_extension_and_folder() {
        assert_eq!(numbered("回收/甲.xlsx", 2), "回收/甲（2）.xlsx");
        assert_eq!(numbered("甲", 3), "甲（3）");
        assert_eq!(numbered("a/.x", 2), "a/.x（2）");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_decoded_as_gbk_or_marked() {
        use std::os::unix::ffi::OsStrExt;
        let gbk = encoding_rs::GBK.encode("治山村年报.xlsx").0;
        let (s, how) = decode(OsStr::from_bytes(&gbk));
        assert_eq!((s.as_str(), how), ("治山村年报.xlsx", Decoding::Gbk));
        let (s, how) = decode(OsStr::from_bytes(b"\xff\xfe.xlsx"));
        assert_eq!(how, Decoding::Lossy);
        assert!(s.contains('\u{FFFD}'), "{s}");
        let (s, how) = display_path(Path::new("a/b\\c.xlsx"));
        assert_eq!((s.as_str(), how), ("a/b\\c.xlsx", Decoding::Exact));
    }
}
