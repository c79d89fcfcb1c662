//! Why a message was not taken: one vocabulary shared by the engine, the wire decoder and the
//! dashboard, so every refusal is counted under a name an operator can read.

use std::fmt;

use serde::Serialize;

/// The reason a message was refused.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Exactly this message was already taken.
    Duplicate,
    /// Our own message came back to us.
    OwnMessage,
    /// The round has been accepted; positions for it no longer matter.
    AcceptedPhase,
    /// Not newer than the position we hold for that peer.
    StaleSeq,
    /// The peer bowed out of this round.
    BowedOut,
    /// Signed by a key outside our UNL: shown, never counted.
    Untrusted,
    /// The signer signed two different messages with the same sequence.
    Equivocation,
    /// The signature does not verify.
    BadSignature,
    /// The claimed public key is not a valid ed25519 key.
    BadKey,
    /// A validation signed too far from our clock to be current.
    StaleValidation,
    /// Older than the sender's latest validation and outside the kept window.
    OldValidation,
    /// A validation whose sequence is not above one the validator already sent (rippled
    /// `badSeq`).
    BadSeq,
    /// Bytes that do not decode.
    Malformed,
    /// Larger than the transport allows.
    Oversized,
    /// Signed for another network.
    WrongNetwork,
    /// A transaction set or ledger nobody asked for.
    Unrequested,
    /// A ledger whose transactions do not match its header.
    BadLedger,
    /// The pending pool is full.
    PoolFull,
    /// An operator command that does not apply now.
    NotApplicable,
    /// The sender exceeded its rate limit.
    RateLimited,
    /// A message already processed, sent again after gossip's duplicate window (a replay).
    Replay,
}

impl Refusal {
    /// Whether the sender did something wrong (gossip scoring should penalise it), as opposed
    /// to a message that is merely late, repeated or uninteresting.
    pub fn is_offense(self) -> bool {
        matches!(
            self,
            Refusal::Equivocation
                | Refusal::BadSignature
                | Refusal::BadKey
                | Refusal::Malformed
                | Refusal::Oversized
                | Refusal::WrongNetwork
                | Refusal::BadLedger
                | Refusal::RateLimited
                | Refusal::Replay
        )
    }

    /// Short snake_case name (as in metrics and tables).
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Duplicate => "duplicate",
            Refusal::OwnMessage => "own_message",
            Refusal::AcceptedPhase => "accepted_phase",
            Refusal::StaleSeq => "stale_seq",
            Refusal::BowedOut => "bowed_out",
            Refusal::Untrusted => "untrusted",
            Refusal::Equivocation => "equivocation",
            Refusal::BadSignature => "bad_signature",
            Refusal::BadKey => "bad_key",
            Refusal::StaleValidation => "stale_validation",
            Refusal::OldValidation => "old_validation",
            Refusal::BadSeq => "bad_seq",
            Refusal::Malformed => "malformed",
            Refusal::Oversized => "oversized",
            Refusal::WrongNetwork => "wrong_network",
            Refusal::Unrequested => "unrequested",
            Refusal::BadLedger => "bad_ledger",
            Refusal::PoolFull => "pool_full",
            Refusal::NotApplicable => "not_applicable",
            Refusal::RateLimited => "rate_limited",
            Refusal::Replay => "replay",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the engine made of one input: taken (relay it) or refused (and why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Taken; a gossip layer should forward it.
    Accepted,
    /// Not taken.
    Refused(Refusal),
}

impl Verdict {
    /// Whether the input was taken.
    pub fn is_accepted(self) -> bool {
        matches!(self, Verdict::Accepted)
    }
}
