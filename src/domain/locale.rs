//! The shop's locale: which language its pages speak and how its people write
//! numbers. The JSON API never changes with it (decimals always use a dot);
//! the UI and CSV files follow it.

use std::fmt;

use super::InvalidValue;

/// The languages the UI has a complete message catalogue for; a locale in
/// another language shows its numbers its own way and its words in English.
pub const LANGUAGES: &[&str] = &["en", "de"];

/// Languages that write a decimal comma (`2,5`), unless the region says
/// otherwise (see [`DOT_REGIONS`]).
const COMMA_LANGUAGES: &[&str] = &[
    "bg", "ca", "cs", "da", "de", "el", "es", "et", "eu", "fi", "fr", "gl", "hr", "hu", "id", "is",
    "it", "lt", "lv", "nb", "nl", "nn", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv",
    "tr", "uk", "vi",
];

/// Language-region pairs that write a decimal dot although their language
/// mostly writes a comma.
const DOT_REGIONS: &[&str] = &["de-CH", "de-LI", "it-CH", "fr-CH", "es-MX", "es-US"];

/// A locale tag such as `de-DE`, `fr-FR` or `en-GB`: a language of two or
/// three letters and an optional region of two letters or three digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    language: String,
    region: Option<String>,
}

impl Locale {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let bad = || {
            InvalidValue(format!(
                "{text:?} is not a locale such as en-GB, de-DE or fr-FR"
            ))
        };
        let mut parts = text.trim().split(['-', '_']);
        let language = parts.next().unwrap_or_default();
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic())
        {
            return Err(bad());
        }
        let region = parts.next();
        if parts.next().is_some() {
            return Err(bad());
        }
        let region = match region {
            None => None,
            Some(r)
                if (r.len() == 2 && r.chars().all(|c| c.is_ascii_alphabetic()))
                    || (r.len() == 3 && r.chars().all(|c| c.is_ascii_digit())) =>
            {
                Some(r.to_ascii_uppercase())
            }
            Some(_) => return Err(bad()),
        };
        Ok(Self {
            language: language.to_ascii_lowercase(),
            region,
        })
    }

    /// The language code: `de` for `de-AT`.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The UI's message catalogue for this locale: its language when Quarry
    /// has one, English otherwise.
    pub fn catalogue(&self) -> &'static str {
        LANGUAGES
            .iter()
            .find(|l| **l == self.language)
            .copied()
            .unwrap_or("en")
    }

    /// Whether people here write `2,5` rather than `2.5`.
    pub fn decimal_comma(&self) -> bool {
        let tag = self.to_string();
        COMMA_LANGUAGES.contains(&self.language.as_str()) && !DOT_REGIONS.contains(&tag.as_str())
    }

    /// The decimal separator: `,` or `.`.
    pub fn decimal_separator(&self) -> char {
        if self.decimal_comma() { ',' } else { '.' }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.region {
            Some(region) => write!(f, "{}-{region}", self.language),
            None => f.write_str(&self.language),
        }
    }
}

/// How a CSV file writes decimals: `dot` (`2.5`, cells separated by commas)
/// or `comma` (`2,5`, cells separated by semicolons, as spreadsheets in
/// those locales write them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecimalMark {
    Dot,
    Comma,
}

impl DecimalMark {
    /// The shop's own: what its locale writes.
    pub fn of(locale: &Locale) -> Self {
        if locale.decimal_comma() {
            Self::Comma
        } else {
            Self::Dot
        }
    }

    pub fn separator(self) -> char {
        match self {
            Self::Dot => '.',
            Self::Comma => ',',
        }
    }

    /// The cell delimiter a file with this decimal mark is written with.
    pub fn delimiter(self) -> u8 {
        match self {
            Self::Dot => b',',
            Self::Comma => b';',
        }
    }

    /// A decimal from a file into the API's form (`"2.5"`).
    pub fn read(self, text: &str) -> Result<String, InvalidValue> {
        match self {
            // The API's own form, checked where the value is used.
            Self::Dot => Ok(text.to_owned()),
            Self::Comma => read_decimal(text, ','),
        }
    }

    /// An API decimal as a file writes it.
    pub fn write(self, text: &str) -> String {
        write_decimal(text, self.separator())
    }
}

impl std::str::FromStr for DecimalMark {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "dot" | "." => Ok(Self::Dot),
            "comma" | "," => Ok(Self::Comma),
            _ => Err(format!("{text:?} is not a decimal mark: use dot or comma")),
        }
    }
}

