//! Pricing: what a quantity of a product costs. A product is priced per its
//! pricing unit, with quantity breaks, a minimum order, optional rounding up to
//! whole packs, and a tax class; the shop sets the currency (and so the minor
//! unit every line is rounded to, half up), the tax rates, and whether prices
//! include tax. All of it exact.
//!
//! A line must be something the shop can stock and charge for: its quantity
//! in the stock unit passes [`Product::stock_quantity`] (whole pieces for a
//! product counted whole), and a line of a product with a price never comes
//! to 0.00 — it names the least quantity that costs something instead.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalogue::{Product, QuantityError};
use super::customers::{ListPrice, PriceList};
use super::units::{Converted, Quantity, UnitName, round_quantity};
use super::values::{Money, PriceBreak, Sku, TaxClass};

/// The shop's pricing settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    /// Digits after the decimal point of the currency (2 for EUR, 0 for JPY).
    pub minor_units: u32,
    pub prices_include_tax: bool,
    /// Tax class → rate in percent (`20` for 20%).
    pub tax_rates: BTreeMap<String, Decimal>,
}

/// Rounds money to the currency's minor unit, half up.
pub fn round_money(value: Decimal, minor_units: u32) -> Decimal {
    let mut rounded =
        value.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(minor_units);
    rounded
}

/// An amount of money as an API string, with the currency's decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "182.40")]
pub struct Amount(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

/// A quantity with its unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Measured {
    pub quantity: Quantity,
    pub unit: UnitName,
}

/// A priced line (before availability, which the store knows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PricedLine {
    pub sku: Sku,
    pub name: String,
    /// What was asked for.
    pub requested: Measured,
    /// What is sold: the request, rounded up to whole packs if the product is
    /// sold that way.
    pub sold: Measured,
    /// The sold quantity in the product's stock unit (what is reserved or shipped).
    pub stock: Measured,
    /// The sold quantity in the pricing unit (what the price is per).
    pub pricing: Measured,
    /// How the quantity was converted, for people: `3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t`.
    pub explanation: String,
    /// Set when the quantity was rounded up to whole packs, saying so.
    pub pack_rounding: Option<String>,
    /// The quantity break used, if any.
    pub tier: Option<PriceBreak>,
    /// Per pricing unit.
    pub unit_price: Money,
    pub net: Amount,
    pub tax: Amount,
    pub gross: Amount,
    pub tax_class: TaxClass,
    /// In percent.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    /// Set when a customer's price list priced the line: which rule, the
    /// list price it replaced and the saving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price: Option<ListPrice>,
}

/// Why a line cannot be priced: the field (`quantity`, `unit`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub field: &'static str,
    pub reason: String,
}

impl From<QuantityError> for LineError {
    fn from(e: QuantityError) -> Self {
        Self {
            field: e.field,
            reason: e.reason,
        }
    }
}

fn line_error(field: &'static str, reason: impl Into<String>) -> LineError {
    LineError {
        field,
        reason: reason.into(),
    }
}

fn measured(value: Decimal, unit: &UnitName) -> Result<Measured, LineError> {
    Ok(Measured {
        quantity: Quantity::new(round_quantity(value)).map_err(|e| line_error("quantity", e.0))?,
        unit: unit.clone(),
    })
}

/// Prices `quantity` `unit` of `product` for `shop` at list prices.
pub fn price_line(
    product: &Product,
    quantity: Quantity,
    unit: &UnitName,
    shop: &Shop,
) -> Result<PricedLine, LineError> {
    price_line_for(product, quantity, unit, shop, None)
}

/// Which rule of which list priced a line.
struct ByList {
    rule: String,
    list: super::customers::PriceListCode,
    /// A fixed price (which replaces the product's own breaks).
    fixed: bool,
}

