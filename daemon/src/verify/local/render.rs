//! Drawing machine-readable zones with the real OCR-B font (Debian package `fonts-ocr-b`):
//! the demo submissions and the tests print their zones with it, and ICAO-conformant zone text
//! for made-up holders comes from the `mrz` crate's emitters.

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

/// Where `fonts-ocr-b` installs the regular face.
pub const OCRB_FONT: &str = "/usr/share/fonts/opentype/ocr-b/OCRB.otf";

/// Why the font could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read the OCR-B font {path} (install the Debian package fonts-ocr-b): {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a usable font")]
    Invalid(String),
}

/// The OCR-B face, loaded once.
pub struct OcrB {
    font: FontVec,
}

impl OcrB {
    /// Loads the font installed by `fonts-ocr-b`.
    pub fn load() -> Result<OcrB, RenderError> {
        Self::load_from(Path::new(OCRB_FONT))
    }

    /// Loads an OCR-B face from `path`.
    pub fn load_from(path: &Path) -> Result<OcrB, RenderError> {
        let bytes = std::fs::read(path).map_err(|source| RenderError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let font = FontVec::try_from_vec(bytes)
            .map_err(|_| RenderError::Invalid(path.display().to_string()))?;
        Ok(OcrB { font })
    }

    /// Draws `lines` with their top-left corner at (`x`, `y`), capital letters `cap` pixels high,
    /// rows 1.8 capitals apart, blending `ink` over what is there.
    pub fn draw_lines(
        &self,
        img: &mut RgbImage,
        lines: &[String],
        x: f32,
        y: f32,
        cap: f32,
        ink: Rgb<u8>,
    ) {
        // OCR-B capitals are about 0.7 of the em.
        let scale = PxScale::from(cap / 0.7);
        let scaled = self.font.as_scaled(scale);
        let advance = scaled.h_advance(self.font.glyph_id('<'));
        for (row, line) in lines.iter().enumerate() {
            let baseline = y + cap + row as f32 * cap * 1.8;
            for (col, ch) in line.chars().enumerate() {
                let glyph = self
                    .font
                    .glyph_id(ch)
                    .with_scale_and_position(scale, point(x + col as f32 * advance, baseline));
                let Some(outline) = self.font.outline_glyph(glyph) else {
                    continue;
                };
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let px = bounds.min.x as i64 + i64::from(gx);
                    let py = bounds.min.y as i64 + i64::from(gy);
                    if px < 0
                        || py < 0
                        || px >= i64::from(img.width())
                        || py >= i64::from(img.height())
                    {
                        return;
                    }
                    let p = img.get_pixel_mut(px as u32, py as u32);
                    for c in 0..3 {
                        let under = f32::from(p.0[c]);
                        p.0[c] = (under + (f32::from(ink.0[c]) - under) * coverage.min(1.0)) as u8;
                    }
                });
            }
        }
    }

    /// Width of `chars` characters at capital height `cap`.
    pub fn line_width(&self, chars: usize, cap: f32) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(cap / 0.7));
        scaled.h_advance(self.font.glyph_id('<')) * chars as f32
    }
}

