//! Settling each cell of a zone between Tesseract's reading and the OCR-B templates': the
//! templates decide where Tesseract put a character the layout forbids (a digit in a name, a
//! letter in a date), where it left a cell empty, and where they clearly see another glyph of
//! the same kind (a letter for a letter, a digit for a digit). A read that disagrees with its
//! layout almost everywhere is left alone: it is not a zone, or it is upside down.

use image::GrayImage;
use tracing::debug;

use super::confusion;
use super::grid::RowCells;
use super::kind::{self, Glyphs};
use super::layout;
use super::repair::{SURE, ZoneText};
use super::template::{Cell, Templates};

/// Lead over Tesseract's character the templates need to overrule an unsure read.
const UNSURE_MARGIN: f32 = 0.05;
/// Lead over Tesseract's character the templates need to overrule a sure read.
const SURE_MARGIN: f32 = 0.06;
/// Correlation below which the templates see no glyph they know (a smudge, the background).
const MIN_MATCH: f32 = 0.6;
/// Confidence given to a cell the templates decided.
const SETTLED: f32 = 0.8;

/// Settles every cell of `zone` (when its grid is known) with the templates; answers how many
/// cells changed.
pub fn settle(templates: &Templates, img: &GrayImage, zone: &mut ZoneText) -> usize {
    if zone.cells.len() != zone.lines.len() || !legible(zone) {
        return 0;
    }
    let before = zone.clone();
    let mut changed = 0;
    let mut reads = Vec::with_capacity(zone.lines.len());
    for row in 0..zone.lines.len() {
        let mut chars: Vec<char> = zone.lines[row].chars().collect();
        let mut seen = String::new();
        let row_read = read_row(templates, img, &zone.cells[row], chars.len());
        let read = &row_read.scores;
        for (col, ch) in chars.iter_mut().enumerate() {
            let Some(scores) = &read[col] else {
                seen.push(' ');
                continue;
            };
            seen.push(scores[0].0);
            let allowed = |c: char| layout::allows(&zone.lines, row, col, c);
            let filled = zone.filled.get(row).and_then(|f| f.get(col)) == Some(&true);
            let conf = zone.confidences[row][col];
            let current = scores
                .iter()
                .find(|(c, _)| *c == *ch && allowed(*c))
                .map(|s| s.1);
            // An empty cell or a forbidden character takes the templates' best allowed glyph;
            // otherwise only a glyph of the same kind as Tesseract's may replace it.
            let open = !filled || current.is_none();
            let Some(&(best, lead)) = scores
                .iter()
                .find(|(c, _)| allowed(*c) && (open || same_kind(*c, *ch)))
            else {
                continue;
            };
            let margin = if conf < SURE {
                UNSURE_MARGIN
            } else {
                SURE_MARGIN
            };
            let overrule = match current {
                None => true,
                Some(current) => lead >= MIN_MATCH && lead > current + margin,
            };
            if !overrule && best != *ch {
                debug!(row, col, tesseract = %ch, templates = %best, lead, ?current, conf, "template disagrees");
            }
            if overrule && best != *ch {
                debug!(row, col, from = %ch, to = %best, lead, ?current, conf, "template settles a cell");
                *ch = best;
                zone.confidences[row][col] = SETTLED.min(lead.max(0.0));
                changed += 1;
            }
        }
        debug!(row, templates = %seen, "template read");
        zone.lines[row] = chars.into_iter().collect();
        reads.push(row_read);
    }
    let cells: usize = zone.lines.iter().map(String::len).sum();
    if changed * MOST_CHANGED > cells {
        // The read disagrees with its layout everywhere: not a zone, or the wrong way up. Forcing
        // it into shape would only make check digits agree by chance.
        debug!(changed, "template settling undone");
        *zone = before;
        return 0;
    }
    if changed > 0 {
        layout::repair(&mut zone.lines, &mut zone.confidences);
        mark_chance_passes(&before.lines, zone);
    }
    zone.glyphs = glyphs(templates, img, zone, &reads);
    changed
}

/// Where the templates' changes turned a zone whose check digits failed into one whose check
/// digits pass, the changed cells of the checked fields are a repair like the check-digit
/// repair's (a mod-10 digit agrees with a wrong reading one time in ten), and the templates
/// overrule even reads OCR was sure of: they are marked repaired (at most
/// [`confusion::REPAIRED`]).
fn mark_chance_passes(before: &[String], zone: &mut ZoneText) {
    if kind::all_pass(before) || !kind::all_pass(&zone.lines) {
        return;
    }
    let differs = |r: usize, c: usize| {
        let at = |lines: &[String]| lines.get(r).and_then(|l| l.as_bytes().get(c).copied());
        at(before) != at(&zone.lines)
    };
    let cells: Vec<(usize, usize)> = confusion::checked_cells(&zone.lines)
        .into_iter()
        .map(|(r, c, _)| (r, c))
        .filter(|&(r, c)| differs(r, c))
        .collect();
    if cells.is_empty() {
        return;
    }
    debug!(
        ?cells,
        "template changes made the check digits pass: marked"
    );
    for &(r, c) in &cells {
        zone.confidences[r][c] = zone.confidences[r][c].min(confusion::REPAIRED);
        zone.repaired.push((r, c));
    }
}

/// A read whose cells the templates would change more than one in this many is left as it is.
const MOST_CHANGED: usize = 10;

/// Median character confidence below which a read is not worth settling: the zone upside
/// down, or not a zone at all (its reading will lose to a better one anyway).
const LEGIBLE: f32 = 0.6;

