//! Commands: everything a dashboard can ask of a node, as JSON requests that arrive over the
//! stream's socket or as `POST /command` on the admin address, and the replies they get.
//!
//! A request is one JSON object: `"cmd"` names it, `"id"` (optional, a number) comes back in
//! the reply so a client can match them. [`decode`] is the only way in: it bounds the size,
//! and every way a request can be wrong is a [`RequestError`] with a message that says what
//! is expected, never a panic (fuzzed in `tests/fuzz_decoders.rs`).
//!
//! ```json
//! {"id": 1, "cmd": "submit", "txs": ["pay-1", "pay-2"]}
//! {"id": 2, "cmd": "propose", "txs": ["pay-1"], "close_time": 1767225600000}
//! {"id": 3, "cmd": "vote", "tx": "<64 hex digits>", "vote": "yes"}
//! {"id": 4, "cmd": "dispute", "tx": "<64 hex digits>"}
//! {"id": 5, "cmd": "peer", "node": "<validator key, 64 hex digits>"}
//! {"id": 6, "cmd": "composer"}
//! {"id": 7, "cmd": "block", "peer": "<libp2p peer id>", "blocked": true}
//! ```

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::consensus::engine::{ComposerSeed, DisputeDetail, PeerDetail};
use crate::consensus::{NodeId, Time, Tx, TxId};

/// Largest request accepted (a submit of a few thousand transactions fits).
pub const MAX_REQUEST_BYTES: usize = 4 << 20;

/// A transaction payload: JSON text, or an array of byte values for payloads that are not
/// UTF-8. Serialised as text whenever it is text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(pub Vec<u8>);

impl From<&Tx> for Payload {
    fn from(t: &Tx) -> Payload {
        Payload(t.payload().to_vec())
    }
}

impl From<&str> for Payload {
    fn from(s: &str) -> Payload {
        Payload(s.as_bytes().to_vec())
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => self.0.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Payload, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Payload;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a payload: a string, or an array of byte values")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
                Ok(Payload(v.as_bytes().to_vec()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Payload, E> {
                Ok(Payload(v.to_vec()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Payload, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    if out.len() > crate::consensus::tx::MAX_TX_BYTES {
                        return Err(de::Error::custom(format!(
                            "a payload of more than {} bytes",
                            crate::consensus::tx::MAX_TX_BYTES
                        )));
                    }
                    out.push(b);
                }
                Ok(Payload(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Our vote on a dispute: pinned to yes or no, or released to the avalanche again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// Pin to yes.
    Yes,
    /// Pin to no.
    No,
    /// Let the avalanche decide again.
    Release,
}

impl Vote {
    /// As the engine's override (`None` releases).
    pub fn pinned(self) -> Option<bool> {
        match self {
            Vote::Yes => Some(true),
            Vote::No => Some(false),
            Vote::Release => None,
        }
    }
}

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Submit transactions; each is accepted, known or refused (see [`Admission`]).
    Submit {
        /// Payloads.
        txs: Vec<Payload>,
    },
    /// Replace our position with exactly `txs` (and optionally a close time, Unix ms), signed
    /// as our next proposal. Only while proposing in the establish phase.
    Propose {
        /// The complete transaction set.
        txs: Vec<Payload>,
        /// Close time to propose; our current one when absent.
        #[serde(default)]
        close_time: Option<Time>,
    },
    /// Pin our vote on a dispute, or release it.
    Vote {
        /// The disputed transaction id.
        tx: TxId,
        /// yes, no or release.
        vote: Vote,
    },
    /// One dispute's votes and history.
    Dispute {
        /// The transaction id.
        tx: TxId,
    },
    /// One peer's position against ours.
    Peer {
        /// Its validator key.
        node: NodeId,
    },
    /// What the proposal composer starts from: our position and the candidates.
    Composer {},
    /// Refuse and drop a peer's connections (`blocked: true`), or allow it again and dial it
    /// back. The partition the demo's trouble key makes, for real nodes: cut links to
    /// rehearse a partition, or keep a misbehaving peer out by hand.
    Block {
        /// Its libp2p peer id (`peer_id` in its `cpeers status`).
        peer: String,
        /// True to block, false to allow again.
        blocked: bool,
    },
}

impl Request {
    /// Whether it changes the node's state (and so needs the admin token).
    pub fn changes_state(&self) -> bool {
        matches!(
            self,
            Request::Submit { .. }
                | Request::Propose { .. }
                | Request::Vote { .. }
                | Request::Block { .. }
        )
    }

    /// Its `cmd` name.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Submit { .. } => "submit",
            Request::Propose { .. } => "propose",
            Request::Vote { .. } => "vote",
            Request::Dispute { .. } => "dispute",
            Request::Peer { .. } => "peer",
            Request::Composer {} => "composer",
            Request::Block { .. } => "block",
        }
    }
}

/// A request with the id its reply carries back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// Chosen by the client; echoed in the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The request.
    #[serde(flatten)]
    pub request: Request,
}

/// Why a request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// Over [`MAX_REQUEST_BYTES`].
    #[error("request of {0} bytes is larger than the {MAX_REQUEST_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not JSON.
    #[error("request is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error(
        "a request is a JSON object with a \"cmd\" (submit, propose, vote, dispute, peer, composer, block)"
    )]
    NotAnObject,
    /// `id` is not a whole number.
    #[error("\"id\" must be a whole number from 0 to 2^64-1")]
    BadId,
    /// The object does not fit the command.
    #[error("{0}")]
    Invalid(String),
}

