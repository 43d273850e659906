//! The card list's columns and how they share the width: every column has a minimum and a
//! width its content wants (capped, so one long user id cannot take the screen); columns are
//! dropped lowest priority first until the minimums fit, then the room left goes to the
//! columns in priority order up to what they want.

use idreview_protocol::SortKey;

/// A column of the card list, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `*` on a marked card, else a red `!` on a reused document.
    Mark,
    Id,
    Holder,
    User,
    Type,
    Country,
    Status,
    Confidence,
    /// Why the card waits for a person (doubtful fields, findings, a failure).
    Needs,
    Age,
    Assignee,
}

impl Column {
    /// Every column, in the order shown.
    pub const ALL: [Column; 11] = [
        Column::Mark,
        Column::Id,
        Column::Holder,
        Column::User,
        Column::Type,
        Column::Country,
        Column::Status,
        Column::Confidence,
        Column::Needs,
        Column::Age,
        Column::Assignee,
    ];

    /// Columns that may go when the screen is narrow, the most wanted first (the order
    /// shown); the mark and id always stay.
    fn priority() -> &'static [Column] {
        &Column::ALL[2..]
    }

    /// The title, or a shorter one when the column is narrower.
    pub fn title(self, width: u16) -> &'static str {
        match self {
            Column::Mark => "",
            Column::Id => "id",
            Column::Holder => "holder",
            Column::User => "user",
            Column::Type => "type",
            Column::Country if width >= 8 => "country",
            Column::Country => "ctry",
            Column::Status => "status",
            Column::Confidence => "conf",
            Column::Needs => "needs",
            Column::Age => "age",
            Column::Assignee => "assignee",
        }
    }

    /// The sort key the column shows, if the list sorts by it.
    pub fn sort(self) -> Option<SortKey> {
        match self {
            Column::User => Some(SortKey::User),
            Column::Type => Some(SortKey::DocumentType),
            Column::Country => Some(SortKey::Country),
            Column::Status => Some(SortKey::Status),
            Column::Confidence => Some(SortKey::Confidence),
            Column::Age => Some(SortKey::Created),
            Column::Assignee => Some(SortKey::Assignee),
            _ => None,
        }
    }

    /// Narrowest the column is shown at: a user id keeps enough to tell users apart.
    fn min(self) -> u16 {
        match self {
            Column::Mark => 1,
            Column::Id => 2,
            Column::Holder => 10,
            Column::User => 12,
            Column::Type => 8,
            Column::Country => 4,
            // `auto_verified` whole.
            Column::Status => 13,
            Column::Confidence => 4,
            Column::Needs => 9,
            Column::Age => 3,
            Column::Assignee => 8,
        }
    }

    /// Widest the column grows, however long its content.
    fn cap(self) -> u16 {
        match self {
            Column::Mark => 1,
            Column::Id => 8,
            Column::Holder | Column::User => 32,
            Column::Needs => 28,
            Column::Assignee => 24,
            Column::Type => 16,
            _ => 13,
        }
    }
}

/// Spaces between columns (ratatui's default).
pub const SPACING: u16 = 1;

/// The columns shown in `width` and the width of each, in display order; `wants` is the
/// width a column's content and title want (a column whose content is narrower than its
/// minimum takes only that).
pub fn layout(width: u16, wants: impl Fn(Column) -> u16) -> Vec<(Column, u16)> {
    let want = |c: Column| wants(c).min(c.cap().max(c.min()));
    let fixed = |c: Column| matches!(c, Column::Mark | Column::Id);
    let mut shown: Vec<Column> = Column::ALL.to_vec();
    // Content shorter than the minimum needs no more than itself.
    let start = |c: Column| {
        if fixed(c) {
            want(c)
        } else {
            c.min().min(want(c))
        }
    };
    let needed = |shown: &[Column]| -> u16 {
        let gaps = SPACING * u16::try_from(shown.len().saturating_sub(1)).unwrap_or(0);
        shown.iter().map(|c| start(*c)).sum::<u16>() + gaps
    };
    for drop in Column::priority().iter().rev() {
        if needed(&shown) <= width {
            break;
        }
        shown.retain(|c| c != drop);
    }
    let mut room = width.saturating_sub(needed(&shown));
    let mut widths: Vec<(Column, u16)> = shown.iter().map(|c| (*c, start(*c))).collect();
    for column in Column::priority().iter().copied() {
        if let Some((_, w)) = widths.iter_mut().find(|(c, _)| *c == column) {
            let more = want(column).saturating_sub(*w).min(room);
            *w += more;
            room -= more;
        }
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide(c: Column) -> u16 {
        match c {
            Column::User => 120,
            Column::Holder => 20,
            Column::Mark => 1,
            Column::Id => 3,
            _ => 10,
        }
    }

    fn names(cols: &[(Column, u16)]) -> Vec<Column> {
        cols.iter().map(|(c, _)| *c).collect()
    }

    #[test]
    fn a_narrow_screen_drops_the_least_wanted_columns_first() {
        let cols = layout(78, wide);
        assert!(!names(&cols).contains(&Column::Assignee), "{cols:?}");
        assert!(names(&cols).contains(&Column::Age), "{cols:?}");
        let total: u16 = cols.iter().map(|(_, w)| w + SPACING).sum::<u16>() - SPACING;
        assert!(total <= 78, "{cols:?}");
        let user = cols.iter().find(|(c, _)| *c == Column::User).map(|c| c.1);
        assert!(user >= Some(12), "a user id keeps its minimum: {cols:?}");
    }

    #[test]
    fn a_wide_screen_shows_everything_and_caps_long_content() {
        let cols = layout(198, wide);
        assert_eq!(names(&cols), Column::ALL.to_vec());
        let user = cols.iter().find(|(c, _)| *c == Column::User).map(|c| c.1);
        assert_eq!(user, Some(32), "{cols:?}");
        let holder = cols.iter().find(|(c, _)| *c == Column::Holder).map(|c| c.1);
        assert_eq!(holder, Some(20), "the holder gets what it wants: {cols:?}");
    }

    #[test]
    fn room_goes_to_the_holder_before_the_user() {
        let cols = layout(80, |c| if c == Column::Mark { 1 } else { 40 });
        let width = |col| cols.iter().find(|(c, _)| *c == col).map(|c| c.1);
        assert!(width(Column::Holder) > Some(10), "{cols:?}");
        assert_eq!(width(Column::User), Some(12), "{cols:?}");
    }
}
