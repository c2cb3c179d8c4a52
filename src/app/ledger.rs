//! Stock use cases: booking movements (with idempotency), reversing them, and
//! reading levels and history. Every booking checks all its lines against the
//! levels inside its transaction, then writes the movement, the new levels and
//! their change-log entries together.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorCode;
use super::cursor::Listing;
use super::idempotency::{Answer, Idempotency, once};
use super::{App, AppError, Principal, cursor};
use crate::config::PublicAvailability;
use crate::domain::accounts::Actor;
use crate::domain::catalogue::{Product, ProductName};
use crate::domain::ledger::{
    self, Availability, Draft, Level, Line, MAX_LINES, Movement, MovementInput, MovementKind,
    Place, StockError,
};
use crate::domain::locations::LocationCode;
use crate::domain::units::Quantity;
use crate::domain::values::Sku;
use crate::store::{ChangeKind, LevelQuery, MovementQuery, ReadTx, WriteTx, payloads};

fn line_field(i: usize, name: &str) -> String {
    format!("lines[{i}].{name}")
}

/// Checks a location named in a movement: it must exist and, for new stock
/// work, be active.
fn usable_location(
    tx: &WriteTx,
    code: &LocationCode,
    field: &str,
    must_be_active: bool,
) -> Result<(), AppError> {
    match tx.location(code)? {
        None => Err(AppError::invalid(
            field,
            format!("there is no location {code}"),
        )),
        Some(l) if must_be_active && !l.active => Err(AppError::invalid(
            field,
            format!("location {code} is inactive"),
        )),
        Some(_) => Ok(()),
    }
}

/// Checks one line and converts its quantity into the product's stock unit.
fn prepare_line(
    tx: &WriteTx,
    kind: MovementKind,
    i: usize,
    line: ledger::LineInput,
) -> Result<(Line, Product), AppError> {
    let product = tx.product(&line.sku)?.ok_or_else(|| {
        AppError::invalid(
            line_field(i, "sku"),
            format!("there is no product {}", line.sku),
        )
    })?;
    let adjust = kind == MovementKind::Adjust;
    let invalid = |field: &str, reason: &str| Err(AppError::invalid(line_field(i, field), reason));
    let (entered, counted) = match (line.quantity, line.counted) {
        (Some(q), None) if adjust && q.value().is_zero() => {
            return invalid("quantity", "a change of zero changes nothing");
        }
        (Some(q), None) if !adjust && !q.is_positive() => {
            return invalid("quantity", "must be greater than zero");
        }
        (Some(q), None) => (q, None),
        (None, Some(c)) if adjust && c.value() < Decimal::ZERO => {
            return invalid("counted", "must not be negative");
        }
        (None, Some(c)) if adjust => (c, Some(c)),
        (None, Some(_)) => return invalid("counted", "is only for adjust; use `quantity`"),
        (Some(_), Some(_)) => return invalid("counted", "give `quantity` or `counted`, not both"),
        (None, None) => return invalid("quantity", "is required"),
    };
    if adjust && line.reason.is_none() {
        return invalid("reason", "an adjustment needs a reason");
    }
    let given = if counted.is_some() {
        "counted"
    } else {
        "quantity"
    };
    let stock_unit = crate::domain::units::UnitName::from(product.unit);
    let unit = line.unit.unwrap_or_else(|| stock_unit.clone());
    let converted = product
        .stock_quantity(entered.value(), &unit)
        .map_err(|e| {
            let field = if e.field == "quantity" {
                given
            } else {
                e.field
            };
            AppError::invalid(line_field(i, field), e.reason)
        })?
        .value;
    let converted = Quantity::new(converted).map_err(AppError::field(&line_field(i, given)))?;
    let line = Line {
        sku: product.sku.clone(),
        // A counted adjust's change is worked out against the level when booked.
        quantity: converted,
        unit: product.unit,
        entered: (unit != stock_unit).then_some(ledger::Entered {
            quantity: entered,
            unit,
        }),
        counted: counted.map(|_| converted),
        reason: line.reason,
    };
    Ok((line, product))
}

