//! The preferred ledger: which ledger the trusted validators' latest validations support,
//! following rippled's `LedgerTrie::getPreferred` ("preferred by branch").
//!
//! Starting from a root (our fully validated ledger), walk down the tree of ledgers that
//! validators' tips descend from. At each step the best child must beat the runner-up by more
//! than the "uncommitted" support: validators whose latest validation is at a lower sequence and
//! could still end up on either branch. Ties go to the higher hash.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::hash::Hash256;
use super::history::LedgerHistory;
use super::ledger::{Ledger, Seq};

/// The preferred ledger at or below `root` given validator `tips` (sequence, hash), or `None`
/// when there are no tips at all. `root` is the fully validated ledger, so it is preferred over
/// anything that does not descend from it. `largest_issued` is the highest sequence we validated
/// ourselves: support below it counts as uncommitted (rippled `largestIssued`).
pub fn preferred_ledger(
    history: &LedgerHistory,
    root: &Arc<Ledger>,
    tips: &[(Seq, Hash256)],
    largest_issued: Seq,
) -> Option<(Seq, Hash256)> {
    let mut support: HashMap<Hash256, u32> = HashMap::new();
    let mut children: HashMap<Hash256, Vec<Hash256>> = HashMap::new();
    let mut seq_support: BTreeMap<Seq, u32> = BTreeMap::new();
    if tips.is_empty() {
        return None;
    }

    for &(seq, hash) in tips {
        *seq_support.entry(seq).or_default() += 1;
        if seq <= root.seq() {
            continue;
        }
        // Walk the tip back to the root; tips on unknown or foreign chains stay uncommitted.
        let Some(tip) = history.get(&hash) else {
            continue;
        };
        let (path, complete) = history.chain_back(tip, root.seq());
        if !complete || path.last().map(|l| l.parent()) != Some(root.hash()) {
            continue;
        }
        let mut parent = root.hash();
        for l in path.iter().rev() {
            let count = support.entry(l.hash()).or_default();
            if *count == 0 {
                children.entry(parent).or_default().push(l.hash());
            }
            *count += 1;
            parent = l.hash();
        }
    }
    let mut curr = (root.seq(), root.hash());
    let mut uncommitted: u32 = 0;
    let mut pending = seq_support.into_iter().peekable();
    loop {
        let next_seq = curr.0 + 1;
        while let Some(&(s, n)) = pending.peek() {
            if s < next_seq.max(largest_issued) {
                uncommitted += n;
                pending.next();
            } else {
                break;
            }
        }
        let Some(kids) = children.get(&curr.1) else {
            break;
        };
        let mut ranked: Vec<(u32, Hash256)> = kids
            .iter()
            .map(|h| (support.get(h).copied().unwrap_or(0), *h))
            .collect();
        ranked.sort_by(|a, b| b.cmp(a));
        let (best_support, best) = ranked[0];
        let margin = match ranked.get(1) {
            None => best_support,
            Some(&(second_support, second)) => {
                let mut m = best_support - second_support;
                if best > second {
                    m += 1;
                }
                m
            }
        };
        if margin > uncommitted || uncommitted == 0 {
            curr = (next_seq, best);
        } else {
            break;
        }
    }
    Some(curr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::params::ConsensusParams;
    use crate::consensus::time::Time;
    use crate::consensus::tx::Tx;
    use crate::consensus::txset::TxSet;

    fn child(parent: &Ledger, tag: &str) -> Arc<Ledger> {
        let txs = Arc::new(TxSet::new([Tx::new(tag).unwrap()]));
        Arc::new(Ledger::next(
            parent,
            txs,
            Time(parent.close_time().ms() + 10_000),
            true,
            10_000,
        ))
    }

    struct Tree {
        h: LedgerHistory,
        g: Arc<Ledger>,
        a1: Arc<Ledger>,
        a2: Arc<Ledger>,
        b2: Arc<Ledger>,
        a3: Arc<Ledger>,
    }

    fn tree() -> Tree {
        let g = Arc::new(Ledger::genesis(&ConsensusParams::mainnet()));
        let a1 = child(&g, "a1");
        let a2 = child(&a1, "a2");
        let b2 = child(&a1, "b2");
        let a3 = child(&a2, "a3");
        let mut h = LedgerHistory::new();
        for l in [&g, &a1, &a2, &b2, &a3] {
            h.insert((*l).clone());
        }
        Tree {
            h,
            g,
            a1,
            a2,
            b2,
            a3,
        }
    }

    fn tip(l: &Arc<Ledger>) -> (Seq, Hash256) {
        (l.seq(), l.hash())
    }

    #[test]
    fn single_branch_goes_to_the_deepest_supported_ledger() {
        let t = tree();
        // Two on a3, one on a2: a3's support (2) beats the one uncommitted validator.
        let tips = [tip(&t.a3), tip(&t.a3), tip(&t.a2)];
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(tip(&t.a3)));
        // One on a3, two on a2: the two could still go elsewhere, so stop at a2.
        let tips = [tip(&t.a3), tip(&t.a2), tip(&t.a2)];
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(tip(&t.a2)));
        let tips = [tip(&t.a3), tip(&t.a3), tip(&t.a3)];
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(tip(&t.a3)));
    }

    #[test]
    fn majority_branch_wins_when_margin_beats_uncommitted() {
        let t = tree();
        // 3 on a2, 1 on b2: margin 2 (+1 tie-break maybe), uncommitted 0 -> a-branch.
        let tips = [tip(&t.a2), tip(&t.a2), tip(&t.a2), tip(&t.b2)];
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(tip(&t.a2)));
        // 2 vs 2 with 3 validators still at seq 1: nobody can be sure -> stop at a1.
        let tips = [
            tip(&t.a2),
            tip(&t.a2),
            tip(&t.b2),
            tip(&t.b2),
            tip(&t.a1),
            tip(&t.a1),
            tip(&t.a1),
        ];
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(tip(&t.a1)));
    }

    #[test]
    fn ties_break_to_the_higher_hash() {
        let t = tree();
        let tips = [tip(&t.a2), tip(&t.b2)];
        let expected = if t.a2.hash() > t.b2.hash() {
            tip(&t.a2)
        } else {
            tip(&t.b2)
        };
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(expected));
    }

    #[test]
    fn unknown_tips_leave_the_root_preferred() {
        let t = tree();
        let tips = [(5, Hash256::of(&[b"nowhere"]))];
        assert_eq!(preferred_ledger(&t.h, &t.g, &tips, 0), Some(tip(&t.g)));
        assert_eq!(preferred_ledger(&t.h, &t.g, &[], 0), None);
        // Tips exactly at the root: the root (the fully validated ledger) is preferred.
        assert_eq!(
            preferred_ledger(&t.h, &t.a2, &[tip(&t.a2)], 0),
            Some(tip(&t.a2))
        );
        // With root a1, tips below the root only add uncommitted support.
        let tips = [tip(&t.a3), tip(&t.g)];
        assert_eq!(preferred_ledger(&t.h, &t.a1, &tips, 0), Some(tip(&t.a1)));
    }
}
