//! The one place errors become HTTP responses:
//! `{"error": {"code", "message", "field"}}` with the status of its code
//! ([`ErrorCode`], one table in `app/error.rs`). Server-side failures are
//! logged with their cause and answered with a generic message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppError;
pub use crate::app::{ErrorBody, ErrorCode, ErrorDetail};
use crate::store::StoreError;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds to wait before retrying, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    /// An import's report, sent along with `invalid_rows`.
    pub report: Option<serde_json::Value>,
}

/// Whole seconds to wait, at least one.
fn seconds(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status: StatusCode::from_u16(code.status()).expect("every code has a valid status"),
            message: message.into(),
            field: None,
            retry_after: None,
            report: None,
        }
    }

    pub fn too_many(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self::new(ErrorCode::RateLimited, message).retry_after(retry_after)
    }

    #[must_use]
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(seconds(wait));
        self
    }

    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    #[must_use]
    pub fn with_report(mut self, report: serde_json::Value) -> Self {
        self.report = Some(report);
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "something went wrong on the server; it has been logged",
        )
    }

    /// The body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        let mut body = ErrorBody::new(self.code, self.message.clone(), self.field.clone());
        body.report.clone_from(&self.report);
        body
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid { field, reason } => {
                Self::new(ErrorCode::ValidationFailed, format!("{field}: {reason}"))
                    .with_field(field)
            }
            AppError::BadRequest { field, message } => Self {
                field,
                ..Self::new(ErrorCode::BadRequest, message)
            },
            error @ AppError::NotFound { .. } => Self::not_found(error.to_string()),
            AppError::Conflict {
                code,
                field,
                message,
            } => Self {
                field,
                ..Self::new(code, message)
            },
            error @ AppError::VersionMismatch { .. } => Self::new(
                ErrorCode::VersionMismatch,
                format!("{error}; read it again and retry with the new ETag"),
            )
            .with_field("If-Match"),
            AppError::Unauthenticated(message) => Self::unauthenticated(message),
            AppError::Forbidden(message) => Self::new(ErrorCode::Forbidden, message),
            AppError::TooManyRequests {
                message,
                retry_after,
            } => Self::too_many(message, retry_after),
            AppError::Busy {
                message,
                retry_after,
            } => Self::new(ErrorCode::Busy, message).retry_after(retry_after),
            AppError::Store(error) => Self::from(error),
            AppError::Internal(message) => {
                tracing::error!(%message, "internal error");
                Self::internal()
            }
        }
    }
}

fn unavailable_code(disk_full: bool) -> ErrorCode {
    if disk_full {
        ErrorCode::DiskFull
    } else {
        ErrorCode::StorageUnavailable
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::GroupAborted | StoreError::WriterStopped => {
                tracing::warn!(%error, "write not applied");
                Self::new(
                    ErrorCode::Unavailable,
                    "the write was not applied; retry in a moment",
                )
            }
            StoreError::Unavailable { disk_full, .. } => {
                tracing::error!(%error, "store unavailable");
                Self::new(
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
                    ErrorCode::Unavailable,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn every_code_has_a_unique_snake_case_name_a_valid_status_and_a_meaning() {
        let mut names = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let name = code.name();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!(names.insert(name), "{name} is used twice");
            let status = StatusCode::from_u16(code.status()).unwrap();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{name}"
            );
            assert!(code.meaning().ends_with('.'), "{name}: {}", code.meaning());
            assert_eq!(ApiError::new(*code, "x").status, status);
        }
    }

    /// The table of docs/ERRORS.md, as the codes make it.
    fn table() -> String {
        let mut out = String::from("| code | status | meaning |\n|---|---|---|\n");
        for code in ErrorCode::ALL {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                code.name(),
                code.status(),
                code.meaning()
            );
        }
        out
    }

    #[test]
    fn every_code_is_documented_in_the_docs_and_the_openapi_document() {
        let docs = include_str!("../../docs/ERRORS.md");
        let table = table();
        assert!(
            docs.contains(&table),
            "docs/ERRORS.md must hold the table the codes make; replace its table with:\n\n{table}"
        );
        let document = serde_json::to_value(crate::http::openapi_document()).unwrap();
        let listed = &document["components"]["schemas"]["ErrorCode"];
        let names: Vec<&str> = listed["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, all);
        let description = listed["description"].as_str().unwrap();
        for code in ErrorCode::ALL {
            assert!(description.contains(code.meaning()), "{code}");
        }
        assert_eq!(
            document["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
    }
}
