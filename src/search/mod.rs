//! The catalogue search index (tantivy): derived from the store by following the
//! change log, and rebuildable from it at any time. Filled by the search issue.
