//! Moving a store between engines: the embedded data file and PostgreSQL,
//! either way, and restoring a backup into PostgreSQL. Every copy takes one
//! snapshot of the source and writes the target in one transaction, so a
//! target is either untouched or holds the whole store; the target is then
//! checked as `quarry check` would.

use std::path::Path;

use redb::{Database, TableDefinition};

use super::kv::{Column, KeyColumn};
use super::pg::{self, Backend, Conn};
use super::tables;
use super::{CheckReport, DB_FILE, ReadTx, ReadTxn, StoreError};

/// Rows sent to PostgreSQL per statement.
const CHUNK: usize = 1_000;

/// What `migrate` and `restore` report.
#[derive(Debug)]
pub struct Moved {
    /// The last change-log `seq` copied.
    pub last_seq: u64,
    /// Rows copied, over every table.
    pub rows: u64,
    /// What the check of the target found.
    pub report: CheckReport,
}

/// Copies the embedded store of `data_dir` (no server may hold it) into the
/// PostgreSQL database at `url`, which must hold no Quarry data unless
/// `replace` (then its data is replaced, once no node serves it).
/// `progress(copied, total)` follows the rows.
pub fn to_postgres(
    data_dir: &Path,
    url: &str,
    replace: bool,
    progress: &dyn Fn(u64, u64),
) -> Result<Moved, StoreError> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no Quarry data file here"),
        });
    }
    let source = super::Store::open(data_dir)?;
    let snapshot = source.read()?;
    into_postgres(&snapshot, url, replace, progress)
}

/// Restores a redb database file (a backup's payload) into PostgreSQL.
pub(super) fn file_to_postgres(
    file: &Path,
    url: &str,
    replace: bool,
    progress: &dyn Fn(u64, u64),
) -> Result<Moved, StoreError> {
    let db = Database::open(file)?;
    let snapshot = ReadTx {
        txn: ReadTxn::Redb(redb::ReadableDatabase::begin_read(&db)?),
    };
    into_postgres(&snapshot, url, replace, progress)
}

fn into_postgres(
    from: &ReadTx,
    url: &str,
    replace: bool,
    progress: &dyn Fn(u64, u64),
) -> Result<Moved, StoreError> {
    let backend = Backend::connect(url, 2)?;
    let conn = backend.begin_write()?;
    pg::create_tables(&conn, &tables::ALL)?;
    if !pg::serving_nodes_stopped(&conn)? {
        return Err(StoreError::Backend {
            location: backend.shown.clone(),
            detail: "Quarry nodes are serving this database; stop them first".to_owned(),
        });
    }
    let mut filled = Vec::new();
    for table in tables::ALL {
        if conn.len(table)? > 0 {
            filled.push(table);
        }
    }
    if !filled.is_empty() {
        if !replace {
            return Err(StoreError::Backend {
                location: backend.shown.clone(),
                detail: format!(
                    "the database already holds a Quarry store (tables {}); copy into an empty \
                     database, or replace its data on purpose",
                    filled.join(", ")
                ),
            });
        }
        pg::truncate(&conn, &tables::ALL)?;
    }
    let total = from.rows()?;
    progress(0, total);
    let mut copied = 0;
    macro_rules! copy_table {
        ($table:ident) => {
            copy_to_pg(from, &conn, tables::$table, &mut |n| {
                copied += n;
                progress(copied, total);
            })?;
        };
    }
    tables::every_table!(copy_table);
    let last_seq = from.last_seq()?;
    // A new history: every node's search index is rebuilt when it starts.
    let mut epoch = Vec::new();
    <&str as KeyColumn>::ordered(&tables::STORE_EPOCH_KEY, &mut epoch);
    let value = <u64 as redb::Value>::as_bytes(&tables::new_epoch());
    conn.insert("meta", &epoch, &value)?;
    pg::notify(&conn, last_seq)?;
    // The whole check runs inside the transaction: a copy with problems is
    // rolled back and the database left as it was.
    let target = ReadTx {
        txn: ReadTxn::Pg(Box::new(conn)),
    };
    let mut report = CheckReport::default();
    super::check::check_snapshot(&target, &backend.shown, &mut report)?;
    if !report.problems.is_empty() {
        return Err(StoreError::Backend {
            location: backend.shown.clone(),
            detail: format!(
                "the copy has problems, so nothing was written: {}",
                report.problems.join("; ")
            ),
        });
    }
    let ReadTxn::Pg(conn) = target.txn else {
        unreachable!("the target is PostgreSQL")
    };
    conn.commit()?;
    Ok(Moved {
        last_seq,
        rows: total,
        report,
    })
}

fn copy_to_pg<K: KeyColumn, V: Column>(
    from: &ReadTx,
    to: &Conn,
    definition: TableDefinition<K, V>,
    copied: &mut dyn FnMut(u64),
) -> Result<(), StoreError> {
    use redb::TableHandle as _;
    let name = tables::static_name(definition.name())
        .ok_or(StoreError::Bug("a table missing from tables::ALL"))?;
    let source = from.table(definition)?;
    let (mut keys, mut values) = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
    for row in source.all()? {
        let (key, value) = row?;
        let mut bytes = Vec::new();
        K::ordered(&K::lend(&key), &mut bytes);
        keys.push(bytes);
        values.push(V::as_bytes(&V::lend(&value)).as_ref().to_vec());
        if keys.len() == CHUNK {
            to.insert_many(name, &keys, &values)?;
            copied(CHUNK as u64);
            keys.clear();
            values.clear();
        }
    }
    if !keys.is_empty() {
        to.insert_many(name, &keys, &values)?;
        copied(keys.len() as u64);
    }
    Ok(())
}

/// Copies the store in the PostgreSQL database at `url` into `data_dir`,
/// which must hold no data file yet; checks the new file.
pub fn from_postgres(
    url: &str,
    data_dir: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<Moved, StoreError> {
    let path = data_dir.join(DB_FILE);
    if path.exists() {
        return Err(StoreError::Io {
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the data dir already holds a store; copy into an empty data dir",
            ),
        });
    }
    let backend = Backend::connect(url, 2)?;
    let snapshot = ReadTx {
        txn: ReadTxn::Pg(Box::new(backend.begin_read()?)),
    };
    super::open::create_data_dir(data_dir)?;
    let staged = tempfile::Builder::new()
        .prefix(".quarry-migrate-")
        .tempfile_in(data_dir)
        .map_err(|source| StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
    let rows = snapshot.rows()?;
    {
        let db = Database::create(staged.path())?;
        super::backup::copy_tables(&snapshot, &db, progress)?;
    }
    staged.persist(&path).map_err(|e| StoreError::Io {
        path: path.clone(),
        source: e.error,
    })?;
    let report = super::check(data_dir)?;
    if !report.problems.is_empty() {
        let _ = std::fs::remove_file(&path);
        return Err(StoreError::Backend {
            location: data_dir.display().to_string(),
            detail: format!(
                "the copy has problems, so it was removed: {}",
                report.problems.join("; ")
            ),
        });
    }
    Ok(Moved {
        last_seq: report.last_seq,
        rows,
        report,
    })
}