/// The unit price a customer's list gives (exact: a percentage off is not
/// rounded before the line is), and what to say about it; the list price
/// when no rule applies.
fn customer_price(
    product: &Product,
    quantity: Decimal,
    list_price: Money,
    list: Option<(&PriceList, jiff::civil::Date)>,
) -> (Decimal, Option<ByList>) {
    let Some((list, day)) = list else {
        return (list_price.value(), None);
    };
    let Some(rule) = list.rule_for(product, quantity, day) else {
        return (list_price.value(), None);
    };
    let exact = match (rule.price, rule.percent_off) {
        (Some(price), _) => price.value(),
        (None, Some(off)) => {
            let hundred = Decimal::from(100);
            list_price.value() * (hundred - off.value()) / hundred
        }
        (None, None) => list_price.value(),
    };
    let said = format!("{}: {}", list.name, rule.describe(&product.pricing_unit()));
    let by = ByList {
        rule: said,
        list: list.code.clone(),
        fixed: rule.price.is_some(),
    };
    (exact, Some(by))
}

/// Prices `quantity` `unit` of `product` for `shop`, at the customer's price
/// where `list` (the customer's price list and today's date) has a rule for
/// it.
#[allow(clippy::too_many_lines)] // one computation, step by step
pub fn price_line_for(
    product: &Product,
    quantity: Quantity,
    unit: &UnitName,
    shop: &Shop,
    list: Option<(&PriceList, jiff::civil::Date)>,
) -> Result<PricedLine, LineError> {
    if !quantity.is_positive() {
        return Err(line_error("quantity", "must be greater than zero"));
    }
    let measures = product.measures();
    let convert =
        |value: Decimal, from: &UnitName, to: &UnitName| -> Result<Converted, LineError> {
            measures
                .convert(value, from, to)
                .map_err(|e| line_error("unit", e.0))
        };
    // Round up to whole packs if the product is sold that way.
    let (sold_value, sold_unit, pack_rounding) = match &product.sell_in_whole {
        Some(pack) => {
            let packs = convert(quantity.value(), unit, pack)?.value;
            let whole = packs.ceil();
            let note = (whole != packs).then(|| {
                format!(
                    "rounded up to {} whole {pack} ({} {pack} asked for)",
                    whole.normalize(),
                    packs.normalize()
                )
            });
            (whole, pack.clone(), note)
        }
        None => (quantity.value(), unit.clone(), None),
    };
    let pricing_unit = product.pricing_unit();
    let stock_unit = UnitName::from(product.unit);
    let to_pricing = convert(sold_value, &sold_unit, &pricing_unit)?;
    let to_stock = product.stock_quantity(sold_value, &sold_unit)?;
    if to_pricing.value.is_zero() || to_stock.value.is_zero() {
        return Err(line_error(
            "quantity",
            format!("{quantity} {unit} is too small to sell in {pricing_unit}"),
        ));
    }
    // Quantities stay below 10¹² (as every stored quantity does), which also
    // keeps the money arithmetic below far from a decimal's limit.
    if Quantity::new(to_pricing.value).is_err() || Quantity::new(to_stock.value).is_err() {
        return Err(line_error(
            "quantity",
            format!(
                "{quantity} {unit} is {} {pricing_unit}, more than one line can hold (below 1,000,000,000,000)",
                to_pricing.value.normalize()
            ),
        ));
    }
    if let Some(min) = product.min_order
        && to_pricing.value < min.value()
    {
        return Err(line_error(
            "quantity",
            format!(
                "the minimum order of {} is {min} {pricing_unit}; {quantity} {unit} is {} {pricing_unit}",
                product.sku,
                to_pricing.value.normalize()
            ),
        ));
    }
    let tier = product
        .price_breaks
        .iter()
        .filter(|b| b.min_quantity.value() <= to_pricing.value)
        .max_by_key(|b| b.min_quantity)
        .copied();
    let mut tier = tier;
    let list_unit_price = tier.map_or(product.price, |t| t.price);
    let (exact_price, by_list) = customer_price(product, to_pricing.value, list_unit_price, list);
    if by_list.as_ref().is_some_and(|b| b.fixed) {
        // A fixed price replaces the product's own breaks.
        tier = None;
    }
    let unit_price = Money::rounded(exact_price);
    let rate = *shop
        .tax_rates
        .get(product.tax_class.as_str())
        .ok_or_else(|| {
            line_error(
                "sku",
                format!(
                    "{} has tax class {} that the shop does not define",
                    product.sku, product.tax_class
                ),
            )
        })?;
    let amount = round_money(to_pricing.value * exact_price, shop.minor_units);
    if amount.is_zero() && !unit_price.value().is_zero() {
        return Err(line_error(
            "quantity",
            format!(
                "{quantity} {unit} of {sku} comes to less than the smallest amount that can be \
                 charged ({smallest}) at {price} per {pricing_unit}; order at least {least}",
                sku = product.sku,
                smallest = round_money(Decimal::new(1, shop.minor_units), shop.minor_units),
                price = unit_price.value(),
                least = least_priced(product, unit_price, shop.minor_units),
            ),
        ));
    }
    let hundred = Decimal::from(100);
    let (net, tax, gross) = if shop.prices_include_tax {
        let net = round_money(amount * hundred / (hundred + rate), shop.minor_units);
        (net, amount - net, amount)
    } else {
        let tax = round_money(amount * rate / hundred, shop.minor_units);
        (amount, tax, amount + tax)
    };
    let explanation = if sold_unit == pricing_unit && pack_rounding.is_none() && *unit == sold_unit
    {
        format!("{} {pricing_unit}", to_pricing.value.normalize())
    } else {
        to_pricing.explanation.clone()
    };
    let list_price = by_list.map(|ByList { rule, list, .. }| {
        let list_amount = round_money(to_pricing.value * list_unit_price.value(), shop.minor_units);
        ListPrice {
            list,
            rule,
            list_unit_price,
            list_amount: Amount(list_amount),
            saving: Amount(list_amount - amount),
        }
    });
    Ok(PricedLine {
        sku: product.sku.clone(),
        name: product.name.to_string(),
        requested: Measured {
            quantity,
            unit: unit.clone(),
        },
        sold: measured(sold_value, &sold_unit)?,
        stock: measured(to_stock.value, &stock_unit)?,
        pricing: measured(to_pricing.value, &pricing_unit)?,
        explanation,
        pack_rounding,
        tier,
        unit_price,
        net: Amount(net),
        tax: Amount(tax),
        gross: Amount(gross),
        tax_class: product.tax_class.clone(),
        tax_rate: rate.normalize(),
        list_price,
    })
}

