//! Searching: a query becomes one pass over the index that collects the page,
//! the total and the facets; suggestions. The index itself (its generations,
//! following the change log) is in `generations.rs`, its fields in `schema.rs`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Bound;

use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, FuzzyTermQuery, Occur,
    PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Order, TantivyDocument, Term};

use super::IndexError;
use super::analysis::{UNIT_WORDS, stem, words};
use super::generations::SearchIndex;
use super::highlight::within;
use super::query::{MAX_TERMS, Parsed, Slot};
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
    /// Products of this brand, as written.
    pub brand: Option<String>,
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
    pub brand: Vec<(String, u64)>,
}

/// An answer that does not match every word of the query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Relaxed {
    /// The words left out, as typed.
    pub ignored: Vec<String>,
    /// The words the products shown match (the best of them matches all).
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Facets,
    /// Set when no product matches every word of the query, or the query had
    /// more words than the engine matches one by one.
    pub relaxed: Option<Relaxed>,
    /// When nothing matches at all: the query with its words replaced by the
    /// closest words of the catalogue.
    pub did_you_mean: Option<String>,
}

/// Field boosts: name strongest, then brand, then category words, tags and
/// attributes; description weakest.
fn text_fields(f: &Fields) -> [(Field, f32, bool); 4] {
    // (field, boost, matched as a prefix while typing)
    [
        (f.name, 5.0, true),
        (f.brand, 3.5, true),
        (f.keywords, 2.0, true),
        (f.description, 0.5, false),
    ]
}

/// How the words of a query must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every word (a unit word next to others only adds to the score).
    Strict,
    /// At least this many of the words; products that match more rank first.
    AtLeast(usize),
}

/// Most words of one query looked up for "did you mean".
const MAX_CORRECTIONS: usize = 6;

/// What each matched word adds to the score of a relaxed query: more than the
/// relevance of any match, so products rank by how many words they match,
/// then by relevance.
const PER_WORD: f32 = 1000.0;

/// How many products have `text` in these fields, counted once per field.
fn frequency(searcher: &tantivy::Searcher, fields: &[Field], text: &str) -> u64 {
    fields
        .iter()
        .map(|field| {
            searcher
                .doc_freq(&Term::from_field_text(*field, text))
                .unwrap_or(0)
        })
        .sum()
}

