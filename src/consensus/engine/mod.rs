//! The consensus engine: one node's view of the XRP-Ledger-style round, with no I/O.
//!
//! # Contract
//! - Inputs arrive through [`Engine::handle`] with the current time; the engine never reads a
//!   clock, opens a socket, spawns a thread or draws a random number.
//! - After every `handle`, drain [`Engine::poll_output`] until it returns `None`, and carry out
//!   the effects in order (broadcast, fetch, persist). Outputs from one input never depend on
//!   when you drain them. `PersistValidatedSeq` must be durable before the broadcast after it.
//! - Call `handle(now, Input::Tick)` at least every ledger granularity (1 s on mainnet);
//!   [`Engine::next_tick`] says when the next one is due.
//! - Times must not go backwards; an earlier `now` is treated as the latest seen.
//!
//! The round logic follows rippled's `Consensus<Adaptor>` function by function (see the names
//! in each method's doc), so its behaviour can be checked against rippled's tests.

pub(crate) mod checkpoint;
mod commands;
mod held;
mod io;
mod ledger_sync;
pub mod operating_mode;
mod peer_input;
mod positions;
mod round;
mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

pub use checkpoint::{CHECKPOINT_VERSION, EngineCheckpoint, RestoreError};
pub use held::Held;
pub use io::{AcceptedLedger, Command, Event, Input, Message, Mode, Output, Phase};
pub use operating_mode::{ServerState, StateChange, StateReason};
pub use view::{
    ComposerSeed, ConsensusInfo, DisputeDetail, DisputeInfo, LedgerRef, PeerDetail, PeerInfo,
    PositionInfo,
};

use super::avalanche::AvalancheState;
use super::dispute::Dispute;
use super::hash::Hash256;
use super::history::LedgerHistory;
use super::keys::{NodeId, NodeKey};
use super::ledger::{Ledger, Seq};
use super::ledger_trie::AncestryLedger;
use super::params::ConsensusParams;
use super::peers::PeerTracker;
use super::pending::PendingPool;
use super::proposal::Proposal;
use super::refusal::{Refusal, Verdict};
use super::rules::ConsensusState;
use super::time::Time;
use super::tx::TxId;
use super::txset::TxSet;
use super::validation::SignedValidation;
use super::validations::{ValidationWindows, Validations};

/// Most transactions in one broadcast batch (the wire's `MAX_TXS_PER_BATCH`).
pub const MAX_TXS_PER_BROADCAST: usize = 512;

/// Ledgers kept below the fully validated one (for peers catching up and ancestry checks).
pub const KEEP_LEDGERS: Seq = 256;

/// Static configuration of one engine.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EngineConfig {
    /// Protocol numbers.
    pub params: ConsensusParams,
    /// Network id: signatures from other networks never verify.
    pub network_id: u32,
    /// Trusted validators. Our own key is added when we validate.
    pub unl: BTreeSet<NodeId>,
    /// Propose and validate (needs a key); otherwise observe.
    pub validating: bool,
    /// Most pending transactions held.
    pub max_pending: usize,
}

/// Where an engine starts.
#[derive(Debug, Clone)]
pub enum StartFrom {
    /// A new network at the genesis ledger.
    Genesis,
    /// A restart: the persisted chain (ascending, ending at the last fully validated ledger)
    /// and the highest sequence we ever signed a validation for (never sign it twice).
    Resume {
        /// Persisted ledgers, oldest first; the last is the last fully validated one.
        chain: Vec<Arc<Ledger>>,
        /// Highest sequence we validated before stopping.
        largest_validated_seq: Seq,
    },
}

/// Close times seen this round: peers' initial proposals and our own.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct RawCloseTimes {
    pub(crate) peers: BTreeMap<Time, u32>,
    pub(crate) ours: Time,
}

/// The state of the round after we closed the ledger (rippled `ConsensusResult`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RoundResult {
    pub(crate) txns: Arc<TxSet>,
    pub(crate) position: Proposal,
    pub(crate) position_time: Time,
    pub(crate) disputes: BTreeMap<TxId, Dispute>,
    pub(crate) compares: BTreeSet<Hash256>,
    /// Per acquired set, whether it holds each dispute's transaction (in `disputes` order):
    /// computed once per set, reused for every peer holding it. Cleared when `disputes` changes.
    #[serde(with = "checkpoint::sorted_map")]
    pub(crate) membership: HashMap<Hash256, Arc<Vec<bool>>>,
    pub(crate) round_start: Time,
    pub(crate) round_ms: i64,
    pub(crate) state: ConsensusState,
    pub(crate) proposers: usize,
}

