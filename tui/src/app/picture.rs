//! The document image on the detail screen: which image file shows, fetching it once, turning
//! it and zooming to the focused field's box.

use std::sync::Arc;

use idreview_protocol::{Card, CardId};
use image::DynamicImage;

use super::{App, DocImage};
use crate::message::{Command, Request};

/// The card's image files, front first.
pub fn image_files(card: &Card) -> Vec<&str> {
    let mut files: Vec<_> = card
        .files
        .iter()
        .filter(|f| f.media_type.starts_with("image/"))
        .collect();
    files.sort_by_key(|f| f.role);
    files.iter().map(|f| f.name.as_str()).collect()
}

/// The image to show first: the file of the side the zone was read from (to compare the zone
/// with), else the front.
pub fn first_image(card: &Card) -> Option<String> {
    let files = image_files(card);
    let zone_side = card.raw_zone.as_ref().map(|z| z.side.as_str());
    let of_zone = files.iter().find(|name| {
        card.files
            .iter()
            .any(|f| f.name == **name && Some(f.role.as_str()) == zone_side)
    });
    of_zone.or(files.first()).map(|n| n.to_string())
}

impl App {
    /// Shows the card's first image (fetching it): the side its zone was read from, else the
    /// front; or goes back to the text.
    pub(super) fn toggle_image(&mut self) -> Vec<Command> {
        let Some(detail) = self.detail.as_mut() else {
            return vec![];
        };
        if detail.image.take().is_some() {
            return vec![];
        }
        let Some(card) = detail.card() else {
            return vec![];
        };
        let Some(name) = first_image(card) else {
            self.error("this card has no image files".into());
            return vec![];
        };
        self.show_image(name)
    }

    /// On a screen wide enough for the image beside the text, shows the card's first image
    /// when it has just loaded (`first`); `i` hides it again.
    pub(super) fn image_beside(&mut self, first: bool) -> Vec<Command> {
        let loaded = self.detail.as_ref().is_some_and(|d| {
            d.image.is_none() && d.card().is_some_and(|c| !image_files(c).is_empty())
        });
        match first && loaded && self.side_by_side() {
            true => self.toggle_image(),
            false => vec![],
        }
    }

    /// Shows the next image file of the card.
    pub(super) fn next_image(&mut self) -> Vec<Command> {
        let Some(detail) = self.detail.as_ref() else {
            return vec![];
        };
        let Some(card) = detail.card() else {
            return vec![];
        };
        let files = image_files(card);
        let at = detail
            .image
            .as_ref()
            .and_then(|i| files.iter().position(|f| *f == i.name));
        let next = at.map_or(0, |i| (i + 1) % files.len().max(1));
        match files.get(next) {
            Some(name) => {
                let name = name.to_string();
                self.show_image(name)
            }
            None => vec![],
        }
    }

    fn show_image(&mut self, name: String) -> Vec<Command> {
        let Some(detail) = self.detail.as_mut() else {
            return vec![];
        };
        let id = detail.id;
        detail.image = Some(DocImage {
            name: name.clone(),
            loaded: None,
            quarter_turns: 0,
            zoom: false,
        });
        vec![Command::Rpc(Request::Image { id, name })]
    }

    /// Zooms to the focused field's box, or back out.
    pub(super) fn zoom_field(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        if self.detail.as_ref().is_some_and(|d| d.image.is_none()) {
            out = self.toggle_image();
        }
        if let Some(image) = self.detail.as_mut().and_then(|d| d.image.as_mut()) {
            image.zoom = !image.zoom;
        }
        out
    }

    /// Turns the image a quarter clockwise.
    pub(super) fn rotate(&mut self) -> Vec<Command> {
        if let Some(image) = self.detail.as_mut().and_then(|d| d.image.as_mut()) {
            image.quarter_turns = (image.quarter_turns + 1) % 4;
        }
        vec![]
    }

    /// Takes a decoded image if it is still the one asked for.
    pub(super) fn image_loaded(
        &mut self,
        id: CardId,
        name: String,
        result: Result<Arc<DynamicImage>, String>,
    ) -> Vec<Command> {
        let wanted = self.detail.as_mut().filter(|d| d.id == id);
        if let Some(image) = wanted
            .and_then(|d| d.image.as_mut())
            .filter(|i| i.name == name)
        {
            image.loaded = Some(result);
        }
        vec![]
    }
}
