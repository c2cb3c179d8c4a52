//! Products over HTTP: the full life cycle, every error status, and what
//! anonymous callers may see.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, movement, respond, sand};

#[tokio::test]
async fn a_product_can_be_created_read_updated_with_if_match_and_archived() {
    let app = TestApp::spawn().await;
    let created = app.create_product(&sand("sand-04")).await;
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("location"), Some("/api/v1/products/SAND-04"));
    assert_eq!(created.body["sku"], "SAND-04");
    assert_eq!(created.body["price"], "38.00");
    assert_eq!(created.body["version"], 1);

    let read = app.get("/api/v1/products/sand-04", Who::Viewer).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("etag"), Some("\"1\""));
    assert_eq!(read.body["cost"], "21.40");

    let patched = app
        .send(
            Method::PATCH,
            "/api/v1/products/SAND-04",
            Who::Staff,
            Some(&json!({"price": "39.5"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["price"], "39.50");
    assert_eq!(patched.body["version"], 2);
    assert_eq!(patched.header("etag"), Some("\"2\""));

    let archived = app
        .send(
            Method::DELETE,
            "/api/v1/products/SAND-04",
            Who::Staff,
            None,
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(archived.body["active"], false);

    // Archived, not removed: staff still read it, the public no longer can.
    let staff_view = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(staff_view.status, StatusCode::OK);
    assert_eq!(staff_view.body["active"], false);
    let public_view = app.get("/api/v1/products/SAND-04", Who::Anonymous).await;
    assert_eq!(public_view.status, StatusCode::NOT_FOUND);
    assert_eq!(public_view.error().0, "not_found");
}

#[tokio::test]
async fn a_stale_if_match_gets_412_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"name": "Sand"}),
    )
    .await;

    for method in [Method::PATCH, Method::PUT, Method::DELETE] {
        let body = match method {
            Method::PATCH => Some(json!({"price": "1.00"})),
            Method::PUT => Some(sand("SAND-04")),
            _ => None,
        };
        let resp = app
            .send(
                method.clone(),
                "/api/v1/products/SAND-04",
                Who::Staff,
                body.as_ref(),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::PRECONDITION_FAILED, "{method}");
        assert_eq!(
            resp.error(),
            ("version_mismatch".into(), Some("If-Match".into()))
        );
    }
    let after = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(after.body["version"], 2);
    assert_eq!(after.body["name"], "Sand");
    assert_eq!(after.body["price"], "38.00");
    assert_eq!(after.body["active"], true);
}

#[tokio::test]
async fn put_replaces_every_field_and_cannot_change_the_sku() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let replacement = json!({
        "name": "Sharp sand", "category": "Aggregates/Sand", "unit": "t", "price": "41"
    });
    let replaced = app
        .put("/api/v1/products/SAND-04", Who::Staff, &replacement)
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(replaced.body["name"], "Sharp sand");
    assert_eq!(
        replaced.body["cost"],
        Value::Null,
        "omitted fields are cleared"
    );
    assert_eq!(replaced.body["tags"], json!([]));

    let mut renamed = replacement.clone();
    renamed["sku"] = json!("OTHER-1");
    let refused = app
        .put("/api/v1/products/SAND-04", Who::Staff, &renamed)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error().1.as_deref(), Some("sku"));

    let missing = app
        .put("/api/v1/products/NOPE-1", Who::Staff, &replacement)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_patch_with_null_clears_an_optional_field_and_an_empty_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let cleared = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"cost": null, "density_kg_m3": null}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["cost"], Value::Null);
    assert_eq!(cleared.body["density_kg_m3"], Value::Null);
    assert_eq!(cleared.body["version"], 2);

    let unchanged = app
        .patch("/api/v1/products/SAND-04", Who::Staff, &json!({}))
        .await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(unchanged.body["version"], 2);
}

#[tokio::test]
async fn a_duplicate_sku_is_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let again = app
        .post("/api/v1/products", Who::Staff, &sand("sand-04"))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error(), ("duplicate_sku".into(), Some("sku".into())));
}

