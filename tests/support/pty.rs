//! A `cpeers` process under a real pseudo-terminal, read back through a vt100 screen: start it,
//! type keys, wait for text on the screen, wait for it to exit. The process is killed when the
//! fixture is dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Terminal size of every PTY here.
pub const ROWS: u16 = 40;
/// Terminal size of every PTY here.
pub const COLS: u16 = 160;

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
pub fn screen(bytes: &[u8]) -> String {
    let mut p = vt100::Parser::new(ROWS, COLS, 0);
    p.process(bytes);
    p.screen().contents()
}

/// A process on a PTY.
pub struct Pty {
    /// The process.
    pub child: Child,
    /// Everything it wrote.
    pub out: Arc<Mutex<Vec<u8>>>,
    keys: std::fs::File,
}

impl Pty {
    /// Starts `cpeers ARGS` on a fresh PTY.
    pub fn spawn(args: &[&str]) -> Pty {
        let (master, slave) = openpty(ROWS, COLS);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cpeers"));
        cmd.args(args)
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
        let child = cmd.spawn().expect("cpeers starts");
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
        Pty {
            child,
            out,
            keys: std::fs::File::from(master),
        }
    }

    /// The screen now.
    pub fn screen(&self) -> String {
        screen(&self.out.lock().unwrap())
    }

    /// Everything written so far, as text (escape sequences included).
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).to_string()
    }

    /// Waits until `ok(screen)` holds; false after `secs`.
    pub fn wait_until(&self, secs: u64, ok: impl Fn(&str) -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if ok(&self.screen()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Waits until the screen shows `needle`; false after `secs`.
    pub fn wait_for(&self, needle: &str, secs: u64) -> bool {
        self.wait_until(secs, |s| s.contains(needle))
    }

    /// Types `keys` (then lets the dashboard draw).
    pub fn send(&mut self, keys: &[u8]) {
        self.keys.write_all(keys).unwrap();
        self.keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, secs: u64) -> Option<ExitStatus> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fails the test showing the screen.
    pub fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("{why}\n--- screen ---\n{}", self.screen());
    }

    /// Whether the terminal was left as found: alternate screen left, cursor shown, mouse off.
    pub fn terminal_restored(&self) -> bool {
        let text = self.raw();
        let (Some(enter), Some(leave)) = (text.find("\x1b[?1049h"), text.rfind("\x1b[?1049l"))
        else {
            return false;
        };
        leave > enter
            && (text[leave..].contains("\x1b[?25h") || text[enter..].contains("\x1b[?25h"))
            && (text.contains("\x1b[?1000l") || text.contains("\x1b[?1006l"))
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number after `prefix` on the screen (e.g. "validated #" -> 12).
pub fn number_after(screen: &str, prefix: &str) -> Option<u64> {
    let at = screen.find(prefix)? + prefix.len();
    let digits: String = screen[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}
