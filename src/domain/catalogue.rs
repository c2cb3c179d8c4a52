//! The catalogue: what a product is, which values each field accepts, and how a
//! product changes. Staff-only fields (`cost`, `notes`) never reach a
//! [`PublicProduct`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::InvalidValue;
use super::locations::LocationCode;
use super::rules::{Rule, pattern_schema};
use super::text::{parse_decimal, parse_text};
use super::units::{Converted, Dimension, Measures, Pack, Quantity, Unit, UnitName};
use super::values::{Money, PriceBreak, Sku, TaxClass, string_type};

string_type!(
    /// A product name, 1–200 characters on one line.
    ProductName,
    "Washed sand 0-4 mm",
    Rule::Text {
        what: "name",
        min: 1,
        max: 200,
        multiline: false
    }
);

string_type!(
    /// A brand or maker, 1–80 characters on one line.
    Brand,
    "Acme Pro",
    Rule::Text {
        what: "brand",
        min: 1,
        max: 80,
        multiline: false
    }
);

string_type!(
    /// Free text of up to 10,000 characters (descriptions, notes).
    LongText,
    "",
    Rule::Text {
        what: "text",
        min: 0,
        max: 10_000,
        multiline: true
    }
);

#[allow(clippy::derivable_impls)] // `string_type!` declares the struct
impl Default for LongText {
    fn default() -> Self {
        Self(String::new())
    }
}

string_type!(
    /// A barcode (EAN, UPC, Code 128…): 1–64 printable ASCII characters, no spaces.
    Barcode,
    "4006381333931",
    Rule::Own {
        pattern: r"^\s*[!-~]{1,64}\s*$",
        exact: true,
        parse: |raw| {
            let code = raw.trim();
            if code.is_empty() || code.len() > 64 {
                return Err(InvalidValue::new("barcode must be 1 to 64 characters"));
            }
            if !code.chars().all(|c| c.is_ascii_graphic()) {
                return Err(InvalidValue::new(
                    "barcode may contain only printable ASCII characters without spaces",
                ));
            }
            Ok(code.to_owned())
        }
    }
);

string_type!(
    /// A category path such as `Aggregates/Sand`: up to 8 segments of 1–64
    /// characters separated by `/`, each trimmed.
    CategoryPath,
    "Aggregates/Sand",
    Rule::Own {
        pattern: concat!(
            r"^\s*[^\s/\x00-\x1f\x7f-\x9f](?:[^/\x00-\x1f\x7f-\x9f]{0,62}[^\s/\x00-\x1f\x7f-\x9f])?\s*",
            r"(?:/\s*[^\s/\x00-\x1f\x7f-\x9f](?:[^/\x00-\x1f\x7f-\x9f]{0,62}[^\s/\x00-\x1f\x7f-\x9f])?\s*){0,7}$"
        ),
        exact: true,
        parse: |raw| {
            let segments: Vec<&str> = raw.split('/').map(str::trim).collect();
            if segments.len() > 8 {
                return Err(InvalidValue::new("category may have at most 8 levels"));
            }
            for segment in &segments {
                parse_text(segment, "each category level", 1, 64, false)?;
            }
            Ok(segments.join("/"))
        }
    }
);

impl CategoryPath {
    /// The lower-cased form used to match category filters.
    pub fn match_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// Up to 20 distinct tags, each 1–32 characters, kept lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Tags(Vec<String>);

impl utoipa::PartialSchema for Tags {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        // No `maxItems`: the 20 are counted once repeated tags are merged.
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(Tags::TAG.schema("A tag, 1–32 characters (kept lower-case).", "washed"))
            .description(Some(
                "Up to 20 distinct tags (repeats, in any case, are merged).",
            ))
            .examples([serde_json::json!(["washed", "concrete"])])
            .into()
    }
}

impl utoipa::ToSchema for Tags {}

