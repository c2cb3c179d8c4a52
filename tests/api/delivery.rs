//! Delivery zones and charges over HTTP: zones managed by staff and read by
//! anyone, the longest postcode prefix winning, loads from the lines' mass,
//! the zone's minimum, collection, an unknown postcode, and the charge in the
//! totals of an estimate and of a saved quote.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, sand};

fn town() -> Value {
    json!({"code": "TOWN", "name": "Town", "postcodes": ["ab1", "AB 2"],
           "per_load": "45", "minimum": "45", "vehicle_capacity_t": "10"})
}

fn county() -> Value {
    json!({"code": "COUNTY", "name": "County", "postcodes": ["AB", "CD"],
           "per_load": "85", "per_tonne": "2.50", "minimum": "100", "vehicle_capacity_t": "20"})
}

async fn shop() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.create_product(&json!({
        "sku": "CEM-425", "name": "Portland cement", "category": "Cement", "unit": "kg",
        "price": "0.25", "packs": [{"name": "bag", "quantity": "25", "unit": "kg"}],
    }))
    .await;
    app.create_product(&json!({
        "sku": "BOLT-10", "name": "Anchor bolt M10", "category": "Tools", "unit": "pc", "price": "1.20",
    }))
    .await;
    for zone in [town(), county()] {
        let made = app.post("/api/v1/delivery-zones", Who::Staff, &zone).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    app
}

fn lines(postcode: &Value) -> Value {
    json!({
        "lines": [
            {"sku": "SAND-04", "quantity": "12", "unit": "t"},
            {"sku": "CEM-425", "quantity": "40", "unit": "bag"},
        ],
        "delivery": postcode,
    })
}

fn amount(value: &Value) -> f64 {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn zones_are_kept_checked_and_read_by_anyone() {
    let app = shop().await;
    let listed = app.get("/api/v1/delivery-zones", Who::Anonymous).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let kept = items.iter().find(|z| z["code"] == "TOWN").unwrap();
    assert_eq!(
        kept["postcodes"],
        json!(["AB1", "AB2"]),
        "prefixes are kept upper-case, without spaces"
    );
    assert_eq!(kept["per_tonne"], "0.00");
    assert_eq!(kept["tax_class"], "standard");
    assert_eq!(kept["version"], 1);

    let again = app
        .post(
            "/api/v1/delivery-zones",
            Who::Staff,
            &town_with("TOWN", &["EF1"]),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error().0, "duplicate_zone");
    let shared = app
        .post(
            "/api/v1/delivery-zones",
            Who::Staff,
            &town_with("EAST", &["EF1", "ab2"]),
        )
        .await;
    assert_eq!(
        shared.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        shared.text
    );
    assert_eq!(shared.error().1.as_deref(), Some("postcodes[1]"));
    assert!(shared.text.contains("zone TOWN"), "{}", shared.text);
    for (body, field) in [
        (town_with("EAST", &["E-1"]), "postcodes[0]"),
        (
            json!({"code": "EAST", "name": "East", "postcodes": ["EF1"], "per_load": "45",
                "vehicle_capacity_t": "0"}),
            "vehicle_capacity_t",
        ),
        (
            json!({"code": "EAST", "name": "East", "postcodes": ["EF1"], "per_load": "45",
                "vehicle_capacity_t": "10", "tax_class": "luxury"}),
            "tax_class",
        ),
    ] {
        let refused = app.post("/api/v1/delivery-zones", Who::Staff, &body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(
            refused.error().1.as_deref(),
            Some(field),
            "{}",
            refused.text
        );
    }
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_zone_is_replaced_and_removed_and_the_audit_log_says_so() {
    let app = shop().await;
    let mut changed = town();
    changed["per_load"] = json!("50");
    let replaced = app
        .put("/api/v1/delivery-zones/town", Who::Staff, &changed)
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body["per_load"], "50.00");
    assert_eq!(replaced.body["version"], 2);
    let missing = app
        .put(
            "/api/v1/delivery-zones/NOPE",
            Who::Staff,
            &town_with("NOPE", &["ZZ"]),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    assert_eq!(
        app.delete("/api/v1/delivery-zones/COUNTY", Who::Staff)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete("/api/v1/delivery-zones/COUNTY", Who::Staff)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let left = app.get("/api/v1/delivery-zones", Who::Viewer).await;
    assert_eq!(left.body["items"].as_array().unwrap().len(), 1);
    // Each change is in the audit log, the update with what it changed.
    let audit = app
        .get("/api/v1/audit?kind=delivery_zone", Who::Owner)
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let kinds: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "delivery_zone.deleted",
            "delivery_zone.updated",
            "delivery_zone.created",
            "delivery_zone.created"
        ]
    );
    app.stop_and_check().await;
}

fn town_with(code: &str, postcodes: &[&str]) -> Value {
    let mut zone = town();
    zone["code"] = json!(code);
    zone["postcodes"] = json!(postcodes);
    zone
}

#[tokio::test]
async fn a_delivery_is_charged_by_the_load_from_the_longest_matching_prefix() {
    let app = shop().await;
    let plain = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &lines(&Value::Null),
        )
        .await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text);
    assert!(plain.body.get("delivery").is_none());

    // 12 t of sand and 1000 kg of cement: 13 t. Town: 2 loads × 45.00.
    let town = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &lines(&json!({"postcode": "ab1 2cd"})),
        )
        .await;
    assert_eq!(town.status, StatusCode::OK, "{}", town.text);
    let delivery = &town.body["delivery"];
    assert_eq!(delivery["method"], "delivery");
    assert_eq!(delivery["zone"], "TOWN");
    assert_eq!(delivery["tonnes"], "13");
    assert_eq!(delivery["loads"], 2);
    assert_eq!(
        (&delivery["net"], &delivery["tax"], &delivery["gross"]),
        (&json!("90.00"), &json!("18.00"), &json!("108.00"))
    );
    assert_eq!(
        delivery["explanation"],
        "13 t → 2 loads × 45.00 = 90.00, Town"
    );
    // The totals are the lines' and the delivery's.
    for field in ["net", "tax", "gross"] {
        let expected = amount(&plain.body["totals"][field]) + amount(&delivery[field]);
        assert!(
            (amount(&town.body["totals"][field]) - expected).abs() < 1e-9,
            "{field}: {}",
            town.text
        );
    }

    // AB9 is only under AB: the county, by load and by tonne.
    let county = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &lines(&json!({"postcode": "AB9 9ZZ"})),
        )
        .await;
    let delivery = &county.body["delivery"];
    assert_eq!(delivery["zone"], "COUNTY");
    assert_eq!(delivery["loads"], 1);
    assert_eq!(
        delivery["net"], "117.50",
        "85.00 + 13 t × 2.50: {}",
        county.text
    );
    assert_eq!(
        delivery["explanation"],
        "13 t → 1 load × 85.00 + 13 t × 2.50 = 117.50, County"
    );
}

