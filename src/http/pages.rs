//! The web UI's pages: the storefront and the back office. Each is a static
//! HTML file from `assets/` whose ES modules call the JSON API; the back
//! office's pages are only sent to signed-in callers, others are sent to its
//! sign-in page.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{Caller, Path};
use super::system::asset;
use crate::app::App;
use crate::domain::text::escape_html;
use crate::domain::values::Sku;

/// Whether the request is a browser's asking for a page (its `Accept` names
/// HTML), so a miss gets a page rather than a JSON error.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A styled page saying what was not found, with a 404 status and the ways
/// on: back to the shop, or a search for `search` when given.
pub fn not_found_page(app: &App, title: &str, message: &str, search: Option<&str>) -> Response {
    let shop = escape_html(&app.config().shop.name);
    let search_link = search
        .filter(|q| !q.trim().is_empty())
        .map(|q| {
            let query = serde_urlencoded::to_string([("q", q)]).unwrap_or_default();
            format!(
                "<a class=\"button\" href=\"/?{}\">Search the catalogue for “{}”</a> ",
                escape_html(&query),
                escape_html(q)
            )
        })
        .unwrap_or_default();
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · {shop}</title><link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">\
<link rel=\"stylesheet\" href=\"/assets/quarry.css\"></head><body>\
<header class=\"topbar\"><a class=\"shop-name\" href=\"/\">{shop}</a></header>\
<main class=\"page\"><section class=\"card not-found\"><h1>{title}</h1><p>{message}</p>\
<p class=\"row\">{search_link}<a href=\"/\">Go to the shop</a></p></section></main></body></html>",
        title = escape_html(title),
        message = escape_html(message),
    );
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// What answers a path no route has: for a browser, `/admin/` and other
/// paths with a trailing slash go to the path without it, and anything else
/// gets a page saying so; API clients get the JSON error.
pub async fn fallback(
    State(app): State<App>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let api = path == "/api" || path.starts_with("/api/");
    if api || !wants_html(&headers) {
        return ApiError::not_found("no such route").into_response();
    }
    let trimmed = path.trim_end_matches('/');
    if (method == Method::GET || method == Method::HEAD) && !trimmed.is_empty() && trimmed != path {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
        if let Ok(value) = HeaderValue::from_str(&format!("{trimmed}{query}")) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return response;
    }
    not_found_page(
        &app,
        "Page not found",
        "There is no page at this address. It may have moved, or the link may be mistyped.",
        None,
    )
}

/// The back office's sections: `/admin/{section}`.
pub const ADMIN_SECTIONS: &[&str] = &[
    "products",
    "product",
    "stock",
    "history",
    "locations",
    "labels",
    "stocktake",
    "delivery",
    "quotes",
    "quote",
    "customers",
    "customer",
    "price-lists",
    "users",
    "audit",
    "webhooks",
    "mail",
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
        (status = 404, description = "No such product (a page saying so)", content_type = "text/html"),
    ))]
pub async fn product_page(
    State(app): State<App>,
    caller: Result<Caller, ApiError>,
    Path(sku): Path<String>,
    headers: HeaderMap,
) -> Response {
    // No page for a product the caller cannot see: a 404 that says so and
    // offers a search for what was asked. Bad credentials make an anonymous
    // visitor here (the page is public), not an error.
    let caller = caller.ok().and_then(|c| c.0);
    match app.get_product(caller.as_ref(), &sku).await {
        Ok(_) => asset("product.html", &headers),
        Err(crate::app::AppError::NotFound { .. }) => not_found_page(
            &app,
            "Product not found",
            &format!(
                "The shop has no product {}: it may have been withdrawn, or the link may be mistyped.",
                sku.trim()
            ),
            Some(&sku.replace(['-', '_'], " ")),
        ),
        Err(error) => ApiError::from(error).into_response(),
    }
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

/// The page a password-reset link opens: a new password, twice (the link's
/// secret stays in the address's `#` part, never sent to the server but by
/// the page's own request).
#[utoipa::path(get, path = "/reset", tag = "ui",
    responses((status = 200, description = "The password-reset page", content_type = "text/html")))]
pub async fn reset_page(headers: HeaderMap) -> Response {
    asset("reset.html", &headers)
}

/// A trade contact's account: sign-in, their quotes (open, accepted,
/// fulfilled) with "order again", and their prices. Staff who come here are
/// pointed to the back office.
#[utoipa::path(get, path = "/account", tag = "ui",
    responses((status = 200, description = "The trade account page", content_type = "text/html")))]
pub async fn account_page(headers: HeaderMap) -> Response {
    let mut page = asset("account.html", &headers);
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}

/// The page a contact's invitation link opens: a password, twice (the
/// link's secret stays in the address's `#` part, sent to the server only by
/// the page's own request).
#[utoipa::path(get, path = "/invite", tag = "ui",
    responses((status = 200, description = "The invitation page", content_type = "text/html")))]
pub async fn invite_page(headers: HeaderMap) -> Response {
    asset("invite.html", &headers)
}

/// One of a signed-in contact's quotes as a printable page; others are
/// sent to the account page to sign in, and any quote not their customer's
/// is "not found".
#[utoipa::path(get, path = "/account/quotes/{number}", tag = "ui",
    params(("number" = crate::domain::quotes::QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, description = "The quote as a printable page", content_type = "text/html"),
        (status = 303, description = "Not signed in as a trade contact: to the account page"),
        (status = 404, description = "Not one of the customer's quotes", content_type = "text/html"),
    ))]
pub async fn account_quote_page(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(number): Path<String>,
) -> Response {
    let missing = || {
        not_found_page(
            &app,
            "Quote not found",
            "None of your quotes has this number.",
            None,
        )
    };
    // A number that cannot be one is not found, whoever asks.
    if crate::domain::quotes::QuoteNumber::parse(&number).is_err() {
        return missing();
    }
    let Some(contact) = caller.filter(|p| p.customer.is_some()) else {
        return see_other("/account");
    };
    match app.account_quote(&contact, &number).await {
        Ok(quote) => super::quotes::quote_document(
            &app,
            &quote,
            "Your quotes are on your account page, at /account, whenever you sign in.",
        ),
        Err(crate::app::AppError::NotFound { .. }) => missing(),
        Err(error) => ApiError::from(error).into_response(),
    }
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
    params(("section" = String, Path, description = "products, product, stock, history, locations, labels, quotes, quote, users, audit, webhooks, mail or data")),
    responses(
        (status = 200, description = "The back office", content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in page"),
        (status = 404),
    ))]
pub async fn admin_section_page(
    State(app): State<App>,
    caller: Caller,
    Path(section): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !ADMIN_SECTIONS.contains(&section.as_str()) {
        if wants_html(&headers) {
            return not_found_page(
                &app,
                "Page not found",
                "The back office has no such page.",
                None,
            );
        }
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

pub(super) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
