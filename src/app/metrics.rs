//! What Quarry measures about itself, in the Prometheus (`OpenMetrics`) text
//! format: requests, latencies, cache use, live clients, and values sampled
//! when scraped (database and index size, group commits, uptime).
//!
//! The HTTP layer records requests through [`Metrics::http_request`]; use cases
//! record their own latencies and cache lookups; [`App::render_metrics`] reads
//! the store, the index and the writer and encodes everything.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeLabelSet, EncodeMetric as _, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::{App, AppError};
use crate::store::{CHECKPOINT_BUCKETS, GROUP_SIZE_BUCKETS, WriterStats};

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Buckets of HTTP request durations, in seconds.
const HTTP_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Buckets of search and estimate durations, in seconds: mostly well under a
/// millisecond from the cache, a few milliseconds otherwise.
const USE_CASE_BUCKETS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// One kind of HTTP request: its method and the route it matched (the route's
/// template, never the raw path, so the number of series stays bounded).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    method: &'static str,
    route: String,
    status: u16,
}

/// What was searched: the catalogue, or suggestions as one types.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum SearchKind {
    Search,
    Suggest,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Searched {
    kind: &'static str,
}

/// The in-memory caches whose hits and misses are counted.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum CacheName {
    Search,
    /// The engine's matches for a search, kept while the index is unchanged.
    SearchMatches,
    Suggest,
    Estimate,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Attempted {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Cached {
    cache: &'static str,
}

impl CacheName {
    fn label(self) -> Cached {
        Cached {
            cache: match self {
                Self::Search => "search",
                Self::SearchMatches => "search_matches",
                Self::Suggest => "suggest",
                Self::Estimate => "estimate",
            },
        }
    }
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

fn use_case_histogram() -> Histogram {
    Histogram::new(USE_CASE_BUCKETS)
}

/// The method as a label: the standard ones by name, anything else as
/// `other` (a client must not be able to add series at will).
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The registry and the metrics recorded as things happen.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<Answered, Counter>,
    http_durations: Histograms<Route>,
    search_durations: Histograms<Searched>,
    estimate_durations: Histogram,
    cache_hits: Family<Cached, Counter>,
    cache_misses: Family<Cached, Counter>,
    sse_clients: Gauge,
    webhook_attempts: Family<Attempted, Counter>,
    mail_attempts: Family<Attempted, Counter>,
    sampled: Arc<Sampled>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<Answered, Counter>::default();
        registry.register(
            "quarry_http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_durations = Histograms::<Route>::new_with_constructor(http_histogram);
        registry.register_with_unit(
            "quarry_http_request_duration",
            "Time to answer an HTTP request (until the response head), by method and route template",
            Unit::Seconds,
            http_durations.clone(),
        );
        let search_durations = Histograms::<Searched>::new_with_constructor(use_case_histogram);
        registry.register_with_unit(
            "quarry_search_duration",
            "Time to answer a catalogue search or a suggestion, cache hits included",
            Unit::Seconds,
            search_durations.clone(),
        );
        let estimate_durations = use_case_histogram();
        registry.register_with_unit(
            "quarry_estimate_duration",
            "Time to price an estimate, cache hits included",
            Unit::Seconds,
            estimate_durations.clone(),
        );
        let cache_hits = Family::<Cached, Counter>::default();
        registry.register(
            "quarry_cache_hits",
            "Answers served from an in-memory cache, by cache",
            cache_hits.clone(),
        );
        let cache_misses = Family::<Cached, Counter>::default();
        registry.register(
            "quarry_cache_misses",
            "Answers that had to be computed, by cache",
            cache_misses.clone(),
        );
        // Every cache's series exist from the start, so a hit ratio can be
        // computed before the first hit.
        for cache in [
            CacheName::Search,
            CacheName::SearchMatches,
            CacheName::Suggest,
            CacheName::Estimate,
        ] {
            let _ = cache_hits.get_or_create(&cache.label());
            let _ = cache_misses.get_or_create(&cache.label());
        }
        let sse_clients = Gauge::default();
        registry.register(
            "quarry_sse_clients",
            "Clients following live events (/api/v1/events) now",
            sse_clients.clone(),
        );
        let webhook_attempts = Family::<Attempted, Counter>::default();
        registry.register(
            "quarry_webhook_attempts",
            "Webhook messages sent, by outcome (delivered: the receiver answered 2xx)",
            webhook_attempts.clone(),
        );
        for outcome in ["delivered", "failed"] {
            let _ = webhook_attempts.get_or_create(&Attempted { outcome });
        }
        let mail_attempts = Family::<Attempted, Counter>::default();
        registry.register(
            "quarry_mail_attempts",
            "Attempts to hand a message of the mail outbox to the SMTP server, by outcome (sent; retrying: refused or unreachable for now; failed: given up)",
            mail_attempts.clone(),
        );
        for outcome in ["sent", "retrying", "failed"] {
            let _ = mail_attempts.get_or_create(&Attempted { outcome });
        }
        let sampled = Arc::new(Sampled {
            started: Instant::now(),
            sample: Mutex::default(),
        });
        registry.register_collector(Box::new(sampled.clone()));
        Self {
            registry,
            http_requests,
            http_durations,
            search_durations,
            estimate_durations,
            cache_hits,
            cache_misses,
            sse_clients,
            webhook_attempts,
            mail_attempts,
            sampled,
        }
    }

    /// Records an answered HTTP request. `route` is the matched route's
    /// template (`/api/v1/products/{sku}`), or `None` when no route matched.
    pub fn http_request(&self, method: &str, route: Option<&str>, status: u16, took: Duration) {
        let method = method_label(method);
        let route = route.unwrap_or("unmatched").to_owned();
        self.http_durations
            .get_or_create(&Route {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.http_requests
            .get_or_create(&Answered {
                method,
                route,
                status,
            })
            .inc();
    }

    pub fn searched(&self, kind: SearchKind, took: Duration) {
        let kind = match kind {
            SearchKind::Search => "search",
            SearchKind::Suggest => "suggest",
        };
        self.search_durations
            .get_or_create(&Searched { kind })
            .observe(took.as_secs_f64());
    }

    pub fn estimated(&self, took: Duration) {
        self.estimate_durations.observe(took.as_secs_f64());
    }

    /// Counts a cache lookup: a hit, or a miss.
    pub fn cache_lookup(&self, cache: CacheName, hit: bool) {
        let counters = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counters.get_or_create(&cache.label()).inc();
    }

    /// Counts one attempt to deliver a webhook message.
    pub fn webhook_attempt(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.webhook_attempts
            .get_or_create(&Attempted { outcome })
            .inc();
    }

    /// Counts one attempt to send a message of the mail outbox: `sent`,
    /// `retrying` or `failed`.
    pub fn mail_attempt(&self, outcome: &'static str) {
        self.mail_attempts
            .get_or_create(&Attempted { outcome })
            .inc();
    }

    /// Counts a client following live events until the returned guard is
    /// dropped (when the stream ends or the client goes away).
    pub fn sse_client(&self) -> SseClient {
        self.sse_clients.inc();
        SseClient(self.sse_clients.clone())
    }

    /// Encodes every metric, with `sample` as the values read at scrape time.
    pub fn render(&self, sample: Sample) -> String {
        *self.sampled.sample.lock().expect("metrics sample lock") = sample;
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("encoding into a String cannot fail");
        out
    }
}

/// A client following live events; dropping it counts it out.
#[derive(Debug)]
pub struct SseClient(Gauge);

impl Drop for SseClient {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Values read when scraped, from the store, the index and the writer.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub database_bytes: u64,
    pub index_bytes: u64,
    /// The newest change-log `seq` committed, and the one the index reflects.
    pub committed_seq: u64,
    pub index_seq: u64,
    pub commits: u64,
    pub failed_commits: u64,
    pub movements: u64,
    /// Requests in committed groups, and the groups by size (see
    /// [`WriterStats::group_sizes`]).
    pub committed_requests: u64,
    pub group_sizes: [u64; GROUP_SIZE_BUCKETS.len() + 1],
    /// Checkpoints of the journal: how many, their total time in
    /// microseconds and their count by duration (see
    /// [`WriterStats::checkpoint_times`]).
    pub checkpoints: u64,
    pub checkpoint_micros: u64,
    pub checkpoint_times: [u64; CHECKPOINT_BUCKETS.len() + 1],
    /// Imports and backups running as jobs.
    pub jobs_running: u64,
    /// Webhook endpoints whose retries ran out, and those retrying now.
    pub webhooks_failing: u64,
    pub webhooks_retrying: u64,
    /// The most change-log entries any enabled endpoint is behind.
    pub webhook_backlog: u64,
    /// Messages in the mail outbox waiting to be sent.
    pub mail_queued: u64,
}

impl Sample {
    fn read_writer(&mut self, stats: &WriterStats) {
        let load = |n: &std::sync::atomic::AtomicU64| n.load(Ordering::Relaxed);
        self.commits = load(&stats.commits);
        self.failed_commits = load(&stats.failed_commits);
        self.movements = load(&stats.movements);
        self.committed_requests = load(&stats.committed_requests);
        for (into, from) in self.group_sizes.iter_mut().zip(&stats.group_sizes) {
            *into = load(from);
        }
        self.checkpoints = load(&stats.checkpoints);
        self.checkpoint_micros = load(&stats.checkpoint_micros);
        for (into, from) in self
            .checkpoint_times
            .iter_mut()
            .zip(&stats.checkpoint_times)
        {
            *into = load(from);
        }
    }
}

/// The collector of the values sampled at scrape time, and uptime.
#[derive(Debug)]
struct Sampled {
    started: Instant,
    sample: Mutex<Sample>,
}

fn gauge<N: EncodeGaugeValue + std::fmt::Debug + Send + Sync + 'static>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: N,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, unit, metric.metric_type())?)
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for Sampled {
    #[expect(
        clippy::too_many_lines,
        reason = "one call per metric, in the order they are listed"
    )]
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = self.sample.lock().expect("metrics sample lock").clone();
        #[expect(
            clippy::cast_precision_loss,
            reason = "sizes and counts far below 2^53 are exact in f64"
        )]
        let exact = |n: u64| n as f64;
        let e = &mut encoder;
        gauge(
            e,
            "quarry_uptime",
            "Time since this server started.",
            Some(&Unit::Seconds),
            self.started.elapsed().as_secs_f64(),
        )?;
        gauge(
            e,
            "quarry_database_size",
            "Size of the database file.",
            Some(&Unit::Bytes),
            sample.database_bytes,
        )?;
        gauge(
            e,
            "quarry_search_index_size",
            "Size of the search index on disk.",
            Some(&Unit::Bytes),
            sample.index_bytes,
        )?;
        gauge(
            e,
            "quarry_change_log_seq",
            "The newest committed change-log seq.",
            None,
            sample.committed_seq,
        )?;
        gauge(
            e,
            "quarry_search_index_seq",
            "The change-log seq the search index reflects (it follows the change log).",
            None,
            sample.index_seq,
        )?;
        gauge(
            e,
            "quarry_jobs_running",
            "Imports and backups running as jobs now.",
            None,
            sample.jobs_running,
        )?;
        gauge(
            e,
            "quarry_webhooks_failing",
            "Webhook endpoints whose retries ran out: nothing is sent to them until the owner resumes them.",
            None,
            sample.webhooks_failing,
        )?;
        gauge(
            e,
            "quarry_webhooks_retrying",
            "Webhook endpoints whose last attempt failed and that are retrying.",
            None,
            sample.webhooks_retrying,
        )?;
        gauge(
            e,
            "quarry_webhook_backlog",
            "The most change-log entries an enabled webhook endpoint is behind.",
            None,
            sample.webhook_backlog,
        )?;
        gauge(
            e,
            "quarry_mail_queued",
            "Messages in the mail outbox waiting to be sent (or retried).",
            None,
            sample.mail_queued,
        )?;
        counter(
            e,
            "quarry_store_commits",
            "Commits of the store by the writer (each durable before its requests are answered: one journal append and sync, or one transaction in PostgreSQL).",
            sample.commits,
        )?;
        counter(
            e,
            "quarry_store_failed_commits",
            "Group commits that failed (every request in them failed).",
            sample.failed_commits,
        )?;
        counter(
            e,
            "quarry_movements_committed",
            "Stock movements booked and durably committed.",
            sample.movements,
        )?;
        let buckets: Vec<(f64, u64)> = GROUP_SIZE_BUCKETS
            .iter()
            .map(|&bound| exact(bound))
            .chain([f64::INFINITY])
            .zip(sample.group_sizes)
            .collect();
        let count = sample.group_sizes.iter().sum();
        let mut metric = e.encode_descriptor(
            "quarry_store_requests_per_commit",
            "Write requests in each committed group (group commit: many requests, one fsync).",
            None,
            MetricType::Histogram,
        )?;
        metric.encode_histogram::<NoLabelSet>(
            exact(sample.committed_requests),
            count,
            &buckets,
            None,
        )?;
        let buckets: Vec<(f64, u64)> = CHECKPOINT_BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(sample.checkpoint_times)
            .collect();
        let mut metric = e.encode_descriptor(
            "quarry_store_checkpoint",
            "Checkpoints of the journal into the data file (one durable commit each), by how long they took.",
            Some(&Unit::Seconds),
            MetricType::Histogram,
        )?;
        metric.encode_histogram::<NoLabelSet>(
            exact(sample.checkpoint_micros) / 1e6,
            sample.checkpoints,
            &buckets,
            None,
        )
    }
}

