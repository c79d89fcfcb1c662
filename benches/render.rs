//! Dashboard benchmark: one full frame (header, six panels, footer) rendered into ratatui's
//! `TestBackend` at 200x60, from a node snapshot with many peers and disputes and a store whose
//! feeds are full.
//!
//! The snapshot starts from a real engine's `info()` (so every field is valid) and its vectors
//! and maps are then filled with deterministic synthetic rows. Every iteration draws into a new
//! terminal, so the whole screen is written to the backend (no diff against an equal frame).
//!
//! `cargo bench --bench render`

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use cpeers::consensus::avalanche::AvalancheState;
use cpeers::consensus::engine::{DisputeInfo, PeerInfo, PositionInfo};
use cpeers::consensus::peers::{PeerStats, ProposalSummary};
use cpeers::consensus::{Hash256, Input, NodeId, Refusal, Time};
use cpeers::contract::{NodeSnapshot, PeerLink, Traffic, ValidatedLedger};
use cpeers::store::{Store, StoreLimits};
use cpeers::tui::app::App;
use cpeers::tui::frame;
use cpeers::tui::theme::Theme;
use support::{Rng, Round, at, drain, node_id};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

/// A snapshot of a node in the establish phase with `peers` peers and `disputes` disputes.
fn snapshot(peers: u32, disputes: usize, now: Time) -> NodeSnapshot {
    // A real engine in the establish phase, after a consensus check: every field is valid.
    let round = Round::new(4, 20, 50, 7);
    let mut e = round.establish();
    e.handle(at(3000), Input::Tick);
    drain(&mut e);
    let mut info = e.info();
    let ours = info
        .our_position
        .clone()
        .expect("closed round has a position");
    let mut rng = Rng::new(u64::from(peers) * 1_000_003 + disputes as u64);
    let ids: Vec<NodeId> = (1..=peers).map(node_id).collect();
    let alternatives: Vec<Hash256> = (0..4u8).map(|k| Hash256::of(&[b"alt", &[k]])).collect();

    info.now = now;
    info.peers.clear();
    info.peer_positions.clear();
    info.dead_nodes.clear();
    let (mut agree, mut disagree) = (0, 0);
    for (k, id) in ids.iter().enumerate() {
        let roll = rng.below(100);
        let has_position = roll < 85;
        let bowed_out = (85..88).contains(&roll);
        let stale = (88..92).contains(&roll);
        let other_ledger = (92..96).contains(&roll);
        let equivocating = roll == 96;
        let agrees = has_position && rng.chance(70);
        let position = if agrees {
            ours.position
        } else {
            alternatives[k % alternatives.len()]
        };
        let seq = rng.below(4) as u32;
        let received = now.plus(-(rng.below(if stale { 30_000 } else { 3_000 }) as i64));
        let mut refused = BTreeMap::new();
        if k % 7 == 0 {
            refused.insert(Refusal::StaleSeq, 1 + rng.below(3));
        }
        if k % 29 == 0 {
            refused.insert(Refusal::BadSignature, 1);
        }
        info.peers.push(PeerInfo {
            node: *id,
            stats: PeerStats {
                trusted: k % 10 != 9,
                proposals_seen: 10 + rng.below(500),
                validations_seen: 5 + rng.below(200),
                position_changes: rng.below(50),
                refused,
                last_seen: Some(received),
                last_proposal: Some(ProposalSummary {
                    prev_ledger: if other_ledger {
                        alternatives[0]
                    } else {
                        info.network_ledger
                    },
                    position,
                    close_time: ours.close_time,
                    seq,
                    received,
                }),
                last_validated_seq: Some(info.fully_validated.seq),
                last_validated_ledger: Some(info.fully_validated.hash),
                equivocations: u64::from(equivocating),
            },
            has_position,
            agrees,
            bowed_out,
            other_ledger,
            stale,
            equivocating,
        });
        if has_position {
            info.peer_positions.insert(
                *id,
                PositionInfo {
                    position,
                    seq,
                    close_time: ours.close_time,
                    txs: ours.txs + usize::from(!agrees) * 3,
                    bowed_out: false,
                },
            );
            if agrees {
                agree += 1;
            } else {
                disagree += 1;
            }
        }
        if bowed_out {
            info.dead_nodes.push(*id);
        }
    }
    info.agree = agree;
    info.disagree = disagree;
    info.agree_pct = ((agree + 1) * 100 / (agree + disagree + 1)) as i64;
    info.close_times = [
        (ours.close_time, (agree + 1) as u32),
        (ours.close_time.plus(10_000), disagree as u32),
    ]
    .into_iter()
    .collect();
    info.acquired = std::iter::once(ours.position)
        .chain(alternatives.iter().copied())
        .collect();

    let voters = (agree + disagree) as u32;
    info.disputes = (0..disputes)
        .map(|k| {
            let tx = support::tx("dispute", k, 40 + k % 80);
            let yays = rng.below(u64::from(voters) + 1) as u32;
            let nays = voters - yays;
            let avalanche = match rng.below(4) {
                0 => AvalancheState::Init,
                1 => AvalancheState::Mid,
                2 => AvalancheState::Late,
                _ => AvalancheState::Stuck,
            };
            let needed_pct = match avalanche {
                AvalancheState::Init => 50,
                AvalancheState::Mid => 65,
                AvalancheState::Late => 70,
                AvalancheState::Stuck => 95,
            };
            let our_vote = rng.chance(50);
            let support_pct =
                ((i64::from(yays) + i64::from(our_vote)) * 100) / (i64::from(voters) + 1);
            let mut preview = tx.text();
            preview.truncate(48);
            DisputeInfo {
                tx: tx.id(),
                preview,
                our_vote,
                yays,
                nays,
                support_pct,
                needed_pct,
                avalanche,
                stalled: rng.chance(5),
                flips: rng.below(6) as u32,
                pinned: k % 97 == 0,
                votes_to_flip: (!rng.chance(10)).then(|| rng.below(u64::from(voters) + 1) as u32),
            }
        })
        .collect();

    // Connections: most peers are connected; a few are known only from the engine.
    let links = ids
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 20 != 19)
        .map(|(k, id)| PeerLink {
            peer_id: format!("12D3KooWbenchPeer{k:06}"),
            node: Some(*id),
            addr: format!(
                "/ip4/10.{}.{}.{}/tcp/51235",
                k / 65536,
                k / 256 % 256,
                k % 256
            ),
            rtt_ms: Some(0.5 + (k % 300) as f64),
            trusted: k % 10 != 9,
            subscribed: true,
            score: Some(10.0 - (k % 5) as f64),
            agent: Some("cpeers/0.1.0".into()),
        })
        .collect();
    let mut traffic = Traffic::default();
    for (kind, n) in [
        ("proposal", 90_000u64),
        ("validation", 40_000),
        ("transactions", 7_000),
    ] {
        traffic.messages_in.insert(kind.into(), n);
        traffic.messages_out.insert(kind.into(), n / 10);
        traffic.bytes_in.insert(kind.into(), n * 180);
        traffic.bytes_out.insert(kind.into(), n * 18);
    }
    traffic.rejected.insert(Refusal::BadSignature, 3);
    NodeSnapshot {
        network_id: 7,
        peer_id: "12D3KooWbenchSelf".into(),
        listen: vec!["/ip4/10.0.0.1/tcp/51235".into()],
        started: true,
        info,
        peers: links,
        traffic,
        store_errors: 0,
        recent_validated: vec![ValidatedLedger {
            seq: 0,
            hash: e.fully_validated().hash(),
            txs: 0,
            close_time: at(0),
            validated_at: at(0),
        }],
        latency: Default::default(),
        engine: e.counters().clone(),
        held: e.held().into_iter().map(Into::into).collect(),
        rss_mib: None,
        submissions: Default::default(),
        api: Default::default(),
    }
}

