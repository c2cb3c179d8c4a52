//! Long work over HTTP: imports and backups run as jobs that go on when the
//! request ends, say how far they have got, and are exempt from the request
//! timeout (an upload has its own); ordinary requests are not.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, Who, respond, sand};

const ASYNC: &[(&str, &str)] = &[("prefer", "respond-async")];

fn products(n: usize) -> String {
    use std::fmt::Write;
    let mut csv = String::from("sku,name,category,unit,price\n");
    for i in 0..n {
        let price = 20 + i % 7;
        writeln!(csv, "JOB-{i:04},Washed sand {i},Aggregates,t,{price}.50").unwrap();
    }
    csv
}

/// Polls the job until it has finished; answers its last view.
async fn follow(app: &TestApp, id: &str, who: Who) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let job = app.get(&format!("/api/v1/jobs/{id}"), who).await;
        assert_eq!(job.status, StatusCode::OK, "{}", job.text);
        if job.body["state"] == "finished" {
            return job.body;
        }
        assert_eq!(job.body["state"], "running");
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} never ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An accepted job: 202, where to follow it, and its id.
fn accepted(answer: &Resp, kind: &str) -> String {
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    let id = answer.body["id"].as_str().unwrap().to_owned();
    assert_eq!(answer.body["kind"], kind);
    assert_eq!(
        answer.header("location"),
        Some(format!("/api/v1/jobs/{id}").as_str())
    );
    assert_eq!(answer.header("preference-applied"), Some("respond-async"));
    id
}

/// A 408 in the API's error shape.
fn assert_timed_out(answer: &Resp) {
    assert_eq!(
        answer.status,
        StatusCode::REQUEST_TIMEOUT,
        "{}",
        answer.text
    );
    assert_eq!(answer.error().0, "request_timeout");
}

/// The first product of [`products`] is not in the catalogue.
async fn assert_nothing_imported(app: &TestApp) {
    let first = app.get("/api/v1/products/JOB-0000", Who::Staff).await;
    assert_eq!(first.status, StatusCode::NOT_FOUND, "{}", first.text);
}

/// Starts a products import as staff with `Prefer: respond-async`; its job id.
async fn start_import(app: &TestApp, csv: &str) -> String {
    let started = app
        .upload_with("/api/v1/imports/products", Who::Staff, csv, ASYNC)
        .await;
    accepted(&started, "import.products")
}

/// A body that arrives in `parts`, each after `pause`.
fn slowly(parts: Vec<String>, pause: Duration) -> reqwest::Body {
    reqwest::Body::wrap_stream(
        futures_util::stream::iter(parts).then(move |part| async move {
            tokio::time::sleep(pause).await;
            Ok::<_, std::io::Error>(part)
        }),
    )
}

/// A body that sends `start`, then never another byte nor its end: only a
/// deadline on the server can answer it.
fn stalled(start: &str) -> reqwest::Body {
    let start = futures_util::stream::iter([Ok::<_, std::io::Error>(start.to_owned())]);
    reqwest::Body::wrap_stream(start.chain(futures_util::stream::pending()))
}

/// A multipart form whose `file` part is `body`.
fn form_of(body: reqwest::Body) -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::stream(body)
        .file_name("slow.csv")
        .mime_str("text/csv")
        .unwrap();
    reqwest::multipart::Form::new().part("file", part)
}

#[tokio::test]
async fn an_import_asked_to_respond_async_is_followed_to_its_report_by_its_starter_and_owners() {
    let app = TestApp::spawn().await;
    let csv = products(400);
    let id = start_import(&app, &csv).await;

    let job = follow(&app, &id, Who::Staff).await;
    assert_eq!(job["status"], 200, "{job}");
    assert_eq!(job["result"]["created"], 400, "{job}");
    assert_eq!(job["result"]["written"], true);
    assert_eq!(job["progress"]["unit"], "bytes");
    assert_eq!(job["progress"]["total"], csv.len());
    assert_eq!(job["progress"]["done"], csv.len());
    assert!(job["finished_at"].is_string());
    let product = app.get("/api/v1/products/JOB-0399", Who::Anonymous).await;
    assert_eq!(product.status, StatusCode::OK, "{}", product.text);

    // An owner may look; another user, a read-only owner token and nobody may not.
    assert_eq!(follow(&app, &id, Who::Owner).await["status"], 200);
    let path = format!("/api/v1/jobs/{id}");
    assert_eq!(
        app.get(&path, Who::StaffSession).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, Who::ReadOnlyOwner).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, Who::Anonymous).await.status,
        StatusCode::UNAUTHORIZED
    );
    let unknown = app.get("/api/v1/jobs/0123456789abcdef", Who::Owner).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error().0, "not_found");
}

