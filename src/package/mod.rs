//! The packages an `ingest` sends up: one `<代码>_<名称>_<年度>_上报包.zip` per top unit of
//! its roster (for a township's roster, the township), for the level above to ingest
//! beside its own workbooks (what a package is, and how it is read, is
//! [`crate::batch::package`]).
//!
//! A package holds the manifest (format, year, the top unit's roster subtree, the tool
//! version, the counts and every member's size and SHA-256), the record of every file of
//! the subtree with what was read from it ([`CARRIED`]), and the CSV files of the
//! subtree for people (values, units with their key figures, sections, roll-ups,
//! diagnostics, files). No workbook travels. Its bytes depend only on the run's
//! outcomes: members sorted by name, fixed timestamps and permissions, so a rerun at
//! any thread count writes the same bytes.
//!
//! Which files a package carries: those attributed to a unit of its subtree; with a
//! single top unit, every file of the run (the unreadable, unidentified and unknown
//! ones too, so the level above sees all the township saw). With several top units,
//! a file no unit of the roster claims goes in none of them.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::batch::package::{
    Carried, Manifest, Member, RosterEntry, CARRIED, FORMAT, FORMAT_VERSION, MANIFEST, MEMBERS,
};
use crate::batch::{FileOutcome, Store, StoreError};
use crate::consolidate::{self, ConsolidateError, CsvOptions, Rollup};
use crate::format::Format;
use crate::output::{persist, temp_beside, FileRecord, Hashing, Run, PACKAGE_SUFFIX};
use crate::roster::{Roster, Unit};

/// A package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("生成上报包 {name} 失败：{source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    #[error("生成上报包 {name} 失败：{source}")]
    Zip {
        name: String,
        source: zip::result::ZipError,
    },
    #[error(transparent)]
    Consolidate(#[from] ConsolidateError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `<代码>_<名称>_<年度>_上报包.zip`, safe on Windows as the templates' names are.
pub fn file_name(unit: &Unit, year: i32) -> String {
    let workbook = crate::template::file_name(unit.code.as_str(), &unit.name, year);
    let stem = workbook.strip_suffix(".xlsx").unwrap_or(&workbook);
    format!("{stem}{PACKAGE_SUFFIX}")
}

/// What a run has that its packages are made of.
#[derive(Debug, Clone, Copy)]
pub struct Contents<'a> {
    pub format: &'a Format,
    pub year: i32,
    pub roster: Option<&'a Roster>,
    pub outcomes: &'a [FileOutcome],
    pub store: &'a Store,
    /// The run's roll-ups (each top unit's counts).
    pub rollups: &'a [Rollup],
    /// The run's CSV files with their sizes and SHA-256 ([`consolidate::write`]): a
    /// package of the run's one top unit carries them as they are.
    pub csvs: &'a [FileRecord],
}

/// Writes the packages of a run into `out` through `run` (atomically, recorded), one per
/// top unit of the roster in the roster's order (none without a roster: there is no unit
/// to send up for); their names. Each is streamed through temporary files, one
/// submission in memory at a time.
pub fn write(run: &Run, out: &Path, contents: Contents<'_>) -> Result<Vec<String>, PackageError> {
    let Some(roster) = contents.roster else {
        return Ok(Vec::new());
    };
    let roots = roster.roots();
    let single = roots.len() == 1;
    let mut names = Vec::new();
    for top in roots {
        let name = file_name(top, contents.year);
        one(run, out, &name, roster, top, single, contents)?;
        names.push(name);
    }
    Ok(names)
}

