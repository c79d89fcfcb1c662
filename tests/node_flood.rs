//! Flooding a real node: one peer pushes 10,000 valid-looking but useless proposals a second
//! (signed by its own key, outside every UNL) and hammers the node with requests for its longest
//! ledger chain. The honest cluster keeps validating at a comparable pace, the flooder is rate
//! limited and loses its gossip score, and the node's memory does not run away.

use std::path::Path;
use std::time::{Duration, Instant};

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::proposal::Proposal;
use cpeers::consensus::{Hash256, NodeKey, Profile, Time};
use cpeers::net::behaviour::{BehaviourEvent, NetConfig, build_swarm};
use cpeers::net::topics::{TopicKind, Topics};
use cpeers::net::wire::{Gossip, Request, encode_gossip};
use libp2p::futures::StreamExt;
use libp2p::gossipsub;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// Ledgers node 0 fully validated per second over `secs`.
fn pace(c: &LocalCluster, secs: u64) -> f64 {
    let start = c.validated_seq(0).unwrap_or(0);
    std::thread::sleep(Duration::from_secs(secs));
    let end = c.validated_seq(0).unwrap_or(0);
    (end - start) as f64 / secs as f64
}

#[test]
fn a_flooding_peer_does_not_stop_validation() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let c = LocalCluster::start(bin, "flood", 4, Profile::Fast).expect("cluster");
    let all: Vec<usize> = (0..4).collect();
    assert!(
        c.wait_for(Duration::from_secs(30), |c| c.min_validated(&all) >= 3),
        "{}",
        c.tails()
    );
    let calm = pace(&c, 4);
    let pid = c.nodes[0].pid().expect("running");
    let rss_before = rss_mib(pid);

    let target: Multiaddr = c.nodes[0].p2p.parse().unwrap();
    let target_peer: PeerId = c.nodes[0].p2p.rsplit('/').next().unwrap().parse().unwrap();
    let network = c.network_id;
    let status = c.status(0).unwrap();
    let fv_hash =
        Hash256::from_hex(status["info"]["fully_validated"]["hash"].as_str().unwrap()).unwrap();

    let (pace_flooded, sent, requests) = std::thread::scope(|s| {
        let flood = s.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let key = NodeKey::from_secret([77; 32]);
                let mut swarm = build_swarm(&key, &NetConfig::new(network)).unwrap();
                swarm.dial(target).unwrap();
                let topic = Topics::new(network).topic(TopicKind::Proposals).clone();
                let subscribed_by = tokio::time::Instant::now() + Duration::from_secs(10);
                loop {
                    match tokio::time::timeout_at(subscribed_by, swarm.select_next_some()).await {
                        Ok(SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                            gossipsub::Event::Subscribed { peer_id, topic: t },
                        ))) if peer_id == target_peer && t == topic.hash() => break,
                        Ok(_) => {}
                        Err(_) => panic!("the node never subscribed"),
                    }
                }
                // Signed in advance, so the flood is limited by the wire, not by our signing.
                let msgs: Vec<Vec<u8>> = (1..=60_000u32)
                    .map(|seq| {
                        let p = Proposal {
                            prev_ledger: Hash256::of(&[b"nothing"]),
                            position: Hash256::of(&[&seq.to_be_bytes()]),
                            close_time: Time(seq as i64),
                            seq,
                            node: key.id(),
                        }
                        .sign(&key, network);
                        encode_gossip(&Gossip::Proposal(p)).unwrap()
                    })
                    .collect();
                let mut msgs = msgs.into_iter();
                let began = Instant::now();
                let end = began + Duration::from_secs(5);
                let mut sent = 0u64;
                let mut attempted = 0u64;
                let mut requests = 0u64;
                while Instant::now() < end {
                    // Catch up to 10 proposals per elapsed millisecond: 10,000 a second.
                    let due = (began.elapsed().as_millis() as u64 * 10).saturating_sub(attempted)
                        as usize;
                    for bytes in msgs.by_ref().take(due) {
                        attempted += 1;
                        if swarm
                            .behaviour_mut()
                            .gossipsub
                            .publish(topic.clone(), bytes)
                            .is_ok()
                        {
                            sent += 1;
                        }
                    }
                    swarm.behaviour_mut().sync.send_request(
                        &target_peer,
                        Ok(Request::Ledgers {
                            hash: fv_hash,
                            back_to: 0,
                            max: 256,
                        }),
                    );
                    requests += 1;
                    let tick = tokio::time::Instant::now() + Duration::from_millis(1);
                    while tokio::time::timeout_at(tick, swarm.select_next_some())
                        .await
                        .is_ok()
                    {}
                }
                (attempted, sent, requests)
            })
        });
        std::thread::sleep(Duration::from_millis(2500));
        let p = pace(&c, 4);
        let (attempted, sent, requests) = flood.join().unwrap();
        (p, (attempted, sent), requests)
    });
    let (attempted, sent) = sent;
    let rss_after = rss_mib(pid);
    let s = c.status(0).unwrap();
    let rejected = &s["traffic"]["rejected"];
    eprintln!(
        "calm {calm:.2} ledgers/s, flooded {pace_flooded:.2} ledgers/s; flooder tried {attempted} proposals ({sent} accepted by its own \
         gossipsub, the rest refused by backpressure) and {requests} requests; \
         node 0 refused {rejected}; RSS {rss_before:.1} -> {rss_after:.1} MiB"
    );
    assert!(
        attempted > 30_000,
        "the flood was too small to mean anything: {attempted}"
    );
    assert!(sent > 1_000, "the flood never left the flooder: {sent}");
    assert!(
        pace_flooded >= calm * 0.5,
        "validation slowed from {calm:.2} to {pace_flooded:.2} ledgers/s under the flood"
    );
    assert!(
        rss_after < rss_before + 100.0,
        "memory grew from {rss_before:.1} to {rss_after:.1} MiB"
    );
    assert!(
        rejected["rate_limited"].as_u64().unwrap_or(0) > 0,
        "the flooder was never rate limited: {rejected}"
    );
    assert_eq!(c.forks(&all), Vec::<u32>::new());
}
