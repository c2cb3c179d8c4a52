//! `/movements`, `/stock`, `/products/{sku}/stock` and the live `/events` stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::{
    Caller, FingerprintedJson, IdempotencyKey, Path, Query, StockStaff, Viewer, query_time,
};
use crate::app::cursor::Listing;
use crate::app::events::LiveEvent;
use crate::app::idempotency::IdempotencyKeyValue;
use crate::app::idempotency::{Answer, Idempotency};
use crate::app::ledger::{
    MovementFilter, MovementListing, MovementView, StockFilter, StockRow, StockView,
};
use crate::app::slots::Slot;
use crate::app::{App, AppError, Principal};
use crate::domain::ledger::{Movement, MovementInput, MovementKind};
use crate::domain::locations::LocationCode;
use crate::domain::rules::pattern_schema;
use crate::domain::values::Sku;

fn idempotency(
    caller: &Principal,
    key: Option<String>,
    fingerprint: String,
) -> Result<Option<Idempotency>, ApiError> {
    key.map(|k| Idempotency::new(caller, &k, fingerprint))
        .transpose()
        .map_err(ApiError::from)
}

fn answer(result: Answer<Movement>) -> Response {
    match result {
        Answer::Fresh(movement) => (StatusCode::CREATED, axum::Json(movement)).into_response(),
        Answer::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let mut response = (status, axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
    }
}

/// Book a movement: one document (a delivery note, a pick list, a count) with
/// many lines, all booked together or none. Send an `Idempotency-Key` to make
/// retries safe: a retry with the same key and body gets the first answer and
/// books nothing twice.
#[utoipa::path(
    post, path = "/movements", tag = "stock",
    params(("Idempotency-Key" = Option<IdempotencyKeyValue>, Header, description = "Makes retries safe")),
    request_body(content = MovementInput, example = json!({
        "kind": "receive", "location": "YARD", "reference": "DN-1042",
        "lines": [{"sku": "SAND-04", "quantity": "20"}]
    })),
    responses(
        (status = 201, body = Movement),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`insufficient_stock`, `insufficient_reserved` or `negative_stock`, naming the line", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn book_movement(
    State(app): State<App>,
    StockStaff(caller): StockStaff,
    IdempotencyKey(key): IdempotencyKey,
    FingerprintedJson(input, fingerprint): FingerprintedJson<MovementInput>,
) -> Result<Response, ApiError> {
    let idempotency = idempotency(&caller, key, fingerprint)?;
    Ok(answer(
        app.book_movement(&caller, input, idempotency).await?,
    ))
}

/// Book the exact opposite of a movement, linked to it. A movement is reversed
/// at most once.
#[utoipa::path(
    post, path = "/movements/{id}/reverse", tag = "stock",
    params(
        ("id" = u64, Path, description = "The movement to reverse"),
        ("Idempotency-Key" = Option<IdempotencyKeyValue>, Header, description = "Makes retries safe"),
    ),
    responses(
        (status = 201, body = Movement),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Already reversed, or the stock is no longer there", body = ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for another request", body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn reverse_movement(
    State(app): State<App>,
    StockStaff(caller): StockStaff,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("movement {id} does not exist")))?;
    let idempotency = idempotency(&caller, key, format!("reverse {id}"))?;
    Ok(answer(
        app.reverse_movement(&caller, id, idempotency).await?,
    ))
}

