//! Playing a recording into the dashboard: a task that owns a [`Replayer`] and looks, from the
//! dashboard's side, exactly like a running node (the contract's frames: a snapshot, then
//! events built by the same function the node uses, status updates and replies to inspect
//! requests), plus controls for time: play/pause, step, jump, scrub and speed.
//!
//! Recorded time drives it: while playing, recorded time advances at `speed` times wall time
//! and every step recorded before it runs. Going backwards restores the nearest checkpoint and
//! re-runs from there, after telling the dashboard to start over ([`NodeEvent::Rewound`]), so
//! the panels show what the node showed at that moment, not a mixture.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::attach::{Link, UPDATES, Update};
use crate::consensus::engine::{Input, Output};
use crate::consensus::{NodeId, Time, Verdict};
use crate::contract::build::{self, Batcher};
use crate::contract::{
    Answer, Envelope, EventFrame, Frame, NodeEvent, NodeSnapshot, PeerLink, Reply, Request,
    SnapshotFrame, StatusFrame, ValidatedLedger,
};

use super::replay::{Replayer, Stepped, Timeline, TimelineIndex};

/// Slowest and fastest playback.
pub const SPEEDS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// What to jump to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpTo {
    /// The next phase change.
    PhaseChange,
    /// The next dispute created or vote cast/flipped.
    DisputeFlip,
    /// The next ledger built or fully validated.
    Ledger,
    /// The next place the replay differs from the recording.
    Mismatch,
}

/// A playback control (dashboard keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Play or pause.
    TogglePlay,
    /// Run exactly one step (pauses).
    Step,
    /// Run to the next such step (pauses there).
    Jump(JumpTo),
    /// Move by this many ms of recorded time (negative: back).
    Scrub(i64),
    /// Go to this point of the recording, in thousandths (0 start, 1000 end).
    Seek(u32),
    /// Faster (`true`) or slower.
    Speed(bool),
}

/// Where playback is, for the dashboard's replay bar.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybackStatus {
    /// Node name from the recording.
    pub name: String,
    /// Steps run.
    pub position: usize,
    /// Steps in the recording.
    pub steps: usize,
    /// Recorded time now.
    pub at: Time,
    /// First and last recorded times.
    pub span: (Time, Time),
    /// Playing or paused.
    pub playing: bool,
    /// Speed factor.
    pub speed: f64,
    /// What the last step was.
    pub last: String,
    /// The first mismatch, if the replay differs from the recording.
    pub mismatch: Option<String>,
    /// Where the recording is damaged, if it is.
    pub damage: Option<String>,
}

impl PlaybackStatus {
    /// Fraction of the recorded time played.
    pub fn fraction(&self) -> f64 {
        let total = self.span.1.since(self.span.0);
        if total <= 0 {
            return if self.position >= self.steps {
                1.0
            } else {
                0.0
            };
        }
        (self.at.since(self.span.0) as f64 / total as f64).clamp(0.0, 1.0)
    }
}

/// The controls of a playback, for the dashboard's keys and replay bar.
pub struct Playback {
    /// Controls.
    pub control: mpsc::Sender<Control>,
    /// Where playback is.
    pub status: watch::Receiver<PlaybackStatus>,
}

/// The dashboard's side of a playback.
pub struct PlaybackLink {
    /// Controls go here.
    pub control: mpsc::Sender<Control>,
    /// Status updates.
    pub status: watch::Receiver<PlaybackStatus>,
    /// Requests (inspect; state-changing ones are refused: a replay is read-only).
    pub requests: mpsc::Sender<Envelope>,
    /// Frames, as a node's stream sends them.
    pub updates: mpsc::Receiver<Update>,
    /// The latest snapshot (also sent as `status` frames).
    pub snapshot: watch::Receiver<Arc<NodeSnapshot>>,
    /// The recording's node name.
    pub name: String,
}

impl PlaybackLink {
    /// As a dashboard link, and the playback controls.
    pub fn into_link(self) -> (Link, Playback) {
        (
            Link {
                label: format!("replay of {}", self.name),
                updates: self.updates,
                requests: self.requests,
                can_change: false,
            },
            Playback {
                control: self.control,
                status: self.status,
            },
        )
    }
}

