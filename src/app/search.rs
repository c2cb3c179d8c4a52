//! Catalogue search use cases: run a search on the index, then fill each hit
//! from the store (prices, staff fields, live availability) in the same
//! snapshot. Answers are cached by request and by the index and store `seq`, so
//! a commit can never leave a stale answer in the cache.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::metrics::{CacheName, Metrics, SearchKind};
use super::{App, AppError, Principal, cursor};
use crate::config::PublicAvailability;
use crate::domain::ledger::Availability;
use crate::domain::units::{Quantity, Unit, UnitName};
use crate::domain::values::{Money, Sku};
use crate::search::highlight::highlight;
use crate::search::query::{self, Synonyms};
use crate::search::{IndexError, SearchIndex, SearchRequest, SearchResult, Sort, price_micros};

/// How long to gather commits before bringing the index up to date: bounds
/// the delay before a change is searchable (plus the index commit itself).
pub const FOLLOW_DELAY: Duration = Duration::from_millis(30);

/// The first pause after the index failed to follow the change log; it
/// doubles with every failure in a row, up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// What a caller asked for.
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    pub q: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub brand: Option<String>,
    pub in_stock: Option<bool>,
    pub in_stock_first: bool,
    pub price_min: Option<String>,
    pub price_max: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl SearchParams {
    /// The search the caller asked for, as the index takes it: the query
    /// read into slots, the filters, sort and page checked; `staff` callers
    /// also find archived products.
    pub fn parse(&self, synonyms: &Synonyms, staff: bool) -> Result<SearchRequest, AppError> {
        let parsed =
            query::parse(&self.q, synonyms).map_err(|e| AppError::bad_request(Some("q"), e.0))?;
        let offset: usize = self
            .cursor
            .as_deref()
            .map(cursor::decode::<usize>)
            .transpose()?
            .unwrap_or(0);
        if offset > 10_000 {
            return Err(AppError::bad_request(
                Some("cursor"),
                "cannot page past 10,000 results; narrow the search",
            ));
        }
        let mut tags: Vec<String> = self
            .tags
            .iter()
            .flat_map(|t| t.split(','))
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        tags.sort();
        tags.dedup();
        if tags.len() > 10 {
            return Err(AppError::bad_request(Some("tags"), "at most 10 tags"));
        }
        Ok(SearchRequest {
            query: parsed,
            category: self
                .category
                .as_deref()
                .map(|c| c.trim().trim_matches('/').to_lowercase())
                .filter(|c| !c.is_empty()),
            tags,
            brand: self
                .brand
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_owned),
            in_stock: self.in_stock,
            price_min: money_bound("price_min", self.price_min.as_deref())?,
            price_max: money_bound("price_max", self.price_max.as_deref())?,
            include_inactive: staff,
            in_stock_first: self.in_stock_first,
            sort: sort(self.sort.as_deref())?,
            offset,
            limit: cursor::limit(self.limit, 20, 100)?,
        })
    }
}

/// A price per base unit: `{"amount": "0.034", "per": "kg"}` for €34 per
/// tonne.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnitPrice {
    /// Rounded to four decimal places, for comparison.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub per: Unit,
}

