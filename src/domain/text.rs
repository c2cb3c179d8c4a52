//! Shared parsing rules for the short strings and exact decimals the catalogue is
//! made of, and the error every parser returns.

use std::fmt;

use rust_decimal::Decimal;

/// Why a value was refused. The field it belongs to is added by whoever knows it
/// (the JSON path of a request body, a CLI flag, a CSV column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidValue {}

/// Parses a code such as a SKU or a location code: trimmed, upper-cased, 1 to `max`
/// characters of `A-Z 0-9 . _ -`, starting with a letter or digit. Codes appear in
/// URL paths, so nothing else is allowed.
pub fn parse_code(raw: &str, what: &str, max: usize) -> Result<String, InvalidValue> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Err(InvalidValue(format!("{what} must not be empty")));
    }
    if code.len() > max {
        return Err(InvalidValue(format!(
            "{what} must be at most {max} characters, got {}",
            code.len()
        )));
    }
    if !code.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(InvalidValue(format!(
            "{what} must start with a letter or digit"
        )));
    }
    if let Some(bad) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(InvalidValue(format!(
            "{what} may contain only letters, digits, '-', '_' and '.', found {bad:?}"
        )));
    }
    Ok(code)
}

/// Trims `raw` and checks its length in characters and that it has no control
/// characters (other than newlines and tabs when `multiline`).
pub fn parse_text(
    raw: &str,
    what: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, InvalidValue> {
    let text = raw.trim();
    let len = text.chars().count();
    if len < min {
        return Err(if min == 1 {
            InvalidValue(format!("{what} must not be empty"))
        } else {
            InvalidValue(format!("{what} must be at least {min} characters"))
        });
    }
    if len > max {
        return Err(InvalidValue(format!(
            "{what} must be at most {max} characters, got {len}"
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r')))
    {
        return Err(InvalidValue(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(text.to_owned())
}

/// Parses an exact decimal written with a dot (`"42.5"`), refusing exponents,
/// commas, signs other than a leading minus, and more than `max_scale` decimals.
pub fn parse_decimal(raw: &str, what: &str, max_scale: u32) -> Result<Decimal, InvalidValue> {
    let s = raw.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    let well_formed = !digits.is_empty()
        && !digits.starts_with('.')
        && !digits.ends_with('.')
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1;
    if !well_formed {
        return Err(InvalidValue(format!(
            "{what} must be a decimal number written with a dot, like \"42.50\", got {raw:?}"
        )));
    }
    let value = Decimal::from_str_exact(s)
        .map_err(|_| InvalidValue(format!("{what} {raw:?} is out of range")))?;
    if value.scale() > max_scale {
        return Err(InvalidValue(format!(
            "{what} may have at most {max_scale} decimal places, got {raw:?}"
        )));
    }
    Ok(value)
}

/// `text` with the characters HTML gives meaning to written as entities,
/// appended to `out`: safe in element content and in quoted attributes.
pub fn escape_html_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// [`escape_html_into`] a new string.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_html_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_trimmed_and_upper_cased() {
        assert_eq!(parse_code(" sand-04 ", "SKU", 64).unwrap(), "SAND-04");
    }

    #[test]
    fn codes_refuse_slashes_spaces_and_leading_punctuation() {
        assert!(parse_code("A/B", "SKU", 64).is_err());
        assert!(parse_code("A B", "SKU", 64).is_err());
        assert!(parse_code("-AB", "SKU", 64).is_err());
        assert!(parse_code("", "SKU", 64).is_err());
        assert!(parse_code(&"A".repeat(65), "SKU", 64).is_err());
        assert!(parse_code("ÄB", "SKU", 64).is_err());
    }

    #[test]
    fn decimals_are_exact_and_refuse_floats_commas_and_exponents() {
        assert_eq!(
            parse_decimal("42.50", "price", 6).unwrap().to_string(),
            "42.50"
        );
        assert_eq!(
            parse_decimal("-1.5", "delta", 6).unwrap().to_string(),
            "-1.5"
        );
        for bad in ["2,5", "1e3", "", ".5", "5.", "+1", "1.2.3", "NaN", " "] {
            assert!(
                parse_decimal(bad, "price", 6).is_err(),
                "{bad:?} was accepted"
            );
        }
        assert!(parse_decimal("0.1234567", "price", 6).is_err());
        assert!(parse_decimal("99999999999999999999999999999999", "price", 6).is_err());
    }

    #[test]
    fn text_refuses_control_characters_and_counts_characters_not_bytes() {
        assert_eq!(
            parse_text("  Sand  ", "name", 1, 10, false).unwrap(),
            "Sand"
        );
        assert!(parse_text("a\u{0}b", "name", 1, 10, false).is_err());
        assert!(parse_text("a\nb", "name", 1, 10, false).is_err());
        assert!(parse_text("a\nb", "notes", 0, 10, true).is_ok());
        assert!(parse_text("ééééé", "name", 1, 5, false).is_ok());
        assert!(parse_text("   ", "name", 1, 5, false).is_err());
    }
}
