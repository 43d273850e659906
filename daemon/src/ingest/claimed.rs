//! [`Claimed`]: the one owner of a submission folder from the moment it is claimed (renamed
//! out of the inbox into the work area) until it ends as a card (cleared, or kept in
//! `processed/`) or in `rejected/` with its verdict. Ending a claim consumes it; a claim that
//! cannot end yet (our side failed) is handed back to be tried again, still owned. Each way out
//! is made of the crash-safe steps in [`super::workarea`].

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::workarea::{self, PENDING_REASON};
use crate::validate::Rejection;

/// A claimed submission folder in the work area.
#[derive(Debug)]
pub struct Claimed {
    /// Where it is now: `work/<claim name>`.
    dir: PathBuf,
    /// Its name in the inbox, as the producer gave it.
    name: OsString,
}

impl Claimed {
    /// Claims the complete submission at `path` (named `name` in the inbox) by renaming it
    /// into `work`; a verdict file the submitter put in it is set aside first, so that it is
    /// never taken for ours.
    pub fn take(path: &Path, name: OsString, work: &Path) -> std::io::Result<Claimed> {
        if workarea::set_aside_foreign_verdict(path)? {
            tracing::info!(submission = %name.to_string_lossy(), "a submission carried a .reason.json of its own; set aside for validation to refuse");
        }
        let dir = workarea::unique_target(work, &name);
        std::fs::rename(path, &dir)?;
        Ok(Claimed { dir, name })
    }

    /// A loose file or symlink at the top of the inbox, moved into a folder of its own in the
    /// work area so that it is rejected like any submission.
    pub fn take_loose(path: &Path, name: OsString, work: &Path) -> std::io::Result<Claimed> {
        let dir = workarea::unique_target(work, &name);
        std::fs::create_dir_all(&dir)?;
        std::fs::rename(path, dir.join(&name))?;
        Ok(Claimed { dir, name })
    }

    /// The claims a daemon stopped before it finished them, to resume.
    pub fn leftovers(work: &Path) -> Vec<Claimed> {
        let Ok(entries) = std::fs::read_dir(work) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| workarea::is_claim(&e.file_name()))
            .map(|e| Claimed {
                dir: e.path(),
                name: e.file_name(),
            })
            .collect()
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its name in the inbox.
    pub fn name(&self) -> &OsStr {
        &self.name
    }

    /// Its name in the work area, which keys its ingestion job.
    pub fn key(&self) -> &OsStr {
        self.dir.file_name().unwrap_or(self.dir.as_os_str())
    }

    /// Whether a verdict is already in the folder: a rejection a killed daemon did not finish.
    pub fn has_verdict(&self) -> bool {
        self.dir.join(PENDING_REASON).exists()
    }

    /// The rule of the verdict in the folder, if it has one.
    pub fn verdict_rule(&self) -> Option<String> {
        workarea::verdict_rule(&self.dir.join(PENDING_REASON))
    }

    /// Ends the claim of an ingested submission: its originals go, or move to `processed`.
    pub fn ingested(self, processed: Option<&Path>) -> Result<(), (Claimed, std::io::Error)> {
        match workarea::clear_ingested(&self.dir, &self.name, processed) {
            Ok(()) => Ok(()),
            Err(e) => Err((self, e)),
        }
    }

    /// Writes the verdict into the folder (the first step of a rejection).
    pub fn write_verdict(&self, rejection: &Rejection) -> std::io::Result<()> {
        workarea::write_reason(&self.dir.join(PENDING_REASON), &self.name, rejection)
    }

    /// Ends the claim of a submission a front end refused before it became a card (an HTTP
    /// upload whose user already has one): the folder goes, since its sender got the answer.
    pub fn discard(self) -> std::io::Result<()> {
        std::fs::remove_dir_all(&self.dir)
    }

    /// Ends the claim of a folder carrying its verdict: it moves whole into `rejected`.
    /// Answers where it went.
    pub fn rejected(self, rejected: &Path) -> Result<PathBuf, (Claimed, std::io::Error)> {
        match workarea::finish_rejection(&self.dir, &self.name, rejected) {
            Ok(at) => Ok(at),
            Err(e) => Err((self, e)),
        }
    }
}
