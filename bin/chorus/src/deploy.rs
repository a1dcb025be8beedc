//! `chorus deploy`: EigenLayer core (unless given) and the Chorus contracts
//! on any chain, with the AVS set up, written to a deployment JSON.

use std::path::PathBuf;

use chorus_deploy::{
    chorus::{ChorusConfig, DEFAULT_QUORUM_BPS, Deployment, Rollup, deploy_chorus},
    eigenlayer::{EigenLayerDeployment, deploy_eigenlayer},
};
use clap::Args;
use eyre::{WrapErr, bail};

use crate::chain::{SignerArgs, block_on};

/// Flag naming where the deployment JSON goes.
pub const OUT_FLAG: &str = "out";

/// Arguments of `chorus deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Endpoint and deployer key.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// An existing EigenLayer deployment (JSON with the core addresses, the
    /// token and the strategy): skips deploying the core, as on a testnet.
    #[arg(long, value_name = "FILE")]
    pub eigenlayer: Option<PathBuf>,
    /// A rollup to attest from the start, as CHAIN_ID or CHAIN_ID:NAME (repeatable).
    #[arg(long = "rollup", value_name = "ID[:NAME]", value_parser = parse_rollup)]
    pub rollups: Vec<Rollup>,
    /// Quorum in basis points of the operator table's weight.
    #[arg(long, default_value_t = DEFAULT_QUORUM_BPS)]
    pub quorum_bps: u16,
    /// Where to write the deployment JSON (refuses to overwrite).
    #[arg(long = OUT_FLAG, value_name = "FILE", default_value = "deployment.json")]
    pub out: PathBuf,
}

fn parse_rollup(text: &str) -> Result<Rollup, String> {
    let (id, name) = text.split_once(':').unwrap_or((text, ""));
    let chain_id = id.parse().map_err(|_| format!("{id:?} is not a chain id"))?;
    let name = if name.is_empty() { format!("rollup {chain_id}") } else { name.to_owned() };
    Ok(Rollup { chain_id, name })
}

impl DeployArgs {
    /// Deploys and writes the deployment file.
    pub fn run(self) -> eyre::Result<()> {
        if self.out.exists() {
            bail!(
                "{} exists; it may describe a live deployment. Move it away or choose another \
                 --{OUT_FLAG}",
                self.out.display()
            );
        }
        block_on(self.deploy())
    }

    async fn deploy(self) -> eyre::Result<()> {
        let chain = self.signer.connect().await?;
        let eigenlayer = match &self.eigenlayer {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .wrap_err_with(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str::<EigenLayerDeployment>(&text).wrap_err_with(|| {
                    format!("{} is not an EigenLayer deployment JSON", path.display())
                })?
            }
            None => {
                tracing::info!(chain_id = chain.chain_id, "deploying EigenLayer core");
                deploy_eigenlayer(&chain.provider, chain.account)
                    .await
                    .map_err(|error| chain.scrub(error))?
            }
        };
        let config = ChorusConfig {
            quorum_bps: self.quorum_bps,
            rollups: self.rollups.clone(),
            ..ChorusConfig::default()
        };
        tracing::info!("deploying Chorus");
        let (chorus, _) = deploy_chorus(&chain.provider, chain.account, &eigenlayer, &config)
            .await
            .map_err(|error| chain.scrub(error))?;
        let deployment = Deployment { chain_id: chain.chain_id, eigenlayer, chorus };
        let json = serde_json::to_string_pretty(&deployment)?;
        // The existence check above ran minutes ago: create_new refuses a
        // file that appeared since, rather than truncating it.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.out)
            .wrap_err_with(|| format!("cannot create {} (not overwritten)", self.out.display()))?;
        std::io::Write::write_all(&mut file, format!("{json}\n").as_bytes())
            .wrap_err_with(|| format!("cannot write {}", self.out.display()))?;
        println!("registry      {}", deployment.chorus.registry);
        println!("attestations  {}", deployment.chorus.attestations);
        println!("slasher       {}", deployment.chorus.slasher);
        println!("deployment    {}", self.out.display());
        Ok(())
    }
}
