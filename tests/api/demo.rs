//! `quarry demo`: the real executable makes its shop, serves search,
//! estimates, sign-in and the UI, and cleans up after itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

/// The running demo and what it printed.
struct Demo {
    child: Child,
    url: String,
    owner: (String, String),
    data: String,
}

/// `quarry demo --listen ADDR` with the environment every demo test wants.
fn demo_command(listen: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command
        .args(["demo", "--listen", listen])
        .env_remove("QUARRY_CONFIG")
        .env("QUARRY_LOG_LEVEL", "warn");
    command
}

fn start_demo(extra: &[&str]) -> Demo {
    let mut child = demo_command("127.0.0.1:0")
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut owner, mut data) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Quarry demo: ") {
            url = Some(rest.to_owned());
        } else if let Some(rest) = line.strip_prefix("owner login: ") {
            let (name, password) = rest.split_once(" / ").unwrap();
            owner = Some((name.to_owned(), password.to_owned()));
        } else if let Some(rest) = line.strip_prefix("data: ") {
            data = Some(rest.split(" (").next().unwrap().to_owned());
        } else if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    // Keep draining so the demo never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Demo {
        child,
        url: url.expect("the demo prints its address"),
        owner: owner.expect("the demo prints the owner's login"),
        data: data.expect("the demo prints its data dir"),
    }
}

