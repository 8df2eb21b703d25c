//! A roster's templates stamped from a few prepared workbooks (`nianbao template`).
//!
//! Units' templates differ only in who they are for: the unit's code and name, its
//! parent's code and name (cover, table notes, hidden identity, document properties) and
//! its level. Building every sheet for every unit was nine tenths of `template`'s time
//! (perf: rust_xlsxwriter laying out cells and hashing styles). Instead, one **master**
//! workbook is built per [`Shape`] (the level, and which of the parent's fields are
//! empty: an empty value is a blank cell, not an empty string) with a placeholder in
//! place of each of the unit's values. A unit's workbook is the master's zip with every
//! member that holds no placeholder copied as it is, still deflated, and the few that do
//! (the shared strings and the document properties) written with the values put in.
//!
//! The values are put in as they are, so only values that the writer would also have
//! written as they are qualify ([`plain`]): no XML-special or control characters, no
//! blanks at either end, no `_x` (the writer's escape), not longer than a name is.
//! Anything else, a blank unit, and filled or correction workbooks are built whole as
//! before ([`super::sheets::build`]).

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::sync::{Arc, Mutex};

use zip::write::SimpleFileOptions;
use zip::ZipArchive;

use super::sheets::{self, Prepared};
use super::{Prefill, TemplateError, UnitInfo};

/// What a master workbook is made for: units with the same shape share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Shape {
    /// Written on the cover as its Chinese label and in the identity as it is.
    level: String,
    /// Whether the unit has a parent code and a parent name: an empty one is left
    /// blank, which a placeholder would not be.
    parent_code: bool,
    parent_name: bool,
}

/// The unit's values a master holds placeholders for, in slot order.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Code,
    Name,
    ParentCode,
    ParentName,
}

const SLOTS: [Slot; 4] = [Slot::Code, Slot::Name, Slot::ParentCode, Slot::ParentName];

/// Opens and closes a placeholder: private-use characters, which no writer escapes and
/// no format or roster of ours uses.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

impl Slot {
    /// The placeholder written in the master where the unit's value goes.
    fn token(self) -> String {
        format!("{OPEN}nianbao-slot-{}{CLOSE}", self as usize)
    }

    fn value(self, unit: &UnitInfo) -> &str {
        match self {
            Slot::Code => &unit.code,
            Slot::Name => &unit.name,
            Slot::ParentCode => &unit.parent_code,
            Slot::ParentName => &unit.parent_name,
        }
    }
}

/// A piece of a member's XML: text of the master, or where a unit's value goes.
#[derive(Debug)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// One member of a master's zip, in the master's order.
#[derive(Debug)]
enum Member {
    /// Holds no placeholder: copied as it is, without inflating it.
    Copy,
    /// Holds placeholders: written for each unit with its values put in.
    Stamp { name: String, pieces: Vec<Piece> },
}

/// A master workbook and what of it changes from unit to unit.
struct Master {
    archive: ZipArchive<Cursor<Arc<[u8]>>>,
    /// The master's size: about that of each unit's workbook.
    len: usize,
    members: Vec<Member>,
}

/// Beyond this many shapes (a roster with a level per unit) masters stop paying for
/// themselves: further shapes are built whole.
const MAX_MASTERS: usize = 64;

/// Makes the templates of one run: [`Stamper::workbook`] for each unit, from masters
/// made when first needed and kept for the run.
pub(super) struct Stamper<'p, 'f> {
    prepared: &'p Prepared<'f>,
    year: i32,
    /// `None`: this shape cannot be stamped (too many shapes, or its master was not
    /// as expected); its units are built whole.
    masters: Mutex<HashMap<Shape, Option<Arc<Master>>>>,
}

impl<'p, 'f> Stamper<'p, 'f> {
    pub(super) fn new(prepared: &'p Prepared<'f>, year: i32) -> Stamper<'p, 'f> {
        Stamper {
            prepared,
            year,
            masters: Mutex::new(HashMap::new()),
        }
    }

    /// `unit`'s template, the same workbook [`super::sheets::build`] makes with no
    /// prefill (its cells, styles and properties; the bytes of the zip differ).
    pub(super) fn workbook(&self, unit: &UnitInfo) -> Result<Vec<u8>, TemplateError> {
        let master = match stampable(unit) {
            true => self.master(unit)?,
            false => None,
        };
        let Some(master) = master else {
            return super::build(self.prepared, self.year, unit, &Prefill::default());
        };
        stamp(&master, unit).map_err(|source| TemplateError::Io {
            path: unit.name.clone(),
            source,
        })
    }

    /// The master for `unit`'s shape, made the first time it is asked for. Made under
    /// the lock: there are a handful, and each is the same whichever thread makes it.
    fn master(&self, unit: &UnitInfo) -> Result<Option<Arc<Master>>, TemplateError> {
        let shape = Shape {
            level: unit.level.clone(),
            parent_code: !unit.parent_code.is_empty(),
            parent_name: !unit.parent_name.is_empty(),
        };
        let mut masters = self.masters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(master) = masters.get(&shape) {
            return Ok(master.clone());
        }
        if masters.len() >= MAX_MASTERS {
            return Ok(None);
        }
        let master = self.make_master(&shape)?.map(Arc::new);
        masters.insert(shape, master.clone());
        Ok(master)
    }