#[tokio::test]
async fn a_barcode_belongs_to_one_product_only() {
    let app = TestApp::spawn().await;
    let mut first = sand("SAND-04");
    first["barcode"] = json!("4006381333931");
    app.create_product(&first).await;
    let mut second = sand("SAND-08");
    second["barcode"] = json!("4006381333931");
    let clash = app.post("/api/v1/products", Who::Staff, &second).await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert_eq!(
        clash.error(),
        ("duplicate_barcode".into(), Some("barcode".into()))
    );

    // Freed when the first product's barcode changes.
    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"barcode": null}),
    )
    .await;
    app.create_product(&second).await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_reason() {
    let app = TestApp::spawn().await;
    let cases = [
        ("price", json!("-3"), "must not be negative"),
        ("price", json!(12.5), "invalid type"),
        ("price", json!("12,5"), "written with a dot"),
        ("unit", json!("bags"), "unknown unit"),
        ("sku", json!("A/B"), "may contain only"),
        ("name", json!(""), "must not be empty"),
        ("category", json!("A//B"), "category level"),
        ("density_kg_m3", json!("0"), "greater than zero"),
        ("tags", json!(["ok", ""]), "tag"),
    ];
    for (field, value, reason) in cases {
        let mut body = sand("SAND-04");
        body[field] = value.clone();
        let resp = app.post("/api/v1/products", Who::Staff, &body).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let (code, named) = resp.error();
        assert_eq!(code, "validation_failed");
        assert!(
            named.as_deref().is_some_and(|f| f.starts_with(field)),
            "{field}: {}",
            resp.text
        );
        assert!(resp.text.contains(reason), "{field}={value}: {}", resp.text);
    }
    let missing = app
        .post(
            "/api/v1/products",
            Who::Staff,
            &json!({"sku": "X-1", "unit": "t"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.error().1.is_some());
    // Nothing was created by any of these.
    let listed = app.get("/api/v1/products", Who::Staff).await;
    assert_eq!(listed.body["items"], json!([]));
}

#[tokio::test]
async fn unknown_fields_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let mut body = sand("SAND-04");
    body["version"] = json!(99);
    let resp = app.post("/api/v1/products", Who::Staff, &body).await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(resp.error().1.as_deref(), Some("version"));

    app.create_product(&sand("SAND-04")).await;
    let resp = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"colour": "red"}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(resp.error().1.as_deref(), Some("colour"));
}

#[tokio::test]
async fn malformed_json_is_400_and_a_wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/products", app.base);
    let resp = app
        .client
        .post(&url)
        .bearer_auth(&app.tokens.staff)
        .header("content-type", "application/json")
        .body("{\"sku\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");

    let resp = app
        .client
        .post(&url)
        .bearer_auth(&app.tokens.staff)
        .header("content-type", "text/plain")
        .body(sand("SAND-04").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media_type");
}

#[tokio::test]
async fn a_json_body_in_another_charset_is_415_and_a_utf8_byte_order_mark_is_read_past() {
    // Issue "Hardening", item 11.
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/products", app.base);
    let send = |content_type: &'static str, body: Vec<u8>| {
        app.client
            .post(&url)
            .bearer_auth(&app.tokens.staff)
            .header("content-type", content_type)
            .body(body)
    };
    let utf16: Vec<u8> = sand("SAND-04")
        .to_string()
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    for content_type in [
        "application/json; charset=utf-16",
        "application/json;charset=\"UTF-16LE\"",
        "application/json; charset=iso-8859-1",
    ] {
        let resp = respond(send(content_type, utf16.clone())).await;
        assert_eq!(
            resp.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}: {}",
            resp.text
        );
        assert_eq!(
            resp.error(),
            ("unsupported_media_type".into(), Some("Content-Type".into()))
        );
    }

    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(sand("SAND-04").to_string().into_bytes());
    let resp = respond(send("application/json; charset=UTF-8", with_bom)).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);

    // A body with a mark and the same body without are one request to
    // `Idempotency-Key`, and a batch is read past its mark too.
    app.create_location("YARD", "Main yard").await;
    let movement = crate::helpers::movement("receive", "YARD", "SAND-04", "2").to_string();
    let mut marked = b"\xEF\xBB\xBF".to_vec();
    marked.extend(movement.as_bytes());
    let book = |body: Vec<u8>| {
        app.client
            .post(format!("{}/api/v1/movements", app.base))
            .bearer_auth(&app.tokens.staff)
            .header("content-type", "application/json")
            .header("idempotency-key", "bom-1")
            .body(body)
    };
    let first = respond(book(marked)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = respond(book(movement.into_bytes())).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let mut batch = b"\xEF\xBB\xBF".to_vec();
    batch.extend(
        json!({"requests": [{"method": "GET", "path": "/api/v1/products/SAND-04"}]})
            .to_string()
            .into_bytes(),
    );
    let resp = respond(
        app.client
            .post(format!("{}/api/v1/batch", app.base))
            .bearer_auth(&app.tokens.staff)
            .header("content-type", "application/json")
            .body(batch),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    assert_eq!(resp.body["responses"][0]["status"], 200);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn_with(|c| c.limits.body_bytes = 4096).await;
    let mut body = sand("SAND-04");
    body["description"] = json!("x".repeat(5000));
    let resp = app.post("/api/v1/products", Who::Staff, &body).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.error().0, "payload_too_large");
    // Just under the limit is fine.
    body["description"] = json!("x".repeat(3000));
    app.create_product(&body).await;
}