/// Read one movement.
#[utoipa::path(
    get, path = "/movements/{id}", tag = "stock",
    params(("id" = u64, Path, description = "The movement's id")),
    responses(
        (status = 200, body = MovementView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_movement(
    State(app): State<App>,
    _viewer: Viewer,
    Path(id): Path<String>,
) -> Result<axum::Json<MovementView>, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("movement {id} does not exist")))?;
    Ok(axum::Json(app.get_movement(id).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MovementListQuery {
    /// Movements with a line for this SKU.
    #[param(value_type = Option<Sku>)]
    sku: Option<String>,
    /// Movements at (or from or to) this location.
    #[param(value_type = Option<LocationCode>)]
    location: Option<String>,
    kind: Option<MovementKind>,
    /// Movements with this reference.
    reference: Option<String>,
    /// Only movements booked after this change-log `seq`.
    #[param(minimum = 0)]
    since_seq: Option<i64>,
    /// Only movements booked at or after this RFC 3339 time.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Only movements booked before this RFC 3339 time.
    #[param(format = DateTime)]
    until: Option<String>,
    /// `desc` (newest first, the default) or `asc` (oldest first, e.g. to follow
    /// the ledger from `since_seq`).
    #[param(inline)]
    order: Option<Order>,
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Movement history, newest first (or with `order=asc` oldest first).
#[utoipa::path(
    get, path = "/movements", tag = "stock",
    params(MovementListQuery),
    responses(
        (status = 200, body = MovementListing),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_movements(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<MovementListQuery>,
) -> Result<axum::Json<MovementListing>, ApiError> {
    let filter = MovementFilter {
        sku: q.sku,
        location: q.location,
        kind: q.kind,
        reference: q.reference,
        since_seq: seq_param("since_seq", q.since_seq)?,
        from: query_time("from", q.from.as_deref())?,
        until: query_time("until", q.until.as_deref())?,
        oldest_first: matches!(q.order, Some(Order::Asc)),
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(axum::Json(app.list_movements(filter).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    #[param(value_type = Option<Sku>)]
    sku: Option<String>,
    #[param(value_type = Option<LocationCode>)]
    location: Option<String>,
    /// A category and everything under it.
    category: Option<String>,
    /// Only rows below (`true`) or not below (`false`) their reorder point.
    low: Option<bool>,
    /// The levels as they stood at this RFC 3339 time, from the ledger.
    #[param(format = DateTime)]
    as_of: Option<String>,
    cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// Stock levels per SKU and location: `on_hand`, `reserved`, `available`, `low`.
#[utoipa::path(
    get, path = "/stock", tag = "stock",
    params(StockQuery),
    responses(
        (status = 200, body = Listing<StockRow>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_stock(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<StockQuery>,
) -> Result<axum::Json<Listing<StockRow>>, ApiError> {
    let filter = StockFilter {
        sku: q.sku,
        location: q.location,
        category: q.category,
        low: q.low,
        as_of: query_time("as_of", q.as_of.as_deref())?,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(axum::Json(app.list_stock(filter).await?))
}

/// What the stock on hand is worth at cost (cost per stock unit), with the
/// number of products in stock, those without a cost, and low levels.
#[utoipa::path(
    get, path = "/stock/value", tag = "stock",
    responses(
        (status = 200, body = crate::app::valuation::StockValue),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn stock_value(
    State(app): State<App>,
    _viewer: Viewer,
) -> Result<axum::Json<crate::app::valuation::StockValue>, ApiError> {
    Ok(axum::Json(app.stock_value().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductStockQuery {
    /// The stock as it stood at this RFC 3339 time (signed-in callers only).
    #[param(format = DateTime)]
    as_of: Option<String>,
}

/// One product's stock: per location with totals for signed-in callers; for
/// anonymous callers, availability as the shop shows it.
#[utoipa::path(
    get, path = "/products/{sku}/stock", tag = "stock",
    params(("sku" = Sku, Path, description = "The product's SKU"), ProductStockQuery),
    responses(
        (status = 200, body = StockView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn product_stock(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(sku): Path<String>,
    Query(q): Query<ProductStockQuery>,
) -> Result<axum::Json<StockView>, ApiError> {
    let as_of = query_time("as_of", q.as_of.as_deref())?;
    Ok(axum::Json(
        app.product_stock(caller.as_ref(), &sku, as_of).await?,
    ))
}

/// A change-log `seq` from a query string: 0 up to what the document
/// promises (an int64), never negative.
fn seq_param(field: &str, value: Option<i64>) -> Result<Option<u64>, ApiError> {
    value
        .map(|v| {
            u64::try_from(v).map_err(|_| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("{field} must be a change-log seq, 0 or more"),
                )
                .with_field(field)
            })
        })
        .transpose()
}

/// The `Last-Event-ID` header's schema: a change-log `seq`.
pub struct LastEventId;

impl LastEventId {
    /// What [`LastEventId::parse`] accepts, but for numbers past `u64`.
    const PATTERN: &str = r"^\s*\+?0*[0-9]{1,20}\s*$";

    fn parse(value: &str) -> Option<u64> {
        value.trim().parse::<u64>().ok()
    }
}

pattern_schema!(
    LastEventId,
    string_schema,
    LastEventId::PATTERN,
    "The `id` of the last event received (a change-log `seq`).",
    "1042"
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Replay everything after this `seq` first (like `Last-Event-ID`).
    #[param(minimum = 0)]
    since: Option<i64>,
}

/// Live changes as server-sent events, each with its change-log `seq` as `id`.
/// Reconnect with `Last-Event-ID` (or `?since=`) to get everything missed,
/// without gaps or repeats. Signed-in callers get `movement.booked`,
/// `level.changed` (with the product's `product_available` and
/// `product_availability` over all locations), `product.*` and `location.*`;
/// anonymous callers only
/// `availability.changed` for active products, as the shop shows stock.
/// A client may hold `limits.event_streams_per_client` streams at once
/// (anonymous callers per address, signed-in ones per user or token; more
/// get 429), and the server `limits.event_streams` (more get 503).
#[utoipa::path(
    get, path = "/events", tag = "stock",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<LastEventId>, Header, description = "The last `id` received"),
    ),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, description = "The client holds `limits.event_streams_per_client` streams", body = ErrorBody),
        (status = 503, description = "The server holds `limits.event_streams` streams", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn events(
    State(app): State<App>,
    Caller(caller): Caller,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str().ok().and_then(LastEventId::parse).ok_or_else(|| {
                ApiError::from(AppError::bad_request(
                    Some("Last-Event-ID"),
                    "Last-Event-ID must be an event id (a number)",
                ))
            })
        })
        .transpose()?;
    let start = match last_event_id.or(seq_param("since", q.since)?) {
        Some(seq) => seq,
        None => *app.committed().borrow(),
    };
    let address = crate::app::CLIENT
        .try_with(|ip| *ip)
        .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
    let slot = app.stream_slot(caller.as_ref(), address)?;
    Ok(Sse::new(event_stream(app, caller, start, slot)).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    ))
}

struct Follow {
    app: App,
    caller: Option<Principal>,
    cursor: u64,
    /// At most one batch: `events::BATCH` events, about `events::BATCH_BYTES`.
    pending: std::collections::VecDeque<LiveEvent>,
    committed: tokio::sync::watch::Receiver<u64>,
    stop: tokio_util::sync::CancellationToken,
    /// Counts the client in `quarry_sse_clients` while the stream lives.
    _client: crate::app::metrics::SseClient,
    /// The stream's place under `limits.event_streams*`, given back on drop.
    _slot: Slot,
}

/// Reads the change log from `start` on, in batches, then waits for commits.
fn event_stream(
    app: App,
    caller: Option<Principal>,
    start: u64,
    slot: Slot,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = Follow {
        _slot: slot,
        committed: app.committed(),
        stop: app.shutting_down(),
        _client: app.metrics().sse_client(),
        app,
        caller,
        cursor: start,
        pending: std::collections::VecDeque::new(),
    };
    stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.pending.pop_front() {
                let sse = Event::default()
                    .id(event.seq.to_string())
                    .event(event.name)
                    .data(event.data);
                return Some((Ok(sse), s));
            }
            if *s.committed.borrow_and_update() > s.cursor {
                match s.app.events_after(s.caller.as_ref(), s.cursor).await {
                    Ok((events, last)) => {
                        s.cursor = last;
                        s.pending.extend(events);
                    }
                    Err(error) => {
                        tracing::warn!(%error, "event stream ended");
                        return None;
                    }
                }
                continue;
            }
            tokio::select! {
                changed = s.committed.changed() => if changed.is_err() { return None },
                () = s.stop.cancelled() => return None,
            }
        }
    })
}
