//! Peer drill-down: the transactions its position has that ours lacks and the reverse, and how
//! its position changed this round (rippled issue #2396: operators have asked for exactly this).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::modal;
use crate::consensus::NodeId;
use crate::consensus::engine::PeerDetail;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::format::{clip, clock};

/// Draws the overlay.
pub fn draw(
    f: &mut Frame,
    app: &App,
    store: &Store,
    node: NodeId,
    detail: Option<&PeerDetail>,
    scroll: usize,
    area: Rect,
) {
    let t = &app.theme;
    let h = area.height.saturating_sub(2);
    let (r, block) = modal(
        f,
        app,
        area,
        area.width.saturating_sub(6).min(110),
        h,
        format!("Peer {} ({})", store.name_of(&node), node.short()),
    );
    let Some(d) = detail else {
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                "asking the node… (Esc to go back)",
                t.muted,
            )))
            .block(block),
            r,
        );
        return;
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("key ", t.muted),
            Span::styled(node.to_hex(), t.base),
        ]),
        Line::from(Span::styled(
            format!(
                "{} · proposals seen {} · position changes {} · validations {} · equivocations {} · refused {}",
                if d.stats.trusted {
                    "trusted (on our UNL)"
                } else {
                    "NOT trusted: seen, never counted"
                },
                d.stats.proposals_seen,
                d.stats.position_changes,
                d.stats.validations_seen,
                d.stats.equivocations,
                d.stats.refused.values().sum::<u64>()
            ),
            t.base,
        )),
    ];
    if !d.stats.refused.is_empty() {
        let why: Vec<String> = d
            .stats
            .refused
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        lines.push(Line::from(Span::styled(
            format!("refused: {}", why.join(", ")),
            t.warn,
        )));
    }
    lines.push(Line::from(Span::styled(
        match (d.position, d.acquired) {
            (None, _) => "no position this round".to_string(),
            (Some(p), false) => format!(
                "position {} (its transaction set has not arrived yet)",
                p.short()
            ),
            (Some(p), true) if d.theirs_only.is_empty() && d.ours_only.is_empty() => {
                format!("position {}: the same as ours", p.short())
            }
            (Some(p), true) => format!(
                "position {}: {} transaction(s) only it has, {} only we have",
                p.short(),
                d.theirs_only.len(),
                d.ours_only.len()
            ),
        },
        t.accent,
    )));
    lines.push(Line::from(Span::styled("j/k scroll · Esc back", t.muted)));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("only in its position ({})", d.theirs_only.len()),
        t.table_header,
    )));
    for tx in &d.theirs_only {
        lines.push(Line::from(vec![
            Span::styled(format!("  + {} ", tx.id().short()), t.yes),
            Span::styled(clip(&tx.text(), 70), t.base),
        ]));
    }
    lines.push(Line::from(Span::styled(
        format!("only in ours ({})", d.ours_only.len()),
        t.table_header,
    )));
    for tx in &d.ours_only {
        lines.push(Line::from(vec![
            Span::styled(format!("  - {} ", tx.id().short()), t.no),
            Span::styled(clip(&tx.text(), 70), t.base),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "its proposals this round (oldest first)",
        t.table_header,
    )));
    for p in &d.history {
        lines.push(Line::from(Span::styled(
            format!(
                "  {} seq {} position {} close {}",
                clock(p.received),
                if p.seq == u32::MAX {
                    "out".to_string()
                } else {
                    p.seq.to_string()
                },
                p.position.short(),
                clock(p.close_time)
            ),
            t.base,
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0))
            .block(block),
        r,
    );
}
