//! How text becomes search terms, the same way for products and for queries:
//! lower-cased, accents folded, numbers kept whole (`42.5`, `2,5` = `2.5`) and
//! split from the units written against them (`12mm` = `12 mm`), then English
//! stemming. Model numbers and other codes (`XR2040`, `B500B`) are split into
//! their parts like any word, and the index also keeps them whole, so a code
//! typed whole ranks the product that has it above one that has its parts
//! apart. Pure functions plus the tantivy tokenizer that wraps them.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "quarry";

/// Splits `text` into word and number tokens with their byte offsets.
///
/// A token is a run of letters, or a run of digits that may contain one `.` or
/// `,` between digits. Letters and digits written together are split, so
/// `12mm` gives `12`, `mm`.
pub fn split(text: &str) -> Vec<(usize, usize, String)> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Letter,
        Digit,
    }
    let class = |c: char| {
        if c.is_numeric() {
            Some(Class::Digit)
        } else if c.is_alphabetic() {
            Some(Class::Letter)
        } else {
            None
        }
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let Some(kind) = class(c) else {
            i += 1;
            continue;
        };
        let mut word = String::new();
        let mut j = i;
        while j < chars.len() {
            let (_, c) = chars[j];
            match class(c) {
                Some(k) if k == kind => {
                    word.push(normalize_digit(c));
                    j += 1;
                }
                // A decimal separator between two digits belongs to the number.
                None if kind == Class::Digit
                    && (c == '.' || c == ',')
                    && !word.contains('.')
                    && chars.get(j + 1).is_some_and(|(_, n)| n.is_ascii_digit()) =>
                {
                    word.push('.');
                    j += 1;
                }
                _ => break,
            }
        }
        let end = chars.get(j).map_or(text.len(), |(o, _)| *o);
        out.push((start, end, word));
        i = j;
    }
    out
}