impl RequestError {
    /// A short name for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::TooLarge(_) => "too_large",
            RequestError::NotJson(_) => "not_json",
            RequestError::NotAnObject => "not_an_object",
            RequestError::BadId => "bad_id",
            RequestError::Invalid(_) => "invalid",
        }
    }
}

/// Reads one request.
pub fn decode(bytes: &[u8]) -> Result<Envelope, RequestError> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(RequestError::TooLarge(bytes.len()));
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| RequestError::NotJson(e.to_string()))?;
    let obj = value.as_object_mut().ok_or(RequestError::NotAnObject)?;
    let id = match obj.remove("id") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or(RequestError::BadId)?),
    };
    if !obj.contains_key("cmd") {
        return Err(RequestError::NotAnObject);
    }
    let request = Request::deserialize(value).map_err(|e| RequestError::Invalid(e.to_string()))?;
    Ok(Envelope { id, request })
}

/// A submitted transaction that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedTx {
    /// Its position in the request's `txs`.
    pub index: usize,
    /// Why, starting with a word scripts can match: `pool_full:` (retry later) or `invalid:`
    /// (never accepted as it is).
    pub reason: String,
}

/// What became of a submitted batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// New: now pending, proposed every round until a fully validated ledger holds them.
    pub accepted: usize,
    /// Already pending or already validated (also repeats within the batch).
    pub known: usize,
    /// Refused.
    pub refused: Vec<RefusedTx>,
    /// When some were refused for a full pool: seconds to wait before retrying them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl Admission {
    /// The HTTP status that goes with it: 503 when the pool was full, 400 when only invalid
    /// payloads were refused, else 200.
    pub fn status(&self) -> u16 {
        if self.retry_after_s.is_some() {
            503
        } else if !self.refused.is_empty() {
            400
        } else {
            200
        }
    }
}

/// The answer to a request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// To `submit`.
    Admission(Admission),
    /// To `propose` and `vote`: carried out.
    Done(String),
    /// To `dispute` (none when the round that had it is over).
    Dispute(Option<Box<DisputeDetail>>),
    /// To `peer` (none for an unknown validator).
    Peer(Option<Box<PeerDetail>>),
    /// To `composer`.
    Composer(Box<ComposerSeed>),
}

/// A reply: `status` as HTTP would say it (200 done, 400 bad request, 401 no or wrong token,
/// 409 not possible now, 503 node busy or pool full), and either a result or an error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id.
    #[serde(default)]
    pub id: Option<u64>,
    /// HTTP-style status.
    pub status: u16,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What came of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Answer>,
}

impl Reply {
    /// A successful reply.
    pub fn ok(id: Option<u64>, result: Answer) -> Reply {
        let status = match &result {
            Answer::Admission(a) => a.status(),
            _ => 200,
        };
        Reply {
            id,
            status,
            error: None,
            result: Some(result),
        }
    }

    /// A failed one.
    pub fn error(id: Option<u64>, status: u16, error: impl Into<String>) -> Reply {
        Reply {
            id,
            status,
            error: Some(error.into()),
            result: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_decode_with_their_id_and_bad_ones_say_why() {
        let e = decode(br#"{"id": 7, "cmd": "submit", "txs": ["a", [98, 255]]}"#).unwrap();
        assert_eq!(e.id, Some(7));
        assert_eq!(
            e.request,
            Request::Submit {
                txs: vec![Payload(b"a".to_vec()), Payload(vec![98, 255])]
            }
        );
        let tx = "ab".repeat(32);
        let e =
            decode(format!(r#"{{"cmd":"vote","tx":"{tx}","vote":"release"}}"#).as_bytes()).unwrap();
        assert_eq!(e.id, None);
        assert!(matches!(
            e.request,
            Request::Vote {
                vote: Vote::Release,
                ..
            }
        ));
        assert!(e.request.changes_state());
        assert!(
            !decode(br#"{"cmd":"composer"}"#)
                .unwrap()
                .request
                .changes_state()
        );
        for (input, says) in [
            (&b"nope"[..], "not JSON"),
            (b"[1]", "JSON object"),
            (br#"{"txs": []}"#, "JSON object"),
            (br#"{"cmd": "launch"}"#, "unknown variant `launch`"),
            (br#"{"cmd": "submit"}"#, "missing field `txs`"),
            (br#"{"cmd": "submit", "txs": [1.5]}"#, "expected a payload"),
            (br#"{"cmd": "vote", "tx": "zz", "vote": "yes"}"#, "hex"),
            (br#"{"id": -1, "cmd": "composer"}"#, "whole number"),
            (
                br#"{"cmd": "composer", "extra": 1}"#,
                "unknown field `extra`",
            ),
        ] {
            let err = decode(input).unwrap_err().to_string();
            assert!(err.contains(says), "{input:?}: {err}");
        }
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert_eq!(decode(&big), Err(RequestError::TooLarge(big.len())));
    }

    #[test]
    fn payloads_serialise_as_text_when_they_are_text() {
        let s = serde_json::to_string(&vec![Payload(b"hi".to_vec()), Payload(vec![0xff])]).unwrap();
        assert_eq!(s, r#"["hi",[255]]"#);
    }
}
