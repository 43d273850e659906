//! From OCR lines to a parsed zone: picks the lines that look like MRZ rows, fixes what the
//! layout alone proves (a known line length, runs of `<` misread as `K`/`X`/`C`/`E` in the filler
//! tail of a name field), and hands the text to the `mrz` crate, whose repair pass fixes OCR
//! confusions only where a check digit agrees. Character confidences travel with the text.

use idreview_protocol::{RawZone, Side, ZoneRow};

use super::grid::{self, RowCells};
use super::kind::Glyphs;
use super::layout;
use super::ocr::{OcrChar, OcrLine};

/// Characters Tesseract's stock English model reads for the `<` filler.
const FILLER_LOOKALIKES: &[char] = &['<', 'K', 'X', 'C', 'E', '«', 'L'];

/// Fewest characters a line needs to count as a zone row: two thirds of a card's row (the grid
/// puts a row that lost its trailing fillers back in place).
const MIN_ROW: usize = 18;

/// A zone's text as read, one string per row, each at its format's length, with one
/// confidence per character.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneText {
    pub lines: Vec<String>,
    pub confidences: Vec<Vec<f32>>,
    /// Per row, which cells OCR put a character in (empty when no grid could be fitted).
    pub filled: Vec<Vec<bool>>,
    /// Per row, where its cells lie in the zone image (empty when no grid could be fitted).
    pub cells: Vec<RowCells>,
    /// Cells (row, column) a check-digit-guided repair changed.
    pub repaired: Vec<(usize, usize)>,
    /// That repair swapped single cells (not a run of zeros read as letters).
    pub guessed: bool,
    /// Cells the check digits cannot tell from a lookalike (see `confusion::blind_spots`).
    pub doubtful: Vec<(usize, usize)>,
    /// The templates' scores of the cells holding a lookalike where a letter or a digit may
    /// stand (see `kind`), set when the zone is settled.
    pub glyphs: Glyphs,
}

impl ZoneText {
    /// Newline-joined rows.
    pub fn joined(&self) -> String {
        self.lines.join("\n")
    }

    /// The zone as the card keeps it for reviewers: the rows and their character confidences
    /// as read from `side`, and the cells a check-digit repair changed.
    pub fn raw(&self, side: Side) -> RawZone {
        let cell = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        RawZone {
            side,
            rows: self
                .lines
                .iter()
                .zip(&self.confidences)
                .map(|(text, confidences)| ZoneRow {
                    text: text.clone(),
                    confidences: confidences.clone(),
                })
                .collect(),
            repaired: self
                .repaired
                .iter()
                .map(|&(r, c)| (cell(r), cell(c)))
                .collect(),
        }
    }
}

/// Nominal row length of a zone with `rows` rows whose rows read about `len` characters.
fn nominal_length(rows: usize, len: usize) -> usize {
    if rows >= 3 || len <= 33 {
        30
    } else if len <= 40 {
        36
    } else {
        44
    }
}

/// Cleans OCR lines into a zone: upper-cases, drops characters outside the MRZ alphabet, keeps
/// the last run of two or three rows of similar length, puts them on the format's grid, and
/// applies the repairs the layout proves. `None` when nothing looks like an MRZ.
pub fn zone_text(lines: &[OcrLine]) -> Option<ZoneText> {
    let cleaned: Vec<Vec<OcrChar>> = lines
        .iter()
        .map(|line| {
            line.chars
                .iter()
                .filter_map(|c| {
                    let ch = match c.ch {
                        '«' => '<',
                        other => other.to_ascii_uppercase(),
                    };
                    (ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '<')
                        .then(|| OcrChar { ch, ..c.clone() })
                })
                .collect::<Vec<_>>()
        })
        .filter(|chars| chars.len() >= MIN_ROW)
        .collect();
    if cleaned.len() < 2 {
        return None;
    }
    // TD1 has three rows; otherwise the zone is the last two long rows.
    let take = if cleaned.len() >= 3 && cleaned[cleaned.len() - 3..].iter().all(|l| l.len() <= 34) {
        3
    } else {
        2
    };
    let rows = &cleaned[cleaned.len() - take..];
    let longest = rows.iter().map(Vec::len).max().unwrap_or(0);
    let nominal = nominal_length(take, longest);
    let pitch = grid::pitch(rows);
    let mut placed = pitch.map(|p| grid::place_rows(rows, nominal, p).into_iter());
    let mut zone = ZoneText::default();
    for (i, row) in rows.iter().enumerate() {
        let (mut text, mut conf) = match placed.as_mut().and_then(Iterator::next) {
            Some(placed) => {
                zone.filled.push(placed.filled);
                zone.cells.push(placed.cells);
                (placed.text, placed.confidences)
            }
            _ => (
                row.iter().map(|c| c.ch).collect(),
                row.iter().map(|c| c.confidence).collect(),
            ),
        };
        fit_length(&mut text, &mut conf, nominal);
        let name_row = (take == 2 && i == 0) || (take == 3 && i == 2);
        if name_row {
            repair_filler_tail(&mut text, &mut conf, if take == 2 { 5 } else { 0 });
        }
        zone.lines.push(text);
        zone.confidences.push(conf);
    }
    layout::repair(&mut zone.lines, &mut zone.confidences);
    Some(zone)
}

