//! The admin token: the secret every state-changing admin request carries
//! (`Authorization: Bearer <token>`). A node creates `<data_dir>/admin.token` on first start
//! (32 random bytes as hex, mode 0600 from the first byte) and refuses a token file that group
//! or others can read, as it refuses such a key file: a secret that may have leaked is not used.
//! `cpeers attach` and `cpeers submit` read it through `--config` (the node's data directory)
//! or `--token-file`.
//!
//! Errors name the file and the problem, never the token.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// File name inside the node's data directory.
pub const FILE_NAME: &str = "admin.token";

/// A token file is one line; anything much larger is not one.
const MAX_BYTES: u64 = 1024;

/// The secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// What went wrong with a token file.
#[derive(Debug, Error)]
pub enum TokenError {
    /// The file system refused.
    #[error("{path}: cannot {action}: {source}", path = .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was attempted.
        action: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Group or others may read it.
    #[error(
        "{path}: admin token file is accessible by group or others (mode {mode:04o}); if nobody \
         else could have read it, run `chmod 600 {path}`, otherwise delete it so the node makes a new one",
        path = .path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a token.
    #[error("{path}: not an admin token file (expected one line of 16 to 256 visible characters)", path = .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
    },
}

impl AdminToken {
    /// The token as sent in the `Authorization` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is the token (compared in constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Whether an `Authorization` header value carries the token.
    pub fn authorizes(&self, header: Option<&str>) -> bool {
        header
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| self.matches(t.trim()))
    }
}

/// Loads the token of the node whose data directory is `data_dir`, creating it when missing.
/// `true`: it was just created.
pub fn load_or_create(data_dir: &Path) -> Result<(AdminToken, bool), TokenError> {
    let path = data_dir.join(FILE_NAME);
    match load(&path) {
        Ok(t) => return Ok((t, false)),
        Err(TokenError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Io {
        path: path.clone(),
        action: "draw random bytes for a new token",
        source: io::Error::other(e.to_string()),
    })?;
    let token = AdminToken(crate::consensus::hash::hex(&bytes));
    let io_err = |action| {
        let path = path.clone();
        move |source| TokenError::Io {
            path,
            action,
            source,
        }
    };
    fs::create_dir_all(data_dir).map_err(io_err("create the data directory"))?;
    let mut f = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(f) => f,
        // Another process made it between our look and our create: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return load(&path).map(|t| (t, false));
        }
        Err(e) => return Err(io_err("create the admin token file")(e)),
    };
    f.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(io_err("set the admin token file's mode"))?;
    f.write_all(format!("{}\n", token.0).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io_err("write the admin token file"))?;
    Ok((token, true))
}

/// Loads a token file (never creates one).
pub fn load(path: &Path) -> Result<AdminToken, TokenError> {
    let io_err = |action| {
        move |source| TokenError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let file = File::open(path).map_err(io_err("open the admin token file"))?;
    let meta = file
        .metadata()
        .map_err(io_err("inspect the admin token file"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TokenError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut text = String::new();
    file.take(MAX_BYTES)
        .read_to_string(&mut text)
        .map_err(|_| TokenError::Malformed {
            path: path.to_path_buf(),
        })?;
    let t = text.trim();
    if !(16..=256).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::Malformed {
            path: path.to_path_buf(),
        });
    }
    Ok(AdminToken(t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cpeers-token-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn created_once_0600_reloaded_and_refused_when_readable_by_others() {
        let d = dir("create");
        let (t, created) = load_or_create(&d).unwrap();
        assert!(created);
        let path = d.join(FILE_NAME);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (again, created) = load_or_create(&d).unwrap();
        assert!(!created);
        assert_eq!(again, t);
        assert_eq!(t.as_str().len(), 64);
        assert!(t.authorizes(Some(&format!("Bearer {}", t.as_str()))));
        assert!(!t.authorizes(Some("Bearer nope")));
        assert!(!t.authorizes(Some(t.as_str())));
        assert!(!t.authorizes(None));
        assert_eq!(format!("{t:?}"), "AdminToken(..)");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create(&d).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && !e.contains(t.as_str()), "{e}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "short\n").unwrap();
        assert!(matches!(load(&path), Err(TokenError::Malformed { .. })));
        let _ = fs::remove_dir_all(&d);
    }
}
