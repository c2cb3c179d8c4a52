//! The files of product photos (a display size and a thumbnail, JPEG), kept
//! like every other table so a backup, a migration and every node have them.
//! Which photos a product has, in which order, is part of the product.

use super::tables::IMAGE_FILES;
use super::{ReadTx, StoreError, WriteTx};

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

    pub fn remove_image_file(&mut self, key: &str) -> Result<(), StoreError> {
        self.writes += 1;
        self.table(IMAGE_FILES)?.remove(key)?;
        Ok(())
    }
}
