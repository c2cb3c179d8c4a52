//! Search that never leaves a customer empty-handed: relaxed queries that say
//! which words they left out, pasted names of any length, brands, model
//! numbers, numbers with units, stems that do not join different words, and
//! "did you mean" when nothing matches at all.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, q};

async fn catalogue(extra: &[Value]) -> TestApp {
    let app = TestApp::spawn().await;
    app.load_base_catalogue().await;
    for product in extra {
        app.create_product(product).await;
    }
    let last = extra.last().map_or("GULLY".to_owned(), |p| {
        p["sku"].as_str().unwrap().to_owned()
    });
    app.eventually(&format!("q={}", q(&last)), Who::Anonymous, |s| {
        s.contains(&last) || (last == "GULLY" && !s.is_empty())
    })
    .await;
    app
}

fn product(sku: &str, name: &str, brand: Option<&str>, category: &str) -> Value {
    json!({
        "sku": sku, "name": name, "brand": brand, "category": category,
        "unit": "pc", "price": "10.00",
        "description": "Supplied with instructions. Ideal for DIY and trade use."
    })
}

fn hit_skus(body: &Value) -> Vec<&str> {
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["sku"].as_str().unwrap())
        .collect()
}

fn tools() -> Vec<Value> {
    vec![
        product(
            "DRL-2040",
            "Acme Pro 18V cordless hammer drill XR2040 with 2 batteries and case",
            Some("Acme Pro"),
            "Tools/Drills",
        ),
        product(
            "DRL-2041",
            "Acme Pro 18V cordless combi drill XR 2041 body only",
            Some("Acme Pro"),
            "Tools/Drills",
        ),
        product(
            "DRL-7010",
            "Kestrel 18V cordless hammer drill HD7010 body only",
            Some("Kestrel"),
            "Tools/Drills",
        ),
        product(
            "STRAP-4",
            "Heavy duty ratchet strap set 4 pack 5 m x 25 mm 800 kg",
            Some("Kestrel"),
            "Storage/Straps",
        ),
        product("WSH-M20", "Washer M20 zinc plated", None, "Fixings/Washers"),
        product(
            "CAB-18K",
            "Gold plated cable 18k contacts 3m grey",
            None,
            "Electrical/Cables",
        ),
    ]
}

#[tokio::test]
async fn a_query_whose_words_do_not_all_match_shows_what_matches_most_and_says_so() {
    let app = catalogue(&tools()).await;
    let resp = app
        .search(
            &format!("q={}", q("heavy duty ratchet strap set organiser")),
            Who::Anonymous,
        )
        .await;
    assert_eq!(resp.body["hits"][0]["sku"], "STRAP-4", "{}", resp.text);
    assert_eq!(resp.body["relaxed"]["ignored"], json!(["organiser"]));
    assert_eq!(
        resp.body["relaxed"]["matched"],
        json!(["heavy", "duty", "ratchet", "strap", "set"])
    );
    // A word written differently in a pasted name: the others still find it.
    let resp = app
        .search(
            &format!(
                "q={}",
                q("acme pro 18v cordless hammer drill greyblue xr2040")
            ),
            Who::Anonymous,
        )
        .await;
    assert_eq!(resp.body["hits"][0]["sku"], "DRL-2040", "{}", resp.text);
    assert_eq!(resp.body["relaxed"]["ignored"], json!(["greyblue"]));
    // Products matching more words rank above those matching fewer.
    let resp = app
        .search(
            &format!("q={}", q("kestrel hammer drill organiser")),
            Who::Anonymous,
        )
        .await;
    let skus = hit_skus(&resp.body);
    assert_eq!(skus[0], "DRL-7010", "{skus:?}");
    assert!(
        skus.contains(&"DRL-2040") || resp.body["total"] == 1,
        "{skus:?}"
    );
    // Every word matched: no note.
    let strict = app.search("q=ratchet%20strap", Who::Anonymous).await;
    assert!(strict.body.get("relaxed").is_none(), "{}", strict.text);
}

