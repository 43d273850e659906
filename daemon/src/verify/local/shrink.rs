//! The image the zone search runs on: a grey image shrunk with the triangle filter, giving the
//! same pixels as `image::imageops::resize(.., FilterType::Triangle)` (the same weights, summed
//! in the same order) on one channel instead of four, rows read contiguously.

use image::GrayImage;

/// Each output sample's first input index and its normalised weights, for shrinking (or
/// growing) `from` samples to `to`, as `image`'s resampler computes them.
fn weights(from: u32, to: u32) -> Vec<(usize, Vec<f32>)> {
    let ratio = from as f32 / to as f32;
    let sratio = ratio.max(1.0);
    let support = sratio;
    (0..to)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, i64::from(from) - 1);
            let right = ((centre + support).ceil() as i64).clamp(left + 1, i64::from(from));
            let centre = centre - 0.5;
            let mut ws: Vec<f32> = (left..right)
                .map(|i| {
                    let x = ((i as f32 - centre) / sratio).abs();
                    if x < 1.0 { 1.0 - x } else { 0.0 }
                })
                .collect();
            let sum: f32 = ws.iter().sum();
            for w in &mut ws {
                *w /= sum;
            }
            (left as usize, ws)
        })
        .collect()
}

/// `img` resized to `width` x `height` (each at least 1).
pub fn shrink(img: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 || (w, h) == (width, height) {
        return image::imageops::resize(img, width, height, image::imageops::FilterType::Triangle);
    }
    let src = img.as_raw();
    let stride = w as usize;
    // Down the columns first (into floats), then along the rows, as `image` does.
    let mut tall = vec![0.0f32; stride * height as usize];
    for (out_row, (left, ws)) in tall.chunks_exact_mut(stride).zip(weights(h, height)) {
        for (i, wt) in ws.iter().enumerate() {
            let row = &src[(left + i) * stride..(left + i + 1) * stride];
            for (acc, &p) in out_row.iter_mut().zip(row) {
                *acc += f32::from(p) * wt;
            }
        }
    }
    let across = weights(w, width);
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for row in tall.chunks_exact(stride) {
        for (left, ws) in &across {
            let mut t = 0.0f32;
            for (i, wt) in ws.iter().enumerate() {
                t += row[left + i] * wt;
            }
            out.push(round(t.clamp(0.0, 255.0)));
        }
    }
    GrayImage::from_raw(width, height, out).unwrap_or_else(|| {
        image::imageops::resize(img, width, height, image::imageops::FilterType::Triangle)
    })
}

/// `v.round() as u8` for `v` in 0..=255 without a call into libm (the baseline x86-64 target
/// has no rounding instruction): halves away from zero, as `round` does.
fn round(v: f32) -> u8 {
    let whole = v as u8;
    if v - f32::from(whole) >= 0.5 {
        whole.saturating_add(1)
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{FilterType, resize};
    use proptest::prelude::*;

    #[test]
    fn halves_round_away_from_zero() {
        for v in [0.0f32, 0.499_999_97, 0.5, 1.5, 2.5, 127.49, 254.5, 255.0] {
            assert_eq!(round(v), v.round() as u8, "{v}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn the_same_pixels_as_image_resize(
            w in 1u32..90,
            h in 1u32..90,
            to_w in 1u32..60,
            to_h in 1u32..60,
            seed in any::<u32>(),
        ) {
            let mut state = seed | 1;
            let img = GrayImage::from_fn(w, h, |_, _| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                image::Luma([(state % 256) as u8])
            });
            prop_assert_eq!(shrink(&img, to_w, to_h), resize(&img, to_w, to_h, FilterType::Triangle));
        }

        #[test]
        fn the_fast_round_is_the_round(v in 0.0f32..=255.0) {
            prop_assert_eq!(round(v), v.round() as u8);
        }
    }
}
