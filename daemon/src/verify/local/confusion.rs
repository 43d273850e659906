//! Check-digit-guided repair of the zone's alphanumeric fields: the document number (and a
//! card's long number running on into its optional data), a passport's personal number, the
//! optional data of cards. Each cell there holding a character OCR confuses (`0`/`O`/`Q`/`D`,
//! `1`/`I`, `2`/`Z`, `5`/`S`, `6`/`G`, `8`/`B`) may be read as another of its group, and a run
//! of digit-like letters touching digits as those digits; the one combination of such swaps
//! that makes every check digit of the zone pass (the field's own and the composite) is taken,
//! the likeliest kind of misread and the fewest swaps first, and only when it is the only one
//! of its kind: when two pass, the zone stays as read. Fields no check digit covers (names, codes, a visa's
//! optional data) are never touched, and neither is a zone whose dates fail (a misread digit
//! there would let a swap elsewhere paper over it).

use super::kind::{self, Glyphs, Say};
use super::layout::Grid;
use super::repair::SURE;

/// Characters OCR takes for one another in MRZ type.
pub(super) const GROUPS: &[&[char]] = &[
    &['0', 'O', 'Q', 'D'],
    &['1', 'I'],
    &['2', 'Z'],
    &['5', 'S'],
    &['6', 'G'],
    &['8', 'B'],
];

/// Most cells one repair may change: one anywhere, two among cells OCR was unsure of.
const MAX_SWAPS: usize = 2;

/// Most combinations tried per zone (a bound on the time a garbage read can cost).
const MAX_TRIED: usize = 4000;

/// Confidence a repaired cell keeps at most.
pub const REPAIRED: f32 = 0.6;

/// The other characters of `c`'s group.
fn alternatives(c: char) -> Vec<char> {
    GROUPS
        .iter()
        .find(|g| g.contains(&c))
        .map(|g| g.iter().copied().filter(|&a| a != c).collect())
        .unwrap_or_default()
}

/// Cells (row, column) of alphanumeric fields a check digit covers, each with whether a check
/// digit of its own covers it (not only the composite).
pub(super) fn checked_cells(lines: &[String]) -> Vec<(usize, usize, bool)> {
    let Some(grid) = Grid::of(lines) else {
        return Vec::new();
    };
    let visa = lines[0].starts_with('V');
    // (row, from, to, own check digit)
    let spans: &[(usize, usize, usize, bool)] = match grid {
        // A visa's optional data has no check digit over it, nor a composite.
        Grid::Long | Grid::Medium if visa => &[(1, 0, 9, true)],
        Grid::Long => &[(1, 0, 9, true), (1, 28, 42, true)],
        // The French national identity card prints its own layout on this grid.
        Grid::Medium if lines[0].starts_with("IDFRA") => &[],
        Grid::Medium => &[(1, 0, 9, true), (1, 28, 35, false)],
        // A long number runs on into the first optional data: the composite covers it all.
        Grid::Card => &[(0, 5, 14, true), (0, 15, 30, false), (1, 18, 29, false)],
    };
    spans
        .iter()
        .flat_map(|&(row, from, to, own)| (from..to).map(move |col| (row, col, own)))
        .collect()
}

/// The zone parsed as it stands (no repair of the `mrz` crate's).
pub fn parse_direct(lines: &[String]) -> Option<mrz::MrzData> {
    match lines {
        [a, b, c] => mrz::parse_td1(a, b, c).ok(),
        [a, b] if a.len() == 44 && a.starts_with('V') => mrz::parse_mrv_a(a, b).ok(),
        [a, b] if a.len() == 44 => mrz::parse_td3(a, b).ok(),
        [a, b] if a.len() == 36 && a.starts_with('V') => mrz::parse_mrv_b(a, b).ok(),
        [a, b] if a.len() == 36 => mrz::parse_td2(a, b).ok(),
        _ => None,
    }
}

/// Cells of the check digits over the alphanumeric fields of [`checked_cells`]: each field's
/// own and the composite.
fn check_digit_cells(lines: &[String]) -> Vec<(usize, usize)> {
    let visa = lines.first().is_some_and(|l| l.starts_with('V'));
    match Grid::of(lines) {
        None => Vec::new(),
        Some(Grid::Long | Grid::Medium) if visa => vec![(1, 9)],
        Some(Grid::Long) => vec![(1, 9), (1, 42), (1, 43)],
        Some(Grid::Medium) if lines[0].starts_with("IDFRA") => Vec::new(),
        Some(Grid::Medium) => vec![(1, 9), (1, 35)],
        Some(Grid::Card) => vec![(0, 14), (1, 29)],
    }
}

