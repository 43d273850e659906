//! The local-folder object store: each key is a file below a root folder, written to a temp
//! file and renamed into place so that a reader never sees half an object.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Fingerprint, ObjectError, Stored};

/// A folder of objects; cheap to clone.
#[derive(Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> LocalStore {
        LocalStore { root }
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectError> {
        let rel = Path::new(key);
        let safe = !key.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(ObjectError::BadKey(key.to_string()));
        }
        Ok(self.root.join(rel))
    }

    /// Stores a copy of `source` under `key`, written to a temp file, synced and renamed into
    /// place. While `source` keeps the fingerprint `seen` it had when validation hashed it, the
    /// kernel copies it (`copy_file_range`) and nothing reads it again; otherwise it is read,
    /// hashed and refused unless the hash is `sha256`.
    pub async fn put_file(
        &self,
        key: &str,
        source: &Path,
        sha256: &str,
        seen: Option<Fingerprint>,
    ) -> Result<Stored, ObjectError> {
        let io = |source| ObjectError::Io {
            key: key.to_string(),
            source,
        };
        let target = self.path(key)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let tmp = target.with_extension("part");
        if let Some(seen) = seen
            && seen.still_matches(source).await.map_err(io)?
        {
            tokio::fs::copy(source, &tmp).await.map_err(io)?;
            // A write during the copy moves the modification time.
            if seen.still_matches(source).await.map_err(io)? {
                let file = tokio::fs::File::open(&tmp).await.map_err(io)?;
                file.sync_all().await.map_err(io)?;
                tokio::fs::rename(&tmp, &target).await.map_err(io)?;
                return Ok(Stored {
                    etag: Some(sha256.to_string()),
                });
            }
        }
        let bytes = tokio::fs::read(source).await.map_err(io)?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            let msg =
                format!("content changed since validation (sha256 {actual}, expected {sha256})");
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                msg,
            )));
        }
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        file.write_all(&bytes).await.map_err(io)?;
        file.sync_all().await.map_err(io)?;
        tokio::fs::rename(&tmp, &target).await.map_err(io)?;
        Ok(Stored { etag: Some(actual) })
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        tokio::fs::read(self.path(key)?)
            .await
            .map_err(|source| ObjectError::Io {
                key: key.to_string(),
                source,
            })
    }

    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        tokio::fs::try_exists(self.path(key)?)
            .await
            .map_err(|source| ObjectError::Io {
                key: key.to_string(),
                source,
            })
    }

    /// A `file://` URL of the object's path (the local stand-in for a presigned URL).
    pub fn url(&self, key: &str) -> Result<String, ObjectError> {
        let path = self.path(key)?;
        let path = std::path::absolute(&path).map_err(|source| ObjectError::Io {
            key: key.to_string(),
            source,
        })?;
        Ok(format!("file://{}", path.display()))
    }

    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ObjectError::Io {
                key: key.to_string(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_delete_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path().join("objects"));
        let src = dir.path().join("f.bin");
        std::fs::write(&src, b"hello").expect("write");
        let sha = hex::encode(Sha256::digest(b"hello"));
        store
            .put_file("users/u/id-card/1/f.bin", &src, &sha, None)
            .await
            .expect("put");
        assert_eq!(
            store.get("users/u/id-card/1/f.bin").await.expect("get"),
            b"hello"
        );
        assert!(
            store
                .exists("users/u/id-card/1/f.bin")
                .await
                .expect("exists")
        );
        store
            .delete("users/u/id-card/1/f.bin")
            .await
            .expect("delete");
        assert!(
            !store
                .exists("users/u/id-card/1/f.bin")
                .await
                .expect("exists")
        );
    }

    #[test]
    fn urls_are_absolute_file_paths_of_safe_keys() {
        let store = LocalStore::new(PathBuf::from("/srv/objects"));
        assert_eq!(
            store.url("users/u/id-card/1/front.jpg").expect("url"),
            "file:///srv/objects/users/u/id-card/1/front.jpg"
        );
        assert!(matches!(store.url("../x"), Err(ObjectError::BadKey(_))));
    }

    #[tokio::test]
    async fn refuses_changed_content_and_escaping_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path().join("objects"));
        let src = dir.path().join("f.bin");
        std::fs::write(&src, b"hello").expect("write");
        assert!(store.put_file("k", &src, "00", None).await.is_err());
        assert!(matches!(
            store.get("../f.bin").await,
            Err(ObjectError::BadKey(_))
        ));
        assert!(matches!(
            store.get("/etc/passwd").await,
            Err(ObjectError::BadKey(_))
        ));
    }

    #[tokio::test]
    async fn an_unchanged_file_is_not_hashed_again_and_a_changed_one_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path().join("objects"));
        let src = dir.path().join("f.bin");
        std::fs::write(&src, b"hello").expect("write");
        let seen = Fingerprint::of(&std::fs::metadata(&src).expect("stat"));
        // The digest given is trusted while the fingerprint holds: a wrong one is not noticed,
        // which shows that the bytes were not read and hashed again.
        let stored = store
            .put_file("a", &src, "not-rehashed", Some(seen))
            .await
            .expect("put");
        assert_eq!(stored.etag.as_deref(), Some("not-rehashed"));
        assert_eq!(store.get("a").await.expect("get"), b"hello");
        // Rewritten after validation: hashed, and refused against the validated digest.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&src, b"jello").expect("rewrite");
        let sha = hex::encode(Sha256::digest(b"hello"));
        let err = store
            .put_file("b", &src, &sha, Some(seen))
            .await
            .expect_err("changed");
        assert!(
            err.to_string().contains("changed since validation"),
            "{err}"
        );
        assert!(!store.exists("b").await.expect("exists"));
    }
}
