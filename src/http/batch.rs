//! `POST /batch`: up to 100 sub-requests in one round trip, each run through
//! the same routes with the caller's own credentials.
//!
//! A batch's answers are held in memory until the last one is in, so they are
//! bounded: routes that stream (exports, downloads, event streams) or take
//! uploads cannot be batched at all, one batch's answers add up to at most
//! [`MAX_ANSWER_BYTES`], and all batches being answered at once to at most
//! [`MAX_ANSWERS_IN_FLIGHT`]. An anonymous batch draws one token per
//! sub-request from its address's bucket, as the requests it holds would.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;
use utoipa::ToSchema;

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json};
use super::net::{Bucket, Limiters};
use crate::app::App;

/// Most sub-requests in one batch.
pub const MAX_REQUESTS: usize = 100;

/// Most bytes of answers one batch holds (16 MiB).
pub const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Most bytes of answers all batches being answered hold together (64 MiB).
pub const MAX_ANSWERS_IN_FLIGHT: usize = 4 * MAX_ANSWER_BYTES;

/// Most bytes of the answer to one write: writes answer with the document
/// they made, which is small; a write is never refused after it happened.
const MAX_WRITE_ANSWER_BYTES: usize = 1 << 20;

/// The bytes all batches' answers may hold at once.
#[derive(Clone)]
pub struct AnswerBudget(Arc<Semaphore>);

impl Default for AnswerBudget {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(MAX_ANSWERS_IN_FLIGHT)))
    }
}

/// Whether `path` names a route whose answer is a stream or a file, or that
/// takes an upload: such routes are never run inside a batch.
fn streams(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path == "/api/v1/events"
        || path.starts_with("/api/v1/exports/")
        || path.starts_with("/api/v1/imports/")
        || path.starts_with("/api/v1/backups/")
        || (path.starts_with("/api/v1/jobs/") && path.ends_with("/bad-rows"))
}

/// Marks a sub-request of an anonymous batch that was already counted
/// against its address's bucket when the batch came in.
#[derive(Clone, Copy)]
pub struct Counted;

