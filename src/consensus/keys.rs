//! Validator identities: ed25519 keys, signatures, and a verifier that caches decoded keys.
//!
//! Signing and verifying live with the engine's data types so that the simulator signs exactly
//! what a real node signs. Verification happens *before* a message enters the engine
//! (see [`crate::consensus::proposal::SignedProposal::verify`]): the engine only accepts the
//! `Verified*` wrappers, so an unsigned or forged position can never be counted.

use std::collections::HashMap;
use std::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::hash::{Hash256, hex};

/// A validator's (or observer's) public key: the identity every proposal and validation names.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub [u8; 32]);

impl NodeId {
    /// The first 8 hex digits, as shown in tables.
    pub fn short(&self) -> String {
        hex(&self.0[..4])
    }

    /// Full lowercase hex (what UNL lists in config files hold).
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<NodeId> {
        Hash256::from_hex(s).map(|h| NodeId(h.0))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.short())
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Hash256(self.0).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Hash256::deserialize(deserializer).map(|h| NodeId(h.0))
    }
}

/// Hashes a [`NodeId`] by its first eight bytes: public keys are uniformly random, and only UNL
/// keys (chosen by the operator) ever key the maps that use this, so no attacker can grind
/// collisions. Map lookups by validator are on the hottest path of every round.
#[derive(Default, Clone, Copy)]
pub struct NodeIdHasher(u64);

impl std::hash::Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

/// A `HashMap` keyed by validator; iterate it only where order does not matter.
pub type NodeMap<V> = HashMap<NodeId, V, std::hash::BuildHasherDefault<NodeIdHasher>>;

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sig(pub [u8; 64]);

impl fmt::Debug for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sig({}..)", hex(&self.0[..4]))
    }
}

impl Serialize for Sig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&hex(&self.0))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Sig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SigVisitor;
        impl<'de> Visitor<'de> for SigVisitor {
            type Value = Sig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 64-byte ed25519 signature")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Sig, E> {
                let arr: [u8; 64] = v
                    .try_into()
                    .map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Sig(arr))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Sig, E> {
                let bytes = super::hash::parse_hex(v).ok_or_else(|| E::custom("bad hex"))?;
                self.visit_bytes(&bytes)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Sig, A::Error> {
                let mut out = [0u8; 64];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(Sig(out))
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(SigVisitor)
        } else {
            deserializer.deserialize_bytes(SigVisitor)
        }
    }
}

/// A signing key with its public identity. Never printed: `Debug` shows only the public key.
///
/// A *stand-in* ([`NodeKey::stand_in`]) carries only a public identity: replay uses one to run
/// the engine as the recorded validator without its secret. It signs nothing that verifies.
#[derive(Clone)]
pub struct NodeKey {
    /// `None` for a stand-in.
    signing: Option<SigningKey>,
    id: NodeId,
}

impl NodeKey {
    /// Builds a key from 32 secret bytes (a key file, or a seeded RNG in the simulator).
    pub fn from_secret(secret: [u8; 32]) -> NodeKey {
        let signing = SigningKey::from_bytes(&secret);
        let id = NodeId(signing.verifying_key().to_bytes());
        NodeKey {
            signing: Some(signing),
            id,
        }
    }

    /// A key that acts as `id` without its secret (for replaying a recording): an engine holding
    /// it behaves as that validator (proposes, validates, counts itself), but every signature it
    /// makes is all zeros, which no verifier accepts, and it has no secret to write to a file.
    pub fn stand_in(id: NodeId) -> NodeKey {
        NodeKey { signing: None, id }
    }

    /// Whether this is a stand-in (no secret; signatures are all zeros).
    pub fn is_stand_in(&self) -> bool {
        self.signing.is_none()
    }

    /// The 32 secret bytes, for writing a key file; `None` for a stand-in, so a stand-in can
    /// never be saved as a key.
    pub fn secret(&self) -> Option<[u8; 32]> {
        self.signing.as_ref().map(SigningKey::to_bytes)
    }

    /// The public identity.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Signs `msg`. A stand-in returns the all-zero signature, which never verifies (its `R` is
    /// a small-order point, which strict verification refuses whatever the key and message).
    pub fn sign(&self, msg: &[u8]) -> Sig {
        match &self.signing {
            Some(k) => Sig(k.sign(msg).to_bytes()),
            None => Sig([0; 64]),
        }
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_stand_in() {
            write!(f, "NodeKey({}, stand-in)", self.id.short())
        } else {
            write!(f, "NodeKey({})", self.id.short())
        }
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The 32 bytes are not a valid ed25519 point.
    #[error("public key is not a valid ed25519 key")]
    BadKey,
    /// The signature does not match the key and message.
    #[error("signature does not verify")]
    BadSignature,
}

/// Verifies signatures, caching decoded public keys (decompression costs as much as a verify).
#[derive(Default)]
pub struct Verifier {
    keys: HashMap<NodeId, VerifyingKey>,
}

/// The cache is cleared when it holds this many keys, so junk keys cannot grow it without bound.
const MAX_CACHED_KEYS: usize = 4096;

impl Verifier {
    /// An empty verifier.
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Checks that `sig` is `signer`'s strict ed25519 signature over `msg`.
    pub fn verify(&mut self, signer: &NodeId, msg: &[u8], sig: &Sig) -> Result<(), SignatureError> {
        let key = match self.keys.get(signer) {
            Some(k) => *k,
            None => {
                let k = VerifyingKey::from_bytes(&signer.0).map_err(|_| SignatureError::BadKey)?;
                if self.keys.len() >= MAX_CACHED_KEYS {
                    self.keys.clear();
                }
                self.keys.insert(*signer, k);
                k
            }
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        key.verify_strict(msg, &sig)
            .map_err(|_| SignatureError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_reject_tampering() {
        let key = NodeKey::from_secret([7; 32]);
        let sig = key.sign(b"hello");
        let mut v = Verifier::new();
        assert_eq!(v.verify(&key.id(), b"hello", &sig), Ok(()));
        assert_eq!(
            v.verify(&key.id(), b"hellO", &sig),
            Err(SignatureError::BadSignature)
        );
        let other = NodeKey::from_secret([8; 32]);
        assert_eq!(
            v.verify(&other.id(), b"hello", &sig),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = NodeKey::from_secret([9; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex(&key.secret().unwrap())));
        assert!(shown.contains(&key.id().short()));
    }

    #[test]
    fn stand_in_acts_as_the_id_but_signs_nothing_that_verifies() {
        let real = NodeKey::from_secret([9; 32]);
        let stand_in = NodeKey::stand_in(real.id());
        assert_eq!(stand_in.id(), real.id());
        assert!(stand_in.is_stand_in());
        assert!(!real.is_stand_in());
        assert_eq!(stand_in.secret(), None, "nothing to write to a key file");
        assert!(real.secret().is_some());
        assert!(format!("{stand_in:?}").contains("stand-in"));
        assert!(!format!("{real:?}").contains("stand-in"));
        let mut v = Verifier::new();
        for msg in [&b""[..], b"hello", &[0u8; 100]] {
            let sig = stand_in.sign(msg);
            assert_eq!(sig, Sig([0; 64]));
            assert_eq!(
                v.verify(&real.id(), msg, &sig),
                Err(SignatureError::BadSignature)
            );
        }
        // Not even under the small-order identity key.
        let identity = NodeId({
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        });
        assert!(v.verify(&identity, b"x", &Sig([0; 64])).is_err());
    }
}
