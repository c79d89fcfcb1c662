//! The rows the panels show, derived from events and snapshots: proposals in the feed, fully
//! validated ledgers, log lines, and peers (one row per validator, merged from the engine's
//! per-peer state and the node's connections).

use std::collections::BTreeMap;

use crate::consensus::engine::{ConsensusInfo, Mode};
use crate::consensus::{Hash256, NodeId};
use crate::contract::{NodeSnapshot, PeerLink};

pub use crate::contract::history::{LedgerRow, Level, LogLine, ProposalMark, ProposalRow};

/// What a peer is doing this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeerState {
    /// Us.
    Us,
    /// Has a current position.
    Proposing,
    /// Bowed out of the round.
    BowedOut,
    /// Its position went stale.
    Stale,
    /// Its latest proposal builds on another ledger.
    OtherLedger,
    /// Signed conflicting messages this round.
    Equivocating,
    /// Connected (or known) but no position this round.
    Quiet,
}

impl PeerState {
    /// Short label for the table.
    pub fn label(self) -> &'static str {
        match self {
            PeerState::Us => "us",
            PeerState::Proposing => "proposing",
            PeerState::BowedOut => "bowed out",
            PeerState::Stale => "stale",
            PeerState::OtherLedger => "other ledger",
            PeerState::Equivocating => "EQUIVOCATING",
            PeerState::Quiet => "quiet",
        }
    }
}

/// One row of the peers panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRow {
    /// Validator key.
    pub node: Option<NodeId>,
    /// Alias (demo node name) or short key.
    pub name: String,
    /// This is us.
    pub us: bool,
    /// On our UNL.
    pub trusted: bool,
    /// Connected now.
    pub connected: bool,
    /// Remote address.
    pub addr: Option<String>,
    /// Ping round trip.
    pub rtt_ms: Option<f64>,
    /// Latest proposal seq.
    pub last_seq: Option<u32>,
    /// Age of the latest proposal (ms).
    pub last_age_ms: Option<i64>,
    /// Current position.
    pub position: Option<Hash256>,
    /// Whether its position equals ours.
    pub agrees: Option<bool>,
    /// What it is doing.
    pub state: PeerState,
    /// Latest validated sequence.
    pub last_validated: Option<u32>,
    /// Messages refused from it.
    pub rejected: u64,
    /// Gossip score.
    pub score: Option<f64>,
}

/// `/ip4/1.2.3.4/tcp/51235` as `1.2.3.4:51235` (other addresses as they are).
pub fn short_addr(addr: &str) -> String {
    let parts: Vec<&str> = addr.split('/').collect();
    match parts.as_slice() {
        [
            "",
            "ip4" | "ip6" | "dns" | "dns4" | "dns6",
            host,
            "tcp" | "udp",
            port,
            ..,
        ] => format!("{host}:{port}"),
        _ => addr.to_string(),
    }
}

/// Builds the peer rows (us first, then everyone the engine or the network knows).
pub fn peer_rows(s: &NodeSnapshot, aliases: &BTreeMap<NodeId, String>) -> Vec<PeerRow> {
    let info: &ConsensusInfo = &s.info;
    let name = |n: &NodeId| aliases.get(n).cloned().unwrap_or_else(|| n.short());
    let mut rows = Vec::new();
    let our_pos = info.our_position.as_ref().map(|p| p.position);
    rows.push(PeerRow {
        node: Some(info.node),
        name: name(&info.node),
        us: true,
        trusted: info.validator,
        connected: true,
        addr: s.listen.first().map(|a| short_addr(a)),
        rtt_ms: None,
        last_seq: info.our_position.as_ref().map(|p| p.seq),
        last_age_ms: None,
        position: our_pos,
        agrees: our_pos.map(|_| true),
        state: PeerState::Us,
        last_validated: Some(info.fully_validated.seq),
        rejected: 0,
        score: None,
    });
    let mut links: BTreeMap<NodeId, &PeerLink> = BTreeMap::new();
    let mut unkeyed = Vec::new();
    for l in &s.peers {
        match l.node {
            Some(n) => {
                links.insert(n, l);
            }
            None => unkeyed.push(l),
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for p in &info.peers {
        seen.insert(p.node);
        let link = links.get(&p.node);
        let pos = info.peer_positions.get(&p.node).map(|x| x.position);
        let state = if p.equivocating {
            PeerState::Equivocating
        } else if p.bowed_out {
            PeerState::BowedOut
        } else if p.has_position {
            PeerState::Proposing
        } else if p.other_ledger {
            PeerState::OtherLedger
        } else if p.stale {
            PeerState::Stale
        } else {
            PeerState::Quiet
        };
        rows.push(PeerRow {
            node: Some(p.node),
            name: name(&p.node),
            us: false,
            trusted: p.stats.trusted,
            connected: link.is_some(),
            addr: link.map(|l| short_addr(&l.addr)),
            rtt_ms: link.and_then(|l| l.rtt_ms),
            last_seq: p.stats.last_proposal.map(|lp| lp.seq),
            last_age_ms: p.stats.last_proposal.map(|lp| info.now.since(lp.received)),
            position: pos,
            agrees: pos.map(|_| p.agrees),
            state,
            last_validated: p.stats.last_validated_seq,
            rejected: p.stats.refused.values().sum(),
            score: link.and_then(|l| l.score),
        });
    }
    for (n, l) in links {
        if seen.contains(&n) || n == info.node {
            continue;
        }
        rows.push(PeerRow {
            node: Some(n),
            name: name(&n),
            us: false,
            trusted: l.trusted,
            connected: true,
            addr: Some(short_addr(&l.addr)),
            rtt_ms: l.rtt_ms,
            last_seq: None,
            last_age_ms: None,
            position: None,
            agrees: None,
            state: PeerState::Quiet,
            last_validated: None,
            rejected: 0,
            score: l.score,
        });
    }
    for l in unkeyed {
        rows.push(PeerRow {
            node: None,
            name: l
                .peer_id
                .chars()
                .rev()
                .take(8)
                .collect::<String>()
                .chars()
                .rev()
                .collect(),
            us: false,
            trusted: false,
            connected: true,
            addr: Some(short_addr(&l.addr)),
            rtt_ms: l.rtt_ms,
            last_seq: None,
            last_age_ms: None,
            position: None,
            agrees: None,
            state: PeerState::Quiet,
            last_validated: None,
            rejected: 0,
            score: l.score,
        });
    }
    rows
}

/// Whether the mode means "not in step with the network".
pub fn out_of_step(mode: Mode) -> bool {
    matches!(mode, Mode::WrongLedger | Mode::SwitchedLedger)
}
