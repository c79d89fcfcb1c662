//! The node's configuration: `cpeers node --config node.toml`, command-line flags, defaults.
//!
//! **Precedence: flags > file > defaults**, field by field. Defaults live in
//! [`NodeConfig::defaults`] (and nowhere else), the file's values are laid over them by
//! [`NodeConfig::load`], and flags over the result by [`NodeConfig::with_overrides`] — the one
//! place where flags win. A flag for a list (`listen`, `bootstrap`, `unl`) replaces the file's
//! list rather than adding to it, so what the node runs with is always visible in one place.
//!
//! Relative paths in a file are relative to the file's directory, so
//! `cpeers node --config /etc/cpeers/a.toml` works from any working directory; relative paths
//! given as flags (and the default paths when there is no file) are relative to the working
//! directory, as a shell user expects.
//!
//! Every error about the file names the file, the line and the key (see [`crate::toml_doc`]),
//! including errors found after parsing: an address that does not name its peer, a UNL entry that
//! is not a validator key, an admin endpoint reachable from the network. The same checks apply to
//! values given as flags ([`ConfigError`]), so no path into the node skips them.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use crate::consensus::{NodeId, Profile};
use crate::net::identity::{node_id_of, peer_id_of};
use crate::toml_doc::{TomlDoc, TomlError};

/// Default TCP port for peer connections.
pub const DEFAULT_PORT: u16 = 51235;
/// Default port of the local admin/status endpoint.
pub const DEFAULT_ADMIN_PORT: u16 = 51236;
/// Default connection limit.
pub const DEFAULT_MAX_PEERS: u32 = 64;

/// Everything a node needs to start, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// Which network to join; nodes with different ids ignore each other.
    pub network_id: u32,
    /// The node's ed25519 key (validator identity and PeerId), created if missing.
    pub key_file: PathBuf,
    /// Addresses to listen on (empty: only dial out, as an observer behind NAT might).
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start; each ends in `/p2p/<peer id>` so the dial is authenticated.
    pub bootstrap: Vec<Multiaddr>,
    /// `false` makes an observer, which follows the network but never proposes nor validates.
    pub validator: bool,
    /// Validators this node trusts.
    pub unl: Vec<NodeId>,
    /// Timing profile; every node of a network must use the same one.
    pub profile: Profile,
    /// Ledger store.
    pub data_dir: PathBuf,
    /// Log files (the dashboard owns the terminal, so logs go here).
    pub log_dir: PathBuf,
    /// Local admin API (status, stream, commands), always loopback (reading needs no token);
    /// `None`: off.
    pub admin: Option<SocketAddr>,
    /// Prometheus `GET /metrics` endpoint (read-only, so any address is accepted); `None`: off.
    pub metrics: Option<SocketAddr>,
    /// Discover peers on the local network.
    pub mdns: bool,
    /// Connection limit.
    pub max_peers: u32,
    /// Most transactions pending at once; submissions past it are refused (503).
    pub max_pending_txs: usize,
}

/// Values given on the command line; `None` leaves the file's (or default) value.
///
/// The parse helpers ([`parse_listen`], [`parse_bootstrap`], [`parse_unl_entry`],
/// [`parse_admin`], [`parse_profile`]) accept exactly what the file accepts and can serve as clap
/// value parsers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeOverrides {
    /// `network_id`.
    pub network_id: Option<u32>,
    /// `key_file`.
    pub key_file: Option<PathBuf>,
    /// `listen` (replaces the list).
    pub listen: Option<Vec<Multiaddr>>,
    /// `bootstrap` (replaces the list).
    pub bootstrap: Option<Vec<Multiaddr>>,
    /// `validator`.
    pub validator: Option<bool>,
    /// `unl` (replaces the list).
    pub unl: Option<Vec<NodeId>>,
    /// `profile`.
    pub profile: Option<Profile>,
    /// `data_dir`.
    pub data_dir: Option<PathBuf>,
    /// `log_dir`.
    pub log_dir: Option<PathBuf>,
    /// `admin`: `Some(None)` turns the endpoint off.
    pub admin: Option<Option<SocketAddr>>,
    /// `metrics`: `Some(None)` turns the endpoint off.
    pub metrics: Option<Option<SocketAddr>>,
    /// `mdns`.
    pub mdns: Option<bool>,
    /// `max_peers`.
    pub max_peers: Option<u32>,
}

