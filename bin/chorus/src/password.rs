//! Where a command gets a keystore password: `--password-file`,
//! `--password-env`, or an interactive prompt. Never from the command line
//! itself, which other users of the machine can read through `ps`.

use std::{io::IsTerminal, path::PathBuf};

use chorus_keys::password::{Password, PasswordSource};
use clap::Args;
use eyre::{WrapErr, bail};

/// Flag naming a file that holds the password.
pub const PASSWORD_FILE_FLAG: &str = "password-file";
/// Flag naming an environment variable that holds the password.
pub const PASSWORD_ENV_FLAG: &str = "password-env";

/// Password options shared by the key commands.
#[derive(Debug, Clone, Args)]
pub struct PasswordArgs {
    /// File holding the keystore password (one trailing newline is ignored).
    #[arg(long = PASSWORD_FILE_FLAG, value_name = "PATH", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
    /// Name of an environment variable holding the keystore password.
    #[arg(long = PASSWORD_ENV_FLAG, value_name = "VAR")]
    pub password_env: Option<String>,
}

impl PasswordArgs {
    fn source(&self) -> Option<PasswordSource> {
        match (&self.password_file, &self.password_env) {
            (Some(path), _) => Some(PasswordSource::File(path.clone())),
            (None, Some(name)) => Some(PasswordSource::Env(name.clone())),
            (None, None) => None,
        }
    }

    /// The password of an existing keystore: from the flags, else asked once.
    pub fn existing(&self, what: &str) -> eyre::Result<Password> {
        match self.source() {
            Some(source) => Ok(source.read()?),
            None => prompt(&format!("Password for {what}: ")),
        }
    }

    /// A password for a new keystore: from the flags, else asked twice.
    pub fn new_password(&self, what: &str) -> eyre::Result<Password> {
        if let Some(source) = self.source() {
            return Ok(source.read()?);
        }
        let first = prompt(&format!("New password for {what}: "))?;
        let second = prompt("Repeat the password: ")?;
        if first.as_str() != second.as_str() {
            bail!("the two passwords differ; nothing was written");
        }
        Ok(first)
    }
}

fn prompt(text: &str) -> eyre::Result<Password> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password given and no terminal to ask on: pass --{PASSWORD_FILE_FLAG} PATH or \
             --{PASSWORD_ENV_FLAG} VAR (passwords are never taken from the command line)"
        );
    }
    let typed = rpassword::prompt_password(text).wrap_err("cannot read the password")?;
    let password = Password::new(typed);
    if password.as_str().is_empty() {
        bail!("empty password; nothing was written");
    }
    Ok(password)
}
