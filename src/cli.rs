//! Command-line interface: subcommands and their flags (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
pub enum Commands {
    /// Run a deterministic network simulation from a scenario file.
    ///
    /// The same scenario and seed always give the same result: re-run a failing seed with
    /// --seed to replay it exactly.
    Sim(SimArgs),
    /// Measure cpeers end to end and print the numbers (JSON with --json).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `cpeers bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Simulator speed: wall time per simulated round at N validators (mainnet profile).
    Sim(BenchSimArgs),
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
}
