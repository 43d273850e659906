//! The document image panel of the detail screen, drawn with `ratatui-image` (kitty, sixel,
//! iTerm2 or half blocks, whatever the terminal answered to). Encoding an image for the
//! terminal is the costly part, so the last encoding is kept until the view changes.

use std::sync::Arc;

use idreview_protocol::{BoundingBox, Side};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect, Size};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;
use ratatui_image::{Image, Resize};

use super::theme;
use crate::app::{App, Detail, DocImage};

/// What an encoding was made for; a different view encodes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    image: usize,
    turns: u8,
    zoom: Option<(u32, u32, u32, u32)>,
    area: (u16, u16),
}

/// The terminal's image protocol and the last encoded view.
pub struct ImageCache {
    picker: Picker,
    last: Option<(Key, Protocol)>,
}

impl ImageCache {
    /// A cache drawing with `picker` (from the terminal query, or half blocks).
    pub fn new(picker: Picker) -> ImageCache {
        ImageCache { picker, last: None }
    }

    /// Half blocks: works in every terminal and in tests.
    pub fn halfblocks() -> ImageCache {
        ImageCache::new(Picker::halfblocks())
    }
}

/// The box of the focused field when it was read from the side this image shows.
fn zoom_box(detail: &Detail, image: &DocImage) -> Option<(String, BoundingBox)> {
    let card = detail.card()?;
    let field = card.fields.get(detail.field)?;
    let file = card.files.iter().find(|f| f.name == image.name)?;
    let side_matches = matches!(
        (field.side, file.role),
        (Side::Front, idreview_protocol::FileRole::Front)
            | (Side::Back, idreview_protocol::FileRole::Back)
    );
    Some((field.name.clone(), field.bbox.filter(|_| side_matches)?))
}

/// Draws the image panel: a caption line and the image fitted below it.
pub fn render(
    app: &App,
    detail: &Detail,
    image: &DocImage,
    frame: &mut Frame,
    area: Rect,
    cache: &mut ImageCache,
) {
    let [caption, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let zoom = image.zoom.then(|| zoom_box(detail, image)).flatten();
    let mut text = format!(
        "{}  turned {}°",
        image.name,
        u16::from(image.quarter_turns) * 90
    );
    match (&zoom, image.zoom) {
        (Some((field, _)), _) => text.push_str(&format!("  zoomed to {field}")),
        (None, true) => text.push_str("  (the focused field has no box on this image)"),
        (None, false) => {}
    }
    frame.render_widget(Line::styled(text, theme::heading()), caption);
    let decoded = match &image.loaded {
        None => {
            return frame
                .render_widget(Paragraph::new("loading image...").style(theme::dim()), body);
        }
        Some(Err(e)) => {
            let text = format!("cannot show {}: {e}", image.name);
            return frame.render_widget(Paragraph::new(text).style(theme::alert(&app.theme)), body);
        }
        Some(Ok(decoded)) => decoded,
    };
    let bbox = zoom.map(|(_, b)| b);
    let key = Key {
        image: Arc::as_ptr(decoded) as usize,
        turns: image.quarter_turns,
        zoom: bbox.map(|b| (b.x, b.y, b.width, b.height)),
        area: (body.width, body.height),
    };
    if cache.last.as_ref().is_none_or(|(k, _)| *k != key) {
        let view = crate::image::view(decoded, bbox, image.quarter_turns);
        let size = Size::new(body.width, body.height);
        match cache.picker.new_protocol(view, size, Resize::Scale(None)) {
            Ok(protocol) => cache.last = Some((key, protocol)),
            Err(e) => {
                cache.last = None;
                let text = format!("cannot draw the image: {e}");
                return frame
                    .render_widget(Paragraph::new(text).style(theme::alert(&app.theme)), body);
            }
        }
    }
    if let Some((_, protocol)) = &cache.last {
        frame.render_widget(Image::new(protocol), body);
    }
}
