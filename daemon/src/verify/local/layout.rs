//! The fixed grid of each ICAO 9303 zone format: where the check-digit-covered fields sit, which
//! cells hold only digits or only letters, and the repairs this alone allows: a letter in a
//! digit-only cell is the digit it resembles, a digit in a letter-only cell the letter, and a
//! name ends at three fillers. (Letters and digits in fields that may hold both are left to
//! the check digits: see `confusion`.)

/// A checked field: row, first column, length; its check digit follows it.
type Checked = (usize, usize, usize);

/// The zone formats by grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grid {
    /// Passport or visa type A: 2 x 44.
    Long,
    /// TD2 or visa type B: 2 x 36.
    Medium,
    /// ID card: 3 x 30.
    Card,
}

impl Grid {
    /// The grid of a zone with these rows.
    pub fn of(lines: &[String]) -> Option<Grid> {
        match (lines.len(), lines.first().map(|l| l.len())) {
            (3, Some(30)) => Some(Grid::Card),
            (2, Some(44)) => Some(Grid::Long),
            (2, Some(36)) => Some(Grid::Medium),
            _ => None,
        }
    }

    /// Fields with their own check digit.
    fn checked(self) -> &'static [Checked] {
        match self {
            Grid::Long | Grid::Medium => &[(1, 0, 9), (1, 13, 6), (1, 21, 6)],
            Grid::Card => &[(0, 5, 9), (1, 0, 6), (1, 8, 6)],
        }
    }

    /// Cells that only ever hold a letter or a filler: codes, the name (row, from, to).
    fn letters(self) -> &'static [(usize, usize, usize)] {
        match self {
            Grid::Long => &[(0, 0, 1), (0, 2, 44), (1, 10, 13)],
            Grid::Medium => &[(0, 0, 1), (0, 2, 36), (1, 10, 13)],
            Grid::Card => &[(0, 0, 1), (0, 2, 5), (1, 15, 18), (2, 0, 30)],
        }
    }

    /// Cells that only ever hold a digit: dates and their check digits (row, from, to).
    fn digits(self) -> &'static [(usize, usize, usize)] {
        match self {
            Grid::Long | Grid::Medium => &[(1, 13, 20), (1, 21, 28)],
            Grid::Card => &[(1, 0, 7), (1, 8, 15)],
        }
    }
}

/// Whether the layout lets cell (`row`, `col`) of `lines` hold `ch`: the document code's first
/// letter is the format's (`I`, `A`, `C` on cards, `P` or `V` in a long zone), names and codes
/// hold letters or fillers, check digits a digit or a filler (an empty field's), dates digits;
/// other cells anything.
pub fn allows(lines: &[String], row: usize, col: usize, ch: char) -> bool {
    let Some(grid) = Grid::of(lines) else {
        return true;
    };
    // The French national identity card prints two rows of 36 on a layout of its own.
    if grid == Grid::Medium && lines[0].starts_with("IDFRA") {
        return true;
    }
    if (row, col) == (0, 0) {
        return match grid {
            Grid::Card => matches!(ch, 'I' | 'A' | 'C'),
            Grid::Long => matches!(ch, 'P' | 'V'),
            Grid::Medium => matches!(ch, 'I' | 'A' | 'C' | 'P' | 'V'),
        };
    }
    let within = |cells: &[(usize, usize, usize)]| {
        cells
            .iter()
            .any(|&(r, from, to)| r == row && (from..to).contains(&col))
    };
    let visa = lines[0].starts_with('V');
    let check_digit = grid
        .checked()
        .iter()
        .any(|&(r, from, len)| (r, from + len) == (row, col))
        || match grid {
            // The personal number's and the composite check digits; a visa has neither.
            Grid::Long => !visa && row == 1 && col >= 42,
            Grid::Medium => !visa && (row, col) == (1, 35),
            Grid::Card => (row, col) == (1, 29),
        };
    if within(grid.letters()) {
        ch.is_ascii_uppercase() || ch == '<'
    } else if check_digit {
        ch.is_ascii_digit() || ch == '<'
    } else if within(grid.digits()) {
        ch.is_ascii_digit()
    } else {
        true
    }
}

