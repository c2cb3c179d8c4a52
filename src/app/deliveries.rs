//! Delivering an accepted quote in loads: each delivery ships some of each
//! line (what the quote holds is used first, released and shipped from where
//! it is held; the rest ships from where stock is available), records what
//! actually left the yard when it differs, and moves the quote to fulfilled
//! when nothing is outstanding. One write transaction books the movements,
//! the delivery and the quote together.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::idempotency::{Answer, Idempotency};
use super::quotes::{QuoteView, allocate, drafts, line_field, not_found, products_of};
use super::{App, AppError, ErrorCode, Principal};
use crate::domain::accounts::Actor;
use crate::domain::catalogue::Product;
use crate::domain::deliveries::{
    DeliveredLine, Delivery, DeliveryInput, DeliveryLineInput, MAX_LINES, ShippedFrom,
};
use crate::domain::ledger::MovementKind;
use crate::domain::locations::LocationCode;
use crate::domain::pricing::Measured;
use crate::domain::quotes::{Quote, QuoteNumber, QuoteStatus};
use crate::domain::units::{Quantity, UnitName};
use crate::domain::values::Sku;
use crate::store::payloads::{QuoteChanged, QuoteDelivered};
use crate::store::{ChangeKind, WriteTx};

/// `POST /quotes/{number}/deliveries`: the delivery and the quote after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivered {
    pub delivery: Delivery,
    pub quote: QuoteView,
}

fn quantity(value: Decimal, field: &str) -> Result<Quantity, AppError> {
    Quantity::new(value).map_err(AppError::field(field))
}

/// A quantity of `product` given in `unit` (default its stock unit), in the
/// stock unit; above zero.
fn in_stock_unit(
    product: &Product,
    value: Quantity,
    unit: Option<&UnitName>,
    field: (usize, &str, &str),
) -> Result<(Decimal, Option<Measured>), AppError> {
    let (i, quantity_field, unit_field) = field;
    if !value.is_positive() {
        return Err(AppError::invalid(
            line_field(i, quantity_field),
            "must be greater than zero",
        ));
    }
    let stock = UnitName::from(product.unit);
    let unit = unit.cloned().unwrap_or_else(|| stock.clone());
    let converted = product.stock_quantity(value.value(), &unit).map_err(|e| {
        let field = if e.field == "unit" {
            unit_field
        } else {
            quantity_field
        };
        AppError::invalid(line_field(i, field), e.reason)
    })?;
    let entered = (unit != stock).then_some(Measured {
        quantity: value,
        unit,
    });
    Ok((converted.value.normalize(), entered))
}

/// A delivery's lines checked against the quote: the line exists, once, and
/// no more is delivered than is outstanding. `(quote line, credited, actual
/// shipped if different, as entered)`, quantities in the stock unit.
type Checked = (usize, Decimal, Option<Decimal>, Option<Measured>);

fn check_lines(
    quote: &Quote,
    products: &BTreeMap<Sku, Product>,
    lines: &[DeliveryLineInput],
) -> Result<Vec<Checked>, AppError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(AppError::invalid(
            "lines",
            format!("give 1 to {MAX_LINES} lines"),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(lines.len());
    for (i, input) in lines.iter().enumerate() {
        let index = usize::try_from(input.line)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|n| *n < quote.lines.len())
            .ok_or_else(|| {
                AppError::invalid(
                    line_field(i, "line"),
                    format!("the quote has lines 1 to {}", quote.lines.len()),
                )
            })?;
        if !seen.insert(index) {
            return Err(AppError::invalid(
                line_field(i, "line"),
                format!("line {} is listed twice", input.line),
            ));
        }
        let ordered = &quote.lines[index];
        let product = products.get(&ordered.sku).ok_or_else(|| {
            AppError::invalid(
                line_field(i, "line"),
                format!("product {} no longer exists", ordered.sku),
            )
        })?;
        let (credited, entered) = in_stock_unit(
            product,
            input.quantity,
            input.unit.as_ref(),
            (i, "quantity", "unit"),
        )?;
        let outstanding = quote.outstanding_of(index);
        if credited > outstanding {
            return Err(AppError::invalid(
                line_field(i, "quantity"),
                format!(
                    "line {}: {credited} {} is more than the {} {} still to deliver",
                    input.line,
                    ordered.stock.unit,
                    outstanding.normalize(),
                    ordered.stock.unit
                ),
            ));
        }
        let actual = match input.actual_quantity {
            Some(value) => Some(
                in_stock_unit(
                    product,
                    value,
                    input.actual_unit.as_ref(),
                    (i, "actual_quantity", "actual_unit"),
                )?
                .0,
            ),
            None if input.actual_unit.is_some() => {
                return Err(AppError::invalid(
                    line_field(i, "actual_quantity"),
                    "give the quantity actually delivered with its unit",
                ));
            }
            None => None,
        };
        out.push((index, credited, actual.filter(|a| *a != credited), entered));
    }
    Ok(out)
}

