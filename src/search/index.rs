//! Searching: a query becomes one pass over the index that collects the page,
//! the total and the facets; suggestions. The index itself (its generations,
//! following the change log) is in `generations.rs`, its fields in `schema.rs`.

use std::collections::HashMap;
use std::ops::Bound;

use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use super::IndexError;
use super::generations::SearchIndex;
use super::query::{Parsed, Slot};
use super::schema::Fields;
use crate::domain::values::Sku;

/// What one pass over the index collects.
struct Pass {
    total: usize,
    page: Vec<DocAddress>,
    facets: Facets,
}

/// The counts of the children of `parent`, most first.
fn facet_counts(
    counts: &tantivy::collector::FacetCounts,
    parent: &Facet,
    k: usize,
) -> Vec<(String, u64)> {
    counts
        .top_k(parent.clone(), k)
        .into_iter()
        .map(|(facet, n)| (facet.to_path_string().trim_start_matches('/').to_owned(), n))
        .collect()
}

/// How to order hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    #[default]
    Relevance,
    PriceAscending,
    PriceDescending,
    Name,
}

/// A search as the app asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SearchRequest {
    pub query: Parsed,
    /// Lower-cased category path: it and everything under it.
    pub category: Option<String>,
    /// Products carrying every one of these tags.
    pub tags: Vec<String>,
    pub in_stock: Option<bool>,
    pub price_min: Option<u64>,
    pub price_max: Option<u64>,
    pub include_inactive: bool,
    /// Among equally relevant products, those in stock first.
    pub in_stock_first: bool,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

/// A search hit: the product's SKU (the store has the rest).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub sku: Sku,
}

/// Facet counts: value → number of matching products.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub category: Vec<(String, u64)>,
    pub tags: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Facets,
}

/// Field boosts: name strongest, description weakest.
fn text_fields(f: &Fields) -> [(Field, f32, bool); 3] {
    // (field, boost, typo-tolerant and prefix-matched)
    [
        (f.name, 5.0, true),
        (f.keywords, 2.0, true),
        (f.description, 0.5, false),
    ]
}

fn boost(query: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, by))
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

