//! What a running node tells the world: a stream of [`NodeEvent`]s (for feeds and logs) and a
//! periodically refreshed [`NodeSnapshot`] (for panels and `status`). The node never waits on
//! a listener: events go to a broadcast channel that drops for slow receivers, the snapshot to a
//! watch channel that only keeps the latest.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use libp2p::{Multiaddr, PeerId};
use serde::Serialize;

use crate::consensus::engine::{AcceptedLedger, ConsensusInfo, Event, Mode, Phase};
use crate::consensus::{Hash256, Ledger, NodeId, Refusal, Time, Verdict};

/// One thing that happened in the node.
#[derive(Debug, Clone)]
pub enum NodeEvent {
    /// Listening on an address.
    Listening(Multiaddr),
    /// The first consensus round began (enough trusted peers, or the start timeout passed).
    ConsensusStarted {
        /// Trusted peers subscribed at that moment.
        trusted_peers: usize,
    },
    /// A connection to a peer opened.
    PeerConnected {
        /// libp2p id.
        peer: PeerId,
        /// Its validator key (cpeers peers use one key for both).
        node: Option<NodeId>,
        /// Its address.
        addr: Multiaddr,
        /// On our UNL.
        trusted: bool,
    },
    /// The last connection to a peer closed.
    PeerDisconnected {
        /// libp2p id.
        peer: PeerId,
        /// Its validator key.
        node: Option<NodeId>,
    },
    /// A ping round trip.
    PeerLatency {
        /// libp2p id.
        peer: PeerId,
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
        peer: Option<PeerId>,
        /// The key it claimed to come from, if readable.
        from: Option<NodeId>,
        /// Topic or protocol.
        channel: &'static str,
        /// Why.
        reason: Refusal,
    },
    /// The round phase changed.
    Phase(Phase),
    /// The node's mode changed.
    Mode(Mode),
    /// We built a ledger (stored).
    LedgerAccepted(AcceptedLedger),
    /// A ledger became fully validated (stored before this is sent).
    LedgerValidated(Arc<Ledger>),
    /// We switched ledger (wrong ledger / catch-up).
    LedgerSwitched {
        /// Ledger left.
        from: Hash256,
        /// Ledger now built on.
        to: Arc<Ledger>,
    },
    /// Position changes, disputes, votes, progress checks, equivocation... from the engine.
    Consensus(Event),
    /// Gossipsub says a peer cannot keep up.
    SlowPeer {
        /// The peer.
        peer: PeerId,
        /// Messages it failed to take since the last report.
        failed: u64,
    },
    /// Something an operator should see (also logged).
    Warning(String),
    /// Replay only: playback went back in time; forget everything shown and start over.
    Rewound,
}

/// One connected peer, as the peers panel shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PeerLink {
    /// libp2p id.
    pub peer_id: String,
    /// Validator key.
    pub node: Option<NodeId>,
    /// Remote address.
    pub addr: String,
    /// Latest ping round trip (ms).
    pub rtt_ms: Option<f64>,
    /// On our UNL.
    pub trusted: bool,
    /// Subscribed to the proposals topic.
    pub subscribed: bool,
    /// Gossipsub score.
    pub score: Option<f64>,
    /// Agent version (from identify).
    pub agent: Option<String>,
}

/// Counters of everything on the wire.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Traffic {
    /// Messages received, by kind.
    pub messages_in: BTreeMap<&'static str, u64>,
    /// Messages sent, by kind.
    pub messages_out: BTreeMap<&'static str, u64>,
    /// Bytes received, by kind.
    pub bytes_in: BTreeMap<&'static str, u64>,
    /// Bytes sent, by kind.
    pub bytes_out: BTreeMap<&'static str, u64>,
    /// Refused messages by reason (wire, signature and engine refusals together).
    pub rejected: BTreeMap<Refusal, u64>,
    /// Publishes that failed, by error.
    pub publish_failures: BTreeMap<String, u64>,
    /// Fetches answered / failed.
    pub fetches_ok: u64,
    /// Fetches that failed on every peer tried.
    pub fetches_failed: u64,
    /// Requests we served.
    pub requests_served: u64,
    /// SlowPeer reports.
    pub slow_peer_reports: u64,
}

/// The latest picture of the node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSnapshot {
    /// Network id.
    pub network_id: u32,
    /// libp2p id.
    pub peer_id: String,
    /// Listen addresses.
    pub listen: Vec<String>,
    /// Whether consensus has started.
    pub started: bool,
    /// The engine's view.
    pub info: ConsensusInfo,
    /// Connected peers.
    pub peers: Vec<PeerLink>,
    /// Wire counters.
    pub traffic: Traffic,
    /// Storage errors so far (the node stops validating after one).
    pub store_errors: u64,
    /// Most recent fully validated ledgers (newest last).
    pub recent_validated: Vec<ValidatedLedger>,
    /// Submit-to-validated and proposal propagation latencies.
    pub latency: super::latency::Latency,
    /// The engine's own counters (messages taken, refused by reason, rounds by result).
    pub engine: crate::consensus::engine::EngineCounters,
    /// Bounded collections (engine and node) against their bounds.
    pub held: Vec<crate::consensus::engine::Held>,
    /// Resident memory of the process (MiB; Linux only).
    pub rss_mib: Option<f64>,
}

/// A fully validated ledger as `status` lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ValidatedLedger {
    /// Sequence.
    pub seq: u32,
    /// Hash.
    pub hash: Hash256,
    /// Transactions.
    pub txs: usize,
    /// Close time.
    pub close_time: Time,
    /// When we learned it was validated (our clock).
    pub validated_at: Time,
}

/// How many recently validated ledgers a snapshot lists.
pub const RECENT_VALIDATED: usize = 64;

impl ValidatedLedger {
    /// Appends `l`, validated at `at`, to the `recent` ring (the last [`RECENT_VALIDATED`]).
    pub fn remember(recent: &mut VecDeque<ValidatedLedger>, l: &Ledger, at: Time) {
        recent.push_back(ValidatedLedger {
            seq: l.seq(),
            hash: l.hash(),
            txs: l.txs().len(),
            close_time: l.close_time(),
            validated_at: at,
        });
        while recent.len() > RECENT_VALIDATED {
            recent.pop_front();
        }
    }
}
