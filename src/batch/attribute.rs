//! Whose is each file, and which file speaks for each unit: the one attribution every
//! output uses.

use std::collections::{BTreeMap, HashMap};

use super::package::PackageRoster;
use super::{FileOutcome, Status};
use crate::model::{clip, rule_ids, Finding, Level, UnitCode, IDENTITY_CONFLICT};
use crate::roster::{normalize_name, Roster, Unit};
use crate::validate::Submission;

/// Matches a submission to a roster unit: by code, else by name (reported as a warning).
/// Without a roster every identified unit stands for itself. With one, a file whose name
/// names another roster unit (not the workbook's own, nor one above it) says it is that
/// unit's: an identity conflict (ID-3) like any other, and the reason the file gives
/// names its identity conflict first.
pub(super) fn attribute(
    sub: &mut Submission,
    roster: Option<&Roster>,
    file: &str,
) -> Result<String, String> {
    let matched = match_unit(sub, roster);
    if let (Ok(code), Some(roster)) = (&matched, roster) {
        if let Some(f) = file_name_conflict(file, roster, code) {
            sub.findings.push(f);
        }
    }
    // The reason a rejected file gives is its first error: an identity conflict first.
    sub.findings
        .sort_by_key(|f| !(f.level == Level::Error && f.rule == rule_ids::IDENTITY));
    matched
}

/// The ID-3 error of a file whose name names another roster unit than `code`'s (the
/// longest such name; a unit above `code` is not another: a township forwards its
/// villages' files under its own name). The file's name is only a weak hint: a name that
/// names no roster unit, or also `code`'s own, says nothing.
fn file_name_conflict(display: &str, roster: &Roster, code: &str) -> Option<Finding> {
    let unit = roster.get(&UnitCode::new(code)?)?;
    let base = display.rsplit(['/', '\\']).next().unwrap_or(display);
    let name = normalize_name(base);
    if name.contains(&normalize_name(&unit.name)) {
        return None;
    }
    let above: Vec<&UnitCode> = roster
        .ancestors(&unit.code)
        .iter()
        .map(|u| &u.code)
        .collect();
    let named: Vec<(&Unit, String)> = roster
        .units()
        .iter()
        .filter(|u| u.code != unit.code && !above.contains(&&u.code))
        .map(|u| (u, normalize_name(&u.name)))
        // A short name (two villages called 新村) says too little to count.
        .filter(|(_, n)| n.chars().count() >= 4 && name.contains(n.as_str()))
        .collect();
    let (other, _) = named.iter().max_by_key(|(_, n)| n.chars().count())?;
    let mut f = Finding {
        found: format!(
            "{}（{}）、{}（{}）",
            other.name, other.code, unit.name, unit.code
        ),
        expected: "各处为同一单位".into(),
        ..Finding::file_level(
            Level::Error,
            rule_ids::IDENTITY,
            format!(
                "{IDENTITY_CONFLICT}：文件名“{}”是名册中 {}（{}）的名称；工作簿中为 {}（{}）",
                clip(base),
                other.name,
                other.code,
                unit.name,
                unit.code
            ),
            "请确认这是哪个单位的报告：用下发给该单位的模板填写，文件名不要用其他单位的名称",
        )
    };
    f.file = display.to_string();
    Some(f)
}

/// The unit of a file a lower level's package carries, matched to this roster: `code` is
/// the unit the lower level attributed it to. It must be a unit of the package's roster
/// and of this one, under the same parent in both; the package's top unit (the
/// township) may sit wherever this roster puts it. Without a roster, every unit of the
/// package stands for itself.
pub(super) fn attribute_carried(
    sub: &mut Submission,
    roster: Option<&Roster>,
    package: &PackageRoster,
    code: &str,
) -> Result<String, String> {
    let Some(parent) = package.parent(code) else {
        return Err(format!(
            "单位“{}”（代码 {}）不在上报包的名册中",
            clip(&sub.unit_name),
            clip(code)
        ));
    };
    let Some(roster) = roster else {
        return Ok(code.to_string());
    };
    let Some(unit) = UnitCode::new(code).and_then(|c| roster.get(&c)) else {
        return Err(format!(
            "单位“{}”（代码 {}）不在名册中",
            clip(&sub.unit_name),
            clip(code)
        ));
    };
    let here = unit.parent.as_ref().map_or("", |p| p.as_str());
    if code != package.top && here != parent {
        let name = |c: &str| {
            UnitCode::new(c)
                .and_then(|c| roster.get(&c))
                .map_or_else(|| package.name(c).to_string(), |u| u.name.clone())
        };
        return Err(format!(
            "上报包中 {}（{code}）的上级是 {}（{parent}），名册中是 {}（{here}）",
            unit.name,
            name(parent),
            name(here)
        ));
    }
    if sub.unit_name.is_empty() {
        sub.unit_name = unit.name.clone();
    }
    Ok(unit.code.to_string())
}