/// A hit's availability, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HitAvailability {
    pub status: Availability,
    /// Exact quantity available, for signed-in callers or when the shop shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub available: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Highlight {
    /// The name with matched words in `<mark>` (HTML-escaped).
    pub name: Option<String>,
    /// A fragment of the description with matched words in `<mark>`.
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchHit {
    pub sku: Sku,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    pub category: String,
    /// The price per `per`.
    pub price: Money,
    /// The stock unit.
    pub unit: Unit,
    /// The unit the price is per: the stock unit, another unit or a pack.
    #[schema(value_type = String)]
    pub per: UnitName,
    /// The price per base unit of the product's dimension (kg, m³, m, m² or
    /// pc), which `sort=price` compares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<UnitPrice>,
    /// Absent when the shop hides stock from the public.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<HitAvailability>,
    pub highlight: Highlight,
    /// The product's main photo, as a thumbnail (absent without photos).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<HitImage>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    /// Staff only (the public sees active products only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A hit's main photo.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct HitImage {
    pub thumb_url: String,
    pub alt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchFacets {
    /// The categories one level below the one searched (or the top level), with
    /// how many matching products each has.
    pub category: BTreeMap<String, u64>,
    pub tags: BTreeMap<String, u64>,
    /// Brands, with how many matching products each has.
    pub brand: BTreeMap<String, u64>,
}

/// A category products are filed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Category {
    /// The whole path, as products spell it (`Aggregates/Sand`): what
    /// `category` filters by.
    #[schema(example = "Aggregates/Sand")]
    pub path: String,
    /// Its last part (`Sand`).
    pub name: String,
    /// 1 for a top-level category, 2 for one inside it, and so on.
    #[schema(minimum = 1)]
    pub depth: u32,
    /// How many products it holds, with those of the categories inside it.
    pub products: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CategoryList {
    /// Every category, each followed by those inside it, in path order.
    pub items: Vec<Category>,
}

/// Set when no product matches every word of the query (or the query has
/// more words than are matched one by one): the products shown match the
/// most words any product matches, those matching more first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Relaxed {
    /// The words of the query left out, as typed.
    pub ignored: Vec<String>,
    /// The words the best hits match.
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
    pub total: usize,
    pub facets: SearchFacets,
    /// Present when the answer does not match every word of the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relaxed: Option<Relaxed>,
    /// When nothing matches: the query with its unknown words replaced by the
    /// closest words of the catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
    /// Server time spent, in milliseconds.
    pub took_ms: f64,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Suggestion {
    pub sku: Sku,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Suggestions {
    pub suggestions: Vec<Suggestion>,
    pub took_ms: f64,
}

/// The cache of search answers.
pub(super) struct Cache {
    /// Whole answers, valid until the next commit (hits carry live stock).
    searches: moka::sync::Cache<(SearchRequest, bool, u64, u64), Arc<SearchResponse>>,
    /// The engine's matches (SKUs, total, facets), valid until the index
    /// changes: most commits (stock movements that leave a product in or out
    /// of stock) do not change it, so under steady writes a repeated search
    /// only fills its hits from the store.
    matches: moka::sync::Cache<(SearchRequest, u64), Arc<SearchResult>>,
    suggestions: moka::sync::Cache<(query::Parsed, u64), Arc<Vec<Suggestion>>>,
    pub(super) synonyms: Synonyms,
}

/// Bytes each cache may hold. Answers are weighed by their size: under a
/// steady stream of writes every answer is stale after the next commit (the
/// key holds the store's `seq`), so a cache counted in entries filled up with
/// dead answers of any size (540 MiB at peak in `benches/load.sh`).
const CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// About how many bytes an answer takes in memory.
fn weight_of(response: &SearchResponse) -> u32 {
    let text = |s: &str| s.len() + 24;
    let hits: usize = response
        .hits
        .iter()
        .map(|h| {
            160 + text(&h.name)
                + h.brand.as_deref().map_or(0, text)
                + text(&h.category)
                + h.highlight.name.as_deref().map_or(0, text)
                + h.highlight.description.as_deref().map_or(0, text)
        })
        .sum();
    let facets: usize = response
        .facets
        .category
        .keys()
        .chain(response.facets.tags.keys())
        .chain(response.facets.brand.keys())
        .map(|k| text(k) + 48)
        .sum();
    let relaxed: usize = response.relaxed.as_ref().map_or(0, |r| {
        r.ignored
            .iter()
            .chain(&r.matched)
            .map(|w| text(w))
            .sum::<usize>()
            + 48
    });
    let extra = relaxed + response.did_you_mean.as_deref().map_or(0, text);
    u32::try_from(256 + hits + facets + extra).unwrap_or(u32::MAX)
}

/// The engine's matches for `request`, from the cache while the index is at
/// `index_seq`.
fn engine_matches(
    cache: &moka::sync::Cache<(SearchRequest, u64), Arc<SearchResult>>,
    metrics: &Metrics,
    index: &SearchIndex,
    request: &SearchRequest,
    index_seq: u64,
) -> Result<Arc<SearchResult>, AppError> {
    let key = (request.clone(), index_seq);
    let cached = cache.get(&key);
    metrics.cache_lookup(CacheName::SearchMatches, cached.is_some());
    if let Some(result) = cached {
        return Ok(result);
    }
    let result = Arc::new(
        index
            .search(request)
            .map_err(|e| AppError::Internal(e.to_string()))?,
    );
    cache.insert(key, result.clone());
    Ok(result)
}

/// About how many bytes the engine's matches take in memory.
fn weight_of_matches(result: &SearchResult) -> u32 {
    let facets: usize = result
        .facets
        .category
        .iter()
        .chain(&result.facets.tags)
        .chain(&result.facets.brand)
        .map(|(k, _)| k.len() + 72)
        .sum();
    let relaxed: usize = result.relaxed.as_ref().map_or(0, |r| {
        r.ignored
            .iter()
            .chain(&r.matched)
            .map(|w| w.len() + 24)
            .sum::<usize>()
            + 48
    });
    let extra = relaxed + result.did_you_mean.as_ref().map_or(0, |d| d.len() + 24);
    u32::try_from(128 + result.hits.len() * 48 + facets + extra).unwrap_or(u32::MAX)
}

impl Cache {
    pub(super) fn new(synonyms: Synonyms) -> Self {
        Self {
            searches: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|_, response: &Arc<SearchResponse>| weight_of(response))
                .time_to_idle(Duration::from_secs(300))
                .build(),
            matches: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES / 4)
                .weigher(|_, result: &Arc<SearchResult>| weight_of_matches(result))
                .time_to_idle(Duration::from_secs(300))
                .build(),
            suggestions: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES / 4)
                .weigher(|_, list: &Arc<Vec<Suggestion>>| {
                    let bytes: usize = list.iter().map(|s| 64 + s.name.len()).sum();
                    u32::try_from(128 + bytes).unwrap_or(u32::MAX)
                })
                .time_to_idle(Duration::from_secs(300))
                .build(),
            synonyms,
        }
    }
}

