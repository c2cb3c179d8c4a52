//! Outbound webhooks: an endpoint the owner registers, the events it wants,
//! where its delivery stands in the change log, and how a message is signed
//! (the Standard Webhooks scheme: `webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256>`).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::Actor;

/// Every event an endpoint can ask for, with what it means. The change log's
/// kinds that concern other systems, and two derived from `level.changed`.
pub const EVENTS: &[(&str, &str)] = &[
    (
        "movement.booked",
        "A stock movement was booked (receipt, shipment, transfer, adjustment…)",
    ),
    (
        "level.changed",
        "The stock of a product at a location changed",
    ),
    (
        "stock.low",
        "A level fell below its reorder point (sent once, when it crosses)",
    ),
    (
        "availability.changed",
        "A product's availability as customers see it",
    ),
    ("product.created", "A product was added to the catalogue"),
    ("product.updated", "A product was changed"),
    ("product.archived", "A product was archived"),
    ("location.created", "A location was added"),
    ("location.updated", "A location was changed"),
    ("quote.created", "A quote was saved"),
    ("quote.accepted", "A quote was accepted"),
    ("quote.fulfilled", "A quote was fulfilled (or closed)"),
    (
        "quote.delivered",
        "A delivery of an accepted quote was made (a load shipped)",
    ),
    ("quote.cancelled", "A quote was cancelled"),
    ("quote.expired", "A quote passed its validity"),
    (
        "quote.updated",
        "Staff changed an open quote (its lines, contact, delivery or what it holds)",
    ),
    ("backup.created", "A backup was taken"),
    ("import.done", "An import finished"),
];

/// Most event patterns an endpoint may list.
pub const MAX_PATTERNS: usize = 32;
/// Longest URL an endpoint may have.
pub const MAX_URL: usize = 2048;
/// Longest description.
pub const MAX_DESCRIPTION: usize = 500;

/// Why an event pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadPattern(pub String);

/// Checks one pattern: `*`, a family with a wildcard (`quote.*`) or one event
/// (`movement.booked`), and that it matches at least one known event.
pub fn check_pattern(pattern: &str) -> Result<(), BadPattern> {
    if EVENTS.iter().any(|(name, _)| matches(pattern, name)) {
        return Ok(());
    }
    let known: Vec<&str> = EVENTS.iter().map(|(name, _)| *name).collect();
    Err(BadPattern(format!(
        "{pattern:?} matches no event; give one of {}, a family such as \"quote.*\", or \"*\"",
        known.join(", ")
    )))
}

/// Whether `pattern` matches the event `name`.
pub fn matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == name {
        return true;
    }
    pattern
        .strip_suffix(".*")
        .is_some_and(|family| name.split('.').next() == Some(family))
}

/// Whether any of `patterns` matches `name`.
pub fn wants(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| matches(p, name))
}

/// An endpoint, as stored. Its secrets never leave the store through the API
/// after the answer that made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: u64,
    pub url: String,
    pub description: String,
    /// Event patterns (`movement.booked`, `quote.*`, `*`).
    pub events: Vec<String>,
    /// Paused endpoints are not delivered to; their cursor stays.
    pub enabled: bool,
    /// Trusted endpoints get staff-only fields (costs, customers' contact
    /// details, who booked a movement); others get what customers may see.
    pub trusted: bool,
    /// The signing secret, `whsec_` and the base64 of its key.
    pub secret: String,
    /// The secret before the last rotation, still signing until
    /// `previous_until`, so receivers can switch without losing messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Actor,
    pub version: u64,
    #[serde(default)]
    pub delivery: DeliveryState,
}

impl Webhook {
    /// The secrets that sign a message sent at `now`: the current one, and
    /// the previous one during its grace period.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_until)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }

    /// The endpoint's state in a word.
    pub fn status(&self) -> WebhookStatus {
        if !self.enabled {
            WebhookStatus::Paused
        } else if self.delivery.failing {
            WebhookStatus::Failing
        } else if self.delivery.attempts > 0 {
            WebhookStatus::Retrying
        } else {
            WebhookStatus::Active
        }
    }
}

/// Where an endpoint's delivery stands. Written by the delivery worker
/// (bookkeeping, not logged as changes) and by a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryState {
    /// The last change-log `seq` delivered (or passed over: no event of it
    /// was wanted). Delivery goes on after it.
    pub cursor: u64,
    /// Raised by each replay, so a worker holding an older position starts
    /// again from the cursor.
    #[serde(default)]
    pub rewinds: u64,
    /// Failed attempts at the next event.
    #[serde(default)]
    pub attempts: u32,
    /// When the next event first failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<Timestamp>,
    /// When the next attempt is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    /// Retries ran out (`webhooks.retry_hours`): delivery stopped until the
    /// owner resumes it (enable, replay, or a ping that succeeds).
    #[serde(default)]
    pub failing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_delivered_at: Option<Timestamp>,
    /// Attempts logged so far: numbers the delivery log.
    #[serde(default)]
    pub logged: u64,
}

