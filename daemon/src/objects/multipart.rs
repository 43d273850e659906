//! Multipart upload of one large file: parts go up in parallel (bounded by the store's request
//! permits), each with its SHA-256 for the server to verify; the whole file is hashed once more
//! against the validated checksum only when its fingerprint changed since validation (or none
//! was given). Any failure aborts the upload so that no orphaned parts
//! are left behind.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::retry::s3_error;
use super::s3::{S3Store, sha256_base64, unquote};
use super::{Fingerprint, ObjectError, Stored};

/// Uploads `path` (`size` bytes) under `key` in parts; aborts the upload on any failure.
pub(super) async fn upload(
    store: &S3Store,
    key: &str,
    path: &Path,
    size: u64,
    sha256: &str,
    seen: Option<Fingerprint>,
) -> Result<Stored, ObjectError> {
    let i = &store.inner;
    let created = i
        .retry
        .run(key, "create_multipart_upload", || async {
            i.client
                .create_multipart_upload()
                .bucket(&i.bucket)
                .key(key)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .send()
                .await
                .map_err(|e| s3_error(key, "create_multipart_upload", e))
        })
        .await?;
    let upload_id = created
        .upload_id()
        .ok_or_else(|| ObjectError::S3 {
            key: key.to_string(),
            op: "create_multipart_upload",
            message: "no upload id in the answer".into(),
            transient: false,
        })?
        .to_string();
    match parts_then_complete(store, key, path, size, sha256, seen, &upload_id).await {
        Ok(stored) => Ok(stored),
        Err(e) => {
            abort(store, key, &upload_id).await;
            Err(e)
        }
    }
}

async fn parts_then_complete(
    store: &S3Store,
    key: &str,
    path: &Path,
    size: u64,
    sha256: &str,
    seen: Option<Fingerprint>,
    upload_id: &str,
) -> Result<Stored, ObjectError> {
    let part_size = store.inner.part_size;
    let count = size.div_ceil(part_size);
    let io = |source| ObjectError::Io {
        key: key.to_string(),
        source,
    };
    let unchanged = match seen {
        Some(seen) => seen.still_matches(path).await.map_err(io)?,
        None => false,
    };
    let whole = (!unchanged).then(|| {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || hash_file(&path))
    });
    let mut tasks = JoinSet::new();
    for n in 0..count {
        let offset = n * part_size;
        let len = part_size.min(size - offset);
        let (store, key, path, upload_id) = (
            store.clone(),
            key.to_string(),
            path.to_path_buf(),
            upload_id.to_string(),
        );
        tasks.spawn(async move {
            upload_part(&store, &key, &path, &upload_id, n as i32 + 1, offset, len).await
        });
    }
    let mut parts = Vec::with_capacity(count as usize);
    // Dropping the JoinSet on the first error cancels the parts still in flight.
    while let Some(joined) = tasks.join_next().await {
        let part = joined.map_err(|e| ObjectError::Io {
            key: key.to_string(),
            source: std::io::Error::other(format!("a part task failed: {e}")),
        })??;
        parts.push(part);
    }
    parts.sort_by_key(|p: &CompletedPart| p.part_number());
    let actual = match (whole, seen) {
        (Some(whole), _) => whole
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)?,
        // Unchanged before the parts were read and after: they are the validated bytes.
        (None, Some(seen)) if seen.still_matches(path).await.map_err(io)? => sha256.to_string(),
        (None, _) => {
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || hash_file(&path))
                .await
                .map_err(|e| io(std::io::Error::other(e)))?
                .map_err(io)?
        }
    };
    if actual != sha256 {
        return Err(ObjectError::Checksum {
            key: key.to_string(),
            message: format!(
                "content changed since validation (sha256 {actual}, expected {sha256})"
            ),
        });
    }
    let i = &store.inner;
    let done = CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build();
    let out = i
        .retry
        .run(key, "complete_multipart_upload", || async {
            i.client
                .complete_multipart_upload()
                .bucket(&i.bucket)
                .key(key)
                .upload_id(upload_id)
                .multipart_upload(done.clone())
                .send()
                .await
                .map_err(|e| s3_error(key, "complete_multipart_upload", e))
        })
        .await?;
    info!(key, size, parts = count, "multipart upload complete");
    Ok(Stored {
        etag: out.e_tag().map(unquote),
    })
}

/// One part: read and hashed under a request permit, re-read on each attempt so that memory
/// stays bounded by the permits, not by the file's size.
async fn upload_part(
    store: &S3Store,
    key: &str,
    path: &Path,
    upload_id: &str,
    number: i32,
    offset: u64,
    len: u64,
) -> Result<CompletedPart, ObjectError> {
    let i = &store.inner;
    i.retry
        .run(key, "upload_part", || async {
            let _permit = store.permit().await?;
            let (bytes, sha) = read_part(key, path.to_path_buf(), offset, len).await?;
            let checksum = sha256_base64(key, &sha)?;
            let out = i
                .client
                .upload_part()
                .bucket(&i.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(bytes))
                .checksum_sha256(&checksum)
                // Guarded by the checksum; see `S3Store::put_file`.
                .customize()
                .disable_payload_signing()
                .send()
                .await
                .map_err(|e| s3_error(key, "upload_part", e))?;
            debug!(key, part = number, len, "part stored");
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_string))
                .checksum_sha256(checksum)
                .build())
        })
        .await
}

async fn read_part(
    key: &str,
    path: PathBuf,
    offset: u64,
    len: u64,
) -> Result<(Vec<u8>, String), ObjectError> {
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, String)> {
        let mut file = std::fs::File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; len as usize];
        file.read_exact(&mut buf)?;
        let sha = hex::encode(Sha256::digest(&buf));
        Ok((buf, sha))
    })
    .await;
    let io = |source| ObjectError::Io {
        key: key.to_string(),
        source,
    };
    read.map_err(|e| io(std::io::Error::other(e)))?.map_err(io)
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Aborts the upload so the server drops its parts; a failure is logged (S3 lifecycle rules
/// for incomplete uploads are the backstop).
async fn abort(store: &S3Store, key: &str, upload_id: &str) {
    let i = &store.inner;
    let aborted = i
        .retry
        .run(key, "abort_multipart_upload", || async {
            i.client
                .abort_multipart_upload()
                .bucket(&i.bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await
                .map_err(|e| s3_error(key, "abort_multipart_upload", e))
        })
        .await;
    match aborted {
        Ok(_) => info!(key, upload_id, "multipart upload aborted"),
        Err(e) => warn!(key, upload_id, error = %e, "could not abort a multipart upload"),
    }
}
