//! The stock ledger over HTTP: every movement kind, the checks, idempotency,
//! reversals, history, levels then and now, and what anonymous callers see.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, movement, sand};

fn strs(t: (&str, &str, &str)) -> (String, String, String) {
    (t.0.to_owned(), t.1.to_owned(), t.2.to_owned())
}

#[tokio::test]
async fn every_kind_of_movement_changes_the_levels_exactly() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "12.5"))
        .await;
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        strs(("12.5", "0", "12.5"))
    );

    app.book(&movement("ship", "YARD", "SAND-04", "2.25")).await;
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        strs(("10.25", "0", "10.25"))
    );

    app.book(&json!({"kind": "transfer", "from": "YARD", "to": "WH1",
        "lines": [{"sku": "SAND-04", "quantity": "4"}]}))
        .await;
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        strs(("6.25", "0", "6.25"))
    );
    assert_eq!(app.level("SAND-04", "WH1").await, strs(("4", "0", "4")));

    app.book(&movement("reserve", "YARD", "SAND-04", "5")).await;
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        strs(("6.25", "5", "1.25"))
    );
    app.book(&movement("release", "YARD", "SAND-04", "2")).await;
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        strs(("6.25", "3", "3.25"))
    );

    let delta = app
        .book(&json!({"kind": "adjust", "location": "WH1",
            "lines": [{"sku": "SAND-04", "quantity": "-0.5", "reason": "spillage"}]}))
        .await;
    assert_eq!(delta.body["lines"][0]["quantity"], "-0.5");
    assert_eq!(app.level("SAND-04", "WH1").await, strs(("3.5", "0", "3.5")));
    let counted = app
        .book(&json!({"kind": "adjust", "location": "WH1",
            "lines": [{"sku": "SAND-04", "counted": "3.2", "reason": "stocktake"}]}))
        .await;
    assert_eq!(
        counted.body["lines"][0]["quantity"], "-0.3",
        "the change booked"
    );
    assert_eq!(counted.body["lines"][0]["counted"], "3.2");
    assert_eq!(app.level("SAND-04", "WH1").await, strs(("3.2", "0", "3.2")));

    let one = app.get("/api/v1/products/SAND-04/stock", Who::Viewer).await;
    assert_eq!(one.body["totals"]["on_hand"], "9.45");
    assert_eq!(one.body["totals"]["reserved"], "3");
    assert_eq!(one.body["totals"]["available"], "6.45");
    assert_eq!(one.body["locations"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_document_books_all_its_lines_or_none() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.create_product(&sand("SAND-08")).await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("receive", "YARD", "SAND-08", "1")).await;
    let refused = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "ship", "location": "YARD", "reference": "ORD-7", "lines": [
                {"sku": "SAND-04", "quantity": "4"},
                {"sku": "SAND-08", "quantity": "3"},
            ]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.error(),
        (
            "insufficient_stock".into(),
            Some("lines[1].quantity".into())
        )
    );
    assert!(refused.text.contains("SAND-08"), "{}", refused.text);
    assert_eq!(
        app.level("SAND-04", "YARD").await.0,
        "10",
        "line 1 was not booked"
    );
    let history = app
        .get("/api/v1/movements?reference=ORD-7", Who::Viewer)
        .await;
    assert_eq!(history.body["items"], json!([]));

    // Two lines of one SKU are checked together.
    let refused = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "ship", "location": "YARD", "lines": [
                {"sku": "SAND-04", "quantity": "6"}, {"sku": "SAND-04", "quantity": "6"},
            ]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.error().1.as_deref(), Some("lines[1].quantity"));
}

#[tokio::test]
async fn reserved_stock_cannot_be_shipped_and_release_is_bounded() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("reserve", "YARD", "SAND-04", "8")).await;
    let ship = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &movement("ship", "YARD", "SAND-04", "3"),
        )
        .await;
    assert_eq!(ship.status, StatusCode::CONFLICT);
    let reserve = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &movement("reserve", "YARD", "SAND-04", "3"),
        )
        .await;
    assert_eq!(reserve.error().0, "insufficient_stock");
    let release = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &movement("release", "YARD", "SAND-04", "9"),
        )
        .await;
    assert_eq!(release.status, StatusCode::CONFLICT);
    assert_eq!(release.error().0, "insufficient_reserved");
    let transfer = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "transfer", "from": "YARD", "to": "WH1",
                "lines": [{"sku": "SAND-04", "quantity": "2.5"}]}),
        )
        .await;
    assert_eq!(transfer.error().0, "insufficient_stock");
    let down = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "adjust", "location": "WH1",
                "lines": [{"sku": "SAND-04", "quantity": "-1", "reason": "lost"}]}),
        )
        .await;
    assert_eq!(down.error().0, "negative_stock");
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("10", "8", "2")));
}

