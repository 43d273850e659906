//! Letter or digit, by the glyph. In the fields that may hold both (document numbers, optional
//! data), OCR-B draws some letters and digits alike (`O`/`0`, `I`/`1`, `S`/`5`, `B`/`8`, `Z`/`2`,
//! `G`/`6`), and the check digits cannot always tell them apart: `OO` and `00` in cells weighted
//! 7 and 3 give the same sum, a visa's optional data has no check digit at all, and when two
//! swaps both make every digit agree the zone stays as read. The OCR-B templates can: each such
//! cell keeps its correlation with every character of its lookalike group, and a lookalike of
//! the other kind that leads the character read by a clear margin (the shapes differ: `O` is
//! round and wide, `0` a narrow upright oval) is what the cell holds.
//!
//! The check digits stay the authority: the glyphs' reading is taken only when every check
//! digit then passes (in a field no check digit covers, only where the margin is clear, and the
//! cell keeps a low confidence); never against a check digit. In the check-digit-guided repair
//! ([`super::confusion`]) the glyphs rule out a swap they clearly contradict, and a combination
//! that leaves a cell they clearly show as the other kind; they never choose between two
//! combinations that both stand (the zone then stays as read).

use super::confusion::{self, parse_direct};
use super::layout::{self, Grid};
use super::repair::ZoneText;

/// Characters OCR-B draws alike across kinds: a digit and the letters taken for it.
const LOOKALIKES: &[(char, &[char])] = &[
    ('0', &['O', 'Q', 'D']),
    ('1', &['I']),
    ('2', &['Z']),
    ('5', &['S']),
    ('6', &['G']),
    ('8', &['B']),
];

/// Lead in correlation one letter needs over another (or one digit over another) for the
/// glyph to tell them apart: the templates' own margin when they settle a cell.
const SAME_KIND: f32 = 0.05;

/// How far past the zone's own lookalikes of one kind a cell must fall to count as the other
/// (in the letter's correlation minus the digit's).
const MARGIN: f32 = 0.03;

/// Least gap between the zone's letters and its digits of one pair for either to be a yardstick.
const SEPARATION: f32 = 0.03;

/// How far past the zone's lookalikes of one kind a cell must fall when the zone shows none
/// of the other kind.
const ONE_SIDED: f32 = 0.1;

/// Confidence a cell keeps when the glyphs and every check digit agree on its kind.
pub const AGREED: f32 = 0.8;

/// Confidence a cell keeps when only the glyphs decided it (no check digit covers it).
const GLYPH_ONLY: f32 = 0.6;

/// The templates' correlations for one cell holding a lookalike in a field that may hold
/// letters and digits: one per character of its group, both kinds.
#[derive(Debug, Clone, PartialEq)]
struct Glyph {
    cell: (usize, usize),
    scores: Vec<(char, f32)>,
}

impl Glyph {
    fn score(&self, c: char) -> Option<f32> {
        self.scores.iter().find(|s| s.0 == c).map(|s| s.1)
    }
}

/// One letter and the digit drawn like it, as this zone prints them: the letter's correlation
/// minus the digit's in cells the layout holds to the letter (names, codes) and to the digit
/// (dates, check digits). Absolute correlations say little (a print set wider on its pitch
/// makes every `0` look like an `O` to the templates); the zone's own cells of known kind are
/// the yardstick, read under the same print, scale and blur.
#[derive(Debug, Clone, PartialEq)]
struct Yardstick {
    letter: char,
    digit: char,
    letters: Vec<f32>,
    digits: Vec<f32>,
}