/// Turns a request into a draft: checks its shape, its locations and products,
/// and converts every quantity into the product's stock unit.
fn prepare(tx: &WriteTx, input: MovementInput) -> Result<(Draft, Vec<Product>), AppError> {
    let place = match (input.kind, input.location, input.from, input.to) {
        (MovementKind::Transfer, None, Some(from), Some(to)) => {
            if from == to {
                return Err(AppError::invalid("to", "must differ from `from`"));
            }
            usable_location(tx, &from, "from", true)?;
            usable_location(tx, &to, "to", true)?;
            Place::Between { from, to }
        }
        (MovementKind::Transfer, ..) => {
            return Err(AppError::invalid(
                "from",
                "a transfer needs `from` and `to` (and no `location`)",
            ));
        }
        (_, Some(location), None, None) => {
            usable_location(tx, &location, "location", true)?;
            Place::At { location }
        }
        (kind, ..) => {
            return Err(AppError::invalid(
                "location",
                format!("a {kind} needs `location` (and no `from` or `to`)"),
            ));
        }
    };
    if input.lines.is_empty() {
        return Err(AppError::invalid("lines", "must have at least one line"));
    }
    if input.lines.len() > MAX_LINES {
        return Err(AppError::invalid(
            "lines",
            format!("may have at most {MAX_LINES} lines"),
        ));
    }
    let mut lines = Vec::with_capacity(input.lines.len());
    let mut products = Vec::with_capacity(input.lines.len());
    for (i, line) in input.lines.into_iter().enumerate() {
        let (line, product) = prepare_line(tx, input.kind, i, line)?;
        // A count is what is there: two counts of one product in one
        // movement would silently keep only the later.
        if line.counted.is_some()
            && let Some(first) = lines
                .iter()
                .position(|l: &Line| l.counted.is_some() && l.sku == line.sku)
        {
            return Err(AppError::invalid(
                line_field(i, "counted"),
                format!(
                    "{} is counted again; it was counted in line {}: count each product once \
                     per movement",
                    line.sku,
                    first + 1
                ),
            ));
        }
        lines.push(line);
        products.push(product);
    }
    let draft = Draft {
        kind: input.kind,
        place,
        reference: input.reference,
        note: input.note,
        lines,
        reverses: None,
    };
    Ok((draft, products))
}

/// A line refused by the stock checks: a 409 naming the line's field (its
/// `counted` for a count, else its `quantity`).
fn stock_error(
    i: usize,
    field: &str,
    sku: &Sku,
    location: &LocationCode,
    error: &StockError,
) -> AppError {
    let code = match error {
        // Taking more than is available, whether to ship, reserve, move or
        // count it away from under a reservation.
        StockError::InsufficientStock { .. }
        | StockError::NotThereToMove { .. }
        | StockError::BelowReserved { .. } => ErrorCode::InsufficientStock,
        StockError::InsufficientReserved { .. } => ErrorCode::InsufficientReserved,
        StockError::NegativeOnHand { .. } => ErrorCode::NegativeStock,
    };
    AppError::Conflict {
        code,
        field: Some(line_field(i, field)),
        message: format!(
            "line {} ({sku} at {location}): {error}; nothing was booked",
            i + 1
        ),
    }
}

/// Checks every line of `draft` against the running `levels` (filled from the
/// transaction as needed) and applies it there; a counted adjust gets its change
/// worked out against the level at that point.
fn check_draft(
    tx: &WriteTx,
    draft: &mut Draft,
    products: &[Product],
    levels: &mut BTreeMap<(Sku, LocationCode), Level>,
) -> Result<(), AppError> {
    let backorder: BTreeMap<&Sku, bool> = products
        .iter()
        .map(|p| (&p.sku, p.allow_backorder))
        .collect();
    let level_of = |levels: &BTreeMap<(Sku, LocationCode), Level>,
                    sku: &Sku,
                    location: &LocationCode|
     -> Result<Level, AppError> {
        match levels.get(&(sku.clone(), location.clone())) {
            Some(level) => Ok(*level),
            None => Ok(tx.level(sku, location)?),
        }
    };
    if draft.kind == MovementKind::Adjust
        && let Place::At { location } = &draft.place
    {
        let mut scratch = levels.clone();
        for line in &mut draft.lines {
            if let Some(counted) = line.counted {
                let level = level_of(&scratch, &line.sku, location)?;
                line.quantity = Quantity::new((counted.value() - level.on_hand).normalize())
                    .map_err(AppError::field("quantity"))?;
                let mut next = level;
                next.on_hand = counted.value();
                scratch.insert((line.sku.clone(), location.clone()), next);
            }
        }
    }
    for effect in draft.effects() {
        let level = level_of(levels, &effect.sku, &effect.location)?;
        let allow = backorder.get(&effect.sku).copied().unwrap_or(false);
        let field = if draft.lines[effect.line].counted.is_some() {
            "counted"
        } else {
            "quantity"
        };
        let next = ledger::apply(level, &effect, allow)
            .map_err(|e| stock_error(effect.line, field, &effect.sku, &effect.location, &e))?;
        levels.insert((effect.sku.clone(), effect.location.clone()), next);
    }
    Ok(())
}

