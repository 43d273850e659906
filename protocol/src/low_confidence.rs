//! The low-confidence review queue: cards holding fields the provider was unsure of, and which
//! fields those are, served from the daemon's index without decoding whole cards.

use serde::{Deserialize, Serialize};

use crate::CardSummary;

/// One card of the low-confidence queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowConfidenceCard {
    pub summary: CardSummary,
    /// Names of the fields below the daemon's threshold, in the card's field order.
    pub fields: Vec<String>,
}

/// One page of the low-confidence queue, oldest card first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowConfidencePage {
    /// Cards with at least one low-confidence field, in all.
    pub total: u64,
    pub offset: u64,
    /// The confidence threshold the daemon measures against.
    pub threshold: f32,
    pub cards: Vec<LowConfidenceCard>,
}
