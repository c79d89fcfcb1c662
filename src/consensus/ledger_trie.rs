//! The ledger ancestry trie: how many trusted validators support each recent ledger and each
//! branch, and which ledger they prefer, ported from rippled's `LedgerTrie`.
//!
//! A ledger at sequence `s` is seen as the string of its ancestors' ids indexed by sequence
//! (genesis at 0, the ledger itself at `s`). Ledgers sharing a prefix share history, so all the
//! ledgers validators vote for form a trie over those strings. The trie is *compressed*: a run of
//! ledgers with no branching and no tip support in between is one node holding a span (a
//! half-open sequence range over one ledger's ancestry). Every node counts its *tip* support
//! (validators whose latest validation is exactly its last ledger) and its *branch* support (tip
//! plus all descendants), which is what [`LedgerTrie::get_preferred`] needs to decide which branch
//! the network is converging on without ever materialising individual ledgers.
//!
//! Why a trie and not a map of tips: the preferred-ledger rule is about *branches*. A vote for a
//! descendant also supports every ancestor, and validators that are behind ("uncommitted") can
//! still end up on any branch, so the walk needs branch totals and the tip support per sequence at
//! every fork; the compressed trie keeps both at O(depth) per update.
//!
//! The trie is generic over [`TrieLedger`] so it can be tested on tiny string ledgers (as
//! rippled's csf does) and used by the engine with [`AncestryLedger`], which carries up to 256
//! ancestor hashes like rippled's `RCLValidatedLedger` skip list.
//!
//! Deliberate differences from rippled, each needed because of a Rust or cpeers detail:
//! - Our genesis is a real ledger at sequence 0 (rippled's is at 1 and the trie root is a virtual
//!   seq-0 ledger with id 0). The root therefore matches *any* seq-0 ledger in
//!   [`LedgerTrie::remove`], [`LedgerTrie::tip_support`] and [`LedgerTrie::branch_support`]
//!   (rippled compares ids, which would make the real genesis unremovable), and inserting a seq-0
//!   ledger makes it the root's ledger so [`LedgerTrie::get_preferred`] reports its real id.
//! - [`LedgerTrie::get_preferred`] takes `&self`: rippled partially sorts a node's children in
//!   place while choosing the best child, which only reorders siblings; we pick the best two
//!   without reordering. Child order is otherwise kept exactly as rippled keeps it (appended on
//!   insert, swap-removed on erase), since [`LedgerTrie::remove`]'s search and the dump follow it.
//! - Span bounds are `u64`, so a ledger at `Seq::MAX` (whose span ends at `Seq::MAX + 1`) cannot
//!   overflow; [`mismatch`] returns `u64` for the same reason.
//! - Counts never overflow: [`LedgerTrie::insert`] clamps the count to what keeps the total
//!   support within `u32`, and a zero count is a no-op (rippled would leave a zero-support node
//!   behind and break its own invariant).
//! - [`LedgerTrie::get_heaviest`] is a cpeers addition: the engine follows it only to recover
//!   from a stall. [`LedgerTrie::get_preferred`] is rippled's rule unchanged.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::hash::Hash256;
use super::history::LedgerHistory;
use super::ledger::{Ledger, Seq};

/// A ledger as the trie sees it: a sequence number, an id, and the ids of (some of) its
/// ancestors.
///
/// Ancestry must be unique and prefix-closed on what is known: if two ledgers have the same id at
/// sequence `s`, they have the same ids at every known sequence below `s`. A ledger may know only
/// a window `[min_seq, seq]` of its ancestry; outside it `ancestor` returns a fixed "unknown" id.
pub trait TrieLedger: Clone {
    /// Ledger identifier. Ordered because ties between branches go to the larger start id.
    type Id: Copy + Ord + Eq + std::hash::Hash + fmt::Debug;

    /// The ledger at sequence 0 that every chain descends from (the trie's root). It may be a
    /// placeholder whose id is the unknown id; see [`LedgerTrie::with_genesis`].
    fn genesis() -> Self;

    /// Sequence number.
    fn seq(&self) -> Seq;

    /// This ledger's id.
    fn id(&self) -> Self::Id;

