//! Webhooks: what delivering costs bookings, and how fast messages go out.
//!
//! The real server on a real port (a real redb file, durable commits), 16
//! clients booking one-line receipts over HTTP for `--secs` seconds (default
//! 10) with no endpoint, then with 5 endpoints subscribed to every event
//! (`*`: 3 messages per booking each, 15 in all; `-- --events movement.booked`:
//! one each), then with them paused again;
//! then how many messages go out with bookings stopped, to fast receivers on
//! loopback ports (they answer 200 at once). `-- --cap N` sets
//! `webhooks.max_messages_per_sec` (0: no limit).
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
const ROUNDS: u32 = 3;

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
    // What the 5 endpoints ask for: `*` (3 messages per booking each) or,
    // with `--events movement.booked`, one.
    let events: String = args
        .iter()
        .position(|a| a == "--events")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "*".to_owned());
    // `webhooks.max_messages_per_sec` (default: the setting's default; 0: none).
    let cap: Option<u32> = args
        .iter()
        .position(|a| a == "--cap")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.webhooks.allow_http = true;
    config.webhooks.allow_private = true;
    if let Some(cap) = cap {
        config.webhooks.max_messages_per_sec = cap;
    }
    let cap = config.webhooks.max_messages_per_sec;
    let server = quarry::http::start(config).await.unwrap();
    let app = server.app().clone();
    let owner = Principal::new(Role::Owner, Actor::cli());
    let input: TokenInput =
        serde_json::from_value(json!({"name": "bench", "role": "owner"})).unwrap();
    let token = app.create_token(&owner, input).await.unwrap().secret;
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        // The server closes connections idle for 10 s (its request-head
        // deadline); the client lets them go before.
        .pool_idle_timeout(Duration::from_secs(5))
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

    let mut receivers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..ENDPOINTS {
        let (url, count) = receiver().await;
        let made: Value = post(
            "/api/v1/webhooks",
            json!({"url": url, "events": [events], "enabled": false}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        ids.push(made["webhook"]["id"].as_u64().unwrap());
        receivers.push(count);
    }
    let sent = || -> u64 { receivers.iter().map(|c| c.load(Ordering::Relaxed)).sum() };
    let switch = |enabled: bool| {
        let (client, base, token, ids) = (client.clone(), base.clone(), token.clone(), ids.clone());
        async move {
            for id in ids {
                let r = client
                    .patch(format!("{base}/api/v1/webhooks/{id}"))
                    .bearer_auth(&token)
                    .json(&json!({"enabled": enabled}))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            }
        }
    };
    // Alternating phases, so that drift (the file growing, the machine's other
    // work) falls on both alike. With the endpoints on, they always have a
    // backlog to send: the most they can cost.
    println!(
        "webhooks: {CLIENTS} clients booking over HTTP, {ROUNDS} rounds of {secs} s per phase, \
         {ENDPOINTS} endpoints asking for {events}, webhooks.max_messages_per_sec = {cap}"
    );
    let (mut none, mut with, mut during) = (0.0, 0.0, 0);
    for round in 1..=ROUNDS {
        switch(false).await;
        let off = book_for(&client, &base, &token, secs).await;
        switch(true).await;
        let before = sent();
        let on = book_for(&client, &base, &token, secs).await;
        let messages = sent() - before;
        println!(
            "  round {round}: bookings/s {off:>6.0} without, {on:>6.0} with endpoints ({:+.1} %), \
             {:.0} messages/s",
            (on / off - 1.0) * 100.0,
            messages as f64 / secs as f64
        );
        none += off;
        with += on;
        during += messages;
    }
    println!(
        "  mean: {:.0} bookings/s without, {:.0} with ({:+.1} %), {:.0} messages/s sent meanwhile",
        none / f64::from(ROUNDS),
        with / f64::from(ROUNDS),
        (with / none - 1.0) * 100.0,
        during as f64 / (secs * u64::from(ROUNDS)) as f64
    );
    // Delivery with nothing else running, over one phase.
    let before = sent();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    println!(
        "  bookings stopped: {:.0} messages/s over {ENDPOINTS} endpoints",
        (sent() - before) as f64 / secs as f64
    );
    server.shutdown().await.unwrap();
}