/// The routes a batch dispatches to.
#[derive(Clone)]
pub struct Routes(pub Router);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 100 sub-requests, answered in order.
    #[schema(min_items = 1, max_items = 100)]
    pub requests: Vec<SubRequest>,
    /// Commit every write together or none (the first failure is reported, the
    /// rest are marked `not_applied`).
    #[serde(default)]
    pub atomic: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE` (any case).
    #[schema(
        pattern = "^(?:[Gg][Ee][Tt]|[Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee])$"
    )]
    pub method: String,
    /// A path under `/api/v1/`, with its query string.
    #[schema(pattern = "^/api/v1/")]
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
    /// The sub-request's answer, as the route gave it.
    #[schema(value_type = Object)]
    pub body: Box<RawValue>,
}

fn refuse(i: usize, field: &str, message: String) -> ApiError {
    ApiError::new(ErrorCode::ValidationFailed, message).with_field(format!("requests[{i}].{field}"))
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
    if streams(path_only) {
        return Err(refuse(
            i,
            "path",
            format!(
                "{:?} streams its answer (exports, downloads, events) or takes an upload, so it \
                 cannot be requested in a batch: request it on its own",
                sub.path
            ),
        ));
    }
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

/// An answer in a batch's body: JSON as the route wrote it.
fn raw(value: &impl Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).expect("JSON values serialize")
}

fn error_answer(error: &ApiError) -> SubResponse {
    SubResponse {
        status: error.status.as_u16(),
        body: raw(&error.body()),
    }
}

/// What a batch's answers hold so far, against its own bound and the
/// server's.
struct Answers {
    budget: AnswerBudget,
    held: Vec<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Answers {
    fn new(budget: AnswerBudget) -> Self {
        Self {
            budget,
            held: Vec::new(),
            bytes: 0,
        }
    }

    /// The answer to a read once the batch holds all it may.
    fn full() -> ApiError {
        ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "the batch's answers would be larger than {} MiB: ask for smaller pages, or \
                 send the rest in another batch",
                MAX_ANSWER_BYTES >> 20
            ),
        )
    }

    /// Room for `more` bytes of a read's answer, or why there is none.
    fn make_room(&mut self, more: usize, writes: bool) -> Result<(), ApiError> {
        if !writes && self.bytes + more > MAX_ANSWER_BYTES {
            // Nothing more of this batch's reads fits: the next are not run.
            self.bytes = MAX_ANSWER_BYTES;
            return Err(Self::full());
        }
        let permits = u32::try_from(more).unwrap_or(u32::MAX);
        let permit = match self.budget.0.clone().try_acquire_many_owned(permits) {
            Ok(permit) => permit,
            // A write has happened: its answer is kept whatever the load.
            Err(_) if writes => return Ok(()),
            Err(_) => {
                return Err(ApiError::new(
                    ErrorCode::Busy,
                    "the server is answering too many large batches at once; retry in a moment",
                ));
            }
        };
        self.held.push(permit);
        self.bytes += more;
        Ok(())
    }
}

/// Runs one sub-request and reads its answer within the batch's bounds.
async fn dispatch(routes: &Router, request: Request, answers: &mut Answers) -> SubResponse {
    let writes = !request.method().is_safe();
    let response = match routes.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let mut body = response.into_body().into_data_stream();
    let limit = if writes {
        MAX_WRITE_ANSWER_BYTES
    } else {
        MAX_ANSWER_BYTES
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            break;
        };
        if bytes.len() + chunk.len() > limit {
            return error_answer(&ApiError::new(
                ErrorCode::BatchTooLarge,
                format!(
                    "the answer is larger than a batch holds ({} MiB): request it on its own",
                    limit >> 20
                ),
            ));
        }
        if let Err(error) = answers.make_room(chunk.len(), writes) {
            return error_answer(&error);
        }
        bytes.extend_from_slice(&chunk);
    }
    let body = if bytes.is_empty() {
        raw(&Value::Null)
    } else {
        let text = String::from_utf8_lossy(&bytes);
        match serde_json::from_str::<Box<RawValue>>(&text) {
            Ok(json) => json,
            Err(_) => raw(&text),
        }
    };
    SubResponse { status, body }
}

fn not_applied(reason: &str) -> SubResponse {
    error_answer(&ApiError::new(ErrorCode::NotApplied, reason))
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
    Caller(caller): Caller,
    Extension(Routes(routes)): Extension<Routes>,
    Extension(budget): Extension<AnswerBudget>,
    limiters: Option<Extension<Arc<Limiters>>>,
    headers: HeaderMap,
    Json(input): Json<BatchRequest>,
) -> Result<axum::Json<BatchResponse>, ApiError> {
    if input.requests.is_empty() || input.requests.len() > MAX_REQUESTS {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("a batch has 1 to {MAX_REQUESTS} requests"),
        )
        .with_field("requests"));
    }
    let mut requests = input
        .requests
        .into_iter()
        .enumerate()
        .map(|(i, sub)| build(i, sub, &headers))
        .collect::<Result<Vec<_>, _>>()?;
    // Anonymous: every sub-request costs what it would cost on its own, taken
    // from the address's bucket before any of them runs.
    if caller.is_none()
        && let Some(Extension(limiters)) = limiters
        && let Ok(client) = crate::app::CLIENT.try_with(|ip| *ip)
    {
        let n = u32::try_from(requests.len()).unwrap_or(u32::MAX);
        limiters.check_n(Bucket::Public, client, n)?;
        for request in &mut requests {
            request.extensions_mut().insert(Counted);
        }
    }
    let batch = app.begin_batch(input.atomic).await?;
    let mut answers = Answers::new(budget);
    let mut responses = Vec::with_capacity(requests.len());
    let mut failed = None;
    for (i, request) in requests.into_iter().enumerate() {
        if failed.is_some() {
            responses.push(not_applied(
                "an earlier request of this atomic batch failed",
            ));
            continue;
        }
        // Once the batch's answers are full, a read is not even run.
        let response = if request.method().is_safe() && answers.bytes >= MAX_ANSWER_BYTES {
            error_answer(&Answers::full())
        } else {
            batch.run(dispatch(&routes, request, &mut answers)).await
        };
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
