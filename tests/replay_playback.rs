//! `cpeers replay` in the dashboard: the replay keys become playback controls, the playback
//! task steps, jumps, scrubs back (telling the dashboard to start over) and stays read-only,
//! and the replay bar shows where it is.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cpeers::attach::Update;
use cpeers::consensus::engine::Phase;
use cpeers::contract::{Frame, NodeEvent};
use cpeers::record::playback::{self, Control, JumpTo, PlaybackLink, PlaybackStatus};
use cpeers::record::{self, Timeline};
use cpeers::sim::{Scenario, Simulation};
use cpeers::store::{Store, StoreLimits};
use cpeers::tui::action::Action;
use cpeers::tui::app::App;
use cpeers::tui::frame;
use cpeers::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn timeline(name: &str) -> Arc<Timeline> {
    let dir = std::env::temp_dir().join(format!("cpeers-playback-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sc = Scenario::load(Path::new("tests/scenarios/slow_peer.toml")).unwrap();
    let mut sim = Simulation::new(sc);
    sim.record_to(&dir).unwrap();
    sim.run();
    let t = record::open(&dir.join("slow0.rec")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    t
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Sends `c` and waits for the status that follows it.
async fn control(link: &mut PlaybackLink, c: Control) -> PlaybackStatus {
    link.control.send(c).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), link.status.changed())
        .await
        .expect("status after a control")
        .unwrap();
    link.status.borrow_and_update().clone()
}

/// Sends `c` and waits for a status that satisfies `ok` (while playing, frames update it too).
async fn control_until(
    link: &mut PlaybackLink,
    c: Control,
    ok: impl Fn(&PlaybackStatus) -> bool,
) -> PlaybackStatus {
    link.control.send(c).await.unwrap();
    loop {
        tokio::time::timeout(Duration::from_secs(10), link.status.changed())
            .await
            .expect("status after a control")
            .unwrap();
        let s = link.status.borrow_and_update().clone();
        if ok(&s) {
            return s;
        }
    }
}

/// Frames the playback sent, collected as the dashboard would read them (the channel is
/// bounded: a reader that stops makes playback wait).
type Seen = Arc<std::sync::Mutex<Vec<Frame>>>;

fn collect(link: &mut PlaybackLink) -> Seen {
    let (_, dummy) = tokio::sync::mpsc::channel(1);
    let mut rx = std::mem::replace(&mut link.updates, dummy);
    let seen: Seen = Default::default();
    let sink = seen.clone();
    tokio::spawn(async move {
        while let Some(u) = rx.recv().await {
            if let Update::Frame(f) = u {
                sink.lock().unwrap().push(*f);
            }
        }
    });
    seen
}

/// The node events seen since the last call, batches opened up.
fn drain(seen: &Seen) -> Vec<NodeEvent> {
    let mut out = Vec::new();
    for f in std::mem::take(&mut *seen.lock().unwrap()) {
        if let Frame::Event(e) = f {
            match e.event {
                NodeEvent::ConsensusBatch { events, .. } => out.extend(
                    events
                        .into_iter()
                        .map(|event| NodeEvent::Consensus { event }),
                ),
                other => out.push(other),
            }
        }
    }
    out
}

#[test]
fn playback_steps_jumps_scrubs_back_and_stays_read_only() {
    let t = timeline("controls");
    let steps = t.steps.len();
    rt().block_on(async move {
        let mut link = playback::start(t.clone()).unwrap();
        let seen = collect(&mut link);
        let s = link.status.borrow_and_update().clone();
        assert_eq!(s.position, 1, "paused after the first checkpoint");
        assert!(!s.playing);

        // One step runs exactly one input.
        let s = control(&mut link, Control::Step).await;
        assert_eq!(s.position, 2);

        // Jump to the next phase change: the engine is then in another phase than before.
        let before = link.snapshot.borrow().info.phase;
        let s = control(&mut link, Control::Jump(JumpTo::PhaseChange)).await;
        let after = link.snapshot.borrow().info.phase;
        assert_ne!(before, after, "stopped at a phase change ({})", s.last);
        let events = drain(&seen);
        assert!(events.iter().any(|e| matches!(e, NodeEvent::Phase { .. })));

        // Next dispute flip, then next ledger: both move forward and say what happened.
        let p = s.position;
        let s = control(&mut link, Control::Jump(JumpTo::DisputeFlip)).await;
        assert!(s.position > p);
        let events = drain(&seen);
        assert!(
            events.iter().any(|e| matches!(
                e,
                NodeEvent::Consensus {
                    event: cpeers::consensus::engine::Event::VoteChanged { .. }
                        | cpeers::consensus::engine::Event::DisputeCreated { .. }
                }
            )),
            "a dispute event was shown"
        );
        let s = control(&mut link, Control::Jump(JumpTo::Ledger)).await;
        let events = drain(&seen);
        assert!(
            events.iter().any(|e| matches!(
                e,
                NodeEvent::LedgerAccepted(_) | NodeEvent::LedgerValidated { .. }
            )),
            "{}",
            s.last
        );

        // Scrubbing back starts the dashboard over and re-runs to the earlier time.
        let here = s.position;
        let s = control(&mut link, Control::Seek(0)).await;
        assert!(s.position < here);
        let events = drain(&seen);
        assert!(matches!(events.first(), Some(NodeEvent::Rewound)));

        // To the end: every step ran, and the replay still matches the recording.
        let s = control(&mut link, Control::Seek(1000)).await;
        assert_eq!(s.position, steps);
        assert_eq!(s.mismatch, None);
        assert_eq!(s.fraction(), 1.0);

        // Speed goes up and down within x0.25 .. x64.
        let mut speed = 0.0;
        for _ in 0..12 {
            speed = control(&mut link, Control::Speed(true)).await.speed;
        }
        assert_eq!(speed, 64.0);
        for _ in 0..12 {
            speed = control(&mut link, Control::Speed(false)).await.speed;
        }
        assert_eq!(speed, 0.25);

        // Commands would make the replay diverge from the recording: refused, saying why.
        seen.lock().unwrap().clear();
        link.requests
            .send(cpeers::contract::Envelope {
                id: Some(9),
                request: cpeers::contract::Request::Submit { txs: vec![] },
            })
            .await
            .unwrap();
        let reply = async {
            loop {
                let found = seen.lock().unwrap().iter().find_map(|f| match f {
                    Frame::Reply(r) => Some(r.clone()),
                    _ => None,
                });
                if let Some(r) = found {
                    return r;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let r = tokio::time::timeout(Duration::from_secs(5), reply)
            .await
            .unwrap();
        assert_eq!((r.id, r.status), (Some(9), 409));
        assert!(r.error.unwrap_or_default().contains("read-only"));
    });
}

#[test]
fn playing_advances_with_recorded_time() {
    let t = timeline("play");
    rt().block_on(async move {
        let mut link = playback::start(t).unwrap();
        let _seen = collect(&mut link);
        let start = link.status.borrow_and_update().at;
        control(&mut link, Control::Speed(true)).await; // x2
        let wall = std::time::Instant::now();
        control_until(&mut link, Control::TogglePlay, |s| s.playing).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let s = control_until(&mut link, Control::TogglePlay, |s| !s.playing).await;
        let wall = wall.elapsed().as_millis() as i64;
        let played = s.at.since(start);
        // At x2, recorded time moves by two 50 ms frames' worth per frame: never more than
        // twice the wall time, and at least one frame's worth.
        assert!(
            played >= 100 && played <= 2 * wall + 100,
            "{played} ms in {wall} ms"
        );
        assert!(link.snapshot.borrow().info.phase != Phase::Accepted || played > 0);
    });
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[test]
fn replay_keys_become_playback_controls_and_the_bar_shows_the_position() {
    let store = Store::new(StoreLimits::default());
    let mut app = App::new(Theme::default(), false);
    app.replay = Some(PlaybackStatus {
        name: "slow0".into(),
        position: 50,
        steps: 100,
        at: cpeers::consensus::Time(86_405_000),
        span: (
            cpeers::consensus::Time(86_400_000),
            cpeers::consensus::Time(86_410_000),
        ),
        playing: false,
        speed: 4.0,
        last: String::new(),
        mismatch: None,
        damage: None,
    });
    let now = cpeers::consensus::Time(86_405_000);
    let cases = [
        (KeyCode::Char(' '), Control::TogglePlay),
        (KeyCode::Char('n'), Control::Step),
        (KeyCode::Char('c'), Control::Jump(JumpTo::PhaseChange)),
        (KeyCode::Char('f'), Control::Jump(JumpTo::DisputeFlip)),
        (KeyCode::Char('l'), Control::Jump(JumpTo::Ledger)),
        (KeyCode::Char('m'), Control::Jump(JumpTo::Mismatch)),
        (KeyCode::Left, Control::Scrub(-5_000)),
        (KeyCode::Char(']'), Control::Scrub(60_000)),
        (KeyCode::Char('{'), Control::Seek(0)),
        (KeyCode::Char('+'), Control::Speed(true)),
        (KeyCode::Char('-'), Control::Speed(false)),
    ];
    for (k, c) in cases {
        assert_eq!(
            app.on_key(key(k), &store, now),
            vec![Action::Playback(c)],
            "{k:?}"
        );
    }
    // Acting on the node is refused in a replay.
    assert!(app.on_key(key(KeyCode::Char('t')), &store, now).is_empty());
    assert!(app.overlay.is_none());
    assert!(app.message.as_ref().unwrap().1.contains("read-only"));

    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| frame::draw(f, &app, &store)).unwrap();
    let screen: String = term
        .backend()
        .buffer()
        .content()
        .chunks(120)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect();
    let bar = screen
        .lines()
        .find(|l| l.contains("50/100"))
        .expect("the replay bar shows the step count");
    assert!(
        bar.contains("x4") && bar.contains("+5.0s") && bar.contains("matches"),
        "{bar}"
    );
    let filled = bar.matches('█').count();
    let empty = bar.matches('░').count();
    assert!(filled.abs_diff(empty) <= 1, "half way: {filled} vs {empty}");
}