/// Where one line's goods come from: the quote's holds of the SKU (at
/// `only`, if given) first, then the locations with stock available. Fills
/// `releases` (held stock let go) and `ships`.
struct Plan<'a> {
    tx: &'a WriteTx,
    only: Option<&'a LocationCode>,
    held: BTreeMap<(Sku, LocationCode), Decimal>,
    taken: BTreeMap<(Sku, LocationCode), Decimal>,
    releases: Vec<(Sku, LocationCode, Decimal)>,
    ships: Vec<(Sku, LocationCode, Decimal)>,
}

impl Plan<'_> {
    fn take(
        &mut self,
        i: usize,
        product: &Product,
        amount: Decimal,
    ) -> Result<Vec<ShippedFrom>, AppError> {
        let sku = &product.sku;
        let mut left = amount;
        let mut from: BTreeMap<LocationCode, Decimal> = BTreeMap::new();
        for ((held_sku, location), remaining) in &mut self.held {
            if held_sku != sku || self.only.is_some_and(|o| o != location) {
                continue;
            }
            let used = (*remaining).min(left);
            if used > Decimal::ZERO {
                *remaining -= used;
                left -= used;
                self.releases.push((sku.clone(), location.clone(), used));
                *from.entry(location.clone()).or_default() += used;
            }
        }
        if left > Decimal::ZERO {
            let (parts, missing) = allocate(self.tx, sku, left, &mut self.taken, self.only)?;
            for (location, part) in parts {
                *from.entry(location).or_default() += part;
            }
            if missing > Decimal::ZERO {
                if !product.allow_backorder {
                    return Err(AppError::Conflict {
                        code: ErrorCode::InsufficientStock,
                        field: Some(line_field(i, "quantity")),
                        message: format!(
                            "{} {} of {sku} is needed and not available{}; nothing was shipped",
                            missing.normalize(),
                            product.unit,
                            self.only.map(|o| format!(" at {o}")).unwrap_or_default()
                        ),
                    });
                }
                // Backordered: the rest ships from the first place it is kept.
                let location = self
                    .only
                    .cloned()
                    .or_else(|| from.keys().next().cloned())
                    .or(self.tx.levels_of(sku)?.into_iter().next().map(|(l, _)| l))
                    .ok_or_else(|| AppError::Conflict {
                        code: ErrorCode::InsufficientStock,
                        field: Some(line_field(i, "quantity")),
                        message: format!("{sku} is stocked nowhere"),
                    })?;
                *from.entry(location).or_default() += missing;
            }
        }
        let mut shipped = Vec::with_capacity(from.len());
        for (location, part) in from {
            self.ships.push((sku.clone(), location.clone(), part));
            shipped.push(ShippedFrom {
                location,
                quantity: quantity(part, "quantity")?,
            });
        }
        Ok(shipped)
    }
}

fn measured(value: Decimal, unit: &UnitName) -> Result<Measured, AppError> {
    Ok(Measured {
        quantity: quantity(value.normalize(), "quantity")?,
        unit: unit.clone(),
    })
}

