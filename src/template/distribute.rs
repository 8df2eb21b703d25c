//! Handing the templates out (`nianbao template`): one workbook per roster unit, a blank
//! one, and the distribution list (`分发清单.csv` and `.xlsx`, with the roster's own
//! columns such as 联系人 and 电话 carried over). With `--by-parent` the workbooks go
//! down the hierarchy: one folder (or, with `--zip`, one `.zip`) per parent unit, named
//! `<code>_<name>`, holding its children's (or all its descendants') workbooks and its
//! own list, so that a township gets its villages' templates in one piece. Every file is
//! written atomically and is the same bytes on every run.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rust_xlsxwriter::{DocProperties, Format as Style, Workbook, XlsxError};

use super::stamp::Stamper;
use super::{
    build, check_year, file_name, folder_name, prepare, write_atomic, Prefill, TemplateError,
    UnitInfo,
};
use crate::format::Format;
use crate::identity::Handback;
use crate::roster::{Roster, Unit};

/// The distribution list's file names, in the output directory and in every folder.
pub const LIST_CSV: &str = "分发清单.csv";
pub const LIST_XLSX: &str = "分发清单.xlsx";

/// How the templates are handed out.
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    /// When and to whom they go back (cover, instructions, identity).
    pub handback: Handback,
    /// One folder per parent unit (`--by-parent`), or all in one directory.
    pub by_parent: Option<ByParent>,
}

/// `--by-parent`'s choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByParent {
    /// A parent's folder holds all its descendants' templates (`--depth all`), not only
    /// its direct children's.
    pub descendants: bool,
    /// Each folder written as one `.zip` instead (`--zip`).
    pub zip: bool,
}

/// One line of the distribution list.
#[derive(Debug, Clone)]
pub struct Distributed {
    pub unit_code: String,
    pub unit_name: String,
    pub parent_code: String,
    pub level: String,
    pub file: String,
    /// Where the file was put, relative to the output directory: empty for its top,
    /// else the parent's folder (`110_山市镇人民政府/`) or zip (`….zip`).
    pub package: String,
    /// The roster's other columns (联系人, 电话 …), in its order.
    pub extra: Vec<(std::sync::Arc<str>, String)>,
}

/// What `emit` wrote.
#[derive(Debug)]
pub struct Emitted {
    pub files: Vec<Distributed>,
    pub blank: String,
    pub list: PathBuf,
    /// The parents' folders or zips (`--by-parent`), in roster order.
    pub packages: Vec<String>,
}

/// What an earlier `template` run left in `out_dir` that this one (`emitted`) did not
/// write: parents' folders and zips holding a [`LIST_CSV`], and, at the top and in the
/// folders this run wrote, workbooks named as this year's templates are
/// (`<code>_<name>_<year>.xlsx`). Listed, never removed (a coordinator may keep other
/// files there): sent out, one would give a unit a template of a roster that no longer
/// has it where it was.
pub fn left_over(out_dir: &Path, year: i32, emitted: &Emitted) -> Vec<String> {
    let written: std::collections::HashSet<String> = emitted
        .files
        .iter()
        .map(|f| format!("{}{}", f.package, f.file))
        .chain(emitted.packages.iter().cloned())
        .chain([emitted.blank.clone()])
        .collect();
    let folders = emitted.packages.iter().filter(|p| p.ends_with('/'));
    let mut left: Vec<String> = std::iter::once(String::new())
        .chain(folders.cloned())
        .flat_map(|folder| {
            let top = folder.is_empty();
            let entries = std::fs::read_dir(out_dir.join(&folder))
                .into_iter()
                .flatten();
            entries
                .filter_map(|e| e.ok())
                .filter_map(move |e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let path = e.path();
                    let ours = name.starts_with(|c: char| c.is_ascii_digit()) && name.contains('_');
                    let shown = if top && path.is_dir() && path.join(LIST_CSV).is_file() {
                        format!("{name}/")
                    } else if top && ours && name.ends_with(".zip") && zip_holds_list(&path) {
                        name
                    } else if ours && name.ends_with(&format!("_{year}.xlsx")) {
                        format!("{folder}{name}")
                    } else {
                        return None;
                    };
                    Some(shown)
                })
                .collect::<Vec<_>>()
        })
        .filter(|shown| !written.contains(shown))
        .collect();
    left.sort();
    left
}

