//! Product photos: `/products/{sku}/images` (uploads by catalogue staff) and
//! the files at `/media/{id}.jpg` and `/media/{id}-thumb.jpg`, which never
//! change (their names come from their content), so browsers keep them.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::extract::{Caller, CatalogueStaff, Json, Path};
use crate::app::images::ImageChange;
use crate::app::{App, AppError};
use crate::domain::images::{self, ImageError, ProductImage};
use crate::domain::values::Sku;

/// The largest photo taken, in bytes.
pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;

/// The form of an upload: the photo in a part named `file`, and optionally
/// what it shows in a part named `alt`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the multipart body
pub struct ImageUpload {
    /// A JPEG, PNG or WebP photo, at most 10 MiB.
    #[schema(value_type = String, content_media_type = "image/jpeg")]
    file: Vec<u8>,
    /// What the photo shows, for people who cannot see it (default: the
    /// product's name); at most 200 characters.
    #[schema(max_length = 200)]
    alt: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::from(AppError::BadRequest {
        field: Some(field.into()),
        message: message.into(),
    })
}

/// Reads the form: the file's bytes (bounded) and the alt text.
async fn receive(mut form: Multipart) -> Result<(Vec<u8>, Option<String>), ApiError> {
    let mut file = None;
    let mut alt = None;
    while let Some(mut field) = form.next_field().await.map_err(|e| {
        bad(
            "file",
            format!("the upload is not a readable multipart form: {e}"),
        )
    })? {
        match field.name() {
            Some("file") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| bad("file", format!("the upload broke off: {e}")))?
                {
                    if bytes.len() + chunk.len() > MAX_UPLOAD {
                        return Err(ApiError::new(
                            ErrorCode::PayloadTooLarge,
                            format!("the photo is larger than {MAX_UPLOAD} bytes"),
                        )
                        .with_field("file"));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            Some("alt") => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| bad("alt", format!("the alt text cannot be read: {e}")))?;
                alt = Some(images::alt_text(&text).map_err(AppError::field("alt"))?);
            }
            _ => {}
        }
    }
    let file = file.ok_or_else(|| bad("file", "the form has no part named `file`"))?;
    Ok((file, alt.filter(|a| !a.is_empty())))
}

/// Add a photo to a product: JPEG, PNG or WebP (judged by its content), at
/// most 10 MiB and 12,000 pixels a side. It is turned upright, scaled to at
/// most 1200 pixels (and a 320-pixel thumbnail) and kept as JPEG without its
/// metadata. A product has at most 12 photos; the first is its main one.
#[utoipa::path(
    post, path = "/products/{sku}/images", tag = "catalogue",
    params(("sku" = Sku, Path, description = "The product's SKU")),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = ProductImage),
        (status = 200, description = "The same photo was there already", body = ProductImage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`too_many_images`", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, description = "Not a multipart form", body = ErrorBody),
        (status = 422, description = "`unsupported_image` (not a JPEG, PNG or WebP), an image that cannot be read, or a bad alt text", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn add_image(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path(sku): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let form = form.map_err(|rejection| {
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            _ => ErrorCode::BadRequest,
        };
        ApiError::new(code, rejection.body_text()).with_field("file")
    })?;
    let (file, alt) = receive(form).await?;
    // Decoding and scaling take a while: off the async threads.
    let prepared = tokio::task::spawn_blocking(move || images::prepare(&file))
        .await
        .map_err(|e| ApiError::from(AppError::Internal(e.to_string())))?
        .map_err(|error| match error {
            ImageError::NotAnImage => {
                ApiError::new(ErrorCode::UnsupportedImage, error.to_string()).with_field("file")
            }
            ImageError::Unreadable(_) => ApiError::from(AppError::invalid("file", &error)),
        })?;
    let (image, created) = app.add_image(&caller, &sku, prepared, alt).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(image)).into_response())
}

/// A product's photos, main one first.
#[utoipa::path(
    get, path = "/products/{sku}/images", tag = "catalogue",
    params(("sku" = Sku, Path, description = "The product's SKU")),
    responses(
        (status = 200, body = Vec<ProductImage>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_images(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(sku): Path<String>,
) -> Result<axum::Json<Vec<ProductImage>>, ApiError> {
    let product = app.get_product(caller.as_ref(), &sku).await?;
    Ok(axum::Json(product.into_images()))
}

/// What `PATCH /products/{sku}/images/{id}` changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    /// What the photo shows (at most 200 characters).
    #[schema(max_length = 200)]
    alt: Option<String>,
    /// Its new place among the product's photos, from 0 (the main photo).
    #[schema(maximum = 11)]
    position: Option<usize>,
}

/// Describe a photo again, or move it (position 0 makes it the main photo).
#[utoipa::path(
    patch, path = "/products/{sku}/images/{id}", tag = "catalogue",
    params(
        ("sku" = Sku, Path, description = "The product's SKU"),
        ("id" = String, Path, description = "The photo's id"),
    ),
    request_body = ImagePatch,
    responses(
        (status = 200, description = "The product's photos, in their new order", body = Vec<ProductImage>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn change_image(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path((sku, id)): Path<(String, String)>,
    Json(patch): Json<ImagePatch>,
) -> Result<axum::Json<Vec<ProductImage>>, ApiError> {
    let alt = patch
        .alt
        .as_deref()
        .map(images::alt_text)
        .transpose()
        .map_err(AppError::field("alt"))?;
    let position = patch
        .position
        .map(images::position)
        .transpose()
        .map_err(AppError::field("position"))?;
    let change = ImageChange { alt, position };
    Ok(axum::Json(
        app.change_image(&caller, &sku, &id, change).await?,
    ))
}

/// Remove a photo.
#[utoipa::path(
    delete, path = "/products/{sku}/images/{id}", tag = "catalogue",
    params(
        ("sku" = Sku, Path, description = "The product's SKU"),
        ("id" = String, Path, description = "The photo's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn delete_image(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Path((sku, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.delete_image(&caller, &sku, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A photo's file: `{id}.jpg` (display size) or `{id}-thumb.jpg`. Its name
/// comes from its content, so it is cached for a year.
#[utoipa::path(
    get, path = "/media/{file}", tag = "ui",
    params(("file" = String, Path, description = "`{id}.jpg` or `{id}-thumb.jpg`")),
    responses(
        (status = 200, description = "The JPEG file", content_type = "image/jpeg"),
        (status = 304), (status = 404, body = ErrorBody),
    ),
)]
pub async fn media_file(
    State(app): State<App>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("no file {file}"));
    let key = file.strip_suffix(".jpg").ok_or_else(missing)?;
    let (id, _) = key.split_once('-').unwrap_or((key, ""));
    if id.len() != 16
        || !id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        || !(key == id || key == format!("{id}-thumb"))
    {
        return Err(missing());
    }
    let tag = format!("\"{key}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let bytes = app.image_file(key).await?.ok_or_else(missing)?;
    let mut response = bytes.into_response();
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, tag);
    }
    Ok(response)
}
