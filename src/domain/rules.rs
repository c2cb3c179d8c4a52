//! The rule each string value of the API follows, declared once: the value's
//! parser applies it and its `OpenAPI` schema states it as a `pattern`, so
//! generated clients and the API fuzzer send what the API takes, and the two
//! cannot drift (the tests below check every rule's pattern against its parser
//! on generated strings).
//!
//! Patterns are written in the dialect shared by Rust's `regex`, Python's `re`
//! (the fuzzer) and ECMAScript: `\s` for the whitespace trimmed, explicit
//! character ranges for control characters, counted repetitions for lengths.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};

use super::InvalidValue;
use super::text::{parse_code, parse_text};

/// How a string value is checked.
#[derive(Clone, Copy)]
pub enum Rule {
    /// A code such as a SKU: see [`parse_code`].
    Code { what: &'static str, max: usize },
    /// Free text: see [`parse_text`].
    Text {
        what: &'static str,
        min: usize,
        max: usize,
        multiline: bool,
    },
    /// A parser of its own with the pattern it accepts. `exact` says the
    /// pattern matches exactly what the parser accepts; otherwise it matches
    /// a little more (a rule a pattern cannot say, such as "at least five
    /// digits", is left to the parser, which answers 400 with the reason).
    Own {
        pattern: &'static str,
        exact: bool,
        parse: fn(&str) -> Result<String, InvalidValue>,
    },
}

/// Implements the `OpenAPI` schema of a type read from a string:
/// `pattern_schema!(Type, string_schema | decimal_schema, pattern, description, example)`,
/// the pattern being what the type's parser accepts.
macro_rules! pattern_schema {
    ($ty:ty, $build:ident, $pattern:expr, $description:expr, $example:expr) => {
        impl ::utoipa::PartialSchema for $ty {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::domain::rules::$build(&$pattern, $description, $example)
            }
        }

        impl ::utoipa::ToSchema for $ty {}
    };
}
pub(crate) use pattern_schema;

/// Control characters (Unicode `Cc`), which no one-line text may hold.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
/// The control characters a multi-line text may not hold (all but tab, line
/// feed and carriage return).
const CONTROL_BUT_LINES: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";

impl Rule {
    /// Applies the rule: the value as kept (trimmed, and case-folded where the
    /// rule says so), or why it is refused.
    pub fn parse(&self, raw: &str) -> Result<String, InvalidValue> {
        match *self {
            Rule::Code { what, .. } | Rule::Text { what, .. } => self.parse_as(raw, what),
            Rule::Own { parse, .. } => parse(raw),
        }
    }

    /// [`Rule::parse`], naming the value `what` in the reason it is refused
    /// (a rule of its own names it as it does).
    pub fn parse_as(&self, raw: &str, what: &str) -> Result<String, InvalidValue> {
        match *self {
            Rule::Code { max, .. } => parse_code(raw, what, max),
            Rule::Text {
                min,
                max,
                multiline,
                ..
            } => parse_text(raw, what, min, max, multiline),
            Rule::Own { parse, .. } => parse(raw),
        }
    }

    /// The pattern of the strings the rule accepts, anchored.
    pub fn pattern(&self) -> String {
        match *self {
            Rule::Code { max, .. } => {
                format!(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{{0,{}}}\s*$", max - 1)
            }
            Rule::Text {
                min,
                max,
                multiline,
                ..
            } => {
                let inner = format!(
                    "[^{}]",
                    if multiline {
                        CONTROL_BUT_LINES
                    } else {
                        CONTROL
                    }
                );
                // Trimmed, so the first and last characters kept are not
                // whitespace; whitespace around them may be anything trimmed.
                let edge = format!(r"[^\s{CONTROL}]");
                let body = if max == 1 {
                    edge.clone()
                } else {
                    format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2)
                };
                let body = if min == 0 {
                    format!("(?:{body})?")
                } else {
                    assert!(min == 1, "text rules are at least 0 or 1 characters");
                    body
                };
                format!(r"^\s*{body}\s*$")
            }
            Rule::Own { pattern, .. } => pattern.to_owned(),
        }
    }

    /// Whether [`Rule::pattern`] matches exactly what [`Rule::parse`] accepts.
    pub fn exact(&self) -> bool {
        match *self {
            Rule::Code { .. } | Rule::Text { .. } => true,
            Rule::Own { exact, .. } => exact,
        }
    }

    /// The `OpenAPI` schema of a string following this rule.
    pub fn schema(&self, description: &str, example: &str) -> RefOr<Schema> {
        string_schema(&self.pattern(), description, example)
    }
}

/// A string schema with its pattern, description and example.
pub fn string_schema(pattern: &str, description: &str, example: &str) -> RefOr<Schema> {
    let description = description
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description.trim()))
        .examples([example])
        .into()
}

/// The pattern of an exact decimal written with a dot, as
/// [`super::text::parse_decimal`] reads it, below 10¹² in size and with at
/// most `max_scale` decimals; `negative` allows a leading minus.
pub fn decimal_pattern(max_scale: u32, negative: bool) -> String {
    let sign = if negative { "-?" } else { "" };
    format!(r"^\s*{sign}0*[0-9]{{1,12}}(?:\.[0-9]{{1,{max_scale}}})?\s*$")
}

