//! RPC upload sessions: a submitter sends a submission in chunks of at most 4 MiB into a
//! staging folder (`DATA/uploads/<id>`); finishing moves the folder into the inbox and writes
//! `submission.toml` last, so the normal pipeline ingests it like any other. Open uploads do
//! not survive a restart: their staging folders are cleared at start.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use idreview_protocol::{MAX_CHUNK_BYTES, RpcError, UploadManifest};
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::Session;
use crate::config::Config;

/// Open uploads of at most this many per identity.
const MAX_OPEN_PER_IDENTITY: usize = 8;

/// One upload in progress.
struct Upload {
    owner: String,
    manifest: UploadManifest,
    dir: PathBuf,
    /// File name -> bytes received.
    files: HashMap<String, u64>,
}

/// Every open upload; shared by all connections.
pub struct Uploads {
    staging: PathBuf,
    inbox: PathBuf,
    max_file_bytes: u64,
    next_id: AtomicU64,
    /// upload id -> its state; the async lock serialises chunks of one upload, the outer lock
    /// is held only to look up, add or remove.
    open: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<Upload>>>>,
}

impl Uploads {
    /// Upload bookkeeping for the daemon that `config` describes; clears stale staging folders.
    pub fn new(config: &Config) -> Uploads {
        let staging = config.data_dir().join("uploads");
        let _ = std::fs::remove_dir_all(&staging);
        let v = &config.validation;
        let seed = chrono::Utc::now().timestamp_micros().unsigned_abs();
        Uploads {
            staging,
            inbox: config.inbox_dir(),
            max_file_bytes: v
                .max_image_bytes
                .max(v.max_video_bytes)
                .max(v.max_other_bytes),
            next_id: AtomicU64::new(seed),
            open: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, id: u64) -> Option<Arc<tokio::sync::Mutex<Upload>>> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&id).cloned()
    }
}

fn io(what: &str) -> impl Fn(std::io::Error) -> RpcError + '_ {
    move |e| RpcError::Internal(format!("{what}: {e}"))
}

/// A plain file name: letters, digits, `.`, `_`, `-`; not hidden; not the manifest.
fn check_name(name: &str) -> Result<(), RpcError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name != "submission.toml"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(RpcError::Invalid(format!(
            "{name:?} is not an accepted file name (letters, digits, . _ -; not submission.toml)"
        )))
    }
}

impl Session {
    /// Opens an upload for this identity, at most [`MAX_OPEN_PER_IDENTITY`] at a time.
    pub(super) fn begin(&self, manifest: UploadManifest) -> Result<u64, RpcError> {
        let uploads = &self.shared.uploads;
        let id = uploads.next_id.fetch_add(1, Ordering::Relaxed);
        let dir = uploads.staging.join(id.to_string());
        std::fs::create_dir_all(&dir).map_err(io("creating the upload folder"))?;
        let mut open = uploads.open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = open
            .values()
            .filter(|u| u.try_lock().is_ok_and(|u| u.owner == *self.identity))
            .count();
        if mine >= MAX_OPEN_PER_IDENTITY {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(RpcError::Invalid(format!(
                "{} already has {mine} open uploads; finish them first",
                self.identity
            )));
        }
        let upload = Upload {
            owner: self.identity.to_string(),
            manifest,
            dir,
            files: HashMap::new(),
        };
        open.insert(id, Arc::new(tokio::sync::Mutex::new(upload)));
        tracing::info!(upload = id, identity = %self.identity, "upload begun");
        Ok(id)
    }

    /// The upload `id`, if it is this identity's.
    fn mine(&self, id: u64) -> Result<Arc<tokio::sync::Mutex<Upload>>, RpcError> {
        self.shared
            .uploads
            .get(id)
            .ok_or_else(|| RpcError::Invalid(format!("no open upload {id}")))
    }

    /// Appends one chunk at the file's current length, within the size and rate limits.
    pub(super) async fn chunk(
        &self,
        id: u64,
        name: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<u64, RpcError> {
        check_name(name)?;
        if bytes.len() > MAX_CHUNK_BYTES {
            return Err(RpcError::Invalid(format!(
                "a chunk is at most {MAX_CHUNK_BYTES} bytes, got {}",
                bytes.len()
            )));
        }
        self.shared.limits.upload(&self.identity, bytes.len())?;
        let upload = self.mine(id)?;
        let mut upload = upload.lock().await;
        if upload.owner != *self.identity {
            return Err(RpcError::Invalid(format!("no open upload {id}")));
        }
        let have = upload.files.get(name).copied().unwrap_or(0);
        if offset != have {
            return Err(RpcError::Invalid(format!(
                "{name}: chunk at offset {offset}, but {have} bytes were received; send from {have}"
            )));
        }
        let len = have + bytes.len() as u64;
        if len > self.shared.uploads.max_file_bytes {
            return Err(RpcError::Invalid(format!(
                "{name} is over {} bytes",
                self.shared.uploads.max_file_bytes
            )));
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(upload.dir.join(name))
            .await
            .map_err(io("opening an upload file"))?;
        file.write_all(bytes)
            .await
            .map_err(io("writing an upload file"))?;
        file.flush().await.map_err(io("writing an upload file"))?;
        upload.files.insert(name.to_string(), len);
        Ok(len)
    }

    /// Moves the files into the inbox, then writes the manifest through a rename.
    pub(super) async fn finish(&self, id: u64) -> Result<String, RpcError> {
        let handle = self.mine(id)?;
        let upload = handle.lock().await;
        if upload.owner != *self.identity {
            return Err(RpcError::Invalid(format!("no open upload {id}")));
        }
        if upload.files.is_empty() {
            return Err(RpcError::Invalid(format!("upload {id} has no files")));
        }
        #[derive(Serialize)]
        struct Manifest<'a> {
            user_id: &'a str,
            document_type: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            country: Option<&'a str>,
        }
        let m = &upload.manifest;
        let text = toml::to_string(&Manifest {
            user_id: &m.user_id,
            document_type: m.document_type.as_str(),
            country: m.country.as_deref(),
        })
        .map_err(|e| RpcError::Internal(e.to_string()))?;
        let name = format!("upload-{id}");
        let dest = self.shared.uploads.inbox.join(&name);
        tokio::fs::create_dir_all(&self.shared.uploads.inbox)
            .await
            .map_err(io("creating the inbox"))?;
        // The files arrive first, whole: one rename of the folder.
        tokio::fs::rename(&upload.dir, &dest)
            .await
            .map_err(io("moving the upload into the inbox"))?;
        let part = dest.join(".submission.toml.part");
        tokio::fs::write(&part, text)
            .await
            .map_err(io("writing the manifest"))?;
        tokio::fs::rename(&part, dest.join("submission.toml"))
            .await
            .map_err(io("writing the manifest"))?;
        drop(upload);
        let mut open = self
            .shared
            .uploads
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        open.remove(&id);
        tracing::info!(upload = id, folder = %name, identity = %self.identity, "upload finished");
        Ok(name)
    }
}
