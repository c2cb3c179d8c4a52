//! The owner's operations over HTTP: backups (make, list, download).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ErrorBody};
use super::extract::Owner;
use crate::app::App;
use crate::app::backups::BackupInfo;
use crate::app::catalogue::Listing;

/// Takes a backup now into the server's backup directory: a consistent
/// snapshot of the store, made while writes go on.
#[utoipa::path(
    post, path = "/backups", tag = "operations",
    responses(
        (status = 201, body = BackupInfo),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn create_backup(
    State(app): State<App>,
    Owner(owner): Owner,
) -> Result<(StatusCode, axum::Json<BackupInfo>), ApiError> {
    let info = app.create_backup(&owner.actor).await?;
    Ok((StatusCode::CREATED, axum::Json(info)))
}

/// The backups in the server's backup directory, newest first.
#[utoipa::path(
    get, path = "/backups", tag = "operations",
    responses(
        (status = 200, body = Listing<BackupInfo>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn list_backups(
    State(app): State<App>,
    _owner: Owner,
) -> Result<axum::Json<Listing<BackupInfo>>, ApiError> {
    Ok(axum::Json(Listing {
        items: app.list_backups().await?,
        next_cursor: None,
    }))
}

/// Downloads a backup file (restore it with `quarry restore FILE`).
#[utoipa::path(
    get, path = "/backups/{name}", tag = "operations",
    params(("name" = String, Path, description = "The backup's file name")),
    responses(
        (status = 200, description = "The backup file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn download_backup(
    State(app): State<App>,
    _owner: Owner,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let path = app.backup_path(&name)?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        ApiError::from(crate::app::AppError::Internal(format!(
            "{}: {e}",
            path.display()
        )))
    })?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    // The name passed `backup_path`'s check: plain ASCII, no quotes.
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}