/// An endpoint's state in a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Delivering.
    Active,
    /// The last attempt failed; the next is scheduled.
    Retrying,
    /// Retries ran out; nothing is sent until the owner resumes it.
    Failing,
    /// Paused by the owner.
    Paused,
}

/// One attempt to deliver one event (or a ping), as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The attempt's number in this endpoint's log.
    pub number: u64,
    /// The change-log `seq` of the event; 0 for a ping.
    pub seq: u64,
    /// The message's `webhook-id`.
    pub message_id: String,
    pub event: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    /// Whether the receiver answered 2xx.
    pub ok: bool,
    /// The receiver's status code, if it answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// The first bytes of the receiver's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Why the attempt failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random source works");
    format!("whsec_{}", STANDARD.encode(key))
}

/// Why a secret cannot sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is \"whsec_\" followed by base64")]
pub struct BadSecret;

/// The signature of a message: `v1,` and the base64 HMAC-SHA256, keyed by the
/// secret's bytes, of `{id}.{timestamp}.{body}` (Standard Webhooks).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|key| STANDARD.decode(key).ok())
        .ok_or(BadSecret)?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, BadSecret> {
    let signatures: Result<Vec<String>, BadSecret> = secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect();
    Ok(signatures?.join(" "))
}

/// Why a received message is not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("no signature matches: the secret or the body differs")]
    NoMatch,
    #[error("the timestamp is {0} s away from now; more than 5 minutes means a replay")]
    Stale(i64),
    #[error(transparent)]
    Secret(#[from] BadSecret),
}

/// Checks a received message as a receiver should: one of the header's `v1`
/// signatures matches (compared in constant time), and the timestamp is
/// within 5 minutes of `now`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), Unverified> {
    if (now - timestamp).abs() > 300 {
        return Err(Unverified::Stale(now - timestamp));
    }
    let expected = sign(secret, id, timestamp, body)?;
    let found = header
        .split(' ')
        .any(|candidate| constant_time_eq(candidate.as_bytes(), expected.as_bytes()));
    if found {
        Ok(())
    } else {
        Err(Unverified::NoMatch)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why an address may not receive webhooks without `webhooks.allow_private`:
/// loopback, private, link-local, shared (carrier NAT), unspecified,
/// multicast, broadcast and reserved ranges, IPv4 inside IPv6 included.
pub fn refused_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a shared (carrier NAT) address")
            } else if v4.is_unspecified() || a == 0 {
                Some("an unspecified address")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("a multicast or reserved address")
            } else if a == 192 && b == 0 && v4.octets()[2] == 0 {
                Some("a protocol assignment address")
            } else if a == 198 && (b == 18 || b == 19) {
                Some("a benchmarking address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refused_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unspecified address")
            } else if v6.is_unique_local() {
                Some("a private address")
            } else if v6.is_unicast_link_local() || first & 0xffc0 == 0xfec0 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first == 0x64 && v6.segments()[1] == 0xff9b {
                // NAT64: an IPv4 address in disguise.
                let [.., c, d] = v6.segments();
                let v4 = std::net::Ipv4Addr::from((u32::from(c) << 16) | u32::from(d));
                refused_address(IpAddr::V4(v4))
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_event_a_family_or_all() {
        assert!(matches("*", "quote.created"));
        assert!(matches("quote.*", "quote.created"));
        assert!(!matches("quote.*", "product.created"));
        assert!(!matches("quote", "quote.created"));
        assert!(matches("stock.low", "stock.low"));
        assert!(!matches("stock.lo", "stock.low"));
        assert!(check_pattern("quote.*").is_ok());
        assert!(check_pattern("*").is_ok());
        assert!(check_pattern("user.*").is_err());
        assert!(check_pattern("auth.login").is_err());
        assert!(check_pattern("movement.booke").is_err());
    }

    /// The example of the Standard Webhooks reference libraries.
    #[test]
    fn signatures_match_the_standard_webhooks_reference() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, id, 1_614_265_330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            verify(secret, id, 1_614_265_330, &signature, body, 1_614_265_400),
            Ok(())
        );
        assert_eq!(
            verify(secret, id, 1_614_265_330, &signature, b"{}", 1_614_265_400),
            Err(Unverified::NoMatch)
        );
        assert_eq!(
            verify(secret, id, 1_614_265_330, &signature, body, 1_614_266_000),
            Err(Unverified::Stale(670))
        );
        let both = signature_header(&[&new_secret(), secret], id, 1_614_265_330, body).unwrap();
        assert_eq!(
            verify(secret, id, 1_614_265_330, &both, body, 1_614_265_330),
            Ok(())
        );
        assert!(sign("nope", id, 1, body).is_err());
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(
                refused_address(refused.parse().unwrap()).is_some(),
                "{refused}"
            );
        }
        for allowed in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert_eq!(refused_address(allowed.parse().unwrap()), None, "{allowed}");
        }
    }
}
