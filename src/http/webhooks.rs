//! The owner's webhook endpoints: `/webhooks`, their delivery log, replay
//! and ping.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Owner, Path, Query};
use crate::app::App;
use crate::app::webhooks::{
    ReplayRequest, WebhookInput, WebhookPatch, WebhookView, WebhookWithSecret,
};
use crate::domain::webhooks::{Delivery, EVENTS};

fn endpoint_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("webhook {raw} does not exist")))
}

/// An answer that carries a secret: never cached.
fn with_secret(status: StatusCode, answer: WebhookWithSecret) -> Response {
    let mut response = (status, axum::Json(answer)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The webhook endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
    pub next_cursor: Option<String>,
}

/// List the webhook endpoints, with where their delivery stands.
#[utoipa::path(
    get, path = "/webhooks", tag = "webhooks",
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_webhooks(
    State(app): State<App>,
    _owner: Owner,
) -> Result<axum::Json<WebhookList>, ApiError> {
    Ok(axum::Json(WebhookList {
        items: app.webhooks().await?,
        next_cursor: None,
    }))
}

/// Add an endpoint. Its signing secret is in the answer, this once; it gets
/// the events that happen from now on (replay sends earlier ones).
#[utoipa::path(
    post, path = "/webhooks", tag = "webhooks",
    request_body(content = WebhookInput, example = json!({
        "url": "https://accounts.example.com/hooks/quarry",
        "events": ["movement.booked", "quote.*", "stock.low"],
        "description": "Accounting",
    })),
    responses(
        (status = 201, body = WebhookWithSecret),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn create_webhook(
    State(app): State<App>,
    Owner(owner): Owner,
    Json(input): Json<WebhookInput>,
) -> Result<Response, ApiError> {
    let created = app.create_webhook(&owner, input).await?;
    Ok(with_secret(StatusCode::CREATED, created))
}

/// Read one endpoint.
#[utoipa::path(
    get, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = u64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, body = WebhookView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn get_webhook(
    State(app): State<App>,
    _owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<WebhookView>, ApiError> {
    Ok(axum::Json(app.webhook(endpoint_id(&id)?).await?))
}

/// Change an endpoint: its URL, events, description, trust; pause or resume
/// it (`enabled`); `rotate_secret` gives a new secret (in the answer, this
/// once) while the old one signs too for 24 hours.
#[utoipa::path(
    patch, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = u64, Path, description = "The endpoint's id")),
    request_body(content = WebhookPatch, example = json!({"enabled": false})),
    responses(
        (status = 200, body = WebhookWithSecret),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn update_webhook(
    State(app): State<App>,
    Owner(owner): Owner,
    Path(id): Path<String>,
    Json(patch): Json<WebhookPatch>,
) -> Result<Response, ApiError> {
    let updated = app.update_webhook(&owner, endpoint_id(&id)?, patch).await?;
    Ok(with_secret(StatusCode::OK, updated))
}

/// Remove an endpoint and its delivery log.
#[utoipa::path(
    delete, path = "/webhooks/{id}", tag = "webhooks",
    params(("id" = u64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn delete_webhook(
    State(app): State<App>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.delete_webhook(&owner, endpoint_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// From `next_cursor`: attempts older than this one.
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// A page of the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// The endpoint's delivery log, newest first: every attempt, with its
/// status, latency, the receiver's answer (first bytes) and error. Kept for
/// `webhooks.keep_deliveries_days`.
#[utoipa::path(
    get, path = "/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = u64, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_deliveries(
    State(app): State<App>,
    _owner: Owner,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    let id = endpoint_id(&id)?;
    let before = match query.cursor.as_deref() {
        None => None,
        Some(raw) => Some(raw.parse::<u64>().map_err(|_| {
            ApiError::new(
                super::error::ErrorCode::BadRequest,
                "not a cursor this list gave out",
            )
            .with_field("cursor")
        })?),
    };
    let limit = match query.limit {
        None => 50,
        Some(n @ 1..=200) => n as usize,
        Some(_) => {
            return Err(
                ApiError::new(super::error::ErrorCode::BadRequest, "must be 1 to 200")
                    .with_field("limit"),
            );
        }
    };
    let (items, next) = app.webhook_deliveries(id, before, limit).await?;
    Ok(axum::Json(DeliveryList {
        items,
        next_cursor: next.map(|n| n.to_string()),
    }))
}

/// Send the endpoint's events again from a change-log `seq` (`from_seq`) or
/// a time (`from`), in order; a failing endpoint resumes.
#[utoipa::path(
    post, path = "/webhooks/{id}/replay", tag = "webhooks",
    params(("id" = u64, Path, description = "The endpoint's id")),
    request_body(content = ReplayRequest, example = json!({"from_seq": 1200})),
    responses(
        (status = 200, body = WebhookView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn replay_webhook(
    State(app): State<App>,
    Owner(owner): Owner,
    Path(id): Path<String>,
    Json(request): Json<ReplayRequest>,
) -> Result<axum::Json<WebhookView>, ApiError> {
    Ok(axum::Json(
        app.replay_webhook(&owner, endpoint_id(&id)?, request)
            .await?,
    ))
}

/// Send a signed `webhook.ping` now and answer with the attempt (also when
/// the receiver refused it: `ok` says). Paused endpoints are pinged too; a
/// failing endpoint whose ping gets through resumes.
#[utoipa::path(
    post, path = "/webhooks/{id}/ping", tag = "webhooks",
    params(("id" = u64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, body = Delivery),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn ping_webhook(
    State(app): State<App>,
    _owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Delivery>, ApiError> {
    Ok(axum::Json(app.ping_webhook(endpoint_id(&id)?).await?))
}

/// An event an endpoint can ask for.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventKind {
    pub name: &'static str,
    pub description: &'static str,
}

/// The events endpoints can ask for.
#[utoipa::path(
    get, path = "/webhooks/events", tag = "webhooks",
    responses(
        (status = 200, body = Vec<EventKind>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn event_kinds(_owner: Owner) -> axum::Json<Vec<EventKind>> {
    axum::Json(
        EVENTS
            .iter()
            .map(|(name, description)| EventKind { name, description })
            .collect(),
    )
}
