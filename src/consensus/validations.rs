//! Trusted validations, kept as rippled's `Validations` keeps them: which ledger each UNL
//! validator signed at each sequence, how many full validations each ledger has (against the
//! quorum), and each validator's latest validated ledger in a [`LedgerTrie`], from which the
//! preferred ledger and "how many validators moved past this ledger" are read.
//!
//! The rules, each as rippled's `Validations::add` applies them:
//! - **Current by sign time.** A validation is current while its sign time lies within
//!   (net time − `validation_valid_early`, net time + `validation_valid_wall`): it goes stale
//!   3 minutes after it was signed and may be signed up to 5 minutes ahead of our clock. A stale
//!   one is refused and nothing of it is kept; a validator whose latest validation goes stale
//!   drops out of the trie when the trie is next read.
//! - **Sequences only increase.** Per validator, a validation must carry a higher sequence than
//!   any it sent before (the sequence enforcer forgets after `validation_set_expires`, so a
//!   validator that was away ten minutes may start lower). An older one is refused as bad-seq.
//! - **One validation per sequence.** A second, different validation for a sequence the
//!   validator already signed is refused as conflicting and flagged; the first stays counted.
//! - **Partial and full.** Both kinds move the validator's tip in the trie (they steer the
//!   preferred ledger and count as "moved on"); only full ones count toward the quorum.
//! - **Trie via acquisition.** A validator enters the trie with the ledger it validated once we
//!   hold that ledger and its ancestry; until then its previous ledger stays there and the
//!   validation waits in `acquiring` (the engine fetches the ledger).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::hash::Hash256;
use super::keys::NodeId;
use super::ledger::Seq;
use super::ledger_trie::{AncestryLedger, LedgerTrie, SpanTip, TrieLedger};
use super::params::ConsensusParams;
use super::time::Time;
use super::validation::Validation;

/// Most validations kept per validator (twice the engine's ledger window). Honest validators
/// sign one per ledger, so only a validator signing far ahead (a faulty or hostile UNL key)
/// reaches it; its lowest ones are then forgotten, and memory stays bounded whatever it signs.
pub const MAX_PER_VALIDATOR: usize = 512;

/// What became of a validation offered to [`Validations::add`] (rippled `ValStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValStatus {
    /// Taken: it is the validator's latest.
    Current,
    /// Signed too long ago (or too far ahead), or not newer than the validator's latest.
    Stale,
    /// Not above the sequence the validator already validated.
    BadSeq,
    /// A second, different validation for a sequence the validator already signed.
    Conflicting,
    /// Exactly the validation already held (a gossip repeat).
    Duplicate,
    /// Below the window of sequences kept.
    Old,
}

/// One validation as kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The validated ledger.
    pub ledger: Hash256,
    /// Its sequence.
    pub seq: Seq,
    /// Full (the validator proposed) or partial.
    pub full: bool,
    /// When the validator signed it (its network clock).
    pub sign_time: Time,
    /// When we received it (our clock).
    pub seen: Time,
}

impl Entry {
    fn of(v: &Validation, seen: Time) -> Entry {
        Entry {
            ledger: v.ledger,
            seq: v.seq,
            full: v.full,
            sign_time: v.sign_time,
            seen,
        }
    }
}

/// The validation-currency windows and expiries (rippled `ValidationParms`), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationWindows {
    /// Signed at most this far ahead of our net time.
    pub wall_ms: i64,
    /// Seen at most this far ahead of our time.
    pub local_ms: i64,
    /// Signed at most this long ago.
    pub early_ms: i64,
    /// A validator's sequence enforcer forgets after this long.
    pub set_expires_ms: i64,
    /// Seen within this long: the validator is online (for laggards).
    pub freshness_ms: i64,
}

impl ValidationWindows {
    /// The windows of `p`.
    pub fn of(p: &ConsensusParams) -> ValidationWindows {
        ValidationWindows {
            wall_ms: p.validation_valid_wall_ms,
            local_ms: p.validation_valid_local_ms,
            early_ms: p.validation_valid_early_ms,
            set_expires_ms: p.validation_set_expires_ms,
            freshness_ms: p.validation_freshness_ms,
        }
    }

