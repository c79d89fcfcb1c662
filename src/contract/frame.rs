//! The stream (`GET /subscribe`, a WebSocket): text frames, one JSON object each, every one
//! with a `"type"` and a `"seq"` that increases by one per frame on that connection.
//!
//! - `snapshot` comes first, and again whenever the client fell behind (`"resync": true`):
//!   everything a dashboard draws (`node`: the status; `history`: the feeds so far).
//! - `status`: the node's status changed (at most ten a second): `patch`, a JSON merge patch
//!   (RFC 7386) to apply to the status from the last snapshot or status frame (or `node`, the
//!   whole status).
//! - `event`: one node event (`at`: the node's clock, Unix ms; `event`: see [`NodeEvent`]).
//! - `reply`: the answer to a request the client sent on the socket.
//!
//! Frames are built here and serialised once per node event, whatever the number of
//! subscribers; the connection puts its own `seq` in front ([`with_seq`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::event::NodeEvent;
use super::history::History;
use super::request::Reply;
use super::snapshot::NodeSnapshot;
use crate::consensus::Time;

/// Version of the stream's format; a snapshot frame names it.
pub const API_VERSION: u32 = 1;

/// The first frame, and the one after falling behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotFrame {
    /// [`API_VERSION`].
    pub api: u32,
    /// Whether this connection may change state (it presented the admin token).
    pub read_only: bool,
    /// Sent because the client fell behind (events between the last frame and this one were
    /// not sent; this snapshot includes what they did).
    pub resync: bool,
    /// The node's status.
    pub node: Arc<NodeSnapshot>,
    /// The feeds so far.
    pub history: History,
}

/// The node's status changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusFrame {
    /// The whole status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Arc<NodeSnapshot>>,
    /// Or what changed: a merge patch of the previous status ([`super::patch`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<serde_json::Value>,
}

/// One node event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventFrame {
    /// When it happened (the node's clock, Unix ms).
    pub at: Time,
    /// What.
    pub event: NodeEvent,
}

/// One frame of the stream.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    /// Everything to draw.
    Snapshot(SnapshotFrame),
    /// The status changed.
    Status(StatusFrame),
    /// Something happened.
    Event(EventFrame),
    /// The answer to a request.
    Reply(Reply),
}

/// Why a frame could not be read.
#[derive(Debug, Error)]
pub enum FrameError {
    /// Not JSON, or a field of the wrong shape.
    #[error("bad frame: {0}")]
    Json(#[from] serde_json::Error),
    /// A `type` this client does not know (a newer node).
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
}

#[derive(Deserialize)]
struct Head {
    seq: u64,
    #[serde(rename = "type")]
    kind: String,
}

/// Reads one frame: its `seq` and what it holds. (Read by peeking at `type` first, then as
/// the one struct it names, so nested maps keyed by numbers read back as they were written.)
pub fn decode(text: &str) -> Result<(u64, Frame), FrameError> {
    let head: Head = serde_json::from_str(text)?;
    let frame = match head.kind.as_str() {
        "snapshot" => Frame::Snapshot(serde_json::from_str(text)?),
        "status" => Frame::Status(serde_json::from_str(text)?),
        "event" => Frame::Event(serde_json::from_str(text)?),
        "reply" => Frame::Reply(serde_json::from_str(text)?),
        _ => return Err(FrameError::UnknownType(head.kind)),
    };
    Ok((head.seq, frame))
}

/// The frame's JSON without a `seq` (to be shared by every connection).
pub fn encode(frame: &Frame) -> String {
    // Only maps with string keys and finite numbers are serialised here.
    serde_json::to_string(frame).unwrap_or_else(|e| {
        format!(
            "{{\"type\":\"event\",\"at\":0,\"event\":{{\"kind\":\"warning\",\"text\":{:?}}}}}",
            format!("cannot encode a frame: {e}")
        )
    })
}

/// `body` (an encoded frame) with `"seq": seq` as its first field.
pub fn with_seq(seq: u64, body: &str) -> String {
    let rest = body.strip_prefix('{').unwrap_or(body);
    let mut s = String::with_capacity(body.len() + 24);
    s.push_str("{\"seq\":");
    s.push_str(&seq.to_string());
    if rest != "}" {
        s.push(',');
    }
    s.push_str(rest);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::engine::Phase;

    #[test]
    fn a_frame_reads_back_with_its_seq() {
        let f = Frame::Event(EventFrame {
            at: Time(5),
            event: NodeEvent::Phase {
                phase: Phase::Establish,
            },
        });
        let text = with_seq(42, &encode(&f));
        assert!(text.starts_with(r#"{"seq":42,"type":"event","at":5,"event":{"kind":"phase""#));
        let (seq, back) = decode(&text).unwrap();
        assert_eq!(seq, 42);
        assert!(matches!(
            back,
            Frame::Event(EventFrame {
                at: Time(5),
                event: NodeEvent::Phase {
                    phase: Phase::Establish
                }
            })
        ));
        assert!(matches!(
            decode(r#"{"seq":1,"type":"launch"}"#),
            Err(FrameError::UnknownType(_))
        ));
        assert!(decode(r#"{"type":"event"}"#).is_err());
    }
}
