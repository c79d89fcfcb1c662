//! The `p` overlay: start from our position, toggle transactions in and out, move the close
//! time, and send it signed with our key as our next position.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::modal;
use crate::store::Store;
use crate::tui::app::{App, Composer};
use crate::tui::format::{clip, clock};

/// Draws the overlay.
pub fn draw(f: &mut Frame, app: &App, _store: &Store, c: &Composer, area: Rect) {
    let t = &app.theme;
    let h = area.height.saturating_sub(4).clamp(8, 30);
    let (r, block) = modal(f, app, area, 90, h, "Compose our next position".into());
    let mut lines = Vec::new();
    let Some(seed) = &c.seed else {
        lines.push(Line::from(Span::styled(
            "asking the node for our position…",
            t.muted,
        )));
        f.render_widget(Paragraph::new(lines).block(block), r);
        return;
    };
    let chosen = c.included.iter().filter(|x| **x).count();
    lines.push(Line::from(vec![
        Span::styled(
            format!("next seq {} · ", seed.seq.saturating_add(1)),
            t.muted,
        ),
        Span::styled(
            format!("{chosen} of {} transactions in · ", c.txs.len()),
            t.base,
        ),
        Span::styled(
            format!(
                "close time {} ({:+} ms)",
                clock(seed.close_time.plus(c.close_offset_ms)),
                c.close_offset_ms
            ),
            t.accent,
        ),
    ]));
    if !seed.can_inject {
        lines.push(Line::from(Span::styled(
            "not proposing in the establish phase right now: the node would refuse; wait for establish",
            t.warn,
        )));
    }
    lines.push(Line::from(Span::styled(
        "space toggle · j/k move · +/- close time · Enter send signed · Esc cancel",
        t.muted,
    )));
    let visible = h.saturating_sub(2 + lines.len() as u16) as usize;
    let offset = c.cursor.saturating_sub(visible.saturating_sub(1));
    let ours = seed.ours.len();
    for (idx, (tx, inc)) in c
        .txs
        .iter()
        .zip(&c.included)
        .enumerate()
        .skip(offset)
        .take(visible)
    {
        let origin = if idx < ours { "ours" } else { "candidate" };
        let mut line = Line::from(vec![
            Span::styled(
                if *inc { "[x] " } else { "[ ] " },
                if *inc { t.yes } else { t.no },
            ),
            Span::styled(format!("{} ", tx.id().short()), t.muted),
            Span::styled(format!("{:<10}", origin), t.muted),
            Span::styled(clip(&tx.text(), 50), t.base),
        ]);
        if idx == c.cursor {
            line = line.style(t.selected);
        }
        lines.push(line);
    }
    if c.txs.is_empty() {
        lines.push(Line::from(Span::styled(
            "(no transactions: sending proposes the empty set)",
            t.muted,
        )));
    }
    f.render_widget(Paragraph::new(lines).block(block), r);
}
