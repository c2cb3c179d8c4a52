//! Listings and their opaque pagination cursors: a position serialized as
//! URL-safe base64 JSON, so clients pass it back without reading into it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use super::AppError;

/// A page of a listing. `next_cursor`, when not null, fetches the next page.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub fn encode<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("cursors serialize"))
}

pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, AppError> {
    let invalid = || {
        AppError::bad_request(
            Some("cursor"),
            "cursor is not one this server gave out; start again without it",
        )
    };
    if cursor.len() > 512 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// A page size from the query string: 1 to `max`, `default` when absent.
pub fn limit(requested: Option<u32>, default: usize, max: usize) -> Result<usize, AppError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&(n as usize)) => Ok(n as usize),
        Some(_) => Err(AppError::bad_request(
            Some("limit"),
            format!("limit must be a whole number from 1 to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let c = encode(&("a", 7));
        assert_eq!(decode::<(String, u32)>(&c).unwrap(), ("a".into(), 7));
        assert!(decode::<(String, u32)>("!!!").is_err());
        assert!(decode::<(String, u32)>(&encode(&"other")).is_err());
    }
}