impl App {
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Reads the store, the index and the writer, and encodes every metric.
    pub async fn render_metrics(&self) -> Result<String, AppError> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut sample = Sample {
                database_bytes: app.inner.store.file_size(),
                index_bytes: app.inner.search.size_on_disk(),
                committed_seq: *app.committed().borrow(),
                index_seq: app.inner.search.seq(),
                jobs_running: app.inner.jobs.running() as u64,
                ..Sample::default()
            };
            sample.read_writer(app.writer().stats());
            // A failing store still gives the other metrics.
            if let Ok(hooks) = app.inner.store.read().and_then(|tx| tx.webhooks()) {
                use crate::domain::webhooks::WebhookStatus;
                for hook in hooks.iter().filter(|h| h.enabled) {
                    match hook.status() {
                        WebhookStatus::Failing => sample.webhooks_failing += 1,
                        WebhookStatus::Retrying => sample.webhooks_retrying += 1,
                        WebhookStatus::Active | WebhookStatus::Paused => {}
                    }
                    let behind = sample.committed_seq.saturating_sub(hook.delivery.cursor);
                    sample.webhook_backlog = sample.webhook_backlog.max(behind);
                }
            }
            if let Ok(queued) = app.inner.store.read().and_then(|tx| tx.mail_queued()) {
                sample.mail_queued = queued;
            }
            app.inner.metrics.render(sample)
        })
        .await
        .map_err(|e| AppError::Internal(format!("metrics task failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line is a comment or `name{labels} value`.
    fn assert_well_formed(text: &str) {
        assert!(text.ends_with("# EOF\n"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').expect(line);
            assert!(value.parse::<f64>().is_ok() || value == "+Inf", "{line}");
            let name = series.split('{').next().unwrap();
            assert!(
                name.starts_with("quarry_")
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
        }
    }

    #[test]
    fn requests_are_counted_by_route_template_and_unmatched_paths_share_one_series() {
        let metrics = Metrics::new();
        let took = Duration::from_millis(3);
        metrics.http_request("GET", Some("/api/v1/products/{sku}"), 200, took);
        metrics.http_request("GET", Some("/api/v1/products/{sku}"), 200, took);
        metrics.http_request("GET", None, 404, took);
        metrics.http_request("BREW", None, 404, took);
        let text = metrics.render(Sample::default());
        assert_well_formed(&text);
        assert!(text.contains(
            r#"quarry_http_requests_total{method="GET",route="/api/v1/products/{sku}",status="200"} 2"#
        ), "{text}");
        assert!(
            text.contains(
                r#"quarry_http_requests_total{method="other",route="unmatched",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(
            r#"quarry_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/products/{sku}"} 2"#
        ), "{text}");
    }

    #[test]
    fn sampled_values_and_the_group_commit_histogram_are_rendered() {
        let metrics = Metrics::new();
        let mut group_sizes = [0; GROUP_SIZE_BUCKETS.len() + 1];
        group_sizes[0] = 3;
        group_sizes[6] = 1;
        let text = metrics.render(Sample {
            database_bytes: 4096,
            commits: 4,
            movements: 7,
            committed_requests: 53,
            group_sizes,
            jobs_running: 2,
            checkpoints: 2,
            checkpoint_micros: 30_000,
            checkpoint_times: [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0],
            ..Sample::default()
        });
        assert_well_formed(&text);
        for line in [
            "quarry_database_size_bytes 4096",
            "quarry_jobs_running 2",
            "quarry_store_commits_total 4",
            "quarry_movements_committed_total 7",
            "quarry_store_requests_per_commit_sum 53.0",
            "quarry_store_requests_per_commit_count 4",
            r#"quarry_store_requests_per_commit_bucket{le="1.0"} 3"#,
            r#"quarry_store_requests_per_commit_bucket{le="32.0"} 3"#,
            r#"quarry_store_requests_per_commit_bucket{le="64.0"} 4"#,
            r#"quarry_store_requests_per_commit_bucket{le="+Inf"} 4"#,
            "quarry_store_checkpoint_seconds_sum 0.03",
            "quarry_store_checkpoint_seconds_count 2",
            r#"quarry_store_checkpoint_seconds_bucket{le="0.005"} 0"#,
            r#"quarry_store_checkpoint_seconds_bucket{le="0.01"} 1"#,
            r#"quarry_store_checkpoint_seconds_bucket{le="0.05"} 2"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        assert!(text.contains("quarry_uptime_seconds "), "{text}");
    }

    #[test]
    fn a_live_events_client_is_counted_until_it_goes_away() {
        let metrics = Metrics::new();
        let first = metrics.sse_client();
        let second = metrics.sse_client();
        drop(first);
        assert!(
            metrics
                .render(Sample::default())
                .contains("quarry_sse_clients 1\n")
        );
        drop(second);
        assert!(
            metrics
                .render(Sample::default())
                .contains("quarry_sse_clients 0\n")
        );
    }

    #[test]
    fn cache_hits_and_misses_are_counted_per_cache() {
        let metrics = Metrics::new();
        metrics.cache_lookup(CacheName::Search, false);
        metrics.cache_lookup(CacheName::Search, true);
        metrics.cache_lookup(CacheName::Search, true);
        metrics.cache_lookup(CacheName::Estimate, false);
        let text = metrics.render(Sample::default());
        assert!(text.contains(r#"quarry_cache_hits_total{cache="search"} 2"#));
        assert!(text.contains(r#"quarry_cache_misses_total{cache="search"} 1"#));
        assert!(text.contains(r#"quarry_cache_misses_total{cache="estimate"} 1"#));
    }
}
