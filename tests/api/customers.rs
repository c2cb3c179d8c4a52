//! Trade customers and price lists over HTTP: keeping them, the preview,
//! staff estimates and quotes for a customer at their list's prices, and
//! what the public may not do with them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, sand};

/// Sand (38.00 per t, Aggregates/Sand) and a price list: 8% off Aggregates,
/// SAND-04 at 30.00 from 20 t.
pub(crate) async fn shop_with_list() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let list = json!({
        "code": "trade-b", "name": "Trade list B",
        "rules": [
            {"category": "Aggregates", "percent_off": "8"},
            {"sku": "SAND-04", "price": "30.00", "min_quantity": "20"},
        ],
    });
    let made = app.post("/api/v1/price-lists", Who::Staff, &list).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(made.body["code"], "TRADE-B");
    assert_eq!(made.body["version"], 1);
    let customer = json!({
        "code": "northbuild", "name": "Northbuild Ltd", "tax_number": "GB123456789",
        "billing_address": "Unit 4, Mill Lane\nNorthtown AB1 2CD",
        "delivery_addresses": ["Plot 7, New Road\nNorthtown AB1 3EF"],
        "payment_terms": "30 days net", "notes": "Pays on time", "price_list": "TRADE-B",
    });
    let made = app.post("/api/v1/customers", Who::Staff, &customer).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    app
}

fn line(body: &Value) -> &Value {
    &body["lines"][0]
}

/// A record as read, made a body to send back: without what the server keeps.
fn editable(mut record: Value) -> Value {
    for key in ["created_at", "updated_at", "version"] {
        record.as_object_mut().unwrap().remove(key);
    }
    record
}

#[tokio::test]
async fn a_staff_estimate_for_a_customer_is_priced_at_their_list_with_the_rule_and_saving() {
    let app = shop_with_list().await;
    let ask = |quantity: &str| {
        json!({"lines": [{"sku": "SAND-04", "quantity": quantity, "unit": "t"}],
               "customer": "NORTHBUILD"})
    };
    // 5 t: 8% off Aggregates, 38.00 → 34.96 per t; 174.80 against 190.00.
    let five = app
        .post("/api/v1/quote/estimate", Who::Staff, &ask("5"))
        .await;
    assert_eq!(five.status, StatusCode::OK, "{}", five.text);
    let l = line(&five.body);
    assert_eq!(l["unit_price"], "34.96");
    assert_eq!(l["net"], "174.80");
    assert_eq!(l["list_price"]["rule"], "Trade list B: 8% off Aggregates");
    assert_eq!(l["list_price"]["list_amount"], "190.00");
    assert_eq!(l["list_price"]["saving"], "15.20");
    // 25 t: the SKU's fixed price from 20 t wins over the category.
    let bulk = app
        .post("/api/v1/quote/estimate", Who::Staff, &ask("25"))
        .await;
    assert_eq!(line(&bulk.body)["net"], "750.00");
    assert_eq!(
        line(&bulk.body)["list_price"]["rule"],
        "Trade list B: 30.00 per t for SAND-04 from 20 t"
    );
    // Without the customer: the list price, nothing said.
    let plain = app
        .post(
            "/api/v1/quote/estimate",
            Who::Staff,
            &json!({"lines": [{"sku": "SAND-04", "quantity": "5", "unit": "t"}]}),
        )
        .await;
    assert_eq!(line(&plain.body)["net"], "190.00");
    assert!(
        line(&plain.body).get("list_price").is_none(),
        "{}",
        plain.text
    );
    // A change to the list is priced at once (no stale cached estimate).
    let mut list = editable(
        app.get("/api/v1/price-lists/TRADE-B", Who::Viewer)
            .await
            .body,
    );
    list["rules"][0]["percent_off"] = json!("10");
    let changed = app
        .put("/api/v1/price-lists/TRADE-B", Who::Staff, &list)
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["version"], 2);
    let again = app
        .post("/api/v1/quote/estimate", Who::Staff, &ask("5"))
        .await;
    assert_eq!(line(&again.body)["net"], "171.00");
    app.stop_and_check().await;
}

