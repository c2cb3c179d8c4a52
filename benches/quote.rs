//! Estimates and saved quotes: server-side latency of pricing 1 and 20 lines
//! (conversions, pack rounding, tiers, tax, availability) through the app, each
//! request new (cache misses) and repeated (cache hits); and saved quotes per
//! second with 1 and 16 concurrent customers (durable commits).
//!
//! Scale: the generated catalogue (5,000 products) with stock at three
//! locations. `cargo bench --bench quote`.

use std::time::{Duration, Instant};

use quarry::app::App;
use quarry::app::quotes::{LineRequest, QuoteRequest};
use quarry::config::Config;
use quarry::demo::{Rng, generate};
use quarry::domain::catalogue::ProductInput;
use quarry::domain::units::Quantity;
use quarry::domain::values::Sku;
use quarry::store::Store;

const PRODUCTS: usize = 5_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    println!(
        "| {what} | {} | {:.3} ms | {:.3} ms | {:.3} ms |",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0)
    );
}

/// `n` random lines; products stocked in pieces (`whole`) get whole pieces.
fn lines(rng: &mut Rng, skus: &[(Sku, bool)], n: usize) -> Vec<LineRequest> {
    (0..n)
        .map(|_| {
            let (sku, whole) = &skus[rng.below(skus.len())];
            let (units, tenths) = (1 + rng.below(40), rng.below(10));
            let quantity = if *whole {
                units.to_string()
            } else {
                format!("{units}.{tenths}")
            };
            LineRequest {
                sku: sku.clone(),
                quantity: Quantity::parse(&quantity).expect("valid"),
                unit: None,
            }
        })
        .collect()
}

/// Saved quotes per second with 1 and 16 concurrent customers.
async fn saved_quotes(app: &App, skus: &[(Sku, bool)]) {
    println!("| saved quotes | customers | quotes/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for customers in [1_u64, 16] {
        let started = Instant::now();
        let tasks: Vec<_> = (0..customers)
            .map(|c| {
                let app = app.clone();
                let skus = skus.to_vec();
                tokio::spawn(async move {
                    let mut rng = Rng::new(100 + c);
                    let mut latencies = Vec::new();
                    for _ in 0..(400 / customers) {
                        let request: QuoteRequest = serde_json::from_value(serde_json::json!({
                            "lines": lines(&mut rng, &skus, 5).iter().map(|l| serde_json::json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
                            "contact": {"name": "Bench", "email": "bench@example.com"},
                        }))
                        .expect("valid");
                        let t = Instant::now();
                        app.create_quote(None, request, None, None).await.expect("quote");
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.expect("task"));
        }
        let elapsed = started.elapsed();
        latencies.sort_unstable();
        #[allow(clippy::cast_precision_loss)]
        let rate = latencies.len() as f64 / elapsed.as_secs_f64();
        println!(
            "| 5 lines each | {customers} | {rate:.0} | {:.2} ms | {:.2} ms |",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
    }
}

fn main() {
    let dir = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("temp dir");
    let config = Config {
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    let catalogue = generate(3, PRODUCTS);
    {
        let store = Store::open(dir.path()).expect("store");
        let inputs = catalogue
            .iter()
            .map(|p| serde_json::from_value::<ProductInput>(p.clone()).expect("valid product"));
        quarry::app::catalogue::local::create_products(&store, &config.shop, inputs, 5_000)
            .expect("products");
    }
    let skus: Vec<(Sku, bool)> = catalogue
        .iter()
        .map(|p| {
            let sku = Sku::parse(p["sku"].as_str().expect("sku")).expect("valid");
            (sku, p["unit"] == "pc")
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = App::open(config).expect("app");
    runtime.block_on(async {
        let staff = quarry::app::Principal::new(
            quarry::domain::accounts::Role::Staff,
            quarry::domain::accounts::Actor::cli(),
        );
        for code in ["YARD", "WH1", "WH2"] {
            let input = serde_json::from_value(serde_json::json!({"code": code, "name": code}))
                .expect("valid");
            app.create_location(&staff, input).await.expect("location");
        }
        for chunk in skus.chunks(200) {
            let lines: Vec<serde_json::Value> = chunk
                .iter()
                .map(|(s, _)| serde_json::json!({"sku": s, "quantity": "500"}))
                .collect();
            for code in ["YARD", "WH1"] {
                let receipt = serde_json::from_value(
                    serde_json::json!({"kind": "receive", "location": code, "lines": lines}),
                )
                .expect("valid");
                app.book_movement(&staff, receipt, None)
                    .await
                    .expect("receipt");
            }
        }

        let mut rng = Rng::new(11);
        println!("quote: {PRODUCTS} products in the catalogue");
        println!("| what | requests | p50 | p99 | max |");
        println!("|---|---:|---:|---:|---:|");
        for size in [1, 20] {
            let requests: Vec<Vec<LineRequest>> =
                (0..2_000).map(|_| lines(&mut rng, &skus, size)).collect();
            let mut fresh = Vec::with_capacity(requests.len());
            for request in &requests {
                let t = Instant::now();
                app.estimate(None, request.clone(), None, None)
                    .await
                    .expect("estimate");
                fresh.push(t.elapsed());
            }
            report(&format!("estimate, {size} line(s), new request"), fresh);
            let mut repeated = Vec::with_capacity(requests.len());
            for request in &requests {
                let t = Instant::now();
                app.estimate(None, request.clone(), None, None)
                    .await
                    .expect("estimate");
                repeated.push(t.elapsed());
            }
            report(
                &format!("estimate, {size} line(s), repeated (cached)"),
                repeated,
            );
        }

        saved_quotes(&app, &skus).await;
        app.close().await;
    });
}