    /// Id of the ancestor at sequence `s` (this ledger's own id at `s == seq`), or the fixed
    /// unknown id when `s` is outside `[min_seq, seq]`.
    fn ancestor(&self, s: Seq) -> Self::Id;

    /// The lowest sequence whose ancestor id is known. 0 when the whole ancestry is known.
    fn min_seq(&self) -> Seq;
}

/// The first sequence at which the ancestries of `a` and `b` may differ (rippled `mismatch`).
///
/// Only the window both ledgers know, `[max(min_seq), min(seq)]`, is compared. Within it
/// ancestry is prefix-closed, so this binary-searches it. When the window is empty or differs
/// entirely, the ledgers are assumed to part right after genesis and the answer is 1: two ledgers
/// whose shared history is out of sight are treated as different branches rather than merged,
/// which can under-count support for one chain (until better ancestry is known) but never adds
/// support to a ledger nobody voted for. The answer is never 0, because every chain shares the
/// genesis. It is at most `min(seq) + 1`, hence `u64`.
pub fn mismatch<L: TrieLedger>(a: &L, b: &L) -> u64 {
    let lower = a.min_seq().max(b.min_seq());
    let upper = a.seq().min(b.seq());
    if lower > upper {
        return 1;
    }
    // Invariant: equal on [lower, lo), and either hi == upper + 1 or they differ at hi.
    let mut lo = u64::from(lower);
    let mut hi = u64::from(upper) + 1;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let s = to_seq(mid);
        if a.ancestor(s) == b.ancestor(s) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if lo == u64::from(lower) { 1 } else { lo }
}

/// A span position that is known to be a real sequence number.
fn to_seq(pos: u64) -> Seq {
    Seq::try_from(pos).expect("span positions below a ledger's end are sequence numbers")
}

/// The tip of a span: the ledger [`LedgerTrie::get_preferred`] answers with.
#[derive(Clone)]
pub struct SpanTip<L: TrieLedger> {
    /// Sequence of the tip ledger.
    pub seq: Seq,
    /// Id of the tip ledger.
    pub id: L::Id,
    ledger: L,
}

impl<L: TrieLedger> SpanTip<L> {
    /// Id of the tip's ancestor at `s` (the tip itself at `s == seq`), or `None` above the tip.
    /// Below what the ledger knows it is the ledger type's unknown id.
    pub fn ancestor(&self, s: Seq) -> Option<L::Id> {
        (s <= self.seq).then(|| self.ledger.ancestor(s))
    }

    /// A ledger whose ancestry contains the tip. It may be a *descendant* of the tip (a span's
    /// prefix keeps the longer ledger it was cut from), so ask it only about sequences up to
    /// [`SpanTip::seq`].
    pub fn ledger(&self) -> &L {
        &self.ledger
    }
}

impl<L: TrieLedger> PartialEq for SpanTip<L> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq && self.id == other.id
    }
}

impl<L: TrieLedger> Eq for SpanTip<L> {}

impl<L: TrieLedger> fmt::Debug for SpanTip<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanTip({:?}@{})", self.id, self.seq)
    }
}

/// The half-open sequence range `[start, end)` of one ledger's ancestry. `ledger.seq() + 1 >=
/// end`: a prefix cut from a longer span keeps the longer ledger.
#[derive(Clone)]
struct Span<L> {
    start: u64,
    end: u64,
    ledger: L,
}

impl<L: TrieLedger> Span<L> {
    /// The root span: just genesis.
    fn root(genesis: L) -> Span<L> {
        Span {
            start: 0,
            end: 1,
            ledger: genesis,
        }
    }

    /// A ledger's whole ancestry, genesis included.
    fn of(ledger: &L) -> Span<L> {
        Span {
            start: 0,
            end: u64::from(ledger.seq()) + 1,
            ledger: ledger.clone(),
        }
    }

    fn clamp(&self, v: u64) -> u64 {
        v.max(self.start).min(self.end)
    }

    /// `[from, to)` intersected with this span, if not empty.
    fn sub(&self, from: u64, to: u64) -> Option<Span<L>> {
        let (from, to) = (self.clamp(from), self.clamp(to));
        (from < to).then(|| Span {
            start: from,
            end: to,
            ledger: self.ledger.clone(),
        })
    }

