//! Index generations: each index lives in `<data dir>/index/<generation>/`,
//! and `<data dir>/index/CURRENT` names the one in use. Every commit records
//! `{"seq", "schema"}` as its payload: the last change-log entry applied. On
//! start the index catches up from there; if it is missing, unreadable, from
//! another schema, or ahead of the store, it is rebuilt. A rebuild is made
//! aside and swapped in, so searches never stop.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::IndexError;
use super::schema::{Fields, SCHEMA, register_tokenizers, schema};
use crate::domain::values::Sku;
use crate::store::{ChangeKind, ReadTx, Store, payloads};

/// Memory for the index writer.
const WRITER_HEAP: usize = 50_000_000;
/// Commit at least this often (in change-log entries) even when no document
/// changed, so a restart has little to replay.
const PAYLOAD_EVERY: u64 = 10_000;

/// Why an index cannot be opened when there is none.
const NO_INDEX: &str = "no index yet";

/// What an index commit records.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Payload {
    seq: u64,
    schema: u32,
    /// The store epoch the index was built from (0: before epochs).
    #[serde(default)]
    epoch: u64,
}

/// One index in its own directory, with its reader and writer.
pub(super) struct Generation {
    dir: PathBuf,
    pub(super) reader: IndexReader,
    writer: Mutex<IndexWriter>,
    pub(super) f: Fields,
    /// The last change-log `seq` applied (committed or not).
    applied: AtomicU64,
    /// The `seq` in the last commit's payload.
    committed: AtomicU64,
    /// The store epoch this index follows (recorded in every commit).
    epoch: u64,
    /// Whether each product is indexed as in stock, as far as known.
    in_stock: Mutex<HashMap<String, bool>>,
    /// Set when the index failed to apply or commit changes.
    broken: AtomicBool,
    /// Lower-cased category path → the path as products spell it.
    pub(super) categories: RwLock<HashMap<String, String>>,
}

