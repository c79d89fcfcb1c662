//! The dashboard's side of the contract: a [`Link`] is one attached node (or a replay),
//! delivering the stream's frames and the connection's ups and downs as [`Update`]s, and
//! taking requests. [`client`] makes links to running nodes over their WebSocket stream
//! (`cpeers attach`, `cpeers demo`, `cpeers node` with its dashboard); `record::playback`
//! makes one for a recording.

pub mod client;

use tokio::sync::mpsc;

use crate::consensus::Time;
use crate::contract::{Envelope, Frame};

/// What a link reports.
#[derive(Debug, Clone)]
pub enum Update {
    /// A frame from the node (a snapshot comes first after every (re)connection).
    Frame(Box<Frame>),
    /// Connected (again).
    Connected,
    /// Not connected: the node stopped, restarted or the link dropped; retrying.
    Disconnected {
        /// Since when (wall clock, Unix ms).
        since: Time,
        /// What happened, in words.
        reason: String,
    },
    /// A frame that could not be read (counted and logged; the stream goes on).
    BadFrame(String),
}

/// One attached node.
pub struct Link {
    /// What to call it: its address, or the recording's file.
    pub label: String,
    /// Frames and connection changes, in order.
    pub updates: mpsc::Receiver<Update>,
    /// Requests to the node; replies come back as `reply` frames with the same id.
    pub requests: mpsc::Sender<Envelope>,
    /// Whether state-changing requests can be made (an admin token was given).
    pub can_change: bool,
}

/// Updates buffered per link: a dashboard that stops reading makes its link stop reading,
/// and the node then resynchronises or drops it.
pub const UPDATES: usize = 1024;
