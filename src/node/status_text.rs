//! `cpeers status` as text: what rippled's `consensus_info` tells an operator, laid out for a
//! terminal. It formats the node's `/status` JSON (a serialised [`super::NodeSnapshot`]) rather
//! than the typed snapshot, so it works against any node that answers `/status`, and a field a
//! node does not send shows as `?` instead of failing.
//!
//! Times are the node's clock: close times as UTC time of day, ages relative to the view's `now`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        _ => "?".into(),
    }
}

fn yes(v: &Value) -> &'static str {
    match v.as_bool() {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// The first 8 hex digits of a hash or key.
fn short(v: &Value) -> String {
    v.as_str()
        .map(|s| s.chars().take(8).collect())
        .unwrap_or_else(|| "-".into())
}

fn count(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    }
}

/// `HH:MM:SS.mmm` (UTC) of a millisecond timestamp; `-` for none, and 0 ("agree to disagree").
fn clock(v: &Value) -> String {
    match v.as_i64() {
        None | Some(0) => "-".into(),
        Some(ms) => {
            let ms = ms.rem_euclid(86_400_000);
            format!(
                "{:02}:{:02}:{:02}.{:03}",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            )
        }
    }
}

/// Milliseconds as seconds with 3 decimals.
fn secs(v: &Value) -> String {
    match v.as_i64() {
        Some(ms) => format!("{}.{:03} s", ms.div_euclid(1000), ms.rem_euclid(1000)),
        None => "?".into(),
    }
}

/// An age: `now - then` in seconds with one decimal.
fn age(now: &Value, then: &Value) -> String {
    match (now.as_i64(), then.as_i64()) {
        (Some(n), Some(t)) => {
            let d = (n - t).max(0);
            format!("{}.{} s", d / 1000, d % 1000 / 100)
        }
        _ => "-".into(),
    }
}

fn ledger_line(label: &str, l: &Value) -> String {
    format!(
        "{label:<11}#{} {}  closed {} UTC  {} txs",
        num(&l["seq"]),
        short(&l["hash"]),
        clock(&l["close_time"]),
        num(&l["txs"])
    )
}

