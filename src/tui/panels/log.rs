//! Recent warnings and notable events from the node (the full log is in the log file).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::store::Store;
use crate::tui::app::{App, Panel};
use crate::tui::format::clock;
use crate::tui::frame::{level_style, panel_block};
use crate::tui::view;

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let rows = view::log(app, store);
    let visible = area.height.saturating_sub(2) as usize;
    let sel = app
        .list(Panel::Log)
        .selected
        .min(rows.len().saturating_sub(1));
    let offset = sel.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(idx, l)| {
            let mut line = Line::from(vec![
                Span::styled(format!("{} ", clock(l.at)), app.theme.muted),
                Span::styled(l.text.clone(), level_style(app, l.level)),
            ]);
            if idx == sel && app.focus == Panel::Log {
                line = line.style(app.theme.selected);
            }
            line
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(panel_block(
            app,
            Panel::Log,
            format!("{} newest first", rows.len()),
        )),
        area,
    );
}
