//! Live events: the change log as the caller may see it. A stream reads the log
//! from its own position in batches, so a slow client costs only its own
//! progress: there is no shared buffer to overflow and the writer never waits.
//! A stream holds at most [`BATCH`] events and [`BATCH_BYTES`] of their data,
//! and takes one of a bounded number of slots (`limits.event_streams`, and
//! `limits.event_streams_per_client` per client) for as long as it lives.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{App, AppError, Principal};
use crate::config::PublicAvailability;
use crate::store::{Change, ChangeKind, ReadTx, payloads};

/// One event of the stream; its id is the change-log `seq`.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub seq: u64,
    pub name: &'static str,
    /// The event's data, as JSON text: what is sent, and far smaller to hold
    /// than a `Value`.
    pub data: String,
}

/// Most change-log entries read per batch.
pub const BATCH: usize = 256;
/// A batch ends once its events' data reach this many bytes (at least one
/// event is always taken, so a stream moves on).
pub const BATCH_BYTES: usize = 64 * 1024;

/// The name of the one event anonymous callers get, made from `level.changed`.
pub const AVAILABILITY_CHANGED: &str = "availability.changed";

/// An event's name and data, before they are written out.
type Draft = Option<(&'static str, Value)>;

fn staff_event(tx: &ReadTx, change: &Change) -> Result<Draft, AppError> {
    let data = match change.kind {
        ChangeKind::MovementBooked => {
            let booked = change.payload::<payloads::MovementBooked>()?;
            match tx.movement(booked.id)? {
                Some(movement) => serde_json::to_value(movement).expect("serializes"),
                None => return Ok(None),
            }
        }
        // With the product's totals over all locations (`product_available`,
        // `product_availability`), so a storefront open in a staff member's
        // browser updates its badges from the same stream.
        ChangeKind::LevelChanged => {
            let level = change.payload::<payloads::LevelChanged>()?;
            serde_json::to_value(level).expect("serializes")
        }
        ChangeKind::ProductCreated | ChangeKind::ProductUpdated | ChangeKind::ProductArchived => {
            let product = change.payload::<payloads::ProductChanged>()?;
            json!({ "sku": change.key, "version": product.version, "active": product.active })
        }
        ChangeKind::LocationCreated | ChangeKind::LocationUpdated => {
            json!({ "code": change.key })
        }
        _ => return Ok(None),
    };
    Ok(Some((change.kind.as_str(), data)))
}

fn public_event(tx: &ReadTx, change: &Change, mode: PublicAvailability) -> Result<Draft, AppError> {
    if change.kind != ChangeKind::LevelChanged || mode == PublicAvailability::Hidden {
        return Ok(None);
    }
    let level = change.payload::<payloads::LevelChanged>()?;
    if !tx.product(&level.sku)?.is_some_and(|p| p.active) {
        return Ok(None);
    }
    let mut out = json!({
        "sku": level.sku,
        "availability": level.product_availability,
    });
    if mode == PublicAvailability::Exact {
        let available = level.product_available.max(Decimal::ZERO);
        out["available"] = json!(available.to_string());
    }
    Ok(Some((AVAILABILITY_CHANGED, out)))
}

impl App {
    /// The events after `after` that `caller` may see, at most one batch
    /// ([`BATCH`] entries, about [`BATCH_BYTES`] of data), and the last `seq`
    /// read (skipped entries included).
    pub async fn events_after(
        &self,
        caller: Option<&Principal>,
        after: u64,
    ) -> Result<(Vec<LiveEvent>, u64), AppError> {
        let staff = caller.is_some_and(Principal::reads);
        let mode = self.config().stock.public_availability;
        self.read(move |tx| {
            let changes = tx.changes_after(after, BATCH)?;
            let mut last = after;
            let mut bytes = 0;
            let mut events = Vec::new();
            for change in &changes {
                if bytes >= BATCH_BYTES {
                    break;
                }
                let event = if staff {
                    staff_event(tx, change)?
                } else {
                    public_event(tx, change, mode)?
                };
                last = change.seq;
                if let Some((name, data)) = event {
                    let data = data.to_string();
                    bytes += data.len();
                    events.push(LiveEvent {
                        seq: change.seq,
                        name,
                        data,
                    });
                }
            }
            Ok((events, last))
        })
        .await
    }

    /// A slot for a live event stream of `caller`, from `address`; the stream
    /// keeps it while it lives. Refused (429) when the client holds
    /// `limits.event_streams_per_client` streams, and (503) when the server
    /// holds `limits.event_streams`.
    pub fn stream_slot(
        &self,
        caller: Option<&Principal>,
        address: IpAddr,
    ) -> Result<StreamSlot, AppError> {
        let holder = match caller {
            Some(principal) => Holder::Principal(principal.actor.as_str().to_owned()),
            None => Holder::Address(network_of(address)),
        };
        Streams::take(&self.inner.streams, holder)
    }

    /// Follows the `seq` of the newest committed change.
    pub fn committed(&self) -> watch::Receiver<u64> {
        self.inner.writer.committed()
    }

    /// Cancelled when the server shuts down, so long-lived streams end.
    pub fn shutting_down(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }
}

/// How long a refused stream is told to wait before trying again.
const RETRY_STREAM: Duration = Duration::from_secs(10);

/// Whom a stream counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    /// An anonymous caller's address (an IPv6 address by its /64: one
    /// subscriber usually holds a whole /64).
    Address(IpAddr),
    /// A signed-in caller: `user:NAME` or `token:NAME`.
    Principal(String),
}

