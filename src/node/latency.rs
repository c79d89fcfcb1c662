//! Latency measurements a node takes of itself: how long transactions submitted here take to
//! reach a fully validated ledger, and how long peers' proposals take to arrive. Kept as rings
//! of recent samples so `status` and `cpeers bench net` can report medians and tails.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::consensus::TxId;
pub use crate::contract::{Latency, Summary};

/// Recent samples (ms).
#[derive(Debug, Clone)]
pub struct Samples {
    ring: VecDeque<f64>,
    cap: usize,
    total: u64,
}

impl Samples {
    /// Keeps the last `cap` samples.
    pub fn new(cap: usize) -> Samples {
        Samples {
            ring: VecDeque::with_capacity(cap),
            cap,
            total: 0,
        }
    }

    /// Adds one.
    pub fn push(&mut self, ms: f64) {
        if self.ring.len() == self.cap {
            self.ring.pop_front();
        }
        self.ring.push_back(ms);
        self.total += 1;
    }

    /// Percentiles (nearest rank).
    pub fn summary(&self) -> Summary {
        if self.ring.is_empty() {
            return Summary::default();
        }
        let mut v: Vec<f64> = self.ring.iter().copied().collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let at = |p: f64| v[(((v.len() as f64) * p).ceil() as usize).clamp(1, v.len()) - 1];
        Summary {
            count: self.total,
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: v[v.len() - 1],
        }
    }
}

/// Most submissions tracked at once.
pub const MAX_TRACKED: usize = 200_000;
/// A submission not validated within this long is no longer timed (it was dropped, or the
/// node was stuck; either way its latency would say nothing new).
const GIVE_UP: std::time::Duration = std::time::Duration::from_secs(600);

/// Tracks submissions until they validate.
#[derive(Debug)]
pub struct LatencyTracker {
    submitted: HashMap<TxId, Instant>,
    order: VecDeque<TxId>,
    /// Submit → fully validated.
    pub submit: Samples,
    /// Proposal propagation.
    pub propagation: Samples,
}

impl Default for LatencyTracker {
    fn default() -> Self {
        LatencyTracker {
            submitted: HashMap::new(),
            order: VecDeque::new(),
            submit: Samples::new(4096),
            propagation: Samples::new(4096),
        }
    }
}

impl LatencyTracker {
    /// Submissions remembered now (at most [`MAX_TRACKED`]).
    pub fn tracked(&self) -> usize {
        self.order.len()
    }

    /// A transaction was submitted here now.
    pub fn submitted(&mut self, id: TxId, at: Instant) {
        if self.submitted.contains_key(&id) {
            return;
        }
        if self.order.len() >= MAX_TRACKED
            && let Some(old) = self.order.pop_front()
        {
            self.submitted.remove(&old);
        }
        self.submitted.insert(id, at);
        self.order.push_back(id);
    }

    /// A transaction is in a fully validated ledger now.
    pub fn validated(&mut self, id: &TxId, at: Instant) {
        if let Some(t) = self.submitted.remove(id) {
            self.submit
                .push(at.duration_since(t).as_secs_f64() * 1000.0);
        }
        // Transactions validate roughly in submission order: forget the validated prefix (and
        // any that waited past GIVE_UP), so memory follows what is outstanding rather than
        // filling up to the cap.
        while let Some(front) = self.order.front() {
            if self
                .submitted
                .get(front)
                .is_some_and(|t| at.duration_since(*t) < GIVE_UP)
            {
                break;
            }
            if let Some(old) = self.order.pop_front() {
                self.submitted.remove(&old);
            }
        }
    }

    /// The snapshot view.
    pub fn summary(&self) -> Latency {
        Latency {
            submit_to_validated: self.submit.summary(),
            proposal_propagation: self.propagation.summary(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validated_submissions_are_forgotten() {
        let mut t = LatencyTracker::default();
        let at = Instant::now();
        let ids: Vec<TxId> = (0..10u8)
            .map(|i| crate::consensus::Tx::new(vec![i]).expect("tx").id())
            .collect();
        for id in &ids {
            t.submitted(*id, at);
        }
        assert_eq!(t.tracked(), 10);
        // Out of order: the first still waits, so nothing can go yet.
        for id in &ids[1..] {
            t.validated(id, at);
        }
        assert_eq!(t.tracked(), 10);
        t.validated(&ids[0], at);
        assert_eq!(t.tracked(), 0);
        assert_eq!(t.submit.summary().count, 10);
        // One that never validates does not hold the rest back forever.
        t.submitted(ids[0], at);
        t.submitted(ids[1], at + GIVE_UP / 2);
        t.validated(&ids[1], at + GIVE_UP);
        assert_eq!(t.tracked(), 0);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut s = Samples::new(100);
        for i in 1..=100 {
            s.push(i as f64);
        }
        let sum = s.summary();
        assert_eq!(sum.count, 100);
        assert_eq!(sum.p50_ms, 50.0);
        assert_eq!(sum.p99_ms, 99.0);
        assert_eq!(sum.max_ms, 100.0);
        s.push(1000.0);
        assert_eq!(s.summary().max_ms, 1000.0);
        assert_eq!(Samples::new(4).summary(), Summary::default());
    }
}
