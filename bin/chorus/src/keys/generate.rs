//! `chorus keys generate`.

use std::path::PathBuf;

use chorus_keys::{bls::SecretKey, ecdsa, keystore::Keystore};
use clap::{Args, ValueEnum};
use eyre::WrapErr;

use super::{KdfArg, KeyReport, bls_file_name, ecdsa_file_name, ensure_key_dir, print_reports};
use crate::password::PasswordArgs;

/// Which keys to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateType {
    /// A BLS signing key only.
    Bls,
    /// An Ethereum operator key only.
    Ecdsa,
    /// Both, encrypted with the same password.
    Both,
}

/// Arguments of `chorus keys generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory for the new keystores (created 0700 if missing).
    #[arg(long = super::DIR_FLAG, value_name = "DIR")]
    pub dir: PathBuf,
    /// Which keys to create.
    #[arg(long = "type", value_enum, default_value_t = GenerateType::Both)]
    pub key_type: GenerateType,
    /// Key derivation function for the BLS keystore.
    #[arg(long, value_enum, default_value_t = KdfArg::Scrypt)]
    pub kdf: KdfArg,
    /// Password options.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Print the result as JSON.
    #[arg(long = super::JSON_FLAG)]
    pub json: bool,
}

impl GenerateArgs {
    /// Creates the keys and prints where they are.
    pub fn run(self) -> eyre::Result<()> {
        let password = self.password.new_password("the new keystore(s)")?;
        ensure_key_dir(&self.dir)?;
        let mut reports = Vec::new();
        if matches!(self.key_type, GenerateType::Bls | GenerateType::Both) {
            let secret = SecretKey::random();
            let pubkey = secret.public_key();
            let path = self.dir.join(bls_file_name(&pubkey));
            Keystore::encrypt(&secret, &password, self.kdf.into(), "")?
                .write_new(&path)
                .wrap_err("BLS keystore not written")?;
            tracing::info!(keystore = %path.display(), "created BLS keystore");
            reports.push(KeyReport::bls(&pubkey, &path));
        }
        if matches!(self.key_type, GenerateType::Ecdsa | GenerateType::Both) {
            let signer = alloy_signer_local::PrivateKeySigner::random();
            let path = self.dir.join(ecdsa_file_name(signer.address()));
            ecdsa::write_new(&path, &signer, &password)
                .wrap_err("Ethereum keystore not written")?;
            tracing::info!(keystore = %path.display(), "created Ethereum keystore");
            reports.push(KeyReport::ecdsa(signer.address(), &path));
        }
        print_reports(&reports, self.json)
    }
}
