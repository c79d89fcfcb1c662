//! Engine checkpoints: the engine's complete state (everything but its key) as one serializable
//! value, so a flight recording can start a segment from it and replay can resume there.
//!
//! # Contract
//! - [`Engine::checkpoint`] copies every field of the engine except the key, including outputs
//!   still queued (a driver normally checkpoints between inputs, with the queue drained, but a
//!   queued output is part of the state and comes back on restore, in order).
//! - [`Engine::restore`] rebuilds an engine that, fed the same inputs, produces the same outputs
//!   and the same [`Engine::info`] as the one checkpointed. It takes the real key, a
//!   [`NodeKey::stand_in`] for the same id (replay), or no key for a non-validating engine.
//! - The encoding is plain serde (no `serialize_any`, untagged enums, flattening or skipped
//!   fields), so it round-trips through `postcard`. Hash maps are written in key order, so one
//!   state always encodes to the same bytes.
//! - Ledgers and transaction sets are stored as their contents; reading them back recomputes
//!   every hash and checks each ledger against its header. Signed messages the engine holds
//!   (peer positions, UNL announcements waiting for a voucher) are *not* verified again: they
//!   were verified before they entered the engine that was checkpointed, and a checkpoint is our
//!   own CRC-protected file, never bytes from the network.
//! - Shared `Arc`s (a ledger in the history and as the last closed ledger, a set in several
//!   maps) come back as separate copies. No engine behaviour depends on pointer identity.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{
    Engine, EngineConfig, EngineCounters, Mode, Output, Phase, RawCloseTimes, RoundResult,
};
use crate::consensus::avalanche::AvalancheState;
use crate::consensus::hash::Hash256;
use crate::consensus::history::LedgerHistory;
use crate::consensus::keys::{NodeId, NodeKey};
use crate::consensus::ledger::{Ledger, Seq};
use crate::consensus::peers::PeerTracker;
use crate::consensus::pending::PendingPool;
use crate::consensus::rules::ConsensusState;
use crate::consensus::time::Time;
use crate::consensus::txset::TxSet;
use crate::consensus::unl::{OverlapCheck, SignedUnl, VerifiedUnl};
use crate::consensus::validations::Validations;

/// Version of the checkpoint layout; [`Engine::restore`] refuses any other.
pub const CHECKPOINT_VERSION: u32 = 2;

/// An engine's complete state except its key. See the module docs for the contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineCheckpoint {
    pub(super) version: u32,
    pub(super) cfg: EngineConfig,
    pub(super) our_id: NodeId,

    pub(super) started: bool,
    pub(super) first_round: bool,
    pub(super) phase: Phase,
    pub(super) mode: Mode,
    pub(super) now: Time,
    pub(super) last_tick: Time,
    pub(super) open_start: Time,
    pub(super) prev_round_ms: i64,
    pub(super) prev_proposers: usize,
    pub(super) prev_close_time: Time,
    pub(super) prev_ledger_id: Hash256,
    pub(super) lcl: Arc<Ledger>,
    pub(super) close_resolution_ms: i64,
    pub(super) have_close_time_consensus: bool,
    pub(super) converge_percent: i64,
    pub(super) close_time_avalanche: AvalancheState,
    pub(super) result: Option<RoundResult>,
    pub(super) acquired: BTreeMap<Hash256, Arc<TxSet>>,
    pub(super) raw_close_times: RawCloseTimes,
    pub(super) peers: PeerTracker,
    pub(super) peer_unchanged_counter: u32,
    pub(super) establish_counter: u32,
    pub(super) last_check: Option<(ConsensusState, i64)>,

    pub(super) ledgers: LedgerHistory,
    pub(super) validations: Validations,
    pub(super) fully_validated: Arc<Ledger>,
    pub(super) largest_validated_seq: Seq,
    pub(super) wanted_ledgers: BTreeMap<Hash256, (Time, Time)>,
    pub(super) soon: BTreeMap<Hash256, Time>,

    pub(super) pending: PendingPool,
    #[serde(with = "sorted_map")]
    pub(super) known_sets: HashMap<Hash256, (Arc<TxSet>, Seq)>,
    pub(super) acquiring_sets: BTreeMap<Hash256, Time>,

    pub(super) outputs: VecDeque<Output>,
    pub(super) counters: EngineCounters,
    pub(super) announced: BTreeMap<NodeId, (u64, BTreeSet<NodeId>, bool)>,
    /// Stored signed; re-wrapped as verified on restore without checking again.
    pub(super) unvouched: BTreeMap<NodeId, SignedUnl>,
    pub(super) overlap: BTreeMap<NodeId, OverlapCheck>,
    pub(super) accepted_since_announce: u32,
    pub(super) server_state: super::ServerState,
    pub(super) state_changes: VecDeque<super::StateChange>,
    pub(super) peers_connected: Option<usize>,
    pub(super) close_offset_ms: i64,
    pub(super) last_sign_time: Time,
    pub(super) round_in_step: bool,
    pub(super) validated_at: Time,
}

