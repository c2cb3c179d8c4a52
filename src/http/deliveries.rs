//! Deliveries of accepted quotes (`/quotes/{number}/deliveries`), closing a
//! quote with nothing more to ship, a contact's view of their deliveries,
//! and the printable delivery note (A4, or an 80 mm receipt printer).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::extract::{
    Caller, FingerprintedJson, IdempotencyKey, Path, Query, QuoteStaff, TradeContact, Viewer,
};
use crate::app::deliveries::Delivered;
use crate::app::idempotency::{Answer, Idempotency};
use crate::app::quotes::QuoteView;
use crate::app::{App, Principal};
use crate::domain::deliveries::{Delivery, DeliveryInput};
use crate::domain::quotes::{QuoteAction, QuoteNumber};
use crate::domain::text::escape_html;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = QuoteDeliveryList)]
pub struct DeliveryList {
    /// The quote's deliveries, oldest first.
    pub items: Vec<Delivery>,
}

/// Deliver part (or the rest) of an accepted quote: a `ship` movement per
/// location (what the quote holds is used first, released and shipped from
/// where it is held), what actually left the yard when it differs
/// (`actual_quantity`: the ledger books it), vehicle, driver, reference.
/// The quote shows each line's delivered and outstanding quantities and is
/// fulfilled when nothing is outstanding. 409 `quote_status` unless
/// accepted; 409 `insufficient_stock` when the stock is not there (nothing
/// is booked); 422 for a line delivered beyond what is outstanding.
#[utoipa::path(
    post, path = "/quotes/{number}/deliveries", tag = "quotes",
    params(
        ("number" = QuoteNumber, Path, description = "The quote's number"),
        ("Idempotency-Key" = Option<crate::app::idempotency::IdempotencyKeyValue>, Header, description = "Makes a retry safe: the delivery is made once"),
    ),
    request_body = DeliveryInput,
    responses(
        (status = 201, body = Delivered),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn deliver(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    IdempotencyKey(key): IdempotencyKey,
    Path(number): Path<String>,
    FingerprintedJson(input, fingerprint): FingerprintedJson<DeliveryInput>,
) -> Result<Response, ApiError> {
    let idempotency = key
        .map(|key| Idempotency::new(&caller, &key, format!("deliver {number} {fingerprint}")))
        .transpose()?;
    Ok(
        match app.deliver(&caller, &number, input, idempotency).await? {
            Answer::Fresh(done) => (StatusCode::CREATED, axum::Json(done)).into_response(),
            Answer::Replayed { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
                let mut response = (status, axum::Json(body)).into_response();
                response.headers_mut().insert(
                    "idempotent-replayed",
                    axum::http::HeaderValue::from_static("true"),
                );
                response
            }
        },
    )
}

/// A quote's deliveries, oldest first.
#[utoipa::path(
    get, path = "/quotes/{number}/deliveries", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_deliveries(
    State(app): State<App>,
    Viewer(caller): Viewer,
    Path(number): Path<String>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    Ok(axum::Json(DeliveryList {
        items: app.deliveries(&caller, &number).await?,
    }))
}

/// The deliveries of one of the contact's customer's quotes.
#[utoipa::path(
    get, path = "/account/quotes/{number}/deliveries", tag = "account",
    params(("number" = QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = [])),
)]
pub async fn account_deliveries(
    State(app): State<App>,
    TradeContact(caller): TradeContact,
    Path(number): Path<String>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    Ok(axum::Json(DeliveryList {
        items: app.deliveries(&caller, &number).await?,
    }))
}

