//! `cpeers export`: a recording as tables (one row per round, dispute, proposal) for notebooks
//! and spreadsheets. The rows come from replaying the recording, so they hold what the engine
//! decided, not only what it was sent.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::consensus::dispute::Voter;
use crate::consensus::engine::{Event, Input, Output};
use crate::consensus::{Hash256, Time, TxId, Verdict};

use super::replay::{Mismatch, Replayer, StepKind, Timeline};

/// One consensus round.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoundRow {
    /// Sequence of the ledger built.
    pub seq: u32,
    /// Ledger built upon (hex).
    pub prev_ledger: String,
    /// When the round began (ms, engine time).
    pub started_at: Option<i64>,
    /// When the ledger was built.
    pub accepted_at: i64,
    /// The ledger's hash.
    pub ledger: String,
    /// How the round ended: yes, moved_on, expired.
    pub result: String,
    /// Establish phase duration (ms).
    pub round_ms: i64,
    /// Proposers when consensus was declared.
    pub proposers: usize,
    /// Disputes resolved.
    pub disputes: usize,
    /// Transactions in the ledger.
    pub txs: usize,
    /// Agreed close time (ms).
    pub close_time: i64,
    /// Our mode when accepting.
    pub mode: String,
    /// When it became fully validated, if it did within the recording.
    pub fully_validated_at: Option<i64>,
}

/// One dispute.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DisputeRow {
    /// Sequence of the ledger the round was building.
    pub seq: u32,
    /// The disputed transaction (hex).
    pub tx: String,
    /// When it became disputed.
    pub created_at: i64,
    /// Our first vote.
    pub our_first_vote: bool,
    /// Our last vote.
    pub our_last_vote: bool,
    /// Times we changed our vote.
    pub our_flips: u32,
    /// Times peers changed their votes (first votes not counted).
    pub peer_flips: u32,
    /// Peers voting yes at the end (empty when the round ended in the step the dispute
    /// appeared, before the engine could be asked).
    pub yays: Option<u32>,
    /// Peers voting no at the end.
    pub nays: Option<u32>,
    /// Avalanche state at the end (how much agreement our vote needed).
    pub avalanche: Option<String>,
    /// Whether the transaction made it into the ledger built (empty if the round did not end
    /// within the recording).
    pub included: Option<bool>,
}

/// One proposal, received or our own.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProposalRow {
    /// When it arrived (or we took the position).
    pub at: i64,
    /// The proposer's key (hex).
    pub from: String,
    /// Whether it is our own position.
    pub ours: bool,
    /// Proposal sequence.
    pub seq: u32,
    /// Ledger it builds on (hex).
    pub prev_ledger: String,
    /// Proposed tx-set id (hex).
    pub position: String,
    /// Proposed close time (ms).
    pub close_time: i64,
    /// `accepted` or the refusal reason.
    pub verdict: String,
}

/// Every table of one recording.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Tables {
    /// Rounds.
    pub rounds: Vec<RoundRow>,
    /// Disputes.
    pub disputes: Vec<DisputeRow>,
    /// Proposals.
    pub proposals: Vec<ProposalRow>,
    /// Where the replay differed from the recording (the tables stop being trustworthy there).
    #[serde(skip)]
    pub mismatch: Option<Mismatch>,
}

struct OpenDispute {
    tx: TxId,
    row: DisputeRow,
}

