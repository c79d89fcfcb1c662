//! The node task: one tokio task owns the engine, the swarm and the store. Timer ticks, network
//! events and operator commands become engine inputs; engine outputs become publishes, fetches
//! and writes. Nothing else touches the engine, so it needs no lock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance, PublishError};
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm, identify, mdns, ping};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{debug, info, warn};

use super::commands::{Inspect, InspectReply, NodeCommand};
use super::endpoints::Endpoints;
use super::events::{NodeEvent, NodeSnapshot, Traffic, ValidatedLedger};
use super::fetch::{FetchKey, Fetcher};
use super::links::Links;
use crate::consensus::engine::{Held, Message, Output};
use crate::consensus::{Engine, Input, Ledger, NodeId, Refusal, Time, TxSet, Verdict, Verifier};
use crate::net::behaviour::{Behaviour, BehaviourEvent};
use crate::net::identity::{node_id_of, peer_id_of};
use crate::net::sync_codec::Decoded;
use crate::net::topics::{TopicKind, Topics};
use crate::net::wire::{self, Gossip, Request, Response};
use crate::storage::LedgerStore;

/// Publishes that failed for want of subscribers are retried this many ticks.
const PUBLISH_RETRY_TICKS: u32 = 30;
/// Most messages waiting to be re-published.
const PUBLISH_QUEUE: usize = 256;
/// Most requests one peer may make per second.
const REQUESTS_PER_PEER_PER_SEC: u32 = 100;

/// Everything the node task owns.
pub(super) struct Runtime {
    pub(super) engine: Engine,
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) store: Arc<LedgerStore>,
    pub(super) topics: Topics,
    pub(super) network_id: u32,
    pub(super) verifier: Verifier,
    pub(super) links: Links,
    pub(super) fetcher: Fetcher,
    pub(super) commands: mpsc::Receiver<NodeCommand>,
    pub(super) events: broadcast::Sender<NodeEvent>,
    pub(super) snapshot: watch::Sender<Arc<NodeSnapshot>>,
    pub(super) endpoints: Endpoints,
    pub(super) granularity: Duration,
    pub(super) start_deadline: Instant,
    pub(super) started: bool,
    pub(super) needed_to_start: usize,
    pub(super) clock_skew_ms: i64,
    pub(super) headless: bool,
    pub(super) traffic: Traffic,
    pub(super) store_errors: u64,
    pub(super) retry: VecDeque<(TopicKind, Vec<u8>, u32)>,
    pub(super) request_budget: std::collections::HashMap<PeerId, (Instant, u32)>,
    pub(super) recent_validated: VecDeque<ValidatedLedger>,
    pub(super) dirty: bool,
    pub(super) listen: Vec<Multiaddr>,
    pub(super) validation_blocked: bool,
    pub(super) latency: super::latency::LatencyTracker,
    pub(super) byzantine: Option<crate::sim::scenario::Behaviour>,
    pub(super) byzantine_rng: rand_chacha::ChaCha8Rng,
    pub(super) inbound_delay: Duration,
    pub(super) held: VecDeque<(Instant, PeerId, gossipsub::MessageId, gossipsub::Message)>,
    pub(super) key: crate::consensus::NodeKey,
    pub(super) guard: super::guard::Guard,
    /// Prometheus recorders, when `--metrics` is on.
    pub(super) metrics: Option<super::metrics::MetricsHook>,
    /// The flight recorder, when `--record` is on.
    pub(super) recorder: Option<crate::record::Recorder>,
    /// Whether a recorder failure was reported to the operator.
    pub(super) recorder_reported: bool,
}

fn acceptance(v: Verdict) -> MessageAcceptance {
    match v {
        Verdict::Accepted => MessageAcceptance::Accept,
        Verdict::Refused(why) if why.is_offense() => MessageAcceptance::Reject,
        Verdict::Refused(_) => MessageAcceptance::Ignore,
    }
}

/// The node's clock: wall time plus a deliberate skew (demo).
pub(super) fn wall_time(skew_ms: i64) -> Time {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Time(ms + skew_ms)
}

impl Runtime {
    fn now(&self) -> Time {
        wall_time(self.clock_skew_ms)
    }

    fn event(&self, e: NodeEvent) {
        if let Some(m) = &self.metrics {
            m.node_event(&e); // ledger interval and round time histograms
        }
        // No receiver is fine: nobody is watching.
        let _ = self.events.send(e);
    }

