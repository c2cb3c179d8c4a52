//! A signed-in trade contact's own account: their customer, the customer's
//! quotes, and "order again" (a new quote from an earlier one, at today's
//! prices, saying what changed). Staff may order any quote again; a contact
//! only their own customer's, and is told the others do not exist.

use serde::Serialize;
use utoipa::ToSchema;

use super::cursor::{self, Listing};
use super::quotes::not_found;
use super::quotes::{LineRequest, QuoteRequest, QuoteView};
use super::{App, AppError, Principal};
use crate::app::delivery::DeliveryRequest;
use crate::app::idempotency::Answer;
use crate::domain::accounts::{Role, Scope};
use crate::domain::contacts::ContactView;
use crate::domain::customers::{Address, CustomerCode, PriceListCode, ShortText, TradeName};
use crate::domain::pricing::PricedLine;
use crate::domain::quotes::{Contact, QuoteNumber, QuoteStatus};
use crate::domain::units::UnitName;
use crate::domain::values::Money;

/// The price list a contact's customer buys at, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPriceList {
    pub code: PriceListCode,
    pub name: TradeName,
}

/// What a signed-in contact sees of their customer: never staff's notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCustomer {
    pub code: CustomerCode,
    pub name: TradeName,
    pub billing_address: Option<Address>,
    pub delivery_addresses: Vec<Address>,
    pub payment_terms: Option<ShortText>,
    pub price_list: Option<AccountPriceList>,
}

/// `GET /account`: who is signed in and for which customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub contact: ContactView,
    pub customer: AccountCustomer,
}

/// One line of an order placed again, compared with the earlier quote.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineChange {
    pub sku: String,
    pub name: String,
    /// `unchanged`, `price_up`, `price_down` or `dropped` (no longer sold:
    /// left out of the new quote).
    pub change: &'static str,
    /// The earlier price per pricing unit.
    pub was: Money,
    /// Today's, for the line kept.
    pub now: Option<Money>,
    /// What both prices are per (the product's pricing unit).
    pub unit: UnitName,
    /// For people: `41.85 → 43.20 per t`, `no longer sold: left out`.
    pub note: String,
}

/// `POST …/again`: the new quote and what changed since the earlier one.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderAgain {
    pub quote: QuoteView,
    /// The earlier quote's number.
    pub from: QuoteNumber,
    /// Line by line, in the earlier quote's order.
    pub changes: Vec<LineChange>,
}

/// The customer a contact buys for; staff and tokens are refused (403).
fn own_customer(caller: &Principal) -> Result<&CustomerCode, AppError> {
    caller.customer.as_ref().ok_or_else(|| {
        AppError::Forbidden(
            "this is a trade contact's own account; staff find customers at /api/v1/customers"
                .into(),
        )
    })
}

/// How the new price compares with the earlier one, line by line: the new
/// quote has the earlier lines still sold, in their order, so they are
/// walked side by side (a SKU may be on two lines, in two units).
fn compare(earlier: &[PricedLine], sold: &[bool], now: &[PricedLine]) -> Vec<LineChange> {
    let mut kept_lines = now.iter();
    earlier
        .iter()
        .zip(sold)
        .map(|(was, sold)| {
            let kept = if *sold { kept_lines.next() } else { None };
            let unit = was.pricing.unit.as_str();
            let moved = |line: &PricedLine| {
                format!(
                    "{} → {} per {unit}",
                    was.unit_price.value(),
                    line.unit_price.value()
                )
            };
            let (change, note) = match kept {
                None => ("dropped", "no longer sold: left out".to_owned()),
                Some(line) if line.unit_price > was.unit_price => ("price_up", moved(line)),
                Some(line) if line.unit_price < was.unit_price => ("price_down", moved(line)),
                Some(_) => ("unchanged", "same price".to_owned()),
            };
            LineChange {
                sku: was.sku.to_string(),
                name: was.name.clone(),
                change,
                was: was.unit_price,
                now: kept.map(|l| l.unit_price),
                unit: was.pricing.unit.clone(),
                note,
            }
        })
        .collect()
}

