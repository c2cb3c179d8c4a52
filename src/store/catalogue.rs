//! Products and locations in the store, with the indexes that keep barcodes
//! unique and let a category be listed without reading the whole catalogue.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::tables::{LOCATIONS, PRODUCTS, PRODUCTS_BY_BARCODE, PRODUCTS_BY_CATEGORY};
use super::{ReadTx, StoreError, WriteTx, decode};
use crate::domain::catalogue::Product;
use crate::domain::locations::Location;

/// A list page: the items, and where the next page starts (if there is one).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// Products decoded lately, by SKU, with the stored bytes they were decoded
/// from: a product read again whose record is byte for byte the same is
/// cloned instead of parsed (a booking reads its products, a search its
/// twenty hits, and decoding a product's JSON is most of reading it). Right
/// whatever changed meanwhile: only identical bytes are trusted.
static DECODED: std::sync::LazyLock<moka::sync::Cache<String, Decoded>> =
    std::sync::LazyLock::new(|| {
        moka::sync::Cache::builder()
            .max_capacity(DECODED_BYTES)
            .weigher(|_, entry: &Decoded| {
                // The record and about twice its size decoded.
                u32::try_from(3 * entry.0.len() + 128).unwrap_or(u32::MAX)
            })
            .build()
    });

/// A product as decoded, with the bytes it was decoded from.
type Decoded = std::sync::Arc<(Vec<u8>, Product)>;

/// About how much memory [`DECODED`] may take.
const DECODED_BYTES: u64 = 4 << 20;

/// The product stored under `sku` as `bytes`.
pub(super) fn decode_product(sku: &str, bytes: &[u8]) -> Result<Product, StoreError> {
    if let Some(known) = DECODED.get(sku)
        && known.0 == bytes
    {
        return Ok(known.1.clone());
    }
    let product: Product = decode("products", sku, bytes)?;
    DECODED.insert(
        sku.to_owned(),
        std::sync::Arc::new((bytes.to_vec(), product.clone())),
    );
    Ok(product)
}

/// At most this many records are read to fill one page, so a filter that matches
/// little cannot make one request read the whole table; the page then comes back
/// short, with a cursor to go on from.
const SCAN_BUDGET: usize = 5_000;

/// Which products to list.
#[derive(Debug, Clone, Default)]
pub struct ProductQuery {
    /// Lower-cased category path: this category and everything under it.
    pub category: Option<String>,
    pub active: Option<bool>,
    pub updated_since: Option<Timestamp>,
    pub after: Option<ProductCursor>,
    pub limit: usize,
}

/// Where a product listing stopped: the last SKU, and with a category filter the
/// lower-cased category it was listed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCursor {
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(rename = "s")]
    pub sku: String,
}

impl ProductQuery {
    fn wants(&self, product: &Product) -> bool {
        self.active.is_none_or(|active| product.active == active)
            && self
                .updated_since
                .is_none_or(|since| product.updated_at >= since)
    }
}

