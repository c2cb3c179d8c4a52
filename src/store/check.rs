//! Care of a data file no server holds open: `quarry check` verifies it
//! (redb's integrity check, the schema version, a gap-free change log, indexes
//! that agree with their tables) and `quarry compact` reclaims its free pages.

use std::io;
use std::path::Path;

use redb::{Database, ReadableDatabase};

use super::open::open_database;
use super::tables::{LOCATIONS, META, PRODUCTS, SCHEMA_VERSION, SCHEMA_VERSION_KEY, TOKENS, USERS};
use super::{DB_FILE, Options, ReadTx, ReadTxn, Store, StoreError};

/// Compacts the data file in `data_dir` to reclaim the space of deleted and
/// superseded pages; the server must be stopped. Returns the file's size in
/// bytes before and after.
pub fn compact(data_dir: &Path) -> Result<(u64, u64), StoreError> {
    let path = data_dir.join(DB_FILE);
    let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: io::Error::new(io::ErrorKind::NotFound, "no Quarry data file here"),
        });
    }
    let before = size(&path);
    let mut db = open_database(data_dir, &path, &Options::default(), None)?;
    compact_database(&mut db)?;
    drop(db);
    Ok((before, size(&path)))
}

/// Compacts until redb finds nothing more to reclaim.
pub(super) fn compact_database(db: &mut Database) -> Result<(), StoreError> {
    // Each pass may free pages the next one can move; a few passes suffice.
    for _ in 0..8 {
        if !db.compact().map_err(|e| StoreError::Database(e.into()))? {
            break;
        }
    }
    Ok(())
}

/// What `quarry check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<String>,
    pub schema_version: u64,
    pub last_seq: u64,
    pub products: u64,
    pub locations: u64,
    pub users: u64,
    pub tokens: u64,
    pub movements: u64,
}

/// Verifies the store in `data_dir`: redb's own integrity check, the schema
/// version, a gap-free change log and consistent indexes. The only change it
/// makes is the one any opening makes: a journal left by a server that
/// stopped before its checkpoint is replayed into the file first.
pub fn check(data_dir: &Path) -> Result<CheckReport, StoreError> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: io::Error::new(io::ErrorKind::NotFound, "no Quarry data file here"),
        });
    }
    let mut db = open_database(data_dir, &path, &Options::default(), None)?;
    let mut report = CheckReport::default();
    match db.check_integrity() {
        Ok(true) => {}
        Ok(false) => report
            .problems
            .push("redb integrity check failed; the file was repaired".into()),
        Err(error) => report
            .problems
            .push(format!("redb integrity check failed: {error}")),
    }
    let tx = ReadTx {
        txn: ReadTxn::Redb(db.begin_read()?),
    };
    check_snapshot(&tx, &path.display().to_string(), &mut report)?;
    Ok(report)
}

/// [`check`] for the store `options` select: the data dir's file, or the
/// PostgreSQL database (checked from one snapshot while nodes serve).
pub fn check_with(data_dir: &Path, options: &Options) -> Result<CheckReport, StoreError> {
    if options.url.as_ref().is_some_and(|u| !u.is_empty()) {
        check_store(&Store::open_with(data_dir, options.clone())?)
    } else {
        check(data_dir)
    }
}

/// Checks a store in PostgreSQL from one snapshot, while nodes serve.
pub fn check_store(store: &Store) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    let tx = store.read()?;
    check_snapshot(&tx, &store.path().display().to_string(), &mut report)?;
    Ok(report)
}

/// The checks both engines share: schema version, a gap-free change log,
/// the indexes, levels against the ledger, and the counts.
pub(super) fn check_snapshot(
    tx: &ReadTx,
    path: &str,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let version = tx.table(META)?.get(SCHEMA_VERSION_KEY)?;
    match version {
        None => report.problems.push("no schema version recorded".into()),
        Some(v) if v > SCHEMA_VERSION => {
            return Err(StoreError::SchemaTooNew {
                path: path.into(),
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        Some(v) => report.schema_version = v,
    }
    report.last_seq = tx.last_seq()?;
    if let Some(gap) = tx.find_change_log_gap()? {
        report.problems.push(format!("change log: {gap}"));
    }
    report.problems.extend(tx.check_catalogue_indexes()?);
    report.problems.extend(tx.check_token_index()?);
    report.problems.extend(tx.check_levels()?);
    report.movements = tx.movement_count()?;
    report.products = tx.table(PRODUCTS)?.len()?;
    report.locations = tx.table(LOCATIONS)?.len()?;
    report.users = tx.table(USERS)?.len()?;
    report.tokens = tx.table(TOKENS)?.len()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tables::PRODUCTS_BY_BARCODE;
    use crate::store::test_records::{product, save};
    use crate::store::{ProductQuery, Store};

    #[test]
    fn indexes_follow_barcode_and_category_changes_and_check_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut p = product("A-1", "Tools/Hand", Some("123"));
        save(&store, &p);
        p.barcode = Some(crate::domain::catalogue::Barcode::parse("456").unwrap());
        p.category = crate::domain::catalogue::CategoryPath::parse("Tools/Power").unwrap();
        save(&store, &p);
        let tx = store.read().unwrap();
        let old = crate::domain::catalogue::Barcode::parse("123").unwrap();
        let new = crate::domain::catalogue::Barcode::parse("456").unwrap();
        assert_eq!(tx.sku_by_barcode(&old).unwrap(), None);
        assert_eq!(tx.sku_by_barcode(&new).unwrap(), Some(p.sku.clone()));
        let hand = ProductQuery {
            category: Some("tools/hand".into()),
            limit: 10,
            ..Default::default()
        };
        assert!(tx.products_page(&hand).unwrap().items.is_empty());
        let power = ProductQuery {
            category: Some("tools".into()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(tx.products_page(&power).unwrap().items.len(), 1);
        drop(tx);
        drop(store);
        let report = check(dir.path()).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.last_seq, 3);
    }

    #[test]
    fn check_finds_an_index_that_disagrees_with_its_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        save(&store, &product("A-1", "Tools", Some("123")));
        let tx = store.begin_write().unwrap();
        tx.table(PRODUCTS_BY_BARCODE)
            .unwrap()
            .remove("123")
            .unwrap();
        tx.commit_unlogged();
        drop(store);
        let report = check(dir.path()).unwrap();
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        assert!(report.problems[0].contains("barcode 123"));
    }
}
