//! The stock ledger's rules: movement kinds, what each does to the levels, the
//! checks a movement must pass, and what undoes it. Pure: the store keeps the
//! ledger and the levels, `app/` runs these rules against them.
//!
//! What a movement may take from a level (available = on hand − reserved):
//!
//! - Without backorders, available never goes below zero. Ship, reserve and
//!   transfer take only what is available; an adjustment down must leave at
//!   least what is reserved on hand (release the reservation first: cancel the
//!   quote that holds it, or book a release for stock reserved by hand).
//! - With backorders (`allow_backorder`), ship and reserve may take available
//!   below zero — that is what a backorder is — but a transfer never moves
//!   more than is available at its source (what is not there cannot be moved),
//!   and an adjustment down never takes on hand below zero.
//! - A release never releases more than is reserved, and nothing ever takes
//!   reserved below zero.
//!
//! A reversal is the opposite kind ([`MovementKind::opposite`]) and passes the
//! same checks: undoing a receive is a ship, undoing a transfer moves the stock
//! back from where it went.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::Actor;
use super::locations::LocationCode;
use super::rules::Rule;
use super::units::{Quantity, Unit, UnitName};
use super::values::{Sku, string_type};

/// What a movement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MovementKind {
    /// Stock arrives at a location.
    Receive,
    /// Stock leaves from a location.
    Ship,
    /// A correction: a counted level or a signed delta, always with a reason.
    Adjust,
    /// Stock moves from one location to another.
    Transfer,
    /// Stock is held for a customer without moving.
    Reserve,
    /// A hold is lifted.
    Release,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receive => "receive",
            MovementKind::Ship => "ship",
            MovementKind::Adjust => "adjust",
            MovementKind::Transfer => "transfer",
            MovementKind::Reserve => "reserve",
            MovementKind::Release => "release",
        }
    }

    /// The kind that undoes this one.
    #[must_use]
    pub fn opposite(self) -> Self {
        match self {
            MovementKind::Receive => MovementKind::Ship,
            MovementKind::Ship => MovementKind::Receive,
            MovementKind::Adjust => MovementKind::Adjust,
            MovementKind::Transfer => MovementKind::Transfer,
            MovementKind::Reserve => MovementKind::Release,
            MovementKind::Release => MovementKind::Reserve,
        }
    }
}

impl fmt::Display for MovementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

string_type!(
    /// A delivery note, order number or other outside reference: 1–100 characters.
    Reference,
    "DN-1042",
    Rule::Text {
        what: "reference",
        min: 1,
        max: 100,
        multiline: false
    }
);

string_type!(
    /// A short reason or note: 1–500 characters.
    Remark,
    "damaged on delivery",
    Rule::Text {
        what: "text",
        min: 1,
        max: 500,
        multiline: true
    }
);

/// One line of a movement request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub sku: Sku,
    /// How much, in `unit` (default: the product's stock unit). Positive, except
    /// for `adjust`, where it is a signed change (`"-2.5"`).
    pub quantity: Option<Quantity>,
    /// For `adjust` only, instead of `quantity`: the level counted, which
    /// replaces the current on-hand level.
    pub counted: Option<Quantity>,
    /// A unit or one of the product's packs (`bag`); default: the stock unit.
    pub unit: Option<UnitName>,
    /// Why; required for `adjust`.
    pub reason: Option<Remark>,
}

/// The body of `POST /movements`: one document with many lines, booked together
/// or not at all.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementInput {
    pub kind: MovementKind,
    /// The location, for every kind but `transfer`.
    pub location: Option<LocationCode>,
    /// For `transfer`: where the stock leaves.
    pub from: Option<LocationCode>,
    /// For `transfer`: where the stock arrives.
    pub to: Option<LocationCode>,
    pub reference: Option<Reference>,
    pub note: Option<Remark>,
    /// 1 to [`MAX_LINES`] lines.
    #[schema(min_items = 1, max_items = 1000)]
    pub lines: Vec<LineInput>,
}

/// Most lines one movement may have.
pub const MAX_LINES: usize = 1000;

/// A line as booked: the quantity in the product's stock unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    pub sku: Sku,
    /// In the product's stock unit. For `adjust` the signed change applied.
    pub quantity: Quantity,
    /// The stock unit `quantity` is in.
    pub unit: Unit,
    /// What was typed, when it was in another unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered: Option<Entered>,
    /// For a counted `adjust`: the level counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Remark>,
}

