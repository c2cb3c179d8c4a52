//! CSV imports: products (created or replaced by SKU), stock counts (booked
//! as `adjust` movements), movements, trade customers (created or replaced
//! by code) and price lists (a rule per row, the list's rows together
//! replacing it). Rows stream from the file; every bad
//! row is reported with its row number (the file's line, the header being
//! row 1), its column and the reason. All or nothing by default: one bad row
//! and nothing is written; with `skip_invalid` the good rows are.
//!
//! A location a stock or movement file names that does not exist is created
//! and listed in the report. Cells use the same names and formats as the API, with lists written
//! `a; b` and pairs `key=value; key=value` (see `cell_value`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::catalogue::{Upserted, create_location_in, upsert_in};
use super::cells::DECIMAL_COLUMNS;
use super::jobs::Progress;
use super::ledger::book_input;
use super::{App, AppError};
use crate::config::ShopConfig;
use crate::domain::accounts::Actor;
use crate::domain::catalogue::{Product, ProductInput};
use crate::domain::ledger::{LineInput, MAX_LINES, MovementInput, Reference};
use crate::domain::locale::DecimalMark;
use crate::domain::locations::{LocationCode, LocationInput, LocationName};
use crate::domain::values::Sku;
use crate::store::{ChangeKind, Store, StoreError, WriteTx};

/// The columns of product files: every editable field of the product API,
/// in the order exports write them.
pub const PRODUCT_COLUMNS: &[&str] = Product::FIELDS;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Products,
    Stock,
    Movements,
    Customers,
    #[serde(rename = "price-lists")]
    PriceLists,
}

impl std::str::FromStr for ImportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Products,
            Self::Stock,
            Self::Movements,
            Self::Customers,
            Self::PriceLists,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == s)
        .ok_or_else(|| {
            format!(
                "{s:?} is not something Quarry imports; use products, stock, movements, \
                 customers or price-lists"
            )
        })
    }
}

impl ImportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Stock => "stock",
            Self::Movements => "movements",
            Self::Customers => "customers",
            Self::PriceLists => "price-lists",
        }
    }

    /// The columns a file may have, and which of them it must have.
    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Self::Products => (
                PRODUCT_COLUMNS,
                &["sku", "name", "category", "unit", "price"],
            ),
            // `on_hand` is what `export stock` calls the counted level; its
            // `reserved` and `available` columns are read past.
            Self::Stock => (
                &[
                    "sku",
                    "location",
                    "quantity",
                    "on_hand",
                    "unit",
                    "reason",
                    "reserved",
                    "available",
                ],
                &["sku", "location"],
            ),
            // `actor` and `reverses` come with exported movements: an import
            // books as the importer, and reversals as plain movements.
            Self::Movements => (
                &[
                    "movement",
                    "at",
                    "kind",
                    "location",
                    "from",
                    "to",
                    "reference",
                    "note",
                    "sku",
                    "quantity",
                    "counted",
                    "unit",
                    "reason",
                    "actor",
                    "reverses",
                ],
                &["kind", "sku"],
            ),
            // As `export` writes them.
            Self::Customers => (&super::exports::CUSTOMER_COLUMNS, &["code", "name"]),
            Self::PriceLists => (&super::exports::PRICE_LIST_COLUMNS, &["code", "name"]),
        }
    }
}

/// One bad row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// The row's line in the file; the header is row 1.
    pub row: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub reason: String,
}

/// What an import did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportReport {
    pub kind: ImportKind,
    /// Data rows read.
    pub rows: u64,
    /// Products, customers or price lists created, replaced, or found
    /// identical.
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Movements booked (stock counts and movements).
    pub movements: u64,
    /// Locations the file named that did not exist, created (named by
    /// their code; rename them later).
    pub locations_created: Vec<String>,
    /// Rows refused.
    pub rejected: u64,
    /// The bad rows, in file order (the first 1,000).
    pub errors: Vec<RowError>,
    pub dry_run: bool,
    /// Whether anything was written: not for a dry run, nor when a row was
    /// bad without `skip_invalid`.
    pub written: bool,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Check and report; write nothing.
    pub dry_run: bool,
    /// Write the good rows even when some are bad.
    pub skip_invalid: bool,
    /// The reference stock counts are booked with (default: `import`),
    /// checked for every kind of import, even those that book nothing.
    pub reference: Option<Reference>,
    /// How the file writes decimals (default: as the shop's locale does).
    /// Cells are separated by whichever of `,` and `;` the header row uses
    /// more.
    pub decimal: Option<DecimalMark>,
}

/// Errors listed in a report; past this, bad rows are only counted.
const MAX_LISTED: usize = 1000;
/// Stock counts booked per `adjust` movement.
const COUNTS_PER_MOVEMENT: usize = 500;

/// Why an import's transaction is rolled back.
enum Rollback {
    /// Bad rows, or a dry run: the report says which.
    Report(ImportReport),
    Error(AppError),
}