/// The pattern of a decimal as [`decimal_pattern`] without a sign, and above zero.
pub fn positive_decimal_pattern(max_scale: u32) -> String {
    format!(
        r"^\s*(?:0*[1-9][0-9]{{0,11}}(?:\.[0-9]{{1,{max_scale}}})?|{})\s*$",
        fraction_above_zero(max_scale)
    )
}

/// The (unanchored) pattern of a decimal below 1 and above 0 with at most
/// `max_scale` places: `0.5`, `00.000001`.
pub fn fraction_above_zero(max_scale: u32) -> String {
    let fractions: Vec<String> = (0..max_scale)
        .map(|zeros| format!("0{{{zeros}}}[1-9][0-9]{{0,{}}}", max_scale - 1 - zeros))
        .collect();
    format!(r"0+\.(?:{})", fractions.join("|"))
}

/// `text` as a pattern matching it exactly, ASCII letters in either case.
pub fn any_case(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphabetic() {
            out.push('[');
            out.push(c.to_ascii_lowercase());
            out.push(c.to_ascii_uppercase());
            out.push(']');
        } else if "\\.+*?()|[]{}^$-".contains(c) {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

/// A decimal string's schema: [`decimal_pattern`] with a description and example.
pub fn decimal_schema(pattern: &str, description: &str, example: &str) -> RefOr<Schema> {
    let schema = string_schema(pattern, description, example);
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.format = Some(SchemaFormat::Custom("decimal".into()));
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Every rule's pattern is checked against its parser, both ways where the
    //! rule says it is exact, on strings drawn from the pattern itself and
    //! from a wider alphabet around it.

    use proptest::prelude::*;

    use super::{Rule, decimal_pattern};
    use proptest::test_runner::{Config, TestRunner};
    use regex::RegexBuilder;

    /// Strings at the edges of the rules, tried on every rule.
    const EDGES: &[&str] = &[
        "",
        " ",
        "-",
        "-0",
        "-0.0",
        "-00.000000",
        "0",
        "00",
        "0.0000000",
        ".5",
        "5.",
        "1e3",
        "999999999999.999999",
        "1000000000000",
        "-999999999999",
        "100000",
        "100000.000001",
        "a",
        "A",
        " a ",
        "é",
        "a\u{0}",
        "a\nb",
        " a\tb ",
        "a/b",
        "/a",
        "a//b",
        " a / b ",
        "Q-2026-0001",
        "q-2026-0001 ",
        "Q-2026-123",
        "a@b.c",
        "a@b.",
        "@b.c",
        "a@.b",
        "+44 1234 567890",
        "12345",
        "((((((",
        "bag",
        "m³",
        "grams (g)",
        "KG",
        "İ",
        "a\u{85}",
        "\u{a0}a\u{a0}",
        "a\u{2028}b",
        "A-",
        "-A",
        "_a",
        "a.b_c-d",
    ];

    /// Checks that `parse` accepts whatever `pattern` matches (when `exact`)
    /// and that `pattern` matches whatever `parse` accepts, on strings drawn
    /// from the pattern and from `nearby` (a regex of strings around it).
    pub(crate) fn agree(
        name: &str,
        pattern: &str,
        exact: bool,
        nearby: &str,
        parse: impl Fn(&str) -> bool,
    ) {
        let compiled = RegexBuilder::new(pattern)
            .size_limit(1 << 26)
            .build()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut runner = TestRunner::new(Config {
            cases: 400,
            failure_persistence: None,
            ..Config::default()
        });
        // What the pattern matches, the parser accepts.
        let unanchored = pattern
            .strip_prefix('^')
            .and_then(|p| p.strip_suffix('$'))
            .unwrap_or_else(|| panic!("{name}: the pattern is not anchored"));
        let from_pattern =
            proptest::string::string_regex(unanchored).unwrap_or_else(|e| panic!("{name}: {e}"));
        if exact {
            runner
                .run(&from_pattern, |s| {
                    prop_assert!(
                        parse(&s),
                        "{name}: the pattern matches {s:?}, the parser refuses it"
                    );
                    Ok(())
                })
                .unwrap();
        }
        // What the parser accepts, the pattern matches (else the schema would
        // call data the API takes invalid).
        for s in EDGES {
            let (accepted, matched) = (parse(s), compiled.is_match(s));
            assert!(
                !accepted || matched,
                "{name}: the parser accepts {s:?}, the pattern does not match it"
            );
            assert!(
                !exact || accepted || !matched,
                "{name}: the pattern matches {s:?}, the parser refuses it"
            );
        }
        let around = proptest::string::string_regex(nearby).unwrap();
        runner
            .run(&prop_oneof![from_pattern, around], |s| {
                let accepted = parse(&s);
                let matched = compiled.is_match(&s);
                prop_assert!(
                    !accepted || matched,
                    "{name}: the parser accepts {s:?}, the pattern does not match it"
                );
                if exact {
                    prop_assert!(
                        accepted || !matched,
                        "{name}: the pattern matches {s:?}, the parser refuses it"
                    );
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn code_and_text_patterns_say_what_their_parsers_accept() {
        let rules = [
            (
                Rule::Code {
                    what: "code",
                    max: 1,
                },
                r"[ a-zA-Z0-9._\-/é]{0,4}",
            ),
            (
                Rule::Code {
                    what: "code",
                    max: 5,
                },
                r"[ \ta-zA-Z0-9._\-/é]{0,8}",
            ),
            (
                Rule::Text {
                    what: "text",
                    min: 1,
                    max: 1,
                    multiline: false,
                },
                r"[ \t\na-zé\x00\x85\u{a0}]{0,4}",
            ),
            (
                Rule::Text {
                    what: "text",
                    min: 1,
                    max: 6,
                    multiline: false,
                },
                r"[ \t\n\ra-zé\x00\x1f\x7f\x85\u{a0}\u{2028}]{0,10}",
            ),
            (
                Rule::Text {
                    what: "text",
                    min: 0,
                    max: 6,
                    multiline: true,
                },
                r"[ \t\n\ra-zé\x00\x0b\x1f\x7f\x85\u{a0}\u{2028}]{0,10}",
            ),
        ];
        for (rule, nearby) in rules {
            agree("rule", &rule.pattern(), rule.exact(), nearby, |s| {
                rule.parse(s).is_ok()
            });
        }
    }

    /// Every string type of the API, its pattern against its parser.
    #[test]
    fn every_value_types_pattern_says_what_its_parser_accepts() {
        use crate::domain::accounts::{Password, TokenName, Username};
        use crate::domain::catalogue::{
            Attributes, Barcode, Brand, CategoryPath, Density, LongText, ProductName, Tags,
        };
        use crate::domain::ledger::{Reference, Remark};
        use crate::domain::locations::{LocationCode, LocationName};
        use crate::domain::quotes::{ContactName, Email, Phone, QuoteNumber};
        use crate::domain::units::{Quantity, UnitName};
        use crate::domain::values::{Money, Sku, TaxClass};

        const CODE: &str = r"[ \ta-zA-Z0-9._\-/é@]{0,70}";
        const TEXT: &str = r"[ \t\n\ra-zé/\x00\x0b\x1f\x7f\x85\u{a0}\u{2028}]{0,12}";
        const DECIMAL: &str = r"[ \-+]{0,2}(?:[0.]{0,10}|[0-9.]{0,16})[ ,e0]{0,2}";
        let rules: [(&str, Rule, &str); 20] = [
            ("Sku", Sku::RULE, CODE),
            ("LocationCode", LocationCode::RULE, CODE),
            ("TaxClass", TaxClass::RULE, CODE),
            ("Username", Username::RULE, CODE),
            ("TokenName", TokenName::RULE, CODE),
            ("Barcode", Barcode::RULE, r"[ \t!-~é]{0,70}"),
            ("QuoteNumber", QuoteNumber::RULE, r"[ qQ\-0-9a]{0,16}"),
            ("ProductName", ProductName::RULE, TEXT),
            ("Brand", Brand::RULE, TEXT),
            ("LongText", LongText::RULE, TEXT),
            ("LocationName", LocationName::RULE, TEXT),
            ("ContactName", ContactName::RULE, TEXT),
            ("Reference", Reference::RULE, TEXT),
            ("Remark", Remark::RULE, TEXT),
            (
                "CategoryPath",
                CategoryPath::RULE,
                r"[ a-z/\x00\u{a0}]{0,20}",
            ),
            ("Tags", Tags::TAG, TEXT),
            ("attribute name", Attributes::KEY, TEXT),
            ("attribute value", Attributes::VALUE, TEXT),
            ("Email", Email::RULE, r"[ a-z@.<\x00]{0,12}"),
            ("Phone", Phone::RULE, r"[ 0-9+\-().a]{0,34}"),
        ];
        for (name, rule, nearby) in rules {
            agree(name, &rule.pattern(), rule.exact(), nearby, |s| {
                rule.parse(s).is_ok()
            });
        }
        agree(
            "Password",
            Password::PATTERN,
            true,
            r"[ a\n\x00é]{0,130}",
            |s| Password::parse(s.to_owned()).is_ok(),
        );
        agree("Money", Money::PATTERN, true, DECIMAL, |s| {
            Money::parse(s).is_ok()
        });
        agree(
            "Quantity",
            &decimal_pattern(Quantity::MAX_SCALE, true),
            true,
            DECIMAL,
            |s| Quantity::parse(s).is_ok(),
        );
        agree("Density", &Density::pattern(), true, DECIMAL, |s| {
            Density::parse(s).is_ok()
        });
        agree(
            "PositiveQuantity",
            &super::positive_decimal_pattern(Quantity::MAX_SCALE),
            true,
            DECIMAL,
            |s| Quantity::parse(s).is_ok_and(Quantity::is_positive),
        );
        agree(
            "UnitName",
            &UnitName::pattern(),
            false,
            r"[ a-zA-Z0-9³()\-éİ]{0,26}",
            |s| UnitName::parse(s).is_ok(),
        );
    }
}
