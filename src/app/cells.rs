//! CSV cells that spreadsheets cannot run (CSV injection, OWASP).
//!
//! A spreadsheet opening a CSV file reads a cell that starts with `=`, `+`,
//! `-`, `@`, a tab or a carriage return as a formula, so anything a customer
//! typed (a quote's contact name) could run in the shop's spreadsheet. Every
//! CSV file Quarry writes passes its cells through [`guard`], which puts a `'`
//! in front of such a cell; imports read cells through [`unguard`], which
//! takes off that one `'` and nothing else, so an exported file imports back
//! as it was. Plain numbers (`-2.5`) are not formulas and stay as they are.
//!
//! A cell that already starts with `'` before a trigger gets one more, so the
//! mapping is exact both ways: `=A1` ⇄ `'=A1`, `'=A1` ⇄ `''=A1`.

use std::borrow::Cow;

/// The first characters a spreadsheet treats as the start of a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The columns whose cells are decimal numbers, written with the file's
/// decimal mark (`2,5` in a file with a decimal comma), in every kind of
/// file Quarry reads or writes; and the numbers inside `price_breaks`,
/// `packs` and `reorder_points` cells.
pub const DECIMAL_COLUMNS: &[&str] = &[
    "price",
    "cost",
    "density_kg_m3",
    "min_order",
    "mass_per_m_kg",
    "mass_per_m2_kg",
    "reorder_point",
    "quantity",
    "counted",
    "on_hand",
    "reserved",
    "available",
    "net",
    "tax",
    "gross",
    "quote_gross",
];

/// Whether `text` is a plain decimal number such as `-2.5`, `-2,5` or `+3`.
fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once(['.', ',']).unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a spreadsheet would run `text` (after any `'` already in front).
fn needs_guard(text: &str) -> bool {
    let rest = text.trim_start_matches('\'');
    rest.starts_with(TRIGGERS) && !(rest.len() == text.len() && is_number(text))
}

/// The cell as written to a CSV file: with a `'` in front when a
/// spreadsheet would otherwise read it as a formula.
pub fn guard(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as it was before [`guard`]: one leading `'` taken off a cell
/// that [`guard`] would have written that way, any other cell as it is.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_read_back_exactly() {
        let cases = [
            ("=HYPERLINK(\"http://evil.example\",\"x\")", true),
            ("+1+2", true),
            ("-1+2", true),
            ("@SUM(A1)", true),
            ("\tcmd", true),
            ("\rcmd", true),
            ("'=already", true),
            ("''=twice", true),
            ("-2.5", false),
            ("-2,5", false),
            ("+3", false),
            ("42", false),
            ("Washed sand", false),
            ("'quoted", false),
            ("", false),
            ("-", true),
            ("a=b", false),
        ];
        for (cell, guarded) in cases {
            let written = guard(cell);
            assert_eq!(
                written.starts_with('\'') && written.len() == cell.len() + 1,
                guarded,
                "{cell:?} → {written:?}"
            );
            assert_eq!(unguard(&written), cell, "{cell:?} round-trips");
        }
        // A `'` the user typed is kept when nothing after it could run.
        assert_eq!(unguard("'quoted"), "'quoted");
        assert_eq!(unguard("'42"), "'42");
    }
}
