//! Catalogue use cases: products and locations.

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::ErrorCode;
use super::cursor::Listing;
use super::{App, AppError, Principal, cursor};
use crate::config::ShopConfig;
use crate::domain::accounts::Actor;
use crate::domain::catalogue::{Barcode, Product, ProductInput, ProductPatch, PublicProduct};
use crate::domain::locations::{Location, LocationCode, LocationInput, LocationPatch};
use crate::domain::values::Sku;
use crate::store::{ChangeKind, ProductCursor, ProductQuery, WriteTx, payloads};

/// A product as the caller may see it: signed-in callers see every field,
/// anonymous ones the public fields only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ProductView {
    Staff(Product),
    Public(PublicProduct),
}

/// The filters of `GET /products`.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// The product with this barcode (at most one).
    pub barcode: Option<String>,
    pub category: Option<String>,
    pub active: Option<bool>,
    pub updated_since: Option<Timestamp>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// What `If-Match` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match` (or `*`): write whatever the current version.
    Any,
    Version(u64),
    /// An `If-Match` that can match no version.
    Never,
}

impl ProductView {
    pub fn version(&self) -> u64 {
        match self {
            ProductView::Staff(p) => p.version,
            ProductView::Public(p) => p.version,
        }
    }

    /// The product's photos, the main one first.
    pub fn into_images(self) -> Vec<crate::domain::images::ProductImage> {
        match self {
            ProductView::Staff(p) => p.images,
            ProductView::Public(p) => p.images,
        }
    }
}

impl Precondition {
    pub(crate) fn check(self, current: u64) -> Result<(), AppError> {
        match self {
            Precondition::Any => Ok(()),
            Precondition::Version(v) if v == current => Ok(()),
            _ => Err(AppError::VersionMismatch { current }),
        }
    }
}

fn sees_staff_fields(caller: Option<&Principal>) -> bool {
    caller.is_some_and(Principal::reads)
}

fn view(product: Product, caller: Option<&Principal>) -> ProductView {
    if sees_staff_fields(caller) {
        ProductView::Staff(product)
    } else {
        ProductView::Public(PublicProduct::from(&product))
    }
}

fn not_found(sku: &str) -> AppError {
    AppError::NotFound {
        what: "product",
        key: sku.to_owned(),
    }
}

