//! The disputes panel: every transaction our position and a peer's differ on, with our vote,
//! yays and nays, support against what the avalanche state needs, stalls and flips.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row};

use crate::consensus::engine::DisputeInfo;
use crate::store::Store;
use crate::tui::app::{App, Panel};
use crate::tui::format::clip;
use crate::tui::frame::draw_table;
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let rows = view::disputes(app, store);
    let header = vec![
        "tx", "payload", "ours", "yes", "no", "support", "need", "state", "stall", "flips",
    ];
    let make = |d: &DisputeInfo| {
        let ours = if d.our_vote { "YES" } else { "no" };
        let ours = if d.pinned {
            format!("{ours}*")
        } else {
            ours.to_string()
        };
        Row::new(vec![
            Cell::from(d.tx.short()),
            Cell::from(clip(&d.preview, 16)),
            Cell::from(ours).style(if d.our_vote { t.yes } else { t.no }),
            Cell::from(d.yays.to_string()).style(t.yes),
            Cell::from(d.nays.to_string()).style(t.no),
            Cell::from(format!("{}%", d.support_pct)),
            Cell::from(format!("{}%", d.needed_pct)),
            Cell::from(d.avalanche.name()),
            Cell::from(if d.stalled { "STALL" } else { "-" }).style(if d.stalled {
                t.bad
            } else {
                t.muted
            }),
            Cell::from(d.flips.to_string()),
        ])
    };
    let widths = [
        Constraint::Length(8),
        Constraint::Min(8),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Length(5),
    ];
    let title = format!(
        "{} · sort {} · * pinned",
        rows.len(),
        app.dispute_sort.label()
    );
    draw_table(
        f,
        app,
        Panel::Disputes,
        area,
        header,
        &widths,
        title,
        &rows,
        make,
    );
}
