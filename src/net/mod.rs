//! Networking: what cpeers peers say to each other.
//!
//! For now this holds only [`wire`], the byte format of gossip and request-response messages.
//! It lives apart from the libp2p swarm so that the format can be tested (and fuzzed) without a
//! network, and so that the engine never learns how its messages are framed.

pub mod wire;
