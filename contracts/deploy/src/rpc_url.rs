//! RPC URLs as Chorus may show them: hosted endpoints carry their API key in
//! the path (`/v2/KEY`), the query (`?apikey=KEY`) or the user info
//! (`https://KEY@host`), so a URL must never reach a log, an error, a metric
//! or an API answer whole.
//!
//! [`RpcUrl`] holds a parsed endpoint and shows only its scheme, host and
//! port; [`RpcUrl::redact`] takes the URL out of a text that quotes it (HTTP
//! clients' errors do), however it is spelt. Everything in Chorus that
//! prints something about an RPC goes through this module.
//!
//! ```
//! use chorus_deploy::rpc_url::RpcUrl;
//!
//! let url: RpcUrl = "https://eth.example:8443/v2/SECRET?key=K".parse().unwrap();
//! assert_eq!(url.to_string(), "https://eth.example:8443");
//! let error = "error sending request for url (https://eth.example:8443/v2/SECRET?key=K)";
//! assert_eq!(url.redact(error), "error sending request for url (https://eth.example:8443)");
//! ```

use std::{fmt, str::FromStr};

use alloy::transports::http::reqwest::Url;

/// What stands for a secret part of a URL found alone in a text.
pub const REDACTED: &str = "<redacted>";

/// Parts of a URL shorter than this are not replaced when they stand alone
/// in a text: replacing every `/v1` or one-letter user name would garble the
/// message, and so short a part protects nothing.
const MIN_SECRET_LEN: usize = 4;

/// An RPC endpoint: the URL to connect to, shown (by `Display` and `Debug`)
/// as `scheme://host:port` only.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcUrl {
    url: Url,
    shown: String,
}

/// A text that is not a URL. Its message does not quote the text: it may
/// hold an API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid URL ({reason}; the URL is not shown: it may hold an API key)")]
pub struct InvalidRpcUrl {
    /// The parser's complaint (it never quotes the input).
    reason: String,
}

impl RpcUrl {
    /// Parses `text` as an endpoint.
    pub fn parse(text: &str) -> Result<Self, InvalidRpcUrl> {
        let url = text
            .trim()
            .parse::<Url>()
            .map_err(|error| InvalidRpcUrl { reason: error.to_string() })?;
        Ok(Self::from(url))
    }

    /// The whole URL, to connect to. Never print it: show `self` instead.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `scheme://host:port` (the port only when the URL names one).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `text` with the URL, however it is spelt (as configured, normalised,
    /// with or without its trailing slash), replaced by [`Self::shown`], and
    /// any secret part of it (path, query, user name, password) still left
    /// standing alone replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut text = self
            .spellings()
            .iter()
            .fold(text.to_owned(), |text, spelling| text.replace(spelling, &self.shown));
        for secret in self.secret_parts() {
            text = text.replace(secret, REDACTED);
        }
        text
    }

    /// `error` and its sources, joined by `: ` as `{:#}` prints a report,
    /// redacted as [`Self::redact`]: for errors of calls through this
    /// endpoint, whose sources quote it.
    pub fn redact_error(&self, error: &(dyn std::error::Error + 'static)) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            // thiserror's `{0}` messages already hold their source's text.
            if !text.ends_with(&cause_text) {
                text = format!("{text}: {cause_text}");
            }
            source = cause.source();
        }
        self.redact(&text)
    }

    /// The ways a client may print the whole URL, longest first (a shorter
    /// spelling is a prefix of a longer one).
    fn spellings(&self) -> Vec<String> {
        let full = self.url.as_str();
        let mut spellings = vec![full.to_owned(), full.trim_end_matches('/').to_owned()];
        if let Some(without_user) = without_user_info(&self.url) {
            spellings.push(without_user.as_str().to_owned());
            spellings.push(without_user.as_str().trim_end_matches('/').to_owned());
        }
        spellings.retain(|spelling| spelling.len() > self.shown.len());
        spellings.sort_by_key(|spelling| std::cmp::Reverse(spelling.len()));
        spellings.dedup();
        spellings
    }

    /// Parts of the URL that may hold a key, long enough to be one.
    fn secret_parts(&self) -> impl Iterator<Item = &str> {
        [
            Some(self.url.path()).filter(|path| *path != "/"),
            self.url.query(),
            self.url.fragment(),
            Some(self.url.username()),
            self.url.password(),
        ]
        .into_iter()
        .flatten()
        .filter(|part| part.len() >= MIN_SECRET_LEN)
    }
}

/// `url` without user name and password, if it had any.
fn without_user_info(url: &Url) -> Option<Url> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let mut bare = url.clone();
    // Both fail only for URLs that cannot have user info (none to remove).
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    Some(bare)
}

