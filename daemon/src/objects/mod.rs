//! Object storage for submitted files: where bytes live once a card owns them. The local folder
//! backend is the embedded default.

mod local;

use std::path::{Path, PathBuf};

use idreview_protocol::{CardId, FileRole};

pub use local::LocalStore;

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("object key {0:?} is not a safe relative path")]
    BadKey(String),
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
}

impl ObjectStore {
    pub fn local(root: PathBuf) -> ObjectStore {
        ObjectStore::Local(LocalStore::new(root))
    }

    /// Stores the file at `path` under `key`; `sha256` (hex) is the content hash already computed
    /// during validation and is checked again on the way in.
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        sha256: &str,
    ) -> Result<Stored, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.put_file(key, path, sha256).await,
        }
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.get(key).await,
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        match self {
            ObjectStore::Local(s) => s.exists(key).await,
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match self {
            ObjectStore::Local(s) => s.delete(key).await,
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