/// Counters an operator can read (messages taken and refused, rounds by outcome).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct EngineCounters {
    /// Proposals taken.
    pub proposals_accepted: u64,
    /// Validations taken.
    pub validations_accepted: u64,
    /// Transactions added to the pending pool from peers and operators.
    pub txs_accepted: u64,
    /// Refusals by reason (all message kinds).
    pub refused: BTreeMap<Refusal, u64>,
    /// Rounds by result ([`ConsensusState::name`]s).
    #[serde(deserialize_with = "checkpoint::round_names::deserialize")]
    pub rounds: BTreeMap<&'static str, u64>,
    /// Ledger switches (wrong ledger / catch-up).
    pub switches: u64,
    /// Forks detected among fully validated ledgers.
    pub forks_detected: u64,
}

/// One node's consensus engine.
pub struct Engine {
    cfg: EngineConfig,
    key: Option<NodeKey>,
    our_id: NodeId,

    started: bool,
    first_round: bool,
    phase: Phase,
    mode: Mode,
    now: Time,
    last_tick: Time,
    open_start: Time,
    prev_round_ms: i64,
    prev_proposers: usize,
    prev_close_time: Time,
    prev_ledger_id: Hash256,
    lcl: Arc<Ledger>,
    close_resolution_ms: i64,
    have_close_time_consensus: bool,
    converge_percent: i64,
    close_time_avalanche: AvalancheState,
    result: Option<RoundResult>,
    acquired: BTreeMap<Hash256, Arc<TxSet>>,
    raw_close_times: RawCloseTimes,
    peers: PeerTracker,
    peer_unchanged_counter: u32,
    establish_counter: u32,
    last_check: Option<(ConsensusState, i64)>,

    ledgers: LedgerHistory,
    validations: Validations,
    /// Each held ledger with its ancestry as the trie wants it, built once when complete.
    ancestry: HashMap<Hash256, AncestryLedger>,
    fully_validated: Arc<Ledger>,
    largest_validated_seq: Seq,
    wanted_ledgers: BTreeMap<Hash256, (Time, Time)>,
    soon: BTreeMap<Hash256, Time>,

    pending: PendingPool,
    known_sets: HashMap<Hash256, (Arc<TxSet>, Seq)>,
    acquiring_sets: BTreeMap<Hash256, Time>,

    outputs: VecDeque<Output>,
    counters: EngineCounters,
    announced: BTreeMap<NodeId, (u64, BTreeSet<NodeId>, bool)>,
    unvouched: BTreeMap<NodeId, crate::consensus::unl::VerifiedUnl>,
    overlap: BTreeMap<NodeId, crate::consensus::unl::OverlapCheck>,
    accepted_since_announce: u32,

    server_state: ServerState,
    state_changes: VecDeque<StateChange>,
    peers_connected: Option<usize>,
    /// Our correction of the local clock toward the network's close times (rippled
    /// `TimeKeeper::closeOffset`), in milliseconds (whole close-time steps).
    close_offset_ms: i64,
    /// Sign time of our latest validation (rippled signs strictly increasing times).
    last_sign_time: Time,
    /// Our latest validation and when it was last sent: re-sent while stalled (see
    /// [`Engine::resend_validation_if_stalled`]). Not checkpointed: the next one is signed soon.
    last_own_validation: Option<(Arc<SignedValidation>, Time)>,
    /// Whether this round began with us proposing (in step): only then do we validate.
    round_in_step: bool,
    /// When the fully validated ledger last advanced (or the engine started): long enough
    /// ago, and the network is stalled.
    validated_at: Time,
}

/// Validators re-announce their UNL after this many ledgers, so peers that joined later learn it.
pub const ANNOUNCE_EVERY_LEDGERS: u32 = 64;

