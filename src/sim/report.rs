//! The outcome of a run: every node's ledgers, what is still pending, and the network-wide
//! verdicts (forks, branches, synchronized). Serialised as the `--json` object; the same data
//! prints as a readable summary.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

use super::scenario::{NodeSpec, Scenario};
use crate::consensus::ledger::Seq;
use crate::consensus::{ConsensusParams, Hash256, Ledger};

/// A ledger as a node came to have it.
#[derive(Debug, Clone)]
pub struct LedgerRecord {
    /// The ledger.
    pub ledger: Arc<Ledger>,
    /// `yes`, `moved_on`, `expired`, or `acquired` (adopted from the network).
    pub result: String,
    /// Establish time (0 when acquired).
    pub round_ms: i64,
    /// Proposers when it was accepted.
    pub proposers: usize,
}

/// Everything one node did that the report needs.
#[derive(Debug, Clone, Default)]
pub struct NodeRecord {
    ledgers: Vec<LedgerRecord>,
    seen: HashSet<Hash256>,
    /// Every fully validated ledger the node reported, in order.
    pub fully_validated: Vec<(Seq, Hash256)>,
    /// Every operating-mode change, at simulated time.
    pub state_changes: Vec<StateChangeReport>,
    /// Simulated time the node last learned of a newly fully validated ledger.
    pub last_validated_at_ms: Option<u64>,
}

/// One operating-mode change in the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StateChangeReport {
    /// Simulated time.
    pub at_ms: u64,
    /// The new state (`disconnected` .. `full`).
    pub state: String,
    /// Why, in words.
    pub reason: String,
}

impl NodeRecord {
    /// Records a ledger the node built.
    pub fn push(&mut self, r: LedgerRecord) {
        if self.seen.insert(r.ledger.hash()) {
            self.ledgers.push(r);
        }
    }

    /// Records a ledger the node adopted from the network, unless it built it.
    pub fn adopt(&mut self, l: &Arc<Ledger>) {
        if self.seen.insert(l.hash()) {
            self.ledgers.push(LedgerRecord {
                ledger: l.clone(),
                result: "acquired".into(),
                round_ms: 0,
                proposers: 0,
            });
        }
    }
}

/// One ledger in the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerReport {
    /// Sequence.
    pub seq: Seq,
    /// Hash (hex).
    pub hash: String,
    /// Parent hash (hex).
    pub parent: String,
    /// Payloads, in tx-id order.
    pub txs: Vec<String>,
    /// Close time (ms on the network clock).
    pub close_time: i64,
    /// Whether the close time was agreed.
    pub close_time_agreed: bool,
    /// Establish time.
    pub round_ms: i64,
    /// `yes`, `moved_on`, `expired` or `acquired`.
    pub result: String,
    /// Proposers when accepted.
    pub proposers: usize,
    /// Whether this node fully validated it.
    pub fully_validated: bool,
}

/// A ledger by sequence and hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerTip {
    /// Sequence.
    pub seq: Seq,
    /// Hash (hex).
    pub hash: String,
}

/// One node in the report.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeReport {
    /// Name (`a0`).
    pub id: String,
    /// Group.
    pub group: String,
    /// Validator or observer.
    pub validator: bool,
    /// Final mode, or `crashed`.
    pub mode: String,
    /// Operating mode at the end as rippled's `server_state` shows it to an admin
    /// (`disconnected`, `connected`, `syncing`, `tracking`, `full`, or `proposing` for a FULL
    /// validator proposing), or `crashed`.
    pub server_state: String,
    /// Every operating-mode change, oldest first.
    pub state_changes: Vec<StateChangeReport>,
    /// Its last closed ledger at the end.
    pub last_closed: LedgerTip,
    /// Simulated time it last learned of a newly fully validated ledger.
    pub last_validated_at_ms: Option<u64>,
    /// Ledgers in the order the node got them.
    pub ledgers: Vec<LedgerReport>,
    /// Payloads still pending.
    pub pending_txs: Vec<String>,
}

impl NodeReport {
    /// The last ledger at `seq` this node fully validated.
    pub fn validated_at(&self, seq: Seq) -> Option<&LedgerReport> {
        self.ledgers
            .iter()
            .rev()
            .find(|l| l.seq == seq && l.fully_validated)
    }