    /// `[spot, end)`, if not empty.
    fn from(&self, spot: u64) -> Option<Span<L>> {
        self.sub(spot, self.end)
    }

    /// `[start, spot)`, if not empty.
    fn before(&self, spot: u64) -> Option<Span<L>> {
        self.sub(self.start, spot)
    }

    /// Id of the first ledger in the span: what siblings are told apart (and tie-broken) by.
    fn start_id(&self) -> L::Id {
        self.ledger.ancestor(to_seq(self.start))
    }

    /// First position in `[start, end]` where `other` may leave this span.
    fn diff(&self, other: &L) -> u64 {
        self.clamp(mismatch(&self.ledger, other))
    }

    fn tip_seq(&self) -> Seq {
        to_seq(self.end - 1)
    }

    fn tip_id(&self) -> L::Id {
        self.ledger.ancestor(self.tip_seq())
    }

    fn tip(&self) -> SpanTip<L> {
        let seq = self.tip_seq();
        SpanTip {
            seq,
            id: self.ledger.ancestor(seq),
            ledger: self.ledger.clone(),
        }
    }

    /// The span covering both (which must be adjacent), over the ledger of the one reaching
    /// further.
    fn merge(a: &Span<L>, b: &Span<L>) -> Span<L> {
        let ledger = if a.end < b.end { &b.ledger } else { &a.ledger };
        Span {
            start: a.start.min(b.start),
            end: a.end.max(b.end),
            ledger: ledger.clone(),
        }
    }
}

/// Index of a node in the arena. The root is always [`ROOT`].
type NodeIx = usize;

const ROOT: NodeIx = 0;

#[derive(Clone)]
struct Node<L> {
    span: Span<L>,
    /// Validators whose latest ledger is this span's tip.
    tip: u32,
    /// `tip` plus the children's `branch`.
    branch: u32,
    /// In rippled's order: appended on insert, swap-removed on erase.
    children: Vec<NodeIx>,
    /// `None` only for the root.
    parent: Option<NodeIx>,
}

/// Compressed ancestry trie of the ledgers validators currently support.
///
/// Nodes live in an arena (`Vec` slots plus a free list) so parent links are plain indices. Every
/// operation is O(depth × children) except the id lookups in [`LedgerTrie::remove`],
/// [`LedgerTrie::tip_support`] and [`LedgerTrie::branch_support`], which, as in rippled, search
/// every node (a ledger's id alone does not say where it is).
#[derive(Clone)]
pub struct LedgerTrie<L: TrieLedger> {
    nodes: Vec<Option<Node<L>>>,
    free: Vec<NodeIx>,
    /// Total tip support per tip sequence, ordered: the preferred-ledger walk consumes it in
    /// sequence order as "uncommitted" support.
    seq_support: BTreeMap<Seq, u32>,
}

impl<L: TrieLedger> Default for LedgerTrie<L> {
    fn default() -> Self {
        LedgerTrie::new()
    }
}

impl<L: TrieLedger> LedgerTrie<L> {
    /// An empty trie rooted at [`TrieLedger::genesis`].
    pub fn new() -> LedgerTrie<L> {
        LedgerTrie::with_genesis(L::genesis())
    }

    /// An empty trie whose root is `genesis` (a seq-0 ledger), so a preferred ledger at the root
    /// is reported with genesis's real id even before anyone validates genesis itself.
    pub fn with_genesis(genesis: L) -> LedgerTrie<L> {
        debug_assert_eq!(genesis.seq(), 0, "the trie root is a seq-0 ledger");
        LedgerTrie {
            nodes: vec![Some(Node {
                span: Span::root(genesis),
                tip: 0,
                branch: 0,
                children: Vec::new(),
                parent: None,
            })],
            free: Vec::new(),
            seq_support: BTreeMap::new(),
        }
    }

    fn node(&self, ix: NodeIx) -> &Node<L> {
        self.nodes
            .get(ix)
            .and_then(Option::as_ref)
            .expect("node indices held by the trie are live")
    }

    fn node_mut(&mut self, ix: NodeIx) -> &mut Node<L> {
        self.nodes
            .get_mut(ix)
            .and_then(Option::as_mut)
            .expect("node indices held by the trie are live")
    }

