//! Synthetic demo submissions for trying the system without real documents: deterministic,
//! card-looking JPEGs and manifests written into the inbox the way a real client would.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, Rgb, RgbImage};

use crate::verify::local::render::{Holder, OcrB, spoil_birth_check_digit, zone_lines};

/// Width and height of demo document images: above the 800x600 minimum, card-shaped.
const CARD: (u32, u32) = (1000, 700);
/// Modest quality keeps a demo image around 100-300 KB.
const JPEG_QUALITY: u8 = 70;
const COUNTRIES: &[&str] = &[
    "DEU", "FRA", "NLD", "ESP", "ITA", "POL", "SWE", "AUT", "BEL", "PRT",
];
const SURNAMES: &[&str] = &[
    "MUELLER",
    "DUPONT",
    "JANSSEN",
    "GARCIA",
    "ROSSI",
    "NOWAK",
    "LINDQVIST",
    "HUBER",
    "PEETERS",
    "SILVA",
];
const GIVEN_NAMES: &[&str] = &[
    "ANNA",
    "LUCAS",
    "SOFIA",
    "NOAH",
    "EMMA",
    "MATEO",
    "LINA",
    "JONAS",
    "CLARA",
    "LEON MARIE",
];
/// Every this many-th demo document has a wrong birth-date check digit, so the console shows
/// low-confidence fields too.
const SPOILED_EVERY: usize = 4;

/// SplitMix64: a tiny deterministic generator, plenty for drawing shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (n > 0).
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
}

/// A card-looking JPEG of `width` x `height` (each clamped to 16..=4000), the same bytes for the
/// same arguments: a tinted background with a fine pattern, a header band, a photo box, text
/// lines and a machine-readable-zone band.
/// Panics never in practice: encoding a clamped-size image into memory cannot fail.
pub fn demo_image(width: u32, height: u32, seed: u64) -> Vec<u8> {
    demo_document(width, height, seed, Band::Blocks)
}

/// What the bottom band of a demo document shows.
#[derive(Debug, Clone, Copy)]
pub enum Band<'a> {
    /// Character-sized blocks: looks like a zone, reads as nothing.
    Blocks,
    /// A real machine-readable zone printed in OCR-B (blocks when the font is not installed).
    Mrz(&'a [String]),
    /// No band (the side of an ID card without a zone).
    None,
}

/// As [`demo_image`], with the chosen bottom band.
pub fn demo_document(width: u32, height: u32, seed: u64, band: Band<'_>) -> Vec<u8> {
    let (w, h) = (width.clamp(16, 4000), height.clamp(16, 4000));
    let mut rng = Rng(seed);
    let base = [
        170 + rng.below(70) as u8,
        170 + rng.below(70) as u8,
        170 + rng.below(70) as u8,
    ];
    let accent = Rgb([
        rng.below(120) as u8,
        rng.below(120) as u8,
        60 + rng.below(120) as u8,
    ]);
    let wave = 8.0 + f64::from(rng.below(24));
    // Background with a guilloche-like pattern and grain, as on printed security paper.
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (f64::from(x), f64::from(y));
        let pattern = ((fx / wave).sin() * (fy / (wave * 1.7)).cos() * 18.0) as i32;
        let grain = ((x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 13) as i32;
        Rgb(base.map(|c| (i32::from(c) + pattern + grain - 6).clamp(0, 255) as u8))
    });
    fill(&mut img, 0, 0, w, h / 8, accent);
    let (px, py, pw, ph) = (w / 20, h / 5, w / 4, h / 2);
    fill(&mut img, px, py, pw, ph, Rgb([120, 120, 130]));
    // A head and shoulders in the photo box.
    let (cx, cy, r) = (px + pw / 2, py + ph / 3, pw / 5);
    fill_circle(&mut img, cx, cy, r, Rgb([210, 180, 160]));
    fill(
        &mut img,
        px + pw / 6,
        py + ph * 2 / 3,
        pw * 2 / 3,
        ph / 3,
        Rgb([60, 60, 80]),
    );
    // Text lines: a label above each value.
    let tx = px + pw + w / 20;
    for line in 0..6 {
        let y = py + line * (ph / 6);
        let label = w / 12 + rng.below(w / 10);
        fill(&mut img, tx, y, label, h / 70 + 1, Rgb([110, 110, 110]));
        let value = w / 8 + rng.below(w / 3);
        fill(
            &mut img,
            tx,
            y + h / 45,
            value,
            h / 30 + 1,
            Rgb([25, 25, 35]),
        );
    }
    match band {
        Band::Mrz(lines) => match OcrB::load() {
            Ok(font) => print_zone(&mut img, &font, lines),
            Err(e) => {
                tracing::warn!(error = %e, "demo documents without a readable zone");
                block_band(&mut img, &mut rng);
            }
        },
        Band::Blocks => block_band(&mut img, &mut rng),
        Band::None => {}
    }
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("encoding a clamped-size RGB image into memory cannot fail");
    jpeg
}

