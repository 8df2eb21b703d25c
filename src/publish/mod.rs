//! What a coordinator publishes and sends back after an ingest run, all under `OUT`:
//!
//! - `reports/<code>_<name>.html` / `.docx` (and `.md` with `--markdown`, `.pdf` with
//!   `--pdf`): each accepted unit's annual report;
//! - `rollups/<code>_<name>.html` / `.docx` (`.md`, `.pdf` likewise): the roll-up report
//!   of each parent and of the whole roster, and `rollups/汇总表.xlsx`, the roll-ups in
//!   the official layout;
//! - `rollups/<code>_<name>_年报汇编.docx` / `.html` and `_文字汇编.docx`: each parent's
//!   bound volumes (see `binder.rs`);
//! - `corrections/<code>_<name>.xlsx`: for each rejected unit, its workbook with its
//!   values, the problem cells marked and a list of what to fix;
//! - `index.html`: the overview of every unit, completeness per parent, charts;
//! - `汇总明细.xlsx`, `催报名单.xlsx` and `.csv`: every unit as one row with its values,
//!   and who is still to be chased (see `lists.rs`).
//!
//! [`Publisher::units`] renders every unit's files in parallel, reading each submission
//! back from the run's store (one per thread in memory at a time); [`Publisher::finish`]
//! writes what needs every unit. Every file is written atomically (renamed into place)
//! and recorded in the run ([`crate::output::Run`]), which removes what an earlier run
//! published and this one did not; rendering is deterministic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

mod binder;
mod compare;
mod lists;
mod pdf;
mod rerender;
pub use compare::LastYear;
pub use lists::{CHASE_CSV, CHASE_FILE, DETAILS_FILE};
pub use pdf::Soffice;
pub use rerender::rerender;

use crate::batch::{Attribution, FileOutcome, Status, Store, StoreError};
use crate::consolidate::{Rollup, ALL_CODE};
use crate::format::Format;
use crate::output::{Hashing, Run, OWNED_DIRS};
use crate::render::{
    self, OverviewData, OverviewParent, OverviewUnit, RollupData, Templates, UnitData,
};
use crate::roster::Roster;
use crate::template::{self, RollupSheet, UnitInfo};
use crate::validate::Submission;
use crate::word::{self, Signature, Word};

/// A failure to write a published file; names it.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error(transparent)]
    Word(#[from] word::WordError),
    #[error("无法创建目录 {path}：{source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("无法写入 {path}：{source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A CSV of the run read back (the lists are made from them).
    #[error(transparent)]
    Read(#[from] anyhow::Error),
    #[error("{0}")]
    Pdf(String),
}

impl From<zip::result::ZipError> for PublishError {
    fn from(e: zip::result::ZipError) -> Self {
        PublishError::Word(word::WordError::Package(e))
    }
}

/// The outputs besides the HTML and Word ones that a run may be asked for.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Markdown copies of the reports (`--markdown`).
    pub markdown: bool,
    /// PDF copies of the Word documents, made by this LibreOffice (`--pdf`).
    pub pdf: Option<Soffice>,
}

/// One unit's file and what was read from it, as published.
pub struct UnitRef<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub outcome: &'a FileOutcome,
    pub submission: &'a Submission,
}

/// The published outputs of one run, built up unit by unit.
pub struct Publisher<'a> {
    out: &'a Path,
    /// The run in `out`: every file written is recorded in it.
    run: &'a Run,
    format: &'a Format,
    year: i32,
    roster: Option<&'a Roster>,
    templates: &'a Templates,
    /// The Word templates and the parts every `.docx` shares, made once for the run.
    word: Word,
    /// Unit code → 新收申请 (the `new_requests` key figure), for the overview chart.
    new_requests: BTreeMap<String, f64>,
    extras: Extras,
    /// Each accepted unit's pieces for the volumes (with a roster: only then are there
    /// parents).
    pieces: Option<binder::Pieces>,
    /// The `.docx` files written, for `--pdf`.
    docx: std::sync::Mutex<Vec<String>>,
    /// Last year's values (`ingest --previous`): the reports compare their key figures.
    last_year: Option<LastYear<'a>>,
}

