//! Sign-in and sessions (`/auth/*`), the first-run setup, and the owner's
//! `/users`, `/tokens` and `/audit`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::{
    Json, Owner, Path, Query, SignedIn, cookie, query_time, same_origin, secure,
    session_cookie_name,
};
use crate::app::App;
use crate::app::accounts::{
    AuditEntry, AuditFilter, Credentials, ForgotRequest, InviteAcceptance, Me, NewToken, NewUser,
    PasswordChange, ResetLink, ResetRequest, SessionView, SetupRequest, SignedIn as Session,
    TokenInput, UserPatch,
};
use crate::app::cursor::Listing;
use crate::domain::accounts::{TokenName, TokenView, UserView, Username};

/// A request that signs someone in: when it names an origin, the origin must
/// be Quarry's own, so another site cannot sign a browser into an account of
/// its choosing. API clients send no `Origin` and are not affected.
pub struct SignInRequest {
    /// The session cookie the browser came with, if any: it is replaced.
    previous: Option<String>,
}

impl FromRequestParts<App> for SignInRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::ORIGIN) && !same_origin(parts, app) {
            return Err(ApiError::new(
                ErrorCode::CsrfFailed,
                "sign in from Quarry's own pages",
            ));
        }
        Ok(Self {
            previous: cookie(&parts.headers, session_cookie_name(app)).map(str::to_owned),
        })
    }
}

/// The `Set-Cookie` value that hands a browser its session, or (with no
/// secret) takes it away.
fn session_cookie(app: &App, secret: Option<&str>) -> HeaderValue {
    let name = session_cookie_name(app);
    let max_age = match secret {
        Some(_) => i64::from(app.config().auth.session_max_hours) * 3600,
        None => 0,
    };
    let secure = if secure(app) { "; Secure" } else { "" };
    let value = format!(
        "{name}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        secret.unwrap_or_default()
    );
    HeaderValue::from_str(&value).expect("a session cookie is a valid header")
}

fn signed_in(app: &App, status: StatusCode, session: Session) -> Response {
    let mut response = (status, axum::Json(session.view)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::SET_COOKIE,
        session_cookie(app, Some(&session.secret)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn signed_out(app: &App) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(app, None));
    response
}

/// Sign in: a new browser session (replacing any the browser had) in an
/// `HttpOnly`, `SameSite=Strict` cookie, and the CSRF token to send back in
/// `X-CSRF-Token` with every change. Five failures a minute for an account
/// or an address are followed by 429s, for longer each time.
#[utoipa::path(
    post, path = "/auth/login", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, body = SessionView, headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "Too many failures; see Retry-After", body = ErrorBody),
    ),
    security(()),
)]
pub async fn login(
    State(app): State<App>,
    sign_in: SignInRequest,
    Json(credentials): Json<Credentials>,
) -> Result<Response, ApiError> {
    let session = app.login(credentials, sign_in.previous).await?;
    Ok(signed_in(&app, StatusCode::OK, session))
}

/// Sign out: ends the browser session and clears its cookie.
#[utoipa::path(
    post, path = "/auth/logout", tag = "accounts",
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "The caller used a token, not a session", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub async fn logout(
    State(app): State<App>,
    SignedIn(caller): SignedIn,
) -> Result<Response, ApiError> {
    app.logout(&caller).await?;
    Ok(signed_out(&app))
}

/// Who the caller is, and for a browser session its CSRF token.
#[utoipa::path(
    get, path = "/auth/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn me(SignedIn(caller): SignedIn) -> axum::Json<Me> {
    axum::Json(App::me(&caller))
}

/// Change your own password. All your sessions end (sign in again) and your
/// tokens are revoked.
#[utoipa::path(
    post, path = "/auth/password", tag = "accounts",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; signed out everywhere"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn change_password(
    State(app): State<App>,
    SignedIn(caller): SignedIn,
    Json(change): Json<PasswordChange>,
) -> Result<Response, ApiError> {
    app.change_own_password(&caller, change).await?;
    Ok(signed_out(&app))
}

