//! Every decoder of input cpeers does not control — gossip, requests and responses from peers,
//! ledger records read back from disk, the node config, theme and scenario TOML an operator
//! writes, validator key files, admin API requests and the stream frames a dashboard reads — is
//! fed random and mutated inputs here, and must answer each with `Ok` or `Err`: never a panic,
//! never a long stall.
//!
//! Why this exists: a panic in a decoder is a remote crash (wire), a node that cannot restart
//! (records, key file) or a stack trace where a line number was promised (TOML). cargo-fuzz
//! needs nightly, so this is a small, deterministic mutation fuzzer on stable that runs in
//! every `cargo test`, time-boxed:
//!
//! - seeds come from `tests/corpus/<decoder>/` (`ok-*` must decode, `err-*` must be refused,
//!   `crash-*` are inputs that once broke a decoder and are replayed first);
//! - each test replays its corpus, then mutates it (bit flips, byte sets, truncation,
//!   insertion, deletion, slice duplication, splicing two inputs, dictionary tokens, and for
//!   text also deleted quotes and brackets, duplicated lines, and values replaced with huge
//!   numbers, empty strings or deeply nested arrays) until `CPEERS_FUZZ_SECS` (default 2)
//!   seconds have passed; inputs that produce an error message not seen before join the pool;
//! - every call runs under `catch_unwind` and a stopwatch: a panic is minimised and reported
//!   with the input (escaped) and the panic's location, a call slower than [`MAX_CALL`] fails,
//!   and a watchdog reports a call that never returns;
//! - `CPEERS_FUZZ_SEED` picks another (still reproducible) sequence of inputs.
//!
//! Failing inputs are also saved under `target/tmp/fuzz-failures/`; to reproduce one, copy it
//! to `tests/corpus/<decoder>/crash-<what>`: every fuzz run replays crash files first. Seeds made with the
//! library's encoders are written by `CPEERS_WRITE_CORPUS=1 cargo test --test fuzz_decoders
//! write_corpus`. Proptests at the end feed the TOML decoders random UTF-8 and TOML-ish token
//! soup, which proptest shrinks to a minimal failing document.

use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use cpeers::config::{NodeConfig, example};
use cpeers::consensus::proposal::Proposal;
use cpeers::consensus::validation::Validation;
use cpeers::consensus::{ConsensusParams, Hash256, Ledger, NodeKey, Time, Tx, TxSet};
use cpeers::contract::{EventFrame, Frame, NodeEvent, SnapshotFrame, StatusFrame};
use cpeers::net::identity;
use cpeers::net::wire::{self, Gossip, Request, Response, WIRE_VERSION, WireLedger};
use cpeers::sim::Scenario;
use cpeers::storage::record;
use cpeers::toml_doc::TomlDoc;
use cpeers::tui::theme::{STYLE_NAMES, Theme};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The longest one decode may take (debug build, one input of at most [`MAX_INPUT`] bytes).
const MAX_CALL: Duration = Duration::from_millis(200);
/// A call still running after this long is reported as a hang by the watchdog.
const HANG: Duration = Duration::from_secs(5);
/// Default time budget per decoder, in seconds (`CPEERS_FUZZ_SECS`).
const DEFAULT_SECS: f64 = 2.0;
/// Default seed (`CPEERS_FUZZ_SEED`); each decoder mixes its name in.
const DEFAULT_SEED: u64 = 0x6370_6565_7273;
/// Mutated inputs are cut to this length so one call stays cheap.
const MAX_INPUT: usize = 64 << 10;
/// Most inputs kept for further mutation (seeds included).
const MAX_POOL: usize = 1024;

// ---- the decoders ---------------------------------------------------------------------------

/// How inputs of a decoder are mutated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Bytes (postcard): byte-level mutations and binary dictionary tokens.
    Binary,
    /// Text (TOML, key files): byte-level and line/token-level mutations.
    Text,
}

