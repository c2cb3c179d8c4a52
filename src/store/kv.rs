//! The table layer under every store method: a table handle that reads and
//! writes owned keys and values, whichever engine holds the table.
//!
//! The store's methods (catalogue, ledger, accounts, quotes, change log) are
//! written once against [`Table`]; the handle is a redb table in the embedded
//! store. Keys also have an order-preserving byte form ([`KeyColumn::ordered`]):
//! two keys compare as redb compares them exactly when their byte forms
//! compare as byte strings, which is how a store that keeps keys as bytes
//! (`bytea` in PostgreSQL) lists ranges in the same order.

use std::fmt::Debug;
use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata};

use super::StoreError;
use super::pg;

/// A type a table holds as a key or a value, with its owned form.
pub trait Column: redb::Value + 'static {
    type Owned: Clone + Debug + PartialEq;
    /// The owned copy of a stored value.
    fn own(value: Self::SelfType<'_>) -> Self::Owned;
    /// The borrowed form of an owned value, to hand to redb.
    fn lend(owned: &Self::Owned) -> Self::SelfType<'_>;
}

/// A key type, with a byte form whose order is the key order.
pub trait KeyColumn: Column + redb::Key {
    /// Appends the key's order-preserving byte form to `out`.
    fn ordered(key: &Self::SelfType<'_>, out: &mut Vec<u8>);
    /// Reads a key back from its byte form.
    fn from_ordered(bytes: &[u8]) -> Option<Self::Owned>;
}

impl Column for &'static str {
    type Owned = String;
    fn own(value: &str) -> String {
        value.to_owned()
    }
    fn lend(owned: &String) -> &str {
        owned
    }
}

impl Column for &'static [u8] {
    type Owned = Vec<u8>;
    fn own(value: &[u8]) -> Vec<u8> {
        value.to_vec()
    }
    fn lend(owned: &Vec<u8>) -> &[u8] {
        owned
    }
}

impl Column for () {
    type Owned = ();
    fn own((): ()) {}
    fn lend((): &()) {}
}

impl Column for u64 {
    type Owned = u64;
    fn own(value: u64) -> u64 {
        value
    }
    fn lend(owned: &u64) -> u64 {
        *owned
    }
}

