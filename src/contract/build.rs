//! The one place node events are made from what goes into and comes out of an engine. The live
//! node and the flight recorder's playback both call these, so a dashboard shows the same
//! thing for a node and for its recording.

use super::event::{AcceptedSummary, LedgerSummary, NodeEvent};
use crate::consensus::engine::{Event, Output};
use crate::consensus::{Input, Time, Verdict};

/// The event an engine input makes visible, given what the engine made of it: proposals and
/// validations (taken or refused); other inputs show through their outputs.
pub fn input_event(input: &Input, verdict: Verdict, at: Time) -> Option<NodeEvent> {
    match input {
        Input::Proposal(p) => {
            let p = p.proposal();
            Some(NodeEvent::Proposal {
                from: p.node,
                seq: p.seq,
                prev_ledger: p.prev_ledger,
                position: p.position,
                close_time: p.close_time,
                verdict,
                at,
            })
        }
        Input::Validation(v) => {
            let v = v.validation();
            Some(NodeEvent::Validation {
                from: v.node,
                seq: v.seq,
                ledger: v.ledger,
                verdict,
                at,
            })
        }
        _ => None,
    }
}

/// The event an engine output makes visible; `None` for effects the driver carries out
/// (broadcasts, fetches, persisting).
pub fn output_event(o: &Output) -> Option<NodeEvent> {
    Some(match o {
        Output::PhaseChanged(p) => NodeEvent::Phase { phase: *p },
        Output::ModeChanged(m) => NodeEvent::Mode { mode: *m },
        Output::LedgerAccepted(a) => NodeEvent::LedgerAccepted(AcceptedSummary::of(a)),
        Output::LedgerFullyValidated(l) => NodeEvent::LedgerValidated {
            ledger: LedgerSummary::of(l),
        },
        Output::LedgerSwitched { from, to } => NodeEvent::LedgerSwitched {
            from: *from,
            to: LedgerSummary::of(to),
        },
        Output::Event(e) => NodeEvent::Consensus { event: e.clone() },
        Output::Broadcast(_)
        | Output::AcquireTxSet { .. }
        | Output::AcquireLedger { .. }
        | Output::PersistValidatedSeq(_) => return None,
    })
}

/// Whether an engine event is about one transaction (there can be thousands per step).
fn per_transaction(e: &Event) -> bool {
    matches!(e, Event::DisputeCreated { .. } | Event::VoteChanged { .. })
}

/// Most per-transaction events one batch lists; the rest are counted (`omitted`). A step can
/// create thousands of disputes under load, and the dispute drill-down has each one's votes.
pub const BATCH_LIST: usize = 16;

/// Gathers the per-transaction engine events of one engine step into one
/// [`NodeEvent::ConsensusBatch`] (listing the first [`BATCH_LIST`], counting the rest),
/// keeping the order of everything else: events pass through [`Batcher::push`], and
/// [`Batcher::flush`] ends the step.
#[derive(Debug, Default)]
pub struct Batcher {
    held: Vec<Event>,
    omitted: u32,
}

impl Batcher {
    /// Takes one event; returns what is ready to send, in order (held per-transaction events
    /// first when `e` is not one of them).
    pub fn push(&mut self, e: NodeEvent) -> Vec<NodeEvent> {
        match e {
            NodeEvent::Consensus { event } if per_transaction(&event) => {
                if self.held.len() < BATCH_LIST {
                    self.held.push(event);
                } else {
                    self.omitted += 1;
                }
                Vec::new()
            }
            other => {
                let mut out = self.flush();
                out.push(other);
                out
            }
        }
    }

    /// Releases the held events (the step is over).
    pub fn flush(&mut self) -> Vec<NodeEvent> {
        let omitted = std::mem::take(&mut self.omitted);
        match self.held.len() {
            0 => Vec::new(),
            1 if omitted == 0 => vec![NodeEvent::Consensus {
                event: self.held.remove(0),
            }],
            _ => vec![NodeEvent::ConsensusBatch {
                events: std::mem::take(&mut self.held),
                omitted,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::Hash256;
    use crate::consensus::dispute::Voter;
    use crate::consensus::engine::Phase;

    #[test]
    fn per_transaction_events_of_a_step_become_one_batch_in_order() {
        let vote = |b: u8| Event::VoteChanged {
            tx: Hash256([b; 32]),
            voter: Voter::Us,
            yes: true,
        };
        let mut b = Batcher::default();
        assert!(b.push(NodeEvent::Consensus { event: vote(1) }).is_empty());
        assert!(b.push(NodeEvent::Consensus { event: vote(2) }).is_empty());
        let out = b.push(NodeEvent::Phase {
            phase: Phase::Accepted,
        });
        assert_eq!(
            out,
            vec![
                NodeEvent::ConsensusBatch {
                    events: vec![vote(1), vote(2)],
                    omitted: 0,
                },
                NodeEvent::Phase {
                    phase: Phase::Accepted
                }
            ]
        );
        assert!(b.flush().is_empty());
        assert!(b.push(NodeEvent::Consensus { event: vote(3) }).is_empty());
        assert_eq!(b.flush(), vec![NodeEvent::Consensus { event: vote(3) }]);
        // Thousands in one step: the first few listed, the rest counted.
        for i in 0..1000u32 {
            assert!(
                b.push(NodeEvent::Consensus {
                    event: vote(i as u8)
                })
                .is_empty()
            );
        }
        let out = b.flush();
        let [NodeEvent::ConsensusBatch { events, omitted }] = out.as_slice() else {
            panic!("one batch: {out:?}")
        };
        assert_eq!(
            (events.len(), *omitted as usize),
            (BATCH_LIST, 1000 - BATCH_LIST)
        );
    }
}
