//! The one place errors become HTTP responses:
//! `{"error": {"code", "message", "field"}}` with a fitting status. Server-side
//! failures are logged with their cause and answered with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::store::StoreError;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds to wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `not_found`, `duplicate_sku`…
    pub code: &'static str,
    /// What went wrong and what to do about it, for people.
    pub message: String,
    /// The input that caused it (`price`, `lines[2].quantity`), when there is one.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn too_many(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self {
            retry_after: Some(
                (retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1),
            ),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }

    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; it has been logged",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, reason } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                format!("{field}: {reason}"),
            )
            .with_field(field),
            AppError::BadRequest { field, message } => Self {
                status: StatusCode::BAD_REQUEST,
                code: "bad_request",
                message,
                field,
                retry_after: None,
            },
            error @ AppError::NotFound { .. } => Self::not_found(error.to_string()),
            AppError::Conflict {
                code,
                field,
                message,
            } => Self {
                status: StatusCode::CONFLICT,
                code,
                message,
                field,
                retry_after: None,
            },
            error @ AppError::VersionMismatch { .. } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
                format!("{error}; read it again and retry with the new ETag"),
            )
            .with_field("If-Match"),
            AppError::Unauthenticated(message) => Self::unauthenticated(message),
            AppError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            AppError::TooManyRequests {
                message,
                retry_after,
            } => Self::too_many(message, retry_after),
            AppError::Busy {
                message,
                retry_after,
            } => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "busy",
                ..Self::too_many(message, retry_after)
            },
            AppError::Store(error) => Self::from(error),
            AppError::Internal(message) => {
                tracing::error!(%message, "internal error");
                Self::internal()
            }
        }
    }
}

fn unavailable_code(disk_full: bool) -> &'static str {
    if disk_full {
        "disk_full"
    } else {
        "storage_unavailable"
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::GroupAborted | StoreError::WriterStopped => {
                tracing::warn!(%error, "write not applied");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the write was not applied; retry in a moment",
                )
            }
            StoreError::Unavailable { disk_full, .. } => {
                tracing::error!(%error, "store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    unavailable_code(disk_full),
                    format!("{error}; this request changed nothing, retry it later"),
                )
            }
            StoreError::CommitFailed(inner) if matches!(*inner, StoreError::Unavailable { .. }) => {
                tracing::error!(error = %inner, "commit failed");
                let disk_full = matches!(
                    *inner,
                    StoreError::Unavailable {
                        disk_full: true,
                        ..
                    }
                );
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    unavailable_code(disk_full),
                    format!(
                        "{inner}, while saving: the write is not confirmed as saved; retry it \
                         later with the same Idempotency-Key, which books it at most once"
                    ),
                )
            }
            StoreError::CommitFailed(_) => {
                tracing::error!(error = %error, "commit failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the store could not commit the write, so nothing was saved; retry later",
                )
            }
            other => {
                tracing::error!(error = %other, "store error");
                Self::internal()
            }
        }
    }
}

impl ApiError {
    /// The body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = self.status == StatusCode::UNAUTHORIZED;
        let retry = match self.retry_after {
            Some(seconds) => Some(seconds),
            None if self.status == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            None => None,
        };
        let body = self.body();
        let mut response = (self.status, axum::Json(body)).into_response();
        if unauthenticated {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"quarry\""),
            );
        }
        if let Some(seconds) = retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