/// Forgot your password: asks for a reset link by username. When the user
/// has an e-mail address (and the shop sends mail) the link is e-mailed;
/// otherwise ask an owner for one. The answer is the same either way, so it
/// does not tell whether a user exists.
#[utoipa::path(
    post, path = "/auth/forgot", tag = "accounts",
    request_body(content = ForgotRequest, example = json!({"username": "ana"})),
    responses(
        (status = 202, description = "A link is e-mailed if the user has an address"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(()),
)]
pub async fn forgot_password(
    State(app): State<App>,
    _sign_in: SignInRequest,
    Json(request): Json<ForgotRequest>,
) -> Result<StatusCode, ApiError> {
    app.forgot_password(request).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Set a new password with a reset link's secret (the part after `#`). The
/// link works once; the user's sessions end and their tokens are revoked.
#[utoipa::path(
    post, path = "/auth/reset", tag = "accounts",
    request_body = ResetRequest,
    responses(
        (status = 204, description = "The new password is set: sign in with it"),
        (status = 400, body = ErrorBody),
        (status = 403, description = "The link expired, was used or was replaced by a newer one", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "The password breaks a rule", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(()),
)]
pub async fn reset_password(
    State(app): State<App>,
    _sign_in: SignInRequest,
    Json(request): Json<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    app.reset_password(request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /users/{username}/reset-link`'s query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResetLinkQuery {
    /// Also e-mail the link to the user's address.
    #[serde(default)]
    email: bool,
}

/// Issue a password-reset link for a user (one who forgot their password
/// and has no e-mail address, say): shown once in the answer, to hand over;
/// with `?email=true` also e-mailed to the user. It works once, for
/// `mail.reset_link_minutes`; a newer link replaces it.
#[utoipa::path(
    post, path = "/users/{username}/reset-link", tag = "accounts",
    params(("username" = Username, Path), ResetLinkQuery),
    responses(
        (status = 201, body = ResetLink),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn issue_reset_link(
    State(app): State<App>,
    Owner(owner): Owner,
    headers: axum::http::HeaderMap,
    Path(username): Path<String>,
    Query(query): Query<ResetLinkQuery>,
) -> Result<Response, ApiError> {
    let base = handed_link_base(&app, &headers);
    let link = app
        .issue_reset_link(&owner, &username, base, query.email)
        .await?;
    let mut response = (StatusCode::CREATED, axum::Json(link)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Where a link staff hand over starts (a reset or invitation link): the
/// shop's address, else the one the caller reached it at (a mailed link
/// never uses the latter), else the configured listener's.
pub(super) fn handed_link_base(app: &App, headers: &axum::http::HeaderMap) -> String {
    app.config()
        .public_base_url
        .clone()
        .or_else(|| super::quotes::reached_at(app, headers))
        .unwrap_or_else(|| crate::app::mail::link_base(app.config()))
}

/// First run: create the first owner with the one-time link `quarry serve`
/// printed, and sign them in.
#[utoipa::path(
    post, path = "/setup", tag = "accounts",
    request_body = SetupRequest,
    responses(
        (status = 201, body = SessionView),
        (status = 403, description = "The link was used, expired or is wrong", body = ErrorBody),
        (status = 409, description = "An owner exists already", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(()),
)]
pub async fn setup(
    State(app): State<App>,
    _sign_in: SignInRequest,
    Json(request): Json<SetupRequest>,
) -> Result<Response, ApiError> {
    let session = app.setup(request).await?;
    Ok(signed_in(&app, StatusCode::CREATED, session))
}

/// A trade contact accepts their invitation: sets a password with the
/// link's secret and is signed in (as `POST /auth/login` does). The link
/// works once, for seven days.
#[utoipa::path(
    post, path = "/auth/invite", tag = "accounts",
    request_body = InviteAcceptance,
    responses(
        (status = 201, body = SessionView, headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 400, body = ErrorBody),
        (status = 403, description = "The link was used, expired or is wrong", body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(()),
)]
pub async fn accept_invite(
    State(app): State<App>,
    _sign_in: SignInRequest,
    Json(acceptance): Json<InviteAcceptance>,
) -> Result<Response, ApiError> {
    let session = app.accept_invite(acceptance).await?;
    Ok(signed_in(&app, StatusCode::CREATED, session))
}

/// Whether the shop still waits for its first owner (the sign-in page then
/// points to the setup link).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SetupState {
    /// No enabled owner account exists yet.
    pub needed: bool,
}

/// Whether the first-run setup is still to be done.
#[utoipa::path(
    get, path = "/setup", tag = "accounts",
    responses((status = 200, body = SetupState)),
    security(()),
)]
pub async fn setup_state(State(app): State<App>) -> Result<axum::Json<SetupState>, ApiError> {
    Ok(axum::Json(SetupState {
        needed: !app.has_owner().await?,
    }))
}

/// Users, by name.
#[utoipa::path(
    get, path = "/users", tag = "accounts",
    responses(
        (status = 200, body = Listing<UserView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_users(
    State(app): State<App>,
    _owner: Owner,
) -> Result<axum::Json<Listing<UserView>>, ApiError> {
    Ok(axum::Json(Listing {
        items: app.users().await?,
        next_cursor: None,
    }))
}

/// Create a user.
#[utoipa::path(
    post, path = "/users", tag = "accounts",
    request_body = NewUser,
    responses(
        (status = 201, body = UserView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn create_user(
    State(app): State<App>,
    Owner(owner): Owner,
    Json(input): Json<NewUser>,
) -> Result<(StatusCode, axum::Json<UserView>), ApiError> {
    let user = app.create_user(&owner, input).await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// Change a user's role, password, or whether they are disabled. A new
/// password or disabling ends the user's sessions and revokes their tokens;
/// the last active owner cannot be demoted or disabled.
#[utoipa::path(
    patch, path = "/users/{username}", tag = "accounts",
    params(("username" = Username, Path)),
    request_body = UserPatch,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn update_user(
    State(app): State<App>,
    Owner(owner): Owner,
    Path(username): Path<String>,
    Json(patch): Json<UserPatch>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(app.update_user(&owner, &username, patch).await?))
}

/// API tokens, by name (never their secrets).
#[utoipa::path(
    get, path = "/tokens", tag = "accounts",
    responses(
        (status = 200, body = Listing<TokenView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_tokens(
    State(app): State<App>,
    _owner: Owner,
) -> Result<axum::Json<Listing<TokenView>>, ApiError> {
    Ok(axum::Json(Listing {
        items: app.tokens().await?,
        next_cursor: None,
    }))
}

/// Create an API token; its secret is in the answer, this once.
#[utoipa::path(
    post, path = "/tokens", tag = "accounts",
    request_body(content = TokenInput, example = json!({"name": "ci", "role": "staff", "expires_in_days": 90})),
    responses(
        (status = 201, body = NewToken),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn create_token(
    State(app): State<App>,
    Owner(owner): Owner,
    Json(input): Json<TokenInput>,
) -> Result<Response, ApiError> {
    let token = app.create_token(&owner, input).await?;
    let mut response = (StatusCode::CREATED, axum::Json(token)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revoke a token at once.
#[utoipa::path(
    delete, path = "/tokens/{name}", tag = "accounts",
    params(("name" = TokenName, Path)),
    responses(
        (status = 200, body = TokenView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn revoke_token(
    State(app): State<App>,
    Owner(owner): Owner,
    Path(name): Path<String>,
) -> Result<axum::Json<TokenView>, ApiError> {
    Ok(axum::Json(app.revoke_token(&owner, &name).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `user:NAME`, `token:NAME`, `cli`, `system` or `public`.
    actor: Option<String>,
    /// A kind (`auth.login_failed`) or a family of kinds (`auth`, `product`).
    kind: Option<String>,
    /// What changed: a SKU, a username, a quote number…
    key: Option<String>,
    /// Entries at or after this RFC 3339 time.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Entries before this RFC 3339 time.
    #[param(format = DateTime)]
    until: Option<String>,
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The audit log, newest first: every change and every sign-in event, with
/// who, when and from which address. A page may hold fewer than `limit`
/// entries when filters skip many; follow `next_cursor` until it is null.
#[utoipa::path(
    get, path = "/audit", tag = "accounts",
    params(AuditQuery),
    responses(
        (status = 200, body = Listing<AuditEntry>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn audit(
    State(app): State<App>,
    _owner: Owner,
    Query(q): Query<AuditQuery>,
) -> Result<axum::Json<Listing<AuditEntry>>, ApiError> {
    let filter = AuditFilter {
        actor: q.actor,
        kind: q.kind,
        key: q.key,
        from: query_time("from", q.from.as_deref())?,
        until: query_time("until", q.until.as_deref())?,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(axum::Json(app.audit(filter).await?))
}
