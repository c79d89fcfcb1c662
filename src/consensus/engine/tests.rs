//! Engine behaviour driven input by input: peer state tracking, bow-outs, stale positions,
//! equivocation, replay, operator commands and observers.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::*;
use crate::consensus::dispute::Voter;
use crate::consensus::keys::Verifier;
use crate::consensus::proposal::{Proposal, SEQ_LEAVE, VerifiedProposal};
use crate::consensus::tx::Tx;
use crate::consensus::validation::Validation;

const T0: i64 = 86_400_000;
const NET: u32 = 9;

fn key(i: u8) -> NodeKey {
    NodeKey::from_secret([i + 1; 32])
}

/// An engine for key 0 trusting keys 0..n.
fn engine(validating: bool, n: u8) -> Engine {
    let unl: BTreeSet<NodeId> = (0..n).map(|i| key(i).id()).collect();
    Engine::new(
        EngineConfig {
            params: ConsensusParams::mainnet(),
            network_id: NET,
            unl,
            validating,
            max_pending: 1000,
        },
        Some(key(0)),
        StartFrom::Genesis,
    )
}

fn drain(e: &mut Engine) -> Vec<Output> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

fn tx(s: &str) -> Tx {
    Tx::new(s).unwrap()
}

fn proposal(from: u8, prev: Hash256, set: &TxSet, seq: u32) -> VerifiedProposal {
    let k = key(from);
    Proposal {
        prev_ledger: prev,
        position: set.id(),
        close_time: Time(T0 + 1000),
        seq,
        node: k.id(),
    }
    .sign(&k, NET)
    .verify(&mut Verifier::new(), NET)
    .unwrap()
}

fn at(ms: i64) -> Time {
    Time(T0 + ms)
}

/// Starts `e`, submits `txs` and ticks once so it closes the (genesis-child) ledger.
fn closed(e: &mut Engine, txs: &[&str]) -> Hash256 {
    let genesis = e.last_closed().hash();
    e.handle(at(0), Input::Start);
    e.handle(
        at(0),
        Input::Command(Command::Submit(txs.iter().map(|t| tx(t)).collect())),
    );
    e.handle(at(1000), Input::Tick);
    assert_eq!(e.phase(), Phase::Establish);
    genesis
}

#[test]
fn untrusted_proposals_are_shown_but_never_counted() {
    let mut e = engine(true, 2);
    let genesis = closed(&mut e, &["a"]);
    let stranger = proposal(7, genesis, &TxSet::new([tx("a")]), 0);
    assert_eq!(
        e.handle(at(1100), Input::Proposal(stranger)),
        Verdict::Refused(Refusal::Untrusted)
    );
    let info = e.info();
    assert!(info.peer_positions.is_empty());
    let s = &e.peers().stats()[&key(7).id()];
    assert!(!s.trusted);
    assert_eq!(s.proposals_seen, 1);
    assert!(s.last_proposal.is_some(), "its position is still shown");
}

#[test]
fn seq_rules_stale_duplicate_and_bow_out() {
    let mut e = engine(true, 3);
    let genesis = closed(&mut e, &["a"]);
    let set = TxSet::new([tx("a")]);
    e.handle(at(1000), Input::TxSet(Arc::new(set.clone())));
    assert!(
        e.handle(at(1100), Input::Proposal(proposal(1, genesis, &set, 2)))
            .is_accepted()
    );
    assert_eq!(
        e.handle(at(1200), Input::Proposal(proposal(1, genesis, &set, 2))),
        Verdict::Refused(Refusal::Duplicate)
    );
    assert_eq!(
        e.handle(at(1300), Input::Proposal(proposal(1, genesis, &set, 1))),
        Verdict::Refused(Refusal::StaleSeq)
    );
    assert!(
        e.handle(
            at(1400),
            Input::Proposal(proposal(1, genesis, &set, SEQ_LEAVE))
        )
        .is_accepted()
    );
    assert!(e.info().dead_nodes.contains(&key(1).id()));
    assert!(!e.info().peer_positions.contains_key(&key(1).id()));
    assert_eq!(
        e.handle(at(1500), Input::Proposal(proposal(1, genesis, &set, 5))),
        Verdict::Refused(Refusal::BowedOut)
    );
    let outs = drain(&mut e);
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::Event(Event::PeerBowedOut(n)) if *n == key(1).id()))
    );
    assert_eq!(
        e.peers().stats()[&key(1).id()].refused[&Refusal::StaleSeq],
        1
    );
}

