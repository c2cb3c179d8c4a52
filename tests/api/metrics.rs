//! `GET /metrics`: who may read it under each access rule, where it is served,
//! and that what it shows is well-formed and moves with what the server does.

use quarry::config::MetricsAccess;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Resp, TestApp, Who, movement, respond};

/// The samples of an exposition, as (series, value). Fails on any line that
/// is neither a comment nor `name{labels} value`.
fn samples(text: &str) -> Vec<(String, f64)> {
    assert!(text.ends_with("# EOF\n"), "no EOF marker:\n{text}");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value in {line:?}"));
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                v => v
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value in {line:?}")),
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, Some(rest)),
                None => (series, None),
            };
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad name in {line:?}"
            );
            if let Some(labels) = labels {
                let labels = labels
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels in {line:?}"));
                for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                    let (key, quoted) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("bad label in {line:?}"));
                    assert!(
                        key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            && quoted.starts_with('"'),
                        "bad label in {line:?}"
                    );
                }
            }
            (series.to_owned(), value)
        })
        .collect()
}

/// The value of one series (exactly as written, labels included), 0 if absent.
pub fn value(text: &str, series: &str) -> f64 {
    samples(text)
        .into_iter()
        .find(|(s, _)| s == series)
        .map_or(0.0, |(_, v)| v)
}

pub async fn scrape(app: &TestApp) -> String {
    let resp = app.get("/metrics", Who::Owner).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    resp.text
}

#[tokio::test]
async fn an_owner_reads_well_formed_metrics_with_requests_by_route_and_sampled_sizes() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/api/v1/products", Who::Anonymous).await.status,
        StatusCode::OK
    );
    let resp = app.get("/metrics", Who::Owner).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    let content_type = resp.header("content-type").unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text")
            || content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = &resp.text;
    assert!(
        value(
            text,
            r#"quarry_http_requests_total{method="GET",route="/api/v1/products",status="200"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        text.contains(
            r#"quarry_http_request_duration_seconds_count{method="GET",route="/api/v1/products"}"#
        ),
        "{text}"
    );
    assert!(value(text, "quarry_uptime_seconds") > 0.0, "{text}");
    assert!(value(text, "quarry_database_size_bytes") > 0.0, "{text}");
    assert!(
        value(text, "quarry_search_index_size_bytes") > 0.0,
        "{text}"
    );
    assert!(
        text.contains("quarry_store_requests_per_commit_bucket"),
        "{text}"
    );
    assert!(text.contains("quarry_sse_clients "), "{text}");
}

#[tokio::test]
async fn metrics_answer_owners_only_by_default() {
    let app = TestApp::spawn().await;
    let anonymous = app.get("/metrics", Who::Anonymous).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error().0, "unauthenticated");
    for who in [Who::Viewer, Who::Staff, Who::ReadOnlyOwner] {
        let resp = app.get("/metrics", who).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{who:?}");
        assert_eq!(resp.error().0, "forbidden");
    }
    assert_eq!(
        app.get("/metrics", Who::OwnerSession).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unmatched_paths_are_counted_under_one_label_never_their_own() {
    let app = TestApp::spawn().await;
    let missing = app.get("/no/such/page-qzxv", Who::Anonymous).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    app.get("/api/v1/products/NOPE-QZXV", Who::Anonymous).await;
    let text = scrape(&app).await;
    assert!(
        value(
            &text,
            r#"quarry_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        value(
            &text,
            r#"quarry_http_requests_total{method="GET",route="/api/v1/products/{sku}",status="404"}"#
        ) >= 1.0,
        "{text}"
    );
    assert!(
        // Letters: digits could turn up in any sampled number.
        !text.to_lowercase().contains("qzxv"),
        "a raw path leaked into a label:\n{text}"
    );
}

#[tokio::test]
async fn open_metrics_are_served_without_authentication_only_on_their_own_address() {
    let app = TestApp::spawn_with(|c| {
        c.metrics.access = MetricsAccess::Open;
        c.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let at = app
        .server
        .as_ref()
        .unwrap()
        .metrics_addr()
        .expect("a metrics listener");
    assert_ne!(at.to_string(), app.base.trim_start_matches("http://"));
    let open = respond(app.client.get(format!("http://{at}/metrics"))).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text);
    assert!(value(&open.text, "quarry_uptime_seconds") > 0.0);
    let elsewhere: Resp = respond(app.client.get(format!("http://{at}/api/v1/products"))).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    for who in [Who::Owner, Who::Anonymous] {
        let main = app.get("/metrics", who).await;
        assert_eq!(main.status, StatusCode::NOT_FOUND, "{who:?}");
        assert_eq!(main.error().0, "not_found");
    }
}

#[tokio::test]
async fn metrics_that_are_off_are_not_found_even_by_an_owner() {
    let app = TestApp::spawn_with(|c| c.metrics.access = MetricsAccess::Off).await;
    assert!(app.server.as_ref().unwrap().metrics_addr().is_none());
    for who in [Who::Owner, Who::Anonymous] {
        assert_eq!(
            app.get("/metrics", who).await.status,
            StatusCode::NOT_FOUND,
            "{who:?}"
        );
    }
}

#[tokio::test]
async fn open_metrics_without_an_address_of_their_own_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = quarry::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        ..quarry::config::Config::default()
    };
    config.metrics.access = MetricsAccess::Open;
    let Err(error) = quarry::http::start(config).await else {
        panic!("open metrics without metrics.listen started");
    };
    assert!(error.to_string().contains("metrics.listen"), "{error}");
}

