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

/// A browser asks for pages with `Accept: text/html`.
const HTML: &[(&str, &str)] = &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")];

#[tokio::test]
async fn browsers_get_pages_for_what_is_not_there_and_api_clients_get_json() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let mut hidden = sand("OLD-01");
    hidden["active"] = json!(false);
    app.create_product(&hidden).await;
    let html = |path: &'static str, who| {
        let app = &app;
        async move { app.send(reqwest::Method::GET, path, who, None, HTML).await }
    };
    // A trailing slash leads to the page without it, query kept.
    for (path, to) in [
        ("/admin/", "/admin"),
        ("/p/SAND-04/", "/p/SAND-04"),
        ("/quote/?x=1", "/quote?x=1"),
    ] {
        let moved = html(path, Who::Anonymous).await;
        assert_eq!(moved.status, StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(moved.header("location"), Some(to), "{path}");
    }
    // What is not there is a styled page with a 404 and a way on.
    for (path, who, says) in [
        ("/nowhere", Who::Anonymous, "Page not found"),
        ("/admin/nowhere", Who::StaffSession, "Page not found"),
        ("/p/NOPE-999", Who::Anonymous, "no product NOPE-999"),
        ("/p/not%20a%20sku", Who::Anonymous, "Product not found"),
        ("/p/OLD-01", Who::Anonymous, "no product OLD-01"),
        ("/q/not-a-link", Who::Anonymous, "No quote has this link"),
    ] {
        let page = html(path, who).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}"
        );
        assert!(page.text.contains(says), "{path}: {}", page.text);
        assert!(
            page.text.contains("href=\"/\""),
            "{path}: a link to the shop"
        );
        assert!(page.text.contains("/assets/quarry.css"), "{path}: styled");
        assert!(!page.text.contains("{\"error\""), "{path}");
    }
    let missing = html("/p/NOPE-999", Who::Anonymous).await;
    assert!(
        missing.text.contains("href=\"/?q=NOPE+999\""),
        "{}",
        missing.text
    );
    // Staff see a withdrawn product's page; the API still answers JSON.
    assert_eq!(
        html("/p/OLD-01", Who::StaffSession).await.status,
        StatusCode::OK
    );
    for path in ["/api/v1/nowhere", "/api/v1/products/"] {
        let answer = html(path, Who::Anonymous).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.error().0, "not_found", "{path}");
    }
    let answer = app.get("/nowhere", Who::Anonymous).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error().0, "not_found");
}

#[tokio::test]
async fn storefront_pages_are_served_to_everyone_with_the_strict_policy() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
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
    // The trade account page is a storefront page, never cached.
    let account = app.get("/account", Who::Anonymous).await;
    assert_eq!(account.status, StatusCode::OK);
    assert_eq!(account.header("cache-control"), Some("no-store"));
    assert!(
        account.text.contains("/assets/account.js"),
        "{}",
        account.text
    );
}

#[tokio::test]
async fn the_shop_settings_come_from_the_configuration() {
    let app = TestApp::spawn_with(|config| {
        config.shop.name = "Harbour Aggregates".into();
        config.shop.currency = "GBP".into();
        config.shop.contact = "01632 960000".into();
        config.shop.locale = "de_at".into();
    })
    .await;
    let shop = app.get("/api/v1/shop", Who::Anonymous).await;
    assert_eq!(shop.status, StatusCode::OK);
    assert_eq!(shop.body["locale"], "de-AT");
    assert_eq!(shop.body["language"], "de");
    assert_eq!(shop.body["decimal_separator"], ",");
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
