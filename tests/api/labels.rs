//! `/labels`: shelf labels for chosen products or a location's stock.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, Who, movement, sand};

/// Sand (no barcode: its SKU in Code 128), cement with an EAN-13 priced per
/// bag, and an archived product; stock at the yard and the warehouse.
async fn shelf(app: &TestApp) {
    app.stock_setup().await;
    let mut cement = sand("CEM-25");
    cement["name"] = json!("Portland cement 25 kg");
    cement["unit"] = json!("kg");
    cement["barcode"] = json!("4006381333931");
    cement["packs"] = json!([{"name": "bag", "quantity": "25", "unit": "kg"}]);
    cement["pricing_unit"] = json!("bag");
    cement["price"] = json!("8.50");
    app.create_product(&cement).await;
    let mut old = sand("OLD-1");
    old["barcode"] = json!("4006381333932"); // a wrong check digit
    app.create_product(&old).await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("receive", "WH1", "CEM-25", "500")).await;
    app.book(&movement("receive", "YARD", "OLD-1", "1")).await;
    app.book(&movement("ship", "YARD", "OLD-1", "1")).await;
    app.book(&movement("receive", "WH1", "OLD-1", "2")).await;
}

#[tokio::test]
async fn chosen_products_get_their_barcode_price_and_a_qr_code_to_their_page() {
    let app = TestApp::spawn_with(|c| {
        c.public_base_url = Some("https://shop.example.com".into());
    })
    .await;
    shelf(&app).await;
    let sheet = labels(
        &app,
        &json!({"skus": ["CEM-25", "SAND-04", " CEM-25", "OLD-1"]}),
    )
    .await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.text);
    assert_eq!(sheet.body["currency"], "EUR");
    let labels = sheet.body["labels"].as_array().unwrap();
    // In the order asked, a SKU named twice once.
    let skus: Vec<&str> = labels.iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["CEM-25", "SAND-04", "OLD-1"]);

    let cement = &labels[0];
    assert_eq!(cement["name"], "Portland cement 25 kg");
    assert_eq!(cement["price"], "8.50");
    assert_eq!(cement["per"], "bag");
    assert_eq!(cement["pack"]["quantity"], "25");
    assert_eq!(cement["barcode"]["symbology"], "ean13");
    assert_eq!(cement["barcode"]["text"], "4006381333931");
    assert_eq!(cement["url"], "https://shop.example.com/p/CEM-25");
    let sand = &labels[1];
    assert_eq!(sand["per"], "t");
    assert!(sand["pack"].is_null());
    assert_eq!(sand["barcode"]["symbology"], "code128");
    assert_eq!(sand["barcode"]["text"], "SAND-04");
    // A barcode that is not a valid EAN-13 is not printed as one.
    assert_eq!(labels[2]["barcode"]["symbology"], "code128");
    assert_eq!(labels[2]["barcode"]["text"], "OLD-1");
    for label in labels {
        for drawing in [&label["barcode"]["svg"], &label["qr_svg"]] {
            let svg = drawing.as_str().unwrap();
            assert!(
                svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
                "{svg}"
            );
            assert!(svg.ends_with("</svg>"), "{svg}");
        }
    }
    // Labels are for the shelf: nothing only staff may see is on them.
    assert!(!sheet.text.contains("21.40") && !sheet.text.contains("Supplier"));
}

#[tokio::test]
async fn a_locations_labels_are_its_active_products_with_stock_on_hand() {
    let app = TestApp::spawn().await;
    shelf(&app).await;
    let yard = labels(&app, &json!({"location": "YARD"})).await;
    assert_eq!(yard.status, StatusCode::OK, "{}", yard.text);
    let skus: Vec<&str> = yard.body["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    // OLD-1 was shipped out of the yard: none on hand there.
    assert_eq!(skus, ["SAND-04"]);
    // Without `public_base_url`, the QR codes point where staff reached us.
    let url = yard.body["labels"][0]["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/p/SAND-04"),
        "{url}"
    );

    let warehouse = labels(&app, &json!({"location": "WH1"})).await;
    let skus: Vec<&str> = warehouse.body["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["CEM-25", "OLD-1"]);
    // An archived product gets no label, from a location or by name.
    let archived = app
        .send(
            Method::DELETE,
            "/api/v1/products/OLD-1",
            Who::Staff,
            None,
            &[],
        )
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    let warehouse = labels(&app, &json!({"location": "WH1"})).await;
    assert_eq!(warehouse.body["labels"].as_array().unwrap().len(), 1);
    let named = labels(&app, &json!({"skus": ["OLD-1"]})).await;
    assert_eq!(
        named.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        named.text
    );
    assert!(named.text.contains("archived"), "{}", named.text);
}

#[tokio::test]
async fn a_bad_choice_is_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    shelf(&app).await;
    for (body, status, field) in [
        (json!({}), StatusCode::BAD_REQUEST, None),
        (
            json!({"skus": ["SAND-04"], "location": "YARD"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            json!({"skus": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("skus"),
        ),
        (
            json!({"skus": ["SAND-04", "NOPE-1"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("skus"),
        ),
        (
            json!({"skus": ["bad sku!"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("skus"),
        ),
        (json!({"location": "NOWHERE"}), StatusCode::NOT_FOUND, None),
        (
            json!({"location": "no such"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("location"),
        ),
    ] {
        let answer = labels(&app, &body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text);
        assert_eq!(
            answer.error().1.as_deref(),
            field,
            "{body}: {}",
            answer.text
        );
    }
    let many: Vec<String> = (0..1001).map(|i| format!("P-{i}")).collect();
    let answer = labels(&app, &json!({ "skus": many })).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert!(answer.text.contains("at most 1000"), "{}", answer.text);
}

async fn labels(app: &TestApp, body: &serde_json::Value) -> crate::helpers::Resp {
    app.post("/api/v1/labels", Who::Viewer, body).await
}