/// Whether OCR was sure (at least [`SURE`]) of every cell of the zone's checked alphanumeric
/// fields and of their check digits but the `changed` ones. A repair that makes every check
/// digit pass spends the check digits on the cells it changed: they vouch for the rest of the
/// field only if nothing else there was in doubt (`ABBOOO00` for `A0000000`: the templates had
/// overruled OCR in the `B`s, and one `O` put back to `0` made the digits agree by chance).
pub(super) fn rest_sure(lines: &[String], conf: &[Vec<f32>], changed: &[(usize, usize)]) -> bool {
    checked_cells(lines)
        .into_iter()
        .map(|(r, c, _)| (r, c))
        .chain(check_digit_cells(lines))
        .filter(|cell| !changed.contains(cell))
        .all(|(r, c)| {
            conf.get(r)
                .and_then(|v| v.get(c))
                .is_none_or(|v| *v >= SURE)
        })
}

/// One possible change: the cells it rewrites (one, or a run), the character it puts there, and
/// what it costs (the highest confidence OCR had in what it read there).
#[derive(Debug, Clone)]
struct Swap {
    cells: Vec<(usize, usize)>,
    to: char,
    cost: f32,
    /// A check digit of the cells' own field covers them, besides the composite.
    own: bool,
}

impl Swap {
    /// Whether this swap may be one of `size`: a lone swap in a field with its own check digit
    /// whatever OCR's confidence (that digit and the composite both vouch for it); otherwise
    /// only where OCR was unsure (one check digit alone agrees by chance one time in ten).
    fn allowed(&self, size: usize) -> bool {
        self.cost < SURE || (size == 1 && self.own)
    }
}

/// The digit a letter OCR reads for it stands for.
pub(super) fn digit_of(c: char) -> Option<char> {
    Some(match c {
        'O' | 'Q' | 'D' => '0',
        'I' => '1',
        'Z' => '2',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        _ => return None,
    })
}

/// Runs of two or more letters that stand for the same digit (`O`, `Q`, `D` for `0`...), in one
/// field (`cells`, left to right), touching a digit in their row (the field's own, or the
/// check digit after it), each turned back into that digit: Tesseract's stock model reads a
/// run of zeros as `O`s (or `D`s, `Q`s) next to the number's other digits. One run is one
/// decision.
fn letter_runs(rows: &[Vec<char>], cells: &[(usize, usize, bool)], conf: &[Vec<f32>]) -> Vec<Swap> {
    let at = |i: usize| rows[cells[i].0][cells[i].1];
    let next = |i: usize, j: usize| cells[i].0 == cells[j].0 && cells[j].1 == cells[i].1 + 1;
    let digit_at = |row: usize, col: Option<usize>| {
        col.and_then(|c| rows[row].get(c))
            .is_some_and(char::is_ascii_digit)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let Some(digit) = digit_of(at(i)) else {
            i += 1;
            continue;
        };
        let start = i;
        while i + 1 < cells.len() && next(i, i + 1) && digit_of(at(i + 1)) == Some(digit) {
            i += 1;
        }
        let end = i;
        i += 1;
        let (row, first, last) = (cells[start].0, cells[start].1, cells[end].1);
        let touching = digit_at(row, first.checked_sub(1)) || digit_at(row, Some(last + 1));
        if end > start && touching {
            let run: Vec<(usize, usize)> =
                (start..=end).map(|k| (cells[k].0, cells[k].1)).collect();
            let cost = run
                .iter()
                .map(|&(r, c)| conf.get(r).and_then(|v| v.get(c)).copied().unwrap_or(1.0))
                .fold(0.0, f32::max);
            out.push(Swap {
                cells: run,
                to: digit,
                cost,
                own: cells[start].2,
            });
        }
    }
    out
}

/// Runs of two or more of one confusable character in one field, each swapped whole for every
/// other character of its group (`00` as `OO`, `SS` as `55`): the changes a check digit may
/// be blind to (see [`blind_spots`]).
fn uniform_runs(rows: &[Vec<char>], cells: &[(usize, usize, bool)]) -> Vec<Swap> {
    let at = |i: usize| rows[cells[i].0][cells[i].1];
    let next = |i: usize, j: usize| cells[i].0 == cells[j].0 && cells[j].1 == cells[i].1 + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        let start = i;
        while i + 1 < cells.len() && next(i, i + 1) && at(i + 1) == at(start) {
            i += 1;
        }
        let end = i;
        i += 1;
        if end > start {
            let run: Vec<(usize, usize)> =
                (start..=end).map(|k| (cells[k].0, cells[k].1)).collect();
            for to in alternatives(at(start)) {
                out.push(Swap {
                    cells: run.clone(),
                    to,
                    cost: 0.0,
                    own: cells[start].2,
                });
            }
        }
    }
    out
}

