//! Reading a key table: what a key press means under the contexts in force, and the hint bar's
//! keys. The app says which contexts are in force (`App::contexts`); the table never sees the
//! app's state.

use ratatui::crossterm::event::{KeyEvent, KeyEventKind};

use super::table::{Binding, Context, Key};
use crate::message::Action;

/// The action `event` means under `contexts` (most specific first) in `table`, if any.
pub fn lookup(table: &[Binding], contexts: &[Context], event: &KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    contexts.iter().find_map(|context| {
        table
            .iter()
            .filter(|b| b.context == *context)
            .find_map(|b| {
                let c = b.key.matches(event)?;
                Some(match (&b.action, b.key) {
                    (Action::Input(_), _) | (_, Key::Text) => Action::Input(c),
                    (action, _) => action.clone(),
                })
            })
    })
}

/// The bindings of `table` shown in the hint bar under `contexts`: one per hint word, most
/// specific first.
pub fn hints(table: &[Binding], contexts: &[Context]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for context in contexts {
        for b in table.iter().filter(|b| b.context == *context) {
            if let Some(word) = b.hint.filter(|w| out.iter().all(|(_, seen)| seen != w)) {
                out.push((b.key.label(), word));
            }
        }
    }
    out
}
