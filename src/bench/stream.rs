//! `cpeers bench stream`: what the admin stream costs. Real node processes on loopback (fast
//! profile) under a steady load of transactions; `subscribers` WebSocket clients attached to
//! node 0 read every frame. Reports the stream's bytes and frames per second per subscriber,
//! node 0's CPU against the other nodes' (the difference, divided by the subscribers, is what
//! one attached dashboard costs its node), and then the reconnect time: node 0 is killed (-9)
//! and restarted under a dashboard client (`attach::client`, the one `cpeers attach` uses), and
//! the time from the restart to the client's fresh snapshot is measured.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;

use super::cluster::LocalCluster;
use crate::attach::Update;
use crate::consensus::Profile;
use crate::contract::Frame;
use crate::node::process::cpu_ticks;

/// The result.
#[derive(Debug, Clone, Serialize)]
pub struct StreamBench {
    /// Node processes.
    pub nodes: usize,
    /// Transactions submitted per second (spread over the nodes).
    pub target_tps: u32,
    /// Measurement window (s).
    pub seconds: u32,
    /// Subscribers on node 0.
    pub subscribers: usize,
    /// Transactions accepted in the window.
    pub accepted: u64,
    /// Stream bytes per second, per subscriber.
    pub bytes_per_s: f64,
    /// Stream frames per second, per subscriber.
    pub frames_per_s: f64,
    /// Node 0's CPU (percent of one core) over the window.
    pub cpu_node0_pct: f64,
    /// The other nodes' CPU (each).
    pub cpu_others_pct: Vec<f64>,
    /// (node 0 - median of the others) / subscribers: what one subscriber costs its node.
    pub cpu_per_subscriber_pct: f64,
    /// From node 0's restart (process spawned) to the client's first snapshot (ms).
    pub reconnect_after_restart_ms: Option<f64>,
    /// From the kill to the client reporting the disconnection (ms).
    pub disconnect_noticed_ms: Option<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs it with the `cpeers` binary at `binary`.
pub fn run(
    binary: &Path,
    nodes: usize,
    tps: u32,
    seconds: u32,
    subscribers: usize,
) -> Result<StreamBench, String> {
    let n = nodes.max(2);
    let mut c =
        LocalCluster::start(binary, "bench-stream", n, Profile::Fast).map_err(|e| e.to_string())?;
    let all: Vec<usize> = (0..n).collect();
    if !c.wait_for(Duration::from_secs(40), |c| c.min_validated(&all) >= 2) {
        return Err(format!(
            "the cluster did not start validating\n{}",
            c.tails()
        ));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let addr = c.nodes[0].admin;
    let bytes = Arc::new(AtomicU64::new(0));
    let frames = Arc::new(AtomicU64::new(0));
    for _ in 0..subscribers {
        let (bytes, frames) = (bytes.clone(), frames.clone());
        let ws = rt
            .block_on(tokio_tungstenite::connect_async(format!(
                "ws://{addr}/subscribe"
            )))
            .map_err(|e| format!("cannot subscribe: {e}"))?
            .0;
        rt.spawn(async move {
            let mut ws = ws;
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    bytes.fetch_add(t.len() as u64, Ordering::Relaxed);
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    // Let the snapshots pass, then measure.
    std::thread::sleep(Duration::from_secs(2));
    let pids: Vec<u32> = c.nodes.iter().filter_map(|x| x.pid()).collect();
    let ticks0: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p).unwrap_or(0)).collect();
    let (b0, f0) = (
        bytes.load(Ordering::Relaxed),
        frames.load(Ordering::Relaxed),
    );
    let start = Instant::now();
    let end = start + Duration::from_secs(u64::from(seconds));
    let tick = Duration::from_millis(20);
    let per_tick = tps as f64 * tick.as_secs_f64();
    let (mut owed, mut accepted, mut k, mut target) = (0.0, 0u64, 0u64, 0usize);
    let mut next = start;
    while Instant::now() < end {
        owed += per_tick;
        let batch = owed.floor() as usize;
        owed -= batch as f64;
        if batch > 0 {
            let txs: Vec<String> = (0..batch)
                .map(|j| format!("stream-{k}-{j}-{}", start.elapsed().as_micros()))
                .collect();
            k += 1;
            if let Ok(a) = c.submit(target, &txs) {
                accepted += a.accepted as u64;
            }
            target = (target + 1) % n;
        }
        next += tick;
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    let window = start.elapsed().as_secs_f64();
    let ticks1: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p).unwrap_or(0)).collect();
    let (b1, f1) = (
        bytes.load(Ordering::Relaxed),
        frames.load(Ordering::Relaxed),
    );
    let clk = 100.0; // USER_HZ on Linux
    let cpu: Vec<f64> = ticks0
        .iter()
        .zip(&ticks1)
        .map(|(a, b)| (b.saturating_sub(*a) as f64 / clk) / window * 100.0)
        .collect();
    let others: Vec<f64> = cpu.iter().skip(1).copied().collect();
    let per_sub = subscribers.max(1) as f64;
    let cpu0 = cpu.first().copied().unwrap_or(0.0);

    // Reconnect: a dashboard client on node 0, node 0 killed and restarted under it.
    let token = c.nodes[0].token();
    let mut link = rt.block_on(async { crate::attach::client::connect(addr.to_string(), token) });
    let first_snapshot = |link: &mut crate::attach::Link, within: Duration| {
        rt.block_on(async {
            let t = Instant::now();
            while t.elapsed() < within {
                match tokio::time::timeout(within, link.updates.recv()).await {
                    Ok(Some(Update::Frame(f))) if matches!(*f, Frame::Snapshot(_)) => {
                        return Some(Instant::now());
                    }
                    Ok(Some(_)) => {}
                    _ => return None,
                }
            }
            None
        })
    };
    first_snapshot(&mut link, Duration::from_secs(10));
    let killed = Instant::now();
    c.kill(0);
    let noticed = rt.block_on(async {
        loop {
            match tokio::time::timeout(Duration::from_secs(15), link.updates.recv()).await {
                Ok(Some(Update::Disconnected { .. })) => return Some(Instant::now()),
                Ok(Some(_)) => {}
                _ => return None,
            }
        }
    });
    // Restart after the client has backed off to its longest wait (the worst case).
    std::thread::sleep(Duration::from_secs(4));
    let restarted = Instant::now();
    c.start_node(0).map_err(|e| e.to_string())?;
    let back = first_snapshot(&mut link, Duration::from_secs(30));
    Ok(StreamBench {
        nodes: n,
        target_tps: tps,
        seconds,
        subscribers,
        accepted,
        bytes_per_s: (b1 - b0) as f64 / window / per_sub,
        frames_per_s: (f1 - f0) as f64 / window / per_sub,
        cpu_node0_pct: cpu0,
        cpu_per_subscriber_pct: (cpu0 - median(others.clone())) / per_sub,
        cpu_others_pct: others,
        reconnect_after_restart_ms: back
            .map(|t| t.duration_since(restarted).as_secs_f64() * 1000.0),
        disconnect_noticed_ms: noticed.map(|t| t.duration_since(killed).as_secs_f64() * 1000.0),
    })
}