/// Cells that must hold a printed character (never an empty cell): the date digits, the check
/// digits and the last cell of the data row.
pub fn required_cells(lines: &[String]) -> Vec<(usize, usize)> {
    let Some(grid) = Grid::of(lines) else {
        return Vec::new();
    };
    let mut cells: Vec<(usize, usize)> = grid
        .digits()
        .iter()
        .flat_map(|&(row, from, to)| (from..to).map(move |c| (row, c)))
        .collect();
    cells.extend(
        grid.checked()
            .iter()
            .map(|&(row, from, len)| (row, from + len)),
    );
    // The composite check digit ends the data row (a visa's optional data ends it instead; a
    // filler there reads back as a filler).
    match grid {
        Grid::Long => cells.push((1, 43)),
        Grid::Medium => cells.push((1, 35)),
        Grid::Card => cells.push((1, 29)),
    }
    cells.sort_unstable();
    cells.dedup();
    // Check digits last in a row are the ones line reads drop: look at the row ends first.
    cells.sort_by_key(|&(row, col)| (std::cmp::Reverse(col), row));
    cells
}

/// The digit a letter in a digit-only cell stands for.
fn as_digit(c: char) -> Option<char> {
    Some(match c {
        'O' | 'Q' | 'D' | 'U' => '0',
        'I' | 'L' => '1',
        'Z' => '2',
        'A' => '4',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        _ => return None,
    })
}

/// The letter a digit in a letter-only cell stands for.
fn as_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'O',
        '1' => 'I',
        '2' => 'Z',
        '5' => 'S',
        '6' => 'G',
        '8' => 'B',
        _ => return None,
    })
}

/// Applies the grid's repairs to `lines` in place; changed cells get at most `0.7` confidence.
pub fn repair(lines: &mut [String], conf: &mut [Vec<f32>]) {
    let Some(grid) = Grid::of(lines) else {
        return;
    };
    if conf.len() < lines.len() {
        return;
    }
    let mut rows: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    for &(row, from, to) in grid.letters() {
        for col in from..to {
            if let Some(l) = rows[row].get(col).copied().and_then(as_letter) {
                rows[row][col] = l;
                lower(&mut conf[row], col);
            }
        }
    }
    // Names are parted by at most two fillers: after a run of three the name has ended and
    // every later cell is a filler.
    let (name_row, name_from) = match grid {
        Grid::Card => (2, 0),
        Grid::Long | Grid::Medium => (0, 5),
    };
    if let Some(name) = rows.get_mut(name_row) {
        let mut run = 0;
        for (col, ch) in name.iter_mut().enumerate().skip(name_from) {
            if run >= 3 && *ch != '<' {
                *ch = '<';
                lower(&mut conf[name_row], col);
            }
            run = if *ch == '<' { run + 1 } else { 0 };
        }
    }
    for &(row, from, to) in grid.digits() {
        for col in from..to {
            if let Some(d) = rows[row].get(col).copied().and_then(as_digit) {
                rows[row][col] = d;
                lower(&mut conf[row], col);
            }
        }
    }
    // A check digit cell holds a digit (or, after a long TD1 number, a filler).
    for &(row, from, len) in grid.checked() {
        if let Some(d) = rows[row].get(from + len).copied().and_then(as_digit) {
            rows[row][from + len] = d;
            lower(&mut conf[row], from + len);
        }
    }
    for (line, row) in lines.iter_mut().zip(rows) {
        *line = row.into_iter().collect();
    }
}

/// Caps a repaired cell's confidence: the repair is a guess the check digits may not cover.
fn lower(conf: &mut [f32], col: usize) {
    if let Some(c) = conf.get_mut(col) {
        *c = c.min(0.7);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_allow_only_what_the_format_prints_there() {
        let card = [
            "I<UTOD231458907<<<<<<<<<<<<<<<".to_string(),
            "7408122F1204159UTO<<<<<<<<<<<6".to_string(),
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<".to_string(),
        ];
        // A card's document code starts with I, A or C; a passport's with P (or V, a visa).
        assert!(allows(&card, 0, 0, 'I') && !allows(&card, 0, 0, 'L'));
        let passport = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<".to_string(),
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string(),
        ];
        assert!(allows(&passport, 0, 0, 'P') && !allows(&passport, 0, 0, 'F'));
        // No digit in a name, no letter in a date or a check digit.
        assert!(!allows(&card, 2, 20, '4') && allows(&card, 2, 20, '<'));
        assert!(!allows(&card, 1, 2, 'O') && allows(&card, 1, 2, '0'));
        assert!(!allows(&passport, 1, 43, 'G') && allows(&passport, 1, 43, '6'));
        // A document number holds anything.
        assert!(allows(&card, 0, 6, 'D') && allows(&card, 0, 6, '3'));
    }

    #[test]
    fn a_name_ends_at_three_fillers() {
        let mut lines = vec![
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<W<<".to_string(),
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string(),
        ];
        let mut conf = vec![vec![0.9; 44]; 2];
        repair(&mut lines, &mut conf);
        assert_eq!(lines[0], "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<");
        assert!(conf[0][41] <= 0.7);
    }
}
