//! What can be asked of a running node (keyboard actions, the admin endpoint, tests). Commands
//! arrive on a channel; the node task carries them out between network events.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;

use crate::consensus::engine::{ComposerSeed, DisputeDetail, PeerDetail};
use crate::consensus::{Command, NodeId, TxId};
use crate::sim::scenario::Behaviour;

/// A question about the current round, answered from the engine.
#[derive(Debug, Clone)]
pub enum Inspect {
    /// One dispute's votes and history.
    Dispute(TxId),
    /// One peer's position against ours.
    Peer(NodeId),
    /// What the proposal composer starts from.
    Composer,
}

/// The answer to an [`Inspect`].
#[derive(Debug, Clone)]
pub enum InspectReply {
    /// The dispute (gone when the round moved on).
    Dispute(Option<Box<DisputeDetail>>),
    /// The peer (unknown peers: `None`).
    Peer(Option<Box<PeerDetail>>),
    /// The composer seed.
    Composer(Box<ComposerSeed>),
}

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
    /// Answer a question about the round.
    Inspect(Inspect, oneshot::Sender<InspectReply>),
    /// Make trouble (demo only): shift this node's clock.
    SetClockSkew(i64),
    /// Make trouble (demo only): rewrite what this node sends, as a byzantine validator would.
    SetByzantine(Option<Behaviour>),
    /// Make trouble (demo only): hold every gossip message this node receives this long.
    SetInboundDelay(Duration),
    /// Stop the node (flushes and closes the store).
    Shutdown,
}