fn stop(mut demo: Demo) -> std::process::ExitStatus {
    let pid = demo.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    for _ in 0..200 {
        if let Some(status) = demo.child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    demo.child.kill().unwrap();
    panic!("the demo did not stop within 10 s of SIGTERM");
}

/// Stops the demo with SIGTERM (off the async threads) and expects a clean
/// exit.
async fn stop_cleanly(demo: Demo) {
    let status = tokio::task::spawn_blocking(move || stop(demo))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}

fn assert_removed(data: &str) {
    assert!(
        !std::path::Path::new(data).exists(),
        "the temporary data dir {data} was left behind"
    );
}

/// The session cookie a sign-in set, as a request sends it back.
fn session_cookie(signed_in: &reqwest::Response) -> String {
    let set = signed_in.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// The demo's two trade customers with price lists; the first one's takes
/// at least 5% off every aggregate.
async fn trade_customers_are_there(client: &reqwest::Client, url: &str, cookie: &str) {
    // Two trade customers with price lists; the first one's takes at least
    // 5% off every aggregate (7%: 4.8 t × 35.34 = 169.632 → 169.63).
    let customers: Value = client
        .get(format!("{url}/api/v1/customers"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lists: Vec<&str> = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["price_list"].as_str())
        .collect();
    assert_eq!(lists, ["TRADE-B", "TRADE-A"], "{customers}");
    let preview: Value = client
        .get(format!(
            "{url}/api/v1/price-lists/TRADE-A/preview?sku=SAND-04&quantity=3&unit=m3"
        ))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(preview["line"]["net"], "169.63", "{preview}");
    assert_eq!(
        preview["line"]["list_price"]["rule"],
        "Trade list A: 7% off Aggregates"
    );
}

#[tokio::test]
async fn the_demo_serves_a_realistic_shop_and_removes_its_data_on_exit() {
    let demo = tokio::task::spawn_blocking(|| start_demo(&[]))
        .await
        .unwrap();
    let client = crate::helpers::http_client().build().unwrap();
    let url = demo.url.clone();

    let page = client.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<html"));

    // Search, with a typo, finds washed sand.
    let found: Value = client
        .get(format!("{url}/api/v1/search?q=wahsed%20sand"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let skus: Vec<&str> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["sku"].as_str())
        .collect();
    assert!(skus.contains(&"SAND-04"), "{found}");

    // 3 m³ of washed sand is priced by the tonne.
    let estimate: Value = client
        .post(format!("{url}/api/v1/quote/estimate"))
        .json(&json!({"lines": [{"sku": "SAND-04", "quantity": "3", "unit": "m3"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let line = &estimate["lines"][0];
    assert!(
        line.to_string().contains("4.8"),
        "3 m³ at 1600 kg/m³ is 4.8 t: {estimate}"
    );
    // 4.8 t × 38.00 = 182.40 net, and 20 % tax: 218.88.
    assert_eq!(estimate["totals"]["net"], "182.40", "{estimate}");
    assert_eq!(estimate["totals"]["gross"], "218.88", "{estimate}");

    // The printed owner login works; the catalogue is a real yard's.
    let signed_in = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": demo.owner.0, "password": demo.owner.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = session_cookie(&signed_in);
    let me: Value = signed_in.json().await.unwrap();
    assert!(me.to_string().contains(&demo.owner.0), "{me}");
    let products: Value = client
        .get(format!("{url}/api/v1/products?limit=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(products["items"].as_array().unwrap().len() >= 300);
    let categories: std::collections::BTreeSet<&str> = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["category"].as_str()?.split('/').next())
        .collect();
    assert!(categories.len() >= 8, "{categories:?}");
    trade_customers_are_there(&client, &url, &cookie).await;
    // Every product has a photo, drawn by the demo, served as a JPEG.
    let items = products["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|p| p["images"].as_array().is_some_and(|i| i.len() == 1))
    );
    let thumbs: std::collections::BTreeSet<&str> = items
        .iter()
        .map(|p| p["images"][0]["thumb_url"].as_str().unwrap())
        .collect();
    assert!(thumbs.len() >= 8, "a drawing per category: {thumbs:?}");
    let photo = client
        .get(format!(
            "{url}{}",
            items[0]["images"][0]["url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    let photo = image::load_from_memory(&photo.bytes().await.unwrap()).unwrap();
    assert_eq!(
        u64::from(photo.width()),
        items[0]["images"][0]["width"].as_u64().unwrap()
    );

    let data = demo.data.clone();
    assert!(std::path::Path::new(&data).exists());
    stop_cleanly(demo).await;
    assert_removed(&data);
}

#[tokio::test]
async fn the_demo_keeps_its_data_with_keep_and_carries_on_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("shop");
    let keep_arg = keep.to_str().unwrap().to_owned();
    let arg = keep_arg.clone();
    let demo = tokio::task::spawn_blocking(move || start_demo(&["--keep", &arg]))
        .await
        .unwrap();
    let first = demo.url.clone();
    let product = |url: String| async move {
        let client = crate::helpers::http_client().build().unwrap();
        client
            .get(format!("{url}/api/v1/products/SAND-04"))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(product(first).await, StatusCode::OK);
    stop_cleanly(demo).await;
    assert!(keep.join("quarry.redb").exists(), "kept");
    let report = quarry::store::check(&keep).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let movements = report.movements;
    assert!(movements > 400, "90 days of history: {movements}");
    assert!(report.products >= 300);
    assert_eq!(report.locations, 3);

    let demo = tokio::task::spawn_blocking(move || start_demo(&["--keep", &keep_arg]))
        .await
        .unwrap();
    assert_eq!(product(demo.url.clone()).await, StatusCode::OK);
    stop_cleanly(demo).await;
    let again = quarry::store::check(&dir.path().join("shop")).unwrap();
    assert_eq!(again.movements, movements, "nothing was seeded twice");
}

#[tokio::test]
async fn a_demo_whose_output_is_closed_keeps_serving_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("shop");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    // As `quarry demo | head -3` leaves it: nobody reads what it prints.
    let mut child = demo_command(&format!("127.0.0.1:{port}"))
        .arg("--keep")
        .arg(&keep)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let client = crate::helpers::http_client().build().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("{url}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the demo ended when its output was closed"
        );
        assert!(tokio::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let product = client
        .get(format!("{url}/api/v1/products/SAND-04"))
        .send()
        .await
        .unwrap();
    assert_eq!(product.status(), StatusCode::OK);
    let demo = Demo {
        child,
        url,
        owner: (String::new(), String::new()),
        data: keep.display().to_string(),
    };
    stop_cleanly(demo).await;
}

#[tokio::test]
async fn a_demo_stopped_while_it_makes_its_shop_still_ends_cleanly_and_leaves_nothing() {
    let mut child = demo_command("127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let data = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().unwrap().unwrap();
        std::thread::spawn(move || for _ in lines {});
        first
            .strip_prefix("making the demo shop in ")
            .and_then(|rest| rest.strip_suffix(" …"))
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned()
    })
    .await
    .unwrap();
    // The shop is being made now.
    let demo = Demo {
        child,
        url: String::new(),
        owner: (String::new(), String::new()),
        data: data.clone(),
    };
    stop_cleanly(demo).await;
    assert_removed(&data);
}
