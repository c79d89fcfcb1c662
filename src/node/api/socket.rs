//! One subscriber of the stream: a snapshot first, then every numbered item after it, replies
//! to the requests it sends, and nothing the node ever waits for.
//!
//! A subscriber that falls more than the hub's capacity behind gets a fresh snapshot
//! (`"resync": true`, counted). One that takes no frame for [`SEND_TIMEOUT`] (it stopped
//! reading, so the socket's buffers are full) is dropped with close code 1008 and a reason,
//! counted: what the node holds for it is the hub's bounded ring, one frame and the kernel's
//! socket buffers.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::{broadcast, mpsc};

use super::ApiState;
use super::hub::ApiStats;
use crate::contract::frame::{self, Frame};
use crate::contract::{Reply, request};

/// A subscriber that takes no frame for this long is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Most bytes buffered for one subscriber beyond the socket (a snapshot frame fits).
pub const MAX_WRITE_BUFFER: usize = 16 << 20;
/// Replies waiting to be sent on one connection.
const REPLIES: usize = 64;

/// Close code for "policy violation" (RFC 6455): here, not taking frames.
const CLOSE_TOO_SLOW: u16 = 1008;
/// Close code for "going away": the node stops.
const CLOSE_GOING_AWAY: u16 = 1001;

struct Conn {
    ws: WebSocket,
    seq: u64,
    st: Arc<ApiState>,
}

impl Conn {
    /// Sends one encoded frame with the next `seq`; false when the connection is over.
    async fn send(&mut self, body: &str) -> bool {
        let text = frame::with_seq(self.seq + 1, body);
        let len = text.len() as u64;
        match tokio::time::timeout(SEND_TIMEOUT, self.ws.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => {
                self.seq += 1;
                let s = &self.st.hub.stats;
                ApiStats::count(&s.frames_sent);
                s.bytes_sent.fetch_add(len, Ordering::Relaxed);
                true
            }
            Ok(Err(_)) => false,
            Err(_) => {
                ApiStats::count(&self.st.hub.stats.dropped_slow);
                tracing::warn!("dropped a stream subscriber that took no frame for 5 s");
                self.close(
                    CLOSE_TOO_SLOW,
                    "cpeers: took no frame for 5 s; reconnect for a fresh snapshot",
                )
                .await;
                false
            }
        }
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let msg = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(Duration::from_millis(200), self.ws.send(msg)).await;
    }

    /// Handles one text frame from the client: a request. Immediate answers (bad request,
    /// read-only) are returned; others are handed to the node and answered through `replies`.
    fn request(
        &self,
        text: &str,
        authorized: bool,
        replies: &mpsc::Sender<Reply>,
    ) -> Option<Reply> {
        let e = match request::decode(text.as_bytes()) {
            Ok(e) => e,
            Err(e) => {
                ApiStats::count(&self.st.hub.stats.bad_requests);
                return Some(Reply::error(None, 400, e.to_string()));
            }
        };
        if e.request.changes_state() && !authorized {
            ApiStats::count(&self.st.hub.stats.unauthorized);
            return Some(Reply::error(
                e.id,
                401,
                format!(
                    "read-only connection: `{}` changes the node and needs its admin token \
                     (connect with `Authorization: Bearer <token>`; the token is in the node's \
                     <data_dir>/admin.token)",
                    e.request.name()
                ),
            ));
        }
        let st = self.st.clone();
        let replies = replies.clone();
        tokio::spawn(async move {
            let r = st.ask(e).await;
            let _ = replies.send(r).await;
        });
        None
    }
}

/// Serves one subscriber until it leaves, falls too far behind to keep, or the node stops.
pub(super) async fn serve(ws: WebSocket, st: Arc<ApiState>, authorized: bool) {
    let stats = &st.hub.stats;
    ApiStats::count(&stats.subscriptions);
    stats.subscribers.fetch_add(1, Ordering::Relaxed);
    let _gone = Gone(st.clone());
    let (snap, mut after, mut rx) = st.hub.subscribe(!authorized);
    let mut c = Conn {
        ws,
        seq: 0,
        st: st.clone(),
    };
    if !c.send(&frame::encode(&Frame::Snapshot(snap))).await {
        return;
    }
    let (reply_tx, mut reply_rx) = mpsc::channel::<Reply>(REPLIES);
    loop {
        tokio::select! {
            item = rx.recv() => match item {
                Ok(item) => {
                    if item.n > after && !c.send(item.json()).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    ApiStats::count(&st.hub.stats.resyncs);
                    let (snap, n, fresh) = st.hub.subscribe(!authorized);
                    let mut snap = snap;
                    snap.resync = true;
                    after = n;
                    rx = fresh;
                    if !c.send(&frame::encode(&Frame::Snapshot(snap))).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => {
                    c.close(CLOSE_GOING_AWAY, "cpeers: the node is stopping").await;
                    return;
                }
            },
            msg = c.ws.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(t))) => {
                    if let Some(r) = c.request(t.as_str(), authorized, &reply_tx)
                        && !c.send(&frame::encode(&Frame::Reply(r))).await
                    {
                        return;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    ApiStats::count(&st.hub.stats.bad_requests);
                    let r = Reply::error(None, 400, "requests are JSON text frames, not binary");
                    if !c.send(&frame::encode(&Frame::Reply(r))).await {
                        return;
                    }
                }
                Some(Ok(_)) => {} // ping / pong: answered by the WebSocket layer
            },
            Some(r) = reply_rx.recv() => {
                if !c.send(&frame::encode(&Frame::Reply(r))).await {
                    return;
                }
            }
        }
    }
}

/// Counts the subscriber out however the connection ends.
struct Gone(Arc<ApiState>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.hub.stats.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}
