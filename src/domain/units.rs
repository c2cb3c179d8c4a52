//! Units of measure and exact conversions between them, explained.
//!
//! Every unit is an exact multiple of its dimension's base (kg, m³, m, m², pc).
//! A product adds its own: packs (`bag = 25 kg`, `pallet = 40 bag`), and the
//! bridges between dimensions — density (kg/m³), mass per metre and per square
//! metre — which all go through mass. Arithmetic is exact; the one rounding is at
//! the end: to [`Quantity::MAX_SCALE`] decimal places, half away from zero.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::InvalidValue;
use super::rules::pattern_schema;

/// A unit of measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Unit {
    Gram,
    Kilogram,
    Tonne,
    Pound,
    Ounce,
    Millilitre,
    Litre,
    CubicMetre,
    CubicFoot,
    CubicYard,
    /// The US liquid gallon (231 in³).
    Gallon,
    Millimetre,
    Centimetre,
    Metre,
    Inch,
    Foot,
    Yard,
    SquareMetre,
    SquareFoot,
    Piece,
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

impl Dimension {
    /// The base unit of the dimension.
    pub fn base(self) -> Unit {
        match self {
            Dimension::Mass => Unit::Kilogram,
            Dimension::Volume => Unit::CubicMetre,
            Dimension::Length => Unit::Metre,
            Dimension::Area => Unit::SquareMetre,
            Dimension::Count => Unit::Piece,
        }
    }
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

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).expect("a valid constant")
}

impl Unit {
    pub const ALL: [Unit; 20] = [
        Unit::Gram,
        Unit::Kilogram,
        Unit::Tonne,
        Unit::Pound,
        Unit::Ounce,
        Unit::Millilitre,
        Unit::Litre,
        Unit::CubicMetre,
        Unit::CubicFoot,
        Unit::CubicYard,
        Unit::Gallon,
        Unit::Millimetre,
        Unit::Centimetre,
        Unit::Metre,
        Unit::Inch,
        Unit::Foot,
        Unit::Yard,
        Unit::SquareMetre,
        Unit::SquareFoot,
        Unit::Piece,
    ];

