//! The demo's product photos, drawn here (no downloads): one picture per
//! category in a style that says what the goods are (a heap of grains, a
//! bag, a stack of bricks, timber grain, bars, pipe ends, a tin, slabs or a
//! tool box), coloured from the category's name.

use image::{Rgb, RgbImage};

use super::Rng;

const WIDTH: u32 = 480;
const HEIGHT: u32 = 360;

/// How a category's goods are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Heap,
    Pebbles,
    Bag,
    Bricks,
    Grain,
    Bars,
    Pipes,
    Tin,
    Slabs,
    Kit,
}

fn style(category: &str) -> Style {
    let c = category.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
    if has(&["gravel", "crushed", "stone", "landscap"]) {
        Style::Pebbles
    } else if has(&["sand", "aggregate"]) {
        Style::Heap
    } else if has(&["cement", "mortar", "admixture", "adhesive"]) {
        Style::Bag
    } else if has(&["brick", "block", "paving"]) {
        Style::Bricks
    } else if has(&["timber", "moulding", "sheet"]) {
        Style::Grain
    } else if has(&[
        "rebar", "steel", "section", "nail", "screw", "bolt", "fixing",
    ]) {
        Style::Bars
    } else if has(&["pipe", "drain", "plumb", "fitting", "cable", "electric"]) {
        Style::Pipes
    } else if has(&["paint", "chemical", "acid", "sealant"]) {
        Style::Tin
    } else if has(&["insulation", "roof", "board", "slab"]) {
        Style::Slabs
    } else {
        Style::Kit
    }
}

/// A colour of the category's own (the same name, the same colour).
fn colour_of(category: &str) -> Rgb<u8> {
    let hash = category.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    let [a, b, c, _] = hash.to_le_bytes();
    Rgb([90 + a % 130, 80 + b % 120, 60 + c % 110])
}

fn shade(colour: Rgb<u8>, by: i32) -> Rgb<u8> {
    let channel = |v: u8| u8::try_from((i32::from(v) + by).clamp(0, 255)).unwrap_or(0);
    Rgb([channel(colour[0]), channel(colour[1]), channel(colour[2])])
}

fn rect(picture: &mut RgbImage, (x0, y0, w, h): (u32, u32, u32, u32), colour: Rgb<u8>) {
    for y in y0..(y0 + h).min(HEIGHT) {
        for x in x0..(x0 + w).min(WIDTH) {
            picture.put_pixel(x, y, colour);
        }
    }
}

fn ellipse(picture: &mut RgbImage, (cx, cy): (f64, f64), (rx, ry): (f64, f64), colour: Rgb<u8>) {
    let (x0, x1) = ((cx - rx).max(0.0), (cx + rx).min(f64::from(WIDTH - 1)));
    let (y0, y1) = ((cy - ry).max(0.0), (cy + ry).min(f64::from(HEIGHT - 1)));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    for y in (y0 as u32)..=(y1 as u32) {
        for x in (x0 as u32)..=(x1 as u32) {
            let (dx, dy) = ((f64::from(x) - cx) / rx, (f64::from(y) - cy) / ry);
            if dx * dx + dy * dy <= 1.0 {
                picture.put_pixel(x, y, colour);
            }
        }
    }
}

/// Random shading, the same for the same seed.
struct Noise(Rng);

impl Noise {
    /// A number from `-spread` to `spread`.
    fn next(&mut self, spread: i32) -> i32 {
        i32::try_from(self.0.below(usize::try_from(spread * 2 + 1).unwrap_or(1))).unwrap_or(0)
            - spread
    }
}

const SKY: Rgb<u8> = Rgb([236, 238, 240]);

/// A heap on the ground, grainy; with pebbles on it for gravel and stone.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn heap(canvas: &mut RgbImage, colour: Rgb<u8>, noise: &mut Noise, pebbles: bool) {
    let (width, height) = (f64::from(WIDTH), f64::from(HEIGHT));
    let ground = height * 0.92;
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let across = (f64::from(x) - width / 2.0) / (width * 0.45);
            let up = (f64::from(y) - ground) / (height * 0.7);
            if f64::from(y) > ground {
                canvas.put_pixel(x, y, shade(Rgb([120, 112, 100]), noise.next(10)));
            } else if across * across + up * up <= 1.0 {
                canvas.put_pixel(x, y, shade(colour, noise.next(28)));
            }
        }
    }
    if pebbles {
        for _ in 0..260 {
            let centre = (
                f64::from(noise.next(200) + 240),
                ground - f64::from(noise.next(110).abs()) * 2.0,
            );
            let radius = f64::from(4 + noise.next(3).abs());
            let tint = shade(colour, noise.next(45));
            ellipse(canvas, centre, (radius * 1.3, radius), tint);
        }
    }
}

