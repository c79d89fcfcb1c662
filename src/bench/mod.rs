//! `cpeers bench`: end-to-end measurements anyone can re-run with the project's own binary.

pub mod cluster;
pub mod heal;
pub mod net_speed;
pub mod sim_speed;
pub mod soak;
pub mod stream;