    /// The unit's code: what the API, CSV files, stored records and the UI's
    /// forms use. A stored contract: a code never changes (a label may), and
    /// `tests::unit_codes_are_a_stored_contract` pins every one.
    pub fn code(self) -> &'static str {
        match self {
            Unit::Gram => "g",
            Unit::Kilogram => "kg",
            Unit::Tonne => "t",
            Unit::Pound => "lb",
            Unit::Ounce => "oz",
            Unit::Millilitre => "ml",
            Unit::Litre => "l",
            Unit::CubicMetre => "m3",
            Unit::CubicFoot => "ft3",
            Unit::CubicYard => "yd3",
            Unit::Gallon => "gal",
            Unit::Millimetre => "mm",
            Unit::Centimetre => "cm",
            Unit::Metre => "m",
            Unit::Inch => "in",
            Unit::Foot => "ft",
            Unit::Yard => "yd",
            Unit::SquareMetre => "m2",
            Unit::SquareFoot => "ft2",
            Unit::Piece => "pc",
        }
    }

    /// The unit's name for people, as the UI shows it.
    pub fn label(self) -> &'static str {
        match self {
            Unit::Gram => "grams (g)",
            Unit::Kilogram => "kilograms (kg)",
            Unit::Tonne => "tonnes (t)",
            Unit::Pound => "pounds (lb)",
            Unit::Ounce => "ounces (oz)",
            Unit::Millilitre => "millilitres (ml)",
            Unit::Litre => "litres (l)",
            Unit::CubicMetre => "m³",
            Unit::CubicFoot => "ft³",
            Unit::CubicYard => "yd³",
            Unit::Gallon => "US gal",
            Unit::Millimetre => "millimetres (mm)",
            Unit::Centimetre => "centimetres (cm)",
            Unit::Metre => "metres (m)",
            Unit::Inch => "inches (in)",
            Unit::Foot => "feet (ft)",
            Unit::Yard => "yards (yd)",
            Unit::SquareMetre => "m²",
            Unit::SquareFoot => "ft²",
            Unit::Piece => "pieces (pc)",
        }
    }

    /// Other spellings accepted on input.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Unit::Gram => &["gram", "grams"],
            Unit::Kilogram => &["kgs", "kilo", "kilos", "kilogram", "kilograms"],
            Unit::Tonne => &["tonne", "tonnes"],
            Unit::Pound => &["lbs", "pound", "pounds"],
            Unit::Ounce => &["ounce", "ounces"],
            Unit::Millilitre => &["millilitre", "milliliter"],
            Unit::Litre => &["litre", "litres", "liter", "liters", "ltr"],
            Unit::CubicMetre => &["m³", "cubic metre", "cubic meter"],
            Unit::CubicFoot => &["ft³", "cubic foot", "cubic feet"],
            Unit::CubicYard => &["yd³", "cubic yard", "cubic yards"],
            Unit::Gallon => &["gallon", "gallons", "us gal"],
            Unit::Millimetre => &["millimetre", "millimeter"],
            Unit::Centimetre => &["centimetre", "centimeter"],
            Unit::Metre => &["metre", "metres", "meter", "meters"],
            Unit::Inch => &["inch", "inches"],
            Unit::Foot => &["foot", "feet"],
            Unit::Yard => &["yard", "yards"],
            Unit::SquareMetre => &["m²", "sq m", "square metre", "square meter"],
            Unit::SquareFoot => &["ft²", "sq ft", "square foot", "square feet"],
            Unit::Piece => &["pcs", "piece", "pieces", "ea", "each"],
        }
    }

    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Gram | Unit::Kilogram | Unit::Tonne | Unit::Pound | Unit::Ounce => {
                Dimension::Mass
            }
            Unit::Millilitre
            | Unit::Litre
            | Unit::CubicMetre
            | Unit::CubicFoot
            | Unit::CubicYard
            | Unit::Gallon => Dimension::Volume,
            Unit::Millimetre
            | Unit::Centimetre
            | Unit::Metre
            | Unit::Inch
            | Unit::Foot
            | Unit::Yard => Dimension::Length,
            Unit::SquareMetre | Unit::SquareFoot => Dimension::Area,
            Unit::Piece => Dimension::Count,
        }
    }

    /// How many of the dimension's base unit one of this is — exact, by the
    /// international definitions (1 lb = 0.45359237 kg, 1 in = 25.4 mm, and the
    /// US gallon = 231 in³).
    pub fn in_base(self) -> Decimal {
        match self {
            Unit::Kilogram | Unit::CubicMetre | Unit::Metre | Unit::SquareMetre | Unit::Piece => {
                Decimal::ONE
            }
            Unit::Gram | Unit::Litre | Unit::Millimetre => d("0.001"),
            Unit::Tonne => d("1000"),
            Unit::Pound => d("0.45359237"),
            Unit::Ounce => d("0.028349523125"),
            Unit::Millilitre => d("0.000001"),
            Unit::CubicFoot => d("0.028316846592"),
            Unit::CubicYard => d("0.764554857984"),
            Unit::Gallon => d("0.003785411784"),
            Unit::Centimetre => d("0.01"),
            Unit::Inch => d("0.0254"),
            Unit::Foot => d("0.3048"),
            Unit::Yard => d("0.9144"),
            Unit::SquareFoot => d("0.09290304"),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl FromStr for Unit {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        // A label is read too: a few records were written with the labels of
        // `mm` and `cm` as their codes (fixed since), and people type them.
        Unit::ALL
            .into_iter()
            .find(|u| {
                u.code() == wanted
                    || u.aliases().contains(&wanted.as_str())
                    || u.label().to_lowercase() == wanted
            })
            .ok_or_else(|| {
                let known: Vec<_> = Unit::ALL.iter().map(|u| u.code()).collect();
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
        u.code().to_owned()
    }
}

impl utoipa::PartialSchema for Unit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Unit::ALL.map(Unit::code)))
            .into()
    }
}

impl utoipa::ToSchema for Unit {}

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

pattern_schema!(
    Quantity,
    decimal_schema,
    super::rules::decimal_pattern(Quantity::MAX_SCALE, true),
    "An exact decimal quantity written with a dot, e.g. \"12.5\": below 10¹² in size, at most 6 decimal places.",
    "12.5"
);

/// The schema of a quantity that must be above zero (a quote's lines).
pub struct PositiveQuantity;

pattern_schema!(
    PositiveQuantity,
    decimal_schema,
    super::rules::positive_decimal_pattern(Quantity::MAX_SCALE),
    "An exact decimal quantity above zero, written with a dot, e.g. \"12.5\": below 10¹², at most 6 decimal places.",
    "12.5"
);