/// Books several movements as one: all are checked first (each against the
/// levels the ones before it leave), so none is written unless all can be.
pub(super) fn book_all(
    tx: &mut WriteTx,
    actor: &Actor,
    drafts: Vec<Draft>,
    products: &[Product],
) -> Result<Vec<Movement>, AppError> {
    let mut simulated = BTreeMap::new();
    for draft in &drafts {
        check_draft(tx, &mut draft.clone(), products, &mut simulated)?;
    }
    drafts
        .into_iter()
        .map(|draft| book(tx, actor, draft, products))
        .collect()
}

/// Checks every line of `draft` against the levels and books it: the movement,
/// its levels and its change-log entries.
pub(super) fn book(
    tx: &mut WriteTx,
    actor: &Actor,
    draft: Draft,
    products: &[Product],
) -> Result<Movement, AppError> {
    book_with(tx, actor, draft, products, None)
}

/// Checks and books a movement request in `tx`, dated `at` (default: now).
/// For imports and the demo's history: a date must not be older than the
/// newest movement's, so the ledger stays in time order.
pub fn book_input(
    tx: &mut WriteTx,
    actor: &Actor,
    input: MovementInput,
    at: Option<Timestamp>,
) -> Result<Movement, AppError> {
    let (draft, products) = prepare(tx, input)?;
    book_with(tx, actor, draft, &products, at)
}

fn book_with(
    tx: &mut WriteTx,
    actor: &Actor,
    mut draft: Draft,
    products: &[Product],
    at: Option<Timestamp>,
) -> Result<Movement, AppError> {
    let mut levels: BTreeMap<(Sku, LocationCode), Level> = BTreeMap::new();
    check_draft(tx, &mut draft, products, &mut levels)?;
    let last = tx.last_movement_at()?;
    let at = if let Some(at) = at {
        if let Some(last) = last.filter(|last| at < *last) {
            return Err(AppError::invalid(
                "at",
                format!(
                    "{at} is before the newest movement in the ledger ({last}); movements are \
                     booked in time order"
                ),
            ));
        }
        at
    } else {
        let now = Timestamp::now();
        last.map_or(now, |last| last.max(now))
    };
    // Every check passed: write.
    let id = tx.next_movement_id()?;
    let seq = tx.record(
        ChangeKind::MovementBooked,
        &id.to_string(),
        actor,
        &payloads::MovementBooked {
            id,
            kind: draft.kind,
        },
    )?;
    let movement = Movement {
        id,
        seq,
        at,
        kind: draft.kind,
        place: draft.place,
        reference: draft.reference,
        note: draft.note,
        actor: actor.clone(),
        lines: draft.lines,
        reverses: draft.reverses,
    };
    tx.append_movement(&movement)?;
    let by_sku: BTreeMap<&Sku, &Product> = products.iter().map(|p| (&p.sku, p)).collect();
    // Which levels were already below their reorder point, so that
    // `stock.low` is told once, when a level crosses it.
    let mut was_low = BTreeMap::new();
    for ((sku, location), level) in &levels {
        if let Some(product) = by_sku.get(sku) {
            let point = product.reorder_point_at(location).map(Quantity::value);
            if point.is_some() {
                let before = tx.level(sku, location)?.available();
                was_low.insert((sku, location), ledger::is_low(before, point));
            }
        }
        tx.put_level(sku, location, *level)?;
    }
    for ((sku, location), level) in &levels {
        let Some(product) = by_sku.get(sku) else {
            continue;
        };
        let total: Decimal = tx
            .levels_of(sku)?
            .iter()
            .map(|(_, l)| l.available())
            .sum::<Decimal>()
            .normalize();
        let point = product.reorder_point_at(location).map(Quantity::value);
        tx.record(
            ChangeKind::LevelChanged,
            &format!("{sku}@{location}"),
            actor,
            &payloads::LevelChanged {
                sku: (*sku).clone(),
                location: (*location).clone(),
                on_hand: level.on_hand,
                reserved: level.reserved,
                available: level.available(),
                low: ledger::is_low(level.available(), point),
                became_low: ledger::is_low(level.available(), point)
                    && !was_low.get(&(sku, location)).copied().unwrap_or(true),
                product_available: total,
                product_availability: Availability::of(
                    total,
                    product.reorder_point.map(Quantity::value),
                ),
            },
        )?;
    }
    Ok(movement)
}

