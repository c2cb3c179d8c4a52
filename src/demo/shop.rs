//! `quarry demo`'s shop: the generated catalogue dressed for sale (costs,
//! barcodes, packs, price breaks, tax classes), three locations, about ninety
//! days of stock history, and two accounts. The same seed gives the same shop;
//! only the dates follow the day it is made.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::Rng;
use crate::app::AppError;
use crate::app::accounts::local as accounts;
use crate::app::catalogue::{create_in, create_location_in};
use crate::app::ledger::book_input;
use crate::config::ShopConfig;
use crate::domain::accounts::{Actor, Password, Role, Username};
use crate::domain::catalogue::ProductInput;
use crate::domain::images;
use crate::domain::ledger::MovementInput;
use crate::domain::locations::LocationInput;
use crate::store::Store;

/// The demo's owner account (name, password): printed at start.
pub const OWNER: (&str, &str) = ("owner", "quarry-demo-owner");
/// The demo's staff account (name, password).
pub const STAFF: (&str, &str) = ("yard", "quarry-demo-staff");
/// The demo's trade contact (login, password): a buyer at Harbour
/// Groundworks, who buys at trade list A.
pub const TRADE: (&str, &str) = ("dave@harbour.example", "quarry-demo-trade");
/// Products in the demo catalogue.
pub const PRODUCTS: usize = 360;
/// Days of stock history.
pub const DAYS: i64 = 90;
/// The demo's locations: code, name.
pub const LOCATIONS: [(&str, &str); 3] = [
    ("YARD", "Main yard"),
    ("WH1", "Covered warehouse"),
    ("SHOP", "Trade counter"),
];

/// What [`seed`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub products: usize,
    pub movements: usize,
    /// The SKUs quotes can be made for (in stock at the end).
    pub skus: Vec<String>,
}

