//! Catalogue search at scale: a seeded generated catalogue (default 100,000
//! products over the yard's categories) and a seeded query mix (1–4 words,
//! typos, half-typed words, SKU fragments, category filters). Measures the
//! index build time and size, single-threaded search latency in the engine and
//! through the app (with each hit filled from the store), suggestion latency,
//! and how often the product a query was made from is in the top 3.
//!
//! `--catalogue hardware` uses the hardware catalogue instead
//! (`quarry::demo::hardware`: long, brand-led names with model numbers, many
//! near-duplicates, long descriptions full of frequent words), whose text has
//! the statistics of a real merchant's listings rather than the yard's short,
//! regular names. Relaxed queries (the mix's queries with one word no product
//! has, so no product matches every word) are timed separately.
//!
//! `cargo bench --bench search -- [--catalogue yard|hardware] [--products N]
//! [--queries N] [--keep DIR] [--summary FILE]` (`--keep` leaves the data dir
//! for `benches/search-http.sh`; `--summary` writes the figures as JSON for
//! `benches/compare/`).
//!
//! `--write DIR` only writes the catalogue and the query mix for the
//! comparisons in `benches/compare/` and exits: `products.jsonl` (one product
//! per line as the generator made it), `products.csv` (the same products in
//! `quarry import products` form) and `queries.json` (each query with its
//! kind, category filter and intended SKU), and the two relevance sets under
//! `relevance/yard` and `relevance/hardware`, each as `products.jsonl`,
//! `products.csv` and `queries.json` (each query with its kind and the SKUs
//! that are right answers).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use quarry::app::App;
use quarry::app::exports::{ExportKind, Format, export};
use quarry::app::search::SearchParams;
use quarry::config::Config;
use quarry::demo::{GeneratedQuery, generate, queries};
use quarry::domain::catalogue::ProductInput;
use quarry::search::query::{Synonyms, parse};
use quarry::search::{SearchIndex, SearchRequest};
use quarry::store::Store;
use serde_json::{Value, json};

fn arg<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|v| v.parse().ok())
}

/// Percent-encodes a query-string value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
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

fn request(query: &GeneratedQuery, synonyms: &Synonyms) -> SearchRequest {
    SearchRequest {
        query: parse(&query.text, synonyms).expect("generated queries parse"),
        category: query.category.as_ref().map(|c| c.to_lowercase()),
        limit: 20,
        ..SearchRequest::default()
    }
}

/// Through the app: parse, search, fill every hit from the store. Each query
/// once, so the answer cache does not flatter the figures.
fn app_pass(data_dir: &std::path::Path, mix: &[GeneratedQuery]) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = App::open(Config {
        data_dir: data_dir.to_owned(),
        ..Config::default()
    })
    .expect("app");
    let mut through_app = Vec::with_capacity(mix.len());
    runtime.block_on(async {
        for q in mix {
            let params = SearchParams {
                q: q.text.clone(),
                category: q.category.clone(),
                ..SearchParams::default()
            };
            let t = Instant::now();
            let _ = app.search(None, params).await.expect("search");
            through_app.push(t.elapsed());
        }
        app.close().await;
    });

    through_app
}

/// Writes the catalogue and the query mix as files (see the module docs),
/// and the relevance sets beside them.
fn write_data(dir: &Path, catalogue: &[Value], mix: &[GeneratedQuery]) {
    write_catalogue(dir, catalogue);
    std::fs::write(
        dir.join("queries.json"),
        serde_json::to_vec(mix).expect("json"),
    )
    .expect("queries written");
    println!(
        "wrote {} products and {} queries to {}",
        catalogue.len(),
        mix.len(),
        dir.display()
    );
    let yard: Vec<Value> = quarry::demo::BASE
        .iter()
        .map(quarry::demo::product_json)
        .collect();
    let hardware = quarry::demo::hardware::hardware(1, 1_000);
    let sets = [
        ("yard", yard.clone(), quarry::demo::relevance::yard_set()),
        (
            "hardware",
            hardware.clone(),
            quarry::demo::hardware::relevance_set(1, &hardware, 25),
        ),
    ];
    for (name, products, queries) in sets {
        let set = dir.join("relevance").join(name);
        write_catalogue(&set, &products);
        let queries: Vec<Value> = queries
            .iter()
            .map(|q| json!({"kind": q.kind, "text": q.text, "expected": q.expected}))
            .collect();
        std::fs::write(
            set.join("queries.json"),
            serde_json::to_vec(&queries).expect("json"),
        )
        .expect("relevance set written");
    }
}