    fn alloc(&mut self, node: Node<L>) -> NodeIx {
        match self.free.pop() {
            Some(ix) => {
                self.nodes[ix] = Some(node);
                ix
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        }
    }

    fn release(&mut self, ix: NodeIx) {
        self.nodes[ix] = None;
        self.free.push(ix);
    }

    /// Position of `child` in `parent`'s children.
    fn child_pos(&self, parent: NodeIx, child: NodeIx) -> usize {
        self.node(parent)
            .children
            .iter()
            .position(|&c| c == child)
            .expect("a node is among its parent's children")
    }

    /// The node sharing the longest ancestry with `ledger`, and the first position at which they
    /// may differ. Descends while the whole span matches, into the first child that matches
    /// further (siblings differ at their start, so normally at most one does).
    fn find(&self, ledger: &L) -> (NodeIx, u64) {
        let mut curr = ROOT;
        let mut pos = self.node(curr).span.diff(ledger);
        'descend: while pos == self.node(curr).span.end {
            for &child in &self.node(curr).children {
                let child_pos = self.node(child).span.diff(ledger);
                if child_pos > pos {
                    pos = child_pos;
                    curr = child;
                    continue 'descend;
                }
            }
            break;
        }
        (curr, pos)
    }

    /// The node whose tip is exactly `ledger`, searched depth-first in child order like rippled.
    /// The root stands for every seq-0 ledger (see the module docs).
    fn find_by_id(&self, ledger: &L) -> Option<NodeIx> {
        if ledger.seq() == 0 {
            return Some(ROOT);
        }
        let id = ledger.id();
        let mut stack = vec![ROOT];
        while let Some(ix) = stack.pop() {
            let node = self.node(ix);
            if ix != ROOT && node.span.tip_id() == id {
                return Some(ix);
            }
            stack.extend(node.children.iter().rev());
        }
        None
    }

    /// Adds `count` validators' support for `ledger` (and so for all its ancestors).
    ///
    /// Splits the node where `ledger` leaves an existing span (the prefix keeps the shared part,
    /// a new child takes the rest with the old support and children) and hangs the part of
    /// `ledger` beyond the trie off as a new child. `count` is clamped so the total support stays
    /// within `u32`; a count of 0 changes nothing.
    pub fn insert(&mut self, ledger: &L, count: u32) {
        let count = count.min(u32::MAX - self.node(ROOT).branch);
        if count == 0 {
            return;
        }
        if ledger.seq() == 0 {
            self.node_mut(ROOT).span.ledger = ledger.clone();
        }
        let (loc, diff) = self.find(ledger);
        let mut inc = loc;

        let loc_span = self.node(loc).span.clone();
        let prefix = loc_span.before(diff);
        let old_suffix = loc_span.from(diff);
        let new_suffix = Span::of(ledger).from(diff);

        if let Some(old_suffix) = old_suffix {
            // `ledger` leaves (or ends) inside loc's span: loc keeps the shared prefix with no
            // tip support, and a new child takes over the rest of the span, the support and
            // the children.
            let prefix = prefix.expect("find only stops inside a span past its first ledger");
            let loc_node = self.node_mut(loc);
            let moved = Node {
                span: old_suffix,
                tip: loc_node.tip,
                branch: loc_node.branch,
                children: std::mem::take(&mut loc_node.children),
                parent: Some(loc),
            };
            loc_node.span = prefix;
            loc_node.tip = 0;
            let grandchildren = moved.children.clone();
            let moved_ix = self.alloc(moved);
            for c in grandchildren {
                self.node_mut(c).parent = Some(moved_ix);
            }
            self.node_mut(loc).children.push(moved_ix);
        }
        if let Some(new_suffix) = new_suffix {
            // `ledger` goes beyond loc: its remaining ancestry becomes a new child.
            let new_ix = self.alloc(Node {
                span: new_suffix,
                tip: 0,
                branch: 0,
                children: Vec::new(),
                parent: Some(loc),
            });
            self.node_mut(loc).children.push(new_ix);
            inc = new_ix;
        }

        self.node_mut(inc).tip += count;
        let mut curr = Some(inc);
        while let Some(ix) = curr {
            let node = self.node_mut(ix);
            node.branch += count;
            curr = node.parent;
        }
        *self.seq_support.entry(ledger.seq()).or_insert(0) += count;
    }

