//! TOML files whose errors point at the file, line and key, for every file a user writes
//! (scenarios, node configs, themes).
//!
//! serde reports *what* is wrong and a byte span; this module turns the span into a line number
//! and the dotted key path (`nodes[1].count`) by reading the document around it, so the message
//! says where to look without the user counting lines.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use thiserror::Error;

/// An error located in a TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct TomlError {
    /// The file (as given).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Dotted key path, when known (`nodes[1].count`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A TOML document kept with its name and text, to locate errors found after parsing.
#[derive(Debug, Clone)]
pub struct TomlDoc {
    file: String,
    text: String,
}

impl TomlDoc {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<TomlDoc, TomlError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TomlError {
            file: file.clone(),
            line: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        Ok(TomlDoc { file, text })
    }

    /// A document from text already in memory (embedded defaults, tests).
    pub fn from_text(file: impl Into<String>, text: impl Into<String>) -> TomlDoc {
        TomlDoc {
            file: file.into(),
            text: text.into(),
        }
    }

    /// The file name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Deserializes the document.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, TomlError> {
        toml::from_str(&self.text).map_err(|e| {
            let message = e.message().trim().to_string();
            match e.span() {
                Some(span) => self.error_at(span, message),
                None => TomlError {
                    file: self.file.clone(),
                    line: None,
                    key: None,
                    message,
                },
            }
        })
    }

    /// An error about the value or key at byte `span`.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> TomlError {
        let (line, key) = self.locate(span.start);
        TomlError {
            file: self.file.clone(),
            line: Some(line),
            key,
            message: message.into(),
        }
    }

    /// An error about the document as a whole.
    pub fn error(&self, message: impl Into<String>) -> TomlError {
        TomlError {
            file: self.file.clone(),
            line: None,
            key: None,
            message: message.into(),
        }
    }

    /// 1-based line of byte `offset` and the dotted key path of the entry on that line.
    fn locate(&self, offset: usize) -> (usize, Option<String>) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line_no = before.matches('\n').count() + 1;
        let mut table: Option<String> = None;
        let mut array_counts: std::collections::HashMap<String, usize> = Default::default();
        let mut entry_key: Option<String> = None;
        for (i, raw) in self.text.lines().enumerate() {
            if i + 1 > line_no {
                break;
            }
            let line = strip_comment(raw).trim();
            if let Some(name) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
                let name = name.trim().to_string();
                let n = array_counts.entry(name.clone()).or_insert(0);
                table = Some(format!("{name}[{n}]"));
                *n += 1;
                entry_key = None;
            } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = Some(name.trim().to_string());
                entry_key = None;
            } else if let Some((k, _)) = line.split_once('=') {
                entry_key = Some(k.trim().trim_matches('"').to_string());
            } else if i + 1 == line_no {
                entry_key = None;
            }
        }
        let key = match (table, entry_key) {
            (Some(t), Some(k)) => Some(format!("{t}.{k}")),
            (Some(t), None) => Some(t),
            (None, Some(k)) => Some(k),
            (None, None) => None,
        };
        (line_no, key)
    }
}

fn strip_comment(line: &str) -> &str {
    // Good enough for locating keys: a '#' outside quotes starts a comment.
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    #[test]
    fn type_errors_name_line_and_key() {
        let doc = TomlDoc::from_text(
            "x.toml",
            "name = \"n\"\n\n[[items]]\ncount = 1\n\n[[items]]\ncount = \"two\" # oops\n",
        );
        let err = doc.parse::<Doc>().unwrap_err();
        assert_eq!(err.line, Some(7));
        assert_eq!(err.key.as_deref(), Some("items[1].count"));
        assert!(
            err.to_string()
                .starts_with("x.toml:7: key `items[1].count`: "),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_errors_at_their_line() {
        let doc = TomlDoc::from_text("y.toml", "name = \"n\"\nitems = []\ncolour = 3\n");
        let err = doc.parse::<Doc>().unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(err.key.as_deref(), Some("colour"));
        assert!(err.message.contains("unknown field"), "{err}");
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let doc = TomlDoc::from_text("z.toml", "name = \"n\"\nitems = [\n");
        let err = doc.parse::<Doc>().unwrap_err();
        assert!(err.line.is_some());
    }
}
