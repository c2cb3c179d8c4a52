//! Estimates and saved quotes over HTTP: exact, explained prices by weight,
//! volume and pack; availability; numbering; holds, acceptance, fulfilment,
//! cancellation and expiry with their movements; the customer's page.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, movement, sand};

fn cement() -> Value {
    json!({
        "sku": "CEM-425", "name": "Portland cement CEM I 42.5 R", "category": "Cement",
        "unit": "kg", "price": "6.25", "cost": "4.10",
        "pricing_unit": "bag",
        "packs": [{"name": "bag", "quantity": "25", "unit": "kg"}, {"name": "pallet", "quantity": "40", "unit": "bag"}],
        "sell_in_whole": "bag",
        "price_breaks": [{"min_quantity": "40", "price": "5.90"}],
    })
}

async fn yard() -> TestApp {
    let app = TestApp::spawn().await;
    let mut sand = sand("SAND-04");
    sand["price_breaks"] = json!([{"min_quantity": "5", "price": "36.00"}]);
    app.create_product(&sand).await;
    app.create_product(&cement()).await;
    app.create_location("YARD", "Yard").await;
    app.create_location("WH1", "Warehouse").await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("receive", "WH1", "CEM-425", "600"))
        .await;
    app.book(&movement("receive", "YARD", "CEM-425", "400"))
        .await;
    app
}

fn lines() -> Value {
    json!({"lines": [
        {"sku": "SAND-04", "quantity": "3", "unit": "m3"},
        {"sku": "CEM-425", "quantity": "40", "unit": "bag"},
    ]})
}

