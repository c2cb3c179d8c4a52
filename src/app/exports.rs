//! Exports: products, stock levels, movements and quotes as CSV or JSON,
//! written row by row from one read snapshot (consistent, never the whole
//! table in memory). Product and movement CSV files import back as they are.
//! Every CSV cell goes through [`super::cells::guard`]: no spreadsheet formulas.

use std::io::Write;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cells::DECIMAL_COLUMNS;
use super::imports::PRODUCT_COLUMNS;
use super::quotes::QuoteView;
use super::slots::{Holder, Slot};
use super::{App, AppError, Principal};
use crate::domain::locale::DecimalMark;
use crate::domain::values::Sku;
use crate::store::ReadTx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportKind {
    Products,
    Stock,
    Movements,
    Quotes,
    Customers,
    PriceLists,
}

impl std::str::FromStr for ExportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Products,
            Self::Stock,
            Self::Movements,
            Self::Quotes,
            Self::Customers,
            Self::PriceLists,
        ]
        .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not something Quarry exports; use products, stock, movements, quotes, customers or price-lists"
                )
            })
    }
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Stock => "stock",
            Self::Movements => "movements",
            Self::Quotes => "quotes",
            Self::Customers => "customers",
            Self::PriceLists => "price-lists",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is not a format; use csv or json")),
        }
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

const STOCK_COLUMNS: [&str; 6] = [
    "sku",
    "location",
    "on_hand",
    "reserved",
    "available",
    "unit",
];

const MOVEMENT_COLUMNS: [&str; 15] = [
    "movement",
    "at",
    "kind",
    "location",
    "from",
    "to",
    "reference",
    "note",
    "actor",
    "reverses",
    "sku",
    "quantity",
    "unit",
    "counted",
    "reason",
];

/// A customer per row; delivery addresses one after another, separated by a
/// blank line.
pub(super) const CUSTOMER_COLUMNS: [&str; 9] = [
    "code",
    "name",
    "tax_number",
    "billing_address",
    "delivery_addresses",
    "payment_terms",
    "notes",
    "price_list",
    "active",
];

/// A rule per row, its list's code and name repeated (a list without rules
/// is one row with the rule's columns empty).
pub(super) const PRICE_LIST_COLUMNS: [&str; 9] = [
    "code",
    "name",
    "sku",
    "category",
    "price",
    "percent_off",
    "min_quantity",
    "valid_from",
    "valid_until",
];

const QUOTE_COLUMNS: [&str; 16] = [
    "number",
    "status",
    "created_at",
    "valid_until",
    "contact_name",
    "contact_email",
    "contact_phone",
    "sku",
    "name",
    "quantity",
    "unit",
    "net",
    "tax",
    "gross",
    "quote_gross",
    "currency",
];

/// A JSON value as one CSV cell: lists `a; b`, pairs `key=value; …`; the
/// decimals inside price breaks, packs and reorder points with `decimal`.
fn cell(column: &str, value: &Value, decimal: DecimalMark) -> String {
    let join = |items: Vec<String>| items.join("; ");
    let number = |value: &Value| decimal.write(&text(value));
    match (column, value) {
        (_, Value::Null) => String::new(),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Number(n)) => n.to_string(),
        ("price_breaks", Value::Array(items)) => join(
            items
                .iter()
                .map(|b| format!("{}={}", number(&b["min_quantity"]), number(&b["price"])))
                .collect(),
        ),
        ("packs", Value::Array(items)) => join(
            items
                .iter()
                .map(|p| {
                    format!(
                        "{}={} {}",
                        text(&p["name"]),
                        number(&p["quantity"]),
                        text(&p["unit"])
                    )
                })
                .collect(),
        ),
        (_, Value::Array(items)) => join(items.iter().map(text).collect()),
        ("reorder_points", Value::Object(map)) => join(
            map.iter()
                .map(|(k, v)| format!("{k}={}", number(v)))
                .collect(),
        ),
        (_, Value::Object(map)) => {
            // Pairs read back only when no key or value holds a separator.
            let plain = map.iter().all(|(k, v)| {
                let v = text(v);
                !k.contains(['=', ';']) && !v.contains(';') && v.trim() == v && !v.is_empty()
            });
            if plain {
                join(
                    map.iter()
                        .map(|(k, v)| format!("{k}={}", text(v)))
                        .collect(),
                )
            } else {
                value.to_string()
            }
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Writes items as CSV rows or a JSON array.
struct Sink<W: Write> {
    format: Format,
    /// The CSV file's columns and how it writes decimals.
    columns: &'static [&'static str],
    decimal: DecimalMark,
    csv: Option<csv::Writer<W>>,
    json: Option<W>,
    rows: u64,
}

fn io(error: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("writing the export failed: {error}"))
}

