//! Reading `rejected/` back for reviewers: how many submissions wait there, and a page of them
//! newest first (by the folder's time: its verdict is renamed into place last).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use idreview_protocol::{RejectedPage, RejectedSubmission};
use serde::Deserialize;

use super::workarea::REASON;

/// The fields of a `reason.json` a reviewer sees.
#[derive(Deserialize)]
struct Reason {
    rule: String,
    file: Option<String>,
    message: String,
    rejected_at: Option<DateTime<Utc>>,
}

/// Refused submissions in `dir` (hidden folders are still being moved in).
pub fn count(dir: &Path) -> u64 {
    folders(dir).count() as u64
}

/// The page from `offset` of at most `limit` refused submissions, newest first.
pub fn page(dir: &Path, offset: u64, limit: u32) -> RejectedPage {
    let mut found: Vec<(SystemTime, PathBuf)> = folders(dir)
        .map(|path| {
            let time = path
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            (time, path)
        })
        .collect();
    found.sort_unstable_by(|a, b| b.cmp(a));
    let total = found.len() as u64;
    let items = found
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(limit as usize)
        .map(|(_, path)| read(&path))
        .collect();
    RejectedPage { total, items }
}

fn folders(dir: &Path) -> impl Iterator<Item = PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
}

/// One folder's verdict; an unreadable one still lists, saying so.
fn read(path: &Path) -> RejectedSubmission {
    let folder = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reason = std::fs::read_to_string(path.join(REASON))
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str::<Reason>(&text).map_err(|e| e.to_string()));
    match reason {
        Ok(r) => RejectedSubmission {
            folder,
            rule: r.rule,
            file: r.file,
            message: r.message,
            rejected_at: r.rejected_at,
        },
        Err(why) => RejectedSubmission {
            folder,
            rule: "unknown".into(),
            file: None,
            message: format!("{REASON} unreadable: {why}"),
            rejected_at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_newest_first_and_lists_unreadable_verdicts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, reason: Option<&str>| {
            let folder = dir.path().join(name);
            std::fs::create_dir(&folder).expect("mkdir");
            if let Some(text) = reason {
                std::fs::write(folder.join(REASON), text).expect("write");
            }
            // Folder times a second apart, oldest first.
            let at = SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1_700_000_000 + name.len() as u64);
            std::fs::File::open(&folder)
                .and_then(|f| f.set_modified(at))
                .expect("set time");
        };
        write(
            "a",
            Some(
                r#"{"rule":"image_too_small","file":"front.jpg","message":"640x480","submission":"a","rejected_at":"2026-12-06T10:00:00+00:00"}"#,
            ),
        );
        write("bb", None);
        write(".ccc-moving", None);
        std::fs::write(dir.path().join("loose.txt"), "x").expect("write");

        assert_eq!(
            count(dir.path()),
            2,
            "hidden folders and files are not counted"
        );
        let page = page(dir.path(), 0, 10);
        assert_eq!(page.total, 2);
        let names: Vec<&str> = page.items.iter().map(|i| i.folder.as_str()).collect();
        assert_eq!(names, ["bb", "a"]);
        assert_eq!(page.items[0].rule, "unknown");
        assert!(page.items[0].message.contains("unreadable"));
        assert_eq!(page.items[1].rule, "image_too_small");
        assert_eq!(page.items[1].file.as_deref(), Some("front.jpg"));
        assert!(page.items[1].rejected_at.is_some());
        assert_eq!(super::page(dir.path(), 1, 10).items.len(), 1);
        assert_eq!(super::page(dir.path(), 0, 1).items[0].folder, "bb");
    }
}
