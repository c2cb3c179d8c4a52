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
        code: ErrorCode,
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

    pub fn conflict(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
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

/// Declares [`ErrorCode`] from one table: each code's name (`error.code` in
/// every error body), the HTTP status it is answered with, and its meaning
/// (the doc line, which the `OpenAPI` document and `docs/ERRORS.md` list).
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $name:literal, $status:literal;)*) => {
        /// Every error Quarry answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable, machine-readable name: `insufficient_stock`.
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// The HTTP status the code is always answered with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// What the code means and what to do about it, for people.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),+).trim_ascii(),)*
                }
            }
        }
    };
}

error_codes! {
    /// The request is malformed: a query string, header, path or cursor that cannot be read; `field` names it.
    BadRequest = "bad_request", 400;
    /// The body is not well-formed JSON.
    InvalidJson = "invalid_json", 400;
    /// No valid credentials came with the request: sign in or send a token.
    Unauthenticated = "unauthenticated", 401;
    /// The credentials are valid but lack the role or scope the route needs.
    Forbidden = "forbidden", 403;
    /// A change made with a browser session lacked Quarry's own origin or the session's CSRF token.
    CsrfFailed = "csrf_failed", 403;
    /// Nothing exists at this path, or the caller may not know that it does.
    NotFound = "not_found", 404;
    /// The route does not take this method.
    MethodNotAllowed = "method_not_allowed", 405;
    /// The request (or its upload) took longer than the server waits.
    RequestTimeout = "request_timeout", 408;
    /// A product with this SKU exists already (SKUs are case-insensitive).
    DuplicateSku = "duplicate_sku", 409;
    /// Another product has this barcode.
    DuplicateBarcode = "duplicate_barcode", 409;
    /// A location with this code exists already.
    DuplicateLocation = "duplicate_location", 409;
    /// A delivery zone with this code exists already.
    DuplicateZone = "duplicate_zone", 409;
    /// A price list with this code exists already.
    DuplicatePriceList = "duplicate_price_list", 409;
    /// Customers buy at this price list: it cannot be removed.
    PriceListInUse = "price_list_in_use", 409;
    /// A customer with this code exists already.
    DuplicateCustomer = "duplicate_customer", 409;
    /// A trade contact with this e-mail address exists already (a login is one person's).
    DuplicateContact = "duplicate_contact", 409;
    /// The customer has as many contacts and pending invitations as it may (50).
    TooManyContacts = "too_many_contacts", 409;
    /// A user with this name exists already.
    DuplicateUser = "duplicate_user", 409;
    /// A live token has this name already.
    DuplicateToken = "duplicate_token", 409;
    /// The change would leave the shop without an active owner.
    LastOwner = "last_owner", 409;
    /// The first owner was set up already; the setup link works once.
    SetupDone = "setup_done", 409;
    /// The product has movements in its stock unit, which therefore cannot change.
    UnitInUse = "unit_in_use", 409;
    /// Less is available than the line takes (ship, reserve, transfer, or a count below what is reserved); nothing was booked.
    InsufficientStock = "insufficient_stock", 409;
    /// Less is reserved than the release asks for; nothing was booked.
    InsufficientReserved = "insufficient_reserved", 409;
    /// The adjustment would leave less than nothing on hand; nothing was booked.
    NegativeStock = "negative_stock", 409;
    /// The movement has been reversed already (at most once).
    AlreadyReversed = "already_reversed", 409;
    /// The shop has as many webhook endpoints as it may (`webhooks.max_endpoints`).
    TooManyWebhooks = "too_many_webhooks", 409;
    /// The product has as many photos as it may (12): delete one first.
    TooManyImages = "too_many_images", 409;
    /// The quote's validity has run out.
    QuoteExpired = "quote_expired", 409;
    /// The quote's status does not allow this action (accepting a cancelled quote, say).
    QuoteStatus = "quote_status", 409;
    /// Nothing can be e-mailed: mail is not configured (`[mail]` `smtp_url` and `from`).
    MailNotConfigured = "mail_not_configured", 409;
    /// `If-Match` names a version that is no longer current: read again and retry.
    VersionMismatch = "version_mismatch", 412;
    /// The body, an upload or a batch's answers are larger than the server takes.
    PayloadTooLarge = "payload_too_large", 413;
    /// A batch's answers would be larger than a batch holds: ask for less, or in several batches.
    BatchTooLarge = "batch_too_large", 413;
    /// The path and query are longer than the server reads.
    UriTooLong = "uri_too_long", 414;
    /// The body is not of a type the route takes (JSON in UTF-8, or a multipart upload).
    UnsupportedMediaType = "unsupported_media_type", 415;
    /// The uploaded file is not a JPEG, PNG or WebP image (judged by its content, not its name).
    UnsupportedImage = "unsupported_image", 422;
    /// A value breaks a rule; `field` names it and the message says the rule.
    ValidationFailed = "validation_failed", 422;
    /// An import found bad rows, so nothing was written; the report lists them.
    InvalidRows = "invalid_rows", 422;
    /// This request of an atomic batch was not applied because another one failed.
    NotApplied = "not_applied", 424;
    /// Too many requests from this address or caller: wait for `Retry-After`.
    RateLimited = "rate_limited", 429;
    /// The request headers are larger than the server reads.
    HeadersTooLarge = "headers_too_large", 431;
    /// Something went wrong on the server; it was logged. Retry, and report it if it stays.
    Internal = "internal", 500;
    /// The write was not applied (its commit group failed, or the server is stopping): retry it.
    Unavailable = "unavailable", 503;
    /// The server is at one of its limits (event streams, batches being answered): retry after `Retry-After`.
    Busy = "busy", 503;
    /// The data file could not be read or written, or PostgreSQL could not be reached; Quarry tries again as soon as it answers.
    StorageUnavailable = "storage_unavailable", 503;
    /// The disk holding the data is full: nothing more can be saved until space is freed.
    DiskFull = "disk_full", 503;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use std::fmt::Write;
        let mut description = String::from(
            "Stable, machine-readable; each code always comes with the same status:\n",
        );
        for code in Self::ALL {
            let _ = write!(
                description,
                "\n- `{}` ({}): {}",
                code.name(),
                code.status(),
                code.meaning()
            );
        }
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Self::ALL.iter().map(|c| c.name())))
            .description(Some(description))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

/// The body of every error response: `{"error": {"code", "message", "field"}}`,
/// with an import's `report` when bad rows meant nothing was written. Built
/// here only: by the HTTP layer for its answers, by jobs for theirs.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// An import's report, with every bad row it lists (`invalid_rows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// What went wrong and what to do about it, for people.
    pub message: String,
    /// The input that caused it (`price`, `lines[2].quantity`), when there is one.
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>, field: Option<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                field,
            },
            report: None,
        }
    }

    /// The body as a JSON value (a job's answer, a batch's sub-answer).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("error bodies serialize")
    }
}
