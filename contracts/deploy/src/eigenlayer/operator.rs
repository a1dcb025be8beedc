//! The EigenLayer half of an operator's registration, as idempotent steps.
//!
//! An operator (the account `provider` signs for) becomes slashable stake of
//! an AVS in four steps, each a function here:
//!
//! 1. [`deposit_into_strategy`][]: hold tokens in a strategy (mint, approve,
//!    `StrategyManager.depositIntoStrategy`);
//! 2. [`register_as_operator`][]: `DelegationManager.registerAsOperator`,
//!    which also starts the allocation delay;
//! 3. [`wait_for_allocation_delay`][]: the delay is usable
//!    `ALLOCATION_CONFIGURATION_DELAY + 1` blocks later; before that,
//!    `modifyAllocations` reverts `UninitializedAllocationDelay()`;
//! 4. [`allocate`][]: `AllocationManager.modifyAllocations` to an operator set,
//!    and [`register_for_operator_sets`] to join it (which calls the AVS's
//!    registrar).
//!
//! Each step first reads whether the chain already shows it done and then
//! returns [`StepOutcome::Skipped`] with the reason, so a registration that
//! stopped half-way can simply be run again.

use std::time::Instant;

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::Provider,
};
use eigen_utils::slashing::{
    core::{
        allocation_manager::{AllocationManager, IAllocationManagerTypes},
        delegation_manager::DelegationManager,
        i_strategy::IStrategy,
        strategy_manager::StrategyManager,
    },
    sdk::mock_erc20::MockERC20,
};

use super::{EigenLayerDeployment, OperatorSet, WaitOptions};
use crate::{DeployError, TxRecord, tx};

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// The step sent these transactions, all mined and successful.
    Executed(Vec<TxRecord>),
    /// The chain already showed the step done; nothing was sent.
    Skipped(String),
}

impl StepOutcome {
    /// Transactions sent (none if skipped).
    pub fn transactions(&self) -> &[TxRecord] {
        match self {
            Self::Executed(txs) => txs,
            Self::Skipped(_) => &[],
        }
    }

    /// Gas used by the step's transactions.
    pub fn gas_used(&self) -> u64 {
        self.transactions().iter().map(|t| t.gas_used).sum()
    }

    /// Whether the step found itself already done.
    pub const fn is_skipped(&self) -> bool {
        matches!(self, Self::Skipped(_))
    }

    fn skipped(reason: String) -> Self {
        tracing::info!(%reason, "step skipped");
        Self::Skipped(reason)
    }
}

/// Makes `staker` hold deposit shares worth at least `amount` of
/// `deployment.token` in `deployment.strategy`: mints what its balance lacks
/// (the devnet token is mintable by anyone), approves the StrategyManager if
/// needed, and deposits the difference. Skipped if the staker's deposit
/// shares are already worth `amount`.
pub async fn deposit_into_strategy<P: Provider>(
    provider: &P,
    deployment: &EigenLayerDeployment,
    staker: Address,
    amount: U256,
) -> Result<StepOutcome, DeployError> {
    const STEP: &str = "read deposit";
    let sm = StrategyManager::new(deployment.strategy_manager, provider);
    let strategy = IStrategy::new(deployment.strategy, provider);
    let token = MockERC20::new(deployment.token, provider);

    let shares = sm.stakerDepositShares(staker, deployment.strategy);
    let balance = token.balanceOf(staker);
    let allowance = token.allowance(staker, deployment.strategy_manager);
    let (shares, balance, allowance) =
        tokio::try_join!(shares.call(), balance.call(), allowance.call())
            .map_err(|e| DeployError::from_contract_error(STEP, e))?;
    let held = strategy
        .sharesToUnderlyingView(shares)
        .call()
        .await
        .map_err(|e| DeployError::from_contract_error(STEP, e))?;
    if held >= amount {
        return Ok(StepOutcome::skipped(format!(
            "{staker} already has {held} deposited in strategy {} (wanted {amount})",
            deployment.strategy
        )));
    }
    let need = amount - held;

    // Mint and approve are independent; the deposit needs both mined.
    let mut round = Vec::new();
    if balance < need {
        round.push(tx::plan("mint token", staker, token.mint(staker, need - balance)));
    }
    if allowance < need {
        round.push(tx::plan(
            "approve StrategyManager",
            staker,
            token.approve(deployment.strategy_manager, need),
        ));
    }
    let mut records = tx::send_round(provider, round).await?;
    let deposit = sm.depositIntoStrategy(deployment.strategy, deployment.token, need);
    records.push(tx::send("depositIntoStrategy", staker, deposit).await?);
    Ok(StepOutcome::Executed(records))
}

