//! Telling the MRZ filler `<` from the letters Tesseract's stock model mistakes it for (`K`,
//! `X`, `C`, `E`...) by its shape: in the zone image, the left edge of a `<` is a single point
//! at mid-height, where those letters have a stem, a curve or two arms.

use image::GrayImage;

/// Characters worth a second look: letters, and the round digits Tesseract reads for a filler.
/// Other digits are left alone (a `4`'s diagonal can look like a chevron's apex).
pub fn may_be_filler(c: char) -> bool {
    c.is_ascii_uppercase() || c == '0' || c == '6'
}

/// Ink threshold for a zone image (Otsu).
pub fn ink_level(img: &GrayImage) -> u8 {
    imageproc::contrast::otsu_level(img)
}

/// Whether the ink inside `bbox` (x0, y0, x1, y1) is shaped like `<`: the leftmost quarter of
/// the ink touches only the middle rows of the glyph.
pub fn is_filler(img: &GrayImage, bbox: (u32, u32, u32, u32), level: u8) -> bool {
    let (x0, y0) = (bbox.0.min(img.width()), bbox.1.min(img.height()));
    let (x1, y1) = (bbox.2.min(img.width()), bbox.3.min(img.height()));
    if x1 <= x0 + 2 || y1 <= y0 + 4 {
        return false;
    }
    let ink = |x: u32, y: u32| img.get_pixel(x, y).0[0] < level;
    // The largest connected piece of ink in the box is the glyph; a neighbour's stroke reaching
    // into the box is another piece.
    let (bw, bh) = (x1 - x0, y1 - y0);
    let mut label = vec![0u32; (bw * bh) as usize];
    let mut best: Vec<(u32, u32)> = Vec::new();
    let mut next = 0;
    for sy in y0..y1 {
        for sx in x0..x1 {
            if !ink(sx, sy) || label[((sy - y0) * bw + sx - x0) as usize] != 0 {
                continue;
            }
            next += 1;
            let mut piece = vec![(sx, sy)];
            label[((sy - y0) * bw + sx - x0) as usize] = next;
            let mut i = 0;
            while i < piece.len() {
                let (px, py) = piece[i];
                i += 1;
                for (nx, ny) in [
                    (px + 1, py),
                    (px.wrapping_sub(1), py),
                    (px, py + 1),
                    (px, py.wrapping_sub(1)),
                ] {
                    if nx < x0 || ny < y0 || nx >= x1 || ny >= y1 || !ink(nx, ny) {
                        continue;
                    }
                    let cell = &mut label[((ny - y0) * bw + nx - x0) as usize];
                    if *cell == 0 {
                        *cell = next;
                        piece.push((nx, ny));
                    }
                }
            }
            if piece.len() > best.len() {
                best = piece;
            }
        }
    }
    let (mut tx0, mut ty0, mut tx1, mut ty1) = (x1, y1, x0, y0);
    for &(x, y) in &best {
        tx0 = tx0.min(x);
        ty0 = ty0.min(y);
        tx1 = tx1.max(x + 1);
        ty1 = ty1.max(y + 1);
    }
    if tx1 <= tx0 + 2 || ty1 <= ty0 + 4 {
        return false;
    }
    let (w, h) = (tx1 - tx0, ty1 - ty0);
    let left = tx0 + (w / 4).max(1);
    let mut rows: Vec<u32> = best
        .iter()
        .filter(|&&(x, _)| x < left)
        .map(|&(_, y)| y)
        .collect();
    rows.sort_unstable();
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return false;
    };
    let (top, bottom) = (first - ty0, last + 1 - ty0);
    let mid = h / 2;
    // A `<` apex: the left quarter's ink spans under half the height and sits around the middle.
    bottom - top < h / 2
        && top < mid
        && bottom > mid
        && top > h / 6
        && bottom < h - h / 6
        && w * 10 > h * 5
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::local::render::OcrB;
    use image::{Rgb, RgbImage};

    #[test]
    fn the_filler_is_told_from_its_lookalikes() {
        let Ok(font) = OcrB::load() else {
            panic!("the OCR-B font (fonts-ocr-b) is needed by the tests");
        };
        for (text, want) in [
            ("<", true),
            ("K", false),
            ("X", false),
            ("C", false),
            ("E", false),
        ] {
            let mut img = RgbImage::from_pixel(60, 70, Rgb([255, 255, 255]));
            font.draw_lines(
                &mut img,
                &[text.to_string()],
                10.0,
                10.0,
                40.0,
                Rgb([0, 0, 0]),
            );
            let gray = image::DynamicImage::ImageRgb8(img).to_luma8();
            let level = ink_level(&gray);
            assert_eq!(is_filler(&gray, (0, 0, 60, 70), level), want, "{text}");
        }
    }
}
