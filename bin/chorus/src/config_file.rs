//! Configuration files of `chorus operator run` and `chorus aggregator run`:
//! TOML read through the `config` crate, then environment overrides, then
//! relative paths resolved, into the libraries' typed configurations
//! ([`NodeConfig`], [`AggregatorConfig`], both `deny_unknown_fields`).
//!
//! Overrides: `CHORUS_<SECTION>__<KEY>` sets `<section>.<key>`, e.g.
//! `CHORUS_API__LISTEN=0.0.0.0:9010` or `CHORUS_L1__RPC_URL=...`; a number
//! between separators indexes an array of tables, e.g.
//! `CHORUS_ROLLUPS__0__RPC_URL`. Every key lives in a section, so a
//! `CHORUS_` variable without `__` is not an override: the passwords
//! (`CHORUS_BLS_PASSWORD`, `CHORUS_SUBMITTER_PASSWORD`) and the command-line
//! defaults (`CHORUS_RPC_URL`) stay what they are and are never read as
//! configuration.
//!
//! Relative paths in the file resolve against the file's directory, so a
//! node directory can move as a whole. A path set by an override is taken
//! as given (relative to the working directory), as a shell user expects.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

use chorus_aggregator::service::AggregatorConfig;
use chorus_operator::node::NodeConfig;
use chorus_slashing::WatcherConfig;
use eyre::{WrapErr, bail};
use serde::de::DeserializeOwned;

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "CHORUS_";
/// Separator between the sections of an override's key.
pub const ENV_SEPARATOR: &str = "__";
/// The operator's BLS keystore password, when no password file is configured.
pub const BLS_PASSWORD_ENV: &str = "CHORUS_BLS_PASSWORD";
/// The aggregator's submitter keystore password, when no password file is
/// configured.
pub const SUBMITTER_PASSWORD_ENV: &str = "CHORUS_SUBMITTER_PASSWORD";
/// The `[watcher]` keystore password, when no password file is configured.
pub const WATCHER_PASSWORD_ENV: &str = "CHORUS_WATCHER_PASSWORD";
/// `CHORUS_` variables that hold secrets and are never configuration, even
/// if one day they were spelled like an override.
pub const SECRET_ENV_VARS: [&str; 3] =
    [BLS_PASSWORD_ENV, SUBMITTER_PASSWORD_ENV, WATCHER_PASSWORD_ENV];

/// A configuration type that [`load`] reads.
pub trait ConfigFile: DeserializeOwned {
    /// What the file configures, for messages (e.g. "operator node").
    const KIND: &'static str;
    /// The commented example in the repository that lists every key.
    const EXAMPLE: &'static str;

    /// Every path-valued key that is set, by its dotted key: these resolve
    /// against the file's directory.
    fn paths_mut(&mut self) -> Vec<(&'static str, &mut PathBuf)>;
}

impl ConfigFile for NodeConfig {
    const KIND: &'static str = "operator node";
    const EXAMPLE: &'static str = "config/operator.example.toml";

    fn paths_mut(&mut self) -> Vec<(&'static str, &mut PathBuf)> {
        let operator = &mut self.operator;
        let mut paths = vec![
            ("operator.bls_keystore", &mut operator.bls_keystore),
            ("operator.protection_db", &mut operator.protection_db),
            ("l1.deployment", &mut self.l1.deployment),
        ];
        if let Some(file) = operator.bls_password_file.as_mut() {
            paths.push(("operator.bls_password_file", file));
        }
        paths.extend(watcher_paths(&mut self.watcher));
        paths
    }
}

impl ConfigFile for AggregatorConfig {
    const KIND: &'static str = "aggregator";
    const EXAMPLE: &'static str = "config/aggregator.example.toml";