    /// Takes away up to `count` validators' support for exactly `ledger` (clamped to its tip
    /// support), then compacts: a childless node left with no tip support is erased, and one
    /// with a single child is merged into that child, repeatedly up towards the root.
    ///
    /// Returns false, changing nothing, if `ledger` is not a tip in the trie or has no tip
    /// support (support for a descendant is not support to remove).
    pub fn remove(&mut self, ledger: &L, count: u32) -> bool {
        let Some(mut loc) = self.find_by_id(ledger) else {
            return false;
        };
        let tip = self.node(loc).tip;
        if tip == 0 {
            return false;
        }
        let count = count.min(tip);
        self.node_mut(loc).tip -= count;

        let seq = self.node(loc).span.tip_seq();
        let at_seq = self
            .seq_support
            .get_mut(&seq)
            .expect("every tip's support is counted at its sequence");
        *at_seq -= count;
        if *at_seq == 0 {
            self.seq_support.remove(&seq);
        }

        let mut curr = Some(loc);
        while let Some(ix) = curr {
            let node = self.node_mut(ix);
            node.branch -= count;
            curr = node.parent;
        }

        while loc != ROOT && self.node(loc).tip == 0 {
            let parent = self.node(loc).parent.expect("only the root has no parent");
            let pos = self.child_pos(parent, loc);
            match self.node(loc).children.as_slice() {
                [] => {
                    self.node_mut(parent).children.swap_remove(pos);
                }
                &[child] => {
                    // rippled appends the child to the parent and swap-removes loc, which puts
                    // the child exactly where loc was.
                    let merged = Span::merge(&self.node(loc).span, &self.node(child).span);
                    let child_node = self.node_mut(child);
                    child_node.span = merged;
                    child_node.parent = Some(parent);
                    self.node_mut(parent).children[pos] = child;
                }
                _ => break,
            }
            self.release(loc);
            loc = parent;
        }
        true
    }

    /// How many validators support exactly `ledger` (0 if it is not a tip in the trie).
    pub fn tip_support(&self, ledger: &L) -> u32 {
        self.find_by_id(ledger).map_or(0, |ix| self.node(ix).tip)
    }

    /// How many validators support `ledger` or a descendant of it.
    pub fn branch_support(&self, ledger: &L) -> u32 {
        if let Some(ix) = self.find_by_id(ledger) {
            return self.node(ix).branch;
        }
        // Not a node's tip: it may still lie inside a span, i.e. be a proper prefix of the
        // node's ledger, in which case it has that node's branch support.
        let (ix, diff) = self.find(ledger);
        let seq = u64::from(ledger.seq());
        let node = self.node(ix);
        if diff > seq && seq < node.span.end {
            node.branch
        } else {
            0
        }
    }