impl Engine {
    /// A new engine. It does nothing until it receives [`Input::Start`].
    pub fn new(mut cfg: EngineConfig, key: Option<NodeKey>, from: StartFrom) -> Engine {
        let validating = cfg.validating && key.is_some();
        cfg.validating = validating;
        let our_id = key.as_ref().map(|k| k.id()).unwrap_or(NodeId([0; 32]));
        if validating {
            cfg.unl.insert(our_id);
        }
        let genesis = Arc::new(Ledger::genesis(&cfg.params));
        let mut ledgers = LedgerHistory::new();
        ledgers.insert(genesis.clone());
        let restarted = matches!(from, StartFrom::Resume { .. });
        let (lcl, largest_validated_seq) = match from {
            StartFrom::Genesis => (genesis, 0),
            StartFrom::Resume {
                chain,
                largest_validated_seq,
            } => {
                let mut last = genesis;
                for l in chain {
                    ledgers.insert(l.clone());
                    last = l;
                }
                (last, largest_validated_seq)
            }
        };
        let validations = Validations::new(
            cfg.unl.clone(),
            cfg.params.min_consensus_pct,
            ValidationWindows::of(&cfg.params),
        );
        let pending = PendingPool::new(cfg.max_pending);
        Engine {
            key,
            our_id,
            started: false,
            first_round: true,
            phase: Phase::Open,
            mode: Mode::Observing,
            now: Time::ZERO,
            last_tick: Time::ZERO,
            open_start: Time::ZERO,
            prev_round_ms: cfg.params.ledger_idle_interval_ms,
            prev_proposers: 0,
            prev_close_time: lcl.close_time(),
            prev_ledger_id: lcl.hash(),
            close_resolution_ms: lcl.close_resolution_ms(),
            have_close_time_consensus: false,
            converge_percent: 0,
            close_time_avalanche: AvalancheState::Init,
            result: None,
            acquired: BTreeMap::new(),
            raw_close_times: RawCloseTimes::default(),
            peers: PeerTracker::new(),
            peer_unchanged_counter: 0,
            establish_counter: 0,
            last_check: None,
            fully_validated: lcl.clone(),
            lcl,
            ledgers,
            validations,
            largest_validated_seq,
            wanted_ledgers: BTreeMap::new(),
            soon: BTreeMap::new(),
            pending,
            known_sets: HashMap::new(),
            acquiring_sets: BTreeMap::new(),
            outputs: VecDeque::new(),
            counters: EngineCounters::default(),
            announced: BTreeMap::new(),
            unvouched: BTreeMap::new(),
            overlap: BTreeMap::new(),
            accepted_since_announce: 0,
            ancestry: HashMap::new(),
            // rippled starts FULL on a new network (`--start`) and DISCONNECTED otherwise.
            server_state: if restarted {
                ServerState::Disconnected
            } else {
                ServerState::Full
            },
            state_changes: VecDeque::new(),
            peers_connected: None,
            close_offset_ms: 0,
            last_sign_time: Time::ZERO,
            last_own_validation: None,
            round_in_step: false,
            validated_at: Time::ZERO,
            cfg,
        }
    }

    /// Feeds one input at time `now`. Returns whether it was taken (a gossip layer relays
    /// accepted messages and penalises offenses).
    pub fn handle(&mut self, now: Time, input: Input) -> Verdict {
        self.now = self.now.max(now);
        let verdict = match input {
            Input::Start => {
                if !self.started {
                    self.started = true;
                    self.validated_at = self.now;
                    let (state, reason) = if self.server_state == ServerState::Full {
                        (ServerState::Full, StateReason::NewNetwork)
                    } else {
                        (ServerState::Disconnected, StateReason::Restarted)
                    };
                    self.state_changes.push_back(StateChange {
                        at: self.now,
                        state,
                        reason,
                    });
                    self.emit(Output::Event(Event::ServerStateChanged(StateChange {
                        at: self.now,
                        state,
                        reason,
                    })));
                    self.announce_unl();
                    let lcl = self.lcl.clone();
                    let proposing = self.may_propose();
                    self.start_round(lcl.hash(), lcl, proposing);
                }
                Verdict::Accepted
            }
            Input::Tick => {
                self.last_tick = self.now;
                if self.started && self.heartbeat() {
                    self.timer_entry();
                    self.resend_validation_if_stalled();
                }
                self.retry_acquisitions();
                Verdict::Accepted
            }
            Input::PeersConnected(n) => {
                self.peers_connected = Some(n);
                Verdict::Accepted
            }
            Input::Proposal(p) => self.peer_proposal(p),
            Input::Validation(v) => self.peer_validation(v),
            Input::Unl(u) => self.peer_unl(u),
            Input::Txs(txs) => self.peer_txs(txs),
            Input::TxSet(set) => self.tx_set_arrived(set),
            Input::Ledger(l) => self.ledger_arrived(l),
            Input::Refused { from, why } => {
                if let Some(node) = from {
                    let trusted = self.validations.trusts(&node);
                    self.peers.refuse(node, trusted, why);
                }
                Verdict::Refused(why)
            }
            Input::Command(c) => self.command(c),
        };
        match verdict {
            Verdict::Accepted => {}
            Verdict::Refused(why) => *self.counters.refused.entry(why).or_default() += 1,
        }
        verdict
    }

