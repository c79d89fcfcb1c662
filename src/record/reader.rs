//! Reading a flight recording back: every intact frame up to the first damaged one.
//!
//! A recording is evidence, so a damaged one is not thrown away: the reader returns the entries
//! before the damage together with a [`Damage`] saying where and why it stopped. Only a file
//! that is not a recording at all (or has no usable start) is an error.

use std::fs;
use std::path::{Path, PathBuf};

use super::format::{self, Entry, FRAME_HEAD, Header, MAGIC, MAX_FRAME, PREFIX_LEN, VERSION};

/// Why a file cannot be replayed at all.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The file cannot be read.
    #[error("cannot read recording {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a cpeers recording.
    #[error("{path} is not a cpeers recording (it does not start with {magic:?})")]
    NotARecording {
        /// The file.
        path: PathBuf,
        /// The expected start.
        magic: &'static str,
    },
    /// Written by another format version.
    #[error("{path} is recording format version {found}; this cpeers reads version {VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u16,
    },
    /// The header or the starting checkpoint is missing or damaged: nothing can be replayed.
    #[error("{path} has no usable start: {why}")]
    NoStart {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// Where and why reading stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset of the bad frame.
    pub offset: u64,
    /// Index of the entry that could not be read (entries before it are good).
    pub entry: usize,
    /// What is wrong.
    pub why: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "damaged at byte {} (entry {}): {}; the {} entries before it replay",
            self.offset, self.entry, self.why, self.entry
        )
    }
}

/// A recording as read.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file.
    pub path: PathBuf,
    /// The segment's header.
    pub header: Header,
    /// All intact entries, the header first.
    pub entries: Vec<Entry>,
    /// Where reading stopped early, if it did.
    pub damage: Option<Damage>,
    /// File size.
    pub bytes: u64,
}

/// Reads the recording at `path`.
pub fn read(path: &Path) -> Result<Loaded, RecordingError> {
    let bytes = fs::read(path).map_err(|source| RecordingError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &bytes)
}

