//! `cpeers bench`: end-to-end measurements anyone can re-run with the project's own binary.

pub mod sim_speed;
