//! The node's status: what `GET /status` answers, what a `status` frame of the stream carries,
//! and what the panels draw from. Engine view types ([`ConsensusInfo`], [`EngineCounters`])
//! travel as they are, by serde, so a field the engine adds shows up here without a change.
//! Peer ids and addresses are strings: nothing here knows libp2p.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::consensus::engine::{ConsensusInfo, EngineCounters};
use crate::consensus::{Hash256, Ledger, NodeId, Refusal, Time};

/// A counter key: a static name in the node (no allocation per message), a string once read
/// back from JSON.
pub type Key = Cow<'static, str>;

/// Adds `n` to `map[key]`.
pub fn bump(map: &mut BTreeMap<Key, u64>, key: &'static str, n: u64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(Cow::Borrowed(key), n);
        }
    }
}

/// One connected peer, as the peers panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// Messages received, by kind.
    pub messages_in: BTreeMap<Key, u64>,
    /// Messages sent, by kind.
    pub messages_out: BTreeMap<Key, u64>,
    /// Bytes received, by kind.
    pub bytes_in: BTreeMap<Key, u64>,
    /// Bytes sent, by kind.
    pub bytes_out: BTreeMap<Key, u64>,
    /// Refused messages by reason (wire, signature and engine refusals together).
    pub rejected: BTreeMap<Refusal, u64>,
    /// Publishes that failed, by error.
    pub publish_failures: BTreeMap<String, u64>,
    /// Fetches answered.
    pub fetches_ok: u64,
    /// Fetches that failed on every peer tried.
    pub fetches_failed: u64,
    /// Requests we served.
    pub requests_served: u64,
    /// SlowPeer reports.
    pub slow_peer_reports: u64,
}

/// Percentiles of recent samples.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Samples ever taken.
    pub count: u64,
    /// Median of the recent ones (ms).
    pub p50_ms: f64,
    /// 99th percentile (ms).
    pub p99_ms: f64,
    /// Largest recent (ms).
    pub max_ms: f64,
}

/// The node's latency measurements of itself.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Submitted here until fully validated here.
    pub submit_to_validated: Summary,
    /// Peers' first proposals of a round: our receive time minus their close time (their clock
    /// at sending). Meaningful only when clocks are synchronised (one machine, or NTP).
    pub proposal_propagation: Summary,
}

/// One bounded collection against its bound (the engine's and the node's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// Which collection.
    pub what: Key,
    /// Entries in it now.
    pub items: usize,
    /// The most it can hold, when a count bounds it (else `rule` says what does).
    pub cap: Option<usize>,
    /// What bounds it, in words.
    pub rule: Key,
}

impl From<crate::consensus::engine::Held> for Held {
    fn from(h: crate::consensus::engine::Held) -> Held {
        Held {
            what: Cow::Borrowed(h.what),
            items: h.items,
            cap: h.cap,
            rule: Cow::Borrowed(h.rule),
        }
    }
}

/// What happened to transactions submitted to this node (`POST /submit`, the dashboard, the
/// socket): every one was accepted, known or refused, and every accepted one is validated or
/// reported as dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submissions {
    /// Accepted into the pending pool.
    pub accepted: u64,
    /// Already pending or already validated.
    pub known: u64,
    /// Refused, by reason (`pool_full`, `invalid`).
    pub refused: BTreeMap<String, u64>,
    /// Accepted ones seen in a fully validated ledger.
    pub validated: u64,
    /// Accepted ones still waiting for a fully validated ledger.
    pub outstanding: u64,
    /// Accepted ones dropped before they validated, by reason.
    pub dropped: BTreeMap<String, u64>,
}

/// The admin endpoint's own counters: bad input is counted where an operator can see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCounters {
    /// Dashboards and scripts subscribed to the stream now.
    pub subscribers: u64,
    /// Subscriptions ever opened.
    pub subscriptions: u64,
    /// Fresh snapshots sent to subscribers that fell behind.
    pub resyncs: u64,
    /// Subscribers dropped for taking no frame within the stream's send timeout.
    pub dropped_slow: u64,
    /// Requests refused for a missing or wrong token (401).
    pub unauthorized: u64,
    /// Requests and socket frames that could not be read (400).
    pub bad_requests: u64,
    /// Frames sent on the stream.
    pub frames_sent: u64,
    /// Bytes sent on the stream.
    pub bytes_sent: u64,
}

/// The latest picture of the node.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    pub latency: Latency,
    /// The engine's own counters (messages taken, refused by reason, rounds by result).
    pub engine: EngineCounters,
    /// Bounded collections (engine and node) against their bounds.
    pub held: Vec<Held>,
    /// Resident memory of the process (MiB; Linux only).
    pub rss_mib: Option<f64>,
    /// Transactions submitted here: accepted, known, refused, validated, dropped.
    #[serde(default)]
    pub submissions: Submissions,
    /// The admin endpoint's counters.
    #[serde(default)]
    pub api: ApiCounters,
}

/// A fully validated ledger as `status` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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
