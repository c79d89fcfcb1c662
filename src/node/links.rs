//! Connections: who we are connected to, at what latency, subscribed to what, and who to dial
//! again. A validator that restarts keeps its PeerId, so we remember every trusted peer's
//! addresses and redial it with backoff after it drops (libp2p will not).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use crate::consensus::NodeId;
use crate::contract::PeerLink;
use crate::net::identity::node_id_of;
use crate::net::topics::TopicKind;

/// One peer we are (or were) connected to.
#[derive(Debug, Clone)]
pub struct Link {
    /// Its validator key.
    pub node: Option<NodeId>,
    /// Address of the latest connection.
    pub addr: Multiaddr,
    /// Open connections.
    pub connections: u32,
    /// Latest ping round trip.
    pub rtt: Option<Duration>,
    /// Topics it subscribed to.
    pub topics: BTreeSet<TopicKind>,
    /// Agent version.
    pub agent: Option<String>,
    /// On our UNL.
    pub trusted: bool,
}

#[derive(Debug, Clone)]
struct Redial {
    addrs: Vec<Multiaddr>,
    next: Instant,
    backoff: Duration,
}

/// Connection bookkeeping.
#[derive(Debug, Default)]
pub struct Links {
    links: HashMap<PeerId, Link>,
    redial: HashMap<PeerId, Redial>,
    slow: HashMap<PeerId, (u32, Instant)>,
}

const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl Links {
    /// Remembers `addr` as a way to reach `peer` (bootstrap entries, identify, outbound dials).
    pub fn remember(&mut self, peer: PeerId, addr: Multiaddr) {
        let r = self.redial.entry(peer).or_insert_with(|| Redial {
            addrs: Vec::new(),
            next: Instant::now(),
            backoff: MIN_BACKOFF,
        });
        if !r.addrs.contains(&addr) {
            r.addrs.push(addr);
            if r.addrs.len() > 8 {
                r.addrs.remove(0);
            }
        }
    }

    /// The addresses we know for `peer` (to dial it back at once, e.g. after unblocking it).
    pub fn addresses(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.redial
            .get(peer)
            .map_or_else(Vec::new, |r| r.addrs.clone())
    }

    /// A connection opened. Returns true for the first connection to this peer.
    pub fn connected(
        &mut self,
        peer: PeerId,
        addr: Multiaddr,
        trusted: impl Fn(&NodeId) -> bool,
    ) -> bool {
        let node = node_id_of(&peer);
        let trusted = node.as_ref().is_some_and(trusted);
        let link = self.links.entry(peer).or_insert_with(|| Link {
            node,
            addr: addr.clone(),
            connections: 0,
            rtt: None,
            topics: BTreeSet::new(),
            agent: None,
            trusted,
        });
        link.addr = addr;
        link.connections += 1;
        if let Some(r) = self.redial.get_mut(&peer) {
            r.backoff = MIN_BACKOFF;
        }
        link.connections == 1
    }

    /// A connection closed. Returns the link when it was the last one.
    pub fn disconnected(&mut self, peer: &PeerId) -> Option<Link> {
        let link = self.links.get_mut(peer)?;
        link.connections = link.connections.saturating_sub(1);
        if link.connections == 0 {
            if let Some(r) = self.redial.get_mut(peer) {
                r.next = Instant::now() + r.backoff;
            }
            return self.links.remove(peer);
        }
        None
    }

    /// Peers to dial now: remembered, not connected, due; advances their backoff.
    pub fn due_redials(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut out = Vec::new();
        for (peer, r) in self.redial.iter_mut() {
            if self.links.contains_key(peer) || r.next > now || r.addrs.is_empty() {
                continue;
            }
            out.push((*peer, r.addrs.clone()));
            r.next = now + r.backoff;
            r.backoff = (r.backoff * 2).min(MAX_BACKOFF);
        }
        out.sort_by_key(|(p, _)| p.to_bytes());
        out
    }

    /// Records a ping.
    pub fn rtt(&mut self, peer: &PeerId, rtt: Duration) {
        if let Some(l) = self.links.get_mut(peer) {
            l.rtt = Some(rtt);
        }
    }

    /// Records identify info.
    pub fn agent(&mut self, peer: &PeerId, agent: String) {
        if let Some(l) = self.links.get_mut(peer) {
            l.agent = Some(agent);
        }
    }

    /// A subscription change.
    pub fn subscribed(&mut self, peer: &PeerId, topic: TopicKind, on: bool) {
        if let Some(l) = self.links.get_mut(peer) {
            if on {
                l.topics.insert(topic);
            } else {
                l.topics.remove(&topic);
            }
        }
    }

    /// Connected peers on our UNL that subscribed to proposals.
    pub fn trusted_subscribed(&self) -> usize {
        self.links
            .values()
            .filter(|l| l.trusted && l.topics.contains(&TopicKind::Proposals))
            .count()
    }

    /// A SlowPeer report; true when the peer has been slow three times within a minute and
    /// should be disconnected.
    pub fn slow(&mut self, peer: PeerId, now: Instant) -> bool {
        let e = self.slow.entry(peer).or_insert((0, now));
        if now.duration_since(e.1) > Duration::from_secs(60) {
            *e = (0, now);
        }
        e.0 += 1;
        e.0 >= 3
    }

    /// Whether `peer` is connected.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.links.contains_key(peer)
    }

    /// Connected peers: trusted first, then by latency.
    pub fn connected_peers(&self) -> Vec<PeerId> {
        let mut v: Vec<(&PeerId, &Link)> = self.links.iter().collect();
        v.sort_by_key(|(p, l)| (!l.trusted, l.rtt.unwrap_or(Duration::MAX), p.to_bytes()));
        v.into_iter().map(|(p, _)| *p).collect()
    }

    /// Rows for the snapshot.
    pub fn rows(&self, score: impl Fn(&PeerId) -> Option<f64>) -> Vec<PeerLink> {
        let mut rows: Vec<PeerLink> = self
            .links
            .iter()
            .map(|(p, l)| PeerLink {
                peer_id: p.to_string(),
                node: l.node,
                addr: l.addr.to_string(),
                rtt_ms: l.rtt.map(|d| d.as_secs_f64() * 1000.0),
                trusted: l.trusted,
                subscribed: l.topics.contains(&TopicKind::Proposals),
                score: score(p),
                agent: l.agent.clone(),
            })
            .collect();
        rows.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        rows
    }

    /// Number of connected peers.
    pub fn len(&self) -> usize {
        self.links.len()
    }
}