/// Whether the zip at `path` holds a distribution list.
fn zip_holds_list(path: &Path) -> bool {
    std::fs::File::open(path)
        .ok()
        .and_then(|f| zip::ZipArchive::new(f).ok())
        .is_some_and(|mut z| z.by_name(LIST_CSV).is_ok())
}

/// File name of the blank workbook for units not on the roster.
pub fn blank_file_name(year: i32) -> String {
    format!("空白模板_{year}.xlsx")
}

/// One set of workbooks written together: the top of the output directory (no parent:
/// the roster's top-level units, or every unit without `--by-parent`) or one parent's
/// folder.
struct Group<'r> {
    parent: Option<&'r Unit>,
    members: Vec<&'r Unit>,
}

/// The groups in roster order. With `--by-parent`, the top-level units' own templates
/// stay at the top (a county keeps its own; it has no parent to send it), and every unit
/// with children has a folder.
fn groups<'r>(roster: &'r Roster, by_parent: Option<ByParent>) -> Vec<Group<'r>> {
    let Some(by) = by_parent else {
        return vec![Group {
            parent: None,
            members: roster.walk().into_iter().map(|(u, _)| u).collect(),
        }];
    };
    let mut out = vec![Group {
        parent: None,
        members: roster.roots(),
    }];
    for (unit, _) in roster.walk() {
        let members = if by.descendants {
            roster.descendants(&unit.code)
        } else {
            roster.children(&unit.code)
        };
        if !members.is_empty() {
            out.push(Group {
                parent: Some(unit),
                members,
            });
        }
    }
    out
}