    /// Builds the workbook of a unit of `shape` whose values are placeholders, and
    /// finds the members that hold them. `None` when it cannot be built or a placeholder
    /// is missing or broken (then the units of this shape are built whole, as before).
    fn make_master(&self, shape: &Shape) -> Result<Option<Master>, TemplateError> {
        let token = |slot: Slot, present: bool| if present { slot.token() } else { String::new() };
        let unit = UnitInfo {
            code: Slot::Code.token(),
            name: Slot::Name.token(),
            parent_code: token(Slot::ParentCode, shape.parent_code),
            parent_name: token(Slot::ParentName, shape.parent_name),
            level: shape.level.clone(),
        };
        // A master the writer refuses is no master: each unit's own build then says
        // what is wrong, naming the unit rather than a placeholder.
        let Ok(bytes) = super::build(self.prepared, self.year, &unit, &Prefill::default()) else {
            return Ok(None);
        };
        let bytes: Arc<[u8]> = bytes.into();
        let len = bytes.len();
        let io = |source: std::io::Error| TemplateError::Io {
            path: format!("{}（模板母版）", shape.level),
            source,
        };
        let mut archive =
            ZipArchive::new(Cursor::new(bytes)).map_err(|e| io(std::io::Error::other(e)))?;
        let mut members = Vec::with_capacity(archive.len());
        let mut found = [false; SLOTS.len()];
        for i in 0..archive.len() {
            let mut file = archive
                .by_index(i)
                .map_err(|e| io(std::io::Error::other(e)))?;
            let mut text = String::new();
            if file.read_to_string(&mut text).is_err() {
                // Not text (none of ours is binary): nothing to stamp in it.
                members.push(Member::Copy);
                continue;
            }
            let Some(pieces) = pieces(&text) else {
                return Ok(None);
            };
            if pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
                members.push(Member::Copy);
                continue;
            }
            for piece in &pieces {
                if let Piece::Slot(slot) = piece {
                    found[*slot as usize] = true;
                }
            }
            members.push(Member::Stamp {
                name: file
                    .name()
                    .map_err(|e| io(std::io::Error::other(e)))?
                    .to_string(),
                pieces,
            });
        }
        // Every value the unit has must have been placed somewhere (the identity
        // sheet holds them all); else the master is not what this module expects.
        let wanted = [true, true, shape.parent_code, shape.parent_name];
        if found != wanted {
            return Ok(None);
        }
        Ok(Some(Master {
            archive,
            len,
            members,
        }))
    }
}

/// Whether `unit`'s values can be put into a master as they are: each would be written
/// by the writer unchanged (see the module's doc), and the unit is not the blank one.
fn stampable(unit: &UnitInfo) -> bool {
    !unit.code.is_empty()
        && !unit.name.is_empty()
        && SLOTS.iter().all(|slot| plain(slot.value(unit)))
}

/// A value the writer puts into XML as it is, wherever it goes (a cell's text, an
/// attribute, a document property): no characters XML escapes, no control characters,
/// no placeholder characters, no `_x` (which the writer escapes), no blank at either
/// end (which makes it write `xml:space`), and short.
fn plain(value: &str) -> bool {
    value.chars().count() <= 256
        && !value.contains("_x")
        && !value.starts_with(char::is_whitespace)
        && !value.ends_with(char::is_whitespace)
        && !value
            .chars()
            .any(|c| c.is_control() || matches!(c, '<' | '>' | '&' | '"' | '\'' | OPEN | CLOSE))
}

/// `text` cut at its placeholders; `None` when a placeholder is not one of ours.
fn pieces(text: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push(Piece::Text(rest[..start].to_string()));
        let after = &rest[start..];
        let end = after.find(CLOSE)? + CLOSE.len_utf8();
        let slot = SLOTS.into_iter().find(|s| s.token() == after[..end])?;
        out.push(Piece::Slot(slot));
        rest = &after[end..];
    }
    out.push(Piece::Text(rest.to_string()));
    Some(out)
}

/// The options rust_xlsxwriter writes each member with (deflated at the level the
/// templates use, fixed time), so that stamped members look like the others.
fn member_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(i64::from(sheets::ZIP_LEVEL)))
        .unix_permissions(0o600)
        .last_modified_time(zip::DateTime::default())
}

