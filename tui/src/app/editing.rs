//! Editing the input line: a cursor that moves by character, filter history (Up/Down, kept
//! between runs with the saved view) and completion of filter keys (Tab).

use idreview_protocol::CardFilter;

use super::{App, Prompt, PromptKind};
use crate::message::Command;

/// Filters remembered for Up/Down.
pub const HISTORY_LEN: usize = 50;

impl Prompt {
    /// A prompt holding `text`, the cursor after it.
    pub fn new(kind: PromptKind, text: String) -> Prompt {
        let cursor = text.chars().count();
        Prompt {
            kind,
            text,
            cursor,
            history_at: None,
        }
    }

    /// The byte offset of the cursor.
    fn at(&self) -> usize {
        self.text
            .char_indices()
            .nth(self.cursor)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Types `c` at the cursor.
    pub fn insert(&mut self, c: char) {
        let at = self.at();
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.at();
            self.text.remove(at);
        }
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.at();
            self.text.remove(at);
        }
    }

    /// Moves the cursor by `by` characters, within the text.
    pub fn move_cursor(&mut self, by: isize) {
        let len = self.text.chars().count();
        self.cursor = self.cursor.saturating_add_signed(by).min(len);
    }

    /// Puts the cursor at the start (`false`) or the end (`true`).
    pub fn cursor_to(&mut self, end: bool) {
        self.cursor = if end { self.text.chars().count() } else { 0 };
    }

    /// Replaces the text, the cursor after it.
    pub fn set_text(&mut self, text: String) {
        self.cursor = text.chars().count();
        self.text = text;
    }

    /// Completes the filter key being typed at the cursor: a unique match is filled in, a
    /// shared prefix is extended; returns the candidates when there is more than one.
    pub fn complete_key(&mut self) -> Vec<&'static str> {
        let at = self.at();
        let start = self.text[..at].rfind(' ').map_or(0, |i| i + 1);
        let word = self.text[start..at].to_string();
        if word.contains(':') || word.starts_with('"') {
            return vec![];
        }
        let lower = word.to_ascii_lowercase();
        let found: Vec<&'static str> = CardFilter::KEYS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| k.starts_with(&lower))
            .collect();
        let fill = match found.as_slice() {
            [] => return vec![],
            [one] => one.to_string(),
            many => common_prefix(many),
        };
        if fill.len() > word.len() {
            self.text.replace_range(start..at, &fill);
            self.cursor += fill.chars().count() - word.chars().count();
        }
        if found.len() > 1 { found } else { vec![] }
    }
}

