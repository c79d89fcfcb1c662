//! Fixtures shared by the criterion benchmarks: deterministic keys, transactions, a seeded
//! generator, and an engine closed into the establish phase with peers' positions and disputes.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Arc;

use cpeers::consensus::engine::EngineConfig;
use cpeers::consensus::proposal::{Proposal, SignedProposal, VerifiedProposal};
use cpeers::consensus::{
    Command, ConsensusParams, Engine, Hash256, Input, NodeId, NodeKey, Phase, StartFrom, Time, Tx,
    TxSet, Verifier,
};

/// The network id every fixture signs for.
pub const NET: u32 = 9;

/// Wall time of the genesis round's start (the engine tests use the same origin).
pub const T0: i64 = 86_400_000;

/// `T0 + ms`.
pub fn at(ms: i64) -> Time {
    Time(T0 + ms)
}

/// The `i`th key (key 0 is "us"); distinct for every `i`.
pub fn key(i: u32) -> NodeKey {
    let mut secret = [0x5a; 32];
    secret[..4].copy_from_slice(&(i + 1).to_be_bytes());
    NodeKey::from_secret(secret)
}

/// A small deterministic generator (splitmix64): no dependency, same numbers everywhere.
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Transaction `i` of a family, `len` bytes of printable payload (unique per `(tag, i)`).
pub fn tx(tag: &str, i: usize, len: usize) -> Tx {
    let mut s = format!("{tag}-{i:07}-");
    let fill = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut k = i;
    while s.len() < len {
        s.push(fill[k % fill.len()] as char);
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    s.truncate(len.max(1));
    Tx::new(s).expect("fixture payload within limits")
}

/// `n` transactions of `len` bytes.
pub fn txs(tag: &str, n: usize, len: usize) -> Vec<Tx> {
    (0..n).map(|i| tx(tag, i, len)).collect()
}

/// Keys 0..=peers (us and our peers).
pub fn unl(peers: u32) -> BTreeSet<NodeId> {
    (0..=peers).map(|i| key(i).id()).collect()
}

/// An engine for key 0 trusting keys 0..=peers (mainnet numbers), not started.
pub fn engine(peers: u32) -> Engine {
    engine_with(unl(peers))
}

/// An engine for key 0 trusting `unl` (mainnet numbers), not started.
pub fn engine_with(unl: BTreeSet<NodeId>) -> Engine {
    Engine::new(
        EngineConfig {
            params: ConsensusParams::mainnet(),
            network_id: NET,
            unl,
            validating: true,
            max_pending: 100_000,
        },
        Some(key(0)),
        StartFrom::Genesis,
    )
}

/// Drops every pending output.
pub fn drain(e: &mut Engine) -> usize {
    std::iter::from_fn(|| e.poll_output()).count()
}

/// Starts `e` at `at(0)`, submits `txs`, ticks at `at(1000)` so it closes the genesis child
/// (genesis closes at the first tick) and returns the ledger the round builds on.
pub fn close(e: &mut Engine, txs: Vec<Tx>) -> Hash256 {
    let prev = e.last_closed().hash();
    e.handle(at(0), Input::Start);
    assert!(
        e.handle(at(0), Input::Command(Command::Submit(txs)))
            .is_accepted()
    );
    e.handle(at(1000), Input::Tick);
    assert_eq!(e.phase(), Phase::Establish, "the first tick closes");
    prev
}

/// Peer `i`'s signed proposal of `set` on `prev`, close time as ours (`at(1000)`).
pub fn signed_proposal(i: u32, prev: Hash256, set: &TxSet, seq: u32) -> SignedProposal {
    let k = key(i);
    Proposal {
        prev_ledger: prev,
        position: set.id(),
        close_time: at(1000),
        seq,
        node: k.id(),
    }
    .sign(&k, NET)
}

/// The same, verified.
pub fn proposal(i: u32, prev: Hash256, set: &TxSet, seq: u32) -> VerifiedProposal {
    signed_proposal(i, prev, set, seq)
        .verify(&mut Verifier::new(), NET)
        .expect("genuine signature")
}

/// Everything needed to rebuild an establish-phase round many times without re-signing.
pub struct Round {
    /// Peers (keys 1..=peers).
    pub peers: u32,
    /// Transactions we submit (our position holds all of them).
    pub txs: Vec<Tx>,
    /// Us and the peers (computed once: deriving a public key costs a scalar multiplication).
    pub unl: BTreeSet<NodeId>,
    /// The ledger the round builds on.
    pub prev: Hash256,
    /// Each peer's verified initial proposal and its transaction set.
    pub positions: Vec<(VerifiedProposal, Arc<TxSet>)>,
}

impl Round {
    /// `peers` peers whose positions are seeded random subsets (each transaction kept with
    /// probability `keep_pct`) of `disputes` transactions we propose in full.
    pub fn new(peers: u32, disputes: usize, keep_pct: u64, seed: u64) -> Round {
        let txs = txs("dispute", disputes, 64);
        let prev = engine(peers).last_closed().hash();
        let mut rng = Rng::new(seed);
        let positions = (1..=peers)
            .map(|i| {
                let set = TxSet::new(txs.iter().filter(|_| rng.chance(keep_pct)).cloned());
                (proposal(i, prev, &set, 0), Arc::new(set))
            })
            .collect();
        Round {
            peers,
            txs,
            unl: unl(peers),
            prev,
            positions,
        }
    }

    /// A fresh engine in the establish phase at `at(1000)`: closed with every transaction, then
    /// every peer's proposal (at `at(1100)`) and its set (at `at(1200)`), outputs drained.
    pub fn establish(&self) -> Engine {
        let mut e = engine_with(self.unl.clone());
        let prev = close(&mut e, self.txs.clone());
        assert_eq!(prev, self.prev);
        for (p, _) in &self.positions {
            assert!(e.handle(at(1100), Input::Proposal(p.clone())).is_accepted());
        }
        for (_, set) in &self.positions {
            e.handle(at(1200), Input::TxSet(set.clone()));
        }
        drain(&mut e);
        e
    }
}

/// A deterministic stream of `n` mixed node events, as a busy validator's store sees them:
/// rounds of proposals (some refused, some duplicates), validations, consensus progress checks,
/// position changes and vote changes, an accepted and a fully validated ledger, bow-outs, stale
/// positions, rejected messages and warnings. Returns each event with its arrival time.
pub fn node_events(n: usize, peers: u32) -> Vec<(cpeers::contract::NodeEvent, Time)> {
    use cpeers::consensus::engine::{AcceptedLedger, Event, Mode};
    use cpeers::consensus::rules::ConsensusState;
    use cpeers::consensus::{ConsensusParams, Ledger, Refusal, Verdict};
    use cpeers::contract::{AcceptedSummary, LedgerSummary, NodeEvent};

    let ids: Vec<NodeId> = (1..=peers.max(1)).map(node_id).collect();
    let stranger = node_id(u32::MAX);
    let mut rng = Rng::new(0x5EED);
    let mut out = Vec::with_capacity(n + 64);
    let mut parent = Arc::new(Ledger::genesis(&ConsensusParams::mainnet()));
    let mut t: i64 = 0;
    let mut round: u32 = 0;
    while out.len() < n {
        round += 1;
        let prev = parent.hash();
        let mut push = |ev: NodeEvent, t: &mut i64, step: i64| {
            *t += step;
            out.push((ev, at(*t)));
        };
        push(
            NodeEvent::Consensus {
                event: Event::RoundStarted {
                    prev_ledger: prev,
                    seq: parent.seq() + 1,
                },
            },
            &mut t,
            5,
        );
        for (k, from) in ids.iter().enumerate().take(8) {
            let verdict = match rng.below(10) {
                0 => Verdict::Refused(Refusal::Duplicate),
                1 => Verdict::Refused(Refusal::StaleSeq),
                _ => Verdict::Accepted,
            };
            push(
                NodeEvent::Proposal {
                    from: *from,
                    seq: (rng.below(3)) as u32,
                    prev_ledger: prev,
                    position: Hash256::of(&[b"pos", &round.to_be_bytes(), &[k as u8]]),
                    close_time: at(t),
                    verdict,
                    at: at(t),
                },
                &mut t,
                7,
            );
        }
        push(
            NodeEvent::Proposal {
                from: stranger,
                seq: 0,
                prev_ledger: prev,
                position: Hash256::of(&[b"stranger", &round.to_be_bytes()]),
                close_time: at(t),
                verdict: Verdict::Refused(Refusal::Untrusted),
                at: at(t),
            },
            &mut t,
            3,
        );
        for k in 0..4i64 {
            push(
                NodeEvent::Consensus {
                    event: Event::Progress {
                        round_ms: 2000 + k * 1000,
                        converge_pct: (2000 + k * 1000) * 100 / 15_000,
                        agree_pct: 40 + k * 15,
                        state: if k == 3 {
                            ConsensusState::Yes
                        } else {
                            ConsensusState::No
                        },
                        stalled: false,
                    },
                },
                &mut t,
                250,
            );
            push(
                NodeEvent::Consensus {
                    event: Event::VoteChanged {
                        tx: Hash256::of(&[b"tx", &round.to_be_bytes(), &[k as u8]]),
                        voter: cpeers::consensus::dispute::Voter::Us,
                        yes: k % 2 == 0,
                    },
                },
                &mut t,
                1,
            );
        }
        push(
            NodeEvent::Consensus {
                event: Event::PositionChanged {
                    seq: 1,
                    position: Hash256::of(&[b"ours", &round.to_be_bytes()]),
                    close_time: at(t),
                    txs: 20,
                },
            },
            &mut t,
            2,
        );
        let txs = Arc::new(TxSet::new(
            (0..4).map(|k| tx("ledger", round as usize * 4 + k, 40)),
        ));
        let ledger = Arc::new(Ledger::next(&parent, txs, at(t), true, 10_000));
        let result = if round.is_multiple_of(17) {
            ConsensusState::MovedOn
        } else {
            ConsensusState::Yes
        };
        push(
            NodeEvent::LedgerAccepted(AcceptedSummary::of(&AcceptedLedger {
                ledger: ledger.clone(),
                result,
                round_ms: 2000 + (round % 7) as i64 * 100,
                proposers: ids.len().min(8),
                mode: Mode::Proposing,
                disputes: 3,
                validated: true,
            })),
            &mut t,
            20,
        );
        for from in ids.iter().take(5) {
            push(
                NodeEvent::Validation {
                    from: *from,
                    seq: ledger.seq(),
                    ledger: ledger.hash(),
                    verdict: Verdict::Accepted,
                    at: at(t),
                },
                &mut t,
                6,
            );
        }
        push(
            NodeEvent::LedgerValidated {
                ledger: LedgerSummary::of(&ledger),
            },
            &mut t,
            30,
        );
        match round % 10 {
            3 => push(
                NodeEvent::warning(format!(
                    "peer 12D3KooWbench{round} keeps failing to take messages"
                )),
                &mut t,
                1,
            ),
            6 => push(
                NodeEvent::Rejected {
                    peer: None,
                    from: Some(stranger),
                    channel: "proposals".into(),
                    reason: Refusal::BadSignature,
                },
                &mut t,
                1,
            ),
            8 => push(
                NodeEvent::Consensus {
                    event: Event::PeerBowedOut(ids[round as usize % ids.len()]),
                },
                &mut t,
                1,
            ),
            9 => push(
                NodeEvent::Consensus {
                    event: Event::PositionStale(ids[round as usize % ids.len()]),
                },
                &mut t,
                1,
            ),
            _ => {}
        }
        parent = ledger;
    }
    out.truncate(n);
    out
}

/// A made-up validator key for display-only fixtures (no signing, so no curve arithmetic).
pub fn node_id(i: u32) -> NodeId {
    NodeId(Hash256::of(&[b"node", &i.to_be_bytes()]).0)
}
