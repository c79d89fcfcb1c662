//! kill -9 at random moments: real node processes are killed mid-flight (seeded schedule) while
//! the network validates 50 ledgers. After every restart the store opens, and at the end every
//! fully validated ledger a node ever reported (its status lines, printed only after the commit)
//! is still in its store, unaltered and chained to its parent; every node rejoined; nothing
//! forked; and no key material ever reached a log.

use std::path::Path;
use std::time::{Duration, Instant};

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;
use rand::{RngExt, SeedableRng};

const SEED: u64 = 2024;

#[test]
fn random_kill_9_loses_no_reported_ledger() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    // Five validators: one down still leaves the 80 % quorum, so the network keeps validating
    // while a node is dead, and the dead node has to catch up.
    let n = 5;
    let mut c = LocalCluster::start(bin, "crash", n, Profile::Fast).expect("cluster");
    let all: Vec<usize> = (0..n).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut kills = 0;
    while c.min_validated(&all) < 50 {
        assert!(
            Instant::now() < deadline,
            "no 50 ledgers in time after {kills} kills\n{}",
            c.tails()
        );
        std::thread::sleep(Duration::from_millis(rng.random_range(50..900)));
        let victim = rng.random_range(0..n);
        c.kill(victim);
        kills += 1;
        std::thread::sleep(Duration::from_millis(rng.random_range(0..1500)));
        c.start_node(victim).expect("restart");
        // Let it rejoin before the next kill (never two down at once).
        let others: Vec<usize> = all.iter().copied().filter(|&i| i != victim).collect();
        c.wait_for(Duration::from_secs(15), |c| {
            c.validated_seq(victim).unwrap_or(0) + 2 >= c.min_validated(&others)
        });
    }
    eprintln!("50 ledgers validated with {kills} kill -9s (seed {SEED})");
    assert!(kills >= 5, "too few kills to mean anything");
    for i in 0..n {
        let checked = c.check_reported_kept(i).unwrap_or_else(|e| panic!("{e}"));
        assert!(checked >= 20, "n{i} reported only {checked} ledgers");
    }
    assert_eq!(c.forks(&all), Vec::<u32>::new());
    // Keys never reach logs or status output.
    for i in 0..n {
        let dir = &c.nodes[i].dir;
        let key = std::fs::read_to_string(dir.join("validator.key")).unwrap();
        let secret = key
            .split('"')
            .nth(1)
            .expect("secret in key file")
            .to_string();
        let mut texts = vec![std::fs::read_to_string(dir.join("stdout.txt")).unwrap_or_default()];
        for e in std::fs::read_dir(dir.join("logs")).unwrap().flatten() {
            texts.push(std::fs::read_to_string(e.path()).unwrap_or_default());
        }
        for t in texts {
            assert!(!t.contains(&secret), "n{i}'s secret key reached a log");
        }
    }
}
