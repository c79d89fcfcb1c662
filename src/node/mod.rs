//! The real node: the consensus engine driven by a tokio task over libp2p, with ledgers
//! persisted in redb.
//!
//! [`start`] opens the store (resuming from the last fully validated ledger), builds the swarm,
//! listens, dials the bootstrap peers, starts the admin API ([`api`]) and spawns the node task.
//! The returned [`NodeHandle`] sends [`NodeCommand`]s and offers the stream hub (numbered node
//! events and status, the contract's types) and the latest status. Consensus starts once
//! enough trusted peers are subscribed (publishing before anyone subscribed would only fail)
//! or after a timeout.

pub mod admin_client;
pub mod api;
mod commands;
pub mod endpoints;
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
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use commands::{NodeCommand, Outbound};

use crate::admin_token::AdminToken;
use crate::config::NodeConfig;
use crate::consensus::engine::{EngineConfig, KEEP_LEDGERS, StartFrom};
use crate::consensus::validations::quorum_for;
use crate::consensus::{Engine, NodeId, NodeKey, Profile, Verifier};
use crate::contract::{NodeSnapshot, Traffic};
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
    /// Most transactions pending at once (at most [`MAX_PENDING_TXS`]).
    pub max_pending: usize,
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
            max_pending: c.max_pending_txs,
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
    Admin(#[from] api::ApiError),
    /// The admin token.
    #[error(transparent)]
    Token(#[from] crate::admin_token::TokenError),
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
    /// Numbered node events and status updates (subscribe here, as the API does).
    pub hub: Arc<api::hub::Hub>,
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
    /// The admin token (state-changing requests need it).
    pub token: Option<AdminToken>,
    task: JoinHandle<()>,
    _api: Option<api::ApiServer>,
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
            max_pending: settings.max_pending.clamp(1, MAX_PENDING_TXS),
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
        held: engine.held().into_iter().map(Into::into).collect(),
        rss_mib: None,
        submissions: Default::default(),
        api: Default::default(),
    });
    let (snap_tx, snap_rx) = watch::channel(initial.clone());
    let hub = Arc::new(api::hub::Hub::new(initial));
    let (metrics_hook, metrics_state) = metrics::new();
    let retry_after_s = ((params.ledger_min_close_ms.max(params.ledger_granularity_ms) as u64) * 2)
        .div_ceil(1000)
        .max(1);
    let token = match settings.admin {
        Some(_) => {
            // A small file read once at start.
            let (token, created) = crate::admin_token::load_or_create(&settings.data_dir)?;
            if created {
                info!(path = %settings.data_dir.join(crate::admin_token::FILE_NAME).display(), "created the admin token");
            }
            Some(token)
        }
        None => None,
    };
    let api_server = if settings.admin.is_some() || metrics.is_some() {
        let server = api::serve(
            settings.admin,
            metrics,
            api::ApiParts {
                hub: hub.clone(),
                snapshot: snap_rx.clone(),
                commands: cmd_tx.clone(),
                store: store.clone(),
                token: token.clone(),
                metrics: metrics_state.clone(),
                retry_after_s,
            },
        )
        .await?;
        if let Some(a) = server.addr() {
            info!(addr = %a, "admin endpoint (GET /status, /subscribe, /metrics)");
        }
        Some(server)
    } else {
        None
    };
    let admin_addr = api_server.as_ref().and_then(|a| a.addr());
    let metrics_addr = api_server.as_ref().and_then(|a| a.metrics_addr());
    if let Some(m) = metrics_addr {
        info!(addr = %m, "metrics endpoint (GET /metrics)");
        if crate::config::metrics_exposed(m) {
            warn!(
                addr = %m,
                "the metrics endpoint is reachable from the network: anyone who can connect \
                 sees this node's peers and traffic (bind it to 127.0.0.1 or firewall it)"
            );
        }
    }
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
        hub: hub.clone(),
        batcher: Default::default(),
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
        outbound: None,
        inbound_delay: Duration::ZERO,
        held: VecDeque::new(),
        key: key.clone(),
        guard: Default::default(),
        metrics: Some(metrics_hook),
        recorder,
        recorder_reported: false,
        submissions: Default::default(),
        outstanding: Default::default(),
        outstanding_checked: Instant::now(),
    };
    let task = tokio::spawn(runtime.run());
    Ok(NodeHandle {
        commands: cmd_tx,
        hub,
        snapshot: snap_rx,
        peer_id,
        node_id: key.id(),
        admin_addr,
        metrics_addr,
        token,
        task,
        _api: api_server,
    })
}
