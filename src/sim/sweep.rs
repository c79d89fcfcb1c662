//! Randomized fault schedules and the healing check: a network must heal after any fault that
//! ends. One seed gives one schedule (so a failure is replayed by its seed); the same code
//! drives the test suite's sweep (`tests/sim_heal_sweep.rs`) and the longer `cpeers bench heal`.
//!
//! A schedule shares one UNL among 4 to 12 validators (mainnet profile) with a random link
//! delay, and throws at it, at random times within its fault window: overlapping and nested
//! partitions (two or three sides, a side may be one node), crashes with restarts from the
//! store, clock skew, extra delays on some nodes, and byzantine validators (each behaviour;
//! fewer than 20 % of the UNL; some for good). Every fault but the byzantine ones ends at least
//! `settle_ms` before the run does. Transactions are submitted throughout, and probe
//! transactions just after the last fault ends.
//!
//! The check: no two nodes ever fully validate different ledgers at one sequence (safety); at
//! the end every live honest node is on one chain and still validating, each live honest
//! validator fully validated a ledger after the last fault ended, and every probe transaction
//! is in a ledger every live honest validator fully validated (liveness).

use std::fmt;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::report::Report;
use super::scenario::{Behaviour, FaultKind, FaultSpec, NodeSpec, Scenario, SubmitSpec, TxSource};
use crate::consensus::Profile;

/// One random schedule and what its check needs to know.
#[derive(Debug, Clone)]
pub struct SweepCase {
    /// The scenario to run.
    pub scenario: Scenario,
    /// When the last fault that ends has ended (simulated ms).
    pub last_fault_ms: u64,
    /// Validators byzantine at the end (not held to liveness).
    pub byzantine_at_end: Vec<usize>,
    /// Payloads submitted after the last fault: each must end up fully validated.
    pub probes: Vec<String>,
}

/// How a schedule is drawn.
#[derive(Debug, Clone, Copy)]
pub struct SweepParams {
    /// Fewest validators.
    pub min_validators: usize,
    /// Most validators.
    pub max_validators: usize,
    /// Latest time a fault may start (ms).
    pub fault_window_ms: u64,
    /// Simulated time after the last fault ends before the run stops (at least 60 s).
    pub settle_ms: u64,
}

impl Default for SweepParams {
    fn default() -> Self {
        SweepParams {
            min_validators: 4,
            max_validators: 12,
            fault_window_ms: 120_000,
            settle_ms: 90_000,
        }
    }
}

const BEHAVIOURS: [Behaviour; 4] = [
    Behaviour::Equivocate,
    Behaviour::RandomPosition,
    Behaviour::WrongLedger,
    Behaviour::Silent,
];

/// A random subset of `0..n` with between `min` and `max` members.
fn subset(rng: &mut ChaCha8Rng, n: usize, min: usize, max: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let k = rng.random_range(min..=max.min(n));
    let mut out = order[..k].to_vec();
    out.sort_unstable();
    out
}

/// A random window inside `[5 s, window]`: start and end.
fn span(rng: &mut ChaCha8Rng, window: u64, min_len: u64, max_len: u64) -> (u64, u64) {
    let at = rng.random_range(5_000..window.max(5_001));
    (at, at + rng.random_range(min_len..=max_len))
}

