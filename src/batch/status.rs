//! What became of each input file ([`FileOutcome`], [`Status`]): the one status model
//! every output (terminal, CSVs, overview, roll-ups) speaks.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::store::Stored;

/// What became of one input file. Stable codes, documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Identified, matched to a roster unit, no errors and no warnings.
    Accepted,
    /// Accepted; warnings reported.
    AcceptedWithWarnings,
    /// Errors: the unit must correct and resend.
    Rejected,
    /// Another file for the same unit was chosen (see `FileOutcome::chosen`).
    Duplicate,
    /// The workbook does not say which unit it is for.
    Unidentified,
    /// The unit code is not on the roster.
    UnknownUnit,
    /// The workbook is for another report year.
    WrongYear,
    /// Not a readable workbook (empty, truncated, HTML renamed .xls, password…).
    Unreadable,
    /// Not a spreadsheet file at all (by extension).
    Unsupported,
    /// Deliberately not processed (Office lock files `~$…`, hidden files).
    Skipped,
    /// A lower level's checked package (`…_上报包.zip`, see [`super::package`]): not a
    /// unit's file itself; each file it carries is listed on its own, under the
    /// package's name.
    Package,
    /// A roster unit no file speaks for (a unit's status, never a file's).
    Missing,
}

impl Status {
    /// Every status, in the order the overview and summaries list them.
    pub const ALL: [Status; 12] = [
        Status::Accepted,
        Status::AcceptedWithWarnings,
        Status::Rejected,
        Status::Missing,
        Status::Duplicate,
        Status::Unidentified,
        Status::UnknownUnit,
        Status::WrongYear,
        Status::Unreadable,
        Status::Unsupported,
        Status::Skipped,
        Status::Package,
    ];

    /// The stable code in CSV outputs (documented in README.md).
    pub fn code(self) -> &'static str {
        self.words().code
    }

    /// The short Chinese label on badges, charts and summaries.
    pub fn label(self) -> &'static str {
        self.words().label
    }

    /// What the status means, in Chinese (README.md's table says the same).
    pub fn description(self) -> &'static str {
        self.words().description
    }

    /// The badge's background and text colours on the overview page.
    pub fn colours(self) -> (&'static str, &'static str) {
        let w = self.words();
        (w.colour, w.text_colour)
    }

    /// Everything a status says about itself, in one match: a new variant does not
    /// compile until it has its code, label, description and colours.
    fn words(self) -> StatusWords {
        let w = |code, label, description, colour, text_colour| StatusWords {
            code,
            label,
            description,
            colour,
            text_colour,
        };
        const WHITE: &str = "#ffffff";
        const BLACK: &str = "#000000";
        match self {
            Status::Accepted => w("accepted", "受理", "受理，无错误无警告", "#2e7d32", WHITE),
            Status::AcceptedWithWarnings => w(
                "accepted_with_warnings",
                "受理（有警告）",
                "受理，有警告",
                "#f9a825",
                BLACK,
            ),
            Status::Rejected => w("rejected", "退回", "有错误，需退回修改", "#c62828", WHITE),
            Status::Missing => w(
                "missing",
                "未报送",
                "名册单位没有交回文件",
                "#9e9e9e",
                BLACK,
            ),
            Status::Duplicate => w(
                "duplicate",
                "重复",
                "同一单位的另一个文件被采用",
                "#78909c",
                WHITE,
            ),
            Status::Unidentified => w(
                "unidentified",
                "无法识别",
                "工作簿中没有单位信息",
                "#8e24aa",
                WHITE,
            ),
            Status::UnknownUnit => w(
                "unknown_unit",
                "名册外单位",
                "单位不在名册中",
                "#6d4c41",
                WHITE,
            ),
            Status::WrongYear => w(
                "wrong_year",
                "年度不符",
                "不是本次汇总的年度",
                "#ef6c00",
                WHITE,
            ),
            Status::Unreadable => w(
                "unreadable",
                "无法读取",
                "不是可读的工作簿，或查找时无法进入的路径",
                "#ad1457",
                WHITE,
            ),
            Status::Unsupported => w(
                "unsupported",
                "非工作簿文件",
                "不是工作簿文件",
                "#5d4037",
                WHITE,
            ),
            Status::Skipped => w(
                "skipped",
                "已跳过",
                "有意跳过：Office/WPS 临时锁文件、隐藏文件、不是普通文件、nianbao 生成的汇总表",
                "#cfd8dc",
                BLACK,
            ),
            Status::Package => w(
                "package",
                "上报包",
                "下级报来的上报包：其中的每个文件另列一行，文件名以上报包的路径开头",
                "#1565c0",
                WHITE,
            ),
        }
    }

    /// The status a stable code names.
    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Counted in totals and roll-ups.
    pub fn is_accepted(self) -> bool {
        matches!(self, Status::Accepted | Status::AcceptedWithWarnings)
    }

    /// Read, matched to a roster unit and judged: the statuses among which one file per
    /// unit is chosen.
    pub fn is_judged(self) -> bool {
        matches!(
            self,
            Status::Accepted | Status::AcceptedWithWarnings | Status::Rejected
        )
    }
}

struct StatusWords {
    code: &'static str,
    label: &'static str,
    description: &'static str,
    colour: &'static str,
    text_colour: &'static str,
}