/// Reads a decimal number as people write it in a locale with separator
/// `separator`, into the API's form (`"1234.5"`): `2,5` with a comma,
/// `2.5` with a dot. With a comma, dots may group thousands only in a number
/// that also has its comma (`1.234,50`); a lone dot (`1.5`, `1.000`) is
/// refused as ambiguous rather than guessed. Spaces (also narrow no-break
/// spaces) group digits in both.
pub fn read_decimal(text: &str, separator: char) -> Result<String, InvalidValue> {
    let compact: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    let example = if separator == ',' { "2,5" } else { "2.5" };
    let refuse = |why: &str| {
        Err(InvalidValue(format!(
            "{text:?} is not a number{why}: write it like {example}"
        )))
    };
    if compact.is_empty() {
        return refuse("");
    }
    let normal = if separator == ',' {
        if compact.contains('.') {
            if !compact.contains(',') {
                return refuse(" this shop reads (decimals are written with a comma here)");
            }
            // `1.234,5`: dots group thousands, in groups of three.
            let (whole, _) = compact.split_once(',').unwrap_or((&compact, ""));
            let groups: Vec<&str> = whole.trim_start_matches(['-', '+']).split('.').collect();
            if groups.len() < 2
                || groups[0].is_empty()
                || groups[0].len() > 3
                || groups[1..].iter().any(|g| g.len() != 3)
            {
                return refuse("");
            }
            compact.replace('.', "").replacen(',', ".", 1)
        } else {
            compact.replacen(',', ".", 1)
        }
    } else if compact.contains(',') {
        // `1,234.5`: commas group thousands.
        let (whole, _) = compact.split_once('.').unwrap_or((&compact, ""));
        let groups: Vec<&str> = whole.trim_start_matches(['-', '+']).split(',').collect();
        if groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3) {
            return refuse(" (decimals are written with a dot here)");
        }
        compact.replace(',', "")
    } else {
        compact
    };
    let valid = {
        let digits = normal.trim_start_matches(['-', '+']);
        let mut parts = digits.split('.');
        let whole = parts.next().unwrap_or_default();
        let fraction = parts.next();
        parts.next().is_none()
            && (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()))
            && whole.chars().all(|c| c.is_ascii_digit())
            && fraction.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit()))
    };
    if !valid {
        return refuse("");
    }
    Ok(normal.trim_start_matches('+').to_owned())
}

/// Writes an API decimal (`"1234.5"`) with the locale's separator, without
/// grouping (files are read by programs as much as by people).
pub fn write_decimal(text: &str, separator: char) -> String {
    if separator == ',' {
        text.replacen('.', ",", 1)
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_parse_and_know_their_decimal_separator() {
        for (tag, shown, separator, catalogue) in [
            ("de-DE", "de-DE", ',', "de"),
            ("de_at", "de-AT", ',', "de"),
            ("de-CH", "de-CH", '.', "de"),
            ("fr-FR", "fr-FR", ',', "en"),
            ("en-GB", "en-GB", '.', "en"),
            ("en", "en", '.', "en"),
            ("es-419", "es-419", ',', "en"),
        ] {
            let locale = Locale::parse(tag).unwrap();
            assert_eq!(locale.to_string(), shown);
            assert_eq!(locale.decimal_separator(), separator, "{tag}");
            assert_eq!(locale.catalogue(), catalogue, "{tag}");
        }
        for bad in ["", "german", "d", "de-DEU", "de-DE-x", "12-DE", "de-1"] {
            assert!(Locale::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decimals_are_read_as_people_write_them() {
        for (text, separator, want) in [
            ("2,5", ',', "2.5"),
            ("42,50", ',', "42.50"),
            ("1.234,5", ',', "1234.5"),
            ("-0,25", ',', "-0.25"),
            ("12 345,6", ',', "12345.6"),
            ("7", ',', "7"),
            (",5", ',', ".5"),
            ("2.5", '.', "2.5"),
            ("1,234.5", '.', "1234.5"),
            ("+3", '.', "3"),
        ] {
            assert_eq!(read_decimal(text, separator).unwrap(), want, "{text}");
        }
        for (text, separator) in [
            ("1.5", ','),
            ("1.000", ','),
            ("1.23,5", ','),
            ("2,5", '.'),
            ("1,23", '.'),
            ("", ','),
            ("abc", '.'),
            ("1,2,3", ','),
            ("-", '.'),
            ("1e5", '.'),
        ] {
            let error = read_decimal(text, separator).unwrap_err().to_string();
            assert!(error.contains("write it like"), "{text}: {error}");
        }
        assert!(
            read_decimal("1.5", ',')
                .unwrap_err()
                .to_string()
                .contains("comma")
        );
        assert_eq!(write_decimal("1234.5", ','), "1234,5");
        assert_eq!(write_decimal("-3", ','), "-3");
        assert_eq!(write_decimal("1234.5", '.'), "1234.5");
    }
}
