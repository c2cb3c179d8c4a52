//! CSV import and export: precise reports on bad rows, all or nothing, dry
//! runs, and a round trip into an empty data dir that gives the same data.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{dir_arg, quarry, stderr, stdout};
use crate::helpers::{TestApp, Who, movement, sand};

const PRODUCTS: &str = "\
SKU , Name,Category,Unit,Price,Packs,Price Breaks,Barcode
GOOD-1,Gravel 10 mm,Aggregates/Gravel,t,31.50,bulk bag=0.85 t,10=30; 25=29,5012345000011
BAD-PRICE,Gravel 20 mm,Aggregates/Gravel,t,cheap,,,
GOOD-2,Cement bag,Cement and mortar,kg,0.21,bag=25 kg; pallet=40 bag,,
BAD-UNIT,Sand,Aggregates/Sand,bucket,3,,,
BAD-PACK,Lime,Cement and mortar,kg,1,bag,,
DUP-CODE,Another,Tools,pc,1,,,5012345000011
";

#[tokio::test]
async fn a_product_file_with_bad_rows_is_reported_row_by_row_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let resp = app
        .upload("/api/v1/imports/products", Who::Staff, PRODUCTS)
        .await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text
    );
    assert_eq!(resp.body["error"]["code"], "invalid_rows");
    let report = &resp.body["report"];
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "price".to_owned()),
            (5, "unit".to_owned()),
            (6, "packs".to_owned()),
            (7, "barcode".to_owned()),
        ],
        "{report}"
    );
    assert_eq!(report["rows"], 6);
    assert_eq!(report["written"], false);
    for sku in ["GOOD-1", "GOOD-2"] {
        let got = app
            .get(&format!("/api/v1/products/{sku}"), Who::Staff)
            .await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{sku} was written");
    }

    // A dry run of the same file says the same and writes nothing either.
    let dry = app
        .upload(
            "/api/v1/imports/products?dry_run=true",
            Who::Staff,
            PRODUCTS,
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.body["rejected"], 4);
    assert_eq!(dry.body["written"], false);

    // Skipping the bad rows writes the good ones, packs and breaks included.
    let skipped = app
        .upload(
            "/api/v1/imports/products?skip_invalid=true",
            Who::Staff,
            PRODUCTS,
        )
        .await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.text);
    assert_eq!(skipped.body["created"], 2);
    assert_eq!(skipped.body["written"], true);
    let cement = app.get("/api/v1/products/GOOD-2", Who::Staff).await;
    assert_eq!(cement.body["packs"][1]["name"], "pallet");
    let gravel = app.get("/api/v1/products/GOOD-1", Who::Staff).await;
    assert_eq!(gravel.body["price_breaks"][1]["min_quantity"], "25");

    // Importing again replaces by SKU: same rows are unchanged, one edit updates.
    let again = "sku,name,category,unit,price\nGOOD-2,Cement 25 kg bag,Cement and mortar,kg,0.21\n";
    let updated = app
        .upload("/api/v1/imports/products", Who::Staff, again)
        .await;
    assert_eq!(updated.body["updated"], 1, "{}", updated.text);
    let audit = app.get("/api/v1/audit?kind=import.done", Who::Owner).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
}

/// Regression (API fuzzing): a bad `reference` was only found by imports
/// that book movements, and a product import took it without a word.
#[tokio::test]
async fn a_bad_reference_is_refused_for_every_kind_of_import() {
    let app = TestApp::spawn().await;
    let long = "R".repeat(101);
    for kind in ["products", "stock", "movements"] {
        let resp = app
            .upload(
                &format!("/api/v1/imports/{kind}?reference={long}"),
                Who::Staff,
                "sku,name,category,unit,price\nREF-1,Thing,Misc,pc,1\n",
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{kind}: {}",
            resp.text
        );
        assert_eq!(
            resp.body["error"]["field"], "reference",
            "{kind}: {}",
            resp.text
        );
    }
    let none = app.get("/api/v1/products/REF-1", Who::Staff).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_file_with_an_unknown_or_missing_column_is_refused_at_its_header() {
    let app = TestApp::spawn().await;
    let resp = app
        .upload(
            "/api/v1/imports/products",
            Who::Staff,
            "sku,name,colour,unit,price\nA-1,Thing,red,pc,1\n",
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = resp.body["report"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["row"] == 1 && e["column"] == "colour"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["row"] == 1 && e["column"] == "category"),
        "{errors:?}"
    );
    // Not a form at all.
    let plain = app
        .post("/api/v1/imports/products", Who::Staff, &json!({}))
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST, "{}", plain.text);
}

