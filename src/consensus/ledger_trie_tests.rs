//! Tests for the ledger trie: every case of rippled's `LedgerTrie_test.cpp` (named after the
//! rippled test it mirrors), one test per preferred-ledger rule that fails if the rule changes, a
//! randomized comparison against a naive uncompressed model, and the engine-side
//! [`AncestryLedger`] built from a real [`LedgerHistory`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::*;
use crate::consensus::params::ConsensusParams;
use crate::consensus::time::Time;
use crate::consensus::tx::Tx;
use crate::consensus::txset::TxSet;

// ---------------------------------------------------------------------------------------------
// String ledgers, like rippled's csf `LedgerHistoryHelper`: "abc" is genesis -> a -> ab -> abc,
// each letter a ledger that is never reused on another branch. Ids are handed out in creation
// order (genesis 0, then 1, 2, ...), so a ledger created later has the larger id, exactly as the
// csf oracle does; the tie-break tests rely on it.

/// A test ledger: its full path of ancestor ids (`path[s]` is the id at seq `s`), of which only
/// `[min, seq]` is "known" (to test windowed ancestry, like `AncestryLedger`'s skip list).
#[derive(Clone, Debug)]
struct Tl {
    path: Arc<[u32]>,
    min: Seq,
}

/// The unknown id, which is also the genesis id (as in csf, where both are `ID{0}`).
const UNKNOWN: u32 = 0;

impl TrieLedger for Tl {
    type Id = u32;

    fn genesis() -> Self {
        Tl {
            path: Arc::from([0u32]),
            min: 0,
        }
    }

    fn seq(&self) -> Seq {
        Seq::try_from(self.path.len() - 1).unwrap()
    }

    fn id(&self) -> u32 {
        self.path[self.path.len() - 1]
    }

    fn ancestor(&self, s: Seq) -> u32 {
        if s < self.min || s > self.seq() {
            UNKNOWN
        } else {
            self.path[s as usize]
        }
    }

    fn min_seq(&self) -> Seq {
        self.min
    }
}

impl Tl {
    /// The same ledger, knowing only its ancestry from `min` up.
    fn known_from(&self, min: Seq) -> Tl {
        Tl {
            path: self.path.clone(),
            min,
        }
    }
}

/// Creates ledgers from strings on demand.
struct H {
    ledgers: BTreeMap<String, Tl>,
    seen: BTreeSet<char>,
    next_id: u32,
}

impl H {
    fn new() -> H {
        let mut ledgers = BTreeMap::new();
        ledgers.insert(String::new(), Tl::genesis());
        H {
            ledgers,
            seen: BTreeSet::new(),
            next_id: 1,
        }
    }

    /// The ledger named `s`, creating it and any missing ancestors.
    fn l(&mut self, s: &str) -> Tl {
        if let Some(l) = self.ledgers.get(s) {
            return l.clone();
        }
        let last = s.chars().last().unwrap();
        assert!(self.seen.insert(last), "letter {last:?} reused in {s:?}");
        let parent = self.l(&s[..s.len() - last.len_utf8()]);
        let mut path = parent.path.to_vec();
        path.push(self.next_id);
        self.next_id += 1;
        let l = Tl {
            path: path.into(),
            min: 0,
        };
        self.ledgers.insert(s.to_string(), l.clone());
        l
    }

    fn id(&mut self, s: &str) -> u32 {
        self.l(s).id()
    }
}

type T = LedgerTrie<Tl>;

#[track_caller]
fn inv(t: &T) {
    if let Err(e) = t.check_invariants() {
        panic!("invariant broken: {e}\n{t:?}");
    }
}

