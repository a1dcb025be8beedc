//! EigenLayer core on a real anvil: deployment, then one operator's whole
//! EigenLayer registration against a test AVS, read back as slashable stake.
//!
//! Prints gas and wall time (`cargo test -p chorus-deploy --test eigenlayer
//! -- --nocapture`) for BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256, utils::parse_ether},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use chorus_deploy::{
    DeployError,
    anvil::{AnvilInstance, mine, spawn_anvil},
    contracts::{DevnetAVSRegistrar, ProxyAdmin},
    eigenlayer::{
        EigenLayerConfig, EigenLayerDeployment, OperatorSet, WaitOptions, deploy_eigenlayer_with,
        operator::{
            StepOutcome, allocate, deposit_into_strategy, register_as_operator,
            register_for_operator_sets, wait_for_allocation_delay,
        },
        proxy_admin_address, read_proxy, verify_deployment,
    },
};
use eigen_utils::slashing::{
    core::{
        allocation_manager::{
            AllocationManager, IAllocationManagerTypes, IAllocationManagerTypes::CreateSetParams,
        },
        delegation_manager::{DelegationManager, IDelegationManagerTypes},
        i_strategy::IStrategy,
        permission_controller::PermissionController,
        strategy_manager::StrategyManager,
    },
    sdk::mock_erc20::MockERC20,
};

const WAD: u64 = 1_000_000_000_000_000_000;

fn signer(anvil: &AnvilInstance, index: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_slice(&anvil.keys()[index].to_bytes()).unwrap()
}

fn provider_for(anvil: &AnvilInstance, signer: PrivateKeySigner) -> impl Provider + Clone {
    ProviderBuilder::new().wallet(signer).connect_http(anvil.endpoint_url())
}