/// Where a unit's report and correction workbook go, relative to `OUT`.
pub fn report_link(code: &str, name: &str) -> String {
    format!("reports/{}.html", render::file_stem(code, name))
}

/// `corrections/<code>_<name>_<year>_修改意见.xlsx`: the name says what it is when it
/// travels alone by e-mail or chat.
pub fn correction_link(code: &str, name: &str, year: i32) -> String {
    format!(
        "corrections/{}_{year}_修改意见.xlsx",
        render::file_stem(code, name)
    )
}

pub fn rollup_link(code: &str, name: &str) -> String {
    format!("rollups/{}.html", render::file_stem(code, name))
}

impl<'a> Publisher<'a> {
    /// A publisher into `out`, where `run` has begun ([`Run::start`]).
    pub fn new(
        out: &'a Path,
        run: &'a Run,
        format: &'a Format,
        year: i32,
        roster: Option<&'a Roster>,
        templates: &'a Templates,
    ) -> Result<Publisher<'a>, PublishError> {
        // Temporary files a killed run left behind go first (a normal run leaves none).
        for path in std::iter::once(out.to_path_buf()).chain(OWNED_DIRS.map(|d| out.join(d))) {
            std::fs::create_dir_all(&path)
                .and_then(|_| crate::output::remove_stale_temps(&path))
                .map_err(|source| PublishError::Dir {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        binder::remove_stale(out)?;
        pdf::remove_stale(out)?;
        let pieces = roster
            .map(|r| binder::Pieces::new(out, r.len()))
            .transpose()?;
        Ok(Publisher {
            out,
            run,
            format,
            year,
            roster,
            templates,
            word: Word::new(templates)?,
            new_requests: BTreeMap::new(),
            extras: Extras::default(),
            pieces,
            docx: std::sync::Mutex::new(Vec::new()),
            last_year: None,
        })
    }

    /// Compares every report's key figures with `last_year`'s (`ingest --previous`).
    pub fn with_last_year(mut self, last_year: Option<LastYear<'a>>) -> Self {
        self.last_year = last_year;
        self
    }

    /// Asks for the outputs of `extras` too.
    pub fn with_extras(mut self, extras: Extras) -> Self {
        self.extras = extras;
        self
    }

    /// Notes a `.docx` written, for the PDF copies.
    fn note_docx(&self, relative: &str) {
        if self.extras.pdf.is_some() && relative.ends_with(".docx") {
            self.docx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(relative.to_string());
        }
    }

    /// Writes `relative` atomically and records it in the run.
    fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), PublishError> {
        let path: PathBuf = self.out.join(relative);
        self.intend(relative, &path)?;
        template::write_atomic(&path, bytes)?;
        let sha256 = crate::output::sha256_hex(bytes);
        self.run.wrote(relative, bytes.len() as u64, sha256);
        self.note_docx(relative);
        Ok(())
    }

    /// Notes in the run's journal that `relative` is about to be written.
    fn intend(&self, relative: &str, path: &Path) -> Result<(), PublishError> {
        self.run
            .intend(relative)
            .map_err(|source| PublishError::Io {
                path: path.display().to_string(),
                source,
            })
    }

    /// Writes `relative` atomically, piece by piece, through a buffer.
    fn write_with(
        &self,
        relative: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), PublishError>,
    ) -> Result<(), PublishError> {
        self.write_through(relative, |file| write(file))
    }

