//! Messages from peers: proposals (rippled `peerProposal`, `peerProposalInternal`,
//! `playbackProposals`), transaction sets (`gotTxSet`, `createDisputes`, `updateDisputes`) and
//! relayed transactions.

use std::sync::Arc;

use super::{Engine, Event, Output, Phase};
use crate::consensus::dispute::{Dispute, Voter};
use crate::consensus::hash::Hash256;
use crate::consensus::keys::NodeId;
use crate::consensus::peers::PeerPosition;
use crate::consensus::pending::Offer;
use crate::consensus::proposal::VerifiedProposal;
use crate::consensus::refusal::{Refusal, Verdict};
use crate::consensus::tx::Tx;
use crate::consensus::txset::TxSet;

impl Engine {
    fn refuse(&mut self, node: NodeId, trusted: bool, why: Refusal) -> Verdict {
        self.peers.refuse(node, trusted, why);
        Verdict::Refused(why)
    }

    /// rippled `peerProposal`: record in the replay buffer, then process.
    pub(super) fn peer_proposal(&mut self, v: VerifiedProposal) -> Verdict {
        let p = v.proposal().clone();
        if self.cfg.validating && p.node == self.our_id {
            return Verdict::Refused(Refusal::OwnMessage);
        }
        let trusted = self.validations.trusts(&p.node);
        self.peers.note_proposal(&p, self.now, trusted);
        if !trusted {
            return self.refuse(p.node, false, Refusal::Untrusted);
        }
        let pos = PeerPosition {
            proposal: v,
            received: self.now,
        };
        if let Some(why) = self
            .peers
            .buffer(&pos, self.cfg.params.recent_proposals_per_peer)
        {
            if why == Refusal::Equivocation {
                // Flag it for the operator; its first position stays counted (rippled keeps
                // the first proposal for a seq and ignores later ones).
                self.emit(Output::Event(Event::Equivocation(p.node)));
            }
            return self.refuse(p.node, true, why);
        }
        let verdict = self.peer_proposal_internal(pos);
        match verdict {
            Verdict::Accepted => self.counters.proposals_accepted += 1,
            Verdict::Refused(why) => self.peers.refuse(p.node, true, why),
        }
        verdict
    }

    /// rippled `peerProposalInternal`.
    pub(super) fn peer_proposal_internal(&mut self, pos: PeerPosition) -> Verdict {
        if !self.started {
            return Verdict::Accepted; // buffered; replayed when the first round starts
        }
        if self.phase == Phase::Accepted {
            return Verdict::Refused(Refusal::AcceptedPhase);
        }
        let p = pos.get().clone();
        if p.prev_ledger != self.prev_ledger_id {
            return Verdict::Accepted; // another ledger: buffered for replay only
        }
        if self.peers.is_dead(&p.node) {
            return Verdict::Refused(Refusal::BowedOut);
        }
        if let Some(cur) = self.peers.position(&p.node)
            && p.seq <= cur.get().seq
        {
            return Verdict::Refused(Refusal::StaleSeq);
        }
        if p.is_bow_out() {
            if let Some(r) = self.result.as_mut() {
                for d in r.disputes.values_mut() {
                    d.unvote(&p.node);
                }
            }
            self.peers.remove_position(&p.node);
            self.peers.mark_dead(p.node);
            self.emit(Output::Event(Event::PeerBowedOut(p.node)));
            return Verdict::Accepted;
        }
        if p.is_initial() {
            *self.raw_close_times.peers.entry(p.close_time).or_default() += 1;
        }
        self.peers.set_position(pos);
        if let Some(set) = self.acquired.get(&p.position).cloned() {
            if self.result.is_some() {
                self.update_disputes(p.node, &set);
            }
        } else if let Some(set) = self.acquire_tx_set(p.position) {
            self.got_tx_set(set);
        }
        Verdict::Accepted
    }

    /// rippled `playbackProposals`: replay buffered proposals for the ledger we now build on.
    pub(super) fn playback_proposals(&mut self) {
        for pos in self.peers.replayable(&self.prev_ledger_id) {
            let _ = self.peer_proposal_internal(pos);
        }
    }

    /// The set with `id` if we have it; otherwise ask the network for it (once; retried on
    /// ticks while some peer still proposes it).
    fn acquire_tx_set(&mut self, id: Hash256) -> Option<Arc<TxSet>> {
        if let Some(s) = self.tx_set(&id) {
            return Some(s);
        }
        if !self.acquiring_sets.contains_key(&id) {
            self.acquiring_sets.insert(id, self.now);
            let from = self.holders_of(&id);
            self.emit(Output::AcquireTxSet { id, from });
        }
        None
    }

