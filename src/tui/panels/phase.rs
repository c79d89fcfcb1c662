//! Phase progress: where the round is (phase, mode), its time against the minimum and the last
//! round, the converge percent against the avalanche markers, agreement against the 80 % quorum,
//! close-time agreement against 75 %, a chart of agreement over the round and a sparkline of
//! recent round durations.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Sparkline};

use crate::store::Store;
use crate::tui::app::{App, Panel};
use crate::tui::format::duration_ms;
use crate::tui::frame::panel_block;
use crate::tui::theme::Theme;

/// A bar `width` cells wide filled to `frac` (0..=1), with `markers` (fractions) drawn as `│`.
pub fn bar(
    width: usize,
    frac: f64,
    markers: &[f64],
    theme: &Theme,
    fill: Style,
) -> Vec<Span<'static>> {
    let filled = ((frac.clamp(0.0, 1.0)) * width as f64).round() as usize;
    let marks: Vec<usize> = markers
        .iter()
        .map(|m| ((m.clamp(0.0, 1.0)) * width as f64).round() as usize)
        .collect();
    let mut spans = Vec::with_capacity(width);
    for i in 0..width {
        if marks.contains(&i) && i != 0 {
            spans.push(Span::styled("│", theme.threshold));
        } else if i < filled {
            spans.push(Span::styled("█", fill));
        } else {
            spans.push(Span::styled("░", theme.gauge_empty));
        }
    }
    spans
}

fn labelled(label: &str, bar: Vec<Span<'static>>, tail: String, t: &Theme) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<9}"), t.muted)];
    spans.extend(bar);
    spans.push(Span::styled(format!(" {tail}"), t.base));
    Line::from(spans)
}

/// Draws the panel.
pub fn draw(f: &mut Frame, app: &App, store: &Store, area: Rect) {
    let t = &app.theme;
    let block = panel_block(app, Panel::Phase, String::new());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(s) = store.snapshot() else {
        return;
    };
    let i = &s.info;
    let bar_w = (inner.width as usize).saturating_sub(9 + 24).clamp(10, 60);

    // Round time: up to the expiry, markers at min consensus and the previous round.
    let scale = i.expires_ms.max(i.previous_round_ms).max(1) as f64;
    let round = labelled(
        "round",
        bar(
            bar_w,
            i.round_ms as f64 / scale,
            &[
                i.min_consensus_ms as f64 / scale,
                i.previous_round_ms as f64 / scale,
            ],
            t,
            t.gauge,
        ),
        format!(
            "{} (min {}, last {})",
            duration_ms(i.round_ms),
            duration_ms(i.min_consensus_ms),
            duration_ms(i.previous_round_ms)
        ),
        t,
    );
    // Converge percent against the avalanche cutoffs 50 / 85 / 200 (bar up to 250 %).
    let converge = labelled(
        "converge",
        bar(
            bar_w,
            i.converge_percent as f64 / 250.0,
            &[0.2, 0.34, 0.8],
            t,
            t.gauge,
        ),
        format!(
            "{}% · avalanche {}",
            i.converge_percent,
            i.close_time_avalanche.name()
        ),
        t,
    );
    let agree_style = if i.agree_pct >= i.quorum_pct {
        t.ok
    } else {
        t.warn
    };
    let agree = labelled(
        "agree",
        bar(
            bar_w,
            i.agree_pct as f64 / 100.0,
            &[i.quorum_pct as f64 / 100.0],
            t,
            agree_style,
        ),
        format!(
            "{}% need {}% ({}/{})",
            i.agree_pct,
            i.quorum_pct,
            i.agree,
            i.agree + i.disagree
        ),
        t,
    );
    let votes: u32 = i.close_time_votes.values().sum();
    let best = i.close_time_votes.values().copied().max().unwrap_or(0);
    let ct_pct = if votes == 0 {
        0.0
    } else {
        best as f64 * 100.0 / votes as f64
    };
    let close = labelled(
        "close t.",
        bar(
            bar_w,
            ct_pct / 100.0,
            &[0.75],
            t,
            if i.have_close_time_consensus {
                t.ok
            } else {
                t.warn
            },
        ),
        format!(
            "{ct_pct:.0}% need 75% · res {}",
            duration_ms(i.close_resolution_ms)
        ),
        t,
    );
    let head = Line::from(vec![
        Span::styled(format!("{} ", i.phase.name().to_uppercase()), t.accent),
        Span::styled(format!("· {} · ", i.mode.name()), t.base),
        Span::styled(
            match (i.phase.name(), i.consensus_state) {
                ("open", _) => "ledger open: collecting transactions".to_string(),
                (_, None) => "establishing: waiting for the minimum round time".to_string(),
                (_, Some(c)) => format!("last consensus check: {}", c.name()),
            },
            t.muted,
        ),
    ]);
    let lines = vec![head, round, converge, agree, close];
    let text_h = lines.len() as u16;
    let [text, chart_area, spark] = Layout::vertical([
        Constraint::Length(text_h),
        Constraint::Min(0),
        Constraint::Length(if inner.height > text_h + 6 { 2 } else { 0 }),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(lines), text);

    if chart_area.height >= 4 {
        let points: Vec<(f64, f64)> = store.chart().iter().copied().collect();
        let x_max = points
            .last()
            .map(|p| p.0)
            .unwrap_or(0.0)
            .max(i.previous_round_ms as f64 / 1000.0)
            .max(1.0);
        let quorum = [(0.0, i.quorum_pct as f64), (x_max, i.quorum_pct as f64)];
        let datasets = vec![
            Dataset::default()
                .name(format!("quorum {}%", i.quorum_pct))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(t.threshold)
                .data(&quorum),
            Dataset::default()
                .name("agreement")
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(t.chart)
                .data(&points),
        ];
        let chart = Chart::new(datasets)
            .x_axis(
                Axis::default()
                    .bounds([0.0, x_max])
                    .labels(vec![
                        Span::styled("0s", t.muted),
                        Span::styled(format!("{x_max:.1}s"), t.muted),
                    ])
                    .style(t.muted),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, 100.0])
                    .labels(vec![
                        Span::styled("0", t.muted),
                        Span::styled("100%", t.muted),
                    ])
                    .style(t.muted),
            );
        f.render_widget(chart, chart_area);
    }
    if spark.height > 0 {
        let data: Vec<u64> = store.durations().iter().copied().collect();
        let [label, line] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(spark);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!(
                    "round durations (last {}): {}",
                    data.len(),
                    data.last()
                        .map(|d| duration_ms(*d as i64))
                        .unwrap_or_else(|| "-".into())
                ),
                t.muted,
            ))),
            label,
        );
        f.render_widget(Sparkline::default().data(&data).style(t.chart), line);
    }
}
