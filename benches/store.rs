//! State store benchmark: folding a long stream of node events into a fresh `Store`.
//!
//! `cargo bench --bench store`

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use cpeers::contract::NodeEvent;
use cpeers::store::{Store, StoreLimits};

const EVENTS: usize = 100_000;

fn kind(ev: &NodeEvent) -> &'static str {
    match ev {
        NodeEvent::Proposal { .. } => "proposal",
        NodeEvent::Validation { .. } => "validation",
        NodeEvent::LedgerAccepted(_) => "ledger_accepted",
        NodeEvent::LedgerValidated { .. } => "ledger_validated",
        NodeEvent::Consensus { .. } => "consensus",
        NodeEvent::Warning { .. } => "warning",
        NodeEvent::Rejected { .. } => "rejected",
        _ => "other",
    }
}

fn fold(c: &mut Criterion) {
    let events = support::node_events(EVENTS, 20);
    assert_eq!(events.len(), EVENTS);
    let mut mix: BTreeMap<&str, usize> = BTreeMap::new();
    for (ev, _) in &events {
        *mix.entry(kind(ev)).or_default() += 1;
    }
    eprintln!("  event mix: {mix:?}");
    {
        let mut s = Store::new(StoreLimits::default());
        for (ev, now) in &events {
            s.apply(ev, *now);
        }
        assert_eq!(s.events_seen(), EVENTS as u64);
        assert!(s.proposals().iter().count() > 0 && s.ledgers().iter().count() > 0);
        assert!(s.log().iter().count() > 0 && s.durations().iter().count() > 0);
    }

    let mut g = c.benchmark_group("store");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("fold_100000_events", |b| {
        b.iter_batched(
            || Store::new(StoreLimits::default()),
            |mut s| {
                for (ev, now) in &events {
                    s.apply(ev, *now);
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, fold);
criterion_main!(benches);
