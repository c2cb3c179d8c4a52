//! Live events over SSE: sent after commit, resumable without gaps or repeats,
//! and filtered for anonymous callers.

use std::time::Duration;

use quarry::app::Principal;
use quarry::app::events::BATCH_BYTES;
use quarry::domain::accounts::{Actor, Role};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, Who, movement};
use crate::metrics::{scrape, value};

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

/// `quarry_sse_clients`, once it reads `expected` (or after 5 s).
async fn sse_clients_become(app: &TestApp, expected: f64) -> f64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let clients = value(&scrape(app).await, "quarry_sse_clients");
        if (clients - expected).abs() < f64::EPSILON || tokio::time::Instant::now() > deadline {
            return clients;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_address_holds_at_most_its_share_of_streams_and_gets_its_slots_back_when_they_close() {
    // Issue "Hardening", item 9: one address held 1,000 streams.
    let app = TestApp::spawn_with(|c| {
        c.limits.event_streams_per_client = 3;
        c.limits.event_streams = 100;
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(app.events(Who::Anonymous, Some(0)).await);
    }
    let (status, headers) = app
        .send_head(Method::GET, "/api/v1/events?since=0", Who::Anonymous)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    let refused = app.get("/api/v1/events?since=0", Who::Anonymous).await;
    assert_eq!(refused.error().0, "rate_limited");
    // A signed-in caller counts on their own, not against the address.
    let staff = app.events(Who::Viewer, None).await;
    assert!((sse_clients_become(&app, 4.0).await - 4.0).abs() < f64::EPSILON);

    drop(open);
    drop(staff);
    assert!(
        sse_clients_become(&app, 0.0).await < f64::EPSILON,
        "closed streams must be dropped by the server"
    );
    // The slots are given back: the same address may follow again, three times.
    let mut again = Vec::new();
    for _ in 0..3 {
        again.push(app.events(Who::Anonymous, Some(0)).await);
    }
}

#[tokio::test]
async fn the_server_refuses_streams_past_its_total_with_503() {
    let app = TestApp::spawn_with(|c| {
        c.limits.event_streams_per_client = 2;
        c.limits.event_streams = 3;
    })
    .await;
    let _a = app.events(Who::Anonymous, None).await;
    let _b = app.events(Who::Anonymous, None).await;
    let _c = app.events(Who::Viewer, None).await;
    for who in [Who::Staff, Who::Anonymous] {
        let (status, headers) = app.send_head(Method::GET, "/api/v1/events", who).await;
        let expected = if who == Who::Anonymous {
            // The address is at its own limit first.
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        assert_eq!(status, expected, "{who:?}");
        assert!(headers.contains_key("retry-after"), "{headers:?}");
    }
    let busy = app.get("/api/v1/events", Who::Staff).await;
    assert_eq!(busy.error().0, "busy");
}

#[tokio::test]
async fn a_stream_holds_a_bounded_number_of_bytes_and_still_sends_every_event() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    // Ten movements of 500 lines: over 20 KB of JSON each.
    let lines: Vec<_> = (0..500)
        .map(|_| json!({"sku": "SAND-04", "quantity": "1", "unit": "t"}))
        .collect();
    let mut movements = Vec::new();
    for _ in 0..10 {
        let booked = app
            .book(&json!({"kind": "receive", "location": "YARD", "lines": lines}))
            .await;
        movements.push(booked.body["seq"].as_u64().unwrap());
    }
    let viewer = Principal::new(Role::Viewer, Actor::cli());
    let quarry = app.server.as_ref().unwrap().app();
    let (batch, last) = quarry.events_after(Some(&viewer), 0).await.unwrap();
    let bytes: usize = batch.iter().map(|e| e.data.len()).sum();
    let largest = batch.iter().map(|e| e.data.len()).max().unwrap();
    assert!(largest > 20_000, "the movements are large: {largest}");
    assert!(
        bytes < BATCH_BYTES + largest,
        "a batch holds about {BATCH_BYTES} bytes, not {bytes}"
    );
    assert!(
        last < *movements.last().unwrap(),
        "the rest waits for the next batch"
    );

    // A stream from the start still gets every movement, in order.
    let mut stream = app.events(Who::Viewer, Some(0)).await;
    let events = stream.take(1000, Duration::from_millis(1500)).await;
    let booked: Vec<u64> = events
        .iter()
        .filter(|e| e.event == "movement.booked")
        .map(|e| e.id)
        .collect();
    assert_eq!(booked, movements);
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "no repeats: {ids:?}");
}
