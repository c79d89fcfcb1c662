//! The node's operating mode, rippled's `NetworkOPs` `OperatingMode`: disconnected, connected,
//! syncing, tracking, full. Only a FULL validator proposes (and so sends full validations): a
//! node that just started from its store, just switched ledgers or lost its peers observes until
//! it has shown, for a round, that it is on the network's ledger. Without this a node that
//! jumps ledgers proposes at once and inflates proposer counts and agreement.
//!
//! The transitions, each where rippled makes it:
//! - `processHeartbeatTimer` (every tick): fewer connected peers than the minimum →
//!   DISCONNECTED, and consensus does not run; DISCONNECTED with peers → CONNECTED.
//! - `setMode`: CONNECTED becomes SYNCING while the fully validated ledger is less than a minute
//!   old, SYNCING falls back to CONNECTED once it is older.
//! - `endConsensus` (after each accept): a ledger switch drops TRACKING/FULL to CONNECTED;
//!   otherwise CONNECTED/SYNCING → TRACKING, then CONNECTED/TRACKING → FULL when the ledger we
//!   closed is recent (within two close-time resolutions).
//! - `consensusViewChange`: the preferred ledger moved under us mid-round → CONNECTED.
//! - `updateOperatingMode`: accepting with no peer positions drops FULL to CONNECTED.
//! - `beginConsensus`: a round that starts without its previous ledger drops FULL to TRACKING.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Engine, Event, Output};
use crate::consensus::rules::ConsensusState;
use crate::consensus::time::Time;

/// How far this node is in step with the network (rippled `OperatingMode`; the numeric order
/// matters: "at least TRACKING" compares).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum ServerState {
    /// Not enough peers: consensus does not run.
    #[default]
    Disconnected,
    /// Peers, but not on the network's ledger yet.
    Connected,
    /// Connected, and a ledger was fully validated within the last minute.
    Syncing,
    /// On the network's ledger; not yet proposing.
    Tracking,
    /// In step: a validator proposes and sends full validations.
    Full,
}

impl ServerState {
    /// Lowercase name (rippled's `server_state` strings).
    pub fn name(self) -> &'static str {
        match self {
            ServerState::Disconnected => "disconnected",
            ServerState::Connected => "connected",
            ServerState::Syncing => "syncing",
            ServerState::Tracking => "tracking",
            ServerState::Full => "full",
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the operating mode changed: what an operator reads in the log next to the new state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateReason {
    /// The engine started on the genesis ledger of a new network (rippled `--start`).
    NewNetwork,
    /// The engine started from its store and must catch up.
    Restarted,
    /// Fewer connected peers than the minimum.
    LostPeers {
        /// Peers connected.
        peers: usize,
    },
    /// Enough peers again.
    GotPeers {
        /// Peers connected.
        peers: usize,
    },
    /// The fully validated ledger is less than a minute old.
    RecentlyValidated,
    /// Nothing fully validated for a minute.
    ValidationStale,
    /// We switched to the ledger the trusted validations prefer.
    SwitchedLedger {
        /// Trusted validators whose latest validation supports its branch.
        support: usize,
        /// UNL size.
        unl: usize,
    },
    /// We switched to a ledger we have not fetched yet (rippled's fallback to the ledger being
    /// acquired with the most trusted validations): its branch support is not known yet.
    SwitchedToAcquiring {
        /// Trusted validators whose latest validation names it.
        validators: usize,
        /// UNL size.
        unl: usize,
    },
    /// A round ended on the ledger the network prefers.
    OnNetworkLedger,
    /// The ledger we closed is recent: in step.
    InStep,
    /// We accepted a ledger that nobody else proposed on.
    NoPeerPositions,
    /// The round started without its previous ledger.
    MissingLedger,
}

impl fmt::Display for StateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateReason::NewNetwork => f.write_str("started a new network at genesis"),
            StateReason::Restarted => f.write_str("started from the store; catching up"),
            StateReason::LostPeers { peers } => write!(f, "{peers} peers connected: too few"),
            StateReason::GotPeers { peers } => write!(f, "{peers} peers connected"),
            StateReason::RecentlyValidated => {
                f.write_str("a ledger was fully validated within the last minute")
            }
            StateReason::ValidationStale => f.write_str("nothing fully validated for a minute"),
            StateReason::SwitchedLedger { support, unl } => write!(
                f,
                "switched to the ledger whose branch {support} of {unl} trusted validators support"
            ),
            StateReason::SwitchedToAcquiring { validators, unl } => write!(
                f,
                "switched to a ledger still being fetched, validated by {validators} of {unl} trusted validators"
            ),
            StateReason::OnNetworkLedger => f.write_str("the round ended on the network's ledger"),
            StateReason::InStep => f.write_str("the ledger we closed is recent"),
            StateReason::NoPeerPositions => f.write_str("accepted with no peer positions"),
            StateReason::MissingLedger => f.write_str("the round started without its ledger"),
        }
    }
}

/// One change of operating mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// When (the engine's clock).
    pub at: Time,
    /// The new state.
    pub state: ServerState,
    /// Why.
    pub reason: StateReason,
}

/// Most state changes the engine remembers (the dashboard and reports read them).
pub const STATE_HISTORY: usize = 64;

/// Fewer connected peers than this and the node is DISCONNECTED (rippled `NETWORK_QUORUM`,
/// default 1).
pub const MIN_PEERS: usize = 1;

impl Engine {
    /// The operating mode.
    pub fn server_state(&self) -> ServerState {
        self.server_state
    }

    /// Recent operating-mode changes, oldest first.
    pub fn state_changes(&self) -> impl Iterator<Item = &StateChange> {
        self.state_changes.iter()
    }