    fn paths_mut(&mut self) -> Vec<(&'static str, &mut PathBuf)> {
        let submitter = &mut self.submitter;
        let mut paths = vec![
            ("submitter.keystore", &mut submitter.keystore),
            ("store.path", &mut self.store.path),
            ("l1.deployment", &mut self.l1.deployment),
        ];
        if let Some(file) = submitter.password_file.as_mut() {
            paths.push(("submitter.password_file", file));
        }
        paths.extend(watcher_paths(&mut self.watcher));
        paths
    }
}

/// The files of a `[watcher]` section.
fn watcher_paths(watcher: &mut WatcherConfig) -> Vec<(&'static str, &mut PathBuf)> {
    let mut paths = vec![("watcher.store", &mut watcher.store)];
    if let Some(file) = watcher.ecdsa_keystore.as_mut() {
        paths.push(("watcher.ecdsa_keystore", file));
    }
    if let Some(file) = watcher.password_file.as_mut() {
        paths.push(("watcher.password_file", file));
    }
    paths
}

/// One environment variable applied as an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    /// The variable, e.g. `CHORUS_API__LISTEN`.
    pub var: String,
    /// The key it sets, as the `config` crate addresses it, e.g.
    /// `api.listen` or `rollups[0].rpc_url`.
    pub key: String,
    /// The dotted key, for matching path keys, e.g. `rollups.0.rpc_url`.
    dotted: String,
}

/// A configuration as loaded, with where it came from.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The configuration, paths resolved.
    pub config: T,
    /// The file it was read from.
    pub file: PathBuf,
    /// The environment overrides applied.
    pub overrides: Vec<EnvOverride>,
}

impl<T> Loaded<T> {
    /// Names a key for messages: `key (in FILE)`, or the variable that set it.
    pub fn origin_of(&self, key: &str) -> String {
        match self.overrides.iter().find(|o| o.dotted == key) {
            Some(over) => format!("{key} (set by {})", over.var),
            None => format!("{key} in {}", self.file.display()),
        }
    }
}

/// Loads `file` with overrides from the process environment.
pub fn load<T: ConfigFile>(file: &Path) -> eyre::Result<Loaded<T>> {
    load_with_env(file, std::env::vars_os())
}

