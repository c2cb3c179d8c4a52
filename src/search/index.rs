//! The tantivy index: its schema, how it is built from the store and kept in
//! step with the change log, and how a search runs.
//!
//! Layout: `<data dir>/index/<generation>/` holds one index; the file
//! `<data dir>/index/CURRENT` names the one in use. Every index commit records
//! `{"seq", "schema"}` as its payload: the last change-log entry applied. On
//! start the index catches up from there; if it is missing, unreadable, from
//! another schema, or ahead of the store, it is rebuilt. A rebuild is made aside
//! and swapped in, so searches never stop.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use super::analysis::{ANALYZER, analyzer};
use super::query::{Parsed, Slot};
use crate::domain::catalogue::{Product, Sku};
use crate::store::{ChangeKind, ReadTx, Store, StoreError};

/// Raised whenever the schema or the analysis changes: older indexes rebuild.
const SCHEMA: u32 = 3;
const SKU_NGRAM: &str = "sku_ngram";
/// Memory for the index writer.
const WRITER_HEAP: usize = 50_000_000;
/// Commit at least this often (in change-log entries) even when no document
/// changed, so a restart has little to replay.
const PAYLOAD_EVERY: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: it failed earlier and must be rebuilt")]
    Broken,
}

impl From<tantivy::directory::error::OpenDirectoryError> for IndexError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Self::Tantivy(e.into())
    }
}

#[derive(Clone, Copy)]
struct Fields {
    sku_key: Field,
    sku_ngram: Field,
    barcode: Field,
    name: Field,
    /// Category words, tags and attribute values.
    keywords: Field,
    description: Field,
    category: Field,
    tags: Field,
    price: Field,
    name_sort: Field,
    active: Field,
    in_stock: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |positions: bool, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(if positions {
                IndexRecordOption::WithFreqsAndPositions
            } else {
                IndexRecordOption::WithFreqs
            });
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let ngram = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(SKU_NGRAM)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        sku_key: b.add_text_field("sku_key", STRING | FAST),
        sku_ngram: b.add_text_field("sku_ngram", ngram),
        barcode: b.add_text_field("barcode", STRING),
        name: b.add_text_field("name", text(true, true)),
        keywords: b.add_text_field("keywords", text(false, false)),
        description: b.add_text_field("description", text(false, false)),
        category: b.add_facet_field("category", FacetOptions::default()),
        tags: b.add_facet_field("tags", FacetOptions::default()),
        price: b.add_u64_field("price", FAST | INDEXED),
        name_sort: b.add_text_field("name_sort", STRING | FAST),
        active: b.add_u64_field("active", FAST | INDEXED),
        in_stock: b.add_u64_field("in_stock", FAST | INDEXED),
    };
    (b.build(), fields)
}

fn register_tokenizers(index: &Index) -> Result<(), IndexError> {
    index.tokenizers().register(ANALYZER, analyzer());
    let ngram = TextAnalyzer::builder(NgramTokenizer::all_ngrams(2, 12)?)
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(SKU_NGRAM, ngram);
    Ok(())
}

/// What an index commit records.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Payload {
    seq: u64,
    schema: u32,
}

/// A price as whole millionths, for the fast field.
pub fn price_micros(price: Decimal) -> u64 {
    (price * Decimal::from(1_000_000))
        .trunc()
        .to_u64()
        .unwrap_or(u64::MAX)
}

/// What one pass over the index collects.
struct Pass {
    total: usize,
    page: Vec<DocAddress>,
    facets: Facets,
}

/// The counts of the children of `parent`, most first.
fn facet_counts(
    counts: &tantivy::collector::FacetCounts,
    parent: &Facet,
    k: usize,
) -> Vec<(String, u64)> {
    counts
        .top_k(parent.clone(), k)
        .into_iter()
        .map(|(facet, n)| (facet.to_path_string().trim_start_matches('/').to_owned(), n))
        .collect()
}

