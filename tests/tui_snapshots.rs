//! The dashboard rendered into ratatui's TestBackend from a deterministic round (the slow-peer
//! scenario seen from the slow validator while its disputes are open), compared with insta
//! snapshots: the whole screen, each panel, the drill-downs, help, the composer, a tiny
//! terminal, and the mono theme (which must draw no colour at all).

mod support;

use std::sync::Arc;

use cpeers::consensus::engine::Mode;
use cpeers::tui::app::{App, Composer, Overlay, Panel};
use cpeers::tui::frame;
use cpeers::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::Color;
use support::dashboard;

fn render(app: &App, store: &cpeers::store::Store, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| frame::draw(f, app, store)).expect("draw");
    t
}

fn fixture() -> (cpeers::sim::Simulation, cpeers::store::Store) {
    let sim = dashboard::simulation();
    let snap = dashboard::snapshot(&sim, dashboard::ours(&sim));
    let store = dashboard::store(&sim, snap);
    (sim, store)
}

#[test]
fn whole_dashboard() {
    let (_sim, store) = fixture();
    let app = App::new(Theme::default(), false);
    insta::assert_snapshot!(render(&app, &store, 140, 42).backend());
}

#[test]
fn each_panel_focused_with_a_selection() {
    let (_sim, store) = fixture();
    for panel in Panel::ALL {
        let mut app = App::new(Theme::default(), false);
        app.focus = panel;
        app.lists[panel.index()].selected = 1;
        let t = render(&app, &store, 140, 42);
        let area = app
            .areas
            .borrow()
            .panels
            .get(&panel)
            .copied()
            .expect("panel drawn");
        let buf = t.backend().buffer();
        let mut text = String::new();
        for y in area.y..area.y + area.height {
            for x in area.x..area.x + area.width {
                text.push_str(buf[(x, y)].symbol());
            }
            text.push('\n');
        }
        insta::assert_snapshot!(format!("panel_{}", panel.title().to_lowercase()), text);
    }
}

#[test]
fn dispute_drill_down() {
    let (sim, store) = fixture();
    let engine = dashboard::ours(&sim);
    let tx = *engine
        .disputes()
        .expect("disputes")
        .keys()
        .next()
        .expect("a dispute");
    let mut app = App::new(Theme::default(), false);
    app.overlay = Some(Overlay::Dispute {
        tx,
        detail: engine.dispute_detail(&tx).map(Box::new),
        ended: false,
        scroll: 0,
    });
    insta::assert_snapshot!(render(&app, &store, 120, 40).backend());
}

#[test]
fn peer_drill_down_shows_the_conflict_set() {
    let (sim, store) = fixture();
    let engine = dashboard::ours(&sim);
    let fast0 = sim.engine("fast0").expect("node").node_id();
    let detail = engine.peer_detail(&fast0).expect("known peer");
    assert!(
        !detail.theirs_only.is_empty() || !detail.ours_only.is_empty(),
        "the fixture round has conflicts"
    );
    let mut app = App::new(Theme::default(), false);
    app.overlay = Some(Overlay::Peer {
        node: fast0,
        detail: Some(Box::new(detail)),
        scroll: 0,
    });
    insta::assert_snapshot!(render(&app, &store, 120, 40).backend());
}

#[test]
fn help_overlay_and_its_search() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), true);
    app.overlay = Some(Overlay::Help {
        query: String::new(),
    });
    insta::assert_snapshot!("help", render(&app, &store, 120, 40).backend());
    app.overlay = Some(Overlay::Help {
        query: "vote".into(),
    });
    insta::assert_snapshot!("help_search_vote", render(&app, &store, 120, 40).backend());
}

#[test]
fn proposal_composer() {
    let (sim, store) = fixture();
    let seed = dashboard::ours(&sim).composer_seed();
    let mut app = App::new(Theme::default(), false);
    app.overlay = Some(Overlay::Composer(Box::new(Composer {
        seed: None,
        txs: vec![],
        included: vec![],
        cursor: 0,
        close_offset_ms: 0,
    })));
    app.on_answer(cpeers::contract::Answer::Composer(Box::new(seed)));
    insta::assert_snapshot!(render(&app, &store, 120, 40).backend());
}

#[test]
fn tiny_terminal_says_so() {
    let (_sim, store) = fixture();
    let app = App::new(Theme::default(), false);
    let t = render(&app, &store, 60, 16);
    insta::assert_snapshot!(t.backend());
    assert!(app.areas.borrow().panels.is_empty(), "no panel is drawn");
}

#[test]
fn header_explains_a_wrong_ledger_in_plain_words() {
    let (sim, _) = fixture();
    let mut snap = dashboard::snapshot(&sim, dashboard::ours(&sim));
    snap.info.mode = Mode::WrongLedger;
    let store = dashboard::store(&sim, snap);
    let app = App::new(Theme::default(), false);
    let t = render(&app, &store, 140, 42);
    let header: String = (0..5)
        .map(|y| {
            (0..140)
                .map(|x| t.backend().buffer()[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(header.contains("Not on the network's ledger"), "{header}");
    insta::assert_snapshot!(header);
}

#[test]
fn mono_draws_no_colour_at_all() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::built_in("mono").expect("mono"), false);
    app.focus = Panel::Disputes;
    let t = render(&app, &store, 140, 42);
    let buf = t.backend().buffer();
    let area: Rect = buf.area;
    for y in 0..area.height {
        for x in 0..area.width {
            let c = &buf[(x, y)];
            assert!(
                matches!(c.fg, Color::Reset) && matches!(c.bg, Color::Reset),
                "colour at {x},{y}: {:?}/{:?}",
                c.fg,
                c.bg
            );
        }
    }
    insta::assert_snapshot!(t.backend());
    let _ = Arc::new(());
}