    /// rippled `setMode`: CONNECTED and SYNCING follow the age of the fully validated ledger.
    pub(super) fn set_state(&mut self, mut state: ServerState, mut reason: StateReason) {
        let recent = self.validated_age_ms() < self.cfg.params.validated_recent_ms;
        if state == ServerState::Connected && recent {
            state = ServerState::Syncing;
            if matches!(reason, StateReason::ValidationStale) {
                reason = StateReason::RecentlyValidated;
            }
        } else if state == ServerState::Syncing && !recent {
            state = ServerState::Connected;
            reason = StateReason::ValidationStale;
        }
        if state == self.server_state {
            return;
        }
        self.server_state = state;
        let change = StateChange {
            at: self.now,
            state,
            reason,
        };
        if self.state_changes.len() >= STATE_HISTORY {
            self.state_changes.pop_front();
        }
        self.state_changes.push_back(change);
        self.emit(Output::Event(Event::ServerStateChanged(change)));
    }

    /// How long ago (network time) the fully validated ledger closed.
    fn validated_age_ms(&self) -> i64 {
        self.net_now().since(self.fully_validated.close_time())
    }

    /// Whether our UNL names nobody but us: a network of one, which needs no peers and no peer
    /// positions to stay FULL (rippled runs such a node in standalone mode).
    pub(super) fn alone(&self) -> bool {
        self.validations.unl().iter().all(|n| *n == self.our_id)
    }

    /// rippled `processHeartbeatTimer`, before the consensus timer: returns whether consensus
    /// runs this tick.
    pub(super) fn heartbeat(&mut self) -> bool {
        let peers = self.peers_connected;
        if let Some(n) = peers
            && n < MIN_PEERS
            && !self.alone()
        {
            self.set_state(
                ServerState::Disconnected,
                StateReason::LostPeers { peers: n },
            );
            return false;
        }
        if self.server_state == ServerState::Disconnected {
            self.set_state(
                ServerState::Connected,
                StateReason::GotPeers {
                    peers: peers.unwrap_or(0),
                },
            );
        }
        // Re-apply the validated-ledger age rule.
        match self.server_state {
            ServerState::Syncing => {
                self.set_state(ServerState::Syncing, StateReason::ValidationStale)
            }
            ServerState::Connected => {
                self.set_state(ServerState::Connected, StateReason::RecentlyValidated)
            }
            _ => {}
        }
        true
    }

    /// rippled `endConsensus`'s mode steps after a round on `switched` (whether the ledger we
    /// build on next differs from the one we just closed).
    pub(super) fn end_consensus_state(&mut self, switched: Option<StateReason>) {
        if let Some(reason) = switched {
            if matches!(self.server_state, ServerState::Tracking | ServerState::Full)
                && !self.stalled()
            {
                self.set_state(ServerState::Connected, reason);
            }
            return;
        }
        if matches!(
            self.server_state,
            ServerState::Connected | ServerState::Syncing
        ) {
            self.set_state(ServerState::Tracking, StateReason::OnNetworkLedger);
        }
        if matches!(
            self.server_state,
            ServerState::Connected | ServerState::Tracking
        ) {
            // rippled compares its wall clock (not the corrected one) with the closed ledger's
            // close time plus two of the next ledger's resolutions. A round that reached
            // consensus with other proposers on the ledger we closed shows we are in step too,
            // however long it took: after a long round (a stall, a byzantine position holding
            // agreement below 80 %) the close time is old by the time we accept, and an
            // observer would never become FULL again (a cpeers rule, found by the randomized
            // healing sweep).
            let res = crate::consensus::close_time::next_resolution(
                &self.cfg.params,
                self.lcl.close_resolution_ms(),
                self.lcl.close_time_agreed(),
                self.lcl.seq() + 1,
            );
            let recent = self.now < self.lcl.close_time().plus(2 * res);
            let agreed_with_peers = self
                .result
                .as_ref()
                .is_some_and(|r| r.proposers > 0 && r.state == ConsensusState::Yes);
            if recent || agreed_with_peers {
                self.set_state(ServerState::Full, StateReason::InStep);
            }
        }
    }

    /// rippled `consensusViewChange`: the preferred ledger moved to `target` mid-round.
    ///
    /// While the network is stalled (nothing fully validated for a while) a switch does not
    /// demote: there is no validated network ledger to be out of step with, and a validator
    /// that must observe a round after every switch cannot help the proposers it joins reach
    /// agreement; with few proposers a single byzantine one then holds agreement below 80 %
    /// (a cpeers rule, found by the randomized healing sweep).
    pub(super) fn consensus_view_change(&mut self, target: &crate::consensus::hash::Hash256) {
        if matches!(self.server_state, ServerState::Tracking | ServerState::Full) && !self.stalled()
        {
            let reason = self.switch_reason(target);
            self.set_state(ServerState::Connected, reason);
        }
    }

    /// "Switched to the ledger whose branch k of n trusted validators support".
    pub(super) fn switch_reason(
        &mut self,
        target: &crate::consensus::hash::Hash256,
    ) -> StateReason {
        let (ledgers, cache) = (&self.ledgers, &mut self.ancestry);
        let unl = self.validations.unl().len();
        match Engine::ancestry_of(ledgers, cache, target) {
            Some(a) => StateReason::SwitchedLedger {
                support: self.validations.trie().branch_support(&a) as usize,
                unl,
            },
            None => StateReason::SwitchedToAcquiring {
                validators: self.validations.acquiring_support(target),
                unl,
            },
        }
    }
}
