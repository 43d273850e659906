//! A recognizer of our own for the 37 characters of the zone (`A-Z`, `0-9`, `<`): every glyph
//! of the real OCR-B font (Debian `fonts-ocr-b`) is rendered once into a small template, and a
//! cell of the zone image, cut on the row's character grid, is matched against each by
//! normalised cross-correlation (allowing a little slack each way). OCR-B keeps apart exactly
//! the shapes Tesseract's stock model confuses on small prints (`0`/`O`/`Q`/`D`, `<`/`K`/`4`,
//! `1`/`I`/`L`), so the templates settle the cells Tesseract was unsure of, read the cells it
//! left empty, and pick the letter or digit a cell's layout class allows.

use std::sync::OnceLock;

use image::{GrayImage, Rgb, RgbImage};

use super::grid::RowCells;
use super::ocr::MRZ_ALPHABET;
use super::render::OcrB;

/// Samples across one character cell (the pitch).
const TW: usize = 16;
/// Samples down the capital height plus the margins above and below.
const TH: usize = 24;
/// Margin above the capitals and below the baseline, as a fraction of the capital height.
const MARGIN: f32 = 0.2;
/// Samples the match may shift each way, for a grid or row estimate a little off.
const SLACK: usize = 2;
/// Capital height the templates are rendered at, in pixels.
const RENDER_CAP: f32 = 64.0;

/// The 37 glyph templates, each zero-mean with unit norm.
pub struct Templates {
    glyphs: Vec<(char, Vec<f32>)>,
}

/// Where one cell lies in an image: its centre, the top of the capitals and the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub centre: f32,
    pub pitch: f32,
    pub cap_top: f32,
    pub baseline: f32,
}

impl Cell {
    /// Cell `col` of a row placed on its grid.
    pub fn of(cells: &RowCells, col: usize) -> Cell {
        Cell {
            centre: cells.x0 + col as f32 * cells.pitch,
            pitch: cells.pitch,
            cap_top: cells.top as f32,
            baseline: cells.bottom as f32,
        }
    }
}

/// The templates, rendered on first use; `None` when the OCR-B font is not installed (the
/// reader then relies on Tesseract alone).
pub fn templates() -> Option<&'static Templates> {
    static TEMPLATES: OnceLock<Option<Templates>> = OnceLock::new();
    TEMPLATES
        .get_or_init(|| OcrB::load().ok().map(|font| Templates::render(&font)))
        .as_ref()
}

impl Templates {
    /// Renders the 37 glyphs of `font` and samples each on its cell.
    pub fn render(font: &OcrB) -> Templates {
        let cap = RENDER_CAP;
        let pad = cap;
        let advance = font.line_width(1, cap);
        let size = ((advance + 2.0 * pad) as u32, (cap + 2.0 * pad) as u32);
        let draw = |ch: char| {
            let mut img = RgbImage::from_pixel(size.0, size.1, Rgb([255, 255, 255]));
            font.draw_lines(&mut img, &[ch.to_string()], pad, pad, cap, Rgb([0, 0, 0]));
            image::DynamicImage::ImageRgb8(img).to_luma8()
        };
        // The true capital height and baseline, as Tesseract's boxes of letters see them.
        let h = draw('H');
        let rows: Vec<u32> = (0..h.height())
            .filter(|&y| (0..h.width()).any(|x| h.get_pixel(x, y).0[0] < 128))
            .collect();
        let (top, bottom) = match (rows.first(), rows.last()) {
            (Some(&t), Some(&b)) => (t as f32, b as f32 + 1.0),
            _ => (pad, pad + cap),
        };
        let cell = Cell {
            centre: pad + advance / 2.0,
            pitch: advance,
            cap_top: top,
            baseline: bottom,
        };
        let glyphs = MRZ_ALPHABET
            .chars()
            .map(|ch| {
                let samples = sample(&draw(ch), cell, 0);
                (ch, normalised(&samples).unwrap_or_default())
            })
            .collect();
        Templates { glyphs }
    }

    /// Every character's best correlation with the cell of `img` (over the slack), best first;
    /// `None` for a blank cell (nothing to correlate).
    pub fn scores(&self, img: &GrayImage, cell: Cell) -> Option<Vec<(char, f32)>> {
        self.scores_of(img, cell, &|_| true)
    }

