//! Workbooks saved by a real spreadsheet program (LibreOffice, headless): the template
//! filled, saved as .xls and .ods (and re-saved as .xlsx), must check exactly like the
//! original. Skipped, saying so, where LibreOffice is not installed (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|bin| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Converts `file` with LibreOffice to `ext` in `dir`, with a private profile so tests can
/// run in parallel.
fn convert(bin: &str, file: &Path, ext: &str, dir: &Path) -> PathBuf {
    let profile = dir.join(format!("profile_{ext}"));
    let status = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", ext, "--outdir"])
        .arg(dir)
        .arg(file)
        .output()
        .expect("run soffice");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let out = dir.join(file.with_extension(ext).file_name().unwrap());
    assert!(out.is_file(), "LibreOffice wrote no {ext}");
    out
}

#[test]
fn xls_ods_and_resaved_xlsx_check_like_the_original() {
    let Some(bin) = soffice() else {
        eprintln!("SKIPPED: LibreOffice (soffice) is not installed; .xls/.ods interop not tested");
        return;
    };
    let scratch = Scratch::new();
    let mut filled = Filled::new(2024);
    filled.values = &[
        ("t3.new.natural", 5.0),
        ("t3.open.natural", 3.0),
        ("t2.fees.fee_amount", 7730.28),
        ("t4.all.review_upheld", 2.0),
    ];
    filled.raw = &[("t3.new.business", "１２"), ("t2.rules.made", "十二")];
    let original = filled.write(&scratch, "orig.xlsx");
    let expected = summary(&findings(&original));
    assert!(
        expected.iter().any(|f| f.1 == "T3-1"),
        "the fixture has errors to compare: {expected:?}"
    );
    for (ext, dir) in [("xls", "xls"), ("ods", "ods")] {
        let out = scratch.path(dir);
        std::fs::create_dir_all(&out).unwrap();
        let converted = convert(bin, &original, ext, &out);
        let got = summary(&findings(&converted));
        assert_eq!(got, expected, "{ext}");
        // And back to .xlsx, as a clerk re-saving in LibreOffice would.
        let back_dir = scratch.path(&format!("{dir}_back"));
        std::fs::create_dir_all(&back_dir).unwrap();
        let back = convert(bin, &converted, "xlsx", &back_dir);
        assert_eq!(summary(&findings(&back)), expected, "{ext} → xlsx");
    }
}
