//! The table layer answers the same on both engines: random inserts,
//! removals, point reads, ranges (every bound kind, both directions, the
//! `u64::MAX` sentinels the store's methods use), `last` and `len`, applied to
//! tables of every key shape, give the same answers from redb, from a model
//! (`BTreeMap`), and, with `TEST_STORE=postgres` and `TEST_STORE_URL` (as
//! `.ci/run` sets them), from PostgreSQL. Asking for PostgreSQL without a
//! server fails the test; it is never skipped.

use std::collections::BTreeMap;
use std::ops::Bound;

use proptest::prelude::*;
use redb::TableDefinition;

use super::kv::tests::text;
use super::kv::{Column, KeyColumn};
use super::tables::{
    CONTACT_INVITES, CONTACTS, CONTACTS_BY_CUSTOMER, CUSTOMERS, CUSTOMERS_BY_PRICE_LIST,
    DELIVERIES, IMAGE_FILES, INVITES_BY_CUSTOMER, MAIL, MAIL_QUEUE, MOVEMENTS, MOVEMENTS_BY_SKU,
    OPEN_QUOTES, PASSWORD_RESETS, PRICE_LISTS, PRODUCTS, PRODUCTS_BY_CATEGORY, QUOTES,
    QUOTES_BY_CUSTOMER, WEBHOOK_DELIVERIES,
};
use super::{Options, Store, StoreError};

/// A database of its own on the test server, or `None` on the embedded store.
fn postgres_url() -> Option<String> {
    if std::env::var("TEST_STORE").as_deref() != Ok("postgres") {
        return None;
    }
    let admin = std::env::var("TEST_STORE_URL")
        .expect("TEST_STORE=postgres needs TEST_STORE_URL (scripts/pg-test-cluster start)");
    Some(super::scratch_database(&admin, "kv").unwrap())
}

/// Where the stores under test are opened: redb, and PostgreSQL when asked
/// for.
fn places(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Options)> {
    let mut places = vec![(dir.join("redb"), Options::default())];
    if let Some(url) = postgres_url() {
        let options = Options {
            url: Some(url),
            pool_size: 4,
            ..Options::default()
        };
        places.push((dir.join("pg"), options));
    }
    places
}

/// The stores under test.
fn stores(dir: &std::path::Path) -> Vec<Store> {
    places(dir)
        .into_iter()
        .map(|(path, options)| Store::open_with(&path, options).unwrap())
        .collect()
}

#[test]
fn a_store_from_a_newer_quarry_is_refused_on_either_engine() {
    use super::tables::{META, SCHEMA_VERSION, SCHEMA_VERSION_KEY};
    let dir = tempfile::tempdir().unwrap();
    for (path, options) in places(dir.path()) {
        let store = Store::open_with(&path, options.clone()).unwrap();
        let tx = store.begin_write().unwrap();
        tx.table(META)
            .unwrap()
            .insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION + 1)
            .unwrap();
        tx.commit_unlogged();
        drop(store);
        let error = Store::open_with(&path, options).unwrap_err();
        assert!(matches!(error, StoreError::SchemaTooNew { .. }), "{error}");
    }
}

#[derive(Debug, Clone)]
enum Op<K> {
    Insert(K, u8),
    Remove(K),
    Get(K),
    /// Several keys at once (repeats and absent keys included).
    GetMany(Vec<K>),
    Range(Bound<K>, Bound<K>, bool),
    Last,
    Len,
}

fn bound<K: Clone + std::fmt::Debug>(
    key: impl Strategy<Value = K> + Clone,
) -> impl Strategy<Value = Bound<K>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key.clone().prop_map(Bound::Included),
        key.prop_map(Bound::Excluded),
    ]
}

