//! Why the node is not in step, in plain words: what operators otherwise decode from rippled's
//! log lines ("We are not running on the consensus ledger"), and what the node is doing about it.

use super::rows::Level;
use crate::consensus::engine::{Mode, Phase};
use crate::consensus::rules::ConsensusState;
use crate::contract::NodeSnapshot;

pub use crate::contract::history::PauseNote;

/// Every problem worth a line in the header, worst first.
pub fn explain(s: &NodeSnapshot, paused: PauseNote, lagged_events: u64) -> Vec<(Level, String)> {
    let i = &s.info;
    let mut out = Vec::new();
    if s.store_errors > 0 {
        out.push((
            Level::Error,
            format!(
                "{} storage error(s): the node stopped signing validations (see the log)",
                s.store_errors
            ),
        ));
    }
    if !s.started {
        let trusted = s.peers.iter().filter(|p| p.trusted && p.subscribed).count();
        out.push((
            Level::Warn,
            format!(
                "Waiting for trusted validators before joining consensus: {trusted} of {} connected",
                i.unl_size.saturating_sub(usize::from(i.validator))
            ),
        ));
    }
    match i.mode {
        Mode::WrongLedger => out.push((
            Level::Error,
            format!(
                "Not on the network's ledger: we have #{} {}, trusted validations point to {}. Fetching it from peers; not proposing meanwhile.",
                i.last_closed.seq,
                i.last_closed.hash.short(),
                i.network_ledger.short()
            ),
        )),
        Mode::SwitchedLedger => out.push((
            Level::Warn,
            format!(
                "Switched to the network's ledger #{} {}: observing this round, proposing again from the next.",
                i.last_closed.seq,
                i.last_closed.hash.short()
            ),
        )),
        _ => {}
    }
    match i.consensus_state {
        Some(ConsensusState::MovedOn) if i.phase == Phase::Establish => out.push((
            Level::Warn,
            "80 % of trusted validators already validated a later ledger: accepting ours and catching up.".into(),
        )),
        Some(ConsensusState::Expired) => out.push((
            Level::Warn,
            format!(
                "Round expired after {:.1} s without agreement: bowing out and accepting our position.",
                i.round_ms as f64 / 1000.0
            ),
        )),
        _ => {}
    }
    if !i.disputes.is_empty() && i.disputes.iter().all(|d| d.stalled) {
        out.push((
            Level::Warn,
            format!(
                "All {} disputes are stalled (support beyond 80/20 %, nobody changing): consensus will be declared as is.",
                i.disputes.len()
            ),
        ));
    }
    let reachable = s.peers.iter().filter(|p| p.trusted).count() + usize::from(i.validator);
    if i.unl_size > 0 && reachable < i.quorum && s.started {
        out.push((
            Level::Error,
            format!(
                "Only {reachable} of {} trusted validators reachable, {} needed: ledgers can close but cannot be fully validated.",
                i.unl_size, i.quorum
            ),
        ));
    }
    if let Some((at, laggards, offline)) = paused
        && i.now.since(at) < 3_000
    {
        out.push((
            Level::Warn,
            format!(
                "Paused for lagging validators: {laggards} behind us, {offline} not heard from."
            ),
        ));
    }
    let behind = i.last_closed.seq.saturating_sub(i.fully_validated.seq);
    if behind > 3 && s.started {
        out.push((
            Level::Warn,
            format!(
                "Last fully validated ledger #{} is {behind} behind our last closed #{}: validations are not reaching quorum.",
                i.fully_validated.seq, i.last_closed.seq
            ),
        ));
    }
    let risky: Vec<_> = i.unl_overlap.iter().filter(|c| !c.safe).collect();
    if let Some(worst) = risky.iter().min_by_key(|c| (c.overlap, c.validator)) {
        out.push((
            Level::Error,
            format!(
                "UNL overlap below the fork-safety bound with {} validator(s): e.g. {} shares {} of our {} (needs at least {}). The network can fork if validators misbehave.",
                risky.len(),
                worst.validator.short(),
                worst.overlap,
                worst.ours,
                worst.min_overlap
            ),
        ));
    }
    if lagged_events > 0 {
        out.push((
            Level::Info,
            format!("The dashboard fell behind and skipped {lagged_events} events (the node was not affected)."),
        ));
    }
    out.sort_by_key(|(level, _)| std::cmp::Reverse(*level));
    out
}
