//! The dashboard loop: keys, mouse and the attached nodes' updates in; frames out. It redraws
//! only when something changed, at most `fps` times a second, so an idle dashboard costs nearly
//! nothing; and it restores the terminal on quit, on error, on panic and whatever happens to
//! the connections (a lost node is a state shown in the header, never an exit).
//!
//! Every node comes in through a [`Link`] (the contract's frames): a running node over its
//! WebSocket stream, or a recording played back. With several links, `n` switches which node
//! the panels show and `N` opens the network view of all of them.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use ratatui::crossterm::execute;
use tokio::sync::mpsc;

use super::action::{Action, DemoAction};
use super::app::{App, FleetRow};
use super::frame;
use crate::attach::client::wall_clock;
use crate::attach::{Link, Update};
use crate::consensus::{Command, NodeId, Time};
use crate::contract::{Answer, Envelope, Frame, Payload, Reply, Request, Vote};
use crate::record::playback::Playback;
use crate::store::rows::Level;
use crate::store::{Store, StoreLimits};

/// Trouble-making for `cpeers demo`: applies a demo action, says what it did.
pub trait Trouble {
    /// Carries out `a`; returns a line for the footer.
    fn apply(&mut self, a: DemoAction) -> impl Future<Output = String>;
    /// Each node's current trouble, for the peers panel.
    fn notes(&self) -> BTreeMap<NodeId, String>;
    /// Display names (demo node names).
    fn aliases(&self) -> BTreeMap<NodeId, String>;
}

/// No trouble: a real node.
pub struct NoTrouble;

impl Trouble for NoTrouble {
    async fn apply(&mut self, _: DemoAction) -> String {
        "demo keys only work in `cpeers demo`".into()
    }
    fn notes(&self) -> BTreeMap<NodeId, String> {
        BTreeMap::new()
    }
    fn aliases(&self) -> BTreeMap<NodeId, String> {
        BTreeMap::new()
    }
}

/// Restores the terminal when dropped, whatever way the loop ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// What a request was, to make sense of its reply.
#[derive(Debug, Clone, Copy)]
enum Asked {
    Submit(usize),
    Change,
    Inspect,
}

/// One attached node as the loop keeps it.
struct View {
    label: String,
    store: Store,
    requests: mpsc::Sender<Envelope>,
    can_change: bool,
    read_only: bool,
    connected: bool,
    ever_connected: bool,
    down: Option<(Time, String)>,
    bad_frames: u64,
    asked: HashMap<u64, Asked>,
    /// Log lines the dashboard itself wrote (connection trouble): kept across snapshots,
    /// which replace the log with the node's.
    notes: Vec<(Time, Level, String)>,
}

/// Dashboard-written log lines kept per node.
const NOTES: usize = 32;

impl View {
    fn note(&mut self, at: Time, level: Level, text: String) {
        if self.notes.len() == NOTES {
            self.notes.remove(0);
        }
        self.notes.push((at, level, text.clone()));
        self.store.note(at, level, text);
    }

    fn row(&self) -> FleetRow {
        FleetRow {
            label: self.label.clone(),
            connected: self.connected,
            down: self.down.clone(),
            read_only: self.read_only || !self.can_change,
            snapshot: self.store.snapshot().cloned(),
            bad_frames: self.bad_frames,
        }
    }
}

