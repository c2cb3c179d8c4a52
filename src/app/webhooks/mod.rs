//! Outbound webhooks: the owner's endpoints (create, change, pause, rotate
//! the secret, replay, delete, ping), and their delivery from the change log
//! (the `worker` module): at least once, in order per endpoint, signed.

pub mod messages;
pub mod send;
mod worker;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{App, AppError, ErrorCode, Principal};
use crate::config::WebhooksConfig;
use crate::domain::accounts::Actor;
use crate::domain::webhooks::{
    self, Delivery, DeliveryState, MAX_DESCRIPTION, MAX_PATTERNS, Webhook, WebhookStatus,
};
use crate::store::{ChangeKind, ReadTx, WriteTx, payloads};

pub use worker::Progress;

/// How long a rotated-out secret still signs, beside the new one.
pub const ROTATION_GRACE: SignedDuration = SignedDuration::from_hours(24);
/// Most deliveries one page of the log holds.
pub const MAX_PAGE: usize = 200;

/// An endpoint as the API shows it: never its secrets.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: u64,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub trusted: bool,
    pub status: WebhookStatus,
    pub delivery: DeliveryState,
    /// How many change-log entries are newer than the cursor (not all of them
    /// are events the endpoint wants).
    pub behind: u64,
    /// Until when the previous secret still signs, after a rotation.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_until: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = String)]
    pub created_by: Actor,
    pub version: u64,
}

impl WebhookView {
    fn of(hook: &Webhook, head: u64, now: Timestamp) -> Self {
        Self {
            id: hook.id,
            url: hook.url.clone(),
            description: hook.description.clone(),
            events: hook.events.clone(),
            enabled: hook.enabled,
            trusted: hook.trusted,
            status: hook.status(),
            delivery: hook.delivery.clone(),
            behind: head.saturating_sub(hook.delivery.cursor),
            previous_secret_until: hook.previous_until.filter(|until| *until > now),
            created_at: hook.created_at,
            updated_at: hook.updated_at,
            created_by: hook.created_by.clone(),
            version: hook.version,
        }
    }
}

/// An endpoint, and its signing secret when it was just made (or rotated):
/// shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// `whsec_…`: the key receivers verify signatures with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An event pattern an endpoint may list: an event, a family (`quote.*`) or
/// `*` (for the API's schema; the settings are checked by
/// [`webhooks::check_pattern`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum EventPattern {
    #[serde(rename = "*")]
    All,
    #[serde(rename = "movement.*")]
    MovementAny,
    #[serde(rename = "movement.booked")]
    MovementBooked,
    #[serde(rename = "level.*")]
    LevelAny,
    #[serde(rename = "level.changed")]
    LevelChanged,
    #[serde(rename = "stock.*")]
    StockAny,
    #[serde(rename = "stock.low")]
    StockLow,
    #[serde(rename = "availability.*")]
    AvailabilityAny,
    #[serde(rename = "availability.changed")]
    AvailabilityChanged,
    #[serde(rename = "product.*")]
    ProductAny,
    #[serde(rename = "product.created")]
    ProductCreated,
    #[serde(rename = "product.updated")]
    ProductUpdated,
    #[serde(rename = "product.archived")]
    ProductArchived,
    #[serde(rename = "location.*")]
    LocationAny,
    #[serde(rename = "location.created")]
    LocationCreated,
    #[serde(rename = "location.updated")]
    LocationUpdated,
    #[serde(rename = "quote.*")]
    QuoteAny,
    #[serde(rename = "quote.created")]
    QuoteCreated,
    #[serde(rename = "quote.accepted")]
    QuoteAccepted,
    #[serde(rename = "quote.fulfilled")]
    QuoteFulfilled,
    #[serde(rename = "quote.delivered")]
    QuoteDelivered,
    #[serde(rename = "quote.cancelled")]
    QuoteCancelled,
    #[serde(rename = "quote.expired")]
    QuoteExpired,
    #[serde(rename = "backup.*")]
    BackupAny,
    #[serde(rename = "backup.created")]
    BackupCreated,
    #[serde(rename = "import.*")]
    ImportAny,
    #[serde(rename = "import.done")]
    ImportDone,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where messages are sent (`POST`): `https://` (plain `http://` with
    /// `webhooks.allow_http`; the pattern states the default, for names).
    #[schema(
        pattern = r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(:[1-9][0-9]{1,3})?(/[A-Za-z0-9._~/-]*)?$",
        max_length = 2048
    )]
    pub url: String,
    /// The events wanted: `movement.booked`, a family `quote.*`, or `*`.
    #[schema(value_type = Vec<EventPattern>, min_items = 1, max_items = 32)]
    pub events: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// Send staff-only fields (costs, customers' contact details, who booked
    /// a movement). Default false.
    #[serde(default)]
    pub trusted: bool,
    /// Default true; false creates it paused.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// `PATCH /webhooks/{id}`: the fields to change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[schema(
        pattern = r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(:[1-9][0-9]{1,3})?(/[A-Za-z0-9._~/-]*)?$",
        max_length = 2048
    )]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<EventPattern>>, min_items = 1, max_items = 32)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub trusted: Option<bool>,
    /// false pauses delivery; true resumes it (a failing endpoint starts
    /// again at its cursor).
    pub enabled: Option<bool>,
    /// true: a new secret, in the answer this once; the old one signs too
    /// for 24 hours.
    #[serde(default)]
    pub rotate_secret: bool,
}

