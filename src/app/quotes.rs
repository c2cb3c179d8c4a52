//! Estimates and saved quotes. An estimate prices lines on a snapshot and says
//! how much is available; a saved quote freezes the prices under a number,
//! can hold its stock (reserve movements), and is accepted, fulfilled (ship
//! movements) or cancelled by staff — or expires, releasing what it held.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{Timestamp, ToSpan};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorCode;
use super::cursor::Listing;
use super::customers::list_of;
use super::delivery::DeliveryRequest;
use super::idempotency::{Answer, Idempotency};
use super::ledger::book_all;
use super::metrics::CacheName;
use super::{App, AppError, Principal, cursor};
use crate::config::{Config, PublicAvailability};
use crate::domain::accounts::{Actor, Role, Scope};
use crate::domain::catalogue::Product;
use crate::domain::customers::{CustomerCode, PriceList};
use crate::domain::delivery::DeliveryCharge;
use crate::domain::ledger::{Draft, Line, MovementKind, Place, Remark};
use crate::domain::locations::LocationCode;
use crate::domain::mail::MailNotice;
use crate::domain::pricing::{self, PricedLine, Shop, Totals};
use crate::domain::quotes::{Contact, Hold, Quote, QuoteAction, QuoteNumber, QuoteStatus};
use crate::domain::units::{PositiveQuantity, Quantity, UnitName};
use crate::domain::values::Sku;
use crate::store::{ChangeKind, ReadTx, WriteTx};

/// Most lines an estimate or a quote may have.
pub const MAX_LINES: usize = 100;

/// One line asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub sku: Sku,
    #[schema(value_type = PositiveQuantity)]
    pub quantity: Quantity,
    /// A unit or one of the product's packs; default: its pricing unit.
    pub unit: Option<UnitName>,
}

/// The body of `POST /quote/estimate`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateRequest {
    /// 1 to [`MAX_LINES`] lines.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<LineRequest>,
    /// Delivered to a postcode (a delivery charge is added) or collected.
    pub delivery: Option<DeliveryRequest>,
    /// Staff only: price for this trade customer, at their price list.
    pub customer: Option<CustomerCode>,
}

/// The body of `POST /quotes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// 1 to [`MAX_LINES`] lines.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<LineRequest>,
    pub contact: Contact,
    /// Staff only: hold (reserve) the stock while the quote is open. Anonymous
    /// requests follow the shop's setting.
    pub hold_stock: Option<bool>,
    /// Staff only: hold the stock at this location alone (the yard the
    /// customer collects from), as much as is available there, instead of
    /// spreading it over the locations with the most available. Implies
    /// `hold_stock`.
    pub hold_location: Option<LocationCode>,
    /// Delivered to a postcode (a delivery charge is added) or collected.
    pub delivery: Option<DeliveryRequest>,
    pub note: Option<Remark>,
    /// Staff only: the trade customer the quote is for; it is priced at
    /// their price list.
    pub customer: Option<CustomerCode>,
}

/// Whether a line can be had, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineAvailability {
    /// `available`, `partial` (less than asked is in stock) or `backorder`.
    pub status: String,
    /// In the stock unit: how much is available, when the caller may know.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub available: Option<Decimal>,
}

/// A priced line with its availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EstimateLine {
    #[serde(flatten)]
    pub line: PricedLine,
    /// Absent when the shop hides stock from the public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<LineAvailability>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Estimate {
    pub lines: Vec<EstimateLine>,
    /// When delivery or collection was asked about; its charge is in the totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryCharge>,
    pub totals: Totals,
    pub currency: String,
    pub prices_include_tax: bool,
    pub took_ms: f64,
}

/// A quote as the API shows it (never the link's hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuoteView {
    pub number: QuoteNumber,
    pub status: QuoteStatus,
    pub contact: Contact,
    pub lines: Vec<PricedLine>,
    /// How the goods reach the customer; a delivery's charge is in the totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryCharge>,
    pub totals: Totals,
    pub currency: String,
    pub prices_include_tax: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub hold_stock: bool,
    pub holds: Vec<Hold>,
    pub note: Option<String>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Staff only: the trade customer the quote is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerCode>,
    pub version: u64,
    /// The customer's link to the quote's page; only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The main photo of each line's product that has one, by SKU; in the
    /// answers about one quote (not in lists).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub photos: BTreeMap<String, super::search::HitImage>,
    /// Whether the link was e-mailed: in the answers that made a link, when
    /// the quote has an e-mail address or the link was asked to be sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailNotice>,
    /// How many deliveries were made (absent: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deliveries: u32,
    /// Per line: ordered, delivered and outstanding, once anything was
    /// delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<crate::domain::deliveries::LineProgress>,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl QuoteView {
    /// The view for staff, or (`staff` false) for the customer.
    pub fn of(quote: &Quote, staff: bool) -> Self {
        Self {
            number: quote.number.clone(),
            status: quote.status,
            contact: quote.contact.clone(),
            lines: quote.lines.clone(),
            delivery: quote.delivery.clone(),
            totals: quote.totals.clone(),
            currency: quote.currency.clone(),
            prices_include_tax: quote.prices_include_tax,
            created_at: quote.created_at,
            valid_until: quote.valid_until,
            updated_at: quote.updated_at,
            hold_stock: quote.hold_stock,
            holds: quote.holds.clone(),
            note: quote.note.clone(),
            created_by: staff.then(|| quote.created_by.to_string()),
            customer: quote.customer.clone().filter(|_| staff),
            version: quote.version,
            link: None,
            photos: BTreeMap::new(),
            mail: None,
            deliveries: quote.deliveries,
            progress: quote.progress(),
        }
    }

    /// The view with its lines' photos, read in one lookup.
    pub(super) fn with_photos(mut self, tx: &ReadTx) -> Result<Self, AppError> {
        let mut skus: Vec<Sku> = self.lines.iter().map(|l| l.sku.clone()).collect();
        skus.sort();
        skus.dedup();
        for product in tx.products_many(&skus)?.into_iter().flatten() {
            if let Some(image) = product.images.first() {
                self.photos.insert(
                    product.sku.to_string(),
                    super::search::HitImage {
                        thumb_url: image.thumb_url.clone(),
                        alt: image.alt.clone(),
                    },
                );
            }
        }
        Ok(self)
    }
}