    /// The one way a published file is written piece by piece: to a temporary file
    /// beside it through a buffer `write` fills (a seekable one, for a zip), hashed by
    /// reading it back, renamed into place and recorded in the run record.
    fn write_through(
        &self,
        relative: &str,
        write: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> Result<(), PublishError>,
    ) -> Result<(), PublishError> {
        use std::io::{Read, Seek, Write as _};
        let path = self.out.join(relative);
        let io = |source| PublishError::Io {
            path: path.display().to_string(),
            source,
        };
        self.intend(relative, &path)?;
        let mut tmp = crate::output::temp_beside(&path).map_err(io)?;
        {
            let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
            write(&mut buffered)?;
            buffered.flush().map_err(io)?;
        }
        let file = tmp.as_file_mut();
        file.rewind().map_err(io)?;
        let mut hashing = Hashing::new(std::io::sink());
        std::io::copy(&mut Read::by_ref(file), &mut hashing).map_err(io)?;
        let (_, size, sha256) = hashing.finish();
        crate::output::persist(tmp, &path).map_err(io)?;
        self.run.wrote(relative, size, sha256);
        Ok(())
    }

    /// Every unit's report (accepted) or correction workbook (rejected), in parallel:
    /// the file that speaks for each unit, its submission read back from `store`.
    pub fn units(&mut self, outcomes: &[FileOutcome], store: &Store) -> Result<(), PublishError> {
        let published: Vec<Option<(String, f64)>> = outcomes
            .par_iter()
            .filter(|o| o.status.is_accepted() || o.status == Status::Rejected)
            .map(|o| {
                let Some(at) = o.stored else {
                    return Ok(None);
                };
                let sub = store.get(at)?;
                let code = if o.unit_code.is_empty() {
                    &o.workbook_code
                } else {
                    &o.unit_code
                };
                let name = self.name_of(code).unwrap_or(&o.unit_name).to_string();
                let unit = UnitRef {
                    code,
                    name: &name,
                    outcome: o,
                    submission: &sub,
                };
                Ok(self.unit(&unit)?.map(|v| (code.clone(), v)))
            })
            .collect::<Result<_, PublishError>>()?;
        self.new_requests.extend(published.into_iter().flatten());
        Ok(())
    }

    /// Where the unit `code` is in the roster, if there is one and it is on it.
    fn roster_position(&self, code: &str) -> Option<usize> {
        self.roster?.position(&crate::model::UnitCode::new(code)?)
    }

