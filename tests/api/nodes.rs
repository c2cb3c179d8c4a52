//! Several Quarry nodes on one store. With PostgreSQL (`TEST_STORE=postgres`):
//! two servers on one database take writes at once without losing, doubling
//! or overdrawing anything, and each sees the other's movements within a
//! second. With the embedded file, a store has one server: a second one on the
//! same data dir is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, Who, movement, on_postgres};

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

    // A movement booked through A reaches B's live events and B's search.
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

    let (a, b) = (Arc::new(a), Arc::new(b));
    let (booked, received, shipped) = book_from_both(&a, &b).await;
    // Levels on both nodes: the first receipt, plus receipts, minus shipments.
    let expected = 100 + 2 * i64::from(received) - 3 * i64::from(shipped);
    for node in [&a, &b] {
        let yard: f64 = node.level("SAND-04", "YARD").await.0.parse().unwrap();
        let wh1: f64 = node.level("SAND-04", "WH1").await.0.parse().unwrap();
        assert!(yard >= 0.0 && wh1 >= 0.0, "below zero: {yard} {wh1}");
        #[expect(clippy::cast_precision_loss, reason = "small whole numbers")]
        let expected = expected as f64;
        assert!(
            (yard + wh1 - expected).abs() < 1e-9,
            "{yard} + {wh1} != {expected}"
        );
    }
    let history = a
        .get("/api/v1/movements?sku=SAND-04&limit=500", Who::Staff)
        .await;
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        usize::try_from(booked).unwrap(),
        "every acknowledged movement exactly once"
    );
    let (mut a, mut b) = (
        Arc::try_unwrap(a).ok().unwrap(),
        Arc::try_unwrap(b).ok().unwrap(),
    );
    b.stop().await;
    a.stop().await;
    let report = a.check();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.movements, u64::from(booked));
}

/// 2 nodes × 16 writers on one product: receipts, shipments that may find
/// too little, transfers. Returns how many movements were acknowledged, and
/// of them receipts and shipments, counting the first receipt.
async fn book_from_both(a: &Arc<TestApp>, b: &Arc<TestApp>) -> (u32, u32, u32) {
    let mut writers = Vec::new();
    for writer in 0..32 {
        let node = Arc::clone(if writer % 2 == 0 { a } else { b });
        writers.push(tokio::spawn(async move {
            let (mut booked, mut received, mut shipped) = (0u32, 0u32, 0u32);
            for round in 0..12 {
                let (body, kind) = match (writer + round) % 3 {
                    0 => (movement("receive", "YARD", "SAND-04", "2"), "receive"),
                    1 => (movement("ship", "YARD", "SAND-04", "3"), "ship"),
                    _ => (
                        json!({"kind": "transfer", "from": "YARD", "to": "WH1",
                               "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
                        "transfer",
                    ),
                };
                let resp = node.post("/api/v1/movements", Who::Staff, &body).await;
                match resp.status {
                    StatusCode::CREATED => {
                        booked += 1;
                        match kind {
                            "receive" => received += 1,
                            "ship" => shipped += 1,
                            _ => {}
                        }
                    }
                    StatusCode::CONFLICT => {
                        assert_eq!(resp.error().0, "insufficient_stock", "{}", resp.text);
                    }
                    other => panic!("{kind} answered {other}: {}", resp.text),
                }
            }
            (booked, received, shipped)
        }));
    }
    // The first receipt, booked above.
    let (mut booked, mut received, mut shipped) = (1, 0, 0);
    for writer in writers {
        let (b, r, s) = writer.await.unwrap();
        booked += b;
        received += r;
        shipped += s;
    }
    (booked, received, shipped)
}
