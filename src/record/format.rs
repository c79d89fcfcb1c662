//! The recording file format: what a flight recording holds and how it is framed on disk.
//!
//! ```text
//! file   := MAGIC (8 bytes) VERSION (u16 LE) frame*
//! frame  := len (u32 LE) crc32 (u32 LE, of payload) payload (postcard Entry, len bytes)
//! ```
//!
//! Every segment starts with a [`Entry::Header`] and an [`Entry::Checkpoint`] of the engine, so
//! any one segment replays on its own. After that come [`Entry::Input`]s (what the engine was
//! given, with the time) each optionally followed by an [`Entry::Outcome`] (what it made of it,
//! for the replay's self-check). An input without an outcome was accepted and changed nothing
//! a replay checks. Frames are self-delimiting and checksummed, so a reader stops exactly at the
//! first damaged or truncated frame and everything before it still replays.
//!
//! Messages are stored signed, as they arrived; replay verifies them again.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::consensus::dispute::Voter;
use crate::consensus::engine::{Command, EngineCheckpoint, Event, Input, Mode, Output, Phase};
use crate::consensus::ledger::{Ledger, LedgerHeader, Seq};
use crate::consensus::proposal::SignedProposal;
use crate::consensus::unl::SignedUnl;
use crate::consensus::validation::SignedValidation;
use crate::consensus::{Hash256, NodeId, Refusal, Time, Tx, TxId, TxSet, Verdict};

/// First bytes of every recording.
pub const MAGIC: [u8; 8] = *b"CPEERREC";
/// Format version; a reader refuses others.
pub const VERSION: u16 = 1;
/// Bytes before the first frame.
pub const PREFIX_LEN: usize = MAGIC.len() + 2;
/// Bytes of a frame's length and checksum.
pub const FRAME_HEAD: usize = 8;
/// Largest frame a reader accepts (a checkpoint of a busy node is the biggest thing written).
pub const MAX_FRAME: usize = 256 << 20;

/// One record in a recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Entry {
    /// Who recorded this segment and when.
    Header(Header),
    /// The engine's complete state: replay starts (or restarts) from here.
    Checkpoint(Box<EngineCheckpoint>),
    /// One input, at the time the engine was given it.
    Input {
        /// The engine's `now` for this input.
        at: Time,
        /// The input.
        input: RecordedInput,
    },
    /// What the engine made of the input before it.
    Outcome(Outcome),
}

/// The first entry of every segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// cpeers version that wrote it.
    pub cpeers_version: String,
    /// The recorded node's validator key.
    pub node: NodeId,
    /// A name to show (demo or simulator node name, or the short key).
    pub name: String,
    /// Network id (replay verifies signatures against it).
    pub network_id: u32,
    /// What was recorded: `node`, or `sim <scenario> seed <n>`.
    pub source: String,
    /// Segment number: 0 for the first file, then one more at every rotation.
    pub segment: u32,
    /// When the segment was started (engine time).
    pub started_at: Time,
}

#[cfg(test)]
impl Header {
    /// A header for node key `[1; 32]` named "a" on network 7, for the record module's tests.
    pub(crate) fn for_tests(started_at: Time) -> Header {
        Header {
            cpeers_version: "test".into(),
            node: crate::consensus::NodeKey::from_secret([1; 32]).id(),
            name: "a".into(),
            network_id: 7,
            source: "test".into(),
            segment: 0,
            started_at,
        }
    }
}

/// An engine input in stored form: messages as signed, sets and ledgers as their contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordedInput {
    /// [`Input::Start`].
    Start,
    /// [`Input::Tick`].
    Tick,
    /// A peer's signed proposal.
    Proposal(Arc<SignedProposal>),
    /// A peer's signed validation.
    Validation(Arc<SignedValidation>),
    /// A validator's signed UNL.
    Unl(Arc<SignedUnl>),
    /// Relayed transactions.
    Txs(Vec<Tx>),
    /// An acquired transaction set.
    TxSet(Vec<Tx>),
    /// An acquired ledger.
    Ledger {
        /// Its header.
        header: LedgerHeader,
        /// Its transactions.
        txs: Vec<Tx>,
    },
    /// A message refused before the engine.
    Refused {
        /// Claimed sender.
        from: Option<NodeId>,
        /// Why.
        why: Refusal,
    },
    /// An operator command.
    Command(RecordedCommand),
    /// [`Input::PeersConnected`].
    PeersConnected(u32),
}