/// The package of `top`'s subtree, written as `out/name`.
fn one(
    run: &Run,
    out: &Path,
    name: &str,
    roster: &Roster,
    top: &Unit,
    single: bool,
    contents: Contents<'_>,
) -> Result<(), PackageError> {
    let io = |source| PackageError::Io {
        name: name.to_string(),
        source,
    };
    let units: Vec<&Unit> = std::iter::once(top)
        .chain(roster.descendants(&top.code))
        .collect();
    let codes: HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
    let carried: Vec<&FileOutcome> = contents
        .outcomes
        .iter()
        .filter(|o| single || codes.contains(o.unit_code.as_str()))
        .collect();
    // Every member is made in a temporary directory first, hashed as it is written.
    // The CSV files of a roster with one top unit are the run's own (just written in
    // `out`); of one top unit among several, those an ingest of its files alone writes.
    let dir = tempfile::tempdir().map_err(io)?;
    let (csv_dir, mut written) = if single {
        (out.to_path_buf(), contents.csvs.to_vec())
    } else {
        let sub_roster = subtree_roster(&units).map_err(|e| io(std::io::Error::other(e)))?;
        let sub_outcomes: Vec<FileOutcome> = carried.iter().map(|&o| o.clone()).collect();
        let written = consolidate::write(
            dir.path(),
            contents.format,
            contents.year,
            Some(&sub_roster),
            &sub_outcomes,
            contents.store,
            CsvOptions { bom: true },
        )?;
        (dir.path().to_path_buf(), written.files)
    };
    written.push(write_carried(
        &dir.path().join(CARRIED),
        &carried,
        contents.store,
    )?);
    let path_of = |member: &str| {
        if member == CARRIED || member == MANIFEST {
            dir.path().join(member)
        } else {
            csv_dir.join(member)
        }
    };
    // Each member (the six CSV files and the carried files) as it was written.
    let mut members: Vec<Member> = written
        .into_iter()
        .map(|f| Member {
            name: f.path,
            size: f.size,
            sha256: f.sha256,
        })
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        report_format: contents.format.id.clone(),
        year: contents.year,
        tool: env!("CARGO_PKG_NAME").to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        top_unit: top.code.to_string(),
        roster: RosterOut { units: &units, top },
        counts: contents
            .rollups
            .iter()
            .find(|r| r.code == top.code.as_str())
            .map(|r| r.tally)
            .unwrap_or_default(),
        members,
    };
    {
        let file = std::fs::File::create(dir.path().join(MANIFEST)).map_err(io)?;
        let mut file = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut file, &manifest).map_err(|e| io(e.into()))?;
        file.write_all(b"\n")
            .and_then(|_| file.flush())
            .map_err(io)?;
    }
    let mut order: Vec<(&str, std::path::PathBuf)> = MEMBERS
        .iter()
        .chain([&MANIFEST])
        .map(|m| (*m, path_of(m)))
        .collect();
    order.sort_unstable();
    run.intend(name).map_err(io)?;
    let path = out.join(name);
    let tmp = temp_beside(&path).map_err(io)?;
    zip_members(tmp.as_file(), &order).map_err(|source| PackageError::Zip {
        name: name.to_string(),
        source,
    })?;
    persist(tmp, &path).map_err(io)?;
    run.wrote_file(name).map_err(io)
}

/// The units of a package as its manifest lists them, written from the roster as they
/// are serialised (a county's is every unit of the county).
struct RosterOut<'a> {
    units: &'a [&'a Unit],
    top: &'a Unit,
}

impl serde::Serialize for RosterOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.units.iter().map(|u| roster_entry(u, self.top)))
    }
}

/// A unit as the manifest lists it: the top unit has no parent in its package.
fn roster_entry<'a>(unit: &'a Unit, top: &Unit) -> RosterEntry<&'a str> {
    let parent = match &unit.parent {
        Some(p) if unit.code != top.code => p.as_str(),
        _ => "",
    };
    RosterEntry {
        code: unit.code.as_str(),
        name: &unit.name,
        parent,
        level: &unit.level,
    }
}

/// The roster of the subtree, `units[0]` its root, through the roster's own parser.
fn subtree_roster(units: &[&Unit]) -> Result<Roster, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let top = units.first().map(|u| u.code.clone());
    let mut rows = vec![["code", "name", "parent_code", "level"].map(str::to_string)];
    for u in units {
        let parent = match &u.parent {
            Some(p) if Some(&u.code) != top.as_ref() => p.to_string(),
            _ => String::new(),
        };
        rows.push([u.code.to_string(), u.name.clone(), parent, u.level.clone()]);
    }
    for row in rows {
        w.write_record(&row).map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    Roster::parse(&bytes, "上报包名册").map_err(|e| e.to_string())
}

/// [`CARRIED`] at `path`: one JSON line per file, in the run's file order, each with its
/// submission read back from the store.
fn write_carried(
    path: &Path,
    carried: &[&FileOutcome],
    store: &Store,
) -> Result<FileRecord, PackageError> {
    let io = |source| PackageError::Io {
        name: CARRIED.to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut file = Hashing::new(std::io::BufWriter::new(file));
    for o in carried {
        let record = Carried::of(o, store)?;
        serde_json::to_writer(&mut file, &record).map_err(|e| io(e.into()))?;
        file.write_all(b"\n").map_err(io)?;
    }
    let (mut file, size, sha256) = file.finish();
    file.flush().map_err(io)?;
    Ok(FileRecord {
        path: CARRIED.to_string(),
        size,
        sha256,
    })
}

/// The files `members` (name in the zip, file) compressed into a zip written to `file`,
/// in that order, with fixed timestamps and permissions (the same members give the same
/// bytes). Deflated at a fast level: a province's package carries hundreds of MB of
/// repetitive text, which shrinks tenfold even so.
fn zip_members(
    file: &std::fs::File,
    members: &[(&str, std::path::PathBuf)],
) -> zip::result::ZipResult<()> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
    for (name, path) in members {
        let large = std::fs::metadata(path)?.len() >= u64::from(u32::MAX);
        zip.start_file(*name, options.large_file(large))?;
        std::io::copy(&mut std::fs::File::open(path)?, &mut zip)?;
    }
    zip.finish()?.flush()?;
    Ok(())
}
