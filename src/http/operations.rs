//! Operations over HTTP: backups (owner), CSV imports (staff; multipart
//! upload streamed to a file, then imported in one transaction) and exports
//! (streamed as they are written).

use std::io::Write;
use std::time::Duration;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorCode;
use super::error::{ApiError, ErrorBody};
use super::extract::Path;
use super::extract::{CatalogueStaff, Owner, Query, QuoteStaff, SignedIn, StockStaff, Viewer};
use crate::app::backups::BackupInfo;
use crate::app::cursor::Listing;
use crate::app::exports::{ExportKind, Format};
use crate::app::imports::{ImportKind, ImportOptions, ImportReport};
use crate::app::jobs::{Answer, Job, JobView, ProgressUnit};
use crate::app::{App, AppError, Principal};
use crate::domain::ledger::Reference;
use crate::domain::locale::DecimalMark;

/// Whether the request asks not to wait for long work (`Prefer:
/// respond-async`, RFC 7240).
fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| {
            p.split(';')
                .next()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case("respond-async"))
        })
}

/// The answer a job ends with, from what its work returned.
fn job_answer(result: Result<(StatusCode, serde_json::Value), ApiError>) -> Answer {
    match result {
        Ok((status, body)) => Answer {
            status: status.as_u16(),
            body,
        },
        Err(error) => Answer {
            status: error.status.as_u16(),
            body: error.body().to_value(),
        },
    }
}

/// With `Prefer: respond-async`: 202 and the job, to follow at its
/// `Location`. Otherwise waits for the job's answer: long work is exempt from
/// the request timeout, and goes on if the client leaves.
async fn respond(app: &App, job: &Job, headers: &HeaderMap) -> Response {
    if prefers_async(headers) {
        let location = format!("/api/v1/jobs/{}", job.id());
        let mut response = (StatusCode::ACCEPTED, axum::Json(job.view())).into_response();
        let headers = response.headers_mut();
        if let Ok(location) = HeaderValue::from_str(&location) {
            headers.insert(header::LOCATION, location);
        }
        headers.insert(
            "preference-applied",
            HeaderValue::from_static("respond-async"),
        );
        return response;
    }
    let answer = job.answer().await;
    app.forget_job(job.id());
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(answer.body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
    response
}

/// Takes a backup now into the server's backup directory: a consistent
/// snapshot of the store, made while writes go on. With `Prefer:
/// respond-async`, answers 202 at once with the job to follow.
#[utoipa::path(
    post, path = "/backups", tag = "operations",
    params(("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job at once")),
    responses(
        (status = 201, body = BackupInfo),
        (status = 202, body = JobView, description = "Started; follow the job at `Location`",
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 503, body = ErrorBody, description = "The server is stopping"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "Too many imports and backups are running"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn create_backup(
    State(app): State<App>,
    Owner(owner): Owner,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let slot = app.job_slot()?;
    let backups = app.clone();
    let actor = owner.actor.clone();
    let job = app.start_job(
        slot,
        &owner,
        "backup",
        ProgressUnit::Entries,
        move |progress| async move {
            let made = backups.create_backup(&actor, progress).await;
            job_answer(
                made.map(|info| {
                    let body = serde_json::to_value(info).expect("backups serialize");
                    (StatusCode::CREATED, body)
                })
                .map_err(ApiError::from),
            )
        },
    )?;
    Ok(respond(&app, &job, &headers).await)
}

/// A job started by `Prefer: respond-async` (an import or a backup): how far
/// it has got, then the answer it ended with. Visible to whoever started it
/// and to owners, for an hour after it ends.
#[utoipa::path(
    get, path = "/jobs/{id}", tag = "operations",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, body = JobView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn get_job(
    State(app): State<App>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<axum::Json<JobView>, ApiError> {
    Ok(axum::Json(app.job(&caller, &id)?.view()))
}

/// Every bad row a finished import job found, as CSV (`row,column,reason`),
/// for whoever may see the job; its report lists only the first 1,000.
#[utoipa::path(
    get, path = "/jobs/{id}/bad-rows", tag = "operations",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The bad rows", content_type = "text/csv"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such job, or it kept no bad rows"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn get_job_bad_rows(
    State(app): State<App>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = app.job(&caller, &id)?;
    let Some(path) = job.bad_rows() else {
        return Err(ApiError::not_found(format!(
            "job {id} kept no bad rows: it found none, or has not finished"
        )));
    };
    // The id passed `app.job`: it names a job, so it is plain hex.
    attachment(
        &path,
        "text/csv; charset=utf-8",
        &format!("bad-rows-{id}.csv"),
    )
    .await
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
    // The name passed `backup_path`'s check: plain ASCII, no quotes.
    attachment(&path, "application/octet-stream", &name).await
}

/// Streams the file at `path` as a download named `name` (plain ASCII, no
/// quotes: the callers check).
async fn attachment(
    path: &std::path::Path,
    content_type: &'static str,
    name: &str,
) -> Result<Response, ApiError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::from(AppError::Internal(format!("{}: {e}", path.display()))))?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// How to import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check every row and report; write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Write the good rows even when some are bad.
    #[serde(default)]
    pub skip_invalid: bool,
    /// The reference stock counts are booked with (default `import`).
    pub reference: Option<Reference>,
    /// How the file writes decimals: `dot` (`2.5`) or `comma` (`2,5`);
    /// default: as the shop's locale does. Cells may be separated by `,` or
    /// `;` (whichever the header row uses).
    pub decimal: Option<DecimalMark>,
}

/// The form of an import: the CSV file in a part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the multipart body
pub struct ImportUpload {
    /// The CSV file, UTF-8 (a byte order mark is read past).
    #[schema(value_type = String, content_media_type = "text/csv")]
    file: Vec<u8>,
}

/// Streams the `file` part of the upload into a temporary file.
async fn receive(
    app: &App,
    mut form: Multipart,
    declared: Option<u64>,
) -> Result<tempfile::TempPath, ApiError> {
    let limit = app.config().limits.import_bytes;
    let bad = |message: String| {
        ApiError::from(AppError::BadRequest {
            field: Some("file".into()),
            message,
        })
    };
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| bad(format!("the upload is not a readable multipart form: {e}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut staging = app.stage_upload(declared).await?;
        let mut size = 0u64;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| bad(format!("the upload broke off: {e}")))?
        {
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            staging.write(&chunk).await?;
        }
        return Ok(staging.finish().await?);
    }
    Err(bad("the form has no part named `file`".into()))
}

/// The 413 of an upload over `limits.import_bytes`.
pub(super) fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the file is larger than {limit} bytes (limits.import_bytes)"),
    )
    .with_field("file")
}

