//! Placing OCR characters on the zone's fixed character grid. MRZ type is monospaced, so a
//! character's column follows from its position: a filler Tesseract dropped from a run comes
//! back as an empty cell, and a doubled character collapses into one cell.

use super::ocr::OcrChar;

/// Centre of a character's box.
fn centre(c: &OcrChar) -> f32 {
    (c.bbox.0 + c.bbox.2) as f32 / 2.0
}

/// The character pitch in pixels: the median distance between neighbours (a dropped filler
/// makes a few gaps two pitches wide; the median does not care).
pub fn pitch(rows: &[Vec<OcrChar>]) -> Option<f32> {
    let mut gaps: Vec<f32> = rows
        .iter()
        .flat_map(|r| r.windows(2).map(|w| centre(&w[1]) - centre(&w[0])))
        .filter(|g| *g > 0.0)
        .collect();
    gaps.sort_by(f32::total_cmp);
    gaps.get(gaps.len() / 2).copied()
}

/// A row placed on its grid: one character and confidence per cell, and where the cells lie in
/// the zone image.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub text: String,
    pub confidences: Vec<f32>,
    /// Whether OCR put a character in the cell (an empty cell reads as a filler).
    pub filled: Vec<bool>,
    pub cells: RowCells,
}

/// Where a row's cells lie in the zone image: cell `i` is centred on `x0 + i * pitch`, and the
/// row's capitals run from `top` to `bottom` (the baseline).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RowCells {
    pub x0: f32,
    pub pitch: f32,
    pub top: u32,
    pub bottom: u32,
}

impl RowCells {
    /// The box (x0, y0, x1, y1) of cells `from..to` in the zone image.
    pub fn span(&self, from: usize, to: usize) -> (f32, f32, f32, f32) {
        (
            self.x0 + (from as f32 - 0.5) * self.pitch,
            self.top as f32,
            self.x0 + (to as f32 - 0.5) * self.pitch,
            self.bottom as f32,
        )
    }
}

/// Rows on a grid of `n` cells each; see [`place_at`]. The rows of a zone are left-aligned: a
/// row starts at its leftmost character on the row's phase (a character whose box a smudge
/// swelled is off it), moved by whole cells to line up with the leftmost start of any row (a
/// row whose first characters OCR lost starts right of the others).
pub fn place_rows(rows: &[Vec<OcrChar>], n: usize, pitch: f32) -> Vec<Placed> {
    let starts: Vec<Option<f32>> = rows.iter().map(|r| start(r, pitch)).collect();
    let leftmost = starts.iter().flatten().copied().fold(f32::MAX, f32::min);
    let x0s: Vec<Option<f32>> = starts
        .iter()
        .map(|s| s.map(|s| s - ((s - leftmost) / pitch).round() * pitch))
        .collect();
    let mut placed: Vec<Placed> = rows
        .iter()
        .zip(&x0s)
        .map(|(row, x0)| place_at(row, n, pitch, *x0))
        .collect();
    // A row that lost a quarter of its characters fits its pitch over a short stretch, which
    // drifts by its end: it takes the pitch of the fullest row (rows share the type).
    let fullest = (0..rows.len()).max_by_key(|&i| rows[i].len());
    if let Some(full) = fullest {
        let shared = placed[full].cells.pitch;
        for (i, row) in rows.iter().enumerate() {
            if row.len() * 4 < n * 3 && rows[full].len() * 4 >= n * 3 && shared > 0.0 {
                let x0 = placed[i].cells.x0;
                placed[i] = place_fixed(row, n, x0, shared);
            }
        }
    }
    placed
}

/// The centre of the leftmost character of `row` on the row's phase: the first of the first few
/// characters with one of its next two neighbours one pitch away (a character whose box a
/// smudge swelled sits off it; a phantom box may sit between two real ones).
fn start(row: &[OcrChar], pitch: f32) -> Option<f32> {
    let on_phase = |a: &OcrChar, b: &OcrChar| {
        let d = (centre(b) - centre(a)) / pitch;
        (d - 1.0).abs() < 0.25
    };
    (0..row.len().min(8))
        .find(|&i| row[i + 1..].iter().take(2).any(|b| on_phase(&row[i], b)))
        .map(|i| centre(&row[i]))
}

/// The row on a grid of `n` cells whose first cell is centred near `x0` (by default on the
/// first character); an empty cell is a filler with confidence 0.5, and of two characters in
/// one cell the wider one stays.
pub fn place_at(row: &[OcrChar], n: usize, pitch: f32, x0: Option<f32>) -> Placed {
    let first = row.first().map_or(0.0, centre);
    let (x0, pitch) = refine(row, x0.unwrap_or(first), pitch, n);
    place_fixed(row, n, x0, pitch)
}

