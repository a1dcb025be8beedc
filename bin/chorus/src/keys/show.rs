//! `chorus keys show`.

use std::path::PathBuf;

use chorus_keys::KeyFileKind;
use clap::Args;
use eyre::{WrapErr, bail};

use super::{
    KeyReport, decrypt_ecdsa, notice_pubkey_kind, parse_bls_keystore, print_reports,
    read_keystore_text,
};
use crate::password::PasswordArgs;

/// Arguments of `chorus keys show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The keystore file (BLS or Ethereum; the kind is detected).
    #[arg(long = super::KEYSTORE_FLAG, value_name = "PATH")]
    pub keystore: PathBuf,
    /// Also print the BLS proof of possession, as registration needs it.
    #[arg(long)]
    pub pop: bool,
    /// Password options.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Print the result as one JSON object.
    #[arg(long = super::JSON_FLAG)]
    pub json: bool,
}

impl ShowArgs {
    /// Decrypts the keystore and prints what it holds. The public key shown
    /// is derived from the secret, not copied from the file.
    pub fn run(self) -> eyre::Result<()> {
        let path = &self.keystore;
        let text = read_keystore_text(path)?;
        let report = match KeyFileKind::detect(&text) {
            Some(KeyFileKind::Bls) => {
                let keystore = parse_bls_keystore(&text, path)?;
                let password = self.password.existing(&path.display().to_string())?;
                let decrypted = keystore
                    .decrypt(&password)
                    .wrap_err_with(|| format!("cannot open BLS keystore {}", path.display()))?;
                notice_pubkey_kind(decrypted.pubkey_kind, path);
                let mut report = KeyReport::bls(&decrypted.secret.public_key(), path);
                if self.pop {
                    report.pop = Some(decrypted.secret.prove_possession().to_string());
                }
                report
            }
            Some(KeyFileKind::Ecdsa) => {
                if self.pop {
                    bail!(
                        "--pop applies to BLS keystores; {} is an Ethereum keystore",
                        path.display()
                    );
                }
                let password = self.password.existing(&path.display().to_string())?;
                KeyReport::ecdsa(decrypt_ecdsa(path, &password)?.address(), path)
            }
            None => {
                // Let the BLS parser name the exact problem (truncated,
                // malformed, unknown version).
                parse_bls_keystore(&text, path)?;
                bail!("{} is not a keystore", path.display());
            }
        };
        print_reports(&[report], self.json)
    }
}