    /// The preferred ledger: the one the trusted validators are converging on, or `None` if
    /// nobody supports anything.
    ///
    /// Walks down from genesis. Validators whose latest ledger is below the sequence being
    /// decided are *uncommitted*: they may still validate any ledger there, even one we have not
    /// seen, so a branch is taken only if its lead cannot be overturned by them. `largest_issued`
    /// is the highest sequence we have validated ourselves: everyone below it counts as
    /// uncommitted too, because we may have validated a different branch there and peers who
    /// have not heard from us yet could still follow us; this is what stops us from switching to
    /// a branch whose lead could still be erased.
    ///
    /// Along a span (no fork) we advance while the span's support exceeds the uncommitted
    /// support, absorbing each sequence's tip support as we pass it. At a fork the best child
    /// (most branch support, ties to the larger start id) is taken if its margin over the
    /// runner-up exceeds the uncommitted support (or nobody is uncommitted); when the best child
    /// also owns the tie-break, the runner-up needs one more vote to overtake it, so the margin
    /// counts one more.
    pub fn get_preferred(&self, largest_issued: Seq) -> Option<SpanTip<L>> {
        if self.empty() {
            return None;
        }
        let largest_issued = u64::from(largest_issued);
        let mut curr = ROOT;
        let mut uncommitted: u64 = 0;
        let mut pending = self.seq_support.iter().peekable();

        loop {
            let node = self.node(curr);
            let span = &node.span;
            let branch = u64::from(node.branch);

            let mut next_seq = span.start + 1;
            while let Some(&(&s, &n)) = pending.peek() {
                if u64::from(s) >= next_seq.max(largest_issued) {
                    break;
                }
                uncommitted += u64::from(n);
                pending.next();
            }

            while next_seq < span.end && branch > uncommitted {
                match pending.peek() {
                    // Jump to the next sequence where someone's latest ledger sits, which
                    // becomes uncommitted for everything after it.
                    Some(&(&s, &n)) if u64::from(s) < span.end => {
                        next_seq = u64::from(s) + 1;
                        uncommitted += u64::from(n);
                        pending.next();
                    }
                    _ => next_seq = span.end,
                }
            }
            if next_seq < span.end {
                // Stopped inside the span: its ledger before `next_seq` is preferred.
                return Some(
                    span.before(next_seq)
                        .expect("start < next_seq < end leaves a non-empty prefix")
                        .tip(),
                );
            }

            let (best, margin) = match node.children.as_slice() {
                [] => break,
                &[only] => (only, u64::from(self.node(only).branch)),
                children => {
                    let (best, second) = self.best_two(children);
                    let (b, s) = (self.node(best), self.node(second));
                    let mut margin = u64::from(b.branch - s.branch);
                    if b.span.start_id() > s.span.start_id() {
                        margin += 1;
                    }
                    (best, margin)
                }
            };
            if margin > uncommitted || uncommitted == 0 {
                curr = best;
            } else {
                break;
            }
        }
        Some(self.node(curr).span.tip())
    }

    /// The heaviest tip: from the root, at every fork into the child with the most branch
    /// support (ties to the larger start id), and along a chain into the next ledger only while
    /// at least as many validators went on to it as stopped here ("heaviest observed subtree", with no
    /// uncommitted-support guard). A cpeers addition: the engine follows it only to recover
    /// from a stall (see the engine's `preferred_prev_ledger`). Every validator that sees the
    /// same latest validations gets the same answer, whatever its own position, and a few
    /// validators (or one byzantine one) running ahead on their own do not drag everyone after
    /// them.
    pub fn get_heaviest(&self) -> Option<SpanTip<L>> {
        if self.empty() {
            return None;
        }
        let mut curr = ROOT;
        loop {
            let node = self.node(curr);
            curr = match node.children.as_slice() {
                [] => break,
                &[only] if self.node(only).branch >= node.tip.max(2) => only,
                [_] => break,
                children => self.best_two(children).0,
            };
        }
        Some(self.node(curr).span.tip())
    }

    /// The best and second-best of at least two children by (branch support, start id),
    /// largest first. Exact ties (only possible between unknown start ids) keep child order.
    fn best_two(&self, children: &[NodeIx]) -> (NodeIx, NodeIx) {
        let key = |ix: NodeIx| {
            let n = self.node(ix);
            (n.branch, n.span.start_id())
        };
        let (mut best, mut second) = if key(children[1]) > key(children[0]) {
            (children[1], children[0])
        } else {
            (children[0], children[1])
        };
        for &c in &children[2..] {
            if key(c) > key(best) {
                second = best;
                best = c;
            } else if key(c) > key(second) {
                second = c;
            }
        }
        (best, second)
    }

    /// Whether no ledger (not even genesis) has support.
    pub fn empty(&self) -> bool {
        self.node(ROOT).branch == 0
    }

    /// Total tip support per sequence.
    pub fn seq_support(&self) -> &BTreeMap<Seq, u32> {
        &self.seq_support
    }

