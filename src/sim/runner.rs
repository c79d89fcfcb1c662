//! The discrete-event loop: a virtual clock, one seeded RNG, a queue of timed events, and one
//! real [`Engine`] per node. Nothing here reads a clock or the OS RNG, so a scenario and a seed
//! always produce the same run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::byzantine::{Fanout, rewrite};
use super::report::{LedgerRecord, NodeOutcome, NodeRecord, Report, StateChangeReport};
use super::scenario::{Behaviour, FaultKind, Scenario, TxSource};
use super::topology::{Topology, TopologyState};
use crate::consensus::engine::{
    EngineConfig, Event, KEEP_LEDGERS, Message, Mode, Output, ServerState, StartFrom,
};
use crate::consensus::ledger::Seq;
use crate::consensus::proposal::VerifiedProposal;
use crate::consensus::validation::VerifiedValidation;
use crate::consensus::{
    ConsensusParams, Engine, Hash256, Input, Ledger, NodeKey, Refusal, Time, Tx, TxSet, Verifier,
};

/// Network time at simulated time zero (one day, as rippled's simulator uses), so no close time
/// is ever the special value zero.
pub const SIM_EPOCH_MS: i64 = 86_400_000;

/// Network id the simulator signs with.
pub const SIM_NETWORK_ID: u32 = 0x5349_4d00;

/// Most ledgers sent in one ledger response.
const MAX_LEDGERS_PER_RESPONSE: usize = 256;

#[derive(Debug, Clone)]
enum SimMsg {
    Proposal(VerifiedProposal),
    Validation(VerifiedValidation),
    Txs(Arc<Vec<Tx>>),
    Unl(crate::consensus::unl::VerifiedUnl),
    TxSetRequest(Hash256),
    TxSet(Arc<TxSet>),
    LedgerRequest { hash: Hash256, back_to: Seq },
    Ledgers(Vec<Arc<Ledger>>),
    Refused(Refusal, Option<crate::consensus::NodeId>),
}

impl SimMsg {
    fn kind(&self) -> &'static str {
        match self {
            SimMsg::Proposal(_) => "proposal",
            SimMsg::Validation(_) => "validation",
            SimMsg::Txs(_) => "transactions",
            SimMsg::Unl(_) => "unl",
            SimMsg::TxSetRequest(_) => "tx_set_request",
            SimMsg::TxSet(_) => "tx_set",
            SimMsg::LedgerRequest { .. } => "ledger_request",
            SimMsg::Ledgers(_) => "ledgers",
            SimMsg::Refused(..) => "refused",
        }
    }

    /// Requests and responses travel one direct link; gossip travels relay paths.
    fn is_point_to_point(&self) -> bool {
        matches!(
            self,
            SimMsg::TxSetRequest(_)
                | SimMsg::TxSet(_)
                | SimMsg::LedgerRequest { .. }
                | SimMsg::Ledgers(_)
        )
    }
}

#[derive(Debug)]
enum Ev {
    Tick { node: usize, generation: u64 },
    Deliver { to: usize, from: usize, msg: SimMsg },
    FaultStart(usize),
    FaultEnd(usize),
    Submit(usize),
}

/// Events by time, first in first out within one millisecond: the same order as sorting by
/// (time, insertion), but a broadcast's many deliveries at one instant share one bucket, which
/// is much cheaper than a binary heap of large events.
#[derive(Debug, Default)]
struct EventQueue {
    buckets: BTreeMap<u64, std::collections::VecDeque<Ev>>,
}

impl EventQueue {
    fn push(&mut self, at: u64, ev: Ev) {
        self.buckets.entry(at).or_default().push_back(ev);
    }

    fn next_time(&self) -> Option<u64> {
        self.buckets.first_key_value().map(|(t, _)| *t)
    }

    fn pop(&mut self) -> Option<(u64, Ev)> {
        let mut first = self.buckets.first_entry()?;
        let at = *first.key();
        let ev = first.get_mut().pop_front();
        if first.get().is_empty() {
            first.remove();
        }
        ev.map(|e| (at, e))
    }
}