/// A quantity as entered, before conversion to the stock unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Entered {
    pub quantity: Quantity,
    pub unit: UnitName,
}

/// Where a movement happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Place {
    At {
        location: LocationCode,
    },
    Between {
        from: LocationCode,
        to: LocationCode,
    },
}

impl Place {
    pub fn locations(&self) -> Vec<&LocationCode> {
        match self {
            Place::At { location } => vec![location],
            Place::Between { from, to } => vec![from, to],
        }
    }
}

/// A booked movement: one document of the append-only ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Movement {
    pub id: u64,
    /// The change-log `seq` of its booking.
    pub seq: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub kind: MovementKind,
    #[serde(flatten)]
    pub place: Place,
    pub reference: Option<Reference>,
    pub note: Option<Remark>,
    #[schema(value_type = String)]
    pub actor: Actor,
    pub lines: Vec<Line>,
    /// The movement this one reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<u64>,
}

/// A movement about to be booked: everything but what the store assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub kind: MovementKind,
    pub place: Place,
    pub reference: Option<Reference>,
    pub note: Option<Remark>,
    pub lines: Vec<Line>,
    pub reverses: Option<u64>,
}

/// What a movement does to one (SKU, location) level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    /// Which line it comes from.
    pub line: usize,
    pub sku: Sku,
    pub location: LocationCode,
    pub on_hand: Decimal,
    pub reserved: Decimal,
    /// Whether the change takes stock that must be available.
    pub takes: Takes,
}

/// What a change needs of the level it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// Nothing (stock arrives).
    Nothing,
    /// Available stock, unless the product allows backorders (ship, reserve).
    Available,
    /// Available stock, backorders or not: stock that is there (transfer out).
    Present,
    /// Reserved stock (release).
    Reserved,
    /// On-hand stock: not below what is reserved, or with backorders not below
    /// zero (a downward adjust).
    OnHand,
}

impl Draft {
    /// The level changes, line by line, in order.
    pub fn effects(&self) -> Vec<Effect> {
        effects(self.kind, &self.place, &self.lines)
    }

    /// The movement that undoes `original`.
    pub fn reversal_of(original: &Movement) -> Self {
        let place = match &original.place {
            Place::At { location } => Place::At {
                location: location.clone(),
            },
            Place::Between { from, to } => Place::Between {
                from: to.clone(),
                to: from.clone(),
            },
        };
        let lines = original
            .lines
            .iter()
            .map(|line| Line {
                sku: line.sku.clone(),
                quantity: if original.kind == MovementKind::Adjust {
                    Quantity::new(-line.quantity.value()).expect("a negated quantity is valid")
                } else {
                    line.quantity
                },
                unit: line.unit,
                entered: None,
                counted: None,
                reason: Some(
                    Remark::parse(&format!("reversal of movement {}", original.id))
                        .expect("a valid remark"),
                ),
            })
            .collect();
        Self {
            kind: original.kind.opposite(),
            place,
            reference: original.reference.clone(),
            note: Some(
                Remark::parse(&format!("reverses movement {}", original.id)).expect("valid"),
            ),
            lines,
            reverses: Some(original.id),
        }
    }
}

impl Movement {
    pub fn effects(&self) -> Vec<Effect> {
        effects(self.kind, &self.place, &self.lines)
    }
}

fn effects(kind: MovementKind, place: &Place, lines: &[Line]) -> Vec<Effect> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let q = line.quantity.value();
        let effect = |location: &LocationCode, on_hand, reserved, takes| Effect {
            line: i,
            sku: line.sku.clone(),
            location: location.clone(),
            on_hand,
            reserved,
            takes,
        };
        match (kind, place) {
            (MovementKind::Transfer, Place::Between { from, to }) => {
                out.push(effect(from, -q, Decimal::ZERO, Takes::Present));
                out.push(effect(to, q, Decimal::ZERO, Takes::Nothing));
            }
            (_, Place::At { location }) => out.push(match kind {
                MovementKind::Ship => effect(location, -q, Decimal::ZERO, Takes::Available),
                MovementKind::Adjust if q < Decimal::ZERO => {
                    effect(location, q, Decimal::ZERO, Takes::OnHand)
                }
                MovementKind::Receive | MovementKind::Adjust => {
                    effect(location, q, Decimal::ZERO, Takes::Nothing)
                }
                MovementKind::Reserve => effect(location, Decimal::ZERO, q, Takes::Available),
                MovementKind::Release => effect(location, Decimal::ZERO, -q, Takes::Reserved),
                MovementKind::Transfer => unreachable!("a transfer is always between two places"),
            }),
            (_, Place::Between { .. }) => unreachable!("only a transfer is between two places"),
        }
    }
    out
}

