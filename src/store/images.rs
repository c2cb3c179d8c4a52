//! The files of product photos (a display size and a thumbnail, JPEG), kept
//! like every other table so a backup, a migration and every node have them.
//! Which photos a product has, in which order, is part of the product.

use super::tables::{IMAGE_FILES, PRODUCTS};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::catalogue::Product;
use crate::domain::values::Sku;

macro_rules! image_reads {
    () => {
        /// A photo's file by its key (`{id}` or `{id}-thumb`).
        pub fn image_file(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.table(IMAGE_FILES)?.get(key)
        }
    };
}

impl ReadTx {
    image_reads!();
}

impl WriteTx {
    image_reads!();

    pub fn put_image_file(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.writes += 1;
        self.table(IMAGE_FILES)?.insert(key, bytes)?;
        Ok(())
    }

    /// Whether a product other than `sku` shows photo `id`: a walk through
    /// the catalogue, for the rare shared photo.
    pub fn image_shown_elsewhere(&self, id: &str, sku: &Sku) -> Result<bool, StoreError> {
        for entry in self.table(PRODUCTS)?.all()? {
            let (key, bytes) = entry?;
            if key == sku.as_str() {
                continue;
            }
            let product: Product = decode("products", &key, &bytes)?;
            if product.images.iter().any(|i| i.id == id) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn remove_image_file(&mut self, key: &str) -> Result<(), StoreError> {
        self.writes += 1;
        self.table(IMAGE_FILES)?.remove(key)?;
        Ok(())
    }
}