    /// Checks the trie's invariants, describing the first one broken: every non-root node with
    /// no tip support has at least two children (the compression), branch support is tip plus
    /// children's branch, the per-sequence support matches the tips, children start where their
    /// parent ends and point back to it, and every live arena slot is reachable exactly once.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut expected_seq_support: BTreeMap<Seq, u32> = BTreeMap::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = vec![ROOT];
        let root = self.nodes.get(ROOT).and_then(Option::as_ref);
        match root {
            None => return Err("the root slot is empty".into()),
            Some(r) if r.span.start != 0 || r.span.end != 1 || r.parent.is_some() => {
                return Err("the root is not the parentless genesis span [0,1)".into());
            }
            Some(_) => {}
        }
        while let Some(ix) = stack.pop() {
            let Some(node) = self.nodes.get(ix).and_then(Option::as_ref) else {
                return Err(format!("node {ix} is referenced but not live"));
            };
            if std::mem::replace(&mut seen[ix], true) {
                return Err(format!("node {ix} is reachable twice"));
            }
            let span = &node.span;
            if span.start >= span.end || u64::from(span.ledger.seq()) + 1 < span.end {
                return Err(format!(
                    "node {ix} has a bad span [{},{}) over a seq-{} ledger",
                    span.start,
                    span.end,
                    span.ledger.seq()
                ));
            }
            if ix != ROOT && node.tip == 0 && node.children.len() < 2 {
                return Err(format!(
                    "node {ix} ({:?}) has no tip support and {} child(ren)",
                    span.tip_id(),
                    node.children.len()
                ));
            }
            let mut support = u64::from(node.tip);
            if node.tip != 0 {
                *expected_seq_support.entry(span.tip_seq()).or_insert(0) += node.tip;
            }
            for &c in &node.children {
                let Some(child) = self.nodes.get(c).and_then(Option::as_ref) else {
                    return Err(format!("node {ix} has a dead child {c}"));
                };
                if child.parent != Some(ix) {
                    return Err(format!("node {c} does not point back to its parent {ix}"));
                }
                if child.span.start != span.end {
                    return Err(format!(
                        "node {c} starts at {} but its parent {ix} ends at {}",
                        child.span.start, span.end
                    ));
                }
                support += u64::from(child.branch);
                stack.push(c);
            }
            if support != u64::from(node.branch) {
                return Err(format!(
                    "node {ix} has branch support {} but tip plus children make {support}",
                    node.branch
                ));
            }
        }
        let live = self.nodes.iter().filter(|n| n.is_some()).count();
        if seen.iter().filter(|&&s| s).count() != live {
            return Err("some live nodes are unreachable from the root".into());
        }
        if self
            .free
            .iter()
            .any(|&f| self.nodes.get(f).is_none_or(Option::is_some))
        {
            return Err("the free list holds a live or missing slot".into());
        }
        if self.free.len() + live != self.nodes.len() {
            return Err("free list and live nodes do not account for every slot".into());
        }
        if expected_seq_support != self.seq_support {
            return Err(format!(
                "seq support {:?} does not match the tips {:?}",
                self.seq_support, expected_seq_support
            ));
        }
        Ok(())
    }

    /// A multi-line picture of the trie, one node per line as `tip-id[start,end)(T:tip,B:branch)`
    /// indented under its parent, then the per-sequence support. Same as the `Debug` output.
    pub fn dump(&self) -> String {
        format!("{self:?}")
    }
}

impl<L: TrieLedger> fmt::Debug for LedgerTrie<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "LedgerTrie")?;
        let mut stack = vec![(ROOT, 0usize)];
        while let Some((ix, depth)) = stack.pop() {
            let Some(node) = self.nodes.get(ix).and_then(Option::as_ref) else {
                writeln!(f, "{:width$}|-<dead node {ix}>", "", width = 2 * depth)?;
                continue;
            };
            let branch = if depth == 0 { "" } else { "|-" };
            writeln!(
                f,
                "{:width$}{branch}{:?}[{},{})(T:{},B:{})",
                "",
                node.span.tip_id(),
                node.span.start,
                node.span.end,
                node.tip,
                node.branch,
                width = 2 * depth
            )?;
            for &c in node.children.iter().rev() {
                stack.push((c, depth + 1));
            }
        }
        write!(f, "seq support: {:?}", self.seq_support)
    }
}

/// How many ancestor hashes an [`AncestryLedger`] keeps, like rippled's skip list.
pub const MAX_ANCESTORS: usize = 256;