/// Trims surplus characters from the end (surplus is nearly always a doubled filler) or pads
/// with fillers of zero confidence.
fn fit_length(text: &mut String, conf: &mut Vec<f32>, nominal: usize) {
    let mut chars: Vec<char> = text.chars().collect();
    while chars.len() != nominal {
        // A run of fillers is where OCR doubles or drops one; without a run, the end.
        let (start, len) = longest_filler_run(&chars);
        if chars.len() > nominal {
            let at = if len >= 2 { start } else { chars.len() - 1 };
            chars.remove(at);
            conf.remove(at);
        } else {
            let at = if len >= 1 { start } else { chars.len() };
            chars.insert(at, '<');
            conf.insert(at, 0.5);
        }
    }
    *text = chars.into_iter().collect();
}

/// Start and length of the longest run of `<`.
fn longest_filler_run(chars: &[char]) -> (usize, usize) {
    let mut best = (0, 0);
    let mut start = 0;
    for (i, c) in chars.iter().enumerate() {
        if *c != '<' {
            start = i + 1;
        } else if i + 1 - start > best.1 {
            best = (start, i + 1 - start);
        }
    }
    best
}

/// In the filler tail of a name field (the trailing run made only of fillers and filler
/// lookalikes), turns a lookalike into `<` when OCR was unsure of it. A confidently read letter
/// ("ALEX<<<", an initial "KATIA<E<<<") is kept; the glyph check has already caught confident
/// misreads of the filler by shape.
fn repair_filler_tail(text: &mut String, conf: &mut [f32], start: usize) {
    let mut chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut i = n;
    while i > start {
        i -= 1;
        let ch = chars[i];
        if !FILLER_LOOKALIKES.contains(&ch) {
            break;
        }
        if ch == '<' {
            continue;
        }
        // A single initial between fillers ("KATIA<E<<<") is a real letter when read surely.
        if conf[i] < 0.75 {
            chars[i] = '<';
            conf[i] = conf[i].min(0.6);
        }
    }
    *text = chars.into_iter().collect();
}

/// Parses the zone as read; when some check digit fails, lets the `mrz` crate's
/// check-digit-guided search and repair try, and keeps its result only if every digit then
/// agrees. Otherwise the honest read (failing digits and all) stands.
pub fn parse(zone: &ZoneText) -> Option<mrz::MrzData> {
    let direct = match zone.lines.as_slice() {
        [a, b, c] => mrz::parse_td1(a, b, c).ok(),
        [a, b] if a.len() == 44 && a.starts_with('V') => mrz::parse_mrv_a(a, b).ok(),
        [a, b] if a.len() == 44 => mrz::parse_td3(a, b).ok(),
        [a, b] if a.len() == 36 && a.starts_with('V') => mrz::parse_mrv_b(a, b).ok(),
        [a, b] if a.len() == 36 => mrz::parse_td2(a, b).ok(),
        _ => None,
    };
    if direct.as_ref().is_some_and(|d| d.checks.all_valid()) {
        return direct;
    }
    let repaired = mrz::find_and_parse(&zone.joined())
        .ok()
        .filter(|r| only_unsure_cells_changed(zone, &r.mrz_lines));
    match (direct, repaired) {
        (_, Some(r)) if r.checks.all_valid() => Some(r),
        (Some(d), _) => Some(d),
        (None, r) => r,
    }
}

/// Confidence at or above which OCR's reading of a cell is not overridden by a repair.
pub const SURE: f32 = 0.85;

/// Whether `repaired` differs from the zone as read only in cells OCR was unsure of: a repair
/// may fix a misread, never a confidently printed wrong check digit.
fn only_unsure_cells_changed(zone: &ZoneText, repaired: &str) -> bool {
    let rows: Vec<&str> = repaired.lines().collect();
    rows.len() == zone.lines.len()
        && rows
            .iter()
            .zip(&zone.lines)
            .zip(&zone.confidences)
            .all(|((r, z), conf)| {
                r.len() == z.len()
                    && r.chars()
                        .zip(z.chars())
                        .zip(conf)
                        .all(|((a, b), c)| a == b || *c < SURE)
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::local::ocr::OcrChar;

    /// A line read with confidence 0.9, except 0.4 on the characters marked `^` in `unsure`.
    fn line(text: &str, unsure: &str) -> OcrLine {
        let mut marks = unsure.chars();
        OcrLine {
            chars: text
                .chars()
                .enumerate()
                .map(|(i, ch)| OcrChar {
                    ch,
                    confidence: if marks.next() == Some('^') { 0.4 } else { 0.9 },
                    bbox: (i as u32, 0, i as u32 + 1, 1),
                })
                .collect(),
        }
    }

    #[test]
    fn filler_lookalikes_in_the_name_tail_become_fillers() {
        let lines = [
            line("REPUBLIC OF UTOPIA", ""),
            line(
                "P<UTOERIKSSON<<ANNA<MARIAKX<K<<<<<<<<K<<<<<",
                "                         ^^ ^        ^",
            ),
            line("L898902C36UTO7408122F1204159ZE184226B<<<<<10", ""),
        ];
        let zone = zone_text(&lines).expect("a zone");
        assert_eq!(
            zone.lines[0],
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
        );
        let doc = parse(&zone).expect("parses");
        assert!(doc.checks.all_valid());
        assert_eq!(doc.given_names, "ANNA MARIA");
    }

    #[test]
    fn a_name_ending_in_a_lookalike_letter_keeps_it() {
        let mut text = "P<UTOSMITH<<ALEX<<<<<<<<<<<<<<<<<<<<<<<<<<<<".to_string();
        let mut conf = vec![0.9; text.len()];
        repair_filler_tail(&mut text, &mut conf, 5);
        assert_eq!(text, "P<UTOSMITH<<ALEX<<<<<<<<<<<<<<<<<<<<<<<<<<<<");
    }
}
