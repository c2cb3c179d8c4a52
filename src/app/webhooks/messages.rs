//! The messages an endpoint gets, made from the change log: which events a
//! change makes, and each event's body (the resource as the API shows it to
//! staff; to endpoints not marked trusted, without staff-only fields).

use serde_json::{Value, json};

use crate::app::AppError;
use crate::app::quotes::QuoteView;
use crate::config::PublicAvailability;
use crate::domain::catalogue::PublicProduct;
use crate::domain::quotes::QuoteNumber;
use crate::domain::webhooks::{self, Webhook};
use crate::store::{Change, ChangeKind, ReadTx, payloads};

/// Most change-log entries one look at the log reads.
const CHANGES_PER_READ: usize = 256;
/// A batch of messages ends at the first change after this many.
pub const MESSAGES_PER_BATCH: usize = 16;

/// One message for one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The `webhook-id`: the change's `seq`, and for an event derived from
    /// another change's (`stock.low`, `availability.changed`) the `seq` and
    /// the event's name, so that a receiver de-duplicates by it.
    pub id: String,
    pub seq: u64,
    pub event: &'static str,
    /// The JSON body, as sent and signed.
    pub body: Vec<u8>,
    /// The last message of its change: delivered, the cursor moves past it.
    pub ends_change: bool,
}

/// The events a change makes, in the order they are sent.
fn events_of(change: &Change) -> Result<Vec<&'static str>, AppError> {
    Ok(match change.kind {
        ChangeKind::LevelChanged => {
            let level = change.payload::<payloads::LevelChanged>()?;
            let mut events = vec!["level.changed"];
            if level.became_low {
                events.push("stock.low");
            }
            events.push(crate::app::events::AVAILABILITY_CHANGED);
            events
        }
        kind => {
            let name = kind.as_str();
            if webhooks::EVENTS.iter().any(|(event, _)| *event == name) {
                vec![name]
            } else {
                Vec::new()
            }
        }
    })
}

/// The data of `quote.delivered`: the quote as it is now, its status after
/// the delivery, and the delivery (untrusted endpoints get neither the
/// quote's contact nor the driver or who booked it).
fn delivered_data(tx: &ReadTx, change: &Change, trusted: bool) -> Result<Value, AppError> {
    let delivered = change.payload::<payloads::QuoteDelivered>()?;
    let number = QuoteNumber::parse(&change.key).ok();
    let quote = match &number {
        Some(number) => tx.quote(number)?,
        None => None,
    };
    let delivery = match &number {
        Some(number) => tx.delivery(number, delivered.delivery)?,
        None => None,
    };
    let mut data = match quote {
        Some(quote) => {
            let mut data =
                serde_json::to_value(QuoteView::of(&quote, trusted)).expect("serializes");
            if !trusted {
                strip(&mut data, &["contact", "note", "created_by"]);
            }
            data
        }
        None => json!({ "number": change.key }),
    };
    data["status"] = json!(delivered.status);
    data["delivery"] = match delivery {
        Some(delivery) => {
            let mut value = serde_json::to_value(delivery).expect("serializes");
            if !trusted {
                strip(&mut value, &["created_by", "driver", "note"]);
            }
            value
        }
        None => json!({ "number": delivered.delivery }),
    };
    Ok(data)
}

/// Removes the fields only trusted endpoints get.
fn strip(value: &mut Value, fields: &[&str]) {
    if let Value::Object(map) = value {
        for field in fields {
            map.remove(*field);
        }
    }
}

