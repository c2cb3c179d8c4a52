//! Moving a shop between the embedded store and PostgreSQL with `quarry
//! migrate`, and a backup restored into PostgreSQL. On PostgreSQL
//! (`TEST_STORE=postgres`): the demo shop goes into an empty database and
//! back into an empty data dir with every export byte-equal and `check`
//! clean; a database that holds a store is refused; a backup restores from
//! one engine into the other, both ways. On the embedded store
//! alone: a database that cannot be reached is refused with the reason, and
//! the data dir is left as it was.

use quarry::config::ShopConfig;
use quarry::store::Store;
use serde_json::json;

use crate::cli::{dir_arg, quarry, stderr, stdout};
use crate::helpers::{on_postgres, test_store_url};

/// A data dir holding the demo shop (products, 90 days of movements).
fn demo_shop(dir: &std::path::Path) {
    let store = Store::open(dir).unwrap();
    let now: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
    quarry::demo::shop::seed(&store, &ShopConfig::default(), 7, now).unwrap();
}

/// Every export of the store `args` select, as CSV.
fn exports(args: &[&str]) -> Vec<String> {
    ["products", "stock", "movements", "quotes"]
        .iter()
        .map(|kind| {
            let mut all = args.to_vec();
            all.extend(["export", kind]);
            let out = quarry(&all, &[], None);
            assert!(out.status.success(), "export {kind}: {}", stderr(&out));
            stdout(&out)
        })
        .collect()
}

#[test]
fn a_shop_moves_into_postgres_and_back_with_everything_and_check_clean() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("shop");
    demo_shop(&shop);
    let shop_arg = dir_arg(&shop);
    if !on_postgres() {
        let out = quarry(
            &[
                "--data-dir",
                &shop_arg,
                "migrate",
                "--to",
                "postgres://quarry@127.0.0.1:1/none",
            ],
            &[],
            None,
        );
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("cannot be reached"),
            "{}",
            stderr(&out)
        );
        let report = quarry::store::check(&shop).unwrap();
        assert!(report.problems.is_empty() && report.products > 0);
        return;
    }
    let url = test_store_url().unwrap();
    let before = exports(&["--data-dir", &shop_arg]);

    let out = quarry(
        &["--data-dir", &shop_arg, "migrate", "--to", &url],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("no problems"), "{}", stdout(&out));
    // The database now holds a store: a second copy into it is refused.
    let again = quarry(
        &["--data-dir", &shop_arg, "migrate", "--to", &url],
        &[],
        None,
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already holds"),
        "{}",
        stderr(&again)
    );

    let node = dir_arg(&dir.path().join("node"));
    let check = quarry(
        &["--data-dir", &node, "--store-url", &url, "check"],
        &[],
        None,
    );
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(exports(&["--data-dir", &node, "--store-url", &url]), before);

    let back = dir.path().join("back");
    let back_arg = dir_arg(&back);
    let out = quarry(
        &["--data-dir", &back_arg, "migrate", "--from", &url],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exports(&["--data-dir", &back_arg]), before);
    let (there, home) = (
        quarry::store::check(&back).unwrap(),
        quarry::store::check(&shop).unwrap(),
    );
    assert_eq!(
        (there.last_seq, there.movements, there.products, there.users),
        (home.last_seq, home.movements, home.products, home.users)
    );
    // Into a data dir that holds a store: refused, nothing touched.
    let refused = quarry(
        &["--data-dir", &back_arg, "migrate", "--from", &url],
        &[],
        None,
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("already holds a store"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_backup_restores_into_postgres_and_is_refused_over_a_store_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let shop = dir.path().join("shop");
    demo_shop(&shop);
    let shop_arg = dir_arg(&shop);
    let file = dir_arg(&dir.path().join("shop.qbk"));
    let out = quarry(&["--data-dir", &shop_arg, "backup", &file], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = exports(&["--data-dir", &shop_arg]);

    let Some(url) = on_postgres().then(|| test_store_url().unwrap()) else {
        let node = dir_arg(&dir.path().join("node"));
        let args = [
            "--data-dir",
            &node,
            "--store-url",
            "postgres://quarry@127.0.0.1:1/none",
        ];
        let out = quarry(&[&args[..], &["restore", &file]].concat(), &[], None);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("cannot be reached"),
            "{}",
            stderr(&out)
        );
        return;
    };
    let node = dir_arg(&dir.path().join("node"));
    let on_pg = ["--data-dir", node.as_str(), "--store-url", url.as_str()];
    let restore = |force: bool| {
        let mut args = on_pg.to_vec();
        args.extend(["restore", &file]);
        if force {
            args.push("--force");
        }
        quarry(&args, &[], None)
    };
    let out = restore(false);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exports(&on_pg), before);
    let refused = restore(false);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    let out = restore(true);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exports(&on_pg), before);
    // A backup taken from PostgreSQL is the same kind of file: it restores
    // into a data dir.
    let again = dir_arg(&dir.path().join("from-pg.qbk"));
    let out = quarry(&[&on_pg[..], &["backup", &again]].concat(), &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let home = dir_arg(&dir.path().join("home"));
    let out = quarry(&["--data-dir", &home, "restore", &again], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exports(&["--data-dir", &home]), before);
}

