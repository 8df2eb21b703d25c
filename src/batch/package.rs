//! A lower level's checked result as one input: the package (`<代码>_<名称>_<年度>_上报包.zip`)
//! a township's `ingest` writes for its county. This file defines what a package is
//! (its manifest and the record of each file it carries) and reads one back; the
//! `package` module writes them.
//!
//! A package is recognised by its manifest, not its name: a zip whose `manifest.json`
//! says [`FORMAT`]. Reading is bounded (the package's size, its members' count and each
//! member's size are held to limits before anything is inflated, and a member is never
//! inflated past the size its manifest states) and all or nothing: every member's size
//! and SHA-256 must be those of the manifest, and the format version known; otherwise
//! the package is `unreadable` with the reason, and nothing from it is used.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FileOutcome, Store, StoreError, Tally};
use crate::output::{Sha256Reader, CSV_FILES};
use crate::validate::Submission;

/// What a package's manifest says it is.
pub const FORMAT: &str = "nianbao-上报包";
/// The version of the package format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The manifest's name in the zip.
pub const MANIFEST: &str = "manifest.json";
/// The carried files, one JSON record ([`Carried`]) per line.
pub const CARRIED: &str = "submissions.jsonl";
/// The members a package may have besides the manifest: the carried files and the CSV
/// files of the lower level's run for people to open. Anything else makes it unreadable.
pub const MEMBERS: [&str; 7] = [
    CARRIED,
    CSV_FILES[0],
    CSV_FILES[1],
    CSV_FILES[2],
    CSV_FILES[3],
    CSV_FILES[4],
    CSV_FILES[5],
];

/// The largest package read (a province's 30,000 units take a few hundred MB).
const MAX_PACKAGE_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// The largest manifest read (its roster: 30,000 units are about 3 MB).
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;
/// The most a member may inflate to, whatever the manifest says.
const MAX_MEMBER_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// The most entries a package's zip may list.
const MAX_ENTRIES: usize = 64;
/// The longest line of [`CARRIED`] (one file's submission).
const MAX_LINE_BYTES: u64 = 64 * 1024 * 1024;

/// The manifest of a package (`manifest.json`). Read with its roster as a list; written
/// with whatever lists the units (`R`), so that a county's manifest is streamed from its
/// roster rather than copied from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest<R = Vec<RosterEntry>> {
    /// [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The report format the values are in (`format.id`).
    pub report_format: String,
    pub year: i32,
    pub tool: String,
    pub tool_version: String,
    /// The code of the package's top unit (the township).
    pub top_unit: String,
    /// The top unit and every unit below it, depth-first.
    pub roster: R,
    /// How the units of the package stand ([`Tally`] of the top unit's subtree).
    pub counts: Tally,
    /// Every other member, by name, with its size and SHA-256.
    pub members: Vec<Member>,
}

impl Manifest {
    /// The member called `name`, as the manifest lists it.
    fn member(&self, name: &str) -> Result<Member, String> {
        self.members
            .iter()
            .find(|m| m.name == name)
            .cloned()
            .ok_or_else(|| format!("上报包的清单中没有 {name}"))
    }
}

/// One unit of a package's roster (read as `String`s, written from the roster's `&str`s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry<S = String> {
    pub code: S,
    pub name: S,
    /// Empty for the top unit.
    pub parent: S,
    pub level: S,
}

/// One member of a package and what its manifest says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// One file of the lower level's run as a package carries it: its outcome there and,
/// when it was read, what was read from it. The level above judges it again from the
/// submission, as if it had read the workbook itself. Read as owned values; written
/// ([`Carried::of`]) from the run's outcome and the submission's bytes in the store as
/// they are, which are what serialising it again would give.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Carried<O = FileOutcome, S = Submission> {
    /// The file's outcome at the lower level: its modification time there decides which
    /// of two copies of a unit is newer at every level; `package` is the package it came
    /// in there, if it came in one.
    #[serde(flatten)]
    pub outcome: O,
    pub submission: Option<S>,
}

/// A [`Carried`] as written: borrowed outcome, stored submission.
pub type CarriedOut<'a> = Carried<&'a FileOutcome, Box<serde_json::value::RawValue>>;

