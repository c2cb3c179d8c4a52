//! `/quote/estimate`, `/quotes` and the customer's quote page `/q/{link}`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::{
    FingerprintedJson, IdempotencyKey, IfMatch, Json, Path, PublicCaller, Query, QuoteRequester,
    QuoteStaff, Viewer,
};
use crate::app::cursor::Listing;
use crate::app::idempotency::IdempotencyKeyValue;
use crate::app::idempotency::{Answer, Idempotency};
use crate::app::quotes::{
    Estimate, EstimateRequest, LineRequest, QuoteFilter, QuoteRequest, QuoteView,
};
use crate::app::{App, Principal};
use crate::domain::customers::CustomerCode;
use crate::domain::quotes::{QuoteAction, QuoteNumber, QuoteStatus};
use crate::domain::text::escape_html;
use crate::domain::units::{PositiveQuantity, Quantity, UnitName};
use crate::domain::values::Sku;

/// Price lines: each converted to the stock and pricing units with the
/// conversion explained, rounded up to whole packs where the product is sold
/// so, at its quantity break, with tax and availability; plus totals per tax
/// class. Never shows cost.
#[utoipa::path(
    post, path = "/quote/estimate", tag = "quotes",
    request_body = EstimateRequest,
    responses(
        (status = 200, body = Estimate),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 403, description = "`customer` given by someone who is not staff", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "A line cannot be priced; `field` names it", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn estimate(
    State(app): State<App>,
    PublicCaller(caller): PublicCaller,
    Json(input): Json<EstimateRequest>,
) -> Result<axum::Json<Estimate>, ApiError> {
    Ok(axum::Json(
        app.estimate(caller.as_ref(), input.lines, input.delivery, input.customer)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EstimateQuery {
    #[param(value_type = Sku)]
    sku: String,
    #[param(value_type = PositiveQuantity)]
    quantity: String,
    /// A unit or pack; default: the product's pricing unit.
    #[param(value_type = Option<UnitName>)]
    unit: Option<String>,
}

/// One line given in a query string (`sku`, `quantity`, `unit`), each
/// refused with its field.
pub(super) fn line_from_query(
    sku: &str,
    quantity: &str,
    unit: Option<&str>,
) -> Result<LineRequest, ApiError> {
    let invalid = |field: &str, e: crate::domain::InvalidValue| {
        ApiError::new(ErrorCode::ValidationFailed, format!("{field}: {e}")).with_field(field)
    };
    Ok(LineRequest {
        sku: Sku::parse(sku).map_err(|e| invalid("sku", e))?,
        quantity: Quantity::parse(quantity).map_err(|e| invalid("quantity", e))?,
        unit: unit
            .map(UnitName::parse)
            .transpose()
            .map_err(|e| invalid("unit", e))?,
    })
}

/// Price one line (the form for simple widgets).
#[utoipa::path(
    get, path = "/quote/estimate", tag = "quotes",
    params(EstimateQuery),
    responses(
        (status = 200, body = Estimate),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn estimate_one(
    State(app): State<App>,
    PublicCaller(caller): PublicCaller,
    Query(q): Query<EstimateQuery>,
) -> Result<axum::Json<Estimate>, ApiError> {
    let line = line_from_query(&q.sku, &q.quantity, q.unit.as_deref())?;
    Ok(axum::Json(
        app.estimate(caller.as_ref(), vec![line], None, None)
            .await?,
    ))
}

/// Save a quote: numbered (`Q-2026-0001`), priced as of now, valid for the
/// shop's number of days, optionally holding its stock. Anyone may ask for one
/// with their contact details; the answer carries the customer's link, once.
/// Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(
    post, path = "/quotes", tag = "quotes",
    params(("Idempotency-Key" = Option<IdempotencyKeyValue>, Header, description = "Makes retries safe")),
    request_body(content = QuoteRequest, example = json!({
        "lines": [{"sku": "SAND-04", "quantity": "3", "unit": "m3"}],
        "contact": {"name": "Sam Builder", "email": "sam@example.com"}
    })),
    responses(
        (status = 201, body = QuoteView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn create_quote(
    State(app): State<App>,
    QuoteRequester(caller): QuoteRequester,
    IdempotencyKey(key): IdempotencyKey,
    headers: axum::http::HeaderMap,
    FingerprintedJson(input, fingerprint): FingerprintedJson<QuoteRequest>,
) -> Result<Response, ApiError> {
    let reached = reached_at(&app, &headers);
    let idempotency = match (&caller, key) {
        (Some(principal), Some(key)) => Some(Idempotency::new(principal, &key, fingerprint)?),
        (None, Some(key)) => {
            // Anonymous retries are keyed by the key itself (it is unguessable
            // when a client makes it so) and the request.
            let public = Principal::new(
                crate::domain::accounts::Role::Viewer,
                crate::domain::accounts::Actor::public(),
            );
            Some(Idempotency::new(&public, &key, fingerprint)?)
        }
        (_, None) => None,
    };
    let answer = app
        .create_quote(caller.as_ref(), input, idempotency, reached)
        .await?;
    Ok(match answer {
        Answer::Fresh(view) => (StatusCode::CREATED, axum::Json(view)).into_response(),
        Answer::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let mut response = (status, axum::Json(body)).into_response();
            response.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            response
        }
    })
}

/// Where the caller reached Quarry (`http://host:port`, from the `Host`
/// header), for the customer's link when `public_base_url` is not set. Only a
/// plain host name or address with a port is taken.
pub(super) fn reached_at(app: &App, headers: &axum::http::HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    let scheme = if app.config().tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    plain.then(|| format!("{scheme}://{host}"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QuoteListQuery {
    status: Option<QuoteStatus>,
    /// Only quotes with a line of this product.
    #[param(value_type = Option<Sku>)]
    sku: Option<String>,
    /// Only the quotes of this trade customer.
    #[param(value_type = Option<CustomerCode>)]
    customer: Option<String>,
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Saved quotes, newest first.
#[utoipa::path(
    get, path = "/quotes", tag = "quotes",
    params(QuoteListQuery),
    responses(
        (status = 200, body = Listing<QuoteView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_quotes(
    State(app): State<App>,
    _viewer: Viewer,
    Query(q): Query<QuoteListQuery>,
) -> Result<axum::Json<Listing<QuoteView>>, ApiError> {
    let sku =
        q.sku.as_deref().map(Sku::parse).transpose().map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("sku: {e}")).with_field("sku")
        })?;
    let customer = q
        .customer
        .as_deref()
        .map(CustomerCode::parse)
        .transpose()
        .map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("customer: {e}")).with_field("customer")
        })?;
    let filter = QuoteFilter {
        status: q.status,
        sku,
        customer,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(axum::Json(app.list_quotes(filter).await?))
}

/// One saved quote.
#[utoipa::path(
    get, path = "/quotes/{number}", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number, e.g. Q-2026-0001")),
    responses(
        (status = 200, body = QuoteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_quote(
    State(app): State<App>,
    _viewer: Viewer,
    Path(number): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    Ok(axum::Json(app.get_quote(&number).await?))
}

async fn act(
    app: &App,
    caller: &Principal,
    number: &str,
    action: QuoteAction,
) -> Result<axum::Json<QuoteView>, ApiError> {
    Ok(axum::Json(app.quote_action(caller, number, action).await?))
}

/// Change an open quote (staff): the same body as a new quote. Its lines,
/// contact, delivery and note are replaced and priced at today's prices,
/// valid for the shop's days from now; what it held is released and held
/// again as the body says (`hold_stock`, `hold_location`). The number and
/// the customer's link stay. 409 `quote_status` once accepted, fulfilled,
/// cancelled or expired. With `If-Match: "<version>"`, only if nobody changed
/// the quote since (412 otherwise).
#[utoipa::path(
    put, path = "/quotes/{number}", tag = "quotes",
    params(
        ("number" = QuoteNumber, Path, description = "The quote's number"),
        ("If-Match" = Option<String>, Header, description = "The quote's version last read, as an ETag: \"3\""),
    ),
    request_body(content = QuoteRequest, example = json!({
        "lines": [{"sku": "SAND-04", "quantity": "5", "unit": "t"}],
        "contact": {"name": "Sam Builder", "phone": "01234 567890"},
        "hold_stock": true, "hold_location": "YARD",
        "delivery": {"postcode": "AB1 2CD"}
    })),
    responses(
        (status = 200, body = QuoteView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn edit_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(number): Path<String>,
    IfMatch(precondition): IfMatch,
    Json(input): Json<QuoteRequest>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    Ok(axum::Json(
        app.edit_quote(&caller, &number, input, precondition)
            .await?,
    ))
}

/// `POST /quotes/{number}/link`'s query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RelinkQuery {
    /// Also e-mail the new link to the quote's address (`mail` in the answer
    /// says whether it was queued, or that the quote has no address).
    #[serde(default)]
    email: bool,
}

/// Issue a new customer link for a quote, for a customer who lost theirs:
/// the old link opens nothing from now on. The answer carries the new
/// `link`, once; with `?email=true` it is also e-mailed to the customer.
#[utoipa::path(
    post, path = "/quotes/{number}/link", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number"), RelinkQuery),
    responses(
        (status = 200, body = QuoteView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn relink_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    headers: axum::http::HeaderMap,
    Path(number): Path<String>,
    Query(query): Query<RelinkQuery>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    let reached = reached_at(&app, &headers);
    Ok(axum::Json(
        app.relink_quote(&caller, &number, reached, query.email)
            .await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RepriceQuery {
    /// Say what would change without saving it.
    #[serde(default)]
    dry_run: bool,
}

/// Re-price an open quote at today's prices (its delivery too, to the same
/// postcode): the changes, and unless `dry_run` the quote saved so, valid
/// for the shop's number of days from now. A quote holding stock whose
/// amounts would change is refused (409).
#[utoipa::path(
    post, path = "/quotes/{number}/reprice", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number"), RepriceQuery),
    responses(
        (status = 200, body = crate::app::reprice::Repriced),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn reprice_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(number): Path<String>,
    super::extract::Query(query): super::extract::Query<RepriceQuery>,
) -> Result<axum::Json<crate::app::reprice::Repriced>, ApiError> {
    Ok(axum::Json(
        app.reprice_quote(&caller, &number, !query.dry_run).await?,
    ))
}

/// Accept a quote: it becomes an order and keeps what it holds.
#[utoipa::path(
    post, path = "/quotes/{number}/accept", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, body = QuoteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn accept_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(number): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    act(&app, &caller, &number, QuoteAction::Accept).await
}

/// Fulfil a quote: ship its lines (from what it holds first) and release the
/// hold, in one go.
#[utoipa::path(
    post, path = "/quotes/{number}/fulfil", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, body = QuoteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn fulfil_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(number): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    act(&app, &caller, &number, QuoteAction::Fulfil).await
}

/// Cancel a quote, releasing what it holds.
#[utoipa::path(
    post, path = "/quotes/{number}/cancel", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, body = QuoteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn cancel_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(number): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    act(&app, &caller, &number, QuoteAction::Cancel).await
}

/// A quote by its customer link, as the customer sees it.
#[utoipa::path(
    get, path = "/quotes/link/{link}", tag = "quotes",
    params(("link" = String, Path, description = "The secret of the customer's link")),
    responses((status = 200, body = QuoteView), (status = 404, body = ErrorBody)),
    security(()),
)]
pub async fn quote_by_link(
    State(app): State<App>,
    Path(link): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    app.quote_by_link(&link)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("no quote has this link"))
}

/// The quote page's row for how the goods reach the customer (none when
/// the quote does not say).
fn delivery_row(
    quote: &QuoteView,
    money: &dyn Fn(&crate::domain::pricing::Amount) -> String,
) -> String {
    match &quote.delivery {
        Some(delivery) if delivery.method == "delivery" => format!(
            "<tr class=\"delivery\"><td>Delivery to {}<div class=\"how\">{}</div></td><td class=\"num\">{} t</td><td class=\"num\"></td><td class=\"num\">{}</td><td class=\"num\">{}%</td><td class=\"num\">{}</td></tr>",
            escape_html(delivery.postcode.as_deref().unwrap_or_default()),
            escape_html(&delivery.explanation),
            delivery.tonnes,
            escape_html(&money(&delivery.net)),
            delivery.tax_rate,
            escape_html(&money(&delivery.gross)),
        ),
        Some(_) => "<tr class=\"delivery collection\"><td>Collected by the customer</td><td class=\"num\"></td><td class=\"num\"></td><td class=\"num\"></td><td class=\"num\"></td><td class=\"num\"></td></tr>".to_owned(),
        None => String::new(),
    }
}

/// The customer's printable quote page.
#[utoipa::path(
    get, path = "/q/{link}", tag = "ui",
    params(("link" = String, Path, description = "The secret of the customer's link")),
    responses((status = 200, description = "The quote as a printable page", content_type = "text/html"), (status = 404)),
)]
pub async fn quote_page(
    State(app): State<App>,
    Path(link): Path<String>,
) -> Result<Response, ApiError> {
    let Some(quote) = app.quote_by_link(&link).await? else {
        return Ok(super::pages::not_found_page(
            &app,
            "Quote not found",
            "No quote has this link. Check that the whole link was copied, or ask the shop \
             for the quote.",
            None,
        ));
    };
    Ok(quote_document(
        &app,
        &quote,
        "Keep this page's address, or print the quote: the address is how you come back to it.",
    ))
}

/// A quote as a printable page, as the customer sees it; `keep` says how
/// to come back to it.
pub(super) fn quote_document(app: &App, quote: &QuoteView, keep: &str) -> Response {
    let shop = &app.config().shop;
    let money = |a: &crate::domain::pricing::Amount| format!("{} {}", a.0, quote.currency);
    let mut rows = String::new();
    for line in &quote.lines {
        use std::fmt::Write as _;
        let _ = write!(
            rows,
            "<tr><td>{}{}<div class=\"sku\">{}</div><div class=\"how\">{}{}</div></td><td class=\"num\">{} {}</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td class=\"num\">{}%</td><td class=\"num\">{}</td></tr>",
            quote
                .photos
                .get(line.sku.as_str())
                .map_or_else(String::new, |photo| format!(
                    "<img class=\"thumb\" src=\"{}\" alt=\"{}\" width=\"56\" height=\"56\">",
                    escape_html(&photo.thumb_url),
                    escape_html(&photo.alt)
                )),
            escape_html(&line.name),
            escape_html(line.sku.as_str()),
            escape_html(&line.explanation),
            line.pack_rounding
                .as_ref()
                .map(|n| format!(" — {}", escape_html(n)))
                .unwrap_or_default(),
            line.pricing.quantity,
            escape_html(line.pricing.unit.as_str()),
            escape_html(&String::from(line.unit_price)),
            escape_html(line.pricing.unit.as_str()),
            escape_html(&money(&line.net)),
            line.tax_rate,
            escape_html(&money(&line.gross)),
        );
    }
    rows.push_str(&delivery_row(quote, &money));
    let contact = [
        Some(escape_html(quote.contact.name.as_str())),
        quote
            .contact
            .email
            .as_ref()
            .map(|e| escape_html(e.as_str())),
        quote
            .contact
            .phone
            .as_ref()
            .map(|p| escape_html(p.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("<br>");
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Quote {number} — {shop}</title><link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/assets/quote.css\"></head><body><main class=\"quote\">\
<header><div><h1>{shop}</h1><p class=\"contact\">{shop_contact}</p></div><div class=\"meta\"><h2>Quote {number}</h2>\
<p>Date: {date}<br>Valid until: {valid}<br>Status: <strong class=\"status-{status}\">{status}</strong></p></div></header>\
<section class=\"to\"><h3>For</h3><p>{contact}</p></section>\
<table><thead><tr><th>Product</th><th class=\"num\">Quantity</th><th class=\"num\">Price</th><th class=\"num\">Net</th><th class=\"num\">Tax</th><th class=\"num\">Total</th></tr></thead>\
<tbody>{rows}</tbody><tfoot><tr><td colspan=\"3\">Total</td><td class=\"num\">{net}</td><td class=\"num\">{tax}</td><td class=\"num\">{gross}</td></tr></tfoot></table>\
<p class=\"note\">Prices {taxnote}. This quote is valid until {valid}.</p>\
<p class=\"keep\">{keep}</p>\
<p class=\"print\"><a href=\"#\" data-print>Print this quote</a> · <a href=\"/\">Back to the shop</a></p></main><script type=\"module\" src=\"/assets/quote.js\"></script></body></html>",
        number = escape_html(quote.number.as_str()),
        shop = escape_html(&shop.name),
        shop_contact = escape_html(&shop.contact),
        date = quote.created_at.strftime("%Y-%m-%d"),
        valid = quote.valid_until.strftime("%Y-%m-%d"),
        status = quote.status,
        contact = contact,
        keep = escape_html(keep),
        rows = rows,
        net = escape_html(&money(&quote.totals.net)),
        tax = escape_html(&money(&quote.totals.tax)),
        gross = escape_html(&money(&quote.totals.gross)),
        taxnote = if quote.prices_include_tax {
            "include tax"
        } else {
            "are net; tax is added per line"
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page,
    )
        .into_response()
}
