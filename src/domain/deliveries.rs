//! Deliveries of an accepted quote: each ships some of each line (a `ship`
//! movement, held stock first), may record what actually left the yard when
//! it differs (a weighbridge ticket), and has a printable note. The quote
//! keeps how much of each line was delivered; it is fulfilled when nothing is
//! outstanding, or when staff close it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::Actor;
use super::customers::ShortText;
use super::ledger::Remark;
use super::locations::LocationCode;
use super::pricing::Measured;
use super::quotes::QuoteNumber;
use super::units::{Quantity, UnitName};
use super::values::Sku;

/// Most lines one delivery has (a quote has at most 100).
pub const MAX_LINES: usize = 100;

/// Where a delivered line shipped from, and how much (stock unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShippedFrom {
    pub location: LocationCode,
    #[schema(value_type = String)]
    pub quantity: Quantity,
}

/// One line of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveredLine {
    /// The quote's line, from 1.
    pub line: u32,
    pub sku: Sku,
    pub name: String,
    /// How much of the ordered line this delivery fulfils, in the product's
    /// stock unit.
    pub quantity: Measured,
    /// As staff entered it, when in another unit (`3 m3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered: Option<Measured>,
    /// What actually left the yard when it differs from `quantity` (the
    /// weighbridge's `4.76 t`), in the stock unit: what the ledger booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Measured>,
    /// Still to deliver of the line after this delivery (stock unit).
    pub outstanding: Measured,
    /// Where the goods shipped from.
    pub from: Vec<ShippedFrom>,
}

impl DeliveredLine {
    /// What the ledger booked for the line: the actual quantity if recorded.
    pub fn shipped(&self) -> &Measured {
        self.actual.as_ref().unwrap_or(&self.quantity)
    }
}

/// A delivery as stored and shown. (`QuoteDelivery` in the API's document:
/// a webhook's delivery attempts are `Delivery` there.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = QuoteDelivery)]
pub struct Delivery {
    pub quote: QuoteNumber,
    /// 1, 2, … within the quote.
    pub number: u32,
    pub lines: Vec<DeliveredLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<ShortText>,
    /// A weighbridge ticket, a docket number…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ShortText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Remark>,
    /// The movements booked for it (releases of held stock, shipments).
    pub movements: Vec<u64>,
    #[schema(value_type = String)]
    pub created_by: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// One line of `POST /quotes/{number}/deliveries`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryLineInput {
    /// The quote's line, from 1.
    #[schema(minimum = 1, maximum = 100)]
    pub line: u32,
    /// How much of the ordered line this delivery fulfils.
    #[schema(value_type = super::units::PositiveQuantity)]
    pub quantity: Quantity,
    /// `quantity`'s unit: any the product converts to; default its stock unit.
    pub unit: Option<UnitName>,
    /// What actually left the yard, when it differs (a weighbridge ticket):
    /// this is what the ledger books.
    #[schema(value_type = Option<super::units::PositiveQuantity>)]
    pub actual_quantity: Option<Quantity>,
    /// `actual_quantity`'s unit; default the stock unit.
    pub actual_unit: Option<UnitName>,
}

/// The body of `POST /quotes/{number}/deliveries`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "lines": [{"line": 1, "quantity": "3", "unit": "m3", "actual_quantity": "4.76", "actual_unit": "t"}],
    "vehicle": "Tipper KX19 ABC", "driver": "Sam", "reference": "Weighbridge 20731"
}))]
pub struct DeliveryInput {
    /// Ship from this location only; default: where the quote holds stock,
    /// then wherever it is available (most first).
    pub location: Option<LocationCode>,
    /// 1 to 100 lines, each of the quote's lines at most once.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<DeliveryLineInput>,
    pub vehicle: Option<ShortText>,
    pub driver: Option<ShortText>,
    pub reference: Option<ShortText>,
    pub note: Option<Remark>,
}

/// How much of a quote's line has been delivered (stock unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineProgress {
    /// The quote's line, from 1.
    pub line: u32,
    pub sku: Sku,
    pub unit: UnitName,
    #[schema(value_type = String)]
    pub ordered: Quantity,
    #[schema(value_type = String)]
    pub delivered: Quantity,
    #[schema(value_type = String)]
    pub outstanding: Quantity,
}
