// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice The one StrategyManager view this strategy reads.
interface IStrategyManagerDepositShares {
    function stakerDepositShares(address staker, address strategy) external view returns (uint256);
}

/// @title A restaking strategy over one ERC-20, for devnets and testnets.
/// @notice Implements EigenLayer v1.3.0's `IStrategy` the way its
///         `StrategyBase` does, minus what a devnet does not need: no proxy,
///         no pausing, no deposit limits. Not audited; do not hold value in it.
///
///         The v1.3.0 core calls three functions of a strategy:
///         `StrategyManager.depositIntoStrategy` transfers the tokens in and
///         then calls `deposit`; withdrawals as tokens and the burning of
///         slashed shares call `withdraw` (burns go to `0x…dEaD`); both check
///         `underlyingToken`. Stake (`getAllocatedStake`,
///         `getMinimumSlashableStake`) is counted in shares, so the views
///         below only matter to people and tools.
///
///         Shares are priced as in `StrategyBase`, with 1e3 virtual shares and
///         1e3 virtual tokens against the inflation attack. While nobody
///         transfers tokens to the strategy directly, one share is one token
///         unit exactly; a direct transfer raises every holder's share price.
contract DevnetStrategy {
    using SafeERC20 for IERC20;

    uint256 internal constant SHARES_OFFSET = 1e3;
    uint256 internal constant BALANCE_OFFSET = 1e3;
    uint256 internal constant MAX_TOTAL_SHARES = 1e38 - 1;

    /// @notice The only caller of `deposit` and `withdraw`.
    address public immutable strategyManager;
    /// @notice The token this strategy holds.
    IERC20 public immutable underlyingToken;
    /// @notice Shares outstanding.
    uint256 public totalShares;

    /// @notice Underlying per 1e18 shares after a deposit or withdrawal.
    event ExchangeRateEmitted(uint256 rate);
    /// @notice The underlying token, emitted once on construction.
    event StrategyTokenSet(IERC20 token, uint8 decimals);

    /// @notice The caller is not the StrategyManager.
    error OnlyStrategyManager();
    /// @notice A token other than `underlyingToken`.
    error OnlyUnderlyingToken();
    /// @notice A deposit too small to mint a share.
    error NewSharesZero();
    /// @notice Shares beyond `MAX_TOTAL_SHARES`.
    error TotalSharesExceedsMax();
    /// @notice A withdrawal of more shares than exist.
    error WithdrawalAmountExceedsTotalDeposits();

    modifier onlyStrategyManager() {
        require(msg.sender == strategyManager, OnlyStrategyManager());
        _;
    }

    /// @param strategyManager_ The StrategyManager (its proxy).
    /// @param token The underlying token.
    constructor(address strategyManager_, IERC20 token) {
        strategyManager = strategyManager_;
        underlyingToken = token;
        uint8 decimals = 18;
        try IERC20Metadata(address(token)).decimals() returns (uint8 d) {
            decimals = d;
        } catch {}
        emit StrategyTokenSet(token, decimals);
    }

    /// @notice Mints shares for `amount` tokens the StrategyManager has
    ///         already transferred in.
    function deposit(IERC20 token, uint256 amount) external onlyStrategyManager returns (uint256 newShares) {
        require(token == underlyingToken, OnlyUnderlyingToken());
        uint256 priorTotalShares = totalShares;
        // The balance already includes `amount`.
        uint256 virtualPriorBalance = _tokenBalance() + BALANCE_OFFSET - amount;
        newShares = (amount * (priorTotalShares + SHARES_OFFSET)) / virtualPriorBalance;
        require(newShares != 0, NewSharesZero());
        uint256 newTotalShares = priorTotalShares + newShares;
        require(newTotalShares <= MAX_TOTAL_SHARES, TotalSharesExceedsMax());
        totalShares = newTotalShares;
        _emitExchangeRate();
    }

    /// @notice Burns `amountShares` and sends their underlying to `recipient`.
    function withdraw(address recipient, IERC20 token, uint256 amountShares) external onlyStrategyManager {
        require(token == underlyingToken, OnlyUnderlyingToken());
        uint256 priorTotalShares = totalShares;
        require(amountShares <= priorTotalShares, WithdrawalAmountExceedsTotalDeposits());
        uint256 amountToSend = ((_tokenBalance() + BALANCE_OFFSET) * amountShares) / (priorTotalShares + SHARES_OFFSET);
        totalShares = priorTotalShares - amountShares;
        underlyingToken.safeTransfer(recipient, amountToSend);
        _emitExchangeRate();
    }

    /// @notice Underlying tokens `amountShares` are worth now.
    function sharesToUnderlyingView(uint256 amountShares) public view returns (uint256) {
        return ((_tokenBalance() + BALANCE_OFFSET) * amountShares) / (totalShares + SHARES_OFFSET);
    }

    /// @notice Same as `sharesToUnderlyingView` (state-changing in the interface).
    function sharesToUnderlying(uint256 amountShares) external view returns (uint256) {
        return sharesToUnderlyingView(amountShares);
    }

    /// @notice Shares `amountUnderlying` tokens would mint now.
    function underlyingToSharesView(uint256 amountUnderlying) public view returns (uint256) {
        return (amountUnderlying * (totalShares + SHARES_OFFSET)) / (_tokenBalance() + BALANCE_OFFSET);
    }

    /// @notice Same as `underlyingToSharesView` (state-changing in the interface).
    function underlyingToShares(uint256 amountUnderlying) external view returns (uint256) {
        return underlyingToSharesView(amountUnderlying);
    }

    /// @notice A staker's deposit shares, as the StrategyManager records them
    ///         (before any slashing of its operator).
    function shares(address user) public view returns (uint256) {
        return IStrategyManagerDepositShares(strategyManager).stakerDepositShares(user, address(this));
    }

    /// @notice Underlying tokens of a staker's deposit shares.
    function userUnderlyingView(address user) public view returns (uint256) {
        return sharesToUnderlyingView(shares(user));
    }

    /// @notice Same as `userUnderlyingView` (state-changing in the interface).
    function userUnderlying(address user) external view returns (uint256) {
        return userUnderlyingView(user);
    }

    /// @notice What this strategy is.
    function explanation() external pure returns (string memory) {
        return "Devnet strategy: holds one ERC-20, StrategyBase share pricing; not for value";
    }

    /// @notice The EigenLayer release whose interface this implements.
    function version() external pure returns (string memory) {
        return "v1.3.0-devnet";
    }

    function _tokenBalance() internal view returns (uint256) {
        return underlyingToken.balanceOf(address(this));
    }

    function _emitExchangeRate() internal {
        emit ExchangeRateEmitted((1e18 * (_tokenBalance() + BALANCE_OFFSET)) / (totalShares + SHARES_OFFSET));
    }
}