/// A cpeers ledger as the trie sees it: its sequence, hash, and the hashes of up to
/// [`MAX_ANCESTORS`] ancestors, like rippled's `RCLValidatedLedger`. Cheap to clone (the hashes
/// are shared).
///
/// Ancestors outside the known window read as [`Hash256::ZERO`]. The window is shorter than 256
/// when the history lacks older ancestors (pruned, or not acquired yet); [`mismatch`] then only
/// compares the part both ledgers know and, if that is nothing, treats them as different branches
/// from seq 1 on. So a ledger built from a thin history may sit on its own branch of the trie,
/// splitting its chain's support, until it is rebuilt from a fuller history. Likewise two ledgers
/// more than 256 sequences apart never share a branch, as in rippled.
#[derive(Clone, PartialEq, Eq)]
pub struct AncestryLedger {
    seq: Seq,
    id: Hash256,
    /// Hashes at sequences `seq - len .. seq`, oldest first.
    ancestors: Arc<[Hash256]>,
}

impl AncestryLedger {
    /// `ledger` with as many ancestor hashes as `history` can give, up to [`MAX_ANCESTORS`].
    /// The parent's hash comes from the header, so it is known even if the parent is not held;
    /// older ones come from walking held ledgers (stopping at the first one missing or at a
    /// sequence that does not fit the chain).
    pub fn new(history: &LedgerHistory, ledger: &Ledger) -> AncestryLedger {
        let want = usize::try_from(ledger.seq())
            .unwrap_or(usize::MAX)
            .min(MAX_ANCESTORS);
        let mut newest_first = Vec::with_capacity(want);
        let mut next = ledger.parent();
        let mut next_seq = ledger.seq();
        while newest_first.len() < want {
            newest_first.push(next);
            next_seq -= 1;
            if newest_first.len() == want {
                break;
            }
            match history.get(&next) {
                Some(l) if l.seq() == next_seq => next = l.parent(),
                _ => break,
            }
        }
        newest_first.reverse();
        AncestryLedger {
            seq: ledger.seq(),
            id: ledger.hash(),
            ancestors: newest_first.into(),
        }
    }

    /// The held ledger with `hash`, as an [`AncestryLedger`].
    pub fn lookup(history: &LedgerHistory, hash: &Hash256) -> Option<AncestryLedger> {
        history.get(hash).map(|l| AncestryLedger::new(history, l))
    }

    /// A ledger from its sequence, hash and ancestor hashes (oldest first, ending with the
    /// parent). Keeps at most the newest `min(seq, MAX_ANCESTORS)` of them.
    pub fn from_hashes(seq: Seq, id: Hash256, ancestors: &[Hash256]) -> AncestryLedger {
        let keep = usize::try_from(seq)
            .unwrap_or(usize::MAX)
            .min(MAX_ANCESTORS)
            .min(ancestors.len());
        AncestryLedger {
            seq,
            id,
            ancestors: ancestors[ancestors.len() - keep..].into(),
        }
    }

    /// How many ancestor hashes are known.
    pub fn known_ancestors(&self) -> usize {
        self.ancestors.len()
    }
}

impl TrieLedger for AncestryLedger {
    type Id = Hash256;

    /// A placeholder genesis with the unknown id; use [`LedgerTrie::with_genesis`] with the real
    /// genesis to have a root preference reported by hash.
    fn genesis() -> Self {
        AncestryLedger {
            seq: 0,
            id: Hash256::ZERO,
            ancestors: Arc::from([]),
        }
    }

    fn seq(&self) -> Seq {
        self.seq
    }

    fn id(&self) -> Hash256 {
        self.id
    }

    fn ancestor(&self, s: Seq) -> Hash256 {
        if s == self.seq {
            return self.id;
        }
        if s < self.min_seq() || s > self.seq {
            return Hash256::ZERO;
        }
        let back = usize::try_from(self.seq - s).expect("at most MAX_ANCESTORS back");
        self.ancestors[self.ancestors.len() - back]
    }

    fn min_seq(&self) -> Seq {
        let known = Seq::try_from(self.ancestors.len()).expect("at most MAX_ANCESTORS");
        self.seq - known
    }
}

impl fmt::Debug for AncestryLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AncestryLedger({:?}@{}, known from {})",
            self.id,
            self.seq,
            self.min_seq()
        )
    }
}

#[cfg(test)]
#[path = "ledger_trie_tests.rs"]
mod tests;
