//! Validator key files, and the mapping between validator keys and libp2p PeerIds.
//!
//! A node has ONE ed25519 key. It signs proposals and validations ([`NodeKey`]) and it is the
//! node's libp2p identity, so the PeerId a connection authenticates (noise) names the validator
//! whose messages arrive on it: a UNL can be written as peer ids, and a peer cannot claim to be a
//! validator whose key it does not hold.
//!
//! The key file is the node's most sensitive asset, so this module:
//! - creates it with mode 0600 from the first byte (never world-readable, even briefly), with
//!   `create_new` so two nodes started at once never overwrite each other's key;
//! - refuses to use a file that group or others may read, instead of silently tightening it: a key
//!   that was exposed should be replaced, and only the operator knows whether it was;
//! - parses the file itself, strictly, and never puts any of its content in an error message, a
//!   log line or a `Debug` output — errors say what is wrong, never which bytes.
//!
//! Format (text, so an operator can see what it is and back it up):
//! ```text
//! # cpeers validator key. SECRET: ...
//! secret = "<64 hex digits>"
//! ```
//! Comment (`#`) and blank lines are allowed; exactly one `secret` line is required.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use libp2p::PeerId;
use libp2p::identity::{Keypair, PublicKey, ed25519};
use thiserror::Error;

use crate::consensus::hash::hex;
use crate::consensus::{Hash256, NodeId, NodeKey};

/// The comment written above the secret: whoever opens the file learns what it is before they
/// paste it anywhere.
const WARNING: &str = "# cpeers validator key. SECRET: whoever holds this file can sign as this \
                       validator. Keep it private (mode 0600), back it up, never share it.";

/// A key file is two short lines; anything much larger is not one, and is not read into memory.
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Multihash code of the identity "hash": the digest is the encoded public key itself.
const MULTIHASH_IDENTITY: u64 = 0x00;

/// What went wrong with a key file. Messages name the file and the problem, never its content.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The file system refused an operation (`action` says which).
    #[error("{path}: cannot {action}: {source}", path = .path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was attempted ("read the key file", "create the key directory", ...).
        action: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Group or others may access the key: it may have leaked, so it is not used.
    #[error(
        "{path}: key file is accessible by group or others (mode {mode:04o}); \
         if nobody else could have read it, run `chmod 600 {path}`, otherwise generate a new key",
        path = .path.display()
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a cpeers key file.
    #[error("{path}: not a valid cpeers key file: {reason}", path = .path.display())]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never any of the file's content).
        reason: String,
    },
    /// The path exists but is not a regular file.
    #[error("{path}: not a regular file", path = .path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A stand-in key (replay) has no secret, so it can never be written as a key file.
    #[error("{path}: a stand-in key has no secret and cannot be written as a key file", path = .path.display())]
    StandIn {
        /// The key file that was to be written.
        path: PathBuf,
    },
    /// `keygen` without `force` found a key already there; replacing it would change the
    /// validator's identity.
    #[error(
        "{path}: a key file already exists; replacing it changes this validator's identity \
         (every UNL that lists it must be updated) — use --force if that is what you want",
        path = .path.display()
    )]
    Exists {
        /// The key file.
        path: PathBuf,
    },
}

/// What `keygen` tells the operator: enough to put the new validator in other nodes' UNLs and
/// bootstrap lists, and nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The validator public key (64 hex digits), as UNL entries are written.
    pub public_key_hex: String,
    /// The libp2p peer id, for `/p2p/<peer id>` addresses and peer-id UNL entries.
    pub peer_id: PeerId,
    /// Where the key was written.
    pub path: PathBuf,
}