#[tokio::test]
async fn three_cubic_metres_of_sand_and_forty_bags_of_cement_are_priced_exactly() {
    let app = yard().await;
    let resp = app
        .post("/api/v1/quote/estimate", Who::Anonymous, &lines())
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    let sand = &resp.body["lines"][0];
    assert_eq!(sand["explanation"], "3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t");
    assert_eq!(sand["pricing"], json!({"quantity": "4.8", "unit": "t"}));
    assert_eq!(sand["tier"], Value::Null);
    assert_eq!(sand["unit_price"], "38.00");
    assert_eq!(
        (&sand["net"], &sand["tax"], &sand["gross"]),
        (&json!("182.40"), &json!("36.48"), &json!("218.88"))
    );
    assert_eq!(sand["availability"], json!({"status": "available"}));
    let cement = &resp.body["lines"][1];
    assert_eq!(
        cement["tier"],
        json!({"min_quantity": "40", "price": "5.90"})
    );
    assert_eq!(cement["stock"], json!({"quantity": "1000", "unit": "kg"}));
    assert_eq!(cement["net"], "236.00");
    assert_eq!(resp.body["totals"]["net"], "418.40");
    assert_eq!(resp.body["totals"]["tax"], "83.68");
    assert_eq!(resp.body["totals"]["gross"], "502.08");
    assert_eq!(resp.body["currency"], "EUR");
    assert!(resp.body["took_ms"].as_f64().unwrap() >= 0.0);
    assert!(
        // Quoted: `took_ms` is a bare number and may well read 4.10…
        !resp.text.contains("cost") && !resp.text.contains("\"4.10\""),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn packs_round_up_and_availability_says_what_is_short() {
    let app = yard().await;
    let resp = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": [{"sku": "CEM-425", "quantity": "110", "unit": "kg"}, {"sku": "SAND-04", "quantity": "12"}]}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    let cement = &resp.body["lines"][0];
    assert_eq!(cement["sold"], json!({"quantity": "5", "unit": "bag"}));
    assert_eq!(
        cement["pack_rounding"],
        "rounded up to 5 whole bag (4.4 bag asked for)"
    );
    let sand = &resp.body["lines"][1];
    assert_eq!(sand["tier"]["price"], "36.00");
    assert_eq!(sand["availability"], json!({"status": "partial"}));
    let staff = app
        .post(
            "/api/v1/quote/estimate",
            Who::Viewer,
            &json!({"lines": [{"sku": "SAND-04", "quantity": "12"}]}),
        )
        .await;
    assert_eq!(
        staff.body["lines"][0]["availability"],
        json!({"status": "partial", "available": "10"})
    );
    let one = app
        .get(
            "/api/v1/quote/estimate?sku=SAND-04&quantity=2&unit=t",
            Who::Anonymous,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.body["lines"][0]["gross"], "91.20");
}

#[tokio::test]
async fn an_impossible_estimate_says_why() {
    let app = yard().await;
    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"density_kg_m3": null}),
    )
    .await;
    let cases = [
        (
            json!({"sku": "SAND-04", "quantity": "3", "unit": "m3"}),
            "lines[0].unit",
            "SAND-04 has no density: cannot convert m3 to t",
        ),
        (
            json!({"sku": "CEM-425", "quantity": "1", "unit": "crate"}),
            "lines[0].unit",
            "no unit or pack \"crate\"",
        ),
        (
            json!({"sku": "NOPE", "quantity": "1"}),
            "lines[0].sku",
            "no product NOPE",
        ),
        (
            json!({"sku": "SAND-04", "quantity": "0"}),
            "lines[0].quantity",
            "greater than zero",
        ),
        (
            json!({"sku": "SAND-04", "quantity": "2,5"}),
            "lines[0].quantity",
            "dot",
        ),
    ];
    for (line, field, reason) in cases {
        let resp = app
            .post(
                "/api/v1/quote/estimate",
                Who::Anonymous,
                &json!({"lines": [line]}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{line}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some(field), "{}", resp.text);
        let message = resp.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{line}: {message}");
    }
    let empty = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": []}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Bolts by the piece, in boxes of ten.
fn bolts() -> Value {
    json!({
        "sku": "BOLT-10", "name": "Hex bolt M10 x 80", "category": "Fixings", "unit": "pc",
        "price": "0.40", "packs": [{"name": "box", "quantity": "10", "unit": "pc"}],
    })
}

/// Hardening item 7: 0.000001 pc was saved as a quote with a gross of 0.00,
/// and 100 lines of 0.004 pc totalled 0.00.
#[tokio::test]
async fn a_quote_for_a_fraction_of_a_piece_is_refused_naming_the_line() {
    let app = yard().await;
    app.create_product(&bolts()).await;
    let mut tiny = json!({"lines": [
        {"sku": "SAND-04", "quantity": "1"},
        {"sku": "BOLT-10", "quantity": "0.000001"},
    ]});
    tiny["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    let refused = app.post("/api/v1/quotes", Who::Anonymous, &tiny).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.error().1.as_deref(), Some("lines[1].quantity"));
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("BOLT-10 is counted in whole pieces") && message.contains("such as 1 pc"),
        "{message}"
    );
    let listed = app.get("/api/v1/quotes", Who::Viewer).await;
    assert_eq!(listed.body["items"], json!([]), "no quote was saved");

    let many: Vec<Value> = (0..100)
        .map(|_| json!({"sku": "BOLT-10", "quantity": "0.004"}))
        .collect();
    let refused = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": many}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error().1.as_deref(), Some("lines[0].quantity"));

    // In a pack: half a box is five pieces; a twentieth is half a piece.
    let estimate = |quantity: &str| json!({"lines": [{"sku": "BOLT-10", "quantity": quantity, "unit": "box"}]});
    let half = app
        .post("/api/v1/quote/estimate", Who::Anonymous, &estimate("0.5"))
        .await;
    assert_eq!(half.status, StatusCode::OK, "{}", half.text);
    assert_eq!(
        half.body["lines"][0]["stock"],
        json!({"quantity": "5", "unit": "pc"})
    );
    let twentieth = app
        .post("/api/v1/quote/estimate", Who::Anonymous, &estimate("0.05"))
        .await;
    assert_eq!(twentieth.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        twentieth.text.contains("0.05 box is 0.5 pc"),
        "{}",
        twentieth.text
    );
    let one = app
        .get(
            "/api/v1/quote/estimate?sku=BOLT-10&quantity=0.5&unit=pc",
            Who::Anonymous,
        )
        .await;
    assert_eq!(one.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", one.text);

    // A product that says so takes fractions of a piece.
    app.patch(
        "/api/v1/products/BOLT-10",
        Who::Staff,
        &json!({"fractional_count": true}),
    )
    .await;
    let fraction = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": [{"sku": "BOLT-10", "quantity": "0.5"}]}),
        )
        .await;
    assert_eq!(fraction.status, StatusCode::OK, "{}", fraction.text);
    assert_eq!(fraction.body["lines"][0]["gross"], "0.24");
}

#[tokio::test]
async fn a_line_too_small_to_cost_anything_is_refused_and_says_how_much_to_order() {
    let app = yard().await;
    let refused = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": [
                {"sku": "SAND-04", "quantity": "2"},
                {"sku": "SAND-04", "quantity": "0.1", "unit": "kg"},
            ]}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.error().1.as_deref(), Some("lines[1].quantity"));
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("less than the smallest amount that can be charged (0.01)")
            && message.ends_with("order at least 0.000132 t"),
        "{message}"
    );
    let least = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": [{"sku": "SAND-04", "quantity": "0.000132"}]}),
        )
        .await;
    assert_eq!(least.status, StatusCode::OK, "{}", least.text);
    assert_eq!(least.body["lines"][0]["net"], "0.01");

    // A free product is quoted at nothing.
    let mut free = bolts();
    free["sku"] = json!("LEAFLET");
    free["price"] = json!("0");
    app.create_product(&free).await;
    let mut body = json!({"lines": [{"sku": "LEAFLET", "quantity": "3"}]});
    body["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    let quote = app.post("/api/v1/quotes", Who::Staff, &body).await;
    assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    assert_eq!(quote.body["totals"]["gross"], "0.00");
}

