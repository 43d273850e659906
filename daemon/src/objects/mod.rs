//! Object storage for submitted files: where bytes live once a card owns them. Two backends
//! behind one cheap clonable handle: a local folder (the embedded default) and any
//! S3-compatible bucket ([`s3`], with [`multipart`] uploads for large files). Concurrent batch
//! uploads with a per-file result live in [`batch`].

mod batch;
mod fingerprint;
mod local;
mod multipart;
mod retry;
mod s3;

use std::path::{Path, PathBuf};
use std::time::Duration;

use idreview_protocol::{CardId, FileRole};

use crate::config::StorageConfig;

pub use batch::{FileResult, Upload};
pub use fingerprint::Fingerprint;
pub use local::LocalStore;
pub use s3::S3Store;

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("object key {0:?} is not a safe relative path")]
    BadKey(String),
    /// The bytes are not the ones validated: refused (by us or by the server), never stored.
    #[error("object {key}: checksum mismatch: {message}")]
    Checksum { key: String, message: String },
    /// S3 answered with an error, or could not be reached.
    #[error("object {key}: S3 {op} failed: {message}")]
    S3 {
        key: String,
        op: &'static str,
        message: String,
        /// Worth trying again later (refused connection, timeout, 5xx, throttling).
        transient: bool,
    },
    #[error("storage backend {0:?} is not available; use \"local\" or \"s3\"")]
    Backend(String),
    #[error("S3 configuration: {0}")]
    Config(String),
}

impl ObjectError {
    /// Whether the same call may succeed later (the store was unreachable or overloaded).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ObjectError::S3 {
                transient: true,
                ..
            }
        )
    }
}

/// What the store said about an object it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub etag: Option<String>,
}

/// The configured backend; a cheap clonable handle.
#[derive(Clone)]
pub enum ObjectStore {
    Local(LocalStore),
    S3(S3Store),
}

impl ObjectStore {
    /// The local-folder backend rooted at `root`.
    pub fn local(root: PathBuf) -> ObjectStore {
        ObjectStore::Local(LocalStore::new(root))
    }

    /// The backend `config` names; `local_root` is where the local backend keeps objects.
    pub async fn from_config(
        config: &StorageConfig,
        local_root: PathBuf,
    ) -> Result<ObjectStore, ObjectError> {
        match config.backend.as_str() {
            "local" => Ok(ObjectStore::local(local_root)),
            "s3" => Ok(ObjectStore::S3(S3Store::connect(config).await?)),
            other => Err(ObjectError::Backend(other.to_string())),
        }
    }

    /// Short name for logs and health: `local` or `s3`.
    pub fn backend(&self) -> &'static str {
        match self {
            ObjectStore::Local(_) => "local",
            ObjectStore::S3(_) => "s3",
        }
    }

    /// Stores the file at `path` under `key`; `sha256` (hex) is the content hash already computed
    /// during validation. `seen` is the file's fingerprint when it was hashed: while the file
    /// still has it, its bytes are not hashed again (S3 still verifies the checksum it is sent);
    /// without one, or when it changed, the content is hashed and must match `sha256`.
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        sha256: &str,
        seen: Option<Fingerprint>,
    ) -> Result<Stored, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.put_file(key, path, sha256, seen).await,
            ObjectStore::S3(s) => s.put_file(key, path, sha256, seen).await,
        }
    }

    /// The whole object.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.get(key).await,
            ObjectStore::S3(s) => s.get(key).await,
        }
    }

    /// Whether an object is stored under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.exists(key).await,
            ObjectStore::S3(s) => s.exists(key).await,
        }
    }

    /// Removes the object; removing a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match self {
            ObjectStore::Local(s) => s.delete(key).await,
            ObjectStore::S3(s) => s.delete(key).await,
        }
    }

    /// A URL that fetches the object without further credentials for `lifetime`: a presigned
    /// GET for S3, a `file://` path for the local folder.
    pub async fn presign(&self, key: &str, lifetime: Duration) -> Result<String, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.url(key),
            ObjectStore::S3(s) => s.presign(key, lifetime).await,
        }
    }
}

/// `users/{user}/{category}/{card}/{name}`; the category is `id-card` for document images,
/// `selfie` for the selfie and `documents` for extra files.
pub fn object_key(user_id: &str, role: FileRole, card: CardId, name: &str) -> String {
    let category = match role {
        FileRole::Front | FileRole::Back => "id-card",
        FileRole::Selfie => "selfie",
        FileRole::Extra => "documents",
    };
    format!("users/{user_id}/{category}/{card}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_group_by_user_category_and_card() {
        assert_eq!(
            object_key("u1", FileRole::Back, CardId(7), "back.jpg"),
            "users/u1/id-card/7/back.jpg"
        );
        assert_eq!(
            object_key("u1", FileRole::Selfie, CardId(7), "selfie.mp4"),
            "users/u1/selfie/7/selfie.mp4"
        );
        assert_eq!(
            object_key("u1", FileRole::Extra, CardId(7), "bill.pdf"),
            "users/u1/documents/7/bill.pdf"
        );
    }
}
