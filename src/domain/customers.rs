//! Trade customers and their price lists. A customer is a company with a
//! price list; a price list is named rules, each giving the customer a fixed
//! price for one SKU or a percentage off the list price of one product, a
//! category subtree or everything, from a quantity and between dates.
//!
//! Which rule prices a line: the most specific rule in force that applies
//! wins — a SKU over a category, a deeper category over its parent
//! (`Aggregates/Sand` over `Aggregates`), a category over every product;
//! among rules as specific, the one with the highest minimum quantity the line
//! reaches (a rule's own quantity breaks); then the first listed. A product no
//! rule applies to keeps its list price.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidValue;
use super::catalogue::{CategoryPath, LongText, Product};
use super::rules::Rule;
use super::text::parse_decimal;
use super::units::{Quantity, UnitName};
use super::values::{Money, Sku, string_type};

string_type!(
    /// A price list's code, e.g. `TRADE-B`: 1–32 characters of
    /// `A-Z 0-9 . _ -`, case-insensitive (kept upper-case).
    PriceListCode,
    "TRADE-A",
    Rule::Code {
        what: "price list code",
        max: 32
    }
);

string_type!(
    /// A customer's code, e.g. `NORTHBUILD`: 1–32 characters of
    /// `A-Z 0-9 . _ -`, case-insensitive (kept upper-case).
    CustomerCode,
    "HARBOUR",
    Rule::Code {
        what: "customer code",
        max: 32
    }
);

string_type!(
    /// A name as people read it (a price list's, a company's), 1–120
    /// characters on one line.
    TradeName,
    "Trade list B",
    Rule::Text {
        what: "name",
        min: 1,
        max: 120,
        multiline: false
    }
);

string_type!(
    /// A short line of text (a tax number, payment terms), 1–200 characters.
    ShortText,
    "30 days net",
    Rule::Text {
        what: "text",
        min: 1,
        max: 200,
        multiline: false
    }
);

string_type!(
    /// A postal address, 1–500 characters over several lines.
    Address,
    "Unit 4, Mill Lane\nNorthtown AB1 2CD",
    Rule::Text {
        what: "address",
        min: 1,
        max: 500,
        multiline: true
    }
);

/// A percentage off: above 0, at most 100, at most 4 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Percent(Decimal);

impl Percent {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let value = parse_decimal(raw, "percentage", 4)?;
        if value <= Decimal::ZERO || value > Decimal::from(100) {
            return Err(InvalidValue::new(
                "percentage must be above 0 and at most 100",
            ));
        }
        Ok(Self(value.normalize()))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<String> for Percent {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Percent> for String {
    fn from(p: Percent) -> Self {
        p.0.to_string()
    }
}

super::rules::pattern_schema!(
    Percent,
    decimal_schema,
    r"^\s*(?:0*[0-9]{1,3}(?:\.[0-9]{1,4})?)\s*$",
    "A percentage above 0 and at most 100, written with a dot, e.g. \"8\" or \"12.5\".",
    "8"
);

/// Most rules one price list holds.
pub const MAX_RULES: usize = 1000;
/// Most price lists a shop has.
pub const MAX_LISTS: usize = 500;

/// One rule of a price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "Aggregates", "percent_off": "8", "min_quantity": "10"}))]
pub struct PriceRule {
    /// The product the rule is for; with `category`, neither means every
    /// product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// The category the rule is for, with everything under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<CategoryPath>,
    /// A fixed price per the product's pricing unit (a rule for one SKU
    /// only); or else `percent_off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// A percentage off the list price (after the product's own quantity
    /// breaks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_off: Option<Percent>,
    /// The rule applies from this quantity, in the product's pricing unit:
    /// rules for the same products with different minimums are quantity
    /// breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::units::PositiveQuantity>)]
    pub min_quantity: Option<Quantity>,
    /// First day the rule is in force (UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-01-01")]
    pub valid_from: Option<Date>,
    /// Last day the rule is in force (UTC), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-12-31")]
    pub valid_until: Option<Date>,
}

impl PriceRule {
    /// Checks the rule's fields together; `(field, reason)` relative to the
    /// rule.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.sku.is_some() && self.category.is_some() {
            return Err((
                "category",
                "a rule is for one SKU or one category, not both".into(),
            ));
        }
        match (self.price, self.percent_off) {
            (Some(_), Some(_)) => {
                return Err((
                    "percent_off",
                    "give a fixed price or a percentage off, not both".into(),
                ));
            }
            (None, None) => {
                return Err((
                    "percent_off",
                    "give a fixed price (for one SKU) or a percentage off".into(),
                ));
            }
            (Some(_), None) if self.sku.is_none() => {
                return Err((
                    "price",
                    "a fixed price is for one SKU (products differ in units); use percent_off for a category"
                        .into(),
                ));
            }
            _ => {}
        }
        if self.min_quantity.is_some_and(|q| !q.is_positive()) {
            return Err(("min_quantity", "must be greater than zero".into()));
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until < from
        {
            return Err((
                "valid_until",
                format!("{until} is before valid_from {from}"),
            ));
        }
        Ok(())
    }

    /// Whether the rule is in force on `day`.
    pub fn in_force(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= day)
            && self.valid_until.is_none_or(|until| day <= until)
    }