#[tokio::test]
async fn a_job_with_bad_rows_ends_with_the_422_and_report_a_waiting_request_gets() {
    let app = TestApp::spawn().await;
    let csv =
        "sku,name,category,unit,price\nOK-1,Sand,Aggregates,t,3\nBAD-1,Sand,Aggregates,t,cheap\n";
    let waited = app
        .upload("/api/v1/imports/products", Who::Staff, csv)
        .await;
    assert_eq!(
        waited.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        waited.text
    );

    let job = follow(&app, &start_import(&app, csv).await, Who::Staff).await;
    assert_eq!(job["status"], 422, "{job}");
    assert_eq!(job["result"], waited.body);
    assert_eq!(job["result"]["error"]["code"], "invalid_rows");
    assert_eq!(job["result"]["report"]["errors"][0]["row"], 3);
    assert_eq!(
        app.get("/api/v1/products/OK-1", Who::Staff).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_backup_asked_to_respond_async_ends_with_its_file_and_counts_what_it_copied() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let refused = app
        .send(Method::POST, "/api/v1/backups", Who::Staff, None, ASYNC)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let started = app
        .send(Method::POST, "/api/v1/backups", Who::Owner, None, ASYNC)
        .await;
    let job = follow(&app, &accepted(&started, "backup"), Who::Owner).await;
    assert_eq!(job["status"], 201, "{job}");
    assert_eq!(job["progress"]["unit"], "entries");
    let copied = job["progress"]["done"].as_u64().unwrap();
    assert!(copied > 0, "{job}");
    assert_eq!(job["progress"]["total"], copied);
    let name = job["result"]["name"].as_str().unwrap();
    let listed = app.get("/api/v1/backups", Who::Owner).await;
    assert_eq!(listed.body["items"][0]["name"], name, "{}", listed.text);
}

#[tokio::test]
async fn an_upload_slower_than_the_request_timeout_still_imports() {
    let app = TestApp::spawn_with(|c| c.limits.request_timeout_secs = 1).await;
    let csv = products(30);
    let (head, rest) = csv.split_at(csv.len() / 2);
    let request = app
        .request_as(Method::POST, "/api/v1/imports/products", Who::Staff)
        .await
        .multipart(form_of(slowly(
            vec![head.to_owned(), rest.to_owned()],
            Duration::from_millis(800),
        )));
    let answer = respond(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["created"], 30);
}

#[tokio::test]
async fn an_upload_past_its_own_deadline_gets_408_and_imports_nothing() {
    let app = TestApp::spawn_with(|c| c.limits.upload_timeout_secs = 1).await;
    let csv = products(4);
    let request = app
        .request_as(Method::POST, "/api/v1/imports/products", Who::Staff)
        .await
        .multipart(form_of(stalled(&csv)));
    let answer = respond(request).await;
    assert_timed_out(&answer);
    assert!(
        answer.text.contains("upload_timeout_secs"),
        "{}",
        answer.text
    );
    assert_nothing_imported(&app).await;
}

#[tokio::test]
async fn an_ordinary_request_slower_than_the_timeout_gets_408_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.limits.request_timeout_secs = 1).await;
    let body = serde_json::to_string(&sand("SLOW-1")).unwrap();
    let request = app
        .request_as(Method::POST, "/api/v1/products", Who::Staff)
        .await
        .header("content-type", "application/json")
        .body(stalled(&body[..body.len() / 2]));
    let answer = respond(request).await;
    assert_timed_out(&answer);
    assert_eq!(
        app.get("/api/v1/products/SLOW-1", Who::Staff).await.status,
        StatusCode::NOT_FOUND
    );
    // The same body sent at once is taken.
    let quick = app
        .post("/api/v1/products", Who::Staff, &json!(sand("SLOW-1")))
        .await;
    assert_eq!(quick.status, StatusCode::CREATED, "{}", quick.text);
}