/// The fields of `fields`, without their weights.
fn names(fields: &[(Field, f32, bool)]) -> Vec<Field> {
    fields.iter().map(|(field, _, _)| *field).collect()
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
            word,
            distance,
            prefix,
        } => {
            // A typo is looked for in every field (descriptions too: a
            // typo must not lose matches the right word has).
            let known = *distance > 0 && frequency(searcher, &names(fields), text) > 0;
            for (field, weight, prefixed) in fields {
                let term = Term::from_field_text(*field, text);
                should.push((Occur::Should, boost(term_query(term.clone()), weight * 2.0)));
                // One letter would expand to half the dictionary. The
                // prefix is the word as typed: "washed" is complete and
                // must not grow into "washer" through its stem "wash".
                if *prefixed && *prefix && word.chars().count() >= 2 {
                    let q =
                        FuzzyTermQuery::new_prefix(Term::from_field_text(*field, word), 0, true);
                    should.push((Occur::Should, boost(Box::new(q), weight * 1.2)));
                }
                if *distance > 0 && !known {
                    // Descriptions hold the most words: one edit there (a
                    // two-edit automaton over their dictionary costs more
                    // than the rest of the query).
                    let distance = if *prefixed { *distance } else { 1 };
                    let q = FuzzyTermQuery::new(term, distance, true);
                    should.push((Occur::Should, boost(Box::new(q), *weight)));
                    // A misspelt word does not stem like the right one
                    // ("redcuer" stays whole, "reducer" is `reduc`): its
                    // leading letters, within the same edits, start the
                    // right word's stem.
                    if *prefixed && let Some(lead) = leading(word) {
                        let lead = Term::from_field_text(*field, &lead);
                        let q = FuzzyTermQuery::new_prefix(lead, 1, true);
                        should.push((Occur::Should, boost(Box::new(q), weight * 0.8)));
                    }
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
                            word: t.clone(),
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

/// The text part of a search: every slot must match (or, relaxed, at least
/// some), with [`bonuses`] for how they match; a SKU or barcode typed whole
/// or as a prefix matches too, and counts extra.
fn text_query(
    f: &Fields,
    searcher: &tantivy::Searcher,
    parsed: &Parsed,
    mode: Mode,
    fields: &[(Field, f32, bool)],
) -> Box<dyn Query> {
    if parsed.is_empty() {
        return Box::new(AllQuery);
    }
    // A unit word ("mm", "kg") next to other words narrows nothing on its own:
    // it only adds to the score (and costs no scan of every product in mm).
    let meaningful = parsed.slots.iter().filter(|slot| !is_unit(slot)).count();
    let mut counted: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut units: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for slot in &parsed.slots {
        let query = slot_query(f, searcher, slot, fields);
        if meaningful > 0 && is_unit(slot) {
            units.push((Occur::Should, query));
            continue;
        }
        counted.push(match mode {
            Mode::Strict => (Occur::Must, query),
            Mode::AtLeast(_) => (
                Occur::Should,
                Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        Box::new(ConstScoreQuery::new(query.box_clone(), PER_WORD)),
                    ),
                    (Occur::Should, query),
                ])),
            ),
        });
    }
    let mut words = BooleanQuery::new(counted);
    if let Mode::AtLeast(m) = mode {
        words.set_minimum_number_should_match(m);
    }
    // What matches the words may score more for how it matches them.
    let mut scored: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(words))];
    scored.append(&mut units);
    scored.extend(bonuses(f, parsed, fields));
    let mut should: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Should, Box::new(BooleanQuery::new(scored)))];
    let raw = parsed.raw.as_str();
    if !raw.is_empty() && !raw.contains(char::is_whitespace) && fields.len() > 1 {
        let sku = Term::from_field_text(f.sku_key, raw);
        should.push((Occur::Should, boost(term_query(sku.clone()), 40.0)));
        // Prefixes are terms of their own (raw is lower-cased and the
        // prefixes are cut by character, as the tokenizer cuts them).
        let prefix = Term::from_field_text(f.sku_prefix, raw);
        should.push((Occur::Should, boost(term_query(prefix), 10.0)));
        // A fragment typed with its separators ("t-0030") is split into
        // words like any query; as typed, it names the SKUs that contain it.
        if raw.contains(|c: char| !c.is_alphanumeric()) && (3..=12).contains(&raw.chars().count()) {
            let fragment = Term::from_field_text(f.sku_ngram, raw);
            should.push((Occur::Should, boost(term_query(fragment), 20.0)));
        }
        let barcode = Term::from_field_text(f.barcode, raw);
        should.push((Occur::Should, boost(term_query(barcode.clone()), 40.0)));
        let prefix = Term::from_field_text(f.barcode_prefix, raw);
        should.push((Occur::Should, boost(term_query(prefix), 8.0)));
    }
    Box::new(BooleanQuery::new(should))
}