/// One index in its own directory, with its reader and writer.
struct Generation {
    dir: PathBuf,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// The last change-log `seq` applied (committed or not).
    applied: AtomicU64,
    /// The `seq` in the last commit's payload.
    committed: AtomicU64,
    /// Whether each product is indexed as in stock, as far as known.
    in_stock: Mutex<HashMap<String, bool>>,
    /// Set when the index failed to apply or commit changes.
    broken: AtomicBool,
    /// Lower-cased category path → the path as products spell it.
    categories: RwLock<HashMap<String, String>>,
}

impl Generation {
    fn create(dir: &Path) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, _) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::from_index(dir, &index, 0)
    }

    fn open(dir: &Path) -> Result<(Self, u64), IndexError> {
        let index = Index::open_in_dir(dir)?;
        let (expected, _) = schema();
        if index.schema() != expected {
            return Err(IndexError::Tantivy(tantivy::TantivyError::SchemaError(
                "the index was built with another schema".into(),
            )));
        }
        let payload = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .filter(|p| p.schema == SCHEMA)
            .ok_or_else(|| {
                IndexError::Tantivy(tantivy::TantivyError::SchemaError(
                    "the index has no usable commit payload".into(),
                ))
            })?;
        let generation = Self::from_index(dir, &index, payload.seq)?;
        // A process killed inside a commit leaves files its commit point does
        // not list; the same work replayed would name them again and fail.
        generation
            .writer
            .lock()
            .expect("index writer lock")
            .garbage_collect_files()
            .wait()?;
        Ok((generation, payload.seq))
    }

    fn from_index(dir: &Path, index: &Index, seq: u64) -> Result<Self, IndexError> {
        register_tokenizers(index)?;
        let (_, f) = schema();
        let writer = index.writer_with_num_threads(1, WRITER_HEAP)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let generation = Self {
            dir: dir.to_owned(),
            reader,
            writer: Mutex::new(writer),
            f,
            applied: AtomicU64::new(seq),
            committed: AtomicU64::new(seq),
            in_stock: Mutex::new(HashMap::new()),
            broken: AtomicBool::new(false),
            categories: RwLock::new(HashMap::new()),
        };
        generation.refresh_categories()?;
        Ok(generation)
    }

    fn document(&self, p: &Product, in_stock: bool) -> TantivyDocument {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        let key = p.sku.as_str().to_lowercase();
        doc.add_text(f.sku_key, &key);
        doc.add_text(f.sku_ngram, &key);
        if let Some(barcode) = &p.barcode {
            doc.add_text(f.barcode, barcode.as_str().to_lowercase());
        }
        doc.add_text(f.name, p.name.as_str());
        doc.add_text(f.keywords, p.category.as_str());
        for tag in p.tags.iter() {
            doc.add_text(f.keywords, tag);
            doc.add_facet(f.tags, Facet::from_path([tag]));
        }
        for (key, value) in p.attributes.iter() {
            doc.add_text(f.keywords, format!("{} {value}", key.replace('_', " ")));
        }
        doc.add_text(f.description, p.description.as_str());
        doc.add_facet(f.category, Facet::from_path(p.category.as_str().split('/')));
        doc.add_u64(f.price, price_micros(p.price.value()));
        doc.add_text(f.name_sort, p.name.as_str().to_lowercase());
        doc.add_u64(f.active, u64::from(p.active));
        doc.add_u64(f.in_stock, u64::from(in_stock));
        doc
    }

    /// Replaces (or removes) the document of `sku` with the product as the
    /// snapshot has it.
    fn upsert(&self, writer: &IndexWriter, tx: &ReadTx, sku: &Sku) -> Result<(), IndexError> {
        let key = sku.as_str().to_lowercase();
        writer.delete_term(Term::from_field_text(self.f.sku_key, &key));
        if let Some(product) = tx.product(sku)? {
            let available: Decimal = tx.levels_of(sku)?.iter().map(|(_, l)| l.available()).sum();
            let in_stock = available > Decimal::ZERO;
            writer.add_document(self.document(&product, in_stock))?;
            self.in_stock.lock().expect("lock").insert(key, in_stock);
        }
        Ok(())
    }

    /// Whether `sku` is indexed as in stock (from memory, else from the index).
    fn indexed_in_stock(&self, sku: &str) -> Option<bool> {
        let key = sku.to_lowercase();
        if let Some(known) = self.in_stock.lock().expect("lock").get(&key) {
            return Some(*known);
        }
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.f.sku_key, &key),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .ok()?;
        let (_, address) = top.first()?;
        let doc: TantivyDocument = searcher.doc(*address).ok()?;
        let value = doc.get_first(self.f.in_stock).and_then(|v| v.as_u64())? == 1;
        self.in_stock.lock().expect("lock").insert(key, value);
        Some(value)
    }

    /// Applies every change after the last applied `seq` from a fresh snapshot,
    /// and commits when documents changed (or the payload fell far behind).
    /// Once the index itself fails here (not the store it reads), the
    /// generation is marked broken: a tantivy writer that failed a commit
    /// cannot be trusted with the next one, so every later attempt fails at
    /// once and the caller rebuilds the index.
    fn catch_up(&self, store: &Store) -> Result<u64, IndexError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(IndexError::Broken);
        }
        let result = self.apply_and_commit(store);
        if let Err(IndexError::Tantivy(_) | IndexError::Io(_)) = &result {
            self.broken.store(true, Ordering::SeqCst);
        }
        result
    }

    fn apply_and_commit(&self, store: &Store) -> Result<u64, IndexError> {
        let writer = self.writer.lock().expect("index writer lock");
        let mut dirty = false;
        loop {
            let tx = store.read()?;
            let after = self.applied.load(Ordering::SeqCst);
            let changes = tx.changes_after(after, 1_000)?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                break;
            };
            let mut touched: BTreeSet<Sku> = BTreeSet::new();
            for change in &changes {
                match change.kind {
                    ChangeKind::ProductCreated
                    | ChangeKind::ProductUpdated
                    | ChangeKind::ProductArchived => {
                        if let Ok(sku) = Sku::parse(&change.key) {
                            touched.insert(sku);
                        }
                    }
                    ChangeKind::LevelChanged => {
                        let Some(data) = &change.data else { continue };
                        let Some(sku) = data["sku"].as_str() else {
                            continue;
                        };
                        let available: Decimal = data["product_available"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or_default();
                        let now = available > Decimal::ZERO;
                        if self.indexed_in_stock(sku) != Some(now)
                            && let Ok(sku) = Sku::parse(sku)
                        {
                            touched.insert(sku);
                        }
                    }
                    _ => {}
                }
            }
            for sku in &touched {
                self.upsert(&writer, &tx, sku)?;
                dirty = true;
            }
            self.applied.store(last, Ordering::SeqCst);
        }
        let applied = self.applied.load(Ordering::SeqCst);
        let behind = applied - self.committed.load(Ordering::SeqCst);
        if dirty || behind >= PAYLOAD_EVERY {
            drop(writer);
            self.commit(applied)?;
        }
        Ok(applied)
    }

    fn commit(&self, seq: u64) -> Result<(), IndexError> {
        let mut writer = self.writer.lock().expect("index writer lock");
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(
            &serde_json::to_string(&Payload {
                seq,
                schema: SCHEMA,
            })
            .expect("payload serializes"),
        );
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        self.refresh_categories()?;
        // Only now may caches key answers by this `seq`: searches see it.
        self.committed.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// Rebuilds the lower-case → spelled category map from the facet terms.
    fn refresh_categories(&self) -> Result<(), IndexError> {
        let searcher = self.reader.searcher();
        let mut map = HashMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.f.category)?;
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                if let Ok(facet) = Facet::from_encoded(stream.key().to_vec()) {
                    let path = facet.to_path_string();
                    let path = path.trim_start_matches('/').to_owned();
                    map.insert(path.to_lowercase(), path);
                }
            }
        }
        *self.categories.write().expect("lock") = map;
        Ok(())
    }
}

