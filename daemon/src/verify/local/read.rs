//! The read of one image: decode, find the zone-shaped bands (giving up at once when there is
//! none), and read them in the order most likely to pay (the first band as black ink the right
//! way up, then upside down, the next band, other scales for a small print, plain brightness for
//! faint ink), stopping at the first reading whose every check digit passes, at the first text
//! read a second time (another view only reads it again), or before an attempt that would
//! overrun the time budget; then OCR of a zone with the filler shape check, the second look at
//! dropped cells, the repairs, parsing, and the boxes of the fields in the input image. Each
//! step's time is kept in [`Timings`].

use std::time::{Duration, Instant};

use idreview_protocol::BoundingBox;
use image::GrayImage;
use tracing::debug;

use super::detect::{self, Zone};
use super::engines::Lease;
use super::{
    LocalError, LocalVerifier, Reading, confusion, fields, glyph, kind, recheck, repair, settle,
    template,
};

/// Seconds spent in each step of a read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Decoding the image file.
    pub decode: f64,
    /// The ink view and the search for zone-shaped bands.
    pub locate: f64,
    /// Cutting, straightening and scaling a band, and its ink threshold.
    pub binarise: f64,
    /// Tesseract.
    pub recognise: f64,
    /// Filler shapes, the grid, the templates, the check-digit repairs, parsing, fields.
    pub repair: f64,
}

impl Timings {
    /// The sum of the steps.
    pub fn total(&self) -> f64 {
        self.decode + self.locate + self.binarise + self.recognise + self.repair
    }
}

/// Heights (pixels) a zone's rows are scaled to before recognition, most useful first: the
/// first suits Tesseract's line recogniser; the others help when a small or blurred print's row
/// height was misjudged.
const ROW_HEIGHTS: [f32; 3] = [44.0, 34.0, 58.0];

/// Rows at most this many pixels high in the input are small prints, worth the other scales.
const SMALL_ROWS: f32 = 24.0;

/// One way to read a band: which view (ink or brightness), which zone, which way up, how big.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    ink: bool,
    zone: usize,
    flip: bool,
    row_height: f32,
}

/// The views of one image a zone is cut from.
struct Views<'a> {
    decoded: &'a image::DynamicImage,
    /// Black ink (see `detect::ink_image`).
    ink: &'a GrayImage,
    /// Plain brightness, made when first needed.
    luma: Option<GrayImage>,
}

/// Where the steps of one read keep their state.
struct Search<'a> {
    lease: Lease<'a>,
    timings: Timings,
    calls: usize,
    best: Reading,
    deadline: Instant,
}

impl LocalVerifier {
    /// Reads the MRZ of one encoded image (blocking: call from a blocking thread).
    pub fn read(&self, bytes: &[u8]) -> Result<Reading, LocalError> {
        let started = Instant::now();
        let mut timings = Timings::default();
        let decoded = image::load_from_memory(bytes)?;
        timings.decode = started.elapsed().as_secs_f64();
        let mark = Instant::now();
        let ink = detect::ink_image(&decoded);
        let mut zones = detect::find_zones(&ink);
        let mut luma = None;
        if zones.is_empty() {
            // Faint or tinted ink: the ink view may have lost it, brightness may not.
            let gray = decoded.to_luma8();
            zones = detect::find_zones(&gray);
            luma = Some(gray);
        }
        timings.locate = mark.elapsed().as_secs_f64();
        let mut search = Search {
            lease: self.inner.engines.lend()?,
            timings,
            calls: 0,
            best: Reading::default(),
            deadline: started + Duration::from_millis(self.inner.budget_ms),
        };
        let ink_first = luma.is_none();
        let mut views = Views {
            decoded: &decoded,
            ink: &ink,
            luma,
        };
        // No zone-shaped band (a driver licence, a selfie, a photo of something else): done.
        self.read_zones(&mut search, &mut views, &zones, ink_first)?;
        let mut best = search.best;
        best.ocr_calls = search.calls;
        best.timings = search.timings;
        best.seconds = started.elapsed().as_secs_f64();
        Ok(best)
    }