/// Runs the dashboard over `links` (one or more attached nodes, or a replay) until the user
/// quits.
pub async fn run<T: Trouble>(
    links: Vec<Link>,
    mut playback: Option<Playback>,
    mut app: App,
    trouble: &mut T,
    fps: u32,
) -> io::Result<()> {
    // ratatui::init installs a panic hook that restores the terminal; add mouse capture to it.
    let mut terminal = ratatui::try_init()?;
    let _guard = TerminalGuard;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
        previous(info);
    }));
    execute!(io::stdout(), EnableMouseCapture)?;

    let (input_tx, mut input_rx) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_reader = stop.clone();
    let reader = std::thread::Builder::new()
        .name("cpeers-input".into())
        .spawn(move || {
            while !stop_reader.load(Ordering::Relaxed) {
                match event::poll(Duration::from_millis(100)) {
                    Ok(true) => match event::read() {
                        Ok(ev) => {
                            if input_tx.send(ev).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        })?;

    // All links feed one queue, tagged with their index; each keeps its own backpressure.
    let (merged_tx, mut updates) = mpsc::channel::<(usize, Update)>(crate::attach::UPDATES);
    let mut views = Vec::new();
    for (i, link) in links.into_iter().enumerate() {
        let mut rx = link.updates;
        let tx = merged_tx.clone();
        tokio::spawn(async move {
            while let Some(u) = rx.recv().await {
                if tx.send((i, u)).await.is_err() {
                    break;
                }
            }
        });
        let mut store = Store::new(StoreLimits::default());
        for (n, name) in trouble.aliases() {
            store.set_alias(n, name);
        }
        views.push(View {
            label: link.label,
            store,
            requests: link.requests,
            can_change: link.can_change,
            read_only: !link.can_change,
            connected: false,
            ever_connected: false,
            down: None,
            bad_frames: 0,
            asked: HashMap::new(),
            notes: Vec::new(),
        });
    }
    drop(merged_tx);
    app.fleet = views.iter().map(View::row).collect();

    let mut frozen: Option<Store> = None;
    let frame_gap = Duration::from_millis(1000 / u64::from(fps.clamp(1, 60)));
    let mut last_draw = Instant::now() - frame_gap;
    let mut dirty = true;
    let mut refresh = tokio::time::interval(Duration::from_millis(500));
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_id = 1u64;
    if let Some(p) = &playback {
        app.replay = Some(p.status.borrow().clone());
    }
    // A replay's "now" is the recorded time, so ages and timestamps read as they did live.
    let now = |app: &App| match &app.replay {
        Some(p) => p.at,
        None => wall_clock(),
    };

    let result: io::Result<()> = loop {
        if dirty && last_draw.elapsed() >= frame_gap {
            let cur = app.current.min(views.len().saturating_sub(1));
            let empty = Store::new(StoreLimits::default());
            let view = frozen
                .as_ref()
                .or(views.get(cur).map(|v| &v.store))
                .unwrap_or(&empty);
            if let Err(e) = terminal.draw(|f| frame::draw(f, &app, view)) {
                break Err(e);
            }
            last_draw = Instant::now();
            dirty = false;
        }
        let wait = if dirty {
            frame_gap.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let cur = app.current.min(views.len().saturating_sub(1));
        let mut actions = Vec::new();
        tokio::select! {
            ev = input_rx.recv() => match ev {
                None => break Ok(()),
                Some(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => {
                    let empty = Store::new(StoreLimits::default());
                    let view = frozen.as_ref().or(views.get(cur).map(|v| &v.store)).unwrap_or(&empty);
                    actions = app.on_key(k, view, now(&app));
                    dirty = true;
                }
                Some(TermEvent::Mouse(m)) => {
                    let empty = Store::new(StoreLimits::default());
                    let view = frozen.as_ref().or(views.get(cur).map(|v| &v.store)).unwrap_or(&empty);
                    actions = app.on_mouse(m, view);
                    dirty = true;
                }
                Some(TermEvent::Resize(..)) => dirty = true,
                Some(_) => {}
            },
            u = updates.recv(), if !views.is_empty() => match u {
                None => {
                    app.message = Some((Level::Error, "every link ended; press q to quit".into()));
                    dirty = true;
                }
                Some((i, u)) => {
                    let shown = i == cur && frozen.is_none();
                    if let Some(v) = views.get_mut(i) {
                        apply(v, u, &mut app, i == cur);
                        app.fleet[i] = v.row();
                    }
                    // Take whatever else is ready before drawing (a burst costs one frame).
                    while let Ok((j, u)) = updates.try_recv() {
                        if let Some(v) = views.get_mut(j) {
                            apply(v, u, &mut app, j == cur);
                            app.fleet[j] = v.row();
                        }
                    }
                    dirty |= shown || app.overlay_shows_fleet();
                    if !shown {
                        dirty = true; // the header lists every node
                    }
                }
            },
            changed = async {
                match playback.as_mut() {
                    Some(p) => p.status.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                match (changed, playback.as_mut()) {
                    (Ok(()), Some(p)) => {
                        app.replay = Some(p.status.borrow_and_update().clone());
                        dirty = true;
                    }
                    _ => playback = None,
                }
            }
            _ = refresh.tick() => {
                if let Some(a) = app.refresh() {
                    actions.push(a);
                }
            }
            _ = tokio::time::sleep(wait) => {}
        }
        let mut quit = false;
        for a in actions {
            let request = match a {
                Action::Quit => {
                    quit = true;
                    continue;
                }
                Action::Engine(Command::Submit(txs)) => (
                    Request::Submit {
                        txs: txs.iter().map(Payload::from).collect(),
                    },
                    Asked::Submit(txs.len()),
                ),
                Action::Engine(Command::InjectPosition { txs, close_time }) => (
                    Request::Propose {
                        txs: txs.iter().map(Payload::from).collect(),
                        close_time,
                    },
                    Asked::Change,
                ),
                Action::Engine(Command::OverrideVote { tx, vote }) => (
                    Request::Vote {
                        tx,
                        vote: match vote {
                            Some(true) => Vote::Yes,
                            Some(false) => Vote::No,
                            None => Vote::Release,
                        },
                    },
                    Asked::Change,
                ),
                Action::InspectDispute(tx) => (Request::Dispute { tx }, Asked::Inspect),
                Action::InspectPeer(node) => (Request::Peer { node }, Asked::Inspect),
                Action::InspectComposer => (Request::Composer {}, Asked::Inspect),
                Action::Playback(c) => {
                    if let Some(p) = &playback
                        && p.control.try_send(c).is_err()
                    {
                        app.message = Some((Level::Warn, "the replay is busy; try again".into()));
                    }
                    continue;
                }
                Action::Demo(d) => {
                    let said = trouble.apply(d).await;
                    app.demo_notes = trouble.notes();
                    app.message = Some((Level::Warn, said));
                    dirty = true;
                    continue;
                }
                Action::NextNode => {
                    if !views.is_empty() {
                        app.current = (app.current + 1) % views.len();
                        app.overlay = None;
                        frozen = None;
                        app.frozen = false;
                        let v = &views[app.current];
                        app.message = Some((Level::Info, format!("showing {}", v.label)));
                    }
                    dirty = true;
                    continue;
                }
                Action::ShowNode(i) => {
                    if i < views.len() {
                        app.current = i;
                        frozen = None;
                        app.frozen = false;
                    }
                    dirty = true;
                    continue;
                }
            };
            let (request, asked) = request;
            let Some(v) = views.get_mut(cur) else {
                continue;
            };
            let id = next_id;
            next_id += 1;
            match v.requests.try_send(Envelope {
                id: Some(id),
                request,
            }) {
                Ok(()) => {
                    v.asked.insert(id, asked);
                }
                Err(_) => {
                    app.message = Some((Level::Warn, format!("{} is busy; try again", v.label)));
                }
            }
            dirty = true;
        }
        if quit {
            break Ok(());
        }
        app.read_only = views
            .get(app.current)
            .is_some_and(|v| v.read_only || !v.can_change);
        match (app.frozen, frozen.is_some()) {
            (true, false) => frozen = views.get(app.current).map(|v| v.store.clone()),
            (false, true) => frozen = None,
            _ => {}
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    result
}

/// Folds one update of a link into its view (and the dashboard, for the shown node).
fn apply(v: &mut View, u: Update, app: &mut App, shown: bool) {
    match u {
        Update::Frame(f) => match *f {
            Frame::Snapshot(s) => {
                v.read_only = s.read_only;
                let at = s.node.info.now;
                let resync = s.resync;
                v.store.restore(s.history, s.node);
                for (at, level, text) in v.notes.clone() {
                    v.store.note(at, level, text);
                }
                if resync {
                    v.note(
                        at,
                        Level::Warn,
                        "fell behind the node's stream: caught up from a fresh snapshot".into(),
                    );
                }
            }
            Frame::Status(s) => {
                // Links resolve patches; a status without one is ignored.
                if let Some(node) = s.node {
                    v.store.set_snapshot(node)
                }
            }
            Frame::Event(e) => v.store.apply(&e.event, e.at),
            Frame::Reply(r) => {
                let asked = r.id.and_then(|id| v.asked.remove(&id));
                if shown {
                    reply(app, &v.label, asked, r);
                }
            }
        },
        Update::Connected => {
            if v.ever_connected
                && let Some((since, _)) = v.down.clone()
            {
                let at = wall_clock();
                let label = v.label.clone();
                v.note(
                    at,
                    Level::Info,
                    format!(
                        "reconnected to {label} after {:.1} s",
                        at.since(since) as f64 / 1000.0
                    ),
                );
            }
            v.connected = true;
            v.ever_connected = true;
            v.down = None;
        }
        Update::Disconnected { since, reason } => {
            v.connected = false;
            if v.down.as_ref().map(|d| &d.1) != Some(&reason) {
                let text = format!("lost {}: {reason}; retrying", v.label);
                v.note(wall_clock(), Level::Error, text);
            }
            v.down = Some((since, reason));
            v.asked.clear();
        }
        Update::BadFrame(why) => {
            v.bad_frames += 1;
            v.store.note(
                wall_clock(),
                Level::Warn,
                format!("unreadable frame from {}: {why}", v.label),
            );
        }
    }
}

/// Makes sense of a reply for the footer (and the drill-downs).
fn reply(app: &mut App, label: &str, asked: Option<Asked>, r: Reply) {
    if let Some(e) = &r.error {
        let level = if r.status == 401 {
            Level::Warn
        } else {
            Level::Error
        };
        app.message = Some((level, format!("{label}: {e}")));
        return;
    }
    match (asked, r.result) {
        (_, Some(Answer::Admission(a))) => {
            let mut text = format!(
                "submitted {} transaction(s): {} accepted, {} known",
                a.accepted + a.known + a.refused.len(),
                a.accepted,
                a.known
            );
            let level = if a.refused.is_empty() {
                Level::Info
            } else {
                text.push_str(&format!(", {} refused", a.refused.len()));
                if let Some(first) = a.refused.first() {
                    text.push_str(&format!(" (#{}: {})", first.index, first.reason));
                }
                Level::Warn
            };
            app.message = Some((level, text));
        }
        (_, Some(Answer::Done(what))) => app.message = Some((Level::Info, what)),
        (_, Some(answer)) => app.on_answer(answer),
        (Some(Asked::Submit(n)), None) => {
            app.message = Some((Level::Info, format!("submitted {n} transaction(s)")))
        }
        _ => {}
    }
}