impl EngineCheckpoint {
    /// The checkpointed engine's node id (all zeros for a keyless observer).
    pub fn node_id(&self) -> NodeId {
        self.our_id
    }

    /// Sequence of the last closed ledger (the round in progress builds the next one).
    pub fn ledger_seq(&self) -> Seq {
        self.lcl.seq()
    }

    /// Sequence of the last fully validated ledger.
    pub fn fully_validated_seq(&self) -> Seq {
        self.fully_validated.seq()
    }

    /// The engine's time when the checkpoint was taken (its latest input's time).
    pub fn now(&self) -> Time {
        self.now
    }

    /// Whether the checkpointed engine was a validator (restoring it needs a key or stand-in).
    pub fn is_validator(&self) -> bool {
        self.cfg.validating
    }

    /// Layout version ([`CHECKPOINT_VERSION`] when written by this build).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// What is out of step, if anything (cheap checks only: a checkpoint is our own
    /// CRC-protected file, these catch bugs and hand-edited files, not attackers).
    fn inconsistency(&self) -> Option<String> {
        if self.cfg.validating && !self.cfg.unl.contains(&self.our_id) {
            return Some("a validator that does not trust itself".into());
        }
        if self.phase != Phase::Open && self.result.is_none() {
            return Some(format!(
                "phase {} without a position of our own",
                self.phase.name()
            ));
        }
        if let Some(r) = &self.result {
            if r.txns.id() != r.position.position {
                return Some("our position names another set than the one we hold".into());
            }
            if let Some((tx, _)) = r.disputes.iter().find(|(_, d)| !d.counts_match_votes()) {
                return Some(format!(
                    "dispute {} counts votes it does not hold",
                    tx.short()
                ));
            }
            if r.membership.values().any(|m| m.len() != r.disputes.len()) {
                return Some("dispute membership cache out of step with the disputes".into());
            }
        }
        if let Some((id, _)) = self.acquired.iter().find(|(id, s)| s.id() != **id) {
            return Some(format!("acquired set filed under {}", id.short()));
        }
        if let Some((id, _)) = self.known_sets.iter().find(|(id, (s, _))| s.id() != **id) {
            return Some(format!("known set filed under {}", id.short()));
        }
        for (what, l) in [
            ("last closed", &self.lcl),
            ("fully validated", &self.fully_validated),
        ] {
            if !self.ledgers.contains(&l.hash()) {
                return Some(format!("the {what} ledger is not in the ledger history"));
            }
        }
        if let Some((id, _)) = self
            .unvouched
            .iter()
            .find(|(id, u)| u.announcement.node != **id)
        {
            return Some(format!("UNL announcement filed under {}", id.short()));
        }
        self.peers.inconsistency()
    }
}