async fn import(
    app: &App,
    caller: &Principal,
    kind: ImportKind,
    form: Result<Multipart, MultipartRejection>,
    q: ImportQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    // Not a multipart form (or a broken one): answered in the API's error shape.
    let form = form.map_err(|rejection| {
        let code = match rejection.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            _ => ErrorCode::BadRequest,
        };
        ApiError::new(code, rejection.body_text()).with_field("file")
    })?;
    // A place among the running jobs is taken before the upload, so a file
    // is never received only to be refused, and uploads are bounded too.
    let slot = app.job_slot()?;
    let upload = Duration::from_secs(app.config().limits.upload_timeout_secs);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let file = tokio::time::timeout(upload, receive(app, form, declared))
        .await
        .map_err(|_| {
            ApiError::new(ErrorCode::RequestTimeout, format!(
                    "the upload took longer than {} s (limits.upload_timeout_secs); nothing was imported",
                    upload.as_secs()
                ),
            )
            .with_field("file")
        })??;
    let options = ImportOptions {
        dry_run: q.dry_run,
        skip_invalid: q.skip_invalid,
        reference: q.reference,
        decimal: q.decimal,
    };
    let importer = app.clone();
    let actor = caller.actor.clone();
    let name = format!("import.{}", kind.as_str());
    let job = app.start_job(
        slot,
        caller,
        &name,
        ProgressUnit::Bytes,
        move |progress| async move {
            let report = importer
                .import_file(actor, kind, file.to_path_buf(), options, progress)
                .await;
            // The upload's temporary file goes once the import has read it.
            drop(file);
            job_answer(report.map_err(ApiError::from).and_then(import_answer))
        },
    )?;
    Ok(respond(app, &job, headers).await)
}