/// rippled keeps a peer's first proposal for a sequence and ignores a later, different one
/// (`peerProposalInternal`: seq not above the stored one); cpeers also flags the peer as
/// equivocating for the operator, but its first position stays counted.
#[test]
fn an_equivocating_peer_keeps_its_first_position_and_is_flagged() {
    let mut e = engine(true, 3);
    let genesis = closed(&mut e, &["a"]);
    let ours = TxSet::new([tx("a")]);
    let other = TxSet::new([tx("b")]);
    e.handle(at(1000), Input::TxSet(Arc::new(other.clone())));
    assert!(
        e.handle(at(1100), Input::Proposal(proposal(1, genesis, &ours, 0)))
            .is_accepted()
    );
    assert_eq!(
        e.handle(at(1200), Input::Proposal(proposal(1, genesis, &other, 0))),
        Verdict::Refused(Refusal::Equivocation)
    );
    let info = e.info();
    assert_eq!(
        info.peer_positions.get(&key(1).id()).map(|p| p.position),
        Some(ours.id()),
        "the first position stays"
    );
    assert_eq!(info.agree, 1);
    assert!(
        info.peers
            .iter()
            .any(|p| p.node == key(1).id() && p.equivocating && !p.bowed_out)
    );
    assert_eq!(e.peers().stats()[&key(1).id()].equivocations, 1);
    // Its next proposal (a higher seq) is taken as usual.
    assert!(
        e.handle(at(1300), Input::Proposal(proposal(1, genesis, &other, 1)))
            .is_accepted()
    );
}

/// A validator that restarted mid-round and rejoins with a new seq-0 position (closed later
/// than its first one) is not an equivocator: the later proposal is ignored as stale, as
/// rippled ignores any proposal whose seq is not above the one held.
#[test]
fn a_validator_rejoining_with_seq_0_is_not_an_equivocator() {
    let mut e = engine(true, 3);
    let genesis = closed(&mut e, &["a"]);
    let ours = TxSet::new([tx("a")]);
    let other = TxSet::new([tx("b")]);
    assert!(
        e.handle(at(1100), Input::Proposal(proposal(1, genesis, &ours, 0)))
            .is_accepted()
    );
    let k = key(1);
    let rejoin = Proposal {
        prev_ledger: genesis,
        position: other.id(),
        close_time: Time(T0 + 9_000),
        seq: 0,
        node: k.id(),
    }
    .sign(&k, NET)
    .verify(&mut Verifier::new(), NET)
    .unwrap();
    assert_eq!(
        e.handle(at(9_100), Input::Proposal(rejoin)),
        Verdict::Refused(Refusal::StaleSeq)
    );
    let info = e.info();
    assert!(info.peers.iter().all(|p| !p.equivocating));
    assert_eq!(e.peers().stats()[&k.id()].equivocations, 0);
}

#[test]
fn stale_positions_are_dropped_and_unvoted() {
    let mut e = engine(true, 2);
    let genesis = closed(&mut e, &["a"]);
    let theirs = TxSet::new([tx("b")]);
    e.handle(at(1100), Input::Proposal(proposal(1, genesis, &theirs, 0)));
    let asked = drain(&mut e)
        .into_iter()
        .any(|o| matches!(o, Output::AcquireTxSet { id, .. } if id == theirs.id()));
    assert!(asked, "a position we do not hold is fetched");
    e.handle(at(1200), Input::TxSet(Arc::new(theirs.clone())));
    let d = &e.disputes().unwrap()[&tx("b").id()];
    assert_eq!((d.yays(), d.nays()), (1, 0));
    // The peer goes quiet: after 20 s its position is stale, dropped, its votes forgotten.
    let mut stale_at = None;
    for s in 2..=30 {
        e.handle(at(s * 1000), Input::Tick);
        for o in drain(&mut e) {
            if matches!(o, Output::Event(Event::PositionStale(n)) if n == key(1).id()) {
                stale_at = Some(s);
            }
            if let Output::LedgerAccepted(a) = &o {
                assert_eq!(a.proposers, 0, "the stale peer no longer counts");
            }
        }
        if stale_at.is_some() {
            break;
        }
    }
    let s = stale_at.expect("position went stale");
    assert!(
        (21..=23).contains(&s),
        "stale after the 20 s freshness window, at {s}"
    );
}

