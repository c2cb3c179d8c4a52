//! The messages Quarry sends, in the shop's language (English or German):
//! plain text, and the same as simple HTML.

use std::fmt::Write as _;

use crate::config::Config;
use crate::domain::locale::{Locale, write_decimal};
use crate::domain::mail::{MailBody, MailKind};
use crate::domain::text::escape_html;
use crate::store::mail::NewMail;

/// The shop's language for mail: German or English.
fn german(config: &Config) -> bool {
    Locale::parse(&config.shop.locale).is_ok_and(|l| l.catalogue() == "de")
}

/// An amount as the shop writes it: `1.234,50` → `1234,50` in German.
fn amount(config: &Config, value: &str) -> String {
    let separator = Locale::parse(&config.shop.locale).map_or('.', |l| l.decimal_separator());
    write_decimal(value, separator)
}

/// A date as the shop writes it: `31.12.2026` in German, `2026-12-31` otherwise.
fn date(config: &Config, at: jiff::Timestamp) -> String {
    let day = at.to_zoned(jiff::tz::TimeZone::UTC).date();
    if german(config) {
        format!("{:02}.{:02}.{}", day.day(), day.month(), day.year())
    } else {
        day.to_string()
    }
}

/// Paragraphs of text (a blank line between two) and the same as HTML, with
/// `link` made clickable where a paragraph is exactly it.
fn body(paragraphs: &[String], link: Option<&str>) -> MailBody {
    let text = paragraphs.join("\n\n") + "\n";
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">",
    );
    for paragraph in paragraphs {
        let escaped = escape_html(paragraph).replace('\n', "<br>");
        match link {
            Some(link) if paragraph == link => {
                let href = escape_html(link);
                let _ = write!(html, "<p><a href=\"{href}\">{href}</a></p>");
            }
            _ => {
                let _ = write!(html, "<p>{escaped}</p>");
            }
        }
    }
    html.push_str("</body></html>");
    MailBody { text, html }
}

/// The signature: the shop's name and contact details.
fn signature(config: &Config) -> String {
    let contact = config.shop.contact.trim();
    if contact.is_empty() {
        config.shop.name.clone()
    } else {
        format!("{}\n{contact}", config.shop.name)
    }
}

/// What a quote's link message says about the quote.
pub struct QuoteFacts<'a> {
    pub number: &'a str,
    pub name: &'a str,
    pub gross: String,
    pub currency: &'a str,
    pub valid_until: jiff::Timestamp,
}

/// The customer's link to their quote.
pub fn quote_link(config: &Config, to: &str, quote: &QuoteFacts<'_>, link: &str) -> NewMail {
    let total = format!("{} {}", amount(config, &quote.gross), quote.currency);
    let until = date(config, quote.valid_until);
    let (subject, paragraphs) = if german(config) {
        (
            format!("Ihr Angebot {} von {}", quote.number, config.shop.name),
            vec![
                format!("Guten Tag {},", quote.name),
                format!(
                    "vielen Dank für Ihre Anfrage. Ihr Angebot {} über {total} finden Sie hier:",
                    quote.number
                ),
                link.to_owned(),
                format!(
                    "Es gilt bis zum {until}. Bitte bewahren Sie diese E-Mail auf oder drucken Sie das Angebot aus: Nur über diesen Link lässt es sich öffnen."
                ),
                signature(config),
            ],
        )
    } else {
        (
            format!("Your quote {} from {}", quote.number, config.shop.name),
            vec![
                format!("Hello {},", quote.name),
                format!(
                    "thank you for your enquiry. Your quote {} for {total} is here:",
                    quote.number
                ),
                link.to_owned(),
                format!(
                    "It is valid until {until}. Keep this e-mail or print the quote: this link is the only way to open it."
                ),
                signature(config),
            ],
        )
    };
    NewMail {
        kind: MailKind::QuoteLink,
        to: to.to_owned(),
        subject,
        reference: Some(quote.number.to_owned()),
        body: body(&paragraphs, Some(link)),
    }
}

/// A staff member's link to set a new password.
pub fn password_reset(config: &Config, to: &str, username: &str, link: &str) -> NewMail {
    let minutes = config.mail.reset_link_minutes;
    let (subject, paragraphs) = if german(config) {
        (
            format!("Neues Passwort für {} bei {}", username, config.shop.name),
            vec![
                format!("Guten Tag {username},"),
                "über diesen Link legen Sie ein neues Passwort fest:".to_owned(),
                link.to_owned(),
                format!(
                    "Der Link gilt {minutes} Minuten und nur einmal. Wenn Sie kein neues Passwort angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist."
                ),
                signature(config),
            ],
        )
    } else {
        (
            format!("A new password for {} at {}", username, config.shop.name),
            vec![
                format!("Hello {username},"),
                "set a new password with this link:".to_owned(),
                link.to_owned(),
                format!(
                    "It works for {minutes} minutes, once. If you did not ask for a new password, ignore this e-mail: your password stays as it is."
                ),
                signature(config),
            ],
        )
    };
    NewMail {
        kind: MailKind::PasswordReset,
        to: to.to_owned(),
        subject,
        reference: Some(username.to_owned()),
        body: body(&paragraphs, Some(link)),
    }
}

/// One product at or below its reorder point at one location.
pub struct LowLine {
    pub sku: String,
    pub name: String,
    pub location: String,
    pub available: String,
    pub reorder_point: String,
    pub unit: String,
}

