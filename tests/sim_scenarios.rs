//! The shipped scenarios (tests/scenarios/*.toml) run through the simulator, each checked for
//! the behaviour rippled's own consensus tests expect of it.

use std::collections::BTreeSet;
use std::path::Path;

use cpeers::sim::{Report, Scenario, Simulation, StopReason};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(name: &str) -> Report {
    Simulation::new(scenario(name)).run()
}

fn assert_agreed(r: &Report) {
    assert!(
        r.synchronized,
        "{} not synchronized:\n{}",
        r.scenario,
        r.summary()
    );
    assert_eq!(r.forks, 0, "{} forked:\n{}", r.scenario, r.summary());
    assert_eq!(r.branches, 1, "{} branched:\n{}", r.scenario, r.summary());
}

fn txs_of(r: &Report, node: &str, seq: u32) -> BTreeSet<String> {
    let n = r.node(node).unwrap_or_else(|| panic!("no node {node}"));
    let l = n.validated_at(seq).unwrap_or_else(|| {
        panic!(
            "{node} has no fully validated ledger {seq}:\n{}",
            r.summary()
        )
    });
    l.txs.iter().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// rippled testStandalone: a lone validator puts its transaction in ledger 1.
#[test]
fn standalone_validator_puts_its_tx_in_ledger_1() {
    let r = run("standalone");
    assert_agreed(&r);
    assert_eq!(txs_of(&r, "a0", 1), set(&["tx-standalone"]));
    assert!(r.node("a0").unwrap().pending_txs.is_empty());
}

/// rippled testPeersAgree: five validators, all five transactions in ledger 1 everywhere.
#[test]
fn five_peers_agree_on_every_transaction() {
    let r = run("peers_agree");
    assert_agreed(&r);
    let all = set(&["pay-0", "pay-1", "pay-2", "pay-3", "pay-4"]);
    for n in &r.nodes {
        assert_eq!(txs_of(&r, &n.id, 1), all, "{}", n.id);
        let first = n.validated_at(1).unwrap();
        assert_eq!(first.result, "yes");
        assert_eq!(first.proposers, 4, "{} saw the other four propose", n.id);
        assert!(n.last_validated().unwrap().seq >= 3);
    }
}

/// Safety after a short run that stops while slow nodes may still be catching up (they are not
/// "synchronized" at that instant): no fork, one branch, and every node fully validated the
/// same ledger 1.
fn assert_same_ledger_1(r: &Report) {
    assert_eq!(r.forks, 0, "{} forked:\n{}", r.scenario, r.summary());
    assert_eq!(r.branches, 1, "{} branched:\n{}", r.scenario, r.summary());
    let hashes: BTreeSet<&str> = r
        .nodes
        .iter()
        .filter_map(|n| n.validated_at(1).map(|l| l.hash.as_str()))
        .collect();
    assert_eq!(hashes.len(), 1, "{}", r.summary());
}

/// A transaction left out of ledger 1 is not lost: it is still pending on `node`, or in a later
/// ledger `node` built or adopted.
fn assert_pending_or_later(r: &Report, node: &str, tx: &str) {
    let n = r.node(node).unwrap();
    let later = n
        .ledgers
        .iter()
        .any(|l| l.seq > 1 && l.txs.iter().any(|t| t == tx));
    assert!(
        later || n.pending_txs.iter().any(|t| t == tx),
        "{node} lost {tx}:\n{}",
        r.summary()
    );
}

/// rippled testSlowPeers (1 of 5 slow): the slow peer's transaction misses ledger 1 and stays
/// pending (or goes into a later ledger) on every node; the others are in. The run stops once
/// everyone fully validated ledger 1, which the slow peer reaches by adopting the others'
/// ledger (rippled's wrong-ledger path), so it is not asserted to be on their last closed one.
#[test]
fn one_slow_peer_is_left_out_and_stays_pending() {
    let r = run("slow_peer");
    assert_same_ledger_1(&r);
    for n in &r.nodes {
        assert_eq!(
            txs_of(&r, &n.id, 1),
            set(&["fast-0", "fast-1", "fast-2", "fast-3"]),
            "{}",
            n.id
        );
        assert_pending_or_later(&r, &n.id, "slow-0");
    }
}

/// rippled testSlowPeers (2 of 6 slow): both slow transactions miss ledger 1.
#[test]
fn two_slow_peers_are_left_out_and_stay_pending() {
    let r = run("slow_peers");
    assert_same_ledger_1(&r);
    for n in &r.nodes {
        let txs = txs_of(&r, &n.id, 1);
        assert_eq!(txs, set(&["fast-0", "fast-3", "fast-all"]), "{}", n.id);
        assert_pending_or_later(&r, &n.id, "slow-0");
        assert_pending_or_later(&r, &n.id, "slow-1");
    }
}

/// rippled testCloseTimeDisagree: clocks 0/+10/+20 s apart; ledger 1 records the
/// agree-to-disagree close time and everyone is still on it.
#[test]
fn skewed_clocks_agree_to_disagree_on_close_time() {
    let r = run("close_time_disagree");
    assert_agreed(&r);
    let hashes: BTreeSet<&str> = r
        .nodes
        .iter()
        .map(|n| n.validated_at(1).unwrap().hash.as_str())
        .collect();
    assert_eq!(hashes.len(), 1);
    for n in &r.nodes {
        let l = n.validated_at(1).unwrap();
        assert!(
            !l.close_time_agreed,
            "{} ledger 1 should not agree on close time",
            n.id
        );
        assert_eq!(l.txs.len(), 3);
    }
}

/// A partitioned minority builds ledgers nobody validates, then switches to the majority's
/// chain; its own transaction still makes it in after the heal.
#[test]
fn minority_on_the_wrong_ledger_switches_to_the_majority() {
    let r = run("wrong_ledger");
    assert_agreed(&r);
    let majority = r.node("majority0").unwrap();
    let final_chain: BTreeSet<&str> = majority
        .ledgers
        .iter()
        .filter(|l| l.fully_validated)
        .map(|l| l.hash.as_str())
        .collect();
    for id in ["minority0", "minority1"] {
        let n = r.node(id).unwrap();
        let abandoned: Vec<_> = n
            .ledgers
            .iter()
            .filter(|l| {
                l.result == "yes" && !l.fully_validated && !final_chain.contains(l.hash.as_str())
            })
            .collect();
        assert!(!abandoned.is_empty(), "{id} never built a wrong ledger");
        assert!(
            n.ledgers.iter().any(|l| l.result == "acquired"),
            "{id} never adopted the majority's ledgers"
        );
        assert_eq!(
            n.last_validated().unwrap().hash,
            majority.last_validated().unwrap().hash
        );
        assert!(
            n.pending_txs.is_empty(),
            "{id} still has {:?} pending",
            n.pending_txs
        );
    }
    for l in majority.ledgers.iter() {
        assert_eq!(l.result, "yes", "the majority never switched");
    }
    let all_validated: BTreeSet<String> = majority
        .ledgers
        .iter()
        .filter(|l| l.fully_validated)
        .flat_map(|l| l.txs.clone())
        .collect();
    assert!(all_validated.contains("minority-only"));
    assert!(all_validated.contains("majority-only"));
}

/// rippled testFork: six of ten shared between two UNLs stays one branch.
#[test]
fn high_unl_overlap_stays_one_branch() {
    let r = run("unl_overlap_high");
    assert_agreed(&r);
}

/// rippled testFork with little overlap: at most three branches (one per clique and one for
/// the shared nodes), as rippled's own test bounds it.
#[test]
fn low_unl_overlap_forks_at_most_into_three_branches() {
    let r = run("unl_overlap_low");
    assert!(r.branches <= 3, "{}", r.summary());
}

/// rippled testHubNetwork: validators linked only through a non-validating hub still agree.
#[test]
fn validators_linked_only_through_a_hub_agree() {
    let r = run("hub_network");
    assert_agreed(&r);
    let hub = r.node("hub0").unwrap();
    assert!(!hub.validator);
    assert_eq!(hub.mode, "observing");
    let late: BTreeSet<String> = r
        .node("v0")
        .unwrap()
        .ledgers
        .iter()
        .filter(|l| l.fully_validated)
        .flat_map(|l| l.txs.clone())
        .collect();
    assert!(
        late.contains("late-from-v3"),
        "v3's transaction crossed the hub"
    );
}

fn validated_seq(sim: &Simulation, node: &str) -> u32 {
    sim.engine(node).unwrap().fully_validated().seq()
}

/// Four of five validators are exactly the quorum: they keep validating while one is down;
/// the crashed one resumes from its persisted ledgers and catches up.
#[test]
fn crashed_validator_misses_nothing_and_catches_up() {
    let sc = scenario("crashed_validator");
    let mut sim = Simulation::new(sc);
    assert_eq!(sim.run_until(8_500), None);
    assert!(!sim.is_live("a4"));
    let at_crash = validated_seq(&sim, "a0");
    assert_eq!(sim.run_until(39_000), None);
    let before_restart = validated_seq(&sim, "a0");
    assert!(
        before_restart >= at_crash + 5,
        "4 of 5 kept validating: {at_crash} -> {before_restart}"
    );
    assert_eq!(sim.run_until_stop(), StopReason::Rounds);
    let r = sim.report_now();
    assert_agreed(&r);
    let a4 = r.node("a4").unwrap();
    assert!(a4.ledgers.iter().any(|l| l.result == "acquired"));
    let built_after: Vec<_> = a4
        .ledgers
        .iter()
        .filter(|l| l.result == "yes" && l.seq > before_restart)
        .collect();
    assert!(
        !built_after.is_empty(),
        "a4 takes part again after catching up"
    );
    let validated: BTreeSet<String> = a4
        .ledgers
        .iter()
        .filter(|l| l.fully_validated)
        .flat_map(|l| l.txs.clone())
        .collect();
    assert!(validated.contains("while-a4-is-down"));
}

/// A 5/5 split: no side has 80 % of the UNL, so nothing is fully validated during the split and
/// nothing forks; after healing the network converges and moves on.
#[test]
fn partition_without_quorum_stalls_safely_then_heals() {
    let sc = scenario("partition_no_quorum");
    let mut sim = Simulation::new(sc);
    // Let validations already in flight at the cut (t = 10 s) land.
    assert_eq!(sim.run_until(13_000), None);
    let names: Vec<String> = sim
        .scenario()
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let during: Vec<u32> = names.iter().map(|n| validated_seq(&sim, n)).collect();
    let built_before: Vec<u32> = names
        .iter()
        .map(|n| sim.engine(n).unwrap().last_closed().seq())
        .collect();
    assert_eq!(sim.run_until(59_900), None);
    for (i, n) in names.iter().enumerate() {
        assert_eq!(
            validated_seq(&sim, n),
            during[i],
            "{n} fully validated during the split"
        );
        assert!(
            sim.engine(n).unwrap().last_closed().seq() > built_before[i],
            "{n} kept building (unvalidated) ledgers"
        );
    }
    assert_eq!(sim.report_now().forks, 0);
    assert_eq!(sim.run_until_stop(), StopReason::Rounds);
    let r = sim.report_now();
    assert_agreed(&r);
    let last = r.node("left0").unwrap().last_validated().unwrap().seq;
    assert!(last > during[0] + 5);
}

/// One equivocating validator among ten: detected, not counted, no honest ledger affected.
#[test]
fn equivocator_changes_no_honest_ledger() {
    let sc = scenario("byzantine_equivocator");
    let mut sim = Simulation::new(sc);
    assert_eq!(sim.run_until_stop(), StopReason::Rounds);
    let r = sim.report_now();
    assert_agreed(&r);
    let evil = sim.engine("evil0").unwrap().node_id();
    let detected = (0..9).any(|i| {
        let e = sim.engine(&format!("honest{i}")).unwrap();
        e.peers()
            .stats()
            .get(&evil)
            .is_some_and(|s| s.equivocations > 0)
    });
    assert!(detected, "no honest node noticed the equivocation");
    for n in r.nodes.iter().filter(|n| n.group == "honest") {
        assert!(
            n.pending_txs.is_empty(),
            "{} left {:?} pending",
            n.id,
            n.pending_txs
        );
        for l in &n.ledgers {
            assert!(
                l.fully_validated,
                "{} built ledger {} that was not validated",
                n.id, l.seq
            );
        }
    }
}

/// Same scenario and seed: byte-identical report. Another seed: a different run.
#[test]
fn same_seed_gives_byte_identical_json() {
    let a = run("byzantine_equivocator").to_json();
    let b = run("byzantine_equivocator").to_json();
    assert_eq!(a, b);
    let mut sc = scenario("byzantine_equivocator");
    sc.seed = 99;
    let c = Simulation::new(sc).run().to_json();
    assert_ne!(a, c, "the seed must matter (random payloads differ)");
}

/// Bad scenario files name the file, the line and the key.
#[test]
fn bad_scenarios_point_at_file_line_and_key() {
    let dir = std::env::temp_dir().join(format!("cpeers-bad-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "name = \"x\"\n[[nodes]]\ngroup = \"a\"\ncount = \"five\"\n",
            4,
            "nodes[0].count",
        ),
        (
            "name = \"x\"\n[[nodes]]\ngroup = \"a\"\ncount = 2\n[[submit]]\nat_ms = 0\nto = \"zz\"\ntxs = [\"t\"]\n",
            7,
            "submit[0].to",
        ),
        (
            "name = \"x\"\nprofile = \"turbo\"\n[[nodes]]\ngroup = \"a\"\ncount = 2\n",
            2,
            "profile",
        ),
        (
            "name = \"x\"\n[[nodes]]\ngroup = \"a\"\ncount = 2\n[[faults]]\nkind = \"byzantine\"\nat_ms = 0\nnodes = [\"a0\"]\nbehaviour = \"sneaky\"\n",
            9,
            "faults[0].behaviour",
        ),
    ];
    for (i, (text, line, key)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let err = Scenario::load(&path).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(&format!("bad{i}.toml:{line}:")), "{shown}");
        assert!(shown.contains(&format!("key `{key}`")), "{shown}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn unsafe_pairs(sim: &Simulation) -> Vec<(String, String)> {
    let names: Vec<String> = sim
        .scenario()
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let by_id: std::collections::BTreeMap<_, _> = names
        .iter()
        .map(|n| (sim.engine(n).unwrap().node_id(), n.clone()))
        .collect();
    let mut out = Vec::new();
    for n in &names {
        for c in sim.engine(n).unwrap().unl_overlap() {
            if !c.safe {
                out.push((n.clone(), by_id[&c.validator].clone()));
            }
        }
    }
    out
}

/// Validators announce their UNL; a node warns about every validator its UNL vouches for whose
/// list overlaps its own below the fork-safety bound. Sixty percent overlap (unl_overlap_high)
/// is below it; lists of twenty sharing nineteen are above it.
#[test]
fn unl_overlap_is_checked_against_the_fork_safety_bound() {
    let mut risky = Simulation::new(scenario("unl_overlap_high"));
    risky.run_until_stop();
    let pairs = unsafe_pairs(&risky);
    assert!(
        pairs
            .iter()
            .any(|(a, b)| a.starts_with("aonly") && b.starts_with("bonly")),
        "the 60 % layout was not flagged: {pairs:?}"
    );
    let doc = cpeers::toml_doc::TomlDoc::from_text(
        "safe.toml",
        "name = \"safe\"\nrounds = 3\nmax_time_ms = 60000\n\
         [[nodes]]\ngroup = \"core\"\ncount = 19\n\
         [[nodes]]\ngroup = \"a\"\ncount = 1\ntrusts = [\"core\", \"a\"]\n\
         [[nodes]]\ngroup = \"b\"\ncount = 1\ntrusts = [\"core\", \"b\"]\n",
    );
    let mut safe = Simulation::new(Scenario::parse(&doc).unwrap());
    safe.run_until_stop();
    let a0 = safe.engine("a0").unwrap();
    let b0_id = safe.engine("b0").unwrap().node_id();
    let a_vs_b = a0
        .unl_overlap()
        .find(|c| c.validator == b0_id)
        .expect("a0 checked b0's list (vouched for by the core)");
    assert_eq!((a_vs_b.overlap, a_vs_b.min_overlap), (19, 19));
    assert_eq!(unsafe_pairs(&safe), Vec::<(String, String)>::new());
}