fn network_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The open live event streams, per holder and in all.
#[derive(Debug)]
pub struct Streams {
    per_client: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    by_holder: HashMap<Holder, usize>,
    total: usize,
}

impl Streams {
    pub fn new(limits: &crate::config::LimitsConfig) -> Self {
        Self {
            per_client: limits.event_streams_per_client as usize,
            total: limits.event_streams as usize,
            open: Mutex::default(),
        }
    }

    fn take(streams: &Arc<Self>, holder: Holder) -> Result<StreamSlot, AppError> {
        let mut open = streams.open.lock().expect("stream slots lock");
        let held = open.by_holder.get(&holder).copied().unwrap_or(0);
        if held >= streams.per_client {
            let who = match holder {
                Holder::Address(_) => "your address already follows",
                Holder::Principal(_) => "you already follow",
            };
            return Err(AppError::TooManyRequests {
                message: format!(
                    "{who} {held} live event streams, the most one client may; close one \
                     (another tab?) and try again"
                ),
                retry_after: RETRY_STREAM,
            });
        }
        if open.total >= streams.total {
            return Err(AppError::Busy {
                message: format!(
                    "the server is following {} live event streams, as many as it may; \
                     try again in a moment",
                    open.total
                ),
                retry_after: RETRY_STREAM,
            });
        }
        *open.by_holder.entry(holder.clone()).or_default() += 1;
        open.total += 1;
        Ok(StreamSlot {
            streams: Arc::clone(streams),
            holder,
        })
    }

    /// Streams open now: in all, and held by the holder of `slot`.
    #[cfg(test)]
    fn counts(&self, holder: &Holder) -> (usize, usize) {
        let open = self.open.lock().expect("stream slots lock");
        (open.total, open.by_holder.get(holder).copied().unwrap_or(0))
    }
}

/// A live event stream's place among the open ones; dropping it (when the
/// stream ends or its client goes away) gives the place back.
#[derive(Debug)]
pub struct StreamSlot {
    streams: Arc<Streams>,
    holder: Holder,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().expect("stream slots lock");
        open.total -= 1;
        if let Some(held) = open.by_holder.get_mut(&self.holder) {
            *held -= 1;
            if *held == 0 {
                open.by_holder.remove(&self.holder);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams(per_client: u32, total: u32) -> Arc<Streams> {
        Arc::new(Streams::new(&crate::config::LimitsConfig {
            event_streams_per_client: per_client,
            event_streams: total,
            ..crate::config::LimitsConfig::default()
        }))
    }

    fn address(text: &str) -> Holder {
        Holder::Address(network_of(text.parse().unwrap()))
    }

    #[test]
    fn a_client_holds_at_most_its_share_of_streams_and_gets_them_back() {
        let streams = streams(2, 10);
        let a = address("192.0.2.1");
        let first = Streams::take(&streams, a.clone()).unwrap();
        let _second = Streams::take(&streams, a.clone()).unwrap();
        let refused = Streams::take(&streams, a.clone()).unwrap_err();
        assert!(
            matches!(refused, AppError::TooManyRequests { .. }),
            "{refused}"
        );
        // Another client is not held back by the first.
        let _other = Streams::take(&streams, address("192.0.2.2")).unwrap();
        drop(first);
        let _again = Streams::take(&streams, a.clone()).unwrap();
        assert_eq!(streams.counts(&a), (3, 2));
    }

    #[test]
    fn the_server_holds_at_most_its_total_and_closed_streams_free_their_slots() {
        let streams = streams(5, 3);
        let held: Vec<_> = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
            .into_iter()
            .map(|a| Streams::take(&streams, address(a)).unwrap())
            .collect();
        let refused = Streams::take(&streams, address("192.0.2.4")).unwrap_err();
        assert!(matches!(refused, AppError::Busy { .. }), "{refused}");
        drop(held);
        assert_eq!(streams.counts(&address("192.0.2.1")), (0, 0));
        assert!(streams.open.lock().unwrap().by_holder.is_empty());
        Streams::take(&streams, address("192.0.2.4")).unwrap();
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let streams = streams(1, 10);
        let _one = Streams::take(&streams, address("2001:db8:1:2::1")).unwrap();
        assert!(Streams::take(&streams, address("2001:db8:1:2:ffff::9")).is_err());
        assert!(Streams::take(&streams, address("2001:db8:1:3::1")).is_ok());
        // A v4-mapped address is the v4 client.
        let _v4 = Streams::take(&streams, address("192.0.2.9")).unwrap();
        assert!(Streams::take(&streams, address("::ffff:192.0.2.9")).is_err());
    }
}
