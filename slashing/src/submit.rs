//! Submitting an equivocation proof to the slasher: simulate first, decode
//! any revert, send only what the slasher will accept.
//!
//! A revert is an answer, not a failure to retry: the slasher checks the
//! same things on every attempt, so a refused proof stays refused. Only a
//! transport failure (the RPC did not answer) is worth another attempt.

use alloy::{
    contract::Error as ContractError,
    primitives::{Address, B256, Bytes},
    providers::DynProvider,
    transports::RpcError,
};
use chorus_contracts::{
    IChorusSlasher::{self, IChorusSlasherErrors},
    SignedCommitment,
};

use crate::detect::{Equivocation, EvidenceError};

/// Why the slasher refused a proof (decoded from its revert).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Both commitments are the same.
    #[error("CommitmentsDoNotConflict: the two commitments are the same")]
    CommitmentsDoNotConflict,
    /// The two commitments are for different rollups or heights.
    #[error("NotSameRollupHeight: the commitments are for different rollups or heights")]
    NotSameRollupHeight,
    /// A Merkle path does not lead to the signed root.
    #[error("NotInCheckpoint: a commitment is not in the checkpoint it claims")]
    NotInCheckpoint,
    /// A signature does not verify.
    #[error("InvalidSignature: a signature does not verify under the operator's key")]
    InvalidSignature,
    /// The key is not registered to the operator.
    #[error("KeyNotOfOperator: the key is not registered to this operator")]
    KeyNotOfOperator,
    /// Any other revert, as the node reported it.
    #[error("reverted: {0}")]
    Other(String),
}

/// What became of a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// The proof landed in `block` with transaction `tx`.
    Landed {
        /// The transaction.
        tx: B256,
        /// Its block.
        block: u64,
    },
    /// The operator was already slashed (someone else's proof landed).
    AlreadySlashed,
    /// The slasher refuses this proof; never retry it.
    Refused(Refusal),
}

/// A failure to get an answer from the L1: worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The RPC did not answer or the transaction could not be sent.
    #[error("the L1 did not answer while submitting the proof: {0}")]
    Transport(String),
    /// The transaction was mined but failed (out of gas, a race).
    #[error("the proof transaction {0} was mined but failed")]
    Failed(B256),
    /// The evidence cannot make a proof (a bug upstream: it was verified).
    #[error("the evidence cannot make a proof: {0}")]
    Evidence(#[from] EvidenceError),
}

/// Sends proofs to the slasher from one account.
#[derive(Debug, Clone)]
pub struct Submitter {
    provider: DynProvider,
    from: Address,
    slasher: Address,
}

impl Submitter {
    /// Submits through `provider` (which signs for `from`) to `slasher`.
    pub fn new(provider: DynProvider, from: Address, slasher: Address) -> Self {
        Self { provider, from, slasher }
    }

    /// The proof of `equivocation`, as [`Self::submit`] sends it.
    pub async fn submit_equivocation(
        &self,
        equivocation: &Equivocation,
    ) -> Result<SubmitOutcome, SubmitError> {
        let (a, b) = equivocation.signed_commitments()?;
        self.submit(equivocation.operator, equivocation.pubkey.clone(), a, b).await
    }

    /// One attempt: simulates `proveEquivocation`, and sends it only when
    /// the simulation passes. Refusals come back as outcomes, not errors.
    pub async fn submit(
        &self,
        operator: Address,
        pubkey: Bytes,
        a: SignedCommitment,
        b: SignedCommitment,
    ) -> Result<SubmitOutcome, SubmitError> {
        let slasher = IChorusSlasher::new(self.slasher, &self.provider);
        let call = slasher.proveEquivocation(operator, pubkey, a, b).from(self.from);
        let gas = match call.estimate_gas().await {
            Ok(gas) => gas,
            Err(error) => return classify(error),
        };
        let pending = match call.gas(gas.saturating_add(gas / 5)).send().await {
            Ok(pending) => pending,
            // A revert at send time: the state moved since the simulation.
            Err(error) => return classify(error),
        };
        let tx = *pending.tx_hash();
        let receipt = pending
            .get_receipt()
            .await
            .map_err(|e| SubmitError::Transport(without_urls(&e.to_string())))?;
        if !receipt.status() {
            return Err(SubmitError::Failed(tx));
        }
        Ok(SubmitOutcome::Landed { tx, block: receipt.block_number.unwrap_or_default() })
    }
}

/// A revert is an outcome; anything else is a transport failure.
fn classify(error: ContractError) -> Result<SubmitOutcome, SubmitError> {
    if let Some(decoded) = error.as_decoded_interface_error::<IChorusSlasherErrors>() {
        return Ok(match decoded {
            IChorusSlasherErrors::AlreadySlashed(_) => SubmitOutcome::AlreadySlashed,
            other => SubmitOutcome::Refused(refusal(other)),
        });
    }
    match &error {
        ContractError::TransportError(RpcError::ErrorResp(payload)) => {
            Ok(SubmitOutcome::Refused(Refusal::Other(payload.message.to_string())))
        }
        _ => Err(SubmitError::Transport(without_urls(&error.to_string()))),
    }
}

/// `text` with every URL replaced: transport errors quote the RPC URL,
/// which may carry an API key, and these texts are logged.
fn without_urls(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let bare = word.trim_start_matches(['(', '"', '\'']);
            if bare.starts_with("http://") || bare.starts_with("https://") {
                "<rpc url>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn refusal(error: IChorusSlasherErrors) -> Refusal {
    match error {
        IChorusSlasherErrors::CommitmentsDoNotConflict(_) => Refusal::CommitmentsDoNotConflict,
        IChorusSlasherErrors::NotSameRollupHeight(_) => Refusal::NotSameRollupHeight,
        IChorusSlasherErrors::NotInCheckpoint(_) => Refusal::NotInCheckpoint,
        IChorusSlasherErrors::InvalidSignature(_) => Refusal::InvalidSignature,
        IChorusSlasherErrors::KeyNotOfOperator(_) => Refusal::KeyNotOfOperator,
        other => Refusal::Other(format!("{other:?}")),
    }
}

/// Identifies one proof (the store remembers refusals by it):
/// `keccak256(abi.encode(operator, pubkey, a, b))`.
pub fn proof_key(
    operator: Address,
    pubkey: &Bytes,
    a: &SignedCommitment,
    b: &SignedCommitment,
) -> B256 {
    use alloy::sol_types::SolValue;
    alloy::primitives::keccak256((operator, pubkey.clone(), a.clone(), b.clone()).abi_encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_never_reach_the_logs() {
        let text = "error sending request for url (https://eth.example/v2/SECRET-KEY): refused";
        assert_eq!(without_urls(text), "error sending request for url <rpc url> refused");
    }
}
