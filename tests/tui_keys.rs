//! Every key the dashboard documents does what it says: it changes the view, or asks for the
//! right command. The commands that matter end to end (a submitted transaction, a composed
//! proposal) are also fed to the simulated node to show the network takes them.

mod support;

use cpeers::consensus::{Command, Input};
use cpeers::tui::action::{Action, DemoAction};
use cpeers::tui::app::{App, Overlay, Panel, PeerSort};
use cpeers::tui::frame;
use cpeers::tui::theme::Theme;
use cpeers::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use support::dashboard;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

fn now() -> cpeers::consensus::Time {
    cpeers::consensus::Time(86_404_500)
}

fn fixture() -> (cpeers::sim::Simulation, cpeers::store::Store) {
    let sim = dashboard::simulation();
    let snap = dashboard::snapshot(&sim, dashboard::ours(&sim));
    let store = dashboard::store(&sim, snap);
    (sim, store)
}

fn type_text(app: &mut App, store: &cpeers::store::Store, text: &str) -> Vec<Action> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(app.on_key(ch(c), store, now()));
    }
    out
}

#[test]
fn t_then_payload_then_enter_submits_it_and_the_network_validates_it() {
    let (mut sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    assert!(app.on_key(ch('t'), &store, now()).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Submit { .. })));
    assert!(type_text(&mut app, &store, "pay-alice-5").is_empty());
    let actions = app.on_key(key(KeyCode::Enter), &store, now());
    let [Action::Engine(Command::Submit(txs))] = actions.as_slice() else {
        panic!("expected one submit, got {actions:?}");
    };
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].text(), "pay-alice-5");
    assert!(app.overlay.is_none());
    // The simulated node takes it and the network validates it.
    sim.handle("slow0", Input::Command(Command::Submit(txs.clone())));
    sim.run_until(40_000);
    let validated = (1..=sim.engine("fast0").unwrap().fully_validated().seq()).any(|s| {
        sim.engine("fast0")
            .unwrap()
            .ledger_at(s)
            .is_some_and(|l| l.txs().iter().any(|t| t.text() == "pay-alice-5"))
    });
    assert!(
        validated,
        "the submitted payload reached a validated ledger"
    );
}

#[test]
fn star_n_submits_n_distinct_random_transactions() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(ch('t'), &store, now());
    type_text(&mut app, &store, "*5");
    let actions = app.on_key(key(KeyCode::Enter), &store, now());
    let [Action::Engine(Command::Submit(txs))] = actions.as_slice() else {
        panic!("{actions:?}");
    };
    let ids: std::collections::BTreeSet<_> = txs.iter().map(|t| t.id()).collect();
    assert_eq!(ids.len(), 5);
}

#[test]
fn empty_or_bad_submissions_are_refused_in_place() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(ch('t'), &store, now());
    assert!(app.on_key(key(KeyCode::Enter), &store, now()).is_empty());
    assert!(matches!(
        &app.overlay,
        Some(Overlay::Submit { error: Some(_), .. })
    ));
    type_text(&mut app, &store, "*x");
    assert!(app.on_key(key(KeyCode::Enter), &store, now()).is_empty());
    assert!(app.on_key(key(KeyCode::Esc), &store, now()).is_empty());
    assert!(app.overlay.is_none());
}

#[test]
fn p_composes_a_signed_proposal_with_the_toggled_set() {
    let (mut sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    assert_eq!(
        app.on_key(ch('p'), &store, now()),
        vec![Action::InspectComposer]
    );
    let seed = dashboard::ours(&sim).composer_seed();
    assert!(seed.can_inject, "slow0 is proposing in the establish phase");
    let ours = seed.ours.clone();
    let first_candidate = seed.candidates[0].clone();
    app.on_answer(cpeers::contract::Answer::Composer(Box::new(seed.clone())));
    // Drop our own first transaction, add the first candidate, move the close time.
    app.on_key(ch(' '), &store, now());
    for _ in 0..ours.len() {
        app.on_key(ch('j'), &store, now());
    }
    app.on_key(ch(' '), &store, now());
    app.on_key(ch('+'), &store, now());
    let actions = app.on_key(key(KeyCode::Enter), &store, now());
    let [Action::Engine(cmd @ Command::InjectPosition { txs, close_time })] = actions.as_slice()
    else {
        panic!("{actions:?}");
    };
    let mut expected: Vec<_> = ours[1..].iter().map(|t| t.id()).collect();
    expected.push(first_candidate.id());
    expected.sort();
    let mut got: Vec<_> = txs.iter().map(|t| t.id()).collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(*close_time, Some(seed.close_time.plus(10_000)));
    // The node signs it as its next position, and a peer verifies and takes it.
    let verdict = sim
        .handle("slow0", Input::Command(cmd.clone()))
        .expect("live");
    assert!(verdict.is_accepted());
    let position = dashboard::ours(&sim).info().our_position.expect("position");
    assert_eq!(position.seq, seed.seq + 1);
    let set_id = cpeers::consensus::TxSet::new(txs.clone()).id();
    assert_eq!(position.position, set_id);
    sim.run_until(4_500 + 1_200);
    let slow0 = dashboard::ours(&sim).node_id();
    let seen_by_fast0 = sim.engine("fast0").unwrap().peers().stats()[&slow0]
        .last_proposal
        .expect("seen");
    assert_eq!(
        seen_by_fast0.position, set_id,
        "fast0 verified and took the signed position"
    );
    assert_eq!(seen_by_fast0.seq, seed.seq + 1);
}

#[test]
fn o_on_a_dispute_pins_our_vote_the_other_way_and_enter_drills_in() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(ch('3'), &store, now());
    assert_eq!(app.focus, Panel::Disputes);
    let rows = view::disputes(&app, &store);
    let first = rows[0].clone();
    let actions = app.on_key(ch('o'), &store, now());
    assert_eq!(
        actions,
        vec![Action::Engine(Command::OverrideVote {
            tx: first.tx,
            vote: Some(!first.our_vote),
        })]
    );
    assert_eq!(
        app.on_key(key(KeyCode::Enter), &store, now()),
        vec![Action::InspectDispute(first.tx)]
    );
    assert!(matches!(app.overlay, Some(Overlay::Dispute { tx, .. }) if tx == first.tx));
    app.on_key(key(KeyCode::Esc), &store, now());
    assert!(app.overlay.is_none());
}