/// [`attribute`]'s match of the workbook's unit to the roster.
fn match_unit(sub: &mut Submission, roster: Option<&Roster>) -> Result<String, String> {
    let Some(roster) = roster else {
        return if sub.unit_code.is_empty() {
            Err("工作簿中没有单位代码".into())
        } else {
            Ok(sub.unit_code.clone())
        };
    };
    if let Some(unit) = UnitCode::new(&sub.unit_code).and_then(|c| roster.get(&c)) {
        if sub.unit_name.is_empty() {
            sub.unit_name = unit.name.clone();
        }
        return Ok(unit.code.to_string());
    }
    match roster.find_by_name(&sub.unit_name).as_slice() {
        [unit] => {
            let mut note = crate::model::Finding::file_level(
                crate::model::Level::Warning,
                rule_ids::UNIT,
                format!(
                    "单位代码“{}”不在名册中，已按单位名称匹配到 {}（{}）",
                    clip(&sub.unit_code),
                    unit.name,
                    unit.code
                ),
                "请核对封面的单位代码",
            );
            note.file = sub
                .findings
                .first()
                .map(|f| f.file.clone())
                .unwrap_or_default();
            sub.findings.push(note);
            sub.unit_code = unit.code.to_string();
            Ok(unit.code.to_string())
        }
        [] => Err(format!(
            "单位“{}”（代码 {}）不在名册中",
            clip(&sub.unit_name),
            clip(&sub.unit_code)
        )),
        several => Err(format!(
            "单位名称“{}”在名册中有 {} 个，且代码 {} 不在名册中",
            clip(&sub.unit_name),
            several.len(),
            clip(&sub.unit_code)
        )),
    }
}

/// Whether a file's identities disagree (ID-3), as the batch recorded it.
fn identity_conflict(outcome: &FileOutcome) -> bool {
    outcome.identity_conflict
}

/// Two or more files for one unit are never both counted: the newest file is the
/// unit's, the others become `duplicate` pointing at it. Newest by the file's
/// modification time; for a file a package carries, that of the original file where
/// it was read (the package records it), so a unit's return and its copy in a
/// township's package compare by the unit's own save. On a tie the file read here (a
/// workbook) wins over one in a package, then the later path. A file whose identities
/// disagree (ID-3) comes after every file of the unit that has none, however new it
/// is: it never displaces the unit's own consistent file.
pub(super) fn pick_one_per_unit(outcomes: &mut [FileOutcome]) {
    let mut by_unit: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, o) in outcomes.iter().enumerate() {
        if o.status.is_judged() {
            by_unit.entry(o.unit_code.clone()).or_default().push(i);
        }
    }
    for indices in by_unit.values().filter(|v| v.len() > 1) {
        let Some(&chosen) = indices.iter().max_by_key(|&&i| {
            let o = &outcomes[i];
            (
                !identity_conflict(o),
                o.modified,
                o.package.is_none(),
                o.file.clone(),
            )
        }) else {
            continue;
        };
        let chosen_file = outcomes[chosen].file.clone();
        let consistent = !identity_conflict(&outcomes[chosen]);
        for &i in indices.iter().filter(|&&i| i != chosen) {
            let o = &mut outcomes[i];
            o.reason = if consistent && identity_conflict(o) {
                format!(
                    "同一单位有多个文件，采用单位标识一致的 {chosen_file}；本文件原状态：{}（{IDENTITY_CONFLICT}）",
                    o.status.code()
                )
            } else {
                format!(
                    "同一单位有多个文件，采用较新的 {chosen_file}；本文件原状态：{}",
                    o.status.code()
                )
            };
            o.status = Status::Duplicate;
            o.chosen = Some(chosen_file.clone());
        }
    }
}

/// The unit an outcome is for: the roster unit it was matched to, or else what the
/// workbook says.
fn code_of(outcome: &FileOutcome) -> &str {
    if !outcome.unit_code.is_empty() {
        return &outcome.unit_code;
    }
    &outcome.workbook_code
}

impl FileOutcome {
    /// The unit this file is for: the roster unit it was matched to, else the code the
    /// workbook gives (empty when neither).
    pub fn unit(&self) -> &str {
        code_of(self)
    }
}

