//! `GET /metrics` in the Prometheus text format, the middleware that counts
//! and times every request by its route template, and the small separate
//! listener that serves metrics without authentication when
//! `metrics.access = "open"`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::{ApiError, ErrorBody};
use super::extract::Owner;
use crate::app::App;
use crate::app::metrics::{CONTENT_TYPE, Metrics};
use crate::config::MetricsAccess;

/// Middleware: records each answered request under its method, its matched
/// route's template (`unmatched` when none matched) and its status.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics.http_request(
        method.as_str(),
        route.as_ref().map(MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Lets a request through only where the main listener serves metrics
/// (`metrics.access = "token"`); elsewhere the route does not exist (404).
pub struct ServedHere;

impl FromRequestParts<App> for ServedHere {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        match app.config().metrics.access {
            MetricsAccess::Token => Ok(Self),
            MetricsAccess::Off | MetricsAccess::Open => Err(ApiError::not_found("no such route")),
        }
    }
}

/// Operational metrics in the Prometheus (`OpenMetrics`) text format, for an
/// owner. Served here when `metrics.access = "token"` (the default); 404 when
/// metrics are off or served on their own address.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses(
        (status = 200, description = "The metrics", content_type = "application/openmetrics-text"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Metrics are not served on this address", body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn metrics(
    State(app): State<App>,
    _here: ServedHere,
    _owner: Owner,
) -> Result<Response, ApiError> {
    render(&app).await
}

async fn render(app: &App) -> Result<Response, ApiError> {
    let text = app.render_metrics().await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// What the separate metrics listener serves: `GET /metrics` to anyone, and
/// nothing else.
pub fn open_router(app: App) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(app): State<App>| async move { render(&app).await }),
        )
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(app)
}
