//! The default key table ([`BINDINGS`]) and its words: where a binding applies
//! ([`Context`]), the key ([`Key`]) and the row ([`Binding`]).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::message::Action;

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere, under every other context.
    Global,
    /// The card list.
    List,
    /// The detail screen.
    Detail,
    /// Both card screens, under their own bindings.
    Cards,
    /// The help screen.
    Help,
    /// An open input line (filter bar, reason or correction).
    Prompt,
    /// A yes/no question before a bulk action.
    Confirm,
    /// The results of a bulk run.
    Results,
    /// The dashboard screen.
    Dashboard,
    /// The picker of named views.
    Picker,
}

impl Context {
    /// Every context in the order the help screen lists them.
    pub const ALL: [Context; 10] = [
        Context::List,
        Context::Detail,
        Context::Cards,
        Context::Dashboard,
        Context::Picker,
        Context::Prompt,
        Context::Confirm,
        Context::Results,
        Context::Help,
        Context::Global,
    ];

    /// The heading on the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Card list",
            Context::Detail => "Card detail",
            Context::Cards => "List and detail",
            Context::Help => "Help",
            Context::Prompt => "Filter, reason and correction",
            Context::Confirm => "Confirmation",
            Context::Results => "Bulk results",
            Context::Dashboard => "Dashboard",
            Context::Picker => "Named views",
        }
    }
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character without Ctrl or Alt (Shift is part of the character).
    Char(char),
    /// A character with Ctrl.
    Ctrl(char),
    /// Any printable character; the binding's action receives it (see [`Action::Input`]).
    Text,
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    /// Up with Shift held.
    ShiftUp,
    /// Down with Shift held.
    ShiftDown,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
    Delete,
    Left,
    Right,
}

impl Key {
    /// How the help screen and hint bar spell the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Text => "text".into(),
            Key::Enter => "Enter".into(),
            Key::Esc => "Esc".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "Shift-Tab".into(),
            Key::Up => "↑".into(),
            Key::ShiftUp => "Shift-↑".into(),
            Key::ShiftDown => "Shift-↓".into(),
            Key::Down => "↓".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::Backspace => "Backspace".into(),
            Key::Delete => "Del".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
        }
    }

    /// The character a terminal event carries when it matches this key.
    pub(super) fn matches(self, event: &KeyEvent) -> Option<char> {
        let ctrl_or_alt = event
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let plain = |code: KeyCode| (event.code == code && !ctrl_or_alt).then_some('\0');
        let shift = event.modifiers.contains(KeyModifiers::SHIFT);
        match (self, event.code) {
            (Key::Char(want), KeyCode::Char(c)) if want == c && !ctrl_or_alt => Some(c),
            (Key::Ctrl(want), KeyCode::Char(c)) => {
                let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
                (ctrl && c.eq_ignore_ascii_case(&want)).then_some(c)
            }
            (Key::Text, KeyCode::Char(c)) if !ctrl_or_alt => Some(c),
            (Key::Enter, _) => plain(KeyCode::Enter),
            (Key::Esc, _) => plain(KeyCode::Esc),
            (Key::Tab, _) => plain(KeyCode::Tab),
            (Key::BackTab, _) => plain(KeyCode::BackTab),
            (Key::Up, _) => plain(KeyCode::Up).filter(|_| !shift),
            (Key::Down, _) => plain(KeyCode::Down).filter(|_| !shift),
            (Key::ShiftUp, _) => plain(KeyCode::Up).filter(|_| shift),
            (Key::ShiftDown, _) => plain(KeyCode::Down).filter(|_| shift),
            (Key::PageUp, _) => plain(KeyCode::PageUp),
            (Key::PageDown, _) => plain(KeyCode::PageDown),
            (Key::Home, _) => plain(KeyCode::Home),
            (Key::End, _) => plain(KeyCode::End),
            (Key::Backspace, _) => plain(KeyCode::Backspace),
            (Key::Delete, _) => plain(KeyCode::Delete),
            (Key::Left, _) => plain(KeyCode::Left),
            (Key::Right, _) => plain(KeyCode::Right),
            _ => None,
        }
    }
}

/// One row of the key table.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The key pressed.
    pub key: Key,
    /// Where the binding applies.
    pub context: Context,
    /// What the key does.
    pub action: Action,
    /// A sentence for the help screen.
    pub help: &'static str,
    /// A word or two for the hint bar; `None` keeps the binding off it.
    pub hint: Option<&'static str>,
}

const fn bind(key: Key, context: Context, action: Action, help: &'static str) -> Binding {
    Binding {
        key,
        context,
        action,
        help,
        hint: None,
    }
}

const fn hint(
    key: Key,
    context: Context,
    action: Action,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        key,
        context,
        action,
        help,
        hint: Some(hint),
    }
}

use Context as C;
use Key as K;

