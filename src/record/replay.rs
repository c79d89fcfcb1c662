//! Re-running a recording through the same engine, step by step, checking itself as it goes.
//!
//! A [`Timeline`] is a recording turned into engine inputs (signatures verified again) plus an
//! index of where the interesting things happened. A [`Replayer`] walks it: each step feeds one
//! input (or restores a checkpoint) and compares what the engine did with what the recording
//! says it did. The first difference is kept as a [`Mismatch`]; ledgers are part of what is
//! compared, so a replay that reaches the end without one rebuilt every recorded ledger.
//!
//! The engine runs with a stand-in key for the recorded validator: it behaves as that node
//! (proposes, validates, counts itself) but signs nothing that verifies, and the recording
//! never holds a secret.

use std::sync::Arc;

use crate::consensus::engine::{Engine, EngineCheckpoint, Input, Output};
use crate::consensus::{NodeKey, Time, Verdict, Verifier};

use super::format::{Entry, Header, Mark, Outcome, RecordedInput};
use super::reader::{Damage, Loaded};

/// One replay step.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Replace the engine by this state.
    Restore(Box<EngineCheckpoint>),
    /// Give the engine an input.
    Input {
        /// The input (signatures already verified).
        input: Input,
        /// Its stored form (for descriptions and export).
        stored: RecordedInput,
        /// What the recording says came of it.
        recorded: Outcome,
    },
}

/// A step with its place in the recording.
#[derive(Debug, Clone)]
pub struct Step {
    /// Index of the entry in the file.
    pub entry: usize,
    /// Engine time.
    pub at: Time,
    /// What to do.
    pub kind: StepKind,
}

/// Which steps did something worth jumping to (per the recording).
#[derive(Debug, Clone, Default)]
pub struct TimelineIndex {
    /// Steps whose outcome changed the phase.
    pub phase_changes: Vec<usize>,
    /// Steps whose outcome cast or flipped a dispute vote (or created a dispute).
    pub dispute_flips: Vec<usize>,
    /// Steps whose outcome built or fully validated a ledger.
    pub ledgers: Vec<usize>,
    /// Restore points.
    pub restores: Vec<usize>,
}

impl TimelineIndex {
    /// The first listed step after `pos` in `list`.
    pub fn next_after(list: &[usize], pos: usize) -> Option<usize> {
        let i = list.partition_point(|&s| s <= pos);
        list.get(i).copied()
    }
}

/// A recording ready to replay.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The first segment header.
    pub header: Header,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Where the recording (or its conversion) stopped early.
    pub damage: Option<Damage>,
    /// Jump targets.
    pub index: TimelineIndex,
    /// Recorded time span.
    pub span: (Time, Time),
    /// The last step's outcome may be missing from the file (it ends right after the input).
    pub unchecked_last: bool,
}

impl Timeline {
    /// Turns a read recording into steps, verifying every recorded signature. A message that
    /// does not verify ends the timeline there, reported like file damage.
    pub fn build(loaded: Loaded) -> Timeline {
        let mut verifier = Verifier::new();
        let network_id = loaded.header.network_id;
        let mut steps: Vec<Step> = Vec::new();
        let mut damage = loaded.damage.clone();
        let mut index = TimelineIndex::default();
        let mut ends_with_outcome = false;
        for (i, entry) in loaded.entries.into_iter().enumerate() {
            ends_with_outcome = matches!(entry, Entry::Outcome(_));
            match entry {
                Entry::Header(_) => {}
                Entry::Checkpoint(cp) => {
                    index.restores.push(steps.len());
                    // A fresh engine has seen no time yet: place it where recording began.
                    let at = if cp.now() > Time(0) {
                        cp.now()
                    } else {
                        steps.last().map_or(loaded.header.started_at, |s| s.at)
                    };
                    steps.push(Step {
                        entry: i,
                        at,
                        kind: StepKind::Restore(cp),
                    });
                }
                Entry::Input { at, input: stored } => {
                    match stored.to_input(&mut verifier, network_id) {
                        Ok(input) => steps.push(Step {
                            entry: i,
                            at,
                            kind: StepKind::Input {
                                input,
                                stored,
                                recorded: Outcome::default(),
                            },
                        }),
                        Err(e) => {
                            damage = Some(Damage {
                                offset: 0,
                                entry: i,
                                why: e.to_string(),
                            });
                            break;
                        }
                    }
                }
                Entry::Outcome(o) => {
                    let n = steps.len();
                    if let Some(Step {
                        kind: StepKind::Input { recorded, .. },
                        ..
                    }) = steps.last_mut()
                    {
                        for m in &o.marks {
                            match m {
                                Mark::Phase(_) => push_once(&mut index.phase_changes, n - 1),
                                Mark::Vote { .. } | Mark::DisputeCreated { .. } => {
                                    push_once(&mut index.dispute_flips, n - 1)
                                }
                                Mark::Accepted { .. } | Mark::FullyValidated { .. } => {
                                    push_once(&mut index.ledgers, n - 1)
                                }
                                _ => {}
                            }
                        }
                        *recorded = o;
                    }
                }
            }
        }
        // A recording cut off (killed, or damaged) right after an input has lost that input's
        // outcome, if it had one: its last step is replayed but not checked.
        let unchecked_last = matches!(
            steps.last(),
            Some(Step {
                kind: StepKind::Input { .. },
                ..
            })
        ) && !ends_with_outcome;
        let span = (
            steps.first().map(|s| s.at).unwrap_or_default(),
            steps.last().map(|s| s.at).unwrap_or_default(),
        );
        Timeline {
            header: loaded.header,
            steps,
            damage,
            index,
            span,
            unchecked_last,
        }
    }

