//! The relevance set: queries written the way customers type them, each with
//! the product that must come up in the top three. Prints the mean reciprocal
//! rank (MRR) of the whole set; `docs/PERFORMANCE.md` records it.

use crate::helpers::{TestApp, Who, q};

/// (query, expected SKU).
pub const QUERIES: &[(&str, &str)] = &[
    ("washd sand 0-4", "SAND-04"),
    ("washed sand", "SAND-04"),
    ("washed s", "SAND-04"),
    ("sharp sand", "SAND-SHARP"),
    ("building sand", "SAND-BLD"),
    ("plastering sand", "SAND-PLST"),
    ("silica", "SAND-SIL"),
    ("kiln dried sand", "SAND-KD"),
    ("gravel 4-8", "GRAV-0408"),
    ("gravel 8-16mm", "GRAV-0816"),
    ("gravel 16/32", "GRAV-1632"),
    ("pea gravel", "GRAV-PEA"),
    ("pea grvel", "GRAV-PEA"),
    ("crushed granite", "GRAN-1020"),
    ("granit 10-20", "GRAN-1020"),
    ("limestone chippings", "LIME-20"),
    ("ballast", "BALL-020"),
    ("type 1 mot", "MOT-T1"),
    ("mot sub base", "MOT-T1"),
    ("topsoil", "SOIL-TOP"),
    ("cem 42.5", "CEM-425"),
    ("portland cement", "CEM-425"),
    ("cement 32.5", "CEM-325"),
    ("rapid set cement", "CEM-525"),
    ("white cement", "CEM-WHT"),
    ("cemnt 52.5", "CEM-525"),
    ("mortar m4", "MORT-M4"),
    ("masonry mortar", "MORT-M10"),
    ("hydraulic lime", "LIME-NHL35"),
    ("nhl 3.5", "LIME-NHL35"),
    ("tile adhesive", "ADH-C2TE"),
    ("self levelling screed", "SCREED-SL"),
    ("rebar 12mm", "RB-1206-B"),
    ("rebar 8mm", "RB-0806-B"),
    ("rebar 16 mm", "RB-1606-B"),
    ("reinforcing bar 20mm", "RB-2012-B"),
    ("0412", "RB-0412-B"),
    ("RB-2512", "RB-2512-B"),
    ("mesh a142", "MESH-A142"),
    ("mesh a252", "MESH-A252"),
    ("tying wire", "WIRE-TIE"),
    ("steel angle", "ANG-40404"),
    ("flat bar 50", "FLAT-5005"),
    ("c24 47x100", "TIM-47100"),
    ("timber 47 x 150", "TIM-47150"),
    ("joist 47x200", "TIM-47200"),
    ("cls stud", "TIM-3889"),
    ("roofing batten", "BAT-2538"),
    ("decking", "DECK-28145"),
    ("osb 18mm", "OSB-18"),
    ("oriented strand board", "OSB-18"),
    ("plywood 12mm", "PLY-12"),
    ("concrete block 7n", "BLK-7N100"),
    ("aircrete block", "BLK-AER100"),
    ("engineering brick", "BRK-ENGB"),
    ("facing brick", "BRK-FRM"),
    ("paving slab 600", "SLAB-600"),
    ("kerb", "KERB-HB2"),
    ("plasticiser", "CHEM-PLAST"),
    ("pva", "CHEM-PVA"),
    ("bitumen", "CHEM-BIT"),
    ("hydrochloric acid", "CHEM-HCL30"),
    ("caustic soda", "CHEM-NAOH"),
    ("tanking slurry", "CHEM-SLURRY"),
    ("pir 100mm", "INS-PIR100"),
    ("pir insulation 50", "INS-PIR50"),
    ("insulaton board 150", "INS-PIR150"),
    ("mineral wool", "INS-MW100"),
    ("eps floor", "INS-EPS100"),
    ("shovel", "TOOL-SHV"),
    ("wheelbarow", "TOOL-WB85"),
    ("spirit level", "TOOL-LVL12"),
    ("brick trowel", "TOOL-TRW11"),
    ("concrete mixer", "TOOL-MIX140"),
    ("safety helmet", "PPE-HAT"),
    ("gloves", "PPE-GLV"),
    ("drain pipe 110", "DRN-110"),
    ("manhole cover", "DRN-MH600"),
    ("gully", "DRN-GULLY"),
];

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
