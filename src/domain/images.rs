//! Product photos: what an upload becomes (a display size and a thumbnail,
//! re-encoded as JPEG, so nothing of the file but its pixels is kept: no
//! EXIF, no GPS position, no comments), and how a product lists its photos.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::InvalidValue;

/// The longest side of the display size, in pixels (smaller photos are kept
/// at their size).
pub const DISPLAY_SIDE: u32 = 1200;
/// The longest side of the thumbnail.
pub const THUMB_SIDE: u32 = 320;
/// Photos per product.
pub const MAX_PER_PRODUCT: usize = 12;
/// The longest alt text, in characters.
pub const MAX_ALT: usize = 200;
/// The widest or tallest photo read (larger are refused before decoding).
const MAX_SIDE: u32 = 12_000;

/// Why an upload is not a photo Quarry keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// Not JPEG, PNG or WebP (by its content, whatever its name).
    NotAnImage,
    /// One of those, but it cannot be read (broken, truncated, too large).
    Unreadable(String),
}

impl std::fmt::Display for ImageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnImage => f.write_str(
                "the file is not a JPEG, PNG or WebP image (its content says so, whatever its name)",
            ),
            Self::Unreadable(why) => write!(f, "the image cannot be read: {why}"),
        }
    }
}

/// An upload made ready to keep.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub display: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The format the upload was in: `jpeg`, `png` or `webp`.
    pub source: &'static str,
}

/// Reads an uploaded photo (by its content), turns it upright as its EXIF
/// orientation says, and makes its display size and thumbnail as JPEG.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, ImageError> {
    let format = image::guess_format(bytes).map_err(|_| ImageError::NotAnImage)?;
    let source = match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::WebP => "webp",
        _ => return Err(ImageError::NotAnImage),
    };
    let unreadable = |e: image::ImageError| ImageError::Unreadable(e.to_string());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    picture.apply_orientation(orientation);
    from_picture(&flatten(&picture), source)
}

/// The display size and thumbnail of a picture already in hand (the demo
/// draws its own); `source` names where it came from. A picture that fits
/// the thumbnail's size is encoded once, for both.
pub fn from_picture(rgb: &RgbImage, source: &'static str) -> Result<Prepared, ImageError> {
    let display = fit(rgb, DISPLAY_SIDE);
    let (width, height) = display.dimensions();
    let encoded = jpeg(&display, 85)?;
    let thumb = if width <= THUMB_SIDE && height <= THUMB_SIDE {
        encoded.clone()
    } else {
        jpeg(&fit(&display, THUMB_SIDE), 78)?
    };
    Ok(Prepared {
        width,
        height,
        display: encoded,
        thumb,
        source,
    })
}

/// The picture on white: transparency has no place in a JPEG.
fn flatten(picture: &DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.to_rgb8();
    }
    let rgba = picture.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [red, green, blue, alpha] = rgba.get_pixel(x, y).0;
        let over = |channel: u8| {
            let mixed = u32::from(channel) * u32::from(alpha) + 255 * (255 - u32::from(alpha));
            u8::try_from(mixed / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over(red), over(green), over(blue)])
    })
}

/// `picture` scaled down to fit in `side` × `side` (never up).
fn fit(picture: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = picture.dimensions();
    if w <= side && h <= side {
        return picture.clone();
    }
    // v × side / longest, rounded half up, in whole numbers (at least 1).
    let longest = u64::from(w.max(h));
    let scaled = |v: u32| {
        let exact = (u64::from(v) * u64::from(side) * 2 + longest) / (longest * 2);
        u32::try_from(exact).unwrap_or(side).max(1)
    };
    image::imageops::resize(
        picture,
        scaled(w),
        scaled(h),
        image::imageops::FilterType::CatmullRom,
    )
}

fn jpeg(picture: &RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(picture)
        .map_err(|e| ImageError::Unreadable(e.to_string()))?;
    Ok(out)
}

