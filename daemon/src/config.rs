//! Typed settings: defaults in code, overlaid by `config.toml`, then by environment variables
//! `IDREVIEW__<SECTION>__<KEY>`, then by command-line flags. The shipped `config.toml` documents
//! every key with its default.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything the daemon can be told.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub daemon: DaemonConfig,
    pub inbox: InboxConfig,
    pub validation: ValidationConfig,
    pub storage: StorageConfig,
    pub verification: VerificationConfig,
    pub rpc: RpcConfig,
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
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            data_dir: None,
            log: "info".into(),
        }
    }
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
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `local` (a folder; the embedded default).
    pub backend: String,
    /// Folder for the `local` backend; default `DATA/objects`.
    pub local_dir: Option<PathBuf>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: "local".into(),
            local_dir: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationConfig {
    /// `local`: offline MRZ reading with Tesseract (the default); `manual`: no extraction,
    /// every card goes to review.
    pub provider: String,
    /// Fields below this confidence are listed as low-confidence and block auto-verification.
    pub confidence_threshold: f32,
    /// Settings of the `local` provider.
    pub local: crate::verify::local::LocalConfig,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        VerificationConfig {
            provider: "local".into(),
            confidence_threshold: 0.8,
            local: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpcConfig {
    /// Unix socket (mode 0600); default `DATA/idreviewd.sock`.
    pub socket: Option<PathBuf>,
}

/// Could not assemble the configuration.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Defaults, then `file` (if given; it must exist), then `IDREVIEW__SECTION__KEY` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError(format!("{} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("IDREVIEW__").split("__"));
        figment.extract().map_err(|e| ConfigError(e.to_string()))
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
    pub fn socket_path(&self) -> PathBuf {
        self.rpc
            .socket
            .clone()
            .unwrap_or_else(|| idreview_protocol::paths::socket_path(&self.data_dir()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_file_parses_to_the_defaults() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.toml");
        let loaded = Config::load(Some(&shipped)).expect("shipped config.toml parses");
        let expected = Config {
            console: loaded.console.clone(),
            ..Config::default()
        };
        assert_eq!(
            loaded, expected,
            "config.toml must document the defaults, not change them"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[inbox]\nrescan_sec = 3\n").expect("write");
        let err = Config::load(Some(&file)).expect_err("typo refused");
        assert!(err.to_string().contains("rescan_sec"), "{err}");
    }
}
