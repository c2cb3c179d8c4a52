//! The dashboard's reports, drawn from the ledger and the quotes: the stock's
//! value per day, movements per day by kind, the products shipped most, and
//! quotes by outcome. Days are UTC calendar days, the last one today; only
//! the movements and quotes of the period are read (the first found by
//! bisection), plus, for the value, today's levels.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{App, AppError};
use crate::domain::catalogue::{Product, ProductName};
use crate::domain::ledger::MovementKind;
use crate::domain::pricing::round_money;
use crate::domain::quotes::QuoteStatus;
use crate::domain::units::Unit;
use crate::domain::values::{Money, Sku};

/// The longest period a report covers, in days.
pub const MAX_DAYS: u32 = 366;

/// The stock's value at cost at the end of each day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockValueReport {
    pub currency: String,
    /// Oldest first; the last is today (the value now).
    pub days: Vec<DayValue>,
    /// Products with stock in the period but no cost: not counted.
    pub products_without_cost: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayValue {
    /// `YYYY-MM-DD` (UTC).
    #[schema(value_type = String, format = Date)]
    pub day: Date,
    /// Σ on hand × today's cost at the end of the day.
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// Movements booked per day, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MovementsReport {
    /// Oldest first, every day of the period (zeros included).
    pub days: Vec<DayMovements>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, ToSchema)]
pub struct DayMovements {
    #[schema(value_type = String, format = Date)]
    pub day: Date,
    pub receive: u64,
    pub ship: u64,
    pub transfer: u64,
    pub adjust: u64,
    pub reserve: u64,
    pub release: u64,
}

/// The products shipped most in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TopProductsReport {
    /// Most shipped first (by quantity in the stock unit, then by SKU).
    pub items: Vec<TopProduct>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TopProduct {
    pub sku: Sku,
    #[schema(value_type = Option<String>)]
    pub name: Option<ProductName>,
    #[schema(value_type = Option<String>)]
    pub unit: Option<Unit>,
    /// Shipped in the period, less shipments reversed in it.
    #[schema(value_type = String)]
    pub shipped: Decimal,
    /// Shipments with a line for it.
    pub shipments: u64,
}

/// The quotes made in the period, by what became of them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuotesReport {
    pub currency: String,
    /// Every status, in the order open, accepted, fulfilled, expired,
    /// cancelled.
    pub statuses: Vec<StatusTotal>,
    /// Accepted or fulfilled.
    pub won: u64,
    /// Expired or cancelled.
    pub lost: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusTotal {
    #[schema(value_type = String)]
    pub status: QuoteStatus,
    pub count: u64,
    /// Σ of the quotes' gross totals.
    #[schema(value_type = String)]
    pub gross: Decimal,
}

/// The first day of a period of `days` days ending today, and today.
fn period(days: Option<u32>, now: Timestamp) -> Result<(Date, Date), AppError> {
    let days = days.unwrap_or(90);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::bad_request(
            Some("days"),
            format!("days must be 1 to {MAX_DAYS}"),
        ));
    }
    let today = now.to_zoned(TimeZone::UTC).date();
    let first = today
        .checked_sub(jiff::Span::new().days(i64::from(days) - 1))
        .map_err(|e| AppError::bad_request(Some("days"), e.to_string()))?;
    Ok((first, today))
}

fn start_of(day: Date) -> Result<Timestamp, AppError> {
    day.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| AppError::bad_request(Some("days"), e.to_string()))
}

fn day_of(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::UTC).date()
}

/// Every day from `first` to `last`, both included.
fn each_day(first: Date, last: Date) -> impl Iterator<Item = Date> {
    first
        .series(jiff::Span::new().days(1))
        .take_while(move |d| *d <= last)
}

