//! `Validations` against rippled's `Validations_test`: stale, bad sequence, conflicting and
//! partial validations, the preferred ledger from the trie (untrusted ignored, partial breaks
//! ties, acquisition), and `getNodesAfter`.

use std::collections::BTreeSet;

use super::*;
use crate::consensus::params::ConsensusParams;

fn node(i: u8) -> NodeId {
    NodeId([i; 32])
}

/// A ledger named by its ancestry string, as rippled's csf `LedgerHistoryHelper` builds them:
/// "abc" is genesis → a → ab → abc, with sequence 3.
fn led(name: &str) -> AncestryLedger {
    let id = |prefix: &str| Hash256::of(&[b"ledger:", prefix.as_bytes()]);
    let ancestors: Vec<Hash256> = (0..name.len()).map(|n| id(&name[..n])).collect();
    AncestryLedger::from_hashes(name.len() as Seq, id(name), &ancestors)
}

fn hash_of(name: &str) -> Hash256 {
    led(name).id()
}

/// Every ledger is "acquired" except those in `missing`.
struct Book {
    missing: BTreeSet<String>,
    names: Vec<String>,
}

impl Book {
    fn new(names: &[&str]) -> Book {
        Book {
            missing: BTreeSet::new(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn lookup(&self) -> impl FnMut(&Hash256) -> Option<AncestryLedger> + '_ {
        |h| {
            self.names
                .iter()
                .filter(|n| !self.missing.contains(*n))
                .map(|n| led(n))
                .find(|l| l.id() == *h)
        }
    }
}

const NOW: Time = Time(1_000_000_000);

fn val(i: u8, name: &str, sign_ms: i64, full: bool) -> Validation {
    Validation {
        ledger: hash_of(name),
        seq: name.len() as Seq,
        tx_set: Hash256::ZERO,
        full,
        sign_time: Time(NOW.0 + sign_ms),
        node: node(i),
    }
}

fn tracker(n: u8) -> Validations {
    let unl: BTreeSet<NodeId> = (0..n).map(node).collect();
    Validations::new(unl, 80, ValidationWindows::of(&ConsensusParams::mainnet()))
}

fn add(t: &mut Validations, book: &Book, v: &Validation, seen_ms: i64) -> ValStatus {
    let now = Time(NOW.0 + seen_ms);
    t.add(v, now, now, &mut book.lookup()).status
}

const NAMES: &[&str] = &[
    "a", "ab", "abc", "abcd", "abcde", "abd", "abde", "ac", "acd",
];

/// rippled `testAddValidation`: a validation is current by its sign time (stale 3 minutes
/// after signing, or signed more than 5 minutes ahead); sequences must increase per validator.
#[test]
fn current_by_sign_time_and_increasing_sequences() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    assert_eq!(
        add(&mut t, &book, &val(0, "a", 0, true), 0),
        ValStatus::Current
    );
    // The same again: a gossip repeat.
    assert_eq!(
        add(&mut t, &book, &val(0, "a", 0, true), 1),
        ValStatus::Duplicate
    );
    assert_eq!(
        add(&mut t, &book, &val(0, "ab", 1_000, true), 1_000),
        ValStatus::Current
    );
    // Lower sequence than already validated: bad seq, nothing changes.
    assert_eq!(
        add(&mut t, &book, &val(0, "ac", 2_000, true), 2_000),
        ValStatus::Conflicting,
        "seq 2 again with another ledger"
    );
    assert_eq!(
        add(&mut t, &book, &val(0, "a", 3_000, true), 3_000),
        ValStatus::Conflicting,
        "seq 1 again with a later sign time"
    );
    let mut t = tracker(5);
    assert_eq!(
        add(&mut t, &book, &val(0, "abc", 0, true), 0),
        ValStatus::Current
    );
    assert_eq!(
        add(&mut t, &book, &val(0, "ab", 1_000, true), 1_000),
        ValStatus::BadSeq,
        "a lower sequence never validated before"
    );
    assert_eq!(t.latest_seq(&node(0)), Some(3));

    // Stale: signed 3 minutes (validation_valid_early) before our time, or 5 minutes
    // (validation_valid_wall) after it.
    let mut t = tracker(5);
    let early = ConsensusParams::mainnet().validation_valid_early_ms;
    let wall = ConsensusParams::mainnet().validation_valid_wall_ms;
    assert_eq!(
        add(&mut t, &book, &val(1, "a", -early, true), 0),
        ValStatus::Stale
    );
    assert_eq!(
        add(&mut t, &book, &val(1, "a", -early + 1, true), 0),
        ValStatus::Current
    );
    assert_eq!(
        add(&mut t, &book, &val(2, "a", wall, true), 0),
        ValStatus::Stale
    );
    assert_eq!(
        add(&mut t, &book, &val(2, "a", wall - 1, true), 0),
        ValStatus::Current
    );
    // Nothing is kept of a stale one.
    assert_eq!(t.latest_seq(&node(3)), None);
}

/// rippled `testAddValidation` (conflicting): a second, different validation for a sequence is
/// refused and flagged, and the first one stays counted.
#[test]
fn a_conflicting_validation_is_flagged_and_the_first_stays_counted() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    for i in 0..4 {
        assert_eq!(
            add(&mut t, &book, &val(i, "ab", 0, true), 0),
            ValStatus::Current
        );
    }
    assert_eq!(t.count_for(&hash_of("ab")), 4);
    assert_eq!(t.quorum_ledgers_above(0), vec![(2, hash_of("ab"))]);
    assert_eq!(
        add(&mut t, &book, &val(0, "ac", 10, true), 10),
        ValStatus::Conflicting
    );
    assert!(t.conflicted(&node(0), 2));
    assert_eq!(t.count_for(&hash_of("ab")), 4, "the first stays counted");
    assert_eq!(t.count_for(&hash_of("ac")), 0, "the second never counts");
    assert_eq!(t.quorum_ledgers_above(0), vec![(2, hash_of("ab"))]);
}

