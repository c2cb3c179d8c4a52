//! The web UI's pages: the storefront and the back office. Each is a static
//! HTML file from `assets/` whose ES modules call the JSON API; the back
//! office's pages are only sent to signed-in callers, others are sent to its
//! sign-in page.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{Caller, Path};
use super::system::asset;
use crate::domain::values::Sku;

/// The back office's sections: `/admin/{section}`.
pub const ADMIN_SECTIONS: &[&str] = &[
    "products",
    "product",
    "stock",
    "history",
    "locations",
    "quotes",
    "quote",
    "users",
    "audit",
    "webhooks",
    "data",
];

/// The storefront: search the catalogue.
#[utoipa::path(get, path = "/", tag = "ui",
    responses((status = 200, description = "The storefront", content_type = "text/html")))]
pub async fn index(headers: HeaderMap) -> Response {
    asset("index.html", &headers)
}

/// A product's page with its quote calculator.
#[utoipa::path(get, path = "/p/{sku}", tag = "ui",
    params(("sku" = Sku, Path, description = "The product's SKU")),
    responses(
        (status = 200, description = "The product page", content_type = "text/html"),
        (status = 404, description = "What cannot be a SKU"),
    ))]
pub async fn product_page(Path(sku): Path<String>, headers: HeaderMap) -> Response {
    // No page for what cannot be a SKU (the page would only say so later).
    if Sku::parse(&sku).is_err() {
        return StatusCode::NOT_FOUND.into_response();
    }
    asset("product.html", &headers)
}

/// The customer's quote list, and the request for a saved quote.
#[utoipa::path(get, path = "/quote", tag = "ui",
    responses((status = 200, description = "The quote list", content_type = "text/html")))]
pub async fn quote_list_page(headers: HeaderMap) -> Response {
    asset("quote-list.html", &headers)
}

/// The first-run page the setup link opens.
#[utoipa::path(get, path = "/setup", tag = "ui",
    responses((status = 200, description = "The setup page", content_type = "text/html")))]
pub async fn setup_page(request: Request) -> Response {
    asset("setup.html", request.headers())
}

/// Where the first sign-in page was: now the back office's.
#[utoipa::path(get, path = "/account", tag = "ui",
    responses((status = 303, description = "To the back office's sign-in page")))]
pub async fn account_page() -> Response {
    see_other("/admin/login")
}

/// The back office's sign-in page.
#[utoipa::path(get, path = "/admin/login", tag = "ui",
    responses((status = 200, description = "The sign-in page", content_type = "text/html")))]
pub async fn admin_login_page(headers: HeaderMap) -> Response {
    asset("login.html", &headers)
}

/// The back office's dashboard (signed-in callers; others are sent to sign in).
#[utoipa::path(get, path = "/admin", tag = "ui",
    responses(
        (status = 200, description = "The back office", content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in page"),
    ))]
pub async fn admin_page(caller: Caller, uri: Uri, headers: HeaderMap) -> Response {
    admin(&caller, &uri, &headers)
}

/// A section of the back office (signed-in callers; others are sent to sign in).
#[utoipa::path(get, path = "/admin/{section}", tag = "ui",
    params(("section" = String, Path, description = "products, product, stock, history, locations, quotes, quote, users, audit or data")),
    responses(
        (status = 200, description = "The back office", content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in page"),
        (status = 404),
    ))]
pub async fn admin_section_page(
    caller: Caller,
    Path(section): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !ADMIN_SECTIONS.contains(&section.as_str()) {
        return ApiError::not_found(format!("the back office has no page {section}"))
            .into_response();
    }
    admin(&caller, &uri, &headers)
}

fn admin(caller: &Caller, uri: &Uri, headers: &HeaderMap) -> Response {
    if caller.0.as_ref().is_some_and(crate::app::Principal::reads) {
        let mut page = asset("admin.html", headers);
        // A signed-out browser must not show the page from its cache.
        page.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        page
    } else {
        // The path is one of ours, so `next` can only lead back into the back
        // office (the sign-in page checks it again).
        let here = uri.path_and_query().map_or("/admin", |p| p.as_str());
        let query = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
        see_other(&format!("/admin/login?{query}"))
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
