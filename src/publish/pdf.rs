//! PDF copies of the Word documents (`--pdf`), made by LibreOffice headless: one
//! `soffice --headless --convert-to pdf` process for the whole batch (in chunks only when
//! the command line would get too long), with a profile of its own so that it neither
//! hands the work to a LibreOffice the user has open nor waits on another run's.
//!
//! The documents are linked (or copied) under short numbered names into a working
//! directory in `OUT`, converted there with one `--outdir`, and each PDF is renamed
//! beside its `.docx` and recorded in the run like every published file. LibreOffice
//! writes the time of conversion into a PDF, so PDFs, unlike the other outputs, differ
//! from run to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::PublishError;
use crate::output::Run;

/// The LibreOffice program that converts.
#[derive(Debug, Clone)]
pub struct Soffice(PathBuf);

/// The working directory in `OUT` (removed when done, and when a killed run left it).
const WORK_DIR: &str = ".nianbao-pdf";

/// The most bytes of file names passed to one process.
const MAX_ARGS: usize = 64 * 1024;

impl Soffice {
    /// LibreOffice on `PATH` (`soffice`, or `libreoffice` as some distributions call it).
    pub fn find() -> Option<Soffice> {
        let path = std::env::var_os("PATH")?;
        for dir in std::env::split_paths(&path) {
            for name in ["soffice", "libreoffice"] {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Some(Soffice(candidate));
                }
            }
        }
        None
    }

    /// The program's path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Converts `docx` (paths relative to `out`) to PDFs beside them, recorded in `run`.
    pub(super) fn convert(
        &self,
        out: &Path,
        run: &Run,
        docx: &[String],
    ) -> Result<(), PublishError> {
        if docx.is_empty() {
            return Ok(());
        }
        let work = out.join(WORK_DIR);
        let dir_error = |source| PublishError::Dir {
            path: work.display().to_string(),
            source,
        };
        remove_stale(out)?;
        std::fs::create_dir_all(work.join("in")).map_err(dir_error)?;
        for (n, relative) in docx.iter().enumerate() {
            let from = out.join(relative);
            let to = work.join("in").join(format!("{n}.docx"));
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(|source| PublishError::Io {
                    path: from.display().to_string(),
                    source,
                })?;
            }
        }
        let profile = format!(
            "-env:UserInstallation=file://{}",
            work.join("profile").display()
        );
        let names: Vec<String> = (0..docx.len()).map(|n| format!("in/{n}.docx")).collect();
        let mut chunks: Vec<&[String]> = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, name) in names.iter().enumerate() {
            if bytes + name.len() + 1 > MAX_ARGS && i > start {
                chunks.push(&names[start..i]);
                (start, bytes) = (i, 0);
            }
            bytes += name.len() + 1;
        }
        chunks.push(&names[start..]);
        for chunk in chunks {
            let output = Command::new(&self.0)
                .current_dir(&work)
                .arg(&profile)
                .args([
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    "pdf",
                ])
                .args(chunk)
                .output()
                .map_err(|source| {
                    PublishError::Pdf(format!("无法运行 {}：{source}", self.0.display()))
                })?;
            if !output.status.success() {
                return Err(PublishError::Pdf(format!(
                    "LibreOffice 转换 PDF 失败（{}）：{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
        }
        for (n, relative) in docx.iter().enumerate() {
            let made = work.join("pdf").join(format!("{n}.pdf"));
            let pdf_relative = format!("{}.pdf", relative.trim_end_matches(".docx"));
            let bytes = std::fs::read(&made).map_err(|_| {
                PublishError::Pdf(format!("LibreOffice 没有把 {relative} 转换为 PDF"))
            })?;
            let path = out.join(&pdf_relative);
            run.intend(&pdf_relative)
                .map_err(|source| PublishError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            crate::template::write_atomic(&path, &bytes)?;
            run.wrote(
                &pdf_relative,
                bytes.len() as u64,
                crate::output::sha256_hex(&bytes),
            );
        }
        std::fs::remove_dir_all(&work).map_err(dir_error)?;
        Ok(())
    }
}

/// Removes the working directory a killed run left in `out`.
pub(super) fn remove_stale(out: &Path) -> Result<(), PublishError> {
    let work = out.join(WORK_DIR);
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|source| PublishError::Dir {
            path: work.display().to_string(),
            source,
        })?;
    }
    Ok(())
}
