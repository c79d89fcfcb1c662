//! The two pure decisions at the heart of a round, as rippled states them
//! (`shouldCloseLedger`, `checkConsensus`), so they can be tested against rippled's own tables.

use serde::{Deserialize, Serialize};

use super::params::ConsensusParams;

/// Outcome of the consensus check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsensusState {
    /// Keep going.
    #[default]
    No,
    /// 80 % of proposers already validated a later ledger: accept and catch up.
    MovedOn,
    /// The round ran too long: bow out and accept what we have.
    Expired,
    /// We agree with 80 % of proposers.
    Yes,
}

impl ConsensusState {
    /// Name for reports: `yes`, `moved_on`, `expired`, `no`.
    pub fn name(self) -> &'static str {
        match self {
            ConsensusState::No => "no",
            ConsensusState::MovedOn => "moved_on",
            ConsensusState::Expired => "expired",
            ConsensusState::Yes => "yes",
        }
    }
}

/// The inputs of [`should_close_ledger`], named as in rippled.
#[derive(Debug, Clone, Copy)]
pub struct CloseInputs {
    /// Are there transactions waiting for the open ledger?
    pub any_transactions: bool,
    /// Proposers in the previous round.
    pub prev_proposers: usize,
    /// Peers that have already proposed (closed) this round.
    pub proposers_closed: usize,
    /// Trusted validators that validated our previous ledger.
    pub proposers_validated: usize,
    /// How long the previous round took (ms).
    pub prev_round_ms: i64,
    /// Time since the previous ledger closed (ms; may be negative).
    pub since_prev_close_ms: i64,
    /// How long this ledger has been open (ms).
    pub open_ms: i64,
    /// Idle interval: close an empty ledger after this long (ms).
    pub idle_interval_ms: i64,
}

/// Should the open ledger close now? (rippled `shouldCloseLedger`.)
pub fn should_close_ledger(i: &CloseInputs, p: &ConsensusParams) -> bool {
    if i.prev_round_ms < p.bizarre_low_ms
        || i.prev_round_ms > p.bizarre_high_ms
        || i.since_prev_close_ms > p.bizarre_high_ms
    {
        return true;
    }
    if i.proposers_closed + i.proposers_validated > i.prev_proposers / 2 {
        return true;
    }
    if !i.any_transactions {
        return i.since_prev_close_ms >= i.idle_interval_ms;
    }
    if i.open_ms < p.ledger_min_close_ms {
        return false;
    }
    if i.open_ms < i.prev_round_ms / 2 {
        return false;
    }
    true
}

/// Have `agreeing` of `total` peers (plus us, if `count_self`) reached `min_pct`?
/// (rippled `checkConsensusReached`.)
pub fn consensus_reached(
    agreeing: usize,
    total: usize,
    count_self: bool,
    min_pct: i64,
    reached_max: bool,
    stalled: bool,
) -> bool {
    if total == 0 {
        return reached_max;
    }
    if stalled {
        return true;
    }
    let (mut agreeing, mut total) = (agreeing, total);
    if count_self {
        agreeing += 1;
        total += 1;
    }
    (agreeing as i64 * 100) / total as i64 >= min_pct
}

/// The inputs of [`check_consensus`], named as in rippled.
#[derive(Debug, Clone, Copy)]
pub struct CheckInputs {
    /// Proposers in the previous round.
    pub prev_proposers: usize,
    /// Peers with a current position this round.
    pub cur_proposers: usize,
    /// Of those, how many share our position.
    pub cur_agree: usize,
    /// Trusted validators that already validated a ledger after our previous one.
    pub cur_finished: usize,
    /// Previous round time (ms).
    pub prev_agree_ms: i64,
    /// This round's establish time so far (ms).
    pub cur_agree_ms: i64,
    /// Every dispute is stalled.
    pub stalled: bool,
    /// We are proposing (and so count ourselves).
    pub proposing: bool,
}

/// Is there consensus? (rippled `checkConsensus`.)
pub fn check_consensus(i: &CheckInputs, p: &ConsensusParams) -> ConsensusState {
    if i.cur_agree_ms <= p.ledger_min_consensus_ms {
        return ConsensusState::No;
    }
    if i.cur_proposers < i.prev_proposers * 3 / 4
        && i.cur_agree_ms < i.prev_agree_ms + p.ledger_min_consensus_ms
    {
        // Fewer than 3/4 of last round's proposers are here yet: give them time.
        return ConsensusState::No;
    }
    let reached_max = i.cur_agree_ms > p.ledger_max_consensus_ms;
    if consensus_reached(
        i.cur_agree,
        i.cur_proposers,
        i.proposing,
        p.min_consensus_pct,
        reached_max,
        i.stalled,
    ) {
        return ConsensusState::Yes;
    }
    if consensus_reached(
        i.cur_finished,
        i.cur_proposers,
        false,
        p.min_consensus_pct,
        reached_max,
        false,
    ) {
        return ConsensusState::MovedOn;
    }
    let max_agree = (i.prev_agree_ms * p.ledger_abandon_consensus_factor)
        .clamp(p.ledger_max_consensus_ms, p.ledger_abandon_consensus_ms);
    if i.cur_agree_ms > max_agree {
        return ConsensusState::Expired;
    }
    ConsensusState::No
}

