//! Real `cpeers node` processes on 127.0.0.1 (fast profile): they agree on fully validated
//! ledgers holding every submitted transaction, stop (without forking) when fewer than 80 % of
//! the UNL is up, keep going when exactly 80 % is, and a killed node catches up from its store
//! and its peers after a restart. Every process is killed when a test ends, pass or fail.

use std::path::Path;
use std::time::{Duration, Instant};

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;

fn wait(c: &LocalCluster, what: &str, secs: u64, ok: impl FnMut(&LocalCluster) -> bool) {
    assert!(
        c.wait_for(Duration::from_secs(secs), ok),
        "timed out after {secs} s waiting for {what}\n{}",
        c.tails()
    );
}

fn all_have(c: &LocalCluster, nodes: &[usize], txs: &[String]) -> bool {
    nodes.iter().all(|&i| {
        let have = c.validated_txs(i);
        txs.iter().all(|t| have.contains(t))
    })
}

fn exercise(name: &str, n: usize, progress_without_one: bool) {
    let started = Instant::now();
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let mut c = LocalCluster::start(bin, name, n, Profile::Fast).expect("cluster starts");
    let all: Vec<usize> = (0..n).collect();
    wait(&c, "every node to fully validate ledger 2", 30, |c| {
        c.min_validated(&all) >= 2
    });

    // Transactions submitted to different nodes end up in everyone's validated ledgers.
    let txs: Vec<String> = (0..2 * n).map(|k| format!("{name}-tx-{k}")).collect();
    for (k, t) in txs.iter().enumerate() {
        c.submit(k % n, std::slice::from_ref(t)).expect("submit");
    }
    wait(
        &c,
        "every transaction in every node's validated ledgers",
        20,
        |c| all_have(c, &all, &txs),
    );
    assert_eq!(c.forks(&all), Vec::<u32>::new());

    let victim = n - 1;
    c.kill(victim);
    let rest = c.live();
    std::thread::sleep(Duration::from_millis(800));
    let max_before = rest
        .iter()
        .map(|&i| c.validated_seq(i).unwrap_or(0))
        .max()
        .unwrap_or(0);
    let late = vec![format!("{name}-while-down")];
    c.submit(0, &late).expect("submit");
    if progress_without_one {
        wait(&c, "the remaining 80 % to keep validating", 15, |c| {
            c.min_validated(&rest) >= max_before + 5
        });
        wait(
            &c,
            "the transaction submitted while one node was down",
            15,
            |c| all_have(c, &rest, &late),
        );
    } else {
        std::thread::sleep(Duration::from_secs(3));
        for &i in &rest {
            let now = c.validated_seq(i).unwrap_or(0);
            assert!(
                now <= max_before + 1,
                "n{i} fully validated {now} (was {max_before}) with fewer than 80 % of the UNL up"
            );
        }
    }
    assert_eq!(c.forks(&rest), Vec::<u32>::new());

    c.start_node(victim).expect("restart");
    let target = c.min_validated(&rest) + 3;
    wait(
        &c,
        "the restarted node to catch up and the network to move on",
        30,
        |c| c.min_validated(&all) >= target,
    );
    wait(
        &c,
        "the restarted node to hold every transaction",
        20,
        |c| all_have(c, &all, &late),
    );
    assert_eq!(c.forks(&all), Vec::<u32>::new());
    let log = std::fs::read_to_string(c.nodes[victim].dir.join("logs").join("cpeers.log"))
        .unwrap_or_default();
    assert!(
        log.contains("resuming from the store"),
        "the restarted node did not resume from its store"
    );
    eprintln!("{name}: {n} nodes, done in {:?}", started.elapsed());
}

/// Four validators: killing one leaves 3 of 4, under the 80 % quorum: no progress, no fork;
/// the restarted node catches up.
#[test]
fn four_processes_agree_stall_without_quorum_and_recover() {
    exercise("four", 4, false);
}

/// Five validators: killing one leaves 4 of 5, exactly the quorum: they keep validating.
#[test]
fn five_processes_keep_going_with_four() {
    exercise("five", 5, true);
}