/// Rounds a converted quantity: the one rounding rule.
pub fn round_quantity(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(Quantity::MAX_SCALE, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// The name of a unit as written in a request: a standard unit or one of the
/// product's packs. Resolved against a product by [`Measures`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitName(String);

pattern_schema!(
    UnitName,
    string_schema,
    UnitName::pattern(),
    "A unit (its code, label or another common spelling, any case) or the name of one of the product's packs (letters, spaces and '-'), 1–24 characters.",
    "t"
);

impl UnitName {
    /// A little more than [`UnitName::parse`] accepts (which letters count
    /// is left to it): a pack name of letters, spaces and `-`, or any
    /// spelling of a unit, in any case.
    pub fn pattern() -> String {
        let mut spellings: Vec<String> = Unit::ALL
            .into_iter()
            .flat_map(|unit| {
                let label = unit.label().to_lowercase();
                [unit.code().to_owned(), label]
                    .into_iter()
                    .chain(unit.aliases().iter().map(|a| (*a).to_owned()))
            })
            .filter(|s| !s.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '-'))
            .map(|s| super::rules::any_case(&s))
            .collect();
        spellings.sort();
        spellings.dedup();
        format!(
            r"^\s*(?:(?:[^\W\d_]|[ -]){{1,24}}|{})\s*$",
            spellings.join("|")
        )
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if let Ok(unit) = raw.parse::<Unit>() {
            return Ok(Self(unit.code().to_owned()));
        }
        let name = raw.trim().to_lowercase();
        if name.is_empty() || name.chars().count() > 24 {
            return Err(InvalidValue::new("a unit name must be 1 to 24 characters"));
        }
        if !name
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-')
        {
            return Err(InvalidValue(format!(
                "unknown unit {raw:?}: a pack name has only letters, spaces and '-'"
            )));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The standard unit this names, if it names one.
    pub fn standard(&self) -> Option<Unit> {
        self.0.parse().ok()
    }
}

impl From<Unit> for UnitName {
    fn from(unit: Unit) -> Self {
        Self(unit.code().to_owned())
    }
}

impl TryFrom<String> for UnitName {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<UnitName> for String {
    fn from(name: UnitName) -> Self {
        name.0
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A pack a product comes in: `bag = 25 kg`, `pallet = 40 bag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "bag", "quantity": "25", "unit": "kg"}))]
pub struct Pack {
    /// The pack's name, used as a unit: `bag`, `bulk bag`, `pallet`.
    pub name: UnitName,
    pub quantity: Quantity,
    /// A standard unit or another pack of the product.
    pub unit: UnitName,
}

/// Why a quantity cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError(pub String);

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product's units: its stock unit, its packs and its bridges between
/// dimensions.
#[derive(Debug, Clone, Copy)]
pub struct Measures<'a> {
    /// The product, for messages (its SKU).
    pub what: &'a str,
    pub stock: Unit,
    pub density_kg_m3: Option<Decimal>,
    pub mass_per_m_kg: Option<Decimal>,
    pub mass_per_m2_kg: Option<Decimal>,
    pub packs: &'a [Pack],
}

/// A converted quantity: the rounded result, and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub value: Decimal,
    /// For people: `3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t`.
    pub explanation: String,
}

/// Writes a decimal without trailing zeros.
fn show(value: Decimal) -> String {
    value.normalize().to_string()
}

/// An amount worked out on the way, as a step shows it: `= 4800` when exact
/// to three decimals, else rounded (`≈ 2.294`; a small one keeps three
/// significant digits, `≈ 0.000457`). The result itself is always exact.
fn step(value: Decimal) -> String {
    let mut places = 3;
    while places < 20
        && !value.is_zero()
        && value
            .round_dp_with_strategy(places, RoundingStrategy::ToZero)
            .is_zero()
    {
        places += 1;
    }
    if places > 3 {
        places += 2;
    }
    let rounded = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    if rounded == value {
        format!("= {}", show(value))
    } else {
        format!("≈ {}", show(rounded))
    }
}

impl<'a> Measures<'a> {
    /// `a × b`, or an error when the result leaves what a decimal holds
    /// (nested packs of huge sizes can get there).
    fn times(&self, a: Decimal, b: Decimal) -> Result<Decimal, ConversionError> {
        a.checked_mul(b).ok_or_else(|| self.too_large())
    }

    fn divided(&self, a: Decimal, b: Decimal) -> Result<Decimal, ConversionError> {
        if b.is_zero() {
            return Err(ConversionError(format!(
                "{}: a conversion factor of zero cannot be divided by",
                self.what
            )));
        }
        a.checked_div(b).ok_or_else(|| self.too_large())
    }

    fn too_large(&self) -> ConversionError {
        ConversionError(format!(
            "{}: the quantity is too large to convert; check the sizes of its packs",
            self.what
        ))
    }

    fn pack(&self, name: &UnitName) -> Option<&'a Pack> {
        self.packs.iter().find(|p| p.name == *name)
    }

    /// Resolves a unit name to its dimension and size in that dimension's base.
    pub fn resolve(&self, name: &UnitName) -> Result<(Dimension, Decimal), ConversionError> {
        let mut factor = Decimal::ONE;
        let mut current = name.clone();
        for _ in 0..8 {
            if let Some(unit) = current.standard() {
                return Ok((unit.dimension(), self.times(factor, unit.in_base())?));
            }
            let Some(pack) = self.pack(&current) else {
                return Err(ConversionError(format!(
                    "{} has no unit or pack \"{current}\"",
                    self.what
                )));
            };
            factor = self.times(factor, pack.quantity.value())?;
            current = pack.unit.clone();
        }
        Err(ConversionError(format!(
            "{}: the packs of \"{name}\" refer to each other in a loop",
            self.what
        )))
    }

    /// kg per base unit of `dimension`, if the product says (`from` and `to`
    /// name the conversion for the message).
    fn mass_factor(
        &self,
        dimension: Dimension,
        from: &UnitName,
        to: &UnitName,
    ) -> Result<Decimal, ConversionError> {
        let missing = |what: &str| {
            ConversionError(format!(
                "{} has no {what}: cannot convert {from} to {to}",
                self.what
            ))
        };
        match dimension {
            Dimension::Mass => Ok(Decimal::ONE),
            Dimension::Volume => self.density_kg_m3.ok_or_else(|| missing("density")),
            Dimension::Length => self.mass_per_m_kg.ok_or_else(|| missing("mass per metre")),
            Dimension::Area => self
                .mass_per_m2_kg
                .ok_or_else(|| missing("mass per square metre")),
            Dimension::Count => Err(ConversionError(format!(
                "{}: pieces cannot be converted to a measure; define a pack such as \"bundle = 10 pc\"",
                self.what
            ))),
        }
    }

    /// Converts `value` from one unit to another, exactly, with the steps.
    pub fn convert(
        &self,
        value: Decimal,
        from: &UnitName,
        to: &UnitName,
    ) -> Result<Converted, ConversionError> {
        let (from_dim, from_base) = self.resolve(from)?;
        let (to_dim, to_base) = self.resolve(to)?;
        let mut steps = vec![format!("{} {from}", show(value))];
        // Unfold packs down to a standard unit.
        let mut amount = value;
        let mut unit = from.clone();
        while let Some(pack) = self.pack(&unit) {
            amount = self.times(amount, pack.quantity.value())?;
            steps.push(format!(
                "× {} {}/{} = {} {}",
                show(pack.quantity.value()),
                pack.unit,
                pack.name,
                show(amount),
                pack.unit
            ));
            unit = pack.unit.clone();
        }
        let mut base = self.times(value, from_base)?;
        if from_dim != to_dim {
            let base_unit = from_dim.base();
            if unit.standard() != Some(base_unit) {
                steps.push(format!("{} {base_unit}", step(base)));
            }
            let into_mass = self.mass_factor(from_dim, from, to)?;
            let out_of_mass = self.mass_factor(to_dim, from, to)?;
            if from_dim != Dimension::Mass {
                base = self.times(base, into_mass)?;
                steps.push(format!(
                    "× {} kg/{base_unit} {} kg",
                    show(into_mass),
                    step(base)
                ));
            }
            if to_dim != Dimension::Mass {
                base = self.divided(base, out_of_mass)?;
                let target = to_dim.base();
                steps.push(format!(
                    "÷ {} kg/{target} {} {target}",
                    show(out_of_mass),
                    step(base)
                ));
            }
        }
        let result = round_quantity(self.divided(base, to_base)?);
        let last_shown = steps.last().cloned().unwrap_or_default();
        let ending = format!("{} {to}", show(result));
        let unchanged = steps.len() == 1 && from == to;
        if !last_shown.ends_with(&ending) && !unchanged {
            steps.push(format!("= {ending}"));
        }
        Ok(Converted {
            value: result,
            explanation: steps.join(" "),
        })
    }

    /// Checks the packs: unique names that are not standard units, each
    /// resolving to a measure without loops.
    pub fn check_packs(&self) -> Result<(), (usize, String)> {
        for (i, pack) in self.packs.iter().enumerate() {
            if pack.name.standard().is_some() {
                return Err((
                    i,
                    format!("\"{}\" is a standard unit, not a pack name", pack.name),
                ));
            }
            if self.packs[..i].iter().any(|p| p.name == pack.name) {
                return Err((i, format!("pack \"{}\" is defined twice", pack.name)));
            }
            if !pack.quantity.is_positive() {
                return Err((i, "a pack holds more than zero".into()));
            }
            self.resolve(&pack.name).map_err(|e| (i, e.0))?;
        }
        Ok(())
    }
}

/// Converts between two standard units with an optional density: the
/// product-free form, for simple cases and tests.
pub fn convert(
    value: Decimal,
    from: Unit,
    to: Unit,
    density_kg_m3: Option<Decimal>,
    what: &str,
) -> Result<Decimal, ConversionError> {
    Measures {
        what,
        stock: to,
        density_kg_m3,
        mass_per_m_kg: None,
        mass_per_m2_kg: None,
        packs: &[],
    }
    .convert(value, &from.into(), &to.into())
    .map(|c| c.value)
}

/// Parses a quantity written with its unit, such as `"2.5 t"` or `"40 bag"`.
/// Decimals use a dot; `"2,5t"` is refused with a hint.
pub fn parse_amount(text: &str) -> Result<(Quantity, UnitName), InvalidValue> {
    let text = text.trim();
    let split = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '-'))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(split);
    if unit.trim_start().starts_with(',') {
        return Err(InvalidValue(format!(
            "{text:?}: write decimals with a dot, like \"2.5 t\""
        )));
    }
    if number.is_empty() {
        return Err(InvalidValue(format!(
            "{text:?} should start with a number, like \"2.5 t\""
        )));
    }
    let quantity = Quantity::parse(number)?;
    let unit = UnitName::parse(unit)?;
    Ok((quantity, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn name(s: &str) -> UnitName {
        UnitName::parse(s).unwrap()
    }

    fn pack(n: &str, qty: &str, unit: &str) -> Pack {
        Pack {
            name: name(n),
            quantity: Quantity::parse(qty).unwrap(),
            unit: name(unit),
        }
    }

    fn cement(packs: &[Pack]) -> Measures<'_> {
        Measures {
            what: "CEM-425",
            stock: Unit::Kilogram,
            density_kg_m3: None,
            mass_per_m_kg: None,
            mass_per_m2_kg: None,
            packs,
        }
    }

    /// Regression (hardening, item 4): `mm` and `cm` once had their labels
    /// as codes, so `"unit": "mm"` was refused everywhere. Codes are stored in
    /// every record that has a unit: they are pinned here, each parses back
    /// to its unit, and no two units share one.
    #[test]
    fn unit_codes_are_a_stored_contract() {
        let codes: Vec<&str> = Unit::ALL.iter().map(|u| u.code()).collect();
        assert_eq!(
            codes,
            [
                "g", "kg", "t", "lb", "oz", "ml", "l", "m3", "ft3", "yd3", "gal", "mm", "cm", "m",
                "in", "ft", "yd", "m2", "ft2", "pc"
            ]
        );
        for unit in Unit::ALL {
            assert_eq!(unit.code().parse::<Unit>().unwrap(), unit, "{unit:?}");
            assert!(
                unit.code().chars().all(|c| c.is_ascii_alphanumeric()),
                "{unit:?}: a code is short and plain, never a label"
            );
            assert_eq!(unit.label().parse::<Unit>().unwrap(), unit, "{unit:?}");
            assert_eq!(String::from(unit), unit.code());
        }
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "codes are unique");
        // Every spelling a unit takes belongs to it alone.
        for unit in Unit::ALL {
            for alias in unit.aliases() {
                assert_eq!(alias.parse::<Unit>().unwrap(), unit, "{alias}");
            }
        }
    }

    #[test]
    fn every_unit_round_trips_through_its_code_and_to_its_base() {
        for unit in Unit::ALL {
            assert_eq!(unit.code().parse::<Unit>().unwrap(), unit);
            let base = unit.dimension().base();
            let there = convert(Decimal::ONE, unit, base, None, "X").unwrap();
            assert_eq!(there, round_quantity(unit.in_base()), "{unit}");
        }
        assert_eq!("m³".parse::<Unit>().unwrap(), Unit::CubicMetre);
        assert_eq!("Litres".parse::<Unit>().unwrap(), Unit::Litre);
    }

    /// Hand-computed conversions between every pair of units in each dimension.
    #[test]
    fn conversions_match_hand_computed_values() {
        let cases = [
            ("2.5", Unit::Tonne, Unit::Kilogram, "2500"),
            ("1", Unit::Gram, Unit::Tonne, "0.000001"),
            ("1", Unit::Pound, Unit::Kilogram, "0.453592"),
            ("1", Unit::Kilogram, Unit::Pound, "2.204623"),
            ("16", Unit::Ounce, Unit::Pound, "1"),
            ("1", Unit::Tonne, Unit::Pound, "2204.622622"),
            ("750", Unit::Litre, Unit::CubicMetre, "0.75"),
            ("1", Unit::Gallon, Unit::Litre, "3.785412"),
            ("1", Unit::CubicYard, Unit::CubicFoot, "27"),
            ("1", Unit::CubicMetre, Unit::CubicFoot, "35.314667"),
            ("1", Unit::CubicMetre, Unit::CubicYard, "1.307951"),
            ("1000", Unit::Millilitre, Unit::Litre, "1"),
            ("12", Unit::Inch, Unit::Foot, "1"),
            ("3", Unit::Foot, Unit::Yard, "1"),
            ("1", Unit::Metre, Unit::Inch, "39.370079"),
            ("1", Unit::Yard, Unit::Millimetre, "914.4"),
            ("250", Unit::Centimetre, Unit::Metre, "2.5"),
            ("1", Unit::SquareMetre, Unit::SquareFoot, "10.76391"),
            ("9", Unit::SquareFoot, Unit::SquareMetre, "0.836127"),
        ];
        for (value, from, to, want) in cases {
            assert_eq!(
                convert(q(value), from, to, None, "X").unwrap(),
                q(want),
                "{value} {from} → {to}"
            );
        }
    }

    /// Every pair of units of each dimension, against factors derived here
    /// from the definitions (1 in = 2.54 cm, 1 ft = 12 in, 1 yd = 3 ft,
    /// 1 lb = 453.59237 g, 1 oz = 1/16 lb, 1 US gal = 231 in³), not copied
    /// from the table the code uses.
    #[test]
    fn every_pair_of_units_converts_by_the_definitions() {
        let inch = q("0.0254");
        let foot = inch * q("12");
        let yard = foot * q("3");
        let pound = q("0.45359237");
        let derived: [(Unit, Decimal); 20] = [
            (Unit::Gram, q("1") / q("1000")),
            (Unit::Kilogram, q("1")),
            (Unit::Tonne, q("1000")),
            (Unit::Pound, pound),
            (Unit::Ounce, pound / q("16")),
            (Unit::Millilitre, q("1") / q("1000000")),
            (Unit::Litre, q("1") / q("1000")),
            (Unit::CubicMetre, q("1")),
            (Unit::CubicFoot, foot * foot * foot),
            (Unit::CubicYard, yard * yard * yard),
            (Unit::Gallon, q("231") * inch * inch * inch),
            (Unit::Millimetre, q("1") / q("1000")),
            (Unit::Centimetre, q("1") / q("100")),
            (Unit::Metre, q("1")),
            (Unit::Inch, inch),
            (Unit::Foot, foot),
            (Unit::Yard, yard),
            (Unit::SquareMetre, q("1")),
            (Unit::SquareFoot, foot * foot),
            (Unit::Piece, q("1")),
        ];
        let mut pairs = 0;
        for (a, fa) in &derived {
            for (b, fb) in &derived {
                if a.dimension() != b.dimension() {
                    // No bridge given: every cross-dimension conversion refuses.
                    assert!(convert(q("1"), *a, *b, None, "X").is_err(), "{a} → {b}");
                    continue;
                }
                for value in ["1", "2.5", "1000"] {
                    let want = round_quantity(q(value) * fa / fb);
                    let got = convert(q(value), *a, *b, None, "X").unwrap();
                    assert_eq!(got, want, "{value} {a} → {b}");
                }
                pairs += 1;
            }
        }
        // 5² mass + 6² volume + 6² length + 2² area + 1 count.
        assert_eq!(pairs, 25 + 36 + 36 + 4 + 1);
    }

    #[test]
    fn rounding_happens_once_at_the_end_half_away_from_zero() {
        // 1 oz = 0.028349523125 kg: 6 places round the 7th digit (5, then 2…).
        assert_eq!(
            convert(q("1"), Unit::Ounce, Unit::Kilogram, None, "X").unwrap(),
            q("0.02835")
        );
        // Exactly half at the 7th place rounds up.
        assert_eq!(round_quantity(q("0.0000005")), q("0.000001"));
        assert_eq!(round_quantity(q("-0.0000005")), q("-0.000001"));
        assert_eq!(round_quantity(q("0.00000049")), q("0"));
        // Rounding each step would drift; the chain rounds only once: 7 oz in
        // tonnes is 0.000198446661875 t → 0.000198.
        assert_eq!(
            convert(q("7"), Unit::Ounce, Unit::Tonne, None, "X").unwrap(),
            q("0.000198")
        );
    }

    #[test]
    fn mass_and_volume_convert_through_the_density_with_one_rounding() {
        let density = Some(q("1600"));
        assert_eq!(
            convert(q("3"), Unit::CubicMetre, Unit::Tonne, density, "S").unwrap(),
            q("4.8")
        );
        assert_eq!(
            convert(q("4.8"), Unit::Tonne, Unit::CubicMetre, density, "S").unwrap(),
            q("3")
        );
        assert_eq!(
            convert(q("1"), Unit::Kilogram, Unit::CubicMetre, Some(q("3")), "S").unwrap(),
            q("0.333333")
        );
        assert_eq!(
            convert(q("2"), Unit::Kilogram, Unit::CubicMetre, Some(q("3")), "S").unwrap(),
            q("0.666667")
        );
        // 1 yd³ of sand at 1600 kg/m³: 0.764554857984 × 1600 = 1223.2877727744 kg.
        assert_eq!(
            convert(q("1"), Unit::CubicYard, Unit::Kilogram, density, "S").unwrap(),
            q("1223.287773")
        );
    }

    #[test]
    fn the_explanation_shows_each_step() {
        let m = Measures {
            what: "SAND-04",
            stock: Unit::Tonne,
            density_kg_m3: Some(q("1600")),
            mass_per_m_kg: None,
            mass_per_m2_kg: None,
            packs: &[],
        };
        let c = m.convert(q("3"), &name("m3"), &name("t")).unwrap();
        assert_eq!(c.value, q("4.8"));
        assert_eq!(c.explanation, "3 m3 × 1600 kg/m3 = 4800 kg = 4.8 t");
        let same = m.convert(q("2"), &name("t"), &name("t")).unwrap();
        assert_eq!(same.explanation, "2 t");
        let scale = m.convert(q("2500"), &name("kg"), &name("t")).unwrap();
        assert_eq!(scale.explanation, "2500 kg = 2.5 t");
    }

    #[test]
    fn steps_on_the_way_are_rounded_and_the_result_is_exact() {
        let m = Measures {
            what: "SAND-04",
            stock: Unit::Tonne,
            density_kg_m3: Some(q("1600")),
            mass_per_m_kg: None,
            mass_per_m2_kg: None,
            packs: &[],
        };
        let c = m.convert(q("3"), &name("yd3"), &name("t")).unwrap();
        assert_eq!(c.value, q("3.669863"));
        assert_eq!(
            c.explanation,
            "3 yd3 ≈ 2.294 m3 × 1600 kg/m3 ≈ 3669.863 kg = 3.669863 t"
        );
        let back = m.convert(q("1"), &name("t"), &name("yd3")).unwrap();
        assert_eq!(back.value, q("0.817469"));
        assert_eq!(
            back.explanation,
            "1 t = 1000 kg ÷ 1600 kg/m3 = 0.625 m3 = 0.817469 yd3"
        );
        let small = m.convert(q("1"), &name("g"), &name("ml")).unwrap();
        assert_eq!(
            small.explanation,
            "1 g = 0.001 kg ÷ 1600 kg/m3 = 0.000000625 m3 = 0.625 ml"
        );
        let third = m.convert(q("1"), &name("g"), &name("l")).unwrap();
        assert_eq!(third.value, q("0.000625"));
        let tiny = Measures {
            density_kg_m3: Some(q("3000")),
            ..m
        };
        assert_eq!(
            tiny.convert(q("1"), &name("g"), &name("l"))
                .unwrap()
                .explanation,
            "1 g = 0.001 kg ÷ 3000 kg/m3 ≈ 0.000000333 m3 = 0.000333 l"
        );
    }

    #[test]
    fn packs_unfold_into_their_units() {
        let packs = [pack("bag", "25", "kg"), pack("pallet", "40", "bag")];
        let m = cement(&packs);
        let c = m.convert(q("2"), &name("pallet"), &name("kg")).unwrap();
        assert_eq!(c.value, q("2000"));
        assert_eq!(
            c.explanation,
            "2 pallet × 40 bag/pallet = 80 bag × 25 kg/bag = 2000 kg"
        );
        assert_eq!(
            m.convert(q("1"), &name("t"), &name("bag")).unwrap().value,
            q("40")
        );
        assert_eq!(
            m.convert(q("60"), &name("bag"), &name("pallet"))
                .unwrap()
                .value,
            q("1.5")
        );
    }

    #[test]
    fn length_and_area_goods_convert_through_their_mass_per_unit() {
        let rebar = Measures {
            what: "RB-12",
            stock: Unit::Metre,
            density_kg_m3: None,
            mass_per_m_kg: Some(q("0.888")),
            mass_per_m2_kg: None,
            packs: &[],
        };
        assert_eq!(
            rebar.convert(q("1"), &name("t"), &name("m")).unwrap().value,
            q("1126.126126")
        );
        assert_eq!(
            rebar
                .convert(q("100"), &name("m"), &name("kg"))
                .unwrap()
                .value,
            q("88.8")
        );
        let sheet = Measures {
            mass_per_m2_kg: Some(q("12.5")),
            mass_per_m_kg: None,
            ..rebar
        };
        assert_eq!(
            sheet
                .convert(q("4"), &name("m2"), &name("kg"))
                .unwrap()
                .value,
            q("50")
        );
    }

    #[test]
    fn impossible_conversions_say_why() {
        let err = convert(q("3"), Unit::CubicMetre, Unit::Kilogram, None, "SAND-04").unwrap_err();
        assert_eq!(err.0, "SAND-04 has no density: cannot convert m3 to kg");
        let err = convert(q("3"), Unit::Metre, Unit::Kilogram, None, "RB-12").unwrap_err();
        assert!(err.0.contains("mass per metre"), "{err}");
        let err = convert(q("3"), Unit::Piece, Unit::Kilogram, None, "X").unwrap_err();
        assert!(err.0.contains("pieces"), "{err}");
        let err = cement(&[])
            .convert(q("1"), &name("bag"), &name("kg"))
            .unwrap_err();
        assert!(err.0.contains("no unit or pack \"bag\""), "{err}");
    }

    #[test]
    fn pack_definitions_are_checked() {
        assert!(cement(&[pack("bag", "25", "kg")]).check_packs().is_ok());
        assert!(
            cement(&[pack("bag", "25", "kg"), pack("bag", "20", "kg")])
                .check_packs()
                .is_err()
        );
        assert!(cement(&[pack("kg", "25", "kg")]).check_packs().is_err());
        assert!(
            cement(&[pack("a", "2", "b"), pack("b", "2", "a")])
                .check_packs()
                .is_err()
        );
        assert!(cement(&[pack("bag", "0", "kg")]).check_packs().is_err());
    }

    #[test]
    fn amounts_parse_with_their_unit_and_commas_are_refused() {
        assert_eq!(
            parse_amount("2.5 t").unwrap(),
            (Quantity::parse("2.5").unwrap(), name("t"))
        );
        assert_eq!(
            parse_amount("2.5t").unwrap(),
            (Quantity::parse("2.5").unwrap(), name("t"))
        );
        assert_eq!(parse_amount("40 bag").unwrap().1, name("bag"));
        assert_eq!(parse_amount("3 m³").unwrap().1, name("m3"));
        assert!(parse_amount("2,5t").unwrap_err().0.contains("dot"));
        assert!(parse_amount("t").is_err());
        assert!(parse_amount("3 m^3").is_err());
    }

    #[test]
    fn quantities_are_exact_and_bounded() {
        assert_eq!(Quantity::parse("12.50").unwrap().to_string(), "12.5");
        assert_eq!(Quantity::parse("-3").unwrap().to_string(), "-3");
        assert!(Quantity::parse("0.0000001").is_err());
        assert!(Quantity::parse("1e3").is_err());
        assert!(Quantity::parse("1000000000000").is_err());
    }
}
