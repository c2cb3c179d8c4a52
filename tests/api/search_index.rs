//! The search index as a derived view: it catches up after a crash or from an
//! older copy, rebuilds itself when missing or corrupt, and is rebuilt while
//! searches go on.

use std::path::{Path, PathBuf};

use quarry::domain::accounts::Actor;
use quarry::domain::catalogue::{Product, ProductInput};
use quarry::store::{ChangeKind, StoreError};
use reqwest::StatusCode;

use crate::helpers::{TestApp, Who, sand};

/// Writes a product straight into the store, as a server killed between its
/// store commit and its index commit would leave it.
fn write_behind_the_index(config: &quarry::config::Config, sku: &str, name: &str) {
    crate::helpers::off_runtime(|| write_behind(config, sku, name));
}

fn write_behind(config: &quarry::config::Config, sku: &str, name: &str) {
    let store = crate::helpers::open_store(config);
    let mut body = sand(sku);
    body["name"] = serde_json::json!(name);
    let input: ProductInput = serde_json::from_value(body).unwrap();
    let product = Product::create(input.sku.clone().unwrap(), input, jiff::Timestamp::now());
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.put_product(&product)?;
            tx.record(
                ChangeKind::ProductCreated,
                sku,
                &Actor::cli(),
                &quarry::store::payloads::ProductChanged {
                    version: product.version,
                    active: product.active,
                    changes: Vec::new(),
                },
            )?;
            Ok(())
        })
        .unwrap();
}

