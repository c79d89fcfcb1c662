//! Node config fixtures: every file in `tests/valid_configs/` loads, and every file in
//! `tests/invalid_configs/` fails at the line and key its first line promises:
//!
//! ```text
//! # expect: <line or -> <key> [words the message must contain]
//! ```
//!
//! Keeping the expectation in the fixture keeps the case and its verdict in one place, so adding
//! a case is adding a file.

use std::fs;
use std::path::{Path, PathBuf};

use cpeers::config::{NodeConfig, example};
use cpeers::consensus::Profile;
use cpeers::toml_doc::TomlDoc;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

struct Expect {
    line: Option<usize>,
    key: String,
    words: String,
}

fn expectation(path: &Path) -> Expect {
    let text = fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or("");
    let rest = first.strip_prefix("# expect:").unwrap_or_else(|| {
        panic!(
            "{}: first line must be `# expect: <line|-> <key> [words]`",
            path.display()
        )
    });
    let mut parts = rest.split_whitespace();
    let line = match parts.next().unwrap() {
        "-" => None,
        n => Some(n.parse().unwrap()),
    };
    let key = parts.next().unwrap().to_string();
    let words = parts.collect::<Vec<_>>().join(" ");
    Expect { line, key, words }
}

#[test]
fn every_valid_config_loads() {
    let files = fixtures("valid_configs");
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        if let Err(e) = NodeConfig::load(&f) {
            panic!("{} should load: {e}", f.display());
        }
    }
}

#[test]
fn every_invalid_config_fails_at_its_line_and_key() {
    let files = fixtures("invalid_configs");
    assert!(files.len() >= 10, "{files:?}");
    for f in files {
        let want = expectation(&f);
        let err = match NodeConfig::load(&f) {
            Ok(cfg) => panic!("{} should not load, got {cfg:?}", f.display()),
            Err(e) => e,
        };
        let shown = err.to_string();
        assert_eq!(err.line, want.line, "{}: {shown}", f.display());
        assert_eq!(err.key.as_deref(), Some(want.key.as_str()), "{shown}");
        assert!(
            shown.contains(&want.words),
            "{}: message should contain {:?}: {shown}",
            f.display(),
            want.words
        );
        // "file:line: key `k`: message"
        let mut prefix = f.display().to_string();
        if let Some(l) = want.line {
            prefix.push_str(&format!(":{l}"));
        }
        prefix.push_str(&format!(": key `{}`: ", want.key));
        assert!(shown.starts_with(&prefix), "{shown}");
    }
}

#[test]
fn fixture_values_are_what_the_files_say() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/valid_configs");

    let full = NodeConfig::load(&dir.join("full_validator.toml")).unwrap();
    assert_eq!(full.network_id, 21);
    assert_eq!(full.key_file, dir.join("keys/validator.key"));
    assert_eq!(full.data_dir, Path::new("/var/lib/cpeers"));
    assert_eq!(full.log_dir, dir.join("logs"));
    assert_eq!(full.listen.len(), 2);
    assert_eq!(full.bootstrap.len(), 2);
    assert_eq!(full.unl.len(), 3);
    assert_eq!(full.profile, Profile::Fast);
    assert_eq!(full.admin, Some("127.0.0.1:9100".parse().unwrap()));
    assert_eq!(full.max_peers, 16);

    let observer = NodeConfig::load(&dir.join("observer.toml")).unwrap();
    assert!(!observer.validator);
    assert!(observer.mdns);
    assert_eq!(observer.admin, Some("[::1]:51236".parse().unwrap()));

    let minimal = NodeConfig::load(&dir.join("minimal.toml")).unwrap();
    let defaults = NodeConfig::defaults(1);
    assert_eq!(minimal.listen, defaults.listen);
    assert_eq!(minimal.bootstrap, defaults.bootstrap);
    assert!(minimal.validator);
    assert_eq!(minimal.key_file, dir.join("validator.key"));

    let no_admin = NodeConfig::load(&dir.join("no_admin.toml")).unwrap();
    assert_eq!(no_admin.admin, None);
}

#[test]
fn example_config_parses() {
    let cfg = NodeConfig::parse(
        &TomlDoc::from_text("example.toml", example()),
        Path::new("."),
    )
    .unwrap();
    assert_eq!(cfg.network_id, 1);
}
