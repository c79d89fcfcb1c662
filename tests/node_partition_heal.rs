//! Five real `cpeers node` processes on 127.0.0.1 (fast profile) split twice, the two
//! partitions overlapping in time, by the admin API's `block` command (the partition the demo's
//! trouble key makes): {n0 n1 n2} | {n3 n4} from the first cut, then {n0 n1} | {n2 n3 n4} while
//! the first still holds, so for a while no side has the 80 % quorum. Then both heal, one after
//! the other. The network must validate again within 30 s of the last heal, on one chain, with
//! a transaction submitted after the heal in every node's validated ledgers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;

/// Pairs cut by each partition still in force: a pair is blocked while any partition cuts it.
#[derive(Default)]
struct Cuts(BTreeMap<(usize, usize), u32>);

impl Cuts {
    fn pairs(a: &[usize], b: &[usize]) -> Vec<(usize, usize)> {
        a.iter()
            .flat_map(|&x| b.iter().map(move |&y| (x.min(y), x.max(y))))
            .collect()
    }

    /// Cuts `a` from `b`; blocks (both ways) each pair not already cut.
    fn cut(&mut self, c: &LocalCluster, a: &[usize], b: &[usize]) {
        for p in Self::pairs(a, b) {
            let n = self.0.entry(p).or_default();
            *n += 1;
            if *n == 1 {
                set(c, p, true);
            }
        }
    }

    /// Heals the partition `a` | `b`; unblocks each pair no other partition still cuts.
    fn heal(&mut self, c: &LocalCluster, a: &[usize], b: &[usize]) {
        for p in Self::pairs(a, b) {
            let n = self.0.get_mut(&p).expect("healing a cut that was made");
            *n -= 1;
            if *n == 0 {
                self.0.remove(&p);
                set(c, p, false);
            }
        }
    }
}

fn set(c: &LocalCluster, (x, y): (usize, usize), blocked: bool) {
    for (i, j) in [(x, y), (y, x)] {
        let said = c
            .block(i, j, blocked)
            .unwrap_or_else(|e| panic!("block n{j} at n{i}: {e}\n{}", c.tails()));
        assert!(said.contains("peer"), "unexpected answer {said}");
    }
}

fn wait(c: &LocalCluster, what: &str, secs: u64, ok: impl FnMut(&LocalCluster) -> bool) {
    assert!(
        c.wait_for(Duration::from_secs(secs), ok),
        "timed out after {secs} s waiting for {what}\n{}",
        c.tails()
    );
}

#[test]
fn five_processes_heal_after_two_overlapping_partitions() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let c = LocalCluster::start(bin, "heal", 5, Profile::Fast).expect("cluster starts");
    let all: Vec<usize> = (0..5).collect();
    wait(&c, "every node to fully validate ledger 2", 30, |c| {
        c.min_validated(&all) >= 2
    });

    let mut cuts = Cuts::default();
    cuts.cut(&c, &[0, 1, 2], &[3, 4]);
    c.submit(0, &["during-first-cut".to_string()])
        .expect("submit");
    std::thread::sleep(Duration::from_secs(2));
    cuts.cut(&c, &[0, 1], &[2, 3, 4]);
    // No side has 4 of 5 now: nothing more is fully validated (one ledger already in flight
    // may still finish), and certainly not two ledgers at one sequence.
    std::thread::sleep(Duration::from_millis(500));
    let top = |c: &LocalCluster| {
        all.iter()
            .map(|&i| c.validated_seq(i).unwrap_or(0))
            .max()
            .unwrap_or(0)
    };
    let split_at = top(&c);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        top(&c) <= split_at + 1,
        "validated {} -> {} while no side had a quorum: the partition did not hold",
        split_at,
        top(&c)
    );
    cuts.heal(&c, &[0, 1, 2], &[3, 4]);
    std::thread::sleep(Duration::from_secs(2));
    let before = top(&c);
    cuts.heal(&c, &[0, 1], &[2, 3, 4]);
    assert!(cuts.0.is_empty());
    let healed = Instant::now();

    wait(
        &c,
        "all five to fully validate new ledgers after the heal",
        30,
        |c| c.min_validated(&all) >= before + 2,
    );
    let took = healed.elapsed();
    let probe = vec!["after-heal".to_string()];
    c.submit(3, &probe).expect("submit");
    wait(&c, "the probe in every node's validated ledgers", 20, |c| {
        all.iter().all(|&i| c.validated_txs(i).contains(&probe[0]))
    });
    assert_eq!(c.forks(&all), Vec::<u32>::new());
    eprintln!("validating again {took:?} after the last heal");
}
