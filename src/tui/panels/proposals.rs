//! The proposals feed: newest first, every proposal that arrived, marked new / changed /
//! bow-out / stale / other ledger / rejected (with the reason).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row};

use crate::store::Store;
use crate::store::rows::{ProposalMark, ProposalRow};
use crate::tui::app::{App, Panel};
use crate::tui::format::{clip, clock, mark};
use crate::tui::frame::draw_table;
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let rows = view::proposals(app, store);
    let header = vec!["time", "peer", "seq", "prev", "position", "close", "mark"];
    let dash = || "-".to_string();
    let make = |p: &ProposalRow| {
        let style = match p.mark {
            ProposalMark::New | ProposalMark::Changed => t.base,
            ProposalMark::OtherLedger | ProposalMark::Stale => t.warn,
            ProposalMark::BowOut => t.accent,
            ProposalMark::Rejected(_) => t.bad,
        };
        Row::new(vec![
            Cell::from(clock(p.at)),
            Cell::from(clip(
                &p.from.map(|n| store.name_of(&n)).unwrap_or_else(dash),
                10,
            )),
            Cell::from(
                p.seq
                    .map(|s| {
                        if s == u32::MAX {
                            "out".into()
                        } else {
                            s.to_string()
                        }
                    })
                    .unwrap_or_else(dash),
            ),
            Cell::from(p.prev_ledger.map(|h| h.short()).unwrap_or_else(dash)),
            Cell::from(p.position.map(|h| h.short()).unwrap_or_else(dash)),
            Cell::from(p.close_time.map(clock).unwrap_or_else(dash)),
            Cell::from(mark(p.mark)).style(style),
        ])
    };
    let widths = [
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Min(8),
    ];
    draw_table(
        f,
        app,
        Panel::Proposals,
        area,
        header,
        &widths,
        format!("{} newest first", rows.len()),
        &rows,
        make,
    );
}
