//! Where `tracing` output goes: files when the dashboard owns the terminal, stderr otherwise.
//!
//! A log line written to a terminal that a TUI is drawing on corrupts the screen, and the TUI
//! erases the line, so the message is lost twice. A node running the dashboard therefore logs only
//! to files ([`to_files`]); headless runs may log to stderr ([`to_stderr`]).
//!
//! File logging is non-blocking (a slow disk never stalls the consensus loop) and rolls daily:
//! `cpeers.YYYY-MM-DD.log`, with `cpeers.log` a symlink to the current day's file (so
//! `tail -F logs/cpeers.log` keeps working across days), keeping the last [`KEEP_LOG_FILES`] days.
//!
//! `--log-level` sets cpeers' own level. Other crates (libp2p, yamux, ...) log at most at `info`
//! unless the level is `trace`: libp2p's debug output is large enough to bury ours, and whoever
//! asks for `trace` asks for everything.

use std::path::{Path, PathBuf};

use thiserror::Error;
use tracing::Level;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Daily files kept before the oldest is deleted.
pub const KEEP_LOG_FILES: usize = 14;

/// Name of the link to the current log file, inside the log directory.
pub const LOG_FILE: &str = "cpeers.log";

/// Keeps file logging alive. Dropping it flushes the lines still queued, so hold it until the
/// program ends (after the last line worth keeping was logged).
#[must_use = "dropping the guard stops file logging and loses the lines still queued"]
pub struct LogGuard {
    worker: Option<WorkerGuard>,
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard")
            .field("files", &self.worker.is_some())
            .finish()
    }
}

/// Why logging could not be set up.
#[derive(Debug, Error)]
pub enum LoggingError {
    /// `--log-level` is not one of the five levels.
    #[error("unknown log level {0:?} (expected error, warn, info, debug or trace)")]
    BadLevel(String),
    /// The log directory could not be created or used.
    #[error("{path}: cannot create the log directory: {source}", path = .path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The log file could not be opened.
    #[error("{path}: cannot open the log file: {source}", path = .path.display())]
    File {
        /// The log directory.
        path: PathBuf,
        /// What the appender reported.
        #[source]
        source: tracing_appender::rolling::InitError,
    },
    /// A global subscriber was already installed (logging set up twice).
    #[error("logging is already initialised: {0}")]
    AlreadyInitialised(String),
}

/// Parses a `--log-level` value. Only the five names are accepted (not tracing's numeric
/// levels), so a typo is an error instead of a surprising level.
pub fn parse_level(s: &str) -> Result<Level, LoggingError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(Level::ERROR),
        "warn" => Ok(Level::WARN),
        "info" => Ok(Level::INFO),
        "debug" => Ok(Level::DEBUG),
        "trace" => Ok(Level::TRACE),
        _ => Err(LoggingError::BadLevel(s.to_string())),
    }
}

/// Sends logs to daily files in `log_dir` (created if missing). Returns an error, never panics,
/// if logging was already set up.
pub fn to_files(log_dir: &Path, level: Level) -> Result<LogGuard, LoggingError> {
    std::fs::create_dir_all(log_dir).map_err(|source| LoggingError::Dir {
        path: log_dir.to_path_buf(),
        source,
    })?;
    // The appender points the `cpeers.log` symlink at `dir.join(file)`; an absolute dir keeps
    // that link valid wherever it is read from.
    let dir = log_dir.canonicalize().map_err(|source| LoggingError::Dir {
        path: log_dir.to_path_buf(),
        source,
    })?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("cpeers")
        .filename_suffix("log")
        .latest_symlink(LOG_FILE)
        .max_log_files(KEEP_LOG_FILES)
        .build(&dir)
        .map_err(|source| LoggingError::File {
            path: log_dir.to_path_buf(),
            source,
        })?;
    let (writer, worker) = tracing_appender::non_blocking(appender);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    tracing_subscriber::registry()
        .with(layer)
        .with(filter(level))
        .try_init()
        .map_err(|e| LoggingError::AlreadyInitialised(e.to_string()))?;
    Ok(LogGuard {
        worker: Some(worker),
    })
}

/// Sends logs to stderr, for runs without the dashboard. Colour only when stderr is a terminal.
pub fn to_stderr(level: Level) -> Result<LogGuard, LoggingError> {
    use std::io::IsTerminal;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    tracing_subscriber::registry()
        .with(layer)
        .with(filter(level))
        .try_init()
        .map_err(|e| LoggingError::AlreadyInitialised(e.to_string()))?;
    Ok(LogGuard { worker: None })
}

fn filter(level: Level) -> Targets {
    let others = if level == Level::TRACE {
        LevelFilter::TRACE
    } else {
        LevelFilter::from_level(level).min(LevelFilter::INFO)
    };
    Targets::new()
        .with_default(others)
        .with_target(env!("CARGO_CRATE_NAME"), level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_strictly() {
        assert_eq!(parse_level("info").unwrap(), Level::INFO);
        assert_eq!(parse_level("WARN").unwrap(), Level::WARN);
        assert_eq!(parse_level("trace").unwrap(), Level::TRACE);
        let err = parse_level("verbose").unwrap_err();
        assert!(
            err.to_string()
                .contains("error, warn, info, debug or trace")
        );
        assert!(parse_level("3").is_err());
    }

    #[test]
    fn dependencies_are_capped_at_info_below_trace() {
        let f = filter(Level::DEBUG);
        assert!(f.would_enable("cpeers::net", &Level::DEBUG));
        assert!(!f.would_enable("libp2p_gossipsub", &Level::DEBUG));
        assert!(f.would_enable("libp2p_gossipsub", &Level::INFO));
        let f = filter(Level::WARN);
        assert!(!f.would_enable("cpeers", &Level::INFO));
        assert!(!f.would_enable("libp2p_swarm", &Level::INFO));
        let f = filter(Level::TRACE);
        assert!(f.would_enable("libp2p_swarm", &Level::TRACE));
    }
}
