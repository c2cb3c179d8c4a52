//! Parser fuzzing with proptest (cargo-fuzz needs a nightly toolchain, which
//! this project does not assume): quantities and units, conversions, search
//! queries, CSV import rows, quote requests over HTTP, and configuration
//! files. Each parser must answer a value or a clear error — never panic or
//! hang — for inputs shaped like real ones and for arbitrary text.
//! `FUZZ_CASES` raises the number of cases per target (default 1,000).

use std::sync::OnceLock;

use proptest::prelude::*;
use quarry::config::{Config, ShopConfig};
use quarry::domain::accounts::Actor;
use quarry::domain::units::{Measures, Pack, Quantity, UnitName, parse_amount};
use quarry::search::query::{Synonyms, parse};
use quarry::store::Store;
use rust_decimal::Decimal;
use serde_json::json;

use crate::helpers::{TestApp, Who, sand};

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000)
}

const UNITS: &[&str] = &[
    "g", "kg", "t", "lb", "oz", "ml", "l", "m3", "ft3", "yd3", "gal", "mm", "cm", "m", "in", "ft",
    "yd", "m2", "ft2", "pc", "m³", "tonnes", "bag", "pallet", "bulk bag", "", " ", "kg/m3", "ţ",
];

/// Numbers as people and programs write them, right and wrong.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,30}",
        "-?[0-9]{0,15}\\.[0-9]{0,12}",
        "[0-9]{1,3}(,[0-9]{3}){1,4}(\\.[0-9]{1,3})?",
        "[0-9]+[eE][+-]?[0-9]{1,3}",
        Just("79228162514264337593543950335".to_owned()),
        Just("0.0000001".to_owned()),
        Just("NaN".to_owned()),
        Just("∞".to_owned()),
        "\\PC{0,12}",
    ]
}

fn unit() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(UNITS).prop_map(str::to_owned),
        "\\PC{0,10}"
    ]
}

fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (number(), " {0,2}", unit()).prop_map(|(n, s, u)| format!("{n}{s}{u}")),
        "\\PC{0,40}",
    ]
}

fn decimal() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0u32..=12).prop_map(|(n, scale)| Decimal::new(n, scale))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn amounts_parse_or_are_refused_with_a_message(text in amount_text()) {
        if let Err(e) = parse_amount(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
        let _ = Quantity::parse(&text);
        let _ = UnitName::parse(&text);
    }

    #[test]
    fn conversions_with_packs_and_bridges_never_panic(
        value in decimal(),
        from in unit(),
        to in unit(),
        density in proptest::option::of(decimal()),
        per_metre in proptest::option::of(decimal()),
        packs in proptest::collection::vec((unit(), number(), unit()), 0..4),
    ) {
        let packs: Vec<Pack> = packs
            .into_iter()
            .filter_map(|(name, quantity, unit)| {
                Some(Pack {
                    name: UnitName::parse(&name).ok()?,
                    quantity: Quantity::parse(&quantity).ok()?,
                    unit: UnitName::parse(&unit).ok()?,
                })
            })
            .collect();
        let measures = Measures {
            what: "FUZZ-1",
            stock: quarry::domain::units::Unit::Kilogram,
            density_kg_m3: density,
            mass_per_m_kg: per_metre,
            mass_per_m2_kg: None,
            packs: &packs,
        };
        if let (Ok(from), Ok(to)) = (UnitName::parse(&from), UnitName::parse(&to)) {
            let _ = measures.check_packs();
            let _ = measures.convert(value, &from, &to);
        }
    }

    #[test]
    fn search_queries_parse_or_are_refused(text in prop_oneof![
        "\\PC{0,300}",
        "([a-z]{1,12}|[0-9]{1,4}(mm|m|kg)?|[A-Z]{2,5}-[0-9]{2,6}|\"|-|\\*|:|\\(|\\)) {0,3}".prop_map(|s| s.repeat(5)),
    ]) {
        let synonyms = Synonyms::parse(&["rebar = reinforcing bar".to_owned()]).unwrap();
        let _ = parse(&text, &synonyms);
    }

    #[test]
    fn configuration_files_load_or_name_the_problem(text in prop_oneof![
        "\\PC{0,200}",
        (prop::sample::select(&["listen", "data_dir", "[shop]\ncurrency", "[limits]\nbody_bytes", "[search]\nsynonyms", "[shop.tax_classes]\nstandard", "[backup]\nkeep"][..]),
         prop_oneof![number(), "\"\\PC{0,20}\"", Just("[]".to_owned()), Just("true".to_owned()), Just("{}".to_owned())])
            .prop_map(|(k, v)| format!("{k} = {v}\n")),
    ]) {
        if let Err(e) = Config::from_toml(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

/// A store for the CSV cases, with one product and one location to refer to.
fn csv_store() -> &'static (tempfile::TempDir, Store) {
    static STORE: OnceLock<(tempfile::TempDir, Store)> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let seed = "sku,name,category,unit,price,density_kg_m3,packs\nSAND-04,Sand,Aggregates,t,38.00,1600,bulk bag=0.85 t\n";
        import(&store, quarry::app::imports::ImportKind::Products, seed, false).unwrap();
        (dir, store)
    })
}