/// [`Command`] in stored form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordedCommand {
    /// [`Command::Submit`].
    Submit(Vec<Tx>),
    /// [`Command::InjectPosition`].
    InjectPosition {
        /// The set.
        txs: Vec<Tx>,
        /// Close time.
        close_time: Option<Time>,
    },
    /// [`Command::OverrideVote`].
    OverrideVote {
        /// The disputed transaction.
        tx: TxId,
        /// The pinned vote.
        vote: Option<bool>,
    },
}

/// Why a stored input cannot be given to the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A stored message's signature does not verify.
    #[error("the recorded {0} does not verify: {1}")]
    Signature(&'static str, String),
    /// A stored ledger's transactions do not match its header.
    #[error("the recorded ledger is inconsistent: {0}")]
    Ledger(String),
}

impl RecordedInput {
    /// The stored form of `input`.
    pub fn of(input: &Input) -> RecordedInput {
        match input {
            Input::Start => RecordedInput::Start,
            Input::Tick => RecordedInput::Tick,
            Input::Proposal(p) => RecordedInput::Proposal(p.signed().clone()),
            Input::Validation(v) => RecordedInput::Validation(v.signed().clone()),
            Input::Unl(u) => RecordedInput::Unl(u.signed().clone()),
            Input::Txs(txs) => RecordedInput::Txs(txs.clone()),
            Input::TxSet(set) => RecordedInput::TxSet(set.iter().cloned().collect()),
            Input::Ledger(l) => RecordedInput::Ledger {
                header: l.header().clone(),
                txs: l.txs().iter().cloned().collect(),
            },
            Input::Refused { from, why } => RecordedInput::Refused {
                from: *from,
                why: *why,
            },
            Input::PeersConnected(n) => {
                RecordedInput::PeersConnected(u32::try_from(*n).unwrap_or(u32::MAX))
            }
            Input::Command(c) => RecordedInput::Command(match c {
                Command::Submit(txs) => RecordedCommand::Submit(txs.clone()),
                Command::InjectPosition { txs, close_time } => RecordedCommand::InjectPosition {
                    txs: txs.clone(),
                    close_time: *close_time,
                },
                Command::OverrideVote { tx, vote } => RecordedCommand::OverrideVote {
                    tx: *tx,
                    vote: *vote,
                },
            }),
        }
    }

    /// The engine input, with signatures checked again against `network_id`.
    pub fn to_input(
        &self,
        verifier: &mut crate::consensus::Verifier,
        network_id: u32,
    ) -> Result<Input, InputError> {
        Ok(match self {
            RecordedInput::Start => Input::Start,
            RecordedInput::Tick => Input::Tick,
            RecordedInput::Proposal(p) => Input::Proposal(
                SignedProposal::clone(p)
                    .verify(verifier, network_id)
                    .map_err(|e| InputError::Signature("proposal", e.to_string()))?,
            ),
            RecordedInput::Validation(v) => Input::Validation(
                SignedValidation::clone(v)
                    .verify(verifier, network_id)
                    .map_err(|e| InputError::Signature("validation", e.to_string()))?,
            ),
            RecordedInput::Unl(u) => Input::Unl(
                SignedUnl::clone(u)
                    .verify(verifier, network_id)
                    .map_err(|e| InputError::Signature("UNL", e.to_string()))?,
            ),
            RecordedInput::Txs(txs) => Input::Txs(txs.clone()),
            RecordedInput::TxSet(txs) => Input::TxSet(Arc::new(TxSet::new(txs.iter().cloned()))),
            RecordedInput::Ledger { header, txs } => Input::Ledger(Arc::new(
                Ledger::from_parts(header.clone(), Arc::new(TxSet::new(txs.iter().cloned())))
                    .map_err(|e| InputError::Ledger(e.to_string()))?,
            )),
            RecordedInput::Refused { from, why } => Input::Refused {
                from: *from,
                why: *why,
            },
            RecordedInput::PeersConnected(n) => Input::PeersConnected(*n as usize),
            RecordedInput::Command(c) => Input::Command(match c {
                RecordedCommand::Submit(txs) => Command::Submit(txs.clone()),
                RecordedCommand::InjectPosition { txs, close_time } => Command::InjectPosition {
                    txs: txs.clone(),
                    close_time: *close_time,
                },
                RecordedCommand::OverrideVote { tx, vote } => Command::OverrideVote {
                    tx: *tx,
                    vote: *vote,
                },
            }),
        })
    }

