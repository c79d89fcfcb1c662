//! `cpeers status` and `GET /metrics` against real node processes: three validators (fast
//! profile) started with `--metrics 127.0.0.1:0` validate a few ledgers; then the built binary's
//! `status --json` and text output and the Prometheus exposition are checked, as are the
//! one-line errors of `status` against a closed port and against the wrong endpoint.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cpeers::bench::cluster::{LocalCluster, free_port};
use cpeers::consensus::Profile;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cpeers"))
}

fn status(admin: SocketAddr, json: bool) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(["status", "--admin", &admin.to_string()]);
    if json {
        cmd.arg("--json");
    }
    cmd.output().expect("run cpeers status")
}

/// A raw `GET path`: (status line, headers, body).
fn get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("http answer");
    let (first, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (
        first.to_string(),
        headers.to_ascii_lowercase(),
        body.to_string(),
    )
}

/// Parses the 0.0.4 text format strictly enough to catch a broken exposition: every sample line
/// is `name{label="value",...} value` with a float value, and belongs to a family with a TYPE.
fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    let mut series = BTreeMap::new();
    let mut families: Vec<(String, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = || format!("line {}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("{}", at()));
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{}",
                at()
            );
            families.push((name.to_string(), kind.to_string()));
            continue;
        }
        if line.starts_with('#') {
            assert!(line.starts_with("# HELP "), "{}", at());
            continue;
        }
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or_else(|| panic!("no value: {}", at()));
        let name = &line[..name_end];
        assert!(
            !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()),
            "{}",
            at()
        );
        let mut rest = &line[name_end..];
        let mut key = name.to_string();
        if let Some(labels) = rest.strip_prefix('{') {
            // label="value" pairs, values with \" \\ \n escapes.
            let mut chars = labels.char_indices().peekable();
            let end = loop {
                let (i, c) = chars.next().unwrap_or_else(|| panic!("{}", at()));
                if c == '}' {
                    break i;
                }
                if c == ',' {
                    continue;
                }
                assert!(c.is_ascii_alphabetic() || c == '_', "{}", at());
                while chars.peek().is_some_and(|(_, c)| *c != '=') {
                    chars.next();
                }
                assert_eq!(chars.next().map(|x| x.1), Some('='), "{}", at());
                assert_eq!(chars.next().map(|x| x.1), Some('"'), "{}", at());
                loop {
                    match chars.next().unwrap_or_else(|| panic!("{}", at())).1 {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            };
            key.push('{');
            key.push_str(&labels[..end]);
            key.push('}');
            rest = &labels[end + 1..];
        }
        let value = rest.strip_prefix(' ').unwrap_or_else(|| panic!("{}", at()));
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {}", at())),
        };
        assert!(
            families.iter().any(|(f, kind)| name == f
                || ((kind == "histogram" || kind == "summary")
                    && ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name == format!("{f}{s}")))),
            "{name} has no TYPE line before it"
        );
        series.insert(key, v);
    }
    series
}