/// Stock of one product at one location.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    #[serde(with = "rust_decimal::serde::str")]
    pub on_hand: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub reserved: Decimal,
}

impl Level {
    pub fn available(self) -> Decimal {
        (self.on_hand - self.reserved).normalize()
    }

    /// The same level without trailing zeros (`5.0` → `5`), as it is shown.
    #[must_use]
    pub fn normalized(self) -> Self {
        Self {
            on_hand: self.on_hand.normalize(),
            reserved: self.reserved.normalize(),
        }
    }

    /// The sum of two levels.
    #[must_use]
    pub fn plus(self, other: Level) -> Self {
        Self {
            on_hand: self.on_hand + other.on_hand,
            reserved: self.reserved + other.reserved,
        }
        .normalized()
    }

    pub fn is_empty(self) -> bool {
        self.on_hand.is_zero() && self.reserved.is_zero()
    }
}

/// Why a movement cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockError {
    /// Not enough available stock (ship, reserve).
    InsufficientStock {
        available: Decimal,
        requested: Decimal,
    },
    /// A transfer asks to move more than is available at its source.
    NotThereToMove {
        available: Decimal,
        requested: Decimal,
    },
    /// An adjustment down would leave less on hand than is reserved.
    BelowReserved {
        on_hand: Decimal,
        reserved: Decimal,
        change: Decimal,
    },
    /// Less reserved than the release asks for.
    InsufficientReserved {
        reserved: Decimal,
        requested: Decimal,
    },
    /// An adjustment would leave less than nothing on hand.
    NegativeOnHand { on_hand: Decimal, change: Decimal },
}

impl fmt::Display for StockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StockError::InsufficientStock {
                available,
                requested,
            } => write!(f, "only {available} available, {requested} requested"),
            StockError::NotThereToMove {
                available,
                requested,
            } => write!(
                f,
                "only {available} available to move, {requested} requested; a transfer \
                 moves only stock that is there, even for a product that allows backorders"
            ),
            StockError::BelowReserved {
                on_hand,
                reserved,
                change,
            } => write!(
                f,
                "{on_hand} on hand of which {reserved} reserved; a change of {change} would \
                 leave {} on hand, less than is reserved: release the reservation first \
                 (cancel the quote that holds it, or book a release for stock reserved by \
                 hand), then adjust",
                (*on_hand + *change).normalize()
            ),
            StockError::InsufficientReserved {
                reserved,
                requested,
            } => write!(f, "only {reserved} reserved, {requested} to release"),
            StockError::NegativeOnHand { on_hand, change } => write!(
                f,
                "{on_hand} on hand; a change of {change} would leave less than nothing"
            ),
        }
    }
}

/// Applies one effect to a level, checking what it takes (the rules of the
/// module's doc): with `allow_backorder`, ship and reserve may take available
/// stock below zero; nothing else may, and on hand and reserved never go
/// below zero.
pub fn apply(level: Level, effect: &Effect, allow_backorder: bool) -> Result<Level, StockError> {
    let next = Level {
        on_hand: level.on_hand + effect.on_hand,
        reserved: level.reserved + effect.reserved,
    }
    .normalized();
    let requested = -(effect.on_hand) + effect.reserved;
    match effect.takes {
        Takes::Available if !allow_backorder && level.available() < requested => {
            return Err(StockError::InsufficientStock {
                available: level.available(),
                requested,
            });
        }
        Takes::Present if level.available() < requested => {
            return Err(StockError::NotThereToMove {
                available: level.available(),
                requested,
            });
        }
        Takes::Reserved if next.reserved < Decimal::ZERO => {
            return Err(StockError::InsufficientReserved {
                reserved: level.reserved,
                requested: -effect.reserved,
            });
        }
        Takes::OnHand if next.on_hand < Decimal::ZERO => {
            return Err(StockError::NegativeOnHand {
                on_hand: level.on_hand,
                change: effect.on_hand,
            });
        }
        Takes::OnHand if !allow_backorder && next.on_hand < next.reserved => {
            return Err(StockError::BelowReserved {
                on_hand: level.on_hand,
                reserved: level.reserved,
                change: effect.on_hand,
            });
        }
        _ => {}
    }
    Ok(next)
}

