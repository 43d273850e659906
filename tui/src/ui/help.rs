//! The help screen, generated from the key table: one section per context, keys that do the
//! same thing on one row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::App;
use crate::keys::{self, Context, HELP_COLUMNS};

/// Draws every binding of the app's key table, grouped by context, in two columns scrolled
/// together.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let halves = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).split(area);
    for (contexts, half) in HELP_COLUMNS.iter().zip(halves.iter()) {
        let column = column(app, contexts).scroll((app.help_scroll, 0));
        frame.render_widget(column, *half);
    }
}

fn column<'a>(app: &App, contexts: &[Context]) -> Paragraph<'a> {
    let mut lines = Vec::new();
    for context in contexts.iter().copied() {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(context.title(), theme::heading()));
        for (keys, help) in keys::help_rows(&app.keys, context) {
            lines.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(format!("{keys:<12}"), theme::key(&app.theme)),
                Span::raw(help),
            ]));
        }
    }
    Paragraph::new(lines)
}
