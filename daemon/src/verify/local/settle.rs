//! Settling each cell of a zone between Tesseract's reading and the OCR-B templates': the
//! templates decide where Tesseract put a character the layout forbids (a digit in a name, a
//! letter in a date), where it left a cell empty, and where it was unsure and the templates
//! clearly see another glyph. A surely read character stays unless the templates see another
//! one by a wide margin.

use image::GrayImage;
use tracing::debug;

use super::layout;
use super::repair::{SURE, ZoneText};
use super::grid::RowCells;
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
    if zone.cells.len() != zone.lines.len() {
        return 0;
    }
    let mut changed = 0;
    for row in 0..zone.lines.len() {
        let mut chars: Vec<char> = zone.lines[row].chars().collect();
        let mut seen = String::new();
        let read = read_row(templates, img, &zone.cells[row], chars.len());
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
            let margin = if conf < SURE { UNSURE_MARGIN } else { SURE_MARGIN };
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
    }
    if changed > 0 {
        layout::repair(&mut zone.lines, &mut zone.confidences);
    }
    changed
}

/// Whether the templates may put `candidate` where Tesseract read `read`: a letter for a
/// letter, a digit for a digit, a filler for either, anything for a filler. Between a letter
/// and a digit OCR-B draws alike (`O` and `0`, `B` and `8`, `Z` and `2`) small or blurred
/// prints leave the templates unsure, so that choice stays with Tesseract and the layout.
fn same_kind(candidate: char, read: char) -> bool {
    candidate == '<' || read == '<' || candidate.is_ascii_digit() == read.is_ascii_digit()
}

/// Widths of a glyph's frame the rows are tried at, in pitches: prints set their type a little
/// wider or narrower on the pitch than the font's own advance (which tells `0` from `O`).
const WIDTHS: [f32; 4] = [0.84, 0.92, 1.0, 1.08];

/// The templates' scores for the `n` cells of a row, at the frame width that matches the row
/// best (the highest sum of best correlations).
fn read_row(
    templates: &Templates,
    img: &GrayImage,
    cells: &RowCells,
    n: usize,
) -> Vec<Option<Vec<(char, f32)>>> {
    let mut best: (f32, Vec<Option<Vec<(char, f32)>>>) = (f32::MIN, Vec::new());
    for width in WIDTHS {
        let read: Vec<Option<Vec<(char, f32)>>> = (0..n)
            .map(|col| {
                let mut cell = Cell::of(cells, col);
                cell.pitch *= width;
                templates.scores(img, cell)
            })
            .collect();
        let total: f32 = read.iter().flatten().map(|s| s[0].1).sum();
        if total > best.0 {
            best = (total, read);
        }
    }
    best.1
}
