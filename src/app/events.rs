//! Live events: the change log as the caller may see it. A stream reads the log
//! from its own position in batches, so a slow client costs only its own
//! progress: there is no shared buffer to overflow and the writer never waits.
//! A stream holds at most [`BATCH`] events and [`BATCH_BYTES`] of their data,
//! and takes one of a bounded number of slots (`limits.event_streams`, and
//! `limits.event_streams_per_client` per client) for as long as it lives.

use std::net::IpAddr;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::slots::{Holder, Slot};
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
    Ok(Some((AVAILABILITY_CHANGED, availability(&level, mode))))
}

/// What customers may know of a level change: the product's availability,
/// and with `exact` its quantity (never below zero).
pub fn availability(level: &payloads::LevelChanged, mode: PublicAvailability) -> Value {
    let mut out = json!({
        "sku": level.sku,
        "availability": level.product_availability,
    });
    if mode == PublicAvailability::Exact {
        let available = level.product_available.max(Decimal::ZERO);
        out["available"] = json!(available.to_string());
    }
    out
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
    ) -> Result<Slot, AppError> {
        self.inner.streams.take(Holder::of(caller, address))
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
