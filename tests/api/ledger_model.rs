//! Model tests of the ledger: random sequences of every movement kind,
//! reversals and retried idempotency keys, applied to Quarry (through its use
//! cases, on a real store) and to a plain in-memory model; levels and errors
//! must agree after every step. One product allows backorders, one does not:
//! the model states the rule of `domain/ledger.rs` for both on its own.

use std::collections::BTreeMap;

use proptest::prelude::*;
use quarry::app::idempotency::{Answer, Idempotency};
use quarry::app::ledger::StockFilter;
use quarry::app::{App, AppError, Principal};
use quarry::config::Config;
use quarry::domain::accounts::{Actor, Role, TokenName};
use quarry::domain::ledger::MovementInput;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SKUS: [&str; 2] = ["A", "B"];
/// Whether each SKU allows backorders.
const BACKORDER: [bool; 2] = [false, true];
const LOCATIONS: [&str; 2] = ["L1", "L2"];

#[derive(Debug, Clone)]
enum Op {
    Book {
        kind: &'static str,
        sku: usize,
        loc: usize,
        q: u32,
        key: Option<u8>,
    },
    Count {
        sku: usize,
        loc: usize,
        q: u32,
    },
    Transfer {
        sku: usize,
        from: usize,
        q: u32,
    },
    Reverse {
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let kinds = prop_oneof![
        Just("receive"),
        Just("ship"),
        Just("reserve"),
        Just("release"),
        Just("adjust"),
    ];
    prop_oneof![
        4 => (kinds, 0..2usize, 0..2usize, 1..40u32, proptest::option::of(0..4u8))
            .prop_map(|(kind, sku, loc, q, key)| Op::Book { kind, sku, loc, q, key }),
        1 => (0..2usize, 0..2usize, 0..40u32).prop_map(|(sku, loc, q)| Op::Count { sku, loc, q }),
        1 => (0..2usize, 0..2usize, 1..40u32).prop_map(|(sku, from, q)| Op::Transfer { sku, from, q }),
        1 => (0..50usize).prop_map(|pick| Op::Reverse { pick }),
    ]
}

/// Quantities step in quarters to exercise decimals: q/4.
fn qty(q: u32) -> Decimal {
    Decimal::from(q) / Decimal::from(4)
}

type Levels = BTreeMap<(usize, usize), (Decimal, Decimal)>;

/// A booked movement as the model remembers it: (sku, loc, on-hand change,
/// reserved change) per effect.
type Effects = Vec<(usize, usize, Decimal, Decimal)>;

#[derive(Default)]
struct Model {
    levels: Levels,
    /// Booked movements: id, kind, effects.
    booked: Vec<(u64, &'static str, Effects)>,
    reversed: std::collections::BTreeSet<u64>,
    keys: BTreeMap<u8, (String, u64)>,
}

fn opposite(kind: &'static str) -> &'static str {
    match kind {
        "receive" => "ship",
        "ship" => "receive",
        "reserve" => "release",
        "release" => "reserve",
        other => other,
    }
}

impl Model {
    /// Applies effects if every check passes; else the error code.
    ///
    /// The rule: without backorders available (on hand − reserved) never goes
    /// below zero; with them ship and reserve may take it below, but a transfer
    /// moves only what is available at its source and an adjustment never takes
    /// on hand below zero. Reserved never goes below zero.
    fn apply(&mut self, effects: &Effects, checks: &[&str]) -> Result<(), &'static str> {
        let mut next = self.levels.clone();
        for (i, (sku, loc, on_hand, reserved)) in effects.iter().enumerate() {
            let backorder = BACKORDER[*sku];
            let level = next.entry((*sku, *loc)).or_default();
            let available = level.0 - level.1;
            let after = (level.0 + *on_hand, level.1 + *reserved);
            match checks[i] {
                "available" if !backorder && available < -*on_hand + *reserved => {
                    return Err("insufficient_stock");
                }
                "present" if available < -*on_hand => return Err("insufficient_stock"),
                "reserved" if after.1 < Decimal::ZERO => return Err("insufficient_reserved"),
                "on_hand" if after.0 < Decimal::ZERO => return Err("negative_stock"),
                "on_hand" if !backorder && after.0 < after.1 => return Err("insufficient_stock"),
                _ => {}
            }
            level.0 += *on_hand;
            level.1 += *reserved;
        }
        self.levels = next;
        Ok(())
    }
}

fn checks_of(kind: &str, effects: &Effects) -> Vec<&'static str> {
    effects
        .iter()
        .enumerate()
        .map(|(i, (_, _, on_hand, _))| match kind {
            "ship" | "reserve" => "available",
            "transfer" if i == 0 => "present",
            "release" => "reserved",
            "adjust" if *on_hand < Decimal::ZERO => "on_hand",
            _ => "none",
        })
        .collect()
}

fn effects_of(kind: &str, sku: usize, loc: usize, q: Decimal, to: usize) -> Effects {
    let z = Decimal::ZERO;
    match kind {
        "receive" | "adjust" => vec![(sku, loc, q, z)],
        "ship" => vec![(sku, loc, -q, z)],
        "reserve" => vec![(sku, loc, z, q)],
        "release" => vec![(sku, loc, z, -q)],
        "transfer" => vec![(sku, loc, -q, z), (sku, to, q, z)],
        _ => unreachable!(),
    }
}

fn code(error: &AppError) -> String {
    match error {
        AppError::Conflict { code, .. } => code.name().to_owned(),
        AppError::Invalid { field, .. } => format!("invalid:{field}"),
        other => format!("{other}"),
    }
}

fn setup(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> App {
    let config = Config {
        data_dir: dir.to_owned(),
        ..Config::default()
    };
    let app = App::open(config).unwrap();
    let staff = principal();
    rt.block_on(async {
        for (sku, backorder) in SKUS.into_iter().zip(BACKORDER) {
            let input = serde_json::from_value(json!({
                "sku": sku, "name": "Thing", "category": "Things", "unit": "kg", "price": "1",
                "allow_backorder": backorder,
            }))
            .unwrap();
            app.create_product(&staff, input).await.unwrap();
        }
        for code in LOCATIONS {
            let input = serde_json::from_value(json!({"code": code, "name": code})).unwrap();
            app.create_location(&staff, input).await.unwrap();
        }
    });
    app
}

fn principal() -> Principal {
    Principal::new(
        Role::Staff,
        Actor::token(&TokenName::parse("model").unwrap()),
    )
}

fn quarry_levels(rt: &tokio::runtime::Runtime, app: &App) -> Levels {
    let rows = rt
        .block_on(app.list_stock(StockFilter {
            limit: Some(1000),
            ..StockFilter::default()
        }))
        .unwrap();
    let mut levels = Levels::new();
    for row in rows.items {
        let sku = SKUS.iter().position(|s| *s == row.sku.as_str()).unwrap();
        let loc = LOCATIONS
            .iter()
            .position(|l| *l == row.location.as_str())
            .unwrap();
        if !(row.on_hand.is_zero() && row.reserved.is_zero()) {
            levels.insert((sku, loc), (row.on_hand, row.reserved));
        }
    }
    levels
}

#[allow(clippy::too_many_lines)] // one step of the model and of Quarry, side by side
fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = setup(&rt, dir.path());
    let staff = principal();
    let mut model = Model::default();

    for (step, op) in ops.iter().enumerate() {
        let (body, key, kind, effects): (Value, Option<u8>, &'static str, Option<Effects>) =
            match op {
                Op::Book {
                    kind,
                    sku,
                    loc,
                    q,
                    key,
                } => {
                    let quantity = if *kind == "adjust" && q % 2 == 0 {
                        -qty(*q)
                    } else {
                        qty(*q)
                    };
                    let mut line = json!({"sku": SKUS[*sku], "quantity": quantity.to_string()});
                    if *kind == "adjust" {
                        line["reason"] = json!("model");
                    }
                    let body = json!({"kind": kind, "location": LOCATIONS[*loc], "lines": [line]});
                    (
                        body,
                        *key,
                        *kind,
                        Some(effects_of(kind, *sku, *loc, quantity, 0)),
                    )
                }
                Op::Count { sku, loc, q } => {
                    let current = model
                        .levels
                        .get(&(*sku, *loc))
                        .map_or(Decimal::ZERO, |l| l.0);
                    let body = json!({"kind": "adjust", "location": LOCATIONS[*loc],
                    "lines": [{"sku": SKUS[*sku], "counted": qty(*q).to_string(), "reason": "count"}]});
                    (
                        body,
                        None,
                        "adjust",
                        Some(effects_of("adjust", *sku, *loc, qty(*q) - current, 0)),
                    )
                }
                Op::Transfer { sku, from, q } => {
                    let to = 1 - from;
                    let body = json!({"kind": "transfer", "from": LOCATIONS[*from], "to": LOCATIONS[to],
                    "lines": [{"sku": SKUS[*sku], "quantity": qty(*q).to_string()}]});
                    (
                        body,
                        None,
                        "transfer",
                        Some(effects_of("transfer", *sku, *from, qty(*q), to)),
                    )
                }
                Op::Reverse { .. } => (json!(null), None, "reverse", None),
            };

        if let Op::Reverse { pick } = op {
            if model.booked.is_empty() {
                continue;
            }
            let (id, kind, effects) = model.booked[pick % model.booked.len()].clone();
            let got = rt.block_on(app.reverse_movement(&staff, id, None));
            // The reversal undoes the effects in reverse order (a transfer back
            // takes from where the stock went).
            let undo: Effects = effects
                .iter()
                .rev()
                .map(|(s, l, o, r)| (*s, *l, -*o, -*r))
                .collect();
            let undo_kind = opposite(kind);
            let expected = if model.reversed.contains(&id) {
                Err("already_reversed")
            } else {
                model.apply(&undo, &checks_of(undo_kind, &undo))
            };
            match (&got, expected) {
                (Ok(Answer::Fresh(m)), Ok(())) => {
                    model.reversed.insert(id);
                    model.booked.push((m.id, undo_kind, undo));
                }
                (Err(e), Err(want)) => {
                    prop_assert_eq!(code(e), want, "step {}: reverse {}", step, id);
                }
                (got, want) => prop_assert!(
                    false,
                    "step {}: reverse {}: quarry {:?}, model {:?}",
                    step,
                    id,
                    got.as_ref().map(|_| ()).map_err(code),
                    want
                ),
            }
        } else {
            let effects = effects.unwrap();
            let input: MovementInput = serde_json::from_value(body.clone()).unwrap();
            let text = body.to_string();
            let idem =
                key.map(|k| Idempotency::new(&staff, &format!("key-{k}"), text.clone()).unwrap());
            let got = rt.block_on(app.book_movement(&staff, input, idem));
            let remembered = key.and_then(|k| model.keys.get(&k).cloned());
            #[allow(clippy::single_match_else)] // a retry, or a first try
            match remembered {
                Some((first_body, first_id)) => {
                    if first_body == text {
                        match &got {
                            Ok(Answer::Replayed { body, .. }) => {
                                prop_assert_eq!(body["id"].as_u64(), Some(first_id));
                            }
                            other => prop_assert!(
                                false,
                                "step {}: a retry was not replayed: {:?}",
                                step,
                                other.as_ref().map(|_| ())
                            ),
                        }
                    } else {
                        let reused = matches!(&got, Err(AppError::Invalid { field, .. }) if field == "Idempotency-Key");
                        prop_assert!(reused, "step {}: a reused key was not refused", step);
                    }
                }
                None => {
                    let checks = checks_of(kind, &effects);
                    let expected = model.apply(&effects, &checks);
                    match (&got, expected) {
                        (Ok(Answer::Fresh(m)), Ok(())) => {
                            model.booked.push((m.id, kind, effects.clone()));
                            if let Some(k) = key {
                                model.keys.insert(k, (text, m.id));
                            }
                        }
                        (Err(e), Err(want)) => {
                            prop_assert_eq!(code(e), want, "step {}: {}", step, body);
                        }
                        (got, want) => prop_assert!(
                            false,
                            "step {}: {}: quarry {:?}, model {:?}",
                            step,
                            body,
                            got.as_ref().map(|_| ()).map_err(code),
                            want
                        ),
                    }
                }
            }
        }
        let mut expected = model.levels.clone();
        expected.retain(|_, l| !(l.0.is_zero() && l.1.is_zero()));
        let expected: Levels = expected
            .into_iter()
            .map(|(k, (a, b))| (k, (a.normalize(), b.normalize())))
            .collect();
        let got: Levels = quarry_levels(&rt, &app)
            .into_iter()
            .map(|(k, (a, b))| (k, (a.normalize(), b.normalize())))
            .collect();
        // The rule on its own, on Quarry's levels: without backorders nothing
        // is ever available below zero; nothing is ever reserved below zero.
        for ((sku, loc), (on_hand, reserved)) in &got {
            prop_assert!(
                *reserved >= Decimal::ZERO,
                "step {}: {:?}",
                step,
                (sku, loc)
            );
            prop_assert!(
                BACKORDER[*sku] || on_hand >= reserved,
                "step {}: {} at {} has {} on hand and {} reserved",
                step,
                SKUS[*sku],
                LOCATIONS[*loc],
                on_hand,
                reserved
            );
        }
        prop_assert_eq!(got, expected, "levels after step {}: {:?}", step, op);
    }
    rt.block_on(app.close());
    drop(app);
    let report = quarry::store::check(dir.path()).unwrap();
    prop_assert!(report.problems.is_empty(), "{:?}", report.problems);
    Ok(())
}

/// Sequences that must reach each check of the rule, whatever proptest draws
/// (quantities are quarters: 40 is 10 kg).
#[test]
fn the_model_and_quarry_agree_where_the_backorder_rule_bites() {
    let book = |kind, sku, q| Op::Book {
        kind,
        sku,
        loc: 0,
        q,
        key: None,
    };
    let sequences = [
        // A plain product: counting (or adjusting) below what is held.
        vec![
            book("receive", 0, 41),
            book("reserve", 0, 33),
            Op::Count {
                sku: 0,
                loc: 0,
                q: 28,
            },
            book("adjust", 0, 10),
            Op::Count {
                sku: 0,
                loc: 0,
                q: 33,
            },
            Op::Reverse { pick: 0 },
        ],
        // A backordered product: sold short, then moved, counted and reversed.
        vec![
            book("ship", 1, 4),
            Op::Transfer {
                sku: 1,
                from: 0,
                q: 1,
            },
            book("receive", 1, 20),
            book("reserve", 1, 30),
            Op::Transfer {
                sku: 1,
                from: 0,
                q: 2,
            },
            book("adjust", 1, 18),
            book("adjust", 1, 16),
            Op::Count {
                sku: 1,
                loc: 0,
                q: 0,
            },
            Op::Reverse { pick: 2 },
        ],
    ];
    for ops in sequences {
        run(&ops).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_ledger_agrees_with_a_simple_model(ops in proptest::collection::vec(op(), 1..40)) {
        run(&ops)?;
    }
}
