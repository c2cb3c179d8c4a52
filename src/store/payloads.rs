//! What each kind of change-log entry records: one type per kind, written by
//! the use case that makes the change ([`crate::store::WriteTx::record`]) and
//! read back through the same type by whoever follows the log — the search
//! index, live events, and later webhooks and other nodes
//! ([`crate::store::Change::payload`]).
//!
//! These are stored records: a field may be added (with a default), never
//! renamed or removed. `tests/fixtures/change-log-*.jsonl` keeps entries as
//! earlier versions of Quarry wrote them, and a test reads every one back.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ChangeKind;
use crate::domain::accounts::{Role, Scope, Username};
use crate::domain::ledger::{Availability, MovementKind};
use crate::domain::locations::LocationCode;
use crate::domain::quotes::QuoteStatus;
use crate::domain::values::Sku;

/// The data an entry of some kinds of change carries.
pub trait Payload: Serialize + DeserializeOwned {
    /// The kinds of change that carry this payload (each kind carries one).
    const KINDS: &'static [ChangeKind];
    /// Whether the payload is written as no data at all.
    const EMPTY: bool = false;
}

macro_rules! payload {
    ($name:ident: $($kind:ident),+) => {
        impl Payload for $name {
            const KINDS: &'static [ChangeKind] = &[$(ChangeKind::$kind),+];
        }
    };
}

/// Nothing beyond the entry's key, kind and actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nothing {}

impl Payload for Nothing {
    const KINDS: &'static [ChangeKind] = &[
        ChangeKind::StoreCreated,
        ChangeKind::TokenUsed,
        ChangeKind::AuthSetup,
        ChangeKind::AuthLogin,
        ChangeKind::AuthLoginFailed,
        ChangeKind::AuthLogout,
    ];
    const EMPTY: bool = true;
}

/// `movement.booked` (key: the movement's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovementBooked {
    pub id: u64,
    pub kind: MovementKind,
}
payload!(MovementBooked: MovementBooked);

/// `level.changed` (key: `SKU@LOCATION`): the level after the change, and
/// the product's total over every location, for public availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChanged {
    pub sku: Sku,
    pub location: LocationCode,
    #[serde(with = "rust_decimal::serde::str")]
    pub on_hand: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub reserved: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub available: Decimal,
    /// Below the location's reorder point.
    pub low: bool,
    /// This change took it below the reorder point (it was not before): the
    /// `stock.low` webhook event.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub became_low: bool,
    #[serde(with = "rust_decimal::serde::str")]
    pub product_available: Decimal,
    pub product_availability: Availability,
}
payload!(LevelChanged: LevelChanged);

/// One field a change changed, with its value before and after as the API
/// writes it (`null` for a field unset), for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

impl FieldChange {
    /// The top-level fields whose values differ between `before` and
    /// `after` (two records of one type), leaving out `skip` (versions and
    /// times, which every change moves). Lists of objects with an `id` (a
    /// product's photos) are compared and kept as their ids.
    pub fn between<T: Serialize>(before: &T, after: &T, skip: &[&str]) -> Vec<FieldChange> {
        let as_map = |record: &T| match serde_json::to_value(record) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let (before, after) = (as_map(before), as_map(after));
        let null = serde_json::Value::Null;
        let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
        fields.sort();
        fields.dedup();
        fields
            .into_iter()
            .filter(|field| !skip.contains(&field.as_str()))
            .filter_map(|field| {
                let shown = |map: &serde_json::Map<String, serde_json::Value>| {
                    ids(map.get(field).unwrap_or(&null))
                };
                let (was, now) = (shown(&before), shown(&after));
                (was != now).then(|| FieldChange {
                    field: field.clone(),
                    before: was,
                    after: now,
                })
            })
            .collect()
    }
}

/// A list of objects with ids as the list of ids; anything else as it is.
fn ids(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Array(items)
            if !items.is_empty() && items.iter().all(|i| i.get("id").is_some()) =>
        {
            serde_json::Value::Array(items.iter().map(|i| i["id"].clone()).collect())
        }
        other => other.clone(),
    }
}