/// Writes one workbook per roster unit, a blank workbook and the distribution list into
/// `out_dir`, in parallel; with `--by-parent`, the children's workbooks in their
/// parents' folders or zips, each with its own list. Each file is written atomically.
pub fn emit(
    format: &Format,
    year: i32,
    roster: &Roster,
    out_dir: &Path,
    how: &Distribution,
) -> Result<Emitted, TemplateError> {
    check_year(year)?;
    // Temporary files a killed run left behind go too (a normal run leaves none).
    std::fs::create_dir_all(out_dir)
        .and_then(|_| crate::output::remove_stale_temps(out_dir))
        .map_err(|source| TemplateError::Io {
            path: out_dir.display().to_string(),
            source,
        })?;
    // Layout, formulas, validations and styles are the same in every workbook: made
    // once here rather than for each unit (about a fifth of a workbook's time, perf).
    let blank_unit = UnitInfo::default();
    let prepared = prepare(format, &how.handback, &blank_unit)?;
    // And most of each workbook is the same bytes for every unit: stamped from a
    // master per kind of unit rather than built (see `stamp`).
    let stamper = Stamper::new(&prepared, year);
    let extra_columns = roster.extra_columns();
    let mut files: Vec<Distributed> = Vec::new();
    let mut packages = Vec::new();
    for group in groups(roster, how.by_parent) {
        let package = group.parent.map(|p| {
            let folder = folder_name(p.code.as_str(), &p.name);
            match how.by_parent {
                Some(ByParent { zip: true, .. }) => format!("{folder}.zip"),
                _ => format!("{folder}/"),
            }
        });
        let zip = matches!(how.by_parent, Some(ByParent { zip: true, .. }));
        let mut sink = match &package {
            Some(name) if zip => Sink::zip(&out_dir.join(name))?,
            Some(name) => Sink::folder(out_dir.join(name))?,
            None => Sink::Folder(out_dir.to_path_buf()),
        };
        let mut lines: Vec<Distributed> = Vec::with_capacity(group.members.len());
        // A slice of the group at a time, made in parallel: a folder's workbooks are
        // written as they are made, a zip's are added in roster order, and memory holds
        // one slice's workbooks whatever the size of the roster.
        for slice in group.members.chunks(SLICE) {
            let made: Vec<(Distributed, Vec<u8>)> = slice
                .par_iter()
                .map(|unit| {
                    let info = UnitInfo::from_roster(roster, unit);
                    let file = file_name(&info.code, &info.name, year);
                    let mut bytes = stamper.workbook(&info)?;
                    if let Sink::Folder(dir) = &sink {
                        write_atomic(&dir.join(&file), &bytes)?;
                        bytes = Vec::new();
                    }
                    let line = Distributed {
                        unit_code: info.code,
                        unit_name: info.name,
                        parent_code: info.parent_code,
                        level: info.level,
                        file,
                        package: package.clone().unwrap_or_default(),
                        extra: unit.extra.clone(),
                    };
                    Ok((line, bytes))
                })
                .collect::<Result<_, TemplateError>>()?;
            for (line, bytes) in made {
                sink.add(&line.file, &bytes)?;
                lines.push(line);
            }
        }
        if package.is_some() {
            sink.add(LIST_CSV, &list_csv(&lines, &extra_columns, false)?)?;
            sink.add(LIST_XLSX, &list_xlsx(&lines, &extra_columns, false, year)?)?;
        }
        sink.finish()?;
        if let Some(package) = package {
            packages.push(package);
        }
        // With --depth all a unit is in every ancestor's folder; the list at the top
        // names the folder of its own parent. (Without --by-parent, one group: all.)
        let parent = group.parent.map_or("", |p| p.code.as_str());
        let own = |l: &Distributed| how.by_parent.is_none() || l.parent_code == parent;
        files.extend(lines.into_iter().filter(own));
    }
    let position: HashMap<&str, usize> = roster
        .walk()
        .iter()
        .enumerate()
        .map(|(i, (u, _))| (u.code.as_str(), i))
        .collect();
    files.sort_by_key(|f| position.get(f.unit_code.as_str()).copied());
    let blank = blank_file_name(year);
    let bytes = build(&prepared, year, &blank_unit, &Prefill::default())?;
    write_atomic(&out_dir.join(&blank), &bytes)?;

    let with_package = how.by_parent.is_some();
    let list = out_dir.join(LIST_CSV);
    write_atomic(&list, &list_csv(&files, &extra_columns, with_package)?)?;
    write_atomic(
        &out_dir.join(LIST_XLSX),
        &list_xlsx(&files, &extra_columns, with_package, year)?,
    )?;
    Ok(Emitted {
        files,
        blank,
        list,
        packages,
    })
}

/// The list's header and rows, the one content of both its CSV and its workbook:
/// `unit_code,unit_name,parent_code,level,file`, then `package` (where the file is, with
/// `--by-parent`, in the list at the top), then the roster's other columns.
fn list_rows(
    lines: &[Distributed],
    extra_columns: &[String],
    with_package: bool,
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = ["unit_code", "unit_name", "parent_code", "level", "file"]
        .map(String::from)
        .to_vec();
    if with_package {
        header.push("package".to_string());
    }
    header.extend(extra_columns.iter().cloned());
    let rows = lines
        .iter()
        .map(|l| {
            let mut row = vec![
                l.unit_code.clone(),
                l.unit_name.clone(),
                l.parent_code.clone(),
                l.level.clone(),
                l.file.clone(),
            ];
            if with_package {
                row.push(l.package.clone());
            }
            // Every unit has every extra column of the roster, in its order.
            row.extend(
                (0..extra_columns.len())
                    .map(|i| l.extra.get(i).map(|(_, v)| v.clone()).unwrap_or_default()),
            );
            row
        })
        .collect();
    (header, rows)
}

/// `分发清单.csv`: UTF-8 with a BOM (Excel opens it as is), text from the roster guarded
/// as in every CSV the tool writes.
fn list_csv(
    lines: &[Distributed],
    extra_columns: &[String],
    with_package: bool,
) -> Result<Vec<u8>, TemplateError> {
    let (header, rows) = list_rows(lines, extra_columns, with_package);
    let io = |source: csv::Error| TemplateError::Io {
        path: LIST_CSV.to_string(),
        source: source.into(),
    };
    let mut csv = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    for row in std::iter::once(header).chain(rows) {
        csv.write_record(
            row.iter()
                .map(|t| crate::output::neutralise(t).into_owned()),
        )
        .map_err(io)?;
    }
    csv.into_inner().map_err(|e| TemplateError::Io {
        path: LIST_CSV.to_string(),
        source: e.into_error(),
    })
}

