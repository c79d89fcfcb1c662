//! The `t` overlay: type a transaction payload (or `*N` for N random ones) and press Enter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::modal;
use crate::tui::app::App;

/// Draws the overlay.
pub fn draw(f: &mut Frame, app: &App, input: &str, error: Option<&str>, area: Rect) {
    let t = &app.theme;
    let (r, block) = modal(f, app, area, 72, 7, "Submit a transaction".into());
    let mut lines = vec![
        Line::from(Span::styled(
            "payload (at most 1024 bytes), or *N for N random ones:",
            t.muted,
        )),
        Line::from(Span::styled(format!("> {input}▏"), t.accent)),
        Line::from(""),
    ];
    match error {
        Some(e) => lines.push(Line::from(Span::styled(e.to_string(), t.bad))),
        None => lines.push(Line::from(Span::styled(
            "Enter submit · Esc cancel",
            t.muted,
        ))),
    }
    f.render_widget(Paragraph::new(lines).block(block), r);
}
