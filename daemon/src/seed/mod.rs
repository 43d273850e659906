//! The seed's view of a card: how idreview's richer card reads to clients written for the
//! Django app it replaces (the HTTP API), and the indexes that view needs. A mapping only: every
//! rule of a card stays in the card domain (`crate::card`); this module names, never decides.
//!
//! - [`names`]: the seed's OCR field names (`firstName`, `dateOfBirth`...) <-> ours
//!   (`given_names`, `birth_date`...), both ways;
//! - [`view`]: the seed's status, stage, decision, `verified`, `card_confidence` (the mean of the
//!   field confidences; ours is the minimum) and low-confidence field names of a card;
//! - [`index`]: bitmaps over those (seed status, decision, verified, country), the cards sorted
//!   by mean confidence, and a trigram index for the seed's case-insensitive substring search;
//!   kept inside the store's index, so it changes in the same code path as every write.

pub mod index;
pub mod names;
pub mod view;

pub use index::{SeedIndex, SeedOrder, SeedPage, SeedQuery};
pub use view::{SeedDecision, SeedStatus};