/// `POST /webhooks/{id}/replay`: where delivery starts again.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The first change-log `seq` to send again.
    #[schema(minimum = 1)]
    pub from_seq: Option<u64>,
    /// Or: the first change at or after this time (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
}

fn not_found(id: u64) -> AppError {
    AppError::NotFound {
        what: "webhook",
        key: id.to_string(),
    }
}

/// Checks the settings an endpoint is given.
fn check_settings(
    url: &str,
    events: &[String],
    description: &str,
    config: &crate::config::WebhooksConfig,
) -> Result<(), AppError> {
    send::check_url(url, config).map_err(|reason| AppError::invalid("url", reason))?;
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            "name at least one event, a family such as \"quote.*\", or \"*\"",
        ));
    }
    if events.len() > MAX_PATTERNS {
        return Err(AppError::invalid(
            "events",
            format!("at most {MAX_PATTERNS} patterns"),
        ));
    }
    for pattern in events {
        webhooks::check_pattern(pattern).map_err(|e| AppError::invalid("events", e))?;
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(())
}

fn log(tx: &mut WriteTx, kind: ChangeKind, hook: &Webhook, actor: &Actor) -> Result<(), AppError> {
    tx.record(
        kind,
        &hook.id.to_string(),
        actor,
        &payloads::WebhookChanged {
            url: hook.url.clone(),
            enabled: hook.enabled,
            rotated: false,
            after_seq: None,
        },
    )?;
    Ok(())
}