    /// rippled `isCurrent`: signed within (now − early, now + wall) and, when seen, seen before
    /// now + local. Arithmetic saturates, so a hostile sign time cannot overflow it.
    pub fn is_current(&self, net_now: Time, sign_time: Time, seen: Option<Time>) -> bool {
        sign_time > net_now.plus(-self.early_ms)
            && sign_time < net_now.plus(self.wall_ms)
            && seen.is_none_or(|s| s < net_now.plus(self.local_ms))
    }
}

/// rippled `SeqEnforcer`: the largest sequence a validator validated, forgotten after
/// `set_expires` without a new one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SeqEnforcer {
    seq: Seq,
    when: Time,
}

impl SeqEnforcer {
    fn try_advance(&mut self, now: Time, s: Seq, expires_ms: i64) -> bool {
        if now.since(self.when) > expires_ms {
            self.seq = 0;
        }
        if s <= self.seq {
            return false;
        }
        self.seq = s;
        self.when = now;
        true
    }
}

/// What [`Validations::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// The validation's fate.
    pub status: ValStatus,
    /// Trusted full validations naming its ledger afterwards.
    pub full_count: usize,
    /// A ledger the trie waits for: fetch it (sequence, hash).
    pub acquire: Option<(Seq, Hash256)>,
}

/// Trusted validations and quorum arithmetic (rippled `Validations`). Serialized for engine
/// checkpoints as its maps; the trie is rebuilt from each validator's trie ledger on reading.
#[derive(Debug, Clone)]
pub struct Validations {
    windows: ValidationWindows,
    unl: BTreeSet<NodeId>,
    quorum: usize,
    /// Each validator's latest validation (rippled `current_`).
    current: BTreeMap<NodeId, Entry>,
    /// Every kept validation by ledger (rippled `byLedger_`).
    by_ledger: HashMap<Hash256, BTreeMap<NodeId, Entry>>,
    /// Every kept validation by validator and sequence (rippled `bySequence_`, per node).
    by_node: BTreeMap<NodeId, BTreeMap<Seq, Entry>>,
    enforcers: BTreeMap<NodeId, SeqEnforcer>,
    /// The ledger each validator supports in the trie (rippled `lastLedger_`).
    last_ledger: BTreeMap<NodeId, AncestryLedger>,
    /// Validators waiting for a ledger we lack (rippled `acquiring_`).
    acquiring: BTreeMap<(Seq, Hash256), BTreeSet<NodeId>>,
    /// Since when each waiting validator's latest ledger could not be placed.
    unplaced_since: BTreeMap<NodeId, Time>,
    trie: LedgerTrie<AncestryLedger>,
    /// (seq, validator) pairs caught signing two different validations.
    conflicting: BTreeSet<(Seq, NodeId)>,
    /// Validators caught doing so, with the latest such sequence: out of the trie.
    conflicted: BTreeMap<NodeId, Seq>,
    low: Seq,
}

/// `ceil(n * pct / 100)`, at least 1: the number of UNL validations that fully validate.
pub fn quorum_for(unl_size: usize, pct: i64) -> usize {
    ((unl_size as i64 * pct + 99) / 100).max(1) as usize
}

