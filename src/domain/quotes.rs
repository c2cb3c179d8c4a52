//! Quotes: a priced list of products for a customer, numbered per year, valid
//! for a while, and moving from open to accepted and fulfilled — or expired or
//! cancelled. Prices are fixed when the quote is made.

use std::fmt;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidValue;
use super::accounts::Actor;
use super::locations::LocationCode;
use super::pricing::{PricedLine, Totals};
use super::rules::Rule;
use super::units::Quantity;
use super::values::{Sku, string_type};

/// Where a quote is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStatus {
    Open,
    Accepted,
    Fulfilled,
    Expired,
    Cancelled,
}

impl QuoteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Open => "open",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Fulfilled => "fulfilled",
            QuoteStatus::Expired => "expired",
            QuoteStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the quote is finished with (nothing more can happen to it).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            QuoteStatus::Fulfilled | QuoteStatus::Expired | QuoteStatus::Cancelled
        )
    }
}

impl fmt::Display for QuoteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What can be done to a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteAction {
    Accept,
    /// Ship everything still outstanding and finish the quote.
    Fulfil,
    /// Finish an accepted quote without shipping what is outstanding (the
    /// customer wants no more); what it holds is released.
    Close,
    Cancel,
    Expire,
}

impl QuoteAction {
    /// The status after the action, or why it cannot be done from `from`.
    pub fn apply(self, from: QuoteStatus) -> Result<QuoteStatus, String> {
        use QuoteStatus as S;
        match (self, from) {
            (QuoteAction::Accept, S::Open) => Ok(S::Accepted),
            (QuoteAction::Fulfil, S::Open | S::Accepted) | (QuoteAction::Close, S::Accepted) => {
                Ok(S::Fulfilled)
            }
            (QuoteAction::Cancel, S::Open | S::Accepted) => Ok(S::Cancelled),
            (QuoteAction::Expire, S::Open) => Ok(S::Expired),
            (action, status) => Err(format!(
                "a quote that is {status} cannot be {}",
                action.past()
            )),
        }
    }

    fn past(self) -> &'static str {
        match self {
            QuoteAction::Accept => "accepted",
            QuoteAction::Fulfil => "fulfilled",
            QuoteAction::Close => "closed",
            QuoteAction::Cancel => "cancelled",
            QuoteAction::Expire => "expired",
        }
    }
}

string_type!(
    /// A quote's number, `Q-2026-0001`: the year and a gap-free count in it.
    QuoteNumber,
    "Q-2026-0001",
    Rule::Own {
        pattern: r"^\s*[Qq]-[0-9]{4}-[0-9]{4,9}\s*$",
        exact: true,
        parse: |raw| {
        let n = raw.trim().to_ascii_uppercase();
        let mut parts = n.split('-');
        let ok = parts.next() == Some("Q")
            && parts.next().is_some_and(|y| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()))
            && parts.next().is_some_and(|c| (4..=9).contains(&c.len()) && c.chars().all(|c| c.is_ascii_digit()))
            && parts.next().is_none();
        if ok {
            Ok(n)
        } else {
            Err(InvalidValue::new("a quote number looks like Q-2026-0001"))
        }
    }
    }
);

impl QuoteNumber {
    pub fn new(year: i16, count: u64) -> Self {
        Self(format!("Q-{year:04}-{count:04}"))
    }
}

string_type!(
    /// A contact's name, 1–100 characters.
    ContactName,
    "Sam Builder",
    Rule::Text {
        what: "name",
        min: 1,
        max: 100,
        multiline: false
    }
);

string_type!(
    /// An e-mail address: something@domain, at most 254 characters.
    Email,
    "sam@example.com",
    Rule::Own {
        // Not exact: the 254 bytes are left to the parser.
        pattern: r"^\s*[^\s<>@\x00-\x1f\x7f-\x9f]+@[^\s<>.\x00-\x1f\x7f-\x9f][^\s<>\x00-\x1f\x7f-\x9f]*\.[^\s<>\x00-\x1f\x7f-\x9f]*[^\s<>.\x00-\x1f\x7f-\x9f]\s*$",
        exact: false,
        parse: |raw| {
        let email = raw.trim().to_owned();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
            && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if valid {
            Ok(email)
        } else {
            Err(InvalidValue::new("not an e-mail address"))
        }
    }
    }
);

string_type!(
    /// A phone number: digits, spaces and `+ - ( ) .`, 5–30 characters.
    Phone,
    "+44 1234 567890",
    Rule::Own {
        // Not exact: the five digits are left to the parser.
        pattern: r"^\s*[0-9 +().-]{5,30}\s*$",
        exact: false,
        parse: |raw| {
        let phone = raw.trim().to_owned();
        let valid = (5..=30).contains(&phone.len())
            && phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
            && phone.chars().filter(char::is_ascii_digit).count() >= 5;
        if valid {
            Ok(phone)
        } else {
            Err(InvalidValue::new("a phone number has 5 to 30 digits, spaces and + - ( ) ."))
        }
    }
    }
);

/// Who a quote is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: ContactName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

