//! `cpeers bench heal`: the long randomized healing sweep. Runs many seeded fault schedules
//! ([`crate::sim::sweep`]) through the simulator on every core and reports which seeds failed
//! safety or liveness, so a failure is replayed with `--seed N --trace`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::sim::sweep::{SweepParams, random_case, run_case};

/// One failing seed.
#[derive(Debug, Clone, Serialize)]
pub struct HealMiss {
    /// The seed.
    pub seed: u64,
    /// Validators in its schedule.
    pub validators: usize,
    /// What failed.
    pub failure: String,
}

/// The result of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct HealBench {
    /// Seeds run.
    pub schedules: u64,
    /// Seeds that passed.
    pub passed: u64,
    /// Seeds that forked (safety).
    pub forked: u64,
    /// The failures, by seed.
    pub failures: Vec<HealMiss>,
    /// Simulated time after the last fault (ms).
    pub settle_ms: u64,
    /// Wall time (s).
    pub wall_s: f64,
    /// Simulated time in all (s).
    pub simulated_s: f64,
}

/// Runs seeds `from .. from + count` on `threads` threads.
pub fn run(from: u64, count: u64, settle_ms: u64, threads: usize) -> HealBench {
    let params = SweepParams {
        settle_ms,
        ..SweepParams::default()
    };
    let next = AtomicU64::new(from);
    let end = from + count;
    let failures = Mutex::new(Vec::new());
    let simulated = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    let case = random_case(seed, &params);
                    let (report, verdict) = run_case(&case);
                    simulated.fetch_add(report.sim_time_ms, Ordering::Relaxed);
                    if let Err(f) = verdict {
                        let miss = HealMiss {
                            seed,
                            validators: case.scenario.nodes.len(),
                            failure: f.to_string(),
                        };
                        if let Ok(mut v) = failures.lock() {
                            v.push((miss, matches!(f, crate::sim::sweep::HealFailure::Fork(_))));
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort_by_key(|(m, _)| m.seed);
    let forked = failures.iter().filter(|(_, fork)| *fork).count() as u64;
    HealBench {
        schedules: count,
        passed: count - failures.len() as u64,
        forked,
        failures: failures.into_iter().map(|(m, _)| m).collect(),
        settle_ms,
        wall_s: start.elapsed().as_secs_f64(),
        simulated_s: simulated.into_inner() as f64 / 1000.0,
    }
}
