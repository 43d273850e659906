//! How a claimed submission folder leaves the work area, in steps that a daemon killed between
//! any two of them completes at the next start instead of redoing or losing:
//! - ingested: renamed to a hidden `.done-*` name (or into `processed/`) in one atomic step,
//!   then removed; a half-removed `.done-*` folder is cleared at start;
//! - rejected: the verdict is written into the folder as `.reason.json` first, the folder is
//!   renamed into `rejected/`, and only then the verdict gets its public name `reason.json`; a
//!   folder found in the work area with a verdict is moved on without being validated again,
//!   and a rejected folder whose verdict kept its hidden name is fixed at start. A verdict is
//!   only ever written after a claim, so one that arrives with a submission is the submitter's:
//!   it is set aside under another hidden name before the claim ([`set_aside_foreign_verdict`]),
//!   and validation refuses it like any hidden file.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::Serialize;
use tracing::{info, warn};

use crate::validate::Rejection;

/// The verdict's name while the folder is on its way to `rejected/`.
pub const PENDING_REASON: &str = ".reason.json";
/// The verdict's name in a rejected folder.
pub const REASON: &str = "reason.json";
/// What a verdict file that came with a submission is renamed to (kept, never read).
const FOREIGN_REASON: &str = ".reason.json.submitted";
/// Prefix of an ingested folder being removed from the work area.
const DONE_PREFIX: &str = ".done-";

/// Written next to a rejected submission.
#[derive(Debug, Serialize)]
pub struct Reason<'a> {
    pub rule: &'a str,
    pub file: Option<&'a str>,
    pub message: &'a str,
    pub submission: String,
    pub rejected_at: String,
}

/// Moves an ingested folder out of the work area: into `processed` when given, else removed.
/// The folder leaves its claimed name in one rename, so a restart never takes a half-removed
/// folder for a submission.
pub fn clear_ingested(dir: &Path, name: &OsStr, processed: Option<&Path>) -> std::io::Result<()> {
    if let Some(processed) = processed {
        std::fs::create_dir_all(processed)?;
        return std::fs::rename(dir, unique_target(processed, name));
    }
    let mut hidden = OsString::from(DONE_PREFIX);
    hidden.push(dir.file_name().unwrap_or(name));
    let doomed = dir.with_file_name(hidden);
    std::fs::rename(dir, &doomed)?;
    std::fs::remove_dir_all(&doomed)
}

/// Moves the folder to `rejected/` with the verdict as `reason.json`; see the module header.
/// Answers where it went. (A claim does it in two steps, `Claimed::write_verdict` then
/// `Claimed::rejected`, so that a crash between them is finished at the next start.)
#[cfg(test)]
pub fn reject_folder(
    dir: &Path,
    name: &OsStr,
    rejected: &Path,
    rejection: &Rejection,
) -> std::io::Result<PathBuf> {
    if !dir.join(PENDING_REASON).exists() {
        write_reason(&dir.join(PENDING_REASON), name, rejection)?;
    }
    finish_rejection(dir, name, rejected)
}

/// Moves a folder that already carries its verdict (`.reason.json`) to `rejected/`.
pub fn finish_rejection(dir: &Path, name: &OsStr, rejected: &Path) -> std::io::Result<PathBuf> {
    let target = unique_target(rejected, name);
    std::fs::create_dir_all(rejected)?;
    std::fs::rename(dir, &target)?;
    std::fs::rename(target.join(PENDING_REASON), target.join(REASON))?;
    Ok(target)
}

/// The rule named by a verdict file, for logs.
pub fn verdict_rule(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("rule")?.as_str().map(str::to_string)
}

