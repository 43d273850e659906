//! The read of one image: the ink and brightness views, the zone search (each zone both ways
//! up, stopping at a convincing reading), OCR of a zone with the filler shape check and the
//! second look at dropped cells, parsing, and the boxes of the fields in the input image.

use std::time::Instant;

use idreview_protocol::BoundingBox;
use tracing::debug;

use super::detect::{self, Frame};
use super::{LocalError, LocalVerifier, Reading, fields, glyph, recheck, repair, settle, template};

impl LocalVerifier {
    /// Reads the MRZ of one encoded image (blocking: call from a blocking thread): first as
    /// black ink (coloured print and annotations fade), then, when that reading leaves a check
    /// digit failing, as plain brightness (faint or tinted ink); the better reading wins.
    pub fn read(&self, bytes: &[u8]) -> Result<Reading, LocalError> {
        let started = Instant::now();
        let decoded = image::load_from_memory(bytes)?;
        let mut best = Reading::default();
        let mut calls = 0;
        let mut zones_seen = false;
        for ink in [true, false] {
            let gray = if ink {
                detect::ink_image(&decoded)
            } else {
                decoded.to_luma8()
            };
            zones_seen |= self.search(&gray, &mut best, &mut calls)?;
            if best.all_checks_pass() {
                break;
            }
        }
        if !zones_seen {
            // No zone found: the whole page, as Tesseract sees it.
            let gray = decoded.to_luma8();
            let identity = |x: f32, y: f32| Frame::IDENTITY.input_point(x, y);
            let reading = self.read_zone(&gray, &identity, gray.dimensions())?;
            calls += reading.ocr_calls;
            if reading.score() > best.score() {
                best = reading;
            }
        }
        best.ocr_calls = calls;
        best.seconds = started.elapsed().as_secs_f64();
        Ok(best)
    }

    /// Reads the zones found in `gray`, each way up, into `best` (when better); stops at a
    /// reading whose every check digit passes, or at one where at least half pass (the zone,
    /// the right way up: the other readings would not be better). Answers whether any
    /// zone was found.
    fn search(
        &self,
        gray: &image::GrayImage,
        best: &mut Reading,
        calls: &mut usize,
    ) -> Result<bool, LocalError> {
        let zones = detect::find_zones(gray);
        for zone in &zones {
            for flip in [false, true] {
                let view = if flip {
                    image::imageops::rotate180(&zone.image)
                } else {
                    zone.image.clone()
                };
                let (w, h) = (view.width() as f32, view.height() as f32);
                let frame = zone.frame;
                let to_input = move |x: f32, y: f32| {
                    if flip {
                        frame.input_point(w - x, h - y)
                    } else {
                        frame.input_point(x, y)
                    }
                };
                let reading = self.read_zone(&view, &to_input, gray.dimensions())?;
                *calls += reading.ocr_calls;
                debug!(
                    angle = zone.angle,
                    rows = zone.rows,
                    flip,
                    score = reading.score(),
                    "zone read"
                );
                let passed = reading.checks.iter().filter(|c| c.1).count();
                let mostly = reading.mrz.is_some() && passed * 2 >= reading.checks.len();
                if reading.score() > best.score() {
                    *best = reading;
                }
                if best.all_checks_pass() || mostly {
                    return Ok(true);
                }
            }
        }
        Ok(!zones.is_empty())
    }

    /// Reads one upright zone crop; `to_input` maps its pixels to the input image of size
    /// `input` (for field boxes).
    fn read_zone(
        &self,
        img: &image::GrayImage,
        to_input: &dyn Fn(f32, f32) -> (f32, f32),
        input: (u32, u32),
    ) -> Result<Reading, LocalError> {
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        let mut lines = self.inner.tesseract.read_lines(&png)?;
        let level = glyph::ink_level(img);
        for c in lines.iter_mut().flat_map(|l| l.chars.iter_mut()) {
            if glyph::may_be_filler(c.ch) && glyph::is_filler(img, c.bbox, level) {
                c.ch = '<';
            }
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            for line in &lines {
                let xs: Vec<u32> = line
                    .chars
                    .iter()
                    .map(|c| (c.bbox.0 + c.bbox.2) / 2)
                    .collect();
                debug!(text = %line.text(), ?xs, "ocr line");
            }
        }
        let Some(mut zone) = repair::zone_text(&lines) else {
            return Ok(Reading {
                ocr_calls: 1,
                ..Reading::default()
            });
        };
        if let Some(templates) = template::templates() {
            settle::settle(templates, img, &mut zone);
        }
        let mut calls = 1;
        let mut doc = repair::parse(&zone);
        // A parsed zone with a failing check digit may have lost a character the layout needs:
        // read those cells again on their own (an unparsed read is not worth the calls).
        if doc.as_ref().is_some_and(|d| !d.checks.all_valid()) {
            let more = recheck::fill_empty(&self.inner.tesseract, img, level, &mut zone)?;
            if more > 0 {
                calls += more;
                doc = repair::parse(&zone);
            }
        }
        let Some(doc) = doc else {
            return Ok(Reading {
                zone: Some(zone),
                ocr_calls: calls,
                ..Reading::default()
            });
        };
        let c = &doc.checks;
        let checks = [
            ("document_number", c.document_number),
            ("birth_date", c.date_of_birth),
            ("expiry_date", c.date_of_expiry),
            ("personal_number", c.personal_number),
            ("composite", c.composite),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect();
        let locate = |row: usize, from: usize, to: usize| {
            let (x0, y0, x1, y1) = zone.cells.get(row)?.span(from, to);
            field_box(
                [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| to_input(x, y)),
                input,
            )
        };
        Ok(Reading {
            fields: fields::extract(&doc, &zone, &locate),
            zone: Some(zone),
            mrz: Some(doc.mrz_lines.clone()),
            format: Some(format!("{:?}", doc.format)),
            checks,
            damaged_recovery: doc.damaged_recovery,
            ocr_calls: calls,
            seconds: 0.0,
        })
    }
}

/// The axis-aligned box around `corners`, clipped to an image of size `input`.
fn field_box(corners: [(f32, f32); 4], input: (u32, u32)) -> Option<BoundingBox> {
    let (x0, y0, x1, y1) = detect::clipped_bounds(&corners, input);
    (x1 - x0 >= 1.0 && y1 - y0 >= 1.0).then(|| BoundingBox {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0).round() as u32,
        height: (y1 - y0).round() as u32,
    })
}