/// `unit`'s workbook from `master`: members copied raw or stamped, in the master's order.
fn stamp(master: &Master, unit: &UnitInfo) -> std::io::Result<Vec<u8>> {
    let mut archive = master.archive.clone();
    let mut zip = zip::ZipWriter::new_stream(Vec::with_capacity(master.len + 4096));
    let mut text = String::new();
    for (i, member) in master.members.iter().enumerate() {
        match member {
            Member::Copy => {
                let file = archive.by_index_raw(i).map_err(std::io::Error::other)?;
                zip.raw_copy_file(file).map_err(std::io::Error::other)?;
            }
            Member::Stamp { name, pieces } => {
                text.clear();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => text.push_str(t),
                        Piece::Slot(slot) => text.push_str(slot.value(unit)),
                    }
                }
                zip.start_file(name.as_str(), member_options())
                    .map_err(std::io::Error::other)?;
                zip.write_all(text.as_bytes())?;
            }
        }
    }
    let writer = zip.finish().map_err(std::io::Error::other)?;
    Ok(writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Formats;
    use crate::identity::{Deadline, Handback};

    /// Every member of a workbook, inflated, in order.
    fn parts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..zip.len())
            .map(|i| {
                let mut file = zip.by_index(i).unwrap();
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                (file.name().unwrap().to_string(), data)
            })
            .collect()
    }

    fn unit(code: &str, name: &str, parent_code: &str, parent_name: &str, level: &str) -> UnitInfo {
        UnitInfo {
            code: code.into(),
            name: name.into(),
            parent_code: parent_code.into(),
            parent_name: parent_name.into(),
            level: level.into(),
        }
    }

    #[test]
    fn stamped_workbooks_hold_the_same_parts_as_built_ones() {
        let formats = Formats::builtin();
        let format = formats.for_year(2024).unwrap();
        let handbacks = [
            Handback::default(),
            Handback {
                deadline: Deadline::parse("2025-01-20"),
                contact: "县政务公开办 0453-0000000".into(),
            },
        ];
        let units = [
            unit("231083", "基准市人民政府", "", "", "county"),
            unit(
                "231083101",
                "山市镇人民政府",
                "231083",
                "基准市人民政府",
                "township",
            ),
            unit(
                "231083101001",
                "山市村",
                "231083101",
                "山市镇人民政府",
                "village",
            ),
            unit(
                "231083101002",
                "后山村",
                "231083101",
                "山市镇人民政府",
                "village",
            ),
            // A parent not on the roster: its code without a name.
            unit("231083101003", "前山村", "231083199", "", "village"),
            unit(
                "231083101004",
                "A&B 社区",
                "231083101",
                "山市镇人民政府",
                "community",
            ),
            unit(
                "231083101005",
                " 空格村",
                "231083101",
                "山市镇人民政府",
                "village",
            ),
            unit(
                "231083101006",
                "x_x0041_村",
                "231083101",
                "山市镇<人民政府>",
                "",
            ),
            // Nothing in a workbook is sized to the unit's name.
            unit(
                "231083101007",
                &"很长的村名".repeat(50),
                "231083101",
                "山",
                "village",
            ),
            UnitInfo::default(),
        ];
        for handback in &handbacks {
            let prepared = Prepared::new(format, handback).unwrap();
            let stamper = Stamper::new(&prepared, 2024);
            for unit in &units {
                let built =
                    super::super::build(&prepared, 2024, unit, &Prefill::default()).unwrap();
                let stamped = stamper.workbook(unit).unwrap();
                assert_eq!(parts(&stamped), parts(&built), "{}", unit.name);
                if !stampable(unit) {
                    assert_eq!(stamped, built, "{} is built whole", unit.name);
                }
                // The same bytes every time, whichever master served it.
                assert_eq!(
                    Stamper::new(&prepared, 2024).workbook(unit).unwrap(),
                    stamped
                );
            }
            let masters = stamper.masters.lock().unwrap();
            assert!(masters.values().all(Option::is_some), "every master usable");
            assert_eq!(masters.len(), 4, "one master per level and parent shape");
        }
    }

    #[test]
    fn only_values_written_unchanged_are_stamped() {
        for ok in [
            "231083101001",
            "第01镇第001村村民委员会",
            "山市镇（街道）",
            "a b",
        ] {
            assert!(plain(ok), "{ok}");
        }
        for bad in [
            " 前有空格",
            "后有空格　",
            "A&B",
            "<r>x</r>",
            "x_x0041_",
            "换\n行",
            "\u{E000}",
            &"长".repeat(300),
        ] {
            assert!(!plain(bad), "{bad}");
        }
    }

    #[test]
    fn placeholders_are_found_and_foreign_ones_refused() {
        let text = format!("a{}b{}c", Slot::Name.token(), Slot::Code.token());
        let p = pieces(&text).unwrap();
        assert!(matches!(
            p.as_slice(),
            [
                Piece::Text(_),
                Piece::Slot(Slot::Name),
                Piece::Text(_),
                Piece::Slot(Slot::Code),
                Piece::Text(_)
            ]
        ));
        assert!(pieces("x\u{E000}y\u{E001}z").is_none());
        assert!(pieces("x\u{E000}y").is_none());
    }
}