const FRAME: Duration = Duration::from_millis(50);

/// Starts playing `timeline` (paused at the start, after its first checkpoint). Fails when the
/// first checkpoint cannot be restored.
pub fn start(timeline: Arc<Timeline>) -> Result<PlaybackLink, String> {
    let (up_tx, up_rx) = mpsc::channel(UPDATES);
    let (ctl_tx, ctl_rx) = mpsc::channel(64);
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let mut player = Player {
        replayer: Replayer::new(timeline.clone()),
        index: timeline.index.clone(),
        out: up_tx,
        pending: Vec::new(),
        batcher: Batcher::default(),
        recent: VecDeque::new(),
        heard: BTreeMap::new(),
        playing: false,
        speed: 1.0,
        at: timeline.span.0,
        last: String::new(),
    };
    // The first checkpoint, so the panels show the starting state.
    player.run_one();
    let Some(first) = player.snapshot() else {
        return Err(match player.replayer.mismatch() {
            Some(m) => m.to_string(),
            None => "the recording's first checkpoint cannot be restored".into(),
        });
    };
    let first = Arc::new(first);
    let (snap_tx, snap_rx) = watch::channel(first.clone());
    let (status_tx, status_rx) = watch::channel(player.status());
    // The first checkpoint's events only describe the state the snapshot already shows.
    player.pending.clear();
    let hello = [
        Update::Connected,
        Update::Frame(Box::new(Frame::Snapshot(SnapshotFrame {
            api: crate::contract::frame::API_VERSION,
            read_only: true,
            resync: false,
            node: first,
            history: Default::default(),
        }))),
    ];
    for u in hello {
        player
            .out
            .try_send(u)
            .map_err(|_| "the dashboard is not listening".to_string())?;
    }
    let name = timeline.header.name.clone();
    tokio::spawn(player.run(ctl_rx, cmd_rx, snap_tx, status_tx));
    Ok(PlaybackLink {
        control: ctl_tx,
        status: status_rx,
        requests: cmd_tx,
        updates: up_rx,
        snapshot: snap_rx,
        name,
    })
}

struct Player {
    replayer: Replayer,
    index: TimelineIndex,
    out: mpsc::Sender<Update>,
    /// Events of the steps run, not yet sent.
    pending: Vec<(Time, NodeEvent)>,
    batcher: Batcher,
    recent: VecDeque<ValidatedLedger>,
    /// When each validator's last message arrived: the peers panel shows those heard from
    /// recently as connected (links themselves are not recorded).
    heard: BTreeMap<NodeId, Time>,
    playing: bool,
    speed: f64,
    at: Time,
    last: String,
}