/// rippled `SeqEnforcer`: after `validation_set_expires` without a validation, a validator may
/// start again from a lower sequence (a restart with a wiped state, a key rotation).
#[test]
fn the_sequence_enforcer_forgets_after_set_expires() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    let expires = ConsensusParams::mainnet().validation_set_expires_ms;
    assert_eq!(
        add(&mut t, &book, &val(0, "abc", 0, true), 0),
        ValStatus::Current
    );
    assert_eq!(
        add(&mut t, &book, &val(0, "ab", 60_000, true), 60_000),
        ValStatus::BadSeq
    );
    let later = expires + 1;
    assert_eq!(
        add(&mut t, &book, &val(0, "ab", later, true), later),
        ValStatus::Current
    );
}

/// rippled `Validations_test` ("Partial does break ties"; partial validations never count
/// toward full validation): partial validations move a validator's trie support but not the
/// quorum count.
#[test]
fn partial_validations_steer_the_trie_but_never_count_toward_quorum() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    for i in 0..3 {
        add(&mut t, &book, &val(i, "ab", 0, true), 0);
    }
    add(&mut t, &book, &val(3, "ab", 0, false), 0);
    assert_eq!(t.count_for(&hash_of("ab")), 3);
    assert!(
        t.quorum_ledgers_above(0).is_empty(),
        "3 full of 5 is below 4"
    );
    assert_eq!(
        t.trie().branch_support(&led("ab")),
        4,
        "the partial one moves support"
    );

    // Tie between "abc" and "abd" broken by a partial validation.
    let mut t = tracker(5);
    add(&mut t, &book, &val(0, "abc", 0, true), 0);
    add(&mut t, &book, &val(1, "abd", 0, true), 0);
    add(&mut t, &book, &val(2, "abd", 0, false), 0);
    let (seq, hash, _) = t.preferred(NOW, NOW, 0, &mut book.lookup()).unwrap();
    assert_eq!((seq, hash), (3, hash_of("abd")));
}

