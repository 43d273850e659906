//! The header: the program, the connection, and the counts per status beside it when they
//! fit, else on lines of their own (`App::count_lines`), never cut off.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::{App, Connection};
use crate::display::{COUNTS_BESIDE, TITLE};

/// Draws the header into `area`, as tall as `1 + app.count_lines().len()`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let style = match app.connection {
        Connection::Connecting => theme::dim(),
        Connection::Connected { .. } => ratatui::style::Style::new(),
        Connection::Down(_) => theme::alert(&app.theme),
    };
    let mut first = vec![
        Span::styled(TITLE.trim_end(), theme::heading()),
        Span::raw(&TITLE[TITLE.trim_end().len()..]),
        Span::styled(app.connection_text(), style),
    ];
    let words = app.count_words();
    let lines = app.count_lines();
    let mut out = Vec::new();
    if lines.is_empty() && !words.is_empty() {
        first.push(Span::raw(COUNTS_BESIDE.trim_end().to_string()));
        first.push(Span::raw(" "));
        first.extend(count_spans(app, &words));
    }
    out.push(Line::from(first));
    for range in lines {
        out.push(Line::from(count_spans(app, &words[range])));
    }
    frame.render_widget(Paragraph::new(out), area);
}

/// `42 cards: needs_review 12 ...`, each status name in its colour.
fn count_spans(
    app: &App,
    words: &[(Option<idreview_protocol::Status>, String)],
) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (i, (status, word)) in words.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        match status {
            Some(s) => {
                let (name, count) = word.split_at(s.as_str().len());
                spans.push(Span::styled(
                    name.to_string(),
                    theme::status(&app.theme, *s),
                ));
                spans.push(Span::raw(count.to_string()));
            }
            None => spans.push(Span::raw(word.clone())),
        }
    }
    spans
}