impl<W: Write> Sink<W> {
    fn new(
        format: Format,
        decimal: DecimalMark,
        out: W,
        columns: &'static [&'static str],
    ) -> Result<Self, AppError> {
        match format {
            Format::Csv => {
                let mut csv = csv::WriterBuilder::new()
                    .delimiter(decimal.delimiter())
                    .from_writer(out);
                csv.write_record(columns).map_err(io)?;
                Ok(Self {
                    format,
                    columns,
                    decimal,
                    csv: Some(csv),
                    json: None,
                    rows: 0,
                })
            }
            Format::Json => {
                let mut out = out;
                out.write_all(b"[").map_err(io)?;
                Ok(Self {
                    format,
                    columns,
                    decimal,
                    csv: None,
                    json: Some(out),
                    rows: 0,
                })
            }
        }
    }

    fn json(&mut self, item: &impl Serialize) -> Result<(), AppError> {
        let out = self.json.as_mut().expect("a JSON sink");
        if self.rows > 0 {
            out.write_all(b",\n").map_err(io)?;
        }
        serde_json::to_writer(&mut *out, item).map_err(io)?;
        self.rows += 1;
        Ok(())
    }

    fn row(&mut self, row: &[String]) -> Result<(), AppError> {
        self.csv
            .as_mut()
            .expect("a CSV sink")
            .write_record(row.iter().zip(self.columns).map(|(cell, column)| {
                if DECIMAL_COLUMNS.contains(column) {
                    super::cells::guard(&self.decimal.write(cell)).into_owned()
                } else {
                    super::cells::guard(cell).into_owned()
                }
            }))
            .map_err(io)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self) -> Result<u64, AppError> {
        if let Some(mut csv) = self.csv {
            csv.flush().map_err(io)?;
        }
        if let Some(mut out) = self.json {
            out.write_all(b"]\n").map_err(io)?;
            out.flush().map_err(io)?;
        }
        Ok(self.rows)
    }
}

/// Writes `kind` from the snapshot `tx` to `out`; returns the rows (CSV) or
/// items (JSON) written.
pub fn export(
    tx: &ReadTx,
    kind: ExportKind,
    format: Format,
    decimal: DecimalMark,
    out: impl Write,
) -> Result<u64, AppError> {
    match kind {
        ExportKind::Products => {
            let mut sink = Sink::new(format, decimal, out, PRODUCT_COLUMNS)?;
            tx.for_each_product(|product| {
                if sink.format == Format::Json {
                    return sink.json(product);
                }
                let value = serde_json::to_value(product).map_err(io)?;
                let row: Vec<String> = PRODUCT_COLUMNS
                    .iter()
                    .map(|c| cell(c, &value[*c], decimal))
                    .collect();
                sink.row(&row)
            })?;
            sink.finish()
        }
        ExportKind::Stock => export_stock(tx, format, decimal, out),
        ExportKind::Customers => export_customers(tx, format, decimal, out),
        ExportKind::PriceLists => export_price_lists(tx, format, decimal, out),
        ExportKind::Movements => {
            let mut sink = Sink::new(format, decimal, out, &MOVEMENT_COLUMNS)?;
            let mut failed = None;
            tx.for_each_movement_until(None, |movement| {
                if failed.is_some() {
                    return;
                }
                let result = if sink.format == Format::Json {
                    sink.json(movement)
                } else {
                    movement_rows(&mut sink, movement)
                };
                if let Err(error) = result {
                    failed = Some(error);
                }
            })?;
            if let Some(error) = failed {
                return Err(error);
            }
            sink.finish()
        }
        ExportKind::Quotes => {
            let mut sink = Sink::new(format, decimal, out, &QUOTE_COLUMNS)?;
            tx.for_each_quote(|quote| {
                let view = QuoteView::of(quote, true);
                if sink.format == Format::Json {
                    return sink.json(&view);
                }
                let value = serde_json::to_value(&view).map_err(io)?;
                for line in value["lines"].as_array().into_iter().flatten() {
                    let row = [
                        text(&value["number"]),
                        text(&value["status"]),
                        text(&value["created_at"]),
                        text(&value["valid_until"]),
                        text(&value["contact"]["name"]),
                        text(&value["contact"]["email"]),
                        text(&value["contact"]["phone"]),
                        text(&line["sku"]),
                        text(&line["name"]),
                        text(&line["requested"]["quantity"]),
                        text(&line["requested"]["unit"]),
                        text(&line["net"]),
                        text(&line["tax"]),
                        text(&line["gross"]),
                        text(&value["totals"]["gross"]),
                        text(&value["currency"]),
                    ];
                    sink.row(&row)?;
                }
                Ok(())
            })?;
            sink.finish()
        }
    }
}

