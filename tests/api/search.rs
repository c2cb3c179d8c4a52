//! Catalogue search over HTTP: typos, prefixes, SKU fragments, numbers, units,
//! synonyms, filters, facets, live availability, and what anonymous callers see.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, Who, movement, q};

async fn catalogue() -> TestApp {
    let app = TestApp::spawn().await;
    app.load_base_catalogue().await;
    // Everything created is searchable once the index has caught up.
    app.eventually("q=gully", Who::Anonymous, |s| !s.is_empty())
        .await;
    app.eventually("q=washed", Who::Anonymous, |s| {
        s.contains(&"SAND-04".to_owned())
    })
    .await;
    app
}

fn top(skus: &[String]) -> &str {
    skus.first().map_or("", String::as_str)
}

#[tokio::test]
async fn typos_prefixes_and_sku_fragments_find_the_right_product_first() {
    let app = catalogue().await;
    for (query, expected) in [
        ("washd sand 0-4", "SAND-04"),
        ("washed sa", "SAND-04"),
        ("0412", "RB-0412-B"),
        ("rb-2512", "RB-2512-B"),
        ("RB-1606-B", "RB-1606-B"),
        ("cem 42.5", "CEM-425"),
        ("wheelbarow", "TOOL-WB85"),
        ("pea grvel", "GRAV-PEA"),
    ] {
        let skus = app
            .search_skus(&format!("q={}", q(query)), Who::Anonymous)
            .await;
        assert_eq!(top(&skus), expected, "{query}: {skus:?}");
    }
}

/// A SKU or barcode typed in part finds its product first: the prefixes are
/// indexed terms of their own (a prefix shared by every SKU is one term, not
/// an expansion over all of them).
#[tokio::test]
async fn skus_and_barcodes_typed_in_part_find_their_product_first() {
    let app = catalogue().await;
    app.patch(
        "/api/v1/products/GRAV-PEA",
        Who::Staff,
        &json!({"barcode": "4006381333931"}),
    )
    .await;
    app.eventually("q=4006381333931", Who::Anonymous, |s| {
        s.first().is_some_and(|sku| sku == "GRAV-PEA")
    })
    .await;
    for (query, expected) in [
        ("400638133", "GRAV-PEA"),
        ("tool-wb", "TOOL-WB85"),
        ("TOOL-WB8", "TOOL-WB85"),
        ("rb-1606-", "RB-1606-B"),
    ] {
        let skus = app
            .search_skus(&format!("q={}", q(query)), Who::Anonymous)
            .await;
        assert_eq!(top(&skus), expected, "{query}: {skus:?}");
    }
    // A prefix no SKU or barcode has finds nothing by it.
    let none = app.search_skus("q=4006381339", Who::Anonymous).await;
    assert!(!none.contains(&"GRAV-PEA".to_owned()), "{none:?}");
}

#[tokio::test]
async fn numbers_are_exact_and_units_match_written_together_or_apart() {
    let app = catalogue().await;
    let together = app.search_skus("q=rebar%2012mm", Who::Anonymous).await;
    let apart = app.search_skus("q=rebar%2012%20mm", Who::Anonymous).await;
    assert_eq!(together, apart);
    assert!(
        together.iter().take(2).all(|s| s.starts_with("RB-12")),
        "{together:?}"
    );
    // 42.5 must not match 45.5, nor 52.5: no product has every word, and
    // the answer says it left 45.5 out to show cements.
    let relaxed = app.search("q=cement%2045.5", Who::Anonymous).await;
    assert_eq!(
        relaxed.body["relaxed"]["ignored"],
        json!(["45.5"]),
        "{}",
        relaxed.text
    );
    assert_eq!(relaxed.body["relaxed"]["matched"], json!(["cement"]));
    let exact = app.search_skus("q=cement%2042.5", Who::Anonymous).await;
    assert_eq!(top(&exact), "CEM-425");
    assert!(!exact.contains(&"CEM-525".to_owned()), "{exact:?}");
}

#[tokio::test]
async fn synonyms_from_config_are_understood() {
    let app = catalogue().await;
    let skus = app
        .search_skus("q=reinforcing%20bar%2025", Who::Anonymous)
        .await;
    assert_eq!(top(&skus), "RB-2512-B", "{skus:?}");
}