/// The data of event `event` of `change`, or `None` when there is nothing to
/// tell (an availability change of an archived product, or availability
/// hidden from customers).
fn data_of(
    tx: &ReadTx,
    change: &Change,
    event: &str,
    trusted: bool,
    mode: PublicAvailability,
) -> Result<Option<Value>, AppError> {
    let data = match change.kind {
        ChangeKind::MovementBooked => {
            let booked = change.payload::<payloads::MovementBooked>()?;
            let Some(movement) = tx.movement(booked.id)? else {
                return Ok(None);
            };
            let mut data = serde_json::to_value(movement).expect("serializes");
            if !trusted {
                strip(&mut data, &["actor", "note"]);
            }
            data
        }
        ChangeKind::LevelChanged => {
            let level = change.payload::<payloads::LevelChanged>()?;
            let product = tx.product(&level.sku)?;
            if event == crate::app::events::AVAILABILITY_CHANGED {
                if mode == PublicAvailability::Hidden || !product.as_ref().is_some_and(|p| p.active)
                {
                    return Ok(None);
                }
                crate::app::events::availability(&level, mode)
            } else {
                let mut out = serde_json::to_value(&level).expect("serializes");
                strip(&mut out, &["became_low"]);
                if let Some(product) = product {
                    out["name"] = json!(product.name);
                    out["unit"] = json!(product.unit);
                    if let Some(point) = product.reorder_point_at(&level.location) {
                        out["reorder_point"] = json!(point.value().to_string());
                    }
                }
                out
            }
        }
        ChangeKind::ProductCreated | ChangeKind::ProductUpdated | ChangeKind::ProductArchived => {
            let changed = change.payload::<payloads::ProductChanged>()?;
            let sku = crate::domain::values::Sku::parse(&change.key)
                .map_err(|e| AppError::Internal(format!("a logged SKU: {e}")))?;
            match tx.product(&sku)? {
                Some(product) if trusted => serde_json::to_value(product).expect("serializes"),
                Some(product) => {
                    serde_json::to_value(PublicProduct::from(&product)).expect("serializes")
                }
                None => json!({ "sku": change.key, "version": changed.version }),
            }
        }
        ChangeKind::LocationCreated | ChangeKind::LocationUpdated => {
            let code = crate::domain::locations::LocationCode::parse(&change.key)
                .map_err(|e| AppError::Internal(format!("a logged location code: {e}")))?;
            match tx.location(&code)? {
                Some(location) => serde_json::to_value(location).expect("serializes"),
                None => json!({ "code": change.key }),
            }
        }
        ChangeKind::QuoteCreated
        | ChangeKind::QuoteAccepted
        | ChangeKind::QuoteFulfilled
        | ChangeKind::QuoteCancelled
        | ChangeKind::QuoteExpired
        | ChangeKind::QuoteUpdated => {
            let changed = change.payload::<payloads::QuoteChanged>()?;
            let quote = match QuoteNumber::parse(&change.key) {
                Ok(number) => tx.quote(&number)?,
                Err(_) => None,
            };
            match quote {
                Some(quote) => {
                    let mut data =
                        serde_json::to_value(QuoteView::of(&quote, trusted)).expect("serializes");
                    // The status the event is about (the quote may have moved on).
                    data["status"] = json!(changed.status);
                    if !trusted {
                        strip(&mut data, &["contact", "note", "created_by"]);
                    }
                    data
                }
                None => json!({ "number": change.key, "status": changed.status }),
            }
        }
        ChangeKind::QuoteDelivered => delivered_data(tx, change, trusted)?,
        ChangeKind::BackupCreated => {
            serde_json::to_value(change.payload::<payloads::BackupCreated>()?).expect("serializes")
        }
        ChangeKind::ImportDone => {
            serde_json::to_value(change.payload::<payloads::ImportDone>()?).expect("serializes")
        }
        _ => return Ok(None),
    };
    Ok(Some(data))
}

/// The body of a message: the Standard Webhooks shape (`type`, `timestamp`,
/// `data`) and the change's `seq`.
pub fn body(event: &str, seq: u64, at: jiff::Timestamp, data: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": event,
        "seq": seq,
        "timestamp": at,
        "data": data,
    }))
    .expect("serializes")
}

/// The messages for `hook` after change `after`: about
/// [`MESSAGES_PER_BATCH`], whole changes at a time, and the `seq` of the last
/// change looked at (it moves on over changes the endpoint does not want).
pub fn after(
    tx: &ReadTx,
    hook: &Webhook,
    after: u64,
    mode: PublicAvailability,
) -> Result<(Vec<Message>, u64), AppError> {
    let mut messages = Vec::new();
    let mut last = after;
    for change in tx.changes_after(after, CHANGES_PER_READ)? {
        if messages.len() >= MESSAGES_PER_BATCH {
            break;
        }
        last = change.seq;
        let mut of_change = Vec::new();
        for event in events_of(&change)? {
            if !webhooks::wants(&hook.events, event) {
                continue;
            }
            let Some(data) = data_of(tx, &change, event, hook.trusted, mode)? else {
                continue;
            };
            let id = if event == change.kind.as_str() {
                change.seq.to_string()
            } else {
                format!("{}.{event}", change.seq)
            };
            of_change.push(Message {
                id,
                seq: change.seq,
                event,
                body: body(event, change.seq, change.at, &data),
                ends_change: false,
            });
        }
        if let Some(message) = of_change.last_mut() {
            message.ends_change = true;
        }
        messages.extend(of_change);
    }
    Ok((messages, last))
}
