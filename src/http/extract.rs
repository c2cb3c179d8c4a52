//! Extractors: request bodies and query strings that answer in Quarry's error
//! format, `If-Match`, and the callers' rights as types in handler signatures.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use utoipa::openapi::path::Parameter;

use super::error::ApiError;
use super::error::ErrorCode;
use super::net::{Bucket, Limiters};
use crate::app::{App, Precondition, Principal};
use crate::domain::accounts::{Role, Scope};

/// A JSON body and the fingerprint of the request (SHA-256 of its method, path
/// and body), for `Idempotency-Key`.
pub struct FingerprintedJson<T>(pub T, pub String);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FingerprintedJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use sha2::{Digest, Sha256};
        check_json_content_type(&req)?;
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(req.uri().path().as_bytes());
        hasher.update(b"\n");
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| body_rejection(&r))?;
        hasher.update(without_bom(&bytes));
        let value = parse_json(&bytes)?;
        Ok(Self(value, crate::auth::hex(&hasher.finalize())))
    }
}

/// The `Idempotency-Key` header, if sent.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(value) => value
                .to_str()
                .map(|v| Self(Some(v.to_owned())))
                .map_err(|_| {
                    ApiError::new(
                        ErrorCode::BadRequest,
                        "Idempotency-Key must be visible ASCII",
                    )
                    .with_field("Idempotency-Key")
                }),
        }
    }
}

/// A JSON body must be declared as JSON, and if it names a charset, UTF-8:
/// JSON is UTF-8 (RFC 8259), and a body declared as UTF-16 would otherwise be
/// read as something it is not.
fn check_json_content_type(req: &Request) -> Result<(), ApiError> {
    let refuse = |message: String| {
        Err(ApiError::new(ErrorCode::UnsupportedMediaType, message).with_field("Content-Type"))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = declared.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return refuse("send the body as JSON with `Content-Type: application/json`".into());
    }
    for parameter in parts {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let charset = value.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !charset.eq_ignore_ascii_case("utf-8")
            && !charset.eq_ignore_ascii_case("utf8")
        {
            return refuse(format!(
                "JSON bodies must be UTF-8, not charset={charset}; send them as \
                 `Content-Type: application/json` (or with charset=utf-8)"
            ));
        }
    }
    Ok(())
}

/// The body without a UTF-8 byte order mark, which some Windows tools write
/// before JSON (RFC 8259 lets a parser ignore it).
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A JSON request body: must be declared as JSON, fit the body limit (413), be
/// well-formed (400) and match the expected shape with no unknown fields (422,
/// naming the field).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_json_content_type(&req)?;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| body_rejection(&r))?;
        parse_json(&bytes).map(Json)
    }
}

fn body_rejection(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this server accepts (limits.body_bytes)",
        )
    } else {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("could not read the request body: {rejection}"),
        )
    }
}

/// Deserializes `bytes` (after a byte order mark, if any), naming the path of
/// whatever does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let invalid_json = |inner: &serde_json::Error| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {inner}"),
        )
    };
    // serde reads a struct from an array of its fields in order too; every
    // body of this API is an object, so one written as an array is refused.
    if without_bom(bytes).trim_ascii_start().starts_with(b"[") {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            "the body must be a JSON object, not an array",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(without_bom(bytes));
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner();
        if inner.is_syntax() || inner.is_eof() {
            return invalid_json(inner);
        }
        let message = inner.to_string();
        let path = error.path().to_string();
        // serde reports a missing field at its parent: name the field.
        let named = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (named, path.as_str()) {
            (Some(name), ".") => name.to_owned(),
            (Some(name), parent) => format!("{parent}.{name}"),
            (None, path) => path.to_owned(),
        };
        let message = strip_position(&message);
        ApiError::new(
            ErrorCode::ValidationFailed,
            if field == "." {
                message
            } else {
                format!("{field}: {message}")
            },
        )
        .with_field(field)
    })?;
    deserializer.end().map_err(|e| invalid_json(&e))?;
    Ok(value)
}

/// `serde_json` appends " at line 1 column 42" to data errors; the field says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string parsed into `T`, or a 400 that names the parameter at
/// fault and the form it takes (read from the route's documented parameters).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + IntoParams, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Longest query string read, in bytes.
const LONGEST_QUERY: usize = 2048;

/// Deserializes a query string, naming the parameter of whatever does not fit.
pub fn parse_query<T: DeserializeOwned + IntoParams>(query: &str) -> Result<T, ApiError> {
    if query.len() > LONGEST_QUERY {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("the query string is longer than {LONGEST_QUERY} bytes"),
        ));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        query_error(
            &T::into_params(|| None),
            query,
            &path,
            &error.into_inner().to_string(),
        )
    })
}