/// `products.jsonl` and `products.csv` of `catalogue` in `dir`.
fn write_catalogue(dir: &Path, catalogue: &[Value]) {
    std::fs::create_dir_all(dir).expect("output dir");
    let mut lines = BufWriter::new(File::create(dir.join("products.jsonl")).expect("jsonl"));
    for product in catalogue {
        serde_json::to_writer(&mut lines, product).expect("json");
        lines.write_all(b"\n").expect("written");
    }
    lines.flush().expect("written");

    // The CSV comes from a store holding the products, so it is exactly
    // what `quarry export products` writes and `quarry import products` reads.
    let temp = tempfile::tempdir_in(dir).expect("temp dir");
    let store = Store::open(temp.path()).expect("store");
    load(&store, catalogue);
    let csv = BufWriter::new(File::create(dir.join("products.csv")).expect("csv"));
    let tx = store.read().expect("snapshot");
    let rows = export(
        &tx,
        ExportKind::Products,
        Format::Csv,
        quarry::domain::locale::DecimalMark::Dot,
        csv,
    )
    .expect("exported");
    assert_eq!(rows, catalogue.len() as u64, "every product exported");
}

fn load(store: &Store, catalogue: &[Value]) {
    let inputs = catalogue
        .iter()
        .map(|p| serde_json::from_value::<ProductInput>(p.clone()).expect("valid product"));
    quarry::app::catalogue::local::create_products(store, &Config::default().shop, inputs, 5_000)
        .expect("products stored");
}

/// Percentiles of `samples` in milliseconds, for the JSON summary.
fn figures(samples: &[Duration]) -> Value {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    json!({
        "count": sorted.len(),
        "p50_ms": percentile(&sorted, 0.5),
        "p99_ms": percentile(&sorted, 0.99),
        "max_ms": percentile(&sorted, 1.0),
    })
}

/// Latency and top-3 figures per query kind, for the JSON summary.
fn kinds_json(
    by_kind: &BTreeMap<&str, Vec<Duration>>,
    found: &BTreeMap<&str, (usize, usize)>,
) -> Value {
    by_kind
        .iter()
        .map(|(kind, samples)| {
            let (hit, all) = found[kind];
            let mut entry = figures(samples);
            entry["top3"] = json!(hit);
            entry["queries"] = json!(all);
            ((*kind).to_owned(), entry)
        })
        .collect::<serde_json::Map<String, Value>>()
        .into()
}

/// Leaves the query mix beside the kept data dir: as JSON and as request
/// paths for a load tool.
fn keep_files(dir: &Path, mix: &[GeneratedQuery]) {
    println!("data dir kept at {}", dir.display());
    std::fs::write(
        dir.join("queries.json"),
        serde_json::to_vec(mix).expect("json"),
    )
    .expect("queries written");
    // The same queries as request paths, for a load tool.
    let paths: String = mix
        .iter()
        .map(|q| {
            let mut path = format!("/api/v1/search?q={}", encode(&q.text));
            if let Some(c) = &q.category {
                path.push_str("&category=");
                path.push_str(&encode(c));
            }
            path.push('\n');
            path
        })
        .collect();
    std::fs::write(dir.join("paths.txt"), paths).expect("paths written");
}

/// A store holding `catalogue` and its index, with the time each took.
fn stored_and_indexed(
    data_dir: &Path,
    catalogue: &[Value],
) -> (Store, SearchIndex, Duration, Duration) {
    let started = Instant::now();
    let store = Store::open(data_dir).expect("store");
    load(&store, catalogue);
    let load = started.elapsed();
    let started = Instant::now();
    let index = SearchIndex::open(data_dir, &store).expect("index built");
    (store, index, load, started.elapsed())
}

/// The twenty slowest queries (each once, at its slowest), whether each was
/// relaxed: where a p99 comes from.
fn print_slowest(mut slowest: Vec<(Duration, &str, bool)>) {
    slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    println!("the slowest queries (where a p99 comes from):");
    let mut seen = std::collections::HashSet::new();
    for (took, text, relaxed) in slowest.iter().filter(|s| seen.insert(s.1)).take(20) {
        let how = if *relaxed { ", relaxed" } else { "" };
        println!("  {:.2} ms{how}: {text:?}", took.as_secs_f64() * 1e3);
    }
}

fn print_found(found: &BTreeMap<&str, (usize, usize)>) {
    println!("| query kind | intended product in top 3 |");
    println!("|---|---:|");
    for (kind, (hit, all)) in found {
        #[allow(clippy::cast_precision_loss)]
        let share = *hit as f64 * 100.0 / *all as f64;
        println!("| {kind} | {share:.0}% of {all} |");
    }
}

/// `products` products of the yard's or the hardware catalogue.
fn catalogue_of(kind: &str, products: usize) -> Vec<Value> {
    match kind {
        "yard" => generate(42, products),
        "hardware" => quarry::demo::hardware::hardware(42, products),
        other => panic!("--catalogue {other}: yard or hardware"),
    }
}

