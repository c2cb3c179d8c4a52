//! `/price-lists` and `/customers`: trade customers and the prices they buy
//! at. Staff read them (viewers too); `quotes:write` changes them. Nothing
//! here is public.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{IfMatch, Json, Path, Query, QuoteStaff, Viewer};
use crate::app::App;
use crate::app::cursor::Listing;
use crate::domain::customers::{
    Customer, CustomerCode, CustomerInput, PriceList, PriceListCode, PriceListInput,
};
use crate::domain::pricing::PricedLine;
use crate::domain::units::{PositiveQuantity, UnitName};
use crate::domain::values::Sku;

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceListList {
    /// Every price list, in code order.
    pub items: Vec<PriceList>,
}

/// The price lists.
#[utoipa::path(
    get, path = "/price-lists", tag = "customers",
    responses(
        (status = 200, body = PriceListList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_price_lists(
    State(app): State<App>,
    _viewer: Viewer,
) -> Result<axum::Json<PriceListList>, ApiError> {
    Ok(axum::Json(PriceListList {
        items: app.price_lists().await?,
    }))
}

/// Add a price list. Which rule prices a line: the most specific in force —
/// a SKU over a category, a deeper category over its parent, a category over
/// every product; then the highest minimum quantity reached; then the first
/// listed.
#[utoipa::path(
    post, path = "/price-lists", tag = "customers",
    request_body(content = NewPriceListInput, example = json!({
        "code": "TRADE-C", "name": "Trade list C",
        "rules": [
            {"category": "Aggregates", "percent_off": "8"},
            {"sku": "SAND-04", "price": "30.00", "min_quantity": "20"}
        ]
    })),
    responses(
        (status = 201, body = PriceList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn create_price_list(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Json(input): Json<PriceListInput>,
) -> Result<(StatusCode, axum::Json<PriceList>), ApiError> {
    let list = app.create_price_list(&caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(list)))
}

/// One price list.
#[utoipa::path(
    get, path = "/price-lists/{code}", tag = "customers",
    params(("code" = PriceListCode, Path, description = "The price list's code")),
    responses(
        (status = 200, body = PriceList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_price_list(
    State(app): State<App>,
    _viewer: Viewer,
    Path(code): Path<String>,
) -> Result<axum::Json<PriceList>, ApiError> {
    Ok(axum::Json(app.price_list(&code).await?))
}

/// Replace a price list's name and rules. With `If-Match: "<version>"`,
/// only if nobody changed the list since (412 otherwise).
#[utoipa::path(
    put, path = "/price-lists/{code}", tag = "customers",
    params(
        ("code" = PriceListCode, Path, description = "The price list's code"),
        ("If-Match" = Option<String>, Header, description = "The list's version last read, as an ETag: \"3\""),
    ),
    request_body = PriceListInput,
    responses(
        (status = 200, body = PriceList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn replace_price_list(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(code): Path<String>,
    IfMatch(precondition): IfMatch,
    Json(input): Json<PriceListInput>,
) -> Result<axum::Json<PriceList>, ApiError> {
    Ok(axum::Json(
        app.replace_price_list(&caller, &code, input, precondition)
            .await?,
    ))
}

/// Remove a price list; 409 `price_list_in_use` while customers buy at it.
#[utoipa::path(
    delete, path = "/price-lists/{code}", tag = "customers",
    params(("code" = PriceListCode, Path, description = "The price list's code")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn delete_price_list(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.delete_price_list(&caller, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    #[param(value_type = Sku)]
    sku: String,
    #[param(value_type = PositiveQuantity)]
    quantity: String,
    /// A unit or pack; default: the product's pricing unit.
    #[param(value_type = Option<UnitName>)]
    unit: Option<String>,
}

/// What a quantity of a product costs at a price list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PricePreview {
    /// The line as a quote for a customer on the list prices it today;
    /// `list_price` says which rule applied (absent: the list price).
    pub line: PricedLine,
    pub currency: String,
    pub prices_include_tax: bool,
}

/// What a customer on this list would pay today for a quantity of a product
/// ("10 t of SAND-04"), with the rule and the saving.
#[utoipa::path(
    get, path = "/price-lists/{code}/preview", tag = "customers",
    params(("code" = PriceListCode, Path, description = "The price list's code"), PreviewQuery),
    responses(
        (status = 200, body = PricePreview),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn preview_price(
    State(app): State<App>,
    _viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Result<axum::Json<PricePreview>, ApiError> {
    let line = super::quotes::line_from_query(&q.sku, &q.quantity, q.unit.as_deref())?;
    let preview = app
        .preview_price(&code, line.sku, line.quantity, line.unit)
        .await?;
    Ok(axum::Json(PricePreview {
        line: preview.line,
        currency: preview.currency,
        prices_include_tax: preview.prices_include_tax,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerListQuery {
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Trade customers, in code order.
#[utoipa::path(
    get, path = "/customers", tag = "customers",
    params(CustomerListQuery),
    responses(
        (status = 200, body = Listing<Customer>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_customers(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<CustomerListQuery>,
) -> Result<axum::Json<Listing<Customer>>, ApiError> {
    Ok(axum::Json(app.customers(q.cursor, q.limit).await?))
}

/// Add a trade customer.
#[utoipa::path(
    post, path = "/customers", tag = "customers",
    request_body(content = NewCustomerInput, example = json!({
        "code": "NORTHBUILD", "name": "Northbuild Ltd", "tax_number": "GB123456789",
        "billing_address": "Unit 4, Mill Lane\nNorthtown AB1 2CD",
        "payment_terms": "30 days net", "price_list": "TRADE-A"
    })),
    responses(
        (status = 201, body = Customer),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn create_customer(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Json(input): Json<CustomerInput>,
) -> Result<(StatusCode, axum::Json<Customer>), ApiError> {
    let customer = app.create_customer(&caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(customer)))
}

/// One trade customer.
#[utoipa::path(
    get, path = "/customers/{code}", tag = "customers",
    params(("code" = CustomerCode, Path, description = "The customer's code")),
    responses(
        (status = 200, body = Customer),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_customer(
    State(app): State<App>,
    _viewer: Viewer,
    Path(code): Path<String>,
) -> Result<axum::Json<Customer>, ApiError> {
    Ok(axum::Json(app.customer(&code).await?))
}

/// Replace a customer's details; `active: false` archives them (their
/// quotes stay; they get no new ones). With `If-Match: "<version>"`, only
/// if nobody changed the customer since (412 otherwise).
#[utoipa::path(
    put, path = "/customers/{code}", tag = "customers",
    params(
        ("code" = CustomerCode, Path, description = "The customer's code"),
        ("If-Match" = Option<String>, Header, description = "The customer's version last read, as an ETag: \"3\""),
    ),
    request_body = CustomerInput,
    responses(
        (status = 200, body = Customer),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn replace_customer(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(code): Path<String>,
    IfMatch(precondition): IfMatch,
    Json(input): Json<CustomerInput>,
) -> Result<axum::Json<Customer>, ApiError> {
    Ok(axum::Json(
        app.replace_customer(&caller, &code, input, precondition)
            .await?,
    ))
}

/// The schema of `POST /price-lists`'s body: [`PriceListInput`] with its
/// `code` required.
pub struct NewPriceListInput;
/// The schema of `POST /customers`'s body: [`CustomerInput`] with its
/// `code` required.
pub struct NewCustomerInput;

macro_rules! code_required {
    ($new:ty, $input:ty, $code:literal) => {
        impl utoipa::PartialSchema for $new {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let mut schema = <$input as utoipa::PartialSchema>::schema();
                if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) =
                    &mut schema
                {
                    // Required, and never null.
                    object.required.insert(0, "code".to_owned());
                    object.properties.insert(
                        "code".to_owned(),
                        utoipa::openapi::Ref::from_schema_name($code).into(),
                    );
                }
                schema
            }
        }

        impl utoipa::ToSchema for $new {
            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                <$input as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
code_required!(NewPriceListInput, PriceListInput, "PriceListCode");
code_required!(NewCustomerInput, CustomerInput, "CustomerCode");
