//! A user's query as Quarry understands it: terms analysed like the catalogue,
//! synonyms recognised, the last word read as a prefix while typing, and the
//! typo tolerance each term allows. Pure, so it is tested on its own.

use super::analysis::{codes, is_number, stem, terms, words};

/// Longest query accepted, in characters. A query is never refused for its
/// number of words: a pasted product name of any length is searched.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words the engine matches one by one; past it, the search keeps the
/// words that discriminate most and says which it left out.
pub const MAX_TERMS: usize = 12;
/// Most terms kept in order for the phrase match on names.
const MAX_PHRASE: usize = 48;

/// One place in a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A term, with the edits it tolerates and whether it may be a prefix.
    /// `word` is the word as typed, folded but not stemmed: what a prefix
    /// extends (a complete "washed" does not prefix "washer").
    Term {
        text: String,
        word: String,
        distance: u8,
        prefix: bool,
    },
    /// Words that have synonyms: any one of these term sequences.
    Synonyms(Vec<Vec<String>>),
}

impl Slot {
    /// A number (never typo-tolerant).
    pub fn is_number(&self) -> bool {
        matches!(self, Slot::Term { text, .. } if is_number(text))
    }
}

/// A parsed query: its slots, and the raw text for code-like matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Parsed {
    pub slots: Vec<Slot>,
    /// Each slot as the user wrote it (the words an answer says it left out).
    pub shown: Vec<String>,
    /// The whole query, trimmed and lower-cased (SKU and barcode matching).
    pub raw: String,
    /// The analysed terms, in order (phrase matching), repeated ones too.
    pub terms: Vec<String>,
    /// Model numbers and codes written whole (`xr2040`), lower-cased.
    pub codes: Vec<String>,
}

impl Parsed {
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.raw.is_empty()
    }

    /// This query with only the slots `keep` accepts (by index), and the
    /// slots it left out with how each was typed. The raw text, phrase terms
    /// and codes stay whole.
    pub fn keeping(
        &self,
        mut keep: impl FnMut(usize, &Slot) -> bool,
    ) -> (Parsed, Vec<(&Slot, &str)>) {
        let mut kept = Parsed {
            raw: self.raw.clone(),
            terms: self.terms.clone(),
            codes: self.codes.clone(),
            ..Parsed::default()
        };
        let mut dropped = Vec::new();
        for (i, (slot, shown)) in self.slots.iter().zip(&self.shown).enumerate() {
            if keep(i, slot) {
                kept.slots.push(slot.clone());
                kept.shown.push(shown.clone());
            } else {
                dropped.push((slot, shown.as_str()));
            }
        }
        (kept, dropped)
    }
}

/// Groups of equivalent phrases, analysed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<Vec<String>>>,
}

impl Synonyms {
    /// From config lines such as `"rebar = reinforcing bar"` or
    /// `"m3 = cubic metre = cubic meter"`.
    pub fn parse(lines: &[String]) -> Result<Self, String> {
        let mut groups = Vec::new();
        for line in lines {
            let group: Vec<Vec<String>> = line
                .split('=')
                .map(terms)
                .filter(|t| !t.is_empty())
                .collect();
            if group.len() < 2 {
                return Err(format!(
                    "{line:?} must name at least two equivalent phrases, like \"rebar = reinforcing bar\""
                ));
            }
            groups.push(group);
        }
        Ok(Self { groups })
    }