    /// Reads `zones` as [`plan`] orders, into `search.best`, until a reading passes every
    /// check digit without a guessed repair or the budget is spent.
    fn read_zones(
        &self,
        search: &mut Search<'_>,
        views: &mut Views<'_>,
        zones: &[Zone],
        ink_first: bool,
    ) -> Result<(), LocalError> {
        if zones.is_empty() {
            return Ok(());
        }
        // Once a reading parses with most check digits passing, its zone and way up are the
        // right ones: only other views and scales of it may still do better.
        let mut settled: Option<(usize, bool)> = None;
        // Zones whose band read as no row of characters at all: not zones (noise, a pattern).
        let mut dead = vec![false; zones.len()];
        // Zone texts read so far: a text read again from another view or scale is what the
        // print says (a printed-invalid zone, a misprint, a layout the parser does not know);
        // more views would only spend the budget to read it a third time.
        let mut texts: Vec<Vec<String>> = Vec::new();
        let mut slowest = Duration::ZERO;
        for attempt in plan(zones, ink_first) {
            if settled.is_some_and(|s| s != (attempt.zone, attempt.flip)) || dead[attempt.zone] {
                continue;
            }
            // The first read always happens; the budget bounds the further ones: another is
            // started only when one as slow as the slowest so far would end within it.
            if search.calls > 0 && Instant::now() + slowest >= search.deadline {
                debug!("read budget spent");
                break;
            }
            let started = Instant::now();
            let view = if attempt.ink {
                views.ink
            } else {
                let decoded = views.decoded;
                &*views.luma.get_or_insert_with(|| decoded.to_luma8())
            };
            let reading = self.attempt(search, view, &zones[attempt.zone], attempt)?;
            slowest = slowest.max(started.elapsed());
            dead[attempt.zone] = reading.zone.is_none();
            // A guessed repair is kept, but the search goes on for a reading needing none.
            let mut done = reading.all_checks_pass() && !reading.repaired();
            if let Some(zone) = &reading.zone {
                done |= texts.contains(&zone.lines);
                texts.push(zone.lines.clone());
            }
            if mostly(&reading) {
                settled = Some((attempt.zone, attempt.flip));
            }
            if reading.score() > search.best.score() {
                search.best = reading;
            }
            if done {
                break;
            }
        }
        Ok(())
    }

    /// Cuts `zone` out of `view` as `attempt` says and reads it.
    fn attempt(
        &self,
        search: &mut Search<'_>,
        view: &GrayImage,
        zone: &Zone,
        attempt: Attempt,
    ) -> Result<Reading, LocalError> {
        let mark = Instant::now();
        let Some((crop, frame)) = zone.cut(view, attempt.row_height) else {
            return Ok(Reading::default());
        };
        let crop = if attempt.flip {
            image::imageops::rotate180(&crop)
        } else {
            crop
        };
        search.timings.binarise += mark.elapsed().as_secs_f64();
        let (w, h) = (crop.width() as f32, crop.height() as f32);
        let flip = attempt.flip;
        let to_input = move |x: f32, y: f32| {
            if flip {
                frame.input_point(w - x, h - y)
            } else {
                frame.input_point(x, y)
            }
        };
        let reading = self.read_zone(search, &crop, &to_input, view.dimensions())?;
        debug!(
            ink = attempt.ink,
            angle = zone.angle,
            rows = zone.rows,
            flip,
            row_height = attempt.row_height,
            score = reading.score(),
            "zone read"
        );
        Ok(reading)
    }

    /// Reads one upright zone crop; `to_input` maps its pixels to the input image of size
    /// `input` (for field boxes).
    fn read_zone(
        &self,
        search: &mut Search<'_>,
        img: &GrayImage,
        to_input: &dyn Fn(f32, f32) -> (f32, f32),
        input: (u32, u32),
    ) -> Result<Reading, LocalError> {
        let mark = Instant::now();
        let level = glyph::ink_level(img);
        search.timings.binarise += mark.elapsed().as_secs_f64();
        let mark = Instant::now();
        let mut lines = search.lease.read_lines(img.clone())?;
        search.calls += 1;
        search.timings.recognise += mark.elapsed().as_secs_f64();
        for line in &lines {
            debug!(text = %line.text(), "ocr line");
        }
        let mark = Instant::now();
        for c in lines.iter_mut().flat_map(|l| l.chars.iter_mut()) {
            if glyph::may_be_filler(c.ch) && glyph::is_filler(img, c.bbox, level) {
                c.ch = '<';
            }
        }
        let Some(mut zone) = repair::zone_text(&lines) else {
            search.timings.repair += mark.elapsed().as_secs_f64();
            return Ok(Reading::default());
        };
        if let Some(templates) = template::templates() {
            settle::settle(templates, img, &mut zone);
        }
        search.timings.repair += mark.elapsed().as_secs_f64();
        // A parsed zone with a failing check digit may have lost a character the layout needs:
        // read those cells again on their own (an unparsed read is not worth the calls).
        if confusion::parse_direct(&zone.lines).is_some_and(|d| !d.checks.all_valid()) {
            let mark = Instant::now();
            search.calls += recheck::fill_empty(&mut search.lease, img, level, &mut zone)?;
            search.timings.recognise += mark.elapsed().as_secs_f64();
        }
        let mark = Instant::now();
        mend(&mut zone);
        let reading = reading_of(zone, to_input, input);
        search.timings.repair += mark.elapsed().as_secs_f64();
        Ok(reading)
    }
}

