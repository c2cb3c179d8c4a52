//! Values shared by the catalogue, locations, pricing, the ledger and quotes:
//! the string newtypes' pattern, SKUs, money, tax classes and quantity breaks.
//! They depend on nothing else in `domain/` but the parsing rules and units,
//! so the modules that use them do not depend on each other for them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidValue;
use super::rules::{Rule, pattern_schema};
use super::text::parse_decimal;
use super::units::Quantity;

/// Declares a string newtype that can only hold a value its [`Rule`] accepted,
/// that (de)serializes as a plain string, and whose `OpenAPI` schema states the
/// rule (its doc comment is the schema's description). `ALL_RULES` in the
/// tests lists every such type, checked against its pattern.
macro_rules! string_type {
    ($(#[doc = $doc:literal])* $name:ident, $example:literal, $rule:expr) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The rule every value of this type follows.
            pub const RULE: $crate::domain::rules::Rule = $rule;

            pub fn parse(raw: &str) -> Result<Self, $crate::domain::InvalidValue> {
                Self::RULE.parse(raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::InvalidValue;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(&self.0)
            }
        }

        $crate::domain::rules::pattern_schema!(
            $name,
            string_schema,
            $name::RULE.pattern(),
            concat!($($doc, "\n"),*),
            $example
        );
    };
}
pub(crate) use string_type;

string_type!(
    /// A stock-keeping unit: the product's stable key. Case-insensitive (kept
    /// upper-case), 1–64 characters of `A-Z 0-9 . _ -`.
    Sku,
    "SAND-04",
    Rule::Code {
        what: "SKU",
        max: 64
    }
);

/// An amount of money in the shop's currency: at least zero, at most 6 decimal
/// places (prices per kilogram need more than cents), shown with at least 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money(Decimal);

impl Money {
    pub const MAX_SCALE: u32 = 6;
    /// What [`Money::parse`] accepts: a decimal with at most 6 places below
    /// 10¹², not negative (but `-0` is zero).
    pub const PATTERN: &str = r"^\s*(?:0*[0-9]{1,12}(?:\.[0-9]{1,6})?|-0+(?:\.0{1,6})?)\s*$";

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let mut value = parse_decimal(raw, "amount", Self::MAX_SCALE)?;
        if value.is_sign_negative() && !value.is_zero() {
            return Err(InvalidValue::new("amount must not be negative"));
        }
        if value >= Decimal::from(1_000_000_000_000_i64) {
            return Err(InvalidValue::new("amount must be below 1,000,000,000,000"));
        }
        if value.scale() < 2 {
            value.rescale(2);
        }
        Ok(Self(value.abs()))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// An exact amount worked out from others (a price less a percentage),
    /// rounded half up to the places money keeps; never negative.
    pub fn rounded(value: Decimal) -> Self {
        let mut value = value
            .round_dp_with_strategy(
                Self::MAX_SCALE,
                rust_decimal::RoundingStrategy::MidpointAwayFromZero,
            )
            .normalize()
            .max(Decimal::ZERO);
        if value.scale() < 2 {
            value.rescale(2);
        }
        Self(value)
    }
}

impl TryFrom<String> for Money {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Money> for String {
    fn from(money: Money) -> Self {
        money.0.to_string()
    }
}

pattern_schema!(
    Money,
    decimal_schema,
    Money::PATTERN,
    "An amount of money in the shop's currency, as a decimal string: at least zero, below 10¹², at most 6 decimal places.",
    "42.00"
);

string_type!(
    /// The name of a tax class: `standard`, `reduced`, `zero`… as the shop's
    /// configuration defines them.
    TaxClass,
    "standard",
    Rule::Own {
        pattern: r"^\s*[A-Za-z0-9_-]{1,32}\s*$",
        exact: true,
        parse: |raw| {
            let name = raw.trim().to_ascii_lowercase();
            if name.is_empty() || name.len() > 32 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(InvalidValue::new("a tax class is 1 to 32 letters, digits, '_' or '-'"));
            }
            Ok(name)
        }
    }
);

impl Default for TaxClass {
    fn default() -> Self {
        Self("standard".into())
    }
}

/// A quantity break: from `min_quantity` (in the pricing unit) on, `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBreak {
    pub min_quantity: Quantity,
    pub price: Money,
}