    /// A unit's name on the roster.
    fn name_of(&self, code: &str) -> Option<&'a str> {
        let roster = self.roster?;
        crate::model::UnitCode::new(code)
            .and_then(|c| roster.get(&c))
            .map(|u| u.name.as_str())
    }

    /// One unit's report (accepted) or correction workbook (rejected). Returns its
    /// 新收申请 (the `new_requests` key figure) when accepted, for the overview chart.
    pub fn unit(&self, unit: &UnitRef<'_>) -> Result<Option<f64>, PublishError> {
        let sub = unit.submission;
        if unit.outcome.status.is_accepted() {
            let data = UnitData {
                format: self.format,
                year: self.year,
                code: unit.code,
                name: unit.name,
                values: &sub.values,
                texts: &sub.texts,
            };
            let comparison = self
                .last_year
                .map(|l| l.unit(self.format, unit.code, &sub.values));
            let signature =
                Signature::from_cover(unit.name, sub.cover.get("date").map(String::as_str));
            let (html, markdown) = render::unit_pages(
                self.templates,
                &data,
                comparison.as_ref(),
                signature.as_ref(),
                self.extras.markdown,
            )?;
            let link = report_link(unit.code, unit.name);
            self.write(&link, html.as_bytes())?;
            if let Some(markdown) = markdown {
                self.write(&link.replace(".html", ".md"), markdown.as_bytes())?;
            }
            let document =
                self.word
                    .unit_document(&data, signature.as_ref(), comparison.as_ref())?;
            self.write(&link.replace(".html", ".docx"), &document.docx)?;
            // Only a unit of the roster is bound into a volume (its parent's).
            let on_roster = self.roster_position(unit.code);
            if let (Some(pieces), Some(position)) = (&self.pieces, on_roster) {
                let texts = |code: &str| sub.texts.get(code).cloned().unwrap_or_default();
                let text = Word::narrative(self.format, unit.name, &texts);
                let title = format!("{}{}年政府信息公开工作年度报告", unit.name, self.year);
                pieces.save(
                    position,
                    &binder::UnitPieces {
                        title: &title,
                        docx: &document.body,
                        html: binder::html_body(&html),
                        text: &text,
                    },
                )?;
            }
            // Only accepted figures are charted: a rejected file's are not yet right.
            let new_requests = self.format.key_figure("new_requests");
            return Ok(new_requests.and_then(|k| k.of(&sub.values)));
        }
        if unit.outcome.status == Status::Rejected {
            let info = self.unit_info(unit.code, unit.name);
            let file = unit
                .outcome
                .file
                .rsplit('/')
                .next()
                .unwrap_or(&unit.outcome.file);
            let bytes = template::correction_workbook(
                self.format,
                self.year,
                &info,
                &sub.returned(),
                file,
            )?;
            self.write(&correction_link(unit.code, unit.name, self.year), &bytes)?;
        }
        Ok(None)
    }

    /// Records a unit's 新收申请 for the overview (when units are published one by one).
    pub fn record(&mut self, code: &str, new_requests: Option<f64>) {
        if let Some(v) = new_requests {
            self.new_requests.insert(code.to_string(), v);
        }
    }

    fn unit_info(&self, code: &str, name: &str) -> UnitInfo {
        let on_roster = self.roster.and_then(|r| {
            crate::model::UnitCode::new(code)
                .and_then(|c| r.get(&c))
                .map(|u| (r, u))
        });
        match on_roster {
            Some((roster, unit)) => UnitInfo::from_roster(roster, unit),
            None => UnitInfo {
                code: code.to_string(),
                name: name.to_string(),
                ..Default::default()
            },
        }
    }

    /// Everything after the units' reports: 汇总表.xlsx; then, side by side, each
    /// parent's reports and volumes (in parallel) followed by the overview page, and the
    /// lists (汇总明细, 催报名单); then the PDFs when asked for. Each file is its own, so
    /// the order of the parallel steps never shows in the output.
    pub fn finish(self, rollups: &[Rollup], outcomes: &[FileOutcome]) -> Result<(), PublishError> {
        let names = self.names(outcomes);
        // First, while nothing else is held: the run's largest single allocation (every
        // parent's sheet, held by rust_xlsxwriter until the workbook is saved).
        self.rollup_workbook(rollups, &names)?;
        // Each parent's reports and volumes are its own files, read from its own
        // pieces: the parents are published in parallel (a township's volume binds
        // every village report of the township, the longest single step of a run), and
        // beside them the lists, which read only the CSVs (汇总明细 reads values.csv
        // back, the next longest step). The overview follows the parents on their side,
        // so that it runs while the lists end (at 100,000 files the lists outlast the
        // parents by some 6 s).
        let (published, listed) = rayon::join(
            || {
                rollups
                    .par_iter()
                    .try_for_each(|r| self.rollup(r, &names))?;
                if let Some(pieces) = &self.pieces {
                    pieces.remove()?;
                }
                self.overview(rollups, outcomes)
            },
            || self.lists(rollups, outcomes),
        );
        published?;
        listed?;
        if let Some(soffice) = &self.extras.pdf {
            let mut docx =
                std::mem::take(&mut *self.docx.lock().unwrap_or_else(|e| e.into_inner()));
            docx.sort();
            soffice.convert(self.out, self.run, &docx)?;
        }
        Ok(())
    }

    /// `index.html`, the overview of the run.
    fn overview(&self, rollups: &[Rollup], outcomes: &[FileOutcome]) -> Result<(), PublishError> {
        let empty = BTreeMap::new();
        let totals = rollups
            .iter()
            .find(|r| r.code == ALL_CODE)
            .map_or(&empty, |r| &r.values);
        let data = OverviewData {
            format: self.format,
            year: self.year,
            units: self.overview_units(outcomes),
            parents: self.overview_parents(rollups),
            totals,
        };
        let last_year = self.last_year.map(|l| l.overview(self.format));
        self.write_with("index.html", |out| {
            Ok(render::overview_compared(
                self.templates,
                data,
                last_year.as_ref(),
                out,
            )?)
        })
    }

    /// `rollups/汇总表.xlsx`: a sheet for each parent; `names`, each unit's name by its code.
    fn rollup_workbook(
        &self,
        rollups: &[Rollup],
        names: &BTreeMap<&str, &str>,
    ) -> Result<(), PublishError> {
        // With one top unit, the whole roster's roll-up is that unit's: one sheet, not
        // two identical ones.
        let roots: Vec<&Rollup> = rollups.iter().filter(|r| r.depth == 1).collect();
        let same_as_root = |all: &Rollup| match roots.as_slice() {
            [root] => {
                all.values == root.values
                    && (&all.included, &all.missing, &all.rejected)
                        == (&root.included, &root.missing, &root.rejected)
            }
            _ => false,
        };
        let on_sheets: Vec<&Rollup> = rollups
            .iter()
            .filter(|r| !(r.code == ALL_CODE && same_as_root(r)))
            .collect();
        let names_of = |codes| Self::listed_names(names, codes);
        let listed: Vec<(String, [Vec<&str>; 3])> = on_sheets
            .iter()
            .map(|r| {
                let lists = [&r.included, &r.missing, &r.rejected].map(|c| names_of(c));
                (r.tally.sentence(), lists)
            })
            .collect();
        let sheets: Vec<RollupSheet> = on_sheets
            .iter()
            .zip(&listed)
            .map(
                |(r, (summary, [included, missing, rejected]))| RollupSheet {
                    code: &r.code,
                    name: &r.name,
                    values: &r.values,
                    summary,
                    included,
                    missing,
                    rejected,
                },
            )
            .collect();
        let workbook = template::rollup_workbook(self.format, self.year, &sheets)?;
        self.write("rollups/汇总表.xlsx", &workbook)?;
        Ok(())
    }

    /// One parent's roll-up reports (HTML, Word) and its volumes; `names`: each unit's
    /// name by its code.
    fn rollup(&self, r: &Rollup, names: &BTreeMap<&str, &str>) -> Result<(), PublishError> {
        let named = |codes: &[std::sync::Arc<str>]| -> Vec<(String, String)> {
            codes
                .iter()
                .map(|c| {
                    let name = names.get(&**c).copied().unwrap_or_default();
                    (c.to_string(), name.to_string())
                })
                .collect()
        };
        let (included, missing, rejected, other) = (
            named(&r.included),
            named(&r.missing),
            named(&r.rejected),
            named(&r.other),
        );
        let data = RollupData {
            format: self.format,
            year: self.year,
            code: &r.code,
            name: &r.name,
            level: &r.level,
            values: &r.values,
            tally: r.tally,
            included: &included,
            missing: &missing,
            rejected: &rejected,
            other: &other,
        };
        let comparison = self
            .last_year
            .map(|l| l.rollup(self.format, &r.values, &included));
        let link = rollup_link(&r.code, &r.name);
        self.rollup_reports(&link, &data, comparison.as_ref())?;
        // The Word document is kept for the parent's volume (none for the whole
        // roster): it is rendered once.
        let mut kept = match &self.pieces {
            Some(pieces) if r.code != ALL_CODE => Some(pieces.scratch()?),
            _ => None,
        };
        self.write_file(&link.replace(".html", ".docx"), |file| {
            let keep = kept.as_mut().map(|k| k as &mut dyn std::io::Write);
            self.word
                .rollup_report_to(file, &data, comparison.as_ref(), keep)?;
            Ok(())
        })?;
        if let Some(kept) = kept {
            self.volumes(r, &data, &link, kept)?;
        }
        Ok(())
    }

    /// Each unit of `codes` by its name (its code when it has none), borrowed: a county's
    /// roll-up sheet lists every unit of the county.
    fn listed_names<'n>(
        names: &BTreeMap<&'n str, &'n str>,
        codes: &'n [std::sync::Arc<str>],
    ) -> Vec<&'n str> {
        codes
            .iter()
            .map(|c| match names.get(&**c) {
                Some(name) if !name.is_empty() => name,
                _ => &**c,
            })
            .collect()
    }

    /// A roll-up's HTML report at `link` (and its Markdown with `--markdown`), rendered
    /// straight into the files: the whole roster's lists every unit.
    fn rollup_reports(
        &self,
        link: &str,
        data: &RollupData,
        comparison: Option<&render::Comparison>,
    ) -> Result<(), PublishError> {
        self.write_with(link, |html| {
            if !self.extras.markdown {
                return Ok(render::rollup_report_to(
                    self.templates,
                    data,
                    comparison,
                    html,
                    None,
                )?);
            }
            self.write_with(&link.replace(".html", ".md"), |markdown| {
                Ok(render::rollup_report_to(
                    self.templates,
                    data,
                    comparison,
                    html,
                    Some(markdown),
                )?)
            })
        })
    }

    /// Code → name, from the roster and then from the workbooks.
    fn names<'o>(&self, outcomes: &'o [FileOutcome]) -> BTreeMap<&'o str, &'o str>
    where
        'a: 'o,
    {
        let mut names: BTreeMap<&str, &str> = outcomes
            .iter()
            .filter(|o| !o.unit_code.is_empty())
            .map(|o| (o.unit_code.as_str(), o.unit_name.as_str()))
            .collect();
        if let Some(roster) = self.roster {
            for u in roster.units() {
                names.insert(u.code.as_str(), u.name.as_str());
            }
        }
        names
    }
    /// Every roster unit (in roster order) with the file that speaks for it, then the
    /// files that name no roster unit (see [`Attribution`]).
    fn overview_units(&self, outcomes: &[FileOutcome]) -> Vec<OverviewUnit> {
        let who = Attribution::new(self.roster, outcomes);
        let row = |code: &str, name: &str, parent: &str, level: &str, o: Option<&FileOutcome>| {
            let status = o.map_or(Status::Missing, |o| o.status);
            let counts = o.and_then(|o| o.counts);
            OverviewUnit {
                code: code.to_string(),
                name: name.to_string(),
                parent_code: parent.to_string(),
                parent_name: self.name_of(parent).unwrap_or(parent).to_string(),
                level: level.to_string(),
                status,
                errors: counts.map_or(0, |c| c.errors),
                warnings: counts.map_or(0, |c| c.warnings),
                file: o.map(|o| o.file.clone()).unwrap_or_default(),
                reason: o.map(|o| o.reason.clone()).unwrap_or_default(),
                new_requests: self.new_requests.get(code).copied(),
                last_year_new_requests: None,
                report: o
                    .filter(|o| o.status.is_accepted())
                    .map(|_| report_link(code, name)),
                correction: o
                    .filter(|o| o.status == Status::Rejected)
                    .map(|_| correction_link(code, name, self.year)),
            }
        };
        // Exactly as many rows as units: the list is one of the largest of the run.
        let elsewhere = who.elsewhere();
        let mut units = Vec::with_capacity(who.walk().len() + elsewhere.len());
        for (u, _) in who.walk() {
            let parent = u.parent.as_ref().map_or("", |p| p.as_str());
            let file = who.file(u.code.as_str());
            units.push(row(u.code.as_str(), &u.name, parent, &u.level, file));
        }
        for o in elsewhere {
            units.push(row(o.unit(), &o.unit_name, "", "", Some(o)));
        }
        units
    }

    fn overview_parents(&self, rollups: &[Rollup]) -> Vec<OverviewParent> {
        rollups
            .iter()
            .map(|r| OverviewParent {
                code: r.code.clone(),
                name: r.name.clone(),
                level: r.level.clone(),
                tally: r.tally,
                rollup: Some(rollup_link(&r.code, &r.name)),
            })
            .collect()
    }
}