/// Stock levels, with each product's stock unit.
fn export_customers(
    tx: &ReadTx,
    format: Format,
    decimal: DecimalMark,
    out: impl Write,
) -> Result<u64, AppError> {
    let mut sink = Sink::new(format, decimal, out, &CUSTOMER_COLUMNS)?;
    let mut after: Option<String> = None;
    loop {
        let page = tx.customers_after(after.as_deref(), 500)?;
        let Some(last) = page.last() else {
            return sink.finish();
        };
        after = Some(last.code.to_string());
        for customer in &page {
            if sink.format == Format::Json {
                sink.json(customer)?;
                continue;
            }
            let value = serde_json::to_value(customer).map_err(io)?;
            let addresses: Vec<String> = customer
                .delivery_addresses
                .iter()
                .map(ToString::to_string)
                .collect();
            let row: Vec<String> = CUSTOMER_COLUMNS
                .iter()
                .map(|c| match *c {
                    "delivery_addresses" => addresses.join("\n\n"),
                    _ => text(&value[*c]),
                })
                .collect();
            sink.row(&row)?;
        }
    }
}

fn export_price_lists(
    tx: &ReadTx,
    format: Format,
    decimal: DecimalMark,
    out: impl Write,
) -> Result<u64, AppError> {
    let mut sink = Sink::new(format, decimal, out, &PRICE_LIST_COLUMNS)?;
    for list in tx.price_lists()? {
        if sink.format == Format::Json {
            sink.json(&list)?;
            continue;
        }
        let rules = serde_json::to_value(&list.rules).map_err(io)?;
        let empty = [Value::Null];
        let rules = rules
            .as_array()
            .filter(|r| !r.is_empty())
            .map_or(&empty[..], |r| &r[..]);
        for rule in rules {
            let row: Vec<String> = PRICE_LIST_COLUMNS
                .iter()
                .map(|c| match *c {
                    "code" => list.code.to_string(),
                    "name" => list.name.to_string(),
                    "price" | "percent_off" | "min_quantity" => decimal.write(&text(&rule[*c])),
                    _ => text(&rule[*c]),
                })
                .collect();
            sink.row(&row)?;
        }
    }
    sink.finish()
}