impl App {
    /// The stock's value at cost at the end of each day of the period. Costs
    /// are today's (Quarry keeps no history of costs).
    pub async fn stock_value_report(
        &self,
        days: Option<u32>,
    ) -> Result<StockValueReport, AppError> {
        let (first, today) = period(days, Timestamp::now())?;
        let since = start_of(first)?;
        let minor_units = self.config().shop.minor_units();
        let currency = self.config().shop.currency.clone();
        let (now_value, per_day, without_cost) = self
            .read(move |tx| {
                // On hand now, per product.
                let mut on_hand: BTreeMap<Sku, Decimal> = BTreeMap::new();
                tx.for_each_level::<AppError>(|(sku, _, level)| {
                    *on_hand.entry(sku).or_default() += level.on_hand;
                    Ok(())
                })?;
                // What changed on hand each day of the period.
                let mut changes: BTreeMap<Date, BTreeMap<Sku, Decimal>> = BTreeMap::new();
                tx.for_each_movement_since(since, |m| {
                    let day = changes.entry(day_of(m.at)).or_default();
                    for effect in m.effects() {
                        if !effect.on_hand.is_zero() {
                            *day.entry(effect.sku).or_default() += effect.on_hand;
                        }
                    }
                })?;
                let skus: BTreeSet<Sku> = on_hand
                    .keys()
                    .cloned()
                    .chain(changes.values().flat_map(|c| c.keys().cloned()))
                    .collect();
                let skus: Vec<Sku> = skus.into_iter().collect();
                let products = tx.products_many(&skus)?;
                let cost: HashMap<Sku, Option<Decimal>> = skus
                    .into_iter()
                    .zip(products)
                    .map(|(sku, p)| (sku, p.and_then(|p: Product| p.cost).map(Money::value)))
                    .collect();
                let mut without_cost = 0;
                let mut value = Decimal::ZERO;
                for (sku, quantity) in &on_hand {
                    match cost.get(sku).copied().flatten() {
                        Some(c) => value += quantity * c,
                        None if !quantity.is_zero() => without_cost += 1,
                        None => {}
                    }
                }
                let per_day: BTreeMap<Date, Decimal> = changes
                    .into_iter()
                    .map(|(day, change)| {
                        let delta = change
                            .iter()
                            .filter_map(|(sku, q)| Some(q * cost.get(sku).copied().flatten()?))
                            .sum();
                        (day, delta)
                    })
                    .collect();
                Ok((value, per_day, without_cost))
            })
            .await?;
        // Walk back from now: the end of a day is the day after's end less
        // what the day after changed.
        let mut days: Vec<DayValue> = Vec::new();
        let mut value = now_value;
        for day in each_day(first, today).collect::<Vec<_>>().into_iter().rev() {
            days.push(DayValue {
                day,
                value: round_money(value, minor_units),
            });
            value -= per_day.get(&day).copied().unwrap_or_default();
        }
        days.reverse();
        Ok(StockValueReport {
            currency,
            days,
            products_without_cost: without_cost,
        })
    }

    /// How many movements of each kind were booked each day of the period.
    pub async fn movements_report(&self, days: Option<u32>) -> Result<MovementsReport, AppError> {
        let (first, today) = period(days, Timestamp::now())?;
        let since = start_of(first)?;
        let counted = self
            .read(move |tx| {
                let mut counted: BTreeMap<Date, DayMovements> = BTreeMap::new();
                tx.for_each_movement_since(since, |m| {
                    let day = day_of(m.at);
                    let entry = counted.entry(day).or_insert_with(|| DayMovements {
                        day,
                        ..DayMovements::default()
                    });
                    *match m.kind {
                        MovementKind::Receive => &mut entry.receive,
                        MovementKind::Ship => &mut entry.ship,
                        MovementKind::Transfer => &mut entry.transfer,
                        MovementKind::Adjust => &mut entry.adjust,
                        MovementKind::Reserve => &mut entry.reserve,
                        MovementKind::Release => &mut entry.release,
                    } += 1;
                })?;
                Ok(counted)
            })
            .await?;
        Ok(MovementsReport {
            days: each_day(first, today)
                .map(|day| {
                    counted.get(&day).cloned().unwrap_or(DayMovements {
                        day,
                        ..DayMovements::default()
                    })
                })
                .collect(),
        })
    }

