//! The `cpeers` binary: parses the command line and hands off to the library.

mod cli;
mod run_attach;
mod run_node;
mod run_replay;

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
            if let Some(dir) = &args.record {
                sim.record_to(dir)
                    .with_context(|| format!("cannot record into {}", dir.display()))?;
            }
            let report = sim.run();
            if let Some(dir) = &args.record {
                eprintln!(
                    "recorded every node into {} (replay one with `cpeers replay {}/<node>.rec`)",
                    dir.display(),
                    dir.display()
                );
            }
            if args.json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.summary());
            }
        }
        Commands::Node(args) => run_node::run(args)?,
        Commands::Demo(args) => run_node::demo(args)?,
        Commands::Keygen(args) => {
            let info = cpeers::net::identity::keygen(&args.key_file, args.force)?;
            println!(
                "key file:   {} (mode 0600, keep it secret)",
                info.path.display()
            );
            println!("public key: {}", info.public_key_hex);
            println!("peer id:    {}", info.peer_id);
            println!();
            println!(
                "Put the public key in other nodes' `unl`, and /ip4/<this host>/tcp/<port>/p2p/{} in their `bootstrap`.",
                info.peer_id
            );
        }
        Commands::Submit(args) => run_attach::submit(args)?,
        Commands::Attach(args) => run_attach::attach(args)?,
        Commands::Status(args) => run_node::status(&args)?,
        Commands::Replay(args) => run_replay::replay(args)?,
        Commands::Export(args) => run_replay::export(args)?,
        Commands::Bench(BenchCommand::Net(a)) => {
            let exe = std::env::current_exe().context("cannot find the cpeers binary")?;
            let b = cpeers::bench::net_speed::run(&exe, a.nodes, a.tps, a.seconds, a.record)
                .map_err(|e| anyhow::anyhow!(e))?;
            if a.json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&b)?);
            }
        }
        Commands::Bench(BenchCommand::Stream(a)) => {
            let exe = std::env::current_exe().context("cannot find the cpeers binary")?;
            let b = cpeers::bench::stream::run(&exe, a.nodes, a.tps, a.seconds, a.subscribers)
                .map_err(|e| anyhow::anyhow!(e))?;
            if a.json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&b)?);
            }
        }
        Commands::Bench(BenchCommand::Soak(a)) => {
            let exe = std::env::current_exe().context("cannot find the cpeers binary")?;
            let opts = cpeers::bench::soak::SoakOptions {
                nodes: a.nodes,
                minutes: a.minutes,
                seed: a.seed,
                tps: a.tps,
            };
            let r = cpeers::bench::soak::run(&exe, opts, |line| eprintln!("{line}"))
                .map_err(|e| anyhow::anyhow!(e))?;
            if a.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{}", serde_json::to_string_pretty(&r)?);
            }
            if !r.forks.is_empty() || r.panics > 0 || r.validated_txs < r.submitted {
                std::process::exit(1);
            }
        }
        Commands::Bench(BenchCommand::Heal(a)) => {
            use cpeers::sim::sweep;
            if let Some(seed) = a.seed {
                let params = sweep::SweepParams {
                    settle_ms: a.settle_ms,
                    ..sweep::SweepParams::default()
                };
                let case = sweep::random_case(seed, &params);
                eprintln!("{:#?}", case.scenario.faults);
                eprintln!(
                    "last fault ends at {} ms; byzantine at the end: {:?}",
                    case.last_fault_ms, case.byzantine_at_end
                );
                let mut sim = cpeers::sim::Simulation::new(case.scenario.clone());
                sim.set_trace(a.trace);
                sim.run_until_stop();
                let report = sim.report_now();
                if a.trace {
                    for n in &case.scenario.nodes {
                        if let Some(e) = sim.engine(&n.name) {
                            eprintln!(
                                "{} trie (largest issued {}):\n{}",
                                n.name,
                                e.largest_validated_seq(),
                                e.validations().trie().dump()
                            );
                        }
                    }
                }
                if a.json {
                    println!("{}", report.to_json());
                } else {
                    print!("{}", report.summary());
                }
                match sweep::check(&case, &report) {
                    Ok(()) => println!("healed"),
                    Err(f) => {
                        println!("FAILED: {f}");
                        std::process::exit(1);
                    }
                }
                return Ok(());
            }
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let b = cpeers::bench::heal::run(a.from, a.seeds, a.settle_ms, threads);
            if a.json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "{} schedules ({:.0} s simulated in {:.1} s wall): {} healed, {} forked, {} did not heal",
                    b.schedules,
                    b.simulated_s,
                    b.wall_s,
                    b.passed,
                    b.forked,
                    b.failures.len() as u64 - b.forked
                );
                for m in &b.failures {
                    println!(
                        "  seed {} ({} validators): {}",
                        m.seed, m.validators, m.failure
                    );
                }
            }
            if !b.failures.is_empty() {
                std::process::exit(1);
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
