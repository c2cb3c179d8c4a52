//! Idempotent requests: a caller's `Idempotency-Key` with the fingerprint of
//! the request (method, path, body), remembered with the first answer in the
//! same transaction as the work, so a retry never does the work twice and
//! gets the first answer back.

use jiff::Timestamp;
use serde::Serialize;

use super::{AppError, Principal};
use crate::store::{Remembered, WriteTx};

/// A request's `Idempotency-Key`, scoped to its caller, and the fingerprint of
/// its method, path and body.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

impl Idempotency {
    /// What a key may be: 1–255 visible ASCII characters.
    pub const KEY_PATTERN: &str = "^[!-~]{1,255}$";

    fn key_is_valid(key: &str) -> bool {
        !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
    }

    /// Checks the header value: 1–255 visible ASCII characters.
    pub fn new(caller: &Principal, key: &str, fingerprint: String) -> Result<Self, AppError> {
        if !Self::key_is_valid(key) {
            return Err(AppError::bad_request(
                Some("Idempotency-Key"),
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self {
            key: format!("{}|{key}", caller.actor),
            fingerprint,
        })
    }
}

/// The answer to a request that may be a retry.
#[derive(Debug, Clone)]
pub enum Answer<T> {
    /// Done now.
    Fresh(T),
    /// Done before: the first answer, as it was.
    Replayed {
        status: u16,
        body: serde_json::Value,
    },
}

/// Runs `f` unless `idempotency` says it already ran, and remembers its
/// answer (status 201) in the same transaction.
pub(super) fn once<T: Serialize>(
    tx: &mut WriteTx,
    idempotency: Option<&Idempotency>,
    f: impl FnOnce(&mut WriteTx) -> Result<T, AppError>,
) -> Result<Answer<T>, AppError> {
    let Some(idem) = idempotency else {
        return f(tx).map(Answer::Fresh);
    };
    if let Some(first) = tx.remembered(&idem.key)? {
        if first.fingerprint != idem.fingerprint {
            return Err(AppError::Invalid {
                field: "Idempotency-Key".into(),
                reason: "was already used for a different request; use a new key".into(),
            });
        }
        return Ok(Answer::Replayed {
            status: first.status,
            body: first.body,
        });
    }
    let value = f(tx)?;
    let body = serde_json::to_value(&value).expect("answers serialize");
    tx.remember(
        &idem.key,
        &Remembered {
            fingerprint: idem.fingerprint.clone(),
            status: 201,
            body,
            at: Timestamp::now(),
        },
    )?;
    Ok(Answer::Fresh(value))
}

/// The `Idempotency-Key` header's schema in the `OpenAPI` document.
pub struct IdempotencyKeyValue;

impl utoipa::PartialSchema for IdempotencyKeyValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        // No example: a key is new for each request.
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(Idempotency::KEY_PATTERN))
            .description(Some("1 to 255 visible ASCII characters, new for each write: a retry with the same key is answered as the first request was, without doing it again."))
            .into()
    }
}

impl utoipa::ToSchema for IdempotencyKeyValue {}

#[cfg(test)]
mod tests {
    use super::Idempotency;
    use crate::domain::rules::tests::agree;

    #[test]
    fn the_key_pattern_says_what_is_accepted() {
        agree(
            "Idempotency-Key",
            Idempotency::KEY_PATTERN,
            true,
            r"[ a-z0-9\-\x00\x7fé]{0,260}",
            Idempotency::key_is_valid,
        );
    }
}
