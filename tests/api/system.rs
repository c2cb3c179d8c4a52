//! Health, the `OpenAPI` document, the UI page, routing errors, request ids, and
//! persistence across a restart.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, Who, sand};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz", Who::Anonymous).await;
    assert_eq!(
        (health.status, health.text.as_str()),
        (StatusCode::OK, "ok")
    );
    let ready = app.get("/readyz", Who::Anonymous).await;
    assert_eq!(
        (ready.status, ready.text.as_str()),
        (StatusCode::OK, "ready")
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation_with_security_and_responses() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json", Who::Anonymous).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc.body["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/products",
        "/api/v1/products/{sku}",
        "/api/v1/locations",
        "/api/v1/locations/{code}",
        "/api/v1/movements",
        "/api/v1/movements/{id}",
        "/api/v1/movements/{id}/reverse",
        "/api/v1/stock",
        "/api/v1/products/{sku}/stock",
        "/api/v1/events",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented");
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
                assert!(op["security"].is_array(), "{method} {path} has no security");
            }
        }
    }
    for schema in [
        "Product",
        "PublicProduct",
        "ProductInput",
        "ProductPatch",
        "Location",
        "ErrorBody",
    ] {
        assert!(
            doc.body["components"]["schemas"].get(schema).is_some(),
            "schema {schema} missing"
        );
    }
    // Every reference resolves: the fuzzing run skipped the import and
    // export `decimal` parameter, whose schema the document did not carry.
    let mut refs = Vec::new();
    collect_refs(&doc.body, &mut refs);
    assert!(refs.len() > 50, "{} references", refs.len());
    for reference in refs {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{reference} is not a schema reference"));
        assert!(
            doc.body["components"]["schemas"].get(name).is_some(),
            "{reference} does not resolve"
        );
    }
}

fn collect_refs(value: &serde_json::Value, refs: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", serde_json::Value::String(target)) => refs.push(target.clone()),
                    _ => collect_refs(item, refs),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

/// The anonymous fuzzing run found a public product valid as both branches
/// of the product `oneOf`: a staff product's own fields were optional in its
/// schema (they are always in the answer), so a public product was also one.
#[tokio::test]
async fn a_public_product_is_not_also_a_staff_product_by_the_document() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let doc = app.get("/api/v1/openapi.json", Who::Anonymous).await;
    let schemas = &doc.body["components"]["schemas"];
    let names = |schema: &serde_json::Value, key: &str| -> Vec<String> {
        match &schema[key] {
            serde_json::Value::Object(map) => map.keys().cloned().collect(),
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let product = &schemas["Product"];
    let mut properties = names(product, "properties");
    let mut required = names(product, "required");
    properties.sort();
    required.sort();
    assert_eq!(
        required, properties,
        "a staff product always has every field"
    );
    let public = app.get("/api/v1/products/SAND-04", Who::Anonymous).await;
    let fields: Vec<String> = public.body.as_object().unwrap().keys().cloned().collect();
    assert!(
        required.iter().any(|r| !fields.contains(r)),
        "a public product lacks a field every staff product has"
    );
    assert_eq!(
        schemas["PublicProduct"]["additionalProperties"],
        json!(false)
    );
    for field in &fields {
        assert!(
            schemas["PublicProduct"]["properties"].get(field).is_some(),
            "{field}"
        );
    }
    let staff = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert!(staff.body.as_object().unwrap().len() > fields.len());
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/v1/openapi.json", Who::Anonymous).await;
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url = path
                .replace("{sku}", "NONE")
                .replace("{code}", "NONE")
                .replace("{id}", "999")
                .replace("{number}", "Q-2000-0001")
                .replace("{link}", "nolinkatall0000000000")
                .replace("{path}", "quarry.css");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if url == "/api/v1/events" {
                let (status, _) = app.send_head(method, &url, Who::Owner).await;
                assert_eq!(status, StatusCode::OK);
                continue;
            }
            let resp = app
                .send(method.clone(), &url, Who::Owner, Some(&json!({})), &[])
                .await;
            assert_ne!(
                resp.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {url}"
            );
            if resp.status == StatusCode::NOT_FOUND {
                assert_ne!(
                    resp.body["error"]["message"], "no such route",
                    "{method} {url}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_start_page_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.get("/", Who::Anonymous).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains("Quarry</title>"));
    let etag = page.header("etag").unwrap().to_owned();
    let again = app
        .send(
            Method::GET,
            "/",
            Who::Anonymous,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let css = app.get("/assets/quarry.css", Who::Anonymous).await;
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    let missing = app.get("/assets/nope.js", Who::Anonymous).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_format() {
    let app = TestApp::spawn().await;
    let missing = app.get("/api/v1/nothing-here", Who::Anonymous).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error().0, "not_found");
    let wrong = app
        .send(Method::DELETE, "/api/v1/products", Who::Owner, None, &[])
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.error().0, "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_basic_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/api/v1/products", "/api/v1/nothing", "/healthz"] {
        let resp = app.get(path, Who::Anonymous).await;
        let id = resp.header("x-request-id").unwrap_or_default();
        assert_eq!(id.len(), 36, "{path}: request id {id:?}");
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
        assert!(resp.header("content-security-policy").is_some());
    }
    let resp = app
        .send(
            Method::GET,
            "/healthz",
            Who::Anonymous,
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(resp.header("x-request-id"), Some("abc-123"));
}

#[tokio::test]
async fn data_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.create_location("YARD", "Main yard").await;
    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"price": "40"}),
    )
    .await;
    app.restart().await;
    let product = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(product.status, StatusCode::OK);
    assert_eq!(product.body["price"], "40.00");
    assert_eq!(product.body["version"], 2);
    let location = app.get("/api/v1/locations/YARD", Who::Viewer).await;
    assert_eq!(location.status, StatusCode::OK);
    // Tokens survive too (they are used for every request above).
    app.stop().await;
    let report = app.check();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.products, 1);
}

#[tokio::test]
async fn concurrent_writes_are_all_committed() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.post("/api/v1/products", Who::Staff, &sand(&format!("C-{i:03}")))
                .await
                .status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    let listed = app.get("/api/v1/products?limit=100", Who::Staff).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 40);
}