/// One decoder under test.
struct Decoder {
    /// Its corpus directory under `tests/corpus/`.
    name: &'static str,
    kind: Kind,
    /// Decodes one input: `Ok`, or the error's message.
    run: fn(&[u8]) -> Result<(), String>,
    /// Words worth inserting besides those found in the corpus.
    words: &'static [&'static [&'static str]],
}

const GOSSIP: Decoder = Decoder {
    name: "wire_gossip",
    kind: Kind::Binary,
    run: run_gossip,
    words: &[],
};
const REQUEST: Decoder = Decoder {
    name: "wire_request",
    kind: Kind::Binary,
    run: run_request,
    words: &[],
};
const RESPONSE: Decoder = Decoder {
    name: "wire_response",
    kind: Kind::Binary,
    run: run_response,
    words: &[],
};
const RECORD: Decoder = Decoder {
    name: "record",
    kind: Kind::Binary,
    run: run_record,
    words: &[],
};
const CONFIG: Decoder = Decoder {
    name: "config",
    kind: Kind::Text,
    run: run_config,
    words: &[CONFIG_KEYS, CONFIG_WORDS],
};
const THEME: Decoder = Decoder {
    name: "theme",
    kind: Kind::Text,
    run: run_theme,
    words: &[THEME_KEYS, &STYLE_NAMES, THEME_WORDS],
};
const SCENARIO: Decoder = Decoder {
    name: "scenario",
    kind: Kind::Text,
    run: run_scenario,
    words: &[SCENARIO_KEYS, SCENARIO_WORDS],
};
const KEYFILE: Decoder = Decoder {
    name: "keyfile",
    kind: Kind::Text,
    run: run_keyfile,
    words: &[KEYFILE_WORDS],
};

const API_REQUEST: Decoder = Decoder {
    name: "api_request",
    kind: Kind::Text,
    run: run_api_request,
    words: &[API_WORDS],
};
const STREAM_FRAME: Decoder = Decoder {
    name: "stream_frame",
    kind: Kind::Text,
    run: run_stream_frame,
    words: &[FRAME_WORDS],
};

const ALL: [&Decoder; 10] = [
    &GOSSIP,
    &REQUEST,
    &RESPONSE,
    &RECORD,
    &CONFIG,
    &THEME,
    &SCENARIO,
    &KEYFILE,
    &API_REQUEST,
    &STREAM_FRAME,
];

/// A request to the admin API, as `POST /command` and the stream's socket read it.
fn run_api_request(b: &[u8]) -> Result<(), String> {
    cpeers::contract::request::decode(b).map(drop).map_err(|e| {
        let _ = e.kind();
        e.to_string()
    })
}

/// A frame of the stream, as a dashboard reads it (from a node it may not trust to be
/// well-formed: an old or broken one, or something else listening on the port).
fn run_stream_frame(b: &[u8]) -> Result<(), String> {
    cpeers::contract::frame::decode(&text(b))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn run_gossip(b: &[u8]) -> Result<(), String> {
    wire::decode_gossip(b).map(drop).map_err(|e| {
        let _ = e.refusal();
        e.to_string()
    })
}

fn run_request(b: &[u8]) -> Result<(), String> {
    wire::decode_request(b).map(drop).map_err(|e| {
        let _ = e.refusal();
        e.to_string()
    })
}

/// A response, and then its ledgers checked against their headers, as the node does next.
fn run_response(b: &[u8]) -> Result<(), String> {
    match wire::decode_response(b) {
        Ok(Response::Ledgers(ledgers)) => {
            for l in ledgers {
                l.into_ledger().map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Ok(Response::TxSet(_)) => Ok(()),
        Err(e) => {
            let _ = e.refusal();
            Err(e.to_string())
        }
    }
}

fn run_record(b: &[u8]) -> Result<(), String> {
    record::decode(b).map(drop).map_err(|e| e.to_string())
}

/// TOML decoders take text: bytes that are not UTF-8 become U+FFFD (multi-byte characters,
/// which is what byte offsets in error locations have to step over).
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_config(b: &[u8]) -> Result<(), String> {
    let doc = TomlDoc::from_text("fuzz.toml", text(b));
    NodeConfig::parse(&doc, Path::new("/etc/cpeers"))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn run_theme(b: &[u8]) -> Result<(), String> {
    Theme::from_toml("fuzz.toml", &text(b))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn run_scenario(b: &[u8]) -> Result<(), String> {
    Scenario::parse(&TomlDoc::from_text("fuzz.toml", text(b)))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn run_keyfile(b: &[u8]) -> Result<(), String> {
    KEY_FILE.with(|f| f.load(b))
}

thread_local! {
    /// Each thread loads key files from a file of its own.
    static KEY_FILE: KeyFile = KeyFile::new();
}

/// A 0600 file that key file inputs are written to, because `identity::load` reads a path
/// (and checks the file's mode first).
struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    fn new() -> KeyFile {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-keyfile");
        fs::create_dir_all(&dir).unwrap();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{}-{n}.key", std::process::id()));
        KeyFile { path }
    }

    fn load(&self, bytes: &[u8]) -> Result<(), String> {
        write_private(&self.path, bytes);
        match identity::load(&self.path) {
            Ok(_) => Ok(()),
            Err(e) => {
                let message = e
                    .to_string()
                    .replace(&self.path.display().to_string(), "<key file>");
                // The module promises never to quote the file: no run of 8 hex digits of the
                // input may show up in the message (the panic names no digits either).
                for w in bytes.windows(8) {
                    if w.iter().all(u8::is_ascii_hexdigit)
                        && message.as_bytes().windows(8).any(|m| m == w)
                    {
                        panic!("the key file error message quotes hex digits of the file");
                    }
                }
                Err(message)
            }
        }
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Writes `bytes` to `path` with mode 0600 (set again in case the file predates this run).
fn write_private(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.set_permissions(fs::Permissions::from_mode(0o600))
        .unwrap();
    f.write_all(bytes).unwrap();
}

// ---- words the mutator inserts --------------------------------------------------------------

const CONFIG_KEYS: &[&str] = &[
    "network_id",
    "key_file",
    "listen",
    "bootstrap",
    "validator",
    "unl",
    "profile",
    "data_dir",
    "log_dir",
    "admin",
    "mdns",
    "max_peers",
    "max_pending_txs",
    "metrics",
];

const CONFIG_WORDS: &[&str] = &[
    "off",
    "fast",
    "mainnet",
    "127.0.0.1:0",
    "[::1]:65535",
    "127.0.0.1:65536",
    "0.0.0.0:1",
    "/ip4/127.0.0.1/tcp/0",
    "/ip6/::1/tcp/1",
    "/ip6/::ffff:1.2.3.4/udp/1/quic-v1",
    "/dns/example.org/tcp/1",
    "/dnsaddr/example.org",
    "/unix/%2Ftmp%2Fsock",
    "/memory/18446744073709551615",
    "/ip6zone/x/ip6/fe80::1",
    "/ip4/1.2.3.4/tcp/1/ws/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5",
    "/ip4/1.2.3.4/tcp/1/tls/sni/example.org/ws",
    "/ip4/1.2.3.4/udp/1/quic-v1/webtransport/certhash/uEiAkH5a4DPGKUuOBjYw0CgwjvcJCJMD2K_1aluKR_tpevQ",
    "/onion3/vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd:1234",
    "/garlic64/",
    "/p2p-circuit/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq",
    "/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
    "/http-path/a%2Fb",
    "12D3KooW",
    "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq",
    "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
    "0202020202020202020202020202020202020202020202020202020202020202",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

const API_WORDS: &[&str] = &[
    "\"cmd\"",
    "\"id\"",
    "\"submit\"",
    "\"propose\"",
    "\"vote\"",
    "\"dispute\"",
    "\"peer\"",
    "\"composer\"",
    "\"txs\"",
    "\"tx\"",
    "\"node\"",
    "\"close_time\"",
    "\"yes\"",
    "\"release\"",
    "18446744073709551616",
    "-1",
    "1e400",
    "[255, 0, 256]",
    "\"abababababababababababababababababababababababababababababababab\"",
    "null",
];

const FRAME_WORDS: &[&str] = &[
    "\"seq\"",
    "\"type\"",
    "\"snapshot\"",
    "\"status\"",
    "\"event\"",
    "\"reply\"",
    "\"kind\"",
    "\"ledger_validated\"",
    "\"consensus_batch\"",
    "\"history\"",
    "\"node\"",
    "\"close_times\"",
    "{\"1\": 2}",
    "18446744073709551616",
    "null",
];

const THEME_KEYS: &[&str] = &["name", "extends", "styles", "fg", "bg", "modifiers"];

const THEME_WORDS: &[&str] = &[
    "default",
    "light",
    "high-contrast",
    "mono",
    "reset",
    "dark_gray",
    "light_magenta",
    "Dark-Grey",
    "blu",
    "#3465a4",
    "#zzzzzz",
    "#12345",
    "#",
    "#ééé",
    "bold",
    "dim",
    "italic",
    "underlined",
    "reversed",
    "crossed_out",
    "underline",
    "255",
    "256",
    "-1",
    "./x.toml",
];

const SCENARIO_KEYS: &[&str] = &[
    "name",
    "seed",
    "profile",
    "default_delay_ms",
    "max_time_ms",
    "rounds",
    "nodes",
    "group",
    "count",
    "validator",
    "trusts",
    "clock_skew_ms",
    "links",
    "between",
    "delay_ms",
    "connected",
    "submit",
    "at_ms",
    "to",
    "txs",
    "faults",
    "kind",
    "until_ms",
    "sides",
    "behaviour",
    "skew_ms",
];

const SCENARIO_WORDS: &[&str] = &[
    "all",
    "a",
    "a0",
    "a1",
    "b",
    "b0",
    "hub",
    "partition",
    "crash",
    "delay",
    "byzantine",
    "clock_skew",
    "melt",
    "equivocate",
    "random_position",
    "silent",
    "wrong_ledger",
    "fast",
    "mainnet",
    "[[nodes]]",
    "[[links]]",
    "[[submit]]",
    "[[faults]]",
    "2000",
    "2001",
];

const KEYFILE_WORDS: &[&str] = &[
    "secret",
    "secret = \"",
    "=",
    "\"",
    "#",
    "0001020304050607",
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1",
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",
];

/// TOML values to put where a value was: huge and edge numbers, empty and odd strings, odd
/// types. Deeply nested and very long values are built by [`toml_value`].
const VALUES: &[&str] = &[
    "99999999999999999999999999999",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "-9223372036854775809",
    "4294967295",
    "4294967296",
    "65536",
    "-1",
    "0",
    "-0",
    "1e400",
    "-1e400",
    "nan",
    "-inf",
    "0x7fffffffffffffff",
    "0o777",
    "0b1",
    "1_000",
    "1979-05-27T07:32:00Z",
    "07:32:00",
    "true",
    "false",
    "\"\"",
    "''",
    "\" \"",
    "[]",
    "{}",
    "[\"\"]",
    "[[]]",
    "[{}]",
    "[[\"\"], []]",
    "{a = 1}",
    "{ fg = {} }",
    "\"\\u0000\"",
    "\"\\U0010FFFF\"",
    "\"é€😀\"",
    "\"\u{202e}\"",
    "'''a\nb'''",
    "\"\"\"a\nb\"\"\"",
];

/// Postcard fragments: canonical and over-long varints, the largest ones, counts at the limits.
const BINARY_WORDS: &[&[u8]] = &[
    &[0x00],
    &[0x01],
    &[0x02],
    &[0x03],
    &[0x7f],
    &[0x80, 0x00],
    &[0x80, 0x01],
    &[0xff, 0x03],
    &[0x80, 0x04],
    &[0x81, 0x04],
    &[0x80, 0x80, 0x04],
    &[0x81, 0x80, 0x04],
    &[0x80, 0x80, 0x80, 0x80, 0x10],
    &[0xff, 0xff, 0xff, 0xff, 0x0f],
    &[0xff, 0xff, 0xff, 0xff, 0x1f],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
    &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    &[WIRE_VERSION],
];

/// Bytes that tend to matter: boundaries of varints and of ASCII, and TOML punctuation.
const INTERESTING_BYTES: &[u8] = &[
    0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, b'"', b'\'', b'[', b']', b'{', b'}', b'=',
    b'\n', b'#', b'\\',
];

/// TOML punctuation a text mutation deletes or inserts.
const STRUCTURAL: &[u8] = b"\"'[]{}=,.#\n\\";

/// Characters whose UTF-8 is more than one byte, and control characters.
const ODD_CHARS: &[&str] = &[
    "é",
    "€",
    "😀",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\r",
    "\t",
    "\u{7f}",
    "\u{fffd}",
    "\u{10ffff}",
    "\u{85}",
    "\u{2028}",
];

// ---- the mutator ----------------------------------------------------------------------------

/// Builds mutated inputs from a pool; the same seed and pool give the same inputs.
struct Mutator {
    kind: Kind,
    /// Tokens to insert (binary fragments, or words and strings found in the corpus).
    dict: Vec<Vec<u8>>,
}

impl Mutator {
    fn new(d: &Decoder, corpus: &[Vec<u8>]) -> Mutator {
        let mut dict: Vec<Vec<u8>> = Vec::new();
        match d.kind {
            Kind::Binary => dict.extend(BINARY_WORDS.iter().map(|w| w.to_vec())),
            Kind::Text => {
                let mut words = std::collections::BTreeSet::new();
                for c in corpus {
                    let t = String::from_utf8_lossy(c);
                    for (i, part) in t.split('"').enumerate() {
                        if i % 2 == 1 && part.len() <= 100 && !part.contains('\n') {
                            words.insert(part.to_string());
                        }
                    }
                    for w in t.split(|c: char| !(c.is_alphanumeric() || "_-./:#[]".contains(c))) {
                        if !w.is_empty() && w.len() <= 100 {
                            words.insert(w.to_string());
                        }
                    }
                }
                for list in d.words {
                    words.extend(list.iter().map(|w| w.to_string()));
                }
                dict.extend(words.into_iter().map(String::into_bytes));
            }
        }
        Mutator { kind: d.kind, dict }
    }

    /// A new input: usually a pool member with a few stacked mutations, sometimes noise. The
    /// pool starts with the seeds, which are also picked directly a quarter of the time: most
    /// of what joins the pool is broken, and the checks after parsing need inputs that parse.
    fn next(&self, rng: &mut ChaCha8Rng, pool: &[Vec<u8>], seeds: usize) -> Vec<u8> {
        let mut b = if rng.random_ratio(1, 32) {
            self.noise(rng)
        } else if rng.random_ratio(1, 4) {
            pool[rng.random_range(0..seeds)].clone()
        } else {
            pool[rng.random_range(0..pool.len())].clone()
        };
        let mut n = 1;
        while n < 8 && rng.random_bool(0.5) {
            n += 1;
        }
        for _ in 0..n {
            if self.kind == Kind::Text && rng.random_ratio(2, 3) {
                self.text_mutation(rng, &mut b);
            } else {
                self.byte_mutation(rng, &mut b, pool);
            }
        }
        b.truncate(MAX_INPUT);
        b
    }

    fn noise(&self, rng: &mut ChaCha8Rng) -> Vec<u8> {
        match self.kind {
            Kind::Binary => {
                let mut b = vec![0u8; rng.random_range(0..256)];
                rng.fill(&mut b[..]);
                if !b.is_empty() && rng.random_bool(0.5) {
                    b[0] = WIRE_VERSION;
                }
                b
            }
            Kind::Text => {
                let mut b = Vec::new();
                for _ in 0..rng.random_range(0..40) {
                    match rng.random_range(0..4) {
                        0 => b.extend_from_slice(self.word(rng)),
                        1 => b.push(STRUCTURAL[rng.random_range(0..STRUCTURAL.len())]),
                        2 => b.extend_from_slice(&toml_value(rng)),
                        _ => b.push(b' '),
                    }
                }
                b
            }
        }
    }

    fn word(&self, rng: &mut ChaCha8Rng) -> &[u8] {
        &self.dict[rng.random_range(0..self.dict.len())]
    }

    fn byte_mutation(&self, rng: &mut ChaCha8Rng, b: &mut Vec<u8>, pool: &[Vec<u8>]) {
        let len = b.len();
        match rng.random_range(0..12) {
            // Flip a bit.
            0 if len > 0 => b[rng.random_range(0..len)] ^= 1 << rng.random_range(0..8),
            // Set a byte to anything, or to an interesting value.
            1 if len > 0 => b[rng.random_range(0..len)] = rng.random(),
            2 if len > 0 => {
                b[rng.random_range(0..len)] =
                    INTERESTING_BYTES[rng.random_range(0..INTERESTING_BYTES.len())];
            }
            // Add to or subtract from a byte (counts and lengths off by a little).
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let delta = rng.random_range(1..=4u8);
                b[i] = if rng.random_bool(0.5) {
                    b[i].wrapping_add(delta)
                } else {
                    b[i].wrapping_sub(delta)
                };
            }
            // Truncate.
            4 => b.truncate(rng.random_range(0..=len)),
            // Insert random bytes.
            5 => {
                let mut more = vec![0u8; rng.random_range(1..=16)];
                rng.fill(&mut more[..]);
                let at = rng.random_range(0..=len);
                b.splice(at..at, more);
            }
            // Delete a range.
            6 if len > 0 => {
                let (s, e) = span(rng, len, 64);
                b.drain(s..e);
            }
            // Duplicate a slice somewhere else.
            7 if len > 0 => {
                let (s, e) = span(rng, len, 64);
                let slice = b[s..e].to_vec();
                let at = rng.random_range(0..=len);
                b.splice(at..at, slice);
            }
            // Repeat a slice many times in place (long lists, huge claimed counts).
            8 if len > 0 => {
                let (s, e) = span(rng, len, 16);
                let slice = b[s..e].to_vec();
                let times = [2, 8, 100, 1000][rng.random_range(0..4)];
                let mut rep = Vec::with_capacity(slice.len() * times);
                for _ in 0..times {
                    rep.extend_from_slice(&slice);
                }
                b.splice(s..e, rep);
            }
            // Splice: the head of this input and the tail of another.
            9 => {
                let other = &pool[rng.random_range(0..pool.len())];
                let at = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                b.truncate(at);
                b.extend_from_slice(&other[from..]);
            }
            // Insert a dictionary token.
            10 => {
                let w = self.word(rng).to_vec();
                let at = rng.random_range(0..=len);
                b.splice(at..at, w);
            }
            // Overwrite with a dictionary token.
            _ => {
                let w = self.word(rng).to_vec();
                let at = rng.random_range(0..=len);
                let end = (at + w.len()).min(len);
                b.splice(at..end, w);
            }
        }
    }

    fn text_mutation(&self, rng: &mut ChaCha8Rng, b: &mut Vec<u8>) {
        let len = b.len();
        match rng.random_range(0..13) {
            // Delete a quote, bracket, brace, '=', ',', '.', '#' or newline.
            0 => {
                let at: Vec<usize> = (0..len).filter(|&i| STRUCTURAL.contains(&b[i])).collect();
                if !at.is_empty() {
                    b.remove(at[rng.random_range(0..at.len())]);
                }
            }
            // Insert one.
            1 => {
                let c = STRUCTURAL[rng.random_range(0..STRUCTURAL.len())];
                b.insert(rng.random_range(0..=len), c);
            }
            // Insert a multi-byte or control character (possibly inside another character).
            2 => {
                let c = ODD_CHARS[rng.random_range(0..ODD_CHARS.len())].as_bytes();
                let at = rng.random_range(0..=len);
                b.splice(at..at, c.iter().copied());
            }
            // Line-level edits: duplicate, delete or swap lines, duplicate a block.
            3..=5 => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let n = lines.len();
                let i = rng.random_range(0..n);
                let j = rng.random_range(0..n);
                match rng.random_range(0..4) {
                    0 => {
                        let line = lines[i].clone();
                        lines.insert(j, line);
                    }
                    1 if n > 1 => {
                        lines.remove(i);
                    }
                    2 => lines.swap(i, j),
                    _ => {
                        let (s, e) = (i.min(j), i.max(j) + 1);
                        let block = lines[s..e].to_vec();
                        let at = rng.random_range(0..=n);
                        lines.splice(at..at, block);
                    }
                }
                *b = lines.join(&b'\n');
            }
            // Replace the value of a `key = value` line.
            6 | 7 => {
                if let Some((eq, end)) = pick_line_with_eq(rng, b) {
                    let mut v = b" ".to_vec();
                    v.extend(toml_value(rng));
                    if rng.random_ratio(1, 4) {
                        v = format!(" \"{}\"", String::from_utf8_lossy(self.word(rng)))
                            .into_bytes();
                    }
                    b.splice(eq + 1..end, v);
                }
            }
            // Replace the key of a `key = value` line.
            8 => {
                if let Some((eq, _)) = pick_line_with_eq(rng, b) {
                    let start = b[..eq]
                        .iter()
                        .rposition(|&c| c == b'\n')
                        .map_or(0, |p| p + 1);
                    let w = self.word(rng).to_vec();
                    b.splice(start..eq, w.into_iter().chain(*b" "));
                }
            }
            // Replace the text of a string (a word of the format, an odd character, nothing).
            9..=11 => {
                let strings = string_contents(b);
                if !strings.is_empty() {
                    let (s, e) = strings[rng.random_range(0..strings.len())];
                    let w: Vec<u8> = match rng.random_range(0..4) {
                        0 => ODD_CHARS[rng.random_range(0..ODD_CHARS.len())]
                            .as_bytes()
                            .to_vec(),
                        1 => Vec::new(),
                        _ => self.word(rng).to_vec(),
                    };
                    b.splice(s..e, w);
                }
            }
            // Insert a line: a table header, or `key = value`.
            _ => {
                let line = if rng.random_bool(0.3) {
                    let w = String::from_utf8_lossy(self.word(rng)).into_owned();
                    if rng.random_bool(0.5) {
                        format!("[[{w}]]")
                    } else {
                        format!("[{w}]")
                    }
                } else {
                    let k = String::from_utf8_lossy(self.word(rng)).into_owned();
                    format!("{k} = {}", String::from_utf8_lossy(&toml_value(rng)))
                };
                let starts: Vec<usize> = std::iter::once(0)
                    .chain((0..len).filter(|&i| b[i] == b'\n').map(|i| i + 1))
                    .collect();
                let at = starts[rng.random_range(0..starts.len())];
                let mut l = line.into_bytes();
                l.push(b'\n');
                b.splice(at..at, l);
            }
        }
    }
}

/// A random non-empty range of at most `max` bytes within `len` (> 0).
fn span(rng: &mut ChaCha8Rng, len: usize, max: usize) -> (usize, usize) {
    let s = rng.random_range(0..len);
    let e = s + rng.random_range(1..=max.min(len - s));
    (s, e)
}

/// The byte ranges inside `"..."` strings, pairing quotes line by line outside comment lines
/// (escaped quotes are rare enough in the corpora to ignore).
fn string_contents(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in b.split(|&c| c == b'\n') {
        if !line.trim_ascii_start().starts_with(b"#") {
            let quotes: Vec<usize> = (0..line.len()).filter(|&i| line[i] == b'"').collect();
            for pair in quotes.chunks_exact(2) {
                out.push((start + pair[0] + 1, start + pair[1]));
            }
        }
        start += line.len() + 1;
    }
    out
}

/// The byte offsets of the `=` of a random `key = value` line and of that line's end.
fn pick_line_with_eq(rng: &mut ChaCha8Rng, b: &[u8]) -> Option<(usize, usize)> {
    let mut found = Vec::new();
    let mut start = 0;
    for line in b.split(|&c| c == b'\n') {
        if let Some(eq) = line.iter().position(|&c| c == b'=') {
            found.push((start + eq, start + line.len()));
        }
        start += line.len() + 1;
    }
    (!found.is_empty()).then(|| found[rng.random_range(0..found.len())])
}

/// A TOML value: an edge value, something deeply nested, very long, or a list of many names.
fn toml_value(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let s = match rng.random_range(0..8) {
        0..=3 => VALUES[rng.random_range(0..VALUES.len())].to_string(),
        // Nested arrays around the parser's depth limit (80) and far beyond it.
        4 => {
            let d = [2, 79, 80, 81, 500, 5000][rng.random_range(0..6)];
            format!("{}\"x\"{}", "[".repeat(d), "]".repeat(d))
        }
        5 => {
            let d = [2, 79, 81, 500][rng.random_range(0..4)];
            format!("{}1{}", "{a = ".repeat(d), "}".repeat(d))
        }
        6 => format!(
            "\"{}\"",
            "x".repeat([256, 4096, 60_000][rng.random_range(0..3)])
        ),
        _ => {
            let item =
                ["1", "\"all\"", "\"a0\"", "[]", "\"#000000\"", "\"bold\""][rng.random_range(0..6)];
            let n = [10, 1000, 6000][rng.random_range(0..3)];
            format!("[{}]", vec![item; n].join(","))
        }
    };
    s.into_bytes()
}

// ---- running one input ----------------------------------------------------------------------

/// What one call did.
#[derive(Debug)]
enum Outcome {
    Ok,
    Err(String),
    Panic(Caught),
}

/// A panic caught while decoding.
#[derive(Debug)]
struct Caught {
    message: String,
    location: String,
    backtrace: String,
}

thread_local! {
    /// Whether a panic on this thread is one the fuzzer catches (and reports itself).
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<(String, String, Backtrace)>> = const { RefCell::new(None) };
}

/// Records where a caught panic happened (and keeps it off stderr); other panics (proptest's,
/// other tests') go to the default hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string panic payload)".into());
                let location = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                let bt = Backtrace::force_capture();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, location, bt)));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs the decoder once on `input`, catching a panic, and times it.
fn call(d: &Decoder, input: &[u8]) -> (Outcome, Duration) {
    install_panic_hook();
    CATCHING.with(|c| c.set(true));
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| (d.run)(input)));
    let took = start.elapsed();
    CATCHING.with(|c| c.set(false));
    let outcome = match result {
        Ok(Ok(())) => Outcome::Ok,
        Ok(Err(message)) => Outcome::Err(message),
        Err(_) => {
            let (message, location, bt) = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| ("?".into(), "?".into(), Backtrace::disabled()));
            Outcome::Panic(Caught {
                message,
                location,
                backtrace: our_frames(&bt),
            })
        }
    };
    (outcome, took)
}

/// The frames of a backtrace that are cpeers' own code (where to look), innermost first.
fn our_frames(bt: &Backtrace) -> String {
    let text = bt.to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("cpeers::") && !line.contains("fuzz_decoders") {
            out.push(line.trim().to_string());
            if let Some(at) = lines
                .get(i + 1)
                .filter(|l| l.trim_start().starts_with("at "))
            {
                out.push(format!("    {}", at.trim()));
            }
        }
        if out.len() >= 24 {
            break;
        }
    }
    out.join("\n")
}

