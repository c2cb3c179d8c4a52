//! I/O fault injection, the way `SQLite`'s I/O-error loops do it: the store runs
//! on a backend that fails the k-th read, write or sync of its file, for
//! k = 1, 2, … until a booking gets through without reaching the fault; once
//! with a single failure and once with every operation failing from the k-th
//! on, as an I/O error or a full disk.
//!
//! For every k: the booking is answered 201 or a 503 that says what happened
//! (`disk_full` for a full disk); while a write fault persists, reads still
//! answer and writes are refused; once the fault clears, the store recovers by
//! itself and the same request, retried with its Idempotency-Key, is booked
//! exactly once. At the end the levels equal what was acknowledged and
//! `quarry check` finds nothing wrong (nothing was half-written).
//!
//! `FAULT_MAX_K` bounds k (default 400; no scenario needs that many).

use std::time::Duration;

use quarry::store::faults::{Failure, Faults, Op};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, Who, sand};

#[derive(Debug, Clone, Copy)]
struct Scenario {
    op: Op,
    persistent: bool,
    failure: Failure,
}

const SCENARIOS: [Scenario; 8] = [
    Scenario {
        op: Op::Write,
        persistent: false,
        failure: Failure::Io,
    },
    Scenario {
        op: Op::Write,
        persistent: true,
        failure: Failure::Io,
    },
    Scenario {
        op: Op::Sync,
        persistent: false,
        failure: Failure::Io,
    },
    Scenario {
        op: Op::Sync,
        persistent: true,
        failure: Failure::Io,
    },
    Scenario {
        op: Op::Write,
        persistent: false,
        failure: Failure::DiskFull,
    },
    Scenario {
        op: Op::Write,
        persistent: true,
        failure: Failure::DiskFull,
    },
    Scenario {
        op: Op::Read,
        persistent: false,
        failure: Failure::Io,
    },
    Scenario {
        op: Op::Read,
        persistent: true,
        failure: Failure::Io,
    },
];

const PRODUCTS: [&str; 2] = ["SAND-A", "SAND-B"];

/// A two-line receipt, so a half-written one would show.
fn receipt(key: &str) -> Value {
    json!({"kind": "receive", "location": "YARD", "reference": key, "lines": [
        {"sku": PRODUCTS[0], "quantity": "1"},
        {"sku": PRODUCTS[1], "quantity": "2"},
    ]})
}

async fn book(app: &TestApp, key: &str) -> Resp {
    app.send(
        Method::POST,
        "/api/v1/movements",
        Who::Staff,
        Some(&receipt(key)),
        &[("idempotency-key", key)],
    )
    .await
}

/// A refusal must be a 503 that says what happened.
fn assert_clear_503(resp: &Resp, failure: Failure, what: &str) {
    assert_eq!(
        resp.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        resp.text
    );
    let (code, _) = resp.error();
    let message = resp.body["error"]["message"].as_str().unwrap_or_default();
    match failure {
        Failure::DiskFull => {
            assert_eq!(code, "disk_full", "{what}: {}", resp.text);
            assert!(message.contains("disk"), "{what}: {message}");
        }
        Failure::Io => {
            assert_eq!(code, "storage_unavailable", "{what}: {}", resp.text);
            assert!(message.contains("data file"), "{what}: {message}");
        }
    }
    assert!(
        resp.header("retry-after").is_some(),
        "{what}: no Retry-After"
    );
}

