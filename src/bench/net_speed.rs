//! `cpeers bench net`: real node processes on loopback (fast profile) under a steady stream of
//! transactions; reports validated throughput, submit-to-validated latency, ledger interval,
//! proposal propagation, CPU and peak memory per node, and forks (must be 0).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cluster::LocalCluster;
use crate::consensus::Profile;
use crate::node::process::{cpu_ticks, memory_mib};

/// The result of one network benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct NetBench {
    /// Node processes.
    pub nodes: usize,
    /// Requested submission rate (tx/s).
    pub target_tps: u32,
    /// Submission time (s).
    pub seconds: u32,
    /// Transactions submitted.
    pub submitted: u64,
    /// Of those, found in fully validated ledgers.
    pub validated: u64,
    /// Validated transactions per second, from first submission to the last one validated.
    pub achieved_tps: f64,
    /// Submit-to-validated latency, median of the nodes' medians (ms).
    pub latency_p50_ms: f64,
    /// Submit-to-validated latency, worst node's 99th percentile (ms).
    pub latency_p99_ms: f64,
    /// Median time between fully validated ledgers (ms).
    pub ledger_interval_ms: f64,
    /// Proposal propagation, median of the nodes' medians (ms; same-machine clocks).
    pub propagation_p50_ms: f64,
    /// Proposal propagation, worst node's 99th percentile (ms).
    pub propagation_p99_ms: f64,
    /// CPU per node over the submission window (percent of one core).
    pub cpu_pct: Vec<f64>,
    /// Peak resident memory per node (MiB).
    pub peak_rss_mib: Vec<f64>,
    /// Resident memory over the submission window: seconds since the first submission and
    /// every node's MiB, sampled twenty times (at least every 5 s).
    pub rss_samples: Vec<RssSample>,
    /// The largest growth of any node's resident memory over the second half of the window
    /// (MiB): caches fill in the first half, so "flat" means this stays near zero.
    pub rss_growth_second_half_mib: f64,
    /// Node 0's bounded collections at the end (what its memory holds, against each cap).
    pub held_node0: serde_json::Value,
    /// Sequences at which nodes fully validated different ledgers.
    pub forks: usize,
    /// Whether every node ran the flight recorder.
    pub recording: bool,
    /// Recording written per node (MiB), when recording.
    pub recorded_mib: Vec<f64>,
}

/// One memory sample.
#[derive(Debug, Clone, Serialize)]
pub struct RssSample {
    /// Seconds since the first submission.
    pub at_s: f64,
    /// Each node's resident memory (MiB).
    pub mib: Vec<f64>,
}