/// `lines` printed dark on white in OCR-B with capitals `cap` pixels high, blurred by a
/// Gaussian of `blur` (0: sharp), as a grey image, with each row's cells where the grid puts
/// them: the zones the tests of the glyph steps read.
#[cfg(test)]
pub fn printed_zone(
    font: &OcrB,
    lines: &[String],
    cap: f32,
    blur: f32,
) -> (image::GrayImage, Vec<super::grid::RowCells>) {
    let (x, y) = (10.0, 10.0);
    let chars = lines.first().map_or(0, String::len);
    let advance = font.line_width(1, cap);
    let width = (font.line_width(chars, cap) + 2.0 * x) as u32;
    let height = (2.0 * y + cap * (1.8 * lines.len() as f32)) as u32;
    let mut img = RgbImage::from_pixel(width, height, Rgb([255; 3]));
    font.draw_lines(&mut img, lines, x, y, cap, Rgb([20, 20, 20]));
    let gray = image::DynamicImage::ImageRgb8(img).to_luma8();
    // As the grid does: the median top and bottom of the ink of the row's letters and digits.
    let cells = lines
        .iter()
        .enumerate()
        .map(|(r, line)| {
            let baseline = y + cap + r as f32 * cap * 1.8;
            let band = (baseline - 1.4 * cap) as u32..(baseline + 0.3 * cap) as u32;
            let (mut tops, mut bottoms) = (Vec::new(), Vec::new());
            for (col, _) in line
                .chars()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_alphanumeric() && *c != 'Q')
            {
                let left = (x + col as f32 * advance) as u32;
                let ink: Vec<u32> = band
                    .clone()
                    .filter(|&py| {
                        (left..left + advance as u32).any(|px| gray.get_pixel(px, py).0[0] < 128)
                    })
                    .collect();
                if let (Some(t), Some(b)) = (ink.first(), ink.last()) {
                    tops.push(*t);
                    bottoms.push(b + 1);
                }
            }
            tops.sort_unstable();
            bottoms.sort_unstable();
            super::grid::RowCells {
                x0: x + advance / 2.0,
                pitch: advance,
                top: tops.get(tops.len() / 2).copied().unwrap_or(0),
                bottom: bottoms.get(bottoms.len() / 2).copied().unwrap_or(0),
            }
        })
        .collect();
    let gray = if blur > 0.0 {
        imageproc::filter::gaussian_blur_f32(&gray, blur)
    } else {
        gray
    };
    (gray, cells)
}

/// A holder and document to print a zone for.
#[derive(Debug, Clone)]
pub struct Holder {
    pub surname: String,
    pub given_names: String,
    pub document_number: String,
    /// Three-letter code, used as both issuing state and nationality.
    pub country: String,
    /// (year, month, day).
    pub birth: (i32, u32, u32),
    pub expiry: (i32, u32, u32),
    /// `M` or `F`.
    pub sex: char,
}

/// The zone text: a passport (TD3, two rows of 44) or an ID card (TD1, three rows of 30).
pub fn zone_lines(holder: &Holder, passport: bool) -> Vec<String> {
    let date = |(y, m, d): (i32, u32, u32)| mrz::MrzDate::Calendar(mrz::Date::new(y, m, d));
    let sex = if holder.sex == 'F' {
        mrz::Sex::Female
    } else {
        mrz::Sex::Male
    };
    let zone = if passport {
        mrz::format_td3(&mrz::Td3Fields {
            issuing_country: holder.country.clone(),
            document_number: holder.document_number.clone(),
            surname: holder.surname.clone(),
            given_names: holder.given_names.clone(),
            nationality: holder.country.clone(),
            date_of_birth: date(holder.birth),
            sex,
            date_of_expiry: date(holder.expiry),
            ..Default::default()
        })
    } else {
        mrz::format_td1(&mrz::Td1Fields {
            document_code: "ID".into(),
            issuing_country: holder.country.clone(),
            document_number: holder.document_number.clone(),
            surname: holder.surname.clone(),
            given_names: holder.given_names.clone(),
            nationality: holder.country.clone(),
            date_of_birth: date(holder.birth),
            sex,
            date_of_expiry: date(holder.expiry),
            ..Default::default()
        })
    };
    zone.lines().map(str::to_string).collect()
}

/// Replaces the check digit of the date of birth with a wrong one, as a smudge or a forger would.
pub fn spoil_birth_check_digit(lines: &mut [String]) {
    let (row, col) = if lines.len() == 3 { (1, 6) } else { (1, 19) };
    if let Some(line) = lines.get_mut(row) {
        let mut chars: Vec<char> = line.chars().collect();
        if let Some(c) = chars.get_mut(col) {
            *c = match c.to_digit(10) {
                Some(d) => char::from_digit((d + 5) % 10, 10).unwrap_or('0'),
                None => '0',
            };
        }
        *line = chars.into_iter().collect();
    }
}
