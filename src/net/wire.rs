//! The wire format: how gossip and request-response messages become bytes, and back.
//!
//! Every message is one version byte ([`WIRE_VERSION`]) followed by a postcard body. The version
//! byte lets a later format be rolled out without old nodes misreading it: they refuse it as
//! [`WireError::UnknownVersion`], which is counted, instead of decoding garbage.
//!
//! Everything that arrives from the network is hostile until proven otherwise, so decoding:
//! - checks the byte length against the limit for its kind *before* decoding, so the work and
//!   memory a message costs are bounded by a size the transport already enforced;
//! - charges every transaction list against a per-message budget as soon as its length prefix
//!   is read, before a single element is built, because a decoded transaction takes dozens of
//!   times the memory and a hash of CPU for its two smallest encoded bytes;
//! - checks the remaining element counts after decoding;
//! - refuses trailing bytes and non-canonical encodings (postcard accepts over-long varints), so
//!   one message has exactly one encoding. Gossip de-duplicates by content, and a relay that
//!   could re-encode a message differently would get every copy verified again.
//!
//! Encoders refuse to produce what a decoder would refuse, so an honest node never sends a
//! message its peers penalise. Every [`WireError`] maps to a [`Refusal`] through
//! [`WireError::refusal`], so a bad message is counted like any other refused input.
//!
//! Signatures are not checked here: a decoded [`SignedProposal`] or [`SignedValidation`] still
//! has to be verified before it may enter the engine.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::consensus::engine::{KEEP_LEDGERS, Message};
use crate::consensus::hash::Hash256;
use crate::consensus::ledger::{Ledger, LedgerError, LedgerHeader};
use crate::consensus::proposal::SignedProposal;
use crate::consensus::refusal::Refusal;
use crate::consensus::tx::Tx;
use crate::consensus::txset::TxSet;
use crate::consensus::unl::{MAX_UNL_KEYS, SignedUnl};
use crate::consensus::validation::SignedValidation;

/// The format version every encoded message starts with. Bump it when the body changes shape.
pub const WIRE_VERSION: u8 = 1;

/// Largest gossip message, version byte included.
///
/// A full batch ([`MAX_TXS_PER_BATCH`] transactions of the largest size) encodes to about
/// 514 KiB, so 1 MiB leaves room without letting one message cost much to hold or relay.
/// Gossipsub's own limit (`max_transmit_size`, 64 KiB by default) must be raised to at least
/// this, plus its framing, or full batches will never leave the node.
pub const MAX_GOSSIP_BYTES: usize = 1 << 20;

/// Most transactions in one gossip batch.
///
/// Bounds the work one message asks of every node that receives it (hashing and pool checks
/// per transaction) and keeps a full batch of the largest transactions under
/// [`MAX_GOSSIP_BYTES`].
pub const MAX_TXS_PER_BATCH: usize = 512;

/// Most transactions in one response, over all its transaction lists.
///
/// A decoded transaction costs about 70 bytes of memory and a SHA-512 even when its encoding
/// is 2 bytes, so a byte limit alone would let a 16 MiB response cost over 500 MiB and 8
/// million hashes. 65 536 is far more than one ledger closed every few seconds needs, and
/// bounds a response to a few MiB beyond its own bytes.
pub const MAX_TXS_PER_RESPONSE: usize = 1 << 16;

/// Largest request, version byte included.
///
/// Requests have a fixed shape (a hash and two numbers, 44 bytes at most), so anything much
/// larger is not a request and is refused before any decoding.
pub const MAX_REQUEST_BYTES: usize = 128;

/// Largest response, version byte included.
///
/// A response carries whole transaction sets and ledgers, so it is much larger than gossip, but
/// it is only ever an answer we asked for, one at a time per peer. 16 MiB holds a transaction
/// set of about 16 000 of the largest transactions; a node whose sets grow beyond that cannot
/// serve them, so its pending pool should stay below that size.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// Most ledgers in one response, and most a request may ask for.
///
/// Peers keep [`KEEP_LEDGERS`] ledgers below their fully validated one, so a longer answer
/// could not be given anyway; a node further behind asks again from where the answer ended.
pub const MAX_LEDGERS_PER_RESPONSE: usize = KEEP_LEDGERS as usize;

/// A message broadcast to every peer over gossip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gossip {
    /// A validator's signed position.
    Proposal(SignedProposal),
    /// A validator's signed validation.
    Validation(SignedValidation),
    /// A batch of transactions (at most [`MAX_TXS_PER_BATCH`]).
    Txs(#[serde(deserialize_with = "budgeted_txs")] Vec<Tx>),
    /// A validator's signed UNL (for the fork-safety overlap check).
    Unl(SignedUnl),
}

impl Gossip {
    /// What the engine asks to broadcast, as gossip messages that fit the limits. The engine
    /// batches transactions without a limit (an operator may submit thousands at once), so a
    /// large batch becomes several messages; an empty one becomes none.
    pub fn from_message(msg: &Message) -> Vec<Gossip> {
        match msg {
            Message::Proposal(p) => vec![Gossip::Proposal(SignedProposal::clone(p))],
            Message::Validation(v) => vec![Gossip::Validation(SignedValidation::clone(v))],
            Message::Txs(txs) => txs
                .chunks(MAX_TXS_PER_BATCH)
                .map(|batch| Gossip::Txs(batch.to_vec()))
                .collect(),
            Message::Unl(u) => vec![Gossip::Unl(SignedUnl::clone(u))],
        }
    }
}

