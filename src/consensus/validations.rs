//! Trusted validations: which ledger each UNL validator signed at each sequence, how many
//! signed each ledger (against the quorum), and each validator's latest ledger (the "tips" the
//! preferred-ledger rule weighs).
//!
//! One validation per validator per sequence: a second, different one is equivocation and is
//! refused (the first stays counted). Only full validations count toward quorum and tips.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::hash::Hash256;
use super::keys::NodeId;
use super::ledger::Seq;
use super::time::Time;
use super::validation::Validation;

/// Most validations kept per validator (twice the engine's ledger window). Honest validators
/// sign one per ledger, so only a validator signing far ahead (a faulty or hostile UNL key)
/// reaches it; its lowest ones are then forgotten, and memory stays bounded whatever it signs.
pub const MAX_PER_VALIDATOR: usize = 512;

/// What one validator signed at one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Signed {
    ledger: Hash256,
    full: bool,
    seen: Time,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct NodeValidations {
    by_seq: BTreeMap<Seq, Signed>,
    latest_seq: Option<Seq>,
    latest_seen: Time,
    latest_full: Option<(Seq, Hash256, Time)>,
}

/// Result of adding a validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddOutcome {
    /// Recorded; `count` trusted full validations now name that ledger.
    New {
        /// Full validations for the ledger after this one.
        count: usize,
    },
    /// The same validation again.
    Duplicate,
    /// A different validation for a sequence this validator already signed.
    Equivocation,
    /// Below the window we keep.
    Old,
}

/// Trusted validations and quorum arithmetic. Serialized for engine checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationTracker {
    unl: BTreeSet<NodeId>,
    quorum: usize,
    nodes: BTreeMap<NodeId, NodeValidations>,
    #[serde(with = "crate::consensus::engine::checkpoint::sorted_map")]
    by_ledger: HashMap<Hash256, (Seq, BTreeSet<NodeId>)>,
    equivocated: BTreeSet<(Seq, NodeId)>,
    low: Seq,
}

/// `ceil(n * pct / 100)`, at least 1: the number of UNL validations that fully validate.
pub fn quorum_for(unl_size: usize, pct: i64) -> usize {
    ((unl_size as i64 * pct + 99) / 100).max(1) as usize
}

impl ValidationTracker {
    /// A tracker for `unl` with an 80 %-style quorum of `pct`.
    pub fn new(unl: BTreeSet<NodeId>, pct: i64) -> ValidationTracker {
        let quorum = quorum_for(unl.len(), pct);
        ValidationTracker {
            unl,
            quorum,
            nodes: BTreeMap::new(),
            by_ledger: HashMap::new(),
            equivocated: BTreeSet::new(),
            low: 0,
        }
    }

    /// The UNL.
    pub fn unl(&self) -> &BTreeSet<NodeId> {
        &self.unl
    }

    /// Whether `node` is trusted.
    pub fn trusts(&self, node: &NodeId) -> bool {
        self.unl.contains(node)
    }

    /// Validations needed to fully validate a ledger.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Records a validation from a trusted validator, seen at `now`.
    pub fn add(&mut self, v: &Validation, now: Time) -> AddOutcome {
        if v.seq < self.low {
            return AddOutcome::Old;
        }
        if self.equivocated.contains(&(v.seq, v.node)) {
            return AddOutcome::Equivocation;
        }
        let n = self.nodes.entry(v.node).or_default();
        if let Some(prev) = n.by_seq.get(&v.seq) {
            if prev.ledger == v.ledger && prev.full == v.full {
                return AddOutcome::Duplicate;
            }
            // Two different validations for one sequence: neither counts any more.
            let first = prev.ledger;
            if let Some((_, who)) = self.by_ledger.get_mut(&first) {
                who.remove(&v.node);
            }
            self.equivocated.insert((v.seq, v.node));
            if self.equivocated.len() > MAX_PER_VALIDATOR * self.unl.len().max(1) {
                self.equivocated.pop_first();
            }
            return AddOutcome::Equivocation;
        }
        n.by_seq.insert(
            v.seq,
            Signed {
                ledger: v.ledger,
                full: v.full,
                seen: now,
            },
        );
        if n.by_seq.len() > MAX_PER_VALIDATOR
            && let Some((seq, gone)) = n.by_seq.pop_first()
        {
            if gone.full
                && let Some((_, who)) = self.by_ledger.get_mut(&gone.ledger)
            {
                who.remove(&v.node);
                if who.is_empty() {
                    self.by_ledger.remove(&gone.ledger);
                }
            }
            if seq == v.seq {
                return AddOutcome::Old;
            }
        }
        if n.latest_seq.is_none_or(|s| v.seq > s) {
            n.latest_seq = Some(v.seq);
            n.latest_seen = now;
        }
        if v.full && n.latest_full.is_none_or(|(s, _, _)| v.seq > s) {
            n.latest_full = Some((v.seq, v.ledger, now));
        }
        let count = if v.full {
            let entry = self
                .by_ledger
                .entry(v.ledger)
                .or_insert_with(|| (v.seq, BTreeSet::new()));
            entry.1.insert(v.node);
            entry.1.len()
        } else {
            self.count_for(&v.ledger)
        };
        AddOutcome::New { count }
    }

