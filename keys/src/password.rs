//! Keystore passwords: a secret type, and where a password may come from.
//!
//! A password never comes from the command line (argv is visible to every
//! user of the machine through `ps`); it comes from a file, an environment
//! variable, or an interactive prompt. Reading it is the caller's choice of
//! [`PasswordSource`]; the bytes live in a [`Password`], wiped on drop.

use std::{fmt, path::PathBuf};

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// A keystore password. Zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password held in memory.
    pub fn new(password: impl Into<String>) -> Self {
        Self(Zeroizing::new(password.into()))
    }

    /// The password as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The EIP-2335 form: NFKD-normalised, with the C0 and C1 control codes
    /// and DELETE (Unicode category Cc) removed, as UTF-8.
    pub fn eip2335_bytes(&self) -> Zeroizing<Vec<u8>> {
        let normalised: Zeroizing<String> =
            Zeroizing::new(self.0.nfkd().filter(|c| !c.is_control()).collect());
        Zeroizing::new(normalised.as_bytes().to_vec())
    }

    /// True when nothing is left after normalisation.
    pub fn is_empty(&self) -> bool {
        self.eip2335_bytes().is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Where to read a password from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The contents of a file, without its trailing line break.
    File(PathBuf),
    /// The value of the named environment variable.
    Env(String),
}

/// Why a password could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password file could not be read.
    #[error("cannot read password file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The environment variable is unset or not UTF-8.
    #[error("environment variable {0} is not set (or is not valid UTF-8)")]
    EnvUnset(String),
    /// The password is empty, which no keystore should be encrypted with.
    #[error("the password from {0} is empty")]
    Empty(String),
}

impl PasswordSource {
    /// Reads the password. A single trailing `\n` or `\r\n` is dropped, as
    /// editors and `echo` add one; everything else is kept as is.
    pub fn read(&self) -> Result<Password, PasswordError> {
        let raw = match self {
            Self::File(path) => Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|source| PasswordError::File { path: path.clone(), source })?,
            ),
            Self::Env(name) => Zeroizing::new(
                std::env::var(name).map_err(|_| PasswordError::EnvUnset(name.clone()))?,
            ),
        };
        let trimmed = raw.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s));
        let password = Password::new(trimmed.unwrap_or(&raw));
        if password.as_str().is_empty() {
            return Err(PasswordError::Empty(self.to_string()));
        }
        Ok(password)
    }
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(name) => write!(f, "environment variable {name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip2335_normalisation_vector() {
        // EIP-2335, "Password requirements": the test password normalises to
        // "testpassword" followed by the key emoji.
        let password = Password::new(
            "\u{1d531}\u{1d522}\u{1d530}\u{1d531}\u{1d52d}\u{1d51e}\u{1d530}\u{1d530}\u{1d534}\u{1d52c}\u{1d52f}\u{1d521}\u{1f511}",
        );
        assert_eq!(
            hex::encode(password.eip2335_bytes().as_slice()),
            "7465737470617373776f7264f09f9491"
        );
    }

    #[test]
    fn control_codes_removed() {
        let password = Password::new("a\u{0}b\u{7f}c\u{85}d\te\n");
        assert_eq!(password.eip2335_bytes().as_slice(), b"abcde");
    }

    #[test]
    fn file_source_drops_one_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "secret \r\n").unwrap();
        let password = PasswordSource::File(path.clone()).read().unwrap();
        assert_eq!(password.as_str(), "secret ");
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(PasswordSource::File(path).read(), Err(PasswordError::Empty(_))));
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", Password::new("hunter2")), "Password(<redacted>)");
    }
}
