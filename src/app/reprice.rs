//! Re-pricing an open quote at today's prices: the same lines (and the same
//! delivery), priced again, with what changed; a fresh validity when applied.

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::delivery::DeliveryRequest;
use super::quotes::{
    LineRequest, QuoteView, not_found, price_lines, shop, valid_from, with_delivery,
};
use super::{App, AppError, ErrorCode, Principal};
use crate::config::PublicAvailability;
use crate::domain::delivery::DeliveryCharge;
use crate::domain::pricing::{Amount, PricedLine, Totals};
use crate::domain::quotes::{Quote, QuoteNumber, QuoteStatus};
use crate::store::ChangeKind;
use crate::store::payloads::QuoteChanged;

/// One amount that re-pricing changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceChange {
    /// The line's SKU, `delivery`, or `total`.
    pub what: String,
    pub name: String,
    pub before: Amount,
    pub after: Amount,
}

/// The answer of `POST /quotes/{number}/reprice`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Repriced {
    /// The quote as re-priced (as it stays, unless `applied`).
    pub quote: QuoteView,
    /// Each line, the delivery and the total whose gross amount changes.
    pub changes: Vec<PriceChange>,
    /// Whether the new prices were saved (not a dry run).
    pub applied: bool,
}

/// The gross amounts that change: each line's, the delivery's, the total.
fn changes_between(
    quote: &Quote,
    priced: &[PricedLine],
    charge: Option<&DeliveryCharge>,
    totals: &Totals,
) -> Vec<PriceChange> {
    let mut changes: Vec<PriceChange> = quote
        .lines
        .iter()
        .zip(priced)
        .filter(|(was, now)| was.gross != now.gross)
        .map(|(was, now)| PriceChange {
            what: now.sku.to_string(),
            name: now.name.clone(),
            before: was.gross,
            after: now.gross,
        })
        .collect();
    if let (Some(before), Some(after)) = (
        quote.delivery.as_ref().map(|c| c.gross),
        charge.map(|c| c.gross),
    ) && before != after
    {
        changes.push(PriceChange {
            what: "delivery".into(),
            name: "Delivery".into(),
            before,
            after,
        });
    }
    if quote.totals.gross != totals.gross {
        changes.push(PriceChange {
            what: "total".into(),
            name: "Total".into(),
            before: quote.totals.gross,
            after: totals.gross,
        });
    }
    changes
}

impl App {
    /// Prices an open quote's lines again at today's prices (and its
    /// delivery, to the same postcode): what would change, and with
    /// `apply` the quote saved so, valid for the shop's days from now. A
    /// quote that holds stock keeps what it holds: re-pricing that would
    /// change the amounts (a product's packs changed) is refused.
    pub async fn reprice_quote(
        &self,
        caller: &Principal,
        number: &str,
        apply: bool,
    ) -> Result<Repriced, AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let actor = caller.actor.clone();
        let config = self.config().clone();
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
                        "quote {parsed} is {}: only an open quote is re-priced",
                        quote.status
                    ),
                });
            }
            let requests: Vec<LineRequest> = quote
                .lines
                .iter()
                .map(|l| LineRequest {
                    sku: l.sku.clone(),
                    quantity: l.requested.quantity,
                    unit: Some(l.requested.unit.clone()),
                })
                .collect();
            let delivery = quote.delivery.as_ref().map(|d| DeliveryRequest {
                postcode: d.postcode.clone(),
                collection: d.method == "collection",
            });
            let shop = shop(&config);
            let list = super::customers::list_of(tx, quote.customer.as_ref(), "customer", false)?;
            let (lines, products) = price_lines(
                tx,
                &requests,
                &shop,
                true,
                PublicAvailability::Exact,
                list.as_ref(),
            )?;
            let priced: Vec<PricedLine> = lines.into_iter().map(|l| l.line).collect();
            if quote.hold_stock
                && quote
                    .lines
                    .iter()
                    .zip(&priced)
                    .any(|(was, now)| was.stock != now.stock)
            {
                return Err(AppError::Conflict {
                    code: ErrorCode::QuoteStatus,
                    field: None,
                    message: format!(
                        "quote {parsed} holds stock, and a product's packs changed the amounts \
                         it would hold: cancel it and make a new quote"
                    ),
                });
            }
            let (charge, totals) = with_delivery(
                &tx.delivery_zones()?,
                delivery.as_ref(),
                &priced,
                &products,
                &shop,
                &config.shop.contact,
            )?;
            let changes = changes_between(&quote, &priced, charge.as_ref(), &totals);
            quote.lines = priced;
            quote.totals = totals;
            quote.delivery = charge;
            if apply {
                quote.valid_until = valid_from(now, &config)?;
                quote.updated_at = now;
                quote.version += 1;
                tx.put_quote(&quote)?;
                tx.record(
                    ChangeKind::QuoteRepriced,
                    parsed.as_str(),
                    &actor,
                    &QuoteChanged {
                        status: quote.status,
                    },
                )?;
            }
            Ok(Repriced {
                quote: QuoteView::of(&quote, true),
                changes,
                applied: apply,
            })
        })
        .await
    }
}
