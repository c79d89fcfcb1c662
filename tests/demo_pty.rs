//! `cpeers demo` under a real pseudo-terminal: it draws the dashboard (attached to n0 through
//! n0's API, as `cpeers attach` would), takes keys (help, panel switch, submitting a
//! transaction, answered by the node's admission), quits on `q` with status 0, and leaves the
//! terminal as it found it (alternate screen left, cursor shown, mouse capture off).

#[path = "support/pty.rs"]
mod pty;

use pty::Pty;

#[test]
fn demo_runs_takes_keys_quits_and_restores_the_terminal() {
    let log_dir = std::env::temp_dir().join(format!("cpeers-pty-logs-{}", std::process::id()));
    let log = log_dir.display().to_string();
    let mut p = Pty::spawn(&[
        "demo",
        "--profile",
        "fast",
        "--nodes",
        "4",
        "--log-dir",
        &log,
    ]);
    if !p.wait_for("Peers", 30) {
        p.fail("the dashboard never drew");
    }
    if !p.wait_for("validated #1", 30) {
        p.fail("no ledger was validated");
    }
    p.send(b"?");
    if !p.wait_for("search:", 5) {
        p.fail("help did not open");
    }
    p.send(b"\x1b");
    p.send(b"2");
    p.send(b"t");
    p.send(b"hello-from-the-pty\r");
    if !p.wait_for("submitted 1 transaction(s): 1 accepted", 5) {
        p.fail("the node's admission was not shown");
    }
    p.send(b"q");
    let Some(status) = p.wait_exit(20) else {
        p.fail("q did not quit");
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(status.success(), "exit status {status:?}");
    assert!(p.terminal_restored(), "terminal not restored");
    let _ = std::fs::remove_dir_all(&log_dir);
}
