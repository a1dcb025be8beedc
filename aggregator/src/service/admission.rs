//! What every request passes before a handler: a per-address rate limit
//! and a deadline for the whole request, and the count of every refusal.
//!
//! The API is open to anyone, so one client must not be able to crowd out
//! operators. Three layers, each answering something a client can act on:
//!
//! - **Connections** (actix-web, set in [`super::start`]): a request's head
//!   must arrive within `api.header_timeout_secs` of connecting or of the
//!   previous request, else the connection is closed (with actix-web's own
//!   bare `408`: no request was read, so there is nothing to answer in
//!   JSON); at most `api.max_connections` are held open.
//! - **Rate** ([`admit`]): each client address gets `rate_limit_per_second`
//!   requests per second with a burst of `rate_limit_burst` (GCRA, the
//!   `governor` crate); beyond it, `429 rate_limited` with `Retry-After`.
//!   IPv6 clients are keyed by their /64, which one host usually holds
//!   whole. Honest operators and their sizing: [`AggregatorApiConfig`].
//! - **Deadline** ([`admit`]): a request whose handler (which reads the
//!   body) has not answered within `request_timeout_secs` (plus the wait of
//!   a long poll) is answered `408 request_timeout`, and its connection is
//!   closed since its body was not read to the end: a client trickling a
//!   body holds a connection for that long at most.
//!
//! Every refusal of the API, these and the handlers' own, is counted in
//! `chorus_api_refusals_total{code}`: handlers' [`ApiFailure`]s leave their
//! code in the response's extensions ([`RefusalCode`]).

use std::{
    collections::HashSet,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use actix_web::{
    Error, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderValue},
    middleware::Next,
    web,
};
use chorus_wire::{MAX_LONG_POLL_SECS, routes};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

use super::{api::ApiFailure, config::AggregatorApiConfig, metrics::Metrics};

/// How often the limiter forgets addresses whose bucket is full again, so
/// that its memory follows the clients of the last moments, not every
/// client ever seen.
pub(crate) const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

/// The stable code of a refused request, left by [`ApiFailure`] in its
/// response's extensions for [`admit`] to count.
#[derive(Debug, Clone, Copy)]
pub struct RefusalCode(pub &'static str);

/// The admission policy of one API (shared by its workers).
pub struct Admission {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    exempt: HashSet<IpAddr>,
    request_timeout: Duration,
    metrics: Metrics,
}

impl Admission {
    /// The policy `config` describes; counts refusals in `metrics`.
    pub fn new(config: &AggregatorApiConfig, metrics: Metrics) -> Self {
        let limiter = NonZeroU32::new(config.rate_limit_per_second).map(|rate| {
            let burst = NonZeroU32::new(config.rate_limit_burst).unwrap_or(rate);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            exempt: config.rate_limit_exempt.iter().copied().collect(),
            request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)),
            metrics,
        }
    }

    /// Forgets addresses that are back to a full bucket (see
    /// [`FORGET_IDLE_EVERY`]).
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// `Err` with the time to wait when `client` is over its rate.
    fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let (Some(limiter), Some(client)) = (&self.limiter, client) else {
            return Ok(());
        };
        if self.exempt.contains(&client) {
            return Ok(());
        }
        limiter
            .check_key(&rate_key(client))
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// How long a request to `path` may take.
    fn deadline(&self, path: &str) -> Duration {
        if path == routes::NEXT_PROPOSAL {
            self.request_timeout + Duration::from_secs(MAX_LONG_POLL_SECS)
        } else {
            self.request_timeout
        }
    }

    fn count(&self, code: &str) {
        self.metrics.refusals.get_or_create(&vec![("code", code.to_owned())]).inc();
    }
}

/// The key a client is limited by: its address, or for IPv6 its /64.
fn rate_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// `429 rate_limited`, with `Retry-After` in whole seconds (at least 1).
fn rate_limited(wait: Duration) -> actix_web::HttpResponse {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = ApiFailure::too_many_requests(format!(
        "too many requests from this address: retry in {seconds} s (the Retry-After header); \
         an operator behind a shared address can be exempted in the aggregator's [api] \
         rate_limit_exempt"
    ))
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The middleware (`actix_web::middleware::from_fn`): rate, deadline, and
/// the count of every refusal.
pub async fn admit(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(admission) = request.app_data::<web::Data<Arc<Admission>>>().cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let client = request.peer_addr().map(|address| address.ip());
    if let Err(wait) = admission.check(client) {
        admission.count("rate_limited");
        return Ok(request.into_response(rate_limited(wait)));
    }
    let deadline = admission.deadline(request.path());
    // An error, not a response: the request (which the handler holds) must
    // not be cloned while routing runs, and actix-web answers an error with
    // its `error_response`, the JSON refusal.
    let Ok(response) = tokio::time::timeout(deadline, next.call(request)).await else {
        admission.count("request_timeout");
        return Err(ApiFailure::request_timeout(format!(
            "the request took more than {} s (its body came too slowly): send the whole \
             request at once",
            deadline.as_secs()
        ))
        .into());
    };
    let response = response?.map_into_boxed_body();
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let code = response.response().extensions().get::<RefusalCode>().map(|code| code.0);
        admission.count(code.unwrap_or(status.as_str()));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rate: u32, burst: u32, exempt: Vec<IpAddr>) -> AggregatorApiConfig {
        AggregatorApiConfig {
            rate_limit_per_second: rate,
            rate_limit_burst: burst,
            rate_limit_exempt: exempt,
            ..AggregatorApiConfig::default()
        }
    }

    #[test]
    fn an_address_gets_its_burst_then_waits_and_others_are_not_affected() {
        let admission = Admission::new(&config(1, 3, vec![]), Metrics::new());
        let flooder = Some(IpAddr::from([127, 0, 0, 9]));
        for _ in 0..3 {
            assert_eq!(admission.check(flooder), Ok(()));
        }
        let wait = admission.check(flooder).expect_err("over the burst");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(admission.check(Some(IpAddr::from([127, 0, 0, 1]))), Ok(()));
    }

    #[test]
    fn exempt_addresses_and_a_zero_rate_are_never_limited() {
        let nat = IpAddr::from([10, 0, 0, 1]);
        let admission = Admission::new(&config(1, 1, vec![nat]), Metrics::new());
        for _ in 0..10 {
            assert_eq!(admission.check(Some(nat)), Ok(()));
        }
        let off = Admission::new(&config(0, 0, vec![]), Metrics::new());
        for _ in 0..10 {
            assert_eq!(off.check(Some(IpAddr::from([127, 0, 0, 9]))), Ok(()));
        }
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let admission = Admission::new(&config(1, 1, vec![]), Metrics::new());
        let one: IpAddr = "2001:db8::1".parse().expect("an address");
        let other: IpAddr = "2001:db8::ffff:2".parse().expect("an address");
        assert_eq!(admission.check(Some(one)), Ok(()));
        assert!(admission.check(Some(other)).is_err(), "the same /64");
        let mapped: IpAddr = "::ffff:127.0.0.9".parse().expect("an address");
        assert_eq!(rate_key(mapped), IpAddr::from([127, 0, 0, 9]));
    }

    #[test]
    fn retry_after_is_whole_seconds_and_the_body_names_the_problem() {
        let response = rate_limited(Duration::from_millis(1500));
        assert_eq!(response.status(), actix_web::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"2"[..])
        );
        let response = rate_limited(Duration::from_millis(1));
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert_eq!(response.extensions().get::<RefusalCode>().map(|c| c.0), Some("rate_limited"));
    }
}
