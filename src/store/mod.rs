//! The shared state store: folds node events and snapshots into a bounded model of everything
//! the dashboard shows. Feeds are rings, so memory stays flat however long it runs.
//!
//! A node folds its own events into one (so whoever attaches gets the feeds so far, as the
//! contract's [`History`]); a dashboard starts from that history and folds the stream's events
//! and status frames into its own copy between frames, and draws from it.

pub mod attention;
pub mod ring;
pub mod rows;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::consensus::engine::Event;
use crate::consensus::{Hash256, NodeId, Refusal, Time, Verdict};
use crate::contract::history::AcceptedRound;
use crate::contract::{History, NodeEvent, NodeSnapshot};
use ring::Ring;
use rows::{LedgerRow, Level, LogLine, PeerRow, ProposalMark, ProposalRow};

/// Sizes of the store's rings.
#[derive(Debug, Clone, Copy)]
pub struct StoreLimits {
    /// Proposal feed rows.
    pub proposals: usize,
    /// Validated ledgers.
    pub ledgers: usize,
    /// Log lines.
    pub log: usize,
    /// Points in the current round's agreement chart.
    pub chart_points: usize,
    /// Round durations in the sparkline.
    pub durations: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            proposals: 1000,
            ledgers: 500,
            log: 500,
            chart_points: 2000,
            durations: 120,
        }
    }
}

/// Everything the panels show. Cloning it freezes a view (the `space` key).
#[derive(Debug, Clone)]
pub struct Store {
    limits: StoreLimits,
    version: u64,
    snapshot: Option<Arc<NodeSnapshot>>,
    proposals: Ring<ProposalRow>,
    ledgers: Ring<LedgerRow>,
    accepted: Ring<AcceptedRound>,
    log: Ring<LogLine>,
    chart: Ring<(f64, f64)>,
    durations: Ring<u64>,
    rates: BTreeMap<String, f64>,
    last_traffic: Option<(Time, BTreeMap<crate::contract::snapshot::Key, u64>)>,
    paused: attention::PauseNote,
    lagged: u64,
    aliases: BTreeMap<NodeId, String>,
    events: u64,
}

impl Store {
    /// An empty store.
    pub fn new(limits: StoreLimits) -> Store {
        Store {
            limits,
            version: 0,
            snapshot: None,
            proposals: Ring::new(limits.proposals),
            ledgers: Ring::new(limits.ledgers),
            accepted: Ring::new(64),
            log: Ring::new(limits.log),
            chart: Ring::new(limits.chart_points),
            durations: Ring::new(limits.durations),
            rates: BTreeMap::new(),
            last_traffic: None,
            paused: None,
            lagged: 0,
            aliases: BTreeMap::new(),
            events: 0,
        }
    }

    /// Changes whenever anything shown changed (the TUI redraws only then).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Names to show instead of short keys (demo nodes).
    pub fn set_alias(&mut self, node: NodeId, name: String) {
        self.aliases.insert(node, name);
        self.version += 1;
    }

    /// The aliases.
    pub fn aliases(&self) -> &BTreeMap<NodeId, String> {
        &self.aliases
    }

