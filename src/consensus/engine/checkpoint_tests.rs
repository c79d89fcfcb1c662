//! Checkpoints and stand-in keys, checked against simulated networks: an engine restored from
//! a checkpoint (postcard-encoded and decoded) and fed the inputs the original received does
//! exactly what the original did, down to the bytes of its next checkpoint; an engine holding a
//! stand-in key does the same except for the signatures it makes.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::consensus::keys::Sig;
use crate::consensus::tx::Tx;
use crate::sim::runner::{Tap, sim_key};
use crate::sim::{Scenario, Simulation, StopReason};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(format!("{name}.toml"));
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn encode(cp: &EngineCheckpoint) -> Vec<u8> {
    postcard::to_allocvec(cp).expect("a checkpoint always encodes")
}

fn decode(bytes: &[u8]) -> EngineCheckpoint {
    postcard::from_bytes(bytes).expect("a checkpoint we wrote decodes")
}

/// Checkpoints `e`, encodes, decodes and restores it with `key`; the restored engine's own
/// checkpoint must encode to the very same bytes.
fn round_trip(e: &Engine, key: Option<NodeKey>) -> Engine {
    let bytes = encode(&e.checkpoint());
    let restored = Engine::restore(decode(&bytes), key).expect("restores");
    assert!(
        encode(&restored.checkpoint()) == bytes,
        "re-checkpointing a restored engine gives other bytes"
    );
    restored
}

/// Every output `e` has queued, formatted.
fn drain(e: &mut Engine) -> Vec<String> {
    std::iter::from_fn(|| e.poll_output())
        .map(|o| format!("{o:?}"))
        .collect()
}

/// Feeds `inputs` to `e`, draining after each; every output, formatted.
fn feed(e: &mut Engine, inputs: &[(Time, Input)]) -> Vec<String> {
    let mut out = Vec::new();
    for (at, input) in inputs {
        e.handle(*at, input.clone());
        out.extend(drain(e));
    }
    out
}

fn formatted(outputs: &[Output]) -> Vec<String> {
    outputs.iter().map(|o| format!("{o:?}")).collect()
}

/// `s` with every signature (`Sig(1a2b3c4d..)`) blanked out.
fn unsigned(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("Sig(") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        rest = &rest[rest.find(')').map_or(rest.len(), |j| j)..];
    }
    out.push_str(rest);
    out
}

fn first_difference(a: &[String], b: &[String]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!("output {i}:\n  {}\n  {}", a[i], b[i]),
        None => format!("lengths {} and {}", a.len(), b.len()),
    }
}

/// Runs `sim` to simulated time `t` (or its end), past the scenario's stop condition.
fn run_to(sim: &mut Simulation, t: u64) {
    while let Some(StopReason::Rounds) = sim.run_until(t) {
        if sim.now_ms() >= t {
            break;
        }
    }
}

/// Runs `sim` in small steps until node `name` is in the establish phase with disputes and
/// peer positions; the simulated time then.
fn until_disputed(sim: &mut Simulation, name: &str, limit_ms: u64) -> Option<u64> {
    let mut t = 0;
    while t < limit_ms {
        t += 20;
        run_to(sim, t);
        let e = sim.engine(name)?;
        let disputed = e.disputes().is_some_and(|d| !d.is_empty());
        if e.phase() == Phase::Establish && disputed && !e.info().peer_positions.is_empty() {
            return Some(t);
        }
    }
    None
}

/// The strongest check: a node is checkpointed in the establish phase with live disputes
/// (the slow validator of `slow_peer`, a fast one of `slow_peers`, and a minority node of
/// `wrong_ledger` just after the partition healed); the checkpoint is encoded, decoded and
/// restored twice, once with the real key and once with a stand-in. Fed what the original
/// received for the next 40 s, both emit what the original emitted (the stand-in up to its
/// signatures), show the same `info()`, and end in a state that checkpoints to the original's
/// very bytes.
#[test]
fn mid_round_checkpoint_replays_exactly() {
    for (scenario_name, name, from) in [
        ("slow_peer", "slow0", 0),
        ("slow_peers", "fast0", 0),
        ("wrong_ledger", "minority0", 45_000),
    ] {
        replay_from_mid_round(scenario_name, name, from);
    }
}

