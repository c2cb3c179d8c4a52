//! The change log: one entry per change, keyed by a gap-free `seq`, written in the
//! same transaction as the change itself. Derived views (the search index, live
//! events, other nodes) follow it by `seq` and so never miss or repeat a change.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::ops::Bound;

use super::payloads::{Nothing, Payload};
use super::tables::CHANGES;
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::accounts::Actor;

/// What a change-log entry records. Its name ([`ChangeKind::as_str`]) is how
/// it is stored, shown in the audit log and named in live events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    StoreCreated,
    StoreMigrated,
    MovementBooked,
    LevelChanged,
    ProductCreated,
    ProductUpdated,
    ProductArchived,
    LocationCreated,
    LocationUpdated,
    UserCreated,
    UserUpdated,
    TokenCreated,
    TokenRevoked,
    TokenUsed,
    QuoteCreated,
    QuoteAccepted,
    QuoteFulfilled,
    QuoteCancelled,
    QuoteExpired,
    QuoteRelinked,
    QuoteRepriced,
    QuoteUpdated,
    AuthSetup,
    AuthLogin,
    AuthLoginFailed,
    AuthLogout,
    BackupCreated,
    ImportDone,
    WebhookCreated,
    WebhookUpdated,
    WebhookDeleted,
    WebhookReplayed,
    DeliveryZoneCreated,
    DeliveryZoneUpdated,
    DeliveryZoneDeleted,
    PriceListCreated,
    PriceListUpdated,
    PriceListDeleted,
    CustomerCreated,
    CustomerUpdated,
    ContactInvited,
    ContactInviteWithdrawn,
    ContactJoined,
    ContactUpdated,
    QuoteDelivered,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 45] = [
        ChangeKind::StoreCreated,
        ChangeKind::StoreMigrated,
        ChangeKind::MovementBooked,
        ChangeKind::LevelChanged,
        ChangeKind::ProductCreated,
        ChangeKind::ProductUpdated,
        ChangeKind::ProductArchived,
        ChangeKind::LocationCreated,
        ChangeKind::LocationUpdated,
        ChangeKind::UserCreated,
        ChangeKind::UserUpdated,
        ChangeKind::TokenCreated,
        ChangeKind::TokenRevoked,
        ChangeKind::TokenUsed,
        ChangeKind::QuoteCreated,
        ChangeKind::QuoteAccepted,
        ChangeKind::QuoteFulfilled,
        ChangeKind::QuoteCancelled,
        ChangeKind::QuoteExpired,
        ChangeKind::QuoteRelinked,
        ChangeKind::QuoteRepriced,
        ChangeKind::QuoteUpdated,
        ChangeKind::AuthSetup,
        ChangeKind::AuthLogin,
        ChangeKind::AuthLoginFailed,
        ChangeKind::AuthLogout,
        ChangeKind::BackupCreated,
        ChangeKind::ImportDone,
        ChangeKind::WebhookCreated,
        ChangeKind::WebhookUpdated,
        ChangeKind::WebhookDeleted,
        ChangeKind::WebhookReplayed,
        ChangeKind::DeliveryZoneCreated,
        ChangeKind::DeliveryZoneUpdated,
        ChangeKind::DeliveryZoneDeleted,
        ChangeKind::PriceListCreated,
        ChangeKind::PriceListUpdated,
        ChangeKind::PriceListDeleted,
        ChangeKind::CustomerCreated,
        ChangeKind::CustomerUpdated,
        ChangeKind::ContactInvited,
        ChangeKind::ContactInviteWithdrawn,
        ChangeKind::ContactJoined,
        ChangeKind::ContactUpdated,
        ChangeKind::QuoteDelivered,
    ];

    /// The kind's name: `family.what`, as stored and as events are named.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::StoreCreated => "store.created",
            ChangeKind::StoreMigrated => "store.migrated",
            ChangeKind::MovementBooked => "movement.booked",
            ChangeKind::LevelChanged => "level.changed",
            ChangeKind::ProductCreated => "product.created",
            ChangeKind::ProductUpdated => "product.updated",
            ChangeKind::ProductArchived => "product.archived",
            ChangeKind::LocationCreated => "location.created",
            ChangeKind::LocationUpdated => "location.updated",
            ChangeKind::UserCreated => "user.created",
            ChangeKind::UserUpdated => "user.updated",
            ChangeKind::TokenCreated => "token.created",
            ChangeKind::TokenRevoked => "token.revoked",
            ChangeKind::TokenUsed => "token.used",
            ChangeKind::QuoteCreated => "quote.created",
            ChangeKind::QuoteAccepted => "quote.accepted",
            ChangeKind::QuoteFulfilled => "quote.fulfilled",
            ChangeKind::QuoteCancelled => "quote.cancelled",
            ChangeKind::QuoteExpired => "quote.expired",
            ChangeKind::QuoteRelinked => "quote.relinked",
            ChangeKind::QuoteRepriced => "quote.repriced",
            ChangeKind::QuoteUpdated => "quote.updated",
            ChangeKind::AuthSetup => "auth.setup",
            ChangeKind::AuthLogin => "auth.login",
            ChangeKind::AuthLoginFailed => "auth.login_failed",
            ChangeKind::AuthLogout => "auth.logout",
            ChangeKind::BackupCreated => "backup.created",
            ChangeKind::ImportDone => "import.done",
            ChangeKind::WebhookCreated => "webhook.created",
            ChangeKind::WebhookUpdated => "webhook.updated",
            ChangeKind::WebhookDeleted => "webhook.deleted",
            ChangeKind::WebhookReplayed => "webhook.replayed",
            ChangeKind::DeliveryZoneCreated => "delivery_zone.created",
            ChangeKind::DeliveryZoneUpdated => "delivery_zone.updated",
            ChangeKind::DeliveryZoneDeleted => "delivery_zone.deleted",
            ChangeKind::PriceListCreated => "price_list.created",
            ChangeKind::PriceListUpdated => "price_list.updated",
            ChangeKind::PriceListDeleted => "price_list.deleted",
            ChangeKind::CustomerCreated => "customer.created",
            ChangeKind::CustomerUpdated => "customer.updated",
            ChangeKind::ContactInvited => "contact.invited",
            ChangeKind::ContactInviteWithdrawn => "contact.invite_withdrawn",
            ChangeKind::ContactJoined => "contact.joined",
            ChangeKind::ContactUpdated => "contact.updated",
            ChangeKind::QuoteDelivered => "quote.delivered",
        }
    }

    /// The family a kind belongs to: `product` for `product.created`.
    pub fn family(self) -> &'static str {
        self.as_str().split('.').next().unwrap_or_default()
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ChangeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChangeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a kind of change"))
    }
}

