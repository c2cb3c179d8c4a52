//! The audit log: the change log read newest first, filtered by actor, kind,
//! key and time, for owners.

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::cursor::{self, Listing};
use crate::app::{App, AppError};
use crate::domain::accounts::Actor;
use crate::store::{Change, ChangeKind};

/// The filters of `GET /audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `user:NAME`, `token:NAME`, `cli`, `system` or `public`.
    pub actor: Option<String>,
    /// A change kind (`auth.login_failed`) or a family (`auth`, `product`).
    pub kind: Option<String>,
    /// The key of what changed: a SKU, a username, a quote number.
    pub key: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One entry of the audit log: who did what, when, from where.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `product.created`, `movement.booked`, `auth.login_failed`…
    #[schema(value_type = String)]
    pub kind: ChangeKind,
    pub key: String,
    #[schema(value_type = String)]
    pub actor: Actor,
    /// The client's address, for changes made over HTTP.
    pub ip: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

impl From<Change> for AuditEntry {
    fn from(c: Change) -> Self {
        Self {
            seq: c.seq,
            at: c.at,
            kind: c.kind,
            key: c.key,
            actor: c.actor,
            ip: c.ip,
            data: c.data,
        }
    }
}

impl App {
    /// The audit log, newest first.
    pub async fn audit(&self, filter: AuditFilter) -> Result<Listing<AuditEntry>, AppError> {
        let before = filter
            .cursor
            .as_deref()
            .map(cursor::decode::<u64>)
            .transpose()?;
        let limit = cursor::limit(filter.limit, 50, 500)?;
        let AuditFilter {
            actor,
            kind,
            key,
            from,
            until,
            ..
        } = filter;
        let page = self
            .read(move |tx| {
                Ok(tx.audit_page(before, from, limit, |change| {
                    actor.as_deref().is_none_or(|a| change.actor.as_str() == a)
                        && key.as_deref().is_none_or(|k| change.key == k)
                        && until.is_none_or(|until| change.at < until)
                        && kind
                            .as_deref()
                            .is_none_or(|k| change.kind.as_str() == k || change.kind.family() == k)
                })?)
            })
            .await?;
        Ok(Listing {
            items: page.items.into_iter().map(AuditEntry::from).collect(),
            next_cursor: page.next.as_ref().map(cursor::encode),
        })
    }
}