/// Whether a new quote holds its stock: staff choose (a hold location
/// implies it), anyone else gets the shop's setting.
fn holds_stock(staff: bool, request: &QuoteRequest, shop_default: bool) -> Result<bool, AppError> {
    Ok(match (staff, request.hold_stock, &request.hold_location) {
        (false, Some(_), _) | (false, _, Some(_)) => {
            return Err(AppError::Forbidden(
                "only staff choose whether and where a quote holds stock".into(),
            ));
        }
        (true, Some(false), Some(_)) => {
            return Err(AppError::invalid(
                "hold_location",
                "a quote that holds no stock has no location to hold it at: leave \
                 hold_location out, or hold the stock",
            ));
        }
        (true, Some(hold), _) => hold,
        (true, None, Some(_)) => true,
        (_, None, None) => shop_default,
    })
}

/// A location stock can be held at: one the shop has and uses.
fn check_hold_location(tx: &WriteTx, code: &LocationCode) -> Result<(), AppError> {
    match tx.location(code)? {
        Some(location) if location.active => Ok(()),
        Some(_) => Err(AppError::invalid(
            "hold_location",
            format!("{code} is archived: choose a location in use"),
        )),
        None => Err(AppError::invalid(
            "hold_location",
            format!("no location has the code {code}"),
        )),
    }
}

/// The delivery charge asked about, if any, and the totals with it.
pub(super) fn with_delivery(
    zones: &[crate::domain::delivery::DeliveryZone],
    request: Option<&DeliveryRequest>,
    priced: &[PricedLine],
    products: &[Product],
    shop: &Shop,
    contact: &str,
) -> Result<(Option<DeliveryCharge>, Totals), AppError> {
    let mut totals = pricing::totals(priced, shop.minor_units);
    let charge = super::delivery::charge_for(zones, request, priced, products, shop, contact)?;
    if let Some(c) = charge.as_ref().filter(|c| c.method == "delivery") {
        pricing::add_charge(
            &mut totals,
            &c.tax_class,
            c.tax_rate,
            (c.net, c.tax, c.gross),
        );
    }
    Ok((charge, totals))
}

/// Where customer links point: the configured address, else the one the
/// caller used, else the listening address.
fn link_base(config: &Config, reached_at: Option<String>) -> String {
    config
        .public_base_url
        .clone()
        .or(reached_at)
        .unwrap_or_else(|| format!("http://{}", config.listen))
}

/// Until when a quote priced at `now` is valid: the shop's `quotes.valid_days`.
pub(super) fn valid_from(now: Timestamp, config: &Config) -> Result<Timestamp, AppError> {
    now.checked_add(
        i64::from(config.quotes.valid_days)
            .days()
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|e| AppError::Internal(e.to_string()))?,
    )
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The customer's link to a quote's page.
fn link(base: &str, secret: &str) -> String {
    format!("{}/q/{secret}", base.trim_end_matches('/'))
}

/// Queues the customer's link to `quote` by mail to `to`.
fn mail_link(
    tx: &mut WriteTx,
    config: &Config,
    quote: &Quote,
    to: &str,
    secret: &str,
) -> Result<MailNotice, AppError> {
    let facts = super::mail::messages::QuoteFacts {
        number: quote.number.as_str(),
        name: quote.contact.name.as_str(),
        gross: quote.totals.gross.0.to_string(),
        currency: &quote.currency,
        valid_until: quote.valid_until,
    };
    let url = link(&super::mail::link_base(config), secret);
    super::mail::queue(
        tx,
        config,
        super::mail::messages::quote_link(config, to, &facts, &url),
    )
}

/// An estimate's lines and totals, as cached.
type Priced = Arc<(Vec<EstimateLine>, Option<DeliveryCharge>, Totals)>;