impl From<Url> for RpcUrl {
    fn from(url: Url) -> Self {
        let shown = format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or("[no host]"),
            url.port().map(|port| format!(":{port}")).unwrap_or_default()
        );
        Self { url, shown }
    }
}

impl FromStr for RpcUrl {
    type Err = InvalidRpcUrl;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RpcUrl({})", self.shown)
    }
}

/// `url` (as configured, maybe not even a URL) as messages may show it:
/// `scheme://host:port`, or a placeholder if it does not parse.
pub fn shown(url: &str) -> String {
    RpcUrl::parse(url).map_or_else(|_| "[invalid URL]".to_owned(), |url| url.shown)
}

/// `text` with the configured `url` taken out, as [`RpcUrl::redact`]; a
/// `url` that does not parse is replaced verbatim.
pub fn redact(text: &str, url: &str) -> String {
    match RpcUrl::parse(url) {
        Ok(parsed) => parsed.redact(&text.replace(url, parsed.shown())),
        Err(_) if url.is_empty() => text.to_owned(),
        Err(_) => text.replace(url, REDACTED),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const KEYED: &str = "https://user:pass1234@rpc.example.org:8443/v3/KEY123?token=T0KEN#frag";

    #[test]
    fn shows_only_scheme_host_and_port() {
        let url = RpcUrl::parse(KEYED).unwrap();
        assert_eq!(url.shown(), "https://rpc.example.org:8443");
        assert_eq!(url.to_string(), "https://rpc.example.org:8443");
        assert_eq!(format!("{url:?}"), "RpcUrl(https://rpc.example.org:8443)");
        assert_eq!(shown("http://127.0.0.1:8545/"), "http://127.0.0.1:8545");
        assert_eq!(shown("https://node.example/v2/KEY"), "https://node.example");
        assert_eq!(shown("not a url/KEY"), "[invalid URL]");
    }

    #[test]
    fn the_whole_url_is_replaced_however_it_is_spelt() {
        let url = RpcUrl::parse("https://node.example/v2/SECRETKEY").unwrap();
        let error = "error sending request for url (https://node.example/v2/SECRETKEY)";
        assert_eq!(url.redact(error), "error sending request for url (https://node.example)");
        // Clients print the URL normalised, with a trailing slash.
        let local = RpcUrl::parse("http://127.0.0.1:8545").unwrap();
        assert_eq!(
            local.redact("for url (http://127.0.0.1:8545/)"),
            "for url (http://127.0.0.1:8545)"
        );
        // ... or without the user info.
        let user = RpcUrl::parse("http://alice:secret-pw@agg.example:7300/").unwrap();
        assert_eq!(
            user.redact("at http://agg.example:7300/ now"),
            "at http://agg.example:7300 now"
        );
    }

    #[test]
    fn secret_parts_standing_alone_are_hidden() {
        let url = RpcUrl::parse(KEYED).unwrap();
        let error =
            format!("{KEYED} failed; path /v3/KEY123, query token=T0KEN, user user:pass1234");
        let redacted = url.redact(&error);
        assert!(redacted.starts_with("https://rpc.example.org:8443 failed"), "{redacted}");
        for secret in ["KEY123", "T0KEN", "pass1234", "user:"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
    }

    #[test]
    fn error_chains_are_joined_and_redacted() {
        #[derive(Debug, thiserror::Error)]
        #[error("deploying failed")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request for url (https://node.example/v2/SECRETKEY)")]
        struct Inner;
        let url = RpcUrl::parse("https://node.example/v2/SECRETKEY").unwrap();
        assert_eq!(
            url.redact_error(&Outer(Inner)),
            "deploying failed: error sending request for url (https://node.example)"
        );
    }

    #[test]
    fn short_parts_do_not_garble_the_text() {
        let url = RpcUrl::parse("http://u:p@127.0.0.1:8545/v1").unwrap();
        assert_eq!(url.redact("upstream v1 unreachable"), "upstream v1 unreachable");
    }

    #[test]
    fn configured_text_is_redacted_even_when_it_is_not_a_url() {
        assert_eq!(redact("cannot use KEYTEXT!", "KEYTEXT!"), "cannot use <redacted>");
        assert_eq!(
            redact("at https://node.example/v2/K3Y", " https://node.example/v2/K3Y "),
            "at https://node.example"
        );
        assert_eq!(redact("nothing to hide", ""), "nothing to hide");
    }

    #[test]
    fn invalid_urls_are_not_quoted() {
        let error = RpcUrl::parse("https://[::1/SECRET").unwrap_err();
        assert!(!error.to_string().contains("SECRET"), "{error}");
        assert!(error.to_string().contains("not a valid URL"), "{error}");
    }
}
