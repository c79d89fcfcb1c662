//! A real node (in-process, libp2p over 127.0.0.1) under hostile gossip: a forged signature, a
//! proposal re-signed by another key, a proposal from a key outside the UNL, an oversized
//! message and random bytes on every topic. Each is refused and counted under its reason,
//! nothing is accepted, the senders lose gossip score, and the node keeps validating ledgers.

use std::time::Duration;

use cpeers::consensus::proposal::Proposal;
use cpeers::consensus::validation::Validation;
use cpeers::consensus::{Hash256, NodeKey, Profile, Refusal, Time};
use cpeers::contract::NodeSnapshot;
use cpeers::net::behaviour::{NetConfig, build_swarm};
use cpeers::net::topics::{TopicKind, Topics};
use cpeers::net::wire::{Gossip, MAX_GOSSIP_BYTES, WIRE_VERSION, encode_gossip};
use cpeers::node::{self, NodeSettings};
use libp2p::futures::StreamExt;
use libp2p::gossipsub;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};

const NETWORK: u32 = 4242;

fn snapshot(h: &node::NodeHandle) -> std::sync::Arc<NodeSnapshot> {
    h.snapshot.borrow().clone()
}

async fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Connects a fresh attacker to the node, waits until the node's subscription to `kind` is
/// known, publishes `bytes` there, and keeps the connection open a moment so it is delivered.
async fn attack(
    target: &Multiaddr,
    target_peer: PeerId,
    kind: TopicKind,
    bytes: Vec<u8>,
    seed: u8,
) -> libp2p::Swarm<cpeers::net::behaviour::Behaviour> {
    let key = NodeKey::from_secret([seed; 32]);
    let mut swarm = build_swarm(&key, &NetConfig::new(NETWORK)).expect("attacker swarm");
    swarm.dial(target.clone()).expect("dial");
    let topic = Topics::new(NETWORK).topic(kind).clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .expect("the node subscribed in time");
        if let SwarmEvent::Behaviour(cpeers::net::behaviour::BehaviourEvent::Gossipsub(
            gossipsub::Event::Subscribed { peer_id, topic: t },
        )) = ev
            && peer_id == target_peer
            && t == topic.hash()
        {
            break;
        }
    }
    swarm
        .behaviour_mut()
        .gossipsub
        .publish(topic, bytes)
        .expect("published");
    let until = tokio::time::Instant::now() + Duration::from_millis(400);
    while tokio::time::timeout_at(until, swarm.select_next_some())
        .await
        .is_ok()
    {}
    swarm
}

fn proposal(node: &NodeKey, signer: &NodeKey) -> Vec<u8> {
    let p = Proposal {
        prev_ledger: Hash256::of(&[b"whatever"]),
        position: Hash256::of(&[b"set"]),
        close_time: Time(1),
        seq: 0,
        node: node.id(),
    }
    .sign(signer, NETWORK);
    encode_gossip(&Gossip::Proposal(p)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gossip_is_refused_counted_and_harmless() {
    let dir = std::env::temp_dir().join(format!("cpeers-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let key = NodeKey::from_secret([7; 32]);
    let settings = NodeSettings {
        network_id: NETWORK,
        profile: Profile::Fast,
        validator: true,
        unl: vec![key.id()],
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        bootstrap: vec![],
        data_dir: dir.clone(),
        admin: None,
        mdns: false,
        max_peers: 32,
        start_timeout: Duration::from_millis(100),
        headless: false,
        clock_skew_ms: 0,
        record: None,
        max_pending: node::MAX_PENDING_TXS,
    };
    let node = node::start(settings, key.clone())
        .await
        .expect("node starts");
    wait_until("the node to listen", 10, || {
        !snapshot(&node).listen.is_empty()
    })
    .await;
    let listen: libp2p::Multiaddr = snapshot(&node).listen[0].parse().expect("a multiaddr");
    let target = listen.with(Protocol::P2p(node.peer_id));
    wait_until("the lone validator to validate ledger 1", 15, || {
        snapshot(&node).info.fully_validated.seq >= 1
    })
    .await;

    let stranger = NodeKey::from_secret([99; 32]);
    let mut forged = proposal(&key, &key);
    let last = forged.len() - 1;
    forged[last] ^= 0x40; // inside the signature
    let bad_validation = {
        let v = Validation {
            ledger: Hash256::of(&[b"l"]),
            seq: 3,
            tx_set: Hash256::ZERO,
            full: true,
            sign_time: Time(1),
            node: key.id(),
        }
        .sign(&stranger, NETWORK); // signed by the wrong key
        encode_gossip(&Gossip::Validation(v)).unwrap()
    };
    let mut oversized = vec![WIRE_VERSION];
    oversized.resize(MAX_GOSSIP_BYTES + 100, 7);
    let junk = |n: usize| -> Vec<u8> { (0..n).map(|i| (i * 31 % 251) as u8).collect() };

    let cases: Vec<(TopicKind, Vec<u8>)> = vec![
        (TopicKind::Proposals, forged),
        (TopicKind::Proposals, proposal(&key, &stranger)),
        (TopicKind::Proposals, proposal(&stranger, &stranger)),
        (TopicKind::Validations, bad_validation),
        (TopicKind::Proposals, oversized),
        (TopicKind::Proposals, junk(300)),
        (TopicKind::Validations, junk(200)),
        (TopicKind::Transactions, junk(100)),
    ];
    let before = snapshot(&node).info.fully_validated.seq;
    let mut attackers = Vec::new();
    for (i, (kind, bytes)) in cases.into_iter().enumerate() {
        attackers.push(attack(&target, node.peer_id, kind, bytes, 100 + i as u8).await);
    }

    wait_until("every hostile message to be counted", 10, || {
        let s = snapshot(&node);
        let r = &s.traffic.rejected;
        r.get(&Refusal::BadSignature).copied().unwrap_or(0) >= 3
            && r.get(&Refusal::Oversized).copied().unwrap_or(0) >= 1
            && r.get(&Refusal::Malformed).copied().unwrap_or(0) >= 3
            && s.engine
                .refused
                .get(&Refusal::Untrusted)
                .copied()
                .unwrap_or(0)
                >= 1
    })
    .await;
    let s = snapshot(&node);
    assert_eq!(
        s.engine.proposals_accepted, 0,
        "a hostile proposal was accepted"
    );
    assert_eq!(
        s.engine.validations_accepted, 0,
        "a hostile validation was accepted"
    );
    assert!(
        s.info
            .peers
            .iter()
            .any(|p| p.node == stranger.id() && !p.stats.trusted),
        "the stranger is shown, as untrusted"
    );
    // Senders of invalid messages lost gossip score; the merely untrusted one did not.
    let score = |swarm: &libp2p::Swarm<cpeers::net::behaviour::Behaviour>| {
        let id = swarm.local_peer_id().to_string();
        s.peers
            .iter()
            .find(|p| p.peer_id == id)
            .and_then(|p| p.score)
    };
    for (i, swarm) in attackers.iter().enumerate() {
        let sc = score(swarm);
        if i == 2 {
            assert!(
                sc.is_none_or(|v| v >= 0.0),
                "an untrusted but valid sender was penalised: {sc:?}"
            );
        } else {
            assert!(
                sc.is_some_and(|v| v < 0.0),
                "attacker {i} kept its score: {sc:?}"
            );
        }
    }
    drop(attackers);

    // It keeps working.
    wait_until("two more validated ledgers after the attack", 15, || {
        snapshot(&node).info.fully_validated.seq >= before + 2
    })
    .await;
    node.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