/// Stacked goods: bags, bricks, timber grain, bars, pipe ends.
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
fn stacked(canvas: &mut RgbImage, style: Style, colour: Rgb<u8>, noise: &mut Noise) {
    match style {
        Style::Bag => {
            rect(canvas, (0, 320, WIDTH, 40), Rgb([150, 140, 125]));
            for i in 0..3u32 {
                let (x, lift) = (60 + i * 130, (i % 2) * 20);
                rect(
                    canvas,
                    (x, 110 + lift, 110, 200),
                    shade(colour, i as i32 * -12),
                );
                rect(canvas, (x + 10, 170 + lift, 90, 40), Rgb([245, 245, 240]));
                rect(canvas, (x + 20, 182 + lift, 70, 8), shade(colour, -60));
            }
        }
        Style::Bricks => {
            for row in 0..12u32 {
                let offset = if row % 2 == 0 { 0 } else { 36 };
                for col in 1..8u32 {
                    let tint = shade(colour, noise.next(20));
                    rect(
                        canvas,
                        (col * 72 + offset - 36, 40 + row * 26, 66, 20),
                        tint,
                    );
                }
            }
        }
        Style::Grain => {
            for y in 0..HEIGHT {
                for x in 0..WIDTH {
                    let wave = (f64::from(y) / 9.0 + (f64::from(x) / 60.0).sin() * 2.5).sin();
                    canvas.put_pixel(x, y, shade(colour, (wave * 22.0) as i32 + noise.next(6)));
                }
            }
        }
        Style::Bars => {
            for i in 0..9u32 {
                let y = 50 + i * 30;
                rect(
                    canvas,
                    (20, y, 440, 16),
                    shade(Rgb([110, 110, 115]), noise.next(15)),
                );
                rect(canvas, (20, y + 3, 440, 3), Rgb([200, 200, 205]));
                for x in (24..460).step_by(14) {
                    rect(canvas, (x, y, 3, 16), shade(colour, -40));
                }
            }
        }
        _ => {
            for row in 0..3u32 {
                for col in 0..4u32 {
                    let centre = (f64::from(80 + col * 105), f64::from(80 + row * 100));
                    ellipse(canvas, centre, (46.0, 46.0), shade(colour, -30));
                    ellipse(canvas, centre, (40.0, 40.0), shade(colour, 10));
                    ellipse(canvas, centre, (34.0, 34.0), Rgb([40, 40, 45]));
                }
            }
        }
    }
}

/// `picture` at two thirds of its size (320 × 240), nearest pixel: small
/// enough that one JPEG serves as display size and thumbnail, so the demo's
/// shop is made in seconds even by a debug build.
pub fn small(picture: &RgbImage) -> RgbImage {
    RgbImage::from_fn(WIDTH * 2 / 3, HEIGHT * 2 / 3, |x, y| {
        *picture.get_pixel(x * 3 / 2, y * 3 / 2)
    })
}

/// A picture for `category`, the same every time.
#[allow(clippy::cast_possible_wrap)]
pub fn picture(category: &str) -> RgbImage {
    let colour = colour_of(category);
    let seed = u64::from(colour[0]) << 16 | u64::from(colour[1]) << 8 | u64::from(colour[2]);
    let mut noise = Noise(Rng::new(seed));
    let mut canvas = RgbImage::from_pixel(WIDTH, HEIGHT, SKY);
    match style(category) {
        Style::Heap => heap(&mut canvas, colour, &mut noise, false),
        Style::Pebbles => heap(&mut canvas, colour, &mut noise, true),
        stack @ (Style::Bag | Style::Bricks | Style::Grain | Style::Bars | Style::Pipes) => {
            stacked(&mut canvas, stack, colour, &mut noise);
        }
        Style::Tin => {
            rect(&mut canvas, (0, 320, WIDTH, 40), Rgb([170, 165, 160]));
            rect(&mut canvas, (150, 100, 180, 220), shade(colour, -10));
            rect(&mut canvas, (150, 100, 180, 12), Rgb([190, 190, 195]));
            rect(&mut canvas, (175, 170, 130, 80), Rgb([248, 248, 244]));
            rect(&mut canvas, (190, 195, 100, 10), shade(colour, -70));
            ellipse(
                &mut canvas,
                (240.0, 80.0),
                (60.0, 28.0),
                Rgb([120, 120, 125]),
            );
            ellipse(&mut canvas, (240.0, 86.0), (48.0, 18.0), SKY);
        }
        Style::Slabs => {
            for i in 0..7u32 {
                let top = 70 + i * 36;
                rect(
                    &mut canvas,
                    (60, top, 360, 30),
                    shade(colour, i as i32 * 6 - 20),
                );
                rect(&mut canvas, (60, top + 28, 360, 2), shade(colour, -80));
            }
        }
        Style::Kit => {
            rect(&mut canvas, (90, 110, 300, 190), shade(colour, -20));
            rect(&mut canvas, (90, 110, 300, 24), shade(colour, -60));
            rect(&mut canvas, (210, 80, 60, 30), Rgb([60, 60, 65]));
            ellipse(
                &mut canvas,
                (240.0, 210.0),
                (50.0, 50.0),
                Rgb([245, 245, 240]),
            );
            ellipse(
                &mut canvas,
                (240.0, 210.0),
                (22.0, 22.0),
                shade(colour, -70),
            );
        }
    }
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_draws_a_picture_and_a_category_always_the_same() {
        for category in [
            "Aggregates/Sand",
            "Aggregates/Gravel",
            "Cement and mortar/Cement",
            "Blocks and bricks/Bricks",
            "Timber/Structural timber",
            "Steel and rebar/Rebar",
            "Plumbing/Pipe",
            "Paint/Exterior",
            "Insulation/Boards",
            "Tools/Hand tools",
        ] {
            let drawn = picture(category);
            assert_eq!(drawn.dimensions(), (WIDTH, HEIGHT));
            assert_eq!(drawn, picture(category), "{category}");
            let colours: std::collections::BTreeSet<_> = drawn.pixels().map(|p| p.0).collect();
            assert!(colours.len() > 3, "{category}: a blank picture");
        }
        assert_eq!(style("Aggregates/Sand"), Style::Heap);
        assert_eq!(style("Blocks and bricks/Paving"), Style::Bricks);
        assert_ne!(
            picture("Aggregates/Sand"),
            picture("Aggregates/Crushed stone")
        );
    }
}
