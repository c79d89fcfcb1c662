//! What can be asked of a running node (keyboard actions, the admin endpoint, tests). Commands
//! arrive on a channel; the node task carries them out between network events.

use libp2p::{Multiaddr, PeerId};

use crate::consensus::Command;

/// A request to the node.
#[derive(Debug)]
pub enum NodeCommand {
    /// An engine command: submit, inject a position, override a vote.
    Engine(Command),
    /// Dial an address.
    Dial(Multiaddr),
    /// Refuse and drop a peer (or allow it again).
    Block {
        /// The peer.
        peer: PeerId,
        /// True to block, false to unblock.
        blocked: bool,
    },
    /// Stop the node (flushes and closes the store).
    Shutdown,
}