impl App {
    /// The signed-in contact's account.
    pub async fn account(&self, caller: &Principal) -> Result<Account, AppError> {
        let code = own_customer(caller)?.clone();
        let login = caller.contact_login().to_owned();
        self.read(move |tx| {
            let contact = tx
                .trade_contact(&login)?
                .ok_or_else(|| AppError::Unauthenticated("sign in again".into()))?;
            let customer = tx
                .customer(&code)?
                .ok_or_else(|| AppError::Unauthenticated("sign in again".into()))?;
            let price_list = match &customer.price_list {
                Some(list) => tx.price_list(list)?.map(|l| AccountPriceList {
                    code: l.code,
                    name: l.name,
                }),
                None => None,
            };
            Ok(Account {
                contact: ContactView::from(&contact),
                customer: AccountCustomer {
                    code: customer.code,
                    name: customer.name,
                    billing_address: customer.billing_address,
                    delivery_addresses: customer.delivery_addresses,
                    payment_terms: customer.payment_terms,
                    price_list,
                },
            })
        })
        .await
    }

    /// The contact's customer's quotes, newest first, as the customer sees
    /// them.
    pub async fn account_quotes(
        &self,
        caller: &Principal,
        status: Option<QuoteStatus>,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<Listing<QuoteView>, AppError> {
        let code = own_customer(caller)?.clone();
        let before = cursor
            .as_deref()
            .map(cursor::decode::<(i64, u64)>)
            .transpose()?;
        let limit = cursor::limit(limit, 50, 200)?;
        let page = self
            .read(move |tx| Ok(tx.customer_quotes_page(&code, status, None, before, limit)?))
            .await?;
        Ok(Listing {
            items: page.items.iter().map(|q| QuoteView::of(q, false)).collect(),
            next_cursor: page.next.as_ref().map(cursor::encode),
        })
    }

    /// One of the contact's customer's quotes, as the customer sees it; any
    /// other quote is "not found".
    pub async fn account_quote(
        &self,
        caller: &Principal,
        number: &str,
    ) -> Result<QuoteView, AppError> {
        let code = own_customer(caller)?.clone();
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let found = self
            .read(move |tx| {
                tx.quote(&parsed)?
                    .filter(|q| q.customer.as_ref() == Some(&code))
                    .map(|q| QuoteView::of(&q, false).with_photos(tx))
                    .transpose()
            })
            .await?;
        found.ok_or_else(|| not_found(number))
    }

    /// A new quote with an earlier one's lines, delivery and customer,
    /// priced today (at the customer's list as it is now); products no
    /// longer sold are left out and said so.
    pub async fn order_again(
        &self,
        caller: &Principal,
        number: &str,
        reached_at: Option<String>,
    ) -> Result<OrderAgain, AppError> {
        let staff = caller.role >= Role::Staff && caller.can(Scope::QuotesWrite);
        if caller.customer.is_none() && !staff {
            return Err(AppError::Forbidden(
                "ordering again needs quotes:write, or a trade contact's sign-in".into(),
            ));
        }
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let earlier = self
            .read(move |tx| Ok(tx.quote(&parsed)?))
            .await?
            .filter(|q| caller.may_see(q))
            .ok_or_else(|| not_found(number))?;
        let skus: Vec<_> = earlier.lines.iter().map(|l| l.sku.clone()).collect();
        let sold = self
            .read(move |tx| {
                Ok(tx
                    .products_many(&skus)?
                    .into_iter()
                    .map(|p| p.is_some_and(|p| p.active))
                    .collect::<Vec<bool>>())
            })
            .await?;
        let lines: Vec<LineRequest> = earlier
            .lines
            .iter()
            .zip(&sold)
            .filter(|(_, sold)| **sold)
            .map(|(line, _)| LineRequest {
                sku: line.sku.clone(),
                quantity: line.requested.quantity,
                unit: Some(line.requested.unit.clone()),
            })
            .collect();
        if lines.is_empty() {
            return Err(AppError::invalid(
                "number",
                format!("none of the products of {number} is sold any more"),
            ));
        }
        let delivery = earlier.delivery.as_ref().map(|d| DeliveryRequest {
            postcode: d.postcode.clone(),
            collection: d.method == "collection",
        });
        let request = QuoteRequest {
            lines,
            contact: Contact {
                name: earlier.contact.name.clone(),
                email: earlier.contact.email.clone(),
                phone: earlier.contact.phone.clone(),
            },
            hold_stock: None,
            hold_location: None,
            delivery,
            note: None,
            customer: earlier.customer.clone(),
        };
        let quote = match self
            .create_quote(Some(caller), request, None, reached_at)
            .await?
        {
            Answer::Fresh(view) => view,
            Answer::Replayed { .. } => {
                return Err(AppError::Internal("an unkeyed request was replayed".into()));
            }
        };
        let changes = compare(&earlier.lines, &sold, &quote.lines);
        Ok(OrderAgain {
            quote,
            from: earlier.number,
            changes,
        })
    }
}
