//! The pieces of console state besides the list: which screen shows, the open prompt, the
//! detail screen's card, the status line, the connection and the colour theme.

use idreview_protocol::{AuditEvent, Card, CardId, CardRef, NamedView, Role};

use crate::message::{BulkOp, CallError};

/// The screen under any prompt or help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    List,
    Detail,
    /// The per-card results of the last bulk run.
    Results,
    /// Counts, the queue, reviewers' decisions and charts, updated from the change feed.
    Dashboard,
}

/// What an open prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    /// The filter bar: a query in the query language.
    Filter,
    /// The reason for `op` on `cards`, `hidden` of which are not on screen.
    Reason {
        op: BulkOp,
        cards: Vec<CardRef>,
        hidden: usize,
    },
    /// Yes or no to `op` on `cards`, with the reason already given; `hidden` of the cards are
    /// not on screen.
    Confirm {
        op: BulkOp,
        cards: Vec<CardRef>,
        reason: String,
        hidden: usize,
    },
    /// The reason for approving `cards` although the daemon named doubts about them (the
    /// status line lists them); Esc leaves them undecided.
    Override { cards: Vec<CardRef> },
    /// A new value for `field` of `card`.
    Correct { card: CardRef, field: String },
    /// Where to write image file `name` of card `id`.
    WriteImage { id: CardId, name: String },
    /// The name to save the list's filter and sort under.
    ViewName,
}

/// An input line at the bottom of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// What the prompt is for.
    pub kind: PromptKind,
    /// What the user typed.
    pub text: String,
    /// Where typing goes, in characters from the start.
    pub cursor: usize,
    /// The filter history entry shown, while Up/Down walk it.
    pub history_at: Option<usize>,
}

impl Prompt {
    /// The label before the text.
    pub fn label(&self) -> String {
        let what = |cards: &[CardRef]| match cards {
            [one] => format!("card {}", one.id),
            many => format!("{} cards", many.len()),
        };
        match &self.kind {
            PromptKind::Filter => "filter: ".to_string(),
            PromptKind::Reason { op, cards, .. } => {
                let need = match op {
                    BulkOp::Reject | BulkOp::ApproveOverDoubts => "required",
                    _ => "optional",
                };
                format!("{} {} - reason ({need}): ", op.verb(), what(cards))
            }
            PromptKind::Confirm {
                op, cards, hidden, ..
            } => {
                let unseen = match (cards.len(), *hidden) {
                    (_, 0) => String::new(),
                    (1, _) => ", which is not on screen".to_string(),
                    (_, n) if n == cards.len() => ", none of them on screen".to_string(),
                    (_, n) => format!(", {n} of them not on screen"),
                };
                format!("{} {}{unseen}? y/n ", op.verb(), what(cards))
            }
            PromptKind::Override { cards, .. } => {
                format!("approve {} over doubts - reason: ", what(cards))
            }
            PromptKind::Correct { card, field } => format!("card {} {field}: ", card.id),
            PromptKind::WriteImage { id, name } => format!("write card {id} {name} to: "),
            PromptKind::ViewName => "save this filter and sort as view: ".to_string(),
        }
    }

    /// Whether the prompt takes text (a confirmation only takes yes or no).
    pub fn takes_text(&self) -> bool {
        !matches!(self.kind, PromptKind::Confirm { .. })
    }
}

/// The picker of named views, over the list.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewPicker {
    /// The views (the reviewer's own, then the team's), once they answered.
    pub views: Option<Result<Vec<NamedView>, CallError>>,
    /// The selected view.
    pub cursor: usize,
}

impl ViewPicker {
    /// The selected view, when the views are in.
    pub fn selected(&self) -> Option<&NamedView> {
        match &self.views {
            Some(Ok(views)) => views.get(self.cursor),
            _ => None,
        }
    }
}

/// How serious a status line message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// The one-line message under the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusLine {
    /// Info or error.
    pub level: Level,
    /// The message.
    pub text: String,
}

/// Whether the daemon is reachable.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Connected { identity: String, role: Role },
    Down(String),
}

