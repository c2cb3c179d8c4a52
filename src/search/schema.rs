//! The index's schema: its fields, how text in each is analysed, and the
//! document a product becomes. Any change here raises [`SCHEMA`], and older
//! indexes are rebuilt.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer};
use tantivy::{Index, TantivyDocument};

use super::IndexError;
use super::analysis::{ANALYZER, analyzer, dimension};
use crate::domain::catalogue::Product;
use crate::domain::units::Dimension;

/// Raised whenever the schema or the analysis changes: older indexes rebuild.
pub(super) const SCHEMA: u32 = 5;
const SKU_NGRAM: &str = "sku_ngram";
const CODE_PREFIX: &str = "code_prefix";
/// The index's fields.
#[derive(Clone, Copy)]
pub(super) struct Fields {
    pub(super) sku_key: Field,
    pub(super) sku_ngram: Field,
    /// Every prefix of the SKU (lower-cased): a SKU typed in part is one
    /// term, not an expansion over every SKU it starts (`HW-0` would be
    /// 100,000 of them).
    pub(super) sku_prefix: Field,
    pub(super) barcode: Field,
    /// Every prefix of the barcode, likewise.
    pub(super) barcode_prefix: Field,
    pub(super) name: Field,
    pub(super) brand: Field,
    /// The brand as written, for its facet.
    pub(super) brand_facet: Field,
    /// The numbers of the first size in the name (see
    /// [`dimension`](super::analysis::dimension)).
    pub(super) dimension: Field,
    /// Category words, tags and attribute values.
    pub(super) keywords: Field,
    pub(super) description: Field,
    pub(super) category: Field,
    pub(super) tags: Field,
    pub(super) price: Field,
    /// Sort keys for "by price": the price per base unit of the product's
    /// dimension, grouped by dimension (see [`unit_price_keys`]); one for
    /// each direction, both read in ascending order.
    pub(super) unit_price_up: Field,
    pub(super) unit_price_down: Field,
    pub(super) name_sort: Field,
    pub(super) active: Field,
    pub(super) in_stock: Field,
}

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |positions: bool, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(if positions {
                IndexRecordOption::WithFreqsAndPositions
            } else {
                IndexRecordOption::WithFreqs
            });
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let ngram = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(SKU_NGRAM)
            .set_index_option(IndexRecordOption::Basic),
    );
    let prefixes = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(CODE_PREFIX)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        sku_key: b.add_text_field("sku_key", STRING | FAST),
        sku_ngram: b.add_text_field("sku_ngram", ngram),
        sku_prefix: b.add_text_field("sku_prefix", prefixes.clone()),
        barcode: b.add_text_field("barcode", STRING),
        barcode_prefix: b.add_text_field("barcode_prefix", prefixes),
        name: b.add_text_field("name", text(true, true)),
        brand: b.add_text_field("brand", text(false, false)),
        brand_facet: b.add_facet_field("brand_facet", FacetOptions::default()),
        dimension: b.add_text_field("dimension", STRING),
        keywords: b.add_text_field("keywords", text(false, false)),
        description: b.add_text_field("description", text(false, false)),
        category: b.add_facet_field("category", FacetOptions::default()),
        tags: b.add_facet_field("tags", FacetOptions::default()),
        price: b.add_u64_field("price", FAST | INDEXED),
        unit_price_up: b.add_u64_field("unit_price_up", FAST),
        unit_price_down: b.add_u64_field("unit_price_down", FAST),
        name_sort: b.add_text_field("name_sort", STRING | FAST),
        active: b.add_u64_field("active", FAST | INDEXED),
        in_stock: b.add_u64_field("in_stock", FAST | INDEXED),
    };
    (b.build(), fields)
}

pub(super) fn register_tokenizers(index: &Index) -> Result<(), IndexError> {
    index.tokenizers().register(ANALYZER, analyzer());
    let ngram = TextAnalyzer::builder(NgramTokenizer::all_ngrams(2, 12)?)
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(SKU_NGRAM, ngram);
    // SKUs and barcodes are at most 64 characters.
    let prefixes = TextAnalyzer::builder(NgramTokenizer::prefix_only(1, 64)?)
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(CODE_PREFIX, prefixes);
    Ok(())
}

/// A price as whole millionths, for the fast field.
pub fn price_micros(price: Decimal) -> u64 {
    (price * Decimal::from(1_000_000))
        .trunc()
        .to_u64()
        .unwrap_or(u64::MAX)
}

/// The bits of a unit-price sort key below the dimension's rank.
const PRICE_BITS: u32 = 58;

/// The sort keys of a product's price per base unit (kg, m³, m, m², piece),
/// for cheapest first and dearest first: products of one dimension together
/// (by weight, then volume, length, area, pieces; whatever could not be
/// converted last), compared within it in billionths of the base unit's
/// price. Prices in different dimensions cannot be compared, so each
/// direction keeps that order of the groups.
pub fn unit_price_keys(product: &Product) -> (u64, u64) {
    let mask = (1u64 << PRICE_BITS) - 1;
    let Some((price, unit)) = product.unit_price() else {
        return (5 << PRICE_BITS, 5 << PRICE_BITS);
    };
    let rank: u64 = match unit.dimension() {
        Dimension::Mass => 0,
        Dimension::Volume => 1,
        Dimension::Length => 2,
        Dimension::Area => 3,
        Dimension::Count => 4,
    };
    let nanos = price
        .checked_mul(Decimal::from(1_000_000_000))
        .and_then(|n| n.trunc().to_u64())
        .unwrap_or(mask)
        .min(mask);
    (
        rank << PRICE_BITS | nanos,
        rank << PRICE_BITS | (mask - nanos),
    )
}

impl Fields {
    /// The product as the index holds it.
    pub(super) fn document(&self, p: &Product, in_stock: bool) -> TantivyDocument {
        let f = self;
        let mut doc = TantivyDocument::default();
        let key = p.sku.as_str().to_lowercase();
        doc.add_text(f.sku_key, &key);
        doc.add_text(f.sku_ngram, &key);
        doc.add_text(f.sku_prefix, &key);
        if let Some(barcode) = &p.barcode {
            let barcode = barcode.as_str().to_lowercase();
            doc.add_text(f.barcode_prefix, &barcode);
            doc.add_text(f.barcode, barcode);
        }
        doc.add_text(f.name, p.name.as_str());
        if let Some(brand) = &p.brand {
            doc.add_text(f.brand, brand.as_str());
            doc.add_facet(f.brand_facet, Facet::from_path([brand.as_str()]));
        }
        for number in dimension(p.name.as_str()) {
            doc.add_text(f.dimension, number);
        }
        doc.add_text(f.keywords, p.category.as_str());
        for tag in p.tags.iter() {
            doc.add_text(f.keywords, tag);
            doc.add_facet(f.tags, Facet::from_path([tag]));
        }
        for (key, value) in p.attributes.iter() {
            doc.add_text(f.keywords, format!("{} {value}", key.replace('_', " ")));
        }
        doc.add_text(f.description, p.description.as_str());
        doc.add_facet(f.category, Facet::from_path(p.category.as_str().split('/')));
        doc.add_u64(f.price, price_micros(p.price.value()));
        let (up, down) = unit_price_keys(p);
        doc.add_u64(f.unit_price_up, up);
        doc.add_u64(f.unit_price_down, down);
        doc.add_text(f.name_sort, p.name.as_str().to_lowercase());
        doc.add_u64(f.active, u64::from(p.active));
        doc.add_u64(f.in_stock, u64::from(in_stock));
        doc
    }
}
