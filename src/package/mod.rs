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
use std::io::{Cursor, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::batch::package::{
    Carried, Manifest, Member, RosterEntry, CARRIED, FORMAT, FORMAT_VERSION, MANIFEST, MEMBERS,
};
use crate::batch::{FileOutcome, Store, StoreError};
use crate::consolidate::{self, ConsolidateError, CsvOptions, Rollup};
use crate::format::Format;
use crate::output::{sha256_hex, PACKAGE_SUFFIX};
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

/// One package made: its file name (in `OUT`) and bytes.
#[derive(Debug)]
pub struct Package {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// `<代码>_<名称>_<年度>_上报包.zip`, safe on Windows as the templates' names are.
pub fn file_name(unit: &Unit, year: i32) -> String {
    let workbook = crate::template::file_name(unit.code.as_str(), &unit.name, year);
    let stem = workbook.strip_suffix(".xlsx").unwrap_or(&workbook);
    format!("{stem}{PACKAGE_SUFFIX}")
}

/// The packages of a run, one per top unit of the roster, in the roster's order (none
/// without a roster: there is no unit to send up for). `rollups` are the run's (for
/// each top unit's counts).
pub fn make(
    format: &Format,
    year: i32,
    roster: Option<&Roster>,
    outcomes: &[FileOutcome],
    store: &Store,
    rollups: &[Rollup],
) -> Result<Vec<Package>, PackageError> {
    let Some(roster) = roster else {
        return Ok(Vec::new());
    };
    let roots = roster.roots();
    let single = roots.len() == 1;
    roots
        .into_iter()
        .map(|top| {
            let counts = rollups
                .iter()
                .find(|r| r.code == top.code.as_str())
                .map(|r| r.tally)
                .unwrap_or_default();
            one(format, year, roster, top, single, outcomes, store, counts)
        })
        .collect()
}

/// The package of `top`'s subtree.
#[allow(clippy::too_many_arguments)]
fn one(
    format: &Format,
    year: i32,
    roster: &Roster,
    top: &Unit,
    single: bool,
    outcomes: &[FileOutcome],
    store: &Store,
    counts: crate::batch::Tally,
) -> Result<Package, PackageError> {
    let name = file_name(top, year);
    let io = |source| PackageError::Io {
        name: name.clone(),
        source,
    };
    let units: Vec<&Unit> = std::iter::once(top)
        .chain(roster.descendants(&top.code))
        .collect();
    let codes: HashSet<&str> = units.iter().map(|u| u.code.as_str()).collect();
    let carried: Vec<FileOutcome> = outcomes
        .iter()
        .filter(|o| single || codes.contains(o.unit_code.as_str()))
        .cloned()
        .collect();
    let sub_roster = subtree_roster(&units).map_err(|e| io(std::io::Error::other(e)))?;
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    // The CSV files of the subtree, as an ingest of its files alone would write them.
    let dir = tempfile::tempdir().map_err(io)?;
    consolidate::write(
        dir.path(),
        format,
        year,
        Some(&sub_roster),
        &carried,
        store,
        CsvOptions { bom: true },
    )?;
    for csv in MEMBERS.iter().filter(|m| **m != CARRIED) {
        members.push((
            csv.to_string(),
            std::fs::read(dir.path().join(csv)).map_err(io)?,
        ));
    }
    members.push((CARRIED.to_string(), carried_lines(&carried, store)?));
    members.sort();
    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        report_format: format.id.clone(),
        year,
        tool: env!("CARGO_PKG_NAME").to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        top_unit: top.code.to_string(),
        roster: units.iter().map(|u| roster_entry(u, top)).collect(),
        counts,
        members: members
            .iter()
            .map(|(name, bytes)| Member {
                name: name.clone(),
                size: bytes.len() as u64,
                sha256: sha256_hex(bytes),
            })
            .collect(),
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| io(e.into()))?;
    manifest_bytes.push(b'\n');
    members.push((MANIFEST.to_string(), manifest_bytes));
    members.sort();
    let bytes = zipped(&members).map_err(|source| PackageError::Zip {
        name: name.clone(),
        source,
    })?;
    Ok(Package { name, bytes })
}

/// A unit as the manifest lists it: the top unit has no parent in its package.
fn roster_entry(unit: &Unit, top: &Unit) -> RosterEntry {
    let parent = match &unit.parent {
        Some(p) if unit.code != top.code => p.to_string(),
        _ => String::new(),
    };
    RosterEntry {
        code: unit.code.to_string(),
        name: unit.name.clone(),
        parent,
        level: unit.level.clone(),
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

/// [`CARRIED`]: one JSON line per file, in the run's file order, each with its
/// submission read back from the store.
fn carried_lines(carried: &[FileOutcome], store: &Store) -> Result<Vec<u8>, PackageError> {
    let mut out = Vec::new();
    for o in carried {
        let record = Carried::of(o, store)?;
        serde_json::to_writer(&mut out, &record).map_err(|e| PackageError::Io {
            name: CARRIED.to_string(),
            source: e.into(),
        })?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The members compressed into a zip, in the order given, with fixed timestamps and
/// permissions (the same members give the same bytes).
fn zipped(members: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        let large = bytes.len() as u64 >= u64::from(u32::MAX);
        zip.start_file(name.as_str(), options.large_file(large))?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// Writes the packages into `out` through the run (atomically, recorded); their names.
pub fn write(
    run: &crate::output::Run,
    out: &Path,
    packages: Vec<Package>,
) -> Result<Vec<String>, PackageError> {
    let mut names = Vec::new();
    for p in packages {
        run.write(&p.name, &p.bytes)
            .map_err(|source| PackageError::Io {
                name: out.join(&p.name).display().to_string(),
                source,
            })?;
        names.push(p.name);
    }
    Ok(names)
}
