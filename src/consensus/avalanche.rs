//! The avalanche: how much support a disputed transaction (or a close time) needs, rising with
//! the round's age so that a split network converges instead of oscillating.
//!
//! rippled `getNeededWeight`: the state advances at most one step per call, only after
//! `min_rounds` calls in the current state, and only once the round has run the next state's
//! share of the previous round time.

use serde::{Deserialize, Serialize};

use super::params::ConsensusParams;

/// Avalanche states, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum AvalancheState {
    /// 50 % needed.
    #[default]
    Init,
    /// 65 % needed, from 50 % of the previous round time.
    Mid,
    /// 70 % needed, from 85 %.
    Late,
    /// 95 % needed, from 200 %.
    Stuck,
}

impl AvalancheState {
    /// Lowercase name for tables.
    pub fn name(self) -> &'static str {
        match self {
            AvalancheState::Init => "init",
            AvalancheState::Mid => "mid",
            AvalancheState::Late => "late",
            AvalancheState::Stuck => "stuck",
        }
    }
}

/// The support needed now (percent) and the state to move to, if it changes.
///
/// `percent_time` is the round's converge percent; `rounds` is how many updates have been
/// spent in `state` (already counting this one).
pub fn needed_weight(
    params: &ConsensusParams,
    state: AvalancheState,
    percent_time: i64,
    rounds: u32,
    min_rounds: u32,
) -> (i64, Option<AvalancheState>) {
    let current = params.cutoff(state);
    if current.next != state && rounds >= min_rounds {
        let next = params.cutoff(current.next);
        if percent_time >= next.time_pct {
            return (next.yes_pct, Some(current.next));
        }
    }
    (current.yes_pct, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AvalancheState::*;

    /// rippled `getNeededWeight` (ConsensusParms.h): the state advances at most one step per
    /// call and only after `minimumRounds` calls in the current state.
    #[test]
    fn advances_one_state_per_call_after_min_rounds() {
        let p = ConsensusParams::mainnet();
        // Not enough rounds in the state yet: stays, even though time passed every cutoff.
        assert_eq!(needed_weight(&p, Init, 500, 1, 2), (50, None));
        // Enough rounds: one step only, even at 500 % time.
        assert_eq!(needed_weight(&p, Init, 500, 2, 2), (65, Some(Mid)));
        assert_eq!(needed_weight(&p, Mid, 500, 2, 2), (70, Some(Late)));
        assert_eq!(needed_weight(&p, Late, 500, 2, 2), (95, Some(Stuck)));
        assert_eq!(needed_weight(&p, Stuck, 500, 9, 2), (95, None));
        // Time thresholds: 50 / 85 / 200 percent.
        assert_eq!(needed_weight(&p, Init, 49, 5, 2), (50, None));
        assert_eq!(needed_weight(&p, Mid, 84, 5, 2), (65, None));
        assert_eq!(needed_weight(&p, Late, 199, 5, 2), (70, None));
        // Close-time use: no minimum rounds.
        assert_eq!(needed_weight(&p, Init, 50, 0, 0), (65, Some(Mid)));
    }

    /// rippled `avalancheCutoffs`, one percent either side of each cutoff: mid from 50 % of the
    /// previous round time (65 % needed), late from 85 % (70 %), stuck from 200 % (95 %); before
    /// that, init needs 50 %. Stuck is the last state.
    #[test]
    fn each_cutoff_starts_at_its_time_with_its_weight() {
        let p = ConsensusParams::mainnet();
        let m = p.av_min_rounds;
        // (state, percent of the previous round time, needed, new state)
        let rows = [
            (Init, 0, 50, None),
            (Init, 49, 50, None),
            (Init, 50, 65, Some(Mid)),
            (Mid, 84, 65, None),
            (Mid, 85, 70, Some(Late)),
            (Late, 199, 70, None),
            (Late, 200, 95, Some(Stuck)),
            (Stuck, 200, 95, None),
            (Stuck, 10_000, 95, None),
        ];
        for (state, pct, needed, next) in rows {
            assert_eq!(
                needed_weight(&p, state, pct, m, m),
                (needed, next),
                "{} at {pct} %",
                state.name()
            );
        }
    }

    /// rippled `avMIN_ROUNDS` is 2: a dispute's state advances on its second update in a
    /// state, not its first (`DisputedTx::updateVote` passes `++avalancheCounter_`).
    #[test]
    fn a_state_advances_on_its_second_update() {
        let p = ConsensusParams::mainnet();
        assert_eq!(needed_weight(&p, Init, 60, 1, p.av_min_rounds), (50, None));
        assert_eq!(
            needed_weight(&p, Init, 60, 2, p.av_min_rounds),
            (65, Some(Mid))
        );
        assert_eq!(needed_weight(&p, Mid, 90, 1, p.av_min_rounds), (65, None));
        assert_eq!(
            needed_weight(&p, Mid, 90, 2, p.av_min_rounds),
            (70, Some(Late))
        );
    }
}
