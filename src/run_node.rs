//! `cpeers node` and `cpeers status`: turning flags and files into a running node, and asking a
//! running node how it is doing.

use anyhow::{Context, bail};
use cpeers::config::NodeConfig;
use cpeers::node::{self, NodeSettings};
use cpeers::{logging, net::identity};

use cpeers::tui::app::App;
use cpeers::tui::run::NoTrouble;
use cpeers::tui::theme::{Theme, no_color_env};

use crate::cli::{DashboardArgs, DemoArgs, NodeArgs, StatusArgs};

pub(crate) fn theme(d: &DashboardArgs) -> anyhow::Result<Theme> {
    let no_color = no_color_env();
    let theme = Theme::choose(d.theme.as_deref(), no_color)?;
    if no_color && d.theme.is_some() {
        // An explicit --theme wins over NO_COLOR; crossterm would strip its colours otherwise.
        ratatui::crossterm::style::force_color_output(true);
    }
    Ok(theme)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `cpeers demo`: a local network with the dashboard attached to its first node.
pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let theme = theme(&args.dashboard)?;
    let log_dir = args
        .log_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("cpeers-demo-logs"));
    let level = logging::parse_level(&args.log_level)?;
    let _guard = logging::to_files(&log_dir, level)?;
    let rt = runtime()?;
    rt.block_on(async move {
        let demo = cpeers::demo::Demo::start(cpeers::demo::DemoOptions {
            nodes: args.nodes,
            profile: args.profile,
            tx_interval: std::time::Duration::from_millis(args.tx_interval_ms.max(10)),
            data_dir: None,
            record: args.record.clone(),
        })
        .await?;
        let link = demo
            .attach()
            .context("the demo's first node is not running")?;
        let mut demo = demo;
        let app = App::new(theme, true);
        let result =
            cpeers::tui::run::run(vec![link], None, app, &mut demo, args.dashboard.fps).await;
        demo.shutdown().await;
        result?;
        eprintln!("demo stopped; its log is in {}", log_dir.display());
        Ok::<(), anyhow::Error>(())
    })
}

/// Runs a node until Ctrl-C / SIGTERM.
pub fn run(args: NodeArgs) -> anyhow::Result<()> {
    if args.print_example_config {
        print!("{}", cpeers::config::example());
        return Ok(());
    }
    let cfg = match &args.config {
        Some(path) => NodeConfig::load(path)?.with_overrides(&args.overrides())?,
        None => NodeConfig::from_overrides(&args.overrides())?,
    };
    let theme = if args.headless {
        None
    } else {
        Some(theme(&args.dashboard)?)
    };
    let level = logging::parse_level(&args.log_level)?;
    let _guard = if args.log_stderr {
        logging::to_stderr(level)?
    } else {
        logging::to_files(&cfg.log_dir, level)?
    };
    let (key, created) = identity::load_or_create(&cfg.key_file)?;
    if created {
        eprintln!(
            "created a new key in {} (mode 0600)",
            cfg.key_file.display()
        );
    }
    if args.log_stderr && theme.is_some() {
        bail!("--log-stderr needs --headless: the dashboard owns the terminal");
    }
    let runtime = runtime()?;
    runtime.block_on(async move {
        let mut settings = NodeSettings::from_config(&cfg, args.headless);
        settings.record = args.recording.target();
        let handle = node::start_with_metrics(settings, key, cfg.metrics)
            .await
            .with_context(|| {
                format!(
                    "cannot start the node (data dir {})",
                    cfg.data_dir.display()
                )
            })?;
        if let Some(theme) = theme {
            // The in-process dashboard attaches through the node's own API, as `attach` does.
            let Some(addr) = handle.admin_addr else {
                handle.shutdown().await;
                bail!(
                    "the dashboard attaches through the admin endpoint, which is off: enable \
                     `admin`, or run with --headless"
                );
            };
            let link = cpeers::attach::client::connect(addr.to_string(), handle.token.clone());
            let app = App::new(theme, false);
            let r =
                cpeers::tui::run::run(vec![link], None, app, &mut NoTrouble, args.dashboard.fps)
                    .await;
            handle.shutdown().await;
            return Ok(r?);
        }
        println!(
            "node {} (validator key {}) on network {}, {} validator{}; endpoints in {}",
            handle.peer_id,
            handle.node_id.short(),
            cfg.network_id,
            cfg.unl.len(),
            if cfg.unl.len() == 1 { "" } else { "s" },
            cfg.data_dir.join(node::endpoints::FILE_NAME).display()
        );
        shutdown_signal().await;
        handle.shutdown().await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Prints a running node's state: the `/status` JSON with `--json`, else the consensus_info-like
/// text of [`cpeers::node::status_text`]. Any failure is one line on stderr and exit code 1.
pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
    use cpeers::node::admin_client::{ClientError, call};
    let fail = |msg: String| -> ! {
        eprintln!("cpeers status: {msg}");
        std::process::exit(1)
    };
    let addr = args.admin;
    let body = match call(addr, "GET", "/status", None) {
        Ok(b) => b,
        Err(ClientError::Io { source, .. }) => fail(format!(
            "cannot reach a node's admin endpoint at {addr} ({source}); is the node running, \
             and is --admin its `admin` address?"
        )),
        Err(ClientError::BadAnswer(_)) => fail(format!(
            "{addr} did not answer HTTP; is --admin the node's `admin` address?"
        )),
        Err(ClientError::Status { status, body }) => fail(format!(
            "{addr} answered HTTP {status} to GET /status ({}); is --admin the node's `admin` \
             address?",
            body.lines().next().unwrap_or("").trim()
        )),
    };
    let v: serde_json::Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => fail(format!(
            "{addr} answered GET /status with something that is not JSON ({e}); is --admin the \
             node's `admin` address?"
        )),
    };
    if !v["info"].is_object() {
        fail(format!(
            "{addr} answered GET /status without a node snapshot; is --admin a cpeers node's \
             `admin` address?"
        ));
    }
    if args.json {
        println!("{body}");
    } else {
        print!("{}", cpeers::node::status_text::render(&v));
    }
    Ok(())
}
