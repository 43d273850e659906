//! Tests of the whole local reader on documents made here: zones for known holders printed in
//! OCR-B onto card-sized images, then turned, skewed, blurred and speckled; plus the team's MRZ
//! text vectors as parser and repair cases. Tesseract calls take about half a second each, so
//! the image cases are few and each covers several distortions.

use image::{DynamicImage, GrayImage, Luma};
use imageproc::geometric_transformations::{Interpolation, rotate_about_center};
use serde::Deserialize;

use super::ocr::{OcrChar, OcrLine};
use super::render::{Holder, spoil_birth_check_digit, zone_lines};
use super::{LocalConfig, LocalVerifier, Reading, confusion, repair};
use crate::cli::demo::{Band, demo_document};

/// The reader as configured by default, but with a read budget for a debug build (several
/// times slower than the release build the default budget is set for).
fn reader() -> LocalVerifier {
    LocalVerifier::new(&LocalConfig {
        read_budget_ms: 20_000,
        ..LocalConfig::default()
    })
    .expect("tesseract-ocr and tesseract-ocr-eng are installed (.ci/test.sh installs them)")
}

fn holder(passport: bool) -> Holder {
    Holder {
        surname: if passport { "LINDQVIST" } else { "OKONKWO" }.into(),
        given_names: if passport { "ANNA MARIA" } else { "CHIDI" }.into(),
        document_number: if passport { "X4R8027Q1" } else { "D31907736" }.into(),
        country: if passport { "SWE" } else { "NLD" }.into(),
        birth: (1987, 3, 14),
        expiry: (2031, 11, 2),
        sex: if passport { 'F' } else { 'M' },
    }
}

/// A card-sized document with `lines` printed in its zone, as a grey image.
fn document(lines: &[String], seed: u64) -> GrayImage {
    let jpeg = demo_document(1000, 700, seed, Band::Mrz(lines));
    image::load_from_memory(&jpeg).expect("decode").to_luma8()
}

/// Turned by `degrees` on a larger white canvas, so no corner is cut.
fn turned(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let side = w.max(h) + 200;
    let mut canvas = GrayImage::from_pixel(side, side, Luma([255]));
    image::imageops::overlay(
        &mut canvas,
        img,
        i64::from((side - w) / 2),
        i64::from((side - h) / 2),
    );
    rotate_about_center(
        &canvas,
        degrees.to_radians(),
        Interpolation::Bilinear,
        Luma([255]),
    )
}

/// Gaussian blur and deterministic salt-and-pepper-like grain.
fn smudged(img: &GrayImage, sigma: f32, grain: i32) -> GrayImage {
    let mut out = imageproc::filter::gaussian_blur_f32(img, sigma);
    let mut state = 0x2545_F491_u32;
    for p in out.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % (2 * grain as u32 + 1)) as i32 - grain;
        p.0[0] = (i32::from(p.0[0]) + noise).clamp(0, 255) as u8;
    }
    out
}

fn read(reader: &LocalVerifier, img: GrayImage) -> Reading {
    let mut png = Vec::new();
    DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    reader.read(&png).expect("read")
}

fn value<'a>(reading: &'a Reading, name: &str) -> &'a str {
    reading
        .fields
        .iter()
        .find(|f| f.name == name)
        .map_or("", |f| f.value.as_str())
}

fn assert_recovered(reading: &Reading, h: &Holder, case: &str) {
    assert!(reading.all_checks_pass(), "{case}: {:?}", reading.zone);
    assert_eq!(value(reading, "surname"), h.surname, "{case}");
    assert_eq!(value(reading, "given_names"), h.given_names, "{case}");
    assert_eq!(
        value(reading, "document_number"),
        h.document_number,
        "{case}"
    );
    assert_eq!(value(reading, "birth_date"), "1987-03-14", "{case}");
    assert_eq!(value(reading, "expiry_date"), "2031-11-02", "{case}");
    assert_eq!(value(reading, "nationality"), h.country, "{case}");
    assert_eq!(value(reading, "sex"), h.sex.to_string(), "{case}");
    for f in &reading.fields {
        assert!(
            f.confidence >= 0.8,
            "{case}: {} at {}",
            f.name,
            f.confidence
        );
    }
}

