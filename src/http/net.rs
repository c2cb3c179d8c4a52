//! Who is on the other end: the client's address (believing `X-Forwarded-For`
//! only from `trusted_proxies`), per-address rate limits on the public
//! endpoints, and the limits on request heads that come before any handler.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use super::error::ErrorCode;
use crate::app::CLIENT;
use crate::config::Config;
use crate::config::IpRange;

/// Turns a connection into a client address.
#[derive(Debug, Clone, Default)]
pub struct Network {
    trusted: Vec<IpRange>,
}

impl Network {
    pub fn new(config: &Config) -> Self {
        Self {
            trusted: config
                .trusted_proxies
                .iter()
                .filter_map(|p| IpRange::parse(p))
                .collect(),
        }
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|range| range.contains(address))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy;
    /// then the nearest address in `X-Forwarded-For` that is not one.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The client's address, as a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Middleware: works out the client's address, refuses oversized heads, and
/// runs the rest of the request with the address in [`CLIENT`] (where the
/// audit log finds it).
pub async fn identify(
    State(network): State<Arc<Network>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(refusal) = oversized(&request) {
        return refusal;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let client = network.client(peer, request.headers());
    request.extensions_mut().insert(ClientIp(client));
    CLIENT.scope(client, next.run(request)).await
}

/// Longest request target (path and query).
const LONGEST_URI: usize = 8 * 1024;
/// Most bytes of headers, names and values together.
const MOST_HEADER_BYTES: usize = 16 * 1024;

fn oversized(request: &Request) -> Option<Response> {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri > LONGEST_URI {
        return Some(
            ApiError::new(
                ErrorCode::UriTooLong,
                format!("the request path and query are longer than {LONGEST_URI} bytes"),
            )
            .into_response(),
        );
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > MOST_HEADER_BYTES {
        return Some(
            ApiError::new(
                ErrorCode::HeadersTooLarge,
                format!("the request headers are larger than {MOST_HEADER_BYTES} bytes"),
            )
            .into_response(),
        );
    }
    None
}

/// Per-address token buckets for the public endpoints.
pub struct Limiters {
    public: DefaultKeyedRateLimiter<IpAddr>,
    quotes: DefaultKeyedRateLimiter<IpAddr>,
}

/// Which bucket a request draws from.
#[derive(Debug, Clone, Copy)]
pub enum Bucket {
    /// Search, suggestions, estimates: `limits.public_requests_per_minute`.
    Public,
    /// Quote requests: `limits.quote_requests_per_hour`.
    Quotes,
}

impl Limiters {
    pub fn new(config: &Config) -> Self {
        let at_least_one = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            public: RateLimiter::keyed(Quota::per_minute(at_least_one(
                config.limits.public_requests_per_minute,
            ))),
            quotes: RateLimiter::keyed(Quota::per_hour(at_least_one(
                config.limits.quote_requests_per_hour,
            ))),
        }
    }

    /// Takes a token from `client`'s bucket, or says how long to wait.
    pub fn check(&self, bucket: Bucket, client: IpAddr) -> Result<(), ApiError> {
        let limiter = match bucket {
            Bucket::Public => &self.public,
            Bucket::Quotes => &self.quotes,
        };
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::too_many(
                "too many requests from your address; wait a moment and try again",
                wait.max(Duration::from_secs(1)),
            )
        })
    }

    /// Takes `n` tokens at once from `client`'s bucket (a batch of `n`
    /// requests), or says how long to wait; more than the bucket ever holds
    /// is refused for good.
    pub fn check_n(&self, bucket: Bucket, client: IpAddr, n: u32) -> Result<(), ApiError> {
        let limiter = match bucket {
            Bucket::Public => &self.public,
            Bucket::Quotes => &self.quotes,
        };
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match limiter.check_key_n(&client, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::too_many(
                    format!(
                        "too many requests from your address ({n} in this batch); wait a moment \
                         and try again"
                    ),
                    wait.max(Duration::from_secs(1)),
                ))
            }
            Err(capacity) => Err(ApiError::too_many(
                format!(
                    "{n} requests at once are more than your address may make in a minute \
                     ({capacity}); send fewer"
                ),
                Duration::from_secs(60),
            )),
        }
    }

    /// Forgets addresses whose buckets are full again.
    pub fn forget_idle(&self) {
        self.public.retain_recent();
        self.quotes.retain_recent();
        self.public.shrink_to_fit();
        self.quotes.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let none = Network::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), &forwarded("1.2.3.4")),
            ip("203.0.113.9"),
            "untrusted peers cannot claim another address"
        );
        let proxied = Network {
            trusted: vec![
                IpRange::parse("127.0.0.1").unwrap(),
                IpRange::parse("10.0.0.0/8").unwrap(),
            ],
        };
        assert_eq!(
            proxied.client(ip("127.0.0.1"), &forwarded("198.51.100.4")),
            ip("198.51.100.4")
        );
        // A client may put anything at the left; the first untrusted hop from
        // the right is the one the proxy saw.
        assert_eq!(
            proxied.client(
                ip("127.0.0.1"),
                &forwarded("6.6.6.6, 198.51.100.4, 10.1.1.1")
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            proxied.client(ip("127.0.0.1"), &forwarded("garbage")),
            ip("127.0.0.1"),
            "an unreadable header leaves the proxy as the client"
        );
        assert_eq!(
            proxied.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn buckets_empty_per_address() {
        let mut config = Config::default();
        config.limits.public_requests_per_minute = 3;
        config.limits.quote_requests_per_hour = 1;
        let limiters = Limiters::new(&config);
        for _ in 0..3 {
            limiters.check(Bucket::Public, ip("192.0.2.1")).unwrap();
        }
        let refused = limiters.check(Bucket::Public, ip("192.0.2.1")).unwrap_err();
        assert_eq!(refused.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some_and(|s| (1..=20).contains(&s)));
        limiters.check(Bucket::Public, ip("192.0.2.2")).unwrap();
        limiters.check(Bucket::Quotes, ip("192.0.2.1")).unwrap();
        assert!(limiters.check(Bucket::Quotes, ip("192.0.2.1")).is_err());
    }
}