#[tokio::test]
async fn filters_and_facets_narrow_and_count_together() {
    let app = catalogue().await;
    let all = app.search("q=", Who::Anonymous).await;
    assert_eq!(all.body["total"], quarry::demo::BASE.len());
    let top_level = all.body["facets"]["category"].as_object().unwrap();
    assert!(
        top_level.contains_key("Aggregates") && top_level.contains_key("Timber"),
        "{top_level:?}"
    );
    let sum: u64 = top_level.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, quarry::demo::BASE.len() as u64);

    let sand = app
        .search("q=sand&category=aggregates", Who::Anonymous)
        .await;
    let facets = sand.body["facets"]["category"].as_object().unwrap();
    assert!(facets.contains_key("Aggregates/Sand"), "{facets:?}");
    assert!(
        sand.body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["category"].as_str().unwrap().starts_with("Aggregates"))
    );
    let tagged = app.search("q=&tags=drainage", Who::Anonymous).await;
    assert!(tagged.body["total"].as_u64().unwrap() >= 4);
    assert_eq!(
        tagged.body["facets"]["tags"]["drainage"],
        tagged.body["total"]
    );

    let cheap = app
        .search("q=&price_min=1&price_max=3&sort=price", Who::Anonymous)
        .await;
    let hits = cheap.body["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    let prices: Vec<f64> = hits
        .iter()
        .map(|h| h["price"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(prices.iter().all(|p| (1.0..=3.0).contains(p)), "{prices:?}");
    sorted_by_unit_price(hits, true);
    let dear = app.search("q=&sort=-price&limit=100", Who::Anonymous).await;
    sorted_by_unit_price(dear.body["hits"].as_array().unwrap(), false);
    let by_name = app.search("q=gravel&sort=name", Who::Anonymous).await;
    let names: Vec<String> = by_name.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        names.len() >= 4 && names.windows(2).all(|w| w[0] <= w[1]),
        "{names:?}"
    );

    // Paging with the cursor walks every hit once.
    let mut seen = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let path = match &cursor {
            Some(c) => format!("q=&limit=7&cursor={c}"),
            None => "q=&limit=7".into(),
        };
        let page = app.search(&path, Who::Anonymous).await;
        seen.extend(
            page.body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["sku"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), quarry::demo::BASE.len());
}

#[tokio::test]
async fn availability_is_live_and_in_stock_filters() {
    let app = catalogue().await;
    app.create_location("YARD", "Yard").await;
    let before = app.search("q=washed%20sand", Who::Anonymous).await;
    assert_eq!(
        before.body["hits"][0]["availability"],
        json!({"status": "out"})
    );
    let none = app
        .search_skus("q=sand&in_stock=true", Who::Anonymous)
        .await;
    assert!(none.is_empty(), "{none:?}");

    app.book(&movement("receive", "YARD", "SAND-04", "40"))
        .await;
    let after = app.search("q=washed%20sand", Who::Anonymous).await;
    assert_eq!(
        after.body["hits"][0]["availability"],
        json!({"status": "in_stock"})
    );
    let staff = app.search("q=washed%20sand", Who::Staff).await;
    assert_eq!(
        staff.body["hits"][0]["availability"],
        json!({"status": "in_stock", "available": "40"})
    );
    let stocked = app
        .eventually("q=sand&in_stock=true", Who::Anonymous, |s| s == ["SAND-04"])
        .await;
    assert_eq!(stocked, ["SAND-04"]);
}

#[tokio::test]
async fn anonymous_search_never_shows_staff_fields_or_archived_products() {
    let app = catalogue().await;
    app.delete("/api/v1/products/SAND-SHARP", Who::Staff).await;
    let public = app
        .eventually("q=sharp%20sand", Who::Anonymous, |s| {
            !s.contains(&"SAND-SHARP".to_owned())
        })
        .await;
    assert!(!public.contains(&"SAND-SHARP".to_owned()));
    let resp = app.search("q=sand", Who::Anonymous).await;
    for hit in resp.body["hits"].as_array().unwrap() {
        assert!(
            hit.get("cost").is_none() && hit.get("active").is_none(),
            "{hit}"
        );
    }
    let staff = app.search_skus("q=sharp%20sand", Who::Staff).await;
    assert!(
        staff.contains(&"SAND-SHARP".to_owned()),
        "staff still find archived products"
    );
    let staff_hit = app.search("q=sharp%20sand", Who::Staff).await;
    let archived = staff_hit.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["sku"] == "SAND-SHARP")
        .unwrap()
        .clone();
    assert_eq!(archived["active"], false);
}

