//! `cpeers bench soak`: real node processes for a long time under a seeded schedule of faults
//! (kill -9 and restart, freeze and thaw), with a steady trickle of transactions. It reports
//! what an operator needs to trust a long run: no fork, no panic, ledgers kept validating
//! whenever 80 % of the UNL was up, every accepted transaction validated, and memory that stays
//! flat on the node that ran the whole time.
//!
//! Node 0 is never faulted, so one process lives from start to end and its memory over time
//! shows whether anything grows without bound.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::cluster::LocalCluster;
use crate::consensus::Profile;
use crate::node::process::memory_mib;

/// What the run is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct SoakOptions {
    /// Node processes (at least 5, so one can be down while 80 % stay up).
    pub nodes: usize,
    /// Wall-clock length.
    pub minutes: u32,
    /// Seed of the fault schedule.
    pub seed: u64,
    /// Transactions submitted per second.
    pub tps: u32,
}

/// One fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    /// Seconds since the start.
    pub at_s: f64,
    /// `kill`, `restart`, `freeze`, `thaw`.
    pub kind: &'static str,
    /// Node index.
    pub node: usize,
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    /// Options.
    pub nodes: usize,
    /// Minutes run.
    pub minutes: u32,
    /// Schedule seed.
    pub seed: u64,
    /// Every fault, in order.
    pub faults: Vec<FaultEvent>,
    /// Node 0's last fully validated sequence at the end.
    pub validated_seq: u64,
    /// Longest time (s) without a new fully validated ledger while at least 80 % of the nodes
    /// were up (after a 15 s grace period following each fault).
    pub longest_stall_s: f64,
    /// Transactions submitted (accepted by a node's admin endpoint).
    pub submitted: u64,
    /// Of those, in node 0's fully validated ledgers at the end.
    pub validated_txs: u64,
    /// Node 0's resident memory (MiB) sampled every 30 s.
    pub rss_mib_node0: Vec<f64>,
    /// Largest resident memory any node process reached (MiB).
    pub peak_rss_mib: f64,
    /// Node 0's bounded collections at the end of the run (what its memory holds, against
    /// each cap), from its status.
    pub held_node0: serde_json::Value,
    /// Lines with "panicked" in the nodes' output.
    pub panics: usize,
    /// Sequences at which nodes fully validated different ledgers (must be empty).
    pub forks: Vec<u32>,
}

fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status();
}