/// `DelegationManager.registerAsOperator(address(0), 0, metadata_uri)`: no
/// delegation approver, allocation delay 0 (allocations take effect in the
/// block they are made). Skipped if `operator` is already an operator.
pub async fn register_as_operator<P: Provider>(
    provider: &P,
    deployment: &EigenLayerDeployment,
    operator: Address,
    metadata_uri: &str,
) -> Result<StepOutcome, DeployError> {
    const STEP: &str = "registerAsOperator";
    let dm = DelegationManager::new(deployment.delegation_manager, provider);
    let (is_operator, delegated_to) = (dm.isOperator(operator), dm.delegatedTo(operator));
    let (is_operator, delegated_to) = tokio::try_join!(is_operator.call(), delegated_to.call())
        .map_err(|e| DeployError::from_contract_error(STEP, e))?;
    if is_operator {
        return Ok(StepOutcome::skipped(format!("{operator} is already an operator")));
    }
    if delegated_to != Address::ZERO {
        return Err(DeployError::Precondition {
            step: STEP,
            reason: format!(
                "{operator} is delegated to operator {delegated_to}; it must undelegate before registering"
            ),
        });
    }
    let record =
        tx::send(STEP, operator, dm.registerAsOperator(Address::ZERO, 0, metadata_uri.to_owned()))
            .await?;
    Ok(StepOutcome::Executed(vec![record]))
}

/// Waits until `operator`'s allocation delay is in effect (at the latest
/// block, where calls and gas estimation run) and returns it. With
/// [`WaitOptions::mine`], mines one block at a time with `anvil_mine`;
/// otherwise polls every `poll_interval`. Fails at once if `operator` is not
/// an operator, and after `timeout` otherwise.
pub async fn wait_for_allocation_delay<P: Provider>(
    provider: &P,
    deployment: &EigenLayerDeployment,
    operator: Address,
    wait: &WaitOptions,
) -> Result<u32, DeployError> {
    const STEP: &str = "wait for allocation delay";
    let am = AllocationManager::new(deployment.allocation_manager, provider);
    let dm = DelegationManager::new(deployment.delegation_manager, provider);
    let start = Instant::now();
    let mut checked_operator = false;
    loop {
        let delay = am
            .getAllocationDelay(operator)
            .call()
            .await
            .map_err(|e| DeployError::from_contract_error(STEP, e))?;
        if delay._0 {
            return Ok(delay._1);
        }
        if !checked_operator {
            if !dm
                .isOperator(operator)
                .call()
                .await
                .map_err(|e| DeployError::from_contract_error(STEP, e))?
            {
                return Err(DeployError::Precondition {
                    step: STEP,
                    reason: format!("{operator} is not an operator: register it first"),
                });
            }
            checked_operator = true;
        }
        if start.elapsed() >= wait.timeout {
            let block = provider.get_block_number().await.map_err(|e| DeployError::rpc(STEP, e))?;
            return Err(DeployError::Timeout {
                step: STEP,
                waited: start.elapsed(),
                condition: format!(
                    "allocation delay of {operator} still not in effect at block {block}"
                ),
            });
        }
        if wait.mine {
            crate::anvil::mine(provider, 1).await.map_err(|e| DeployError::rpc("anvil_mine", e))?;
        } else {
            tokio::time::sleep(wait.poll_interval).await;
        }
    }
}

