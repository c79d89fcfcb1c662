//! The `cpeers` binary: parses the command line and hands off to the library.

mod cli;

use anyhow::Context;
use clap::Parser;

use cli::{Cli, Commands};
use cpeers::sim::{Scenario, Simulation};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Commands::Sim(args) => {
            let mut sc = Scenario::load(&args.scenario)
                .with_context(|| format!("cannot run scenario {}", args.scenario.display()))?;
            if let Some(seed) = args.seed {
                sc.seed = seed;
            }
            let mut sim = Simulation::new(sc);
            sim.set_trace(args.trace);
            let report = sim.run();
            if args.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.summary());
            }
        }
    }
    Ok(())
}