/// The codes of `text` with their byte offsets: runs of letters and digits
/// written together that are model numbers rather than a number and its unit
/// (`xr2040`, `b500b`, `a142`, `2x4`; not `12mm` or `18v`), lower-cased. Only
/// ASCII codes: that is how model numbers are written.
pub fn codes(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes = text.as_bytes();
    for i in 0..=bytes.len() {
        let alnum = bytes.get(i).is_some_and(u8::is_ascii_alphanumeric);
        match (alnum, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                start = None;
                // A code stands alone: not part of a longer non-ASCII word.
                let glued = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
                if glued(text[..from].chars().next_back()) || glued(text[i..].chars().next()) {
                    continue;
                }
                let word = &text[from..i];
                let runs = 1 + word
                    .as_bytes()
                    .windows(2)
                    .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
                    .count();
                let letter_first = word.as_bytes()[0].is_ascii_alphabetic();
                if runs >= 3 || (runs == 2 && letter_first) {
                    out.push((from, i, word.to_ascii_lowercase()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Units and the "x" of dimensions, as analysed.
pub const UNIT_WORDS: &[&str] = &[
    "mm", "cm", "m", "km", "g", "kg", "t", "l", "ml", "in", "ft", "yd", "oz", "lb", "x", "v", "w",
    "ah", "n", "pc",
];

/// The numbers of the first size written in a product name: a number, or
/// numbers joined by `-`, `/` or `x`, followed by a unit (`12` of "Rebar
/// B500B 12 mm x 6 m", `0`, `4` of "Washed sand 0-4 mm"). Numbers written
/// against letters (`B500B`, `C24`) are parts of codes, not sizes.
pub fn dimension(name: &str) -> Vec<String> {
    let tokens = split(name);
    let lower: Vec<String> = tokens.iter().map(|(_, _, w)| w.to_lowercase()).collect();
    let unit = |i: usize| {
        lower
            .get(i)
            .is_some_and(|w| UNIT_WORDS.contains(&w.as_str()))
    };
    let mut group: Vec<String> = Vec::new();
    for (i, (from, to, _)) in tokens.iter().enumerate() {
        let word = &lower[i];
        // Written against a letter before it, or after it unless that is a
        // unit ("12mm"): part of a code.
        let glued = name[..*from]
            .chars()
            .next_back()
            .is_some_and(char::is_alphabetic)
            || (name[*to..].chars().next().is_some_and(char::is_alphabetic)
                && !(unit(i + 1) && tokens[i + 1].0 == *to));
        if is_number(word) && !glued {
            group.push(word.clone());
        } else if word == "x" && !group.is_empty() {
            // "47 x 100 mm": the size goes on.
        } else if unit(i) && !group.is_empty() {
            return group;
        } else {
            group.clear();
        }
    }
    Vec::new()
}

/// The stem of one word, as the index holds it.
pub fn stem(word: &str) -> String {
    frostem::Stemmer::new(frostem::Algorithm::English)
        .stem(word)
        .into_owned()
}

/// Superscripts and other numeric forms become plain digits (`m³` → `m3`).
fn normalize_digit(c: char) -> char {
    match c {
        '²' => '2',
        '³' => '3',
        '¹' => '1',
        '⁰' => '0',
        _ => c,
    }
}

/// Whether a token is a number (no typo tolerance, no stemming effect).
pub fn is_number(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// The tokenizer behind [`analyzer`]: words and numbers, and (for the
/// index) each code whole at the position of its first part.
#[derive(Clone, Default)]
pub struct QuarryTokenizer {
    tokens: Vec<Token>,
    codes: bool,
}

pub struct QuarryTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for QuarryTokenizer {
    type TokenStream<'a> = QuarryTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> QuarryTokenStream<'a> {
        self.tokens.clear();
        let mut codes = if self.codes {
            codes(text).into_iter().peekable()
        } else {
            Vec::new().into_iter().peekable()
        };
        for (position, (from, to, word)) in split(text).into_iter().enumerate() {
            self.tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: word,
                position_length: 1,
            });
            while let Some((code_from, code_to, code)) = codes.next_if(|(f, _, _)| *f <= from) {
                self.tokens.push(Token {
                    offset_from: code_from,
                    offset_to: code_to,
                    position,
                    text: code,
                    position_length: 1,
                });
            }
        }
        QuarryTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for QuarryTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The analyzer of every text field of the index: words, numbers and codes.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(QuarryTokenizer {
        codes: true,
        ..QuarryTokenizer::default()
    })
    .filter(RemoveLongFilter::limit(40))
    .filter(LowerCaser)
    .filter(AsciiFoldingFilter)
    .filter(Stemmer::new(Language::English))
    .build()
}

/// Words and numbers folded as the index has them (not stemmed), codes left
/// as their parts: how queries (and the text being highlighted) are read.
fn query_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(QuarryTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn run(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().clone());
    }
    out
}

/// The terms of `text` as a query has them, in order.
pub fn terms(text: &str) -> Vec<String> {
    words(text).into_iter().map(|w| w.term).collect()
}

/// A word of a text: its term (stemmed, as the index holds it), the word
/// itself folded but not stemmed (what a prefix is matched against: "washed"
/// is a complete word and must not prefix "washer"), and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub term: String,
    pub folded: String,
    pub from: usize,
    pub to: usize,
}

/// Reads `text` into words with analyzers of its own; see [`Words`] to
/// reuse them.
pub fn words(text: &str) -> Vec<Word> {
    Words::default().of(text)
}

/// The analyzer and stemmer behind [`words`], kept for reuse: the text is
/// read once, and each word stemmed on its own (by the stemmer of tantivy's
/// English filter, so the terms are the index's).
pub struct Words {
    folded: TextAnalyzer,
    stemmer: frostem::Stemmer,
}

impl Default for Words {
    fn default() -> Self {
        Self {
            folded: query_analyzer(),
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

impl Words {
    pub fn of(&mut self, text: &str) -> Vec<Word> {
        run(&mut self.folded, text)
            .into_iter()
            .map(|folded| Word {
                term: self.stemmer.stem(&folded.text).into_owned(),
                folded: folded.text,
                from: folded.offset_from,
                to: folded.offset_to,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_whole_and_units_split_off() {
        assert_eq!(terms("12mm"), terms("12 mm"));
        assert_eq!(terms("cem 42.5"), ["cem", "42.5"]);
        assert_eq!(terms("CEM I 42,5 R"), ["cem", "i", "42.5", "r"]);
        assert_eq!(terms("0-4 mm"), ["0", "4", "mm"]);
        assert_eq!(terms("3 m³"), ["3", "m", "3"]);
        assert_eq!(terms("m3"), ["m", "3"]);
        assert_eq!(terms("1.2.3"), ["1.2", "3"]);
    }

    #[test]
    fn words_are_folded_and_stemmed() {
        assert_eq!(terms("Washed"), terms("wash"));
        assert_eq!(terms("Béton"), ["beton"]);
        assert_eq!(terms("Bricks"), terms("brick"));
    }

    #[test]
    fn codes_are_kept_whole_beside_their_parts_in_the_index_only() {
        let found: Vec<String> = codes("Drill XR2040, bar B500B 12mm 18V a142 2x4 ½in Ü2b")
            .into_iter()
            .map(|(_, _, c)| c)
            .collect();
        assert_eq!(found, ["xr2040", "b500b", "a142", "2x4"]);
        assert_eq!(terms("XR2040"), ["xr", "2040"]);
        assert_eq!(terms("xr 2040"), terms("XR2040"));
        let mut index = analyzer();
        let indexed: Vec<(String, usize)> = run(&mut index, "Acme XR2040 drill")
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect();
        assert_eq!(
            indexed,
            [
                ("acm".to_owned(), 0),
                ("xr".to_owned(), 1),
                ("xr2040".to_owned(), 1),
                ("2040".to_owned(), 2),
                ("drill".to_owned(), 3)
            ]
        );
    }

    #[test]
    fn single_words_stem_as_the_index_stems_them() {
        for word in [
            "washed",
            "insulation",
            "reducer",
            "bricks",
            "gravelly",
            "acme",
        ] {
            let indexed: Vec<String> = run(&mut analyzer(), word)
                .into_iter()
                .map(|t| t.text)
                .collect();
            assert_eq!(vec![stem(word)], indexed, "{word}");
        }
        let text = "Washed insulation reducers for bricks";
        let indexed: Vec<String> = run(&mut analyzer(), text)
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(terms(text), indexed);
    }

    #[test]
    fn words_keep_the_unstemmed_form_for_prefixes() {
        let w = words("Washed sand");
        assert_eq!(w[0].term, "wash");
        assert_eq!(w[0].folded, "washed");
        assert_eq!((w[1].from, w[1].to), (7, 11));
        assert_eq!(terms("18k"), terms("18 k"));
        assert_eq!(terms("2,5 t"), terms("2.5 t"));
        assert_eq!(terms("3m"), terms("3 m"));
    }

    #[test]
    fn the_first_size_of_a_name_is_its_dimension() {
        assert_eq!(dimension("Rebar B500B 16 mm x 12 m"), ["16"]);
        assert_eq!(dimension("Rebar B500B 12mm x 6m"), ["12"]);
        assert_eq!(dimension("Washed sand 0-4 mm"), ["0", "4"]);
        assert_eq!(dimension("Sawn C24 47 x 100 mm x 4.8 m"), ["47", "100"]);
        assert_eq!(dimension("Portland cement CEM I 42,5 R 25 kg"), ["25"]);
        assert!(dimension("Mesh A142").is_empty());
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Rebar 12mm";
        for (from, to, word) in split(text) {
            assert_eq!(text[from..to].to_lowercase(), word.to_lowercase());
        }
        assert!(is_number("42.5") && !is_number("mm"));
    }
}
