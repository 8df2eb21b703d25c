//! The one-screen summary of a run for the terminal.

use std::collections::BTreeMap;

use super::{Attribution, Run, Status, Tally};
use crate::check::PreviousYear;
use crate::roster::Roster;

/// The one-screen summary of a run, and whether every expected unit was accepted.
#[derive(Debug)]
pub struct Summary {
    pub text: String,
    pub complete: bool,
}

/// Counts by status, the roster's completeness and the units still missing, by parent.
pub fn summary(run: &Run, roster: Option<&Roster>, previous: Option<&PreviousYear>) -> Summary {
    use std::fmt::Write as _;
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for o in &run.outcomes {
        *counts.entry(o.status).or_default() += 1;
    }
    let n = |s: Status| counts.get(&s).copied().unwrap_or(0);
    let mut t = String::new();
    let year = run.year.map(|y| format!("{y} 年度")).unwrap_or_default();
    // Accepted files first (with those with warnings among them), then 退回 and every
    // other status some file has, in `Status::ALL`'s order and by its own label (a row
    // of ten "… 0" hides the one that matters).
    let mut parts = vec![format!(
        "受理 {}（其中有警告 {}）",
        n(Status::Accepted) + n(Status::AcceptedWithWarnings),
        n(Status::AcceptedWithWarnings)
    )];
    parts.extend(
        Status::ALL
            .into_iter()
            .filter(|s| !s.is_accepted() && *s != Status::Missing)
            .filter(|s| n(*s) > 0 || *s == Status::Rejected)
            .map(|s| format!("{} {}", s.label(), n(s))),
    );
    let _ = writeln!(
        t,
        "{year}共找到 {} 个文件：{}。",
        run.outcomes.len(),
        parts.join("，")
    );
    let who = Attribution::new(roster, &run.outcomes);
    // Without a roster, a run that accepted nothing is not complete either (every file
    // unreadable, or for another year).
    let accepted_files = n(Status::Accepted) + n(Status::AcceptedWithWarnings);
    let mut complete = n(Status::Rejected) == 0 && accepted_files > 0;
    if roster.is_none() && accepted_files == 0 {
        let _ = writeln!(t, "没有受理任何文件。");
    }
    if let Some(roster) = roster {
        let mut tally = Tally::default();
        for (u, _) in who.walk() {
            tally.add(who.status(u.code.as_str()));
        }
        complete = tally.accepted == tally.expected;
        let _ = writeln!(t, "名册：{}", tally.sentence());
        let listed = |wanted: &dyn Fn(Status) -> bool| -> Vec<&crate::roster::Unit> {
            who.walk()
                .iter()
                .map(|(u, _)| *u)
                .filter(|u| wanted(who.status(u.code.as_str())))
                .collect()
        };
        let rejected = listed(&|s| s == Status::Rejected);
        if !rejected.is_empty() {
            let _ = writeln!(t, "退回的单位（需修改后重新报送）：");
            for u in rejected {
                let reason = who.file(u.code.as_str()).map_or("", |o| o.reason.as_str());
                let _ = writeln!(t, "  {}（{}）：{reason}", u.name, u.code);
            }
        }
        let missing = listed(&|s| s == Status::Missing);
        if !missing.is_empty() {
            let _ = writeln!(t, "未报送的单位（按上级单位）：");
            // Parents in roster order, each with its missing children.
            let mut by_parent: Vec<(String, Vec<String>)> = Vec::new();
            for u in &missing {
                let parent = u
                    .parent
                    .as_ref()
                    .and_then(|p| roster.get(p))
                    .map(|p| format!("{}（{}）", p.name, p.code))
                    .unwrap_or_else(|| "（顶层）".to_string());
                let unit = format!("{}（{}）", u.name, u.code);
                match by_parent.iter_mut().find(|(p, _)| *p == parent) {
                    Some((_, units)) => units.push(unit),
                    None => by_parent.push((parent, vec![unit])),
                }
            }
            for (parent, units) in by_parent {
                let _ = writeln!(t, "  {parent}：{}", units.join("、"));
            }
        }
    }
    let unmatched: Vec<&super::FileOutcome> = run
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Unidentified | Status::UnknownUnit))
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(t, "无法归属单位的文件：");
        for o in unmatched {
            let _ = writeln!(t, "  {}：{}（{}）", o.file, o.status.label(), o.reason);
        }
    }
    if let Some(previous) = previous {
        let absent = run
            .outcomes
            .iter()
            .filter(|o| o.status.is_judged() && !previous.contains_key(o.unit_code.as_str()))
            .count();
        if absent > 0 {
            let _ = writeln!(t, "上年汇总中没有的单位 {absent} 个，未做跨年度核对。");
        }
    }
    if n(Status::Duplicate) > 0 {
        let _ = writeln!(
            t,
            "同一单位有多个文件的，采用修改时间最新的一个，其余标为 duplicate（见 files.csv）。"
        );
    }
    Summary { text: t, complete }
}