impl App {
    pub async fn list_products(
        &self,
        caller: Option<&Principal>,
        filter: ProductFilter,
    ) -> Result<Listing<ProductView>, AppError> {
        let staff = sees_staff_fields(caller);
        // Anonymous callers never see archived products.
        if !staff && filter.active == Some(false) {
            return Ok(Listing {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        if let Some(code) = filter.barcode {
            let code = Barcode::parse(code.trim())
                .map_err(|e| AppError::bad_request(Some("barcode"), e.to_string()))?;
            let found = self
                .read(move |tx| {
                    let Some(sku) = tx.sku_by_barcode(&code)? else {
                        return Ok(None);
                    };
                    Ok(tx.product(&sku)?)
                })
                .await?;
            let wanted = |p: &Product| {
                let active = if staff { filter.active } else { Some(true) };
                active.is_none_or(|a| a == p.active)
            };
            return Ok(Listing {
                items: found
                    .filter(wanted)
                    .map(|p| view(p, caller))
                    .into_iter()
                    .collect(),
                next_cursor: None,
            });
        }
        let query = ProductQuery {
            category: filter
                .category
                .as_deref()
                .map(|c| c.trim().trim_matches('/').to_lowercase())
                .filter(|c| !c.is_empty()),
            active: if staff { filter.active } else { Some(true) },
            updated_since: filter.updated_since,
            after: filter
                .cursor
                .as_deref()
                .map(cursor::decode::<ProductCursor>)
                .transpose()?,
            limit: cursor::limit(filter.limit, 50, 500)?,
        };
        let page = self.read(move |tx| Ok(tx.products_page(&query)?)).await?;
        Ok(Listing {
            items: page.items.into_iter().map(|p| view(p, caller)).collect(),
            next_cursor: page.next.as_ref().map(cursor::encode),
        })
    }

    /// One product; archived ones only for signed-in callers.
    pub async fn get_product(
        &self,
        caller: Option<&Principal>,
        sku: &str,
    ) -> Result<ProductView, AppError> {
        let Ok(sku) = Sku::parse(sku) else {
            return Err(not_found(sku));
        };
        let key = sku.to_string();
        let product = self
            .read(move |tx| Ok(tx.product(&sku)?))
            .await?
            .filter(|p| p.active || sees_staff_fields(caller))
            .ok_or_else(|| not_found(&key))?;
        Ok(view(product, caller))
    }

    pub async fn create_product(
        &self,
        caller: &Principal,
        input: ProductInput,
    ) -> Result<Product, AppError> {
        let sku = input
            .sku
            .clone()
            .ok_or_else(|| AppError::invalid("sku", "is required to create a product"))?;
        let actor = caller.actor.clone();
        let shop = self.config().shop.clone();
        self.write(move |tx| create_in(tx, &actor, &shop, sku, input))
            .await
    }

    /// Replaces every editable field (`PUT`).
    pub async fn replace_product(
        &self,
        caller: &Principal,
        sku: &str,
        input: ProductInput,
        precondition: Precondition,
    ) -> Result<Product, AppError> {
        let sku = Sku::parse(sku).map_err(|_| not_found(sku))?;
        if let Some(body_sku) = &input.sku
            && *body_sku != sku
        {
            return Err(AppError::invalid(
                "sku",
                format!("is {body_sku} but the URL names {sku}; a SKU cannot be changed"),
            ));
        }
        let actor = caller.actor.clone();
        let shop = self.config().shop.clone();
        self.write(move |tx| {
            let current = tx.product(&sku)?.ok_or_else(|| not_found(sku.as_str()))?;
            precondition.check(current.version)?;
            check_barcode_free(tx, &input, &sku)?;
            match current.replaced(input, Timestamp::now()) {
                Some(next) => {
                    save_update(tx, &actor, &shop, &current, &next)?;
                    Ok(next)
                }
                None => Ok(current),
            }
        })
        .await
    }

    pub async fn patch_product(
        &self,
        caller: &Principal,
        sku: &str,
        patch: ProductPatch,
        precondition: Precondition,
    ) -> Result<Product, AppError> {
        let sku = Sku::parse(sku).map_err(|_| not_found(sku))?;
        let actor = caller.actor.clone();
        let shop = self.config().shop.clone();
        self.write(move |tx| {
            let current = tx.product(&sku)?.ok_or_else(|| not_found(sku.as_str()))?;
            precondition.check(current.version)?;
            if let Some(Some(barcode)) = &patch.barcode {
                check_barcode_owner(tx, barcode, &sku)?;
            }
            match current.patched(patch, Timestamp::now()) {
                Some(next) => {
                    save_update(tx, &actor, &shop, &current, &next)?;
                    Ok(next)
                }
                None => Ok(current),
            }
        })
        .await
    }

    /// Archives a product (`DELETE`): it stays, with its history, but inactive.
    pub async fn archive_product(
        &self,
        caller: &Principal,
        sku: &str,
        precondition: Precondition,
    ) -> Result<Product, AppError> {
        let sku = Sku::parse(sku).map_err(|_| not_found(sku))?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            let current = tx.product(&sku)?.ok_or_else(|| not_found(sku.as_str()))?;
            precondition.check(current.version)?;
            match current.archived(Timestamp::now()) {
                Some(next) => {
                    save_product(
                        tx,
                        &actor,
                        Some(&current),
                        &next,
                        ChangeKind::ProductArchived,
                    )?;
                    Ok(next)
                }
                None => Ok(current),
            }
        })
        .await
    }

    pub async fn list_locations(
        &self,
        cursor_text: Option<String>,
        limit: Option<u32>,
    ) -> Result<Listing<Location>, AppError> {
        let after = cursor_text
            .as_deref()
            .map(cursor::decode::<String>)
            .transpose()?;
        let limit = cursor::limit(limit, 100, 500)?;
        let page = self
            .read(move |tx| Ok(tx.locations_page(after.as_deref(), limit)?))
            .await?;
        Ok(Listing {
            items: page.items,
            next_cursor: page.next.as_ref().map(cursor::encode),
        })
    }

    pub async fn get_location(&self, code: &str) -> Result<Location, AppError> {
        let missing = || AppError::NotFound {
            what: "location",
            key: code.to_owned(),
        };
        let code = LocationCode::parse(code).map_err(|_| missing())?;
        self.read(move |tx| Ok(tx.location(&code)?))
            .await?
            .ok_or_else(missing)
    }

    pub async fn create_location(
        &self,
        caller: &Principal,
        input: LocationInput,
    ) -> Result<Location, AppError> {
        let actor = caller.actor.clone();
        self.write(move |tx| create_location_in(tx, &actor, input))
            .await
    }

    pub async fn patch_location(
        &self,
        caller: &Principal,
        code: &str,
        patch: LocationPatch,
        precondition: Precondition,
    ) -> Result<Location, AppError> {
        let missing = |code: &str| AppError::NotFound {
            what: "location",
            key: code.to_owned(),
        };
        let code = LocationCode::parse(code).map_err(|_| missing(code))?;
        let actor = caller.actor.clone();
        self.write(move |tx| {
            let current = tx.location(&code)?.ok_or_else(|| missing(code.as_str()))?;
            precondition.check(current.version)?;
            match current.patched(patch, Timestamp::now()) {
                Some(next) => {
                    save_location(
                        tx,
                        &actor,
                        Some(&current),
                        &next,
                        ChangeKind::LocationUpdated,
                    )?;
                    Ok(next)
                }
                None => Ok(current),
            }
        })
        .await
    }
}

/// Creates a product in `tx` after checking its SKU and barcode are free.
pub fn create_in(
    tx: &mut WriteTx,
    actor: &Actor,
    shop: &ShopConfig,
    sku: Sku,
    input: ProductInput,
) -> Result<Product, AppError> {
    if tx.product(&sku)?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicateSku,
            "sku",
            format!("a product with SKU {sku} already exists"),
        ));
    }
    check_barcode_free(tx, &input, &sku)?;
    let product = Product::create(sku, input, Timestamp::now());
    check_product(&product, shop)?;
    save_product(tx, actor, None, &product, ChangeKind::ProductCreated)?;
    Ok(product)
}

