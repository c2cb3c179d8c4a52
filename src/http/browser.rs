//! What browsers are told: security headers on every response, and CORS for
//! the public API when the configuration allows other sites' pages to call it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Config;

/// Scripts and styles only from Quarry's own files (no inline script, no
/// eval), no plugins, no `<base>`, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Paths other sites' pages may call when their origin is allowed: the
/// catalogue, search and quoting a shop front needs, never staff routes.
/// (path, whether paths below it count too, methods).
const PUBLIC_API: &[(&str, bool, &[Method])] = &[
    ("/api/v1/products", true, &[Method::GET]),
    ("/api/v1/search", true, &[Method::GET]),
    (
        "/api/v1/quote/estimate",
        false,
        &[Method::GET, Method::POST],
    ),
    ("/api/v1/quotes", false, &[Method::POST]),
    ("/api/v1/quotes/link", true, &[Method::GET]),
];

fn public(path: &str, method: &Method) -> bool {
    PUBLIC_API.iter().any(|(route, below, methods)| {
        let matches = path == *route
            || (*below
                && path
                    .strip_prefix(route)
                    .is_some_and(|rest| rest.starts_with('/')));
        matches && methods.contains(method)
    })
}

pub struct Policy {
    /// Whether browsers reach Quarry over TLS: then HSTS too.
    secure: bool,
    cors_origins: Vec<String>,
}

impl Policy {
    pub fn new(config: &Config) -> Self {
        Self {
            secure: config.auth.secure_cookies || config.tls.cert.is_some(),
            cors_origins: config.cors.allowed_origins.clone(),
        }
    }

    /// The origin to allow, if `headers` come from an allowed origin calling
    /// a public path with `method`.
    fn cors_origin(&self, headers: &HeaderMap, path: &str, method: &Method) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let allowed_origin = self
            .cors_origins
            .iter()
            .any(|o| o.as_bytes() == origin.as_bytes());
        (allowed_origin && public(path, method)).then(|| origin.clone())
    }
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Middleware: answers CORS preflights for the public API, and puts the
/// security headers on every response.
pub async fn headers(State(policy): State<Arc<Policy>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let cors = if preflight {
        let asked = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok());
        asked.and_then(|m| policy.cors_origin(request.headers(), &path, &m))
    } else {
        policy.cors_origin(request.headers(), &path, request.method())
    };
    let mut response = match (&cors, preflight) {
        (Some(_), true) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            set(headers, header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST");
            set(
                headers,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "content-type, idempotency-key",
            );
            set(headers, header::ACCESS_CONTROL_MAX_AGE, "600");
            response
        }
        _ => next.run(request).await,
    };
    let headers = response.headers_mut();
    if let Some(origin) = cors {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        set(
            headers,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "retry-after, etag",
        );
    }
    if !policy.cors_origins.is_empty() {
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(self), microphone=(), geolocation=(), payment=()",
    );
    if policy.secure {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000",
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str]) -> Policy {
        Policy {
            secure: false,
            cors_origins: origins.iter().map(ToString::to_string).collect(),
        }
    }

    fn from(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, origin.parse().unwrap());
        headers
    }

    #[test]
    fn cors_is_for_allowed_origins_on_public_paths_only() {
        let p = policy(&["https://shop.example.com"]);
        let shop = from("https://shop.example.com");
        assert!(
            p.cors_origin(&shop, "/api/v1/search", &Method::GET)
                .is_some()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/search/suggest", &Method::GET)
                .is_some()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/products/SAND-04", &Method::GET)
                .is_some()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/quotes", &Method::POST)
                .is_some()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/quotes", &Method::GET)
                .is_none(),
            "staff list"
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/products", &Method::POST)
                .is_none()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/movements", &Method::GET)
                .is_none()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/searchable", &Method::GET)
                .is_none()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/quotes/Q-1/accept", &Method::POST)
                .is_none()
        );
        assert!(
            p.cors_origin(&shop, "/api/v1/quotes/link/abc", &Method::GET)
                .is_some()
        );
        let other = from("https://evil.example");
        assert!(
            p.cors_origin(&other, "/api/v1/search", &Method::GET)
                .is_none()
        );
        assert!(
            policy(&[])
                .cors_origin(&shop, "/api/v1/search", &Method::GET)
                .is_none()
        );
    }
}
