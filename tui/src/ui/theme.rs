//! Colours and text styles of the console, in one place so that `NO_COLOR` switches every
//! colour off while bold, reverse and dim stay.

use idreview_protocol::{Severity, Status};
use ratatui::style::{Color, Modifier, Style};

use crate::app::{Level, Theme};
use crate::display::{Band, band};

fn fg(theme: &Theme, color: Color) -> Style {
    match theme.color {
        true => Style::new().fg(color),
        false => Style::new(),
    }
}

/// Red, yellow or green by the configured bands; plain for "no confidence".
pub fn confidence(theme: &Theme, value: Option<f32>) -> Style {
    match band(value, theme.bands) {
        Band::Low => fg(theme, Color::Red).add_modifier(Modifier::BOLD),
        Band::Medium => fg(theme, Color::Yellow),
        Band::High => fg(theme, Color::Green),
        Band::Unknown => Style::new().add_modifier(Modifier::DIM),
    }
}

/// A status by how much it still needs a reviewer.
pub fn status(theme: &Theme, status: Status) -> Style {
    match status {
        Status::NeedsReview => fg(theme, Color::Yellow),
        Status::Approved | Status::AutoVerified => fg(theme, Color::Green),
        Status::Rejected => fg(theme, Color::Red),
        Status::Received | Status::Uploading | Status::Verifying => fg(theme, Color::Cyan),
    }
}

/// A finding or warning by severity.
pub fn severity(theme: &Theme, severity: Severity) -> Style {
    match severity {
        Severity::Info => fg(theme, Color::Cyan),
        Severity::Warning => fg(theme, Color::Yellow),
        Severity::Error => fg(theme, Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// The status line.
pub fn level(theme: &Theme, level: Level) -> Style {
    match level {
        Level::Info => fg(theme, Color::Green),
        Level::Error => fg(theme, Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// The selected table row.
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// A search word found in a list cell.
pub fn search_match(theme: &Theme) -> Style {
    fg(theme, Color::Magenta).add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}

/// Headings and column titles.
pub fn heading() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// Keys in the hint bar and help.
pub fn key(theme: &Theme) -> Style {
    fg(theme, Color::Cyan).add_modifier(Modifier::BOLD)
}

/// Secondary text.
pub fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// A first approval awaiting the second (four eyes).
pub fn pending(theme: &Theme) -> Style {
    fg(theme, Color::Yellow).add_modifier(Modifier::BOLD)
}

/// A connection problem in the header; a reused document's mark in the list.
pub fn alert(theme: &Theme) -> Style {
    fg(theme, Color::Red).add_modifier(Modifier::BOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_keeps_modifiers_only() {
        let plain = Theme {
            bands: [0.5, 0.8],
            color: false,
        };
        assert_eq!(confidence(&plain, Some(0.3)).fg, None);
        assert!(
            confidence(&plain, Some(0.3))
                .add_modifier
                .contains(Modifier::BOLD)
        );
        let colored = Theme {
            color: true,
            ..plain
        };
        assert_eq!(confidence(&colored, Some(0.3)).fg, Some(Color::Red));
        assert_eq!(confidence(&colored, Some(0.6)).fg, Some(Color::Yellow));
        assert_eq!(confidence(&colored, Some(0.8)).fg, Some(Color::Green));
    }
}