impl Player {
    async fn run(
        mut self,
        mut ctl: mpsc::Receiver<Control>,
        mut cmds: mpsc::Receiver<Envelope>,
        snap: watch::Sender<Arc<NodeSnapshot>>,
        status: watch::Sender<PlaybackStatus>,
    ) {
        let mut frame = tokio::time::interval(FRAME);
        frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let mut changed = false;
            tokio::select! {
                c = ctl.recv() => match c {
                    None => break,
                    Some(c) => {
                        self.control(c).await;
                        changed = true;
                    }
                },
                c = cmds.recv() => match c {
                    None => break,
                    Some(c) => {
                        let r = self.command(c);
                        if self.out.send(Update::Frame(Box::new(Frame::Reply(r)))).await.is_err() {
                            break;
                        }
                    }
                },
                _ = frame.tick(), if self.playing => {
                    let target = Time(self.at.0 + (FRAME.as_millis() as f64 * self.speed) as i64);
                    self.run_until(target).await;
                    self.at = target.max(self.at);
                    if self.replayer.at_end() {
                        self.playing = false;
                        self.last = "end of the recording".into();
                    }
                    changed = true;
                }
            }
            if !self.send_pending().await {
                break;
            }
            if changed {
                if let Some(s) = self.snapshot() {
                    let s = Arc::new(s);
                    let _ = snap.send(s.clone());
                    let frame = Frame::Status(StatusFrame {
                        node: Some(s),
                        patch: None,
                    });
                    if self.out.send(Update::Frame(Box::new(frame))).await.is_err() {
                        break;
                    }
                }
                let _ = status.send(self.status());
            }
        }
    }

    async fn control(&mut self, c: Control) {
        match c {
            Control::TogglePlay => {
                self.playing = !self.playing && !self.replayer.at_end();
            }
            Control::Step => {
                self.playing = false;
                self.run_one();
            }
            Control::Jump(to) => {
                self.playing = false;
                let pos = self.replayer.position();
                let target = match to {
                    JumpTo::PhaseChange => {
                        TimelineIndex::next_after(&self.index.phase_changes, pos.saturating_sub(1))
                    }
                    JumpTo::DisputeFlip => {
                        TimelineIndex::next_after(&self.index.dispute_flips, pos.saturating_sub(1))
                    }
                    JumpTo::Ledger => {
                        TimelineIndex::next_after(&self.index.ledgers, pos.saturating_sub(1))
                    }
                    JumpTo::Mismatch => None,
                };
                match (to, target) {
                    (JumpTo::Mismatch, _) => {
                        while !self.replayer.at_end() && self.replayer.mismatch().is_none() {
                            self.run_one();
                            if !self.throttle().await {
                                return;
                            }
                        }
                        if self.replayer.mismatch().is_none() {
                            self.last = "no mismatch: the replay matches the recording".into();
                        }
                    }
                    (_, Some(t)) => {
                        while self.replayer.position() <= t && !self.replayer.at_end() {
                            self.run_one();
                            if !self.throttle().await {
                                return;
                            }
                        }
                    }
                    (_, None) => self.last = "nothing further of that kind in the recording".into(),
                }
            }
            Control::Scrub(ms) => self.seek_time(Time(self.at.0 + ms)).await,
            Control::Seek(permille) => {
                let span = self.replayer.timeline().span;
                let f = f64::from(permille.min(1000)) / 1000.0;
                let t = span.0.0 + (span.1.since(span.0) as f64 * f) as i64;
                self.seek_time(Time(t)).await;
            }
            Control::Speed(faster) => {
                let i = SPEEDS.iter().position(|&s| s >= self.speed).unwrap_or(2);
                let j = if faster {
                    (i + 1).min(SPEEDS.len() - 1)
                } else {
                    i.saturating_sub(1)
                };
                self.speed = SPEEDS[j];
            }
        }
    }

    async fn seek_time(&mut self, t: Time) {
        let span = self.replayer.timeline().span;
        let t = Time(t.0.clamp(span.0.0, span.1.0));
        let target = self.replayer.timeline().step_at(t);
        if target < self.replayer.position() {
            self.replayer.rewind(target);
            self.recent.clear();
            self.heard.clear();
            self.pending.push((t, NodeEvent::Rewound));
        }
        self.run_until(t).await;
        self.at = t;
    }

    /// Runs every step recorded at or before `t`.
    async fn run_until(&mut self, t: Time) {
        loop {
            let next = self.replayer.position();
            match self.replayer.timeline().steps.get(next) {
                Some(s) if s.at <= t => {}
                _ => break,
            }
            self.run_one();
            if !self.throttle().await {
                return;
            }
        }
    }

    /// Sends the events of the steps run; a dashboard that reads slowly slows playback down
    /// (the channel is bounded). False when the dashboard is gone.
    async fn throttle(&mut self) -> bool {
        self.send_pending().await
    }

    async fn send_pending(&mut self) -> bool {
        for (at, event) in std::mem::take(&mut self.pending) {
            let f = Frame::Event(EventFrame { at, event });
            if self.out.send(Update::Frame(Box::new(f))).await.is_err() {
                return false;
            }
        }
        true
    }

    fn emit(&mut self, at: Time, e: NodeEvent) {
        for e in self.batcher.push(e) {
            self.pending.push((at, e));
        }
    }

    fn run_one(&mut self) {
        let Some(s) = self.replayer.step() else {
            return;
        };
        self.at = self.at.max(s.at);
        let timeline = self.replayer.timeline().clone();
        let step = &timeline.steps[s.step];
        self.last = match &step.kind {
            super::replay::StepKind::Restore(_) => "engine state restored from a checkpoint".into(),
            super::replay::StepKind::Input { stored, .. } => stored.describe(),
        };
        for o in &s.outputs {
            self.emit_output(o, s.at);
        }
        if let super::replay::StepKind::Input { input, .. } = &step.kind {
            self.emit_input(input, &s);
        }
        for e in self.batcher.flush() {
            self.pending.push((s.at, e));
        }
    }

    fn emit_input(&mut self, input: &Input, s: &Stepped) {
        let verdict = s.verdict.unwrap_or(Verdict::Accepted);
        match input {
            Input::Proposal(p) => {
                self.heard.insert(p.proposal().node, s.at);
            }
            Input::Validation(v) => {
                self.heard.insert(v.validation().node, s.at);
            }
            _ => {}
        }
        if let Some(e) = build::input_event(input, verdict, s.at) {
            self.emit(s.at, e);
        }
    }

    fn emit_output(&mut self, o: &Output, at: Time) {
        if let Output::LedgerFullyValidated(l) = o {
            ValidatedLedger::remember(&mut self.recent, l, at);
        }
        if let Some(e) = build::output_event(o) {
            self.emit(at, e);
        }
    }

    fn command(&mut self, c: Envelope) -> Reply {
        let Some(engine) = self.replayer.engine() else {
            return Reply::error(c.id, 503, "the replay has no engine state here");
        };
        let answer = match c.request {
            Request::Dispute { tx } => Answer::Dispute(engine.dispute_detail(&tx).map(Box::new)),
            Request::Peer { node } => Answer::Peer(engine.peer_detail(&node).map(Box::new)),
            Request::Composer {} => Answer::Composer(Box::new(engine.composer_seed())),
            Request::Submit { .. }
            | Request::Propose { .. }
            | Request::Vote { .. }
            | Request::Block { .. } => {
                return Reply::error(
                    c.id,
                    409,
                    "a replay is read-only: commands are not sent (the recording would no longer match)",
                );
            }
        };
        Reply::ok(c.id, answer)
    }

    fn snapshot(&self) -> Option<NodeSnapshot> {
        let timeline = self.replayer.timeline();
        let engine = self.replayer.engine()?;
        Some(NodeSnapshot {
            network_id: timeline.header.network_id,
            peer_id: format!("replay of {}", timeline.header.name),
            listen: Vec::new(),
            started: true,
            info: engine.info(),
            peers: self.peers(engine),
            traffic: Default::default(),
            store_errors: 0,
            recent_validated: self.recent.iter().cloned().collect(),
            latency: Default::default(),
            engine: engine.counters().clone(),
            held: engine.held().into_iter().map(Into::into).collect(),
            // The replaying process's memory says nothing about the recorded node.
            rss_mib: None,
            submissions: Default::default(),
            api: Default::default(),
        })
    }

    /// Validators heard from within two idle intervals, as link rows.
    fn peers(&self, engine: &crate::consensus::Engine) -> Vec<PeerLink> {
        let window = 2 * engine.params().ledger_idle_interval_ms;
        let unl = engine.validations().unl();
        self.heard
            .iter()
            .filter(|(_, t)| self.at.since(**t) <= window)
            .map(|(n, _)| PeerLink {
                peer_id: "-".into(),
                node: Some(*n),
                addr: "(recorded)".into(),
                rtt_ms: None,
                trusted: unl.contains(n),
                subscribed: true,
                score: None,
                agent: None,
            })
            .collect()
    }

    fn status(&self) -> PlaybackStatus {
        let timeline = self.replayer.timeline();
        PlaybackStatus {
            name: timeline.header.name.clone(),
            position: self.replayer.position(),
            steps: timeline.steps.len(),
            at: self.at,
            span: timeline.span,
            playing: self.playing,
            speed: self.speed,
            last: self.last.clone(),
            mismatch: self.replayer.mismatch().map(|m| m.to_string()),
            damage: timeline.damage.as_ref().map(|d| d.to_string()),
        }
    }
}