/// A question to one peer (request-response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// The transaction set with this id (what a proposal's position names).
    TxSet(Hash256),
    /// The ledger `hash` and its ancestors, newest first, down to (excluding) sequence
    /// `back_to`, at most `max` of them (as the engine's `Output::AcquireLedger` asks).
    Ledgers {
        /// The newest ledger wanted.
        hash: Hash256,
        /// Lowest sequence still wanted, exclusive.
        back_to: u32,
        /// Most ledgers wanted (at most [`MAX_LEDGERS_PER_RESPONSE`]).
        max: u32,
    },
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The set's transactions, or `None` when the peer does not have it. The receiver must
    /// check that they hash to the id it asked for.
    TxSet(#[serde(deserialize_with = "budgeted_opt_txs")] Option<Vec<Tx>>),
    /// The ledgers the peer has, newest first; empty when it has none of them.
    Ledgers(Vec<WireLedger>),
}

impl Response {
    /// A [`Response::Ledgers`] holding as many of `ledgers` (in the order given) as fit in
    /// [`MAX_LEDGERS_PER_RESPONSE`], [`MAX_TXS_PER_RESPONSE`] and [`MAX_RESPONSE_BYTES`], so a
    /// responder never builds an answer the encoder would refuse. The requester asks again for
    /// what was left out.
    pub fn ledgers_within_limits<'a>(ledgers: impl IntoIterator<Item = &'a Ledger>) -> Response {
        // Version byte, variant tag and the count's varint (at most 2 bytes for 256).
        let mut bytes = 1 + 1 + 2;
        let mut txs = 0;
        let mut out = Vec::new();
        for ledger in ledgers.into_iter().take(MAX_LEDGERS_PER_RESPONSE) {
            let wire = WireLedger::from_ledger(ledger);
            let Ok(size) = body_size(&wire) else { break };
            if bytes + size > MAX_RESPONSE_BYTES || txs + wire.txs.len() > MAX_TXS_PER_RESPONSE {
                break;
            }
            bytes += size;
            txs += wire.txs.len();
            out.push(wire);
        }
        Response::Ledgers(out)
    }
}

/// A ledger as it travels: the header and the transactions it applied.
///
/// The hash is not sent: the receiver computes it from the header, so it cannot be lied about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireLedger {
    /// The hashed fields.
    pub header: LedgerHeader,
    /// The transactions, which must hash to `header.tx_set`.
    #[serde(deserialize_with = "budgeted_txs")]
    pub txs: Vec<Tx>,
}

impl WireLedger {
    /// The wire form of `ledger`.
    pub fn from_ledger(ledger: &Ledger) -> WireLedger {
        WireLedger {
            header: ledger.header().clone(),
            txs: ledger.txs().iter().cloned().collect(),
        }
    }

    /// The ledger, after checking that the transactions are the ones the header names
    /// ([`WireError::BadLedger`] otherwise).
    pub fn into_ledger(self) -> Result<Arc<Ledger>, WireError> {
        let txs = Arc::new(TxSet::new(self.txs));
        Ok(Arc::new(Ledger::from_parts(self.header, txs)?))
    }
}

impl TryFrom<WireLedger> for Arc<Ledger> {
    type Error = WireError;
    fn try_from(w: WireLedger) -> Result<Arc<Ledger>, WireError> {
        w.into_ledger()
    }
}