/// `product.created`, `product.updated`, `product.archived` (key: the SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductChanged {
    pub version: u64,
    pub active: bool,
    /// What an update or an archiving changed (empty when created).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}
payload!(ProductChanged: ProductCreated, ProductUpdated, ProductArchived);

/// `location.created`, `location.updated` (key: the code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationChanged {
    pub version: u64,
    /// What an update changed (empty when created).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}
payload!(LocationChanged: LocationCreated, LocationUpdated);

/// `quote.*` (key: the quote's number): the status it moved to (its status
/// when `quote.relinked`: staff issued a new customer link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteChanged {
    pub status: QuoteStatus,
}
payload!(
    QuoteChanged: QuoteCreated,
    QuoteAccepted,
    QuoteFulfilled,
    QuoteCancelled,
    QuoteExpired,
    QuoteRelinked,
    QuoteRepriced,
    QuoteUpdated
);

/// `delivery_zone.*` (key: the zone's code): its version (0 once deleted)
/// and what an update changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryZoneChanged {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}
payload!(
    DeliveryZoneChanged: DeliveryZoneCreated,
    DeliveryZoneUpdated,
    DeliveryZoneDeleted
);

/// `price_list.*` (key: the list's code) and `customer.*` (key: the
/// customer's code): the version (0 once deleted) and what an update
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeChanged {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}
payload!(
    TradeChanged: PriceListCreated,
    PriceListUpdated,
    PriceListDeleted,
    CustomerCreated,
    CustomerUpdated
);

/// `quote.delivered` (key: the quote's number): which delivery, and the
/// quote's status after it (`fulfilled` when nothing is left to deliver).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteDelivered {
    pub delivery: u32,
    pub status: QuoteStatus,
}
payload!(QuoteDelivered: QuoteDelivered);

/// `contact.invited`, `contact.invite_withdrawn`, `contact.joined` and
/// `contact.updated` (key: the customer's code): whose login, and for an
/// update the fields changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactChanged {
    pub login: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}
payload!(
    ContactChanged: ContactInvited,
    ContactInviteWithdrawn,
    ContactJoined,
    ContactUpdated
);

/// `user.created` (key: the username).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub role: Role,
}
payload!(UserCreated: UserCreated);

/// `user.updated` (key: the username): what changed, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub change: String,
}
payload!(UserUpdated: UserUpdated);

/// `token.created` (key: the token's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub role: Role,
    #[serde(default)]
    pub scopes: Vec<Scope>,
    pub expires_at: Option<Timestamp>,
    pub user: Option<Username>,
}
payload!(TokenCreated: TokenCreated);

/// `token.revoked` (key: the token's name): why, when it was not asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRevoked {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}
payload!(TokenRevoked: TokenRevoked);

/// `import.done` (key: what was imported: products, stock, movements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDone {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub movements: u64,
    pub rejected: u64,
}
payload!(ImportDone: ImportDone);

/// `backup.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCreated {
    pub file: String,
    pub last_seq: u64,
    pub size: u64,
}
payload!(BackupCreated: BackupCreated);

/// `webhook.created`, `webhook.updated`, `webhook.deleted`,
/// `webhook.replayed` (key: the endpoint's id): where it sends, whether it
/// is on, and for a replay the `seq` delivery starts again after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookChanged {
    pub url: String,
    pub enabled: bool,
    /// The signing secret was replaced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<u64>,
}
payload!(
    WebhookChanged: WebhookCreated,
    WebhookUpdated,
    WebhookDeleted,
    WebhookReplayed
);

