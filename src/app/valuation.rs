//! What the stock is worth at cost, for the back office's dashboard: one pass
//! over the levels (ordered by SKU) with one product lookup per SKU.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{App, AppError};
use crate::domain::catalogue::Product;
use crate::domain::ledger;
use crate::domain::pricing::round_money;
use crate::domain::units::Quantity;
use crate::domain::values::Sku;

/// The stock's value at cost and the counts beside it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockValue {
    /// Σ on hand × cost over every level with stock, in `currency`.
    #[schema(value_type = String)]
    pub value: Decimal,
    pub currency: String,
    /// Products with stock on hand somewhere.
    pub products_in_stock: u64,
    /// Products with stock on hand but no cost: not counted in `value`.
    pub products_without_cost: u64,
    /// Levels (product × location) whose available quantity is below the
    /// reorder point.
    pub low_levels: u64,
    /// The change-log position this was computed at.
    pub seq: u64,
}

#[derive(Default)]
struct Running {
    value: Decimal,
    in_stock: u64,
    without_cost: u64,
    low: u64,
}

impl App {
    /// The stock's value at cost (cost is per stock unit), from one snapshot.
    pub async fn stock_value(&self) -> Result<StockValue, AppError> {
        let minor_units = self.config().shop.minor_units();
        let currency = self.config().shop.currency.clone();
        let (running, seq) = self
            .read(move |tx| {
                let mut running = Running::default();
                let mut current: Option<(Sku, Option<Product>, bool)> = None;
                let finish = |done: Option<(Sku, Option<Product>, bool)>, r: &mut Running| {
                    if let Some((_, product, true)) = done {
                        r.in_stock += 1;
                        if product.and_then(|p| p.cost).is_none() {
                            r.without_cost += 1;
                        }
                    }
                };
                tx.for_each_level::<AppError>(|(sku, location, level)| {
                    if current.as_ref().is_none_or(|(s, _, _)| *s != sku) {
                        finish(current.take(), &mut running);
                        let product = tx.product(&sku)?;
                        current = Some((sku, product, false));
                    }
                    let (_, product, stocked) = current.as_mut().expect("set above");
                    let point = product
                        .as_ref()
                        .and_then(|p| p.reorder_point_at(&location))
                        .map(Quantity::value);
                    if ledger::is_low(level.available(), point) {
                        running.low += 1;
                    }
                    if level.on_hand > Decimal::ZERO {
                        *stocked = true;
                        if let Some(cost) = product.as_ref().and_then(|p| p.cost) {
                            running.value += level.on_hand * cost.value();
                        }
                    }
                    Ok(())
                })?;
                finish(current.take(), &mut running);
                Ok((running, tx.last_seq()?))
            })
            .await?;
        Ok(StockValue {
            value: round_money(running.value, minor_units),
            currency,
            products_in_stock: running.in_stock,
            products_without_cost: running.without_cost,
            low_levels: running.low,
            seq,
        })
    }
}
