//! A read-only picture of the whole round: what rippled's `consensus_info` shows, and more
//! (peer counters, dispute support and what it would take to flip them). Built on demand for
//! the dashboard, `status` and reports; building it never changes the engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Engine, Mode, Phase, ServerState, StateChange};
use crate::consensus::avalanche::AvalancheState;
use crate::consensus::close_time::round_close_time;
use crate::consensus::dispute::VoteChange;
use crate::consensus::hash::Hash256;
use crate::consensus::keys::NodeId;
use crate::consensus::ledger::{Ledger, Seq};
use crate::consensus::peers::{PeerStats, ProposalSummary};
use crate::consensus::rules::{ConsensusState, expiry_ms};
use crate::consensus::time::Time;
use crate::consensus::tx::Tx;
use crate::consensus::tx::TxId;

/// A ledger by sequence, hash and close time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerRef {
    /// Sequence.
    pub seq: Seq,
    /// Hash.
    pub hash: Hash256,
    /// Close time.
    pub close_time: Time,
    /// Transactions in it.
    pub txs: usize,
}

impl LedgerRef {
    fn of(l: &Ledger) -> LedgerRef {
        LedgerRef {
            seq: l.seq(),
            hash: l.hash(),
            close_time: l.close_time(),
            txs: l.txs().len(),
        }
    }
}

/// Our position.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PositionInfo {
    /// Tx-set id.
    pub position: Hash256,
    /// Proposal sequence (u32::MAX after bowing out).
    pub seq: u32,
    /// Proposed close time.
    pub close_time: Time,
    /// Transactions in the set.
    pub txs: usize,
    /// Whether we bowed out.
    pub bowed_out: bool,
}

/// One peer as the dashboard lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Its key.
    pub node: NodeId,
    /// Its counters.
    pub stats: PeerStats,
    /// Whether it has a current position this round.
    pub has_position: bool,
    /// Whether that position equals ours.
    pub agrees: bool,
    /// Whether it bowed out this round.
    pub bowed_out: bool,
    /// Whether its latest proposal builds on another ledger than ours.
    pub other_ledger: bool,
    /// Whether its latest proposal is older than the freshness window.
    pub stale: bool,
    /// Whether it equivocated this round.
    pub equivocating: bool,
}

/// One dispute as the dashboard lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisputeInfo {
    /// Transaction id.
    pub tx: TxId,
    /// Payload preview (lossy text, at most 48 characters).
    pub preview: String,
    /// Our vote.
    pub our_vote: bool,
    /// Peers voting yes.
    pub yays: u32,
    /// Peers voting no.
    pub nays: u32,
    /// Support for yes in percent, counting us when proposing.
    pub support_pct: i64,
    /// Percent needed in the dispute's avalanche state.
    pub needed_pct: i64,
    /// Its avalanche state.
    pub avalanche: AvalancheState,
    /// Whether it is stalled.
    pub stalled: bool,
    /// Our flips plus peers' flips.
    pub flips: u32,
    /// Pinned by an operator.
    pub pinned: bool,
    /// Peer votes that must change for our vote to flip now (None: no number can).
    pub votes_to_flip: Option<u32>,
}

