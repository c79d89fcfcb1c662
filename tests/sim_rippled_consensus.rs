//! rippled's simulator-level consensus tests (src/test/consensus/Consensus_test.cpp) that
//! tests/sim_scenarios.rs does not cover, run on the cpeers simulator: a restarted validator's
//! way back to FULL, preferred ledger by branch, wrong LCL from a UNL split with late
//! validations, and slow peers that only observe. Each scenario is a file in tests/scenarios/
//! whose header says how it maps onto rippled's test and where it has to differ.

use std::collections::BTreeSet;
use std::path::Path;

use cpeers::consensus::engine::ServerState;
use cpeers::sim::{NodeReport, Report, Scenario, Simulation, StopReason};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
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

fn node<'a>(r: &'a Report, id: &str) -> &'a NodeReport {
    r.node(id)
        .unwrap_or_else(|| panic!("no node {id}:\n{}", r.summary()))
}

fn txs_of(r: &Report, id: &str, seq: u32) -> BTreeSet<String> {
    let l = node(r, id)
        .validated_at(seq)
        .unwrap_or_else(|| panic!("{id} has no fully validated ledger {seq}:\n{}", r.summary()));
    l.txs.iter().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Hashes of every ledger `n` fully validated.
fn validated_chain(n: &NodeReport) -> BTreeSet<&str> {
    n.ledgers
        .iter()
        .filter(|l| l.fully_validated)
        .map(|l| l.hash.as_str())
        .collect()
}

/// The names of `n`'s operating-mode changes, oldest first.
fn states(n: &NodeReport) -> Vec<&str> {
    n.state_changes.iter().map(|c| c.state.as_str()).collect()
}

/// Its changes whose reason is a switch to the ledger the trusted validations prefer.
fn switches(n: &NodeReport) -> Vec<&str> {
    n.state_changes
        .iter()
        .filter(|c| c.reason.starts_with("switched to"))
        .map(|c| c.reason.as_str())
        .collect()
}

/// A restarted validator is not a proposer until it is FULL again. No Consensus_test case
/// restarts a peer; this mirrors rippled's NetworkOPs (a server started from its store is not
/// FULL; `beginConsensus` starts a round proposing only when FULL; `endConsensus` takes it
/// CONNECTED/SYNCING -> TRACKING -> FULL once a round ends on the network's ledger), checked
/// through the peers' proposer counts as Consensus_test checks `prevProposers`. a4 of five
/// crashes at 8 s and restarts from its store at 30 s. Its `state_changes` show the way back:
/// DISCONNECTED (restarted), SYNCING (peers again; rippled's `setMode` turns CONNECTED into
/// SYNCING while the validated ledger is under a minute old), TRACKING, FULL. The others count
/// it among the proposers of no ledger up to the one on which it became FULL, and of every
/// ledger after.
#[test]
fn restarted_validator_is_not_a_proposer_until_full() {
    let sc = scenario("restarted_validator");
    let restart_ms = sc.faults[0].until_ms.expect("the crash ends");
    let others = ["a0", "a1", "a2", "a3"];
    let mut sim = Simulation::new(sc);
    assert_eq!(sim.run_until(restart_ms), None);
    assert!(sim.is_live("a4"), "a4 restarted at {restart_ms} ms");
    let a4 = sim.engine("a4").unwrap();
    assert_ne!(a4.server_state(), ServerState::Full, "a4 restarted FULL");
    let seq_at_restart = sim.engine("a0").unwrap().last_closed().seq();

    // Step until a4 is FULL again; the ledger it is on then is the last it did not propose on.
    let mut t = restart_ms;
    while sim.engine("a4").unwrap().server_state() != ServerState::Full {
        t += 100;
        assert!(
            t <= restart_ms + 30_000,
            "a4 not FULL 30 s after its restart"
        );
        assert_eq!(sim.run_until(t), None);
    }
    let seq_when_full = sim.engine("a4").unwrap().last_closed().seq();
    assert!(
        seq_when_full > seq_at_restart,
        "the others closed no ledger between a4's restart and its return to FULL \
         ({seq_at_restart} -> {seq_when_full}): nothing to check"
    );
    assert_eq!(sim.run_until_stop(), StopReason::Rounds);
    let r = sim.report_now();
    assert_agreed(&r);

    // The path back, exactly as the engine reports it.
    let a4 = node(&r, "a4");
    let restart = a4
        .state_changes
        .iter()
        .position(|c| c.at_ms == restart_ms)
        .unwrap_or_else(|| panic!("no state change at the restart: {:?}", a4.state_changes));
    assert_eq!(
        a4.state_changes[restart].reason,
        "started from the store; catching up"
    );
    let path: Vec<&str> = states(a4)[restart..].to_vec();
    assert_eq!(
        path,
        ["disconnected", "syncing", "tracking", "full"],
        "{:?}",
        &a4.state_changes[restart..]
    );
    assert_eq!(a4.server_state, "proposing");

    // What the others counted: three proposers (not a4) from its restart to its return to
    // FULL, four afterwards.
    for id in others {
        let n = node(&r, id);
        let mut window = 0;
        for l in n.ledgers.iter().filter(|l| l.seq > seq_at_restart) {
            assert_eq!(l.result, "yes", "{id} built ledger {}", l.seq);
            let expected = if l.seq <= seq_when_full { 3 } else { 4 };
            assert_eq!(
                l.proposers, expected,
                "{id} ledger {}: a4 restarted after ledger {seq_at_restart} and was FULL on \
                 ledger {seq_when_full}",
                l.seq
            );
            window += usize::from(l.seq <= seq_when_full);
        }
        assert!(window > 0, "{id} closed no ledger while a4 caught up");
        assert!(n.last_closed.seq > seq_when_full + 1);
    }
}

/// rippled Consensus_test::testPreferredByBranch (see tests/scenarios/preferred_by_branch.toml):
/// abd builds B and D on its own, the C nodes build C (fully validated by cfast alone) and then
/// several different children of C. After the heal D has as many votes as any single C', but
/// C's branch has the support: everyone ends on C's branch, one chain, no fork — abd switches
/// away from its own branch.
#[test]
fn preferred_by_branch() {
    let r = Simulation::new(scenario("preferred_by_branch")).run();
    assert_agreed(&r);

    // C: the ledger 2 cfast built and fully validated before the split (as rippled's fast C
    // node does).
    let cfast = node(&r, "cfast0");
    let c = cfast
        .ledgers
        .iter()
        .find(|l| l.seq == 2)
        .expect("cfast built ledger 2");
    assert_eq!(c.result, "yes");
    assert!(c.fully_validated, "cfast fully validated C");
    assert!(c.txs.is_empty(), "C has none of abd's transactions");

    // Everyone's chain goes through C; no pending transaction is lost.
    for n in &r.nodes {
        assert_eq!(
            n.validated_at(2).map(|l| l.hash.as_str()),
            Some(c.hash.as_str()),
            "{} is not on C's branch:\n{}",
            n.id,
            r.summary()
        );
        assert!(n.pending_txs.is_empty(), "{}: {:?}", n.id, n.pending_txs);
    }

    // The C nodes spread their votes over several different children of C.
    let children: BTreeSet<&str> = r
        .nodes
        .iter()
        .filter(|n| n.group == "csplit")
        .flat_map(|n| n.ledgers.iter())
        .filter(|l| l.seq == 3 && l.result == "yes" && l.parent == c.hash)
        .map(|l| l.hash.as_str())
        .collect();
    assert!(
        children.len() >= 3,
        "the split C nodes built {} different children of C",
        children.len()
    );

    // abd built B and D, which nobody validated, and switched to C's branch.
    for id in ["abd0", "abd1"] {
        let n = node(&r, id);
        let final_chain = validated_chain(n);
        let b = n
            .ledgers
            .iter()
            .find(|l| l.seq == 2 && l.result == "yes")
            .unwrap_or_else(|| panic!("{id} built no ledger 2"));
        assert!(b.txs.contains(&"tx-42".to_string()), "{id}: B holds tx-42");
        assert!(!final_chain.contains(b.hash.as_str()), "{id}: B validated");
        let d = n
            .ledgers
            .iter()
            .find(|l| l.seq == 3 && l.parent == b.hash)
            .unwrap_or_else(|| panic!("{id} built no D on B"));
        assert!(!final_chain.contains(d.hash.as_str()), "{id}: D validated");
        let switched = switches(n);
        assert_eq!(switched.len(), 1, "{id}: {:?}", n.state_changes);
        let support: usize = switched[0]
            .split_whitespace()
            .find_map(|w| w.parse().ok())
            .expect("the switch names its support");
        assert!(
            support > 2,
            "{id} switched to a branch with {support} votes, no more than its own two"
        );
        assert_eq!(states(n).last(), Some(&"full"), "{id}");
    }
}

/// rippled Consensus_test::testWrongLCL (see tests/scenarios/wrong_lcl.toml), both of its runs:
/// validations on time and late. The UNL split makes the minority accept a ledger 2 the
/// network does not have. It then switches, once, to the majority's ledger (its trusted majA
/// validators' branch, 3 of its 5); the majority never switches (rippled: no jumps for the
/// majority, one jump to a different chain for the minority). The minority builds no other
/// wrong ledger, nothing forks, and all end on one chain.
#[test]
fn wrong_lcl_from_unl_split_and_delayed_validations() {
    for late_validations in [false, true] {
        let mut sc = scenario("wrong_lcl");
        if !late_validations {
            sc.faults.clear();
        }
        let r = Simulation::new(sc).run();
        let case = if late_validations { "late" } else { "on time" };
        assert!(r.synchronized, "{case}:\n{}", r.summary());
        assert_eq!(r.forks, 0, "{case}:\n{}", r.summary());
        assert_eq!(r.branches, 1, "{case}:\n{}", r.summary());

        let majority: Vec<&NodeReport> = r.nodes.iter().filter(|n| n.group != "minority").collect();
        let network_2 = majority[0].validated_at(2).expect("ledger 2 validated");
        assert_eq!(
            network_2.txs,
            vec!["tx-1".to_string()],
            "{case}: the majority's ledger 2"
        );
        for n in &majority {
            assert_eq!(n.validated_at(2).map(|l| &l.hash), Some(&network_2.hash));
            assert!(
                n.ledgers.iter().all(|l| l.result == "yes"),
                "{case}: {} jumped ledgers",
                n.id
            );
            assert_eq!(states(n), ["full"], "{case}: {}", n.id);
        }

        for id in ["minority0", "minority1"] {
            let n = node(&r, id);
            let wrong = n
                .ledgers
                .iter()
                .find(|l| l.seq == 2 && l.result == "yes")
                .unwrap_or_else(|| panic!("{case}: {id} built no ledger 2"));
            assert_eq!(wrong.txs, vec!["tx-0".to_string()], "{case}: {id}");
            assert_ne!(
                wrong.hash, network_2.hash,
                "{case}: {id} was not on a wrong LCL"
            );
            assert!(!wrong.fully_validated, "{case}: {id}");

            // One switch, to a ledger of the same sequence on the other chain, which it then
            // fully validated.
            assert_eq!(
                switches(n),
                ["switched to the ledger whose branch 3 of 5 trusted validators support"],
                "{case}: {id}: {:?}",
                n.state_changes
            );
            let adopted = n
                .ledgers
                .iter()
                .find(|l| l.hash == network_2.hash)
                .unwrap_or_else(|| panic!("{case}: {id} never got the network's ledger 2"));
            assert_eq!(adopted.result, "acquired", "{case}: {id}");
            assert!(adopted.fully_validated, "{case}: {id}");

            // Recovered in the next round: everything it built afterwards was validated.
            for l in n.ledgers.iter().filter(|l| l.seq > 2 && l.result == "yes") {
                assert!(
                    l.fully_validated,
                    "{case}: {id} built another wrong ledger {}",
                    l.seq
                );
            }
            assert_eq!(states(n).last(), Some(&"full"), "{case}: {id}");
            assert_eq!(n.last_closed, majority[0].last_closed, "{case}: {id}");
        }
    }
}

/// rippled Consensus_test::testSlowPeers, second case with `isParticipant = false`: the two
/// slow peers observe. rippled expects ledger 1 without the slow transactions on every peer,
/// those transactions still open everywhere, the fast peers counting only each other
/// (`prevProposers == fast.size() - 1`) and the slow observers counting the four fast ones.
///
/// Where cpeers differs: rippled's observers close ledger 1 themselves in step with the fast
/// peers. Here they must fetch the fast peers' transaction set over their 1.1 s links (a 2.2 s
/// round trip), so by then the fast validators have validated ledger 1 and the observers adopt
/// it. The proposer count is checked on the ledgers the observers do build.
#[test]
fn slow_peers_as_observers() {
    let mut sim = Simulation::new(scenario("slow_observers"));
    let fast = ["fast0", "fast1", "fast2", "fast3"];
    let all = ["slow0", "slow1", "fast0", "fast1", "fast2", "fast3"];

    // When the fast validators have fully validated ledger 1, the slow transactions are still
    // pending on every node.
    let mut t = 0;
    while fast
        .iter()
        .any(|n| sim.engine(n).unwrap().fully_validated().seq() < 1)
    {
        t += 100;
        assert!(t <= 20_000, "ledger 1 not validated by 20 s");
        assert_eq!(sim.run_until(t), None);
    }
    for id in all {
        let pending: BTreeSet<String> = sim
            .engine(id)
            .unwrap()
            .pending()
            .iter()
            .map(|tx| tx.text())
            .collect();
        assert!(
            pending.is_superset(&set(&["slow-0", "slow-1"])),
            "{id} at {t} ms: {pending:?}"
        );
    }

    assert_eq!(sim.run_until_stop(), StopReason::Rounds);
    let r = sim.report_now();
    assert_agreed(&r);
    let ledger_1 = node(&r, "fast0").validated_at(1).unwrap().hash.clone();
    for id in all {
        assert_eq!(
            txs_of(&r, id, 1),
            set(&["fast-0", "fast-3", "fast-all"]),
            "{id}"
        );
        assert_eq!(node(&r, id).validated_at(1).unwrap().hash, ledger_1, "{id}");
        assert_eq!(txs_of(&r, id, 2), set(&["slow-0", "slow-1"]), "{id}");
        assert!(node(&r, id).pending_txs.is_empty(), "{id}");
    }
    for id in fast {
        let n = node(&r, id);
        for l in &n.ledgers {
            assert_eq!(l.result, "yes", "{id} ledger {}", l.seq);
            assert_eq!(
                l.proposers, 3,
                "{id} ledger {}: the other fast validators",
                l.seq
            );
        }
        assert_eq!(n.server_state, "proposing", "{id}");
    }
    for id in ["slow0", "slow1"] {
        let n = node(&r, id);
        assert!(!n.validator);
        let built: Vec<_> = n.ledgers.iter().filter(|l| l.result == "yes").collect();
        assert!(!built.is_empty(), "{id} never closed a ledger itself");
        for l in built {
            assert_eq!(
                l.proposers, 4,
                "{id} ledger {}: the four fast validators",
                l.seq
            );
        }
        assert_eq!(n.mode, "observing", "{id}");
        assert_eq!(n.server_state, "full", "{id}");
    }
}