/// The 400 for a query string that does not fit the route's parameters.
fn query_error(params: &[Parameter], query: &str, path: &str, message: &str) -> ApiError {
    // serde names the parameter in these messages, at the struct's path.
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let (field, message) = if let Some(name) = named("unknown field `") {
        let known = params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("{name} is not a parameter of this request; it takes {known}");
        (name, message)
    } else if let Some(name) = named("missing field `") {
        let message = format!("{name} is required");
        (name, message)
    } else if let Some(name) = named("duplicate field `") {
        let message = format!("{name} is given more than once; give it once");
        (name, message)
    } else if path.is_empty() || path == "." {
        return ApiError::new(
            ErrorCode::BadRequest,
            format!("bad query string: {message}"),
        );
    } else {
        let param = params.iter().find(|p| p.name == path);
        let expected = param
            .and_then(expected_form)
            .or_else(|| {
                // An enum documented by reference: serde lists its values.
                message
                    .split_once("expected ")
                    .map(|(_, expected)| expected.replace('`', ""))
            })
            .unwrap_or_else(|| message.to_owned());
        let sent = form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == path)
            .map(|(_, value)| value.chars().take(40).collect::<String>())
            .unwrap_or_default();
        (
            path.to_owned(),
            format!("{path} must be {expected}, not {sent:?}"),
        )
    };
    ApiError::new(ErrorCode::BadRequest, message).with_field(field)
}

/// What a documented parameter takes, in words: "a whole number from 1 to
/// 500", "true or false", "asc or desc".
fn expected_form(param: &Parameter) -> Option<String> {
    let schema = serde_json::to_value(param.schema.as_ref()?).ok()?;
    let number = |key: &str| schema.get(key).and_then(serde_json::Value::as_f64);
    if let Some(values) = schema.get("enum").and_then(serde_json::Value::as_array) {
        let values: Vec<&str> = values
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        return Some(match values.as_slice() {
            [one] => (*one).to_owned(),
            [first, second] => format!("{first} or {second}"),
            _ => format!("one of {}", values.join(", ")),
        });
    }
    match schema.get("type").and_then(serde_json::Value::as_str)? {
        "boolean" => Some("true or false".to_owned()),
        "integer" => Some(match (number("minimum"), number("maximum")) {
            (Some(min), Some(max)) => format!("a whole number from {min} to {max}"),
            (Some(min), None) => format!("a whole number, {min} or more"),
            (None, Some(max)) => format!("a whole number up to {max}"),
            (None, None) => "a whole number".to_owned(),
        }),
        "number" => Some("a number".to_owned()),
        _ => None,
    }
}

/// Path parameters, or a 400 in Quarry's error format naming the parameter
/// (axum's own rejection is plain text, with no field).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                let (field, message) = match error.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key } => (
                        Some(key.clone()),
                        format!("{key} in the path is not valid UTF-8 once percent-decoded"),
                    ),
                    ErrorKind::ParseErrorAtKey {
                        key,
                        value,
                        expected_type,
                    } => (
                        Some(key.clone()),
                        format!("{key} in the path must be a {expected_type}, not {value:?}"),
                    ),
                    ErrorKind::DeserializeError { key, message, .. } => {
                        (Some(key.clone()), format!("{key} in the path: {message}"))
                    }
                    other => (None, format!("bad path: {other}")),
                };
                let error = ApiError::new(ErrorCode::BadRequest, message);
                Err(match field {
                    Some(field) => error.with_field(field),
                    None => error,
                })
            }
            Err(other) => {
                tracing::error!(error = %other, "a route's path parameters are missing");
                Err(ApiError::new(
                    ErrorCode::Internal,
                    "something went wrong on the server; it has been logged",
                ))
            }
        }
    }
}

/// A time in a query string (`from`, `until`): RFC 3339, or a 400 naming it.
pub fn query_time(field: &str, value: Option<&str>) -> Result<Option<jiff::Timestamp>, ApiError> {
    value
        .map(|s| {
            s.parse::<jiff::Timestamp>().map_err(|e| {
                ApiError::from(crate::app::AppError::bad_request(
                    Some(field),
                    format!("{field} must be an RFC 3339 time such as 2026-01-31T12:00:00Z: {e}"),
                ))
            })
        })
        .transpose()
}

/// The `If-Match` header as a [`Precondition`].
pub struct IfMatch(pub Precondition);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(Precondition::Any));
        };
        let value = value.to_str().unwrap_or_default().trim();
        if value == "*" {
            return Ok(Self(Precondition::Any));
        }
        let version = value
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse::<u64>()
            .map_or(Precondition::Never, Precondition::Version);
        Ok(Self(version))
    }
}