/// Id of the preferred ledger given `largest_issued`.
fn pref(t: &T, largest_issued: Seq) -> Option<u32> {
    t.get_preferred(largest_issued).map(|p| p.id)
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testInsert

#[test]
fn insert_single_entry_by_itself() {
    // testInsert "Single entry by itself"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 1);

    t.insert(&h.l("abc"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 2);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
}

#[test]
fn insert_suffix_of_existing() {
    // testInsert "Suffix of existing (extending tree)"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    inv(&t);
    // extend with no siblings
    t.insert(&h.l("abcd"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 1);

    // extend with existing sibling
    t.insert(&h.l("abce"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 3);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 1);
    assert_eq!(t.tip_support(&h.l("abce")), 1);
    assert_eq!(t.branch_support(&h.l("abce")), 1);
}

#[test]
fn insert_uncommitted_of_existing_node() {
    // testInsert "uncommitted of existing node"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcd"), 1);
    inv(&t);
    // uncommitted with no siblings
    t.insert(&h.l("abcdf"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 2);
    assert_eq!(t.tip_support(&h.l("abcdf")), 1);
    assert_eq!(t.branch_support(&h.l("abcdf")), 1);

    // uncommitted with existing child
    t.insert(&h.l("abc"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 3);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 2);
    assert_eq!(t.tip_support(&h.l("abcdf")), 1);
    assert_eq!(t.branch_support(&h.l("abcdf")), 1);
}

#[test]
fn insert_suffix_and_uncommitted_of_existing_node() {
    // testInsert "Suffix + uncommitted of existing node"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcd"), 1);
    inv(&t);
    t.insert(&h.l("abce"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 1);
    assert_eq!(t.tip_support(&h.l("abce")), 1);
    assert_eq!(t.branch_support(&h.l("abce")), 1);
}

#[test]
fn insert_suffix_and_uncommitted_with_existing_child() {
    // testInsert "Suffix + uncommitted with existing child": abcd : abcde, abcf
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcd"), 1);
    inv(&t);
    t.insert(&h.l("abcde"), 1);
    inv(&t);
    t.insert(&h.l("abcf"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 3);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 2);
    assert_eq!(t.tip_support(&h.l("abcf")), 1);
    assert_eq!(t.branch_support(&h.l("abcf")), 1);
    assert_eq!(t.tip_support(&h.l("abcde")), 1);
    assert_eq!(t.branch_support(&h.l("abcde")), 1);
}

#[test]
fn insert_multiple_counts() {
    // testInsert "Multiple counts"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 4);
    assert_eq!(t.tip_support(&h.l("ab")), 4);
    assert_eq!(t.branch_support(&h.l("ab")), 4);
    assert_eq!(t.tip_support(&h.l("a")), 0);
    assert_eq!(t.branch_support(&h.l("a")), 4);

    t.insert(&h.l("abc"), 2);
    assert_eq!(t.tip_support(&h.l("abc")), 2);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
    assert_eq!(t.tip_support(&h.l("ab")), 4);
    assert_eq!(t.branch_support(&h.l("ab")), 6);
    assert_eq!(t.tip_support(&h.l("a")), 0);
    assert_eq!(t.branch_support(&h.l("a")), 6);
    inv(&t);
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testRemove

#[test]
fn remove_not_in_trie() {
    // testRemove "Not in trie"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    assert!(!t.remove(&h.l("ab"), 1));
    inv(&t);
    assert!(!t.remove(&h.l("a"), 1));
    inv(&t);
}

#[test]
fn remove_in_trie_with_zero_tip_support() {
    // testRemove "In trie but with 0 tip support"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcd"), 1);
    t.insert(&h.l("abce"), 1);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
    assert!(!t.remove(&h.l("abc"), 1));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
}

#[test]
fn remove_in_trie_with_more_than_one_tip_support_clamps_the_count() {
    // testRemove "In trie with > 1 tip support"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 2);
    assert_eq!(t.tip_support(&h.l("abc")), 2);
    assert!(t.remove(&h.l("abc"), 1));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);

    t.insert(&h.l("abc"), 1);
    assert_eq!(t.tip_support(&h.l("abc")), 2);
    assert!(t.remove(&h.l("abc"), 2));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);

    t.insert(&h.l("abc"), 3);
    assert_eq!(t.tip_support(&h.l("abc")), 3);
    assert!(t.remove(&h.l("abc"), 300));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert!(t.empty());
}

#[test]
fn remove_with_one_tip_support_no_children() {
    // testRemove "In trie with = 1 tip support, no children"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("abc"), 1);
    assert_eq!(t.tip_support(&h.l("ab")), 1);
    assert_eq!(t.branch_support(&h.l("ab")), 2);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 1);

    assert!(t.remove(&h.l("abc"), 1));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("ab")), 1);
    assert_eq!(t.branch_support(&h.l("ab")), 1);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 0);
}

#[test]
fn remove_with_one_tip_support_one_child() {
    // testRemove "In trie with = 1 tip support, 1 child"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 1);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 1);

    assert!(t.remove(&h.l("abc"), 1));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 1);
    assert_eq!(t.tip_support(&h.l("abcd")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 1);
}

#[test]
fn remove_with_one_tip_support_several_children() {
    // testRemove "In trie with = 1 tip support, > 1 children"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 1);
    t.insert(&h.l("abce"), 1);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 3);

    assert!(t.remove(&h.l("abc"), 1));
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abc")), 2);
}

#[test]
fn remove_with_one_tip_support_parent_compaction() {
    // testRemove "In trie with = 1 tip support, parent compaction"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abd"), 1);
    inv(&t);
    t.remove(&h.l("ab"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.tip_support(&h.l("abd")), 1);
    assert_eq!(t.tip_support(&h.l("ab")), 0);
    assert_eq!(t.branch_support(&h.l("ab")), 2);

    t.remove(&h.l("abd"), 1);
    inv(&t);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("ab")), 1);
    // ab merged into abc: one root child spanning a..abc (header, root, child, seq support).
    assert_eq!(t.dump().lines().count(), 4, "{t:?}");
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testEmpty