/// Fills an empty store with the demo shop as of `now`.
pub fn seed(
    store: &Store,
    shop: &ShopConfig,
    seed: u64,
    now: Timestamp,
) -> Result<Seeded, AppError> {
    for ((name, password), role) in [(OWNER, Role::Owner), (STAFF, Role::Staff)] {
        let username = Username::parse(name).map_err(AppError::field("username"))?;
        let password = Password::parse(password.to_owned()).map_err(AppError::field("password"))?;
        accounts::add_user(store, username, role, &password)?;
    }
    let mut rng = Rng::new(seed);
    let products: Vec<Value> = super::generate(seed, PRODUCTS)
        .into_iter()
        .enumerate()
        .map(|(i, p)| for_sale(p, i, &mut rng))
        .collect();
    let actor = Actor::system();
    let seeded = store.write(|tx| {
        for (code, name) in LOCATIONS {
            let input: LocationInput = serde_json::from_value(json!({"code": code, "name": name}))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            create_location_in(tx, &actor, input)?;
        }
        // Two delivery zones: the town near the yard, and the county around
        // it (its shorter prefix covers the rest of AB).
        let classes: Vec<String> = shop.tax_rates().into_keys().collect();
        for zone in [
            json!({"code": "TOWN", "name": "Town (AB1–AB3)", "postcodes": ["AB1", "AB2", "AB3"],
                   "per_load": "45.00", "minimum": "45.00", "vehicle_capacity_t": "10"}),
            json!({"code": "COUNTY", "name": "County (AB, CD)", "postcodes": ["AB", "CD"],
                   "per_load": "85.00", "per_tonne": "2.50", "minimum": "85.00",
                   "vehicle_capacity_t": "20"}),
        ] {
            let input: crate::domain::delivery::ZoneInput =
                serde_json::from_value(zone).map_err(|e| AppError::Internal(e.to_string()))?;
            let code = input.code.clone().expect("demo zones have codes");
            crate::app::delivery::create_zone_in(tx, &actor, code, input, &classes)?;
        }
        trade_customers(tx, &actor)?;
        let mut stock = Vec::with_capacity(products.len());
        // One drawing per category, made and stored once, shared by the
        // category's products (a shared id: removing it from one product
        // leaves the others theirs).
        let mut drawings: BTreeMap<String, crate::domain::images::ProductImage> = BTreeMap::new();
        for product in &products {
            let input: ProductInput = serde_json::from_value(product.clone())
                .map_err(|e| AppError::Internal(format!("demo product {product}: {e}")))?;
            let sku = input.sku.clone().expect("demo products have SKUs");
            let unit = product["unit"].as_str().unwrap_or("pc").to_owned();
            // One drawing per top-level category ("Aggregates").
            let category = input.category.to_string();
            let category = category.split('/').next().unwrap_or_default().to_owned();
            let name = input.name.to_string();
            create_in(tx, &actor, shop, sku.clone(), input)?;
            if !drawings.contains_key(&category) {
                let drawing = super::photos::small(&super::photos::picture(&category));
                let drawn = images::from_picture(&drawing, "demo")
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let hash = crate::auth::hex(&sha2::Sha256::digest(category.as_bytes()));
                let id = format!("{}{}", images::SHARED_PREFIX, &hash[..12]);
                tx.put_image_file(&images::file_key(&id, false), &drawn.display)?;
                tx.put_image_file(&images::file_key(&id, true), &drawn.thumb)?;
                let image = images::ProductImage::new(id, String::new(), drawn.width, drawn.height);
                drawings.insert(category.clone(), image);
            }
            let mut made = tx.product(&sku)?.expect("just created");
            let mut image = drawings[&category].clone();
            image.alt = name;
            made.images = vec![image];
            tx.put_product(&made)?;
            stock.push((sku.as_str().to_owned(), unit));
        }
        let history = History::new(&stock, seed);
        let mut movements = 0;
        for (at, input) in history.movements(now) {
            let input: MovementInput = serde_json::from_value(input)
                .map_err(|e| AppError::Internal(format!("demo movement: {e}")))?;
            book_input(tx, &actor, input, Some(at))?;
            movements += 1;
        }
        let skus = stock.iter().map(|(sku, _)| sku.clone()).collect();
        Ok::<_, AppError>(Seeded {
            products: products.len(),
            movements,
            skus,
        })
    })?;
    let password = Password::parse(TRADE.1.to_owned()).map_err(AppError::field("password"))?;
    accounts::add_contact(
        store,
        &crate::domain::customers::CustomerCode::parse("HARBOUR")
            .map_err(AppError::field("customer"))?,
        (
            &crate::domain::quotes::Email::parse(TRADE.0).map_err(AppError::field("email"))?,
            &crate::domain::quotes::ContactName::parse("Dave Marsh")
                .map_err(AppError::field("name"))?,
        ),
        &password,
    )?;
    Ok(seeded)
}

/// Customers who asked for quotes.
const CUSTOMERS: [(&str, &str); 5] = [
    (
        "Harbour Groundworks Ltd",
        "orders@harbour-groundworks.example",
    ),
    ("M. Okafor Builders", "m.okafor@builders.example"),
    ("Greenlane Landscaping", "quotes@greenlane.example"),
    ("Castle Street Renovations", "office@castlestreet.example"),
    ("P. Lindqvist", "p.lindqvist@mail.example"),
];

