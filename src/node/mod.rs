//! The real node: the consensus engine driven by a tokio task over libp2p, with ledgers
//! persisted in redb.
//!
//! [`start`] opens the store (resuming from the last fully validated ledger), builds the swarm,
//! listens, dials the bootstrap peers and spawns the node task. The returned [`NodeHandle`]
//! sends [`NodeCommand`]s and offers a stream of [`NodeEvent`]s and the latest
//! [`NodeSnapshot`]. Consensus starts once enough trusted peers are subscribed (publishing
//! before anyone subscribed would only fail) or after a timeout.

pub mod admin;
pub mod admin_client;
mod commands;
pub mod endpoints;
mod events;
mod fetch;
mod guard;
pub mod latency;
mod links;
pub mod metrics;
pub mod process;
mod runtime;
pub mod status_text;

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};
use thiserror::Error;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use commands::{Inspect, InspectReply, NodeCommand};
pub use events::{NodeEvent, NodeSnapshot, PeerLink, Traffic, ValidatedLedger};

use crate::config::NodeConfig;
use crate::consensus::engine::{EngineConfig, KEEP_LEDGERS, StartFrom};
use crate::consensus::validations::quorum_for;
use crate::consensus::{Engine, NodeId, NodeKey, Profile, Verifier};
use crate::net::behaviour::{NetConfig, build_swarm};
use crate::net::identity::libp2p_keypair;
use crate::net::topics::Topics;
use crate::storage::LedgerStore;
use endpoints::Endpoints;
use links::Links;
use runtime::Runtime;

/// Most transactions pending in a node: a position must stay fetchable within the wire's
/// response limits.
pub const MAX_PENDING_TXS: usize = 50_000;

/// What a node runs with (a [`NodeConfig`] plus knobs for embedding, e.g. `demo`).
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// Network id.
    pub network_id: u32,
    /// Timing profile.
    pub profile: Profile,
    /// Propose and validate.
    pub validator: bool,
    /// Trusted validators (our own key is added when we validate).
    pub unl: Vec<NodeId>,
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial (each with /p2p/).
    pub bootstrap: Vec<Multiaddr>,
    /// Ledger store directory.
    pub data_dir: PathBuf,
    /// Admin endpoint (loopback).
    pub admin: Option<SocketAddr>,
    /// mDNS discovery.
    pub mdns: bool,
    /// Connection limit.
    pub max_peers: u32,
    /// Start consensus after this long even without enough trusted peers.
    pub start_timeout: Duration,
    /// Print a status line per validated ledger on stdout.
    pub headless: bool,
    /// Offset added to the clock (demo: clock-skew a node).
    pub clock_skew_ms: i64,
    /// Flight recording: the file and its rotation.
    pub record: Option<(PathBuf, crate::record::RecordOptions)>,
}

impl NodeSettings {
    /// Settings from a checked config file.
    pub fn from_config(c: &NodeConfig, headless: bool) -> NodeSettings {
        let params = c.profile.params();
        NodeSettings {
            network_id: c.network_id,
            profile: c.profile,
            validator: c.validator,
            unl: c.unl.clone(),
            listen: c.listen.clone(),
            bootstrap: c.bootstrap.clone(),
            data_dir: c.data_dir.clone(),
            admin: c.admin,
            mdns: c.mdns,
            max_peers: c.max_peers,
            start_timeout: Duration::from_millis(params.ledger_idle_interval_ms as u64),
            headless,
            clock_skew_ms: 0,
            record: None,
        }
    }
}