    /// Trusted full validations naming exactly `ledger`.
    pub fn count_for(&self, ledger: &Hash256) -> usize {
        self.by_ledger.get(ledger).map_or(0, |(_, s)| s.len())
    }

    /// Who validated `ledger`.
    pub fn validators_of(&self, ledger: &Hash256) -> Option<&BTreeSet<NodeId>> {
        self.by_ledger.get(ledger).map(|(_, s)| s)
    }

    /// Ledgers with at least a quorum of validations above `seq`, highest first (ties by hash).
    pub fn quorum_ledgers_above(&self, seq: Seq) -> Vec<(Seq, Hash256)> {
        let mut out: Vec<(Seq, Hash256)> = self
            .by_ledger
            .iter()
            .filter(|(_, (s, v))| *s > seq && v.len() >= self.quorum)
            .map(|(h, (s, _))| (*s, *h))
            .collect();
        out.sort_by(|a, b| b.cmp(a));
        out
    }

    /// Every trusted validator's latest full validation seen within `max_age_ms` of `now`.
    pub fn tips(&self, now: Time, max_age_ms: i64) -> Vec<(NodeId, Seq, Hash256)> {
        self.nodes
            .iter()
            .filter_map(|(id, n)| {
                let (seq, h, seen) = n.latest_full?;
                (now.since(seen) <= max_age_ms).then_some((*id, seq, h))
            })
            .collect()
    }

    /// Like [`Self::tips`], but each validator's latest full validation for a ledger `known`
    /// says we have (falling back through its recent validations).
    pub fn tips_known(
        &self,
        now: Time,
        max_age_ms: i64,
        known: impl Fn(&Hash256) -> bool,
    ) -> Vec<(NodeId, Seq, Hash256)> {
        self.nodes
            .iter()
            .filter_map(|(id, n)| {
                n.by_seq
                    .iter()
                    .rev()
                    .filter(|(_, s)| s.full && now.since(s.seen) <= max_age_ms)
                    .find(|(_, s)| known(&s.ledger))
                    .map(|(seq, s)| (*id, *seq, s.ledger))
            })
            .collect()
    }

    /// `(laggards, offline)` among the UNL relative to our ledger `seq` (rippled
    /// `Validations::laggards`): validators whose fresh latest validation is behind `seq`, and
    /// validators with no validation seen within `freshness_ms`.
    pub fn laggards(&self, seq: Seq, now: Time, freshness_ms: i64) -> (usize, usize) {
        let mut laggards = 0;
        let mut offline = 0;
        for id in &self.unl {
            match self.nodes.get(id) {
                Some(n) if n.latest_seq.is_some() && now.since(n.latest_seen) < freshness_ms => {
                    if n.latest_seq.is_some_and(|s| s < seq) {
                        laggards += 1;
                    }
                }
                _ => offline += 1,
            }
        }
        (laggards, offline)
    }

    /// The latest sequence `node` validated (full or partial).
    pub fn latest_seq(&self, node: &NodeId) -> Option<Seq> {
        self.nodes.get(node).and_then(|n| n.latest_seq)
    }

    /// The ledger `node` validated at `seq`, if any.
    pub fn validated_at(&self, node: &NodeId, seq: Seq) -> Option<Hash256> {
        self.nodes
            .get(node)
            .and_then(|n| n.by_seq.get(&seq))
            .map(|s| s.ledger)
    }

    /// When the validation `node` signed at `seq` was seen.
    pub fn seen_at(&self, node: &NodeId, seq: Seq) -> Option<Time> {
        self.nodes
            .get(node)
            .and_then(|n| n.by_seq.get(&seq))
            .map(|s| s.seen)
    }

    /// Validations held (all validators), for the memory report.
    pub fn held(&self) -> usize {
        self.nodes.values().map(|n| n.by_seq.len()).sum()
    }

    /// The most [`ValidationTracker::held`] can reach.
    pub fn bound(&self) -> usize {
        // Our own validations count too, whether or not we are on our UNL.
        MAX_PER_VALIDATOR * (self.unl.len() + 1)
    }

    /// Forgets validations below `seq`.
    pub fn prune_below(&mut self, seq: Seq) {
        if seq <= self.low {
            return;
        }
        self.low = seq;
        for n in self.nodes.values_mut() {
            n.by_seq = n.by_seq.split_off(&seq);
        }
        self.by_ledger.retain(|_, (s, _)| *s >= seq);
        self.equivocated = self.equivocated.split_off(&(seq, NodeId([0; 32])));
    }