/// The levels a list of movements adds up to, per (SKU, location): the
/// reference `quarry check` compares the stored levels with.
pub fn sum_levels<'a>(
    movements: impl IntoIterator<Item = &'a Movement>,
) -> BTreeMap<(Sku, LocationCode), Level> {
    let mut levels: BTreeMap<(Sku, LocationCode), Level> = BTreeMap::new();
    for movement in movements {
        for effect in movement.effects() {
            let level = levels.entry((effect.sku, effect.location)).or_default();
            *level = level.plus(Level {
                on_hand: effect.on_hand,
                reserved: effect.reserved,
            });
        }
    }
    levels
}

/// Public availability of a product, in the form the shop chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    InStock,
    Low,
    Out,
}

impl Availability {
    /// From the total available and the product's reorder point.
    pub fn of(available: Decimal, reorder_point: Option<Decimal>) -> Self {
        if available <= Decimal::ZERO {
            Availability::Out
        } else if reorder_point.is_some_and(|rp| available < rp) {
            Availability::Low
        } else {
            Availability::InStock
        }
    }
}

/// Whether `available` is below a reorder point (if there is one).
pub fn is_low(available: Decimal, reorder_point: Option<Decimal>) -> bool {
    reorder_point.is_some_and(|rp| available < rp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }
    fn loc(s: &str) -> LocationCode {
        LocationCode::parse(s).unwrap()
    }
    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }
    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn line(s: &str, quantity: &str) -> Line {
        Line {
            sku: sku(s),
            quantity: q(quantity),
            unit: Unit::Tonne,
            entered: None,
            counted: None,
            reason: None,
        }
    }

    fn movement(id: u64, kind: MovementKind, place: Place, lines: Vec<Line>) -> Movement {
        Movement {
            id,
            seq: id,
            at: Timestamp::UNIX_EPOCH,
            kind,
            place,
            reference: None,
            note: None,
            actor: Actor::system(),
            lines,
            reverses: None,
        }
    }

    #[test]
    fn each_kind_changes_the_level_it_should() {
        let yard = Place::At {
            location: loc("YARD"),
        };
        let cases = [
            (MovementKind::Receive, "5", (d("5"), d("0"))),
            (MovementKind::Ship, "5", (d("-5"), d("0"))),
            (MovementKind::Adjust, "-2", (d("-2"), d("0"))),
            (MovementKind::Reserve, "5", (d("0"), d("5"))),
            (MovementKind::Release, "5", (d("0"), d("-5"))),
        ];
        for (kind, quantity, (on_hand, reserved)) in cases {
            let m = movement(1, kind, yard.clone(), vec![line("A", quantity)]);
            let effects = m.effects();
            assert_eq!(effects.len(), 1);
            assert_eq!(
                (effects[0].on_hand, effects[0].reserved),
                (on_hand, reserved),
                "{kind}"
            );
        }
        let transfer = movement(
            1,
            MovementKind::Transfer,
            Place::Between {
                from: loc("A"),
                to: loc("B"),
            },
            vec![line("A", "3")],
        );
        let effects = transfer.effects();
        assert_eq!(effects[0].location, loc("A"));
        assert_eq!(effects[0].on_hand, d("-3"));
        assert_eq!(effects[1].location, loc("B"));
        assert_eq!(effects[1].on_hand, d("3"));
    }

    #[test]
    fn taking_more_than_is_available_is_refused_unless_backordered() {
        let level = Level {
            on_hand: d("10"),
            reserved: d("4"),
        };
        let ship = movement(
            1,
            MovementKind::Ship,
            Place::At { location: loc("Y") },
            vec![line("A", "7")],
        );
        let effect = &ship.effects()[0];
        assert_eq!(
            apply(level, effect, false),
            Err(StockError::InsufficientStock {
                available: d("6"),
                requested: d("7")
            })
        );
        assert_eq!(apply(level, effect, true).unwrap().on_hand, d("3"));
        let reserve = movement(
            1,
            MovementKind::Reserve,
            Place::At { location: loc("Y") },
            vec![line("A", "6")],
        );
        assert_eq!(
            apply(level, &reserve.effects()[0], false).unwrap().reserved,
            d("10")
        );
        let release = movement(
            1,
            MovementKind::Release,
            Place::At { location: loc("Y") },
            vec![line("A", "5")],
        );
        assert!(matches!(
            apply(level, &release.effects()[0], true),
            Err(StockError::InsufficientReserved { .. })
        ));
        let down = movement(
            1,
            MovementKind::Adjust,
            Place::At { location: loc("Y") },
            vec![line("A", "-11")],
        );
        assert!(matches!(
            apply(level, &down.effects()[0], false),
            Err(StockError::NegativeOnHand { .. })
        ));
    }

    fn at(kind: MovementKind, quantity: &str) -> Effect {
        movement(
            1,
            kind,
            Place::At { location: loc("Y") },
            vec![line("A", quantity)],
        )
        .effects()
        .remove(0)
    }

    fn transfer_out(quantity: &str) -> Effect {
        movement(
            1,
            MovementKind::Transfer,
            Place::Between {
                from: loc("Y"),
                to: loc("Z"),
            },
            vec![line("A", quantity)],
        )
        .effects()
        .remove(0)
    }

    fn level(on_hand: &str, reserved: &str) -> Level {
        Level {
            on_hand: d(on_hand),
            reserved: d(reserved),
        }
    }

    /// Hardening item 10: a count below the reserved amount left available at −1.
    #[test]
    fn an_adjustment_down_never_leaves_less_on_hand_than_is_reserved_without_backorders() {
        let held = level("10", "4");
        assert_eq!(
            apply(held, &at(MovementKind::Adjust, "-7"), false),
            Err(StockError::BelowReserved {
                on_hand: d("10"),
                reserved: d("4"),
                change: d("-7"),
            })
        );
        let message = apply(held, &at(MovementKind::Adjust, "-7"), false)
            .unwrap_err()
            .to_string();
        assert!(message.contains("4 reserved"), "{message}");
        assert!(
            message.contains("release the reservation first"),
            "{message}"
        );
        assert_eq!(
            apply(held, &at(MovementKind::Adjust, "-6"), false),
            Ok(level("4", "4")),
            "down to exactly what is reserved is fine"
        );
        // Already short (backorders were allowed, then not): nothing may go down.
        assert!(matches!(
            apply(level("2", "3"), &at(MovementKind::Adjust, "-1"), false),
            Err(StockError::BelowReserved { .. })
        ));
        assert_eq!(
            apply(level("2", "3"), &at(MovementKind::Adjust, "1"), false),
            Ok(level("3", "3"))
        );
        // Below zero is still `NegativeOnHand`, the more telling refusal.
        assert!(matches!(
            apply(held, &at(MovementKind::Adjust, "-11"), false),
            Err(StockError::NegativeOnHand { .. })
        ));
    }

    #[test]
    fn with_backorders_an_adjustment_down_may_cut_into_reservations_but_never_below_zero() {
        let held = level("10", "4");
        assert_eq!(
            apply(held, &at(MovementKind::Adjust, "-7"), true),
            Ok(level("3", "4"))
        );
        assert_eq!(
            apply(held, &at(MovementKind::Adjust, "-11"), true),
            Err(StockError::NegativeOnHand {
                on_hand: d("10"),
                change: d("-11"),
            })
        );
        // Sold short: on hand is below zero, and stays where shipping left it.
        assert!(matches!(
            apply(level("-3", "0"), &at(MovementKind::Adjust, "-1"), true),
            Err(StockError::NegativeOnHand { .. })
        ));
        assert_eq!(
            apply(level("-3", "0"), &at(MovementKind::Adjust, "3"), true),
            Ok(level("0", "0"))
        );
    }

    /// Hardening item 10: a transfer out of a backordered level created stock.
    #[test]
    fn a_transfer_never_moves_more_than_is_available_even_with_backorders() {
        for backorder in [false, true] {
            assert_eq!(
                apply(level("-3", "0"), &transfer_out("1"), backorder),
                Err(StockError::NotThereToMove {
                    available: d("-3"),
                    requested: d("1"),
                }),
                "backorder {backorder}"
            );
            assert!(matches!(
                apply(level("10", "8"), &transfer_out("3"), backorder),
                Err(StockError::NotThereToMove { .. })
            ));
            assert_eq!(
                apply(level("10", "8"), &transfer_out("2"), backorder),
                Ok(level("8", "8"))
            );
        }
        // Ship and reserve are what backorders are for.
        assert_eq!(
            apply(level("-3", "0"), &at(MovementKind::Ship, "1"), true),
            Ok(level("-4", "0"))
        );
        assert_eq!(
            apply(level("0", "0"), &at(MovementKind::Reserve, "2"), true),
            Ok(level("0", "2"))
        );
        assert!(matches!(
            apply(level("0", "0"), &at(MovementKind::Reserve, "2"), false),
            Err(StockError::InsufficientStock { .. })
        ));
    }

    #[test]
    fn a_reversal_passes_the_same_checks_as_its_opposite_kind() {
        let undo = |kind, quantity| {
            let original = movement(
                1,
                kind,
                Place::At { location: loc("Y") },
                vec![line("A", quantity)],
            );
            let reversal = Draft::reversal_of(&original);
            movement(2, reversal.kind, reversal.place, reversal.lines)
                .effects()
                .remove(0)
        };
        // Undoing a count up of 5 while 8 of the 10 are held would leave 5 < 8.
        assert!(matches!(
            apply(level("10", "8"), &undo(MovementKind::Adjust, "5"), false),
            Err(StockError::BelowReserved { .. })
        ));
        // Undoing a receive is a ship: it takes available stock.
        assert!(matches!(
            apply(level("10", "8"), &undo(MovementKind::Receive, "5"), false),
            Err(StockError::InsufficientStock { .. })
        ));
        // Undoing a transfer moves the stock back from where it went: only if
        // it is still there.
        let transfer = movement(
            1,
            MovementKind::Transfer,
            Place::Between {
                from: loc("Y"),
                to: loc("Z"),
            },
            vec![line("A", "4")],
        );
        let back = Draft::reversal_of(&transfer);
        let back = movement(2, back.kind, back.place, back.lines).effects();
        assert_eq!(back[0].location, loc("Z"));
        assert!(matches!(
            apply(level("4", "0").plus(level("-1", "0")), &back[0], true),
            Err(StockError::NotThereToMove { .. })
        ));
    }

    #[test]
    fn a_reversal_undoes_the_original_exactly() {
        let original = movement(
            7,
            MovementKind::Transfer,
            Place::Between {
                from: loc("A"),
                to: loc("B"),
            },
            vec![line("X", "2.5"), line("Y", "1")],
        );
        let reversal = Draft::reversal_of(&original);
        assert_eq!(reversal.reverses, Some(7));
        let undone = movement(
            8,
            reversal.kind,
            reversal.place.clone(),
            reversal.lines.clone(),
        );
        let mut both = sum_levels([&original, &undone]);
        both.retain(|_, l| !l.is_empty());
        assert!(both.is_empty(), "{both:?}");
        for kind in [
            MovementKind::Receive,
            MovementKind::Ship,
            MovementKind::Adjust,
            MovementKind::Reserve,
            MovementKind::Release,
        ] {
            let m = movement(
                1,
                kind,
                Place::At { location: loc("A") },
                vec![line(
                    "X",
                    if kind == MovementKind::Adjust {
                        "-4"
                    } else {
                        "4"
                    },
                )],
            );
            let r = Draft::reversal_of(&m);
            let undo = movement(2, r.kind, r.place, r.lines);
            let mut sum = sum_levels([&m, &undo]);
            sum.retain(|_, l| !l.is_empty());
            assert!(sum.is_empty(), "{kind}: {sum:?}");
        }
    }

    #[test]
    fn availability_buckets_follow_the_reorder_point() {
        assert_eq!(Availability::of(d("0"), None), Availability::Out);
        assert_eq!(Availability::of(d("-1"), Some(d("5"))), Availability::Out);
        assert_eq!(Availability::of(d("3"), Some(d("5"))), Availability::Low);
        assert_eq!(
            Availability::of(d("5"), Some(d("5"))),
            Availability::InStock
        );
        assert_eq!(Availability::of(d("0.1"), None), Availability::InStock);
    }
}