#[tokio::test]
async fn the_minimum_applies_unweighed_goods_are_named_and_collection_costs_nothing() {
    let app = shop().await;
    let plain = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &lines(&Value::Null),
        )
        .await;
    // 1 t and three bolts to the county: 87.50 is below its minimum of 100;
    // the bolts have no mass, and it says so.
    let small = json!({
        "lines": [{"sku": "SAND-04", "quantity": "1"}, {"sku": "BOLT-10", "quantity": "3"}],
        "delivery": {"postcode": "CD4 1AA"},
    });
    let small = app
        .post("/api/v1/quote/estimate", Who::Anonymous, &small)
        .await;
    let delivery = &small.body["delivery"];
    assert_eq!(delivery["net"], "100.00", "{}", small.text);
    assert_eq!(delivery["not_weighed"], json!(["BOLT-10"]));
    assert_eq!(
        delivery["explanation"],
        "1 t → 1 load × 85.00 + 1 t × 2.50 = 87.50, minimum 100.00, County (not weighed, no mass known: BOLT-10)"
    );

    // Collection costs nothing; an unknown postcode is answered in words.
    let collected = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &lines(&json!({"collection": true})),
        )
        .await;
    assert_eq!(collected.body["delivery"]["method"], "collection");
    assert_eq!(collected.body["totals"], plain.body["totals"]);
    let far = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &lines(&json!({"postcode": "ZZ9 1AA"})),
        )
        .await;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(far.error().1.as_deref(), Some("delivery.postcode"));
    assert!(
        far.text
            .contains("we do not deliver to ZZ9 1AA; collection only"),
        "{}",
        far.text
    );
    for (bad, field) in [
        (json!({"postcode": "AB1", "collection": true}), "delivery"),
        (json!({}), "delivery.postcode"),
        (json!({"postcode": "AB1 <b>"}), "delivery.postcode"),
    ] {
        let refused = app
            .post("/api/v1/quote/estimate", Who::Anonymous, &lines(&bad))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(
            refused.error().1.as_deref(),
            Some(field),
            "{}",
            refused.text
        );
    }
}

#[tokio::test]
async fn a_saved_quote_keeps_its_delivery_and_shows_it_to_the_customer() {
    let app = shop().await;
    let mut body = lines(&json!({"postcode": "AB1 2CD"}));
    body["contact"] = json!({"name": "Sam Builder", "phone": "+44 1234 567890"});
    let made = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["delivery"]["gross"], "108.00");
    let number = made.body["number"].as_str().unwrap();
    let secret = made.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    // A later change of the zone leaves the saved quote as it was priced.
    let mut dearer = town();
    dearer["per_load"] = json!("60");
    app.put("/api/v1/delivery-zones/TOWN", Who::Staff, &dearer)
        .await;
    let read = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert_eq!(read.body["delivery"], made.body["delivery"]);
    assert_eq!(read.body["totals"], made.body["totals"]);

    let page = app
        .client
        .get(format!("{}/q/{secret}", app.base))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("13 t → 2 loads × 45.00 = 90.00, Town"),
        "{html}"
    );
    assert!(html.contains("<td class=\"num\">90.00 EUR</td>"), "{html}");
    app.stop_and_check().await;
}
