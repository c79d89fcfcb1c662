//! A local cluster of real `cpeers node` processes on 127.0.0.1: keys, configs with a full
//! bootstrap mesh, free ports, start / SIGKILL / restart, and the admin-endpoint queries tests
//! and benchmarks need (with each node's admin token for submissions). Every process is killed
//! when the cluster is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::admin_token::{self, AdminToken};
use crate::consensus::Profile;
use crate::contract::Admission;
use crate::net::identity;
use crate::node::admin_client::{ClientError, call, call_with_token};
use crate::node::api::LedgerJson;

/// One node of the cluster.
pub struct ClusterNode {
    /// Its directory (key, config, data, logs, stdout.txt).
    pub dir: PathBuf,
    /// Its admin endpoint.
    pub admin: SocketAddr,
    /// Its libp2p address, with `/p2p/<peer id>`.
    pub p2p: String,
    child: Option<Child>,
}

impl ClusterNode {
    /// Its process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Its config file.
    pub fn config(&self) -> PathBuf {
        self.dir.join("node.toml")
    }

    /// Its admin token file (the node writes it on first start).
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("data").join(admin_token::FILE_NAME)
    }

    /// Its admin token, once the node has written it.
    pub fn token(&self) -> Option<AdminToken> {
        admin_token::load(&self.token_file()).ok()
    }
}

/// Real node processes on loopback.
pub struct LocalCluster {
    binary: PathBuf,
    root: PathBuf,
    keep: bool,
    /// Extra `cpeers node` flags every node starts with.
    args: Vec<String>,
    /// The network id the nodes run.
    pub network_id: u32,
    /// The nodes.
    pub nodes: Vec<ClusterNode>,
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if std::thread::panicking() || self.keep {
            eprintln!(
                "node directories (logs, stores) kept in {}",
                self.root.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// A free TCP port on loopback (the OS picks; it is released before the node binds it).
pub fn free_port() -> std::io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")?
        .local_addr()
        .map(|a| a.port())
}

impl LocalCluster {
    /// Creates `n` validators trusting each other (keys, configs) under a fresh temp directory
    /// and starts them with `binary` (`cpeers`).
    pub fn start(
        binary: &Path,
        name: &str,
        n: usize,
        profile: Profile,
    ) -> std::io::Result<LocalCluster> {
        LocalCluster::start_with_args(binary, name, n, profile, &[])
    }

    /// [`LocalCluster::start`] with extra `cpeers node` flags for every node (e.g.
    /// `["--metrics", "127.0.0.1:0"]`).
    pub fn start_with_args(
        binary: &Path,
        name: &str,
        n: usize,
        profile: Profile,
        args: &[&str],
    ) -> std::io::Result<LocalCluster> {
        LocalCluster::start_with_config(binary, name, n, profile, args, "")
    }

    /// [`LocalCluster::start_with_args`] with `extra` appended to every node's config file
    /// (e.g. `"max_pending_txs = 200\n"`).
    pub fn start_with_config(
        binary: &Path,
        name: &str,
        n: usize,
        profile: Profile,
        args: &[&str],
        extra: &str,
    ) -> std::io::Result<LocalCluster> {
        let root = std::env::temp_dir().join(format!("cpeers-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root)?;
        let mut keys = Vec::new();
        for i in 0..n {
            let dir = root.join(format!("n{i}"));
            let info = identity::keygen(&dir.join("validator.key"), false)
                .map_err(std::io::Error::other)?;
            keys.push(info);
        }
        let mut p2p = Vec::new();
        for _ in 0..n {
            p2p.push(free_port()?);
        }
        let network_id = 1000 + std::process::id() % 50_000;
        let mut nodes = Vec::new();
        for i in 0..n {
            let dir = root.join(format!("n{i}"));
            let admin: SocketAddr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
            let bootstrap: Vec<String> = (0..n)
                .filter(|&j| j != i)
                .map(|j| format!("\"/ip4/127.0.0.1/tcp/{}/p2p/{}\"", p2p[j], keys[j].peer_id))
                .collect();
            let unl: Vec<String> = keys
                .iter()
                .map(|k| format!("\"{}\"", k.public_key_hex))
                .collect();
            let cfg = format!(
                "network_id = {network_id}\nkey_file = \"validator.key\"\nlisten = [\"/ip4/127.0.0.1/tcp/{}\"]\nbootstrap = [{}]\nunl = [{}]\nprofile = \"{}\"\ndata_dir = \"data\"\nlog_dir = \"logs\"\nadmin = \"{admin}\"\n",
                p2p[i],
                bootstrap.join(", "),
                unl.join(", "),
                profile.name()
            );
            std::fs::write(dir.join("node.toml"), cfg + extra)?;
            nodes.push(ClusterNode {
                dir,
                admin,
                p2p: format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", p2p[i], keys[i].peer_id),
                child: None,
            });
        }
        let mut c = LocalCluster {
            binary: binary.to_path_buf(),
            root,
            keep: false,
            args: args.iter().map(|a| a.to_string()).collect(),
            network_id,
            nodes,
        };
        for i in 0..n {
            c.start_node(i)?;
        }
        Ok(c)
    }

    /// Keep the directories after drop (for debugging).
    pub fn keep_files(&mut self) {
        self.keep = true;
    }

    /// (Re)starts node `i` with its config, data and key.
    pub fn start_node(&mut self, i: usize) -> std::io::Result<()> {
        let cmd = Command::new(&self.binary);
        self.spawn_node(i, cmd)
    }

    /// (Re)starts node `i` unable to grow any file past `max_file_bytes`, as on a full disk:
    /// `ulimit -f` with SIGXFSZ ignored, so writes past the limit fail with `EFBIG` instead of
    /// killing the process (Unix shells only).
    pub fn start_node_with_file_limit(
        &mut self,
        i: usize,
        max_file_bytes: u64,
    ) -> std::io::Result<()> {
        let blocks = max_file_bytes.div_ceil(512);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\""
            ))
            .arg(&self.binary);
        self.spawn_node(i, cmd)
    }

    fn spawn_node(&mut self, i: usize, mut cmd: Command) -> std::io::Result<()> {
        let node = &mut self.nodes[i];
        let out = File::options()
            .create(true)
            .append(true)
            .open(node.dir.join("stdout.txt"))?;
        let err = out.try_clone()?;
        // In its own directory, so per-node relative flags (`--record flight.rec`) stay apart.
        let child = cmd
            .current_dir(&node.dir)
            .args(["node", "--headless", "--config"])
            .arg(node.dir.join("node.toml"))
            .args(&self.args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()?;
        node.child = Some(child);
        Ok(())
    }

    /// SIGKILLs node `i`: no shutdown path runs.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Nodes currently running.
    pub fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].child.is_some())
            .collect()
    }