/// Two trade customers with price lists: a builder whose list takes 7% off
/// all aggregates and 10% off bulk sand from 20 t, and a landscaper with 5%
/// off everything and 12% off timber.
fn trade_customers(tx: &mut crate::store::WriteTx, actor: &Actor) -> Result<(), AppError> {
    use crate::app::customers::{create_customer_in, create_price_list_in};
    let internal = |e: serde_json::Error| AppError::Internal(format!("demo trade customers: {e}"));
    for list in [
        json!({"code": "TRADE-A", "name": "Trade list A", "rules": [
            {"category": "Aggregates", "percent_off": "7"},
            {"category": "Aggregates/Sand", "percent_off": "10", "min_quantity": "20"},
        ]}),
        json!({"code": "TRADE-B", "name": "Trade list B", "rules": [
            {"percent_off": "5"},
            {"category": "Timber", "percent_off": "12"},
        ]}),
    ] {
        let input: crate::domain::customers::PriceListInput =
            serde_json::from_value(list).map_err(internal)?;
        let code = input.code.clone().expect("demo lists have codes");
        create_price_list_in(tx, actor, code, input)?;
    }
    for customer in [
        json!({"code": "HARBOUR", "name": "Harbour Groundworks Ltd", "tax_number": "GB 284 1130 52",
               "billing_address": "Harbour Groundworks Ltd\nQuay Road 12\nAB1 4QR Northtown",
               "delivery_addresses": ["Site: Marina Phase 2\nQuay Road\nAB1 4QS Northtown"],
               "payment_terms": "30 days net", "price_list": "TRADE-A",
               "notes": "Site contact: Dave, 07700 900123. Gate code 4411."}),
        json!({"code": "GREENLANE", "name": "Greenlane Landscaping", "tax_number": "GB 731 0042 19",
               "billing_address": "Greenlane Landscaping\nMill Lane 3\nCD4 1AA Eastham",
               "payment_terms": "14 days net", "price_list": "TRADE-B"}),
    ] {
        let input: crate::domain::customers::CustomerInput =
            serde_json::from_value(customer).map_err(internal)?;
        let code = input.code.clone().expect("demo customers have codes");
        create_customer_in(tx, actor, code, input)?;
    }
    Ok(())
}

/// Saves a few quotes through the running application: three open, two
/// accepted. Returns their numbers.
pub async fn seed_quotes(
    app: &crate::app::App,
    skus: &[String],
    seed: u64,
) -> Result<Vec<String>, AppError> {
    use crate::app::Principal;
    use crate::app::idempotency::Answer;
    use crate::app::quotes::QuoteRequest;
    use crate::domain::quotes::QuoteAction;

    let staff = Principal::new(
        Role::Staff,
        Actor::user(&Username::parse(STAFF.0).map_err(AppError::field("username"))?),
    );
    let mut rng = Rng::new(seed ^ 0x07E5);
    let mut numbers = Vec::new();
    for (i, (name, email)) in CUSTOMERS.iter().enumerate() {
        let lines: Vec<Value> = (0..=rng.below(3))
            .map(|_| json!({"sku": rng.pick(skus), "quantity": (1 + rng.below(5)).to_string()}))
            .collect();
        let mut unique: Vec<Value> = Vec::new();
        for line in lines {
            if !unique.iter().any(|l| l["sku"] == line["sku"]) {
                unique.push(line);
            }
        }
        let request: QuoteRequest = serde_json::from_value(json!({
            "lines": unique,
            "contact": {"name": name, "email": email},
            "note": "Delivery to site, please.",
        }))
        .map_err(|e| AppError::Internal(format!("demo quote: {e}")))?;
        let number = match app.create_quote(Some(&staff), request, None, None).await? {
            Answer::Fresh(view) => view.number.to_string(),
            Answer::Replayed { .. } => continue,
        };
        if i >= 3 {
            app.quote_action(&staff, &number, QuoteAction::Accept)
                .await?;
        }
        numbers.push(number);
    }
    numbers.extend(trade_quotes(app, &staff, skus).await?);
    Ok(numbers)
}