    /// A display name for `node`.
    pub fn name_of(&self, node: &NodeId) -> String {
        self.aliases
            .get(node)
            .cloned()
            .unwrap_or_else(|| node.short())
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Option<&Arc<NodeSnapshot>> {
        self.snapshot.as_ref()
    }

    /// Takes a new snapshot (and derives message rates from the traffic counters).
    pub fn set_snapshot(&mut self, s: Arc<NodeSnapshot>) {
        let now = s.info.now;
        let totals = s.traffic.messages_in.clone();
        if let Some((then, prev)) = &self.last_traffic {
            let dt = now.since(*then) as f64 / 1000.0;
            if dt >= 0.5 {
                for (k, v) in &totals {
                    let before = prev.get(k).copied().unwrap_or(0);
                    let rate = v.saturating_sub(before) as f64 / dt;
                    let old = self.rates.get(k.as_ref()).copied().unwrap_or(rate);
                    self.rates.insert(k.to_string(), old * 0.5 + rate * 0.5);
                }
                self.last_traffic = Some((now, totals));
            }
        } else {
            self.last_traffic = Some((now, totals));
        }
        self.snapshot = Some(s);
        self.version += 1;
    }

    /// The broadcast channel dropped `n` events for us.
    pub fn note_lagged(&mut self, n: u64) {
        self.lagged += n;
        self.version += 1;
    }

    /// Events folded so far.
    pub fn events_seen(&self) -> u64 {
        self.events
    }

    /// Adds a line to the log panel from the dashboard itself (connection trouble, resyncs).
    pub fn note(&mut self, at: Time, level: Level, text: String) {
        self.version += 1;
        self.log_line(at, level, text);
    }

    fn log_line(&mut self, at: Time, level: Level, text: String) {
        self.log.push(LogLine { at, level, text });
    }

    fn network_ledger(&self) -> Option<Hash256> {
        self.snapshot.as_ref().map(|s| s.info.network_ledger)
    }

    /// The feeds so far (what a node sends whoever attaches).
    pub fn history(&self) -> History {
        History {
            proposals: self.proposals.iter().cloned().collect(),
            ledgers: self.ledgers.iter().cloned().collect(),
            accepted: self.accepted.iter().copied().collect(),
            log: self.log.iter().cloned().collect(),
            chart: self.chart.iter().copied().collect(),
            durations: self.durations.iter().copied().collect(),
            paused: self.paused,
            events: self.events,
        }
    }

    /// Starts over from a node's history and status (a dashboard attaching, or catching up
    /// after it fell behind or reconnected); names given with [`Store::set_alias`] stay.
    pub fn restore(&mut self, h: History, status: Arc<NodeSnapshot>) {
        let aliases = std::mem::take(&mut self.aliases);
        let version = self.version;
        let lagged = self.lagged;
        *self = Store::new(self.limits);
        self.aliases = aliases;
        self.lagged = lagged;
        for r in h.proposals {
            self.proposals.push(r);
        }
        for r in h.ledgers {
            self.ledgers.push(r);
        }
        for r in h.accepted {
            self.accepted.push(r);
        }
        for r in h.log {
            self.log.push(r);
        }
        for r in h.chart {
            self.chart.push(r);
        }
        for r in h.durations {
            self.durations.push(r);
        }
        self.paused = h.paused;
        self.events = h.events;
        self.set_snapshot(status);
        self.version = version + 1;
    }

    /// Folds one event in. `now` is when it happened (the node's clock, ms).
    pub fn apply(&mut self, ev: &NodeEvent, now: Time) {
        self.events += 1;
        self.version += 1;
        match ev {
            NodeEvent::Proposal {
                from,
                seq,
                prev_ledger,
                position,
                close_time,
                verdict,
                at,
            } => {
                let refused = match verdict {
                    Verdict::Accepted => None,
                    Verdict::Refused(Refusal::Duplicate) => return,
                    Verdict::Refused(r) => Some(*r),
                };
                let other = self.network_ledger().is_some_and(|n| n != *prev_ledger);
                self.proposals.push(ProposalRow {
                    at: *at,
                    from: Some(*from),
                    seq: Some(*seq),
                    prev_ledger: Some(*prev_ledger),
                    position: Some(*position),
                    close_time: Some(*close_time),
                    mark: ProposalRow::mark_for(*seq, refused, other),
                });
            }
            NodeEvent::Rejected {
                from,
                channel,
                reason,
                ..
            } => {
                if channel == "proposals" {
                    self.proposals.push(ProposalRow {
                        at: now,
                        from: *from,
                        seq: None,
                        prev_ledger: None,
                        position: None,
                        close_time: None,
                        mark: ProposalMark::Rejected(*reason),
                    });
                }
                if reason.is_offense() {
                    let who = from
                        .map(|f| self.name_of(&f))
                        .unwrap_or_else(|| "unknown".into());
                    self.log_line(
                        now,
                        Level::Warn,
                        format!("refused {channel} from {who}: {reason}"),
                    );
                }
            }
            NodeEvent::Consensus { .. } | NodeEvent::ConsensusBatch { .. } => {
                for e in ev.consensus_events() {
                    self.apply_consensus(e, now);
                }
            }
            NodeEvent::LedgerAccepted(a) => {
                self.accepted.push(AcceptedRound {
                    hash: a.ledger.hash,
                    round_ms: a.round_ms,
                    result: a.result,
                    proposers: a.proposers,
                });
                self.durations.push(a.round_ms.max(0) as u64);
                if a.result != crate::consensus::rules::ConsensusState::Yes {
                    self.log_line(
                        now,
                        Level::Warn,
                        format!(
                            "ledger #{} closed with result {}",
                            a.ledger.seq,
                            a.result.name()
                        ),
                    );
                }
            }
            NodeEvent::LedgerValidated { ledger: l } => {
                let acc = self
                    .accepted
                    .iter()
                    .rev()
                    .find(|a| a.hash == l.hash)
                    .copied();
                self.ledgers.push(LedgerRow {
                    seq: l.seq,
                    hash: l.hash,
                    txs: l.txs,
                    round_ms: acc.map(|a| a.round_ms),
                    result: acc.map(|a| a.result),
                    proposers: acc.map(|a| a.proposers),
                    close_time: l.close_time,
                    close_time_agreed: l.close_time_agreed,
                    validated_at: now,
                });
            }
            NodeEvent::LedgerSwitched { from, to } => {
                self.log_line(
                    now,
                    Level::Warn,
                    format!(
                        "switched from ledger {} to the network's #{} {}",
                        from.short(),
                        to.seq,
                        to.hash.short()
                    ),
                );
            }
            NodeEvent::Mode { mode } => {
                let level = if rows::out_of_step(*mode) {
                    Level::Warn
                } else {
                    Level::Info
                };
                self.log_line(now, level, format!("mode: {}", mode.name()));
            }
            NodeEvent::PeerConnected { node, addr, .. } => {
                let who = node
                    .map(|n| self.name_of(&n))
                    .unwrap_or_else(|| "peer".into());
                self.log_line(now, Level::Info, format!("{who} connected from {addr}"));
            }
            NodeEvent::PeerDisconnected { node, .. } => {
                let who = node
                    .map(|n| self.name_of(&n))
                    .unwrap_or_else(|| "peer".into());
                self.log_line(now, Level::Warn, format!("{who} disconnected"));
            }
            NodeEvent::SlowPeer { peer, failed } => {
                self.log_line(
                    now,
                    Level::Warn,
                    format!("peer {peer} cannot keep up ({failed} messages dropped)"),
                );
            }
            NodeEvent::TxsDropped { count, reason } => self.log_line(
                now,
                Level::Error,
                format!("{count} accepted transaction(s) dropped before validating: {reason}"),
            ),
            NodeEvent::Warning { text } => self.log_line(now, Level::Warn, text.clone()),
            NodeEvent::Rewound => {
                let aliases = std::mem::take(&mut self.aliases);
                let version = self.version;
                *self = Store::new(self.limits);
                self.aliases = aliases;
                self.version = version + 1;
            }
            NodeEvent::ConsensusStarted { trusted_peers } => {
                self.log_line(
                    now,
                    Level::Info,
                    format!("consensus started with {trusted_peers} trusted peers"),
                );
            }
            NodeEvent::Phase { .. }
            | NodeEvent::Validation { .. }
            | NodeEvent::PeerLatency { .. }
            | NodeEvent::Listening { .. } => {}
        }
    }

    /// Folds one engine event in.
    fn apply_consensus(&mut self, e: &Event, now: Time) {
        match e {
            Event::PositionStale(node) => {
                let last = self
                    .proposals
                    .newest_first()
                    .find(|p| p.from == Some(*node))
                    .cloned();
                self.proposals.push(ProposalRow {
                    at: now,
                    from: Some(*node),
                    seq: last.as_ref().and_then(|l| l.seq),
                    prev_ledger: last.as_ref().and_then(|l| l.prev_ledger),
                    position: last.as_ref().and_then(|l| l.position),
                    close_time: last.as_ref().and_then(|l| l.close_time),
                    mark: ProposalMark::Stale,
                });
            }
            Event::RoundStarted { .. } => {
                self.chart.clear();
            }
            Event::Progress {
                round_ms,
                agree_pct,
                ..
            } => {
                self.chart
                    .push((*round_ms as f64 / 1000.0, *agree_pct as f64));
            }
            Event::Paused { laggards, offline } => {
                self.paused = Some((now, *laggards, *offline));
            }
            Event::Equivocation(node) => {
                let who = self.name_of(node);
                self.log_line(
                    now,
                    Level::Error,
                    format!(
                        "{who} signed conflicting messages: its votes no longer count this round"
                    ),
                );
            }
            Event::UnlOverlap(c) if !c.safe => {
                let who = self.name_of(&c.validator);
                self.log_line(
                    now,
                    Level::Error,
                    format!(
                        "UNL overlap with {who}: {} of our {} (needs {}): below the fork-safety bound",
                        c.overlap, c.ours, c.min_overlap
                    ),
                );
            }
            Event::ForkDetected { ours, theirs } => {
                self.log_line(
                    now,
                    Level::Error,
                    format!(
                        "FORK: validations fully validated {} which does not descend from our {}",
                        theirs.short(),
                        ours.short()
                    ),
                );
            }
            Event::PeerBowedOut(node) => {
                let who = self.name_of(node);
                self.log_line(now, Level::Info, format!("{who} bowed out of the round"));
                self.proposals.push(ProposalRow {
                    at: now,
                    from: Some(*node),
                    seq: None,
                    prev_ledger: None,
                    position: None,
                    close_time: None,
                    mark: ProposalMark::BowOut,
                });
            }
            _ => {}
        }
    }

    /// Proposal feed, oldest first.
    pub fn proposals(&self) -> &Ring<ProposalRow> {
        &self.proposals
    }

    /// Validated ledgers, oldest first.
    pub fn ledgers(&self) -> &Ring<LedgerRow> {
        &self.ledgers
    }

    /// Log lines, oldest first.
    pub fn log(&self) -> &Ring<LogLine> {
        &self.log
    }

    /// This round's agreement over time: (seconds into establish, agree %).
    pub fn chart(&self) -> &Ring<(f64, f64)> {
        &self.chart
    }

    /// Recent round durations (ms).
    pub fn durations(&self) -> &Ring<u64> {
        &self.durations
    }

    /// Messages received per second, by kind.
    pub fn rates(&self) -> &BTreeMap<String, f64> {
        &self.rates
    }

    /// Rows of the peers panel.
    pub fn peer_rows(&self) -> Vec<PeerRow> {
        self.snapshot
            .as_ref()
            .map(|s| rows::peer_rows(s, &self.aliases))
            .unwrap_or_default()
    }

    /// Why the node is not in step, worst first.
    pub fn attention(&self) -> Vec<(Level, String)> {
        self.snapshot
            .as_ref()
            .map(|s| attention::explain(s, self.paused, self.lagged))
            .unwrap_or_default()
    }

    /// The limits.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }
}
