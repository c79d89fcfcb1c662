//! 256-bit content hashes (SHA-512 truncated to 256 bits, as rippled's `sha512Half`).
//!
//! Every hash is taken over a type prefix followed by the type's fields, so a transaction id can
//! never collide with a ledger hash or a signing digest even if their bytes happened to match.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha512};

/// A 256-bit hash. Ordered bytewise so maps keyed by it iterate deterministically.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash256(pub [u8; 32]);

impl Hash256 {
    /// The all-zero hash: "no ledger" / "no position", like rippled's `beast::zero`.
    pub const ZERO: Hash256 = Hash256([0; 32]);

    /// Hashes the concatenation of `parts` with SHA-512 and keeps the first half.
    pub fn of(parts: &[&[u8]]) -> Hash256 {
        let mut hasher = Sha512::new();
        for part in parts {
            hasher.update(part);
        }
        let full = hasher.finalize();
        let mut out = [0u8; 32];
        out.copy_from_slice(&full[..32]);
        Hash256(out)
    }

    /// Whether this is [`Hash256::ZERO`].
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }

    /// The first 8 hex digits: enough to tell positions apart on a dashboard.
    pub fn short(&self) -> String {
        hex(&self.0[..4])
    }

    /// Full lowercase hex.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Hash256> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in bytes.chunks(2).enumerate() {
            let hi = hex_value(chunk[0])?;
            let lo = hex_value(chunk[1])?;
            out[i] = (hi << 4) | lo;
        }
        Some(Hash256(out))
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Parses hex of any even length.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|c| Some((hex_value(c[0])? << 4) | hex_value(c[1])?))
        .collect()
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({})", self.short())
    }
}

impl Serialize for Hash256 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_hex())
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Hash256 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            struct HexVisitor;
            impl Visitor<'_> for HexVisitor {
                type Value = Hash256;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("64 hex digits")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Hash256, E> {
                    Hash256::from_hex(v).ok_or_else(|| E::custom("expected 64 hex digits"))
                }
            }
            deserializer.deserialize_str(HexVisitor)
        } else {
            <[u8; 32]>::deserialize(deserializer).map(Hash256)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let h = Hash256::of(&[b"abc"]);
        assert_eq!(Hash256::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash256::from_hex("zz"), None);
        assert_eq!(Hash256::from_hex(&"g".repeat(64)), None);
        assert_eq!(h.short().len(), 8);
    }

    #[test]
    fn prefixes_separate_domains() {
        assert_ne!(Hash256::of(&[b"TXN", b"x"]), Hash256::of(&[b"LGR", b"x"]));
        assert_eq!(Hash256::of(&[b"ab", b"c"]), Hash256::of(&[b"abc"]));
    }
}
