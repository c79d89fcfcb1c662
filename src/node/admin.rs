//! The local admin endpoint: a small HTTP server on loopback for `cpeers status`,
//! `cpeers submit`, scripts and tests. It has no authentication, so configs refuse any
//! address that is not loopback.
//!
//! - `GET /status` — the node snapshot (consensus state, peers, counters) as JSON.
//! - `GET /validated?from=N` — up to 256 fully validated ledgers from the store, with payloads.
//! - `POST /submit` — `{"txs": ["payload", ...]}`: submit transactions.
//!
//! It runs on its own thread and only reads the latest snapshot or sends commands, so a slow
//! client can never hold up consensus.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tiny_http::{Header, Method, Response, Server};
use tokio::sync::{mpsc, watch};

use super::commands::NodeCommand;
use super::events::NodeSnapshot;
use crate::consensus::{Command, Tx};
use crate::storage::LedgerStore;

/// Largest request body accepted.
const MAX_BODY: usize = 4 << 20;
/// Most ledgers in one `/validated` answer.
const MAX_LEDGERS: u32 = 256;

/// A running admin server.
pub struct AdminServer {
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl AdminServer {
    /// The bound address (the port is real even when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Why the admin server did not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve the admin endpoint on {addr}: {reason}")]
pub struct AdminError {
    addr: SocketAddr,
    reason: String,
}

#[derive(Deserialize)]
struct SubmitBody {
    txs: Vec<String>,
}

/// One fully validated ledger as `/validated` returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerJson {
    /// Sequence.
    pub seq: u32,
    /// Hash (hex).
    pub hash: String,
    /// Parent hash (hex).
    pub parent: String,
    /// Close time (ms).
    pub close_time: i64,
    /// Whether the close time was agreed.
    pub close_time_agreed: bool,
    /// Payloads (lossy text).
    pub txs: Vec<String>,
}

/// Starts serving on `addr`.
pub fn serve(
    addr: SocketAddr,
    snapshot: watch::Receiver<Arc<NodeSnapshot>>,
    commands: mpsc::Sender<NodeCommand>,
    store: Arc<LedgerStore>,
) -> Result<AdminServer, AdminError> {
    let server = Server::http(addr).map_err(|e| AdminError {
        addr,
        reason: e.to_string(),
    })?;
    let bound = server.server_addr().to_ip().ok_or_else(|| AdminError {
        addr,
        reason: "not an IP listener".into(),
    })?;
    let server = Arc::new(server);
    let s = server.clone();
    let thread = std::thread::Builder::new()
        .name("cpeers-admin".into())
        .spawn(move || {
            for mut req in s.incoming_requests() {
                let (code, body) = route(&mut req, &snapshot, &commands, &store);
                let json = Header::from_bytes("Content-Type", "application/json").ok();
                let mut resp = Response::from_string(body).with_status_code(code);
                if let Some(h) = json {
                    resp = resp.with_header(h);
                }
                let _ = req.respond(resp);
            }
        })
        .map_err(|e| AdminError {
            addr,
            reason: e.to_string(),
        })?;
    Ok(AdminServer {
        server,
        thread: Some(thread),
        addr: bound,
    })
}

fn error(code: u16, msg: &str) -> (u16, String) {
    (code, serde_json::json!({ "error": msg }).to_string())
}

fn route(
    req: &mut tiny_http::Request,
    snapshot: &watch::Receiver<Arc<NodeSnapshot>>,
    commands: &mpsc::Sender<NodeCommand>,
    store: &LedgerStore,
) -> (u16, String) {
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    match (req.method(), path) {
        (Method::Get, "/status") => {
            let snap = snapshot.borrow().clone();
            match serde_json::to_string(&*snap) {
                Ok(s) => (200, s),
                Err(e) => error(500, &e.to_string()),
            }
        }
        (Method::Get, "/validated") => {
            let from = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("from="))
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1);
            let mut out = Vec::new();
            for seq in from..from.saturating_add(MAX_LEDGERS) {
                match store.validated_at(seq) {
                    Ok(Some(l)) => out.push(LedgerJson {
                        seq: l.seq(),
                        hash: l.hash().to_hex(),
                        parent: l.parent().to_hex(),
                        close_time: l.close_time().ms(),
                        close_time_agreed: l.close_time_agreed(),
                        txs: l.txs().iter().map(|t| t.text()).collect(),
                    }),
                    Ok(None) => break,
                    Err(e) => return error(500, &e.to_string()),
                }
            }
            match serde_json::to_string(&out) {
                Ok(s) => (200, s),
                Err(e) => error(500, &e.to_string()),
            }
        }
        (Method::Post, "/submit") => {
            if req.body_length().is_some_and(|n| n > MAX_BODY) {
                return error(413, "body too large");
            }
            let mut body = Vec::new();
            if let Err(e) = req
                .as_reader()
                .take(MAX_BODY as u64 + 1)
                .read_to_end(&mut body)
            {
                return error(400, &e.to_string());
            }
            if body.len() > MAX_BODY {
                return error(413, "body too large");
            }
            let parsed: SubmitBody = match serde_json::from_slice(&body) {
                Ok(b) => b,
                Err(e) => {
                    return error(
                        400,
                        &format!("expected {{\"txs\": [\"payload\", ...]}}: {e}"),
                    );
                }
            };
            let mut txs = Vec::with_capacity(parsed.txs.len());
            for (i, p) in parsed.txs.into_iter().enumerate() {
                match Tx::new(p.into_bytes()) {
                    Ok(t) => txs.push(t),
                    Err(e) => return error(400, &format!("txs[{i}]: {e}")),
                }
            }
            let n = txs.len();
            match commands.blocking_send(NodeCommand::Engine(Command::Submit(txs))) {
                Ok(()) => (200, serde_json::json!({ "submitted": n }).to_string()),
                Err(_) => error(503, "node is shutting down"),
            }
        }
        _ => error(
            404,
            "no such endpoint (GET /status, GET /validated?from=N, POST /submit)",
        ),
    }
}
