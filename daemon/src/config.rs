//! Typed settings: defaults in code, overlaid by `config.toml` (`--config`, else
//! `$XDG_CONFIG_HOME/idreview/config.toml` when it exists), then by environment variables
//! `IDREVIEW__<SECTION>__<KEY>`, then by command-line flags. The shipped `config.toml` documents
//! every key with its default.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

mod store;
pub use store::{StoreBackend, StoreConfig};

/// Everything the daemon can be told.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub daemon: DaemonConfig,
    pub inbox: InboxConfig,
    pub validation: ValidationConfig,
    pub storage: StorageConfig,
    pub store: StoreConfig,
    pub verification: VerificationConfig,
    pub rpc: RpcConfig,
    pub review: ReviewConfig,
    pub webhooks: WebhooksConfig,
    pub metrics: MetricsConfig,
    pub retention: RetentionConfig,
    pub http: HttpConfig,
    /// Console settings live in the same file; the daemon ignores them.
    pub console: toml::Table,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Holds the store, inbox, rejected/, objects and the socket unless set apart below.
    /// Empty: `$XDG_DATA_HOME/idreview` or `~/.local/share/idreview`.
    pub data_dir: Option<PathBuf>,
    /// Log filter in `RUST_LOG` syntax; the `RUST_LOG` variable wins when set.
    pub log: String,
    /// `text` (lines for people) or `json` (one JSON object per line, for log shippers).
    pub log_format: LogFormat,
    /// Memory the store may use to cache its pages, in MiB (lists never need it: they are
    /// served from the in-memory summary index).
    pub store_cache_mb: u64,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            data_dir: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            store_cache_mb: 32,
        }
    }
}

/// How the daemon writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people (coloured at a terminal).
    Text,
    /// One JSON object per line: time, level, target, message and the event's fields.
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboxConfig {
    /// Watched folder; default `DATA/inbox`.
    pub dir: Option<PathBuf>,
    /// Failed submissions with `reason.json`; default `DATA/rejected`.
    pub rejected_dir: Option<PathBuf>,
    /// Claimed submissions being processed; default `DATA/work`.
    pub work_dir: Option<PathBuf>,
    /// Keep the originals of ingested submissions in `DATA/processed` instead of removing them.
    pub keep_processed: bool,
    /// Default `DATA/processed`.
    pub processed_dir: Option<PathBuf>,
    /// Periodic rescan, for missed events and network mounts where inotify is silent.
    pub rescan_secs: u64,
    /// A manifest younger than this may still be being written; it is picked up once it settles.
    pub settle_ms: u64,
    /// A folder without a manifest whose newest file is older than this is abandoned: it is
    /// rejected as `manifest_missing` instead of waiting forever.
    pub abandon_after_secs: u64,
    /// Submissions validated at once (image decoding runs in the blocking pool); 0: one per core.
    pub workers: usize,
    /// What a submission whose file is already on another user's card becomes: a flagged card
    /// (`flag`) or a folder in `rejected/` with rule `duplicate_document` (`reject`).
    pub duplicates: DuplicatePolicy,
}

/// What a reused document (a file already on another user's card) does to a submission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicatePolicy {
    /// A card with a `duplicate_document` finding naming the other card.
    #[default]
    Flag,
    /// No card: the submission is rejected with rule `duplicate_document`.
    Reject,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            dir: None,
            rejected_dir: None,
            work_dir: None,
            keep_processed: false,
            processed_dir: None,
            rescan_secs: 5,
            settle_ms: 300,
            abandon_after_secs: 3600,
            workers: 0,
            duplicates: DuplicatePolicy::Flag,
        }
    }
}

/// Limits every submitted file is checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    pub max_image_bytes: u64,
    pub max_video_bytes: u64,
    /// Other files (e.g. PDF extras).
    pub max_other_bytes: u64,
    pub min_width: u32,
    pub min_height: u32,
    /// Largest pixel buffer a decoder may allocate; a decompression bomb is refused, not allocated.
    pub max_decode_bytes: u64,
    /// Largest width or height accepted before decoding.
    pub max_dimension: u32,
    /// Youngest accepted holder, in whole years from the extracted birth date.
    pub min_age: u32,
    /// Oldest accepted holder.
    pub max_age: u32,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        ValidationConfig {
            max_image_bytes: 10 * 1024 * 1024,
            max_video_bytes: 50 * 1024 * 1024,
            max_other_bytes: 20 * 1024 * 1024,
            min_width: 800,
            min_height: 600,
            max_decode_bytes: 256 * 1024 * 1024,
            max_dimension: 12_000,
            min_age: 18,
            max_age: 120,
        }
    }
}