#[tokio::test]
async fn stock_counts_become_adjustments_and_a_bad_count_names_its_row() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.create_product(&sand("SAND-05")).await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    let counts = "sku,location,quantity\nSAND-04,YARD,7.5\nNOPE-1,YARD,3\nSAND-05,NEWBAY,2\n";
    let refused = app
        .upload("/api/v1/imports/stock", Who::Staff, counts)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["report"]["errors"][0]["row"], 3);
    assert_eq!(refused.body["report"]["errors"][0]["column"], "sku");
    assert_eq!(app.level("SAND-04", "YARD").await.0, "10");

    let done = app
        .upload(
            "/api/v1/imports/stock?skip_invalid=true&reference=count-2026-11",
            Who::Staff,
            counts,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(app.level("SAND-04", "YARD").await.0, "7.5");
    assert_eq!(app.level("SAND-05", "NEWBAY").await.0, "2");
    assert_eq!(done.body["locations_created"], json!(["NEWBAY"]));
    let booked = app
        .get("/api/v1/movements?reference=count-2026-11", Who::Staff)
        .await;
    let kinds: Vec<&str> = booked.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.iter().all(|k| *k == "adjust"), "{kinds:?}");
    app.stop_and_check().await;
}

/// Hardening item 10: an imported count is an adjustment and keeps its rule.
#[tokio::test]
async fn a_stock_count_below_what_is_reserved_names_its_row_and_says_to_release_first() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    app.create_product(&sand("SAND-05")).await;
    app.book(&movement("receive", "YARD", "SAND-04", "10"))
        .await;
    app.book(&movement("reserve", "YARD", "SAND-04", "6")).await;
    let counts = "sku,location,quantity\nSAND-05,YARD,2\nSAND-04,YARD,5\n";
    let refused = app
        .upload("/api/v1/imports/stock", Who::Staff, counts)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let error = &refused.body["report"]["errors"][0];
    assert_eq!(error["row"], 3);
    assert_eq!(error["column"], "quantity");
    let reason = error["reason"].as_str().unwrap();
    assert!(
        reason.contains("6 reserved") && reason.contains("release the reservation first"),
        "{reason}"
    );
    assert_eq!(app.level("SAND-04", "YARD").await.0, "10");
    assert_eq!(app.level("SAND-05", "YARD").await.0, "0", "all or nothing");
    app.stop_and_check().await;
}

/// Hardening item 7: an imported count is a movement and keeps the whole-piece rule.
#[tokio::test]
async fn a_count_of_a_fraction_of_a_piece_names_its_row_and_column() {
    let app = TestApp::spawn().await;
    app.create_location("YARD", "Yard").await;
    let products = "sku,name,category,unit,price,fractional_count\n\
                    BOLT-10,Hex bolt,Fixings,pc,0.40,\n\
                    CHEESE-1,Cheese wheel,Deli,pc,30,yes\n";
    let done = app
        .upload("/api/v1/imports/products", Who::Staff, products)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let cheese = app.get("/api/v1/products/CHEESE-1", Who::Viewer).await;
    assert_eq!(cheese.body["fractional_count"], true);
    let counts = "sku,location,quantity\nCHEESE-1,YARD,2.5\nBOLT-10,YARD,2.5\n";
    let refused = app
        .upload("/api/v1/imports/stock", Who::Staff, counts)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let error = &refused.body["report"]["errors"][0];
    assert_eq!(error["row"], 3);
    assert_eq!(error["column"], "quantity");
    assert!(
        error["reason"]
            .as_str()
            .unwrap()
            .contains("BOLT-10 is counted in whole pieces"),
        "{error}"
    );
    app.stop_and_check().await;
}

async fn download(app: &TestApp, what: &str, format: &str) -> String {
    let resp = app
        .get(
            &format!("/api/v1/exports/{what}?format={format}"),
            Who::Staff,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text);
    resp.text
}

/// A movement CSV without the columns an import does not keep (who booked).
fn without_actor(csv: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let keep: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !matches!(*h, "actor" | "reverses"))
        .map(|(i, _)| i)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            keep.iter().map(|&i| r[i].to_owned()).collect()
        })
        .collect()
}

