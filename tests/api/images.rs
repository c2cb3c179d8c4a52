//! Product photos over HTTP: uploads judged by content, scaled and stripped
//! of their metadata, listed on the product and in search, served at
//! immutable URLs, ordered, described and removed.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, Who, png, sand};

/// A JPEG whose APP1 (EXIF) segment carries a marker a stripped copy must not.
fn jpeg_with_exif(marker: &str) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(64, 48, |x, y| {
        #[allow(clippy::cast_possible_truncation)]
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 80])
    });
    let mut plain = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut plain, image::ImageFormat::Jpeg)
        .unwrap();
    let plain = plain.into_inner();
    // "Exif\0\0", a little-endian TIFF header with no entries, then the marker.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(marker.as_bytes());
    let length = u16::try_from(exif.len() + 2).unwrap();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_photo_is_scaled_listed_searched_and_served_for_a_year() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let before = app.get("/api/v1/products/SAND-04", Who::Anonymous).await;
    assert_eq!(before.body["images"], json!([]));
    let version = before.body["version"].as_u64().unwrap();

    // A PNG named .jpg is judged by its content, and scaled to fit 1200 px.
    let added = app
        .upload_file(
            "/api/v1/products/SAND-04/images",
            Who::Staff,
            ("heap.jpg", "image/jpeg", png(1, 2400, 1800)),
            Some("A heap of washed sand"),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let id = added.body["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert_eq!(added.body["url"], format!("/media/{id}.jpg"));
    assert_eq!(added.body["thumb_url"], format!("/media/{id}-thumb.jpg"));
    assert_eq!(added.body["alt"], "A heap of washed sand");
    assert_eq!(
        (added.body["width"].as_u64(), added.body["height"].as_u64()),
        (Some(1200), Some(900))
    );

    // The product lists it (to anyone) and is a version on.
    let product = app.get("/api/v1/products/SAND-04", Who::Anonymous).await;
    assert_eq!(product.body["images"][0], added.body);
    assert_eq!(product.body["version"].as_u64().unwrap(), version + 1);
    assert_eq!(
        app.get("/api/v1/products/SAND-04/images", Who::Anonymous)
            .await
            .body,
        json!([added.body])
    );

    // Served as JPEG, cached for a year, with an ETag that answers 304.
    let display = fetch(&app, &format!("/media/{id}.jpg"), &[]).await;
    assert_eq!(display.status(), StatusCode::OK);
    assert_eq!(display.headers()["content-type"], "image/jpeg");
    assert_eq!(
        display.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = display.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = display.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1200, 900));
    let thumb = fetch(&app, &format!("/media/{id}-thumb.jpg"), &[]).await;
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
    let again = fetch(
        &app,
        &format!("/media/{id}.jpg"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    for missing in [
        "/media/0123456789abcdef.jpg",
        "/media/../x.jpg",
        "/media/abc.png",
    ] {
        assert_eq!(
            fetch(&app, missing, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }

    // Search results carry the main photo's thumbnail.
    let found = app
        .get("/api/v1/search?q=washed+sand", Who::Anonymous)
        .await;
    assert_eq!(
        found.body["hits"][0]["image"],
        json!({"thumb_url": format!("/media/{id}-thumb.jpg"), "alt": "A heap of washed sand"})
    );

    // The same photo again adds nothing.
    let same = app
        .upload_file(
            "/api/v1/products/SAND-04/images",
            Who::Staff,
            ("heap.png", "image/png", png(1, 2400, 1800)),
            None,
        )
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.body["id"], id.as_str());
    app.stop_and_check().await;
}

#[tokio::test]
async fn metadata_is_stripped_and_the_alt_defaults_to_the_name() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let marker = "GPS 51.5072N 0.1276W serial QX-PRIVATE";
    let upload = jpeg_with_exif(marker);
    assert!(upload.windows(marker.len()).any(|w| w == marker.as_bytes()));
    let added = app
        .upload_file(
            "/api/v1/products/SAND-04/images",
            Who::Staff,
            ("IMG_0001.JPG", "image/jpeg", upload),
            None,
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["alt"], "Washed sand 0-4 mm");
    for url in [&added.body["url"], &added.body["thumb_url"]] {
        let bytes = fetch(&app, url.as_str().unwrap(), &[])
            .await
            .bytes()
            .await
            .unwrap();
        assert!(
            !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "{url}: the marker survived"
        );
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "{url}: an EXIF segment survived"
        );
    }
}

#[tokio::test]
async fn what_is_not_a_photo_is_refused_with_a_reason_and_nothing_changes() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let upload = |name: &'static str, mime: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            app.upload_file(
                "/api/v1/products/SAND-04/images",
                Who::Staff,
                (name, mime, bytes),
                None,
            )
            .await
        }
    };
    // By content, not by name or declared type.
    let gif = upload(
        "photo.jpg",
        "image/jpeg",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
    )
    .await;
    assert_eq!(gif.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", gif.text);
    assert_eq!(
        gif.error(),
        ("unsupported_image".into(), Some("file".into()))
    );
    let csv = upload("photo.png", "image/png", b"sku,name\nA,B\n".to_vec()).await;
    assert_eq!(csv.error().0, "unsupported_image");
    // A PNG cut short cannot be read.
    let mut broken = png(3, 200, 200);
    broken.truncate(broken.len() / 2);
    let broken = upload("cut.png", "image/png", broken).await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.text
    );
    assert_eq!(broken.error().1.as_deref(), Some("file"));
    // Over 10 MiB: refused as it arrives.
    let huge = upload("huge.png", "image/png", vec![0u8; 10 * 1024 * 1024 + 1]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.text);
    // No file, a long alt text, an unknown product.
    let bare = app
        .client
        .post(format!("{}/api/v1/products/SAND-04/images", app.base));
    let bare = crate::helpers::respond(
        app.authorize(bare, Who::Staff)
            .await
            .multipart(reqwest::multipart::Form::new().text("alt", "x")),
    )
    .await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);
    let long = app
        .upload_file(
            "/api/v1/products/SAND-04/images",
            Who::Staff,
            ("a.png", "image/png", png(4, 10, 10)),
            Some(&"x".repeat(201)),
        )
        .await;
    assert_eq!(long.error().1.as_deref(), Some("alt"));
    let nowhere = app
        .upload_file(
            "/api/v1/products/NOPE-1/images",
            Who::Staff,
            ("a.png", "image/png", png(4, 10, 10)),
            None,
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    // Nothing was kept.
    let product = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(product.body["images"], json!([]));
    assert_eq!(product.body["version"], 1);
}

