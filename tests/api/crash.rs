//! The crash test: the real `quarry serve` binary, 32 clients booking
//! movements, editing products and saving quotes, killed with SIGKILL at
//! random moments (every fifth time also during its start-up recovery) and
//! started again. After each restart: every movement that was acknowledged is
//! in the ledger exactly once, refused ones never, unanswered ones at most
//! once (and their retry with the same Idempotency-Key answers without booking
//! twice); levels equal the ledger's sums; `quarry check` passes on the file
//! the kill left; product edits are there and the search index and the event
//! stream catch up with them.
//!
//! `CRASH_CYCLES` sets the number of kills (default 20; docs/RELIABILITY.md
//! reports longer runs), `CRASH_SEED` the random seed (printed on failure).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const CLIENTS: usize = 32;
const PRODUCTS: usize = 8;
const LOCATIONS: [&str; 2] = ["YARD", "WH1"];

/// A small deterministic generator (xorshift), so a failing run can be repeated.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let n = u64::try_from(items.len()).unwrap();
        &items[usize::try_from(self.below(n)).unwrap()]
    }
}

/// What a client knows about one request it sent.
#[derive(Debug, Clone)]
enum Outcome {
    /// Answered 2xx: the movement's id.
    Acked(u64),
    /// Answered 4xx: must never be booked.
    Refused,
    /// No answer (the server died): retried after the restart, same key and body.
    Unknown(Value),
}

#[derive(Default)]
struct Ledger {
    /// Movement requests by their key (also their `reference`).
    movements: BTreeMap<String, Outcome>,
    /// Per product: the names that were acknowledged, in order, then those
    /// sent without an answer since.
    names: HashMap<String, (Option<String>, Vec<String>)>,
    /// Quote requests by key: the number when answered, else the body.
    quotes: BTreeMap<String, Result<String, Value>>,
}

/// `quarry serve` as a child process on a data dir, for killing (also the
/// webhook delivery kill test's).
pub struct Server {
    child: Child,
    /// Where its stderr goes (appended across starts), shown when it fails.
    pub log: PathBuf,
}

impl Server {
    fn start(dir: &Path, listen: &str) -> Self {
        Self::start_with(dir, listen, &[])
    }

    /// [`Server::start`] with settings given as environment variables.
    pub fn start_with(dir: &Path, listen: &str, envs: &[(&str, &str)]) -> Self {
        let log = dir.with_extension("log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_quarry"))
            .args([
                "serve",
                "--data-dir",
                dir.to_str().unwrap(),
                "--listen",
                listen,
            ])
            .env_remove("QUARRY_CONFIG")
            .env("QUARRY_LOG_LEVEL", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("quarry serve starts");
        Self { child, log }
    }

    /// Waits for `/readyz`; fails with the server's log if it exits or
    /// takes longer than a minute (the whole test suite shares two cores).
    pub async fn ready(&mut self, http: &reqwest::Client, base: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "quarry serve exited before it was ready ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "quarry serve did not become ready in 60 s:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    fn kill(self) {
        drop(self);
    }
}

/// A failed check must not leave a server running behind the test.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn quarry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .env_remove("QUARRY_CONFIG")
        .output()
        .unwrap()
}

pub fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(10))
    }

    async fn json(&self, path: &str) -> Value {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Every item of a cursor list.
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = match &cursor {
                Some(c) => self.json(&format!("{path}{sep}cursor={c}")).await,
                None => self.json(path).await,
            };
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// POSTs `body` with `key` as its Idempotency-Key.
    async fn post_keyed(&self, path: &str, key: &str, body: &Value) -> Answer {
        let sent = self
            .request(reqwest::Method::POST, path)
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                r.json::<Value>().await.map_or(Answer::None, Answer::Body)
            }
            Ok(r) if r.status().is_client_error() => Answer::Refused,
            _ => Answer::None,
        }
    }

    /// Books `body` with `key`: the outcome as the client sees it.
    async fn book(&self, key: &str, body: &Value) -> Outcome {
        match self.post_keyed("/api/v1/movements", key, body).await {
            Answer::Body(v) => Outcome::Acked(v["id"].as_u64().unwrap()),
            Answer::Refused => Outcome::Refused,
            Answer::None => Outcome::Unknown(body.clone()),
        }
    }
}

