//! Units of measure and exact conversions between them. Within a dimension a
//! conversion is a multiplication by a power of ten; between mass and volume it
//! goes through the product's density. Results are rounded once, at the end, to
//! [`Quantity::MAX_SCALE`] decimal places, half away from zero.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

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

/// What a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Mass,
    Volume,
    Length,
    Area,
    Count,
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dimension::Mass => "mass",
            Dimension::Volume => "volume",
            Dimension::Length => "length",
            Dimension::Area => "area",
            Dimension::Count => "count",
        })
    }
}

impl Unit {
    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Gram | Unit::Kilogram | Unit::Tonne => Dimension::Mass,
            Unit::Litre | Unit::CubicMetre => Dimension::Volume,
            Unit::Metre => Dimension::Length,
            Unit::SquareMetre => Dimension::Area,
            Unit::Piece => Dimension::Count,
        }
    }

    /// How many of the dimension's base unit (kg, m³, m, m², pc) one of this is.
    fn in_base(self) -> Decimal {
        match self {
            Unit::Gram | Unit::Litre => Decimal::new(1, 3),
            Unit::Tonne => Decimal::from(1000),
            Unit::Kilogram | Unit::CubicMetre | Unit::Metre | Unit::SquareMetre | Unit::Piece => {
                Decimal::ONE
            }
        }
    }
}

/// Why a quantity cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError(pub String);

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Converts `value` from `from` to `to`. `density_kg_m3` allows mass ↔ volume;
/// `what` names the product in the error.
pub fn convert(
    value: Decimal,
    from: Unit,
    to: Unit,
    density_kg_m3: Option<Decimal>,
    what: &str,
) -> Result<Decimal, ConversionError> {
    if from == to {
        return Ok(value);
    }
    let base = value * from.in_base();
    let base = match (from.dimension(), to.dimension()) {
        (a, b) if a == b => base,
        (Dimension::Volume, Dimension::Mass) => match density_kg_m3 {
            Some(density) => base * density,
            None => return Err(no_density(what, from, to)),
        },
        (Dimension::Mass, Dimension::Volume) => match density_kg_m3 {
            Some(density) => base / density,
            None => return Err(no_density(what, from, to)),
        },
        (a, b) => {
            return Err(ConversionError(format!(
                "cannot convert {from} ({a}) to {to} ({b}) for {what}"
            )));
        }
    };
    Ok((base / to.in_base())
        .round_dp_with_strategy(Quantity::MAX_SCALE, RoundingStrategy::MidpointAwayFromZero)
        .normalize())
}

fn no_density(what: &str, from: Unit, to: Unit) -> ConversionError {
    ConversionError(format!(
        "{what} has no density: cannot convert {from} to {to}"
    ))
}

/// An exact quantity: at most 6 decimal places, below 10¹² in size.
/// (De)serialized as a decimal string such as `"12.5"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Quantity(Decimal);

impl Quantity {
    pub const MAX_SCALE: u32 = 6;
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);

    /// Parses a signed quantity.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let value = super::text::parse_decimal(raw, "quantity", Self::MAX_SCALE)?;
        Self::new(value)
    }

    pub fn new(value: Decimal) -> Result<Self, InvalidValue> {
        if value.abs() >= Decimal::from(1_000_000_000_000_i64) {
            return Err(InvalidValue::new(
                "quantity must be below 1,000,000,000,000",
            ));
        }
        if value.scale() > Self::MAX_SCALE {
            return Err(InvalidValue(format!(
                "quantity may have at most {} decimal places",
                Self::MAX_SCALE
            )));
        }
        Ok(Self(value.normalize()))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<String> for Quantity {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Quantity> for String {
    fn from(q: Quantity) -> Self {
        q.0.to_string()
    }
}

impl utoipa::PartialSchema for Quantity {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .examples(["12.5"])
            .description(Some("An exact decimal quantity, e.g. \"12.5\""))
            .into()
    }
}

impl utoipa::ToSchema for Quantity {}

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

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn conversions_within_a_dimension_are_exact() {
        assert_eq!(
            convert(d("2.5"), Unit::Tonne, Unit::Kilogram, None, "X").unwrap(),
            d("2500")
        );
        assert_eq!(
            convert(d("1"), Unit::Gram, Unit::Tonne, None, "X").unwrap(),
            d("0.000001")
        );
        assert_eq!(
            convert(d("750"), Unit::Litre, Unit::CubicMetre, None, "X").unwrap(),
            d("0.75")
        );
    }

    #[test]
    fn mass_and_volume_convert_through_the_density() {
        let density = Some(d("1600"));
        assert_eq!(
            convert(d("3"), Unit::CubicMetre, Unit::Tonne, density, "S").unwrap(),
            d("4.8")
        );
        assert_eq!(
            convert(d("4.8"), Unit::Tonne, Unit::CubicMetre, density, "S").unwrap(),
            d("3")
        );
        // 1 t / 1.6 t/m³ = 0.625 m³; 1 kg / 1600 = 0.000625
        assert_eq!(
            convert(d("1"), Unit::Kilogram, Unit::CubicMetre, density, "S").unwrap(),
            d("0.000625")
        );
        // A result beyond 6 places is rounded half away from zero: 1/3 m³.
        assert_eq!(
            convert(d("1"), Unit::Kilogram, Unit::CubicMetre, Some(d("3")), "S").unwrap(),
            d("0.333333")
        );
        assert_eq!(
            convert(d("2"), Unit::Kilogram, Unit::CubicMetre, Some(d("3")), "S").unwrap(),
            d("0.666667")
        );
    }

    #[test]
    fn impossible_conversions_say_why() {
        let err = convert(d("3"), Unit::CubicMetre, Unit::Kilogram, None, "SAND-04").unwrap_err();
        assert_eq!(err.0, "SAND-04 has no density: cannot convert m3 to kg");
        let err = convert(d("3"), Unit::Metre, Unit::Kilogram, None, "RB-12").unwrap_err();
        assert!(err.0.contains("length") && err.0.contains("mass"), "{err}");
    }

    #[test]
    fn quantities_are_exact_and_bounded() {
        assert_eq!(Quantity::parse("12.50").unwrap().to_string(), "12.5");
        assert_eq!(Quantity::parse("-3").unwrap().to_string(), "-3");
        assert!(Quantity::parse("0.0000001").is_err());
        assert!(Quantity::parse("1e3").is_err());
        assert!(Quantity::parse("1000000000000").is_err());
    }

    #[test]
    fn an_unknown_unit_lists_the_known_ones() {
        let err = "kilo".parse::<Unit>().unwrap_err();
        assert!(err.0.contains("kg, t"), "{err}");
    }
}