fn replay_from_mid_round(scenario_name: &str, name: &str, from: u64) {
    let sc = scenario(scenario_name);
    let seed = sc.seed;
    let index = sc.node_index(name).unwrap();
    let mut sim = Simulation::new(sc);
    run_to(&mut sim, from);
    let at = until_disputed(&mut sim, name, from + 30_000)
        .unwrap_or_else(|| panic!("{name} of {scenario_name} reaches a disputed round"));

    let original = sim.engine(name).unwrap();
    let disputes = original.disputes().map_or(0, |d| d.len());
    assert!(disputes > 0);
    let real_key = sim_key(seed, index);
    let mut restored = round_trip(original, Some(real_key.clone()));
    let mut stand_in = round_trip(original, Some(NodeKey::stand_in(real_key.id())));
    assert_eq!(
        format!("{:?}", restored.info()),
        format!("{:?}", original.info())
    );

    sim.tap(name);
    run_to(&mut sim, at + 40_000);
    let Tap {
        inputs, outputs, ..
    } = sim.take_tap().unwrap();
    assert!(inputs.len() > 50, "only {} inputs", inputs.len());
    let original = sim.engine(name).unwrap();
    assert!(
        original.fully_validated().seq() >= 2,
        "the run went on for a few ledgers"
    );

    let expected = formatted(&outputs);
    assert!(expected.iter().any(|o| o.starts_with("LedgerAccepted")));
    let got = feed(&mut restored, &inputs);
    assert!(got == expected, "{}", first_difference(&got, &expected));
    assert_eq!(
        format!("{:?}", restored.info()),
        format!("{:?}", original.info())
    );
    assert!(encode(&restored.checkpoint()) == encode(&original.checkpoint()));

    let got: Vec<String> = feed(&mut stand_in, &inputs)
        .iter()
        .map(|s| unsigned(s))
        .collect();
    let expected: Vec<String> = expected.iter().map(|s| unsigned(s)).collect();
    assert!(got == expected, "{}", first_difference(&got, &expected));
    assert!(encode(&stand_in.checkpoint()) == encode(&original.checkpoint()));
}

