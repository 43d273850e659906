//! The card list: the filter line above it and the table of the current page, with the
//! selection, colour-coded confidence and ages measured against the app's clock.

use idreview_protocol::{CardSummary, SortKey};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::theme;
use crate::app::{App, rows_label};
use crate::display;

/// The line above the table: the filter in force, the sort and the row range.
pub fn filter_line(app: &App, width: u16) -> Line<'_> {
    let query = &app.list.query;
    let filter = match query.filter.is_empty() {
        true => "none".to_string(),
        false => query.filter.to_query_string(),
    };
    let order = if query.descending { "desc" } else { "asc" };
    let mut left = format!("filter: {filter}  sort: {} {order}", query.sort.as_str());
    if !app.list.marks.is_empty() {
        left.push_str(&format!("  marked: {}", app.list.marks.len()));
    }
    let mut right = app.list.page.as_ref().map(rows_label).unwrap_or_default();
    if app.list.loading.busy {
        right = format!("loading... {right}");
    }
    let gap = usize::from(width)
        .saturating_sub(left.chars().count() + right.chars().count())
        .max(2);
    Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(gap)),
        Span::styled(right, theme::dim()),
    ])
}

/// Draws the current page as a table.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(page) = &app.list.page else {
        let text = match app.list.loading.busy {
            true => "loading cards...",
            false => "no cards loaded yet",
        };
        frame.render_widget(Paragraph::new(text).style(theme::dim()), area);
        return;
    };
    if page.cards.is_empty() {
        let text = match app.list.query.filter.is_empty() {
            true => "no cards yet",
            false => "no cards match the filter (press / to change it)",
        };
        frame.render_widget(Paragraph::new(text).style(theme::dim()), area);
        return;
    }
    let sorted = app.list.query.sort;
    let arrow = if app.list.query.descending {
        "↓"
    } else {
        "↑"
    };
    let titles = COLUMNS.map(|(title, key)| match key {
        Some(key) if key == sorted => format!("{title}{arrow}"),
        _ => title.to_string(),
    });
    let header = Row::new(titles).style(theme::heading());
    let rows = page.cards.iter().map(|card| row(app, card));
    let widths = [
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(13),
        Constraint::Length(5),
        Constraint::Length(16),
        Constraint::Length(4),
        Constraint::Length(12),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(theme::selected())
        .highlight_symbol("> ")
        .highlight_spacing(HighlightSpacing::Always);
    let selected = app
        .list
        .selected()
        .map(|_| app.list.cursor.saturating_sub(page.offset));
    let mut state =
        TableState::default().with_selected(selected.and_then(|i| usize::try_from(i).ok()));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Column titles and the sort key each shows; the first column holds the mark.
const COLUMNS: [(&str, Option<SortKey>); 10] = [
    ("", None),
    ("id", None),
    ("user", Some(SortKey::User)),
    ("type", Some(SortKey::DocumentType)),
    ("country", Some(SortKey::Country)),
    ("status", Some(SortKey::Status)),
    ("conf", Some(SortKey::Confidence)),
    ("needs", None),
    ("age", Some(SortKey::Created)),
    ("assignee", Some(SortKey::Assignee)),
];

fn row<'a>(app: &App, card: &'a CardSummary) -> Row<'a> {
    let mark = match app.list.marks.contains_key(&card.id) {
        true => "*",
        false => " ",
    };
    Row::new([
        Cell::from(mark),
        Cell::from(card.id.to_string()),
        Cell::from(card.user_id.as_str()),
        Cell::from(card.document_type.as_str()),
        Cell::from(display::or_dash(card.country.as_deref())),
        Cell::from(card.status.as_str()).style(theme::status(&app.theme, card.status)),
        Cell::from(display::confidence(card.confidence))
            .style(theme::confidence(&app.theme, card.confidence)),
        Cell::from(display::attention(card)),
        Cell::from(display::age(card.created_at, app.now)),
        Cell::from(display::or_dash(card.assignee.as_deref())),
    ])
}
