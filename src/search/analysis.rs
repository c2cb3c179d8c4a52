//! How text becomes search terms, the same way for products and for queries:
//! lower-cased, accents folded, numbers kept whole (`42.5`, `2,5` = `2.5`) and
//! split from the units written against them (`12mm` = `12 mm`), then English
//! stemming. Pure functions plus the tantivy tokenizer that wraps them.

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

/// The tokenizer behind [`analyzer`].
#[derive(Clone, Default)]
pub struct QuarryTokenizer {
    tokens: Vec<Token>,
}

pub struct QuarryTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for QuarryTokenizer {
    type TokenStream<'a> = QuarryTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> QuarryTokenStream<'a> {
        self.tokens.clear();
        for (position, (from, to, word)) in split(text).into_iter().enumerate() {
            self.tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: word,
                position_length: 1,
            });
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

/// The analyzer for every text field and for queries.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(QuarryTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The terms `text` gives under [`analyzer`], in order.
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
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
    fn offsets_point_into_the_text() {
        let text = "Rebar 12mm";
        for (from, to, word) in split(text) {
            assert_eq!(text[from..to].to_lowercase(), word.to_lowercase());
        }
        assert!(is_number("42.5") && !is_number("mm"));
    }
}