    /// The next effect to carry out, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the next tick is due.
    pub fn next_tick(&self) -> Time {
        self.last_tick.plus(self.cfg.params.ledger_granularity_ms)
    }

    fn emit(&mut self, out: Output) {
        self.outputs.push_back(out);
    }

    /// Broadcasts transactions in batches of at most [`MAX_TXS_PER_BROADCAST`], so every
    /// message fits the wire limits however many were submitted at once.
    fn broadcast_txs(&mut self, txs: Vec<crate::consensus::tx::Tx>) {
        for chunk in txs.chunks(MAX_TXS_PER_BROADCAST) {
            self.emit(Output::Broadcast(Message::Txs(Arc::new(chunk.to_vec()))));
        }
    }

    // ---- read-only accessors -------------------------------------------------------------

    /// Configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Protocol numbers.
    pub fn params(&self) -> &ConsensusParams {
        &self.cfg.params
    }

    /// Our public key (all zeros for a keyless observer).
    pub fn node_id(&self) -> NodeId {
        self.our_id
    }

    /// Whether we validate (have a key and were configured to).
    pub fn is_validator(&self) -> bool {
        self.cfg.validating
    }

    /// Current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The last closed ledger we build on.
    pub fn last_closed(&self) -> &Arc<Ledger> {
        &self.lcl
    }

    /// The ledger the network is on, as far as we can tell.
    pub fn network_ledger(&self) -> Hash256 {
        self.prev_ledger_id
    }

    /// The last fully validated ledger.
    pub fn fully_validated(&self) -> &Arc<Ledger> {
        &self.fully_validated
    }

    /// Highest sequence we signed a validation for (persist it: never sign one twice).
    pub fn largest_validated_seq(&self) -> Seq {
        self.largest_validated_seq
    }

    /// A known ledger.
    pub fn ledger(&self, hash: &Hash256) -> Option<&Arc<Ledger>> {
        self.ledgers.get(hash)
    }

    /// The ledger on our chain (from the last closed ledger back) at `seq`.
    pub fn ledger_at(&self, seq: Seq) -> Option<&Arc<Ledger>> {
        let hash = self.ledgers.ancestor_at(&self.lcl, seq)?;
        self.ledgers.get(&hash)
    }

    /// A transaction set we hold (our positions, acquired sets, recent ledgers).
    pub fn tx_set(&self, id: &Hash256) -> Option<Arc<TxSet>> {
        if let Some(s) = self.acquired.get(id) {
            return Some(s.clone());
        }
        if let Some((s, _)) = self.known_sets.get(id) {
            return Some(s.clone());
        }
        None
    }

    /// Pending transactions.
    pub fn pending(&self) -> &PendingPool {
        &self.pending
    }

    /// Per-peer statistics.
    pub fn peers(&self) -> &PeerTracker {
        &self.peers
    }

    /// Trusted validations.
    pub fn validations(&self) -> &Validations {
        &self.validations
    }

    /// Current disputes (empty before we close).
    pub fn disputes(&self) -> Option<&BTreeMap<TxId, Dispute>> {
        self.result.as_ref().map(|r| &r.disputes)
    }

    /// Counters.
    pub fn counters(&self) -> &EngineCounters {
        &self.counters
    }

    /// The time of the latest input.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Our network time: the local clock corrected toward the network's close times (rippled
    /// `TimeKeeper::closeTime`). Close times and validation sign times are taken from it.
    pub fn net_now(&self) -> Time {
        self.now.plus(self.close_offset_ms)
    }

    /// Our current correction of the local clock (ms).
    pub fn close_offset_ms(&self) -> i64 {
        self.close_offset_ms
    }

    /// rippled `preStartRound`: propose only when validating and in step (FULL).
    fn may_propose(&self) -> bool {
        self.cfg.validating && self.server_state == ServerState::Full
    }

