//! `POST /api/v1/batch`: many sub-requests in one round trip, with the caller's
//! rights, one snapshot for reads, and all-or-nothing writes when atomic.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, movement, sand};

fn statuses(resp: &Value) -> Vec<u64> {
    resp["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn sub_requests_are_answered_in_order_with_the_callers_rights() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let body = json!({"requests": [
        {"method": "GET", "path": "/api/v1/products/SAND-04"},
        {"method": "POST", "path": "/api/v1/products", "body": sand("SAND-08")},
        {"method": "GET", "path": "/api/v1/products/NOPE"},
        {"method": "GET", "path": "/api/v1/products?limit=1"},
    ]});
    let staff = app.post("/api/v1/batch", Who::Staff, &body).await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.text);
    assert_eq!(statuses(&staff.body), [200, 201, 404, 200]);
    assert_eq!(staff.body["responses"][0]["body"]["cost"], "21.40");
    assert_eq!(staff.body["responses"][1]["body"]["sku"], "SAND-08");

    let mut again = body.clone();
    again["requests"][1]["body"] = sand("SAND-09");
    let anonymous = app.post("/api/v1/batch", Who::Anonymous, &again).await;
    assert_eq!(statuses(&anonymous.body), [200, 401, 404, 200]);
    assert!(anonymous.body["responses"][0]["body"].get("cost").is_none());
    let viewer = app.post("/api/v1/batch", Who::Viewer, &again).await;
    assert_eq!(statuses(&viewer.body), [200, 403, 404, 200]);
    let bad_token = app.post("/api/v1/batch", Who::Revoked, &again).await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reads_in_one_batch_see_one_snapshot() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "5")).await;
    let resp = app
        .post(
            "/api/v1/batch",
            Who::Staff,
            &json!({"requests": [
                {"method": "GET", "path": "/api/v1/stock?sku=SAND-04&location=YARD"},
                {"method": "POST", "path": "/api/v1/movements", "body": movement("receive", "YARD", "SAND-04", "2")},
                {"method": "GET", "path": "/api/v1/stock?sku=SAND-04&location=YARD"},
            ]}),
        )
        .await;
    assert_eq!(statuses(&resp.body), [200, 201, 200]);
    let before = &resp.body["responses"][0]["body"]["items"][0]["on_hand"];
    let after = &resp.body["responses"][2]["body"]["items"][0]["on_hand"];
    assert_eq!((before, after), (&json!("5"), &json!("5")));
    // The write itself was committed.
    assert_eq!(app.level("SAND-04", "YARD").await.0, "7");
}