#[test]
fn a_clean_passport_and_a_blurred_noisy_skewed_one_are_read() {
    let reader = reader();
    let h = holder(true);
    let lines = zone_lines(&h, true);
    let clean = document(&lines, 11);
    let reading = read(&reader, clean.clone());
    assert_recovered(&reading, &h, "clean passport");
    // Each field knows where it is printed: inside the image, the data row under the name
    // row, the birth date right of the document number.
    let bbox = |name: &str| {
        reading
            .fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.bbox)
            .unwrap_or_else(|| panic!("{name} has a box"))
    };
    for f in &reading.fields {
        let b = f.bbox.unwrap_or_else(|| panic!("{} has a box", f.name));
        assert!(b.width > 0 && b.height > 0, "{}: {b:?}", f.name);
        assert!(b.x + b.width <= clean.width() && b.y + b.height <= clean.height());
    }
    let (number, birth, surname) = (bbox("document_number"), bbox("birth_date"), bbox("surname"));
    assert!(
        birth.x >= number.x + number.width - 2,
        "{number:?} {birth:?}"
    );
    assert!(
        number.y > surname.y + surname.height / 2,
        "{surname:?} {number:?}"
    );
    assert!(number.height < clean.height() / 8, "{number:?}");
    let rough = smudged(&turned(&clean, 4.0), 1.0, 18);
    assert_recovered(&read(&reader, rough), &h, "4 degrees, blurred, noisy");
}

#[test]
fn an_id_card_is_read_whichever_way_up() {
    let reader = reader();
    let h = holder(false);
    let lines = zone_lines(&h, false);
    assert_eq!(lines.len(), 3, "TD1");
    let card = document(&lines, 12);
    for (case, img) in [
        ("90 degrees", image::imageops::rotate90(&card)),
        ("180 degrees", image::imageops::rotate180(&card)),
        (
            "270 degrees and -7",
            turned(&image::imageops::rotate270(&card), -7.0),
        ),
    ] {
        assert_recovered(&read(&reader, img), &h, case);
    }
}

#[test]
fn a_low_resolution_card_is_read_fully_right() {
    let reader = reader();
    let h = holder(false);
    let lines = zone_lines(&h, false);
    // A card photographed small: 280 pixels wide, about 5 pixels a character.
    let card = image::imageops::resize(
        &document(&lines, 14),
        280,
        196,
        image::imageops::FilterType::Triangle,
    );
    let reading = read(&reader, card);
    assert_recovered(&reading, &h, "280 pixels wide");
    assert_eq!(reading.mrz.as_deref(), Some(lines.join("\n").as_str()));
    // A passport page 480 pixels wide: characters about 11 pixels high. Only the zone's band is
    // enlarged and read, a few times at most.
    let h = holder(true);
    let lines = zone_lines(&h, true);
    let small = |width: u32| {
        image::imageops::resize(
            &document(&lines, 15),
            width,
            width * 7 / 10,
            image::imageops::FilterType::Triangle,
        )
    };
    let reading = read(&reader, small(480));
    assert_recovered(&reading, &h, "480 pixels wide");
    assert!(reading.ocr_calls <= 6, "{} calls", reading.ocr_calls);
}

/// Deterministic camera noise: grey levels scattered `spread` wide around mid-grey.
fn noise(width: u32, height: u32, spread: u32) -> GrayImage {
    let mut state = 0x9E37_79B9_u32;
    GrayImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Luma([(128 - spread / 2 + state % spread) as u8])
    })
}

/// A selfie's shapes: a lit background, a face-sized oval, dark hair above it.
fn selfie(width: u32, height: u32) -> GrayImage {
    let (cx, cy) = (width as f32 / 2.0, height as f32 * 0.55);
    GrayImage::from_fn(width, height, |x, y| {
        let (dx, dy) = ((x as f32 - cx) / 180.0, (y as f32 - cy) / 240.0);
        let d = dx * dx + dy * dy;
        let v = if d < 1.0 {
            200.0 - 40.0 * d
        } else if d < 1.6 && dy < 0.0 {
            40.0
        } else {
            120.0 + 60.0 * (x as f32 / width as f32)
        };
        Luma([v as u8])
    })
}

