//! The two lists for the coordinator, made from the run's CSVs so that `ingest` and
//! `report` make the same bytes:
//!
//! - `汇总明细.xlsx` ([`template::DetailsWorkbook`]): every unit of units.csv in its
//!   order with its status, and the values values.csv has for it (accepted units only),
//!   one column per value;
//! - `催报名单.xlsx` and `催报名单.csv` ([`template::ChaseList`]): every roster unit that
//!   has not reported, was sent back or sent another year's report, under its parent,
//!   with the roster's contact columns, its first errors (from diagnostics.csv) and its
//!   correction workbook.
//!
//! Who is listed, and with which status, is the run's one [`Attribution`]; values.csv is
//! streamed alongside it (both are in roster order), one unit at a time.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Result};

use super::{correction_link, PublishError, Publisher};
use crate::batch::{Attribution, FileOutcome, Status};
use crate::consolidate::read::{Csv, LongValues, Placed};
use crate::consolidate::{neutralise, Rollup, ALL_CODE};
use crate::roster::{level_label, Roster, Unit};
use crate::template::{self, ChaseGroup, ChaseList, ChaseUnit, DetailRow, DetailsWorkbook};

/// The files written here, at the top of the output directory.
pub const DETAILS_FILE: &str = "汇总明细.xlsx";
pub const CHASE_FILE: &str = "催报名单.xlsx";
pub const CHASE_CSV: &str = "催报名单.csv";

/// How many of a rejected unit's errors the chase list quotes.
const ERRORS_QUOTED: usize = 3;

/// Whether a roster unit is to be chased: nothing sent, sent back, or only another
/// year's report sent.
fn to_chase(status: Status) -> bool {
    matches!(
        status,
        Status::Missing | Status::Rejected | Status::WrongYear
    )
}

