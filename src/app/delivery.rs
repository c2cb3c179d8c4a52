//! Delivery zones (`/delivery-zones`) and the delivery charge an estimate or
//! a quote adds: a postcode finds its zone (the longest matching prefix),
//! the lines' mass gives the loads.

use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{App, AppError, ErrorCode, Principal};
use crate::domain::accounts::Actor;
use crate::domain::catalogue::Product;
use crate::domain::delivery::{
    self, DeliveryCharge, DeliveryZone, MAX_ZONES, ZoneCode, ZoneInput, normal_postcode,
};
use crate::domain::pricing::{PricedLine, Shop};
use crate::store::payloads::{DeliveryZoneChanged, FieldChange};
use crate::store::{ChangeKind, WriteTx};

/// How the goods of an estimate or a quote reach the customer: delivered to
/// `postcode`, or `collection`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    /// Deliver to this postcode (`AB1 2CD`).
    #[schema(max_length = 16, example = "AB1 2CD")]
    pub postcode: Option<String>,
    /// The customer collects: no charge.
    #[serde(default)]
    pub collection: bool,
}

/// Checks a delivery request on its own (before anything is read, so that a
/// malformed one is refused as such): the postcode to deliver to, or `None`
/// for collection or when nothing was asked.
pub(super) fn check_request(request: Option<&DeliveryRequest>) -> Result<Option<&str>, AppError> {
    let Some(request) = request else {
        return Ok(None);
    };
    let postcode = match (&request.postcode, request.collection) {
        (None, true) => return Ok(None),
        (Some(_), true) => {
            return Err(AppError::invalid(
                "delivery",
                "give a postcode to deliver to, or collection, not both",
            ));
        }
        (None, false) => {
            return Err(AppError::invalid(
                "delivery.postcode",
                "give the postcode to deliver to, or collection",
            ));
        }
        (Some(postcode), false) => postcode,
    };
    let typed = postcode.trim();
    let normal = normal_postcode(typed);
    if normal.is_empty()
        || typed.chars().count() > 16
        || !normal.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(AppError::invalid(
            "delivery.postcode",
            format!("{typed:?} is not a postcode: letters, digits and spaces, up to 16"),
        ));
    }
    Ok(Some(postcode))
}

/// The charge for `request`, or `None` when none was asked about.
pub(super) fn charge_for(
    zones: &[DeliveryZone],
    request: Option<&DeliveryRequest>,
    lines: &[PricedLine],
    products: &[Product],
    shop: &Shop,
    contact: &str,
) -> Result<Option<DeliveryCharge>, AppError> {
    let Some(postcode) = check_request(request)? else {
        return Ok(request.map(|_| delivery::collection(shop)));
    };
    let typed = postcode.trim();
    let zone = delivery::zone_for(zones, typed).ok_or_else(|| {
        let call = if contact.trim().is_empty() {
            "call us".to_owned()
        } else {
            format!("call us ({})", contact.trim())
        };
        AppError::invalid(
            "delivery.postcode",
            format!("we do not deliver to {typed}; collection only, or {call}"),
        )
    })?;
    delivery::charge(zone, typed, lines, products, shop)
        .map(Some)
        .map_err(|e| AppError::invalid("delivery", e.0))
}

fn not_found(code: &str) -> AppError {
    AppError::NotFound {
        what: "delivery zone",
        key: code.to_owned(),
    }
}