/// What adds to the score of a product that matches the words: the words
/// as a phrase in the name, codes typed whole, a bare number naming the
/// product's defining dimension.
fn bonuses(
    f: &Fields,
    parsed: &Parsed,
    fields: &[(Field, f32, bool)],
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut bonus: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if parsed.terms.len() >= 2 {
        let terms: Vec<Term> = parsed
            .terms
            .iter()
            .map(|t| Term::from_field_text(f.name, t))
            .collect();
        bonus.push((
            Occur::Should,
            boost(Box::new(PhraseQuery::new(terms.clone())), 6.0),
        ));
        // Words that follow each other in the query and in the name ("12 mm",
        // "pea gravel") say more than the same words apart.
        if terms.len() > 2 {
            let mut pairs: Vec<&[Term]> = terms.windows(2).collect();
            pairs.sort();
            pairs.dedup();
            for pair in pairs {
                bonus.push((
                    Occur::Should,
                    boost(Box::new(PhraseQuery::new(pair.to_vec())), 3.0),
                ));
            }
        }
    }
    // A model number typed whole matches the product that has it whole
    // above one that has its parts apart.
    for code in &parsed.codes {
        for (field, weight, _) in fields.iter().take(3) {
            let term = Term::from_field_text(*field, code);
            bonus.push((Occur::Should, boost(term_query(term), weight * 1.5)));
        }
    }
    // A bare number ("rebar 12") means the product's defining dimension (the
    // first size in its name: 12 mm for "Rebar 12 mm x 6 m", not the 12 m of
    // "Rebar 16 mm x 12 m"); a number with its unit is matched as written.
    if fields.len() > 1 {
        for (i, slot) in parsed.slots.iter().enumerate() {
            let Slot::Term { text, .. } = slot else {
                continue;
            };
            let unit_follows = parsed.slots.get(i + 1).is_some_and(is_unit);
            if slot.is_number() && !unit_follows {
                let term = Term::from_field_text(f.dimension, text);
                bonus.push((Occur::Should, boost(term_query(term), 4.0)));
            }
        }
    }
    bonus
}

/// The leading letters of a misspelt word of six letters or more that a
/// stem of the right word starts with, give or take one edit: three in five
/// of them, at least five (stems keep about that much: `insul` of
/// "insulation", `reduc` of "reducer").
fn leading(word: &str) -> Option<String> {
    let n = word.chars().count();
    (n >= 6 && word.chars().all(char::is_alphabetic))
        .then(|| word.chars().take((n * 3).div_ceil(5).max(5)).collect())
}

fn is_unit(slot: &Slot) -> bool {
    matches!(slot, Slot::Term { text, prefix: false, .. } if UNIT_WORDS.contains(&text.as_str()))
}

/// The slots of a query that count as words (all but unit words).
fn counted(parsed: &Parsed) -> Vec<usize> {
    (0..parsed.slots.len())
        .filter(|&i| !is_unit(&parsed.slots[i]))
        .collect()
}

/// The query without its words that no product has in any field (exact
/// words only: a typo-tolerant or half-typed word may still match), and those
/// words as typed. Costs a dictionary lookup per word and field.
fn without_dead_words(
    searcher: &tantivy::Searcher,
    f: &Fields,
    fields: &[(Field, f32, bool)],
    parsed: &Parsed,
) -> (Parsed, Vec<String>) {
    let mut anywhere = names(fields);
    anywhere.push(f.sku_ngram);
    let (alive, dead) = parsed.keeping(|_, slot| match slot {
        Slot::Term {
            text,
            distance: 0,
            prefix: false,
            ..
        } => is_unit(slot) || frequency(searcher, &anywhere, text) > 0,
        _ => true,
    });
    let dead = dead
        .into_iter()
        .map(|(_, shown)| shown.to_owned())
        .collect();
    (alive, dead)
}

/// Whether the document at `address` matches `query`.
fn matches_doc(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    address: DocAddress,
) -> Result<bool, IndexError> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut scorer = weight.scorer(searcher.segment_reader(address.segment_ord), 1.0)?;
    let target = address.doc_id;
    Ok(scorer.doc() == target || (scorer.doc() < target && scorer.seek(target) == target))
}

