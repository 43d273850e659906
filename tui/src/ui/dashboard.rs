//! The dashboard screen: cards per status and document type, the review queue and its oldest
//! card, reviewers' decisions today and this week, the provider's auto-verified share, a
//! confidence histogram and the last day hour by hour (ratatui's `BarChart` and `Sparkline`).
//! Pure over the app's last [`Stats`]; at 80x24 the boxes share rows, at 120 columns and more
//! each gets its own and the charts grow with the window.

use chrono::{DateTime, Duration, Timelike, Utc};
use idreview_protocol::{Stats, Status};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Block, Paragraph, Row, Sparkline, Table};

use super::theme;
use crate::app::App;

/// Narrowest screen on which the document types get a box of their own.
const WIDE_COLS: u16 = 120;

/// The line above the dashboard: when the numbers were counted.
pub fn title_line(app: &App) -> Line<'_> {
    let counted = match &app.stats {
        Some(Ok(stats)) => format!(
            " · counted {} · updates with every change",
            local(stats.at, app.utc_offset_secs).format("%H:%M:%S")
        ),
        _ => String::new(),
    };
    Line::from(vec![
        Span::styled("Dashboard", theme::heading()),
        Span::styled(counted, theme::dim()),
    ])
}

/// Draws the dashboard into `area`.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let stats = match &app.stats {
        Some(Ok(stats)) => stats,
        Some(Err(e)) => {
            let text = format!("the numbers did not come: {e}; R tries again");
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme::alert(&app.theme))),
                area,
            );
            return;
        }
        None => {
            frame.render_widget(Line::styled("counting...", theme::dim()), area);
            return;
        }
    };
    let top_rows = (area.height / 3).clamp(9, 14);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_rows), Constraint::Fill(1)]).areas(area);
    if area.width >= WIDE_COLS {
        let [statuses, types, queue, reviewers] =
            Layout::horizontal([Constraint::Fill(1); 4]).areas(top);
        status_box(app, stats, frame, statuses);
        type_box(stats, frame, types, "Cards by type");
        queue_box(app, stats, frame, queue, false);
        reviewer_box(stats, frame, reviewers);
    } else {
        let [statuses, queue, reviewers] = Layout::horizontal([Constraint::Fill(1); 3]).areas(top);
        status_box(app, stats, frame, statuses);
        queue_box(app, stats, frame, queue, true);
        reviewer_box(stats, frame, reviewers);
    }
    let [confidence, hours] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(bottom);
    confidence_box(app, stats, frame, confidence);
    hours_box(app, stats, frame, hours);
}

/// `at` on the console's clock.
fn local(at: DateTime<Utc>, utc_offset_secs: i32) -> DateTime<Utc> {
    at + Duration::seconds(i64::from(utc_offset_secs))
}

fn boxed(title: String) -> Block<'static> {
    Block::bordered().title(Span::styled(title, theme::heading()))
}

/// Cards per status, a bar each in the status's colour.
fn status_box(app: &App, stats: &Stats, frame: &mut Frame, area: Rect) {
    let bars: Vec<Bar> = stats
        .by_status
        .iter()
        .map(|(status, n)| {
            Bar::default()
                .label(Line::styled(
                    status.as_str(),
                    theme::status(&app.theme, *status),
                ))
                .value(*n)
                .style(theme::status(&app.theme, *status))
        })
        .collect();
    let chart = BarChart::horizontal(bars)
        .block(boxed(format!("{} cards", stats.cards)))
        .bar_width(1)
        .bar_gap(0);
    frame.render_widget(chart, area);
}

/// Cards per document type.
fn type_box(stats: &Stats, frame: &mut Frame, area: Rect, title: &str) {
    let bars: Vec<Bar> = stats
        .by_type
        .iter()
        .map(|(t, n)| Bar::default().label(Line::raw(t.as_str())).value(*n))
        .collect();
    let mut chart = BarChart::horizontal(bars).bar_width(1).bar_gap(0);
    if !title.is_empty() {
        chart = chart.block(boxed(title.to_string()));
    }
    frame.render_widget(chart, area);
}

/// The review queue, its oldest card, the auto-verified share; the types under them when
/// `with_types` (narrow screens).
fn queue_box(app: &App, stats: &Stats, frame: &mut Frame, area: Rect, with_types: bool) {
    let block = boxed(match with_types {
        true => "Queue and types".into(),
        false => "Review queue".into(),
    });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let oldest = match stats.queue_oldest {
        Some(at) => span_text((app.now - at).num_seconds()),
        None => "-".into(),
    };
    let auto = match stats.auto_share() {
        Some(share) => format!("{:.0}% of {}", share * 100.0, stats.verified),
        None => "none in 7d".into(),
    };
    let row = |name: &str, value: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{name:<14}"), theme::dim()),
            Span::styled(value, style),
        ])
    };
    let queue_style = theme::status(&app.theme, Status::NeedsReview);
    let mut lines = vec![
        row(
            "needs review",
            format!("{} cards", stats.queue),
            queue_style,
        ),
        row("oldest waits", oldest, queue_style),
        row(
            "auto-verified",
            auto,
            theme::status(&app.theme, Status::AutoVerified),
        ),
    ];
    if !with_types {
        lines.push(Line::styled(
            format!(
                "(share of the cards verified in {} days)",
                Stats::WINDOW_DAYS
            ),
            theme::dim(),
        ));
    }
    let text_rows = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .min(inner.height);
    let [text, rest] =
        Layout::vertical([Constraint::Length(text_rows), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    if with_types {
        type_box(stats, frame, rest, "");
    }
}

/// Decisions per reviewer today and this week.
fn reviewer_box(stats: &Stats, frame: &mut Frame, area: Rect) {
    let block = boxed("Decisions".into());
    if stats.reviewers.is_empty() {
        let text = Line::styled("none this week", theme::dim());
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let rows = stats
        .reviewers
        .iter()
        .map(|r| Row::new([r.reviewer.clone(), r.today.to_string(), r.week.to_string()]));
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(5),
        ],
    )
    .header(Row::new(["reviewer", "today", "week"]).style(theme::dim()))
    .block(block);
    frame.render_widget(table, area);
}

