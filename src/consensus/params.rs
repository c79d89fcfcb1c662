//! Protocol numbers (rippled's `ConsensusParms.h` and `LedgerTiming.h`) and timing profiles.
//!
//! The `fast` profile divides every duration by ten and changes no rule: thresholds, percentages
//! and counts are the same, so what passes on `fast` exercises the logic that runs on `mainnet`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::avalanche::AvalancheState;

/// Which set of durations to run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// rippled's production numbers (ledgers every few seconds).
    #[default]
    Mainnet,
    /// Every duration divided by 10: for demos and tests on one machine.
    Fast,
}

impl Profile {
    /// The parameters for this profile.
    pub fn params(self) -> ConsensusParams {
        match self {
            Profile::Mainnet => ConsensusParams::mainnet(),
            Profile::Fast => ConsensusParams::mainnet().scaled(10),
        }
    }

    /// The profile's name as written in config and scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Mainnet => "mainnet",
            Profile::Fast => "fast",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Profile, String> {
        match s {
            "mainnet" => Ok(Profile::Mainnet),
            "fast" => Ok(Profile::Fast),
            other => Err(format!(
                "unknown profile {other:?} (expected mainnet or fast)"
            )),
        }
    }
}

/// One avalanche state: from `time_pct` of the previous round time on, a disputed transaction
/// needs more than `yes_pct` support to stay in our position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvalancheCutoff {
    /// Round time, in percent of the previous round, at which this state may be entered.
    pub time_pct: i64,
    /// Support (percent) needed to vote yes in this state.
    pub yes_pct: i64,
    /// The state after this one.
    pub next: AvalancheState,
}

/// All protocol durations (milliseconds) and thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsensusParams {
    /// Validations signed more than this before our time are stale (validationVALID_WALL).
    pub validation_valid_wall_ms: i64,
    /// Validations we saw more than this long ago no longer support a ledger (VALID_LOCAL).
    pub validation_valid_local_ms: i64,
    /// Validations signed more than this after our time are refused (VALID_EARLY).
    pub validation_valid_early_ms: i64,
    /// A validator without a validation this recent counts as offline (validationFRESHNESS).
    pub validation_freshness_ms: i64,
    /// A validator's sequence enforcer forgets its largest sequence after this long without a
    /// new validation (validationSET_EXPIRES).
    pub validation_set_expires_ms: i64,
    /// A fully validated ledger younger than this makes a connected node SYNCING (rippled
    /// `NetworkOPs::setMode`: one minute).
    pub validated_recent_ms: i64,
    /// Nothing fully validated for this long is a stall: the node then follows the heaviest
    /// branch of the trusted validators' latest ledgers (a cpeers rule; rippled has none).
    pub stall_recovery_ms: i64,
    /// Peer positions older than this are dropped and un-voted (proposeFRESHNESS).
    pub propose_freshness_ms: i64,
    /// We re-propose at least this often even without changes (proposeINTERVAL).
    pub propose_interval_ms: i64,
    /// Percent of proposers that must agree for consensus (minCONSENSUS_PCT).
    pub min_consensus_pct: i64,
    /// Close an empty ledger after this long (ledgerIDLE_INTERVAL).
    pub ledger_idle_interval_ms: i64,
    /// Minimum establish time before consensus can be declared (ledgerMIN_CONSENSUS).
    pub ledger_min_consensus_ms: i64,
    /// Alone this long, or laggards this long, and we go ahead (ledgerMAX_CONSENSUS).
    pub ledger_max_consensus_ms: i64,
    /// Minimum open time when there are transactions (ledgerMIN_CLOSE).
    pub ledger_min_close_ms: i64,
    /// Timer period (ledgerGRANULARITY).
    pub ledger_granularity_ms: i64,
    /// Round expires after this many previous round times... (ledgerABANDON_CONSENSUS_FACTOR)
    pub ledger_abandon_consensus_factor: i64,
    /// ...clamped to at most this (ledgerABANDON_CONSENSUS); at least `ledger_max_consensus_ms`.
    pub ledger_abandon_consensus_ms: i64,
    /// Floor for the previous round time when computing converge percent (avMIN_CONSENSUS_TIME).
    pub av_min_consensus_time_ms: i64,
    /// Percent of participants needed for close-time consensus (avCT_CONSENSUS_PCT).
    pub av_ct_consensus_pct: i64,
    /// Updates spent in an avalanche state before it may advance (avMIN_ROUNDS).
    pub av_min_rounds: u32,
    /// Updates without change before a dispute counts as stalled (avSTALLED_ROUNDS).
    pub av_stalled_rounds: u32,
    /// Possible close-time resolutions, finest first.
    pub close_resolutions_ms: Vec<i64>,
    /// Index into `close_resolutions_ms` for the genesis ledger.
    pub genesis_resolution_index: usize,
    /// Move to a finer resolution every this many ledgers while close times agree.
    pub increase_resolution_every: u32,
    /// Move to a coarser resolution every this many ledgers while they do not.
    pub decrease_resolution_every: u32,
    /// Agree-to-disagree close time is the parent close time plus this.
    pub close_time_step_ms: i64,
    /// "Bizarre" previous round time below which we close at once (rippled: -1 s).
    pub bizarre_low_ms: i64,
    /// "Bizarre" round/close times above which we close at once (rippled: 10 min).
    pub bizarre_high_ms: i64,
    /// Proposals kept per peer for replay at round start and ledger switch.
    pub recent_proposals_per_peer: usize,
    /// Re-request a missing transaction set or ledger after this long.
    pub acquire_retry_ms: i64,
}

