//! The contract between a node and everything that draws it or scripts against it: the
//! in-process dashboard, `cpeers attach`, `cpeers replay` and anyone's WebSocket client.
//!
//! One module, one serialisable form (JSON through serde): node status ([`snapshot`]),
//! node events ([`event`], built only by [`build`]), the dashboard's feeds ([`history`]),
//! requests and replies ([`request`]), the stream's frames ([`frame`]) and status updates as
//! merge patches ([`patch`]). It holds no libp2p
//! type (peer ids and addresses are strings) and does no I/O; engine view types travel as
//! they are, so what the engine adds appears here without a change.

pub mod build;
pub mod event;
pub mod frame;
pub mod history;
pub mod patch;
pub mod request;
pub mod snapshot;

pub use event::{AcceptedSummary, LedgerSummary, NodeEvent};
pub use frame::{EventFrame, Frame, SnapshotFrame, StatusFrame};
pub use history::History;
pub use request::{Admission, Answer, Envelope, Payload, RefusedTx, Reply, Request, Vote};
pub use snapshot::{
    ApiCounters, Held, Latency, NodeSnapshot, PeerLink, Submissions, Summary, Traffic,
    ValidatedLedger,
};
