//! The header's shape at the terminal's width: what it says about the connection, the counts
//! per status, and whether those fit beside it or go on lines of their own. The app needs the
//! number of lines (a page holds what the rest of the screen leaves); the header draws the
//! same words.

use idreview_protocol::Status;

use super::{App, CHROME_ROWS, Connection, DETAIL_CHROME_ROWS};
use crate::display::{COUNTS_BESIDE, TITLE};

/// Narrowest screen on which the detail screen shows the image beside the text: the fields
/// take about 90 columns, the image the rest.
const SIDE_BY_SIDE_COLS: u16 = 160;

impl App {
    /// What the header says about the connection.
    pub fn connection_text(&self) -> String {
        match &self.connection {
            Connection::Connecting => "connecting...".into(),
            Connection::Connected { identity, role } => format!("{identity} ({role})"),
            Connection::Down(why) => format!("disconnected: {why}"),
        }
    }

    /// The header's counts as words that never break: `42 cards:` first, then `status n` for
    /// each status with cards (and always `needs_review`). Empty until the counts arrive.
    pub fn count_words(&self) -> Vec<(Option<Status>, String)> {
        let Some(health) = &self.health else {
            return vec![];
        };
        let mut words = vec![(None, format!("{} cards:", health.cards))];
        let shown = health
            .by_status
            .iter()
            .filter(|(s, n)| *n > 0 || *s == Status::NeedsReview);
        words.extend(shown.map(|(s, n)| (Some(*s), format!("{} {n}", s.as_str()))));
        // Submissions refused before they became cards (`idreview rejected` lists them).
        if health.rejected > 0 {
            words.push((None, format!("inbox-refused {}", health.rejected)));
        }
        words
    }

    /// The counts' words (indices into [`App::count_words`]) per line of their own; none when
    /// they fit beside the connection on the header's first line (or the width is unknown).
    pub fn count_lines(&self) -> Vec<std::ops::Range<usize>> {
        let words = self.count_words();
        let width = usize::from(self.cols);
        let lengths: Vec<usize> = words.iter().map(|(_, w)| w.chars().count()).collect();
        let all = lengths.iter().sum::<usize>() + lengths.len().saturating_sub(1);
        let first = TITLE.len() + self.connection_text().chars().count() + COUNTS_BESIDE.len();
        if words.is_empty() || width == 0 || first + all <= width {
            return vec![];
        }
        pack(&lengths, width)
    }

    /// Rows of the list screen that are not table rows.
    pub fn chrome_rows(&self) -> u16 {
        CHROME_ROWS + self.extra_header_rows()
    }

    /// Rows of the detail screen that are not its page.
    pub fn detail_chrome_rows(&self) -> u16 {
        DETAIL_CHROME_ROWS + self.extra_header_rows()
    }

    /// The detail screen is wide enough to show the image beside the text.
    pub fn side_by_side(&self) -> bool {
        self.cols >= SIDE_BY_SIDE_COLS
    }

    fn extra_header_rows(&self) -> u16 {
        u16::try_from(self.count_lines().len()).unwrap_or(u16::MAX)
    }
}

/// Words of `lengths` onto lines of `width`, one space between words; a word longer than a
/// line gets a line of its own.
fn pack(lengths: &[usize], width: usize) -> Vec<std::ops::Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, len) in lengths.iter().enumerate() {
        if i > start && used + 1 + len > width {
            lines.push(start..i);
            start = i;
            used = 0;
        }
        used += if i > start { 1 + len } else { *len };
    }
    if start < lengths.len() {
        lines.push(start..lengths.len());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_pack_onto_lines_without_breaking() {
        assert_eq!(pack(&[5, 5, 5], 11), vec![0..2, 2..3]);
        assert_eq!(pack(&[5, 5, 5], 17), vec![0..3]);
        assert_eq!(pack(&[20, 3], 10), vec![0..1, 1..2]);
        assert_eq!(pack(&[], 10), Vec::<std::ops::Range<usize>>::new());
    }

    #[test]
    fn refused_submissions_are_counted_when_there_are_any() {
        let mut app = App::new(
            crate::app::fixtures::now(),
            idreview_protocol::ListQuery::default(),
            crate::app::state::Theme::default(),
            false,
        );
        let mut health = crate::app::fixtures::health();
        app.health = Some(health.clone());
        let words =
            |app: &App| -> Vec<String> { app.count_words().into_iter().map(|(_, w)| w).collect() };
        assert!(!words(&app).iter().any(|w| w.starts_with("inbox-refused")));
        health.rejected = 3;
        app.health = Some(health);
        assert_eq!(
            words(&app).last().map(String::as_str),
            Some("inbox-refused 3")
        );
    }
}
