//! `/reports/*`: the figures behind the dashboard's charts (signed-in callers).

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{Query, Viewer};
use crate::app::App;
use crate::app::reports::{MovementsReport, QuotesReport, StockValueReport, TopProductsReport};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// The period: this many UTC days up to today, 1–366 (default 90).
    #[param(minimum = 1, maximum = 366)]
    days: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TopQuery {
    /// The period: this many UTC days up to today, 1–366 (default 90).
    #[param(minimum = 1, maximum = 366)]
    days: Option<u32>,
    /// How many products, 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// The stock's value at cost at the end of each day (today's costs).
#[utoipa::path(
    get, path = "/reports/stock-value", tag = "reports",
    params(PeriodQuery),
    responses(
        (status = 200, body = StockValueReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn stock_value(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<PeriodQuery>,
) -> Result<axum::Json<StockValueReport>, ApiError> {
    Ok(axum::Json(app.stock_value_report(q.days).await?))
}

/// Movements booked per day, by kind.
#[utoipa::path(
    get, path = "/reports/movements", tag = "reports",
    params(PeriodQuery),
    responses(
        (status = 200, body = MovementsReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn movements(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<PeriodQuery>,
) -> Result<axum::Json<MovementsReport>, ApiError> {
    Ok(axum::Json(app.movements_report(q.days).await?))
}

/// The products shipped most (by quantity in their stock unit).
#[utoipa::path(
    get, path = "/reports/top-products", tag = "reports",
    params(TopQuery),
    responses(
        (status = 200, body = TopProductsReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn top_products(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<TopQuery>,
) -> Result<axum::Json<TopProductsReport>, ApiError> {
    Ok(axum::Json(app.top_products_report(q.days, q.limit).await?))
}

/// The quotes made in the period, by what became of them.
#[utoipa::path(
    get, path = "/reports/quotes", tag = "reports",
    params(PeriodQuery),
    responses(
        (status = 200, body = QuotesReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn quotes(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<PeriodQuery>,
) -> Result<axum::Json<QuotesReport>, ApiError> {
    Ok(axum::Json(app.quotes_report(q.days).await?))
}
