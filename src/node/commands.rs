//! What can be asked of a running node: requests from the admin API and the dashboard (the
//! contract's [`Request`], answered with a [`Reply`]), and the demo's trouble-making. Commands
//! arrive on a channel; the node task carries them out between network events.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;

use crate::consensus::NodeKey;
use crate::consensus::engine::Message;
use crate::contract::{Envelope, Reply};

/// Rewrites what a node sends, as a byzantine validator holding its key would (the demo's `B`
/// key). Implemented where the behaviours live (the simulator's), so the node never imports
/// them.
pub trait Outbound: Send {
    /// What to send instead of `msg` (nothing, `msg`, or other messages signed with `key`).
    fn rewrite(&mut self, msg: &Message, key: &NodeKey, network_id: u32) -> Vec<Message>;
    /// What it does, for the log.
    fn describe(&self) -> String;
}

/// A request to the node.
pub enum NodeCommand {
    /// A request from the admin API or the dashboard; the answer goes to `reply`.
    Api(Envelope, oneshot::Sender<Reply>),
    /// Dial an address.
    Dial(Multiaddr),
    /// Refuse and drop a peer (or allow it again).
    Block {
        /// The peer.
        peer: PeerId,
        /// True to block, false to unblock.
        blocked: bool,
    },
    /// Make trouble (demo only): shift this node's clock.
    SetClockSkew(i64),
    /// Make trouble (demo only): rewrite what this node sends (`None`: honest again).
    SetOutbound(Option<Box<dyn Outbound>>),
    /// Make trouble (demo only): hold every gossip message this node receives this long.
    SetInboundDelay(Duration),
    /// Stop the node (flushes and closes the store).
    Shutdown,
}

impl std::fmt::Debug for NodeCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeCommand::Api(e, _) => write!(f, "Api({})", e.request.name()),
            NodeCommand::Dial(a) => write!(f, "Dial({a})"),
            NodeCommand::Block { peer, blocked } => write!(f, "Block({peer}, {blocked})"),
            NodeCommand::SetClockSkew(ms) => write!(f, "SetClockSkew({ms})"),
            NodeCommand::SetOutbound(o) => write!(
                f,
                "SetOutbound({})",
                o.as_ref().map(|o| o.describe()).unwrap_or_default()
            ),
            NodeCommand::SetInboundDelay(d) => write!(f, "SetInboundDelay({d:?})"),
            NodeCommand::Shutdown => f.write_str("Shutdown"),
        }
    }
}