/// Two rows of character-sized blocks on a pale band, where a zone would be.
fn block_band(img: &mut RgbImage, rng: &mut Rng) {
    let (w, h) = img.dimensions();
    let band_y = h * 4 / 5;
    fill(img, 0, band_y, w, h / 5, Rgb([235, 235, 228]));
    let cell = (w / 44).max(2);
    for row in 0..2 {
        for col in 0..40 {
            if rng.below(5) > 0 {
                let y = band_y + h / 40 + row * (h / 14);
                fill(
                    img,
                    w / 30 + col * cell + 1,
                    y,
                    cell - 2,
                    h / 22,
                    Rgb([20, 20, 20]),
                );
            }
        }
    }
}

/// The zone printed across the bottom on a pale band, as wide as the document allows.
fn print_zone(img: &mut RgbImage, font: &OcrB, lines: &[String]) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let chars = lines.first().map_or(44, |l| l.len());
    let cap = 0.84 * w / font.line_width(chars, 1.0);
    let height = cap * (1.8 * lines.len() as f32 - 0.8);
    let top = h - height - cap * 1.2;
    fill(
        img,
        0,
        (top - cap * 0.8).max(0.0) as u32,
        w as u32,
        h as u32,
        Rgb([235, 235, 228]),
    );
    font.draw_lines(img, lines, w * 0.08, top, cap, Rgb([25, 25, 30]));
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, colour: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, colour);
        }
    }
}

fn fill_circle(img: &mut RgbImage, cx: u32, cy: u32, r: u32, colour: Rgb<u8>) {
    let r2 = i64::from(r) * i64::from(r);
    for y in cy.saturating_sub(r)..(cy + r).min(img.height()) {
        for x in cx.saturating_sub(r)..(cx + r).min(img.width()) {
            let (dx, dy) = (i64::from(x) - i64::from(cx), i64::from(y) - i64::from(cy));
            if dx * dx + dy * dy <= r2 {
                img.put_pixel(x, y, colour);
            }
        }
    }
}

/// A made-up adult holder with a document valid for years to come.
fn demo_holder(rng: &mut Rng, country: &str) -> Holder {
    let pick =
        |rng: &mut Rng, list: &[&str]| list[rng.below(list.len() as u32) as usize].to_string();
    let letters = |rng: &mut Rng| char::from(b'A' + rng.below(26) as u8);
    let document_number = format!(
        "{}{}{:07}",
        letters(rng),
        letters(rng),
        rng.below(10_000_000)
    );
    Holder {
        surname: pick(rng, SURNAMES),
        given_names: pick(rng, GIVEN_NAMES),
        document_number,
        country: country.to_string(),
        birth: (
            1950 + rng.below(50) as i32,
            1 + rng.below(12),
            1 + rng.below(28),
        ),
        expiry: (
            2030 + rng.below(8) as i32,
            1 + rng.below(12),
            1 + rng.below(28),
        ),
        sex: if rng.below(2) == 0 { 'F' } else { 'M' },
    }
}

/// Writes `count` valid synthetic submissions into `inbox` and returns their folders.
/// Folders are named `demo-<seed>-<n>` (the user id too); an existing folder is never
/// touched, the next free number is used instead. Images go first and the manifest last, via
/// `submission.toml.tmp` renamed to `submission.toml`, because the manifest marks a submission
/// complete. The same `seed` gives the same documents.
pub fn write_demo_submissions(inbox: &Path, count: usize, seed: u64) -> io::Result<Vec<PathBuf>> {
    write_demo_submissions_with_progress(inbox, 1, count, seed, &indicatif::ProgressBar::hidden())
}

