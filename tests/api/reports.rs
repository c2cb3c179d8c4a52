//! `/reports/*`: the dashboard's figures, hand-computed on a small ledger
//! whose history spans three days (the older days imported with their dates).

use jiff::tz::TimeZone;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, movement, sand};

/// Books the history: two days ago, yesterday, and today (through the API).
async fn history(app: &TestApp) {
    app.stock_setup().await;
    let mut cement = sand("CEM-25");
    cement["unit"] = json!("kg");
    cement["cost"] = json!("0.20");
    cement["price"] = json!("0.32");
    app.create_product(&cement).await;
    let mut nocost = sand("PEG-1");
    nocost["unit"] = json!("pc");
    nocost.as_object_mut().unwrap().remove("cost");
    nocost.as_object_mut().unwrap().remove("density_kg_m3");
    app.create_product(&nocost).await;

    let today = jiff::Timestamp::now().to_zoned(TimeZone::UTC).date();
    let at = |days_ago: i64, time: &str| {
        let day = today.checked_sub(jiff::Span::new().days(days_ago)).unwrap();
        format!("{day}T{time}Z")
    };
    let csv = format!(
        "movement,at,kind,location,sku,quantity\n\
         1,{},receive,YARD,SAND-04,10\n\
         2,{},ship,YARD,SAND-04,3\n\
         3,{},receive,YARD,CEM-25,100\n",
        at(2, "09:00:00"),
        at(1, "10:00:00"),
        at(1, "23:59:59"),
    );
    let imported = app
        .upload("/api/v1/imports/movements", Who::Staff, &csv)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["movements"], 3, "{}", imported.text);

    app.book(&movement("ship", "YARD", "SAND-04", "2")).await;
    app.book(&movement("receive", "YARD", "PEG-1", "4")).await;
    app.book(&json!({"kind": "transfer", "from": "YARD", "to": "WH1",
        "lines": [{"sku": "SAND-04", "quantity": "1"}]}))
        .await;
    // A shipment booked by mistake and reversed: it counts as two movements
    // but ships nothing.
    let mistake = app.book(&movement("ship", "YARD", "SAND-04", "1")).await;
    let id = mistake.body["id"].as_u64().unwrap();
    let reversed = app
        .post(
            &format!("/api/v1/movements/{id}/reverse"),
            Who::Staff,
            &json!(null),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::CREATED);
}

fn days(report: &Value) -> Vec<Value> {
    report["days"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_stock_value_per_day_walks_back_from_today_at_todays_costs() {
    let app = TestApp::spawn().await;
    history(&app).await;
    let report = app
        .get("/api/v1/reports/stock-value?days=4", Who::Viewer)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.body["currency"], "EUR");
    let values: Vec<String> = days(&report.body)
        .iter()
        .map(|d| d["value"].as_str().unwrap().to_owned())
        .collect();
    // 3 days ago: nothing. 2 days ago: 10 t × 21.40. Yesterday: 7 t × 21.40 +
    // 100 kg × 0.20. Today: 5 t × 21.40 + 20.00 (the pegs have no cost).
    assert_eq!(values, ["0.00", "214.00", "169.80", "127.00"]);
    let today = jiff::Timestamp::now().to_zoned(TimeZone::UTC).date();
    assert_eq!(days(&report.body)[3]["day"], today.to_string());
    assert_eq!(report.body["products_without_cost"], 1);
    // Today's figure is the dashboard's.
    let now = app.get("/api/v1/stock/value", Who::Viewer).await;
    assert_eq!(now.body["value"], "127.00");
    // The default period is 90 days.
    let default = app.get("/api/v1/reports/stock-value", Who::Viewer).await;
    assert_eq!(days(&default.body).len(), 90);
}

#[tokio::test]
async fn movements_are_counted_per_day_and_kind_with_empty_days() {
    let app = TestApp::spawn().await;
    history(&app).await;
    let report = app
        .get("/api/v1/reports/movements?days=3", Who::Viewer)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let counts: Vec<[u64; 6]> = days(&report.body)
        .iter()
        .map(|d| {
            [
                "receive", "ship", "transfer", "adjust", "reserve", "release",
            ]
            .map(|k| d[k].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        counts,
        [
            [1, 0, 0, 0, 0, 0],
            [1, 1, 0, 0, 0, 0],
            // Today: the pegs and the reversal in; two shipments; a transfer.
            [2, 2, 1, 0, 0, 0],
        ]
    );
    let week = app
        .get("/api/v1/reports/movements?days=7", Who::Viewer)
        .await;
    assert_eq!(days(&week.body).len(), 7);
    assert_eq!(days(&week.body)[0]["receive"], 0);
}

#[tokio::test]
async fn top_products_are_ranked_by_quantity_shipped_less_reversals() {
    let app = TestApp::spawn().await;
    history(&app).await;
    let report = app
        .get("/api/v1/reports/top-products?days=3", Who::Viewer)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(
        report.body["items"],
        json!([{"sku": "SAND-04", "name": "Washed sand 0-4 mm", "unit": "t",
            "shipped": "5", "shipments": 2}])
    );
    let today = app
        .get("/api/v1/reports/top-products?days=1", Who::Viewer)
        .await;
    assert_eq!(today.body["items"][0]["shipped"], "2");
    assert_eq!(today.body["items"][0]["shipments"], 1);
}

#[tokio::test]
async fn quotes_are_counted_by_outcome_with_their_totals() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let mut numbers = Vec::new();
    for quantity in ["1", "2", "3"] {
        let quote = app
            .post(
                "/api/v1/quotes",
                Who::Staff,
                &json!({"lines": [{"sku": "SAND-04", "quantity": quantity}],
                    "contact": {"name": "Sam", "email": "sam@example.com"}}),
            )
            .await;
        assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
        numbers.push(quote.body["number"].as_str().unwrap().to_owned());
    }
    for (number, action) in [(&numbers[0], "accept"), (&numbers[1], "cancel")] {
        let done = app
            .post(
                &format!("/api/v1/quotes/{number}/{action}"),
                Who::Staff,
                &json!(null),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    }
    let report = app.get("/api/v1/reports/quotes?days=30", Who::Viewer).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    // 38.00 a tonne plus 20 % tax: 45.60, 91.20 and 136.80.
    assert_eq!(
        report.body["statuses"],
        json!([
            {"status": "open", "count": 1, "gross": "136.80"},
            {"status": "accepted", "count": 1, "gross": "45.60"},
            {"status": "fulfilled", "count": 0, "gross": "0.00"},
            {"status": "expired", "count": 0, "gross": "0.00"},
            {"status": "cancelled", "count": 1, "gross": "91.20"},
        ])
    );
    assert_eq!(report.body["won"], 1);
    assert_eq!(report.body["lost"], 1);
}

#[tokio::test]
async fn a_period_out_of_bounds_is_refused_by_name() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/reports/stock-value?days=0",
        "/api/v1/reports/movements?days=367",
        "/api/v1/reports/quotes?days=-1",
        "/api/v1/reports/top-products?limit=0",
        "/api/v1/reports/top-products?days=abc",
    ] {
        let refused = app.get(path, Who::Viewer).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
    }
    let refused = app
        .get("/api/v1/reports/movements?days=367", Who::Viewer)
        .await;
    assert_eq!(refused.error().1.as_deref(), Some("days"));
}
