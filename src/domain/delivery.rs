//! Delivery: the zones a shop delivers to (postcode prefixes, the longest
//! matching prefix wins) and what a delivery costs — loads worked out from
//! the mass of what is ordered, at a price per load and per tonne, never
//! below the zone's minimum.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalogue::Product;
use super::pricing::{Amount, PricedLine, Shop, round_money};
use super::rules::Rule;
use super::units::{Quantity, UnitName, round_quantity};
use super::values::{Money, TaxClass, string_type};

string_type!(
    /// A delivery zone's code, e.g. `TOWN` or `ZONE-B`: 1–16 characters of
    /// `A-Z 0-9 . _ -`, case-insensitive (kept upper-case).
    ZoneCode,
    "TOWN",
    Rule::Code {
        what: "zone code",
        max: 16
    }
);

string_type!(
    /// A delivery zone's name as customers read it, 1–100 characters.
    ZoneName,
    "Town centre",
    Rule::Text {
        what: "name",
        min: 1,
        max: 100,
        multiline: false
    }
);

/// The schema of a postcode prefix as a zone is given it: 1–10 letters and
/// digits, spaces ignored.
pub struct PostcodePrefix;

super::rules::pattern_schema!(
    PostcodePrefix,
    string_schema,
    r"^\s*(?:[A-Za-z0-9]\s*){1,10}$",
    "A postcode prefix: 1–10 letters and digits (`AB1`, `W1A`, `101`); spaces and case are ignored.",
    "AB1"
);

/// Most postcode prefixes one zone lists.
pub const MAX_PREFIXES: usize = 500;
/// Most zones a shop has.
pub const MAX_ZONES: usize = 200;
/// Most loads one delivery is priced for (a larger order is arranged by phone).
pub const MAX_LOADS: u64 = 1000;

