//! Writing output files safely: to a temporary file beside the final name, then renamed
//! into place, so a reader never sees half a file and an interrupted run leaves the
//! previous file as it was. The one place that does this for every stage; and the one
//! guard of every CSV text cell against formula injection ([`neutralise`]).

use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

/// A text cell of a CSV as Excel must not execute it: a value beginning with `=`, `+`,
/// `-`, `@`, tab or carriage return is prefixed with a single quote. Every CSV nianbao
/// writes puts its text through this (`ingest`'s outputs and `template`'s 分发清单.csv);
/// numeric columns are written as they are.
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    persist(tmp, path)
}

/// The files `ingest` writes directly in its output directory. Inputs are never among
/// them: a run refuses to start when one of these would replace the roster, a
/// `--previous` file or a returned workbook.
pub const OUTPUT_FILES: &[&str] = &[
    "values.csv",
    "units.csv",
    "rollup.csv",
    "diagnostics.csv",
    "sections.csv",
    "files.csv",
    "roster.csv",
    "index.html",
];

/// The subdirectories of the output directory whose `.html`, `.md` and `.xlsx` files a
/// run writes, and removes when stale (see `publish`).
pub const OUTPUT_DIRS: &[&str] = &["reports", "rollups", "corrections"];

/// The extensions of the files a run owns in [`OUTPUT_DIRS`].
pub const OUTPUT_DIR_EXTENSIONS: &[&str] = &["html", "md", "xlsx"];

/// Marks a workbook nianbao made that is not a return (the roll-up `汇总表.xlsx`), so
/// that it is recognised by its content wherever it is moved: the custom document
/// property [`GENERATED_PROPERTY`] with this value, and this text in the first cell of
/// each sheet's hidden key column (cells survive a re-save as .xls or .ods; properties
/// may not).
pub const ROLLUP_MARK: &str = "nianbao-rollup";

/// The custom document property that says which of nianbao's own outputs a workbook is.
pub const GENERATED_PROPERTY: &str = "nianbao_generated";

/// How temporary output files start, so that those a killed run left behind can be
/// recognised and removed by the next run ([`remove_stale_temps`]).
pub const TEMP_PREFIX: &str = ".nianbao-tmp-";

/// A temporary file in `path`'s directory, to be [`persist`]ed as `path`.
pub fn temp_beside(path: &Path) -> std::io::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
}

/// Removes the temporary files ([`TEMP_PREFIX`]) that a run killed half-way left in
/// `dir` (a normal run removes its own). A missing `dir` has none.
pub fn remove_stale_temps(dir: &Path) -> std::io::Result<()> {
    remove_files_where(dir, |name| name.starts_with(TEMP_PREFIX))
}

/// Removes the regular files directly in `dir` whose name `stale` picks; a missing `dir`
/// has none. Directories and everything else are left alone.
pub fn remove_files_where(dir: &Path, stale: impl Fn(&str) -> bool) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if stale(&entry.file_name().to_string_lossy()) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Renames a finished temporary file into place. Temporary files are created readable
/// by their owner only; outputs are shared (a coordinator's colleagues, a file server),
/// so they get the usual `rw-r--r--` first.
pub fn persist(tmp: NamedTempFile, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("值.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // What a killed run leaves behind is recognised and removed; nothing else is.
        let left = temp_beside(&path).unwrap();
        let (_, left) = left.keep().unwrap();
        std::fs::write(dir.path().join("其他.txt"), b"x").unwrap();
        remove_stale_temps(dir.path()).unwrap();
        assert!(!left.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }
}