/// The daily list of products at or below a reorder point.
pub fn low_stock(config: &Config, to: &str, lines: &[LowLine], day: jiff::civil::Date) -> NewMail {
    let de = german(config);
    let rows: Vec<String> = lines
        .iter()
        .map(|l| {
            let available = amount(config, &l.available);
            let point = amount(config, &l.reorder_point);
            if de {
                format!(
                    "{} {} ({}): {available} {}, Meldebestand {point}",
                    l.sku, l.name, l.location, l.unit
                )
            } else {
                format!(
                    "{} {} ({}): {available} {}, reorder point {point}",
                    l.sku, l.name, l.location, l.unit
                )
            }
        })
        .collect();
    let (subject, intro) = if de {
        (
            format!(
                "{}: Meldebestand am {day} ({} nachzubestellen)",
                config.shop.name,
                lines.len()
            ),
            "Diese Artikel sind am oder unter ihrem Meldebestand (verfügbar = Bestand minus reserviert):".to_owned(),
        )
    } else {
        (
            format!(
                "{}: low stock on {day} ({} to reorder)",
                config.shop.name,
                lines.len()
            ),
            "These products are at or below their reorder point (available = on hand less reserved):".to_owned(),
        )
    };
    NewMail {
        kind: MailKind::LowStock,
        to: to.to_owned(),
        subject,
        reference: Some(day.to_string()),
        body: body(&[intro, rows.join("\n"), signature(config)], None),
    }
}

/// A test message from the back office.
pub fn test(config: &Config, to: &str) -> NewMail {
    let (subject, line) = if german(config) {
        (
            format!("Testnachricht von {}", config.shop.name),
            "Quarry kann E-Mails versenden: Diese Testnachricht ist angekommen.",
        )
    } else {
        (
            format!("Test message from {}", config.shop.name),
            "Quarry can send mail: this test message arrived.",
        )
    };
    NewMail {
        kind: MailKind::Test,
        to: to.to_owned(),
        subject,
        reference: None,
        body: body(&[line.to_owned(), signature(config)], None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(locale: &str) -> Config {
        let mut config = Config::default();
        config.shop.name = "Yard & Sons".into();
        config.shop.contact = "01234 567890".into();
        config.shop.locale = locale.into();
        config
    }

    fn facts() -> QuoteFacts<'static> {
        QuoteFacts {
            number: "Q-2026-000007",
            name: "Sam <Builder>",
            gross: "1234.50".into(),
            currency: "EUR",
            valid_until: "2026-12-31T12:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_quote_link_message_carries_the_link_in_text_and_html_with_names_escaped() {
        let link = "https://shop.example.com/q/abc?x=1&y=2";
        let mail = quote_link(&config("en-GB"), "sam@example.com", &facts(), link);
        assert_eq!(mail.subject, "Your quote Q-2026-000007 from Yard & Sons");
        assert!(
            mail.body.text.contains(&format!("\n\n{link}\n\n")),
            "{}",
            mail.body.text
        );
        assert!(mail.body.text.contains("1234.50 EUR"), "{}", mail.body.text);
        assert!(
            mail.body.text.contains("until 2026-12-31"),
            "{}",
            mail.body.text
        );
        assert!(mail.body.text.starts_with("Hello Sam <Builder>,"));
        let html = &mail.body.html;
        assert!(
            html.contains("<a href=\"https://shop.example.com/q/abc?x=1&amp;y=2\">"),
            "{html}"
        );
        assert!(html.contains("Sam &lt;Builder&gt;"), "{html}");
        assert!(!html.contains("<Builder>"), "{html}");
        assert!(html.contains("Yard &amp; Sons"), "{html}");
        assert_eq!(mail.reference.as_deref(), Some("Q-2026-000007"));
    }

    #[test]
    fn a_german_shop_writes_its_mail_in_german_with_its_own_numbers_and_dates() {
        let mail = quote_link(
            &config("de-DE"),
            "sam@example.com",
            &facts(),
            "https://x/q/1",
        );
        assert_eq!(mail.subject, "Ihr Angebot Q-2026-000007 von Yard & Sons");
        assert!(mail.body.text.contains("1234,50 EUR"), "{}", mail.body.text);
        assert!(
            mail.body.text.contains("bis zum 31.12.2026"),
            "{}",
            mail.body.text
        );
        let reset = password_reset(
            &config("de-AT"),
            "a@example.com",
            "ana",
            "https://x/reset#t",
        );
        assert!(
            reset.subject.starts_with("Neues Passwort für ana"),
            "{}",
            reset.subject
        );
        assert!(
            reset.body.text.contains("60 Minuten"),
            "{}",
            reset.body.text
        );
    }

    #[test]
    fn the_low_stock_digest_lists_each_product_and_location() {
        let lines = [LowLine {
            sku: "SAND-01".into(),
            name: "Washed sand".into(),
            location: "YARD".into(),
            available: "2.5".into(),
            reorder_point: "10".into(),
            unit: "t".into(),
        }];
        let day = jiff::civil::date(2026, 12, 7);
        let mail = low_stock(&config("en-GB"), "o@example.com", &lines, day);
        assert_eq!(
            mail.subject,
            "Yard & Sons: low stock on 2026-12-07 (1 to reorder)"
        );
        assert!(
            mail.body
                .text
                .contains("SAND-01 Washed sand (YARD): 2.5 t, reorder point 10"),
            "{}",
            mail.body.text
        );
    }
}