#[test]
fn enter_on_a_peer_asks_for_its_conflict_set() {
    let (sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(ch('j'), &store, now());
    let fast0 = sim.engine("fast0").unwrap().node_id();
    assert_eq!(
        app.on_key(key(KeyCode::Enter), &store, now()),
        vec![Action::InspectPeer(fast0)]
    );
}

#[test]
fn navigation_keys_move_focus_and_selection() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(key(KeyCode::Tab), &store, now());
    assert_eq!(app.focus, Panel::Proposals);
    app.on_key(key(KeyCode::BackTab), &store, now());
    app.on_key(key(KeyCode::BackTab), &store, now());
    assert_eq!(app.focus, Panel::Log);
    app.on_key(ch('1'), &store, now());
    assert_eq!(app.focus, Panel::Peers);
    app.on_key(ch('G'), &store, now());
    assert_eq!(app.list(Panel::Peers).selected, 4);
    app.on_key(ch('j'), &store, now());
    assert_eq!(
        app.list(Panel::Peers).selected,
        4,
        "selection stays in bounds"
    );
    app.on_key(ch('k'), &store, now());
    app.on_key(key(KeyCode::Up), &store, now());
    assert_eq!(app.list(Panel::Peers).selected, 2);
    app.on_key(ch('g'), &store, now());
    assert_eq!(app.list(Panel::Peers).selected, 0);
    app.on_key(key(KeyCode::PageDown), &store, now());
    assert_eq!(app.list(Panel::Peers).selected, 4);
}

#[test]
fn slash_filters_the_focused_panel_and_esc_clears_it() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(ch('/'), &store, now());
    type_text(&mut app, &store, "fast1");
    app.on_key(key(KeyCode::Enter), &store, now());
    let rows = view::peers(&app, &store);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].name, "fast1");
    app.on_key(key(KeyCode::Esc), &store, now());
    assert_eq!(view::peers(&app, &store).len(), 5);
}

#[test]
fn s_space_t_and_question_mark() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    app.on_key(ch('s'), &store, now());
    assert_eq!(app.peer_sort, PeerSort::Latency);
    app.on_key(ch(' '), &store, now());
    assert!(app.frozen);
    app.on_key(ch(' '), &store, now());
    assert!(!app.frozen);
    let before = app.theme.name.clone();
    app.on_key(ch('T'), &store, now());
    assert_ne!(app.theme.name, before);
    app.on_key(ch('?'), &store, now());
    type_text(&mut app, &store, "quit");
    assert!(
        matches!(&app.overlay, Some(Overlay::Help { query }) if query == "quit"),
        "typing searches, not quits"
    );
    app.on_key(key(KeyCode::Esc), &store, now());
    assert!(app.overlay.is_none());
}

#[test]
fn q_and_ctrl_c_quit_even_from_an_overlay() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    assert_eq!(app.on_key(ch('q'), &store, now()), vec![Action::Quit]);
    app.on_key(ch('t'), &store, now());
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c, &store, now()), vec![Action::Quit]);
}

#[test]
fn demo_keys_act_on_the_selected_peer_only_in_the_demo() {
    let (sim, store) = fixture();
    let fast0 = sim.engine("fast0").unwrap().node_id();
    let mut plain = App::new(Theme::default(), false);
    plain.on_key(ch('j'), &store, now());
    assert!(plain.on_key(ch('K'), &store, now()).is_empty());
    let mut demo = App::new(Theme::default(), true);
    demo.on_key(ch('j'), &store, now());
    assert_eq!(
        demo.on_key(ch('K'), &store, now()),
        vec![Action::Demo(DemoAction::ToggleCrash(fast0))]
    );
    assert_eq!(
        demo.on_key(ch('B'), &store, now()),
        vec![Action::Demo(DemoAction::CycleByzantine(fast0))]
    );
    assert_eq!(
        demo.on_key(ch('L'), &store, now()),
        vec![Action::Demo(DemoAction::ToggleSlow(fast0))]
    );
    assert_eq!(
        demo.on_key(ch('C'), &store, now()),
        vec![Action::Demo(DemoAction::ToggleClockSkew(fast0))]
    );
    assert_eq!(
        demo.on_key(ch('X'), &store, now()),
        vec![Action::Demo(DemoAction::TogglePartition)]
    );
    demo.on_key(ch('g'), &store, now());
    assert!(
        demo.on_key(ch('K'), &store, now()).is_empty(),
        "never our own node"
    );
}

#[test]
fn a_click_focuses_the_panel_and_selects_the_row() {
    let (_sim, store) = fixture();
    let mut app = App::new(Theme::default(), false);
    let mut t = Terminal::new(TestBackend::new(140, 42)).unwrap();
    t.draw(|f| frame::draw(f, &app, &store)).unwrap();
    let area = app.areas.borrow().panels[&Panel::Disputes];
    app.on_mouse(
        MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: area.x + 3,
            row: area.y + 4,
            modifiers: KeyModifiers::NONE,
        },
        &store,
    );
    assert_eq!(app.focus, Panel::Disputes);
    assert_eq!(app.list(Panel::Disputes).selected, 2);
}