/// What an estimate is cached by: its lines, delivery and customer, the
/// caller kind and the store's `seq`.
type EstimateKey = (
    Vec<LineRequest>,
    Option<DeliveryRequest>,
    Option<CustomerCode>,
    bool,
    u64,
);

/// The cache of estimates.
pub(super) struct Cache {
    estimates: moka::sync::Cache<EstimateKey, Priced>,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            estimates: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(300))
                .build(),
        }
    }
}

pub(super) fn shop(config: &Config) -> Shop {
    Shop {
        minor_units: config.shop.minor_units(),
        prices_include_tax: config.shop.prices_include_tax,
        tax_rates: config.shop.tax_rates(),
    }
}

pub(super) fn line_field(i: usize, name: &str) -> String {
    format!("lines[{i}].{name}")
}

fn check_lines(lines: &[LineRequest]) -> Result<(), AppError> {
    if lines.is_empty() {
        return Err(AppError::invalid("lines", "must have at least one line"));
    }
    if lines.len() > MAX_LINES {
        return Err(AppError::invalid(
            "lines",
            format!("may have at most {MAX_LINES} lines"),
        ));
    }
    Ok(())
}

/// What a caller may see of a line's availability.
fn availability(
    product: &Product,
    needed: Decimal,
    available: Decimal,
    staff: bool,
    mode: PublicAvailability,
) -> Option<LineAvailability> {
    if !staff && mode == PublicAvailability::Hidden {
        return None;
    }
    let status = if available >= needed {
        "available"
    } else if product.allow_backorder {
        "backorder"
    } else {
        "partial"
    };
    let exact = staff || mode == PublicAvailability::Exact;
    Some(LineAvailability {
        status: status.into(),
        available: exact.then(|| available.max(Decimal::ZERO).normalize()),
    })
}

/// Reads a snapshot's products and stock for pricing.
pub(super) trait Catalogue {
    fn product_of(&self, sku: &Sku) -> Result<Option<Product>, AppError>;
    fn available_of(&self, sku: &Sku) -> Result<Decimal, AppError>;
}

macro_rules! catalogue_for {
    ($t:ty) => {
        impl Catalogue for $t {
            fn product_of(&self, sku: &Sku) -> Result<Option<Product>, AppError> {
                Ok(self.product(sku)?)
            }
            fn available_of(&self, sku: &Sku) -> Result<Decimal, AppError> {
                Ok(self
                    .levels_of(sku)?
                    .iter()
                    .map(|(_, l)| l.available())
                    .sum())
            }
        }
    };
}
catalogue_for!(ReadTx);
catalogue_for!(WriteTx);

/// What [`price_request`] answers: the lines, their products, the delivery
/// charge and the totals.
type PricedRequest = (
    Vec<PricedLine>,
    Vec<Product>,
    Option<DeliveryCharge>,
    Totals,
);

/// A quote request priced as staff see it, at its customer's list if it
/// names one (an archived customer gets no new prices), with its delivery.
/// Shared by a new quote and a changed one.
fn price_request(
    tx: &WriteTx,
    request: &QuoteRequest,
    shop: &Shop,
    contact: &str,
) -> Result<PricedRequest, AppError> {
    let list = list_of(tx, request.customer.as_ref(), "customer", true)?;
    let (lines, products) = price_lines(
        tx,
        &request.lines,
        shop,
        true,
        PublicAvailability::Exact,
        list.as_ref(),
    )?;
    let priced: Vec<PricedLine> = lines.into_iter().map(|l| l.line).collect();
    let (delivery, totals) = with_delivery(
        &tx.delivery_zones()?,
        request.delivery.as_ref(),
        &priced,
        &products,
        shop,
        contact,
    )?;
    Ok((priced, products, delivery, totals))
}

/// The trade customer a request is priced for: a signed-in contact's own
/// (naming another is refused), or the one staff name. Anyone else naming a
/// customer is refused, so the public cannot learn a customer's prices.
fn customer_for(
    caller: Option<&Principal>,
    staff: bool,
    requested: Option<CustomerCode>,
) -> Result<Option<CustomerCode>, AppError> {
    if let Some(own) = caller.and_then(|p| p.customer.as_ref()) {
        if requested.as_ref().is_some_and(|r| r != own) {
            return Err(AppError::Forbidden(
                "a trade contact prices for their own customer only".into(),
            ));
        }
        return Ok(Some(own.clone()));
    }
    if requested.is_some() && !staff {
        return Err(AppError::Forbidden(
            "only staff price for a trade customer".into(),
        ));
    }
    Ok(requested)
}