#[tokio::test]
async fn a_product_that_allows_backorders_can_be_sold_short() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.allow_backorder("SAND-04").await;
    app.book(&movement("ship", "YARD", "SAND-04", "3")).await;
    app.book(&movement("reserve", "YARD", "SAND-04", "2")).await;
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("-3", "2", "-5")));
    let public = app
        .get("/api/v1/products/SAND-04/stock", Who::Anonymous)
        .await;
    assert_eq!(public.body["availability"], "out");
}

/// Hardening item 10: a count below what is reserved left available at −1.
#[tokio::test]
async fn a_count_below_the_reserved_amount_is_refused() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("reserve", "YARD", "SAND-04", "8")).await;
    let counted = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "adjust", "location": "YARD",
                "lines": [{"sku": "SAND-04", "counted": "7", "reason": "stocktake"}]}),
        )
        .await;
    assert_eq!(counted.status, StatusCode::CONFLICT, "{}", counted.text);
    assert_eq!(
        counted.error(),
        ("insufficient_stock".into(), Some("lines[0].counted".into()))
    );
    let message = counted.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("8 reserved"), "{message}");
    assert!(
        message.contains("release the reservation first"),
        "{message}"
    );
    let delta = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "adjust", "location": "YARD",
                "lines": [{"sku": "SAND-04", "quantity": "-2.5", "reason": "spillage"}]}),
        )
        .await;
    assert_eq!(delta.status, StatusCode::CONFLICT, "{}", delta.text);
    assert_eq!(
        delta.error(),
        (
            "insufficient_stock".into(),
            Some("lines[0].quantity".into())
        )
    );
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("10", "8", "2")));

    // Down to exactly what is held is fine; below it, once released.
    app.book(&json!({"kind": "adjust", "location": "YARD",
        "lines": [{"sku": "SAND-04", "counted": "8", "reason": "stocktake"}]}))
        .await;
    app.book(&movement("release", "YARD", "SAND-04", "8")).await;
    app.book(&json!({"kind": "adjust", "location": "YARD",
        "lines": [{"sku": "SAND-04", "counted": "7", "reason": "stocktake"}]}))
        .await;
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("7", "0", "7")));
    app.stop_and_check().await;
}

/// Hardening item 10: a transfer out of a level sold short created stock elsewhere.
#[tokio::test]
async fn a_transfer_never_moves_more_than_is_there_even_with_backorders() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.allow_backorder("SAND-04").await;
    app.book(&movement("ship", "YARD", "SAND-04", "3")).await;
    let transfer = |quantity: &str| {
        json!({"kind": "transfer", "from": "YARD", "to": "WH1",
            "lines": [{"sku": "SAND-04", "quantity": quantity}]})
    };
    let refused = app
        .post("/api/v1/movements", Who::Staff, &transfer("1"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(
        refused.error(),
        (
            "insufficient_stock".into(),
            Some("lines[0].quantity".into())
        )
    );
    assert!(
        refused.text.contains("only -3 available to move"),
        "{}",
        refused.text
    );
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("-3", "0", "-3")));
    assert_eq!(app.level("SAND-04", "WH1").await, strs(("0", "0", "0")));

    // With stock there, only what is available (not what is held) moves.
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("reserve", "YARD", "SAND-04", "5")).await;
    let refused = app
        .post("/api/v1/movements", Who::Staff, &transfer("2.5"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    app.book(&transfer("2")).await;
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("5", "5", "0")));
    assert_eq!(app.level("SAND-04", "WH1").await, strs(("2", "0", "2")));
    app.stop_and_check().await;
}

