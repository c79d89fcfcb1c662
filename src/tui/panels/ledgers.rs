//! Recent fully validated ledgers: sequence, hash, transactions, how long the round took, how
//! it ended, and whether the close time was agreed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row};

use crate::store::Store;
use crate::store::rows::LedgerRow;
use crate::tui::app::{App, Panel};
use crate::tui::format::{clock, duration_ms};
use crate::tui::frame::draw_table;
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let rows = view::ledgers(app, store);
    let header = vec!["seq", "hash", "txs", "round", "result", "close", "agreed"];
    let make = |l: &LedgerRow| {
        let (result, style) = match l.result {
            Some(r) if r.name() == "yes" => ("yes".to_string(), t.ok),
            Some(r) => (r.name().to_string(), t.warn),
            None => ("acquired".to_string(), t.accent),
        };
        Row::new(vec![
            Cell::from(l.seq.to_string()),
            Cell::from(l.hash.short()),
            Cell::from(l.txs.to_string()),
            Cell::from(l.round_ms.map(duration_ms).unwrap_or_else(|| "-".into())),
            Cell::from(result).style(style),
            Cell::from(clock(l.close_time)),
            Cell::from(if l.close_time_agreed { "yes" } else { "NO" })
                .style(if l.close_time_agreed { t.muted } else { t.warn }),
        ])
    };
    let widths = [
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(12),
        Constraint::Length(6),
    ];
    draw_table(
        f,
        app,
        Panel::Ledgers,
        area,
        header,
        &widths,
        format!("{} validated", rows.len()),
        &rows,
        make,
    );
}