/// Prices every line against a snapshot; the products priced, in order.
pub(super) fn price_lines(
    tx: &impl Catalogue,
    requests: &[LineRequest],
    shop: &Shop,
    staff: bool,
    mode: PublicAvailability,
    list: Option<&PriceList>,
) -> Result<(Vec<EstimateLine>, Vec<Product>), AppError> {
    let today = super::customers::today();
    check_lines(requests)?;
    let mut lines = Vec::with_capacity(requests.len());
    let mut products = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let product = tx
            .product_of(&request.sku)?
            .filter(|p| p.active)
            .ok_or_else(|| {
                AppError::invalid(
                    line_field(i, "sku"),
                    format!("there is no product {}", request.sku),
                )
            })?;
        let unit = request
            .unit
            .clone()
            .unwrap_or_else(|| product.pricing_unit());
        let priced = pricing::price_line_for(
            &product,
            request.quantity,
            &unit,
            shop,
            list.map(|l| (l, today)),
        )
        .map_err(|e| AppError::invalid(line_field(i, e.field), e.reason))?;
        let available = tx.available_of(&product.sku)?;
        lines.push(EstimateLine {
            availability: availability(
                &product,
                priced.stock.quantity.value(),
                available,
                staff,
                mode,
            ),
            line: priced,
        });
        products.push(product);
    }
    Ok((lines, products))
}

fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

pub(super) fn not_found(number: &str) -> AppError {
    AppError::NotFound {
        what: "quote",
        key: number.to_owned(),
    }
}

/// A held or shipped amount at one location.
pub(super) fn line_at(
    product: &Product,
    quantity: Decimal,
    reason: &str,
) -> Result<Line, AppError> {
    Ok(Line {
        sku: product.sku.clone(),
        quantity: Quantity::new(quantity).map_err(AppError::field("quantity"))?,
        unit: product.unit,
        entered: None,
        counted: None,
        reason: Some(Remark::parse(reason).map_err(AppError::field("reason"))?),
    })
}

/// Drafts of one kind, one per location, from (sku, location, quantity) parts.
pub(super) fn drafts(
    kind: MovementKind,
    parts: &[(Sku, LocationCode, Decimal)],
    products: &BTreeMap<Sku, Product>,
    number: &QuoteNumber,
    reason: &str,
) -> Result<Vec<Draft>, AppError> {
    let mut by_location: BTreeMap<LocationCode, Vec<Line>> = BTreeMap::new();
    for (sku, location, quantity) in parts {
        if quantity.is_zero() {
            continue;
        }
        let product = products
            .get(sku)
            .ok_or_else(|| AppError::Internal(format!("product {sku} vanished")))?;
        by_location
            .entry(location.clone())
            .or_default()
            .push(line_at(product, *quantity, reason)?);
    }
    let reference = crate::domain::ledger::Reference::parse(number.as_str())
        .map_err(AppError::field("reference"))?;
    Ok(by_location
        .into_iter()
        .map(|(location, lines)| Draft {
            kind,
            place: Place::At { location },
            reference: Some(reference.clone()),
            note: Remark::parse(&format!("quote {number}")).ok(),
            lines,
            reverses: None,
        })
        .collect())
}

/// Spreads `needed` over the locations with available stock, most first.
pub(super) fn allocate(
    tx: &WriteTx,
    sku: &Sku,
    needed: Decimal,
    taken: &mut BTreeMap<(Sku, LocationCode), Decimal>,
    only: Option<&LocationCode>,
) -> Result<(Vec<(LocationCode, Decimal)>, Decimal), AppError> {
    let mut places: Vec<(LocationCode, Decimal)> = tx
        .levels_of(sku)?
        .into_iter()
        .filter(|(l, _)| only.is_none_or(|only| only == l))
        .map(|(l, level)| {
            let already = taken
                .get(&(sku.clone(), l.clone()))
                .copied()
                .unwrap_or_default();
            (l, level.available() - already)
        })
        .filter(|(_, a)| *a > Decimal::ZERO)
        .collect();
    places.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut left = needed;
    let mut out = Vec::new();
    for (location, available) in places {
        if left <= Decimal::ZERO {
            break;
        }
        let take = available.min(left);
        *taken.entry((sku.clone(), location.clone())).or_default() += take;
        out.push((location, take));
        left -= take;
    }
    Ok((out, left.max(Decimal::ZERO)))
}

/// What a new quote holds, spread over the locations with stock (most
/// available first) or at `only`, and the reserve movements that hold it.
fn hold_plan(
    tx: &WriteTx,
    priced: &[PricedLine],
    products: &[Product],
    number: &QuoteNumber,
    only: Option<&LocationCode>,
) -> Result<(Vec<Hold>, Vec<Draft>), AppError> {
    let mut taken = BTreeMap::new();
    let mut holds = Vec::new();
    let mut parts = Vec::new();
    for line in priced {
        let (places, _) = allocate(tx, &line.sku, line.stock.quantity.value(), &mut taken, only)?;
        for (location, quantity) in places {
            holds.push(Hold {
                sku: line.sku.clone(),
                location: location.clone(),
                quantity: Quantity::new(quantity).map_err(AppError::field("quantity"))?,
            });
            parts.push((line.sku.clone(), location, quantity));
        }
    }
    let by_sku: BTreeMap<Sku, Product> = products
        .iter()
        .map(|p| (p.sku.clone(), p.clone()))
        .collect();
    let movements = drafts(
        MovementKind::Reserve,
        &parts,
        &by_sku,
        number,
        &format!("held for quote {number}"),
    )?;
    Ok((holds, movements))
}

