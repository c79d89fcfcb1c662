//! What happened in a node, one [`NodeEvent`] at a time: the stream's `event` frames, the
//! dashboard's feeds and log, the flight recorder's playback. Ledgers travel as
//! [`LedgerSummary`] (a ledger of 10,000 transactions is a few dozen bytes here), peers as
//! strings, and the engine's own [`Event`]s as they are, by serde.

use serde::{Deserialize, Serialize};

use crate::consensus::engine::{AcceptedLedger, Event, Mode, Phase};
use crate::consensus::rules::ConsensusState;
use crate::consensus::{Hash256, Ledger, NodeId, Refusal, Time, Verdict};

/// A ledger by its header: what every event about a ledger needs, without its transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    /// Sequence.
    pub seq: u32,
    /// Hash.
    pub hash: Hash256,
    /// Parent hash.
    pub parent: Hash256,
    /// Transactions in it.
    pub txs: usize,
    /// Close time.
    pub close_time: Time,
    /// Whether the close time was agreed.
    pub close_time_agreed: bool,
}

impl LedgerSummary {
    /// The header of `l`.
    pub fn of(l: &Ledger) -> LedgerSummary {
        LedgerSummary {
            seq: l.seq(),
            hash: l.hash(),
            parent: l.parent(),
            txs: l.txs().len(),
            close_time: l.close_time(),
            close_time_agreed: l.close_time_agreed(),
        }
    }
}

/// A ledger this node built by consensus, and how its round went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedSummary {
    /// The new ledger.
    pub ledger: LedgerSummary,
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

impl AcceptedSummary {
    /// The summary of an engine's accepted ledger.
    pub fn of(a: &AcceptedLedger) -> AcceptedSummary {
        AcceptedSummary {
            ledger: LedgerSummary::of(&a.ledger),
            result: a.result,
            round_ms: a.round_ms,
            proposers: a.proposers,
            mode: a.mode,
            disputes: a.disputes,
            validated: a.validated,
        }
    }
}

/// One thing that happened in the node. In JSON: an object with `"kind"` naming the variant
/// in snake case and the variant's fields beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeEvent {
    /// Listening on an address.
    Listening {
        /// The address (multiaddr text).
        addr: String,
    },
    /// The first consensus round began (enough trusted peers, or the start timeout passed).
    ConsensusStarted {
        /// Trusted peers subscribed at that moment.
        trusted_peers: usize,
    },
    /// A connection to a peer opened.
    PeerConnected {
        /// libp2p id.
        peer: String,
        /// Its validator key (cpeers peers use one key for both).
        node: Option<NodeId>,
        /// Its address.
        addr: String,
        /// On our UNL.
        trusted: bool,
    },
    /// The last connection to a peer closed.
    PeerDisconnected {
        /// libp2p id.
        peer: String,
        /// Its validator key.
        node: Option<NodeId>,
    },
    /// A ping round trip.
    PeerLatency {
        /// libp2p id.
        peer: String,
        /// Round trip (ms).
        rtt_ms: f64,
    },
    /// A proposal arrived (taken or refused).
    Proposal {
        /// The proposing validator.
        from: NodeId,
        /// Position sequence.
        seq: u32,
        /// Ledger it builds on.
        prev_ledger: Hash256,
        /// Proposed tx-set id.
        position: Hash256,
        /// Proposed close time.
        close_time: Time,
        /// What the engine made of it.
        verdict: Verdict,
        /// When it arrived.
        at: Time,
    },
    /// A validation arrived.
    Validation {
        /// The validator.
        from: NodeId,
        /// Sequence.
        seq: u32,
        /// Ledger hash.
        ledger: Hash256,
        /// What the engine made of it.
        verdict: Verdict,
        /// When it arrived.
        at: Time,
    },
    /// A message was refused before it reached the engine (undecodable, bad signature, ...).
    Rejected {
        /// The peer that forwarded it.
        peer: Option<String>,
        /// The key it claimed to come from, if readable.
        from: Option<NodeId>,
        /// Topic or protocol.
        channel: String,
        /// Why.
        reason: Refusal,
    },
    /// The round phase changed.
    Phase {
        /// The new phase.
        phase: Phase,
    },
    /// The node's mode changed.
    Mode {
        /// The new mode.
        mode: Mode,
    },
    /// We built a ledger (stored).
    LedgerAccepted(AcceptedSummary),
    /// A ledger became fully validated (stored before this is sent).
    LedgerValidated {
        /// The ledger.
        ledger: LedgerSummary,
    },
    /// We switched ledger (wrong ledger / catch-up).
    LedgerSwitched {
        /// Ledger left.
        from: Hash256,
        /// Ledger now built on.
        to: LedgerSummary,
    },
    /// Position changes, progress checks, equivocation... from the engine.
    Consensus {
        /// The engine's event.
        event: Event,
    },
    /// Per-transaction engine events (disputes created, votes changed) of one engine step,
    /// in order: one event instead of one per transaction keeps the stream small under load.
    ConsensusBatch {
        /// The engine's events (the first [`super::build::BATCH_LIST`]).
        events: Vec<Event>,
        /// How many more there were (not listed; the dispute drill-down has each one's votes).
        #[serde(default)]
        omitted: u32,
    },
    /// Gossipsub says a peer cannot keep up.
    SlowPeer {
        /// The peer.
        peer: String,
        /// Messages it failed to take since the last report.
        failed: u64,
    },
    /// Transactions submitted here and accepted were dropped before a fully validated ledger
    /// held them.
    TxsDropped {
        /// How many.
        count: u64,
        /// Why.
        reason: String,
    },
    /// Something an operator should see (also logged).
    Warning {
        /// What.
        text: String,
    },
    /// Replay only: playback went back in time; forget everything shown and start over.
    Rewound,
}

impl NodeEvent {
    /// A warning.
    pub fn warning(text: impl Into<String>) -> NodeEvent {
        NodeEvent::Warning { text: text.into() }
    }

    /// The engine events this carries (one, several, or none).
    pub fn consensus_events(&self) -> &[Event] {
        match self {
            NodeEvent::Consensus { event } => std::slice::from_ref(event),
            NodeEvent::ConsensusBatch { events, .. } => events,
            _ => &[],
        }
    }
}
