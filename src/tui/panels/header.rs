//! The header: who and where we are, how far the network got, and — when the node is not in
//! step — what is wrong and what it is doing about it, in plain words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::store::Store;
use crate::store::rows::Level;
use crate::tui::app::App;
use crate::tui::fleet::letter;
use crate::tui::format::{age, clock, duration_ms};
use crate::tui::frame::level_style;

/// Lines the header adds for attached nodes: the list of them (several attached) and the
/// lost connection of the one shown.
pub fn extra_lines(app: &App) -> u16 {
    u16::from(app.fleet.len() > 1) + u16::from(app.stale())
}

/// The attached-nodes lines.
fn fleet_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    if let Some(row) = app.fleet.get(app.current).filter(|r| !r.connected) {
        let text = match &row.down {
            Some((since, why)) => format!(
                " ✖ disconnected from {} since {} UTC, retrying ({why}); the panels show what it last sent",
                row.label,
                &clock(*since)[..8],
            ),
            None => format!(" ✖ connecting to {}…", row.label),
        };
        lines.push(Line::from(Span::styled(text, t.bad)));
    }
    if app.fleet.len() > 1 {
        let mut spans = vec![Span::styled(" nodes", t.muted)];
        for (i, row) in app.fleet.iter().enumerate() {
            let mark = if i == app.current { "▶" } else { " " };
            let what = match (&row.snapshot, row.connected) {
                (_, false) => "DOWN".to_string(),
                (Some(s), true) => {
                    format!("{} #{}", s.info.mode.name(), s.info.fully_validated.seq)
                }
                (None, true) => "…".to_string(),
            };
            let style = if !row.connected {
                t.bad
            } else if i == app.current {
                t.accent
            } else {
                t.header
            };
            spans.push(Span::styled(" │ ", t.header));
            spans.push(Span::styled(
                format!("{mark}{} {} {what}", letter(i), row.label),
                style,
            ));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// Draws the header.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect, attention: &[(Level, String)]) {
    let t = &app.theme;
    let Some(s) = store.snapshot() else {
        let mut lines = vec![Line::from(Span::styled(
            " cpeers · waiting for the node…",
            t.header,
        ))];
        lines.extend(fleet_lines(app));
        f.render_widget(Paragraph::new(lines).style(t.header), area);
        return;
    };
    let i = &s.info;
    let sep = || Span::styled(" │ ", t.header);
    let trusted_up = s.peers.iter().filter(|p| p.trusted).count();
    let mode_style = if matches!(i.mode.name(), "proposing") {
        t.ok
    } else if matches!(i.mode.name(), "observing") {
        t.accent
    } else {
        t.bad
    };
    let mut line1 = Line::from(vec![
        Span::styled(" cpeers", t.title_focused),
        sep(),
        Span::styled(format!("net {}", s.network_id), t.header),
        sep(),
        Span::styled(
            format!(
                "{} {} {}",
                store.name_of(&i.node),
                i.node.short(),
                if i.validator { "validator" } else { "observer" }
            ),
            t.header,
        ),
        sep(),
        Span::styled(i.mode.name().to_uppercase(), mode_style),
        sep(),
        Span::styled(format!("{} #{}", i.phase.name(), i.ledger_seq), t.header),
        sep(),
        Span::styled(
            if i.last_closed.seq == 0 {
                "closed #0 (genesis)".to_string()
            } else {
                format!(
                    "closed #{} {} {} ago",
                    i.last_closed.seq,
                    i.last_closed.hash.short(),
                    age(i.now, i.last_closed.close_time)
                )
            },
            t.header,
        ),
        sep(),
        Span::styled(
            format!(
                "validated #{} {} {} ago",
                i.fully_validated.seq,
                i.fully_validated.hash.short(),
                s.recent_validated
                    .last()
                    .map(|v| age(i.now, v.validated_at))
                    .unwrap_or_else(|| "-".into())
            ),
            if i.fully_validated.seq + 3 < i.last_closed.seq {
                t.warn
            } else {
                t.ok
            },
        ),
    ]);
    let rates: Vec<String> = store
        .rates()
        .iter()
        .filter(|(_, v)| **v > 0.05)
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect();
    let latency = if s.latency.submit_to_validated.count > 0 {
        format!(
            " · submit→validated p50 {}",
            duration_ms(s.latency.submit_to_validated.p50_ms as i64)
        )
    } else {
        String::new()
    };
    let line2 = Line::from(Span::styled(
        format!(
            " peers {} ({trusted_up} trusted) · quorum {} of {} · proposers {} (last {}) · round {} (last {}) · disputes {} · pending {}{latency} · msgs/s {}",
            s.peers.len(),
            i.quorum,
            i.unl_size,
            i.peer_positions.len(),
            i.previous_proposers,
            duration_ms(i.round_ms),
            duration_ms(i.previous_round_ms),
            i.disputes.len(),
            i.pending_txs,
            if rates.is_empty() {
                "-".into()
            } else {
                rates.join(" ")
            }
        ),
        t.muted,
    ));
    if app.read_only && app.replay.is_none() {
        line1.spans.push(sep());
        line1.spans.push(Span::styled("read-only", t.warn));
    }
    let mut lines = vec![line1, line2];
    lines.extend(fleet_lines(app));
    for (level, text) in attention.iter().take(3) {
        let mark = match level {
            Level::Error => "✖ ",
            Level::Warn => "⚠ ",
            Level::Info => "ℹ ",
        };
        lines.push(Line::from(Span::styled(
            format!(" {mark}{text}"),
            level_style(app, *level),
        )));
    }
    f.render_widget(Paragraph::new(lines).style(t.header), area);
}