/// Runs the soak with the `cpeers` binary at `binary`; `progress` gets a line now and then.
pub fn run(
    binary: &Path,
    opts: SoakOptions,
    mut progress: impl FnMut(&str),
) -> Result<SoakReport, String> {
    let n = opts.nodes.max(5);
    let mut c = LocalCluster::start(binary, "soak", n, Profile::Fast).map_err(|e| e.to_string())?;
    let all: Vec<usize> = (0..n).collect();
    if !c.wait_for(Duration::from_secs(30), |c| c.min_validated(&all) >= 2) {
        return Err(format!(
            "the cluster did not start validating\n{}",
            c.tails()
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let start = Instant::now();
    let end = start + Duration::from_secs(u64::from(opts.minutes) * 60);
    let mut faults = Vec::new();
    // At most one node down (killed or frozen) at a time: 4 of 5 is exactly 80 %.
    let mut down: Option<(usize, &'static str, Instant)> = None;
    let mut next_fault = start + Duration::from_secs(rng.random_range(10..30));
    let mut last_fault = start;
    let mut submitted = 0u64;
    let mut all_txs = Vec::new();
    let mut target = 0usize;
    let mut last_seq = 0u64;
    let mut last_progress = Instant::now();
    let mut longest_stall = Duration::ZERO;
    let mut rss0 = Vec::new();
    let mut peak_rss: f64 = 0.0;
    let mut next_sample = start;
    let mut next_report = start + Duration::from_secs(60);
    let tick = Duration::from_millis(100);
    let per_tick = f64::from(opts.tps) * tick.as_secs_f64();
    let mut owed = 0.0;
    while Instant::now() < end {
        let now = Instant::now();
        // Faults.
        if now >= next_fault {
            match down.take() {
                None => {
                    let victim = rng.random_range(1..n);
                    let kind = if rng.random_bool(0.7) {
                        "kill"
                    } else {
                        "freeze"
                    };
                    if kind == "kill" {
                        c.kill(victim);
                    } else if let Some(pid) = c.nodes[victim].pid() {
                        signal(pid, "-STOP");
                    }
                    faults.push(FaultEvent {
                        at_s: start.elapsed().as_secs_f64(),
                        kind,
                        node: victim,
                    });
                    down = Some((victim, kind, now));
                    next_fault = now + Duration::from_secs(rng.random_range(5..40));
                }
                Some((node, kind, _)) => {
                    let back = if kind == "kill" {
                        c.start_node(node).map_err(|e| e.to_string())?;
                        "restart"
                    } else {
                        if let Some(pid) = c.nodes[node].pid() {
                            signal(pid, "-CONT");
                        }
                        "thaw"
                    };
                    faults.push(FaultEvent {
                        at_s: start.elapsed().as_secs_f64(),
                        kind: back,
                        node,
                    });
                    next_fault = now + Duration::from_secs(rng.random_range(10..60));
                }
            }
            last_fault = now;
        }
        // Transactions to a node that is up.
        owed += per_tick;
        let batch = owed.floor() as usize;
        owed -= batch as f64;
        if batch > 0 {
            target = (target + 1) % n;
            if down.is_some_and(|(d, _, _)| d == target) {
                target = (target + 1) % n;
            }
            let txs: Vec<String> = (0..batch)
                .map(|k| format!("soak-{}-{}", submitted + k as u64, opts.seed))
                .collect();
            if let Ok(a) = c.submit(target, &txs) {
                submitted += a.accepted as u64;
                all_txs.extend(txs);
            }
        }
        // Progress: node 0 never goes down, and at most one other node is down.
        if let Some(seq) = c.validated_seq(0) {
            if seq > last_seq {
                last_seq = seq;
                last_progress = now;
            } else if now.duration_since(last_fault) > Duration::from_secs(15)
                && last_progress < now
            {
                let since = now.duration_since(last_progress.max(last_fault));
                longest_stall = longest_stall.max(since);
            }
        }
        if now >= next_sample {
            if let Some(m) = c.nodes[0].pid().and_then(|p| memory_mib(Some(p), "VmRSS")) {
                rss0.push(m);
            }
            for x in &c.nodes {
                if let Some(m) = x.pid().and_then(|p| memory_mib(Some(p), "VmRSS")) {
                    peak_rss = peak_rss.max(m);
                }
            }
            next_sample += Duration::from_secs(30);
        }
        if now >= next_report {
            progress(&format!(
                "{:>4.0} s: validated #{last_seq}, {} faults, {submitted} txs, node 0 {:.1} MiB, longest stall {:.1} s",
                start.elapsed().as_secs_f64(),
                faults.len(),
                rss0.last().copied().unwrap_or(0.0),
                longest_stall.as_secs_f64()
            ));
            next_report += Duration::from_secs(60);
        }
        std::thread::sleep(tick);
    }
    // What node 0 holds at the end, before the checks below query it.
    let held_node0 = c.status(0).map(|s| s["held"].clone()).unwrap_or_default();
    // Bring everyone back and let the last transactions validate.
    if let Some((node, kind, _)) = down.take() {
        if kind == "kill" {
            c.start_node(node).map_err(|e| e.to_string())?;
        } else if let Some(pid) = c.nodes[node].pid() {
            signal(pid, "-CONT");
        }
    }
    let have_all = |c: &LocalCluster| {
        let have = c.validated_txs(0);
        all_txs.iter().all(|t| have.contains(t))
    };
    c.wait_for(Duration::from_secs(60), have_all);
    let have = c.validated_txs(0);
    let validated_txs = all_txs.iter().filter(|t| have.contains(*t)).count() as u64;
    c.wait_for(Duration::from_secs(30), |c| {
        c.min_validated(&all) >= c.validated_seq(0).unwrap_or(0)
    });
    let panics = c
        .nodes
        .iter()
        .map(|x| {
            std::fs::read_to_string(x.dir.join("stdout.txt"))
                .unwrap_or_default()
                .matches("panicked")
                .count()
        })
        .sum();
    Ok(SoakReport {
        nodes: n,
        minutes: opts.minutes,
        seed: opts.seed,
        faults,
        validated_seq: c.validated_seq(0).unwrap_or(0),
        longest_stall_s: longest_stall.as_secs_f64(),
        submitted,
        validated_txs,
        rss_mib_node0: rss0,
        peak_rss_mib: peak_rss,
        held_node0,
        panics,
        forks: c.forks(&all),
    })
}
