//! The stream's hub: every node event and status update gets a number, is folded into the
//! dashboard history the node keeps for whoever attaches, and is handed to subscribers as a
//! shared frame (serialised at most once, by the first connection that sends it).
//!
//! The node never waits here: publishing takes a short lock and a bounded broadcast send; a
//! subscriber that falls more than [`CAPACITY`] items behind loses them and gets a fresh
//! snapshot instead. Subscribing takes the same lock, so a snapshot and the items after it
//! fit exactly: every item numbered above the snapshot's number is new to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use crate::consensus::Time;
use crate::contract::frame::{self, API_VERSION};
use crate::contract::patch;
use crate::contract::{
    ApiCounters, EventFrame, Frame, NodeEvent, NodeSnapshot, SnapshotFrame, StatusFrame,
};
use crate::store::{Store, StoreLimits};

/// Items a subscriber may fall behind before it is resynchronised.
pub const CAPACITY: usize = 4096;
/// Least time between two status frames: the status of a busy node is tens of kilobytes, and a
/// dashboard needs no more than four a second.
pub const STATUS_GAP: Duration = Duration::from_millis(250);

/// One numbered frame, shared by every subscriber.
#[derive(Debug)]
pub struct Item {
    /// Its number in the node's stream.
    pub n: u64,
    /// The frame.
    pub frame: Frame,
    json: OnceLock<String>,
}

impl Item {
    /// The frame's JSON (without `seq`), serialised once.
    pub fn json(&self) -> &str {
        self.json.get_or_init(|| frame::encode(&self.frame))
    }
}

struct State {
    n: u64,
    history: Store,
    /// The latest status.
    status: Arc<NodeSnapshot>,
    /// The status subscribers hold (the last one sent, or the one a new subscriber gets).
    held: Arc<NodeSnapshot>,
    /// `held` as JSON, the base of the next patch (made only while someone subscribes).
    held_json: Option<serde_json::Value>,
    /// `status` is newer than `held`.
    pending: bool,
    /// When the last status frame went out.
    last_sent: Instant,
}

/// The admin API's counters (atomics: connections update them without a lock).
#[derive(Debug, Default)]
pub struct ApiStats {
    /// Open subscriptions.
    pub subscribers: AtomicU64,
    /// Subscriptions ever opened.
    pub subscriptions: AtomicU64,
    /// Fresh snapshots sent to subscribers that fell behind.
    pub resyncs: AtomicU64,
    /// Subscribers dropped for not taking frames.
    pub dropped_slow: AtomicU64,
    /// 401 answers.
    pub unauthorized: AtomicU64,
    /// 400 answers and unreadable socket frames.
    pub bad_requests: AtomicU64,
    /// Frames sent on the stream.
    pub frames_sent: AtomicU64,
    /// Bytes sent on the stream.
    pub bytes_sent: AtomicU64,
}

impl ApiStats {
    /// Adds one to `c`.
    pub fn count(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn read(&self) -> ApiCounters {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ApiCounters {
            subscribers: r(&self.subscribers),
            subscriptions: r(&self.subscriptions),
            resyncs: r(&self.resyncs),
            dropped_slow: r(&self.dropped_slow),
            unauthorized: r(&self.unauthorized),
            bad_requests: r(&self.bad_requests),
            frames_sent: r(&self.frames_sent),
            bytes_sent: r(&self.bytes_sent),
        }
    }
}

/// The hub.
pub struct Hub {
    state: Mutex<State>,
    tx: broadcast::Sender<Arc<Item>>,
    /// The API's counters (shown in the node's status).
    pub stats: ApiStats,
}

impl Hub {
    /// A hub starting from `status`.
    pub fn new(status: Arc<NodeSnapshot>) -> Hub {
        let (tx, _) = broadcast::channel(CAPACITY);
        let mut history = Store::new(StoreLimits::default());
        history.set_snapshot(status.clone());
        Hub {
            state: Mutex::new(State {
                n: 0,
                history,
                held: status.clone(),
                status,
                held_json: None,
                pending: false,
                last_sent: Instant::now(),
            }),
            tx,
            stats: ApiStats::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while folding leaves a usable history behind.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, st: &mut State, frame: Frame) {
        st.n += 1;
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Arc::new(Item {
                n: st.n,
                frame,
                json: OnceLock::new(),
            }));
        }
    }

    /// A node event happened at `at`.
    pub fn event(&self, at: Time, event: NodeEvent) {
        let mut st = self.lock();
        st.history.apply(&event, at);
        self.send(&mut st, Frame::Event(EventFrame { at, event }));
    }

    /// The node's status changed: subscribers get what changed, as a merge patch of the
    /// status they hold, at most every [`STATUS_GAP`] (or nothing when nothing did).
    pub fn status(&self, node: Arc<NodeSnapshot>) {
        let mut st = self.lock();
        st.history.set_snapshot(node.clone());
        st.status = node;
        st.pending = true;
        self.send_status(&mut st);
    }

    /// Sends a status change held back by [`STATUS_GAP`], once it is due.
    pub fn flush_status(&self) {
        let mut st = self.lock();
        if st.pending {
            self.send_status(&mut st);
        }
    }

    fn send_status(&self, st: &mut State) {
        if self.tx.receiver_count() == 0 {
            st.held = st.status.clone();
            st.held_json = None;
            st.pending = false;
            return;
        }
        if st.last_sent.elapsed() < STATUS_GAP {
            return;
        }
        let base = match st.held_json.take() {
            Some(v) => v,
            None => serde_json::to_value(&*st.held).unwrap_or_default(),
        };
        let now = serde_json::to_value(&*st.status).unwrap_or_default();
        let change = patch::diff(&base, &now);
        st.held = st.status.clone();
        st.held_json = Some(now);
        st.pending = false;
        st.last_sent = Instant::now();
        if let Some(patch) = change {
            self.send(
                st,
                Frame::Status(StatusFrame {
                    node: None,
                    patch: Some(patch),
                }),
            );
        }
    }

    /// The latest status.
    pub fn latest(&self) -> Arc<NodeSnapshot> {
        self.lock().status.clone()
    }

    /// A snapshot of everything so far, its number, and the items after it.
    pub fn subscribe(
        &self,
        read_only: bool,
    ) -> (SnapshotFrame, u64, broadcast::Receiver<Arc<Item>>) {
        let st = self.lock();
        let rx = self.tx.subscribe();
        (self.snapshot_of(&st, read_only, false), st.n, rx)
    }

    fn snapshot_of(&self, st: &State, read_only: bool, resync: bool) -> SnapshotFrame {
        SnapshotFrame {
            api: API_VERSION,
            read_only,
            resync,
            node: st.held.clone(),
            history: st.history.history(),
        }
    }
}
