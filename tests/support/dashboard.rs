//! A dashboard fixture for TUI tests: a deterministic simulated round (the slow-peer scenario,
//! seen from the slow validator while its disputes are open) turned into a node snapshot, plus a
//! store fed with known events, so renders are byte-for-byte stable.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use cpeers::consensus::engine::{AcceptedLedger, Event, Mode};
use cpeers::consensus::rules::ConsensusState;
use cpeers::consensus::{Engine, Ledger, Refusal, Time, Tx, TxSet, Verdict};
use cpeers::contract::{
    AcceptedSummary, LedgerSummary, NodeEvent, NodeSnapshot, PeerLink, Traffic, ValidatedLedger,
};
use cpeers::sim::{Scenario, Simulation};
use cpeers::store::{Store, StoreLimits};

/// The paused simulation (the engines stay inspectable).
pub fn simulation() -> Simulation {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/slow_peer.toml");
    let mut sc = Scenario::load(&path).expect("scenario");
    sc.rounds = None; // tests run it further by hand
    sc.max_time_ms = 120_000;
    let mut sim = Simulation::new(sc);
    assert_eq!(sim.run_until(4_500), None);
    sim
}

/// The engine the dashboard shows.
pub fn ours(sim: &Simulation) -> &Engine {
    sim.engine("slow0").expect("slow0")
}

fn at(ms: i64) -> Time {
    Time(86_400_000 + ms)
}

/// A node snapshot of `engine` with fixed network facts.
pub fn snapshot(sim: &Simulation, engine: &Engine) -> NodeSnapshot {
    let info = engine.info();
    let names = ["slow0", "fast0", "fast1", "fast2", "fast3"];
    let peers = names
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != "slow0")
        .map(|(i, n)| {
            let node = sim.engine(n).expect("node").node_id();
            PeerLink {
                peer_id: format!("12D3KooWfixture{i}"),
                node: Some(node),
                addr: format!("/ip4/10.0.0.{}/tcp/51235", i + 1),
                rtt_ms: Some(2200.0 + i as f64),
                trusted: true,
                subscribed: true,
                score: Some(10.0),
                agent: Some("cpeers/0.1.0".into()),
            }
        })
        .collect();
    NodeSnapshot {
        network_id: 7,
        peer_id: "12D3KooWfixture0".into(),
        listen: vec!["/ip4/10.0.0.1/tcp/51235".into()],
        started: true,
        info,
        peers,
        traffic: Traffic::default(),
        store_errors: 0,
        recent_validated: vec![ValidatedLedger {
            seq: 0,
            hash: engine.fully_validated().hash(),
            txs: 0,
            close_time: at(0),
            validated_at: at(0),
        }],
        latency: Default::default(),
        engine: engine.counters().clone(),
        held: engine.held().into_iter().map(Into::into).collect(),
        rss_mib: None,
        submissions: Default::default(),
        api: Default::default(),
    }
}

/// A store holding `snap`, named nodes, and a known history of events.
pub fn store(sim: &Simulation, snap: NodeSnapshot) -> Store {
    let mut store = Store::new(StoreLimits::default());
    for name in ["slow0", "fast0", "fast1", "fast2", "fast3"] {
        store.set_alias(sim.engine(name).expect("node").node_id(), name.into());
    }
    store.set_snapshot(Arc::new(snap));
    let fast0 = sim.engine("fast0").expect("node").node_id();
    let fast1 = sim.engine("fast1").expect("node").node_id();
    let stranger = cpeers::consensus::NodeKey::from_secret([9; 32]).id();
    let genesis = ours(sim).last_closed().clone();
    let mut parent = genesis;
    for seq in 1..=4u32 {
        let txs = Arc::new(TxSet::new(
            (0..seq).map(|k| Tx::new(format!("fixture-{seq}-{k}")).expect("tx")),
        ));
        let l = Arc::new(Ledger::next(
            &parent,
            txs,
            at(seq as i64 * 4000),
            seq != 3,
            10_000,
        ));
        store.apply(
            &NodeEvent::LedgerAccepted(AcceptedSummary::of(&AcceptedLedger {
                ledger: l.clone(),
                result: if seq == 2 {
                    ConsensusState::MovedOn
                } else {
                    ConsensusState::Yes
                },
                round_ms: 2000 + seq as i64 * 150,
                proposers: 4,
                mode: Mode::Proposing,
                disputes: 1,
                validated: true,
            })),
            at(seq as i64 * 4000),
        );
        store.apply(
            &NodeEvent::LedgerValidated {
                ledger: LedgerSummary::of(&l),
            },
            at(seq as i64 * 4000 + 120),
        );
        parent = l;
    }
    let prev = ours(sim).network_ledger();
    for (k, (from, seq, verdict)) in [
        (fast0, 0u32, Verdict::Accepted),
        (fast1, 0, Verdict::Accepted),
        (fast0, 1, Verdict::Accepted),
        (stranger, 0, Verdict::Refused(Refusal::Untrusted)),
        (fast1, u32::MAX, Verdict::Accepted),
    ]
    .into_iter()
    .enumerate()
    {
        store.apply(
            &NodeEvent::Proposal {
                from,
                seq,
                prev_ledger: prev,
                position: cpeers::consensus::Hash256::of(&[b"pos", &[k as u8]]),
                close_time: at(3000),
                verdict,
                at: at(3100 + k as i64 * 10),
            },
            at(3100 + k as i64 * 10),
        );
    }
    store.apply(
        &NodeEvent::Rejected {
            peer: None,
            from: Some(stranger),
            channel: "proposals".into(),
            reason: Refusal::BadSignature,
        },
        at(3200),
    );
    store.apply(
        &NodeEvent::warning("peer 12D3KooWslow keeps failing to take messages"),
        at(3300),
    );
    for (ms, pct) in [(2000, 20), (3000, 40), (4000, 60)] {
        store.apply(
            &NodeEvent::Consensus {
                event: Event::Progress {
                    round_ms: ms,
                    converge_pct: ms * 100 / 15_000,
                    agree_pct: pct,
                    state: ConsensusState::No,
                    stalled: false,
                },
            },
            at(ms),
        );
    }
    store
}