/// The first change at or after `at` (the log is in time order), or the one
/// after the last when none is.
pub fn first_seq_at(tx: &ReadTx, at: Timestamp) -> Result<u64, AppError> {
    let (mut low, mut high) = (1, tx.last_seq()? + 1);
    while low < high {
        let middle = low + (high - low) / 2;
        let change = tx.changes_after(middle - 1, 1)?;
        match change.first() {
            Some(change) if change.at < at => low = middle + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}

/// Every endpoint, by id.
pub fn list(tx: &ReadTx) -> Result<Vec<WebhookView>, AppError> {
    let head = tx.last_seq()?;
    let now = Timestamp::now();
    Ok(tx
        .webhooks()?
        .iter()
        .map(|hook| WebhookView::of(hook, head, now))
        .collect())
}

/// Adds an endpoint; it gets the events after the newest change.
pub fn create(
    tx: &mut WriteTx,
    actor: &Actor,
    input: WebhookInput,
    config: &WebhooksConfig,
) -> Result<WebhookWithSecret, AppError> {
    check_settings(&input.url, &input.events, &input.description, config)?;
    if tx.webhooks()?.len() >= config.max_endpoints as usize {
        return Err(AppError::conflict(
            ErrorCode::TooManyWebhooks,
            "url",
            format!(
                "the shop has {} webhook endpoints, the most it may have \
                 (webhooks.max_endpoints)",
                config.max_endpoints
            ),
        ));
    }
    let now = Timestamp::now();
    let head = tx.last_seq()?;
    let hook = Webhook {
        id: tx.next_webhook_id()?,
        url: input.url,
        description: input.description,
        events: input.events,
        enabled: input.enabled,
        trusted: input.trusted,
        secret: webhooks::new_secret(),
        previous_secret: None,
        previous_until: None,
        created_at: now,
        updated_at: now,
        created_by: actor.clone(),
        version: 1,
        delivery: DeliveryState {
            cursor: head,
            ..DeliveryState::default()
        },
    };
    tx.put_webhook(&hook)?;
    log(tx, ChangeKind::WebhookCreated, &hook, actor)?;
    Ok(WebhookWithSecret {
        webhook: WebhookView::of(&hook, head, now),
        secret: Some(hook.secret),
    })
}

/// Changes an endpoint's settings; pauses, resumes or rotates its secret.
pub fn update(
    tx: &mut WriteTx,
    actor: &Actor,
    id: u64,
    patch: WebhookPatch,
    config: &WebhooksConfig,
) -> Result<WebhookWithSecret, AppError> {
    let mut hook = tx.webhook(id)?.ok_or_else(|| not_found(id))?;
    let now = Timestamp::now();
    if let Some(url) = patch.url {
        hook.url = url;
    }
    if let Some(events) = patch.events {
        hook.events = events;
    }
    if let Some(description) = patch.description {
        hook.description = description;
    }
    check_settings(&hook.url, &hook.events, &hook.description, config)?;
    if let Some(trusted) = patch.trusted {
        hook.trusted = trusted;
    }
    if let Some(enabled) = patch.enabled {
        if enabled {
            resume(&mut hook.delivery);
        }
        hook.enabled = enabled;
    }
    let secret = patch.rotate_secret.then(|| {
        let fresh = webhooks::new_secret();
        hook.previous_secret = Some(std::mem::replace(&mut hook.secret, fresh.clone()));
        hook.previous_until = now.checked_add(ROTATION_GRACE).ok();
        fresh
    });
    hook.updated_at = now;
    hook.version += 1;
    tx.put_webhook(&hook)?;
    tx.record(
        ChangeKind::WebhookUpdated,
        &id.to_string(),
        actor,
        &payloads::WebhookChanged {
            url: hook.url.clone(),
            enabled: hook.enabled,
            rotated: secret.is_some(),
            after_seq: None,
        },
    )?;
    Ok(WebhookWithSecret {
        webhook: WebhookView::of(&hook, tx.last_seq()?, now),
        secret,
    })
}

/// Removes an endpoint and its delivery log.
pub fn delete(tx: &mut WriteTx, actor: &Actor, id: u64) -> Result<(), AppError> {
    let hook = tx.webhook(id)?.ok_or_else(|| not_found(id))?;
    tx.delete_webhook(id)?;
    log(tx, ChangeKind::WebhookDeleted, &hook, actor)
}

/// Sends the endpoint's events again from `from_seq`, or from the change
/// `at_time` names (one of the two): delivery goes back to just before it.
pub fn replay(
    tx: &mut WriteTx,
    actor: &Actor,
    id: u64,
    from_seq: Option<u64>,
    at_time: Option<u64>,
) -> Result<WebhookView, AppError> {
    let mut hook = tx.webhook(id)?.ok_or_else(|| not_found(id))?;
    let head = tx.last_seq()?;
    let from = match (from_seq, at_time) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(AppError::invalid("from_seq", "give from_seq or from"));
        }
        (Some(0), None) => return Err(AppError::invalid("from_seq", "must be at least 1")),
        (Some(seq), None) if seq > head + 1 => {
            return Err(AppError::invalid(
                "from_seq",
                format!("the change log ends at {head}"),
            ));
        }
        (Some(seq), None) | (None, Some(seq)) => seq,
    };
    hook.delivery.cursor = from - 1;
    hook.delivery.rewinds += 1;
    resume(&mut hook.delivery);
    hook.updated_at = Timestamp::now();
    hook.version += 1;
    tx.put_webhook(&hook)?;
    tx.record(
        ChangeKind::WebhookReplayed,
        &id.to_string(),
        actor,
        &payloads::WebhookChanged {
            url: hook.url.clone(),
            enabled: hook.enabled,
            rotated: false,
            after_seq: Some(from - 1),
        },
    )?;
    Ok(WebhookView::of(&hook, tx.last_seq()?, Timestamp::now()))
}

impl App {
    pub async fn webhooks(&self) -> Result<Vec<WebhookView>, AppError> {
        self.read(list).await
    }

    pub async fn webhook(&self, id: u64) -> Result<WebhookView, AppError> {
        self.read(move |tx| {
            let hook = tx.webhook(id)?.ok_or_else(|| not_found(id))?;
            Ok(WebhookView::of(&hook, tx.last_seq()?, Timestamp::now()))
        })
        .await
    }