#[tokio::test]
async fn an_export_imported_into_an_empty_data_dir_gives_the_same_data() {
    let source = TestApp::spawn().await;
    source.load_base_catalogue().await;
    source.create_location("YARD", "Main yard").await;
    source.create_location("WH1", "Warehouse 1").await;
    source
        .book(
            &json!({"kind": "receive", "location": "YARD", "reference": "DN-1",
                          "note": "first, delivery", "lines": [
                {"sku": "SAND-04", "quantity": "30"},
                {"sku": "CEM-425", "quantity": "1", "unit": "t"},
            ]}),
        )
        .await;
    source
        .book(&json!({"kind": "transfer", "from": "YARD", "to": "WH1",
                      "lines": [{"sku": "SAND-04", "quantity": "2.5"}]}))
        .await;
    source
        .book(&json!({"kind": "adjust", "location": "YARD", "lines": [
            {"sku": "SAND-04", "counted": "26", "reason": "count"}]}))
        .await;
    let shipped = source
        .book(&movement("ship", "YARD", "CEM-425", "100"))
        .await;
    let id = shipped.body["id"].as_u64().unwrap();
    let reversed = source
        .post(
            &format!("/api/v1/movements/{id}/reverse"),
            Who::Staff,
            &json!({}),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::CREATED);
    source
        .book(&movement("reserve", "WH1", "SAND-04", "1"))
        .await;

    let products = download(&source, "products", "csv").await;
    let movements = download(&source, "movements", "csv").await;
    let stock = download(&source, "stock", "csv").await;
    let json_products: Value = serde_json::from_str(&download(&source, "products", "json").await)
        .expect("the JSON export parses");
    assert!(json_products.as_array().unwrap().len() > 70);

    let target = TestApp::spawn().await;
    let imported = target
        .upload("/api/v1/imports/products", Who::Staff, &products)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let imported = target
        .upload("/api/v1/imports/movements", Who::Staff, &movements)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["movements"], 6);

    assert_eq!(download(&target, "products", "csv").await, products);
    assert_eq!(download(&target, "stock", "csv").await, stock);
    assert_eq!(
        without_actor(&download(&target, "movements", "csv").await),
        without_actor(&movements)
    );
    target.stop_and_check().await;
}

