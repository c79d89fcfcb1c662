//! The pure decisions of a round, as rippled states them (`shouldCloseLedger`,
//! `checkConsensus`, `shouldPause`), so they can be tested against rippled's own tables and
//! one step either side of each of rippled's thresholds.

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

/// rippled's `kMaxPausePhase`: the pause thresholds step from the quorum (phase 0) up to every
/// trusted validator (this phase), then start again at phase 0.
pub const MAX_PAUSE_PHASE: u32 = 4;

/// The inputs of [`should_pause`], named as in rippled `Consensus::shouldPause`.
///
/// `laggards + offline` never exceeds `total` (each trusted validator is one or the other or
/// neither), as in rippled.
#[derive(Debug, Clone, Copy)]
pub struct PauseInputs {
    /// How far our previous ledger is past our last fully validated one (rippled `ahead`).
    pub ahead: u32,
    /// Trusted validators (rippled `totalValidators`).
    pub total: usize,
    /// Trusted validators seen recently whose latest validation is for a ledger before ours.
    pub laggards: usize,
    /// Trusted validators not seen recently.
    pub offline: usize,
    /// Validations needed to fully validate a ledger.
    pub quorum: usize,
    /// We are configured as a validator (rippled `adaptor_.validator()`).
    pub validator: bool,
    /// We have fully validated some ledger (rippled `adaptor_.haveValidated()`).
    pub have_validated: bool,
    /// This round's establish time so far (ms).
    pub round_ms: i64,
}

