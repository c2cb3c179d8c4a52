//! Locations over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, Who};

#[tokio::test]
async fn locations_can_be_created_listed_renamed_and_deactivated() {
    let app = TestApp::spawn().await;
    let yard = app.create_location("yard", "Main yard").await;
    assert_eq!(yard.body["code"], "YARD");
    assert_eq!(yard.header("location"), Some("/api/v1/locations/YARD"));
    app.create_location("WH1", "Warehouse 1").await;

    let list = app.get("/api/v1/locations", Who::Viewer).await;
    let codes: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["WH1", "YARD"]);

    let page = app.get("/api/v1/locations?limit=1", Who::Viewer).await;
    let next = page.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(
            &format!("/api/v1/locations?limit=1&cursor={next}"),
            Who::Viewer,
        )
        .await;
    assert_eq!(rest.body["items"][0]["code"], "YARD");
    assert!(rest.body["next_cursor"].is_null());

    let renamed = app
        .send(
            Method::PATCH,
            "/api/v1/locations/yard",
            Who::Staff,
            Some(&json!({"name": "Front yard", "active": false})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Front yard");
    assert_eq!(renamed.body["active"], false);
    assert_eq!(renamed.header("etag"), Some("\"2\""));

    let stale = app
        .send(
            Method::PATCH,
            "/api/v1/locations/YARD",
            Who::Staff,
            Some(&json!({"name": "Back yard"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let read = app.get("/api/v1/locations/YARD", Who::Viewer).await;
    assert_eq!(read.body["name"], "Front yard");
}

#[tokio::test]
async fn location_errors_are_precise() {
    let app = TestApp::spawn().await;
    app.create_location("YARD", "Main yard").await;
    let dup = app
        .post(
            "/api/v1/locations",
            Who::Staff,
            &json!({"code": "Yard", "name": "Other"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.error(),
        ("duplicate_location".into(), Some("code".into()))
    );

    let bad = app
        .post(
            "/api/v1/locations",
            Who::Staff,
            &json!({"code": "A B", "name": "Spaced"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error().1.as_deref(), Some("code"));

    let missing = app.get("/api/v1/locations/NOWHERE", Who::Viewer).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