fn money_bound(field: &str, raw: Option<&str>) -> Result<Option<u64>, AppError> {
    raw.map(|s| {
        Money::parse(s)
            .map(|m| price_micros(m.value()))
            .map_err(|e| AppError::bad_request(Some(field), format!("{field}: {e}")))
    })
    .transpose()
}

fn sort(raw: Option<&str>) -> Result<Sort, AppError> {
    match raw.unwrap_or("relevance") {
        "relevance" => Ok(Sort::Relevance),
        "price" => Ok(Sort::PriceAscending),
        "-price" => Ok(Sort::PriceDescending),
        "name" => Ok(Sort::Name),
        other => Err(AppError::bad_request(
            Some("sort"),
            format!("sort {other:?} is not one of relevance, price, -price, name"),
        )),
    }
}

fn elapsed_ms(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e6).round() / 1e3
}
/// Fills hits from the store: the store, not the index, decides what a hit
/// shows, so a product changed a moment ago shows as it is now.
fn hydrate(
    tx: &crate::store::ReadTx,
    found: Vec<crate::search::Hit>,
    query: &query::Parsed,
    staff: bool,
    mode: PublicAvailability,
) -> Result<Vec<SearchHit>, AppError> {
    let mut hits = Vec::with_capacity(found.len());
    for hit in found {
        // The index may trail the store by a moment; the store decides.
        let Some(product) = tx.product(&hit.sku)? else {
            continue;
        };
        if !product.active && !staff {
            continue;
        }
        let available: Decimal = tx
            .levels_of(&product.sku)?
            .iter()
            .map(|(_, l)| l.available())
            .sum::<Decimal>()
            .normalize();
        let status = Availability::of(available, product.reorder_point.map(Quantity::value));
        let availability = match (staff, mode) {
            (true, _) | (false, PublicAvailability::Exact) => Some(HitAvailability {
                status,
                available: Some(if staff {
                    available
                } else {
                    available.max(Decimal::ZERO)
                }),
            }),
            (false, PublicAvailability::Bucket) => Some(HitAvailability {
                status,
                available: None,
            }),
            (false, PublicAvailability::Hidden) => None,
        };
        hits.push(SearchHit {
            name: product.name.to_string(),
            brand: product.brand.as_ref().map(ToString::to_string),
            category: product.category.to_string(),
            price: product.price,
            unit: product.unit,
            per: product.pricing_unit(),
            unit_price: product.unit_price().map(|(amount, per)| UnitPrice {
                amount: amount.round_dp(4).normalize(),
                per,
            }),
            availability,
            highlight: Highlight {
                name: highlight(product.name.as_str(), query, 200),
                description: highlight(product.description.as_str(), query, 160),
            },
            image: product.images.first().map(|i| HitImage {
                thumb_url: i.thumb_url.clone(),
                alt: i.alt.clone(),
            }),
            cost: if staff { product.cost } else { None },
            active: staff.then_some(product.active),
            sku: hit.sku,
        });
    }
    Ok(hits)
}