    /// Its highest fully validated ledger.
    pub fn last_validated(&self) -> Option<&LedgerReport> {
        self.ledgers
            .iter()
            .filter(|l| l.fully_validated)
            .max_by_key(|l| l.seq)
    }
}

/// The result of a simulation run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// Simulated time at the end.
    pub sim_time_ms: u64,
    /// Every node.
    pub nodes: Vec<NodeReport>,
    /// Sequences at which two nodes fully validated different ledgers.
    pub forks: usize,
    /// Distinct chains among the nodes' last fully validated ledgers.
    pub branches: usize,
    /// The live honest nodes are on one chain (their last closed ledgers are one ledger or its
    /// parent: within one round) and still validating (see `stalled_since_ms`).
    pub synchronized: bool,
    /// When nothing has been fully validated by any live honest node for longer than
    /// [`stall_after_ms`] before the end: the simulated time of the last new full validation
    /// (0 when there never was one). `None` while the network validates.
    pub stalled_since_ms: Option<u64>,
    /// Messages delivered, by kind.
    pub messages: BTreeMap<String, u64>,
}

/// Per-node input to [`Report::build`].
#[derive(Debug, Clone)]
pub struct NodeOutcome {
    /// The node's spec.
    pub spec: NodeSpec,
    /// Final consensus mode, or `crashed`.
    pub mode: String,
    /// Final operating mode as rippled shows it to an admin, or `crashed`.
    pub server_state: String,
    /// Live and not byzantine.
    pub live_honest: bool,
    /// What it did.
    pub record: NodeRecord,
    /// Its last fully validated ledger.
    pub fully_validated: Arc<Ledger>,
    /// Its last closed ledger.
    pub last_closed: Arc<Ledger>,
    /// Payloads still pending.
    pub pending: Vec<String>,
}

/// How long without a new fully validated ledger counts as stalled: an idle ledger interval
/// plus the longest a round may wait for agreement, twice (a healthy network validates every
/// few seconds even without transactions).
pub fn stall_after_ms(p: &ConsensusParams) -> u64 {
    (2 * (p.ledger_idle_interval_ms + p.ledger_max_consensus_ms)).max(0) as u64
}

