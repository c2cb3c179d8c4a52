//! Units of measure. For now the units stock can be kept in; conversions between
//! them arrive with pricing and quotes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::InvalidValue;

/// The unit a product's stock is kept and priced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Unit {
    Gram,
    Kilogram,
    Tonne,
    Litre,
    CubicMetre,
    Metre,
    SquareMetre,
    Piece,
}

impl Unit {
    pub const ALL: [Unit; 8] = [
        Unit::Gram,
        Unit::Kilogram,
        Unit::Tonne,
        Unit::Litre,
        Unit::CubicMetre,
        Unit::Metre,
        Unit::SquareMetre,
        Unit::Piece,
    ];

    /// The symbol used in the API, CSV files and the UI.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Gram => "g",
            Unit::Kilogram => "kg",
            Unit::Tonne => "t",
            Unit::Litre => "l",
            Unit::CubicMetre => "m3",
            Unit::Metre => "m",
            Unit::SquareMetre => "m2",
            Unit::Piece => "pc",
        }
    }
}

impl utoipa::PartialSchema for Unit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Unit::ALL.map(Unit::symbol)))
            .into()
    }
}

impl utoipa::ToSchema for Unit {}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl FromStr for Unit {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Unit::ALL
            .into_iter()
            .find(|u| u.symbol() == wanted)
            .ok_or_else(|| {
                let known: Vec<_> = Unit::ALL.iter().map(|u| u.symbol()).collect();
                InvalidValue(format!(
                    "unknown unit {s:?}; use one of {}",
                    known.join(", ")
                ))
            })
    }
}

impl TryFrom<String> for Unit {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Unit> for String {
    fn from(u: Unit) -> Self {
        u.symbol().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_round_trips_through_its_symbol() {
        for unit in Unit::ALL {
            assert_eq!(unit.symbol().parse::<Unit>().unwrap(), unit);
        }
    }

    #[test]
    fn an_unknown_unit_lists_the_known_ones() {
        let err = "kilo".parse::<Unit>().unwrap_err();
        assert!(err.0.contains("kg, t"), "{err}");
    }
}
