//! `/labels`: shelf and bin labels for chosen products or a location's
//! stock (staff), laid out and printed by the back office.

use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Viewer};
use crate::app::labels::{LabelChoice, LabelSheet};
use crate::app::{App, AppError};

/// Which products get a label: name either `skus` or `location`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    /// These products, in this order (at most 1000).
    #[schema(max_items = 1000)]
    skus: Option<Vec<String>>,
    /// Or every active product with stock on hand at this location.
    location: Option<String>,
}

/// Labels: for each product its name, price, barcode (its EAN-13, else the
/// SKU in Code 128) and a QR code to its storefront page, as SVG images.
/// Reads only; a POST because a list of SKUs outgrows a query string.
#[utoipa::path(
    post, path = "/labels", tag = "catalogue",
    request_body = LabelRequest,
    responses(
        (status = 200, body = LabelSheet),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn labels(
    State(app): State<App>,
    _viewer: Viewer,
    headers: HeaderMap,
    Json(request): Json<LabelRequest>,
) -> Result<axum::Json<LabelSheet>, ApiError> {
    let choice = match (request.skus, request.location) {
        (Some(skus), None) => LabelChoice::Products(skus),
        (None, Some(location)) => LabelChoice::Location(location),
        _ => {
            return Err(AppError::bad_request(None, "name either skus or location").into());
        }
    };
    let config = app.config();
    let base = config
        .public_base_url
        .clone()
        .or_else(|| super::quotes::reached_at(&app, &headers))
        .unwrap_or_else(|| format!("http://{}", config.listen));
    Ok(axum::Json(app.labels(choice, base).await?))
}
