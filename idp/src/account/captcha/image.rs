//! The picture of an image captcha (issue #13, item 7): each character is a stroke glyph,
//! jittered, rotated, scaled and shifted, over and under curved noise lines, rasterised into
//! palette pixels and encoded as PNG (`png`). The characters are nowhere in the bytes: no text,
//! no path coordinates a script could match against glyphs, only pixels, and every pixel is a
//! palette index below 16, so no pixel byte is even printable ASCII. Same seed, same picture
//! (reloading must not let anyone average many distortions).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::png;

pub const WIDTH: u32 = 200;
pub const HEIGHT: u32 = 70;
const W: f64 = WIDTH as f64;
const H: f64 = HEIGHT as f64;
/// Shades from ink to paper; a pixel is its darkness quantised to one of them.
const SHADES: usize = 16;
const INK: [f64; 3] = [0x1d as f64, 0x35 as f64, 0x57 as f64];
const PAPER: [f64; 3] = [0xf4 as f64, 0xf1 as f64, 0xea as f64];

/// Stroke glyphs on a 4 × 6 grid (y down); strokes separated by `|`.
pub fn glyph(c: char) -> &'static str {
    match c {
        'A' => "0,6 2,0 4,6|1,3.5 3,3.5",
        'C' => "4,1 3,0 1,0 0,1 0,5 1,6 3,6 4,5",
        'E' => "4,0 0,0 0,6 4,6|0,3 3,3",
        'F' => "4,0 0,0 0,6|0,3 3,3",
        'H' => "0,0 0,6|4,0 4,6|0,3 4,3",
        'K' => "0,0 0,6|4,0 0,3.5|1.2,2.8 4,6",
        'P' => "0,6 0,0 3,0 4,1 4,2 3,3 0,3",
        'R' => "0,6 0,0 3,0 4,1 4,2 3,3 0,3|2,3 4,6",
        'X' => "0,0 4,6|4,0 0,6",
        'Y' => "0,0 2,3 4,0|2,3 2,6",
        '3' => "0,0 4,0 2,2.5 3,2.5 4,3.5 4,5 3,6 1,6 0,5",
        '4' => "3,6 3,0 0,4 4,4",
        '7' => "0,0 4,0 1.5,6",
        '9' => "4,3 1,3 0,2 0,1 1,0 3,0 4,1 4,5 3,6 0,6",
        _ => "",
    }
}

/// The PNG of `text` drawn with `seed`.
pub fn draw_png(text: &str, seed: u64) -> Vec<u8> {
    let pixels = draw(text, seed);
    let palette: Vec<[u8; 3]> = (0..SHADES)
        .map(|i| {
            let t = i as f64 / (SHADES - 1) as f64;
            let mix = |c: usize| (INK[c] + (PAPER[c] - INK[c]) * t).round() as u8;
            [mix(0), mix(1), mix(2)]
        })
        .collect();
    // The sizes and indices are ours and consistent; an empty image only if that ever changes.
    png::encode_indexed(WIDTH, HEIGHT, &palette, &pixels).unwrap_or_default()
}

/// Palette indices (0 = ink … SHADES − 1 = paper), row by row.
fn draw(text: &str, seed: u64) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut canvas = Canvas::new();
    for _ in 0..4 {
        noise_line(&mut rng, &mut canvas, 1.5);
    }
    let cell = (W - 20.0) / text.chars().count().max(1) as f64;
    for (i, c) in text.chars().enumerate() {
        let scale = rng.gen_range(6.0..8.0);
        let angle = rng.gen_range(-0.45_f64..0.45);
        let (sin, cos) = angle.sin_cos();
        let cx = 10.0 + cell * (i as f64 + 0.5) + rng.gen_range(-4.0..4.0);
        let cy = H / 2.0 + rng.gen_range(-7.0..7.0);
        let ink = rng.gen_range(0.0..0.25);
        let width = rng.gen_range(2.5..3.5);
        for stroke in glyph(c).split('|') {
            let points: Vec<(f64, f64)> = stroke
                .split(' ')
                .filter_map(|point| {
                    let (x, y) = point.split_once(',')?;
                    let (x, y) = (x.parse::<f64>().ok()?, y.parse::<f64>().ok()?);
                    // Centre the glyph, jitter the point, then rotate and scale.
                    let (x, y) = (x - 2.0 + rng.gen_range(-0.25..0.25), y - 3.0 + rng.gen_range(-0.25..0.25));
                    Some((cx + scale * (x * cos - y * sin), cy + scale * (x * sin + y * cos)))
                })
                .collect();
            canvas.stroke(&points, width, ink, 1.0);
        }
    }
    for _ in 0..3 {
        noise_line(&mut rng, &mut canvas, 1.0);
    }
    // Specks: single pixels of any shade.
    for _ in 0..150 {
        let (x, y) = (rng.gen_range(0..WIDTH as usize), rng.gen_range(0..HEIGHT as usize));
        canvas.lightness[y * WIDTH as usize + x] = rng.gen_range(0.0..1.0);
    }
    canvas.lightness.iter().map(|l| (l.clamp(0.0, 1.0) * (SHADES - 1) as f64).round() as u8).collect()
}

/// A quadratic curve across the picture, flattened into segments.
fn noise_line(rng: &mut StdRng, canvas: &mut Canvas, width: f64) {
    let start = (rng.gen_range(0.0..20.0), rng.gen_range(0.0..H));
    let control = (rng.gen_range(40.0..160.0), rng.gen_range(-20.0..H + 20.0));
    let end = (rng.gen_range(180.0..W), rng.gen_range(0.0..H));
    let ink = rng.gen_range(0.0..0.4);
    let points: Vec<(f64, f64)> = (0..=24)
        .map(|i| {
            let t = f64::from(i) / 24.0;
            let u = 1.0 - t;
            (
                u * u * start.0 + 2.0 * u * t * control.0 + t * t * end.0,
                u * u * start.1 + 2.0 * u * t * control.1 + t * t * end.1,
            )
        })
        .collect();
    canvas.stroke(&points, width, ink, 0.6);
}

