//! A trade contact's own account (`/account/*`: their customer and its
//! quotes, ordering again), and staff's side of contacts
//! (`/customers/{code}/contacts`, `/customers/{code}/invites`). A contact
//! reaches nothing of another customer: their quote routes answer 404 for
//! any quote not their customer's.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Path, Query, QuoteStaff, TradeContact, Viewer};
use crate::app::App;
use crate::app::account::{Account, OrderAgain};
use crate::app::accounts::{ContactList, NewInvite};
use crate::app::cursor::Listing;
use crate::app::quotes::QuoteView;
use crate::domain::contacts::{ContactPatch, ContactView, InviteInput};
use crate::domain::quotes::QuoteStatus;

/// The signed-in contact and their customer (never staff's notes).
#[utoipa::path(
    get, path = "/account", tag = "account",
    responses(
        (status = 200, body = Account),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub async fn account(
    State(app): State<App>,
    TradeContact(caller): TradeContact,
) -> Result<axum::Json<Account>, ApiError> {
    Ok(axum::Json(app.account(&caller).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuotesQuery {
    /// Only quotes in this state.
    pub status: Option<QuoteStatus>,
    /// From a previous page's `next_cursor`.
    #[param(max_length = 512)]
    pub cursor: Option<String>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The contact's customer's quotes, newest first.
#[utoipa::path(
    get, path = "/account/quotes", tag = "account",
    params(AccountQuotesQuery),
    responses(
        (status = 200, body = Listing<QuoteView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub async fn account_quotes(
    State(app): State<App>,
    TradeContact(caller): TradeContact,
    Query(query): Query<AccountQuotesQuery>,
) -> Result<axum::Json<Listing<QuoteView>>, ApiError> {
    Ok(axum::Json(
        app.account_quotes(&caller, query.status, query.cursor, query.limit)
            .await?,
    ))
}

/// One of the contact's customer's quotes (404 for any other quote).
#[utoipa::path(
    get, path = "/account/quotes/{number}", tag = "account",
    params(("number" = crate::domain::quotes::QuoteNumber, Path, description = "The quote's number: Q-2026-0001")),
    responses(
        (status = 200, body = QuoteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub async fn account_quote(
    State(app): State<App>,
    TradeContact(caller): TradeContact,
    Path(number): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    Ok(axum::Json(app.account_quote(&caller, &number).await?))
}

fn again_response(answer: OrderAgain) -> Response {
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

/// Order again: a new quote with one of the customer's earlier quotes'
/// lines and delivery, at today's prices, and what changed line by line
/// (products no longer sold are left out).
#[utoipa::path(
    post, path = "/account/quotes/{number}/again", tag = "account",
    params(("number" = crate::domain::quotes::QuoteNumber, Path, description = "The earlier quote's number")),
    responses(
        (status = 201, body = OrderAgain),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub async fn account_order_again(
    State(app): State<App>,
    TradeContact(caller): TradeContact,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let reached = super::quotes::reached_at(&app, &headers);
    Ok(again_response(
        app.order_again(&caller, &number, reached).await?,
    ))
}

/// Order again for the customer: a new quote with an earlier quote's lines,
/// delivery and customer, at today's prices, and what changed.
#[utoipa::path(
    post, path = "/quotes/{number}/again", tag = "quotes",
    params(("number" = crate::domain::quotes::QuoteNumber, Path, description = "The earlier quote's number")),
    responses(
        (status = 201, body = OrderAgain),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn order_again(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let reached = super::quotes::reached_at(&app, &headers);
    Ok(again_response(
        app.order_again(&caller, &number, reached).await?,
    ))
}

/// A customer's contact logins and pending invitations.
#[utoipa::path(
    get, path = "/customers/{code}/contacts", tag = "customers",
    params(("code" = crate::domain::customers::CustomerCode, Path, description = "The customer's code")),
    responses(
        (status = 200, body = ContactList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_contacts(
    State(app): State<App>,
    _viewer: Viewer,
    Path(code): Path<String>,
) -> Result<axum::Json<ContactList>, ApiError> {
    Ok(axum::Json(app.customer_contacts(&code).await?))
}

/// Invite a contact: a single-use link, valid for seven days, that lets
/// them set a password and sign in. Quarry does not send it: pass it on.
/// Inviting an existing contact of this customer again gives them a link to
/// set a new password.
#[utoipa::path(
    post, path = "/customers/{code}/invites", tag = "customers",
    params(("code" = crate::domain::customers::CustomerCode, Path, description = "The customer's code")),
    request_body = InviteInput,
    responses(
        (status = 201, body = NewInvite),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn invite_contact(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    headers: HeaderMap,
    Path(code): Path<String>,
    Json(input): Json<InviteInput>,
) -> Result<Response, ApiError> {
    let base = super::accounts::handed_link_base(&app, &headers);
    let invite = app.invite_contact(&caller, &code, input, base).await?;
    let mut response = (StatusCode::CREATED, axum::Json(invite)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Withdraw an invitation: its link stops working.
#[utoipa::path(
    delete, path = "/customers/{code}/invites/{id}", tag = "customers",
    params(
        ("code" = crate::domain::customers::CustomerCode, Path, description = "The customer's code"),
        ("id" = String, Path, description = "The invitation's id, from the contacts list"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn withdraw_invite(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path((code, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.withdraw_invite(&caller, &code, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rename, disable or enable a contact; disabling ends their sessions.
#[utoipa::path(
    put, path = "/customers/{code}/contacts/{login}", tag = "customers",
    params(
        ("code" = crate::domain::customers::CustomerCode, Path, description = "The customer's code"),
        ("login" = String, Path, description = "The contact's e-mail address"),
    ),
    request_body = ContactPatch,
    responses(
        (status = 200, body = ContactView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn update_contact(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path((code, login)): Path<(String, String)>,
    Json(patch): Json<ContactPatch>,
) -> Result<axum::Json<ContactView>, ApiError> {
    Ok(axum::Json(
        app.update_contact(&caller, &code, &login, patch).await?,
    ))
}