#[tokio::test]
async fn with_backorders_an_adjustment_never_takes_on_hand_below_zero() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.allow_backorder("SAND-04").await;
    app.book(&movement("receive", "YARD", "SAND-04", "4")).await;
    app.book(&movement("reserve", "YARD", "SAND-04", "6")).await;
    let down = |quantity: &str| {
        json!({"kind": "adjust", "location": "YARD",
            "lines": [{"sku": "SAND-04", "quantity": quantity, "reason": "lost"}]})
    };
    let refused = app.post("/api/v1/movements", Who::Staff, &down("-5")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.error().0, "negative_stock");
    // Backordered: a count may cut into what is held, down to zero.
    app.book(&down("-4")).await;
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("0", "6", "-6")));
    app.book(&movement("ship", "YARD", "SAND-04", "1")).await;
    let refused = app.post("/api/v1/movements", Who::Staff, &down("-1")).await;
    assert_eq!(refused.error().0, "negative_stock");
    app.stop_and_check().await;
}

#[tokio::test]
async fn reversing_a_count_that_would_cut_into_a_reservation_is_refused() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "5")).await;
    let up = app
        .book(&json!({"kind": "adjust", "location": "YARD",
            "lines": [{"sku": "SAND-04", "counted": "9", "reason": "found a heap"}]}))
        .await;
    app.book(&movement("reserve", "YARD", "SAND-04", "7")).await;
    let id = up.body["id"].as_u64().unwrap();
    let refused = app
        .post(
            &format!("/api/v1/movements/{id}/reverse"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.error().0, "insufficient_stock");
    assert!(refused.text.contains("7 reserved"), "{}", refused.text);
    assert_eq!(app.level("SAND-04", "YARD").await, strs(("9", "7", "2")));
    app.stop_and_check().await;
}

/// Hardening item 7: movements took 0.5 pc.
#[tokio::test]
async fn fractions_of_a_piece_are_refused_in_movements_unless_the_product_takes_them() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.create_product(&json!({
        "sku": "BOLT-10", "name": "Hex bolt M10 x 80", "category": "Fixings", "unit": "pc",
        "price": "0.40", "packs": [{"name": "box", "quantity": "10", "unit": "pc"}],
    }))
    .await;
    let refused = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &movement("receive", "YARD", "BOLT-10", "0.5"),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.error().1.as_deref(), Some("lines[0].quantity"));
    assert!(refused.text.contains("whole pieces"), "{}", refused.text);
    let cases = [
        (
            json!({"sku": "BOLT-10", "quantity": "0.05", "unit": "box"}),
            "receive",
            "lines[0].quantity",
        ),
        (
            json!({"sku": "BOLT-10", "quantity": "-0.5", "reason": "lost"}),
            "adjust",
            "lines[0].quantity",
        ),
        (
            json!({"sku": "BOLT-10", "counted": "2.5", "reason": "count"}),
            "adjust",
            "lines[0].counted",
        ),
    ];
    for (line, kind, field) in cases {
        let resp = app
            .post(
                "/api/v1/movements",
                Who::Staff,
                &json!({"kind": kind, "location": "YARD", "lines": [line]}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{line}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some(field), "{}", resp.text);
    }
    assert_eq!(app.level("BOLT-10", "YARD").await, strs(("0", "0", "0")));
    app.book(&json!({"kind": "receive", "location": "YARD",
        "lines": [{"sku": "BOLT-10", "quantity": "0.5", "unit": "box"}]}))
        .await;
    assert_eq!(app.level("BOLT-10", "YARD").await, strs(("5", "0", "5")));

    app.patch(
        "/api/v1/products/BOLT-10",
        Who::Staff,
        &json!({"fractional_count": true}),
    )
    .await;
    app.book(&movement("ship", "YARD", "BOLT-10", "0.5")).await;
    assert_eq!(
        app.level("BOLT-10", "YARD").await,
        strs(("4.5", "0", "4.5"))
    );
    // Whole again: a count in whole pieces still books (its change is -0.5).
    app.patch(
        "/api/v1/products/BOLT-10",
        Who::Staff,
        &json!({"fractional_count": false}),
    )
    .await;
    app.book(&json!({"kind": "adjust", "location": "YARD",
        "lines": [{"sku": "BOLT-10", "counted": "4", "reason": "count"}]}))
        .await;
    assert_eq!(app.level("BOLT-10", "YARD").await, strs(("4", "0", "4")));
    app.stop_and_check().await;
}

