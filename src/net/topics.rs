//! Gossipsub topics. Each network id has its own set, so two networks never mix even when
//! their nodes share a LAN or a bootstrap node.

use libp2p::gossipsub::{IdentTopic, TopicHash};

/// What a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TopicKind {
    /// Signed proposals.
    Proposals,
    /// Signed validations.
    Validations,
    /// Transaction batches.
    Transactions,
}

impl TopicKind {
    /// All kinds.
    pub const ALL: [TopicKind; 3] = [
        TopicKind::Proposals,
        TopicKind::Validations,
        TopicKind::Transactions,
    ];

    /// Short name for counters.
    pub fn name(self) -> &'static str {
        match self {
            TopicKind::Proposals => "proposals",
            TopicKind::Validations => "validations",
            TopicKind::Transactions => "transactions",
        }
    }
}

/// The topics of one network.
#[derive(Debug, Clone)]
pub struct Topics {
    topics: [(TopicKind, IdentTopic); 3],
}

impl Topics {
    /// Topics for `network_id`: `/cpeers/<id>/<kind>/1`.
    pub fn new(network_id: u32) -> Topics {
        let t = |k: TopicKind| {
            (
                k,
                IdentTopic::new(format!("/cpeers/{network_id}/{}/1", k.name())),
            )
        };
        Topics {
            topics: [
                t(TopicKind::Proposals),
                t(TopicKind::Validations),
                t(TopicKind::Transactions),
            ],
        }
    }

    /// The topic for `kind`.
    pub fn topic(&self, kind: TopicKind) -> &IdentTopic {
        &self.topics[kind as usize].1
    }

    /// Which of our topics `hash` is.
    pub fn kind_of(&self, hash: &TopicHash) -> Option<TopicKind> {
        self.topics
            .iter()
            .find(|(_, t)| &t.hash() == hash)
            .map(|(k, _)| *k)
    }

    /// All topics.
    pub fn all(&self) -> impl Iterator<Item = &IdentTopic> {
        self.topics.iter().map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_never_share_topics() {
        let a = Topics::new(1);
        let b = Topics::new(2);
        for k in TopicKind::ALL {
            assert_ne!(a.topic(k).hash(), b.topic(k).hash());
            assert_eq!(a.kind_of(&a.topic(k).hash()), Some(k));
            assert_eq!(b.kind_of(&a.topic(k).hash()), None);
        }
    }
}
