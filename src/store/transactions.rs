//! The transactions' plumbing: beginning a snapshot or a write (recovering a
//! store an I/O error broke first), the rule that a write must log what it
//! changes, JSON records in and out, and the point reads both kinds share.

use redb::{ReadableDatabase, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};

use super::journal::{Journal, Ops};
use super::kv::{Column, KeyColumn, Table};
use super::{ReadTx, ReadTxn, Store, StoreError, WriteTx, WriteTxn};

impl Store {
    /// A consistent snapshot for reading. After an I/O error redb refuses
    /// new snapshots until the file is opened again, so a refusal here marks
    /// the store for recovery (the writer's housekeeping then reopens it),
    /// whoever was reading.
    pub fn read(&self) -> Result<ReadTx, StoreError> {
        let txn = match &self.shared.pg {
            Some(pg) => pg.begin_read().map(|conn| ReadTxn::Pg(Box::new(conn))),
            None => self
                .database()
                .and_then(|db| db.begin_read().map_err(StoreError::from))
                .map(ReadTxn::Redb),
        };
        match txn {
            Ok(txn) => Ok(ReadTx { txn }),
            Err(error) => {
                self.note_trouble(&error);
                Err(error)
            }
        }
    }

    /// Runs `f` in one write transaction and commits it durably if `f` succeeds.
    /// For the command line; the server writes through its [`Writer`](super::Writer).
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut tx = self.begin_write()?;
        match f(&mut tx) {
            Ok(value) => {
                tx.commit()?;
                self.checkpoint_if_due();
                Ok(value)
            }
            Err(error) => {
                tx.abort();
                Err(error)
            }
        }
    }

    /// Begins a redb write transaction; a store broken by an I/O error first
    /// tries to recover, and so does one whose database fails to begin it.
    pub(super) fn begin_redb_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        if self.read_only() {
            self.recover()?;
        }
        let db = if let Ok(db) = self.database() {
            db
        } else {
            self.recover()?;
            self.database()?
        };
        match db.begin_write() {
            Ok(txn) => Ok(txn),
            Err(error) => {
                let error = StoreError::from(error);
                if !matches!(error, StoreError::Unavailable { .. }) {
                    return Err(error);
                }
                self.note_trouble(&error);
                // This handle must go before the file can be opened again.
                drop(db);
                self.recover()?;
                Ok(self.database()?.begin_write()?)
            }
        }
    }

    /// Begins a write transaction (see [`Self::begin_redb_write`]).
    pub(super) fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let txn = if let Some(pg) = &self.shared.pg {
            WriteTxn::Pg(Box::new(pg.begin_write().inspect_err(|e| {
                self.note_trouble(e);
            })?))
        } else {
            let mut txn = self.begin_redb_write()?;
            if self.shared.journal.is_some() {
                // Made durable by the journal; the file catches up at the
                // next checkpoint.
                txn.set_durability(redb::Durability::None)
                    .map_err(redb::Error::from)?;
            }
            WriteTxn::Redb(Box::new(txn))
        };
        let txn_kind = matches!(txn, WriteTxn::Redb(_));
        let mut tx = WriteTx {
            txn,
            last_seq: 0,
            writes: 0,
            bookkeeping_writes: 0,
            changes: 0,
            movements: 0,
            movement_tail: None,
            ip: None,
            ops: match (&self.shared.journal, &txn_kind) {
                (Some(journal), true) => Some((RefCell::default(), Arc::clone(journal))),
                _ => None,
            },
            accounts_touched: std::cell::Cell::new(false),
            accounts_epoch: Arc::clone(&self.shared.accounts_epoch),
        };
        // Under the write lock, the newest entry is the last one committed.
        tx.last_seq = tx.last_seq()?;
        Ok(tx)
    }
}

impl ReadTx {
    pub(super) fn table<K: KeyColumn, V: Column>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<Table<'_, K, V>, StoreError> {
        Ok(match &self.txn {
            ReadTxn::Redb(txn) => Table::redb_read(txn.open_table(definition)?),
            ReadTxn::Pg(conn) => Table::pg(conn, pg_name(&definition)?, false),
        })
    }
}