fn common_prefix(words: &[&str]) -> String {
    let first = words[0];
    let len = words.iter().fold(first.len(), |len, w| {
        first
            .bytes()
            .zip(w.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count()
    });
    first[..len].to_string()
}

impl App {
    /// Tab: completes a filter key, or fills a reason prompt with the next preset.
    pub(super) fn complete(&mut self) -> Vec<Command> {
        let Some(prompt) = self.prompt.as_mut() else {
            return vec![];
        };
        if prompt.kind != PromptKind::Filter {
            return self.next_preset();
        }
        let choices = prompt.complete_key();
        if !choices.is_empty() {
            self.info(format!("keys: {}", choices.join(" ")));
        }
        vec![]
    }

    /// Up (`-1`) and Down (`1`) in the filter bar: the previous and next filters applied.
    /// Down past the newest comes back to an empty line.
    pub(super) fn recall(&mut self, by: isize) -> Vec<Command> {
        let history = &self.filter_history;
        let Some(prompt) = self
            .prompt
            .as_mut()
            .filter(|p| p.kind == PromptKind::Filter)
        else {
            return vec![];
        };
        if history.is_empty() {
            return vec![];
        }
        let next = match (prompt.history_at, by < 0) {
            (None, true) => Some(history.len() - 1),
            (None, false) => return vec![],
            (Some(0), true) => Some(0),
            (Some(i), true) => Some(i - 1),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        prompt.history_at = next;
        prompt.set_text(next.map_or_else(String::new, |i| history[i].clone()));
        vec![]
    }

    /// Remembers an applied filter as the newest entry, once.
    pub(super) fn remember_filter(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.filter_history.retain(|t| t != text);
        self.filter_history.push(text.to_string());
        let over = self.filter_history.len().saturating_sub(HISTORY_LEN);
        self.filter_history.drain(..over);
    }
}

#[cfg(test)]
mod tests {
    use idreview_protocol::ListQuery;

    use super::*;
    use crate::app::fixtures;
    use crate::app::state::Theme;
    use crate::message::Action;

    fn filter(text: &str) -> Prompt {
        Prompt::new(PromptKind::Filter, text.to_string())
    }

    #[test]
    fn the_cursor_moves_and_edits_in_place() {
        let mut p = filter("smth");
        p.move_cursor(-2);
        p.insert('i');
        assert_eq!((p.text.as_str(), p.cursor), ("smith", 3));
        p.cursor_to(false);
        p.delete();
        p.insert('S');
        assert_eq!(p.text, "Smith");
        p.move_cursor(-5);
        p.backspace();
        assert_eq!((p.text.as_str(), p.cursor), ("Smith", 0));
        p.cursor_to(true);
        p.move_cursor(3);
        p.backspace();
        assert_eq!((p.text.as_str(), p.cursor), ("Smit", 4));
        // Characters, not bytes.
        let mut p = filter("Müller");
        p.move_cursor(-4);
        p.backspace();
        assert_eq!(p.text, "Mller");
    }

    #[test]
    fn tab_completes_keys_at_the_cursor() {
        let mut p = filter("smith sta");
        assert!(p.complete_key().is_empty());
        assert_eq!((p.text.as_str(), p.cursor), ("smith status:", 13));
        let mut p = filter("u");
        assert_eq!(p.complete_key(), ["updated:", "user:"]);
        assert_eq!(p.text, "u");
        let mut p = filter("up");
        p.complete_key();
        assert_eq!(p.text, "updated:");
        // Values are not completed; unknown prefixes are left alone.
        let mut p = filter("status:ne");
        assert!(p.complete_key().is_empty());
        assert_eq!(p.text, "status:ne");
        let mut p = filter("zz");
        p.complete_key();
        assert_eq!(p.text, "zz");
        // Mid-line: the word before the cursor.
        let mut p = filter("ty smith");
        p.cursor_to(false);
        p.move_cursor(2);
        p.complete_key();
        assert_eq!((p.text.as_str(), p.cursor), ("type: smith", 5));
    }

    fn apply(app: &mut App, text: &str) {
        app.update(Action::OpenFilter);
        app.update(Action::ClearInput);
        for c in text.chars() {
            app.update(Action::Input(c));
        }
        app.update(Action::Submit);
    }

    fn shown(app: &App) -> &str {
        app.prompt.as_ref().map_or("<closed>", |p| p.text.as_str())
    }

    #[test]
    fn up_and_down_walk_the_filters_applied() {
        let mut app = App::new(
            fixtures::now(),
            ListQuery::default(),
            Theme::default(),
            false,
        );
        apply(&mut app, "type:passport");
        apply(&mut app, "stauts:approved"); // refused: stays open, not remembered
        assert!(app.prompt.is_some(), "a refused filter keeps the bar open");
        app.update(Action::Cancel);
        apply(&mut app, "user:erika");
        apply(&mut app, "type:passport"); // again: moves to the newest, once
        assert_eq!(app.filter_history, ["user:erika", "type:passport"]);

        app.update(Action::OpenFilter);
        app.update(Action::ClearInput);
        app.update(Action::HistoryPrev);
        assert_eq!(shown(&app), "type:passport");
        app.update(Action::HistoryPrev);
        assert_eq!(shown(&app), "user:erika");
        app.update(Action::HistoryPrev);
        assert_eq!(shown(&app), "user:erika", "stops at the oldest");
        app.update(Action::HistoryNext);
        assert_eq!(shown(&app), "type:passport");
        app.update(Action::HistoryNext);
        assert_eq!(shown(&app), "", "past the newest: an empty line");
        // The cursor follows the recalled text, so typing appends.
        app.update(Action::HistoryPrev);
        app.update(Action::Input(' '));
        app.update(Action::Input('x'));
        assert_eq!(shown(&app), "type:passport x");
    }
}
