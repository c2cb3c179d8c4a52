//! Sending one message: the address checks (scheme, and every address the
//! name resolves to, when it is sent), the signature, a timeout, no
//! redirects, and at most `RESPONSE_READ` bytes of the answer read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::WebhooksConfig;
use crate::domain::webhooks::{self, Webhook};

/// Most bytes of a receiver's answer read (the rest is not waited for).
const RESPONSE_READ: usize = 16 * 1024;
/// Bytes of the answer kept in the delivery log.
const RESPONSE_KEPT: usize = 256;

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// Why a URL may not be an endpoint's (checked on saving and on sending).
pub fn check_url(raw: &str, config: &WebhooksConfig) -> Result<Url, String> {
    if raw.len() > webhooks::MAX_URL {
        return Err(format!("must be at most {} characters", webhooks::MAX_URL));
    }
    let url = Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if config.allow_http => {}
        "http" => {
            return Err(
                "must be an https:// address (plain http:// needs webhooks.allow_http)".into(),
            );
        }
        other => return Err(format!("{other}:// is not http(s)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password; receivers check the signature".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    let Some(host) = url.host_str() else {
        return Err("must name a host".into());
    };
    if !config.allow_private {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let ip = literal.parse::<IpAddr>().ok();
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        if ip.is_none() && (name == "localhost" || name.ends_with(".localhost")) {
            return Err(
                "is this machine (localhost); such addresses need webhooks.allow_private".into(),
            );
        }
        if let Some(why) = ip.and_then(webhooks::refused_address) {
            return Err(format!(
                "is {why}; such addresses need webhooks.allow_private"
            ));
        }
    }
    Ok(url)
}

/// Resolves names as the system does, then drops the addresses webhooks
/// may not reach: the check happens on the address actually connected to,
/// so a name that resolves (or is re-pointed) to a private address is refused.
struct Guarded {
    allow_private: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> BoxError {
                    Box::new(Refused(format!("{host} does not resolve: {e}")))
                })?
                .collect();
            if allow_private {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let mut why = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match webhooks::refused_address(addr.ip()) {
                    Some(reason) => {
                        why = Some((addr.ip(), reason));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let message = match why {
                    Some((ip, reason)) => format!(
                        "{host} resolves to {ip}, {reason}; such addresses need \
                         webhooks.allow_private"
                    ),
                    None => format!("{host} resolves to no address"),
                };
                return Err(Box::new(Refused(message)) as BoxError);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Sends messages; one per endpoint is in flight at a time (the worker's
/// rule), any number of endpoints at once.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    config: Arc<WebhooksConfig>,
}

impl Sender {
    pub fn new(config: &WebhooksConfig) -> anyhow::Result<Self> {
        // The TLS provider Quarry's own listener uses; installing it twice is
        // harmless (the first one stays).
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(u64::from(config.timeout_secs)))
            .connect_timeout(Duration::from_secs(u64::from(config.timeout_secs.min(10))))
            .user_agent(concat!("Quarry-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Guarded {
                allow_private: config.allow_private,
            }))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            config: Arc::new(config.clone()),
        })
    }

    /// Sends one message to `hook`, signed with its secrets.
    pub async fn send(&self, hook: &Webhook, id: &str, body: Vec<u8>) -> Outcome {
        let started = Instant::now();
        let failed = |error: String| Outcome {
            ok: false,
            status: None,
            latency_ms: elapsed_ms(started),
            response: None,
            error: Some(error),
        };
        let url = match check_url(&hook.url, &self.config) {
            Ok(url) => url,
            Err(reason) => return failed(format!("the URL {reason}")),
        };
        let now = Timestamp::now();
        let timestamp = now.as_second();
        let signature =
            match webhooks::signature_header(&hook.signing_secrets(now), id, timestamp, &body) {
                Ok(signature) => signature,
                Err(e) => return failed(e.to_string()),
            };
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status();
        let mut read = Vec::new();
        let mut error = None;
        while read.len() < RESPONSE_READ {
            match response.chunk().await {
                Ok(Some(chunk)) => read.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        read.truncate(RESPONSE_KEPT);
        let text = String::from_utf8_lossy(&read).into_owned();
        let ok = status.is_success();
        if !ok && error.is_none() {
            error = Some(if status.is_redirection() {
                format!("the receiver answered {status}; redirects are not followed")
            } else {
                format!("the receiver answered {status}")
            });
        }
        Outcome {
            ok,
            status: Some(status.as_u16()),
            latency_ms: elapsed_ms(started),
            response: (!text.is_empty()).then_some(text),
            error: if ok { None } else { error },
        }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// An error and its causes, for the delivery log: reqwest's own message
/// says only "error sending request".
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "the receiver did not answer in time (webhooks.timeout_secs)".into();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_they_are_saved() {
        let strict = WebhooksConfig::default();
        assert!(check_url("https://hooks.example.com/quarry", &strict).is_ok());
        for bad in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://127.0.0.1/",
            "https://[::1]:8443/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/",
            "https://localhost/",
            "https://api.localhost/",
            "https://hooks.example.com/#x",
            "not a url",
        ] {
            assert!(check_url(bad, &strict).is_err(), "{bad}");
        }
        let lan = WebhooksConfig {
            allow_http: true,
            allow_private: true,
            ..WebhooksConfig::default()
        };
        assert!(check_url("http://127.0.0.1:8080/hook", &lan).is_ok());
        assert!(check_url("http://localhost/hook", &lan).is_ok());
    }
}