#[tokio::test]
async fn saved_quotes_are_numbered_without_gaps_and_open_by_their_link() {
    let app = yard().await;
    let mut body = lines();
    body["contact"] = json!({"name": "Sam Builder", "email": "sam@example.com"});
    let first = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    assert_eq!(first.body["number"], format!("Q-{year}-0001"));
    assert_eq!(first.body["status"], "open");
    assert_eq!(first.body["totals"]["gross"], "502.08");
    assert!(
        first.body.get("created_by").is_none(),
        "anonymous answers hide internals"
    );
    assert!(first.body.get("link_hash").is_none());
    // A refused request takes no number.
    let mut bad = body.clone();
    bad["lines"][0]["sku"] = json!("NOPE");
    assert_eq!(
        app.post("/api/v1/quotes", Who::Anonymous, &bad)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let second = app.post("/api/v1/quotes", Who::Staff, &body).await;
    assert_eq!(second.body["number"], format!("Q-{year}-0002"));

    let link = first.body["link"].as_str().unwrap().to_owned();
    // Without `public_base_url`, the link is where the customer reached us
    // (the server listens on port 0: that would be no address at all).
    assert!(
        link.starts_with(&format!("{}/q/", app.base)),
        "{link} is not under {}",
        app.base
    );
    let secret = link.rsplit('/').next().unwrap();
    let page = app.get(&format!("/q/{secret}"), Who::Anonymous).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains(&format!("Quote Q-{year}-0001")));
    assert!(page.text.contains("Sam Builder") && page.text.contains("502.08 EUR"));
    assert!(page.text.contains("3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t"));
    let json = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(json.body["number"], first.body["number"]);
    assert!(json.body.get("link").is_none());
    assert_eq!(
        app.get("/q/notarealsecretatall12345", Who::Anonymous)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let listed = app.get("/api/v1/quotes", Who::Viewer).await;
    let numbers: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [format!("Q-{year}-0002"), format!("Q-{year}-0001")]
    );
    assert_eq!(listed.body["items"][1]["created_by"], "public");
    assert_eq!(
        app.get("/api/v1/quotes", Who::Anonymous).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn quote_requests_are_checked_and_retries_create_one_quote() {
    let app = yard().await;
    let mut body = lines();
    body["contact"] = json!({"name": "Sam"});
    let resp = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(resp.error().1.as_deref(), Some("contact.email"));
    body["contact"] = json!({"name": "Sam", "phone": "+44 1234 567890"});
    body["hold_stock"] = json!(true);
    let resp = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(
        resp.status,
        StatusCode::FORBIDDEN,
        "only staff decide holds"
    );
    body.as_object_mut().unwrap().remove("hold_stock");
    let send = || {
        app.send(
            Method::POST,
            "/api/v1/quotes",
            Who::Anonymous,
            Some(&body),
            &[("idempotency-key", "req-7f3a9c")],
        )
    };
    let first = send().await;
    let retry = send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body["number"], first.body["number"]);
    let listed = app.get("/api/v1/quotes", Who::Viewer).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

async fn held_quote(app: &TestApp) -> String {
    let mut body = json!({"lines": [
        {"sku": "SAND-04", "quantity": "4"},
        {"sku": "CEM-425", "quantity": "30", "unit": "bag"},
    ]});
    body["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    body["hold_stock"] = json!(true);
    let resp = app.post("/api/v1/quotes", Who::Staff, &body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
    resp.body["number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_held_quote_reserves_its_stock_and_cancelling_releases_it() {
    let app = yard().await;
    let number = held_quote(&app).await;
    let quote = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Viewer)
        .await;
    assert_eq!(quote.body["hold_stock"], true);
    // 750 kg of cement: the warehouse (most available) first.
    assert_eq!(app.level("CEM-425", "WH1").await.1, "600");
    assert_eq!(app.level("CEM-425", "YARD").await.1, "150");
    assert_eq!(app.level("SAND-04", "YARD").await.1, "4");
    let held = app
        .get(
            &format!("/api/v1/movements?reference={number}"),
            Who::Viewer,
        )
        .await;
    assert!(
        held.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] == "reserve")
    );

    let cancelled = app
        .post(
            &format!("/api/v1/quotes/{number}/cancel"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(app.level("CEM-425", "WH1").await.1, "0");
    assert_eq!(app.level("SAND-04", "YARD").await.1, "0");
    let again = app
        .post(
            &format!("/api/v1/quotes/{number}/accept"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error().0, "quote_status");
    app.stop_and_check().await;
}

#[tokio::test]
async fn accepting_keeps_the_hold_and_fulfilling_ships_the_lines() {
    let app = yard().await;
    let number = held_quote(&app).await;
    let accepted = app
        .post(
            &format!("/api/v1/quotes/{number}/accept"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(accepted.body["status"], "accepted");
    assert_eq!(app.level("SAND-04", "YARD").await.1, "4", "still held");
    let fulfilled = app
        .post(
            &format!("/api/v1/quotes/{number}/fulfil"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(fulfilled.status, StatusCode::OK, "{}", fulfilled.text);
    assert_eq!(fulfilled.body["status"], "fulfilled");
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        ("6".into(), "0".into(), "6".into())
    );
    let wh = app.level("CEM-425", "WH1").await;
    let yd = app.level("CEM-425", "YARD").await;
    assert_eq!(
        (wh.0.as_str(), wh.1.as_str(), yd.0.as_str(), yd.1.as_str()),
        ("0", "0", "250", "0")
    );
    let shipped = app
        .get(
            &format!("/api/v1/movements?reference={number}&kind=ship"),
            Who::Viewer,
        )
        .await;
    assert_eq!(
        shipped.body["items"].as_array().unwrap().len(),
        2,
        "one ship per location"
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn fulfilling_without_enough_stock_books_nothing() {
    let app = yard().await;
    let mut body = json!({"lines": [{"sku": "SAND-04", "quantity": "8"}]});
    body["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    let number = app.post("/api/v1/quotes", Who::Staff, &body).await.body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    app.book(&movement("ship", "YARD", "SAND-04", "5")).await;
    let refused = app
        .post(
            &format!("/api/v1/quotes/{number}/fulfil"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.error().0, "insufficient_stock");
    assert_eq!(app.level("SAND-04", "YARD").await.0, "5");
    let quote = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Viewer)
        .await;
    assert_eq!(quote.body["status"], "open");
}

/// Hardening item 10: what a quote holds cannot be counted away from under it.
#[tokio::test]
async fn a_count_below_what_a_quote_holds_is_refused_until_the_quote_lets_it_go() {
    let app = yard().await;
    let number = held_quote(&app).await;
    let count = json!({"kind": "adjust", "location": "YARD",
        "lines": [{"sku": "SAND-04", "counted": "3", "reason": "stocktake"}]});
    let refused = app.post("/api/v1/movements", Who::Staff, &count).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(
        refused.error(),
        ("insufficient_stock".into(), Some("lines[0].counted".into()))
    );
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("4 reserved") && message.contains("cancel the quote"),
        "{message}"
    );
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        ("10".into(), "4".into(), "6".into())
    );
    let cancelled = app
        .post(
            &format!("/api/v1/quotes/{number}/cancel"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    app.book(&count).await;
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        ("3".into(), "0".into(), "3".into())
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_backordered_quote_holds_what_there_is_and_fulfils_the_rest_short() {
    let app = yard().await;
    app.allow_backorder("SAND-04").await;
    let mut body = json!({"lines": [{"sku": "SAND-04", "quantity": "12"}]});
    body["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    body["hold_stock"] = json!(true);
    let quote = app.post("/api/v1/quotes", Who::Staff, &body).await;
    assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    assert_eq!(
        quote.body["holds"],
        json!([{"sku": "SAND-04", "location": "YARD", "quantity": "10"}]),
        "only what is there is held"
    );
    let number = quote.body["number"].as_str().unwrap();
    let fulfilled = app
        .post(
            &format!("/api/v1/quotes/{number}/fulfil"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(fulfilled.status, StatusCode::OK, "{}", fulfilled.text);
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        ("-2".into(), "0".into(), "-2".into())
    );
    // What is short cannot be moved elsewhere.
    let moved = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "transfer", "from": "YARD", "to": "WH1",
                "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CONFLICT, "{}", moved.text);
    app.stop_and_check().await;
}

#[tokio::test]
async fn expiry_releases_what_a_quote_holds_and_an_expired_quote_cannot_be_accepted() {
    let app = yard().await;
    let number = held_quote(&app).await;
    let server = app.server.as_ref().unwrap().app();
    assert_eq!(server.expire_quotes().await.unwrap(), 0, "not due yet");
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 15);
    assert_eq!(server.expire_quotes_at(later).await.unwrap(), 1);
    let quote = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Viewer)
        .await;
    assert_eq!(quote.body["status"], "expired");
    assert_eq!(quote.body["holds"], json!([]));
    assert_eq!(app.level("SAND-04", "YARD").await.1, "0");
    assert_eq!(app.level("CEM-425", "WH1").await.1, "0");
    let accept = app
        .post(
            &format!("/api/v1/quotes/{number}/accept"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(accept.status, StatusCode::CONFLICT);
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_quote_that_cannot_release_its_hold_does_not_keep_the_others_from_expiring() {
    let app = yard().await;
    let stuck = held_quote(&app).await;
    // Its sand, released by hand: there is nothing left for it to release.
    app.book(&movement("release", "YARD", "SAND-04", "4")).await;
    let mut body = json!({"lines": [{"sku": "CEM-425", "quantity": "2", "unit": "bag"}]});
    body["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    body["hold_stock"] = json!(true);
    let other = app.post("/api/v1/quotes", Who::Staff, &body).await;
    let other = other.body["number"].as_str().unwrap().to_owned();
    let server = app.server.as_ref().unwrap().app();
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 15);
    assert_eq!(server.expire_quotes_at(later).await.unwrap(), 1);
    for (number, want) in [(other, "expired"), (stuck, "open")] {
        let quote = app
            .get(&format!("/api/v1/quotes/{number}"), Who::Viewer)
            .await;
        assert_eq!(quote.body["status"], want, "{number}");
    }
    app.stop_and_check().await;
}

#[tokio::test]
async fn product_pricing_fields_are_checked() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "packs",
            json!([{"name": "bag", "quantity": "25", "unit": "kg"}, {"name": "bag", "quantity": "20", "unit": "kg"}]),
            "packs[1]",
        ),
        (
            "packs",
            json!([{"name": "kg", "quantity": "25", "unit": "kg"}]),
            "packs[0]",
        ),
        ("pricing_unit", json!("crate"), "pricing_unit"),
        ("pricing_unit", json!("m"), "pricing_unit"),
        ("sell_in_whole", json!("bag"), "sell_in_whole"),
        (
            "price_breaks",
            json!([{"min_quantity": "5", "price": "1"}, {"min_quantity": "5", "price": "2"}]),
            "price_breaks[1].min_quantity",
        ),
        ("tax_class", json!("luxury"), "tax_class"),
        ("min_order", json!("0"), "min_order"),
    ];
    for (field, value, named) in cases {
        let mut body = sand("SAND-04");
        body[field] = value;
        let resp = app.post("/api/v1/products", Who::Staff, &body).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some(named), "{}", resp.text);
    }
    // A product counted in whole pieces has packs of whole pieces.
    let mut halves = bolts();
    halves["packs"] = json!([{"name": "half", "quantity": "0.5", "unit": "pc"}]);
    let resp = app.post("/api/v1/products", Who::Staff, &halves).await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text
    );
    assert_eq!(resp.error().1.as_deref(), Some("packs[0].quantity"));
    halves["fractional_count"] = json!(true);
    let resp = app.post("/api/v1/products", Who::Staff, &halves).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
    assert_eq!(resp.body["fractional_count"], true);
    app.create_product(&cement()).await;
    let public = app.get("/api/v1/products/CEM-425", Who::Anonymous).await;
    assert_eq!(public.body["packs"][0]["name"], "bag");
    assert_eq!(public.body["pricing_unit"], "bag");
    // Stock can be booked in packs.
    app.create_location("YARD", "Yard").await;
    let booked = app
        .book(&json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "CEM-425", "quantity": "2", "unit": "pallet"}]}))
        .await;
    assert_eq!(booked.body["lines"][0]["quantity"], "2000");
}

#[tokio::test]
async fn staff_hold_a_quote_at_the_location_they_choose() {
    let app = yard().await;
    let body = |bags: &str, hold: Value| {
        let mut body = json!({
            "lines": [{"sku": "CEM-425", "quantity": bags, "unit": "bag"}],
            "contact": {"name": "Sam", "phone": "+44 1234 567890"},
        });
        for (key, value) in hold.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    // 250 kg: left to itself the hold takes the warehouse (600 kg, the most).
    let chosen = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &body("10", json!({"hold_location": "YARD"})),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::CREATED, "{}", chosen.text);
    assert_eq!(chosen.body["hold_stock"], true, "a hold location holds");
    assert_eq!(
        chosen.body["holds"],
        json!([{"sku": "CEM-425", "location": "YARD", "quantity": "250"}])
    );
    assert_eq!(app.level("CEM-425", "YARD").await.1, "250");
    assert_eq!(app.level("CEM-425", "WH1").await.1, "0");
    // 750 kg more: the yard has 150 left, and that is what is held.
    let partly = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &body("30", json!({"hold_stock": true, "hold_location": "YARD"})),
        )
        .await;
    assert_eq!(partly.status, StatusCode::CREATED, "{}", partly.text);
    assert_eq!(
        partly.body["holds"],
        json!([{"sku": "CEM-425", "location": "YARD", "quantity": "150"}])
    );
    assert_eq!(app.level("CEM-425", "YARD").await.1, "400");
    assert_eq!(app.level("CEM-425", "WH1").await.1, "0");

    // Refused, taking no number and holding nothing.
    let anonymous = app
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &body("1", json!({"hold_location": "YARD"})),
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::FORBIDDEN,
        "{}",
        anonymous.text
    );
    for (hold, why) in [
        (json!({"hold_location": "NOPE"}), "NOPE"),
        (
            json!({"hold_stock": false, "hold_location": "YARD"}),
            "holds no stock",
        ),
    ] {
        let refused = app
            .post("/api/v1/quotes", Who::Staff, &body("1", hold))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(refused.error().1.as_deref(), Some("hold_location"));
        assert!(refused.text.contains(why), "{}", refused.text);
    }
    let listed = app.get("/api/v1/quotes", Who::Viewer).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.level("CEM-425", "YARD").await.1, "400");
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_lost_quote_link_is_replaced_and_the_old_one_opens_nothing() {
    let app = yard().await;
    let mut body = lines();
    body["contact"] = json!({"name": "Sam Builder", "email": "sam@example.com"});
    let made = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap().to_owned();
    let old = made.body["link"].as_str().unwrap().to_owned();
    let secret = |link: &str| link.rsplit('/').next().unwrap().to_owned();
    let opens = |link: String| {
        let app = &app;
        async move {
            app.get(
                &format!("/api/v1/quotes/link/{}", secret(&link)),
                Who::Anonymous,
            )
            .await
            .status
        }
    };
    assert_eq!(opens(old.clone()).await, StatusCode::OK);

    let path = format!("/api/v1/quotes/{number}/link");
    assert_eq!(
        app.post(&path, Who::Anonymous, &json!(null)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post(&path, Who::Viewer, &json!(null)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        opens(old.clone()).await,
        StatusCode::OK,
        "a refused call changed the link"
    );
    let relinked = app.post(&path, Who::Staff, &json!(null)).await;
    assert_eq!(relinked.status, StatusCode::OK, "{}", relinked.text);
    let new = relinked.body["link"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(new.starts_with(&format!("{}/q/", app.base)), "{new}");
    assert_eq!(relinked.body["number"], number);
    assert_eq!(
        relinked.body["version"],
        made.body["version"].as_u64().unwrap() + 1
    );

    assert_eq!(opens(old.clone()).await, StatusCode::NOT_FOUND);
    assert_eq!(opens(new.clone()).await, StatusCode::OK);
    let old_page = app
        .client
        .get(format!("{}/q/{}", app.base, secret(&old)))
        .send()
        .await
        .unwrap();
    assert_eq!(old_page.status(), StatusCode::NOT_FOUND);
    // Reading the quote never shows a link again.
    let read = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert!(read.body.get("link").is_none(), "{}", read.text);
    assert_eq!(
        app.post("/api/v1/quotes/Q-2020-0099/link", Who::Staff, &json!(null))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn an_open_quote_is_repriced_at_todays_prices_showing_what_changes() {
    let app = yard().await;
    let mut body = lines();
    body["contact"] = json!({"name": "Sam Builder", "email": "sam@example.com"});
    let made = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/quotes/{number}/reprice");

    // Nothing changed: nothing to say.
    let same = app
        .post(&format!("{path}?dry_run=true"), Who::Staff, &json!(null))
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    assert_eq!(same.body["changes"], json!([]));

    let patched = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"price": "40.00", "price_breaks": []}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    // 4.8 t of sand at 40.00 instead of 38.00: 192.00 net, 230.40 gross.
    let preview = app
        .post(&format!("{path}?dry_run=true"), Who::Staff, &json!(null))
        .await;
    assert_eq!(preview.body["applied"], false);
    let changes = preview.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{}", preview.text);
    assert_eq!(changes[0]["what"], "SAND-04");
    assert_eq!(changes[0]["after"], "230.40");
    assert_eq!(changes[1]["what"], "total");
    assert_eq!(changes[1]["before"], made.body["totals"]["gross"]);
    let unchanged = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert_eq!(
        unchanged.body["totals"], made.body["totals"],
        "a dry run saved"
    );
    assert_eq!(unchanged.body["version"], made.body["version"]);

    let applied = app.post(&path, Who::Staff, &json!(null)).await;
    assert_eq!(applied.body["applied"], true, "{}", applied.text);
    let saved = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert_eq!(saved.body["lines"][0]["gross"], "230.40");
    assert_eq!(saved.body["totals"]["gross"], changes[1]["after"]);
    assert_eq!(
        saved.body["version"],
        made.body["version"].as_u64().unwrap() + 1
    );
    assert!(
        saved.body["valid_until"].as_str().unwrap() >= made.body["valid_until"].as_str().unwrap()
    );

    // Anonymous callers and viewers do not re-price; only open quotes are.
    assert_eq!(
        app.post(&path, Who::Anonymous, &json!(null)).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.post(
        &format!("/api/v1/quotes/{number}/accept"),
        Who::Staff,
        &json!(null),
    )
    .await;
    let closed = app.post(&path, Who::Staff, &json!(null)).await;
    assert_eq!(closed.status, StatusCode::CONFLICT);
    assert_eq!(closed.error().0, "quote_status");
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_held_quote_whose_amounts_would_change_is_not_repriced() {
    let app = yard().await;
    let number = held_quote(&app).await;
    let mut cement = cement();
    cement["packs"] = json!([{"name": "bag", "quantity": "20", "unit": "kg"}, {"name": "pallet", "quantity": "40", "unit": "bag"}]);
    let replaced = app
        .put("/api/v1/products/CEM-425", Who::Staff, &cement)
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    let refused = app
        .post(
            &format!("/api/v1/quotes/{number}/reprice"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("holds stock"), "{}", refused.text);
    assert_eq!(
        app.level("CEM-425", "WH1").await.1,
        "600",
        "the hold changed"
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn quotes_are_listed_by_a_product_they_have_a_line_of() {
    let app = yard().await;
    let mut both = lines();
    both["contact"] = json!({"name": "Sam", "email": "sam@example.com"});
    let mut cement_only = both.clone();
    cement_only["lines"] = json!([{"sku": "CEM-425", "quantity": "10", "unit": "bag"}]);
    for body in [&both, &cement_only] {
        let made = app.post("/api/v1/quotes", Who::Anonymous, body).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    let count = |query: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .get(&format!("/api/v1/quotes?{query}"), Who::Viewer)
                .await;
            assert_eq!(resp.status, StatusCode::OK, "{query}: {}", resp.text);
            resp.body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("sku=SAND-04").await, 1);
    assert_eq!(count("sku=cem-425").await, 2);
    assert_eq!(count("sku=NOPE-1").await, 0);
    assert_eq!(count("status=open&sku=SAND-04").await, 1);
    assert_eq!(count("status=accepted&sku=SAND-04").await, 0);
    let bad = app.get("/api/v1/quotes?sku=no%20spaces", Who::Viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.error().1.as_deref(), Some("sku"));
}

#[tokio::test]
async fn staff_change_an_open_quote_and_what_it_holds_moves_with_it() {
    let app = yard().await;
    let made = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &json!({
                "lines": [{"sku": "CEM-425", "quantity": "10", "unit": "bag"}],
                "contact": {"name": "Sam", "phone": "+44 1234 567890"},
                "hold_location": "YARD",
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap().to_owned();
    let secret = made.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(app.level("CEM-425", "YARD").await.1, "250");
    let path = format!("/api/v1/quotes/{number}");

    // 20 bags, held at the warehouse now, with sand, an address and a note.
    let changed = app
        .put(
            &path,
            Who::Staff,
            &json!({
                "lines": [
                    {"sku": "CEM-425", "quantity": "20", "unit": "bag"},
                    {"sku": "SAND-04", "quantity": "2", "unit": "t"},
                ],
                "contact": {"name": "Sam Builder", "email": "sam@example.com"},
                "hold_location": "WH1",
                "note": "Call before delivery",
            }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["number"], number.as_str());
    assert_eq!(
        changed.body["version"],
        made.body["version"].as_u64().unwrap() + 1
    );
    assert_eq!(changed.body["contact"]["email"], "sam@example.com");
    assert_eq!(changed.body["note"], "Call before delivery");
    assert_eq!(changed.body["lines"][0]["requested"]["quantity"], "20");
    // 20 bags × 6.25 = 125.00; 2 t of sand × 38.00 = 76.00.
    assert_eq!(changed.body["lines"][0]["net"], "125.00");
    assert_eq!(changed.body["lines"][1]["net"], "76.00");
    assert_eq!(changed.body["totals"]["net"], "201.00");
    // The warehouse has no sand: only the cement is held, all of it there.
    assert_eq!(
        changed.body["holds"],
        json!([{"sku": "CEM-425", "location": "WH1", "quantity": "500"}])
    );
    assert_eq!(app.level("CEM-425", "YARD").await.1, "0");
    assert_eq!(app.level("CEM-425", "WH1").await.1, "500");
    // The customer's link stays and shows the change.
    let opened = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    assert_eq!(opened.body["totals"]["net"], "201.00");

    // Refused changes change nothing, and hold what was held.
    for (body, status, field) in [
        (
            json!({"lines": [], "contact": {"name": "Sam", "phone": "01234 567890"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("lines"),
        ),
        (
            json!({"lines": [{"sku": "CEM-425", "quantity": "1", "unit": "bag"}],
                   "contact": {"name": "Sam", "phone": "01234 567890"}, "hold_location": "NOPE"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("hold_location"),
        ),
        (
            json!({"lines": [{"sku": "NOPE-1", "quantity": "1"}],
                   "contact": {"name": "Sam", "phone": "01234 567890"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("lines[0].sku"),
        ),
    ] {
        let refused = app.put(&path, Who::Staff, &body).await;
        assert_eq!(refused.status, status, "{}", refused.text);
        assert_eq!(refused.error().1.as_deref(), field, "{}", refused.text);
    }
    assert_eq!(app.level("CEM-425", "WH1").await.1, "500");
    let kept = app.get(&path, Who::Viewer).await;
    assert_eq!(kept.body["version"], changed.body["version"]);
    let anonymous = app.put(&path, Who::Anonymous, &json!({})).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    app.stop_and_check().await;
}

#[tokio::test]
async fn a_quote_changed_to_hold_nothing_lets_its_stock_go_and_a_cancelled_one_stays() {
    let app = yard().await;
    let made = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &json!({
                "lines": [{"sku": "CEM-425", "quantity": "10", "unit": "bag"}],
                "contact": {"name": "Sam", "phone": "+44 1234 567890"},
                "hold_location": "YARD",
            }),
        )
        .await;
    assert_eq!(app.level("CEM-425", "YARD").await.1, "250");
    let path = format!("/api/v1/quotes/{}", made.body["number"].as_str().unwrap());
    let hold_nothing = json!({"lines": [{"sku": "CEM-425", "quantity": "20", "unit": "bag"}],
                        "contact": {"name": "Sam", "phone": "01234 567890"}, "hold_stock": false});
    // A change made on an older read is refused (someone changed it since).
    let version = made.body["version"].as_u64().unwrap();
    let stale = app
        .send(
            Method::PUT,
            &path,
            Who::Staff,
            Some(&hold_nothing),
            &[("if-match", &format!("\"{}\"", version + 1))],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );
    assert_eq!(app.level("CEM-425", "YARD").await.1, "250");
    // Without a hold, everything it held goes back.
    let unheld = app
        .send(
            Method::PUT,
            &path,
            Who::Staff,
            Some(&hold_nothing),
            &[("if-match", &format!("\"{version}\""))],
        )
        .await;
    assert_eq!(unheld.status, StatusCode::OK, "{}", unheld.text);
    assert_eq!(unheld.body["holds"], json!([]));
    assert_eq!(app.level("CEM-425", "YARD").await.1, "0");
    let audit = app.get("/api/v1/audit?kind=quote", Who::Owner).await;
    assert!(audit.text.contains("quote.updated"), "{}", audit.text);

    // A cancelled quote is not changed.
    let cancelled = app
        .send(
            Method::POST,
            &format!("{path}/cancel"),
            Who::Staff,
            None,
            &[],
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    let late = app
        .put(
            &path,
            Who::Staff,
            &json!({"lines": [{"sku": "CEM-425", "quantity": "1", "unit": "bag"}],
                    "contact": {"name": "Sam", "phone": "01234 567890"}}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    assert_eq!(late.error().0, "quote_status");
    app.stop_and_check().await;
}