/// Releases what a quote holds: the release movements to book.
pub(super) fn releases(
    quote: &Quote,
    products: &BTreeMap<Sku, Product>,
    why: &str,
) -> Result<Vec<Draft>, AppError> {
    let parts: Vec<(Sku, LocationCode, Decimal)> = quote
        .holds
        .iter()
        .map(|h| (h.sku.clone(), h.location.clone(), h.quantity.value()))
        .collect();
    drafts(MovementKind::Release, &parts, products, &quote.number, why)
}

pub(super) fn products_of(tx: &WriteTx, quote: &Quote) -> Result<BTreeMap<Sku, Product>, AppError> {
    let mut products = BTreeMap::new();
    for line in &quote.lines {
        if let Some(p) = tx.product(&line.sku)? {
            products.insert(p.sku.clone(), p);
        }
    }
    Ok(products)
}

/// Where a quote's lines ship from: what it holds first, then the locations
/// with stock available (most first); 409 when there is not enough and the
/// product does not allow backorders.
fn shipments(
    tx: &WriteTx,
    quote: &Quote,
    products: &BTreeMap<Sku, Product>,
) -> Result<Vec<(Sku, LocationCode, Decimal)>, AppError> {
    let mut taken = BTreeMap::new();
    let mut held: BTreeMap<(Sku, LocationCode), Decimal> = quote
        .holds
        .iter()
        .map(|h| ((h.sku.clone(), h.location.clone()), h.quantity.value()))
        .collect();
    let mut ship: Vec<(Sku, LocationCode, Decimal)> = Vec::new();
    for (i, line) in quote.lines.iter().enumerate() {
        // What earlier deliveries shipped is not shipped again.
        let mut needed = quote.outstanding_of(i);
        for ((sku, location), left) in held.iter_mut().filter(|((s, _), _)| *s == line.sku) {
            let use_now = (*left).min(needed);
            if use_now > Decimal::ZERO {
                *left -= use_now;
                needed -= use_now;
                ship.push((sku.clone(), location.clone(), use_now));
            }
        }
        if needed > Decimal::ZERO {
            let (parts, missing) = allocate(tx, &line.sku, needed, &mut taken, None)?;
            let backorder = products.get(&line.sku).is_some_and(|p| p.allow_backorder);
            if missing > Decimal::ZERO && !backorder {
                return Err(AppError::Conflict {
                    code: ErrorCode::InsufficientStock,
                    field: Some(line_field(i, "quantity")),
                    message: format!(
                        "line {} ({}): {} {} more is needed than is available; nothing was shipped",
                        i + 1,
                        line.sku,
                        missing.normalize(),
                        line.stock.unit
                    ),
                });
            }
            ship.extend(parts.into_iter().map(|(l, q)| (line.sku.clone(), l, q)));
            if missing > Decimal::ZERO {
                // Backordered: ship the rest from the first location.
                let location = tx
                    .levels_of(&line.sku)?
                    .into_iter()
                    .next()
                    .map(|(l, _)| l)
                    .or_else(|| quote.holds.first().map(|h| h.location.clone()))
                    .ok_or_else(|| AppError::Conflict {
                        code: ErrorCode::InsufficientStock,
                        field: Some(line_field(i, "quantity")),
                        message: format!("line {}: {} is stocked nowhere", i + 1, line.sku),
                    })?;
                ship.push((line.sku.clone(), location, missing));
            }
        }
    }
    Ok(ship)
}

