//! Named views in the console: saving the list's filter and sort under a name (a prompt), the
//! picker that lists the reviewer's views and the team's, showing the list through one, and
//! deleting one's own. The daemon keeps the views; the console asks and shows the answers.

use idreview_protocol::{CardFilter, NamedView, ViewSpec};

use super::{App, Prompt, PromptKind, ViewPicker};
use crate::message::{CallError, Command, Request};

impl App {
    pub(super) fn ask_view_name(&mut self) -> Vec<Command> {
        let text = self.view_name.clone().unwrap_or_default();
        self.prompt = Some(Prompt::new(PromptKind::ViewName, text));
        vec![]
    }

    /// Enter in the name prompt: the view as the list shows it now.
    pub(super) fn send_view(&mut self, prompt: Prompt) -> Vec<Command> {
        let query = &self.list.query;
        let spec = ViewSpec {
            name: prompt.text.trim().to_string(),
            filter: query.filter.to_query_string(),
            sort: query.sort,
            descending: query.descending,
            team: false,
        };
        if let Err(why) = spec.check() {
            self.error(format!("view not saved: {why}"));
            self.prompt = Some(prompt);
            return vec![];
        }
        vec![Command::Rpc(Request::SaveView(spec))]
    }

    pub(super) fn view_saved(&mut self, result: Result<NamedView, CallError>) -> Vec<Command> {
        match result {
            Ok(view) => {
                self.info(format!("saved view {:?}; p lists your views", view.name));
                self.view_name = Some(view.name);
            }
            Err(e) => self.error(format!("view not saved: {e}")),
        }
        vec![]
    }

    pub(super) fn open_picker(&mut self) -> Vec<Command> {
        self.picker = Some(ViewPicker {
            views: None,
            cursor: 0,
        });
        vec![Command::Rpc(Request::Views)]
    }

    pub(super) fn views_loaded(
        &mut self,
        result: Result<Vec<NamedView>, CallError>,
    ) -> Vec<Command> {
        if let Some(picker) = self.picker.as_mut() {
            // Stay on the view shown, when it is among them.
            let shown = self.view_name.as_deref();
            if let (Ok(views), Some(name)) = (&result, shown) {
                picker.cursor = views.iter().position(|v| v.name == name).unwrap_or(0);
            }
            picker.views = Some(result);
        }
        vec![]
    }

    /// Moves the picker's selection; `true` if a picker was open.
    pub(super) fn move_picker(&mut self, delta: i64) -> bool {
        let Some(picker) = self.picker.as_mut() else {
            return false;
        };
        let len = match &picker.views {
            Some(Ok(views)) => views.len(),
            _ => 0,
        };
        let last = len.saturating_sub(1);
        picker.cursor = match delta.is_negative() {
            true => picker.cursor.saturating_sub(delta.unsigned_abs() as usize),
            false => picker.cursor.saturating_add(delta as usize).min(last),
        };
        true
    }

    /// Enter in the picker: the list through the selected view.
    pub(super) fn apply_view(&mut self) -> Vec<Command> {
        let Some(view) = self.picker.as_ref().and_then(ViewPicker::selected).cloned() else {
            return vec![];
        };
        let filter = match CardFilter::parse(&view.filter) {
            Ok(filter) => filter,
            Err(why) => {
                self.error(format!("view {:?} no longer reads: {why}", view.name));
                return vec![];
            }
        };
        self.picker = None;
        self.list.query.sort = view.sort;
        self.list.query.descending = view.descending;
        let team = if view.team { " (team)" } else { "" };
        let out = self.set_filter(filter, Some(format!("view {}{team}", view.name)));
        self.view_name = Some(view.name);
        out
    }