/// The `ETag` of a resource version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// The browser session cookie: `__Host-` prefixed (which browsers accept only
/// with `Secure`, `Path=/` and no `Domain`) when Quarry is reached over TLS.
pub fn session_cookie_name(app: &App) -> &'static str {
    if secure(app) {
        "__Host-quarry_session"
    } else {
        "quarry_session"
    }
}

/// Whether browsers reach Quarry over TLS (directly or through a proxy).
pub fn secure(app: &App) -> bool {
    let config = app.config();
    config.auth.secure_cookies || config.tls.cert.is_some()
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// Anyone: the principal if valid credentials came with the request, `None`
/// without. A bearer token wins over a session cookie; an invalid token is
/// refused (401), never silently ignored, while an ended session is just no
/// session. A cookie-authenticated change must pass the CSRF check.
#[derive(Clone)]
pub struct Caller(pub Option<Principal>);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<Caller>() {
            return Ok(known.clone());
        }
        let caller = Self(identify(parts, app).await?);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

async fn identify(parts: &Parts, app: &App) -> Result<Option<Principal>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        let (scheme, secret) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || secret.trim().is_empty() {
            return Err(ApiError::unauthenticated(
                "send the token as `Authorization: Bearer <token>`",
            ));
        }
        let principal = app.authenticate(secret.trim().to_owned()).await?;
        return Ok(Some(principal));
    }
    let Some(secret) = cookie(&parts.headers, session_cookie_name(app)) else {
        return Ok(None);
    };
    let Some(principal) = app.authenticate_session(secret.to_owned()).await? else {
        return Ok(None);
    };
    if !parts.method.is_safe() {
        check_csrf(parts, app, &principal)?;
    }
    Ok(Some(principal))
}

fn csrf_failed(message: &str) -> ApiError {
    ApiError::new(ErrorCode::CsrfFailed, message)
}

/// The scheme and authority of a URL: its origin.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (!scheme.is_empty() && end > 0).then(|| &url[..scheme.len() + 3 + end])
}

/// Whether the request comes from one of Quarry's own pages: its `Origin`
/// (or, lacking one, its `Referer`) names the host the request was sent to,
/// or the configured `public_base_url`.
pub fn same_origin(parts: &Parts, app: &App) -> bool {
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) =
        header(header::ORIGIN).or_else(|| header(header::REFERER).and_then(origin_of))
    else {
        return false;
    };
    let Some((_, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = header(header::HOST).or_else(|| {
        parts
            .uri
            .authority()
            .map(axum::http::uri::Authority::as_str)
    });
    let configured = app
        .config()
        .public_base_url
        .as_deref()
        .and_then(origin_of)
        .is_some_and(|base| base.eq_ignore_ascii_case(origin));
    configured || host.is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

/// A change made with a session cookie must come from Quarry's own pages and
/// carry the session's CSRF token: another site can make a browser send the
/// cookie, but can neither set these headers nor read the token.
fn check_csrf(parts: &Parts, app: &App, principal: &Principal) -> Result<(), ApiError> {
    let Some(session) = &principal.session else {
        return Ok(());
    };
    if !same_origin(parts, app) {
        return Err(csrf_failed(
            "a change made with a browser session must come from Quarry's own pages",
        ));
    }
    let sent = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !crate::auth::same_secret(sent, &session.csrf) {
        return Err(csrf_failed(
            "send the session's CSRF token (from login or GET /api/v1/auth/me) in X-CSRF-Token",
        ));
    }
    Ok(())
}

/// What a route needs of a token's scopes.
#[derive(Clone, Copy)]
enum Needs {
    /// Nothing: any scopes will do.
    Any,
    /// This scope, if the token is scoped.
    Scope(Scope),
    /// An unscoped token or a session.
    Unscoped,
}

async fn require(
    parts: &mut Parts,
    app: &App,
    role: Role,
    needs: Needs,
) -> Result<Principal, ApiError> {
    let Caller(principal) = Caller::from_request_parts(parts, app).await?;
    let principal = principal.ok_or_else(|| {
        ApiError::unauthenticated("sign in, or send a token: `Authorization: Bearer <token>`")
    })?;
    let forbidden = |message: String| ApiError::new(ErrorCode::Forbidden, message);
    if principal.role < role {
        return Err(forbidden(format!(
            "this needs the {role} role; you have the {} role",
            principal.role
        )));
    }
    match (needs, &principal.scopes) {
        (Needs::Scope(scope), Some(_)) if !principal.can(scope) => Err(forbidden(format!(
            "this needs the {} scope, which the token was not given",
            scope.as_str()
        ))),
        (Needs::Unscoped, Some(_)) => Err(forbidden(
            "a token with scopes cannot manage users, tokens or the audit log".into(),
        )),
        _ => Ok(principal),
    }
}

macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident, $role:expr, $needs:expr) => {
        $(#[$meta])*
        pub struct $name(pub Principal);

        impl FromRequestParts<App> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                app: &App,
            ) -> Result<Self, Self::Rejection> {
                require(parts, app, $role, $needs).await.map(Self)
            }
        }
    };
}