/// What [`upsert_in`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// Creates the product `input` names, or replaces every editable field of
/// the existing one (an import's row); with the product as saved, unless
/// it was unchanged.
pub fn upsert_in(
    tx: &mut WriteTx,
    actor: &Actor,
    shop: &ShopConfig,
    input: ProductInput,
) -> Result<(Upserted, Option<Product>), AppError> {
    let sku = input
        .sku
        .clone()
        .ok_or_else(|| AppError::invalid("sku", "is required"))?;
    let Some(current) = tx.product(&sku)? else {
        let created = create_in(tx, actor, shop, sku, input)?;
        return Ok((Upserted::Created, Some(created)));
    };
    check_barcode_free(tx, &input, &sku)?;
    match current.replaced(input, Timestamp::now()) {
        Some(next) => {
            save_update(tx, actor, shop, &current, &next)?;
            Ok((Upserted::Updated, Some(next)))
        }
        None => Ok((Upserted::Unchanged, None)),
    }
}

/// Creates a location in `tx` after checking its code is free.
pub fn create_location_in(
    tx: &mut WriteTx,
    actor: &Actor,
    input: LocationInput,
) -> Result<Location, AppError> {
    if tx.location(&input.code)?.is_some() {
        return Err(AppError::conflict(
            ErrorCode::DuplicateLocation,
            "code",
            format!("a location with code {} already exists", input.code),
        ));
    }
    let location = Location::create(input, Timestamp::now());
    save_location(tx, actor, None, &location, ChangeKind::LocationCreated)?;
    Ok(location)
}

/// Command-line and bulk helpers on a store opened directly.
pub mod local {
    use super::{AppError, ProductInput, ShopConfig, create_in};
    use crate::domain::accounts::Actor;
    use crate::store::Store;

    /// Creates many products, `per_transaction` at a time (each transaction
    /// all or nothing); returns how many were created.
    pub fn create_products(
        store: &Store,
        shop: &ShopConfig,
        inputs: impl IntoIterator<Item = ProductInput>,
        per_transaction: usize,
    ) -> Result<usize, AppError> {
        let mut created = 0;
        let mut batch = Vec::with_capacity(per_transaction);
        let mut inputs = inputs.into_iter().peekable();
        while inputs.peek().is_some() {
            batch.extend(inputs.by_ref().take(per_transaction));
            let count = batch.len();
            let todo = std::mem::take(&mut batch);
            store.write(|tx| {
                for input in todo {
                    let sku = input.sku.clone().ok_or_else(|| {
                        AppError::invalid("sku", "is required to create a product")
                    })?;
                    create_in(tx, &Actor::cli(), shop, sku, input)?;
                }
                Ok::<(), AppError>(())
            })?;
            created += count;
        }
        Ok(created)
    }
}

