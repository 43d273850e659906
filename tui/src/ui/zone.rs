//! The machine-readable zone on the detail screen, as the reader saw it: each row in a fixed
//! font's columns, characters OCR was unsure of in reverse video and marked `^` on the line
//! under them, characters a check-digit repair changed underlined and marked `*`, so a reviewer
//! can tell an `O` from a `0` without squinting at the image. Cards read without a zone (ID
//! Analyzer, a failed read) have no section.

use idreview_protocol::{Card, RawZone};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::theme;
use crate::app::Theme;

/// The zone section's lines for `card`, if it has a zone.
pub fn lines(theme: &Theme, card: &Card, out: &mut Vec<Line<'_>>) {
    let Some(zone) = &card.raw_zone else {
        return;
    };
    if !out.is_empty() {
        out.push(Line::raw(""));
    }
    out.push(Line::styled(
        format!("Machine-readable zone ({} side)", zone.side.as_str()),
        theme::heading(),
    ));
    let threshold = theme.bands[1];
    out.push(Line::styled(
        format!(
            "  ^ read below {:.0}% sure   * changed by a check-digit repair",
            threshold * 100.0
        ),
        theme::dim(),
    ));
    for (r, row) in zone.rows.iter().enumerate() {
        let mut spans = vec![Span::raw("  ")];
        let mut marks = String::from("  ");
        for (c, ch) in row.text.chars().enumerate() {
            let confidence = row.confidences.get(c).copied().unwrap_or(0.0);
            let repaired = is_repaired(zone, r, c);
            let unsure = confidence < threshold;
            let mut style = match unsure {
                true => theme::confidence(theme, Some(confidence)).add_modifier(Modifier::REVERSED),
                false => ratatui::style::Style::new(),
            };
            if repaired {
                style = style.add_modifier(Modifier::UNDERLINED | Modifier::BOLD);
            }
            spans.push(Span::styled(ch.to_string(), style));
            marks.push(match (repaired, unsure) {
                (true, _) => '*',
                (false, true) => '^',
                (false, false) => ' ',
            });
        }
        out.push(Line::from(spans));
        out.push(Line::styled(marks.trim_end().to_string(), theme::dim()));
    }
}

fn is_repaired(zone: &RawZone, row: usize, column: usize) -> bool {
    zone.repaired
        .iter()
        .any(|&(r, c)| r as usize == row && c as usize == column)
}