    fn holders_of(&self, id: &Hash256) -> Vec<NodeId> {
        self.peers
            .current()
            .iter()
            .filter(|(_, p)| &p.get().position == id)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Re-requests missing sets and ledgers; forgets requests nobody needs any more.
    pub(super) fn retry_acquisitions(&mut self) {
        let now = self.now;
        let retry = self.cfg.params.acquire_retry_ms;
        let needed: std::collections::BTreeSet<Hash256> = self
            .peers
            .current()
            .values()
            .map(|p| p.get().position)
            .collect();
        self.acquiring_sets.retain(|id, _| needed.contains(id));
        let due: Vec<Hash256> = self
            .acquiring_sets
            .iter()
            .filter(|(_, t)| now.since(**t) >= retry)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.acquiring_sets.insert(id, now);
            let from = self.holders_of(&id);
            self.emit(Output::AcquireTxSet { id, from });
        }
        self.retry_ledgers();
    }

    /// A transaction set arrived.
    pub(super) fn tx_set_arrived(&mut self, set: Arc<TxSet>) -> Verdict {
        let id = set.id();
        if self.acquired.contains_key(&id) {
            return Verdict::Refused(Refusal::Duplicate);
        }
        let wanted = self.acquiring_sets.remove(&id).is_some() || !self.holders_of(&id).is_empty();
        if !wanted {
            return Verdict::Refused(Refusal::Unrequested);
        }
        self.remember_set(&set);
        self.got_tx_set(set);
        Verdict::Accepted
    }

    /// rippled `gotTxSet`.
    pub(super) fn got_tx_set(&mut self, set: Arc<TxSet>) {
        if self.phase == Phase::Accepted {
            return;
        }
        let id = set.id();
        if self.acquired.contains_key(&id) {
            return;
        }
        self.acquired.insert(id, set.clone());
        let Some(r) = &self.result else {
            return; // not closed yet: disputes are created when we close
        };
        if id == r.position.position {
            return;
        }
        self.create_disputes(&set);
        for node in self.holders_of(&id) {
            self.update_disputes(node, &set);
        }
    }

    /// rippled `createDisputes`: one dispute per transaction in the symmetric difference
    /// between our set and `other`, with the votes of every peer whose set we hold.
    pub(super) fn create_disputes(&mut self, other: &Arc<TxSet>) {
        let now = self.now;
        let Some(r) = self.result.as_mut() else {
            return;
        };
        if !r.compares.insert(other.id()) || r.txns.id() == other.id() {
            return;
        }
        let mut created = Vec::new();
        for (tx, in_ours) in r.txns.diff(other) {
            if r.disputes.contains_key(&tx.id()) {
                continue;
            }
            let mut d = Dispute::new(tx.clone(), in_ours, now);
            for (node, pos) in self.peers.current() {
                if let Some(set) = self.acquired.get(&pos.get().position)
                    && d.set_vote(*node, set.contains(&tx.id()), now)
                {
                    self.peer_unchanged_counter = 0;
                }
            }
            created.push((tx.clone(), in_ours));
            r.disputes.insert(tx.id(), d);
        }
        if !created.is_empty() {
            r.membership.clear();
        }
        // Share disputed transactions we did not have (rippled `share(dtx.tx())`): they join
        // our pending pool and our peers', so a transaction left out now is proposed by
        // everyone next round.
        let mut share = Vec::new();
        for (tx, our_vote) in created {
            self.emit(Output::Event(Event::DisputeCreated {
                tx: tx.id(),
                our_vote,
            }));
            if self.pending.offer(tx.clone()) == Offer::Added {
                share.push(tx);
            }
        }
        if !share.is_empty() {
            self.broadcast_txs(share);
        }
    }

    /// rippled `updateDisputes`: `node` now holds `other`; refresh its vote everywhere.
    pub(super) fn update_disputes(&mut self, node: NodeId, other: &Arc<TxSet>) {
        let needs_compare = self
            .result
            .as_ref()
            .is_some_and(|r| !r.compares.contains(&other.id()));
        if needs_compare {
            self.create_disputes(other);
        }
        let now = self.now;
        let Some(r) = self.result.as_mut() else {
            return;
        };
        let disputes = &r.disputes;
        let membership = r
            .membership
            .entry(other.id())
            .or_insert_with(|| Arc::new(disputes.keys().map(|id| other.contains(id)).collect()))
            .clone();
        let mut flips = Vec::new();
        for ((id, d), &yes) in r.disputes.iter_mut().zip(membership.iter()) {
            let had = d.vote_of(&node);
            if d.set_vote(node, yes, now) {
                self.peer_unchanged_counter = 0;
                if had.is_some() {
                    flips.push((*id, yes));
                }
            }
        }
        for (tx, yes) in flips {
            self.emit(Output::Event(Event::VoteChanged {
                tx,
                voter: Voter::Peer(node),
                yes,
            }));
        }
    }

    /// Transactions relayed by peers join the pending pool.
    pub(super) fn peer_txs(&mut self, txs: Vec<Tx>) -> Verdict {
        let mut added = false;
        let mut full = false;
        for tx in txs {
            match self.pending.offer(tx) {
                Offer::Added => {
                    added = true;
                    self.counters.txs_accepted += 1;
                }
                Offer::Known => {}
                Offer::Full => full = true,
            }
        }
        if added {
            Verdict::Accepted
        } else if full {
            Verdict::Refused(Refusal::PoolFull)
        } else {
            Verdict::Refused(Refusal::Duplicate)
        }
    }
}