/// A string inside a composite key: its bytes with 0x00 written as 0x00 0xFF,
/// then 0x00 0x00, so that a shorter string sorts before its extensions and
/// the parts after it compare only between equal strings.
fn ordered_part(part: &str, out: &mut Vec<u8>) {
    for &byte in part.as_bytes() {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Reads [`ordered_part`] back: the string and the bytes after it.
fn part_from_ordered(bytes: &[u8]) -> Option<(String, &[u8])> {
    let mut part = Vec::new();
    let mut i = 0;
    loop {
        let byte = *bytes.get(i)?;
        if byte == 0 {
            match bytes.get(i + 1)? {
                0 => return Some((String::from_utf8(part).ok()?, &bytes[i + 2..])),
                0xFF => part.push(0),
                _ => return None,
            }
            i += 2;
        } else {
            part.push(byte);
            i += 1;
        }
    }
}

fn ordered_u64(value: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// An `i64` with its sign bit flipped, big-endian: negative numbers first.
fn ordered_i64(value: i64, out: &mut Vec<u8>) {
    #[expect(clippy::cast_sign_loss, reason = "the bits are kept, only reread")]
    let bits = value as u64;
    out.extend_from_slice(&(bits ^ (1 << 63)).to_be_bytes());
}

fn u64_from(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = bytes.split_at_checked(8)?;
    Some((u64::from_be_bytes(head.try_into().ok()?), rest))
}

fn i64_from(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (value, rest) = u64_from(bytes)?;
    #[expect(clippy::cast_possible_wrap, reason = "the bits are kept, only reread")]
    let value = (value ^ (1 << 63)) as i64;
    Some((value, rest))
}

impl KeyColumn for &'static str {
    fn ordered(key: &&str, out: &mut Vec<u8>) {
        out.extend_from_slice(key.as_bytes());
    }
    fn from_ordered(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl KeyColumn for u64 {
    fn ordered(key: &u64, out: &mut Vec<u8>) {
        ordered_u64(*key, out);
    }
    fn from_ordered(bytes: &[u8]) -> Option<u64> {
        u64_from(bytes)
            .filter(|(_, rest)| rest.is_empty())
            .map(|(v, _)| v)
    }
}

impl Column for (&'static str, &'static str) {
    type Owned = (String, String);
    fn own((a, b): (&str, &str)) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }
    fn lend((a, b): &(String, String)) -> (&str, &str) {
        (a, b)
    }
}

impl KeyColumn for (&'static str, &'static str) {
    fn ordered((a, b): &(&str, &str), out: &mut Vec<u8>) {
        ordered_part(a, out);
        out.extend_from_slice(b.as_bytes());
    }
    fn from_ordered(bytes: &[u8]) -> Option<(String, String)> {
        let (a, rest) = part_from_ordered(bytes)?;
        Some((a, String::from_utf8(rest.to_vec()).ok()?))
    }
}

impl Column for (&'static str, u64) {
    type Owned = (String, u64);
    fn own((a, b): (&str, u64)) -> (String, u64) {
        (a.to_owned(), b)
    }
    fn lend((a, b): &(String, u64)) -> (&str, u64) {
        (a, *b)
    }
}

impl KeyColumn for (&'static str, u64) {
    fn ordered((a, b): &(&str, u64), out: &mut Vec<u8>) {
        ordered_part(a, out);
        ordered_u64(*b, out);
    }
    fn from_ordered(bytes: &[u8]) -> Option<(String, u64)> {
        let (a, rest) = part_from_ordered(bytes)?;
        Some((a, u64::from_ordered(rest)?))
    }
}

impl Column for (i64, u64) {
    type Owned = (i64, u64);
    fn own(value: (i64, u64)) -> (i64, u64) {
        value
    }
    fn lend(owned: &(i64, u64)) -> (i64, u64) {
        *owned
    }
}

impl KeyColumn for (i64, u64) {
    fn ordered((a, b): &(i64, u64), out: &mut Vec<u8>) {
        ordered_i64(*a, out);
        ordered_u64(*b, out);
    }
    fn from_ordered(bytes: &[u8]) -> Option<(i64, u64)> {
        let (a, rest) = i64_from(bytes)?;
        Some((a, u64::from_ordered(rest)?))
    }
}

impl Column for (u64, u64) {
    type Owned = (u64, u64);
    fn own(value: (u64, u64)) -> (u64, u64) {
        value
    }
    fn lend(owned: &(u64, u64)) -> (u64, u64) {
        *owned
    }
}

impl KeyColumn for (u64, u64) {
    fn ordered((a, b): &(u64, u64), out: &mut Vec<u8>) {
        ordered_u64(*a, out);
        ordered_u64(*b, out);
    }
    fn from_ordered(bytes: &[u8]) -> Option<(u64, u64)> {
        let (a, rest) = u64_from(bytes)?;
        Some((a, u64::from_ordered(rest)?))
    }
}

impl Column for (i64, i64, u64) {
    type Owned = (i64, i64, u64);
    fn own(value: (i64, i64, u64)) -> (i64, i64, u64) {
        value
    }
    fn lend(owned: &(i64, i64, u64)) -> (i64, i64, u64) {
        *owned
    }
}

impl KeyColumn for (i64, i64, u64) {
    fn ordered((a, b, c): &(i64, i64, u64), out: &mut Vec<u8>) {
        ordered_i64(*a, out);
        ordered_i64(*b, out);
        ordered_u64(*c, out);
    }
    fn from_ordered(bytes: &[u8]) -> Option<(i64, i64, u64)> {
        let (a, rest) = i64_from(bytes)?;
        let (b, rest) = i64_from(rest)?;
        Some((a, b, u64::from_ordered(rest)?))
    }
}

/// A row of a table: its key and value, owned.
pub type Row<K, V> = (<K as Column>::Owned, <V as Column>::Owned);

/// The rows of a range, in key order or in reverse.
pub type Rows<'t, K, V> = Box<dyn Iterator<Item = Result<Row<K, V>, StoreError>> + 't>;

/// One open table of a transaction.
pub struct Table<'t, K: KeyColumn, V: Column> {
    inner: Inner<'t, K, V>,
}

enum Inner<'t, K: KeyColumn, V: Column> {
    Read(redb::ReadOnlyTable<K, V>),
    /// A redb table being written, with the journal's record of the
    /// transaction's writes and the table's name when it has one.
    Write(
        redb::Table<'t, K, V>,
        Option<(&'t std::cell::RefCell<super::journal::Ops>, &'static str)>,
    ),
    /// A table in PostgreSQL, read and written through the transaction's
    /// connection; `writable` in a write transaction.
    Pg {
        conn: &'t pg::Conn,
        name: &'static str,
        writable: bool,
        types: std::marker::PhantomData<(K, V)>,
    },
}

fn key_bytes<K: KeyColumn>(key: &K::SelfType<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    K::ordered(key, &mut out);
    out
}

fn pg_row<K: KeyColumn, V: Column>(
    name: &'static str,
    (key, value): (Vec<u8>, Vec<u8>),
) -> Result<Row<K, V>, StoreError> {
    let key = K::from_ordered(&key).ok_or_else(|| StoreError::Corrupt {
        table: name,
        key: format!("{key:?}"),
        reason: "the key does not read back".to_owned(),
    })?;
    Ok((key, V::own(V::from_bytes(&value))))
}

impl<'t, K: KeyColumn, V: Column> Table<'t, K, V> {
    pub(super) fn redb_read(table: redb::ReadOnlyTable<K, V>) -> Self {
        Self {
            inner: Inner::Read(table),
        }
    }

    pub(super) fn redb_write(
        table: redb::Table<'t, K, V>,
        journal: Option<(&'t std::cell::RefCell<super::journal::Ops>, &'static str)>,
    ) -> Self {
        Self {
            inner: Inner::Write(table, journal),
        }
    }

    pub(super) fn pg(conn: &'t pg::Conn, name: &'static str, writable: bool) -> Self {
        Self {
            inner: Inner::Pg {
                conn,
                name,
                writable,
                types: std::marker::PhantomData,
            },
        }
    }

    pub fn get(&self, key: K::SelfType<'_>) -> Result<Option<V::Owned>, StoreError> {
        let found = match &self.inner {
            Inner::Read(table) => table.get(key)?.map(|v| V::own(v.value())),
            Inner::Write(table, _) => table.get(key)?.map(|v| V::own(v.value())),
            Inner::Pg { conn, name, .. } => conn
                .get(name, &key_bytes::<K>(&key))?
                .map(|v| V::own(V::from_bytes(&v))),
        };
        Ok(found)
    }

    /// The values of several keys, in the order of `keys` (one statement on
    /// PostgreSQL, point lookups in redb).
    pub fn get_many(&self, keys: &[K::Owned]) -> Result<Vec<Option<V::Owned>>, StoreError> {
        match &self.inner {
            Inner::Pg { conn, name, .. } => {
                let bytes: Vec<Vec<u8>> =
                    keys.iter().map(|k| key_bytes::<K>(&K::lend(k))).collect();
                let found: std::collections::HashMap<Vec<u8>, Vec<u8>> =
                    conn.get_many(name, &bytes)?.into_iter().collect();
                // A key asked for twice is answered twice.
                Ok(bytes
                    .iter()
                    .map(|k| found.get(k).map(|v| V::own(V::from_bytes(v))))
                    .collect())
            }
            _ => keys.iter().map(|k| self.get(K::lend(k))).collect(),
        }
    }

    /// The rows with keys between `low` and `high`, in key order, or in
    /// reverse with `backwards`.
    pub fn range<'s, 'k>(
        &'s self,
        low: Bound<K::SelfType<'k>>,
        high: Bound<K::SelfType<'k>>,
        backwards: bool,
    ) -> Result<Rows<'s, K, V>, StoreError> {
        self.paged(low, high, backwards, 32)
    }

    /// [`Self::range`], reading `first_page` rows first from PostgreSQL (then
    /// four times as many each time).
    fn paged<'s, 'k>(
        &'s self,
        low: Bound<K::SelfType<'k>>,
        high: Bound<K::SelfType<'k>>,
        backwards: bool,
        first_page: i64,
    ) -> Result<Rows<'s, K, V>, StoreError> {
        fn owned<K: KeyColumn, V: Column>(
            entry: Result<(redb::AccessGuard<'_, K>, redb::AccessGuard<'_, V>), redb::StorageError>,
        ) -> Result<Row<K, V>, StoreError> {
            let (key, value) = entry?;
            Ok((K::own(key.value()), V::own(value.value())))
        }
        let range = match &self.inner {
            Inner::Read(table) => table.range((low, high))?,
            Inner::Write(table, _) => table.range((low, high))?,
            Inner::Pg { conn, name, .. } => {
                let bytes = |bound: Bound<K::SelfType<'_>>| match bound {
                    Bound::Included(key) => Bound::Included(key_bytes::<K>(&key)),
                    Bound::Excluded(key) => Bound::Excluded(key_bytes::<K>(&key)),
                    Bound::Unbounded => Bound::Unbounded,
                };
                let name = *name;
                let pages =
                    pg::Pages::new(conn, name, bytes(low), bytes(high), backwards, first_page);
                return Ok(Box::new(pages.map(move |row| pg_row::<K, V>(name, row?))));
            }
        };
        Ok(if backwards {
            Box::new(range.rev().map(owned::<K, V>))
        } else {
            Box::new(range.map(owned::<K, V>))
        })
    }

    /// Every row, in key order.
    pub fn all(&self) -> Result<Rows<'_, K, V>, StoreError> {
        self.range(Bound::Unbounded, Bound::Unbounded, false)
    }

    /// The rows from `low` (included) on, in key order.
    pub fn from(&self, low: K::SelfType<'_>) -> Result<Rows<'_, K, V>, StoreError> {
        self.range(Bound::Included(low), Bound::Unbounded, false)
    }

    /// The row with the greatest key.
    /// The first row of a range (in its direction), read alone.
    pub fn first_of<'k>(
        &self,
        low: Bound<K::SelfType<'k>>,
        high: Bound<K::SelfType<'k>>,
        backwards: bool,
    ) -> Result<Option<Row<K, V>>, StoreError> {
        self.paged(low, high, backwards, 1)?.next().transpose()
    }

    pub fn last(&self) -> Result<Option<Row<K, V>>, StoreError> {
        self.paged(Bound::Unbounded, Bound::Unbounded, true, 1)?
            .next()
            .transpose()
    }

    pub fn len(&self) -> Result<u64, StoreError> {
        Ok(match &self.inner {
            Inner::Read(table) => table.len()?,
            Inner::Write(table, _) => table.len()?,
            Inner::Pg { conn, name, .. } => conn.len(name)?,
        })
    }

    pub fn insert(
        &mut self,
        key: K::SelfType<'_>,
        value: V::SelfType<'_>,
    ) -> Result<(), StoreError> {
        match &mut self.inner {
            Inner::Write(table, journal) => {
                if let Some((ops, name)) = journal {
                    ops.borrow_mut().insert(
                        name,
                        K::as_bytes(&key).as_ref(),
                        V::as_bytes(&value).as_ref(),
                    );
                }
                table.insert(key, value)?;
            }
            Inner::Pg {
                conn,
                name,
                writable: true,
                ..
            } => conn.insert(name, &key_bytes::<K>(&key), V::as_bytes(&value).as_ref())?,
            Inner::Read(_) | Inner::Pg { .. } => {
                return Err(StoreError::Bug("a write to a read-only table"));
            }
        }
        Ok(())
    }

    /// Removes a row; whether it was there.
    pub fn remove(&mut self, key: K::SelfType<'_>) -> Result<bool, StoreError> {
        Ok(match &mut self.inner {
            Inner::Write(table, journal) => {
                if let Some((ops, name)) = journal {
                    ops.borrow_mut().remove(name, K::as_bytes(&key).as_ref());
                }
                table.remove(key)?.is_some()
            }
            Inner::Pg {
                conn,
                name,
                writable: true,
                ..
            } => conn.remove(name, &key_bytes::<K>(&key))?,
            Inner::Read(_) | Inner::Pg { .. } => {
                return Err(StoreError::Bug("a write to a read-only table"));
            }
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes<K: KeyColumn>(key: &K::SelfType<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        K::ordered(key, &mut out);
        out
    }

    /// Strings with the characters that matter to the byte form: NUL, 0x01,
    /// 0xFF's neighbours in UTF-8, '/' and plain letters (also used by the
    /// store's conformance test).
    pub(in crate::store) fn text() -> impl Strategy<Value = String> + Clone {
        proptest::collection::vec(
            prop_oneof![
                Just('\0'),
                Just('\u{1}'),
                Just('/'),
                Just('a'),
                Just('b'),
                Just('ÿ'),
                Just('€'),
            ],
            0..5,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn byte_forms_sort_as_redb_sorts_and_read_back(
            a in text(), b in text(), c in text(), d in text(),
            x in any::<u64>(), y in any::<u64>(), i in any::<i64>(), j in any::<i64>(),
        ) {
            use std::cmp::Ordering;
            #[expect(clippy::needless_pass_by_value, reason = "keys are small copies")]
            fn agree<K: KeyColumn>(p: K::SelfType<'_>, q: K::SelfType<'_>) -> Result<(), TestCaseError> {
                let (bp, bq) = (bytes::<K>(&p), bytes::<K>(&q));
                let redb_order = K::compare(K::as_bytes(&p).as_ref(), K::as_bytes(&q).as_ref());
                prop_assert_eq!(bp.cmp(&bq), redb_order);
                prop_assert_eq!(K::from_ordered(&bp), Some(K::own(p)));
                Ok(())
            }
            agree::<&str>(&a, &b)?;
            agree::<u64>(x, y)?;
            agree::<(&str, &str)>((&a, &b), (&c, &d))?;
            agree::<(&str, &str)>((&a, &b), (&a, &d))?;
            agree::<(&str, u64)>((&a, x), (&c, y))?;
            agree::<(&str, u64)>((&a, x), (&a, y))?;
            agree::<(i64, u64)>((i, x), (j, y))?;
            agree::<(i64, u64)>((i, x), (i, y))?;
            agree::<(i64, i64, u64)>((i, j, x), (j, i, y))?;
            agree::<(i64, i64, u64)>((i, j, x), (i, j, y))?;
            prop_assert_eq!(Ordering::Equal, bytes::<&str>(&a.as_str()).cmp(&bytes::<&str>(&a.as_str())));
        }
    }
}
