//! Reading an aggregator's answers without trusting their size.
//!
//! An aggregator is not trusted: a malicious one can answer with an endless
//! body. Every client of the API (the operator's link, the slashing
//! watcher's feeds) reads bodies through [`read_bounded`], each with a
//! limit fitted to the route, and refuses the rest unread.

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Longer than the limit (by its `Content-Length` or as it streamed).
    #[error("the answer exceeds {limit} bytes; not read")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The connection failed while the body streamed.
    #[error("the answer broke off: {0}")]
    Transport(#[from] reqwest::Error),
}

/// Reads `response`'s body, at most `limit` bytes: a declared length over
/// the limit is refused before anything is read, and a stream is cut as
/// soon as it passes it.
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