/// Moves a quote to its next status with the movements that go with it.
fn act(
    tx: &mut WriteTx,
    actor: &Actor,
    number: &QuoteNumber,
    action: QuoteAction,
) -> Result<Quote, AppError> {
    let mut quote = tx
        .quote(number)?
        .ok_or_else(|| not_found(number.as_str()))?;
    let now = Timestamp::now();
    if action != QuoteAction::Expire && quote.is_due(now) {
        return Err(AppError::Conflict {
            code: ErrorCode::QuoteExpired,
            field: None,
            message: format!("quote {number} expired at {}", quote.valid_until),
        });
    }
    if action == QuoteAction::Cancel && quote.deliveries > 0 {
        return Err(AppError::Conflict {
            code: ErrorCode::QuoteStatus,
            field: None,
            message: format!(
                "quote {number} has {} deliveries: what was delivered stays delivered; \
                 close it instead (POST /api/v1/quotes/{number}/close)",
                quote.deliveries
            ),
        });
    }
    let next = action
        .apply(quote.status)
        .map_err(|message| AppError::Conflict {
            code: ErrorCode::QuoteStatus,
            field: None,
            message: format!("quote {number}: {message}"),
        })?;
    let products = products_of(tx, &quote)?;
    let product_list: Vec<Product> = products.values().cloned().collect();
    let mut movements = Vec::new();
    let kind = match action {
        QuoteAction::Accept => ChangeKind::QuoteAccepted,
        QuoteAction::Cancel | QuoteAction::Expire => {
            movements = releases(&quote, &products, &format!("quote {number} {next}"))?;
            if action == QuoteAction::Cancel {
                ChangeKind::QuoteCancelled
            } else {
                ChangeKind::QuoteExpired
            }
        }
        QuoteAction::Fulfil => {
            // What is held is released and shipped from where it is held; the
            // rest ships from wherever it is available.
            movements = releases(&quote, &products, &format!("quote {number} fulfilled"))?;
            let ship = shipments(tx, &quote, &products)?;
            movements.extend(drafts(
                MovementKind::Ship,
                &ship,
                &products,
                number,
                &format!("quote {number}"),
            )?);
            quote.delivered = quote.lines.iter().map(|l| l.stock.quantity).collect();
            ChangeKind::QuoteFulfilled
        }
        QuoteAction::Close => {
            movements = releases(&quote, &products, &format!("quote {number} closed"))?;
            ChangeKind::QuoteFulfilled
        }
    };
    book_all(tx, actor, movements, &product_list)?;
    if matches!(
        action,
        QuoteAction::Cancel | QuoteAction::Expire | QuoteAction::Fulfil | QuoteAction::Close
    ) {
        quote.holds.clear();
    }
    quote.status = next;
    quote.updated_at = now;
    quote.version += 1;
    tx.put_quote(&quote)?;
    tx.record(
        kind,
        number.as_str(),
        actor,
        &crate::store::payloads::QuoteChanged { status: next },
    )?;
    Ok(quote)
}

