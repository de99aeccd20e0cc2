//! The operator's TOML files (`network.toml`, `node.toml`): size-limited reads, and one error type that names the
//! file, the key and the problem, whether TOML syntax, the schema (unknown or missing key, wrong type) or a value
//! was at fault.

use std::fmt::Display;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::atomic_write::WriteError;

/// Why `network.toml` or `node.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read: {error}")]
    Read {
        /// The file.
        file: PathBuf,
        /// What the operating system said (kept out of `source()` so a report prints it once).
        error: io::Error,
    },
    /// The file is larger than any valid one.
    #[error("{file}: larger than {max} bytes")]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// The limit.
        max: u64,
    },
    /// The file is not TOML.
    #[error("{file}: line {line}: {reason}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The line of the error (1-based).
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// A key is unknown, missing, of the wrong type, or its value is invalid.
    #[error("{file}: {key}: {reason}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The key's path: `api.listen`, `node[3].binding`, or the table holding an unknown or missing key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl ConfigError {
    /// An invalid value at `key` of `file`.
    pub fn invalid(file: &Path, key: impl Into<String>, reason: impl Display) -> Self {
        ConfigError::Invalid { file: file.to_path_buf(), key: key.into(), reason: reason.to_string() }
    }

    /// The key path this error names, if it names one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Reads at most `max` bytes of UTF-8 from `path`; a longer file is refused before it is read whole.
pub(crate) fn read_limited(path: &Path, max: u64) -> Result<String, ConfigError> {
    let read_err = |error| ConfigError::Read { file: path.to_path_buf(), error };
    let mut text = String::new();
    // One byte past the limit tells a file of exactly `max` bytes from a longer one.
    File::open(path).and_then(|f| f.take(max + 1).read_to_string(&mut text)).map_err(read_err)?;
    if text.len() as u64 > max {
        return Err(ConfigError::TooLarge { file: path.to_path_buf(), max });
    }
    Ok(text)
}

/// Parses `text` (the contents of `path`) into `T`, naming the key path in schema errors (`node[3].stake`).
pub(crate) fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| syntax(path, text, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.span().map(|s| format!(" (line {})", line_of(text, s.start))).unwrap_or_default();
        // An unknown field's path ends with the field itself, which the message names: point at its table.
        let key = match inner.message().starts_with("unknown field") {
            true => key.rsplit_once('.').map_or(".".to_string(), |(table, _)| table.to_string()),
            false => key,
        };
        // The root path prints as "."; name the file's top level instead.
        let key = if key == "." || key.is_empty() { "(top level)".to_string() } else { key };
        ConfigError::invalid(path, key, format!("{}{line}", inner.message()))
    })
}

fn syntax(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError::Syntax {
        file: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        reason: e.message().to_string(),
    }
}

/// `s` as a TOML basic string, quoted and escaped (for the files `crema init` writes).
pub(crate) fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes().iter().take(offset).filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        a: u64,
        #[serde(default)]
        item: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        b: String,
    }

    fn err(text: &str) -> ConfigError {
        parse::<Doc>(Path::new("x.toml"), text).unwrap_err()
    }

    #[test]
    fn schema_errors_name_the_key_path_and_line() {
        let e = err("a = 1\n[[item]]\nb = \"x\"\n[[item]]\nb = 5\n");
        assert_eq!(e.key(), Some("item[1].b"), "{e}");
        assert!(e.to_string().contains("line 5"), "{e}");
        let e = err("a = 1\nzzz = 2\n");
        assert!(e.to_string().contains("unknown field `zzz`"), "{e}");
        let e = err("[[item]]\nb = \"x\"\n");
        assert!(e.to_string().contains("missing field `a`"), "{e}");
    }

    #[test]
    fn syntax_errors_give_the_line() {
        match err("a = 1\nb = = 2\n") {
            ConfigError::Syntax { line, .. } => assert_eq!(line, 2),
            e => panic!("expected a syntax error, got {e}"),
        }
    }

    #[test]
    fn reads_are_size_limited() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.toml");
        std::fs::write(&p, "a = 1\n").unwrap();
        assert_eq!(read_limited(&p, 6).unwrap(), "a = 1\n");
        assert!(matches!(read_limited(&p, 5), Err(ConfigError::TooLarge { max: 5, .. })));
        let e = read_limited(&dir.path().join("missing.toml"), 5).unwrap_err();
        assert!(e.to_string().contains("missing.toml: cannot read"), "{e}");
    }
}