impl Tags {
    /// The rule of each tag.
    pub const TAG: Rule = Rule::Text {
        what: "each tag",
        min: 1,
        max: 32,
        multiline: false,
    };

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl TryFrom<Vec<String>> for Tags {
    type Error = InvalidValue;
    fn try_from(raw: Vec<String>) -> Result<Self, Self::Error> {
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        for tag in raw {
            let tag = Self::TAG.parse(&tag)?.to_lowercase();
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > 20 {
            return Err(InvalidValue::new("at most 20 tags are allowed"));
        }
        Ok(Self(tags))
    }
}

impl From<Tags> for Vec<String> {
    fn from(tags: Tags) -> Self {
        tags.0
    }
}

/// Up to 50 attributes (`grain_size: 0-4 mm`): keys 1–64 characters, values up
/// to 256, both trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Attributes(BTreeMap<String, String>);

impl utoipa::PartialSchema for Attributes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let key = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(Attributes::KEY.pattern()));
        let value = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(Attributes::VALUE.pattern()));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(key))
            .additional_properties(Some(value))
            .max_properties(Some(Attributes::MAX))
            .description(Some(
                "Up to 50 attributes: names 1–64 characters, values up to 256, both trimmed.",
            ))
            .examples([serde_json::json!({"grain_size": "0-4 mm"})])
            .into()
    }
}

impl utoipa::ToSchema for Attributes {}

impl Attributes {
    pub const MAX: usize = 50;
    /// The rule of an attribute's name.
    pub const KEY: Rule = Rule::Text {
        what: "an attribute name",
        min: 1,
        max: 64,
        multiline: false,
    };
    /// The rule of an attribute's value.
    pub const VALUE: Rule = Rule::Text {
        what: "an attribute value",
        min: 0,
        max: 256,
        multiline: false,
    };

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl TryFrom<BTreeMap<String, String>> for Attributes {
    type Error = InvalidValue;
    fn try_from(raw: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        if raw.len() > Self::MAX {
            return Err(InvalidValue::new("at most 50 attributes are allowed"));
        }
        let mut attributes = BTreeMap::new();
        for (key, value) in raw {
            let key = Self::KEY.parse(&key)?;
            let value = Self::VALUE.parse_as(&value, &format!("attribute {key:?}"))?;
            attributes.insert(key, value);
        }
        Ok(Self(attributes))
    }
}

impl From<Attributes> for BTreeMap<String, String> {
    fn from(attributes: Attributes) -> Self {
        attributes.0
    }
}

/// The schema of a product's `reorder_points`: levels keyed by location code.
pub struct ReorderPoints;

impl utoipa::PartialSchema for ReorderPoints {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(LocationCode::RULE.pattern())),
            ))
            .additional_properties(Some(utoipa::openapi::Ref::from_schema_name("Quantity")))
            .description(Some(
                "Reorder points of single locations: location code → level.",
            ))
            .examples([serde_json::json!({"YARD": "20"})])
            .into()
    }
}

impl utoipa::ToSchema for ReorderPoints {}

/// A density in kg/m³: positive, at most 6 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Density(Decimal);

pattern_schema!(
    Density,
    decimal_schema,
    Density::pattern(),
    "A density in kg/m³ as a decimal string: above 0, at most 100000, at most 6 decimal places.",
    "1600"
);

impl Density {
    /// What [`Density::parse`] accepts: above 0, at most 100000, at most 6
    /// decimal places.
    pub fn pattern() -> String {
        let below_one = super::rules::fraction_above_zero(6);
        format!(
            r"^\s*(?:0*[1-9][0-9]{{0,4}}(?:\.[0-9]{{1,6}})?|0*100000(?:\.0{{1,6}})?|{below_one})\s*$"
        )
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let value = parse_decimal(raw, "density", 6)?;
        if value <= Decimal::ZERO {
            return Err(InvalidValue::new("density must be greater than zero"));
        }
        if value > Decimal::from(100_000) {
            return Err(InvalidValue::new("density must be at most 100000 kg/m3"));
        }
        Ok(Self(value))
    }

    pub fn kg_per_m3(self) -> Decimal {
        self.0
    }
}