/// A query of more than [`MAX_TERMS`] words, cut to the words that
/// discriminate most (the rarest in the catalogue first; words it does not
/// have and unit words last; among equals, the first typed), and the words
/// left out, as typed. A misspelt word the catalogue does not have as
/// written counts as often as its typo-tolerant matches: a brand typed
/// wrong in a pasted name is the word that tells the product apart, not one
/// to leave out.
fn focus<'a>(
    searcher: &tantivy::Searcher,
    f: &Fields,
    fields: &[(Field, f32, bool)],
    parsed: &'a Parsed,
) -> Result<(Cow<'a, Parsed>, Vec<String>), IndexError> {
    if parsed.slots.len() <= MAX_TERMS {
        return Ok((Cow::Borrowed(parsed), Vec::new()));
    }
    let scope = names(fields);
    let mut order: Vec<(bool, bool, u64, usize)> = Vec::with_capacity(parsed.slots.len());
    for (i, slot) in parsed.slots.iter().enumerate() {
        let n = match slot {
            Slot::Term { text, distance, .. } => {
                let n = frequency(searcher, &scope, text);
                if n == 0 && *distance > 0 {
                    let fuzzy = slot_query(f, searcher, slot, fields);
                    u64::try_from(searcher.search(&*fuzzy, &tantivy::collector::Count)?)
                        .unwrap_or(u64::MAX)
                } else {
                    n
                }
            }
            Slot::Synonyms(_) => 1,
        };
        order.push((is_unit(slot), n == 0, n, i));
    }
    order.sort_unstable();
    let mut keep = vec![false; parsed.slots.len()];
    for &(_, _, _, i) in order.iter().take(MAX_TERMS) {
        keep[i] = true;
    }
    let (focused, dropped) = parsed.keeping(|i, _| keep[i]);
    let left_out = dropped
        .into_iter()
        .filter(|(slot, _)| !is_unit(slot))
        .map(|(_, shown)| shown.to_owned())
        .collect();
    Ok((Cow::Owned(focused), left_out))
}

/// Filters a facet pass leaves out, so the facet's other values stay visible.
#[derive(Debug, Clone, Copy)]
struct Skip {
    category: bool,
    tags: bool,
    brand: bool,
}

impl Skip {
    const NONE: Self = Self {
        category: false,
        tags: false,
        brand: false,
    };
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

/// The counts of the children of `parent` in `field` among what `query`
/// matches, most first.
fn facet_pass(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    field: &str,
    parent: &Facet,
    k: usize,
) -> Result<Vec<(String, u64)>, IndexError> {
    let mut collector = FacetCollector::for_field(field);
    collector.add_facet(parent.clone());
    let counts = searcher.search(query, &collector)?;
    Ok(facet_counts(&counts, parent, k))
}

/// The filters of a request, but those `skip` leaves out.
fn filters(
    f: &Fields,
    request: &SearchRequest,
    category: Option<&String>,
    skip: Skip,
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !request.include_inactive {
        clauses.push(filter(term_query(Term::from_field_u64(f.active, 1))));
    }
    if let (Some(c), false) = (category, skip.category) {
        let facet = Facet::from_path(c.split('/'));
        clauses.push(filter(term_query(Term::from_facet(f.category, &facet))));
    }
    if !skip.tags {
        for tag in &request.tags {
            let facet = Facet::from_path([tag.as_str()]);
            clauses.push(filter(term_query(Term::from_facet(f.tags, &facet))));
        }
    }
    if let (Some(brand), false) = (&request.brand, skip.brand) {
        let facet = Facet::from_path([brand.as_str()]);
        clauses.push(filter(term_query(Term::from_facet(f.brand_facet, &facet))));
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
}

/// One search under way: what every pass of it shares.
struct Searching<'a> {
    f: Fields,
    searcher: &'a tantivy::Searcher,
    fields: [(Field, f32, bool); 4],
    request: &'a SearchRequest,
    /// The category filter, as the index spells it.
    category: Option<String>,
    /// The facet whose children the category facet counts.
    parent: Facet,
}

/// What a relaxed search settled on: the query, how its words must match, the
/// pass, and what the answer says about it.
type Settled<'q> = (Cow<'q, Parsed>, Mode, Pass, Option<Relaxed>);

