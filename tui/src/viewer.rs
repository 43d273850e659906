//! A card's image file outside the console, for terminals that cannot show images: written to
//! a path the reviewer chose ([`write`]), or to a private temporary file handed to the desktop's
//! viewer with `xdg-open` ([`open`]), detached so the console never waits for it.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The program that opens a file in the desktop's viewer.
pub const OPENER: &str = "xdg-open";

/// How long `xdg-open` may take to say it failed; one still running then has handed the file
/// to a viewer (some run the viewer themselves).
const OPENER_GRACE: Duration = Duration::from_secs(2);

/// Why an image could not be written or opened.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{OPENER} is not installed; press W to write the image to a file instead")]
    NoOpener,
    #[error("cannot run {OPENER}: {0}")]
    Spawn(std::io::Error),
    #[error("{OPENER} failed ({status}) on {path}; press W to write the image to a file instead")]
    Refused { path: PathBuf, status: String },
}

/// The path a write prompt offers for `file_name` of card `id` in `role`:
/// `./card-<id>-<role>.<ext>`.
pub fn default_path(id: idreview_protocol::CardId, role: &str, file_name: &str) -> String {
    let ext = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("img");
    format!("./card-{id}-{role}.{ext}")
}

/// Writes `bytes` to `path` (readable by the owner only: it is a person's document); an
/// existing file is replaced.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), ViewerError> {
    let failed = |source| ViewerError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    file.write_all(bytes).map_err(failed)
}

/// Writes `bytes` to a private temporary file named after `name` and opens it with
/// [`OPENER`] in a process group of its own (so Ctrl-C in the console does not reach the
/// viewer); answers the file's path. A thread waits for the opener so it is never left a
/// zombie.
pub fn open(name: &str, bytes: &[u8]) -> Result<PathBuf, ViewerError> {
    let dir = private_dir()?;
    let path = dir.join(name);
    write(&path, bytes)?;
    let spawned = Command::new(OPENER)
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ViewerError::NoOpener),
        Err(e) => return Err(ViewerError::Spawn(e)),
    };
    let deadline = Instant::now() + OPENER_GRACE;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(path),
            Ok(Some(status)) => {
                return Err(ViewerError::Refused {
                    path,
                    status: status.to_string(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(ViewerError::Spawn(e)),
        }
    }
    std::thread::spawn(move || child.wait());
    Ok(path)
}

/// `idreview-<user>` in the temporary directory, readable by its owner only.
fn private_dir() -> Result<PathBuf, ViewerError> {
    let user = std::env::var("USER").unwrap_or_else(|_| "console".into());
    let dir = std::env::temp_dir().join(format!("idreview-{user}"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|source| ViewerError::Write {
            path: dir.clone(),
            source,
        })?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_offered_path_names_the_card_and_side() {
        let id = idreview_protocol::CardId(12);
        assert_eq!(
            default_path(id, "front", "scan.jpeg"),
            "./card-12-front.jpeg"
        );
        assert_eq!(default_path(id, "back", "back"), "./card-12-back.img");
    }

    #[test]
    fn a_written_image_is_the_owners_only_and_a_bad_path_says_which() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("card.jpg");
        write(&path, b"jpeg").expect("writes");
        assert_eq!(std::fs::read(&path).expect("reads"), b"jpeg");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let err = write(&dir.path().join("no/such/dir.jpg"), b"x").expect_err("no dir");
        assert!(err.to_string().contains("no/such/dir.jpg"), "{err}");
    }
}
