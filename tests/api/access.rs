//! The access rules, as one table: every route the server documents × every
//! kind of caller → the status class expected. A route missing from the table
//! fails the test, so no route can ship without a rule.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, sand};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// No authentication at all: credentials are not even looked at.
    Open,
    /// Anyone; a token that is sent must be valid.
    Public,
    Viewer,
    Staff,
    #[allow(dead_code)] // for owner-only routes (users, tokens, audit)
    Owner,
}

/// (method, documented path, rule). Path parameters are filled in by `concrete`.
const TABLE: &[(&str, &str, Rule)] = &[
    ("GET", "/", Rule::Open),
    ("GET", "/assets/{path}", Rule::Open),
    ("GET", "/healthz", Rule::Open),
    ("GET", "/readyz", Rule::Open),
    ("GET", "/api/v1/openapi.json", Rule::Open),
    ("GET", "/api/v1/products", Rule::Public),
    ("POST", "/api/v1/products", Rule::Staff),
    ("GET", "/api/v1/products/{sku}", Rule::Public),
    ("PUT", "/api/v1/products/{sku}", Rule::Staff),
    ("PATCH", "/api/v1/products/{sku}", Rule::Staff),
    ("DELETE", "/api/v1/products/{sku}", Rule::Staff),
    ("GET", "/api/v1/locations", Rule::Viewer),
    ("POST", "/api/v1/locations", Rule::Staff),
    ("GET", "/api/v1/locations/{code}", Rule::Viewer),
    ("PATCH", "/api/v1/locations/{code}", Rule::Staff),
    ("GET", "/api/v1/movements", Rule::Viewer),
    ("POST", "/api/v1/movements", Rule::Staff),
    ("GET", "/api/v1/movements/{id}", Rule::Viewer),
    ("POST", "/api/v1/movements/{id}/reverse", Rule::Staff),
    ("GET", "/api/v1/stock", Rule::Viewer),
    ("GET", "/api/v1/products/{sku}/stock", Rule::Public),
    ("GET", "/api/v1/events", Rule::Public),
    ("POST", "/api/v1/batch", Rule::Public),
    ("GET", "/api/v1/search", Rule::Public),
    ("GET", "/api/v1/search/suggest", Rule::Open),
    ("POST", "/api/v1/quote/estimate", Rule::Public),
    ("GET", "/api/v1/quote/estimate", Rule::Public),
    ("POST", "/api/v1/quotes", Rule::Public),
    ("GET", "/api/v1/quotes", Rule::Viewer),
    ("GET", "/api/v1/quotes/{number}", Rule::Viewer),
    ("POST", "/api/v1/quotes/{number}/accept", Rule::Staff),
    ("POST", "/api/v1/quotes/{number}/fulfil", Rule::Staff),
    ("POST", "/api/v1/quotes/{number}/cancel", Rule::Staff),
    ("GET", "/api/v1/quotes/link/{link}", Rule::Open),
    ("GET", "/q/{link}", Rule::Open),
];

/// Routes that stream: only their status is checked.
const STREAMS: &[&str] = &["/api/v1/events"];

fn year() -> i16 {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year()
}

fn quote_request() -> Value {
    json!({
        "lines": [{"sku": "SAND-04", "quantity": "0.1"}],
        "contact": {"name": "Sam", "email": "sam@example.com"},
    })
}

fn expected(rule: Rule, who: Who) -> StatusCode {
    let role_needed = match rule {
        Rule::Open => return StatusCode::OK,
        Rule::Public => None,
        Rule::Viewer => Some(Who::Viewer),
        Rule::Staff => Some(Who::Staff),
        Rule::Owner => Some(Who::Owner),
    };
    let rank = |w: Who| match w {
        Who::Viewer => 1,
        Who::Staff => 2,
        Who::Owner => 3,
        _ => 0,
    };
    match (who, role_needed) {
        (Who::Expired | Who::Revoked | Who::DisabledUser | Who::Garbage, _) => {
            StatusCode::UNAUTHORIZED
        }
        (_, None) => StatusCode::OK,
        (Who::Anonymous, Some(_)) => StatusCode::UNAUTHORIZED,
        (who, Some(needed)) if rank(who) >= rank(needed) => StatusCode::OK,
        _ => StatusCode::FORBIDDEN,
    }
}