/// Every live node of several scenarios, checkpointed every 1.3 s of simulated time, restores
/// (the consistency checks never refuse a real engine) and re-checkpoints to the same bytes.
#[test]
fn checkpoints_round_trip_throughout_scenarios() {
    for name in [
        "peers_agree",
        "hub_network",
        "wrong_ledger",
        "crashed_validator",
        "byzantine_equivocator",
        "close_time_disagree",
    ] {
        let sc = scenario(name);
        let seed = sc.seed;
        let nodes: Vec<String> = sc.nodes.iter().map(|n| n.name.clone()).collect();
        let end = sc.max_time_ms.min(120_000);
        let mut sim = Simulation::new(sc);
        let mut t = 0;
        let mut checked = 0;
        while t < end {
            t += 1_300;
            run_to(&mut sim, t);
            for (i, node) in nodes.iter().enumerate() {
                if !sim.is_live(node) {
                    continue;
                }
                let e = sim.engine(node).unwrap();
                let restored = round_trip(e, Some(sim_key(seed, i)));
                assert_eq!(
                    format!("{:?}", restored.info()),
                    format!("{:?}", e.info()),
                    "{name} {node} at {t} ms"
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "{name}: only {checked} checkpoints");
    }
}

/// Outputs still queued are part of the state: a genesis engine checkpointed right after
/// `Start`, before anything was drained, gives them back in order after a restore.
#[test]
fn genesis_checkpoint_round_trips_with_queued_outputs() {
    let key = NodeKey::from_secret([3; 32]);
    let cfg = EngineConfig {
        params: ConsensusParams::mainnet(),
        network_id: 4,
        unl: BTreeSet::new(),
        validating: true,
        max_pending: 100,
    };
    let mut fresh = Engine::new(cfg.clone(), Some(key.clone()), StartFrom::Genesis);
    let mut restored = round_trip(&fresh, Some(key.clone()));
    let cp = fresh.checkpoint();
    assert_eq!(cp.node_id(), key.id());
    assert_eq!(cp.ledger_seq(), 0);
    assert_eq!(cp.now(), Time::ZERO);
    assert!(cp.is_validator());

    let start = [(Time(5_000), Input::Start)];
    let mut queued = Engine::new(cfg, Some(key.clone()), StartFrom::Genesis);
    queued.handle(Time(5_000), Input::Start);
    let mut from_queue = round_trip(&queued, Some(key.clone()));
    let expected = feed(&mut fresh, &start);
    assert!(!expected.is_empty());
    assert_eq!(feed(&mut restored, &start), expected);
    assert_eq!(drain(&mut from_queue), expected);
    assert_eq!(drain(&mut queued), expected);

    // A keyless observer restores without a key.
    let observer = Engine::new(
        EngineConfig {
            validating: false,
            ..fresh.config().clone()
        },
        None,
        StartFrom::Genesis,
    );
    let back = round_trip(&observer, None);
    assert_eq!(back.node_id(), NodeId([0; 32]));
    assert!(!back.is_validator());
}

#[test]
fn restore_refuses_another_key_and_a_validator_without_one() {
    let key = NodeKey::from_secret([3; 32]);
    let other = NodeKey::from_secret([4; 32]);
    let cfg = EngineConfig {
        params: ConsensusParams::mainnet(),
        network_id: 4,
        unl: BTreeSet::new(),
        validating: true,
        max_pending: 100,
    };
    let e = Engine::new(cfg.clone(), Some(key.clone()), StartFrom::Genesis);
    let err = Engine::restore(e.checkpoint(), Some(other.clone()))
        .err()
        .unwrap();
    assert_eq!(
        err,
        RestoreError::KeyMismatch {
            checkpoint: key.id(),
            key: other.id()
        }
    );
    let msg = err.to_string();
    assert!(msg.contains(&key.id().to_hex()) && msg.contains(&other.id().to_hex()));
    // Nor a stand-in for another id.
    assert!(matches!(
        Engine::restore(e.checkpoint(), Some(NodeKey::stand_in(other.id()))),
        Err(RestoreError::KeyMismatch { .. })
    ));
    assert_eq!(
        Engine::restore(e.checkpoint(), None).err(),
        Some(RestoreError::MissingKey { node: key.id() })
    );
    // A keyless observer's checkpoint does not take someone's key.
    let observer = Engine::new(
        EngineConfig {
            validating: false,
            ..cfg
        },
        None,
        StartFrom::Genesis,
    );
    assert!(matches!(
        Engine::restore(observer.checkpoint(), Some(key)),
        Err(RestoreError::KeyMismatch { .. })
    ));
}

#[test]
fn inconsistent_or_foreign_checkpoints_are_refused() {
    let sc = scenario("slow_peer");
    let seed = sc.seed;
    let index = sc.node_index("slow0").unwrap();
    let mut sim = Simulation::new(sc);
    until_disputed(&mut sim, "slow0", 30_000).unwrap();
    let cp = sim.engine("slow0").unwrap().checkpoint();
    let key = || Some(sim_key(seed, index));
    assert!(Engine::restore(cp.clone(), key()).is_ok());

    let mut v = cp.clone();
    v.version += 1;
    assert!(matches!(
        Engine::restore(v, key()),
        Err(RestoreError::Version { .. })
    ));
    let mut no_position = cp.clone();
    no_position.result = None;
    let err = Engine::restore(no_position, key()).err().unwrap();
    assert!(err.to_string().contains("establish"), "{err}");
    let mut no_history = cp.clone();
    no_history.ledgers = Default::default();
    assert!(matches!(
        Engine::restore(no_history, key()),
        Err(RestoreError::Inconsistent(_))
    ));
    let mut bad_cache = cp.clone();
    if let Some(r) = bad_cache.result.as_mut() {
        r.membership
            .insert(Hash256::of(&[b"x"]), std::sync::Arc::new(vec![true; 999]));
    }
    assert!(matches!(
        Engine::restore(bad_cache, key()),
        Err(RestoreError::Inconsistent(_))
    ));

    // Damaged bytes fail to decode (or to restore), they never panic.
    let bytes = encode(&cp);
    for i in (0..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        if let Ok(cp) = postcard::from_bytes::<EngineCheckpoint>(&b) {
            let _ = Engine::restore(cp, key());
        }
    }
    assert!(postcard::from_bytes::<EngineCheckpoint>(&bytes[..bytes.len() / 2]).is_err());
}

/// An engine holding `NodeKey::stand_in(real.id())`, fed every input the real node received
/// over a whole run, builds the same ledgers and ends in the same state; only its signatures
/// differ (all zeros), because no ledger hash or engine decision depends on a signature.
#[test]
fn stand_in_key_builds_the_same_ledgers() {
    let sc = scenario("peers_agree");
    let seed = sc.seed;
    let name = "a0";
    let index = sc.node_index(name).unwrap();
    let mut sim = Simulation::new(sc);
    sim.tap(name);
    sim.run_until_stop();
    let tap = sim.take_tap().unwrap();
    let original = sim.engine(name).unwrap();
    let cfg = original.config().clone();

    let real_key = sim_key(seed, index);
    let mut real = Engine::new(cfg.clone(), Some(real_key.clone()), StartFrom::Genesis);
    let mut stand_in = Engine::new(
        cfg,
        Some(NodeKey::stand_in(real_key.id())),
        StartFrom::Genesis,
    );
    let real_out = feed(&mut real, &tap.inputs);
    let expected = formatted(&tap.outputs);
    assert!(
        real_out == expected,
        "{}",
        first_difference(&real_out, &expected)
    );
    let stand_in_out = feed(&mut stand_in, &tap.inputs);
    assert_ne!(stand_in_out, real_out, "the signatures differ");
    let zero = format!("{:?}", Sig([0; 64]));
    assert!(stand_in_out.iter().any(|o| o.contains(&zero)));
    let a: Vec<String> = stand_in_out.iter().map(|s| unsigned(s)).collect();
    let b: Vec<String> = real_out.iter().map(|s| unsigned(s)).collect();
    assert!(a == b, "{}", first_difference(&a, &b));

    assert!(stand_in.is_validator());
    assert_eq!(stand_in.node_id(), real_key.id());
    assert!(real.fully_validated().seq() >= 3);
    let ledgers = |e: &Engine| {
        (1..=e.fully_validated().seq())
            .map(|s| e.ledger_at(s).map(|l| l.hash()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ledgers(&stand_in), ledgers(&real));
    assert_eq!(ledgers(&real), ledgers(original));
    assert_eq!(
        format!("{:?}", stand_in.info()),
        format!("{:?}", real.info())
    );
    assert!(encode(&stand_in.checkpoint()) == encode(&real.checkpoint()));
}

/// Checkpoint sizes (run with `--nocapture` to see them): a node of a 5-validator network in
/// the middle of a round (with disputes in ledger 1, and a few ledgers later), and a lone
/// validator after 256 ledgers of 100 transactions each.
#[test]
fn checkpoint_sizes() {
    let mut sim = Simulation::new(scenario("slow_peer"));
    until_disputed(&mut sim, "slow0", 30_000).unwrap();
    let e = sim.engine("slow0").unwrap();
    let disputed = encode(&e.checkpoint()).len();
    assert!(disputed < 64 * 1024, "{disputed} bytes");

    let mut sim = Simulation::new(scenario("peers_agree"));
    // Mid-round, after a few ledgers.
    let mut t = 20_000;
    run_to(&mut sim, t);
    while sim.engine("a1").unwrap().phase() != Phase::Establish {
        t += 20;
        assert!(t < 100_000);
        run_to(&mut sim, t);
    }
    let e = sim.engine("a1").unwrap();
    let mid = encode(&e.checkpoint()).len();
    assert!(mid < 64 * 1024, "{mid} bytes");

    let key = NodeKey::from_secret([5; 32]);
    let mut e = Engine::new(
        EngineConfig {
            params: ConsensusParams::mainnet(),
            network_id: 4,
            unl: BTreeSet::new(),
            validating: true,
            max_pending: 100_000,
        },
        Some(key.clone()),
        StartFrom::Genesis,
    );
    const T0: i64 = 86_400_000;
    let mut now = T0;
    e.handle(Time(now), Input::Start);
    for round in 1..=256u32 {
        let txs: Vec<Tx> = (0..100)
            .map(|i| Tx::new(format!("round {round:03} tx {i:03} {:>40}", "payload")).unwrap())
            .collect();
        e.handle(Time(now), Input::Command(Command::Submit(txs)));
        while e.fully_validated().seq() < round {
            now += 1_000;
            e.handle(Time(now), Input::Tick);
            assert!(now < T0 + 100_000 * round as i64, "stuck at round {round}");
        }
        while e.poll_output().is_some() {}
    }
    assert!(e.fully_validated().seq() >= 256);
    let full_ledgers = (1..=e.fully_validated().seq())
        .filter(|&s| e.ledger_at(s).is_some_and(|l| l.txs().len() == 100))
        .count();
    assert!(
        full_ledgers >= 200,
        "{full_ledgers} ledgers of 100 transactions held"
    );
    let bytes = encode(&e.checkpoint());
    let restored = Engine::restore(decode(&bytes), Some(key)).unwrap();
    assert!(encode(&restored.checkpoint()) == bytes);
    assert_eq!(
        restored.fully_validated().hash(),
        e.fully_validated().hash()
    );
}
