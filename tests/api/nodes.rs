//! Several Quarry nodes on one store. With PostgreSQL (`TEST_STORE=postgres`):
//! two servers on one database take writes at once without losing, doubling
//! or overdrawing anything, share browser sessions, and each sees the other's
//! movements within a second. With the embedded file, a store has one server:
//! a second one on the same data dir is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, Who, movement, on_postgres, session_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_one_store_and_see_each_others_movements_within_a_second() {
    let a = TestApp::spawn().await;
    if !on_postgres() {
        let second = quarry::http::start(a.config.clone()).await;
        let error = second
            .err()
            .expect("a second server on one data file is refused");
        assert!(format!("{error:#}").contains("in use"), "{error:#}");
        return;
    }
    let b = a.second_node().await;
    a.stock_setup().await;
    let session = signed_in_on_both(&a, &b).await;
    visible_on_the_other_within_a_second(&a, &b).await;

    let (a, b) = (Arc::new(a), Arc::new(b));
    let booked = book_from_both(&a, &b).await;
    for node in [&a, &b] {
        levels_agree(node, &booked).await;
    }
    let history = a
        .get("/api/v1/movements?sku=SAND-04&limit=500", Who::Staff)
        .await;
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        usize::try_from(booked.all).unwrap(),
        "every acknowledged movement exactly once"
    );
    signed_out_on_both(&b, &a, &session).await;
    let (mut a, mut b) = (
        Arc::try_unwrap(a).ok().unwrap(),
        Arc::try_unwrap(b).ok().unwrap(),
    );
    b.stop().await;
    a.stop().await;
    let report = a.check();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.movements, u64::from(booked.all));
}

/// A browser signed in through `a` is signed in on `b`: its cookie and CSRF
/// token.
async fn signed_in_on_both(a: &TestApp, b: &TestApp) -> (String, String) {
    let signed_in = a.login("alice", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    let cookie = session_cookie(&signed_in).expect("a session cookie");
    assert_eq!(me(b, &cookie).await, StatusCode::OK);
    let csrf = signed_in.body["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

/// Signed out through `b`: the session ends on `a` too.
async fn signed_out_on_both(b: &TestApp, a: &TestApp, (cookie, csrf): &(String, String)) {
    let out = b
        .client
        .post(format!("{}/api/v1/auth/logout", b.base))
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .header("origin", &b.base)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    assert_eq!(me(a, cookie).await, StatusCode::UNAUTHORIZED);
}

async fn me(node: &TestApp, cookie: &str) -> StatusCode {
    node.client
        .get(format!("{}/api/v1/auth/me", node.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// A movement booked through `a` reaches `b`'s live events and `b`'s search.
async fn visible_on_the_other_within_a_second(a: &TestApp, b: &TestApp) {
    let mut events = b.events(Who::Staff, None).await;
    let before = b.search("q=washed%20sand", Who::Anonymous).await;
    assert_ne!(before.body["hits"][0]["availability"]["status"], "in_stock");
    let booked_at = Instant::now();
    a.book(&movement("receive", "YARD", "SAND-04", "100")).await;
    let event = loop {
        let event = events
            .next(Duration::from_secs(1))
            .await
            .expect("B streams A's movement within a second");
        if event.event == "movement.booked" {
            break event;
        }
    };
    assert!(booked_at.elapsed() < Duration::from_secs(1));
    assert_eq!(event.data["kind"], "receive", "{:?}", event.data);
    loop {
        let hits = b.search("q=washed%20sand", Who::Anonymous).await;
        if hits.body["hits"][0]["availability"]["status"] == "in_stock" {
            break;
        }
        assert!(
            booked_at.elapsed() < Duration::from_secs(1),
            "B's search shows the stock within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the writers had acknowledged, the first receipt of 100 included.
#[derive(Debug, Default)]
struct Booked {
    all: u32,
    received: u32,
    shipped: u32,
    reserved: u32,
}

/// 2 nodes × 32 writers on one product: receipts, shipments and reservations
/// that may find too little, and transfers to WH1.
async fn book_from_both(a: &Arc<TestApp>, b: &Arc<TestApp>) -> Booked {
    let mut writers = Vec::new();
    for writer in 0..64 {
        let node = Arc::clone(if writer % 2 == 0 { a } else { b });
        writers.push(tokio::spawn(async move {
            let mut booked = Booked::default();
            for round in 0..8 {
                let (body, kind) = match (writer + round) % 4 {
                    0 => (movement("receive", "YARD", "SAND-04", "2"), "receive"),
                    1 => (movement("ship", "YARD", "SAND-04", "3"), "ship"),
                    2 => (movement("reserve", "YARD", "SAND-04", "1"), "reserve"),
                    _ => (
                        json!({"kind": "transfer", "from": "YARD", "to": "WH1",
                               "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
                        "transfer",
                    ),
                };
                let resp = node.post("/api/v1/movements", Who::Staff, &body).await;
                match resp.status {
                    StatusCode::CREATED => {
                        booked.all += 1;
                        match kind {
                            "receive" => booked.received += 1,
                            "ship" => booked.shipped += 1,
                            "reserve" => booked.reserved += 1,
                            _ => {}
                        }
                    }
                    StatusCode::CONFLICT => {
                        assert_eq!(resp.error().0, "insufficient_stock", "{}", resp.text);
                    }
                    other => panic!("{kind} answered {other}: {}", resp.text),
                }
            }
            booked
        }));
    }
    let mut total = Booked {
        all: 1,
        ..Booked::default()
    };
    for writer in writers {
        let one = writer.await.unwrap();
        total.all += one.all;
        total.received += one.received;
        total.shipped += one.shipped;
        total.reserved += one.reserved;
    }
    total
}

/// On `node`: the levels are the first receipt plus receipts minus
/// shipments, every reservation is held at YARD, nothing is below what the
/// rules allow, and the node's search shows what the store holds.
async fn levels_agree(node: &TestApp, booked: &Booked) {
    let expected = 100.0 + 2.0 * f64::from(booked.received) - 3.0 * f64::from(booked.shipped);
    let (yard, held, available) = node.level("SAND-04", "YARD").await;
    let [yard, held, available] = [yard, held, available].map(|v| v.parse::<f64>().unwrap());
    let wh1: f64 = node.level("SAND-04", "WH1").await.0.parse().unwrap();
    assert!(
        wh1 >= 0.0 && available >= 0.0,
        "below zero: {yard} {held} {wh1}"
    );
    assert!(
        (yard + wh1 - expected).abs() < 1e-9,
        "{yard} + {wh1} != {expected}"
    );
    assert!(
        (held - f64::from(booked.reserved)).abs() < 1e-9,
        "reserved {held}, booked {}",
        booked.reserved
    );
    let total = (available + wh1).to_string();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let hits = node.search("q=washed%20sand", Who::Staff).await;
        if hits.body["hits"][0]["availability"]["available"] == total.as_str() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} shows {} for {total}",
            node.base,
            hits.body["hits"][0]["availability"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