#[tokio::test]
async fn a_ninth_import_is_refused_before_its_upload_while_eight_are_running() {
    let app = TestApp::spawn().await;
    // Eight uploads that never end hold the eight places.
    let mut stuck = Vec::new();
    for _ in 0..8 {
        let request = app
            .request_as(Method::POST, "/api/v1/imports/stock", Who::Staff)
            .await
            .multipart(form_of(stalled("sku,location,quantity\n")));
        stuck.push(tokio::spawn(respond(request)));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = app.get("/metrics", Who::Owner).await;
        let running = metrics
            .text
            .lines()
            .find(|l| l.starts_with("quarry_jobs_running "))
            .map(str::to_owned);
        if running.as_deref() == Some("quarry_jobs_running 8") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the eight uploads never all arrived: {running:?}; {:?}",
            stuck
                .iter()
                .map(tokio::task::JoinHandle::is_finished)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = app
        .upload("/api/v1/imports/products", Who::Staff, &products(1))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert_eq!(refused.error().0, "rate_limited");
    assert!(refused.header("retry-after").is_some());
    let metrics = app.get("/metrics", Who::Owner).await;
    assert!(
        metrics.text.contains("quarry_jobs_running 8\n"),
        "{}",
        metrics.text
    );

    // Clients that give up free their places.
    for upload in &stuck {
        upload.abort();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let again = app
            .upload("/api/v1/imports/products", Who::Staff, &products(2))
            .await;
        if again.status == StatusCode::OK {
            break;
        }
        assert_eq!(
            again.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            again.text
        );
        assert!(tokio::time::Instant::now() < deadline, "places never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn once_the_server_is_stopping_no_new_import_or_backup_starts() {
    let app = TestApp::spawn().await;
    app.server.as_ref().unwrap().app().begin_shutdown();
    let backup = app
        .send(Method::POST, "/api/v1/backups", Who::Owner, None, ASYNC)
        .await;
    assert_eq!(
        backup.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        backup.text
    );
    assert!(backup.header("retry-after").is_some());
    let import = app
        .upload("/api/v1/imports/products", Who::Staff, &products(1))
        .await;
    assert_eq!(
        import.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        import.text
    );
}

#[tokio::test]
async fn an_import_running_when_the_server_begins_to_stop_is_rolled_back() {
    let app = TestApp::spawn().await;
    let csv = products(20_000);
    let id = start_import(&app, &csv).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let job = app.get(&format!("/api/v1/jobs/{id}"), Who::Staff).await;
        assert_eq!(job.body["state"], "running", "it ended first: {}", job.text);
        if job.body["progress"]["done"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.server.as_ref().unwrap().app().begin_shutdown();
    let job = follow(&app, &id, Who::Staff).await;
    assert_eq!(job["status"], 503, "{job}");
    assert_eq!(job["result"]["error"]["code"], "unavailable");
    assert_nothing_imported(&app).await;
}

#[tokio::test]
async fn an_import_job_keeps_every_bad_row_to_download_past_the_reports_thousand() {
    use std::fmt::Write;
    let app = TestApp::spawn().await;
    let mut csv = String::from("sku,name,category,unit,price\n");
    for i in 0..1_500 {
        writeln!(csv, "BAD-{i:04},Sand,Aggregates,t,cheap").unwrap();
    }
    let id = start_import(&app, &csv).await;
    let job = follow(&app, &id, Who::Staff).await;
    assert_eq!(job["status"], 422, "{job}");
    let report = &job["result"]["report"];
    assert_eq!(report["rejected"], 1_500);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1_000);
    let url = format!("/api/v1/jobs/{id}/bad-rows");
    assert_eq!(job["bad_rows"], url.as_str());

    let download = app.get(&url, Who::Staff).await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.text);
    assert!(
        download
            .header("content-type")
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = download.text.lines().collect();
    assert_eq!(lines.len(), 1_501, "a header and every bad row");
    assert_eq!(lines[0], "row,column,reason");
    assert!(lines[1_500].starts_with("1501,price,"), "{}", lines[1_500]);
    assert_eq!(
        app.get(&url, Who::StaffSession).await.status,
        StatusCode::NOT_FOUND
    );

    // A job that found no bad rows keeps no file.
    let clean = start_import(&app, &products(3)).await;
    let job = follow(&app, &clean, Who::Staff).await;
    assert!(job["bad_rows"].is_null(), "{job}");
    let none = app
        .get(&format!("/api/v1/jobs/{clean}/bad-rows"), Who::Staff)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

/// Regression (hardening, item 1): a job's bad-rows file repeated the file's
/// own cells (a header such as `=cmd`) as they were.
#[tokio::test]
async fn a_jobs_bad_rows_file_carries_no_spreadsheet_formulas() {
    let app = TestApp::spawn().await;
    let id = start_import(
        &app,
        "sku,name,category,unit,price,=cmd|' /C calc'!A0\nA-1,Sand,Aggregates,t,1,x\n",
    )
    .await;
    let job = follow(&app, &id, Who::Staff).await;
    assert_eq!(job["status"], 422, "{job}");
    let download = app
        .get(&format!("/api/v1/jobs/{id}/bad-rows"), Who::Staff)
        .await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.text);
    let mut reader = csv::Reader::from_reader(download.text.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[1], "'=cmd|' /C calc'!A0", "{}", download.text);
}