#[tokio::test]
async fn a_pasted_name_of_any_length_is_searched_and_finds_its_product_first() {
    let long = "Acme Pro heavy duty ratchet tie down strap set with hooks, 4 pack, \
                5 m x 25 mm, 800 kg breaking strain, orange, for trailers, vans and roof racks";
    let mut extra = tools();
    extra.push(product(
        "STRAP-LONG",
        long,
        Some("Acme Pro"),
        "Storage/Straps",
    ));
    let app = catalogue(&extra).await;
    assert!(long.split_whitespace().count() > 24);
    let resp = app.search(&format!("q={}", q(long)), Who::Anonymous).await;
    assert_eq!(resp.body["hits"][0]["sku"], "STRAP-LONG", "{}", resp.text);
    // Past twelve words the engine keeps the most telling ones, and says
    // which it left out.
    assert!(
        !resp.body["relaxed"]["ignored"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        resp.text
    );
    // Repeated words and other punctuation change nothing.
    let noisy = format!("{} strap STRAP; ({})", long.replace(',', " /"), "acme pro");
    let skus = app
        .search_skus(&format!("q={}", q(&noisy)), Who::Anonymous)
        .await;
    assert_eq!(skus[0], "STRAP-LONG", "{skus:?}");
    // 40 words of at most 200 characters: searched, not refused.
    let words = "sand ".repeat(40);
    let resp = app
        .get(&format!("/api/v1/search?q={}", q(&words)), Who::Anonymous)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
}

#[tokio::test]
async fn model_numbers_match_whole_and_by_parts_without_typos_on_digits() {
    let app = catalogue(&tools()).await;
    for typed in ["xr2040", "XR 2040", "xr-2040"] {
        let skus = app
            .search_skus(&format!("q={}", q(typed)), Who::Anonymous)
            .await;
        assert_eq!(
            skus.first().map(String::as_str),
            Some("DRL-2040"),
            "{typed}: {skus:?}"
        );
    }
    // Written apart in the name, found whole in the query.
    let skus = app.search_skus("q=xr2041", Who::Anonymous).await;
    assert_eq!(skus[0], "DRL-2041", "{skus:?}");
    // One digit off is another model: not a match of every word.
    let resp = app.search("q=hd7011", Who::Anonymous).await;
    assert_eq!(
        resp.body["relaxed"]["ignored"],
        json!(["7011"]),
        "{}",
        resp.text
    );
    let resp = app.search("q=kestrel%207011", Who::Anonymous).await;
    assert_eq!(
        resp.body["relaxed"]["ignored"],
        json!(["7011"]),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn numbers_with_units_match_written_together_or_apart_and_with_a_comma() {
    let app = catalogue(&tools()).await;
    for (a, b) in [("18k gold", "18 k gold"), ("cable 3m", "cable 3 m")] {
        let together = app
            .search_skus(&format!("q={}", q(a)), Who::Anonymous)
            .await;
        let apart = app
            .search_skus(&format!("q={}", q(b)), Who::Anonymous)
            .await;
        assert_eq!(together, apart, "{a} / {b}");
        assert_eq!(together.first().map(String::as_str), Some("CAB-18K"), "{a}");
    }
    let comma = app.search_skus("q=cement%2042%2C5", Who::Anonymous).await;
    let dot = app.search_skus("q=cement%2042.5", Who::Anonymous).await;
    assert_eq!(comma, dot);
    assert_eq!(comma[0], "CEM-425");
}

#[tokio::test]
async fn stems_do_not_join_different_words_and_typos_lose_nothing() {
    let app = catalogue(&tools()).await;
    // "washed" is a complete word: it must not grow into "washer".
    let skus = app.search_skus("q=washed", Who::Anonymous).await;
    assert!(!skus.contains(&"WSH-M20".to_owned()), "{skus:?}");
    assert_eq!(skus[0], "SAND-04", "{skus:?}");
    // A typo finds what the word finds.
    let right = app.search("q=washed%20sand", Who::Anonymous).await;
    let typo = app.search("q=washd%20sand", Who::Anonymous).await;
    assert_eq!(right.body["total"], typo.body["total"], "{}", typo.text);
    // A misspelt word that does not stem like the right one ("insualtion"
    // is `insualt`, "insulation" is `insul`) still matches it: no relaxation.
    let resp = app
        .search("q=insualtion%20board%20150", Who::Anonymous)
        .await;
    assert_eq!(resp.body["hits"][0]["sku"], "INS-PIR150", "{}", resp.text);
    assert!(resp.body.get("relaxed").is_none(), "{}", resp.text);
    // A bare number is the product's defining dimension: 12 mm rebar, not
    // the 12 m length of a 20 mm bar.
    let skus = app.search_skus("q=rebar%2012", Who::Anonymous).await;
    assert!(skus[0].starts_with("RB-12"), "{skus:?}");
    assert!(skus[1].starts_with("RB-12"), "{skus:?}");
}

#[tokio::test]
async fn when_nothing_matches_the_answer_offers_the_closest_catalogue_words() {
    let app = catalogue(&tools()).await;
    let resp = app.search("q=snad", Who::Anonymous).await;
    assert_eq!(resp.body["total"], 0, "{}", resp.text);
    assert_eq!(resp.body["did_you_mean"], "sand", "{}", resp.text);
    let resp = app
        .search(&format!("q={}", q("grvel rachet")), Who::Anonymous)
        .await;
    if resp.body["total"] == 0 {
        assert_eq!(resp.body["did_you_mean"], "gravel ratchet", "{}", resp.text);
    }
    let resp = app.search("q=zzqqxx", Who::Anonymous).await;
    assert_eq!(resp.body["total"], 0);
    assert!(resp.body.get("did_you_mean").is_none(), "{}", resp.text);
}

#[tokio::test]
async fn brands_are_searched_counted_filtered_shown_and_exported() {
    let app = catalogue(&tools()).await;
    let resp = app.search("q=kestrel", Who::Anonymous).await;
    let skus = hit_skus(&resp.body);
    assert_eq!(skus.len(), 2, "{skus:?}");
    assert!(skus.contains(&"DRL-7010") && skus.contains(&"STRAP-4"));
    assert_eq!(resp.body["hits"][0]["brand"], "Kestrel");
    // The facet counts every brand among what matched; the filter narrows.
    let drills = app.search("q=drill", Who::Anonymous).await;
    assert_eq!(
        drills.body["facets"]["brand"],
        json!({"Acme Pro": 2, "Kestrel": 1})
    );
    let acme = app.search("q=drill&brand=Acme%20Pro", Who::Anonymous).await;
    assert_eq!(acme.body["total"], 2, "{}", acme.text);
    // Filtered, the facet still shows the other brands.
    assert_eq!(
        acme.body["facets"]["brand"],
        json!({"Acme Pro": 2, "Kestrel": 1})
    );
    let shown = app.get("/api/v1/products/DRL-7010", Who::Anonymous).await;
    assert_eq!(shown.body["brand"], "Kestrel");
    let resp = app
        .patch(
            "/api/v1/products/DRL-7010",
            Who::Staff,
            &json!({"brand": null}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    app.eventually("q=kestrel", Who::Anonymous, |s| s == ["STRAP-4"])
        .await;
    let csv = app
        .get("/api/v1/exports/products?format=csv", Who::Staff)
        .await;
    let header = csv.text.lines().next().unwrap();
    assert!(header.starts_with("sku,name,brand,"), "{header}");
    assert!(csv.text.contains(",Kestrel,"), "{}", csv.text);
    let too_long = app
        .post(
            "/api/v1/products",
            Who::Staff,
            &product("LONG-B", "Long brand", Some(&"b".repeat(81)), "Tools"),
        )
        .await;
    assert_eq!(
        too_long.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_long.text
    );
    assert_eq!(too_long.error().1.as_deref(), Some("brand"));
}
