//! One module per panel; each draws from the store and the app state, and never mutates them.

pub mod disputes;
pub mod header;
pub mod ledgers;
pub mod log;
pub mod peers;
pub mod phase;
pub mod proposals;