/// `rows` with `chosen` applied.
fn apply(rows: &[Vec<char>], chosen: &[&Swap]) -> Vec<Vec<char>> {
    let mut out = rows.to_vec();
    for s in chosen {
        for &(r, c) in &s.cells {
            out[r][c] = s.to;
        }
    }
    out
}

/// Repairs `lines` in place when exactly one combination of confusable swaps makes every
/// check digit pass; changed cells get at most [`REPAIRED`] confidence. Runs of digit-like
/// letters touching digits are tried first (each run one decision, the likeliest misread);
/// then single swaps, then pairs among cells OCR was unsure of, each tier only when the one
/// before found nothing. Answers the cells changed (empty when nothing was repaired).
#[cfg(test)]
pub fn repair(lines: &mut [String], conf: &mut [Vec<f32>]) -> Vec<(usize, usize)> {
    repair_tier(lines, conf, &Glyphs::default()).cells
}

/// What a check-digit-guided repair did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repaired {
    /// The cells changed (empty when nothing was repaired).
    pub cells: Vec<(usize, usize)>,
    /// The repair came from the lone-swap or pair tiers (a weaker proof than a run of zeros
    /// read as `O`s: worth looking for a reading that needs none).
    pub guessed: bool,
    /// The glyphs clearly show every character the repair put in (see `kind`): a reading both
    /// the check digits and the shapes vouch for, not a guess.
    pub seen: bool,
}

/// [`repair`], with the glyphs of the zone's lookalike cells as a second witness: a
/// combination whose swap the glyphs clearly contradict is not a candidate, and neither is one
/// that leaves a cell the glyphs clearly show as the other kind (`ABBOOO00` for `A0000000`:
/// putting `0` in the first `O` alone makes every digit agree by chance, while the glyphs show
/// zeros under the next two `O`s as well). When two combinations pass, the zone stays as read.
/// A repair is a reading, not a guess, only when the glyphs support every changed cell and OCR
/// was sure of every other cell of the checked fields and their check digits (see
/// [`rest_sure`]); its cells then keep 0.8, otherwise at most [`REPAIRED`].
pub fn repair_tier(lines: &mut [String], conf: &mut [Vec<f32>], glyphs: &Glyphs) -> Repaired {
    let Some(doc) = parse_direct(lines) else {
        return Repaired::default();
    };
    let c = &doc.checks;
    if c.all_valid() || c.date_of_birth == Some(false) || c.date_of_expiry == Some(false) {
        return Repaired::default();
    }
    let rows: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let cells: Vec<(usize, usize, bool)> = checked_cells(lines)
        .into_iter()
        .filter(|&(r, c, _)| rows.get(r).is_some_and(|row| c < row.len()))
        .collect();
    let mut singles: Vec<Swap> = Vec::new();
    for &(row, col, own) in &cells {
        let cost = conf
            .get(row)
            .and_then(|r| r.get(col))
            .copied()
            .unwrap_or(1.0);
        for to in alternatives(rows[row][col]) {
            singles.push(Swap {
                cells: vec![(row, col)],
                to,
                cost,
                own,
            });
        }
    }
    // The likeliest misreads first: the cells OCR was least sure of.
    singles.sort_by(|a, b| a.cost.total_cmp(&b.cost));
    let passes = |chosen: &[&Swap]| {
        let text: Vec<String> = apply(&rows, chosen)
            .iter()
            .map(|r| r.iter().collect())
            .collect();
        parse_direct(&text).is_some_and(|d| d.checks.all_valid())
    };
    // What the glyphs say of one swap: contradicted if any cell is, supported if all are.
    let witness = |s: &Swap| {
        let says: Vec<Say> = s
            .cells
            .iter()
            .map(|&(r, c)| glyphs.say((r, c), rows[r][c], s.to))
            .collect();
        if says.contains(&Say::Contradicts) {
            Say::Contradicts
        } else if says.iter().all(|s| *s == Say::Supports) {
            Say::Supports
        } else {
            Say::Unsure
        }
    };
    let runs = letter_runs(&rows, &cells, conf);
    let tiers: [(&[Swap], usize); 3] = [(&runs, 1), (&singles, 1), (&singles, MAX_SWAPS)];
    let mut tried = 0;
    for (tier, (pool, size)) in tiers.into_iter().enumerate() {
        // A swap the glyphs clearly contradict is no candidate.
        let pool: Vec<(&Swap, Say)> = pool
            .iter()
            .filter(|s| s.allowed(size))
            .map(|s| (s, witness(s)))
            .filter(|(_, say)| *say != Say::Contradicts)
            .collect();
        // Combinations that pass, each with whether the glyphs support all of its swaps.
        let mut hits: Vec<(Vec<&Swap>, bool)> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        combinations(pool.len(), size, &mut stack, &mut |picked: &[usize]| {
            let chosen: Vec<&Swap> = picked.iter().map(|&i| pool[i].0).collect();
            let distinct = chosen.iter().enumerate().all(|(i, a)| {
                chosen[..i]
                    .iter()
                    .all(|b| a.cells.iter().all(|cell| !b.cells.contains(cell)))
            });
            if !distinct {
                return tried < MAX_TRIED;
            }
            tried += 1;
            // A combination leaving a cell the glyphs show as the other kind agrees by chance.
            if passes(&chosen) && !glyphs.shows_otherwise(&apply(&rows, &chosen)) {
                let seen = picked.iter().all(|&i| pool[i].1 == Say::Supports);
                hits.push((chosen, seen));
            }
            hits.len() < 2 && tried < MAX_TRIED
        });
        let (chosen, supported) = match hits.len() {
            _ if tried >= MAX_TRIED => return Repaired::default(),
            0 => continue,
            1 => &hits[0],
            // Two combinations pass (neither ruled out by the glyphs): nothing tells them apart.
            _ => return Repaired::default(),
        };
        let repaired = apply(&rows, chosen);
        let mut changed = Vec::new();
        for (r, (new, old)) in repaired.iter().zip(&rows).enumerate() {
            for (c, (a, b)) in new.iter().zip(old).enumerate() {
                if a != b {
                    changed.push((r, c));
                }
            }
            lines[r] = new.iter().collect();
        }
        let seen = *supported && rest_sure(lines, conf, &changed);
        for &(r, c) in &changed {
            if let Some(v) = conf.get_mut(r).and_then(|row| row.get_mut(c)) {
                *v = if seen { kind::AGREED } else { v.min(REPAIRED) };
            }
        }
        return Repaired {
            cells: changed,
            guessed: tier > 0 && !seen,
            seen,
        };
    }
    Repaired::default()
}