    /// The group and length of the longest synonym starting at `terms[i]`.
    fn longest_at(&self, terms: &[String], i: usize) -> Option<(&Vec<Vec<String>>, usize)> {
        let mut best: Option<(&Vec<Vec<String>>, usize)> = None;
        for group in &self.groups {
            for phrase in group {
                let len = phrase.len();
                if terms.len() >= i + len
                    && terms[i..i + len] == phrase[..]
                    && best.is_none_or(|(_, l)| len > l)
                {
                    best = Some((group, len));
                }
            }
        }
        best
    }
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

/// Typo tolerance for a term: none for numbers and short words, one edit from
/// 5 letters, two from 9.
pub fn distance(term: &str) -> u8 {
    if is_number(term) || term.chars().any(|c| c.is_ascii_digit()) {
        return 0;
    }
    match term.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Parses `text`. `typing` says the user may still be typing the last word (it
/// is then also a prefix), which is the case unless the text ends in a space.
pub fn parse(text: &str, synonyms: &Synonyms) -> Result<Parsed, QueryError> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError(format!(
            "the query is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let typing = !text.ends_with(char::is_whitespace);
    let read = words(text);
    let all: Vec<String> = read.iter().map(|w| w.term.clone()).collect();
    let mut slots = Vec::new();
    let mut shown = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let (slot, len) = if let Some((group, len)) = synonyms.longest_at(&all, i) {
            (Slot::Synonyms(group.clone()), len)
        } else {
            let last = i + 1 == all.len();
            let slot = Slot::Term {
                distance: distance(&all[i]),
                prefix: last && typing,
                text: all[i].clone(),
                word: read[i].folded.clone(),
            };
            (slot, 1)
        };
        // A word repeated ("pro … pro") narrows nothing more.
        let repeated = slots.iter().any(|s: &Slot| match (s, &slot) {
            (Slot::Term { text: a, .. }, Slot::Term { text: b, .. }) => a == b,
            (a, b) => a == b,
        });
        if !repeated {
            slots.push(slot);
            shown.push(text[read[i].from..read[i + len - 1].to].to_owned());
        }
        i += len;
    }
    let mut phrase = all;
    phrase.truncate(MAX_PHRASE);
    Ok(Parsed {
        slots,
        shown,
        raw: text.trim().to_lowercase(),
        terms: phrase,
        codes: codes(text).into_iter().map(|(_, _, c)| stem(&c)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str, word: &str, distance: u8, prefix: bool) -> Slot {
        Slot::Term {
            text: text.into(),
            word: word.into(),
            distance,
            prefix,
        }
    }

    #[test]
    fn typo_tolerance_grows_with_length_and_never_touches_numbers() {
        assert_eq!(distance("sand"), 0);
        assert_eq!(distance("washd"), 1);
        assert_eq!(distance("reinforce"), 2);
        assert_eq!(distance("42.5"), 0);
        assert_eq!(distance("a142"), 0);
    }

    #[test]
    fn the_last_word_is_a_prefix_while_typing() {
        let p = parse("washed sa", &Synonyms::default()).unwrap();
        assert_eq!(
            p.slots,
            [term("wash", "washed", 0, false), term("sa", "sa", 0, true)]
        );
        assert_eq!(p.shown, ["washed", "sa"]);
        let p = parse("washed sand ", &Synonyms::default()).unwrap();
        assert_eq!(p.slots[1], term("sand", "sand", 0, false));
    }

    #[test]
    fn synonyms_replace_the_longest_matching_phrase() {
        let s = Synonyms::parse(&[
            "rebar = reinforcing bar".into(),
            "m3 = cubic metre = cubic meter".into(),
        ])
        .unwrap();
        let p = parse("reinforcing bar 12mm", &s).unwrap();
        assert!(matches!(&p.slots[0], Slot::Synonyms(g) if g.len() == 2));
        assert_eq!(p.slots.len(), 3);
        let p = parse("3 m3 sand", &s).unwrap();
        assert!(matches!(&p.slots[1], Slot::Synonyms(g) if g.len() == 3));
        assert!(Synonyms::parse(&["rebar".into()]).is_err());
    }

    #[test]
    fn long_queries_are_read_whole_and_only_overlong_text_is_refused() {
        assert!(parse(&"a".repeat(201), &Synonyms::default()).is_err());
        let words: Vec<String> = (0u8..40)
            .map(|i| {
                format!(
                    "q{}{}",
                    char::from(b'a' + i / 26),
                    char::from(b'a' + i % 26)
                )
            })
            .collect();
        let p = parse(&words.join(" "), &Synonyms::default()).unwrap();
        assert_eq!(p.slots.len(), 40);
        assert!(parse("", &Synonyms::default()).unwrap().is_empty());
    }

    #[test]
    fn keeping_some_slots_keeps_their_order_and_names_the_others_as_typed() {
        let p = parse("Washed SAND organiser ", &Synonyms::default()).unwrap();
        let (kept, dropped) = p.keeping(|i, _| i != 2);
        assert_eq!(kept.shown, ["Washed", "SAND"]);
        assert_eq!(kept.slots, p.slots[..2]);
        assert_eq!((kept.raw.as_str(), kept.terms.len()), (p.raw.as_str(), 3));
        assert_eq!(dropped, [(&p.slots[2], "organiser")]);
    }

    #[test]
    fn repeated_words_count_once_and_codes_are_kept_whole() {
        let p = parse("Pro drill PRO XR2040 case", &Synonyms::default()).unwrap();
        assert_eq!(p.shown, ["Pro", "drill", "XR", "2040", "case"]);
        assert_eq!(p.codes, ["xr2040"]);
        assert_eq!(p.terms.len(), 6);
    }
}