#[tokio::test]
async fn a_change_is_searchable_shortly_after_its_commit() {
    let app = catalogue().await;
    app.patch(
        "/api/v1/products/GRAV-PEA",
        Who::Staff,
        &json!({"name": "Pea pebbles 6-10 mm"}),
    )
    .await;
    let found = app
        .eventually("q=pebbles", Who::Anonymous, |s| {
            s.contains(&"GRAV-PEA".to_owned())
        })
        .await;
    assert_eq!(found, ["GRAV-PEA"]);
    let highlighted = app.search("q=pebbles", Who::Anonymous).await;
    assert_eq!(
        highlighted.body["hits"][0]["highlight"]["name"],
        "Pea <mark>pebbles</mark> 6-10 mm"
    );
}

#[tokio::test]
async fn suggestions_complete_what_is_typed() {
    let app = catalogue().await;
    let resp = app
        .get("/api/v1/search/suggest?q=reb", Who::Anonymous)
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    let names: Vec<&str> = resp.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(!names.is_empty() && names.len() <= 8, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("Rebar")), "{names:?}");
    let empty = app.get("/api/v1/search/suggest?q=", Who::Anonymous).await;
    assert_eq!(empty.body["suggestions"], json!([]));
}

#[tokio::test]
async fn bad_searches_get_a_clear_400() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        (format!("q={}", "a".repeat(201)), "q"),
        ("q=x&sort=cheapest".to_owned(), "sort"),
        ("q=x&price_min=cheap".to_owned(), "price_min"),
        ("q=x&limit=500".to_owned(), "limit"),
        ("q=x&cursor=zzz".to_owned(), "cursor"),
    ] {
        let resp = app
            .get(&format!("/api/v1/search?{query}"), Who::Anonymous)
            .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            resp.text
        );
        assert_eq!(resp.error().1.as_deref(), Some(field), "{query}");
    }
}

#[tokio::test]
async fn a_sku_fragment_typed_with_its_dash_finds_the_sku_containing_it() {
    let app = TestApp::spawn().await;
    // Each holds "0030" and a "t"; only the bolt holds "t-0030" as typed.
    for (sku, name) in [
        ("NUT-100309", "Hex nut"),
        ("BOLT-003012", "Coach bolt"),
        ("WASHER-00300", "Flat washer"),
    ] {
        let mut body = crate::helpers::sand(sku);
        body["name"] = json!(name);
        app.create_product(&body).await;
    }
    app.eventually("q=washer", Who::Anonymous, |s| !s.is_empty())
        .await;
    for query in ["t-0030", "T-0030", "lt-00301"] {
        let skus = app
            .search_skus(&format!("q={}", q(query)), Who::Anonymous)
            .await;
        assert_eq!(top(&skus), "BOLT-003012", "{query}: {skus:?}");
    }
}

#[tokio::test]
async fn equally_relevant_products_in_stock_come_first_when_asked() {
    let app = TestApp::spawn().await;
    app.create_location("YARD", "Yard").await;
    for sku in ["TWIN-A", "TWIN-B", "TWIN-C"] {
        let mut body = crate::helpers::sand(sku);
        body["name"] = json!("Twin wall block");
        app.create_product(&body).await;
    }
    app.book(&movement("receive", "YARD", "TWIN-C", "5")).await;
    let ranked = app
        .eventually("q=twin%20wall&in_stock_first=true", Who::Anonymous, |s| {
            s.first().map(String::as_str) == Some("TWIN-C")
        })
        .await;
    assert_eq!(
        ranked.first().map(String::as_str),
        Some("TWIN-C"),
        "{ranked:?}"
    );
    assert_eq!(ranked.len(), 3);
}

