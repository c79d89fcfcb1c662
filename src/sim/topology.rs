//! Who can reach whom, and how fast: direct link delays after link overrides, partitions,
//! crashes and extra delays, plus shortest relay paths.
//!
//! Gossip is modelled as flooding by every live honest node: a message reaches each node along
//! the fastest path whose intermediate nodes relay. Precomputing those paths when the topology
//! changes makes a broadcast cost one event per receiver instead of one per link, which is what
//! lets hundreds of validators run faster than real time.

use super::scenario::Scenario;

/// No link / unreachable.
pub const INF: u32 = u32::MAX;

/// Link delays and relay distances for the current faults.
#[derive(Debug, Clone)]
pub struct Topology {
    n: usize,
    adj: Vec<u32>,
    dist: Vec<u32>,
}

/// The inputs that shape the topology at one moment.
pub struct TopologyState<'a> {
    /// Node is running.
    pub live: &'a [bool],
    /// Node forwards what it receives (live and not silent).
    pub relays: &'a [bool],
    /// Active partitions: each a list of sides.
    pub partitions: Vec<&'a [Vec<usize>]>,
    /// Extra one-way delay per node.
    pub extra_delay: &'a [u64],
}

impl Topology {
    /// Builds the topology of `sc` under `state`.
    pub fn build(sc: &Scenario, state: &TopologyState<'_>) -> Topology {
        let n = sc.nodes.len();
        let mut adj = vec![sc.default_delay_ms.min(INF as u64 - 1) as u32; n * n];
        for l in &sc.links {
            for i in 0..n {
                for j in 0..n {
                    let (gi, gj) = (&sc.nodes[i].group, &sc.nodes[j].group);
                    if (gi == &l.a && gj == &l.b) || (gi == &l.b && gj == &l.a) {
                        adj[i * n + j] = if !l.connected {
                            INF
                        } else {
                            l.delay_ms
                                .unwrap_or(sc.default_delay_ms)
                                .min(INF as u64 - 1) as u32
                        };
                    }
                }
            }
        }
        let side_of = |sides: &[Vec<usize>], node: usize| -> usize {
            sides
                .iter()
                .position(|s| s.contains(&node))
                .unwrap_or(usize::MAX)
        };
        for sides in &state.partitions {
            let side: Vec<usize> = (0..n).map(|i| side_of(sides, i)).collect();
            for i in 0..n {
                for j in 0..n {
                    if side[i] != side[j] {
                        adj[i * n + j] = INF;
                    }
                }
            }
        }
        for i in 0..n {
            for j in 0..n {
                let a = &mut adj[i * n + j];
                if i == j {
                    *a = 0;
                } else if !state.live[i] || !state.live[j] {
                    *a = INF;
                } else if *a != INF {
                    let extra = state.extra_delay[i] + state.extra_delay[j];
                    *a = (*a as u64 + extra).min(INF as u64 - 1) as u32;
                }
            }
        }
        let dist = relay_distances(n, &adj, state.relays);
        Topology { n, adj, dist }
    }

    /// Direct link delay, if linked.
    pub fn direct(&self, a: usize, b: usize) -> Option<u32> {
        let d = self.adj[a * self.n + b];
        (d != INF).then_some(d)
    }

    /// Fastest relay path delay, if reachable.
    pub fn dist(&self, a: usize, b: usize) -> Option<u32> {
        let d = self.dist[a * self.n + b];
        (d != INF).then_some(d)
    }

    /// Direct neighbours of `a` as (node, delay), fastest first, then by index.
    pub fn neighbours(&self, a: usize) -> Vec<(usize, u32)> {
        let mut v: Vec<(usize, u32)> = (0..self.n)
            .filter(|&b| b != a)
            .filter_map(|b| self.direct(a, b).map(|d| (b, d)))
            .collect();
        v.sort_by_key(|&(b, d)| (d, b));
        v
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// All-pairs shortest paths where only relaying nodes may be intermediate (Floyd–Warshall over
/// relays), skipped when every pair is directly linked with one uniform delay.
fn relay_distances(n: usize, adj: &[u32], relays: &[bool]) -> Vec<u32> {
    let mut dist = adj.to_vec();
    let uniform = {
        let mut delay = None;
        let mut ok = true;
        'outer: for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let d = adj[i * n + j];
                if d == INF {
                    ok = false;
                    break 'outer;
                }
                match delay {
                    None => delay = Some(d),
                    Some(x) if x != d => {
                        ok = false;
                        break 'outer;
                    }
                    _ => {}
                }
            }
        }
        ok
    };
    if uniform {
        return dist;
    }
    for k in 0..n {
        if !relays[k] {
            continue;
        }
        for i in 0..n {
            let ik = dist[i * n + k];
            if ik == INF || i == k {
                continue;
            }
            for j in 0..n {
                let kj = dist[k * n + j];
                if kj == INF {
                    continue;
                }
                let via = ik.saturating_add(kj);
                if via < dist[i * n + j] {
                    dist[i * n + j] = via;
                }
            }
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Scenario;
    use crate::toml_doc::TomlDoc;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(&TomlDoc::from_text("t.toml", text)).unwrap()
    }

    #[test]
    fn hub_relays_between_unlinked_groups_and_partitions_cut() {
        let sc = scenario(
            "name='h'\n[[nodes]]\ngroup='v'\ncount=2\n[[nodes]]\ngroup='hub'\ncount=1\nvalidator=false\n[[links]]\nbetween=['v','v']\nconnected=false\n",
        );
        let live = vec![true; 3];
        let relays = vec![true; 3];
        let extra = vec![0; 3];
        let t = Topology::build(
            &sc,
            &TopologyState {
                live: &live,
                relays: &relays,
                partitions: vec![],
                extra_delay: &extra,
            },
        );
        assert_eq!(t.direct(0, 1), None);
        assert_eq!(t.dist(0, 1), Some(400));
        assert_eq!(t.neighbours(0), vec![(2, 200)]);
        // The hub stops relaying (silent): v0 and v1 cannot reach each other.
        let relays = vec![true, true, false];
        let t = Topology::build(
            &sc,
            &TopologyState {
                live: &live,
                relays: &relays,
                partitions: vec![],
                extra_delay: &extra,
            },
        );
        assert_eq!(t.dist(0, 1), None);
        // Partition v0 | v1,hub.
        let relays = vec![true; 3];
        let sides = vec![vec![0], vec![1, 2]];
        let t = Topology::build(
            &sc,
            &TopologyState {
                live: &live,
                relays: &relays,
                partitions: vec![&sides],
                extra_delay: &[0, 0, 50],
            },
        );
        assert_eq!(t.dist(0, 2), None);
        assert_eq!(t.dist(1, 2), Some(250));
    }
}