impl From<StoreError> for Rollback {
    fn from(error: StoreError) -> Self {
        Self::Error(error.into())
    }
}

impl From<AppError> for Rollback {
    fn from(error: AppError) -> Self {
        Self::Error(error)
    }
}

fn settle(result: Result<ImportReport, Rollback>) -> Result<ImportReport, AppError> {
    match result {
        Ok(report) | Err(Rollback::Report(report)) => Ok(report),
        Err(Rollback::Error(error)) => Err(error),
    }
}

/// Runs the import in `tx`; the report says whether the caller's
/// transaction must be rolled back (`Err(Rollback::Report)`).
fn run(
    tx: &mut WriteTx,
    actor: &Actor,
    shop: &ShopConfig,
    kind: ImportKind,
    input: impl Read,
    options: &ImportOptions,
    listeners: &mut Listeners<'_>,
) -> Result<ImportReport, Rollback> {
    let mut import = Import {
        report: ImportReport {
            kind,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            movements: 0,
            locations_created: Vec::new(),
            rejected: 0,
            errors: Vec::new(),
            dry_run: options.dry_run,
            written: false,
        },
        actor,
        shop,
        reference: options
            .reference
            .as_ref()
            .map_or("import", Reference::as_str)
            .to_owned(),
        pending: Vec::new(),
        decimal: options
            .decimal
            .unwrap_or_else(|| DecimalMark::of(&shop.locale())),
        bad_row: &mut *listeners.bad_row,
        product_saved: &mut *listeners.product_saved,
        seen: HashMap::new(),
        lists: Vec::new(),
    };
    import.read(tx, input, &mut *listeners.progress)?;
    let report = &mut import.report;
    let bad = report.rejected > 0;
    if options.dry_run || (bad && !options.skip_invalid) {
        return Err(Rollback::Report(import.report));
    }
    report.written = true;
    if report.created + report.updated + report.movements > 0 {
        tx.record(
            ChangeKind::ImportDone,
            kind.as_str(),
            actor,
            &crate::store::payloads::ImportDone {
                rows: report.rows,
                created: report.created,
                updated: report.updated,
                movements: report.movements,
                rejected: report.rejected,
            },
        )?;
    }
    Ok(import.report)
}

/// What an import tells as it goes.
pub struct Listeners<'a> {
    /// The bytes of the file read so far; an error stops the import, which
    /// is rolled back.
    pub progress: &'a mut dyn FnMut(u64) -> Result<(), AppError>,
    /// Every bad row, as it is found (a report lists only the first 1,000).
    pub bad_row: &'a mut dyn FnMut(&RowError),
    /// Every product created or changed, as saved (the command line builds
    /// the search index from them while the import runs).
    pub product_saved: &'a mut dyn FnMut(Product),
}

/// Imports into a store opened directly (the command line): one transaction.
pub fn import_into_store(
    store: &Store,
    actor: &Actor,
    shop: &ShopConfig,
    kind: ImportKind,
    input: impl Read,
    options: &ImportOptions,
    mut listeners: Listeners<'_>,
) -> Result<ImportReport, AppError> {
    settle(store.write(|tx| run(tx, actor, shop, kind, input, options, &mut listeners)))
}

impl App {
    /// Imports `file` in a transaction of its own (other writes wait for it);
    /// `progress` follows the bytes of the file read. When the server begins
    /// to stop, the import is rolled back (503) rather than holding the stop.
    pub async fn import_file(
        &self,
        actor: Actor,
        kind: ImportKind,
        file: std::path::PathBuf,
        options: ImportOptions,
        progress: Arc<Progress>,
    ) -> Result<ImportReport, AppError> {
        let shop = self.config().shop.clone();
        let dir = self.config().data_dir.clone();
        let client = super::client_address();
        let stopping = self.shutting_down();
        let result = self
            .inner
            .writer
            .write_alone(client, move |tx| {
                let input = std::fs::File::open(&file)
                    .map_err(|e| AppError::Internal(format!("{}: {e}", file.display())))?;
                let size = input.metadata().map_or(0, |m| m.len());
                progress.set(0, size);
                let input = std::io::BufReader::new(input);
                let mut bad_rows = BadRowsFile::NotYet(dir);
                let imported = run(
                    tx,
                    &actor,
                    &shop,
                    kind,
                    input,
                    &options,
                    &mut Listeners {
                        progress: &mut |at| {
                            progress.set_done(at);
                            if stopping.is_cancelled() {
                                return Err(AppError::Store(StoreError::WriterStopped));
                            }
                            Ok(())
                        },
                        bad_row: &mut |error| bad_rows.write(error),
                        // The server's index follows the change log.
                        product_saved: &mut |_| {},
                    },
                );
                bad_rows.keep_in(&progress);
                imported
            })
            .await;
        settle(result)
    }
}