    /// The restore step at or before `step` (every timeline starts with one).
    pub fn restore_before(&self, step: usize) -> usize {
        let i = self.index.restores.partition_point(|&r| r <= step);
        if i == 0 {
            0
        } else {
            self.index.restores[i - 1]
        }
    }

    /// The first step at or after time `t`.
    pub fn step_at(&self, t: Time) -> usize {
        self.steps.partition_point(|s| s.at < t)
    }
}

fn push_once(list: &mut Vec<usize>, i: usize) {
    if list.last() != Some(&i) {
        list.push(i);
    }
}

/// The first place where the replay did not do what the recording says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Step index.
    pub step: usize,
    /// Entry index in the file.
    pub entry: usize,
    /// Engine time.
    pub at: Time,
    /// The input.
    pub input: String,
    /// What the recording says.
    pub recorded: Outcome,
    /// What the replay did.
    pub replayed: Outcome,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |o: &Outcome| {
            let mut parts: Vec<String> = o.marks.iter().map(Mark::describe).collect();
            if let Some(Verdict::Refused(r)) = o.verdict {
                parts.insert(0, format!("refused ({r})"));
            }
            if parts.is_empty() {
                "nothing".to_string()
            } else {
                parts.join("; ")
            }
        };
        write!(
            f,
            "replay differs at entry {} (t={} ms, {}): recorded {}, replayed {}",
            self.entry,
            self.at.0,
            self.input,
            show(&self.recorded),
            show(&self.replayed)
        )
    }
}

/// What one step did.
#[derive(Debug, Clone)]
pub struct Stepped {
    /// Step index.
    pub step: usize,
    /// Engine time.
    pub at: Time,
    /// The verdict (inputs only).
    pub verdict: Option<Verdict>,
    /// The engine's outputs.
    pub outputs: Vec<Output>,
    /// The engine was replaced by a checkpoint.
    pub restored: bool,
}

/// Walks a timeline with a live engine.
pub struct Replayer {
    timeline: Arc<Timeline>,
    engine: Option<Engine>,
    next: usize,
    mismatch: Option<Mismatch>,
}

impl Replayer {
    /// A replayer before the first step.
    pub fn new(timeline: Arc<Timeline>) -> Replayer {
        Replayer {
            timeline,
            engine: None,
            next: 0,
            mismatch: None,
        }
    }

    /// The timeline.
    pub fn timeline(&self) -> &Arc<Timeline> {
        &self.timeline
    }

    /// The next step to run.
    pub fn position(&self) -> usize {
        self.next
    }

    /// Whether every step ran.
    pub fn at_end(&self) -> bool {
        self.next >= self.timeline.steps.len()
    }

    /// The engine as of the last step.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// The first mismatch seen so far.
    pub fn mismatch(&self) -> Option<&Mismatch> {
        self.mismatch.as_ref()
    }

