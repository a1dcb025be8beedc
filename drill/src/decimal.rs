//! Token amounts and weights in reports as decimal strings: JSON numbers
//! lose precision past 2^53, and alloy's default (hex) is unreadable for
//! stake.

use alloy::primitives::U256;
use serde::Serializer;

/// One amount as a decimal string.
pub(crate) fn u256<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Amounts as decimal strings.
pub(crate) fn u256s<S: Serializer>(values: &[U256], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(U256::to_string))
}
