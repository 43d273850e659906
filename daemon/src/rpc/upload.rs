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
    manifest: UploadManifest,
    dir: PathBuf,
    /// File name -> bytes received.
    files: HashMap<String, u64>,
}

/// An open upload as the table of open uploads holds it: the owner stays readable without
/// the upload's lock, which a chunk being written holds.
struct Open {
    owner: Arc<str>,
    upload: Arc<tokio::sync::Mutex<Upload>>,
}

/// Every open upload; shared by all connections.
pub struct Uploads {
    staging: PathBuf,
    inbox: PathBuf,
    max_file_bytes: u64,
    next_id: AtomicU64,
    /// upload id -> its owner and state; the async lock serialises chunks of one upload, the
    /// outer lock is held only to count, look up, add or remove (never across an await).
    open: Mutex<HashMap<u64, Open>>,
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

    /// The upload `id` if `owner` opened it.
    fn get(&self, id: u64, owner: &str) -> Option<Arc<tokio::sync::Mutex<Upload>>> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&id)
            .filter(|o| &*o.owner == owner)
            .map(|o| o.upload.clone())
    }

    /// Registers a new upload for `owner` unless it already has [`MAX_OPEN_PER_IDENTITY`]
    /// open; counting and adding happen under one lock, so concurrent calls cannot overshoot,
    /// and uploads busy with a chunk count like idle ones.
    fn register(
        &self,
        owner: &Arc<str>,
        manifest: UploadManifest,
    ) -> Result<(u64, PathBuf), RpcError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = open.values().filter(|o| o.owner == *owner).count();
        if mine >= MAX_OPEN_PER_IDENTITY {
            return Err(RpcError::Invalid(format!(
                "{owner} already has {mine} open uploads; finish them first"
            )));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let dir = self.staging.join(id.to_string());
        let upload = Upload {
            manifest,
            dir: dir.clone(),
            files: HashMap::new(),
        };
        let upload = Arc::new(tokio::sync::Mutex::new(upload));
        let owner = owner.clone();
        open.insert(id, Open { owner, upload });
        Ok((id, dir))
    }

    /// Forgets the upload `id`.
    fn close(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&id);
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
        let (id, dir) = uploads.register(&self.identity, manifest)?;
        if let Err(e) = std::fs::create_dir_all(&dir) {
            uploads.close(id);
            return Err(io("creating the upload folder")(e));
        }
        tracing::info!(upload = id, identity = %self.identity, "upload begun");
        Ok(id)
    }

    /// The upload `id`, if it is this identity's (another's is reported as not open).
    fn mine(&self, id: u64) -> Result<Arc<tokio::sync::Mutex<Upload>>, RpcError> {
        self.shared
            .uploads
            .get(id, &self.identity)
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
        self.shared.uploads.close(id);
        tracing::info!(upload = id, folder = %name, identity = %self.identity, "upload finished");
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use idreview_protocol::{DocumentType, IdReview, Role, RpcError, UploadManifest};
    use tarpc::context;

    use super::MAX_OPEN_PER_IDENTITY;
    use crate::rpc::session::tests::World;

    fn manifest() -> UploadManifest {
        UploadManifest {
            user_id: "u-1".into(),
            document_type: DocumentType::Passport,
            country: None,
        }
    }

    #[tokio::test]
    async fn uploads_busy_with_a_chunk_still_count_against_the_limit() {
        let w = World::new(900).await;
        let alice = w.as_("alice", Role::Reviewer);
        let mut ids = Vec::new();
        for _ in 0..MAX_OPEN_PER_IDENTITY {
            let id = alice
                .clone()
                .begin_upload(context::current(), manifest())
                .await;
            ids.push(id.expect("within the limit"));
        }
        // Every upload is in the middle of a chunk (its lock held), as when a client streams
        // all of them at once and opens more meanwhile.
        let busy: Vec<_> = ids
            .iter()
            .map(|id| w.shared.uploads.get(*id, "alice").expect("open"))
            .collect();
        let _writing = futures::future::join_all(busy.iter().map(|u| u.lock())).await;
        let refused = alice
            .clone()
            .begin_upload(context::current(), manifest())
            .await
            .expect_err("one over the limit");
        assert!(
            matches!(&refused, RpcError::Invalid(m) if m.contains("already has 8 open uploads")),
            "{refused:?}"
        );
        let bob = w.as_("bob", Role::Reviewer);
        bob.begin_upload(context::current(), manifest())
            .await
            .expect("another identity has its own limit");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_begins_stop_at_the_limit() {
        let w = World::new(900).await;
        let alice = w.as_("alice", Role::Reviewer);
        let calls = (0..3 * MAX_OPEN_PER_IDENTITY).map(|_| {
            let alice = alice.clone();
            tokio::spawn(async move { alice.begin_upload(context::current(), manifest()).await })
        });
        let results = futures::future::join_all(calls).await;
        let opened = results
            .into_iter()
            .filter(|r| r.as_ref().is_ok_and(|r| r.is_ok()))
            .count();
        assert_eq!(opened, MAX_OPEN_PER_IDENTITY);
    }
}