    /// A short description for mismatch reports and the timeline.
    pub fn describe(&self) -> String {
        match self {
            RecordedInput::Start => "start".into(),
            RecordedInput::Tick => "timer tick".into(),
            RecordedInput::Proposal(p) => format!(
                "proposal from {} seq {} position {}",
                p.proposal.node.short(),
                p.proposal.seq,
                p.proposal.position.short()
            ),
            RecordedInput::Validation(v) => format!(
                "validation from {} of ledger {} {}",
                v.validation.node.short(),
                v.validation.seq,
                v.validation.ledger.short()
            ),
            RecordedInput::Unl(u) => format!("UNL of {}", u.announcement.node.short()),
            RecordedInput::Txs(t) => format!("{} relayed transactions", t.len()),
            RecordedInput::TxSet(t) => format!("transaction set of {}", t.len()),
            RecordedInput::Ledger { header, .. } => format!("ledger {}", header.seq),
            RecordedInput::Refused { from, why } => match from {
                Some(n) => format!("refused message from {}: {why}", n.short()),
                None => format!("refused message: {why}"),
            },
            RecordedInput::Command(RecordedCommand::Submit(t)) => {
                format!("operator submitted {} transactions", t.len())
            }
            RecordedInput::Command(RecordedCommand::InjectPosition { txs, .. }) => {
                format!("operator injected a position of {} transactions", txs.len())
            }
            RecordedInput::Command(RecordedCommand::OverrideVote { tx, vote }) => {
                format!("operator pinned the vote on {} to {vote:?}", tx.short())
            }
            RecordedInput::PeersConnected(n) => format!("{n} peers connected"),
        }
    }
}

/// What one input did, as far as replay checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// What the engine made of the input.
    pub verdict: Option<Verdict>,
    /// What happened because of it, in order.
    pub marks: Vec<Mark>,
}

impl Outcome {
    /// Whether an outcome frame is needed (otherwise: accepted, nothing happened).
    pub fn is_notable(&self) -> bool {
        !self.marks.is_empty() || matches!(self.verdict, Some(Verdict::Refused(_)))
    }
}

/// Something the engine did that replay must reproduce exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    /// Phase changed.
    Phase(Phase),
    /// Mode changed.
    Mode(Mode),
    /// A round began building `seq` on `prev`.
    RoundStarted {
        /// Sequence being built.
        seq: Seq,
        /// Ledger built upon.
        prev: Hash256,
    },
    /// We took a position.
    Position {
        /// Proposal sequence.
        seq: u32,
        /// Set id.
        position: Hash256,
        /// Close time.
        close_time: Time,
    },
    /// A transaction became disputed.
    DisputeCreated {
        /// The transaction.
        tx: TxId,
        /// Our vote.
        our_vote: bool,
    },
    /// A vote on a dispute was cast or flipped.
    Vote {
        /// The transaction.
        tx: TxId,
        /// Whose vote.
        voter: Voter,
        /// The vote.
        yes: bool,
    },
    /// We built a ledger.
    Accepted {
        /// Sequence.
        seq: Seq,
        /// Hash.
        hash: Hash256,
        /// How the round ended (`yes`, `moved_on`, `expired`).
        result: String,
        /// Establish time (ms).
        round_ms: i64,
        /// Proposers.
        proposers: u32,
    },
    /// A ledger became fully validated.
    FullyValidated {
        /// Sequence.
        seq: Seq,
        /// Hash.
        hash: Hash256,
    },
    /// We switched to another ledger.
    Switched {
        /// Ledger left.
        from: Hash256,
        /// Ledger now built on.
        to: Hash256,
        /// Its sequence.
        seq: Seq,
    },
    /// Validations fully validated a ledger off our chain.
    Fork {
        /// Ours.
        ours: Hash256,
        /// Theirs.
        theirs: Hash256,
    },
}