impl Report {
    /// Assembles the report.
    pub fn build(
        sc: &Scenario,
        sim_time_ms: u64,
        nodes: Vec<NodeOutcome>,
        oracle: &HashMap<Hash256, Arc<Ledger>>,
        messages: &BTreeMap<&'static str, u64>,
    ) -> Report {
        // Forks: any sequence with two different fully validated hashes anywhere.
        let mut by_seq: BTreeMap<Seq, BTreeSet<Hash256>> = BTreeMap::new();
        for n in &nodes {
            for (s, h) in &n.record.fully_validated {
                by_seq.entry(*s).or_default().insert(*h);
            }
        }
        let forks = by_seq.values().filter(|s| s.len() > 1).count();

        // Branches: last fully validated ledgers that are not ancestors of another.
        let tips: BTreeSet<(Seq, Hash256)> = nodes
            .iter()
            .map(|n| (n.fully_validated.seq(), n.fully_validated.hash()))
            .collect();
        let ancestor_at = |from: Hash256, seq: Seq| -> Option<Hash256> {
            let mut cur = oracle.get(&from)?.clone();
            while cur.seq() > seq {
                if cur.seq() == seq + 1 {
                    return Some(cur.parent());
                }
                cur = oracle.get(&cur.parent())?.clone();
            }
            Some(cur.hash())
        };
        let branches = tips
            .iter()
            .filter(|(s, h)| {
                !tips.iter().any(|(s2, h2)| {
                    (s2, h2) != (s, h) && *s2 >= *s && ancestor_at(*h2, *s) == Some(*h)
                })
            })
            .count();

        // One chain: every live honest node's last closed ledger is the highest one or its
        // parent, and there is one highest.
        let honest: Vec<&NodeOutcome> = nodes.iter().filter(|n| n.live_honest).collect();
        let top_seq = honest.iter().map(|n| n.last_closed.seq()).max();
        let tops: BTreeSet<Hash256> = honest
            .iter()
            .filter(|n| Some(n.last_closed.seq()) == top_seq)
            .map(|n| n.last_closed.hash())
            .collect();
        let one_chain = tops.len() <= 1
            && honest.iter().all(|n| {
                Some(n.last_closed.seq()) == top_seq
                    || tops.iter().any(|t| {
                        oracle
                            .get(t)
                            .is_some_and(|l| l.parent() == n.last_closed.hash())
                    })
            });
        let last_validated = honest
            .iter()
            .filter_map(|n| n.record.last_validated_at_ms)
            .max();
        let stall = stall_after_ms(&sc.profile.params());
        let stalled_since_ms = match last_validated {
            _ if honest.is_empty() => None,
            Some(t) if sim_time_ms.saturating_sub(t) <= stall => None,
            Some(t) => Some(t),
            None if sim_time_ms <= stall => None,
            None => Some(0),
        };
        let synchronized = one_chain && stalled_since_ms.is_none();

        let nodes = nodes
            .into_iter()
            .map(|n| {
                let validated: HashSet<Hash256> =
                    n.record.fully_validated.iter().map(|(_, h)| *h).collect();
                let mut pending = n.pending;
                pending.sort();
                NodeReport {
                    id: n.spec.name,
                    group: n.spec.group,
                    validator: n.spec.validator,
                    mode: n.mode,
                    server_state: n.server_state,
                    state_changes: n.record.state_changes.clone(),
                    last_validated_at_ms: n.record.last_validated_at_ms,
                    last_closed: LedgerTip {
                        seq: n.last_closed.seq(),
                        hash: n.last_closed.hash().to_hex(),
                    },
                    ledgers: n
                        .record
                        .ledgers
                        .iter()
                        .map(|r| LedgerReport {
                            seq: r.ledger.seq(),
                            hash: r.ledger.hash().to_hex(),
                            parent: r.ledger.parent().to_hex(),
                            txs: r.ledger.txs().iter().map(|t| t.text()).collect(),
                            close_time: r.ledger.close_time().ms(),
                            close_time_agreed: r.ledger.close_time_agreed(),
                            round_ms: r.round_ms,
                            result: r.result.clone(),
                            proposers: r.proposers,
                            fully_validated: validated.contains(&r.ledger.hash()),
                        })
                        .collect(),
                    pending_txs: pending,
                }
            })
            .collect();
        Report {
            scenario: sc.name.clone(),
            seed: sc.seed,
            sim_time_ms,
            nodes,
            forks,
            branches,
            synchronized,
            stalled_since_ms,
            messages: messages.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    /// The node named `id`.
    pub fn node(&self, id: &str) -> Option<&NodeReport> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The JSON object `cpeers sim --json` prints.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// A readable summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario {} (seed {}): {:.1} s simulated",
            self.scenario,
            self.seed,
            self.sim_time_ms as f64 / 1000.0
        );
        let _ = writeln!(
            s,
            "synchronized: {}   forks: {}   branches: {}",
            if self.synchronized { "yes" } else { "no" },
            self.forks,
            self.branches
        );
        if let Some(t) = self.stalled_since_ms {
            let _ = writeln!(
                s,
                "stalled: nothing fully validated since {:.1} s",
                t as f64 / 1000.0
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<8} {:<8} {:<10} {:<16} {:<13} {:>8}  {:<14} {:<28} {:>8}",
            "node",
            "group",
            "role",
            "mode",
            "state",
            "ledgers",
            "last closed",
            "last fully validated",
            "pending"
        );
        for n in &self.nodes {
            let last = n
                .last_validated()
                .map(|l| format!("#{} {} ({} txs)", l.seq, &l.hash[..8], l.txs.len()))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                s,
                "{:<8} {:<8} {:<10} {:<16} {:<13} {:>8}  {:<14} {:<28} {:>8}",
                n.id,
                n.group,
                if n.validator { "validator" } else { "observer" },
                n.mode,
                n.server_state,
                n.ledgers.len(),
                format!("#{} {}", n.last_closed.seq, &n.last_closed.hash[..8]),
                last,
                n.pending_txs.len()
            );
        }
        let _ = writeln!(s);
        let msgs: Vec<String> = self
            .messages
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "messages delivered: {}", msgs.join(", "));
        s
    }
}