/// Why bytes are not a message we take.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// No bytes at all (not even a version byte).
    #[error("empty message")]
    Empty,
    /// A format this node does not speak (from a newer or foreign node).
    #[error("unknown wire version {0} (this node speaks version {WIRE_VERSION})")]
    UnknownVersion(u8),
    /// Longer than the limit for its kind.
    #[error("message is {len} bytes, more than the {max}-byte limit")]
    Oversized {
        /// Length of the message, version byte included.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More elements than the limit for their kind.
    #[error("{count} {what}, more than the limit of {max}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many there were.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes that do not decode to a message, or not in its one canonical encoding.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A ledger whose transactions are not the ones its header names.
    #[error("bad ledger: {0}")]
    BadLedger(#[from] LedgerError),
}

impl WireError {
    /// The refusal to count this under (and to feed to the engine as `Input::Refused`).
    pub fn refusal(&self) -> Refusal {
        match self {
            WireError::Empty | WireError::UnknownVersion(_) | WireError::Malformed(_) => {
                Refusal::Malformed
            }
            WireError::Oversized { .. } | WireError::TooMany { .. } => Refusal::Oversized,
            WireError::BadLedger(_) => Refusal::BadLedger,
        }
    }
}

/// Encodes a gossip message, refusing one over [`MAX_TXS_PER_BATCH`] or [`MAX_GOSSIP_BYTES`].
pub fn encode_gossip(msg: &Gossip) -> Result<Vec<u8>, WireError> {
    check_gossip(msg)?;
    encode(msg, MAX_GOSSIP_BYTES)
}

/// Decodes a gossip message (see the module doc for what is checked).
pub fn decode_gossip(bytes: &[u8]) -> Result<Gossip, WireError> {
    decode(bytes, &GOSSIP, check_gossip)
}

/// Encodes a request, refusing one that asks for more than [`MAX_LEDGERS_PER_RESPONSE`].
pub fn encode_request(req: &Request) -> Result<Vec<u8>, WireError> {
    check_request(req)?;
    encode(req, MAX_REQUEST_BYTES)
}

/// Decodes a request.
pub fn decode_request(bytes: &[u8]) -> Result<Request, WireError> {
    decode(bytes, &REQUEST, check_request)
}

/// Encodes a response, refusing one over [`MAX_LEDGERS_PER_RESPONSE`] or
/// [`MAX_RESPONSE_BYTES`] (see [`Response::ledgers_within_limits`] to build one that fits).
pub fn encode_response(resp: &Response) -> Result<Vec<u8>, WireError> {
    check_response(resp)?;
    encode(resp, MAX_RESPONSE_BYTES)
}

/// Decodes a response. Ledgers still have to be checked with [`WireLedger::into_ledger`].
pub fn decode_response(bytes: &[u8]) -> Result<Response, WireError> {
    decode(bytes, &RESPONSE, check_response)
}

/// The limits of one kind of message.
struct Limits {
    max_bytes: usize,
    max_txs: usize,
    txs_what: &'static str,
}

const GOSSIP: Limits = Limits {
    max_bytes: MAX_GOSSIP_BYTES,
    max_txs: MAX_TXS_PER_BATCH,
    txs_what: TXS_IN_BATCH,
};
const REQUEST: Limits = Limits {
    max_bytes: MAX_REQUEST_BYTES,
    max_txs: 0,
    txs_what: "transactions in a request",
};
const RESPONSE: Limits = Limits {
    max_bytes: MAX_RESPONSE_BYTES,
    max_txs: MAX_TXS_PER_RESPONSE,
    txs_what: TXS_IN_RESPONSE,
};
const TXS_IN_BATCH: &str = "transactions in a batch";
const TXS_IN_RESPONSE: &str = "transactions in a response";

fn check_gossip(msg: &Gossip) -> Result<(), WireError> {
    match msg {
        Gossip::Txs(txs) => at_most(TXS_IN_BATCH, txs.len(), MAX_TXS_PER_BATCH),
        Gossip::Unl(u) => at_most("UNL keys", u.announcement.unl.len(), MAX_UNL_KEYS),
        Gossip::Proposal(_) | Gossip::Validation(_) => Ok(()),
    }
}

fn check_request(req: &Request) -> Result<(), WireError> {
    match req {
        Request::Ledgers { max, .. } => at_most(
            "ledgers requested",
            usize::try_from(*max).unwrap_or(usize::MAX),
            MAX_LEDGERS_PER_RESPONSE,
        ),
        Request::TxSet(_) => Ok(()),
    }
}

fn check_response(resp: &Response) -> Result<(), WireError> {
    let txs = match resp {
        Response::Ledgers(ls) => {
            at_most("ledgers in a response", ls.len(), MAX_LEDGERS_PER_RESPONSE)?;
            ls.iter().map(|l| l.txs.len()).sum()
        }
        Response::TxSet(txs) => txs.as_ref().map_or(0, Vec::len),
    };
    at_most(TXS_IN_RESPONSE, txs, MAX_TXS_PER_RESPONSE)
}

fn at_most(what: &'static str, count: usize, max: usize) -> Result<(), WireError> {
    if count > max {
        return Err(WireError::TooMany { what, count, max });
    }
    Ok(())
}

/// Postcard size of `value` without building it.
fn body_size<T: Serialize>(value: &T) -> Result<usize, WireError> {
    postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default())
        .map_err(|e| WireError::Malformed(format!("cannot encode: {e}")))
}

fn encode<T: Serialize>(value: &T, max: usize) -> Result<Vec<u8>, WireError> {
    let len = 1 + body_size(value)?;
    if len > max {
        return Err(WireError::Oversized { len, max });
    }
    let mut out = Vec::with_capacity(len);
    out.push(WIRE_VERSION);
    postcard::to_extend(value, out).map_err(|e| WireError::Malformed(format!("cannot encode: {e}")))
}

fn decode<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    limits: &Limits,
    check: fn(&T) -> Result<(), WireError>,
) -> Result<T, WireError> {
    let Some((&version, body)) = bytes.split_first() else {
        return Err(WireError::Empty);
    };
    if bytes.len() > limits.max_bytes {
        return Err(WireError::Oversized {
            len: bytes.len(),
            max: limits.max_bytes,
        });
    }
    if version != WIRE_VERSION {
        return Err(WireError::UnknownVersion(version));
    }
    let budget = TxBudget::start(limits.max_txs);
    let decoded = postcard::take_from_bytes::<T>(body);
    let over = budget.exceeded();
    drop(budget);
    let (value, rest) = decoded.map_err(|e| match over {
        Some(count) => WireError::TooMany {
            what: limits.txs_what,
            count,
            max: limits.max_txs,
        },
        None => WireError::Malformed(e.to_string()),
    })?;
    if !rest.is_empty() {
        return Err(WireError::Malformed(format!(
            "{} trailing bytes",
            rest.len()
        )));
    }
    check(&value)?;
    if !encodes_to(&value, body) {
        return Err(WireError::Malformed("non-canonical encoding".into()));
    }
    Ok(value)
}