/// The least quantity that does not price to zero at `unit_price` (half a
/// minor unit rounds up), in the pricing unit — or for a product counted
/// whole, in whole pieces of its stock unit.
fn least_priced(product: &Product, unit_price: Money, minor_units: u32) -> String {
    let half = Decimal::new(5, minor_units + 1);
    let least = (half / unit_price.value())
        .round_dp_with_strategy(Quantity::MAX_SCALE, RoundingStrategy::AwayFromZero)
        .normalize();
    let pricing_unit = product.pricing_unit();
    let stock_unit = UnitName::from(product.unit);
    if product.counts_whole()
        && let Ok(pieces) = product
            .measures()
            .convert(least, &pricing_unit, &stock_unit)
    {
        return format!("{} {stock_unit}", pieces.value.ceil().max(Decimal::ONE));
    }
    format!("{least} {pricing_unit}")
}

/// Totals of one tax class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClassTotal {
    pub tax_class: TaxClass,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
    pub net: Amount,
    pub tax: Amount,
    pub gross: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    pub by_tax_class: Vec<ClassTotal>,
    pub net: Amount,
    pub tax: Amount,
    pub gross: Amount,
}

/// Sums lines per tax class and overall (each line is already rounded, so the
/// totals are exact sums).
pub fn totals(lines: &[PricedLine], minor_units: u32) -> Totals {
    let zero = round_money(Decimal::ZERO, minor_units);
    let mut classes: BTreeMap<String, ClassTotal> = BTreeMap::new();
    for line in lines {
        let entry = classes
            .entry(line.tax_class.to_string())
            .or_insert_with(|| ClassTotal {
                tax_class: line.tax_class.clone(),
                tax_rate: line.tax_rate,
                net: Amount(zero),
                tax: Amount(zero),
                gross: Amount(zero),
            });
        entry.net.0 += line.net.0;
        entry.tax.0 += line.tax.0;
        entry.gross.0 += line.gross.0;
    }
    let by_tax_class: Vec<ClassTotal> = classes.into_values().collect();
    let sum =
        |f: fn(&ClassTotal) -> Decimal| Amount(by_tax_class.iter().map(f).fold(zero, |a, b| a + b));
    Totals {
        net: sum(|c| c.net.0),
        tax: sum(|c| c.tax.0),
        gross: sum(|c| c.gross.0),
        by_tax_class,
    }
}