impl Generation {
    fn create(dir: &Path, epoch: u64) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, _) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::from_index(dir, &index, 0, epoch)
    }

    /// A new, empty generation in a directory of its own under `root`.
    fn fresh(root: &Path, epoch: u64) -> Result<Self, IndexError> {
        let dir = root.join(format!("g{}", jiff::Timestamp::now().as_microsecond()));
        Self::create(&dir, epoch)
    }

    /// Adds `product` to a generation being built (no earlier document of
    /// it to replace).
    fn add_built(
        &self,
        writer: &IndexWriter,
        in_stock: &mut HashMap<String, bool>,
        product: &crate::domain::catalogue::Product,
        stocked: bool,
    ) -> Result<(), IndexError> {
        in_stock.insert(product.sku.as_str().to_lowercase(), stocked);
        writer.add_document(self.f.document(product, stocked))?;
        Ok(())
    }

    /// Commits a generation built from the store as of `seq`.
    fn seal(&self, seq: u64) -> Result<(), IndexError> {
        self.applied.store(seq, Ordering::SeqCst);
        self.commit(seq)
    }

    /// Opens the index in `dir`, refusing one built from another store
    /// epoch than `epoch`.
    fn open(dir: &Path, epoch: u64) -> Result<(Self, u64), IndexError> {
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
        if payload.epoch != epoch {
            return Err(IndexError::Tantivy(tantivy::TantivyError::SchemaError(
                "the index was built from another store (restored or migrated since)".into(),
            )));
        }
        let generation = Self::from_index(dir, &index, payload.seq, epoch)?;
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

    fn from_index(dir: &Path, index: &Index, seq: u64, epoch: u64) -> Result<Self, IndexError> {
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
            epoch,
            in_stock: Mutex::new(HashMap::new()),
            broken: AtomicBool::new(false),
            categories: RwLock::new(HashMap::new()),
        };
        generation.refresh_categories()?;
        Ok(generation)
    }

    /// Replaces (or removes) the document of `sku` with the product as the
    /// snapshot has it.
    fn upsert(&self, writer: &IndexWriter, tx: &ReadTx, sku: &Sku) -> Result<(), IndexError> {
        let key = sku.as_str().to_lowercase();
        writer.delete_term(Term::from_field_text(self.f.sku_key, &key));
        if let Some(product) = tx.product(sku)? {
            let available: Decimal = tx.levels_of(sku)?.iter().map(|(_, l)| l.available()).sum();
            let in_stock = available > Decimal::ZERO;
            writer.add_document(self.f.document(&product, in_stock))?;
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
                        let level = change.payload::<payloads::LevelChanged>()?;
                        let now = level.product_available > Decimal::ZERO;
                        if self.indexed_in_stock(level.sku.as_str()) != Some(now) {
                            touched.insert(level.sku);
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
                epoch: self.epoch,
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
        let (store_seq, epoch) = {
            let tx = store.read()?;
            (tx.last_seq()?, tx.store_epoch()?)
        };
        let opened = std::fs::read_to_string(root.join("CURRENT"))
            .ok()
            .map(|name| root.join(name.trim()))
            .filter(|dir| dir.is_dir())
            .ok_or_else(|| NO_INDEX.to_owned())
            .and_then(|dir| Generation::open(&dir, epoch).map_err(|e| e.to_string()));
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

    pub(super) fn generation(&self) -> Arc<Generation> {
        self.current.read().expect("index lock").clone()
    }

    /// Builds a complete index of the store's products in a new directory.
    fn build(root: &Path, store: &Store) -> Result<Generation, IndexError> {
        let tx = store.read()?;
        let generation = Generation::fresh(root, tx.store_epoch()?)?;
        let seq = tx.last_seq()?;
        let available = tx.available_by_sku()?;
        {
            let writer = generation.writer.lock().expect("lock");
            let mut in_stock = generation.in_stock.lock().expect("lock");
            tx.for_each_product(|product| {
                let stocked = available
                    .get(product.sku.as_str())
                    .is_some_and(|a| *a > Decimal::ZERO);
                generation.add_built(&writer, &mut in_stock, product, stocked)
            })?;
        }
        generation.seal(seq)?;
        tracing::info!(seq, dir = %generation.dir.display(), "search index built");
        Ok(generation)
    }

    /// Starts building a fresh index on a thread of its own from products
    /// handed to it one by one, for an import into a store that has no
    /// products yet: the catalogue is indexed while it is written, in one
    /// pass, instead of being read back afterwards. [`Alongside::finish`]
    /// makes it the data dir's index once the import has committed; dropping
    /// it unfinished leaves the index as it was.
    pub fn build_alongside(data_dir: &Path, store: &Store) -> Result<Alongside, IndexError> {
        let root = data_dir.join("index");
        std::fs::create_dir_all(&root)?;
        let generation = Generation::fresh(&root, store.read()?.store_epoch()?)?;
        let dir = generation.dir.clone();
        // Room for a few thousand products in flight: the import never waits
        // on the index unless the index falls that far behind.
        let (products, received) =
            std::sync::mpsc::sync_channel::<crate::domain::catalogue::Product>(4096);
        let worker = std::thread::Builder::new()
            .name("quarry-index-build".to_owned())
            .spawn(move || -> Result<Generation, IndexError> {
                {
                    let writer = generation.writer.lock().expect("lock");
                    let mut in_stock = generation.in_stock.lock().expect("lock");
                    for product in received {
                        // A store without products has no stock either.
                        generation.add_built(&writer, &mut in_stock, &product, false)?;
                    }
                }
                Ok(generation)
            })?;
        Ok(Alongside {
            root,
            dir,
            products: Some(products),
            worker: Some(worker),
        })
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
}

/// A fresh index being built alongside an import ([`SearchIndex::build_alongside`]).
pub struct Alongside {
    root: PathBuf,
    dir: PathBuf,
    products: Option<std::sync::mpsc::SyncSender<crate::domain::catalogue::Product>>,
    worker: Option<std::thread::JoinHandle<Result<Generation, IndexError>>>,
}

impl Alongside {
    /// Hands the index a product as the import writes it.
    pub fn add(&self, product: crate::domain::catalogue::Product) {
        if let Some(products) = &self.products {
            // A worker that stopped has an error to report at `finish`.
            let _ = products.send(product);
        }
    }

    /// Commits the index at the store's newest change (the import is
    /// committed, and nothing else wrote meanwhile: the command line holds
    /// the store alone) and makes it the data dir's index; returns that
    /// `seq`.
    pub fn finish(mut self, store: &Store) -> Result<u64, IndexError> {
        drop(self.products.take());
        let generation = self
            .worker
            .take()
            .expect("finished once")
            .join()
            .map_err(|_| {
                IndexError::Tantivy(tantivy::TantivyError::SystemError(
                    "the index build stopped unexpectedly".into(),
                ))
            })??;
        let seq = store.read()?.last_seq()?;
        generation.seal(seq)?;
        let index = SearchIndex {
            root: self.root.clone(),
            current: RwLock::new(Arc::new(generation)),
        };
        index.publish()?;
        index.remove_stale();
        Ok(seq)
    }
}

impl Drop for Alongside {
    fn drop(&mut self) {
        // Unfinished (the import was rolled back, or failed): the data dir
        // keeps the index it had.
        if let Some(worker) = self.worker.take() {
            drop(self.products.take());
            let _ = worker.join();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
