//! Delivering accepted quotes in loads over HTTP: held stock first, what a
//! weighbridge said, delivered and outstanding per line, fulfilled when
//! nothing is left (or closed), the printable note, and levels that stay
//! equal to the ledger.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, movement};

/// SAND-04 (1600 kg/m³): 20 t at YARD, 10 t at WH1; an accepted quote for
/// `lines`, holding its stock at `hold` if given. Returns its number.
async fn accepted(app: &TestApp, lines: Value, hold: Option<&str>) -> String {
    let mut body = json!({
        "lines": lines,
        "contact": {"name": "Sam Builder", "phone": "01234 567890"},
    });
    if let Some(location) = hold {
        body["hold_stock"] = json!(true);
        body["hold_location"] = json!(location);
    }
    let made = app.post("/api/v1/quotes", Who::Staff, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap().to_owned();
    let accepted = app
        .post(
            &format!("/api/v1/quotes/{number}/accept"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    number
}

async fn stocked() -> TestApp {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "20"))
        .await;
    app.book(&movement("receive", "WH1", "SAND-04", "10")).await;
    app
}

async fn deliver(app: &TestApp, number: &str, body: &Value) -> crate::helpers::Resp {
    app.post(
        &format!("/api/v1/quotes/{number}/deliveries"),
        Who::Staff,
        body,
    )
    .await
}

#[tokio::test]
async fn an_accepted_quote_is_delivered_in_two_loads_from_what_it_holds() {
    let app = stocked().await;
    // 3 m³ of sand is 4.8 t, held at WH1.
    let number = accepted(
        &app,
        json!([{"sku": "SAND-04", "quantity": "3", "unit": "m3"}]),
        Some("WH1"),
    )
    .await;
    assert_eq!(app.level("SAND-04", "WH1").await.1, "4.8");
    // The first load: 1.5 m³ ordered, the weighbridge says 2.38 t.
    let first = deliver(
        &app,
        &number,
        &json!({
            "lines": [{"line": 1, "quantity": "1.5", "unit": "m3",
                       "actual_quantity": "2.38", "actual_unit": "t"}],
            "vehicle": "Tipper KX19 ABC", "driver": "Sam", "reference": "Weighbridge 20731",
        }),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let line = &first.body["delivery"]["lines"][0];
    assert_eq!(line["quantity"], json!({"quantity": "2.4", "unit": "t"}));
    assert_eq!(line["entered"], json!({"quantity": "1.5", "unit": "m3"}));
    assert_eq!(line["actual"], json!({"quantity": "2.38", "unit": "t"}));
    assert_eq!(line["outstanding"]["quantity"], "2.4");
    assert_eq!(
        line["from"],
        json!([{"location": "WH1", "quantity": "2.38"}])
    );
    assert_eq!(first.body["delivery"]["number"], 1);
    let quote = &first.body["quote"];
    assert_eq!(quote["status"], "accepted");
    assert_eq!(quote["deliveries"], 1);
    assert_eq!(
        quote["progress"][0],
        json!({"line": 1, "sku": "SAND-04", "unit": "t", "ordered": "4.8",
               "delivered": "2.4", "outstanding": "2.4"})
    );
    // What left the yard is what the ledger booked: held stock first.
    assert_eq!(
        app.level("SAND-04", "WH1").await,
        ("7.62".into(), "2.42".into(), "5.2".into())
    );
    assert_eq!(app.level("SAND-04", "YARD").await.0, "20");

    // More than is outstanding is refused, and nothing changes.
    let over = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 1, "quantity": "3"}]}),
    )
    .await;
    assert_eq!(
        over.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        over.text
    );
    assert_eq!(over.error().1.as_deref(), Some("lines[0].quantity"));
    let twice = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 1, "quantity": "1"}, {"line": 1, "quantity": "1"}]}),
    )
    .await;
    assert_eq!(twice.error().1.as_deref(), Some("lines[1].line"));
    let no_line = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 2, "quantity": "1"}]}),
    )
    .await;
    assert_eq!(no_line.error().1.as_deref(), Some("lines[0].line"));
    assert_eq!(app.level("SAND-04", "WH1").await.0, "7.62");

    // The second load: the rest. What is still held (0.02 t) is let go.
    let second = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 1, "quantity": "2.4"}]}),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.body["quote"]["status"], "fulfilled");
    assert_eq!(second.body["quote"]["progress"][0]["outstanding"], "0");
    assert_eq!(second.body["quote"]["holds"], json!([]));
    assert_eq!(
        app.level("SAND-04", "WH1").await,
        ("5.22".into(), "0".into(), "5.22".into())
    );
    let listed = app
        .get(&format!("/api/v1/quotes/{number}/deliveries"), Who::Viewer)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    // Nothing more to deliver.
    let late = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 1, "quantity": "0.1"}]}),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
    assert_eq!(late.error().0, "quote_status");
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_delivery_ships_what_is_available_and_refuses_what_is_not() {
    let app = stocked().await;
    let number = accepted(&app, json!([{"sku": "SAND-04", "quantity": "40"}]), None).await;
    // 30 t is all there is: nothing is booked for 35.
    let too_much = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 1, "quantity": "35"}]}),
    )
    .await;
    assert_eq!(too_much.status, StatusCode::CONFLICT, "{}", too_much.text);
    assert_eq!(too_much.error().0, "insufficient_stock");
    let at_wh1 = deliver(
        &app,
        &number,
        &json!({"location": "WH1", "lines": [{"line": 1, "quantity": "12"}]}),
    )
    .await;
    assert_eq!(at_wh1.status, StatusCode::CONFLICT, "{}", at_wh1.text);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "20");
    assert_eq!(app.level("SAND-04", "WH1").await.0, "10");
    // 25 t: the most available first (YARD), the rest from WH1.
    let made = deliver(
        &app,
        &number,
        &json!({"lines": [{"line": 1, "quantity": "25"}]}),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(
        made.body["delivery"]["lines"][0]["from"],
        json!([{"location": "WH1", "quantity": "5"}, {"location": "YARD", "quantity": "20"}])
    );
    assert_eq!(
        made.body["delivery"]["movements"].as_array().unwrap().len(),
        2
    );
    // The customer wants no more: closed, 15 t never shipped.
    let closed = app
        .post(
            &format!("/api/v1/quotes/{number}/close"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.body["status"], "fulfilled");
    assert_eq!(closed.body["progress"][0]["outstanding"], "15");
    assert_eq!(app.level("SAND-04", "WH1").await.0, "5");
    let again = app
        .post(
            &format!("/api/v1/quotes/{number}/close"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    app.stop_and_check().await;
}

#[tokio::test]
async fn fulfilling_a_partly_delivered_quote_ships_only_what_is_outstanding() {
    let app = stocked().await;
    let number = accepted(
        &app,
        json!([{"sku": "SAND-04", "quantity": "6"}]),
        Some("YARD"),
    )
    .await;
    let key = [("idempotency-key", "load-1")];
    let body = json!({"lines": [{"line": 1, "quantity": "2"}]});
    let path = format!("/api/v1/quotes/{number}/deliveries");
    let first = app
        .send(reqwest::Method::POST, &path, Who::Staff, Some(&body), &key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // A retry with the same key is answered as the first, and ships nothing.
    let retry = app
        .send(reqwest::Method::POST, &path, Who::Staff, Some(&body), &key)
        .await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body["delivery"]["number"], 1);
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        ("18".into(), "4".into(), "14".into())
    );
    let fulfilled = app
        .post(
            &format!("/api/v1/quotes/{number}/fulfil"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(fulfilled.status, StatusCode::OK, "{}", fulfilled.text);
    assert_eq!(
        app.level("SAND-04", "YARD").await,
        ("14".into(), "0".into(), "14".into())
    );
    assert_eq!(fulfilled.body["progress"][0]["outstanding"], "0");
    let audit = app.get("/api/v1/audit?limit=100", Who::Owner).await;
    assert!(audit.text.contains("quote.delivered"), "{}", audit.text);
    app.stop_and_check().await;
}

#[tokio::test]
async fn delivery_notes_print_for_staff_and_the_customers_contacts_only() {
    let app = stocked().await;
    for (code, login) in [
        ("NORTH", "pat@north.example"),
        ("SOUTH", "sam@south.example"),
    ] {
        app.trade_contact(code, login).await;
    }
    let body = json!({
        "lines": [{"sku": "SAND-04", "quantity": "4"}],
        "contact": {"name": "Pat Buyer", "phone": "01234 567890"},
        "customer": "NORTH", "delivery": {"collection": true},
    });
    let made = app.post("/api/v1/quotes", Who::Staff, &body).await;
    let number = made.body["number"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/quotes/{number}/accept"),
        Who::Staff,
        &json!({}),
    )
    .await;
    let load = json!({"lines": [{"line": 1, "quantity": "1.5"}], "vehicle": "Flatbed 7",
                      "reference": "Docket 881"});
    assert_eq!(
        deliver(&app, &number, &load).await.status,
        StatusCode::CREATED
    );

    let note = format!("/delivery-notes/{number}/1");
    let a4 = app.get(&note, Who::Viewer).await;
    assert_eq!(a4.status, StatusCode::OK, "{}", a4.text);
    for text in [
        &format!("Delivery note {number}/1"),
        "Flatbed 7",
        "Docket 881",
        "1.5 t",
        "2.5 t",
        "NORTH Ltd",
    ] {
        assert!(a4.text.contains(text), "{text} in {}", a4.text);
    }
    assert!(a4.text.contains("paper-a4"));
    let receipt = app.get(&format!("{note}?paper=80mm"), Who::Staff).await;
    assert!(receipt.text.contains("paper-receipt"));
    assert_eq!(
        app.get(&format!("{note}?paper=letter"), Who::Staff)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get(&format!("/delivery-notes/{number}/2"), Who::Staff)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&note, Who::Anonymous).await.status,
        StatusCode::SEE_OTHER
    );

    let pat = sign_in(&app, "pat@north.example").await;
    let sam = sign_in(&app, "sam@south.example").await;
    let theirs = as_browser(&app, &pat, &note).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(
        theirs.text.contains("href=\"/account\""),
        "back to their account"
    );
    let listed = as_browser(
        &app,
        &pat,
        &format!("/api/v1/account/quotes/{number}/deliveries"),
    )
    .await;
    assert_eq!(
        listed.body["items"][0]["vehicle"], "Flatbed 7",
        "{}",
        listed.text
    );
    for path in [
        note.clone(),
        format!("/api/v1/account/quotes/{number}/deliveries"),
    ] {
        let other = as_browser(&app, &sam, &path).await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            other.text
        );
        assert!(!other.text.contains("Flatbed 7"));
    }
    app.stop_and_check().await;
}

async fn sign_in(app: &TestApp, login: &str) -> crate::helpers::BrowserSession {
    let resp = app.login(login, crate::helpers::PASSWORD).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    crate::helpers::BrowserSession {
        cookie: crate::helpers::session_cookie(&resp).unwrap(),
        csrf: resp.body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn as_browser(
    app: &TestApp,
    session: &crate::helpers::BrowserSession,
    path: &str,
) -> crate::helpers::Resp {
    let request = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", &session.cookie);
    crate::helpers::respond(request).await
}

#[tokio::test]
async fn a_quote_with_deliveries_is_closed_not_cancelled() {
    let app = stocked().await;
    let number = accepted(
        &app,
        json!([{"sku": "SAND-04", "quantity": "8"}]),
        Some("YARD"),
    )
    .await;
    let load = json!({"lines": [{"line": 1, "quantity": "3"}]});
    assert_eq!(
        deliver(&app, &number, &load).await.status,
        StatusCode::CREATED
    );
    let cancel = app
        .post(
            &format!("/api/v1/quotes/{number}/cancel"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::CONFLICT, "{}", cancel.text);
    assert!(cancel.text.contains("close it instead"), "{}", cancel.text);
    // Still accepted, still holding the 5 t to deliver.
    assert_eq!(app.level("SAND-04", "YARD").await.1, "5");
    // Signing in for a note comes back to it on its paper.
    let note = app
        .get(
            &format!("/delivery-notes/{number}/1?paper=80mm"),
            Who::Anonymous,
        )
        .await;
    assert_eq!(note.status, StatusCode::SEE_OTHER);
    let location = note.header("location").unwrap();
    assert!(location.contains("paper%3D80mm"), "{location}");
    app.stop_and_check().await;
}
