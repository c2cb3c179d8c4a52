//! Places stock is kept in: warehouses, yards, shelves.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::Rule;
use super::values::string_type;

string_type!(
    /// A location's code, e.g. `YARD` or `WH1-A-03`: 1–32 characters of
    /// `A-Z 0-9 . _ -`, case-insensitive (kept upper-case).
    LocationCode,
    "YARD",
    Rule::Code {
        what: "location code",
        max: 32
    }
);

string_type!(
    /// A location's display name, 1–100 characters.
    LocationName,
    "Main yard",
    Rule::Text {
        what: "name",
        min: 1,
        max: 100,
        multiline: false
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    pub code: LocationCode,
    pub name: LocationName,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The body of `POST /locations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub code: LocationCode,
    pub name: LocationName,
    #[serde(default = "yes")]
    pub active: bool,
}

/// The body of `PATCH /locations/{code}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    pub name: Option<LocationName>,
    pub active: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Location {
    pub fn create(input: LocationInput, now: Timestamp) -> Self {
        Self {
            code: input.code,
            name: input.name,
            active: input.active,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This location with the patch applied, or `None` when nothing would change.
    pub fn patched(&self, patch: LocationPatch, now: Timestamp) -> Option<Self> {
        let mut next = self.clone();
        if let Some(name) = patch.name {
            next.name = name;
        }
        if let Some(active) = patch.active {
            next.active = active;
        }
        if next == *self {
            return None;
        }
        next.version += 1;
        next.updated_at = now.max(self.updated_at);
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::super::InvalidValue;
    use super::*;

    #[test]
    fn a_location_patch_bumps_the_version_only_on_change() {
        let input: LocationInput =
            serde_json::from_value(serde_json::json!({"code": "yard", "name": "Yard"})).unwrap();
        let yard = Location::create(input, Timestamp::UNIX_EPOCH);
        assert_eq!(yard.code.as_str(), "YARD");
        let same = LocationPatch {
            name: Some(LocationName::parse("Yard").unwrap()),
            active: None,
        };
        assert!(yard.patched(same, Timestamp::now()).is_none());
        let off = LocationPatch {
            name: None,
            active: Some(false),
        };
        let next = yard.patched(off, Timestamp::now()).unwrap();
        assert!(!next.active);
        assert_eq!(next.version, 2);
    }

    #[test]
    fn location_codes_are_short_codes() {
        assert!(LocationCode::parse(&"A".repeat(33)).is_err());
        assert!(LocationCode::parse("WH1-A-03").is_ok());
        assert!(LocationCode::parse("WH 1").is_err());
        let _: InvalidValue = LocationName::parse("").unwrap_err();
    }
}