/// Should we hold back this round because too many trusted validators lag behind us? (rippled
/// `Consensus::shouldPause`.)
///
/// The pause phase follows from `ahead`: phase 0 pauses when the laggards and offline
/// validators could deny a quorum, phase [`MAX_PAUSE_PHASE`] always pauses, and phases in
/// between require a share of non-laggards rising linearly from the quorum ratio to 100 %.
/// That share is computed in `f32` exactly as rippled computes it (`float`), because the
/// rounding decides the boundary cases: with 33 validators in phase 3 and 2 laggards, rippled
/// pauses (31/33 < 27/33 + 6/33 * 3/4), while whole-percent arithmetic (93 < 81 + 4 * 3) does
/// not; with 14 validators in phase 2 and 1 laggard, 13/14 equals the exact threshold, and only
/// the `f32` rounding makes rippled pause.
pub fn should_pause(i: &PauseInputs, p: &ConsensusParams) -> bool {
    if i.ahead == 0
        || i.laggards == 0
        || i.total == 0
        || !i.validator
        || !i.have_validated
        || i.round_ms > p.ledger_max_consensus_ms
    {
        return false;
    }
    let phase = (i.ahead - 1) % (MAX_PAUSE_PHASE + 1);
    match phase {
        // rippled subtracts in `size_t`: a quorum above the UNL size wraps to a huge slack,
        // which never pauses.
        0 => i
            .total
            .checked_sub(i.quorum)
            .is_some_and(|slack| i.laggards + i.offline > slack),
        MAX_PAUSE_PHASE => true,
        _ => {
            let total = i.total as f32;
            let non_laggards = i.total.saturating_sub(i.laggards + i.offline) as f32;
            let quorum_ratio = i.quorum as f32 / total;
            let allowed_dissent = 1.0f32 - quorum_ratio;
            let phase_factor = phase as f32 / MAX_PAUSE_PHASE as f32;
            non_laggards / total < quorum_ratio + allowed_dissent * phase_factor
        }
    }
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
        check_as(
            true, prev_prop, cur_prop, agree, finished, prev_time, cur_time, stalled,
        )
    }

    /// [`check_consensus`] on mainnet parameters, proposing or not.
    #[allow(clippy::too_many_arguments)]
    fn check_as(
        proposing: bool,
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
                proposing,
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

    /// The dashboard's expiry bar uses rippled `checkConsensus`'s abandon time:
    /// `ledgerABANDON_CONSENSUS_FACTOR` (10) previous round times, clamped to
    /// [`ledgerMAX_CONSENSUS` 15 s, `ledgerABANDON_CONSENSUS` 120 s].
    #[test]
    fn expiry_is_clamped() {
        let p = ConsensusParams::mainnet();
        assert_eq!(expiry_ms(S, &p), 15 * S);
        assert_eq!(expiry_ms(4 * S, &p), 40 * S);
        assert_eq!(expiry_ms(60 * S, &p), 120 * S);
    }

    /// rippled `checkConsensus` with `proposing = false`. rippled's `testCheckConsensus` passes
    /// `proposing = true` in every row; these rows follow its source instead: an observer does
    /// not count itself among the agreeing, so the same peers can be 80 % for a proposer and
    /// 75 % for an observer.
    #[test]
    fn check_consensus_when_not_proposing() {
        use ConsensusState::*;
        // (prev proposers, cur proposers, agree, finished, prev ms, cur ms, not stalled, stalled)
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
        let rows: [Row; 10] = [
            // rippled rows, observer: not enough time has elapsed.
            (10, 2, 2, 0, 3 * S, 2 * S, No, No),
            // Not enough peers have proposed yet: wait for more.
            (10, 2, 2, 0, 3 * S, 4 * S, No, No),
            // Every peer shares our position: 2/2.
            (10, 2, 2, 0, 3 * S, 10 * S, Yes, Yes),
            // 1/2 is 50 % (a proposer's 2/3 is 66 %): no, unless stalled.
            (10, 2, 1, 0, 3 * S, 10 * S, No, Yes),
            // Peers moved on.
            (10, 2, 1, 8, 3 * S, 10 * S, MovedOn, Yes),
            // Alone: not before ledgerMAX_CONSENSUS...
            (0, 0, 0, 0, 3 * S, 10 * S, No, No),
            // ...then yes.
            (0, 0, 0, 0, 3 * S, 16 * S, Yes, Yes),
            // Too long without agreement: expired.
            (10, 8, 1, 0, S, 19 * S, Expired, Yes),
            // Where proposing matters: 3 of 4 peers agree. A proposer counts 4/5 = 80 % (yes,
            // see `check_consensus_counts_a_proposer_itself`); an observer 3/4 = 75 %.
            (0, 4, 3, 0, 3 * S, 10 * S, No, Yes),
            // 4 of 5: 80 % without us.
            (0, 5, 4, 0, 3 * S, 10 * S, Yes, Yes),
        ];
        for (pp, cp, a, f, pt, ct, plain, stalled) in rows {
            let row = format!("row {pp},{cp},{a},{f},{pt},{ct}");
            assert_eq!(check_as(false, pp, cp, a, f, pt, ct, false), plain, "{row}");
            assert_eq!(
                check_as(false, pp, cp, a, f, pt, ct, true),
                stalled,
                "stalled {row}"
            );
        }
    }

    /// rippled `checkConsensusReached(.., count_self = proposing, ..)`: a proposer adds itself to
    /// both the agreeing and the total.
    #[test]
    fn check_consensus_counts_a_proposer_itself() {
        assert_eq!(
            check_as(true, 0, 4, 3, 0, 3 * S, 10 * S, false),
            ConsensusState::Yes
        );
        assert_eq!(
            check_as(false, 0, 4, 3, 0, 3 * S, 10 * S, false),
            ConsensusState::No
        );
    }

    /// `minCONSENSUS_PCT` is 80, compared as whole percent with `>=` (rippled
    /// `checkConsensusReached`), for agreement and for "moved on" alike.
    #[test]
    fn consensus_needs_80_percent() {
        // Proposing, 99 peers: 79 agree + us = 80/100.
        assert_eq!(
            check(0, 99, 79, 0, 3 * S, 10 * S, false),
            ConsensusState::Yes
        );
        // 78 + us = 79/100.
        assert_eq!(
            check(0, 99, 78, 0, 3 * S, 10 * S, false),
            ConsensusState::No
        );
        // Moved on counts peers only: 80 of 100 finished, then 79.
        assert_eq!(
            check(0, 100, 0, 80, 3 * S, 10 * S, false),
            ConsensusState::MovedOn
        );
        assert_eq!(
            check(0, 100, 0, 79, 3 * S, 10 * S, false),
            ConsensusState::No
        );
        // Whole percent, truncated: 159 of 200 plus us is 160/201 = 79.6 %, counted as 79: no;
        // 160 plus us is 161/201 = 80.1 %: yes.
        assert_eq!(
            check(0, 200, 159, 0, 3 * S, 10 * S, false),
            ConsensusState::No
        );
        assert_eq!(
            check(0, 200, 160, 0, 3 * S, 10 * S, false),
            ConsensusState::Yes
        );
    }

    /// `ledgerMIN_CONSENSUS` is 1950 ms: nothing is declared at or before it (rippled
    /// `checkConsensus`: `currentAgreeTime <= ledgerMIN_CONSENSUS`), and a round missing a
    /// quarter of last round's proposers waits until the previous round time plus 1950 ms.
    #[test]
    fn consensus_waits_ledger_min_consensus() {
        assert_eq!(check(2, 2, 2, 0, 0, 1_950, false), ConsensusState::No);
        assert_eq!(check(2, 2, 2, 0, 0, 1_951, false), ConsensusState::Yes);
        // 6 of last round's 10 proposers (< 10 * 3 / 4 = 7): wait until 3 s + 1950 ms.
        assert_eq!(check(10, 6, 6, 0, 3 * S, 4_949, false), ConsensusState::No);
        assert_eq!(check(10, 6, 6, 0, 3 * S, 4_950, false), ConsensusState::Yes);
        // 7 of 10 is enough not to wait.
        assert_eq!(check(10, 7, 7, 0, 3 * S, 1_951, false), ConsensusState::Yes);
    }

    /// `ledgerMAX_CONSENSUS` is 15 s: alone (no peer positions), we declare consensus only after
    /// it (rippled `checkConsensusReached` with `reachedMax`).
    #[test]
    fn alone_consensus_after_ledger_max_consensus() {
        assert_eq!(check(0, 0, 0, 0, 3 * S, 15_000, false), ConsensusState::No);
        assert_eq!(check(0, 0, 0, 0, 3 * S, 15_001, false), ConsensusState::Yes);
    }

    /// A round expires after `ledgerABANDON_CONSENSUS_FACTOR` (10) previous round times, at
    /// least `ledgerMAX_CONSENSUS` (15 s), at most `ledgerABANDON_CONSENSUS` (120 s) (rippled
    /// `checkConsensus`, `std::clamp`), and only strictly after that time.
    #[test]
    fn consensus_expires_after_abandon_time() {
        use ConsensusState::{Expired, No};
        // 1 of 8 peers agrees, nobody moved on: only time can end the round.
        // 4 s previous round: 10 x 4 s = 40 s.
        assert_eq!(check(0, 8, 1, 0, 4 * S, 40_000, false), No);
        assert_eq!(check(0, 8, 1, 0, 4 * S, 40_001, false), Expired);
        // 1 s previous round: 10 s, raised to 15 s.
        assert_eq!(check(0, 8, 1, 0, S, 15_000, false), No);
        assert_eq!(check(0, 8, 1, 0, S, 15_001, false), Expired);
        // 20 s previous round: 200 s, capped at 120 s.
        assert_eq!(check(0, 8, 1, 0, 20 * S, 120_000, false), No);
        assert_eq!(check(0, 8, 1, 0, 20 * S, 120_001, false), Expired);
    }

    /// rippled `shouldCloseLedger`'s thresholds one step either side: the "bizarre" times
    /// (previous round below -1 s or above 10 min, or 10 min since the last close) close at
    /// once; more than half of last round's proposers closed or validated closes; an empty
    /// ledger closes at the idle interval (`ledgerIDLE_INTERVAL`, 15 s; the engine passes
    /// `max(15 s, 2 x resolution)` as rippled's `phaseOpen` does); a ledger with transactions
    /// stays open `ledgerMIN_CLOSE` (2 s) and half the previous round time.
    #[test]
    fn should_close_ledger_boundaries() {
        let p = ConsensusParams::mainnet();
        let idle = p.ledger_idle_interval_ms;
        // Open only 1 s with transactions: stays open unless the times are bizarre.
        assert!(!close(true, 10, 0, 0, -1_000, 10 * S, S, idle));
        assert!(close(true, 10, 0, 0, -1_001, 10 * S, S, idle));
        assert!(!close(true, 10, 0, 0, 600_000, 10 * S, S, idle));
        assert!(close(true, 10, 0, 0, 600_001, 10 * S, S, idle));
        assert!(!close(true, 10, 0, 0, 10 * S, 600_000, S, idle));
        assert!(close(true, 10, 0, 0, 10 * S, 600_001, S, idle));
        // Others closed: more than half of 10 previous proposers (closed + validated).
        assert!(!close(true, 10, 3, 2, 10 * S, 10 * S, S, idle));
        assert!(close(true, 10, 3, 3, 10 * S, 10 * S, S, idle));
        // Empty ledger: close at the idle interval since the last close.
        assert!(!close(false, 10, 0, 0, 10 * S, 14_999, 14_999, idle));
        assert!(close(false, 10, 0, 0, 10 * S, 15_000, 14_999, idle));
        // With transactions: at least 2 s open...
        assert!(!close(true, 10, 0, 0, 0, 10 * S, 1_999, idle));
        assert!(close(true, 10, 0, 0, 0, 10 * S, 2_000, idle));
        // ...and half the previous round time.
        assert!(!close(true, 10, 0, 0, 10 * S, 10 * S, 4_999, idle));
        assert!(close(true, 10, 0, 0, 10 * S, 10 * S, 5_000, idle));
    }

    /// `ceil(80 %)` of `n`: the quorum rippled's `ValidatorList::calculateQuorum` uses.
    fn quorum80(n: usize) -> usize {
        (n * 80).div_ceil(100)
    }

    /// [`should_pause`] on mainnet parameters, 80 % quorum, as a validator that has validated.
    fn pause(ahead: u32, total: usize, laggards: usize, offline: usize, round_ms: i64) -> bool {
        should_pause(
            &PauseInputs {
                ahead,
                total,
                laggards,
                offline,
                quorum: quorum80(total),
                validator: true,
                have_validated: true,
                round_ms,
            },
            &ConsensusParams::mainnet(),
        )
    }

    /// rippled Consensus_test::testPauseForLaggards, at the function level: validators that ran
    /// ahead of the network pause while the laggards could deny them a quorum, with thresholds
    /// stepping through the phases as rippled's `shouldPause` comment lays them out (80, 85,
    /// 90, 95, 100 % of validators caught up), then wrapping to phase 0.
    #[test]
    fn should_pause_table() {
        // (ahead, validators, laggards, offline, pause)
        let rows: [(u32, usize, usize, usize, bool); 24] = [
            // rippled's scenario: 5 validators, 2 ran one ledger ahead, 3 behind. The 2 ahead
            // pause: 3 laggards > 5 - quorum 4.
            (1, 5, 3, 0, true),
            // The 3 behind are not ahead of their fully validated ledger: never pause.
            (0, 5, 2, 0, false),
            // Phase 0: one laggard cannot deny a quorum of 4 of 5...
            (1, 5, 1, 0, false),
            // ...one laggard and one offline can.
            (1, 5, 1, 1, true),
            // Offline validators alone never pause (rippled returns early on no laggards).
            (1, 5, 0, 5, false),
            // 20 validators, quorum 16 (exactly 80 %): the thresholds of rippled's comment.
            // Phase 0 (1 ahead): 80 % caught up is enough, 4 laggards stay within 20 - 16.
            (1, 20, 4, 0, false),
            (1, 20, 5, 0, true),
            // Phase 1 (2 ahead): 85 %, 17 of 20.
            (2, 20, 3, 0, false),
            (2, 20, 4, 0, true),
            // Phase 2 (3 ahead): 90 %, 18 of 20.
            (3, 20, 2, 0, false),
            (3, 20, 3, 0, true),
            // Phase 3 (4 ahead): 95 %, 19 of 20; an offline validator counts as lagging.
            (4, 20, 1, 0, false),
            (4, 20, 1, 1, true),
            // Phase 4 (5 ahead): no tolerance, one laggard pauses.
            (5, 20, 1, 0, true),
            // 6 ahead wraps to phase 0 again.
            (6, 20, 1, 0, false),
            (6, 20, 5, 0, true),
            // 10 ahead: phase 4 again.
            (10, 20, 1, 0, true),
            // Floating point, as rippled: 33 validators (quorum 27), phase 3, 2 laggards.
            // 31/33 = 0.939 < 27/33 + 6/33 * 3/4 = 0.955: pause. Whole percents said
            // 93 < 81 + 19/4 * 3 = 93: no pause.
            (4, 33, 2, 0, true),
            (4, 33, 1, 0, false),
            // 14 validators (quorum 12), phase 2, 1 laggard: 13/14 is exactly
            // 12/14 + 2/14 * 2/4, so exact arithmetic would not pause; rippled's `float`
            // rounds the threshold above 13/14 and pauses. So does this port.
            (3, 14, 1, 0, true),
            // 32 validators (quorum 26), phase 3, 2 laggards: 30/32 = 0.9375 < 0.953: pause;
            // whole percents said 93 < 81 + 4 * 3 = 93: no.
            (4, 32, 2, 0, true),
            // 27 validators (quorum 22), phase 1, 4 laggards: 23/27 = 0.852 < 0.861: pause;
            // whole percents said 85 < 81 + 4 = 85: no.
            (2, 27, 4, 0, true),
            // No validators at all: nothing to wait for.
            (1, 0, 0, 0, false),
            // 100 validators, 1 laggard, phase 3: 99 % >= 95 %.
            (4, 100, 1, 0, false),
        ];
        for (ahead, total, laggards, offline, want) in rows {
            assert_eq!(
                pause(ahead, total, laggards, offline, 5 * S),
                want,
                "ahead {ahead}, {total} validators, {laggards} laggards, {offline} offline"
            );
        }
    }

    /// rippled `shouldPause` returns early when we are not a validator, have never fully
    /// validated a ledger, or the round already ran past `ledgerMAX_CONSENSUS` (15 s): pausing
    /// longer would make us look offline to the validators waiting for us.
    #[test]
    fn should_pause_only_for_validators_within_ledger_max_consensus() {
        let p = ConsensusParams::mainnet();
        let base = PauseInputs {
            ahead: 1,
            total: 5,
            laggards: 3,
            offline: 0,
            quorum: 4,
            validator: true,
            have_validated: true,
            round_ms: 15_000,
        };
        assert!(should_pause(&base, &p));
        let later = PauseInputs {
            round_ms: 15_001,
            ..base
        };
        assert!(!should_pause(&later, &p));
        let observer = PauseInputs {
            validator: false,
            ..base
        };
        assert!(!should_pause(&observer, &p));
        let fresh = PauseInputs {
            have_validated: false,
            ..base
        };
        assert!(!should_pause(&fresh, &p));
        // A quorum above the UNL size (rippled's `size_t` wraps): phase 0 never pauses.
        let odd = PauseInputs { quorum: 6, ..base };
        assert!(!should_pause(&odd, &p));
    }

    /// rippled `kMaxPausePhase` is 4: five phases, the fifth pausing for a single laggard, so
    /// with 100 validators and one laggard only every fifth ledger ahead pauses.
    #[test]
    fn max_pause_phase_is_four() {
        assert_eq!(MAX_PAUSE_PHASE, 4);
        let pauses: Vec<u32> = (1..=15).filter(|&a| pause(a, 100, 1, 0, 5 * S)).collect();
        assert_eq!(pauses, vec![5, 10, 15]);
    }
}
