//! Deterministic discrete-event simulation of a cpeers network.
//!
//! A [`Scenario`] (TOML) describes validators and observers, link delays, transactions and
//! faults; [`Simulation`] runs one real [`crate::consensus::Engine`] per node on a virtual clock
//! with a seeded RNG and signed messages, and returns a [`Report`]. The same scenario and seed
//! give a byte-identical report, so a failing run is replayed by re-running its seed.

pub mod byzantine;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sweep;
pub mod topology;

pub use report::{LedgerReport, NodeReport, Report};
pub use runner::{Simulation, StopReason};
pub use scenario::Scenario;

/// Runs `sc` to completion.
pub fn run(sc: Scenario) -> Report {
    Simulation::new(sc).run()
}
