//! How fast the simulator runs: wall time per simulated round and the ratio of simulated to
//! wall time, for a network of N validators on the mainnet profile.
//!
//! This is the only place that times the simulator; the simulator itself never reads a clock.

use std::time::Instant;

use serde::Serialize;

use crate::consensus::Profile;
use crate::sim::scenario::{NodeSpec, Scenario, SubmitSpec, TxSource};
use crate::sim::{Simulation, StopReason};

/// The result of one simulator benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct SimBench {
    /// Validators simulated.
    pub validators: usize,
    /// Rounds (fully validated ledgers) run.
    pub rounds: u32,
    /// Simulated time (ms).
    pub sim_ms: u64,
    /// Wall time (ms).
    pub wall_ms: f64,
    /// Simulated time per wall time.
    pub sim_to_wall: f64,
    /// Wall time per round (ms).
    pub wall_ms_per_round: f64,
    /// Simulated time per round (ms).
    pub sim_ms_per_round: f64,
    /// Events the simulator processed.
    pub events: u64,
    /// Whether the run reached the rounds (and did not fork).
    pub ok: bool,
}

/// A scenario with `validators` validators all trusting each other, 200 ms links, mainnet
/// timing, `txs_per_round` random transactions submitted to rotating validators each second.
pub fn scenario(validators: usize, rounds: u32, txs_per_second: u32) -> Scenario {
    let nodes = (0..validators)
        .map(|i| NodeSpec {
            name: format!("v{i}"),
            group: "v".into(),
            validator: true,
            unl: (0..validators).collect(),
            clock_skew_ms: 0,
        })
        .collect();
    let max_time_ms = 10_000 + rounds as u64 * 20_000;
    let submits = (0..max_time_ms / 1000)
        .filter(|_| txs_per_second > 0)
        .map(|s| SubmitSpec {
            at_ms: s * 1000,
            to: vec![(s as usize) % validators],
            txs: TxSource::Random(txs_per_second),
        })
        .collect();
    Scenario {
        name: format!("bench_sim_{validators}"),
        seed: 1,
        profile: Profile::Mainnet,
        default_delay_ms: 200,
        max_time_ms,
        rounds: Some(rounds),
        nodes,
        groups: vec!["v".into()],
        links: vec![],
        submits,
        faults: vec![],
    }
}

/// Runs the benchmark.
pub fn run(validators: usize, rounds: u32, txs_per_second: u32) -> SimBench {
    let sc = scenario(validators.max(1), rounds.max(1), txs_per_second);
    let mut sim = Simulation::new(sc);
    let start = Instant::now();
    let reason = sim.run_until_stop();
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    let report = sim.report_now();
    let sim_ms = report.sim_time_ms;
    SimBench {
        validators,
        rounds,
        sim_ms,
        wall_ms,
        sim_to_wall: sim_ms as f64 / wall_ms.max(1e-9),
        wall_ms_per_round: wall_ms / rounds.max(1) as f64,
        sim_ms_per_round: sim_ms as f64 / rounds.max(1) as f64,
        events: sim.events(),
        ok: reason == StopReason::Rounds && report.forks == 0,
    }
}
