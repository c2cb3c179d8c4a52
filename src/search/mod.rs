//! The catalogue search index (tantivy): derived from the store by following the
//! change log, and rebuildable from it at any time. `schema.rs` says what the
//! index holds, `generations.rs` how it stays in step with the store, `index.rs`
//! how a search runs, and `query.rs` how queries are read.

pub mod analysis;
mod generations;
pub mod highlight;
mod index;
pub mod query;
mod schema;

pub use generations::{Alongside, SearchIndex};
pub use index::{Facets, Hit, SearchRequest, SearchResult, Sort};
pub use schema::price_micros;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: it failed earlier and must be rebuilt")]
    Broken,
}

impl From<tantivy::directory::error::OpenDirectoryError> for IndexError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        Self::Tantivy(e.into())
    }
}