/// Adds a charge that is not a product line (a delivery) to `totals`, in
/// its tax class.
pub fn add_charge(
    totals: &mut Totals,
    tax_class: &TaxClass,
    tax_rate: Decimal,
    (net, tax, gross): (Amount, Amount, Amount),
) {
    if let Some(class) = totals
        .by_tax_class
        .iter_mut()
        .find(|c| c.tax_class == *tax_class)
    {
        class.net.0 += net.0;
        class.tax.0 += tax.0;
        class.gross.0 += gross.0;
    } else {
        totals.by_tax_class.push(ClassTotal {
            tax_class: tax_class.clone(),
            tax_rate,
            net,
            tax,
            gross,
        });
        totals
            .by_tax_class
            .sort_by(|a, b| a.tax_class.as_str().cmp(b.tax_class.as_str()));
    }
    totals.net.0 += net.0;
    totals.tax.0 += tax.0;
    totals.gross.0 += gross.0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalogue::ProductInput;

    fn product(json: serde_json::Value) -> Product {
        let input: ProductInput = serde_json::from_value(json).unwrap();
        Product::create(
            input.sku.clone().unwrap(),
            input,
            jiff::Timestamp::UNIX_EPOCH,
        )
    }

    fn shop(include_tax: bool) -> Shop {
        Shop {
            minor_units: 2,
            prices_include_tax: include_tax,
            tax_rates: [
                ("standard".to_owned(), Decimal::from(20)),
                ("zero".to_owned(), Decimal::ZERO),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn sand() -> Product {
        product(serde_json::json!({
            "sku": "SAND-04", "name": "Washed sand", "category": "A", "unit": "t",
            "price": "38.00", "density_kg_m3": "1600",
            "price_breaks": [{"min_quantity": "5", "price": "36.00"}, {"min_quantity": "20", "price": "33.50"}],
        }))
    }

    fn cement() -> Product {
        product(serde_json::json!({
            "sku": "CEM-425", "name": "Cement", "category": "C", "unit": "kg", "price": "6.25",
            "pricing_unit": "bag", "packs": [{"name": "bag", "quantity": "25", "unit": "kg"}],
            "sell_in_whole": "bag", "min_order": "2",
        }))
    }

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    fn u(s: &str) -> UnitName {
        UnitName::parse(s).unwrap()
    }

    #[test]
    fn three_cubic_metres_of_sand_are_priced_by_the_tonne_with_the_conversion_shown() {
        let line = price_line(&sand(), q("3"), &u("m3"), &shop(false)).unwrap();
        assert_eq!(line.pricing.quantity, q("4.8"));
        assert_eq!(line.explanation, "3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t");
        assert_eq!(line.tier, None);
        assert_eq!(line.net, Amount("182.40".parse().unwrap()));
        assert_eq!(line.tax, Amount("36.48".parse().unwrap()));
        assert_eq!(line.gross, Amount("218.88".parse().unwrap()));
    }

    #[test]
    fn tiers_start_exactly_at_their_minimum() {
        let s = shop(false);
        let below = price_line(&sand(), q("4.999999"), &u("t"), &s).unwrap();
        assert_eq!(String::from(below.unit_price), "38.00");
        let at = price_line(&sand(), q("5"), &u("t"), &s).unwrap();
        assert_eq!(String::from(at.unit_price), "36.00");
        assert_eq!(at.tier.unwrap().min_quantity, q("5"));
        let top = price_line(&sand(), q("25"), &u("t"), &s).unwrap();
        assert_eq!(String::from(top.unit_price), "33.50");
    }

    #[test]
    fn whole_packs_are_rounded_up_and_said_so() {
        let line = price_line(&cement(), q("110"), &u("kg"), &shop(false)).unwrap();
        assert_eq!(
            line.sold,
            Measured {
                quantity: q("5"),
                unit: u("bag")
            }
        );
        assert_eq!(line.stock.quantity, q("125"));
        assert_eq!(
            line.pack_rounding.as_deref(),
            Some("rounded up to 5 whole bag (4.4 bag asked for)")
        );
        assert_eq!(line.net.0, "31.25".parse::<Decimal>().unwrap());
        let exact = price_line(&cement(), q("40"), &u("bag"), &shop(false)).unwrap();
        assert_eq!(exact.pack_rounding, None);
        assert_eq!(exact.stock.quantity, q("1000"));
    }

    #[test]
    fn the_minimum_order_is_enforced_in_the_pricing_unit() {
        let err = price_line(&cement(), q("1"), &u("bag"), &shop(false)).unwrap_err();
        assert_eq!(err.field, "quantity");
        assert!(
            err.reason.contains("minimum order of CEM-425 is 2 bag"),
            "{}",
            err.reason
        );
        assert!(price_line(&cement(), q("2"), &u("bag"), &shop(false)).is_ok());
    }

    #[test]
    fn gross_prices_are_split_into_net_and_tax() {
        let line = price_line(&sand(), q("1"), &u("t"), &shop(true)).unwrap();
        assert_eq!(line.gross.0, "38.00".parse::<Decimal>().unwrap());
        assert_eq!(line.net.0, "31.67".parse::<Decimal>().unwrap());
        assert_eq!(line.tax.0, "6.33".parse::<Decimal>().unwrap());
    }

    #[test]
    fn money_rounds_half_up_to_the_minor_unit() {
        assert_eq!(round_money("2.345".parse().unwrap(), 2).to_string(), "2.35");
        assert_eq!(
            round_money("2.344999".parse().unwrap(), 2).to_string(),
            "2.34"
        );
        assert_eq!(round_money("2".parse().unwrap(), 2).to_string(), "2.00");
        assert_eq!(
            round_money("1234.5".parse().unwrap(), 0).to_string(),
            "1235"
        );
        assert_eq!(
            round_money("0.0005".parse().unwrap(), 3).to_string(),
            "0.001"
        );
    }

    #[test]
    fn totals_are_per_tax_class_and_overall() {
        let mut zero_rated = sand();
        zero_rated.tax_class = TaxClass::parse("zero").unwrap();
        let lines = [
            price_line(&sand(), q("1"), &u("t"), &shop(false)).unwrap(),
            price_line(&zero_rated, q("2"), &u("t"), &shop(false)).unwrap(),
        ];
        let t = totals(&lines, 2);
        assert_eq!(t.by_tax_class.len(), 2);
        assert_eq!(t.net.0.to_string(), "114.00");
        assert_eq!(t.tax.0.to_string(), "7.60");
        assert_eq!(t.gross.0.to_string(), "121.60");
        assert_eq!(totals(&[], 2).gross.0.to_string(), "0.00");
    }

    use crate::domain::catalogue::tests::bolts;

    /// Hardening item 7: 0.000001 pc was quoted at 0.00.
    #[test]
    fn a_price_for_a_fraction_of_a_piece_is_refused() {
        let s = shop(false);
        let err =
            price_line(&bolts(serde_json::json!({})), q("0.000001"), &u("pc"), &s).unwrap_err();
        assert_eq!(err.field, "quantity");
        assert!(err.reason.contains("whole pieces"), "{}", err.reason);
        let err = price_line(&bolts(serde_json::json!({})), q("0.05"), &u("box"), &s).unwrap_err();
        assert!(err.reason.contains("0.05 box is 0.5 pc"), "{}", err.reason);
        let half_box = price_line(&bolts(serde_json::json!({})), q("0.5"), &u("box"), &s).unwrap();
        assert_eq!(half_box.stock.quantity, q("5"));
        assert_eq!(half_box.net.0, "2.00".parse::<Decimal>().unwrap());
        // Sold in whole boxes, half a piece is rounded up to a box: whole pieces.
        let boxed = bolts(serde_json::json!({"sell_in_whole": "box"}));
        assert_eq!(
            price_line(&boxed, q("0.5"), &u("pc"), &s)
                .unwrap()
                .stock
                .quantity,
            q("10")
        );
        let fractional = bolts(serde_json::json!({"fractional_count": true}));
        assert_eq!(
            price_line(&fractional, q("0.5"), &u("pc"), &s)
                .unwrap()
                .net
                .0,
            "0.20".parse::<Decimal>().unwrap()
        );
    }

    /// Hardening item 7: 100 lines of 0.004 pc came to 0.00.
    #[test]
    fn a_line_that_would_cost_nothing_is_refused_with_the_least_that_costs_something() {
        let s = shop(false);
        let err = price_line(&sand(), q("0.0001"), &u("t"), &s).unwrap_err();
        assert_eq!(err.field, "quantity");
        assert_eq!(
            err.reason,
            "0.0001 t of SAND-04 comes to less than the smallest amount that can be charged \
             (0.01) at 38.00 per t; order at least 0.000132 t"
        );
        // The least it names does cost something; just below it does not.
        assert_eq!(
            price_line(&sand(), q("0.000132"), &u("t"), &s)
                .unwrap()
                .net
                .0,
            "0.01".parse::<Decimal>().unwrap()
        );
        assert!(price_line(&sand(), q("0.000131"), &u("t"), &s).is_err());
        // Counted whole: the least in whole pieces.
        let cheap = bolts(serde_json::json!({"price": "0.001"}));
        let err = price_line(&cheap, q("4"), &u("pc"), &s).unwrap_err();
        assert!(
            err.reason.ends_with("order at least 5 pc"),
            "{}",
            err.reason
        );
        assert!(price_line(&cheap, q("5"), &u("pc"), &s).is_ok());
        let per_box = bolts(serde_json::json!({"price": "0.001", "pricing_unit": "box"}));
        let err = price_line(&per_box, q("1"), &u("box"), &s).unwrap_err();
        assert!(
            err.reason.ends_with("order at least 50 pc"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn a_product_priced_at_zero_may_be_quoted_at_zero() {
        let free = bolts(serde_json::json!({"price": "0"}));
        let line = price_line(&free, q("1"), &u("pc"), &shop(true)).unwrap();
        assert_eq!(line.gross.0, "0.00".parse::<Decimal>().unwrap());
    }

    #[test]
    fn impossible_conversions_and_unknown_units_are_line_errors() {
        let mut no_density = sand();
        no_density.density_kg_m3 = None;
        let err = price_line(&no_density, q("3"), &u("m3"), &shop(false)).unwrap_err();
        assert_eq!(err.field, "unit");
        assert_eq!(err.reason, "SAND-04 has no density: cannot convert m3 to t");
        let err = price_line(&sand(), q("3"), &u("bag"), &shop(false)).unwrap_err();
        assert!(err.reason.contains("no unit or pack \"bag\""));
    }

    fn trade_list(rules: serde_json::Value) -> PriceList {
        PriceList {
            code: crate::domain::customers::PriceListCode::parse("TRADE-B").unwrap(),
            name: crate::domain::customers::TradeName::parse("Trade list B").unwrap(),
            rules: serde_json::from_value(rules).unwrap(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
            version: 1,
        }
    }

    fn today() -> jiff::civil::Date {
        jiff::civil::date(2026, 12, 7)
    }

    #[test]
    fn a_customer_pays_the_rule_of_their_list_with_the_rule_and_saving_said() {
        let list = trade_list(serde_json::json!([
            {"category": "A", "percent_off": "8"},
            {"sku": "SAND-04", "price": "30.00", "min_quantity": "50"},
        ]));
        let at = Some((&list, today()));
        // 3 m3 = 4.8 t: below the first break, 38.00 × 0.92 = 34.96 per t;
        // 4.8 × 34.96 = 167.808 → 167.81 (rounded once); list 182.40.
        let line = price_line_for(&sand(), q("3"), &u("m3"), &shop(false), at).unwrap();
        assert_eq!(line.unit_price.value(), Decimal::new(3496, 2));
        assert_eq!(line.net.0.to_string(), "167.81");
        let by = line.list_price.expect("priced by the list");
        assert_eq!(by.rule, "Trade list B: 8% off A");
        assert_eq!(
            (by.list_amount.0.to_string(), by.saving.0.to_string()),
            ("182.40".into(), "14.59".into())
        );
        assert_eq!(by.list_unit_price.value(), Decimal::new(38, 0));
        // 20 t: the product's own break (33.50), less 8%: 30.82 per t.
        let line = price_line_for(&sand(), q("20"), &u("t"), &shop(false), at).unwrap();
        assert_eq!(line.net.0.to_string(), "616.40");
        assert!(
            line.tier.is_some(),
            "the product's break still applies under a percentage"
        );
        // 50 t: the SKU's fixed price from 50 t, instead of the breaks.
        let line = price_line_for(&sand(), q("50"), &u("t"), &shop(false), at).unwrap();
        assert_eq!(line.net.0.to_string(), "1500.00");
        assert_eq!(line.tier, None);
        assert_eq!(
            line.list_price.unwrap().rule,
            "Trade list B: 30.00 per t for SAND-04 from 50 t"
        );
        // A product no rule covers: list price, nothing said.
        let line = price_line_for(&cement(), q("2"), &u("bag"), &shop(false), at).unwrap();
        assert_eq!(
            (line.net.0.to_string(), line.list_price),
            ("12.50".into(), None)
        );
    }

    #[test]
    fn a_rule_out_of_its_dates_leaves_the_list_price() {
        let list = trade_list(serde_json::json!([
            {"percent_off": "10", "valid_until": "2026-12-06"},
        ]));
        let line = price_line_for(
            &sand(),
            q("1"),
            &u("t"),
            &shop(false),
            Some((&list, today())),
        )
        .unwrap();
        assert_eq!(
            (line.net.0.to_string(), line.list_price),
            ("38.00".into(), None)
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn a_percentage_off_is_rounded_once_and_never_costs_more(
                n in 1u32..1_000_000, off in 1u32..10_000, include_tax in any::<bool>(),
            ) {
                let percent = Decimal::new(i64::from(off), 2);
                let list = trade_list(serde_json::json!([{"percent_off": percent.to_string()}]));
                let quantity = Decimal::new(i64::from(n), 3);
                let s = shop(include_tax);
                let line = price_line_for(&sand(), Quantity::new(quantity).unwrap(), &u("t"), &s, Some((&list, today())));
                let Ok(line) = line else {
                    // Only a line too small to cost anything is refused.
                    return Ok(());
                };
                let plain = price_line(&sand(), Quantity::new(quantity).unwrap(), &u("t"), &s).unwrap();
                let list_price = plain.unit_price.value();
                let hundred = Decimal::from(100);
                let amount = round_money(quantity * list_price * (hundred - percent) / hundred, 2);
                let charged = if include_tax { line.gross.0 } else { line.net.0 };
                prop_assert_eq!(charged, amount);
                let by = line.list_price.unwrap();
                let before = if include_tax { plain.gross.0 } else { plain.net.0 };
                prop_assert_eq!(by.list_amount.0, before);
                prop_assert_eq!(by.saving.0, before - charged);
                prop_assert!(by.saving.0 >= Decimal::ZERO);
                prop_assert_eq!(line.net.0 + line.tax.0, line.gross.0);
            }

            #[test]
            fn totals_equal_the_sum_of_their_lines(quantities in proptest::collection::vec(1u32..100_000, 1..12)) {
                let s = shop(false);
                let lines: Vec<PricedLine> = quantities
                    .iter()
                    .map(|n| price_line(&sand(), Quantity::new(Decimal::new(i64::from(*n), 3)).unwrap(), &u("t"), &s).unwrap())
                    .collect();
                let t = totals(&lines, 2);
                let net: Decimal = lines.iter().map(|l| l.net.0).sum();
                let gross: Decimal = lines.iter().map(|l| l.gross.0).sum();
                prop_assert_eq!(t.net.0, net);
                prop_assert_eq!(t.gross.0, gross);
                prop_assert_eq!(t.net.0 + t.tax.0, t.gross.0);
                for l in &lines {
                    prop_assert_eq!(l.net.0 + l.tax.0, l.gross.0);
                    prop_assert_eq!(l.net.0.scale(), 2);
                }
            }

            #[test]
            fn converting_there_and_back_is_exact_within_a_dimension(n in 1i64..10_000_000, scale in 0u32..4) {
                use crate::domain::units::{Unit, convert};
                let value = Decimal::new(n, scale);
                // Powers of ten apart: always exact.
                for (a, b) in [(Unit::Kilogram, Unit::Tonne), (Unit::Litre, Unit::Millilitre), (Unit::Metre, Unit::Centimetre)] {
                    let there = convert(value, a, b, None, "X").unwrap();
                    let back = convert(there, b, a, None, "X").unwrap();
                    prop_assert_eq!(back, value.normalize());
                }
            }
        }
    }
}
