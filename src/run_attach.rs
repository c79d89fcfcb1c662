//! `cpeers attach` and `cpeers submit`: clients of a running node's admin API, finding its
//! address and token from flags or the node's config file.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use cpeers::admin_token::{self, AdminToken, TokenError};
use cpeers::config::NodeConfig;
use cpeers::contract::Admission;
use cpeers::node::admin_client::{ClientError, call_with_token};
use cpeers::tui::app::App;
use cpeers::tui::run::NoTrouble;

use crate::cli::{AttachArgs, SubmitArgs};

/// Where the admin API listens unless told otherwise.
const DEFAULT_ADMIN: &str = "127.0.0.1:51236";

/// The token in `path`; a missing file is `None` (read-only), anything else wrong is an error.
fn token_at(path: &Path) -> anyhow::Result<Option<AdminToken>> {
    match admin_token::load(path) {
        Ok(t) => Ok(Some(t)),
        Err(TokenError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "note: no admin token at {}: attaching read-only",
                path.display()
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A node's admin address and token from its config file.
fn from_config(path: &Path) -> anyhow::Result<(SocketAddr, Option<AdminToken>)> {
    let cfg = NodeConfig::load(path)?;
    let Some(addr) = cfg.admin else {
        bail!(
            "{}: the node's admin endpoint is off (`admin = \"off\"`); nothing to attach to",
            path.display()
        );
    };
    let token = token_at(&cfg.data_dir.join(admin_token::FILE_NAME))?;
    Ok((addr, token))
}

/// `cpeers attach [ADDR ...] [--config node.toml ...] [--token-file FILE]`.
pub fn attach(args: AttachArgs) -> anyhow::Result<()> {
    let theme = crate::run_node::theme(&args.dashboard)?;
    let file_token = match &args.token_file {
        Some(p) => match admin_token::load(p) {
            Ok(t) => Some(t),
            Err(e) => return Err(e).context("cannot use --token-file"),
        },
        None => None,
    };
    let mut nodes: Vec<(String, Option<AdminToken>)> = Vec::new();
    for c in &args.config {
        let (addr, token) = from_config(c)?;
        nodes.push((addr.to_string(), file_token.clone().or(token)));
    }
    for a in &args.addrs {
        nodes.push((a.clone(), file_token.clone()));
    }
    if nodes.is_empty() {
        nodes.push((DEFAULT_ADMIN.to_string(), file_token));
    }
    let rt = crate::run_node::runtime()?;
    rt.block_on(async move {
        let links = nodes
            .into_iter()
            .map(|(addr, token)| cpeers::attach::client::connect(addr, token))
            .collect();
        let app = App::new(theme, false);
        cpeers::tui::run::run(links, None, app, &mut NoTrouble, args.dashboard.fps).await?;
        Ok::<(), anyhow::Error>(())
    })
}

/// `cpeers submit PAYLOAD...`: prints what became of each; exit status 1 when any was refused.
pub fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let (mut addr, mut token) = (None, None);
    if let Some(c) = &args.token.config {
        let (a, t) = from_config(c)?;
        addr = Some(a);
        token = t;
    }
    if let Some(p) = &args.token.token_file {
        token = Some(admin_token::load(p).context("cannot use --token-file")?);
    }
    let addr = match (args.admin, addr) {
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => DEFAULT_ADMIN.parse()?,
    };
    let body = serde_json::json!({ "txs": args.payloads }).to_string();
    let answer = match call_with_token(addr, "POST", "/submit", Some(&body), token.as_ref()) {
        Ok(b) => b,
        Err(ClientError::Status { status: 401, .. }) => bail!(
            "{addr} refused the submission: it needs the node's admin token (pass --config \
             node.toml or --token-file <data_dir>/admin.token)"
        ),
        Err(ClientError::Status { status, body }) if status == 503 || status == 400 => body,
        Err(e) => return Err(e.into()),
    };
    let a: Admission = serde_json::from_str(&answer)
        .with_context(|| format!("{addr} answered something that is not an admission: {answer}"))?;
    println!(
        "accepted {}, known {}, refused {}",
        a.accepted,
        a.known,
        a.refused.len()
    );
    for r in &a.refused {
        println!("  #{}: {}", r.index, r.reason);
    }
    if let Some(s) = a.retry_after_s {
        println!("the pending pool is full: retry the refused ones in {s} s");
    }
    if !a.refused.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