impl WriteTx {
    pub(super) fn table<K: KeyColumn, V: Column>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<Table<'_, K, V>, StoreError> {
        if is_account_table(&definition) {
            self.accounts_touched.set(true);
        }
        Ok(match &self.txn {
            WriteTxn::Redb(txn) => {
                let journal = match &self.ops {
                    Some((ops, _)) => Some((ops, pg_name(&definition)?)),
                    None => None,
                };
                Table::redb_write(txn.open_table(definition)?, journal)
            }
            WriteTxn::Pg(conn) => Table::pg(conn, pg_name(&definition)?, true),
        })
    }

    /// How many records this transaction has written so far.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// The address of the client whose request this transaction serves.
    pub fn client(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    /// Sets the client address recorded with the changes that follow.
    pub fn set_client(&mut self, ip: Option<String>) {
        self.ip = ip;
    }

    pub(super) fn put_json<T: Serialize>(
        &mut self,
        definition: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.writes += 1;
        let bytes = serde_json::to_vec(value).expect("records serialize");
        self.table(definition)?.insert(key, bytes.as_slice())?;
        Ok(())
    }

    /// Commits durably. A transaction that wrote records must have logged them.
    pub(super) fn commit(self) -> Result<(), StoreError> {
        if self.writes > self.bookkeeping_writes && self.changes == 0 {
            self.abort();
            return Err(StoreError::Bug(
                "a write transaction changed records without appending to the change log",
            ));
        }
        // Raised once the commit is visible, before anyone hears of it: a
        // revoked token is never taken after its revocation was answered.
        let accounts = self
            .accounts_touched
            .get()
            .then(|| Arc::clone(&self.accounts_epoch));
        match self.txn {
            WriteTxn::Redb(txn) => match self.ops {
                None => txn.commit()?,
                Some((ops, journal)) => commit_journaled(*txn, &ops.into_inner(), &journal)?,
            },
            WriteTxn::Pg(conn) => {
                if self.changes > 0 {
                    super::pg::notify(&conn, self.last_seq)?;
                }
                let conn = *conn;
                conn.commit()?;
            }
        }
        if let Some(epoch) = accounts {
            epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }

    /// Commits without the change-log rule, for tests that corrupt a store.
    #[cfg(test)]
    pub(super) fn commit_unlogged(mut self) {
        self.changes += 1;
        self.commit().unwrap();
    }

    pub(super) fn abort(self) {
        match self.txn {
            WriteTxn::Redb(txn) => {
                if let Err(error) = txn.abort() {
                    tracing::warn!(%error, "aborting a write transaction failed");
                }
            }
            // Dropping the connection rolls the transaction back.
            WriteTxn::Pg(conn) => drop(conn),
        }
    }

    /// Whether a statement of this transaction failed, so that it can only
    /// roll back (PostgreSQL refuses everything after a failed statement).
    pub(super) fn broken(&self) -> bool {
        match &self.txn {
            WriteTxn::Redb(_) => false,
            WriteTxn::Pg(conn) => conn.broken.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// Reads that both snapshots and write transactions offer (a use case checks its
/// rules against the state inside its own transaction).
macro_rules! point_reads {
    () => {
        /// The `seq` of the newest change-log entry (0 when empty).
        pub fn last_seq(&self) -> Result<u64, StoreError> {
            Ok(self
                .table($crate::store::tables::CHANGES)?
                .last()?
                .map_or(0, |(seq, _)| seq))
        }

        /// The store's epoch (see [`super::tables::STORE_EPOCH_KEY`]).
        pub fn store_epoch(&self) -> Result<u64, StoreError> {
            Ok(self
                .table($crate::store::tables::META)?
                .get($crate::store::tables::STORE_EPOCH_KEY)?
                .unwrap_or(0))
        }

        pub fn product(
            &self,
            sku: &$crate::domain::values::Sku,
        ) -> Result<Option<$crate::domain::catalogue::Product>, StoreError> {
            self.table($crate::store::tables::PRODUCTS)?
                .get(sku.as_str())?
                .map(|bytes| $crate::store::catalogue::decode_product(sku.as_str(), &bytes))
                .transpose()
        }

        /// Several products at once (one statement on PostgreSQL), in the
        /// order of `skus`.
        pub fn products_many(
            &self,
            skus: &[$crate::domain::values::Sku],
        ) -> Result<Vec<Option<$crate::domain::catalogue::Product>>, StoreError> {
            let keys: Vec<String> = skus.iter().map(ToString::to_string).collect();
            let table = self.table($crate::store::tables::PRODUCTS)?;
            table
                .get_many(&keys)?
                .into_iter()
                .zip(&keys)
                .map(|(bytes, key)| {
                    bytes
                        .map(|b| $crate::store::catalogue::decode_product(key, &b))
                        .transpose()
                })
                .collect()
        }

        /// The SKU a barcode belongs to.
        pub fn sku_by_barcode(
            &self,
            barcode: &$crate::domain::catalogue::Barcode,
        ) -> Result<Option<$crate::domain::values::Sku>, StoreError> {
            let table = self.table($crate::store::tables::PRODUCTS_BY_BARCODE)?;
            let Some(sku) = table.get(barcode.as_str())? else {
                return Ok(None);
            };
            $crate::domain::values::Sku::parse(&sku)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    table: "products_by_barcode",
                    key: barcode.to_string(),
                    reason: e.to_string(),
                })
        }

        pub fn location(
            &self,
            code: &$crate::domain::locations::LocationCode,
        ) -> Result<Option<$crate::domain::locations::Location>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::LOCATIONS)?,
                "locations",
                code.as_str(),
            )
        }

        pub fn user(
            &self,
            name: &$crate::domain::accounts::Username,
        ) -> Result<Option<$crate::domain::accounts::User>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::USERS)?,
                "users",
                name.as_str(),
            )
        }

        pub fn token(
            &self,
            name: &$crate::domain::accounts::TokenName,
        ) -> Result<Option<$crate::domain::accounts::ApiToken>, StoreError> {
            $crate::store::get_json(
                &self.table($crate::store::tables::TOKENS)?,
                "tokens",
                name.as_str(),
            )
        }

        /// The token whose secret hashes to `hash` (hex SHA-256).
        pub fn token_by_hash(
            &self,
            hash: &str,
        ) -> Result<Option<$crate::domain::accounts::ApiToken>, StoreError> {
            let name = {
                let table = self.table($crate::store::tables::TOKENS_BY_HASH)?;
                let Some(name) = table.get(hash)? else {
                    return Ok(None);
                };
                name
            };
            $crate::store::get_json(&self.table($crate::store::tables::TOKENS)?, "tokens", &name)
        }
    };
}

