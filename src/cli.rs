//! Command-line interface: subcommands and their flags (clap derive).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use cpeers::config::{self, NodeOverrides};
use cpeers::consensus::{NodeId, Profile};
use libp2p::Multiaddr;

/// Run an XRP-Ledger-style consensus peer and watch its consensus live.
#[derive(Debug, Parser)]
#[command(name = "cpeers", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Commands,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
pub enum Commands {
    /// Run a deterministic network simulation from a scenario file.
    ///
    /// The same scenario and seed always give the same result: re-run a failing seed with
    /// --seed to replay it exactly.
    Sim(SimArgs),
    /// A local network of validators in one process with the dashboard attached: watch them
    /// agree, inject transactions and proposals, and make trouble (crash, partition, slow,
    /// byzantine, clock skew) from the keyboard. Press ? for keys.
    Demo(DemoArgs),
    /// Run a consensus node (validator or observer) over libp2p.
    ///
    /// Settings come from --config (TOML); flags override the file. Without --headless the
    /// terminal dashboard shows the node's consensus live.
    Node(NodeArgs),
    /// Open the dashboard on running nodes through their admin API (`q` detaches; the nodes
    /// keep running). Several addresses attach to several nodes: `n` switches between them,
    /// `N` shows them side by side.
    Attach(AttachArgs),
    /// Create a validator key file (mode 0600) and print its public key and peer id.
    Keygen(KeygenArgs),
    /// Submit transactions to a running node through its admin endpoint.
    Submit(SubmitArgs),
    /// Print a running node's consensus state.
    Status(StatusArgs),
    /// Replay a flight recording in the dashboard (or check it with --check).
    ///
    /// The same engine re-runs the recorded inputs, so the panels show what the node showed;
    /// the replay compares every ledger, vote and phase change with the recording and reports
    /// the first difference. Press ? for the playback keys.
    Replay(ReplayArgs),
    /// Write a flight recording's rounds, disputes and proposals as CSV or JSON tables.
    Export(ExportArgs),
    /// Measure cpeers end to end and print the numbers (JSON with --json).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `cpeers bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Simulator speed: wall time per simulated round at N validators (mainnet profile).
    Sim(BenchSimArgs),
    /// Real nodes over libp2p on 127.0.0.1 (one process each, fast profile) under load.
    Net(BenchNetArgs),
    /// What the admin stream costs: bytes and frames per second to each subscriber, CPU per
    /// subscriber on its node, and the reconnect time after the node restarts.
    Stream(BenchStreamArgs),
    /// A long run of real nodes under a seeded schedule of kill -9 / restart and freeze / thaw
    /// faults: forks, panics, stalls while 80 % are up, lost transactions, memory over time.
    Soak(BenchSoakArgs),
    /// Healing under random fault schedules (simulated, mainnet profile): partitions
    /// (overlapping, nested), crashes, clock skew, delays and byzantine validators, every
    /// fault over `--settle-ms` before the end; reports seeds that fork or do not heal.
    Heal(BenchHealArgs),
}

/// `cpeers bench heal`.
#[derive(Debug, clap::Args)]
pub struct BenchHealArgs {
    /// Schedules to run.
    #[arg(long, default_value_t = 2000)]
    pub seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 1)]
    pub from: u64,
    /// Run only this seed and print its report (with --trace, every engine output).
    #[arg(long)]
    pub seed: Option<u64>,
    /// With --seed: print every engine output on stderr.
    #[arg(long)]
    pub trace: bool,
    /// Simulated time after the last fault ends (ms).
    #[arg(long, default_value_t = 90_000)]
    pub settle_ms: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `cpeers bench net`.
