//! The volumes of each parent with units under it, in `rollups/`:
//!
//! - `<code>_<name>_年报汇编.docx` and `.html`: the roll-up tables, then the report of the
//!   parent and of each accepted unit directly under it in roster order, each on a new
//!   page, with a table of contents (anchors in HTML); the units further down are in
//!   their own parents' volumes;
//! - `<code>_<name>_文字汇编.docx`: the 一 and 五 texts of the same units, under each
//!   unit's name.
//!
//! Memory stays bounded by keeping, during the per-unit pass, each accepted unit's pieces
//! (its title, its Word body, its HTML body, its 文字汇编 part) in one file of a
//! directory in `OUT` ([`Pieces`]); a volume reads them back one unit at a time and
//! writes straight into its file. Kept rather than rendered again in `finish`: `nianbao
//! report` reads the units from values.csv in one streamed pass and has no way back to
//! one unit, and a unit is bound into the volume of each of its parents, so it would be
//! rendered once per level. The directory is removed when the volumes are written (and,
//! left by a killed run, when the next one starts). The whole roster (`ALL`) gets no
//! volume: it would be every report of the batch in one file.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{PublishError, Publisher};
use crate::consolidate::{Rollup, ALL_CODE};
use crate::render::{self, RollupData};
use crate::word::{Volume, Word};

/// The directory in `OUT` where the pieces wait (hidden; not a published directory).
const PIECES_DIR: &str = ".nianbao-pieces";

/// The file in [`PIECES_DIR`] that every unit's pieces are appended to.
const PIECES_FILE: &str = "pieces";

/// What is kept of each accepted unit of the roster for the volumes, all in one file:
/// for each unit, the byte length of each piece (little-endian `u64`s), then the pieces
/// one after the other. One file for the run, not one per unit: a volume opened each
/// unit's file once per piece, and a file per unit is a thousand files created and
/// deleted per thousand units, which ext4 without a journal makes the next run pay for
/// (BENCHMARKS.md, "The disk rows were the file system's").
pub(super) struct Pieces {
    dir: PathBuf,
    path: PathBuf,
    /// The file being appended to and its length (`None` once the pieces are removed).
    /// Units are published in parallel: each appends its block under the lock.
    appender: Mutex<Option<(std::fs::File, u64)>>,
    /// Per position in the roster, where the unit's block starts in the file, plus one
    /// (0: the unit has no pieces). Eight bytes a unit; the blocks are in the order the
    /// units were published, which the thread count decides, so they are found here.
    /// Read only after the per-unit pass has ended (joined), hence relaxed ordering.
    starts: Vec<AtomicU64>,
}

/// The kinds of piece, in the order they are kept.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Title,
    Docx,
    Html,
    Text,
}

/// The number of pieces a unit has, and the bytes of the lengths before them.
const KINDS: usize = 4;
const HEADER: u64 = 8 * KINDS as u64;

/// One unit's pieces, as made by the per-unit pass.
pub(super) struct UnitPieces<'a> {
    pub title: &'a str,
    pub docx: &'a str,
    pub html: &'a str,
    pub text: &'a str,
}

