//! Networking: what cpeers peers say to each other, and the libp2p machinery that carries it.
//!
//! - [`wire`]: the byte format of gossip and request-response messages (versioned, bounded),
//!   kept apart from libp2p so it can be tested and fuzzed without a network.
//! - [`identity`]: validator key files, and the mapping between validator keys and PeerIds.
//! - [`topics`]: gossipsub topic names per network id.
//! - [`sync_codec`]: the request-response codec (fetching tx sets and ledgers).
//! - [`behaviour`]: the libp2p behaviours and swarm configuration.
//!
//! The engine never learns how its messages are framed or carried.

pub mod behaviour;
pub mod identity;
pub mod sync_codec;
pub mod topics;
pub mod wire;