/// Loads the key at `path`, creating one if there is none. `true` means it was just created, so
/// the caller can tell the operator a new identity exists (and should be backed up).
pub fn load_or_create(path: &Path) -> Result<(NodeKey, bool), IdentityError> {
    match load(path) {
        Ok(key) => return Ok((key, false)),
        Err(IdentityError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let key = generate();
    create_parent_dir(path)?;
    match write_new(path, &key) {
        Ok(()) => Ok((key, true)),
        // Another process created it between our look and our create: use theirs, never ours.
        Err(IdentityError::Exists { .. }) => load(path).map(|k| (k, false)),
        Err(e) => Err(e),
    }
}

/// Loads the key at `path`; never creates one (for commands that must not invent an identity).
pub fn load(path: &Path) -> Result<NodeKey, IdentityError> {
    let io_err = |action: &'static str| {
        move |source: io::Error| IdentityError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let file = File::open(path).map_err(io_err("open the key file"))?;
    // Checked on the open handle, so the file we judge is the file we read.
    let meta = file.metadata().map_err(io_err("inspect the key file"))?;
    if !meta.is_file() {
        return Err(IdentityError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(IdentityError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(malformed(path, "larger than 4 KiB"));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(io_err("read the key file"))?;
    let parsed = parse_key_file(&buf);
    wipe(&mut buf);
    let mut secret = parsed.map_err(|reason| malformed(path, reason))?;
    let key = NodeKey::from_secret(secret);
    wipe(&mut secret);
    Ok(key)
}

/// Writes a new key to `path` for `cpeers keygen`. An existing file is kept unless `force`;
/// with `force` it is replaced atomically (a crash leaves the old key or the new one, never a
/// half-written file).
pub fn keygen(path: &Path, force: bool) -> Result<KeyInfo, IdentityError> {
    let key = generate();
    create_parent_dir(path)?;
    if force {
        replace(path, &key)?;
    } else {
        write_new(path, &key)?;
    }
    let public = ed25519_public(&key);
    Ok(KeyInfo {
        public_key_hex: key.id().to_hex(),
        peer_id: PeerId::from_public_key(&public),
        path: path.to_path_buf(),
    })
}

/// The libp2p identity for `key`: the same secret, so the swarm's PeerId names this validator.
/// `None` for a stand-in key (replay), which has no secret and so no network identity.
pub fn libp2p_keypair(key: &NodeKey) -> Option<Keypair> {
    // `try_from_bytes` zeroes the copy it is given.
    let secret = ed25519::SecretKey::try_from_bytes(key.secret()?)
        .expect("32 bytes are always a valid ed25519 secret key");
    Some(Keypair::from(ed25519::Keypair::from(secret)))
}

/// The PeerId a node holding the key `node` has; `None` if the bytes are not an ed25519 point
/// (such a key cannot sign, so no peer can have it).
pub fn peer_id_of(node: &NodeId) -> Option<PeerId> {
    let key = ed25519::PublicKey::try_from_bytes(&node.0).ok()?;
    Some(PeerId::from_public_key(&PublicKey::from(key)))
}

/// The validator key a PeerId names. Ed25519 PeerIds inline the key (identity multihash of its
/// protobuf encoding), so this needs no lookup; PeerIds of other key types (hashed, or not
/// ed25519) name no validator and give `None`.
pub fn node_id_of(peer: &PeerId) -> Option<NodeId> {
    let multihash = peer.as_ref();
    if multihash.code() != MULTIHASH_IDENTITY {
        return None;
    }
    let key = PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    let key = key.try_into_ed25519().ok()?;
    Some(NodeId(key.to_bytes()))
}

fn ed25519_public(key: &NodeKey) -> PublicKey {
    let public = ed25519::PublicKey::try_from_bytes(&key.id().0)
        .expect("a generated key's public key is a valid ed25519 point");
    PublicKey::from(public)
}

fn generate() -> NodeKey {
    // Keypair bytes are the 32-byte secret followed by the 32-byte public key.
    let mut pair = ed25519::Keypair::generate().to_bytes();
    let mut secret = [0u8; 32];
    secret.copy_from_slice(&pair[..32]);
    let key = NodeKey::from_secret(secret);
    wipe(&mut pair);
    wipe(&mut secret);
    key
}

fn malformed(path: &Path, reason: impl Into<String>) -> IdentityError {
    IdentityError::Malformed {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses the file's bytes. Errors describe the problem (line number, length) and never quote
/// the content: a slightly damaged key is still mostly a secret.
fn parse_key_file(bytes: &[u8]) -> Result<[u8; 32], String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let mut secret: Option<[u8; 32]> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value = line
            .strip_prefix("secret")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix('='))
            .map(str::trim)
            .and_then(|l| l.strip_prefix('"'))
            .and_then(|l| l.strip_suffix('"'))
            .ok_or_else(|| format!("line {n}: expected `secret = \"<64 hex digits>\"`"))?;
        if secret.is_some() {
            return Err(format!("line {n}: a second `secret` line"));
        }
        if value.len() != 64 {
            return Err(format!(
                "line {n}: the secret must be 64 hex digits, found {} characters",
                value.chars().count()
            ));
        }
        let Some(h) = Hash256::from_hex(value) else {
            return Err(format!(
                "line {n}: the secret contains characters that are not hex digits"
            ));
        };
        secret = Some(h.0);
    }
    secret.ok_or_else(|| "no `secret = \"<64 hex digits>\"` line".to_string())
}

/// The key file's content; `None` for a stand-in key, which has no secret to write.
fn key_file_text(key: &NodeKey) -> Option<Vec<u8>> {
    let mut secret = key.secret()?;
    let text = format!("{WARNING}\nsecret = \"{}\"\n", hex(&secret)).into_bytes();
    wipe(&mut secret);
    Some(text)
}

/// Creates the key's directory (0700 for directories we create: it holds a secret).
fn create_parent_dir(path: &Path) -> Result<(), IdentityError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| IdentityError::Io {
            path: dir.to_path_buf(),
            action: "create the key directory",
            source,
        })
}

/// Writes `key` to a file that must not exist yet, 0600 from creation.
fn write_new(path: &Path, key: &NodeKey) -> Result<(), IdentityError> {
    if key.is_stand_in() {
        return Err(IdentityError::StandIn {
            path: path.to_path_buf(),
        });
    }
    let file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(IdentityError::Exists {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(IdentityError::Io {
                path: path.to_path_buf(),
                action: "create the key file",
                source,
            });
        }
    };
    if let Err(e) = fill(file, path, key) {
        // A half-written key file would fail every later start; leave nothing instead.
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Replaces `path` with a new key via a temporary file in the same directory and a rename.
fn replace(path: &Path, key: &NodeKey) -> Result<(), IdentityError> {
    let Some(name) = path.file_name() else {
        return Err(IdentityError::NotAFile {
            path: path.to_path_buf(),
        });
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    // A leftover with our pid is from a crashed earlier process with the same pid: ours to drop.
    let _ = fs::remove_file(&tmp);
    write_new(&tmp, key)?;
    if let Err(source) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(IdentityError::Io {
            path: path.to_path_buf(),
            action: "replace the key file",
            source,
        });
    }
    // Make the rename durable, so a power cut does not bring the old key back.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

fn fill(mut file: File, path: &Path, key: &NodeKey) -> Result<(), IdentityError> {
    let io_err = |action: &'static str| {
        move |source: io::Error| IdentityError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    // The umask can only clear bits; this makes the mode exactly 0600 whatever it is.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(io_err("set the key file's mode"))?;
    let Some(mut text) = key_file_text(key) else {
        return Err(IdentityError::StandIn {
            path: path.to_path_buf(),
        });
    };
    let written = file.write_all(&text);
    wipe(&mut text);
    written.map_err(io_err("write the key file"))?;
    file.sync_all().map_err(io_err("sync the key file"))
}

/// Best-effort erasure of secret bytes before their memory is freed or reused.
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(&bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("cpeers-identity-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn write_with_mode(path: &Path, content: &[u8], mode: u32) {
        fs::write(path, content).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn created_key_is_0600_and_reloads_identically() {
        let dir = TempDir::new("create");
        let path = dir.0.join("nested/dir/validator.key");
        let (key, created) = load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(mode_of(&path), 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# "), "{text}");
        assert!(text.contains("SECRET"));

        let (again, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.id(), key.id());
        assert_eq!(again.secret(), key.secret());
        assert!(key.secret().is_some());
        assert_eq!(load(&path).unwrap().id(), key.id());
    }

    #[test]
    fn group_or_world_readable_key_is_refused_with_chmod_hint() {
        let dir = TempDir::new("perm");
        let path = dir.0.join("validator.key");
        let (key, _) = load_or_create(&path).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = load(&path).unwrap_err();
            assert!(matches!(err, IdentityError::Permissions { .. }), "{err}");
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("chmod 600 {}", path.display())),
                "{msg}"
            );
            assert!(!msg.contains(&hex(&key.secret().unwrap())));
            // load_or_create must refuse too, never replace the key.
            assert!(load_or_create(&path).is_err());
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(load(&path).unwrap().id(), key.id());
    }

    #[test]
    fn malformed_files_are_errors_that_do_not_echo_content() {
        let dir = TempDir::new("malformed");
        let path = dir.0.join("validator.key");
        let good = "a1b2c3d4".repeat(8);
        let cases: Vec<(&str, String, &str)> = vec![
            ("empty", String::new(), "no `secret"),
            ("comment only", "# hello\n".into(), "no `secret"),
            (
                "short",
                format!("secret = \"{}\"\n", &good[..40]),
                "64 hex digits, found 40",
            ),
            (
                "long",
                format!("secret = \"{good}ab\"\n"),
                "64 hex digits, found 66",
            ),
            (
                "non-hex",
                format!("secret = \"{}zz\"\n", &good[..62]),
                "not hex digits",
            ),
            ("unquoted", format!("secret = {good}\n"), "line 1: expected"),
            ("other key", format!("seecret = \"{good}\"\n"), "line 1"),
            ("bare hex", format!("# c\n{good}\n"), "line 2: expected"),
            (
                "two secrets",
                format!("secret = \"{good}\"\nsecret = \"{good}\"\n"),
                "second",
            ),
            (
                "trailing junk",
                format!("secret = \"{good}\" # mine\n"),
                "line 1",
            ),
        ];
        for (name, content, expect) in cases {
            write_with_mode(&path, content.as_bytes(), 0o600);
            let err = load(&path).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, IdentityError::Malformed { .. }),
                "{name}: {msg}"
            );
            assert!(msg.contains(&path.display().to_string()), "{name}: {msg}");
            assert!(msg.contains(expect), "{name}: {msg}");
            // No fragment of the content appears in the message.
            assert!(!msg.contains(&good[..8]), "{name}: {msg}");
            assert!(!msg.contains("hello") && !msg.contains("mine"), "{name}");
        }

        write_with_mode(&path, &[0xff, 0xfe, b'\n'], 0o600);
        assert!(load(&path).unwrap_err().to_string().contains("UTF-8"));

        write_with_mode(&path, &vec![b'#'; 5000], 0o600);
        assert!(load(&path).unwrap_err().to_string().contains("4 KiB"));

        // Comments and blank lines around the secret are fine.
        write_with_mode(
            &path,
            format!("# a\n\n  secret=\"{}\"  \n# b\n", good.to_uppercase()).as_bytes(),
            0o600,
        );
        let key = load(&path).unwrap();
        assert_eq!(hex(&key.secret().unwrap()), good);
    }

    #[test]
    fn missing_file_and_directory_are_clear_errors() {
        let dir = TempDir::new("missing");
        let err = load(&dir.0.join("nope.key")).unwrap_err();
        assert!(err.to_string().contains("nope.key"), "{err}");
        assert!(matches!(err, IdentityError::Io { .. }), "{err}");
        let err = load(&dir.0).unwrap_err();
        assert!(matches!(err, IdentityError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn keygen_refuses_to_overwrite_unless_forced() {
        let dir = TempDir::new("keygen");
        let path = dir.0.join("keys/validator.key");
        let first = keygen(&path, false).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(first.path, path);
        let loaded = load(&path).unwrap();
        assert_eq!(loaded.id().to_hex(), first.public_key_hex);
        assert_eq!(peer_id_of(&loaded.id()), Some(first.peer_id));

        let err = keygen(&path, false).unwrap_err();
        assert!(matches!(err, IdentityError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("--force"));
        assert_eq!(load(&path).unwrap().id(), loaded.id());

        let second = keygen(&path, true).unwrap();
        assert_ne!(second.public_key_hex, first.public_key_hex);
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(load(&path).unwrap().id().to_hex(), second.public_key_hex);
        // No temporary file left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("validator.key")]);
    }

    #[test]
    fn peer_id_and_node_id_round_trip() {
        for seed in 0..20u8 {
            let key = NodeKey::from_secret([seed; 32]);
            let peer = peer_id_of(&key.id()).unwrap();
            assert!(peer.to_string().starts_with("12D3KooW"), "{peer}");
            assert_eq!(node_id_of(&peer), Some(key.id()));
            let parsed: PeerId = peer.to_string().parse().unwrap();
            assert_eq!(node_id_of(&parsed), Some(key.id()));
        }
        // A PeerId that is not an inlined ed25519 key names no validator.
        assert_eq!(node_id_of(&PeerId::random()), None);
        let sha256 = libp2p::multihash::Multihash::<64>::wrap(0x12, &[7; 32]).unwrap();
        let hashed = PeerId::from_multihash(sha256).unwrap();
        assert_eq!(node_id_of(&hashed), None);
    }

    #[test]
    fn libp2p_identity_is_the_validator_key() {
        let key = NodeKey::from_secret([42; 32]);
        let kp = libp2p_keypair(&key).unwrap();
        let public = kp.public().try_into_ed25519().unwrap();
        assert_eq!(NodeId(public.to_bytes()), key.id());
        assert_eq!(Some(kp.public().to_peer_id()), peer_id_of(&key.id()));
        assert_eq!(ed25519_public(&key), kp.public());
        // Signatures made by either side verify as the other's.
        let sig = key.sign(b"msg");
        assert!(kp.public().verify(b"msg", &sig.0));
    }

    #[test]
    fn a_stand_in_key_has_no_network_identity_and_is_never_written() {
        let dir = TempDir::new("stand-in");
        let stand_in = NodeKey::stand_in(NodeKey::from_secret([42; 32]).id());
        assert!(libp2p_keypair(&stand_in).is_none());
        let path = dir.0.join("validator.key");
        let err = write_new(&path, &stand_in).unwrap_err();
        assert!(matches!(err, IdentityError::StandIn { .. }), "{err}");
        assert!(!path.exists(), "no file is left behind");
        assert!(matches!(
            replace(&path, &stand_in),
            Err(IdentityError::StandIn { .. })
        ));
        assert!(!path.exists());
    }
}