/// `store.migrated`: the schema versions before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreMigrated {
    pub from: u64,
    pub to: u64,
}
payload!(StoreMigrated: StoreMigrated);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Change;

    /// Every payload type's kinds, for the checks below.
    const ALL: [&[ChangeKind]; 18] = [
        Nothing::KINDS,
        MovementBooked::KINDS,
        LevelChanged::KINDS,
        ProductChanged::KINDS,
        LocationChanged::KINDS,
        QuoteChanged::KINDS,
        UserCreated::KINDS,
        UserUpdated::KINDS,
        TokenCreated::KINDS,
        TokenRevoked::KINDS,
        ImportDone::KINDS,
        BackupCreated::KINDS,
        StoreMigrated::KINDS,
        WebhookChanged::KINDS,
        DeliveryZoneChanged::KINDS,
        TradeChanged::KINDS,
        ContactChanged::KINDS,
        QuoteDelivered::KINDS,
    ];

    #[test]
    fn every_kind_of_change_has_exactly_one_payload_type() {
        for kind in ChangeKind::ALL {
            let types = ALL.iter().filter(|kinds| kinds.contains(&kind)).count();
            assert_eq!(types, 1, "{kind:?} is carried by {types} payload types");
        }
    }

    /// Reads `change` through its kind's payload type, as a follower would.
    fn read(change: &Change) -> Result<(), String> {
        fn each<P: Payload + std::fmt::Debug>(change: &Change) -> Option<Result<(), String>> {
            P::KINDS
                .contains(&change.kind)
                .then(|| change.payload::<P>().map(drop).map_err(|e| e.to_string()))
        }
        each::<Nothing>(change)
            .or_else(|| each::<MovementBooked>(change))
            .or_else(|| each::<LevelChanged>(change))
            .or_else(|| each::<ProductChanged>(change))
            .or_else(|| each::<LocationChanged>(change))
            .or_else(|| each::<QuoteChanged>(change))
            .or_else(|| each::<UserCreated>(change))
            .or_else(|| each::<UserUpdated>(change))
            .or_else(|| each::<TokenCreated>(change))
            .or_else(|| each::<TokenRevoked>(change))
            .or_else(|| each::<ImportDone>(change))
            .or_else(|| each::<BackupCreated>(change))
            .or_else(|| each::<StoreMigrated>(change))
            .or_else(|| each::<WebhookChanged>(change))
            .or_else(|| each::<DeliveryZoneChanged>(change))
            .or_else(|| each::<TradeChanged>(change))
            .or_else(|| each::<ContactChanged>(change))
            .or_else(|| each::<QuoteDelivered>(change))
            .unwrap_or_else(|| Err(format!("no payload type for {:?}", change.kind)))
    }

    /// Entries as earlier versions of Quarry wrote them still read, every
    /// one through its payload type; a renamed or retyped field fails here.
    #[test]
    fn change_log_entries_written_by_earlier_versions_still_read() {
        let fixtures = [
            include_str!("../../tests/fixtures/change-log-2026-12.jsonl"),
            include_str!("../../tests/fixtures/change-log-2026-12-webhooks.jsonl"),
            include_str!("../../tests/fixtures/change-log-2026-12-quotes.jsonl"),
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for (i, line) in fixtures.iter().flat_map(|f| f.lines()).enumerate() {
            let change: Change = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("fixture line {}: {e}: {line}", i + 1));
            read(&change).unwrap_or_else(|e| panic!("fixture line {}: {e}: {line}", i + 1));
            kinds.insert(change.kind.as_str());
        }
        let all: std::collections::BTreeSet<_> =
            ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, all, "the fixtures hold every kind of change");
        // What the index and the live events rely on, read as they read it.
        let level: Change = serde_json::from_str(
            fixtures[0]
                .lines()
                .find(|l| l.contains("\"level.changed\""))
                .unwrap(),
        )
        .unwrap();
        let level = level.payload::<LevelChanged>().unwrap();
        assert_eq!(level.sku.as_str(), "SAND-04");
        assert_eq!(level.product_available, Decimal::from(10));
        assert_eq!(level.product_availability, Availability::InStock);
    }

    #[test]
    fn a_payload_read_as_another_kinds_type_is_refused() {
        let line = include_str!("../../tests/fixtures/change-log-2026-12.jsonl")
            .lines()
            .find(|l| l.contains("\"product.created\""))
            .unwrap();
        let change: Change = serde_json::from_str(line).unwrap();
        assert!(change.payload::<ProductChanged>().is_ok());
        assert!(change.payload::<LevelChanged>().is_err());
    }
}