/// A stock row of `GET /stock`: one product at one location.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockRow {
    pub sku: Sku,
    /// The product's name (absent only if its record is missing).
    #[schema(value_type = Option<String>)]
    pub name: Option<ProductName>,
    /// The stock unit the quantities are in.
    #[schema(value_type = Option<String>)]
    pub unit: Option<crate::domain::units::Unit>,
    pub location: LocationCode,
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    #[schema(value_type = String)]
    pub reserved: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
    /// Available is below the reorder point.
    pub low: bool,
    /// On hand in the pack the product is counted in (`8 bag`), for
    /// products with packs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packs: Option<InPacks>,
}

/// A quantity in one of the product's packs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InPacks {
    #[schema(value_type = String)]
    pub pack: crate::domain::units::UnitName,
    /// How many (two decimals at most).
    #[schema(value_type = String)]
    pub count: Decimal,
}

/// Totals of one product over all locations.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockTotals {
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    #[schema(value_type = String)]
    pub reserved: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
    pub low: bool,
}

/// `GET /products/{sku}/stock` for signed-in callers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProductStock {
    pub sku: Sku,
    #[schema(value_type = String)]
    pub unit: crate::domain::units::Unit,
    pub locations: Vec<StockRow>,
    pub totals: StockTotals,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// `GET /products/{sku}/stock` for anonymous callers: as much as the shop shows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
// Documented as closed (`additionalProperties: false`), so a staff view can
// never also pass for this one.
#[serde(deny_unknown_fields)]
pub struct PublicStock {
    pub sku: Sku,
    #[schema(value_type = String)]
    pub unit: crate::domain::units::Unit,
    /// `in_stock`, `low` or `out`; absent when the shop hides stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    /// The quantity available, when the shop shows exact stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub available: Option<Decimal>,
}

/// Stock of one product as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StockView {
    Staff(ProductStock),
    Public(PublicStock),
}

fn row(sku: &Sku, location: &LocationCode, level: Level, product: Option<&Product>) -> StockRow {
    let point = product
        .and_then(|p| p.reorder_point_at(location))
        .map(Quantity::value);
    StockRow {
        sku: sku.clone(),
        name: product.map(|p| p.name.clone()),
        unit: product.map(|p| p.unit),
        location: location.clone(),
        on_hand: level.on_hand,
        reserved: level.reserved,
        available: level.available(),
        low: ledger::is_low(level.available(), point),
        packs: product
            .and_then(|p| p.in_packs(level.on_hand))
            .map(|(pack, count)| InPacks { pack, count }),
    }
}

/// A movement as the API shows it: with the movement that reversed it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MovementView {
    #[serde(flatten)]
    pub movement: Movement,
    /// The movement that reversed this one (`reverses` links the other way).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<u64>,
}

/// The name and stock unit of a product, for pages that list SKUs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProductBrief {
    #[schema(value_type = String)]
    pub name: ProductName,
    #[schema(value_type = String)]
    pub unit: crate::domain::units::Unit,
}

/// A page of movements, with the products their lines name.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MovementListing {
    pub items: Vec<MovementView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Name and unit of every SKU on this page's lines.
    #[schema(value_type = std::collections::BTreeMap<String, ProductBrief>)]
    pub products: BTreeMap<Sku, ProductBrief>,
}

