//! cpeers: run an XRP-Ledger-style consensus peer and watch its consensus live.
//!
//! - [`consensus`]: the sans-IO engine (proposals, disputes, phases, validations).
//! - [`sim`]: a deterministic discrete-event simulator that runs many engines.
//! - [`contract`]: what a node shows and takes (status, events, requests, the stream's
//!   frames), one serialisable form for the dashboard, `attach`, replay and scripts.
//!
//! See ARCHITECTURE.md for the map and the invariants.

pub mod admin_token;
pub mod attach;
pub mod bench;
pub mod config;
pub mod consensus;
pub mod contract;
pub mod demo;
pub mod logging;
pub mod net;
pub mod node;
pub mod record;
pub mod sim;
pub mod storage;
pub mod store;
pub mod toml_doc;
pub mod tui;