/// Why a checkpoint cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RestoreError {
    /// Written with another checkpoint layout.
    #[error("engine checkpoint layout version {found}; this build reads version {expected}")]
    Version {
        /// The checkpoint's version.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The key given is not the checkpointed node's.
    #[error(
        "the key given is {key}'s, but the checkpoint is of node {checkpoint} \
         (restore with that node's key, or NodeKey::stand_in of its id)"
    )]
    KeyMismatch {
        /// The checkpointed node.
        checkpoint: NodeId,
        /// The key's id.
        key: NodeId,
    },
    /// A validator's checkpoint restored without a key.
    #[error(
        "the checkpoint is of validator {node}, which needs its key \
         (or NodeKey::stand_in of its id) to be restored"
    )]
    MissingKey {
        /// The checkpointed validator.
        node: NodeId,
    },
    /// The checkpoint contradicts itself.
    #[error("the engine checkpoint is inconsistent: {0}")]
    Inconsistent(String),
}

impl Engine {
    /// A copy of the engine's complete state except its key (see [`EngineCheckpoint`]).
    /// Cheap for ledgers and sets (shared), linear in the rest of the state.
    pub fn checkpoint(&self) -> EngineCheckpoint {
        EngineCheckpoint {
            version: CHECKPOINT_VERSION,
            cfg: self.cfg.clone(),
            our_id: self.our_id,
            started: self.started,
            first_round: self.first_round,
            phase: self.phase,
            mode: self.mode,
            now: self.now,
            last_tick: self.last_tick,
            open_start: self.open_start,
            prev_round_ms: self.prev_round_ms,
            prev_proposers: self.prev_proposers,
            prev_close_time: self.prev_close_time,
            prev_ledger_id: self.prev_ledger_id,
            lcl: self.lcl.clone(),
            close_resolution_ms: self.close_resolution_ms,
            have_close_time_consensus: self.have_close_time_consensus,
            converge_percent: self.converge_percent,
            close_time_avalanche: self.close_time_avalanche,
            result: self.result.clone(),
            acquired: self.acquired.clone(),
            raw_close_times: self.raw_close_times.clone(),
            peers: self.peers.clone(),
            peer_unchanged_counter: self.peer_unchanged_counter,
            establish_counter: self.establish_counter,
            last_check: self.last_check,
            ledgers: self.ledgers.clone(),
            validations: self.validations.clone(),
            fully_validated: self.fully_validated.clone(),
            largest_validated_seq: self.largest_validated_seq,
            wanted_ledgers: self.wanted_ledgers.clone(),
            soon: self.soon.clone(),
            pending: self.pending.clone(),
            known_sets: self.known_sets.clone(),
            acquiring_sets: self.acquiring_sets.clone(),
            outputs: self.outputs.clone(),
            counters: self.counters.clone(),
            announced: self.announced.clone(),
            unvouched: self
                .unvouched
                .iter()
                .map(|(id, u)| (*id, SignedUnl::clone(u.signed())))
                .collect(),
            overlap: self.overlap.clone(),
            accepted_since_announce: self.accepted_since_announce,
            server_state: self.server_state,
            state_changes: self.state_changes.clone(),
            peers_connected: self.peers_connected,
            close_offset_ms: self.close_offset_ms,
            last_sign_time: self.last_sign_time,
            round_in_step: self.round_in_step,
            validated_at: self.validated_at,
        }
    }

