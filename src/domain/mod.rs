//! Quarry's business rules as pure types and functions: no I/O, no async, no
//! database or web types. Input becomes one of these types at the edge, so a value
//! that breaks a rule cannot exist further in.

pub mod accounts;
pub mod catalogue;
pub mod contacts;
pub mod customers;
pub mod deliveries;
pub mod delivery;
pub mod images;
pub mod labels;
pub mod ledger;
pub mod locale;
pub mod locations;
pub mod mail;
pub mod pricing;
pub mod quotes;
pub mod rules;
pub mod text;
pub mod units;
pub mod values;
pub mod webhooks;

pub use text::InvalidValue;
