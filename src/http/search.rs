//! `/search`, `/search/suggest` and `/categories`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{PublicCaller, Query};
use crate::app::App;
use crate::app::search::{CategoryList, SearchParams, SearchResponse, Suggestions};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What the user typed (up to 200 characters, any number of words).
    /// Empty lists the catalogue.
    #[serde(default)]
    q: String,
    /// A category and everything under it (case-insensitive).
    category: Option<String>,
    /// Comma-separated tags; products must carry all of them.
    tags: Option<String>,
    /// Products of this brand (as the `brand` facet writes it).
    brand: Option<String>,
    /// Only products with stock available (`true`) or without (`false`).
    in_stock: Option<bool>,
    /// Among equally relevant products, list those in stock first.
    #[serde(default)]
    in_stock_first: bool,
    price_min: Option<String>,
    price_max: Option<String>,
    /// `relevance` (default), `price`, `-price` or `name`. By price compares
    /// the price per base unit (`unit_price`: per kg, m³, m, m² or piece),
    /// products by weight first, then by volume, length, area and pieces.
    sort: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Search the catalogue: typo-tolerant, as-you-type, with facets and live
/// availability. Anonymous callers see active products and public fields.
#[utoipa::path(
    get, path = "/search", tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn search(
    State(app): State<App>,
    PublicCaller(caller): PublicCaller,
    Query(q): Query<SearchQuery>,
) -> Result<axum::Json<SearchResponse>, ApiError> {
    let params = SearchParams {
        q: q.q,
        category: q.category,
        tags: q.tags.into_iter().collect(),
        brand: q.brand,
        in_stock: q.in_stock,
        in_stock_first: q.in_stock_first,
        price_min: q.price_min,
        price_max: q.price_max,
        sort: q.sort,
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(axum::Json(app.search(caller.as_ref(), params).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed so far.
    #[serde(default)]
    q: String,
}

/// Up to 8 product names completing what has been typed, for the search box.
#[utoipa::path(
    get, path = "/search/suggest", tag = "search",
    params(SuggestQuery),
    responses(
        (status = 200, body = Suggestions), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn suggest(
    State(app): State<App>,
    _caller: PublicCaller,
    Query(q): Query<SuggestQuery>,
) -> Result<axum::Json<Suggestions>, ApiError> {
    Ok(axum::Json(app.suggest(&q.q).await?))
}

/// Every category of the catalogue, at every level, with how many products
/// each holds: active products for anyone, archived ones too for staff.
#[utoipa::path(
    get, path = "/categories", tag = "search",
    responses(
        (status = 200, body = CategoryList),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn categories(
    State(app): State<App>,
    PublicCaller(caller): PublicCaller,
) -> Result<axum::Json<CategoryList>, ApiError> {
    Ok(axum::Json(app.categories(caller.as_ref()).await?))
}