/// Why a node could not start.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The ledger store.
    #[error(transparent)]
    Store(#[from] crate::storage::StorageError),
    /// The libp2p stack.
    #[error(transparent)]
    Net(#[from] crate::net::behaviour::NetError),
    /// A listen address.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The admin endpoint.
    #[error(transparent)]
    Admin(#[from] admin::AdminError),
    /// The metrics endpoint.
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
    /// The flight recording.
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
    /// The endpoints file.
    #[error("cannot write {path}: {source}")]
    Endpoints {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A running node.
pub struct NodeHandle {
    /// Send commands here.
    pub commands: mpsc::Sender<NodeCommand>,
    /// Subscribe here for events.
    pub events: broadcast::Sender<NodeEvent>,
    /// The latest snapshot.
    pub snapshot: watch::Receiver<Arc<NodeSnapshot>>,
    /// Our libp2p id.
    pub peer_id: PeerId,
    /// Our validator key.
    pub node_id: NodeId,
    /// The admin endpoint, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// The metrics endpoint, when enabled.
    pub metrics_addr: Option<SocketAddr>,
    task: JoinHandle<()>,
    _admin: Option<admin::AdminServer>,
    _metrics: Option<metrics::MetricsServer>,
}

impl NodeHandle {
    /// Asks the node to stop and waits for it.
    pub async fn shutdown(self) {
        let _ = self.commands.send(NodeCommand::Shutdown).await;
        let _ = self.task.await;
    }

    /// Waits until the node stops on its own (it does not, unless its command channel closes).
    pub async fn join(self) {
        let _ = self.task.await;
    }

    /// Kills the node without its shutdown path, as a crash would (the store is left as the
    /// last committed transaction left it).
    pub fn abort(self) {
        self.task.abort();
    }

    /// Whether the node task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Starts a node with `key` (which is both its validator key and its libp2p identity).
pub async fn start(settings: NodeSettings, key: NodeKey) -> Result<NodeHandle, NodeError> {
    start_with_metrics(settings, key, None).await
}

/// [`start`], also serving Prometheus metrics (`GET /metrics`) on `metrics` when given.
pub async fn start_with_metrics(
    settings: NodeSettings,
    key: NodeKey,
    metrics: Option<SocketAddr>,
) -> Result<NodeHandle, NodeError> {
    let store = Arc::new(
        tokio::task::spawn_blocking({
            let dir = settings.data_dir.clone();
            move || LedgerStore::open(&dir)
        })
        .await
        .map_err(|e| NodeError::Listen {
            addr: Multiaddr::empty(),
            reason: format!("store task failed: {e}"),
        })??,
    );
    let params = settings.profile.params();
    let from = match store.last_fully_validated() {
        Some(last) => {
            let chain = store.resume_chain(KEEP_LEDGERS as usize)?;
            info!(seq = last.seq(), hash = %last.hash().short(), "resuming from the store");
            StartFrom::Resume {
                chain,
                largest_validated_seq: store.largest_validated_seq(),
            }
        }
        None => StartFrom::Genesis,
    };
    let unl: BTreeSet<NodeId> = settings.unl.iter().copied().collect();
    let engine = Engine::new(
        EngineConfig {
            params: params.clone(),
            network_id: settings.network_id,
            unl: unl.clone(),
            validating: settings.validator,
            max_pending: MAX_PENDING_TXS,
        },
        Some(key.clone()),
        from,
    );
    let recorder = match &settings.record {
        Some((path, opts)) => {
            let header = crate::record::Header {
                cpeers_version: env!("CARGO_PKG_VERSION").to_string(),
                node: key.id(),
                name: key.id().short(),
                network_id: settings.network_id,
                source: "node".into(),
                segment: 0,
                started_at: runtime::wall_time(settings.clock_skew_ms),
            };
            let r = crate::record::Recorder::create(path, *opts, header, engine.checkpoint())?;
            info!(path = %path.display(), "flight recorder on");
            Some(r)
        }
        None => None,
    };
    // Enough trusted peers to reach quorum with us; an observer needs one.
    let mut trusted_peers = unl.clone();
    trusted_peers.remove(&key.id());
    let quorum = quorum_for(engine.validations().unl().len(), params.min_consensus_pct);
    let needed = if settings.validator {
        quorum.saturating_sub(1)
    } else {
        1
    }
    .min(trusted_peers.len());

    let mut net = NetConfig::new(settings.network_id);
    net.max_peers = settings.max_peers;
    net.mdns = settings.mdns;
    net.heartbeat = Duration::from_millis((params.ledger_granularity_ms as u64).clamp(50, 700));
    net.request_timeout =
        Duration::from_millis((params.ledger_idle_interval_ms as u64 / 3).max(1000));
    let mut swarm = build_swarm(&key, &net)?;
    for addr in &settings.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NodeError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
    }
    let mut links = Links::default();
    for addr in &settings.bootstrap {
        if let Some(peer) = addr.iter().find_map(|p| match p {
            libp2p::multiaddr::Protocol::P2p(id) => Some(id),
            _ => None,
        }) {
            if peer == *swarm.local_peer_id() {
                continue; // our own address in a shared bootstrap list
            }
            links.remember(peer, addr.clone());
        }
        if let Err(e) = swarm.dial(addr.clone()) {
            warn!(%addr, "cannot dial bootstrap peer: {e}");
        }
    }

    let (cmd_tx, cmd_rx) = mpsc::channel(1024);
    let (ev_tx, _) = broadcast::channel(8192);
    let peer_id = *swarm.local_peer_id();
    let initial = Arc::new(NodeSnapshot {
        network_id: settings.network_id,
        peer_id: peer_id.to_string(),
        listen: vec![],
        started: false,
        info: engine.info(),
        peers: vec![],
        traffic: Traffic::default(),
        store_errors: 0,
        recent_validated: vec![],
        latency: Default::default(),
        engine: engine.counters().clone(),
        held: engine.held(),
        rss_mib: None,
    });
    let (snap_tx, snap_rx) = watch::channel(initial);
    let admin_server = match settings.admin {
        Some(addr) => Some(admin::serve(
            addr,
            snap_rx.clone(),
            cmd_tx.clone(),
            store.clone(),
        )?),
        None => None,
    };
    let admin_addr = admin_server.as_ref().map(|a| a.addr());
    if let Some(a) = admin_addr {
        info!(%a, "admin endpoint");
    }
    let (metrics_hook, metrics_server) = match metrics {
        Some(addr) => {
            let (hook, state) = metrics::new();
            let server = metrics::serve(addr, snap_rx.clone(), state)?;
            info!(addr = %server.addr(), "metrics endpoint (GET /metrics)");
            if crate::config::metrics_exposed(server.addr()) {
                warn!(
                    addr = %server.addr(),
                    "the metrics endpoint is reachable from the network: anyone who can connect \
                     sees this node's peers and traffic (bind it to 127.0.0.1 or firewall it)"
                );
            }
            (Some(hook), Some(server))
        }
        None => (None, None),
    };
    let metrics_addr = metrics_server.as_ref().map(|m| m.addr());
    let endpoints = Endpoints {
        peer_id: peer_id.to_string(),
        public_key: key.id().to_hex(),
        listen: vec![],
        admin: admin_addr.map(|a| a.to_string()),
        metrics: metrics_addr.map(|a| a.to_string()),
        pid: std::process::id(),
        path: settings.data_dir.join(endpoints::FILE_NAME),
    };
    endpoints.write().map_err(|source| NodeError::Endpoints {
        path: endpoints.path.clone(),
        source,
    })?;
    debug_assert_eq!(
        libp2p_keypair(&key).map(|k| k.public().to_peer_id()),
        Some(peer_id)
    );

    let runtime = Runtime {
        engine,
        swarm,
        store,
        topics: Topics::new(settings.network_id),
        network_id: settings.network_id,
        verifier: Verifier::new(),
        links,
        fetcher: Default::default(),
        commands: cmd_rx,
        events: ev_tx.clone(),
        snapshot: snap_tx,
        endpoints,
        granularity: Duration::from_millis(params.ledger_granularity_ms as u64),
        start_deadline: Instant::now() + settings.start_timeout,
        started: false,
        needed_to_start: needed,
        clock_skew_ms: settings.clock_skew_ms,
        headless: settings.headless,
        traffic: Traffic::default(),
        store_errors: 0,
        retry: VecDeque::new(),
        request_budget: Default::default(),
        recent_validated: VecDeque::new(),
        dirty: true,
        listen: vec![],
        validation_blocked: false,
        latency: Default::default(),
        byzantine: None,
        byzantine_rng: {
            use rand::SeedableRng;
            rand_chacha::ChaCha8Rng::from_seed(
                crate::consensus::Hash256::of(&[b"byz", &key.id().0]).0,
            )
        },
        inbound_delay: Duration::ZERO,
        held: VecDeque::new(),
        key: key.clone(),
        guard: Default::default(),
        metrics: metrics_hook,
        recorder,
        recorder_reported: false,
    };
    let task = tokio::spawn(runtime.run());
    Ok(NodeHandle {
        commands: cmd_tx,
        events: ev_tx,
        snapshot: snap_rx,
        peer_id,
        node_id: key.id(),
        admin_addr,
        metrics_addr,
        task,
        _admin: admin_server,
        _metrics: metrics_server,
    })
}