impl Yardstick {
    /// Whether a cell whose letter-minus-digit correlation is `x` shows the letter (`true`) or
    /// the digit (`false`); `None` when this zone's own letters and digits do not settle it.
    fn decide(&self, x: f32) -> Option<bool> {
        let max = |v: &[f32]| v.iter().copied().fold(f32::MIN, f32::max);
        let min = |v: &[f32]| v.iter().copied().fold(f32::MAX, f32::min);
        match (self.letters.len(), self.digits.len()) {
            (1.., 1..) => {
                let (digits, letters) = (max(&self.digits), min(&self.letters));
                if letters - digits < SEPARATION {
                    return None;
                }
                let mid = (digits + letters) / 2.0;
                if x >= digits + MARGIN && x >= mid {
                    Some(true)
                } else if x <= letters - MARGIN && x <= mid {
                    Some(false)
                } else {
                    None
                }
            }
            (0, 2..) if x >= max(&self.digits) + ONE_SIDED => Some(true),
            (2.., 0) if x <= min(&self.letters) - ONE_SIDED => Some(false),
            _ => None,
        }
    }
}

/// The template scores of cell (row, column) for the characters a filter accepts.
pub type CellScorer<'a> =
    dyn Fn(usize, usize, &dyn Fn(char) -> bool) -> Option<Vec<(char, f32)>> + 'a;

/// What the templates saw of a zone's letters and digits (see the module's header).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Glyphs {
    cells: Vec<Glyph>,
    yardsticks: Vec<Yardstick>,
}

/// The lookalike group of `c` (the digit first), if it has one.
fn group(c: char) -> Option<Vec<char>> {
    LOOKALIKES
        .iter()
        .find(|(d, letters)| *d == c || letters.contains(&c))
        .map(|(d, letters)| std::iter::once(*d).chain(letters.iter().copied()).collect())
}

/// Whether cell (`row`, `col`) of `lines` may hold a letter as well as a digit in a known ICAO
/// layout (not the French card's own, nor the sex).
fn either_kind(lines: &[String], row: usize, col: usize) -> bool {
    let sex = match Grid::of(lines) {
        None => return false,
        Some(Grid::Card) => (1, 7),
        Some(_) => (1, 20),
    };
    !(lines.len() == 2 && lines[0].starts_with("IDFRA"))
        && (row, col) != sex
        && layout::allows(lines, row, col, 'A')
        && layout::allows(lines, row, col, '0')
}

impl Glyphs {
    /// The glyphs of `lines` from each cell's template scores (`scores(row, col, wanted)`: the
    /// correlations of the characters `wanted` accepts, any order): the lookalike cells where
    /// either kind may stand, and the yardsticks from the cells the layout holds to one kind.
    pub fn of(lines: &[String], scores: &CellScorer<'_>) -> Glyphs {
        let mut out = Glyphs {
            cells: Vec::new(),
            yardsticks: LOOKALIKES
                .iter()
                .flat_map(|(digit, letters)| {
                    letters.iter().map(|&letter| Yardstick {
                        letter,
                        digit: *digit,
                        letters: Vec::new(),
                        digits: Vec::new(),
                    })
                })
                .collect(),
        };
        if Grid::of(lines).is_none() {
            return out;
        }
        for (row, line) in lines.iter().enumerate() {
            for (col, ch) in line.chars().enumerate() {
                let Some(members) = group(ch) else {
                    continue;
                };
                let letter = layout::allows(lines, row, col, 'A');
                let digit = layout::allows(lines, row, col, '0');
                let Some(all) = scores(row, col, &|c| members.contains(&c)) else {
                    continue;
                };
                let score = |c: char| all.iter().find(|s| s.0 == c).map(|s| s.1);
                if either_kind(lines, row, col) {
                    let scores: Vec<(char, f32)> = all
                        .iter()
                        .copied()
                        .filter(|(c, _)| members.contains(c))
                        .collect();
                    if scores.len() == members.len() {
                        out.cells.push(Glyph {
                            cell: (row, col),
                            scores,
                        });
                    }
                    continue;
                }
                for y in &mut out.yardsticks {
                    let (Some(l), Some(d)) = (score(y.letter), score(y.digit)) else {
                        continue;
                    };
                    if letter && !digit && ch == y.letter {
                        y.letters.push(l - d);
                    } else if digit && !letter && ch == y.digit {
                        y.digits.push(l - d);
                    }
                }
            }
        }
        out
    }