/// An error message with the parts that vary with the input taken out (quoted text, numbers,
/// hashes, long words), so that it names a code path rather than an input.
fn signature(outcome: &Outcome) -> String {
    let message = match outcome {
        Outcome::Ok => return "ok".into(),
        Outcome::Err(m) => m,
        Outcome::Panic(c) => return format!("panic {}", c.location),
    };
    // TOML errors name a key taken from the line, which may be any text: drop it.
    let message = match (message.find("key `"), message.find("`: ")) {
        (Some(k), Some(_)) => match message[k + 5..].find("`: ") {
            Some(e) => format!("{}key{}", &message[..k], &message[k + 5 + e + 1..]),
            None => message.clone(),
        },
        _ => message.clone(),
    };
    fn flush(word: &mut String, out: &mut String) {
        let hash = word.len() >= 8 && word.chars().all(|c| c.is_ascii_hexdigit());
        if hash || word.len() > 16 || word.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(word);
        }
        word.clear();
    }
    let mut out = String::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in message.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
                out.push(q);
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        if c == '"' || c == '`' {
            quote = Some(c);
        }
        out.push(c);
        if out.len() > 160 {
            break;
        }
    }
    flush(&mut word, &mut out);
    out
}

// ---- the fuzz loop ----------------------------------------------------------------------------