#[tokio::test]
async fn the_command_line_imports_with_a_precise_report_and_exports_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(&dir.path().join("data"));
    let file = dir.path().join("products.csv");
    std::fs::write(&file, PRODUCTS).unwrap();
    let file = dir_arg(&file);
    tokio::task::spawn_blocking(move || {
        let refused = quarry(
            &["--data-dir", &data, "import", "products", &file],
            &[],
            None,
        );
        assert!(!refused.status.success());
        let report = stderr(&refused);
        assert!(report.contains("row 3, column price:"), "{report}");
        assert!(report.contains("row 7, column barcode:"), "{report}");
        assert!(
            stdout(&refused).contains("nothing written"),
            "{}",
            stdout(&refused)
        );

        let out = dir_arg(&std::path::Path::new(&data).with_file_name("out.csv"));
        let export = quarry(
            &["--data-dir", &data, "export", "products", "--output", &out],
            &[],
            None,
        );
        assert!(export.status.success(), "{}", stderr(&export));
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(written.lines().count(), 1, "only the header: {written}");

        let skipped = quarry(
            &[
                "--data-dir",
                &data,
                "import",
                "products",
                &file,
                "--skip-invalid",
            ],
            &[],
            None,
        );
        assert!(
            !skipped.status.success(),
            "bad rows still fail the exit code"
        );
        assert!(
            stdout(&skipped).contains("2 created"),
            "{}",
            stdout(&skipped)
        );
        let json = quarry(
            &[
                "--data-dir",
                &data,
                "export",
                "products",
                "--format",
                "json",
            ],
            &[],
            None,
        );
        let items: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(items.as_array().unwrap().len(), 2);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_command_line_lists_every_bad_row_even_past_what_a_report_keeps() {
    use std::fmt::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir_arg(&dir.path().join("data"));
    let mut csv = String::from("sku,name,category,unit,price\n");
    for i in 0..1_500 {
        writeln!(csv, "BAD-{i:04},Sand,Aggregates,t,cheap").unwrap();
    }
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, csv).unwrap();
    let file = dir_arg(&file);
    tokio::task::spawn_blocking(move || {
        let refused = quarry(
            &[
                "--data-dir",
                &data,
                "import",
                "products",
                &file,
                "--dry-run",
            ],
            &[],
            None,
        );
        assert!(!refused.status.success());
        let report = stderr(&refused);
        let listed = report
            .lines()
            .filter(|l| l.starts_with("row ") && l.contains(", column price:"))
            .count();
        assert_eq!(
            listed,
            1_500,
            "{}",
            &report[report.len().saturating_sub(500)..]
        );
        assert!(report.contains("row 1501, column price:"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn every_row_of_a_refused_movement_is_reported_with_the_row_that_refused_it() {
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    // Movement m1's second line ships more than there is: the whole movement goes.
    let csv = "movement,kind,location,sku,quantity\n\
               m1,receive,YARD,SAND-04,5\n\
               m2,ship,YARD,SAND-04,1\n\
               m2,ship,YARD,SAND-04,999\n\
               m2,ship,YARD,SAND-04,1\n";
    let answer = app
        .upload("/api/v1/imports/movements?dry_run=true", Who::Staff, csv)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let report = &answer.body;
    assert_eq!(report["rejected"], 3, "{report}");
    let errors = report["errors"].as_array().unwrap();
    let rows: Vec<u64> = errors.iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows.len(), 3, "every refused row is listed: {report}");
    assert!(
        rows.contains(&3) && rows.contains(&4) && rows.contains(&5),
        "{rows:?}"
    );
    let refusing = errors.iter().find(|e| e["row"] == 4).unwrap();
    assert!(
        refusing["reason"]
            .as_str()
            .unwrap()
            .contains("insufficient")
            || refusing["reason"].as_str().unwrap().contains("only"),
        "{refusing}"
    );
    for e in errors.iter().filter(|e| e["row"] != 4) {
        assert_eq!(e["reason"], "its movement was refused at row 4", "{e}");
    }
}

/// Every CSV cell of `csv` a spreadsheet would run as a formula.
fn formula_cells(csv: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
        .filter(|cell| {
            cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
                && cell.parse::<rust_decimal::Decimal>().is_err()
        })
        .collect()
}

/// Regression (hardening, item 1): CSV exports carried what customers and
/// staff typed as it was, so a contact name such as `=HYPERLINK(…)` ran as a
/// formula in the shop's spreadsheet.
#[tokio::test]
async fn csv_exports_carry_no_spreadsheet_formulas_and_import_back_as_they_were() {
    let source = TestApp::spawn().await;
    source.stock_setup().await;
    let planted = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let quote = source
        .post(
            "/api/v1/quotes",
            Who::Anonymous,
            &json!({"contact": {"name": planted, "email": "x@example.com"},
                    "lines": [{"sku": "SAND-04", "quantity": "1"}]}),
        )
        .await;
    assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    let quotes = download(&source, "quotes", "csv").await;
    assert_eq!(formula_cells(&quotes), Vec::<String>::new(), "{quotes}");
    let mut reader = csv::Reader::from_reader(quotes.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        &row[4],
        format!("'{planted}"),
        "the contact name, neutralised"
    );

    // What staff type goes out neutralised and comes back as it was.
    let mut odd = sand("ODD-1");
    odd["name"] = json!("+Plus grade sand");
    odd["description"] = json!("@once a week");
    odd["notes"] = json!("'=kept as typed");
    odd["tags"] = json!(["-fine"]);
    assert_eq!(
        source.create_product(&odd).await.status,
        StatusCode::CREATED
    );
    source
        .book(
            &json!({"kind": "receive", "location": "YARD", "reference": "=DN-1",
                      "note": "-from the pit", "lines": [{"sku": "ODD-1", "quantity": "4"}]}),
        )
        .await;
    source
        .book(&json!({"kind": "adjust", "location": "YARD",
                      "lines": [{"sku": "ODD-1", "quantity": "-1.5", "reason": "-spilt"}]}))
        .await;
    let products = download(&source, "products", "csv").await;
    let movements = download(&source, "movements", "csv").await;
    for csv in [&products, &movements] {
        assert_eq!(formula_cells(csv), Vec::<String>::new(), "{csv}");
    }
    assert!(products.contains("'+Plus grade sand"), "{products}");
    assert!(products.contains("''=kept as typed"), "{products}");
    assert!(
        movements.contains(",-1.5,"),
        "numbers stay numbers: {movements}"
    );

    let target = TestApp::spawn().await;
    let imported = target
        .upload("/api/v1/imports/products", Who::Staff, &products)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let imported = target
        .upload("/api/v1/imports/movements", Who::Staff, &movements)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    let odd = target.get("/api/v1/products/ODD-1", Who::Staff).await;
    assert_eq!(odd.body["name"], "+Plus grade sand");
    assert_eq!(odd.body["description"], "@once a week");
    assert_eq!(odd.body["notes"], "'=kept as typed");
    assert_eq!(odd.body["tags"], json!(["-fine"]));
    assert_eq!(download(&target, "products", "csv").await, products);
    assert_eq!(
        without_actor(&download(&target, "movements", "csv").await),
        without_actor(&movements)
    );
    target.stop_and_check().await;
}

/// The `(row, column, reason)` of each error of an import's report.
fn row_errors(report: &Value) -> Vec<(u64, String, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_sku_twice_in_a_product_file_is_refused_at_its_second_row_naming_the_first() {
    // Issue "Hardening", item 11: the last row silently won.
    let app = TestApp::spawn().await;
    let file = "\
sku,name,category,unit,price
TWICE-1,First name,Tools,pc,1
OTHER-1,Other,Tools,pc,2
twice-1,Second name,Tools,pc,3
";
    let resp = app
        .upload("/api/v1/imports/products", Who::Staff, file)
        .await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text
    );
    let errors = row_errors(&resp.body["report"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (row, column, reason) = &errors[0];
    assert_eq!((*row, column.as_str()), (4, "sku"));
    assert!(
        reason.contains("SKU TWICE-1 appears again; it was first at row 2"),
        "{reason}"
    );

    // With skip_invalid the first row is the one written.
    let skipped = app
        .upload(
            "/api/v1/imports/products?skip_invalid=true",
            Who::Staff,
            file,
        )
        .await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.text);
    assert_eq!(skipped.body["created"], 2);
    let product = app.get("/api/v1/products/TWICE-1", Who::Staff).await;
    assert_eq!(product.body["name"], "First name");
}

#[tokio::test]
async fn a_count_of_one_sku_at_one_location_twice_in_a_stock_file_is_refused() {
    // Issue "Hardening", item 11: the later count silently replaced the first.
    let app = TestApp::spawn().await;
    app.stock_setup().await;
    let file = "\
sku,location,quantity
SAND-04,YARD,5
SAND-04,WH1,2
sand-04,yard,7
";
    let resp = app.upload("/api/v1/imports/stock", Who::Staff, file).await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text
    );
    let errors = row_errors(&resp.body["report"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (row, column, reason) = &errors[0];
    assert_eq!((*row, column.as_str()), (4, "sku"));
    assert!(
        reason.contains("the count of SKU SAND-04 at YARD appears again; it was first at row 2"),
        "{reason}"
    );
    // Nothing was booked.
    let (on_hand, _, _) = app.level("SAND-04", "YARD").await;
    assert_eq!(on_hand, "0");
}

#[tokio::test]
async fn a_shop_that_writes_decimal_commas_imports_and_exports_them_with_semicolons() {
    let app = TestApp::spawn_with(|c| c.shop.locale = "de-DE".into()).await;
    // As a German spreadsheet saves it: semicolons between cells, commas in
    // numbers, thousands grouped with dots.
    let file = "\
sku;name;category;unit;price;cost;packs;price_breaks
KIES-8;Kies 8/16;Zuschlag/Kies;t;42,50;1.234,5;Big Bag=0,85 t;\"10=40,00; 25=38,5\"
";
    let imported = app
        .upload("/api/v1/imports/products", Who::Staff, file)
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["created"], 1, "{}", imported.text);
    let product = app.get("/api/v1/products/KIES-8", Who::Staff).await;
    assert_eq!(product.body["price"], "42.50");
    assert_eq!(product.body["cost"], "1234.50");
    assert_eq!(product.body["packs"][0]["quantity"], "0.85");
    assert_eq!(product.body["price_breaks"][1]["price"], "38.50");

    // A lone dot is ambiguous here (1.5 or 1500?): refused with the way to
    // write it, naming row and column; nothing is written.
    let ambiguous = "sku;name;category;unit;price\nKIES-9;Kies;Zuschlag/Kies;t;1.500\n";
    let refused = app
        .upload("/api/v1/imports/products", Who::Staff, ambiguous)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let error = &refused.body["report"]["errors"][0];
    assert_eq!(error["row"], 2, "{}", refused.text);
    assert_eq!(error["column"], "price", "{}", refused.text);
    assert!(
        error["reason"].as_str().unwrap().contains("2,5"),
        "{}",
        refused.text
    );
    // The same file said to be written with dots is read as such.
    let dotted = app
        .upload(
            "/api/v1/imports/products?decimal=dot",
            Who::Staff,
            &ambiguous.replace(';', ","),
        )
        .await;
    assert_eq!(dotted.status, StatusCode::OK, "{}", dotted.text);
    let product = app.get("/api/v1/products/KIES-9", Who::Staff).await;
    assert_eq!(product.body["price"], "1.500");

    // The export writes as the shop does, and reads back unchanged.
    let csv = download(&app, "products", "csv").await;
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("sku;name;"), "{header}");
    let kies = csv.lines().find(|l| l.starts_with("KIES-8;")).unwrap();
    assert!(kies.contains(";42,50;"), "{kies}");
    assert!(kies.contains("10=40,00; 25=38,50"), "{kies}");
    let again = app
        .upload("/api/v1/imports/products", Who::Staff, &csv)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["unchanged"], 2, "{}", again.text);
    // Asked for, the dot form: commas between cells.
    let csv = app
        .get("/api/v1/exports/products?decimal=dot", Who::Staff)
        .await
        .text;
    assert!(csv.starts_with("sku,name,"), "{csv}");
    assert!(csv.contains(",42.50,"), "{csv}");
    let bad = app
        .get("/api/v1/exports/products?decimal=point", Who::Staff)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
}

/// The search hits' SKUs of `q` on a server started on `data`.
async fn found(data: &std::path::Path, q: &str) -> Vec<String> {
    let config = quarry::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_owned(),
        ..quarry::config::Config::default()
    };
    let server = quarry::http::start(config).await.unwrap();
    let hits: Value = crate::helpers::http_client()
        .build()
        .unwrap()
        .get(format!(
            "http://{}/api/v1/search?q={q}",
            server.local_addr()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.shutdown().await.unwrap();
    hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["sku"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_first_product_import_builds_the_search_index_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data = dir_arg(&data_dir);
    let file = dir.path().join("products.csv");
    std::fs::write(&file, PRODUCTS).unwrap();
    let file = dir_arg(&file);
    let current = data_dir.join("index").join("CURRENT");
    let generations = |data_dir: &std::path::Path| {
        std::fs::read_dir(data_dir.join("index")).map_or(0, |entries| {
            entries.flatten().filter(|e| e.path().is_dir()).count()
        })
    };
    let (data_dir, current) = tokio::task::spawn_blocking(move || {
        // Refused (all or nothing): no index is left behind.
        let refused = quarry(
            &["--data-dir", &data, "import", "products", &file],
            &[],
            None,
        );
        assert!(!refused.status.success());
        assert!(!stderr(&refused).contains("search index built"));
        assert!(!current.exists());
        assert_eq!(generations(&data_dir), 0, "the half-built index is removed");

        let imported = quarry(
            &[
                "--data-dir",
                &data,
                "import",
                "products",
                &file,
                "--skip-invalid",
            ],
            &[],
            None,
        );
        assert!(
            stdout(&imported).contains("2 created"),
            "{}",
            stdout(&imported)
        );
        assert!(
            stderr(&imported).contains("search index built with the import"),
            "{}",
            stderr(&imported)
        );
        assert!(current.exists());
        assert_eq!(generations(&data_dir), 1);
        (data_dir, current)
    })
    .await
    .unwrap();
    let built = std::fs::read_to_string(&current).unwrap();
    assert_eq!(found(&data_dir, "gravel").await, vec!["GOOD-1"]);
    assert_eq!(
        std::fs::read_to_string(&current).unwrap(),
        built,
        "the server used the index the import built"
    );

    // Into a catalogue that has products, the index follows the change log.
    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        "sku,name,category,unit,price\nGOOD-3,Pea gravel 6 mm,Aggregates/Gravel,t,29.00\n",
    )
    .unwrap();
    let more = dir_arg(&more);
    let data = dir_arg(&data_dir);
    let again = tokio::task::spawn_blocking(move || {
        quarry(
            &["--data-dir", &data, "import", "products", &more],
            &[],
            None,
        )
    })
    .await
    .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stderr(&again).contains("search index built"));
    let mut hits = found(&data_dir, "gravel").await;
    hits.sort();
    assert_eq!(hits, vec!["GOOD-1", "GOOD-3"]);
}