/// A value given as a flag (or assembled in code) that the node cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// No file and no flag gave a network id.
    #[error(
        "network_id is required: set it in the config file (network_id = 1) or with --network-id"
    )]
    MissingNetworkId,
    /// A field's value is refused.
    #[error("{field}: {message}")]
    Invalid {
        /// The field (as named in the config file).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    network_id: Option<u32>,
    key_file: Option<Spanned<String>>,
    listen: Option<Vec<Spanned<String>>>,
    bootstrap: Option<Vec<Spanned<String>>>,
    validator: Option<bool>,
    unl: Option<Vec<Spanned<String>>>,
    profile: Option<Spanned<String>>,
    data_dir: Option<Spanned<String>>,
    log_dir: Option<Spanned<String>>,
    admin: Option<Spanned<String>>,
    metrics: Option<Spanned<String>>,
    mdns: Option<bool>,
    max_peers: Option<Spanned<u32>>,
    max_pending_txs: Option<Spanned<usize>>,
}

impl NodeConfig {
    /// The defaults: what a node runs with when neither the file nor a flag says otherwise.
    pub fn defaults(network_id: u32) -> NodeConfig {
        NodeConfig {
            network_id,
            key_file: PathBuf::from("validator.key"),
            listen: vec![
                Multiaddr::empty()
                    .with(Protocol::Ip4(Ipv4Addr::UNSPECIFIED))
                    .with(Protocol::Tcp(DEFAULT_PORT)),
            ],
            bootstrap: Vec::new(),
            validator: true,
            unl: Vec::new(),
            profile: Profile::Mainnet,
            data_dir: PathBuf::from("data"),
            log_dir: PathBuf::from("logs"),
            admin: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_ADMIN_PORT))),
            metrics: None,
            mdns: false,
            max_peers: DEFAULT_MAX_PEERS,
            max_pending_txs: crate::node::MAX_PENDING_TXS,
        }
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<NodeConfig, TomlError> {
        let doc = TomlDoc::read(path)?;
        let base = path.parent().unwrap_or(Path::new(""));
        NodeConfig::parse(&doc, base)
    }

    /// Parses and checks a config document whose relative paths are relative to `base_dir`.
    pub fn parse(doc: &TomlDoc, base_dir: &Path) -> Result<NodeConfig, TomlError> {
        let raw: RawConfig = doc.parse()?;
        let Some(network_id) = raw.network_id else {
            return Err(TomlError {
                file: doc.file().to_string(),
                line: None,
                key: Some("network_id".into()),
                message: "missing: every node of a network sets the same network_id \
                          (for example `network_id = 1`)"
                    .into(),
            });
        };
        let err = |span: Range<usize>, key: &str, message: String| -> TomlError {
            // The key is known here; toml_doc cannot always tell it inside multi-line arrays.
            TomlError {
                key: Some(key.to_string()),
                ..doc.error_at(span, message)
            }
        };
        let path = |v: &Option<Spanned<String>>, key: &str| -> Result<Option<PathBuf>, TomlError> {
            match v {
                None => Ok(None),
                Some(s) if s.get_ref().trim().is_empty() => {
                    Err(err(s.span(), key, "must not be empty".into()))
                }
                Some(s) => Ok(Some(PathBuf::from(s.get_ref()))),
            }
        };
        let addrs = |v: &Option<Vec<Spanned<String>>>,
                     key: &str,
                     parse: fn(&str) -> Result<Multiaddr, String>|
         -> Result<Option<Vec<Multiaddr>>, TomlError> {
            let Some(list) = v else { return Ok(None) };
            list.iter()
                .map(|s| parse(s.get_ref()).map_err(|e| err(s.span(), key, e)))
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };

        let mut cfg = NodeConfig::defaults(network_id);
        if let Some(p) = path(&raw.key_file, "key_file")? {
            cfg.key_file = p;
        }
        if let Some(l) = addrs(&raw.listen, "listen", parse_listen)? {
            cfg.listen = l;
        }
        if let Some(b) = addrs(&raw.bootstrap, "bootstrap", parse_bootstrap)? {
            cfg.bootstrap = b;
        }
        if let Some(v) = raw.validator {
            cfg.validator = v;
        }
        if let Some(list) = &raw.unl {
            let mut seen: BTreeMap<NodeId, Range<usize>> = BTreeMap::new();
            let mut unl = Vec::new();
            for entry in list {
                let id =
                    parse_unl_entry(entry.get_ref()).map_err(|e| err(entry.span(), "unl", e))?;
                if let Some(first) = seen.get(&id) {
                    let first_line = doc.error_at(first.clone(), "").line.unwrap_or(0);
                    return Err(err(
                        entry.span(),
                        "unl",
                        format!(
                            "validator {} is listed twice (first on line {first_line}; a key and \
                             its peer id are the same validator)",
                            id.to_hex()
                        ),
                    ));
                }
                seen.insert(id, entry.span());
                unl.push(id);
            }
            cfg.unl = unl;
        }
        if let Some(p) = &raw.profile {
            cfg.profile = parse_profile(p.get_ref()).map_err(|e| err(p.span(), "profile", e))?;
        }
        if let Some(p) = path(&raw.data_dir, "data_dir")? {
            cfg.data_dir = p;
        }
        if let Some(p) = path(&raw.log_dir, "log_dir")? {
            cfg.log_dir = p;
        }
        if let Some(a) = &raw.admin {
            cfg.admin = parse_admin(a.get_ref()).map_err(|e| err(a.span(), "admin", e))?;
        }
        if let Some(m) = &raw.metrics {
            cfg.metrics = parse_metrics(m.get_ref()).map_err(|e| err(m.span(), "metrics", e))?;
        }
        if let Some(m) = raw.mdns {
            cfg.mdns = m;
        }
        if let Some(m) = &raw.max_peers {
            check_max_peers(*m.get_ref()).map_err(|e| err(m.span(), "max_peers", e))?;
            cfg.max_peers = *m.get_ref();
        }
        if let Some(m) = &raw.max_pending_txs {
            check_max_pending(*m.get_ref()).map_err(|e| err(m.span(), "max_pending_txs", e))?;
            cfg.max_pending_txs = *m.get_ref();
        }
        // Defaults too: a file's node keeps its key and data beside the file, wherever it runs.
        for p in [&mut cfg.key_file, &mut cfg.data_dir, &mut cfg.log_dir] {
            *p = base_dir.join(&*p);
        }
        Ok(cfg)
    }

    /// The configuration from flags alone (no file): defaults with the flags laid over them.
    pub fn from_overrides(flags: &NodeOverrides) -> Result<NodeConfig, ConfigError> {
        let network_id = flags.network_id.ok_or(ConfigError::MissingNetworkId)?;
        NodeConfig::defaults(network_id).with_overrides(flags)
    }

    /// Lays `flags` over this configuration (flags win; a list flag replaces the list) and
    /// checks the result as a file would be checked.
    pub fn with_overrides(self, flags: &NodeOverrides) -> Result<NodeConfig, ConfigError> {
        let f = flags.clone();
        let cfg = NodeConfig {
            network_id: f.network_id.unwrap_or(self.network_id),
            key_file: f.key_file.unwrap_or(self.key_file),
            listen: f.listen.unwrap_or(self.listen),
            bootstrap: f.bootstrap.unwrap_or(self.bootstrap),
            validator: f.validator.unwrap_or(self.validator),
            unl: f.unl.unwrap_or(self.unl),
            profile: f.profile.unwrap_or(self.profile),
            data_dir: f.data_dir.unwrap_or(self.data_dir),
            log_dir: f.log_dir.unwrap_or(self.log_dir),
            admin: f.admin.unwrap_or(self.admin),
            metrics: f.metrics.unwrap_or(self.metrics),
            mdns: f.mdns.unwrap_or(self.mdns),
            max_peers: f.max_peers.unwrap_or(self.max_peers),
            max_pending_txs: self.max_pending_txs,
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// The checks [`NodeConfig::parse`] makes with line numbers, for values that came from flags.
    fn check(&self) -> Result<(), ConfigError> {
        let invalid =
            |field: &'static str| move |message: String| ConfigError::Invalid { field, message };
        for (field, p) in [
            ("key_file", &self.key_file),
            ("data_dir", &self.data_dir),
            ("log_dir", &self.log_dir),
        ] {
            if p.as_os_str().is_empty() {
                return Err(invalid(field)("must not be empty".into()));
            }
        }
        for a in &self.bootstrap {
            check_bootstrap(a).map_err(invalid("bootstrap"))?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for id in &self.unl {
            if peer_id_of(id).is_none() {
                return Err(invalid("unl")(format!(
                    "{} is not a valid ed25519 public key",
                    id.to_hex()
                )));
            }
            if !seen.insert(*id) {
                return Err(invalid("unl")(format!(
                    "validator {} is listed twice",
                    id.to_hex()
                )));
            }
        }
        if let Some(a) = self.admin {
            check_admin(a).map_err(invalid("admin"))?;
        }
        check_max_peers(self.max_peers).map_err(invalid("max_peers"))
    }
}

/// Parses a listen address.
pub fn parse_listen(s: &str) -> Result<Multiaddr, String> {
    check_len(s, MAX_ADDR_CHARS, "an address")?;
    s.trim()
        .parse::<Multiaddr>()
        .map_err(|e| format!("{s:?} is not a multiaddr ({e}); for example /ip4/0.0.0.0/tcp/51235"))
}

/// Parses a bootstrap address, which must name the peer (`.../p2p/<peer id>`).
pub fn parse_bootstrap(s: &str) -> Result<Multiaddr, String> {
    check_len(s, MAX_ADDR_CHARS, "an address")?;
    let addr = s.trim().parse::<Multiaddr>().map_err(|e| {
        format!(
            "{s:?} is not a multiaddr ({e}); for example /ip4/192.0.2.1/tcp/51235/p2p/12D3KooW..."
        )
    })?;
    check_bootstrap(&addr)?;
    Ok(addr)
}

/// Without the peer id a dial cannot check who answered, and anyone at that address could pose
/// as the bootstrap peer.
fn check_bootstrap(addr: &Multiaddr) -> Result<(), String> {
    match addr.iter().last() {
        Some(Protocol::P2p(_)) => Ok(()),
        _ => Err(format!(
            "bootstrap address {addr} does not end in /p2p/<peer id>: without it the connection \
             cannot be authenticated"
        )),
    }
}

/// Parses a UNL entry: a validator public key (64 hex digits) or its peer id (`12D3KooW...`).
pub fn parse_unl_entry(s: &str) -> Result<NodeId, String> {
    let s = s.trim();
    check_len(s, MAX_KEY_CHARS, "a UNL entry")?;
    if s.len() == 64
        && let Some(id) = NodeId::from_hex(s)
    {
        return match peer_id_of(&id) {
            Some(_) => Ok(id),
            None => Err(format!("{s} is not a valid ed25519 public key")),
        };
    }
    match s.parse::<PeerId>() {
        Ok(peer) => node_id_of(&peer).ok_or_else(|| {
            format!("peer id {s} does not carry an ed25519 key, so it names no cpeers validator")
        }),
        Err(_) => Err(format!(
            "{s:?} is neither a validator public key (64 hex digits) nor a peer id (12D3KooW...)"
        )),
    }
}

/// Longest multiaddr accepted (base58 peer ids decode in quadratic time, so absurd lengths are
/// refused before parsing).
const MAX_ADDR_CHARS: usize = 512;
/// Longest UNL entry accepted (a key is 64 hex digits, a peer id 52 characters).
const MAX_KEY_CHARS: usize = 128;

fn check_len(s: &str, max: usize, what: &str) -> Result<(), String> {
    if s.len() > max {
        let head: String = s.chars().take(24).collect();
        return Err(format!(
            "\"{head}...\" ({} characters) is too long for {what} (at most {max})",
            s.len()
        ));
    }
    Ok(())
}

/// Parses the admin endpoint: `host:port` on a loopback address, or `off`.
pub fn parse_admin(s: &str) -> Result<Option<SocketAddr>, String> {
    let s = s.trim();
    if s == "off" {
        return Ok(None);
    }
    let addr: SocketAddr = s.parse().map_err(|_| {
        format!("{s:?} is not an address and port (for example 127.0.0.1:51236) nor \"off\"")
    })?;
    check_admin(addr)?;
    Ok(Some(addr))
}

/// Parses the metrics endpoint: `host:port` (any address: it only serves read-only counters), or
/// `off`.
pub fn parse_metrics(s: &str) -> Result<Option<SocketAddr>, String> {
    let s = s.trim();
    if s == "off" {
        return Ok(None);
    }
    s.parse::<SocketAddr>().map(Some).map_err(|_| {
        format!("{s:?} is not an address and port (for example 127.0.0.1:9100) nor \"off\"")
    })
}

/// Whether the metrics endpoint is reachable from other machines (allowed, but worth a warning:
/// anyone who can reach it learns the node's peers and traffic).
pub fn metrics_exposed(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// The admin endpoint answers reads without a token: reachable from the network, anyone could
/// watch the node (and try tokens). Only loopback is accepted; remote access goes through an
/// SSH tunnel.
fn check_admin(addr: SocketAddr) -> Result<(), String> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "{addr} is not a loopback address: the admin endpoint answers reads without a token, \
             so it must listen on 127.0.0.1 or [::1] (reach it from elsewhere through `ssh -L`; \
             use \"off\" to disable it)"
        ))
    }
}

