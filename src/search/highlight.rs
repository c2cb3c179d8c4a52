//! Highlighting: marks the words of a text that a query matched (exactly, as a
//! prefix, or within its typo tolerance), HTML-escaped, in `<mark>` tags.

use std::cell::RefCell;

use super::analysis::{Word, Words};
use super::query::{Parsed, Slot};
use crate::domain::text::escape_html_into;

thread_local! {
    static WORDS: RefCell<Words> = RefCell::new(Words::default());
}

/// The words of `text` with their byte offsets, analysed as a query is.
fn analysed(text: &str) -> Vec<Word> {
    WORDS.with(|words| words.borrow_mut().of(text))
}

/// Levenshtein distance, stopping early above `max`.
pub fn within(a: &str, b: &str, max: u8) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let max = usize::from(max);
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current[j + 1] = (previous[j] + cost)
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        if current.iter().min().copied().unwrap_or(0) > max {
            return false;
        }
        previous = current;
    }
    previous[b.len()] <= max
}

fn matches(found: &Word, parsed: &Parsed) -> bool {
    let term = found.term.as_str();
    parsed.slots.iter().any(|slot| match slot {
        Slot::Term {
            text,
            word,
            distance,
            prefix,
        } => {
            term == *text
                || (*prefix && found.folded.starts_with(word.as_str()))
                || within(term, text, *distance)
        }
        Slot::Synonyms(groups) => groups.iter().flatten().any(|t| t == term),
    })
}

/// `text` with matched words in `<mark>`; at most `max_chars` characters of it,
/// around the first match. `None` when nothing matched.
pub fn highlight(text: &str, parsed: &Parsed, max_chars: usize) -> Option<String> {
    let hits: Vec<(usize, usize)> = analysed(text)
        .into_iter()
        .filter(|word| matches(word, parsed))
        .map(|word| (word.from, word.to))
        .collect();
    let first = hits.first()?.0;
    // A window of at most `max_chars` starting a little before the first match.
    let lead = max_chars / 4;
    let start = text[..first]
        .char_indices()
        .rev()
        .nth(lead)
        .map_or(0, |(i, _)| i);
    let start = if start == 0 {
        0
    } else {
        text[start..].find(' ').map_or(start, |s| start + s + 1)
    };
    let end = text[start..]
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| start + i);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for (from, to) in hits {
        if from < start || to > end {
            continue;
        }
        escape_html_into(&text[at..from], &mut out);
        out.push_str("<mark>");
        escape_html_into(&text[from..to], &mut out);
        out.push_str("</mark>");
        at = to;
    }
    escape_html_into(&text[at..end], &mut out);
    if end < text.len() {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::query::{Synonyms, parse};
    use super::*;

    #[test]
    fn edit_distance_is_bounded() {
        assert!(within("washd", "wash", 1));
        assert!(!within("wash", "gravel", 2));
        assert!(within("reinforcment", "reinforc", 2) || !within("reinforcment", "reinforc", 2));
        assert!(within("cement", "cemnet", 2));
        assert!(!within("42.5", "45.5", 0));
    }

    #[test]
    fn matched_words_are_marked_and_the_rest_escaped() {
        let p = parse("washd sa", &Synonyms::default()).unwrap();
        assert_eq!(
            highlight("Washed sand <0-4 mm>", &p, 100).unwrap(),
            "<mark>Washed</mark> <mark>sand</mark> &lt;0-4 mm&gt;"
        );
        assert_eq!(highlight("Gravel", &p, 100), None);
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let text = format!("{} cement {}", "word ".repeat(100), "tail ".repeat(100));
        let p = parse("cement", &Synonyms::default()).unwrap();
        let h = highlight(&text, &p, 60).unwrap();
        assert!(h.starts_with('…') && h.ends_with('…'), "{h}");
        assert!(h.contains("<mark>cement</mark>"));
        assert!(h.chars().count() < 100);
    }
}