impl ReadTx {
    point_reads!();
}

impl WriteTx {
    point_reads!();
}

/// The name of a table in PostgreSQL: one of [`super::tables::ALL`].
/// Commits a transaction of the embedded store through its journal: the
/// entry is appended and synced first, then redb commits without a sync. A
/// transaction too large for the journal commits durably and starts the
/// journal's next generation.
fn commit_journaled(
    txn: redb::WriteTransaction,
    ops: &Ops,
    journal: &Mutex<Journal>,
) -> Result<(), StoreError> {
    let mut journal = journal.lock().unwrap_or_else(PoisonError::into_inner);
    if ops.overflowed() {
        if let Err(error) = super::open::checkpoint_into(txn, &mut journal) {
            if matches!(error, StoreError::Unavailable { .. }) && journal.restarting() {
                // The commit is durable; the next append starts the
                // journal's generation.
                tracing::warn!(%error, "starting the journal afresh failed");
                return Ok(());
            }
            return Err(error);
        }
        return Ok(());
    }
    if ops.is_empty() {
        // Nothing a crash could lose.
        txn.commit()?;
        return Ok(());
    }
    let end = journal.end();
    if let Err(error) = journal.append(ops) {
        let _ = txn.abort();
        return Err(error);
    }
    if let Err(error) = txn.commit() {
        journal.forget_last(end);
        return Err(error.into());
    }
    Ok(())
}

/// Whether credentials are checked against `definition`'s rows (see
/// [`Store::accounts_epoch`]).
fn is_account_table<K: KeyColumn, V: Column>(definition: &TableDefinition<K, V>) -> bool {
    use super::tables::{TOKENS, TOKENS_BY_HASH, USERS};
    use redb::TableHandle as _;
    [TOKENS.name(), TOKENS_BY_HASH.name(), USERS.name()].contains(&definition.name())
}

fn pg_name<K: KeyColumn, V: Column>(
    definition: &TableDefinition<K, V>,
) -> Result<&'static str, StoreError> {
    use redb::TableHandle as _;
    super::tables::static_name(definition.name())
        .ok_or(StoreError::Bug("a table missing from tables::ALL"))
}

pub(super) fn get_json<T: DeserializeOwned>(
    table: &Table<'_, &'static str, &'static [u8]>,
    name: &'static str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match table.get(key)? {
        Some(bytes) => decode(name, key, &bytes).map(Some),
        None => Ok(None),
    }
}

pub(super) fn decode<T: DeserializeOwned>(
    table: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_records::product;

    #[test]
    fn a_write_that_changes_records_without_logging_them_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let p = product("A-1", "Tools", None);
        let result = store.write(|tx| tx.put_product(&p));
        assert!(matches!(result, Err(StoreError::Bug(_))));
        assert!(store.read().unwrap().product(&p.sku).unwrap().is_none());
    }
}
