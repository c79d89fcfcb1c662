//! A WebSocket client of a node's stream: connects to `ws://ADDR/subscribe` (with the admin
//! token, when given), turns text frames into [`Update`]s, sends requests, and when the
//! connection is lost, reports it and tries again with backoff (100 ms doubling to at most
//! 2 s between tries), resynchronising from the fresh snapshot the node sends first. It never
//! panics on what the node sends: a frame it cannot read is reported and skipped.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{Link, UPDATES, Update};
use crate::admin_token::AdminToken;
use crate::consensus::Time;
use crate::contract::frame::{self, Frame};
use crate::contract::{Envelope, NodeSnapshot, Reply, StatusFrame, patch};

/// Longest wait between two connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// First wait after a failed attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A connection that delivers nothing (not even a pong) for this long is given up.
const SILENCE: Duration = Duration::from_secs(10);
/// How often the client pings.
const PING: Duration = Duration::from_secs(3);

/// The wall clock (Unix ms).
pub fn wall_clock() -> Time {
    Time(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}

/// Attaches to the node whose admin endpoint is `addr` (`host:port`), in the background (on
/// the current tokio runtime). The link lives until its updates receiver is dropped.
pub fn connect(addr: String, token: Option<AdminToken>) -> Link {
    let (up_tx, up_rx) = mpsc::channel(UPDATES);
    let (req_tx, req_rx) = mpsc::channel(64);
    let can_change = token.is_some();
    tokio::spawn(run(addr.clone(), token, up_tx, req_rx));
    Link {
        label: addr,
        updates: up_rx,
        requests: req_tx,
        can_change,
    }
}

async fn run(
    addr: String,
    token: Option<AdminToken>,
    updates: mpsc::Sender<Update>,
    mut requests: mpsc::Receiver<Envelope>,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut down: Option<(Time, String)> = None;
    loop {
        let outcome = match request(&addr, token.as_ref()) {
            Err(e) => Err(e),
            Ok(req) => tokio_tungstenite::connect_async(req)
                .await
                .map_err(|e| describe(&e)),
        };
        let why = match outcome {
            Ok((ws, _)) => {
                backoff = FIRST_BACKOFF;
                down = None;
                if updates.send(Update::Connected).await.is_err() {
                    return;
                }
                match session(ws, &updates, &mut requests).await {
                    Some(why) => why,
                    None => return, // the dashboard left
                }
            }
            Err(e) => e,
        };
        let since = match &down {
            Some((_, last)) if *last == why => None, // same trouble: already reported
            Some((since, _)) => {
                let since = *since;
                down = Some((since, why.clone()));
                Some(since)
            }
            None => {
                let since = wall_clock();
                down = Some((since, why.clone()));
                Some(since)
            }
        };
        if let Some(since) = since
            && updates
                .send(Update::Disconnected { since, reason: why })
                .await
                .is_err()
        {
            return;
        }
        // Wait before trying again, answering requests meanwhile.
        let wake = tokio::time::sleep(backoff);
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = &mut wake => break,
                r = requests.recv() => match r {
                    None => return,
                    Some(e) => {
                        let reply = Reply::error(e.id, 503, format!("not connected to {addr}; retrying"));
                        if updates.send(Update::Frame(Box::new(Frame::Reply(reply)))).await.is_err() {
                            return;
                        }
                    }
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The upgrade request, with the token when there is one.
fn request(
    addr: &str,
    token: Option<&AdminToken>,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, String> {
    let mut req = format!("ws://{addr}/subscribe")
        .into_client_request()
        .map_err(|e| format!("{addr} is not a host:port address ({e})"))?;
    if let Some(t) = token {
        let v = HeaderValue::from_str(&format!("Bearer {}", t.as_str()))
            .map_err(|_| "the admin token is not a valid header value".to_string())?;
        req.headers_mut().insert("Authorization", v);
    }
    Ok(req)
}

fn describe(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Io(io) => io.to_string(),
        E::Http(resp) => format!(
            "the address answered HTTP {} instead of the stream (is it a cpeers admin address?)",
            resp.status()
        ),
        other => other.to_string(),
    }
}

/// Turns a status patch into the whole status (the dashboard always gets the whole status),
/// keeping the base the next patch applies to.
fn resolve(base: &mut Option<serde_json::Value>, f: Frame) -> Result<Frame, String> {
    let whole = |node: std::sync::Arc<NodeSnapshot>| {
        Frame::Status(StatusFrame {
            node: Some(node),
            patch: None,
        })
    };
    match f {
        Frame::Snapshot(s) => {
            *base = serde_json::to_value(&*s.node).ok();
            Ok(Frame::Snapshot(s))
        }
        Frame::Status(StatusFrame {
            node: Some(node), ..
        }) => {
            *base = serde_json::to_value(&*node).ok();
            Ok(whole(node))
        }
        Frame::Status(StatusFrame { patch: Some(p), .. }) => {
            let Some(b) = base.as_mut() else {
                return Err("a status patch before any snapshot".into());
            };
            patch::apply(b, &p);
            let node: NodeSnapshot = serde_json::from_value(b.clone())
                .map_err(|e| format!("a status patch that does not fit the status: {e}"))?;
            Ok(whole(std::sync::Arc::new(node)))
        }
        Frame::Status(_) => Err("a status frame with neither status nor patch".into()),
        other => Ok(other),
    }
}

/// One connection: frames in, requests out, until it ends (`Some(why)`) or the dashboard
/// leaves (`None`).
async fn session(
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    updates: &mpsc::Sender<Update>,
    requests: &mut mpsc::Receiver<Envelope>,
) -> Option<String> {
    let (mut sink, mut stream) = ws.split();
    let mut last_seq = 0u64;
    // The status as the node last described it, the base of the next patch.
    let mut base: Option<serde_json::Value> = None;
    let mut ping = tokio::time::interval(PING);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = tokio::time::timeout(SILENCE, stream.next()) => {
                let msg = match msg {
                    Err(_) => return Some(format!("no frame for {} s", SILENCE.as_secs())),
                    Ok(None) => return Some("the connection closed".into()),
                    Ok(Some(Err(e))) => return Some(describe(&e)),
                    Ok(Some(Ok(m))) => m,
                };
                let update = match msg {
                    Message::Text(t) => match frame::decode(t.as_str()) {
                        Ok((seq, f)) => {
                            if seq <= last_seq {
                                Update::BadFrame(format!("frame seq {seq} after {last_seq}: out of order"))
                            } else {
                                last_seq = seq;
                                match resolve(&mut base, f) {
                                    Ok(f) => Update::Frame(Box::new(f)),
                                    Err(why) => {
                                        // The status can no longer be followed: start over
                                        // from a fresh snapshot.
                                        let _ = updates.send(Update::BadFrame(why.clone())).await;
                                        return Some(why);
                                    }
                                }
                            }
                        }
                        Err(e) => Update::BadFrame(e.to_string()),
                    },
                    Message::Binary(_) => Update::BadFrame("a binary frame (the stream is JSON text)".into()),
                    Message::Close(c) => {
                        return Some(match c {
                            Some(c) if !c.reason.is_empty() => format!("the node closed the stream ({})", c.reason),
                            _ => "the node closed the stream".into(),
                        });
                    }
                    _ => continue, // ping / pong
                };
                if updates.send(update).await.is_err() {
                    return None;
                }
            }
            r = requests.recv() => match r {
                None => return None,
                Some(e) => {
                    let text = serde_json::to_string(&e).unwrap_or_default();
                    if let Err(e) = sink.send(Message::Text(text.into())).await {
                        return Some(describe(&e));
                    }
                }
            },
            _ = ping.tick() => {
                if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                    return Some(describe(&e));
                }
            }
        }
    }
}