/// The steps after the templates: letters and digits by their glyphs (`kind`), the
/// check-digit-guided repair (`confusion`), and the cells the check digits cannot vouch for.
pub(super) fn mend(zone: &mut repair::ZoneText) {
    let glyphs = std::mem::take(&mut zone.glyphs);
    debug!(lines = ?zone.lines, ?glyphs, "settled");
    let kinds = kind::read_kinds(zone, &glyphs);
    debug!(lines = ?zone.lines, ?kinds, "kinds read");
    let repaired = confusion::repair_tier(&mut zone.lines, &mut zone.confidences, &glyphs);
    debug!(lines = ?zone.lines, ?repaired, "check-digit repair");
    // A repair the glyphs vouch for in every cell is a reading, not a guess; `read_kinds`
    // has marked its own repairs already.
    if !repaired.seen {
        zone.repaired.extend(repaired.cells);
    }
    zone.guessed = repaired.guessed;
    zone.doubtful = confusion::blind_spots(&zone.lines, &zone.confidences, &glyphs);
    zone.glyphs = glyphs;
}

/// Whether `reading` parsed with at least half its check digits passing: the zone, the right
/// way up.
fn mostly(reading: &Reading) -> bool {
    let passed = reading.checks.iter().filter(|c| c.1).count();
    reading.mrz.is_some() && !reading.checks.is_empty() && passed * 2 >= reading.checks.len()
}

/// The order to try reads in: for each view (black ink first, unless the zones were found in
/// the brightness view), each zone (at most two) the right way up then upside down at the
/// first scale; then the other scales of the first zone when its rows are small.
fn plan(zones: &[Zone], ink_first: bool) -> Vec<Attempt> {
    let views: &[bool] = if ink_first { &[true, false] } else { &[false] };
    // A second zone over the first (the same band found at another gap size) adds nothing.
    let distinct = zones.len() >= 2 && !zones[1].overlaps(&zones[0]);
    let count = if distinct { 2 } else { 1 };
    let mut out = Vec::new();
    for &ink in views {
        for zone in 0..count {
            for flip in [false, true] {
                out.push(Attempt {
                    ink,
                    zone,
                    flip,
                    row_height: ROW_HEIGHTS[0],
                });
            }
        }
        if zones[0].row_height <= SMALL_ROWS {
            for &row_height in &ROW_HEIGHTS[1..] {
                for flip in [false, true] {
                    out.push(Attempt {
                        ink,
                        zone: 0,
                        flip,
                        row_height,
                    });
                }
            }
        }
    }
    out
}

/// The reading of a cleaned zone: parsed (with the `mrz` crate's last-resort repair), its
/// checks, and its fields with their boxes.
fn reading_of(
    mut zone: repair::ZoneText,
    to_input: &dyn Fn(f32, f32) -> (f32, f32),
    input: (u32, u32),
) -> Reading {
    let Some(doc) = repair::parse(&zone) else {
        return Reading {
            zone: Some(zone),
            ..Reading::default()
        };
    };
    // Cells the `mrz` crate's repair changed count as repaired too.
    for (row, (read, parsed)) in zone.lines.iter().zip(doc.mrz_lines.lines()).enumerate() {
        for (col, (a, b)) in read.chars().zip(parsed.chars()).enumerate() {
            if a != b && !zone.repaired.contains(&(row, col)) {
                zone.repaired.push((row, col));
            }
        }
    }
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
    Reading {
        fields: fields::extract(&doc, &zone, &locate),
        mrz: Some(doc.mrz_lines.clone()),
        format: Some(format!("{:?}", doc.format)),
        checks,
        damaged_recovery: doc.damaged_recovery,
        zone: Some(zone),
        ..Reading::default()
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