/// The schedule for `seed`.
pub fn random_case(seed: u64, p: &SweepParams) -> SweepCase {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4845_414c);
    let n = rng.random_range(p.min_validators..=p.max_validators);
    let delay_ms = rng.random_range(20..=800u64);
    let mut faults: Vec<FaultSpec> = Vec::new();
    let w = p.fault_window_ms;

    // Partitions: overlapping and nested, two or three sides.
    for _ in 0..rng.random_range(1..=3usize) {
        let (at, until) = span(&mut rng, w, 5_000, 60_000);
        let left = subset(&mut rng, n, 1, n - 1);
        let rest: Vec<usize> = (0..n).filter(|i| !left.contains(i)).collect();
        let sides = if rest.len() >= 2 && rng.random_bool(0.3) {
            let cut = rng.random_range(1..rest.len());
            vec![left, rest[..cut].to_vec(), rest[cut..].to_vec()]
        } else {
            vec![left, rest]
        };
        faults.push(FaultSpec {
            kind: FaultKind::Partition { sides },
            at_ms: at,
            until_ms: Some(until),
        });
    }
    // Crashes, restarted from the store.
    for _ in 0..rng.random_range(0..=2usize) {
        let (at, until) = span(&mut rng, w, 1_000, 40_000);
        faults.push(FaultSpec {
            kind: FaultKind::Crash {
                nodes: subset(&mut rng, n, 1, 1),
            },
            at_ms: at,
            until_ms: Some(until),
        });
    }
    // Clock skew and slow links.
    for _ in 0..rng.random_range(0..=2usize) {
        let (at, until) = span(&mut rng, w, 5_000, 60_000);
        let skew = rng.random_range(1_000..=30_000i64) * if rng.random_bool(0.5) { 1 } else { -1 };
        faults.push(FaultSpec {
            kind: FaultKind::ClockSkew {
                nodes: subset(&mut rng, n, 1, 2),
                skew_ms: skew,
            },
            at_ms: at,
            until_ms: Some(until),
        });
    }
    for _ in 0..rng.random_range(0..=2usize) {
        let (at, until) = span(&mut rng, w, 1_000, 30_000);
        faults.push(FaultSpec {
            kind: FaultKind::Delay {
                nodes: subset(&mut rng, n, 1, 2),
                delay_ms: rng.random_range(100..=2_000),
            },
            at_ms: at,
            until_ms: Some(until),
        });
    }
    let last_fault_ms = faults.iter().filter_map(|f| f.until_ms).max().unwrap_or(0);
    // Byzantine validators: strictly under 20 % of the UNL, some to the end.
    let mut byzantine_at_end = Vec::new();
    let f = (n - 1) / 5;
    for k in 0..rng.random_range(0..=f) {
        let behaviour = BEHAVIOURS[rng.random_range(0..BEHAVIOURS.len())];
        let at = rng.random_range(0..w);
        let until = rng
            .random_bool(0.5)
            .then(|| (at + rng.random_range(5_000..60_000)).min(last_fault_ms.max(at + 5_000)));
        if until.is_none() {
            byzantine_at_end.push(k);
        }
        faults.push(FaultSpec {
            kind: FaultKind::Byzantine {
                nodes: vec![k],
                behaviour,
            },
            at_ms: at,
            until_ms: until,
        });
    }
    let last_fault_ms = faults
        .iter()
        .filter_map(|f| f.until_ms)
        .max()
        .unwrap_or(0)
        .max(last_fault_ms);

    // Transactions throughout, and probes after the last fault.
    let honest: Vec<usize> = (0..n).filter(|i| !byzantine_at_end.contains(i)).collect();
    let mut submits: Vec<SubmitSpec> = (0..rng.random_range(2..=6u64))
        .map(|_| SubmitSpec {
            at_ms: rng.random_range(0..last_fault_ms.max(1)),
            to: vec![rng.random_range(0..n)],
            txs: TxSource::Random(rng.random_range(1..=4)),
        })
        .collect();
    let probes: Vec<String> = (0..2).map(|k| format!("probe-{seed}-{k}")).collect();
    for (k, probe) in probes.iter().enumerate() {
        submits.push(SubmitSpec {
            at_ms: last_fault_ms + 2_000 + 3_000 * k as u64,
            to: vec![honest[rng.random_range(0..honest.len())]],
            txs: TxSource::Explicit(vec![probe.clone()]),
        });
    }
    submits.sort_by_key(|s| s.at_ms);

    let scenario = Scenario {
        name: format!("heal-{seed}"),
        seed,
        profile: Profile::Mainnet,
        default_delay_ms: delay_ms,
        max_time_ms: last_fault_ms + p.settle_ms,
        rounds: None,
        nodes: (0..n)
            .map(|i| NodeSpec {
                name: format!("v{i}"),
                group: "v".into(),
                validator: true,
                unl: (0..n).collect(),
                clock_skew_ms: 0,
            })
            .collect(),
        groups: vec!["v".into()],
        links: vec![],
        submits,
        faults,
    };
    SweepCase {
        scenario,
        last_fault_ms,
        byzantine_at_end,
        probes,
    }
}

/// Why a schedule failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealFailure {
    /// Two nodes fully validated different ledgers at one sequence.
    Fork(usize),
    /// The live honest nodes are not on one chain at the end, or nothing validates.
    NotSynchronized {
        /// Nothing fully validated since (simulated ms), if stalled.
        stalled_since_ms: Option<u64>,
    },
    /// A live honest validator fully validated nothing after the last fault.
    NotValidating(String),
    /// A probe transaction is not fully validated everywhere.
    ProbeMissing {
        /// The probe.
        probe: String,
        /// A node that lacks it.
        node: String,
    },
}

impl fmt::Display for HealFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HealFailure::Fork(n) => write!(f, "forked at {n} sequences"),
            HealFailure::NotSynchronized {
                stalled_since_ms: Some(t),
            } => write!(f, "stalled: nothing fully validated since {} ms", t),
            HealFailure::NotSynchronized { .. } => {
                write!(f, "the live honest nodes are not on one chain")
            }
            HealFailure::NotValidating(n) => {
                write!(f, "{n} fully validated nothing after the last fault")
            }
            HealFailure::ProbeMissing { probe, node } => {
                write!(f, "{probe} is not fully validated at {node}")
            }
        }
    }
}

/// Checks a finished run of `case`: safety first, then liveness.
pub fn check(case: &SweepCase, report: &Report) -> Result<(), HealFailure> {
    if report.forks > 0 {
        return Err(HealFailure::Fork(report.forks));
    }
    if !report.synchronized {
        return Err(HealFailure::NotSynchronized {
            stalled_since_ms: report.stalled_since_ms,
        });
    }
    let honest =
        report.nodes.iter().enumerate().filter(|(i, n)| {
            n.validator && n.mode != "crashed" && !case.byzantine_at_end.contains(i)
        });
    for (_, n) in honest {
        if n.last_validated_at_ms
            .is_none_or(|t| t <= case.last_fault_ms)
        {
            return Err(HealFailure::NotValidating(n.id.clone()));
        }
        for probe in &case.probes {
            let there = n
                .ledgers
                .iter()
                .any(|l| l.fully_validated && l.txs.iter().any(|t| t == probe));
            if !there {
                return Err(HealFailure::ProbeMissing {
                    probe: probe.clone(),
                    node: n.id.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Runs `case` and checks it.
pub fn run_case(case: &SweepCase) -> (Report, Result<(), HealFailure>) {
    let report = super::run(case.scenario.clone());
    let verdict = check(case, &report);
    (report, verdict)
}