impl Contact {
    /// A contact needs a way to be reached.
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.email.is_none() && self.phone.is_none() {
            return Err((
                "contact.email".into(),
                "give an e-mail address or a phone number".into(),
            ));
        }
        Ok(())
    }
}

/// Stock held (reserved) for a quote at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hold {
    pub sku: Sku,
    pub location: LocationCode,
    /// In the product's stock unit.
    pub quantity: Quantity,
}

/// A saved quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Quote {
    pub number: QuoteNumber,
    pub status: QuoteStatus,
    pub contact: Contact,
    pub lines: Vec<PricedLine>,
    pub totals: Totals,
    pub currency: String,
    pub prices_include_tax: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Whether the quote holds its stock.
    pub hold_stock: bool,
    /// The stock held, per location.
    pub holds: Vec<Hold>,
    pub note: Option<String>,
    #[schema(value_type = String)]
    pub created_by: Actor,
    /// SHA-256 (hex) of the customer link's secret. Stored, never shown: the
    /// API answers with `QuoteView`.
    #[serde(default)]
    #[schema(ignore)]
    pub link_hash: String,
    pub version: u64,
    /// How the goods reach the customer, and what delivering them costs
    /// (in the totals). Absent: not said (quotes from before delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<super::delivery::DeliveryCharge>,
    /// The trade customer the quote is for (priced at their list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<super::customers::CustomerCode>,
    /// How much of each line has been delivered, in its stock unit (in line
    /// order; empty until the first delivery).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub delivered: Vec<Quantity>,
    /// How many deliveries were made.
    #[serde(default)]
    pub deliveries: u32,
}

impl Quote {
    /// What is delivered of line `i` (stock unit).
    pub fn delivered_of(&self, i: usize) -> Decimal {
        self.delivered.get(i).map_or(Decimal::ZERO, |q| q.value())
    }

    /// What is still to deliver of line `i` (stock unit, never below zero).
    pub fn outstanding_of(&self, i: usize) -> Decimal {
        self.lines.get(i).map_or(Decimal::ZERO, |line| {
            (line.stock.quantity.value() - self.delivered_of(i)).max(Decimal::ZERO)
        })
    }

    /// Each line's progress, once anything was delivered.
    pub fn progress(&self) -> Vec<super::deliveries::LineProgress> {
        if self.deliveries == 0 {
            return Vec::new();
        }
        self.lines
            .iter()
            .enumerate()
            .map(|(i, line)| super::deliveries::LineProgress {
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                sku: line.sku.clone(),
                unit: line.stock.unit.clone(),
                ordered: line.stock.quantity,
                delivered: Quantity::new(self.delivered_of(i)).unwrap_or(Quantity::ZERO),
                outstanding: Quantity::new(self.outstanding_of(i)).unwrap_or(Quantity::ZERO),
            })
            .collect()
    }

    /// Whether the quote has passed its validity at `now` while still open.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.status == QuoteStatus::Open && now >= self.valid_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_per_year_and_well_formed() {
        assert_eq!(QuoteNumber::new(2026, 1).as_str(), "Q-2026-0001");
        assert_eq!(QuoteNumber::new(2026, 12345).as_str(), "Q-2026-12345");
        assert!(QuoteNumber::parse("q-2026-0001").is_ok());
        for bad in ["Q-26-0001", "Q-2026-1", "X-2026-0001", "Q-2026-0001-2", ""] {
            assert!(QuoteNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_life_of_a_quote() {
        use QuoteAction as A;
        use QuoteStatus as S;
        assert_eq!(A::Accept.apply(S::Open), Ok(S::Accepted));
        assert_eq!(A::Fulfil.apply(S::Accepted), Ok(S::Fulfilled));
        assert_eq!(A::Fulfil.apply(S::Open), Ok(S::Fulfilled));
        assert_eq!(A::Cancel.apply(S::Accepted), Ok(S::Cancelled));
        assert_eq!(A::Expire.apply(S::Open), Ok(S::Expired));
        assert!(A::Accept.apply(S::Expired).unwrap_err().contains("expired"));
        assert!(A::Cancel.apply(S::Fulfilled).is_err());
        assert!(
            A::Expire.apply(S::Accepted).is_err(),
            "an accepted quote is an order: it does not expire"
        );
        assert!(S::Cancelled.is_final() && !S::Accepted.is_final());
    }

    #[test]
    fn contacts_need_a_way_to_be_reached() {
        let c: Contact = serde_json::from_value(serde_json::json!({"name": "Sam"})).unwrap();
        assert!(c.check().is_err());
        let c: Contact =
            serde_json::from_value(serde_json::json!({"name": "Sam", "phone": "+44 1234 567890"}))
                .unwrap();
        assert!(c.check().is_ok());
        assert!(Email::parse("sam@example.com").is_ok());
        for bad in [
            "sam",
            "sam@",
            "@x.com",
            "sam@example",
            "a b@c.de",
            "<x>@y.z",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Phone::parse("12").is_err());
        assert!(Phone::parse("call me").is_err());
    }
}
