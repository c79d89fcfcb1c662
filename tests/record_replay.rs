//! The flight recorder and replay: a simulated scenario with disputes (and one with a crash and
//! restart) recorded node by node replays to exactly the recorded ledgers and dispute flips; a
//! doctored recording is caught at the first differing event; a damaged or truncated one is
//! reported clearly and replays up to the damage; real node processes record what they did;
//! `cpeers replay --check` and `cpeers export` work on the files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::{Hash256, Profile};
use cpeers::record::format::{Entry, Mark};
use cpeers::record::replay::StepKind;
use cpeers::record::{self, Timeline, reader};
use cpeers::sim::{Scenario, Simulation};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cpeers-rec-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `scenario` recording every node; returns the recordings' directory and the report.
fn record_scenario(scenario: &str, dir: &Path) -> cpeers::sim::Report {
    let sc = Scenario::load(Path::new(&format!("tests/scenarios/{scenario}.toml"))).unwrap();
    let mut sim = Simulation::new(sc);
    sim.record_to(dir).unwrap();
    sim.run()
}

/// What the recording itself says: ledgers fully validated and dispute votes cast or flipped.
fn recorded(t: &Timeline) -> (Vec<(u32, Hash256)>, usize) {
    let mut validated = Vec::new();
    let mut votes = 0;
    for s in &t.steps {
        if let StepKind::Input { recorded, .. } = &s.kind {
            for m in &recorded.marks {
                match m {
                    Mark::FullyValidated { seq, hash } => validated.push((*seq, *hash)),
                    Mark::Vote { .. } => votes += 1,
                    _ => {}
                }
            }
        }
    }
    (validated, votes)
}

fn report_validated(report: &cpeers::sim::Report, node: &str) -> Vec<(u32, String)> {
    report
        .nodes
        .iter()
        .find(|n| n.id == node)
        .unwrap()
        .ledgers
        .iter()
        .filter(|l| l.fully_validated)
        .map(|l| (l.seq, l.hash.clone()))
        .collect()
}