/// `分发清单.xlsx`: the same rows as text cells (codes keep their digits), the header
/// bold and frozen, with a filter.
fn list_xlsx(
    lines: &[Distributed],
    extra_columns: &[String],
    with_package: bool,
    year: i32,
) -> Result<Vec<u8>, TemplateError> {
    let (header, rows) = list_rows(lines, extra_columns, with_package);
    let xlsx = |source: XlsxError| TemplateError::Xlsx {
        file: LIST_XLSX.to_string(),
        source,
    };
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&super::sheets::creation_stamp(year))
            .set_title("分发清单"),
    );
    let ws = wb.add_worksheet();
    ws.set_name("分发清单").map_err(xlsx)?;
    let bold = Style::new().set_bold();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(xlsx)?;
        ws.set_column_width(c as u16, if c == 4 { 40 } else { 16 })
            .map_err(xlsx)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            ws.write_string(
                r as u32 + 1,
                c as u16,
                super::fit_cell(text).as_deref().unwrap_or(text),
            )
            .map_err(xlsx)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xlsx)?;
    let last_col = header.len().saturating_sub(1) as u16;
    ws.autofilter(0, 0, rows.len() as u32, last_col)
        .map_err(xlsx)?;
    wb.save_to_buffer().map_err(xlsx)
}

/// How many workbooks are made at once before they are written (or added to a zip).
const SLICE: usize = 256;

/// Where one group's files go: a directory (the output directory or a parent's
/// folder), each file written atomically; or a parent's zip, written to a temporary file
/// beside its place and renamed into place when complete.
enum Sink {
    Folder(PathBuf),
    Zip {
        path: PathBuf,
        zip: Box<zip::ZipWriter<tempfile::NamedTempFile>>,
    },
}

impl Sink {
    fn folder(dir: PathBuf) -> Result<Sink, TemplateError> {
        std::fs::create_dir_all(&dir).map_err(|source| TemplateError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Sink::Folder(dir))
    }

    fn zip(path: &Path) -> Result<Sink, TemplateError> {
        let tmp = crate::output::temp_beside(path).map_err(|source| TemplateError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Sink::Zip {
            path: path.to_path_buf(),
            zip: Box::new(zip::ZipWriter::new(tmp)),
        })
    }

    /// Adds one file. A folder's workbooks are already written (empty `bytes`); its
    /// lists are written here.
    fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), TemplateError> {
        match self {
            Sink::Folder(_) if bytes.is_empty() => Ok(()),
            Sink::Folder(dir) => write_atomic(&dir.join(name), bytes),
            Sink::Zip { path, zip } => zip
                .start_file(name, zip_options())
                .map_err(std::io::Error::other)
                .and_then(|_| zip.write_all(bytes))
                .map_err(|source| TemplateError::Io {
                    path: path.display().to_string(),
                    source,
                }),
        }
    }

    /// Completes a zip and puts it in place (nothing to do for a folder).
    fn finish(self) -> Result<(), TemplateError> {
        let Sink::Zip { path, zip } = self else {
            return Ok(());
        };
        (*zip)
            .finish()
            .map_err(std::io::Error::other)
            .and_then(|tmp| crate::output::persist(tmp, &path))
            .map_err(|source| TemplateError::Io {
                path: path.display().to_string(),
                source,
            })
    }
}

/// How every part of a parent's zip is stored, at its top level (Windows' "extract
/// all" makes the folder from the zip's name). The zip crate flags a non-ASCII name as
/// UTF-8 (general-purpose bit 11), so that Windows' own unzip shows the Chinese names;
/// a fixed timestamp keeps the bytes the same on every run.
fn zip_options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::DEFAULT)
        .unix_permissions(0o644)
}
