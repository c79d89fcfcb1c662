//! The flight recorder: what a node's engine saw and did, written to a compact append-only file,
//! and everything that reads it back (`cpeers replay`, `cpeers export`).
//!
//! Because the engine is deterministic and sans-IO, recording its inputs with their times is
//! enough to re-run it exactly; the outcomes recorded beside them let a replay check itself.
//!
//! - [`format`]: the file layout and entry types.
//! - [`writer`]: [`Recorder`], used by the node and the simulator (rotation by size).
//! - [`reader`]: reading a file up to its first damaged frame.
//! - [`replay`]: [`Timeline`] and [`Replayer`], stepping the engine through a recording.
//! - [`playback`]: a replay presented to the dashboard as if it were a node.
//! - [`export`]: rounds, disputes and proposals as tables.

pub mod export;
pub mod format;
pub mod playback;
pub mod reader;
pub mod replay;
pub mod writer;

pub use format::Header;
pub use reader::{Damage, Loaded, RecordingError, read};
pub use replay::{CheckReport, Mismatch, Replayer, Timeline, check};
pub use writer::{RecordError, RecordOptions, Recorder};

/// Opens the recording at `path` as a timeline.
pub fn open(path: &std::path::Path) -> Result<std::sync::Arc<Timeline>, RecordingError> {
    Ok(std::sync::Arc::new(Timeline::build(read(path)?)))
}