/// Room a staged upload leaves on the disk besides itself: the import that
/// reads it writes about as much again into the data file.
const STAGING_HEADROOM: u64 = 64 << 20;

/// An upload being received into a temporary file in the data dir, before it
/// is imported. Its writes pass the store's fault plan, and a write the disk
/// refuses answers like the store's own (503 `disk_full`), never 500.
pub struct Staging {
    file: tokio::fs::File,
    path: tempfile::TempPath,
    store: Store,
}

impl App {
    /// Starts staging an upload of `declared` bytes (the request's
    /// `Content-Length`, when sent): refused at once when the disk has not
    /// room for it and the import it feeds.
    pub async fn stage_upload(&self, declared: Option<u64>) -> Result<Staging, AppError> {
        let dir = self.config().data_dir.clone();
        let store = self.inner.store.clone();
        let checks = store.clone();
        let (file, path) = tokio::task::spawn_blocking(move || {
            if let Some(declared) = declared {
                let free = checks
                    .free_space()
                    .map_err(|e| StoreError::disk("the data dir's free space", &e))?;
                let needed = declared.saturating_mul(2).saturating_add(STAGING_HEADROOM);
                if free < needed {
                    return Err(AppError::Store(StoreError::Unavailable {
                        disk_full: true,
                        detail: format!(
                            "an upload of {} MiB and its import need about {} MiB free, the \
                             disk has {} MiB",
                            declared >> 20,
                            needed >> 20,
                            free >> 20
                        ),
                    }));
                }
            }
            tempfile::Builder::new()
                .prefix(".quarry-import-")
                .tempfile_in(&dir)
                .map(tempfile::NamedTempFile::into_parts)
                .map_err(|e| AppError::Store(StoreError::disk("staging the upload", &e)))
        })
        .await
        .map_err(|e| AppError::Internal(format!("staging task failed: {e}")))??;
        Ok(Staging {
            file: tokio::fs::File::from_std(file),
            path,
            store,
        })
    }
}

impl Staging {
    fn refused(error: &std::io::Error) -> AppError {
        AppError::Store(StoreError::disk("staging the upload", error))
    }

    /// Appends a piece of the upload.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        use tokio::io::AsyncWriteExt;
        self.store
            .check_fault(crate::store::faults::Op::Write)
            .map_err(|e| Self::refused(&e))?;
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| Self::refused(&e))
    }

    /// The whole upload, written out: its path, removed when dropped.
    pub async fn finish(mut self) -> Result<tempfile::TempPath, AppError> {
        use tokio::io::AsyncWriteExt;
        self.file.flush().await.map_err(|e| Self::refused(&e))?;
        Ok(self.path)
    }
}

/// Every bad row of an import over HTTP, written to a CSV file as it is
/// found: the report lists only the first [`MAX_LISTED`], the job offers the
/// file. Made at the first bad row, so a clean import touches no file. Best
/// effort: a file that cannot be written is given up, never the import.
enum BadRowsFile {
    /// No bad row yet; the file would go in this directory.
    NotYet(std::path::PathBuf),
    Open(Box<csv::Writer<std::fs::File>>, tempfile::TempPath),
    GaveUp,
}

impl BadRowsFile {
    fn open(dir: &std::path::Path) -> Result<Self, String> {
        let (file, path) = tempfile::Builder::new()
            .prefix(".quarry-bad-rows-")
            .suffix(".csv")
            .tempfile_in(dir)
            .map_err(|e| e.to_string())?
            .into_parts();
        let mut writer = csv::Writer::from_writer(file);
        writer
            .write_record(["row", "column", "reason"])
            .map_err(|e| e.to_string())?;
        Ok(Self::Open(Box::new(writer), path))
    }

    fn write(&mut self, error: &RowError) {
        if let Self::NotYet(dir) = self {
            *self = Self::open(dir).unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot keep an import's bad rows");
                Self::GaveUp
            });
        }
        let Self::Open(writer, _) = self else {
            return;
        };
        let column = error.column.as_deref().unwrap_or("");
        let row = error.row.to_string();
        let cells = [row.as_str(), column, &error.reason].map(super::cells::guard);
        if let Err(error) = writer.write_record(cells.iter().map(|c| c.as_bytes())) {
            tracing::warn!(%error, "cannot keep an import's bad rows");
            *self = Self::GaveUp;
        }
    }

    /// Hands the file, if there is one, to the job.
    fn keep_in(self, progress: &Progress) {
        if let Self::Open(mut writer, path) = self
            && writer.flush().is_ok()
        {
            progress.keep_bad_rows(path);
        }
    }
}

/// A stock count or movement line waiting to be booked with its neighbours.
struct PendingLine {
    row: u64,
    line: Value,
}

/// The movement the pending lines belong to.
struct Pending {
    /// The `movement` cell (movements) or location (stock) grouping the rows.
    key: String,
    first_row: u64,
    head: Map<String, Value>,
    at: Option<Timestamp>,
    lines: Vec<PendingLine>,
}