    /// Node `i`'s `endpoints.json`, once the running process wrote it.
    pub fn endpoints(&self, i: usize) -> Option<serde_json::Value> {
        let pid = self.nodes[i].pid()?;
        let v = crate::node::endpoints::read(&self.nodes[i].dir.join("data")).ok()?;
        (v["pid"].as_u64() == Some(pid as u64)).then_some(v)
    }

    /// Node `i`'s metrics endpoint (started with `--metrics`), from its `endpoints.json`.
    pub fn metrics_addr(&self, i: usize) -> Option<SocketAddr> {
        self.endpoints(i)?["metrics"].as_str()?.parse().ok()
    }

    /// Node `i`'s `/status`.
    pub fn status(&self, i: usize) -> Option<serde_json::Value> {
        let body = call(self.nodes[i].admin, "GET", "/status", None).ok()?;
        serde_json::from_str(&body).ok()
    }

    /// Blocks node `j` at node `i` (or allows it again) through `i`'s admin API: the `block`
    /// command, the partition the demo's trouble key makes.
    pub fn block(&self, i: usize, j: usize, blocked: bool) -> Result<String, ClientError> {
        let peer = self
            .status(j)
            .and_then(|s| s["peer_id"].as_str().map(str::to_string))
            .ok_or(ClientError::BadAnswer(self.nodes[j].admin))?;
        let body =
            serde_json::json!({ "cmd": "block", "peer": peer, "blocked": blocked }).to_string();
        let node = &self.nodes[i];
        call_with_token(
            node.admin,
            "POST",
            "/command",
            Some(&body),
            node.token().as_ref(),
        )
    }

    /// Node `i`'s last fully validated sequence.
    pub fn validated_seq(&self, i: usize) -> Option<u64> {
        self.status(i)?["info"]["fully_validated"]["seq"].as_u64()
    }

