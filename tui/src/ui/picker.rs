//! The picker of named views, over the list: each view's name, filter, sort and whose it is,
//! the selected one highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState};

use super::theme;
use crate::app::{App, ViewPicker};

/// The line above the picker.
pub fn title_line(app: &App) -> Line<'_> {
    let text = match app.picker.as_ref().and_then(|p| p.views.as_ref()) {
        Some(Ok(views)) => format!("Named views: {} (yours, then the team's)", views.len()),
        _ => "Named views".to_string(),
    };
    Line::styled(text, theme::heading())
}

/// Draws the views, or why there are none.
pub fn render(app: &App, picker: &ViewPicker, frame: &mut Frame, area: Rect) {
    let views = match &picker.views {
        None => {
            frame.render_widget(Line::styled("loading the views...", theme::dim()), area);
            return;
        }
        Some(Err(e)) => {
            let text = Line::styled(
                format!("the views did not come: {e}"),
                theme::alert(&app.theme),
            );
            frame.render_widget(Paragraph::new(text), area);
            return;
        }
        Some(Ok(views)) if views.is_empty() => {
            let text =
                "no named views yet: set a filter and sort, then press S to save them under a name";
            frame.render_widget(Line::styled(text, theme::dim()), area);
            return;
        }
        Some(Ok(views)) => views,
    };
    let cells: Vec<[String; 4]> = views
        .iter()
        .map(|v| {
            let order = if v.descending { "desc" } else { "asc" };
            let filter = match v.filter.is_empty() {
                true => "none".to_string(),
                false => v.filter.clone(),
            };
            let whose = match v.team {
                true => format!("team ({})", v.saved_by),
                false => "yours".to_string(),
            };
            [
                v.name.clone(),
                filter,
                format!("{} {order}", v.sort.as_str()),
                whose,
            ]
        })
        .collect();
    // Names, sorts and owners as wide as they are (up to a limit); the filter takes the rest.
    let widest = |column: usize, title: &str| {
        let longest = cells.iter().map(|c| c[column].chars().count()).max();
        let width = longest.unwrap_or(0).max(title.len()).min(28);
        u16::try_from(width).unwrap_or(28)
    };
    let widths = [
        Constraint::Length(widest(0, "view")),
        Constraint::Fill(1),
        Constraint::Length(widest(2, "sort")),
        Constraint::Length(widest(3, "whose")),
    ];
    let table = Table::new(cells.into_iter().map(Row::new), widths)
        .header(Row::new(["view", "filter", "sort", "whose"]).style(theme::dim()))
        .row_highlight_style(theme::selected())
        .highlight_symbol("> ");
    let mut state = TableState::default().with_selected(Some(picker.cursor));
    frame.render_stateful_widget(table, area, &mut state);
}
