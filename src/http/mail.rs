//! The owner's view of the mail outbox, and a test message.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Owner, Query};
use crate::app::App;
use crate::domain::mail::{MailNotice, MailView};
use crate::domain::quotes::Email;

/// A page of the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailList {
    /// Newest first.
    pub items: Vec<MailView>,
    /// Whether mail is configured (`[mail]`); without it nothing is queued.
    pub enabled: bool,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MailQuery {
    /// Messages per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512)]
    cursor: Option<String>,
}

/// The mail outbox, newest first: to whom, what about, and where each
/// message stands (queued with its next attempt and last error, sent, or
/// failed). Message texts are never shown (they carry links).
#[utoipa::path(
    get, path = "/mail", tag = "system",
    params(MailQuery),
    responses(
        (status = 200, body = MailList),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_mail(
    State(app): State<App>,
    _owner: Owner,
    Query(query): Query<MailQuery>,
) -> Result<axum::Json<MailList>, ApiError> {
    let page = app.mail_outbox(query.cursor, query.limit).await?;
    Ok(axum::Json(MailList {
        items: page.items,
        enabled: app.config().mail.enabled(),
        next_cursor: page.next_cursor,
    }))
}

/// `POST /mail/test`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMail {
    pub to: Email,
}

/// Queue a test message to an address, to check the mail settings; the
/// outbox shows whether the server took it.
#[utoipa::path(
    post, path = "/mail/test", tag = "system",
    request_body(content = TestMail, example = json!({"to": "owner@example.com"})),
    responses(
        (status = 202, body = MailNotice),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn test_mail(
    State(app): State<App>,
    _owner: Owner,
    Json(input): Json<TestMail>,
) -> Result<(StatusCode, axum::Json<MailNotice>), ApiError> {
    let notice = app.send_test_mail(input.to.to_string()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(notice)))
}