impl Searching<'_> {
    /// The whole query: the words as `mode` says, and the filters but those
    /// `skip` leaves out.
    fn build(&self, query: &Parsed, mode: Mode, skip: Skip) -> Box<dyn Query> {
        let f = &self.f;
        let mut clauses = vec![(
            Occur::Must,
            text_query(f, self.searcher, query, mode, &self.fields),
        )];
        clauses.extend(filters(f, self.request, self.category.as_ref(), skip));
        Box::new(BooleanQuery::new(clauses))
    }

    fn pass(&self, query: &Parsed, mode: Mode) -> Result<Pass, IndexError> {
        SearchIndex::collect(
            self.searcher,
            &*self.build(query, mode, Skip::NONE),
            self.request,
            &self.parent,
        )
    }

    /// No product has every word of `focused`. Words no product has at all
    /// go first: the others, searched strictly, may be the answer (one more
    /// pass). Failing that, a probe that needs any one word finds the best
    /// product; the words it matches say how many the answer needs; every
    /// product with that many is shown, those with more first.
    fn relax<'q>(
        &self,
        focused: &'q Parsed,
        mut left_out: Vec<String>,
    ) -> Result<Settled<'q>, IndexError> {
        let mut query = Cow::Borrowed(focused);
        let (alive, dead) = without_dead_words(self.searcher, &self.f, &self.fields, focused);
        if !dead.is_empty() && !counted(&alive).is_empty() {
            left_out.extend(dead);
            query = Cow::Owned(alive);
            let pass = self.pass(&query, Mode::Strict)?;
            if pass.total > 0 || counted(&query).len() < 2 {
                let relaxed = Relaxed {
                    ignored: left_out,
                    matched: shown(&query),
                };
                return Ok((query, Mode::Strict, pass, Some(relaxed)));
            }
        }
        let probe = self.build(&query, Mode::AtLeast(1), Skip::NONE);
        let best = self
            .searcher
            .search(&*probe, &TopDocs::with_limit(1).order_by_score())?;
        let Some(&(_, address)) = best.first() else {
            // Not one word matches: nothing to relax to.
            let nothing = Pass {
                total: 0,
                page: Vec::new(),
                facets: Facets::default(),
            };
            return Ok((query, Mode::Strict, nothing, None));
        };
        let mut matched = Vec::new();
        for i in counted(&query) {
            let slot = slot_query(&self.f, self.searcher, &query.slots[i], &self.fields);
            if matches_doc(self.searcher, &*slot, address)? {
                matched.push(query.shown[i].clone());
            } else {
                left_out.push(query.shown[i].clone());
            }
        }
        let mode = Mode::AtLeast(matched.len().max(1));
        let pass = self.pass(&query, mode)?;
        let relaxed = Relaxed {
            ignored: left_out,
            matched,
        };
        Ok((query, mode, pass, Some(relaxed)))
    }

    /// The facets of the answer: those of its pass, and for each facet the
    /// request filters on, a pass of its own without that filter.
    fn facets(
        &self,
        query: &Parsed,
        mode: Mode,
        mut facets: Facets,
        total: usize,
    ) -> Result<Facets, IndexError> {
        let root = Facet::root();
        let only = |category, tags, brand| Skip {
            category,
            tags,
            brand,
        };
        let passes = [
            (
                self.category.is_some(),
                only(true, false, false),
                "category",
                &self.parent,
                100,
                &mut facets.category,
            ),
            (
                !self.request.tags.is_empty(),
                only(false, true, false),
                "tags",
                &root,
                30,
                &mut facets.tags,
            ),
            (
                self.request.brand.is_some(),
                only(false, false, true),
                "brand_facet",
                &root,
                30,
                &mut facets.brand,
            ),
        ];
        for (filtered, skip, field, parent, k, counts) in passes {
            if filtered {
                let query = self.build(query, mode, skip);
                *counts = facet_pass(self.searcher, &*query, field, parent, k)?;
            }
        }
        if facets.category.is_empty()
            && let Some(c) = &self.category
            && total > 0
        {
            // A leaf category: its own count.
            facets.category.push((c.clone(), total as u64));
        }
        Ok(facets)
    }
}

/// The words of a query that count, as typed.
fn shown(parsed: &Parsed) -> Vec<String> {
    counted(parsed)
        .into_iter()
        .map(|i| parsed.shown[i].clone())
        .collect()
}