/// What the worker shares with the watchdog: the input being decoded and since when.
struct Shared {
    input: Mutex<Vec<u8>>,
    /// Milliseconds since the start of the run when the current call began; [`IDLE`] between.
    started_ms: AtomicU64,
    /// Number of the current execution.
    exec: AtomicU64,
}

const IDLE: u64 = u64::MAX;

/// A failure the fuzzer found that is not fixed yet. Its input is `tests/corpus/<decoder>/<file>`.
/// While it is listed, the fuzz run counts failing inputs that `matches` as known instead of
/// failing (they show in the run's statistics), so it goes on looking for new failures. When the
/// decoder is fixed, delete the entry: the file then stays in the corpus as a regression that
/// every fuzz run replays first, reporting a panic with its location.
struct KnownIssue {
    decoder: &'static str,
    file: &'static str,
    /// Whether a failing input (panic or slow call) is this issue.
    matches: fn(&[u8]) -> bool,
}

// Fixed: long base58 runs in `unl`/`listen`/`bootstrap` (now length-capped before parsing in
// src/config.rs) and name lists expanded before dedup (src/sim/scenario.rs now skips repeated
// names). Their crash-* files stay as regressions in the `*_stays_fast` tests below.
const KNOWN_ISSUES: &[KnownIssue] = &[];