#[tokio::test]
async fn the_public_cannot_price_for_a_customer_or_learn_that_one_exists() {
    let app = shop_with_list().await;
    for customer in ["NORTHBUILD", "NOBODY"] {
        let body = json!({"lines": [{"sku": "SAND-04", "quantity": "5"}], "customer": customer});
        let estimate = app
            .post("/api/v1/quote/estimate", Who::Anonymous, &body)
            .await;
        assert_eq!(estimate.status, StatusCode::FORBIDDEN, "{}", estimate.text);
        let mut quote = body.clone();
        quote["contact"] = json!({"name": "Sam", "phone": "01234 567890"});
        let saved = app.post("/api/v1/quotes", Who::Anonymous, &quote).await;
        assert_eq!(saved.status, StatusCode::FORBIDDEN, "{}", saved.text);
    }
    // Staff naming a customer that does not exist are told which field.
    let body = json!({"lines": [{"sku": "SAND-04", "quantity": "5"}], "customer": "NOBODY"});
    let estimate = app.post("/api/v1/quote/estimate", Who::Staff, &body).await;
    assert_eq!(estimate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(estimate.error().1.as_deref(), Some("customer"));
    for path in [
        "/api/v1/customers",
        "/api/v1/price-lists",
        "/api/v1/customers/NORTHBUILD",
    ] {
        assert_eq!(
            app.get(path, Who::Anonymous).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_quote_for_a_customer_keeps_them_and_their_prices_through_changes_and_repricing() {
    let app = shop_with_list().await;
    let request = json!({
        "lines": [{"sku": "SAND-04", "quantity": "5", "unit": "t"}],
        "contact": {"name": "Sam Builder", "phone": "01234 567890"},
        "customer": "NORTHBUILD",
    });
    let saved = app.post("/api/v1/quotes", Who::Staff, &request).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    assert_eq!(saved.body["customer"], "NORTHBUILD");
    assert_eq!(saved.body["lines"][0]["net"], "174.80");
    let number = saved.body["number"].as_str().unwrap().to_owned();
    // The customer's own page shows their price and the rule, not staff's fields.
    let link = saved.body["link"].as_str().unwrap();
    let secret = link.rsplit('/').next().unwrap();
    let public = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text);
    assert_eq!(public.body["lines"][0]["list_price"]["saving"], "15.20");
    assert!(public.body.get("customer").is_none(), "{}", public.text);
    // Repricing after the list changed takes the customer's new price.
    let mut list = editable(
        app.get("/api/v1/price-lists/TRADE-B", Who::Viewer)
            .await
            .body,
    );
    list["rules"][0]["percent_off"] = json!("10");
    app.put("/api/v1/price-lists/TRADE-B", Who::Staff, &list)
        .await;
    let repriced = app
        .post(
            &format!("/api/v1/quotes/{number}/reprice"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(repriced.status, StatusCode::OK, "{}", repriced.text);
    let quote = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Viewer)
        .await;
    assert_eq!(quote.body["lines"][0]["net"], "171.00", "{}", quote.text);
    // Changed without the customer: list prices again.
    let mut plain = request.clone();
    plain.as_object_mut().unwrap().remove("customer");
    let edited = app
        .put(&format!("/api/v1/quotes/{number}"), Who::Staff, &plain)
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert!(edited.body.get("customer").is_none());
    assert_eq!(edited.body["lines"][0]["net"], "190.00");
    // An archived customer gets no new quotes.
    let mut customer = editable(
        app.get("/api/v1/customers/NORTHBUILD", Who::Viewer)
            .await
            .body,
    );
    customer["active"] = json!(false);
    let archived = app
        .put("/api/v1/customers/NORTHBUILD", Who::Staff, &customer)
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    let refused = app.post("/api/v1/quotes", Who::Staff, &request).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(refused.text.contains("archived"), "{}", refused.text);
    app.stop_and_check().await;
}

#[tokio::test]
async fn the_preview_says_what_a_quantity_costs_at_a_list() {
    let app = shop_with_list().await;
    let preview = app
        .get(
            "/api/v1/price-lists/TRADE-B/preview?sku=SAND-04&quantity=3&unit=m3",
            Who::Viewer,
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    // 3 m³ × 1600 kg/m³ = 4.8 t at 34.96: 167.808 → 167.81, rounded once.
    assert_eq!(preview.body["line"]["net"], "167.81");
    assert_eq!(preview.body["line"]["list_price"]["list_amount"], "182.40");
    assert_eq!(
        preview.body["line"]["explanation"],
        "3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t"
    );
    for (query, status, field) in [
        (
            "sku=NOPE&quantity=1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "sku",
        ),
        (
            "sku=SAND-04&quantity=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity",
        ),
        (
            "sku=SAND-04&quantity=1&unit=parsec",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unit",
        ),
    ] {
        let answer = app
            .get(
                &format!("/api/v1/price-lists/TRADE-B/preview?{query}"),
                Who::Viewer,
            )
            .await;
        assert_eq!(answer.status, status, "{query}: {}", answer.text);
        assert_eq!(answer.error().1.as_deref(), Some(field), "{query}");
    }
    let missing = app
        .get(
            "/api/v1/price-lists/NONE/preview?sku=SAND-04&quantity=1",
            Who::Viewer,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    app.stop_and_check().await;
}

#[tokio::test]
async fn bad_lists_and_customers_are_refused_with_the_field_and_nothing_is_lost() {
    let app = shop_with_list().await;
    for (rules, field) in [
        (
            json!([{"category": "Aggregates", "price": "3"}]),
            "rules[0].price",
        ),
        (json!([{"sku": "SAND-04"}]), "rules[0].percent_off"),
        (json!([{"sku": "NOPE", "price": "1"}]), "rules[0].sku"),
        (
            json!([{"percent_off": "5", "min_quantity": "-1"}]),
            "rules[0].min_quantity",
        ),
        (
            json!([{"percent_off": "5"}, {"percent_off": "101"}]),
            "rules[1].percent_off",
        ),
        (
            json!([{"percent_off": "5", "valid_from": "2026-03-01", "valid_until": "2026-02-01"}]),
            "rules[0].valid_until",
        ),
    ] {
        let body = json!({"name": "Broken", "rules": rules});
        let answer = app
            .put("/api/v1/price-lists/TRADE-B", Who::Staff, &body)
            .await;
        assert!(answer.status.is_client_error(), "{rules}: {}", answer.text);
        assert_eq!(answer.error().1.as_deref(), Some(field), "{rules}");
    }
    let kept = app.get("/api/v1/price-lists/TRADE-B", Who::Viewer).await;
    assert_eq!(
        (kept.body["version"].clone(), kept.body["name"].clone()),
        (json!(1), json!("Trade list B"))
    );
    let again = json!({"code": "TRADE-B", "name": "Again"});
    let duplicate = app.post("/api/v1/price-lists", Who::Staff, &again).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.error().0, "duplicate_price_list");
    let twin = json!({"code": "NORTHBUILD", "name": "Twin"});
    let duplicate = app.post("/api/v1/customers", Who::Staff, &twin).await;
    assert_eq!(duplicate.error().0, "duplicate_customer");
    let no_list = json!({"code": "SOUTH", "name": "South Ltd", "price_list": "NONE"});
    let refused = app.post("/api/v1/customers", Who::Staff, &no_list).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error().1.as_deref(), Some("price_list"));
    // A list customers buy at stays until they buy at another.
    let in_use = app.delete("/api/v1/price-lists/TRADE-B", Who::Staff).await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(in_use.error().0, "price_list_in_use");
    assert!(in_use.text.contains("NORTHBUILD"), "{}", in_use.text);
    let moved = json!({"name": "Northbuild Ltd"});
    let stale = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/customers/NORTHBUILD",
            Who::Staff,
            Some(&moved),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );
    let moved = app
        .put("/api/v1/customers/NORTHBUILD", Who::Staff, &moved)
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert!(moved.body.get("price_list").is_none());
    let gone = app.delete("/api/v1/price-lists/TRADE-B", Who::Staff).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let audit = app.get("/api/v1/audit?kind=price_list", Who::Owner).await;
    let kinds: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["price_list.deleted", "price_list.created"]);
    app.stop_and_check().await;
}

#[tokio::test]
async fn customers_are_listed_a_page_at_a_time_in_code_order() {
    let app = TestApp::spawn().await;
    for code in ["C3", "C1", "C5", "C2", "C4"] {
        let made = app
            .post(
                "/api/v1/customers",
                Who::Staff,
                &json!({"code": code, "name": format!("Firm {code}")}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/customers?limit=2".to_owned();
    loop {
        let page = app.get(&path, Who::Viewer).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|c| c["code"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/customers?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["C1", "C2", "C3", "C4", "C5"]);
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_customers_quotes_are_listed_newest_first_and_follow_changes() {
    let app = shop_with_list().await;
    let request = |customer: Option<&str>| {
        let mut body = json!({
            "lines": [{"sku": "SAND-04", "quantity": "2", "unit": "t"}],
            "contact": {"name": "Sam Builder", "phone": "01234 567890"},
        });
        if let Some(customer) = customer {
            body["customer"] = json!(customer);
        }
        body
    };
    let mut theirs = Vec::new();
    for customer in [
        Some("NORTHBUILD"),
        None,
        Some("NORTHBUILD"),
        Some("NORTHBUILD"),
    ] {
        let saved = app
            .post("/api/v1/quotes", Who::Staff, &request(customer))
            .await;
        assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
        if customer.is_some() {
            theirs.push(saved.body["number"].as_str().unwrap().to_owned());
        }
    }
    theirs.reverse();
    assert_eq!(quotes_of(&app, "northbuild").await, theirs);
    // A quote changed to no customer leaves their list.
    let changed = app
        .put(
            &format!("/api/v1/quotes/{}", theirs[0]),
            Who::Staff,
            &request(None),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(quotes_of(&app, "NORTHBUILD").await, theirs[1..]);
    let bad = app.get("/api/v1/quotes?customer=a/b", Who::Viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    app.stop_and_check().await;
}

/// The numbers of a customer's quotes, paged two at a time.
async fn quotes_of(app: &TestApp, customer: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/quotes?customer={customer}&limit=2");
    loop {
        let page = app.get(&path, Who::Viewer).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for quote in page.body["items"].as_array().unwrap() {
            assert_eq!(quote["customer"], customer.to_uppercase());
            seen.push(quote["number"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/quotes?customer={customer}&limit=2&cursor={c}"),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn customers_and_price_lists_are_exported_as_csv_and_json() {
    let app = shop_with_list().await;
    let csv = app
        .get("/api/v1/exports/price-lists?decimal=dot", Who::Viewer)
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let rows: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        rows,
        [
            "code,name,sku,category,price,percent_off,min_quantity,valid_from,valid_until",
            "TRADE-B,Trade list B,,Aggregates,,8,,,",
            "TRADE-B,Trade list B,SAND-04,,30.00,,20,,",
        ]
    );
    let csv = app.get("/api/v1/exports/customers", Who::Viewer).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| record[headers.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(cell("code"), "NORTHBUILD");
    assert_eq!(
        cell("billing_address"),
        "Unit 4, Mill Lane\nNorthtown AB1 2CD"
    );
    assert_eq!(cell("price_list"), "TRADE-B");
    assert_eq!(cell("notes"), "Pays on time");
    assert_eq!(cell("active"), "true");
    let json = app
        .get("/api/v1/exports/customers?format=json", Who::Viewer)
        .await;
    assert_eq!(
        json.body[0]["delivery_addresses"][0],
        "Plot 7, New Road\nNorthtown AB1 3EF"
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_price_list_change_is_checked_before_its_version_is_compared() {
    let app = shop_with_list().await;
    let stale = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/price-lists/TRADE-B",
            Who::Staff,
            Some(&json!({"name": "Renamed"})),
            &[("if-match", "\"9\"")],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );
    // A malformed body is refused as such, whatever its If-Match says.
    let malformed = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/price-lists/TRADE-B",
            Who::Staff,
            Some(&json!({"name": "Renamed", "rules": [[null, null]]})),
            &[("if-match", "\"9\"")],
        )
        .await;
    assert_eq!(
        malformed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        malformed.text
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn customers_and_price_lists_come_back_from_their_own_csv_exports() {
    let app = shop_with_list().await;
    // What the exports wrote reads back unchanged: addresses over lines,
    // decimals, a list's rules a row each.
    for kind in ["customers", "price-lists"] {
        let csv = app
            .get(&format!("/api/v1/exports/{kind}"), Who::Viewer)
            .await;
        let back = app
            .upload(&format!("/api/v1/imports/{kind}"), Who::Staff, &csv.text)
            .await;
        assert_eq!(back.status, StatusCode::OK, "{kind}: {}", back.text);
        assert_eq!(back.body["unchanged"], 1, "{kind}: {}", back.text);
        assert_eq!(back.body["created"], 0);
    }
    // A new list of two rules and a change to an old one; a new customer
    // buying at the new list and a renamed one.
    let lists = "code,name,sku,category,price,percent_off,min_quantity\n\
                 TRADE-C,Trade list C,,Aggregates,,6,\n\
                 TRADE-C,Trade list C,SAND-04,,31.50,,10\n\
                 TRADE-B,Trade list B,,Aggregates,,9,\n";
    let imported = app
        .upload("/api/v1/imports/price-lists", Who::Staff, lists)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(
        (
            imported.body["created"].as_u64(),
            imported.body["updated"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let c = app.get("/api/v1/price-lists/TRADE-C", Who::Viewer).await;
    assert_eq!(
        c.body["rules"][1],
        json!({"sku": "SAND-04", "price": "31.50", "min_quantity": "10"})
    );
    let b = app.get("/api/v1/price-lists/TRADE-B", Who::Viewer).await;
    assert_eq!(
        b.body["rules"],
        json!([{"category": "Aggregates", "percent_off": "9"}])
    );
    let customers = "code,name,delivery_addresses,price_list\n\
                     SOUTHYARD,South Yard Ltd,\"Gate 1\nDock Road\n\nGate 2\nMill Road\",TRADE-C\n\
                     NORTHBUILD,Northbuild Group,,TRADE-B\n";
    let imported = app
        .upload("/api/v1/imports/customers", Who::Staff, customers)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let south = app.get("/api/v1/customers/SOUTHYARD", Who::Viewer).await;
    assert_eq!(
        south.body["delivery_addresses"],
        json!(["Gate 1\nDock Road", "Gate 2\nMill Road"])
    );
    assert_eq!(south.body["price_list"], "TRADE-C");
    let north = app.get("/api/v1/customers/NORTHBUILD", Who::Viewer).await;
    assert_eq!(north.body["name"], "Northbuild Group");
    assert_eq!(north.body["version"], 2);
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_bad_customer_or_price_list_row_is_named_and_nothing_is_written() {
    let app = shop_with_list().await;
    let lists = "code,name,category,percent_off\n\
                 TRADE-D,Trade list D,Aggregates,5\n\
                 TRADE-D,Trade list D,Timber,150\n\
                 TRADE-E,Trade list E,,abc\n\
                 TRADE-D,Another name,Tools,3\n";
    let refused = app
        .upload("/api/v1/imports/price-lists", Who::Staff, lists)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let errors: Vec<(u64, String)> = refused.body["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "percent_off".to_owned()),
            (4, "percent_off".to_owned()),
            (5, "name".to_owned())
        ],
        "{}",
        refused.text
    );
    assert_eq!(
        app.get("/api/v1/price-lists/TRADE-D", Who::Viewer)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let customers =
        "code,name,price_list\nNEWCO,New Co,NO-SUCH-LIST\nNEWER,Newer Co,\nNEWER,Again,\n";
    let refused = app
        .upload("/api/v1/imports/customers", Who::Staff, customers)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let columns: Vec<&str> = refused.body["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["price_list", "code"]);
    assert_eq!(
        app.get("/api/v1/customers/NEWER", Who::Viewer).await.status,
        StatusCode::NOT_FOUND
    );
    // The public and viewers may not import.
    let viewer = app
        .upload("/api/v1/imports/customers", Who::Viewer, "code,name\nX,Y\n")
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    app.stop_and_check().await;
}
