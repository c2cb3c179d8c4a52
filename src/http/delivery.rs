//! `/delivery-zones`: where the shop delivers and what it charges.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{CatalogueStaff, Json, Path, PublicCaller};
use crate::app::App;
use crate::domain::delivery::{DeliveryZone, NewZoneInput, ZoneCode, ZoneInput};

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneList {
    /// Every zone, in code order.
    pub items: Vec<DeliveryZone>,
}

/// The delivery zones: postcode prefixes (the longest matching prefix of a
/// postcode wins) and their charges. Anyone may read them (the storefront
/// says where the shop delivers).
#[utoipa::path(
    get, path = "/delivery-zones", tag = "quotes",
    responses(
        (status = 200, body = ZoneList),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_zones(
    State(app): State<App>,
    _caller: PublicCaller,
) -> Result<axum::Json<ZoneList>, ApiError> {
    Ok(axum::Json(ZoneList {
        items: app.delivery_zones().await?,
    }))
}

/// Add a delivery zone. A postcode prefix belongs to one zone.
#[utoipa::path(
    post, path = "/delivery-zones", tag = "quotes",
    request_body(content = NewZoneInput, example = json!({
        "code": "TOWN", "name": "Town", "postcodes": ["AB1", "AB2"],
        "per_load": "85.00", "per_tonne": "0", "minimum": "45.00", "vehicle_capacity_t": "10"
    })),
    responses(
        (status = 201, body = DeliveryZone),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn create_zone(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Json(input): Json<ZoneInput>,
) -> Result<(StatusCode, axum::Json<DeliveryZone>), ApiError> {
    let zone = app.create_delivery_zone(&caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(zone)))
}

/// Replace a delivery zone's settings.
#[utoipa::path(
    put, path = "/delivery-zones/{code}", tag = "quotes",
    params(("code" = ZoneCode, Path, description = "The zone's code")),
    request_body = ZoneInput,
    responses(
        (status = 200, body = DeliveryZone),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn replace_zone(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(code): Path<String>,
    Json(input): Json<ZoneInput>,
) -> Result<axum::Json<DeliveryZone>, ApiError> {
    Ok(axum::Json(
        app.replace_delivery_zone(&caller, &code, input).await?,
    ))
}

/// Remove a delivery zone: its postcodes are no longer delivered to.
#[utoipa::path(
    delete, path = "/delivery-zones/{code}", tag = "quotes",
    params(("code" = ZoneCode, Path, description = "The zone's code")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn delete_zone(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.delete_delivery_zone(&caller, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
