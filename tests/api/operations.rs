//! Backups (over HTTP, through the command line while the server runs, and on
//! a schedule), restore and compaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::cli::{dir_arg, quarry, stderr, stdout};
use crate::helpers::{TestApp, Who, movement, respond, sand};

/// Restores `backup` into a fresh data dir with the real executable and runs
/// `quarry check` on it; returns the data dir.
fn restore_and_check(backup: &std::path::Path, target: &std::path::Path) {
    let restored = quarry(
        &["--data-dir", &dir_arg(target), "restore", &dir_arg(backup)],
        &[],
        None,
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert!(
        stdout(&restored).contains("restored"),
        "{}",
        stdout(&restored)
    );
    let check = quarry(&["--data-dir", &dir_arg(target), "check"], &[], None);
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(stdout(&check).contains("ok: no problems found"));
}

#[tokio::test]
async fn a_backup_taken_during_concurrent_writes_restores_to_a_store_that_checks_and_balances() {
    let app = Arc::new(TestApp::spawn().await);
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "100000"))
        .await;
    let acknowledged = Arc::new(AtomicUsize::new(1));
    let mut writers = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..40 {
                let body = if (w + i) % 3 == 0 {
                    json!({"kind": "transfer", "from": "YARD", "to": "WH1",
                           "lines": [{"sku": "SAND-04", "quantity": "1.5"}]})
                } else {
                    movement("ship", "YARD", "SAND-04", "0.25")
                };
                app.book(&body).await;
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // Backups taken while the writers run.
    let mut backups = Vec::new();
    while backups.len() < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let before = acknowledged.load(Ordering::SeqCst);
        let resp = app.post("/api/v1/backups", Who::Owner, &json!({})).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
        backups.push((resp.body["name"].as_str().unwrap().to_owned(), before));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let listed = app.get("/api/v1/backups", Who::Owner).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);

    for (i, (name, acknowledged_before)) in backups.iter().enumerate() {
        // Download it the way the owner would.
        let resp = app
            .client
            .get(format!("{}/api/v1/backups/{name}", app.base))
            .bearer_auth(app.token(Who::Owner).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(name.as_str())
        );
        let bytes = resp.bytes().await.unwrap();
        let file = app.dir.path().join(format!("download-{i}.qbk"));
        std::fs::write(&file, &bytes).unwrap();
        let target = app.dir.path().join(format!("restored-{i}"));
        let (file2, target2) = (file.clone(), target.clone());
        tokio::task::spawn_blocking(move || restore_and_check(&file2, &target2))
            .await
            .unwrap();
        // Everything acknowledged before the backup was asked for is in it.
        let store = quarry::store::Store::open(&target).unwrap();
        let report = {
            drop(store);
            quarry::store::check(&target).unwrap()
        };
        assert!(
            report.movements >= *acknowledged_before as u64,
            "backup {i}: {} movements, {acknowledged_before} acknowledged before it",
            report.movements
        );
    }
    let app = Arc::into_inner(app).unwrap();
    app.stop_and_check().await;
}

#[tokio::test]
async fn the_command_line_backs_up_a_running_server_and_restore_protects_a_data_dir() {
    // Restoring makes a data dir's file: the embedded store.
    let app = TestApp::spawn_embedded(|_| {}).await;
    app.create_product(&sand("SAND-04")).await;
    let data = dir_arg(&app.config.data_dir);
    let file = app.dir.path().join("nightly.qbk");
    let file_arg = dir_arg(&file);
    let out = {
        let (data, file_arg) = (data.clone(), file_arg.clone());
        tokio::task::spawn_blocking(move || {
            quarry(&["--data-dir", &data, "backup", &file_arg], &[], None)
        })
        .await
        .unwrap()
    };
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("backup written"), "{}", stdout(&out));
    // The server recorded it in the audit log.
    let audit = app
        .get("/api/v1/audit?kind=backup.created", Who::Owner)
        .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);

    let target = app.dir.path().join("restored");
    let target_arg = dir_arg(&target);
    tokio::task::spawn_blocking(move || {
        restore_and_check(&file, &target);
        // A data dir with data in it is not replaced without --force.
        let again = quarry(
            &["--data-dir", &target_arg, "restore", &file_arg],
            &[],
            None,
        );
        assert!(!again.status.success());
        assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
        let forced = quarry(
            &["--data-dir", &target_arg, "restore", &file_arg, "--force"],
            &[],
            None,
        );
        assert!(forced.status.success(), "{}", stderr(&forced));

        // A damaged backup is refused and leaves the data dir alone.
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        let damaged = file.with_file_name("damaged.qbk");
        std::fs::write(&damaged, &bytes).unwrap();
        let refused = quarry(
            &[
                "--data-dir",
                &target_arg,
                "restore",
                &dir_arg(&damaged),
                "--force",
            ],
            &[],
            None,
        );
        assert!(!refused.status.success());
        assert!(
            stderr(&refused).contains("checksum"),
            "{}",
            stderr(&refused)
        );
        let report = quarry::store::check(&target).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.products, 1, "the restored data is still there");

        let compacted = quarry(&["--data-dir", &target_arg, "compact"], &[], None);
        assert!(compacted.status.success(), "{}", stderr(&compacted));
        assert!(stdout(&compacted).contains(" → "), "{}", stdout(&compacted));
    })
    .await
    .unwrap();
    // Restoring onto the running server's data dir is refused.
    let file = dir_arg(&app.dir.path().join("nightly.qbk"));
    let busy = tokio::task::spawn_blocking(move || {
        quarry(
            &["--data-dir", &data, "restore", &file, "--force"],
            &[],
            None,
        )
    })
    .await
    .unwrap();
    assert!(!busy.status.success());
    assert!(
        stderr(&busy).contains("server is running"),
        "{}",
        stderr(&busy)
    );
}