/// Whether Tesseract read the zone with a median confidence of at least [`LEGIBLE`].
fn legible(zone: &ZoneText) -> bool {
    let mut conf: Vec<f32> = zone.confidences.iter().flatten().copied().collect();
    conf.sort_by(f32::total_cmp);
    conf.get(conf.len() / 2).is_some_and(|c| *c >= LEGIBLE)
}

/// Whether the templates may put `candidate` where Tesseract read `read`: a letter for a
/// letter, a digit for a digit, a filler for either, anything for a filler. Between a letter
/// and a digit OCR-B draws alike (`O` and `0`, `B` and `8`, `Z` and `2`) small or blurred
/// prints leave the templates unsure, so that choice stays with Tesseract and the layout.
fn same_kind(candidate: char, read: char) -> bool {
    candidate == '<' || read == '<' || candidate.is_ascii_digit() == read.is_ascii_digit()
}

/// The templates' scores for one cell, best first; `None` for a blank cell.
type CellScores = Option<Vec<(char, f32)>>;

/// Widths of a glyph's frame the rows are tried at, in pitches: prints set their type a little
/// wider or narrower on the pitch than the font's own advance (which tells `0` from `O`).
const WIDTHS: [f32; 4] = [0.84, 0.92, 1.0, 1.08];

/// What the templates read in one row.
struct RowRead {
    /// Each cell's scores at `width`.
    scores: Vec<CellScores>,
    /// The frame width the row matches best.
    width: f32,
    /// How well the row matches each of [`WIDTHS`].
    fits: [f32; WIDTHS.len()],
}

/// The templates' scores for the `n` cells of a row, at the frame width that matches the row
/// best (the highest sum of best correlations over a sample of its cells).
fn read_row(templates: &Templates, img: &GrayImage, cells: &RowCells, n: usize) -> RowRead {
    let read = |col: usize, width: f32| {
        let mut cell = Cell::of(cells, col);
        cell.pitch *= width;
        templates.scores(img, cell)
    };
    // The width is chosen on every third cell, then the rest of the row read at it.
    let mut fits: Vec<(f32, f32, Vec<CellScores>)> = WIDTHS
        .into_iter()
        .map(|width| {
            let sample: Vec<_> = (0..n).step_by(3).map(|col| read(col, width)).collect();
            let fit = sample.iter().flatten().map(|s| s[0].1).sum();
            (width, fit, sample)
        })
        .collect();
    let best = fits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
        .map_or(0, |(i, _)| i);
    let mut all = [0.0; WIDTHS.len()];
    for (slot, fit) in all.iter_mut().zip(&fits) {
        *slot = fit.1;
    }
    let (width, _, mut sample) = fits.swap_remove(best);
    RowRead {
        scores: (0..n)
            .map(|col| match col % 3 {
                0 => sample.get_mut(col / 3).and_then(Option::take),
                _ => read(col, width),
            })
            .collect(),
        width,
        fits: all,
    }
}

/// The glyphs of the zone's letter/digit lookalikes (see `kind`), every cell scored at the one
/// frame width that fits the whole zone best: the zone's cells of known kind are the yardstick
/// for the others, and a frame a little wider or narrower shifts every `O` and `0` alike only
/// when it is the same frame.
fn glyphs(templates: &Templates, img: &GrayImage, zone: &ZoneText, reads: &[RowRead]) -> Glyphs {
    let mut fits = [0.0f32; WIDTHS.len()];
    for read in reads {
        for (sum, fit) in fits.iter_mut().zip(read.fits) {
            *sum += fit;
        }
    }
    let width = fits
        .iter()
        .zip(WIDTHS)
        .max_by(|a, b| a.0.total_cmp(b.0))
        .map_or(1.0, |(_, w)| w);
    Glyphs::of(&zone.lines, &|row, col, wanted| {
        let read = reads.get(row)?;
        if read.width == width {
            let scores = read.scores.get(col)?.as_ref()?;
            return Some(scores.iter().copied().filter(|(c, _)| wanted(*c)).collect());
        }
        let mut cell = Cell::of(zone.cells.get(row)?, col);
        cell.pitch *= width;
        templates.scores_of(img, cell, wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::local::render::{OcrB, printed_zone};

    #[test]
    fn forbidden_and_missing_characters_are_settled_by_their_shape() {
        let font = OcrB::load().expect("the OCR-B font (fonts-ocr-b) is needed by the tests");
        let templates = Templates::render(&font);
        let truth = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<".to_string(),
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string(),
        ];
        let (gray, cells) = printed_zone(&font, &truth, 14.0, 0.0);
        // Tesseract's misreads: a document code no passport has, a digit for a filler in the
        // name (read surely), and a composite check digit it dropped.
        let mut zone = ZoneText {
            lines: vec![
                "F<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<4<<<<<<<<<".to_string(),
                "L898902C36UTO7408122F1204159ZE184226B<<<<<1<".to_string(),
            ],
            confidences: vec![vec![0.95; 44]; 2],
            filled: vec![vec![true; 44]; 2],
            cells,
            repaired: Vec::new(),
            guessed: false,
            doubtful: Vec::new(),
            glyphs: Glyphs::default(),
        };
        zone.filled[1][43] = false;
        zone.confidences[1][43] = 0.5;
        assert_eq!(settle(&templates, &gray, &mut zone), 3);
        assert_eq!(zone.lines, truth);
        assert!(zone.confidences[0][34] < SURE);
    }
}