/// The whole text of `cpeers status` for a `/status` answer.
pub fn render(status: &Value) -> String {
    let mut o = String::new();
    let info = &status["info"];
    let now = &info["now"];
    let validator = info["validator"].as_bool() == Some(true);

    // ---- header --------------------------------------------------------------------------
    let _ = writeln!(
        o,
        "node {}  network {}  key {} ({}){}",
        text(&status["peer_id"]),
        num(&status["network_id"]),
        short(&info["node"]),
        if validator { "validator" } else { "observer" },
        if status["started"].as_bool() == Some(false) {
            "  [consensus not started: waiting for trusted peers]"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "{:<11}{}   phase {}   building #{}",
        "mode",
        text(&info["mode"]),
        text(&info["phase"]),
        num(&info["ledger_seq"]),
    );
    // Like agree_pct, count us when proposing.
    let us = u64::from(info["proposing"].as_bool() == Some(true));
    let agree = info["agree"].as_u64().unwrap_or(0) + us;
    let _ = writeln!(
        o,
        "{:<11}{} (previous round {} in {})   agree {agree}/{} = {} % (need {} %)   consensus {}",
        "proposers",
        count(&info["peer_positions"]),
        num(&info["previous_proposers"]),
        secs(&info["previous_round_ms"]),
        agree + info["disagree"].as_u64().unwrap_or(0),
        num(&info["agree_pct"]),
        num(&info["quorum_pct"]),
        info["consensus_state"].as_str().unwrap_or("-"),
    );
    let round = if info["phase"].as_str() == Some("open") {
        format!("open for {}", secs(&info["open_ms"]))
    } else {
        format!(
            "{} (min {}, expires at {})",
            secs(&info["round_ms"]),
            secs(&info["min_consensus_ms"]),
            secs(&info["expires_ms"])
        )
    };
    let _ = writeln!(
        o,
        "{:<11}{round}   converge {} %",
        "round",
        num(&info["converge_percent"])
    );
    let _ = writeln!(
        o,
        "{:<11}{} of {} trusted validators   laggards {}   offline {}",
        "quorum",
        num(&info["quorum"]),
        num(&info["unl_size"]),
        num(&info["laggards"]),
        num(&info["offline"]),
    );
    let _ = writeln!(
        o,
        "{}   synched {}",
        ledger_line("closed", &info["last_closed"]),
        yes(&info["synched"])
    );
    let last_validated = status["recent_validated"]
        .as_array()
        .and_then(|a| a.last())
        .map(|l| format!("   validated {} ago", age(now, &l["validated_at"])))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "{}{last_validated}",
        ledger_line("validated", &info["fully_validated"])
    );
    let pos = &info["our_position"];
    if pos.is_object() {
        let _ = writeln!(
            o,
            "{:<11}{}  seq {}  close {}  {} txs{}",
            "position",
            short(&pos["position"]),
            num(&pos["seq"]),
            clock(&pos["close_time"]),
            num(&pos["txs"]),
            if pos["bowed_out"].as_bool() == Some(true) {
                "  (bowed out)"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(o, "{:<11}none yet (the ledger is open)", "position");
    }
    let _ = writeln!(
        o,
        "{:<11}resolution {}   consensus {} (avalanche {})",
        "close time",
        secs(&info["close_resolution_ms"]),
        yes(&info["have_close_time_consensus"]),
        text(&info["close_time_avalanche"]),
    );

    peers(&mut o, status);
    disputes(&mut o, info);

    // ---- close-time votes --------------------------------------------------------------------
    if let Some(votes) = info["close_times"].as_object().filter(|v| !v.is_empty()) {
        let _ = writeln!(o, "\nCLOSE-TIME VOTES");
        for (t, n) in votes {
            let t = t.parse::<i64>().map(Value::from).unwrap_or(Value::Null);
            let _ = writeln!(o, "  {}  {}", clock(&t), num(n));
        }
    }

    // ---- pool and counters ------------------------------------------------------------------
    let _ = writeln!(o);
    let _ = writeln!(o, "{:<11}{} txs", "pending", num(&info["pending_txs"]));
    let traffic = &status["traffic"];
    let rejected = pairs(&traffic["rejected"]);
    let _ = writeln!(
        o,
        "{:<11}{}",
        "rejected",
        if rejected.is_empty() {
            "none".to_string()
        } else {
            rejected
        }
    );
    let rounds = pairs(&status["engine"]["rounds"]);
    if !rounds.is_empty() {
        let _ = writeln!(o, "{:<11}{rounds}", "rounds");
    }
    let lat = &status["latency"]["submit_to_validated"];
    if lat["count"].as_u64().unwrap_or(0) > 0 {
        let ms = |v: &Value| v.as_f64().map_or("?".into(), |x| format!("{x:.0} ms"));
        let _ = writeln!(
            o,
            "{:<11}submit to validated p50 {}  p99 {}  max {}  ({} txs)",
            "latency",
            ms(&lat["p50_ms"]),
            ms(&lat["p99_ms"]),
            ms(&lat["max_ms"]),
            num(&lat["count"])
        );
    }
    if let Some(held) = status["held"].as_array() {
        let items: Vec<String> = held
            .iter()
            .map(|h| {
                let what = h["what"].as_str().unwrap_or("?").replace('_', " ");
                match h["cap"].as_u64() {
                    Some(cap) => format!("{what} {}/{}", num(&h["items"]), cap),
                    None => format!("{what} {}", num(&h["items"])),
                }
            })
            .collect();
        let rss = status["rss_mib"]
            .as_f64()
            .map_or(String::new(), |m| format!("{m:.1} MiB; "));
        let _ = writeln!(o, "{:<11}{rss}{}", "memory", items.join(", "));
    }
    let sub = &status["submissions"];
    if sub.is_object()
        && sub["accepted"].as_u64().unwrap_or(0) + sub["known"].as_u64().unwrap_or(0) > 0
        || !pairs(&sub["refused"]).is_empty()
    {
        let mut line = format!(
            "accepted {}  known {}  validated {}  outstanding {}",
            num(&sub["accepted"]),
            num(&sub["known"]),
            num(&sub["validated"]),
            num(&sub["outstanding"])
        );
        let refused = pairs(&sub["refused"]);
        if !refused.is_empty() {
            line.push_str(&format!("  refused {refused}"));
        }
        let dropped = pairs(&sub["dropped"]);
        if !dropped.is_empty() {
            line.push_str(&format!("  DROPPED {dropped}"));
        }
        let _ = writeln!(o, "{:<11}{line}", "submitted");
    }
    let api = &status["api"];
    if api.is_object() {
        let _ = writeln!(
            o,
            "{:<11}{} subscribed ({} ever, {} resynced, {} dropped as too slow, {} frames, {} bytes)  401s {}  400s {}",
            "api",
            num(&api["subscribers"]),
            num(&api["subscriptions"]),
            num(&api["resyncs"]),
            num(&api["dropped_slow"]),
            num(&api["frames_sent"]),
            num(&api["bytes_sent"]),
            num(&api["unauthorized"]),
            num(&api["bad_requests"]),
        );
    }
    let store_errors = status["store_errors"].as_u64().unwrap_or(0);
    if store_errors > 0 {
        let _ = writeln!(
            o,
            "{:<11}{store_errors} errors: the node no longer signs validations",
            "STORE"
        );
    }
    // Padded columns leave trailing blanks.
    let mut out = String::with_capacity(o.len());
    for line in o.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `name n, name n` of a counter map, largest first.
fn pairs(v: &Value) -> String {
    let Some(m) = v.as_object() else {
        return String::new();
    };
    let mut list: Vec<(&String, u64)> = m
        .iter()
        .map(|(k, n)| (k, n.as_u64().unwrap_or(0)))
        .collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every validator we know (with its latest proposal) and every connected peer.
fn peers(o: &mut String, status: &Value) {
    let info = &status["info"];
    let now = &info["now"];
    let empty = Vec::new();
    let known = info["peers"].as_array().unwrap_or(&empty);
    let links = status["peers"].as_array().unwrap_or(&empty);
    let link_of = |node: &Value| {
        links
            .iter()
            .find(|l| node.is_string() && l["node"].as_str() == node.as_str())
    };
    let trusted_links = links.iter().filter(|l| l["trusted"] == true).count();
    let _ = writeln!(
        o,
        "\nPEERS ({} validators known; {} connected, {} trusted)",
        known.len(),
        links.len(),
        trusted_links
    );
    let _ = writeln!(
        o,
        "  {:<9} {:<7} {:>4} {:<9} {:<12} {:<6} {:>9} {:>9}  note",
        "validator", "trusted", "seq", "position", "close time", "agrees", "last seen", "rtt"
    );
    let rtt = |l: Option<&Value>| {
        l.and_then(|l| l["rtt_ms"].as_f64())
            .map_or("-".into(), |r| format!("{r:.1} ms"))
    };
    let mut shown: BTreeSet<String> = BTreeSet::new();
    for p in known {
        let node = &p["node"];
        shown.insert(node.as_str().unwrap_or("").to_string());
        let current = &info["peer_positions"][node.as_str().unwrap_or("")];
        let last = &p["stats"]["last_proposal"];
        // This round's position when it has one, else its latest proposal.
        let (seq, position, close) = if current.is_object() {
            (
                &current["seq"],
                &current["position"],
                &current["close_time"],
            )
        } else {
            (&last["seq"], &last["position"], &last["close_time"])
        };
        let seq = match seq.as_u64() {
            Some(s) if s == u32::MAX as u64 => "out".to_string(),
            Some(s) => s.to_string(),
            None => "-".into(),
        };
        let agrees = if p["has_position"] == true {
            yes(&p["agrees"])
        } else {
            "-"
        };
        let mut notes = Vec::new();
        for (flag, note) in [
            ("bowed_out", "bowed out"),
            ("other_ledger", "other ledger"),
            ("stale", "stale"),
            ("equivocating", "EQUIVOCATING"),
        ] {
            if p[flag] == true {
                notes.push(note);
            }
        }
        let link = link_of(node);
        if link.is_none() {
            notes.push("not connected");
        }
        let _ = writeln!(
            o,
            "  {:<9} {:<7} {:>4} {:<9} {:<12} {:<6} {:>9} {:>9}  {}",
            short(node),
            yes(&p["stats"]["trusted"]),
            seq,
            short(position),
            clock(close),
            agrees,
            age(now, &p["stats"]["last_seen"]),
            rtt(link),
            notes.join(", ")
        );
    }
    for l in links {
        let node = l["node"].as_str().unwrap_or("");
        if !node.is_empty() && shown.contains(node) {
            continue;
        }
        let _ = writeln!(
            o,
            "  {:<9} {:<7} {:>4} {:<9} {:<12} {:<6} {:>9} {:>9}  connected, never proposed ({})",
            short(&l["node"]),
            yes(&l["trusted"]),
            "-",
            "-",
            "-",
            "-",
            "-",
            rtt(Some(l)),
            text(&l["peer_id"]),
        );
    }
}

fn disputes(o: &mut String, info: &Value) {
    let empty = Vec::new();
    let list = info["disputes"].as_array().unwrap_or(&empty);
    if list.is_empty() {
        let _ = writeln!(o, "\nDISPUTES none");
        return;
    }
    let _ = writeln!(o, "\nDISPUTES ({})", list.len());
    let _ = writeln!(
        o,
        "  {:<9} {:<4} {:>4} {:>4} {:>7} {:>6} {:<9} {:<14} {:>5}  preview",
        "tx", "vote", "yays", "nays", "support", "needed", "avalanche", "state", "flips"
    );
    for d in list {
        let mut state = Vec::new();
        if d["pinned"] == true {
            state.push("pinned");
        }
        if d["stalled"] == true {
            state.push("stalled");
        }
        let _ = writeln!(
            o,
            "  {:<9} {:<4} {:>4} {:>4} {:>5} % {:>4} % {:<9} {:<14} {:>5}  {:?}",
            short(&d["tx"]),
            yes(&d["our_vote"]),
            num(&d["yays"]),
            num(&d["nays"]),
            num(&d["support_pct"]),
            num(&d["needed_pct"]),
            text(&d["avalanche"]),
            if state.is_empty() {
                "-".to_string()
            } else {
                state.join(", ")
            },
            num(&d["flips"]),
            d["preview"].as_str().unwrap_or(""),
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use super::*;
    use crate::consensus::avalanche::AvalancheState;
    use crate::consensus::engine::{
        DisputeInfo, EngineConfig, LedgerRef, Mode, PeerInfo, Phase, PositionInfo, StartFrom,
    };
    use crate::consensus::peers::{PeerStats, ProposalSummary};
    use crate::consensus::rules::ConsensusState;
    use crate::consensus::{
        ConsensusParams, Engine, Hash256, Ledger, NodeId, NodeKey, Refusal, Time, TxSet,
    };
    use crate::contract::{NodeSnapshot, PeerLink, Traffic, ValidatedLedger};

    /// 10:00:00 UTC on day 1.
    const T: i64 = 86_400_000 + 36_000_000;

    fn id(seed: u8) -> NodeId {
        NodeKey::from_secret([seed; 32]).id()
    }

    fn h(tag: &str) -> Hash256 {
        Hash256::of(&[tag.as_bytes()])
    }

    /// A node in the establish phase of ledger 5, with three peers (one agreeing, one on another
    /// position, one stale), two disputes, split close-time votes and some refusals.
    pub(crate) fn snapshot() -> NodeSnapshot {
        let me = NodeKey::from_secret([1; 32]);
        let (a, b, c, d) = (id(2), id(3), id(4), id(5));
        let engine = Engine::new(
            EngineConfig {
                params: ConsensusParams::default(),
                network_id: 7,
                unl: [me.id(), a, b, c].into_iter().collect::<BTreeSet<_>>(),
                validating: true,
                max_pending: 100,
            },
            Some(me.clone()),
            StartFrom::Genesis,
        );
        let genesis = Ledger::genesis(&ConsensusParams::default());
        let l4 = Ledger::next(
            &genesis,
            Arc::new(TxSet::new([])),
            Time(T - 4000),
            true,
            10_000,
        );
        let ours = h("ours");
        let theirs = h("theirs");
        let pos = |position, seq, close| PositionInfo {
            position,
            seq,
            close_time: Time(close),
            txs: 3,
            bowed_out: false,
        };
        let peer = |trusted, position, seq, seen: i64| PeerStats {
            trusted,
            proposals_seen: 4,
            last_seen: Some(Time(T - seen)),
            last_proposal: Some(ProposalSummary {
                prev_ledger: l4.hash(),
                position,
                close_time: Time(T - 2000),
                seq,
                received: Time(T - seen),
            }),
            ..PeerStats::default()
        };
        let mut info = engine.info();
        info.phase = Phase::Establish;
        info.mode = Mode::Proposing;
        info.proposing = true;
        info.synched = true;
        info.ledger_seq = 5;
        let lref = LedgerRef {
            seq: 4,
            hash: l4.hash(),
            close_time: Time(T - 4000),
            txs: 2,
        };
        info.last_closed = lref.clone();
        info.fully_validated = LedgerRef {
            seq: 3,
            hash: h("ledger 3"),
            ..lref
        };
        info.network_ledger = l4.hash();
        info.unl_size = 4;
        info.quorum = 4;
        info.now = Time(T);
        info.open_ms = 3500;
        info.round_ms = 1234;
        info.min_consensus_ms = 1950;
        info.expires_ms = 15_000;
        info.converge_percent = 41;
        info.close_resolution_ms = 10_000;
        info.have_close_time_consensus = false;
        info.close_time_avalanche = AvalancheState::Mid;
        info.previous_proposers = 3;
        info.previous_round_ms = 3010;
        info.our_position = Some(pos(ours, 1, T - 2000));
        info.agree = 1;
        info.disagree = 1;
        info.agree_pct = 66;
        info.quorum_pct = 80;
        info.consensus_state = Some(ConsensusState::No);
        info.peer_positions =
            BTreeMap::from([(a, pos(ours, 1, T - 2000)), (b, pos(theirs, 0, T + 8000))]);
        info.disputes = vec![
            DisputeInfo {
                tx: h("tx1"),
                preview: "pay alice 10".into(),
                our_vote: true,
                yays: 1,
                nays: 1,
                support_pct: 66,
                needed_pct: 65,
                avalanche: AvalancheState::Mid,
                stalled: false,
                flips: 1,
                pinned: true,
                votes_to_flip: Some(1),
            },
            DisputeInfo {
                tx: h("tx2"),
                preview: "pay bob 20".into(),
                our_vote: false,
                yays: 0,
                nays: 2,
                support_pct: 0,
                needed_pct: 95,
                avalanche: AvalancheState::Stuck,
                stalled: true,
                flips: 0,
                pinned: false,
                votes_to_flip: None,
            },
        ];
        info.close_times = BTreeMap::from([(Time(T - 10_000), 2), (Time(T + 10_000), 1)]);
        info.peers = vec![
            PeerInfo {
                node: a,
                stats: peer(true, ours, 1, 300),
                has_position: true,
                agrees: true,
                bowed_out: false,
                other_ledger: false,
                stale: false,
                equivocating: false,
            },
            PeerInfo {
                node: b,
                stats: peer(true, theirs, 0, 1200),
                has_position: true,
                agrees: false,
                bowed_out: false,
                other_ledger: false,
                stale: false,
                equivocating: false,
            },
            PeerInfo {
                node: c,
                stats: peer(true, theirs, 7, 25_000),
                has_position: false,
                agrees: false,
                bowed_out: false,
                other_ledger: true,
                stale: true,
                equivocating: false,
            },
        ];
        info.pending_txs = 12;
        info.laggards = 0;
        info.offline = 1;
        let link = |node: NodeId, i: u8, trusted| PeerLink {
            peer_id: format!("12D3KooWpeer{i}"),
            node: Some(node),
            addr: format!("/ip4/10.0.0.{i}/tcp/51235"),
            rtt_ms: Some(1.25 * i as f64),
            trusted,
            subscribed: true,
            score: Some(0.0),
            agent: Some("cpeers/0.1.0".into()),
        };
        let mut traffic = Traffic::default();
        traffic.rejected.insert(Refusal::BadSignature, 2);
        traffic.rejected.insert(Refusal::Malformed, 5);
        traffic.messages_in.insert("proposals".into(), 40);
        traffic.messages_out.insert("proposals".into(), 12);
        traffic.bytes_in.insert("proposals".into(), 8000);
        traffic.bytes_out.insert("proposals".into(), 2400);
        traffic.fetches_ok = 3;
        traffic.fetches_failed = 1;
        traffic
            .publish_failures
            .insert("no_peers_subscribed".into(), 2);
        let mut engine_counters = engine.counters().clone();
        engine_counters.rounds.insert("yes", 3);
        engine_counters.rounds.insert("moved_on", 1);
        let mut latency = crate::node::latency::LatencyTracker::default();
        for ms in [400.0, 500.0, 900.0] {
            latency.submit.push(ms);
        }
        NodeSnapshot {
            network_id: 7,
            peer_id: "12D3KooWself".into(),
            listen: vec!["/ip4/127.0.0.1/tcp/51235".into()],
            started: true,
            info,
            peers: vec![link(a, 1, true), link(b, 2, true), link(d, 3, false)],
            traffic,
            store_errors: 0,
            recent_validated: vec![ValidatedLedger {
                seq: 3,
                hash: h("ledger 3"),
                txs: 2,
                close_time: Time(T - 4000),
                validated_at: Time(T - 2500),
            }],
            latency: latency.summary(),
            engine: engine_counters,
            held: engine.held().into_iter().map(Into::into).collect(),
            rss_mib: Some(41.5),
            submissions: crate::contract::Submissions {
                accepted: 40,
                known: 2,
                refused: [("pool_full".to_string(), 3)].into_iter().collect(),
                validated: 38,
                outstanding: 2,
                dropped: Default::default(),
            },
            api: crate::contract::ApiCounters {
                subscribers: 2,
                subscriptions: 3,
                unauthorized: 1,
                ..Default::default()
            },
        }
    }

    fn render_snapshot(s: &NodeSnapshot) -> String {
        render(&serde_json::to_value(s).unwrap())
    }

    #[test]
    fn establish_round_with_disputes() {
        insta::assert_snapshot!(render_snapshot(&snapshot()));
    }

    #[test]
    fn open_ledger_without_position_or_peers() {
        let mut s = snapshot();
        s.started = false;
        s.info.phase = Phase::Open;
        s.info.mode = Mode::Observing;
        s.info.proposing = false;
        s.info.agree_pct = 50;
        s.info.our_position = None;
        s.info.peer_positions.clear();
        s.info.disputes.clear();
        s.info.close_times.clear();
        s.info.peers.clear();
        s.peers.clear();
        s.traffic = Traffic::default();
        s.recent_validated.clear();
        s.latency = Default::default();
        s.store_errors = 1;
        insta::assert_snapshot!(render_snapshot(&s));
    }

    #[test]
    fn every_peer_has_a_row_and_missing_fields_do_not_panic() {
        let text = render_snapshot(&snapshot());
        for seed in [2, 3, 4, 5] {
            assert!(text.contains(&id(seed).short()), "{seed}: {text}");
        }
        assert!(text.contains("establish") && text.contains("proposing"));
        let bare = render(&serde_json::json!({}));
        assert!(bare.contains("mode       ?"), "{bare}");
        let odd = render(&serde_json::json!({"info": {"peers": [1, "x"], "disputes": [null]}}));
        assert!(odd.contains("DISPUTES (1)"), "{odd}");
    }
}