impl Carried {
    /// The record of an outcome of this run, its submission's bytes read back from
    /// `store` (its place in the store is not serialised).
    pub fn of<'a>(outcome: &'a FileOutcome, store: &Store) -> Result<CarriedOut<'a>, StoreError> {
        Ok(Carried {
            submission: outcome.stored.map(|at| store.get_raw(at)).transpose()?,
            outcome,
        })
    }
}

/// Whether the file at `path` is a package: a zip whose manifest names [`FORMAT`]
/// (whatever the file is called). Reads only the zip's directory and the manifest.
pub fn is_package(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    let zip = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic).map(|_| f));
    if zip.is_err() || &magic != b"PK\x03\x04" {
        return false;
    }
    let Ok(mut archive) = archive(path) else {
        return false;
    };
    #[derive(Deserialize)]
    struct Head {
        format: String,
    }
    read_member(&mut archive, MANIFEST, MAX_MANIFEST_BYTES)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Head>(&bytes).ok())
        .is_some_and(|head| head.format == FORMAT)
}

/// The zip of a package, its size and entry count held to the limits.
fn archive(path: &Path) -> Result<zip::ZipArchive<std::fs::File>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("无法打开：{e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_PACKAGE_BYTES {
        return Err(format!(
            "上报包有 {} MB，超过 {} MB 的上限",
            size / 1_048_576,
            MAX_PACKAGE_BYTES / 1_048_576
        ));
    }
    let mut file = file;
    if let Some(count) = declared_entries(&mut file, size).filter(|c| *c > MAX_ENTRIES as u64) {
        return Err(format!(
            "zip 中有 {count} 个文件，上报包最多 {MAX_ENTRIES} 个"
        ));
    }
    let archive = zip::ZipArchive::new(file).map_err(|e| format!("不是完整的 zip 文件（{e}）"))?;
    if archive.len() > MAX_ENTRIES {
        return Err(format!(
            "zip 中有 {} 个文件，上报包最多 {MAX_ENTRIES} 个",
            archive.len()
        ));
    }
    Ok(archive)
}

/// How many entries the zip's end record says it has, read from the file's last 64 KiB
/// before the zip reader parses (and allocates for) a directory of any length; `None`
/// when no end record is found there (the zip reader then says what is wrong). A zip64
/// count (`0xFFFF`) is taken as it stands: more than a package ever holds.
fn declared_entries(file: &mut std::fs::File, size: u64) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let tail = size.min(22 + 0xFFFF);
    file.seek(SeekFrom::Start(size - tail)).ok()?;
    let mut bytes = Vec::with_capacity(tail as usize);
    file.by_ref().take(tail).read_to_end(&mut bytes).ok()?;
    file.seek(SeekFrom::Start(0)).ok()?;
    let at = (0..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))?;
    let count = bytes.get(at + 10..at + 12)?;
    Some(u64::from(u16::from_le_bytes([count[0], count[1]])))
}

/// A whole member, refused when it is larger than `limit` once inflated.
fn read_member(
    archive: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let member = archive.by_name(name).map_err(|_| format!("缺少 {name}"))?;
    let mut bytes = Vec::new();
    member
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name} 无法解压（{e}）"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("{name} 超过 {} MB 的上限", limit / 1_048_576));
    }
    Ok(bytes)
}

/// The manifest of a package, checked for what this build can read: the format and its
/// version, and exactly the members it lists (no more, none unknown).
fn manifest(archive: &mut zip::ZipArchive<std::fs::File>) -> Result<Manifest, String> {
    let bytes = read_member(archive, MANIFEST, MAX_MANIFEST_BYTES)?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| format!("{MANIFEST} 不是有效的清单（{e}）"))?;
    if manifest.format != FORMAT {
        return Err(format!("{MANIFEST} 不是 nianbao 上报包的清单"));
    }
    if manifest.format_version != FORMAT_VERSION {
        return Err(format!(
            "上报包格式版本为 {}，本版本 nianbao 只能读取版本 {FORMAT_VERSION}；请用相同版本的 nianbao 重新生成上报包",
            manifest.format_version
        ));
    }
    let mut listed: Vec<&str> = manifest.members.iter().map(|m| m.name.as_str()).collect();
    listed.push(MANIFEST);
    listed.sort_unstable();
    let mut found: Vec<String> = archive
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("zip 中的文件名无法读取（{e}）"))?;
    found.sort_unstable();
    if listed != found {
        return Err(format!(
            "zip 中的文件（{}）与清单所列（{}）不符（上报包被改动过？）",
            found.join("、"),
            listed.join("、")
        ));
    }
    if let Some(m) = manifest
        .members
        .iter()
        .find(|m| !MEMBERS.contains(&m.name.as_str()) || m.size > MAX_MEMBER_BYTES)
    {
        return Err(format!("清单中的 {} 不是上报包应有的文件，或过大", m.name));
    }
    if !manifest.roster.iter().any(|u| u.code == manifest.top_unit) {
        return Err(format!("清单的名册中没有上报单位 {}", manifest.top_unit));
    }
    Ok(manifest)
}

