//! Engine benchmarks: the establish-phase update (re-voting every dispute), taking one signed
//! proposal, and building and comparing transaction sets.
//!
//! `cargo bench --bench engine`

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use cpeers::consensus::dispute::Voter;
use cpeers::consensus::engine::{Event, Output};
use cpeers::consensus::{Engine, Input, Phase, TxSet, Verifier};
use support::{NET, Round, at, drain, signed_proposal};

/// When the measured tick runs: the round closed at `at(1000)`, so establish time is 2000 ms,
/// past mainnet's `ledger_min_consensus_ms` (1950 ms).
const UPDATE_AT: i64 = 3000;

/// Checks once, outside the measurement, that a round really has `disputes` disputes with a
/// vote from each of `peers` peers, and that the tick at `UPDATE_AT` reaches the consensus
/// check (which only runs after `update_our_positions`).
fn check_round(round: &Round, disputes: usize) {
    let mut e = round.establish();
    let d = e.disputes().expect("closed round has a dispute map");
    assert_eq!(d.len(), disputes, "every transaction is disputed");
    for dispute in d.values() {
        assert_eq!(
            (dispute.yays() + dispute.nays()) as usize,
            round.peers as usize,
            "every peer voted on every dispute"
        );
    }
    let min = e.params().ledger_min_consensus_ms;
    assert!(
        UPDATE_AT - 1000 >= min,
        "measured tick is past min consensus"
    );
    let built = std::time::Instant::now();
    drop(round.establish());
    let setup = built.elapsed();
    e.handle(at(UPDATE_AT), Input::Tick);
    let outs: Vec<Output> = std::iter::from_fn(|| e.poll_output()).collect();
    let progressed = outs
        .iter()
        .any(|o| matches!(o, Output::Event(Event::Progress { .. })));
    assert!(
        progressed,
        "the measured tick ran update_our_positions and the consensus check"
    );
    let flips = outs
        .iter()
        .filter(|o| {
            matches!(
                o,
                Output::Event(Event::VoteChanged {
                    voter: Voter::Us,
                    ..
                })
            )
        })
        .count();
    eprintln!(
        "  round: {} peers, {disputes} disputes; measured tick flips {flips} of our votes, \
         phase after it {:?}; building the round (untimed) takes {setup:.1?}",
        round.peers,
        e.phase(),
    );
}

fn establish_update(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/establish_update");
    // Each iteration rebuilds the round (tens of ms, untimed): keep the sample count low.
    g.sample_size(20);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(6));
    for (peers, disputes) in [(100u32, 1000usize), (500, 100)] {
        // Peers keep each transaction with probability 1/2: maximal disagreement, so our vote
        // on many disputes flips and the update also rebuilds and re-signs our position.
        let round = Round::new(peers, disputes, 50, 0xC0FFEE ^ u64::from(peers));
        check_round(&round, disputes);
        g.bench_function(format!("{peers}peers_{disputes}disputes"), |b| {
            b.iter_batched(
                || {
                    let e = round.establish();
                    assert_eq!(e.disputes().map_or(0, |d| d.len()), disputes);
                    e
                },
                |mut e: Engine| {
                    e.handle(at(UPDATE_AT), Input::Tick);
                    e
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn proposal_verify_apply(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.measurement_time(Duration::from_secs(3));
    // 100 peers with positions on 100 disputed transactions, all their sets held.
    let peers = 100u32;
    let round = Round::new(peers, 100, 50, 0xBEEF);
    let mut e = round.establish();
    assert_eq!(e.phase(), Phase::Establish);
    assert_eq!(e.disputes().map_or(0, |d| d.len()), 100);
    let sets: Vec<_> = round.positions.iter().map(|(_, s)| s.clone()).collect();
    let mut verifier = Verifier::new();
    let mut n: u64 = 0;
    g.bench_function("proposal_verify_apply", |b| {
        b.iter_batched(
            || {
                // Peer i's next position (seq + 1), alternating between two sets we hold, so
                // every proposal is a position change that refreshes the peer's dispute votes.
                let i = (n % u64::from(peers)) as usize;
                let seq = (n / u64::from(peers)) as u32 + 1;
                n += 1;
                let set = &sets[(i + seq as usize % 2) % sets.len()];
                signed_proposal(i as u32 + 1, round.prev, set, seq)
            },
            |signed| {
                let v = signed.verify(&mut verifier, NET).expect("genuine");
                let verdict = e.handle(at(1300), Input::Proposal(v));
                assert!(verdict.is_accepted(), "{verdict:?}");
                drain(&mut e)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn txsets(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    g.measurement_time(Duration::from_secs(3));
    let all = support::txs("set", 11_000, 64);
    let first: Vec<_> = all[..10_000].to_vec();
    g.bench_function("txset_hash_10000", |b| {
        b.iter_batched(
            || first.clone(),
            |txs| {
                let set = TxSet::new(txs);
                debug_assert_eq!(set.len(), 10_000);
                set
            },
            BatchSize::SmallInput,
        )
    });
    let a = TxSet::new(first);
    let b_set = TxSet::new(all[1_000..].iter().cloned());
    assert_eq!((a.len(), b_set.len()), (10_000, 10_000));
    // 10 % of each set is not in the other: 2,000 differences in all.
    assert_eq!(a.diff(&b_set).len(), 2_000);
    g.bench_function("txset_diff_10000", |b| {
        b.iter(|| black_box(&a).diff(black_box(&b_set)))
    });
    g.finish();
}

criterion_group!(benches, establish_update, proposal_verify_apply, txsets);
criterion_main!(benches);
