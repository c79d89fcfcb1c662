//! What goes into the engine and what comes out: the whole contract with a driver (the
//! simulator, the libp2p node, replay).

use std::sync::Arc;

use serde::Serialize;

use crate::consensus::dispute::Voter;
use crate::consensus::hash::Hash256;
use crate::consensus::keys::NodeId;
use crate::consensus::ledger::{Ledger, Seq};
use crate::consensus::proposal::{SignedProposal, VerifiedProposal};
use crate::consensus::refusal::Refusal;
use crate::consensus::rules::ConsensusState;
use crate::consensus::time::Time;
use crate::consensus::tx::{Tx, TxId};
use crate::consensus::txset::TxSet;
use crate::consensus::validation::{SignedValidation, VerifiedValidation};

/// Round phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Collecting transactions; the ledger is open.
    #[default]
    Open,
    /// Closed: exchanging positions and resolving disputes.
    Establish,
    /// Consensus declared; the ledger is being built.
    Accepted,
}

impl Phase {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Open => "open",
            Phase::Establish => "establish",
            Phase::Accepted => "accepted",
        }
    }
}

/// How this node takes part in the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Proposing and validating.
    Proposing,
    /// Following without proposing (observer, or a validator that bowed out).
    #[default]
    Observing,
    /// Our last closed ledger is not the network's and we do not have the right one yet.
    WrongLedger,
    /// We just switched to the network's ledger; this round we observe.
    SwitchedLedger,
}

impl Mode {
    /// Snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Proposing => "proposing",
            Mode::Observing => "observing",
            Mode::WrongLedger => "wrong_ledger",
            Mode::SwitchedLedger => "switched_ledger",
        }
    }
}

/// A message a peer sent us, or we broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Message {
    /// A signed position.
    Proposal(Arc<SignedProposal>),
    /// A signed validation.
    Validation(Arc<SignedValidation>),
    /// A batch of transactions.
    Txs(Arc<Vec<Tx>>),
    /// A validator's signed UNL.
    Unl(Arc<crate::consensus::unl::SignedUnl>),
}

impl Message {
    /// Kind name for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Proposal(_) => "proposal",
            Message::Validation(_) => "validation",
            Message::Txs(_) => "transactions",
            Message::Unl(_) => "unl",
        }
    }
}

/// Commands from an operator (dashboard keys, CLI, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Submit transactions to this node: they stay pending until fully validated.
    Submit(Vec<Tx>),
    /// Replace our position with exactly `txs` (and optionally a close time), signed as our
    /// next proposal. Only while proposing in the establish phase.
    InjectPosition {
        /// The complete transaction set to propose.
        txs: Vec<Tx>,
        /// Close time to propose; `None` keeps ours.
        close_time: Option<Time>,
    },
    /// Pin our vote on a dispute (`Some`) or release it (`None`).
    OverrideVote {
        /// The disputed transaction.
        tx: TxId,
        /// The vote to pin, or `None` to let the avalanche decide again.
        vote: Option<bool>,
    },
}

/// An input to the engine.
#[derive(Debug, Clone)]
pub enum Input {
    /// Begin the first round (a node waits until it has peers; the simulator starts at once).
    Start,
    /// Timer: drives phase changes. Call at least every ledger granularity.
    Tick,
    /// A peer's verified proposal.
    Proposal(VerifiedProposal),
    /// A peer's verified validation.
    Validation(VerifiedValidation),
    /// A validator's verified UNL announcement.
    Unl(crate::consensus::unl::VerifiedUnl),
    /// Transactions relayed by peers.
    Txs(Vec<Tx>),
    /// A transaction set we asked for (or a peer pushed).
    TxSet(Arc<TxSet>),
    /// A ledger we asked for (or one of its ancestors).
    Ledger(Arc<Ledger>),
    /// A message refused before reaching the engine (bad signature, undecodable...), so the
    /// claimed sender's counters show it.
    Refused {
        /// The key the message claimed to come from, if it could be read.
        from: Option<NodeId>,
        /// Why it was refused.
        why: Refusal,
    },
    /// An operator command.
    Command(Command),
    /// How many peers the node is connected to now (rippled's heartbeat counts them): with
    /// none, the node is DISCONNECTED and consensus waits. A driver that never says is taken to
    /// be connected.
    PeersConnected(usize),
}

