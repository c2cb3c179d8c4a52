//! The relevance set: queries written the way customers type them, each with
//! the product that must come up in the top three. Prints the mean reciprocal
//! rank (MRR) of the whole set; `docs/PERFORMANCE.md` records it.

use quarry::demo::relevance::YARD as QUERIES;

use crate::helpers::{TestApp, Who, q};

#[tokio::test]
async fn the_expected_product_is_in_the_top_three_for_every_query_of_the_relevance_set() {
    assert!(QUERIES.len() >= 60);
    let app = TestApp::spawn().await;
    app.load_base_catalogue().await;
    app.eventually("q=gully", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.eventually("q=washed", Who::Anonymous, |s| {
        s.contains(&"SAND-04".to_owned())
    })
    .await;
    let mut reciprocal_ranks = 0.0;
    let mut misses = Vec::new();
    for (query, expected) in QUERIES {
        let skus = app
            .search_skus(&format!("q={}&limit=10", q(query)), Who::Anonymous)
            .await;
        match skus.iter().position(|s| s == expected) {
            Some(rank) => {
                reciprocal_ranks += 1.0 / f64::from(u32::try_from(rank).unwrap() + 1);
                if rank >= 3 {
                    misses.push(format!(
                        "{query:?}: {expected} is #{} in {skus:?}",
                        rank + 1
                    ));
                }
            }
            None => misses.push(format!("{query:?}: {expected} not found in {skus:?}")),
        }
    }
    let mrr = reciprocal_ranks / f64::from(u32::try_from(QUERIES.len()).unwrap());
    println!("relevance: {} queries, MRR {mrr:.3}", QUERIES.len());
    assert!(
        misses.is_empty(),
        "MRR {mrr:.3}; out of the top 3:\n{}",
        misses.join("\n")
    );
}

/// The second set: a hardware merchant's catalogue of another kind (long,
/// brand-led names with model numbers, many near-duplicates), with exact,
/// pasted, typo, half-typed, brand+type, model-number and one-word-too-many
/// queries (`quarry::demo::hardware`). Prints the top-3 share and the MRR of
/// each kind; fails when an expected product leaves the top three.
#[tokio::test]
async fn the_hardware_set_finds_the_expected_product_in_the_top_three_for_every_kind() {
    let products = quarry::demo::hardware::hardware(1, 1_000);
    let set = quarry::demo::hardware::relevance_set(1, &products, 25);
    let app = TestApp::spawn().await;
    for product in &products {
        app.create_product(product).await;
    }
    let last = products.last().unwrap()["sku"].as_str().unwrap().to_owned();
    app.eventually(&format!("q={last}"), Who::Anonymous, |s| s.contains(&last))
        .await;
    let mut kinds: Vec<(&str, usize, usize, f64)> = Vec::new();
    let mut misses = Vec::new();
    for query in &set {
        let skus = app
            .search_skus(&format!("q={}&limit=10", q(&query.text)), Who::Anonymous)
            .await;
        let rank = skus.iter().position(|s| query.expected.contains(s));
        let i = if let Some(i) = kinds.iter().position(|k| k.0 == query.kind) {
            i
        } else {
            kinds.push((query.kind, 0, 0, 0.0));
            kinds.len() - 1
        };
        kinds[i].1 += 1;
        if let Some(rank) = rank {
            kinds[i].3 += 1.0 / f64::from(u32::try_from(rank).unwrap() + 1);
        }
        if rank.is_some_and(|r| r < 3) {
            kinds[i].2 += 1;
        } else {
            misses.push(format!(
                "{} {:?}: {:?} at {rank:?} in {skus:?}",
                query.kind,
                query.text,
                &query.expected[..query.expected.len().min(3)]
            ));
        }
    }
    println!("hardware relevance set: {} queries", set.len());
    println!("| kind | queries | top 3 | MRR |");
    for (kind, n, top3, rr) in &kinds {
        let n_f = f64::from(u32::try_from(*n).unwrap());
        println!(
            "| {kind} | {n} | {:.2} | {:.3} |",
            f64::from(u32::try_from(*top3).unwrap()) / n_f,
            rr / n_f
        );
    }
    assert!(
        misses.is_empty(),
        "out of the top 3:\n{}",
        misses.join("\n")
    );
}