    /// Lowest last-fully-validated sequence among `nodes`.
    pub fn min_validated(&self, nodes: &[usize]) -> u64 {
        nodes
            .iter()
            .map(|&i| self.validated_seq(i).unwrap_or(0))
            .min()
            .unwrap_or(0)
    }

    /// Every fully validated ledger node `i` stored.
    pub fn validated(&self, i: usize) -> Vec<LedgerJson> {
        let mut all = Vec::new();
        let mut from = 1;
        loop {
            let Ok(body) = call(
                self.nodes[i].admin,
                "GET",
                &format!("/validated?from={from}"),
                None,
            ) else {
                return all;
            };
            let page: Vec<LedgerJson> = serde_json::from_str(&body).unwrap_or_default();
            let Some(last) = page.last() else {
                return all;
            };
            from = last.seq + 1;
            all.extend(page);
        }
    }

    /// `(seq, short hash)` of every "ledger N HASH validated" line node `i` printed (over all
    /// its restarts). A node prints that line only after the ledger is durable in its store.
    pub fn reported(&self, i: usize) -> Vec<(u32, String)> {
        let text =
            std::fs::read_to_string(self.nodes[i].dir.join("stdout.txt")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                (w.next()? == "ledger").then_some(())?;
                let seq = w.next()?.parse().ok()?;
                let hash = w.next()?.to_string();
                (w.next()? == "validated:").then_some((seq, hash))
            })
            .collect()
    }

    /// Checks node `i`'s store against what it reported: the stored validated ledgers form a
    /// chain, and every ledger it ever printed as validated is there with the same hash.
    /// Returns how many reported ledgers were checked, or what is wrong.
    pub fn check_reported_kept(&self, i: usize) -> Result<usize, String> {
        let stored = self.validated(i);
        for w in stored.windows(2) {
            if w[1].parent != w[0].hash {
                return Err(format!("n{i}'s store is not a chain at {}", w[1].seq));
            }
        }
        let by_seq: BTreeMap<u32, &LedgerJson> = stored.iter().map(|l| (l.seq, l)).collect();
        let lines = self.reported(i);
        for (seq, short) in &lines {
            let Some(l) = by_seq.get(seq) else {
                return Err(format!("n{i} reported ledger {seq} but its store lost it"));
            };
            if !l.hash.starts_with(short.as_str()) {
                return Err(format!(
                    "n{i}'s ledger {seq} changed: reported {short}, stored {}",
                    l.hash
                ));
            }
        }
        Ok(lines.len())
    }

    /// Payloads in node `i`'s fully validated ledgers.
    pub fn validated_txs(&self, i: usize) -> BTreeSet<String> {
        self.validated(i).into_iter().flat_map(|l| l.txs).collect()
    }

    /// Submits payloads to node `i` (with its token): what became of each. A full pool (503)
    /// or invalid payloads (400) are answers too; only other failures are errors.
    pub fn submit(&self, i: usize, txs: &[String]) -> Result<Admission, ClientError> {
        let node = &self.nodes[i];
        let body = serde_json::json!({ "txs": txs }).to_string();
        let token = node.token();
        let text = match call_with_token(node.admin, "POST", "/submit", Some(&body), token.as_ref())
        {
            Ok(t) => t,
            Err(ClientError::Status { status, body }) if status == 503 || status == 400 => body,
            Err(e) => return Err(e),
        };
        serde_json::from_str(&text).map_err(|_| ClientError::BadAnswer(node.admin))
    }

    /// Sequences at which `nodes` fully validated different ledgers.
    pub fn forks(&self, nodes: &[usize]) -> Vec<u32> {
        let mut by_seq: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
        for &i in nodes {
            for l in self.validated(i) {
                by_seq.entry(l.seq).or_default().insert(l.hash);
            }
        }
        by_seq
            .into_iter()
            .filter(|(_, h)| h.len() > 1)
            .map(|(s, _)| s)
            .collect()
    }

    /// Polls `ok` every 100 ms until it holds or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, mut ok: impl FnMut(&LocalCluster) -> bool) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if ok(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The last lines each node printed (for failure messages).
    pub fn tails(&self) -> String {
        let mut s = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let text = std::fs::read_to_string(n.dir.join("stdout.txt")).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            s += &format!("--- n{i} (last lines of stdout)\n");
            for l in tail.into_iter().rev() {
                s += l;
                s += "\n";
            }
        }
        s
    }
}
