//! The libp2p stack: TCP + noise + yamux carrying gossipsub (proposals, validations,
//! transactions), request-response (fetching tx sets and ledgers), identify, ping, connection
//! limits, a block list, and optional mDNS.
//!
//! Configuration choices answer known gossipsub 0.50 traps (see
//! ../shared/reference/libp2p-notes.md):
//! - messages are signed by their publisher and checked strictly, and their id is the hash of
//!   their content, so a relay cannot change them and a copy is recognised as the same message;
//! - the application validates every message before gossipsub forwards it, and a rejected
//!   message costs its sender score (P4 with a heavy weight), so bad senders are graylisted;
//! - mesh-delivery penalties (P3) are off: a validator network is quiet between rounds and
//!   would otherwise punish honest peers for silence;
//! - loopback is exempt from the IP-colocation penalty (more than 10 local nodes in tests and
//!   `demo` would otherwise score each other out);
//! - a short heartbeat and initial delay (a validator mesh must form in well under a round),
//!   and an idle-connection timeout of hours, not libp2p's 10 s.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use libp2p::gossipsub::{
    self, MessageAuthenticity, MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams,
    ValidationMode,
};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    Swarm, SwarmBuilder, allow_block_list, connection_limits, identify, mdns, noise, ping, tcp,
    yamux,
};
use thiserror::Error;

use super::identity::libp2p_keypair;
use super::sync_codec::{SYNC_PROTOCOL, SyncCodec};
use super::topics::Topics;
use super::wire::MAX_GOSSIP_BYTES;
use crate::consensus::{Hash256, NodeKey};

/// Everything the swarm runs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Proposals, validations and transactions.
    pub gossipsub: gossipsub::Behaviour,
    /// Fetching tx sets and ledgers.
    pub sync: request_response::Behaviour<SyncCodec>,
    /// Learns peers' listen addresses and agent versions.
    pub identify: identify::Behaviour,
    /// Latency, and keeps connections alive.
    pub ping: ping::Behaviour,
    /// Caps connections so one peer (or many) cannot exhaust the node.
    pub limits: connection_limits::Behaviour,
    /// Peers we refuse (operator or partition in `demo`).
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// LAN discovery, only when asked for.
    pub mdns: Toggle<mdns::tokio::Behaviour>,
}

/// Networking knobs that depend on the deployment.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Network id (topics and signatures).
    pub network_id: u32,
    /// Most established connections.
    pub max_peers: u32,
    /// Discover LAN peers with mDNS.
    pub mdns: bool,
    /// Gossipsub heartbeat.
    pub heartbeat: Duration,
    /// Request-response timeout.
    pub request_timeout: Duration,
    /// Most concurrent request-response streams per connection.
    pub max_concurrent_streams: usize,
}

impl NetConfig {
    /// Defaults for `network_id`.
    pub fn new(network_id: u32) -> NetConfig {
        NetConfig {
            network_id,
            max_peers: 64,
            mdns: false,
            heartbeat: Duration::from_millis(200),
            request_timeout: Duration::from_secs(5),
            max_concurrent_streams: 32,
        }
    }
}

/// Why the swarm could not be built.
#[derive(Debug, Error)]
pub enum NetError {
    /// The transport could not be set up.
    #[error("cannot set up the TCP/noise transport: {0}")]
    Transport(String),
    /// A behaviour refused its configuration.
    #[error("invalid network configuration: {0}")]
    Config(String),
    /// mDNS could not start.
    #[error("cannot start mDNS: {0}")]
    Mdns(std::io::Error),
}

/// Gossipsub message id: the hash of the content, so the same bytes are one message whoever
/// relays them.
pub fn message_id(data: &[u8]) -> MessageId {
    MessageId::from(Hash256::of(&[b"GOSSIP\0", data]).0.to_vec())
}

fn score_params(topics: &Topics) -> PeerScoreParams {
    let mut params = PeerScoreParams {
        ip_colocation_factor_whitelist: HashSet::from([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]),
        ..PeerScoreParams::default()
    };
    for topic in topics.all() {
        params.topics.insert(
            topic.hash(),
            TopicScoreParams {
                topic_weight: 1.0,
                time_in_mesh_weight: 0.01,
                time_in_mesh_quantum: Duration::from_secs(1),
                time_in_mesh_cap: 100.0,
                first_message_deliveries_weight: 1.0,
                first_message_deliveries_decay: 0.9,
                first_message_deliveries_cap: 100.0,
                // Quiet validators are not faulty: no penalty for delivering few messages.
                mesh_message_deliveries_weight: 0.0,
                mesh_failure_penalty_weight: 0.0,
                // Every rejected message counts, squared: a few forgeries graylist the sender.
                invalid_message_deliveries_weight: -100.0,
                invalid_message_deliveries_decay: 0.5,
                ..TopicScoreParams::default()
            },
        );
    }
    params
}

fn score_thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: -100.0,
        publish_threshold: -500.0,
        graylist_threshold: -1000.0,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 5.0,
    }
}

/// Builds the swarm for `key` (the validator key doubles as the libp2p identity).
pub fn build_swarm(key: &NodeKey, cfg: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let keypair = libp2p_keypair(key).ok_or_else(|| {
        NetError::Config("a stand-in key (replay) has no network identity".to_string())
    })?;
    let topics = Topics::new(cfg.network_id);
    let gossip_config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .message_id_fn(|m: &gossipsub::Message| message_id(&m.data))
        .validate_messages()
        .max_transmit_size(MAX_GOSSIP_BYTES + 16 * 1024)
        .heartbeat_interval(cfg.heartbeat)
        .heartbeat_initial_delay(Duration::from_millis(100))
        .flood_publish(true)
        .build()
        .map_err(|e| NetError::Config(e.to_string()))?;
    let mdns_enabled = cfg.mdns;
    let network_id = cfg.network_id;
    let cfg = cfg.clone();
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(move |key| {
            let mut gossipsub =
                gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), gossip_config)?;
            gossipsub.with_peer_score(score_params(&topics), score_thresholds())?;
            let sync = request_response::Behaviour::with_codec(
                SyncCodec,
                [(SYNC_PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(cfg.request_timeout)
                    .with_max_concurrent_streams(cfg.max_concurrent_streams),
            );
            let identify = identify::Behaviour::new(
                identify::Config::new("/cpeers/1".into(), key.public())
                    .with_agent_version(format!("cpeers/{}", env!("CARGO_PKG_VERSION"))),
            );
            let ping =
                ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(2)));
            let limits = connection_limits::Behaviour::new(
                connection_limits::ConnectionLimits::default()
                    .with_max_established(Some(cfg.max_peers))
                    .with_max_established_per_peer(Some(2))
                    .with_max_pending_incoming(Some(32)),
            );
            let mdns = if mdns_enabled {
                Some(mdns::tokio::Behaviour::new(
                    mdns::Config::default(),
                    key.public().to_peer_id(),
                )?)
            } else {
                None
            };
            Ok(Behaviour {
                gossipsub,
                sync,
                identify,
                ping,
                limits,
                blocked: allow_block_list::Behaviour::default(),
                mdns: Toggle::from(mdns),
            })
        })
        .map_err(|e| NetError::Config(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(6 * 3600)))
        .build();
    for topic in Topics::new(network_id).all() {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(topic)
            .map_err(|e| NetError::Config(e.to_string()))?;
    }
    Ok(swarm)
}