/// Checks a zone against the others and the shop, then stores and logs it.
fn save(
    tx: &mut WriteTx,
    actor: &Actor,
    zone: &DeliveryZone,
    before: Option<&DeliveryZone>,
    tax_classes: &[String],
) -> Result<(), AppError> {
    if !tax_classes.iter().any(|c| c == zone.tax_class.as_str()) {
        return Err(AppError::invalid(
            "tax_class",
            format!(
                "the shop has no tax class {}; it has {}",
                zone.tax_class,
                tax_classes.join(", ")
            ),
        ));
    }
    let others = tx.delivery_zones()?;
    if before.is_none() && others.len() >= MAX_ZONES {
        return Err(AppError::invalid(
            "code",
            format!("a shop has at most {MAX_ZONES} delivery zones"),
        ));
    }
    for other in others.iter().filter(|o| o.code != zone.code) {
        if let Some((i, prefix)) = zone
            .postcodes
            .iter()
            .enumerate()
            .find(|(_, p)| other.postcodes.contains(p))
        {
            return Err(AppError::invalid(
                format!("postcodes[{i}]"),
                format!(
                    "{prefix} is in zone {} already: a postcode prefix belongs to one zone",
                    other.code
                ),
            ));
        }
    }
    tx.put_delivery_zone(zone)?;
    let (kind, changes) = match before {
        None => (ChangeKind::DeliveryZoneCreated, Vec::new()),
        Some(before) => (
            ChangeKind::DeliveryZoneUpdated,
            FieldChange::between(before, zone, &["version", "created_at", "updated_at"]),
        ),
    };
    tx.record(
        kind,
        zone.code.as_str(),
        actor,
        &DeliveryZoneChanged {
            version: zone.version,
            changes,
        },
    )?;
    Ok(())
}

/// Creates zone `code` in `tx` after checking the code is free; the shop
/// has `tax_classes`.
pub fn create_zone_in(
    tx: &mut WriteTx,
    actor: &Actor,
    code: ZoneCode,
    input: ZoneInput,
    tax_classes: &[String],
) -> Result<DeliveryZone, AppError> {
    if tx.delivery_zone(&code)?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicateZone,
            "code",
            format!("a delivery zone with code {code} already exists"),
        ));
    }
    let zone = input
        .into_zone(code, Timestamp::now(), None)
        .map_err(|(f, r)| AppError::invalid(f, r))?;
    save(tx, actor, &zone, None, tax_classes)?;
    Ok(zone)
}

impl App {
    /// Every delivery zone, in code order.
    pub async fn delivery_zones(&self) -> Result<Vec<DeliveryZone>, AppError> {
        self.read(|tx| Ok(tx.delivery_zones()?)).await
    }

    pub async fn create_delivery_zone(
        &self,
        caller: &Principal,
        input: ZoneInput,
    ) -> Result<DeliveryZone, AppError> {
        let code = input
            .code
            .clone()
            .ok_or_else(|| AppError::invalid("code", "is required to create a zone"))?;
        let actor = caller.actor.clone();
        let classes: Vec<String> = self.config().shop.tax_rates().into_keys().collect();
        self.write(move |tx| create_zone_in(tx, &actor, code, input, &classes))
            .await
    }

    /// Replaces a zone's settings (`PUT`); the code in the path names it.
    pub async fn replace_delivery_zone(
        &self,
        caller: &Principal,
        code: &str,
        input: ZoneInput,
    ) -> Result<DeliveryZone, AppError> {
        let code = ZoneCode::parse(code).map_err(|_| not_found(code))?;
        let actor = caller.actor.clone();
        let classes: Vec<String> = self.config().shop.tax_rates().into_keys().collect();
        self.write(move |tx| {
            let before = tx
                .delivery_zone(&code)?
                .ok_or_else(|| not_found(code.as_str()))?;
            if input.code.as_ref().is_some_and(|c| *c != code) {
                return Err(AppError::invalid(
                    "code",
                    "the code in the body differs from the path's; a zone's code does not change",
                ));
            }
            let zone = input
                .into_zone(code, Timestamp::now(), Some(&before))
                .map_err(|(f, r)| AppError::invalid(f, r))?;
            save(tx, &actor, &zone, Some(&before), &classes)?;
            Ok(zone)
        })
        .await
    }

    pub async fn delete_delivery_zone(
        &self,
        caller: &Principal,
        code: &str,
    ) -> Result<(), AppError> {
        let code = ZoneCode::parse(code).map_err(|_| not_found(code))?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            if !tx.delete_delivery_zone(&code)? {
                return Err(not_found(code.as_str()));
            }
            tx.record(
                ChangeKind::DeliveryZoneDeleted,
                code.as_str(),
                &actor,
                &DeliveryZoneChanged {
                    version: 0,
                    changes: Vec::new(),
                },
            )?;
            Ok(())
        })
        .await
    }
}