/// How wide each of `n` bars is in `width` columns, and the gap between them.
fn bar_layout(width: u16, n: u16) -> (u16, u16) {
    let gap = 1;
    let spare = width.saturating_sub(gap * n.saturating_sub(1));
    match spare / n.max(1) {
        0 => (1, 0),
        w => (w, gap),
    }
}

/// Whether every value fits on its bar as text (else none is written: half the bars with a
/// number would read as the others having none).
fn values_fit(values: &[u64], width: u16) -> bool {
    values
        .iter()
        .all(|v| v.to_string().len() <= usize::from(width))
}

/// A bar's value as text when values are `shown`; blank otherwise, and for nothing.
fn value_text(value: u64, shown: bool) -> String {
    match shown && value > 0 {
        true => value.to_string(),
        false => String::new(),
    }
}

/// The confidence histogram, a bar per tenth in its band's colour.
fn confidence_box(app: &App, stats: &Stats, frame: &mut Frame, area: Rect) {
    let block = boxed(format!("Confidence by tenths ({} unrated)", stats.unrated));
    let inner = block.inner(area);
    let (width, gap) = bar_layout(inner.width, Stats::BUCKETS as u16);
    let shown = values_fit(&stats.confidence, width);
    let bars: Vec<Bar> = stats
        .confidence
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (from, to) = (i as f32 / 10.0, (i + 1) as f32 / 10.0);
            let label = match width {
                1 | 2 => format!("{i}"),
                3..=6 => format!("{from:.1}"),
                _ => format!("{from:.1}-{to:.1}"),
            };
            let style = theme::confidence(&app.theme, Some((i as f32 + 0.5) / 10.0));
            Bar::default()
                .label(Line::raw(label))
                .value(*n)
                .text_value(value_text(*n, shown))
                .style(style)
        })
        .collect();
    let chart = BarChart::vertical(bars)
        .block(block)
        .bar_width(width)
        .bar_gap(gap);
    frame.render_widget(chart, area);
}

/// Decisions per hour as bars (labelled with the hour when they are wide enough), and new
/// cards per hour as a sparkline under them.
fn hours_box(app: &App, stats: &Stats, frame: &mut Frame, area: Rect) {
    let total: u64 = stats.decisions_per_hour.iter().sum();
    let block = boxed(format!("Decisions per hour, last 24 h ({total} in all)"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let spark_rows = if inner.height >= 14 { 3 } else { 1 };
    let [bars_area, label, spark] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(spark_rows),
    ])
    .areas(inner);
    let (width, gap) = bar_layout(bars_area.width, Stats::HOURS as u16);
    let shown = values_fit(&stats.decisions_per_hour, width);
    let now = local(stats.at, app.utc_offset_secs);
    let bars: Vec<Bar> = stats
        .decisions_per_hour
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let hour = now - Duration::hours((Stats::HOURS - 1 - i) as i64);
            let label = match width {
                1 => String::new(),
                _ => format!("{:02}", hour.hour()),
            };
            Bar::default()
                .label(Line::raw(label))
                .value(*n)
                .text_value(value_text(*n, shown))
        })
        .collect();
    frame.render_widget(
        BarChart::vertical(bars).bar_width(width).bar_gap(gap),
        bars_area,
    );
    let arrived: u64 = stats.cards_per_hour.iter().sum();
    let peak = stats.cards_per_hour.iter().max().copied().unwrap_or(0);
    frame.render_widget(
        Line::styled(
            format!("new cards per hour: {arrived}, peak {peak}"),
            theme::dim(),
        ),
        label,
    );
    frame.render_widget(Sparkline::default().data(&stats.cards_per_hour), spark);
}

/// A wait as people say it: `45s`, `12m`, `2h 30m`, `3d 4h`.
fn span_text(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_two_units() {
        assert_eq!(span_text(-5), "0s");
        assert_eq!(span_text(59), "59s");
        assert_eq!(span_text(150 * 60), "2h 30m");
        assert_eq!(span_text(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
    }

    #[test]
    fn bars_share_the_width_and_never_vanish() {
        assert_eq!(bar_layout(38, 10), (2, 1));
        assert_eq!(bar_layout(43, 24), (1, 0));
        assert_eq!(bar_layout(130, 24), (4, 1));
        assert_eq!(bar_layout(0, 24), (1, 0));
    }
}