    /// Whether the rule is for `product`.
    pub fn applies_to(&self, product: &Product) -> bool {
        if let Some(sku) = &self.sku {
            return *sku == product.sku;
        }
        match &self.category {
            None => true,
            Some(category) => {
                let wanted = category.as_str().to_lowercase();
                let path = product.category.as_str().to_lowercase();
                path == wanted
                    || path
                        .strip_prefix(&wanted)
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        }
    }

    /// How specific the rule is: a SKU, then a category by its depth, then
    /// every product.
    fn specificity(&self) -> (u8, usize) {
        match (&self.sku, &self.category) {
            (Some(_), _) => (2, 0),
            (None, Some(c)) => (1, c.as_str().split('/').count()),
            (None, None) => (0, 0),
        }
    }

    /// What the rule gives and for what, for people: `8% off Aggregates`,
    /// `41.00 per t for SAND-04 from 10 t`.
    pub fn describe(&self, pricing_unit: &UnitName) -> String {
        let what = match (&self.sku, &self.category) {
            (Some(sku), _) => sku.to_string(),
            (None, Some(c)) => c.to_string(),
            (None, None) => "everything".to_owned(),
        };
        let mut out = match (self.price, self.percent_off) {
            (Some(price), _) => format!("{} per {pricing_unit} for {what}", price.value()),
            (None, Some(p)) => format!("{}% off {what}", p.value()),
            (None, None) => what,
        };
        if let Some(min) = self.min_quantity {
            let _ = write!(out, " from {min} {pricing_unit}");
        }
        out
    }
}

/// A price list as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceList {
    pub code: PriceListCode,
    /// What customers and staff read: `Trade list B`.
    pub name: TradeName,
    pub rules: Vec<PriceRule>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The body of `POST /price-lists` and `PUT /price-lists/{code}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Trade list B",
    "rules": [
        {"category": "Aggregates", "percent_off": "8"},
        {"sku": "SAND-04", "price": "30.00", "min_quantity": "20"}
    ]
}))]
pub struct PriceListInput {
    /// Taken from the path by `PUT` (which may repeat it); required by `POST`.
    pub code: Option<PriceListCode>,
    pub name: TradeName,
    /// Up to 1,000 rules.
    #[schema(max_items = 1000)]
    #[serde(default)]
    pub rules: Vec<PriceRule>,
}

impl PriceListInput {
    /// Checks the input on its own (before anything is read).
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.rules.len() > MAX_RULES {
            return Err((
                "rules".into(),
                format!("a price list has at most {MAX_RULES} rules"),
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            rule.check()
                .map_err(|(field, reason)| (format!("rules[{i}].{field}"), reason))?;
        }
        Ok(())
    }

    /// The list this input makes, replacing `before` if there was one.
    pub fn into_list(
        self,
        code: PriceListCode,
        now: Timestamp,
        before: Option<&PriceList>,
    ) -> Result<PriceList, (String, String)> {
        self.check()?;
        Ok(PriceList {
            code,
            name: self.name,
            rules: self.rules,
            created_at: before.map_or(now, |b| b.created_at),
            updated_at: now,
            version: before.map_or(1, |b| b.version + 1),
        })
    }
}

/// What a price list did to one line's price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListPrice {
    /// The price list's code.
    pub list: PriceListCode,
    /// Which rule, for people: `Trade list B: 8% off Aggregates`.
    pub rule: String,
    /// The list price per pricing unit the rule replaced.
    pub list_unit_price: Money,
    /// What the line would have come to at the list price (net or gross as
    /// the shop's prices are).
    pub list_amount: super::pricing::Amount,
    /// How much less the line comes to (negative if the rule costs more).
    pub saving: super::pricing::Amount,
}

impl PriceList {
    /// The rule that prices `quantity` (in the pricing unit) of `product` on
    /// `day`, if any (see the module's docs for which wins).
    pub fn rule_for(&self, product: &Product, quantity: Decimal, day: Date) -> Option<&PriceRule> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.in_force(day)
                    && r.applies_to(product)
                    && r.min_quantity.is_none_or(|m| m.value() <= quantity)
            })
            .max_by_key(|(i, r)| {
                (
                    r.specificity(),
                    r.min_quantity.map_or(Decimal::ZERO, Quantity::value),
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(_, r)| r)
    }
}

/// A trade customer as stored and shown (to staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    pub code: CustomerCode,
    /// The company's name.
    pub name: TradeName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Sites delivered to.
    #[serde(default)]
    pub delivery_addresses: Vec<Address>,
    /// As agreed: `30 days net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<ShortText>,
    /// Staff's notes; never shown to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<LongText>,
    /// The price list the customer buys at; list prices without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_list: Option<PriceListCode>,
    /// Archived customers keep their history but get no new quotes.
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub version: u64,
}