/// What a node persisted, as a real node's store would: fully validated ledgers and the highest
/// sequence it ever validated. A crashed node restarts from exactly this.
#[derive(Debug, Default, Clone)]
struct Persisted {
    chain: Vec<Arc<Ledger>>,
    largest_validated_seq: Seq,
}

struct SimNode {
    key: NodeKey,
    engine: Engine,
    live: bool,
    generation: u64,
    skew_ms: i64,
    byzantine: Option<Behaviour>,
    persisted: Persisted,
    record: NodeRecord,
    /// The peer count last given to the engine.
    peers_told: Option<usize>,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Every live honest validator fully validated the requested number of ledgers.
    Rounds,
    /// Simulated time reached `max_time_ms`.
    MaxTime,
    /// Nothing left to happen.
    Idle,
}

/// A running simulation.
pub struct Simulation {
    sc: Scenario,
    params: ConsensusParams,
    rng: ChaCha8Rng,
    now: u64,
    queue: EventQueue,
    nodes: Vec<SimNode>,
    topo: Topology,
    active: Vec<bool>,
    oracle: HashMap<Hash256, Arc<Ledger>>,
    messages: BTreeMap<&'static str, u64>,
    verifier: Verifier,
    check_stop: bool,
    events: u64,
    trace: bool,
    started: bool,
    tap: Option<Tap>,
    /// Flight recorders, one per node, when recording (`cpeers sim --record DIR`).
    recorders: Vec<Option<crate::record::Recorder>>,
}

/// What one node's engine was given and what it emitted while tapped ([`Simulation::tap`]):
/// enough to feed another engine the same inputs and compare what it does.
#[derive(Debug, Default)]
pub struct Tap {
    /// The tapped node's index.
    pub node: usize,
    /// Every input, with the time the engine was given it, in order.
    pub inputs: Vec<(Time, Input)>,
    /// Every output, in order.
    pub outputs: Vec<Output>,
}

/// Derives node `i`'s key from the seed (deterministic, distinct per node and seed).
pub fn sim_key(seed: u64, i: usize) -> NodeKey {
    let h = Hash256::of(&[
        b"cpeers-sim-key",
        &seed.to_be_bytes(),
        &(i as u64).to_be_bytes(),
    ]);
    NodeKey::from_secret(h.0)
}