/// The trade customers' history: Harbour's accepted order of sand and
/// gravel for their site (to deliver in loads) and an open one for bulk
/// sand; Greenlane's open order of timber.
async fn trade_quotes(
    app: &crate::app::App,
    staff: &crate::app::Principal,
    skus: &[String],
) -> Result<Vec<String>, AppError> {
    use crate::app::idempotency::Answer;
    use crate::app::quotes::QuoteRequest;
    use crate::domain::quotes::QuoteAction;

    let orders = [
        (
            "HARBOUR",
            "Dave Marsh",
            TRADE.0,
            vec![("SAND-04", "6"), ("GRAV-0816", "4")],
            true,
        ),
        (
            "HARBOUR",
            "Dave Marsh",
            TRADE.0,
            vec![("SAND-04", "25")],
            false,
        ),
        (
            "GREENLANE",
            "Priya Shah",
            "priya@greenlane.example",
            vec![("TIM-47100", "40"), ("SAND-BLD", "2")],
            false,
        ),
    ];
    let mut numbers = Vec::new();
    for (customer, name, email, lines, accept) in orders {
        let lines: Vec<Value> = lines
            .into_iter()
            .filter(|(sku, _)| skus.iter().any(|s| s == sku))
            .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let request: QuoteRequest = serde_json::from_value(json!({
            "lines": lines,
            "contact": {"name": name, "email": email},
            "customer": customer,
            "delivery": {"postcode": "AB1 4QS"},
        }))
        .map_err(|e| AppError::Internal(format!("demo trade quote: {e}")))?;
        let number = match app.create_quote(Some(staff), request, None, None).await? {
            Answer::Fresh(view) => view.number.to_string(),
            Answer::Replayed { .. } => continue,
        };
        if accept {
            app.quote_action(staff, &number, QuoteAction::Accept)
                .await?;
        }
        numbers.push(number);
    }
    Ok(numbers)
}

fn money(value: Decimal) -> String {
    value.round_dp(2).normalize().to_string()
}