/// Parses a timing profile name.
pub fn parse_profile(s: &str) -> Result<Profile, String> {
    s.trim().parse()
}

fn check_max_pending(n: usize) -> Result<(), String> {
    let max = crate::node::MAX_PENDING_TXS;
    if n == 0 || n > max {
        Err(format!(
            "must be from 1 to {max} (a position must stay fetchable within the wire's limits)"
        ))
    } else {
        Ok(())
    }
}

fn check_max_peers(n: u32) -> Result<(), String> {
    if n == 0 {
        Err("must be at least 1: a node with no peers cannot follow the network".into())
    } else {
        Ok(())
    }
}

/// A commented example `node.toml`, every key with its default or a typical value.
pub fn example() -> &'static str {
    EXAMPLE
}

const EXAMPLE: &str = r#"# cpeers node configuration: `cpeers node --config node.toml`.
# Command-line flags override values here; keys left out take the defaults shown.
# Relative paths are relative to the directory of this file.

# The network to join (required). Every node of a network uses the same id;
# nodes with different ids ignore each other.
network_id = 1

# This node's ed25519 key: its validator identity AND its libp2p peer id.
# Created with mode 0600 on first start if missing. It is secret: back it up,
# never share it. A key file readable by others is refused.
key_file = "validator.key"