impl Simulation {
    /// Prepares a run of `sc` (with its own seed).
    pub fn new(sc: Scenario) -> Simulation {
        let params = sc.profile.params();
        let rng = ChaCha8Rng::seed_from_u64(sc.seed);
        let keys: Vec<NodeKey> = (0..sc.nodes.len()).map(|i| sim_key(sc.seed, i)).collect();
        let nodes: Vec<SimNode> = sc
            .nodes
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let key = keys[i].clone();
                let engine = Engine::new(
                    engine_config(&sc, &params, i, &keys),
                    Some(key.clone()),
                    StartFrom::Genesis,
                );
                SimNode {
                    key,
                    engine,
                    live: true,
                    generation: 0,
                    skew_ms: spec.clock_skew_ms,
                    byzantine: None,
                    persisted: Persisted::default(),
                    record: NodeRecord::default(),
                    peers_told: None,
                }
            })
            .collect();
        let n = nodes.len();
        let mut sim = Simulation {
            active: vec![false; sc.faults.len()],
            topo: Topology::build(
                &sc,
                &TopologyState {
                    live: &vec![true; n],
                    relays: &vec![true; n],
                    partitions: vec![],
                    extra_delay: &vec![0; n],
                },
            ),
            params,
            rng,
            now: 0,
            queue: EventQueue::default(),
            nodes,
            oracle: HashMap::new(),
            messages: BTreeMap::new(),
            verifier: Verifier::new(),
            check_stop: false,
            events: 0,
            trace: false,
            started: false,
            tap: None,
            recorders: Vec::new(),
            sc,
        };
        let g = sim.params.ledger_granularity_ms as u64;
        for i in 0..n {
            sim.schedule(
                g,
                Ev::Tick {
                    node: i,
                    generation: 0,
                },
            );
        }
        for i in 0..sim.sc.submits.len() {
            let at = sim.sc.submits[i].at_ms;
            sim.schedule(at, Ev::Submit(i));
        }
        for i in 0..sim.sc.faults.len() {
            let (at, until) = (sim.sc.faults[i].at_ms, sim.sc.faults[i].until_ms);
            sim.schedule(at, Ev::FaultStart(i));
            if let Some(u) = until {
                sim.schedule(u, Ev::FaultEnd(i));
            }
        }
        sim
    }

    fn schedule(&mut self, at: u64, ev: Ev) {
        self.queue.push(at, ev);
    }

    fn local_time(&self, i: usize) -> Time {
        Time(SIM_EPOCH_MS + self.now as i64 + self.nodes[i].skew_ms)
    }

    /// Runs to completion and reports.
    pub fn run(mut self) -> Report {
        let reason = self.run_until_stop();
        self.report(reason)
    }

    /// Runs until the scenario's stop condition; returns why it stopped.
    pub fn run_until_stop(&mut self) -> StopReason {
        let limit = self.sc.max_time_ms;
        self.run_until(limit).unwrap_or(StopReason::MaxTime)
    }

    /// Runs every event up to simulated time `limit_ms` (inclusive), or until the scenario's
    /// stop condition. Returns the stop reason if the run is over, `None` if it paused at the
    /// limit and can continue.
    pub fn run_until(&mut self, limit_ms: u64) -> Option<StopReason> {
        if !self.started {
            self.started = true;
            self.tell_peer_counts();
            for i in 0..self.nodes.len() {
                let now = self.local_time(i);
                self.feed(i, now, Input::Start);
                self.drain(i);
            }
        }
        let limit = limit_ms.min(self.sc.max_time_ms);
        loop {
            let due = match self.queue.next_time() {
                None => return Some(StopReason::Idle),
                Some(at) => at <= limit,
            };
            if !due {
                self.now = self.now.max(limit);
                return (limit >= self.sc.max_time_ms).then_some(StopReason::MaxTime);
            }
            let Some((at, ev)) = self.queue.pop() else {
                return Some(StopReason::Idle);
            };
            self.now = at;
            self.events += 1;
            self.process(ev);
            if self.check_stop {
                self.check_stop = false;
                if self.rounds_done() {
                    return Some(StopReason::Rounds);
                }
            }
        }
    }

    /// Feeds `input` to node `name` now and carries out what its engine asks (as if an
    /// operator acted on that node mid-run).
    pub fn handle(&mut self, name: &str, input: Input) -> Option<crate::consensus::Verdict> {
        let i = self.sc.node_index(name)?;
        if !self.nodes[i].live {
            return None;
        }
        let now = self.local_time(i);
        let v = self.feed(i, now, input);
        self.drain(i);
        Some(v)
    }

    /// The engine of node `name` (for tests and tools that inspect a paused run).
    pub fn engine(&self, name: &str) -> Option<&Engine> {
        let i = self.sc.node_index(name)?;
        Some(&self.nodes[i].engine)
    }

    /// Whether node `name` is running.
    pub fn is_live(&self, name: &str) -> bool {
        self.sc.node_index(name).is_some_and(|i| self.nodes[i].live)
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.sc
    }

    /// The report as of now (the run can continue afterwards).
    pub fn report_now(&self) -> Report {
        self.report(StopReason::Idle)
    }

    /// Prints every engine output with its time and node to stderr (`cpeers sim --trace`).
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// Starts recording node `name`'s inputs and outputs (replacing any earlier tap); false if
    /// there is no such node. A tap does not follow a node across a crash and restart.
    pub fn tap(&mut self, name: &str) -> bool {
        let Some(node) = self.sc.node_index(name) else {
            return false;
        };
        self.tap = Some(Tap {
            node,
            ..Tap::default()
        });
        true
    }

    /// Stops tapping and returns what was recorded.
    pub fn take_tap(&mut self) -> Option<Tap> {
        self.tap.take()
    }

    /// Gives node `i`'s engine one input (recording it if the node is tapped or recorded).
    fn feed(&mut self, i: usize, now: Time, input: Input) -> crate::consensus::Verdict {
        if let Some(t) = self.tap.as_mut().filter(|t| t.node == i) {
            t.inputs.push((now, input.clone()));
        }
        if let Some(Some(r)) = self.recorders.get_mut(i) {
            r.input(now, &input);
        }
        let v = self.nodes[i].engine.handle(now, input);
        if let Some(Some(r)) = self.recorders.get_mut(i) {
            r.verdict(v);
        }
        v
    }

    /// Records every node's engine into `dir/<node>.rec` from now on, each file replayable with
    /// `cpeers replay` (restarts are recorded as fresh checkpoints).
    pub fn record_to(&mut self, dir: &std::path::Path) -> Result<(), crate::record::RecordError> {
        let mut recorders = Vec::new();
        for i in 0..self.nodes.len() {
            let name = self.sc.nodes[i].name.clone();
            let header = crate::record::Header {
                cpeers_version: env!("CARGO_PKG_VERSION").to_string(),
                node: self.nodes[i].key.id(),
                name: name.clone(),
                network_id: SIM_NETWORK_ID,
                source: format!("sim {} seed {}", self.sc.name, self.sc.seed),
                segment: 0,
                started_at: self.local_time(i),
            };
            recorders.push(Some(crate::record::Recorder::create(
                &dir.join(format!("{name}.rec")),
                crate::record::RecordOptions {
                    max_bytes: u64::MAX,
                    keep: 0,
                },
                header,
                self.nodes[i].engine.checkpoint(),
            )?));
        }
        self.recorders = recorders;
        Ok(())
    }

    /// Writes out what the recorders hold (also done when the simulation is dropped).
    pub fn flush_recordings(&mut self) {
        for r in self.recorders.iter_mut().flatten() {
            r.flush();
        }
    }

    /// Events processed so far (for benchmarks).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Simulated time now (ms).
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    fn rounds_done(&self) -> bool {
        let Some(rounds) = self.sc.rounds else {
            return false;
        };
        let mut any = false;
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.live || n.byzantine.is_some() || !self.sc.nodes[i].validator {
                continue;
            }
            any = true;
            if n.engine.fully_validated().seq() < rounds {
                return false;
            }
        }
        any
    }

    fn process(&mut self, ev: Ev) {
        match ev {
            Ev::Tick { node, generation } => {
                if !self.nodes[node].live || self.nodes[node].generation != generation {
                    return;
                }
                let now = self.local_time(node);
                self.feed(node, now, Input::Tick);
                self.drain(node);
                let g = self.params.ledger_granularity_ms as u64;
                self.schedule(self.now + g, Ev::Tick { node, generation });
            }
            Ev::Deliver { to, from, msg } => self.deliver(to, from, msg),
            Ev::Submit(i) => {
                let spec = self.sc.submits[i].clone();
                let txs: Vec<Tx> = match &spec.txs {
                    TxSource::Explicit(list) => list
                        .iter()
                        .filter_map(|p| Tx::new(p.as_bytes()).ok())
                        .collect(),
                    TxSource::Random(n) => (0..*n)
                        .filter_map(|_| {
                            let r: u64 = self.rng.random();
                            Tx::new(format!("rnd-{r:016x}")).ok()
                        })
                        .collect(),
                };
                for &node in &spec.to {
                    if !self.nodes[node].live {
                        continue;
                    }
                    let now = self.local_time(node);
                    self.feed(
                        node,
                        now,
                        Input::Command(crate::consensus::Command::Submit(txs.clone())),
                    );
                    self.drain(node);
                }
            }
            Ev::FaultStart(i) => {
                self.active[i] = true;
                self.fault_changed(i, true);
            }
            Ev::FaultEnd(i) => {
                self.active[i] = false;
                self.fault_changed(i, false);
            }
        }
    }

    fn fault_changed(&mut self, i: usize, start: bool) {
        match self.sc.faults[i].kind.clone() {
            FaultKind::Crash { nodes } => {
                for n in nodes {
                    if start {
                        self.nodes[n].live = false;
                        self.nodes[n].generation += 1;
                    } else if !self.nodes[n].live && !self.crashed_by_other(n, i) {
                        self.restart(n);
                    }
                }
            }
            FaultKind::Byzantine { nodes, behaviour } => {
                for n in nodes {
                    self.nodes[n].byzantine = if start { Some(behaviour) } else { None };
                }
            }
            FaultKind::ClockSkew { nodes, skew_ms } => {
                for n in nodes {
                    self.nodes[n].skew_ms = if start {
                        skew_ms
                    } else {
                        self.sc.nodes[n].clock_skew_ms
                    };
                }
            }
            FaultKind::Partition { .. } | FaultKind::Delay { .. } => {}
        }
        self.rebuild_topology();
    }

    fn crashed_by_other(&self, node: usize, except: usize) -> bool {
        self.sc.faults.iter().enumerate().any(|(j, f)| {
            j != except
                && self.active[j]
                && matches!(&f.kind, FaultKind::Crash { nodes } if nodes.contains(&node))
        })
    }

    fn restart(&mut self, n: usize) {
        let keys: Vec<NodeKey> = self.nodes.iter().map(|x| x.key.clone()).collect();
        let cfg = engine_config(&self.sc, &self.params, n, &keys);
        let p = self.nodes[n].persisted.clone();
        let from = StartFrom::Resume {
            chain: p.chain,
            largest_validated_seq: p.largest_validated_seq,
        };
        let node = &mut self.nodes[n];
        node.engine = Engine::new(cfg, Some(node.key.clone()), from);
        if let Some(Some(r)) = self.recorders.get_mut(n) {
            r.restarted(self.nodes[n].engine.checkpoint());
        }
        let node = &mut self.nodes[n];
        node.live = true;
        node.generation += 1;
        node.peers_told = None;
        let generation = node.generation;
        self.rebuild_topology();
        let now = self.local_time(n);
        self.feed(n, now, Input::Start);
        self.drain(n);
        let g = self.params.ledger_granularity_ms as u64;
        self.schedule(
            self.now + g,
            Ev::Tick {
                node: n,
                generation,
            },
        );
    }

    fn rebuild_topology(&mut self) {
        let n = self.nodes.len();
        let live: Vec<bool> = self.nodes.iter().map(|x| x.live).collect();
        let relays: Vec<bool> = self
            .nodes
            .iter()
            .map(|x| x.live && x.byzantine != Some(Behaviour::Silent))
            .collect();
        let mut extra = vec![0u64; n];
        let mut partitions: Vec<&[Vec<usize>]> = Vec::new();
        for (i, f) in self.sc.faults.iter().enumerate() {
            if !self.active[i] {
                continue;
            }
            match &f.kind {
                FaultKind::Partition { sides } => partitions.push(sides),
                FaultKind::Delay { nodes, delay_ms } => {
                    for &x in nodes {
                        extra[x] += delay_ms;
                    }
                }
                _ => {}
            }
        }
        self.topo = Topology::build(
            &self.sc,
            &TopologyState {
                live: &live,
                relays: &relays,
                partitions,
                extra_delay: &extra,
            },
        );
        if self.started {
            self.tell_peer_counts();
        }
    }

    fn deliver(&mut self, to: usize, from: usize, msg: SimMsg) {
        if !self.nodes[to].live {
            return;
        }
        let reachable = if msg.is_point_to_point() {
            self.topo.direct(from, to).is_some()
        } else {
            self.topo.dist(from, to).is_some()
        };
        if !reachable {
            return;
        }
        *self.messages.entry(msg.kind()).or_default() += 1;
        let now = self.local_time(to);
        let silent = self.nodes[to].byzantine == Some(Behaviour::Silent);
        match msg {
            SimMsg::Proposal(p) => {
                self.feed(to, now, Input::Proposal(p));
            }
            SimMsg::Validation(v) => {
                self.feed(to, now, Input::Validation(v));
            }
            SimMsg::Txs(txs) => {
                self.feed(to, now, Input::Txs((*txs).clone()));
            }
            SimMsg::Unl(u) => {
                self.feed(to, now, Input::Unl(u));
            }
            SimMsg::Refused(why, claimed) => {
                self.feed(to, now, Input::Refused { from: claimed, why });
            }
            SimMsg::TxSet(set) => {
                self.feed(to, now, Input::TxSet(set));
            }
            SimMsg::Ledgers(list) => {
                for l in list {
                    self.feed(to, now, Input::Ledger(l));
                }
            }
            SimMsg::TxSetRequest(id) => {
                if silent {
                    return;
                }
                if let (Some(set), Some(d)) = (
                    self.nodes[to].engine.tx_set(&id),
                    self.topo.direct(to, from),
                ) {
                    self.schedule(
                        self.now + d as u64,
                        Ev::Deliver {
                            to: from,
                            from: to,
                            msg: SimMsg::TxSet(set),
                        },
                    );
                }
                return;
            }
            SimMsg::LedgerRequest { hash, back_to } => {
                if silent {
                    return;
                }
                let e = &self.nodes[to].engine;
                let mut chain = Vec::new();
                let mut cur = e.ledger(&hash).cloned();
                while let Some(l) = cur {
                    if l.seq() <= back_to || chain.len() >= MAX_LEDGERS_PER_RESPONSE {
                        break;
                    }
                    cur = e.ledger(&l.parent()).cloned();
                    chain.push(l);
                }
                if let (false, Some(d)) = (chain.is_empty(), self.topo.direct(to, from)) {
                    self.schedule(
                        self.now + d as u64,
                        Ev::Deliver {
                            to: from,
                            from: to,
                            msg: SimMsg::Ledgers(chain),
                        },
                    );
                }
                return;
            }
        }
        self.drain(to);
    }

    /// Carries out everything node `i`'s engine asked for.
    fn drain(&mut self, i: usize) {
        while let Some(out) = self.nodes[i].engine.poll_output() {
            if let Some(t) = self.tap.as_mut().filter(|t| t.node == i) {
                t.outputs.push(out.clone());
            }
            if let Some(Some(r)) = self.recorders.get_mut(i) {
                r.output(&out);
            }
            if self.trace {
                self.trace_output(i, &out);
            }
            match out {
                Output::PersistValidatedSeq(seq) => {
                    let p = &mut self.nodes[i].persisted;
                    p.largest_validated_seq = p.largest_validated_seq.max(seq);
                }
                Output::Broadcast(msg) => {
                    let sends = match self.nodes[i].byzantine {
                        None => vec![(msg, Fanout::All)],
                        Some(b) => {
                            let key = self.nodes[i].key.clone();
                            rewrite(b, &msg, &key, SIM_NETWORK_ID, &mut self.rng)
                        }
                    };
                    for (m, fanout) in sends {
                        self.broadcast(i, m, fanout);
                    }
                }
                Output::AcquireTxSet { id, from } => {
                    let hints: BTreeSet<usize> = from
                        .iter()
                        .filter_map(|k| self.nodes.iter().position(|n| &n.key.id() == k))
                        .collect();
                    if let Some((r, d)) =
                        self.pick_responder(i, &hints, |e| e.tx_set(&id).is_some())
                    {
                        self.schedule(
                            self.now + d as u64,
                            Ev::Deliver {
                                to: r,
                                from: i,
                                msg: SimMsg::TxSetRequest(id),
                            },
                        );
                    }
                }
                Output::AcquireLedger { hash, back_to } => {
                    if let Some((r, d)) =
                        self.pick_responder(i, &BTreeSet::new(), |e| e.ledger(&hash).is_some())
                    {
                        self.schedule(
                            self.now + d as u64,
                            Ev::Deliver {
                                to: r,
                                from: i,
                                msg: SimMsg::LedgerRequest { hash, back_to },
                            },
                        );
                    }
                }
                Output::LedgerAccepted(a) => {
                    self.oracle.insert(a.ledger.hash(), a.ledger.clone());
                    self.nodes[i].record.push(LedgerRecord {
                        ledger: a.ledger.clone(),
                        result: a.result.name().to_string(),
                        round_ms: a.round_ms,
                        proposers: a.proposers,
                    });
                }
                Output::LedgerSwitched { to, .. } => {
                    self.oracle.entry(to.hash()).or_insert_with(|| to.clone());
                    self.nodes[i].record.adopt(&to);
                }
                Output::LedgerFullyValidated(l) => {
                    self.oracle.entry(l.hash()).or_insert_with(|| l.clone());
                    let now = self.now;
                    let node = &mut self.nodes[i];
                    node.record.last_validated_at_ms = Some(now);
                    node.record.adopt(&l);
                    node.record.fully_validated.push((l.seq(), l.hash()));
                    node.persisted.chain.push(l);
                    let len = node.persisted.chain.len();
                    if len > KEEP_LEDGERS as usize * 2 {
                        node.persisted.chain.drain(..len - KEEP_LEDGERS as usize);
                    }
                    self.check_stop = true;
                }
                Output::Event(Event::ServerStateChanged(c)) => {
                    let at_ms = self.now;
                    self.nodes[i].record.state_changes.push(StateChangeReport {
                        at_ms,
                        state: c.state.name().to_string(),
                        reason: c.reason.to_string(),
                    });
                }
                Output::PhaseChanged(_) | Output::ModeChanged(_) | Output::Event(_) => {}
            }
        }
    }

    fn trace_output(&self, i: usize, out: &Output) {
        let who = &self.sc.nodes[i].name;
        let line = match out {
            Output::Broadcast(Message::Proposal(p)) => format!(
                "propose seq={} pos={} prev={} ct={}",
                p.proposal.seq,
                p.proposal.position.short(),
                p.proposal.prev_ledger.short(),
                p.proposal.close_time.ms()
            ),
            Output::Broadcast(Message::Validation(v)) => format!(
                "validate #{} {} full={}",
                v.validation.seq,
                v.validation.ledger.short(),
                v.validation.full
            ),
            Output::Broadcast(Message::Txs(t)) => format!("txs x{}", t.len()),
            Output::Broadcast(Message::Unl(u)) => {
                format!("announce UNL of {}", u.announcement.unl.len())
            }
            Output::AcquireTxSet { id, .. } => format!("acquire set {}", id.short()),
            Output::AcquireLedger { hash, back_to } => {
                format!("acquire ledger {} back_to {back_to}", hash.short())
            }
            Output::LedgerAccepted(a) => format!(
                "ACCEPT #{} {} parent={} txs={} {} round={}ms proposers={} mode={} validated={}",
                a.ledger.seq(),
                a.ledger.hash().short(),
                a.ledger.parent().short(),
                a.ledger.txs().len(),
                a.result.name(),
                a.round_ms,
                a.proposers,
                a.mode.name(),
                a.validated
            ),
            Output::LedgerSwitched { from, to } => {
                format!(
                    "SWITCH {} -> #{} {}",
                    from.short(),
                    to.seq(),
                    to.hash().short()
                )
            }
            Output::LedgerFullyValidated(l) => {
                format!("FULLY VALIDATED #{} {}", l.seq(), l.hash().short())
            }
            Output::PhaseChanged(p) => format!("phase {}", p.name()),
            Output::PersistValidatedSeq(s) => format!("persist validated seq {s}"),
            Output::ModeChanged(m) => format!("mode {}", m.name()),
            Output::Event(e) => format!("{e:?}"),
        };
        eprintln!("{:>8} {:<8} {}", self.now, who, line);
    }

    /// A live, non-silent direct neighbour of `i` holding what `has` looks for: hinted peers
    /// first, then the fastest.
    fn pick_responder(
        &self,
        i: usize,
        hints: &BTreeSet<usize>,
        has: impl Fn(&Engine) -> bool,
    ) -> Option<(usize, u32)> {
        let candidates: Vec<(usize, u32)> = self
            .topo
            .neighbours(i)
            .into_iter()
            .filter(|&(b, _)| {
                self.nodes[b].live
                    && self.nodes[b].byzantine != Some(Behaviour::Silent)
                    && has(&self.nodes[b].engine)
            })
            .collect();
        candidates
            .iter()
            .find(|(b, _)| hints.contains(b))
            .or_else(|| candidates.first())
            .copied()
    }

    /// Sends `msg` from `i` to every reachable node along the fastest relay path.
    fn broadcast(&mut self, i: usize, msg: Message, fanout: Fanout) {
        let sim_msg = match msg {
            Message::Proposal(p) => {
                let claimed = p.proposal.node;
                match (*p).clone().verify(&mut self.verifier, SIM_NETWORK_ID) {
                    Ok(v) => SimMsg::Proposal(v),
                    Err(_) => SimMsg::Refused(Refusal::BadSignature, Some(claimed)),
                }
            }
            Message::Validation(v) => {
                let claimed = v.validation.node;
                match (*v).clone().verify(&mut self.verifier, SIM_NETWORK_ID) {
                    Ok(v) => SimMsg::Validation(v),
                    Err(_) => SimMsg::Refused(Refusal::BadSignature, Some(claimed)),
                }
            }
            Message::Txs(txs) => SimMsg::Txs(txs),
            Message::Unl(u) => {
                let claimed = u.announcement.node;
                match (*u).clone().verify(&mut self.verifier, SIM_NETWORK_ID) {
                    Ok(v) => SimMsg::Unl(v),
                    Err(_) => SimMsg::Refused(Refusal::BadSignature, Some(claimed)),
                }
            }
        };
        let n = self.nodes.len();
        let first_hops: Option<Vec<(usize, u32)>> = match fanout {
            Fanout::All => None,
            Fanout::FirstHalf | Fanout::SecondHalf => {
                let nb = self.topo.neighbours(i);
                let half = nb.len().div_ceil(2);
                Some(if fanout == Fanout::FirstHalf {
                    nb[..half].to_vec()
                } else {
                    nb[half..].to_vec()
                })
            }
        };
        for v in 0..n {
            if v == i || !self.nodes[v].live {
                continue;
            }
            let d = match &first_hops {
                None => self.topo.dist(i, v),
                Some(hops) => hops
                    .iter()
                    .filter_map(|&(u, du)| {
                        if u == v {
                            Some(du)
                        } else {
                            self.topo.dist(u, v).map(|x| du.saturating_add(x))
                        }
                    })
                    .min(),
            };
            if let Some(d) = d {
                self.schedule(
                    self.now + d as u64,
                    Ev::Deliver {
                        to: v,
                        from: i,
                        msg: sim_msg.clone(),
                    },
                );
            }
        }
    }

    fn report(&self, _reason: StopReason) -> Report {
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let (mode, server_state) = if n.live {
                    let state = n.engine.server_state();
                    let shown = if state == ServerState::Full && n.engine.mode() == Mode::Proposing
                    {
                        "proposing"
                    } else {
                        state.name()
                    };
                    (n.engine.mode().name().to_string(), shown.to_string())
                } else {
                    ("crashed".to_string(), "crashed".to_string())
                };
                NodeOutcome {
                    spec: self.sc.nodes[i].clone(),
                    mode,
                    server_state,
                    live_honest: n.live && n.byzantine.is_none(),
                    record: n.record.clone(),
                    fully_validated: n.engine.fully_validated().clone(),
                    last_closed: n.engine.last_closed().clone(),
                    pending: n.engine.pending().iter().map(|t| t.text()).collect(),
                }
            })
            .collect();
        Report::build(&self.sc, self.now, nodes, &self.oracle, &self.messages)
    }

    /// Tells every live engine how many live peers it is linked to, when that changed
    /// (rippled's heartbeat counts connected peers; none means DISCONNECTED).
    fn tell_peer_counts(&mut self) {
        for i in 0..self.nodes.len() {
            if !self.nodes[i].live {
                continue;
            }
            let count = self
                .topo
                .neighbours(i)
                .iter()
                .filter(|(b, _)| self.nodes[*b].live)
                .count();
            if self.nodes[i].peers_told != Some(count) {
                self.nodes[i].peers_told = Some(count);
                let now = self.local_time(i);
                self.feed(i, now, Input::PeersConnected(count));
                self.drain(i);
            }
        }
    }
}

fn engine_config(
    sc: &Scenario,
    params: &ConsensusParams,
    i: usize,
    keys: &[NodeKey],
) -> EngineConfig {
    EngineConfig {
        params: params.clone(),
        network_id: SIM_NETWORK_ID,
        unl: sc.nodes[i].unl.iter().map(|&j| keys[j].id()).collect(),
        validating: sc.nodes[i].validator,
        max_pending: 1_000_000,
    }
}