    /// Runs until shutdown.
    pub(super) async fn run(mut self) {
        let mut tick = tokio::time::interval(self.granularity);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut snap = tokio::time::interval(Duration::from_millis(100));
        snap.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut held = tokio::time::interval(Duration::from_millis(10));
        held.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = tick.tick() => self.on_tick(),
                _ = snap.tick() => {
                    if self.dirty {
                        self.publish_snapshot();
                    }
                }
                _ = held.tick(), if !self.held.is_empty() => self.release_held(),
                ev = self.swarm.select_next_some() => self.on_swarm(ev),
                cmd = self.commands.recv() => match cmd {
                    None | Some(NodeCommand::Shutdown) => break,
                    Some(c) => self.on_command(c),
                },
            }
        }
        info!("node stopping");
        self.flush_recorder();
        self.publish_snapshot();
    }

    fn handle(&mut self, input: Input) -> Verdict {
        let now = self.now();
        if let Some(r) = self.recorder.as_mut() {
            r.input(now, &input);
        }
        let v = self.engine.handle(now, input);
        self.drain();
        if let Some(r) = self.recorder.as_mut() {
            r.verdict(v);
            if r.wants_rotation() {
                r.rotate(self.engine.checkpoint(), now);
            }
        }
        self.dirty = true;
        v
    }

    /// Hands recorded frames to the OS and tells the operator, once, if recording stopped.
    fn flush_recorder(&mut self) {
        let Some(r) = self.recorder.as_mut() else {
            return;
        };
        r.flush();
        if let Some(why) = r.failure().map(str::to_string)
            && !self.recorder_reported
        {
            self.recorder_reported = true;
            self.warn(format!(
                "flight recorder stopped (consensus continues): {why}"
            ));
        }
    }

    fn on_tick(&mut self) {
        if !self.started {
            let have = self.links.trusted_subscribed();
            if have >= self.needed_to_start || Instant::now() >= self.start_deadline {
                self.started = true;
                info!(trusted_peers = have, "starting consensus");
                self.event(NodeEvent::ConsensusStarted {
                    trusted_peers: have,
                });
                self.handle(Input::Start);
            }
        }
        self.handle(Input::Tick);
        self.flush_recorder();
        self.retry_publishes();
        for (peer, addrs) in self.links.due_redials(Instant::now()) {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                debug!(%peer, "redial: {e}");
            }
        }
    }

    fn on_command(&mut self, c: NodeCommand) {
        match c {
            NodeCommand::Engine(cmd) => {
                if let crate::consensus::Command::Submit(txs) = &cmd {
                    let at = Instant::now();
                    for t in txs {
                        self.latency.submitted(t.id(), at);
                    }
                }
                let v = self.handle(Input::Command(cmd));
                if let Verdict::Refused(why) = v {
                    debug!("command refused: {why}");
                }
            }
            NodeCommand::Dial(addr) => {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    self.warn(format!("cannot dial {addr}: {e}"));
                }
            }
            NodeCommand::Block { peer, blocked } => {
                let b = &mut self.swarm.behaviour_mut().blocked;
                if blocked {
                    b.block_peer(peer);
                } else {
                    b.unblock_peer(peer);
                }
            }
            NodeCommand::Inspect(q, reply) => {
                let answer = match q {
                    Inspect::Dispute(tx) => {
                        InspectReply::Dispute(self.engine.dispute_detail(&tx).map(Box::new))
                    }
                    Inspect::Peer(n) => {
                        InspectReply::Peer(self.engine.peer_detail(&n).map(Box::new))
                    }
                    Inspect::Composer => {
                        InspectReply::Composer(Box::new(self.engine.composer_seed()))
                    }
                };
                let _ = reply.send(answer);
            }
            NodeCommand::SetClockSkew(ms) => {
                self.clock_skew_ms = ms;
                self.warn(format!("clock skewed by {ms} ms"));
            }
            NodeCommand::SetByzantine(b) => {
                self.byzantine = b;
                self.warn(match b {
                    Some(b) => format!("now byzantine: {b:?}"),
                    None => "honest again".to_string(),
                });
            }
            NodeCommand::SetInboundDelay(d) => {
                self.inbound_delay = d;
                self.warn(format!("holding received gossip for {} ms", d.as_millis()));
            }
            NodeCommand::Shutdown => {}
        }
    }

    fn warn(&self, msg: String) {
        warn!("{msg}");
        if self.headless {
            // Headless operators watch the terminal, not the log file.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "warning: {msg}");
        }
        self.event(NodeEvent::Warning(msg));
    }

    // ---- engine outputs ------------------------------------------------------------------

    fn drain(&mut self) {
        let mut validated: Vec<Arc<Ledger>> = Vec::new();
        while let Some(out) = self.engine.poll_output() {
            if let Some(r) = self.recorder.as_mut() {
                r.output(&out);
            }
            if !matches!(out, Output::LedgerFullyValidated(_)) && !validated.is_empty() {
                self.commit_validated(std::mem::take(&mut validated));
            }
            match out {
                Output::Broadcast(Message::Validation(_)) if self.validation_blocked => {
                    // Never sign what we could not record: a restart might sign it again.
                }
                Output::Broadcast(msg) => self.broadcast(msg),
                Output::AcquireTxSet { id, from } => {
                    let mut candidates: Vec<PeerId> = from
                        .iter()
                        .filter_map(peer_id_of)
                        .filter(|p| self.links.is_connected(p))
                        .collect();
                    candidates.extend(self.links.connected_peers());
                    if let Some((peer, req)) =
                        self.fetcher.start(FetchKey::TxSet(id), 0, candidates)
                    {
                        self.send_request(FetchKey::TxSet(id), peer, req);
                    }
                }
                Output::AcquireLedger { hash, back_to } => {
                    let candidates = self.links.connected_peers();
                    if let Some((peer, req)) =
                        self.fetcher
                            .start(FetchKey::Ledger(hash), back_to, candidates)
                    {
                        self.send_request(FetchKey::Ledger(hash), peer, req);
                    }
                }
                Output::PersistValidatedSeq(seq) => {
                    let store = self.store.clone();
                    let r = tokio::task::block_in_place(|| store.set_largest_validated_seq(seq));
                    if let Err(e) = r {
                        // Without a durable record we must not sign: a restart could sign the
                        // same sequence twice. Drop the validation that follows.
                        self.store_errors += 1;
                        self.validation_blocked = true;
                        self.warn(format!(
                            "cannot persist validated seq {seq} in {}: {e}; no longer signing validations",
                            self.store.path().display()
                        ));
                    }
                }
                Output::LedgerAccepted(a) => {
                    let store = self.store.clone();
                    let l = a.ledger.clone();
                    if let Err(e) = tokio::task::block_in_place(|| store.put_accepted(&l)) {
                        self.store_errors += 1;
                        self.warn(format!(
                            "cannot store ledger {} in {}: {e}",
                            l.seq(),
                            self.store.path().display()
                        ));
                    }
                    self.event(NodeEvent::LedgerAccepted(a));
                }
                Output::LedgerFullyValidated(l) => validated.push(l),
                Output::LedgerSwitched { from, to } => {
                    info!(from = %from.short(), to = %to.hash().short(), seq = to.seq(), "switched ledger");
                    self.event(NodeEvent::LedgerSwitched { from, to });
                }
                Output::PhaseChanged(p) => self.event(NodeEvent::Phase(p)),
                Output::ModeChanged(m) => {
                    info!(mode = m.name(), "mode changed");
                    self.event(NodeEvent::Mode(m));
                }
                Output::Event(e) => {
                    match &e {
                        crate::consensus::engine::Event::UnlOverlap(c) if !c.safe => warn!(
                            validator = %c.validator,
                            overlap = c.overlap,
                            ours = c.ours,
                            needed = c.min_overlap,
                            "UNL overlap below the fork-safety bound (Chase & MacBrough 2018, Theorem 8)"
                        ),
                        crate::consensus::engine::Event::ForkDetected { ours, theirs } => warn!(
                            ours = %ours.short(),
                            theirs = %theirs.short(),
                            "fully validated ledgers forked"
                        ),
                        _ => {}
                    }
                    self.event(NodeEvent::Consensus(e))
                }
            }
        }
        if !validated.is_empty() {
            self.commit_validated(validated);
        }
    }

    /// Stores fully validated ledgers (one transaction), then reports them: a ledger is only
    /// ever reported once it is durable.
    fn commit_validated(&mut self, ledgers: Vec<Arc<Ledger>>) {
        if let Some(r) = self.recorder.as_mut() {
            r.write_through();
        }
        let store = self.store.clone();
        let r = tokio::task::block_in_place(|| store.put_fully_validated(&ledgers));
        if let Err(e) = r {
            self.store_errors += 1;
            self.warn(format!(
                "cannot store validated ledgers in {}: {e}",
                self.store.path().display()
            ));
            return;
        }
        let now = self.now();
        let at = Instant::now();
        for l in ledgers {
            for id in l.txs().ids() {
                self.latency.validated(id, at);
            }
            if self.headless {
                // Not println!: it panics when stdout cannot be written (a full disk under a
                // redirected stdout), and a status line is not worth the node.
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "ledger {} {} validated: {} txs, closed {} UTC, {} peers, mode {}",
                    l.seq(),
                    l.hash().short(),
                    l.txs().len(),
                    time_of_day(l.close_time()),
                    self.links.len(),
                    self.engine.mode().name()
                );
            }
            info!(seq = l.seq(), hash = %l.hash().short(), txs = l.txs().len(), "ledger fully validated");
            ValidatedLedger::remember(&mut self.recent_validated, &l, now);
            self.event(NodeEvent::LedgerValidated(l));
        }
    }

    fn broadcast(&mut self, msg: Message) {
        let msgs: Vec<Message> = match self.byzantine {
            None => vec![msg],
            Some(b) => crate::sim::byzantine::rewrite(
                b,
                &msg,
                &self.key,
                self.network_id,
                &mut self.byzantine_rng,
            )
            .into_iter()
            .map(|(m, _)| m)
            .collect(),
        };
        for msg in msgs {
            self.broadcast_one(msg);
        }
    }

    fn broadcast_one(&mut self, msg: Message) {
        for g in Gossip::from_message(&msg) {
            let kind = match &g {
                Gossip::Proposal(_) => TopicKind::Proposals,
                Gossip::Validation(_) => TopicKind::Validations,
                Gossip::Txs(_) => TopicKind::Transactions,
                // UNL announcements are rare and belong with validations.
                Gossip::Unl(_) => TopicKind::Validations,
            };
            match wire::encode_gossip(&g) {
                Ok(bytes) => self.publish(kind, bytes, 0),
                Err(e) => self.warn(format!("cannot encode {}: {e}", kind.name())),
            }
        }
    }

    fn publish(&mut self, kind: TopicKind, bytes: Vec<u8>, attempt: u32) {
        let topic = self.topics.topic(kind).clone();
        let len = bytes.len() as u64;
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, bytes.clone())
        {
            Ok(_) => {
                *self.traffic.messages_out.entry(kind.name()).or_default() += 1;
                *self.traffic.bytes_out.entry(kind.name()).or_default() += len;
            }
            Err(PublishError::Duplicate) => {}
            Err(e @ (PublishError::NoPeersSubscribedToTopic | PublishError::AllQueuesFull(_))) => {
                if attempt == 0 {
                    *self
                        .traffic
                        .publish_failures
                        .entry(short_error(&e))
                        .or_default() += 1;
                }
                if attempt < PUBLISH_RETRY_TICKS && self.retry.len() < PUBLISH_QUEUE {
                    self.retry.push_back((kind, bytes, attempt + 1));
                }
            }
            Err(e) => {
                *self
                    .traffic
                    .publish_failures
                    .entry(short_error(&e))
                    .or_default() += 1;
                self.warn(format!("cannot publish {}: {e}", kind.name()));
            }
        }
    }

    fn retry_publishes(&mut self) {
        let pending: Vec<_> = self.retry.drain(..).collect();
        for (kind, bytes, attempt) in pending {
            self.publish(kind, bytes, attempt);
        }
    }

    fn send_request(&mut self, key: FetchKey, peer: PeerId, req: Request) {
        let id = self.swarm.behaviour_mut().sync.send_request(&peer, Ok(req));
        *self.traffic.messages_out.entry("request").or_default() += 1;
        self.fetcher.sent(id, key, peer);
    }

    fn retry_fetch(&mut self, key: FetchKey) {
        match self.fetcher.next(key) {
            Some((peer, req)) => self.send_request(key, peer, req),
            None => self.traffic.fetches_failed += 1,
        }
    }

    fn publish_snapshot(&mut self) {
        self.dirty = false;
        let gossip = &self.swarm.behaviour().gossipsub;
        let snap = NodeSnapshot {
            network_id: self.network_id,
            peer_id: self.swarm.local_peer_id().to_string(),
            listen: self.listen.iter().map(|a| a.to_string()).collect(),
            started: self.started,
            info: self.engine.info(),
            peers: self.links.rows(|p| gossip.peer_score(p)),
            traffic: self.traffic.clone(),
            store_errors: self.store_errors,
            recent_validated: self.recent_validated.iter().cloned().collect(),
            latency: self.latency.summary(),
            engine: self.engine.counters().clone(),
            held: self.held_items(),
            rss_mib: super::process::memory_mib(None, "VmRSS"),
        };
        let _ = self.snapshot.send(Arc::new(snap));
    }

    /// The engine's bounded collections and the node's own.
    fn held_items(&self) -> Vec<Held> {
        let mut held = self.engine.held();
        held.push(Held {
            what: "gossip_ids",
            items: self.guard.remembered(),
            cap: Some(super::guard::MAX_REMEMBERED),
            rule: "message ids of the last 30 minutes, to refuse replays",
        });
        held.push(Held {
            what: "submissions",
            items: self.latency.tracked(),
            cap: Some(super::latency::MAX_TRACKED),
            rule: "local submissions waiting to validate (timed for latency; 10 minutes at most)",
        });
        held
    }

    // ---- network ---------------------------------------------------------------------------

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        if let Some(m) = &self.metrics {
            m.swarm(&ev);
        }
        match ev {
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                self.listen.push(address.clone());
                self.endpoints.listen.push(address.to_string());
                if let Err(e) = self.endpoints.write() {
                    self.warn(format!("cannot write endpoints file: {e}"));
                }
                self.event(NodeEvent::Listening(address));
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                if endpoint.is_dialer() {
                    self.links.remember(peer_id, addr.clone());
                }
                let unl = self.engine.validations().unl().clone();
                if self
                    .links
                    .connected(peer_id, addr.clone(), |n| unl.contains(n))
                {
                    let node = node_id_of(&peer_id);
                    let trusted = node.is_some_and(|n| unl.contains(&n));
                    info!(%peer_id, %addr, trusted, "peer connected");
                    self.event(NodeEvent::PeerConnected {
                        peer: peer_id,
                        node,
                        addr,
                        trusted,
                    });
                }
                self.dirty = true;
            }
            SwarmEvent::ConnectionClosed { peer_id, .. } => {
                if let Some(link) = self.links.disconnected(&peer_id) {
                    info!(%peer_id, "peer disconnected");
                    self.event(NodeEvent::PeerDisconnected {
                        peer: peer_id,
                        node: link.node,
                    });
                }
                self.dirty = true;
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(?peer_id, "dial failed: {error}");
            }
            SwarmEvent::Behaviour(b) => self.on_behaviour(b),
            _ => {}
        }
    }

    fn on_behaviour(&mut self, ev: BehaviourEvent) {
        if let Some(m) = &self.metrics {
            m.behaviour(&ev); // gossipsub, identify, ping
        }
        match ev {
            BehaviourEvent::Gossipsub(g) => self.on_gossipsub(g),
            BehaviourEvent::Sync(s) => self.on_sync(s),
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result,
            }) => match result {
                Ok(rtt) => {
                    self.links.rtt(&peer, rtt);
                    self.event(NodeEvent::PeerLatency {
                        peer,
                        rtt_ms: rtt.as_secs_f64() * 1000.0,
                    });
                }
                Err(e) => {
                    // A dead connection (e.g. the peer restarted under the same id) would keep
                    // publishes failing until it timed out: close it so we redial at once.
                    debug!(%peer, "ping failed: {e}");
                    self.swarm.close_connection(connection);
                }
            },
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.links.agent(&peer_id, info.agent_version.clone());
                let trusted =
                    node_id_of(&peer_id).is_some_and(|n| self.engine.validations().trusts(&n));
                for addr in info.listen_addrs {
                    if trusted && !is_unspecified(&addr) {
                        self.links.remember(peer_id, addr.clone());
                    }
                    self.swarm.add_peer_address(peer_id, addr);
                }
            }
            BehaviourEvent::Identify(_) => {}
            BehaviourEvent::Mdns(mdns::Event::Discovered(list)) => {
                for (peer, addr) in list {
                    self.links.remember(peer, addr.clone());
                    self.swarm.add_peer_address(peer, addr);
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Expired(_)) => {}
            BehaviourEvent::Limits(v) => match v {},
            BehaviourEvent::Blocked(v) => match v {},
        }
    }

    fn on_gossipsub(&mut self, ev: gossipsub::Event) {
        match ev {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                if !self.inbound_delay.is_zero() {
                    let due = Instant::now() + self.inbound_delay;
                    self.held
                        .push_back((due, propagation_source, message_id, message));
                    return;
                }
                self.take_message(propagation_source, message_id, message);
            }
            gossipsub::Event::Subscribed { peer_id, topic } => {
                if let Some(k) = self.topics.kind_of(&topic) {
                    self.links.subscribed(&peer_id, k, true);
                    self.dirty = true;
                }
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                if let Some(k) = self.topics.kind_of(&topic) {
                    self.links.subscribed(&peer_id, k, false);
                    self.dirty = true;
                }
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                debug!(%peer_id, "peer does not speak gossipsub; disconnecting");
                let _ = self.swarm.disconnect_peer_id(peer_id);
            }
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => {
                self.traffic.slow_peer_reports += 1;
                let failed = (failed_messages.priority + failed_messages.non_priority) as u64;
                self.event(NodeEvent::SlowPeer {
                    peer: peer_id,
                    failed,
                });
                if self.links.slow(peer_id, Instant::now()) {
                    self.warn(format!(
                        "peer {peer_id} keeps failing to take messages ({failed} dropped); disconnecting"
                    ));
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                }
            }
        }
    }

    fn take_message(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let kind = self.topics.kind_of(&message.topic);
        let channel = kind.map(|k| k.name()).unwrap_or("unknown topic");
        let verdict = match self.guard.check(source, &id.0, Instant::now()) {
            super::guard::Check::Flood => {
                self.handle(Input::Refused {
                    from: None,
                    why: Refusal::RateLimited,
                });
                self.count_refusal(Some(source), None, channel, Refusal::RateLimited);
                MessageAcceptance::Reject
            }
            super::guard::Check::Replay => {
                self.handle(Input::Refused {
                    from: None,
                    why: Refusal::Replay,
                });
                self.count_refusal(Some(source), None, channel, Refusal::Replay);
                MessageAcceptance::Reject
            }
            super::guard::Check::Pass => match kind {
                Some(k) => self.take_gossip(k, source, &message.data),
                None => MessageAcceptance::Reject,
            },
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, verdict);
    }

    /// Delivers held messages that are due (a slowed node, in `demo`).
    fn release_held(&mut self) {
        let now = Instant::now();
        while self.held.front().is_some_and(|(due, ..)| *due <= now) {
            if let Some((_, source, id, message)) = self.held.pop_front() {
                self.take_message(source, id, message);
            }
        }
    }

    fn count_refusal(
        &mut self,
        peer: Option<PeerId>,
        from: Option<NodeId>,
        channel: &'static str,
        why: Refusal,
    ) {
        *self.traffic.rejected.entry(why).or_default() += 1;
        self.event(NodeEvent::Rejected {
            peer,
            from,
            channel,
            reason: why,
        });
    }

    /// Decodes, verifies and hands one gossip message to the engine; says whether gossipsub
    /// should forward it (accept), drop it (ignore) or drop it and penalise the sender (reject).
    fn take_gossip(&mut self, kind: TopicKind, source: PeerId, data: &[u8]) -> MessageAcceptance {
        *self.traffic.messages_in.entry(kind.name()).or_default() += 1;
        *self.traffic.bytes_in.entry(kind.name()).or_default() += data.len() as u64;
        let decoded = match wire::decode_gossip(data) {
            Ok(g) => g,
            Err(e) => {
                let why = e.refusal();
                self.handle(Input::Refused { from: None, why });
                self.count_refusal(Some(source), None, kind.name(), why);
                return MessageAcceptance::Reject;
            }
        };
        let now = self.now();
        match (kind, decoded) {
            (TopicKind::Proposals, Gossip::Proposal(sp)) => {
                let claimed = sp.proposal.node;
                match sp.verify(&mut self.verifier, self.network_id) {
                    Err(e) => {
                        let why = signature_refusal(e);
                        self.handle(Input::Refused {
                            from: Some(claimed),
                            why,
                        });
                        self.count_refusal(Some(source), Some(claimed), kind.name(), why);
                        MessageAcceptance::Reject
                    }
                    Ok(v) => {
                        let p = v.proposal().clone();
                        if p.is_initial() {
                            // A first position carries the sender's clock at sending.
                            let delay = now.since(p.close_time);
                            if (0..10_000).contains(&delay) {
                                self.latency.propagation.push(delay as f64);
                            }
                        }
                        let verdict = self.handle(Input::Proposal(v));
                        if let Verdict::Refused(why) = verdict {
                            *self.traffic.rejected.entry(why).or_default() += 1;
                        }
                        self.event(NodeEvent::Proposal {
                            from: p.node,
                            seq: p.seq,
                            prev_ledger: p.prev_ledger,
                            position: p.position,
                            close_time: p.close_time,
                            verdict,
                            at: now,
                        });
                        acceptance(verdict)
                    }
                }
            }
            (TopicKind::Validations, Gossip::Validation(sv)) => {
                let claimed = sv.validation.node;
                match sv.verify(&mut self.verifier, self.network_id) {
                    Err(e) => {
                        let why = signature_refusal(e);
                        self.handle(Input::Refused {
                            from: Some(claimed),
                            why,
                        });
                        self.count_refusal(Some(source), Some(claimed), kind.name(), why);
                        MessageAcceptance::Reject
                    }
                    Ok(v) => {
                        let val = v.validation().clone();
                        let verdict = self.handle(Input::Validation(v));
                        if let Verdict::Refused(why) = verdict {
                            *self.traffic.rejected.entry(why).or_default() += 1;
                        }
                        self.event(NodeEvent::Validation {
                            from: val.node,
                            seq: val.seq,
                            ledger: val.ledger,
                            verdict,
                            at: now,
                        });
                        acceptance(verdict)
                    }
                }
            }
            (TopicKind::Validations, Gossip::Unl(su)) => {
                let claimed = su.announcement.node;
                match su.verify(&mut self.verifier, self.network_id) {
                    Err(e) => {
                        let why = match e {
                            crate::consensus::unl::UnlError::Signature(s) => signature_refusal(s),
                            crate::consensus::unl::UnlError::Malformed => Refusal::Malformed,
                        };
                        self.handle(Input::Refused {
                            from: Some(claimed),
                            why,
                        });
                        self.count_refusal(Some(source), Some(claimed), kind.name(), why);
                        MessageAcceptance::Reject
                    }
                    Ok(v) => {
                        let verdict = self.handle(Input::Unl(v));
                        acceptance(verdict)
                    }
                }
            }
            (TopicKind::Transactions, Gossip::Txs(txs)) => {
                let verdict = self.handle(Input::Txs(txs));
                acceptance(verdict)
            }
            _ => {
                // A well-formed message on the wrong topic.
                let why = Refusal::Malformed;
                self.handle(Input::Refused { from: None, why });
                self.count_refusal(Some(source), None, kind.name(), why);
                MessageAcceptance::Reject
            }
        }
    }

    fn on_sync(&mut self, ev: request_response::Event<Decoded<Request>, Decoded<Response>>) {
        match ev {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.serve(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    let Some((key, from)) = self.fetcher.answered(&request_id) else {
                        return;
                    };
                    *self.traffic.messages_in.entry("response").or_default() += 1;
                    if self.take_response(key, from, response) {
                        self.traffic.fetches_ok += 1;
                        self.fetcher.finish(&key);
                    } else {
                        self.retry_fetch(key);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                debug!(%peer, "fetch failed: {error}");
                if let Some((key, _)) = self.fetcher.answered(&request_id) {
                    self.retry_fetch(key);
                }
            }
            request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Feeds a fetch answer to the engine. True when it delivered what was asked for.
    fn take_response(&mut self, key: FetchKey, from: PeerId, response: Decoded<Response>) -> bool {
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                let why = e.refusal();
                self.count_refusal(Some(from), node_id_of(&from), "sync", why);
                return false;
            }
        };
        match (key, response) {
            (FetchKey::TxSet(id), Response::TxSet(Some(txs))) => {
                let set = TxSet::new(txs);
                if set.id() != id {
                    self.count_refusal(Some(from), node_id_of(&from), "sync", Refusal::BadLedger);
                    return false;
                }
                self.handle(Input::TxSet(Arc::new(set)));
                true
            }
            (FetchKey::Ledger(hash), Response::Ledgers(list)) => {
                let mut got = false;
                for wl in list {
                    match wl.into_ledger() {
                        Ok(l) => {
                            got |= l.hash() == hash;
                            self.handle(Input::Ledger(l));
                        }
                        Err(e) => {
                            self.count_refusal(Some(from), node_id_of(&from), "sync", e.refusal());
                            break;
                        }
                    }
                }
                got
            }
            _ => false,
        }
    }

    /// Answers a peer's fetch from the engine (recent) or the store (older ledgers).
    fn serve(
        &mut self,
        peer: PeerId,
        request: Decoded<Request>,
        channel: ResponseChannel<Decoded<Response>>,
    ) {
        *self.traffic.messages_in.entry("request").or_default() += 1;
        let now = Instant::now();
        let budget = self.request_budget.entry(peer).or_insert((now, 0));
        if now.duration_since(budget.0) >= Duration::from_secs(1) {
            *budget = (now, 0);
        }
        budget.1 += 1;
        if budget.1 > REQUESTS_PER_PEER_PER_SEC {
            self.count_refusal(Some(peer), node_id_of(&peer), "sync", Refusal::RateLimited);
            return; // dropping the channel fails the peer's request
        }
        if self.request_budget.len() > 4096 {
            self.request_budget
                .retain(|_, (t, _)| now.duration_since(*t) < Duration::from_secs(2));
        }
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                self.count_refusal(Some(peer), node_id_of(&peer), "sync", e.refusal());
                return;
            }
        };
        let response = match request {
            Request::TxSet(id) => {
                Response::TxSet(self.engine.tx_set(&id).map(|s| s.iter().cloned().collect()))
            }
            Request::Ledgers { hash, back_to, max } => {
                let max = (max as usize).min(wire::MAX_LEDGERS_PER_RESPONSE);
                let mut chain: Vec<Arc<Ledger>> = Vec::new();
                let mut next = Some(hash);
                while let Some(h) = next {
                    if chain.len() >= max {
                        break;
                    }
                    let l = match self.engine.ledger(&h) {
                        Some(l) => Some(l.clone()),
                        None => {
                            let store = self.store.clone();
                            tokio::task::block_in_place(|| store.ledger(&h))
                                .ok()
                                .flatten()
                        }
                    };
                    let Some(l) = l else { break };
                    if l.seq() <= back_to {
                        break;
                    }
                    next = (l.seq() > 0).then(|| l.parent());
                    chain.push(l);
                }
                Response::ledgers_within_limits(chain.iter().map(|l| l.as_ref()))
            }
        };
        self.traffic.requests_served += 1;
        *self.traffic.messages_out.entry("response").or_default() += 1;
        let _ = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, Ok(response));
    }
}

/// `HH:MM:SS.mmm` of a Unix-millisecond time (UTC), for status lines.
fn time_of_day(t: Time) -> String {
    let ms = t.ms().rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn signature_refusal(e: crate::consensus::keys::SignatureError) -> Refusal {
    match e {
        crate::consensus::keys::SignatureError::BadKey => Refusal::BadKey,
        crate::consensus::keys::SignatureError::BadSignature => Refusal::BadSignature,
    }
}

fn short_error(e: &PublishError) -> String {
    match e {
        PublishError::Duplicate => "duplicate".into(),
        PublishError::SigningError(_) => "signing_error".into(),
        PublishError::NoPeersSubscribedToTopic => "no_peers_subscribed".into(),
        PublishError::MessageTooLarge => "message_too_large".into(),
        PublishError::TransformFailed(_) => "transform_failed".into(),
        PublishError::AllQueuesFull(_) => "all_queues_full".into(),
    }
}

fn is_unspecified(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        libp2p::multiaddr::Protocol::Ip4(ip) => ip.is_unspecified(),
        libp2p::multiaddr::Protocol::Ip6(ip) => ip.is_unspecified(),
        _ => false,
    })
}
