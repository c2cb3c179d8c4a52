//! Product photos: adding (already made ready by
//! [`crate::domain::images::prepare`]), removing, ordering and describing
//! them, and the files served at their immutable URLs. A product keeps the
//! list of its photos, so every change is a new version of the product
//! (`product.updated`): caches, other nodes and webhook receivers see it.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::{App, AppError, ErrorCode, Principal};
use crate::domain::catalogue::Product;
use crate::domain::images::{MAX_PER_PRODUCT, Prepared, ProductImage, SHARED_PREFIX, file_key};
use crate::domain::values::Sku;
use crate::store::{ChangeKind, WriteTx};

fn not_found(what: &'static str, key: &str) -> AppError {
    AppError::NotFound {
        what,
        key: key.to_owned(),
    }
}

fn product_of(tx: &WriteTx, sku: &Sku) -> Result<Product, AppError> {
    tx.product(sku)?
        .ok_or_else(|| not_found("product", sku.as_str()))
}

/// Saves `next`, a change of `current`'s photos, one version on.
fn save(
    tx: &mut WriteTx,
    caller: &Principal,
    current: &Product,
    mut next: Product,
) -> Result<(), AppError> {
    next.version = current.version + 1;
    next.updated_at = Timestamp::now().max(current.updated_at);
    super::catalogue::save_product(
        tx,
        &caller.actor,
        Some(current),
        &next,
        ChangeKind::ProductUpdated,
    )
}

/// What a change to one photo asks for.
#[derive(Debug, Clone, Default)]
pub struct ImageChange {
    pub alt: Option<String>,
    /// The photo's new place, from 0 (the first is the product's main photo).
    pub position: Option<usize>,
}

impl App {
    /// Adds a photo to a product, last; the same photo uploaded again is
    /// answered as it is (`false`: nothing new). `alt` defaults to the
    /// product's name.
    pub async fn add_image(
        &self,
        caller: &Principal,
        sku: &str,
        prepared: Prepared,
        alt: Option<String>,
    ) -> Result<(ProductImage, bool), AppError> {
        let sku = Sku::parse(sku).map_err(|_| not_found("product", sku))?;
        let caller = caller.clone();
        self.write(move |tx| {
            let product = product_of(tx, &sku)?;
            let mut hash = Sha256::new();
            hash.update(sku.as_str().as_bytes());
            hash.update([0]);
            hash.update(&prepared.display);
            let id: String = crate::auth::hex(&hash.finalize())[..16].to_owned();
            if let Some(existing) = product.images.iter().find(|i| i.id == id) {
                return Ok((existing.clone(), false));
            }
            if product.images.len() >= MAX_PER_PRODUCT {
                return Err(AppError::conflict(
                    ErrorCode::TooManyImages,
                    "file",
                    format!(
                        "{sku} has {MAX_PER_PRODUCT} photos, as many as a product may: delete one first"
                    ),
                ));
            }
            let image = ProductImage::new(
                id,
                alt.unwrap_or_else(|| product.name.to_string()),
                prepared.width,
                prepared.height,
            );
            tx.put_image_file(&file_key(&image.id, false), &prepared.display)?;
            tx.put_image_file(&file_key(&image.id, true), &prepared.thumb)?;
            let mut next = product.clone();
            next.images.push(image.clone());
            save(tx, &caller, &product, next)?;
            Ok((image, true))
        })
        .await
    }

    /// Removes a photo and its files.
    pub async fn delete_image(
        &self,
        caller: &Principal,
        sku: &str,
        id: &str,
    ) -> Result<(), AppError> {
        let sku = Sku::parse(sku).map_err(|_| not_found("product", sku))?;
        let (caller, id) = (caller.clone(), id.to_owned());
        self.write(move |tx| {
            let product = product_of(tx, &sku)?;
            let mut next = product.clone();
            next.images.retain(|i| i.id != id);
            if next.images.len() == product.images.len() {
                return Err(not_found("photo", &id));
            }
            // A shared photo's files stay while another product shows it (a
            // rare case, so the catalogue is looked through only then).
            if !(id.starts_with(SHARED_PREFIX) && tx.image_shown_elsewhere(&id, &sku)?) {
                tx.remove_image_file(&file_key(&id, false))?;
                tx.remove_image_file(&file_key(&id, true))?;
            }
            save(tx, &caller, &product, next)
        })
        .await
    }

    /// Changes a photo's alt text or its place among the product's photos;
    /// answers the photos in their order.
    pub async fn change_image(
        &self,
        caller: &Principal,
        sku: &str,
        id: &str,
        change: ImageChange,
    ) -> Result<Vec<ProductImage>, AppError> {
        let sku = Sku::parse(sku).map_err(|_| not_found("product", sku))?;
        let (caller, id) = (caller.clone(), id.to_owned());
        self.write(move |tx| {
            let product = product_of(tx, &sku)?;
            let mut next = product.clone();
            let at = next
                .images
                .iter()
                .position(|i| i.id == id)
                .ok_or_else(|| not_found("photo", &id))?;
            if let Some(alt) = change.alt {
                next.images[at].alt = alt;
            }
            if let Some(position) = change.position {
                let image = next.images.remove(at);
                let position = position.min(next.images.len());
                next.images.insert(position, image);
            }
            let images = next.images.clone();
            if next != product {
                save(tx, &caller, &product, next)?;
            }
            Ok(images)
        })
        .await
    }

    /// A photo's file by its name in the URL (`{id}` or `{id}-thumb`).
    pub async fn image_file(&self, key: &str) -> Result<Option<Vec<u8>>, AppError> {
        let key = key.to_owned();
        self.read(move |tx| Ok(tx.image_file(&key)?)).await
    }
}
