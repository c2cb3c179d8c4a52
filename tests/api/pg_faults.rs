//! PostgreSQL going away under a running server (`TEST_STORE=postgres`):
//! Quarry reaches the database through a TCP proxy the test cuts. Requests
//! get 503 `storage_unavailable` with `Retry-After`, never a 500 and never an
//! answer later than the request timeout; nothing is half-booked; once the
//! database is reachable again the server works by itself, and a write
//! retried with its `Idempotency-Key` is booked once. (On the embedded store
//! the same promises are the I/O fault tests' in `faults.rs`; this test then
//! checks that a server pointed at a database it cannot reach does not start,
//! with the reason.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, Who, movement, on_postgres, test_store_url};

/// A TCP proxy to `target` that drops every connection, and takes none,
/// while `cut` is set.
async fn proxy(target: String, cut: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            if cut.load(Ordering::SeqCst) {
                continue;
            }
            let (target, cut) = (target.clone(), Arc::clone(&cut));
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&target).await else {
                    return;
                };
                let watch = async {
                    while !cut.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    () = watch => {}
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_gets_503s_and_the_server_recovers_by_itself() {
    if !on_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let config = quarry::config::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            store: quarry::config::StoreConfig {
                url: "postgres://quarry@127.0.0.1:1/none".into(),
                ..quarry::config::StoreConfig::default()
            },
            ..quarry::config::Config::default()
        };
        let error = quarry::http::start(config).await.err().expect("refused");
        assert!(
            format!("{error:#}").contains("cannot be reached"),
            "{error:#}"
        );
        return;
    }
    let url = tokio::task::spawn_blocking(test_store_url)
        .await
        .unwrap()
        .unwrap();
    // postgres://user@host:port/db → the proxy's port in its place.
    let (head, db) = url.rsplit_once('/').unwrap();
    let (user_host, port) = head.rsplit_once(':').unwrap();
    let host = user_host.rsplit_once('@').unwrap().1;
    let cut = Arc::new(AtomicBool::new(false));
    let proxy_port = proxy(format!("{host}:{port}"), Arc::clone(&cut)).await;
    let through = format!("{user_host}:{proxy_port}/{db}");
    let app = TestApp::spawn_with(|c| {
        c.store.url = through;
        c.limits.request_timeout_secs = 10;
    })
    .await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;

    cut.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let booking = movement("receive", "YARD", "SAND-04", "5");
    for (method, path, body) in [
        (Method::GET, "/api/v1/products/SAND-04", None),
        (Method::GET, "/api/v1/stock", None),
        (Method::POST, "/api/v1/movements", Some(&booking)),
    ] {
        let started = Instant::now();
        let key: &[(&str, &str)] = if body.is_some() {
            &[("idempotency-key", "outage-1")]
        } else {
            &[]
        };
        let resp = app.send(method.clone(), path, Who::Staff, body, key).await;
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{method} {path} took {:?}",
            started.elapsed()
        );
        assert_eq!(
            resp.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {}",
            resp.text
        );
        assert_eq!(resp.error().0, "storage_unavailable", "{}", resp.text);
        assert!(resp.header("retry-after").is_some(), "{method} {path}");
    }

    cut.store(false, Ordering::SeqCst);
    let back = Instant::now();
    loop {
        let resp = app.get("/api/v1/products/SAND-04", Who::Staff).await;
        if resp.status == StatusCode::OK {
            break;
        }
        assert_eq!(
            resp.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            resp.text
        );
        assert!(back.elapsed() < Duration::from_secs(20), "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The refused booking was not made; retried with its key, it is made once.
    assert_eq!(app.level("SAND-04", "YARD").await.0, "10");
    for _ in 0..2 {
        let resp = app
            .send(
                Method::POST,
                "/api/v1/movements",
                Who::Staff,
                Some(&booking),
                &[("idempotency-key", "outage-1")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text);
    }
    assert_eq!(app.level("SAND-04", "YARD").await.0, "15");
    app.stop_and_check().await;
}
