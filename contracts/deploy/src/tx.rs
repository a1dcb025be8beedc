//! Sending a step's transactions: simulate, send in nonce order, wait, check.

use std::time::Duration;

use alloy::{
    contract::{CallBuilder, CallDecoder},
    eips::eip1559::Eip1559Estimation,
    network::{Ethereum, ReceiptResponse, TransactionBuilder},
    primitives::{Address, TxHash},
    providers::{PendingTransactionBuilder, Provider},
    rpc::types::TransactionRequest,
};
use futures::future::try_join_all;

use crate::DeployError;

/// Osaka's per-transaction gas cap (EIP-7825); headroom never exceeds it.
const TX_GAS_CAP: u64 = 1 << 24;

/// A mined, successful transaction of a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// The step, e.g. `"deploy AllocationManager implementation"`.
    pub step: &'static str,
    /// The transaction hash.
    pub hash: TxHash,
    /// Gas used, from the receipt.
    pub gas_used: u64,
    /// The block it was mined in.
    pub block: Option<u64>,
    /// The created contract, for deployments.
    pub contract_address: Option<Address>,
}

impl TxRecord {
    /// The created contract; an error if the receipt has none.
    pub(crate) const fn created(&self) -> Result<Address, DeployError> {
        match self.contract_address {
            Some(address) => Ok(address),
            None => Err(DeployError::NoContractAddress { step: self.step, tx: self.hash }),
        }
    }
}

/// A transaction of a step, not sent yet.
#[derive(Debug)]
pub(crate) struct Planned {
    step: &'static str,
    request: TransactionRequest,
}

/// Plans `call`, sent from `from`.
pub(crate) fn plan<P: Provider, D: CallDecoder>(
    step: &'static str,
    from: Address,
    call: CallBuilder<P, D>,
) -> Planned {
    Planned { step, request: call.into_transaction_request().with_from(from) }
}

/// How long a sent transaction may wait for inclusion before the step
/// fails. A transaction the node holds back (behind a nonce gap, or priced
/// under the base fee) would otherwise be waited for forever; minutes are
/// far beyond any healthy chain's inclusion time.
pub(crate) const RECEIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Sends a round of transactions that do not depend on each other.
///
/// 1. Simulates all of them at once (`eth_estimateGas` on the latest block):
///    a revert is decoded and reported before any nonce is taken, so the
///    provider's nonce cache never gets a gap.
/// 2. Sends them one after the other, in order, so their nonces reach the
///    node in order. A transaction arriving ahead of its predecessor would
///    wait in the pool, and the wait for its receipt would then last until
///    the provider's next poll (250 ms on a local node).
/// 3. Waits for all receipts at once and checks their status.
///
/// Fees are estimated once per round, with the simulations. Returns the
/// records in round order.
pub(crate) async fn send_round<P: Provider>(
    provider: &P,
    round: Vec<Planned>,
) -> Result<Vec<TxRecord>, DeployError> {
    if round.is_empty() {
        return Ok(Vec::new());
    }
    let (estimates, fees) =
        tokio::join!(try_join_all(round.iter().map(|tx| simulate(provider, tx))), fees(provider));
    let estimates = estimates?;
    let mut pending = Vec::with_capacity(round.len());
    for (tx, estimate) in round.into_iter().zip(estimates) {
        pending.push(submit(provider, tx, estimate, fees).await?);
    }
    try_join_all(pending.into_iter().map(|(step, sent)| confirm(step, sent))).await
}

/// Sends one transaction, from `from`, through the call's own provider.
pub(crate) async fn send<P: Provider, D: CallDecoder>(
    step: &'static str,
    from: Address,
    call: CallBuilder<P, D>,
) -> Result<TxRecord, DeployError> {
    let tx = Planned { step, request: call.as_ref().clone().with_from(from) };
    let provider = &call.provider;
    let (estimate, fees) = tokio::join!(simulate(provider, &tx), fees(provider));
    let (step, sent) = submit(provider, tx, estimate?, fees).await?;
    confirm(step, sent).await
}

/// [`send`] for a contract creation; returns the new address too.
#[allow(dead_code, reason = "used by the `chorus` module, not wired in yet")]
pub(crate) async fn deploy<P: Provider, D: CallDecoder>(
    step: &'static str,
    from: Address,
    call: CallBuilder<P, D>,
) -> Result<(Address, TxRecord), DeployError> {
    let record = send(step, from, call).await?;
    Ok((record.created()?, record))
}

/// `eth_estimateGas`, with a decoded revert as the error.
async fn simulate<P: Provider>(provider: &P, tx: &Planned) -> Result<u64, DeployError> {
    provider
        .estimate_gas(tx.request.clone())
        .await
        .map_err(|e| DeployError::from_transport_error(tx.step, e))
}

/// EIP-1559 fees for the next block. `None` on a chain without EIP-1559:
/// the provider's gas filler then prices each transaction itself.
async fn fees<P: Provider>(provider: &P) -> Option<Eip1559Estimation> {
    provider.estimate_eip1559_fees().await.ok()
}

/// Sends with 10% gas headroom (within the per-transaction cap).
async fn submit<P: Provider>(
    provider: &P,
    tx: Planned,
    estimate: u64,
    fees: Option<Eip1559Estimation>,
) -> Result<(&'static str, PendingTransactionBuilder<Ethereum>), DeployError> {
    let gas = estimate.saturating_add(estimate / 10).min(TX_GAS_CAP.max(estimate));
    let mut request = tx.request.with_gas_limit(gas);
    if let Some(fees) = fees {
        request = request
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
    }
    let sent = provider
        .send_transaction(request)
        .await
        .map_err(|e| DeployError::from_transport_error(tx.step, e))?;
    Ok((tx.step, sent))
}

/// Waits for the receipt and checks its status.
async fn confirm(
    step: &'static str,
    sent: PendingTransactionBuilder<Ethereum>,
) -> Result<TxRecord, DeployError> {
    let hash = *sent.tx_hash();
    let receipt = sent
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|e| DeployError::Receipt { step, tx: hash, source: Box::new(e) })?;
    if !receipt.status() {
        return Err(DeployError::Failed { step, tx: hash, gas_used: receipt.gas_used() });
    }
    tracing::debug!(step, tx = %hash, gas_used = receipt.gas_used(), "mined");
    Ok(TxRecord {
        step,
        hash,
        gas_used: receipt.gas_used(),
        block: receipt.block_number(),
        contract_address: receipt.contract_address(),
    })
}
