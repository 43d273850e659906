//! The S3 object store on `aws-sdk-s3`: any S3-compatible endpoint (custom URL, path-style),
//! credentials from the config or the standard AWS chain. Small files go up in one PUT carrying
//! their SHA-256, which the server verifies; large files go through [`super::multipart`].
//! Every request is retried on transient errors by [`super::retry`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use tokio::sync::{Semaphore, SemaphorePermit};
use tracing::{debug, instrument};

use super::retry::{RetryPolicy, s3_error};
use super::{Fingerprint, ObjectError, Stored};
use crate::config::StorageConfig;

/// A bucket on an S3-compatible server; a cheap clonable handle.
#[derive(Clone)]
pub struct S3Store {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub client: Client,
    pub bucket: String,
    pub multipart_threshold: u64,
    pub part_size: u64,
    pub retry: RetryPolicy,
    /// Requests carrying a body (PUTs and multipart parts) in flight at once, across every
    /// batch: `max_workers` permits. Taken per attempt, so a backoff sleep holds none.
    pub requests: Semaphore,
}

impl S3Store {
    /// Builds the client from `config`. Nothing is contacted yet: an unreachable server shows
    /// up as transient errors on the first uploads, not as a failed start.
    pub async fn connect(config: &StorageConfig) -> Result<S3Store, ObjectError> {
        if config.bucket.len() < 3 {
            return Err(ObjectError::Config(format!(
                "bucket name {:?} is too short",
                config.bucket
            )));
        }
        if config.part_size < 5 * 1024 * 1024 {
            return Err(ObjectError::Config(
                "part_size must be at least 5 MiB (S3's smallest part)".into(),
            ));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()));
        match (&config.access_key_id, &config.secret_access_key) {
            (Some(id), Some(secret)) => {
                loader = loader.credentials_provider(Credentials::new(
                    id,
                    secret.expose(),
                    None,
                    None,
                    "idreview-config",
                ));
            }
            (None, None) => {}
            _ => {
                return Err(ObjectError::Config(
                    "set both access_key_id and secret_access_key, or neither".into(),
                ));
            }
        }
        let shared = loader.load().await;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .build();
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.force_path_style)
            // One retry policy, ours (backon): the SDK's own would multiply the attempts.
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            // We send SHA-256 ourselves; the SDK's default CRC32 would be a second pass.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(url) = &config.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        Ok(S3Store {
            inner: Arc::new(Inner {
                client: Client::from_conf(builder.build()),
                bucket: config.bucket.clone(),
                multipart_threshold: config.multipart_threshold.max(1),
                part_size: config.part_size,
                retry: RetryPolicy::from_config(config),
                requests: Semaphore::new(config.max_workers.max(1)),
            }),
        })
    }

    pub(super) async fn permit(&self) -> Result<SemaphorePermit<'_>, ObjectError> {
        self.inner
            .requests
            .acquire()
            .await
            .map_err(|_| ObjectError::Config("upload permits closed".into()))
    }

    /// Stores a file: one PUT below the multipart threshold, parallel parts above it.
    #[instrument(skip(self, path, sha256), fields(bucket = %self.inner.bucket))]
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        sha256: &str,
        seen: Option<Fingerprint>,
    ) -> Result<Stored, ObjectError> {
        let io = |source| ObjectError::Io {
            key: key.to_string(),
            source,
        };
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        if size >= self.inner.multipart_threshold {
            return super::multipart::upload(self, key, path, size, sha256, seen).await;
        }
        let checksum = sha256_base64(key, sha256)?;
        let body = bytes::Bytes::from(tokio::fs::read(path).await.map_err(io)?);
        let i = &self.inner;
        let out = i
            .retry
            .run(key, "put_object", || async {
                let _permit = self.permit().await?;
                i.client
                    .put_object()
                    .bucket(&i.bucket)
                    .key(key)
                    .body(ByteStream::from(body.clone()))
                    .checksum_sha256(&checksum)
                    // The SHA-256 checksum header already guards the content; signing the
                    // payload too would hash every byte once more.
                    .customize()
                    .disable_payload_signing()
                    .send()
                    .await
                    .map_err(|e| s3_error(key, "put_object", e))
            })
            .await?;
        debug!(key, size, "put");
        Ok(Stored {
            etag: out.e_tag().map(unquote),
        })
    }

    /// The whole object.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        let i = &self.inner;
        i.retry
            .run(key, "get_object", || async {
                let out = i
                    .client
                    .get_object()
                    .bucket(&i.bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| s3_error(key, "get_object", e))?;
                let body = out.body.collect().await.map_err(|e| ObjectError::S3 {
                    key: key.to_string(),
                    op: "get_object",
                    message: e.to_string(),
                    transient: true,
                })?;
                Ok(body.into_bytes().to_vec())
            })
            .await
    }

    /// Whether the object exists (a HEAD request).
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        let i = &self.inner;
        i.retry
            .run(key, "head_object", || async {
                match i
                    .client
                    .head_object()
                    .bucket(&i.bucket)
                    .key(key)
                    .send()
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
                    Err(e) => Err(s3_error(key, "head_object", e)),
                }
            })
            .await
    }

    /// Whether the bucket is missing (a HEAD on the bucket answers 404); other failures are
    /// left to the next request, since a HEAD answer carries no error code to report.
    pub async fn bucket_missing(&self) -> bool {
        let i = &self.inner;
        let head = i.client.head_bucket().bucket(&i.bucket).send().await;
        head.is_err_and(|e| e.as_service_error().is_some_and(|s| s.is_not_found()))
    }

    /// Removes the object; S3 answers success for a missing one too.
    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let i = &self.inner;
        i.retry
            .run(key, "delete_object", || async {
                i.client
                    .delete_object()
                    .bucket(&i.bucket)
                    .key(key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| s3_error(key, "delete_object", e))
            })
            .await
    }

    /// A presigned GET URL valid for `lifetime`.
    pub async fn presign(&self, key: &str, lifetime: Duration) -> Result<String, ObjectError> {
        let i = &self.inner;
        let config = PresigningConfig::expires_in(lifetime)
            .map_err(|e| ObjectError::Config(format!("presign lifetime: {e}")))?;
        let request = i
            .client
            .get_object()
            .bucket(&i.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| s3_error(key, "presign", e))?;
        Ok(request.uri().to_string())
    }
}

/// The base64 form S3 wants of a hex SHA-256.
pub(super) fn sha256_base64(key: &str, hex_sha: &str) -> Result<String, ObjectError> {
    let raw = hex::decode(hex_sha).map_err(|_| ObjectError::Checksum {
        key: key.to_string(),
        message: format!("{hex_sha:?} is not a hex SHA-256"),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// ETags come quoted on the wire.
pub(super) fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}