# Addresses to accept peer connections on (multiaddrs).
listen = ["/ip4/0.0.0.0/tcp/51235"]

# Peers to dial at start. Each must end in /p2p/<peer id>, so the connection
# is authenticated. Default: none.
bootstrap = [
    "/ip4/192.0.2.10/tcp/51235/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5",
]

# true: propose and validate. false: observer (follows the network, never votes).
validator = true

# Validators this node trusts (its UNL): public keys (64 hex digits) or peer
# ids; a key and its peer id name the same validator. Default: none.
unl = [
    "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394",
    "12D3KooWRndVhVZPCiQwHBBBdg769GyrPUW13zxwqQyf9r3ANaba",
]

# Timing: "mainnet" (rippled's numbers) or "fast" (every duration divided by
# 10, for demos on one machine). Every node of a network uses the same profile.
profile = "mainnet"

# Where the ledger store and the log files go.
data_dir = "data"
log_dir = "logs"

# Local admin API: GET /status, /validated, /metrics, the /subscribe stream
# (WebSocket) that `cpeers attach` and scripts use, POST /submit and /command.
# Reading needs no token, so only a loopback address is accepted (use ssh -L
# from elsewhere); changing anything needs the token the node writes to
# <data_dir>/admin.token on first start. "off" disables it.
admin = "127.0.0.1:51236"

