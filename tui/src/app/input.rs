//! Key presses: which contexts of the app's key table are in force in its current state, what
//! a press means there, and the hint bar's keys. The event loop and tests press keys through
//! [`App::press`].

use ratatui::crossterm::event::KeyEvent;

use super::App;
use super::state::Screen;
use crate::keys::{self, Context as C};
use crate::message::{Action, Command};

impl App {
    /// The contexts in force, most specific first.
    pub fn contexts(&self) -> &'static [C] {
        match (&self.prompt, self.help, self.screen) {
            (Some(p), _, _) if !p.takes_text() => &[C::Confirm, C::Global],
            (Some(_), _, _) => &[C::Prompt, C::Global],
            (None, true, _) => &[C::Help, C::Global],
            (None, false, _) if self.picker.is_some() => &[C::Picker, C::Global],
            (None, false, Screen::Dashboard) => &[C::Dashboard, C::Global],
            (None, false, Screen::Detail) => &[C::Detail, C::Cards, C::Global],
            (None, false, Screen::List) => &[C::List, C::Cards, C::Global],
            (None, false, Screen::Results) => &[C::Results, C::Global],
        }
    }

    /// The action a key press means in the current context, if any.
    pub fn dispatch(&self, event: &KeyEvent) -> Option<Action> {
        keys::lookup(&self.keys, self.contexts(), event)
    }

    /// Presses a key: dispatch through the table, then update.
    pub fn press(&mut self, event: KeyEvent) -> Vec<Command> {
        match self.dispatch(&event) {
            Some(action) => self.update(action),
            None => vec![],
        }
    }

    /// The bindings shown in the hint bar: one per hint word, most specific first.
    pub fn hints(&self) -> Vec<(String, &'static str)> {
        keys::hints(&self.keys, self.contexts())
    }
}

#[cfg(test)]
mod tests {
    use idreview_protocol::ListQuery;
    use ratatui::crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};

    use super::*;
    use crate::app::fixtures;
    use crate::app::state::Theme;

    fn app_in(state: usize) -> App {
        let mut app = App::new(
            fixtures::now(),
            ListQuery::default(),
            Theme::default(),
            false,
        );
        let query = app.list.query.clone();
        app.update(Action::PageLoaded {
            query,
            result: Ok(fixtures::page(0, 3, 3)),
        });
        match state {
            1 => app.screen = Screen::Detail,
            2 => app.help = true,
            3 => {
                app.update(Action::OpenFilter);
            }
            _ => {}
        }
        app
    }

    #[test]
    fn keys_mean_different_things_in_different_contexts() {
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(app_in(0).dispatch(&q), Some(Action::Quit));
        assert_eq!(app_in(1).dispatch(&q), Some(Action::Back));
        assert_eq!(app_in(2).dispatch(&q), Some(Action::Back));
        assert_eq!(app_in(3).dispatch(&q), Some(Action::Input('q')));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for state in 0..4 {
            assert_eq!(
                app_in(state).dispatch(&ctrl_c),
                Some(Action::Quit),
                "state {state}"
            );
        }
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(app_in(0).dispatch(&shift_g), Some(Action::Last));
        let release = KeyEvent {
            kind: KeyEventKind::Release,
            ..q
        };
        assert_eq!(app_in(0).dispatch(&release), None);
    }

    #[test]
    fn hints_follow_the_context() {
        let words: Vec<&str> = app_in(0).hints().iter().map(|(_, w)| *w).collect();
        assert_eq!(
            words,
            [
                "move", "open", "filter", "status", "sort", "mark", "queue", "quit", "approve",
                "reject", "refresh", "help"
            ]
        );
        let words: Vec<&str> = app_in(3).hints().iter().map(|(_, w)| *w).collect();
        assert_eq!(words, ["apply", "cancel", "quit"]);
    }
}
