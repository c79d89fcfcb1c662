//! `cpeers demo`: a local network of real nodes (libp2p over 127.0.0.1) inside one process, a
//! trickle of transactions, and keys that make trouble — crash and restart a node, partition the
//! network, slow a node's links, make a node byzantine, skew a node's clock — so an operator can
//! watch consensus deal with it.
//!
//! Every node serves its admin API on a loopback port of its own, and the dashboard attaches to
//! n0 through n0's stream exactly as `cpeers attach` does, so what the demo shows is what
//! `attach` shows. The trouble keys act on the nodes directly (they are demo-only).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::attach::Link;
use crate::consensus::engine::Message;
use crate::consensus::{Hash256, NodeId, NodeKey, Profile};
use crate::contract::{Envelope, Payload, Request};
use crate::node::{self, NodeCommand, NodeError, NodeHandle, NodeSettings, Outbound};
use crate::sim::scenario::Behaviour;
use crate::tui::action::DemoAction;
use crate::tui::run::Trouble;

/// A byzantine demo node: the simulator's rewriting of outgoing messages.
struct Byzantine {
    behaviour: Behaviour,
    rng: ChaCha8Rng,
}

impl Outbound for Byzantine {
    fn rewrite(&mut self, msg: &Message, key: &NodeKey, network_id: u32) -> Vec<Message> {
        crate::sim::byzantine::rewrite(self.behaviour, msg, key, network_id, &mut self.rng)
            .into_iter()
            .map(|(m, _)| m)
            .collect()
    }

    fn describe(&self) -> String {
        behaviour_name(self.behaviour).to_string()
    }
}

fn byzantine(b: Option<Behaviour>, key: &NodeKey) -> Option<Box<dyn Outbound>> {
    b.map(|behaviour| {
        Box::new(Byzantine {
            behaviour,
            rng: ChaCha8Rng::from_seed(Hash256::of(&[b"byz", &key.id().0]).0),
        }) as Box<dyn Outbound>
    })
}

/// How the demo network is set up.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Validators.
    pub nodes: usize,
    /// Timing profile.
    pub profile: Profile,
    /// Average time between submitted transactions.
    pub tx_interval: Duration,
    /// Where stores go (a fresh temporary directory by default, removed at exit).
    pub data_dir: Option<PathBuf>,
    /// Record every node's engine into `DIR/nI.rec` (for `cpeers replay`).
    pub record: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            nodes: 5,
            profile: Profile::Mainnet,
            tx_interval: Duration::from_millis(700),
            data_dir: None,
            record: None,
        }
    }
}

/// Why the demo could not start.
#[derive(Debug, Error)]
pub enum DemoError {
    /// A node did not start.
    #[error("demo node {index} did not start: {source}")]
    Node {
        /// Which.
        index: usize,
        /// Why.
        source: NodeError,
    },
    /// A node never reported a listen address.
    #[error("demo node {0} did not start listening")]
    NoListen(usize),
    /// Bad options.
    #[error("{0}")]
    Options(String),
}

struct DemoNode {
    name: String,
    key: NodeKey,
    settings: NodeSettings,
    handle: Option<NodeHandle>,
    addr: Multiaddr,
    byzantine: Option<Behaviour>,
    slow: bool,
    skewed: bool,
}

impl DemoNode {
    fn peer_id(&self) -> Option<PeerId> {
        crate::net::identity::peer_id_of(&self.key.id())
    }
}

/// A running demo network.
pub struct Demo {
    nodes: Vec<DemoNode>,
    root: PathBuf,
    remove_root: bool,
    partitioned: bool,
    senders: Arc<Mutex<Vec<Option<mpsc::Sender<NodeCommand>>>>>,
    trickle: JoinHandle<()>,
    profile: Profile,
}

fn demo_key(i: usize) -> NodeKey {
    NodeKey::from_secret(Hash256::of(&[b"cpeers-demo-node", &(i as u64).to_be_bytes()]).0)
}

async fn listen_addr(h: &NodeHandle) -> Option<Multiaddr> {
    let mut rx = h.snapshot.clone();
    for _ in 0..100 {
        if let Some(a) = rx.borrow().listen.first() {
            return a.parse().ok();
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), rx.changed()).await;
    }
    None
}

