//! `/products` and `/locations`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::{
    Caller, CatalogueStaff, IfMatch, Json, Path, PublicCaller, Query, Viewer, etag,
};
use crate::app::App;
use crate::app::catalogue::{ProductFilter, ProductView};
use crate::app::cursor::Listing;
use crate::domain::catalogue::{Barcode, Product, ProductInput, ProductPatch};
use crate::domain::locations::LocationCode;
use crate::domain::locations::{Location, LocationInput, LocationPatch};
use crate::domain::values::Sku;

/// A JSON body with its `ETag`.
fn with_etag<T: serde::Serialize>(status: StatusCode, version: u64, body: &T) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        headers.insert(header::ETAG, value);
    }
    (status, headers, axum::Json(body)).into_response()
}

/// The body of `POST /products`: a [`ProductInput`] whose `sku` is required.
pub struct NewProduct;

impl utoipa::PartialSchema for NewProduct {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        // The input's own schema, with `sku` required.
        let mut schema = <ProductInput as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.required.insert(0, "sku".into());
            object.properties.insert(
                "sku".into(),
                utoipa::openapi::Ref::from_schema_name("Sku").into(),
            );
            object.description =
                Some("A new product: every editable field, `sku` included.".into());
        }
        schema
    }
}

impl utoipa::ToSchema for NewProduct {}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductListQuery {
    /// Only the product with this barcode (the other filters but `active`
    /// are ignored): how a scanner finds a product.
    #[param(value_type = Option<Barcode>)]
    barcode: Option<String>,
    /// A category and everything under it, e.g. `Aggregates` or `Aggregates/Sand`
    /// (case-insensitive).
    category: Option<String>,
    /// Only active (`true`) or archived (`false`) products. Anonymous callers
    /// only ever see active ones.
    active: Option<bool>,
    /// Only products changed at or after this RFC 3339 time.
    #[param(format = DateTime)]
    updated_since: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// List products, in SKU order (with `category`, in category then SKU order).
/// Anonymous callers draw from their address's bucket, as for searches.
#[utoipa::path(
    get, path = "/products", tag = "catalogue",
    params(ProductListQuery),
    responses(
        (status = 200, body = Listing<ProductView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_products(
    State(app): State<App>,
    PublicCaller(caller): PublicCaller,
    Query(query): Query<ProductListQuery>,
) -> Result<axum::Json<Listing<ProductView>>, ApiError> {
    let updated_since =
        query
            .updated_since
            .as_deref()
            .map(|s| {
                s.parse::<Timestamp>().map_err(|e| {
                    ApiError::new(ErrorCode::BadRequest, format!(
                        "updated_since must be an RFC 3339 time such as 2026-01-31T12:00:00Z: {e}"
                    ),
                )
                .with_field("updated_since")
                })
            })
            .transpose()?;
    let filter = ProductFilter {
        barcode: query.barcode,
        category: query.category,
        active: query.active,
        updated_since,
        cursor: query.cursor,
        limit: query.limit,
    };
    Ok(axum::Json(
        app.list_products(caller.as_ref(), filter).await?,
    ))
}

/// Create a product.
#[utoipa::path(
    post, path = "/products", tag = "catalogue",
    request_body = NewProduct,
    responses(
        (status = 201, body = Product, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn create_product(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Json(input): Json<ProductInput>,
) -> Result<Response, ApiError> {
    let product = app.create_product(&caller, input).await?;
    let mut response = with_etag(StatusCode::CREATED, product.version, &product);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/products/{}", product.sku)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Read a product. Anonymous callers see active products without staff-only
/// fields.
#[utoipa::path(
    get, path = "/products/{sku}", tag = "catalogue",
    params(("sku" = Sku, Path, description = "The product's SKU (case-insensitive)")),
    responses(
        (status = 200, body = ProductView, headers(("ETag" = String))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn get_product(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    let view = app.get_product(caller.as_ref(), &sku).await?;
    Ok(with_etag(StatusCode::OK, view.version(), &view))
}

/// Replace every editable field of a product. With `If-Match`, only if the
/// product is still at that version.
#[utoipa::path(
    put, path = "/products/{sku}", tag = "catalogue",
    params(
        ("sku" = Sku, Path, description = "The product's SKU"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    request_body(content = ProductInput, example = json!({
        "sku": "SAND-04", "name": "Washed sand 0-4 mm", "category": "Aggregates/Sand",
        "unit": "t", "price": "38.50", "density_kg_m3": "1600",
        "packs": [{"name": "bag", "quantity": "25", "unit": "kg"}]
    })),
    responses(
        (status = 200, body = Product, headers(("ETag" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn replace_product(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(sku): Path<String>,
    IfMatch(precondition): IfMatch,
    Json(input): Json<ProductInput>,
) -> Result<Response, ApiError> {
    let product = app
        .replace_product(&caller, &sku, input, precondition)
        .await?;
    Ok(with_etag(StatusCode::OK, product.version, &product))
}

/// Change some fields of a product; `null` clears an optional field.
#[utoipa::path(
    patch, path = "/products/{sku}", tag = "catalogue",
    params(
        ("sku" = Sku, Path, description = "The product's SKU"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    request_body(content = ProductPatch, example = json!({"price": "39.00", "tags": ["washed"]})),
    responses(
        (status = 200, body = Product, headers(("ETag" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn patch_product(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(sku): Path<String>,
    IfMatch(precondition): IfMatch,
    Json(patch): Json<ProductPatch>,
) -> Result<Response, ApiError> {
    let product = app
        .patch_product(&caller, &sku, patch, precondition)
        .await?;
    Ok(with_etag(StatusCode::OK, product.version, &product))
}

/// Archive a product: it becomes inactive and disappears from public views,
/// but is never removed (its history stays).
#[utoipa::path(
    delete, path = "/products/{sku}", tag = "catalogue",
    params(
        ("sku" = Sku, Path, description = "The product's SKU"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    responses(
        (status = 200, body = Product, headers(("ETag" = String))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 412, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn archive_product(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(sku): Path<String>,
    IfMatch(precondition): IfMatch,
) -> Result<Response, ApiError> {
    let product = app.archive_product(&caller, &sku, precondition).await?;
    Ok(with_etag(StatusCode::OK, product.version, &product))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// List locations in code order.
#[utoipa::path(
    get, path = "/locations", tag = "locations",
    params(PageQuery),
    responses(
        (status = 200, body = Listing<Location>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_locations(
    State(app): State<App>,
    _viewer: Viewer,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Listing<Location>>, ApiError> {
    Ok(axum::Json(
        app.list_locations(query.cursor, query.limit).await?,
    ))
}

/// Create a location.
#[utoipa::path(
    post, path = "/locations", tag = "locations",
    request_body = LocationInput,
    responses(
        (status = 201, body = Location, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn create_location(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Json(input): Json<LocationInput>,
) -> Result<Response, ApiError> {
    let location = app.create_location(&caller, input).await?;
    let mut response = with_etag(StatusCode::CREATED, location.version, &location);
    if let Ok(value) = HeaderValue::from_str(&format!("/api/v1/locations/{}", location.code)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Read a location.
#[utoipa::path(
    get, path = "/locations/{code}", tag = "locations",
    params(("code" = LocationCode, Path, description = "The location's code")),
    responses(
        (status = 200, body = Location, headers(("ETag" = String))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_location(
    State(app): State<App>,
    _viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let location = app.get_location(&code).await?;
    Ok(with_etag(StatusCode::OK, location.version, &location))
}

/// Rename, deactivate or reactivate a location.
#[utoipa::path(
    patch, path = "/locations/{code}", tag = "locations",
    params(
        ("code" = LocationCode, Path, description = "The location's code"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    request_body = LocationPatch,
    responses(
        (status = 200, body = Location, headers(("ETag" = String))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn patch_location(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(code): Path<String>,
    IfMatch(precondition): IfMatch,
    Json(patch): Json<LocationPatch>,
) -> Result<Response, ApiError> {
    let location = app
        .patch_location(&caller, &code, patch, precondition)
        .await?;
    Ok(with_etag(StatusCode::OK, location.version, &location))
}