/// Loads `file` with overrides from `vars` (the process environment, or a
/// test's).
pub fn load_with_env<T: ConfigFile>(
    file: &Path,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> eyre::Result<Loaded<T>> {
    let text = std::fs::read_to_string(file).wrap_err_with(|| {
        format!(
            "cannot read the {} configuration file {} (start from {} in the Chorus repository)",
            T::KIND,
            file.display(),
            T::EXAMPLE
        )
    })?;
    let overrides = env_overrides(vars)?;
    let mut builder = ::config::Config::builder()
        .add_source(::config::File::from_str(&text, ::config::FileFormat::Toml));
    for over in &overrides {
        builder = builder.set_override(&over.0.key, over.1.clone()).wrap_err_with(|| {
            format!("environment variable {} does not name a configuration key", over.0.var)
        })?;
    }
    let overrides: Vec<EnvOverride> = overrides.into_iter().map(|(over, _)| over).collect();
    let described = describe(file, &overrides);
    let built = builder.build().wrap_err_with(|| format!("{described} is not valid TOML"))?;
    let mut config: T = built.try_deserialize().map_err(|error| {
        eyre::eyre!("{described}: {error}. Fix that key (every key is described in {})", T::EXAMPLE)
    })?;
    let directory = std::path::absolute(file)
        .wrap_err_with(|| format!("cannot resolve the path of {}", file.display()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for (key, path) in config.paths_mut() {
        let overridden = overrides.iter().any(|over| over.dotted == key);
        if !overridden && path.is_relative() {
            *path = directory.join(&*path);
        }
    }
    Ok(Loaded { config, file: file.to_path_buf(), overrides })
}

/// `FILE` or `FILE with overrides A, B` for messages.
fn describe(file: &Path, overrides: &[EnvOverride]) -> String {
    if overrides.is_empty() {
        return format!("configuration file {}", file.display());
    }
    let vars: Vec<&str> = overrides.iter().map(|over| over.var.as_str()).collect();
    format!("configuration file {} with environment overrides {}", file.display(), vars.join(", "))
}

/// The overrides among `vars`, sorted by variable name so that the result
/// does not depend on the environment's order.
fn env_overrides(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> eyre::Result<Vec<(EnvOverride, String)>> {
    let mut overrides = Vec::new();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        if SECRET_ENV_VARS.contains(&name) || !rest.contains(ENV_SEPARATOR) {
            continue;
        }
        let Some(value) = value.to_str() else {
            bail!("environment variable {name} is not valid UTF-8; fix or unset it");
        };
        overrides.push((env_key(name, rest)?, value.to_owned()));
    }
    overrides.sort_by(|a, b| a.0.var.cmp(&b.0.var));
    Ok(overrides)
}

/// `ROLLUPS__0__RPC_URL` of `CHORUS_ROLLUPS__0__RPC_URL` as
/// `rollups[0].rpc_url`.
fn env_key(var: &str, rest: &str) -> eyre::Result<EnvOverride> {
    let mut key = String::new();
    let mut dotted = Vec::new();
    for segment in rest.split(ENV_SEPARATOR) {
        let segment = segment.to_ascii_lowercase();
        let valid = !segment.is_empty()
            && segment.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            bail!(
                "environment variable {var} does not name a configuration key: use \
                 {ENV_PREFIX}SECTION{ENV_SEPARATOR}KEY, e.g. {ENV_PREFIX}API{ENV_SEPARATOR}LISTEN"
            );
        }
        if segment.chars().all(|c| c.is_ascii_digit()) && !key.is_empty() {
            key.push_str(&format!("[{segment}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(&segment);
        }
        dotted.push(segment);
    }
    Ok(EnvOverride { var: var.to_owned(), key, dotted: dotted.join(".") })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::net::SocketAddr;

    use super::*;

    const NODE: &str = r#"
[operator]
address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
bls_keystore = "keys/bls.json"
protection_db = "/var/lib/chorus/protection.sqlite"

[l1]
rpc_url = "http://127.0.0.1:8545"
deployment = "deployment.json"

[[rollups]]
id = 10
rpc_url = "http://127.0.0.1:9545"
safety = "safe"

[[rollups]]
id = 11
rpc_url = "http://127.0.0.1:9546"
safety = 3

[[aggregators]]
url = "http://127.0.0.1:7300"
"#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(name, value)| (name.into(), value.into())).collect()
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let file = dir.join("operator.toml");
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn file_values_and_relative_paths_resolve_against_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), NODE);
        let loaded = load_with_env::<NodeConfig>(&file, env(&[])).unwrap();
        let config = loaded.config;
        let base = std::path::absolute(dir.path()).unwrap();
        assert_eq!(config.operator.bls_keystore, base.join("keys/bls.json"));
        assert_eq!(config.l1.deployment, base.join("deployment.json"));
        assert_eq!(
            config.operator.protection_db,
            PathBuf::from("/var/lib/chorus/protection.sqlite"),
            "absolute paths stay"
        );
        assert_eq!(config.rollups[1].safety.to_string(), "3", "a number of confirmations");
        assert_eq!(config.api.listen, SocketAddr::from(([127, 0, 0, 1], 9010)), "default");
        assert!(loaded.overrides.is_empty());
    }

    #[test]
    fn environment_overrides_win_and_secrets_are_not_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), NODE);
        let vars = env(&[
            ("CHORUS_API__LISTEN", "0.0.0.0:9999"),
            ("CHORUS_L1__RPC_URL", "http://l1.invalid:8545"),
            ("CHORUS_ROLLUPS__1__RPC_URL", "http://other.invalid:1"),
            ("CHORUS_ROLLUPS__0__SAFETY", "12"),
            ("CHORUS_OPERATOR__BLS_KEYSTORE", "here/bls.json"),
            ("CHORUS_BLS_PASSWORD", "secret"),
            ("CHORUS_SUBMITTER_PASSWORD", "secret"),
            ("CHORUS_RPC_URL", "http://cli.invalid"),
            ("PATH", "/bin"),
        ]);
        let loaded = load_with_env::<NodeConfig>(&file, vars).unwrap();
        let config = &loaded.config;
        assert_eq!(config.api.listen, SocketAddr::from(([0, 0, 0, 0], 9999)));
        assert_eq!(config.l1.rpc_url, "http://l1.invalid:8545");
        assert_eq!(config.rollups[1].rpc_url, "http://other.invalid:1");
        assert_eq!(config.rollups[1].id, 11, "the rest of the element stays");
        assert_eq!(config.rollups[0].safety.to_string(), "12", "a number from a string");
        assert_eq!(
            config.operator.bls_keystore,
            PathBuf::from("here/bls.json"),
            "an overridden path is taken as given"
        );
        assert_eq!(loaded.overrides.len(), 5);
        assert!(loaded.overrides.iter().all(|over| !over.var.contains("PASSWORD")));
        assert_eq!(
            loaded.origin_of("operator.bls_keystore"),
            "operator.bls_keystore (set by CHORUS_OPERATOR__BLS_KEYSTORE)"
        );
        assert!(loaded.origin_of("l1.deployment").contains("operator.toml"));
    }

    #[test]
    fn an_unknown_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file =
            write(dir.path(), &format!("{NODE}\n[api]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n"));
        let error = load_with_env::<NodeConfig>(&file, env(&[])).unwrap_err().to_string();
        assert!(error.contains("unknown field `lisen`"), "{error}");
        assert!(error.contains("`api`"), "names the section: {error}");
        assert!(error.contains("operator.toml"), "names the file: {error}");

        let file = write(dir.path(), NODE);
        let vars = env(&[("CHORUS_L1__RPC_ULR", "http://x")]);
        let error = load_with_env::<NodeConfig>(&file, vars).unwrap_err().to_string();
        assert!(error.contains("unknown field `rpc_ulr`"), "{error}");
        assert!(error.contains("CHORUS_L1__RPC_ULR"), "names the variable: {error}");
    }

    #[test]
    fn missing_keys_bad_values_and_bad_names_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), &NODE.replace("rpc_url = \"http://127.0.0.1:8545\"\n", ""));
        let error = load_with_env::<NodeConfig>(&file, env(&[])).unwrap_err().to_string();
        assert!(error.contains("missing configuration field \"l1.rpc_url\""), "{error}");

        let file = write(dir.path(), NODE);
        let vars = env(&[("CHORUS_API__LISTEN", "not an address")]);
        let error = load_with_env::<NodeConfig>(&file, vars).unwrap_err().to_string();
        assert!(error.contains("api.listen") || error.contains("`api`"), "{error}");

        let vars = env(&[("CHORUS_API__LIS-TEN", "x")]);
        let error = load_with_env::<NodeConfig>(&file, vars).unwrap_err().to_string();
        assert!(error.contains("does not name a configuration key"), "{error}");

        let error = load_with_env::<NodeConfig>(&dir.path().join("absent.toml"), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("absent.toml") && error.contains(NodeConfig::EXAMPLE), "{error}");

        let file = write(dir.path(), "[operator\n");
        let error = format!("{:#}", load_with_env::<NodeConfig>(&file, env(&[])).unwrap_err());
        assert!(error.contains("not valid TOML"), "{error}");
    }

    /// Every leaf key of `value` (arrays: their first element's).
    fn leaf_keys(value: &serde_json::Value, name: &str, keys: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    leaf_keys(value, key, keys);
                }
            }
            serde_json::Value::Array(items) => {
                if let Some(first) = items.first() {
                    leaf_keys(first, name, keys);
                }
            }
            _ => keys.push(name.to_owned()),
        }
    }

    /// Loads an example, and checks that it shows every key the type has
    /// (set or commented out), so that a new key cannot go undocumented.
    fn check_example<T: ConfigFile + serde::Serialize>() -> T {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(T::EXAMPLE);
        let config = load_with_env::<T>(&path, env(&[])).unwrap().config;
        let text = std::fs::read_to_string(&path).unwrap();
        let mut keys = Vec::new();
        leaf_keys(&serde_json::to_value(&config).unwrap(), "", &mut keys);
        for key in keys {
            assert!(text.contains(&format!("{key} = ")), "{} does not show `{key}`", T::EXAMPLE);
        }
        config
    }

    #[test]
    fn the_example_files_parse_and_show_every_key() {
        let node = check_example::<NodeConfig>();
        assert!(!node.rollups.is_empty() && !node.aggregators.is_empty());
        assert!(node.operator.bls_password_file.is_none(), "the example shows it commented out");
        let aggregator = check_example::<AggregatorConfig>();
        assert!(!aggregator.rollups.is_empty());
    }
}
