//! Submissions the inbox refused: each sits in `rejected/<folder>/` with a `reason.json`
//! naming the rule, and reviewers list them here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One refused submission, as its `reason.json` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedSubmission {
    /// The folder's name under `rejected/`.
    pub folder: String,
    /// The validation rule it broke (`image_too_small`, `unsupported_format`, ...).
    pub rule: String,
    /// The file the rule names, if one.
    pub file: Option<String>,
    /// What was wrong, in words.
    pub message: String,
    /// When it was refused; `None` when the reason file is unreadable.
    #[serde(default, with = "crate::time::option")]
    pub rejected_at: Option<DateTime<Utc>>,
}

/// A page of refused submissions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPage {
    /// All refused submissions in `rejected/`.
    pub total: u64,
    pub items: Vec<RejectedSubmission>,
}