/// How to order hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    #[default]
    Relevance,
    PriceAscending,
    PriceDescending,
    Name,
}

/// A search as the app asks for it.
/// Why an index cannot be opened when there is none.
const NO_INDEX: &str = "no index yet";

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]

pub struct SearchRequest {
    pub query: Parsed,
    /// Lower-cased category path: it and everything under it.
    pub category: Option<String>,
    /// Products carrying every one of these tags.
    pub tags: Vec<String>,
    pub in_stock: Option<bool>,
    pub price_min: Option<u64>,
    pub price_max: Option<u64>,
    pub include_inactive: bool,
    /// Among equally relevant products, those in stock first.
    pub in_stock_first: bool,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

/// A search hit: the product's SKU (the store has the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub sku: Sku,
}

/// Facet counts: value → number of matching products.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub category: Vec<(String, u64)>,
    pub tags: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Facets,
}

/// Field boosts: name strongest, description weakest.
fn text_fields(f: &Fields) -> [(Field, f32, bool); 3] {
    // (field, boost, typo-tolerant and prefix-matched)
    [
        (f.name, 5.0, true),
        (f.keywords, 2.0, true),
        (f.description, 0.5, false),
    ]
}

fn boost(query: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, by))
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

/// The query for one slot: exact matches score above prefix matches, which
/// score above typo-tolerant ones. A word the catalogue knows as written is not
/// also looked up with typos (that would mostly add noise, and cost).
fn slot_query(
    f: &Fields,
    searcher: &tantivy::Searcher,
    slot: &Slot,
    fields: &[(Field, f32, bool)],
) -> Box<dyn Query> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match slot {
        Slot::Term {
            text,
            distance,
            prefix,
        } => {
            let known = *distance > 0
                && fields
                    .iter()
                    .filter(|(_, _, fuzzy)| *fuzzy)
                    .any(|(field, _, _)| {
                        searcher
                            .doc_freq(&Term::from_field_text(*field, text))
                            .is_ok_and(|n| n > 0)
                    });
            for (field, weight, fuzzy) in fields {
                let term = Term::from_field_text(*field, text);
                should.push((Occur::Should, boost(term_query(term.clone()), weight * 2.0)));
                // One letter would expand to half the dictionary.
                if *fuzzy && *prefix && text.chars().count() >= 2 {
                    let q = FuzzyTermQuery::new_prefix(term.clone(), 0, true);
                    should.push((Occur::Should, boost(Box::new(q), weight * 1.2)));
                }
                if *fuzzy && *distance > 0 && !known {
                    let q = FuzzyTermQuery::new(term, *distance, true);
                    should.push((Occur::Should, boost(Box::new(q), *weight)));
                }
            }
            if text.len() >= 2 && fields.len() > 1 {
                let term = Term::from_field_text(f.sku_ngram, text);
                should.push((Occur::Should, boost(term_query(term), 3.0)));
            }
        }
        Slot::Synonyms(alternatives) => {
            for alternative in alternatives {
                let all: Vec<(Occur, Box<dyn Query>)> = alternative
                    .iter()
                    .map(|t| {
                        let exact = Slot::Term {
                            text: t.clone(),
                            distance: 0,
                            prefix: false,
                        };
                        (Occur::Must, slot_query(f, searcher, &exact, fields))
                    })
                    .collect();
                should.push((Occur::Should, Box::new(BooleanQuery::new(all))));
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// The text part of a search: every slot must match (or, as a fallback, any);
/// a SKU or barcode typed whole or as a prefix, and the words as a phrase in
/// the name, count extra.
fn text_query(
    f: &Fields,
    searcher: &tantivy::Searcher,
    parsed: &Parsed,
    any_word: bool,
    fields: &[(Field, f32, bool)],
) -> Box<dyn Query> {
    if parsed.is_empty() {
        return Box::new(AllQuery);
    }
    // In the fallback, words become optional, but numbers never do: "cement
    // 45.5" must not answer with 42.5.
    // A unit word ("mm", "kg") next to other words narrows nothing on its own:
    // it only adds to the score (and costs no scan of every product in mm).
    let meaningful = parsed.slots.iter().filter(|slot| !is_unit(slot)).count();
    let words: Vec<(Occur, Box<dyn Query>)> = parsed
        .slots
        .iter()
        .map(|slot| {
            let number =
                matches!(slot, Slot::Term { text, .. } if super::analysis::is_number(text));
            let optional = (any_word && !number) || (meaningful > 0 && is_unit(slot));
            let occur = if optional { Occur::Should } else { Occur::Must };
            (occur, slot_query(f, searcher, slot, fields))
        })
        .collect();
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !words.is_empty() {
        should.push((Occur::Should, Box::new(BooleanQuery::new(words))));
    }
    let raw = parsed.raw.as_str();
    if !raw.is_empty() && !raw.contains(char::is_whitespace) && fields.len() > 1 {
        let sku = Term::from_field_text(f.sku_key, raw);
        should.push((Occur::Should, boost(term_query(sku.clone()), 40.0)));
        should.push((
            Occur::Should,
            boost(Box::new(FuzzyTermQuery::new_prefix(sku, 0, true)), 10.0),
        ));
        // A fragment typed with its separators ("t-0030") is split into
        // words like any query; as typed, it names the SKUs that contain it.
        if raw.contains(|c: char| !c.is_alphanumeric()) && (3..=12).contains(&raw.chars().count()) {
            let fragment = Term::from_field_text(f.sku_ngram, raw);
            should.push((Occur::Should, boost(term_query(fragment), 20.0)));
        }
        let barcode = Term::from_field_text(f.barcode, raw);
        should.push((Occur::Should, boost(term_query(barcode.clone()), 40.0)));
        should.push((
            Occur::Should,
            boost(Box::new(FuzzyTermQuery::new_prefix(barcode, 0, true)), 8.0),
        ));
    }
    if parsed.terms.len() >= 2 {
        let terms: Vec<Term> = parsed
            .terms
            .iter()
            .map(|t| Term::from_field_text(f.name, t))
            .collect();
        should.push((
            Occur::Should,
            boost(Box::new(PhraseQuery::new(terms.clone())), 6.0),
        ));
        // Words that follow each other in the query and in the name ("12 mm",
        // "pea gravel") say more than the same words apart.
        if terms.len() > 2 {
            for pair in terms.windows(2) {
                should.push((
                    Occur::Should,
                    boost(Box::new(PhraseQuery::new(pair.to_vec())), 3.0),
                ));
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// Units and the "x" of dimensions, as analysed.
const UNIT_WORDS: &[&str] = &[
    "mm", "cm", "m", "km", "g", "kg", "t", "l", "ml", "in", "ft", "yd", "oz", "lb", "x", "v", "w",
    "ah", "n", "pc",
];

fn is_unit(slot: &Slot) -> bool {
    matches!(slot, Slot::Term { text, prefix: false, .. } if UNIT_WORDS.contains(&text.as_str()))
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

/// The search index, swappable as a whole.
pub struct SearchIndex {
    root: PathBuf,
    current: RwLock<Arc<Generation>>,
}

impl SearchIndex {
    /// Opens the index in `<data_dir>/index` and brings it up to the store; a
    /// missing, unreadable or mismatched index is rebuilt (with a log line).
    pub fn open(data_dir: &Path, store: &Store) -> Result<Self, IndexError> {
        let root = data_dir.join("index");
        std::fs::create_dir_all(&root)?;
        let store_seq = store.read()?.last_seq()?;
        let opened = std::fs::read_to_string(root.join("CURRENT"))
            .ok()
            .map(|name| root.join(name.trim()))
            .filter(|dir| dir.is_dir())
            .ok_or_else(|| NO_INDEX.to_owned())
            .and_then(|dir| Generation::open(&dir).map_err(|e| e.to_string()));
        let generation = match opened {
            Ok((generation, seq)) if seq <= store_seq => {
                tracing::info!(seq, store_seq, "search index opened; catching up");
                match generation.catch_up(store) {
                    Ok(_) => generation,
                    Err(error) => {
                        tracing::warn!(%error, "search index cannot catch up; rebuilding it from the store");
                        drop(generation);
                        Self::build(&root, store)?
                    }
                }
            }
            Ok((_, seq)) => {
                tracing::warn!(
                    seq,
                    store_seq,
                    "search index is ahead of the store (a restored backup?); rebuilding it"
                );
                Self::build(&root, store)?
            }
            Err(reason) if reason == NO_INDEX => {
                tracing::info!("no search index yet; building it from the store");
                Self::build(&root, store)?
            }
            Err(reason) => {
                tracing::warn!(%reason, "search index unusable; rebuilding it from the store");
                Self::build(&root, store)?
            }
        };
        let index = Self {
            root,
            current: RwLock::new(Arc::new(generation)),
        };
        index.publish()?;
        index.catch_up(store)?;
        index.remove_stale();
        Ok(index)
    }

    fn generation(&self) -> Arc<Generation> {
        self.current.read().expect("index lock").clone()
    }

    /// Builds a complete index of the store's products in a new directory.
    fn build(root: &Path, store: &Store) -> Result<Generation, IndexError> {
        let name = format!("g{}", jiff::Timestamp::now().as_microsecond());
        let dir = root.join(&name);
        let generation = Generation::create(&dir)?;
        let tx = store.read()?;
        let seq = tx.last_seq()?;
        let available = tx.available_by_sku()?;
        {
            let writer = generation.writer.lock().expect("lock");
            let mut in_stock = generation.in_stock.lock().expect("lock");
            tx.for_each_product(|product| {
                let stocked = available
                    .get(product.sku.as_str())
                    .is_some_and(|a| *a > Decimal::ZERO);
                in_stock.insert(product.sku.as_str().to_lowercase(), stocked);
                writer.add_document(generation.document(product, stocked))?;
                Ok::<(), IndexError>(())
            })?;
        }
        generation.applied.store(seq, Ordering::SeqCst);
        generation.commit(seq)?;
        tracing::info!(seq, dir = %dir.display(), "search index built");
        Ok(generation)
    }

    /// Records the current generation in `CURRENT` (atomically).
    fn publish(&self) -> Result<(), IndexError> {
        let generation = self.generation();
        let name = generation
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let temp = self.root.join("CURRENT.tmp");
        std::fs::write(&temp, name)?;
        std::fs::rename(temp, self.root.join("CURRENT"))?;
        Ok(())
    }

    /// Deletes generations other than the current one.
    fn remove_stale(&self) {
        let current = self.generation().dir.clone();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && path != current {
                if let Err(error) = std::fs::remove_dir_all(&path) {
                    tracing::warn!(%error, dir = %path.display(), "could not remove an old search index");
                }
            }
        }
    }

    /// Bytes the index takes on disk (every generation, while an old one is
    /// still being removed).
    pub fn size_on_disk(&self) -> u64 {
        fn size(dir: &Path) -> u64 {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return 0;
            };
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => size(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        }
        size(&self.root)
    }

    /// Applies every committed change the index has not seen; returns the `seq`
    /// it is at.
    pub fn catch_up(&self, store: &Store) -> Result<u64, IndexError> {
        self.generation().catch_up(store)
    }

    /// The change-log `seq` the searchable index reflects.
    pub fn seq(&self) -> u64 {
        self.generation().committed.load(Ordering::SeqCst)
    }

    /// Rebuilds the index aside from a snapshot, catches it up, and swaps it in;
    /// searches go on against the old one meanwhile.
    pub fn rebuild(&self, store: &Store) -> Result<u64, IndexError> {
        let fresh = Self::build(&self.root, store)?;
        fresh.catch_up(store)?;
        let seq = fresh.committed.load(Ordering::SeqCst);
        *self.current.write().expect("index lock") = Arc::new(fresh);
        self.publish()?;
        self.catch_up(store)?;
        self.remove_stale();
        Ok(seq)
    }

    /// Size of the index on disk, in bytes.
    pub fn size_bytes(&self) -> u64 {
        let dir = self.generation().dir.clone();
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
    }

    /// Runs a search: one pass over the index collects the page, the total and
    /// the facets (a facet the request filters on is counted in a pass of its
    /// own, without that filter, so its other values stay visible).
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult, IndexError> {
        let generation = self.generation();
        let f = generation.f;
        let searcher = generation.reader.searcher();
        let fields = text_fields(&f);
        let category = request.category.as_ref().map(|c| {
            generation
                .categories
                .read()
                .expect("lock")
                .get(c)
                .cloned()
                .unwrap_or_else(|| c.clone())
        });
        let filters = |skip_category: bool, skip_tags: bool| {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            if !request.include_inactive {
                clauses.push(filter(term_query(Term::from_field_u64(f.active, 1))));
            }
            if let (Some(c), false) = (&category, skip_category) {
                let facet = Facet::from_path(c.split('/'));
                clauses.push(filter(term_query(Term::from_facet(f.category, &facet))));
            }
            if !skip_tags {
                for tag in &request.tags {
                    let facet = Facet::from_path([tag.as_str()]);
                    clauses.push(filter(term_query(Term::from_facet(f.tags, &facet))));
                }
            }
            if let Some(in_stock) = request.in_stock {
                clauses.push(filter(term_query(Term::from_field_u64(
                    f.in_stock,
                    u64::from(in_stock),
                ))));
            }
            if request.price_min.is_some() || request.price_max.is_some() {
                let bound = |p: Option<u64>| {
                    p.map_or(Bound::Unbounded, |p| {
                        Bound::Included(Term::from_field_u64(f.price, p))
                    })
                };
                clauses.push(filter(Box::new(RangeQuery::new(
                    bound(request.price_min),
                    bound(request.price_max),
                ))));
            }
            clauses
        };
        let build = |any_word: bool, skip_category: bool, skip_tags: bool| -> Box<dyn Query> {
            let mut clauses = vec![(
                Occur::Must,
                text_query(&f, &searcher, &request.query, any_word, &fields),
            )];
            clauses.extend(filters(skip_category, skip_tags));
            Box::new(BooleanQuery::new(clauses))
        };
        let parent = category
            .as_deref()
            .map_or_else(Facet::root, |c| Facet::from_path(c.split('/')));
        let mut pass = Self::collect(&searcher, &*build(false, false, false), request, &parent)?;
        let mut any_word = false;
        if pass.total == 0 && request.query.slots.len() > 1 {
            // Nothing has every word: rank what has most of them.
            any_word = true;
            pass = Self::collect(&searcher, &*build(true, false, false), request, &parent)?;
        }
        let mut facets = pass.facets;
        if category.is_some() {
            let mut by_category = FacetCollector::for_field("category");
            by_category.add_facet(parent.clone());
            let counts = searcher.search(&*build(any_word, true, false), &by_category)?;
            facets.category = facet_counts(&counts, &parent, 100);
        }
        if !request.tags.is_empty() {
            let mut by_tag = FacetCollector::for_field("tags");
            by_tag.add_facet(Facet::root());
            let counts = searcher.search(&*build(any_word, false, true), &by_tag)?;
            facets.tags = facet_counts(&counts, &Facet::root(), 30);
        }
        if facets.category.is_empty()
            && let Some(c) = &category
            && pass.total > 0
        {
            // A leaf category: its own count.
            facets.category.push((c.clone(), pass.total as u64));
        }
        let hits = Self::skus(&searcher, &pass.page)?;
        Ok(SearchResult {
            hits,
            total: pass.total,
            facets,
        })
    }

    /// The page (in the requested order), the total and both facets, in one
    /// pass.
    fn collect(
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        request: &SearchRequest,
        category: &Facet,
    ) -> Result<Pass, IndexError> {
        let page = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        let mut by_category = FacetCollector::for_field("category");
        by_category.add_facet(category.clone());
        let mut by_tag = FacetCollector::for_field("tags");
        by_tag.add_facet(Facet::root());
        let (total, page, categories, tags) = match request.sort {
            Sort::Relevance => {
                let stocked_first = request.in_stock_first;
                let ranked = page.tweak_score(move |segment: &tantivy::SegmentReader| {
                    let column = |name: &str| {
                        segment
                            .fast_fields()
                            .u64(name)
                            .ok()
                            .map(|c| c.first_or_default_col(0))
                    };
                    let (active, in_stock) = (column("active"), column("in_stock"));
                    move |doc: tantivy::DocId, score: tantivy::Score| {
                        // Ties go to active products, then (when asked) to
                        // products in stock; the bonuses are far below any
                        // difference in relevance.
                        let on = |c: &Option<
                            std::sync::Arc<dyn tantivy::columnar::ColumnValues<u64>>,
                        >| {
                            c.as_ref().is_some_and(|c| c.get_val(doc) == 1)
                        };
                        let mut bonus = if on(&active) { 2e-4 } else { 0.0 };
                        if stocked_first && on(&in_stock) {
                            bonus += 1e-4;
                        }
                        score + bonus
                    }
                });
                let (n, top, c, t) =
                    searcher.search(query, &(Count, ranked, by_category, by_tag))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), c, t)
            }
            Sort::PriceAscending | Sort::PriceDescending => {
                let order = if request.sort == Sort::PriceAscending {
                    Order::Asc
                } else {
                    Order::Desc
                };
                let by_price = page.order_by_fast_field::<u64>("price", order);
                let (n, top, c, t) =
                    searcher.search(query, &(Count, by_price, by_category, by_tag))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), c, t)
            }
            Sort::Name => {
                let by_name = page.order_by_string_fast_field("name_sort", Order::Asc);
                let (n, top, c, t) =
                    searcher.search(query, &(Count, by_name, by_category, by_tag))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), c, t)
            }
        };
        Ok(Pass {
            total,
            page,
            facets: Facets {
                category: facet_counts(&categories, category, 100),
                tags: facet_counts(&tags, &Facet::root(), 30),
            },
        })
    }

    /// The SKUs of documents, read from the `sku_key` fast field.
    fn skus(searcher: &tantivy::Searcher, page: &[DocAddress]) -> Result<Vec<Hit>, IndexError> {
        let mut columns = HashMap::new();
        let mut hits = Vec::with_capacity(page.len());
        let mut text = String::new();
        for address in page {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .str("sku_key")?,
                ),
            };
            let Some(column) = column.as_ref() else {
                continue;
            };
            let Some(ord) = column.term_ords(address.doc_id).next() else {
                continue;
            };
            if column.ord_to_str(ord, &mut text)?
                && let Ok(sku) = Sku::parse(&text)
            {
                hits.push(Hit { sku });
            }
        }
        Ok(hits)
    }

    /// Up to `limit` product names completing what was typed, best first.
    pub fn suggest(&self, parsed: &Parsed, limit: usize) -> Result<Vec<(Sku, String)>, IndexError> {
        let generation = self.generation();
        let f = generation.f;
        let searcher = generation.reader.searcher();
        if parsed.slots.is_empty() {
            return Ok(Vec::new());
        }
        let name_only = [(f.name, 1.0, true)];
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                text_query(&f, &searcher, parsed, false, &name_only),
            ),
            filter(term_query(Term::from_field_u64(f.active, 1))),
        ]);
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let addresses: Vec<DocAddress> = top.into_iter().map(|(_, a)| a).collect();
        let mut out = Vec::with_capacity(addresses.len());
        for address in addresses {
            let Some(hit) = Self::skus(&searcher, &[address])?.pop() else {
                continue;
            };
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(name) = doc.get_first(f.name).and_then(|v| v.as_str()) {
                out.push((hit.sku, name.to_owned()));
            }
        }
        Ok(out)
    }
}