/// Everything about the current round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsensusInfo {
    /// Our key (zeros for a keyless observer).
    pub node: NodeId,
    /// Whether we validate.
    pub validator: bool,
    /// Whether we propose this round.
    pub proposing: bool,
    /// Phase.
    pub phase: Phase,
    /// Mode.
    pub mode: Mode,
    /// Operating mode (rippled's `server_state`: disconnected .. full).
    pub server_state: ServerState,
    /// Recent operating-mode changes, oldest first.
    pub state_changes: Vec<StateChange>,
    /// Our clock's correction toward the network's close times (ms).
    pub close_offset_ms: i64,
    /// Whether our last closed ledger is the network's.
    pub synched: bool,
    /// Sequence being built.
    pub ledger_seq: Seq,
    /// Our last closed ledger.
    pub last_closed: LedgerRef,
    /// The ledger we think the network is on.
    pub network_ledger: Hash256,
    /// Last fully validated ledger.
    pub fully_validated: LedgerRef,
    /// Trusted validators (UNL size).
    pub unl_size: usize,
    /// Validations needed for full validation.
    pub quorum: usize,
    /// Time of the view.
    pub now: Time,
    /// Time since the round opened (ms).
    pub open_ms: i64,
    /// Establish time so far (ms; 0 while open).
    pub round_ms: i64,
    /// Minimum establish time (ms).
    pub min_consensus_ms: i64,
    /// When the round expires (ms of establish time).
    pub expires_ms: i64,
    /// Round time in percent of the previous round.
    pub converge_percent: i64,
    /// Close-time resolution (ms).
    pub close_resolution_ms: i64,
    /// Whether close times agree (75 %).
    pub have_close_time_consensus: bool,
    /// Close-time avalanche state.
    pub close_time_avalanche: AvalancheState,
    /// Proposers last round.
    pub previous_proposers: usize,
    /// Establish time last round (ms).
    pub previous_round_ms: i64,
    /// Our position, once closed.
    pub our_position: Option<PositionInfo>,
    /// Current positions agreeing / disagreeing with ours.
    pub agree: usize,
    /// Current positions disagreeing with ours.
    pub disagree: usize,
    /// Agreement in percent, counting us when proposing.
    pub agree_pct: i64,
    /// Needed agreement (80 %).
    pub quorum_pct: i64,
    /// Outcome of the latest consensus check.
    pub consensus_state: Option<ConsensusState>,
    /// Peer positions this round.
    pub peer_positions: BTreeMap<NodeId, PositionInfo>,
    /// Transaction sets held this round.
    pub acquired: Vec<Hash256>,
    /// Disputes.
    pub disputes: Vec<DisputeInfo>,
    /// Peers' initial close times this round, unrounded, with how many proposed each (what
    /// rippled's `consensus_info` shows as `close_times`).
    pub close_times: BTreeMap<Time, u32>,
    /// Current close-time votes, rounded to the resolution (peers, and us when proposing): what
    /// close-time agreement is judged on.
    pub close_time_votes: BTreeMap<Time, u32>,
    /// Peers that bowed out this round.
    pub dead_nodes: Vec<NodeId>,
    /// Every peer we know of.
    pub peers: Vec<PeerInfo>,
    /// Pending transactions.
    pub pending_txs: usize,
    /// Trusted validators behind us / not heard from.
    pub laggards: usize,
    /// Trusted validators not heard from recently.
    pub offline: usize,
    /// Our UNL overlap with every trusted validator that announced its list.
    pub unl_overlap: Vec<crate::consensus::unl::OverlapCheck>,
}