/// Retries `key` until it is booked (the store recovers by itself), then
/// checks it is in the ledger exactly once, whole.
async fn recovered(app: &TestApp, key: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let resp = book(app, key).await;
        if resp.status == StatusCode::CREATED {
            break;
        }
        assert_eq!(
            resp.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{what}, retried after the fault cleared: {}",
            resp.text
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the store did not recover in 20 s after the fault cleared: {}",
            resp.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let found = app
        .get(&format!("/api/v1/movements?reference={key}"), Who::Staff)
        .await;
    assert_eq!(found.status, StatusCode::OK, "{what}: {}", found.text);
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{what}: booked {} times", items.len());
    assert_eq!(
        items[0]["lines"].as_array().map(Vec::len),
        Some(2),
        "{what}: {}",
        found.text
    );
}

/// While a write or sync fault persists, what was committed is still read.
async fn reads_still_answer(app: &TestApp, what: &str) {
    for path in [
        format!("/api/v1/products/{}", PRODUCTS[0]),
        format!("/api/v1/stock?sku={}", PRODUCTS[1]),
        "/api/v1/movements?limit=5".to_owned(),
    ] {
        let resp = app.get(&path, Who::Staff).await;
        assert_eq!(
            resp.status,
            StatusCode::OK,
            "{what}: GET {path} while the fault persists: {}",
            resp.text
        );
    }
}

/// Runs one scenario for k = 1, 2, … until a booking does not reach the
/// fault; returns how many faults fired.
async fn run(app: &TestApp, faults: &Faults, scenario: Scenario, max_k: u64) -> (u64, u64) {
    let mut fired_total = 0;
    for k in 1..=max_k {
        let key = format!(
            "{:?}-{}-{:?}-{k}",
            scenario.op,
            if scenario.persistent { "p" } else { "1" },
            scenario.failure
        );
        let what = format!("{scenario:?}, k={k}");
        faults.arm(scenario.op, k, scenario.persistent, scenario.failure);
        let resp = book(app, &key).await;
        let fired = faults.failed();
        if fired == 0 {
            faults.clear();
            assert_eq!(resp.status, StatusCode::CREATED, "{what}: {}", resp.text);
            return (k, fired_total);
        }
        fired_total += fired;
        if resp.status != StatusCode::CREATED {
            assert_clear_503(&resp, scenario.failure, &what);
        }
        if scenario.persistent && scenario.op != Op::Read {
            reads_still_answer(app, &what).await;
            let other = book(app, &format!("{key}-meanwhile")).await;
            assert_clear_503(&other, scenario.failure, &format!("{what}, meanwhile"));
            fired_total += faults.failed() - fired;
        }
        faults.clear();
        recovered(app, &key, &what).await;
        // The refused one was never booked, and is not later.
        let meanwhile = app
            .get(
                &format!("/api/v1/movements?reference={key}-meanwhile"),
                Who::Staff,
            )
            .await;
        assert_eq!(meanwhile.body["items"], json!([]), "{what}");
    }
    panic!("{scenario:?}: every booking up to k={max_k} reached the fault");
}

/// Bookings reach the journal: its append and sync fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_io_fault_gets_a_clear_503_loses_nothing_and_passes() {
    every_io_fault(10).await;
}

/// With a checkpoint after every commit, bookings also reach the data file:
/// its page writes and sync fail too, and the journal replays after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_io_fault_of_a_checkpoint_gets_a_clear_503_loses_nothing_and_passes() {
    every_io_fault(0).await;
}

async fn every_io_fault(checkpoint_secs: u32) {
    let max_k: u64 = std::env::var("FAULT_MAX_K")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(400);
    let faults = Faults::default();
    // No page cache: every read reaches the (faulty) file, and reads during
    // a fault are answered by the file, not by memory.
    let app = TestApp::spawn_faulty(
        |c| {
            c.store.cache_mb = 0;
            c.store.checkpoint_secs = checkpoint_secs;
        },
        Some(faults.clone()),
    )
    .await;
    for sku in PRODUCTS {
        app.create_product(&sand(sku)).await;
    }
    app.create_location("YARD", "Main yard").await;
    let mut booked = 0u64;
    for scenario in SCENARIOS {
        let started = std::time::Instant::now();
        let (tried, fired) = run(&app, &faults, scenario, max_k).await;
        eprintln!(
            "faults: {scenario:?}: k = 1..{tried}, {fired} operations failed, {:.1} s",
            started.elapsed().as_secs_f64()
        );
        booked += tried;
        assert!(
            tried > 1,
            "{scenario:?}: the first booking never reached the fault, so nothing was tested"
        );
    }
    // Every acknowledged receipt is there once: 1 and 2 per booking.
    for (sku, each) in PRODUCTS.iter().zip([1u64, 2]) {
        let (on_hand, _, _) = app.level(sku, "YARD").await;
        assert_eq!(
            on_hand.parse::<Decimal>().unwrap(),
            Decimal::from(booked * each),
            "{sku}"
        );
    }
    app.stop_and_check().await;
}

