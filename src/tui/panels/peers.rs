//! The peers panel: one row per validator we know (us first), with trust, connection, latency,
//! its latest proposal and position, whether it agrees with us, and what it is up to.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row};

use crate::store::Store;
use crate::store::rows::{PeerRow, PeerState};
use crate::tui::app::{App, Panel};
use crate::tui::format::{clip, duration_ms};
use crate::tui::frame::draw_table;
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let rows = view::peers(app, store);
    let header = vec![
        "node", "unl", "link", "addr", "rtt", "seq", "age", "position", "agree", "state", "valid",
        "rej",
    ];
    let make = |r: &PeerRow| {
        let agree = match r.agrees {
            Some(true) => Cell::from("yes").style(t.yes),
            Some(false) => Cell::from("NO").style(t.no),
            None => Cell::from("-").style(t.muted),
        };
        let state_style = match r.state {
            PeerState::Us | PeerState::Proposing => t.base,
            PeerState::Quiet => t.muted,
            PeerState::BowedOut | PeerState::Stale | PeerState::OtherLedger => t.warn,
            PeerState::Equivocating => t.bad,
        };
        let mut state = r.state.label().to_string();
        if let Some(note) = r.node.and_then(|n| app.demo_notes.get(&n)) {
            state = format!("{state} [{note}]");
        }
        let row = Row::new(vec![
            Cell::from(clip(&r.name, 8)),
            Cell::from(if r.trusted { "yes" } else { "no" }).style(if r.trusted {
                t.ok
            } else {
                t.muted
            }),
            Cell::from(if r.connected { "up" } else { "down" }).style(if r.connected {
                t.ok
            } else {
                t.bad
            }),
            Cell::from(r.addr.clone().unwrap_or_else(|| "-".into())),
            Cell::from(
                r.rtt_ms
                    .map(|v| {
                        if v >= 100.0 {
                            format!("{v:.0}")
                        } else {
                            format!("{v:.1}")
                        }
                    })
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(
                r.last_seq
                    .map(|s| {
                        if s == u32::MAX {
                            "out".into()
                        } else {
                            s.to_string()
                        }
                    })
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(r.last_age_ms.map(duration_ms).unwrap_or_else(|| "-".into())),
            Cell::from(r.position.map(|p| p.short()).unwrap_or_else(|| "-".into())),
            agree,
            Cell::from(state).style(state_style),
            Cell::from(
                r.last_validated
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(r.rejected.to_string()).style(if r.rejected > 0 { t.warn } else { t.muted }),
        ]);
        if r.us { row.style(t.our_row) } else { row }
    };
    let widths = [
        Constraint::Length(8),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Fill(1),
        Constraint::Length(5),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(5),
        Constraint::Length(3),
    ];
    let title = format!("{} · sort {}", rows.len(), app.peer_sort.label());
    draw_table(
        f,
        app,
        Panel::Peers,
        area,
        header,
        &widths,
        title,
        &rows,
        make,
    );
}