fn ops<K: Clone + std::fmt::Debug + 'static>(
    key: impl Strategy<Value = K> + Clone + 'static,
) -> impl Strategy<Value = Vec<Op<K>>> {
    let op = prop_oneof![
        4 => (key.clone(), any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
        1 => key.clone().prop_map(Op::Remove),
        1 => key.clone().prop_map(Op::Get),
        1 => proptest::collection::vec(key.clone(), 0..6).prop_map(Op::GetMany),
        2 => (bound(key.clone()), bound(key), any::<bool>()).prop_map(|(l, h, b)| Op::Range(l, h, b)),
        1 => Just(Op::Last),
        1 => Just(Op::Len),
    ];
    proptest::collection::vec(op, 1..40)
}

/// What one operation answered, the same type for every engine.
#[derive(Debug, PartialEq)]
enum Answer<K> {
    Done,
    Removed(bool),
    Value(Option<Vec<u8>>),
    Values(Vec<Option<Vec<u8>>>),
    Rows(Vec<(K, Vec<u8>)>),
    Last(Option<K>),
    Len(u64),
}

/// Runs `ops` on the table `definition` of every store (values are a
/// one-byte payload repeated) and on a model, in one write transaction each,
/// and compares every answer.
fn agree<K, V>(
    definition: TableDefinition<K, V>,
    ops: &[Op<K::Owned>],
    value: impl Fn(u8) -> V::Owned,
    bytes: impl Fn(&V::Owned) -> Vec<u8>,
) -> Result<(), TestCaseError>
where
    K: KeyColumn,
    K::Owned: Ord,
    V: Column,
{
    let dir = tempfile::tempdir().unwrap();
    let mut answers: Vec<Vec<Answer<K::Owned>>> = Vec::new();
    for store in stores(dir.path()) {
        let tx = store.begin_write().unwrap();
        let mut out = Vec::new();
        {
            let mut table = tx.table(definition).unwrap();
            for op in ops {
                out.push(match op {
                    Op::Insert(k, v) => {
                        table.insert(K::lend(k), V::lend(&value(*v))).unwrap();
                        Answer::Done
                    }
                    Op::Remove(k) => Answer::Removed(table.remove(K::lend(k)).unwrap()),
                    Op::Get(k) => Answer::Value(table.get(K::lend(k)).unwrap().map(|v| bytes(&v))),
                    Op::GetMany(keys) => Answer::Values(
                        table
                            .get_many(keys)
                            .unwrap()
                            .iter()
                            .map(|v| v.as_ref().map(&bytes))
                            .collect(),
                    ),
                    Op::Range(low, high, backwards) => {
                        fn lend<K: KeyColumn>(b: &Bound<K::Owned>) -> Bound<K::SelfType<'_>> {
                            match b {
                                Bound::Included(k) => Bound::Included(K::lend(k)),
                                Bound::Excluded(k) => Bound::Excluded(K::lend(k)),
                                Bound::Unbounded => Bound::Unbounded,
                            }
                        }
                        let valid = valid_range(low, high);
                        if valid {
                            let rows = table
                                .range(lend::<K>(low), lend::<K>(high), *backwards)
                                .unwrap();
                            Answer::Rows(
                                rows.map(|r| r.map(|(k, v)| (k, bytes(&v))))
                                    .collect::<Result<_, StoreError>>()
                                    .unwrap(),
                            )
                        } else {
                            // redb refuses a range whose start is past its end.
                            Answer::Rows(Vec::new())
                        }
                    }
                    Op::Last => Answer::Last(table.last().unwrap().map(|(k, _)| k)),
                    Op::Len => Answer::Len(table.len().unwrap()),
                });
            }
        }
        tx.abort();
        answers.push(out);
    }
    let expected = model(ops, &value, &bytes);
    for engine in answers {
        prop_assert_eq!(&engine, &expected);
    }
    Ok(())
}