/// Where submitted files are stored: a local folder (the default) or any S3-compatible bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `local` (a folder; the embedded default) or `s3`.
    pub backend: String,
    /// Folder for the `local` backend; default `DATA/objects`.
    pub local_dir: Option<PathBuf>,
    /// S3 bucket (must exist).
    pub bucket: String,
    pub region: String,
    /// A custom endpoint for S3-compatible servers, e.g. `http://127.0.0.1:9000`; unset: AWS.
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need.
    pub force_path_style: bool,
    /// Static credentials; unset: the standard AWS environment / profile / instance chain.
    pub access_key_id: Option<String>,
    /// Secret: never printed (`idreviewd config` shows `[redacted]`).
    pub secret_access_key: Option<Secret>,
    /// Uploads in flight at once (files and multipart parts together).
    pub max_workers: usize,
    /// Files at least this large go up as a multipart upload with parallel parts.
    pub multipart_threshold: u64,
    /// Size of each multipart part (S3's smallest, 5 MiB, by default: more parts in parallel).
    pub part_size: u64,
    /// Lifetime of a presigned GET URL.
    pub presign_secs: u64,
    /// Attempts per request on transient errors (connection refused, timeout, 5xx), with
    /// exponential backoff and jitter between `retry_min_ms` and `retry_max_ms`.
    pub max_attempts: usize,
    pub retry_min_ms: u64,
    pub retry_max_ms: u64,
    /// Deadline of one request attempt.
    pub timeout_secs: u64,
    /// Longest wait between rounds while the object store fails: uploads of a submission and
    /// the cleanup queue of deleted cards are retried with backoff up to this long apart.
    pub outage_retry_max_secs: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: "local".into(),
            local_dir: None,
            bucket: "idreview".into(),
            region: "us-east-1".into(),
            endpoint_url: None,
            force_path_style: false,
            access_key_id: None,
            secret_access_key: None,
            max_workers: 16,
            multipart_threshold: 8 * 1024 * 1024,
            part_size: 5 * 1024 * 1024,
            presign_secs: 900,
            max_attempts: 5,
            retry_min_ms: 100,
            retry_max_ms: 5000,
            timeout_secs: 60,
            outage_retry_max_secs: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationConfig {
    /// `local`: offline MRZ reading with Tesseract (the default); `idanalyzer`: the ID Analyzer
    /// API v2; `manual`: no extraction, every card goes to review.
    pub provider: String,
    /// Fields below this confidence are listed as low-confidence and block auto-verification.
    pub confidence_threshold: f32,
    /// First wait before a failed verification (or decision push) is tried again; doubles per
    /// failure up to `retry_max_secs`. Retries never stop: nothing is dropped.
    pub retry_initial_secs: u64,
    /// Longest wait between two tries.
    pub retry_max_secs: u64,
    pub idanalyzer: IdAnalyzerConfig,
    /// Settings of the `local` provider.
    pub local: crate::verify::local::LocalConfig,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        VerificationConfig {
            provider: "local".into(),
            confidence_threshold: 0.8,
            retry_initial_secs: 30,
            retry_max_secs: 3600,
            idanalyzer: IdAnalyzerConfig::default(),
            local: Default::default(),
        }
    }
}

/// The ID Analyzer API v2 client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdAnalyzerConfig {
    /// `https://api2.idanalyzer.com`, or `https://api2-eu.idanalyzer.com` for the EU region.
    pub base_url: String,
    /// Sent as `X-Api-Key`; required when the provider is `idanalyzer`. Secret: never printed.
    pub api_key: Secret,
    /// The KYC profile the scan runs under, e.g. `security_medium`.
    pub profile: String,
    /// Limit on one HTTP call, connect to last byte.
    pub timeout_secs: u64,
    /// Tries per call: a 429, a 5xx or a timeout is tried again after a doubling pause.
    pub attempts: u32,
    /// Pause before the second try.
    pub backoff_ms: u64,
    /// Larger answers are refused while being read, never buffered whole.
    pub max_response_bytes: u64,
    /// Push reviewers' decisions back with `PATCH /transaction/{id}`.
    pub push_decisions: bool,
}