/// Writes a verdict file (through a temp name, so it is whole or absent).
pub fn write_reason(path: &Path, name: &OsStr, rejection: &Rejection) -> std::io::Result<()> {
    let reason = Reason {
        rule: rejection.rule,
        file: rejection.file.as_deref(),
        message: &rejection.message,
        submission: name.to_string_lossy().into_owned(),
        rejected_at: Utc::now().to_rfc3339(),
    };
    let text = serde_json::to_string_pretty(&reason).unwrap_or_default();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

/// Completes what a killed daemon left half done: removes `.done-*` folders from the work
/// area and gives hidden verdicts in `rejected/` their public name. Run at start.
pub fn repair(work: &Path, rejected: &Path) {
    for entry in std::fs::read_dir(work).into_iter().flatten().flatten() {
        if !is_claim(&entry.file_name())
            && let Err(e) = std::fs::remove_dir_all(entry.path())
        {
            warn!(error = %e, dir = %entry.path().display(), "cannot clear an ingested folder");
        }
    }
    for entry in std::fs::read_dir(rejected).into_iter().flatten().flatten() {
        let pending = entry.path().join(PENDING_REASON);
        if pending.exists() {
            let fixed = std::fs::rename(&pending, entry.path().join(REASON));
            match fixed {
                Ok(()) => {
                    info!(dir = %entry.path().display(), "completed an interrupted rejection")
                }
                Err(e) => {
                    warn!(error = %e, dir = %entry.path().display(), "cannot complete a rejection")
                }
            }
        }
    }
}

/// Renames a `.reason.json` that a submission folder in the inbox carries (the submitter's, not
/// ours: ours are written only after a claim) so that it is never taken for a verdict. Answers
/// whether there was one.
pub fn set_aside_foreign_verdict(dir: &Path) -> std::io::Result<bool> {
    let foreign = dir.join(PENDING_REASON);
    if std::fs::symlink_metadata(&foreign).is_err() {
        return Ok(false);
    }
    std::fs::rename(&foreign, unique_target(dir, OsStr::new(FOREIGN_REASON)))?;
    Ok(true)
}

/// Whether a work-area entry is a claimed submission (not a folder being cleared).
pub fn is_claim(name: &OsStr) -> bool {
    !name.as_encoded_bytes().starts_with(DONE_PREFIX.as_bytes())
}

/// `dir/name`, or `dir/name-1`, `dir/name-2`... when taken.
pub fn unique_target(dir: &Path, name: &OsStr) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|n| {
            let mut candidate = name.to_os_string();
            candidate.push(format!("-{n}"));
            dir.join(candidate)
        })
        .find(|p| !p.exists())
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection() -> Rejection {
        Rejection::new("file_type", "not a photo")
    }

    #[test]
    fn a_rejection_interrupted_after_the_move_is_completed_at_start() {
        let root = tempfile::tempdir().expect("tempdir");
        let (work, rejected) = (root.path().join("work"), root.path().join("rejected"));
        let dir = work.join("s1");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("front.jpg"), b"x").expect("file");
        write_reason(&dir.join(PENDING_REASON), OsStr::new("s1"), &rejection()).expect("verdict");
        // Killed after the folder moved, before the verdict got its name.
        std::fs::create_dir_all(&rejected).expect("rejected");
        std::fs::rename(&dir, rejected.join("s1")).expect("move");
        repair(&work, &rejected);
        assert_eq!(
            verdict_rule(&rejected.join("s1").join(REASON)).as_deref(),
            Some("file_type")
        );
        assert!(!rejected.join("s1").join(PENDING_REASON).exists());
    }

    #[test]
    fn ingested_folders_leave_the_work_area_whole() {
        let root = tempfile::tempdir().expect("tempdir");
        let work = root.path().join("work");
        let dir = work.join("s2");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("front.jpg"), b"x").expect("file");
        clear_ingested(&dir, OsStr::new("s2"), None).expect("clear");
        assert!(!dir.exists());
        // A half-removed folder under its hidden name is not a claim and is cleared at start.
        std::fs::create_dir_all(work.join(".done-s3")).expect("dir");
        assert!(!is_claim(OsStr::new(".done-s3")));
        repair(&work, &root.path().join("rejected"));
        assert!(!work.join(".done-s3").exists());
    }

    #[test]
    fn a_rejected_folder_gets_its_reason() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("work").join("s4");
        std::fs::create_dir_all(&dir).expect("dir");
        let rejected = root.path().join("rejected");
        let at = reject_folder(&dir, OsStr::new("s4"), &rejected, &rejection()).expect("reject");
        assert_eq!(at, rejected.join("s4"));
        assert_eq!(verdict_rule(&at.join(REASON)).as_deref(), Some("file_type"));
        assert!(!at.join(PENDING_REASON).exists());
    }
}