/// The category path `wanted` (lower-cased) names, as products spell it: the
/// path itself, or else the one path that ends with it (`sand` is
/// `Aggregates/Sand` when no other category ends in `sand`).
fn spelled_category(known: &HashMap<String, String>, wanted: &str) -> String {
    if let Some(path) = known.get(wanted) {
        return path.clone();
    }
    let tail = format!("/{wanted}");
    let mut ending = known
        .iter()
        .filter(|(lower, _)| lower.ends_with(&tail))
        .map(|(_, path)| path);
    match (ending.next(), ending.next()) {
        (Some(only), None) => only.clone(),
        _ => wanted.to_owned(),
    }
}

impl SearchIndex {
    /// Every category products are filed under, at every level, with how
    /// many products it holds with everything under it (archived ones only
    /// when `include_inactive`), in path order. One pass over the index: a
    /// facet counter per depth (a counter takes no facet inside another).
    pub fn categories(&self, include_inactive: bool) -> Result<Vec<(String, u64)>, IndexError> {
        let generation = self.generation();
        let searcher = generation.reader.searcher();
        let paths: Vec<String> = generation
            .categories
            .read()
            .expect("lock")
            .values()
            .cloned()
            .collect();
        let mut by_depth: Vec<FacetCollector> = Vec::new();
        for parent in std::iter::once(Facet::root())
            .chain(paths.iter().map(|p| Facet::from_path(p.split('/'))))
        {
            let depth = if parent.is_root() {
                0
            } else {
                parent.to_path().len()
            };
            while by_depth.len() <= depth {
                by_depth.push(FacetCollector::for_field("category"));
            }
            by_depth[depth].add_facet(parent);
        }
        let mut multi = tantivy::collector::MultiCollector::new();
        let handles: Vec<_> = by_depth
            .into_iter()
            .map(|c| multi.add_collector(c))
            .collect();
        let query: Box<dyn Query> = if include_inactive {
            Box::new(AllQuery)
        } else {
            term_query(Term::from_field_u64(generation.f.active, 1))
        };
        let mut fruits = searcher.search(&*query, &multi)?;
        let mut counted: Vec<(String, u64)> = Vec::new();
        for handle in handles {
            let counts = handle.extract(&mut fruits);
            counted.extend(
                counts
                    .get(Facet::root())
                    .filter(|(_, n)| *n > 0)
                    .map(|(facet, n)| {
                        (facet.to_path_string().trim_start_matches('/').to_owned(), n)
                    }),
            );
        }
        counted.sort_by_cached_key(|(path, _)| path.to_lowercase());
        Ok(counted)
    }

    /// Runs a search: one pass over the index collects the page, the total and
    /// the facets (a facet the request filters on is counted in a pass of its
    /// own, without that filter, so its other values stay visible). When no
    /// product has every word, the search is relaxed (`Searching::relax`).
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult, IndexError> {
        let generation = self.generation();
        let f = generation.f;
        let searcher = generation.reader.searcher();
        let category = request
            .category
            .as_ref()
            .map(|c| spelled_category(&generation.categories.read().expect("lock"), c));
        let parent = category
            .as_deref()
            .map_or_else(Facet::root, |c| Facet::from_path(c.split('/')));
        let s = Searching {
            f,
            searcher: &searcher,
            fields: text_fields(&f),
            request,
            category,
            parent,
        };
        let (focused, left_out) = focus(&searcher, &s.f, &s.fields, &request.query)?;
        let strict = s.pass(&focused, Mode::Strict)?;
        let (query, mode, pass, relaxed) = if strict.total == 0 && counted(&focused).len() > 1 {
            s.relax(&focused, left_out)?
        } else {
            let relaxed = (!left_out.is_empty()).then(|| Relaxed {
                ignored: left_out,
                matched: shown(&focused),
            });
            (Cow::Borrowed(&*focused), Mode::Strict, strict, relaxed)
        };
        let facets = s.facets(&query, mode, pass.facets, pass.total)?;
        let hits = Self::skus(&searcher, &pass.page)?;
        let did_you_mean = if pass.total == 0 {
            Self::correction(&searcher, &f, &focused)?
        } else {
            None
        };
        Ok(SearchResult {
            hits,
            total: pass.total,
            facets,
            relaxed,
            did_you_mean,
        })
    }