impl Serialize for ChangeKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChangeKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    pub at: Timestamp,
    pub kind: ChangeKind,
    /// The key of what changed: a SKU, a location code, a username…
    pub key: String,
    pub actor: Actor,
    /// The address of the client whose request made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Facts a follower needs that the current state may no longer hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl ChangeKind {
    /// Whether the entry belongs in the audit log (state changes and
    /// sign-ins; not bookkeeping like a token's last use or the level changes
    /// that each movement's own entry already records).
    pub fn audited(self) -> bool {
        !matches!(
            self,
            ChangeKind::TokenUsed
                | ChangeKind::LevelChanged
                | ChangeKind::StoreCreated
                | ChangeKind::StoreMigrated
        )
    }
}

/// A [`Change`] as written, with its data in any serializable form.
#[derive(Serialize)]
struct ChangeOut<'a, D: Serialize> {
    seq: u64,
    at: Timestamp,
    kind: ChangeKind,
    key: &'a str,
    actor: &'a Actor,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a D>,
}

impl Change {
    /// The entry's data, read through its kind's payload type: an entry of
    /// another kind, or data that does not fit, is an error, never a default.
    pub fn payload<P: Payload>(&self) -> Result<P, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            table: "changes",
            key: self.seq.to_string(),
            reason,
        };
        if !P::KINDS.contains(&self.kind) {
            return Err(corrupt(format!(
                "a {} entry does not carry {}",
                self.kind,
                std::any::type_name::<P>()
            )));
        }
        let empty = serde_json::Value::Object(serde_json::Map::new());
        P::deserialize(self.data.as_ref().unwrap_or(&empty))
            .map_err(|e| corrupt(format!("{} data: {e}", self.kind)))
    }
}

