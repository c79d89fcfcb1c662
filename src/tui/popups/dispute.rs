//! Dispute drill-down: every peer's vote, when each peer and we flipped, and what it would take
//! to resolve (how many votes must change to cross the threshold).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::modal;
use crate::consensus::TxId;
use crate::consensus::dispute::Voter;
use crate::consensus::engine::DisputeDetail;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::format::{clip, clock};

/// Draws the overlay.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    f: &mut Frame,
    app: &App,
    store: &Store,
    tx: TxId,
    detail: Option<&DisputeDetail>,
    ended: bool,
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
        format!("Dispute {}", tx.short()),
    );
    let Some(d) = detail else {
        let text = if ended {
            "this dispute's round already ended before its details arrived; freeze the display (space) and drill in sooner. Esc to go back"
        } else {
            "asking the node… (Esc to go back)"
        };
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(text, t.muted)))
                .wrap(Wrap { trim: true })
                .block(block),
            r,
        );
        return;
    };
    let i = &d.info;
    let mut lines = Vec::new();
    if ended {
        lines.push(Line::from(Span::styled(
            "its round has ended: this is the dispute's final state",
            t.warn,
        )));
    }
    lines.extend([
        Line::from(vec![
            Span::styled("payload ", t.muted),
            Span::styled(clip(&d.payload, 80), t.base),
        ]),
        Line::from(vec![
            Span::styled("our vote ", t.muted),
            Span::styled(
                format!("{}{}", if i.our_vote { "YES" } else { "NO" }, if i.pinned { " (pinned by operator)" } else { "" }),
                if i.our_vote { t.yes } else { t.no },
            ),
            Span::styled(
                format!(
                    " · yes {} no {} · support {}% · needs {}% ({}) · {}",
                    i.yays,
                    i.nays,
                    i.support_pct,
                    i.needed_pct,
                    i.avalanche.name(),
                    if i.stalled { "STALLED" } else { "moving" }
                ),
                t.base,
            ),
        ]),
        Line::from(Span::styled(
            match i.votes_to_flip {
                Some(0) => "resolve: our vote flips at the next update (the threshold moved past it)".to_string(),
                Some(n) => format!(
                    "resolve: {n} peer vote(s) would have to switch to {} for our vote to flip at {}%",
                    if i.our_vote { "NO" } else { "YES" },
                    i.needed_pct
                ),
                None => "resolve: no peer votes the other way; only our own vote (or a pin) decides it".to_string(),
            },
            t.accent,
        )),
        Line::from(Span::styled(
            "o pin our vote to the other side / release · j/k scroll · Esc back",
            t.muted,
        )),
        Line::from(""),
        Line::from(Span::styled(format!("votes ({} peers)", d.votes.len()), t.table_header)),
    ]);
    let mut yes: Vec<String> = Vec::new();
    let mut no: Vec<String> = Vec::new();
    for (n, v) in &d.votes {
        if *v {
            yes.push(store.name_of(n));
        } else {
            no.push(store.name_of(n));
        }
    }
    lines.push(Line::from(vec![
        Span::styled("  YES: ", t.yes),
        Span::styled(yes.join(", "), t.base),
    ]));
    lines.push(Line::from(vec![
        Span::styled("  NO:  ", t.no),
        Span::styled(no.join(", "), t.base),
    ]));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "history (newest first)",
        t.table_header,
    )));
    for h in d.history.iter().rev() {
        let who = match h.voter {
            Voter::Us => "us".to_string(),
            Voter::Peer(n) => store.name_of(&n),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", clock(h.at)), t.muted),
            Span::styled(format!("{who:<10} "), t.base),
            Span::styled(
                format!(
                    "{} {}",
                    if h.flip { "flipped to" } else { "voted" },
                    if h.yes { "YES" } else { "NO" }
                ),
                if h.yes { t.yes } else { t.no },
            ),
        ]));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0))
            .block(block),
        r,
    );
}
