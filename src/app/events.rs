//! Live events: the change log as the caller may see it. A stream reads the log
//! from its own position in batches, so a slow client costs only its own
//! progress: there is no shared buffer to overflow and the writer never waits.

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{App, AppError, Principal};
use crate::config::PublicAvailability;
use crate::domain::catalogue::Sku;
use crate::store::{Change, ChangeKind, ReadTx};

/// One event of the stream; its id is the change-log `seq`.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    pub seq: u64,
    pub name: &'static str,
    pub data: Value,
}

/// Most change-log entries read per batch.
pub const BATCH: usize = 256;

fn staff_event(tx: &ReadTx, change: &Change) -> Result<Option<LiveEvent>, AppError> {
    let (name, data) = match change.kind {
        ChangeKind::MovementBooked => {
            let id: u64 = change.key.parse().unwrap_or_default();
            match tx.movement(id)? {
                Some(movement) => (
                    "movement.booked",
                    serde_json::to_value(movement).expect("serializes"),
                ),
                None => return Ok(None),
            }
        }
        // With the product's totals over all locations (`product_available`,
        // `product_availability`), so a storefront open in a staff member's
        // browser updates its badges from the same stream.
        ChangeKind::LevelChanged => ("level.changed", change.data.clone().unwrap_or(Value::Null)),
        ChangeKind::ProductCreated => ("product.created", product_data(change)),
        ChangeKind::ProductUpdated => ("product.updated", product_data(change)),
        ChangeKind::ProductArchived => ("product.archived", product_data(change)),
        ChangeKind::LocationCreated => ("location.created", json!({ "code": change.key })),
        ChangeKind::LocationUpdated => ("location.updated", json!({ "code": change.key })),
        _ => return Ok(None),
    };
    Ok(Some(LiveEvent {
        seq: change.seq,
        name,
        data,
    }))
}

fn product_data(change: &Change) -> Value {
    let mut data = json!({ "sku": change.key });
    if let (Some(map), Some(Value::Object(extra))) = (data.as_object_mut(), &change.data) {
        map.extend(extra.clone());
    }
    data
}

fn public_event(
    tx: &ReadTx,
    change: &Change,
    mode: PublicAvailability,
) -> Result<Option<LiveEvent>, AppError> {
    if change.kind != ChangeKind::LevelChanged || mode == PublicAvailability::Hidden {
        return Ok(None);
    }
    let Some(data) = &change.data else {
        return Ok(None);
    };
    let Some(sku) = data["sku"].as_str().and_then(|s| Sku::parse(s).ok()) else {
        return Ok(None);
    };
    if !tx.product(&sku)?.is_some_and(|p| p.active) {
        return Ok(None);
    }
    let mut out = json!({
        "sku": sku,
        "availability": data["product_availability"],
    });
    if mode == PublicAvailability::Exact {
        let available: rust_decimal::Decimal = data["product_available"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        out["available"] = json!(available.max(rust_decimal::Decimal::ZERO).to_string());
    }
    Ok(Some(LiveEvent {
        seq: change.seq,
        name: "availability.changed",
        data: out,
    }))
}

impl App {
    /// The events after `after` that `caller` may see, at most one batch, and
    /// the last `seq` read (skipped entries included).
    pub async fn events_after(
        &self,
        caller: Option<&Principal>,
        after: u64,
    ) -> Result<(Vec<LiveEvent>, u64), AppError> {
        let staff = caller.is_some_and(Principal::reads);
        let mode = self.config().stock.public_availability;
        self.read(move |tx| {
            let changes = tx.changes_after(after, BATCH)?;
            let last = changes.last().map_or(after, |c| c.seq);
            let mut events = Vec::with_capacity(changes.len());
            for change in &changes {
                let event = if staff {
                    staff_event(tx, change)?
                } else {
                    public_event(tx, change, mode)?
                };
                events.extend(event);
            }
            Ok((events, last))
        })
        .await
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