#[tokio::test]
async fn an_atomic_batch_commits_every_write_or_none() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let failing = json!({"atomic": true, "requests": [
        {"method": "POST", "path": "/api/v1/movements", "body": movement("receive", "YARD", "SAND-04", "3")},
        {"method": "PATCH", "path": "/api/v1/products/SAND-04", "body": {"price": "99"}},
        {"method": "POST", "path": "/api/v1/movements", "body": movement("ship", "YARD", "SAND-04", "4")},
        {"method": "POST", "path": "/api/v1/movements", "body": movement("receive", "WH1", "SAND-04", "1")},
    ]});
    let resp = app.post("/api/v1/batch", Who::Staff, &failing).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    assert_eq!(statuses(&resp.body), [424, 424, 409, 424]);
    assert_eq!(
        resp.body["responses"][2]["body"]["error"]["code"],
        "insufficient_stock"
    );
    assert_eq!(
        resp.body["responses"][0]["body"]["error"]["code"],
        "not_applied"
    );
    assert_eq!(app.level("SAND-04", "YARD").await.0, "0");
    let product = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(product.body["price"], "38.00");
    assert_eq!(
        app.get("/api/v1/movements", Who::Viewer).await.body["items"],
        json!([])
    );

    // Writes in an atomic batch see each other: receive, then ship what arrived.
    let working = json!({"atomic": true, "requests": [
        {"method": "POST", "path": "/api/v1/movements", "body": movement("receive", "YARD", "SAND-04", "3")},
        {"method": "POST", "path": "/api/v1/movements", "body": movement("ship", "YARD", "SAND-04", "2")},
        {"method": "PATCH", "path": "/api/v1/products/SAND-04", "body": {"price": "41"}},
    ]});
    let resp = app.post("/api/v1/batch", Who::Staff, &working).await;
    assert_eq!(statuses(&resp.body), [201, 201, 200], "{}", resp.text);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "1");
    assert_eq!(
        app.get("/api/v1/products/SAND-04", Who::Staff).await.body["price"],
        "41.00"
    );
    // The server still takes ordinary writes afterwards.
    app.book(&movement("receive", "YARD", "SAND-04", "1")).await;
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_batch_is_bounded_and_cannot_nest_or_stream() {
    let app = TestApp::spawn().await;
    let get = json!({"method": "GET", "path": "/api/v1/products"});
    let cases = [
        (json!({"requests": []}), "requests"),
        (json!({"requests": vec![get.clone(); 101]}), "requests"),
        (
            json!({"requests": [{"method": "POST", "path": "/api/v1/batch", "body": {"requests": [get]}}]}),
            "requests[0].path",
        ),
        (
            json!({"requests": [{"method": "GET", "path": "/api/v1/events"}]}),
            "requests[0].path",
        ),
        (
            json!({"requests": [{"method": "GET", "path": "/healthz"}]}),
            "requests[0].path",
        ),
        (
            json!({"requests": [{"method": "TRACE", "path": "/api/v1/products"}]}),
            "requests[0].method",
        ),
        (
            json!({"requests": [{"method": "GET", "path": "/api/v1/products", "headers": {"Authorization": "Bearer x"}}]}),
            "requests[0].headers",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post("/api/v1/batch", Who::Staff, &body).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some(field), "{}", resp.text);
    }
    let hundred = app
        .post(
            "/api/v1/batch",
            Who::Anonymous,
            &json!({"requests": vec![json!({"method": "GET", "path": "/api/v1/products"}); 100]}),
        )
        .await;
    assert_eq!(hundred.status, StatusCode::OK);
}

#[tokio::test]
async fn sub_requests_may_carry_if_match_and_idempotency_keys() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let body = json!({"requests": [
        {"method": "PATCH", "path": "/api/v1/products/SAND-04", "body": {"price": "1"}, "headers": {"If-Match": "\"9\""}},
        {"method": "POST", "path": "/api/v1/movements", "body": movement("receive", "YARD", "SAND-04", "1"), "headers": {"Idempotency-Key": "b-1"}},
    ]});
    let first = app.post("/api/v1/batch", Who::Staff, &body).await;
    assert_eq!(statuses(&first.body), [412, 201]);
    let second = app.post("/api/v1/batch", Who::Staff, &body).await;
    assert_eq!(statuses(&second.body), [412, 201]);
    assert_eq!(
        second.body["responses"][1]["body"]["id"],
        first.body["responses"][1]["body"]["id"]
    );
    assert_eq!(app.level("SAND-04", "YARD").await.0, "1");
}

/// Regression (hardening, item 2): a batch of 100 exports from a viewer
/// token buffered a 506 MiB answer and took the server to 6.3 GiB.
#[tokio::test]
async fn routes_that_stream_or_upload_cannot_be_batched() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/exports/movements?format=json",
        "/api/v1/exports/products",
        "/api/v1/backups/quarry-auto-1.qbk",
        "/api/v1/jobs/0123abcd/bad-rows",
        "/api/v1/imports/products",
        "/api/v1/events?since=0",
    ] {
        let method = if path.contains("imports") {
            "POST"
        } else {
            "GET"
        };
        let resp = app
            .post(
                "/api/v1/batch",
                Who::Owner,
                &json!({"requests": [
                    {"method": "GET", "path": "/api/v1/products"},
                    {"method": method, "path": path},
                ]}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some("requests[1].path"));
        assert!(resp.text.contains("on its own"), "{}", resp.text);
    }
}

