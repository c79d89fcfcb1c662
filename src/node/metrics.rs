//! The Prometheus exposition: `GET /metrics` in the text format 0.0.4, served by the admin API
//! ([`super::api`]) on the admin address and, with `--metrics`, on an address of its own.
//!
//! Scraping never waits on the consensus task. Gauges and counters are read from the latest
//! [`NodeSnapshot`] on the watch channel; the two histograms that need every event (ledger
//! interval, round time) are fed by the node task through a [`MetricsHook`] into a small
//! mutex-guarded state that both sides hold only to add a sample or to copy it out. libp2p's own
//! metrics (`libp2p::metrics`: swarm, gossipsub, identify, ping) are recorded by the same hook
//! (lock-free: they are atomics) and encoded from a shared [`Registry`] under the `libp2p_`
//! prefix, converted from OpenMetrics to the 0.0.4 text format so one scrape parses as one
//! format.
//!
//! Metrics are read-only, so unlike the admin endpoint any address may be configured; a
//! non-loopback one is logged as a warning.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use libp2p::metrics::{Metrics, Recorder};
use libp2p::swarm::SwarmEvent;
use prometheus_client::registry::Registry;

use crate::consensus::engine::{Mode, Phase};
use crate::contract::{NodeEvent, NodeSnapshot};
use crate::net::behaviour::BehaviourEvent;

/// `Content-Type` of the 0.0.4 text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Bucket upper bounds (s) of `cpeers_ledger_interval_seconds`: the fast profile closes several
/// ledgers a second, mainnet one every 3-5 s; a stall shows in the top buckets.
const INTERVAL_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0,
];
/// Bucket upper bounds (s) of `cpeers_round_seconds` (establish phase; rippled's minimum is
/// 1.95 s on mainnet, 0.195 s in the fast profile; 15 s is the usual maximum).
const ROUND_BUCKETS: &[f64] = &[
    0.1, 0.2, 0.3, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 30.0,
];

/// A fixed-bucket histogram.
#[derive(Debug, Clone)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative), plus one for +Inf.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Adds one sample.
    pub fn observe(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[i] += 1;
        self.sum += v;
        self.count += 1;
    }

    /// Samples taken.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// What the node task records for the histograms.
#[derive(Debug, Clone)]
pub struct EventMetrics {
    /// Seconds between consecutive fully validated ledgers.
    pub ledger_interval: Histogram,
    /// Establish-phase duration of each ledger we built (s).
    pub round_time: Histogram,
    /// The last fully validated ledger seen, and when.
    last_validated: Option<(u32, Instant)>,
}

impl Default for EventMetrics {
    fn default() -> Self {
        EventMetrics {
            ledger_interval: Histogram::new(INTERVAL_BUCKETS),
            round_time: Histogram::new(ROUND_BUCKETS),
            last_validated: None,
        }
    }
}