/// A ledger this node built by consensus.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AcceptedLedger {
    /// The new ledger.
    pub ledger: Arc<Ledger>,
    /// How the round ended.
    pub result: ConsensusState,
    /// Establish-phase duration (ms).
    pub round_ms: i64,
    /// Peers with positions when consensus was declared.
    pub proposers: usize,
    /// Our mode when accepting.
    pub mode: Mode,
    /// Disputes resolved in the round.
    pub disputes: usize,
    /// Whether we signed a validation for it.
    pub validated: bool,
}

/// Something a dashboard or log wants to know that is not an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Event {
    /// A new round began on `prev_ledger` (sequence `seq` is being built).
    RoundStarted {
        /// The ledger built upon.
        prev_ledger: Hash256,
        /// Sequence of the ledger being built.
        seq: Seq,
    },
    /// We took a new position.
    PositionChanged {
        /// Proposal sequence.
        seq: u32,
        /// Tx-set id.
        position: Hash256,
        /// Close time proposed.
        close_time: Time,
        /// Transactions in it.
        txs: usize,
    },
    /// A transaction became disputed.
    DisputeCreated {
        /// The transaction.
        tx: TxId,
        /// Our vote at creation.
        our_vote: bool,
    },
    /// A vote on a dispute was cast or changed.
    VoteChanged {
        /// The transaction.
        tx: TxId,
        /// Whose vote.
        voter: Voter,
        /// The vote.
        yes: bool,
    },
    /// A peer bowed out of the round.
    PeerBowedOut(NodeId),
    /// A peer's position went stale and was dropped.
    PositionStale(NodeId),
    /// A peer signed conflicting messages; its votes no longer count this round.
    Equivocation(NodeId),
    /// One consensus check in the establish phase (feeds the agreement chart).
    Progress {
        /// Establish time so far (ms).
        round_ms: i64,
        /// Converge percent (round time / previous round time).
        converge_pct: i64,
        /// Percent of positions (with us, when proposing) agreeing with ours.
        agree_pct: i64,
        /// Outcome of the check.
        state: ConsensusState,
        /// Every dispute is stalled.
        stalled: bool,
    },
    /// Consensus is paused waiting for lagging validators.
    Paused {
        /// Validators behind us.
        laggards: usize,
        /// Validators not heard from.
        offline: usize,
    },
    /// Our overlap with a trusted validator's announced UNL was (re)computed; `safe` false
    /// means the pair is below the fork-safety bound.
    UnlOverlap(crate::consensus::unl::OverlapCheck),
    /// The operating mode changed (rippled `setMode`), with the reason.
    ServerStateChanged(super::operating_mode::StateChange),
    /// Validations fully validated a ledger that does not descend from the previous fully
    /// validated one: the network forked (or we were on a fork).
    ForkDetected {
        /// Our previous fully validated ledger.
        ours: Hash256,
        /// The newly fully validated ledger.
        theirs: Hash256,
    },
}

/// An effect for the driver to carry out, or news for observers. Serializable so that outputs
/// still queued are part of an engine checkpoint.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub enum Output {
    /// Send to every peer (gossip).
    Broadcast(Message),
    /// Fetch a transaction set by id (peers known to hold it listed first).
    AcquireTxSet {
        /// Set id.
        id: Hash256,
        /// Peers whose position it is.
        from: Vec<NodeId>,
    },
    /// Fetch a ledger and its ancestors down to (excluding) `back_to`.
    AcquireLedger {
        /// Ledger hash.
        hash: Hash256,
        /// Lowest sequence still wanted, exclusive.
        back_to: Seq,
    },
    /// We are about to sign a validation for this sequence: persist it durably *before*
    /// carrying out the broadcast that follows, so a restart never signs that sequence twice.
    PersistValidatedSeq(Seq),
    /// We built a ledger: persist it.
    LedgerAccepted(AcceptedLedger),
    /// Our last closed ledger jumped to another (wrong-ledger recovery or catch-up).
    LedgerSwitched {
        /// The ledger we left.
        from: Hash256,
        /// The ledger we now build on.
        to: Arc<Ledger>,
    },
    /// A ledger became fully validated (emitted for every sequence, in order).
    LedgerFullyValidated(Arc<Ledger>),
    /// Phase changed.
    PhaseChanged(Phase),
    /// Mode changed.
    ModeChanged(Mode),
    /// Informational event.
    Event(Event),
}