/// Regression (hardening, item 2): a batch's answers are bounded in bytes;
/// what does not fit is answered 413 `batch_too_large`, never buffered.
#[tokio::test]
async fn a_batchs_answers_are_bounded_in_bytes() {
    use std::fmt::Write;
    let app = TestApp::spawn().await;
    let mut csv = String::from("sku,name,category,unit,price,description\n");
    let description = "Clean washed river sand for concrete and screed and mortar. ".repeat(30);
    for i in 0..500 {
        writeln!(
            csv,
            "SAND-{i:04},Washed sand {i},Aggregates/Sand,t,38,{description}"
        )
        .unwrap();
    }
    let imported = app
        .upload("/api/v1/imports/products", Who::Staff, &csv)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let page = app.get("/api/v1/products?limit=500", Who::Viewer).await;
    let one = page.text.len();
    assert!(one > 500_000, "a page of 500 is {one} bytes");

    let resp = app
        .post(
            "/api/v1/batch",
            Who::Viewer,
            &json!({"requests": vec![json!({"method": "GET", "path": "/api/v1/products?limit=500"}); 100]}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", &resp.text[..200]);
    let statuses = statuses(&resp.body);
    let answered = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 413).count();
    assert_eq!(answered + refused, 100, "{statuses:?}");
    assert!(
        answered >= 1 && answered <= (16 << 20) / one,
        "{answered} pages of {one} bytes"
    );
    assert!(refused > 0);
    assert_eq!(
        resp.body["responses"][99]["body"]["error"]["code"],
        "batch_too_large"
    );
    assert!(resp.text.len() < 17 << 20, "{} bytes", resp.text.len());
    // A write in a batch past the bound is still carried out and answered.
    let mut requests = vec![json!({"method": "GET", "path": "/api/v1/products?limit=500"}); 60];
    requests.push(
        json!({"method": "PATCH", "path": "/api/v1/products/SAND-0001", "body": {"price": "40"}}),
    );
    let resp = app
        .post("/api/v1/batch", Who::Staff, &json!({"requests": requests}))
        .await;
    assert_eq!(
        resp.body["responses"][60]["status"],
        200,
        "{}",
        &resp.text[resp.text.len() - 300..]
    );
    assert_eq!(resp.body["responses"][60]["body"]["price"], "40.00");
}

/// Regression (hardening, item 2): an anonymous batch of 100 listings cost
/// its address nothing, while each listing alone counts against its bucket.
#[tokio::test]
async fn an_anonymous_batch_counts_every_request_against_its_address() {
    let app = TestApp::spawn_with(|c| c.limits.public_requests_per_minute = 10).await;
    app.stock_setup().await;
    let batch = |n: usize| json!({"requests": vec![json!({"method": "GET", "path": "/api/v1/search?q=sand"}); n]});
    let first = app.post("/api/v1/batch", Who::Anonymous, &batch(6)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(statuses(&first.body), [200; 6], "counted once, not twice");
    let second = app.post("/api/v1/batch", Who::Anonymous, &batch(6)).await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.text
    );
    assert!(second.header("retry-after").is_some());
    let too_many = app.post("/api/v1/batch", Who::Anonymous, &batch(11)).await;
    assert_eq!(too_many.status, StatusCode::TOO_MANY_REQUESTS);
    // What is left of the bucket: four requests, listings included.
    for _ in 0..4 {
        let listing = app.get("/api/v1/products?limit=500", Who::Anonymous).await;
        assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    }
    let listing = app.get("/api/v1/products", Who::Anonymous).await;
    assert_eq!(listing.status, StatusCode::TOO_MANY_REQUESTS);
    // Signed-in callers are accountable and not limited.
    let staff = app.post("/api/v1/batch", Who::Staff, &batch(20)).await;
    assert_eq!(staff.status, StatusCode::OK);
}
