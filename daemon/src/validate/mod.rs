//! Intake validation of a submission folder: the manifest, the folder's entries, and every file's
//! content (type by magic bytes, size limits, a bounded image decode: a JPEG's scans at 1/8
//! scale, other formats in full; a structural container check for videos). Pure and synchronous;
//! the pipeline calls it inside `spawn_blocking`.
//! Data rules on extracted fields (age from date of birth, issue/expiry dates, document number
//! and name formats) cannot run at intake, where nothing has been extracted yet: they belong to
//! the card domain (`crate::card::rules`), which runs them after verification and corrections.
//! Every failure is a [`Rejection`] carrying a stable snake_case rule name, so the inbox can write
//! it to `reason.json` and the console can group by it. Rule names in use:
//! - manifest: `manifest_missing`, `manifest_malformed`, `unknown_document_type`;
//! - folder: `unreadable`, `symlink`, `file_name`, `unexpected_directory`, `too_many_files`,
//!   `duplicate_role`, `front_missing`, `back_missing`;
//! - content: `empty_file`, `file_type`, `image_too_large`, `video_too_large`, `file_too_large`,
//!   `decompression_bomb`, `image_corrupt`, `image_too_small`, `video_corrupt`, `pdf_corrupt`;
//! - and, from the card domain when the card would be made (`ingest::pipeline`):
//!   `active_card_exists`, `duplicate_submission` (the same files again for the user, naming
//!   their card), `duplicate_document` (a file on another user's card, under `[inbox]
//!   duplicates = "reject"`).

mod folder;
mod images;
mod jpeg;
mod manifest;
mod media;
mod sniff;
mod submission;
mod video;

#[cfg(test)]
mod jpeg_damage;
#[cfg(test)]
mod proptests;

#[cfg(test)]
mod fixtures;

pub use manifest::{Manifest, parse_manifest};
pub use media::{Inspected, inspect_file};
pub use submission::{MANIFEST_FILE, ValidFile, ValidSubmission, validate_submission};

/// A rule that failed: its stable snake_case name, the file it concerns, and a sentence saying
/// what is wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Rejection {
    /// Stable rule name, e.g. `image_too_small`; safe to match on and to store.
    pub rule: &'static str,
    /// The file name inside the submission folder, when the rule concerns one file.
    pub file: Option<String>,
    /// A sentence for the submitter: what is wrong and what to do.
    pub message: String,
}

impl Rejection {
    /// A rejection that concerns the folder or the manifest as a whole.
    pub fn new(rule: &'static str, message: impl Into<String>) -> Self {
        Rejection {
            rule,
            file: None,
            message: message.into(),
        }
    }

    /// A rejection that concerns one file.
    pub fn file(rule: &'static str, file: impl Into<String>, message: impl Into<String>) -> Self {
        Rejection {
            rule,
            file: Some(file.into()),
            message: message.into(),
        }
    }
}