/// A store holding the snapshot, a few names, and feeds filled by a few thousand events
/// (hundreds of proposals and ledgers, log lines, the agreement chart).
fn store(peers: u32, disputes: usize) -> Store {
    let events = support::node_events(3_000, peers);
    let now = events.last().map_or(at(0), |(_, t)| *t).plus(500);
    let mut store = Store::new(StoreLimits::default());
    for k in 1..=peers.min(5) {
        store.set_alias(node_id(k), format!("val{k}"));
    }
    store.set_snapshot(Arc::new(snapshot(peers, disputes, now)));
    for (ev, t) in &events {
        store.apply(ev, *t);
    }
    store
}

fn draw(app: &App, store: &Store) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    t.draw(|f| frame::draw(f, app, store)).expect("draw");
    t
}

/// Checks once that the frame shows every peer and dispute and full feeds.
fn check(app: &App, store: &Store, peers: u32, disputes: usize) {
    let t = draw(app, store);
    let screen = t.backend().to_string();
    // Us plus every peer (all are known to the engine).
    assert!(
        screen.contains(&format!(" {} · sort", peers + 1)),
        "peers panel lists {} rows",
        peers + 1
    );
    assert!(
        screen.contains(&format!(" {disputes} · sort")),
        "disputes panel lists {disputes} rows"
    );
    assert!(store.proposals().len() >= 200, "proposal feed is full");
    assert!(store.ledgers().len() >= 50, "ledger feed is full");
    assert!(store.log().len() >= 10, "log has lines");
}

fn render(c: &mut Criterion) {
    let mut g = c.benchmark_group("render/frame");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    let app = App::new(Theme::default(), false);
    for (peers, disputes) in [(5u32, 1000usize), (100, 1000), (1000, 1000), (1000, 10_000)] {
        let store = store(peers, disputes);
        check(&app, &store, peers, disputes);
        g.bench_function(format!("{peers}peers_{disputes}disputes"), |b| {
            b.iter_batched(
                || Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal"),
                |mut t| {
                    t.draw(|f| frame::draw(f, &app, &store)).expect("draw");
                    t
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