/// What a POST got back: its body (2xx), a refusal (4xx), or nothing
/// (the server died, or answered 5xx).
enum Answer {
    Body(Value),
    Refused,
    None,
}

fn movement(rng: &mut Rng, key: &str) -> Value {
    let sku = format!("P-{}", rng.below(PRODUCTS as u64));
    let location = *rng.pick(&LOCATIONS);
    // Mostly receipts; some shipments, large ones refused for want of stock.
    let (kind, quantity) = if rng.below(4) == 0 {
        ("ship", rng.below(60) + 1)
    } else {
        ("receive", rng.below(20) + 1)
    };
    json!({
        "kind": kind, "location": location, "reference": key,
        "lines": [{"sku": sku, "quantity": quantity.to_string()}],
    })
}

/// One client's work until `stop`: 80% movements, 10% renames, 10% quotes.
async fn work(
    id: usize,
    client: Arc<Client>,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let mut rng = Rng(seed ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let key = format!("c{id}-{seed}-{n}");
        match rng.below(10) {
            // Each of the first clients renames only its own product, so the
            // order of its acknowledgements is the order of the commits.
            0 if id < PRODUCTS => {
                let sku = format!("P-{id}");
                let name = format!("Product {sku} edit {key}");
                ledger
                    .lock()
                    .await
                    .names
                    .entry(sku.clone())
                    .or_default()
                    .1
                    .push(name.clone());
                let sent = client
                    .request(reqwest::Method::PATCH, &format!("/api/v1/products/{sku}"))
                    .json(&json!({"name": name}))
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    let mut ledger = ledger.lock().await;
                    let entry = ledger.names.entry(sku).or_default();
                    entry.0 = Some(name);
                    entry.1.clear();
                }
            }
            1 => {
                let body = json!({
                    "lines": [{"sku": format!("P-{}", rng.below(PRODUCTS as u64)), "quantity": "1"}],
                    "contact": {"name": "Crash Test", "email": "crash@example.com"},
                });
                let answer = quote(&client, &key, &body).await;
                ledger.lock().await.quotes.insert(key, answer);
            }
            _ => {
                let body = movement(&mut rng, &key);
                let outcome = client.book(&key, &body).await;
                ledger.lock().await.movements.insert(key, outcome);
            }
        }
    }
}

async fn quote(client: &Client, key: &str, body: &Value) -> Result<String, Value> {
    match client.post_keyed("/api/v1/quotes", key, body).await {
        Answer::Body(v) => Ok(v["number"].as_str().unwrap().to_owned()),
        // Refused: nothing to check later.
        Answer::Refused => Ok(String::new()),
        Answer::None => Err(body.clone()),
    }
}

/// Sends every unanswered request again with its key and body; each must
/// now be answered, and an answered one never books twice.
async fn retry_unanswered(client: &Client, ledger: &mut Ledger) {
    let pending: Vec<(String, Value)> = ledger
        .movements
        .iter()
        .filter_map(|(k, o)| match o {
            Outcome::Unknown(body) => Some((k.clone(), body.clone())),
            _ => None,
        })
        .collect();
    for (key, body) in pending {
        let outcome = client.book(&key, &body).await;
        assert!(
            !matches!(outcome, Outcome::Unknown(_)),
            "retry of {key} got no answer"
        );
        ledger.movements.insert(key, outcome);
    }
    let pending: Vec<(String, Value)> = ledger
        .quotes
        .iter()
        .filter_map(|(k, q)| q.as_ref().err().map(|b| (k.clone(), b.clone())))
        .collect();
    for (key, body) in pending {
        let answer = quote(client, &key, &body).await;
        assert!(answer.is_ok(), "retry of quote {key} got no answer");
        ledger.quotes.insert(key, answer);
    }
}

