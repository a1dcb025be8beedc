//! Deployment bindings of the Chorus contracts: constructors and bytecode,
//! generated from the committed forge artifacts in `contracts/bindings/artifacts/`
//! (refresh with `forge build` and `contracts/bindings/update-artifacts`).
//!
//! Talk to a deployed contract through the interfaces at the crate root
//! (`IChorusRegistry`, `IChorusAttestations`, `IChorusSlasher`), whose types
//! are the protocol's; these modules carry the rest of each contract's ABI
//! (constructor, owner functions, `setupAvs`).

#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc, all_derives)]
    ChorusRegistry,
    "artifacts/ChorusRegistry.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    ChorusAttestations,
    "artifacts/ChorusAttestations.json"
);

alloy::sol!(
    #[sol(rpc, all_derives)]
    ChorusSlasher,
    "artifacts/ChorusSlasher.json"
);