impl Demo {
    /// Starts the network.
    pub async fn start(opts: DemoOptions) -> Result<Demo, DemoError> {
        if !(1..=50).contains(&opts.nodes) {
            return Err(DemoError::Options(
                "--nodes must be between 1 and 50".into(),
            ));
        }
        let (root, remove_root) = match &opts.data_dir {
            Some(d) => (d.clone(), false),
            None => (
                std::env::temp_dir().join(format!("cpeers-demo-{}", std::process::id())),
                true,
            ),
        };
        let keys: Vec<NodeKey> = (0..opts.nodes).map(demo_key).collect();
        let unl: Vec<NodeId> = keys.iter().map(|k| k.id()).collect();
        let params = opts.profile.params();
        let mut nodes: Vec<DemoNode> = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            let bootstrap: Vec<Multiaddr> = nodes
                .iter()
                .filter_map(|n| Some(n.addr.clone().with(Protocol::P2p(n.peer_id()?))))
                .collect();
            let settings = NodeSettings {
                network_id: 0xde40,
                profile: opts.profile,
                validator: true,
                unl: unl.clone(),
                listen: vec![
                    "/ip4/127.0.0.1/tcp/0"
                        .parse()
                        .map_err(|e| DemoError::Options(format!("{e}")))?,
                ],
                bootstrap,
                data_dir: root.join(format!("n{i}")),
                admin: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
                mdns: false,
                max_peers: 64,
                start_timeout: Duration::from_millis(params.ledger_idle_interval_ms as u64),
                headless: false,
                clock_skew_ms: 0,
                record: opts.record.as_ref().map(|d| {
                    (
                        d.join(format!("n{i}.rec")),
                        crate::record::RecordOptions::default(),
                    )
                }),
                max_pending: node::MAX_PENDING_TXS,
            };
            let handle = node::start(settings.clone(), key.clone())
                .await
                .map_err(|source| DemoError::Node { index: i, source })?;
            let addr = listen_addr(&handle).await.ok_or(DemoError::NoListen(i))?;
            let mut settings = settings;
            settings.listen = vec![addr.clone()];
            nodes.push(DemoNode {
                name: format!("n{i}"),
                key,
                settings,
                handle: Some(handle),
                addr,
                byzantine: None,
                slow: false,
                skewed: false,
            });
        }
        let senders = Arc::new(Mutex::new(
            nodes
                .iter()
                .map(|n| n.handle.as_ref().map(|h| h.commands.clone()))
                .collect::<Vec<_>>(),
        ));
        let trickle = tokio::spawn(trickle(senders.clone(), opts.tx_interval));
        Ok(Demo {
            nodes,
            root,
            remove_root,
            partitioned: false,
            senders,
            trickle,
            profile: opts.profile,
        })
    }

    /// The dashboard's link to node 0: through its admin API, with its token, as
    /// `cpeers attach` would attach.
    pub fn attach(&self) -> Option<Link> {
        let h = self.nodes.first()?.handle.as_ref()?;
        Some(crate::attach::client::connect(
            h.admin_addr?.to_string(),
            h.token.clone(),
        ))
    }

    /// Node `i`'s admin address and token (for tests and tools).
    pub fn admin(
        &self,
        i: usize,
    ) -> Option<(std::net::SocketAddr, Option<crate::admin_token::AdminToken>)> {
        let h = self.nodes.get(i)?.handle.as_ref()?;
        Some((h.admin_addr?, h.token.clone()))
    }

    /// Where the demo keeps its stores.
    pub fn root(&self) -> &PathBuf {
        &self.root
    }

    /// Stops every node and removes the temporary stores.
    pub async fn shutdown(mut self) {
        self.trickle.abort();
        for n in &mut self.nodes {
            if let Some(h) = n.handle.take() {
                h.shutdown().await;
            }
        }
        if self.remove_root {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn index_of(&self, node: &NodeId) -> Option<usize> {
        self.nodes.iter().position(|n| &n.key.id() == node)
    }

    async fn send(&self, i: usize, c: NodeCommand) {
        if let Some(h) = &self.nodes[i].handle {
            let _ = h.commands.send(c).await;
        }
    }

    fn refresh_senders(&self) {
        if let Ok(mut s) = self.senders.lock() {
            *s = self
                .nodes
                .iter()
                .map(|n| n.handle.as_ref().map(|h| h.commands.clone()))
                .collect();
        }
    }

    async fn toggle_crash(&mut self, i: usize) -> String {
        let name = self.nodes[i].name.clone();
        if let Some(h) = self.nodes[i].handle.take() {
            h.abort();
            self.refresh_senders();
            return format!(
                "{name} crashed (killed without shutdown); K again restarts it from its store"
            );
        }
        let n = &self.nodes[i];
        let mut settings = n.settings.clone();
        settings.clock_skew_ms = if n.skewed { 20_000 } else { 0 };
        let key = n.key.clone();
        match node::start(settings, n.key.clone()).await {
            Ok(h) => {
                self.nodes[i].handle = Some(h);
                self.refresh_senders();
                let (byz, slow) = (self.nodes[i].byzantine, self.nodes[i].slow);
                if byz.is_some() {
                    self.send(i, NodeCommand::SetOutbound(byzantine(byz, &key)))
                        .await;
                }
                if slow {
                    self.send(i, NodeCommand::SetInboundDelay(self.slow_delay()))
                        .await;
                }
                if self.partitioned {
                    self.apply_partition(true).await;
                }
                format!("{name} restarted from its store; watch it catch up")
            }
            Err(e) => format!("{name} could not restart: {e}"),
        }
    }

    fn slow_delay(&self) -> Duration {
        Duration::from_millis((self.profile.params().ledger_granularity_ms as u64) * 8 / 10)
    }

    async fn apply_partition(&mut self, on: bool) {
        let half = self.nodes.len().div_ceil(2);
        // Every (a, b) pair on different sides, with b's id and address.
        let pairs: Vec<(usize, PeerId, Multiaddr)> = (0..self.nodes.len())
            .flat_map(|a| {
                self.nodes
                    .iter()
                    .enumerate()
                    .filter(move |(b, _)| (a < half) != (*b < half))
                    .filter_map(move |(_, n)| Some((a, n.peer_id()?, n.addr.clone())))
            })
            .collect();
        for (a, peer, _) in &pairs {
            self.send(
                *a,
                NodeCommand::Block {
                    peer: *peer,
                    blocked: on,
                },
            )
            .await;
        }
        if !on {
            // Blocked peers were disconnected; dial them again rather than wait for backoff.
            for (a, peer, addr) in pairs {
                self.send(a, NodeCommand::Dial(addr.with(Protocol::P2p(peer))))
                    .await;
            }
        }
    }
}

impl Trouble for Demo {
    async fn apply(&mut self, a: DemoAction) -> String {
        match a {
            DemoAction::TogglePartition => {
                self.partitioned = !self.partitioned;
                let on = self.partitioned;
                self.apply_partition(on).await;
                let half = self.nodes.len().div_ceil(2);
                if on {
                    format!(
                        "partitioned: n0..n{} | n{}..n{} (neither side has 80 % of the UNL); X heals",
                        half - 1,
                        half,
                        self.nodes.len() - 1
                    )
                } else {
                    "partition healed".into()
                }
            }
            DemoAction::ToggleCrash(node) => match self.index_of(&node) {
                Some(0) => "n0 is the node the dashboard shows; pick another".into(),
                Some(i) => self.toggle_crash(i).await,
                None => "not a demo node".into(),
            },
            DemoAction::CycleByzantine(node) => {
                let Some(i) = self.index_of(&node) else {
                    return "not a demo node".into();
                };
                let next = match self.nodes[i].byzantine {
                    None => Some(Behaviour::Equivocate),
                    Some(Behaviour::Equivocate) => Some(Behaviour::RandomPosition),
                    Some(Behaviour::RandomPosition) => Some(Behaviour::WrongLedger),
                    Some(Behaviour::WrongLedger) => Some(Behaviour::Silent),
                    Some(Behaviour::Silent) => None,
                };
                self.nodes[i].byzantine = next;
                let key = self.nodes[i].key.clone();
                self.send(i, NodeCommand::SetOutbound(byzantine(next, &key)))
                    .await;
                format!(
                    "{} is now {}",
                    self.nodes[i].name,
                    next.map(|b| format!("byzantine: {}", behaviour_name(b)))
                        .unwrap_or_else(|| "honest".into())
                )
            }
            DemoAction::ToggleSlow(node) => {
                let Some(i) = self.index_of(&node) else {
                    return "not a demo node".into();
                };
                self.nodes[i].slow = !self.nodes[i].slow;
                let d = if self.nodes[i].slow {
                    self.slow_delay()
                } else {
                    Duration::ZERO
                };
                self.send(i, NodeCommand::SetInboundDelay(d)).await;
                format!(
                    "{}'s links are {}",
                    self.nodes[i].name,
                    if self.nodes[i].slow {
                        format!(
                            "slow: everything it receives arrives {} ms late",
                            d.as_millis()
                        )
                    } else {
                        "fast again".into()
                    }
                )
            }
            DemoAction::ToggleClockSkew(node) => {
                let Some(i) = self.index_of(&node) else {
                    return "not a demo node".into();
                };
                self.nodes[i].skewed = !self.nodes[i].skewed;
                let ms = if self.nodes[i].skewed { 20_000 } else { 0 };
                self.send(i, NodeCommand::SetClockSkew(ms)).await;
                format!("{}'s clock is {} s ahead", self.nodes[i].name, ms / 1000)
            }
        }
    }

    fn notes(&self) -> BTreeMap<NodeId, String> {
        let half = self.nodes.len().div_ceil(2);
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let mut parts = Vec::new();
                if n.handle.is_none() {
                    parts.push("crashed".to_string());
                }
                if let Some(b) = n.byzantine {
                    parts.push(behaviour_name(b).to_string());
                }
                if n.slow {
                    parts.push("slow".into());
                }
                if n.skewed {
                    parts.push("clock +20s".into());
                }
                if self.partitioned {
                    parts.push(if i < half {
                        "side A".into()
                    } else {
                        "side B".into()
                    });
                }
                (!parts.is_empty()).then(|| (n.key.id(), parts.join(", ")))
            })
            .collect()
    }

    fn aliases(&self) -> BTreeMap<NodeId, String> {
        self.nodes
            .iter()
            .map(|n| (n.key.id(), n.name.clone()))
            .collect()
    }
}

