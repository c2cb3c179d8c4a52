//! The web UI's pages as the server sends them, and the API the pages lean
//! on: the shop's settings, the stock's value and the barcode lookup.

use quarry::domain::units::Unit;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, Who, movement, sand};

#[tokio::test]
async fn the_back_office_sends_anonymous_visitors_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    for (path, next) in [
        ("/admin", "%2Fadmin"),
        ("/admin/stock", "%2Fadmin%2Fstock"),
        (
            "/admin/product?sku=SAND-04",
            "%2Fadmin%2Fproduct%3Fsku%3DSAND-04",
        ),
    ] {
        let page = app.get(path, Who::Anonymous).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            page.header("location"),
            Some(format!("/admin/login?next={next}").as_str()),
            "{path}"
        );
        assert!(!page.text.contains("id=\"nav\""), "{path}");
    }
    let signed_in = app.get("/admin/stock", Who::StaffSession).await;
    assert_eq!(signed_in.status, StatusCode::OK);
    assert!(signed_in.text.contains("id=\"nav\""));
    assert_eq!(signed_in.header("cache-control"), Some("no-store"));
    let login = app.get("/admin/login", Who::Anonymous).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text.contains("id=\"login\""));
}

#[tokio::test]
async fn an_unknown_back_office_section_is_not_found() {
    let app = TestApp::spawn().await;
    let page = app.get("/admin/nowhere", Who::StaffSession).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn storefront_pages_are_served_to_everyone_with_the_strict_policy() {
    let app = TestApp::spawn().await;
    for (path, marker) in [
        ("/", "id=\"q\""),
        ("/p/SAND-04", "id=\"calc\""),
        ("/quote", "id=\"request\""),
    ] {
        let page = app.get(path, Who::Anonymous).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.text.contains(marker), "{path}");
        assert!(!page.text.contains("<script>"), "{path}: no inline script");
        let policy = page.header("content-security-policy").unwrap();
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
    }
    let moved = app.get("/account", Who::Anonymous).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert_eq!(moved.header("location"), Some("/admin/login"));
}

#[tokio::test]
async fn the_shop_settings_come_from_the_configuration() {
    let app = TestApp::spawn_with(|config| {
        config.shop.name = "Harbour Aggregates".into();
        config.shop.currency = "GBP".into();
        config.shop.contact = "01632 960000".into();
    })
    .await;
    let shop = app.get("/api/v1/shop", Who::Anonymous).await;
    assert_eq!(shop.status, StatusCode::OK);
    assert_eq!(shop.body["name"], "Harbour Aggregates");
    assert_eq!(shop.body["currency"], "GBP");
    assert_eq!(shop.body["contact"], "01632 960000");
    assert_eq!(
        shop.body["tax_classes"],
        json!(["reduced", "standard", "zero"])
    );
    // The units forms and the calculator offer: every one the API takes.
    let units = shop.body["units"].as_array().unwrap();
    assert_eq!(units.len(), Unit::ALL.len());
    for (unit, listed) in Unit::ALL.iter().zip(units) {
        assert_eq!(listed["code"], unit.code());
        assert_eq!(listed["dimension"], unit.dimension().to_string());
        assert!(!listed["label"].as_str().unwrap().is_empty(), "{listed}");
    }
}

#[tokio::test]
async fn the_stock_value_is_on_hand_times_cost_and_skips_products_without_one() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let mut free = sand("FREE-1");
    free["cost"] = json!(null);
    app.create_product(&free).await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("receive", "WH1", "SAND-04", "2.5"))
        .await;
    app.book(&movement("receive", "YARD", "FREE-1", "4")).await;

    let value = app.get("/api/v1/stock/value", Who::Viewer).await;
    assert_eq!(value.status, StatusCode::OK, "{}", value.text);
    // 12.5 t × 21.40 = 267.50; FREE-1 has no cost.
    assert_eq!(value.body["value"], "267.50");
    assert_eq!(value.body["currency"], "EUR");
    assert_eq!(value.body["products_in_stock"], 2);
    assert_eq!(value.body["products_without_cost"], 1);
    assert_eq!(
        app.get("/api/v1/stock/value", Who::Anonymous).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_scanned_barcode_finds_its_product_in_the_list() {
    let app = TestApp::spawn().await;
    let mut coded = sand("SAND-04");
    coded["barcode"] = json!("4006381333931");
    app.create_product(&coded).await;
    app.create_product(&sand("OTHER-1")).await;

    let found = app
        .get("/api/v1/products?barcode=4006381333931", Who::Staff)
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["items"][0]["sku"], "SAND-04");
    let none = app.get("/api/v1/products?barcode=0000", Who::Staff).await;
    assert_eq!(none.body["items"], json!([]));
    let bad = app.get("/api/v1/products?barcode=a%20b", Who::Staff).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
