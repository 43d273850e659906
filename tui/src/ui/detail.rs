//! The detail screen: one card's fields with their confidence, the zone as read (`zone`), its
//! files, findings, the provider's verdict, the decision and the audit history, as one
//! scrollable page.

use idreview_protocol::{AuditEvent, Card};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::image::ImageCache;
use super::theme;
use crate::app::{App, Detail, Theme};
use crate::display;

/// Columns the text keeps when the image is beside it: the fields table whole.
const TEXT_COLS: u16 = 92;

/// The line above the page: which card this is.
pub fn title_line(app: &App) -> Line<'_> {
    let Some(detail) = &app.detail else {
        return Line::raw("");
    };
    let Some(card) = detail.card() else {
        return Line::raw(format!("card {}", detail.id));
    };
    let flags = [
        (card.verified, "verified"),
        (card.confirmed, "confirmed by user"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join(", ");
    Line::from(vec![
        Span::styled(format!("card {}", card.id), theme::heading()),
        Span::raw(format!(
            "  {}  {}  {}  ",
            card.user_id,
            card.document_type,
            display::or_dash(card.country.as_deref())
        )),
        Span::styled(card.status.as_str(), theme::status(&app.theme, card.status)),
        Span::raw(format!("  version {}  {}", card.version, flags)),
        Span::styled(
            if card.is_duplicate() {
                "  reused document"
            } else {
                ""
            },
            theme::alert(&app.theme),
        ),
        Span::styled(
            display::pending_approval(card.pending_approval.as_ref().map(|p| p.person.as_str()))
                .map(|p| format!("  {p}"))
                .unwrap_or_default(),
            theme::pending(&app.theme),
        ),
        Span::styled(holder(app, card), theme::dim()),
    ])
}

/// Who holds the card and until when, as the title shows it.
fn holder(app: &App, card: &Card) -> String {
    match (&card.assignee, card.lease_until) {
        (Some(who), Some(until)) if until > app.now => {
            format!("  held by {who} until {}", until.format("%H:%M"))
        }
        (Some(who), None) => format!("  assigned to {who}"),
        _ => String::new(),
    }
}

/// Draws the page, scrolled as far as the app says but never past its end.
pub fn render(app: &App, frame: &mut Frame, area: Rect, images: &mut ImageCache) {
    let Some(detail) = &app.detail else {
        return;
    };
    let mut area = area;
    if let Some(image) = &detail.image {
        if !app.side_by_side() {
            return super::image::render(app, detail, image, frame, area, images);
        }
        let [text, picture] =
            Layout::horizontal([Constraint::Min(TEXT_COLS), Constraint::Fill(1)]).areas(area);
        super::image::render(app, detail, image, frame, picture, images);
        area = text;
    }
    let lines = lines(app, detail);
    let max_scroll = lines.len().saturating_sub(usize::from(area.height));
    let scroll = usize::from(detail.scroll).min(max_scroll);
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
}

/// How many lines [`render`] draws for `detail`; tests hold it to [`Detail::line_count`].
#[cfg(test)]
pub fn line_count_drawn(app: &App, detail: &Detail) -> usize {
    lines(app, detail).len()
}

fn lines<'a>(app: &'a App, detail: &'a Detail) -> Vec<Line<'a>> {
    let card = match &detail.card {
        None => return vec![Line::styled("loading card...", theme::dim())],
        Some(Err(e)) => {
            return vec![Line::styled(
                format!("cannot load card {}: {e}", detail.id),
                theme::alert(&app.theme),
            )];
        }
        Some(Ok(card)) => card,
    };
    let mut out = Vec::new();
    fields(&app.theme, card, detail.field, &mut out);
    super::zone::lines(&app.theme, card, &mut out);
    files(card, &mut out);
    findings(&app.theme, card, &mut out);
    verdict(&app.theme, card, &mut out);
    audit(app, detail, &mut out);
    out
}

fn heading(out: &mut Vec<Line<'_>>, title: &str) {
    if !out.is_empty() {
        out.push(Line::raw(""));
    }
    out.push(Line::styled(title.to_string(), theme::heading()));
}

fn fields<'a>(theme: &Theme, card: &'a Card, focus: usize, out: &mut Vec<Line<'a>>) {
    heading(out, "Fields");
    if card.fields.is_empty() {
        out.push(Line::styled("  nothing extracted", theme::dim()));
    } else {
        let titles = format!(
            "  {:<20} {:<28} {:<15}  {:<8} {}",
            "name", "value", "confidence", "source", "side"
        );
        out.push(Line::styled(titles, theme::dim()));
    }
    for (i, field) in card.fields.iter().enumerate() {
        let style = theme::confidence(theme, Some(field.confidence));
        let marker = if i == focus { ">" } else { " " };
        let name = format!("{marker} {:<20} ", field.name);
        let name = match i == focus {
            true => Span::styled(name, theme::selected()),
            false => Span::raw(name),
        };
        out.push(Line::from(vec![
            name,
            Span::raw(format!("{:<28} ", field.value)),
            Span::styled(
                format!(
                    "{} {:>4}",
                    display::bar(field.confidence, 10),
                    display::percent(field.confidence)
                ),
                style,
            ),
            Span::raw(format!(
                "  {:<8} {}",
                field.source.as_str(),
                field.side.as_str()
            )),
        ]));
        for c in field.candidates.iter().filter(|c| c.value != field.value) {
            out.push(Line::styled(
                format!(
                    "    candidate {:<28} {:>4}  {}",
                    c.value,
                    display::percent(c.confidence),
                    c.source.as_str()
                ),
                theme::dim(),
            ));
        }
    }
}