    /// Whether `node` signed two different validations for `seq`.
    pub fn equivocated(&self, node: &NodeId, seq: Seq) -> bool {
        self.equivocated.contains(&(seq, *node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(i: u8) -> NodeId {
        NodeId([i; 32])
    }

    fn val(i: u8, seq: Seq, ledger: &[u8], full: bool) -> Validation {
        Validation {
            ledger: Hash256::of(&[ledger]),
            seq,
            tx_set: Hash256::ZERO,
            full,
            sign_time: Time(0),
            node: node(i),
        }
    }

    #[test]
    fn a_validator_signing_far_ahead_stays_within_its_bound() {
        let unl: BTreeSet<NodeId> = (0..5).map(node).collect();
        let mut t = ValidationTracker::new(unl, 80);
        for i in 1..5 {
            t.add(&val(i, 10, b"L10", true), Time(0));
        }
        for seq in 0..5_000 {
            t.add(
                &val(0, 1_000 + seq, format!("junk{seq}").as_bytes(), true),
                Time(0),
            );
        }
        assert_eq!(t.held(), MAX_PER_VALIDATOR + 4);
        assert!(t.held() <= t.bound());
        // Evicted junk leaves no votes behind; honest counts are untouched.
        assert_eq!(t.count_for(&Hash256::of(&[b"junk0"])), 0);
        assert_eq!(t.count_for(&Hash256::of(&[b"junk4999"])), 1);
        assert_eq!(t.count_for(&Hash256::of(&[b"L10"])), 4);
        assert_eq!(
            t.by_ledger.len(),
            MAX_PER_VALIDATOR + 1,
            "vote sets of forgotten validations must go too"
        );
    }

    #[test]
    fn quorum_is_ceil_80_percent() {
        assert_eq!(quorum_for(5, 80), 4);
        assert_eq!(quorum_for(4, 80), 4);
        assert_eq!(quorum_for(10, 80), 8);
        assert_eq!(quorum_for(1, 80), 1);
        assert_eq!(quorum_for(0, 80), 1);
        assert_eq!(quorum_for(6, 80), 5);
    }

    #[test]
    fn counts_exact_ledgers_and_refuses_equivocation() {
        let unl: BTreeSet<NodeId> = (0..5).map(node).collect();
        let mut t = ValidationTracker::new(unl, 80);
        for i in 0..3 {
            assert_eq!(
                t.add(&val(i, 1, b"A", true), Time(0)),
                AddOutcome::New {
                    count: i as usize + 1
                }
            );
        }
        assert_eq!(
            t.add(&val(0, 1, b"A", true), Time(1)),
            AddOutcome::Duplicate
        );
        // Node 0 signs another ledger at the same seq: its vote for A stops counting too.
        assert_eq!(
            t.add(&val(0, 1, b"B", true), Time(1)),
            AddOutcome::Equivocation
        );
        assert_eq!(t.count_for(&Hash256::of(&[b"A"])), 2);
        assert_eq!(t.count_for(&Hash256::of(&[b"B"])), 0);
        assert!(t.equivocated(&node(0), 1));
        assert_eq!(
            t.add(&val(0, 1, b"A", true), Time(1)),
            AddOutcome::Equivocation
        );
        // Partial validations are recorded but do not count.
        assert_eq!(
            t.add(&val(3, 1, b"A", false), Time(1)),
            AddOutcome::New { count: 2 }
        );
        assert!(t.quorum_ledgers_above(0).is_empty());
        t.add(&val(4, 1, b"A", true), Time(2));
        assert!(
            t.quorum_ledgers_above(0).is_empty(),
            "3 of 5 without the equivocator"
        );
        assert_eq!(t.tips(Time(2), 1000).len(), 4);
        t.prune_below(2);
        assert_eq!(t.count_for(&Hash256::of(&[b"A"])), 0);
        assert_eq!(t.add(&val(0, 1, b"C", true), Time(3)), AddOutcome::Old);
    }

    #[test]
    fn laggards_and_offline() {
        let unl: BTreeSet<NodeId> = (0..4).map(node).collect();
        let mut t = ValidationTracker::new(unl, 80);
        t.add(&val(0, 5, b"A", true), Time(1000));
        t.add(&val(1, 4, b"B", true), Time(1000));
        t.add(&val(2, 5, b"A", true), Time(0));
        // node 2 is stale at now=30s with 20 s freshness; node 3 never seen.
        assert_eq!(t.laggards(5, Time(30_000), 20_000), (0, 4));
        assert_eq!(t.laggards(5, Time(15_000), 20_000), (1, 1));
    }
}
