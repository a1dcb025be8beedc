//! `chorus keys import`.

use std::path::{Path, PathBuf};

use chorus_keys::{
    bls::SecretKey,
    ecdsa,
    file::{read_secret_hex_file, write_new_private_file},
    keystore::Keystore,
};
use clap::{ArgGroup, Args};
use eyre::{WrapErr, bail};

use super::{
    KdfArg, KeyReport, KeyType, OpenedKey, bls_file_name, ecdsa_file_name, ensure_key_dir,
    open_keystore, print_reports,
};
use crate::password::PasswordArgs;

/// Flag naming a file holding a raw hex secret.
pub const SECRET_FILE_FLAG: &str = "secret-file";

/// Arguments of `chorus keys import`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["keystore", "secret_file"])))]
pub struct ImportArgs {
    /// Directory to import into (created 0700 if missing).
    #[arg(long = super::DIR_FLAG, value_name = "DIR")]
    pub dir: PathBuf,
    /// An existing keystore (BLS or Ethereum); it is checked with its
    /// password and copied unchanged.
    #[arg(long = super::KEYSTORE_FLAG, value_name = "PATH")]
    pub keystore: Option<PathBuf>,
    /// A file holding a raw secret key as hex; it is encrypted into a new
    /// keystore. Delete the file afterwards.
    #[arg(long = SECRET_FILE_FLAG, value_name = "PATH", requires = "key_type")]
    pub secret_file: Option<PathBuf>,
    /// Which key the secret file holds.
    #[arg(long = "type", value_enum)]
    pub key_type: Option<KeyType>,
    /// Key derivation function when a BLS secret is encrypted.
    #[arg(long, value_enum, default_value_t = KdfArg::Scrypt)]
    pub kdf: KdfArg,
    /// Password options: the keystore's password, or the new one for a secret.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Print the result as JSON.
    #[arg(long = super::JSON_FLAG)]
    pub json: bool,
}

impl ImportArgs {
    /// Imports the key; on any error nothing is written.
    pub fn run(self) -> eyre::Result<()> {
        let report = match (&self.keystore, &self.secret_file, self.key_type) {
            (Some(keystore), _, _) => self.import_keystore(keystore)?,
            (None, Some(secret), Some(KeyType::Bls)) => self.import_bls_secret(secret)?,
            (None, Some(secret), Some(KeyType::Ecdsa)) => self.import_ecdsa_secret(secret)?,
            _ => bail!("give --keystore PATH, or --{SECRET_FILE_FLAG} PATH with --type bls|ecdsa"),
        };
        tracing::info!(keystore = %report.path.display(), "imported");
        print_reports(&[report], self.json)
    }

    fn import_keystore(&self, source: &Path) -> eyre::Result<KeyReport> {
        let (text, opened) = open_keystore(source, &self.password)?;
        let (report, file_name) = match opened {
            OpenedKey::Bls(secret) => {
                let pubkey = secret.public_key();
                (KeyReport::bls(&pubkey, Path::new("")), bls_file_name(&pubkey))
            }
            OpenedKey::Ecdsa(signer) => {
                let address = signer.address();
                (KeyReport::ecdsa(address, Path::new("")), ecdsa_file_name(address))
            }
        };
        ensure_key_dir(&self.dir)?;
        let target = self.dir.join(file_name);
        write_new_private_file(&target, text.as_bytes()).wrap_err("keystore not imported")?;
        Ok(KeyReport { path: target, ..report })
    }

    fn import_bls_secret(&self, source: &Path) -> eyre::Result<KeyReport> {
        let bytes = read_secret_hex_file(source)?;
        let secret = SecretKey::from_bytes(&bytes)
            .wrap_err_with(|| format!("{} does not hold a BLS secret key", source.display()))?;
        let password = self.password.new_password("the imported BLS key")?;
        let pubkey = secret.public_key();
        ensure_key_dir(&self.dir)?;
        let target = self.dir.join(bls_file_name(&pubkey));
        Keystore::encrypt(&secret, &password, self.kdf.into(), "")?
            .write_new(&target)
            .wrap_err("BLS keystore not written")?;
        Ok(KeyReport::bls(&pubkey, &target))
    }

    fn import_ecdsa_secret(&self, source: &Path) -> eyre::Result<KeyReport> {
        let bytes = read_secret_hex_file(source)?;
        let signer = ecdsa::signer_from_bytes(&bytes).wrap_err_with(|| {
            format!("{} does not hold an Ethereum private key", source.display())
        })?;
        let password = self.password.new_password("the imported Ethereum key")?;
        ensure_key_dir(&self.dir)?;
        let target = self.dir.join(ecdsa_file_name(signer.address()));
        ecdsa::write_new(&target, &signer, &password).wrap_err("Ethereum keystore not written")?;
        Ok(KeyReport::ecdsa(signer.address(), &target))
    }
}
