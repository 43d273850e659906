//! Drawing the console: pure functions of `&App` onto a frame. The chrome (header with counts
//! and connection, the filter line, the status line and the hint bar) lives here; each screen's
//! body has its own module.

mod columns;
mod dashboard;
mod detail;
mod header;
mod help;
mod image;
mod list;
mod picker;
mod results;
mod theme;
mod zone;

#[cfg(test)]
mod dashboard_tests;
#[cfg(test)]
mod review_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod triage_tests;
#[cfg(test)]
mod width_tests;
#[cfg(test)]
mod zone_tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::LineGauge;

use crate::app::{App, Prompt, Screen};

pub use image::ImageCache;

/// Draws the whole console for `app`, images in half blocks without keeping their encoding.
pub fn render(app: &App, frame: &mut Frame) {
    render_with(app, frame, &mut ImageCache::halfblocks());
}

/// Draws the whole console for `app`, images through `images`.
pub fn render_with(app: &App, frame: &mut Frame, images: &mut ImageCache) {
    let header_rows = 1 + u16::try_from(app.count_lines().len()).unwrap_or(0);
    let [header, subheader, body, status, hints] = Layout::vertical([
        Constraint::Length(header_rows),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::render(app, frame, header);
    if let Some(prompt) = &app.prompt {
        frame.render_widget(prompt_line(prompt), subheader);
    }
    if app.help {
        if app.prompt.is_none() {
            frame.render_widget(Line::styled("Keys", theme::heading()), subheader);
        }
        help::render(app, frame, body);
    } else {
        match (app.screen, &app.picker) {
            (Screen::List, Some(picker)) => {
                if app.prompt.is_none() {
                    frame.render_widget(picker::title_line(app), subheader);
                }
                picker::render(app, picker, frame, body);
            }
            (Screen::Dashboard, _) => {
                if app.prompt.is_none() {
                    frame.render_widget(dashboard::title_line(app), subheader);
                }
                dashboard::render(app, frame, body);
            }
            (Screen::List, None) => {
                if app.prompt.is_none() {
                    frame.render_widget(list::filter_line(app, subheader.width), subheader);
                }
                list::render(app, frame, body);
            }
            (Screen::Detail, _) => {
                if app.prompt.is_none() {
                    frame.render_widget(detail::title_line(app), subheader);
                }
                detail::render(app, frame, body, images);
            }
            (Screen::Results, _) => {
                if app.prompt.is_none() {
                    frame.render_widget(results::title_line(app), subheader);
                }
                results::render(app, frame, body);
            }
        }
    }
    match app.bulk.as_ref().filter(|run| run.total > 1) {
        Some(run) => {
            let ratio = run.done as f64 / run.total.max(1) as f64;
            let label = format!("{} {}/{} ", run.op.verb(), run.done, run.total);
            let gauge = LineGauge::default()
                .ratio(ratio.clamp(0.0, 1.0))
                .label(label)
                .filled_style(theme::level(&app.theme, crate::app::Level::Info));
            frame.render_widget(gauge, status);
        }
        None => frame.render_widget(status_line(app), status),
    }
    frame.render_widget(hint_line(app, hints.width), hints);
    place_cursor(app, frame, subheader);
}

/// The input line of an open filter bar or reason prompt, in place of the line under the
/// header.
fn prompt_line(prompt: &Prompt) -> Line<'_> {
    Line::from(vec![
        Span::styled(prompt.label(), theme::heading()),
        Span::raw(prompt.text.as_str()),
    ])
}

fn status_line(app: &App) -> Line<'_> {
    match &app.status {
        Some(status) => Line::styled(status.text.as_str(), theme::level(&app.theme, status.level)),
        None => Line::raw(""),
    }
}

/// The hints that fit in `width`, whole, most specific first.
fn hint_line(app: &App, width: u16) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0;
    for (i, (key, word)) in app.hints().into_iter().enumerate() {
        let sep = if i > 0 { 3 } else { 0 };
        let len = sep + key.chars().count() + 1 + word.chars().count();
        if used + len > usize::from(width) {
            break;
        }
        used += len;
        if i > 0 {
            spans.push(Span::styled(" · ", theme::dim()));
        }
        spans.push(Span::styled(key, theme::key(&app.theme)));
        spans.push(Span::raw(format!(" {word}")));
    }
    Line::from(spans)
}

/// Shows the terminal cursor where typing goes in an open prompt.
fn place_cursor(app: &App, frame: &mut Frame, row: Rect) {
    let Some(prompt) = app.prompt.as_ref().filter(|p| p.takes_text()) else {
        return;
    };
    let width = prompt.label().chars().count() + prompt.cursor;
    let x = row
        .x
        .saturating_add(u16::try_from(width).unwrap_or(u16::MAX))
        .min(row.right().saturating_sub(1));
    frame.set_cursor_position((x, row.y));
}