/// Reads a member through `each` line by line, checking its size and SHA-256 against
/// the manifest's at the end (so a line handed out is not yet known good: the caller
/// uses nothing until this returns `Ok`).
fn each_line(
    archive: &mut zip::ZipArchive<std::fs::File>,
    member: &Member,
    mut each: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let name = &member.name;
    let entry = archive.by_name(name).map_err(|_| format!("缺少 {name}"))?;
    let mut reader = BufReader::new(Sha256Reader::new(entry.take(member.size + 1)));
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{name} 无法解压（{e}）"))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && n as u64 == MAX_LINE_BYTES {
            return Err(format!(
                "{name} 中有一行超过 {} MB",
                MAX_LINE_BYTES / 1_048_576
            ));
        }
        each(line.strip_suffix(b"\n").unwrap_or(&line))?;
    }
    let (size, sha256) = reader.into_inner().finish();
    if size != member.size || sha256 != member.sha256 {
        return Err(format!(
            "{name} 与清单不符（大小或 SHA-256 不同：上报包被改动或损坏）"
        ));
    }
    Ok(())
}

/// Checks a member's size and SHA-256 against the manifest without keeping it.
fn verify(archive: &mut zip::ZipArchive<std::fs::File>, member: &Member) -> Result<(), String> {
    each_line(archive, member, |_| Ok(()))
}

/// Why a package could not be used: the package's own problem (its `unreadable`
/// reason), or the run's (the store could not be written).
#[derive(Debug)]
pub enum Failure {
    Bad(String),
    Store(StoreError),
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure::Bad(reason)
    }
}

/// Reads and verifies the package at `path`, handing each carried file to `each` as it
/// is read (one submission in memory at a time). What `each` was given may be used only
/// once this returns `Ok`: the carried files' hash is known at their end.
pub fn open(
    path: &Path,
    mut each: impl FnMut(&Manifest, Carried) -> Result<(), StoreError>,
) -> Result<Manifest, Failure> {
    let mut archive = archive(path)?;
    let manifest = manifest(&mut archive)?;
    for member in manifest.members.iter().filter(|m| m.name != CARRIED) {
        verify(&mut archive, member)?;
    }
    let carried = manifest.member(CARRIED)?;
    let mut line_no = 0usize;
    let mut failed = None;
    each_line(&mut archive, &carried, |line| {
        line_no += 1;
        let c: Carried = serde_json::from_slice(line)
            .map_err(|e| format!("{CARRIED} 第 {line_no} 行无法读取（{e}）"))?;
        each(&manifest, c).map_err(|e| {
            failed = Some(e);
            String::new()
        })
    })
    .map_err(|reason| match failed.take() {
        Some(e) => Failure::Store(e),
        None => Failure::Bad(reason),
    })?;
    Ok(manifest)
}

/// One member's bytes, verified against the manifest (for `--previous`, which reads the
/// values a package carries): the manifest and the member, or why not.
pub fn member_bytes(path: &Path, name: &str) -> Result<(Manifest, Vec<u8>), String> {
    let mut archive = archive(path)?;
    let manifest = manifest(&mut archive)?;
    let member = manifest.member(name)?;
    let mut bytes = Vec::new();
    each_line(&mut archive, &member, |line| {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        Ok(())
    })?;
    Ok((manifest, bytes))
}

/// Where the units of a package sit in it: each unit's parent in the package's roster.
#[derive(Debug)]
pub struct PackageRoster {
    pub top: String,
    parents: HashMap<String, String>,
    names: BTreeMap<String, String>,
}