impl App {
    pub fn search_index(&self) -> &Arc<SearchIndex> {
        &self.inner.search
    }

    /// Searches the catalogue.
    pub async fn search(
        &self,
        caller: Option<&Principal>,
        params: SearchParams,
    ) -> Result<SearchResponse, AppError> {
        let started = Instant::now();
        let staff = caller.is_some_and(Principal::reads);
        let request = params.parse(&self.inner.cache.synonyms, staff)?;
        let index_seq = self.inner.search.seq();
        let store_seq = *self.committed().borrow();
        let key = (request.clone(), staff, index_seq, store_seq);
        let cached = self.inner.cache.searches.get(&key);
        self.metrics()
            .cache_lookup(CacheName::Search, cached.is_some());
        if let Some(cached) = cached {
            let mut answer = (*cached).clone();
            answer.took_ms = elapsed_ms(started);
            self.metrics()
                .searched(SearchKind::Search, started.elapsed());
            return Ok(answer);
        }
        let index = self.inner.search.clone();
        let mode = self.config().stock.public_availability;
        let matches = self.inner.cache.matches.clone();
        let metrics = self.metrics().clone();
        let _turn = self
            .inner
            .searching
            .acquire()
            .await
            .map_err(|_| AppError::Internal("the search queue is closed".to_owned()))?;
        let answer = self
            .read(move |tx| {
                let result = engine_matches(&matches, &metrics, &index, &request, index_seq)?;
                let hits = hydrate(tx, result.hits.clone(), &request.query, staff, mode)?;
                let next = request.offset + request.limit;
                Ok(SearchResponse {
                    hits,
                    total: result.total,
                    facets: SearchFacets {
                        category: result.facets.category.iter().cloned().collect(),
                        tags: result.facets.tags.iter().cloned().collect(),
                        brand: result.facets.brand.iter().cloned().collect(),
                    },
                    relaxed: result.relaxed.as_ref().map(|r| Relaxed {
                        ignored: r.ignored.clone(),
                        matched: r.matched.clone(),
                    }),
                    did_you_mean: result.did_you_mean.clone(),
                    took_ms: 0.0,
                    next_cursor: (next < result.total).then(|| cursor::encode(&next)),
                })
            })
            .await?;
        let answer = Arc::new(answer);
        self.inner.cache.searches.insert(key, answer.clone());
        let mut answer = (*answer).clone();
        answer.took_ms = elapsed_ms(started);
        self.metrics()
            .searched(SearchKind::Search, started.elapsed());
        Ok(answer)
    }

    /// Every category of the catalogue with its product count: active
    /// products for the public, archived ones too for staff.
    pub async fn categories(&self, caller: Option<&Principal>) -> Result<CategoryList, AppError> {
        let staff = caller.is_some_and(Principal::reads);
        let index = self.inner.search.clone();
        let counted = tokio::task::spawn_blocking(move || index.categories(staff))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let items = counted
            .into_iter()
            .map(|(path, products)| {
                let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
                let depth = u32::try_from(path.split('/').count()).unwrap_or(u32::MAX);
                Category {
                    path,
                    name,
                    depth,
                    products,
                }
            })
            .collect();
        Ok(CategoryList { items })
    }

