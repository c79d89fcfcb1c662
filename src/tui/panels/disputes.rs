//! The disputes panel: every transaction our position and a peer's differ on, with our vote,
//! yays and nays, support against what the avalanche state needs, stalls and flips.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

use crate::store::Store;
use crate::tui::app::{App, Panel};
use crate::tui::format::clip;
use crate::tui::frame::{offset_for, panel_block};
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let rows = view::disputes(app, store);
    let visible = area.height.saturating_sub(3) as usize;
    let sel = app
        .list(Panel::Disputes)
        .selected
        .min(rows.len().saturating_sub(1));
    let offset = offset_for(sel, visible);
    let header = Row::new(vec![
        "tx", "payload", "ours", "yes", "no", "support", "need", "state", "stall", "flips",
    ])
    .style(t.table_header);
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(idx, d)| {
            let ours = if d.our_vote { "YES" } else { "no" };
            let ours = if d.pinned {
                format!("{ours}*")
            } else {
                ours.to_string()
            };
            let row = Row::new(vec![
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
            ]);
            if idx == sel && app.focus == Panel::Disputes {
                row.style(t.selected)
            } else {
                row
            }
        })
        .collect();
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
    f.render_widget(
        Table::new(body, widths)
            .header(header)
            .column_spacing(1)
            .block(panel_block(app, Panel::Disputes, title)),
        area,
    );
}