fn known_issue(d: &Decoder, input: &[u8]) -> Option<&'static KnownIssue> {
    KNOWN_ISSUES
        .iter()
        .find(|k| k.decoder == d.name && (k.matches)(input))
}

#[derive(Debug, Default)]
struct Stats {
    execs: u64,
    ok: u64,
    err: u64,
    known: u64,
    outcomes: usize,
    pool: usize,
    slowest: Duration,
}

struct Fuzz<'a> {
    d: &'static Decoder,
    seed: u64,
    shared: &'a Shared,
    t0: Instant,
    stats: Stats,
}

impl Fuzz<'_> {
    /// One watched call: the watchdog sees the input while it runs.
    fn watched(&mut self, input: &[u8]) -> (Outcome, Duration) {
        {
            let mut slot = self.shared.input.lock().unwrap();
            slot.clear();
            slot.extend_from_slice(input);
        }
        self.shared.exec.store(self.stats.execs, Ordering::SeqCst);
        self.shared
            .started_ms
            .store(self.t0.elapsed().as_millis() as u64, Ordering::SeqCst);
        let r = call(self.d, input);
        self.shared.started_ms.store(IDLE, Ordering::SeqCst);
        r
    }

    /// Runs one input; `Err` is the failure report.
    fn exec(&mut self, input: &[u8]) -> Result<Outcome, String> {
        let (outcome, mut took) = self.watched(input);
        self.stats.execs += 1;
        let failed = took > MAX_CALL || matches!(outcome, Outcome::Panic(_));
        if failed && known_issue(self.d, input).is_some() {
            self.stats.known += 1;
            return Ok(outcome);
        }
        if took > MAX_CALL {
            // A busy machine can stall a thread: only the fastest of three runs counts.
            for _ in 0..2 {
                took = took.min(self.watched(input).1);
            }
        }
        self.stats.slowest = self.stats.slowest.max(took);
        match &outcome {
            Outcome::Ok => self.stats.ok += 1,
            Outcome::Err(_) => self.stats.err += 1,
            Outcome::Panic(c) => {
                let min = self.minimise(input, &c.location);
                let what = format!("panicked at {}: {}", c.location, c.message);
                let mut report = failure_report(self.d, self.seed, self.stats.execs, &what, &min);
                if min.len() < input.len() {
                    report += &format!(
                        "\n  (minimised from {} bytes; the original is saved beside it)",
                        input.len()
                    );
                    save_failure(self.d, self.seed, self.stats.execs, "orig", input);
                }
                report += &format!("\n  cpeers frames of the backtrace:\n{}", c.backtrace);
                return Err(report);
            }
        }
        if took > MAX_CALL {
            let what = format!(
                "one call took {} ms (limit {} ms)",
                took.as_millis(),
                MAX_CALL.as_millis()
            );
            return Err(failure_report(
                self.d,
                self.seed,
                self.stats.execs,
                &what,
                input,
            ));
        }
        Ok(outcome)
    }

    /// The smallest input found by deleting chunks that still panics at the same place.
    fn minimise(&mut self, input: &[u8], location: &str) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut cur = input.to_vec();
        let mut chunk = cur.len().div_ceil(2).max(1);
        loop {
            let mut progressed = false;
            let mut i = 0;
            while i < cur.len() && Instant::now() < deadline {
                let mut cand = cur[..i].to_vec();
                cand.extend_from_slice(&cur[(i + chunk).min(cur.len())..]);
                let same = matches!(self.watched(&cand).0, Outcome::Panic(ref c) if c.location == location);
                if same {
                    cur = cand;
                    progressed = true;
                } else {
                    i += chunk;
                }
            }
            if Instant::now() >= deadline || (chunk == 1 && !progressed) {
                return cur;
            }
            if !progressed {
                chunk = chunk.div_ceil(2);
            }
        }
    }

    fn run(&mut self, corpus: &[(String, Vec<u8>)], secs: f64) -> Result<(), String> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let seeds: Vec<Vec<u8>> = corpus
            .iter()
            .filter(|(name, _)| !name.starts_with("crash-"))
            .map(|(_, b)| b.clone())
            .collect();
        let mutator = Mutator::new(self.d, &seeds);
        let mut pool = seeds.clone();
        let mut seen: HashSet<String> = HashSet::new();
        // Every seed as it is, crash files first (they are the likeliest to fail), but not those
        // of known issues: they are known to fail and only cost time.
        let mut order: Vec<&(String, Vec<u8>)> = corpus
            .iter()
            .filter(|(name, _)| {
                !KNOWN_ISSUES
                    .iter()
                    .any(|k| k.decoder == self.d.name && k.file == name)
            })
            .collect();
        order.sort_by_key(|(name, _)| !name.starts_with("crash-"));
        for (_, b) in order {
            let outcome = self.exec(b)?;
            seen.insert(signature(&outcome));
        }
        let deadline = Instant::now() + Duration::from_secs_f64(secs);
        while Instant::now() < deadline {
            let input = mutator.next(&mut rng, &pool, seeds.len());
            let outcome = self.exec(&input)?;
            let new = seen.insert(signature(&outcome));
            let keep = new || (matches!(outcome, Outcome::Ok) && rng.random_ratio(1, 8));
            if keep && !input.is_empty() {
                if pool.len() < MAX_POOL {
                    pool.push(input);
                } else {
                    // Seeds stay; a random later arrival makes room.
                    let i = rng.random_range(seeds.len()..MAX_POOL);
                    pool[i] = input;
                }
            }
        }
        self.stats.outcomes = seen.len();
        self.stats.pool = pool.len();
        Ok(())
    }
}

/// The budget per decoder (`CPEERS_FUZZ_SECS`, seconds, fractions allowed).
fn budget_secs() -> f64 {
    match std::env::var("CPEERS_FUZZ_SECS") {
        Ok(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or_else(|| panic!("CPEERS_FUZZ_SECS={s:?} is not a number of seconds")),
        Err(_) => DEFAULT_SECS,
    }
}

/// The seed for `d`: `CPEERS_FUZZ_SEED` (or the default) mixed with the decoder's name.
fn seed_for(d: &Decoder) -> u64 {
    let base = match std::env::var("CPEERS_FUZZ_SEED") {
        Ok(s) => s
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("CPEERS_FUZZ_SEED={s:?} is not a u64")),
        Err(_) => DEFAULT_SEED,
    };
    // FNV-1a over the name, so decoders do not walk the same random sequence.
    d.name.bytes().fold(base ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Fuzzes `d` for the budget in a worker thread, with this thread as the watchdog.
fn fuzz(d: &'static Decoder) {
    let corpus = load_corpus(d);
    assert!(
        corpus.iter().any(|(n, _)| n.starts_with("ok-")),
        "tests/corpus/{} has no ok-* seed",
        d.name
    );
    let seed = seed_for(d);
    let secs = budget_secs();
    let shared = Arc::new(Shared {
        input: Mutex::new(Vec::new()),
        started_ms: AtomicU64::new(IDLE),
        exec: AtomicU64::new(0),
    });
    let t0 = Instant::now();
    let (tx, rx) = mpsc::channel();
    let worker_shared = Arc::clone(&shared);
    let worker = thread::Builder::new()
        .name(format!("fuzz-{}", d.name))
        .spawn(move || {
            let mut f = Fuzz {
                d,
                seed,
                shared: &worker_shared,
                t0,
                stats: Stats::default(),
            };
            let r = f.run(&corpus, secs).map(|()| f.stats);
            let _ = tx.send(r);
        })
        .unwrap();
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(stats)) => {
                worker.join().unwrap();
                let elapsed = t0.elapsed().as_secs_f64();
                // Straight to stderr, past the test harness's capture, so CI logs show it.
                let _ = writeln!(
                    std::io::stderr(),
                    "fuzz {:<13} {:>8} executions in {elapsed:.1} s ({:.0}/s): {} ok, {} err, \
                     {} distinct outcomes, pool {}, slowest call {:.1} ms{}",
                    d.name,
                    stats.execs,
                    stats.execs as f64 / elapsed,
                    stats.ok,
                    stats.err,
                    stats.outcomes,
                    stats.pool,
                    stats.slowest.as_secs_f64() * 1000.0,
                    if stats.known > 0 {
                        format!(", {} inputs hit KNOWN_ISSUES", stats.known)
                    } else {
                        String::new()
                    },
                );
                return;
            }
            Ok(Err(report)) => panic!("{report}"),
            Err(RecvTimeoutError::Timeout) => {
                let started = shared.started_ms.load(Ordering::SeqCst);
                let now = t0.elapsed().as_millis() as u64;
                if started != IDLE && now.saturating_sub(started) > HANG.as_millis() as u64 {
                    // The worker is stuck in the decoder and cannot be stopped; it is left
                    // behind and ends with the process.
                    let input = shared.input.lock().unwrap().clone();
                    let exec = shared.exec.load(Ordering::SeqCst);
                    let what = format!("did not return within {} s (a hang)", HANG.as_secs());
                    panic!("{}", failure_report(d, seed, exec, &what, &input));
                }
            }
            Err(RecvTimeoutError::Disconnected) => match worker.join() {
                Err(payload) => panic::resume_unwind(payload),
                Ok(()) => panic!("the fuzz worker ended without a result"),
            },
        }
    }
}

