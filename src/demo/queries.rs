//! A seeded mix of search queries over a generated catalogue, the way people
//! type them: a few words of a product's name, with typos, half-typed last
//! words, SKU fragments, and category filters. Each knows the product it was
//! made from, so a benchmark can also tell whether that product came up.

use serde::Serialize;
use serde_json::Value;

use super::Rng;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedQuery {
    /// `words`, `typo`, `prefix`, `sku` or `filtered`.
    pub kind: &'static str,
    pub text: String,
    /// A category filter (for `filtered`).
    pub category: Option<String>,
    /// The SKU of the product the query was made from.
    pub intended: String,
}

fn words_of(name: &str) -> Vec<String> {
    name.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty() && w != "x")
        .collect()
}

/// One edit (drop, swap or change a letter) in a word of at least five letters.
pub(super) fn typo(word: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let i = 1 + rng.below(chars.len() - 2);
    match rng.below(3) {
        0 => {
            chars.remove(i);
        }
        1 => chars.swap(i, i + 1),
        _ => chars[i] = if chars[i] == 'e' { 'a' } else { 'e' },
    }
    chars.into_iter().collect()
}

/// `count` queries over `products` (as made by [`super::generate`]).
pub fn queries(seed: u64, products: &[Value], count: usize) -> Vec<GeneratedQuery> {
    let mut rng = Rng::new(seed ^ 0x005E_A2C4);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let product = &products[rng.below(products.len())];
        let name = product["name"].as_str().unwrap_or_default();
        let sku = product["sku"].as_str().unwrap_or_default().to_owned();
        let words = words_of(name);
        if words.is_empty() {
            continue;
        }
        let start = rng.below(words.len());
        let take = (1 + rng.below(4)).min(words.len() - start);
        let mut picked: Vec<String> = words[start..start + take].to_vec();
        // Nobody searches for a bare unit or number.
        if picked
            .iter()
            .all(|w| w.len() < 3 || w.chars().all(|c| c.is_ascii_digit() || c == '.'))
        {
            continue;
        }
        let query = match rng.below(10) {
            0..=3 => GeneratedQuery {
                kind: "words",
                text: picked.join(" "),
                category: None,
                intended: sku,
            },
            4 | 5 => {
                let Some(i) = picked
                    .iter()
                    .position(|w| w.chars().count() >= 5 && w.chars().all(char::is_alphabetic))
                else {
                    continue;
                };
                picked[i] = typo(&picked[i], &mut rng);
                GeneratedQuery {
                    kind: "typo",
                    text: picked.join(" "),
                    category: None,
                    intended: sku,
                }
            }
            6 | 7 => {
                let last = picked.pop().unwrap_or_default();
                let cut: String = last.chars().take(3 + rng.below(3)).collect();
                picked.push(cut);
                GeneratedQuery {
                    kind: "prefix",
                    text: picked.join(" "),
                    category: None,
                    intended: sku,
                }
            }
            8 => {
                let chars: Vec<char> = sku.chars().collect();
                let len = (4 + rng.below(3)).min(chars.len());
                let from = rng.below(chars.len() - len + 1);
                GeneratedQuery {
                    kind: "sku",
                    text: chars[from..from + len].iter().collect(),
                    category: None,
                    intended: sku,
                }
            }
            _ => GeneratedQuery {
                kind: "filtered",
                text: picked.join(" "),
                category: product["category"]
                    .as_str()
                    .and_then(|c| c.split('/').next())
                    .map(str::to_owned),
                intended: sku,
            },
        };
        out.push(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_seeded_and_has_every_kind() {
        let products = super::super::generate(1, 500);
        let a = queries(9, &products, 400);
        assert_eq!(a, queries(9, &products, 400));
        for kind in ["words", "typo", "prefix", "sku", "filtered"] {
            assert!(a.iter().any(|q| q.kind == kind), "{kind}");
        }
        assert!(
            a.iter()
                .all(|q| !q.text.is_empty() && q.text.chars().count() <= 200)
        );
    }
}