#[test]
fn status_and_metrics_of_a_running_three_node_network() {
    let started = Instant::now();
    let c = LocalCluster::start_with_args(
        bin(),
        "status-metrics",
        3,
        Profile::Fast,
        &["--metrics", "127.0.0.1:0"],
    )
    .expect("cluster starts");
    let all = [0, 1, 2];
    assert!(
        c.wait_for(Duration::from_secs(20), |c| c.min_validated(&all) >= 3),
        "timed out waiting for 3 fully validated ledgers\n{}",
        c.tails()
    );
    let endpoints: Vec<serde_json::Value> = all
        .iter()
        .map(|&i| c.endpoints(i).expect("endpoints.json"))
        .collect();
    let admin = c.nodes[0].admin;

    // (a) --json: the raw snapshot.
    let out = status(admin, true);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
    assert_eq!(v["network_id"], c.network_id);
    assert_eq!(v["peer_id"], endpoints[0]["peer_id"]);
    assert_eq!(v["started"], true);
    let info = &v["info"];
    assert_eq!(info["mode"], "proposing", "{info}");
    assert!(["open", "establish", "accepted"].contains(&info["phase"].as_str().unwrap()));
    assert!(info["fully_validated"]["seq"].as_u64().unwrap() >= 3);
    assert!(
        info["ledger_seq"].as_u64().unwrap() > info["fully_validated"]["seq"].as_u64().unwrap()
    );
    assert_eq!(
        (info["unl_size"].as_u64(), info["quorum"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(info["node"], endpoints[0]["public_key"]);
    let peers = v["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 2, "{peers:?}");
    assert!(peers.iter().all(|p| p["trusted"] == true));
    assert_eq!(info["peers"].as_array().unwrap().len(), 2);
    assert!(!v["recent_validated"].as_array().unwrap().is_empty());
    assert!(v["engine"]["rounds"]["yes"].as_u64().unwrap_or(0) >= 1);
    // Memory: the process's resident size and every bounded collection within its cap.
    assert!(v["rss_mib"].as_f64().unwrap() > 1.0, "{v}");
    let held = v["held"].as_array().unwrap();
    for what in ["ledgers", "validations", "gossip_ids", "validated_tx_ids"] {
        assert!(held.iter().any(|h| h["what"] == what), "{what} missing");
    }
    for h in held {
        if let Some(cap) = h["cap"].as_u64() {
            assert!(h["items"].as_u64().unwrap() <= cap, "{h}");
        }
    }
    assert!(
        held.iter()
            .any(|h| h["what"] == "ledgers" && h["items"].as_u64().unwrap() >= 3),
        "{v}"
    );

    // (b) the text.
    let out = status(admin, false);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    eprintln!("--- cpeers status\n{text}");
    assert!(text.contains("mode       proposing"), "{text}");
    assert!(
        text.contains("memory     ") && text.contains("MiB; ledgers"),
        "{text}"
    );
    assert!(
        ["phase open", "phase establish", "phase accepted"]
            .iter()
            .any(|p| text.contains(p)),
        "{text}"
    );
    assert!(
        text.contains("PEERS (2 validators known; 2 connected, 2 trusted)"),
        "{text}"
    );
    for e in &endpoints[1..] {
        let short = &e["public_key"].as_str().unwrap()[..8];
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(short))
            .unwrap_or_else(|| panic!("no row for peer {short}:\n{text}"));
        assert!(row.contains(" yes "), "{row}");
    }
    assert!(text.contains("\nvalidated  #"), "{text}");

    // (c) Prometheus.
    let maddr = c
        .metrics_addr(0)
        .expect("metrics address in endpoints.json");
    assert_eq!(endpoints[0]["metrics"], maddr.to_string());
    let (first, headers, body) = get(maddr, "/metrics");
    assert!(first.contains(" 200 "), "{first}");
    assert!(
        headers.contains("content-type: text/plain; version=0.0.4"),
        "{headers}"
    );
    eprintln!("--- GET /metrics\n{body}");
    let m = parse_prometheus(&body);
    let val = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no {k} in\n{body}"));
    assert!(val("cpeers_validated_ledger_seq") >= 3.0);
    assert_eq!(val("cpeers_peers_connected"), 2.0);
    assert_eq!(val("cpeers_peers_trusted"), 2.0);
    assert_eq!(val("cpeers_mode{mode=\"proposing\"}"), 1.0);
    let phases: f64 = ["open", "establish", "accepted"]
        .iter()
        .map(|p| val(&format!("cpeers_phase{{phase=\"{p}\"}}")))
        .sum();
    assert_eq!(phases, 1.0, "exactly one phase is current");
    assert!(val("cpeers_ledger_interval_seconds_count") >= 1.0, "{body}");
    assert!(val("cpeers_round_seconds_count") >= 1.0, "{body}");
    assert!(val("cpeers_rounds_total{result=\"yes\"}") >= 1.0);
    assert!(val("cpeers_traffic_messages_total{direction=\"in\",kind=\"proposals\"}") > 0.0);
    assert!(val("cpeers_traffic_bytes_total{direction=\"out\",kind=\"validations\"}") > 0.0);
    assert!(body.contains("# TYPE cpeers_rejected_messages_total counter"));
    assert!(val("cpeers_resident_memory_bytes") > 1e6, "{body}");
    assert!(val("cpeers_held_items{what=\"ledgers\"}") >= 3.0, "{body}");
    assert_eq!(
        val("cpeers_held_items_cap{what=\"gossip_ids\"}"),
        500_000.0,
        "{body}"
    );
    // Whatever was refused so far is exported under its reason.
    for (reason, n) in v["traffic"]["rejected"].as_object().unwrap() {
        let k = format!("cpeers_rejected_messages_total{{reason=\"{reason}\"}}");
        assert!(val(&k) >= n.as_f64().unwrap(), "{k}");
    }
    assert!(
        m.keys()
            .any(|k| k.starts_with("libp2p_swarm_connections_established")),
        "{body}"
    );
    assert!(
        m.keys().any(|k| k.starts_with("libp2p_gossipsub_messages")),
        "{body}"
    );
    assert!(m.keys().any(|k| k.starts_with("libp2p_ping_")), "{body}");
    let (first, _, _) = get(maddr, "/nope");
    assert!(first.contains(" 404 "), "{first}");

    // `status` against the wrong endpoint (the metrics port) and a closed port.
    for (addr, words) in [
        (maddr, "answered HTTP 404"),
        (
            SocketAddr::from(([127, 0, 0, 1], free_port().unwrap())),
            "cannot reach",
        ),
    ] {
        for json in [false, true] {
            let out = status(addr, json);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            assert!(out.stdout.is_empty(), "{out:?}");
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
            assert!(
                err.starts_with("cpeers status: ") && err.contains(words),
                "{err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    eprintln!("done in {:?}", started.elapsed());
}
