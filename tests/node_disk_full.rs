//! A full disk under a running validator: one node of five is restarted unable to grow its files
//! (`ulimit -f`, as when the disk fills) while transactions keep arriving. It must say so
//! clearly, count it where an operator looks (status and metrics), stop signing validations it
//! could not persist, keep running, and lose nothing: once restarted with room again, its store
//! opens, every ledger it reported before is there unaltered, and it rejoins. The other four
//! (exactly the 80 % quorum) keep validating throughout.

#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;
use cpeers::storage::store::FILE_NAME;

fn store_errors(c: &LocalCluster, i: usize) -> u64 {
    c.status(i)
        .and_then(|s| s["store_errors"].as_u64())
        .unwrap_or(0)
}

#[test]
fn a_full_disk_is_reported_and_loses_no_ledger() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let n = 5;
    let full = 4;
    let others: Vec<usize> = (0..n - 1).collect();
    let all: Vec<usize> = (0..n).collect();
    let mut c = LocalCluster::start(bin, "diskfull", n, Profile::Fast).expect("cluster");
    assert!(
        c.wait_for(Duration::from_secs(60), |c| c.min_validated(&all) >= 3),
        "the cluster did not start\n{}",
        c.tails()
    );

    // Restart the victim with a file-size ceiling a little above its store's current size.
    c.kill(full);
    let store = c.nodes[full].dir.join("data").join(FILE_NAME);
    let size = std::fs::metadata(&store).expect("store file").len();
    let before = c.reported(full).len();
    c.start_node_with_file_limit(full, size + (256 << 10))
        .expect("restart with a full disk");

    // Fill it: big transactions into every node until the victim's store refuses to grow.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut k = 0u64;
    while store_errors(&c, full) == 0 {
        assert!(
            Instant::now() < deadline,
            "the full disk never showed as a store error\n{}",
            c.tails()
        );
        let txs: Vec<String> = (0..50)
            .map(|j| format!("fill-{k}-{j}-{}", "x".repeat(900)))
            .collect();
        let _ = c.submit((k as usize) % n, &txs);
        k += 1;
        std::thread::sleep(Duration::from_millis(100));
    }

    // Clear, counted, and the node is still up answering.
    let out = std::fs::read_to_string(c.nodes[full].dir.join("stdout.txt")).unwrap_or_default();
    assert!(
        out.contains("warning: cannot store") || out.contains("warning: cannot persist"),
        "no clear store error on the node's terminal:\n{out}"
    );
    assert!(!out.contains("panicked"), "the node panicked:\n{out}");
    let warning = out
        .lines()
        .find(|l| l.starts_with("warning: cannot"))
        .unwrap_or_default();
    eprintln!("the node said: {warning}");
    // EFBIG is what a file-size limit gives; a full disk gives ENOSPC through the same path.
    assert!(
        warning.contains("File too large") || warning.contains("No space left"),
        "the warning does not say why: {warning}"
    );
    assert!(
        c.status(full).is_some(),
        "the node stopped answering after the disk filled"
    );

    // The other four keep validating.
    let at = c.min_validated(&others);
    assert!(
        c.wait_for(Duration::from_secs(30), |c| c.min_validated(&others)
            >= at + 5),
        "the healthy quorum stalled while one node's disk was full\n{}",
        c.tails()
    );

    // Room again: restart normally. Nothing reported is lost; it catches up and validates.
    c.kill(full);
    c.start_node(full).expect("restart with room");
    let target = c.min_validated(&others) + 3;
    assert!(
        c.wait_for(Duration::from_secs(60), |c| c
            .validated_seq(full)
            .is_some_and(|s| s >= target)),
        "the node did not rejoin after the disk had room again\n{}",
        c.tails()
    );
    let checked = c
        .check_reported_kept(full)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        checked > before,
        "the node reported nothing new after it had room again"
    );
    assert_eq!(c.forks(&all), Vec::<u32>::new());
}