role_extractor!(
    /// A signed-in caller of any role or scope, trade contacts included
    /// (who am I, sign out).
    SignedIn,
    Role::Contact,
    Needs::Any
);

/// A signed-in trade contact (their own account); staff and tokens get 403.
pub struct TradeContact(pub Principal);

impl FromRequestParts<App> for TradeContact {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let principal = require(parts, app, Role::Contact, Needs::Any).await?;
        if principal.customer.is_none() {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this is a trade contact's own account: sign in with a contact's e-mail address",
            ));
        }
        Ok(Self(principal))
    }
}
role_extractor!(
    /// A caller who may read what signed-in users read: at least the viewer
    /// role, and the `read` scope if the token is scoped.
    Viewer,
    Role::Viewer,
    Needs::Scope(Scope::Read)
);
role_extractor!(
    /// Staff changing the catalogue or locations (`catalogue:write`).
    CatalogueStaff,
    Role::Staff,
    Needs::Scope(Scope::CatalogueWrite)
);
role_extractor!(
    /// Staff booking or reversing movements (`stock:write`).
    StockStaff,
    Role::Staff,
    Needs::Scope(Scope::StockWrite)
);
role_extractor!(
    /// Staff accepting, fulfilling or cancelling quotes (`quotes:write`).
    QuoteStaff,
    Role::Staff,
    Needs::Scope(Scope::QuotesWrite)
);
role_extractor!(
    /// An owner with an unscoped token or a session (users, tokens, audit).
    Owner,
    Role::Owner,
    Needs::Unscoped
);

/// The caller of a public endpoint that costs real work: anonymous callers
/// draw from their address's token bucket and get 429 when it is empty;
/// signed-in callers are accountable and do not.
async fn limited(
    parts: &mut Parts,
    app: &App,
    bucket: Bucket,
) -> Result<Option<Principal>, ApiError> {
    let Caller(principal) = Caller::from_request_parts(parts, app).await?;
    // A sub-request of an anonymous batch was counted when the batch came in.
    let counted = matches!(bucket, Bucket::Public)
        && parts.extensions.get::<super::batch::Counted>().is_some();
    if principal.is_none()
        && !counted
        && let Some(limiters) = parts.extensions.get::<std::sync::Arc<Limiters>>()
        && let Ok(client) = crate::app::CLIENT.try_with(|ip| *ip)
    {
        limiters.check(bucket, client)?;
    }
    Ok(principal)
}

macro_rules! limited_extractor {
    ($(#[$meta:meta])* $name:ident, $bucket:expr) => {
        $(#[$meta])*
        pub struct $name(pub Option<Principal>);

        impl FromRequestParts<App> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                app: &App,
            ) -> Result<Self, Self::Rejection> {
                limited(parts, app, $bucket).await.map(Self)
            }
        }
    };
}

limited_extractor!(
    /// Anyone calling search, suggestions or estimates.
    PublicCaller,
    Bucket::Public
);
limited_extractor!(
    /// Anyone asking for a quote.
    QuoteRequester,
    Bucket::Quotes
);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        quantity: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        lines: Vec<Line>,
    }

    #[test]
    fn errors_name_the_path_of_the_bad_field() {
        let err = parse_json::<Doc>(
            br#"{"lines":[{"sku":"A","quantity":1},{"sku":"B","quantity":"x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.field.as_deref(), Some("lines[1].quantity"));
        let err =
            parse_json::<Doc>(br#"{"lines":[{"sku":"A","quantity":1,"price":2}]}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("lines[0].price"));
        let err = parse_json::<Doc>(br#"{"lines":[{"quantity":1}]}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("lines[0].sku"));
        let err = parse_json::<Doc>(br#"{"extra":1,"lines":[]}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("extra"));
    }

    #[test]
    fn malformed_json_is_a_400() {
        let err = parse_json::<Doc>(br#"{"lines": ["#).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.code, ErrorCode::InvalidJson);
        let err = parse_json::<Doc>(br#"{"lines": []} trailing"#).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    /// Regression (API fuzzing): `PATCH /locations/YARD` with `[null, null]`
    /// was read as a patch of two absent fields.
    #[test]
    fn a_body_written_as_an_array_is_refused() {
        let err = parse_json::<Doc>(b" [[]]").unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed, "{}", err.message);
        assert!(err.message.contains("JSON object"), "{}", err.message);
        assert!(parse_json::<Doc>(br#"{"lines": []}"#).is_ok());
    }
}
