//! The whole screen: header (with plain-words explanations when the node is not in step), the
//! six panels, the footer, overlays on top, or a clear message when the terminal is too small.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Row, Table, Wrap};

use super::app::{App, Overlay, Panel};
use super::{panels, popups};
use crate::store::Store;
use crate::store::rows::Level;

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 80;
/// Smallest usable terminal.
pub const MIN_HEIGHT: u16 = 24;

/// A bordered block for `panel`, highlighted when focused.
pub fn panel_block<'a>(app: &App, panel: Panel, extra: String) -> Block<'a> {
    let focused = app.focus == panel;
    let t = &app.theme;
    let filter = app.filter(panel);
    let mut title = format!(" {} {}", panel.index() + 1, panel.title());
    if !extra.is_empty() {
        title.push_str(&format!(" · {extra}"));
    }
    if !filter.is_empty() {
        title.push_str(&format!(" · filter \"{filter}\""));
    }
    if app.stale() {
        title.push_str(" · STALE");
    }
    title.push(' ');
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused { t.border_focused } else { t.border })
        .title(Span::styled(
            title,
            if focused { t.title_focused } else { t.title },
        ))
}

/// The style of a log level.
pub fn level_style(app: &App, l: Level) -> Style {
    match l {
        Level::Info => app.theme.muted,
        Level::Warn => app.theme.warn,
        Level::Error => app.theme.bad,
    }
}

/// Draws everything.
pub fn draw(f: &mut Frame, app: &App, store: &Store) {
    let area = f.area();
    f.render_widget(Block::default().style(app.theme.base), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = vec![
            Line::from(Span::styled("Terminal too small", app.theme.warn)),
            Line::from(format!(
                "{}x{} here; cpeers needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
                area.width, area.height
            )),
            Line::from("Enlarge the window, or press q to quit."),
        ];
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        app.areas.borrow_mut().panels.clear();
        return;
    }
    let attention = store.attention();
    let header_h = 2 + attention.len().min(3) as u16 + panels::header::extra_lines(app);
    let bar_h = u16::from(app.replay.is_some());
    let [header, body, bar, footer] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Min(10),
        Constraint::Length(bar_h),
        Constraint::Length(1),
    ])
    .areas(area);
    panels::header::draw(f, app, store, header, &attention);
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Percentage(38),
        Constraint::Percentage(34),
        Constraint::Percentage(28),
    ])
    .areas(body);
    let [peers, phase] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(top);
    let [proposals, disputes] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    let [ledgers, log] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    {
        let mut a = app.areas.borrow_mut();
        a.panels.clear();
        a.panels.insert(Panel::Peers, peers);
        a.panels.insert(Panel::Phase, phase);
        a.panels.insert(Panel::Proposals, proposals);
        a.panels.insert(Panel::Disputes, disputes);
        a.panels.insert(Panel::Ledgers, ledgers);
        a.panels.insert(Panel::Log, log);
        a.replay_bar = app.replay.as_ref().map(|_| bar);
    }
    panels::peers::draw(f, app, store, peers);
    panels::phase::draw(f, app, store, phase);
    panels::proposals::draw(f, app, store, proposals);
    panels::disputes::draw(f, app, store, disputes);
    panels::ledgers::draw(f, app, store, ledgers);
    panels::log::draw(f, app, store, log);
    if let Some(p) = &app.replay {
        draw_replay_bar(f, app, p, bar);
    }
    draw_footer(f, app, footer);
    match &app.overlay {
        None => {}
        Some(Overlay::Help { query }) => popups::help::draw(f, app, query, area),
        Some(Overlay::Submit { input, error }) => {
            popups::submit::draw(f, app, input, error.as_deref(), area)
        }
        Some(Overlay::Composer(c)) => popups::composer::draw(f, app, store, c, area),
        Some(Overlay::Dispute {
            tx,
            detail,
            ended,
            scroll,
        }) => popups::dispute::draw(f, app, store, *tx, detail.as_deref(), *ended, *scroll, area),
        Some(Overlay::Peer {
            node,
            detail,
            scroll,
        }) => popups::peer::draw(f, app, store, *node, detail.as_deref(), *scroll, area),
        Some(Overlay::Network { selected }) => popups::network::draw(f, app, *selected, area),
    }
}

