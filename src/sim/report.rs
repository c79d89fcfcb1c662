//! The outcome of a run: every node's ledgers, what is still pending, and the network-wide
//! verdicts (forks, branches, synchronized). Serialised as the `--json` object; the same data
//! prints as a readable summary.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

use super::scenario::{NodeSpec, Scenario};
use crate::consensus::ledger::Seq;
use crate::consensus::{Hash256, Ledger};

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
    /// All live honest nodes share the same last fully validated ledger.
    pub synchronized: bool,
    /// Messages delivered, by kind.
    pub messages: BTreeMap<String, u64>,
}

/// Per-node input to [`Report::build`]: spec, mode, live-and-honest, record, last fully
/// validated ledger, pending payloads.
pub type NodeOutcome = (NodeSpec, String, bool, NodeRecord, Arc<Ledger>, Vec<String>);

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
        for (_, _, _, rec, _, _) in &nodes {
            for (s, h) in &rec.fully_validated {
                by_seq.entry(*s).or_default().insert(*h);
            }
        }
        let forks = by_seq.values().filter(|s| s.len() > 1).count();

        // Branches: last fully validated ledgers that are not ancestors of another.
        let tips: BTreeSet<(Seq, Hash256)> = nodes
            .iter()
            .map(|(_, _, _, _, fv, _)| (fv.seq(), fv.hash()))
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

        let honest: Vec<Hash256> = nodes
            .iter()
            .filter(|(_, _, live, _, _, _)| *live)
            .map(|(_, _, _, _, fv, _)| fv.hash())
            .collect();
        let synchronized = honest.windows(2).all(|w| w[0] == w[1]);

        let nodes = nodes
            .into_iter()
            .map(|(spec, mode, _, rec, _, mut pending)| {
                let validated: HashSet<Hash256> =
                    rec.fully_validated.iter().map(|(_, h)| *h).collect();
                pending.sort();
                NodeReport {
                    id: spec.name,
                    group: spec.group,
                    validator: spec.validator,
                    mode,
                    ledgers: rec
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
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<8} {:<8} {:<10} {:<16} {:>8}  {:<28} {:>8}",
            "node", "group", "role", "mode", "ledgers", "last fully validated", "pending"
        );
        for n in &self.nodes {
            let last = n
                .last_validated()
                .map(|l| format!("#{} {} ({} txs)", l.seq, &l.hash[..8], l.txs.len()))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                s,
                "{:<8} {:<8} {:<10} {:<16} {:>8}  {:<28} {:>8}",
                n.id,
                n.group,
                if n.validator { "validator" } else { "observer" },
                n.mode,
                n.ledgers.len(),
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
