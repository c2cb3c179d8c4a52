//! Live events over SSE: sent after commit, resumable without gaps or repeats,
//! and filtered for anonymous callers.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, Who, movement};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_booking_is_streamed_as_a_movement_and_its_level_changes() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let mut staff = app.events(Who::Viewer, None).await;
    let mut public = app.events(Who::Anonymous, None).await;
    let booked = app
        .book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;

    let events = staff.take(2, WAIT).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].event, "movement.booked");
    assert_eq!(events[0].id, booked.body["seq"].as_u64().unwrap());
    assert_eq!(events[0].data, booked.body);
    assert_eq!(events[1].event, "level.changed");
    assert_eq!(events[1].id, events[0].id + 1);
    assert_eq!(
        events[1].data,
        json!({"sku": "SAND-04", "location": "YARD", "on_hand": "10", "reserved": "0", "available": "10", "low": false,
               "product_available": "10", "product_availability": "in_stock"})
    );

    let events = public.take(1, WAIT).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "availability.changed");
    assert_eq!(
        events[0].data,
        json!({"sku": "SAND-04", "availability": "in_stock"})
    );

    // Catalogue changes reach signed-in callers only.
    app.patch(
        "/api/v1/products/SAND-04",
        Who::Staff,
        &json!({"price": "40"}),
    )
    .await;
    let events = staff.take(1, WAIT).await;
    assert_eq!(events[0].event, "product.updated");
    assert_eq!(events[0].data["sku"], "SAND-04");
    assert_eq!(events[0].data["version"], 2);
    assert!(public.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn a_refused_movement_sends_nothing() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let mut staff = app.events(Who::Viewer, None).await;
    let refused = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &movement("ship", "YARD", "SAND-04", "1"),
        )
        .await;
    assert_eq!(refused.status, reqwest::StatusCode::CONFLICT);
    assert!(staff.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn resuming_with_last_event_id_after_missing_500_events_yields_exactly_those_500() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let first = app.book(&movement("receive", "YARD", "SAND-04", "1")).await;
    // The level change after the first booking is the last event seen.
    let seen = first.body["seq"].as_u64().unwrap() + 1;
    // 250 bookings of one line: a movement and a level event each, 500 events.
    let mut expected = Vec::new();
    for _ in 0..250 {
        let booked = app.book(&movement("receive", "YARD", "SAND-04", "1")).await;
        let seq = booked.body["seq"].as_u64().unwrap();
        expected.extend([seq, seq + 1]);
    }
    let mut resumed = app.events(Who::Viewer, Some(seen)).await;
    let events = resumed.take(501, Duration::from_millis(1500)).await;
    assert_eq!(events.len(), 500);
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, expected, "no gaps, no repeats");
    assert_eq!(events.last().unwrap().data["on_hand"], "251");

    // And it goes on live.
    let shipped = app.book(&movement("ship", "YARD", "SAND-04", "1")).await;
    let live = resumed.take(2, WAIT).await;
    assert_eq!(live[0].id, shipped.body["seq"].as_u64().unwrap());
    assert_eq!(live[1].data["on_hand"], "250");

    // `?since=` does the same as the header.
    let resp = app
        .client
        .get(format!("{}/api/v1/events?since={}", app.base, seen + 499))
        .bearer_auth(&app.tokens.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn a_malformed_last_event_id_is_refused() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(format!("{}/api/v1/events", app.base))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_server_shuts_down_with_streams_open() {
    let mut app = TestApp::spawn().await;
    let _stream = app.events(Who::Viewer, None).await;
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("shutdown must not wait for open event streams");
}