/// Saves `next`, the new version of `current` (a PUT, a PATCH or an
/// import's row), after checking it.
fn save_update(
    tx: &mut WriteTx,
    actor: &Actor,
    shop: &ShopConfig,
    current: &Product,
    next: &Product,
) -> Result<(), AppError> {
    check_product(next, shop)?;
    check_unit_kept(tx, current, next)?;
    save_product(tx, actor, Some(current), next, change_kind(current, next))
}

/// A product's stock unit is what its ledger's quantities mean: once a
/// movement is booked it cannot change, or "2 t" on hand would read "2 kg".
/// (The ledger is append-only, so no movement is ever reinterpreted.)
fn check_unit_kept(tx: &WriteTx, current: &Product, next: &Product) -> Result<(), AppError> {
    if current.unit == next.unit || !tx.has_movements(&current.sku)? {
        return Ok(());
    }
    Err(AppError::conflict(
        ErrorCode::UnitInUse,
        "unit",
        format!(
            "{} has stock movements in {}, so its unit cannot become {}: the ledger's quantities \
             would change meaning. Create a new product in {} and move the stock across (ship \
             or adjust it out here, receive it there), then archive {}",
            current.sku, current.unit, next.unit, next.unit, current.sku
        ),
    ))
}

fn change_kind(current: &Product, next: &Product) -> ChangeKind {
    if current.active && !next.active {
        ChangeKind::ProductArchived
    } else {
        ChangeKind::ProductUpdated
    }
}

/// The product's own rules, and that its tax class is one the shop has.
fn check_product(product: &Product, shop: &ShopConfig) -> Result<(), AppError> {
    product
        .check()
        .map_err(|(field, reason)| AppError::invalid(field, reason))?;
    if !shop.tax_classes.contains_key(product.tax_class.as_str()) {
        let known: Vec<&str> = shop.tax_classes.keys().map(String::as_str).collect();
        return Err(AppError::invalid(
            "tax_class",
            format!(
                "{} is not a tax class of this shop; use one of {}",
                product.tax_class,
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

fn check_barcode_free(tx: &WriteTx, input: &ProductInput, sku: &Sku) -> Result<(), AppError> {
    match &input.barcode {
        Some(barcode) => check_barcode_owner(tx, barcode, sku),
        None => Ok(()),
    }
}

fn check_barcode_owner(
    tx: &WriteTx,
    barcode: &crate::domain::catalogue::Barcode,
    sku: &Sku,
) -> Result<(), AppError> {
    match tx.sku_by_barcode(barcode)? {
        Some(owner) if owner != *sku => Err(AppError::conflict(
            ErrorCode::DuplicateBarcode,
            "barcode",
            format!("barcode {barcode} already belongs to product {owner}"),
        )),
        _ => Ok(()),
    }
}

/// What every change moves, left out of the fields a change lists.
const BOOKKEEPING: &[&str] = &["version", "created_at", "updated_at"];

/// Saves a product and logs the change: with what it changed when there was
/// a `before`.
pub(super) fn save_product(
    tx: &mut WriteTx,
    actor: &Actor,
    before: Option<&Product>,
    product: &Product,
    kind: ChangeKind,
) -> Result<(), AppError> {
    tx.put_product(product)?;
    tx.record(
        kind,
        product.sku.as_str(),
        actor,
        &payloads::ProductChanged {
            version: product.version,
            active: product.active,
            changes: before.map_or_else(Vec::new, |before| {
                payloads::FieldChange::between(before, product, BOOKKEEPING)
            }),
        },
    )?;
    Ok(())
}

fn save_location(
    tx: &mut WriteTx,
    actor: &Actor,
    before: Option<&Location>,
    location: &Location,
    kind: ChangeKind,
) -> Result<(), AppError> {
    tx.put_location(location)?;
    tx.record(
        kind,
        location.code.as_str(),
        actor,
        &payloads::LocationChanged {
            version: location.version,
            changes: before.map_or_else(Vec::new, |before| {
                payloads::FieldChange::between(before, location, BOOKKEEPING)
            }),
        },
    )?;
    Ok(())
}