/// Quote `number`, if it can be delivered (accepted), from `location` if
/// one is named (a location in use).
fn deliverable(
    tx: &WriteTx,
    number: &QuoteNumber,
    location: Option<&LocationCode>,
) -> Result<Quote, AppError> {
    let quote = tx
        .quote(number)?
        .ok_or_else(|| not_found(number.as_str()))?;
    if quote.status != QuoteStatus::Accepted {
        return Err(AppError::Conflict {
            code: ErrorCode::QuoteStatus,
            field: None,
            message: format!(
                "quote {number} is {}: only an accepted quote is delivered",
                quote.status
            ),
        });
    }
    if let Some(code) = location
        && !tx.location(code)?.is_some_and(|l| l.active)
    {
        return Err(AppError::invalid(
            "location",
            format!("no location in use has the code {code}"),
        ));
    }
    Ok(quote)
}

/// Records a delivery of quote `number` in `tx`: its movements, the
/// delivery, the quote's progress (fulfilled when nothing is outstanding).
fn deliver_in(
    tx: &mut WriteTx,
    actor: &Actor,
    number: &QuoteNumber,
    input: DeliveryInput,
) -> Result<(Delivery, Quote), AppError> {
    let mut quote = deliverable(tx, number, input.location.as_ref())?;
    let products = products_of(tx, &quote)?;
    let checked = check_lines(&quote, &products, &input.lines)?;
    let mut plan = Plan {
        tx,
        only: input.location.as_ref(),
        held: quote
            .holds
            .iter()
            .map(|h| ((h.sku.clone(), h.location.clone()), h.quantity.value()))
            .collect(),
        taken: BTreeMap::new(),
        releases: Vec::new(),
        ships: Vec::new(),
    };
    if quote.delivered.len() < quote.lines.len() {
        quote.delivered.resize(quote.lines.len(), Quantity::ZERO);
    }
    let mut lines = Vec::with_capacity(checked.len());
    for (i, (index, credited, actual, entered)) in checked.into_iter().enumerate() {
        let ordered = &quote.lines[index];
        let product = &products[&ordered.sku];
        let from = plan.take(i, product, actual.unwrap_or(credited))?;
        let total = quote.delivered[index].value() + credited;
        quote.delivered[index] = quantity(total, "quantity")?;
        let unit = &ordered.stock.unit;
        lines.push(DeliveredLine {
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            sku: ordered.sku.clone(),
            name: ordered.name.clone(),
            quantity: measured(credited, unit)?,
            entered,
            actual: actual.map(|a| measured(a, unit)).transpose()?,
            outstanding: measured(quote.outstanding_of(index), unit)?,
            from,
        });
    }
    let done = (0..quote.lines.len()).all(|i| quote.outstanding_of(i).is_zero());
    let held = std::mem::take(&mut plan.held);
    let (mut releases, ships) = (plan.releases, plan.ships);
    let_go(&mut quote, held, done, &mut releases);
    quote.deliveries += 1;
    let n = quote.deliveries;
    let mut movements = drafts(
        MovementKind::Release,
        &releases,
        &products,
        number,
        &format!("quote {number} delivery {n}"),
    )?;
    movements.extend(drafts(
        MovementKind::Ship,
        &ships,
        &products,
        number,
        &format!("quote {number} delivery {n}"),
    )?);
    let product_list: Vec<Product> = products.values().cloned().collect();
    let booked = super::ledger::book_all(tx, actor, movements, &product_list)?;
    let now = Timestamp::now();
    if done {
        quote.status = QuoteStatus::Fulfilled;
    }
    quote.updated_at = now;
    quote.version += 1;
    let delivery = Delivery {
        quote: number.clone(),
        number: n,
        lines,
        vehicle: input.vehicle,
        driver: input.driver,
        reference: input.reference,
        note: input.note,
        movements: booked.iter().map(|m| m.id).collect(),
        created_by: actor.clone(),
        created_at: now,
    };
    record(tx, actor, &quote, &delivery)?;
    Ok((delivery, quote))
}

