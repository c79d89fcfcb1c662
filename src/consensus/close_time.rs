//! Close-time arithmetic: rounding to the resolution, the effective close time, how the
//! resolution adapts, and the participant thresholds for close-time votes (rippled
//! `LedgerTiming.h` and `Consensus::updateOurPositions`).

use super::params::ConsensusParams;
use super::time::Time;

/// Rounds `t` to the nearest multiple of `resolution_ms` (ties round up). Zero stays zero: it
/// means "no close time" (agree to disagree).
pub fn round_close_time(t: Time, resolution_ms: i64) -> Time {
    if t == Time::ZERO || resolution_ms <= 0 {
        return t;
    }
    let shifted = t.ms() + resolution_ms / 2;
    Time(shifted - shifted.rem_euclid(resolution_ms))
}

/// The close time a ledger records: rounded, and at least one step after its parent's.
pub fn eff_close_time(t: Time, resolution_ms: i64, prior: Time, step_ms: i64) -> Time {
    if t == Time::ZERO {
        return t;
    }
    round_close_time(t, resolution_ms).max(prior.plus(step_ms))
}

/// The resolution for ledger `seq`, given its parent's resolution and whether the parent's
/// close time was agreed: coarser right after a disagreement, finer every
/// `increase_resolution_every` agreed ledgers.
pub fn next_resolution(
    params: &ConsensusParams,
    previous_ms: i64,
    previous_agree: bool,
    seq: u32,
) -> i64 {
    let list = &params.close_resolutions_ms;
    let Some(idx) = list.iter().position(|&r| r == previous_ms) else {
        return previous_ms;
    };
    if !previous_agree
        && seq.is_multiple_of(params.decrease_resolution_every.max(1))
        && let Some(&coarser) = list.get(idx + 1)
    {
        return coarser;
    }
    if previous_agree && seq.is_multiple_of(params.increase_resolution_every.max(1)) {
        return list[idx.saturating_sub(1)];
    }
    previous_ms
}

/// How many of `participants` make up `pct` percent, rounded, at least one
/// (rippled `participantsNeeded`).
pub fn participants_needed(participants: i64, pct: i64) -> i64 {
    ((participants * pct + pct / 2) / 100).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;

    #[test]
    fn rounding_matches_rippled() {
        // roundCloseTime: nearest multiple, ties up, zero stays zero.
        assert_eq!(round_close_time(Time(0), 30 * S), Time(0));
        assert_eq!(round_close_time(Time(29 * S), 60 * S), Time(0));
        assert_eq!(round_close_time(Time(30 * S), 60 * S), Time(60 * S));
        assert_eq!(round_close_time(Time(31 * S), 60 * S), Time(60 * S));
        assert_eq!(round_close_time(Time(91 * S), 60 * S), Time(120 * S));
        assert_eq!(round_close_time(Time(14 * S), 10 * S), Time(10 * S));
        assert_eq!(round_close_time(Time(15 * S), 10 * S), Time(20 * S));
    }

    #[test]
    fn effective_close_time_moves_past_parent() {
        let res = 10 * S;
        assert_eq!(eff_close_time(Time(0), res, Time(50 * S), S), Time(0));
        assert_eq!(
            eff_close_time(Time(61 * S), res, Time(50 * S), S),
            Time(60 * S)
        );
        // Rounded time not after parent: parent + 1 s.
        assert_eq!(
            eff_close_time(Time(52 * S), res, Time(50 * S), S),
            Time(51 * S)
        );
        assert_eq!(
            eff_close_time(Time(49 * S), res, Time(50 * S), S),
            Time(51 * S)
        );
    }

    #[test]
    fn resolution_changes_like_ledger_timing_test() {
        // rippled LedgerTiming_test::testGetNextLedgerTimeResolution.
        let p = ConsensusParams::mainnet();
        // Agreeing: finer every 8 ledgers, floor at 10 s.
        assert_eq!(next_resolution(&p, 30 * S, true, 8), 20 * S);
        assert_eq!(next_resolution(&p, 30 * S, true, 7), 30 * S);
        assert_eq!(next_resolution(&p, 10 * S, true, 16), 10 * S);
        // Disagreeing: coarser every ledger, ceiling at 120 s.
        assert_eq!(next_resolution(&p, 30 * S, false, 3), 60 * S);
        assert_eq!(next_resolution(&p, 120 * S, false, 3), 120 * S);
        // Unknown resolutions are left alone.
        assert_eq!(next_resolution(&p, 7 * S, false, 3), 7 * S);
        // Simulate 10 rounds of disagreement then agreement, as the rippled test does.
        let mut res = 10 * S;
        for seq in 1..=10 {
            res = next_resolution(&p, res, false, seq);
        }
        assert_eq!(res, 120 * S);
        for seq in 11..=100 {
            res = next_resolution(&p, res, true, seq);
        }
        assert_eq!(res, 10 * S);
    }

    #[test]
    fn participants_needed_rounds_half_up() {
        assert_eq!(participants_needed(6, 50), 3);
        assert_eq!(participants_needed(6, 75), 4);
        assert_eq!(participants_needed(5, 75), 4);
        assert_eq!(participants_needed(1, 75), 1);
        assert_eq!(participants_needed(0, 75), 1);
        assert_eq!(participants_needed(10, 95), 9);
    }
}
