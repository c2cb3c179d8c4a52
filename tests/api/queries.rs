//! Query strings (issue "Hardening", item 8): a parameter that does not fit is
//! a 400 naming it and the form it takes, on every route that takes any.

use reqwest::StatusCode;

use crate::helpers::{Resp, TestApp, Who};

/// Asserts a 400 naming `field`, with a message containing `says`.
fn assert_names(resp: &Resp, what: &str, field: &str, says: &str) {
    assert_eq!(
        resp.status,
        StatusCode::BAD_REQUEST,
        "{what}: {}",
        resp.text
    );
    let (code, named) = resp.error();
    assert_eq!(code, "bad_request", "{what}");
    assert_eq!(named.as_deref(), Some(field), "{what}: {}", resp.text);
    let message = resp.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{what}: {message}");
}

#[tokio::test]
async fn a_bad_limit_names_the_query_parameter_and_its_range() {
    let app = TestApp::spawn().await;
    let resp = app.get("/api/v1/products?limit=-1", Who::Staff).await;
    assert_names(
        &resp,
        "limit=-1",
        "limit",
        "limit must be a whole number from 1 to 500",
    );
    // Out of range but a number: the same words from the use case.
    let resp = app.get("/api/v1/products?limit=501", Who::Staff).await;
    assert_names(
        &resp,
        "limit=501",
        "limit",
        "limit must be a whole number from 1 to 500",
    );
}

#[tokio::test]
async fn a_bad_flag_or_seq_names_the_query_parameter_and_its_form() {
    let app = TestApp::spawn().await;
    let resp = app.get("/api/v1/products?active=maybe", Who::Staff).await;
    assert_names(&resp, "active", "active", "active must be true or false");
    let resp = app.get("/api/v1/events?since=abc", Who::Anonymous).await;
    assert_names(
        &resp,
        "since",
        "since",
        "since must be a whole number, 0 or more",
    );
    let resp = app
        .get("/api/v1/movements?order=sideways", Who::Staff)
        .await;
    assert_names(&resp, "order", "order", "order must be asc or desc");
    let resp = app.get("/api/v1/quotes?status=lost", Who::Staff).await;
    assert_names(
        &resp,
        "status",
        "status",
        "status must be one of open, accepted, fulfilled, expired",
    );
}

#[tokio::test]
async fn an_unknown_query_parameter_is_named_with_the_known_ones() {
    let app = TestApp::spawn().await;
    let resp = app.get("/api/v1/products?colour=red", Who::Staff).await;
    assert_names(
        &resp,
        "colour",
        "colour",
        "colour is not a parameter of this request; it takes barcode, category, active, updated_since, cursor, limit",
    );
    let resp = app
        .get("/api/v1/products?limit=5&limit=6", Who::Staff)
        .await;
    assert_names(&resp, "limit twice", "limit", "more than once");
    let resp = app
        .get("/api/v1/quote/estimate?quantity=2", Who::Anonymous)
        .await;
    assert_names(&resp, "no sku", "sku", "sku is required");
}

/// Every route that takes a query string: (path and query, caller, the
/// parameter at fault, words of the message).
#[rustfmt::skip]
const CASES: [(&str, Who, &str, &str); 21] = [
    ("/api/v1/products?limit=x", Who::Staff, "limit", "from 1 to 500"),
    ("/api/v1/products?updated=1", Who::Staff, "updated", "it takes"),
    ("/api/v1/locations?limit=x", Who::Staff, "limit", "from 1 to 500"),
    ("/api/v1/locations?active=1", Who::Staff, "active", "it takes"),
    ("/api/v1/movements?since_seq=x", Who::Staff, "since_seq", "0 or more"),
    ("/api/v1/movements?kind=teleport", Who::Staff, "kind", "one of receive"),
    ("/api/v1/movements?limit=1.5", Who::Staff, "limit", "from 1 to 500"),
    ("/api/v1/stock?low=perhaps", Who::Staff, "low", "true or false"),
    ("/api/v1/stock?limit=x", Who::Staff, "limit", "from 1 to 1000"),
    ("/api/v1/products/SAND-04/stock?at=now", Who::Staff, "at", "it takes as_of"),
    ("/api/v1/events?since=-", Who::Anonymous, "since", "0 or more"),
    ("/api/v1/events?from=1", Who::Viewer, "from", "it takes since"),
    ("/api/v1/search?in_stock=perhaps", Who::Anonymous, "in_stock", "true or false"),
    ("/api/v1/search?in_stock_first=2", Who::Anonymous, "in_stock_first", "true or false"),
    ("/api/v1/search?limit=x", Who::Anonymous, "limit", "from 1 to 100"),
    ("/api/v1/search/suggest?limit=3", Who::Anonymous, "limit", "it takes q"),
    ("/api/v1/quote/estimate?sku=A&quantity=1&qty=1", Who::Anonymous, "qty", "it takes sku, quantity, unit"),
    ("/api/v1/quotes?limit=x", Who::Staff, "limit", "from 1 to 200"),
    ("/api/v1/exports/products?fmt=csv", Who::Staff, "fmt", "it takes format"),
    ("/api/v1/audit?limit=x", Who::Owner, "limit", "from 1 to 500"),
    ("/api/v1/audit?who=me", Who::Owner, "who", "it takes actor"),
];

#[tokio::test]
async fn every_route_with_a_query_names_the_parameter_at_fault() {
    let app = TestApp::spawn().await;
    for (path, who, field, says) in CASES {
        let resp = app.get(path, who).await;
        assert_names(&resp, path, field, says);
    }
    for path in [
        "/api/v1/imports/products",
        "/api/v1/imports/stock",
        "/api/v1/imports/movements",
    ] {
        let resp = app
            .upload(&format!("{path}?dry_run=perhaps"), Who::Owner, "sku\n")
            .await;
        assert_names(&resp, path, "dry_run", "dry_run must be true or false");
    }
}

#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_is_named_in_the_error_format() {
    let app = TestApp::spawn().await;
    for (path, who, field) in [
        ("/api/v1/products/%FF", Who::Staff, "sku"),
        ("/api/v1/products/%FF/stock", Who::Anonymous, "sku"),
        ("/api/v1/movements/%FF", Who::Staff, "id"),
        ("/api/v1/quotes/%FF", Who::Staff, "number"),
        ("/api/v1/jobs/%FF", Who::Staff, "id"),
    ] {
        let resp = app.get(path, who).await;
        assert_names(&resp, path, field, "is not valid UTF-8");
    }
    let resp = app
        .patch("/api/v1/users/%FF", Who::Owner, &serde_json::json!({}))
        .await;
    assert_names(&resp, "users", "username", "is not valid UTF-8");
}
