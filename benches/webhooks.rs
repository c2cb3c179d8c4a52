//! Webhooks: what delivering costs bookings, and how fast messages go out.
//!
//! The real server on a real port (a real redb file, durable commits), 16
//! clients booking one-line receipts over HTTP for `--secs` seconds (default
//! 10) with no endpoint, then with 5 endpoints subscribed to every event
//! (`*`: 3 messages per booking each, 15 in all), then with them paused again;
//! then the time the 5 endpoints take to catch up with everything booked, to
//! fast receivers on loopback ports (they answer 200 at once).
//!
//! Run with `cargo bench --bench webhooks` (`-- --secs N`).

// Counts far below 2^52 are exact in f64; one main reads as the phases run.
#![allow(clippy::cast_precision_loss, clippy::too_many_lines)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quarry::app::Principal;
use quarry::app::accounts::TokenInput;
use quarry::config::Config;
use quarry::domain::accounts::{Actor, Role};
use serde_json::{Value, json};

const CLIENTS: usize = 16;
const PRODUCTS: usize = 100;
const ENDPOINTS: usize = 5;

/// A receiver that answers 200 at once and counts what it got.
async fn receiver() -> (String, Arc<AtomicU64>) {
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_body: axum::body::Bytes| {
            counted.fetch_add(1, Ordering::Relaxed);
            async { "ok" }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, count)
}

/// Books receipts from `CLIENTS` clients for `secs`; bookings per second.
async fn book_for(client: &reqwest::Client, base: &str, token: &str, secs: u64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let booked = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (client, base, token) = (client.clone(), base.to_owned(), token.to_owned());
            let (stop, booked) = (stop.clone(), booked.clone());
            tokio::spawn(async move {
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    i = (i * 31 + 7) % PRODUCTS;
                    let body = json!({"kind": "receive", "location": "YARD",
                        "lines": [{"sku": format!("BENCH-{i}"), "quantity": "1"}]});
                    let r = client
                        .post(format!("{base}/api/v1/movements"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .expect("a booking");
                    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
                    booked.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    booked.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.webhooks.allow_http = true;
    config.webhooks.allow_private = true;
    let server = quarry::http::start(config).await.unwrap();
    let app = server.app().clone();
    let owner = Principal::new(Role::Owner, Actor::cli());
    let input: TokenInput =
        serde_json::from_value(json!({"name": "bench", "role": "owner"})).unwrap();
    let token = app.create_token(&owner, input).await.unwrap().secret;
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    post("/api/v1/locations", json!({"code": "YARD", "name": "Yard"}))
        .await
        .unwrap();
    for i in 0..PRODUCTS {
        let r = post(
            "/api/v1/products",
            json!({"sku": format!("BENCH-{i}"),
            "name": format!("Bench product {i}"), "category": "Bench", "unit": "t", "price": "10"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
    }
    // Warm up.
    book_for(&client, &base, &token, 2).await;

    let none = book_for(&client, &base, &token, secs).await;
    let mut receivers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..ENDPOINTS {
        let (url, count) = receiver().await;
        let made: Value = post("/api/v1/webhooks", json!({"url": url, "events": ["*"]}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(made["webhook"]["id"].as_u64().unwrap());
        receivers.push(count);
    }
    let with = book_for(&client, &base, &token, secs).await;
    let booked_until = app.committed().borrow().to_owned();
    let caught_up_at = Instant::now();
    let sent_before: u64 = receivers.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    // Catching up: every endpoint's cursor at the head.
    loop {
        let hooks: Value = client
            .get(format!("{base}/api/v1/webhooks"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let behind = hooks["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["delivery"]["cursor"].as_u64().unwrap() >= booked_until);
        if behind {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain = caught_up_at.elapsed().as_secs_f64();
    let sent: u64 = receivers.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    for id in &ids {
        client
            .patch(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
    }
    let paused = book_for(&client, &base, &token, secs).await;

    // Delivery alone: replay everything to one endpoint with nothing else running.
    let (url, count) = receiver().await;
    let made: Value = post(
        "/api/v1/webhooks",
        json!({"url": url, "events": ["movement.booked"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = made["webhook"]["id"].as_u64().unwrap();
    let started = Instant::now();
    post(
        &format!("/api/v1/webhooks/{id}/replay"),
        json!({"from_seq": 1}),
    )
    .await
    .unwrap();
    let head = app.committed().borrow().to_owned();
    loop {
        let hook: Value = client
            .get(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if hook["delivery"]["cursor"].as_u64().unwrap() >= head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let alone = started.elapsed().as_secs_f64();
    let alone_sent = count.load(Ordering::Relaxed);

    println!("webhooks: {CLIENTS} clients booking over HTTP, {secs} s per phase");
    println!("  bookings/s, no endpoint:              {none:>8.0}");
    println!(
        "  bookings/s, {ENDPOINTS} endpoints (*):          {with:>8.0}  ({:+.1} %)",
        (with / none - 1.0) * 100.0
    );
    println!(
        "  bookings/s, endpoints paused:          {paused:>8.0}  ({:+.1} %)",
        (paused / none - 1.0) * 100.0
    );
    println!(
        "  messages sent while booking:           {sent_before:>8}  ({:.0}/s)",
        sent_before as f64 / secs as f64
    );
    println!(
        "  then caught up in {drain:.1} s: {} more messages ({:.0}/s over 5 endpoints)",
        sent - sent_before,
        (sent - sent_before) as f64 / drain.max(0.001)
    );
    println!(
        "  replay to one endpoint alone: {alone_sent} movement.booked messages in {alone:.1} s ({:.0}/s)",
        alone_sent as f64 / alone
    );
    server.shutdown().await.unwrap();
}