#[test]
fn a_recorded_scenario_with_disputes_replays_to_the_same_ledgers_and_flips() {
    let dir = scratch("disputes");
    let report = record_scenario("slow_peers", &dir);
    let mut flips_seen = 0;
    for node in ["slow0", "slow1", "fast0", "fast1", "fast2", "fast3"] {
        let t = record::open(&dir.join(format!("{node}.rec"))).unwrap();
        assert_eq!(t.damage, None);
        assert_eq!(t.header.name, node);
        let (validated, votes) = recorded(&t);
        let r = record::check(t.clone());
        assert!(r.reproduced(), "{node}: {}", r.mismatch.unwrap());
        assert_eq!(r.validated, validated, "{node}: validated ledgers differ");
        assert_eq!(r.flips, votes, "{node}: dispute votes differ");
        // ... and the recording holds what the simulated node actually validated.
        let from_report = report_validated(&report, node);
        let replayed: Vec<(u32, String)> = r
            .validated
            .iter()
            .map(|(s, h)| (*s, h.to_string()))
            .collect();
        assert_eq!(replayed, from_report, "{node}");
        assert!(!replayed.is_empty(), "{node} validated nothing");
        flips_seen += votes;
    }
    assert!(flips_seen > 0, "the scenario was chosen for its disputes");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_crash_and_restart_replays_through_the_restart_checkpoint() {
    let dir = scratch("restart");
    let sc = Scenario::load(Path::new("tests/scenarios/crashed_validator.toml")).unwrap();
    let restarted: Vec<String> = sc.nodes.iter().map(|n| n.name.clone()).collect();
    let report = record_scenario("crashed_validator", &dir);
    let mut restores = 0;
    for node in &restarted {
        let t = record::open(&dir.join(format!("{node}.rec"))).unwrap();
        restores += t.index.restores.len() - 1;
        let r = record::check(t);
        assert!(r.reproduced(), "{node}: {}", r.mismatch.unwrap());
        let from_report: BTreeSet<(u32, String)> =
            report_validated(&report, node).into_iter().collect();
        for (s, h) in &r.validated {
            assert!(
                from_report.contains(&(*s, h.to_string())),
                "{node} ledger {s}"
            );
        }
    }
    assert!(restores > 0, "the scenario restarts a node");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_doctored_recording_is_caught_at_the_first_differing_event() {
    let dir = scratch("doctored");
    record_scenario("slow_peer", &dir);
    let path = dir.join("fast0.rec");
    let mut loaded = reader::read(&path).unwrap();
    // Claim a different hash for the first ledger the node built.
    let (entry, _) = loaded
        .entries
        .iter_mut()
        .enumerate()
        .find_map(|(i, e)| match e {
            Entry::Outcome(o) => o
                .marks
                .iter_mut()
                .find_map(|m| match m {
                    Mark::Accepted { hash, .. } => Some(hash),
                    _ => None,
                })
                .map(|h| {
                    *h = Hash256([9; 32]);
                    (i, ())
                }),
            _ => None,
        })
        .expect("the node built a ledger");
    std::fs::write(&path, reader::to_bytes(&loaded.entries).unwrap()).unwrap();
    let r = record::check(record::open(&path).unwrap());
    let m = r.mismatch.expect("the doctored ledger is noticed");
    assert_eq!(m.entry, entry - 1, "reported at the input that built it");
    assert!(m.to_string().contains("09090909"), "{m}");
    let out = Command::new(env!("CARGO_BIN_EXE_cpeers"))
        .args(["replay", "--check"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MISMATCH") && text.contains("built ledger"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_or_truncated_recording_replays_up_to_the_damage() {
    let dir = scratch("damaged");
    record_scenario("slow_peer", &dir);
    let path = dir.join("fast1.rec");
    let bytes = std::fs::read(&path).unwrap();
    let whole = record::check(record::open(&path).unwrap());

    // A flipped byte in the middle.
    let mut flipped = bytes.clone();
    let at = bytes.len() / 2;
    flipped[at] ^= 0x40;
    let broken = dir.join("flipped.rec");
    std::fs::write(&broken, &flipped).unwrap();
    let t: Arc<Timeline> = record::open(&broken).unwrap();
    let d = t.damage.clone().expect("damage noticed");
    assert!(d.why.contains("corrupt"), "{d}");
    let r = record::check(t);
    assert!(r.reproduced(), "what was read still matches");
    assert!(
        r.steps > 2 && r.steps < whole.steps,
        "{} of {}",
        r.steps,
        whole.steps
    );

    // Torn off mid-frame, as a killed recorder leaves it.
    let torn = dir.join("torn.rec");
    std::fs::write(&torn, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let t = record::open(&torn).unwrap();
    assert!(t.damage.as_ref().unwrap().why.contains("truncated"));
    assert!(record::check(t).reproduced());

    // The command line says so: exit status 2, the byte offset, and what still replayed.
    let out = Command::new(env!("CARGO_BIN_EXE_cpeers"))
        .args(["replay", "--check", "--json"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reproduced"], true);
    assert!(
        v["damage"].as_str().unwrap().contains("damaged at byte"),
        "{v}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("flipped.rec"), "{stderr}");

    // Not a recording at all: one clear line, no panic.
    let junk = dir.join("junk.rec");
    std::fs::write(&junk, b"ledger 1 2 3").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpeers"))
        .args(["replay", "--check"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a cpeers recording"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_writes_one_row_per_round_dispute_and_proposal() {
    let dir = scratch("export");
    record_scenario("slow_peer", &dir);
    let path = dir.join("slow0.rec");
    let r = record::check(record::open(&path).unwrap());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cpeers"))
            .arg("export")
            .arg(&path)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run(&["--csv", "--table", "rounds"]);
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("seq,prev_ledger,started_at,accepted_at,ledger,result"));
    assert_eq!(lines.count(), r.accepted.len());
    let json: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    let rounds = json["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), r.accepted.len());
    assert_eq!(rounds[0]["ledger"], r.accepted[0].1.to_string());
    let disputes = json["disputes"].as_array().unwrap();
    assert!(!disputes.is_empty());
    assert!(
        disputes
            .iter()
            .all(|d| d["tx"].as_str().unwrap().len() == 64)
    );
    let proposals = json["proposals"].as_array().unwrap();
    assert!(proposals.iter().any(|p| p["ours"] == true));
    assert!(proposals.iter().any(|p| p["ours"] == false));
    // All three tables into a directory.
    let out_dir = dir.join("tables");
    let out = Command::new(env!("CARGO_BIN_EXE_cpeers"))
        .arg("export")
        .arg(&path)
        .args(["--csv", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    for t in ["rounds", "disputes", "proposals"] {
        assert!(out_dir.join(format!("{t}.csv")).exists(), "{t}.csv");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Real node processes with `--record`: the recording replays to exactly the ledgers the node
/// stored, even though the node was killed with SIGKILL mid-write.
#[test]
fn a_killed_node_recording_replays_to_the_ledgers_it_stored() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let mut c =
        LocalCluster::start_with_args(bin, "record", 3, Profile::Fast, &["--record", "flight.rec"])
            .expect("cluster starts");
    let all = [0, 1, 2];
    assert!(
        c.wait_for(Duration::from_secs(30), |c| c.min_validated(&all) >= 6),
        "no progress\n{}",
        c.tails()
    );
    c.submit(0, &["recorded-tx".to_string()]).unwrap();
    assert!(
        c.wait_for(Duration::from_secs(20), |c| c
            .validated_txs(0)
            .contains("recorded-tx")),
        "tx not validated\n{}",
        c.tails()
    );
    let stored = c.validated(0);
    for i in all {
        c.kill(i);
    }
    let t = record::open(&c.nodes[0].dir.join("flight.rec")).unwrap();
    let r = record::check(t);
    assert!(r.reproduced(), "{}", r.mismatch.unwrap());
    let replayed: std::collections::BTreeMap<u32, String> = r
        .validated
        .iter()
        .map(|(s, h)| (*s, h.to_string()))
        .collect();
    for l in &stored {
        assert_eq!(
            replayed.get(&l.seq),
            Some(&l.hash),
            "ledger {} as stored vs as replayed",
            l.seq
        );
    }
}