#[tokio::test]
async fn anonymous_callers_never_see_staff_fields_or_archived_products() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.create_product(&sand("SAND-08")).await;
    app.delete("/api/v1/products/SAND-08", Who::Staff).await;

    let one = app.get("/api/v1/products/SAND-04", Who::Anonymous).await;
    assert_eq!(one.status, StatusCode::OK);
    for field in ["cost", "notes"] {
        assert!(
            one.body.get(field).is_none(),
            "{field} leaked: {}",
            one.text
        );
    }
    assert!(!one.text.contains("Pit 3"));

    for query in ["", "?active=false", "?active=true", "?category=aggregates"] {
        let list = app
            .get(&format!("/api/v1/products{query}"), Who::Anonymous)
            .await;
        assert_eq!(list.status, StatusCode::OK);
        let items = list.body["items"].as_array().unwrap();
        assert!(
            items.iter().all(|p| p["sku"] != "SAND-08"),
            "{query}: {}",
            list.text
        );
        assert!(
            items
                .iter()
                .all(|p| p.get("cost").is_none() && p.get("notes").is_none())
        );
        assert!(!list.text.contains("21.40"));
    }
    let staff = app.get("/api/v1/products?active=false", Who::Viewer).await;
    assert_eq!(staff.body["items"][0]["sku"], "SAND-08");
    assert_eq!(staff.body["items"][0]["cost"], "21.40");
}

#[tokio::test]
async fn listings_page_with_a_cursor_and_filter_by_category_subtree() {
    let app = TestApp::spawn().await;
    let categories = [
        "Aggregates/Sand",
        "Aggregates/Gravel",
        "Aggregates-Recycled",
        "Cement",
        "Aggregates",
    ];
    for i in 0..25 {
        let mut body = sand(&format!("P-{i:02}"));
        body["category"] = json!(categories[i % categories.len()]);
        app.create_product(&body).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/products?limit=7&cursor={c}"),
            None => "/api/v1/products?limit=7".to_owned(),
        };
        let page = app.get(&path, Who::Anonymous).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().map(|p| p["sku"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("P-{i:02}")).collect();
    assert_eq!(seen, expected, "every product once, in SKU order");

    // "aggregates" means the category and everything under it, not "Aggregates-Recycled".
    let mut in_tree = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/products?category=AGGREGATES&limit=4&cursor={c}"),
            None => "/api/v1/products?category=AGGREGATES&limit=4".to_owned(),
        };
        let page = app.get(&path, Who::Staff).await;
        for p in page.body["items"].as_array().unwrap() {
            in_tree.push(p["category"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(in_tree.len(), 15, "{in_tree:?}");
    assert!(
        in_tree
            .iter()
            .all(|c| c == "Aggregates" || c.starts_with("Aggregates/"))
    );

    let sand = app
        .get("/api/v1/products?category=aggregates/sand", Who::Staff)
        .await;
    assert_eq!(sand.body["items"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn listings_filter_by_updated_since_and_refuse_bad_parameters() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("OLD-1")).await;
    let mark = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.create_product(&sand("NEW-1")).await;
    let recent = app
        .get(
            &format!("/api/v1/products?updated_since={mark}"),
            Who::Staff,
        )
        .await;
    let skus: Vec<_> = recent.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["NEW-1"]);

    for (query, field) in [
        ("updated_since=yesterday", Some("updated_since")),
        ("limit=0", Some("limit")),
        ("limit=501", Some("limit")),
        ("cursor=garbage", Some("cursor")),
        ("active=maybe", Some("active")),
        ("colour=red", Some("colour")),
    ] {
        let resp = app
            .get(&format!("/api/v1/products?{query}"), Who::Staff)
            .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), field, "{query}");
    }
}

/// Regression (hardening, item 4): the millimetre and centimetre once had
/// their labels as codes, so `"unit": "mm"` was refused everywhere.
#[tokio::test]
async fn millimetres_and_centimetres_are_units_everywhere() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let mut wire = sand("WIRE-2");
    wire["name"] = json!("Binding wire");
    wire["unit"] = json!("m");
    wire["density_kg_m3"] = json!(null);
    let created = app.create_product(&wire).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let mut tape = sand("TAPE-1");
    tape["name"] = json!("Edge tape");
    tape["unit"] = json!("mm");
    tape["density_kg_m3"] = json!(null);
    let created = app.create_product(&tape).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["unit"], "mm");
    let booked = app.book(&movement("receive", "YARD", "WIRE-2", "2")).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let mut in_cm = movement("ship", "YARD", "WIRE-2", "50");
    in_cm["lines"][0]["unit"] = json!("cm");
    let shipped = app.book(&in_cm).await;
    assert_eq!(shipped.status, StatusCode::CREATED, "{}", shipped.text);
    assert_eq!(app.level("WIRE-2", "YARD").await.0, "1.5");
    let estimate = app
        .get(
            "/api/v1/quote/estimate?sku=WIRE-2&quantity=250&unit=cm",
            Who::Anonymous,
        )
        .await;
    assert_eq!(estimate.status, StatusCode::OK, "{}", estimate.text);
    assert_eq!(estimate.body["lines"][0]["requested"]["unit"], "cm");
    let shop = app.get("/api/v1/shop", Who::Anonymous).await;
    let codes: Vec<&str> = shop.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"mm") && codes.contains(&"cm"), "{codes:?}");
    let document = app.get("/api/v1/openapi.json", Who::Anonymous).await;
    let units = &document.body["components"]["schemas"]["Unit"]["enum"];
    assert!(units.as_array().unwrap().contains(&json!("mm")), "{units}");
}