    /// `hash` with its ancestry, once we hold the ledger and every ancestor the trie compares
    /// (back to the oldest ledger held, or [`ledger_trie::MAX_ANCESTORS`] back).
    ///
    /// [`ledger_trie::MAX_ANCESTORS`]: super::ledger_trie::MAX_ANCESTORS
    fn ancestry_of(
        ledgers: &LedgerHistory,
        cache: &mut HashMap<Hash256, AncestryLedger>,
        hash: &Hash256,
    ) -> Option<AncestryLedger> {
        if let Some(a) = cache.get(hash) {
            return Some(a.clone());
        }
        let l = ledgers.get(hash)?;
        let window = super::ledger_trie::MAX_ANCESTORS as Seq;
        let floor = l
            .seq()
            .saturating_sub(window)
            .max(ledgers.lowest_seq().unwrap_or(0));
        let (_, complete) = ledgers.chain_back(l, floor);
        if !complete {
            return None;
        }
        let a = AncestryLedger::new(ledgers, l);
        cache.insert(*hash, a.clone());
        Some(a)
    }

    fn set_mode(&mut self, mode: Mode) {
        if self.mode != mode {
            self.mode = mode;
            self.emit(Output::ModeChanged(mode));
        }
    }

    fn set_phase(&mut self, phase: Phase) {
        if self.phase != phase {
            self.phase = phase;
            self.emit(Output::PhaseChanged(phase));
        }
    }

    /// Our overlap with every trusted validator that announced its UNL.
    pub fn unl_overlap(&self) -> impl Iterator<Item = &crate::consensus::unl::OverlapCheck> {
        self.overlap.values()
    }

    /// Signs and broadcasts our UNL (validators only).
    fn announce_unl(&mut self) {
        self.accepted_since_announce = 0;
        let (true, Some(key)) = (self.cfg.validating, &self.key) else {
            return;
        };
        let a = crate::consensus::unl::UnlAnnouncement::new(
            self.our_id,
            self.now.ms().max(0) as u64,
            self.validations.unl().iter().copied(),
        )
        .sign(key, self.cfg.network_id);
        self.emit(Output::Broadcast(Message::Unl(Arc::new(a))));
    }

    /// Whether a trusted validator's announced list names `node` (so we check its list too:
    /// the bound must hold for every pair of honest nodes, and our UNL vouches for these).
    fn vouched(&self, node: &NodeId) -> bool {
        self.announced
            .values()
            .any(|(_, list, trusted)| *trusted && list.contains(node))
    }

    /// A validator's UNL: check our overlap with it against the fork-safety bound. Lists of
    /// trusted validators, and of validators a trusted validator's list names, are checked;
    /// others wait (bounded) until a trusted list vouches for them.
    fn peer_unl(&mut self, u: crate::consensus::unl::VerifiedUnl) -> Verdict {
        const MAX_UNVOUCHED: usize = 1024;
        let a = u.announcement().clone();
        if self.cfg.validating && a.node == self.our_id {
            return Verdict::Refused(Refusal::OwnMessage);
        }
        let trusted = self.validations.trusts(&a.node);
        if !trusted && !self.vouched(&a.node) {
            if self.unvouched.len() < MAX_UNVOUCHED || self.unvouched.contains_key(&a.node) {
                self.unvouched.insert(a.node, u);
            }
            return Verdict::Refused(Refusal::Untrusted);
        }
        if let Some((seq, _, _)) = self.announced.get(&a.node)
            && a.seq <= *seq
        {
            return Verdict::Refused(if a.seq == *seq {
                Refusal::Duplicate
            } else {
                Refusal::StaleSeq
            });
        }
        let theirs: BTreeSet<NodeId> = a.unl.iter().copied().collect();
        let check = crate::consensus::unl::check_overlap(
            a.node,
            self.validations.unl(),
            self.validations.quorum(),
            &theirs,
            100 - self.cfg.params.min_consensus_pct,
        );
        let changed = self.overlap.get(&a.node) != Some(&check);
        self.announced.insert(a.node, (a.seq, theirs, trusted));
        self.overlap.insert(a.node, check);
        if changed {
            self.emit(Output::Event(Event::UnlOverlap(check)));
        }
        if trusted {
            // Its list may vouch for announcements we set aside.
            let now_vouched: Vec<NodeId> = self
                .unvouched
                .keys()
                .filter(|n| self.vouched(n))
                .copied()
                .collect();
            for n in now_vouched {
                if let Some(w) = self.unvouched.remove(&n) {
                    let _ = self.peer_unl(w);
                }
            }
        }
        Verdict::Accepted
    }

    fn remember_set(&mut self, set: &Arc<TxSet>) {
        let seq = self.lcl.seq();
        self.known_sets.insert(set.id(), (set.clone(), seq));
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod checkpoint_tests;