/// Saves a failing input under `target/tmp/fuzz-failures/` (0600: it may be a key file).
fn save_failure(d: &Decoder, seed: u64, exec: u64, tag: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}-{seed}-{exec}-{tag}", d.name));
    write_private(&path, input);
    path
}

fn failure_report(d: &Decoder, seed: u64, exec: u64, what: &str, input: &[u8]) -> String {
    let path = save_failure(d, seed, exec, "input", input);
    let shown = match d.kind {
        Kind::Binary => hex(input),
        Kind::Text => match std::str::from_utf8(input) {
            Ok(s) => format!("{s:?}"),
            Err(_) => format!("b\"{}\"", input.escape_ascii()),
        },
    };
    let shown = if d.name == KEYFILE.name {
        redact_hex_runs(&shown)
    } else {
        shown
    };
    let shown = if shown.len() > 4096 {
        let mut cut = 4096;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}... (cut; whole input in the file)", &shown[..cut])
    } else {
        shown
    };
    format!(
        "fuzz {}: {what}\n  seed {seed} (CPEERS_FUZZ_SEED mixed with the decoder name), \
         execution {exec}\n  input, {} bytes: {shown}\n  saved to {}",
        d.name,
        input.len(),
        path.display()
    )
}

/// Key material stays out of reports: runs of 16 or more hex digits are masked.
fn redact_hex_runs(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() >= 16 {
            out += &format!("<{} hex digits>", run.len());
        } else {
            out += &run;
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- the corpus -------------------------------------------------------------------------------

fn corpus_dir(d: &Decoder) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(d.name)
}

/// The seeds of `d`, sorted by name.
fn load_corpus(d: &Decoder) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(d);
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

// ---- the fuzz tests ---------------------------------------------------------------------------

#[test]
fn fuzz_wire_gossip() {
    fuzz(&GOSSIP);
}

#[test]
fn fuzz_wire_request() {
    fuzz(&REQUEST);
}

#[test]
fn fuzz_wire_response() {
    fuzz(&RESPONSE);
}

#[test]
fn fuzz_record() {
    fuzz(&RECORD);
}

#[test]
fn fuzz_config() {
    fuzz(&CONFIG);
}

#[test]
fn fuzz_theme() {
    fuzz(&THEME);
}

#[test]
fn fuzz_scenario() {
    fuzz(&SCENARIO);
}

#[test]
fn fuzz_keyfile() {
    fuzz(&KEYFILE);
}

#[test]
fn fuzz_api_request() {
    fuzz(&API_REQUEST);
}

#[test]
fn fuzz_stream_frame() {
    fuzz(&STREAM_FRAME);
}

/// Seeds keep their promise: `ok-*` decode, `err-*` are refused, nothing else is in a corpus
/// (a wire or record format change that leaves the seeds stale shows up here).
#[test]
fn corpus_seeds_decode_as_their_names_say() {
    for d in ALL {
        let corpus = load_corpus(d);
        assert!(!corpus.is_empty(), "tests/corpus/{} is empty", d.name);
        for (name, bytes) in corpus {
            let (outcome, _) = call(d, &bytes);
            let where_ = format!("tests/corpus/{}/{name}", d.name);
            if name.starts_with("ok-") {
                assert!(
                    matches!(outcome, Outcome::Ok),
                    "{where_} should decode: {outcome:?}; if the format changed on purpose, \
                     regenerate with CPEERS_WRITE_CORPUS=1 cargo test --test fuzz_decoders \
                     write_corpus"
                );
            } else if name.starts_with("err-") {
                assert!(
                    matches!(outcome, Outcome::Err(_)),
                    "{where_} should be refused: {outcome:?}"
                );
            } else {
                assert!(
                    name.starts_with("crash-"),
                    "{where_}: corpus files are named ok-*, err-* or crash-*"
                );
                // A crash file is a known issue that its entry recognises, or a fixed one
                // (then the fuzz run fails if it breaks again).
                if let Some(k) = KNOWN_ISSUES
                    .iter()
                    .find(|k| k.decoder == d.name && k.file == name)
                {
                    assert!(
                        (k.matches)(&bytes),
                        "{where_} is not recognised by its KNOWN_ISSUES entry"
                    );
                }
            }
        }
    }
    for k in KNOWN_ISSUES {
        let d = ALL
            .iter()
            .find(|d| d.name == k.decoder)
            .expect("a decoder of that name");
        assert!(
            corpus_dir(d).join(k.file).is_file(),
            "KNOWN_ISSUES names tests/corpus/{}/{}, which does not exist",
            k.decoder,
            k.file
        );
    }
}

/// Decodes a crash file as the fuzz run would and fails if it panics or is slow (fastest of
/// three runs), for the tests of known issues.
fn assert_fixed(d: &Decoder, file: &str) {
    let input = fs::read(corpus_dir(d).join(file)).unwrap();
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let (outcome, took) = call(d, &input);
        if let Outcome::Panic(c) = outcome {
            panic!("{}/{file} panics at {}: {}", d.name, c.location, c.message);
        }
        fastest = fastest.min(took);
    }
    assert!(
        fastest <= MAX_CALL,
        "{}/{file} takes {} ms (limit {} ms)",
        d.name,
        fastest.as_millis(),
        MAX_CALL.as_millis()
    );
}

/// Regression: a 40 KB base58 string in `unl` used to take quadratic time in PeerId parsing.
#[test]
fn a_long_peer_id_in_the_config_stays_fast() {
    assert_fixed(&CONFIG, "crash-slow-unl-peer-id.toml");
}

/// Regression: 10 000 repeats of a 2000-node group's name used to expand to 20 million indices.
#[test]
fn a_list_repeating_a_big_group_stays_fast() {
    assert_fixed(&SCENARIO, "crash-slow-all-targets.toml");
}