#[tokio::test]
async fn photos_are_ordered_described_removed_and_at_most_twelve() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    let mut ids = Vec::new();
    for seed in 0..12 {
        let added = app
            .upload_file(
                "/api/v1/products/SAND-04/images",
                Who::Staff,
                ("p.png", "image/png", png(seed, 30, 20)),
                None,
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        ids.push(added.body["id"].as_str().unwrap().to_owned());
    }
    let thirteenth = app
        .upload_file(
            "/api/v1/products/SAND-04/images",
            Who::Staff,
            ("p.png", "image/png", png(99, 30, 20)),
            None,
        )
        .await;
    assert_eq!(thirteenth.status, StatusCode::CONFLICT);
    assert_eq!(thirteenth.error().0, "too_many_images");

    // The last becomes the main photo, with a new description.
    let moved = app
        .patch(
            &format!("/api/v1/products/SAND-04/images/{}", ids[11]),
            Who::Staff,
            &json!({"position": 0, "alt": "Sand, close up"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body[0]["id"], ids[11].as_str());
    assert_eq!(moved.body[0]["alt"], "Sand, close up");
    assert_eq!(moved.body[1]["id"], ids[0].as_str());
    let bad = app
        .patch(
            &format!("/api/v1/products/SAND-04/images/{}", ids[0]),
            Who::Staff,
            &json!({"colour": "red"}),
        )
        .await;
    assert_eq!(bad.status.as_u16() / 100, 4);
    // A place past the last photo a product can have is refused, not clamped.
    let far = app
        .patch(
            &format!("/api/v1/products/SAND-04/images/{}", ids[0]),
            Who::Staff,
            &json!({"position": 12}),
        )
        .await;
    assert_eq!(far.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", far.text);
    assert_eq!(far.error().1.as_deref(), Some("position"));

    // Removing one removes its files too.
    let gone = app
        .delete(
            &format!("/api/v1/products/SAND-04/images/{}", ids[3]),
            Who::Staff,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        fetch(&app, &format!("/media/{}.jpg", ids[3]), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let again = app
        .delete(
            &format!("/api/v1/products/SAND-04/images/{}", ids[3]),
            Who::Staff,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let product = app.get("/api/v1/products/SAND-04", Who::Staff).await;
    assert_eq!(product.body["images"].as_array().unwrap().len(), 11);
    // Photos stay through a full replacement of the product's fields.
    let replaced = app
        .put("/api/v1/products/SAND-04", Who::Staff, &sand("SAND-04"))
        .await;
    assert_eq!(
        replaced.body["images"].as_array().unwrap().len(),
        11,
        "{}",
        replaced.text
    );
    app.stop_and_check().await;
}

#[tokio::test]
async fn a_quote_shows_the_photo_of_each_line_that_has_one() {
    let app = TestApp::spawn().await;
    app.create_product(&sand("SAND-04")).await;
    app.create_product(&sand("SAND-08")).await;
    let added = app
        .upload_file(
            "/api/v1/products/SAND-04/images",
            Who::Staff,
            ("heap.png", "image/png", png(3, 640, 480)),
            Some("A heap of washed sand"),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let thumb = added.body["thumb_url"].as_str().unwrap().to_owned();
    let body = json!({
        "lines": [{"sku": "SAND-04", "quantity": "2"}, {"sku": "SAND-08", "quantity": "1"}],
        "contact": {"name": "Sam Builder", "email": "sam@example.com"},
    });
    let made = app.post("/api/v1/quotes", Who::Anonymous, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let number = made.body["number"].as_str().unwrap().to_owned();
    let link = made.body["link"].as_str().unwrap().to_owned();
    let secret = link.rsplit('/').next().unwrap().to_owned();
    let expected = json!({"SAND-04": {"thumb_url": thumb, "alt": "A heap of washed sand"}});

    // Staff's view and the customer's both carry it; a line without one has none.
    let staff = app
        .get(&format!("/api/v1/quotes/{number}"), Who::Staff)
        .await;
    assert_eq!(staff.body["photos"], expected, "{}", staff.text);
    let customer = app
        .get(&format!("/api/v1/quotes/link/{secret}"), Who::Anonymous)
        .await;
    assert_eq!(customer.body["photos"], expected, "{}", customer.text);
    // Lists stay lean.
    let listed = app.get("/api/v1/quotes", Who::Staff).await;
    assert!(
        listed.body["items"][0].get("photos").is_none(),
        "{}",
        listed.text
    );

    // The customer's page shows it beside its line, and the picture loads.
    let page = fetch(&app, &format!("/q/{secret}"), &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("<img class=\"thumb\"").count(), 1, "{html}");
    assert!(
        html.contains(&format!(
            "<img class=\"thumb\" src=\"{thumb}\" alt=\"A heap of washed sand\""
        )),
        "{html}"
    );
    let picture = fetch(&app, &thumb, &[]).await;
    assert_eq!(picture.status(), StatusCode::OK);
    assert!(
        image::load_from_memory(&picture.bytes().await.unwrap()).is_ok(),
        "the thumbnail is a picture"
    );
}
