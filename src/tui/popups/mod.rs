//! Overlays drawn over the panels: help, the transaction input, the proposal composer, the
//! two drill-downs (a dispute's votes, a peer's conflict set) and the network view of every
//! attached node.

pub mod composer;
pub mod dispute;
pub mod help;
pub mod network;
pub mod peer;
pub mod submit;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders, Clear};

use crate::tui::app::App;

/// A centred rectangle of `w` x `h` cells (clamped to `area`), cleared and framed with `title`.
pub fn modal<'a>(
    f: &mut Frame,
    app: &App,
    area: Rect,
    w: u16,
    h: u16,
    title: String,
) -> (Rect, Block<'a>) {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(app.theme.border_focused)
        .style(app.theme.base)
        .title(Span::styled(format!(" {title} "), app.theme.title_focused));
    (r, block)
}