impl Engine {
    /// Builds the read-only view of the round.
    pub fn info(&self) -> ConsensusInfo {
        let p = &self.cfg.params;
        let proposing = self.mode == Mode::Proposing;
        let (agree, disagree) = self.agreement();
        let total = agree + disagree + usize::from(proposing);
        let agree_pct = ((agree + usize::from(proposing)) * 100)
            .checked_div(total)
            .map_or(100, |v| v as i64);
        let our = self.result.as_ref().map(|r| PositionInfo {
            position: r.position.position,
            seq: r.position.seq,
            close_time: r.position.close_time,
            txs: r.txns.len(),
            bowed_out: r.position.is_bow_out(),
        });
        let ours_hash = our.as_ref().map(|o| o.position);
        let peer_positions = self
            .peers
            .current()
            .iter()
            .map(|(id, pos)| {
                let pr = pos.get();
                let txs = self.tx_set(&pr.position).map_or(0, |s| s.len());
                (
                    *id,
                    PositionInfo {
                        position: pr.position,
                        seq: pr.seq,
                        close_time: pr.close_time,
                        txs,
                        bowed_out: false,
                    },
                )
            })
            .collect();
        let res = self.close_resolution_ms;
        let mut close_time_votes: BTreeMap<Time, u32> = BTreeMap::new();
        for pos in self.peers.current().values() {
            *close_time_votes
                .entry(round_close_time(pos.get().close_time, res))
                .or_default() += 1;
        }
        if let (true, Some(r)) = (proposing, &self.result) {
            *close_time_votes
                .entry(round_close_time(r.position.close_time, res))
                .or_default() += 1;
        }
        let disputes = self
            .result
            .as_ref()
            .map(|r| {
                r.disputes
                    .iter()
                    .map(|(id, d)| {
                        let needed = d.needed_pct(p);
                        let yes = d.yays() as i64 + i64::from(proposing && d.our_vote());
                        let all = d.yays() as i64 + d.nays() as i64 + i64::from(proposing);
                        let mut preview = d.tx().text();
                        if preview.chars().count() > 48 {
                            preview = preview.chars().take(47).collect::<String>() + "…";
                        }
                        DisputeInfo {
                            tx: *id,
                            preview,
                            our_vote: d.our_vote(),
                            yays: d.yays(),
                            nays: d.nays(),
                            support_pct: if all == 0 { 0 } else { yes * 100 / all },
                            needed_pct: needed,
                            avalanche: d.avalanche(),
                            stalled: d.stalled(p, proposing, self.peer_unchanged_counter),
                            flips: d.our_flips() + d.peer_flips(),
                            pinned: d.pinned(),
                            votes_to_flip: d.votes_to_flip(needed, proposing),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let fresh_cutoff = self.now.plus(-p.propose_freshness_ms);
        let peers = self
            .peers
            .stats()
            .iter()
            .map(|(id, s)| {
                let pos = self.peers.position(id);
                let other_ledger = s
                    .last_proposal
                    .is_some_and(|lp| lp.prev_ledger != self.prev_ledger_id);
                let stale = s
                    .last_proposal
                    .is_some_and(|lp| lp.received <= fresh_cutoff);
                PeerInfo {
                    node: *id,
                    stats: s.clone(),
                    has_position: pos.is_some(),
                    agrees: pos.is_some_and(|p| Some(p.get().position) == ours_hash),
                    bowed_out: self.peers.is_dead(id),
                    other_ledger,
                    stale,
                    equivocating: self.peers.is_equivocator(id),
                }
            })
            .collect();
        let (laggards, offline) =
            self.validations
                .laggards_view(self.lcl.seq(), self.now, self.net_now());
        ConsensusInfo {
            node: self.our_id,
            validator: self.cfg.validating,
            proposing,
            phase: self.phase,
            mode: self.mode,
            synched: self.lcl.hash() == self.prev_ledger_id,
            ledger_seq: self.lcl.seq() + 1,
            last_closed: LedgerRef::of(&self.lcl),
            network_ledger: self.prev_ledger_id,
            fully_validated: LedgerRef::of(&self.fully_validated),
            unl_size: self.validations.unl().len(),
            quorum: self.validations.quorum(),
            now: self.now,
            open_ms: self.now.since(self.open_start),
            round_ms: self.result.as_ref().map_or(0, |r| r.round_ms),
            min_consensus_ms: p.ledger_min_consensus_ms,
            expires_ms: expiry_ms(self.prev_round_ms, p),
            converge_percent: self.converge_percent,
            close_resolution_ms: self.close_resolution_ms,
            have_close_time_consensus: self.have_close_time_consensus,
            close_time_avalanche: self.close_time_avalanche,
            previous_proposers: self.prev_proposers,
            previous_round_ms: self.prev_round_ms,
            our_position: our,
            agree,
            disagree,
            agree_pct,
            quorum_pct: p.min_consensus_pct,
            consensus_state: self.last_check.map(|(s, _)| s),
            peer_positions,
            acquired: self.acquired.keys().copied().collect(),
            disputes,
            close_times: self.raw_close_times.peers.clone(),
            close_time_votes,
            server_state: self.server_state,
            state_changes: self.state_changes.iter().copied().collect(),
            close_offset_ms: self.close_offset_ms,
            dead_nodes: self.peers.dead().iter().copied().collect(),
            peers,
            pending_txs: self.pending.len(),
            laggards,
            offline,
            unl_overlap: self.overlap.values().copied().collect(),
        }
    }
}

/// Everything about one dispute, for the drill-down.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisputeDetail {
    /// The summary row.
    pub info: DisputeInfo,
    /// The full payload (lossy text).
    pub payload: String,
    /// Every peer's current vote.
    pub votes: BTreeMap<NodeId, bool>,
    /// Votes cast and flips this round, oldest first.
    pub history: Vec<VoteChange>,
    /// Whether we count ourselves (proposing).
    pub proposing: bool,
}

/// One peer's position against ours: what it has that we lack, and the reverse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerDetail {
    /// The peer.
    pub node: NodeId,
    /// Its counters.
    pub stats: PeerStats,
    /// Its current position this round (tx-set id).
    pub position: Option<Hash256>,
    /// Whether we hold its transaction set (the diff below is only known then).
    pub acquired: bool,
    /// Transactions in its position and not in ours.
    pub theirs_only: Vec<Tx>,
    /// Transactions in ours and not in its position.
    pub ours_only: Vec<Tx>,
    /// Its proposals on our ledger this round (how its position changed), oldest first.
    pub history: Vec<ProposalSummary>,
}

/// What the proposal composer starts from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComposerSeed {
    /// Transactions in our current position.
    pub ours: Vec<Tx>,
    /// Other candidates: disputed and pending transactions not in our position.
    pub candidates: Vec<Tx>,
    /// Our proposed close time.
    pub close_time: Time,
    /// Our proposal sequence.
    pub seq: u32,
    /// Whether an injected position would be taken now (proposing, establish phase).
    pub can_inject: bool,
}

/// Most candidates offered to the composer.
const MAX_COMPOSER_CANDIDATES: usize = 500;

impl Engine {
    /// The drill-down of dispute `tx`.
    pub fn dispute_detail(&self, tx: &TxId) -> Option<DisputeDetail> {
        let r = self.result.as_ref()?;
        let d = r.disputes.get(tx)?;
        let info = self.info().disputes.into_iter().find(|i| &i.tx == tx)?;
        Some(DisputeDetail {
            info,
            payload: d.tx().text(),
            votes: d.votes(),
            history: d.history().iter().copied().collect(),
            proposing: self.mode == Mode::Proposing,
        })
    }

    /// `node`'s position against ours, and how it changed this round.
    pub fn peer_detail(&self, node: &NodeId) -> Option<PeerDetail> {
        let stats = self.peers.stats().get(node)?.clone();
        let position = self.peers.position(node).map(|p| p.get().position);
        let theirs = position.and_then(|p| self.tx_set(&p));
        let (theirs_only, ours_only) = match (&theirs, &self.result) {
            (Some(t), Some(r)) => {
                let mut a = Vec::new();
                let mut b = Vec::new();
                for (tx, in_theirs) in t.diff(&r.txns) {
                    if in_theirs {
                        a.push(tx.clone());
                    } else {
                        b.push(tx.clone());
                    }
                }
                (a, b)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let history = self
            .peers
            .recent_of(node)
            .filter(|p| p.get().prev_ledger == self.prev_ledger_id)
            .map(|p| ProposalSummary::of(p.get(), p.received))
            .collect();
        Some(PeerDetail {
            node: *node,
            stats,
            position,
            acquired: theirs.is_some(),
            theirs_only,
            ours_only,
            history,
        })
    }

    /// What the proposal composer starts from: our position and other candidates.
    pub fn composer_seed(&self) -> ComposerSeed {
        let (ours, close_time, seq) = match &self.result {
            Some(r) => (
                r.txns.iter().cloned().collect::<Vec<Tx>>(),
                r.position.close_time,
                r.position.seq,
            ),
            None => (Vec::new(), self.now, 0),
        };
        let in_ours: std::collections::BTreeSet<TxId> = ours.iter().map(|t| t.id()).collect();
        let mut candidates: Vec<Tx> = Vec::new();
        let mut seen = in_ours.clone();
        if let Some(r) = &self.result {
            for d in r.disputes.values() {
                if seen.insert(d.tx().id()) {
                    candidates.push(d.tx().clone());
                }
            }
        }
        for t in self.pending.iter() {
            if candidates.len() >= MAX_COMPOSER_CANDIDATES {
                break;
            }
            if seen.insert(t.id()) {
                candidates.push(t.clone());
            }
        }
        ComposerSeed {
            ours,
            candidates,
            close_time,
            seq,
            can_inject: self.phase == Phase::Establish && self.mode == Mode::Proposing,
        }
    }
}