#[test]
fn an_image_without_a_zone_is_given_up_on_after_a_cheap_look() {
    let reader = reader();
    for (case, img, calls) in [
        ("noise", noise(1600, 1000, 64), 0),
        ("selfie", selfie(900, 1200), 0),
        // Harsh grain merges into row-like blobs: each reads as no row, once, and is dropped.
        ("harsh noise", noise(1600, 1000, 140), 2),
    ] {
        let reading = read(&reader, img);
        assert!(reading.mrz.is_none() && reading.zone.is_none(), "{case}");
        // Nothing zone-shaped: Tesseract is never asked (it would spend seconds on the page),
        // or once per band that turns out to hold no row of characters.
        assert!(
            reading.ocr_calls <= calls,
            "{case}: {} calls",
            reading.ocr_calls
        );
        // The goal is a second on one core in a release build; a debug build is many times
        // slower at the image work.
        let limit = if cfg!(debug_assertions) { 20.0 } else { 1.0 };
        assert!(reading.seconds < limit, "{case}: {} s", reading.seconds);
    }
}

#[test]
fn a_wrong_check_digit_comes_out_low_confidence() {
    let reader = reader();
    let h = holder(true);
    let mut lines = zone_lines(&h, true);
    spoil_birth_check_digit(&mut lines);
    let reading = read(&reader, document(&lines, 13));
    assert!(!reading.all_checks_pass());
    let birth = reading
        .fields
        .iter()
        .find(|f| f.name == "birth_date")
        .expect("birth date");
    assert!(birth.confidence < 0.5, "{birth:?}");
    assert_eq!(value(&reading, "document_number"), h.document_number);
}

#[derive(Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    id: String,
    lines: Vec<String>,
    independent_ok: Option<bool>,
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
    expected_after_autocorrect: Option<Vec<String>>,
}

/// OCR output of `lines` with a pitch of 20 pixels.
fn ocr_of(lines: &[String], confidence: f32) -> Vec<OcrLine> {
    lines
        .iter()
        .map(|l| OcrLine {
            chars: l
                .chars()
                .enumerate()
                .map(|(i, ch)| OcrChar {
                    ch,
                    confidence,
                    bbox: (i as u32 * 20, 0, i as u32 * 20 + 14, 30),
                })
                .collect(),
        })
        .collect()
}

#[test]
fn mrz_text_vectors_parse_flag_and_repair_as_expected() {
    let data = include_str!("../../../tests/data/mrz_vectors.json");
    let vectors: Vectors = serde_json::from_str(data).expect("vectors");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for v in &vectors.vectors {
        // Damaged vectors stand for an unsure read: repair may only touch unsure cells.
        let confidence = if v.expected_after_autocorrect.is_some() {
            0.5
        } else {
            0.95
        };
        let zone = repair::zone_text(&ocr_of(&v.lines, confidence)).map(|mut z| {
            z.repaired = confusion::repair(&mut z.lines, &mut z.confidences);
            z
        });
        let doc = zone.as_ref().and_then(repair::parse);
        let outcome = match (&v.expected_after_autocorrect, v.independent_ok, doc) {
            // An invalid zone the parser refuses outright is flagged too.
            (None, Some(false), None) => Ok(()),
            (_, _, None) => Err("not parsed".to_string()),
            (Some(expected), _, Some(doc)) => {
                if doc.checks.all_valid() && doc.mrz_lines == expected.join("\n") {
                    Ok(())
                } else {
                    Err(format!("repaired to {:?}", doc.mrz_lines))
                }
            }
            (None, None, Some(_)) => continue,
            (None, Some(ok), Some(doc)) => {
                let number = doc
                    .document_number_full
                    .clone()
                    .unwrap_or(doc.document_number.clone());
                if doc.checks.all_valid() != ok {
                    Err(format!("checks {:?}", doc.checks))
                } else if v.fields.get("surname").is_some_and(|s| *s != doc.surname) {
                    Err(format!("surname {}", doc.surname))
                } else if v
                    .fields
                    .get("document_number")
                    .is_some_and(|n| n.trim_end_matches('<') != number.trim_end_matches('<'))
                {
                    Err(format!("document number {number}"))
                } else {
                    Ok(())
                }
            }
        };
        checked += 1;
        if let Err(why) = outcome
            && !KNOWN_DIVERGENCES.contains(&v.id.as_str())
        {
            wrong.push(format!("{}: {why}", v.id));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(checked >= 60, "{checked} vectors checked");
}

/// Vectors where the `mrz` crate's own reading differs from the team's independent check
/// (TD1 long document numbers with a filler in the check-digit cell).
const KNOWN_DIVERGENCES: &[&str] = &["v011"];