/// What the quote still holds after a delivery: held stock no line needs
/// any more is let go (into `releases`) — all of it once the quote is done,
/// or a SKU's once its lines are (a load that weighed less than ordered).
fn let_go(
    quote: &mut Quote,
    mut held: BTreeMap<(Sku, LocationCode), Decimal>,
    done: bool,
    releases: &mut Vec<(Sku, LocationCode, Decimal)>,
) {
    for ((sku, location), remaining) in &mut held {
        let finished = quote
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.sku == *sku)
            .all(|(i, _)| quote.outstanding_of(i).is_zero());
        if (done || finished) && *remaining > Decimal::ZERO {
            releases.push((sku.clone(), location.clone(), *remaining));
            *remaining = Decimal::ZERO;
        }
    }
    quote.holds = quote
        .holds
        .iter()
        .filter_map(|h| {
            let left = held.get(&(h.sku.clone(), h.location.clone()))?;
            let quantity = Quantity::new(*left).ok().filter(|q| q.is_positive())?;
            Some(crate::domain::quotes::Hold {
                quantity,
                ..h.clone()
            })
        })
        .collect();
}

/// Stores the delivery and the quote after it, and logs them: the delivery,
/// and the quote's fulfilment when it was the last.
fn record(
    tx: &mut WriteTx,
    actor: &Actor,
    quote: &Quote,
    delivery: &Delivery,
) -> Result<(), AppError> {
    tx.put_delivery(delivery)?;
    tx.put_quote(quote)?;
    let number = quote.number.as_str();
    tx.record(
        ChangeKind::QuoteDelivered,
        number,
        actor,
        &QuoteDelivered {
            delivery: delivery.number,
            status: quote.status,
        },
    )?;
    if quote.status == QuoteStatus::Fulfilled {
        tx.record(
            ChangeKind::QuoteFulfilled,
            number,
            actor,
            &QuoteChanged {
                status: QuoteStatus::Fulfilled,
            },
        )?;
    }
    Ok(())
}

impl App {
    /// Delivers part (or the rest) of accepted quote `number`.
    pub async fn deliver(
        &self,
        caller: &Principal,
        number: &str,
        input: DeliveryInput,
        idempotency: Option<Idempotency>,
    ) -> Result<Answer<Delivered>, AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let actor = caller.actor.clone();
        let answer = self
            .write(move |tx| {
                super::idempotency::once(tx, idempotency.as_ref(), |tx| {
                    let (delivery, quote) = deliver_in(tx, &actor, &parsed, input)?;
                    Ok(Delivered {
                        delivery,
                        quote: QuoteView::of(&quote, true),
                    })
                })
            })
            .await?;
        Ok(answer)
    }

    /// Quote `number`'s deliveries, oldest first: for staff, or for a
    /// contact of its customer ("not found" for anyone else).
    pub async fn deliveries(
        &self,
        caller: &Principal,
        number: &str,
    ) -> Result<Vec<Delivery>, AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let caller = caller.clone();
        self.read(move |tx| {
            let quote = tx
                .quote(&parsed)?
                .filter(|q| caller.may_see(q))
                .ok_or_else(|| not_found(parsed.as_str()))?;
            Ok(tx.deliveries_of(&quote.number)?)
        })
        .await
    }

    /// A delivery and its quote (as the customer sees it), for its note.
    pub async fn delivery_note(
        &self,
        caller: &Principal,
        number: &str,
        delivery: u32,
    ) -> Result<(Delivery, QuoteView, Option<String>), AppError> {
        let parsed = QuoteNumber::parse(number).map_err(|_| not_found(number))?;
        let caller = caller.clone();
        self.read(move |tx| {
            let quote = tx
                .quote(&parsed)?
                .filter(|q| caller.may_see(q))
                .ok_or_else(|| not_found(parsed.as_str()))?;
            let found =
                tx.delivery(&quote.number, delivery)?
                    .ok_or_else(|| AppError::NotFound {
                        what: "delivery",
                        key: format!("{}/{delivery}", quote.number),
                    })?;
            let company = match &quote.customer {
                Some(code) => tx.customer(code)?.map(|c| c.name.to_string()),
                None => None,
            };
            Ok((found, QuoteView::of(&quote, false), company))
        })
        .await
    }
}