/// The harness itself: a decoder that panics on one byte is caught, minimised to that byte and
/// reported with the input and the location; a slow one is reported as slow.
#[test]
fn the_harness_reports_panics_and_slow_calls() {
    fn panics_on_0x42(b: &[u8]) -> Result<(), String> {
        if b.contains(&0x42) {
            panic!("boom");
        }
        Err("no".into())
    }
    fn slow_on_0x42(b: &[u8]) -> Result<(), String> {
        if b.contains(&0x42) {
            thread::sleep(MAX_CALL + Duration::from_millis(50));
        }
        Ok(())
    }
    static PANICS: Decoder = Decoder {
        name: "harness_panics",
        kind: Kind::Binary,
        run: panics_on_0x42,
        words: &[],
    };
    static SLOW: Decoder = Decoder {
        name: "harness_slow",
        kind: Kind::Binary,
        run: slow_on_0x42,
        words: &[],
    };
    let shared = Shared {
        input: Mutex::new(Vec::new()),
        started_ms: AtomicU64::new(IDLE),
        exec: AtomicU64::new(0),
    };
    let corpus = vec![("ok-a".to_string(), vec![1, 2, 3, 0x42, 5, 6, 7])];
    let mut f = Fuzz {
        d: &PANICS,
        seed: 1,
        shared: &shared,
        t0: Instant::now(),
        stats: Stats::default(),
    };
    let report = f.run(&corpus, 0.0).unwrap_err();
    assert!(
        report.contains("panicked at tests/fuzz_decoders.rs"),
        "{report}"
    );
    assert!(report.contains(": boom"), "{report}");
    assert!(report.contains("input, 1 bytes: 42\n"), "{report}");
    let saved = report
        .split("saved to ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert_eq!(fs::read(saved).unwrap(), [0x42]);
    let orig = saved.replace("-input", "-orig");
    assert_eq!(fs::read(&orig).unwrap(), corpus[0].1);
    let _ = fs::remove_file(saved);
    let _ = fs::remove_file(orig);

    let mut f = Fuzz {
        d: &SLOW,
        seed: 1,
        shared: &shared,
        t0: Instant::now(),
        stats: Stats::default(),
    };
    let report = f.run(&corpus, 0.0).unwrap_err();
    assert!(report.contains("ms (limit 200 ms)"), "{report}");
    assert!(
        report.contains("input, 7 bytes: 01020342050607"),
        "{report}"
    );
    // The input is saved to reproduce it with `replay`.
    let saved = report
        .split("saved to ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert_eq!(fs::read(saved).unwrap(), corpus[0].1);
    let _ = fs::remove_file(saved);

    // Key file reports mask hex runs.
    assert_eq!(
        redact_hex_runs("secret = \"000102030405060708090a0b0c0d0e0f\" x"),
        "secret = \"<32 hex digits>\" x"
    );
}

// ---- writing the corpus -------------------------------------------------------------------------

/// The seeds this file makes: encodings from the library's own encoders, and copies of fixture
/// files and built-in themes. (Hand-written seeds, such as every key file, are plain files in
/// the corpus.) (decoder, file name, bytes).
fn generated_seeds() -> Vec<(&'static Decoder, String, Vec<u8>)> {
    let mut out: Vec<(&'static Decoder, String, Vec<u8>)> = Vec::new();
    let mut add = |d: &'static Decoder, name: &str, bytes: Vec<u8>| {
        out.push((d, name.to_string(), bytes));
    };
    let key = NodeKey::from_secret([1; 32]);
    let other = NodeKey::from_secret([2; 32]);
    let tx = |s: &str| Tx::new(s).unwrap();
    let txs: Vec<Tx> = vec![
        tx("pay-1"),
        tx("x"),
        Tx::new(vec![0xab; 100]).unwrap(),
        Tx::new(vec![7; cpeers::consensus::tx::MAX_TX_BYTES]).unwrap(),
    ];

    // Gossip.
    let proposal = Proposal {
        prev_ledger: Hash256::of(&[b"prev"]),
        position: Hash256::of(&[b"pos"]),
        close_time: Time(1_700_000_000_000),
        seq: 3,
        node: key.id(),
    }
    .sign(&key, 1);
    let g = |m: &Gossip| wire::encode_gossip(m).unwrap();
    add(&GOSSIP, "ok-proposal.bin", g(&Gossip::Proposal(proposal)));
    let validation = |full: bool, seq: u32| {
        Validation {
            ledger: Hash256::of(&[b"ledger"]),
            seq,
            tx_set: Hash256::of(&[b"set"]),
            full,
            sign_time: Time(1_700_000_004_000),
            node: other.id(),
        }
        .sign(&other, 1)
    };
    add(
        &GOSSIP,
        "ok-validation.bin",
        g(&Gossip::Validation(validation(true, 42))),
    );
    add(
        &GOSSIP,
        "ok-validation-partial.bin",
        g(&Gossip::Validation(validation(false, 70_000))),
    );
    add(&GOSSIP, "ok-txs.bin", g(&Gossip::Txs(txs[..3].to_vec())));
    add(&GOSSIP, "ok-txs-empty.bin", g(&Gossip::Txs(vec![])));
    add(
        &GOSSIP,
        "err-non-canonical.bin",
        vec![WIRE_VERSION, 2, 0x80, 0x00],
    );

    // Requests.
    let r = |m: &Request| wire::encode_request(m).unwrap();
    add(
        &REQUEST,
        "ok-txset.bin",
        r(&Request::TxSet(Hash256::of(&[b"set"]))),
    );
    let ledgers = |max| Request::Ledgers {
        hash: Hash256::of(&[b"ledger"]),
        back_to: 5,
        max,
    };
    add(&REQUEST, "ok-ledgers.bin", r(&ledgers(256)));
    add(&REQUEST, "ok-ledgers-one.bin", r(&ledgers(1)));
    let mut too_many = vec![WIRE_VERSION];
    too_many.extend(postcard::to_stdvec(&ledgers(257)).unwrap());
    add(&REQUEST, "err-too-many-ledgers.bin", too_many);

    // Responses.
    let resp = |m: &Response| wire::encode_response(m).unwrap();
    add(
        &RESPONSE,
        "ok-txset.bin",
        resp(&Response::TxSet(Some(txs.clone()))),
    );
    add(
        &RESPONSE,
        "ok-txset-missing.bin",
        resp(&Response::TxSet(None)),
    );
    let genesis = Ledger::genesis(&ConsensusParams::mainnet());
    let l1 = Ledger::next(
        &genesis,
        TxSet::new(txs[..2].to_vec()).shared(),
        Time(30_000),
        true,
        30_000,
    );
    let l2 = Ledger::next(
        &l1,
        TxSet::new(vec![]).shared(),
        Time(60_000),
        false,
        30_000,
    );
    let l3 = Ledger::next(
        &l2,
        TxSet::new(txs[2..3].to_vec()).shared(),
        Time(90_000),
        true,
        20_000,
    );
    let chain = Response::ledgers_within_limits([&l3, &l2, &l1, &genesis]);
    add(&RESPONSE, "ok-ledgers.bin", resp(&chain));
    add(
        &RESPONSE,
        "ok-ledgers-none.bin",
        resp(&Response::Ledgers(vec![])),
    );
    let mismatch = WireLedger {
        header: l1.header().clone(),
        txs: vec![tx("not-in-the-header")],
    };
    add(
        &RESPONSE,
        "err-ledger-mismatch.bin",
        resp(&Response::Ledgers(vec![mismatch])),
    );

    // Records.
    add(&RECORD, "ok-genesis.bin", record::encode(&genesis).unwrap());
    add(&RECORD, "ok-ledger-txs.bin", record::encode(&l1).unwrap());
    add(&RECORD, "ok-ledger-empty.bin", record::encode(&l2).unwrap());
    let mut damaged = record::encode(&l3).unwrap();
    damaged[1] ^= 1; // the stored hash
    add(&RECORD, "err-hash-mismatch.bin", damaged);

    // Node configs: fixtures, and the example `cpeers` prints.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = |dir: &str, file: &str| fs::read(root.join(dir).join(file)).unwrap();
    add(&CONFIG, "ok-example.toml", example().as_bytes().to_vec());
    for f in ["full_validator", "minimal", "no_admin", "observer"] {
        add(
            &CONFIG,
            &format!("ok-{f}.toml"),
            copy("tests/valid_configs", &format!("{f}.toml")),
        );
    }
    for f in [
        "admin_not_loopback",
        "bootstrap_without_p2p",
        "listen_bad_multiaddr",
        "network_id_negative",
        "unknown_key",
        "unl_duplicate",
        "unl_invalid_key",
    ] {
        add(
            &CONFIG,
            &format!("err-{f}.toml"),
            copy("tests/invalid_configs", &format!("{f}.toml")),
        );
    }

    // Themes: the built-ins.
    for t in ["default", "light", "high-contrast", "mono"] {
        add(
            &THEME,
            &format!("ok-{t}.toml"),
            copy("themes", &format!("{t}.toml")),
        );
    }

    // Admin API requests: every command, and the ways a request can be wrong.
    let tx_id = Hash256::of(&[b"tx"]).to_hex();
    for (name, text) in [
        (
            "ok-submit.json",
            r#"{"id": 1, "cmd": "submit", "txs": ["pay-1", [0, 255]]}"#.to_string(),
        ),
        (
            "ok-propose.json",
            r#"{"cmd": "propose", "txs": ["a"], "close_time": 1700000000000}"#.to_string(),
        ),
        (
            "ok-vote.json",
            format!(r#"{{"id": 3, "cmd": "vote", "tx": "{tx_id}", "vote": "release"}}"#),
        ),
        (
            "ok-dispute.json",
            format!(r#"{{"cmd": "dispute", "tx": "{tx_id}"}}"#),
        ),
        (
            "ok-peer.json",
            format!(r#"{{"cmd": "peer", "node": "{}"}}"#, key.id().to_hex()),
        ),
        ("ok-composer.json", r#"{"cmd": "composer"}"#.to_string()),
        ("err-unknown_cmd.json", r#"{"cmd": "shutdown"}"#.to_string()),
        (
            "err-bad_id.json",
            r#"{"id": "seven", "cmd": "composer"}"#.to_string(),
        ),
        (
            "err-extra_field.json",
            r#"{"cmd": "composer", "force": true}"#.to_string(),
        ),
        ("err-not_json.json", "submit pay-1".to_string()),
    ] {
        add(&API_REQUEST, name, text.into_bytes());
    }

    // Stream frames: each type, from the library's own encoder.
    let snapshot = Arc::new(support_snapshot());
    let frames = [
        (
            "ok-snapshot.json",
            Frame::Snapshot(SnapshotFrame {
                api: 1,
                read_only: true,
                resync: false,
                node: snapshot.clone(),
                history: Default::default(),
            }),
        ),
        (
            "ok-status.json",
            Frame::Status(StatusFrame {
                node: Some(snapshot),
                patch: None,
            }),
        ),
        (
            "ok-event.json",
            Frame::Event(EventFrame {
                at: Time(1_700_000_000_000),
                event: NodeEvent::warning("a warning"),
            }),
        ),
        (
            "ok-reply.json",
            Frame::Reply(cpeers::contract::Reply::error(Some(4), 401, "read-only")),
        ),
    ];
    for (name, f) in frames {
        add(
            &STREAM_FRAME,
            name,
            cpeers::contract::frame::with_seq(7, &cpeers::contract::frame::encode(&f)).into_bytes(),
        );
    }
    add(
        &STREAM_FRAME,
        "err-no_seq.json",
        br#"{"type":"event"}"#.to_vec(),
    );
    add(
        &STREAM_FRAME,
        "err-unknown_type.json",
        br#"{"seq":1,"type":"launch"}"#.to_vec(),
    );

    // Scenarios: fixtures covering every fault kind.
    for s in [
        "byzantine_equivocator",
        "close_time_disagree",
        "crashed_validator",
        "hub_network",
        "partition_no_quorum",
        "slow_peer",
        "unl_overlap_low",
    ] {
        add(
            &SCENARIO,
            &format!("ok-{s}.toml"),
            copy("tests/scenarios", &format!("{s}.toml")),
        );
    }
    out
}

/// A node status with every part filled (peers, disputes, close-time votes keyed by numbers).
fn support_snapshot() -> cpeers::contract::NodeSnapshot {
    let mut sim = cpeers::sim::Simulation::new(
        Scenario::load(Path::new("tests/scenarios/slow_peer.toml")).unwrap(),
    );
    sim.run_until(4_500);
    let e = sim.engine("slow0").unwrap();
    cpeers::contract::NodeSnapshot {
        network_id: 7,
        peer_id: "12D3KooWfuzz".into(),
        listen: vec!["/ip4/127.0.0.1/tcp/1".into()],
        started: true,
        info: e.info(),
        peers: vec![],
        traffic: Default::default(),
        store_errors: 0,
        recent_validated: vec![],
        latency: Default::default(),
        engine: e.counters().clone(),
        held: e.held().into_iter().map(Into::into).collect(),
        rss_mib: None,
        submissions: Default::default(),
        api: Default::default(),
    }
}

/// Checks the seeds this file makes against the decoders, and writes them to `tests/corpus/`
/// when `CPEERS_WRITE_CORPUS=1` (then commit them).
#[test]
fn write_corpus() {
    let seeds = generated_seeds();
    for (d, name, bytes) in &seeds {
        let (outcome, _) = call(d, bytes);
        let ok = matches!(outcome, Outcome::Ok);
        assert_eq!(
            ok,
            name.starts_with("ok-"),
            "{}/{name}: {outcome:?}",
            d.name
        );
    }
    if std::env::var("CPEERS_WRITE_CORPUS").as_deref() == Ok("1") {
        for (d, name, bytes) in &seeds {
            let dir = corpus_dir(d);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

// ---- proptest: random text for the TOML decoders ------------------------------------------------

/// Runs a TOML decoder on `text` (a panic fails the case, and proptest shrinks it) and checks
/// the time it took, forgiving one stall of a busy machine.
fn decode_quickly(d: &Decoder, text: &str) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let _ = (d.run)(text.as_bytes());
    let took = start.elapsed();
    if took > MAX_CALL {
        let start = Instant::now();
        let _ = (d.run)(text.as_bytes());
        let again = start.elapsed();
        prop_assert!(
            again <= MAX_CALL,
            "{} took {} ms on {text:?}",
            d.name,
            again.as_millis()
        );
    }
    Ok(())
}

/// Any Unicode text, biased towards short.
fn utf8() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..300).prop_map(|v| v.into_iter().collect())
}

const PUNCT: &[&str] = &[
    "=", "[", "]", "[[", "]]", "{", "}", ",", ".", "\"", "'", "#", "\n", "\n", " ", "\\", "\"\"\"",
    "'''",
];

/// Words all three TOML formats have some use for.
const SOUP_WORDS: &[&str] = &[
    "\"all\"",
    "\"a\"",
    "\"a0\"",
    "\"red\"",
    "\"#3465a4\"",
    "\"bold\"",
    "\"light\"",
    "\"fast\"",
    "\"off\"",
    "\"127.0.0.1:1\"",
    "\"/ip4/127.0.0.1/tcp/1\"",
    "\"12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq\"",
    "\"partition\"",
    "\"equivocate\"",
    "x",
    "é",
];

/// TOML-ish token soup: the format's keys, punctuation, values and words in any order.
fn soup(keys: Vec<&'static str>) -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => select(keys),
        4 => select(PUNCT),
        2 => select(VALUES),
        2 => select(SOUP_WORDS),
    ];
    vec((token, any::<bool>()), 0..120).prop_map(|tokens| {
        let mut s = String::new();
        for (t, space) in tokens {
            s.push_str(t);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

/// A value built from the format's own vocabulary, nested in arrays and inline tables.
fn value(keys: Vec<&'static str>) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![select(VALUES), select(SOUP_WORDS)].prop_map(str::to_string);
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(", "))),
            vec((select(keys.clone()), inner), 0..4).prop_map(|kv| {
                let parts: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", parts.join(", "))
            }),
        ]
    })
}

/// Lines of `key = value` and table headers: shaped enough to reach the checks after parsing.
fn toml_lines(
    keys: Vec<&'static str>,
    headers: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => (select(keys.clone()), value(keys.clone())).prop_map(|(k, v)| format!("{k} = {v}")),
        2 => select(headers).prop_map(str::to_string),
        1 => soup(keys),
    ];
    vec(line, 0..24).prop_map(|lines| lines.join("\n"))
}

fn theme_keys() -> Vec<&'static str> {
    THEME_KEYS
        .iter()
        .chain(STYLE_NAMES.iter())
        .copied()
        .collect()
}

const CONFIG_HEADERS: &[&str] = &["[listen]", "[x]"];
const THEME_HEADERS: &[&str] = &[
    "[styles]",
    "[styles.base]",
    "[styles.selected]",
    "[[styles]]",
];
const SCENARIO_HEADERS: &[&str] = &[
    "[[nodes]]",
    "[[links]]",
    "[[submit]]",
    "[[faults]]",
    "[nodes]",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn config_takes_any_text(s in utf8()) {
        decode_quickly(&CONFIG, &s)?;
    }

    #[test]
    fn config_takes_token_soup(s in soup(CONFIG_KEYS.to_vec())) {
        decode_quickly(&CONFIG, &s)?;
    }

    #[test]
    fn config_takes_toml_shaped_nonsense(s in toml_lines(CONFIG_KEYS.to_vec(), CONFIG_HEADERS)) {
        decode_quickly(&CONFIG, &s)?;
    }

    #[test]
    fn theme_takes_any_text(s in utf8()) {
        decode_quickly(&THEME, &s)?;
    }

    #[test]
    fn theme_takes_token_soup(s in soup(theme_keys())) {
        decode_quickly(&THEME, &s)?;
    }

    #[test]
    fn theme_takes_toml_shaped_nonsense(s in toml_lines(theme_keys(), THEME_HEADERS)) {
        decode_quickly(&THEME, &s)?;
    }

    #[test]
    fn scenario_takes_any_text(s in utf8()) {
        decode_quickly(&SCENARIO, &s)?;
    }

    #[test]
    fn scenario_takes_token_soup(s in soup(SCENARIO_KEYS.to_vec())) {
        decode_quickly(&SCENARIO, &s)?;
    }

    #[test]
    fn scenario_takes_toml_shaped_nonsense(s in toml_lines(SCENARIO_KEYS.to_vec(), SCENARIO_HEADERS)) {
        decode_quickly(&SCENARIO, &s)?;
    }
}
