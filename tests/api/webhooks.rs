//! Outbound webhooks against a real receiver the tests start on a loopback
//! port (allowed by the test configuration): signatures, order,
//! de-duplication, a receiver that fails then recovers, one that hangs,
//! replay, trust, `stock.low`, the address checks, and a server killed
//! mid-delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::crash::{Server, free_port};
use crate::helpers::{TestApp, Who, movement, sand};
use quarry::config::Config;
use quarry::domain::webhooks;

/// One message as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub raw: Vec<u8>,
    pub body: Value,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn verify(&self, secret: &str) -> Result<(), webhooks::Unverified> {
        webhooks::verify(
            secret,
            &self.id,
            self.timestamp,
            &self.signature,
            &self.raw,
            jiff::Timestamp::now().as_second(),
        )
    }
}

/// A receiver on a loopback port that records what it gets and answers
/// with the status it is told (200 at first); it can hang instead.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    hang: Arc<AtomicBool>,
    /// Answer 302 to a private address instead.
    redirect: Arc<AtomicBool>,
    /// Each answer waits this long first (milliseconds).
    delay_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Self {
            url,
            got: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            hang: Arc::default(),
            redirect: Arc::default(),
            delay_ms: Arc::default(),
        };
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move { state.take(&headers, &body).await }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    async fn take(&self, headers: &HeaderMap, body: &[u8]) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let delay = self.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if self.hang.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let status = self.status.load(Ordering::Relaxed);
        self.got.lock().await.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
            signature: header("webhook-signature"),
            raw: body.to_vec(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            answered: status,
        });
        if self.redirect.load(Ordering::Relaxed) {
            return (
                AxumStatus::FOUND,
                [("location", "http://169.254.169.254/latest/meta-data/")],
            )
                .into_response();
        }
        (AxumStatus::from_u16(status).unwrap(), "thanks").into_response()
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::Relaxed);
    }

    pub async fn all(&self) -> Vec<Received> {
        self.got.lock().await.clone()
    }

    /// The messages it accepted (answered 2xx), in the order they came.
    pub async fn accepted(&self) -> Vec<Received> {
        self.all()
            .await
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Waits (up to 30 s) until it has accepted messages that `done` likes.
    pub async fn until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.accepted().await;
            if done(&got) {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver did not get {what} in 30 s; it got: {:#?}",
                got.iter()
                    .map(|r| (&r.id, &r.body["type"]))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Webhooks to loopback receivers over plain HTTP, retried quickly.
fn lan(config: &mut Config) {
    config.webhooks.allow_http = true;
    config.webhooks.allow_private = true;
    config.webhooks.retry_first_ms = 50;
    config.webhooks.retry_max_secs = 1;
    config.webhooks.timeout_secs = 2;
}

/// Adds an endpoint as the owner; its id and secret.
async fn add(app: &TestApp, url: &str, events: Value) -> (u64, String) {
    let resp = app
        .post(
            "/api/v1/webhooks",
            Who::Owner,
            &json!({"url": url, "events": events, "description": "test receiver"}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let secret = resp.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (resp.body["webhook"]["id"].as_u64().unwrap(), secret)
}

/// Sends endpoint `id` a ping as the owner.
async fn send_ping(app: &TestApp, id: u64) -> crate::helpers::Resp {
    app.post(
        &format!("/api/v1/webhooks/{id}/ping"),
        Who::Owner,
        &json!({}),
    )
    .await
}

/// The `seq` of each `movement.booked` among `got`, in the order they came.
fn booked_seqs(got: &[Received]) -> Vec<u64> {
    got.iter()
        .filter(|r| r.body["type"] == "movement.booked")
        .map(|r| r.body["seq"].as_u64().unwrap())
        .collect()
}

/// Books `n` receipts of SAND-04 at YARD; their change-log `seq`s.
async fn receipts(app: &TestApp, n: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    for _ in 0..n {
        let resp = app.book(&movement("receive", "YARD", "SAND-04", "1")).await;
        seqs.push(resp.body["seq"].as_u64().unwrap());
    }
    seqs
}

/// Waits until endpoint `id` has saved delivery up to `seq`: the receiver
/// sees a message before the attempt is written to the log.
async fn saved_up_to(app: &TestApp, id: u64, seq: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let read = app.get(&format!("/api/v1/webhooks/{id}"), Who::Owner).await;
        if read.body["delivery"]["cursor"].as_u64().unwrap_or(0) >= seq {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivery was not saved up to {seq}: {}",
            read.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_owner_adds_an_endpoint_pings_it_and_gets_every_booking_signed_and_in_order() {
    let app = TestApp::spawn_with(lan).await;
    app.stock_setup().await;
    let receiver = Receiver::start().await;
    let (id, secret) = add(&app, &receiver.url, json!(["movement.*"])).await;

    // The secret is shown once.
    let read = app.get(&format!("/api/v1/webhooks/{id}"), Who::Owner).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(
        !read.text.contains(&secret) && !read.text.contains("whsec_"),
        "{}",
        read.text
    );
    assert_eq!(read.body["status"], "active");
    let listed = app.get("/api/v1/webhooks", Who::Owner).await;
    assert!(!listed.text.contains("whsec_"), "{}", listed.text);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // A signed ping.
    let ping = send_ping(&app, id).await;
    assert_eq!(ping.status, StatusCode::OK, "{}", ping.text);
    assert_eq!(ping.body["ok"], true, "{}", ping.text);
    assert_eq!(ping.body["status"], 200);
    assert_eq!(ping.body["response"], "thanks");
    let got = receiver.accepted().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["type"], "webhook.ping");
    got[0].verify(&secret).unwrap();
    assert!(
        got[0]
            .verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .is_err()
    );

    let seqs = receipts(&app, 6).await;
    let got = receiver
        .until("six movements", |got| booked_seqs(got).len() >= 6)
        .await;
    assert_eq!(booked_seqs(&got), seqs, "in the order they were booked");
    for message in got.iter().filter(|r| r.body["type"] == "movement.booked") {
        message.verify(&secret).unwrap();
        // The id is the seq: receivers de-duplicate by it.
        assert_eq!(message.id, message.body["seq"].to_string());
        assert_eq!(message.body["data"]["kind"], "receive");
        assert_eq!(message.body["data"]["lines"][0]["sku"], "SAND-04");
        // Not trusted: who booked it is not told.
        assert!(
            message.body["data"].get("actor").is_none(),
            "{}",
            message.body
        );
    }
    // Nothing it did not ask for (level changes, product events).
    assert!(got.iter().all(|r| {
        let kind = r.body["type"].as_str().unwrap();
        kind == "movement.booked" || kind == "webhook.ping"
    }));

    // The log has every attempt, newest first, and pages.
    saved_up_to(&app, id, seqs[5]).await;
    let log = app
        .get(
            &format!("/api/v1/webhooks/{id}/deliveries?limit=4"),
            Who::Owner,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|d| d["ok"] == true && d["status"] == 200));
    assert_eq!(items[0]["seq"], json!(seqs[5]));
    let cursor = log.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/webhooks/{id}/deliveries?cursor={cursor}"),
            Who::Owner,
        )
        .await;
    assert_eq!(
        rest.body["items"].as_array().unwrap().len(),
        3,
        "{}",
        rest.text
    );
    assert!(rest.body["next_cursor"].is_null());
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_receiver_failing_for_a_while_gets_every_event_in_order_once_it_recovers() {
    let app = TestApp::spawn_with(lan).await;
    app.stock_setup().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (id, secret) = add(&app, &receiver.url, json!(["movement.booked"])).await;
    let seqs = receipts(&app, 5).await;
    // Retried, and shown as retrying.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if receiver.all().await.len() >= 3 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no retries");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let read = app.get(&format!("/api/v1/webhooks/{id}"), Who::Owner).await;
    assert_eq!(read.body["status"], "retrying", "{}", read.text);
    assert!(
        read.body["delivery"]["last_error"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    // Every attempt so far was at the first event: order holds.
    assert!(
        receiver
            .all()
            .await
            .iter()
            .all(|r| r.body["seq"] == json!(seqs[0]))
    );
    receiver.answer(200);
    let got = receiver
        .until("five movements", |got| booked_seqs(got).len() >= 5)
        .await;
    assert_eq!(booked_seqs(&got), seqs);
    for message in &got {
        message.verify(&secret).unwrap();
    }
    saved_up_to(&app, id, seqs[4]).await;
    let log = app
        .get(
            &format!("/api/v1/webhooks/{id}/deliveries?limit=200"),
            Who::Owner,
        )
        .await;
    let items = log.body["items"].as_array().unwrap();
    let failed: Vec<&Value> = items.iter().filter(|d| d["ok"] == false).collect();
    assert!(failed.len() >= 2, "{}", log.text);
    assert!(
        failed
            .iter()
            .all(|d| d["status"] == 500 && d["seq"] == json!(seqs[0]))
    );
    let attempts: Vec<u64> = failed
        .iter()
        .map(|d| d["attempt"].as_u64().unwrap())
        .collect();
    assert!(
        attempts.contains(&1) && attempts.contains(&2),
        "{attempts:?}"
    );
    let read = app.get(&format!("/api/v1/webhooks/{id}"), Who::Owner).await;
    assert_eq!(read.body["status"], "active", "{}", read.text);
}

#[tokio::test]
async fn a_receiver_that_hangs_delays_neither_bookings_nor_other_endpoints() {
    let app = TestApp::spawn_with(|c| {
        lan(c);
        c.webhooks.timeout_secs = 60;
    })
    .await;
    app.stock_setup().await;
    let stuck = Receiver::start().await;
    stuck.hang.store(true, Ordering::Relaxed);
    let fine = Receiver::start().await;
    add(&app, &stuck.url, json!(["*"])).await;
    add(&app, &fine.url, json!(["movement.booked"])).await;
    let seqs = receipts(&app, 10).await;
    let got = fine
        .until("ten movements", |got| booked_seqs(got).len() >= 10)
        .await;
    assert_eq!(booked_seqs(&got), seqs);
    // Every booking was answered, and the stuck receiver has still not
    // answered its first message.
    assert!(stuck.all().await.is_empty());
    assert_eq!(app.level("SAND-04", "YARD").await.0, "10");
}

#[tokio::test]
async fn a_paused_endpoint_gets_nothing_until_resumed_and_replay_sends_again_from_a_seq() {
    let app = TestApp::spawn_with(lan).await;
    app.stock_setup().await;
    let receiver = Receiver::start().await;
    let (id, _) = add(&app, &receiver.url, json!(["movement.booked"])).await;
    let paused = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            Who::Owner,
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    assert_eq!(paused.body["webhook"]["status"], "paused");
    assert!(paused.body.get("secret").is_none());
    let seqs = receipts(&app, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        receiver.all().await.is_empty(),
        "a paused endpoint got messages"
    );
    app.patch(
        &format!("/api/v1/webhooks/{id}"),
        Who::Owner,
        &json!({"enabled": true}),
    )
    .await;
    receiver
        .until("three movements", |got| booked_seqs(got) == seqs)
        .await;

    let replay = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            Who::Owner,
            &json!({"from_seq": seqs[1]}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
    let got = receiver
        .until("the replay", |got| booked_seqs(got).len() >= 5)
        .await;
    assert_eq!(
        booked_seqs(&got),
        [seqs.clone(), seqs[1..].to_vec()].concat(),
        "sent again, in order, with the same ids"
    );
    // From a time: everything booked since.
    let replay = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            Who::Owner,
            &json!({"from": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
    receiver
        .until("the replay from a time", |got| booked_seqs(got).len() >= 8)
        .await;
    for bad in [
        json!({}),
        json!({"from_seq": 0}),
        json!({"from_seq": 1_000_000}),
        json!({"from_seq": 1, "from": "2000-01-01T00:00:00Z"}),
    ] {
        let resp = app
            .post(&format!("/api/v1/webhooks/{id}/replay"), Who::Owner, &bad)
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            resp.text
        );
    }
    // The replays are in the audit log.
    let audit = app.get("/api/v1/audit?kind=webhook", Who::Owner).await;
    let kinds: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"webhook.replayed") && kinds.contains(&"webhook.created"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn only_trusted_endpoints_get_staff_only_fields() {
    let app = TestApp::spawn_with(lan).await;
    let trusted = Receiver::start().await;
    let public = Receiver::start().await;
    let resp = app
        .post(
            "/api/v1/webhooks",
            Who::Owner,
            &json!({"url": trusted.url, "events": ["product.*", "movement.booked"], "trusted": true}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
    add(&app, &public.url, json!(["product.*", "movement.booked"])).await;
    app.stock_setup().await;
    app.book(
        &json!({"kind": "receive", "location": "YARD", "note": "from Pit 3",
        "lines": [{"sku": "SAND-04", "quantity": "2"}]}),
    )
    .await;
    let done = |got: &[Received]| got.len() >= 2;
    let to_trusted = trusted.until("a product and a movement", done).await;
    let to_public = public.until("a product and a movement", done).await;
    let product = |got: &[Received]| {
        got.iter()
            .find(|r| r.body["type"] == "product.created")
            .unwrap()
            .body["data"]
            .clone()
    };
    let booked = |got: &[Received]| {
        got.iter()
            .find(|r| r.body["type"] == "movement.booked")
            .unwrap()
            .body["data"]
            .clone()
    };
    assert_eq!(product(&to_trusted)["cost"], "21.40");
    assert_eq!(
        product(&to_trusted)["notes"],
        "Supplier: Pit 3, call before noon"
    );
    assert_eq!(product(&to_public)["name"], "Washed sand 0-4 mm");
    assert!(
        product(&to_public).get("cost").is_none(),
        "{}",
        product(&to_public)
    );
    assert!(product(&to_public).get("notes").is_none());
    assert_eq!(booked(&to_trusted)["note"], "from Pit 3");
    assert!(booked(&to_trusted)["actor"].is_string());
    assert!(booked(&to_public).get("note").is_none());
    assert!(booked(&to_public).get("actor").is_none());
}

#[tokio::test]
async fn stock_low_is_sent_once_when_a_level_crosses_its_reorder_point() {
    let app = TestApp::spawn_with(lan).await;
    app.stock_setup().await;
    let patched = app
        .patch(
            "/api/v1/products/SAND-04",
            Who::Staff,
            &json!({"reorder_point": "5"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let receiver = Receiver::start().await;
    add(&app, &receiver.url, json!(["stock.low", "movement.booked"])).await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("ship", "YARD", "SAND-04", "3")).await; // 7: not low
    app.book(&movement("ship", "YARD", "SAND-04", "3")).await; // 4: crosses
    app.book(&movement("ship", "YARD", "SAND-04", "1")).await; // 3: still low
    let got = receiver
        .until("four movements", |got| booked_seqs(got).len() >= 4)
        .await;
    let low: Vec<&Received> = got
        .iter()
        .filter(|r| r.body["type"] == "stock.low")
        .collect();
    assert_eq!(low.len(), 1, "{got:#?}");
    let data = &low[0].body["data"];
    assert_eq!(data["sku"], "SAND-04");
    assert_eq!(data["location"], "YARD");
    assert_eq!(data["available"], "4");
    assert_eq!(data["reorder_point"], "5");
    assert_eq!(data["name"], "Washed sand 0-4 mm");
    // Its id is its change's seq and its name, apart from the movement's.
    assert_eq!(low[0].id, format!("{}.stock.low", low[0].body["seq"]));
    let order: Vec<&str> = got
        .iter()
        .map(|r| r.body["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "movement.booked",
            "movement.booked",
            "movement.booked",
            "stock.low",
            "movement.booked"
        ]
    );
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // a table of refusals, then one endpoint's life
async fn endpoints_are_checked_and_limited_and_their_secret_rotates() {
    let app = TestApp::spawn_with(|c| {
        lan(c);
        c.webhooks.max_endpoints = 2;
    })
    .await;
    for (body, field) in [
        (
            json!({"url": "https://x.example.com/", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://x.example.com/", "events": ["user.*"]}),
            "events",
        ),
        (
            json!({"url": "https://x.example.com/", "events": ["movement.bookd"]}),
            "events",
        ),
        (
            json!({"url": "ftp://x.example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://u:p@x.example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://x.example.com/", "events": ["*"], "description": "d".repeat(501)}),
            "description",
        ),
    ] {
        let resp = app.post("/api/v1/webhooks", Who::Owner, &body).await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            resp.text
        );
        assert_eq!(
            resp.error(),
            ("validation_failed".into(), Some(field.into()))
        );
    }
    let unknown = app
        .post(
            "/api/v1/webhooks",
            Who::Owner,
            &json!({"url": "https://x.example.com/", "events": ["*"], "secret": "mine"}),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text
    );

    let receiver = Receiver::start().await;
    let (id, old) = add(&app, &receiver.url, json!(["*"])).await;
    add(&app, "https://x.example.com/", json!(["*"])).await;
    let third = app
        .post(
            "/api/v1/webhooks",
            Who::Owner,
            &json!({"url": "https://y.example.com/", "events": ["*"]}),
        )
        .await;
    assert_eq!(third.status, StatusCode::CONFLICT, "{}", third.text);
    assert_eq!(third.error().0, "too_many_webhooks");

    let rotated = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            Who::Owner,
            &json!({"rotate_secret": true}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["webhook"]["previous_secret_until"].is_string());
    let ping = send_ping(&app, id).await;
    assert_eq!(ping.body["ok"], true, "{}", ping.text);
    // Signed with both during the grace period.
    let got = receiver.accepted().await;
    let last = got.last().unwrap();
    last.verify(&new).unwrap();
    last.verify(&old).unwrap();
    assert_eq!(last.signature.split(' ').count(), 2);

    let gone = app
        .delete(&format!("/api/v1/webhooks/{id}"), Who::Owner)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    for path in [
        format!("/api/v1/webhooks/{id}"),
        format!("/api/v1/webhooks/{id}/deliveries"),
        "/api/v1/webhooks/nope".to_owned(),
    ] {
        assert_eq!(
            app.get(&path, Who::Owner).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Ids are not reused.
    let (next, _) = add(&app, "https://z.example.com/", json!(["*"])).await;
    assert!(next > id + 1, "{next}");
    let events = app.get("/api/v1/webhooks/events", Who::Owner).await;
    assert!(
        events
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "stock.low")
    );
}

/// A name of this machine, not `localhost`, that resolves to one of its own
/// addresses (loopback or private): the machine's host name, from
/// `/etc/hosts`.
fn name_of_this_machine() -> String {
    use std::net::ToSocketAddrs as _;
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("the host name")
        .trim()
        .to_owned();
    let addresses: Vec<_> = (name.as_str(), 80)
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("the host name {name} does not resolve: {e}"))
        .collect();
    assert!(
        addresses
            .iter()
            .all(|a| webhooks::refused_address(a.ip()).is_some()),
        "this test needs the host name to resolve to the machine's own (loopback or private) \
         addresses; {name} resolves to {addresses:?}"
    );
    name
}

#[tokio::test]
async fn addresses_that_reach_the_machine_or_its_network_are_refused() {
    // The defaults: https only, no private addresses.
    let strict = TestApp::spawn().await;
    for url in [
        "http://hooks.example.com/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/",
        "https://192.168.1.20/",
        "https://localhost:8443/",
        "https://2130706433/",
    ] {
        let resp = strict
            .post(
                "/api/v1/webhooks",
                Who::Owner,
                &json!({"url": url, "events": ["*"]}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some("url"));
    }

    // A name that resolves to this machine is refused when the message is sent.
    let app = TestApp::spawn_with(|c| c.webhooks.allow_http = true).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.split(':').nth(2).unwrap().to_owned();
    let disguised = format!("http://{}:{port}", name_of_this_machine());
    let (id, _) = add(&app, &disguised, json!(["*"])).await;
    let ping = send_ping(&app, id).await;
    assert_eq!(ping.status, StatusCode::OK, "{}", ping.text);
    assert_eq!(ping.body["ok"], false, "{}", ping.text);
    assert!(
        ping.body["error"]
            .as_str()
            .unwrap()
            .contains("webhooks.allow_private"),
        "{}",
        ping.text
    );
    assert!(
        receiver.all().await.is_empty(),
        "the message reached the machine"
    );

    // Redirects are not followed (here to the cloud metadata address).
    let lan = TestApp::spawn_with(lan).await;
    let redirecting = Receiver::start().await;
    redirecting.redirect.store(true, Ordering::Relaxed);
    let (id, _) = add(&lan, &redirecting.url, json!(["*"])).await;
    let ping = send_ping(&lan, id).await;
    assert_eq!(ping.body["ok"], false, "{}", ping.text);
    assert_eq!(ping.body["status"], 302);
    assert!(
        ping.body["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{}",
        ping.text
    );
    assert_eq!(redirecting.all().await.len(), 1);
}

/// `quarry serve` on `data`, sending to loopback receivers and retrying
/// soon.
fn serve(data: &std::path::Path, listen: &str) -> Server {
    Server::start_with(
        data,
        listen,
        &[
            ("QUARRY_WEBHOOKS_ALLOW_HTTP", "true"),
            ("QUARRY_WEBHOOKS_ALLOW_PRIVATE", "true"),
            ("QUARRY_WEBHOOKS_RETRY_FIRST_MS", "50"),
            ("QUARRY_WEBHOOKS_RETRY_MAX_SECS", "1"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // a server, a receiver, two kills and the check
async fn killed_mid_delivery_quarry_loses_and_reorders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let made = crate::cli::quarry(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "token",
            "create",
            "--name",
            "hooks",
            "--role",
            "owner",
        ],
        &[],
        None,
    );
    assert!(made.status.success(), "{}", crate::cli::stderr(&made));
    let token = crate::cli::stdout(&made)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let listen = free_port();
    let base = format!("http://{listen}");
    let client = crate::helpers::http_client().build().unwrap();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let mut server = serve(&data, &listen);
    server.ready(&client, &base).await;
    call(
        reqwest::Method::POST,
        "/api/v1/locations",
        json!({"code": "YARD", "name": "Yard"}),
    )
    .await
    .unwrap();
    call(reqwest::Method::POST, "/api/v1/products", sand("SAND-04"))
        .await
        .unwrap();
    let receiver = Receiver::start().await;
    // Slow enough that the kill lands mid-delivery.
    receiver.delay_ms.store(40, Ordering::Relaxed);
    let made = call(
        reqwest::Method::POST,
        "/api/v1/webhooks",
        json!({"url": receiver.url, "events": ["movement.booked"]}),
    )
    .await
    .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let secret = made.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut seqs = Vec::new();
    for _ in 0..40 {
        let r = call(
            reqwest::Method::POST,
            "/api/v1/movements",
            movement("receive", "YARD", "SAND-04", "1"),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        seqs.push(r.json::<Value>().await.unwrap()["seq"].as_u64().unwrap());
    }
    for _ in 0..2 {
        // Kill after some, not all, were delivered.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let before = booked_seqs(&receiver.accepted().await).len();
        while booked_seqs(&receiver.accepted().await).len() < before + 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no delivery before the kill"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(server); // SIGKILL
        assert!(booked_seqs(&receiver.accepted().await).len() < seqs.len());
        server = serve(&data, &listen);
        server.ready(&client, &base).await;
    }
    receiver.delay_ms.store(0, Ordering::Relaxed);
    let got = receiver
        .until("every movement", |got| {
            let mut seen = booked_seqs(got);
            seen.sort_unstable();
            seen.dedup();
            seen == seqs
        })
        .await;
    // At least once, and in order: a message is sent again only right after
    // a restart, never after a later one.
    let arrived = booked_seqs(&got);
    let mut next = 0;
    let mut repeats = 0;
    for seq in &arrived {
        let at = seqs.iter().position(|s| s == seq).unwrap();
        if at < next {
            repeats += 1;
        } else {
            assert_eq!(at, next, "{seq} came before {}: {arrived:?}", seqs[next]);
            next += 1;
        }
    }
    // What was sent and not yet recorded when it was killed: at most a batch
    // per kill.
    let batch = quarry::app::webhooks::messages::MESSAGES_PER_BATCH;
    assert!(repeats <= 2 * batch, "{repeats} repeats: {arrived:?}");
    for message in &got {
        message.verify(&secret).unwrap();
    }
    drop(server);
}

/// With several nodes on PostgreSQL only the leading one delivers: each
/// message goes once while both run, and when the leader stops the other
/// goes on from the shared cursor. (On the embedded store, one node: it
/// restarts instead.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_two_nodes_each_message_goes_once_and_the_other_node_takes_over() {
    let mut a = TestApp::spawn_with(lan).await;
    a.stock_setup().await;
    let receiver = Receiver::start().await;
    add(&a, &receiver.url, json!(["movement.booked"])).await;
    let mut b = if crate::helpers::on_postgres() {
        Some(a.second_node().await)
    } else {
        None
    };
    let mut seqs = Vec::new();
    for i in 0..10 {
        let node = match &b {
            Some(b) if i % 2 == 1 => b,
            _ => &a,
        };
        let resp = node
            .book(&movement("receive", "YARD", "SAND-04", "1"))
            .await;
        seqs.push(resp.body["seq"].as_u64().unwrap());
    }
    let got = receiver
        .until("ten movements", |got| booked_seqs(got).len() >= 10)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        booked_seqs(&receiver.accepted().await),
        seqs,
        "each once, in order: {got:#?}"
    );
    // The deliverer goes away; the other node (or the restarted one) goes on.
    a.stop().await;
    let survivor = if let Some(b) = &mut b {
        b
    } else {
        a.restart().await;
        &mut a
    };
    for _ in 0..5 {
        let resp = survivor
            .book(&movement("receive", "YARD", "SAND-04", "1"))
            .await;
        seqs.push(resp.body["seq"].as_u64().unwrap());
    }
    let got = receiver
        .until("fifteen movements", |got| {
            let mut seen = booked_seqs(got);
            seen.dedup();
            seen.len() >= 15
        })
        .await;
    let mut seen = booked_seqs(&got);
    seen.dedup();
    assert_eq!(seen, seqs, "nothing lost, nothing out of order");
}