/// 200 with the report, or 422 naming the first bad row when bad rows meant
/// nothing was written (the report comes along).
fn import_answer(report: ImportReport) -> Result<(StatusCode, serde_json::Value), ApiError> {
    if report.rejected > 0 && !report.written && !report.dry_run {
        let first = report.errors.first();
        let message = first.map_or_else(
            || "the file has bad rows; nothing was written".to_owned(),
            |e| {
                format!(
                    "{} bad rows, the first at row {}{}: {}; nothing was written",
                    report.rejected,
                    e.row,
                    e.column
                        .as_deref()
                        .map(|c| format!(", column {c}"))
                        .unwrap_or_default(),
                    e.reason
                )
            },
        );
        let report = serde_json::to_value(report).expect("reports serialize");
        return Err(ApiError::new(ErrorCode::InvalidRows, message)
            .with_field("file")
            .with_report(report));
    }
    Ok((
        StatusCode::OK,
        serde_json::to_value(report).expect("reports serialize"),
    ))
}

/// Imports products from CSV (multipart part `file`): created, or replaced
/// by SKU. All or nothing unless `skip_invalid`.
#[utoipa::path(
    post, path = "/imports/products", tag = "operations",
    params(ImportQuery, ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job once the file is uploaded")),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "sku,name,category,unit,price\nSAND-04,Washed sand 0-4 mm,Aggregates/Sand,t,38.50\n"})),
    responses(
        (status = 200, body = ImportReport, description = "Imported, or checked (dry run)"),
        (status = 202, body = JobView, description = "With `Prefer: respond-async`: started; follow the job at `Location`",
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 503, body = ErrorBody, description = "The server is stopping"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Bad rows; nothing written. The body has `error` and `report`."),
        (status = 429, body = ErrorBody, description = "Too many imports and backups are running"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn import_products(
    State(app): State<App>,
    CatalogueStaff(caller): CatalogueStaff,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    import(&app, &caller, ImportKind::Products, form, q, &headers).await
}

/// Imports counted stock levels from CSV (`sku`, `location`, `quantity`):
/// booked as `adjust` movements with a reference.
#[utoipa::path(
    post, path = "/imports/stock", tag = "operations",
    params(ImportQuery, ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job once the file is uploaded")),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "sku,location,quantity\nSAND-04,YARD,120\n"})),
    responses(
        (status = 200, body = ImportReport, description = "Imported, or checked (dry run)"),
        (status = 202, body = JobView, description = "With `Prefer: respond-async`: started; follow the job at `Location`",
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 503, body = ErrorBody, description = "The server is stopping"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Bad rows; nothing written. The body has `error` and `report`."),
        (status = 429, body = ErrorBody, description = "Too many imports and backups are running"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn import_stock(
    State(app): State<App>,
    StockStaff(caller): StockStaff,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    import(&app, &caller, ImportKind::Stock, form, q, &headers).await
}

/// Imports movements from CSV, one row per line; consecutive rows with the
/// same `movement` cell are one movement.
#[utoipa::path(
    post, path = "/imports/movements", tag = "operations",
    params(ImportQuery, ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job once the file is uploaded")),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "kind,location,sku,quantity\nreceive,YARD,SAND-04,20\n"})),
    responses(
        (status = 200, body = ImportReport, description = "Imported, or checked (dry run)"),
        (status = 202, body = JobView, description = "With `Prefer: respond-async`: started; follow the job at `Location`",
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 503, body = ErrorBody, description = "The server is stopping"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Bad rows; nothing written. The body has `error` and `report`."),
        (status = 429, body = ErrorBody, description = "Too many imports and backups are running"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn import_movements(
    State(app): State<App>,
    StockStaff(caller): StockStaff,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    import(&app, &caller, ImportKind::Movements, form, q, &headers).await
}

/// Imports trade customers from CSV, as `export customers` writes them
/// (`code`, `name`, `tax_number`, `billing_address`, `delivery_addresses`
/// separated by a blank line, `payment_terms`, `notes`, `price_list`,
/// `active`): created, or their details replaced, by code.
#[utoipa::path(
    post, path = "/imports/customers", tag = "operations",
    params(ImportQuery, ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job once the file is uploaded")),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "code,name,payment_terms,price_list\nNORTHBUILD,Northbuild Ltd,30 days net,TRADE-A\n"})),
    responses(
        (status = 200, body = ImportReport, description = "Imported, or checked (dry run)"),
        (status = 202, body = JobView, description = "With `Prefer: respond-async`: started; follow the job at `Location`",
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 503, body = ErrorBody, description = "The server is stopping"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Bad rows; nothing written. The body has `error` and `report`."),
        (status = 429, body = ErrorBody, description = "Too many imports and backups are running"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn import_customers(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    import(&app, &caller, ImportKind::Customers, form, q, &headers).await
}

/// Imports price lists from CSV, as `export price-lists` writes them: a rule
/// per row (`sku` or `category` or neither, `price` or `percent_off`,
/// `min_quantity`, `valid_from`, `valid_until`) with its list's `code` and
/// `name`; a list's rows together replace it (a row with the rule's cells
/// empty: a list without rules).
#[utoipa::path(
    post, path = "/imports/price-lists", tag = "operations",
    params(ImportQuery, ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 with the job once the file is uploaded")),
    request_body(content = ImportUpload, content_type = "multipart/form-data",
        example = json!({"file": "code,name,category,percent_off\nTRADE-C,Trade list C,Aggregates,8\n"})),
    responses(
        (status = 200, body = ImportReport, description = "Imported, or checked (dry run)"),
        (status = 202, body = JobView, description = "With `Prefer: respond-async`: started; follow the job at `Location`",
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 503, body = ErrorBody, description = "The server is stopping"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 408, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Bad rows; nothing written. The body has `error` and `report`."),
        (status = 429, body = ErrorBody, description = "Too many imports and backups are running"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn import_price_lists(
    State(app): State<App>,
    QuoteStaff(caller): QuoteStaff,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    import(&app, &caller, ImportKind::PriceLists, form, q, &headers).await
}

/// The format of an export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `json`.
    pub format: Option<String>,
    /// How a CSV file writes decimals: `dot` (`2.5`, cells separated by
    /// commas) or `comma` (`2,5`, cells separated by semicolons); default:
    /// as the shop's locale does.
    pub decimal: Option<DecimalMark>,
}

/// A `Write` that hands 64 KiB chunks to a response body.
struct ChannelWriter {
    buffer: Vec<u8>,
    chunks: tokio::sync::mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = axum::body::Bytes::from(std::mem::take(&mut self.buffer));
        // Runs on a blocking thread; fails once the client has gone.
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

/// Downloads products, stock levels, movements, quotes, customers or price
/// lists as CSV or JSON, from
/// one consistent snapshot, streamed as it is written.
#[utoipa::path(
    get, path = "/exports/{kind}", tag = "operations",
    params(
        ("kind" = String, Path, description = "products, stock, movements, quotes, customers or price-lists"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "The file", content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "The caller is streaming its most exports at once"),
        (status = 503, body = ErrorBody, description = "The server is streaming its most exports at once"),
    ),
    security(("session" = []), ("bearer" = [])),
)]
pub async fn export(
    State(app): State<App>,
    Viewer(viewer): Viewer,
    Path(kind): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let kind: ExportKind = kind.parse().map_err(|e: String| ApiError::not_found(e))?;
    let format: Format = q
        .format
        .as_deref()
        .unwrap_or("csv")
        .parse()
        .map_err(|e: String| {
            ApiError::from(AppError::BadRequest {
                field: Some("format".into()),
                message: e,
            })
        })?;
    let slot = app.export_slot(&viewer)?;
    let (chunks, mut received) = tokio::sync::mpsc::channel(16);
    let writer = ChannelWriter {
        buffer: Vec::with_capacity(64 * 1024),
        chunks: chunks.clone(),
    };
    let exporter = app.clone();
    tokio::spawn(async move {
        // The place is held until the export has been written or its client left.
        let _slot = slot;
        if let Err(error) = exporter.export_to(kind, format, q.decimal, writer).await {
            tracing::warn!(%error, "an export stopped before its end");
            let _ = chunks
                .send(Err(std::io::Error::other(error.to_string())))
                .await;
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| received.poll_recv(cx));
    let mut response = axum::body::Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let name = format!(
        "quarry-{}-{}.{}",
        kind.as_str(),
        jiff::Timestamp::now().strftime("%Y%m%d"),
        match format {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}
