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
//! (its title, its Word body, its HTML body, its 文字汇编 part) in files of a directory
//! in `OUT` ([`Pieces`]); a volume reads them back one unit at a time and writes straight
//! into its file. Kept rather than rendered again in `finish`: `nianbao report` reads the
//! units from values.csv in one streamed pass and has no way back to one unit, and a unit
//! is bound into the volume of each of its parents, so it would be rendered once per
//! level. The directory is removed when the volumes are written (and, left by a killed
//! run, when the next one starts). The whole roster (`ALL`) gets no volume: it would be
//! every report of the batch in one file.

use std::io::{BufRead, BufWriter, Read};
use std::path::{Path, PathBuf};

use super::{PublishError, Publisher};
use crate::consolidate::{Rollup, ALL_CODE};
use crate::render::{self, RollupData};
use crate::word::{Volume, Word};

/// The directory in `OUT` where the pieces wait (hidden; not a published directory).
const PIECES_DIR: &str = ".nianbao-pieces";

/// What is kept of each accepted unit for the volumes, one file per unit: a line with
/// the byte length of each piece, then the pieces one after the other (one file, not one
/// per piece: creating and removing files is most of what keeping them costs).
pub(super) struct Pieces {
    dir: PathBuf,
}

/// The kinds of piece, in the order they are kept.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Title,
    Docx,
    Html,
    Text,
}

/// One unit's pieces, as made by the per-unit pass.
pub(super) struct UnitPieces<'a> {
    pub title: &'a str,
    pub docx: &'a str,
    pub html: &'a str,
    pub text: &'a str,
}

impl Pieces {
    /// An empty directory for the pieces in `out` (what a killed run left is removed).
    pub(super) fn new(out: &Path) -> Result<Pieces, PublishError> {
        let dir = out.join(PIECES_DIR);
        let io = |source| PublishError::Dir {
            path: dir.display().to_string(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io)?;
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(Pieces { dir })
    }

    /// A unit's file: the unit code in hex (any code is a safe file name).
    fn path(&self, code: &str) -> PathBuf {
        let hex: String = code.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("u{hex}"))
    }

    pub(super) fn save(&self, code: &str, p: &UnitPieces) -> Result<(), PublishError> {
        let pieces = [p.title, p.docx, p.html, p.text];
        let lengths: Vec<String> = pieces.iter().map(|p| p.len().to_string()).collect();
        let mut bytes = lengths.join(" ").into_bytes();
        bytes.push(b'\n');
        bytes.reserve(pieces.iter().map(|p| p.len()).sum());
        pieces
            .iter()
            .for_each(|p| bytes.extend_from_slice(p.as_bytes()));
        let path = self.path(code);
        std::fs::write(&path, bytes).map_err(|source| PublishError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// A unit's piece, if it has one.
    fn read(&self, code: &str, kind: Kind) -> Result<Option<String>, PublishError> {
        Ok(self.read_with_lengths(code, kind)?.map(|(piece, _)| piece))
    }

    /// A unit's piece, if it has one, and the length in bytes of each of its pieces.
    fn read_with_lengths(
        &self,
        code: &str,
        kind: Kind,
    ) -> Result<Option<(String, Vec<u64>)>, PublishError> {
        let path = self.path(code);
        let io = |source| PublishError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => std::io::BufReader::new(file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io(source)),
        };
        let mut line = String::new();
        file.read_line(&mut line).map_err(io)?;
        let lengths: Vec<u64> = line
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        let at = lengths.iter().take(kind as usize).sum::<u64>();
        let len = lengths.get(kind as usize).copied().unwrap_or(0);
        file.seek_relative(at as i64).map_err(io)?;
        let mut piece = String::new();
        file.take(len).read_to_string(&mut piece).map_err(io)?;
        Ok(Some((piece, lengths)))
    }

    /// A scratch file among the pieces, removed when dropped: a parent's roll-up
    /// document kept for its volume.
    pub(super) fn scratch(&self) -> Result<BufWriter<std::fs::File>, PublishError> {
        tempfile::tempfile_in(&self.dir)
            .map(BufWriter::new)
            .map_err(|source| PublishError::Io {
                path: self.dir.display().to_string(),
                source,
            })
    }

    /// Removes the directory and every piece in it.
    pub(super) fn remove(&self) -> Result<(), PublishError> {
        std::fs::remove_dir_all(&self.dir).map_err(|source| PublishError::Dir {
            path: self.dir.display().to_string(),
            source,
        })
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
        std::fs::remove_dir_all(&dir).map_err(|source| PublishError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
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
        let mut kept = kept.into_inner().map_err(|e| PublishError::Io {
            path: pieces.dir.display().to_string(),
            source: e.into_error(),
        })?;
        // The units bound: the parent and its direct children, those of the roll-up with
        // their pieces (every accepted one). Each title is held once, as an entry of the
        // contents.
        let stem = render::file_stem(&r.code, &r.name);
        let rollup_title = format!("{}{}年政府信息公开工作年度报告汇总表", r.name, self.year);
        let mut contents = vec![rollup_title];
        let mut units: Vec<&str> = Vec::new();
        let (mut further_down, mut left_out) = (0, 0);
        let mut bound = Bound::new(kept_len(&kept).map_err(|source| PublishError::Io {
            path: pieces.dir.display().to_string(),
            source,
        })?);
        for (code, _) in data.included {
            if !self.bound_into(code, &r.code) {
                further_down += 1;
                continue;
            }
            if let Some((title, lengths)) = pieces.read_with_lengths(code, Kind::Title)? {
                if !bound.take(lengths.get(Kind::Docx as usize).copied().unwrap_or(0)) {
                    left_out += 1;
                    continue;
                }
                units.push(code);
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
                    n if n <= units.len() => pieces
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
            for (n, code) in units.iter().enumerate() {
                let body = pieces.read(code, Kind::Html)?.unwrap_or_default();
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
                let Some(code) = units.get(next) else {
                    return Ok(false);
                };
                next += 1;
                if let Some(text) = pieces.read(code, Kind::Text)? {
                    w.write_all(text.as_bytes())
                        .map_err(zip::result::ZipError::Io)?;
                }
                Ok(true)
            })?;
            Ok(())
        })
    }

    /// Whether the report of `code` is bound into the volumes of `parent`: the parent's
    /// own and its direct children's. A grandchild's is in its own parent's volume,
    /// which goes up with it: a county's volume holds its townships' and departments'
    /// reports, not every village's (at 10,000 villages that document would be 460 MB
    /// of text, beyond what Word opens; at 100,000, beyond 4 GB).
    fn bound_into(&self, code: &str, parent: &str) -> bool {
        code == parent
            || self.roster.is_some_and(|roster| {
                crate::model::UnitCode::new(code)
                    .and_then(|c| roster.get(&c))
                    .and_then(|u| u.parent.as_ref())
                    .is_some_and(|p| p.as_str() == parent)
            })
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
