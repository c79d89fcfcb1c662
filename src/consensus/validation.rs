//! Validations: after accepting a ledger, a validator signs its hash. A ledger is fully
//! validated once enough of the UNL has signed it (or a descendant of it).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::hash::Hash256;
use super::keys::{NodeId, NodeKey, Sig, SignatureError, Verifier};
use super::ledger::Seq;
use super::time::Time;

/// The signed fields of a validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Hash of the validated ledger.
    pub ledger: Hash256,
    /// Its sequence.
    pub seq: Seq,
    /// The tx set it applied (lets observers tell "same txs, other close time" apart).
    pub tx_set: Hash256,
    /// Full (the validator proposed this round) or partial.
    pub full: bool,
    /// When it was signed (signer's clock).
    pub sign_time: Time,
    /// The validator.
    pub node: NodeId,
}

impl Validation {
    /// The bytes that are signed.
    pub fn signing_bytes(&self, network_id: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + 4 + 32 + 4 + 32 + 1 + 8);
        v.extend_from_slice(b"VAL\0");
        v.extend_from_slice(&network_id.to_be_bytes());
        v.extend_from_slice(&self.ledger.0);
        v.extend_from_slice(&self.seq.to_be_bytes());
        v.extend_from_slice(&self.tx_set.0);
        v.push(self.full as u8);
        v.extend_from_slice(&self.sign_time.ms().to_be_bytes());
        v
    }

    /// Signs with `key`.
    pub fn sign(self, key: &NodeKey, network_id: u32) -> SignedValidation {
        let signature = key.sign(&self.signing_bytes(network_id));
        SignedValidation {
            validation: self,
            signature,
        }
    }
}

/// A validation with its signature, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedValidation {
    /// The signed fields.
    pub validation: Validation,
    /// `validation.node`'s signature.
    pub signature: Sig,
}

impl SignedValidation {
    /// A content hash identifying this exact message.
    pub fn id(&self, network_id: u32) -> Hash256 {
        Hash256::of(&[
            &self.validation.signing_bytes(network_id),
            &self.validation.node.0,
            &self.signature.0,
        ])
    }

    /// Checks the signature; only a verified validation can enter the engine.
    pub fn verify(
        self,
        verifier: &mut Verifier,
        network_id: u32,
    ) -> Result<VerifiedValidation, SignatureError> {
        verifier.verify(
            &self.validation.node,
            &self.validation.signing_bytes(network_id),
            &self.signature,
        )?;
        Ok(VerifiedValidation(Arc::new(self)))
    }
}

/// A validation whose signature has been checked. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedValidation(Arc<SignedValidation>);

impl VerifiedValidation {
    /// The signed fields.
    pub fn validation(&self) -> &Validation {
        &self.0.validation
    }

    /// The whole signed message.
    pub fn signed(&self) -> &Arc<SignedValidation> {
        &self.0
    }

    /// Wraps a validation this node signed itself.
    pub(crate) fn own(signed: SignedValidation) -> VerifiedValidation {
        VerifiedValidation(Arc::new(signed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_refuses_alterations() {
        let key = NodeKey::from_secret([3; 32]);
        let v = Validation {
            ledger: Hash256::of(&[b"x"]),
            seq: 5,
            tx_set: Hash256::of(&[b"s"]),
            full: true,
            sign_time: Time(99),
            node: key.id(),
        };
        let mut ver = Verifier::new();
        let signed = v.clone().sign(&key, 1);
        assert!(signed.clone().verify(&mut ver, 1).is_ok());
        let mut bad = signed.clone();
        bad.validation.full = false;
        assert!(bad.verify(&mut ver, 1).is_err());
        let mut bad = signed.clone();
        bad.validation.seq = 6;
        assert!(bad.verify(&mut ver, 1).is_err());
        assert!(signed.verify(&mut ver, 2).is_err());
    }
}
