//! The proposals feed: newest first, every proposal that arrived, marked new / changed /
//! bow-out / stale / other ledger / rejected (with the reason).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

use crate::store::Store;
use crate::store::rows::ProposalMark;
use crate::tui::app::{App, Panel};
use crate::tui::format::{clip, clock, mark};
use crate::tui::frame::{offset_for, panel_block};
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let rows = view::proposals(app, store);
    let visible = area.height.saturating_sub(3) as usize;
    let sel = app
        .list(Panel::Proposals)
        .selected
        .min(rows.len().saturating_sub(1));
    let offset = offset_for(sel, visible);
    let header = Row::new(vec![
        "time", "peer", "seq", "prev", "position", "close", "mark",
    ])
    .style(t.table_header);
    let dash = || "-".to_string();
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(idx, p)| {
            let style = match p.mark {
                ProposalMark::New | ProposalMark::Changed => t.base,
                ProposalMark::OtherLedger | ProposalMark::Stale => t.warn,
                ProposalMark::BowOut => t.accent,
                ProposalMark::Rejected(_) => t.bad,
            };
            let row = Row::new(vec![
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
            ]);
            if idx == sel && app.focus == Panel::Proposals {
                row.style(t.selected)
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Min(8),
    ];
    f.render_widget(
        Table::new(body, widths)
            .header(header)
            .column_spacing(1)
            .block(panel_block(
                app,
                Panel::Proposals,
                format!("{} newest first", rows.len()),
            )),
        area,
    );
}
