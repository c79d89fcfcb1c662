//! `cpeers demo` under a real pseudo-terminal: it draws the dashboard, takes keys (help, panel
//! switch, submitting a transaction), quits on `q` with status 0, and leaves the terminal as it
//! found it (alternate screen left, cursor shown, mouse capture off).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn openpty(rows: u16, cols: u16) -> (OwnedFd, OwnedFd) {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two valid fds on success; we own them from here on.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// The screen as a terminal would show it after `bytes` (diff rendering scatters text across
/// cursor moves, so the raw bytes cannot be searched).
fn screen(bytes: &[u8]) -> String {
    let mut p = vt100::Parser::new(40, 140, 0);
    p.process(bytes);
    p.screen().contents()
}

fn wait_for(out: &Arc<Mutex<Vec<u8>>>, needle: &str, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if screen(&out.lock().unwrap()).contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn demo_runs_takes_keys_quits_and_restores_the_terminal() {
    let (master, slave) = openpty(40, 140);
    let log_dir = std::env::temp_dir().join(format!("cpeers-pty-logs-{}", std::process::id()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cpeers"));
    cmd.args(["demo", "--profile", "fast", "--nodes", "4", "--log-dir"])
        .arg(&log_dir)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("cpeers demo starts");
    let out = Arc::new(Mutex::new(Vec::new()));
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut keys = std::fs::File::from(master);
    let kill_on_failure =
        |child: &mut std::process::Child, why: &str, out: &Arc<Mutex<Vec<u8>>>| -> ! {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{why}\n--- screen ---\n{}", screen(&out.lock().unwrap()));
        };
    if !wait_for(&out, "Peers", 30) {
        kill_on_failure(&mut child, "the dashboard never drew", &out);
    }
    if !wait_for(&out, "validated #1", 30) {
        kill_on_failure(&mut child, "no ledger was validated", &out);
    }
    let send = |keys: &mut std::fs::File, s: &[u8]| {
        keys.write_all(s).unwrap();
        keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    };
    send(&mut keys, b"?");
    if !wait_for(&out, "search:", 5) {
        kill_on_failure(&mut child, "help did not open", &out);
    }
    send(&mut keys, b"\x1b");
    send(&mut keys, b"2");
    send(&mut keys, b"t");
    send(&mut keys, b"hello-from-the-pty\r");
    if !wait_for(&out, "submitted 1 transaction", 5) {
        kill_on_failure(&mut child, "the submission was not confirmed", &out);
    }
    send(&mut keys, b"q");
    let end = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > end {
            kill_on_failure(&mut child, "q did not quit", &out);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(status.success(), "exit status {status:?}");
    let text = String::from_utf8_lossy(&out.lock().unwrap()).to_string();
    let enter = text
        .find("\x1b[?1049h")
        .expect("entered the alternate screen");
    let leave = text
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen");
    assert!(leave > enter);
    assert!(
        text[leave..].contains("\x1b[?25h") || text[enter..].contains("\x1b[?25h"),
        "cursor shown again"
    );
    assert!(
        text.contains("\x1b[?1000l") || text.contains("\x1b[?1006l"),
        "mouse capture turned off"
    );
    let _ = std::fs::remove_dir_all(&log_dir);
    let _ = AsRawFd::as_raw_fd(&keys);
}