/// Cells of a zone whose every check digit passes that a lookalike would fit as well: swapped
/// (alone, or as a run of one character), every check digit still passes (`G` for `6`, or `OO`
/// for `00` in cells weighted 7 and 3, change no check digit). Cells OCR was unsure of count,
/// and so does a run of digit-like letters next to a digit however surely read (`A00000OO<0`
/// as `AOOOOO00<0`: Tesseract's commonest misread of zeros). Nothing tells the two readings
/// apart but the glyphs: a swap they clearly contradict is no doubt (the cell shows what was
/// read); otherwise the field is left as read and marked doubtful for the reviewer.
pub fn blind_spots(lines: &[String], conf: &[Vec<f32>], glyphs: &Glyphs) -> Vec<(usize, usize)> {
    if !parse_direct(lines).is_some_and(|d| d.checks.all_valid()) {
        return Vec::new();
    }
    let rows: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let cells: Vec<(usize, usize, bool)> = checked_cells(lines)
        .into_iter()
        .filter(|&(r, c, _)| rows.get(r).is_some_and(|row| c < row.len()))
        .collect();
    let unsure = |r: usize, c: usize| {
        conf.get(r)
            .and_then(|v| v.get(c))
            .is_some_and(|v| *v < SURE)
    };
    let mut swaps = uniform_runs(&rows, &cells);
    for &(row, col, own) in &cells {
        for to in alternatives(rows[row][col]) {
            swaps.push(Swap {
                cells: vec![(row, col)],
                to,
                cost: 0.0,
                own,
            });
        }
    }
    let runs = letter_runs(&rows, &cells, conf);
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, swap) in swaps.iter().chain(&runs).enumerate() {
        if i < swaps.len() && !swap.cells.iter().all(|&(r, c)| unsure(r, c)) {
            continue;
        }
        if swap
            .cells
            .iter()
            .any(|&(r, c)| glyphs.say((r, c), rows[r][c], swap.to) == Say::Contradicts)
        {
            continue;
        }
        let text: Vec<String> = apply(&rows, &[swap])
            .iter()
            .map(|r| r.iter().collect())
            .collect();
        if parse_direct(&text).is_some_and(|d| d.checks.all_valid()) {
            for cell in &swap.cells {
                if !out.contains(cell) {
                    out.push(*cell);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// Calls `visit` with every `size`-subset of `0..n` (indices ascending) until it answers false;
/// answers whether the walk ran to its end.
fn combinations(
    n: usize,
    size: usize,
    stack: &mut Vec<usize>,
    visit: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    if stack.len() == size {
        return visit(stack);
    }
    let from = stack.last().map_or(0, |l| l + 1);
    for i in from..n {
        stack.push(i);
        let go_on = combinations(n, size, stack, visit);
        stack.pop();
        if !go_on {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[path = "confusion_tests.rs"]
mod tests;