# Prometheus metrics (GET /metrics), e.g. "127.0.0.1:9100". Read-only, so a
# non-loopback address is accepted (with a warning in the log). "off" disables it.
metrics = "off"

# Discover peers on the local network with mDNS.
mdns = false

# Most peer connections to keep.
max_peers = 64

# Most transactions pending at once (at most 50000). A submission that finds
# the pool full is refused with 503 and Retry-After, never dropped quietly.
max_pending_txs = 50000
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NodeConfig, TomlError> {
        NodeConfig::parse(
            &TomlDoc::from_text("n.toml", text),
            Path::new("/etc/cpeers"),
        )
    }

    fn key(seed: u8) -> NodeId {
        crate::consensus::NodeKey::from_secret([seed; 32]).id()
    }

    #[test]
    fn example_parses_and_uses_every_key() {
        let cfg = parse(example()).unwrap();
        assert_eq!(cfg.network_id, 1);
        assert_eq!(cfg.bootstrap.len(), 1);
        assert_eq!(cfg.unl.len(), 2);
        assert_eq!(cfg.key_file, Path::new("/etc/cpeers/validator.key"));
        // Apart from paths made absolute and the example lists, the example shows the defaults.
        let d = NodeConfig::defaults(1);
        assert_eq!(cfg.listen, d.listen);
        assert_eq!(cfg.admin, d.admin);
        assert_eq!(cfg.metrics, d.metrics);
        assert_eq!(cfg.max_peers, d.max_peers);
        assert_eq!(cfg.profile, d.profile);
        assert_eq!((cfg.validator, cfg.mdns), (d.validator, d.mdns));
    }

    #[test]
    fn minimal_file_takes_defaults_and_resolves_paths_against_its_dir() {
        let cfg = parse("network_id = 7\n").unwrap();
        let d = NodeConfig::defaults(7);
        assert_eq!(cfg.listen, d.listen);
        assert_eq!(cfg.key_file, Path::new("/etc/cpeers/validator.key"));
        assert_eq!(cfg.data_dir, Path::new("/etc/cpeers/data"));
        assert_eq!(cfg.log_dir, Path::new("/etc/cpeers/logs"));
        let cfg = parse("network_id = 7\nkey_file = \"/abs/k.key\"\n").unwrap();
        assert_eq!(cfg.key_file, Path::new("/abs/k.key"));
    }

    #[test]
    fn flags_win_over_the_file_and_replace_lists() {
        let cfg = parse(&format!(
            "network_id = 7\nunl = [\"{}\"]\nlisten = [\"/ip4/0.0.0.0/tcp/1\", \"/ip4/0.0.0.0/tcp/2\"]\nmdns = true\n",
            key(1).to_hex()
        ))
        .unwrap();
        let flags = NodeOverrides {
            network_id: Some(9),
            unl: Some(vec![key(2), key(3)]),
            listen: Some(vec![parse_listen("/ip4/127.0.0.1/tcp/5").unwrap()]),
            admin: Some(None),
            key_file: Some(PathBuf::from("rel.key")),
            ..NodeOverrides::default()
        };
        let out = cfg.clone().with_overrides(&flags).unwrap();
        assert_eq!(out.network_id, 9);
        assert_eq!(out.unl, vec![key(2), key(3)]);
        assert_eq!(out.listen.len(), 1);
        assert_eq!(out.admin, None);
        assert!(out.mdns, "unset flags keep the file's value");
        assert_eq!(
            out.key_file,
            Path::new("rel.key"),
            "flag paths stay as typed"
        );
        assert_eq!(
            cfg.clone().with_overrides(&NodeOverrides::default()),
            Ok(cfg)
        );
    }

    #[test]
    fn flag_values_get_the_file_checks() {
        let base = NodeConfig::defaults(1);
        let bad = |flags: NodeOverrides| base.clone().with_overrides(&flags).unwrap_err();
        let e = bad(NodeOverrides {
            max_peers: Some(0),
            ..Default::default()
        });
        assert!(
            matches!(
                e,
                ConfigError::Invalid {
                    field: "max_peers",
                    ..
                }
            ),
            "{e}"
        );
        let e = bad(NodeOverrides {
            admin: Some(Some("0.0.0.0:1".parse().unwrap())),
            ..Default::default()
        });
        assert!(
            matches!(e, ConfigError::Invalid { field: "admin", .. }),
            "{e}"
        );
        let e = bad(NodeOverrides {
            unl: Some(vec![key(1), key(1)]),
            ..Default::default()
        });
        assert!(e.to_string().contains("twice"), "{e}");
        let e = bad(NodeOverrides {
            bootstrap: Some(vec!["/ip4/1.2.3.4/tcp/1".parse().unwrap()]),
            ..Default::default()
        });
        assert!(e.to_string().starts_with("bootstrap: "), "{e}");
    }

    #[test]
    fn from_overrides_needs_a_network_id() {
        assert_eq!(
            NodeConfig::from_overrides(&NodeOverrides::default()),
            Err(ConfigError::MissingNetworkId)
        );
        let cfg = NodeConfig::from_overrides(&NodeOverrides {
            network_id: Some(3),
            validator: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.network_id, 3);
        assert!(!cfg.validator);
        assert_eq!(cfg.key_file, Path::new("validator.key"));
    }

    #[test]
    fn unl_entries_are_keys_or_peer_ids() {
        let id = key(5);
        let peer = peer_id_of(&id).unwrap();
        assert_eq!(parse_unl_entry(&id.to_hex()), Ok(id));
        assert_eq!(parse_unl_entry(&id.to_hex().to_uppercase()), Ok(id));
        assert_eq!(parse_unl_entry(&peer.to_string()), Ok(id));
        assert!(parse_unl_entry("nope").unwrap_err().contains("neither"));
        assert!(parse_unl_entry(&"ab".repeat(31)).is_err());
        // A PeerId hashing a key (not inlining it) names no cpeers validator.
        let sha = libp2p::multihash::Multihash::<64>::wrap(0x12, &[1; 32]).unwrap();
        let hashed = PeerId::from_multihash(sha).unwrap().to_string();
        assert!(parse_unl_entry(&hashed).unwrap_err().contains("ed25519"));
    }

    #[test]
    fn admin_must_be_loopback_or_off() {
        assert_eq!(parse_admin("off"), Ok(None));
        assert!(parse_admin("127.0.0.1:9").unwrap().is_some());
        assert!(parse_admin("[::1]:9").unwrap().is_some());
        assert!(parse_admin("0.0.0.0:9").unwrap_err().contains("loopback"));
        assert!(
            parse_admin("192.168.1.2:9")
                .unwrap_err()
                .contains("loopback")
        );
        assert!(parse_admin("localhost:9").is_err());
    }

    #[test]
    fn metrics_is_any_address_or_off_and_flags_override_the_file() {
        assert_eq!(parse_metrics("off"), Ok(None));
        assert_eq!(
            parse_metrics(" 0.0.0.0:9100 "),
            Ok(Some("0.0.0.0:9100".parse().unwrap()))
        );
        assert!(parse_metrics("[::1]:0").unwrap().is_some());
        assert!(parse_metrics("localhost:9100").unwrap_err().contains("off"));
        assert!(metrics_exposed("0.0.0.0:1".parse().unwrap()));
        assert!(!metrics_exposed("127.0.0.1:1".parse().unwrap()));
        assert_eq!(
            parse("network_id = 1\n").unwrap().metrics,
            None,
            "off by default"
        );
        let file = parse("network_id = 1\nmetrics = \"127.0.0.1:9100\"\n").unwrap();
        assert_eq!(file.metrics, Some("127.0.0.1:9100".parse().unwrap()));
        let flag = NodeOverrides {
            metrics: Some(Some("0.0.0.0:9200".parse().unwrap())),
            ..Default::default()
        };
        let out = file.clone().with_overrides(&flag).unwrap();
        assert_eq!(out.metrics, Some("0.0.0.0:9200".parse().unwrap()));
        let off = NodeOverrides {
            metrics: Some(None),
            ..Default::default()
        };
        assert_eq!(file.with_overrides(&off).unwrap().metrics, None);
        let err = parse("network_id = 1\nmetrics = \"9100\"\n").unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("metrics")));
        assert!(err.message.contains("not an address"), "{err}");
    }

    #[test]
    fn errors_in_multi_line_arrays_name_the_key() {
        let text = format!(
            "network_id = 1\nunl = [\n    \"{}\",\n    \"{}\",\n]\n",
            key(1).to_hex(),
            peer_id_of(&key(1)).unwrap()
        );
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.key.as_deref(), Some("unl"));
        assert!(err.message.contains("first on line 3"), "{err}");
    }
}