    /// What the glyph of `cell` says of putting `to` where `from` was read: between a letter
    /// and a digit, by this zone's yardstick for the pair; between two of one kind, by the
    /// templates' margin.
    pub fn say(&self, cell: (usize, usize), from: char, to: char) -> Say {
        let Some(g) = self.cells.iter().find(|g| g.cell == cell) else {
            return Say::Unsure;
        };
        let (Some(f), Some(t)) = (g.score(from), g.score(to)) else {
            return Say::Unsure;
        };
        if from.is_ascii_digit() == to.is_ascii_digit() {
            return match t - f {
                l if l >= SAME_KIND => Say::Supports,
                l if l <= -SAME_KIND => Say::Contradicts,
                _ => Say::Unsure,
            };
        }
        let (letter, digit, x) = if to.is_ascii_digit() {
            (from, to, f - t)
        } else {
            (to, from, t - f)
        };
        let shows_letter = self
            .yardsticks
            .iter()
            .find(|y| y.letter == letter && y.digit == digit)
            .and_then(|y| y.decide(x));
        match shows_letter {
            Some(l) if l == to.is_ascii_uppercase() => Say::Supports,
            Some(_) => Say::Contradicts,
            None => Say::Unsure,
        }
    }

    /// Whether some lookalike cell of `rows` holds a character whose glyph clearly shows the
    /// lookalike of the other kind instead.
    pub fn shows_otherwise(&self, rows: &[Vec<char>]) -> bool {
        self.cells.iter().any(|g| {
            let (r, c) = g.cell;
            rows.get(r)
                .and_then(|row| row.get(c))
                .is_some_and(|&ch| self.other_kind(g.cell, ch).is_some())
        })
    }

    /// The lookalike of the other kind the glyph of `cell` clearly shows instead of `read`.
    fn other_kind(&self, cell: (usize, usize), read: char) -> Option<char> {
        let g = self.cells.iter().find(|g| g.cell == cell)?;
        g.scores
            .iter()
            .filter(|(c, _)| c.is_ascii_digit() != read.is_ascii_digit())
            .filter(|(c, _)| self.say(cell, read, *c) == Say::Supports)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| *c)
    }
}

/// What the glyphs say of a repair that puts one character where another was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Say {
    /// The glyph clearly shows the new character.
    Supports,
    /// The glyph clearly shows the character read.
    Contradicts,
    /// No glyph, or nothing clear.
    Unsure,
}

/// Whether every check digit of `lines` passes.
pub(super) fn all_pass(lines: &[String]) -> bool {
    parse_direct(lines).is_some_and(|d| d.checks.all_valid())
}

/// Whether a check digit covers cell (`row`, `col`): every alphanumeric cell but a visa's
/// optional data (a visa prints no composite).
fn checked(lines: &[String], row: usize, col: usize) -> bool {
    let visa = lines.first().is_some_and(|l| l.starts_with('V'));
    !(visa && row == 1 && col >= 28)
}

