//! The catalogue search index (tantivy): derived from the store by following the
//! change log, and rebuildable from it at any time. See `index.rs` for how it
//! stays in step and `query.rs` for how queries are read.

pub mod analysis;
pub mod highlight;
mod index;
pub mod query;

pub use index::{
    Facets, Hit, IndexError, SearchIndex, SearchRequest, SearchResult, Sort, price_micros,
};