    /// A new endpoint; it gets the events after the newest change.
    pub async fn create_webhook(
        &self,
        caller: &Principal,
        input: WebhookInput,
    ) -> Result<WebhookWithSecret, AppError> {
        let config = self.config().webhooks.clone();
        check_settings(&input.url, &input.events, &input.description, &config)?;
        let actor = caller.actor.clone();
        self.write(move |tx| create(tx, &actor, input, &config))
            .await
    }

    pub async fn update_webhook(
        &self,
        caller: &Principal,
        id: u64,
        patch: WebhookPatch,
    ) -> Result<WebhookWithSecret, AppError> {
        let config = self.config().webhooks.clone();
        let actor = caller.actor.clone();
        self.write(move |tx| update(tx, &actor, id, patch, &config))
            .await
    }

    pub async fn delete_webhook(&self, caller: &Principal, id: u64) -> Result<(), AppError> {
        let actor = caller.actor.clone();
        self.write(move |tx| delete(tx, &actor, id)).await
    }

    /// Sends the endpoint's events again from a `seq` or a time: delivery
    /// goes back to just before it (and resumes if it was failing).
    pub async fn replay_webhook(
        &self,
        caller: &Principal,
        id: u64,
        request: ReplayRequest,
    ) -> Result<WebhookView, AppError> {
        let actor = caller.actor.clone();
        if request.from_seq.is_some() && request.from.is_some() {
            return Err(AppError::invalid("from", "give from_seq or from, not both"));
        }
        let at_time = match (request.from_seq, request.from) {
            (None, Some(at)) => Some(self.read(move |tx| first_seq_at(tx, at)).await?),
            _ => None,
        };
        self.write(move |tx| replay(tx, &actor, id, request.from_seq, at_time))
            .await
    }

    /// The endpoint's delivery log, newest first, below attempt `before`.
    pub async fn webhook_deliveries(
        &self,
        id: u64,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Delivery>, Option<u64>), AppError> {
        let limit = limit.clamp(1, MAX_PAGE);
        self.read(move |tx| {
            tx.webhook(id)?.ok_or_else(|| not_found(id))?;
            let page = tx.webhook_deliveries(id, before, limit + 1)?;
            let more = page.len() > limit;
            let page: Vec<Delivery> = page.into_iter().take(limit).collect();
            let next = if more {
                page.last().map(|d| d.number)
            } else {
                None
            };
            Ok((page, next))
        })
        .await
    }

    /// Sends a signed `webhook.ping` now (paused endpoints too) and logs it.
    /// A ping that gets through resumes a failing endpoint.
    pub async fn ping_webhook(&self, id: u64) -> Result<Delivery, AppError> {
        let hook = self
            .read(move |tx| tx.webhook(id)?.ok_or_else(|| not_found(id)))
            .await?;
        let sender = self.webhook_sender()?;
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).expect("the operating system's random source works");
        let message_id = format!("ping-{:016x}", u64::from_le_bytes(nonce));
        let now = Timestamp::now();
        let data = serde_json::json!({
            "webhook": hook.id,
            "shop": self.config().shop.name,
        });
        let body = messages::body("webhook.ping", 0, now, &data);
        let outcome = sender.send(&hook, &message_id, body).await;
        self.metrics().webhook_attempt(outcome.ok);
        let ok = outcome.ok;
        let attempt = worker::attempt(0, message_id, "webhook.ping", 1, now, outcome);
        self.write(move |tx| {
            let Some(current) = tx.webhook(id)? else {
                return Err(not_found(id));
            };
            let mut state = current.delivery.clone();
            state.logged += 1;
            let attempt = Delivery {
                number: state.logged,
                ..attempt
            };
            if ok && state.failing {
                resume(&mut state);
            }
            tx.record_webhook_progress(id, &state, std::slice::from_ref(&attempt))?;
            Ok(attempt)
        })
        .await
    }

    /// The client that sends webhook messages (one per application).
    fn webhook_sender(&self) -> Result<send::Sender, AppError> {
        if let Some(sender) = self.inner.webhook_sender.get() {
            return Ok(sender.clone());
        }
        let sender = send::Sender::new(&self.config().webhooks)
            .map_err(|e| AppError::Internal(format!("the webhook client: {e}")))?;
        Ok(self.inner.webhook_sender.get_or_init(|| sender).clone())
    }
}

/// Clears a failure so delivery starts again at the cursor now.
fn resume(state: &mut DeliveryState) {
    state.failing = false;
    state.attempts = 0;
    state.failing_since = None;
    state.next_attempt_at = None;
}