thread_local! {
    /// Transactions the message being decoded on this thread has used and may use, while
    /// [`decode`] runs (serde gives a field's deserializer no other way to reach its caller).
    static TX_BUDGET: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    /// How many transactions the message claimed when it ran over its budget.
    static TX_OVER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The transaction budget of one [`decode`] on this thread; ends when dropped.
struct TxBudget;

impl TxBudget {
    fn start(max: usize) -> TxBudget {
        TX_BUDGET.set(Some((0, max)));
        TX_OVER.set(None);
        TxBudget
    }

    /// The claimed count, if the message ran over its budget.
    fn exceeded(&self) -> Option<usize> {
        TX_OVER.get()
    }

    /// Takes `n` transactions from the budget (no limit outside [`decode`], e.g. for JSON).
    fn charge(n: usize) -> Result<(), usize> {
        let Some((used, max)) = TX_BUDGET.get() else {
            return Ok(());
        };
        let total = used.saturating_add(n);
        if total > max {
            TX_OVER.set(Some(total));
            return Err(total);
        }
        TX_BUDGET.set(Some((total, max)));
        Ok(())
    }
}

impl Drop for TxBudget {
    fn drop(&mut self) {
        TX_BUDGET.set(None);
    }
}

/// A transaction list whose length is charged to the budget before any element is built.
struct BudgetedTxs(Vec<Tx>);

impl<'de> Deserialize<'de> for BudgetedTxs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<BudgetedTxs, D::Error> {
        struct TxsVisitor;
        impl<'de> Visitor<'de> for TxsVisitor {
            type Value = BudgetedTxs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of transactions")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BudgetedTxs, A::Error> {
                let over =
                    |n| serde::de::Error::custom(format!("{n} transactions, over the limit"));
                let claimed = seq.size_hint().unwrap_or(0);
                TxBudget::charge(claimed).map_err(over)?;
                // The claim is within budget but not yet backed by bytes: grow as they arrive.
                let mut txs = Vec::with_capacity(claimed.min(1024));
                while let Some(tx) = seq.next_element()? {
                    if txs.len() >= claimed {
                        TxBudget::charge(1).map_err(over)?;
                    }
                    txs.push(tx);
                }
                Ok(BudgetedTxs(txs))
            }
        }
        d.deserialize_seq(TxsVisitor)
    }
}

fn budgeted_txs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Tx>, D::Error> {
    BudgetedTxs::deserialize(d).map(|b| b.0)
}

fn budgeted_opt_txs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Tx>>, D::Error> {
    Option::<BudgetedTxs>::deserialize(d).map(|o| o.map(|b| b.0))
}

/// Whether `value` encodes to exactly `expected`, compared as it is serialised (no buffer).
fn encodes_to<T: Serialize>(value: &T, expected: &[u8]) -> bool {
    postcard::serialize_with_flavor(value, Compare { expected, pos: 0 }).unwrap_or(false)
}

/// A postcard output that compares instead of storing, failing at the first differing byte.
struct Compare<'a> {
    expected: &'a [u8],
    pos: usize,
}