#[tokio::test]
async fn booking_a_movement_grows_the_movements_and_commits_counters() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let before = scrape(&app).await;
    app.book(&movement("receive", "YARD", "SAND-04", "5")).await;
    app.book(&json!({
        "kind": "transfer", "from": "YARD", "to": "WH1",
        "lines": [{"sku": "SAND-04", "quantity": "1"}],
    }))
    .await;
    let after = scrape(&app).await;
    let grew = |series: &str| value(&after, series) - value(&before, series);
    assert!(
        (grew("quarry_movements_committed_total") - 2.0).abs() < f64::EPSILON,
        "{after}"
    );
    assert!(grew("quarry_store_commits_total") >= 2.0, "{after}");
    assert!(
        grew("quarry_store_requests_per_commit_count") >= 2.0,
        "{after}"
    );
    // A refused booking commits nothing and counts no movement.
    let refused = app
        .post(
            "/api/v1/movements",
            Who::Staff,
            &movement("ship", "YARD", "SAND-04", "1000"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let later = scrape(&app).await;
    assert!(
        (value(&later, "quarry_movements_committed_total")
            - value(&after, "quarry_movements_committed_total"))
        .abs()
            < f64::EPSILON
    );
}

#[tokio::test]
async fn searches_and_estimates_are_timed_and_their_cache_hits_counted() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.search("q=sand", Who::Anonymous).await;
    app.search("q=sand", Who::Anonymous).await;
    let estimate = json!({"lines": [{"sku": "SAND-04", "quantity": "2"}]});
    for _ in 0..2 {
        let resp = app
            .post("/api/v1/quote/estimate", Who::Anonymous, &estimate)
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    }
    let text = scrape(&app).await;
    assert!(
        value(
            &text,
            r#"quarry_search_duration_seconds_count{kind="search"}"#
        ) >= 2.0,
        "{text}"
    );
    assert!(
        value(&text, "quarry_estimate_duration_seconds_count") >= 2.0,
        "{text}"
    );
    for cache in ["search", "estimate"] {
        let hits = value(
            &text,
            &format!(r#"quarry_cache_hits_total{{cache="{cache}"}}"#),
        );
        let misses = value(
            &text,
            &format!(r#"quarry_cache_misses_total{{cache="{cache}"}}"#),
        );
        assert!(hits >= 1.0 && misses >= 1.0, "{cache}: {text}");
    }
}

#[tokio::test]
async fn clients_following_live_events_are_counted() {
    let app = TestApp::spawn().await;
    assert!(value(&scrape(&app).await, "quarry_sse_clients") < 1.0);
    let _first = app.events(Who::Anonymous, None).await;
    let _second = app.events(Who::Staff, None).await;
    let text = scrape(&app).await;
    assert!(
        (value(&text, "quarry_sse_clients") - 2.0).abs() < f64::EPSILON,
        "{text}"
    );
}

#[tokio::test]
async fn a_search_repeated_after_a_movement_reuses_the_engine_matches_with_live_stock() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "40"))
        .await;
    // Wait until the index knows the sand is in stock; from then on more
    // receipts change the store but not the index.
    app.eventually("q=sand&in_stock=true", Who::Anonymous, |s| s == ["SAND-04"])
        .await;
    let first = app.search("q=sand", Who::Staff).await;
    assert_eq!(first.body["hits"][0]["availability"]["available"], "40");
    let before = value(
        &scrape(&app).await,
        r#"quarry_cache_hits_total{cache="search_matches"}"#,
    );

    app.book(&movement("receive", "YARD", "SAND-04", "5")).await;
    let second = app.search("q=sand", Who::Staff).await;
    assert_eq!(
        second.body["hits"][0]["availability"]["available"], "45",
        "hits are filled from the store on every answer"
    );
    let after = value(
        &scrape(&app).await,
        r#"quarry_cache_hits_total{cache="search_matches"}"#,
    );
    assert!(
        (after - before - 1.0).abs() < f64::EPSILON,
        "the second search used the cached matches: {before} → {after}"
    );
}

#[tokio::test]
async fn checkpoints_of_the_journal_are_counted_with_their_duration() {
    // A checkpoint after every commit: each booking makes one.
    let app = TestApp::spawn_embedded(|c| c.store.checkpoint_secs = 0).await;
    app.stock_setup().await;
    let before = scrape(&app).await;
    for _ in 0..3 {
        app.book(&movement("receive", "YARD", "SAND-04", "5")).await;
    }
    let after = scrape(&app).await;
    let grew = |series: &str| value(&after, series) - value(&before, series);
    assert!(
        grew("quarry_store_checkpoint_seconds_count") >= 3.0,
        "{after}"
    );
    assert!(grew("quarry_store_checkpoint_seconds_sum") > 0.0, "{after}");
    let all = value(
        &after,
        r#"quarry_store_checkpoint_seconds_bucket{le="+Inf"}"#,
    );
    assert!(
        all >= 3.0 && (all - value(&after, "quarry_store_checkpoint_seconds_count")).abs() < 0.5,
        "{after}"
    );
}
