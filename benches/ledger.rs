//! Stock-ledger write throughput through the real writer, on a real redb file
//! with durable commits: movements per second and movements per commit with 1,
//! 16 and 64 concurrent writers, and each booking's latency (submit → durable).
//!
//! Scale: 100 products, 3 locations, seeded random receive / ship / transfer /
//! reserve / release movements of one line. Run with `cargo bench --bench ledger`
//! (`-- --secs N` to change the time per level, default 5).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use quarry::app::idempotency::Answer;
use quarry::app::{App, Principal};
use quarry::config::Config;
use quarry::domain::accounts::{Actor, Role, TokenName};
use quarry::domain::ledger::MovementInput;
use serde_json::json;

const PRODUCTS: usize = 100;
const LOCATIONS: [&str; 3] = ["YARD", "WH1", "WH2"];

/// xorshift: fast, seeded, good enough to pick movements.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).expect("small")
    }
}

fn principal() -> Principal {
    Principal::new(
        Role::Staff,
        Actor::token(&TokenName::parse("bench").expect("valid")),
    )
}

async fn setup(dir: &std::path::Path) -> App {
    let app = App::open(Config {
        data_dir: dir.to_owned(),
        ..Config::default()
    })
    .expect("store opens");
    let who = principal();
    for code in LOCATIONS {
        let input = serde_json::from_value(json!({"code": code, "name": code})).expect("valid");
        app.create_location(&who, input).await.expect("location");
    }
    for i in 0..PRODUCTS {
        let input = serde_json::from_value(json!({
            "sku": format!("P-{i:04}"), "name": format!("Product {i}"),
            "category": "Bench", "unit": "kg", "price": "1.50",
        }))
        .expect("valid");
        app.create_product(&who, input).await.expect("product");
        for code in LOCATIONS {
            let receipt = serde_json::from_value(json!({
                "kind": "receive", "location": code,
                "lines": [{"sku": format!("P-{i:04}"), "quantity": "1000000"}],
            }))
            .expect("valid");
            app.book_movement(&who, receipt, None)
                .await
                .expect("receipt");
        }
    }
    app
}

fn random_movement(rng: &mut Rng) -> MovementInput {
    let sku = format!("P-{:04}", rng.below(PRODUCTS));
    let at = LOCATIONS[rng.below(LOCATIONS.len())];
    let quantity = format!("{}.{}", rng.below(20) + 1, rng.below(100));
    let body = match rng.below(5) {
        0 => {
            json!({"kind": "receive", "location": at, "lines": [{"sku": sku, "quantity": quantity}]})
        }
        1 => json!({"kind": "ship", "location": at, "lines": [{"sku": sku, "quantity": quantity}]}),
        2 => json!({"kind": "reserve", "location": at, "lines": [{"sku": sku, "quantity": "0.5"}]}),
        3 => {
            json!({"kind": "release", "location": at, "lines": [{"sku": sku, "quantity": "0.25"}]})
        }
        _ => {
            let to = LOCATIONS[(LOCATIONS.iter().position(|l| *l == at).expect("known") + 1) % 3];
            json!({"kind": "transfer", "from": at, "to": to, "lines": [{"sku": sku, "quantity": quantity}]})
        }
    };
    serde_json::from_value(body).expect("valid movement")
}

struct Run {
    writers: usize,
    booked: u64,
    refused: u64,
    commits: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

async fn run(app: &App, writers: usize, secs: u64) -> Run {
    let stats = app.writer().stats();
    let commits_before = stats.commits.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let app = app.clone();
            tokio::spawn(async move {
                let who = principal();
                let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (w as u64 + 1));
                let (mut booked, mut refused, mut latencies) = (0u64, 0u64, Vec::new());
                while Instant::now() < deadline {
                    let movement = random_movement(&mut rng);
                    let t = Instant::now();
                    match app.book_movement(&who, movement, None).await {
                        Ok(Answer::Fresh(_) | Answer::Replayed { .. }) => booked += 1,
                        Err(_) => refused += 1,
                    }
                    latencies.push(t.elapsed());
                }
                (booked, refused, latencies)
            })
        })
        .collect();
    let mut result = Run {
        writers,
        booked: 0,
        refused: 0,
        commits: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        let (booked, refused, latencies) = task.await.expect("writer task");
        result.booked += booked;
        result.refused += refused;
        result.latencies.extend(latencies);
    }
    result.elapsed = started.elapsed();
    result.commits = stats.commits.load(Ordering::Relaxed) - commits_before;
    result.latencies.sort_unstable();
    result
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let secs = std::env::args()
        .skip_while(|a| a != "--secs")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("temp dir");
    runtime.block_on(async {
        let app = setup(dir.path()).await;
        println!(
            "ledger: durable movements through the writer ({secs} s per level, {PRODUCTS} products, {} locations)",
            LOCATIONS.len()
        );
        println!(
            "| writers | movements/s | movements/commit | p50 latency | p99 latency | refused |"
        );
        println!("|---:|---:|---:|---:|---:|---:|");
        for writers in [1, 16, 64] {
            let r = run(&app, writers, secs).await;
            #[allow(clippy::cast_precision_loss)]
            let per_second = r.booked as f64 / r.elapsed.as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let per_commit = (r.booked + r.refused) as f64 / r.commits.max(1) as f64;
            println!(
                "| {} | {:.0} | {:.1} | {:.2} ms | {:.2} ms | {} |",
                r.writers,
                per_second,
                per_commit,
                percentile(&r.latencies, 0.50).as_secs_f64() * 1e3,
                percentile(&r.latencies, 0.99).as_secs_f64() * 1e3,
                r.refused,
            );
        }
        app.close().await;
    });
}
