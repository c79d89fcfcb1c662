//! Several attached nodes at once (`cpeers attach A B C`): a letter for each, and which of them
//! agree with which. Two nodes agree when their fully validated chains match at the sequence
//! both reached and they close the same ledger (or are one ledger apart, as nodes a moment out
//! of step are); a fork (different fully validated ledgers at one sequence) and a partition
//! (different ledgers closed at one sequence) each show as a disagreement with its reason.

use crate::consensus::Hash256;
use crate::contract::NodeSnapshot;

use super::app::FleetRow;

/// How node `i` relates to node `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Same chain, same (or adjacent) last closed ledger.
    Agrees,
    /// Different fully validated ledgers at this sequence.
    Fork(u32),
    /// Different ledgers closed at this sequence.
    OtherLedger(u32),
    /// More than one ledger apart.
    Apart(u32),
    /// Not enough known (not connected, or histories do not overlap).
    Unknown,
}

/// The letter of the `i`th node (A, B, ..., Z, then 27, 28, ...).
pub fn letter(i: usize) -> String {
    if i < 26 {
        ((b'A' + i as u8) as char).to_string()
    } else {
        (i + 1).to_string()
    }
}

/// The hash `s` holds as fully validated at `seq`, if it still lists it.
fn validated_at(s: &NodeSnapshot, seq: u32) -> Option<Hash256> {
    if s.info.fully_validated.seq == seq {
        return Some(s.info.fully_validated.hash);
    }
    s.recent_validated
        .iter()
        .find(|v| v.seq == seq)
        .map(|v| v.hash)
}

/// How `a` relates to `b`.
pub fn relation(a: &NodeSnapshot, b: &NodeSnapshot) -> Relation {
    let common = a.info.fully_validated.seq.min(b.info.fully_validated.seq);
    match (validated_at(a, common), validated_at(b, common)) {
        (Some(x), Some(y)) if x != y => return Relation::Fork(common),
        (Some(_), Some(_)) => {}
        _ => return Relation::Unknown,
    }
    let (la, lb) = (&a.info.last_closed, &b.info.last_closed);
    if la.seq == lb.seq {
        if la.hash == lb.hash {
            Relation::Agrees
        } else {
            Relation::OtherLedger(la.seq)
        }
    } else if la.seq.abs_diff(lb.seq) <= 1 {
        Relation::Agrees
    } else {
        Relation::Apart(la.seq.abs_diff(lb.seq))
    }
}

/// For node `i`: the letters it agrees with, and the others with why.
pub fn agreement(fleet: &[FleetRow], i: usize) -> (Vec<String>, Vec<(String, Relation)>) {
    let mut agree = Vec::new();
    let mut other = Vec::new();
    let Some(Some(me)) = fleet.get(i).map(|r| r.snapshot.as_ref()) else {
        return (agree, other);
    };
    for (j, row) in fleet.iter().enumerate() {
        if j == i {
            continue;
        }
        let rel = match (&row.snapshot, row.connected && fleet[i].connected) {
            (Some(s), true) => relation(me, s),
            _ => Relation::Unknown,
        };
        if rel == Relation::Agrees {
            agree.push(letter(j));
        } else {
            other.push((letter(j), rel));
        }
    }
    (agree, other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::Time;
    use crate::contract::ValidatedLedger;

    fn node(validated: &[(u32, u8)], closed: (u32, u8)) -> NodeSnapshot {
        let mut s = crate::node::status_text::tests::snapshot();
        let (vs, vh) = *validated.last().expect("one");
        s.info.fully_validated.seq = vs;
        s.info.fully_validated.hash = Hash256([vh; 32]);
        s.recent_validated = validated
            .iter()
            .map(|&(seq, h)| ValidatedLedger {
                seq,
                hash: Hash256([h; 32]),
                txs: 0,
                close_time: Time(0),
                validated_at: Time(0),
            })
            .collect();
        s.info.last_closed.seq = closed.0;
        s.info.last_closed.hash = Hash256([closed.1; 32]);
        s
    }

    #[test]
    fn agreement_partition_and_fork_are_told_apart() {
        let a = node(&[(1, 1), (2, 2)], (3, 3));
        let b = node(&[(1, 1), (2, 2), (3, 3)], (4, 4));
        assert_eq!(relation(&a, &b), Relation::Agrees);
        let partitioned = node(&[(1, 1), (2, 2)], (3, 9));
        assert_eq!(relation(&a, &partitioned), Relation::OtherLedger(3));
        let forked = node(&[(1, 1), (2, 7)], (3, 3));
        assert_eq!(relation(&a, &forked), Relation::Fork(2));
        let behind = node(&[(1, 1)], (1, 1));
        assert_eq!(relation(&a, &behind), Relation::Apart(2));
        let far = node(&[(90, 5)], (91, 5));
        assert_eq!(relation(&a, &far), Relation::Unknown);
        assert_eq!(letter(0), "A");
        assert_eq!(letter(26), "27");
    }
}