/// Every key binding of the console.
#[rustfmt::skip]
pub static BINDINGS: &[Binding] = &[
    hint(K::Ctrl('c'),   C::Global,  Action::Quit,         "quit the console", "quit"),
    hint(K::Char('j'),   C::List,    Action::MoveDown,     "select the next card", "move"),
    bind(K::Down,        C::List,    Action::MoveDown,     "select the next card"),
    bind(K::Char('k'),   C::List,    Action::MoveUp,       "select the previous card"),
    bind(K::Up,          C::List,    Action::MoveUp,       "select the previous card"),
    bind(K::PageDown,    C::List,    Action::PageDown,     "next page"),
    bind(K::PageUp,      C::List,    Action::PageUp,       "previous page"),
    bind(K::Char('g'),   C::List,    Action::First,        "first card"),
    bind(K::Home,        C::List,    Action::First,        "first card"),
    bind(K::Char('G'),   C::List,    Action::Last,         "last card"),
    bind(K::End,         C::List,    Action::Last,         "last card"),
    hint(K::Enter,       C::List,    Action::OpenDetail,   "open and claim the card", "open"),
    hint(K::Char('/'),   C::List,    Action::OpenFilter,   "open the filter bar", "filter"),
    hint(K::Char('s'),   C::List,    Action::CycleStatus,  "step the status filter", "status"),
    hint(K::Char('o'),   C::List,    Action::NextSort,     "sort by the next column", "sort"),
    bind(K::Char('O'),   C::List,    Action::ReverseSort,  "flip the sort direction"),
    hint(K::Char(' '),   C::List,    Action::ToggleMark,   "mark or unmark, then move down", "mark"),
    bind(K::ShiftDown,   C::List,    Action::MarkDown,     "mark this card and the next, moving down"),
    bind(K::ShiftUp,     C::List,    Action::MarkUp,       "mark this card and the previous, moving up"),
    bind(K::Char('V'),   C::List,    Action::MarkRange,    "mark from the last mark to here"),
    bind(K::Char('A'),   C::List,    Action::MarkAll,      "mark all cards matching the filter"),
    bind(K::Esc,         C::List,    Action::ClearMarks,   "unmark every card"),
    hint(K::Char('w'),   C::List,    Action::Queue,        "the review queue: every card needing a person, oldest first", "queue"),
    bind(K::Char('d'),   C::List,    Action::ShowDashboard, "the dashboard: counts, the queue, reviewers' decisions, charts"),
    bind(K::Char('S'),   C::List,    Action::SaveView,     "save the filter and sort as a named view (kept by the daemon)"),
    bind(K::Char('p'),   C::List,    Action::PickView,     "pick a named view: yours and the team's"),
    hint(K::Char('q'),   C::List,    Action::Quit,         "quit the console", "quit"),
    hint(K::Esc,         C::Detail,  Action::Back,         "back to the list, releasing the claim", "back"),
    bind(K::Char('q'),   C::Detail,  Action::Back,         "back to the list, releasing the claim"),
    hint(K::Char('j'),   C::Detail,  Action::MoveDown,     "scroll down", "scroll"),
    bind(K::Down,        C::Detail,  Action::MoveDown,     "scroll down"),
    bind(K::Char('k'),   C::Detail,  Action::MoveUp,       "scroll up"),
    bind(K::Up,          C::Detail,  Action::MoveUp,       "scroll up"),
    bind(K::PageDown,    C::Detail,  Action::PageDown,     "scroll a page down"),
    bind(K::PageUp,      C::Detail,  Action::PageUp,       "scroll a page up"),
    bind(K::Char('g'),   C::Detail,  Action::First,        "scroll to the top"),
    bind(K::Home,        C::Detail,  Action::First,        "scroll to the top"),
    bind(K::Char('G'),   C::Detail,  Action::Last,         "scroll to the bottom"),
    bind(K::End,         C::Detail,  Action::Last,         "scroll to the bottom"),
    bind(K::Tab,         C::Detail,  Action::NextField,    "focus the next field"),
    bind(K::BackTab,     C::Detail,  Action::PrevField,    "focus the previous field"),
    hint(K::Char('e'),   C::Detail,  Action::EditField,    "correct the focused field", "correct"),
    hint(K::Char('y'),   C::Detail,  Action::AcceptField,  "accept the field as it is, go to the next unsure one", "accept"),
    hint(K::Char('n'),   C::Detail,  Action::SkipField,    "skip to the next unsure field", "skip"),
    hint(K::Char(']'),   C::Detail,  Action::NextCard,     "next card (releases this one)", "next"),
    bind(K::Char('['),   C::Detail,  Action::PrevCard,     "previous card"),
    hint(K::Char('i'),   C::Detail,  Action::ToggleImage,  "show the document image, or the text again", "image"),
    bind(K::Char('z'),   C::Detail,  Action::ZoomField,    "zoom the image to the focused field, or out"),
    bind(K::Char('t'),   C::Detail,  Action::Rotate,       "turn the image a quarter clockwise"),
    bind(K::Char('f'),   C::Detail,  Action::NextImage,    "the card's next image file"),
    bind(K::Char('o'),   C::Detail,  Action::OpenImage,    "open the image in the system viewer (xdg-open)"),
    bind(K::Char('W'),   C::Detail,  Action::WriteImage,   "write the image to a file"),
    hint(K::Char('a'),   C::Cards,   Action::Approve,      "approve the marked cards, else this one", "approve"),
    hint(K::Char('r'),   C::Cards,   Action::Reject,       "reject the marked cards, else this one", "reject"),
    bind(K::Char('v'),   C::Cards,   Action::Verify,       "mark the data as checked (marked or this)"),
    bind(K::Char('u'),   C::Cards,   Action::Unverify,     "take the check back"),
    bind(K::Char('L'),   C::Cards,   Action::Release,      "release the claim (admins: anyone's)"),
    hint(K::Char('R'),   C::Cards,   Action::Refresh,      "refresh now", "refresh"),
    hint(K::Char('?'),   C::Cards,   Action::ShowHelp,     "this help", "help"),
    hint(K::Enter,       C::Prompt,  Action::Submit,       "apply the filter / send", "apply"),
    hint(K::Esc,         C::Prompt,  Action::Cancel,       "cancel", "cancel"),
    bind(K::Backspace,   C::Prompt,  Action::DeleteChar,   "delete before the cursor"),
    bind(K::Delete,      C::Prompt,  Action::DeleteForward, "delete under the cursor"),
    bind(K::Left,        C::Prompt,  Action::CursorLeft,   "cursor left"),
    bind(K::Right,       C::Prompt,  Action::CursorRight,  "cursor right"),
    bind(K::Home,        C::Prompt,  Action::CursorHome,   "cursor to the start"),
    bind(K::End,         C::Prompt,  Action::CursorEnd,    "cursor to the end"),
    bind(K::Up,          C::Prompt,  Action::HistoryPrev,  "filter bar: the previous filter"),
    bind(K::Down,        C::Prompt,  Action::HistoryNext,  "filter bar: the next filter"),
    bind(K::Ctrl('u'),   C::Prompt,  Action::ClearInput,   "clear the line"),
    bind(K::Tab,         C::Prompt,  Action::Complete,     "complete a filter key; in a reason, the next preset"),
    // The typed character replaces the placeholder in `lookup`.
    bind(K::Text,        C::Prompt,  Action::Input(' '),   "type text"),
    hint(K::Char('y'),   C::Confirm, Action::Confirm,      "yes, go ahead", "yes"),
    hint(K::Char('n'),   C::Confirm, Action::Cancel,       "no, leave the cards alone", "no"),
    bind(K::Esc,         C::Confirm, Action::Cancel,       "no, leave the cards alone"),
    hint(K::Esc,         C::Results, Action::Back,         "back to the list", "back"),
    bind(K::Char('q'),   C::Results, Action::Back,         "back to the list"),
    hint(K::Char('j'),   C::Results, Action::MoveDown,     "scroll down", "scroll"),
    bind(K::Down,        C::Results, Action::MoveDown,     "scroll down"),
    bind(K::Char('k'),   C::Results, Action::MoveUp,       "scroll up"),
    bind(K::Up,          C::Results, Action::MoveUp,       "scroll up"),
    bind(K::PageDown,    C::Results, Action::PageDown,     "scroll a page down"),
    bind(K::PageUp,      C::Results, Action::PageUp,       "scroll a page up"),
    hint(K::Esc,         C::Dashboard, Action::Back,       "back to the list", "back"),
    bind(K::Char('q'),   C::Dashboard, Action::Back,       "back to the list"),
    hint(K::Char('R'),   C::Dashboard, Action::Refresh,    "refresh the numbers now", "refresh"),
    hint(K::Char('?'),   C::Dashboard, Action::ShowHelp,   "this help", "help"),
    hint(K::Enter,       C::Picker,  Action::ApplyView,    "show the list through the view", "show"),
    hint(K::Char('j'),   C::Picker,  Action::MoveDown,     "the next view", "move"),
    bind(K::Down,        C::Picker,  Action::MoveDown,     "the next view"),
    bind(K::Char('k'),   C::Picker,  Action::MoveUp,       "the previous view"),
    bind(K::Up,          C::Picker,  Action::MoveUp,       "the previous view"),
    hint(K::Char('x'),   C::Picker,  Action::DeleteView,   "delete the view (your own; team views are the admins')", "delete"),
    bind(K::Delete,      C::Picker,  Action::DeleteView,   "delete the view (your own)"),
    hint(K::Esc,         C::Picker,  Action::Back,         "close the picker", "close"),
    bind(K::Char('q'),   C::Picker,  Action::Back,         "close the picker"),
    hint(K::Esc,         C::Help,    Action::Back,         "close the help", "close"),
    hint(K::Char('j'),   C::Help,    Action::MoveDown,     "scroll down", "scroll"),
    bind(K::Down,        C::Help,    Action::MoveDown,     "scroll down"),
    bind(K::Char('k'),   C::Help,    Action::MoveUp,       "scroll up"),
    bind(K::Up,          C::Help,    Action::MoveUp,       "scroll up"),
    bind(K::Char('q'),   C::Help,    Action::Back,         "close the help"),
    bind(K::Char('?'),   C::Help,    Action::Back,         "close the help"),
];