fn files<'a>(card: &'a Card, out: &mut Vec<Line<'a>>) {
    heading(out, "Files");
    if card.files.is_empty() {
        out.push(Line::styled("  none", theme::dim()));
    }
    for file in &card.files {
        let dims = file
            .dimensions
            .map(|(w, h)| format!("{w}x{h}"))
            .unwrap_or_default();
        out.push(Line::raw(format!(
            "  {:<7} {:<24} {:<12} {:>10}  {}",
            file.role.as_str(),
            file.name,
            file.media_type,
            display::size(file.size),
            dims
        )));
    }
}

fn findings<'a>(theme: &Theme, card: &'a Card, out: &mut Vec<Line<'a>>) {
    heading(out, "Findings");
    if card.findings.is_empty() {
        out.push(Line::styled("  none", theme::dim()));
    }
    for finding in &card.findings {
        out.push(Line::from(vec![
            Span::styled(
                format!("  {:<8}", finding.severity.as_str()),
                theme::severity(theme, finding.severity),
            ),
            Span::raw(format!(" {:<24} {}", finding.rule, finding.message)),
        ]));
    }
}

fn verdict<'a>(theme: &Theme, card: &'a Card, out: &mut Vec<Line<'a>>) {
    heading(out, "Provider");
    match &card.provider {
        None => out.push(Line::styled("  not verified yet", theme::dim())),
        Some(p) => {
            out.push(Line::raw(format!("  {}: {}", p.provider, p.decision)));
            if let Some(failure) = &p.failure {
                out.push(Line::raw(format!("  failure: {failure}")));
            }
            for w in &p.warnings {
                out.push(Line::raw(format!(
                    "  {:<8} {:<24} {} ({})",
                    w.severity.as_str(),
                    w.code,
                    w.description,
                    display::percent(w.confidence)
                )));
            }
        }
    }
    heading(out, "Decision");
    match (&card.decision, &card.pending_approval) {
        (None, Some(p)) => out.push(Line::styled(
            format!(
                "  approval 1/2 by {} ({}) at {}: {}; awaits a second reviewer",
                p.person,
                p.by,
                p.at.format("%Y-%m-%d %H:%M"),
                p.reason
            ),
            theme::pending(theme),
        )),
        (None, None) => out.push(Line::styled("  undecided", theme::dim())),
        (Some(d), _) => out.push(Line::raw(format!(
            "  {} by {} at {}: {}",
            d.decision,
            d.by,
            d.at.format("%Y-%m-%d %H:%M"),
            d.reason
        ))),
    }
}

fn audit<'a>(app: &'a App, detail: &'a Detail, out: &mut Vec<Line<'a>>) {
    heading(out, "Audit history");
    match &detail.audit {
        None => out.push(Line::styled("  loading...", theme::dim())),
        Some(Err(e)) => out.push(Line::styled(
            format!("  cannot load: {e}"),
            theme::alert(&app.theme),
        )),
        Some(Ok(events)) if events.is_empty() => out.push(Line::styled("  none", theme::dim())),
        Some(Ok(events)) => out.extend(events.iter().map(event_line)),
    }
}

fn event_line(e: &AuditEvent) -> Line<'_> {
    let at = e.at.format("%Y-%m-%d %H:%M");
    let reason = e.reason.as_deref().unwrap_or_default();
    let line = format!("  {at}  {:<20} {:<26} {reason}", e.actor, e.action);
    Line::raw(line.trim_end().to_string())
}