struct Import<'a> {
    report: ImportReport,
    actor: &'a Actor,
    shop: &'a ShopConfig,
    reference: String,
    pending: Vec<Pending>,
    decimal: DecimalMark,
    /// Told of every bad row as it is found (the report lists only the
    /// first [`MAX_LISTED`]).
    bad_row: &'a mut dyn FnMut(&RowError),
    product_saved: &'a mut dyn FnMut(Product),
    /// The row each product (by SKU) or stock count (by SKU and location)
    /// was first read at: a file that names one twice is ambiguous, so the
    /// later row is refused rather than silently winning.
    seen: HashMap<String, u64>,
    /// Price lists read so far, in file order: each list's rows together.
    lists: Vec<PendingList>,
}

/// A price list being read: its code, its name and the row that gave it,
/// and its rules with their rows.
struct PendingList {
    code: String,
    name: Value,
    row: u64,
    rules: Vec<(u64, Map<String, Value>)>,
}

/// The cell delimiter of a file: `;` when its header row (the start of
/// `head`) has more semicolons than commas outside quotes, else `,`.
fn delimiter(head: &[u8]) -> u8 {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let (mut quoted, mut commas, mut semicolons) = (false, 0, 0);
    for byte in line {
        match byte {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// `Column Name` → `column_name`.
fn normalize(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// The first part of a field path: `packs[1].quantity` → `packs`.
fn column_of(field: &str) -> String {
    // A movement's line: `lines[3].unit` is the row's `unit`.
    let field = field
        .strip_prefix("lines[")
        .and_then(|rest| rest.split_once("]."))
        .map_or(field, |(_, rest)| rest);
    field.split(['[', '.']).next().unwrap_or(field).to_owned()
}

/// A cell as the JSON the API takes for that field; decimals written with
/// `decimal`.
fn cell_value(column: &str, cell: &str, decimal: DecimalMark) -> Result<Value, String> {
    let number = |text: &str| decimal.read(text.trim()).map_err(|e| e.to_string());
    let list = || {
        cell.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    };
    let pairs = |what: &str| -> Result<Vec<(String, String)>, String> {
        list()
            .into_iter()
            .map(|item| {
                item.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| format!("{item:?} is not {what}"))
            })
            .collect()
    };
    Ok(match column {
        "active" | "allow_backorder" | "fractional_count" => match cell.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Value::Bool(true),
            "false" | "no" | "n" | "0" => Value::Bool(false),
            _ => return Err(format!("{cell:?} is not true or false")),
        },
        "tags" => Value::from(list()),
        // One address after another, a blank line between them.
        "delivery_addresses" => Value::from(
            cell.replace("\r\n", "\n")
                .split("\n\n")
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect::<Vec<_>>(),
        ),
        "percent_off" | "min_quantity" => Value::String(number(cell)?),
        "attributes" if cell.starts_with('{') => {
            serde_json::from_str(cell).map_err(|e| format!("not a JSON object: {e}"))?
        }
        "attributes" => Value::Object(
            pairs("name=value")?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
        "reorder_points" => Value::Object(
            pairs("location=quantity")?
                .into_iter()
                .map(|(k, v)| Ok((k, Value::String(number(&v)?))))
                .collect::<Result<_, String>>()?,
        ),
        c if DECIMAL_COLUMNS.contains(&c) => Value::String(number(cell)?),
        "price_breaks" => Value::Array(
            pairs("quantity=price")?
                .into_iter()
                .map(|(q, p)| {
                    Ok(serde_json::json!({"min_quantity": number(&q)?, "price": number(&p)?}))
                })
                .collect::<Result<_, String>>()?,
        ),
        "packs" => Value::Array(
            pairs("name=quantity unit, like bag=25 kg")?
                .into_iter()
                .map(|(name, size)| {
                    let (quantity, unit) = size
                        .split_once(char::is_whitespace)
                        .ok_or_else(|| format!("{size:?} needs a quantity and a unit"))?;
                    Ok(serde_json::json!({
                        "name": name, "quantity": number(quantity)?, "unit": unit.trim(),
                    }))
                })
                .collect::<Result<_, String>>()?,
        ),
        _ => Value::String(cell.to_owned()),
    })
}

impl Import<'_> {
    fn reject(&mut self, row: u64, column: Option<&str>, reason: impl Into<String>) {
        self.report.rejected += 1;
        let error = RowError {
            row,
            column: column.map(str::to_owned),
            reason: reason.into(),
        };
        (self.bad_row)(&error);
        if self.report.errors.len() < MAX_LISTED {
            self.report.errors.push(error);
        }
    }

    /// Whether `key` is read for the first time; if not, row `row` is
    /// refused, naming the row that came first.
    fn first_time(&mut self, row: u64, column: Option<&str>, key: String, what: &str) -> bool {
        if let Some(&first) = self.seen.get(&key) {
            self.reject(
                row,
                column,
                format!("{what} appears again; it was first at row {first}. Keep one row for it"),
            );
            return false;
        }
        self.seen.insert(key, row);
        true
    }

    /// The file's column for a field of the API's shape.
    fn column_named(&self, field: &str) -> String {
        let column = column_of(field);
        if self.report.kind == ImportKind::Stock && column == "counted" {
            "quantity".to_owned()
        } else {
            column
        }
    }

    /// A use case's refusal as a row error; other failures end the import.
    fn refused(&mut self, row: u64, error: AppError) -> Result<(), Rollback> {
        match error {
            AppError::Invalid { field, reason } => {
                let column = self.column_named(&field);
                self.reject(row, Some(&column), reason);
            }
            AppError::Conflict { field, message, .. } => {
                let column = field.as_deref().map(|f| self.column_named(f));
                self.reject(row, column.as_deref(), message);
            }
            AppError::NotFound { what, key } => {
                self.reject(row, None, format!("{what} {key} does not exist"));
            }
            other => return Err(Rollback::Error(other)),
        }
        Ok(())
    }

    fn read(
        &mut self,
        tx: &mut WriteTx,
        input: impl Read,
        progress: &mut dyn FnMut(u64) -> Result<(), AppError>,
    ) -> Result<(), Rollback> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let delimiter = delimiter(
            input
                .fill_buf()
                .map_err(|e| Rollback::Error(AppError::Internal(e.to_string())))?,
        );
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(input);
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(error) => {
                self.reject(1, None, format!("cannot read the header row: {error}"));
                return Ok(());
            }
        };
        let Some(columns) = self.columns(&headers) else {
            return Ok(());
        };
        let width = headers.len();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(error) => {
                    let row = error.position().map_or(0, csv::Position::line);
                    if let csv::ErrorKind::Io(_) = error.kind() {
                        return Err(Rollback::Error(AppError::Internal(error.to_string())));
                    }
                    self.report.rows += 1;
                    self.reject(row, None, format!("not readable CSV: {error}"));
                    continue;
                }
            }
            let row = record.position().map_or(0, csv::Position::line);
            if record.iter().all(str::is_empty) {
                continue;
            }
            self.report.rows += 1;
            if record.len() != width {
                self.reject(
                    row,
                    None,
                    format!("has {} cells but the header has {width}", record.len()),
                );
                continue;
            }
            let mut cells = Map::new();
            let mut bad = false;
            for &(i, column) in &columns {
                // A cell an export guarded against spreadsheets reads as it was.
                let cell = super::cells::unguard(record.get(i).unwrap_or_default());
                if cell.is_empty() {
                    continue;
                }
                match cell_value(column, cell, self.decimal) {
                    Ok(value) => {
                        cells.insert(column.to_owned(), value);
                    }
                    Err(reason) => {
                        self.reject(row, Some(column), reason);
                        bad = true;
                        break;
                    }
                }
            }
            if !bad {
                match self.report.kind {
                    ImportKind::Products => self.product(tx, row, cells)?,
                    ImportKind::Stock => self.count(tx, row, cells)?,
                    ImportKind::Movements => self.movement_row(tx, row, cells)?,
                    ImportKind::Customers => self.customer(tx, row, cells)?,
                    ImportKind::PriceLists => self.list_row(row, cells),
                }
            }
            if self.report.rows % 1000 == 0 {
                progress(record.position().map_or(0, csv::Position::byte))?;
            }
        }
        self.flush(tx)?;
        self.save_lists(tx)?;
        progress(reader.position().byte())?;
        Ok(())
    }

    /// The known columns of the header row and where they are; `None` (with
    /// the reasons reported as row 1) when the header is not usable.
    fn columns(&mut self, headers: &csv::StringRecord) -> Option<Vec<(usize, &'static str)>> {
        let (known, required) = self.report.kind.columns();
        let mut columns: Vec<(usize, &'static str)> = Vec::new();
        for (i, header) in headers.iter().enumerate() {
            let name = normalize(header);
            if name.is_empty() {
                continue;
            }
            match known.iter().find(|k| **k == name) {
                Some(k) if columns.iter().any(|(_, c)| c == k) => {
                    self.reject(1, Some(header), "appears twice");
                }
                Some(k) => columns.push((i, k)),
                None => self.reject(
                    1,
                    Some(header),
                    format!(
                        "is not a column of a {} file; use {}",
                        self.report.kind.as_str(),
                        known.join(", ")
                    ),
                ),
            }
        }
        for column in required {
            if !columns.iter().any(|(_, c)| c == column) {
                self.reject(1, Some(column), "is required and missing");
            }
        }
        if self.report.kind == ImportKind::Stock
            && !columns
                .iter()
                .any(|(_, c)| matches!(*c, "quantity" | "on_hand"))
        {
            self.reject(
                1,
                Some("quantity"),
                "is required and missing (or `on_hand`)",
            );
        }
        (self.report.rejected == 0).then_some(columns)
    }

    fn product(
        &mut self,
        tx: &mut WriteTx,
        row: u64,
        cells: Map<String, Value>,
    ) -> Result<(), Rollback> {
        let input: ProductInput = match serde_path_to_error::deserialize(Value::Object(cells)) {
            Ok(input) => input,
            Err(error) => {
                let column = column_of(&error.path().to_string());
                self.reject(row, Some(&column), error.into_inner().to_string());
                return Ok(());
            }
        };
        if let Some(sku) = &input.sku
            && !self.first_time(row, Some("sku"), sku.to_string(), &format!("SKU {sku}"))
        {
            return Ok(());
        }
        match upsert_in(tx, self.actor, self.shop, input) {
            Ok((upserted, saved)) => {
                match upserted {
                    Upserted::Created => self.report.created += 1,
                    Upserted::Updated => self.report.updated += 1,
                    Upserted::Unchanged => self.report.unchanged += 1,
                }
                if let Some(product) = saved {
                    (self.product_saved)(product);
                }
            }
            Err(error) => self.refused(row, error)?,
        }
        Ok(())
    }

    /// A customer's row: created, or its details replaced.
    fn customer(
        &mut self,
        tx: &mut WriteTx,
        row: u64,
        cells: Map<String, Value>,
    ) -> Result<(), Rollback> {
        let input: crate::domain::customers::CustomerInput =
            match serde_path_to_error::deserialize(Value::Object(cells)) {
                Ok(input) => input,
                Err(error) => {
                    let column = column_of(&error.path().to_string());
                    self.reject(row, Some(&column), error.into_inner().to_string());
                    return Ok(());
                }
            };
        let Some(code) = input.code.clone() else {
            self.reject(row, Some("code"), "is required");
            return Ok(());
        };
        if !self.first_time(
            row,
            Some("code"),
            code.to_string(),
            &format!("customer {code}"),
        ) {
            return Ok(());
        }
        match super::customers::upsert_customer_in(tx, self.actor, input) {
            Ok(Upserted::Created) => self.report.created += 1,
            Ok(Upserted::Updated) => self.report.updated += 1,
            Ok(Upserted::Unchanged) => self.report.unchanged += 1,
            Err(error) => self.refused(row, error)?,
        }
        Ok(())
    }

    /// A price list's row: its rule (if the rule's cells are not all empty)
    /// joins the list's other rows, which must give the same name.
    fn list_row(&mut self, row: u64, mut cells: Map<String, Value>) {
        let code = cells
            .remove("code")
            .and_then(|c| c.as_str().map(str::to_uppercase))
            .unwrap_or_default();
        let name = cells.remove("name").unwrap_or(Value::Null);
        if let Some(list) = self.lists.iter_mut().find(|l| l.code == code) {
            if list.name != name {
                let first = list.row;
                self.reject(
                    row,
                    Some("name"),
                    format!("differs from the name of list {code} at row {first}"),
                );
                return;
            }
            if !cells.is_empty() {
                list.rules.push((row, cells));
            }
            return;
        }
        let rules = if cells.is_empty() {
            Vec::new()
        } else {
            vec![(row, cells)]
        };
        self.lists.push(PendingList {
            code,
            name,
            row,
            rules,
        });
    }

    /// Creates or replaces every price list read; a refusal names the row
    /// of the rule at fault (or the list's first row).
    fn save_lists(&mut self, tx: &mut WriteTx) -> Result<(), Rollback> {
        for list in std::mem::take(&mut self.lists) {
            let rows: Vec<u64> = list.rules.iter().map(|(row, _)| *row).collect();
            let row_of = |field: &str| {
                field
                    .strip_prefix("rules[")
                    .and_then(|rest| rest.split(']').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| rows.get(i).copied())
                    .unwrap_or(list.row)
            };
            let body = serde_json::json!({
                "code": list.code,
                "name": list.name,
                "rules": list.rules.iter().map(|(_, r)| Value::Object(r.clone())).collect::<Vec<_>>(),
            });
            let input: crate::domain::customers::PriceListInput =
                match serde_path_to_error::deserialize(body) {
                    Ok(input) => input,
                    Err(error) => {
                        let path = error.path().to_string();
                        let column = path.rsplit('.').next().unwrap_or(&path).to_owned();
                        self.reject(row_of(&path), Some(&column), error.into_inner().to_string());
                        continue;
                    }
                };
            match super::customers::upsert_price_list_in(tx, self.actor, input) {
                Ok(Upserted::Created) => self.report.created += 1,
                Ok(Upserted::Updated) => self.report.updated += 1,
                Ok(Upserted::Unchanged) => self.report.unchanged += 1,
                Err(AppError::Invalid { field, reason }) => {
                    let column = field.rsplit('.').next().unwrap_or(&field).to_owned();
                    self.reject(row_of(&field), Some(&column), reason);
                }
                Err(error) => self.refused(list.row, error)?,
            }
        }
        // A list is checked once all its rows are read: the report keeps
        // file order.
        self.report.errors.sort_by_key(|e| e.row);
        Ok(())
    }

    /// Checks one line's cells on their own, so a bad cell names its row.
    fn line(&mut self, row: u64, line: Map<String, Value>) -> Option<Value> {
        let value = Value::Object(line);
        match serde_path_to_error::deserialize::<_, LineInput>(value.clone()) {
            Ok(_) => Some(value),
            Err(error) => {
                let column = column_of(&error.path().to_string());
                self.reject(row, Some(&column), error.into_inner().to_string());
                None
            }
        }
    }

    fn count(
        &mut self,
        tx: &mut WriteTx,
        row: u64,
        mut cells: Map<String, Value>,
    ) -> Result<(), Rollback> {
        let Some(Value::String(location)) = cells.remove("location") else {
            self.reject(row, Some("location"), "is required");
            return Ok(());
        };
        let Some(counted) = cells.remove("quantity").or_else(|| cells.remove("on_hand")) else {
            self.reject(row, Some("quantity"), "is required");
            return Ok(());
        };
        let mut line = Map::new();
        line.insert("sku".into(), cells.remove("sku").unwrap_or_default());
        line.insert("counted".into(), counted);
        if let Some(unit) = cells.remove("unit") {
            line.insert("unit".into(), unit);
        }
        let reason = cells
            .remove("reason")
            .unwrap_or_else(|| Value::String("Stock count import".into()));
        line.insert("reason".into(), reason);
        let Some(line) = self.line(row, line) else {
            return Ok(());
        };
        let sku = line["sku"].as_str().and_then(|s| Sku::parse(s).ok());
        let code = LocationCode::parse(&location).ok();
        if let (Some(sku), Some(code)) = (sku, code)
            && !self.first_time(
                row,
                Some("sku"),
                format!("{sku}\n{code}"),
                &format!("the count of SKU {sku} at {code}"),
            )
        {
            return Ok(());
        }
        let same = self
            .pending
            .last()
            .is_some_and(|p| p.key == location && p.lines.len() < COUNTS_PER_MOVEMENT);
        if !same {
            self.flush(tx)?;
            let mut head = Map::new();
            head.insert("kind".into(), Value::String("adjust".into()));
            head.insert("location".into(), Value::String(location.clone()));
            head.insert("reference".into(), Value::String(self.reference.clone()));
            self.pending.push(Pending {
                key: location,
                first_row: row,
                head,
                at: None,
                lines: Vec::new(),
            });
        }
        self.pending
            .last_mut()
            .expect("a pending movement")
            .lines
            .push(PendingLine { row, line });
        Ok(())
    }

    fn movement_row(
        &mut self,
        tx: &mut WriteTx,
        row: u64,
        mut cells: Map<String, Value>,
    ) -> Result<(), Rollback> {
        let key = match cells.remove("movement") {
            Some(Value::String(key)) => key,
            _ => String::new(),
        };
        cells.remove("actor");
        cells.remove("reverses");
        let at = match cells.remove("at") {
            Some(Value::String(text)) => {
                if let Ok(at) = text.parse::<Timestamp>() {
                    Some(at)
                } else {
                    self.reject(
                        row,
                        Some("at"),
                        format!("{text:?} is not a date and time such as 2026-03-01T08:30:00Z"),
                    );
                    return Ok(());
                }
            }
            _ => None,
        };
        let mut head = Map::new();
        for field in ["kind", "location", "from", "to", "reference", "note"] {
            if let Some(value) = cells.remove(field) {
                head.insert(field.to_owned(), value);
            }
        }
        let kind = head.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind == "adjust" && cells.contains_key("counted") {
            // An exported counted adjustment carries its change too; the count wins.
            cells.remove("quantity");
        }
        let Some(line) = self.line(row, cells) else {
            return Ok(());
        };
        let continues = !key.is_empty() && self.pending.last().is_some_and(|p| p.key == key);
        if continues {
            let pending = self.pending.last_mut().expect("a pending movement");
            for (field, value) in &head {
                if pending.head.get(field) != Some(value) {
                    let first = pending.first_row;
                    self.reject(
                        row,
                        Some(field),
                        format!("differs from row {first}, the first row of movement {key}"),
                    );
                    return Ok(());
                }
            }
            if pending.lines.len() >= MAX_LINES {
                self.reject(
                    row,
                    Some("movement"),
                    format!("movement {key} has more than {MAX_LINES} lines"),
                );
                return Ok(());
            }
            pending.lines.push(PendingLine { row, line });
            return Ok(());
        }
        self.flush(tx)?;
        self.pending.push(Pending {
            key,
            first_row: row,
            head,
            at,
            lines: vec![PendingLine { row, line }],
        });
        Ok(())
    }

    /// The other rows of a movement refused at row `refused` go with it,
    /// each reported.
    fn reject_rest(&mut self, lines: &[PendingLine], refused: u64) {
        for line in lines.iter().filter(|l| l.row != refused) {
            self.reject(
                line.row,
                Some("movement"),
                format!("its movement was refused at row {refused}"),
            );
        }
    }

    /// Books what is pending. A stock count drops a bad line and books the
    /// rest; a movement is booked whole or refused whole.
    fn flush(&mut self, tx: &mut WriteTx) -> Result<(), Rollback> {
        let Some(mut pending) = self.pending.pop() else {
            return Ok(());
        };
        let partial = self.report.kind == ImportKind::Stock;
        while !pending.lines.is_empty() {
            let mut body = pending.head.clone();
            body.insert(
                "lines".into(),
                Value::Array(pending.lines.iter().map(|l| l.line.clone()).collect()),
            );
            self.create_locations(tx, &pending.head)?;
            let input: MovementInput = match serde_path_to_error::deserialize(Value::Object(body)) {
                Ok(input) => input,
                Err(error) => {
                    let column = column_of(&error.path().to_string());
                    self.reject(
                        pending.first_row,
                        Some(&column),
                        error.into_inner().to_string(),
                    );
                    self.reject_rest(&pending.lines, pending.first_row);
                    return Ok(());
                }
            };
            match book_input(tx, self.actor, input, pending.at) {
                Ok(_) => {
                    self.report.movements += 1;
                    return Ok(());
                }
                Err(error) => {
                    let line = line_of(&error);
                    let row = line
                        .and_then(|i| pending.lines.get(i))
                        .map_or(pending.first_row, |l| l.row);
                    self.refused(row, error)?;
                    match line {
                        Some(i) if partial && i < pending.lines.len() => {
                            pending.lines.remove(i);
                        }
                        _ => {
                            self.reject_rest(&pending.lines, row);
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Import<'_> {
    /// Creates the locations a movement names that do not exist yet.
    fn create_locations(
        &mut self,
        tx: &mut WriteTx,
        head: &Map<String, Value>,
    ) -> Result<(), Rollback> {
        for field in ["location", "from", "to"] {
            let Some(code) = head.get(field).and_then(Value::as_str) else {
                continue;
            };
            // A malformed code is left for the booking to refuse.
            let Ok(code) = LocationCode::parse(code) else {
                continue;
            };
            if tx.location(&code)?.is_some() {
                continue;
            }
            let input = LocationInput {
                name: LocationName::parse(code.as_str())
                    .map_err(|e| AppError::invalid(field, e))?,
                code: code.clone(),
                active: true,
            };
            create_location_in(tx, self.actor, input)?;
            self.report.locations_created.push(code.to_string());
        }
        Ok(())
    }
}

/// The line a movement's error is about: `lines[3].quantity` → 3.
fn line_of(error: &AppError) -> Option<usize> {
    let field = match error {
        AppError::Invalid { field, .. }
        | AppError::Conflict {
            field: Some(field), ..
        } => field.as_str(),
        _ => return None,
    };
    field
        .strip_prefix("lines[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_whatever_their_case_and_spacing() {
        assert_eq!(normalize(" Density kg-m3 "), "density_kg_m3");
        assert_eq!(normalize("\u{feff}SKU"), "sku");
        assert_eq!(normalize("Allow  Backorder"), "allow_backorder");
    }

    #[test]
    fn cells_become_the_api_shapes() {
        assert_eq!(
            cell_value("packs", "bag=25 kg; pallet=40 bag", DecimalMark::Dot).unwrap(),
            serde_json::json!([
                {"name": "bag", "quantity": "25", "unit": "kg"},
                {"name": "pallet", "quantity": "40", "unit": "bag"},
            ])
        );
        assert_eq!(
            cell_value("price_breaks", "10=36.10", DecimalMark::Dot).unwrap(),
            serde_json::json!([{"min_quantity": "10", "price": "36.10"}])
        );
        assert_eq!(
            cell_value("active", "No", DecimalMark::Dot).unwrap(),
            Value::Bool(false)
        );
        assert!(cell_value("active", "maybe", DecimalMark::Dot).is_err());
        assert!(cell_value("packs", "bag", DecimalMark::Dot).is_err());
        assert_eq!(
            cell_value("attributes", r#"{"a": "x;y"}"#, DecimalMark::Dot).unwrap(),
            serde_json::json!({"a": "x;y"})
        );
    }

    #[test]
    fn a_field_path_names_its_column() {
        assert_eq!(column_of("packs[1].quantity"), "packs");
        assert_eq!(column_of("price"), "price");
        assert_eq!(column_of("lines[2].sku"), "sku");
        let error = AppError::invalid("lines[12].unit", "no");
        assert_eq!(line_of(&error), Some(12));
        assert_eq!(line_of(&AppError::invalid("location", "no")), None);
    }
}