/// Parses recording bytes (`path` only names the file in messages).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Loaded, RecordingError> {
    if bytes.len() < PREFIX_LEN || bytes[..MAGIC.len()] != MAGIC {
        return Err(RecordingError::NotARecording {
            path: path.to_path_buf(),
            magic: "CPEERREC",
        });
    }
    let found = u16::from_le_bytes([bytes[MAGIC.len()], bytes[MAGIC.len() + 1]]);
    if found != VERSION {
        return Err(RecordingError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    let mut entries = Vec::new();
    let mut at = PREFIX_LEN;
    let mut damage = None;
    while at < bytes.len() {
        match frame(&bytes[at..]) {
            Ok((entry, used)) => {
                entries.push(entry);
                at += used;
            }
            Err(why) => {
                damage = Some(Damage {
                    offset: at as u64,
                    entry: entries.len(),
                    why,
                });
                break;
            }
        }
    }
    let header = match entries.first() {
        Some(Entry::Header(h)) => h.clone(),
        _ => {
            return Err(RecordingError::NoStart {
                path: path.to_path_buf(),
                why: match &damage {
                    Some(d) if d.entry == 0 => format!("the header is {}", d.why),
                    _ => "the first entry is not a header".into(),
                },
            });
        }
    };
    if !matches!(entries.get(1), Some(Entry::Checkpoint(_))) {
        return Err(RecordingError::NoStart {
            path: path.to_path_buf(),
            why: match &damage {
                Some(d) if d.entry <= 1 => format!("the engine checkpoint is {}", d.why),
                _ => "the header is not followed by an engine checkpoint".into(),
            },
        });
    }
    Ok(Loaded {
        path: path.to_path_buf(),
        header,
        entries,
        damage,
        bytes: bytes.len() as u64,
    })
}

/// One frame from the start of `bytes`: the entry and the bytes it used.
fn frame(bytes: &[u8]) -> Result<(Entry, usize), String> {
    if bytes.len() < FRAME_HEAD {
        return Err(format!(
            "truncated: {} bytes of a frame header (was the recorder killed mid-write?)",
            bytes.len()
        ));
    }
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if len > MAX_FRAME {
        return Err(format!(
            "corrupt: a frame claims {len} bytes (limit {MAX_FRAME})"
        ));
    }
    let Some(payload) = bytes.get(FRAME_HEAD..FRAME_HEAD + len) else {
        return Err(format!(
            "truncated: the last frame has {} of its {len} bytes (was the recorder killed mid-write?)",
            bytes.len() - FRAME_HEAD
        ));
    };
    if crc32fast::hash(payload) != crc {
        return Err("corrupt: checksum mismatch".into());
    }
    let entry: Entry = match postcard::from_bytes(payload) {
        Ok(e) => e,
        Err(e) => return Err(format!("corrupt: undecodable entry ({e})")),
    };
    Ok((entry, FRAME_HEAD + len))
}

/// Encodes entries as a complete recording (tests and tools).
pub fn to_bytes(entries: &[Entry]) -> Result<Vec<u8>, postcard::Error> {
    let mut out = format::prefix().to_vec();
    for e in entries {
        format::encode_frame(e, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::consensus::engine::{Engine, EngineConfig, StartFrom};
    use crate::consensus::{ConsensusParams, NodeKey, Time, Tx, Verdict};
    use crate::record::format::{Entry, Header, Mark, Outcome, RecordedInput};

    fn header() -> Header {
        Header::for_tests(Time(1000))
    }

    fn entries() -> Vec<Entry> {
        let key = NodeKey::from_secret([1; 32]);
        let engine = Engine::new(
            EngineConfig {
                params: ConsensusParams::mainnet(),
                network_id: 7,
                unl: BTreeSet::new(),
                validating: true,
                max_pending: 100,
            },
            Some(key),
            StartFrom::Genesis,
        );
        let mut v = vec![
            Entry::Header(header()),
            Entry::Checkpoint(Box::new(engine.checkpoint())),
        ];
        for i in 0..20 {
            v.push(Entry::Input {
                at: Time(1000 + i),
                input: if i % 3 == 0 {
                    RecordedInput::Txs(vec![Tx::new(format!("tx {i}")).unwrap()])
                } else {
                    RecordedInput::Tick
                },
            });
            if i % 5 == 0 {
                v.push(Entry::Outcome(Outcome {
                    verdict: Some(Verdict::Accepted),
                    marks: vec![Mark::Phase(crate::consensus::engine::Phase::Establish)],
                }));
            }
        }
        v
    }

    fn path() -> &'static Path {
        Path::new("test.rec")
    }

    #[test]
    fn what_was_written_reads_back_whole() {
        let e = entries();
        let bytes = to_bytes(&e).unwrap();
        let l = parse(path(), &bytes).unwrap();
        assert_eq!(l.entries.len(), e.len());
        assert_eq!(l.damage, None);
        assert_eq!(l.header, header());
    }

    #[test]
    fn a_truncated_recording_reads_up_to_the_torn_frame() {
        let e = entries();
        let bytes = to_bytes(&e).unwrap();
        let cut = &bytes[..bytes.len() - 3];
        let l = parse(path(), cut).unwrap();
        assert_eq!(l.entries.len(), e.len() - 1);
        let d = l.damage.unwrap();
        assert_eq!(d.entry, e.len() - 1);
        assert!(d.why.contains("truncated"), "{}", d.why);
    }

    #[test]
    fn a_flipped_byte_stops_reading_at_that_frame_with_a_checksum_error() {
        let e = entries();
        let bytes = to_bytes(&e[..10]).unwrap();
        let good = bytes.len();
        let mut bytes = to_bytes(&e).unwrap();
        // Damage the payload of the 11th frame (entry index 10).
        bytes[good + FRAME_HEAD + 1] ^= 0xff;
        let l = parse(path(), &bytes).unwrap();
        assert_eq!(l.entries.len(), 10);
        let d = l.damage.unwrap();
        assert_eq!((d.entry, d.offset), (10, good as u64));
        assert!(d.why.contains("checksum"), "{}", d.why);
    }

    #[test]
    fn other_files_are_refused_with_a_clear_error() {
        let err = parse(path(), b"hello world, not a recording").unwrap_err();
        assert!(err.to_string().contains("not a cpeers recording"), "{err}");
        let mut v2 = format::prefix().to_vec();
        v2[MAGIC.len()] = 9;
        let err = parse(path(), &v2).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
        let err = parse(path(), &format::prefix()).unwrap_err();
        assert!(err.to_string().contains("no usable start"), "{err}");
        let mut bytes = to_bytes(&entries()).unwrap();
        bytes[PREFIX_LEN + FRAME_HEAD] ^= 0xff;
        let err = parse(path(), &bytes).unwrap_err();
        assert!(err.to_string().contains("header"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Whatever is appended after a good start, reading never panics, and the entries it
        /// returns are a prefix of what was written.
        #[test]
        fn damage_anywhere_never_panics_and_keeps_a_prefix(
            at in 0usize..4000,
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            cut in 0usize..4000,
        ) {
            let e = entries();
            let mut bytes = to_bytes(&e).unwrap();
            let at = at % bytes.len();
            for (i, b) in junk.iter().enumerate() {
                if let Some(x) = bytes.get_mut(at + i) {
                    *x ^= b;
                }
            }
            bytes.truncate(bytes.len() - cut % bytes.len());
            if let Ok(l) = parse(path(), &bytes) {
                proptest::prop_assert!(l.entries.len() <= e.len());
                for (a, b) in l.entries.iter().zip(&e).skip(2) {
                    proptest::prop_assert_eq!(format!("{a:?}"), format!("{b:?}"));
                }
            }
        }
    }
}