/// An EAN-13 in the in-store range (prefix 20), from `n`.
fn barcode(n: usize) -> String {
    let body = format!("20{:010}", n % 10_000_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Dresses a catalogue product for sale: a cost, a barcode, a tax class,
/// and the packs and price breaks a yard offers for its unit.
fn for_sale(mut product: Value, i: usize, rng: &mut Rng) -> Value {
    let price: Decimal = product["price"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .unwrap_or(Decimal::ONE);
    let margin = Decimal::new(55 + i64::try_from(rng.below(20)).unwrap_or(0), 2);
    let unit = product["unit"].as_str().unwrap_or("pc").to_owned();
    let category = product["category"].as_str().unwrap_or_default().to_owned();
    let breaks = |at: [u32; 2]| {
        json!([
            {"min_quantity": at[0].to_string(), "price": money(price * Decimal::new(95, 2))},
            {"min_quantity": at[1].to_string(), "price": money(price * Decimal::new(90, 2))},
        ])
    };
    let fields = product.as_object_mut().expect("products are objects");
    fields.insert("cost".into(), json!(money(price * margin)));
    fields.insert("barcode".into(), json!(barcode(i + 1)));
    // Energy-saving materials carry the reduced rate in many countries.
    let tax = if category.starts_with("Insulation") {
        "reduced"
    } else {
        "standard"
    };
    fields.insert("tax_class".into(), json!(tax));
    match unit.as_str() {
        "kg" => {
            fields.insert(
                "packs".into(),
                json!([
                    {"name": "bag", "quantity": "25", "unit": "kg"},
                    {"name": "pallet", "quantity": "40", "unit": "bag"},
                ]),
            );
            fields.insert("price_breaks".into(), breaks([1000, 5000]));
        }
        "t" => {
            fields.insert(
                "packs".into(),
                json!([{"name": "bulk bag", "quantity": "0.85", "unit": "t"}]),
            );
            fields.insert("price_breaks".into(), breaks([10, 25]));
        }
        "m" => {
            fields.insert(
                "packs".into(),
                json!([{"name": "bundle", "quantity": "60", "unit": "m"}]),
            );
            fields.insert("price_breaks".into(), breaks([300, 1200]));
        }
        "m2" => {
            fields.insert("price_breaks".into(), breaks([100, 400]));
        }
        "l" => {
            fields.insert("price_breaks".into(), breaks([60, 200]));
        }
        _ => {
            fields.insert("price_breaks".into(), breaks([50, 250]));
        }
    }
    product
}

/// Typical quantities for a unit: (a delivery, a customer order) ranges.
fn sizes(unit: &str) -> ((u32, u32), (u32, u32)) {
    match unit {
        "t" => ((20, 60), (1, 12)),
        "kg" => ((2000, 8000), (50, 1000)),
        "m" => ((300, 1200), (6, 120)),
        "m2" => ((100, 400), (5, 60)),
        "l" => ((60, 240), (1, 20)),
        _ => ((100, 600), (1, 60)),
    }
}

/// The yard's days: deliveries, customer orders, transfers to the counter,
/// weekly counts; never taking more than a location holds.
struct History<'a> {
    products: &'a [(String, String)],
    rng: Rng,
    levels: BTreeMap<(usize, &'static str), u32>,
}

impl<'a> History<'a> {
    fn new(products: &'a [(String, String)], seed: u64) -> Self {
        Self {
            products,
            rng: Rng::new(seed ^ 0x5EED),
            levels: BTreeMap::new(),
        }
    }

    fn between(&mut self, (lo, hi): (u32, u32)) -> u32 {
        lo + u32::try_from(self.rng.below(usize::try_from(hi - lo + 1).unwrap_or(1))).unwrap_or(0)
    }

    fn receive(&mut self, location: &'static str, picks: &[usize], reference: &str) -> Value {
        let lines: Vec<Value> = picks
            .iter()
            .map(|&p| {
                let (delivery, _) = sizes(&self.products[p].1);
                let quantity = self.between(delivery);
                *self.levels.entry((p, location)).or_default() += quantity;
                json!({"sku": self.products[p].0, "quantity": quantity.to_string()})
            })
            .collect();
        json!({"kind": "receive", "location": location, "reference": reference, "lines": lines})
    }

    /// Lines taking at most what `location` holds; `None` when nothing is there.
    fn take(&mut self, location: &'static str, picks: &[usize]) -> Option<Vec<Value>> {
        let mut lines = Vec::new();
        for &p in picks {
            let (_, order) = sizes(&self.products[p].1);
            let want = self.between(order);
            let held = self.levels.get(&(p, location)).copied().unwrap_or(0);
            let quantity = want.min(held);
            if quantity == 0 || lines.iter().any(|l: &Value| l["sku"] == self.products[p].0) {
                continue;
            }
            *self.levels.get_mut(&(p, location)).expect("held") -= quantity;
            lines.push(json!({"sku": self.products[p].0, "quantity": quantity.to_string()}));
        }
        (!lines.is_empty()).then_some(lines)
    }

    fn picks(&mut self, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| self.rng.below(self.products.len()))
            .collect()
    }

    /// Every movement of the history, in time order, ending before `now`.
    fn movements(mut self, now: Timestamp) -> Vec<(Timestamp, Value)> {
        let start = now - SignedDuration::from_hours(24 * DAYS);
        let mut out = Vec::new();
        // Opening stock: every product somewhere, most in the yard.
        let all: Vec<usize> = (0..self.products.len()).collect();
        for (i, chunk) in all.chunks(120).enumerate() {
            let at = start + SignedDuration::from_mins(i64::try_from(i).unwrap_or(0));
            out.push((at, self.receive("YARD", chunk, "Opening stock")));
        }
        let indoor: Vec<usize> = all.iter().copied().filter(|p| p % 3 == 0).collect();
        out.push((
            start + SignedDuration::from_mins(10),
            self.receive("WH1", &indoor, "Opening stock"),
        ));
        let counter: Vec<usize> = all.iter().copied().filter(|p| p % 5 == 0).collect();
        out.push((
            start + SignedDuration::from_mins(20),
            self.receive("SHOP", &counter, "Opening stock"),
        ));
        let mut order = 1000;
        for day in 1..DAYS {
            // Working hours, 07:00 onwards, an event every 20–60 minutes.
            let mut at = start + SignedDuration::from_hours(24 * day + 7);
            let mut next = |rng: &mut Rng| {
                at += SignedDuration::from_mins(20 + i64::try_from(rng.below(40)).unwrap_or(0));
                at
            };
            if day % 2 == 1 {
                let location = if day % 4 == 1 { "YARD" } else { "WH1" };
                let n = 3 + self.rng.below(4);
                let picks = self.picks(n);
                let note = format!("Delivery note DN-{:05}", 20_000 + day);
                let movement = self.receive(location, &picks, &note);
                out.push((next(&mut self.rng), movement));
            }
            for _ in 0..5 + self.rng.below(5) {
                let location = if self.rng.below(3) == 0 {
                    "SHOP"
                } else {
                    "YARD"
                };
                let n = 1 + self.rng.below(3);
                let picks = self.picks(n);
                if let Some(lines) = self.take(location, &picks) {
                    order += 1;
                    let movement = json!({
                        "kind": "ship", "location": location,
                        "reference": format!("SO-{order}"), "lines": lines,
                    });
                    out.push((next(&mut self.rng), movement));
                }
            }
            if day % 3 == 0 {
                let n = 2 + self.rng.below(3);
                let picks = self.picks(n);
                if let Some(lines) = self.take("WH1", &picks) {
                    for line in &lines {
                        let sku = line["sku"].as_str().unwrap_or_default();
                        let p = self.products.iter().position(|(s, _)| s == sku);
                        let quantity: u32 = line["quantity"]
                            .as_str()
                            .and_then(|q| q.parse().ok())
                            .unwrap_or(0);
                        if let Some(p) = p {
                            *self.levels.entry((p, "SHOP")).or_default() += quantity;
                        }
                    }
                    let movement = json!({
                        "kind": "transfer", "from": "WH1", "to": "SHOP",
                        "reference": format!("TR-{day:03}"), "lines": lines,
                    });
                    out.push((next(&mut self.rng), movement));
                }
            }
            if day % 7 == 0 {
                let picks = self.picks(2);
                let mut lines = Vec::new();
                for p in picks {
                    let held = self.levels.get(&(p, "YARD")).copied().unwrap_or(0);
                    let found = held.saturating_sub(u32::from(held > 10));
                    if lines.iter().any(|l: &Value| l["sku"] == self.products[p].0) {
                        continue;
                    }
                    self.levels.insert((p, "YARD"), found);
                    lines.push(json!({
                        "sku": self.products[p].0, "counted": found.to_string(),
                        "reason": "Weekly stock count",
                    }));
                }
                let movement = json!({"kind": "adjust", "location": "YARD", "lines": lines});
                out.push((next(&mut self.rng), movement));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_carry_a_valid_ean_13_check_digit() {
        // 2000000000015: the check digit of 200000000001 is 5.
        assert_eq!(barcode(1), "2000000000015");
        assert_eq!(barcode(42).len(), 13);
    }

    #[test]
    fn the_demo_shop_is_valid_deterministic_and_has_history() {
        let make = || {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
            let seeded = seed(&store, &ShopConfig::default(), 7, now).unwrap();
            let tx = store.read().unwrap();
            let first = tx.movement(1).unwrap().unwrap();
            let last = tx.movement(seeded.movements as u64).unwrap().unwrap();
            drop(tx);
            drop(store);
            let report = crate::store::check(dir.path()).unwrap();
            assert!(report.problems.is_empty(), "{:?}", report.problems);
            (seeded, first.at, last.at, report.products, report.locations)
        };
        let (seeded, first, last, products, locations) = make();
        assert_eq!(products, PRODUCTS as u64);
        assert_eq!(locations, 3);
        assert!(seeded.movements > 400, "{}", seeded.movements);
        let span = last.duration_since(first);
        assert!(span > SignedDuration::from_hours(24 * 85), "{span:?}");
        assert_eq!(make().0, seeded, "the same seed gives the same shop");
    }
}
