//! The rows each panel shows after sorting and filtering. Drawing and key handling both use
//! these functions, so "the selected row" means the same thing to both.

use crate::consensus::engine::DisputeInfo;
use crate::store::Store;
use crate::store::rows::{LedgerRow, LogLine, PeerRow, ProposalRow};

use super::app::{App, DisputeSort, Panel, PeerSort};
use super::format;

/// Whether a row passes the filter. The row text is only built when there is a filter: with
/// thousands of rows, formatting them every frame for nothing costs more than drawing.
fn matches(filter: &str, text: impl FnOnce() -> String) -> bool {
    filter.is_empty() || text().to_lowercase().contains(&filter.to_lowercase())
}

/// Peers, sorted and filtered.
pub fn peers(app: &App, store: &Store) -> Vec<PeerRow> {
    let f = app.filter(Panel::Peers);
    let mut rows: Vec<PeerRow> = store
        .peer_rows()
        .into_iter()
        .filter(|r| {
            matches(f, || {
                format!(
                    "{} {} {} {}",
                    r.name,
                    r.node.map(|n| n.to_hex()).unwrap_or_default(),
                    r.addr.clone().unwrap_or_default(),
                    r.state.label()
                )
            })
        })
        .collect();
    match app.peer_sort {
        PeerSort::Name => {
            rows.sort_by(|a, b| (!a.us, !a.trusted, &a.name).cmp(&(!b.us, !b.trusted, &b.name)))
        }
        PeerSort::Latency => rows.sort_by(|a, b| {
            (!a.us, a.rtt_ms.unwrap_or(f64::MAX))
                .partial_cmp(&(!b.us, b.rtt_ms.unwrap_or(f64::MAX)))
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
        PeerSort::Agreement => rows.sort_by(|a, b| {
            (!a.us, a.agrees != Some(false), a.state, &a.name).cmp(&(
                !b.us,
                b.agrees != Some(false),
                b.state,
                &b.name,
            ))
        }),
        PeerSort::LastSeen => rows.sort_by(|a, b| {
            let k = |r: &PeerRow| (!r.us, r.last_age_ms.unwrap_or(i64::MAX));
            k(a).cmp(&k(b)).then_with(|| a.name.cmp(&b.name))
        }),
        PeerSort::Rejected => rows.sort_by(|a, b| {
            let k = |r: &PeerRow| (!r.us, std::cmp::Reverse(r.rejected));
            k(a).cmp(&k(b)).then_with(|| a.name.cmp(&b.name))
        }),
    }
    rows
}

/// Proposal feed, newest first, filtered.
pub fn proposals(app: &App, store: &Store) -> Vec<ProposalRow> {
    let f = app.filter(Panel::Proposals);
    store
        .proposals()
        .newest_first()
        .filter(|p| {
            matches(f, || {
                let who = p.from.map(|n| store.name_of(&n)).unwrap_or_default();
                format!("{who} {}", format::mark(p.mark))
            })
        })
        .cloned()
        .collect()
}

/// Disputes, sorted and filtered.
pub fn disputes(app: &App, store: &Store) -> Vec<DisputeInfo> {
    let f = app.filter(Panel::Disputes);
    let mut rows: Vec<DisputeInfo> = store
        .snapshot()
        .map(|s| s.info.disputes.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|d| matches(f, || format!("{} {}", d.tx.to_hex(), d.preview)))
        .collect();
    match app.dispute_sort {
        DisputeSort::Contested => {
            rows.sort_by_key(|d| ((d.support_pct - d.needed_pct).abs(), d.tx))
        }
        DisputeSort::Flips => rows.sort_by_key(|d| (std::cmp::Reverse(d.flips), d.tx)),
        DisputeSort::Id => rows.sort_by_key(|d| d.tx),
    }
    rows
}

/// Validated ledgers, newest first, filtered.
pub fn ledgers(app: &App, store: &Store) -> Vec<LedgerRow> {
    let f = app.filter(Panel::Ledgers);
    store
        .ledgers()
        .newest_first()
        .filter(|l| matches(f, || format!("{} {}", l.seq, l.hash.to_hex())))
        .cloned()
        .collect()
}

/// Log lines, newest first, filtered.
pub fn log(app: &App, store: &Store) -> Vec<LogLine> {
    let f = app.filter(Panel::Log);
    store
        .log()
        .newest_first()
        .filter(|l| matches(f, || l.text.clone()))
        .cloned()
        .collect()
}

/// Rows in `panel` (for selection bounds).
pub fn len(app: &App, store: &Store, panel: Panel) -> usize {
    match panel {
        Panel::Peers => peers(app, store).len(),
        Panel::Proposals => proposals(app, store).len(),
        Panel::Disputes => disputes(app, store).len(),
        Panel::Phase => 0,
        Panel::Ledgers => ledgers(app, store).len(),
        Panel::Log => log(app, store).len(),
    }
}