/// rippled `Validations_test` getPreferred: untrusted validators are never in the trie (the
/// engine refuses them before `add`), and one trusted validation beats none.
#[test]
fn preferred_follows_the_trie() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    assert!(t.preferred(NOW, NOW, 0, &mut book.lookup()).is_none());
    add(&mut t, &book, &val(0, "abcd", 0, true), 0);
    add(&mut t, &book, &val(1, "abcd", 0, true), 0);
    add(&mut t, &book, &val(2, "abde", 0, true), 0);
    let (seq, hash, tip) = t.preferred(NOW, NOW, 0, &mut book.lookup()).unwrap();
    assert_eq!((seq, hash), (4, hash_of("abcd")));
    assert_eq!(tip.unwrap().ancestor(2), Some(hash_of("ab")));
}

/// rippled `Validations_test` acquire: a validator whose ledger we lack keeps supporting its
/// previous trie ledger until the new one is acquired; with an empty trie, the ledger most
/// validators wait for is preferred (ties to the larger id).
#[test]
fn support_moves_only_once_the_ledger_is_acquired() {
    let mut book = Book::new(NAMES);
    book.missing.insert("abcd".into());
    let mut t = tracker(5);
    add(&mut t, &book, &val(0, "abc", 0, true), 0);
    let now = Time(NOW.0 + 1_000);
    let added = t.add(&val(0, "abcd", 1_000, true), now, now, &mut book.lookup());
    assert_eq!(added.status, ValStatus::Current);
    assert_eq!(added.acquire, Some((4, hash_of("abcd"))));
    assert_eq!(t.trie_ledger(&node(0)), Some((3, hash_of("abc"))));
    book.missing.clear();
    let (seq, hash, _) = t.preferred(now, now, 0, &mut book.lookup()).unwrap();
    assert_eq!((seq, hash), (4, hash_of("abcd")));
    assert_eq!(t.trie_ledger(&node(0)), Some((4, hash_of("abcd"))));

    // Empty trie: fall back to what validators wait for.
    let mut book = Book::new(NAMES);
    book.missing = ["abc", "abd", "abcd"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut t = tracker(5);
    add(&mut t, &book, &val(0, "abc", 0, true), 0);
    add(&mut t, &book, &val(1, "abd", 0, true), 0);
    let (seq, hash, tip) = t.preferred(NOW, NOW, 0, &mut book.lookup()).unwrap();
    assert!(tip.is_none());
    let larger = hash_of("abc").max(hash_of("abd"));
    assert_eq!((seq, hash), (3, larger));
    add(&mut t, &book, &val(2, "abcd", 0, true), 0);
    add(&mut t, &book, &val(3, "abcd", 0, true), 0);
    let (_, hash, _) = t.preferred(NOW, NOW, 0, &mut book.lookup()).unwrap();
    assert_eq!(hash, hash_of("abcd"), "two waiting beat one");
}

/// A validator whose latest validation goes stale (3 minutes after signing) leaves the trie.
#[test]
fn stale_validators_leave_the_trie() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    add(&mut t, &book, &val(0, "abc", 0, true), 0);
    add(&mut t, &book, &val(1, "abd", 100_000, true), 100_000);
    let early = ConsensusParams::mainnet().validation_valid_early_ms;
    let later = Time(NOW.0 + early + 1);
    let (_, hash, _) = t.preferred(later, later, 0, &mut book.lookup()).unwrap();
    assert_eq!(hash, hash_of("abd"));
    assert_eq!(t.trie_ledger(&node(0)), None);
}

/// rippled `getNodesAfter`: validators (partial or full) on strict descendants of a ledger.
#[test]
fn nodes_after_counts_descendants_partial_included() {
    let book = Book::new(NAMES);
    let mut t = tracker(5);
    add(&mut t, &book, &val(0, "ab", 0, true), 0);
    add(&mut t, &book, &val(1, "abc", 0, true), 0);
    add(&mut t, &book, &val(2, "abcd", 0, false), 0);
    add(&mut t, &book, &val(3, "ac", 0, true), 0);
    assert_eq!(t.nodes_after(NOW, NOW, &led("ab")), 2);
    assert_eq!(t.nodes_after(NOW, NOW, &led("a")), 4);
    assert_eq!(t.children_of(&hash_of("ab")), 1);
}