fn draw_footer(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let mut spans = Vec::new();
    if app.frozen {
        spans.push(Span::styled(
            " FROZEN ",
            t.warn.add_modifier(ratatui::style::Modifier::REVERSED),
        ));
        spans.push(Span::raw(" "));
    }
    if let Some(f) = &app.editing_filter {
        spans.push(Span::styled(
            format!("filter {}: {f}▏", app.focus.title()),
            t.accent,
        ));
        spans.push(Span::styled("  Enter keep · Esc clear", t.muted));
    } else if let Some((level, msg)) = &app.message {
        spans.push(Span::styled(msg.clone(), level_style(app, *level)));
    } else if app.replay.is_some() {
        let hints: &[(&str, &str)] = &[
            ("?", "help"),
            ("space", "play/pause"),
            ("n", "step"),
            ("c f l", "next phase/flip/ledger"),
            ("m", "mismatch"),
            ("←→ [ ]", "scrub"),
            ("- +", "speed"),
            ("q", "quit"),
        ];
        for (k, what) in hints {
            spans.push(Span::styled(format!(" {k}"), t.key));
            spans.push(Span::styled(format!(" {what} "), t.muted));
        }
    } else {
        let hints: &[(&str, &str)] = &[
            ("?", "help"),
            ("Tab", "panel"),
            ("Enter", "drill in"),
            ("t", "submit tx"),
            ("p", "propose"),
            ("o", "override vote"),
            ("/", "filter"),
            ("space", "freeze"),
            ("q", "quit"),
        ];
        for (k, what) in hints {
            spans.push(Span::styled(format!(" {k}"), t.key));
            spans.push(Span::styled(format!(" {what} "), t.muted));
        }
        if app.demo {
            spans.push(Span::styled(" K B L C X", t.key));
            spans.push(Span::styled(" make trouble", t.muted));
        }
        if app.fleet.len() > 1 {
            spans.push(Span::styled(" n", t.key));
            spans.push(Span::styled(" next node ", t.muted));
            spans.push(Span::styled(" N", t.key));
            spans.push(Span::styled(" network", t.muted));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The replay bar: play state, speed, recorded time, a timeline, and the self-check.
fn draw_replay_bar(
    f: &mut Frame,
    app: &App,
    p: &crate::record::playback::PlaybackStatus,
    area: Rect,
) {
    let t = &app.theme;
    let state = if p.playing {
        format!(" ▶ x{} ", speed_text(p.speed))
    } else {
        format!(" ❚❚ x{} ", speed_text(p.speed))
    };
    let clock = format!(
        " {} +{:.1}s ",
        crate::tui::format::clock(p.at),
        p.at.since(p.span.0) as f64 / 1000.0
    );
    let check = match (&p.mismatch, &p.damage) {
        (Some(_), _) => Span::styled(
            " MISMATCH (m) ",
            t.bad.add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        (None, Some(_)) => Span::styled(
            " DAMAGED ",
            t.warn.add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        (None, None) => Span::styled(" matches ", t.ok),
    };
    let steps = format!(" {}/{} ", p.position, p.steps);
    let fixed = state.chars().count()
        + clock.chars().count()
        + check.content.chars().count()
        + steps.chars().count()
        + 2;
    let width = (area.width as usize).saturating_sub(fixed).max(10);
    let filled = ((p.fraction() * width as f64).round() as usize).min(width);
    let line = Line::from(vec![
        Span::styled(
            state,
            t.accent.add_modifier(ratatui::style::Modifier::REVERSED),
        ),
        Span::styled(clock, t.base),
        Span::styled("█".repeat(filled), t.gauge),
        Span::styled("░".repeat(width - filled), t.gauge_empty),
        Span::styled(steps, t.muted),
        check,
    ]);
    f.render_widget(Paragraph::new(line), area);
}

fn speed_text(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// Draws a table panel: the window of `rows` around the selection that fits `area`, each made
/// by `row`, the selected one highlighted while the panel has focus, under a styled `header`
/// and the panel's block titled with `title`. The four list panels differ only in their columns.
#[allow(clippy::too_many_arguments)]
pub fn draw_table<'a, T>(
    f: &mut Frame,
    app: &App,
    panel: Panel,
    area: Rect,
    header: Vec<&'a str>,
    widths: &[Constraint],
    title: String,
    rows: &'a [T],
    mut row: impl FnMut(&'a T) -> Row<'a>,
) {
    let t = &app.theme;
    let visible = area.height.saturating_sub(3) as usize;
    let sel = app.list(panel).selected.min(rows.len().saturating_sub(1));
    let offset = offset_for(sel, visible);
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(idx, r)| {
            let made = row(r);
            if idx == sel && app.focus == panel {
                made.style(t.selected)
            } else {
                made
            }
        })
        .collect();
    f.render_widget(
        Table::new(body, widths.iter().copied())
            .header(Row::new(header).style(t.table_header))
            .column_spacing(1)
            .block(panel_block(app, panel, title)),
        area,
    );
}

/// The first visible row so that `selected` shows in `visible` rows.
pub fn offset_for(selected: usize, visible: usize) -> usize {
    if visible == 0 {
        return selected;
    }
    selected.saturating_sub(visible - 1)
}
