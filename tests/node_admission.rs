//! Submit admission on real node processes: a burst far above the pending pool's cap is
//! answered per transaction (accepted, known, refused with the reason, 503 with Retry-After
//! while the pool is full), every accepted transaction ends up fully validated, the node's
//! status counts exactly that, and `cpeers submit` prints the counts and exits non-zero when
//! anything was refused.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;

const CAP: usize = 300;

/// One raw `POST /submit`: the status line and headers, lowercased, and the body.
fn raw_submit(c: &LocalCluster, body: &str) -> (String, String) {
    let node = &c.nodes[0];
    let token = node.token().unwrap();
    let mut s = std::net::TcpStream::connect(node.admin).unwrap();
    write!(
        s,
        "POST /submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token.as_str(),
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn a_burst_above_the_pool_cap_is_refused_in_words_and_every_accepted_transaction_validates() {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let c = LocalCluster::start_with_config(
        bin,
        "admission",
        3,
        Profile::Fast,
        &[],
        &format!("max_pending_txs = {CAP}\n"),
    )
    .expect("cluster starts");
    assert!(
        c.wait_for(Duration::from_secs(40), |c| c.min_validated(&[0, 1, 2])
            >= 2),
        "{}",
        c.tails()
    );
    let mut accepted: BTreeSet<String> = BTreeSet::new();
    let (mut refused, mut known, mut sent) = (0usize, 0usize, 0usize);
    let mut saw_503 = false;
    for b in 0..20 {
        let txs: Vec<String> = (0..100).map(|k| format!("burst-{b}-{k}")).collect();
        sent += txs.len();
        let body = serde_json::json!({ "txs": txs }).to_string();
        let (head, text) = raw_submit(&c, &body);
        let a: cpeers::contract::Admission = serde_json::from_str(&text).expect("an admission");
        if !a.refused.is_empty() {
            assert!(head.starts_with("http/1.1 503"), "{head}");
            assert!(head.contains("retry-after: "), "{head}");
            assert!(a.retry_after_s.is_some());
            saw_503 = true;
        } else {
            assert!(head.starts_with("http/1.1 200"), "{head}");
        }
        let refused_here: BTreeSet<usize> = a.refused.iter().map(|r| r.index).collect();
        for r in &a.refused {
            assert!(r.reason.starts_with("pool_full:"), "{}", r.reason);
        }
        assert_eq!(a.accepted + a.known + a.refused.len(), txs.len());
        for (i, t) in txs.iter().enumerate() {
            if !refused_here.contains(&i) {
                accepted.insert(t.clone());
            }
        }
        refused += a.refused.len();
        known += a.known;
    }
    assert!(
        saw_503,
        "2,000 transactions in a burst must overflow a pool of {CAP}"
    );
    assert!(refused > 0 && accepted.len() >= CAP);
    assert_eq!(known, 0);
    assert_eq!(accepted.len() + refused, sent);
    // Every accepted one is validated (by every node), none of the refused ones was taken.
    assert!(
        c.wait_for(Duration::from_secs(60), |c| {
            [0, 1, 2].iter().all(|&i| {
                let have = c.validated_txs(i);
                accepted.iter().all(|t| have.contains(t))
            })
        }),
        "accepted transactions missing\n{}",
        c.tails()
    );
    let validated = c.validated_txs(0);
    assert_eq!(
        validated.iter().filter(|t| t.starts_with("burst-")).count(),
        accepted.len()
    );
    let mut s = serde_json::Value::Null;
    assert!(c.wait_for(Duration::from_secs(10), |c| {
        s = c.status(0).unwrap_or_default()["submissions"].clone();
        s["outstanding"].as_u64() == Some(0)
    }));
    assert_eq!(s["accepted"].as_u64(), Some(accepted.len() as u64), "{s}");
    assert_eq!(s["validated"].as_u64(), Some(accepted.len() as u64), "{s}");
    assert_eq!(
        s["refused"]["pool_full"].as_u64(),
        Some(refused as u64),
        "{s}"
    );
    assert!(s["dropped"].as_object().is_none_or(|d| d.is_empty()), "{s}");

    // `cpeers submit`: counts on stdout, exit 0 when all went in, 1 when any was refused, and
    // a clear error without the token.
    let cfg = c.nodes[0].config();
    let run = |args: &[&str]| {
        Command::new(bin)
            .arg("submit")
            .args(args)
            .output()
            .expect("cpeers submit runs")
    };
    let ok = run(&["--config", cfg.to_str().unwrap(), "cli-ok"]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success() && out.contains("accepted 1, known 0, refused 0"),
        "{out}"
    );
    let big = "x".repeat(2000);
    let bad = run(&["--config", cfg.to_str().unwrap(), "cli-fine", &big]);
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains("accepted 1, known 0, refused 1") && out.contains("#1: invalid:"),
        "{out}"
    );
    let admin = c.nodes[0].admin.to_string();
    let none = run(&["--admin", &admin, "no-token"]);
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(
        !none.status.success() && err.contains("admin token"),
        "{err}"
    );
}
