//! The change log: one entry per change, keyed by a gap-free `seq`, written in the
//! same transaction as the change itself. Derived views (the search index, live
//! events, other nodes) follow it by `seq` and so never miss or repeat a change.

use jiff::Timestamp;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::tables::CHANGES;
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::accounts::Actor;

/// What a change-log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    #[serde(rename = "store.created")]
    StoreCreated,
    #[serde(rename = "store.migrated")]
    StoreMigrated,
    #[serde(rename = "movement.booked")]
    MovementBooked,
    #[serde(rename = "level.changed")]
    LevelChanged,
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.archived")]
    ProductArchived,
    #[serde(rename = "location.created")]
    LocationCreated,
    #[serde(rename = "location.updated")]
    LocationUpdated,
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "token.created")]
    TokenCreated,
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    #[serde(rename = "token.used")]
    TokenUsed,
    #[serde(rename = "quote.created")]
    QuoteCreated,
    #[serde(rename = "quote.accepted")]
    QuoteAccepted,
    #[serde(rename = "quote.fulfilled")]
    QuoteFulfilled,
    #[serde(rename = "quote.cancelled")]
    QuoteCancelled,
    #[serde(rename = "quote.expired")]
    QuoteExpired,
    #[serde(rename = "auth.setup")]
    AuthSetup,
    #[serde(rename = "auth.login")]
    AuthLogin,
    #[serde(rename = "auth.login_failed")]
    AuthLoginFailed,
    #[serde(rename = "auth.logout")]
    AuthLogout,
    #[serde(rename = "backup.created")]
    BackupCreated,
    #[serde(rename = "import.done")]
    ImportDone,
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

impl WriteTx {
    /// Appends an entry with the next `seq` and returns that `seq`.
    #[allow(clippy::needless_pass_by_value)] // callers build the value inline
    pub fn append_change(
        &mut self,
        kind: ChangeKind,
        key: &str,
        actor: &Actor,
        data: Option<serde_json::Value>,
    ) -> Result<u64, StoreError> {
        self.append_change_with(kind, key, actor, data.as_ref())
    }

    /// [`WriteTx::append_change`] with typed data (no intermediate JSON value).
    pub fn append_change_with<D: Serialize>(
        &mut self,
        kind: ChangeKind,
        key: &str,
        actor: &Actor,
        data: Option<&D>,
    ) -> Result<u64, StoreError> {
        let seq = self.last_seq + 1;
        let change = ChangeOut {
            seq,
            at: Timestamp::now(),
            kind,
            key,
            actor,
            ip: self.ip.as_deref(),
            data,
        };
        self.writes += 1;
        self.changes += 1;
        let bytes = serde_json::to_vec(&change).expect("a change serializes");
        self.table(CHANGES)?.insert(seq, bytes.as_slice())?;
        self.last_seq = seq;
        Ok(seq)
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
        let range = match before {
            Some(seq) => table.range(..seq)?,
            None => table.iter()?,
        };
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (scanned, entry) in range.rev().enumerate() {
            let (seq, bytes) = entry?;
            if items.len() == limit || scanned == 10_000 {
                more = true;
                break;
            }
            let change: Change = decode("changes", &seq.value().to_string(), bytes.value())?;
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
        for entry in table.range(after.saturating_add(1)..)?.take(limit) {
            let (seq, bytes) = entry?;
            out.push(decode("changes", &seq.value().to_string(), bytes.value())?);
        }
        Ok(out)
    }

    /// Walks the whole log and returns the first place where `seq` is not the
    /// previous one plus one, or where a key and its entry disagree.
    pub fn find_change_log_gap(&self) -> Result<Option<String>, StoreError> {
        let table = self.table(CHANGES)?;
        for (expected, entry) in (1..).zip(table.iter()?) {
            let (seq, bytes) = entry?;
            let seq = seq.value();
            if seq != expected {
                return Ok(Some(format!("expected seq {expected}, found {seq}")));
            }
            let change: Change = decode("changes", &seq.to_string(), bytes.value())?;
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