/// [`write_demo_submissions`] numbered from `first` (see [`super::demo_run::first_number`]),
/// advancing `progress` by every submission written.
pub fn write_demo_submissions_with_progress(
    inbox: &Path,
    first: u64,
    count: usize,
    seed: u64,
    progress: &indicatif::ProgressBar,
) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(inbox)?;
    // A later run on the same data dir gets other documents, not only other user ids.
    let mut rng =
        Rng((seed ^ 0xD3E0_5EED)
            .wrapping_add((first.max(1) - 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let mut written = Vec::with_capacity(count);
    let mut n: u64 = first.saturating_sub(1);
    while written.len() < count {
        n += 1;
        let name = format!("demo-{seed}-{n}");
        let dir = inbox.join(&name);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        // Every third is a passport, so even a handful of submissions shows both kinds.
        let passport = written.len() % 3 == 0;
        let country = COUNTRIES[rng.below(COUNTRIES.len() as u32) as usize];
        let mut zone = zone_lines(&demo_holder(&mut rng, country), passport);
        if written.len() % SPOILED_EVERY == SPOILED_EVERY - 1 {
            spoil_birth_check_digit(&mut zone);
        }
        let image_seed = rng.next();
        // Passports print the zone on the data page, ID cards on the back.
        let front_band = if passport {
            Band::Mrz(&zone)
        } else {
            Band::None
        };
        fs::write(
            dir.join("front.jpg"),
            demo_document(CARD.0, CARD.1, image_seed, front_band),
        )?;
        if !passport {
            let back_seed = rng.next();
            fs::write(
                dir.join("back.jpg"),
                demo_document(CARD.0, CARD.1, back_seed, Band::Mrz(&zone)),
            )?;
        }
        let document_type = if passport { "passport" } else { "national_id" };
        let manifest = format!(
            "user_id = \"{name}\"\ndocument_type = \"{document_type}\"\ncountry = \"{country}\"\n"
        );
        let tmp = dir.join("submission.toml.tmp");
        fs::write(&tmp, manifest)?;
        fs::rename(&tmp, dir.join(crate::validate::MANIFEST_FILE))?;
        written.push(dir);
        progress.inc(1);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ValidationConfig;
    use crate::validate::validate_submission;

    #[test]
    fn demo_image_is_deterministic_and_modest() {
        let a = demo_image(1000, 700, 7);
        assert_eq!(a, demo_image(1000, 700, 7));
        assert_ne!(a, demo_image(1000, 700, 8));
        assert!((60_000..400_000).contains(&a.len()), "{} bytes", a.len());
    }

    #[test]
    fn demo_submissions_validate() {
        let inbox = tempfile::tempdir().expect("tempdir");
        let dirs = write_demo_submissions(inbox.path(), 6, 42).expect("write");
        assert_eq!(dirs.len(), 6);
        let mut types = std::collections::BTreeSet::new();
        for dir in &dirs {
            let valid = validate_submission(dir, &ValidationConfig::default())
                .unwrap_or_else(|r| panic!("{}: {r}", dir.display()));
            assert!(valid.manifest.user_id.starts_with("demo-42-"));
            types.insert(valid.manifest.document_type);
            assert!(!dir.join("submission.toml.tmp").exists());
        }
        assert_eq!(types.len(), 2, "a mix of passports and national ids");
    }

    #[test]
    fn existing_folders_are_not_overwritten() {
        let inbox = tempfile::tempdir().expect("tempdir");
        fs::create_dir(inbox.path().join("demo-1-1")).expect("mkdir");
        let dirs = write_demo_submissions(inbox.path(), 2, 1).expect("write");
        assert_eq!(
            dirs,
            [inbox.path().join("demo-1-2"), inbox.path().join("demo-1-3")]
        );
        assert_eq!(
            fs::read_dir(inbox.path().join("demo-1-1"))
                .expect("ls")
                .count(),
            0
        );
    }
}