impl postcard::ser_flavors::Flavor for Compare<'_> {
    type Output = bool;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        let end = self.pos + data.len();
        if self.expected.get(self.pos..end) != Some(data) {
            return Err(postcard::Error::SerializeBufferFull);
        }
        self.pos = end;
        Ok(())
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn finalize(self) -> postcard::Result<bool> {
        Ok(self.pos == self.expected.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::consensus::keys::{NodeId, NodeKey, Sig};
    use crate::consensus::params::ConsensusParams;
    use crate::consensus::proposal::Proposal;
    use crate::consensus::time::Time;
    use crate::consensus::tx::MAX_TX_BYTES;
    use crate::consensus::validation::Validation;

    fn tx(s: &str) -> Tx {
        Tx::new(s).unwrap()
    }

    fn proposal() -> SignedProposal {
        let key = NodeKey::from_secret([1; 32]);
        Proposal {
            prev_ledger: Hash256::of(&[b"prev"]),
            position: Hash256::of(&[b"pos"]),
            close_time: Time(-5),
            seq: u32::MAX,
            node: key.id(),
        }
        .sign(&key, 7)
    }

    fn validation() -> SignedValidation {
        let key = NodeKey::from_secret([2; 32]);
        Validation {
            ledger: Hash256::of(&[b"l"]),
            seq: 42,
            tx_set: Hash256::of(&[b"s"]),
            full: true,
            sign_time: Time(1_700_000_000_000),
            node: key.id(),
        }
        .sign(&key, 7)
    }

    fn chain(n: usize) -> Vec<Arc<Ledger>> {
        let mut out = vec![Arc::new(Ledger::genesis(&ConsensusParams::mainnet()))];
        for i in 1..n {
            let txs = TxSet::new((0..i).map(|j| tx(&format!("tx-{i}-{j}")))).shared();
            let next = Ledger::next(
                &out[i - 1],
                txs,
                Time(i as i64 * 10_000),
                i % 2 == 0,
                10_000,
            );
            out.push(Arc::new(next));
        }
        out
    }

    fn gossip_samples() -> Vec<Gossip> {
        vec![
            Gossip::Proposal(proposal()),
            Gossip::Validation(validation()),
            Gossip::Txs(vec![]),
            Gossip::Txs(vec![
                tx("a"),
                tx("b"),
                Tx::new(vec![0xff; MAX_TX_BYTES]).unwrap(),
            ]),
        ]
    }

    fn request_samples() -> Vec<Request> {
        vec![
            Request::TxSet(Hash256::of(&[b"set"])),
            Request::Ledgers {
                hash: Hash256([0xff; 32]),
                back_to: u32::MAX,
                max: MAX_LEDGERS_PER_RESPONSE as u32,
            },
        ]
    }

    fn response_samples() -> Vec<Response> {
        let ledgers = chain(4);
        vec![
            Response::TxSet(None),
            Response::TxSet(Some(vec![])),
            Response::TxSet(Some(vec![tx("x"), tx("y")])),
            Response::Ledgers(vec![]),
            Response::Ledgers(
                ledgers
                    .iter()
                    .rev()
                    .map(|l| WireLedger::from_ledger(l))
                    .collect(),
            ),
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        for g in gossip_samples() {
            let bytes = encode_gossip(&g).unwrap();
            assert_eq!(bytes[0], WIRE_VERSION);
            assert_eq!(decode_gossip(&bytes).unwrap(), g);
        }
        for r in request_samples() {
            let bytes = encode_request(&r).unwrap();
            assert!(bytes.len() <= 44, "request is {} bytes", bytes.len());
            assert_eq!(decode_request(&bytes).unwrap(), r);
        }
        for r in response_samples() {
            assert_eq!(decode_response(&encode_response(&r).unwrap()).unwrap(), r);
        }
    }

    #[test]
    fn decoded_ledgers_are_the_same_ledgers() {
        let ledgers = chain(5);
        let resp = Response::ledgers_within_limits(ledgers.iter().rev().map(|l| &**l));
        let Response::Ledgers(wire) = decode_response(&encode_response(&resp).unwrap()).unwrap()
        else {
            panic!("not ledgers");
        };
        let back: Vec<Arc<Ledger>> = wire.into_iter().map(|w| w.into_ledger().unwrap()).collect();
        let expected: Vec<Arc<Ledger>> = ledgers.into_iter().rev().collect();
        assert_eq!(back, expected);
    }

    #[test]
    fn a_ledger_whose_txs_do_not_match_its_header_is_bad() {
        let l = &chain(3)[2];
        let mut w = WireLedger::from_ledger(l);
        w.txs.pop();
        let err = Arc::<Ledger>::try_from(w).unwrap_err();
        assert!(matches!(
            err,
            WireError::BadLedger(LedgerError::TxSetMismatch { seq: 2, .. })
        ));
        assert_eq!(err.refusal(), Refusal::BadLedger);
    }

    #[test]
    fn engine_messages_become_gossip_that_fits() {
        assert_eq!(
            Gossip::from_message(&Message::Proposal(Arc::new(proposal()))),
            vec![Gossip::Proposal(proposal())]
        );
        assert_eq!(
            Gossip::from_message(&Message::Validation(Arc::new(validation()))),
            vec![Gossip::Validation(validation())]
        );
        assert!(Gossip::from_message(&Message::Txs(Arc::new(vec![]))).is_empty());
        let txs: Vec<Tx> = (0..2 * MAX_TXS_PER_BATCH + 1)
            .map(|i| tx(&i.to_string()))
            .collect();
        let batches = Gossip::from_message(&Message::Txs(Arc::new(txs.clone())));
        assert_eq!(batches.len(), 3);
        let mut back = Vec::new();
        for g in &batches {
            let Gossip::Txs(batch) = decode_gossip(&encode_gossip(g).unwrap()).unwrap() else {
                panic!("not transactions");
            };
            back.extend(batch);
        }
        assert_eq!(back, txs);
    }

    #[test]
    fn empty_unknown_version_and_oversized_are_refused_before_decoding() {
        assert_eq!(decode_gossip(&[]), Err(WireError::Empty));
        assert_eq!(decode_request(&[]), Err(WireError::Empty));
        assert_eq!(decode_response(&[]), Err(WireError::Empty));

        let mut bytes = encode_gossip(&Gossip::Txs(vec![tx("a")])).unwrap();
        for v in [0, 2, 255] {
            bytes[0] = v;
            assert_eq!(decode_gossip(&bytes), Err(WireError::UnknownVersion(v)));
        }

        let big = vec![WIRE_VERSION; MAX_GOSSIP_BYTES + 1];
        assert_eq!(
            decode_gossip(&big),
            Err(WireError::Oversized {
                len: MAX_GOSSIP_BYTES + 1,
                max: MAX_GOSSIP_BYTES
            })
        );
        let big = vec![WIRE_VERSION; MAX_REQUEST_BYTES + 1];
        assert!(matches!(
            decode_request(&big),
            Err(WireError::Oversized { .. })
        ));
        let big = vec![WIRE_VERSION; MAX_RESPONSE_BYTES + 1];
        assert!(matches!(
            decode_response(&big),
            Err(WireError::Oversized { .. })
        ));
    }

    #[test]
    fn a_full_batch_of_the_largest_txs_fits_in_one_gossip_message() {
        let txs: Vec<Tx> = (0..MAX_TXS_PER_BATCH)
            .map(|i| {
                let mut p = vec![0u8; MAX_TX_BYTES];
                p[..8].copy_from_slice(&(i as u64).to_be_bytes());
                Tx::new(p).unwrap()
            })
            .collect();
        let g = Gossip::Txs(txs);
        let bytes = encode_gossip(&g).unwrap();
        assert!(bytes.len() <= MAX_GOSSIP_BYTES);
        assert_eq!(decode_gossip(&bytes).unwrap(), g);
    }

    #[test]
    fn too_many_elements_are_refused_both_ways() {
        let txs: Vec<Tx> = (0..=MAX_TXS_PER_BATCH)
            .map(|i| tx(&i.to_string()))
            .collect();
        let over = Gossip::Txs(txs);
        let expected = WireError::TooMany {
            what: "transactions in a batch",
            count: MAX_TXS_PER_BATCH + 1,
            max: MAX_TXS_PER_BATCH,
        };
        assert_eq!(encode_gossip(&over), Err(expected.clone()));
        assert_eq!(decode_gossip(&raw(&over)), Err(expected));

        let req = Request::Ledgers {
            hash: Hash256::ZERO,
            back_to: 0,
            max: MAX_LEDGERS_PER_RESPONSE as u32 + 1,
        };
        assert!(matches!(
            encode_request(&req),
            Err(WireError::TooMany { .. })
        ));
        assert!(matches!(
            decode_request(&raw(&req)),
            Err(WireError::TooMany { .. })
        ));

        let one = WireLedger::from_ledger(&chain(1)[0]);
        let resp = Response::Ledgers(vec![one; MAX_LEDGERS_PER_RESPONSE + 1]);
        let err = encode_response(&resp).unwrap_err();
        assert!(matches!(err, WireError::TooMany { count: 257, .. }));
        assert_eq!(err.refusal(), Refusal::Oversized);
        assert_eq!(decode_response(&raw(&resp)), Err(err));
    }

    #[test]
    fn tx_counts_are_refused_from_the_length_prefix_before_any_tx_is_built() {
        // A batch claiming one transaction too many, followed by bytes that are no valid
        // transaction (a zero length is an empty payload, which `Tx` refuses): refused as too
        // many, not as malformed, so the claim was judged before any element was read.
        // (Postcard itself ignores claims the remaining bytes cannot back; those are charged
        // one element at a time.)
        let claim = |prefix: &[u8], n: usize| {
            let mut b = vec![WIRE_VERSION];
            b.extend_from_slice(prefix);
            b.extend(postcard::to_stdvec(&n).unwrap());
            b.extend(std::iter::repeat_n(0u8, n));
            b
        };
        assert_eq!(
            decode_gossip(&claim(&[2], MAX_TXS_PER_BATCH + 1)),
            Err(WireError::TooMany {
                what: "transactions in a batch",
                count: MAX_TXS_PER_BATCH + 1,
                max: MAX_TXS_PER_BATCH,
            })
        );
        assert!(matches!(
            decode_gossip(&claim(&[2], MAX_TXS_PER_BATCH)),
            Err(WireError::Malformed(_))
        ));
        // A claim the bytes cannot back is charged element by element as they decode.
        let mut b = vec![WIRE_VERSION, 2];
        b.extend(postcard::to_stdvec(&(4 * MAX_TXS_PER_BATCH)).unwrap());
        for i in 0..=MAX_TXS_PER_BATCH {
            b.extend([1, i as u8]);
        }
        assert_eq!(
            decode_gossip(&b),
            Err(WireError::TooMany {
                what: "transactions in a batch",
                count: MAX_TXS_PER_BATCH + 1,
                max: MAX_TXS_PER_BATCH,
            })
        );
        let err = decode_response(&claim(&[0, 1], MAX_TXS_PER_RESPONSE + 1)).unwrap_err();
        assert!(matches!(
            err,
            WireError::TooMany {
                what: "transactions in a response",
                ..
            }
        ));
        assert!(matches!(
            decode_response(&claim(&[0, 1], MAX_TXS_PER_RESPONSE)),
            Err(WireError::Malformed(_))
        ));

        // The response budget covers all ledgers together.
        let tiny = |i: usize| Tx::new((i as u32).to_be_bytes().to_vec()).unwrap();
        let half = MAX_TXS_PER_RESPONSE / 2;
        let a = WireLedger {
            header: chain(1)[0].header().clone(),
            txs: (0..half).map(tiny).collect(),
        };
        let b = WireLedger {
            header: a.header.clone(),
            txs: (half..=MAX_TXS_PER_RESPONSE).map(tiny).collect(),
        };
        let resp = Response::Ledgers(vec![a.clone(), b]);
        let expected = WireError::TooMany {
            what: "transactions in a response",
            count: MAX_TXS_PER_RESPONSE + 1,
            max: MAX_TXS_PER_RESPONSE,
        };
        assert_eq!(encode_response(&resp), Err(expected.clone()));
        assert_eq!(decode_response(&raw(&resp)), Err(expected));
        let fits = Response::Ledgers(vec![a.clone(), a]);
        assert_eq!(
            decode_response(&encode_response(&fits).unwrap()).unwrap(),
            fits
        );

        // Outside a wire decode (JSON for a debug dump, say) there is no budget.
        let many = Gossip::Txs((0..MAX_TXS_PER_BATCH + 1).map(tiny).collect());
        let json = serde_json::to_string(&many).unwrap();
        assert_eq!(serde_json::from_str::<Gossip>(&json).unwrap(), many);
    }

    #[test]
    fn an_oversized_response_is_not_encoded_and_the_capped_builder_fits() {
        // One ledger holding more transaction bytes than a response may carry.
        let n = MAX_RESPONSE_BYTES / MAX_TX_BYTES + 1;
        let txs: Vec<Tx> = (0..n)
            .map(|i| {
                let mut p = vec![7u8; MAX_TX_BYTES];
                p[..8].copy_from_slice(&(i as u64).to_be_bytes());
                Tx::new(p).unwrap()
            })
            .collect();
        let resp = Response::TxSet(Some(txs.clone()));
        let err = encode_response(&resp).unwrap_err();
        assert!(matches!(
            err,
            WireError::Oversized {
                max: MAX_RESPONSE_BYTES,
                ..
            }
        ));
        assert_eq!(err.refusal(), Refusal::Oversized);

        let genesis = Ledger::genesis(&ConsensusParams::mainnet());
        let half = txs.len() / 2;
        let big_a = Ledger::next(
            &genesis,
            TxSet::new(txs[..half].to_vec()).shared(),
            Time(1),
            true,
            1,
        );
        let big_b = Ledger::next(
            &big_a,
            TxSet::new(txs[half..].to_vec()).shared(),
            Time(2),
            true,
            1,
        );
        let capped = Response::ledgers_within_limits([&big_b, &big_a, &genesis]);
        let Response::Ledgers(kept) = &capped else {
            panic!()
        };
        assert_eq!(kept.len(), 1, "only the first ledger fits");
        let bytes = encode_response(&capped).unwrap();
        assert!(bytes.len() <= MAX_RESPONSE_BYTES);

        // The count cap applies too.
        let many = chain(MAX_LEDGERS_PER_RESPONSE + 5);
        let capped = Response::ledgers_within_limits(many.iter().map(|l| &**l));
        let Response::Ledgers(kept) = &capped else {
            panic!()
        };
        assert_eq!(kept.len(), MAX_LEDGERS_PER_RESPONSE);
        assert!(encode_response(&capped).is_ok());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let good = encode_gossip(&Gossip::Txs(vec![tx("abc")])).unwrap();
        // Truncated.
        let err = decode_gossip(&good[..good.len() - 1]).unwrap_err();
        assert!(matches!(err, WireError::Malformed(_)), "{err:?}");
        assert_eq!(err.refusal(), Refusal::Malformed);
        // Trailing bytes.
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            decode_gossip(&long),
            Err(WireError::Malformed("1 trailing bytes".into()))
        );
        // Unknown variant tag.
        assert!(matches!(
            decode_gossip(&[WIRE_VERSION, 3]),
            Err(WireError::Malformed(_))
        ));
        // An empty transaction payload inside a batch: Tx refuses it.
        assert!(matches!(
            decode_gossip(&[WIRE_VERSION, 2, 1, 0]),
            Err(WireError::Malformed(_))
        ));
        // An over-long varint (0x80 0x00 is a second spelling of 0): same value, other bytes.
        assert_eq!(
            decode_gossip(&[WIRE_VERSION, 2, 0]),
            Ok(Gossip::Txs(vec![]))
        );
        assert_eq!(
            decode_gossip(&[WIRE_VERSION, 2, 0x80, 0x00]),
            Err(WireError::Malformed("non-canonical encoding".into()))
        );
        // A bool other than 0 or 1.
        let mut v = encode_gossip(&Gossip::Validation(validation())).unwrap();
        let full_at = 1 + 1 + 32 + 1 + 32; // version, tag, ledger, seq 42 (1-byte varint), tx_set
        assert_eq!(v[full_at], 1);
        v[full_at] = 2;
        assert!(matches!(decode_gossip(&v), Err(WireError::Malformed(_))));
    }

    #[test]
    fn every_error_maps_to_a_counted_refusal() {
        let cases = [
            (WireError::Empty, Refusal::Malformed),
            (WireError::UnknownVersion(9), Refusal::Malformed),
            (WireError::Malformed("x".into()), Refusal::Malformed),
            (WireError::Oversized { len: 2, max: 1 }, Refusal::Oversized),
            (
                WireError::TooMany {
                    what: "x",
                    count: 2,
                    max: 1,
                },
                Refusal::Oversized,
            ),
            (
                WireError::BadLedger(LedgerError::TxSetMismatch {
                    seq: 1,
                    expected: Hash256::ZERO,
                    actual: Hash256::ZERO,
                }),
                Refusal::BadLedger,
            ),
        ];
        for (err, refusal) in cases {
            assert_eq!(err.refusal(), refusal, "{err}");
            assert!(refusal.is_offense());
        }
    }

    #[test]
    fn huge_claimed_lengths_fail_fast() {
        // Counts and lengths claiming far more than the input holds: each fails at the end of
        // the input instead of allocating or looping for the claimed size.
        let max_varint = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for prefix in [&[2u8][..], &[2, 1], &[2, 1, 1, b'a'], &[2, 0x82, 0x04]] {
            let mut b = vec![WIRE_VERSION];
            b.extend_from_slice(prefix);
            b.extend_from_slice(&max_varint);
            inputs.push(b);
        }
        let start = Instant::now();
        for b in &inputs {
            assert!(
                matches!(decode_gossip(b), Err(WireError::Malformed(_))),
                "{b:?}"
            );
        }
        for prefix in [&[0u8, 1][..], &[1]] {
            let mut b = vec![WIRE_VERSION];
            b.extend_from_slice(prefix);
            b.extend_from_slice(&max_varint);
            assert!(decode_response(&b).is_err());
        }
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    /// Encodes without the limit checks, as a misbehaving peer would.
    fn raw<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = vec![WIRE_VERSION];
        out.extend(postcard::to_stdvec(value).unwrap());
        out
    }

    // ---- property tests ------------------------------------------------------------------

    fn arb_hash() -> impl Strategy<Value = Hash256> {
        any::<[u8; 32]>().prop_map(Hash256)
    }

    fn arb_sig() -> impl Strategy<Value = Sig> {
        (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
            let mut s = [0u8; 64];
            s[..32].copy_from_slice(&a);
            s[32..].copy_from_slice(&b);
            Sig(s)
        })
    }

    fn arb_tx() -> impl Strategy<Value = Tx> {
        vec(any::<u8>(), 1..48).prop_map(|p| Tx::new(p).unwrap())
    }

    fn arb_header() -> impl Strategy<Value = LedgerHeader> {
        (
            any::<u32>(),
            arb_hash(),
            arb_hash(),
            any::<i64>(),
            any::<bool>(),
            any::<i64>(),
        )
            .prop_map(|(seq, parent, tx_set, ct, agreed, res)| LedgerHeader {
                seq,
                parent,
                tx_set,
                close_time: Time(ct),
                close_time_agreed: agreed,
                close_resolution_ms: res,
            })
    }

    fn arb_gossip() -> impl Strategy<Value = Gossip> {
        prop_oneof![
            (
                arb_hash(),
                arb_hash(),
                any::<i64>(),
                any::<u32>(),
                any::<[u8; 32]>(),
                arb_sig()
            )
                .prop_map(|(prev, pos, ct, seq, node, signature)| {
                    Gossip::Proposal(SignedProposal {
                        proposal: Proposal {
                            prev_ledger: prev,
                            position: pos,
                            close_time: Time(ct),
                            seq,
                            node: NodeId(node),
                        },
                        signature,
                    })
                }),
            (
                arb_hash(),
                any::<u32>(),
                arb_hash(),
                any::<bool>(),
                any::<i64>(),
                any::<[u8; 32]>(),
                arb_sig()
            )
                .prop_map(|(ledger, seq, tx_set, full, t, node, signature)| {
                    Gossip::Validation(SignedValidation {
                        validation: Validation {
                            ledger,
                            seq,
                            tx_set,
                            full,
                            sign_time: Time(t),
                            node: NodeId(node),
                        },
                        signature,
                    })
                }),
            vec(arb_tx(), 0..8).prop_map(Gossip::Txs),
        ]
    }

    fn arb_request() -> impl Strategy<Value = Request> {
        prop_oneof![
            arb_hash().prop_map(Request::TxSet),
            (
                arb_hash(),
                any::<u32>(),
                0..=MAX_LEDGERS_PER_RESPONSE as u32
            )
                .prop_map(|(hash, back_to, max)| Request::Ledgers {
                    hash,
                    back_to,
                    max
                }),
        ]
    }

    fn arb_response() -> impl Strategy<Value = Response> {
        prop_oneof![
            proptest::option::of(vec(arb_tx(), 0..6)).prop_map(Response::TxSet),
            vec(
                (arb_header(), vec(arb_tx(), 0..4))
                    .prop_map(|(header, txs)| WireLedger { header, txs }),
                0..4
            )
            .prop_map(Response::Ledgers),
        ]
    }

    /// A change a faulty link or a hostile peer could make to a message.
    #[derive(Debug, Clone)]
    enum Mutation {
        Flip { at: usize, bit: u8 },
        Set { at: usize, byte: u8 },
        Truncate { at: usize },
        Extend(Vec<u8>),
        Insert { at: usize, byte: u8 },
        Remove { at: usize },
    }

    fn arb_mutations() -> impl Strategy<Value = Vec<Mutation>> {
        let one = prop_oneof![
            (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
            (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
            any::<usize>().prop_map(|at| Mutation::Truncate { at }),
            vec(any::<u8>(), 1..16).prop_map(Mutation::Extend),
            (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
            any::<usize>().prop_map(|at| Mutation::Remove { at }),
        ];
        vec(one, 1..4)
    }

    fn mutate(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
        for m in muts {
            let n = b.len();
            match m {
                Mutation::Flip { at, bit } if n > 0 => b[at % n] ^= 1 << bit,
                Mutation::Set { at, byte } if n > 0 => b[at % n] = *byte,
                Mutation::Truncate { at } => b.truncate(at % (n + 1)),
                Mutation::Extend(more) => b.extend_from_slice(more),
                Mutation::Insert { at, byte } => b.insert(at % (n + 1), *byte),
                Mutation::Remove { at } if n > 0 => {
                    b.remove(at % n);
                }
                _ => {}
            }
        }
        b
    }

    /// Random bytes, half of them starting with the right version byte so they reach postcard.
    fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
        (vec(any::<u8>(), 0..512), any::<bool>()).prop_map(|(mut b, versioned)| {
            if versioned && !b.is_empty() {
                b[0] = WIRE_VERSION;
            }
            b
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_messages_round_trip(g in arb_gossip(), q in arb_request(), r in arb_response()) {
            prop_assert_eq!(decode_gossip(&encode_gossip(&g).unwrap()).unwrap(), g);
            prop_assert_eq!(decode_request(&encode_request(&q).unwrap()).unwrap(), q);
            prop_assert_eq!(decode_response(&encode_response(&r).unwrap()).unwrap(), r);
        }

        #[test]
        fn random_bytes_never_panic_and_cost_time_bounded_by_length(b in arb_bytes()) {
            let start = Instant::now();
            let g = decode_gossip(&b);
            let q = decode_request(&b);
            let r = decode_response(&b);
            prop_assert!(start.elapsed() < Duration::from_millis(500));
            // Whatever decodes is canonical: it encodes back to exactly these bytes.
            if let Ok(g) = g { prop_assert_eq!(encode_gossip(&g).unwrap(), b.clone()); }
            if let Ok(q) = q { prop_assert_eq!(encode_request(&q).unwrap(), b.clone()); }
            if let Ok(r) = r { prop_assert_eq!(encode_response(&r).unwrap(), b.clone()); }
        }

        #[test]
        fn mutated_gossip_decodes_only_to_its_own_encoding(g in arb_gossip(), m in arb_mutations()) {
            let b = mutate(encode_gossip(&g).unwrap(), &m);
            if let Ok(back) = decode_gossip(&b) {
                prop_assert_eq!(encode_gossip(&back).unwrap(), b);
            }
        }

        #[test]
        fn mutated_requests_decode_only_to_their_own_encoding(q in arb_request(), m in arb_mutations()) {
            let b = mutate(encode_request(&q).unwrap(), &m);
            if let Ok(back) = decode_request(&b) {
                prop_assert_eq!(encode_request(&back).unwrap(), b);
            }
        }

        #[test]
        fn mutated_responses_decode_only_to_their_own_encoding(r in arb_response(), m in arb_mutations()) {
            let b = mutate(encode_response(&r).unwrap(), &m);
            if let Ok(back) = decode_response(&b) {
                for l in match &back { Response::Ledgers(ls) => ls.clone(), Response::TxSet(_) => vec![] } {
                    // Converting never panics, whatever the header says.
                    let _ = l.into_ledger();
                }
                prop_assert_eq!(encode_response(&back).unwrap(), b);
            }
        }
    }
}