/// Which file speaks for a unit when several are attributed to it: an accepted one,
/// else a rejected one (at most one of these per unit, see [`pick_one_per_unit`]), else
/// one for the wrong year, else any; the first in file order on a tie. Duplicates never
/// do, nor does a file that names a roster unit but may not speak for it (a unit a
/// package carries under another parent than this roster's: `unknown_unit`, its unit
/// stays missing).
fn file_rank(status: Status) -> Option<u8> {
    match status {
        Status::Accepted | Status::AcceptedWithWarnings => Some(0),
        Status::Rejected => Some(1),
        Status::WrongYear => Some(2),
        Status::Duplicate | Status::Missing | Status::Package | Status::UnknownUnit => None,
        Status::Unidentified | Status::Unreadable | Status::Unsupported | Status::Skipped => {
            Some(3)
        }
    }
}

fn roster_unit<'a>(roster: Option<&'a Roster>, code: &str) -> Option<&'a Unit> {
    roster?.get(&UnitCode::new(code)?)
}

/// Who sent what, decided once for every output (units.csv, roll-ups, reports, the
/// overview, the terminal summary): each roster unit, in the roster's depth-first order,
/// with the one file that speaks for it or none (`missing`); and the files that name no
/// roster unit, each standing for itself.
///
/// **The rule.** The file that speaks for a roster unit is, among the files attributed
/// to it: the accepted one, else the rejected one (of these there is at most one per
/// unit: of several, the newest by modification time was kept and the others became
/// `duplicate`), else the first file for another report year, else none. A duplicate
/// never speaks for a unit.
///
/// **Packages.** A file a lower level's package carries (`…_上报包.zip/…`) is one of the
/// unit's files like any other, judged here from what the lower level read. When a
/// unit arrives both in a package and as its own workbook, or in two packages, the one
/// rule above decides: the newest by the unit's own save (the original file's
/// modification time, which the package records), a tie going to the workbook read
/// here, then to the later path; the other is `duplicate` pointing to the chosen one
/// and never counted.
#[derive(Debug)]
pub struct Attribution<'a> {
    roster: Option<&'a Roster>,
    /// Roster units in depth-first order with their depth (a root is 0).
    order: Vec<(&'a Unit, usize)>,
    outcomes: &'a [FileOutcome],
    /// Roster code → the outcome that speaks for it.
    file: HashMap<&'a str, &'a FileOutcome>,
}

impl<'a> Attribution<'a> {
    pub fn new(roster: Option<&'a Roster>, outcomes: &'a [FileOutcome]) -> Attribution<'a> {
        let order = roster.map(Roster::walk).unwrap_or_default();
        let mut file: HashMap<&str, &FileOutcome> = HashMap::new();
        for outcome in outcomes {
            let Some(rank) = file_rank(outcome.status) else {
                continue;
            };
            let Some(unit) = roster_unit(roster, &outcome.unit_code) else {
                continue;
            };
            let code = unit.code.as_str();
            let better = file
                .get(code)
                .is_none_or(|current| file_rank(current.status).is_none_or(|r| rank < r));
            if better {
                file.insert(code, outcome);
            }
        }
        Attribution {
            roster,
            order,
            outcomes,
            file,
        }
    }

    pub fn roster(&self) -> Option<&'a Roster> {
        self.roster
    }

    /// Roster units in depth-first order, each with its depth (a root is 0).
    pub fn walk(&self) -> &[(&'a Unit, usize)] {
        &self.order
    }

    /// The file that speaks for a roster unit, if any.
    pub fn file(&self, code: &str) -> Option<&'a FileOutcome> {
        self.file.get(code).copied()
    }

    /// A roster unit's status: its file's, or [`Status::Missing`].
    pub fn status(&self, code: &str) -> Status {
        self.file(code).map_or(Status::Missing, |o| o.status)
    }

    /// The roster unit of a code.
    pub fn unit(&self, code: &str) -> Option<&'a Unit> {
        roster_unit(self.roster, code)
    }

    /// Outcomes that identify a unit not on the roster (every identified file when there
    /// is no roster), by unit then file: each stands for itself in every output.
    pub fn elsewhere(&self) -> Vec<&'a FileOutcome> {
        let mut out: Vec<&FileOutcome> = self
            .outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o.status,
                    Status::Unidentified
                        | Status::UnknownUnit
                        | Status::Accepted
                        | Status::AcceptedWithWarnings
                        | Status::Rejected
                        | Status::WrongYear
                ) && self.unit(&o.unit_code).is_none()
            })
            .collect();
        out.sort_by(|a, b| (a.unit(), &a.file).cmp(&(b.unit(), &b.file)));
        out
    }
}
