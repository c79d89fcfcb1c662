//! Writing a flight recording: append-only, buffered, rotated by size.
//!
//! The recorder must never hurt the node it records: a write error (disk full, file removed)
//! is reported once, counted, and recording stops; consensus carries on. Frames go through a
//! buffer that the driver flushes on every timer tick, so a killed node loses at most the last
//! tick's worth, and a reader still stops cleanly at the torn frame.
//!
//! Rotation: when the active file passes `max_bytes`, it is renamed `FILE.1` (older ones shift
//! to `FILE.2`, ... and the oldest beyond `keep` is deleted) and a new `FILE` starts with a
//! fresh header and engine checkpoint, so every file replays on its own.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::consensus::engine::{EngineCheckpoint, Input, Output};
use crate::consensus::{Time, Verdict};

use super::format::{self, Entry, Header, Mark, Outcome, RecordedInput};

/// Rotation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordOptions {
    /// Rotate once the active file is larger than this.
    pub max_bytes: u64,
    /// Rotated files kept besides the active one.
    pub keep: u32,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            max_bytes: 64 << 20,
            keep: 4,
        }
    }
}

/// Why a recording could not be started or continued.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be created or written.
    #[error("cannot write recording {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An entry could not be encoded (should not happen).
    #[error("cannot encode a recording entry: {0}")]
    Encode(#[from] postcard::Error),
}

/// An open flight recording.
pub struct Recorder {
    path: PathBuf,
    opts: RecordOptions,
    out: Option<BufWriter<File>>,
    header: Header,
    written: u64,
    frame: Vec<u8>,
    pending: Option<Outcome>,
    failed: Option<String>,
    entries: u64,
}

impl Recorder {
    /// Starts recording to `path` (replacing a file there after rotating it away) from the
    /// engine state `checkpoint`.
    pub fn create(
        path: &Path,
        opts: RecordOptions,
        header: Header,
        checkpoint: EngineCheckpoint,
    ) -> Result<Recorder, RecordError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|source| RecordError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut r = Recorder {
            path: path.to_path_buf(),
            opts,
            out: None,
            header,
            written: 0,
            frame: Vec::with_capacity(4096),
            pending: None,
            failed: None,
            entries: 0,
        };
        if path.exists() {
            r.shift_old().map_err(|source| RecordError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        }
        r.open_segment(checkpoint)?;
        Ok(r)
    }

    /// The active file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the active file so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Entries written in total.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Why recording stopped, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// Records an input about to be given to the engine. Its verdict and outputs may be noted
    /// in any order until the next input (or a flush) closes it.
    pub fn input(&mut self, at: Time, input: &Input) {
        self.finish();
        self.pending = Some(Outcome::default());
        self.write(&Entry::Input {
            at,
            input: RecordedInput::of(input),
        });
    }

    /// Notes an engine output produced by the last input.
    pub fn output(&mut self, out: &Output) {
        if let (Some(p), Some(m)) = (self.pending.as_mut(), Mark::of(out)) {
            p.marks.push(m);
        }
    }

    /// Notes the last input's verdict.
    pub fn verdict(&mut self, v: Verdict) {
        if let Some(p) = self.pending.as_mut() {
            p.verdict = Some(v);
        }
    }

    /// Records that the engine was replaced (a restart in the simulator).
    pub fn restarted(&mut self, checkpoint: EngineCheckpoint) {
        self.finish();
        self.write(&Entry::Checkpoint(Box::new(checkpoint)));
    }

    /// Writes the last input's outcome, if it is worth a frame.
    fn finish(&mut self) {
        if let Some(o) = self.pending.take()
            && o.is_notable()
        {
            self.write(&Entry::Outcome(o));
        }
    }

    /// Whether the active file is full: the driver then calls [`Recorder::rotate`] with a
    /// fresh checkpoint (between inputs).
    pub fn wants_rotation(&self) -> bool {
        self.failed.is_none() && self.written >= self.opts.max_bytes
    }

    /// Starts a new segment from `checkpoint`, keeping `keep` old ones.
    pub fn rotate(&mut self, checkpoint: EngineCheckpoint, now: Time) {
        if self.failed.is_some() {
            return;
        }
        self.flush();
        self.out = None;
        let r = self.shift_old();
        if let Err(e) = r {
            self.fail(format!("cannot rotate {}: {e}", self.path.display()));
            return;
        }
        self.header.segment += 1;
        self.header.started_at = now;
        if let Err(e) = self.open_segment(checkpoint) {
            self.fail(e.to_string());
        }
    }

    /// Hands buffered frames to the OS without closing the current input: call before an
    /// effect that outlives a crash (storing a validated ledger), so a recording always holds
    /// the input that explains what was stored.
    pub fn write_through(&mut self) {
        if let Some(out) = self.out.as_mut()
            && let Err(e) = out.flush()
        {
            let msg = format!("cannot write recording {}: {e}", self.path.display());
            self.fail(msg);
        }
    }

