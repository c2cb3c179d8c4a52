//! Shelf and bin labels: which barcode a product's label carries and the
//! SVG drawings of it and of the QR code to its storefront page. The
//! drawings come from `barcoders` (Code 128, EAN-13) and `qrcode`; the UI
//! lays them out on a sheet.

use barcoders::generators::svg::SVG;
use barcoders::sym::code128::Code128;
use barcoders::sym::ean13::EAN13;
use qrcode::{EcLevel, QrCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::catalogue::Product;

/// The most labels one request draws (a stack of 42 A4 sheets of 24).
pub const MAX_LABELS: usize = 1000;

/// The blank modules left of and right of the bars: what a scanner needs
/// to find where the code starts (10 for Code 128; 11 and 7 for EAN-13).
const QUIET_LEFT: usize = 11;
const QUIET_RIGHT: usize = 10;

/// The barcode printed on a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Symbology {
    /// The product's own EAN-13 (or UPC-A, drawn as EAN-13).
    Ean13,
    /// The SKU, in Code 128.
    Code128,
}

/// A barcode: what it encodes and its drawing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LabelBarcode {
    pub symbology: Symbology,
    /// What a scanner reads.
    pub text: String,
    /// An SVG image, one unit per module, quiet zones included; it may be
    /// stretched to any size (`preserveAspectRatio="none"`).
    pub svg: String,
}

/// The barcode for a product's label: its barcode when that is a valid
/// EAN-13 (or UPC-A), which tills and suppliers already use; else its SKU in
/// Code 128. Both are what the stock page's scanner field looks up.
pub fn barcode(product: &Product) -> LabelBarcode {
    if let Some(ean) = product.barcode.as_ref().and_then(|b| ean13(b.as_str())) {
        return ean;
    }
    code128(product.sku.as_str())
}

/// `text` as EAN-13 when it is 13 digits with the right check digit, or 12
/// (a UPC-A, which is an EAN-13 starting with 0).
fn ean13(text: &str) -> Option<LabelBarcode> {
    let digits = text.trim();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = match digits.len() {
        13 => digits.to_owned(),
        12 => format!("0{digits}"),
        _ => return None,
    };
    let code = EAN13::new(&digits).ok()?;
    Some(LabelBarcode {
        symbology: Symbology::Ean13,
        svg: draw(&code.encode()),
        text: digits,
    })
}

/// `text` in Code 128 (character set B: printable ASCII, which every SKU
/// is).
fn code128(text: &str) -> LabelBarcode {
    let svg = Code128::new(format!("\u{0181}{text}"))
        .map(|code| draw(&code.encode()))
        // A SKU is printable ASCII, which set B encodes; kept total anyway.
        .unwrap_or_default();
    LabelBarcode {
        symbology: Symbology::Code128,
        text: text.to_owned(),
        svg,
    }
}

/// The modules drawn as SVG with quiet zones either side.
fn draw(modules: &[u8]) -> String {
    let mut padded = vec![0; QUIET_LEFT];
    padded.extend_from_slice(modules);
    padded.extend(std::iter::repeat_n(0, QUIET_RIGHT));
    SVG::new(40)
        .generate(&padded)
        .map(|svg| {
            svg.replacen(
                "<svg ",
                "<svg xmlns=\"http://www.w3.org/2000/svg\" preserveAspectRatio=\"none\" shape-rendering=\"crispEdges\" ",
                1,
            )
        })
        .unwrap_or_default()
}

/// A QR code for `url` as an SVG image (quiet zone included).
pub fn qr(url: &str) -> String {
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map(|code| {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .module_dimensions(1, 1)
                .build();
            // An image for inline use: no XML declaration.
            match svg.find("<svg") {
                Some(at) => svg[at..].to_owned(),
                None => svg,
            }
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bar widths (in modules) of a drawing, quiet zones left out.
    fn bars(svg: &str) -> Vec<usize> {
        let mut dark = Vec::new();
        for rect in svg.split("<rect ").skip(2) {
            let x: usize = rect
                .split("x=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            dark.push(x);
        }
        let mut widths = Vec::new();
        let mut run = 1;
        for pair in dark.windows(2) {
            if pair[1] == pair[0] + 1 {
                run += 1;
            } else {
                widths.push(run);
                run = 1;
            }
        }
        widths.push(run);
        widths
    }

    #[test]
    fn a_valid_ean_13_is_used_and_anything_else_falls_back_to_the_sku() {
        assert_eq!(ean13("4006381333931").unwrap().symbology, Symbology::Ean13);
        // UPC-A, 12 digits: an EAN-13 with a leading zero.
        assert_eq!(ean13("036000291452").unwrap().text, "0036000291452");
        assert!(ean13("4006381333932").is_none(), "wrong check digit");
        assert!(ean13("40063813339").is_none());
        assert!(ean13("ABC-1234567890").is_none());
        let sku = code128("SAND-04");
        assert_eq!(sku.symbology, Symbology::Code128);
        assert_eq!(sku.text, "SAND-04");
    }

    #[test]
    fn code_128_draws_the_start_code_the_data_and_the_stop_pattern() {
        let svg = code128("SAND-04").svg;
        assert!(
            svg.starts_with(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" preserveAspectRatio=\"none\""
            )
        );
        // Start B is 2-1-1-2-1-4 (bar, space, …); the stop 2-3-3-1-1-1-2.
        let widths = bars(&svg);
        // Bars only: start B's bars are 2, 1, 1 and the stop ends 2, 3, 1, 2.
        assert_eq!(&widths[..3], &[2, 1, 1]);
        assert_eq!(&widths[widths.len() - 4..], &[2, 3, 1, 2]);
        // 11 modules a symbol: start, 7 characters, check; 13 for the stop;
        // plus both quiet zones.
        let view = format!(
            "viewBox=\"0 0 {} 40\"",
            11 * 9 + 13 + QUIET_LEFT + QUIET_RIGHT
        );
        assert!(svg.contains(&view), "{svg}");
    }

    #[test]
    fn the_qr_code_is_an_inline_svg() {
        let svg = qr("https://shop.example.com/p/SAND-04");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<path"));
        assert!(!svg.contains("<?xml"));
    }
}
