//! The `cpeers` binary: parses the command line and hands off to the library.

mod cli;

use anyhow::Context;
use clap::Parser;

use cli::{BenchCommand, Cli, Commands};
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
        Commands::Bench(BenchCommand::Sim(a)) => {
            let b = cpeers::bench::sim_speed::run(a.validators, a.rounds, a.tps);
            if a.json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "{} validators, {} rounds: {:.0} ms wall for {} ms simulated ({:.1} ms wall per round, {:.1}x real time){}",
                    b.validators,
                    b.rounds,
                    b.wall_ms,
                    b.sim_ms,
                    b.wall_ms_per_round,
                    b.sim_to_wall,
                    if b.ok {
                        ""
                    } else {
                        "  [did not complete cleanly]"
                    }
                );
            }
        }
    }
    Ok(())
}