    /// Goes back to the restore point at or before `step` (the caller steps forward from
    /// there). Mismatches found later than that point are forgotten.
    pub fn rewind(&mut self, step: usize) {
        let r = self.timeline.restore_before(step);
        self.next = r;
        self.engine = None;
        if self.mismatch.as_ref().is_some_and(|m| m.step >= r) {
            self.mismatch = None;
        }
    }

    /// Runs the next step.
    pub fn step(&mut self) -> Option<Stepped> {
        let i = self.next;
        let timeline = self.timeline.clone();
        let step = timeline.steps.get(i)?;
        self.next += 1;
        match &step.kind {
            StepKind::Restore(cp) => {
                let key = NodeKey::stand_in(cp.node_id());
                match Engine::restore(EngineCheckpoint::clone(cp), Some(key)) {
                    Ok(e) => self.engine = Some(e),
                    Err(e) => {
                        self.engine = None;
                        self.note_mismatch(Mismatch {
                            step: i,
                            entry: step.entry,
                            at: step.at,
                            input: format!("engine checkpoint ({e})"),
                            recorded: Outcome::default(),
                            replayed: Outcome::default(),
                        });
                    }
                }
                Some(Stepped {
                    step: i,
                    at: step.at,
                    verdict: None,
                    outputs: Vec::new(),
                    restored: true,
                })
            }
            StepKind::Input {
                input,
                stored,
                recorded,
            } => {
                let engine = self.engine.as_mut()?;
                let verdict = engine.handle(step.at, input.clone());
                let mut outputs = Vec::new();
                while let Some(o) = engine.poll_output() {
                    outputs.push(o);
                }
                let replayed = Outcome {
                    verdict: Some(verdict),
                    marks: outputs.iter().filter_map(Mark::of).collect(),
                };
                let unknown = timeline.unchecked_last && i + 1 == timeline.steps.len();
                if !unknown && normalized(&replayed) != normalized(recorded) {
                    self.note_mismatch(Mismatch {
                        step: i,
                        entry: step.entry,
                        at: step.at,
                        input: stored.describe(),
                        recorded: recorded.clone(),
                        replayed,
                    });
                }
                Some(Stepped {
                    step: i,
                    at: step.at,
                    verdict: Some(verdict),
                    outputs,
                    restored: false,
                })
            }
        }
    }

    fn note_mismatch(&mut self, m: Mismatch) {
        if self.mismatch.is_none() {
            self.mismatch = Some(m);
        }
    }
}

fn normalized(o: &Outcome) -> (Verdict, &[Mark]) {
    (o.verdict.unwrap_or(Verdict::Accepted), &o.marks)
}

/// The result of replaying a whole recording without a dashboard.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Steps run.
    pub steps: usize,
    /// Inputs given to the engine.
    pub inputs: usize,
    /// Ledgers built by the replay, `(seq, hash)`.
    pub accepted: Vec<(u32, crate::consensus::Hash256)>,
    /// Ledgers the replay saw fully validated.
    pub validated: Vec<(u32, crate::consensus::Hash256)>,
    /// Dispute votes cast or flipped.
    pub flips: usize,
    /// Recorded time span (ms).
    pub span_ms: i64,
    /// The first mismatch.
    pub mismatch: Option<Mismatch>,
    /// Where the recording stopped early.
    pub damage: Option<Damage>,
}

impl CheckReport {
    /// Whether the replay reproduced everything that could be read.
    pub fn reproduced(&self) -> bool {
        self.mismatch.is_none()
    }
}

/// Replays the whole timeline and reports.
pub fn check(timeline: Arc<Timeline>) -> CheckReport {
    let mut r = Replayer::new(timeline.clone());
    let mut report = CheckReport {
        steps: 0,
        inputs: 0,
        accepted: Vec::new(),
        validated: Vec::new(),
        flips: 0,
        span_ms: timeline.span.1.since(timeline.span.0),
        mismatch: None,
        damage: timeline.damage.clone(),
    };
    while let Some(s) = r.step() {
        report.steps += 1;
        if s.verdict.is_some() {
            report.inputs += 1;
        }
        for o in &s.outputs {
            match Mark::of(o) {
                Some(Mark::Accepted { seq, hash, .. }) => report.accepted.push((seq, hash)),
                Some(Mark::FullyValidated { seq, hash }) => report.validated.push((seq, hash)),
                Some(Mark::Vote { .. }) => report.flips += 1,
                _ => {}
            }
        }
    }
    report.mismatch = r.mismatch().cloned();
    report
}