fn in_category(key: &str, prefix: &str) -> bool {
    key == prefix
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl ReadTx {
    /// One page of products in SKU order, or with a category filter in
    /// (category, SKU) order.
    pub fn products_page(
        &self,
        query: &ProductQuery,
    ) -> Result<Page<Product, ProductCursor>, StoreError> {
        let products = self.table(PRODUCTS)?;
        let mut items = Vec::new();
        let mut scanned = 0;
        let mut last: Option<ProductCursor> = None;
        let mut more = false;

        if let Some(prefix) = &query.category {
            let index = self.table(PRODUCTS_BY_CATEGORY)?;
            let start = match &query.after {
                Some(ProductCursor {
                    category: Some(category),
                    sku,
                }) => (category.as_str(), sku.as_str()),
                _ => (prefix.as_str(), ""),
            };
            // Entries for "prefix-x" sort between "prefix" and "prefix/…"; past
            // "prefix0" ('/' + 1) nothing can match any more.
            let end = format!("{prefix}0");
            for entry in index.from(start)? {
                let ((category, sku), ()) = entry?;
                let (category, sku) = (category.as_str(), sku.as_str());
                if query.after.is_some() && (category, sku) == start {
                    continue;
                }
                if category > end.as_str() {
                    break;
                }
                if !in_category(category, prefix) {
                    continue;
                }
                if items.len() == query.limit || scanned == SCAN_BUDGET {
                    more = true;
                    break;
                }
                scanned += 1;
                let product: Product =
                    super::get_json(&products, "products", sku)?.ok_or_else(|| {
                        StoreError::Corrupt {
                            table: "products_by_category",
                            key: sku.to_owned(),
                            reason: "indexed product does not exist".into(),
                        }
                    })?;
                last = Some(ProductCursor {
                    category: Some(category.to_owned()),
                    sku: sku.to_owned(),
                });
                if query.wants(&product) {
                    items.push(product);
                }
            }
        } else {
            let start = query.after.as_ref().map(|c| c.sku.as_str());
            let range = match start {
                Some(sku) => products.from(sku)?,
                None => products.all()?,
            };
            for entry in range {
                let (sku, bytes) = entry?;
                let sku = sku.as_str();
                if Some(sku) == start {
                    continue;
                }
                if items.len() == query.limit || scanned == SCAN_BUDGET {
                    more = true;
                    break;
                }
                scanned += 1;
                let product: Product = decode("products", sku, &bytes)?;
                last = Some(ProductCursor {
                    category: None,
                    sku: sku.to_owned(),
                });
                if query.wants(&product) {
                    items.push(product);
                }
            }
        }
        Ok(Page {
            items,
            next: if more { last } else { None },
        })
    }

    /// Whether the store holds no product at all.
    pub fn has_no_products(&self) -> Result<bool, StoreError> {
        Ok(self.table(PRODUCTS)?.last()?.is_none())
    }

    /// Every product, in SKU order, handed to `f` one by one (for rebuilding
    /// derived views).
    pub fn for_each_product<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&Product) -> Result<(), E>,
    ) -> Result<(), E> {
        let table = self.table(PRODUCTS)?;
        for entry in table.all()? {
            let (key, bytes) = entry?;
            let product: Product = decode("products", &key, &bytes)?;
            f(&product)?;
        }
        Ok(())
    }

    /// One page of locations in code order.
    pub fn locations_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Location, String>, StoreError> {
        let table = self.table(LOCATIONS)?;
        let range = match after {
            Some(code) => table.from(code)?,
            None => table.all()?,
        };
        let mut items: Vec<Location> = Vec::new();
        let mut more = false;
        for entry in range {
            let (key, bytes) = entry?;
            if Some(key.as_str()) == after {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(decode("locations", &key, &bytes)?);
        }
        let next = if more {
            items.last().map(|l| l.code.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Checks that every product is in the category index under its category and
    /// every barcode index entry points at a product with that barcode.
    pub(super) fn check_catalogue_indexes(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let products = self.table(PRODUCTS)?;
        let by_category = self.table(PRODUCTS_BY_CATEGORY)?;
        let by_barcode = self.table(PRODUCTS_BY_BARCODE)?;
        let mut with_barcode = 0;
        for entry in products.all()? {
            let (key, bytes) = entry?;
            let product: Product = decode("products", &key, &bytes)?;
            let category = product.category.match_key();
            if by_category
                .get((category.as_str(), product.sku.as_str()))?
                .is_none()
            {
                problems.push(format!(
                    "product {} is missing from the category index",
                    product.sku
                ));
            }
            if let Some(barcode) = &product.barcode {
                with_barcode += 1;
                let indexed = by_barcode.get(barcode.as_str())?;
                if indexed.as_deref() != Some(product.sku.as_str()) {
                    problems.push(format!(
                        "barcode {barcode} of product {} is not indexed to it",
                        product.sku
                    ));
                }
            }
        }
        if by_category.len()? != products.len()? {
            problems.push(format!(
                "category index has {} entries for {} products",
                by_category.len()?,
                products.len()?
            ));
        }
        if by_barcode.len()? != with_barcode {
            problems.push(format!(
                "barcode index has {} entries for {with_barcode} products with a barcode",
                by_barcode.len()?
            ));
        }
        Ok(problems)
    }
}

impl WriteTx {
    /// Stores `product`, keeping the barcode and category indexes in step with
    /// whatever version it replaces. The caller has checked barcode uniqueness.
    pub fn put_product(&mut self, product: &Product) -> Result<(), StoreError> {
        let previous = self.product(&product.sku)?;
        self.writes += 1;
        let sku = product.sku.as_str();
        {
            let mut by_barcode = self.table(PRODUCTS_BY_BARCODE)?;
            if let Some(old) = previous.as_ref().and_then(|p| p.barcode.as_ref()) {
                by_barcode.remove(old.as_str())?;
            }
            if let Some(new) = &product.barcode {
                by_barcode.insert(new.as_str(), sku)?;
            }
        }
        {
            let mut by_category = self.table(PRODUCTS_BY_CATEGORY)?;
            if let Some(old) = &previous {
                by_category.remove((old.category.match_key().as_str(), sku))?;
            }
            by_category.insert((product.category.match_key().as_str(), sku), ())?;
        }
        self.put_json(PRODUCTS, sku, product)
    }

    pub fn put_location(&mut self, location: &Location) -> Result<(), StoreError> {
        self.put_json(LOCATIONS, location.code.as_str(), location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_records::product;

    #[test]
    fn a_product_read_again_is_the_one_its_bytes_hold() {
        let first = product("DEC-1", "Tools", None);
        let bytes = serde_json::to_vec(&first).unwrap();
        assert_eq!(decode_product("DEC-1", &bytes).unwrap(), first);
        assert_eq!(decode_product("DEC-1", &bytes).unwrap(), first, "again");
        // Other bytes under the same SKU: decoded afresh, never the old one.
        let renamed = product("DEC-1", "Garden", None);
        assert_ne!(renamed, first);
        let changed = serde_json::to_vec(&renamed).unwrap();
        assert_eq!(decode_product("DEC-1", &changed).unwrap(), renamed);
        assert!(decode_product("DEC-1", b"{not json").is_err());
        assert_eq!(decode_product("DEC-1", &changed).unwrap(), renamed);
    }
}
