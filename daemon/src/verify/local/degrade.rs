//! Degraded copies of a specimen image, made on the fly for the stress benchmark (never stored):
//! scaled so that the zone's characters are a given number of pixels high, then one harm each:
//! heavy JPEG compression, blur, a perspective tilt, a glare spot over the zone, or a quarter or
//! half turn. Every harm is deterministic for a seed.

use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgb, RgbImage};
use imageproc::geometric_transformations::{Interpolation, Projection, warp};

/// One kind of harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Harm {
    /// Only the scaling.
    None,
    /// JPEG at quality 20..=40.
    Jpeg,
    /// Gaussian blur of 0.4..0.7 character stroke widths.
    Blur,
    /// A perspective tilt of up to 10 degrees out of the page, plus up to 4 degrees in it.
    Perspective,
    /// A bright spot over part of the zone, as a lamp on a laminate leaves.
    Glare,
    /// A quarter turn (90 or 270 degrees).
    Quarter,
    /// A half turn.
    Half,
}

impl Harm {
    /// Every harm, in table order.
    pub const ALL: [Harm; 7] = [
        Harm::None,
        Harm::Jpeg,
        Harm::Blur,
        Harm::Perspective,
        Harm::Glare,
        Harm::Quarter,
        Harm::Half,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Harm::None => "scaled only",
            Harm::Jpeg => "JPEG q20-40",
            Harm::Blur => "blur",
            Harm::Perspective => "perspective <=10 deg",
            Harm::Glare => "glare",
            Harm::Quarter => "rotated 90/270",
            Harm::Half => "rotated 180",
        }
    }
}

/// A small deterministic generator (xorshift), one per variant.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * (self.next() % 10_000) as f32 / 10_000.0
    }
}

/// `img` scaled by `scale` (characters `scale` times their height), then harmed by `harm`,
/// as encoded bytes (PNG, or the JPEG itself for [`Harm::Jpeg`]).
pub fn variant(img: &DynamicImage, scale: f32, harm: Harm, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (w, h) = (img.width(), img.height());
    let (sw, sh) = (
        ((w as f32 * scale).round() as u32).max(8),
        ((h as f32 * scale).round() as u32).max(8),
    );
    let filter = if scale < 1.0 {
        FilterType::Triangle
    } else {
        FilterType::CatmullRom
    };
    let mut rgb = imageops::resize(&img.to_rgb8(), sw, sh, filter);
    match harm {
        Harm::None | Harm::Jpeg => {}
        Harm::Blur => {
            // Relative to the characters: a stroke is about a seventh of their height.
            let sigma = (rng.range(0.4, 0.7) * 12.0 / 7.0 * scale.min(1.0)).max(0.6);
            rgb = imageproc::filter::gaussian_blur_f32(&rgb, sigma);
        }
        Harm::Perspective => rgb = tilt(&rgb, &mut rng),
        Harm::Glare => glare(&mut rgb, &mut rng),
        Harm::Quarter => {
            rgb = if rng.next().is_multiple_of(2) {
                imageops::rotate90(&rgb)
            } else {
                imageops::rotate270(&rgb)
            }
        }
        Harm::Half => rgb = imageops::rotate180(&rgb),
    }
    let mut out = Vec::new();
    let encoded = if harm == Harm::Jpeg {
        let quality = 20 + (rng.next() % 21) as u8;
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&rgb)
    } else {
        rgb.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
    };
    match encoded {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// The page seen from up to 10 degrees off its normal (one edge nearer, so wider), and turned
/// by up to 4 degrees in its plane, on a grey surround.
fn tilt(img: &RgbImage, rng: &mut Rng) -> RgbImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let tilt = rng.range(4.0, 10.0).to_radians();
    // A tilt about the vertical axis shortens the far edge by about tan(tilt) of the half width.
    let shrink = (tilt.tan() * 0.5).min(0.2) * h;
    let far_right = rng.next().is_multiple_of(2);
    let (l, r) = if far_right {
        (0.0, shrink)
    } else {
        (shrink, 0.0)
    };
    let squeeze = w * (1.0 - tilt.cos());
    let from = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let to = [
        (squeeze / 2.0, l / 2.0),
        (w - squeeze / 2.0, r / 2.0),
        (w - squeeze / 2.0, h - r / 2.0),
        (squeeze / 2.0, h - l / 2.0),
    ];
    let spin = rng.range(-4.0, 4.0).to_radians();
    let Some(projection) = Projection::from_control_points(from, to) else {
        return img.clone();
    };
    let about = Projection::translate(-w / 2.0, -h / 2.0)
        .and_then(Projection::rotate(spin))
        .and_then(Projection::translate(w / 2.0, h / 2.0));
    warp(
        img,
        &projection.and_then(about),
        Interpolation::Bilinear,
        Rgb([90, 90, 90]),
    )
}

/// A soft bright ellipse somewhere over the lower third of the page (where zones are).
fn glare(img: &mut RgbImage, rng: &mut Rng) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy) = (rng.range(0.2, 0.8) * w, rng.range(0.7, 0.95) * h);
    let (rx, ry) = (rng.range(0.08, 0.16) * w, rng.range(0.06, 0.12) * h);
    let strength = rng.range(0.6, 0.85);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = ((x as f32 - cx) / rx).powi(2) + ((y as f32 - cy) / ry).powi(2);
        if d < 1.0 {
            let a = strength * (1.0 - d).sqrt();
            for c in &mut p.0 {
                *c = (f32::from(*c) + (255.0 - f32::from(*c)) * a) as u8;
            }
        }
    }
}