/// How a set of units stands, counted one way for every output: the terminal summary,
/// rollup.csv, index.html, the roll-up reports and 汇总表.xlsx all show these numbers,
/// and units.csv's statuses add up to them.
///
/// Each unit is counted once, by its status (the file that speaks for it, see
/// [`super::Attribution`]): 应报 `expected` = every unit; 已报 `received` = a file
/// speaks for it (`accepted` + `rejected` + `other`); 受理 `accepted` (of which
/// `with_warnings` 有警告); 退回 `rejected`; 年度不符 `other` (the only file is for
/// another year); 未报送 `missing` = no file at all. Hence
/// `expected = accepted + rejected + other + missing`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub expected: usize,
    pub received: usize,
    pub accepted: usize,
    pub with_warnings: usize,
    pub rejected: usize,
    pub other: usize,
    pub missing: usize,
}

impl Tally {
    /// Counts one unit of the set with its status.
    pub fn add(&mut self, status: Status) {
        self.expected += 1;
        match status {
            Status::Missing => self.missing += 1,
            Status::Accepted | Status::AcceptedWithWarnings => {
                self.received += 1;
                self.accepted += 1;
                self.with_warnings += usize::from(status == Status::AcceptedWithWarnings);
            }
            Status::Rejected => {
                self.received += 1;
                self.rejected += 1;
            }
            Status::WrongYear
            | Status::Duplicate
            | Status::Unidentified
            | Status::UnknownUnit
            | Status::Unreadable
            | Status::Unsupported
            | Status::Skipped
            | Status::Package => {
                self.received += 1;
                self.other += 1;
            }
        }
    }

    /// The counts in one Chinese sentence, the same wherever they are shown:
    /// `应报 13 个，已报 12 个：受理 10 个（其中有警告 2 个），退回 1 个，年度不符 1 个；未报送 1 个。`
    /// (parts that are zero after 受理 are left out).
    pub fn sentence(&self) -> String {
        let mut parts = vec![format!("受理 {} 个", self.accepted)];
        if self.with_warnings > 0 {
            parts[0].push_str(&format!("（其中有警告 {} 个）", self.with_warnings));
        }
        if self.rejected > 0 {
            parts.push(format!("退回 {} 个", self.rejected));
        }
        if self.other > 0 {
            parts.push(format!("年度不符 {} 个", self.other));
        }
        format!(
            "应报 {} 个，已报 {} 个：{}；未报送 {} 个。",
            self.expected,
            self.received,
            parts.join("，"),
            self.missing
        )
    }
}

/// One input file and what became of it. Serialised as a package carries it
/// ([`super::package::Carried`]), without its place in this run's store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileOutcome {
    /// The path as shown in outputs: relative to the input it was found under, `/`-separated.
    pub file: String,
    pub status: Status,
    /// Why, in Chinese (empty when accepted without remarks).
    pub reason: String,
    /// The roster unit it was matched to (empty when none).
    pub unit_code: String,
    /// For a duplicate: the file chosen instead.
    pub chosen: Option<String>,
    /// The unit code and name the workbook itself gives (empty when none).
    pub workbook_code: String,
    pub unit_name: String,
    /// The report year the workbook gives.
    pub year: Option<i32>,
    /// Counts of its findings (None for files not read).
    pub counts: Option<Counts>,
    /// Where its submission is kept in the run's [`super::Store`] (None for files not read).
    #[serde(skip)]
    pub stored: Option<Stored>,
    /// The file's modification time, to pick the newest of several files for a unit.
    pub modified: Option<SystemTime>,
    /// The workbook's own identities disagree (an ID-3 error): it never displaces a
    /// unit's consistent file.
    pub identity_conflict: bool,
    /// The package (its display name) the file came in, when it was not read here but
    /// carried up by a lower level ([`super::package`]); None for a file read here.
    pub package: Option<String>,
    /// What the file's name needed where it was found (decoded from GBK, numbered to
    /// tell it from another of the same name), added to `reason` once it is final; it
    /// travels in a package, so the level above says it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_note: Option<String>,
}

/// How many findings of each level a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub fixes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_code_label_and_colour() {
        let codes: std::collections::BTreeSet<&str> =
            Status::ALL.iter().map(|s| s.code()).collect();
        let labels: std::collections::BTreeSet<&str> =
            Status::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(codes.len(), Status::ALL.len());
        assert_eq!(labels.len(), Status::ALL.len());
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert!(!s.description().is_empty());
            assert!(s.colours().0.starts_with('#'));
        }
        assert_eq!(Status::from_code("missing"), Some(Status::Missing));
        assert_eq!(Status::from_code("nonsense"), None);
    }

    #[test]
    fn a_tally_counts_each_unit_once() {
        let mut t = Tally::default();
        for s in [
            Status::Accepted,
            Status::AcceptedWithWarnings,
            Status::Rejected,
            Status::WrongYear,
            Status::Missing,
            Status::Missing,
        ] {
            t.add(s);
        }
        assert_eq!(t.expected, 6);
        assert_eq!(t.received, 4);
        assert_eq!(t.accepted, 2);
        assert_eq!(t.with_warnings, 1);
        assert_eq!(t.rejected, 1);
        assert_eq!(t.other, 1);
        assert_eq!(t.missing, 2);
        assert_eq!(t.expected, t.accepted + t.rejected + t.other + t.missing);
        assert_eq!(
            t.sentence(),
            "应报 6 个，已报 4 个：受理 2 个（其中有警告 1 个），退回 1 个，年度不符 1 个；未报送 2 个。"
        );
    }
}
