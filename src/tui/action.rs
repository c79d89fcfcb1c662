//! What the dashboard asks of the outside world. Key handling returns actions instead of acting,
//! so it can be tested without a node, and the dashboard never touches the network or the
//! engine directly.

use crate::consensus::{Command, NodeId, TxId};

/// A demo-only way to make trouble on one node (`cpeers demo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoAction {
    /// Kill the node (no shutdown path) or restart it from its store.
    ToggleCrash(NodeId),
    /// Cycle honest → equivocate → random position → wrong ledger → silent → honest.
    CycleByzantine(NodeId),
    /// Hold everything the node receives for a while (or stop doing so).
    ToggleSlow(NodeId),
    /// Move the node's clock 20 s ahead (or back).
    ToggleClockSkew(NodeId),
    /// Split the network in two halves (or heal it).
    TogglePartition,
}

/// A request from the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an engine command to the attached node.
    Engine(Command),
    /// Ask the node for a dispute's details.
    InspectDispute(TxId),
    /// Ask the node for a peer's position against ours.
    InspectPeer(NodeId),
    /// Ask the node what the composer starts from.
    InspectComposer,
    /// Demo trouble.
    Demo(DemoAction),
    /// Replay playback (play, step, jump, scrub, speed).
    Playback(crate::record::playback::Control),
    /// Show the next attached node (`cpeers attach A B C`).
    NextNode,
    /// Show attached node `i` (picked in the network view).
    ShowNode(usize),
    /// Leave.
    Quit,
}