/// A product's photo, as the product keeps it (its files are kept apart,
/// under [`file_key`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProductImage {
    /// 16 hex digits of the SHA-256 of the product's SKU and the display
    /// file: names the files, so their URLs never change meaning.
    pub id: String,
    /// The display size (at most 1200 pixels on its longest side), JPEG.
    pub url: String,
    /// The thumbnail (at most 320 pixels), JPEG.
    pub thumb_url: String,
    /// What the photo shows, for people who cannot see it.
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

impl ProductImage {
    pub fn new(id: String, alt: String, width: u32, height: u32) -> Self {
        Self {
            url: format!("/media/{id}.jpg"),
            thumb_url: format!("/media/{id}-thumb.jpg"),
            id,
            alt,
            width,
            height,
        }
    }
}

/// An alt text: trimmed, at most [`MAX_ALT`] characters, no control
/// characters.
pub fn alt_text(text: &str) -> Result<String, InvalidValue> {
    let text = text.trim();
    if text.chars().count() > MAX_ALT {
        return Err(InvalidValue(format!("at most {MAX_ALT} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(InvalidValue("no control characters".into()));
    }
    Ok(text.to_owned())
}

/// A photo's place among a product's photos: from 0 (the main photo) to
/// one less than [`MAX_PER_PRODUCT`].
pub fn position(position: usize) -> Result<usize, InvalidValue> {
    if position >= MAX_PER_PRODUCT {
        return Err(InvalidValue(format!(
            "a place from 0 to {}",
            MAX_PER_PRODUCT - 1
        )));
    }
    Ok(position)
}

/// Photos whose id starts with this are shared by several products (the
/// demo's drawings, one per category): their files stay while any product
/// still shows them.
pub const SHARED_PREFIX: &str = "0000";

/// What names a stored file: `{id}` (display) or `{id}-thumb`.
pub fn file_key(id: &str, thumb: bool) -> String {
    if thumb {
        format!("{id}-thumb")
    } else {
        id.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::cast_possible_truncation)]
    fn png(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        if alpha {
            image::RgbaImage::from_fn(width, height, |x, _| {
                image::Rgba([200, 30, 30, if x < width / 2 { 0 } else { 255 }])
            })
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        } else {
            RgbImage::from_fn(width, height, |x, y| {
                image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
            })
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn a_large_photo_is_scaled_to_fit_and_a_small_one_kept_at_its_size() {
        let big = prepare(&png(2400, 1600, false)).unwrap();
        assert_eq!((big.width, big.height), (1200, 800));
        assert_eq!(big.source, "png");
        let thumb = image::load_from_memory(&big.thumb).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 213));
        assert_eq!(
            image::guess_format(&big.display).unwrap(),
            ImageFormat::Jpeg
        );
        let small = prepare(&png(300, 500, false)).unwrap();
        assert_eq!((small.width, small.height), (300, 500));
    }

    #[test]
    fn transparency_becomes_white() {
        let prepared = prepare(&png(64, 64, true)).unwrap();
        let decoded = image::load_from_memory(&prepared.display)
            .unwrap()
            .to_rgb8();
        let left = decoded.get_pixel(4, 32).0;
        assert!(left.iter().all(|c| *c > 240), "{left:?}");
        let right = decoded.get_pixel(60, 32).0;
        assert!(right[0] > 150 && right[1] < 80, "{right:?}");
    }

    #[test]
    fn anything_but_jpeg_png_or_webp_is_refused_by_content() {
        assert_eq!(
            prepare(b"GIF89a......").unwrap_err(),
            ImageError::NotAnImage
        );
        assert_eq!(
            prepare(b"name,price\n").unwrap_err(),
            ImageError::NotAnImage
        );
        let mut broken = png(100, 100, false);
        broken.truncate(60);
        assert!(matches!(prepare(&broken), Err(ImageError::Unreadable(_))));
    }

    #[test]
    fn alt_texts_are_bounded() {
        assert_eq!(alt_text("  Washed sand  ").unwrap(), "Washed sand");
        assert!(alt_text(&"x".repeat(201)).is_err());
        assert!(alt_text("a\u{7}b").is_err());
    }
}