/// The checks after a restart (see the module's comment).
/// Answers the newest movement's `seq`: the next check's events start there.
async fn verify(client: &Client, ledger: &Ledger, cycle: usize, seed: u64, since: u64) -> u64 {
    let context = format!("cycle {cycle}, CRASH_SEED={seed}");
    let booked = client.all("/api/v1/movements?limit=500").await;
    let mut by_reference: HashMap<String, Vec<u64>> = HashMap::new();
    let mut sums: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for m in &booked {
        let reference = m["reference"].as_str().unwrap_or_default().to_owned();
        by_reference
            .entry(reference)
            .or_default()
            .push(m["id"].as_u64().unwrap());
        // Quotes may hold stock (reserve): that leaves on-hand alone.
        let sign = match m["kind"].as_str() {
            Some("receive") => Decimal::ONE,
            Some("ship") => -Decimal::ONE,
            _ => continue,
        };
        for line in m["lines"].as_array().unwrap() {
            let quantity: Decimal = line["quantity"].as_str().unwrap().parse().unwrap();
            *sums
                .entry((
                    line["sku"].as_str().unwrap().to_owned(),
                    m["location"].as_str().unwrap().to_owned(),
                ))
                .or_default() += sign * quantity;
        }
    }
    for (key, outcome) in &ledger.movements {
        let found = by_reference.get(key).map_or(&[][..], Vec::as_slice);
        match outcome {
            Outcome::Acked(id) => assert_eq!(
                found,
                [*id],
                "{context}: acknowledged {key} must be booked exactly once"
            ),
            Outcome::Refused => assert!(
                found.is_empty(),
                "{context}: refused {key} was booked: {found:?}"
            ),
            Outcome::Unknown(_) => assert!(
                found.len() <= 1,
                "{context}: unanswered {key} booked twice: {found:?}"
            ),
        }
    }
    for reference in by_reference.keys() {
        assert!(
            reference.starts_with("Q-") || ledger.movements.contains_key(reference),
            "{context}: a movement nobody sent: {reference}"
        );
    }
    // Levels equal the sums of the ledger.
    for row in client.all("/api/v1/stock?limit=1000").await {
        let key = (
            row["sku"].as_str().unwrap().to_owned(),
            row["location"].as_str().unwrap().to_owned(),
        );
        let on_hand: Decimal = row["on_hand"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            on_hand,
            sums.remove(&key).unwrap_or_default(),
            "{context}: level of {key:?}"
        );
    }
    assert!(
        sums.values().all(Decimal::is_zero),
        "{context}: ledger sums without a level: {sums:?}"
    );
    check_products(client, ledger, &context).await;
    for (key, quote) in &ledger.quotes {
        if let Ok(number) = quote.as_ref().map(String::as_str)
            && !number.is_empty()
        {
            let saved = client.json(&format!("/api/v1/quotes/{number}")).await;
            assert_eq!(saved["number"], *number, "{context}: quote {key}");
        }
    }
    events_cover(client, &booked, since, &context).await
}

/// Product edits: the last acknowledged name, or one sent after it without an
/// answer; the search index follows.
async fn check_products(client: &Client, ledger: &Ledger, context: &str) {
    for (sku, (acked, unanswered)) in &ledger.names {
        let product = client.json(&format!("/api/v1/products/{sku}")).await;
        let name = product["name"].as_str().unwrap();
        let before = format!("Product {sku}");
        let last = acked.as_deref().unwrap_or(&before);
        let allowed = name == last || unanswered.iter().any(|n| n == name);
        assert!(
            allowed,
            "{context}: {sku} is named {name:?}, acknowledged {acked:?}"
        );
        let mut indexed = false;
        for _ in 0..200 {
            let hits = client
                .json(&format!("/api/v1/search?q={sku}&limit=5"))
                .await;
            if hits["hits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["sku"] == *sku && h["name"] == name)
            {
                indexed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            indexed,
            "{context}: the search index never caught up with {sku}'s name {name:?}"
        );
    }
}

/// The event stream from `since` carries every movement booked after it, in
/// order; answers the newest movement's `seq`.
async fn events_cover(client: &Client, booked: &[Value], since: u64, context: &str) -> u64 {
    let seq = |m: &Value| m["seq"].as_u64().unwrap();
    let newest = booked.iter().map(seq).max().unwrap_or(since);
    let mut wanted: BTreeSet<u64> = booked
        .iter()
        .filter(|m| seq(m) > since)
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    let mut response = client
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/events?since={since}"),
        )
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    let mut last_id = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !wanted.is_empty() {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{context}: the event stream stopped short; missing {} movements",
                    wanted.len()
                )
            })
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                event
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::trim).map(str::to_owned))
            };
            if let Some(id) = field("id:").and_then(|i| i.parse::<u64>().ok()) {
                assert!(
                    id > last_id,
                    "{context}: event ids go back: {id} after {last_id}"
                );
                last_id = id;
            }
            if field("event:").as_deref() == Some("movement.booked") {
                let data: Value = serde_json::from_str(&field("data:").unwrap()).unwrap();
                wanted.remove(&data["id"].as_u64().unwrap());
            }
        }
    }
    newest
}