/// The query for one slot: exact matches score above prefix matches, which
/// score above typo-tolerant ones. A word the catalogue knows as written is not
/// also looked up with typos (that would mostly add noise, and cost).
fn slot_query(
    f: &Fields,
    searcher: &tantivy::Searcher,
    slot: &Slot,
    fields: &[(Field, f32, bool)],
) -> Box<dyn Query> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    match slot {
        Slot::Term {
            text,
            distance,
            prefix,
        } => {
            let known = *distance > 0
                && fields
                    .iter()
                    .filter(|(_, _, fuzzy)| *fuzzy)
                    .any(|(field, _, _)| {
                        searcher
                            .doc_freq(&Term::from_field_text(*field, text))
                            .is_ok_and(|n| n > 0)
                    });
            for (field, weight, fuzzy) in fields {
                let term = Term::from_field_text(*field, text);
                should.push((Occur::Should, boost(term_query(term.clone()), weight * 2.0)));
                // One letter would expand to half the dictionary.
                if *fuzzy && *prefix && text.chars().count() >= 2 {
                    let q = FuzzyTermQuery::new_prefix(term.clone(), 0, true);
                    should.push((Occur::Should, boost(Box::new(q), weight * 1.2)));
                }
                if *fuzzy && *distance > 0 && !known {
                    let q = FuzzyTermQuery::new(term, *distance, true);
                    should.push((Occur::Should, boost(Box::new(q), *weight)));
                }
            }
            if text.len() >= 2 && fields.len() > 1 {
                let term = Term::from_field_text(f.sku_ngram, text);
                should.push((Occur::Should, boost(term_query(term), 3.0)));
            }
        }
        Slot::Synonyms(alternatives) => {
            for alternative in alternatives {
                let all: Vec<(Occur, Box<dyn Query>)> = alternative
                    .iter()
                    .map(|t| {
                        let exact = Slot::Term {
                            text: t.clone(),
                            distance: 0,
                            prefix: false,
                        };
                        (Occur::Must, slot_query(f, searcher, &exact, fields))
                    })
                    .collect();
                should.push((Occur::Should, Box::new(BooleanQuery::new(all))));
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// The text part of a search: every slot must match (or, as a fallback, any);
/// a SKU or barcode typed whole or as a prefix, and the words as a phrase in
/// the name, count extra.
fn text_query(
    f: &Fields,
    searcher: &tantivy::Searcher,
    parsed: &Parsed,
    any_word: bool,
    fields: &[(Field, f32, bool)],
) -> Box<dyn Query> {
    if parsed.is_empty() {
        return Box::new(AllQuery);
    }
    // In the fallback, words become optional, but numbers never do: "cement
    // 45.5" must not answer with 42.5.
    // A unit word ("mm", "kg") next to other words narrows nothing on its own:
    // it only adds to the score (and costs no scan of every product in mm).
    let meaningful = parsed.slots.iter().filter(|slot| !is_unit(slot)).count();
    let words: Vec<(Occur, Box<dyn Query>)> = parsed
        .slots
        .iter()
        .map(|slot| {
            let number =
                matches!(slot, Slot::Term { text, .. } if super::analysis::is_number(text));
            let optional = (any_word && !number) || (meaningful > 0 && is_unit(slot));
            let occur = if optional { Occur::Should } else { Occur::Must };
            (occur, slot_query(f, searcher, slot, fields))
        })
        .collect();
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !words.is_empty() {
        should.push((Occur::Should, Box::new(BooleanQuery::new(words))));
    }
    let raw = parsed.raw.as_str();
    if !raw.is_empty() && !raw.contains(char::is_whitespace) && fields.len() > 1 {
        let sku = Term::from_field_text(f.sku_key, raw);
        should.push((Occur::Should, boost(term_query(sku.clone()), 40.0)));
        should.push((
            Occur::Should,
            boost(Box::new(FuzzyTermQuery::new_prefix(sku, 0, true)), 10.0),
        ));
        // A fragment typed with its separators ("t-0030") is split into
        // words like any query; as typed, it names the SKUs that contain it.
        if raw.contains(|c: char| !c.is_alphanumeric()) && (3..=12).contains(&raw.chars().count()) {
            let fragment = Term::from_field_text(f.sku_ngram, raw);
            should.push((Occur::Should, boost(term_query(fragment), 20.0)));
        }
        let barcode = Term::from_field_text(f.barcode, raw);
        should.push((Occur::Should, boost(term_query(barcode.clone()), 40.0)));
        should.push((
            Occur::Should,
            boost(Box::new(FuzzyTermQuery::new_prefix(barcode, 0, true)), 8.0),
        ));
    }
    if parsed.terms.len() >= 2 {
        let terms: Vec<Term> = parsed
            .terms
            .iter()
            .map(|t| Term::from_field_text(f.name, t))
            .collect();
        should.push((
            Occur::Should,
            boost(Box::new(PhraseQuery::new(terms.clone())), 6.0),
        ));
        // Words that follow each other in the query and in the name ("12 mm",
        // "pea gravel") say more than the same words apart.
        if terms.len() > 2 {
            for pair in terms.windows(2) {
                should.push((
                    Occur::Should,
                    boost(Box::new(PhraseQuery::new(pair.to_vec())), 3.0),
                ));
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

/// Units and the "x" of dimensions, as analysed.
const UNIT_WORDS: &[&str] = &[
    "mm", "cm", "m", "km", "g", "kg", "t", "l", "ml", "in", "ft", "yd", "oz", "lb", "x", "v", "w",
    "ah", "n", "pc",
];

fn is_unit(slot: &Slot) -> bool {
    matches!(slot, Slot::Term { text, prefix: false, .. } if UNIT_WORDS.contains(&text.as_str()))
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

impl SearchIndex {
    /// Runs a search: one pass over the index collects the page, the total and
    /// the facets (a facet the request filters on is counted in a pass of its
    /// own, without that filter, so its other values stay visible).
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult, IndexError> {
        let generation = self.generation();
        let f = generation.f;
        let searcher = generation.reader.searcher();
        let fields = text_fields(&f);
        let category = request.category.as_ref().map(|c| {
            generation
                .categories
                .read()
                .expect("lock")
                .get(c)
                .cloned()
                .unwrap_or_else(|| c.clone())
        });
        let filters = |skip_category: bool, skip_tags: bool| {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            if !request.include_inactive {
                clauses.push(filter(term_query(Term::from_field_u64(f.active, 1))));
            }
            if let (Some(c), false) = (&category, skip_category) {
                let facet = Facet::from_path(c.split('/'));
                clauses.push(filter(term_query(Term::from_facet(f.category, &facet))));
            }
            if !skip_tags {
                for tag in &request.tags {
                    let facet = Facet::from_path([tag.as_str()]);
                    clauses.push(filter(term_query(Term::from_facet(f.tags, &facet))));
                }
            }
            if let Some(in_stock) = request.in_stock {
                clauses.push(filter(term_query(Term::from_field_u64(
                    f.in_stock,
                    u64::from(in_stock),
                ))));
            }
            if request.price_min.is_some() || request.price_max.is_some() {
                let bound = |p: Option<u64>| {
                    p.map_or(Bound::Unbounded, |p| {
                        Bound::Included(Term::from_field_u64(f.price, p))
                    })
                };
                clauses.push(filter(Box::new(RangeQuery::new(
                    bound(request.price_min),
                    bound(request.price_max),
                ))));
            }
            clauses
        };
        let build = |any_word: bool, skip_category: bool, skip_tags: bool| -> Box<dyn Query> {
            let mut clauses = vec![(
                Occur::Must,
                text_query(&f, &searcher, &request.query, any_word, &fields),
            )];
            clauses.extend(filters(skip_category, skip_tags));
            Box::new(BooleanQuery::new(clauses))
        };
        let parent = category
            .as_deref()
            .map_or_else(Facet::root, |c| Facet::from_path(c.split('/')));
        let mut pass = Self::collect(&searcher, &*build(false, false, false), request, &parent)?;
        let mut any_word = false;
        if pass.total == 0 && request.query.slots.len() > 1 {
            // Nothing has every word: rank what has most of them.
            any_word = true;
            pass = Self::collect(&searcher, &*build(true, false, false), request, &parent)?;
        }
        let mut facets = pass.facets;
        if category.is_some() {
            let mut by_category = FacetCollector::for_field("category");
            by_category.add_facet(parent.clone());
            let counts = searcher.search(&*build(any_word, true, false), &by_category)?;
            facets.category = facet_counts(&counts, &parent, 100);
        }
        if !request.tags.is_empty() {
            let mut by_tag = FacetCollector::for_field("tags");
            by_tag.add_facet(Facet::root());
            let counts = searcher.search(&*build(any_word, false, true), &by_tag)?;
            facets.tags = facet_counts(&counts, &Facet::root(), 30);
        }
        if facets.category.is_empty()
            && let Some(c) = &category
            && pass.total > 0
        {
            // A leaf category: its own count.
            facets.category.push((c.clone(), pass.total as u64));
        }
        let hits = Self::skus(&searcher, &pass.page)?;
        Ok(SearchResult {
            hits,
            total: pass.total,
            facets,
        })
    }

    /// The page (in the requested order), the total and both facets, in one
    /// pass.
    fn collect(
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        request: &SearchRequest,
        category: &Facet,
    ) -> Result<Pass, IndexError> {
        let page = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        let mut by_category = FacetCollector::for_field("category");
        by_category.add_facet(category.clone());
        let mut by_tag = FacetCollector::for_field("tags");
        by_tag.add_facet(Facet::root());
        let (total, page, categories, tags) = match request.sort {
            Sort::Relevance => {
                let stocked_first = request.in_stock_first;
                let ranked = page.tweak_score(move |segment: &tantivy::SegmentReader| {
                    let column = |name: &str| {
                        segment
                            .fast_fields()
                            .u64(name)
                            .ok()
                            .map(|c| c.first_or_default_col(0))
                    };
                    let (active, in_stock) = (column("active"), column("in_stock"));
                    move |doc: tantivy::DocId, score: tantivy::Score| {
                        // Ties go to active products, then (when asked) to
                        // products in stock; the bonuses are far below any
                        // difference in relevance.
                        let on = |c: &Option<
                            std::sync::Arc<dyn tantivy::columnar::ColumnValues<u64>>,
                        >| {
                            c.as_ref().is_some_and(|c| c.get_val(doc) == 1)
                        };
                        let mut bonus = if on(&active) { 2e-4 } else { 0.0 };
                        if stocked_first && on(&in_stock) {
                            bonus += 1e-4;
                        }
                        score + bonus
                    }
                });
                let (n, top, c, t) =
                    searcher.search(query, &(Count, ranked, by_category, by_tag))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), c, t)
            }
            Sort::PriceAscending | Sort::PriceDescending => {
                let order = if request.sort == Sort::PriceAscending {
                    Order::Asc
                } else {
                    Order::Desc
                };
                let by_price = page.order_by_fast_field::<u64>("price", order);
                let (n, top, c, t) =
                    searcher.search(query, &(Count, by_price, by_category, by_tag))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), c, t)
            }
            Sort::Name => {
                let by_name = page.order_by_string_fast_field("name_sort", Order::Asc);
                let (n, top, c, t) =
                    searcher.search(query, &(Count, by_name, by_category, by_tag))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), c, t)
            }
        };
        Ok(Pass {
            total,
            page,
            facets: Facets {
                category: facet_counts(&categories, category, 100),
                tags: facet_counts(&tags, &Facet::root(), 30),
            },
        })
    }

    /// The SKUs of documents, read from the `sku_key` fast field.
    fn skus(searcher: &tantivy::Searcher, page: &[DocAddress]) -> Result<Vec<Hit>, IndexError> {
        let mut columns = HashMap::new();
        let mut hits = Vec::with_capacity(page.len());
        let mut text = String::new();
        for address in page {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .str("sku_key")?,
                ),
            };
            let Some(column) = column.as_ref() else {
                continue;
            };
            let Some(ord) = column.term_ords(address.doc_id).next() else {
                continue;
            };
            if column.ord_to_str(ord, &mut text)?
                && let Ok(sku) = Sku::parse(&text)
            {
                hits.push(Hit { sku });
            }
        }
        Ok(hits)
    }

    /// Up to `limit` product names completing what was typed, best first.
    pub fn suggest(&self, parsed: &Parsed, limit: usize) -> Result<Vec<(Sku, String)>, IndexError> {
        let generation = self.generation();
        let f = generation.f;
        let searcher = generation.reader.searcher();
        if parsed.slots.is_empty() {
            return Ok(Vec::new());
        }
        let name_only = [(f.name, 1.0, true)];
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                text_query(&f, &searcher, parsed, false, &name_only),
            ),
            filter(term_query(Term::from_field_u64(f.active, 1))),
        ]);
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let addresses: Vec<DocAddress> = top.into_iter().map(|(_, a)| a).collect();
        let mut out = Vec::with_capacity(addresses.len());
        for address in addresses {
            let Some(hit) = Self::skus(&searcher, &[address])?.pop() else {
                continue;
            };
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(name) = doc.get_first(f.name).and_then(|v| v.as_str()) {
                out.push((hit.sku, name.to_owned()));
            }
        }
        Ok(out)
    }
}