#[derive(Debug, clap::Args)]
pub struct BenchNetArgs {
    /// Node processes.
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// Transactions submitted per second (spread over the nodes).
    #[arg(long, default_value_t = 1000)]
    pub tps: u32,
    /// How long to submit.
    #[arg(long, default_value_t = 10)]
    pub seconds: u32,
    /// Run every node with the flight recorder on (compare CPU with and without).
    #[arg(long)]
    pub record: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `cpeers bench stream`.
#[derive(Debug, clap::Args)]
pub struct BenchStreamArgs {
    /// Node processes.
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// Transactions submitted per second (spread over the nodes).
    #[arg(long, default_value_t = 1000)]
    pub tps: u32,
    /// How long to measure.
    #[arg(long, default_value_t = 20)]
    pub seconds: u32,
    /// Stream subscribers on node 0.
    #[arg(long, default_value_t = 3)]
    pub subscribers: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `cpeers bench soak`.
#[derive(Debug, clap::Args)]
pub struct BenchSoakArgs {
    /// Node processes (at least 5).
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// How long to run.
    #[arg(long, default_value_t = 30)]
    pub minutes: u32,
    /// Seed of the fault schedule (the same seed gives the same schedule).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Transactions submitted per second.
    #[arg(long, default_value_t = 50)]
    pub tps: u32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `cpeers bench sim`.
#[derive(Debug, clap::Args)]
pub struct BenchSimArgs {
    /// Validators in the simulated network (all trusting each other).
    #[arg(long, default_value_t = 50)]
    pub validators: usize,
    /// Fully validated ledgers to run.
    #[arg(long, default_value_t = 10)]
    pub rounds: u32,
    /// Random transactions submitted per simulated second.
    #[arg(long, default_value_t = 20)]
    pub tps: u32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `cpeers sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Scenario file (TOML), e.g. tests/scenarios/peers_agree.toml.
    pub scenario: PathBuf,
    /// Print the full report as one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print every node's engine outputs (positions, votes, ledgers) to stderr as they happen.
    #[arg(long)]
    pub trace: bool,
    /// Record every simulated node into DIR/<node>.rec (step through them with `cpeers replay`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

/// Dashboard options shared by `demo` and `node`.
#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// Colour theme: default, light, high-contrast, mono, or a path to a .toml theme.
    /// NO_COLOR selects mono unless this is given.
    #[arg(long)]
    pub theme: Option<String>,
    /// Most frames per second (the dashboard redraws only when something changed).
    #[arg(long, default_value_t = 20)]
    pub fps: u32,
}

/// Flight recorder flags (`cpeers node`).
#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// Record what the engine saw and did to FILE (replay it with `cpeers replay FILE`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Start a new recording file when the current one passes this size (MiB); the old one
    /// becomes FILE.1, FILE.2, ...
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub record_max_mb: u64,
    /// Rotated recording files to keep besides the active one.
    #[arg(long, default_value_t = 4)]
    pub record_keep: u32,
}

impl RecordArgs {
    /// The recording target, if recording.
    pub fn target(&self) -> Option<(PathBuf, cpeers::record::RecordOptions)> {
        self.record.clone().map(|p| {
            (
                p,
                cpeers::record::RecordOptions {
                    max_bytes: self.record_max_mb << 20,
                    keep: self.record_keep,
                },
            )
        })
    }
}

/// `cpeers replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// A recording made with `cpeers node --record`, `cpeers demo --record` or
    /// `cpeers sim --record` (rotated files FILE.1, FILE.2 ... replay on their own).
    pub file: PathBuf,
    /// No dashboard: replay everything, print what was rebuilt and whether it matches the
    /// recording; exit status 1 on a mismatch, 2 on a damaged recording.
    #[arg(long)]
    pub check: bool,
    /// With --check: print one JSON object.
    #[arg(long, requires = "check")]
    pub json: bool,
    /// Dashboard options.
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// `cpeers export`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("format").required(true).args(["csv", "json"])))]
pub struct ExportArgs {
    /// The recording.
    pub file: PathBuf,
    /// CSV: one table to stdout (--table), or all three into --out DIR.
    #[arg(long)]
    pub csv: bool,
    /// JSON: {"rounds": [...], "disputes": [...], "proposals": [...]} (or only --table).
    #[arg(long)]
    pub json: bool,
    /// rounds | disputes | proposals.
    #[arg(long, value_parser = ["rounds", "disputes", "proposals"])]
    pub table: Option<String>,
    /// Write files (rounds.csv, disputes.csv, proposals.csv, or export.json) into this
    /// directory instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `cpeers demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Validators in the local network.
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// mainnet (ledgers every few seconds) | fast (every duration / 10).
    #[arg(long, default_value = "mainnet", value_parser = config::parse_profile)]
    pub profile: Profile,
    /// Milliseconds between submitted transactions (on average).
    #[arg(long, default_value_t = 700)]
    pub tx_interval_ms: u64,
    /// Where the demo writes its log file.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Record every node's engine into DIR/n0.rec, DIR/n1.rec, ... (for `cpeers replay`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// error | warn | info | debug | trace.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Dashboard options.
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// `cpeers node`.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// Config file (TOML). See --print-example-config.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Print a commented example config and exit.
    #[arg(long)]
    pub print_example_config: bool,
    /// No dashboard: log, and print one status line per validated ledger.
    #[arg(long)]
    pub headless: bool,
    /// Log to stderr instead of files in the log directory.
    #[arg(long)]
    pub log_stderr: bool,
    /// error | warn | info | debug | trace.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Network id (nodes with different ids never talk).
    #[arg(long)]
    pub network_id: Option<u32>,
    /// Key file (created 0600 if missing).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Listen address (repeatable), e.g. /ip4/0.0.0.0/tcp/51235.
    #[arg(long, value_parser = config::parse_listen)]
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peer (repeatable), e.g. /ip4/10.0.0.2/tcp/51235/p2p/12D3KooW...
    #[arg(long, value_parser = config::parse_bootstrap)]
    pub bootstrap: Vec<Multiaddr>,
    /// Trusted validator, public key hex or peer id (repeatable; replaces the file's list).
    #[arg(long, value_parser = config::parse_unl_entry)]
    pub unl: Vec<NodeId>,
    /// Run as a validator (the default).
    #[arg(long, conflicts_with = "observer")]
    pub validator: bool,
    /// Run as an observer: follow the network, never propose nor validate.
    #[arg(long)]
    pub observer: bool,
    /// mainnet | fast.
    #[arg(long, value_parser = config::parse_profile)]
    pub profile: Option<Profile>,
    /// Ledger store directory.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Log directory.
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// Admin endpoint (loopback address), or "off".
    // The inner Option is spelled out so clap takes it as the value type ("off" -> None)
    // instead of its `Option<Option<T>>` shape (a flag with an optional value).
    #[arg(long, value_parser = config::parse_admin)]
    pub admin: Option<std::option::Option<SocketAddr>>,
    /// Prometheus endpoint (GET /metrics), e.g. 127.0.0.1:9100, or "off" (the default).
    /// Read-only, so any address is accepted; a non-loopback one is logged as a warning.
    #[arg(long, value_parser = config::parse_metrics)]
    pub metrics: Option<std::option::Option<SocketAddr>>,
    /// Discover peers on the LAN with mDNS.
    #[arg(long)]
    pub mdns: bool,
    /// Connection limit.
    #[arg(long)]
    pub max_peers: Option<u32>,
    /// Flight recorder.
    #[command(flatten)]
    pub recording: RecordArgs,
    /// Dashboard options (ignored with --headless).
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

impl NodeArgs {
    /// The flags that override the config file.
    pub fn overrides(&self) -> NodeOverrides {
        NodeOverrides {
            network_id: self.network_id,
            key_file: self.key_file.clone(),
            listen: (!self.listen.is_empty()).then(|| self.listen.clone()),
            bootstrap: (!self.bootstrap.is_empty()).then(|| self.bootstrap.clone()),
            validator: if self.observer {
                Some(false)
            } else if self.validator {
                Some(true)
            } else {
                None
            },
            unl: (!self.unl.is_empty()).then(|| self.unl.clone()),
            profile: self.profile,
            data_dir: self.data_dir.clone(),
            log_dir: self.log_dir.clone(),
            admin: self.admin,
            metrics: self.metrics,
            mdns: self.mdns.then_some(true),
            max_peers: self.max_peers,
        }
    }
}

/// `cpeers keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the key.
    #[arg(long, default_value = "validator.key")]
    pub key_file: PathBuf,
    /// Replace an existing key file (the old identity is lost).
    #[arg(long)]
    pub force: bool,
}

/// Where a node's admin API is and how to prove the right to change it.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// The node's config file: its admin address and its token (<data_dir>/admin.token).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The admin token file (the node writes it to <data_dir>/admin.token on first start).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// `cpeers attach`.
#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// Admin addresses (host:port) of running nodes; default 127.0.0.1:51236, or the address
    /// in --config. Through an SSH tunnel: `ssh -L 51236:127.0.0.1:51236 host`, then attach
    /// to 127.0.0.1:51236.
    pub addrs: Vec<String>,
    /// A node's config file (repeatable: one per node): its admin address and token.
    #[arg(long, short)]
    pub config: Vec<PathBuf>,
    /// The admin token file for the addresses given (without one, the dashboard is read-only).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Dashboard options.
    #[command(flatten)]
    pub dashboard: DashboardArgs,
}

/// `cpeers submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The node's admin endpoint (default: the one in --config, else 127.0.0.1:51236).
    #[arg(long)]
    pub admin: Option<SocketAddr>,
    /// Config and token.
    #[command(flatten)]
    pub token: TokenArgs,
    /// Transaction payloads (each at most 1024 bytes).
    #[arg(required = true)]
    pub payloads: Vec<String>,
}

/// `cpeers status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The node's admin endpoint.
    #[arg(long, default_value = "127.0.0.1:51236")]
    pub admin: SocketAddr,
    /// Print the full snapshot as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_flags_take_an_address_or_off() {
        let cli = Cli::try_parse_from([
            "cpeers",
            "node",
            "--network-id",
            "1",
            "--admin",
            "off",
            "--metrics",
            "0.0.0.0:9100",
        ])
        .expect("parses");
        let Commands::Node(args) = cli.command else {
            panic!("not node")
        };
        let o = args.overrides();
        assert_eq!(o.admin, Some(None));
        assert_eq!(o.metrics, Some(Some("0.0.0.0:9100".parse().unwrap())));
        let cli = Cli::try_parse_from(["cpeers", "node", "--admin", "[::1]:7", "--metrics", "off"])
            .expect("parses");
        let Commands::Node(args) = cli.command else {
            panic!("not node")
        };
        assert_eq!(
            args.overrides().admin,
            Some(Some("[::1]:7".parse().unwrap()))
        );
        assert_eq!(args.overrides().metrics, Some(None));
        assert_eq!(
            Cli::try_parse_from(["cpeers", "node"])
                .map(|c| matches!(c.command, Commands::Node(a) if a.overrides().metrics.is_none()))
                .ok(),
            Some(true)
        );
        let err = Cli::try_parse_from(["cpeers", "node", "--metrics", "nope"]).unwrap_err();
        assert!(err.to_string().contains("not an address"), "{err}");
        assert!(Cli::try_parse_from(["cpeers", "node", "--admin", "0.0.0.0:1"]).is_err());
    }
}
