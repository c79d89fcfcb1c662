//! The sans-IO consensus engine and its data types.
//!
//! Everything here is deterministic: no sockets, threads, clocks or randomness. Time comes in as
//! an argument, effects go out as [`engine::Output`]s. The simulator, the libp2p node and replay
//! all drive the same [`engine::Engine`].
//!
//! Reading order: [`tx`] and [`txset`] (what is agreed on), [`ledger`] (what a round produces),
//! [`proposal`] and [`validation`] (signed messages), [`rules`] (should-close and consensus
//! check), [`dispute`] and [`avalanche`] (voting on differences), [`close_time`],
//! [`ledger_trie`] and [`validations`] (following the network), then [`engine`].

pub mod avalanche;
pub mod close_time;
pub mod dispute;
pub mod engine;
pub mod hash;
pub mod history;
pub mod keys;
pub mod ledger;
pub mod ledger_trie;
pub mod params;
pub mod peers;
pub mod pending;
pub mod proposal;
pub mod refusal;
pub mod rules;
pub mod time;
pub mod tx;
pub mod txset;
pub mod unl;
pub mod validation;
pub mod validations;

pub use engine::{
    Command, Engine, EngineConfig, Input, Message, Mode, Output, Phase, ServerState, StartFrom,
};
pub use hash::Hash256;
pub use keys::{NodeId, NodeKey, Verifier};
pub use ledger::{Ledger, Seq};
pub use params::{ConsensusParams, Profile};
pub use refusal::{Refusal, Verdict};
pub use time::Time;
pub use tx::{Tx, TxId};
pub use txset::TxSet;