impl Pieces {
    /// An empty directory for the pieces of a roster of `units` units in `out` (what a
    /// killed run left is removed).
    pub(super) fn new(out: &Path, units: usize) -> Result<Pieces, PublishError> {
        let dir = out.join(PIECES_DIR);
        let path = dir.join(PIECES_FILE);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|source| dir_error(&dir, source))?;
        }
        std::fs::create_dir_all(&dir).map_err(|source| dir_error(&dir, source))?;
        let file = std::fs::File::create(&path).map_err(|source| io_error(&path, source))?;
        Ok(Pieces {
            dir,
            path,
            appender: Mutex::new(Some((file, 0))),
            starts: (0..units).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Keeps the pieces of the unit at `position` in the roster.
    pub(super) fn save(&self, position: usize, p: &UnitPieces) -> Result<(), PublishError> {
        let pieces = [p.title, p.docx, p.html, p.text];
        let size: usize = pieces.iter().map(|p| p.len()).sum();
        let mut bytes = Vec::with_capacity(HEADER as usize + size);
        for piece in pieces {
            bytes.extend_from_slice(&(piece.len() as u64).to_le_bytes());
        }
        for piece in pieces {
            bytes.extend_from_slice(piece.as_bytes());
        }
        let start = {
            let mut appender = self.appender.lock().unwrap_or_else(|e| e.into_inner());
            let Some((file, len)) = appender.as_mut() else {
                return Ok(());
            };
            if let Err(source) = file.write_all(&bytes) {
                // Part of the block may be in the file: no later block may be placed
                // after it by a length that is no longer the file's.
                *appender = None;
                return Err(io_error(&self.path, source));
            }
            let start = *len;
            *len += bytes.len() as u64;
            start
        };
        if let Some(slot) = self.starts.get(position) {
            slot.store(start + 1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// A reader of the pieces, with its own handle on the file (volumes are bound in
    /// parallel, each seeking on its own).
    fn reader(&self) -> Result<PieceReader<'_>, PublishError> {
        let file =
            std::fs::File::open(&self.path).map_err(|source| io_error(&self.path, source))?;
        Ok(PieceReader { pieces: self, file })
    }

    /// A scratch file among the pieces, removed when dropped: a parent's roll-up
    /// document kept for its volume.
    pub(super) fn scratch(&self) -> Result<BufWriter<std::fs::File>, PublishError> {
        tempfile::tempfile_in(&self.dir)
            .map(BufWriter::new)
            .map_err(|source| io_error(&self.dir, source))
    }

    /// Removes the directory and every piece in it (the file closed first: Windows
    /// does not remove an open file).
    pub(super) fn remove(&self) -> Result<(), PublishError> {
        drop(
            self.appender
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        std::fs::remove_dir_all(&self.dir).map_err(|source| dir_error(&self.dir, source))
    }
}

/// One volume's way into the pieces file.
struct PieceReader<'p> {
    pieces: &'p Pieces,
    file: std::fs::File,
}

impl PieceReader<'_> {
    /// The lengths of the pieces of the unit at `position`, and where they start; `None`
    /// when it has none.
    fn lengths(&mut self, position: usize) -> Result<Option<([u64; KINDS], u64)>, PublishError> {
        let start = match self.pieces.starts.get(position) {
            Some(slot) => slot.load(Ordering::Relaxed),
            None => 0,
        };
        let Some(start) = start.checked_sub(1) else {
            return Ok(None);
        };
        let mut header = [0u8; HEADER as usize];
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| self.file.read_exact(&mut header))
            .map_err(|source| io_error(&self.pieces.path, source))?;
        let mut lengths = [0u64; KINDS];
        for (length, bytes) in lengths.iter_mut().zip(header.chunks_exact(8)) {
            *length = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
        }
        Ok(Some((lengths, start + HEADER)))
    }

    /// A piece of the unit at `position`, if it has pieces, and the length in bytes of
    /// each of them.
    fn read_with_lengths(
        &mut self,
        position: usize,
        kind: Kind,
    ) -> Result<Option<(String, [u64; KINDS])>, PublishError> {
        let Some((lengths, first)) = self.lengths(position)? else {
            return Ok(None);
        };
        let at = first + lengths[..kind as usize].iter().sum::<u64>();
        let mut piece = Vec::new();
        self.file
            .seek(SeekFrom::Start(at))
            .and_then(|_| {
                (&mut self.file)
                    .take(lengths[kind as usize])
                    .read_to_end(&mut piece)
            })
            .map_err(|source| io_error(&self.pieces.path, source))?;
        // Written from `&str` by this run: a broken piece would be a broken file, and
        // is shown as such rather than stopping the volume.
        let piece = String::from_utf8(piece)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(Some((piece, lengths)))
    }

    /// A piece of the unit at `position`, if it has pieces.
    fn read(&mut self, position: usize, kind: Kind) -> Result<Option<String>, PublishError> {
        Ok(self
            .read_with_lengths(position, kind)?
            .map(|(piece, _)| piece))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> PublishError {
    PublishError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn dir_error(path: &Path, source: std::io::Error) -> PublishError {
    PublishError::Dir {
        path: path.display().to_string(),
        source,
    }
}

/// The most Word body one volume binds, in bytes. A zip member without the large-file
/// (Zip64) fields holds under 4 GiB, and LibreOffice does not open a `.docx` whose
/// member has them (tried): a volume that would pass this binds the reports that fit,
/// in roster order, and its cover says how many are left out (each is in `reports/`).
/// Reached by a parent of some 60,000 units, or of a thousand with texts of a million
/// characters each.
const VOLUME_LIMIT: u64 = 3 << 30;

/// The running size of a volume's parts, against [`VOLUME_LIMIT`].
struct Bound {
    bytes: u64,
    limit: u64,
}

impl Bound {
    fn new(start: u64) -> Bound {
        Bound {
            bytes: start,
            limit: VOLUME_LIMIT,
        }
    }

    /// Adds a part of `len` bytes if it fits; whether it did.
    fn take(&mut self, len: u64) -> bool {
        let fits = self.bytes.saturating_add(len) <= self.limit;
        if fits {
            self.bytes += len;
        }
        fits
    }
}

/// The size of the kept roll-up document.
fn kept_len(kept: &std::fs::File) -> std::io::Result<u64> {
    kept.metadata().map(|m| m.len())
}

/// Removes the pieces a killed run left in `out`.
pub(super) fn remove_stale(out: &Path) -> Result<(), PublishError> {
    let dir = out.join(PIECES_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|source| dir_error(&dir, source))?;
    }
    Ok(())
}

/// What is between `<body…>` and `</body>` of an HTML page.
pub(super) fn html_body(page: &str) -> &str {
    let start = page
        .find("<body")
        .and_then(|i| page[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let end = page.rfind("</body>").unwrap_or(page.len());
    page[start..end.max(start)].trim()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page break before each part of a printed HTML volume and the contents' look.
const VOLUME_CSS: &str = "<style>\n.binder-part { break-before: page; page-break-before: always; }\n.binder-toc ol { line-height: 1.8; }\n.binder-title { text-align: center; margin-top: 3em; }\n</style>\n";

impl Publisher<'_> {
    /// The volumes of the parent `r` (none for the whole roster), `data` being its
    /// roll-up, `link` its HTML report (already written; read back for the HTML volume)
    /// and `kept` its Word report's `document.xml` (the first part).
    pub(super) fn volumes(
        &self,
        r: &Rollup,
        data: &RollupData,
        link: &str,
        kept: BufWriter<std::fs::File>,
    ) -> Result<(), PublishError> {
        let Some(pieces) = &self.pieces else {
            return Ok(());
        };
        if r.code == ALL_CODE {
            return Ok(());
        }
        let mut kept = kept
            .into_inner()
            .map_err(|e| io_error(&pieces.dir, e.into_error()))?;
        let mut reader = pieces.reader()?;
        // The units bound: the parent and its direct children, those of the roll-up with
        // their pieces (every accepted one). Each title is held once, as an entry of the
        // contents.
        let stem = render::file_stem(&r.code, &r.name);
        let rollup_title = format!("{}{}年政府信息公开工作年度报告汇总表", r.name, self.year);
        let mut contents = vec![rollup_title];
        let mut units: Vec<usize> = Vec::new();
        let (mut further_down, mut left_out) = (0, 0);
        let mut bound =
            Bound::new(kept_len(&kept).map_err(|source| io_error(&pieces.dir, source))?);
        for (code, _) in data.included {
            let Some(position) = self.bound_into(code, &r.code) else {
                further_down += 1;
                continue;
            };
            if let Some((title, lengths)) = reader.read_with_lengths(position, Kind::Title)? {
                if !bound.take(lengths[Kind::Docx as usize]) {
                    left_out += 1;
                    continue;
                }
                units.push(position);
                contents.push(title);
            }
        }

        // 年报汇编 (.docx)
        let title = format!("{}{}年政府信息公开工作年度报告汇编", r.name, self.year);
        let mut note = format!("收入汇总表和 {} 个单位的年度报告", units.len());
        if further_down > 0 {
            note.push_str(&format!(
                "；所属单位的下级另有 {further_down} 份报告，编入各所属单位的汇编"
            ));
        }
        if left_out > 0 {
            note.push_str(&format!(
                "；另有 {left_out} 份报告因汇编超过 {} GB 未编入，见 reports/ 中各单位的报告",
                VOLUME_LIMIT >> 30
            ));
        }
        let volume = Volume {
            title: &title,
            creator: &r.name,
            note: &note,
            contents: &contents,
        };
        let relative = format!("rollups/{stem}_年报汇编.docx");
        self.write_file(&relative, |file| {
            let mut next = 0;
            self.word.volume::<_, PublishError>(file, &volume, |w| {
                let body = match next {
                    0 => {
                        Word::rollup_part_to(&mut kept, 0, w).map_err(zip::result::ZipError::Io)?;
                        None
                    }
                    n if n <= units.len() => reader
                        .read(units[n - 1], Kind::Docx)?
                        .map(|body| Word::new_page(&body, n)),
                    _ => return Ok(false),
                };
                if let Some(part) = body {
                    w.write_all(part.as_bytes())
                        .map_err(zip::result::ZipError::Io)?;
                }
                next += 1;
                Ok(true)
            })?;
            Ok(())
        })?;

        let path = self.out.join(link);
        let html = std::fs::read_to_string(&path).map_err(|source| PublishError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let html = html.as_str();

        // 年报汇编 (.html)
        let relative_html = format!("rollups/{stem}_年报汇编.html");
        self.write_with(&relative_html, |out| {
            let io = |source| PublishError::Io {
                path: relative_html.clone(),
                source,
            };
            let head_end = html
                .find("<body")
                .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
                .unwrap_or(0);
            let head = &html[..head_end];
            let head = match (head.find("<title>"), head.find("</title>")) {
                (Some(a), Some(b)) if a < b => format!(
                    "{}<title>{}</title>{}",
                    &head[..a],
                    html_escape(&title),
                    &head[b + "</title>".len()..]
                ),
                _ => head.to_string(),
            };
            let head = head.replacen("</head>", &format!("{VOLUME_CSS}</head>"), 1);
            // Written as it goes (a plain file: how it is cut does not change its bytes).
            write!(
                out,
                "{head}\n<h1 class=\"binder-title\">{}</h1>\n<p class=\"meta\">{}</p>\n<nav class=\"binder-toc\">\n<h2>目录</h2>\n<ol>\n",
                html_escape(&title),
                html_escape(&note)
            )
            .map_err(io)?;
            for (n, entry) in contents.iter().enumerate() {
                writeln!(
                    out,
                    "<li><a href=\"#part-{}\">{}</a></li>",
                    n + 1,
                    html_escape(entry)
                )
                .map_err(io)?;
            }
            out.write_all(b"</ol>\n</nav>\n").map_err(io)?;
            write!(
                out,
                "<section class=\"binder-part\" id=\"part-1\">\n{}\n</section>\n",
                html_body(html)
            )
            .map_err(io)?;
            for (n, &position) in units.iter().enumerate() {
                let body = reader.read(position, Kind::Html)?.unwrap_or_default();
                let part = format!(
                    "<section class=\"binder-part\" id=\"part-{}\">\n{body}\n</section>\n",
                    n + 2
                );
                out.write_all(part.as_bytes()).map_err(io)?;
            }
            out.write_all(b"</body>\n</html>\n").map_err(io)?;
            Ok(())
        })?;

        // 文字汇编 (.docx)
        let headings: Vec<String> = self
            .format
            .sections
            .iter()
            .filter(|s| crate::word::NARRATIVE_SECTIONS.contains(&s.code.as_str()))
            .map(|s| s.title.clone())
            .collect();
        let title = format!("{}{}年政府信息公开工作年度报告文字汇编", r.name, self.year);
        let note = format!("{} 个单位的{}", units.len(), headings.join("和"));
        let volume = Volume {
            title: &title,
            creator: &r.name,
            note: &note,
            contents: &[],
        };
        let relative = format!("rollups/{stem}_文字汇编.docx");
        self.write_file(&relative, |file| {
            let mut next = 0;
            self.word.volume::<_, PublishError>(file, &volume, |w| {
                let Some(&position) = units.get(next) else {
                    return Ok(false);
                };
                next += 1;
                if let Some(text) = reader.read(position, Kind::Text)? {
                    w.write_all(text.as_bytes())
                        .map_err(zip::result::ZipError::Io)?;
                }
                Ok(true)
            })?;
            Ok(())
        })
    }

    /// Where the unit `code` is in the roster, if its report is bound into the volumes
    /// of `parent`: the parent's own and its direct children's. A grandchild's is in its
    /// own parent's volume, which goes up with it: a county's volume holds its
    /// townships' and departments' reports, not every village's (at 10,000 villages
    /// that document would be 460 MB of text, beyond what Word opens; at 100,000,
    /// beyond 4 GB).
    fn bound_into(&self, code: &str, parent: &str) -> Option<usize> {
        let position = self.roster_position(code)?;
        let unit = &self.roster?.units()[position];
        let bound = code == parent || unit.parent.as_ref().is_some_and(|p| p.as_str() == parent);
        bound.then_some(position)
    }

    /// Writes `relative` through a file `write` fills (for a zip, which seeks) and notes
    /// it when it is a Word document.
    pub(super) fn write_file(
        &self,
        relative: &str,
        write: impl FnOnce(&mut BufWriter<&mut std::fs::File>) -> Result<(), PublishError>,
    ) -> Result<(), PublishError> {
        self.write_through(relative, write)?;
        self.note_docx(relative);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_read_back_by_roster_position_whatever_order_they_were_kept_in() {
        let out = tempfile::tempdir().unwrap();
        let pieces = Pieces::new(out.path(), 3).unwrap();
        let unit = |n: &'static str| UnitPieces {
            title: "标题",
            docx: "<w:p/>",
            html: "<p>页</p>",
            text: n,
        };
        // Published out of roster order, as parallel threads do.
        pieces.save(2, &unit("第三个")).unwrap();
        pieces.save(0, &unit("")).unwrap();
        let mut reader = pieces.reader().unwrap();
        assert_eq!(
            reader.read(2, Kind::Text).unwrap().as_deref(),
            Some("第三个")
        );
        assert_eq!(reader.read(0, Kind::Text).unwrap().as_deref(), Some(""));
        let (title, lengths) = reader.read_with_lengths(0, Kind::Title).unwrap().unwrap();
        assert_eq!(title, "标题");
        assert_eq!(lengths, [6, 6, 10, 0]);
        assert_eq!(
            reader.read(2, Kind::Html).unwrap().as_deref(),
            Some("<p>页</p>")
        );
        assert_eq!(reader.read(1, Kind::Docx).unwrap(), None, "never kept");
        assert_eq!(
            reader.read(7, Kind::Docx).unwrap(),
            None,
            "not in the roster"
        );
        drop(reader);
        pieces.remove().unwrap();
        assert!(!out.path().join(PIECES_DIR).exists());
    }

    #[test]
    fn a_volume_binds_parts_while_they_fit_and_skips_the_rest() {
        let mut bound = Bound {
            bytes: 10,
            limit: 100,
        };
        assert!(bound.take(50));
        assert!(!bound.take(41), "10 + 50 + 41 passes 100");
        assert!(bound.take(40), "a smaller later part still fits");
        assert!(!bound.take(1));
        assert!(!bound.take(u64::MAX));
        assert_eq!(bound.bytes, 100);
    }
}