fn current_index(data_dir: &Path) -> PathBuf {
    let name = std::fs::read_to_string(data_dir.join("index/CURRENT")).unwrap();
    data_dir.join("index").join(name.trim())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn the_index_catches_up_with_changes_it_missed() {
    let mut app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.eventually("q=washed", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.stop().await;
    write_behind_the_index(&app.config, "LAG-1", "Lagging lintel");
    app.restart().await;
    let found = app.search_skus("q=lintel", Who::Anonymous).await;
    assert_eq!(found, ["LAG-1"], "caught up before serving");
}

#[tokio::test]
async fn an_older_copy_of_the_index_catches_up_from_its_own_seq() {
    let mut app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.eventually("q=washed", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.stop().await;
    let data = app.config.data_dir.clone();
    let saved = app.dir.path().join("index-copy");
    copy_dir(&current_index(&data), &saved);
    app.restart().await;
    let mut renamed = sand("SAND-04");
    renamed["name"] = serde_json::json!("Quartz sand");
    app.put("/api/v1/products/SAND-04", Who::Staff, &renamed)
        .await;
    app.create_product(&sand("SAND-09")).await;
    app.eventually("q=quartz", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.stop().await;
    // Put the old copy back in place of the current index.
    let current = current_index(&data);
    std::fs::remove_dir_all(&current).unwrap();
    copy_dir(&saved, &current);
    app.restart().await;
    assert_eq!(
        app.search_skus("q=quartz", Who::Anonymous).await,
        ["SAND-04"]
    );
    assert!(
        app.search_skus("q=sand-09", Who::Anonymous)
            .await
            .contains(&"SAND-09".to_owned())
    );
}

/// Leaves the stopped `app`'s index as a kill inside a commit does: after the
/// commit's files were written but before `meta.json` was. The new files are
/// there, the commit point is the old one, and the same work replayed at
/// start names the same files again. Returns the index directory and the
/// commit's delete file.
async fn kill_an_index_commit_half_way(app: &mut TestApp) -> (PathBuf, PathBuf) {
    app.stop().await;
    let data = app.config.data_dir.clone();
    // Caught up at start in one commit: one segment of two documents.
    write_behind_the_index(&app.config, "LAG-1", "Lagging lintel");
    write_behind_the_index(&app.config, "LAG-2", "Lagging beam");
    app.restart().await;
    app.stop().await;
    let before = app.dir.path().join("index-before");
    copy_dir(&current_index(&data), &before);
    app.restart().await;
    // Renaming deletes a document of that segment: the commit writes a
    // `.del` file named by the segment and the commit's opstamp.
    let mut renamed = sand("LAG-1");
    renamed["name"] = serde_json::json!("Quartz lintel");
    app.put("/api/v1/products/LAG-1", Who::Staff, &renamed)
        .await;
    app.eventually("q=quartz", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.stop().await;
    let current = current_index(&data);
    let mut delete_file = None;
    for entry in std::fs::read_dir(&current).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().ends_with(".del") {
            delete_file = Some(current.join(&name));
        }
        if name != "meta.json" {
            std::fs::copy(current.join(&name), before.join(&name)).unwrap();
        }
    }
    std::fs::remove_dir_all(&current).unwrap();
    copy_dir(&before, &current);
    (
        current,
        delete_file.expect("the commit wrote a delete file"),
    )
}

/// The products [`kill_an_index_commit_half_way`] wrote, under their last names.
async fn both_lagging_products_are_found(app: &TestApp) {
    assert_eq!(app.search_skus("q=quartz", Who::Anonymous).await, ["LAG-1"]);
    assert_eq!(app.search_skus("q=beam", Who::Anonymous).await, ["LAG-2"]);
}

#[tokio::test]
async fn an_index_killed_before_its_commit_point_opens_and_goes_on() {
    let mut app = TestApp::spawn().await;
    let (current, _) = kill_an_index_commit_half_way(&mut app).await;
    app.restart().await;
    assert_eq!(
        current_index(&app.config.data_dir),
        current,
        "caught up, not rebuilt"
    );
    both_lagging_products_are_found(&app).await;
}

#[tokio::test]
async fn an_index_that_cannot_catch_up_at_start_is_rebuilt() {
    let mut app = TestApp::spawn().await;
    let (current, delete_file) = kill_an_index_commit_half_way(&mut app).await;
    // A directory where the replayed commit must write its delete file:
    // cleaning up cannot remove it, and catching up fails.
    std::fs::remove_file(&delete_file).unwrap();
    std::fs::create_dir(&delete_file).unwrap();
    app.restart().await;
    assert_ne!(
        current_index(&app.config.data_dir),
        current,
        "rebuilt in a new generation"
    );
    both_lagging_products_are_found(&app).await;
}

#[tokio::test]
async fn a_missing_or_corrupt_index_is_rebuilt_at_start() {
    let mut app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.eventually("q=washed", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.stop().await;
    let data = app.config.data_dir.clone();
    std::fs::write(current_index(&data).join("meta.json"), b"{ not json").unwrap();
    app.restart().await;
    assert_eq!(
        app.search_skus("q=washed", Who::Anonymous).await,
        ["SAND-04"]
    );
    app.stop().await;
    std::fs::remove_dir_all(data.join("index")).unwrap();
    app.restart().await;
    assert_eq!(
        app.search_skus("q=washed", Who::Anonymous).await,
        ["SAND-04"]
    );
}

#[tokio::test]
async fn an_index_that_fails_while_serving_is_rebuilt_by_itself() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.eventually("q=washed", Who::Anonymous, |s| !s.is_empty())
        .await;
    let data = app.config.data_dir.clone();
    let broken = current_index(&data);
    // The index's files vanish under the running server: its next commit fails.
    std::fs::remove_dir_all(&broken).unwrap();
    let mut lintel = sand("LAG-1");
    lintel["name"] = serde_json::json!("Lagging lintel");
    app.create_product(&lintel).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.search_skus("q=lintel", Who::Anonymous).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the index never recovered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(current_index(&data), broken, "a new generation took over");
    assert_eq!(
        app.search_skus("q=sand-04", Who::Anonymous).await,
        ["SAND-04"],
        "rebuilt from the whole store"
    );
}

#[tokio::test]
async fn reindexing_while_searching_never_fails_a_search() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    app.load_base_catalogue().await;
    app.eventually("q=gully", Who::Anonymous, |s| !s.is_empty())
        .await;
    let searching = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut n = 0;
            for _ in 0..150 {
                let resp = app.get("/api/v1/search?q=rebar", Who::Anonymous).await;
                assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
                assert!(!resp.body["hits"].as_array().unwrap().is_empty());
                n += 1;
            }
            n
        })
    };
    let seq = app.server.as_ref().unwrap().app().reindex().await.unwrap();
    assert!(seq > 0);
    app.server.as_ref().unwrap().app().reindex().await.unwrap();
    assert_eq!(searching.await.unwrap(), 150);
    let index_dirs = std::fs::read_dir(app.config.data_dir.join("index"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(index_dirs, 1, "old index generations are removed");
}
