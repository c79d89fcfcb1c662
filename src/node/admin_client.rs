//! A minimal blocking HTTP/1.1 client for the admin endpoint (`cpeers status`, `cpeers submit`,
//! tests and benchmarks): one request per connection on loopback, so one-shot commands need no
//! async runtime. (The dashboard uses the WebSocket stream instead.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use thiserror::Error;

/// Why a call to the admin endpoint failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// Could not connect, send or read.
    #[error("cannot reach the node at {addr}: {source}")]
    Io {
        /// The endpoint.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// Not an HTTP answer.
    #[error("unexpected answer from {0}")]
    BadAnswer(SocketAddr),
    /// The node answered with an error status.
    #[error("node answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Body.
        body: String,
    },
}

/// Sends one request and returns the body of a 2xx answer.
pub fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<String, ClientError> {
    call_with_token(addr, method, path, body, None)
}

/// [`call`] with `Authorization: Bearer <token>` (state-changing requests need it).
pub fn call_with_token(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&crate::admin_token::AdminToken>,
) -> Result<String, ClientError> {
    let io = |source| ClientError::Io { addr, source };
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {}\r\n", t.as_str()))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or(ClientError::BadAnswer(addr))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(ClientError::BadAnswer(addr))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    if !(200..300).contains(&status) {
        return Err(ClientError::Status { status, body });
    }
    Ok(body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
