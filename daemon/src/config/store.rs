//! `[store]`: where cards, the audit log and the queues live: the embedded sled store (the
//! default, one daemon per data dir) or PostgreSQL (several daemons on one database; in
//! progress, see `crate::pg`), and how long a daemon's lease on a shared job lasts.

use serde::{Deserialize, Serialize};

use super::{ConfigError, StorageConfig};
use crate::secret::Secret;

/// The longest lease on a shared job (`lease_secs`): a day.
const MAX_LEASE_SECS: u64 = 86_400;

/// The store backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// sled in `DATA/store`.
    #[default]
    Sled,
    /// A PostgreSQL database at `[store] url`.
    Postgres,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `sled` or `postgres`.
    pub backend: StoreBackend,
    /// The PostgreSQL connection URL (`postgres://user:password@host:5432/dbname`, or libpq's
    /// `key=value` form). Secret: it may hold a password, so it is never printed.
    pub url: Secret,
    /// Connections to PostgreSQL the daemon keeps at most.
    pub pool_size: usize,
    /// PostgreSQL: how long a daemon holds a shared job (a verification retry or decision
    /// push, an object to clean up, the verification of a card whose files are stored) before
    /// another daemon may take it over, as the job of a daemon that died. Longer than a
    /// provider call may take (its timeout times its attempts), or a slow job is done twice.
    pub lease_secs: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: StoreBackend::Sled,
            url: Secret::default(),
            pool_size: 16,
            lease_secs: 300,
        }
    }
}

impl StoreConfig {
    /// How long a daemon holds a shared job ([`StoreConfig::lease_secs`]).
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lease_secs.clamp(1, MAX_LEASE_SECS))
    }

    /// Refuses what cannot run: PostgreSQL without a URL, or with a local object folder (the
    /// daemons sharing the database must share one bucket, so that each serves every card's
    /// files).
    pub fn check(&self, storage: &StorageConfig) -> Result<(), ConfigError> {
        if self.backend != StoreBackend::Postgres {
            return Ok(());
        }
        if self.url.is_empty() {
            return Err(ConfigError(
                "[store] backend = \"postgres\" needs [store] url (or IDREVIEW__STORE__URL)".into(),
            ));
        }
        if storage.backend.trim() == "local" {
            return Err(ConfigError(
                "[store] backend = \"postgres\" needs a shared object store: set [storage] \
                 backend = \"s3\" (a local folder is one machine's; the daemons sharing the \
                 database must all serve every card's files)"
                    .into(),
            ));
        }
        if self.pool_size == 0 {
            return Err(ConfigError("[store] pool_size must be at least 1".into()));
        }
        if !(1..=MAX_LEASE_SECS).contains(&self.lease_secs) {
            return Err(ConfigError(format!(
                "[store] lease_secs must be from 1 to {MAX_LEASE_SECS} (a day)"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn postgres(url: &str, objects: &str) -> Config {
        let mut config = Config::default();
        config.store.backend = StoreBackend::Postgres;
        config.store.url = Secret::new(url);
        config.storage.backend = objects.into();
        config
    }

    #[test]
    fn postgres_needs_a_url_and_a_shared_object_store() {
        let url = "postgres://ann:hunter2@db.example.com/idreview";
        let local = postgres(url, "local");
        let err = local
            .store
            .check(&local.storage)
            .expect_err("local refused");
        assert!(err.to_string().contains("shared object store"), "{err}");
        let no_url = postgres("", "s3");
        let err = no_url.store.check(&no_url.storage).expect_err("no url");
        assert!(err.to_string().contains("IDREVIEW__STORE__URL"), "{err}");
        let s3 = postgres(url, "s3");
        s3.store.check(&s3.storage).expect("postgres with s3");
        let mut no_lease = postgres(url, "s3");
        no_lease.store.lease_secs = 0;
        let err = no_lease.store.check(&no_lease.storage).expect_err("lease");
        assert!(err.to_string().contains("lease_secs"), "{err}");
        let sled = Config::default();
        sled.store
            .check(&sled.storage)
            .expect("sled with a local folder");
    }

    /// (The environment variable, `IDREVIEW__STORE__URL`, is checked never to print by the
    /// end-to-end test of every secret, `tests/tests/secrets.rs`.)
    #[test]
    fn the_url_is_read_and_never_printed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("config.toml");
        let url = "postgres://ann:hunter2@db.example.com/idreview";
        let text = format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n");
        std::fs::write(&file, text).expect("write");
        let config = Config::load(Some(&file)).expect("loads");
        assert_eq!(config.store.backend, StoreBackend::Postgres);
        assert_eq!(config.store.url.expose(), url);
        let shown = format!("{config:?} {}", toml::to_string(&config).expect("toml"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
