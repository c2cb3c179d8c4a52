//! Health checks, the `OpenAPI` document and the embedded web UI.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::Path;
use crate::app::App;
use crate::domain::units::Unit;

/// Liveness: the process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "Alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store is open and answers reads.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = String), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(app): State<App>) -> Result<&'static str, ApiError> {
    if app.ready().await {
        Ok("ready")
    } else {
        Err(ApiError::new(
            ErrorCode::Unavailable,
            "the store does not answer",
        ))
    }
}

/// What the storefront shows about the shop: its name, currency and contact.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ShopInfo {
    name: String,
    currency: String,
    contact: String,
    prices_include_tax: bool,
    /// The tax classes products may name.
    tax_classes: Vec<String>,
    /// Every standard unit, for forms and the quote calculator (a product
    /// also sells in its packs).
    units: Vec<UnitInfo>,
    /// The shop's locale (`de-DE`): how pages write numbers and dates.
    locale: String,
    /// The message catalogue the storefront speaks: `en` or `de`.
    language: &'static str,
    /// `,` or `.`: how people here write decimals (the API always takes a dot).
    decimal_separator: String,
    /// Whether the shop sends mail (`[mail]`): quote links to customers,
    /// password-reset links to staff.
    mail: bool,
}

/// A standard unit: its code in the API, its name for people, and what it
/// measures (`mass`, `volume`, `length`, `area`, `count`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitInfo {
    code: &'static str,
    label: &'static str,
    dimension: String,
}

/// The shop's name, currency and contact, as configured (`[shop]`).
#[utoipa::path(get, path = "/shop", tag = "system",
    responses((status = 200, body = ShopInfo)),
    security(()))]
pub async fn shop(State(app): State<App>) -> axum::Json<ShopInfo> {
    let shop = &app.config().shop;
    axum::Json(ShopInfo {
        name: shop.name.clone(),
        currency: shop.currency.clone(),
        contact: shop.contact.clone(),
        prices_include_tax: shop.prices_include_tax,
        tax_classes: shop.tax_classes.keys().cloned().collect(),
        units: Unit::ALL
            .iter()
            .map(|u| UnitInfo {
                code: u.code(),
                label: u.label(),
                dimension: u.dimension().to_string(),
            })
            .collect(),
        locale: shop.locale().to_string(),
        language: shop.locale().catalogue(),
        decimal_separator: shop.locale().decimal_separator().to_string(),
        mail: app.config().mail.enabled(),
    })
}

/// This document: `OpenAPI` 3.1, generated from the code.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi(
    axum::Extension(document): axum::Extension<std::sync::Arc<String>>,
) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.as_str().to_owned(),
    )
        .into_response()
}

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// A file of the web UI (scripts, styles, images).
#[utoipa::path(get, path = "/assets/{path}", tag = "ui",
    params(("path" = String, Path, description = "File under assets/")),
    responses((status = 200, description = "The file"), (status = 304), (status = 404, body = ErrorBody)))]
pub async fn asset_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    asset(&path, &headers)
}

pub(super) fn asset(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return ApiError::not_found(format!("no file {path}")).into_response();
    };
    let hash = file.metadata.sha256_hash();
    let tag = format!("\"{}\"", crate::auth::hex(&hash[..8]));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = file.data.into_owned().into_response();
    let out = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
        out.insert(header::CONTENT_TYPE, mime);
    }
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, tag);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