    /// [`Templates::scores`] of the characters `wanted` accepts only.
    pub fn scores_of(
        &self,
        img: &GrayImage,
        cell: Cell,
        wanted: &dyn Fn(char) -> bool,
    ) -> Option<Vec<(char, f32)>> {
        if cell.pitch < 2.0 || cell.baseline <= cell.cap_top + 2.0 {
            return None;
        }
        let window = sample(img, cell, SLACK);
        let ww = TW + 2 * SLACK;
        // Norm of each shifted window around its mean.
        let mut shifts = Vec::with_capacity((2 * SLACK + 1) * (2 * SLACK + 1));
        for dy in 0..=2 * SLACK {
            for dx in 0..=2 * SLACK {
                let (mut sum, mut sq) = (0.0f32, 0.0f32);
                for y in 0..TH {
                    for &v in &window[(dy + y) * ww + dx..(dy + y) * ww + dx + TW] {
                        sum += v;
                        sq += v * v;
                    }
                }
                let n = (TW * TH) as f32;
                let var = sq - sum * sum / n;
                if var > n * 4.0 {
                    shifts.push((dx, dy, var.sqrt()));
                }
            }
        }
        if shifts.is_empty() {
            return None;
        }
        let mut out: Vec<(char, f32)> = self
            .glyphs
            .iter()
            .filter(|(ch, _)| wanted(*ch))
            .map(|(ch, t)| {
                let best = shifts
                    .iter()
                    .map(|&(dx, dy, norm)| dot(&window[dy * ww + dx..], ww, t) / norm)
                    .fold(f32::MIN, f32::max);
                (*ch, best)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Some(out)
    }
}

/// The dot product of template `t` with the `TW` x `TH` window at the start of `window` (rows
/// `stride` apart). One sum per column, so the compiler keeps the columns in vector lanes.
fn dot(window: &[f32], stride: usize, t: &[f32]) -> f32 {
    let mut lanes = [0.0f32; TW];
    for (y, t) in t.chunks_exact(TW).enumerate().take(TH) {
        let w = window.get(y * stride..y * stride + TW);
        let (Some(w), Ok(t)) = (
            w.and_then(|w| <&[f32; TW]>::try_from(w).ok()),
            <&[f32; TW]>::try_from(t),
        ) else {
            break;
        };
        for ((lane, a), b) in lanes.iter_mut().zip(w).zip(t) {
            *lane += a * b;
        }
    }
    lanes.iter().sum()
}

/// The cell sampled on a (`TW` + 2`slack`) x (`TH` + 2`slack`) grid, each sample the mean of
/// the pixels under it (bilinear reads; outside the image is white), darker = lower.
fn sample(img: &GrayImage, cell: Cell, slack: usize) -> Vec<f32> {
    let cap = cell.baseline - cell.cap_top;
    let sx = cell.pitch / TW as f32;
    let sy = cap * (1.0 + 2.0 * MARGIN) / TH as f32;
    let left = cell.centre - cell.pitch / 2.0 - slack as f32 * sx;
    let top = cell.cap_top - MARGIN * cap - slack as f32 * sy;
    let (w, h) = (TW + 2 * slack, TH + 2 * slack);
    // Sub-samples per sample and axis: enough to cover a large cell's pixels.
    let kx = (sx.ceil() as usize).clamp(1, 4);
    let ky = (sy.ceil() as usize).clamp(1, 4);
    // Where each sub-sample falls, worked out once per column and per row.
    let xs: Vec<Tap> = (0..w)
        .flat_map(|i| (0..kx).map(move |a| (i, a)))
        .map(|(i, a)| Tap::at(left + (i as f32 + (a as f32 + 0.5) / kx as f32) * sx - 0.5))
        .collect();
    let ys: Vec<Tap> = (0..h)
        .flat_map(|j| (0..ky).map(move |b| (j, b)))
        .map(|(j, b)| Tap::at(top + (j as f32 + (b as f32 + 0.5) / ky as f32) * sy - 0.5))
        .collect();
    let mut out = Vec::with_capacity(w * h);
    for j in 0..h {
        for i in 0..w {
            let mut sum = 0.0;
            for y in &ys[j * ky..(j + 1) * ky] {
                for x in &xs[i * kx..(i + 1) * kx] {
                    sum += bilinear(img, x, y);
                }
            }
            out.push(sum / (kx * ky) as f32);
        }
    }
    out
}

/// One coordinate of a bilinear read: the pixel at or before it and the fraction past it.
#[derive(Debug, Clone, Copy)]
struct Tap {
    at: i64,
    frac: f32,
}

impl Tap {
    fn at(v: f32) -> Tap {
        let f = floor(v);
        Tap {
            at: f as i64,
            frac: v - f,
        }
    }
}

/// The grey level at a fractional position; white outside the image.
fn bilinear(img: &GrayImage, x: &Tap, y: &Tap) -> f32 {
    let (width, height) = (i64::from(img.width()), i64::from(img.height()));
    let raw = img.as_raw();
    let at = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= width || y >= height {
            255.0
        } else {
            f32::from(raw[(y * width + x) as usize])
        }
    };
    let (x0, y0, fx, fy) = (x.at, y.at, x.frac, y.frac);
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// `v.floor()` for the coordinates met here (well inside `i32`), without a call into libm
/// (the baseline x86-64 target has no rounding instruction).
fn floor(v: f32) -> f32 {
    let t = v as i32 as f32;
    if t > v { t - 1.0 } else { t }
}

/// Zero mean and unit norm; `None` for a flat patch.
fn normalised(samples: &[f32]) -> Option<Vec<f32>> {
    let mean = samples.iter().sum::<f32>() / samples.len() as f32;
    let centred: Vec<f32> = samples.iter().map(|v| v - mean).collect();
    let norm = centred.iter().map(|v| v * v).sum::<f32>().sqrt();
    (norm > 1e-3).then(|| centred.into_iter().map(|v| v / norm).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alphabet printed small (capitals `cap` pixels high), blurred, then the cell of each
    /// character matched: the templates read every glyph back.
    fn reads_the_alphabet_at(cap: f32, blur: f32) {
        let font = OcrB::load().expect("the OCR-B font (fonts-ocr-b) is needed by the tests");
        let templates = Templates::render(&font);
        let line: String = MRZ_ALPHABET.chars().collect();
        let advance = font.line_width(1, cap);
        let (x, y) = (6.0, 6.0);
        let width = (font.line_width(line.len(), cap) + 2.0 * x) as u32;
        let mut img = RgbImage::from_pixel(width, (cap * 2.0 + 2.0 * y) as u32, Rgb([255; 3]));
        font.draw_lines(
            &mut img,
            std::slice::from_ref(&line),
            x,
            y,
            cap,
            Rgb([30, 30, 30]),
        );
        let gray = image::DynamicImage::ImageRgb8(img).to_luma8();
        // The row's capitals, as Tesseract's box of the `H` would give them.
        let h = (x + 7.0 * advance) as u32..(x + 8.0 * advance) as u32;
        let rows: Vec<u32> = (0..gray.height())
            .filter(|&r| h.clone().any(|c| gray.get_pixel(c, r).0[0] < 128))
            .collect();
        let (top, bottom) = (rows[0] as f32, *rows.last().expect("ink") as f32 + 1.0);
        let gray = imageproc::filter::gaussian_blur_f32(&gray, blur);
        for (i, ch) in line.chars().enumerate() {
            let cell = Cell {
                centre: x + (i as f32 + 0.5) * advance,
                pitch: advance,
                cap_top: top,
                baseline: bottom,
            };
            let scores = templates.scores(&gray, cell).expect("ink in the cell");
            assert_eq!(scores[0].0, ch, "cap {cap}: {:?}", &scores[..3]);
        }
    }

    #[test]
    fn every_glyph_is_read_back_from_a_small_blurred_print() {
        reads_the_alphabet_at(40.0, 0.8);
        reads_the_alphabet_at(11.0, 0.7);
    }

    #[test]
    fn the_fast_floor_is_the_floor() {
        for v in [
            -3.5f32, -2.0, -1e-6, -0.0, 0.0, 0.25, 1.0, 1.999_999, 7.5, 4095.9,
        ] {
            assert_eq!(floor(v), v.floor(), "{v}");
        }
    }

    #[test]
    fn a_blank_cell_has_no_reading() {
        let font = OcrB::load().expect("the OCR-B font (fonts-ocr-b) is needed by the tests");
        let templates = Templates::render(&font);
        let blank = GrayImage::from_pixel(60, 60, image::Luma([240]));
        let cell = Cell {
            centre: 30.0,
            pitch: 20.0,
            cap_top: 20.0,
            baseline: 40.0,
        };
        assert!(templates.scores(&blank, cell).is_none());
    }
}