fn import(
    store: &Store,
    kind: quarry::app::imports::ImportKind,
    text: &str,
    dry_run: bool,
) -> Result<quarry::app::imports::ImportReport, quarry::app::AppError> {
    let options = quarry::app::imports::ImportOptions {
        dry_run,
        skip_invalid: false,
        reference: None,
        decimal: None,
    };
    quarry::app::imports::import_into_store(
        store,
        &Actor::cli(),
        &ShopConfig::default(),
        kind,
        text.as_bytes(),
        &options,
        quarry::app::imports::Listeners {
            progress: &mut |_| Ok(()),
            bad_row: &mut |_| {},
            product_saved: &mut |_| {},
        },
    )
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        unit(),
        Just("SAND-04".to_owned()),
        Just("YARD".to_owned()),
        Just("receive".to_owned()),
        Just("\"quoted, with comma\"".to_owned()),
        Just("\"".to_owned()),
        "[a-zA-Z0-9 =;/-]{0,20}",
        "\\PC{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4, ..ProptestConfig::default() })]

    #[test]
    fn csv_import_rows_are_reported_row_by_row_never_a_panic(
        kind in 0..3u8,
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..9), 0..6),
    ) {
        use quarry::app::imports::ImportKind;
        let (kind, header) = match kind {
            0 => (ImportKind::Products, "sku,name,category,unit,price,packs,price_breaks,density_kg_m3"),
            1 => (ImportKind::Stock, "sku,location,quantity,unit"),
            _ => (ImportKind::Movements, "movement,kind,location,sku,quantity,unit,reference"),
        };
        let mut text = format!("{header}\n");
        for row in rows {
            text.push_str(&row.join(","));
            text.push('\n');
        }
        let (_, store) = csv_store();
        if let Ok(report) = import(store, kind, &text, true) {
            prop_assert!(!report.written);
            for error in &report.errors {
                prop_assert!(error.row >= 1 && !error.reason.is_empty(), "{error:?}");
            }
        }
    }
}

/// Quote requests over HTTP against the real server: every answer is 2xx or
/// a 4xx with the error shape, never a 5xx.
#[test]
fn quote_requests_get_an_answer_or_a_clear_refusal_never_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(async {
        let app = TestApp::spawn_with(|c| c.limits.public_requests_per_minute = 1_000_000).await;
        let mut product = sand("SAND-04");
        product["packs"] = json!([{"name": "bag", "quantity": "25", "unit": "kg"}, {"name": "pallet", "quantity": "40", "unit": "bag"}]);
        product["price_breaks"] = json!([{"min_quantity": "10", "price": "36.10"}]);
        app.create_product(&product).await;
        app
    });
    let line = (
        prop_oneof![Just("SAND-04".to_owned()), "[A-Z0-9-]{0,12}", "\\PC{0,10}"],
        number(),
        proptest::option::of(unit()),
    )
        .prop_map(|(sku, quantity, unit)| json!({"sku": sku, "quantity": quantity, "unit": unit}));
    let body = prop_oneof![
        proptest::collection::vec(line, 0..4).prop_map(|lines| json!({"lines": lines})),
        proptest::collection::vec(
            (
                prop_oneof![Just("SAND-04".to_owned()), "\\PC{0,6}"],
                any::<f64>(),
                prop_oneof![Just(json!(null)), Just(json!(7)), Just(json!(["kg"]))],
            ),
            0..3,
        )
        .prop_map(|l| json!({"lines": l.iter().map(|(s, q, u)| json!({"sku": s, "quantity": q, "unit": u})).collect::<Vec<_>>()})),
    ];
    let config = ProptestConfig {
        cases: cases() / 4,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in body, save in any::<bool>())| {
        let (path, body) = if save {
            let mut b = body.clone();
            b["contact"] = json!({"name": "Fuzz", "email": "fuzz@example.com"});
            ("/api/v1/quotes", b)
        } else {
            ("/api/v1/quote/estimate", body)
        };
        let answer = runtime.block_on(app.post(path, Who::Anonymous, &body));
        prop_assert!(answer.status.as_u16() < 500, "{path} {body} → {} {}", answer.status, answer.text);
        if !answer.status.is_success() {
            prop_assert!(answer.body["error"]["message"].is_string(), "{}", answer.text);
        }
    });
}

/// Regression (found by `conversions_with_packs_and_bridges_never_panic`):
/// sizes multiplied through nested packs overflowed a decimal and panicked.
#[tokio::test]
async fn packs_nested_beyond_a_decimal_are_refused_not_a_server_error() {
    let app = TestApp::spawn().await;
    let mut product = sand("HUGE-1");
    product["packs"] = json!([
        {"name": "bag", "quantity": "999999999999", "unit": "t"},
        {"name": "pallet", "quantity": "999999999999", "unit": "bag"},
        {"name": "crate", "quantity": "999999999999", "unit": "pallet"},
    ]);
    let created = app.post("/api/v1/products", Who::Staff, &product).await;
    assert_eq!(created.status.as_u16(), 422, "{}", created.text);
    assert!(created.text.contains("too large"), "{}", created.text);

    let mut big = sand("BIG-1");
    big["packs"] = json!([{"name": "pallet", "quantity": "999999999", "unit": "t"}]);
    assert!(
        app.post("/api/v1/products", Who::Staff, &big)
            .await
            .status
            .is_success()
    );
    let estimate = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": [{"sku": "BIG-1", "quantity": "999999999999", "unit": "pallet"}]}),
        )
        .await;
    assert_eq!(estimate.status.as_u16(), 422, "{}", estimate.text);
    let booked = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "BIG-1", "quantity": "999999999999", "unit": "pallet"}]}),
        )
        .await;
    assert!(
        booked.status.is_client_error(),
        "{} {}",
        booked.status,
        booked.text
    );
}