impl TryFrom<String> for Density {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Density> for String {
    fn from(density: Density) -> Self {
        density.0.to_string()
    }
}

/// Declares every field of a product once, and from that list: [`Product`]
/// (stored, and what signed-in callers see), [`PublicProduct`] (what anyone
/// sees: the `public` fields), [`ProductInput`] (the body of POST and PUT),
/// [`ProductPatch`] (the body of PATCH), [`Product::FIELDS`] (the CSV columns)
/// and the code that copies fields between them. A new field is one line here
/// (plus its rule in [`Product::check`], if it has one).
///
/// Each field: its doc, `public` or `staff`, its name and type; `stored`
/// attributes go on the stored product and the input (a field added later
/// needs `#[serde(default)]` so older records still read); `patch`
/// attributes go on the patch's field, whose type is `Option<type>` (so an
/// optional field's patch is `Option<Option<_>>`: absent, `null`, or a value).
macro_rules! product_fields {
    ($(
        $(#[doc = $doc:literal])*
        $seen:ident $field:ident: $ty:ty
            $(, stored $(#[$stored:meta])+)?
            $(, patch $(#[$patch:meta])+)?
        ;
    )*) => {
        /// A product as stored and as staff see it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct Product {
            pub sku: Sku,
            $(
                $(#[doc = $doc])*
                $($(#[$stored])+)?
                // Always in the answer: a product without its staff fields
                // is a `PublicProduct`, never also a `Product`.
                #[schema(required = true)]
                pub $field: $ty,
            )*
            #[schema(value_type = String, format = DateTime)]
            pub created_at: Timestamp,
            #[schema(value_type = String, format = DateTime)]
            pub updated_at: Timestamp,
            /// Increases by one with every change; the `ETag` of the product.
            pub version: u64,
            /// Photos, the main one first (`/products/{sku}/images`).
            #[serde(default)]
            #[schema(required = true)]
            pub images: Vec<crate::domain::images::ProductImage>,
        }

        /// The body of `POST /products` and `PUT /products/{sku}`: every
        /// editable field. `sku` is required to create and, when given to
        /// replace, must match the path.
        #[derive(Debug, Clone, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct ProductInput {
            pub sku: Option<Sku>,
            $(
                $(#[doc = $doc])*
                $($(#[$stored])+)?
                pub $field: $ty,
            )*
        }

        /// The body of `PATCH /products/{sku}`: only the fields present
        /// change; `null` clears an optional field.
        #[derive(Debug, Clone, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        #[allow(clippy::option_option)] // absent / null / value are three different requests
        pub struct ProductPatch {
            $(
                $(#[doc = $doc])*
                $($(#[$patch])+)?
                pub $field: Option<$ty>,
            )*
        }

        impl Product {
            /// The product's fields in order, `sku` first: the columns of
            /// product CSV files.
            pub const FIELDS: &[&str] = &["sku", $(stringify!($field)),*];

            /// A new product, version 1.
            pub fn create(sku: Sku, input: ProductInput, now: Timestamp) -> Self {
                Self {
                    sku,
                    $($field: input.$field,)*
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    images: Vec::new(),
                }
            }

            /// This product with the patch applied, or `None` when nothing
            /// would change.
            pub fn patched(&self, patch: ProductPatch, now: Timestamp) -> Option<Self> {
                let mut next = self.clone();
                $(set(&mut next.$field, patch.$field);)*
                self.bumped(next, now)
            }
        }

        public_product!(@fields [] [] $($seen $(#[doc = $doc])* $field: $ty;)*);
    };
}

/// [`PublicProduct`] from the `public` fields of [`product_fields!`].
macro_rules! public_product {
    (@fields [$($out:tt)*] [$($names:ident)*] public $(#[doc = $doc:literal])* $field:ident: $ty:ty; $($rest:tt)*) => {
        public_product!(@fields [$($out)* $(#[doc = $doc])* pub $field: $ty,] [$($names)* $field] $($rest)*);
    };
    (@fields [$($out:tt)*] [$($names:ident)*] staff $(#[doc = $doc:literal])* $field:ident: $ty:ty; $($rest:tt)*) => {
        public_product!(@fields [$($out)*] [$($names)*] $($rest)*);
    };
    (@fields [$($out:tt)*] [$($names:ident)*]) => {
        /// A product as anyone may see it: no cost, no internal notes, no
        /// reorder points.
        #[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
        // Documented as closed (`additionalProperties: false`), so a staff
        // view can never also pass for this one.
        #[serde(deny_unknown_fields)]
        pub struct PublicProduct {
            pub sku: Sku,
            $($out)*
            #[schema(value_type = String, format = DateTime)]
            pub created_at: Timestamp,
            #[schema(value_type = String, format = DateTime)]
            pub updated_at: Timestamp,
            pub version: u64,
            /// Photos, the main one first.
            pub images: Vec<crate::domain::images::ProductImage>,
        }

        impl From<&Product> for PublicProduct {
            #[allow(clippy::clone_on_copy)] // one line for every field, Copy or not
            fn from(p: &Product) -> Self {
                Self {
                    sku: p.sku.clone(),
                    $($names: p.$names.clone(),)*
                    created_at: p.created_at,
                    updated_at: p.updated_at,
                    version: p.version,
                    images: p.images.clone(),
                }
            }
        }
    };
}

product_fields! {
    public name: ProductName;
    /// The brand or maker, searched between the name and the category and
    /// counted as a facet.
    public brand: Option<Brand>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Brand>)];
    public description: LongText, stored #[serde(default)];
    public category: CategoryPath;
    public tags: Tags, stored #[serde(default)];
    public attributes: Attributes, stored #[serde(default)];
    /// The stock unit: what every quantity of its ledger is in. Fixed once
    /// the product has a movement.
    public unit: Unit;
    public density_kg_m3: Option<Density>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Density>)];
    public barcode: Option<Barcode>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Barcode>)];
    /// Price per pricing unit, in the shop's currency.
    public price: Money;
    /// Staff only: what a unit costs the shop.
    staff cost: Option<Money>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Money>)];
    /// Staff only: internal notes.
    staff notes: LongText, stored #[serde(default)];
    /// Whether the shop offers it (archived products are inactive).
    public active: bool, stored #[serde(default = "yes")];
    /// Whether it may be shipped or reserved beyond what is available.
    public allow_backorder: bool, stored #[serde(default)];
    /// For a product stocked in pieces (`pc`): whether it takes fractions of
    /// a piece. Without it every quantity booked, estimated or quoted must
    /// come to a whole number of pieces.
    public fractional_count: bool, stored #[serde(default)];
    /// The unit `price` and `price_breaks` are per: a unit or one of the
    /// packs (default: the stock unit).
    public pricing_unit: Option<UnitName>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<UnitName>)];
    /// Lower prices from a quantity on (in the pricing unit).
    public price_breaks: Vec<PriceBreak>, stored #[serde(default)];
    /// Packs the product comes in: `bag = 25 kg`, `pallet = 40 bag`.
    public packs: Vec<Pack>, stored #[serde(default)];
    /// The least that may be ordered, in the pricing unit.
    public min_order: Option<Quantity>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Quantity>)];
    /// A pack the product is only sold whole in: orders are rounded up to it.
    public sell_in_whole: Option<UnitName>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<UnitName>)];
    public tax_class: TaxClass, stored #[serde(default)];
    /// For length goods (rebar): kg per metre, to sell by weight.
    public mass_per_m_kg: Option<Density>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Density>)];
    /// For area goods (sheet): kg per square metre.
    public mass_per_m2_kg: Option<Density>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Density>)];
    /// Staff only: below this total available, the product is reported low.
    staff reorder_point: Option<Quantity>,
        stored #[serde(default)],
        patch #[serde(default, deserialize_with = "present")] #[schema(value_type = Option<Quantity>)];
    /// Staff only: reorder points of single locations.
    staff reorder_points: BTreeMap<LocationCode, Quantity>,
        stored #[serde(default)] #[schema(value_type = ReorderPoints)],
        patch #[schema(value_type = Option<ReorderPoints>)];
}

fn yes() -> bool {
    true
}

/// Why a quantity of a product cannot be taken: the field at fault
/// (`quantity`, or `unit` when it cannot be converted) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError {
    pub field: &'static str,
    pub reason: String,
}

/// Tells a field that is present (even as `null`) from one that is absent.
#[allow(clippy::option_option)] // absent / null / value are three different requests
pub(crate) fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl Product {
    /// The unit the product is priced per.
    pub fn pricing_unit(&self) -> UnitName {
        self.pricing_unit
            .clone()
            .unwrap_or_else(|| UnitName::from(self.unit))
    }

    /// Whether every quantity of the product must come to a whole number of
    /// its stock unit: stocked in a count unit (`pc`) and not
    /// `fractional_count`.
    pub fn counts_whole(&self) -> bool {
        self.unit.dimension() == Dimension::Count && !self.fractional_count
    }

    /// `value` `unit` of the product in its stock unit, if the product can
    /// hold that quantity: the one rule for every quantity booked, estimated,
    /// quoted or imported. Refused are a quantity that rounds to nothing in
    /// the stock unit, and — for a product counted whole — one that does not
    /// come to a whole number of pieces (`0.05 box` of `box = 10 pc`).
    pub fn stock_quantity(
        &self,
        value: Decimal,
        unit: &UnitName,
    ) -> Result<Converted, QuantityError> {
        let stock = UnitName::from(self.unit);
        let converted =
            self.measures()
                .convert(value, unit, &stock)
                .map_err(|e| QuantityError {
                    field: "unit",
                    reason: e.0,
                })?;
        let refuse = |reason: String| {
            Err(QuantityError {
                field: "quantity",
                reason,
            })
        };
        let x = converted.value.normalize();
        if !value.is_zero() && x.is_zero() {
            return refuse(format!(
                "{} {unit} is too small: it comes to less than 0.000001 {stock}, the least \
                 of {} that can be recorded",
                value.normalize(),
                self.sku
            ));
        }
        if self.counts_whole() && !x.fract().is_zero() {
            let asked = if *unit == stock {
                format!("{x} {stock} is not a whole number")
            } else {
                format!("{} {unit} is {x} {stock}", value.normalize())
            };
            return refuse(format!(
                "{} is counted in whole pieces ({stock}): {asked}; ask for a quantity that \
                 comes to whole pieces, such as {}",
                self.sku,
                self.whole_near(x, unit)
            ));
        }
        Ok(converted)
    }

    /// The whole numbers of pieces on either side of `x` (never zero), each
    /// also in `unit` when that is not the stock unit: `2 or 3 pc`,
    /// `1 pc (0.1 box)`.
    fn whole_near(&self, x: Decimal, unit: &UnitName) -> String {
        let stock = UnitName::from(self.unit);
        let toward = x.trunc();
        let away = if x.is_sign_negative() {
            toward - Decimal::ONE
        } else {
            toward + Decimal::ONE
        };
        [toward, away]
            .into_iter()
            .filter(|n| !n.is_zero())
            .map(|n| {
                let again = (*unit != stock)
                    .then(|| self.measures().convert(n, &stock, unit).ok())
                    .flatten();
                match again {
                    Some(c) => format!("{n} {stock} ({} {unit})", c.value.normalize()),
                    None => format!("{n} {stock}"),
                }
            })
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// `quantity` (in the stock unit) in the pack people count this product
    /// in: the pack it is sold whole in, else the pack it is priced per, else
    /// its first pack; `None` without packs. Rounded to two decimals.
    pub fn in_packs(&self, quantity: Decimal) -> Option<(UnitName, Decimal)> {
        let is_pack = |name: &&UnitName| self.packs.iter().any(|p| p.name == **name);
        let pack = self
            .sell_in_whole
            .as_ref()
            .filter(is_pack)
            .or(self.pricing_unit.as_ref().filter(is_pack))
            .or(self.packs.first().map(|p| &p.name))?;
        let converted = self
            .measures()
            .convert(quantity, &UnitName::from(self.unit), pack)
            .ok()?;
        Some((pack.clone(), converted.value.round_dp(2).normalize()))
    }

    /// The price per base unit of the product's dimension (kg, m³, m, m² or
    /// piece): what lets a price per tonne be compared with one per kilogram
    /// or per 25 kg bag. `None` if the pricing unit does not convert (a
    /// product whose packs are broken).
    pub fn unit_price(&self) -> Option<(Decimal, Unit)> {
        let base = self.unit.dimension().base();
        let per = self
            .measures()
            .convert(Decimal::ONE, &self.pricing_unit(), &UnitName::from(base))
            .ok()?
            .value;
        if per.is_zero() {
            return None;
        }
        Some((self.price.value().checked_div(per)?, base))
    }

    /// The product's units, packs and conversion factors.
    pub fn measures(&self) -> Measures<'_> {
        Measures {
            what: self.sku.as_str(),
            stock: self.unit,
            density_kg_m3: self.density_kg_m3.map(Density::kg_per_m3),
            mass_per_m_kg: self.mass_per_m_kg.map(Density::kg_per_m3),
            mass_per_m2_kg: self.mass_per_m2_kg.map(Density::kg_per_m3),
            packs: &self.packs,
        }
    }

    /// Checks the rules that tie fields together; the field and the reason
    /// when one is broken.
    pub fn check(&self) -> Result<(), (String, String)> {
        let measures = self.measures();
        measures
            .check_packs()
            .map_err(|(i, reason)| (format!("packs[{i}]"), reason))?;
        let stock = UnitName::from(self.unit);
        let pricing = self.pricing_unit();
        measures
            .convert(Decimal::ONE, &pricing, &stock)
            .map_err(|e| ("pricing_unit".to_owned(), e.0))?;
        if self.counts_whole() {
            // Every quantity must come to whole pieces, so every pack must hold whole pieces.
            for (i, pack) in self.packs.iter().enumerate() {
                if let Ok((Dimension::Count, size)) = measures.resolve(&pack.name)
                    && !size.fract().is_zero()
                {
                    return Err((
                        format!("packs[{i}].quantity"),
                        format!(
                            "\"{}\" holds {} {stock}, and {} is counted in whole pieces: make \
                             the pack hold whole pieces, or set `fractional_count` to take \
                             fractions of a piece",
                            pack.name,
                            size.normalize(),
                            self.sku
                        ),
                    ));
                }
            }
        }
        if let Some(pack) = &self.sell_in_whole
            && !self.packs.iter().any(|p| p.name == *pack)
        {
            return Err((
                "sell_in_whole".into(),
                format!("\"{pack}\" is not one of the product's packs"),
            ));
        }
        for (i, b) in self.price_breaks.iter().enumerate() {
            if !b.min_quantity.is_positive() {
                return Err((
                    format!("price_breaks[{i}].min_quantity"),
                    "must be greater than zero".into(),
                ));
            }
            if i > 0 && b.min_quantity <= self.price_breaks[i - 1].min_quantity {
                return Err((
                    format!("price_breaks[{i}].min_quantity"),
                    "breaks must be in increasing order of quantity".into(),
                ));
            }
        }
        if self.price_breaks.len() > 20 {
            return Err(("price_breaks".into(), "at most 20 breaks".into()));
        }
        if self.packs.len() > 10 {
            return Err(("packs".into(), "at most 10 packs".into()));
        }
        if self.min_order.is_some_and(|m| !m.is_positive()) {
            return Err(("min_order".into(), "must be greater than zero".into()));
        }
        if self
            .reorder_point
            .is_some_and(|r| r.value() < Decimal::ZERO)
        {
            return Err(("reorder_point".into(), "must not be negative".into()));
        }
        if let Some((code, _)) = self
            .reorder_points
            .iter()
            .find(|(_, r)| r.value() < Decimal::ZERO)
        {
            return Err((
                format!("reorder_points.{code}"),
                "must not be negative".into(),
            ));
        }
        Ok(())
    }

    /// The reorder point of one location: its own, else the product's.
    pub fn reorder_point_at(&self, location: &LocationCode) -> Option<Quantity> {
        self.reorder_points
            .get(location)
            .copied()
            .or(self.reorder_point)
    }

    /// This product with every editable field replaced, or `None` when nothing
    /// would change (so nothing is written and the version stays).
    pub fn replaced(&self, input: ProductInput, now: Timestamp) -> Option<Self> {
        let mut next = Self::create(self.sku.clone(), input, self.created_at);
        next.version = self.version;
        next.updated_at = self.updated_at;
        // Photos are not among the editable fields: they stay.
        next.images.clone_from(&self.images);
        self.bumped(next, now)
    }

    /// This product archived (`active = false`), or `None` if it already is.
    pub fn archived(&self, now: Timestamp) -> Option<Self> {
        let mut next = self.clone();
        next.active = false;
        self.bumped(next, now)
    }

    fn bumped(&self, mut next: Self, now: Timestamp) -> Option<Self> {
        if next == *self {
            return None;
        }
        next.version = self.version + 1;
        next.updated_at = now.max(self.updated_at);
        Some(next)
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> Result<ProductInput, serde_json::Error> {
        serde_json::from_value(json)
    }

    fn sand() -> Product {
        let input = input(serde_json::json!({
            "sku": "sand-04", "name": " Washed sand 0-4 ", "category": "Aggregates / Sand",
            "tags": ["Washed", "washed", "concrete"], "unit": "t", "price": "38",
            "cost": "21.5", "notes": "supplier: Pit 3"
        }))
        .unwrap();
        let sku = input.sku.clone().unwrap();
        Product::create(sku, input, Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn input_is_normalised_when_parsed() {
        let p = sand();
        assert_eq!(p.sku.as_str(), "SAND-04");
        assert_eq!(p.name.as_str(), "Washed sand 0-4");
        assert_eq!(p.category.as_str(), "Aggregates/Sand");
        assert_eq!(p.tags.iter().collect::<Vec<_>>(), ["washed", "concrete"]);
        assert_eq!(String::from(p.price), "38.00");
        assert!(p.active);
        assert_eq!(p.version, 1);
    }

    #[test]
    fn bad_values_are_refused_with_their_reason() {
        let err = input(serde_json::json!({
            "sku": "A", "name": "x", "category": "C", "unit": "t", "price": "-1"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("must not be negative"), "{err}");
        let err = input(serde_json::json!({
            "sku": "A", "name": "x", "category": "C", "unit": "t", "price": 1.5
        }))
        .unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let err = input(serde_json::json!({
            "sku": "A", "name": "x", "category": "C//D", "unit": "t", "price": "1"
        }))
        .unwrap_err();
        assert!(err.to_string().contains("category level"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = input(serde_json::json!({
            "sku": "A", "name": "x", "category": "C", "unit": "t", "price": "1", "version": 7
        }))
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `version`"), "{err}");
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_bumps_the_version() {
        let p = sand();
        let later = Timestamp::from_second(60).unwrap();
        let patch: ProductPatch =
            serde_json::from_value(serde_json::json!({"price": "40.5", "cost": null})).unwrap();
        let next = p.patched(patch, later).unwrap();
        assert_eq!(String::from(next.price), "40.50");
        assert_eq!(next.cost, None);
        assert_eq!(next.name, p.name);
        assert_eq!(next.version, 2);
        assert_eq!(next.updated_at, later);
        assert_eq!(next.created_at, p.created_at);
    }

    #[test]
    fn a_change_that_changes_nothing_is_no_change() {
        let p = sand();
        let patch: ProductPatch =
            serde_json::from_value(serde_json::json!({"price": "38.00"})).unwrap();
        assert!(p.patched(patch, Timestamp::now()).is_none());
        assert!(p.archived(Timestamp::now()).is_some());
        let archived = p.archived(Timestamp::now()).unwrap();
        assert!(archived.archived(Timestamp::now()).is_none());
    }

    /// Bolts counted in pieces, boxed by ten, with `extra` fields: for the
    /// tests of every module that takes a product's quantities.
    pub(crate) fn bolts(extra: serde_json::Value) -> Product {
        let mut json = serde_json::json!({
            "sku": "BOLT-10", "name": "Bolt M10", "category": "Fixings", "unit": "pc",
            "price": "0.40", "packs": [{"name": "box", "quantity": "10", "unit": "pc"}],
        });
        let serde_json::Value::Object(extra) = extra else {
            panic!("extra fields are an object")
        };
        for (k, v) in extra {
            json[k] = v;
        }
        let input = input(json).unwrap();
        Product::create(input.sku.clone().unwrap(), input, Timestamp::UNIX_EPOCH)
    }

    fn qty(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn name(s: &str) -> UnitName {
        UnitName::parse(s).unwrap()
    }

    /// Hardening item 7: `pc` took 0.5 and 0.000001.
    #[test]
    fn a_product_stocked_in_pieces_takes_only_quantities_that_come_to_whole_pieces() {
        let p = bolts(serde_json::json!({}));
        assert!(p.counts_whole());
        for bad in ["0.5", "0.000001", "2.5", "-0.5"] {
            let err = p.stock_quantity(qty(bad), &name("pc")).unwrap_err();
            assert_eq!(err.field, "quantity", "{bad}");
            assert!(err.reason.contains("whole pieces"), "{bad}: {}", err.reason);
        }
        let err = p.stock_quantity(qty("2.5"), &name("pc")).unwrap_err();
        assert_eq!(
            err.reason,
            "BOLT-10 is counted in whole pieces (pc): 2.5 pc is not a whole number; ask for \
             a quantity that comes to whole pieces, such as 2 pc or 3 pc"
        );
        // A pack: 0.5 box is 5 pc, fine; 0.05 box is half a piece.
        assert_eq!(
            p.stock_quantity(qty("0.5"), &name("box")).unwrap().value,
            qty("5")
        );
        let err = p.stock_quantity(qty("0.05"), &name("box")).unwrap_err();
        assert_eq!(
            err.reason,
            "BOLT-10 is counted in whole pieces (pc): 0.05 box is 0.5 pc; ask for a quantity \
             that comes to whole pieces, such as 1 pc (0.1 box)"
        );
        assert_eq!(
            p.stock_quantity(qty("-3"), &name("pc")).unwrap().value,
            qty("-3")
        );
        assert_eq!(
            p.stock_quantity(Decimal::ZERO, &name("pc")).unwrap().value,
            Decimal::ZERO
        );
        assert_eq!(
            p.stock_quantity(qty("1"), &name("kg")).unwrap_err().field,
            "unit"
        );
    }

    #[test]
    fn a_product_that_says_fractional_count_takes_fractions_of_a_piece() {
        let p = bolts(serde_json::json!({"fractional_count": true}));
        assert!(!p.counts_whole());
        assert_eq!(
            p.stock_quantity(qty("0.5"), &name("pc")).unwrap().value,
            qty("0.5")
        );
        // Other dimensions were never counted whole.
        let sand = sand();
        assert!(!sand.counts_whole());
        assert_eq!(
            sand.stock_quantity(qty("0.5"), &name("t")).unwrap().value,
            qty("0.5")
        );
        let err = sand
            .stock_quantity(qty("0.0000001"), &name("kg"))
            .unwrap_err();
        assert!(err.reason.contains("too small"), "{}", err.reason);
    }

    #[test]
    fn a_pack_of_a_product_counted_whole_must_hold_whole_pieces() {
        let half = serde_json::json!({"packs": [
            {"name": "box", "quantity": "10", "unit": "pc"},
            {"name": "half box", "quantity": "0.55", "unit": "box"},
        ]});
        let (field, reason) = bolts(half.clone()).check().unwrap_err();
        assert_eq!(field, "packs[1].quantity");
        assert!(reason.contains("holds 5.5 pc"), "{reason}");
        assert!(reason.contains("fractional_count"), "{reason}");
        let mut fractional = half;
        fractional["fractional_count"] = serde_json::json!(true);
        assert!(bolts(fractional).check().is_ok());
        let pallet = serde_json::json!({"packs": [
            {"name": "box", "quantity": "10", "unit": "pc"},
            {"name": "pallet", "quantity": "2.5", "unit": "box"},
        ]});
        assert!(bolts(pallet).check().is_ok(), "2.5 box is 25 pc");
    }

    #[test]
    fn a_product_stored_before_fractional_count_reads_as_whole_pieces() {
        let mut stored = serde_json::to_value(bolts(serde_json::json!({}))).unwrap();
        stored.as_object_mut().unwrap().remove("fractional_count");
        let read: Product = serde_json::from_value(stored).unwrap();
        assert!(!read.fractional_count);
        let patch: ProductPatch =
            serde_json::from_value(serde_json::json!({"fractional_count": true})).unwrap();
        assert!(
            read.patched(patch, Timestamp::now())
                .unwrap()
                .fractional_count
        );
    }

    #[test]
    fn the_public_view_has_no_staff_fields() {
        let json = serde_json::to_value(PublicProduct::from(&sand())).unwrap();
        assert!(json.get("cost").is_none());
        assert!(json.get("notes").is_none());
        assert_eq!(json["price"], "38.00");
    }
}
