//! The admin API: one HTTP server (axum, on the node's tokio runtime) on the loopback admin
//! address, serving
//!
//! - `GET /status`: the node's status (the contract's `NodeSnapshot`) as JSON;
//! - `GET /validated?from=N`: up to 256 fully validated ledgers from the store, with payloads;
//! - `GET /subscribe`: the stream, a WebSocket ([`socket`]; frames in [`crate::contract::frame`]);
//! - `GET /metrics`: Prometheus text ([`super::metrics`]);
//! - `POST /submit`: `{"txs": [...]}`, answered with what became of each (admission);
//! - `POST /command`: any request of [`crate::contract::request`], answered with a reply.
//!
//! Reading needs no secret (the address is loopback); every state-changing request needs
//! `Authorization: Bearer <token>` ([`crate::admin_token`]), else 401, counted. Bad requests
//! get 400 with a message saying what was expected, counted. Requests reach the node task
//! through its bounded command queue: when it is full the answer is 503 with `Retry-After`,
//! so the API never queues without bound and never holds up consensus.
//!
//! With `--metrics ADDR`, `GET /metrics` is also served on ADDR (any address: it only reads).

pub mod hub;
mod socket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::commands::NodeCommand;
use super::metrics::MetricsState;
use crate::admin_token::AdminToken;
use crate::contract::request::{self, MAX_REQUEST_BYTES};
use crate::contract::{Envelope, NodeSnapshot, Payload, Reply, Request};
use crate::storage::LedgerStore;
use hub::{ApiStats, Hub};

/// Most ledgers in one `/validated` answer.
const MAX_LEDGERS: u32 = 256;
/// How long a request may wait for the node task to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// What every handler reads.
pub(crate) struct ApiState {
    pub(crate) hub: Arc<Hub>,
    snapshot: watch::Receiver<Arc<NodeSnapshot>>,
    commands: mpsc::Sender<NodeCommand>,
    store: Arc<LedgerStore>,
    token: Option<AdminToken>,
    metrics: MetricsState,
    retry_after_s: u64,
}

impl ApiState {
    fn stats(&self) -> &ApiStats {
        &self.hub.stats
    }

    /// Hands a request to the node task and waits for its reply (503 when the node's queue is
    /// full or it does not answer in time).
    pub(crate) async fn ask(&self, e: Envelope) -> Reply {
        let id = e.id;
        let (tx, rx) = oneshot::channel();
        if self.commands.try_send(NodeCommand::Api(e, tx)).is_err() {
            return Reply::error(
                id,
                503,
                "the node is busy (its command queue is full); retry shortly",
            );
        }
        match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Reply::error(id, 503, "the node is shutting down"),
            Err(_) => Reply::error(id, 503, "the node did not answer within 10 s"),
        }
    }

    /// Whether the request's headers carry the token.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        self.token.as_ref().is_some_and(|t| {
            t.authorizes(
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
            )
        })
    }
}

/// Why the API did not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve the admin endpoint on {addr}: {reason}")]
pub struct ApiError {
    addr: SocketAddr,
    reason: String,
}

/// A running API server; dropping it stops it.
pub struct ApiServer {
    addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl ApiServer {
    /// The bound admin address (the port is real even when 0 was asked for).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The separate metrics address, when one was asked for.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What the API serves from.
pub struct ApiParts {
    /// The stream hub.
    pub hub: Arc<Hub>,
    /// The node's status.
    pub snapshot: watch::Receiver<Arc<NodeSnapshot>>,
    /// The node's command queue.
    pub commands: mpsc::Sender<NodeCommand>,
    /// The ledger store.
    pub store: Arc<LedgerStore>,
    /// The admin token (none: the admin endpoint is off).
    pub token: Option<AdminToken>,
    /// Prometheus state.
    pub metrics: MetricsState,
    /// Seconds a client should wait after a 503.
    pub retry_after_s: u64,
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ApiError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ApiError {
            addr,
            reason: e.to_string(),
        })
}

/// Starts serving the admin API on `admin` (loopback only) and, when given, `GET /metrics`
/// alone on `metrics`.
pub async fn serve(
    admin: Option<SocketAddr>,
    metrics: Option<SocketAddr>,
    parts: ApiParts,
) -> Result<ApiServer, ApiError> {
    if let Some(a) = admin
        && !a.ip().is_loopback()
    {
        return Err(ApiError {
            addr: a,
            reason: "not a loopback address (the admin endpoint reads without a token)".into(),
        });
    }
    let state = Arc::new(ApiState {
        hub: parts.hub,
        snapshot: parts.snapshot,
        commands: parts.commands,
        store: parts.store,
        token: parts.token,
        metrics: parts.metrics,
        retry_after_s: parts.retry_after_s,
    });
    let mut tasks = Vec::new();
    let mut addr = None;
    if let Some(admin) = admin {
        let listener = bind(admin).await?;
        addr = Some(listener.local_addr().map_err(|e| ApiError {
            addr: admin,
            reason: e.to_string(),
        })?);
        let app = Router::new()
            .route("/", get(index))
            .route("/status", get(status))
            .route("/validated", get(validated))
            .route("/metrics", get(metrics_text))
            .route("/subscribe", get(subscribe))
            .route("/submit", post(submit))
            .route("/command", post(command))
            .fallback(not_found)
            .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
            .with_state(state.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("admin endpoint stopped: {e}");
            }
        }));
    }
    let mut metrics_addr = None;
    if let Some(m) = metrics {
        let listener = bind(m).await?;
        metrics_addr = listener.local_addr().ok();
        let app = Router::new()
            .route("/metrics", get(metrics_text))
            .route("/", get(|| async { "cpeers metrics: GET /metrics\n" }))
            .fallback(|| async { (StatusCode::NOT_FOUND, "no such endpoint (GET /metrics)\n") })
            .with_state(state);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("metrics endpoint stopped: {e}");
            }
        }));
    }
    Ok(ApiServer {
        addr,
        metrics_addr,
        tasks,
    })
}

