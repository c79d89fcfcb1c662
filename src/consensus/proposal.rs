//! Proposals: a validator's signed position (tx-set hash + close time) on top of a ledger.
//!
//! `seq` 0 is a validator's first position in a round; each change increments it; `u32::MAX`
//! means the validator bows out of the round. The signature covers every field and the network
//! id, so a proposal cannot be replayed on another network or altered by whoever relays it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::hash::Hash256;
use super::keys::{NodeId, NodeKey, Sig, SignatureError, Verifier};
use super::time::Time;

/// First position of a round.
pub const SEQ_JOIN: u32 = 0;
/// Bow out: the validator stops participating in this round.
pub const SEQ_LEAVE: u32 = u32::MAX;

/// The signed fields of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The ledger this position builds on.
    pub prev_ledger: Hash256,
    /// Id of the proposed transaction set.
    pub position: Hash256,
    /// Proposed close time (raw network time; receivers round it).
    pub close_time: Time,
    /// Position sequence within the round.
    pub seq: u32,
    /// The proposing validator.
    pub node: NodeId,
}

impl Proposal {
    /// Whether this is a bow-out.
    pub fn is_bow_out(&self) -> bool {
        self.seq == SEQ_LEAVE
    }

    /// Whether this is the validator's first position in the round.
    pub fn is_initial(&self) -> bool {
        self.seq == SEQ_JOIN
    }

    /// The bytes that are signed.
    pub fn signing_bytes(&self, network_id: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + 4 + 4 + 8 + 32 + 32);
        v.extend_from_slice(b"PRP\0");
        v.extend_from_slice(&network_id.to_be_bytes());
        v.extend_from_slice(&self.seq.to_be_bytes());
        v.extend_from_slice(&self.close_time.ms().to_be_bytes());
        v.extend_from_slice(&self.prev_ledger.0);
        v.extend_from_slice(&self.position.0);
        v
    }

    /// Signs with `key` (which must be `self.node`'s key to verify).
    pub fn sign(self, key: &NodeKey, network_id: u32) -> SignedProposal {
        let signature = key.sign(&self.signing_bytes(network_id));
        SignedProposal {
            proposal: self,
            signature,
        }
    }
}

/// A proposal with its signature, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedProposal {
    /// The signed fields.
    pub proposal: Proposal,
    /// `proposal.node`'s signature over [`Proposal::signing_bytes`].
    pub signature: Sig,
}

impl SignedProposal {
    /// A content hash identifying this exact message (for de-duplication).
    pub fn id(&self, network_id: u32) -> Hash256 {
        Hash256::of(&[
            &self.proposal.signing_bytes(network_id),
            &self.proposal.node.0,
            &self.signature.0,
        ])
    }

    /// Checks the signature; only a verified proposal can enter the engine.
    pub fn verify(
        self,
        verifier: &mut Verifier,
        network_id: u32,
    ) -> Result<VerifiedProposal, SignatureError> {
        verifier.verify(
            &self.proposal.node,
            &self.proposal.signing_bytes(network_id),
            &self.signature,
        )?;
        Ok(VerifiedProposal(Arc::new(self)))
    }
}

/// A proposal whose signature has been checked. Cheap to clone (shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProposal(Arc<SignedProposal>);

impl VerifiedProposal {
    /// The signed fields.
    pub fn proposal(&self) -> &Proposal {
        &self.0.proposal
    }

    /// The whole signed message (to relay or store).
    pub fn signed(&self) -> &Arc<SignedProposal> {
        &self.0
    }

    /// Wraps a proposal this node signed itself (no need to verify our own signature).
    pub(crate) fn own(signed: SignedProposal) -> VerifiedProposal {
        VerifiedProposal(Arc::new(signed))
    }

    /// Re-wraps a proposal read back from an engine checkpoint, *without* checking its
    /// signature again: it was verified before it entered the engine whose state was saved, and
    /// a checkpoint is our own CRC-protected file. Never use this for bytes from the network.
    pub(crate) fn restored(signed: SignedProposal) -> VerifiedProposal {
        VerifiedProposal(Arc::new(signed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &NodeKey) -> Proposal {
        Proposal {
            prev_ledger: Hash256::of(&[b"l"]),
            position: Hash256::of(&[b"p"]),
            close_time: Time(1234),
            seq: 3,
            node: key.id(),
        }
    }

    #[test]
    fn verify_accepts_genuine_and_refuses_altered_or_foreign() {
        let key = NodeKey::from_secret([1; 32]);
        let mut v = Verifier::new();
        let signed = sample(&key).sign(&key, 7);
        assert!(signed.clone().verify(&mut v, 7).is_ok());
        // Another network id: the signature does not carry over.
        assert_eq!(
            signed.clone().verify(&mut v, 8).unwrap_err(),
            SignatureError::BadSignature
        );
        // Any field changed by a relay breaks the signature.
        let mut altered = signed.clone();
        altered.proposal.seq = 4;
        assert!(altered.verify(&mut v, 7).is_err());
        let mut altered = signed.clone();
        altered.proposal.close_time = Time(1235);
        assert!(altered.verify(&mut v, 7).is_err());
        // Re-signed by another key but claiming the first node.
        let other = NodeKey::from_secret([2; 32]);
        let forged = sample(&key).sign(&other, 7);
        assert!(forged.verify(&mut v, 7).is_err());
    }

    #[test]
    fn ids_differ_per_message() {
        let key = NodeKey::from_secret([1; 32]);
        let a = sample(&key).sign(&key, 7);
        let mut p = sample(&key);
        p.seq = 4;
        let b = p.sign(&key, 7);
        assert_ne!(a.id(7), b.id(7));
        assert_eq!(a.id(7), a.clone().id(7));
    }
}
