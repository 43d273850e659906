//! Tests of the check-digit-guided repair (`confusion.rs`).

use super::*;
use crate::verify::local::kind::all_pass;
use crate::verify::local::render::{Holder, zone_lines};

/// The zone of a passport (or ID card) with document number `number`.
fn printed(number: &str, passport: bool) -> Vec<String> {
    zone_lines(
        &Holder {
            surname: "GOLDBERG".into(),
            given_names: "OLGA".into(),
            document_number: number.into(),
            country: "NLD".into(),
            birth: (1980, 5, 6),
            expiry: (2031, 10, 20),
            sex: 'F',
        },
        passport,
    )
}

/// `lines` with `ch` put in cell (`row`, `col`).
fn misread(lines: &[String], row: usize, col: usize, ch: char) -> Vec<String> {
    let mut out = lines.to_vec();
    let mut chars: Vec<char> = out[row].chars().collect();
    chars[col] = ch;
    out[row] = chars.into_iter().collect();
    out
}

#[test]
fn a_letter_read_as_a_digit_is_repaired_when_the_check_digits_agree() {
    // A demo card's number as Tesseract read it, surely: `0R0690627` for `OR0690627`.
    for passport in [true, false] {
        let truth = printed("OR0690627", passport);
        let (row, col) = if passport { (1, 0) } else { (0, 5) };
        let mut lines = misread(&truth, row, col, '0');
        assert!(!all_pass(&lines));
        let mut conf = vec![vec![0.95; truth[0].len()]; truth.len()];
        let changed = repair(&mut lines, &mut conf);
        assert_eq!(lines, truth, "passport {passport}");
        assert_eq!(changed, vec![(row, col)]);
        assert!(conf[row][col] <= REPAIRED);
    }
}

#[test]
fn two_swaps_are_made_only_where_ocr_was_unsure() {
    let truth = printed("PS2235925", true);
    let read = misread(&misread(&truth, 1, 7, 'Z'), 1, 8, 'S');
    let mut sure = vec![vec![0.95; 44]; 2];
    let mut lines = read.clone();
    assert!(repair(&mut lines, &mut sure).is_empty());
    assert_eq!(lines, read);
    let mut unsure = sure.clone();
    unsure[1][7] = 0.5;
    unsure[1][8] = 0.6;
    let mut lines = read.clone();
    assert_eq!(repair(&mut lines, &mut unsure), vec![(1, 7), (1, 8)]);
    assert_eq!(lines, truth);
}

#[test]
fn two_readings_that_both_agree_are_left_as_read() {
    // `X4RB027Q1` for `X4R8027Q1`: `X4R8027Q1` and `X4RBD27Q1` both make every digit agree.
    let truth = printed("X4R8027Q1", true);
    let read = misread(&truth, 1, 3, 'B');
    assert!(all_pass(&misread(&read, 1, 3, '8')) && all_pass(&misread(&read, 1, 4, 'D')));
    let mut lines = read.clone();
    assert!(repair(&mut lines, &mut vec![vec![0.5; 44]; 2]).is_empty());
    assert_eq!(lines, read);
}

#[test]
fn printed_invalid_zones_stay_invalid() {
    // The specimens whose printed zone is itself invalid, read exactly, surely or not.
    let zones: [&[&str]; 3] = [
        &[
            "C1USA0223456791EAC9730051220<<",
            "4910040M9411014CAN<<<<<<<<<<<0",
            "CRITTENDEN<<LEE<W<<<<<<<<<<<<<",
        ],
        &[
            "IDCMW<512849702<<<<<<<<<<<<<<<",
            "6104128M1402209CMW<<<<<<<<<<<1",
            "PUBLIC<<JON<<<<<<<<<<<<<<<<<<<",
        ],
        &[
            "IDAUT000009993<<<<<<<<<<<<<<<<",
            "7109094F111231AUT<<<<<<<<<<<<0",
            "MUSTERFRAU<<ISOLDE<<<<<<<<<<<<",
        ],
    ];
    for zone in zones {
        for confidence in [0.95, 0.5] {
            let mut lines: Vec<String> = zone.iter().map(|l| l.to_string()).collect();
            let mut conf = vec![vec![confidence; 30]; 3];
            repair(&mut lines, &mut conf);
            assert!(!all_pass(&lines), "{lines:?} at {confidence}");
        }
    }
}

#[test]
fn a_lookalike_the_check_digits_cannot_see_is_doubted_not_guessed() {
    // `OO` for `00` in cells weighted 7 and 3 changes no check digit (24 x 10).
    let truth = printed("OO3674083", true);
    let read = misread(&misread(&truth, 1, 0, '0'), 1, 1, '0');
    assert!(all_pass(&read) && all_pass(&truth));
    let mut conf = vec![vec![0.95; 44]; 2];
    // Read surely: nothing to doubt. Read unsure: doubted, and left as read.
    assert!(blind_spots(&read, &conf, &Glyphs::default()).is_empty());
    conf[1][0] = 0.7;
    conf[1][1] = 0.7;
    let mut lines = read.clone();
    assert!(repair(&mut lines, &mut conf.clone()).is_empty());
    assert_eq!(lines, read);
    assert_eq!(
        blind_spots(&read, &conf, &Glyphs::default()),
        vec![(1, 0), (1, 1)]
    );
}

#[test]
fn fields_no_check_digit_covers_are_never_guessed() {
    // A visa's optional data (`IFLND00AMS` read `IFLNDOOAMS`): no check digit covers it.
    let visa = [
        "VIUSATRAVELER<<HAPPYPERSON<<<<<<<<<<<<<<<<<<".to_string(),
        "555123ABC6GBR6502056F0412236IFLNDOOAMS803085".to_string(),
    ];
    let mut lines = visa.to_vec();
    assert!(repair(&mut lines, &mut vec![vec![0.5; 44]; 2]).is_empty());
    assert_eq!(lines, visa);
    // With its number misread too, only the number is repaired.
    let mut lines = misread(&visa, 1, 2, 'S');
    let changed = repair(&mut lines, &mut vec![vec![0.5; 44]; 2]);
    assert_eq!(changed, vec![(1, 2)]);
    assert_eq!(lines, visa);
    // Names: an `O` in the name is never swapped, even when that would make the zone agree
    // (the name row is outside every check digit, so it cannot).
    let truth = printed("OR0690627", true);
    let mut lines = misread(&truth, 1, 0, '0');
    repair(&mut lines, &mut vec![vec![0.5; 44]; 2]);
    assert_eq!(lines[0], truth[0]);
}