impl Publisher<'_> {
    /// `汇总明细.xlsx`, `催报名单.xlsx` and `催报名单.csv`, from the CSVs in the output
    /// directory (values.csv, diagnostics.csv, and units.csv's BOM) and `outcomes`.
    pub(super) fn lists(
        &self,
        rollups: &[Rollup],
        outcomes: &[FileOutcome],
    ) -> Result<(), PublishError> {
        let who = Attribution::new(self.roster, outcomes);
        let summary = rollups
            .iter()
            .find(|r| r.code == ALL_CODE)
            .map(|r| r.tally.sentence())
            .unwrap_or_default();
        self.write_file(DETAILS_FILE, |file| self.details(&who, &summary, file))?;
        let chase = self.chase_list(&who, rollups, summary)?;
        self.write(CHASE_FILE, &template::chase_workbook(&chase)?)?;
        let bom = starts_with_bom(&self.out.join("units.csv"));
        self.write(CHASE_CSV, &chase_csv(&chase, bom)?)?;
        Ok(())
    }

    fn details(
        &self,
        who: &Attribution<'_>,
        summary: &str,
        out: &mut std::io::BufWriter<&mut std::fs::File>,
    ) -> Result<(), PublishError> {
        let notes = vec![
            format!(
                "{}年度政府信息公开工作年度报告汇总明细：{}（{}）。",
                self.year, self.format.name, self.format.document
            ),
            summary.to_string(),
            "每行一个单位：先是名册中的全部单位（按名册的层级顺序），再是不能对应到名册单位的文件，与 units.csv 相同。"
                .to_string(),
            "只有受理的单位填有数值，与 values.csv 和各级汇总一致；退回、未报送、年度不符等单位的行为灰色，数值留空，不计入任何合计。"
                .to_string(),
            "表头三行依次为表、行、列的官方标签，筛选按钮在第三行；单位代码是文本。做数据透视表时，以名称“明细数据”（第三行表头及其下的数据）为数据源。"
                .to_string(),
            "同样的数据每个单元格一行（含单元格代码，便于程序处理）见 values.csv。".to_string(),
        ];
        let mut book = DetailsWorkbook::new(self.format, self.year, notes, self.out)?;
        let mut values = InOrder::open(self.out, self.year, Placed::new(book.keys()))?;
        let none = Vec::new();
        for (unit, _) in who.walk() {
            let code = unit.code.as_str();
            let file = who.file(code);
            let status = who.status(code);
            let parent = unit
                .parent
                .as_ref()
                .and_then(|p| who.unit(p.as_str()))
                .map_or("", |p| p.name.as_str());
            let taken = if status.is_accepted() {
                values.take(code)?
            } else {
                none.clone()
            };
            book.row(&DetailRow {
                code,
                name: &unit.name,
                parent,
                level: &level_label(&unit.level),
                status: status.label(),
                counted: status.is_accepted(),
                errors: file.and_then(|o| o.counts).map(|c| c.errors),
                warnings: file.and_then(|o| o.counts).map(|c| c.warnings),
                values: &taken,
            })?;
        }
        for o in who.elsewhere() {
            let taken = if o.status.is_accepted() {
                values.take(o.unit())?
            } else {
                none.clone()
            };
            book.row(&DetailRow {
                code: o.unit(),
                name: &o.unit_name,
                parent: "",
                level: "",
                status: o.status.label(),
                counted: o.status.is_accepted(),
                errors: o.counts.map(|c| c.errors),
                warnings: o.counts.map(|c| c.warnings),
                values: &taken,
            })?;
        }
        values.finish()?;
        Ok(book.finish_to(out)?)
    }

    fn chase_list(
        &self,
        who: &Attribution<'_>,
        rollups: &[Rollup],
        summary: String,
    ) -> Result<ChaseList, PublishError> {
        // Each unit to chase, with the file that speaks for it, in roster order (or by
        // unit without a roster: each unit by its judged file, else another year's).
        let mut listed: Vec<(Option<&Unit>, &str, &str, Option<&FileOutcome>)> = Vec::new();
        match self.roster {
            Some(_) => {
                for (unit, _) in who.walk() {
                    let code = unit.code.as_str();
                    if to_chase(who.status(code)) {
                        listed.push((Some(*unit), code, &unit.name, who.file(code)));
                    }
                }
            }
            None => {
                let mut by_unit: BTreeMap<&str, &FileOutcome> = BTreeMap::new();
                for o in who.elsewhere() {
                    if o.status.is_judged() || o.status == Status::WrongYear {
                        let seen = by_unit.entry(o.unit()).or_insert(o);
                        if o.status.is_judged() && !seen.status.is_judged() {
                            *seen = o;
                        }
                    }
                }
                for (code, o) in by_unit {
                    if to_chase(o.status) {
                        listed.push((None, code, &o.unit_name, Some(o)));
                    }
                }
            }
        }
        let rejected: HashMap<&str, &str> = listed
            .iter()
            .filter_map(|(_, code, _, o)| o.map(|o| (*code, o)))
            .filter(|(_, o)| o.status == Status::Rejected)
            .map(|(code, o)| (code, o.file.as_str()))
            .collect();
        let mut errors = first_errors(self.out, &rejected)?;
        let contact_columns = self.roster.map(Roster::extra_columns).unwrap_or_default();
        // Parents in roster order; the roster's top-level units first.
        let position: HashMap<&str, usize> = who
            .walk()
            .iter()
            .enumerate()
            .map(|(i, (u, _))| (u.code.as_str(), i))
            .collect();
        let mut groups: BTreeMap<Option<usize>, ChaseGroup> = BTreeMap::new();
        for (unit, code, name, file) in listed {
            let parent = unit
                .and_then(|u| u.parent.as_ref())
                .and_then(|p| who.unit(p.as_str()));
            let group = groups
                .entry(parent.and_then(|p| position.get(p.code.as_str()).copied()))
                .or_insert_with(|| ChaseGroup {
                    parent_code: parent.map(|p| p.code.to_string()).unwrap_or_default(),
                    parent_name: match (parent, self.roster) {
                        (Some(p), _) => p.name.clone(),
                        (None, Some(_)) => "无上级单位".to_string(),
                        (None, None) => "未使用名册".to_string(),
                    },
                    units: Vec::new(),
                });
            let status = file.map_or(Status::Missing, |o| o.status);
            // Every unit has every extra column of the roster, in its order.
            let contacts = (0..contact_columns.len())
                .map(|i| {
                    unit.and_then(|u| u.extra.get(i))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect();
            let (errors_count, problems, correction) = match file {
                Some(o) if o.status == Status::Rejected => {
                    let quoted = errors.remove(code).unwrap_or_default();
                    let problems = if quoted.is_empty() {
                        vec![o.reason.clone()]
                    } else {
                        quoted
                    };
                    let count = o.counts.map(|c| c.errors).filter(|n| *n > 0);
                    (count, problems, correction_link(code, name, self.year))
                }
                Some(o) if !o.reason.is_empty() => (None, vec![o.reason.clone()], String::new()),
                _ => (None, Vec::new(), String::new()),
            };
            group.units.push(ChaseUnit {
                code: code.to_string(),
                name: name.to_string(),
                level: unit.map(|u| level_label(&u.level)).unwrap_or_default(),
                status: status.label().to_string(),
                contacts,
                errors: errors_count,
                problems,
                correction,
            });
        }
        let expected = rollups
            .iter()
            .find(|r| r.code == ALL_CODE)
            .map_or(0, |r| r.tally.expected);
        let nobody = if self.roster.is_some() {
            format!("名册中的 {expected} 个单位都已报送并受理，无需催报。")
        } else {
            "没有被退回或年度不符的文件，无需催报（未使用名册，不能列出未报送的单位）。".to_string()
        };
        Ok(ChaseList {
            year: self.year,
            summary,
            contact_columns,
            groups: groups.into_values().collect(),
            nobody,
        })
    }
}

/// values.csv one accepted unit at a time, taken in the order units.csv lists them
/// (values.csv is written in that order). A unit with no rows has no values.
struct InOrder {
    long: LongValues,
    keys: Placed,
    next: Option<(String, Vec<Option<f64>>)>,
}

impl InOrder {
    fn open(out: &Path, year: i32, keys: Placed) -> Result<InOrder> {
        let mut long = LongValues::open(out, "values.csv", "unit_code", Some(year))?;
        let next = long.next_values_placed(&keys)?;
        Ok(InOrder { long, keys, next })
    }

    fn take(&mut self, code: &str) -> Result<Vec<Option<f64>>> {
        if self.next.as_ref().is_none_or(|(next, _)| next != code) {
            return Ok(Vec::new());
        }
        let following = self.long.next_values_placed(&self.keys)?;
        let taken = std::mem::replace(&mut self.next, following);
        Ok(taken.map(|(_, v)| v).unwrap_or_default())
    }

    fn finish(self) -> Result<()> {
        match self.next {
            Some((code, _)) => bail!(
                "values.csv 中有单位 {code} 的数值，但 units.csv 中它不是受理的单位，或两者顺序不同（文件被改动过？）"
            ),
            None => Ok(()),
        }
    }
}

/// The first errors of each rejected unit's file, from diagnostics.csv (`unit → file`
/// says which file speaks for it): `表三 依申请公开 E8+E9 ≠ E31+E32：「自然人」列：…`.
fn first_errors(
    out: &Path,
    rejected: &HashMap<&str, &str>,
) -> Result<HashMap<String, Vec<String>>> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    if rejected.is_empty() {
        return Ok(found);
    }
    let mut csv = Csv::open(out, "diagnostics.csv")?;
    let (code, file, level) = (csv.col("unit_code")?, csv.col("file")?, csv.col("level")?);
    let (sheet, cell, message) = (csv.col("sheet")?, csv.col("cell")?, csv.col("message")?);
    while csv.read_next()? {
        if csv.raw(level) != "error" {
            continue;
        }
        let unit = csv.text(code);
        if rejected.get(unit.as_str()) != Some(&csv.text(file).as_str()) {
            continue;
        }
        let quoted = found.entry(unit).or_default();
        if quoted.len() < ERRORS_QUOTED {
            let place = [csv.text(sheet), csv.text(cell)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let text = csv.text(message);
            quoted.push(if place.is_empty() {
                text
            } else {
                format!("{place}：{text}")
            });
        }
    }
    Ok(found)
}

/// Whether a CSV the run wrote starts with a byte-order mark (not when `--no-bom`):
/// 催报名单.csv follows it.
fn starts_with_bom(path: &Path) -> bool {
    use std::io::Read as _;
    let mut start = [0u8; 3];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|_| start == *b"\xEF\xBB\xBF")
}

/// 催报名单.csv: the list's header and rows, every cell guarded against formulas like
/// every CSV of the run.
fn chase_csv(list: &ChaseList, bom: bool) -> Result<Vec<u8>, PublishError> {
    let start = if bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(start);
    let csv_error = |e: csv::Error| PublishError::Io {
        path: CHASE_CSV.to_string(),
        source: std::io::Error::other(e),
    };
    csv.write_record(list.csv_header().iter().map(|c| neutralise(c).into_owned()))
        .map_err(csv_error)?;
    for row in list.csv_rows() {
        csv.write_record(row.iter().map(|c| neutralise(c).into_owned()))
            .map_err(csv_error)?;
    }
    csv.into_inner().map_err(|e| PublishError::Io {
        path: CHASE_CSV.to_string(),
        source: e.into_error(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overwrite_guard_knows_the_lists() {
        for name in [DETAILS_FILE, CHASE_FILE, CHASE_CSV] {
            assert!(crate::output::OUTPUT_FILES.contains(&name), "{name}");
        }
    }
}
