//! `cpeers replay` and `cpeers export`: reading flight recordings.

use std::sync::Arc;

use anyhow::{Context, bail};
use cpeers::record::export::{self, Table};
use cpeers::record::{self, Timeline};
use cpeers::tui::app::App;
use cpeers::tui::run::NoTrouble;

use crate::cli::{ExportArgs, ReplayArgs};

/// Exit status of `replay --check` when the replay differs from the recording.
const EXIT_MISMATCH: i32 = 1;
/// Exit status of `replay --check` when the recording is damaged (but what was read matched).
const EXIT_DAMAGED: i32 = 2;

fn open(path: &std::path::Path) -> anyhow::Result<Arc<Timeline>> {
    let t = record::open(path)?;
    if let Some(d) = &t.damage {
        eprintln!("warning: {}: {d}", path.display());
    }
    Ok(t)
}

/// `cpeers replay FILE [--check [--json]]`.
pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let timeline = open(&args.file)?;
    if args.check {
        let r = record::check(timeline.clone());
        if args.json {
            let v = serde_json::json!({
                "file": args.file.display().to_string(),
                "node": timeline.header.node.to_string(),
                "name": timeline.header.name,
                "source": timeline.header.source,
                "segment": timeline.header.segment,
                "steps": r.steps,
                "inputs": r.inputs,
                "span_ms": r.span_ms,
                "ledgers_built": r.accepted.iter().map(|(s, h)| serde_json::json!({"seq": s, "hash": h.to_string()})).collect::<Vec<_>>(),
                "ledgers_validated": r.validated.iter().map(|(s, h)| serde_json::json!({"seq": s, "hash": h.to_string()})).collect::<Vec<_>>(),
                "vote_changes": r.flips,
                "reproduced": r.reproduced(),
                "mismatch": r.mismatch.as_ref().map(|m| m.to_string()),
                "mismatch_entry": r.mismatch.as_ref().map(|m| m.entry),
                "damage": r.damage.as_ref().map(|d| d.to_string()),
                "damage_entry": r.damage.as_ref().map(|d| d.entry),
            });
            println!("{v}");
        } else {
            let h = &timeline.header;
            println!(
                "{}: node {} ({}), segment {}, {} steps over {:.1} s",
                args.file.display(),
                h.name,
                h.source,
                h.segment,
                r.steps,
                r.span_ms as f64 / 1000.0
            );
            let range = |v: &[(u32, cpeers::consensus::Hash256)]| match (v.first(), v.last()) {
                (Some(a), Some(b)) => format!("{} ({}..{})", v.len(), a.0, b.0),
                _ => "0".to_string(),
            };
            println!(
                "rebuilt {} ledgers, saw {} fully validated, {} dispute votes cast or changed",
                range(&r.accepted),
                range(&r.validated),
                r.flips
            );
            match &r.mismatch {
                None => println!("replay matches the recording"),
                Some(m) => println!("MISMATCH: {m}"),
            }
            if let Some(d) = &r.damage {
                println!("DAMAGED: {d}");
            }
        }
        if r.mismatch.is_some() {
            std::process::exit(EXIT_MISMATCH);
        }
        if r.damage.is_some() {
            std::process::exit(EXIT_DAMAGED);
        }
        return Ok(());
    }
    let theme = crate::run_node::theme(&args.dashboard)?;
    let rt = crate::run_node::runtime()?;
    rt.block_on(async move {
        let link = record::playback::start(timeline.clone())
            .map_err(|e| anyhow::anyhow!("cannot replay {}: {e}", args.file.display()))?;
        let (link, playback) = link.into_link();
        let mut app = App::new(theme, false);
        app.message = Some((
            cpeers::store::rows::Level::Info,
            format!(
                "replaying {} ({} steps): space plays, n steps, ? lists the keys",
                args.file.display(),
                timeline.steps.len()
            ),
        ));
        cpeers::tui::run::run(
            vec![link],
            Some(playback),
            app,
            &mut NoTrouble,
            args.dashboard.fps,
        )
        .await?;
        Ok::<(), anyhow::Error>(())
    })
}

/// `cpeers export FILE --csv|--json [--table T] [--out DIR]`.
pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    let timeline = open(&args.file)?;
    let tables = export::tables(timeline);
    if let Some(m) = &tables.mismatch {
        eprintln!(
            "warning: the replay differs from the recording, rows after it may not be what the node did: {m}"
        );
    }
    let only = args.table.as_deref().map(|t| match t {
        "disputes" => Table::Disputes,
        "proposals" => Table::Proposals,
        _ => Table::Rounds,
    });
    if args.json {
        let v = serde_json::to_value(&tables)?;
        let v = match only {
            Some(t) => v[t.name()].clone(),
            None => v,
        };
        let text = serde_json::to_string_pretty(&v)?;
        match &args.out {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let name = match only {
                    Some(t) => format!("{}.json", t.name()),
                    None => "export.json".into(),
                };
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            None => println!("{text}"),
        }
        return Ok(());
    }
    match (&args.out, only) {
        (None, Some(t)) => print!("{}", export::to_csv(&tables, t)?),
        (None, None) => bail!(
            "--csv writes one table to stdout: choose it with --table rounds|disputes|proposals, or give --out DIR for all three"
        ),
        (Some(dir), only) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let which: Vec<Table> = match only {
                Some(t) => vec![t],
                None => Table::ALL.to_vec(),
            };
            for t in which {
                let path = dir.join(format!("{}.csv", t.name()));
                std::fs::write(&path, export::to_csv(&tables, t)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
        }
    }
    Ok(())
}