/// rippled `Validations::laggards`: fresh validators behind our sequence, and the offline ones.
#[test]
fn laggards_and_offline() {
    let book = Book::new(NAMES);
    let mut t = tracker(4);
    add(&mut t, &book, &val(0, "abcde", 0, true), 1_000);
    add(&mut t, &book, &val(1, "abcd", 0, true), 1_000);
    add(&mut t, &book, &val(2, "abcde", 0, true), 0);
    let fresh = ConsensusParams::mainnet().validation_freshness_ms;
    let at = |ms: i64| Time(NOW.0 + ms);
    // node 2 was seen 0 ms in, node 3 never: at 20 s + 1 node 2 is offline too.
    assert_eq!(t.laggards(5, at(fresh + 1), at(fresh + 1)), (1, 2));
    assert_eq!(t.laggards(5, at(15_000), at(15_000)), (1, 1));
}

/// A validator signing far ahead stays within [`MAX_PER_VALIDATOR`] held validations.
#[test]
fn a_validator_signing_far_ahead_stays_within_its_bound() {
    let mut t = tracker(5);
    let mut none = |_: &Hash256| None;
    let mk = |i: u8, seq: Seq, tag: &str| Validation {
        ledger: Hash256::of(&[tag.as_bytes()]),
        seq,
        tx_set: Hash256::ZERO,
        full: true,
        sign_time: NOW,
        node: node(i),
    };
    for i in 1..5 {
        t.add(&mk(i, 10, "L10"), NOW, NOW, &mut none);
    }
    for seq in 0..5_000 {
        t.add(
            &mk(0, 1_000 + seq, &format!("junk{seq}")),
            NOW,
            NOW,
            &mut none,
        );
    }
    assert_eq!(t.held(), MAX_PER_VALIDATOR + 4);
    assert!(t.held() <= t.bound());
    assert_eq!(t.count_for(&Hash256::of(&[b"junk0"])), 0);
    assert_eq!(t.count_for(&Hash256::of(&[b"junk4999"])), 1);
    assert_eq!(t.count_for(&Hash256::of(&[b"L10"])), 4);
    assert_eq!(t.by_ledger.len(), MAX_PER_VALIDATOR + 1);
}

/// The quorum: `ceil(80 % of the UNL)`, at least one.
#[test]
fn quorum_is_ceil_80_percent() {
    assert_eq!(quorum_for(5, 80), 4);
    assert_eq!(quorum_for(4, 80), 4);
    assert_eq!(quorum_for(10, 80), 8);
    assert_eq!(quorum_for(1, 80), 1);
    assert_eq!(quorum_for(0, 80), 1);
    assert_eq!(quorum_for(6, 80), 5);
    assert_eq!(quorum_for(35, 80), 28);
}

/// A tracker written into a checkpoint and read back answers as the original.
#[test]
fn serialized_and_read_back_it_answers_the_same() {
    let mut book = Book::new(NAMES);
    book.missing.insert("abde".into());
    let mut t = tracker(5);
    add(&mut t, &book, &val(0, "abc", 0, true), 0);
    add(&mut t, &book, &val(1, "abd", 0, false), 0);
    add(&mut t, &book, &val(2, "abde", 0, true), 0);
    let bytes = postcard::to_allocvec(&t).unwrap();
    let mut back: Validations = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back.trie().dump(), t.trie().dump());
    assert_eq!(
        back.preferred(NOW, NOW, 0, &mut book.lookup())
            .map(|(s, h, _)| (s, h)),
        t.preferred(NOW, NOW, 0, &mut book.lookup())
            .map(|(s, h, _)| (s, h))
    );
    assert_eq!(back.count_for(&hash_of("abc")), 1);
    assert!(back.awaits(&hash_of("abde")));
}