impl PackageRoster {
    pub fn new(manifest: &Manifest) -> PackageRoster {
        PackageRoster {
            top: manifest.top_unit.clone(),
            parents: manifest
                .roster
                .iter()
                .map(|u| (u.code.clone(), u.parent.clone()))
                .collect(),
            names: manifest
                .roster
                .iter()
                .map(|u| (u.code.clone(), u.name.clone()))
                .collect(),
        }
    }

    /// The parent of `code` in the package (empty for the top unit), if `code` is in it.
    pub fn parent(&self, code: &str) -> Option<&str> {
        self.parents.get(code).map(String::as_str)
    }

    /// The name of `code` in the package.
    pub fn name(&self, code: &str) -> &str {
        self.names.get(code).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of `members` at `dir/name`.
    fn zip_at(dir: &Path, name: &str, members: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
        let path = dir.join(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (n, bytes) in members {
            zip.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    fn manifest_with(members: Vec<Member>, version: u32) -> Vec<u8> {
        serde_json::to_vec(&Manifest {
            format: FORMAT.into(),
            format_version: version,
            report_format: "gov-2021".into(),
            year: 2024,
            tool: "nianbao".into(),
            tool_version: "0".into(),
            top_unit: "110".into(),
            roster: vec![RosterEntry {
                code: "110".into(),
                name: "山市镇人民政府".into(),
                parent: String::new(),
                level: "township".into(),
            }],
            counts: Tally::default(),
            members,
        })
        .unwrap()
    }

    fn member(name: &str, bytes: &[u8]) -> Member {
        Member {
            name: name.into(),
            size: bytes.len() as u64,
            sha256: crate::output::sha256_hex(bytes),
        }
    }

    fn reason(path: &Path) -> String {
        match open(path, |_, _| Ok(())) {
            Err(Failure::Bad(reason)) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_package_is_refused_with_its_reason_and_nothing_handed_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let line = b"{}\n".to_vec();
        let good = manifest_with(vec![member(CARRIED, &line)], FORMAT_VERSION);
        let ok = zip_at(
            d,
            "ok.zip",
            &[(MANIFEST, good.clone()), (CARRIED, line.clone())],
        );
        assert!(is_package(&ok));
        // `{}` is no carried file: refused on its line, after nothing was handed out.
        assert!(reason(&ok).contains("第 1 行无法读取"), "{}", reason(&ok));

        let future = manifest_with(vec![member(CARRIED, &line)], FORMAT_VERSION + 1);
        let p = zip_at(d, "v.zip", &[(MANIFEST, future), (CARRIED, line.clone())]);
        assert!(reason(&p).contains("格式版本为 2"), "{}", reason(&p));

        let p = zip_at(
            d,
            "extra.zip",
            &[
                (MANIFEST, good.clone()),
                (CARRIED, line.clone()),
                ("x.xlsx", vec![1]),
            ],
        );
        assert!(reason(&p).contains("与清单所列"), "{}", reason(&p));

        let many: Vec<(String, Vec<u8>)> = (0..=MAX_ENTRIES)
            .map(|i| (format!("{i}"), vec![]))
            .collect();
        let refs: Vec<(&str, Vec<u8>)> =
            many.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        let p = zip_at(d, "many.zip", &refs);
        assert!(reason(&p).contains("个文件，上报包最多"), "{}", reason(&p));

        // A directory claiming 60,000 entries is refused by its end record, before the
        // zip reader would walk it (here it would only say the zip is broken).
        let mut bytes = std::fs::read(&ok).unwrap();
        let end = bytes.len() - 22;
        assert!(bytes[end..].starts_with(b"PK\x05\x06"));
        bytes[end + 10..end + 12].copy_from_slice(&60_000u16.to_le_bytes());
        let p = d.join("claims.zip");
        std::fs::write(&p, &bytes).unwrap();
        assert!(
            reason(&p).contains("zip 中有 60000 个文件"),
            "{}",
            reason(&p)
        );

        let p = d.join("cut.zip");
        std::fs::write(&p, &std::fs::read(&ok).unwrap()[..40]).unwrap();
        assert!(!is_package(&p));
        assert!(reason(&p).contains("不是完整的 zip"), "{}", reason(&p));

        let other = zip_at(
            d,
            "other.zip",
            &[(MANIFEST, b"{\"format\":\"x\"}".to_vec())],
        );
        assert!(!is_package(&other));
    }
}