#[test]
fn buffered_proposals_are_replayed_when_the_round_starts() {
    let mut e = engine(true, 3);
    let genesis = e.last_closed().hash();
    let set = TxSet::new([tx("a")]);
    // Arrives before we start: kept in the peer's recent buffer.
    assert!(
        e.handle(at(0), Input::Proposal(proposal(2, genesis, &set, 0)))
            .is_accepted()
    );
    assert!(e.info().peer_positions.is_empty());
    e.handle(at(10), Input::Start);
    assert!(e.info().peer_positions.contains_key(&key(2).id()));
    // A proposal on a ledger we are not on is kept for replay, not counted.
    let elsewhere = Hash256::of(&[b"other ledger"]);
    assert!(
        e.handle(at(20), Input::Proposal(proposal(1, elsewhere, &set, 0)))
            .is_accepted()
    );
    let info = e.info();
    assert!(!info.peer_positions.contains_key(&key(1).id()));
    assert!(
        info.peers
            .iter()
            .any(|p| p.node == key(1).id() && p.other_ledger)
    );
}

#[test]
fn injected_position_is_signed_as_our_next_proposal() {
    let mut e = engine(true, 2);
    closed(&mut e, &["a"]);
    drain(&mut e);
    let verdict = e.handle(
        at(1100),
        Input::Command(Command::InjectPosition {
            txs: vec![tx("a"), tx("z")],
            close_time: Some(at(5000)),
        }),
    );
    assert!(verdict.is_accepted());
    let sent: Vec<_> = drain(&mut e)
        .into_iter()
        .filter_map(|o| match o {
            Output::Broadcast(Message::Proposal(p)) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    let p = (*sent[0])
        .clone()
        .verify(&mut Verifier::new(), NET)
        .unwrap();
    assert_eq!(p.proposal().seq, 1);
    assert_eq!(p.proposal().node, key(0).id());
    assert_eq!(p.proposal().position, TxSet::new([tx("a"), tx("z")]).id());
    assert_eq!(p.proposal().close_time, at(5000));
    // Not applicable while open.
    let mut idle = engine(true, 2);
    idle.handle(at(0), Input::Start);
    assert_eq!(
        idle.handle(
            at(1),
            Input::Command(Command::InjectPosition {
                txs: vec![],
                close_time: None
            })
        ),
        Verdict::Refused(Refusal::NotApplicable)
    );
}

#[test]
fn overridden_vote_is_pinned_until_released() {
    let mut e = engine(true, 4);
    let genesis = closed(&mut e, &["a"]);
    let theirs = TxSet::new([tx("a"), tx("b")]);
    for peer in 1..=3 {
        e.handle(
            at(1100),
            Input::Proposal(proposal(peer, genesis, &theirs, 0)),
        );
    }
    assert!(
        e.handle(at(1150), Input::TxSet(Arc::new(theirs.clone())))
            .is_accepted()
    );
    drain(&mut e);
    // All three peers want "b": left alone we would vote yes at the first update (75 > 50).
    let b = tx("b").id();
    assert!(
        e.handle(
            at(1200),
            Input::Command(Command::OverrideVote {
                tx: b,
                vote: Some(false)
            })
        )
        .is_accepted()
    );
    for s in 2..6 {
        e.handle(at(s * 1000), Input::Tick);
        let d = &e.disputes().expect("still establishing")[&b];
        assert!(!d.our_vote(), "pinned vote changed at {s}s");
        assert!(d.pinned());
    }
    // Released: the avalanche takes over again and flips it.
    e.handle(
        at(6100),
        Input::Command(Command::OverrideVote { tx: b, vote: None }),
    );
    e.handle(at(7000), Input::Tick);
    let outs = drain(&mut e);
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::Event(Event::VoteChanged { voter: Voter::Us, yes: true, tx }) if *tx == b
    )));
}

#[test]
fn observers_never_propose_or_validate() {
    let mut e = engine(false, 3);
    e.handle(at(0), Input::Start);
    e.handle(at(0), Input::Command(Command::Submit(vec![tx("a")])));
    for s in 1..40 {
        e.handle(at(s * 1000), Input::Tick);
    }
    let outs = drain(&mut e);
    assert!(
        outs.iter().any(|o| matches!(o, Output::LedgerAccepted(_))),
        "it still follows"
    );
    assert!(!outs.iter().any(|o| matches!(
        o,
        Output::Broadcast(Message::Proposal(_)) | Output::Broadcast(Message::Validation(_))
    )));
    assert_eq!(e.mode(), Mode::Observing);
}

