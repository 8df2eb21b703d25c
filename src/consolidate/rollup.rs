//! The roll-ups: each parent's sums over itself and every unit below it, and the whole
//! roster's, with the lists of units included, missing and rejected.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{Rollup, ALL_CODE, ALL_LEVEL, ALL_NAME};
use crate::batch::{Attribution, Status, Tally};
use crate::format::Key;

/// The running sums of every roll-up: the whole roster first, then each roster unit
/// with children, in roster order. Memory is one map per parent, whatever the number of
/// files.
pub(super) struct Sums {
    rollups: Vec<Rollup>,
    /// Roster code → the indices of the roll-ups it counts in.
    member_of: HashMap<String, Vec<usize>>,
}

impl Sums {
    pub(super) fn new(who: &Attribution) -> Sums {
        let mut rollups = vec![Rollup::empty(ALL_CODE, ALL_NAME, ALL_LEVEL, 0)];
        let mut member_of: HashMap<String, Vec<usize>> = HashMap::new();
        if let Some(roster) = who.roster() {
            for (unit, depth) in who.walk() {
                if roster.children(&unit.code).is_empty() {
                    continue;
                }
                let index = rollups.len();
                rollups.push(Rollup::empty(
                    unit.code.as_str(),
                    &unit.name,
                    &unit.level,
                    depth + 1,
                ));
                for member in std::iter::once(*unit).chain(roster.descendants(&unit.code)) {
                    member_of
                        .entry(member.code.to_string())
                        .or_default()
                        .push(index);
                }
            }
            // Membership lists and counts in roster order, from the headers alone.
            for (unit, _) in who.walk() {
                let code: Arc<str> = Arc::from(unit.code.as_str());
                let status = who.status(&code);
                let mut indices = vec![0];
                indices.extend(member_of.get(&*code).into_iter().flatten());
                for i in indices {
                    rollups[i].count(&code, status);
                }
            }
        } else {
            // Without a roster, every unit a file identifies stands for itself in the
            // whole, counted once: by its judged file, else as for another year.
            let mut units: BTreeMap<&str, Status> = BTreeMap::new();
            for o in who.elsewhere() {
                if o.status.is_judged() || o.status == Status::WrongYear {
                    let seen = units.entry(o.unit()).or_insert(o.status);
                    if o.status.is_judged() {
                        *seen = o.status;
                    }
                }
            }
            for (code, status) in units {
                rollups[0].count(&Arc::from(code), status);
            }
        }
        Sums { rollups, member_of }
    }

    fn add_values(rollup: &mut Rollup, values: &BTreeMap<Key, f64>) {
        for (key, v) in values {
            *rollup.values.entry(key.clone()).or_insert(0.0) += v;
        }
    }

    /// An accepted roster unit's values, into the whole roster and every parent above.
    pub(super) fn add(&mut self, code: &str, values: &BTreeMap<Key, f64>) {
        Sums::add_values(&mut self.rollups[0], values);
        for &i in self.member_of.get(code).into_iter().flatten() {
            Sums::add_values(&mut self.rollups[i], values);
        }
    }

    /// An accepted unit that is not on the roster: it counts in the whole only when
    /// there is no roster (the only time such a unit is accepted).
    pub(super) fn add_elsewhere(&mut self, values: &BTreeMap<Key, f64>) {
        Sums::add_values(&mut self.rollups[0], values);
    }

    pub(super) fn finish(self) -> Vec<Rollup> {
        self.rollups
    }
}

impl Rollup {
    /// A roll-up with nothing counted yet.
    fn empty(code: &str, name: &str, level: &str, depth: usize) -> Rollup {
        Rollup {
            code: code.to_string(),
            name: name.to_string(),
            level: level.to_string(),
            depth,
            tally: Tally::default(),
            included: Vec::new(),
            missing: Vec::new(),
            rejected: Vec::new(),
            other: Vec::new(),
            values: BTreeMap::new(),
        }
    }

    /// Counts one unit of the subtree and lists it by its status.
    fn count(&mut self, code: &Arc<str>, status: Status) {
        self.tally.add(status);
        let list = match status {
            Status::Accepted | Status::AcceptedWithWarnings => &mut self.included,
            Status::Rejected => &mut self.rejected,
            Status::Missing => &mut self.missing,
            _ => &mut self.other,
        };
        list.push(Arc::clone(code));
    }
}