/// Close an accepted quote without shipping what is outstanding (the
/// customer wants no more): it becomes fulfilled and what it holds is
/// released.
#[utoipa::path(
    post, path = "/quotes/{number}/close", tag = "quotes",
    params(("number" = QuoteNumber, Path, description = "The quote's number")),
    responses(
        (status = 200, body = QuoteView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn close_quote(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Path(number): Path<String>,
) -> Result<axum::Json<QuoteView>, ApiError> {
    Ok(axum::Json(
        app.quote_action(&caller, &number, QuoteAction::Close)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoteQuery {
    /// `a4` (the default) or `80mm` for a receipt printer.
    #[param(inline)]
    pub paper: Option<Paper>,
}

/// Most deliveries a note's path may name.
const MAX_DELIVERY: u32 = 1_000_000;

/// The path of a delivery note.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NotePath {
    /// The quote's number.
    #[param(value_type = QuoteNumber)]
    pub number: String,
    /// The delivery's number in the quote, from 1.
    #[param(value_type = u32, minimum = 1, maximum = 1_000_000)]
    pub delivery: String,
}

/// The paper a delivery note is printed on.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum Paper {
    #[serde(rename = "a4")]
    A4,
    #[serde(rename = "80mm")]
    Receipt,
}

/// The printable delivery note: staff who read, or a contact of the quote's
/// customer; anyone else signed in is told there is no such note, and
/// visitors are sent to sign in.
#[utoipa::path(
    get, path = "/delivery-notes/{number}/{delivery}", tag = "ui",
    params(NotePath, NoteQuery),
    responses(
        (status = 200, description = "The delivery note as a printable page", content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in page"),
        (status = 404, description = "No such delivery the caller may see", content_type = "text/html"),
    ))]
pub async fn delivery_note_page(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(NotePath { number, delivery }): Path<NotePath>,
    Query(query): Query<NoteQuery>,
    uri: axum::http::Uri,
) -> Response {
    let missing = || {
        super::pages::not_found_page(
            &app,
            "Delivery note not found",
            "There is no such delivery note, or it is not yours to see.",
            None,
        )
    };
    // A path that cannot name a note is not found, whoever asks.
    let (Ok(parsed), Some(delivery)) = (
        QuoteNumber::parse(&number),
        delivery
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_DELIVERY).contains(n)),
    ) else {
        return missing();
    };
    let Some(caller) = caller else {
        // Back to this note as asked (its paper too) once signed in.
        let paper = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let here = format!("/delivery-notes/{parsed}/{delivery}{paper}");
        let query = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
        return super::pages::see_other(&format!("/admin/login?{query}"));
    };
    match app.delivery_note(&caller, &number, delivery).await {
        Ok((delivery, quote, company)) => note_document(
            &app,
            &caller,
            &delivery,
            &quote,
            company.as_deref(),
            query.paper.unwrap_or(Paper::A4),
        ),
        Err(crate::app::AppError::NotFound { .. }) => missing(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// The delivery note's page.
fn note_document(
    app: &App,
    caller: &Principal,
    delivery: &Delivery,
    quote: &QuoteView,
    company: Option<&str>,
    paper: Paper,
) -> Response {
    use std::fmt::Write as _;
    let shop = &app.config().shop;
    let mut rows = String::new();
    for line in &delivery.lines {
        let entered = line
            .entered
            .as_ref()
            .map(|e| format!(" ({} {})", e.quantity, escape_html(e.unit.as_str())))
            .unwrap_or_default();
        let actual = line.actual.as_ref().map_or_else(String::new, |a| {
            format!(
                "<div class=\"actual\">Actually delivered: {} {}</div>",
                a.quantity,
                escape_html(a.unit.as_str())
            )
        });
        let _ = write!(
            rows,
            "<tr><td>{name}<div class=\"sku\">{sku} · line {line_no}</div>{actual}</td>\
             <td class=\"num\">{qty} {unit}{entered}</td><td class=\"num\">{left} {unit}</td></tr>",
            name = escape_html(&line.name),
            sku = escape_html(line.sku.as_str()),
            line_no = line.line,
            qty = line.quantity.quantity,
            unit = escape_html(line.quantity.unit.as_str()),
            left = line.outstanding.quantity,
        );
    }
    let detail = |label: &str, value: Option<&str>| {
        value.map_or_else(String::new, |v| {
            format!("<p><span>{label}:</span> {}</p>", escape_html(v))
        })
    };
    let details = [
        detail("Vehicle", delivery.vehicle.as_ref().map(AsRef::as_ref)),
        detail("Driver", delivery.driver.as_ref().map(AsRef::as_ref)),
        detail("Reference", delivery.reference.as_ref().map(AsRef::as_ref)),
        detail("Note", delivery.note.as_ref().map(AsRef::as_ref)),
    ]
    .concat();
    let to = [
        company.map(escape_html),
        Some(escape_html(quote.contact.name.as_str())),
        quote
            .delivery
            .as_ref()
            .and_then(|d| d.postcode.as_deref())
            .map(|p| format!("Deliver to {}", escape_html(p))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("<br>");
    let back = if caller.customer.is_some() {
        "/account".to_owned()
    } else {
        format!("/admin/quote?number={}", quote.number)
    };
    let (paper_class, other) = match paper {
        Paper::A4 => ("a4", "<a href=\"?paper=80mm\">80 mm receipt</a>"),
        Paper::Receipt => ("receipt", "<a href=\"?paper=a4\">A4</a>"),
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Delivery note {number}/{n} — {shop}</title><link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/assets/quote.css\"></head>\
<body class=\"paper-{paper_class}\"><main class=\"quote note\" data-quote=\"{number}\" data-delivery=\"{n}\">\
<header><div><h1>{shop}</h1><p class=\"contact\">{shop_contact}</p></div><div class=\"meta\"><h2>Delivery note {number}/{n}</h2>\
<p>Date: {date}<br>Quote: {number}</p></div></header>\
<section class=\"to\"><h3>For</h3><p>{to}</p></section><section class=\"details\">{details}</section>\
<table><thead><tr><th>Product</th><th class=\"num\">Delivered</th><th class=\"num\">Still to deliver</th></tr></thead><tbody>{rows}</tbody></table>\
<section class=\"sign\"><p>Received in good order by (name, signature):</p><div class=\"line\"></div></section>\
<p class=\"print\"><a href=\"#\" data-print>Print this note</a> · {other} · <a href=\"{back}\">Back</a></p></main>\
<script type=\"module\" src=\"/assets/delivery-note.js\"></script></body></html>",
        number = escape_html(delivery.quote.as_str()),
        n = delivery.number,
        shop = escape_html(&shop.name),
        shop_contact = escape_html(&shop.contact),
        date = delivery.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        back = escape_html(&back),
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