/// Growth of any node's memory from the sample nearest half time to the last one.
fn second_half_growth(samples: &[RssSample]) -> f64 {
    let (Some(last), Some(mid)) = (samples.last(), samples.get(samples.len() / 2)) else {
        return 0.0;
    };
    last.mib
        .iter()
        .zip(&mid.mib)
        .map(|(b, a)| b - a)
        .fold(0.0, f64::max)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs the benchmark with the `cpeers` binary at `binary`; with `record`, every node runs the
/// flight recorder (to measure what it costs).
pub fn run(
    binary: &Path,
    nodes: usize,
    tps: u32,
    seconds: u32,
    record: bool,
) -> Result<NetBench, String> {
    let n = nodes.max(1);
    let args: &[&str] = if record {
        &["--record", "flight.rec"]
    } else {
        &[]
    };
    let c = LocalCluster::start_with_args(binary, "bench-net", n, Profile::Fast, args)
        .map_err(|e| e.to_string())?;
    let all: Vec<usize> = (0..n).collect();
    if !c.wait_for(Duration::from_secs(30), |c| c.min_validated(&all) >= 2) {
        return Err(format!(
            "the cluster did not start validating\n{}",
            c.tails()
        ));
    }
    let pids: Vec<u32> = c.nodes.iter().filter_map(|x| x.pid()).collect();
    let ticks0: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p).unwrap_or(0)).collect();
    let tick = Duration::from_millis(20);
    let per_tick = (tps as f64 * tick.as_secs_f64()).max(0.0);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds as u64);
    let mut submitted = 0u64;
    let mut owed = 0.0;
    let mut next = start;
    let mut target = 0usize;
    let mut all_txs = Vec::new();
    let sample_every = Duration::from_secs((u64::from(seconds) / 20).max(5));
    let mut next_sample = start;
    let mut rss_samples = Vec::new();
    while Instant::now() < end {
        if Instant::now() >= next_sample {
            rss_samples.push(RssSample {
                at_s: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                mib: pids
                    .iter()
                    .map(|p| memory_mib(Some(*p), "VmRSS").unwrap_or(0.0))
                    .collect(),
            });
            next_sample += sample_every;
        }
        owed += per_tick;
        let batch = owed.floor() as usize;
        owed -= batch as f64;
        if batch > 0 {
            let txs: Vec<String> = (0..batch)
                .map(|k| {
                    format!(
                        "bench-{}-{}",
                        submitted + k as u64,
                        start.elapsed().as_micros()
                    )
                })
                .collect();
            if let Ok(a) = c.submit(target, &txs) {
                submitted += a.accepted as u64;
                all_txs.extend(txs);
            }
            target = (target + 1) % n;
        }
        next += tick;
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let window = start.elapsed();
    let held_node0 = c.status(0).map(|s| s["held"].clone()).unwrap_or_default();
    rss_samples.push(RssSample {
        at_s: (window.as_secs_f64() * 10.0).round() / 10.0,
        mib: pids
            .iter()
            .map(|p| memory_mib(Some(*p), "VmRSS").unwrap_or(0.0))
            .collect(),
    });
    let ticks1: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p).unwrap_or(0)).collect();
    // Let the last submissions validate.
    let mut validated = 0u64;
    let drain_end = Instant::now() + Duration::from_secs(15);
    let mut done_at = Instant::now();
    while Instant::now() < drain_end {
        let have = c.validated_txs(0);
        validated = all_txs.iter().filter(|t| have.contains(*t)).count() as u64;
        done_at = Instant::now();
        if validated == submitted {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let elapsed = done_at.duration_since(start).as_secs_f64().max(1e-9);
    let statuses: Vec<serde_json::Value> = all.iter().filter_map(|&i| c.status(i)).collect();
    let f = |v: &serde_json::Value, path: [&str; 2]| {
        v["latency"][path[0]][path[1]].as_f64().unwrap_or(0.0)
    };
    let intervals: Vec<f64> = statuses
        .first()
        .and_then(|s| s["recent_validated"].as_array().cloned())
        .unwrap_or_default()
        .windows(2)
        .filter_map(|w| {
            Some((w[1]["validated_at"].as_f64()? - w[0]["validated_at"].as_f64()?).max(0.0))
        })
        .collect();
    let clk = 100.0; // USER_HZ on Linux
    Ok(NetBench {
        nodes: n,
        target_tps: tps,
        seconds,
        submitted,
        validated,
        achieved_tps: validated as f64 / elapsed,
        latency_p50_ms: median(
            statuses
                .iter()
                .map(|s| f(s, ["submit_to_validated", "p50_ms"]))
                .collect(),
        ),
        latency_p99_ms: statuses
            .iter()
            .map(|s| f(s, ["submit_to_validated", "p99_ms"]))
            .fold(0.0, f64::max),
        ledger_interval_ms: median(intervals),
        propagation_p50_ms: median(
            statuses
                .iter()
                .map(|s| f(s, ["proposal_propagation", "p50_ms"]))
                .collect(),
        ),
        propagation_p99_ms: statuses
            .iter()
            .map(|s| f(s, ["proposal_propagation", "p99_ms"]))
            .fold(0.0, f64::max),
        cpu_pct: ticks0
            .iter()
            .zip(&ticks1)
            .map(|(a, b)| (b.saturating_sub(*a)) as f64 / clk / window.as_secs_f64() * 100.0)
            .collect(),
        peak_rss_mib: pids
            .iter()
            .map(|p| memory_mib(Some(*p), "VmHWM").unwrap_or(0.0))
            .collect(),
        rss_growth_second_half_mib: second_half_growth(&rss_samples),
        rss_samples,
        held_node0,
        forks: c.forks(&all).len(),
        recording: record,
        recorded_mib: if record {
            c.nodes
                .iter()
                .map(|x| recorded_bytes(&x.dir) as f64 / (1 << 20) as f64)
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// Bytes of `flight.rec*` files in `dir` (rotated ones included).
fn recorded_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("flight.rec"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