/// Puts in the zone what the glyphs clearly show where OCR read a lookalike of the other kind:
/// in cells a check digit covers, all of them together and only when every check digit then
/// passes (so a zone whose digits agree as read stays one whose digits agree); in a visa's
/// optional data, each clear one (nothing there to contradict it). Where the zone's check
/// digits failed as read, this is a repair: its cells keep 0.8 only when OCR was sure of the
/// rest of the checked fields (`confusion::rest_sure`), else they are marked repaired (at most
/// 0.6). Answers the cells changed.
pub fn read_kinds(zone: &mut ZoneText, glyphs: &Glyphs) -> Vec<(usize, usize)> {
    let mut rows: Vec<Vec<char>> = zone.lines.iter().map(|l| l.chars().collect()).collect();
    let mut covered = Vec::new();
    let mut free = Vec::new();
    for g in &glyphs.cells {
        let (r, c) = g.cell;
        let Some(&read) = rows.get(r).and_then(|row| row.get(c)) else {
            continue;
        };
        if let Some(to) = glyphs.other_kind(g.cell, read) {
            if checked(&zone.lines, r, c) {
                covered.push((r, c, to));
            } else {
                free.push((r, c, to));
            }
        }
    }
    let mut changed = Vec::new();
    if !covered.is_empty() {
        let mut trial = rows.clone();
        for &(r, c, to) in &covered {
            trial[r][c] = to;
        }
        let text: Vec<String> = trial.iter().map(|r| r.iter().collect()).collect();
        if all_pass(&text) {
            let cells: Vec<(usize, usize)> = covered.iter().map(|&(r, c, _)| (r, c)).collect();
            let repair = !all_pass(&zone.lines);
            let seen = !repair || confusion::rest_sure(&text, &zone.confidences, &cells);
            rows = trial;
            for &(r, c) in &cells {
                if seen {
                    zone.confidences[r][c] = AGREED;
                } else {
                    zone.confidences[r][c] = zone.confidences[r][c].min(confusion::REPAIRED);
                    zone.repaired.push((r, c));
                }
                changed.push((r, c));
            }
        }
    }
    for &(r, c, to) in &free {
        rows[r][c] = to;
        zone.confidences[r][c] = zone.confidences[r][c].min(GLYPH_ONLY);
        changed.push((r, c));
    }
    if !changed.is_empty() {
        zone.lines = rows.iter().map(|r| r.iter().collect()).collect();
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::local::confusion::repair_tier;
    use crate::verify::local::render::{Holder, OcrB, printed_zone, zone_lines};
    use crate::verify::local::settle::settle;
    use crate::verify::local::template::Templates;

    fn lines(rows: &[&str]) -> Vec<String> {
        rows.iter().map(|r| r.to_string()).collect()
    }

    /// `printed` rendered small and a little blurred, read by OCR as `read` (confidence 0.95,
    /// 0.5 in `unsure` cells), settled by the templates: the zone with its glyphs.
    fn read_as(printed: &[String], read: &[String], unsure: &[(usize, usize)]) -> ZoneText {
        let font = OcrB::load().expect("the OCR-B font (fonts-ocr-b) is needed by the tests");
        let templates = Templates::render(&font);
        let (img, cells) = printed_zone(&font, printed, 30.0, 1.2);
        let n = printed[0].len();
        let mut zone = ZoneText {
            lines: read.to_vec(),
            confidences: vec![vec![0.95; n]; read.len()],
            filled: vec![vec![true; n]; read.len()],
            cells,
            ..ZoneText::default()
        };
        for &(r, c) in unsure {
            zone.confidences[r][c] = 0.5;
        }
        settle(&templates, &img, &mut zone);
        assert_eq!(zone.lines, read, "the templates alone change no kind");
        zone
    }

    /// `lines` with `ch` in cell (`row`, `col`).
    fn put(lines: &[String], row: usize, col: usize, ch: char) -> Vec<String> {
        let mut out = lines.to_vec();
        let mut chars: Vec<char> = out[row].chars().collect();
        chars[col] = ch;
        out[row] = chars.into_iter().collect();
        out
    }

    #[test]
    fn zeros_read_as_letters_where_the_check_digits_are_blind_are_read_by_their_glyphs() {
        // A card's number `000000003` read `OO0000003`: `OO` in cells weighted 7 and 3 leaves
        // every check digit passing, so only the shapes tell.
        let card = lines(&[
            "IAUSA0000000033LIN1044750079<<",
            "5808175F1004027COD<<<<<<<<<<<7",
            "SPECIMEN<<TEST<VOID<<<<<<<<<<<",
        ]);
        let read = put(&put(&card, 0, 5, 'O'), 0, 6, 'O');
        assert!(all_pass(&card) && all_pass(&read));
        let mut zone = read_as(&card, &read, &[]);
        let glyphs = zone.glyphs.clone();
        assert_eq!(read_kinds(&mut zone, &glyphs), vec![(0, 5), (0, 6)]);
        assert_eq!(zone.lines, card);
        assert!(zone.confidences[0][5] >= AGREED);
        // And the other way: a passport number that starts with two letters `O`, read as zeros.
        let passport = zone_lines(
            &Holder {
                surname: "GOLDBERG".into(),
                given_names: "OLGA".into(),
                document_number: "OO3674083".into(),
                country: "NLD".into(),
                birth: (1980, 5, 6),
                expiry: (2031, 10, 20),
                sex: 'F',
            },
            true,
        );
        let read = put(&put(&passport, 1, 0, '0'), 1, 1, '0');
        assert!(all_pass(&passport) && all_pass(&read));
        let mut zone = read_as(&passport, &read, &[]);
        let glyphs = zone.glyphs.clone();
        read_kinds(&mut zone, &glyphs);
        assert_eq!(zone.lines, passport);
    }

    #[test]
    fn a_visas_optional_data_is_read_by_its_glyphs_and_left_for_a_reviewer() {
        let visa = lines(&[
            "VIUSATRAVELER<<HAPPYPERSON<<<<<<<<<<<<<<<<<<",
            "555123ABC6GBR6502056F0412236IFLND00AMS803085",
        ]);
        let read = put(&put(&visa, 1, 33, 'O'), 1, 34, 'O');
        let mut zone = read_as(&visa, &read, &[]);
        let glyphs = zone.glyphs.clone();
        assert_eq!(read_kinds(&mut zone, &glyphs), vec![(1, 33), (1, 34)]);
        assert_eq!(zone.lines, visa);
        assert!(zone.confidences[1][33] <= GLYPH_ONLY);
    }

    #[test]
    fn the_glyphs_never_overrule_a_check_digit_that_passes() {
        // A misprint: the card shows `AB0123456`'s `0` as an `O`; OCR read the digit, and the
        // check digits pass on what it read. The glyph is clear, but the digits are the authority.
        let truth = zone_lines(
            &Holder {
                surname: "OKONKWO".into(),
                given_names: "CHIDI".into(),
                document_number: "AB0123456".into(),
                country: "NLD".into(),
                birth: (1987, 3, 14),
                expiry: (2031, 11, 2),
                sex: 'M',
            },
            false,
        );
        let misprint = put(&truth, 0, 7, 'O');
        let mut zone = read_as(&misprint, &truth, &[]);
        let glyphs = zone.glyphs.clone();
        assert_eq!(glyphs.say((0, 7), '0', 'O'), Say::Supports);
        assert!(read_kinds(&mut zone, &glyphs).is_empty());
        assert_eq!(zone.lines, truth);
    }

    #[test]
    fn of_two_repairs_the_check_digits_allow_the_glyphs_rule_out_the_one_not_printed() {
        // `X4R8027Q1` read `X4RB027Q1`: `X4R8027Q1` and `X4RBD27Q1` both make every digit agree,
        // but the zone's own zeros show that cell 4 is a `0`, not a `D`.
        let truth = zone_lines(
            &Holder {
                surname: "LINDQVIST".into(),
                given_names: "ANNA MARIA".into(),
                document_number: "X4R8027Q1".into(),
                country: "SWE".into(),
                birth: (1987, 3, 14),
                expiry: (2031, 11, 2),
                sex: 'F',
            },
            true,
        );
        let read = put(&truth, 1, 3, 'B');
        let zone = read_as(&truth, &read, &[]);
        let (mut blind, mut conf) = (read.clone(), zone.confidences.clone());
        assert!(
            repair_tier(&mut blind, &mut conf, &Glyphs::default())
                .cells
                .is_empty()
        );
        let (mut seen, mut conf) = (read.clone(), zone.confidences.clone());
        let repaired = repair_tier(&mut seen, &mut conf, &zone.glyphs);
        assert_eq!(seen, truth);
        assert_eq!(repaired.cells, vec![(1, 3)]);
        assert_eq!(zone.glyphs.say((1, 4), '0', 'D'), Say::Contradicts);
    }

    #[test]
    fn a_repair_the_glyphs_support_is_marked_when_ocr_doubted_another_cell_of_the_field() {
        // A demo card's `OR0690627` read `0R0690627`: the glyph shows the `O` (the name's `O`s
        // and the dates' zeros are the yardstick), and with OCR sure of the rest, the repair is
        // a reading. With OCR unsure of the `9` as well, the check digits, spent on the `O`, no
        // longer vouch for the `9`: the repair is marked for the reviewer.
        let truth = zone_lines(
            &Holder {
                surname: "GOLDBERG".into(),
                given_names: "OLGA".into(),
                document_number: "OR0690627".into(),
                country: "NLD".into(),
                birth: (1980, 5, 6),
                expiry: (2031, 10, 20),
                sex: 'F',
            },
            true,
        );
        let read = put(&truth, 1, 0, '0');
        for (unsure, seen) in [(vec![], true), (vec![(1, 4)], false)] {
            let zone = read_as(&truth, &read, &unsure);
            let (mut lines, mut conf) = (read.clone(), zone.confidences.clone());
            let repaired = repair_tier(&mut lines, &mut conf, &zone.glyphs);
            assert_eq!(lines, truth);
            assert_eq!(repaired.seen, seen, "OCR unsure of {unsure:?}");
            if !seen {
                assert!(conf[1][0] <= crate::verify::local::confusion::REPAIRED);
            }
        }
    }

    #[test]
    fn a_repair_leaving_cells_the_glyphs_show_as_digits_is_not_made() {
        // `td3_isl_specimen.png` as the reader saw it (its `0`/`O`/`B`/`8` scores and its `O`/`0`
        // yardstick from the debug log, rounded; `Q` and `D` alike): the number `A0000000` read `ADQOOO00`, the templates turned `D` and `Q`
        // into `B`s. Putting `0` in the first `O` alone makes every check digit agree
        // (70 + 33 + 11 + 72 + 24 = 210), and the glyph there does show a `0`; but it shows
        // zeros under the next two `O`s as well, so the agreement is chance.
        let read = lines(&[
            "P<ISLAEVARSDOTTIR<<THURIDUR<OESP<<<<<<<<<<<<",
            "ABBOOO00<0ISL6612315F0905264311266<9539<<<32",
        ]);
        let zeros = |cell, zero, o| Glyph {
            cell,
            scores: vec![('0', zero), ('O', o), ('Q', 0.66), ('D', 0.58)],
        };
        let glyphs = Glyphs {
            cells: vec![
                Glyph {
                    cell: (1, 1),
                    scores: vec![('B', 0.819), ('8', 0.578)],
                },
                Glyph {
                    cell: (1, 2),
                    scores: vec![('B', 0.828), ('8', 0.590)],
                },
                zeros((1, 3), 0.842, 0.810),
                zeros((1, 4), 0.802, 0.786),
                zeros((1, 5), 0.845, 0.827),
                zeros((1, 6), 0.851, 0.836),
                zeros((1, 7), 0.834, 0.828),
            ],
            yardsticks: vec![
                Yardstick {
                    letter: 'O',
                    digit: '0',
                    letters: vec![0.187, 0.191],
                    digits: vec![-0.032, -0.045, -0.028],
                },
                // The specimen's name holds no `Q`; with one (as here) the glyphs also rule out
                // `Q` for the `0` in cell 6 (which passes too), and the lone `0` in cell 3 is
                // the only combination left standing: only the cells it leaves tell.
                Yardstick {
                    letter: 'Q',
                    digit: '0',
                    letters: vec![0.10, 0.12],
                    digits: vec![-0.170, -0.245, -0.209],
                },
            ],
        };
        let fixed = put(&read, 1, 3, '0');
        assert!(!all_pass(&read) && all_pass(&fixed));
        assert_eq!(glyphs.say((1, 3), 'O', '0'), Say::Supports);
        assert_eq!(glyphs.say((1, 4), 'O', '0'), Say::Supports);
        assert_eq!(glyphs.say((1, 6), '0', 'Q'), Say::Contradicts);
        let mut conf = vec![vec![0.95; 44]; 2];
        let mut kinds = ZoneText {
            lines: read.clone(),
            confidences: conf.clone(),
            ..ZoneText::default()
        };
        assert!(
            read_kinds(&mut kinds, &glyphs).is_empty(),
            "all three zeros fail"
        );
        let mut out = read.clone();
        let repaired = repair_tier(&mut out, &mut conf, &glyphs);
        assert!(repaired.cells.is_empty(), "repaired {:?}", repaired.cells);
        assert_eq!(out, read);
    }
}