/// The filters of `GET /quotes`.
#[derive(Debug, Clone, Default)]
pub struct QuoteFilter {
    pub status: Option<QuoteStatus>,
    /// Only quotes with a line of this product.
    pub sku: Option<Sku>,
    /// Only the quotes of this trade customer.
    pub customer: Option<CustomerCode>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl App {
    /// Prices lines, with availability: what the calculator and the storefront
    /// show. Cached by request and store `seq`.
    pub async fn estimate(
        &self,
        caller: Option<&Principal>,
        lines: Vec<LineRequest>,
        delivery: Option<DeliveryRequest>,
        customer: Option<CustomerCode>,
    ) -> Result<Estimate, AppError> {
        let started = Instant::now();
        check_lines(&lines)?;
        let staff = caller.is_some_and(Principal::reads);
        let customer = customer_for(caller, staff, customer)?;
        let key = (
            lines.clone(),
            delivery,
            customer,
            staff,
            *self.committed().borrow(),
        );
        let config = self.config();
        let cached = self.inner.quotes.estimates.get(&key);
        self.metrics()
            .cache_lookup(CacheName::Estimate, cached.is_some());
        let (lines, charge, totals) = if let Some(cached) = cached {
            (*cached).clone()
        } else {
            let shop = shop(config);
            let mode = config.stock.public_availability;
            let contact = config.shop.contact.clone();
            let wanted = key.1.clone();
            let customer = key.2.clone();
            let computed = self
                .read(move |tx| {
                    let list = list_of(tx, customer.as_ref(), "customer", true)?;
                    let (lines, products) =
                        price_lines(tx, &lines, &shop, staff, mode, list.as_ref())?;
                    let priced: Vec<PricedLine> = lines.iter().map(|l| l.line.clone()).collect();
                    let (charge, totals) = with_delivery(
                        &tx.delivery_zones()?,
                        wanted.as_ref(),
                        &priced,
                        &products,
                        &shop,
                        &contact,
                    )?;
                    Ok((lines, charge, totals))
                })
                .await?;
            self.inner
                .quotes
                .estimates
                .insert(key, Arc::new(computed.clone()));
            computed
        };
        self.metrics().estimated(started.elapsed());
        Ok(Estimate {
            lines,
            delivery: charge,
            totals,
            currency: config.shop.currency.clone(),
            prices_include_tax: config.shop.prices_include_tax,
            took_ms: elapsed_ms(started),
        })
    }

    /// Saves a quote: numbered, priced as of now, valid for the configured
    /// days, holding its stock if asked; returns it with the customer's link.
    pub async fn create_quote(
        &self,
        caller: Option<&Principal>,
        request: QuoteRequest,
        idempotency: Option<Idempotency>,
        reached_at: Option<String>,
    ) -> Result<Answer<QuoteView>, AppError> {
        check_lines(&request.lines)?;
        request
            .contact
            .check()
            .map_err(|(f, r)| AppError::invalid(f, r))?;
        let staff = caller.is_some_and(|p| p.role >= Role::Staff && p.can(Scope::QuotesWrite));
        let mut request = request;
        request.customer = customer_for(caller, staff, request.customer.take())?;
        let config = self.config().clone();
        let hold = holds_stock(staff, &request, config.quotes.hold_stock)?;
        let actor = caller.map_or_else(Actor::public, |p| p.actor.clone());
        let base = link_base(&config, reached_at);
        let answer = self
            .write(move |tx| {
                super::idempotency::once(tx, idempotency.as_ref(), |tx| {
                    let shop = shop(&config);
                    let (priced, products, delivery, totals) =
                        price_request(tx, &request, &shop, &config.shop.contact)?;
                    let now = Timestamp::now();
                    let year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
                    let number = tx.next_quote_number(year)?;
                    let secret = crate::auth::new_secret();
                    if let Some(code) = &request.hold_location {
                        check_hold_location(tx, code)?;
                    }
                    let (holds, movements) = if hold {
                        hold_plan(
                            tx,
                            &priced,
                            &products,
                            &number,
                            request.hold_location.as_ref(),
                        )?
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let valid_until = valid_from(now, &config)?;
                    let quote = Quote {
                        number: number.clone(),
                        status: QuoteStatus::Open,
                        contact: request.contact.clone(),
                        lines: priced,
                        totals,
                        currency: config.shop.currency.clone(),
                        prices_include_tax: config.shop.prices_include_tax,
                        created_at: now,
                        valid_until,
                        updated_at: now,
                        hold_stock: hold,
                        holds,
                        note: request.note.as_ref().map(ToString::to_string),
                        created_by: actor.clone(),
                        link_hash: crate::auth::token_hash(&secret),
                        version: 1,
                        delivery,
                        customer: request.customer.clone(),
                        delivered: Vec::new(),
                        deliveries: 0,
                    };
                    book_all(tx, &actor, movements, &products)?;
                    tx.put_quote(&quote)?;
                    tx.record(
                        ChangeKind::QuoteCreated,
                        number.as_str(),
                        &actor,
                        &crate::store::payloads::QuoteChanged {
                            status: QuoteStatus::Open,
                        },
                    )?;
                    let mut view = QuoteView::of(&quote, staff);
                    view.link = Some(link(&base, &secret));
                    if let Some(email) = &quote.contact.email {
                        view.mail = Some(mail_link(tx, &config, &quote, email.as_str(), &secret)?);
                    }
                    Ok(view)
                })
            })
            .await;
        if answer.is_ok() {
            self.wake_mail();
        }
        answer
    }

    /// Issues a new customer link for a quote (one lost, or sent to the
    /// wrong person): the old link opens nothing from now on. The answer
    /// carries the new link, once.
    pub async fn relink_quote(
        &self,
        caller: &Principal,
        number: &str,
        reached_at: Option<String>,
        email: bool,
    ) -> Result<QuoteView, AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let actor = caller.actor.clone();
        let config = self.config().clone();
        if email && !config.mail.enabled() {
            return Err(AppError::conflict(
                ErrorCode::MailNotConfigured,
                "email",
                "mail is not configured, so the link cannot be e-mailed: copy it instead",
            ));
        }
        let base = link_base(&config, reached_at);
        let view = self
            .write(move |tx| {
                let mut quote = tx
                    .quote(&parsed)?
                    .ok_or_else(|| not_found(parsed.as_str()))?;
                let secret = crate::auth::new_secret();
                quote.link_hash = crate::auth::token_hash(&secret);
                quote.updated_at = Timestamp::now();
                quote.version += 1;
                tx.put_quote(&quote)?;
                tx.record(
                    ChangeKind::QuoteRelinked,
                    parsed.as_str(),
                    &actor,
                    &crate::store::payloads::QuoteChanged {
                        status: quote.status,
                    },
                )?;
                let mut view = QuoteView::of(&quote, true);
                view.link = Some(link(&base, &secret));
                if email {
                    view.mail = Some(match &quote.contact.email {
                        Some(to) => mail_link(tx, &config, &quote, to.as_str(), &secret)?,
                        None => super::mail::no_address(),
                    });
                }
                Ok(view)
            })
            .await?;
        self.wake_mail();
        Ok(view)
    }

    /// Staff change an open quote: its lines, contact, delivery, note and
    /// what it holds, all at today's prices and valid for the shop's days
    /// from now. What it held is released and held again as asked, in the
    /// same write (stock it held counts as available to it). Its number and
    /// the customer's link stay. With a precondition, only if the quote is
    /// still at that version (someone else may have changed it meanwhile).
    pub async fn edit_quote(
        &self,
        caller: &Principal,
        number: &str,
        request: QuoteRequest,
        precondition: super::catalogue::Precondition,
    ) -> Result<QuoteView, AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        check_lines(&request.lines)?;
        request
            .contact
            .check()
            .map_err(|(f, r)| AppError::invalid(f, r))?;
        // Before the version is compared: a malformed body is refused as such.
        super::delivery::check_request(request.delivery.as_ref())?;
        let config = self.config().clone();
        let hold = holds_stock(true, &request, config.quotes.hold_stock)?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            let mut quote = tx
                .quote(&parsed)?
                .ok_or_else(|| not_found(parsed.as_str()))?;
            let now = Timestamp::now();
            if quote.status != QuoteStatus::Open {
                return Err(AppError::Conflict {
                    code: ErrorCode::QuoteStatus,
                    field: None,
                    message: format!(
                        "quote {parsed} is {}: only an open quote is changed",
                        quote.status
                    ),
                });
            }
            if quote.is_due(now) {
                return Err(AppError::Conflict {
                    code: ErrorCode::QuoteExpired,
                    field: None,
                    message: format!("quote {parsed} expired at {}", quote.valid_until),
                });
            }
            // After the status: a quote cancelled meanwhile is said to be so.
            precondition.check(quote.version)?;
            if let Some(code) = &request.hold_location {
                check_hold_location(tx, code)?;
            }
            let shop = shop(&config);
            // What it held goes back first, so that it can be held again.
            let before = products_of(tx, &quote)?;
            let released = releases(&quote, &before, &format!("quote {parsed} changed"))?;
            book_all(
                tx,
                &actor,
                released,
                &before.values().cloned().collect::<Vec<_>>(),
            )?;
            let (priced, products, delivery, totals) =
                price_request(tx, &request, &shop, &config.shop.contact)?;
            let (holds, movements) = if hold {
                hold_plan(
                    tx,
                    &priced,
                    &products,
                    &parsed,
                    request.hold_location.as_ref(),
                )?
            } else {
                (Vec::new(), Vec::new())
            };
            book_all(tx, &actor, movements, &products)?;
            quote.contact = request.contact;
            quote.customer = request.customer;
            quote.lines = priced;
            quote.totals = totals;
            quote.delivery = delivery;
            quote.hold_stock = hold;
            quote.holds = holds;
            quote.note = request.note.as_ref().map(ToString::to_string);
            quote.valid_until = valid_from(now, &config)?;
            quote.updated_at = now;
            quote.version += 1;
            tx.put_quote(&quote)?;
            tx.record(
                ChangeKind::QuoteUpdated,
                parsed.as_str(),
                &actor,
                &crate::store::payloads::QuoteChanged {
                    status: quote.status,
                },
            )?;
            Ok(QuoteView::of(&quote, true))
        })
        .await
    }

    pub async fn quote_action(
        &self,
        caller: &Principal,
        number: &str,
        action: QuoteAction,
    ) -> Result<QuoteView, AppError> {
        let number = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let actor = caller.actor.clone();
        let quote = self
            .write(move |tx| act(tx, &actor, &number, action))
            .await?;
        Ok(QuoteView::of(&quote, true))
    }

    pub async fn get_quote(&self, number: &str) -> Result<QuoteView, AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        self.read(move |tx| {
            tx.quote(&parsed)?
                .map(|quote| QuoteView::of(&quote, true).with_photos(tx))
                .transpose()
        })
        .await?
        .ok_or_else(|| not_found(number))
    }

    /// The quote a customer link opens (`None` for a link that opens nothing).
    pub async fn quote_by_link(&self, secret: &str) -> Result<Option<QuoteView>, AppError> {
        if secret.len() < 16
            || secret.len() > 64
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Ok(None);
        }
        let hash = crate::auth::token_hash(secret);
        self.read(move |tx| {
            tx.quote_by_link(&hash)?
                .map(|quote| QuoteView::of(&quote, false).with_photos(tx))
                .transpose()
        })
        .await
    }

    pub async fn list_quotes(&self, filter: QuoteFilter) -> Result<Listing<QuoteView>, AppError> {
        let before = filter
            .cursor
            .as_deref()
            .map(cursor::decode::<(i64, u64)>)
            .transpose()?;
        let limit = cursor::limit(filter.limit, 50, 200)?;
        let page = self
            .read(move |tx| {
                Ok(match &filter.customer {
                    Some(customer) => tx.customer_quotes_page(
                        customer,
                        filter.status,
                        filter.sku.as_ref(),
                        before,
                        limit,
                    )?,
                    None => tx.quotes_page(filter.status, filter.sku.as_ref(), before, limit)?,
                })
            })
            .await?;
        Ok(Listing {
            items: page.items.iter().map(|q| QuoteView::of(q, true)).collect(),
            next_cursor: page.next.as_ref().map(cursor::encode),
        })
    }

    /// Expires every open quote past its validity, releasing what it held.
    pub async fn expire_quotes(&self) -> Result<usize, AppError> {
        self.expire_quotes_at(Timestamp::now()).await
    }

    /// Expires every open quote whose validity ended by `now`. A quote whose
    /// hold can no longer be released (its reservation was released by hand)
    /// stays open and is logged; it never keeps the others from expiring.
    pub async fn expire_quotes_at(&self, now: Timestamp) -> Result<usize, AppError> {
        self.write(move |tx| {
            let mut expired = 0;
            for number in &tx.due_quotes(now)? {
                match act(tx, &Actor::system(), number, QuoteAction::Expire) {
                    Ok(_) => expired += 1,
                    // Refused by its checks, before anything was written.
                    Err(AppError::Conflict { message, .. }) => {
                        tracing::warn!(quote = %number, %message, "a due quote cannot expire");
                    }
                    Err(other) => return Err(other),
                }
            }
            Ok(expired)
        })
        .await
    }
}
