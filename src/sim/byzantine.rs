//! What a byzantine node sends instead of what its (honest) engine asked to send. The engine
//! inside stays honest; only its outgoing messages are rewritten and re-signed with its own key,
//! which is exactly what a malicious validator holding its key can do.

use std::sync::Arc;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::scenario::Behaviour;
use crate::consensus::engine::Message;
use crate::consensus::{Hash256, NodeKey};

/// Which direct neighbours a message goes to first (it then spreads by relays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fanout {
    /// Every neighbour.
    All,
    /// The first half of the neighbours (by delay, then index).
    FirstHalf,
    /// The other half.
    SecondHalf,
}

fn random_hash(rng: &mut ChaCha8Rng) -> Hash256 {
    let mut b = [0u8; 32];
    rng.fill(&mut b[..]);
    Hash256(b)
}

/// Rewrites `msg` as a node with `behaviour` would send it.
pub fn rewrite(
    behaviour: Behaviour,
    msg: &Message,
    key: &NodeKey,
    network_id: u32,
    rng: &mut ChaCha8Rng,
) -> Vec<(Message, Fanout)> {
    match (behaviour, msg) {
        (Behaviour::Silent, _) => vec![],
        (Behaviour::Equivocate, Message::Proposal(p)) => {
            let mut other = p.proposal.clone();
            other.position = random_hash(rng);
            let other = other.sign(key, network_id);
            vec![
                (msg.clone(), Fanout::FirstHalf),
                (Message::Proposal(Arc::new(other)), Fanout::SecondHalf),
            ]
        }
        (Behaviour::Equivocate, Message::Validation(v)) => {
            let mut other = v.validation.clone();
            other.ledger = random_hash(rng);
            let other = other.sign(key, network_id);
            vec![
                (msg.clone(), Fanout::FirstHalf),
                (Message::Validation(Arc::new(other)), Fanout::SecondHalf),
            ]
        }
        (Behaviour::RandomPosition, Message::Proposal(p)) => {
            let mut other = p.proposal.clone();
            other.position = random_hash(rng);
            vec![(
                Message::Proposal(Arc::new(other.sign(key, network_id))),
                Fanout::All,
            )]
        }
        (Behaviour::WrongLedger, Message::Proposal(p)) => {
            let mut other = p.proposal.clone();
            other.prev_ledger = random_hash(rng);
            vec![(
                Message::Proposal(Arc::new(other.sign(key, network_id))),
                Fanout::All,
            )]
        }
        (Behaviour::WrongLedger, Message::Validation(v)) => {
            let mut other = v.validation.clone();
            other.ledger = random_hash(rng);
            vec![(
                Message::Validation(Arc::new(other.sign(key, network_id))),
                Fanout::All,
            )]
        }
        _ => vec![(msg.clone(), Fanout::All)],
    }
}