#[test]
fn refusals_before_the_engine_are_counted_against_the_claimed_sender() {
    let mut e = engine(true, 2);
    e.handle(
        at(0),
        Input::Refused {
            from: Some(key(1).id()),
            why: Refusal::BadSignature,
        },
    );
    assert_eq!(
        e.peers().stats()[&key(1).id()].refused[&Refusal::BadSignature],
        1
    );
    assert_eq!(e.counters().refused[&Refusal::BadSignature], 1);
}

#[test]
fn trusted_validation_of_an_unknown_ledger_is_fetched() {
    let mut e = engine(true, 3);
    e.handle(at(0), Input::Start);
    drain(&mut e);
    let k = key(1);
    let unknown = Hash256::of(&[b"ledger we never saw"]);
    let v = Validation {
        ledger: unknown,
        seq: 4,
        tx_set: Hash256::ZERO,
        full: true,
        sign_time: at(0),
        node: k.id(),
    }
    .sign(&k, NET)
    .verify(&mut Verifier::new(), NET)
    .unwrap();
    assert!(e.handle(at(10), Input::Validation(v.clone())).is_accepted());
    let outs = drain(&mut e);
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::AcquireLedger { hash, .. } if *hash == unknown))
    );
    assert_eq!(
        e.handle(at(20), Input::Validation(v)),
        Verdict::Refused(Refusal::Duplicate)
    );
    // Signed an hour ago: not current.
    let old = Validation {
        ledger: unknown,
        seq: 5,
        tx_set: Hash256::ZERO,
        full: true,
        sign_time: at(-3_600_000),
        node: k.id(),
    }
    .sign(&k, NET)
    .verify(&mut Verifier::new(), NET)
    .unwrap();
    assert_eq!(
        e.handle(at(30), Input::Validation(old)),
        Verdict::Refused(Refusal::StaleValidation)
    );
}

#[test]
fn unrequested_sets_and_ledgers_are_refused() {
    let mut e = engine(true, 2);
    e.handle(at(0), Input::Start);
    let junk = Arc::new(TxSet::new([tx("junk")]));
    assert_eq!(
        e.handle(at(1), Input::TxSet(junk)),
        Verdict::Refused(Refusal::Unrequested)
    );
    let g = e.last_closed().clone();
    let l = Arc::new(Ledger::next(
        &g,
        Arc::new(TxSet::empty()),
        at(5),
        true,
        10_000,
    ));
    assert_eq!(
        e.handle(at(2), Input::Ledger(l)),
        Verdict::Refused(Refusal::Unrequested)
    );
}

#[test]
fn big_submissions_are_broadcast_in_wire_sized_batches() {
    let mut e = engine(true, 2);
    e.handle(at(0), Input::Start);
    drain(&mut e);
    let txs: Vec<Tx> = (0..900).map(|i| tx(&format!("t{i}"))).collect();
    assert!(
        e.handle(at(1), Input::Command(Command::Submit(txs)))
            .is_accepted()
    );
    let sizes: Vec<usize> = drain(&mut e)
        .into_iter()
        .filter_map(|o| match o {
            Output::Broadcast(Message::Txs(t)) => Some(t.len()),
            _ => None,
        })
        .collect();
    assert_eq!(
        sizes,
        vec![MAX_TXS_PER_BROADCAST, 900 - MAX_TXS_PER_BROADCAST]
    );
}

#[test]
fn validated_seq_is_persisted_before_the_validation_is_sent() {
    // Alone with a one-validator UNL: the round ends after ledgerMAX_CONSENSUS.
    let mut e = engine(true, 1);
    e.handle(at(0), Input::Start);
    let mut outs = Vec::new();
    for s in 1..30 {
        e.handle(at(s * 1000), Input::Tick);
        outs.extend(drain(&mut e));
    }
    let persist = outs
        .iter()
        .position(|o| matches!(o, Output::PersistValidatedSeq(1)))
        .expect("seq 1 persisted");
    let send = outs
        .iter()
        .position(
            |o| matches!(o, Output::Broadcast(Message::Validation(v)) if v.validation.seq == 1),
        )
        .expect("validation for seq 1 sent");
    assert_eq!(persist + 1, send, "persist immediately before sending");
    assert_eq!(e.largest_validated_seq(), e.fully_validated().seq());
}
