//! The dashboard loop: keys, mouse, node events and snapshots in; frames out. It redraws only
//! when something changed, at most `fps` times a second, so an idle dashboard costs nearly
//! nothing; and it restores the terminal on quit, on error and on panic.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use ratatui::crossterm::execute;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::action::{Action, DemoAction};
use super::app::App;
use super::frame;
use crate::consensus::{NodeId, Time};
use crate::node::{Inspect, InspectReply, NodeCommand, NodeEvent, NodeSnapshot};
use crate::store::rows::Level;
use crate::store::{Store, StoreLimits};

/// The node the dashboard is attached to.
pub struct Attached {
    /// Where commands go.
    pub commands: mpsc::Sender<NodeCommand>,
    /// Its event stream.
    pub events: broadcast::Receiver<NodeEvent>,
    /// Its snapshots.
    pub snapshot: watch::Receiver<Arc<NodeSnapshot>>,
    /// Playback controls and status when this is a replay (`cpeers replay`), not a node.
    pub playback: Option<Playback>,
}

/// The replay side of [`Attached`].
pub struct Playback {
    /// Controls.
    pub control: mpsc::Sender<crate::record::playback::Control>,
    /// Where playback is.
    pub status: watch::Receiver<crate::record::playback::PlaybackStatus>,
}

impl Attached {
    /// A replay presented as an attached node.
    pub fn replay(link: crate::record::playback::PlaybackLink) -> Attached {
        Attached {
            commands: link.commands,
            events: link.events,
            snapshot: link.snapshot,
            playback: Some(Playback {
                control: link.control,
                status: link.status,
            }),
        }
    }
}

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

fn wall_clock() -> Time {
    Time(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}

/// Restores the terminal when dropped, whatever way the loop ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Runs the dashboard until the user quits.
pub async fn run<T: Trouble>(
    mut att: Attached,
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

    let mut store = Store::new(StoreLimits::default());
    for (n, name) in trouble.aliases() {
        store.set_alias(n, name);
    }
    store.set_snapshot(att.snapshot.borrow().clone());
    let mut frozen: Option<Store> = None;
    let frame_gap = Duration::from_millis(1000 / u64::from(fps.clamp(1, 60)));
    let mut last_draw = Instant::now() - frame_gap;
    let mut dirty = true;
    let mut replies: Vec<oneshot::Receiver<InspectReply>> = Vec::new();
    let mut refresh = tokio::time::interval(Duration::from_millis(500));
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut node_gone = false;
    let mut playback = att.playback.take();
    if let Some(p) = &playback {
        app.replay = Some(p.status.borrow().clone());
    }
    // A replay's "now" is the recorded time, so ages and timestamps read as they did live.
    let now = |app: &App| match &app.replay {
        Some(p) => p.at,
        None => wall_clock(),
    };

    let result: io::Result<()> = loop {
        replies.retain_mut(|rx| match rx.try_recv() {
            Ok(r) => {
                app.on_reply(r);
                dirty = true;
                false
            }
            Err(oneshot::error::TryRecvError::Empty) => true,
            Err(oneshot::error::TryRecvError::Closed) => false,
        });
        if dirty && last_draw.elapsed() >= frame_gap {
            let view = frozen.as_ref().unwrap_or(&store);
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
        let mut actions = Vec::new();
        tokio::select! {
            ev = input_rx.recv() => match ev {
                None => break Ok(()),
                Some(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => {
                    let view = frozen.as_ref().unwrap_or(&store);
                    actions = app.on_key(k, view, now(&app));
                    dirty = true;
                }
                Some(TermEvent::Mouse(m)) => {
                    let view = frozen.as_ref().unwrap_or(&store);
                    actions = app.on_mouse(m, view);
                    dirty = true;
                }
                Some(TermEvent::Resize(..)) => dirty = true,
                Some(_) => {}
            },
            ev = att.events.recv(), if !node_gone => match ev {
                Ok(e) => {
                    store.apply(&e, now(&app));
                    dirty |= frozen.is_none();
                }
                Err(broadcast::error::RecvError::Lagged(n)) => store.note_lagged(n),
                Err(broadcast::error::RecvError::Closed) => {
                    node_gone = true;
                    app.message = Some((Level::Error, "the node stopped; press q to quit".into()));
                    dirty = true;
                }
            },
            changed = att.snapshot.changed(), if !node_gone => {
                if changed.is_ok() {
                    let s = att.snapshot.borrow_and_update().clone();
                    store.set_snapshot(s);
                    dirty |= frozen.is_none();
                }
            }
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
            match a {
                Action::Quit => quit = true,
                Action::Engine(cmd) => {
                    if att.commands.try_send(NodeCommand::Engine(cmd)).is_err() {
                        app.message = Some((Level::Warn, "the node is busy; try again".into()));
                    }
                }
                Action::InspectDispute(tx) => ask(&att, Inspect::Dispute(tx), &mut replies),
                Action::InspectPeer(n) => ask(&att, Inspect::Peer(n), &mut replies),
                Action::InspectComposer => ask(&att, Inspect::Composer, &mut replies),
                Action::Playback(c) => {
                    if let Some(p) = &playback
                        && p.control.try_send(c).is_err()
                    {
                        app.message = Some((Level::Warn, "the replay is busy; try again".into()));
                    }
                }
                Action::Demo(d) => {
                    let said = trouble.apply(d).await;
                    app.demo_notes = trouble.notes();
                    app.message = Some((Level::Warn, said));
                }
            }
            dirty = true;
        }
        if quit {
            break Ok(());
        }
        match (app.frozen, frozen.is_some()) {
            (true, false) => frozen = Some(store.clone()),
            (false, true) => frozen = None,
            _ => {}
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    result
}

fn ask(att: &Attached, q: Inspect, replies: &mut Vec<oneshot::Receiver<InspectReply>>) {
    let (tx, rx) = oneshot::channel();
    if att.commands.try_send(NodeCommand::Inspect(q, tx)).is_ok() {
        replies.push(rx);
    }
}