const ENDPOINTS: &str = "GET /status, GET /validated?from=N, GET /subscribe (WebSocket), GET /metrics, POST /submit, POST /command";

fn json(status: u16, body: String) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error(status: u16, msg: &str) -> Response {
    json(status, serde_json::json!({ "error": msg }).to_string())
}

fn to_json<T: Serialize>(v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(s) => json(200, s),
        Err(e) => error(500, &e.to_string()),
    }
}

/// 401, counted, with what to do about it.
fn unauthorized(st: &ApiState) -> Response {
    ApiStats::count(&st.stats().unauthorized);
    let mut r = error(
        401,
        "this request changes the node and needs its admin token: send `Authorization: Bearer <token>` \
         (the token is in the node's <data_dir>/admin.token)",
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

fn bad_request(st: &ApiState, msg: &str) -> Response {
    ApiStats::count(&st.stats().bad_requests);
    error(400, msg)
}

/// A reply as an HTTP answer (503 with `Retry-After`).
fn reply_response(st: &ApiState, r: &Reply) -> Response {
    let mut resp = to_json(r);
    finish(st, &mut resp, r.status);
    resp
}

/// Sets the status; a 503 says when to come back.
fn finish(st: &ApiState, resp: &mut Response, status: u16) {
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if status == 503
        && let Ok(v) = HeaderValue::from_str(&st.retry_after_s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

async fn index() -> impl IntoResponse {
    format!("cpeers admin endpoint: {ENDPOINTS}\n")
}

async fn not_found() -> Response {
    error(404, &format!("no such endpoint ({ENDPOINTS})"))
}

async fn status(State(st): State<Arc<ApiState>>) -> Response {
    let snap = st.snapshot.borrow().clone();
    to_json(&*snap)
}

async fn metrics_text(State(st): State<Arc<ApiState>>) -> Response {
    let snap = st.snapshot.borrow().clone();
    (
        [(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)],
        st.metrics.render(&snap),
    )
        .into_response()
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

async fn validated(State(st): State<Arc<ApiState>>, uri: Uri) -> Response {
    let from = match uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("from="))
    {
        None => 1,
        Some(v) => match v.parse::<u32>() {
            Ok(n) => n,
            Err(_) => return bad_request(&st, "from must be a ledger sequence (0 to 4294967295)"),
        },
    };
    let store = st.store.clone();
    let read = tokio::task::spawn_blocking(move || {
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
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(out)
    })
    .await;
    match read {
        Ok(Ok(list)) => to_json(&list),
        Ok(Err(e)) => error(500, &e),
        Err(e) => error(500, &e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    txs: Vec<Payload>,
}

async fn submit(
    State(st): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if !st.authorized(&headers) {
        return unauthorized(&st);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => return bad_request(&st, &e.body_text()),
    };
    let parsed: SubmitBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad_request(
                &st,
                &format!("expected {{\"txs\": [\"payload\", ...]}}: {e}"),
            );
        }
    };
    let reply = st
        .ask(Envelope {
            id: None,
            request: Request::Submit { txs: parsed.txs },
        })
        .await;
    match &reply.result {
        // The admission itself is the answer (its status says 200, 400 or 503).
        Some(crate::contract::Answer::Admission(a)) => {
            let mut resp = to_json(a);
            finish(&st, &mut resp, reply.status);
            if let Some(s) = a.retry_after_s
                && let Ok(v) = HeaderValue::from_str(&s.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        _ => reply_response(&st, &reply),
    }
}

async fn command(
    State(st): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return bad_request(&st, &e.body_text()),
    };
    let envelope = match request::decode(&body) {
        Ok(e) => e,
        Err(e) => return bad_request(&st, &e.to_string()),
    };
    if envelope.request.changes_state() && !st.authorized(&headers) {
        return unauthorized(&st);
    }
    let reply = st.ask(envelope).await;
    reply_response(&st, &reply)
}

async fn subscribe(
    State(st): State<Arc<ApiState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let authorized = st.authorized(&headers);
    ws.max_message_size(MAX_REQUEST_BYTES)
        .max_write_buffer_size(socket::MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| socket::serve(socket, st, authorized))
}