/// The first 1,000 queries of the mix with one word no product has, so no
/// product matches every word and each answer is relaxed: their latencies.
fn relaxed_pass(index: &SearchIndex, mix: &[GeneratedQuery], synonyms: &Synonyms) -> Vec<Duration> {
    let mut relaxed = Vec::with_capacity(mix.len().min(1_000));
    let mut were_relaxed = 0;
    for q in mix.iter().take(1_000) {
        let r = request(
            &GeneratedQuery {
                text: format!("{} xylophone", q.text),
                ..q.clone()
            },
            synonyms,
        );
        let t = Instant::now();
        let result = index.search(&r).expect("search");
        relaxed.push(t.elapsed());
        were_relaxed += usize::from(result.relaxed.is_some());
    }
    println!(
        "{were_relaxed} of {} queries with a word no product has were relaxed",
        relaxed.len()
    );
    relaxed
}

fn main() {
    let (products, count): (usize, usize) = (
        arg("--products").unwrap_or(100_000),
        arg("--queries").unwrap_or(2_000),
    );
    let (keep, summary): (Option<PathBuf>, Option<PathBuf>) = (arg("--keep"), arg("--summary"));
    let kind: String = arg("--catalogue").unwrap_or_else(|| "yard".to_owned());
    let catalogue = catalogue_of(&kind, products);
    let mix = queries(7, &catalogue, count);
    if let Some(dir) = arg::<PathBuf>("--write") {
        write_data(&dir, &catalogue, &mix);
        return;
    }
    let temp = tempfile::tempdir_in(std::env::current_dir().expect("cwd")).expect("temp dir");
    let data_dir = keep.clone().unwrap_or_else(|| temp.path().to_owned());

    let (store, index, load, build) = stored_and_indexed(&data_dir, &catalogue);
    println!("search: {products} products ({kind}), {count} queries");
    let (index_bytes, store_bytes) = (index.size_bytes(), store.file_size());
    println!(
        "store load {:.1} s; index build {:.1} s; index size {} MiB; store size {} MiB",
        load.as_secs_f64(),
        build.as_secs_f64(),
        index_bytes / 1_048_576,
        store_bytes / 1_048_576,
    );

    let synonyms = Synonyms::parse(&Config::default().search.synonyms).expect("synonyms");
    let requests: Vec<SearchRequest> = mix.iter().map(|q| request(q, &synonyms)).collect();
    // Warm the page cache and the readers with one full pass.
    for r in &requests {
        let _ = index.search(r);
    }
    let mut engine = Vec::with_capacity(count);
    let mut by_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut found: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut slowest: Vec<(Duration, &str, bool)> = Vec::new();
    for (q, r) in mix.iter().zip(&requests) {
        let t = Instant::now();
        let result = index.search(r).expect("search");
        engine.push(t.elapsed());
        by_kind.entry(q.kind).or_default().push(t.elapsed());
        slowest.push((t.elapsed(), q.text.as_str(), result.relaxed.is_some()));
        let top3 = result
            .hits
            .iter()
            .take(3)
            .any(|h| h.sku.as_str() == q.intended);
        let entry = found.entry(q.kind).or_default();
        entry.0 += usize::from(top3);
        entry.1 += 1;
    }
    print_slowest(slowest);
    let relaxed = relaxed_pass(&index, &mix, &synonyms);
    let suggest: Vec<Duration> = requests
        .iter()
        .map(|r| {
            let t = Instant::now();
            let _ = index.suggest(&r.query, 8).expect("suggest");
            t.elapsed()
        })
        .collect();
    drop(index);
    drop(store);

    let through_app = app_pass(&data_dir, &mix);

    if let Some(file) = summary {
        let value = json!({
            "products": products,
            "store_load_s": load.as_secs_f64(),
            "index_build_s": build.as_secs_f64(),
            "index_bytes": index_bytes,
            "store_bytes": store_bytes,
            "engine": figures(&engine),
            "app": figures(&through_app),
            "relaxed": figures(&relaxed),
            "suggest": figures(&suggest),
            "kinds": kinds_json(&by_kind, &found),
        });
        std::fs::write(&file, serde_json::to_vec_pretty(&value).expect("json"))
            .expect("summary written");
    }
    println!("| what | queries | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    report("search, engine only", engine);
    report(
        "search, through the app (hits filled from the store)",
        through_app,
    );
    report(
        "search, engine only, relaxed (queries of the mix and one word no product has)",
        relaxed,
    );
    report("suggest (8 completions)", suggest);
    for (kind, samples) in by_kind {
        report(&format!("search, engine only, {kind} queries"), samples);
    }
    print_found(&found);
    if let Some(dir) = keep {
        keep_files(&dir, &mix);
    }
}
