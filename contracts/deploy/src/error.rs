//! The one error type of the crate, and revert decoding.

use std::{fmt::Debug, time::Duration};

use alloy::{
    primitives::{Address, Bytes, TxHash, hex},
    providers::PendingTransactionError,
    sol_types::{Panic, Revert, SolError, SolInterface},
    transports::TransportError,
};
use eigen_utils::slashing::core::{
    allocation_manager::AllocationManager, avs_directory::AVSDirectory,
    delegation_manager::DelegationManager, eigen_pod_manager::EigenPodManager,
    permission_controller::PermissionController, strategy_manager::StrategyManager,
};

use crate::contracts::{
    DevnetAVSRegistrar, DevnetStrategy, EigenLayerProxy, PauserRegistry, ProxyAdmin,
};

/// Why a deployment or registration step failed. Variants raised by a step
/// name it (e.g. `"deploy DelegationManager implementation"`).
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The configuration cannot work, before anything is sent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The transaction or call reverted when simulated; nothing was sent.
    #[error("{step}: reverted with {reason}")]
    Reverted {
        /// The step.
        step: &'static str,
        /// The decoded error, e.g. `UninitializedAllocationDelay() [0xfa55fc81]`.
        reason: String,
        /// The raw revert data.
        data: Bytes,
    },
    /// A mined transaction failed (receipt status 0) although its simulation
    /// passed: the state changed in between.
    #[error("{step}: transaction {tx} failed on chain (status 0, {gas_used} gas used)")]
    Failed {
        /// The step.
        step: &'static str,
        /// The transaction.
        tx: TxHash,
        /// Gas it used.
        gas_used: u64,
    },
    /// A deployment's receipt carries no contract address.
    #[error("{step}: receipt of {tx} has no contract address")]
    NoContractAddress {
        /// The step.
        step: &'static str,
        /// The transaction.
        tx: TxHash,
    },
    /// A contract call failed for a reason other than a revert (transport,
    /// ABI decoding, a call into an address without code).
    #[error("{step}: {source}")]
    Contract {
        /// The step.
        step: &'static str,
        /// The error.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// A plain RPC request failed.
    #[error("{step}: {source}")]
    Rpc {
        /// The step.
        step: &'static str,
        /// The error.
        #[source]
        source: Box<TransportError>,
    },
    /// A sent transaction's receipt could not be obtained (the node failed,
    /// or the transaction was not mined within `tx::RECEIPT_TIMEOUT`).
    #[error(
        "{step}: no receipt for {tx}: {source} (if it is still pending, check the sender's \
         pending transactions for a nonce gap or a fee under the base fee)"
    )]
    Receipt {
        /// The step.
        step: &'static str,
        /// The transaction.
        tx: TxHash,
        /// The error.
        #[source]
        source: Box<PendingTransactionError>,
    },
    /// A condition did not hold before the deadline.
    #[error("{step}: gave up after {waited:?}: {condition}")]
    Timeout {
        /// The step.
        step: &'static str,
        /// How long it waited.
        waited: Duration,
        /// What it waited for.
        condition: String,
    },
    /// The chain is in a state from which the step cannot proceed (e.g. the
    /// account is delegated to another operator).
    #[error("{step}: {reason}")]
    Precondition {
        /// The step.
        step: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A proxy does not point where the deployment says.
    #[error("proxy {proxy}: implementation is {found}, expected {expected}")]
    WrongImplementation {
        /// The proxy.
        proxy: Address,
        /// The implementation in its ERC-1967 slot.
        found: Address,
        /// The implementation recorded in the deployment.
        expected: Address,
    },
}

impl DeployError {
    /// Classifies an error of a contract call or simulation made for `step`:
    /// a revert becomes [`Self::Reverted`] with its decoded error, anything
    /// else [`Self::Contract`].
    pub fn from_contract_error(step: &'static str, source: alloy::contract::Error) -> Self {
        match source {
            alloy::contract::Error::TransportError(e) => Self::from_transport_error(step, e),
            source => Self::Contract { step, source: Box::new(source) },
        }
    }