    /// Closes the last input and hands buffered frames to the OS (call on every timer tick,
    /// after the tick's outputs were noted).
    pub fn flush(&mut self) {
        self.finish();
        if let Some(out) = self.out.as_mut()
            && let Err(e) = out.flush()
        {
            let msg = format!("cannot write recording {}: {e}", self.path.display());
            self.fail(msg);
        }
    }

    fn open_segment(&mut self, checkpoint: EngineCheckpoint) -> Result<(), RecordError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)
            .map_err(|source| RecordError::Io {
                path: self.path.clone(),
                source,
            })?;
        let mut out = BufWriter::with_capacity(256 << 10, file);
        out.write_all(&format::prefix())
            .map_err(|source| RecordError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.out = Some(out);
        self.written = format::PREFIX_LEN as u64;
        let header = Entry::Header(self.header.clone());
        self.write(&header);
        self.write(&Entry::Checkpoint(Box::new(checkpoint)));
        self.flush();
        match &self.failed {
            Some(why) => Err(RecordError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(why.clone()),
            }),
            None => Ok(()),
        }
    }

    /// `FILE.(keep-1)` → `FILE.keep` (dropping the old `FILE.keep`), ..., `FILE` → `FILE.1`.
    fn shift_old(&self) -> std::io::Result<()> {
        let numbered = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if self.opts.keep == 0 {
            return match fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let oldest = numbered(self.opts.keep);
        if oldest.exists() {
            fs::remove_file(&oldest)?;
        }
        for n in (1..self.opts.keep).rev() {
            let from = numbered(n);
            if from.exists() {
                fs::rename(&from, numbered(n + 1))?;
            }
        }
        fs::rename(&self.path, numbered(1))
    }

    fn write(&mut self, entry: &Entry) {
        if self.failed.is_some() {
            return;
        }
        self.frame.clear();
        if let Err(e) = format::encode_frame(entry, &mut self.frame) {
            self.fail(format!("cannot encode a recording entry: {e}"));
            return;
        }
        let Some(out) = self.out.as_mut() else {
            return;
        };
        if let Err(e) = out.write_all(&self.frame) {
            let msg = format!("cannot write recording {}: {e}", self.path.display());
            self.fail(msg);
            return;
        }
        self.written += self.frame.len() as u64;
        self.entries += 1;
    }

    fn fail(&mut self, why: String) {
        if self.failed.is_none() {
            tracing::warn!("flight recorder stopped: {why}");
            self.failed = Some(why);
        }
        self.out = None;
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::consensus::engine::{Engine, EngineConfig, StartFrom};
    use crate::consensus::{ConsensusParams, NodeKey, Tx};
    use crate::record::reader;

    fn engine() -> Engine {
        Engine::new(
            EngineConfig {
                params: ConsensusParams::mainnet(),
                network_id: 7,
                unl: BTreeSet::new(),
                validating: true,
                max_pending: 100,
            },
            Some(NodeKey::from_secret([1; 32])),
            StartFrom::Genesis,
        )
    }

    fn header() -> Header {
        Header::for_tests(Time(0))
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cpeers-rec-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn rotation_keeps_the_newest_segments_and_each_starts_with_a_checkpoint() {
        let d = dir("rotate");
        let path = d.join("flight.rec");
        let e = engine();
        let opts = RecordOptions {
            max_bytes: 4096,
            keep: 2,
        };
        let mut r = Recorder::create(&path, opts, header(), e.checkpoint()).unwrap();
        let tx = Input::Txs(vec![Tx::new(vec![7u8; 200]).unwrap()]);
        for i in 0..200 {
            r.input(Time(i), &tx);
            r.verdict(Verdict::Accepted);
            if r.wants_rotation() {
                r.rotate(e.checkpoint(), Time(i));
            }
        }
        r.flush();
        assert!(d.join("flight.rec.1").exists());
        assert!(d.join("flight.rec.2").exists());
        assert!(!d.join("flight.rec.3").exists(), "keep = 2");
        let newest = reader::read(&path).unwrap();
        let older = reader::read(&d.join("flight.rec.1")).unwrap();
        assert_eq!(newest.header.segment, older.header.segment + 1);
        assert!(newest.header.segment >= 3);
        for l in [&newest, &older] {
            assert_eq!(l.damage, None);
            assert!(matches!(l.entries[1], format::Entry::Checkpoint(_)));
        }
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_existing_recording_is_moved_aside_not_overwritten() {
        let d = dir("aside");
        let path = d.join("n.rec");
        let e = engine();
        drop(Recorder::create(&path, RecordOptions::default(), header(), e.checkpoint()).unwrap());
        let first = fs::read(&path).unwrap();
        drop(Recorder::create(&path, RecordOptions::default(), header(), e.checkpoint()).unwrap());
        assert_eq!(fs::read(d.join("n.rec.1")).unwrap(), first);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn an_unwritable_place_is_a_clear_error() {
        let d = dir("unwritable");
        fs::write(d.join("file"), b"x").unwrap();
        let err = Recorder::create(
            &d.join("file").join("sub.rec"),
            RecordOptions::default(),
            header(),
            engine().checkpoint(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("cannot write recording"), "{err}");
        let _ = fs::remove_dir_all(&d);
    }
}