impl Validations {
    /// A tracker for `unl` with an 80 %-style quorum of `pct`.
    pub fn new(unl: BTreeSet<NodeId>, pct: i64, windows: ValidationWindows) -> Validations {
        let quorum = quorum_for(unl.len(), pct);
        Validations {
            windows,
            unl,
            quorum,
            current: BTreeMap::new(),
            by_ledger: HashMap::new(),
            by_node: BTreeMap::new(),
            enforcers: BTreeMap::new(),
            last_ledger: BTreeMap::new(),
            acquiring: BTreeMap::new(),
            unplaced_since: BTreeMap::new(),
            trie: LedgerTrie::new(),
            conflicting: BTreeSet::new(),
            conflicted: BTreeMap::new(),
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

    /// The currency windows.
    pub fn windows(&self) -> &ValidationWindows {
        &self.windows
    }

    /// rippled `Validations::add` for a trusted validator's validation, received at `now`
    /// (our clock) when our network time is `net_now`. `acquired` gives a ledger with its
    /// ancestry once we hold both.
    pub fn add(
        &mut self,
        v: &Validation,
        now: Time,
        net_now: Time,
        acquired: &mut dyn FnMut(&Hash256) -> Option<AncestryLedger>,
    ) -> Added {
        let mut out = Added {
            status: ValStatus::Current,
            full_count: 0,
            acquire: None,
        };
        if !self.windows.is_current(net_now, v.sign_time, Some(now)) {
            out.status = ValStatus::Stale;
            return out;
        }
        if v.seq < self.low {
            out.status = ValStatus::Old;
            return out;
        }
        let node = v.node;
        let entry = Entry::of(v, now);
        // By sequence: the first validation for a sequence stays, unless the new one was
        // signed more than the wall window after it (rippled's emplace-or-replace).
        let same_seq = self.by_node.get(&node).and_then(|m| m.get(&v.seq)).copied();
        let enforcer = self.enforcers.entry(node).or_default();
        if !enforcer.try_advance(now, v.seq, self.windows.set_expires_ms) {
            out.status = match same_seq {
                Some(old) if old.ledger != v.ledger || old.sign_time != v.sign_time => {
                    self.caught_conflicting(node, v.seq);
                    ValStatus::Conflicting
                }
                Some(old) if old.full == v.full => ValStatus::Duplicate,
                Some(_) => {
                    self.caught_conflicting(node, v.seq);
                    ValStatus::Conflicting
                }
                None => ValStatus::BadSeq,
            };
            out.full_count = self.count_for(&v.ledger);
            return out;
        }
        let replace = same_seq.is_none_or(|old| {
            v.sign_time.since(old.sign_time) > self.windows.wall_ms && v.sign_time > old.sign_time
        });
        if replace {
            if let Some(old) = same_seq {
                self.forget(node, &old);
            }
            let kept = self.by_node.entry(node).or_default();
            kept.insert(v.seq, entry);
            if kept.len() > MAX_PER_VALIDATOR
                && let Some((_, gone)) = kept.pop_first()
            {
                let gone_seq = gone.seq;
                Self::unindex(&mut self.by_ledger, node, &gone);
                if gone_seq == v.seq {
                    out.status = ValStatus::Old;
                    return out;
                }
            }
            self.by_ledger
                .entry(v.ledger)
                .or_default()
                .insert(node, entry);
        }
        out.full_count = self.count_for(&v.ledger);
        match self.current.get(&node).copied() {
            None => {
                self.current.insert(node, entry);
                out.acquire = self.update_trie(node, &entry, None, now, acquired);
            }
            Some(old) if v.sign_time > old.sign_time => {
                self.current.insert(node, entry);
                out.acquire = self.update_trie(node, &entry, Some(&old), now, acquired);
            }
            Some(_) => out.status = ValStatus::Stale,
        }
        out
    }

    fn unindex(by_ledger: &mut HashMap<Hash256, BTreeMap<NodeId, Entry>>, node: NodeId, e: &Entry) {
        if let Some(who) = by_ledger.get_mut(&e.ledger)
            && who.get(&node).is_some_and(|x| x.seq == e.seq)
        {
            who.remove(&node);
            if who.is_empty() {
                by_ledger.remove(&e.ledger);
            }
        }
    }

    fn forget(&mut self, node: NodeId, e: &Entry) {
        Self::unindex(&mut self.by_ledger, node, e);
    }

    /// rippled `updateTrie`: move `node`'s support to the ledger of `e` once it is acquired;
    /// until then its previous ledger keeps the support. Returns a ledger to fetch.
    /// `node` signed two different validations for `seq`: flagged, and its support leaves the
    /// trie for as long as the record is kept. The first validation stays counted toward the
    /// quorum, as in rippled, but a validator that shows different ledgers to different nodes
    /// would otherwise sit on different branches in different nodes' tries and could decide a
    /// near-tie differently for each (rippled keeps its support; found by the randomized
    /// healing sweep with an equivocating validator).
    fn caught_conflicting(&mut self, node: NodeId, seq: Seq) {
        self.conflicting.insert((seq, node));
        if self.conflicting.len() > MAX_PER_VALIDATOR * self.unl.len().max(1) {
            self.conflicting.pop_first();
        }
        let latest = self.conflicted.entry(node).or_insert(seq);
        *latest = (*latest).max(seq);
        self.unplaced_since.remove(&node);
        for waiting in self.acquiring.values_mut() {
            waiting.remove(&node);
        }
        self.acquiring.retain(|_, w| !w.is_empty());
        if let Some(l) = self.last_ledger.remove(&node) {
            self.trie.remove(&l, 1);
        }
    }

    fn update_trie(
        &mut self,
        node: NodeId,
        e: &Entry,
        prior: Option<&Entry>,
        now: Time,
        acquired: &mut dyn FnMut(&Hash256) -> Option<AncestryLedger>,
    ) -> Option<(Seq, Hash256)> {
        // Ledgers that arrived since are taken in first, so a validator whose validations
        // always come a moment before its ledgers still moves onto its previous ledger
        // (rippled drops it from the previous wait first and can leave it behind for good).
        self.check_acquired(acquired);
        if self.conflicted.contains_key(&node) {
            return None;
        }
        if let Some(p) = prior
            && let Some(waiting) = self.acquiring.get_mut(&(p.seq, p.ledger))
        {
            waiting.remove(&node);
            if waiting.is_empty() {
                self.acquiring.remove(&(p.seq, p.ledger));
            }
        }
        let key = (e.seq, e.ledger);
        if let Some(waiting) = self.acquiring.get_mut(&key) {
            waiting.insert(node);
            self.unplaced_since.entry(node).or_insert(now);
            return None;
        }
        match acquired(&e.ledger) {
            Some(l) => {
                self.move_support(node, l);
                None
            }
            None => {
                self.acquiring.entry(key).or_default().insert(node);
                self.unplaced_since.entry(node).or_insert(now);
                Some(key)
            }
        }
    }

    fn move_support(&mut self, node: NodeId, l: AncestryLedger) {
        self.unplaced_since.remove(&node);
        if let Some(old) = self.last_ledger.insert(node, l.clone()) {
            self.trie.remove(&old, 1);
        }
        self.trie.insert(&l, 1);
    }

    /// rippled `checkAcquired`: validators whose awaited ledger has arrived move onto it.
    pub fn check_acquired(&mut self, acquired: &mut dyn FnMut(&Hash256) -> Option<AncestryLedger>) {
        let ready: Vec<((Seq, Hash256), AncestryLedger)> = self
            .acquiring
            .keys()
            .filter_map(|k| acquired(&k.1).map(|l| (*k, l)))
            .collect();
        for (key, l) in ready {
            if let Some(nodes) = self.acquiring.remove(&key) {
                for n in nodes {
                    self.move_support(n, l.clone());
                }
            }
        }
    }

    /// Whether anyone waits for the ledger `hash`.
    pub fn awaits(&self, hash: &Hash256) -> bool {
        self.acquiring.keys().any(|(_, h)| h == hash)
    }

    /// Trusted validators whose latest validation names `ledger`, which we are still acquiring.
    pub fn acquiring_support(&self, ledger: &Hash256) -> usize {
        self.acquiring
            .iter()
            .filter(|((_, h), _)| h == ledger)
            .map(|(_, nodes)| nodes.len())
            .sum()
    }

    /// Ledgers the trie waits for (sequence, hash).
    pub fn awaited(&self) -> impl Iterator<Item = &(Seq, Hash256)> {
        self.acquiring.keys()
    }

    /// rippled `current(...)`: drops validators whose latest validation is no longer current
    /// (and their trie support). Also drops the trie support of a validator whose latest
    /// validated ledger we could not acquire for a freshness window: rippled keeps its previous
    /// ledger in the trie for as long as it keeps validating ledgers nobody can serve, so a
    /// validator signing unobtainable ledgers pins its old support wherever each node last saw
    /// it, and nodes that saw different "last" ledgers disagree on the preferred branch for
    /// good (found by the randomized healing sweep with a wrong-ledger validator).
    fn flush(&mut self, now: Time, net_now: Time) {
        let w = self.windows;
        let stale: Vec<(NodeId, Entry)> = self
            .current
            .iter()
            .filter(|(_, e)| !w.is_current(net_now, e.sign_time, Some(e.seen)))
            .map(|(n, e)| (*n, *e))
            .collect();
        for (n, e) in stale {
            self.current.remove(&n);
            self.unplaced_since.remove(&n);
            if let Some(l) = self.last_ledger.remove(&n) {
                self.trie.remove(&l, 1);
            }
            if let Some(waiting) = self.acquiring.get_mut(&(e.seq, e.ledger)) {
                waiting.remove(&n);
                if waiting.is_empty() {
                    self.acquiring.remove(&(e.seq, e.ledger));
                }
            }
        }
        let unplaceable: Vec<NodeId> = self
            .unplaced_since
            .iter()
            .filter(|(_, since)| now.since(**since) > w.freshness_ms)
            .map(|(n, _)| *n)
            .collect();
        for n in unplaceable {
            if let Some(l) = self.last_ledger.remove(&n) {
                self.trie.remove(&l, 1);
            }
        }
    }

    /// rippled `Validations::getPreferred(curr)` before the adaptor's choice: the trie's
    /// preferred ledger (stale validators flushed, arrived ledgers taken in first), or, when the
    /// trie is empty, the awaited ledger most validators wait for (ties to the larger hash).
    pub fn preferred(
        &mut self,
        now: Time,
        net_now: Time,
        largest_issued: Seq,
        acquired: &mut dyn FnMut(&Hash256) -> Option<AncestryLedger>,
    ) -> Option<(Seq, Hash256, Option<SpanTip<AncestryLedger>>)> {
        self.flush(now, net_now);
        self.check_acquired(acquired);
        if let Some(tip) = self.trie.get_preferred(largest_issued) {
            return Some((tip.seq, tip.id, Some(tip)));
        }
        self.acquiring
            .iter()
            .max_by_key(|((_, h), who)| (who.len(), *h))
            .map(|((s, h), _)| (*s, *h, None))
    }

    /// The heaviest tip of the trie (see [`LedgerTrie::get_heaviest`]), stale validators
    /// flushed and arrived ledgers taken in first. `None` when the trie is empty.
    pub fn heaviest(
        &mut self,
        now: Time,
        net_now: Time,
        acquired: &mut dyn FnMut(&Hash256) -> Option<AncestryLedger>,
    ) -> Option<SpanTip<AncestryLedger>> {
        self.flush(now, net_now);
        self.check_acquired(acquired);
        self.trie.get_heaviest()
    }

    /// rippled `getNodesAfter(ledger, id)`: trusted validators (partial or full, ourselves
    /// included) whose trie ledger is a strict descendant of `ledger`.
    pub fn nodes_after(&mut self, now: Time, net_now: Time, ledger: &AncestryLedger) -> usize {
        self.flush(now, net_now);
        let branch = self.trie.branch_support(ledger);
        let tip = self.trie.tip_support(ledger);
        (branch - tip) as usize
    }

    /// rippled `getNodesAfter` for a ledger we do not build on: validators whose trie ledger is
    /// a child of `parent`.
    pub fn children_of(&self, parent: &Hash256) -> usize {
        self.last_ledger
            .values()
            .filter(|l| l.seq() > 0 && l.ancestor(l.seq() - 1) == *parent)
            .count()
    }

    /// Trusted full validations naming exactly `ledger` (rippled `numTrustedForLedger`).
    pub fn count_for(&self, ledger: &Hash256) -> usize {
        self.by_ledger
            .get(ledger)
            .map_or(0, |m| m.values().filter(|e| e.full).count())
    }

    /// Who fully validated `ledger`.
    pub fn validators_of(&self, ledger: &Hash256) -> Vec<NodeId> {
        self.by_ledger.get(ledger).map_or_else(Vec::new, |m| {
            m.iter().filter(|(_, e)| e.full).map(|(n, _)| *n).collect()
        })
    }

    /// Ledgers with at least a quorum of full validations above `seq`, highest first (ties by
    /// hash).
    pub fn quorum_ledgers_above(&self, seq: Seq) -> Vec<(Seq, Hash256)> {
        let mut out: Vec<(Seq, Hash256)> = self
            .by_ledger
            .iter()
            .filter_map(|(h, who)| {
                let s = who.values().next()?.seq;
                let full = who.values().filter(|e| e.full).count();
                (s > seq && full >= self.quorum).then_some((s, *h))
            })
            .collect();
        out.sort_by(|a, b| b.cmp(a));
        out
    }

    /// `(laggards, offline)` among the UNL relative to our ledger `seq` (rippled
    /// `Validations::laggards`): validators seen within the freshness window whose latest
    /// validation is behind `seq`, and the validators not seen within it.
    pub fn laggards(&mut self, seq: Seq, now: Time, net_now: Time) -> (usize, usize) {
        self.flush(now, net_now);
        self.laggards_view(seq, now, net_now)
    }

    /// `(laggards, offline)` as [`Self::laggards`] computes them, without flushing (for views).
    pub fn laggards_view(&self, seq: Seq, now: Time, net_now: Time) -> (usize, usize) {
        let fresh = self.windows.freshness_ms;
        let mut laggards = 0;
        let mut offline = 0;
        for id in &self.unl {
            match self.current.get(id) {
                Some(e)
                    if now.since(e.seen) < fresh
                        && self.windows.is_current(net_now, e.sign_time, Some(e.seen)) =>
                {
                    if e.seq < seq {
                        laggards += 1;
                    }
                }
                _ => offline += 1,
            }
        }
        (laggards, offline)
    }

    /// `node`'s latest validation, if it is still held.
    pub fn latest(&self, node: &NodeId) -> Option<&Entry> {
        self.current.get(node)
    }

    /// The latest sequence `node` validated (full or partial).
    pub fn latest_seq(&self, node: &NodeId) -> Option<Seq> {
        self.current.get(node).map(|e| e.seq)
    }

    /// The ledger `node` validated at `seq`, if any.
    pub fn validated_at(&self, node: &NodeId, seq: Seq) -> Option<Hash256> {
        self.by_node
            .get(node)
            .and_then(|m| m.get(&seq))
            .map(|e| e.ledger)
    }

    /// When the validation `node` signed at `seq` was seen.
    pub fn seen_at(&self, node: &NodeId, seq: Seq) -> Option<Time> {
        self.by_node
            .get(node)
            .and_then(|m| m.get(&seq))
            .map(|e| e.seen)
    }

    /// The ledger `node` supports in the trie.
    pub fn trie_ledger(&self, node: &NodeId) -> Option<(Seq, Hash256)> {
        self.last_ledger.get(node).map(|l| (l.seq(), l.id()))
    }

    /// The trie (read-only), for views and tests.
    pub fn trie(&self) -> &LedgerTrie<AncestryLedger> {
        &self.trie
    }

    /// Validations held (all validators), for the memory report.
    pub fn held(&self) -> usize {
        self.by_node.values().map(BTreeMap::len).sum()
    }

    /// The most [`Validations::held`] can reach.
    pub fn bound(&self) -> usize {
        // Our own validations count too, whether or not we are on our UNL.
        MAX_PER_VALIDATOR * (self.unl.len() + 1)
    }

    /// Forgets validations below `seq` (they can no longer matter: the ledgers are pruned).
    pub fn prune_below(&mut self, seq: Seq) {
        if seq <= self.low {
            return;
        }
        self.low = seq;
        for m in self.by_node.values_mut() {
            *m = m.split_off(&seq);
        }
        self.by_node.retain(|_, m| !m.is_empty());
        self.by_ledger
            .retain(|_, who| who.values().next().is_some_and(|e| e.seq >= seq));
        self.acquiring = self.acquiring.split_off(&(seq, Hash256::ZERO));
        self.conflicting = self.conflicting.split_off(&(seq, NodeId([0; 32])));
        self.conflicted.retain(|_, s| *s >= seq);
    }

    /// Whether `node` signed two different validations for `seq`.
    pub fn conflicted(&self, node: &NodeId, seq: Seq) -> bool {
        self.conflicting.contains(&(seq, *node))
    }
}

/// The serialized form: every map, and each validator's trie ledger as its hashes. The trie is
/// rebuilt from those, so a restored tracker answers exactly as the one saved.
#[derive(Serialize, Deserialize)]
struct Stored {
    windows: ValidationWindows,
    unl: BTreeSet<NodeId>,
    quorum: usize,
    current: BTreeMap<NodeId, Entry>,
    by_node: BTreeMap<NodeId, BTreeMap<Seq, Entry>>,
    enforcers: BTreeMap<NodeId, SeqEnforcer>,
    last_ledger: BTreeMap<NodeId, (Seq, Hash256, Vec<Hash256>)>,
    acquiring: Vec<((Seq, Hash256), BTreeSet<NodeId>)>,
    unplaced_since: BTreeMap<NodeId, Time>,
    conflicting: BTreeSet<(Seq, NodeId)>,
    conflicted: BTreeMap<NodeId, Seq>,
    low: Seq,
}

impl Serialize for Validations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Stored {
            windows: self.windows,
            unl: self.unl.clone(),
            quorum: self.quorum,
            current: self.current.clone(),
            by_node: self.by_node.clone(),
            enforcers: self.enforcers.clone(),
            last_ledger: self
                .last_ledger
                .iter()
                .map(|(n, l)| {
                    (
                        *n,
                        (
                            l.seq(),
                            l.id(),
                            (l.min_seq()..l.seq()).map(|s| l.ancestor(s)).collect(),
                        ),
                    )
                })
                .collect(),
            acquiring: self
                .acquiring
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            unplaced_since: self.unplaced_since.clone(),
            conflicting: self.conflicting.clone(),
            conflicted: self.conflicted.clone(),
            low: self.low,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Validations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = Stored::deserialize(deserializer)?;
        let mut by_ledger: HashMap<Hash256, BTreeMap<NodeId, Entry>> = HashMap::new();
        for (node, m) in &s.by_node {
            for e in m.values() {
                by_ledger.entry(e.ledger).or_default().insert(*node, *e);
            }
        }
        let mut trie = LedgerTrie::new();
        let mut last_ledger = BTreeMap::new();
        for (node, (seq, id, ancestors)) in s.last_ledger {
            if ancestors.len() > super::ledger_trie::MAX_ANCESTORS {
                return Err(D::Error::custom("validations: too many ancestor hashes"));
            }
            let l = AncestryLedger::from_hashes(seq, id, &ancestors);
            trie.insert(&l, 1);
            last_ledger.insert(node, l);
        }
        Ok(Validations {
            windows: s.windows,
            unl: s.unl,
            quorum: s.quorum,
            current: s.current,
            by_ledger,
            by_node: s.by_node,
            enforcers: s.enforcers,
            last_ledger,
            acquiring: s.acquiring.into_iter().collect(),
            unplaced_since: s.unplaced_since,
            trie,
            conflicting: s.conflicting,
            conflicted: s.conflicted,
            low: s.low,
        })
    }
}

#[cfg(test)]
#[path = "validations_tests.rs"]
mod tests;