/// Hits sorted by price per base unit: each dimension's products together
/// (kg, then m³, m, m², pc), cheapest (or dearest) first within it.
fn sorted_by_unit_price(hits: &[serde_json::Value], ascending: bool) {
    let order = ["kg", "m3", "m", "m2", "pc"];
    let keys: Vec<(usize, f64)> = hits
        .iter()
        .map(|h| {
            let per = h["unit_price"]["per"].as_str().unwrap();
            let rank = order.iter().position(|u| *u == per).unwrap();
            (
                rank,
                h["unit_price"]["amount"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0].0 < w[1].0
            || (w[0].0 == w[1].0
                && (if ascending {
                    w[0].1 <= w[1].1
                } else {
                    w[0].1 >= w[1].1
                }))),
        "{keys:?}"
    );
}

#[tokio::test]
async fn prices_per_tonne_per_kilogram_and_per_bag_sort_by_their_price_per_kilogram() {
    let app = TestApp::spawn().await;
    let product = |sku: &str, unit: &str, price: &str| {
        json!({"sku": sku, "name": format!("Zzcompare {sku}"), "category": "Test",
            "unit": unit, "price": price})
    };
    // €34 per tonne is €0.034 per kg: cheaper than €0.32 per kg, although
    // 34 > 0.32; a 25 kg bag at €8.50 is €0.34 per kg.
    app.create_product(&product("PER-T", "t", "34.00")).await;
    app.create_product(&product("PER-KG", "kg", "0.32")).await;
    let mut bag = product("PER-BAG", "kg", "8.50");
    bag["packs"] = json!([{"name": "bag", "quantity": "25", "unit": "kg"}]);
    bag["pricing_unit"] = json!("bag");
    app.create_product(&bag).await;
    app.create_product(&product("PER-M3", "m3", "0.10")).await;
    app.create_product(&product("PER-PC", "pc", "0.01")).await;
    app.eventually("q=zzcompare", Who::Anonymous, |s| s.len() == 5)
        .await;
    assert_eq!(
        app.search_skus("q=zzcompare&sort=price", Who::Anonymous)
            .await,
        ["PER-T", "PER-KG", "PER-BAG", "PER-M3", "PER-PC"]
    );
    assert_eq!(
        app.search_skus("q=zzcompare&sort=-price", Who::Anonymous)
            .await,
        ["PER-BAG", "PER-KG", "PER-T", "PER-M3", "PER-PC"]
    );
    // Each hit says what its price is per, and per base unit.
    let cheap = app.search("q=zzcompare&sort=price", Who::Anonymous).await;
    let bag = &cheap.body["hits"][2];
    assert_eq!(bag["price"], "8.50");
    assert_eq!(bag["per"], "bag");
    assert_eq!(bag["unit"], "kg");
    assert_eq!(bag["unit_price"], json!({"amount": "0.34", "per": "kg"}));
    assert_eq!(
        cheap.body["hits"][0]["unit_price"],
        json!({"amount": "0.034", "per": "kg"})
    );
}

/// Every prefix of every product's category with how many products it holds,
/// counted here from the products themselves.
fn expected_categories(categories: &[String]) -> Vec<(String, u64)> {
    let mut counts = std::collections::BTreeMap::<String, (String, u64)>::new();
    for category in categories {
        let parts: Vec<&str> = category.split('/').collect();
        for depth in 1..=parts.len() {
            let path = parts[..depth].join("/");
            counts.entry(path.to_lowercase()).or_insert((path, 0)).1 += 1;
        }
    }
    counts.into_values().collect()
}

fn listed(resp: &crate::helpers::Resp) -> Vec<(String, u64)> {
    resp.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let path = c["path"].as_str().unwrap().to_owned();
            assert_eq!(c["name"], path.rsplit('/').next().unwrap(), "{c}");
            assert_eq!(c["depth"], path.split('/').count(), "{c}");
            (path, c["products"].as_u64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn the_category_list_counts_every_level_and_hides_archived_products_from_the_public() {
    let app = catalogue().await;
    let categories: Vec<String> = quarry::demo::BASE
        .iter()
        .map(|base| {
            quarry::demo::product_json(base)["category"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let all = expected_categories(&categories);
    assert!(all.iter().any(|(path, _)| path.contains('/')), "{all:?}");
    let public = app.get("/api/v1/categories", Who::Anonymous).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text);
    assert_eq!(listed(&public), all);

    // Archived: the public no longer counts it, staff do.
    let sharp = app.get("/api/v1/products/SAND-SHARP", Who::Staff).await;
    let sharp_category = sharp.body["category"].as_str().unwrap().to_owned();
    app.delete("/api/v1/products/SAND-SHARP", Who::Staff).await;
    let mut active = categories.clone();
    let at = active.iter().position(|c| *c == sharp_category).unwrap();
    active.remove(at);
    // The index follows the store a moment after the commit.
    let mut public = Vec::new();
    for _ in 0..50 {
        public = listed(&app.get("/api/v1/categories", Who::Anonymous).await);
        if public != all {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(public, expected_categories(&active));
    let staff = app.get("/api/v1/categories", Who::Staff).await;
    assert_eq!(listed(&staff), all);
}

#[tokio::test]
async fn a_category_filter_names_a_whole_path_or_the_one_category_ending_with_it() {
    let app = catalogue().await;
    let whole = app
        .search_skus("category=Aggregates/Sand&limit=100", Who::Staff)
        .await;
    assert!(whole.contains(&"SAND-04".to_owned()), "{whole:?}");
    // The admin filter was typed as "sand" and found nothing.
    let last_part = app.search_skus("category=sand&limit=100", Who::Staff).await;
    assert_eq!(last_part, whole);
    let nothing = app.search_skus("category=and&limit=100", Who::Staff).await;
    assert!(nothing.is_empty(), "{nothing:?}");
}
