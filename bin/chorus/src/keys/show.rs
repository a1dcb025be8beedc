//! `chorus keys show`.

use std::path::PathBuf;

use clap::Args;
use eyre::bail;

use super::{KeyReport, OpenedKey, open_keystore, print_reports};
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
        let report = match open_keystore(path, &self.password)?.1 {
            OpenedKey::Bls(secret) => {
                let mut report = KeyReport::bls(&secret.public_key(), path);
                if self.pop {
                    report.pop = Some(secret.prove_possession().to_string());
                }
                report
            }
            OpenedKey::Ecdsa(_) if self.pop => {
                bail!("--pop applies to BLS keystores; {} is an Ethereum keystore", path.display())
            }
            OpenedKey::Ecdsa(signer) => KeyReport::ecdsa(signer.address(), path),
        };
        print_reports(&[report], self.json)
    }
}