impl Mark {
    /// The mark an engine output leaves, if replay checks it.
    pub fn of(out: &Output) -> Option<Mark> {
        Some(match out {
            Output::PhaseChanged(p) => Mark::Phase(*p),
            Output::ModeChanged(m) => Mark::Mode(*m),
            Output::LedgerAccepted(a) => Mark::Accepted {
                seq: a.ledger.seq(),
                hash: a.ledger.hash(),
                result: a.result.name().to_string(),
                round_ms: a.round_ms,
                proposers: a.proposers as u32,
            },
            Output::LedgerFullyValidated(l) => Mark::FullyValidated {
                seq: l.seq(),
                hash: l.hash(),
            },
            Output::LedgerSwitched { from, to } => Mark::Switched {
                from: *from,
                to: to.hash(),
                seq: to.seq(),
            },
            Output::Event(Event::RoundStarted { prev_ledger, seq }) => Mark::RoundStarted {
                seq: *seq,
                prev: *prev_ledger,
            },
            Output::Event(Event::PositionChanged {
                seq,
                position,
                close_time,
                ..
            }) => Mark::Position {
                seq: *seq,
                position: *position,
                close_time: *close_time,
            },
            Output::Event(Event::DisputeCreated { tx, our_vote }) => Mark::DisputeCreated {
                tx: *tx,
                our_vote: *our_vote,
            },
            Output::Event(Event::VoteChanged { tx, voter, yes }) => Mark::Vote {
                tx: *tx,
                voter: *voter,
                yes: *yes,
            },
            Output::Event(Event::ForkDetected { ours, theirs }) => Mark::Fork {
                ours: *ours,
                theirs: *theirs,
            },
            _ => return None,
        })
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match self {
            Mark::Phase(p) => format!("phase {}", p.name()),
            Mark::Mode(m) => format!("mode {}", m.name()),
            Mark::RoundStarted { seq, prev } => {
                format!("round for ledger {seq} on {}", prev.short())
            }
            Mark::Position { seq, position, .. } => {
                format!("our position {seq}: {}", position.short())
            }
            Mark::DisputeCreated { tx, our_vote } => {
                format!("dispute on {} (we vote {})", tx.short(), yes_no(*our_vote))
            }
            Mark::Vote { tx, voter, yes } => {
                let who = match voter {
                    Voter::Us => "we".to_string(),
                    Voter::Peer(n) => n.short(),
                };
                format!("{who} vote {} on {}", yes_no(*yes), tx.short())
            }
            Mark::Accepted {
                seq, hash, result, ..
            } => {
                format!("built ledger {seq} {} ({result})", hash.short())
            }
            Mark::FullyValidated { seq, hash } => {
                format!("ledger {seq} {} fully validated", hash.short())
            }
            Mark::Switched { to, seq, .. } => format!("switched to ledger {seq} {}", to.short()),
            Mark::Fork { ours, theirs } => {
                format!("fork: ours {} theirs {}", ours.short(), theirs.short())
            }
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Encodes one frame (length, checksum, payload).
pub fn encode_frame(entry: &Entry, out: &mut Vec<u8>) -> Result<(), postcard::Error> {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEAD]);
    let payload = postcard::to_extend(entry, std::mem::take(out))?;
    *out = payload;
    let len = out.len() - start - FRAME_HEAD;
    let crc = crc32fast::hash(&out[start + FRAME_HEAD..]);
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// The file prefix.
pub fn prefix() -> [u8; PREFIX_LEN] {
    let mut p = [0; PREFIX_LEN];
    p[..MAGIC.len()].copy_from_slice(&MAGIC);
    p[MAGIC.len()..].copy_from_slice(&VERSION.to_le_bytes());
    p
}
