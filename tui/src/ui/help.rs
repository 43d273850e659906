//! The help screen, generated from the key table: one section per context, keys that do the
//! same thing on one row, two columns on a wide screen and one on a narrow one, each help text
//! wrapped under itself (`keys::help_layout`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::App;
use crate::keys::{self, HelpLine};

/// Draws every binding of the app's key table, grouped by context, in columns scrolled
/// together.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let columns = keys::help_layout(&app.keys, usize::from(area.width));
    let areas = Layout::horizontal(vec![Constraint::Fill(1); columns.len()]).split(area);
    for (column, part) in columns.into_iter().zip(areas.iter()) {
        let lines: Vec<Line> = column.into_iter().map(|l| line(app, l)).collect();
        frame.render_widget(Paragraph::new(lines).scroll((app.help_scroll, 0)), *part);
    }
}

fn line(app: &App, line: HelpLine) -> Line<'static> {
    match line {
        HelpLine::Heading(title) => Line::styled(title, theme::heading()),
        HelpLine::Blank => Line::raw(""),
        HelpLine::Row { keys, text } => Line::from(vec![
            Span::raw("  "),
            Span::styled(keys, theme::key(&app.theme)),
            Span::raw(text),
        ]),
    }
}