    /// Rebuilds the engine `cp` was taken of, holding `key`: the node's own key, a
    /// [`NodeKey::stand_in`] for its id (replay without the secret), or `None` for an engine
    /// that does not validate. Refuses a key for another node, a validator without a key, a
    /// checkpoint of another layout version, or one that contradicts itself.
    pub fn restore(cp: EngineCheckpoint, key: Option<NodeKey>) -> Result<Engine, RestoreError> {
        if cp.version != CHECKPOINT_VERSION {
            return Err(RestoreError::Version {
                found: cp.version,
                expected: CHECKPOINT_VERSION,
            });
        }
        match &key {
            Some(k) if k.id() != cp.our_id => {
                return Err(RestoreError::KeyMismatch {
                    checkpoint: cp.our_id,
                    key: k.id(),
                });
            }
            None if cp.cfg.validating => {
                return Err(RestoreError::MissingKey { node: cp.our_id });
            }
            _ => {}
        }
        if let Some(why) = cp.inconsistency() {
            return Err(RestoreError::Inconsistent(why));
        }
        Ok(Engine {
            cfg: cp.cfg,
            key,
            our_id: cp.our_id,
            started: cp.started,
            first_round: cp.first_round,
            phase: cp.phase,
            mode: cp.mode,
            now: cp.now,
            last_tick: cp.last_tick,
            open_start: cp.open_start,
            prev_round_ms: cp.prev_round_ms,
            prev_proposers: cp.prev_proposers,
            prev_close_time: cp.prev_close_time,
            prev_ledger_id: cp.prev_ledger_id,
            lcl: cp.lcl,
            close_resolution_ms: cp.close_resolution_ms,
            have_close_time_consensus: cp.have_close_time_consensus,
            converge_percent: cp.converge_percent,
            close_time_avalanche: cp.close_time_avalanche,
            result: cp.result,
            acquired: cp.acquired,
            raw_close_times: cp.raw_close_times,
            peers: cp.peers,
            peer_unchanged_counter: cp.peer_unchanged_counter,
            establish_counter: cp.establish_counter,
            last_check: cp.last_check,
            ledgers: cp.ledgers,
            validations: cp.validations,
            fully_validated: cp.fully_validated,
            largest_validated_seq: cp.largest_validated_seq,
            wanted_ledgers: cp.wanted_ledgers,
            soon: cp.soon,
            pending: cp.pending,
            known_sets: cp.known_sets,
            acquiring_sets: cp.acquiring_sets,
            outputs: cp.outputs,
            counters: cp.counters,
            announced: cp.announced,
            unvouched: cp
                .unvouched
                .into_iter()
                .map(|(id, u)| (id, VerifiedUnl::restored(u)))
                .collect(),
            overlap: cp.overlap,
            accepted_since_announce: cp.accepted_since_announce,
            ancestry: HashMap::new(),
            server_state: cp.server_state,
            state_changes: cp.state_changes,
            peers_connected: cp.peers_connected,
            close_offset_ms: cp.close_offset_ms,
            last_sign_time: cp.last_sign_time,
            last_own_validation: None,
            round_in_step: cp.round_in_step,
            validated_at: cp.validated_at,
        })
    }
}

/// Serde helper: a `HashMap` written as a map in key order (so one state always encodes to the
/// same bytes) and read back into a `HashMap` with any hasher.
pub(crate) mod sorted_map {
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<K, V, H, S>(
        map: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        K: Ord + Serialize,
        V: Serialize,
        S: Serializer,
    {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        serializer.collect_map(entries)
    }

    pub(crate) fn deserialize<'de, K, V, H, D>(
        deserializer: D,
    ) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        HashMap::<K, V, H>::deserialize(deserializer)
    }
}

/// Serde helper for a [`VerifiedProposal`](crate::consensus::proposal::VerifiedProposal) held
/// in engine state: written as the signed proposal, read back *without* verifying it again
/// (see the module docs). Only for checkpoints, never for network bytes.
pub(crate) mod verified_proposal {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::consensus::proposal::{SignedProposal, VerifiedProposal};

    pub(crate) fn serialize<S: Serializer>(
        v: &VerifiedProposal,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        SignedProposal::serialize(v.signed(), serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<VerifiedProposal, D::Error> {
        SignedProposal::deserialize(deserializer).map(VerifiedProposal::restored)
    }
}

/// Serde helper for [`EngineCounters::rounds`]: its keys are `&'static str` round results,
/// read back as the matching [`ConsensusState::name`]; any other name is an error.
pub(crate) mod round_names {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};

    use crate::consensus::rules::ConsensusState;

    const STATES: [ConsensusState; 4] = [
        ConsensusState::No,
        ConsensusState::MovedOn,
        ConsensusState::Expired,
        ConsensusState::Yes,
    ];

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<&'static str, u64>, D::Error> {
        BTreeMap::<String, u64>::deserialize(deserializer)?
            .into_iter()
            .map(|(name, n)| {
                STATES
                    .iter()
                    .map(|s| s.name())
                    .find(|known| *known == name)
                    .map(|known| (known, n))
                    .ok_or_else(|| D::Error::custom(format!("unknown round result {name:?}")))
            })
            .collect()
    }
}