fn behaviour_name(b: Behaviour) -> &'static str {
    match b {
        Behaviour::Equivocate => "equivocating",
        Behaviour::RandomPosition => "random positions",
        Behaviour::WrongLedger => "wrong ledger",
        Behaviour::Silent => "silent",
    }
}

/// Submits a few random transactions to a random running node every so often.
async fn trickle(senders: Arc<Mutex<Vec<Option<mpsc::Sender<NodeCommand>>>>>, every: Duration) {
    let seed = std::process::id() as u64 ^ 0xc0ffee;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counter = 0u64;
    loop {
        let jitter = rng.random_range(0.5..1.5);
        tokio::time::sleep(every.mul_f64(jitter)).await;
        let live: Vec<mpsc::Sender<NodeCommand>> = match senders.lock() {
            Ok(s) => s.iter().flatten().cloned().collect(),
            Err(_) => return,
        };
        if live.is_empty() {
            continue;
        }
        let to = &live[rng.random_range(0..live.len())];
        let n = rng.random_range(1..=3);
        let txs: Vec<Payload> = (0..n)
            .map(|_| {
                counter += 1;
                let amount: u32 = rng.random_range(1..10_000);
                Payload::from(format!("pay-{counter} amount={amount}").as_str())
            })
            .collect();
        // Admitted like any submission; the answer is not needed (a full pool is reported in
        // the node's status and log).
        let (tx, _answer) = tokio::sync::oneshot::channel();
        let _ = to
            .send(NodeCommand::Api(
                Envelope {
                    id: None,
                    request: Request::Submit { txs },
                },
                tx,
            ))
            .await;
    }
}