async fn send_ok<P: Provider>(provider: &P, tx: TransactionRequest) {
    let receipt = provider.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "transaction failed: {receipt:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_core_and_register_an_operator() {
    let anvil = spawn_anvil().unwrap();
    let deployer_signer = signer(&anvil, 0);
    let deployer = deployer_signer.address();
    let provider = provider_for(&anvil, deployer_signer);

    // --- Deployment -------------------------------------------------------
    let config = EigenLayerConfig::default();
    let start = Instant::now();
    let output = deploy_eigenlayer_with(&provider, deployer, &config).await.unwrap();
    let elapsed = start.elapsed();
    let d = output.deployment;

    eprintln!("EigenLayer core deployment (v1.3.0, {} transactions):", output.transactions.len());
    for tx in &output.transactions {
        eprintln!("  {:<48} {:>10} gas", tx.step, tx.gas_used);
    }
    eprintln!("  {:<48} {:>10} gas", "total", output.total_gas());
    eprintln!("  wall time: {elapsed:?} (anvil automine, 5 rounds)");

    // Every proxy points at its implementation, through its own ProxyAdmin
    // owned by the deployer.
    for (name, proxy, implementation) in d.proxies() {
        let slots = read_proxy(&provider, proxy).await.unwrap();
        assert_eq!(slots.implementation, implementation, "{name} implementation");
        assert_eq!(slots.admin, proxy_admin_address(proxy), "{name} admin");
        let admin_owner = ProxyAdmin::new(slots.admin, &provider).owner().call().await.unwrap();
        assert_eq!(admin_owner, deployer, "{name} ProxyAdmin owner");
    }
    // Initialised: owners set, strategy whitelisted.
    verify_deployment(&provider, &d).await.unwrap();
    // The PermissionController (no initializer) answers through its proxy.
    let version = PermissionController::new(d.permission_controller, &provider)
        .version()
        .call()
        .await
        .unwrap();
    assert_eq!(version, config.version);
    let am = AllocationManager::new(d.allocation_manager, &provider);
    assert_eq!(am.ALLOCATION_CONFIGURATION_DELAY().call().await.unwrap(), 1);
    assert_eq!(am.DEALLOCATION_DELAY().call().await.unwrap(), 5);
    // Initialising twice is refused.
    let again = am.initialize(deployer, U256::ZERO).from(deployer).estimate_gas().await;
    assert!(again.is_err(), "AllocationManager initialised twice");

    // The deployment JSON keys.
    let json = serde_json::to_value(d).unwrap();
    for key in ["allocationManager", "delegationManager", "strategyManager", "strategy", "token"] {
        assert!(json.get(key).is_some_and(|v| v.is_string()), "missing key {key}: {json}");
    }
    assert_eq!(serde_json::from_value::<EigenLayerDeployment>(json).unwrap(), d);

    // --- A test AVS: an anvil account with an accept-all registrar ----------
    let avs_signer = signer(&anvil, 1);
    let avs = avs_signer.address();
    let avs_provider = provider_for(&anvil, avs_signer);
    let avs_am = AllocationManager::new(d.allocation_manager, &avs_provider);
    let set = OperatorSet { avs, id: 0 };
    // createOperatorSets before updateAVSMetadataURI reverts.
    let early = avs_am
        .createOperatorSets(
            avs,
            vec![CreateSetParams { operatorSetId: 0, strategies: vec![d.strategy] }],
        )
        .from(avs)
        .estimate_gas()
        .await
        .unwrap_err();
    let early = DeployError::from_contract_error("createOperatorSets", early);
    assert!(early.to_string().contains("NonexistentAVSMetadata"), "{early}");
    for call in [
        avs_am
            .updateAVSMetadataURI(avs, "https://example.invalid/avs.json".into())
            .into_transaction_request(),
        avs_am
            .createOperatorSets(
                avs,
                vec![CreateSetParams { operatorSetId: 0, strategies: vec![d.strategy] }],
            )
            .into_transaction_request(),
    ] {
        send_ok(&avs_provider, call).await;
    }
    let registrar =
        DevnetAVSRegistrar::deploy(&avs_provider, d.allocation_manager, avs).await.unwrap();
    send_ok(
        &avs_provider,
        avs_am.setAVSRegistrar(avs, *registrar.address()).into_transaction_request(),
    )
    .await;

    // --- An operator: a fresh key, funded by the deployer -------------------
    let operator_signer = PrivateKeySigner::random();
    let operator = operator_signer.address();
    send_ok(
        &provider,
        TransactionRequest::default().with_to(operator).with_value(parse_ether("10").unwrap()),
    )
    .await;
    let op = provider_for(&anvil, operator_signer);
    let stake = U256::from(1_000u64) * U256::from(WAD);

    let deposit = deposit_into_strategy(&op, &d, operator, stake).await.unwrap();
    assert_eq!(deposit.transactions().len(), 3, "mint, approve, deposit");
    let shares = StrategyManager::new(d.strategy_manager, &op)
        .stakerDepositShares(operator, d.strategy)
        .call()
        .await
        .unwrap();
    assert_eq!(shares, stake, "1:1 shares");
    let strategy = IStrategy::new(d.strategy, &op);
    assert_eq!(strategy.sharesToUnderlyingView(shares).call().await.unwrap(), stake);
    assert_eq!(strategy.underlyingToSharesView(stake).call().await.unwrap(), stake);
    assert_eq!(strategy.userUnderlyingView(operator).call().await.unwrap(), stake);
    assert!(deposit_into_strategy(&op, &d, operator, stake).await.unwrap().is_skipped());

    let registered =
        register_as_operator(&op, &d, operator, "https://example.invalid/op.json").await.unwrap();
    assert!(!registered.is_skipped());
    assert!(
        DelegationManager::new(d.delegation_manager, &op)
            .isOperator(operator)
            .call()
            .await
            .unwrap()
    );
    assert!(register_as_operator(&op, &d, operator, "x").await.unwrap().is_skipped());

    // Before the allocation delay is in effect, allocating reverts (decoded).
    let magnitude = WAD / 2;
    let err = allocate(&op, &d, operator, set.clone(), d.strategy, magnitude).await.unwrap_err();
    assert!(
        matches!(&err, DeployError::Reverted { reason, .. } if reason.contains("UninitializedAllocationDelay")),
        "{err}"
    );

    let block_before = op.get_block_number().await.unwrap();
    let delay = wait_for_allocation_delay(&op, &d, operator, &WaitOptions::anvil()).await.unwrap();
    assert_eq!(delay, 0);
    let waited_blocks = op.get_block_number().await.unwrap() - block_before;

    let allocated = allocate(&op, &d, operator, set.clone(), d.strategy, magnitude).await.unwrap();
    assert!(!allocated.is_skipped());
    assert!(
        allocate(&op, &d, operator, set.clone(), d.strategy, magnitude).await.unwrap().is_skipped()
    );

    // Allocated, but not slashable before joining the operator set.
    let am = AllocationManager::new(d.allocation_manager, &op);
    let now = u32::try_from(op.get_block_number().await.unwrap()).unwrap();
    let slashable = am
        .getMinimumSlashableStake(set.clone(), vec![operator], vec![d.strategy], now)
        .call()
        .await
        .unwrap();
    assert_eq!(slashable, vec![vec![U256::ZERO]]);

    let joined =
        register_for_operator_sets(&op, &d, operator, avs, &[0], Bytes::new()).await.unwrap();
    assert!(!joined.is_skipped());
    assert!(
        register_for_operator_sets(&op, &d, operator, avs, &[0], Bytes::new())
            .await
            .unwrap()
            .is_skipped()
    );

    // --- Stake read back ----------------------------------------------------
    let allocated_stake =
        am.getAllocatedStake(set.clone(), vec![operator], vec![d.strategy]).call().await.unwrap();
    let now = u32::try_from(op.get_block_number().await.unwrap()).unwrap();
    let slashable = am
        .getMinimumSlashableStake(set.clone(), vec![operator], vec![d.strategy], now)
        .call()
        .await
        .unwrap();
    let half = stake / U256::from(2);
    assert_eq!(allocated_stake, vec![vec![half]]);
    assert_eq!(slashable, vec![vec![half]]);
    assert!(am.isOperatorSlashable(operator, set).call().await.unwrap());

    let steps: [(&str, &StepOutcome); 4] = [
        ("deposit (mint, approve, depositIntoStrategy)", &deposit),
        ("registerAsOperator", &registered),
        ("modifyAllocations", &allocated),
        ("registerForOperatorSets (accept-all registrar)", &joined),
    ];
    eprintln!("One operator's EigenLayer registration:");
    for (name, outcome) in steps {
        for tx in outcome.transactions() {
            eprintln!("  {:<48} {:>10} gas  ({name})", tx.step, tx.gas_used);
        }
    }
    let total: u64 = steps.iter().map(|(_, o)| o.gas_used()).sum();
    eprintln!("  {:<48} {:>10} gas", "total", total);
    eprintln!("  allocation delay waited out by mining {waited_blocks} block(s)");
    eprintln!("  allocated = minimum slashable stake = {half} shares (50% of {stake})");

    // --- The strategy under slashing and withdrawal --------------------------
    // The AVS slashes 10% of the 50% allocation: 5% of the operator's shares
    // become burnable, and burning them sends tokens to the burn address
    // through `DevnetStrategy.withdraw`.
    let slash = IAllocationManagerTypes::SlashingParams {
        operator,
        operatorSetId: 0,
        strategies: vec![d.strategy],
        wadsToSlash: vec![U256::from(WAD / 10)],
        description: "test slash".into(),
    };
    send_ok(&avs_provider, avs_am.slashOperator(avs, slash).into_transaction_request()).await;
    let sm = StrategyManager::new(d.strategy_manager, &provider);
    let five_percent = stake / U256::from(20);
    assert_eq!(sm.getBurnableShares(d.strategy).call().await.unwrap(), five_percent);
    send_ok(&provider, sm.burnShares(d.strategy).into_transaction_request()).await;
    let token = MockERC20::new(d.token, &provider);
    let burn_address = sm.DEFAULT_BURN_ADDRESS().call().await.unwrap();
    assert_eq!(token.balanceOf(burn_address).call().await.unwrap(), five_percent);
    assert_eq!(strategy.totalShares().call().await.unwrap(), stake - five_percent);
    assert_eq!(
        strategy.sharesToUnderlyingView(U256::from(WAD)).call().await.unwrap(),
        U256::from(WAD)
    );

    // The operator withdraws 100 deposit shares: after slashing they are
    // worth 95 tokens, paid by `DevnetStrategy.withdraw` once the
    // withdrawal delay has passed.
    let dm = DelegationManager::new(d.delegation_manager, &op);
    let hundred = U256::from(100u64) * U256::from(WAD);
    let params = IDelegationManagerTypes::QueuedWithdrawalParams {
        strategies: vec![d.strategy],
        depositShares: vec![hundred],
        __deprecated_withdrawer: operator,
    };
    send_ok(&op, dm.queueWithdrawals(vec![params]).into_transaction_request()).await;
    let queued = dm.getQueuedWithdrawals(operator).call().await.unwrap();
    let expected = hundred * U256::from(95u64) / U256::from(100u64);
    assert_eq!(queued.shares, vec![vec![expected]]);
    let withdrawal = queued.withdrawals[0].clone();
    let early = dm
        .completeQueuedWithdrawal(withdrawal.clone(), vec![d.token], true)
        .from(operator)
        .estimate_gas()
        .await
        .unwrap_err();
    let early = DeployError::from_contract_error("completeQueuedWithdrawal", early);
    assert!(early.to_string().contains("WithdrawalDelayNotElapsed"), "{early}");
    let delay = dm.minWithdrawalDelayBlocks().call().await.unwrap();
    mine(&op, u64::from(delay) + 1).await.unwrap();
    let before = token.balanceOf(operator).call().await.unwrap();
    send_ok(
        &op,
        dm.completeQueuedWithdrawal(withdrawal, vec![d.token], true).into_transaction_request(),
    )
    .await;
    let after = token.balanceOf(operator).call().await.unwrap();
    assert_eq!(after - before, expected);
    assert_eq!(strategy.totalShares().call().await.unwrap(), stake - five_percent - expected);
    assert_eq!(
        strategy.sharesToUnderlyingView(U256::from(WAD)).call().await.unwrap(),
        U256::from(WAD)
    );

    // A second deployment on the same, warm chain.
    let start = Instant::now();
    deploy_eigenlayer_with(&provider, deployer, &config).await.unwrap();
    eprintln!("Second deployment on the same anvil: {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_bad_config_and_missing_code() {
    let anvil = spawn_anvil().unwrap();
    let deployer_signer = signer(&anvil, 0);
    let deployer = deployer_signer.address();
    let provider = provider_for(&anvil, deployer_signer);

    let long = EigenLayerConfig { version: "v".repeat(32), ..Default::default() };
    let err = deploy_eigenlayer_with(&provider, deployer, &long).await.unwrap_err();
    assert!(matches!(err, DeployError::Config(_)), "{err}");

    // Nothing deployed at these addresses: a clear error, not a hang.
    let nowhere = Address::repeat_byte(0x42);
    let d = EigenLayerDeployment {
        allocation_manager: nowhere,
        delegation_manager: nowhere,
        strategy_manager: nowhere,
        avs_directory: nowhere,
        permission_controller: nowhere,
        eigen_pod_manager: nowhere,
        pauser_registry: nowhere,
        token: nowhere,
        strategy: nowhere,
        owner: deployer,
        implementations: chorus_deploy::eigenlayer::EigenLayerImplementations {
            allocation_manager: nowhere,
            delegation_manager: nowhere,
            strategy_manager: nowhere,
            avs_directory: nowhere,
            permission_controller: nowhere,
            eigen_pod_manager: nowhere,
            empty_contract: nowhere,
        },
    };
    let err = register_as_operator(&provider, &d, deployer, "x").await.unwrap_err();
    eprintln!("register_as_operator against no code: {err}");
    assert!(err.to_string().starts_with("registerAsOperator: "), "{err}");
    let err = verify_deployment(&provider, &d).await.unwrap_err();
    assert!(matches!(err, DeployError::WrongImplementation { .. }), "{err}");
}