#[tokio::test]
async fn a_restored_store_serves_its_data_and_rebuilds_its_search_index() {
    // Restoring makes a data dir's file: the embedded store.
    let mut app = TestApp::spawn_embedded(|_| {}).await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "12"))
        .await;
    let backup = app.dir.path().join("b.qbk");
    let owner = quarry::domain::accounts::Actor::cli();
    app.server
        .as_ref()
        .unwrap()
        .app()
        .backup_to(backup.clone(), &owner, std::sync::Arc::default())
        .await
        .unwrap();
    app.create_product(&sand("AFTER-1")).await;
    app.stop().await;
    let data = app.config.data_dir.clone();
    tokio::task::spawn_blocking(move || {
        let out = quarry(
            &[
                "--data-dir",
                &dir_arg(&data),
                "restore",
                &dir_arg(&backup),
                "--force",
            ],
            &[],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
    })
    .await
    .unwrap();
    app.restart().await;
    assert_eq!(app.level("SAND-04", "YARD").await.0, "12");
    let found = app.search_skus("q=sand", Who::Anonymous).await;
    assert!(found.contains(&"SAND-04".to_owned()), "{found:?}");
    assert!(!found.contains(&"AFTER-1".to_owned()), "{found:?}");
    let gone = app.get("/api/v1/products/AFTER-1", Who::Anonymous).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn scheduled_backups_keep_the_configured_number_and_leave_manual_ones() {
    let app = TestApp::spawn_with(|c| c.backup.keep = 2).await;
    let manual = app.post("/api/v1/backups", Who::Owner, &json!({})).await;
    assert_eq!(manual.status, StatusCode::CREATED, "{}", manual.text);
    let server = app.server.as_ref().unwrap();
    let mut made = Vec::new();
    for i in 0..4 {
        app.create_product(&sand(&format!("S-{i}"))).await;
        let (info, deleted) = server.app().scheduled_backup().await.unwrap();
        assert_eq!(deleted, usize::from(i >= 2), "run {i}");
        made.push(info.name);
    }
    let mut names: Vec<String> = std::fs::read_dir(app.config.backup_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = vec![
        made[2].clone(),
        made[3].clone(),
        manual.body["name"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_backup_name_outside_the_backup_directory_is_not_found() {
    let app = TestApp::spawn().await;
    for name in ["..%2Fquarry.redb", "quarry.redb", "quarry-..%2F..%2Fx.qbk"] {
        let resp = app
            .get(&format!("/api/v1/backups/{name}"), Who::Owner)
            .await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{name}");
    }
}

/// Starts an export as `who` and returns its response, headers only: the
/// body is left unread, so the export stays open on the server.
async fn open_export(app: &TestApp, who: Who) -> reqwest::Response {
    app.request_as(Method::GET, "/api/v1/exports/products?format=json", who)
        .await
        .send()
        .await
        .unwrap()
}

/// The class of hardening items 2 and 9: an export holds a blocking thread
/// and a read snapshot while its client reads, and there was no bound on how
/// many one caller, or all of them, could hold.
#[tokio::test]
async fn exports_are_bounded_per_caller_and_in_all_and_free_their_place_when_done() {
    use std::fmt::Write;
    let app = TestApp::spawn().await;
    // Enough data that an unread export cannot finish into buffers.
    let description = "Washed and graded river sand for concrete and screed. ".repeat(150);
    let mut csv = String::from("sku,name,category,unit,price,description\n");
    for i in 0..2_500 {
        writeln!(csv, "BIG-{i:05},Sand {i},Aggregates,t,38,{description}").unwrap();
    }
    let imported = app
        .upload("/api/v1/imports/products", Who::Staff, &csv)
        .await;
    assert_eq!(
        imported.status,
        StatusCode::OK,
        "{}",
        &imported.text[..200.min(imported.text.len())]
    );

    let first = open_export(&app, Who::Viewer).await;
    let second = open_export(&app, Who::Viewer).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = respond(
        app.request_as(Method::GET, "/api/v1/exports/stock", Who::Viewer)
            .await,
    )
    .await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        third.text
    );
    assert!(third.header("retry-after").is_some());
    let others = [
        open_export(&app, Who::Staff).await,
        open_export(&app, Who::Staff).await,
    ];
    assert!(others.iter().all(|r| r.status() == StatusCode::OK));
    let busy = respond(
        app.request_as(Method::GET, "/api/v1/exports/stock", Who::Owner)
            .await,
    )
    .await;
    assert_eq!(
        busy.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        busy.text
    );
    assert_eq!(busy.error().0, "busy");
    // An export read to its end gives its place back; so does one whose
    // client went away.
    let body = first.bytes().await.unwrap();
    assert!(body.len() > 10 << 20, "{} bytes", body.len());
    drop(second);
    drop(others);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let again = respond(
            app.request_as(Method::GET, "/api/v1/exports/stock", Who::Viewer)
                .await,
        )
        .await;
        if again.status == StatusCode::OK {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", again.text);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
