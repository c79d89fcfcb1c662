//! Safety and recovery over many seeds, reported with counts: with fewer than 20 % of one
//! shared UNL faulty (crashed or byzantine, every behaviour) and random link delays, no fork;
//! with a split that leaves no side 80 % of the UNL, no side fully validates anything while it
//! lasts, nothing forks, and after healing every node converges.
//! `CPEERS_SWEEP_SEEDS` widens the sweep (default 40 seeds per case).

use cpeers::consensus::Profile;
use cpeers::sim::scenario::{
    Behaviour, FaultKind, FaultSpec, NodeSpec, Scenario, SubmitSpec, TxSource,
};
use cpeers::sim::{Simulation, StopReason};
use rand::{RngExt, SeedableRng};

fn seeds() -> u64 {
    std::env::var("CPEERS_SWEEP_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
}

fn network(n: usize, seed: u64, delay_ms: u64, max_time_ms: u64, rounds: Option<u32>) -> Scenario {
    Scenario {
        name: format!("sweep-{seed}"),
        seed,
        profile: Profile::Mainnet,
        default_delay_ms: delay_ms,
        max_time_ms,
        rounds,
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
        submits: (0..6)
            .map(|k| SubmitSpec {
                at_ms: k * 7_000,
                to: vec![(k as usize) % n],
                txs: TxSource::Random(3),
            })
            .collect(),
        faults: vec![],
    }
}

#[test]
fn under_a_fifth_faulty_never_forks_over_many_seeds() {
    let behaviours = [
        None,
        Some(Behaviour::Equivocate),
        Some(Behaviour::RandomPosition),
        Some(Behaviour::WrongLedger),
        Some(Behaviour::Silent),
    ];
    let mut runs = 0;
    let mut forked = Vec::new();
    let mut stalled = Vec::new();
    for seed in 1..=seeds() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(6..=12usize);
        let faulty = (n - 1) / 5; // strictly under 20 %
        let mut sc = network(n, seed, rng.random_range(20..800), 80_000, None);
        for k in 0..faulty {
            let at = rng.random_range(0..30_000);
            let kind = match behaviours[rng.random_range(0..behaviours.len())] {
                None => FaultKind::Crash { nodes: vec![k] },
                Some(b) => FaultKind::Byzantine {
                    nodes: vec![k],
                    behaviour: b,
                },
            };
            sc.faults.push(FaultSpec {
                kind,
                at_ms: at,
                until_ms: rng
                    .random_bool(0.5)
                    .then(|| at + rng.random_range(1_000..30_000)),
            });
        }
        // Honest nodes slowed at random too.
        for _ in 0..rng.random_range(0..3) {
            let at = rng.random_range(0..40_000);
            sc.faults.push(FaultSpec {
                kind: FaultKind::Delay {
                    nodes: vec![rng.random_range(faulty..n)],
                    delay_ms: rng.random_range(100..2_000),
                },
                at_ms: at,
                until_ms: Some(at + rng.random_range(1_000..20_000)),
            });
        }
        let report = Simulation::new(sc).run();
        runs += 1;
        if report.forks > 0 {
            forked.push(seed);
        }
        let progressed = report
            .nodes
            .iter()
            .filter(|n| n.mode != "crashed")
            .all(|n| n.last_validated().is_some_and(|l| l.seq >= 5));
        if !progressed {
            stalled.push(seed);
        }
    }
    eprintln!(
        "fewer than 20 % faulty: {runs} seeds (1..={}), forks in {:?}, live nodes below 5 validated ledgers in {:?}",
        seeds(),
        forked,
        stalled
    );
    assert!(forked.is_empty(), "forked with seeds {forked:?}");
    assert!(stalled.is_empty(), "no progress with seeds {stalled:?}");
}

#[test]
fn splits_without_quorum_validate_nothing_and_heal() {
    let mut validated_during = Vec::new();
    let mut forked = Vec::new();
    let mut diverged = Vec::new();
    for seed in 1..=seeds() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5117);
        let n = 10;
        let left_size = rng.random_range(3..=7usize); // neither side reaches 8 of 10
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let (left, right) = order.split_at(left_size);
        let mut sc = network(n, seed, rng.random_range(50..400), 200_000, Some(40));
        sc.faults.push(FaultSpec {
            kind: FaultKind::Partition {
                sides: vec![left.to_vec(), right.to_vec()],
            },
            at_ms: 12_000,
            until_ms: Some(60_000),
        });
        let mut sim = Simulation::new(sc);
        sim.run_until(16_000);
        let names: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        let at_split: Vec<u32> = names
            .iter()
            .map(|v| sim.engine(v).unwrap().fully_validated().seq())
            .collect();
        sim.run_until(59_900);
        let before_heal: Vec<u32> = names
            .iter()
            .map(|v| sim.engine(v).unwrap().fully_validated().seq())
            .collect();
        if at_split != before_heal {
            validated_during.push(seed);
        }
        let reason = sim.run_until_stop();
        let report = sim.report_now();
        if report.forks > 0 {
            forked.push(seed);
        }
        if reason != StopReason::Rounds || !report.synchronized {
            if diverged.is_empty() {
                eprintln!(
                    "seed {seed}: stopped by {reason:?} at {} ms\n{}",
                    report.sim_time_ms,
                    report.summary()
                );
            }
            diverged.push(seed);
        }
    }
    eprintln!(
        "splits without quorum: {} seeds, validated during the split in {:?}, forks in {:?}, not converged after healing in {:?}",
        seeds(),
        validated_during,
        forked,
        diverged
    );
    assert!(
        validated_during.is_empty(),
        "a side validated with seeds {validated_during:?}"
    );
    assert!(forked.is_empty(), "forked with seeds {forked:?}");
    assert!(
        diverged.is_empty(),
        "did not converge with seeds {diverged:?}"
    );
}