/// The reversal links and product briefs of some movements, read in two
/// statements whatever their number.
fn viewed(
    tx: &ReadTx,
    movements: Vec<Movement>,
) -> Result<(Vec<MovementView>, BTreeMap<Sku, ProductBrief>), AppError> {
    let reversals: BTreeMap<u64, u64> = match (
        movements.iter().map(|m| m.id).min(),
        movements.iter().map(|m| m.id).max(),
    ) {
        (Some(low), Some(high)) => tx.reversals_between(low, high)?.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    let skus: Vec<Sku> = movements
        .iter()
        .flat_map(|m| m.lines.iter().map(|l| l.sku.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let products = tx.products_many(&skus)?;
    let briefs = skus
        .into_iter()
        .zip(products)
        .filter_map(|(sku, p)| {
            p.map(|p| {
                (
                    sku,
                    ProductBrief {
                        name: p.name,
                        unit: p.unit,
                    },
                )
            })
        })
        .collect();
    let views = movements
        .into_iter()
        .map(|movement| MovementView {
            reversed_by: reversals.get(&movement.id).copied(),
            movement,
        })
        .collect();
    Ok((views, briefs))
}

/// The filters of `GET /stock`.
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    pub sku: Option<String>,
    pub location: Option<String>,
    pub category: Option<String>,
    pub low: Option<bool>,
    pub as_of: Option<Timestamp>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// The filters of `GET /movements`.
#[derive(Debug, Clone, Default)]
pub struct MovementFilter {
    pub sku: Option<String>,
    pub location: Option<String>,
    pub kind: Option<MovementKind>,
    pub reference: Option<String>,
    pub since_seq: Option<u64>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub oldest_first: bool,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// The first `limit` rows `keep` accepts, their products read a chunk of rows
/// at a time (each distinct SKU once, one statement per chunk on PostgreSQL);
/// with the key of the last row looked at when rows remain after it.
#[allow(clippy::type_complexity)]
fn with_products(
    tx: &ReadTx,
    rows: &[(Sku, LocationCode, Level)],
    limit: usize,
    keep: impl Fn(&Sku, &LocationCode, &Level, Option<&Product>) -> Option<StockRow>,
) -> Result<(Vec<StockRow>, Option<(String, String)>), AppError> {
    let mut products: BTreeMap<Sku, Option<Product>> = BTreeMap::new();
    let mut items = Vec::new();
    for (i, (s, l, level)) in rows.iter().enumerate() {
        if !products.contains_key(s) {
            let chunk: std::collections::BTreeSet<&Sku> = rows[i..]
                .iter()
                .map(|(s, _, _)| s)
                .filter(|s| !products.contains_key(*s))
                .take(limit.max(50))
                .collect();
            let chunk: Vec<Sku> = chunk.into_iter().cloned().collect();
            let found = tx.products_many(&chunk)?;
            products.extend(chunk.into_iter().zip(found));
        }
        if let Some(r) = keep(s, l, level, products.get(s).and_then(Option::as_ref)) {
            items.push(r);
            if items.len() == limit {
                let more = i + 1 < rows.len();
                return Ok((items, more.then(|| (s.to_string(), l.to_string()))));
            }
        }
    }
    Ok((items, None))
}

/// Levels computed from the ledger as it stood at `at`.
fn levels_as_of(
    tx: &ReadTx,
    sku: Option<&Sku>,
    at: Timestamp,
) -> Result<BTreeMap<(Sku, LocationCode), Level>, AppError> {
    let mut levels = BTreeMap::new();
    let mut add = |m: &Movement| {
        for effect in m.effects() {
            if sku.is_some_and(|s| *s != effect.sku) {
                continue;
            }
            let level: &mut Level = levels.entry((effect.sku, effect.location)).or_default();
            *level = level.plus(Level {
                on_hand: effect.on_hand,
                reserved: effect.reserved,
            });
        }
    };
    match sku {
        Some(sku) => tx.movements_of_until(sku, at)?.iter().for_each(&mut add),
        None => tx.for_each_movement_until(Some(at), &mut add)?,
    }
    Ok(levels)
}

impl App {
    /// Books a movement document: every line or none.
    pub async fn book_movement(
        &self,
        caller: &Principal,
        input: MovementInput,
        idempotency: Option<Idempotency>,
    ) -> Result<Answer<Movement>, AppError> {
        let actor = caller.actor.clone();
        self.write(move |tx| {
            once(tx, idempotency.as_ref(), |tx| {
                let (draft, products) = prepare(tx, input)?;
                book(tx, &actor, draft, &products)
            })
        })
        .await
    }

    /// Books the exact opposite of movement `id`, linked to it. A movement is
    /// reversed at most once.
    pub async fn reverse_movement(
        &self,
        caller: &Principal,
        id: u64,
        idempotency: Option<Idempotency>,
    ) -> Result<Answer<Movement>, AppError> {
        let actor = caller.actor.clone();
        self.write(move |tx| {
            once(tx, idempotency.as_ref(), |tx| {
                let original = tx.movement(id)?.ok_or_else(|| AppError::NotFound {
                    what: "movement",
                    key: id.to_string(),
                })?;
                if let Some(by) = tx.reversed_by(id)? {
                    return Err(AppError::Conflict {
                        code: ErrorCode::AlreadyReversed,
                        field: None,
                        message: format!("movement {id} was already reversed by movement {by}"),
                    });
                }
                let draft = Draft::reversal_of(&original);
                let mut products = Vec::new();
                for line in &draft.lines {
                    if let Some(p) = tx.product(&line.sku)? {
                        products.push(p);
                    }
                }
                book(tx, &actor, draft, &products)
            })
        })
        .await
    }

    pub async fn get_movement(&self, id: u64) -> Result<MovementView, AppError> {
        self.read(move |tx| {
            let Some(movement) = tx.movement(id)? else {
                return Ok(None);
            };
            Ok(Some(MovementView {
                reversed_by: tx.reversed_by(id)?,
                movement,
            }))
        })
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "movement",
            key: id.to_string(),
        })
    }

    /// Movement history, newest first (or oldest first).
    pub async fn list_movements(
        &self,
        filter: MovementFilter,
    ) -> Result<MovementListing, AppError> {
        let parse_sku =
            |s: &str| Sku::parse(s).map_err(|e| AppError::bad_request(Some("sku"), e.to_string()));
        let parse_loc = |s: &str| {
            LocationCode::parse(s)
                .map_err(|e| AppError::bad_request(Some("location"), e.to_string()))
        };
        let query = MovementQuery {
            sku: filter.sku.as_deref().map(parse_sku).transpose()?,
            location: filter.location.as_deref().map(parse_loc).transpose()?,
            reference: filter.reference.map(|r| r.trim().to_owned()),
            kind: filter.kind,
            since_seq: filter.since_seq,
            from: filter.from,
            until: filter.until,
            oldest_first: filter.oldest_first,
            cursor: filter
                .cursor
                .as_deref()
                .map(cursor::decode::<u64>)
                .transpose()?,
            limit: cursor::limit(filter.limit, 50, 500)?,
        };
        let (items, products, next) = self
            .read(move |tx| {
                let page = tx.movements_page(&query)?;
                let (items, products) = viewed(tx, page.items)?;
                Ok((items, products, page.next))
            })
            .await?;
        Ok(MovementListing {
            items,
            next_cursor: next.as_ref().map(cursor::encode),
            products,
        })
    }

    /// Levels per (SKU, location), in that order.
    pub async fn list_stock(&self, filter: StockFilter) -> Result<Listing<StockRow>, AppError> {
        let sku = filter
            .sku
            .as_deref()
            .map(|s| Sku::parse(s).map_err(|e| AppError::bad_request(Some("sku"), e.to_string())))
            .transpose()?;
        let location = filter
            .location
            .as_deref()
            .map(|s| {
                LocationCode::parse(s)
                    .map_err(|e| AppError::bad_request(Some("location"), e.to_string()))
            })
            .transpose()?;
        let category = filter
            .category
            .as_deref()
            .map(|c| c.trim().trim_matches('/').to_lowercase())
            .filter(|c| !c.is_empty());
        let after = filter
            .cursor
            .as_deref()
            .map(cursor::decode::<(String, String)>)
            .transpose()?;
        let limit = cursor::limit(filter.limit, 100, 1000)?;
        let (low, as_of) = (filter.low, filter.as_of);
        let page = self
            .read(move |tx| {
                let keep = |s: &Sku,
                            l: &LocationCode,
                            level: &Level,
                            product: Option<&Product>|
                 -> Option<StockRow> {
                    if location.as_ref().is_some_and(|want| want != l) {
                        return None;
                    }
                    if let Some(prefix) = &category {
                        let key = product.map(|p| p.category.match_key()).unwrap_or_default();
                        if !(key == *prefix || key.starts_with(&format!("{prefix}/"))) {
                            return None;
                        }
                    }
                    let r = row(s, l, *level, product);
                    low.is_none_or(|want| r.low == want).then_some(r)
                };
                let (rows, source_more): (Vec<(Sku, LocationCode, Level)>, bool) =
                    if let Some(at) = as_of {
                        let rows = levels_as_of(tx, sku.as_ref(), at)?
                            .into_iter()
                            .map(|((s, l), level)| (s, l, level))
                            .filter(|(s, l, _)| {
                                after.as_ref().is_none_or(|a| {
                                    (s.as_str(), l.as_str()) > (a.0.as_str(), a.1.as_str())
                                })
                            })
                            .collect();
                        (rows, false)
                    } else {
                        let page = tx.levels_page(&LevelQuery {
                            sku: sku.clone(),
                            location: location.clone(),
                            after: after.clone(),
                            limit: 5_000,
                        })?;
                        let more = page.next.is_some();
                        (page.items, more)
                    };
                let (items, next) = with_products(tx, &rows, limit, keep)?;
                // Past the rows read, the source has more: go on after the last.
                let next = next.or_else(|| {
                    rows.last()
                        .filter(|_| source_more)
                        .map(|(s, l, _)| (s.to_string(), l.to_string()))
                });
                Ok((items, next))
            })
            .await?;
        Ok(Listing {
            items: page.0,
            next_cursor: page.1.as_ref().map(cursor::encode),
        })
    }

    /// One product's stock: per location with totals for signed-in callers,
    /// public availability for everyone else.
    pub async fn product_stock(
        &self,
        caller: Option<&Principal>,
        sku: &str,
        as_of: Option<Timestamp>,
    ) -> Result<StockView, AppError> {
        let staff = caller.is_some_and(Principal::reads);
        let missing = || AppError::NotFound {
            what: "product",
            key: sku.to_owned(),
        };
        let sku = Sku::parse(sku).map_err(|_| missing())?;
        if as_of.is_some() && !staff {
            return Err(AppError::Forbidden(
                "stock history needs a signed-in caller".into(),
            ));
        }
        let mode = self.config().stock.public_availability;
        let key = sku.to_string();
        let (product, levels) = self
            .read(move |tx| {
                let Some(product) = tx.product(&sku)? else {
                    return Ok(None);
                };
                let levels: Vec<(LocationCode, Level)> = match as_of {
                    Some(at) => levels_as_of(tx, Some(&sku), at)?
                        .into_iter()
                        .map(|((_, l), level)| (l, level))
                        .collect(),
                    None => tx.levels_of(&sku)?,
                };
                Ok(Some((product, levels)))
            })
            .await?
            .ok_or_else(|| AppError::NotFound {
                what: "product",
                key,
            })?;
        let total = levels
            .iter()
            .fold(Level::default(), |acc, (_, l)| acc.plus(*l));
        let point = product.reorder_point.map(Quantity::value);
        if !staff {
            if !product.active {
                return Err(missing());
            }
            let availability = Availability::of(total.available(), point);
            return Ok(StockView::Public(PublicStock {
                sku: product.sku,
                unit: product.unit,
                availability: (mode != PublicAvailability::Hidden).then_some(availability),
                available: (mode == PublicAvailability::Exact)
                    .then_some(total.available().max(Decimal::ZERO)),
            }));
        }
        Ok(StockView::Staff(ProductStock {
            locations: levels
                .iter()
                .map(|(l, level)| row(&product.sku, l, *level, Some(&product)))
                .collect(),
            totals: StockTotals {
                on_hand: total.on_hand,
                reserved: total.reserved,
                available: total.available(),
                low: ledger::is_low(total.available(), point),
            },
            sku: product.sku,
            unit: product.unit,
            as_of,
        }))
    }
}
