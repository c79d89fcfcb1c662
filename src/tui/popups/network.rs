//! The network view (`N`): one row per attached node — link, mode, phase, round time,
//! position, last closed and last fully validated ledger — and which attached nodes agree with
//! which, so a partition or a fork between an operator's own nodes is visible at a glance.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::modal;
use crate::tui::app::App;
use crate::tui::fleet::{Relation, agreement, letter};
use crate::tui::format::{clock, duration_ms};

/// Draws the overlay.
pub fn draw(f: &mut Frame, app: &App, selected: usize, area: Rect) {
    let t = &app.theme;
    let h = (app.fleet.len() as u16 + 6).min(area.height);
    let (r, block) = modal(
        f,
        app,
        area,
        area.width.saturating_sub(4),
        h,
        format!(
            "Network · {} attached nodes · Enter shows one, Esc closes",
            app.fleet.len()
        ),
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    let header = Row::new(vec![
        "",
        "node",
        "link",
        "mode",
        "phase",
        "round",
        "position",
        "closed",
        "validated",
        "agrees with",
        "disagrees",
    ])
    .style(t.table_header);
    let rows: Vec<Row> = app
        .fleet
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let (agree, other) = agreement(&app.fleet, i);
            let link = if row.connected {
                Span::styled("up", t.ok)
            } else {
                Span::styled(
                    match &row.down {
                        Some((since, _)) => format!("DOWN {}", &clock(*since)[..8]),
                        None => "connecting".into(),
                    },
                    t.bad,
                )
            };
            let disagree: Vec<String> = other
                .iter()
                .filter(|(_, r)| *r != Relation::Unknown)
                .map(|(l, r)| match r {
                    Relation::Fork(s) => format!("{l}: FORK at #{s}"),
                    Relation::OtherLedger(s) => format!("{l}: other ledger #{s}"),
                    Relation::Apart(n) => format!("{l}: {n} apart"),
                    _ => String::new(),
                })
                .collect();
            let cells: Vec<Span> = match &row.snapshot {
                None => vec![Span::raw(letter(i)), Span::raw(row.label.clone()), link],
                Some(s) => {
                    let info = &s.info;
                    let style = if row.connected { t.base } else { t.muted };
                    vec![
                        Span::raw(letter(i)),
                        Span::styled(format!("{} {}", info.node.short(), row.label), style),
                        link,
                        Span::styled(info.mode.name().to_string(), style),
                        Span::styled(info.phase.name().to_string(), style),
                        Span::styled(duration_ms(info.round_ms), style),
                        Span::styled(
                            info.our_position
                                .as_ref()
                                .map(|p| p.position.short())
                                .unwrap_or_else(|| "-".into()),
                            style,
                        ),
                        Span::styled(
                            format!(
                                "#{} {}",
                                info.last_closed.seq,
                                info.last_closed.hash.short()
                            ),
                            style,
                        ),
                        Span::styled(
                            format!(
                                "#{} {}",
                                info.fully_validated.seq,
                                info.fully_validated.hash.short()
                            ),
                            style,
                        ),
                        Span::styled(
                            if agree.is_empty() {
                                "-".into()
                            } else {
                                agree.join(" ")
                            },
                            t.ok,
                        ),
                        Span::styled(disagree.join(", "), t.bad),
                    ]
                }
            };
            let r = Row::new(cells);
            if i == selected {
                r.style(t.selected)
            } else {
                r
            }
        })
        .collect();
    let widths = [
        Constraint::Length(2),
        Constraint::Length(26),
        Constraint::Length(13),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(15),
        Constraint::Length(15),
        Constraint::Length(12),
        Constraint::Min(10),
    ];
    let [table, foot] =
        ratatui::layout::Layout::vertical([Constraint::Min(2), Constraint::Length(1)]).areas(inner);
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table,
    );
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            "agrees: same fully validated chain and the same (or an adjacent) last closed ledger",
            t.muted,
        ))),
        foot,
    );
}
