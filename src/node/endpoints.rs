//! `endpoints.json` in the data directory: where a running node can be reached (its PeerId,
//! listen addresses, admin and metrics endpoints). Written once the listeners are up, so scripts
//! and tests can start nodes on ephemeral ports and still find them.

use std::io;
use std::path::PathBuf;

use serde::Serialize;

/// The file's content.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    /// libp2p id.
    pub peer_id: String,
    /// Validator public key (hex).
    pub public_key: String,
    /// Listen addresses (without the /p2p suffix).
    pub listen: Vec<String>,
    /// Admin endpoint, when enabled.
    pub admin: Option<String>,
    /// Prometheus metrics endpoint (`GET /metrics`), when enabled.
    pub metrics: Option<String>,
    /// Process id, to tell a stale file from a live node.
    pub pid: u32,
    #[serde(skip)]
    pub(super) path: PathBuf,
}

impl Endpoints {
    /// Writes the file atomically (temp file + rename).
    pub fn write(&self) -> io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)
    }
}

/// Reads a node's endpoints file.
pub fn read(data_dir: &std::path::Path) -> io::Result<serde_json::Value> {
    let text = std::fs::read_to_string(data_dir.join(FILE_NAME))?;
    serde_json::from_str(&text).map_err(io::Error::other)
}

/// File name inside the data directory.
pub const FILE_NAME: &str = "endpoints.json";