#[tokio::test]
async fn movement_input_is_checked_line_by_line() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.create_location("OLD", "Old shed").await;
    app.patch(
        "/api/v1/locations/OLD",
        Who::Staff,
        &json!({"active": false}),
    )
    .await;
    let cases = [
        (
            json!({"kind": "receive", "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
            "location",
        ),
        (
            json!({"kind": "receive", "location": "MOON", "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
            "location",
        ),
        (
            json!({"kind": "receive", "location": "OLD", "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
            "location",
        ),
        (
            json!({"kind": "transfer", "from": "YARD", "to": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
            "to",
        ),
        (
            json!({"kind": "transfer", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
            "from",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": []}),
            "lines",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "NOPE", "quantity": "1"}]}),
            "lines[0].sku",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "0"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "-2"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1.2345678"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "counted": "1"}]}),
            "lines[0].counted",
        ),
        (
            json!({"kind": "adjust", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
            "lines[0].reason",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1", "unit": "m"}]}),
            "lines[0].unit",
        ),
        (
            json!({"kind": "receive", "location": "YARD", "lines": [{"sku": "SAND-04", "quantity": "1", "unit": "furlong"}]}),
            "lines[0].unit",
        ),
        (
            json!({"kind": "teleport", "location": "YARD", "lines": []}),
            "kind",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post("/api/v1/movements", Who::Staff, &body).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            resp.text
        );
        assert_eq!(
            resp.error().1.as_deref(),
            Some(field),
            "{body}: {}",
            resp.text
        );
    }
    let history = app.get("/api/v1/movements", Who::Viewer).await;
    assert_eq!(history.body["items"], json!([]), "nothing was booked");
}

#[tokio::test]
async fn quantities_in_other_units_are_converted_exactly_to_the_stock_unit() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let booked = app
        .book(&json!({"kind": "receive", "location": "YARD", "lines": [
            {"sku": "SAND-04", "quantity": "3", "unit": "m3"},
            {"sku": "SAND-04", "quantity": "250", "unit": "kg"},
        ]}))
        .await;
    assert_eq!(booked.body["lines"][0]["quantity"], "4.8");
    assert_eq!(
        booked.body["lines"][0]["entered"],
        json!({"quantity": "3", "unit": "m3"})
    );
    assert_eq!(booked.body["lines"][1]["quantity"], "0.25");
    assert_eq!(app.level("SAND-04", "YARD").await.0, "5.05");

    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"density_kg_m3": null}),
    )
    .await;
    let refused = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "receive", "location": "YARD",
                "lines": [{"sku": "SAND-04", "quantity": "3", "unit": "m3"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text
            .contains("SAND-04 has no density: cannot convert m3 to t"),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_books_once() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let body = movement("receive", "YARD", "SAND-04", "7");
    let send = |key: &'static str, body: Value, who: Who| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/api/v1/movements",
                who,
                Some(&body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = send("dn-1042", body.clone(), Who::Staff).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let retry = send("dn-1042", body.clone(), Who::Staff).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "7", "booked once");

    let other_body = send(
        "dn-1042",
        movement("receive", "YARD", "SAND-04", "8"),
        Who::Staff,
    )
    .await;
    assert_eq!(other_body.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_body.error().1.as_deref(), Some("Idempotency-Key"));

    // Keys belong to their caller: another token's same key is a new request.
    let owner = send("dn-1042", body.clone(), Who::Owner).await;
    assert_eq!(owner.status, StatusCode::CREATED);
    assert!(owner.header("idempotent-replayed").is_none());
    assert_eq!(app.level("SAND-04", "YARD").await.0, "14");

    // A refused request is not remembered: the same key may try again.
    let short = send(
        "ship-1",
        movement("ship", "YARD", "SAND-04", "20"),
        Who::Staff,
    )
    .await;
    assert_eq!(short.status, StatusCode::CONFLICT);
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    let again = send(
        "ship-1",
        movement("ship", "YARD", "SAND-04", "20"),
        Who::Staff,
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_book_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    app.stock_setup().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.send(
                    Method::POST,
                    "/api/v1/movements",
                    Who::Staff,
                    Some(&movement("receive", "YARD", "SAND-04", "1")),
                    &[("idempotency-key", "same")],
                )
                .await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let resp = task.await.unwrap();
        assert_eq!(resp.status, StatusCode::CREATED);
        ids.insert(resp.body["id"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "1");
}

#[tokio::test]
async fn a_reversal_books_the_opposite_once_and_links_to_the_original() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let received = app
        .book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    let transfer = app
        .book(&json!({"kind": "transfer", "from": "YARD", "to": "WH1",
            "lines": [{"sku": "SAND-04", "quantity": "4"}]}))
        .await;
    let id = transfer.body["id"].as_u64().unwrap();
    let reversed = app
        .post(
            &format!("/api/v1/movements/{id}/reverse"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::CREATED, "{}", reversed.text);
    assert_eq!(reversed.body["reverses"], id);
    assert_eq!(reversed.body["from"], "WH1");
    assert_eq!(reversed.body["to"], "YARD");
    assert_eq!(app.level("SAND-04", "YARD").await.0, "10");
    assert_eq!(app.level("SAND-04", "WH1").await.0, "0");

    let twice = app
        .post(
            &format!("/api/v1/movements/{id}/reverse"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.error().0, "already_reversed");

    // Undoing a receipt whose stock has gone is refused.
    app.book(&movement("ship", "YARD", "SAND-04", "8")).await;
    let rid = received.body["id"].as_u64().unwrap();
    let gone = app
        .post(
            &format!("/api/v1/movements/{rid}/reverse"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(gone.status, StatusCode::CONFLICT);
    assert_eq!(gone.error().0, "insufficient_stock");

    let missing = app
        .post("/api/v1/movements/9999/reverse", Who::Staff, &json!(null))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // The original stays as it was (the ledger is append-only), and says
    // which movement reversed it.
    let reversal = reversed.body["id"].as_u64().unwrap();
    let mut original = app
        .get(&format!("/api/v1/movements/{id}"), Who::Viewer)
        .await
        .body;
    assert_eq!(original["reversed_by"], reversal);
    original.as_object_mut().unwrap().remove("reversed_by");
    assert_eq!(original, transfer.body);
    // The history links both ways, on every page.
    let page = app
        .get("/api/v1/movements?limit=500", Who::Viewer)
        .await
        .body;
    let by_id = |want: u64| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == want)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(id)["reversed_by"], reversal);
    assert_eq!(by_id(reversal)["reverses"], id);
    assert!(by_id(reversal).get("reversed_by").is_none());
    assert!(by_id(rid).get("reversed_by").is_none());
    assert_eq!(page["products"]["SAND-04"]["name"], "Washed sand 0-4 mm");
    assert_eq!(page["products"]["SAND-04"]["unit"], "t");
}

#[tokio::test]
async fn stock_rows_name_the_product_its_unit_and_its_packs() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let mut cement = sand("CEM-25");
    cement["name"] = json!("Portland cement CEM II 25 kg");
    cement["unit"] = json!("kg");
    cement["packs"] = json!([
        {"name": "bag", "quantity": "25", "unit": "kg"},
        {"name": "pallet", "quantity": "40", "unit": "bag"}
    ]);
    cement["sell_in_whole"] = json!("bag");
    app.create_product(&cement).await;
    app.book(&movement("receive", "YARD", "CEM-25", "210"))
        .await;
    app.book(&movement("receive", "YARD", "SAND-04", "3.5"))
        .await;
    let rows = app.get("/api/v1/stock", Who::Viewer).await.body;
    let rows = rows["items"].as_array().unwrap();
    let cement = rows.iter().find(|r| r["sku"] == "CEM-25").unwrap();
    assert_eq!(cement["name"], "Portland cement CEM II 25 kg");
    assert_eq!(cement["unit"], "kg");
    assert_eq!(cement["on_hand"], "210");
    // Counted in the pack it is sold whole in, to two decimals.
    assert_eq!(cement["packs"], json!({"pack": "bag", "count": "8.4"}));
    let sand = rows.iter().find(|r| r["sku"] == "SAND-04").unwrap();
    assert_eq!(sand["name"], "Washed sand 0-4 mm");
    assert_eq!(sand["unit"], "t");
    assert!(sand.get("packs").is_none(), "{sand}");
    // The same on the low-stock filter and past levels.
    let past = app
        .get(
            &format!("/api/v1/stock?sku=CEM-25&as_of={}", jiff::Timestamp::now()),
            Who::Viewer,
        )
        .await
        .body;
    assert_eq!(past["items"][0]["name"], "Portland cement CEM II 25 kg");
    assert_eq!(past["items"][0]["packs"]["count"], "8.4");
}

#[tokio::test]
async fn history_filters_and_pages_newest_first() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.create_product(&sand("GRAVEL-1")).await;
    for i in 0..12 {
        let sku = if i % 3 == 0 { "GRAVEL-1" } else { "SAND-04" };
        let mut m = movement("receive", if i % 2 == 0 { "YARD" } else { "WH1" }, sku, "1");
        m["reference"] = json!(format!("DN-{}", i % 4));
        app.book(&m).await;
    }
    let mut ids = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/movements?limit=5&cursor={c}"),
            None => "/api/v1/movements?limit=5".into(),
        };
        let page = app.get(&path, Who::Viewer).await;
        ids.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_u64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids, (1..=12).rev().collect::<Vec<u64>>());

    let count = |path: &'static str| {
        let app = &app;
        async move {
            let page = app.get(path, Who::Viewer).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
            page.body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("/api/v1/movements?sku=GRAVEL-1").await, 4);
    assert_eq!(count("/api/v1/movements?location=WH1").await, 6);
    assert_eq!(count("/api/v1/movements?reference=DN-1").await, 3);
    assert_eq!(count("/api/v1/movements?kind=ship").await, 0);
    assert_eq!(
        count("/api/v1/movements?sku=SAND-04&location=YARD").await,
        4
    );
    let newest = app.get("/api/v1/movements?limit=1", Who::Viewer).await;
    let seq = newest.body["items"][0]["seq"].as_u64().unwrap();
    let before_last = app.get("/api/v1/movements?limit=2", Who::Viewer).await;
    let seq_2 = before_last.body["items"][1]["seq"].as_u64().unwrap();
    let since = app
        .get(&format!("/api/v1/movements?since_seq={seq_2}"), Who::Viewer)
        .await;
    let since: Vec<_> = since.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(since, [seq]);
    let bad = app
        .get("/api/v1/movements?from=yesterday", Who::Viewer)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn as_of_answers_what_was_in_stock_then() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let then = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.book(&movement("ship", "YARD", "SAND-04", "4")).await;
    app.book(&movement("reserve", "YARD", "SAND-04", "1")).await;

    let past = app
        .get(
            &format!("/api/v1/products/SAND-04/stock?as_of={then}"),
            Who::Viewer,
        )
        .await;
    assert_eq!(past.status, StatusCode::OK, "{}", past.text);
    assert_eq!(past.body["totals"]["on_hand"], "10");
    assert_eq!(past.body["totals"]["reserved"], "0");
    let now = app.get("/api/v1/products/SAND-04/stock", Who::Viewer).await;
    assert_eq!(now.body["totals"]["on_hand"], "6");
    let rows = app
        .get(&format!("/api/v1/stock?as_of={then}"), Who::Viewer)
        .await;
    assert_eq!(rows.body["items"][0]["on_hand"], "10");
    let anonymous = app
        .get(
            &format!("/api/v1/products/SAND-04/stock?as_of={then}"),
            Who::Anonymous,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn low_stock_follows_reorder_points_per_product_and_location() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"reorder_point": "5", "reorder_points": {"WH1": "1"}}),
    )
    .await;
    app.book(&movement("receive", "YARD", "SAND-04", "3")).await;
    app.book(&movement("receive", "WH1", "SAND-04", "2")).await;
    let low = app.get("/api/v1/stock?low=true", Who::Viewer).await;
    let rows: Vec<_> = low.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["location"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["YARD"], "WH1 has its own, lower reorder point");
    let totals = app.get("/api/v1/products/SAND-04/stock", Who::Viewer).await;
    assert_eq!(
        totals.body["totals"]["low"], false,
        "5 available is not below 5"
    );
    app.book(&movement("ship", "YARD", "SAND-04", "1")).await;
    let totals = app.get("/api/v1/products/SAND-04/stock", Who::Viewer).await;
    assert_eq!(totals.body["totals"]["low"], true);
    let public = app
        .get("/api/v1/products/SAND-04/stock", Who::Anonymous)
        .await;
    assert_eq!(
        public.body,
        json!({"sku": "SAND-04", "unit": "t", "availability": "low"})
    );
    let by_category = app
        .get("/api/v1/stock?category=aggregates", Who::Viewer)
        .await;
    assert_eq!(by_category.body["items"].as_array().unwrap().len(), 2);
    let other = app.get("/api/v1/stock?category=cement", Who::Viewer).await;
    assert_eq!(other.body["items"], json!([]));
}

#[tokio::test]
async fn anonymous_callers_see_availability_as_the_shop_chooses_and_never_movements() {
    for (mode, expected) in [
        (
            "exact",
            json!({"sku": "SAND-04", "unit": "t", "availability": "in_stock", "available": "6"}),
        ),
        (
            "bucket",
            json!({"sku": "SAND-04", "unit": "t", "availability": "in_stock"}),
        ),
        ("hidden", json!({"sku": "SAND-04", "unit": "t"})),
    ] {
        let app = TestApp::spawn_with(|c| {
            c.stock.public_availability = match mode {
                "exact" => quarry::config::PublicAvailability::Exact,
                "bucket" => quarry::config::PublicAvailability::Bucket,
                _ => quarry::config::PublicAvailability::Hidden,
            };
        })
        .await;
        app.stock_setup().await;
        app.book(&movement("receive", "YARD", "SAND-04", "10"))
            .await;
        app.book(&movement("reserve", "YARD", "SAND-04", "4")).await;
        let public = app
            .get("/api/v1/products/SAND-04/stock", Who::Anonymous)
            .await;
        assert_eq!(public.body, expected, "{mode}");
        assert!(!public.text.contains("reserved") && !public.text.contains("YARD"));
        for path in ["/api/v1/movements", "/api/v1/stock", "/api/v1/movements/1"] {
            assert_eq!(
                app.get(path, Who::Anonymous).await.status,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
        app.delete("/api/v1/products/SAND-04", Who::Staff).await;
        let archived = app
            .get("/api/v1/products/SAND-04/stock", Who::Anonymous)
            .await;
        assert_eq!(archived.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn everything_acknowledged_before_a_clean_shutdown_is_there_after_it() {
    let mut app = TestApp::spawn().await;
    app.stock_setup().await;
    let app_ref = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let app = app_ref.clone();
            tokio::spawn(async move {
                app.post(
                    "/api/v1/movements",
                    Who::Staff,
                    &movement(
                        "receive",
                        if i % 2 == 0 { "YARD" } else { "WH1" },
                        "SAND-04",
                        "1.5",
                    ),
                )
                .await
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for task in tasks {
        let resp = task.await.unwrap();
        assert_eq!(resp.status, StatusCode::CREATED);
        acknowledged.push(resp.body["id"].as_u64().unwrap());
    }
    app = std::sync::Arc::try_unwrap(app_ref).ok().unwrap();
    app.restart().await;
    for id in acknowledged {
        let m = app
            .get(&format!("/api/v1/movements/{id}"), Who::Viewer)
            .await;
        assert_eq!(m.status, StatusCode::OK, "movement {id} lost");
    }
    assert_eq!(app.level("SAND-04", "YARD").await.0, "22.5");
    assert_eq!(app.level("SAND-04", "WH1").await.0, "22.5");
    app.stop().await;
    let report = app.check();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.movements, 30);
}

/// A small deterministic generator (xorshift), so the run can be repeated.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_booking_at_once_leave_levels_equal_to_the_ledger() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let skus = ["P-1", "P-2", "P-3"];
    for sku in skus {
        app.create_product(&sand(sku)).await;
    }
    app.create_location("YARD", "Yard").await;
    app.create_location("WH1", "Warehouse").await;
    let tasks: Vec<_> = (0..64u64)
        .map(|client| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (client + 1));
                let mut acknowledged = Vec::new();
                for _ in 0..100 {
                    let sku = skus[rng.below(3)];
                    let loc = ["YARD", "WH1"][rng.below(2)];
                    let q = format!("{}.{}", rng.below(5) + 1, rng.below(10));
                    let body = match rng.below(6) {
                        0 | 1 => movement("receive", loc, sku, &q),
                        2 => movement("ship", loc, sku, &q),
                        3 => movement("reserve", loc, sku, &q),
                        4 => movement("release", loc, sku, &q),
                        _ => json!({"kind": "transfer", "from": loc,
                            "to": if loc == "YARD" { "WH1" } else { "YARD" },
                            "lines": [{"sku": sku, "quantity": q}]}),
                    };
                    let resp = app.post("/api/v1/movements", Who::Staff, &body).await;
                    match resp.status {
                        StatusCode::CREATED => acknowledged.push(resp.body["id"].as_u64().unwrap()),
                        StatusCode::CONFLICT => {}
                        other => panic!("unexpected {other}: {}", resp.text),
                    }
                }
                acknowledged
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    assert!(
        acknowledged.len() > 1000,
        "too few bookings succeeded to mean much"
    );

    let rows = app.get("/api/v1/stock?limit=1000", Who::Viewer).await;
    for row in rows.body["items"].as_array().unwrap() {
        for field in ["on_hand", "reserved", "available"] {
            let value: f64 = row[field].as_str().unwrap().parse().unwrap();
            assert!(value >= 0.0, "negative {field}: {row}");
        }
    }
    let mut app = std::sync::Arc::try_unwrap(app).ok().unwrap();
    app.stop().await;
    let report = app.check();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(
        report.movements,
        acknowledged.len() as u64,
        "every acknowledged movement, once"
    );
    acknowledged.sort_unstable();
    acknowledged.dedup();
    assert_eq!(report.movements, acknowledged.len() as u64);
}

#[tokio::test]
async fn history_can_be_followed_oldest_first_from_a_seq() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let mut seqs = Vec::new();
    for i in 0..9 {
        let kind = if i % 3 == 2 { "ship" } else { "receive" };
        let booked = app.book(&movement(kind, "YARD", "SAND-04", "1")).await;
        seqs.push((
            booked.body["id"].as_u64().unwrap(),
            booked.body["seq"].as_u64().unwrap(),
        ));
    }
    let since = seqs[3].1;
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/movements?order=asc&since_seq={since}&limit=2&cursor={c}"),
            None => format!("/api/v1/movements?order=asc&since_seq={since}&limit=2"),
        };
        let page = app.get(&path, Who::Viewer).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        ids.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_u64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids, seqs[4..].iter().map(|(id, _)| *id).collect::<Vec<_>>());
    let ships = app
        .get(
            "/api/v1/movements?order=asc&kind=ship&sku=SAND-04",
            Who::Viewer,
        )
        .await;
    let ship_ids: Vec<u64> = ships.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ship_ids, [seqs[2].0, seqs[5].0, seqs[8].0]);
    let bad = app
        .get("/api/v1/movements?order=sideways", Who::Viewer)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// The class of hardening item 11 (a SKU twice in one import): two counts of
/// one product in one movement kept only the later, silently.
#[tokio::test]
async fn a_product_counted_twice_in_one_movement_is_refused_naming_both_lines() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let twice = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "adjust", "location": "YARD", "lines": [
                {"sku": "SAND-04", "counted": "5", "reason": "count"},
                {"sku": "SAND-04", "counted": "7", "reason": "count"},
            ]}),
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.text
    );
    assert_eq!(twice.error().1.as_deref(), Some("lines[1].counted"));
    assert!(twice.text.contains("line 1"), "{}", twice.text);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "0");
    // A count and a change of the same product may still go together.
    let both = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &json!({"kind": "adjust", "location": "YARD", "lines": [
                {"sku": "SAND-04", "counted": "5", "reason": "count"},
                {"sku": "SAND-04", "quantity": "-1", "reason": "spilt"},
            ]}),
        )
        .await;
    assert_eq!(both.status, StatusCode::CREATED, "{}", both.text);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "4");
}