    /// Up to 8 product names completing what was typed.
    pub async fn suggest(&self, q: &str) -> Result<Suggestions, AppError> {
        let started = Instant::now();
        let parsed = query::parse(q, &self.inner.cache.synonyms)
            .map_err(|e| AppError::bad_request(Some("q"), e.0))?;
        let key = (parsed.clone(), self.inner.search.seq());
        let cached = self.inner.cache.suggestions.get(&key);
        self.metrics()
            .cache_lookup(CacheName::Suggest, cached.is_some());
        if let Some(cached) = cached {
            self.metrics()
                .searched(SearchKind::Suggest, started.elapsed());
            return Ok(Suggestions {
                suggestions: (*cached).clone(),
                took_ms: elapsed_ms(started),
            });
        }
        let index = self.inner.search.clone();
        let found = tokio::task::spawn_blocking(move || index.suggest(&parsed, 8))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let suggestions: Vec<Suggestion> = found
            .into_iter()
            .map(|(sku, name)| Suggestion { sku, name })
            .collect();
        self.inner
            .cache
            .suggestions
            .insert(key, Arc::new(suggestions.clone()));
        self.metrics()
            .searched(SearchKind::Suggest, started.elapsed());
        Ok(Suggestions {
            suggestions,
            took_ms: elapsed_ms(started),
        })
    }

    /// Rebuilds the search index from the store and swaps it in; searches go
    /// on meanwhile. Returns the change-log `seq` it reflects.
    pub async fn reindex(&self) -> Result<u64, AppError> {
        let index = self.inner.search.clone();
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || index.rebuild(&store))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Keeps the search index following the change log until shutdown. A
    /// failed catch-up is retried after a pause that doubles up to a minute,
    /// without waiting for the next write; an index that failed (not the store
    /// it reads) is rebuilt from the store at the retry (it is derived data: a
    /// broken writer or vanished files must not leave searches stale until a
    /// restart).
    pub fn follow_changes(&self) {
        let app = self.clone();
        self.spawn_background(async move {
            let mut committed = app.committed();
            let stop = app.shutting_down();
            let mut failures: u32 = 0;
            loop {
                if failures == 0 {
                    tokio::select! {
                        changed = committed.changed() => if changed.is_err() { break },
                        () = stop.cancelled() => break,
                    }
                } else {
                    let pause = RETRY_FIRST.saturating_mul(1 << (failures - 1).min(6));
                    tokio::select! {
                        () = tokio::time::sleep(pause.min(RETRY_MAX)) => {}
                        () = stop.cancelled() => break,
                    }
                }
                tokio::time::sleep(FOLLOW_DELAY).await;
                let index = app.inner.search.clone();
                let store = app.inner.store.clone();
                // Rebuilt only when the index itself is at fault: a generation
                // that failed before (its first failure marked it broken) or
                // a catch-up that panicked; a store that fails to answer is
                // only waited for.
                let (error, rebuild) =
                    match tokio::task::spawn_blocking(move || index.catch_up(&store)).await {
                        Ok(Ok(_)) => {
                            failures = 0;
                            continue;
                        }
                        Ok(Err(error)) => {
                            let broken = matches!(error, IndexError::Broken);
                            (error.to_string(), broken)
                        }
                        Err(error) => (error.to_string(), true),
                    };
                failures = failures.saturating_add(1);
                tracing::error!(%error, failures, "the search index could not follow the change log");
                if !rebuild || stop.is_cancelled() {
                    continue;
                }
                tracing::warn!("rebuilding the search index from the store");
                match app.reindex().await {
                    Ok(seq) => {
                        tracing::info!(seq, "search index rebuilt; following the change log again");
                        failures = 0;
                    }
                    Err(error) => {
                        tracing::error!(%error, "the search index could not be rebuilt; trying again later");
                    }
                }
            }
        });
    }
}