/// Most delivery addresses one customer has.
pub const MAX_ADDRESSES: usize = 20;

/// The body of `POST /customers` and `PUT /customers/{code}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Northbuild Ltd", "tax_number": "GB123456789",
    "billing_address": "Unit 4, Mill Lane\nNorthtown AB1 2CD",
    "payment_terms": "30 days net", "price_list": "TRADE-A"
}))]
pub struct CustomerInput {
    /// Taken from the path by `PUT` (which may repeat it); required by `POST`.
    pub code: Option<CustomerCode>,
    pub name: TradeName,
    pub tax_number: Option<ShortText>,
    pub billing_address: Option<Address>,
    /// Up to 20.
    #[schema(max_items = 20)]
    #[serde(default)]
    pub delivery_addresses: Vec<Address>,
    pub payment_terms: Option<ShortText>,
    pub notes: Option<LongText>,
    /// An existing price list's code.
    pub price_list: Option<PriceListCode>,
    /// Default `true`.
    pub active: Option<bool>,
}

impl CustomerInput {
    /// Checks the input on its own (before anything is read).
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.delivery_addresses.len() > MAX_ADDRESSES {
            return Err((
                "delivery_addresses".into(),
                format!("a customer has at most {MAX_ADDRESSES} delivery addresses"),
            ));
        }
        Ok(())
    }

    /// The customer this input makes, replacing `before` if there was one.
    pub fn into_customer(
        self,
        code: CustomerCode,
        now: Timestamp,
        before: Option<&Customer>,
    ) -> Result<Customer, (String, String)> {
        self.check()?;
        Ok(Customer {
            code,
            name: self.name,
            tax_number: self.tax_number,
            billing_address: self.billing_address,
            delivery_addresses: self.delivery_addresses,
            payment_terms: self.payment_terms,
            notes: self.notes,
            price_list: self.price_list,
            active: self.active.unwrap_or(true),
            created_at: before.map_or(now, |b| b.created_at),
            updated_at: now,
            version: before.map_or(1, |b| b.version + 1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> PriceRule {
        serde_json::from_value(json).expect("rule")
    }

    fn sand() -> Product {
        let input: crate::domain::catalogue::ProductInput =
            serde_json::from_value(serde_json::json!({
                "sku": "SAND-04", "name": "Washed sand", "category": "Aggregates/Sand",
                "unit": "t", "price": "38.00"
            }))
            .unwrap();
        Product::create(input.sku.clone().unwrap(), input, Timestamp::UNIX_EPOCH)
    }

    fn list(rules: Vec<PriceRule>) -> PriceList {
        PriceList {
            code: PriceListCode::parse("TRADE-B").unwrap(),
            name: TradeName::parse("Trade list B").unwrap(),
            rules,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            version: 1,
        }
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_most_specific_rule_wins_then_the_highest_minimum_reached_then_the_first() {
        let rules = list(vec![
            rule(serde_json::json!({"percent_off": "2"})),
            rule(serde_json::json!({"category": "Aggregates", "percent_off": "5"})),
            rule(serde_json::json!({"category": "aggregates/sand", "percent_off": "8"})),
            rule(serde_json::json!({"category": "Aggregates/Sand", "percent_off": "9"})),
            rule(
                serde_json::json!({"category": "Aggregates/Sand", "percent_off": "10", "min_quantity": "10"}),
            ),
            rule(serde_json::json!({"sku": "SAND-04", "price": "30", "min_quantity": "20"})),
            rule(serde_json::json!({"category": "Aggregates/Gravel", "percent_off": "50"})),
        ]);
        let today = day("2026-12-07");
        let pick = |q: i64| rules.rule_for(&sand(), Decimal::from(q), today).cloned();
        // A deeper category over its parent and over everything; the first
        // of two equals.
        assert_eq!(
            pick(1).unwrap().percent_off.unwrap().value(),
            Decimal::from(8)
        );
        // Its own quantity break.
        assert_eq!(
            pick(10).unwrap().percent_off.unwrap().value(),
            Decimal::from(10)
        );
        // A SKU over any category, once its minimum is reached.
        assert_eq!(pick(20).unwrap().price.unwrap().value(), Decimal::from(30));
        // Another category's rule never applies; nothing for another list.
        assert!(
            list(vec![rules.rules[6].clone()])
                .rule_for(&sand(), Decimal::ONE, today)
                .is_none()
        );
    }

    #[test]
    fn a_rule_is_in_force_between_its_dates_inclusive() {
        let r = rule(serde_json::json!({
            "percent_off": "5", "valid_from": "2026-01-01", "valid_until": "2026-06-30"
        }));
        assert!(!r.in_force(day("2025-12-31")));
        assert!(r.in_force(day("2026-01-01")));
        assert!(r.in_force(day("2026-06-30")));
        assert!(!r.in_force(day("2026-07-01")));
    }

    #[test]
    fn rules_that_cannot_be_applied_are_refused_with_the_field() {
        for (json, field) in [
            (
                serde_json::json!({"sku": "A", "category": "B", "percent_off": "5"}),
                "category",
            ),
            (
                serde_json::json!({"sku": "A", "price": "1", "percent_off": "5"}),
                "percent_off",
            ),
            (serde_json::json!({"sku": "A"}), "percent_off"),
            (serde_json::json!({"category": "B", "price": "1"}), "price"),
            (
                serde_json::json!({"percent_off": "5", "min_quantity": "-1"}),
                "min_quantity",
            ),
            (
                serde_json::json!({"percent_off": "5", "valid_from": "2026-02-01", "valid_until": "2026-01-01"}),
                "valid_until",
            ),
        ] {
            assert_eq!(rule(json.clone()).check().unwrap_err().0, field, "{json}");
        }
        for bad in ["0", "100.5", "-3", "8.12345"] {
            assert!(Percent::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Percent::parse("12.50").unwrap().value().to_string(), "12.5");
    }

    #[test]
    fn a_category_rule_covers_its_subtree_only() {
        let r = rule(serde_json::json!({"category": "Aggregates/San", "percent_off": "5"}));
        assert!(
            !r.applies_to(&sand()),
            "a prefix of a segment is another category"
        );
        let r = rule(serde_json::json!({"category": "AGGREGATES", "percent_off": "5"}));
        assert!(r.applies_to(&sand()));
        assert_eq!(
            r.describe(&UnitName::from(crate::domain::units::Unit::Tonne)),
            "5% off AGGREGATES"
        );
    }
}