/// The products CSV of the upload tests.
const UPLOAD: &str = "sku,name,category,unit,price\nSAND-U,Washed sand,Aggregates,t,38\n";

/// Regression (hardening, item 5): an import when the disk was full
/// answered 500, not the 503 `disk_full` every other write gives.
#[tokio::test]
async fn an_import_the_full_disk_cannot_stage_is_a_503_disk_full_and_imports_nothing() {
    let faults = Faults::default();
    let app = TestApp::spawn_faulty(|_| {}, Some(faults.clone())).await;
    faults.arm(Op::Write, 1, true, Failure::DiskFull);
    let resp = app
        .upload("/api/v1/imports/products", Who::Staff, UPLOAD)
        .await;
    assert_clear_503(&resp, Failure::DiskFull, "staging an upload");
    assert!(faults.failed() > 0, "the staging write met the fault");
    faults.clear();
    // Once the disk has room again and the store has recovered (a background
    // write may have met the fault too and made the store reopen), nothing of
    // the refused upload is there, and the same upload is imported.
    let none = while_recovering(|| app.get("/api/v1/products/SAND-U", Who::Staff)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.text);
    until_recovered(|| app.upload("/api/v1/imports/products", Who::Staff, UPLOAD)).await;
    app.stop_and_check().await;
}

/// Regression (hardening, item 5): an upload larger than the free space was
/// staged until the disk filled, then answered 500.
#[tokio::test]
async fn an_upload_larger_than_the_free_space_is_refused_before_it_is_staged() {
    let faults = Faults::default();
    let app = TestApp::spawn_faulty(|_| {}, Some(faults.clone())).await;
    faults.pretend_free(32 << 20);
    let resp = app
        .upload("/api/v1/imports/products", Who::Staff, UPLOAD)
        .await;
    assert_clear_503(&resp, Failure::DiskFull, "an upload beyond the free space");
    let message = resp.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("MiB free"), "{message}");
    let leftovers: Vec<_> = std::fs::read_dir(&app.config.data_dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".quarry-import-"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new(), "nothing was staged");
    faults.pretend_free(1 << 40);
    let resp = app
        .upload("/api/v1/imports/products", Who::Staff, UPLOAD)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
}

/// The class of item 5: a backup the full disk cannot take answered 500.
#[tokio::test]
async fn a_backup_the_full_disk_cannot_take_is_a_503_disk_full() {
    let faults = Faults::default();
    let app = TestApp::spawn_faulty(|_| {}, Some(faults.clone())).await;
    // The owner token's first use is recorded by a write in the background;
    // let it happen before the disk fills, or that write may meet the full
    // disk first and the backup find the store being reopened.
    let listed = app.get("/api/v1/backups", Who::Owner).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    tokio::time::sleep(Duration::from_millis(300)).await;
    faults.arm(Op::Write, 1, true, Failure::DiskFull);
    let resp = app.post("/api/v1/backups", Who::Owner, &json!({})).await;
    assert_clear_503(&resp, Failure::DiskFull, "a backup");
    faults.clear();
    let empty = json!({});
    until_recovered(|| app.post("/api/v1/backups", Who::Owner, &empty)).await;
}

/// Sends `request` until it succeeds, for at most 20 s; until then it may
/// only be refused with a 503.
async fn until_recovered<F: std::future::Future<Output = Resp>>(request: impl Fn() -> F) {
    let resp = while_recovering(request).await;
    assert!(resp.status.is_success(), "{}: {}", resp.status, resp.text);
}

/// The first answer to `request` that is not a 503 of a store still
/// recovering, which must come within 20 s.
async fn while_recovering<F: std::future::Future<Output = Resp>>(request: impl Fn() -> F) -> Resp {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let resp = request().await;
        if resp.status != StatusCode::SERVICE_UNAVAILABLE {
            return resp;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not recovered in 20 s: {}",
            resp.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