impl ConsensusParams {
    /// rippled's production numbers.
    pub fn mainnet() -> ConsensusParams {
        ConsensusParams {
            validation_valid_wall_ms: 5 * 60_000,
            validation_valid_local_ms: 3 * 60_000,
            validation_valid_early_ms: 3 * 60_000,
            validation_freshness_ms: 20_000,
            validation_set_expires_ms: 10 * 60_000,
            validated_recent_ms: 60_000,
            stall_recovery_ms: 30_000,
            propose_freshness_ms: 20_000,
            propose_interval_ms: 12_000,
            min_consensus_pct: 80,
            ledger_idle_interval_ms: 15_000,
            ledger_min_consensus_ms: 1_950,
            ledger_max_consensus_ms: 15_000,
            ledger_min_close_ms: 2_000,
            ledger_granularity_ms: 1_000,
            ledger_abandon_consensus_factor: 10,
            ledger_abandon_consensus_ms: 120_000,
            av_min_consensus_time_ms: 5_000,
            av_ct_consensus_pct: 75,
            av_min_rounds: 2,
            av_stalled_rounds: 4,
            close_resolutions_ms: vec![10_000, 20_000, 30_000, 60_000, 90_000, 120_000],
            genesis_resolution_index: 0,
            increase_resolution_every: 8,
            decrease_resolution_every: 1,
            close_time_step_ms: 1_000,
            bizarre_low_ms: -1_000,
            bizarre_high_ms: 10 * 60_000,
            recent_proposals_per_peer: 10,
            acquire_retry_ms: 1_000,
        }
    }

    /// The same rules with every duration divided by `factor`.
    pub fn scaled(&self, factor: i64) -> ConsensusParams {
        let s = |ms: i64| ms / factor;
        ConsensusParams {
            validation_valid_wall_ms: s(self.validation_valid_wall_ms),
            validation_valid_local_ms: s(self.validation_valid_local_ms),
            validation_valid_early_ms: s(self.validation_valid_early_ms),
            validation_freshness_ms: s(self.validation_freshness_ms),
            validation_set_expires_ms: s(self.validation_set_expires_ms),
            validated_recent_ms: s(self.validated_recent_ms),
            stall_recovery_ms: s(self.stall_recovery_ms),
            propose_freshness_ms: s(self.propose_freshness_ms),
            propose_interval_ms: s(self.propose_interval_ms),
            ledger_idle_interval_ms: s(self.ledger_idle_interval_ms),
            ledger_min_consensus_ms: s(self.ledger_min_consensus_ms),
            ledger_max_consensus_ms: s(self.ledger_max_consensus_ms),
            ledger_min_close_ms: s(self.ledger_min_close_ms),
            ledger_granularity_ms: s(self.ledger_granularity_ms),
            ledger_abandon_consensus_ms: s(self.ledger_abandon_consensus_ms),
            av_min_consensus_time_ms: s(self.av_min_consensus_time_ms),
            close_resolutions_ms: self.close_resolutions_ms.iter().map(|&r| s(r)).collect(),
            close_time_step_ms: s(self.close_time_step_ms),
            bizarre_low_ms: s(self.bizarre_low_ms),
            bizarre_high_ms: s(self.bizarre_high_ms),
            acquire_retry_ms: s(self.acquire_retry_ms),
            ..self.clone()
        }
    }

    /// The avalanche cutoff for `state` (rippled's `avalancheCutoffs`).
    pub fn cutoff(&self, state: AvalancheState) -> AvalancheCutoff {
        use AvalancheState::*;
        match state {
            Init => AvalancheCutoff {
                time_pct: 0,
                yes_pct: 50,
                next: Mid,
            },
            Mid => AvalancheCutoff {
                time_pct: 50,
                yes_pct: 65,
                next: Late,
            },
            Late => AvalancheCutoff {
                time_pct: 85,
                yes_pct: 70,
                next: Stuck,
            },
            Stuck => AvalancheCutoff {
                time_pct: 200,
                yes_pct: 95,
                next: Stuck,
            },
        }
    }

    /// Resolution of the genesis ledger.
    pub fn genesis_resolution_ms(&self) -> i64 {
        self.close_resolutions_ms[self.genesis_resolution_index]
    }
}

