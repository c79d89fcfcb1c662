//! The admin API of real `cpeers node` processes on 127.0.0.1 (fast profile): the stream
//! (`GET /subscribe`) starts with a snapshot and numbers every frame, answers requests sent on
//! the socket, keeps state changes behind the admin token (401 without it, counted), answers
//! bad requests with 400 (counted), and a subscriber that never reads is dropped while the node
//! keeps validating at its usual interval.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use cpeers::admin_token::AdminToken;
use cpeers::bench::cluster::LocalCluster;
use cpeers::consensus::Profile;
use cpeers::contract::frame::{self, Frame};
use cpeers::contract::{Answer, NodeEvent};
use cpeers::node::admin_client::{ClientError, call, call_with_token};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn cluster(name: &str) -> LocalCluster {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpeers"));
    let c = LocalCluster::start(bin, name, 3, Profile::Fast).expect("cluster starts");
    assert!(
        c.wait_for(Duration::from_secs(40), |c| c.min_validated(&[0, 1, 2])
            >= 2),
        "the cluster did not validate\n{}",
        c.tails()
    );
    c
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(addr: SocketAddr, token: Option<&AdminToken>) -> Ws {
    let mut req = format!("ws://{addr}/subscribe")
        .into_client_request()
        .unwrap();
    if let Some(t) = token {
        req.headers_mut().insert(
            "Authorization",
            format!("Bearer {}", t.as_str()).parse().unwrap(),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade")
        .0
}

/// The next frame and its seq.
async fn next(ws: &mut Ws) -> (u64, Frame) {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(t) = m {
            return frame::decode(t.as_str()).expect("a readable frame");
        }
    }
}

/// Frames until a reply comes (checking the seq goes up by one each time).
async fn reply(ws: &mut Ws, seq: &mut u64) -> cpeers::contract::Reply {
    loop {
        let (s, f) = next(ws).await;
        assert_eq!(s, *seq + 1, "seq goes up by one per frame");
        *seq = s;
        if let Frame::Reply(r) = f {
            return r;
        }
    }
}

#[test]
fn the_stream_numbers_frames_answers_requests_and_keeps_changes_behind_the_token() {
    let c = cluster("api-stream");
    let addr = c.nodes[0].admin;
    let token = c.nodes[0].token().expect("the node wrote its admin token");
    rt().block_on(async {
        // Read-only: a snapshot first (status and the feeds so far), then numbered frames.
        let mut ws = connect(addr, None).await;
        let (seq, f) = next(&mut ws).await;
        assert_eq!(seq, 1);
        let Frame::Snapshot(s) = f else {
            panic!("the first frame is a snapshot")
        };
        assert!(s.read_only);
        assert!(!s.resync);
        assert!(s.node.info.fully_validated.seq >= 2);
        assert!(
            !s.history.ledgers.is_empty(),
            "the snapshot carries the ledgers so far"
        );
        let mut last = seq;
        let (mut saw_status, mut saw_validated) = (false, false);
        let end = Instant::now() + Duration::from_secs(20);
        while !(saw_status && saw_validated) && Instant::now() < end {
            let (seq, f) = next(&mut ws).await;
            assert_eq!(seq, last + 1);
            last = seq;
            match f {
                Frame::Status(s) => saw_status = s.patch.is_some() && s.node.is_none(),
                Frame::Event(e) => {
                    saw_validated |= matches!(e.event, NodeEvent::LedgerValidated { .. })
                }
                _ => {}
            }
        }
        assert!(saw_status && saw_validated, "status and ledger events flow");

        // Reading needs no token; changing does; garbage is a 400 that says why.
        ws.send(Message::Text(r#"{"id": 1, "cmd": "composer"}"#.into()))
            .await
            .unwrap();
        let r = reply(&mut ws, &mut last).await;
        assert_eq!((r.id, r.status), (Some(1), 200));
        assert!(matches!(r.result, Some(Answer::Composer(_))));
        ws.send(Message::Text(
            r#"{"id": 2, "cmd": "submit", "txs": ["ro"]}"#.into(),
        ))
        .await
        .unwrap();
        let r = reply(&mut ws, &mut last).await;
        assert_eq!((r.id, r.status), (Some(2), 401));
        assert!(r.error.unwrap().contains("read-only"));
        ws.send(Message::Text("launch the rockets".into()))
            .await
            .unwrap();
        let r = reply(&mut ws, &mut last).await;
        assert_eq!(r.status, 400);
        assert!(r.error.unwrap().contains("not JSON"));

        // With the token the same socket request is accepted.
        let mut rw = connect(addr, Some(&token)).await;
        let (_, f) = next(&mut rw).await;
        assert!(matches!(f, Frame::Snapshot(s) if !s.read_only));
        rw.send(Message::Text(
            r#"{"id": 3, "cmd": "submit", "txs": ["with-token"]}"#.into(),
        ))
        .await
        .unwrap();
        let mut seq = 1;
        let r = reply(&mut rw, &mut seq).await;
        assert_eq!((r.id, r.status), (Some(3), 200));
        let Some(Answer::Admission(a)) = r.result else {
            panic!("an admission")
        };
        assert_eq!((a.accepted, a.known, a.refused.len()), (1, 0, 0));
    });

    // Over HTTP: 401 without the token or with a wrong one, 200 with it.
    let body = r#"{"txs": ["over-http"]}"#;
    let e = call(addr, "POST", "/submit", Some(body)).unwrap_err();
    assert!(
        matches!(e, ClientError::Status { status: 401, ref body } if body.contains("admin token"))
    );
    let wrong = cpeers::admin_token::load(&c.nodes[1].token_file()).unwrap();
    assert!(matches!(
        call_with_token(addr, "POST", "/submit", Some(body), Some(&wrong)),
        Err(ClientError::Status { status: 401, .. })
    ));
    let ok = call_with_token(addr, "POST", "/submit", Some(body), Some(&token)).unwrap();
    assert!(ok.contains("\"accepted\":1"), "{ok}");
    let vote = format!(
        r#"{{"cmd": "vote", "tx": "{}", "vote": "yes"}}"#,
        "ab".repeat(32)
    );
    assert!(matches!(
        call(addr, "POST", "/command", Some(&vote)),
        Err(ClientError::Status { status: 401, .. })
    ));
    assert!(matches!(
        call_with_token(addr, "POST", "/command", Some(&vote), Some(&token)),
        Err(ClientError::Status { status: 409, ref body }) if body.contains("not disputed")
    ));
    assert!(matches!(
        call(addr, "POST", "/submit", Some("{\"txs\": 5}")),
        Err(ClientError::Status { status: 401, .. })
    ));
    assert!(matches!(
        call_with_token(addr, "POST", "/submit", Some("{\"txs\": 5}"), Some(&token)),
        Err(ClientError::Status { status: 400, ref body }) if body.contains("expected {")
    ));
    // Every refusal was counted where an operator sees it.
    let mut api = serde_json::Value::Null;
    assert!(
        c.wait_for(Duration::from_secs(5), |c| {
            api = c.status(0).map(|s| s["api"].clone()).unwrap_or_default();
            api["unauthorized"].as_u64() >= Some(5) && api["bad_requests"].as_u64() >= Some(2)
        }),
        "{api}"
    );
    let metrics = call(addr, "GET", "/metrics", None).unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("cpeers_api_events_total{event=\"unauthorized\"}")),
        "{metrics}"
    );
}

/// Opens a subscription with a tiny receive buffer and never reads from it.
async fn stuck_subscriber(addr: SocketAddr) -> Ws {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(addr).await.unwrap();
    let req = format!("ws://{addr}/subscribe")
        .into_client_request()
        .unwrap();
    let (ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .expect("upgrade");
    ws
}

/// Median time between the fully validated ledgers a status lists, validated after `from` ms.
fn median_interval(status: &serde_json::Value, from: i64) -> Option<f64> {
    let times: Vec<f64> = status["recent_validated"]
        .as_array()?
        .iter()
        .filter_map(|v| v["validated_at"].as_f64())
        .filter(|t| *t as i64 >= from)
        .collect();
    let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.len() < 3 {
        return None;
    }
    gaps.sort_by(|a, b| a.total_cmp(b));
    Some(gaps[gaps.len() / 2])
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_subscriber_that_never_reads_is_dropped_while_the_node_keeps_validating() {
    let c = cluster("api-stuck");
    let addr = c.nodes[0].admin;
    std::thread::sleep(Duration::from_secs(3));
    let before = median_interval(&c.status(0).unwrap(), 0).expect("ledgers before");
    let since = now_ms();
    let rt = rt();
    let _stuck = rt.block_on(stuck_subscriber(addr));
    // Transactions make events and status frames bigger, so the socket fills sooner.
    let mut k = 0;
    let mut api = serde_json::Value::Null;
    let dropped = c.wait_for(Duration::from_secs(90), |c| {
        k += 1;
        let txs: Vec<String> = (0..50)
            .map(|j| format!("stuck-{k}-{j}-{}", "x".repeat(200)))
            .collect();
        let _ = c.submit(0, &txs);
        api = c.status(0).map(|s| s["api"].clone()).unwrap_or_default();
        api["dropped_slow"].as_u64() >= Some(1) || api["resyncs"].as_u64() >= Some(1)
    });
    assert!(
        dropped,
        "the stuck subscriber was neither resynchronised nor dropped: {api}\n{}",
        c.tails()
    );
    // Meanwhile the node kept its ledger interval (and keeps it).
    std::thread::sleep(Duration::from_secs(2));
    let during = median_interval(&c.status(0).unwrap(), since).expect("ledgers meanwhile");
    assert!(
        during <= before * 2.0 + 100.0,
        "ledger interval {during} ms with a stuck subscriber, {before} ms before"
    );
    drop(rt);
}
