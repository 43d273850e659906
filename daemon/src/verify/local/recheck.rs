//! A second look at cells the line read left empty where the layout needs a character (a check
//! digit, a date digit): Tesseract's line recogniser sometimes drops the last character of a
//! row on small prints. Each such cell is cut out of the zone image on its grid, binarised,
//! padded with white and read on its own as a single character.

use image::{GrayImage, Luma};

use super::LocalError;
use super::engines::Lease;
use super::layout;
use super::repair::ZoneText;

/// At most this many cells get a second look per zone read (each is one Tesseract call).
const MAX_CELLS: usize = 2;
/// White border around a cut-out cell, in pixels.
const PAD: u32 = 16;

/// Reads empty required cells of `zone` one by one and writes what they hold into it, with
/// Tesseract's confidence; then reapplies the layout's repairs. Returns the calls made.
pub fn fill_empty(
    lease: &mut Lease<'_>,
    img: &GrayImage,
    level: u8,
    zone: &mut ZoneText,
) -> Result<usize, LocalError> {
    if zone.cells.len() != zone.lines.len() {
        return Ok(0);
    }
    let todo: Vec<(usize, usize)> = layout::required_cells(&zone.lines)
        .into_iter()
        .filter(|&(r, c)| zone.filled.get(r).and_then(|f| f.get(c)) == Some(&false))
        .take(MAX_CELLS)
        .collect();
    let mut calls = 0;
    for (row, col) in todo {
        let Some(cell) = cut_cell(img, level, zone, row, col) else {
            continue;
        };
        calls += 1;
        let Some(read) = lease.read_char(cell)? else {
            continue;
        };
        let mut chars: Vec<char> = zone.lines[row].chars().collect();
        chars[col] = read.ch;
        zone.lines[row] = chars.into_iter().collect();
        zone.confidences[row][col] = read.confidence;
        zone.filled[row][col] = true;
    }
    if calls > 0 {
        layout::repair(&mut zone.lines, &mut zone.confidences);
    }
    Ok(calls)
}

/// The cell at (`row`, `col`), ink black on white, padded; `None` when it falls outside.
fn cut_cell(
    img: &GrayImage,
    level: u8,
    zone: &ZoneText,
    row: usize,
    col: usize,
) -> Option<GrayImage> {
    let cells = zone.cells.get(row)?;
    let (x0, y0, x1, y1) = cells.span(col, col + 1);
    let margin = (y1 - y0) * 0.15;
    let (x0, x1) = (x0.max(0.0) as u32, (x1.max(0.0) as u32).min(img.width()));
    let y0 = (y0 - margin).max(0.0) as u32;
    let y1 = ((y1 + margin).max(0.0) as u32).min(img.height());
    if x1 <= x0 + 2 || y1 <= y0 + 4 {
        return None;
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut out = GrayImage::from_pixel(w + 2 * PAD, h + 2 * PAD, Luma([255]));
    for y in 0..h {
        for x in 0..w {
            if img.get_pixel(x0 + x, y0 + y).0[0] < level {
                out.put_pixel(PAD + x, PAD + y, Luma([0]));
            }
        }
    }
    Some(out)
}