/// A request for the route that succeeds for a caller with the rights.
fn concrete(method: &str, path: &str, n: usize, link: &str) -> (String, Option<Value>) {
    // Each reversal needs a movement of its own: movements 1.. are receipts.
    // Archiving gets a product of its own, so the others stay public.
    let sku = if method == "DELETE" {
        "OLD-1"
    } else {
        "SAND-04"
    };
    let path = path
        .replace("{sku}", sku)
        .replace("{code}", "YARD")
        .replace("{path}", "quarry.css")
        .replace("{id}", &n.to_string())
        .replace("{number}", &format!("Q-{}-{n:04}", year()))
        .replace("{link}", link);
    let path = if method == "GET" && path == "/api/v1/quote/estimate" {
        format!("{path}?sku=SAND-04&quantity=1")
    } else {
        path
    };
    let body = match (method, path.as_str()) {
        ("POST", "/api/v1/movements") => Some(json!({
            "kind": "receive", "location": "YARD",
            "lines": [{"sku": "SAND-04", "quantity": "1"}],
        })),
        ("POST", "/api/v1/products") => Some(sand(&format!("NEW-{n}"))),
        ("PUT", _) => Some(sand("SAND-04")),
        ("PATCH", p) if p.starts_with("/api/v1/products") => {
            Some(json!({"name": format!("Sand {n}")}))
        }
        ("POST", "/api/v1/batch") => {
            Some(json!({"requests": [{"method": "GET", "path": "/api/v1/products"}]}))
        }
        ("POST", "/api/v1/quote/estimate") => {
            Some(json!({"lines": [{"sku": "SAND-04", "quantity": "1"}]}))
        }
        ("POST", "/api/v1/quotes") => Some(quote_request()),
        ("POST", "/api/v1/locations") => Some(json!({"code": format!("L{n}"), "name": "Shelf"})),
        ("PATCH", _) => Some(json!({"name": format!("Yard {n}")})),
        _ => None,
    };
    (path, body)
}

#[tokio::test]
async fn every_documented_route_has_a_rule_and_every_caller_gets_what_the_rule_says() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.create_product(&sand("OLD-1")).await;
    app.create_location("YARD", "Main yard").await;
    // Every call that needs one gets a movement and a quote of its own.
    for _ in 0..TABLE.len() * Who::ALL.len() {
        app.book(&json!({
            "kind": "receive", "location": "YARD",
            "lines": [{"sku": "SAND-04", "quantity": "10"}],
        }))
        .await;
        let quote = app
            .post("/api/v1/quotes", Who::Staff, &quote_request())
            .await;
        assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    }
    let linked = app
        .post("/api/v1/quotes", Who::Staff, &quote_request())
        .await;
    let link = linked.body["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    let document = app.get("/api/v1/openapi.json", Who::Anonymous).await;
    let mut documented = BTreeSet::new();
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let tabled: BTreeSet<_> = TABLE
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let without_rule: Vec<_> = documented.difference(&tabled).collect();
    assert!(
        without_rule.is_empty(),
        "routes without an access rule: {without_rule:?}"
    );
    let undocumented: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "rules for routes that do not exist: {undocumented:?}"
    );

    let mut failures = Vec::new();
    let mut n = 0;
    for (method, path, rule) in TABLE {
        for who in Who::ALL {
            n += 1;
            let (url, body) = concrete(method, path, n, &link);
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let want = expected(*rule, who);
            if STREAMS.contains(path) {
                let (status, _) = app.send_head(method.clone(), &url, who).await;
                let ok = if want == StatusCode::OK {
                    status.is_success()
                } else {
                    status == want
                };
                if !ok {
                    failures.push(format!(
                        "{method} {url} as {who:?}: got {status}, want {want}"
                    ));
                }
                continue;
            }
            let resp = app
                .send(method.clone(), &url, who, body.as_ref(), &[])
                .await;
            let ok = if want == StatusCode::OK {
                resp.status.is_success()
            } else {
                resp.status == want
            };
            if !ok {
                failures.push(format!(
                    "{method} {url} as {who:?}: got {}, want {want}",
                    resp.status
                ));
            }
            if resp.status == StatusCode::UNAUTHORIZED {
                assert_eq!(resp.error().0, "unauthenticated");
                assert!(resp.header("www-authenticate").is_some());
            }
            if resp.status == StatusCode::FORBIDDEN {
                assert_eq!(resp.error().0, "forbidden");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_malformed_authorization_header_is_401_not_anonymous() {
    let app = TestApp::spawn().await;
    for value in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token"] {
        let resp = app
            .send(
                Method::GET,
                "/api/v1/products",
                Who::Anonymous,
                None,
                &[("authorization", value)],
            )
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{value:?}");
    }
}

#[tokio::test]
async fn a_token_records_when_it_was_last_used() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/locations", Who::Viewer).await;
    // The use is recorded in the background; give it a moment to be queued.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let data_dir = app.config.data_dir.clone();
    let mut app = app;
    app.stop().await;
    let store = quarry::store::Store::open(&data_dir).unwrap();
    let tokens = quarry::app::accounts::local::list_tokens(&store).unwrap();
    let viewer = tokens.iter().find(|t| t.name.as_str() == "viewer").unwrap();
    assert!(viewer.last_used_at.is_some());
    let unused = tokens.iter().find(|t| t.name.as_str() == "owner").unwrap();
    assert!(unused.last_used_at.is_none());
}
