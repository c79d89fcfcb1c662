//! Safety as a property: with one shared UNL and fewer than 20 % of validators faulty (crashed or
//! byzantine), no random mix of link delays, extra delays, partitions and crashes ever makes two
//! nodes fully validate different ledgers at one sequence (`forks == 0`).
//!
//! A failing case prints its scenario; re-run it with `cpeers sim` and the same seed.

use cpeers::consensus::Profile;
use cpeers::sim::scenario::{Behaviour, FaultKind, FaultSpec, NodeSpec, SubmitSpec, TxSource};
use cpeers::sim::{Scenario, Simulation};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    validators: usize,
    seed: u64,
    delay_ms: u64,
    slow: Vec<(usize, u64, u64, u64)>,
    partitions: Vec<(Vec<bool>, u64, u64)>,
    faulty: Option<(usize, u8, u64, u64)>,
}

fn case() -> impl Strategy<Value = Case> {
    (5usize..=10).prop_flat_map(|n| {
        (
            Just(n),
            any::<u64>(),
            20u64..800,
            prop::collection::vec((0..n, 100u64..2500, 0u64..40_000, 1_000u64..30_000), 0..3),
            prop::collection::vec(
                (
                    prop::collection::vec(any::<bool>(), n),
                    0u64..40_000,
                    1_000u64..40_000,
                ),
                0..3,
            ),
            prop::option::of((0..n, 0u8..5, 0u64..30_000, 1_000u64..40_000)),
        )
            .prop_map(
                |(validators, seed, delay_ms, slow, partitions, faulty)| Case {
                    validators,
                    seed,
                    delay_ms,
                    slow,
                    partitions,
                    faulty,
                },
            )
    })
}

fn build(c: &Case) -> Scenario {
    let n = c.validators;
    let nodes = (0..n)
        .map(|i| NodeSpec {
            name: format!("v{i}"),
            group: "v".into(),
            validator: true,
            unl: (0..n).collect(),
            clock_skew_ms: 0,
        })
        .collect();
    let mut faults = Vec::new();
    for &(node, extra, at, len) in &c.slow {
        faults.push(FaultSpec {
            kind: FaultKind::Delay {
                nodes: vec![node],
                delay_ms: extra,
            },
            at_ms: at,
            until_ms: Some(at + len),
        });
    }
    for (split, at, len) in &c.partitions {
        let left: Vec<usize> = (0..n).filter(|&i| split[i]).collect();
        let right: Vec<usize> = (0..n).filter(|&i| !split[i]).collect();
        faults.push(FaultSpec {
            kind: FaultKind::Partition {
                sides: vec![left, right],
            },
            at_ms: *at,
            until_ms: Some(at + len),
        });
    }
    // Fewer than 20 % faulty: one node, only when that is under a fifth of the UNL.
    if let Some((node, kind, at, len)) = c.faulty
        && n > 5
    {
        let kind = match kind {
            0 => FaultKind::Crash { nodes: vec![node] },
            1 => FaultKind::Byzantine {
                nodes: vec![node],
                behaviour: Behaviour::Equivocate,
            },
            2 => FaultKind::Byzantine {
                nodes: vec![node],
                behaviour: Behaviour::RandomPosition,
            },
            3 => FaultKind::Byzantine {
                nodes: vec![node],
                behaviour: Behaviour::WrongLedger,
            },
            _ => FaultKind::Byzantine {
                nodes: vec![node],
                behaviour: Behaviour::Silent,
            },
        };
        faults.push(FaultSpec {
            kind,
            at_ms: at,
            until_ms: Some(at + len),
        });
    }
    Scenario {
        name: "safety_property".into(),
        seed: c.seed,
        profile: Profile::Mainnet,
        default_delay_ms: c.delay_ms,
        max_time_ms: 90_000,
        rounds: None,
        nodes,
        groups: vec!["v".into()],
        links: vec![],
        submits: vec![
            SubmitSpec {
                at_ms: 0,
                to: (0..n).collect(),
                txs: TxSource::Random(2),
            },
            SubmitSpec {
                at_ms: 20_000,
                to: vec![0],
                txs: TxSource::Random(3),
            },
            SubmitSpec {
                at_ms: 45_000,
                to: vec![n - 1],
                txs: TxSource::Random(3),
            },
        ],
        faults,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn fewer_than_a_fifth_faulty_never_forks(c in case()) {
        let sc = build(&c);
        let report = Simulation::new(sc.clone()).run();
        prop_assert_eq!(report.forks, 0, "forked: {:?}\n{}", c, report.summary());
    }
}