/// Sets `operator`'s magnitude for `strategy` in `operator_set` to
/// `magnitude` (out of the strategy's max magnitude, 1e18 before any
/// slashing) with `AllocationManager.modifyAllocations`. Skipped if the
/// allocation already is, or is pending to become, `magnitude`; fails if a
/// different modification is pending.
pub async fn allocate<P: Provider>(
    provider: &P,
    deployment: &EigenLayerDeployment,
    operator: Address,
    operator_set: OperatorSet,
    strategy: Address,
    magnitude: u64,
) -> Result<StepOutcome, DeployError> {
    const STEP: &str = "modifyAllocations";
    let am = AllocationManager::new(deployment.allocation_manager, provider);
    let allocation = am
        .getAllocation(operator, operator_set.clone(), strategy)
        .call()
        .await
        .map_err(|e| DeployError::from_contract_error(STEP, e))?;
    let current = allocation.currentMagnitude;
    if allocation.pendingDiff == 0 {
        if current == magnitude {
            return Ok(StepOutcome::skipped(format!(
                "{operator} already allocates magnitude {magnitude} of {strategy} to operator set {}/{}",
                operator_set.avs, operator_set.id
            )));
        }
    } else {
        // pendingDiff comes from the RPC: a hostile one must not overflow us.
        let target = i128::from(current).saturating_add(allocation.pendingDiff);
        if target == i128::from(magnitude) {
            return Ok(StepOutcome::skipped(format!(
                "allocation of {operator} to {}/{} is already pending to {magnitude}, effective at block {}",
                operator_set.avs, operator_set.id, allocation.effectBlock
            )));
        }
        return Err(DeployError::Precondition {
            step: STEP,
            reason: format!(
                "a change of {operator}'s allocation to {}/{} from {current} to {target} is pending until block {}",
                operator_set.avs, operator_set.id, allocation.effectBlock
            ),
        });
    }
    let params = IAllocationManagerTypes::AllocateParams {
        operatorSet: operator_set,
        strategies: vec![strategy],
        newMagnitudes: vec![magnitude],
    };
    let record = tx::send(STEP, operator, am.modifyAllocations(operator, vec![params])).await?;
    Ok(StepOutcome::Executed(vec![record]))
}

/// `AllocationManager.registerForOperatorSets` for the sets of `avs` among
/// `operator_set_ids` that `operator` is not yet a member of; `data` goes to
/// the AVS's registrar. Skipped if it is a member of all.
pub async fn register_for_operator_sets<P: Provider>(
    provider: &P,
    deployment: &EigenLayerDeployment,
    operator: Address,
    avs: Address,
    operator_set_ids: &[u32],
    data: Bytes,
) -> Result<StepOutcome, DeployError> {
    const STEP: &str = "registerForOperatorSets";
    let am = AllocationManager::new(deployment.allocation_manager, provider);
    let mut missing = Vec::new();
    for &id in operator_set_ids {
        let member = am
            .isMemberOfOperatorSet(operator, OperatorSet { avs, id })
            .call()
            .await
            .map_err(|e| DeployError::from_contract_error(STEP, e))?;
        if !member {
            missing.push(id);
        }
    }
    if missing.is_empty() {
        return Ok(StepOutcome::skipped(format!(
            "{operator} is already in operator sets {operator_set_ids:?} of {avs}"
        )));
    }
    let params = IAllocationManagerTypes::RegisterParams { avs, operatorSetIds: missing, data };
    let record = tx::send(STEP, operator, am.registerForOperatorSets(operator, params)).await?;
    Ok(StepOutcome::Executed(vec![record]))
}
