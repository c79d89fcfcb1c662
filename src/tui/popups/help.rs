//! The `?` overlay: every key, searchable by typing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::modal;
use crate::tui::app::App;
use crate::tui::keys;

/// Draws the overlay.
pub fn draw(f: &mut Frame, app: &App, query: &str, area: Rect) {
    let t = &app.theme;
    let entries = keys::search(query, app.demo, app.replay.is_some());
    let h = entries.len() as u16 + 5;
    let (r, block) = modal(f, app, area, 92, h, "Keys".into());
    let mut lines = vec![Line::from(vec![
        Span::styled("search: ", t.muted),
        Span::styled(format!("{query}▏"), t.accent),
        Span::styled("   (type to filter · Esc to close)", t.muted),
    ])];
    lines.push(Line::from(""));
    if entries.is_empty() {
        lines.push(Line::from(Span::styled("no key matches", t.muted)));
    }
    for k in entries {
        let mut spans = vec![
            Span::styled(format!("{:>16}  ", k.keys), t.key),
            Span::styled(k.what.to_string(), t.base),
        ];
        if !k.scope.note().is_empty() {
            spans.push(Span::styled(k.scope.note(), t.muted));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines).block(block), r);
}
