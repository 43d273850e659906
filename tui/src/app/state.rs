//! The pieces of console state besides the list: which screen shows, the open prompt, the
//! detail screen's card, the status line, the connection and the colour theme.

use idreview_protocol::{AuditEvent, Card, CardId, CardRef, Decision, Role};

use crate::rpc::CallError;

/// The screen under any prompt or help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    List,
    Detail,
}

/// What an open prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    /// The filter bar: a query in the query language.
    Filter,
    /// The reason for a decision on `card`.
    Reason { decision: Decision, card: CardRef },
}

/// An input line at the bottom of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// What the prompt is for.
    pub kind: PromptKind,
    /// What the user typed.
    pub text: String,
}

impl Prompt {
    /// The label before the text.
    pub fn label(&self) -> String {
        match &self.kind {
            PromptKind::Filter => "filter: ".to_string(),
            PromptKind::Reason {
                decision: Decision::Reject,
                card,
            } => {
                format!("reject card {} - reason (required): ", card.id)
            }
            PromptKind::Reason {
                decision: Decision::Approve,
                card,
            } => {
                format!("approve card {} - reason (optional): ", card.id)
            }
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
}

impl Detail {
    /// A detail screen waiting for card `id`.
    pub fn loading(id: CardId) -> Detail {
        Detail {
            id,
            card: None,
            audit: None,
            scroll: 0,
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
        let fields = 1 + some(card.fields.len()) + usize::from(!card.fields.is_empty());
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
        fields + sections.iter().map(|n| n + 2).sum::<usize>()
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
