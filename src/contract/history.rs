//! What a dashboard has seen so far: the proposal feed, validated ledgers, the log, the round's
//! agreement chart and recent round durations. A node keeps this (bounded) for everyone who
//! attaches, so a dashboard that attaches, or reattaches after losing its connection, draws
//! the same panels as one that watched from the start.

use serde::{Deserialize, Serialize};

use crate::consensus::proposal::SEQ_LEAVE;
use crate::consensus::rules::ConsensusState;
use crate::consensus::{Hash256, NodeId, Refusal, Time};

/// What kind of proposal a feed row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalMark {
    /// A first position (seq 0).
    New,
    /// A changed position.
    Changed,
    /// Bowed out of the round.
    BowOut,
    /// Dropped after 20 s without an update.
    Stale,
    /// Built on another ledger than ours (kept for replay).
    OtherLedger,
    /// Refused, and why.
    Rejected(Refusal),
}

/// One row of the proposals feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRow {
    /// When it arrived.
    pub at: Time,
    /// The proposer (or the key a refused message claimed).
    pub from: Option<NodeId>,
    /// Position sequence.
    pub seq: Option<u32>,
    /// Ledger it builds on.
    pub prev_ledger: Option<Hash256>,
    /// Tx-set id.
    pub position: Option<Hash256>,
    /// Proposed close time.
    pub close_time: Option<Time>,
    /// Kind.
    pub mark: ProposalMark,
}

impl ProposalRow {
    /// The mark for a proposal with `seq` that got `refused`.
    pub fn mark_for(seq: u32, refused: Option<Refusal>, other_ledger: bool) -> ProposalMark {
        match refused {
            Some(r) => ProposalMark::Rejected(r),
            None if seq == SEQ_LEAVE => ProposalMark::BowOut,
            None if other_ledger => ProposalMark::OtherLedger,
            None if seq == 0 => ProposalMark::New,
            None => ProposalMark::Changed,
        }
    }
}

/// One fully validated ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// Sequence.
    pub seq: u32,
    /// Hash.
    pub hash: Hash256,
    /// Transactions.
    pub txs: usize,
    /// Establish time, when we built it.
    pub round_ms: Option<i64>,
    /// How its round ended, when we built it (`None`: acquired from the network).
    pub result: Option<ConsensusState>,
    /// Proposers in its round.
    pub proposers: Option<usize>,
    /// Close time.
    pub close_time: Time,
    /// Whether the close time was agreed.
    pub close_time_agreed: bool,
    /// When we learned it was fully validated.
    pub validated_at: Time,
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Worth knowing.
    Info,
    /// Something is off.
    Warn,
    /// Something is wrong.
    Error,
}

/// One line of the log panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When.
    pub at: Time,
    /// How bad.
    pub level: Level,
    /// What.
    pub text: String,
}

/// A ledger we built, remembered until it validates (its row then shows how its round went).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedRound {
    /// The ledger.
    pub hash: Hash256,
    /// Establish time (ms).
    pub round_ms: i64,
    /// How the round ended.
    pub result: ConsensusState,
    /// Proposers.
    pub proposers: usize,
}

/// A recent pause for lagging validators: when, how many behind us, how many not heard from.
pub type PauseNote = Option<(Time, usize, usize)>;

/// Everything a dashboard's feeds hold, oldest first in each list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The proposal feed.
    pub proposals: Vec<ProposalRow>,
    /// Fully validated ledgers.
    pub ledgers: Vec<LedgerRow>,
    /// Ledgers we built, not yet matched to a validated row.
    pub accepted: Vec<AcceptedRound>,
    /// Log lines.
    pub log: Vec<LogLine>,
    /// This round's agreement over time: (seconds into establish, agree %).
    pub chart: Vec<(f64, f64)>,
    /// Recent round durations (ms).
    pub durations: Vec<u64>,
    /// The last pause for laggards.
    pub paused: PauseNote,
    /// Events folded to build this.
    pub events: u64,
}