/// Lightness per pixel, 0 (ink) to 1 (paper).
struct Canvas {
    lightness: Vec<f64>,
}

impl Canvas {
    fn new() -> Self {
        Canvas { lightness: vec![1.0; (WIDTH * HEIGHT) as usize] }
    }

    /// Paints the polyline `points`, `width` pixels wide with round joins and caps, in `ink`
    /// (a lightness) at `opacity`, antialiased. Coverage is the maximum over the segments, so a
    /// translucent line is not darker where its segments meet.
    fn stroke(&mut self, points: &[(f64, f64)], width: f64, ink: f64, opacity: f64) {
        let reach = width / 2.0 + 1.0;
        let clip = |v: f64, max: u32| v.floor().clamp(0.0, f64::from(max)) as usize;
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        let mut coverage = vec![0.0_f64; w * h];
        let segments: Vec<((f64, f64), (f64, f64))> = match points {
            [] => return,
            [only] => vec![(*only, *only)],
            _ => points.windows(2).map(|s| (s[0], s[1])).collect(),
        };
        // Each segment visits only the pixels near it.
        for (a, b) in segments {
            let (x0, x1) = (clip(a.0.min(b.0) - reach, WIDTH), clip(a.0.max(b.0) + reach + 1.0, WIDTH));
            let (y0, y1) = (clip(a.1.min(b.1) - reach, HEIGHT), clip(a.1.max(b.1) + reach + 1.0, HEIGHT));
            for py in y0..y1 {
                for px in x0..x1 {
                    let distance = distance_to_segment((px as f64 + 0.5, py as f64 + 0.5), a, b);
                    let c = &mut coverage[py * w + px];
                    *c = c.max((width / 2.0 + 0.5 - distance).clamp(0.0, 1.0));
                }
            }
        }
        for (l, c) in self.lightness.iter_mut().zip(coverage) {
            let a = c * opacity;
            *l = *l * (1.0 - a) + ink * a;
        }
    }
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length2 = dx * dx + dy * dy;
    let t = if length2 == 0.0 { 0.0 } else { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length2).clamp(0.0, 1.0) };
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - qx).powi(2) + (p.1 - qy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::super::png::tests::{inflate_stored, parse};
    use super::*;

    #[test]
    fn the_picture_is_a_valid_png_of_the_announced_size() {
        let png = draw_png("ACEFH", 42);

        let chunks = parse(&png);
        assert_eq!(&chunks[0].kind, b"IHDR");
        assert_eq!(chunks[0].data[..8], [0, 0, 0, 200, 0, 0, 0, 70], "200 × 70, as the <img> says");
        assert_eq!(chunks[0].data[8..], [8, 3, 0, 0, 0], "8-bit palette");
        assert_eq!(&chunks[1].kind, b"PLTE");
        assert_eq!(chunks[1].data.len(), 3 * SHADES);
        let idat: Vec<u8> = chunks.iter().filter(|c| &c.kind == b"IDAT").flat_map(|c| c.data.clone()).collect();
        let raw = inflate_stored(&idat);
        assert_eq!(raw.len(), (WIDTH as usize + 1) * HEIGHT as usize);
        assert!(raw.chunks(WIDTH as usize + 1).all(|row| row[0] == 0), "filter byte 0 on every row");
        assert_eq!(&chunks.last().unwrap().kind, b"IEND");
        assert!(png.len() < 20_000, "{} bytes", png.len());
    }

    #[test]
    fn the_same_seed_draws_the_same_picture_and_another_seed_another() {
        assert_eq!(draw_png("ACEFH", 42), draw_png("ACEFH", 42), "reloading shows the same picture");
        assert_ne!(draw_png("ACEFH", 42), draw_png("ACEFH", 43));
        assert_ne!(draw_png("ACEFH", 42), draw_png("KPRXY", 42));
    }

    #[test]
    fn the_answer_is_nowhere_in_the_bytes_and_every_pixel_is_a_small_index() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..50 {
            let answer = super::super::image_answer(&mut rng);
            let png = draw_png(&answer, rng.r#gen());
            let lower = answer.to_lowercase();
            for needle in [answer.as_bytes(), lower.as_bytes()] {
                assert!(!png.windows(needle.len()).any(|w| w == needle), "{answer} is in the PNG's bytes");
            }
            let chunks = parse(&png);
            let raw = inflate_stored(&chunks[2].data);
            assert!(raw.iter().all(|&b| usize::from(b) < SHADES), "pixels are palette indices below 16");
        }
    }

    #[test]
    fn the_characters_are_drawn_in_ink_and_the_rest_is_mostly_paper() {
        let pixels = draw("HHHHH", 7);
        let dark = pixels.iter().filter(|&&p| p < 6).count();
        let paper = pixels.iter().filter(|&&p| usize::from(p) == SHADES - 1).count();
        // Five H's of three strokes each, ~3 px wide and ~40 px long: well over a thousand pixels.
        assert!(dark > 1000, "{dark} dark pixels");
        assert!(paper > pixels.len() / 2, "{paper} paper pixels of {}", pixels.len());
        let blank = draw("", 7);
        assert!(blank.iter().filter(|&&p| p < 6).count() < dark / 2, "the glyphs, not the noise, make the ink");
    }

    #[test]
    fn every_character_of_the_alphabet_has_a_glyph() {
        for c in super::super::IMAGE_ALPHABET.chars() {
            assert!(!glyph(c).is_empty(), "no glyph for {c}");
        }
    }
}
