//! The results screen of a bulk run: how many cards took the action, and every card that did
//! not with its reason (conflicts, illegal transitions, claims held by others).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::{App, Level};

/// The line above the results: the counts.
pub fn title_line(app: &App) -> Line<'_> {
    let Some(report) = &app.report else {
        return Line::raw("");
    };
    let failed = report.failures.len();
    let unanswered = report.total - report.ok - failed;
    let mut spans = vec![
        Span::styled(
            format!("{} {} cards: ", report.op.verb(), report.total),
            theme::heading(),
        ),
        Span::styled(
            format!("{} {}", report.ok, report.op.done()),
            theme::level(&app.theme, Level::Info),
        ),
        Span::raw(format!(", {failed} failed")),
    ];
    if unanswered > 0 {
        spans.push(Span::raw(format!(", {unanswered} not sent")));
    }
    Line::from(spans)
}

/// Draws the failures, one per line, from the report's scroll position.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(report) = &app.report else {
        return;
    };
    let mut lines = Vec::new();
    if let Some(error) = &report.error {
        lines.push(Line::styled(
            format!("stopped early: {error}"),
            theme::alert(&app.theme),
        ));
    }
    if report.failures.is_empty() {
        lines.push(Line::styled("no failures", theme::dim()));
    }
    let start = usize::from(report.scroll);
    for (id, why) in report.failures.iter().skip(start) {
        lines.push(Line::from(vec![
            Span::styled(format!("  card {:<8}", id.to_string()), theme::heading()),
            Span::styled(why.as_str(), theme::level(&app.theme, Level::Error)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