    /// Classifies an RPC error of `step` (`eth_estimateGas`, `eth_call`,
    /// sending): a revert becomes [`Self::Reverted`] with its decoded error,
    /// anything else [`Self::Rpc`].
    pub fn from_transport_error(step: &'static str, source: TransportError) -> Self {
        let Some(resp) = source.as_error_resp() else { return Self::rpc(step, source) };
        if let Some(data) = resp.as_revert_data() {
            return Self::Reverted { step, reason: decode_revert(&data), data };
        }
        if resp.message.contains("revert") {
            return Self::Reverted {
                step,
                reason: format!(
                    "no revert data ({}): usually a call into an address without code",
                    resp.message
                ),
                data: Bytes::new(),
            };
        }
        Self::rpc(step, source)
    }

    /// Wraps a plain RPC error.
    pub(crate) fn rpc(step: &'static str, source: TransportError) -> Self {
        Self::Rpc { step, source: Box::new(source) }
    }

    /// The revert data, if the step reverted.
    pub fn revert_data(&self) -> Option<&Bytes> {
        match self {
            Self::Reverted { data, .. } => Some(data),
            _ => None,
        }
    }
}

/// Decodes revert data against every contract this crate deploys or calls,
/// then as `Error(string)` / `Panic(uint256)`. The decoded name is the
/// error's, whichever contract raised it (a revert bubbles up through
/// nested calls, e.g. from the strategy through the StrategyManager).
pub fn decode_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "no revert data: usually a call into an address without code".to_owned();
    }
    let selector = hex::encode(&data[..data.len().min(4)]);
    let decoded = custom::<AllocationManager::AllocationManagerErrors>(data)
        .or_else(|| custom::<DelegationManager::DelegationManagerErrors>(data))
        .or_else(|| custom::<StrategyManager::StrategyManagerErrors>(data))
        .or_else(|| custom::<AVSDirectory::AVSDirectoryErrors>(data))
        .or_else(|| custom::<EigenPodManager::EigenPodManagerErrors>(data))
        .or_else(|| custom::<PermissionController::PermissionControllerErrors>(data))
        .or_else(|| custom::<DevnetStrategy::DevnetStrategyErrors>(data))
        .or_else(|| custom::<PauserRegistry::PauserRegistryErrors>(data))
        .or_else(|| custom::<EigenLayerProxy::EigenLayerProxyErrors>(data))
        .or_else(|| custom::<ProxyAdmin::ProxyAdminErrors>(data))
        .or_else(|| custom::<DevnetAVSRegistrar::DevnetAVSRegistrarErrors>(data))
        .or_else(|| Revert::abi_decode(data).ok().map(|r| r.to_string()))
        .or_else(|| Panic::abi_decode(data).ok().map(|p| p.to_string()));
    match decoded {
        Some(name) => format!("{name} [0x{selector}]"),
        None => format!("unknown error 0x{}", hex::encode(data)),
    }
}

/// `Name()` for an error without fields, `Name { field: value }` otherwise.
fn custom<E: SolInterface + Debug>(data: &[u8]) -> Option<String> {
    let error = E::abi_decode(data).ok()?;
    // The generated enums print as `Variant(Struct { .. })` or `Variant(Variant)`.
    let debug = format!("{error:?}");
    let (name, inner) = debug.split_once('(')?;
    let inner = inner.strip_suffix(')').unwrap_or(inner);
    Some(if inner == name { format!("{name}()") } else { inner.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_eigenlayer_errors() {
        let data = AllocationManager::UninitializedAllocationDelay {}.abi_encode();
        assert_eq!(decode_revert(&data), "UninitializedAllocationDelay() [0xfa55fc81]");
        let data = ProxyAdmin::OwnableUnauthorizedAccount { account: Address::ZERO }.abi_encode();
        assert_eq!(
            decode_revert(&data),
            format!("OwnableUnauthorizedAccount {{ account: {} }} [0x118cdaa7]", Address::ZERO)
        );
        let data = Revert::from("nope").abi_encode();
        assert_eq!(decode_revert(&data), "revert: nope [0x08c379a0]");
        assert_eq!(decode_revert(&[1, 2, 3, 4, 5]), "unknown error 0x0102030405");
    }
}
