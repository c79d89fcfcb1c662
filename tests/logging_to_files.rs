//! File logging end to end, in its own test binary: installing the global subscriber is a
//! once-per-process act, so it cannot share a process with other tests that might log.

use std::fs;
use std::path::PathBuf;

use cpeers::logging::{LOG_FILE, LoggingError, to_files, to_stderr};
use tracing::Level;

#[test]
fn lines_reach_the_file_and_a_second_init_is_an_error() {
    let dir: PathBuf = std::env::temp_dir().join(format!("cpeers-logging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let log_dir = dir.join("nested/logs");

    let guard = to_files(&log_dir, Level::INFO).unwrap();
    tracing::info!(ledger = 42, "marker line for the file test");
    tracing::debug!("below the level: not written");

    // Setting up logging again must fail cleanly, not panic.
    assert!(matches!(
        to_files(&log_dir, Level::INFO),
        Err(LoggingError::AlreadyInitialised(_))
    ));
    assert!(matches!(
        to_stderr(Level::INFO),
        Err(LoggingError::AlreadyInitialised(_))
    ));
    drop(guard); // flushes

    let link = log_dir.join(LOG_FILE);
    let text = fs::read_to_string(&link).unwrap();
    assert!(text.contains("marker line for the file test"), "{text}");
    assert!(text.contains("ledger=42"), "{text}");
    assert!(!text.contains("below the level"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI colour codes in files: {text:?}"
    );
    // The link points at a dated file in the same directory.
    let dated: Vec<_> = fs::read_dir(&log_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cpeers.") && n.ends_with(".log") && n != LOG_FILE)
        .collect();
    assert_eq!(dated.len(), 1, "{dated:?}");

    let _ = fs::remove_dir_all(&dir);
}