    /// The query with each word that the catalogue does not have replaced by
    /// the closest word of a product name (two edits at most, the nearer and
    /// then the more common first); `None` when no word could be replaced.
    fn correction(
        searcher: &tantivy::Searcher,
        f: &Fields,
        parsed: &Parsed,
    ) -> Result<Option<String>, IndexError> {
        let mut changed = false;
        let mut out = Vec::with_capacity(parsed.slots.len());
        // Each lookup is a two-edit search and reads up to 20 names: a bound
        // on what one query that matches nothing may cost.
        let mut lookups = 0;
        for (slot, shown) in parsed.slots.iter().zip(&parsed.shown) {
            let replacement = match slot {
                Slot::Term { text, word, .. }
                    if !slot.is_number()
                        && word.chars().count() >= 3
                        && lookups < MAX_CORRECTIONS =>
                {
                    let known = searcher
                        .doc_freq(&Term::from_field_text(f.name, text))
                        .is_ok_and(|n| n > 0);
                    if known {
                        None
                    } else {
                        lookups += 1;
                        Self::closest_word(searcher, f, word)?
                    }
                }
                _ => None,
            };
            match replacement {
                Some(word) => {
                    changed = true;
                    out.push(word);
                }
                None => out.push(shown.to_lowercase()),
            }
        }
        Ok(changed.then(|| out.join(" ")))
    }

    /// The word of a product name closest to `word` (folded), if one is
    /// within two edits.
    fn closest_word(
        searcher: &tantivy::Searcher,
        f: &Fields,
        word: &str,
    ) -> Result<Option<String>, IndexError> {
        let fuzzy = FuzzyTermQuery::new(Term::from_field_text(f.name, &stem(word)), 2, true);
        let top = searcher.search(&fuzzy, &TopDocs::with_limit(20).order_by_score())?;
        let mut best: Option<(u8, usize, String)> = None;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Some(name) = doc.get_first(f.name).and_then(|v| v.as_str()) else {
                continue;
            };
            for found in words(name) {
                if found.folded.chars().count() < 3 || super::analysis::is_number(&found.folded) {
                    continue;
                }
                let Some(distance) = (1..=2).find(|&d| within(&found.folded, word, d)) else {
                    continue;
                };
                let seen = counts.entry(found.folded.clone()).or_default();
                *seen += 1;
                let candidate = (distance, usize::MAX - *seen, found.folded);
                if best.as_ref().is_none_or(|b| candidate < *b) {
                    best = Some(candidate);
                }
            }
        }
        Ok(best.map(|(_, _, word)| word))
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
        let mut by_brand = FacetCollector::for_field("brand_facet");
        by_brand.add_facet(Facet::root());
        let facets = (by_category, by_tag, by_brand);
        let (total, page, (categories, tags, brands)) = match request.sort {
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
                let (n, top, f) = searcher.search(query, &(Count, ranked, facets))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), f)
            }
            Sort::PriceAscending | Sort::PriceDescending => {
                // By price per base unit, each dimension's products together.
                let key = if request.sort == Sort::PriceAscending {
                    "unit_price_up"
                } else {
                    "unit_price_down"
                };
                let by_price = page.order_by_fast_field::<u64>(key, Order::Asc);
                let (n, top, f) = searcher.search(query, &(Count, by_price, facets))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), f)
            }
            Sort::Name => {
                let by_name = page.order_by_string_fast_field("name_sort", Order::Asc);
                let (n, top, f) = searcher.search(query, &(Count, by_name, facets))?;
                (n, top.into_iter().map(|(_, a)| a).collect(), f)
            }
        };
        Ok(Pass {
            total,
            page,
            facets: Facets {
                category: facet_counts(&categories, category, 100),
                tags: facet_counts(&tags, &Facet::root(), 30),
                brand: facet_counts(&brands, &Facet::root(), 30),
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
                text_query(&f, &searcher, parsed, Mode::Strict, &name_only),
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
