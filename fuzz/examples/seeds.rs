//! Writes the seed corpora: `corpus/check_file/` (filled .xlsx of both formats, stored
//! and deflated, the .xls and .ods LibreOffice makes of it if installed) and
//! `corpus/xlsx_xml/` (each XML part of the filled workbook). Run from `fuzz/`.

use std::path::Path;
use std::process::Command;

fn write(dir: &Path, name: &str, pick: u8, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut data = vec![pick];
    data.extend_from_slice(bytes);
    std::fs::write(dir.join(name), data).unwrap();
}

fn main() {
    let files = Path::new("corpus/check_file");
    let xlsx = nianbao_fuzz::filled(2020, None);
    write(files, "2020.xlsx", 0, &xlsx);
    write(files, "2024.xlsx", 0, &nianbao_fuzz::filled(2024, None));
    write(
        files,
        "2020-stored.xlsx",
        0,
        &nianbao_fuzz::stored_zip(&nianbao_fuzz::unzip(&xlsx)),
    );
    let tmp = std::env::temp_dir().join(format!("nianbao-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let src = tmp.join("seed.xlsx");
    std::fs::write(&src, &xlsx).unwrap();
    for (ext, pick) in [("xls", 1u8), ("ods", 2)] {
        let status = Command::new("soffice")
            .arg(format!(
                "-env:UserInstallation=file://{}/profile",
                tmp.display()
            ))
            .args(["--headless", "--convert-to", ext, "--outdir"])
            .arg(&tmp)
            .arg(&src)
            .status();
        match std::fs::read(tmp.join(format!("seed.{ext}"))) {
            Ok(bytes) => write(files, &format!("2020.{ext}"), pick, &bytes),
            Err(e) => eprintln!("no .{ext} seed (LibreOffice: {status:?}, {e})"),
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);

    let xml = Path::new("corpus/xlsx_xml");
    let (parts, picks) = nianbao_fuzz::base();
    for (pick, &i) in picks.iter().enumerate() {
        let name = parts[i].0.replace('/', "_");
        write(xml, &name, pick as u8, &parts[i].1);
    }
    println!("seeds written under corpus/");
}
