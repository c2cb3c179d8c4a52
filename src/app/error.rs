//! The one error type of the use cases. `http/error.rs` maps it to statuses.

use crate::domain::InvalidValue;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A value breaks a rule: 422, naming the field.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A malformed request (query string, cursor, header): 400.
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    #[error("{what} {key} does not exist")]
    NotFound { what: &'static str, key: String },
    /// The request clashes with the current state: 409.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// `If-Match` named another version: 412.
    #[error("the resource has changed: its current version is {current}")]
    VersionMismatch { current: u64 },
    /// No valid credentials: 401.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials without the right: 403.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts: 429, try again after the given time.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    /// The server is at a limit of its own (not the caller's): 503, try again
    /// after the given time.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn bad_request(field: Option<&str>, message: impl Into<String>) -> Self {
        Self::BadRequest {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// Wraps a parse failure of `field`.
    pub fn field(field: &str) -> impl FnOnce(InvalidValue) -> Self + '_ {
        move |e| Self::invalid(field, e)
    }
}