/// Replays `timeline` and tabulates it.
pub fn tables(timeline: Arc<Timeline>) -> Tables {
    let mut t = Tables::default();
    let mut r = Replayer::new(timeline.clone());
    let mut round: Option<(u32, Hash256, Time)> = None;
    let mut open: BTreeMap<TxId, OpenDispute> = BTreeMap::new();
    let our_id = timeline.header.node;
    let mut by_seq: BTreeMap<u32, usize> = BTreeMap::new();
    while let Some(s) = r.step() {
        let step = &timeline.steps[s.step];
        if let StepKind::Input {
            input: Input::Proposal(p),
            ..
        } = &step.kind
        {
            let p = p.proposal();
            t.proposals.push(ProposalRow {
                at: s.at.0,
                from: p.node.to_string(),
                ours: false,
                seq: p.seq,
                prev_ledger: p.prev_ledger.to_string(),
                position: p.position.to_string(),
                close_time: p.close_time.0,
                verdict: match s.verdict {
                    Some(Verdict::Refused(why)) => why.name().to_string(),
                    _ => "accepted".to_string(),
                },
            });
        }
        // The engine's own tally, as of this step (a round's last step may already have
        // cleared it; then the tally from the step before stands).
        if let Some(disputes) = r.engine().and_then(|e| e.disputes()) {
            for (tx, d) in open.iter_mut() {
                if let Some(now) = disputes.get(tx) {
                    d.row.yays = Some(now.yays());
                    d.row.nays = Some(now.nays());
                    d.row.our_flips = now.our_flips();
                    d.row.peer_flips = now.peer_flips();
                    d.row.avalanche = Some(now.avalanche().name().to_string());
                }
            }
        }
        for o in &s.outputs {
            match o {
                Output::Event(Event::RoundStarted { prev_ledger, seq }) => {
                    round = Some((*seq, *prev_ledger, s.at));
                    // Disputes of a round that never ended (we switched ledger) stay open-ended.
                    for (_, d) in std::mem::take(&mut open) {
                        t.disputes.push(d.row);
                    }
                }
                Output::Event(Event::PositionChanged {
                    seq,
                    position,
                    close_time,
                    ..
                }) => t.proposals.push(ProposalRow {
                    at: s.at.0,
                    from: our_id.to_string(),
                    ours: true,
                    seq: *seq,
                    prev_ledger: round.map(|r| r.1.to_string()).unwrap_or_default(),
                    position: position.to_string(),
                    close_time: close_time.0,
                    verdict: "own".into(),
                }),
                Output::Event(Event::DisputeCreated { tx, our_vote }) => {
                    open.insert(
                        *tx,
                        OpenDispute {
                            tx: *tx,
                            row: DisputeRow {
                                seq: round.map(|r| r.0).unwrap_or(0),
                                tx: tx.to_string(),
                                created_at: s.at.0,
                                our_first_vote: *our_vote,
                                our_last_vote: *our_vote,
                                our_flips: 0,
                                peer_flips: 0,
                                yays: None,
                                nays: None,
                                avalanche: None,
                                included: None,
                            },
                        },
                    );
                }
                Output::Event(Event::VoteChanged {
                    tx,
                    voter: Voter::Us,
                    yes,
                }) => {
                    if let Some(d) = open.get_mut(tx) {
                        d.row.our_last_vote = *yes;
                    }
                }
                Output::LedgerAccepted(a) => {
                    let l = &a.ledger;
                    for (_, mut d) in std::mem::take(&mut open) {
                        d.row.included = Some(l.txs().contains(&d.tx));
                        t.disputes.push(d.row);
                    }
                    by_seq.insert(l.seq(), t.rounds.len());
                    t.rounds.push(RoundRow {
                        seq: l.seq(),
                        prev_ledger: l.parent().to_string(),
                        started_at: round.filter(|r| r.0 == l.seq()).map(|r| r.2.0),
                        accepted_at: s.at.0,
                        ledger: l.hash().to_string(),
                        result: a.result.name().to_string(),
                        round_ms: a.round_ms,
                        proposers: a.proposers,
                        disputes: a.disputes,
                        txs: l.txs().len(),
                        close_time: l.close_time().0,
                        mode: a.mode.name().to_string(),
                        fully_validated_at: None,
                    });
                }
                Output::LedgerFullyValidated(l) => {
                    if let Some(&i) = by_seq.get(&l.seq())
                        && t.rounds[i].ledger == l.hash().to_string()
                    {
                        t.rounds[i].fully_validated_at = Some(s.at.0);
                    }
                }
                _ => {}
            }
        }
    }
    t.disputes.extend(open.into_values().map(|d| d.row));
    t.mismatch = r.mismatch().cloned();
    t
}

/// Which table to write as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per round.
    Rounds,
    /// One row per dispute.
    Disputes,
    /// One row per proposal.
    Proposals,
}

impl Table {
    /// All tables, in file order.
    pub const ALL: [Table; 3] = [Table::Rounds, Table::Disputes, Table::Proposals];

    /// File stem / option value.
    pub fn name(self) -> &'static str {
        match self {
            Table::Rounds => "rounds",
            Table::Disputes => "disputes",
            Table::Proposals => "proposals",
        }
    }
}

/// One table as CSV (header row first).
pub fn to_csv(t: &Tables, which: Table) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    match which {
        Table::Rounds => write_rows(&mut w, &t.rounds)?,
        Table::Disputes => write_rows(&mut w, &t.disputes)?,
        Table::Proposals => write_rows(&mut w, &t.proposals)?,
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn write_rows<T: Serialize>(w: &mut csv::Writer<Vec<u8>>, rows: &[T]) -> Result<(), csv::Error> {
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}