#[tokio::test]
async fn a_node_stopped_during_a_restore_rebuilds_its_index_from_the_restored_store() {
    let mut app = crate::helpers::TestApp::spawn().await;
    app.create_product(&crate::helpers::sand("QZX-91")).await;
    let who = crate::helpers::Who::Anonymous;
    app.eventually("q=qzx-91", who, |s| s == ["QZX-91"]).await;
    app.stop().await;
    let current = app.config.data_dir.join("index").join("CURRENT");
    let built = std::fs::read_to_string(&current).unwrap();
    // A backup of another shop, with a longer change log than this one.
    let shop = app.dir.path().join("shop");
    let file = dir_arg(&app.dir.path().join("shop.qbk"));
    crate::helpers::off_runtime(|| demo_shop(&shop));
    let out = quarry(&["--data-dir", &dir_arg(&shop), "backup", &file], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let data = dir_arg(&app.config.data_dir);
    let mut args = vec!["--data-dir", data.as_str()];
    let url = app.config.store.url.clone();
    if !url.is_empty() {
        // A node's data dir is locked while it serves; restore from beside it.
        args = vec!["--data-dir", file.as_str(), "--store-url", url.as_str()];
    }
    args.extend(["restore", file.as_str(), "--force"]);
    let out = quarry(&args, &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    app.restart().await;
    // The index follows the restored store, not the history it was built
    // from: caught up from its own `seq`, it would miss whatever the restored
    // log did before that `seq`. It was rebuilt, as a new generation.
    let rebuilt = std::fs::read_to_string(&current).unwrap();
    assert_ne!(built, rebuilt, "the index was caught up, not rebuilt");
    let stale = app.search_skus("q=qzx-91", who).await;
    assert!(!stale.contains(&"QZX-91".to_owned()), "{stale:?}");
    let products = app.get("/api/v1/products?limit=500", who).await;
    let skus: Vec<String> = products.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect();
    assert!(skus.len() >= 300, "{}", skus.len());
    for sku in skus.iter().take(40) {
        let found = app.search_skus(&format!("q={sku}"), who).await;
        assert!(found.contains(sku), "{sku} is not in the index: {found:?}");
    }
}

/// A data file as Quarry writes it today (schema 5, with the journal's
/// generation in `meta`), kept so that every later format is checked to open
/// it with everything in it. Written again (only when a test should start
/// from a newer file) with `WRITE_STORE_FIXTURE=1 cargo test --test api
/// a_data_file_kept_from`.
const STORE_FIXTURE: &str = "tests/fixtures/store-schema-5.redb";

/// What the fixture holds: a sand product stocked in two locations, a quote.
async fn write_store_fixture(path: &std::path::Path) {
    use crate::helpers::{TestApp, Who, movement};
    let mut app = TestApp::spawn_embedded(|_| {}).await;
    app.stock_setup().await;
    app.book(&movement("receive", "YARD", "SAND-04", "12"))
        .await;
    app.book(&json!({
        "kind": "transfer", "from": "YARD", "to": "WH1", "reference": "DN-1",
        "lines": [{"sku": "SAND-04", "quantity": "2.5"}],
    }))
    .await;
    let quote = app
        .post(
            "/api/v1/quotes",
            Who::Staff,
            &json!({"lines": [{"sku": "SAND-04", "quantity": "3"}],
                    "contact": {"name": "Sam", "email": "sam@example.com"}}),
        )
        .await;
    assert_eq!(quote.status, reqwest::StatusCode::CREATED, "{}", quote.text);
    app.stop().await;
    let data = app.config.data_dir.clone();
    let path = path.to_owned();
    crate::helpers::off_runtime(move || {
        quarry::store::compact(&data).unwrap();
        std::fs::copy(data.join(quarry::store::DB_FILE), path).unwrap();
    });
}

#[tokio::test]
async fn a_data_file_kept_from_schema_5_opens_with_everything_in_it() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(STORE_FIXTURE);
    if std::env::var_os("WRITE_STORE_FIXTURE").is_some() {
        write_store_fixture(&fixture).await;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&fixture, dir.path().join(quarry::store::DB_FILE)).unwrap();
    let data = dir.path().to_owned();
    crate::helpers::off_runtime(move || {
        let store = Store::open(&data).unwrap();
        let tx = store.read().unwrap();
        let sku = quarry::domain::values::Sku::parse("SAND-04").unwrap();
        let product = tx.product(&sku).unwrap().expect("the product");
        assert_eq!(product.name.as_str(), "Washed sand 0-4 mm");
        let on_hand = |code: &str| {
            let code = quarry::domain::locations::LocationCode::parse(code).unwrap();
            tx.level(&sku, &code).unwrap().on_hand.to_string()
        };
        assert_eq!(on_hand("YARD"), "9.5");
        assert_eq!(on_hand("WH1"), "2.5");
        let moved = tx
            .movements_page(&quarry::store::MovementQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(moved.items.len(), 2);
        let mut quotes = Vec::new();
        tx.for_each_quote(|q| -> Result<(), quarry::store::StoreError> {
            quotes.push(q.lines.len());
            Ok(())
        })
        .unwrap();
        assert_eq!(quotes, [1], "one quote of one line");
        let last_seq = tx.last_seq().unwrap();
        assert!(last_seq >= 10, "{last_seq}");
        drop(tx);
        drop(store);
        let report = quarry::store::check(&data).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.products, 1);
        assert_eq!(report.movements, 2);
    });
}