/// The answers of a `BTreeMap` to `ops`.
fn model<K: Ord + Clone, V>(
    ops: &[Op<K>],
    value: &impl Fn(u8) -> V,
    bytes: &impl Fn(&V) -> Vec<u8>,
) -> Vec<Answer<K>> {
    let mut model: BTreeMap<K, Vec<u8>> = BTreeMap::new();
    let mut expected = Vec::new();
    for op in ops {
        expected.push(match op {
            Op::Insert(k, v) => {
                model.insert(k.clone(), bytes(&value(*v)));
                Answer::Done
            }
            Op::Remove(k) => Answer::Removed(model.remove(k).is_some()),
            Op::Get(k) => Answer::Value(model.get(k).cloned()),
            Op::GetMany(keys) => {
                Answer::Values(keys.iter().map(|k| model.get(k).cloned()).collect())
            }
            Op::Range(low, high, backwards) => {
                let valid = valid_range(low, high);
                let mut rows: Vec<(K, Vec<u8>)> = if valid {
                    model
                        .range((low.clone(), high.clone()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
                if *backwards {
                    rows.reverse();
                }
                Answer::Rows(rows)
            }
            Op::Last => Answer::Last(model.keys().next_back().cloned()),
            Op::Len => Answer::Len(model.len() as u64),
        });
    }
    expected
}

/// Whether redb and `BTreeMap` take the range (neither takes a start past the
/// end, nor an empty range excluded at both ends).
fn valid_range<K: Ord>(low: &Bound<K>, high: &Bound<K>) -> bool {
    match (low, high) {
        (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) => {
            l < h || (l == h && matches!((low, high), (Bound::Included(_), Bound::Included(_))))
        }
        _ => true,
    }
}

fn big() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        0..20u64,
        any::<u64>()
    ]
}

fn signed() -> impl Strategy<Value = i64> + Clone {
    prop_oneof![Just(i64::MIN), Just(-1), Just(0), Just(i64::MAX), -5..5i64]
}

fn json(v: u8) -> Vec<u8> {
    vec![v; usize::from(v % 5)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn tables_of_every_key_shape_answer_alike(
        strs in ops(text()),
        nums in ops(big()),
        pairs in ops((text(), text())),
        str_nums in ops((text(), big())),
        quotes in ops((signed(), big())),
        open in ops((signed(), signed(), big())),
        num_pairs in ops((big(), big())),
    ) {
        agree(PRODUCTS, &strs, json, Clone::clone)?;
        agree(IMAGE_FILES, &strs, json, Clone::clone)?;
        agree(MOVEMENTS, &nums, json, Clone::clone)?;
        agree(PRODUCTS_BY_CATEGORY, &pairs, |_| (), |()| Vec::new())?;
        agree(MOVEMENTS_BY_SKU, &str_nums, |_| (), |()| Vec::new())?;
        agree(QUOTES, &quotes, json, Clone::clone)?;
        agree(OPEN_QUOTES, &open, |_| (), |()| Vec::new())?;
        agree(WEBHOOK_DELIVERIES, &num_pairs, json, Clone::clone)?;
        // The mail outbox, its queue by due time, and password resets.
        agree(MAIL, &nums, json, Clone::clone)?;
        agree(MAIL_QUEUE, &quotes, |_| (), |()| Vec::new())?;
        agree(PASSWORD_RESETS, &strs, json, Clone::clone)?;
        // Price lists, customers and the customers of each list.
        agree(PRICE_LISTS, &strs, json, Clone::clone)?;
        agree(CUSTOMERS, &strs, json, Clone::clone)?;
        agree(CUSTOMERS_BY_PRICE_LIST, &pairs, |_| (), |()| Vec::new())?;
        agree(QUOTES_BY_CUSTOMER, &str_nums, |_| (), |()| Vec::new())?;
        // Trade contacts and their invitations, each with a by-customer index.
        agree(CONTACTS, &strs, json, Clone::clone)?;
        agree(CONTACTS_BY_CUSTOMER, &pairs, |_| (), |()| Vec::new())?;
        agree(CONTACT_INVITES, &strs, json, Clone::clone)?;
        agree(INVITES_BY_CUSTOMER, &pairs, |_| (), |()| Vec::new())?;
        // A quote's deliveries, by quote and number.
        agree(DELIVERIES, &open, json, Clone::clone)?;
    }
}