async fn seed_catalogue(client: &Client) {
    for code in LOCATIONS {
        let r = client
            .request(reqwest::Method::POST, "/api/v1/locations")
            .json(&json!({"code": code, "name": code}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success() || r.status() == StatusCode::CONFLICT);
    }
    for i in 0..PRODUCTS {
        let r = client
            .request(reqwest::Method::POST, "/api/v1/products")
            .json(&json!({"sku": format!("P-{i}"), "name": format!("Product P-{i}"), "category": "Crash", "unit": "kg", "price": "1.00"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success() || r.status() == StatusCode::CONFLICT);
    }
}

/// 32 clients work for `run_for`, then the server is killed under them.
async fn work_then_kill(
    server: Server,
    client: &Arc<Client>,
    ledger: &Arc<Mutex<Ledger>>,
    seed: u64,
    run_for: Duration,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| tokio::spawn(work(id, client.clone(), ledger.clone(), stop.clone(), seed)))
        .collect();
    tokio::time::sleep(run_for).await;
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_at_random_moments_quarry_keeps_every_acknowledged_movement_exactly_once() {
    let cycles: usize = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_millisecond().unsigned_abs() | 1);
    eprintln!("crash test: {cycles} cycles, CRASH_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    // The data dir inside the temporary one, so the log (`data.log`) sits beside it.
    let data_dir = dir.path().join("data");
    let data = data_dir.to_str().unwrap().to_owned();
    let made = quarry(&[
        "--data-dir",
        &data,
        "token",
        "create",
        "--name",
        "crash",
        "--role",
        "owner",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let listen = free_port();
    let client = Arc::new(Client {
        http: crate::helpers::http_client()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap(),
        base: format!("http://{listen}"),
        token,
    });
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = Rng(seed);
    let mut server = Server::start(&data_dir, &listen);
    server.ready(&client.http, &client.base).await;
    seed_catalogue(&client).await;
    let mut since = 0;

    for cycle in 1..=cycles {
        let work_seed = seed.wrapping_add(u64::try_from(cycle).unwrap());
        let run_for = Duration::from_millis(100 + rng.below(900));
        work_then_kill(server, &client, &ledger, work_seed, run_for).await;
        let check = quarry(&["--data-dir", &data, "check"]);
        assert!(
            check.status.success(),
            "cycle {cycle}, CRASH_SEED={seed}: quarry check after the kill: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        if cycle % 5 == 0 {
            // Killed again while it recovers and catches its index up.
            let starting = Server::start(&data_dir, &listen);
            tokio::time::sleep(Duration::from_millis(rng.below(150))).await;
            starting.kill();
        }
        server = Server::start(&data_dir, &listen);
        server.ready(&client.http, &client.base).await;
        let mut ledger = ledger.lock().await;
        retry_unanswered(&client, &mut ledger).await;
        since = verify(&client, &ledger, cycle, seed, since).await;
        if cycle % 10 == 0 {
            eprintln!("crash test: {cycle} kills so far, every check passed");
        }
    }
    server.kill();
    let ledger = ledger.lock().await;
    let acked = ledger
        .movements
        .values()
        .filter(|o| matches!(o, Outcome::Acked(_)))
        .count();
    let refused = ledger
        .movements
        .values()
        .filter(|o| matches!(o, Outcome::Refused))
        .count();
    eprintln!(
        "crash test: {cycles} kills, {acked} movements acknowledged, {refused} refused, {} quotes, all accounted for",
        ledger.quotes.len()
    );
    assert!(
        acked > cycles,
        "the clients booked too little to prove anything: {acked}"
    );
}
