//! Finding the input files: every file under the inputs, with those not to be read
//! (lock files, hidden files, non-workbooks) marked as such.

use std::path::{Path, PathBuf};

use super::Status;

/// Extensions of files read as workbooks (`.et` is read to say it cannot be).
const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods", "et"];

/// A file found under the inputs.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// As shown in outputs: the path as given on the command line, `/`-separated.
    pub display: String,
    /// Why it is not read (skipped or unsupported), if so.
    pub not_read: Option<(Status, String)>,
}

/// Lists every file under the inputs, recursively, sorted by display path. Office lock
/// files and hidden files are listed as skipped; hidden directories are not entered.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<Input>, std::io::Error> {
    let mut out = Vec::new();
    for root in inputs {
        if !root.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("找不到 {}", root.display()),
            ));
        }
        let walk = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        let entries = walk.into_iter().filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('.'))
        });
        for entry in entries {
            let entry = entry.map_err(std::io::Error::other)?;
            if !entry.file_type().is_file() {
                continue;
            }
            out.push(classify(entry.path()));
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
}

fn classify(path: &Path) -> Input {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let display = path.to_string_lossy().replace('\\', "/");
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let not_read = if name.starts_with("~$") {
        Some((
            Status::Skipped,
            "Office/WPS 打开文件时留下的临时锁文件".to_string(),
        ))
    } else if name.starts_with('.') {
        Some((Status::Skipped, "隐藏文件".to_string()))
    } else if !WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
        let what = if ext.is_empty() {
            "没有扩展名".to_string()
        } else {
            format!(".{ext} 文件")
        };
        Some((Status::Unsupported, format!("不是工作簿（{what}），未读取")))
    } else {
        None
    };
    Input {
        path: path.to_path_buf(),
        display,
        not_read,
    }
}