/// Sends a request head declaring `length` bytes of body and none of them;
/// returns the status line of the answer, or `None` if none came in 10 s.
async fn declare(app: &TestApp, head: &str, length: u64) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.server.as_ref().unwrap().local_addr();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let token = app.token(Who::Staff).unwrap();
    let request = format!(
        "{head} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .ok()?
        .ok()?;
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .map(str::to_owned)
}

/// Regression (hardening, item 6): `Content-Length: 99999999999` held the
/// connection until the request timeout (408) instead of being refused.
#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once_with_413() {
    let app = TestApp::spawn_with(|c| {
        c.limits.request_timeout_secs = 60;
        c.limits.import_bytes = 1 << 20;
    })
    .await;
    for (head, length) in [
        ("POST /api/v1/quote/estimate", 99_999_999_999),
        ("POST /api/v1/products", 2 << 20),
        ("POST /api/v1/imports/products", 2 << 20),
    ] {
        let status = declare(&app, head, length).await;
        assert_eq!(
            status.as_deref(),
            Some("HTTP/1.1 413 Payload Too Large"),
            "{head} with Content-Length {length}"
        );
    }
    // A declared length within the limit is read as usual.
    let fits = app
        .post(
            "/api/v1/quote/estimate",
            Who::Anonymous,
            &json!({"lines": []}),
        )
        .await;
    assert_eq!(
        fits.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        fits.text
    );
}

/// Regression (hardening, item 3): `PATCH {"unit": "kg"}` on a product with
/// 2 t on hand left "2 kg" on hand, and `quarry check` still passed.
#[tokio::test]
async fn a_products_unit_cannot_change_once_it_has_movements() {
    let mut app = TestApp::spawn().await;
    app.stock_setup().await;
    // Before any movement, the unit is free to change.
    for unit in ["kg", "t"] {
        let changed = app
            .patch(
                "/api/v1/products/SAND-04",
                Who::Staff,
                &json!({"unit": unit}),
            )
            .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    }
    app.book(&movement("receive", "YARD", "SAND-04", "2")).await;
    let patched = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"unit": "kg"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::CONFLICT, "{}", patched.text);
    assert_eq!(
        patched.error(),
        ("unit_in_use".to_owned(), Some("unit".to_owned()))
    );
    assert!(patched.text.contains("new product"), "{}", patched.text);
    let mut replaced = sand("SAND-04");
    replaced["unit"] = json!("pc");
    let put = app
        .put("/api/v1/products/SAND-04", Who::Staff, &replaced)
        .await;
    assert_eq!(put.status, StatusCode::CONFLICT, "{}", put.text);
    let imported = app
        .upload(
            "/api/v1/imports/products",
            Who::Staff,
            "sku,name,category,unit,price\nSAND-04,Washed sand,Aggregates/Sand,kg,0.04\n",
        )
        .await;
    assert_eq!(
        imported.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        imported.text
    );
    assert_eq!(imported.body["report"]["errors"][0]["column"], "unit");
    let product = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(product.body["unit"], "t");
    assert_eq!(app.level("SAND-04", "YARD").await.0, "2");
    // Other fields still change.
    let renamed = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"price": "39"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);

    // A store that was changed before this rule existed is found by check.
    app.stop().await;
    crate::helpers::off_runtime(|| {
        crate::helpers::open_store(&app.config).write(|tx| {
            let sku = quarry::domain::values::Sku::parse("SAND-04").unwrap();
            let mut product = tx.product(&sku)?.unwrap();
            product.unit = quarry::domain::units::Unit::Kilogram;
            tx.put_product(&product)?;
            tx.record(
                quarry::store::ChangeKind::ProductUpdated,
                "SAND-04",
                &quarry::domain::accounts::Actor::cli(),
                &quarry::store::payloads::ProductChanged {
                    version: product.version,
                    active: product.active,
                    changes: Vec::new(),
                },
            )?;
            Ok::<_, quarry::store::StoreError>(())
        })
    })
    .unwrap();
    let report = app.check();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("SAND-04 is stocked in kg, but its movements are in t"),
        "{:?}",
        report.problems
    );
}