/// How long a round may run before it expires (for the dashboard's progress bar).
pub fn expiry_ms(prev_round_ms: i64, p: &ConsensusParams) -> i64 {
    (prev_round_ms * p.ledger_abandon_consensus_factor)
        .clamp(p.ledger_max_consensus_ms, p.ledger_abandon_consensus_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;
    const H: i64 = 3600 * S;

    #[allow(clippy::too_many_arguments)]
    fn close(
        any_tx: bool,
        prev_prop: usize,
        closed: usize,
        validated: usize,
        prev_round: i64,
        since_close: i64,
        open: i64,
        idle: i64,
    ) -> bool {
        should_close_ledger(
            &CloseInputs {
                any_transactions: any_tx,
                prev_proposers: prev_prop,
                proposers_closed: closed,
                proposers_validated: validated,
                prev_round_ms: prev_round,
                since_prev_close_ms: since_close,
                open_ms: open,
                idle_interval_ms: idle,
            },
            &ConsensusParams::mainnet(),
        )
    }

    /// rippled Consensus_test::testShouldCloseLedger, row for row.
    #[test]
    fn should_close_ledger_table() {
        // Bizarre times forcibly close.
        assert!(close(true, 10, 10, 10, -10 * S, 10 * S, S, S));
        assert!(close(true, 10, 10, 10, 100 * H, 10 * S, S, S));
        assert!(close(true, 10, 10, 10, 10 * S, 100 * H, S, S));
        // Rest of network has closed.
        assert!(close(true, 10, 3, 5, 10 * S, 10 * S, 10 * S, 10 * S));
        // No transactions means wait until end of interval.
        assert!(!close(false, 10, 0, 0, S, S, S, 10 * S));
        assert!(close(false, 10, 0, 0, S, 10 * S, S, 10 * S));
        // Enforce minimum ledger open time.
        assert!(!close(true, 10, 0, 0, 10 * S, 10 * S, S, 10 * S));
        // Don't go too much faster than last time.
        assert!(!close(true, 10, 0, 0, 10 * S, 10 * S, 3 * S, 10 * S));
        assert!(close(true, 10, 0, 0, 10 * S, 10 * S, 10 * S, 10 * S));
    }

    fn check(
        prev_prop: usize,
        cur_prop: usize,
        agree: usize,
        finished: usize,
        prev_time: i64,
        cur_time: i64,
        stalled: bool,
    ) -> ConsensusState {
        check_consensus(
            &CheckInputs {
                prev_proposers: prev_prop,
                cur_proposers: cur_prop,
                cur_agree: agree,
                cur_finished: finished,
                prev_agree_ms: prev_time,
                cur_agree_ms: cur_time,
                stalled,
                proposing: true,
            },
            &ConsensusParams::mainnet(),
        )
    }

    /// rippled Consensus_test::testCheckConsensus, both columns (not stalled | stalled).
    #[test]
    fn check_consensus_table() {
        use ConsensusState::*;
        type Row = (
            usize,
            usize,
            usize,
            usize,
            i64,
            i64,
            ConsensusState,
            ConsensusState,
        );
        let rows: [Row; 8] = [
            // Not enough time has elapsed.
            (10, 2, 2, 0, 3 * S, 2 * S, No, No),
            // If not enough peers have proposed, ensure more time for proposals.
            (10, 2, 2, 0, 3 * S, 4 * S, No, No),
            // Enough time has elapsed and we all agree.
            (10, 2, 2, 0, 3 * S, 10 * S, Yes, Yes),
            // Enough time has elapsed and we don't yet agree.
            (10, 2, 1, 0, 3 * S, 10 * S, No, Yes),
            // Our peers have moved on. Enough time has elapsed and we all agree.
            (10, 2, 1, 8, 3 * S, 10 * S, MovedOn, Yes),
            // If no peers, don't agree until time has passed.
            (0, 0, 0, 0, 3 * S, 10 * S, No, No),
            // Agree if no peers and enough time has passed.
            (0, 0, 0, 0, 3 * S, 16 * S, Yes, Yes),
            // Expire if too much time has passed without agreement.
            (10, 8, 1, 0, S, 19 * S, Expired, Yes),
        ];
        for (pp, cp, a, f, pt, ct, plain, stalled) in rows {
            assert_eq!(
                check(pp, cp, a, f, pt, ct, false),
                plain,
                "row {pp},{cp},{a},{f},{pt},{ct}"
            );
            assert_eq!(
                check(pp, cp, a, f, pt, ct, true),
                stalled,
                "stalled row {pp},{cp},{a},{f},{pt},{ct}"
            );
        }
    }

    #[test]
    fn expiry_is_clamped() {
        let p = ConsensusParams::mainnet();
        assert_eq!(expiry_ms(S, &p), 15 * S);
        assert_eq!(expiry_ms(4 * S, &p), 40 * S);
        assert_eq!(expiry_ms(60 * S, &p), 120 * S);
    }
}
