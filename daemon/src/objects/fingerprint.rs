//! What a file looked like when it was validated (device, inode, size, modification time), so
//! that storing it can tell whether it changed since without reading and hashing it again.

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A file's identity and last change as the kernel reports them. Any write moves the
/// modification time (nanoseconds on the file systems we run on) and a replaced file has another
/// inode, so an unchanged fingerprint means the bytes are the ones hashed when it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Fingerprint {
    /// The fingerprint of metadata already at hand (an open file's `fstat`).
    pub fn of(meta: &Metadata) -> Fingerprint {
        Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }

    /// Whether the file at `path` (not following a symbolic link) still has this fingerprint.
    pub async fn still_matches(&self, path: &Path) -> io::Result<bool> {
        let meta = tokio::fs::symlink_metadata(path).await?;
        Ok(Fingerprint::of(&meta) == *self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rewrite_or_a_replacement_changes_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello").expect("write");
        let seen = Fingerprint::of(&std::fs::metadata(&path).expect("stat"));
        assert!(seen.still_matches(&path).await.expect("stat"));
        // Same size, new content.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"jello").expect("rewrite");
        assert!(!seen.still_matches(&path).await.expect("stat"));
        // Another file renamed over it, even with the same times.
        let seen = Fingerprint::of(&std::fs::metadata(&path).expect("stat"));
        let other = dir.path().join("g");
        std::fs::copy(&path, &other).expect("copy");
        let f = std::fs::File::options()
            .write(true)
            .open(&other)
            .expect("open");
        f.set_modified(
            std::fs::metadata(&path)
                .expect("stat")
                .modified()
                .expect("mtime"),
        )
        .expect("set mtime");
        std::fs::rename(&other, &path).expect("rename");
        assert!(!seen.still_matches(&path).await.expect("stat"));
    }
}