impl Default for IdAnalyzerConfig {
    fn default() -> Self {
        IdAnalyzerConfig {
            base_url: "https://api2.idanalyzer.com".into(),
            api_key: Secret::default(),
            profile: "security_medium".into(),
            timeout_secs: 60,
            attempts: 3,
            backoff_ms: 1000,
            max_response_bytes: 16 * 1024 * 1024,
            push_decisions: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// Unix socket (mode 0600); default `DATA/idreviewd.sock`.
    pub socket: Option<PathBuf>,
    /// `host:port` of the TCP listener for remote clients (port 0: any free port, written to
    /// `DATA/idreviewd.addr`); unset: no TCP listener.
    pub tcp_listen: Option<String>,
    /// PEM certificate chain served on `tcp_listen`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Serve plain TCP (no TLS) when `tcp_listen` is a loopback address and no certificate is set.
    pub allow_plaintext_loopback: bool,
    /// Open connections on both listeners together; more are refused in the handshake.
    pub max_connections: usize,
    /// A connection without a call for this long is closed.
    pub idle_timeout_secs: u64,
    /// Calls per second one identity may make on average...
    pub calls_per_sec: u32,
    /// ...and in a burst.
    pub calls_burst: u32,
    /// Uploaded bytes per second one identity may send on average (bursts up to 4x).
    pub upload_bytes_per_sec: u64,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            socket: None,
            tcp_listen: None,
            tls_cert: None,
            tls_key: None,
            allow_plaintext_loopback: false,
            max_connections: 256,
            idle_timeout_secs: 900,
            calls_per_sec: 100,
            calls_burst: 400,
            upload_bytes_per_sec: 64 * 1024 * 1024,
        }
    }
}

/// Decision events POSTed to receivers, signed, from a persistent outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Receivers; each gets every event of `events`. Empty: no webhooks (nothing is queued).
    pub urls: Vec<String>,
    /// The events sent: `card.approved`, `card.rejected` (decisions), `card.extracted` (the
    /// provider read a card's fields). An unknown name stops the start.
    pub events: Vec<String>,
    /// HMAC-SHA256 key for `X-Idreview-Signature: sha256=<hex>` over the body. Secret: never
    /// printed.
    pub secret: Secret,
    /// Deadline of one delivery attempt.
    pub timeout_secs: u64,
    /// First retry delay; doubles per failed attempt up to `max_backoff_secs`.
    pub initial_backoff_ms: u64,
    /// Longest delay between two attempts.
    pub max_backoff_secs: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            urls: Vec::new(),
            events: vec!["card.approved".into(), "card.rejected".into()],
            secret: Secret::default(),
            timeout_secs: 10,
            initial_backoff_ms: 1000,
            max_backoff_secs: 300,
        }
    }
}

/// How reviewers share the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// How long opening a card claims it for its reviewer; a lapsed claim counts as unassigned.
    pub lease_secs: u64,
    /// Approving a flagged card (a reused document, or doubts overridden) takes two people: the
    /// first approval is recorded as pending, the second must come from another person.
    pub four_eyes: bool,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            lease_secs: 900,
            four_eyes: false,
        }
    }
}

/// The Prometheus endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Loopback `host:port` serving Prometheus text at `/metrics` (port 0: any free port,
    /// written to `DATA/idreviewd.metrics-addr`); empty: no metrics.
    pub listen: String,
}

/// The seed's HTTP/JSON API under `/api/ocr/` (for web and phone clients written for the
/// Django app).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port` to listen on (port 0: any free port, written to `DATA/idreviewd.http-addr`);
    /// empty: no HTTP API.
    pub listen: String,
    /// The URL clients reach the API at (behind a proxy), e.g. `https://kyc.example.com`;
    /// `next`, `previous` and file URLs start with it. Empty: `http://` + the request's Host.
    pub public_url: String,
    /// A connection that sends nothing for this long is closed (an idle timeout, not a total
    /// one: a slow 50 MiB video still arrives).
    pub idle_timeout_secs: u64,
    /// Browser origins allowed to call the API (CORS, with preflight for `Authorization`,
    /// `PUT` and `Idempotency-Key`), e.g. `["https://app.example.com"]`; empty: none.
    pub cors_origins: Vec<String>,
    /// Requests per second one identity may make on average (past it: 429 with Retry-After)...
    pub requests_per_sec: u32,
    /// ...and in a burst.
    pub requests_burst: u32,
    /// PEM certificate chain and key for TLS on the listener; unset: `[rpc]`'s. A listener
    /// beyond loopback always speaks TLS (and does not start without a certificate); one on
    /// loopback does only with a certificate set here.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A resumable video upload (`uploads/`, tus) not attached to a document upload within
    /// this many hours is removed.
    pub resumable_ttl_hours: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: String::new(),
            public_url: String::new(),
            idle_timeout_secs: 60,
            cors_origins: Vec::new(),
            requests_per_sec: 100,
            requests_burst: 400,
            tls_cert: None,
            tls_key: None,
            resumable_ttl_hours: 24,
        }
    }
}

