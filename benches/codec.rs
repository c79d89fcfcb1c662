//! Wire codec benchmarks (`net::wire`): encoding and decoding a proposal, a validation, a full
//! gossip batch of 512 transactions of 200 bytes, and a ledger response holding 10,000
//! transactions. Decoding includes everything a receiver's decoder does (limits, transaction
//! budget, building and hashing every transaction, the canonical-encoding check); signatures
//! and the ledger's tx-set hash are checked later, outside the codec, and are not included.
//!
//! `cargo bench --bench codec`

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

use cpeers::consensus::validation::Validation;
use cpeers::consensus::{ConsensusParams, Hash256, Ledger, TxSet};
use cpeers::net::wire::{
    Gossip, MAX_TXS_PER_BATCH, Response, WireLedger, decode_gossip, decode_response, encode_gossip,
    encode_response,
};
use support::{NET, at, key, signed_proposal};

enum Msg {
    Gossip(Gossip),
    Response(Response),
}

impl Msg {
    fn encode(&self) -> Vec<u8> {
        match self {
            Msg::Gossip(g) => encode_gossip(g).expect("encodes"),
            Msg::Response(r) => encode_response(r).expect("encodes"),
        }
    }

    /// Decodes `bytes` as this kind of message and checks it is the same message.
    fn decodes_back(&self, bytes: &[u8]) -> bool {
        match self {
            Msg::Gossip(g) => decode_gossip(bytes).as_ref() == Ok(g),
            Msg::Response(r) => decode_response(bytes).as_ref() == Ok(r),
        }
    }
}

fn messages() -> Vec<(&'static str, Msg)> {
    let prev = Hash256::of(&[b"bench-prev"]);
    let set = TxSet::new(support::txs("prop", 10, 32));
    let proposal = signed_proposal(1, prev, &set, 3);
    let k = key(2);
    let validation = Validation {
        ledger: Hash256::of(&[b"bench-ledger"]),
        seq: 42,
        tx_set: set.id(),
        full: true,
        sign_time: at(5000),
        node: k.id(),
    }
    .sign(&k, NET);
    let batch = support::txs("batch", MAX_TXS_PER_BATCH, 200);
    let genesis = Ledger::genesis(&ConsensusParams::mainnet());
    let big = Arc::new(TxSet::new(support::txs("ledger", 10_000, 200)));
    let ledger = Ledger::next(&genesis, big, at(4000), true, 10_000);
    vec![
        ("proposal", Msg::Gossip(Gossip::Proposal(proposal))),
        ("validation", Msg::Gossip(Gossip::Validation(validation))),
        ("txs_512x200B", Msg::Gossip(Gossip::Txs(batch))),
        (
            "ledger_10000txs",
            Msg::Response(Response::Ledgers(vec![WireLedger::from_ledger(&ledger)])),
        ),
    ]
}

/// Throughput in bytes; fewer samples for the large messages so they fit in the group's time.
fn sized(g: &mut BenchmarkGroup<'_, WallTime>, bytes: &[u8]) {
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    if bytes.len() > 1 << 20 {
        g.sample_size(20).sampling_mode(SamplingMode::Flat);
    } else if bytes.len() > 1 << 16 {
        g.sample_size(50).sampling_mode(SamplingMode::Auto);
    } else {
        g.sample_size(100).sampling_mode(SamplingMode::Auto);
    }
}

fn codec(c: &mut Criterion) {
    let msgs = messages();
    let encoded: Vec<Vec<u8>> = msgs.iter().map(|(_, m)| m.encode()).collect();
    for ((name, m), bytes) in msgs.iter().zip(&encoded) {
        assert!(m.decodes_back(bytes), "{name} round-trips");
        eprintln!("  codec fixture {name}: {} bytes", bytes.len());
    }

    let mut g = c.benchmark_group("codec/encode");
    g.measurement_time(Duration::from_secs(2));
    for ((name, m), bytes) in msgs.iter().zip(&encoded) {
        sized(&mut g, bytes);
        g.bench_function(*name, |b| b.iter(|| black_box(m).encode()));
    }
    g.finish();

    let mut g = c.benchmark_group("codec/decode");
    g.measurement_time(Duration::from_secs(2));
    for ((name, m), bytes) in msgs.iter().zip(&encoded) {
        sized(&mut g, bytes);
        match m {
            Msg::Gossip(_) => g.bench_function(*name, |b| {
                b.iter(|| decode_gossip(black_box(bytes)).expect("decodes"))
            }),
            Msg::Response(_) => g.bench_function(*name, |b| {
                b.iter(|| decode_response(black_box(bytes)).expect("decodes"))
            }),
        };
    }
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
