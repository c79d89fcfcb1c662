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