#[test]
fn empty() {
    // testEmpty
    let (mut t, mut h) = (T::new(), H::new());
    assert!(t.empty());

    let genesis = h.l("");
    t.insert(&genesis, 1);
    assert!(!t.empty());
    t.remove(&genesis, 1);
    assert!(t.empty());

    t.insert(&h.l("abc"), 1);
    assert!(!t.empty());
    t.remove(&h.l("abc"), 1);
    assert!(t.empty());
    inv(&t);
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testSupport

#[test]
fn support() {
    // testSupport
    let (mut t, mut h) = (T::new(), H::new());
    assert_eq!(t.tip_support(&h.l("a")), 0);
    assert_eq!(t.tip_support(&h.l("axy")), 0);
    assert_eq!(t.branch_support(&h.l("a")), 0);
    assert_eq!(t.branch_support(&h.l("axy")), 0);

    t.insert(&h.l("abc"), 1);
    assert_eq!(t.tip_support(&h.l("a")), 0);
    assert_eq!(t.tip_support(&h.l("ab")), 0);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.tip_support(&h.l("abcd")), 0);
    assert_eq!(t.branch_support(&h.l("a")), 1);
    assert_eq!(t.branch_support(&h.l("ab")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abcd")), 0);

    t.insert(&h.l("abe"), 1);
    assert_eq!(t.tip_support(&h.l("a")), 0);
    assert_eq!(t.tip_support(&h.l("ab")), 0);
    assert_eq!(t.tip_support(&h.l("abc")), 1);
    assert_eq!(t.tip_support(&h.l("abe")), 1);
    assert_eq!(t.branch_support(&h.l("a")), 2);
    assert_eq!(t.branch_support(&h.l("ab")), 2);
    assert_eq!(t.branch_support(&h.l("abc")), 1);
    assert_eq!(t.branch_support(&h.l("abe")), 1);

    t.remove(&h.l("abc"), 1);
    assert_eq!(t.tip_support(&h.l("a")), 0);
    assert_eq!(t.tip_support(&h.l("ab")), 0);
    assert_eq!(t.tip_support(&h.l("abc")), 0);
    assert_eq!(t.tip_support(&h.l("abe")), 1);
    assert_eq!(t.branch_support(&h.l("a")), 1);
    assert_eq!(t.branch_support(&h.l("ab")), 1);
    assert_eq!(t.branch_support(&h.l("abc")), 0);
    assert_eq!(t.branch_support(&h.l("abe")), 1);
    inv(&t);
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testGetPreferred, one test per block

#[test]
fn get_preferred_empty() {
    // testGetPreferred "Empty"
    let t = T::new();
    assert_eq!(t.get_preferred(0), None);
    assert_eq!(t.get_preferred(2), None);
}

#[test]
fn get_preferred_genesis_support_is_not_empty() {
    // testGetPreferred "Genesis support is NOT empty"
    let (mut t, mut h) = (T::new(), H::new());
    let genesis = h.l("");
    t.insert(&genesis, 1);
    assert_eq!(pref(&t, 0), Some(genesis.id()));
    assert!(t.remove(&genesis, 1));
    assert_eq!(pref(&t, 0), None);
    assert!(!t.remove(&genesis, 1));
    inv(&t);
}

#[test]
fn get_preferred_single_node_no_children() {
    // testGetPreferred "Single node no children"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
}

#[test]
fn get_preferred_single_node_smaller_child_support() {
    // testGetPreferred "Single node smaller child support"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
    assert_eq!(pref(&t, 4), Some(h.id("abc")));
}

#[test]
fn get_preferred_single_node_larger_child() {
    // testGetPreferred "Single node larger child"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 2);
    assert_eq!(pref(&t, 3), Some(h.id("abcd")));
    assert_eq!(pref(&t, 4), Some(h.id("abcd")));
}

#[test]
fn get_preferred_single_node_smaller_children_support() {
    // testGetPreferred "Single node smaller children support"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 1);
    t.insert(&h.l("abce"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
    assert_eq!(pref(&t, 4), Some(h.id("abc")));

    t.insert(&h.l("abc"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
    assert_eq!(pref(&t, 4), Some(h.id("abc")));
}

#[test]
fn get_preferred_single_node_larger_children() {
    // testGetPreferred "Single node larger children"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 2);
    t.insert(&h.l("abce"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
    assert_eq!(pref(&t, 4), Some(h.id("abc")));

    t.insert(&h.l("abcd"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abcd")));
    assert_eq!(pref(&t, 4), Some(h.id("abcd")));
}

#[test]
fn get_preferred_tie_breaker_by_id() {
    // testGetPreferred "Tie-breaker by id"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcd"), 2);
    t.insert(&h.l("abce"), 2);
    assert!(h.id("abce") > h.id("abcd"));
    assert_eq!(pref(&t, 4), Some(h.id("abce")));

    t.insert(&h.l("abcd"), 1);
    assert!(h.id("abce") > h.id("abcd"));
    assert_eq!(pref(&t, 4), Some(h.id("abcd")));
}

#[test]
fn get_preferred_tie_breaker_not_needed() {
    // testGetPreferred "Tie-breaker not needed"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 1);
    t.insert(&h.l("abce"), 2);
    // abce has a margin of only 1 over abcd, but it owns the tie-break.
    assert!(h.id("abce") > h.id("abcd"));
    assert_eq!(pref(&t, 3), Some(h.id("abce")));
    assert_eq!(pref(&t, 4), Some(h.id("abce")));

    // Move one vote from abce to abcd: now the tie-break would be needed.
    t.remove(&h.l("abce"), 1);
    t.insert(&h.l("abcd"), 1);
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
    assert_eq!(pref(&t, 4), Some(h.id("abc")));
}

#[test]
fn get_preferred_single_node_larger_grand_child() {
    // testGetPreferred "Single node larger grand child"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 2);
    t.insert(&h.l("abcde"), 4);
    assert_eq!(pref(&t, 3), Some(h.id("abcde")));
    assert_eq!(pref(&t, 4), Some(h.id("abcde")));
    assert_eq!(pref(&t, 5), Some(h.id("abcde")));
}

#[test]
fn get_preferred_too_much_uncommitted_support_from_competing_branches() {
    // testGetPreferred "Too much uncommitted support from competing branches"
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abc"), 1);
    t.insert(&h.l("abcde"), 2);
    t.insert(&h.l("abcfg"), 2);
    // de and fg tie without abc's vote.
    assert_eq!(pref(&t, 3), Some(h.id("abc")));
    assert_eq!(pref(&t, 4), Some(h.id("abc")));
    assert_eq!(pref(&t, 5), Some(h.id("abc")));

    t.remove(&h.l("abc"), 1);
    t.insert(&h.l("abcd"), 1);
    // The de branch leads 3 to 2, so from an earlier sequence it is preferred...
    assert_eq!(pref(&t, 3), Some(h.id("abcde")));
    assert_eq!(pref(&t, 4), Some(h.id("abcde")));
    // ...but having validated at seq 5 (maybe on another branch), we cannot know whether the
    // abcd validator chose abcd or abcf because of us, so abc stays preferred.
    assert_eq!(pref(&t, 5), Some(h.id("abc")));
    inv(&t);
}

#[test]
fn get_preferred_changing_largest_seq_perspective_changes_preferred_branch() {
    // testGetPreferred "Changing largestSeq perspective changes preferred branch"
    //        A
    //       / \
    //    B(1)  C(1)
    //   /  |   |
    //  H   D   F(1)
    //      |
    //      E(2)
    //      |
    //      G
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("ac"), 1);
    t.insert(&h.l("acf"), 1);
    t.insert(&h.l("abde"), 2);
    // B has more branch support...
    assert_eq!(pref(&t, 1), Some(h.id("ab")));
    assert_eq!(pref(&t, 2), Some(h.id("ab")));
    // ...but having validated at D, F or E's height we cannot know whether someone used that
    // to commit to B or C.
    assert_eq!(pref(&t, 3), Some(h.id("a")));
    assert_eq!(pref(&t, 4), Some(h.id("a")));

    // One E moving on to G changes nothing.
    t.remove(&h.l("abde"), 1);
    t.insert(&h.l("abdeg"), 1);
    assert_eq!(pref(&t, 1), Some(h.id("ab")));
    assert_eq!(pref(&t, 2), Some(h.id("ab")));
    assert_eq!(pref(&t, 3), Some(h.id("a")));
    assert_eq!(pref(&t, 4), Some(h.id("a")));
    assert_eq!(pref(&t, 5), Some(h.id("a")));

    // C moving to H advances the seq-3 preferred ledger.
    t.remove(&h.l("ac"), 1);
    t.insert(&h.l("abh"), 1);
    assert_eq!(pref(&t, 1), Some(h.id("ab")));
    assert_eq!(pref(&t, 2), Some(h.id("ab")));
    assert_eq!(pref(&t, 3), Some(h.id("ab")));
    assert_eq!(pref(&t, 4), Some(h.id("a")));
    assert_eq!(pref(&t, 5), Some(h.id("a")));

    // F moving to E moves it further.
    t.remove(&h.l("acf"), 1);
    t.insert(&h.l("abde"), 1);
    assert_eq!(pref(&t, 1), Some(h.id("abde")));
    assert_eq!(pref(&t, 2), Some(h.id("abde")));
    assert_eq!(pref(&t, 3), Some(h.id("abde")));
    assert_eq!(pref(&t, 4), Some(h.id("ab")));
    assert_eq!(pref(&t, 5), Some(h.id("ab")));
    inv(&t);
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testRootRelated

#[test]
fn root_related() {
    // testRootRelated: the root may break the no-single-child rule.
    let (mut t, mut h) = (T::new(), H::new());
    assert!(!t.remove(&h.l(""), 1));
    assert_eq!(t.branch_support(&h.l("")), 0);
    assert_eq!(t.tip_support(&h.l("")), 0);

    t.insert(&h.l("a"), 1);
    inv(&t);
    assert_eq!(t.branch_support(&h.l("")), 1);
    assert_eq!(t.tip_support(&h.l("")), 0);

    t.insert(&h.l("e"), 1);
    inv(&t);
    assert_eq!(t.branch_support(&h.l("")), 2);
    assert_eq!(t.tip_support(&h.l("")), 0);

    assert!(t.remove(&h.l("e"), 1));
    inv(&t);
    assert_eq!(t.branch_support(&h.l("")), 1);
    assert_eq!(t.tip_support(&h.l("")), 0);
}

// ---------------------------------------------------------------------------------------------
// rippled LedgerTrie_test::testStress

/// A small deterministic PRNG (SplitMix64): the consensus tree may not use `rand`, and tests
/// only need reproducible sequences, not rippled's exact mt19937 draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
}

/// A random ledger name in a tree where every ledger has `width` children: each character
/// encodes its whole path, so letters are never reused (as in rippled's stress test).
fn random_name(rng: &mut Rng, max_depth: u32, width: u32) -> String {
    let depth = rng.below(max_depth + 1);
    let mut name = String::new();
    let mut offset = 0u32;
    for _ in 0..depth {
        let a = offset + rng.below(width);
        name.push(char::from_u32(0x100 + a).unwrap());
        offset = (a + 1) * width;
    }
    name
}

#[test]
fn stress() {
    // testStress: 10,000 random inserts and removes over ledgers of depth 0..=3 and width 4,
    // checking the invariants after every step.
    let (mut t, mut h) = (T::new(), H::new());
    let mut rng = Rng(42);
    for i in 0..10_000 {
        let name = random_name(&mut rng, 3, 4);
        let l = h.l(&name);
        if rng.below(2) == 0 {
            t.insert(&l, 1);
        } else {
            t.remove(&l, 1);
        }
        if let Err(e) = t.check_invariants() {
            panic!("step {i}: {e}\n{t:?}");
        }
    }
}

/// The preferred ledger computed the slow way, on an uncompressed tree of every ledger: from
/// genesis, take the best child while its margin beats the uncommitted support.
fn naive_preferred(tips: &BTreeMap<Vec<u32>, u32>, largest_issued: Seq) -> Option<u32> {
    if tips.values().all(|&n| n == 0) {
        return None;
    }
    let mut seq_support: BTreeMap<Seq, u64> = BTreeMap::new();
    for (path, &n) in tips {
        *seq_support.entry((path.len() - 1) as Seq).or_insert(0) += u64::from(n);
    }
    let mut curr = vec![0u32];
    let mut uncommitted = 0u64;
    loop {
        let next_seq = curr.len() as Seq;
        let mut absorbed = Vec::new();
        for (&s, &n) in &seq_support {
            if s < next_seq.max(largest_issued) {
                uncommitted += n;
                absorbed.push(s);
            }
        }
        for s in absorbed {
            seq_support.remove(&s);
        }
        let mut children: BTreeMap<u32, u64> = BTreeMap::new();
        for (path, &n) in tips {
            if n > 0 && path.len() > curr.len() && path.starts_with(&curr) {
                *children.entry(path[curr.len()]).or_insert(0) += u64::from(n);
            }
        }
        let mut ranked: Vec<(u64, u32)> = children.into_iter().map(|(id, b)| (b, id)).collect();
        ranked.sort_by(|a, b| b.cmp(a));
        let margin = match ranked.as_slice() {
            [] => break,
            [(b, _)] => *b,
            [(b, bid), (s, sid), ..] => b - s + u64::from(bid > sid),
        };
        if margin > uncommitted || uncommitted == 0 {
            curr.push(ranked[0].1);
        } else {
            break;
        }
    }
    curr.last().copied()
}

/// Random inserts and removes over ledgers up to `max_depth` deep with `width` children each,
/// checking after every step the invariants, the preferred ledger for several `largest_issued`
/// and asker positions against [`naive_preferred`], and (every 50 steps) every ledger's support
/// against plain counting.
fn check_against_naive_model(seed: u64, max_depth: u32, width: u32, steps: u32) {
    let (mut t, mut h) = (T::new(), H::new());
    let mut rng = Rng(seed);
    let mut tips: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for step in 0..steps {
        let name = random_name(&mut rng, max_depth, width);
        let l = h.l(&name);
        names.insert(name);
        let count = 1 + rng.below(3);
        let entry = tips.entry(l.path.to_vec()).or_insert(0);
        if rng.below(5) < 3 {
            t.insert(&l, count);
            *entry += count;
        } else {
            let removed = t.remove(&l, count);
            assert_eq!(removed, *entry > 0, "step {step}");
            *entry -= count.min(*entry);
        }
        if let Err(e) = t.check_invariants() {
            panic!("step {step}: {e}\n{t:?}");
        }
        for li in 0..=max_depth + 1 {
            assert_eq!(
                pref(&t, li),
                naive_preferred(&tips, li),
                "step {step}, largest issued {li}\n{t:?}"
            );
        }
        if step % 50 == 0 {
            for name in &names {
                let l = h.l(name);
                let tip = tips.get(&l.path.to_vec()).copied().unwrap_or(0);
                let branch: u32 = tips
                    .iter()
                    .filter(|(p, _)| p.starts_with(&l.path))
                    .map(|(_, n)| n)
                    .sum();
                assert_eq!(t.tip_support(&l), tip, "step {step} tip {name:?}");
                assert_eq!(t.branch_support(&l), branch, "step {step} branch {name:?}");
            }
        }
    }
}

#[test]
fn stress_matches_a_naive_uncompressed_model() {
    // Beyond rippled: the compressed walk (jumping along spans, splitting and merging nodes)
    // must agree with the plain ledger-by-ledger rule, and supports with plain counting.
    // Deep and narrow: long spans, split and merged often.
    check_against_naive_model(7, 7, 2, 3_000);
    // Shallow and wide: many siblings, so other branches' tips often outweigh a span.
    check_against_naive_model(11, 4, 4, 3_000);
}

// ---------------------------------------------------------------------------------------------
// One test per preferred-ledger rule, each failing if that rule changes. (The rippled cases
// above catch most of them too; these say which rule they pin.)

#[test]
fn rule_ties_go_to_the_larger_start_id() {
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("ac"), 1);
    assert!(h.id("ac") > h.id("ab"));
    assert_eq!(pref(&t, 0), Some(h.id("ac")));
    // The id of the branch's *first* ledger decides, not its tip's: x starts lower than z but
    // its tip is higher, and z wins.
    let (mut t, mut h) = (T::new(), H::new());
    h.l("ax");
    h.l("az");
    let z = h.l("azw");
    let x = h.l("axy");
    assert!(h.id("az") > h.id("ax") && x.id() > z.id());
    t.insert(&x, 1);
    t.insert(&z, 1);
    assert_eq!(pref(&t, 0), Some(z.id()));
}

#[test]
fn rule_the_tie_break_owner_gets_one_more_margin() {
    // 2 vs 1 with one uncommitted vote: margin 1 is not > 1, unless the leader owns the
    // tie-break (then 2 > 1).
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("a"), 1);
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("ac"), 2);
    assert!(h.id("ac") > h.id("ab"));
    assert_eq!(pref(&t, 0), Some(h.id("ac")));
    // Same shape with the leader on the smaller id: no extra margin, stay at a.
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("a"), 1);
    t.insert(&h.l("ab"), 2);
    t.insert(&h.l("ac"), 1);
    assert_eq!(pref(&t, 0), Some(h.id("a")));
}

#[test]
fn rule_uncommitted_support_blocks_a_fork() {
    // 3 vs 1 at a fork (margin 2, +1 for the tie-break = 3) with 3 validators still on the
    // parent: they could make it 3 vs 4.
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("a"), 3);
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("ac"), 3);
    assert_eq!(pref(&t, 0), Some(h.id("a")));
    // With 2 left on the parent, 3 > 2.
    t.remove(&h.l("a"), 1);
    assert_eq!(pref(&t, 0), Some(h.id("ac")));
}

#[test]
fn rule_uncommitted_support_stops_the_walk_inside_a_span() {
    // abcd (2) against three single ledgers x, y, z at seq 1. At genesis nobody is uncommitted
    // and abcd's branch leads, so the walk enters the span a..abcd; there the three at seq 1
    // become uncommitted and 2 is not > 3, so it stops at a, inside the span.
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcd"), 2);
    for s in ["x", "y", "z"] {
        t.insert(&h.l(s), 1);
    }
    assert_eq!(pref(&t, 0), Some(h.id("a")));
    // With only x left at seq 1, 2 > 1 and the walk runs to the end of the span.
    t.remove(&h.l("y"), 1);
    t.remove(&h.l("z"), 1);
    assert_eq!(pref(&t, 0), Some(h.id("abcd")));
}

#[test]
fn rule_the_span_walk_absorbs_support_at_each_sequence_it_passes() {
    // abcdef (3) against xyz, uvw, pqr (1 each, all at seq 3). The a-branch wins at genesis;
    // walking along its span, once past seq 3 the three tips there are uncommitted and 3 is not
    // > 3, so the walk stops at abc (seq 3), in the middle of the span.
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcdef"), 3);
    for s in ["xyz", "uvw", "pqr"] {
        t.insert(&h.l(s), 1);
    }
    assert_eq!(pref(&t, 0), Some(h.id("abc")));
    t.insert(&h.l("abcdef"), 1);
    assert_eq!(pref(&t, 0), Some(h.id("abcdef")));
}

#[test]
fn rule_largest_issued_makes_lower_tips_uncommitted() {
    // ab (1), ac (1), acd (1). Deciding at a, tips below seq 2 are uncommitted: none, so the
    // c-branch (2 vs 1, +1 tie-break) wins. Having issued seq 3 ourselves, the two tips at seq 2
    // are uncommitted too, and a margin of 2 is not enough.
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 1);
    t.insert(&h.l("ac"), 1);
    t.insert(&h.l("acd"), 1);
    assert!(h.id("ac") > h.id("ab"));
    for li in 0..=2 {
        assert_eq!(pref(&t, li), Some(h.id("ac")), "largest issued {li}");
    }
    assert_eq!(pref(&t, 3), Some(h.id("a")));
}

#[test]
fn rule_no_uncommitted_means_take_the_best_even_with_zero_margin() {
    // Two siblings with the same (unknown) start id and the same support: the margin is 0, so
    // only "nobody is uncommitted" lets the walk descend (to the first of them). This needs
    // ledgers whose window hides their start, as with AncestryLedger's 256-hash limit.
    let mut h = H::new();
    let x = h.l("abcd").known_from(3);
    let y = h.l("efgh").known_from(3);
    assert_eq!(mismatch(&x, &y), 1, "windows [3,4] differ entirely");
    let mut t = T::new();
    t.insert(&x, 1);
    t.insert(&y, 1);
    inv(&t);
    assert_eq!(pref(&t, 0), Some(x.id()));
    // With an uncommitted validator at genesis, margin 0 is not enough.
    t.insert(&h.l(""), 1);
    assert_eq!(pref(&t, 0), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Edge cases of the port

#[test]
fn zero_counts_change_nothing_and_counts_saturate() {
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("ab"), 0);
    assert!(t.empty());
    inv(&t);
    t.insert(&h.l("ab"), u32::MAX - 1);
    t.insert(&h.l("ac"), 5);
    inv(&t);
    assert_eq!(t.branch_support(&h.l("")), u32::MAX);
    assert_eq!(t.tip_support(&h.l("ac")), 1);
    assert!(
        t.remove(&h.l("ab"), 0),
        "a zero remove of a supported tip is a no-op"
    );
    assert_eq!(t.tip_support(&h.l("ab")), u32::MAX - 1);
    inv(&t);
}

#[test]
fn seq_max_ledgers_do_not_overflow() {
    let top = AncestryLedger::from_hashes(Seq::MAX, Hash256::of(&[b"top"]), &[]);
    let mut t: LedgerTrie<AncestryLedger> = LedgerTrie::new();
    t.insert(&top, 1);
    t.insert(&top, 1);
    assert_eq!(mismatch(&top, &top), u64::from(Seq::MAX) + 1);
    assert_eq!(t.tip_support(&top), 2);
    let p = t.get_preferred(Seq::MAX).unwrap();
    assert_eq!((p.seq, p.id), (Seq::MAX, top.id()));
    assert!(t.remove(&top, 2));
    assert!(t.empty());
    assert!(t.check_invariants().is_ok());
}

#[test]
fn span_tip_answers_ancestors_only_up_to_its_tip() {
    // abcde first, then abc splits its span: the preferred abc node keeps the abcde ledger.
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abcde"), 1);
    t.insert(&h.l("abc"), 3);
    let p = t.get_preferred(0).unwrap();
    assert_eq!((p.seq, p.id), (3, h.id("abc")));
    assert_eq!(p.ancestor(3), Some(h.id("abc")));
    assert_eq!(p.ancestor(1), Some(h.id("a")));
    assert_eq!(p.ancestor(4), None);
    assert!(p.ledger().seq() >= p.seq);
}

#[test]
fn dump_shows_the_tree() {
    let (mut t, mut h) = (T::new(), H::new());
    t.insert(&h.l("abd"), 1);
    t.insert(&h.l("abc"), 2);
    let d = t.dump();
    assert_eq!(
        d,
        "LedgerTrie\n0[0,1)(T:0,B:3)\n  |-2[1,3)(T:0,B:3)\n    |-3[3,4)(T:1,B:1)\n    \
         |-4[3,4)(T:2,B:2)\nseq support: {3: 3}",
        "{d}"
    );
}

#[test]
fn mismatch_on_string_ledgers() {
    let mut h = H::new();
    let abc = h.l("abc");
    let abf = h.l("abf");
    let abcde = h.l("abcde");
    let xyz = h.l("xyz");
    assert_eq!(mismatch(&abc, &abf), 3);
    assert_eq!(mismatch(&abc, &abcde), 4);
    assert_eq!(mismatch(&abcde, &abc), 4);
    assert_eq!(mismatch(&abc, &xyz), 1);
    assert_eq!(mismatch(&abc, &abc), 4);
    assert_eq!(
        mismatch(&h.l(""), &h.l("")),
        1,
        "never 0: genesis is shared"
    );
    // Windows: only the overlap is compared; no overlap or a wholly different overlap gives 1.
    assert_eq!(mismatch(&abcde.known_from(3), &abc), 4);
    assert_eq!(mismatch(&abcde.known_from(4), &abc), 1);
    assert_eq!(mismatch(&abcde.known_from(3), &abf.known_from(3)), 1);
    assert_eq!(mismatch(&abcde.known_from(2), &abf.known_from(2)), 3);
}

// ---------------------------------------------------------------------------------------------
// AncestryLedger on real ledgers

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

/// A chain of `len` ledgers after genesis, tagged `prefix`, all held in `history`.
fn chain(
    history: &mut LedgerHistory,
    from: &Arc<Ledger>,
    prefix: &str,
    len: u32,
) -> Vec<Arc<Ledger>> {
    let mut out = Vec::new();
    let mut cur = from.clone();
    for i in 0..len {
        cur = child(&cur, &format!("{prefix}{i}"));
        history.insert(cur.clone());
        out.push(cur.clone());
    }
    out
}

fn genesis_history() -> (LedgerHistory, Arc<Ledger>) {
    let g = Arc::new(Ledger::genesis(&ConsensusParams::mainnet()));
    let mut h = LedgerHistory::new();
    h.insert(g.clone());
    (h, g)
}

#[test]
fn ancestry_ledger_reads_the_history() {
    let (mut hist, g) = genesis_history();
    let a = chain(&mut hist, &g, "a", 10);
    let a10 = AncestryLedger::new(&hist, &a[9]);
    assert_eq!(a10.seq(), 10);
    assert_eq!(a10.id(), a[9].hash());
    assert_eq!(a10.min_seq(), 0);
    assert_eq!(a10.known_ancestors(), 10);
    for s in 0..=10 {
        assert_eq!(Some(a10.ancestor(s)), hist.ancestor_at(&a[9], s), "seq {s}");
    }
    assert_eq!(a10.ancestor(11), Hash256::ZERO);
    let g0 = AncestryLedger::new(&hist, &g);
    assert_eq!((g0.seq(), g0.id(), g0.min_seq()), (0, g.hash(), 0));
    assert_eq!(
        AncestryLedger::lookup(&hist, &a[4].hash()).unwrap().seq(),
        5
    );
    assert!(AncestryLedger::lookup(&hist, &Hash256::of(&[b"nope"])).is_none());

    // Clones share the hashes.
    let c = a10.clone();
    assert!(Arc::ptr_eq(&c.ancestors, &a10.ancestors));
}

#[test]
fn ancestry_ledger_keeps_at_most_256_ancestors() {
    let (mut hist, g) = genesis_history();
    let a = chain(&mut hist, &g, "a", 300);
    let top = AncestryLedger::new(&hist, &a[299]);
    assert_eq!(top.known_ancestors(), MAX_ANCESTORS);
    assert_eq!(top.min_seq(), 300 - 256);
    assert_eq!(top.ancestor(44), a[43].hash());
    assert_eq!(top.ancestor(43), Hash256::ZERO);
    assert_eq!(top.ancestor(299), a[298].hash());
    // Same chain, more than 256 apart: nothing in common is visible, so they are treated as
    // different branches (rippled does the same).
    let low = AncestryLedger::new(&hist, &a[9]);
    assert_eq!(mismatch(&low, &top), 1);
    let mid = AncestryLedger::new(&hist, &a[99]);
    assert_eq!(mismatch(&mid, &top), 101);
}

#[test]
fn ancestry_ledger_from_a_thin_history() {
    let (mut hist, g) = genesis_history();
    let a = chain(&mut hist, &g, "a", 12);
    let b = chain(&mut hist, &a[3], "b", 8); // forks after seq 4: b[0] is at seq 5
    let full_a = AncestryLedger::new(&hist, &a[9]);
    let full_b = AncestryLedger::new(&hist, &b[5]);
    assert_eq!(full_b.seq(), 10);
    assert_eq!(mismatch(&full_a, &full_b), 5);

    let mut thin = hist.clone();
    thin.prune_below(8);
    // The lowest held ledger's parent hash is still known from its header.
    let thin_a = AncestryLedger::new(&thin, &a[11]);
    assert_eq!(thin_a.min_seq(), 7);
    assert_eq!(thin_a.ancestor(7), a[6].hash());
    assert_eq!(thin_a.ancestor(6), Hash256::ZERO);
    // Same chain: the overlap [7,10] agrees, so they share everything up to full_a.
    assert_eq!(mismatch(&thin_a, &full_a), 11);
    // Different chains forking below the window: the overlap differs entirely -> 1.
    assert_eq!(mismatch(&thin_a, &full_b), 1);

    // A ledger whose parent is not held knows only its parent.
    let mut empty = LedgerHistory::new();
    let lone = AncestryLedger::new(&empty, &a[5]);
    assert_eq!((lone.min_seq(), lone.ancestor(5)), (5, a[4].hash()));
    empty.insert(a[5].clone());
    assert_eq!(AncestryLedger::new(&empty, &a[5]).known_ancestors(), 1);
}

#[test]
fn ancestry_ledger_stops_at_a_sequence_that_does_not_fit() {
    // A forged header whose parent hash names a ledger at the wrong sequence: the walk stops
    // rather than recording ancestors at the wrong heights.
    let (mut hist, g) = genesis_history();
    let a = chain(&mut hist, &g, "a", 3);
    let mut header = a[2].header().clone();
    header.seq = 10;
    header.parent = a[1].hash(); // a seq-2 ledger named as the parent of seq 10
    let forged = Ledger::from_parts(header, a[2].txs().clone()).unwrap();
    let l = AncestryLedger::new(&hist, &forged);
    assert_eq!((l.seq(), l.min_seq()), (10, 9));
    assert_eq!(l.ancestor(9), a[1].hash());
}

#[test]
fn trie_of_real_ledgers_follows_the_majority_branch() {
    let (mut hist, g) = genesis_history();
    let a = chain(&mut hist, &g, "a", 6);
    let b = chain(&mut hist, &a[2], "b", 3); // forks after seq 3
    let al = |i: usize| AncestryLedger::new(&hist, &a[i]);
    let bl = |i: usize| AncestryLedger::new(&hist, &b[i]);
    let mut t = LedgerTrie::with_genesis(AncestryLedger::new(&hist, &g));
    t.insert(&al(5), 3);
    t.insert(&bl(2), 1);
    t.insert(&al(4), 1);
    assert!(t.check_invariants().is_ok(), "{t:?}");
    assert_eq!(t.branch_support(&al(2)), 5);
    assert_eq!(t.branch_support(&al(3)), 4);
    assert_eq!(t.tip_support(&al(4)), 1);
    let p = t.get_preferred(0).unwrap();
    assert_eq!((p.seq, p.id), (6, a[5].hash()));
    assert_eq!(p.ancestor(3), Some(a[2].hash()));
    // Having issued seq 6, only the tip at seq 5 is uncommitted when deciding: still a6.
    let p = t.get_preferred(6).unwrap();
    assert_eq!((p.seq, p.id), (6, a[5].hash()));
    // Having issued seq 7, everyone is uncommitted: only genesis is certain, reported by its
    // real hash thanks to `with_genesis`.
    let p = t.get_preferred(7).unwrap();
    assert_eq!((p.seq, p.id), (0, g.hash()));

    // Genesis: without with_genesis the root reports the placeholder id until genesis is
    // inserted; a seq-0 ledger is always the root.
    let mut t: LedgerTrie<AncestryLedger> = LedgerTrie::new();
    t.insert(&al(0), 1);
    t.insert(&bl(0), 1);
    let p = t.get_preferred(5).unwrap();
    assert_eq!((p.seq, p.id), (0, Hash256::ZERO));
    let g0 = AncestryLedger::new(&hist, &g);
    t.insert(&g0, 1);
    assert_eq!(t.tip_support(&g0), 1);
    let p = t.get_preferred(5).unwrap();
    assert_eq!((p.seq, p.id), (0, g.hash()));
    assert!(t.remove(&g0, 1));
    assert!(!t.remove(&g0, 1));
    assert!(t.check_invariants().is_ok());
}

#[test]
fn trie_ties_between_real_ledgers_go_to_the_higher_hash() {
    let (mut hist, g) = genesis_history();
    let a = chain(&mut hist, &g, "a", 2);
    let b = chain(&mut hist, &g, "b", 2);
    let mut t = LedgerTrie::with_genesis(AncestryLedger::new(&hist, &g));
    t.insert(&AncestryLedger::new(&hist, &a[1]), 1);
    t.insert(&AncestryLedger::new(&hist, &b[1]), 1);
    let winner = if a[0].hash() > b[0].hash() {
        &a[1]
    } else {
        &b[1]
    };
    assert_eq!(t.get_preferred(0).unwrap().id, winner.hash());
}