/// A zone as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryZone {
    pub code: ZoneCode,
    /// What customers read: `Town centre`.
    pub name: ZoneName,
    /// Postcode prefixes, upper-case without spaces: `AB1` covers `AB1 2CD`.
    pub postcodes: Vec<String>,
    pub per_load: Money,
    pub per_tonne: Money,
    /// The least a delivery to this zone costs.
    pub minimum: Money,
    /// How many tonnes one vehicle carries: the loads an order needs.
    #[schema(value_type = String, example = "10")]
    pub vehicle_capacity_t: Quantity,
    /// The tax class the charge is taxed by.
    pub tax_class: TaxClass,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The body of `POST /delivery-zones` and `PUT /delivery-zones/{code}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneInput {
    /// Taken from the path by `PUT` (which may repeat it).
    pub code: Option<ZoneCode>,
    pub name: ZoneName,
    /// 1 to 500 postcode prefixes (`AB1`, `AB12`, `W1A`), 1–10 letters and
    /// digits each; spaces and case are ignored.
    #[schema(min_items = 1, max_items = 500, value_type = Vec<PostcodePrefix>)]
    pub postcodes: Vec<String>,
    pub per_load: Money,
    /// Default 0.
    pub per_tonne: Option<Money>,
    /// Default 0.
    pub minimum: Option<Money>,
    /// Above 0, at most 1000 tonnes.
    #[schema(value_type = super::units::PositiveQuantity)]
    pub vehicle_capacity_t: Quantity,
    /// Default `standard`.
    pub tax_class: Option<TaxClass>,
}

/// The schema of `POST /delivery-zones`'s body: [`ZoneInput`] with its
/// `code` required (a new zone is named by its body; `PUT` takes the path's).
pub struct NewZoneInput;

impl utoipa::PartialSchema for NewZoneInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut schema = <ZoneInput as utoipa::PartialSchema>::schema();
        if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) =
            &mut schema
        {
            object.required.insert(0, "code".to_owned());
        }
        schema
    }
}

impl utoipa::ToSchema for NewZoneInput {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <ZoneInput as utoipa::ToSchema>::schemas(schemas);
    }
}

/// A postcode as zones compare it: upper-case, without spaces.
pub fn normal_postcode(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

impl ZoneInput {
    /// Checks the input; `(field, reason)` for the first rule it breaks.
    pub fn into_zone(
        self,
        code: ZoneCode,
        now: Timestamp,
        previous: Option<&DeliveryZone>,
    ) -> Result<DeliveryZone, (String, String)> {
        let bad = |field: &str, reason: String| Err((field.to_owned(), reason));
        if self.postcodes.is_empty() || self.postcodes.len() > MAX_PREFIXES {
            return bad(
                "postcodes",
                format!("a zone lists 1 to {MAX_PREFIXES} postcode prefixes"),
            );
        }
        let mut postcodes = Vec::with_capacity(self.postcodes.len());
        for (i, raw) in self.postcodes.iter().enumerate() {
            let prefix = normal_postcode(raw);
            if prefix.is_empty()
                || prefix.chars().count() > 10
                || !prefix.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return bad(
                    &format!("postcodes[{i}]"),
                    format!("{raw:?} is not a postcode prefix: 1–10 letters and digits"),
                );
            }
            if postcodes.contains(&prefix) {
                return bad(
                    &format!("postcodes[{i}]"),
                    format!("{prefix} is listed twice"),
                );
            }
            postcodes.push(prefix);
        }
        let capacity = self.vehicle_capacity_t.value();
        if capacity <= Decimal::ZERO || capacity > Decimal::from(1000) {
            return bad(
                "vehicle_capacity_t",
                "a vehicle carries more than 0 and at most 1000 tonnes".into(),
            );
        }
        Ok(DeliveryZone {
            code,
            name: self.name,
            postcodes,
            per_load: self.per_load,
            per_tonne: self.per_tonne.unwrap_or_default(),
            minimum: self.minimum.unwrap_or_default(),
            vehicle_capacity_t: self.vehicle_capacity_t,
            tax_class: self.tax_class.unwrap_or_default(),
            created_at: previous.map_or(now, |p| p.created_at),
            updated_at: now,
            version: previous.map_or(1, |p| p.version + 1),
        })
    }
}

/// Whether `prefix` (upper-case, no spaces) covers `postcode` (upper-case,
/// single spaces). A postcode written with a space has its district before
/// it: `AB1` covers `AB1 2CD` but not `AB12 3EF` (district 12). Without a
/// space (`10115`), the prefix is a plain prefix.
fn covers(prefix: &str, postcode: &str) -> bool {
    let Some(rest) = postcode.strip_prefix(prefix) else {
        return false;
    };
    let splits_a_number = prefix.ends_with(|c: char| c.is_ascii_digit())
        && rest.starts_with(|c: char| c.is_ascii_digit());
    !(splits_a_number && rest.contains(' '))
}

/// The zone whose prefix covers the most of `postcode`.
pub fn zone_for<'a>(zones: &'a [DeliveryZone], postcode: &str) -> Option<&'a DeliveryZone> {
    let postcode = postcode
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    zones
        .iter()
        .flat_map(|z| z.postcodes.iter().map(move |p| (z, p)))
        .filter(|(_, prefix)| covers(prefix, &postcode))
        .max_by_key(|(_, prefix)| prefix.len())
        .map(|(zone, _)| zone)
}

/// What a quote says of how the goods reach the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryCharge {
    /// `delivery` or `collection`.
    pub method: String,
    /// As the customer typed it (deliveries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<ZoneCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
    /// The mass of the weighed lines, in tonnes.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub tonnes: Decimal,
    pub loads: u64,
    /// Lines whose product has no mass (pieces without a weight): not in
    /// `tonnes`, and named in the explanation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_weighed: Vec<String>,
    /// For people: `6.2 t → 1 load × 85.00 = 85.00 (Zone B)`.
    pub explanation: String,
    pub net: Amount,
    pub tax: Amount,
    pub gross: Amount,
    pub tax_class: TaxClass,
    /// In percent.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_rate: Decimal,
}

/// Why a delivery cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError(pub String);

/// Collection from the shop: no charge.
pub fn collection(shop: &Shop) -> DeliveryCharge {
    let zero = Amount(round_money(Decimal::ZERO, shop.minor_units));
    DeliveryCharge {
        method: "collection".into(),
        postcode: None,
        zone: None,
        zone_name: None,
        tonnes: Decimal::ZERO,
        loads: 0,
        not_weighed: Vec::new(),
        explanation: "collected by the customer".into(),
        net: zero,
        tax: zero,
        gross: zero,
        tax_class: TaxClass::default(),
        tax_rate: Decimal::ZERO,
    }
}

/// Prices delivering `lines` (of `products`, in any order) to `zone`:
/// `loads × per_load + tonnes × per_tonne`, at least the zone's minimum,
/// taxed as the shop's prices are.
pub fn charge(
    zone: &DeliveryZone,
    postcode: &str,
    lines: &[PricedLine],
    products: &[Product],
    shop: &Shop,
) -> Result<DeliveryCharge, DeliveryError> {
    let kg = UnitName::parse("kg").expect("kg is a unit");
    let mut kilograms = Decimal::ZERO;
    let mut not_weighed = Vec::new();
    for line in lines {
        let Some(product) = products.iter().find(|p| p.sku == line.sku) else {
            continue;
        };
        match product
            .measures()
            .convert(line.stock.quantity.value(), &line.stock.unit, &kg)
        {
            Ok(mass) => kilograms += mass.value,
            Err(_) => not_weighed.push(line.sku.to_string()),
        }
    }
    let tonnes = round_quantity(kilograms / Decimal::from(1000));
    let capacity = zone.vehicle_capacity_t.value();
    let loads = (tonnes / capacity).ceil().max(Decimal::ONE);
    let loads = u64::try_from(loads)
        .ok()
        .filter(|n| *n <= MAX_LOADS)
        .ok_or_else(|| {
            DeliveryError(format!(
                "{tonnes} t is more than {MAX_LOADS} loads: call us to arrange the delivery"
            ))
        })?;
    let rate = *shop.tax_rates.get(zone.tax_class.as_str()).ok_or_else(|| {
        DeliveryError(format!(
            "zone {} has tax class {} that the shop does not define",
            zone.code, zone.tax_class
        ))
    })?;
    let minor = shop.minor_units;
    let by_load = round_money(Decimal::from(loads) * zone.per_load.value(), minor);
    let by_mass = round_money(tonnes * zone.per_tonne.value(), minor);
    let worked = by_load + by_mass;
    let minimum = round_money(zone.minimum.value(), minor);
    let amount = worked.max(minimum);
    let mut explanation = format!(
        "{tonnes} t → {loads} {} × {}",
        if loads == 1 { "load" } else { "loads" },
        round_money(zone.per_load.value(), minor)
    );
    if !zone.per_tonne.value().is_zero() {
        explanation += " + ";
        explanation += &tonnes.to_string();
        explanation += " t × ";
        explanation += &round_money(zone.per_tonne.value(), minor).to_string();
    }
    explanation += " = ";
    explanation += &worked.to_string();
    if amount > worked {
        explanation += ", minimum ";
        explanation += &minimum.to_string();
    }
    explanation += ", ";
    explanation += zone.name.as_str();
    if !not_weighed.is_empty() {
        explanation += " (not weighed, no mass known: ";
        explanation += &not_weighed.join(", ");
        explanation += ")";
    }
    let hundred = Decimal::from(100);
    let (net, tax, gross) = if shop.prices_include_tax {
        let net = round_money(amount * hundred / (hundred + rate), minor);
        (net, amount - net, amount)
    } else {
        let tax = round_money(amount * rate / hundred, minor);
        (amount, tax, amount + tax)
    };
    Ok(DeliveryCharge {
        method: "delivery".into(),
        postcode: Some(postcode.trim().to_owned()),
        zone: Some(zone.code.clone()),
        zone_name: Some(zone.name.to_string()),
        tonnes,
        loads,
        not_weighed,
        explanation,
        net: Amount(net),
        tax: Amount(tax),
        gross: Amount(gross),
        tax_class: zone.tax_class.clone(),
        tax_rate: rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(
        code: &str,
        prefixes: &[&str],
        per_load: &str,
        per_tonne: &str,
        minimum: &str,
    ) -> DeliveryZone {
        let input: ZoneInput = serde_json::from_value(serde_json::json!({
            "name": format!("Zone {code}"),
            "postcodes": prefixes,
            "per_load": per_load,
            "per_tonne": per_tonne,
            "minimum": minimum,
            "vehicle_capacity_t": "10",
        }))
        .unwrap();
        input
            .into_zone(ZoneCode::parse(code).unwrap(), Timestamp::UNIX_EPOCH, None)
            .unwrap()
    }

    #[test]
    fn the_longest_matching_prefix_wins_whatever_the_spacing_and_case() {
        let zones = [
            zone("A", &["AB1"], "50", "0", "0"),
            zone("B", &["ab12", "CD"], "85", "0", "0"),
        ];
        assert_eq!(zone_for(&zones, "ab1 2cd").unwrap().code.as_str(), "A");
        assert_eq!(zone_for(&zones, "AB12 3EF").unwrap().code.as_str(), "B");
        assert_eq!(zone_for(&zones, "CD9 1AA").unwrap().code.as_str(), "B");
        assert!(zone_for(&zones, "ZZ9 9ZZ").is_none());
        // A number is not split: AB1 is not AB12's district, nor AB13's.
        let districts = [zone("ONE", &["AB1"], "50", "0", "0")];
        assert!(zone_for(&districts, "AB13 1AA").is_none());
        assert!(zone_for(&districts, "AB1  1AA").is_some());
        // Postcodes without spaces are plain prefixes (10115 is under 101).
        let berlin = [zone("MITTE", &["101"], "50", "0", "0")];
        assert!(zone_for(&berlin, "10115").is_some());
        assert!(zone_for(&berlin, "10215").is_none());
        assert!(zone_for(&zones, "").is_none());
    }

    #[test]
    fn zones_are_checked() {
        let input = |postcodes: serde_json::Value, capacity: &str| -> ZoneInput {
            serde_json::from_value(serde_json::json!({
                "name": "Town", "postcodes": postcodes, "per_load": "85",
                "vehicle_capacity_t": capacity,
            }))
            .unwrap()
        };
        let code = ZoneCode::parse("town").unwrap();
        assert_eq!(code.as_str(), "TOWN");
        let fine = input(serde_json::json!(["ab1", "AB 2"]), "10")
            .into_zone(code.clone(), Timestamp::UNIX_EPOCH, None)
            .unwrap();
        assert_eq!(fine.postcodes, ["AB1", "AB2"]);
        assert_eq!(fine.minimum.value(), Decimal::ZERO);
        for (postcodes, capacity, field) in [
            (serde_json::json!([]), "10", "postcodes"),
            (serde_json::json!(["AB1", "ab1"]), "10", "postcodes[1]"),
            (serde_json::json!(["AB-1"]), "10", "postcodes[0]"),
            (serde_json::json!(["AB1"]), "0", "vehicle_capacity_t"),
            (serde_json::json!(["AB1"]), "1001", "vehicle_capacity_t"),
        ] {
            let refused = input(postcodes, capacity)
                .into_zone(code.clone(), Timestamp::UNIX_EPOCH, None)
                .unwrap_err();
            assert_eq!(refused.0, field, "{refused:?}");
        }
    }
}
