//! Architecture rules checked on the source text: the consensus core stays sans-IO and
//! deterministic, and every module says why it exists in a `//!` doc.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Code of a file without comments-only lines (docs may mention what the code must not use).
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            !(t.starts_with("//") || t.starts_with("*"))
        })
        .map(|(i, l)| (i + 1, l))
        .collect()
}

#[test]
fn consensus_core_does_no_io_and_reads_no_clock_or_entropy() {
    let forbidden = [
        "tokio",
        "libp2p",
        "ratatui",
        "crossterm",
        "std::net",
        "std::fs",
        "std::thread",
        "std::process",
        "Instant::now",
        "SystemTime",
        "thread_rng",
        "rand::",
        "OsRng",
        "getrandom",
        "println!",
        "eprintln!",
    ];
    let mut bad = Vec::new();
    for f in rust_files(&src().join("consensus")) {
        let text = fs::read_to_string(&f).unwrap();
        for (n, line) in code_lines(&text) {
            for word in forbidden {
                if line.contains(word) {
                    bad.push(format!("{}:{n}: uses `{word}`", f.display()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the consensus core must stay sans-IO:\n{}",
        bad.join("\n")
    );
}

#[test]
fn simulator_is_deterministic_by_construction() {
    // The simulator may use a seeded RNG, but never a clock or OS entropy.
    let forbidden = [
        "Instant::now",
        "SystemTime",
        "thread_rng",
        "OsRng",
        "getrandom",
        "std::thread",
    ];
    let mut bad = Vec::new();
    for f in rust_files(&src().join("sim")) {
        let text = fs::read_to_string(&f).unwrap();
        for (n, line) in code_lines(&text) {
            for word in forbidden {
                if line.contains(word) {
                    bad.push(format!("{}:{n}: uses `{word}`", f.display()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the simulator must be reproducible:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let mut bad = Vec::new();
    for f in rust_files(&src()) {
        let text = fs::read_to_string(&f).unwrap();
        if !text.trim_start().starts_with("//!") {
            bad.push(f.display().to_string());
        }
    }
    assert!(
        bad.is_empty(),
        "modules without a `//!` doc:\n{}",
        bad.join("\n")
    );
}

/// Lines of the files under `src/<dir>` that mention any of `words` (outside comments and the
/// unit tests at the end of a file, which may borrow fixtures from anywhere).
fn mentions(dir: &str, words: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    for f in rust_files(&src().join(dir)) {
        let text = fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code_lines(code) {
            for word in words {
                if line.contains(word) {
                    bad.push(format!("{}:{n}: uses `{word}`", f.display()));
                }
            }
        }
    }
    bad
}

#[test]
fn the_contract_knows_no_libp2p_and_does_no_io() {
    // Everything that draws a node or scripts against it reads these types: peer ids and
    // addresses are strings, and nothing here opens a socket or a file.
    let bad = mentions(
        "contract",
        &[
            "libp2p",
            "tokio",
            "std::fs",
            "std::net",
            "crate::node",
            "crate::tui",
        ],
    );
    assert!(
        bad.is_empty(),
        "the contract must stay plain data:\n{}",
        bad.join("\n")
    );
}

#[test]
fn node_events_are_built_in_one_place_and_the_layers_do_not_loop() {
    // The node does not reach up into the simulator (the demo hands it byzantine behaviour
    // through `node::Outbound`), and playback does not reach into the node: both build node
    // events with `contract::build`.
    let node_to_sim = mentions("node", &["crate::sim", "sim::scenario", "sim::byzantine"]);
    assert!(
        node_to_sim.is_empty(),
        "node imports sim:\n{}",
        node_to_sim.join("\n")
    );
    let record_to_node = mentions("record", &["crate::node"]);
    assert!(
        record_to_node.is_empty(),
        "record imports node:\n{}",
        record_to_node.join("\n")
    );
    for dir in ["node", "record"] {
        let uses = mentions(dir, &["build::input_event", "build::output_event"]);
        assert!(
            !uses.is_empty(),
            "src/{dir} builds node events without contract::build"
        );
    }
    let made = [
        "NodeEvent::Proposal {",
        "NodeEvent::Validation {",
        "LedgerSummary::of",
        "AcceptedSummary::of",
    ];
    let elsewhere: Vec<String> = mentions("node", &made)
        .into_iter()
        .chain(mentions("record", &made))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "node events from engine inputs and outputs are built by contract::build only:\n{}",
        elsewhere.join("\n")
    );
}
