//! `cpeers attach` under real pseudo-terminals against real node processes on 127.0.0.1: the
//! panels draw and stay live, `q` detaches and the node keeps running, three dashboards attach
//! at once (one of them to three nodes, with the network view), a dashboard without the token
//! is read-only and says so when a key needs it, and a dashboard rides out its node being
//! killed (-9) and restarted: the disconnected line appears, then the panels are live again.

#[path = "support/pty.rs"]
mod pty;

use std::path::Path;
use std::time::Duration;

use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;
use pty::{Pty, number_after};

fn cluster(name: &str) -> LocalCluster {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let c = LocalCluster::start(bin, name, 3, Profile::Fast).expect("cluster starts");
    assert!(
        c.wait_for(Duration::from_secs(40), |c| c.min_validated(&[0, 1, 2])
            >= 2),
        "{}",
        c.tails()
    );
    c
}

/// Waits until the dashboard shows a validated ledger, then a later one.
fn live(p: &mut Pty, what: &str) {
    if !p.wait_for("Peers", 20) {
        p.fail(&format!("{what}: the dashboard never drew"));
    }
    if !p.wait_until(20, |s| number_after(s, "validated #").is_some()) {
        p.fail(&format!("{what}: no validated ledger shown"));
    }
    let first = number_after(&p.screen(), "validated #").unwrap_or(0);
    if !p.wait_until(20, |s| {
        number_after(s, "validated #").is_some_and(|n| n > first)
    }) {
        p.fail(&format!(
            "{what}: the panels are not live (stuck at #{first})"
        ));
    }
}

fn subscribers(c: &LocalCluster, i: usize) -> u64 {
    c.status(i)
        .and_then(|s| s["api"]["subscribers"].as_u64())
        .unwrap_or(0)
}

#[test]
fn attach_is_live_detaches_with_q_three_attach_at_once_and_read_only_says_so() {
    let c = cluster("attach-pty");
    let cfg0 = c.nodes[0].config().display().to_string();
    let a0 = c.nodes[0].admin.to_string();
    let a1 = c.nodes[1].admin.to_string();
    let a2 = c.nodes[2].admin.to_string();

    let mut d1 = Pty::spawn(&["attach", "--config", &cfg0]);
    live(&mut d1, "attach --config");
    let mut d2 = Pty::spawn(&["attach", &a0]);
    live(&mut d2, "attach without a token");
    let mut d3 = Pty::spawn(&["attach", "--config", &cfg0, &a1, &a2]);
    live(&mut d3, "attach to three nodes");
    assert!(
        c.wait_for(Duration::from_secs(5), |c| subscribers(c, 0) == 3),
        "three dashboards on node 0, status says {}",
        subscribers(&c, 0)
    );

    // Without the token: read-only, said in the header, and a key that needs it says why.
    if !d2.wait_for("read-only", 5) {
        d2.fail("the header does not say read-only");
    }
    d2.send(b"t");
    if !d2.wait_for(
        "read-only: submitting a transaction needs the node's admin token",
        5,
    ) {
        d2.fail("t did not explain why it cannot submit");
    }

    // Three nodes: the header lists them, N shows who agrees with whom, n switches.
    if !d3.wait_until(10, |s| s.contains("▶A") && s.contains(&format!("B {a1}"))) {
        d3.fail("the header does not list the attached nodes");
    }
    d3.send(b"N");
    if !d3.wait_until(10, |s| {
        s.contains("Network · 3 attached nodes") && s.contains("B C")
    }) {
        d3.fail("the network view does not show A agreeing with B and C");
    }
    d3.send(b"\x1b");
    std::thread::sleep(Duration::from_millis(200));
    d3.send(b"n");
    if !d3.wait_for(&format!("showing {a1}"), 5) {
        d3.fail("n did not switch to the second node");
    }

    // With the token a submission goes through and the admission is shown.
    d1.send(b"t");
    d1.send(b"from-attach\r");
    if !d1.wait_for("1 accepted", 10) {
        d1.fail("the submission was not answered");
    }

    // q detaches: the process ends cleanly, the terminal is restored, the node runs on.
    d1.send(b"q");
    let Some(status) = d1.wait_exit(10) else {
        d1.fail("q did not detach");
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(d1.terminal_restored(), "terminal not restored after q");
    let seq = c
        .validated_seq(0)
        .expect("node 0 still answers after a detach");
    assert!(
        c.wait_for(Duration::from_secs(10), |c| c.validated_seq(0) > Some(seq)),
        "node 0 keeps validating"
    );
    assert!(c.wait_for(Duration::from_secs(5), |c| subscribers(c, 0) == 2));
}

#[test]
fn a_dashboard_rides_out_its_node_being_killed_and_restarted() {
    let mut c = cluster("attach-restart");
    let cfg = c.nodes[2].config().display().to_string();
    let addr = c.nodes[2].admin.to_string();
    let mut d = Pty::spawn(&["attach", "--config", &cfg]);
    live(&mut d, "attached to node 2");

    c.kill(2);
    let line = format!("disconnected from {addr} since");
    if !d.wait_for(&line, 10) {
        d.fail("no disconnected line after kill -9");
    }
    if !d.wait_for("STALE", 2) {
        d.fail("the panels are not marked stale");
    }
    let before = number_after(&d.screen(), "validated #").unwrap_or(0);

    c.start_node(2).expect("node 2 restarts");
    if !d.wait_until(30, |s| !s.contains(&line) && !s.contains("STALE")) {
        d.fail("the dashboard did not reconnect");
    }
    if !d.wait_until(30, |s| {
        number_after(s, "validated #").is_some_and(|n| n > before + 1)
    }) {
        d.fail("the panels are not live after the restart");
    }
    if !d.wait_for("reconnected to", 5) {
        d.fail("the log does not say it reconnected");
    }
    d.send(b"q");
    let Some(status) = d.wait_exit(10) else {
        d.fail("q did not detach");
    };
    assert!(status.success());
}