    /// `x` in the picker: deletes the selected view if it is the reviewer's own.
    pub(super) fn delete_view(&mut self) -> Vec<Command> {
        let Some(view) = self.picker.as_ref().and_then(ViewPicker::selected) else {
            return vec![];
        };
        if view.team {
            let text = format!(
                "{:?} is a team view; admins delete it with `idreview views delete --team`",
                view.name
            );
            self.error(text);
            return vec![];
        }
        let name = view.name.clone();
        vec![Command::Rpc(Request::DeleteView { name, team: false })]
    }

    pub(super) fn view_deleted(
        &mut self,
        name: String,
        result: Result<(), CallError>,
    ) -> Vec<Command> {
        match result {
            Ok(()) => {
                self.info(format!("deleted view {name:?}"));
                if self.view_name.as_deref() == Some(name.as_str()) {
                    self.view_name = None;
                }
                match self.picker.is_some() {
                    true => vec![Command::Rpc(Request::Views)],
                    false => vec![],
                }
            }
            Err(e) => {
                self.error(format!("view {name:?} not deleted: {e}"));
                vec![]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use idreview_protocol::{ListQuery, SortKey};

    use super::*;
    use crate::app::{Theme, fixtures};
    use crate::message::Action;

    fn view(name: &str, filter: &str, team: bool) -> NamedView {
        NamedView {
            name: name.into(),
            filter: filter.into(),
            sort: SortKey::Confidence,
            descending: false,
            team,
            saved_by: "token:alice".into(),
            saved_at: fixtures::now(),
        }
    }

    fn app() -> App {
        App::new(
            fixtures::now(),
            ListQuery::default(),
            Theme::default(),
            false,
        )
    }

    #[test]
    fn saving_sends_the_lists_filter_and_sort_under_the_name() {
        let mut app = app();
        app.update(Action::OpenFilter);
        app.update(Action::ClearInput);
        for c in "type:passport".chars() {
            app.update(Action::Input(c));
        }
        app.update(Action::Submit);
        app.update(Action::ReverseSort);
        app.update(Action::SaveView);
        for c in "my passports".chars() {
            app.update(Action::Input(c));
        }
        let out = app.update(Action::Submit);
        let Some(Command::Rpc(Request::SaveView(spec))) = out.first() else {
            panic!("{out:?}");
        };
        assert_eq!(
            (
                spec.name.as_str(),
                spec.filter.as_str(),
                spec.descending,
                spec.team
            ),
            ("my passports", "type:passport", false, false)
        );
        app.update(Action::ViewSaved(Ok(view(
            "my passports",
            "type:passport",
            false,
        ))));
        assert_eq!(app.view_name.as_deref(), Some("my passports"));

        // A blank name is refused before any call, the prompt stays open.
        app.update(Action::SaveView);
        app.update(Action::ClearInput);
        assert!(app.update(Action::Submit).is_empty());
        assert!(app.prompt.is_some());
    }

    #[test]
    fn the_picker_shows_the_list_through_a_view_and_deletes_only_ones_own() {
        let mut app = app();
        assert_eq!(app.update(Action::PickView), [Command::Rpc(Request::Views)]);
        let views = vec![
            view("mine", "country:DE", false),
            view("queue", "status:needs_review", true),
        ];
        app.update(Action::ViewsLoaded(Ok(views)));
        app.update(Action::MoveDown);
        assert!(
            app.update(Action::DeleteView).is_empty(),
            "a team view is read-only"
        );
        app.update(Action::MoveUp);
        assert_eq!(
            app.update(Action::DeleteView),
            [Command::Rpc(Request::DeleteView {
                name: "mine".into(),
                team: false
            })]
        );
        app.update(Action::MoveDown);
        let out = app.update(Action::ApplyView);
        assert!(out.iter().any(|c| matches!(c, Command::Rpc(Request::List(q)) if q.filter.to_query_string() == "status:needs_review" && q.sort == SortKey::Confidence && !q.descending)), "{out:?}");
        assert!(app.picker.is_none());
        assert_eq!(app.view_name.as_deref(), Some("queue"));
        // Changing the sort leaves the view.
        app.update(Action::NextSort);
        assert_eq!(app.view_name, None);
    }
}