impl Default for ConsensusParams {
    fn default() -> Self {
        ConsensusParams::mainnet()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_scales_durations_but_not_rules() {
        let m = Profile::Mainnet.params();
        let f = Profile::Fast.params();
        assert_eq!(f.ledger_min_consensus_ms, 195);
        assert_eq!(f.ledger_granularity_ms, 100);
        assert_eq!(f.close_resolutions_ms[0], 1_000);
        assert_eq!(f.min_consensus_pct, m.min_consensus_pct);
        assert_eq!(f.av_ct_consensus_pct, m.av_ct_consensus_pct);
        assert_eq!(f.av_min_rounds, m.av_min_rounds);
        assert_eq!("fast".parse::<Profile>(), Ok(Profile::Fast));
        assert!("slow".parse::<Profile>().is_err());
    }

    /// Every mainnet number is rippled's, named as rippled names it. The behavioural tests
    /// (each rule one step either side of its threshold) live with the rules: `rules.rs`,
    /// `avalanche.rs`, `dispute.rs`, `close_time.rs`; this pin catches the numbers whose rules
    /// live in the engine, the validation tracker or the peer tracker.
    #[test]
    fn mainnet_numbers_are_rippleds() {
        let p = ConsensusParams::mainnet();
        let min = 60_000;
        // ValidationParms (Validations.h).
        assert_eq!(p.validation_valid_wall_ms, 5 * min); // validationCURRENT_WALL
        assert_eq!(p.validation_valid_local_ms, 3 * min); // validationCURRENT_LOCAL
        assert_eq!(p.validation_valid_early_ms, 3 * min); // validationCURRENT_EARLY
        assert_eq!(p.validation_set_expires_ms, 10 * min); // validationSET_EXPIRES
        assert_eq!(p.validation_freshness_ms, 20_000); // validationFRESHNESS
        // NetworkOPs::setMode: a validated ledger under a minute old means SYNCING or better.
        assert_eq!(p.validated_recent_ms, min);
        // ConsensusParms.h.
        assert_eq!(p.propose_freshness_ms, 20_000); // proposeFRESHNESS
        assert_eq!(p.propose_interval_ms, 12_000); // proposeINTERVAL
        assert_eq!(p.min_consensus_pct, 80); // minCONSENSUS_PCT
        assert_eq!(p.ledger_idle_interval_ms, 15_000); // ledgerIDLE_INTERVAL
        assert_eq!(p.ledger_min_consensus_ms, 1_950); // ledgerMIN_CONSENSUS
        assert_eq!(p.ledger_max_consensus_ms, 15_000); // ledgerMAX_CONSENSUS
        assert_eq!(p.ledger_min_close_ms, 2_000); // ledgerMIN_CLOSE
        assert_eq!(p.ledger_granularity_ms, 1_000); // ledgerGRANULARITY
        assert_eq!(p.ledger_abandon_consensus_factor, 10); // ledgerABANDON_CONSENSUS_FACTOR
        assert_eq!(p.ledger_abandon_consensus_ms, 120_000); // ledgerABANDON_CONSENSUS
        assert_eq!(p.av_min_consensus_time_ms, 5_000); // avMIN_CONSENSUS_TIME
        assert_eq!(p.av_ct_consensus_pct, 75); // avCT_CONSENSUS_PCT
        assert_eq!(p.av_min_rounds, 2); // avMIN_ROUNDS
        assert_eq!(p.av_stalled_rounds, 4); // avSTALLED_ROUNDS
        // avalancheCutoffs: {state, {time, percent, next}}.
        use AvalancheState::*;
        let cutoffs: Vec<(i64, i64, AvalancheState)> = [Init, Mid, Late, Stuck]
            .into_iter()
            .map(|s| {
                let c = p.cutoff(s);
                (c.time_pct, c.yes_pct, c.next)
            })
            .collect();
        assert_eq!(
            cutoffs,
            vec![
                (0, 50, Mid),
                (50, 65, Late),
                (85, 70, Stuck),
                (200, 95, Stuck)
            ]
        );
        // LedgerTiming.h: ledgerPossibleTimeResolutions, ledgerGenesisTimeResolution (index 0;
        // ledgerDefaultTimeResolution is index 2, 30 s), increase/decrease every 8/1 ledgers.
        assert_eq!(
            p.close_resolutions_ms,
            vec![10_000, 20_000, 30_000, 60_000, 90_000, 120_000]
        );
        assert_eq!(p.genesis_resolution_ms(), 10_000);
        assert_eq!(p.close_resolutions_ms[2], 30_000);
        assert_eq!(p.increase_resolution_every, 8);
        assert_eq!(p.decrease_resolution_every, 1);
        // effCloseTime: at least the parent's close time plus 1 s.
        assert_eq!(p.close_time_step_ms, 1_000);
        // shouldCloseLedger: prevRoundTime < -1s, or > 10min, closes at once.
        assert_eq!(p.bizarre_low_ms, -1_000);
        assert_eq!(p.bizarre_high_ms, 10 * min);
        // Consensus::peerProposal keeps the last 10 positions of each peer (recentPeerPositions_).
        assert_eq!(p.recent_proposals_per_peer, 10);
        // Not a rippled number (rippled's acquire timers differ per object): cpeers' own retry.
        assert_eq!(p.acquire_retry_ms, 1_000);
    }
}
