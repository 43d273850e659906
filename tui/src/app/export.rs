//! The card's image outside the console, for terminals that cannot show it: opened in the
//! system viewer (`o`) or written to a path the reviewer types (`W`, offering
//! `./card-<id>-<side>.<ext>`). The RPC worker fetches and writes (`viewer`); the status line
//! says where it went or why not.

use idreview_protocol::CardId;

use super::picture::first_image;
use super::{App, Prompt, PromptKind};
use crate::message::{Command, Request};

impl App {
    /// Card id, file name and role of the image the keys act on: the one shown, else the one
    /// `i` would show first.
    fn export_target(&mut self) -> Option<(CardId, String, String)> {
        let detail = self.detail.as_ref()?;
        let Some(card) = detail.card() else {
            self.error("the card has not loaded yet".into());
            return None;
        };
        let shown = detail.image.as_ref().map(|i| i.name.clone());
        let Some(name) = shown.or_else(|| first_image(card)) else {
            self.error(format!("card {} has no image files", card.id));
            return None;
        };
        let role = card
            .files
            .iter()
            .find(|f| f.name == name)
            .map_or("image", |f| f.role.as_str())
            .to_string();
        Some((card.id, name, role))
    }

    /// Opens the image in the system viewer.
    pub(super) fn open_image(&mut self) -> Vec<Command> {
        let Some((id, name, _)) = self.export_target() else {
            return vec![];
        };
        self.info(format!("opening card {id} {name}..."));
        vec![Command::Rpc(Request::ExportImage { id, name, to: None })]
    }

    /// Asks where to write the image, offering `./card-<id>-<role>.<ext>`.
    pub(super) fn ask_write_image(&mut self) -> Vec<Command> {
        let Some((id, name, role)) = self.export_target() else {
            return vec![];
        };
        let text = crate::viewer::default_path(id, &role, &name);
        self.prompt = Some(Prompt::new(PromptKind::WriteImage { id, name }, text));
        vec![]
    }

    /// Writes the image to the path typed.
    pub(super) fn send_write_image(
        &mut self,
        id: CardId,
        name: String,
        path: &str,
    ) -> Vec<Command> {
        let path = path.trim();
        if path.is_empty() {
            self.error("no path: nothing written".into());
            return vec![];
        }
        self.info(format!("writing card {id} {name}..."));
        let to = Some(std::path::PathBuf::from(path));
        vec![Command::Rpc(Request::ExportImage { id, name, to })]
    }

    /// Says where the image went, or why it did not.
    pub(super) fn image_exported(&mut self, result: Result<String, String>) -> Vec<Command> {
        match result {
            Ok(done) => self.info(done),
            Err(why) => self.error(why),
        }
        vec![]
    }
}