impl EventMetrics {
    /// Takes what the histograms need from one node event.
    pub fn on_event(&mut self, e: &NodeEvent, at: Instant) {
        match e {
            NodeEvent::LedgerAccepted(a) => self.round_time.observe(a.round_ms as f64 / 1000.0),
            NodeEvent::LedgerValidated { ledger: l } => {
                let seq = l.seq;
                match self.last_validated {
                    // A ledger validated again after a switch is not a new interval.
                    Some((last, _)) if seq <= last => {}
                    Some((_, t)) => {
                        self.ledger_interval
                            .observe(at.duration_since(t).as_secs_f64());
                        self.last_validated = Some((seq, at));
                    }
                    None => self.last_validated = Some((seq, at)),
                }
            }
            _ => {}
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain counters behind: still worth serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the node task holds to feed the metrics: libp2p's recorders and the event histograms.
pub struct MetricsHook {
    p2p: Metrics,
    events: Arc<Mutex<EventMetrics>>,
}

/// What the HTTP thread reads besides the snapshot.
#[derive(Clone)]
pub struct MetricsState {
    registry: Arc<Mutex<Registry>>,
    events: Arc<Mutex<EventMetrics>>,
}

/// A hook for the node task and the state it feeds, for [`serve`].
pub fn new() -> (MetricsHook, MetricsState) {
    let mut registry = Registry::default();
    // Registers everything under the `libp2p` prefix.
    let p2p = Metrics::new(&mut registry);
    let events = Arc::new(Mutex::new(EventMetrics::default()));
    (
        MetricsHook {
            p2p,
            events: events.clone(),
        },
        MetricsState {
            registry: Arc::new(Mutex::new(registry)),
            events,
        },
    )
}

impl MetricsHook {
    /// Records a swarm event (connections, dials, listeners; identify tracks connections too).
    pub fn swarm(&self, ev: &SwarmEvent<BehaviourEvent>) {
        self.p2p.record(ev);
    }

    /// Records a gossipsub, identify or ping event.
    pub fn behaviour(&self, ev: &BehaviourEvent) {
        match ev {
            BehaviourEvent::Gossipsub(e) => self.p2p.record(e),
            BehaviourEvent::Identify(e) => self.p2p.record(e),
            BehaviourEvent::Ping(e) => self.p2p.record(e),
            _ => {}
        }
    }

    /// Feeds the histograms from a node event.
    pub fn node_event(&self, e: &NodeEvent) {
        if matches!(
            e,
            NodeEvent::LedgerAccepted(_) | NodeEvent::LedgerValidated { .. }
        ) {
            lock(&self.events).on_event(e, Instant::now());
        }
    }
}

impl MetricsState {
    /// The full exposition: cpeers metrics, then libp2p's.
    pub fn render(&self, snap: &NodeSnapshot) -> String {
        let events = lock(&self.events).clone();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut out = render_node(snap, &events, now_ms);
        let mut p2p = String::new();
        {
            let registry = lock(&self.registry);
            if let Err(e) = prometheus_client::encoding::text::encode_registry(&mut p2p, &registry)
            {
                p2p.clear();
                let _ = writeln!(p2p, "# libp2p metrics could not be encoded: {e}");
            }
        }
        out.push_str(&openmetrics_to_004(&p2p));
        out
    }
}

/// Writes metric families in the 0.0.4 text format.
struct Writer {
    out: String,
}

impl Writer {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", help.replace('\n', " "));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(val));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(v));
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, v: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], v);
    }

    fn histogram(&mut self, name: &str, help: &str, h: &Histogram) {
        self.family(name, "histogram", help);
        let mut cumulative = 0;
        for (i, b) in h.bounds.iter().enumerate() {
            cumulative += h.counts[i];
            let le = number(*b);
            self.sample(&format!("{name}_bucket"), &[("le", &le)], cumulative as f64);
        }
        self.sample(&format!("{name}_bucket"), &[("le", "+Inf")], h.count as f64);
        self.sample(&format!("{name}_sum"), &[], h.sum);
        self.sample(&format!("{name}_count"), &[], h.count as f64);
    }