/// The row on the grid of `n` cells whose first cell is centred on `x0`, `pitch` apart.
fn place_fixed(row: &[OcrChar], n: usize, x0: f32, pitch: f32) -> Placed {
    if row.is_empty() {
        return Placed {
            text: "<".repeat(n),
            confidences: vec![0.5; n],
            filled: vec![false; n],
            cells: RowCells::default(),
        };
    }
    // (char, confidence, box width)
    let mut cells: Vec<Option<(char, f32, u32)>> = vec![None; n];
    for c in row {
        let col = ((centre(c) - x0) / pitch).round();
        if col < 0.0 || col >= n as f32 {
            continue;
        }
        // Of two characters in one cell the wider box is the real glyph; Tesseract also emits
        // narrow phantoms over the edges of its neighbours.
        let width = c.bbox.2.saturating_sub(c.bbox.0);
        let cell = &mut cells[col as usize];
        if cell.is_none_or(|(_, _, w)| width > w) {
            *cell = Some((c.ch, c.confidence, width));
        }
    }
    // The capitals' top and baseline: from letters and digits (a filler is shorter), unless
    // the row holds too few of them.
    let tall: Vec<&OcrChar> = row.iter().filter(|c| c.ch != '<').collect();
    let tall = if tall.len() >= 3 {
        tall
    } else {
        row.iter().collect()
    };
    let mut tops: Vec<u32> = tall.iter().map(|c| c.bbox.1).collect();
    let mut bottoms: Vec<u32> = tall.iter().map(|c| c.bbox.3).collect();
    tops.sort_unstable();
    bottoms.sort_unstable();
    Placed {
        text: cells.iter().map(|c| c.map_or('<', |c| c.0)).collect(),
        confidences: cells.iter().map(|c| c.map_or(0.5, |c| c.1)).collect(),
        filled: cells.iter().map(Option::is_some).collect(),
        cells: RowCells {
            x0,
            pitch,
            top: tops[tops.len() / 2],
            bottom: bottoms[bottoms.len() / 2],
        },
    }
}

/// Least-squares fit of the first cell's centre and the pitch to the characters' centres, given
/// the columns the first guess assigns them: a pitch off by 1% would push the last check digit
/// off the grid.
fn refine(row: &[OcrChar], x0: f32, pitch: f32, n: usize) -> (f32, f32) {
    let points: Vec<(f32, f32)> = row
        .iter()
        .map(|c| (((centre(c) - x0) / pitch).round(), centre(c)))
        .filter(|(col, _)| *col >= 0.0 && *col < n as f32 + 1.0)
        .collect();
    let k = points.len() as f32;
    if k < 5.0 {
        return (x0, pitch);
    }
    let mean_c = points.iter().map(|p| p.0).sum::<f32>() / k;
    let mean_x = points.iter().map(|p| p.1).sum::<f32>() / k;
    let var = points.iter().map(|p| (p.0 - mean_c).powi(2)).sum::<f32>();
    let cov = points
        .iter()
        .map(|p| (p.0 - mean_c) * (p.1 - mean_x))
        .sum::<f32>();
    if var <= 0.0 {
        return (x0, pitch);
    }
    let fitted = cov / var;
    if (fitted / pitch - 1.0).abs() > 0.1 {
        return (x0, pitch);
    }
    (mean_x - fitted * mean_c, fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str, skip: &[usize]) -> Vec<OcrChar> {
        text.chars()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(i, ch)| OcrChar {
                ch,
                confidence: 0.9,
                bbox: (i as u32 * 20, 0, i as u32 * 20 + 14, 30),
            })
            .collect()
    }

    #[test]
    fn rows_line_up_past_a_swollen_first_box() {
        let name = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
        let data = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
        // A smudge swells the `P`'s box to the left: its centre sits a pitch and a half off.
        let shifted = |text: &str| {
            let mut r = row(text, &[]);
            for c in &mut r {
                c.bbox.0 += 40;
                c.bbox.2 += 40;
            }
            r
        };
        let mut swollen = shifted(name);
        swollen[0].bbox.0 = 0;
        swollen[0].bbox.2 = 34;
        let rows = [swollen, shifted(data)];
        let p = pitch(&rows).expect("pitch");
        let placed = place_rows(&rows, 44, p);
        assert_eq!(placed[0].text[1..], name[1..]);
        assert_eq!(placed[1].text, data);
        assert!((placed[0].cells.x0 - placed[1].cells.x0).abs() < 1.0);
    }

    #[test]
    fn a_short_row_keeps_the_pitch_of_the_full_ones() {
        // The second row lost its last eleven characters but for the check digit.
        let full = row("I<UTOD231458907<<<<<<<<<<<<<<<", &[]);
        let short = row(
            "7408122F1204159UTO<<<<<<<<<<<6",
            &(18..29).collect::<Vec<_>>(),
        );
        let mut short = short;
        // Without the fillers, its own boxes drift: a pitch fitted on them alone would be off.
        for (i, c) in short.iter_mut().enumerate().take(18) {
            c.bbox.0 += i as u32 / 3;
            c.bbox.2 += i as u32 / 3;
        }
        let rows = [full, short, row("ERIKSSON<<ANNA<MARIA<<<<<<<<<<", &[])];
        let p = pitch(&rows).expect("pitch");
        let placed = place_rows(&rows, 30, p);
        assert_eq!(placed[1].text, "7408122F1204159UTO<<<<<<<<<<<6");
        assert!((placed[1].cells.pitch - 20.0).abs() < 0.01);
    }

    #[test]
    fn dropped_fillers_come_back_in_their_cells() {
        let full = row("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", &[]);
        let gappy = row("D231458907UTO7408122F1204159<<<<<<<6", &[29, 30, 31]);
        let p = pitch(&[full, gappy.clone()]).expect("pitch");
        assert!((p - 20.0).abs() < 0.01);
        let placed = place_at(&gappy, 36, p, None);
        assert_eq!(placed.text, "D231458907UTO7408122F1204159<<<<<<<6");
        assert_eq!(placed.confidences[30], 0.5);
        assert!(!placed.filled[30] && placed.filled[28]);
        assert!((placed.cells.x0 - 7.0).abs() < 0.01 && (placed.cells.pitch - 20.0).abs() < 0.01);
    }
}
