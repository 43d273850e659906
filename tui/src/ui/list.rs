//! The card list: the filter line above it and the table of the current page, with the
//! selection, colour-coded confidence, ages measured against the app's clock and the search
//! words highlighted; the columns fit the width (`columns`).

use std::borrow::Cow;

use idreview_protocol::CardSummary;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};

use super::columns::{Column, SPACING, layout};
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
    // The view's name goes first when it fits beside the rows (the status line names it too).
    if let Some(view) = &app.view_name {
        let named = format!("view {view}: {left}");
        if named.chars().count() + 2 + right.chars().count() <= usize::from(width) {
            left = named;
        }
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
            true => app.empty_hint.as_str(),
            false => "no cards match the filter (press / to change it)",
        };
        let text = Paragraph::new(text)
            .style(theme::dim())
            .wrap(Wrap { trim: true });
        frame.render_widget(text, area);
        return;
    }
    let sorted = app.list.query.sort;
    let arrow = if app.list.query.descending {
        "↓"
    } else {
        "↑"
    };
    let texts: Vec<[Cow<str>; COLUMNS]> = page.cards.iter().map(|c| cells(app, c)).collect();
    // What each column's content and title want, counted once (the layout asks often).
    let wants: [u16; COLUMNS] = std::array::from_fn(|at| {
        let column = Column::ALL[at];
        let content = texts.iter().map(|t| width_of(&t[at])).max().unwrap_or(0);
        // The mark column keeps its place when no row has a mark.
        let content = content.max(usize::from(column == Column::Mark));
        let title = width_of(column.title(u16::MAX)) + usize::from(column.sort() == Some(sorted));
        u16::try_from(content.max(title)).unwrap_or(u16::MAX)
    });
    // The highlight symbol takes two columns before the first.
    let columns = layout(area.width.saturating_sub(2), |column| wants[index(column)]);
    let titles = columns.iter().map(|(column, width)| {
        let title = column.title(*width);
        match column.sort() {
            Some(key) if key == sorted => format!("{title}{arrow}"),
            _ => title.to_string(),
        }
    });
    let header = Row::new(titles).style(theme::heading());
    let words = search_words(app);
    let rows = page.cards.iter().zip(texts).map(|(card, mut texts)| {
        let cells = columns.iter().map(|(column, width)| {
            let mut text = std::mem::take(&mut texts[index(*column)]);
            if *column == Column::Needs && width_of(&text) > usize::from(*width) {
                // Who gave the first approval matters more than the words around it.
                text = display::attention_in(card, true).into();
            }
            let text = fit(text, *width, *column == Column::User);
            cell(app, card, *column, text, &words)
        });
        Row::new(cells.collect::<Vec<_>>())
    });
    let widths = columns.iter().map(|(_, w)| Constraint::Length(*w));
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(SPACING)
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

/// Where a column's text is in [`cells`].
fn index(column: Column) -> usize {
    Column::ALL.iter().position(|c| *c == column).unwrap_or(0)
}

fn width_of(text: &str) -> usize {
    text.chars().count()
}

const COLUMNS: usize = Column::ALL.len();

/// Every column's text for `card`, in [`Column::ALL`] order, borrowed from the card where it
/// can be (a frame is drawn often; the list rows are most of it).
fn cells<'a>(app: &App, card: &'a CardSummary) -> [Cow<'a, str>; COLUMNS] {
    Column::ALL.map(|column| match column {
        Column::Mark => match (app.list.marks.contains_key(&card.id), card.duplicate) {
            (true, _) => "*".into(),
            (false, true) => "!".into(),
            (false, false) => "".into(),
        },
        Column::Id => card.id.to_string().into(),
        Column::Holder => display::or_dash(card.holder.as_deref()).into(),
        Column::User => card.user_id.as_str().into(),
        Column::Type => card.document_type.as_str().into(),
        Column::Country => display::or_dash(card.country.as_deref()).into(),
        Column::Status => card.status.as_str().into(),
        Column::Confidence => display::confidence(card.confidence).into(),
        Column::Needs => display::attention(card).into(),
        Column::Age => display::age(card.created_at, app.now).into(),
        Column::Assignee => display::or_dash(card.assignee.as_deref()).into(),
    })
}

/// `text` in `width` columns: cut at the end with `…`, or for a user id in the middle (the
/// end tells users apart: `demo-42-…-17`).
fn fit(text: Cow<'_, str>, width: u16, middle: bool) -> Cow<'_, str> {
    let width = usize::from(width);
    if text.chars().count() <= width {
        return text;
    }
    let chars: Vec<char> = text.chars().collect();
    if width <= 1 {
        return chars.iter().take(width).collect::<String>().into();
    }
    let keep = width - 1;
    let (head, tail) = match middle {
        true => (keep - keep / 2, keep / 2),
        false => (keep, 0),
    };
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out.into()
}

/// The filter's free-text words, lower-case: what the list highlights.
fn search_words(app: &App) -> Vec<String> {
    let text = app.list.query.filter.text.as_deref().unwrap_or_default();
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// One cell; a text is one span (a cell made from a string would be split into lines and
/// copied again).
fn cell<'a>(
    app: &App,
    card: &CardSummary,
    column: Column,
    text: Cow<'a, str>,
    words: &[String],
) -> Cell<'a> {
    let plain = |text| Cell::from(Line::from(Span::raw(text)));
    if text.is_empty() {
        // Most rows' mark: nothing to draw.
        return Cell::new(Text::default());
    }
    match column {
        // A reused document: red in the mark column (always shown) and in why it waits.
        Column::Mark | Column::Needs if card.duplicate => {
            plain(text).style(theme::alert(&app.theme))
        }
        Column::Needs if card.pending_approval.is_some() => {
            plain(text).style(theme::pending(&app.theme))
        }
        Column::Status => plain(text).style(theme::status(&app.theme, card.status)),
        Column::Confidence => plain(text).style(theme::confidence(&app.theme, card.confidence)),
        Column::Holder | Column::User | Column::Country if !words.is_empty() => {
            Cell::from(Line::from(highlighted(app, &text, words)))
        }
        _ => plain(text),
    }
}

/// `text` with every occurrence of a search word (any case) in the match style.
fn highlighted(app: &App, text: &str, words: &[String]) -> Vec<Span<'static>> {
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let chars: Vec<char> = text.chars().collect();
    if lower.len() != chars.len() {
        return vec![Span::raw(text.to_string())];
    }
    let mut hit = vec![false; chars.len()];
    for word in words {
        let word: Vec<char> = word.chars().collect();
        if word.is_empty() || word.len() > lower.len() {
            continue;
        }
        for start in 0..=lower.len() - word.len() {
            if lower[start..start + word.len()] == word[..] {
                hit[start..start + word.len()]
                    .iter_mut()
                    .for_each(|h| *h = true);
            }
        }
    }
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let on = hit[i];
        let run = hit[i..].iter().take_while(|h| **h == on).count();
        let piece: String = chars[i..i + run].iter().collect();
        spans.push(match on {
            true => Span::styled(piece, theme::search_match(&app.theme)),
            false => Span::raw(piece),
        });
        i += run;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn long_texts_are_cut_with_an_ellipsis_user_ids_in_the_middle() {
        assert_eq!(fit("demo-1733500000-12".into(), 12, true), "demo-1…00-12");
        assert_eq!(fit("national_id".into(), 8, false), "nationa…");
        assert_eq!(fit("short".into(), 8, false), "short");
    }
}