    fn summary(&mut self, name: &str, help: &str, s: &super::latency::Summary) {
        self.family(name, "summary", help);
        if s.count > 0 {
            for (q, ms) in [("0.5", s.p50_ms), ("0.99", s.p99_ms), ("1", s.max_ms)] {
                self.sample(name, &[("quantile", q)], ms / 1000.0);
            }
        }
        self.sample(&format!("{name}_count"), &[], s.count as f64);
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// The `cpeers_` metrics of one snapshot (pure, for tests). `now_ms` is the wall clock.
pub fn render_node(snap: &NodeSnapshot, events: &EventMetrics, now_ms: i64) -> String {
    let mut w = Writer {
        out: String::with_capacity(8 << 10),
    };
    let info = &snap.info;
    let t = &snap.traffic;

    w.family(
        "cpeers_info",
        "gauge",
        "Constant 1, labelled with the node's identity.",
    );
    let network = snap.network_id.to_string();
    w.sample(
        "cpeers_info",
        &[
            ("network_id", &network),
            ("peer_id", &snap.peer_id),
            ("node", &info.node.to_hex()),
            ("version", env!("CARGO_PKG_VERSION")),
            ("validator", if info.validator { "true" } else { "false" }),
        ],
        1.0,
    );
    w.single(
        "cpeers_consensus_started",
        "gauge",
        "1 once the first consensus round began.",
        flag(snap.started),
    );

    // Ledgers.
    w.single(
        "cpeers_validated_ledger_seq",
        "gauge",
        "Sequence of the last fully validated ledger.",
        info.fully_validated.seq as f64,
    );
    let age = snap.recent_validated.last().map_or(-1.0, |l| {
        (now_ms - l.validated_at.ms()).max(0) as f64 / 1000.0
    });
    w.single(
        "cpeers_validated_ledger_age_seconds",
        "gauge",
        "Seconds since the last ledger became fully validated here (-1: none yet).",
        age,
    );
    w.single(
        "cpeers_closed_ledger_seq",
        "gauge",
        "Sequence of our last closed ledger.",
        info.last_closed.seq as f64,
    );
    w.single(
        "cpeers_building_ledger_seq",
        "gauge",
        "Sequence of the ledger being built this round.",
        info.ledger_seq as f64,
    );
    w.histogram(
        "cpeers_ledger_interval_seconds",
        "Seconds between consecutive fully validated ledgers.",
        &events.ledger_interval,
    );
    w.histogram(
        "cpeers_round_seconds",
        "Establish-phase duration of each ledger this node built.",
        &events.round_time,
    );

    // The round.
    w.family(
        "cpeers_phase",
        "gauge",
        "Current round phase (1 for the current one).",
    );
    for p in [Phase::Open, Phase::Establish, Phase::Accepted] {
        w.sample(
            "cpeers_phase",
            &[("phase", p.name())],
            flag(info.phase == p),
        );
    }
    w.family(
        "cpeers_mode",
        "gauge",
        "Current consensus mode (1 for the current one).",
    );
    for m in [
        Mode::Proposing,
        Mode::Observing,
        Mode::WrongLedger,
        Mode::SwitchedLedger,
    ] {
        w.sample("cpeers_mode", &[("mode", m.name())], flag(info.mode == m));
    }
    w.single(
        "cpeers_proposers",
        "gauge",
        "Peers with a position this round.",
        info.peer_positions.len() as f64,
    );
    w.single(
        "cpeers_previous_proposers",
        "gauge",
        "Proposers in the previous round.",
        info.previous_proposers as f64,
    );
    w.single(
        "cpeers_disputes",
        "gauge",
        "Disputed transactions in the current round.",
        info.disputes.len() as f64,
    );
    w.single(
        "cpeers_round_elapsed_seconds",
        "gauge",
        "Establish time of the current round so far (0 while open).",
        info.round_ms as f64 / 1000.0,
    );
    w.single(
        "cpeers_converge_percent",
        "gauge",
        "Round time in percent of the previous round.",
        info.converge_percent as f64,
    );
    w.single(
        "cpeers_agree_percent",
        "gauge",
        "Positions agreeing with ours, in percent (counting us when proposing).",
        info.agree_pct as f64,
    );
    w.single(
        "cpeers_unl_size",
        "gauge",
        "Trusted validators (UNL size).",
        info.unl_size as f64,
    );
    w.single(
        "cpeers_quorum",
        "gauge",
        "Validations needed for full validation.",
        info.quorum as f64,
    );
    w.single(
        "cpeers_laggards",
        "gauge",
        "Trusted validators behind us.",
        info.laggards as f64,
    );
    w.single(
        "cpeers_offline_validators",
        "gauge",
        "Trusted validators not heard from recently.",
        info.offline as f64,
    );
    w.single(
        "cpeers_pending_txs",
        "gauge",
        "Transactions waiting for a ledger.",
        info.pending_txs as f64,
    );

    // Peers.
    w.single(
        "cpeers_peers_connected",
        "gauge",
        "Connected peers.",
        snap.peers.len() as f64,
    );
    w.single(
        "cpeers_peers_trusted",
        "gauge",
        "Connected peers on our UNL.",
        snap.peers.iter().filter(|p| p.trusted).count() as f64,
    );

    // Counters.
    w.family(
        "cpeers_rejected_messages_total",
        "counter",
        "Messages refused (wire, signature and engine refusals), by reason.",
    );
    for (why, n) in &t.rejected {
        w.sample(
            "cpeers_rejected_messages_total",
            &[("reason", why.name())],
            *n as f64,
        );
    }
    w.family(
        "cpeers_traffic_messages_total",
        "counter",
        "Gossip messages and sync requests/responses, by direction and kind.",
    );
    for (dir, map) in [("in", &t.messages_in), ("out", &t.messages_out)] {
        for (kind, n) in map {
            w.sample(
                "cpeers_traffic_messages_total",
                &[("direction", dir), ("kind", kind.as_ref())],
                *n as f64,
            );
        }
    }
    w.family(
        "cpeers_traffic_bytes_total",
        "counter",
        "Gossip payload bytes, by direction and kind.",
    );
    for (dir, map) in [("in", &t.bytes_in), ("out", &t.bytes_out)] {
        for (kind, n) in map {
            w.sample(
                "cpeers_traffic_bytes_total",
                &[("direction", dir), ("kind", kind.as_ref())],
                *n as f64,
            );
        }
    }
    w.family(
        "cpeers_publish_failures_total",
        "counter",
        "Gossip publishes that failed, by error.",
    );
    for (e, n) in &t.publish_failures {
        w.sample(
            "cpeers_publish_failures_total",
            &[("error", e.as_str())],
            *n as f64,
        );
    }
    w.family(
        "cpeers_fetches_total",
        "counter",
        "Transaction-set and ledger fetches, by result (failed: no peer had it).",
    );
    w.sample(
        "cpeers_fetches_total",
        &[("result", "ok")],
        t.fetches_ok as f64,
    );
    w.sample(
        "cpeers_fetches_total",
        &[("result", "failed")],
        t.fetches_failed as f64,
    );
    w.single(
        "cpeers_requests_served_total",
        "counter",
        "Fetch requests answered for peers.",
        t.requests_served as f64,
    );
    w.single(
        "cpeers_slow_peer_reports_total",
        "counter",
        "Gossipsub reports of peers failing to take messages.",
        t.slow_peer_reports as f64,
    );
    w.single(
        "cpeers_store_errors_total",
        "counter",
        "Ledger store errors (the node stops validating after one).",
        snap.store_errors as f64,
    );
    w.family(
        "cpeers_held_items",
        "gauge",
        "Entries in the node's bounded in-memory collections, by collection.",
    );
    for h in &snap.held {
        w.sample(
            "cpeers_held_items",
            &[("what", h.what.as_ref())],
            h.items as f64,
        );
    }
    w.family(
        "cpeers_held_items_cap",
        "gauge",
        "The most each count-bounded collection holds.",
    );
    for h in &snap.held {
        if let Some(cap) = h.cap {
            w.sample(
                "cpeers_held_items_cap",
                &[("what", h.what.as_ref())],
                cap as f64,
            );
        }
    }
    if let Some(mib) = snap.rss_mib {
        w.single(
            "cpeers_resident_memory_bytes",
            "gauge",
            "Resident memory of the node process.",
            mib * 1024.0 * 1024.0,
        );
    }
    w.family(
        "cpeers_rounds_total",
        "counter",
        "Consensus rounds, by result (yes, moved_on, expired).",
    );
    for (result, n) in &snap.engine.rounds {
        w.sample("cpeers_rounds_total", &[("result", result)], *n as f64);
    }
    w.family(
        "cpeers_engine_accepted_total",
        "counter",
        "Messages the engine took, by kind.",
    );
    let e = &snap.engine;
    for (kind, n) in [
        ("proposal", e.proposals_accepted),
        ("validation", e.validations_accepted),
        ("tx", e.txs_accepted),
    ] {
        w.sample("cpeers_engine_accepted_total", &[("kind", kind)], n as f64);
    }
    w.single(
        "cpeers_ledger_switches_total",
        "counter",
        "Switches to another ledger (wrong ledger / catch-up).",
        e.switches as f64,
    );
    w.single(
        "cpeers_forks_detected_total",
        "counter",
        "Forks detected among fully validated ledgers.",
        e.forks_detected as f64,
    );

    let sub = &snap.submissions;
    w.family(
        "cpeers_submissions_total",
        "counter",
        "Transactions submitted to this node, by outcome (accepted, known, refused, validated, dropped).",
    );
    w.sample(
        "cpeers_submissions_total",
        &[("outcome", "accepted")],
        sub.accepted as f64,
    );
    w.sample(
        "cpeers_submissions_total",
        &[("outcome", "known")],
        sub.known as f64,
    );
    w.sample(
        "cpeers_submissions_total",
        &[("outcome", "validated")],
        sub.validated as f64,
    );
    w.family(
        "cpeers_submissions_refused_total",
        "counter",
        "Submitted transactions refused at admission, by reason (pool_full, invalid).",
    );
    for (why, n) in &sub.refused {
        w.sample(
            "cpeers_submissions_refused_total",
            &[("reason", why)],
            *n as f64,
        );
    }
    w.family(
        "cpeers_submissions_dropped_total",
        "counter",
        "Accepted submissions dropped before a fully validated ledger held them, by reason.",
    );
    for (why, n) in &sub.dropped {
        w.sample(
            "cpeers_submissions_dropped_total",
            &[("reason", why)],
            *n as f64,
        );
    }
    w.single(
        "cpeers_submissions_outstanding",
        "gauge",
        "Accepted submissions waiting for a fully validated ledger.",
        sub.outstanding as f64,
    );
    let api = &snap.api;
    w.single(
        "cpeers_api_subscribers",
        "gauge",
        "Dashboards and scripts subscribed to the stream.",
        api.subscribers as f64,
    );
    w.family(
        "cpeers_api_events_total",
        "counter",
        "Admin API events: subscriptions opened, resyncs of lagging subscribers, subscribers dropped as too slow, 401 and 400 answers.",
    );
    for (what, n) in [
        ("subscription", api.subscriptions),
        ("resync", api.resyncs),
        ("dropped_slow", api.dropped_slow),
        ("unauthorized", api.unauthorized),
        ("bad_request", api.bad_requests),
    ] {
        w.sample("cpeers_api_events_total", &[("event", what)], n as f64);
    }
    w.single(
        "cpeers_api_stream_bytes_total",
        "counter",
        "Bytes sent on the stream to all subscribers.",
        api.bytes_sent as f64,
    );

    // Latency (from rings of recent samples: quantiles 0.5, 0.99 and 1 = max).
    w.summary(
        "cpeers_submit_to_validated_seconds",
        "Transactions submitted here until fully validated here (recent samples).",
        &snap.latency.submit_to_validated,
    );
    w.summary(
        "cpeers_proposal_propagation_seconds",
        "Peers' first proposals of a round: receive time minus their close time (recent samples).",
        &snap.latency.proposal_propagation,
    );
    w.out
}

/// Rewrites prometheus-client's OpenMetrics text as 0.0.4 text: counters are typed under their
/// `_total` sample name, `info` becomes a gauge named `_info`, `unknown` becomes `untyped`, and
/// `# UNIT`, `# EOF` and exemplars are dropped.
pub fn openmetrics_to_004(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut help: Option<(&str, &str)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, h) = rest.split_once(' ').unwrap_or((rest, ""));
            help = Some((name, h));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "unknown"));
            let (name, kind) = match kind {
                "counter" if !name.ends_with("_total") => (format!("{name}_total"), "counter"),
                "counter" => (name.to_string(), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "gauge" | "histogram" | "summary" => (name.to_string(), kind),
                _ => (name.to_string(), "untyped"),
            };
            if let Some((hname, h)) = help.take()
                && name.starts_with(hname)
            {
                let _ = writeln!(out, "# HELP {name} {h}");
            }
            let _ = writeln!(out, "# TYPE {name} {kind}");
        } else if line.starts_with('#') || line.trim().is_empty() {
            // # UNIT, # EOF: not part of 0.0.4.
        } else {
            let sample = line.split(" # ").next().unwrap_or(line);
            out.push_str(sample);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample line is `name{labels} value` with a float value; every family has HELP and
    /// TYPE with a 0.0.4 type before its samples.
    pub(crate) fn check_004(text: &str) {
        let mut typed: Vec<String> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                typed.push(name.to_string());
                continue;
            }
            if line.starts_with('#') {
                assert!(line.starts_with("# HELP "), "{line}");
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(
                value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
                "{line}"
            );
            let name = series.split('{').next().unwrap();
            assert!(
                typed.iter().any(|t| name == t
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name == format!("{t}{s}"))),
                "{name} has no TYPE line"
            );
        }
    }

    #[test]
    fn snapshot_metrics_parse_and_carry_the_snapshot() {
        let snap = crate::node::status_text::tests::snapshot();
        let mut events = EventMetrics::default();
        events.round_time.observe(2.1);
        let now = snap.recent_validated[0].validated_at.ms() + 4000;
        let text = render_node(&snap, &events, now);
        check_004(&text);
        for line in [
            "cpeers_validated_ledger_seq 3",
            "cpeers_validated_ledger_age_seconds 4",
            "cpeers_proposers 2",
            "cpeers_disputes 2",
            "cpeers_phase{phase=\"establish\"} 1",
            "cpeers_phase{phase=\"open\"} 0",
            "cpeers_mode{mode=\"proposing\"} 1",
            "cpeers_peers_connected 3",
            "cpeers_peers_trusted 2",
            "cpeers_pending_txs 12",
            "cpeers_rejected_messages_total{reason=\"bad_signature\"} 2",
            "cpeers_rejected_messages_total{reason=\"malformed\"} 5",
            "cpeers_traffic_messages_total{direction=\"in\",kind=\"proposals\"} 40",
            "cpeers_traffic_bytes_total{direction=\"out\",kind=\"proposals\"} 2400",
            "cpeers_fetches_total{result=\"failed\"} 1",
            "cpeers_publish_failures_total{error=\"no_peers_subscribed\"} 2",
            "cpeers_rounds_total{result=\"moved_on\"} 1",
            "cpeers_round_seconds_bucket{le=\"2.5\"} 1",
            "cpeers_round_seconds_count 1",
            "cpeers_ledger_interval_seconds_count 0",
            "cpeers_submit_to_validated_seconds{quantile=\"0.5\"} 0.5",
            "cpeers_submit_to_validated_seconds_count 3",
            "cpeers_store_errors_total 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 9.0] {
            h.observe(v);
        }
        let mut w = Writer { out: String::new() };
        w.histogram("x", "help", &h);
        assert_eq!(
            w.out,
            "# HELP x help\n# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"2\"} 3\n\
             x_bucket{le=\"+Inf\"} 4\nx_sum 12\nx_count 4\n"
        );
    }

    #[test]
    fn intervals_count_only_newer_ledgers() {
        use crate::consensus::{ConsensusParams, Ledger, Time, TxSet};
        let mut m = EventMetrics::default();
        let t0 = Instant::now();
        let genesis = Ledger::genesis(&ConsensusParams::default());
        let one = Ledger::next(&genesis, Arc::new(TxSet::new([])), Time(1000), true, 1000);
        let two = Ledger::next(&one, Arc::new(TxSet::new([])), Time(2000), true, 1000);
        let l = |x: &Ledger| {
            crate::contract::build::output_event(
                &crate::consensus::engine::Output::LedgerFullyValidated(Arc::new(x.clone())),
            )
            .expect("an event")
        };
        m.on_event(&l(&one), t0);
        m.on_event(&l(&two), t0 + std::time::Duration::from_millis(1500));
        m.on_event(&l(&two), t0 + std::time::Duration::from_millis(1600));
        assert_eq!(m.ledger_interval.count(), 1);
        assert!((m.ledger_interval.sum - 1.5).abs() < 1e-9);
    }

    #[test]
    fn libp2p_registry_converts_to_004() {
        let (hook, state) = new();
        let _ = &hook;
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &state.registry.lock().unwrap())
            .unwrap();
        assert!(text.contains("# EOF"));
        let converted = openmetrics_to_004(&text);
        assert!(!converted.contains("# EOF"));
        assert!(!converted.contains("# UNIT"));
        assert!(converted.contains("# TYPE libp2p_"), "{converted}");
        check_004(&converted);
        let om = "# HELP a_b Things.\n# TYPE a_b counter\n\
                  a_b_total{x=\"1\"} 3 # {id=\"e\"} 1\n\
                  # HELP v Build.\n# TYPE v info\nv_info{version=\"1\"} 1\n\
                  # TYPE u unknown\nu 2\n# EOF\n";
        assert_eq!(
            openmetrics_to_004(om),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total{x=\"1\"} 3\n\
             # HELP v_info Build.\n# TYPE v_info gauge\nv_info{version=\"1\"} 1\n\
             # TYPE u untyped\nu 2\n"
        );
    }

    #[test]
    fn labels_are_escaped_and_numbers_are_prometheus_floats() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(3.0), "3");
    }
}