    /// The `limit` products shipped most in the period (a shipment reversed in
    /// the period does not count).
    pub async fn top_products_report(
        &self,
        days: Option<u32>,
        limit: Option<u32>,
    ) -> Result<TopProductsReport, AppError> {
        let (first, _) = period(days, Timestamp::now())?;
        let since = start_of(first)?;
        let limit = match limit.unwrap_or(10) {
            n @ 1..=100 => n as usize,
            _ => {
                return Err(AppError::bad_request(
                    Some("limit"),
                    "limit must be 1 to 100",
                ));
            }
        };
        let items = self
            .read(move |tx| {
                let mut shipped: HashMap<Sku, (Decimal, u64)> = HashMap::new();
                let mut shipments: HashMap<u64, Vec<(Sku, Decimal)>> = HashMap::new();
                tx.for_each_movement_since(since, |m| {
                    if m.kind == MovementKind::Ship {
                        let mut lines: BTreeMap<Sku, Decimal> = BTreeMap::new();
                        for line in &m.lines {
                            *lines.entry(line.sku.clone()).or_default() += line.quantity.value();
                        }
                        for (sku, quantity) in &lines {
                            let entry = shipped.entry(sku.clone()).or_default();
                            entry.0 += quantity;
                            entry.1 += 1;
                        }
                        shipments.insert(m.id, lines.into_iter().collect());
                    } else if let Some(lines) = m.reverses.and_then(|id| shipments.remove(&id)) {
                        for (sku, quantity) in lines {
                            let entry = shipped.entry(sku).or_default();
                            entry.0 -= quantity;
                            entry.1 = entry.1.saturating_sub(1);
                        }
                    }
                })?;
                let mut ranked: Vec<(Sku, Decimal, u64)> = shipped
                    .into_iter()
                    .filter(|(_, (q, _))| *q > Decimal::ZERO)
                    .map(|(sku, (q, n))| (sku, q, n))
                    .collect();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                ranked.truncate(limit);
                let skus: Vec<Sku> = ranked.iter().map(|r| r.0.clone()).collect();
                let products = tx.products_many(&skus)?;
                Ok(ranked
                    .into_iter()
                    .zip(products)
                    .map(|((sku, shipped, shipments), product)| TopProduct {
                        sku,
                        name: product.as_ref().map(|p| p.name.clone()),
                        unit: product.as_ref().map(|p| p.unit),
                        shipped: shipped.normalize(),
                        shipments,
                    })
                    .collect())
            })
            .await?;
        Ok(TopProductsReport { items })
    }

    /// The quotes made in the period, by their status now.
    pub async fn quotes_report(&self, days: Option<u32>) -> Result<QuotesReport, AppError> {
        let (first, _) = period(days, Timestamp::now())?;
        let since = start_of(first)?;
        let currency = self.config().shop.currency.clone();
        let minor_units = self.config().shop.minor_units();
        let totals = self
            .read(move |tx| {
                let mut totals: BTreeMap<&'static str, (u64, Decimal)> = BTreeMap::new();
                tx.for_each_quote_since::<AppError>(since, |q| {
                    let entry = totals.entry(q.status.as_str()).or_default();
                    entry.0 += 1;
                    entry.1 += q.totals.gross.0;
                    Ok(())
                })?;
                Ok(totals)
            })
            .await?;
        let statuses: Vec<StatusTotal> = [
            QuoteStatus::Open,
            QuoteStatus::Accepted,
            QuoteStatus::Fulfilled,
            QuoteStatus::Expired,
            QuoteStatus::Cancelled,
        ]
        .into_iter()
        .map(|status| {
            let (count, gross) = totals.get(status.as_str()).copied().unwrap_or_default();
            StatusTotal {
                status,
                count,
                gross: round_money(gross, minor_units),
            }
        })
        .collect();
        let count = |wanted: &[QuoteStatus]| {
            statuses
                .iter()
                .filter(|s| wanted.contains(&s.status))
                .map(|s| s.count)
                .sum()
        };
        Ok(QuotesReport {
            currency,
            won: count(&[QuoteStatus::Accepted, QuoteStatus::Fulfilled]),
            lost: count(&[QuoteStatus::Expired, QuoteStatus::Cancelled]),
            statuses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_ends_today_and_is_bounded() {
        let now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
        let (first, today) = period(Some(3), now).unwrap();
        assert_eq!(first.to_string(), "2026-02-28");
        assert_eq!(today.to_string(), "2026-03-02");
        assert_eq!(each_day(first, today).count(), 3);
        assert_eq!(period(None, now).unwrap().0.to_string(), "2025-12-03");
        assert!(period(Some(0), now).is_err());
        assert!(period(Some(MAX_DAYS + 1), now).is_err());
    }
}
