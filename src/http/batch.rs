//! `POST /batch`: up to 100 sub-requests in one round trip, each run through
//! the same routes with the caller's own credentials.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower::ServiceExt;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json};
use crate::app::App;

/// Most sub-requests in one batch.
pub const MAX_REQUESTS: usize = 100;

/// The routes a batch dispatches to.
#[derive(Clone)]
pub struct Routes(pub Router);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 100 sub-requests, answered in order.
    pub requests: Vec<SubRequest>,
    /// Commit every write together or none (the first failure is reported, the
    /// rest are marked `not_applied`).
    #[serde(default)]
    pub atomic: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// A path under `/api/v1/`, with its query string.
    pub path: String,
    /// A JSON body.
    pub body: Option<Value>,
    /// Only `If-Match` and `Idempotency-Key` are passed on.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub responses: Vec<SubResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubResponse {
    pub status: u16,
    pub body: Value,
}

fn refuse(i: usize, field: &str, message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        message,
    )
    .with_field(format!("requests[{i}].{field}"))
}

/// Checks a sub-request and builds it with the caller's credentials.
fn build(i: usize, sub: SubRequest, outer: &HeaderMap) -> Result<Request, ApiError> {
    let method = match sub.method.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        other => {
            return Err(refuse(
                i,
                "method",
                format!("method {other:?} is not allowed in a batch"),
            ));
        }
    };
    let path_only = sub.path.split('?').next().unwrap_or_default();
    if !sub.path.starts_with("/api/v1/")
        || path_only.contains("..")
        || ["/api/v1/batch", "/api/v1/events", "/api/v1/setup"]
            .contains(&path_only.trim_end_matches('/'))
        || path_only.starts_with("/api/v1/auth/")
    {
        return Err(refuse(
            i,
            "path",
            format!(
                "{:?} cannot be requested in a batch: use a path under /api/v1/ other than /batch, /events, /setup and /auth/",
                sub.path
            ),
        ));
    }
    let mut request = Request::builder().method(method).uri(&sub.path);
    // The sub-request acts with the batch's credentials, and passes the same
    // CSRF check a browser session's batch passed.
    for name in [
        header::AUTHORIZATION,
        header::COOKIE,
        header::ORIGIN,
        header::REFERER,
        header::HOST,
        HeaderName::from_static("x-csrf-token"),
    ] {
        for value in outer.get_all(&name) {
            request = request.header(&name, value);
        }
    }
    for (name, value) in &sub.headers {
        let name = name.to_ascii_lowercase();
        if name != "if-match" && name != "idempotency-key" {
            return Err(refuse(
                i,
                "headers",
                format!("header {name:?} cannot be set in a batch"),
            ));
        }
        let value = HeaderValue::from_str(value).map_err(|_| {
            refuse(
                i,
                "headers",
                format!("header {name:?} has an invalid value"),
            )
        })?;
        request = request.header(
            HeaderName::from_bytes(name.as_bytes()).expect("valid"),
            value,
        );
    }
    let body = match sub.body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    request
        .body(body)
        .map_err(|e| refuse(i, "path", format!("not a valid request: {e}")))
}

async fn dispatch(routes: &Router, request: Request) -> SubResponse {
    let response = match routes.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    SubResponse { status, body }
}

fn not_applied(reason: &str) -> SubResponse {
    SubResponse {
        status: StatusCode::FAILED_DEPENDENCY.as_u16(),
        body: json!({"error": {"code": "not_applied", "message": reason, "field": null}}),
    }
}

/// Answer many requests at once, in order, each with the caller's own rights.
/// All reads see one snapshot. With `atomic`, every write commits in one
/// transaction or none does.
#[utoipa::path(
    post, path = "/batch", tag = "system",
    request_body = BatchRequest,
    responses(
        (status = 200, body = BatchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn batch(
    State(app): State<App>,
    // Credentials are checked once up front; each sub-request checks its own rights.
    _caller: Caller,
    Extension(Routes(routes)): Extension<Routes>,
    headers: HeaderMap,
    Json(input): Json<BatchRequest>,
) -> Result<axum::Json<BatchResponse>, ApiError> {
    if input.requests.is_empty() || input.requests.len() > MAX_REQUESTS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("a batch has 1 to {MAX_REQUESTS} requests"),
        )
        .with_field("requests"));
    }
    let requests = input
        .requests
        .into_iter()
        .enumerate()
        .map(|(i, sub)| build(i, sub, &headers))
        .collect::<Result<Vec<_>, _>>()?;
    let batch = app.begin_batch(input.atomic).await?;
    let mut responses = Vec::with_capacity(requests.len());
    let mut failed = None;
    for (i, request) in requests.into_iter().enumerate() {
        if failed.is_some() {
            responses.push(not_applied(
                "an earlier request of this atomic batch failed",
            ));
            continue;
        }
        let response = batch.run(dispatch(&routes, request)).await;
        if batch.is_atomic() && response.status >= 400 {
            failed = Some(i);
        }
        responses.push(response);
    }
    let atomic = batch.is_atomic();
    let committed = batch.finish(failed.is_none()).await;
    if atomic {
        match (failed, committed) {
            (Some(failed), _) => {
                for (i, response) in responses.iter_mut().enumerate() {
                    if i < failed && response.status < 400 {
                        *response =
                            not_applied("rolled back: a later request of this atomic batch failed");
                    }
                }
            }
            (None, Err(error)) => {
                return Err(ApiError::from(error));
            }
            (None, Ok(())) => {}
        }
    }
    Ok(axum::Json(BatchResponse { responses }))
}
