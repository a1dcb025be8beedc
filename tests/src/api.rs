//! Reading the HTTP APIs of a running devnet (aggregator and operator
//! nodes), and waiting on conditions with a deadline.

use std::{future::Future, time::Duration};

use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::BoxError;

/// How often [`wait_for`] checks its condition.
const POLL: Duration = Duration::from_millis(200);

/// `GET base + path`, decoded as JSON; fails on a non-2xx answer.
pub async fn get_json<T: DeserializeOwned>(base: &str, path: &str) -> Result<T, BoxError> {
    let response = reqwest::get(format!("{base}{path}")).await?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("GET {base}{path}: {status}: {}", response.text().await?).into());
    }
    Ok(response.json().await?)
}

/// `GET base + path`: the status code and the body as text.
pub async fn get_text(base: &str, path: &str) -> Result<(u16, String), BoxError> {
    let response = reqwest::get(format!("{base}{path}")).await?;
    Ok((response.status().as_u16(), response.text().await?))
}

/// Calls `check` until it returns `Some`, failing after `timeout` with
/// `what` in the message. Errors from `check` count as "not yet".
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, BoxError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, BoxError>>,
{
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(error) => last_error = Some(error.to_string()),
        }
        if Instant::now() >= deadline {
            let detail = last_error.map(|e| format!(" (last error: {e})")).unwrap_or_default();
            return Err(format!("timed out after {timeout:?} waiting for {what}{detail}").into());
        }
        tokio::time::sleep(POLL).await;
    }
}