/// How long decided cards and their files are kept; expired ones are removed by a background
/// job that leaves an audit tombstone without personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days an approved card is kept after its approval; 0 keeps it forever.
    pub approved_days: u32,
    /// Days a rejected card is kept after its rejection; 0 keeps it forever.
    pub rejected_days: u32,
    /// Days an auto-verified card is kept after its last change; 0 keeps it forever.
    pub auto_verified_days: u32,
    /// How often the job looks for expired cards (also once at start).
    pub interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            approved_days: 0,
            rejected_days: 0,
            auto_verified_days: 0,
            interval_secs: 3600,
        }
    }
}

/// Could not assemble the configuration.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// The file read when none is named: `$XDG_CONFIG_HOME/idreview/config.toml` (or
    /// `~/.config/idreview/config.toml`), when it exists. The console looks there too.
    pub fn default_file() -> Option<PathBuf> {
        let file = idreview_protocol::paths::default_config_file();
        file.is_file().then_some(file)
    }

    /// Defaults, then `file` (if given; it must exist), then `IDREVIEW__SECTION__KEY` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            // Any readable file will do, `/dev/null` (all defaults) or a pipe included.
            if !file.exists() {
                return Err(ConfigError(format!("{} does not exist", file.display())));
            }
            if file.is_dir() {
                return Err(ConfigError(format!(
                    "{} is a directory; --config takes a TOML file",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("IDREVIEW__").split("__"));
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        let marker = config
            .secrets()
            .into_iter()
            .find(|(_, s)| s.is_some_and(Secret::is_marker));
        if let Some((name, _)) = marker {
            return Err(ConfigError(format!(
                "{name} is \"{}\", the placeholder `idreviewd config` prints; set the real \
                 secret (better through its IDREVIEW__ environment variable)",
                crate::secret::REDACTED
            )));
        }
        Ok(config)
    }

    /// Every secret setting by its name in the file, with its value when it has one.
    pub fn secrets(&self) -> [(&'static str, Option<&Secret>); 4] {
        [
            (
                "verification.idanalyzer.api_key",
                Some(&self.verification.idanalyzer.api_key),
            ),
            ("webhooks.secret", Some(&self.webhooks.secret)),
            (
                "storage.secret_access_key",
                self.storage.secret_access_key.as_ref(),
            ),
            ("store.url", Some(&self.store.url)),
        ]
    }

    /// The data dir, resolved.
    pub fn data_dir(&self) -> PathBuf {
        self.daemon
            .data_dir
            .clone()
            .unwrap_or_else(idreview_protocol::paths::default_data_dir)
    }

    fn under_data(&self, set: &Option<PathBuf>, name: &str) -> PathBuf {
        set.clone().unwrap_or_else(|| self.data_dir().join(name))
    }

    pub fn inbox_dir(&self) -> PathBuf {
        self.under_data(&self.inbox.dir, "inbox")
    }
    pub fn rejected_dir(&self) -> PathBuf {
        self.under_data(&self.inbox.rejected_dir, "rejected")
    }
    pub fn work_dir(&self) -> PathBuf {
        self.under_data(&self.inbox.work_dir, "work")
    }
    pub fn processed_dir(&self) -> PathBuf {
        self.under_data(&self.inbox.processed_dir, "processed")
    }
    pub fn objects_dir(&self) -> PathBuf {
        self.under_data(&self.storage.local_dir, "objects")
    }
    /// Submissions validated at once.
    pub fn inbox_workers(&self) -> usize {
        match self.inbox.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir().join("store")
    }
    /// Where the running daemon writes its process id (`idreviewd stop` reads it).
    pub fn pid_file(&self) -> PathBuf {
        self.data_dir().join("idreviewd.pid")
    }
    /// Where the daemon writes the TCP listener's bound address.
    pub fn addr_file(&self) -> PathBuf {
        self.data_dir().join("idreviewd.addr")
    }
    /// Where the daemon writes the HTTP API's bound address.
    pub fn http_addr_file(&self) -> PathBuf {
        self.data_dir().join("idreviewd.http-addr")
    }
    /// Where the daemon writes the metrics listener's bound address.
    pub fn metrics_addr_file(&self) -> PathBuf {
        self.data_dir().join("idreviewd.metrics-addr")
    }
    pub fn socket_path(&self) -> PathBuf {
        self.rpc
            .socket
            .clone()
            .unwrap_or_else(|| idreview_protocol::paths::socket_path(&self.data_dir()))
    }
}

#[cfg(test)]
mod tests;
