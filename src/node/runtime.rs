//! The node task: one tokio task owns the engine, the swarm and the store. Timer ticks, network
//! events and operator commands become engine inputs; engine outputs become publishes, fetches
//! and writes. Nothing else touches the engine, so it needs no lock.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use libp2p::futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance, PublishError};
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm, identify, mdns, ping};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use super::api::hub::Hub;
use super::commands::{NodeCommand, Outbound};
use super::endpoints::Endpoints;
use super::fetch::{FetchKey, Fetcher};
use super::links::Links;
use crate::consensus::engine::{Message, Output};
use crate::consensus::{
    Command, Engine, Input, Ledger, NodeId, Refusal, Time, Tx, TxId, TxSet, Verdict, Verifier,
};
use crate::contract::build::{self, Batcher};
use crate::contract::snapshot::bump;
use crate::contract::{
    Admission, Answer, Envelope, Held, NodeEvent, NodeSnapshot, Payload, RefusedTx, Reply,
    Request as ApiRequest, Submissions, Traffic, ValidatedLedger,
};
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
    pub(super) hub: Arc<Hub>,
    pub(super) batcher: Batcher,
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
    pub(super) outbound: Option<Box<dyn Outbound>>,
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
    /// What became of transactions submitted here.
    pub(super) submissions: Submissions,
    /// Submitted here, accepted, not yet fully validated (all of them are in the pending pool,
    /// so this is bounded by its capacity).
    pub(super) outstanding: HashSet<TxId>,
    /// When `outstanding` was last checked against the pending pool.
    pub(super) outstanding_checked: Instant,
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

    /// Reports a node event (per-transaction engine events are held until the engine step
    /// ends, then sent as one batch).
    fn event(&mut self, e: NodeEvent) {
        for e in self.batcher.push(e) {
            self.emit(e);
        }
    }

    /// Ends an engine step: sends the batched events.
    fn flush_events(&mut self) {
        for e in self.batcher.flush() {
            self.emit(e);
        }
    }

    fn emit(&self, e: NodeEvent) {
        if let Some(m) = &self.metrics {
            m.node_event(&e); // ledger interval and round time histograms
        }
        self.hub.event(self.now(), e);
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
                    } else {
                        self.hub.flush_status();
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
        if !self.outstanding.is_empty() {
            // They were relayed to our peers, which keep proposing them; this node no longer
            // does, so say so rather than let them vanish.
            let n = self.outstanding.len() as u64;
            self.outstanding.clear();
            self.dropped(
                n,
                "node_stopped",
                "the node stopped before they validated (peers that got them keep proposing them)",
            );
        }
        self.publish_snapshot();
    }

    fn handle(&mut self, input: Input) -> Verdict {
        let now = self.now();
        if let Some(r) = self.recorder.as_mut() {
            r.input(now, &input);
        }
        // Inputs that show as events (proposals, validations) are reported with the verdict.
        let shown =
            matches!(input, Input::Proposal(_) | Input::Validation(_)).then(|| input.clone());
        let v = self.engine.handle(now, input);
        self.drain();
        if let Some(e) = shown.and_then(|i| build::input_event(&i, v, now)) {
            self.event(e);
        }
        self.flush_events();
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
        self.check_outstanding();
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
            NodeCommand::Api(envelope, reply) => {
                let answer = self.request(envelope);
                let _ = reply.send(answer);
            }
            NodeCommand::Dial(addr) => {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    self.warn(format!("cannot dial {addr}: {e}"));
                }
            }
            NodeCommand::Block { peer, blocked } => {
                let said = self.block(peer, blocked);
                self.warn(said);
            }
            NodeCommand::SetClockSkew(ms) => {
                self.clock_skew_ms = ms;
                self.warn(format!("clock skewed by {ms} ms"));
            }
            NodeCommand::SetOutbound(o) => {
                let said = match &o {
                    Some(o) => format!("now byzantine: {}", o.describe()),
                    None => "honest again".to_string(),
                };
                self.outbound = o;
                self.warn(said);
            }
            NodeCommand::SetInboundDelay(d) => {
                self.inbound_delay = d;
                self.warn(format!("holding received gossip for {} ms", d.as_millis()));
            }
            NodeCommand::Shutdown => {}
        }
    }

    /// Blocks a peer (its connections close and it cannot reconnect) or allows it again and
    /// dials it back at the addresses we know for it; says what it did.
    fn block(&mut self, peer: PeerId, blocked: bool) -> String {
        let b = &mut self.swarm.behaviour_mut().blocked;
        if blocked {
            b.block_peer(peer);
            return format!("blocked peer {peer}");
        }
        b.unblock_peer(peer);
        let addrs = self.links.addresses(&peer);
        let n = addrs.len();
        if n > 0 {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                self.warn(format!("cannot dial {peer}: {e}"));
            }
        }
        format!("allowed peer {peer} again ({n} known address(es) dialled)")
    }

    /// Carries out one API request (the token was checked by the API).
    fn request(&mut self, e: Envelope) -> Reply {
        let id = e.id;
        match e.request {
            ApiRequest::Submit { txs } => Reply::ok(id, Answer::Admission(self.admit(txs))),
            ApiRequest::Propose { txs, close_time } => {
                let mut set = Vec::with_capacity(txs.len());
                for (i, p) in txs.into_iter().enumerate() {
                    match Tx::new(p.0) {
                        Ok(t) => set.push(t),
                        Err(e) => return Reply::error(id, 400, format!("txs[{i}]: {e}")),
                    }
                }
                let n = set.len();
                match self.handle(Input::Command(Command::InjectPosition {
                    txs: set,
                    close_time,
                })) {
                    Verdict::Accepted => Reply::ok(
                        id,
                        Answer::Done(format!("proposed a position of {n} transaction(s)")),
                    ),
                    Verdict::Refused(_) => Reply::error(
                        id,
                        409,
                        "the node takes a position only while proposing in the establish phase; try again during establish",
                    ),
                }
            }
            ApiRequest::Vote { tx, vote } => {
                match self.handle(Input::Command(Command::OverrideVote {
                    tx,
                    vote: vote.pinned(),
                })) {
                    Verdict::Accepted => Reply::ok(
                        id,
                        Answer::Done(match vote.pinned() {
                            Some(true) => format!("pinned our vote on {} to YES", tx.short()),
                            Some(false) => format!("pinned our vote on {} to NO", tx.short()),
                            None => format!("released our vote on {}", tx.short()),
                        }),
                    ),
                    Verdict::Refused(_) => Reply::error(
                        id,
                        409,
                        format!("{} is not disputed in this round", tx.short()),
                    ),
                }
            }
            ApiRequest::Dispute { tx } => Reply::ok(
                id,
                Answer::Dispute(self.engine.dispute_detail(&tx).map(Box::new)),
            ),
            ApiRequest::Peer { node } => Reply::ok(
                id,
                Answer::Peer(self.engine.peer_detail(&node).map(Box::new)),
            ),
            ApiRequest::Composer {} => {
                Reply::ok(id, Answer::Composer(Box::new(self.engine.composer_seed())))
            }
            ApiRequest::Block { peer, blocked } => match peer.parse::<PeerId>() {
                Ok(p) => Reply::ok(id, Answer::Done(self.block(p, blocked))),
                Err(e) => Reply::error(
                    id,
                    400,
                    format!("peer {peer:?} is not a libp2p peer id: {e}"),
                ),
            },
        }
    }

    /// Submit admission: each payload is accepted (room in the pending pool), known (already
    /// pending or validated, or repeated in the batch) or refused with a reason. Only accepted
    /// ones reach the engine, so the engine takes every one of them.
    fn admit(&mut self, txs: Vec<Payload>) -> Admission {
        let pool = self.engine.pending();
        let mut room = pool.capacity().saturating_sub(pool.len());
        let mut seen: HashSet<TxId> = HashSet::new();
        let mut out = Admission::default();
        let mut take = Vec::new();
        for (index, p) in txs.into_iter().enumerate() {
            let tx = match Tx::new(p.0) {
                Ok(t) => t,
                Err(e) => {
                    out.refused.push(RefusedTx {
                        index,
                        reason: format!("invalid: {e}"),
                    });
                    continue;
                }
            };
            let id = tx.id();
            if !seen.insert(id) || pool.contains(&id) || pool.was_validated(&id) {
                out.known += 1;
            } else if room == 0 {
                out.refused.push(RefusedTx {
                    index,
                    reason: format!(
                        "pool_full: {} transactions are pending, the most this node holds; retry after the next validated ledger",
                        pool.capacity()
                    ),
                });
                out.retry_after_s = Some(self.retry_after_s());
            } else {
                room -= 1;
                take.push(tx);
            }
        }
        out.accepted = take.len();
        self.submissions.accepted += out.accepted as u64;
        self.submissions.known += out.known as u64;
        for r in &out.refused {
            let why = r.reason.split(':').next().unwrap_or("refused").to_string();
            *self.submissions.refused.entry(why).or_default() += 1;
        }
        if !take.is_empty() {
            let at = Instant::now();
            for t in &take {
                self.latency.submitted(t.id(), at);
                self.outstanding.insert(t.id());
            }
            let n = take.len();
            if let Verdict::Refused(why) = self.handle(Input::Command(Command::Submit(take))) {
                // Cannot happen (room and novelty were checked above); if it ever does, the
                // submitter was told "accepted", so it is reported, never silent.
                self.check_outstanding();
                self.warn(format!(
                    "the engine refused {n} admitted transaction(s): {why}"
                ));
            }
        }
        out
    }

    /// Seconds a submitter should wait after a full pool: about one ledger.
    fn retry_after_s(&self) -> u64 {
        let p = self.engine.params();
        ((p.ledger_min_close_ms.max(p.ledger_granularity_ms) as u64) * 2)
            .div_ceil(1000)
            .max(1)
    }

    /// Accepted submissions no longer pending and not validated were dropped: count and show
    /// them (none are expected: the engine keeps pending transactions until they validate).
    fn check_outstanding(&mut self) {
        if self.outstanding.is_empty()
            || self.outstanding_checked.elapsed() < Duration::from_secs(1)
        {
            return;
        }
        self.outstanding_checked = Instant::now();
        let pool = self.engine.pending();
        let before = self.outstanding.len();
        self.outstanding
            .retain(|id| pool.contains(id) && !pool.was_validated(id));
        let gone = (before - self.outstanding.len()) as u64;
        if gone > 0 {
            self.dropped(
                gone,
                "left_pool",
                "they left the pending pool without a fully validated ledger holding them",
            );
        }
    }

    fn dropped(&mut self, n: u64, code: &str, why: &str) {
        *self
            .submissions
            .dropped
            .entry(code.to_string())
            .or_default() += n;
        self.warn(format!("{n} accepted transaction(s) dropped: {why}"));
        self.event(NodeEvent::TxsDropped {
            count: n,
            reason: format!("{code}: {why}"),
        });
        self.dirty = true;
    }

    fn warn(&mut self, msg: String) {
        warn!("{msg}");
        if self.headless {
            // Headless operators watch the terminal, not the log file.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "warning: {msg}");
        }
        self.event(NodeEvent::warning(msg));
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
            match &out {
                Output::Broadcast(Message::Validation(_)) if self.validation_blocked => {
                    // Never sign what we could not record: a restart might sign it again.
                }
                Output::Broadcast(msg) => self.broadcast(msg.clone()),
                Output::AcquireTxSet { id, from } => {
                    let mut candidates: Vec<PeerId> = from
                        .iter()
                        .filter_map(peer_id_of)
                        .filter(|p| self.links.is_connected(p))
                        .collect();
                    candidates.extend(self.links.connected_peers());
                    if let Some((peer, req)) =
                        self.fetcher.start(FetchKey::TxSet(*id), 0, candidates)
                    {
                        self.send_request(FetchKey::TxSet(*id), peer, req);
                    }
                }
                Output::AcquireLedger { hash, back_to } => {
                    let candidates = self.links.connected_peers();
                    if let Some((peer, req)) =
                        self.fetcher
                            .start(FetchKey::Ledger(*hash), *back_to, candidates)
                    {
                        self.send_request(FetchKey::Ledger(*hash), peer, req);
                    }
                }
                Output::PersistValidatedSeq(seq) => {
                    let seq = *seq;
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
                }
                Output::LedgerFullyValidated(l) => validated.push(l.clone()),
                Output::LedgerSwitched { from, to } => {
                    info!(from = %from.short(), to = %to.hash().short(), seq = to.seq(), "switched ledger");
                }
                Output::PhaseChanged(_) => {}
                Output::ModeChanged(m) => info!(mode = m.name(), "mode changed"),
                Output::Event(e) => match e {
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
                },
            }
            // Fully validated ledgers are reported once stored (commit_validated).
            if !matches!(out, Output::LedgerFullyValidated(_))
                && let Some(e) = build::output_event(&out)
            {
                self.event(e);
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
            let ours = l
                .txs()
                .ids()
                .filter(|id| self.outstanding.remove(id))
                .count();
            self.submissions.validated += ours as u64;
            if let Some(e) = build::output_event(&Output::LedgerFullyValidated(l)) {
                self.event(e);
            }
        }
    }

    fn broadcast(&mut self, msg: Message) {
        let msgs: Vec<Message> = match self.outbound.as_mut() {
            None => vec![msg],
            Some(o) => o.rewrite(&msg, &self.key, self.network_id),
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
                bump(&mut self.traffic.messages_out, kind.name(), 1);
                bump(&mut self.traffic.bytes_out, kind.name(), len);
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
        bump(&mut self.traffic.messages_out, "request", 1);
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
        self.submissions.outstanding = self.outstanding.len() as u64;
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
            submissions: self.submissions.clone(),
            api: self.hub.stats.read(),
        };
        let snap = Arc::new(snap);
        let _ = self.snapshot.send(snap.clone());
        self.hub.status(snap);
    }

    /// The engine's bounded collections and the node's own.
    fn held_items(&self) -> Vec<Held> {
        let mut held: Vec<Held> = self.engine.held().into_iter().map(Held::from).collect();
        held.push(Held {
            what: "gossip_ids".into(),
            items: self.guard.remembered(),
            cap: Some(super::guard::MAX_REMEMBERED),
            rule: "message ids of the last 30 minutes, to refuse replays".into(),
        });
        held.push(Held {
            what: "submissions".into(),
            items: self.latency.tracked(),
            cap: Some(super::latency::MAX_TRACKED),
            rule: "local submissions waiting to validate (timed for latency; 10 minutes at most)"
                .into(),
        });
        held.push(Held {
            what: "outstanding_submissions".into(),
            items: self.outstanding.len(),
            cap: Some(self.engine.pending().capacity()),
            rule: "accepted submissions not yet validated (all in the pending pool)".into(),
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
                self.event(NodeEvent::Listening {
                    addr: address.to_string(),
                });
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
                        peer: peer_id.to_string(),
                        node,
                        addr: addr.to_string(),
                        trusted,
                    });
                }
                self.dirty = true;
            }
            SwarmEvent::ConnectionClosed { peer_id, .. } => {
                if let Some(link) = self.links.disconnected(&peer_id) {
                    info!(%peer_id, "peer disconnected");
                    self.event(NodeEvent::PeerDisconnected {
                        peer: peer_id.to_string(),
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
                        peer: peer.to_string(),
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
                    peer: peer_id.to_string(),
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
            peer: peer.map(|p| p.to_string()),
            from,
            channel: channel.to_string(),
            reason: why,
        });
    }

    /// Decodes, verifies and hands one gossip message to the engine; says whether gossipsub
    /// should forward it (accept), drop it (ignore) or drop it and penalise the sender (reject).
    fn take_gossip(&mut self, kind: TopicKind, source: PeerId, data: &[u8]) -> MessageAcceptance {
        bump(&mut self.traffic.messages_in, kind.name(), 1);
        bump(&mut self.traffic.bytes_in, kind.name(), data.len() as u64);
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
                        let verdict = self.handle(Input::Validation(v));
                        if let Verdict::Refused(why) = verdict {
                            *self.traffic.rejected.entry(why).or_default() += 1;
                        }
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
                    bump(&mut self.traffic.messages_in, "response", 1);
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
        bump(&mut self.traffic.messages_in, "request", 1);
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
        bump(&mut self.traffic.messages_out, "response", 1);
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