impl WriteTx {
    /// Appends an entry of `kind` for `key` with its payload, and returns its
    /// `seq` (the next one). `payload` must be the type `kind` carries.
    pub fn record<P: Payload>(
        &mut self,
        kind: ChangeKind,
        key: &str,
        actor: &Actor,
        payload: &P,
    ) -> Result<u64, StoreError> {
        if !P::KINDS.contains(&kind) {
            return Err(StoreError::Bug(
                "a change recorded with another kind's payload",
            ));
        }
        let seq = self.last_seq + 1;
        let change = ChangeOut {
            seq,
            at: Timestamp::now(),
            kind,
            key,
            actor,
            ip: self.ip.as_deref(),
            data: (!P::EMPTY).then_some(payload),
        };
        self.writes += 1;
        self.changes += 1;
        let bytes = serde_json::to_vec(&change).expect("a change serializes");
        self.table(CHANGES)?.insert(seq, bytes.as_slice())?;
        self.last_seq = seq;
        Ok(seq)
    }

    /// [`WriteTx::record`] for a kind whose key says it all (sign-ins, a
    /// token's use).
    pub fn note(&mut self, kind: ChangeKind, key: &str, actor: &Actor) -> Result<u64, StoreError> {
        self.record(kind, key, actor, &Nothing {})
    }
}

impl ReadTx {
    /// Audited entries, newest first, below `before` and not older than
    /// `from`, that `wants` keeps; reads at most 10,000 entries per call.
    pub fn audit_page(
        &self,
        before: Option<u64>,
        from: Option<Timestamp>,
        limit: usize,
        mut wants: impl FnMut(&Change) -> bool,
    ) -> Result<super::Page<Change, u64>, StoreError> {
        let table = self.table(CHANGES)?;
        let high = before.map_or(Bound::Unbounded, Bound::Excluded);
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (scanned, entry) in table.range(Bound::Unbounded, high, true)?.enumerate() {
            let (seq, bytes) = entry?;
            if items.len() == limit || scanned == 10_000 {
                more = true;
                break;
            }
            let change: Change = decode("changes", &seq.to_string(), &bytes)?;
            if from.is_some_and(|from| change.at < from) {
                break;
            }
            last = Some(change.seq);
            if change.kind.audited() && wants(&change) {
                items.push(change);
            }
        }
        Ok(super::Page {
            items,
            next: if more { last } else { None },
        })
    }

    /// Up to `limit` entries after `after`, in order.
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        let table = self.table(CHANGES)?;
        let mut out = Vec::new();
        for entry in table.from(after.saturating_add(1))?.take(limit) {
            let (seq, bytes) = entry?;
            out.push(decode("changes", &seq.to_string(), &bytes)?);
        }
        Ok(out)
    }

    /// Walks the whole log and returns the first place where `seq` is not the
    /// previous one plus one, or where a key and its entry disagree.
    pub fn find_change_log_gap(&self) -> Result<Option<String>, StoreError> {
        let table = self.table(CHANGES)?;
        for (expected, entry) in (1..).zip(table.all()?) {
            let (seq, bytes) = entry?;
            if seq != expected {
                return Ok(Some(format!("expected seq {expected}, found {seq}")));
            }
            let change: Change = decode("changes", &seq.to_string(), &bytes)?;
            if change.seq != seq {
                return Ok(Some(format!(
                    "entry at seq {seq} says it is seq {}",
                    change.seq
                )));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_stored_under_its_name_and_read_back() {
        let mut names = std::collections::BTreeSet::new();
        for kind in ChangeKind::ALL {
            let stored = serde_json::to_string(&kind).unwrap();
            assert_eq!(stored, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ChangeKind>(&stored).unwrap(), kind);
            assert_eq!(kind.as_str().parse::<ChangeKind>().unwrap(), kind);
            let (family, what) = kind.as_str().split_once('.').expect("family.what");
            assert_eq!(kind.family(), family);
            assert!(!what.is_empty() && !what.contains('.'), "{kind}");
            assert!(names.insert(kind.as_str()), "{kind} named twice");
        }
        assert!(serde_json::from_str::<ChangeKind>("\"product.deleted\"").is_err());
    }
}