/// The detail screen: one card and its audit history, each loaded on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// The card shown.
    pub id: CardId,
    /// The card, once it answered.
    pub card: Option<Result<Card, CallError>>,
    /// Its audit history, once it answered.
    pub audit: Option<Result<Vec<AuditEvent>, CallError>>,
    /// First line shown.
    pub scroll: u16,
    /// The focused field, for corrections.
    pub field: usize,
    /// The card is claimed by this console (released when the screen closes).
    pub claimed: bool,
    /// The document image shown instead of the text, when it is.
    pub image: Option<DocImage>,
}

/// The document image on the detail screen: which file, how it is turned and zoomed.
#[derive(Debug, Clone, PartialEq)]
pub struct DocImage {
    /// The file's submitted name.
    pub name: String,
    /// The decoded image once it arrived, or why it could not be shown.
    pub loaded: Option<Result<std::sync::Arc<image::DynamicImage>, String>>,
    /// Quarter turns clockwise: 0..=3.
    pub quarter_turns: u8,
    /// Zoomed to the focused field's box.
    pub zoom: bool,
}

impl Detail {
    /// A detail screen waiting for card `id`.
    pub fn loading(id: CardId) -> Detail {
        Detail {
            id,
            card: None,
            audit: None,
            scroll: 0,
            field: 0,
            claimed: false,
            image: None,
        }
    }

    /// The loaded card, if it loaded.
    pub fn card(&self) -> Option<&Card> {
        self.card.as_ref().and_then(|c| c.as_ref().ok())
    }

    /// How many lines the detail page has; `ui::detail` draws exactly these (a test holds
    /// both to it), so scrolling can stop at the end without asking the renderer.
    pub fn line_count(&self) -> usize {
        let Some(card) = self.card() else {
            return 1;
        };
        let some = |n: usize| n.max(1);
        let candidates: usize = card
            .fields
            .iter()
            .map(|f| f.candidates.iter().filter(|c| c.value != f.value).count())
            .sum();
        let fields =
            1 + some(card.fields.len()) + usize::from(!card.fields.is_empty()) + candidates;
        // A blank line, the heading, the legend and two lines per row (`ui::zone`).
        let zone = card.raw_zone.as_ref().map_or(0, |z| 3 + 2 * z.rows.len());
        let provider = card.provider.as_ref().map_or(1, |p| {
            1 + usize::from(p.failure.is_some()) + p.warnings.len()
        });
        let audit = match &self.audit {
            Some(Ok(events)) => some(events.len()),
            _ => 1,
        };
        // Every section after the first has a blank line and a heading.
        let sections = [
            some(card.files.len()),
            some(card.findings.len()),
            provider,
            1,
            audit,
        ];
        fields + zone + sections.iter().map(|n| n + 2).sum::<usize>()
    }

    /// The furthest the page scrolls with `visible` lines on screen.
    pub fn max_scroll(&self, visible: u16) -> u16 {
        let beyond = self.line_count().saturating_sub(usize::from(visible));
        u16::try_from(beyond).unwrap_or(u16::MAX)
    }
}

/// How confidences are coloured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    /// `[red below, yellow below]`.
    pub bands: [f32; 2],
    /// `false` under `NO_COLOR`.
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            bands: [0.5, 0.8],
            color: true,
        }
    }
}

/// A bulk run on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRun {
    /// What is being done.
    pub op: BulkOp,
    /// Cards answered so far.
    pub done: usize,
    /// Cards sent in all.
    pub total: usize,
    /// The cards sent, with the versions they were sent at (an override re-sends some).
    pub cards: Vec<CardRef>,
}

/// The outcome of a finished bulk run, for the results screen.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkReport {
    /// What was done.
    pub op: BulkOp,
    /// Cards sent.
    pub total: usize,
    /// Cards that took it.
    pub ok: usize,
    /// Cards that did not, and why.
    pub failures: Vec<(CardId, String)>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
    /// First failure line shown.
    pub scroll: u16,
}