fn export_stock(
    tx: &ReadTx,
    format: Format,
    decimal: DecimalMark,
    out: impl Write,
) -> Result<u64, AppError> {
    let mut sink = Sink::new(format, decimal, out, &STOCK_COLUMNS)?;
    // Levels come in SKU order: one product read per SKU.
    let mut unit: Option<(Sku, String)> = None;
    tx.for_each_level(|(sku, location, level)| {
        if unit.as_ref().is_none_or(|(s, _)| *s != sku) {
            let name = tx
                .product(&sku)?
                .map(|p| p.unit.to_string())
                .unwrap_or_default();
            unit = Some((sku.clone(), name));
        }
        let unit = unit.as_ref().map(|(_, u)| u.clone()).unwrap_or_default();
        let available = level.available().normalize().to_string();
        let row = [
            sku.to_string(),
            location.to_string(),
            level.on_hand.normalize().to_string(),
            level.reserved.normalize().to_string(),
            available,
            unit,
        ];
        if sink.format == Format::Json {
            let item: serde_json::Map<String, Value> = STOCK_COLUMNS
                .iter()
                .zip(row)
                .map(|(c, v)| ((*c).to_owned(), Value::String(v)))
                .collect();
            return sink.json(&item);
        }
        sink.row(&row)
    })?;
    sink.finish()
}

/// A movement as CSV: one row per line, the movement's fields repeated.
fn movement_rows<W: Write>(
    sink: &mut Sink<W>,
    movement: &crate::domain::ledger::Movement,
) -> Result<(), AppError> {
    let value = serde_json::to_value(movement).map_err(io)?;
    for line in value["lines"].as_array().into_iter().flatten() {
        let row: Vec<String> = MOVEMENT_COLUMNS
            .iter()
            .map(|c| match *c {
                "movement" => text(&value["id"]),
                "sku" | "quantity" | "unit" | "counted" | "reason" => text(&line[*c]),
                other => text(&value[other]),
            })
            .collect();
        sink.row(&row)?;
    }
    Ok(())
}

/// Most exports streamed at once: each holds a blocking thread and a read
/// snapshot (whose pages the store keeps) until its client has read it all.
pub const EXPORTS: usize = 4;
/// Most exports one caller streams at once.
pub const EXPORTS_PER_CLIENT: usize = 2;

impl App {
    /// A place for an export of `caller`'s, held until the export ends:
    /// refused (429) past [`EXPORTS_PER_CLIENT`] for the caller, (503) past
    /// [`EXPORTS`] in all.
    pub fn export_slot(&self, caller: &Principal) -> Result<Slot, AppError> {
        self.inner
            .exports
            .take(Holder::Principal(caller.actor.as_str().to_owned()))
    }

    /// Streams an export from one snapshot into `out` off the async runtime.
    pub async fn export_to<W: Write + Send + 'static>(
        &self,
        kind: ExportKind,
        format: Format,
        decimal: Option<DecimalMark>,
        out: W,
    ) -> Result<u64, AppError> {
        // Without a choice, as the shop's locale writes decimals.
        let decimal = decimal.unwrap_or_else(|| DecimalMark::of(&self.config().shop.locale()));
        self.read(move |tx| export(tx, kind, format, decimal, out))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_written_the_way_imports_read_them() {
        assert_eq!(
            cell(
                "packs",
                &json!([{"name": "bag", "quantity": "25", "unit": "kg"}]),
                DecimalMark::Dot
            ),
            "bag=25 kg"
        );
        assert_eq!(
            cell(
                "price_breaks",
                &json!([{"min_quantity": "10", "price": "36.1"}]),
                DecimalMark::Dot
            ),
            "10=36.1"
        );
        assert_eq!(cell("tags", &json!(["a", "b"]), DecimalMark::Dot), "a; b");
        assert_eq!(
            cell("attributes", &json!({"size": "0-4 mm"}), DecimalMark::Dot),
            "size=0-4 mm"
        );
        // A value with a separator keeps its JSON form.
        assert_eq!(
            cell("attributes", &json!({"mix": "1:3; wet"}), DecimalMark::Dot),
            r#"{"mix":"1:3; wet"}"#
        );
        assert_eq!(cell("cost", &Value::Null, DecimalMark::Dot), "");
        // With a decimal comma, the numbers inside cells too.
        assert_eq!(
            cell(
                "price_breaks",
                &json!([{"min_quantity": "10", "price": "36.1"}]),
                DecimalMark::Comma
            ),
            "10=36,1"
        );
        assert_eq!(
            cell(
                "reorder_points",
                &json!({"YARD": "2.5"}),
                DecimalMark::Comma
            ),
            "YARD=2,5"
        );
    }
}
