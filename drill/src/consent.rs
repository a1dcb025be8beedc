//! What a slashing drill needs before it runs: an explicit "yes", and a
//! chain that is a known test network, or else being told twice that this
//! other chain is meant (a flag that allows it, and its chain id typed out
//! again). A drill really slashes stake: a mistyped RPC URL must not turn
//! it into a mainnet slashing.

use serde::Serialize;

/// Chain ids of the test networks a drill runs on without further
/// confirmation, with their names.
pub const TEST_NETWORKS: &[(u64, &str)] =
    &[(31_337, "anvil/hardhat"), (17_000, "Holesky"), (11_155_111, "Sepolia"), (560_048, "Hoodi")];

/// The name of test network `chain_id`, if it is on the allow-list.
pub fn test_network(chain_id: u64) -> Option<&'static str> {
    TEST_NETWORKS.iter().find(|(id, _)| *id == chain_id).map(|(_, name)| *name)
}

/// What the person running the drill confirmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    /// They confirmed that the drill operator will be slashed (`--yes`).
    pub yes: bool,
    /// They allow a chain that is not a known test network
    /// (`--allow-non-testnet`).
    pub allow_non_testnet: bool,
    /// The chain id they typed out to confirm it (`--confirm-chain-id`).
    pub confirm_chain_id: Option<u64>,
}

/// Why a drill will run on a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum ChainApproval {
    /// A test network of the allow-list.
    TestNetwork {
        /// Its chain id.
        chain_id: u64,
        /// Its name.
        name: String,
    },
    /// Another chain, confirmed twice.
    ConfirmedTwice {
        /// Its chain id.
        chain_id: u64,
    },
}

/// Why a drill refuses to run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// No `--yes`.
    #[error(
        "the equivocation drill makes the drill operator sign two conflicting checkpoints and \
         gets it slashed on L1 (stake is really lost, the operator is ejected): pass --yes to \
         confirm"
    )]
    NotConfirmed,
    /// The chain is not a test network and was not confirmed twice.
    #[error(
        "chain {chain_id} is not a known test network ({known}); to drill on it anyway pass both \
         --allow-non-testnet and --confirm-chain-id {chain_id}"
    )]
    NotATestNetwork {
        /// The chain the RPC serves.
        chain_id: u64,
        /// The allow-list, for the message.
        known: String,
    },
    /// Only one of the two confirmations.
    #[error(
        "chain {chain_id} is not a known test network: --allow-non-testnet and --confirm-chain-id \
         {chain_id} are both needed (only {given} was given)"
    )]
    HalfConfirmed {
        /// The chain the RPC serves.
        chain_id: u64,
        /// The flag that was given.
        given: &'static str,
    },
    /// The confirmed chain id is not the chain the RPC serves.
    #[error(
        "--confirm-chain-id {confirmed} does not match chain {chain_id} that the RPC serves: check \
         --rpc-url"
    )]
    WrongChain {
        /// The chain the RPC serves.
        chain_id: u64,
        /// The chain id typed out.
        confirmed: u64,
    },
}

impl Consent {
    /// Whether the drill may run on `chain_id` (the id the RPC reports).
    pub fn approve(&self, chain_id: u64) -> Result<ChainApproval, ConsentError> {
        if !self.yes {
            return Err(ConsentError::NotConfirmed);
        }
        // A confirmation that names another chain is a mistake even on a
        // test network: the person believes they are somewhere else.
        if let Some(confirmed) = self.confirm_chain_id
            && confirmed != chain_id
        {
            return Err(ConsentError::WrongChain { chain_id, confirmed });
        }
        if let Some(name) = test_network(chain_id) {
            return Ok(ChainApproval::TestNetwork { chain_id, name: name.to_owned() });
        }
        match (self.allow_non_testnet, self.confirm_chain_id) {
            (true, Some(_)) => Ok(ChainApproval::ConfirmedTwice { chain_id }),
            (true, None) => {
                Err(ConsentError::HalfConfirmed { chain_id, given: "--allow-non-testnet" })
            }
            (false, Some(_)) => {
                Err(ConsentError::HalfConfirmed { chain_id, given: "--confirm-chain-id" })
            }
            (false, None) => Err(ConsentError::NotATestNetwork { chain_id, known: known_list() }),
        }
    }
}

fn known_list() -> String {
    let names: Vec<String> =
        TEST_NETWORKS.iter().map(|(id, name)| format!("{id} {name}")).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAINNET: u64 = 1;

    fn yes() -> Consent {
        Consent { yes: true, ..Consent::default() }
    }

    #[test]
    fn nothing_runs_without_yes() {
        let twice = Consent { yes: false, allow_non_testnet: true, confirm_chain_id: Some(31_337) };
        assert_eq!(Consent::default().approve(31_337), Err(ConsentError::NotConfirmed));
        assert_eq!(twice.approve(31_337), Err(ConsentError::NotConfirmed));
    }

    #[test]
    fn every_test_network_runs_with_yes_alone() {
        for (chain_id, name) in TEST_NETWORKS {
            let approval = yes().approve(*chain_id).unwrap();
            assert_eq!(
                approval,
                ChainApproval::TestNetwork { chain_id: *chain_id, name: (*name).to_owned() }
            );
        }
    }

    #[test]
    fn another_chain_needs_both_confirmations() {
        let refused = yes().approve(MAINNET).unwrap_err();
        assert!(matches!(refused, ConsentError::NotATestNetwork { chain_id: MAINNET, .. }));
        assert!(refused.to_string().contains("--allow-non-testnet and --confirm-chain-id 1"));

        let only_allow = Consent { allow_non_testnet: true, ..yes() };
        assert_eq!(
            only_allow.approve(MAINNET),
            Err(ConsentError::HalfConfirmed { chain_id: MAINNET, given: "--allow-non-testnet" })
        );
        let only_id = Consent { confirm_chain_id: Some(MAINNET), ..yes() };
        assert_eq!(
            only_id.approve(MAINNET),
            Err(ConsentError::HalfConfirmed { chain_id: MAINNET, given: "--confirm-chain-id" })
        );

        let both = Consent { allow_non_testnet: true, confirm_chain_id: Some(MAINNET), ..yes() };
        assert_eq!(both.approve(MAINNET), Ok(ChainApproval::ConfirmedTwice { chain_id: MAINNET }));
    }

    #[test]
    fn approvals_serialize_in_camel_case() {
        let json = serde_json::to_value(yes().approve(17_000).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "testNetwork", "chainId": 17_000, "name": "Holesky"})
        );
    }

    #[test]
    fn a_confirmation_of_another_chain_is_refused() {
        let both = Consent { allow_non_testnet: true, confirm_chain_id: Some(10), ..yes() };
        assert_eq!(
            both.approve(MAINNET),
            Err(ConsentError::WrongChain { chain_id: MAINNET, confirmed: 10 })
        );
        // Also on a test network: the person thinks they are elsewhere.
        let wrong = Consent { confirm_chain_id: Some(MAINNET), ..yes() };
        assert_eq!(
            wrong.approve(31_337),
            Err(ConsentError::WrongChain { chain_id: 31_337, confirmed: MAINNET })
        );
    }
}
